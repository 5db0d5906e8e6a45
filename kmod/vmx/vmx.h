/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of the VT-x backend share: a vCPU's VMX state, the VMX
 * instructions (inline), and the functions each file offers the others.
 *
 *  vmx.c    VMX operation per CPU, VPIDs, the world switch, mv_vmx_ops
 *  vmcs.c   loading a VMCS, its fields, creating and freeing vCPUs
 *  state.c  the vCPU state the core reads and writes, events queued
 *  exit.c   the exit handlers
 */
#ifndef MV_VMX_VMX_H
#define MV_VMX_VMX_H

#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/list.h>
#include <linux/percpu.h>
#include <linux/types.h>
#include <asm/asm.h>
#include <asm/vmx.h>

#include "../exc.h"
#include "../vcpu.h"
#include "ctls.h"

struct kvm_regs;
struct kvm_sregs;
struct mv_event;
struct mv_vcpu;

/* VMX access rights of a segment (SDM vol. 3, 25.4.1) */
#define VMCS_AR_TYPE_MASK		0xfU
#define VMCS_AR_S			BIT(4)
#define VMCS_AR_DPL_SHIFT		5
#define VMCS_AR_P			BIT(7)
#define VMCS_AR_AVL			BIT(12)
#define VMCS_AR_L			BIT(13)
#define VMCS_AR_DB			BIT(14)
#define VMCS_AR_G			BIT(15)
#define VMCS_AR_UNUSABLE		BIT(16)

/* The MSRs VM entry and exit switch: vmx_switched_msrs, in vmx.c */
#define VMX_NR_SWITCHED		5
#define VMX_KGS_SLOT		4	/* MSR_KERNEL_GS_BASE's place there */

extern const u32 vmx_switched_msrs[];

/**
 * struct vmx_msr_areas - the MSR-load and -store areas of a vCPU
 * @guest: loaded on entry, stored on exit
 * @host: loaded on exit
 *
 * In one page, for the physical addresses the VMCS points at.
 */
struct vmx_msr_areas {
	struct vmx_msr_entry guest[VMX_NR_SWITCHED];
	struct vmx_msr_entry host[VMX_NR_SWITCHED];
};

/**
 * struct vmx_vcpu - a vCPU's VMX state
 * @vcpu: the core's vCPU (c)
 * @vmcs: its VMCS (c)
 * @vmcs_pa: the VMCS's physical address (c)
 * @msrs: its MSR areas (c)
 * @regs: the general registers by x86 number, RSP included [vcpu->mutex]
 * @rip: the guest's RIP, written to the VMCS before each entry
 * @rflags: the guest's RFLAGS, likewise
 * @cr2: the guest's CR2, which the VMCS does not switch
 * @cr8: the guest's TPR as MOV CR8 sees it (no local APIC yet)
 * @dr: the guest's debug registers; GUEST_DR7 is @dr.dr7 (kmod/exc.c)
 * @vpid: its VPID, 0 when VPIDs are not used (c)
 * @cpu: the CPU its VMCS is loaded on, or -1; written by the vCPU thread
 *	with preemption off and by that CPU in an IPI or when it goes
 *	offline, with interrupts off
 * @link: on that CPU's vmx_loaded list [that CPU, interrupts off]
 * @launched: VMRESUME, not VMLAUNCH, enters next [@cpu's]
 * @flush: flush the EPT and VPID mappings before the next entry
 * @flush_vpid: flush the VPID's mappings before the next entry
 * @eptp: what EPT_POINTER holds, 0 until the MMU gave a root
 *	(vmx_load_mmu_root())
 * @vmcs_failed: a VMX instruction on this VMCS failed: the vCPU stops
 * @host_cr3: what HOST_CR3 holds
 * @host_cr4: what HOST_CR4 holds
 * @host_fs_base: what HOST_FS_BASE holds
 * @shadow: the VM runs on shadow tables (see vmx_shadow_hw()): the guest's
 *	own CR0, CR3, CR4 and EFER are then only in vcpu->cr, and the VMCS
 *	holds what the CPU runs it with.  In TDP mode the VMCS holds the
 *	guest's (CR0 and CR4 with their read shadows) and vcpu->cr caches
 *	them (vmx_read_cr()) (c)
 * @phys: shadow paging, with the guest's paging off: it runs on EPT, as an
 *	unrestricted guest, not on a shadow root
 */
struct vmx_vcpu {
	struct mv_vcpu *vcpu;
	void *vmcs;
	u64 vmcs_pa;
	struct vmx_msr_areas *msrs;
	unsigned long regs[16];
	unsigned long rip;
	unsigned long rflags;
	unsigned long cr2;
	unsigned long cr8;
	struct mv_dr dr;
	u16 vpid;
	int cpu;
	struct list_head link;
	bool launched;
	bool flush;
	bool flush_vpid;
	u64 eptp;
	bool vmcs_failed;
	unsigned long host_cr3;
	unsigned long host_cr4;
	unsigned long host_fs_base;
	bool shadow;
	bool phys;
};

/* Guest interruptibility: blocking by STI and by MOV SS */
#define INTR_BLOCK_STI_MOVSS	(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)

/* in vmx.c; see there */
extern u32 vmx_revision;
extern struct mv_vmx_ctls vmx_ctls;
extern u64 vmx_cr0_fixed0, vmx_cr0_fixed1, vmx_cr4_fixed0, vmx_cr4_fixed1;
extern void *vmx_msr_bitmap;
DECLARE_PER_CPU(struct list_head, vmx_loaded);
DECLARE_PER_CPU(struct vmx_vcpu *, vmx_current);

/* Segment registers by their index in the VMCS field encodings. */
enum vmx_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR,
	       SEG_TR };

/* ------------------------------------------------ the VMX instructions */

/*
 * The VMX instructions below report in one byte: 0 success, 1 VMfail
 * (CF or ZF set), 2 a fault (#UD or #GP, caught by the exception table).
 */
static inline int vmx_insn_result(u8 r)
{
	return r == 0 ? 0 : r == 1 ? -EIO : -EFAULT;
}

static inline int vmx_vmxon(u64 pa)
{
	u8 r = 2;

	asm volatile("1: vmxon %[pa]\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r) : [pa] "m" (pa) : "cc", "memory");
	return vmx_insn_result(r);
}

static inline int vmx_vmxoff(void)
{
	u8 r = 2;

	asm volatile("1: vmxoff\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r) : : "cc", "memory");
	return vmx_insn_result(r);
}

static inline int vmx_vmclear(u64 pa)
{
	u8 r = 2;

	asm volatile("1: vmclear %[pa]\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r) : [pa] "m" (pa) : "cc", "memory");
	return vmx_insn_result(r);
}

static inline int vmx_vmptrld(u64 pa)
{
	u8 r = 2;

	asm volatile("1: vmptrld %[pa]\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r) : [pa] "m" (pa) : "cc", "memory");
	return vmx_insn_result(r);
}

static inline int vmx_vmread(unsigned long field, u64 *val)
{
	unsigned long v = 0;
	u8 r = 2;

	asm volatile("1: vmread %[field], %[v]\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r), [v] "+rm" (v)
		     : [field] "r" (field) : "cc");
	*val = v;
	return vmx_insn_result(r);
}

static inline int vmx_vmwrite(unsigned long field, u64 val)
{
	u8 r = 2;

	asm volatile("1: vmwrite %[val], %[field]\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r)
		     : [field] "r" (field), [val] "rm" ((unsigned long)val)
		     : "cc");
	return vmx_insn_result(r);
}

static inline int vmx_invept(unsigned long type, u64 eptp)
{
	struct { u64 eptp, zero; } desc = { eptp, 0 };
	u8 r = 2;

	asm volatile("1: invept %[desc], %[type]\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r)
		     : [desc] "m" (desc), [type] "r" (type) : "cc", "memory");
	return vmx_insn_result(r);
}

static inline int vmx_invvpid(unsigned long type, u16 vpid)
{
	struct { u64 vpid, gva; } desc = { vpid, 0 };
	u8 r = 2;

	asm volatile("1: invvpid %[desc], %[type]\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r)
		     : [desc] "m" (desc), [type] "r" (type) : "cc", "memory");
	return vmx_insn_result(r);
}

/* The VM-instruction error of the current VMCS, after a VMfailValid. */
static inline u32 vmx_insn_error(void)
{
	u64 err = 0;

	if (vmx_vmread(VM_INSTRUCTION_ERROR, &err))
		return 0;
	return err;
}

void vmx_failed(struct vmx_vcpu *vmx, const char *insn, unsigned long arg,
		int r);

/* VMREAD of the current VMCS, which is @vmx's. */
static inline u64 vmx_rd(struct vmx_vcpu *vmx, unsigned long field)
{
	u64 val;
	int r = vmx_vmread(field, &val);

	if (unlikely(r)) {
		vmx_failed(vmx, "VMREAD", field, r);
		return 0;
	}
	return val;
}

/* VMWRITE to the current VMCS, which is @vmx's. */
static inline void vmx_wr(struct vmx_vcpu *vmx, unsigned long field, u64 val)
{
	int r = vmx_vmwrite(field, val);

	if (unlikely(r))
		vmx_failed(vmx, "VMWRITE", field, r);
}

/* vmx.c */
void vmx_clear_ipi(void *arg);
int vmx_alloc_vpid(void);
void vmx_free_vpid(int vpid);

/* vmcs.c */
void vmx_load(struct vmx_vcpu *vmx);
struct vmx_vcpu *vmx_get(struct mv_vcpu *vcpu);
void vmx_put(void);
void vmx_write_seg(struct vmx_vcpu *vmx, enum vmx_seg s, u16 sel,
		   u64 base, u32 limit, u32 ar);
void vmx_write_cr0(struct vmx_vcpu *vmx, unsigned long cr0);
void vmx_write_cr4(struct vmx_vcpu *vmx, unsigned long cr4);
unsigned long vmx_read_cr0(struct vmx_vcpu *vmx);
unsigned long vmx_read_cr4(struct vmx_vcpu *vmx);
void vmx_write_efer(struct vmx_vcpu *vmx, u64 efer);
void vmx_shadow_hw(struct vmx_vcpu *vmx);
bool vmx_pae_paging(u64 cr0, u64 cr4, u64 efer);
int vmx_read_pdptrs(struct mv_vcpu *vcpu, u64 cr3, u64 *pdpte);
void vmx_write_pdptrs(struct vmx_vcpu *vmx, const u64 *pdpte);
int vmx_vcpu_create(struct mv_vcpu *vcpu);
void vmx_vcpu_free(struct mv_vcpu *vcpu);
void vmx_vcpu_load(struct mv_vcpu *vcpu, int cpu);
void vmx_vcpu_put(struct mv_vcpu *vcpu);

/* state.c */
void vmx_get_regs(struct mv_vcpu *vcpu, struct kvm_regs *r);
void vmx_set_regs(struct mv_vcpu *vcpu, const struct kvm_regs *r);
void vmx_get_sregs(struct mv_vcpu *vcpu, struct kvm_sregs *sr);
int vmx_set_sregs(struct mv_vcpu *vcpu, const struct kvm_sregs *sr);
int vmx_get_msr(struct mv_vcpu *vcpu, u32 index, u64 *data);
int vmx_set_msr(struct mv_vcpu *vcpu, u32 index, u64 data);
u64 vmx_read_cr(struct mv_vcpu *vcpu, enum mv_cr_reg reg);
void vmx_inject(struct vmx_vcpu *vmx, u8 vector, bool has_error, u32 error);
void vmx_queue_exception(struct mv_vcpu *vcpu, u8 vector, bool has_error,
			 u32 error, u64 cr2);
bool vmx_queued_event(struct mv_vcpu *vcpu, struct mv_event *ev, bool take);
unsigned long vmx_get_rflags(struct mv_vcpu *vcpu);
bool vmx_in_interrupt_shadow(struct mv_vcpu *vcpu);
void vmx_end_interrupt_shadow(struct mv_vcpu *vcpu);
void vmx_inject_irq(struct mv_vcpu *vcpu, u8 vector);
void vmx_enable_irq_window(struct mv_vcpu *vcpu);
u64 vmx_get_cr8(struct mv_vcpu *vcpu);
void vmx_set_cr8(struct mv_vcpu *vcpu, u64 cr8);

/* exit.c */
void vmx_deliver_db(struct mv_vcpu *vcpu, unsigned long payload);
void vmx_redeliver(struct vmx_vcpu *vmx);
int vmx_fail_entry(struct mv_vcpu *vcpu, u64 reason);
int vmx_handle_exit(struct mv_vcpu *vcpu, u32 reason);

#endif /* MV_VMX_VMX_H */
