/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMCB as the AMD APM (vol. 2, appendix B) lays it out, limited to the
 * fields minivisor uses.  Offsets are checked at build time.
 */
#ifndef MV_SVM_VMCB_H
#define MV_SVM_VMCB_H

#include <linux/build_bug.h>
#include <linux/types.h>

/* intercept_misc1 (offset 0x00c) */
#define SVM_I1_INTR		BIT(0)
#define SVM_I1_NMI		BIT(1)
#define SVM_I1_SMI		BIT(2)
#define SVM_I1_INIT		BIT(3)
#define SVM_I1_VINTR		BIT(4)
#define SVM_I1_RDPMC		BIT(15)
#define SVM_I1_CPUID		BIT(18)
#define SVM_I1_INVD		BIT(22)
#define SVM_I1_INVLPG		BIT(25)
#define SVM_I1_HLT		BIT(24)
#define SVM_I1_INVLPGA		BIT(26)
#define SVM_I1_IOIO		BIT(27)
#define SVM_I1_MSR		BIT(28)
#define SVM_I1_SHUTDOWN		BIT(31)

/* intercept_misc2 (offset 0x010) */
#define SVM_I2_VMRUN		BIT(0)
#define SVM_I2_VMMCALL		BIT(1)
#define SVM_I2_VMLOAD		BIT(2)
#define SVM_I2_VMSAVE		BIT(3)
#define SVM_I2_STGI		BIT(4)
#define SVM_I2_CLGI		BIT(5)
#define SVM_I2_SKINIT		BIT(6)
#define SVM_I2_RDTSCP		BIT(7)
#define SVM_I2_ICEBP		BIT(8)
#define SVM_I2_WBINVD		BIT(9)
#define SVM_I2_MONITOR		BIT(10)
#define SVM_I2_MWAIT		BIT(11)
#define SVM_I2_MWAIT_COND	BIT(12)
#define SVM_I2_XSETBV		BIT(13)

/* int_ctl: the virtual TPR, a virtual interrupt and its priority */
#define SVM_INT_CTL_V_TPR_MASK		0xfULL
#define SVM_INT_CTL_V_IRQ		BIT_ULL(8)
#define SVM_INT_CTL_V_INTR_PRIO_MASK	(0xfULL << 16)
#define SVM_INT_CTL_V_IGN_TPR		BIT_ULL(20)
#define SVM_INT_CTL_V_INTR_MASKING	BIT_ULL(24)
/* int_state: the guest is in the shadow of STI or MOV SS */
#define SVM_INT_SHADOW			BIT_ULL(0)
#define SVM_NESTED_CTL_NP_ENABLE	BIT_ULL(0)
#define SVM_TLB_CONTROL_FLUSH_ALL	1

/* event_inj */
#define SVM_EVTINJ_VALID	BIT_ULL(31)
#define SVM_EVTINJ_VALID_ERR	BIT_ULL(11)
#define SVM_EVTINJ_TYPE_EXCEPT	(3ULL << 8)
#define SVM_EVTINJ_TYPE_MASK	(7ULL << 8)
#define SVM_EVTINJ_TYPE_INTR	(0ULL << 8)
#define SVM_EVTINJ_TYPE_NMI	(2ULL << 8)
#define SVM_EVTINJ_VEC_MASK	0xffULL

/* exit codes */
#define SVM_EXIT_READ_CR0	0x000
#define SVM_EXIT_WRITE_CR15	0x01f
#define SVM_EXIT_READ_DR0	0x020
#define SVM_EXIT_WRITE_DR7	0x037
#define SVM_EXIT_EXCP_BASE	0x040
#define SVM_EXIT_INTR		0x060
#define SVM_EXIT_NMI		0x061
#define SVM_EXIT_SMI		0x062
#define SVM_EXIT_INIT		0x063
#define SVM_EXIT_VINTR		0x064
#define SVM_EXIT_RDPMC		0x06f
#define SVM_EXIT_CPUID		0x072
#define SVM_EXIT_INVD		0x076
#define SVM_EXIT_HLT		0x078
#define SVM_EXIT_INVLPG		0x079
#define SVM_EXIT_INVLPGA	0x07a
#define SVM_EXIT_IOIO		0x07b
#define SVM_EXIT_MSR		0x07c
#define SVM_EXIT_SHUTDOWN	0x07f
#define SVM_EXIT_VMRUN		0x080
#define SVM_EXIT_VMMCALL	0x081
#define SVM_EXIT_VMLOAD		0x082
#define SVM_EXIT_VMSAVE		0x083
#define SVM_EXIT_STGI		0x084
#define SVM_EXIT_CLGI		0x085
#define SVM_EXIT_SKINIT		0x086
#define SVM_EXIT_RDTSCP		0x087
#define SVM_EXIT_ICEBP		0x088
#define SVM_EXIT_WBINVD		0x089
#define SVM_EXIT_MONITOR	0x08a
#define SVM_EXIT_MWAIT		0x08b
#define SVM_EXIT_MWAIT_COND	0x08c
#define SVM_EXIT_XSETBV		0x08d
#define SVM_EXIT_NPF		0x400
#define SVM_EXIT_INVALID	((u64)-1)

/* IOIO exit_info_1 */
#define SVM_IOIO_IN		BIT(0)
#define SVM_IOIO_STR		BIT(2)
#define SVM_IOIO_REP		BIT(3)
#define SVM_IOIO_SIZE_SHIFT	4
#define SVM_IOIO_SIZE_MASK	(7 << SVM_IOIO_SIZE_SHIFT)
#define SVM_IOIO_PORT_SHIFT	16

/* NPF exit_info_1 */
#define SVM_NPF_WRITE		BIT_ULL(1)

/* segment attributes: descriptor bits 40-47 and 52-55, packed */
#define SVM_ATTR_TYPE_MASK	0xf
#define SVM_ATTR_S		BIT(4)
#define SVM_ATTR_DPL_SHIFT	5
#define SVM_ATTR_P		BIT(7)
#define SVM_ATTR_AVL		BIT(8)
#define SVM_ATTR_L		BIT(9)
#define SVM_ATTR_DB		BIT(10)
#define SVM_ATTR_G		BIT(11)

struct vmcb_seg {
	u16 selector;
	u16 attrib;
	u32 limit;
	u64 base;
} __packed;

struct vmcb_control {
	u32 intercept_cr;		/* 0x000 */
	u32 intercept_dr;		/* 0x004 */
	u32 intercept_exceptions;	/* 0x008 */
	u32 intercept_misc1;		/* 0x00c */
	u32 intercept_misc2;		/* 0x010 */
	u32 intercept_misc3;		/* 0x014 */
	u8 reserved_1[0x03c - 0x018];
	u16 pause_filter_thresh;	/* 0x03c */
	u16 pause_filter_count;		/* 0x03e */
	u64 iopm_base_pa;		/* 0x040 */
	u64 msrpm_base_pa;		/* 0x048 */
	u64 tsc_offset;			/* 0x050 */
	u32 asid;			/* 0x058 */
	u8 tlb_ctl;			/* 0x05c */
	u8 reserved_2[3];
	u64 int_ctl;			/* 0x060 */
	u64 int_state;			/* 0x068: SVM_INT_SHADOW */
	u64 exit_code;			/* 0x070 */
	u64 exit_info_1;		/* 0x078 */
	u64 exit_info_2;		/* 0x080 */
	u64 exit_int_info;		/* 0x088 */
	u64 nested_ctl;			/* 0x090 */
	u64 avic_vapic_bar;		/* 0x098 */
	u64 ghcb_pa;			/* 0x0a0 */
	u64 event_inj;			/* 0x0a8 */
	u64 nested_cr3;			/* 0x0b0 */
	u64 virt_ext;			/* 0x0b8 */
	u32 clean;			/* 0x0c0 */
	u32 reserved_3;
	u64 next_rip;			/* 0x0c8 */
	u8 insn_len;			/* 0x0d0 */
	u8 insn_bytes[15];
	u8 reserved_4[0x400 - 0x0e0];
} __packed;

/* The state save area, at offset 0x400 of the VMCB. */
struct vmcb_save {
	struct vmcb_seg es;		/* 0x000 */
	struct vmcb_seg cs;
	struct vmcb_seg ss;
	struct vmcb_seg ds;
	struct vmcb_seg fs;
	struct vmcb_seg gs;
	struct vmcb_seg gdtr;
	struct vmcb_seg ldtr;
	struct vmcb_seg idtr;
	struct vmcb_seg tr;		/* 0x090 */
	u8 reserved_1[0x0cb - 0x0a0];
	u8 cpl;				/* 0x0cb */
	u32 reserved_2;
	u64 efer;			/* 0x0d0 */
	u8 reserved_3[0x148 - 0x0d8];
	u64 cr4;			/* 0x148 */
	u64 cr3;			/* 0x150 */
	u64 cr0;			/* 0x158 */
	u64 dr7;			/* 0x160 */
	u64 dr6;			/* 0x168 */
	u64 rflags;			/* 0x170 */
	u64 rip;			/* 0x178 */
	u8 reserved_4[0x1d8 - 0x180];
	u64 rsp;			/* 0x1d8 */
	u8 reserved_5[0x1f8 - 0x1e0];
	u64 rax;			/* 0x1f8 */
	u64 star;			/* 0x200 */
	u64 lstar;			/* 0x208 */
	u64 cstar;			/* 0x210 */
	u64 sfmask;			/* 0x218 */
	u64 kernel_gs_base;		/* 0x220 */
	u64 sysenter_cs;		/* 0x228 */
	u64 sysenter_esp;		/* 0x230 */
	u64 sysenter_eip;		/* 0x238 */
	u64 cr2;			/* 0x240 */
	u8 reserved_6[0x268 - 0x248];
	u64 g_pat;			/* 0x268 */
	u64 dbgctl;			/* 0x270 */
	u8 reserved_7[0x2e0 - 0x278];
	u64 spec_ctrl;			/* 0x2e0, with V_SPEC_CTRL */
} __packed;

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
} __packed;

static_assert(offsetof(struct vmcb_control, exit_code) == 0x070);
static_assert(offsetof(struct vmcb_control, nested_cr3) == 0x0b0);
static_assert(offsetof(struct vmcb_control, insn_bytes) == 0x0d1);
static_assert(sizeof(struct vmcb_control) == 0x400);
static_assert(offsetof(struct vmcb_save, cpl) == 0x0cb);
static_assert(offsetof(struct vmcb_save, efer) == 0x0d0);
static_assert(offsetof(struct vmcb_save, cr4) == 0x148);
static_assert(offsetof(struct vmcb_save, rsp) == 0x1d8);
static_assert(offsetof(struct vmcb_save, rax) == 0x1f8);
static_assert(offsetof(struct vmcb_save, cr2) == 0x240);
static_assert(offsetof(struct vmcb_save, g_pat) == 0x268);
static_assert(offsetof(struct vmcb_save, spec_ctrl) == 0x2e0);

#endif /* MV_SVM_VMCB_H */
