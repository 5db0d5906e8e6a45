// SPDX-License-Identifier: GPL-2.0
/*
 * The Intel VT-x backend: VMX operation per CPU, one VMCS per vCPU, EPT,
 * VPIDs, and the exits.
 *
 * Everything VT-x specific lives under vmx/; the core reaches it only
 * through mv_vmx_ops.
 *
 * A VMCS is "loaded" on at most one CPU at a time (VMPTRLD there, on that
 * CPU's list of loaded VMCSes).  Before a vCPU runs, or its VMCS is read or
 * written, on another CPU, the VMCS is cleared (VMCLEAR) on the old one by
 * an IPI, loaded on the new one, and the host state that differs between
 * CPUs is rewritten; the next entry is a VMLAUNCH.  The preempt notifiers
 * the core registers during KVM_RUN do this whenever the vCPU thread moves;
 * the ioctls that touch the VMCS outside KVM_RUN do it with preemption off.
 */
#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/kvm.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/minivisor.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <asm/apic.h>
#include <asm/asm.h>
#include <asm/cpu_entry_area.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/io.h>
/* load_gs_index(), from <asm/gsseg.h> since 6.2 */
#include <asm/mmu_context.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>
#include <asm/tsc.h>
#include <asm/vmx.h>

#include "../cr.h"
#include "../crinsn.h"
#include "../event.h"
#include "../exc.h"
#include "../exit.h"
#include "../gmem.h"
#include "../fpu.h"
#include "../memslot.h"
#include "../mmu/mmu.h"
#include "../mmu/tdp.h"
#include "../msr.h"
#include "../mv.h"
#include "../ops.h"
#include "../spec.h"
#include "../vcpu.h"
#include "../virt.h"
#include "../vm.h"
#include "ctls.h"
#include "vmenter.h"

/* (c) the EPT entry format, from the capability MSRs at setup */
static struct mv_tdp_format vmx_ept_format;

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

/* Guest interruptibility: blocking by STI and by MOV SS */
#define INTR_BLOCK_STI_MOVSS	0x3U

/* VPIDs 1..65535 are the guests'; 0 is the host's */
#define MV_NR_VPIDS		65536

/*
 * The MSRs a VM entry loads for the guest and a VM exit stores back, then
 * loads again for the host (SDM vol. 3, 25.7.2, 26.4): those of SYSCALL
 * and SWAPGS, which the VMCS does not hold.  The guest reaches them
 * without exits (the MSR bitmap lets RDMSR and WRMSR through).
 */
static const u32 vmx_switched_msrs[] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
};

#define VMX_NR_SWITCHED		ARRAY_SIZE(vmx_switched_msrs)
#define VMX_KGS_SLOT		4	/* MSR_KERNEL_GS_BASE's place above */

/* SYSENTER, FS and GS bases live in the VMCS: no exits for them either */
static const u32 vmx_passthrough_msrs[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_FS_BASE, MSR_GS_BASE,
};

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
 * @shadow: the VM runs on shadow tables (see vmx_shadow_hw()); the guest's
 *	own CR0, CR3, CR4 and EFER are then @cr0, @cr3, @cr4, @efer (c)
 * @phys: shadow paging, with the guest's paging off: it runs on EPT, as an
 *	unrestricted guest, not on a shadow root
 * @cr0: the guest's CR0, under shadow paging
 * @cr3: the guest's CR3, likewise
 * @cr4: the guest's CR4, likewise
 * @efer: the guest's EFER, likewise
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
	u64 cr0;
	u64 cr3;
	u64 cr4;
	u64 efer;
};

/* (c) from IA32_VMX_BASIC at setup */
static u32 vmx_revision;
/* (c) the controls every VMCS starts with, from the capability MSRs */
static struct mv_vmx_ctls vmx_ctls;
/* (c) the CR0 and CR4 bits VMX operation forces to 1 and to 0 */
static u64 vmx_cr0_fixed0, vmx_cr0_fixed1, vmx_cr4_fixed0, vmx_cr4_fixed1;
/* (c) the MSR bitmap all vCPUs share: 1 = exit */
static void *vmx_msr_bitmap;
/* [vmx_vpid_lock] VPIDs in use; 0, the host's, always */
static DECLARE_BITMAP(vmx_vpids, MV_NR_VPIDS);
static DEFINE_SPINLOCK(vmx_vpid_lock);

/*
 * For tests only: at most this many VPIDs are handed out (0: all 65535), so
 * that a test can run vCPUs beyond the last VPID with a few of them.
 */
static unsigned int vpid_limit;
module_param(vpid_limit, uint, 0444);
MODULE_PARM_DESC(vpid_limit, "test only: hand out at most this many VPIDs (0: no limit)");

/* [this CPU] its VMXON region, allocated at setup for every possible CPU */
static DEFINE_PER_CPU(struct page *, vmxon_page);
/* [this CPU, interrupts off] the vCPUs whose VMCS is loaded here */
static DEFINE_PER_CPU(struct list_head, vmx_loaded);
/* [this CPU, interrupts off] the vCPU whose VMCS is current here */
static DEFINE_PER_CPU(struct vmx_vcpu *, vmx_current);

/* ------------------------------------------------ the VMX instructions */

/*
 * The VMX instructions below report in one byte: 0 success, 1 VMfail
 * (CF or ZF set), 2 a fault (#UD or #GP, caught by the exception table).
 */
static int vmx_insn_result(u8 r)
{
	return r == 0 ? 0 : r == 1 ? -EIO : -EFAULT;
}

static int vmx_vmxon(u64 pa)
{
	u8 r = 2;

	asm volatile("1: vmxon %[pa]\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r) : [pa] "m" (pa) : "cc", "memory");
	return vmx_insn_result(r);
}

static int vmx_vmxoff(void)
{
	u8 r = 2;

	asm volatile("1: vmxoff\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r) : : "cc", "memory");
	return vmx_insn_result(r);
}

static int vmx_vmclear(u64 pa)
{
	u8 r = 2;

	asm volatile("1: vmclear %[pa]\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r) : [pa] "m" (pa) : "cc", "memory");
	return vmx_insn_result(r);
}

static int vmx_vmptrld(u64 pa)
{
	u8 r = 2;

	asm volatile("1: vmptrld %[pa]\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r) : [pa] "m" (pa) : "cc", "memory");
	return vmx_insn_result(r);
}

static int vmx_vmread(unsigned long field, u64 *val)
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

static int vmx_vmwrite(unsigned long field, u64 val)
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

static int vmx_invept(unsigned long type, u64 eptp)
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

static int vmx_invvpid(unsigned long type, u16 vpid)
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
static u32 vmx_insn_error(void)
{
	u64 err = 0;

	if (vmx_vmread(VM_INSTRUCTION_ERROR, &err))
		return 0;
	return err;
}

/*
 * A VMX instruction on @vmx's VMCS failed: say which and why, and stop the
 * vCPU (its next KVM_RUN fails with -EIO).
 */
static void vmx_failed(struct vmx_vcpu *vmx, const char *insn,
		       unsigned long arg, int r)
{
	vmx->vmcs_failed = true;
	pr_err_ratelimited("minivisor: vCPU %u: %s %#lx failed on CPU %d: %s (VM-instruction error %u)\n",
			   vmx->vcpu->id, insn, arg, raw_smp_processor_id(),
			   r == -EIO ? "VMfail" : "fault",
			   r == -EIO ? vmx_insn_error() : 0);
}

/* VMREAD of the current VMCS, which is @vmx's. */
static u64 vmx_rd(struct vmx_vcpu *vmx, unsigned long field)
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
static void vmx_wr(struct vmx_vcpu *vmx, unsigned long field, u64 val)
{
	int r = vmx_vmwrite(field, val);

	if (unlikely(r))
		vmx_failed(vmx, "VMWRITE", field, r);
}

/* ------------------------------------------------- VMX on and off */

/* Does @val keep the bits IA32_VMX_*_FIXED0/1 say must be 1 and 0? */
static bool vmx_fixed_ok(unsigned long val, u64 fixed0, u64 fixed1)
{
	return (val & fixed0) == fixed0 && !(val & ~fixed1);
}

static void vmx_free_vmxon(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(vmxon_page, cpu))
			__free_page(per_cpu(vmxon_page, cpu));
		per_cpu(vmxon_page, cpu) = NULL;
	}
}

/* Reads the capability MSRs; 0, or -EIO when one cannot be read. */
static int vmx_read_caps(struct mv_vmx_cap_msrs *c)
{
	memset(c, 0, sizeof(*c));
	if (rdmsrl_safe(MSR_IA32_VMX_BASIC, &c->basic) ||
	    rdmsrl_safe(MSR_IA32_VMX_PINBASED_CTLS, &c->pinbased) ||
	    rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS, &c->procbased) ||
	    rdmsrl_safe(MSR_IA32_VMX_EXIT_CTLS, &c->exit) ||
	    rdmsrl_safe(MSR_IA32_VMX_ENTRY_CTLS, &c->entry) ||
	    rdmsrl_safe(MSR_IA32_VMX_CR0_FIXED0, &vmx_cr0_fixed0) ||
	    rdmsrl_safe(MSR_IA32_VMX_CR0_FIXED1, &vmx_cr0_fixed1) ||
	    rdmsrl_safe(MSR_IA32_VMX_CR4_FIXED0, &vmx_cr4_fixed0) ||
	    rdmsrl_safe(MSR_IA32_VMX_CR4_FIXED1, &vmx_cr4_fixed1))
		return -EIO;
	if (c->procbased & ((u64)CPU_BASED_ACTIVATE_SECONDARY_CONTROLS << 32)) {
		if (rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS2, &c->procbased2))
			return -EIO;
		/* EPT and VPID capabilities come with either */
		if ((c->procbased2 >> 32) & (SECONDARY_EXEC_ENABLE_EPT |
					     SECONDARY_EXEC_ENABLE_VPID) &&
		    rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &c->ept_vpid))
			return -EIO;
	}
	if ((c->basic & BIT_ULL(55)) &&	/* the TRUE_* MSRs exist */
	    (rdmsrl_safe(MSR_IA32_VMX_TRUE_PINBASED_CTLS, &c->true_pinbased) ||
	     rdmsrl_safe(MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
			 &c->true_procbased) ||
	     rdmsrl_safe(MSR_IA32_VMX_TRUE_EXIT_CTLS, &c->true_exit) ||
	     rdmsrl_safe(MSR_IA32_VMX_TRUE_ENTRY_CTLS, &c->true_entry)))
		return -EIO;
	return 0;
}

/* Lets the guest reach MSR @msr without exits. */
static void vmx_msr_passthrough(u32 msr)
{
	/* read-low, read-high, write-low and write-high quarters */
	unsigned long *b = vmx_msr_bitmap;
	unsigned long high = msr >= 0xc0000000 ? 1024 * 8 : 0;
	unsigned long bit = msr & 0x1fff;

	__clear_bit(high + bit, b);
	__clear_bit(2048 * 8 + high + bit, b);
}

static int vmx_hardware_setup(const struct mv_cpu_caps *caps)
{
	struct mv_vmx_cap_msrs msrs;
	struct page *page;
	unsigned int i;
	int cpu, r;

	vmx_revision = caps->vmcs_revision;
	r = vmx_read_caps(&msrs);
	if (r) {
		pr_err("minivisor: VMX: cannot read the capability MSRs\n");
		return r;
	}
	r = mv_vmx_compute_ctls(&msrs, &vmx_ctls);
	if (r) {
		pr_err("minivisor: %s\n", vmx_ctls.why);
		return r;
	}
	mv_vmx_ept_format(&vmx_ctls, &vmx_ept_format);

	vmx_msr_bitmap = (void *)__get_free_page(GFP_KERNEL);
	if (!vmx_msr_bitmap)
		return -ENOMEM;
	memset(vmx_msr_bitmap, 0xff, PAGE_SIZE);
	for (i = 0; i < VMX_NR_SWITCHED; i++)
		vmx_msr_passthrough(vmx_switched_msrs[i]);
	for (i = 0; i < ARRAY_SIZE(vmx_passthrough_msrs); i++)
		vmx_msr_passthrough(vmx_passthrough_msrs[i]);
	bitmap_zero(vmx_vpids, MV_NR_VPIDS);
	__set_bit(0, vmx_vpids);
	/* a CPU that cannot intercept CR3 and INVLPG offers TDP only */
	if (!vmx_ctls.shadow)
		mv_caps.mmu_modes &= ~MV_MMU_SHADOW;

	for_each_possible_cpu(cpu) {
		INIT_LIST_HEAD(per_cpu_ptr(&vmx_loaded, cpu));
		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page)
			goto fail;
		*(u32 *)page_address(page) = vmx_revision;
		per_cpu(vmxon_page, cpu) = page;
	}
	return 0;

fail:
	vmx_free_vmxon();
	free_page((unsigned long)vmx_msr_bitmap);
	vmx_msr_bitmap = NULL;
	return -ENOMEM;
}

static void vmx_hardware_unsetup(void)
{
	vmx_free_vmxon();
	free_page((unsigned long)vmx_msr_bitmap);
	vmx_msr_bitmap = NULL;
}

static int vmx_cpu_enable(void)
{
	u64 fc;
	int r;

	/* CR4.VMXE set: another hypervisor is in VMX operation here. */
	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;

	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &fc) ||
	    !(fc & FEAT_CTL_LOCKED) ||
	    !(fc & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return -EIO;
	if (!vmx_fixed_ok(read_cr0(), vmx_cr0_fixed0, vmx_cr0_fixed1))
		return -EIO;

	cr4_set_bits_irqsoff(X86_CR4_VMXE);
	if (!vmx_fixed_ok(cr4_read_shadow(), vmx_cr4_fixed0,
			  vmx_cr4_fixed1)) {
		r = -EIO;
		goto clear_vmxe;
	}
	r = vmx_vmxon(page_to_phys(__this_cpu_read(vmxon_page)));
	if (r)
		goto clear_vmxe;
	__this_cpu_write(vmx_current, NULL);
	return 0;

clear_vmxe:
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
	return r;
}

/* VMCLEARs @vmx's VMCS on this CPU, where it is loaded; interrupts off. */
static void vmx_clear_here(struct vmx_vcpu *vmx)
{
	int r = vmx_vmclear(vmx->vmcs_pa);

	if (r)
		vmx_failed(vmx, "VMCLEAR", (unsigned long)vmx->vmcs_pa, r);
	list_del(&vmx->link);
	if (__this_cpu_read(vmx_current) == vmx)
		__this_cpu_write(vmx_current, NULL);
	vmx->launched = false;
	WRITE_ONCE(vmx->cpu, -1);
}

static void vmx_clear_ipi(void *arg)
{
	struct vmx_vcpu *vmx = arg;

	/* it may have been cleared meanwhile, when this CPU went offline */
	if (READ_ONCE(vmx->cpu) == smp_processor_id())
		vmx_clear_here(vmx);
}

static void vmx_cpu_disable(void)
{
	struct vmx_vcpu *vmx, *next;
	int r;

	list_for_each_entry_safe(vmx, next, this_cpu_ptr(&vmx_loaded), link)
		vmx_clear_here(vmx);
	r = vmx_vmxoff();
	if (r)
		pr_err("minivisor: VMXOFF failed on CPU %d: error %d\n",
		       smp_processor_id(), r);
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
}

static void vmx_emergency_disable(void)
{
	vmx_vmxoff();
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
}

/* ------------------------------------------------ loading a VMCS */

/* The host state that differs between CPUs; the VMCS is current. */
static void vmx_set_host_cpu_state(struct vmx_vcpu *vmx, int cpu)
{
	struct desc_ptr idt;
	unsigned int i;
	u64 v;

	vmx_wr(vmx, HOST_TR_BASE,
	       (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	vmx_wr(vmx, HOST_GDTR_BASE, (unsigned long)get_current_gdt_ro());
	store_idt(&idt);
	vmx_wr(vmx, HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_GS_BASE, v);
	vmx_wr(vmx, HOST_GS_BASE, v);
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	vmx_wr(vmx, HOST_IA32_SYSENTER_ESP, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmx_wr(vmx, HOST_IA32_SYSENTER_EIP, v);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmx_wr(vmx, HOST_IA32_SYSENTER_CS, v);
	vmx_wr(vmx, HOST_CR0, read_cr0());
	for (i = 0; i < VMX_NR_SWITCHED; i++) {
		vmx->msrs->host[i].index = vmx_switched_msrs[i];
		rdmsrl(vmx_switched_msrs[i], vmx->msrs->host[i].value);
	}
	/* the next entry writes these again */
	vmx->host_cr3 = 0;
	vmx->host_cr4 = 0;
	vmx->host_fs_base = 0;
	vmx_wr(vmx, HOST_CR3, __read_cr3());
	vmx_wr(vmx, HOST_CR4, cr4_read_shadow());
}

/**
 * vmx_load() - make @vmx's VMCS current on this CPU
 * @vmx: the vCPU
 *
 * Preemption off, interrupts on (the VMCS may have to be cleared on the
 * CPU it was loaded on, by an IPI).
 */
static void vmx_load(struct vmx_vcpu *vmx)
{
	int cpu = smp_processor_id();
	int old = READ_ONCE(vmx->cpu);
	unsigned long flags;
	int r;

	if (old != cpu) {
		if (old >= 0)
			smp_call_function_single(old, vmx_clear_ipi, vmx, 1);
		if (READ_ONCE(vmx->cpu) >= 0) {
			pr_err_ratelimited("minivisor: vCPU %u: VMCS still loaded on CPU %d\n",
					   vmx->vcpu->id, READ_ONCE(vmx->cpu));
			vmx->vmcs_failed = true;
			return;
		}
		local_irq_save(flags);
		list_add(&vmx->link, this_cpu_ptr(&vmx_loaded));
		WRITE_ONCE(vmx->cpu, cpu);
		local_irq_restore(flags);
	}
	if (this_cpu_read(vmx_current) != vmx) {
		r = vmx_vmptrld(vmx->vmcs_pa);
		if (r) {
			vmx_failed(vmx, "VMPTRLD", (unsigned long)vmx->vmcs_pa,
				   r);
			return;
		}
		this_cpu_write(vmx_current, vmx);
	}
	if (old != cpu) {
		vmx_set_host_cpu_state(vmx, cpu);
		/* this CPU may hold stale mappings of the VM and the VPID */
		vmx->flush = true;
	}
}

/* Loads @vmx's VMCS on this CPU for a few accesses; see vmx_put(). */
static struct vmx_vcpu *vmx_get(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;

	preempt_disable();
	vmx_load(vmx);
	return vmx;
}

static void vmx_put(void)
{
	preempt_enable();
}

/* ---------------------------------------------------------------- vCPUs */

/* Segment registers by their index in the VMCS field encodings. */
enum vmx_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR,
	       SEG_TR };

static void vmx_write_seg(struct vmx_vcpu *vmx, enum vmx_seg s, u16 sel,
			  u64 base, u32 limit, u32 ar)
{
	vmx_wr(vmx, GUEST_ES_SELECTOR + 2 * s, sel);
	vmx_wr(vmx, GUEST_ES_BASE + 2 * s, base);
	vmx_wr(vmx, GUEST_ES_LIMIT + 2 * s, limit);
	vmx_wr(vmx, GUEST_ES_AR_BYTES + 2 * s, ar);
}

/* CR0 bits the guest's value is not what the CPU runs with: intercepted */
static unsigned long vmx_cr0_host_owned(void)
{
	/* unrestricted guest: PE and PG are the guest's own */
	unsigned long forced = (vmx_cr0_fixed0 | ~vmx_cr0_fixed1) &
		~(X86_CR0_PE | X86_CR0_PG) & 0xffffffffUL;

	/* PG too: setting it with EFER.LME is entering long mode */
	return forced | X86_CR0_CD | X86_CR0_NW | X86_CR0_PG;
}

/*
 * CR4 bits a guest in the TDP mode may write without an exit: bits every
 * vCPU may have (kmod/cr.c) whose effect stays within the guest.  Every
 * other bit is the host's, so that each write of it meets kmod/cr.c's
 * rules: the CPU would accept CET, PKS or UINTR, which would run the guest
 * on host MSRs VM entry does not switch, or bits the guest's CPUID denies.
 */
#define VMX_CR4_GUEST_OWNED	(X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | \
				 X86_CR4_PGE | X86_CR4_PCE | \
				 X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)

static unsigned long vmx_cr4_host_owned(void)
{
	return ~(VMX_CR4_GUEST_OWNED & ~vmx_cr4_fixed0 & vmx_cr4_fixed1);
}

/*
 * The CR0 and CR4 guest/host masks of a vCPU.  Under shadow paging every
 * bit is the host's: the CPU runs with PG, PE, WP and PAE the guest may
 * not have, and all of CR0 and CR4 go through the shadow MMU (a CLTS or a
 * write of TS alone exits too, which guests with eager FPU never do).
 */
static unsigned long vmx_cr0_mask(const struct vmx_vcpu *vmx)
{
	return vmx->shadow ? ~0UL : vmx_cr0_host_owned();
}

static unsigned long vmx_cr4_mask(const struct vmx_vcpu *vmx)
{
	/* MCE too: the CPU runs the guest with the host's (vmx_hw_cr4()) */
	return vmx->shadow ? ~0UL : vmx_cr4_host_owned() | X86_CR4_MCE;
}

/* The CR0 the CPU runs the guest with when the guest sees @cr0. */
static unsigned long vmx_hw_cr0(unsigned long cr0)
{
	unsigned long on = vmx_cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);

	/* caches stay on under the guest, as KVM does */
	return (cr0 | on) & ~(X86_CR0_CD | X86_CR0_NW);
}

/*
 * CR4.MCE stays as the host has it, so that a machine check in the guest
 * raises the #MC the host intercepts, not a shutdown.
 */
static unsigned long vmx_hw_cr4(unsigned long cr4)
{
	return ((cr4 | vmx_cr4_fixed0) & vmx_cr4_fixed1) |
		(cr4_read_shadow() & X86_CR4_MCE);
}

static void vmx_write_cr0(struct vmx_vcpu *vmx, unsigned long cr0)
{
	vmx_wr(vmx, CR0_READ_SHADOW, cr0);
	vmx_wr(vmx, GUEST_CR0, vmx_hw_cr0(cr0));
}

static void vmx_write_cr4(struct vmx_vcpu *vmx, unsigned long cr4)
{
	vmx_wr(vmx, CR4_READ_SHADOW, cr4);
	vmx_wr(vmx, GUEST_CR4, vmx_hw_cr4(cr4));
}

/*
 * The CR0 and CR4 the guest sees: the bits it owns from the register it
 * runs with, the others from the read shadow.
 */
static unsigned long vmx_read_cr0(struct vmx_vcpu *vmx)
{
	unsigned long own = vmx_cr0_mask(vmx);

	return (vmx_rd(vmx, GUEST_CR0) & ~own) |
		(vmx_rd(vmx, CR0_READ_SHADOW) & own);
}

static unsigned long vmx_read_cr4(struct vmx_vcpu *vmx)
{
	unsigned long own = vmx_cr4_mask(vmx);

	return (vmx_rd(vmx, GUEST_CR4) & ~own) |
		(vmx_rd(vmx, CR4_READ_SHADOW) & own);
}

/* The get_cr4 op: the guest's CR4, as it reads it; the VMCS is loaded */
static u64 vmx_get_cr4(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;

	return vmx->shadow ? vmx->cr4 : vmx_read_cr4(vmx);
}

/* EFER, and the IA-32e mode guest entry control that must match LMA. */
static void vmx_write_efer(struct vmx_vcpu *vmx, u64 efer)
{
	vmx_wr(vmx, GUEST_IA32_EFER, efer);
	vmx_wr(vmx, VM_ENTRY_CONTROLS, vmx_ctls.entry |
	       (efer & EFER_LMA ? VM_ENTRY_IA32E_MODE : 0));
}

/*
 * Shadow paging on VMX: what the CPU runs with, from the guest's CR0, CR3,
 * CR4 and EFER (@vmx->cr0...), which the read shadows give back to it.
 *
 * With paging on, the guest runs on the shadow root the MMU gives before
 * each entry (GUEST_CR3), EPT off: PG, PE and WP always set (WP so that
 * write-protection holds against the guest kernel too), CD and NW clear,
 * PAE set (the shadow is PAE or 4-level) and PCIDE clear (the MMU flushes
 * on every root change), NX on for the shadow's XD bits, LME only with
 * LMA.  #PF, CR3 loads and stores, INVLPG and every CR0/CR4 write exit.
 *
 * With paging off (real mode, or protected mode without paging) there is
 * nothing to shadow, but VMX runs such a guest only as an unrestricted
 * guest, which needs EPT.  So it runs as in the TDP mode, on EPT, on the
 * second-level tables of the VM (the phys_root MMU op; their faults go to
 * the TDP fault path), with its own CR0, CR3 and CR4.  CR0.PG is the
 * host's, so the guest setting it exits: the secondary controls then turn
 * EPT and unrestricted guest off again.  Every switch flushes the VPID's
 * and the EPT's mappings.  The shadow MMU knows nothing of this but that
 * the vCPU asked for phys_root rather than root; this backend knows
 * nothing of how shadow pages work.
 */
/*
 * The secondary controls of @vmx: "enable VPID" only with a VPID, for VPID
 * 0 with it set fails every VM entry.
 */
static u32 vmx_proc2(const struct vmx_vcpu *vmx)
{
	return vmx_ctls.proc2 &
		~(vmx->vpid ? 0 : (u32)SECONDARY_EXEC_ENABLE_VPID);
}

static void vmx_shadow_hw(struct vmx_vcpu *vmx)
{
	struct mv_vcpu *vcpu = vmx->vcpu;
	bool paged = vmx->cr0 & X86_CR0_PG;
	unsigned long cr0 = vmx->cr0, cr4 = vmx->cr4;
	u64 efer = vmx->efer;
	u32 proc2 = vmx_proc2(vmx);

	if (paged) {
		u32 cs_ar = vmx_rd(vmx, GUEST_CS_AR_BYTES);

		/*
		 * A guest that set PE and PG from real mode still has a CS
		 * loaded there, a data segment to VMX, which only an
		 * unrestricted guest may have: make it the code segment it
		 * is used as (until the guest's far jump loads its own).
		 */
		if ((cs_ar & (VMCS_AR_UNUSABLE | VMCS_AR_S | 0x8)) == VMCS_AR_S)
			vmx_wr(vmx, GUEST_CS_AR_BYTES, cs_ar | 0xa);
		proc2 &= ~(SECONDARY_EXEC_ENABLE_EPT |
			   SECONDARY_EXEC_UNRESTRICTED_GUEST);
		cr0 |= X86_CR0_PG | X86_CR0_PE | X86_CR0_WP;
		cr4 = (cr4 | X86_CR4_PAE) & ~X86_CR4_PCIDE;
		efer |= EFER_NX;
		if (!(efer & EFER_LMA))
			efer &= ~EFER_LME;
	} else {
		vmx_wr(vmx, GUEST_CR3, vmx->cr3);
	}
	vmx_wr(vmx, SECONDARY_VM_EXEC_CONTROL, proc2);
	vmx_wr(vmx, CR0_READ_SHADOW, vmx->cr0);
	vmx_wr(vmx, GUEST_CR0, vmx_hw_cr0(cr0));
	vmx_wr(vmx, CR4_READ_SHADOW, vmx->cr4);
	vmx_wr(vmx, GUEST_CR4, vmx_hw_cr4(cr4));
	vmx_write_efer(vmx, efer);
	vmx->phys = !paged;
	vmx->flush = true;
	vcpu->vm->mmu->paging_changed(vcpu, true);
}

/* Is the guest in PAE paging outside long mode, for @cr0, @cr4, @efer? */
static bool vmx_pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/*
 * Reads the four PDPTEs CR3 points at in PAE paging, which VM entry loads
 * from the VMCS (the CPU itself only does it for the MOV to CR0, CR3 and
 * CR4 that do not exit).  May sleep.  Returns 0, or -EFAULT when no slot
 * holds them.
 */
static int vmx_read_pdptrs(struct mv_vcpu *vcpu, u64 cr3, u64 *pdpte)
{
	/* 32-byte aligned: the four never cross a page */
	if (mv_gmem_read(vcpu->vm, cr3 & 0xffffffe0ULL, pdpte,
			 4 * sizeof(u64)))
		return -EFAULT;
	return 0;
}

static void vmx_write_pdptrs(struct vmx_vcpu *vmx, const u64 *pdpte)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		vmx_wr(vmx, GUEST_PDPTR0 + 2 * i, pdpte[i]);
}

/* The architectural reset state (SDM vol. 3, 10.1.1); VMCS current. */
static void vmx_reset_guest(struct vmx_vcpu *vmx)
{
	u32 data = VMCS_AR_P | VMCS_AR_S | 0x3;
	unsigned int i;

	memset(vmx->regs, 0, sizeof(vmx->regs));
	mv_dr_reset(&vmx->dr);
	/* EDX holds the processor signature after reset */
	vmx->regs[2] = 0x600;
	vmx->rip = 0xfff0;
	vmx->rflags = X86_EFLAGS_FIXED;
	vmx->cr2 = 0;
	vmx->cr8 = 0;

	vmx_write_seg(vmx, SEG_CS, 0xf000, 0xffff0000, 0xffff,
		      VMCS_AR_P | VMCS_AR_S | 0xb);
	vmx_write_seg(vmx, SEG_DS, 0, 0, 0xffff, data);
	vmx_write_seg(vmx, SEG_ES, 0, 0, 0xffff, data);
	vmx_write_seg(vmx, SEG_SS, 0, 0, 0xffff, data);
	vmx_write_seg(vmx, SEG_FS, 0, 0, 0xffff, data);
	vmx_write_seg(vmx, SEG_GS, 0, 0, 0xffff, data);
	vmx_write_seg(vmx, SEG_LDTR, 0, 0, 0xffff, VMCS_AR_P | 0x2);
	vmx_write_seg(vmx, SEG_TR, 0, 0, 0xffff, VMCS_AR_P | 0xb);
	vmx_wr(vmx, GUEST_GDTR_BASE, 0);
	vmx_wr(vmx, GUEST_GDTR_LIMIT, 0xffff);
	vmx_wr(vmx, GUEST_IDTR_BASE, 0);
	vmx_wr(vmx, GUEST_IDTR_LIMIT, 0xffff);
	vmx_write_cr0(vmx, X86_CR0_ET | X86_CR0_CD | X86_CR0_NW);
	vmx_write_cr4(vmx, 0);
	vmx_wr(vmx, GUEST_CR3, 0);
	vmx_wr(vmx, GUEST_DR7, vmx->dr.dr7);
	vmx_wr(vmx, GUEST_RSP, 0);
	vmx_wr(vmx, GUEST_RIP, vmx->rip);
	vmx_wr(vmx, GUEST_RFLAGS, vmx->rflags);
	vmx_wr(vmx, GUEST_IA32_DEBUGCTL, 0);
	vmx_wr(vmx, GUEST_IA32_PAT, 0x0007040600070406ULL);
	vmx_write_efer(vmx, 0);
	vmx_wr(vmx, GUEST_SYSENTER_CS, 0);
	vmx_wr(vmx, GUEST_SYSENTER_ESP, 0);
	vmx_wr(vmx, GUEST_SYSENTER_EIP, 0);
	vmx_wr(vmx, GUEST_INTERRUPTIBILITY_INFO, 0);
	vmx_wr(vmx, GUEST_ACTIVITY_STATE, 0);
	vmx_wr(vmx, GUEST_PENDING_DBG_EXCEPTIONS, 0);
	for (i = 0; i < 4; i++)
		vmx_wr(vmx, GUEST_PDPTR0 + 2 * i, 0);
	vmx_wr(vmx, VM_ENTRY_INTR_INFO_FIELD, 0);
	for (i = 0; i < VMX_NR_SWITCHED; i++) {
		vmx->msrs->guest[i].index = vmx_switched_msrs[i];
		vmx->msrs->guest[i].value = 0;
	}
	mv_msr_reset(vmx->vcpu);
	/* the guest's TSC counts from about zero */
	vmx_wr(vmx, TSC_OFFSET, -rdtsc());
	vmx->flush = true;
	if (vmx->shadow) {
		vmx->cr0 = X86_CR0_ET | X86_CR0_CD | X86_CR0_NW;
		vmx->cr3 = 0;
		vmx->cr4 = 0;
		vmx->efer = 0;
		vmx_shadow_hw(vmx);
	}
}

/* The controls and the host state every CPU shares; VMCS current. */
static void vmx_init_vmcs(struct vmx_vcpu *vmx)
{
	u64 v;

	vmx_wr(vmx, PIN_BASED_VM_EXEC_CONTROL, vmx_ctls.pin);
	vmx_wr(vmx, CPU_BASED_VM_EXEC_CONTROL, vmx_ctls.proc |
	       (vmx->shadow ? vmx_ctls.shadow_proc : 0));
	vmx_wr(vmx, SECONDARY_VM_EXEC_CONTROL, vmx_proc2(vmx));
	vmx_wr(vmx, VM_EXIT_CONTROLS, vmx_ctls.exit);
	vmx_wr(vmx, VM_ENTRY_CONTROLS, vmx_ctls.entry);
	/*
	 * #DB, #AC and #MC always (kmod/exc.c); shadow paging: every #PF
	 * (the error-code mask and match are 0)
	 */
	vmx_wr(vmx, EXCEPTION_BITMAP, BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) |
	       BIT(X86_TRAP_MC) | (vmx->shadow ? BIT(X86_TRAP_PF) : 0));
	vmx_wr(vmx, PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmx_wr(vmx, PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmx_wr(vmx, CR3_TARGET_COUNT, 0);
	vmx_wr(vmx, CR0_GUEST_HOST_MASK, vmx_cr0_mask(vmx));
	vmx_wr(vmx, CR4_GUEST_HOST_MASK, vmx_cr4_mask(vmx));
	vmx_wr(vmx, MSR_BITMAP, __pa(vmx_msr_bitmap));
	/* the EPTP: from the MMU before every entry (vmx_load_mmu_root()) */
	vmx->eptp = 0;
	if (vmx->vpid)
		vmx_wr(vmx, VIRTUAL_PROCESSOR_ID, vmx->vpid);
	vmx_wr(vmx, VM_EXIT_MSR_STORE_ADDR, __pa(vmx->msrs->guest));
	vmx_wr(vmx, VM_EXIT_MSR_STORE_COUNT, VMX_NR_SWITCHED);
	vmx_wr(vmx, VM_ENTRY_MSR_LOAD_ADDR, __pa(vmx->msrs->guest));
	vmx_wr(vmx, VM_ENTRY_MSR_LOAD_COUNT, VMX_NR_SWITCHED);
	vmx_wr(vmx, VM_EXIT_MSR_LOAD_ADDR, __pa(vmx->msrs->host));
	vmx_wr(vmx, VM_EXIT_MSR_LOAD_COUNT, VMX_NR_SWITCHED);
	vmx_wr(vmx, VMCS_LINK_POINTER, ~0ULL);

	/* the VM exit comes back to the kernel's segments, at vmenter.S */
	vmx_wr(vmx, HOST_CS_SELECTOR, __KERNEL_CS);
	vmx_wr(vmx, HOST_SS_SELECTOR, __KERNEL_DS);
	vmx_wr(vmx, HOST_DS_SELECTOR, 0);
	vmx_wr(vmx, HOST_ES_SELECTOR, 0);
	vmx_wr(vmx, HOST_FS_SELECTOR, 0);
	vmx_wr(vmx, HOST_GS_SELECTOR, 0);
	vmx_wr(vmx, HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	vmx_wr(vmx, HOST_RIP, (unsigned long)mv_vmx_vmexit);
	rdmsrl(MSR_EFER, v);
	vmx_wr(vmx, HOST_IA32_EFER, v);
	rdmsrl(MSR_IA32_CR_PAT, v);
	vmx_wr(vmx, HOST_IA32_PAT, v);
	vmx_wr(vmx, HOST_FS_BASE, 0);
}

/*
 * A free VPID, or 0 when none is left: the vCPU then runs with "enable
 * VPID" clear (vmx_proc2()), where every VM entry and exit flushes the
 * linear and combined mappings of VPID 0 (SDM vol. 3, "Operations that
 * Invalidate Cached Mappings"); INVEPT still follows the vCPU to new CPUs.
 */
static int vmx_alloc_vpid(void)
{
	unsigned int nr = MV_NR_VPIDS;
	int vpid;

	if (vpid_limit && vpid_limit < MV_NR_VPIDS - 1)
		nr = vpid_limit + 1;
	spin_lock(&vmx_vpid_lock);
	vpid = find_first_zero_bit(vmx_vpids, nr);
	if (vpid < nr)
		__set_bit(vpid, vmx_vpids);
	else
		vpid = 0;
	spin_unlock(&vmx_vpid_lock);
	return vpid;
}

static void vmx_free_vpid(int vpid)
{
	if (!vpid)
		return;
	spin_lock(&vmx_vpid_lock);
	__clear_bit(vpid, vmx_vpids);
	spin_unlock(&vmx_vpid_lock);
}

static int vmx_vcpu_create(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx;
	int r;

	vmx = kzalloc(sizeof(*vmx), GFP_KERNEL_ACCOUNT);
	if (!vmx)
		return -ENOMEM;
	vmx->vcpu = vcpu;
	vmx->cpu = -1;
	INIT_LIST_HEAD(&vmx->link);
	vmx->vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vmx->msrs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	r = -ENOMEM;
	if (!vmx->vmcs || !vmx->msrs)
		goto fail;
	*(u32 *)vmx->vmcs = vmx_revision;
	vmx->vmcs_pa = __pa(vmx->vmcs);
	/* launch state clear before the first VMPTRLD */
	r = vmx_vmclear(vmx->vmcs_pa);
	if (r) {
		pr_err("minivisor: VMCLEAR of a new VMCS failed: %d\n", r);
		r = -EIO;
		goto fail;
	}
	if (vmx_ctls.vpid)
		vmx->vpid = vmx_alloc_vpid();
	vmx->shadow = mv_mmu_is_shadow(vcpu->vm);
	vcpu->priv = vmx;

	vmx_get(vcpu);
	vmx_init_vmcs(vmx);
	vmx_reset_guest(vmx);
	vmx_put();
	if (vmx->vmcs_failed) {
		r = -EIO;
		goto free_vpid;
	}
	return 0;

free_vpid:
	if (READ_ONCE(vmx->cpu) >= 0)
		smp_call_function_single(vmx->cpu, vmx_clear_ipi, vmx, 1);
	vmx_free_vpid(vmx->vpid);
	vcpu->priv = NULL;
fail:
	free_page((unsigned long)vmx->msrs);
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
	return r;
}

static void vmx_vcpu_free(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	int cpu = READ_ONCE(vmx->cpu);

	mv_spec_forget_vm(vcpu->vm);
	/* an offline CPU cleared it on its way down */
	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_clear_ipi, vmx, 1);
	vmx_free_vpid(vmx->vpid);
	free_page((unsigned long)vmx->msrs);
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
	vcpu->priv = NULL;
}

static void vmx_vcpu_load(struct mv_vcpu *vcpu, int cpu)
{
	vmx_load(vcpu->priv);
}

static void vmx_vcpu_put(struct mv_vcpu *vcpu)
{
}

static void vmx_get_regs(struct mv_vcpu *vcpu, struct kvm_regs *r)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	const unsigned long *g = vmx->regs;

	r->rax = g[0];
	r->rcx = g[1];
	r->rdx = g[2];
	r->rbx = g[3];
	r->rsp = g[4];
	r->rbp = g[5];
	r->rsi = g[6];
	r->rdi = g[7];
	r->r8 = g[8];
	r->r9 = g[9];
	r->r10 = g[10];
	r->r11 = g[11];
	r->r12 = g[12];
	r->r13 = g[13];
	r->r14 = g[14];
	r->r15 = g[15];
	r->rip = vmx->rip;
	r->rflags = vmx->rflags;
}

static void vmx_set_regs(struct mv_vcpu *vcpu, const struct kvm_regs *r)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	unsigned long *g = vmx->regs;

	g[0] = r->rax;
	g[1] = r->rcx;
	g[2] = r->rdx;
	g[3] = r->rbx;
	g[4] = r->rsp;
	g[5] = r->rbp;
	g[6] = r->rsi;
	g[7] = r->rdi;
	g[8] = r->r8;
	g[9] = r->r9;
	g[10] = r->r10;
	g[11] = r->r11;
	g[12] = r->r12;
	g[13] = r->r13;
	g[14] = r->r14;
	g[15] = r->r15;
	vmx->rip = r->rip;
	/* bit 1 is always 1 */
	vmx->rflags = r->rflags | X86_EFLAGS_FIXED;
	/* VM entry refuses blocking by STI with IF clear */
	if (!(vmx->rflags & X86_EFLAGS_IF)) {
		u32 intr;

		vmx_get(vcpu);
		intr = vmx_rd(vmx, GUEST_INTERRUPTIBILITY_INFO);
		if (intr & GUEST_INTR_STATE_STI)
			vmx_wr(vmx, GUEST_INTERRUPTIBILITY_INFO,
			       intr & ~GUEST_INTR_STATE_STI);
		vmx_put();
	}
}

static void vmx_read_seg(struct vmx_vcpu *vmx, enum vmx_seg s,
			 struct kvm_segment *k)
{
	u32 ar = vmx_rd(vmx, GUEST_ES_AR_BYTES + 2 * s);

	k->selector = vmx_rd(vmx, GUEST_ES_SELECTOR + 2 * s);
	k->base = vmx_rd(vmx, GUEST_ES_BASE + 2 * s);
	k->limit = vmx_rd(vmx, GUEST_ES_LIMIT + 2 * s);
	k->type = ar & VMCS_AR_TYPE_MASK;
	k->s = !!(ar & VMCS_AR_S);
	k->dpl = (ar >> VMCS_AR_DPL_SHIFT) & 3;
	k->present = !!(ar & VMCS_AR_P);
	k->avl = !!(ar & VMCS_AR_AVL);
	k->l = !!(ar & VMCS_AR_L);
	k->db = !!(ar & VMCS_AR_DB);
	k->g = !!(ar & VMCS_AR_G);
	k->unusable = !!(ar & VMCS_AR_UNUSABLE);
}

static void vmx_set_seg(struct vmx_vcpu *vmx, enum vmx_seg s,
			const struct kvm_segment *k)
{
	u32 ar = VMCS_AR_UNUSABLE;

	if (!k->unusable && k->present)
		ar = (k->type & VMCS_AR_TYPE_MASK) |
			(k->s ? VMCS_AR_S : 0) |
			((k->dpl & 3) << VMCS_AR_DPL_SHIFT) | VMCS_AR_P |
			(k->avl ? VMCS_AR_AVL : 0) |
			(k->l ? VMCS_AR_L : 0) |
			(k->db ? VMCS_AR_DB : 0) |
			(k->g ? VMCS_AR_G : 0);
	vmx_write_seg(vmx, s, k->selector, k->base, k->limit, ar);
}

static void vmx_get_sregs(struct mv_vcpu *vcpu, struct kvm_sregs *sr)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);

	vmx_read_seg(vmx, SEG_CS, &sr->cs);
	vmx_read_seg(vmx, SEG_DS, &sr->ds);
	vmx_read_seg(vmx, SEG_ES, &sr->es);
	vmx_read_seg(vmx, SEG_FS, &sr->fs);
	vmx_read_seg(vmx, SEG_GS, &sr->gs);
	vmx_read_seg(vmx, SEG_SS, &sr->ss);
	vmx_read_seg(vmx, SEG_TR, &sr->tr);
	vmx_read_seg(vmx, SEG_LDTR, &sr->ldt);
	sr->gdt.base = vmx_rd(vmx, GUEST_GDTR_BASE);
	sr->gdt.limit = vmx_rd(vmx, GUEST_GDTR_LIMIT);
	sr->idt.base = vmx_rd(vmx, GUEST_IDTR_BASE);
	sr->idt.limit = vmx_rd(vmx, GUEST_IDTR_LIMIT);
	sr->cr0 = vmx_read_cr0(vmx);
	sr->cr2 = vmx->cr2;
	sr->cr3 = vmx_rd(vmx, GUEST_CR3);
	sr->cr4 = vmx_read_cr4(vmx);
	sr->cr8 = vmx->cr8;
	sr->efer = vmx_rd(vmx, GUEST_IA32_EFER);
	if (vmx->shadow) {
		sr->cr0 = vmx->cr0;
		sr->cr3 = vmx->cr3;
		sr->cr4 = vmx->cr4;
		sr->efer = vmx->efer;
	}
	sr->apic_base = vcpu->apic_base;
	vmx_put();
}

/*
 * The checks KVM makes on KVM_SET_SREGS (kmod/cr.c's) and a CR4 VMX
 * operation allows; VM entry checks the rest.
 */
static bool vmx_sregs_valid(const struct mv_vcpu *vcpu,
			    const struct kvm_sregs *sr)
{
	if (sr->cr8 > 15)
		return false;
	if (sr->cr4 & ~vmx_cr4_fixed1)
		return false;
	return mv_vcpu_sregs_valid(vcpu, sr);
}

static void vmx_queued_error_follows_pe(struct vmx_vcpu *vmx);

static int vmx_set_sregs(struct mv_vcpu *vcpu, const struct kvm_sregs *sr)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	bool pae = !vmx->shadow && vmx_pae_paging(sr->cr0, sr->cr4, sr->efer);
	u64 pdpte[4] = { };

	if (!vmx_sregs_valid(vcpu, sr))
		return mv_fail(-EINVAL);
	/*
	 * As KVM: PAE paging needs the PDPTEs where CR3 says.  Under shadow
	 * paging the MMU loads them with the root.
	 */
	if (pae && vmx_read_pdptrs(vcpu, sr->cr3, pdpte))
		return mv_fail(-EINVAL);

	vmx = vmx_get(vcpu);
	if (pae)
		vmx_write_pdptrs(vmx, pdpte);
	vmx_set_seg(vmx, SEG_CS, &sr->cs);
	vmx_set_seg(vmx, SEG_DS, &sr->ds);
	vmx_set_seg(vmx, SEG_ES, &sr->es);
	vmx_set_seg(vmx, SEG_FS, &sr->fs);
	vmx_set_seg(vmx, SEG_GS, &sr->gs);
	vmx_set_seg(vmx, SEG_SS, &sr->ss);
	vmx_set_seg(vmx, SEG_TR, &sr->tr);
	vmx_set_seg(vmx, SEG_LDTR, &sr->ldt);
	vmx_wr(vmx, GUEST_GDTR_BASE, sr->gdt.base);
	vmx_wr(vmx, GUEST_GDTR_LIMIT, sr->gdt.limit);
	vmx_wr(vmx, GUEST_IDTR_BASE, sr->idt.base);
	vmx_wr(vmx, GUEST_IDTR_LIMIT, sr->idt.limit);
	if (vmx->shadow) {
		vmx->cr0 = sr->cr0;
		vmx->cr3 = sr->cr3;
		vmx->cr4 = sr->cr4;
		vmx->efer = sr->efer;
		vmx_shadow_hw(vmx);
	} else {
		vmx_write_cr0(vmx, sr->cr0);
		vmx_write_cr4(vmx, sr->cr4);
		vmx_wr(vmx, GUEST_CR3, sr->cr3);
		vmx_write_efer(vmx, sr->efer);
	}
	vmx_queued_error_follows_pe(vmx);
	vmx->cr2 = sr->cr2;
	vmx->cr8 = sr->cr8;
	vcpu->apic_base = sr->apic_base;
	/* new paging state: no mapping of the old one may survive */
	vmx->flush = true;
	vmx_put();
	return 0;
}

/* Where one of vmx_switched_msrs is kept for the guest, or NULL. */
static struct vmx_msr_entry *vmx_guest_msr(struct vmx_vcpu *vmx, u32 index)
{
	unsigned int i;

	for (i = 0; i < VMX_NR_SWITCHED; i++)
		if (vmx_switched_msrs[i] == index)
			return &vmx->msrs->guest[i];
	return NULL;
}

static int vmx_get_msr(struct mv_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmx_msr_entry *e;
	struct vmx_vcpu *vmx;
	int r = 0;

	vmx = vmx_get(vcpu);
	e = vmx_guest_msr(vmx, index);
	if (e) {
		*data = e->value;
		goto out;
	}
	switch (index) {
	case MSR_IA32_SYSENTER_CS:
		*data = vmx_rd(vmx, GUEST_SYSENTER_CS);
		break;
	case MSR_IA32_SYSENTER_ESP:
		*data = vmx_rd(vmx, GUEST_SYSENTER_ESP);
		break;
	case MSR_IA32_SYSENTER_EIP:
		*data = vmx_rd(vmx, GUEST_SYSENTER_EIP);
		break;
	case MSR_FS_BASE:
		*data = vmx_rd(vmx, GUEST_FS_BASE);
		break;
	case MSR_GS_BASE:
		*data = vmx_rd(vmx, GUEST_GS_BASE);
		break;
	case MSR_EFER:
		*data = vmx->shadow ? vmx->efer : vmx_rd(vmx, GUEST_IA32_EFER);
		break;
	case MSR_IA32_TSC:
		*data = rdtsc() + vmx_rd(vmx, TSC_OFFSET);
		break;
	case MSR_IA32_CR_PAT:
		*data = vmx_rd(vmx, GUEST_IA32_PAT);
		break;
	default:
		r = -EINVAL;
	}
out:
	vmx_put();
	return r;
}

static int vmx_set_msr_locked(struct vmx_vcpu *vmx, u32 index, u64 data)
{
	struct vmx_msr_entry *e = vmx_guest_msr(vmx, index);

	if (e) {
		e->value = data;
		return 0;
	}
	switch (index) {
	case MSR_IA32_SYSENTER_CS:
		vmx_wr(vmx, GUEST_SYSENTER_CS, data);
		break;
	case MSR_IA32_SYSENTER_ESP:
		vmx_wr(vmx, GUEST_SYSENTER_ESP, data);
		break;
	case MSR_IA32_SYSENTER_EIP:
		vmx_wr(vmx, GUEST_SYSENTER_EIP, data);
		break;
	case MSR_FS_BASE:
		vmx_wr(vmx, GUEST_FS_BASE, data);
		break;
	case MSR_GS_BASE:
		vmx_wr(vmx, GUEST_GS_BASE, data);
		break;
	case MSR_IA32_TSC:
		vmx_wr(vmx, TSC_OFFSET, data - rdtsc());
		break;
	case MSR_IA32_CR_PAT:
		vmx_wr(vmx, GUEST_IA32_PAT, data);
		break;
	case MSR_EFER:
		if (vmx->shadow) {
			vmx->efer = data;
			vmx_shadow_hw(vmx);
		} else {
			vmx_write_efer(vmx, data);
		}
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* The set_msr op: the value is checked (kmod/msr.c); store it */
static int vmx_set_msr(struct mv_vcpu *vcpu, u32 index, u64 data)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);
	int r = vmx_set_msr_locked(vmx, index, data);

	vmx_put();
	return r;
}

/* The get_cr0 op: the guest's CR0, as it reads it */
static u64 vmx_get_cr0(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);
	u64 cr0 = vmx_read_cr0(vmx);

	vmx_put();
	return cr0;
}

static bool vmx_guest_pe(struct vmx_vcpu *vmx)
{
	return vmx_read_cr0(vmx) & X86_CR0_PE;
}

/* The exceptions that push an error code in protected mode */
static bool vmx_exc_has_error(u8 vector)
{
	switch (vector) {
	case X86_TRAP_DF:
	case X86_TRAP_TS:
	case X86_TRAP_NP:
	case X86_TRAP_SS:
	case X86_TRAP_GP:
	case X86_TRAP_PF:
	case X86_TRAP_AC:
	case X86_TRAP_CP:
		return true;
	default:
		return false;
	}
}

/* Queues a hardware exception for the next entry; VMCS current. */
static void vmx_inject(struct vmx_vcpu *vmx, u8 vector, bool has_error,
		       u32 error)
{
	u32 info = vector | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_VALID_MASK;

	/* real mode pushes no error code, and VM entry refuses one */
	if (has_error)
		vmx_wr(vmx, VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	if (has_error && vmx_guest_pe(vmx))
		info |= INTR_INFO_DELIVER_CODE_MASK;
	vmx_wr(vmx, VM_ENTRY_INTR_INFO_FIELD, info);
}

/*
 * KVM_SET_SREGS may change CR0.PE under an exception queued for the next
 * entry (one whose delivery the last exit interrupted): VM entry refuses
 * an error code in real mode, and wants one for these vectors in
 * protected mode.  Whether it is pushed follows the new mode, as KVM
 * decides it when it injects.  VMCS current.
 */
static void vmx_queued_error_follows_pe(struct vmx_vcpu *vmx)
{
	u32 info = vmx_rd(vmx, VM_ENTRY_INTR_INFO_FIELD);
	u32 code = 0;

	if ((info & (INTR_INFO_VALID_MASK | INTR_INFO_INTR_TYPE_MASK)) !=
	    (INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION))
		return;
	if (vmx_guest_pe(vmx) &&
	    vmx_exc_has_error(info & INTR_INFO_VECTOR_MASK))
		code = INTR_INFO_DELIVER_CODE_MASK;
	if ((info & INTR_INFO_DELIVER_CODE_MASK) != code)
		vmx_wr(vmx, VM_ENTRY_INTR_INFO_FIELD,
		       (info & ~INTR_INFO_DELIVER_CODE_MASK) | code);
}

/* The inject_exception op: a #PF also sets CR2, as the hardware would. */
static void vmx_queue_exception(struct mv_vcpu *vcpu, u8 vector,
				bool has_error, u32 error, u64 cr2)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);

	if (vector == X86_TRAP_PF)
		vmx->cr2 = cr2;
	vmx_inject(vmx, vector, has_error, error);
	vmx_put();
}

/*
 * The queued_event op: what the VM-entry interruption information holds
 * (the event whose delivery the exit interrupted, queued again after the
 * exit, or one injected since).
 */
static bool vmx_queued_event(struct mv_vcpu *vcpu, struct mv_event *ev,
			     bool take)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);
	u32 info = vmx_rd(vmx, VM_ENTRY_INTR_INFO_FIELD);
	bool valid = info & INTR_INFO_VALID_MASK;

	if (valid) {
		ev->vector = info & INTR_INFO_VECTOR_MASK;
		switch (info & INTR_INFO_INTR_TYPE_MASK) {
		case INTR_TYPE_EXT_INTR:
			ev->type = MV_EVENT_EXT_INTR;
			break;
		case INTR_TYPE_NMI_INTR:
			ev->type = MV_EVENT_NMI;
			break;
		case INTR_TYPE_HARD_EXCEPTION:
			ev->type = MV_EVENT_EXCEPTION;
			break;
		default:
			ev->type = MV_EVENT_SOFT;
			break;
		}
		ev->has_error = info & INTR_INFO_DELIVER_CODE_MASK;
		ev->error = ev->has_error ?
			vmx_rd(vmx, VM_ENTRY_EXCEPTION_ERROR_CODE) : 0;
		if (take)
			vmx_wr(vmx, VM_ENTRY_INTR_INFO_FIELD, 0);
	}
	vmx_put();
	return valid;
}

/* ---------------------------------------------------------------- exits */

/*
 * The exit handlers run with preemption on, the vCPU loaded: when the
 * thread moves, the preempt notifier loads the VMCS on the new CPU, so
 * VMREAD and VMWRITE reach it.  Each returns what vcpu_run() returns.
 */

/*
 * The deliver_db op: a #DB as the CPU raises one, DR6 and DR7 updated
 * (kmod/exc.c); DR7 is the VMCS's.
 */
static void vmx_deliver_db(struct mv_vcpu *vcpu, unsigned long payload)
{
	struct vmx_vcpu *vmx = vcpu->priv;

	mv_dr_deliver_db(&vmx->dr, payload);
	vmx_wr(vmx, GUEST_DR7, vmx->dr.dr7);
	mv_inject_exception(vcpu, X86_TRAP_DB, false, 0, 0);
}

/* Past the instruction the exit stopped at, without its single step */
static void vmx_skip_insn(struct vmx_vcpu *vmx)
{
	u32 intr = vmx_rd(vmx, GUEST_INTERRUPTIBILITY_INFO);

	vmx->rip += vmx_rd(vmx, VM_EXIT_INSTRUCTION_LEN);
	/* the instruction completed: its breakpoints count again */
	vmx->rflags &= ~X86_EFLAGS_RF;
	/* the blocking by STI or MOV SS ends with the instruction */
	if (intr & INTR_BLOCK_STI_MOVSS)
		vmx_wr(vmx, GUEST_INTERRUPTIBILITY_INFO,
		       intr & ~INTR_BLOCK_STI_MOVSS);
}

/* Past the instruction the exit stopped at, done here; its single step. */
static void vmx_skip(struct vmx_vcpu *vmx)
{
	unsigned long rflags = vmx->rflags;

	vmx_skip_insn(vmx);
	mv_single_step(vmx->vcpu, rflags);
}

static int vmx_exit_internal(struct mv_vcpu *vcpu, u32 reason, u32 suberror)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	const u64 data[4] = {
		reason,
		vmx_rd(vmx, EXIT_QUALIFICATION),
		vmx_rd(vmx, VM_EXIT_INTR_INFO),
		vmx_rd(vmx, IDT_VECTORING_INFO_FIELD),
	};

	return mv_exit_internal(vcpu, suberror, data, ARRAY_SIZE(data));
}

static int vmx_handle_io(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	u64 q = vmx_rd(vmx, EXIT_QUALIFICATION);
	struct mv_io_exit io = {
		.port = q >> 16,
		.size = (q & 7) + 1,
		.in = q & BIT(3),
		.string = q & BIT(4),
		.insn_len = vmx_rd(vmx, VM_EXIT_INSTRUCTION_LEN),
	};

	return mv_exit_io(vcpu, &io);
}

static int vmx_handle_ept_violation(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	u64 q = vmx_rd(vmx, EXIT_QUALIFICATION);

	return mv_exit_tdp_fault(vcpu, vmx_rd(vmx, GUEST_PHYSICAL_ADDRESS),
				 q & BIT(1));
}

/*
 * MOV to CR0, as the CPU would do it with kmod/cr.c's rules; 0, or -EINVAL
 * for a #GP.
 */
static int vmx_mov_to_cr0(struct mv_vcpu *vcpu, unsigned long val)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	unsigned long old = vmx_read_cr0(vmx);
	unsigned long cr4 = vmx_read_cr4(vmx);
	u64 efer = vmx_rd(vmx, GUEST_IA32_EFER), lma = efer;
	bool cs_l = vmx_rd(vmx, GUEST_CS_AR_BYTES) & VMCS_AR_L;
	u64 v = val, pdpte[4];

	/* kmod/cr.c's rules; entering or leaving long mode changes LMA */
	if (!mv_cr0_load(old, cr4, &lma, cs_l, &v))
		return -EINVAL;
	val = v;
	if (lma != efer) {
		vmx_write_efer(vmx, lma);
	} else if (!(old & X86_CR0_PG) && vmx_pae_paging(val, cr4, efer)) {
		/* a PDPTE the guest cannot have: #GP, as on the CPU */
		if (vmx_read_pdptrs(vcpu, vmx_rd(vmx, GUEST_CR3), pdpte))
			return -EINVAL;
		vmx_write_pdptrs(vmx, pdpte);
	}
	vmx_write_cr0(vmx, val);
	vmx->flush_vpid = true;
	return 0;
}

/*
 * MOV to CR4 (of a bit the host owns), as the CPU would do it, with
 * kmod/cr.c's rules; 0, or -EINVAL for a #GP.
 */
static int vmx_mov_to_cr4(struct mv_vcpu *vcpu, unsigned long val)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	unsigned long old = vmx_read_cr4(vmx);
	u64 cr3 = vmx_rd(vmx, GUEST_CR3);
	u64 efer = vmx_rd(vmx, GUEST_IA32_EFER);
	u64 pdpte[4];

	if (val & ~vmx_cr4_fixed1)
		return -EINVAL;
	if (!mv_cr4_load_valid(vcpu->cr_feat, cr3, old, efer, val))
		return -EINVAL;
	/* PAE paging: a change of these reloads the PDPTEs (SDM 4.4.1) */
	if (vmx_pae_paging(vmx_read_cr0(vmx), val, efer) &&
	    ((val ^ old) & (X86_CR4_PGE | X86_CR4_PSE | X86_CR4_PAE |
			    X86_CR4_SMEP))) {
		if (vmx_read_pdptrs(vcpu, cr3, pdpte))
			return -EINVAL;
		vmx_write_pdptrs(vmx, pdpte);
	}
	vmx_write_cr4(vmx, val);
	vmx->flush_vpid = true;
	return 0;
}

static int vmx_handle_cr(struct mv_vcpu *vcpu, u32 reason)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	u64 q = vmx_rd(vmx, EXIT_QUALIFICATION);
	unsigned int cr = q & 15, type = (q >> 4) & 3, gpr = (q >> 8) & 15;
	unsigned long val = vmx->regs[gpr];
	int r = 0;

	/*
	 * Shadow paging: CR0, CR3 and CR4 accesses, CLTS and LMSW are the
	 * shadow MMU's business, done as on SVM (the checks are there).
	 */
	if (vmx->shadow && (cr != 8 || type > 1))
		return mv_exit_cr_insn(vcpu);

	if (type == 0) {		/* MOV to CR */
		switch (cr) {
		case 0:
			r = vmx_mov_to_cr0(vcpu, val);
			break;
		case 3:
			vmx_wr(vmx, GUEST_CR3, val);
			break;
		case 4:
			r = vmx_mov_to_cr4(vcpu, val);
			break;
		case 8:
			if (val > 15)
				r = -EINVAL;
			else
				vmx->cr8 = val;
			break;
		default:
			return vmx_exit_internal(vcpu, reason,
				KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
		}
	} else if (type == 1) {		/* MOV from CR */
		if (cr == 3)
			vmx->regs[gpr] = vmx_rd(vmx, GUEST_CR3);
		else if (cr == 8)
			vmx->regs[gpr] = vmx->cr8;
		else
			return vmx_exit_internal(vcpu, reason,
				KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
	} else {
		/* CLTS and LMSW touch no bit we own */
		return vmx_exit_internal(vcpu, reason,
				KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
	}
	if (r)
		vmx_inject(vmx, X86_TRAP_GP, true, 0);
	else
		vmx_skip(vmx);
	return 1;
}

/*
 * MOV to and from DR0-DR7, carried out on vmx->dr (kmod/exc.c).  The CPU
 * checked the CPL, and DR7.GD, before the exit.
 */
static int vmx_handle_dr(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	u64 q = vmx_rd(vmx, EXIT_QUALIFICATION);
	unsigned int dr = q & 7, gpr = (q >> 8) & 15;
	bool write = !(q & BIT(4));
	bool wide = vmx_rd(vmx, GUEST_CS_AR_BYTES) & VMCS_AR_L;
	unsigned long val = wide ? vmx->regs[gpr] : (u32)vmx->regs[gpr];
	int r;

	r = mv_dr_mov(&vmx->dr, dr, write, &val,
		      vmx_read_cr4(vmx) & X86_CR4_DE);
	vmx_wr(vmx, GUEST_DR7, vmx->dr.dr7);
	if (r) {
		mv_inject_exception(vcpu, r, r == X86_TRAP_GP, 0, 0);
		return 1;
	}
	if (!write)
		vmx->regs[gpr] = wide ? val : (u32)val;
	vmx_skip(vmx);
	return 1;
}

/*
 * The exceptions every guest has intercepted, given back to it: a #DB
 * with the DR6 bits of the exit qualification (the exit left DR6 as it
 * was), after the INT1 that raised it if one did; an #AC with its error
 * code, RF set as for any fault.  A #MC went to the host's handler
 * already (vmx_exit_irqoff()).
 */
static int vmx_handle_exception(struct mv_vcpu *vcpu, u32 info, u32 reason)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	u32 intr;

	switch (info & INTR_INFO_VECTOR_MASK) {
	case X86_TRAP_DB:
		intr = vmx_rd(vmx, GUEST_INTERRUPTIBILITY_INFO);
		if ((info & INTR_INFO_INTR_TYPE_MASK) ==
		    INTR_TYPE_PRIV_SW_EXCEPTION) {
			/* INT1: the exit comes before it; no step of its own */
			vmx_skip_insn(vmx);
		} else if ((vmx->rflags & X86_EFLAGS_TF) &&
			   (intr & INTR_BLOCK_STI_MOVSS)) {
			/*
			 * A #DB in the shadow of MOV SS (a data breakpoint
			 * on POP SS's operand): the single step it defers is
			 * still due, but this exit did not record it.  VM
			 * entry requires it pending with TF set and the
			 * blocking on (SDM vol. 3, 27.3.1.5).
			 */
			vmx_wr(vmx, GUEST_PENDING_DBG_EXCEPTIONS,
			       vmx_rd(vmx, GUEST_PENDING_DBG_EXCEPTIONS) |
			       MV_DR6_BS);
		}
		vmx_deliver_db(vcpu, vmx_rd(vmx, EXIT_QUALIFICATION));
		return 1;
	case X86_TRAP_AC:
		vmx->rflags |= X86_EFLAGS_RF;
		mv_inject_exception(vcpu, X86_TRAP_AC, true,
				    vmx_rd(vmx, VM_EXIT_INTR_ERROR_CODE), 0);
		return 1;
	case X86_TRAP_MC:
		return 1;
	}
	return vmx_exit_internal(vcpu, reason,
				 KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
}

/* RDMSR and WRMSR: the MSRs mv_msr_known() lists, a #GP for the rest. */
static int vmx_handle_msr(struct mv_vcpu *vcpu, bool write)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	u32 index = vmx->regs[1];
	u64 data;
	int r;

	if (write) {
		data = (u32)vmx->regs[0] | (vmx->regs[2] << 32);
		r = mv_msr_set(vcpu, index, data, false);
	} else {
		r = mv_msr_get(vcpu, index, &data, false);
		if (!r) {
			vmx->regs[0] = (u32)data;
			vmx->regs[2] = data >> 32;
		}
	}
	if (r)
		vmx_inject(vmx, X86_TRAP_GP, true, 0);
	else
		vmx_skip(vmx);
	return 1;
}

static int vmx_handle_cpuid(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	u32 eax = vmx->regs[0], ebx, ecx = vmx->regs[1], edx;

	mv_cpuid_emulate(vcpu, &eax, &ebx, &ecx, &edx);
	vmx->regs[0] = eax;
	vmx->regs[1] = ecx;
	vmx->regs[2] = edx;
	vmx->regs[3] = ebx;
	vmx_skip(vmx);
	return 1;
}

/*
 * An event the guest was being delivered when the exit came (an EPT
 * violation on its IDT or stack, say) is delivered again on the next entry.
 */
static void vmx_redeliver(struct vmx_vcpu *vmx)
{
	u32 info = vmx_rd(vmx, IDT_VECTORING_INFO_FIELD);
	u32 type = info & INTR_INFO_INTR_TYPE_MASK;

	if (!(info & INTR_INFO_VALID_MASK))
		return;
	if (info & INTR_INFO_DELIVER_CODE_MASK)
		vmx_wr(vmx, VM_ENTRY_EXCEPTION_ERROR_CODE,
		       vmx_rd(vmx, IDT_VECTORING_ERROR_CODE));
	if (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_SOFT_EXCEPTION ||
	    type == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmx_wr(vmx, VM_ENTRY_INSTRUCTION_LEN,
		       vmx_rd(vmx, VM_EXIT_INSTRUCTION_LEN));
	vmx_wr(vmx, VM_ENTRY_INTR_INFO_FIELD, info & ~INTR_INFO_RESVD_BITS_MASK);
}

static int vmx_fail_entry(struct mv_vcpu *vcpu, u64 reason)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = reason;
	run->fail_entry.cpu = vcpu->cpu;
	return 0;
}

static int vmx_handle_exit(struct mv_vcpu *vcpu, u32 reason)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	struct kvm_run *run = vcpu->run;

	if (reason & VMX_EXIT_REASONS_FAILED_VMENTRY)
		return vmx_fail_entry(vcpu, reason);

	switch (reason & 0xffff) {
	case EXIT_REASON_EXCEPTION_NMI: {
		u32 info = vmx_rd(vmx, VM_EXIT_INTR_INFO);

		/* NMIs went to the host already */
		if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
			return 1;
		/* #PF, under shadow paging */
		if (vmx->shadow &&
		    (info & (INTR_INFO_INTR_TYPE_MASK | INTR_INFO_VECTOR_MASK)) ==
		    (INTR_TYPE_HARD_EXCEPTION | X86_TRAP_PF))
			return mv_exit_guest_pf(vcpu,
					vmx_rd(vmx, EXIT_QUALIFICATION),
					vmx_rd(vmx, VM_EXIT_INTR_ERROR_CODE));
		return vmx_handle_exception(vcpu, info, reason);
	}
	case EXIT_REASON_EXTERNAL_INTERRUPT:
	case EXIT_REASON_INIT_SIGNAL:
	case EXIT_REASON_SIPI_SIGNAL:
		/* the host took the interrupt once interrupts were back on */
		return 1;
	case EXIT_REASON_TRIPLE_FAULT:
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case EXIT_REASON_CPUID:
		return vmx_handle_cpuid(vcpu);
	case EXIT_REASON_HLT:
		/* no in-kernel local APIC: userspace decides what HLT means */
		vmx_skip(vmx);
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	case EXIT_REASON_INVLPG:
		/* the qualification is the linear address; shadow paging only */
		vcpu->vm->mmu->invlpg(vcpu, vmx_rd(vmx, EXIT_QUALIFICATION));
		vmx_skip(vmx);
		return 1;
	case EXIT_REASON_INVD:
	case EXIT_REASON_WBINVD:
	case EXIT_REASON_PAUSE_INSTRUCTION:
		vmx_skip(vmx);
		return 1;
	case EXIT_REASON_RDPMC:
		/* the guest has no performance counters */
		vmx_inject(vmx, X86_TRAP_GP, true, 0);
		return 1;
	case EXIT_REASON_VMCALL:
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMPTRST:
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMRESUME:
	case EXIT_REASON_VMWRITE:
	case EXIT_REASON_VMOFF:
	case EXIT_REASON_VMON:
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID:
	case EXIT_REASON_VMFUNC:
	case EXIT_REASON_MWAIT_INSTRUCTION:
	case EXIT_REASON_MONITOR_INSTRUCTION:
	case EXIT_REASON_RDTSCP:
		vmx_inject(vmx, X86_TRAP_UD, false, 0);
		return 1;
	case EXIT_REASON_XSETBV:
		/* the CPL is SS.DPL, bits 6:5 of its access rights */
		return mv_exit_xsetbv(vcpu,
				      (vmx_rd(vmx, GUEST_SS_AR_BYTES) >> 5) & 3,
				      vmx_rd(vmx, VM_EXIT_INSTRUCTION_LEN));
	case EXIT_REASON_CR_ACCESS:
		return vmx_handle_cr(vcpu, reason);
	case EXIT_REASON_DR_ACCESS:
		return vmx_handle_dr(vcpu);
	case EXIT_REASON_IO_INSTRUCTION:
		return vmx_handle_io(vcpu);
	case EXIT_REASON_MSR_READ:
		return vmx_handle_msr(vcpu, false);
	case EXIT_REASON_MSR_WRITE:
		return vmx_handle_msr(vcpu, true);
	case EXIT_REASON_EPT_VIOLATION:
		return vmx_handle_ept_violation(vcpu);
	case EXIT_REASON_EPT_MISCONFIG:
		/* a bug in our tables: say so, do not loop on it */
		pr_err_ratelimited("minivisor: vCPU %u: EPT misconfiguration at %#llx\n",
				   vcpu->id,
				   vmx_rd(vmx, GUEST_PHYSICAL_ADDRESS));
		return vmx_exit_internal(vcpu, reason,
				KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
	}
	return vmx_exit_internal(vcpu, reason,
				 KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
}

/* ------------------------------------------------------ the world switch */

/*
 * The host state of the vCPU thread that a VM exit does not give back:
 * segment selectors, their bases, LDTR, DEBUGCTL (the debug registers:
 * mv_dr_exit_irqoff()).
 */
struct vmx_host_save {
	u16 ds, es, fs, gs, ldt;
	unsigned long fs_base, kernel_gs_base;
	u64 debugctl;
};

static void vmx_save_host(struct vmx_vcpu *vmx, struct vmx_host_save *h)
{
	unsigned long fs_base, cr3 = __read_cr3(), cr4 = cr4_read_shadow();

	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	asm volatile("sldt %0" : "=g" (h->ldt));
	rdmsrl(MSR_FS_BASE, fs_base);
	h->fs_base = fs_base;
	rdmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	vmx->msrs->host[VMX_KGS_SLOT].value = h->kernel_gs_base;
	rdmsrl(MSR_IA32_DEBUGCTLMSR, h->debugctl);

	if (cr3 != vmx->host_cr3) {
		vmx_wr(vmx, HOST_CR3, cr3);
		vmx->host_cr3 = cr3;
	}
	if (cr4 != vmx->host_cr4) {
		vmx_wr(vmx, HOST_CR4, cr4);
		vmx->host_cr4 = cr4;
	}
	if (fs_base != vmx->host_fs_base) {
		vmx_wr(vmx, HOST_FS_BASE, fs_base);
		vmx->host_fs_base = fs_base;
	}
}

static void vmx_restore_host(const struct vmx_host_save *h, int cpu)
{
	/* a VM exit leaves the GDT limit at 0xffff and the TSS's at 0x67 */
	load_fixmap_gdt(cpu);
	invalidate_tss_limit();
	if (h->ldt)
		asm volatile("lldt %0" : : "rm" (h->ldt));
	if (h->ds)
		loadsegment(ds, h->ds);
	if (h->es)
		loadsegment(es, h->es);
	if (h->fs) {
		loadsegment(fs, h->fs);
		wrmsrl(MSR_FS_BASE, h->fs_base);
	}
	if (h->gs) {
		load_gs_index(h->gs);
		wrmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	}
	if (h->debugctl)
		wrmsrl(MSR_IA32_DEBUGCTLMSR, h->debugctl);
}

/* Flushes what the vCPU may not use on this CPU; interrupts off. */
static void vmx_flush(struct vmx_vcpu *vmx)
{
	u64 eptp = vmx->eptp;
	int r;

	if (vmx->flush) {
		/*
		 * guest-physical and combined mappings of the VM's tables:
		 * none are cached under an EPTP never loaded
		 */
		if (eptp || !vmx_ctls.invept_single) {
			r = vmx_invept(vmx_ctls.invept_single ?
				       VMX_EPT_EXTENT_CONTEXT :
				       VMX_EPT_EXTENT_GLOBAL, eptp);
			if (r)
				vmx_failed(vmx, "INVEPT", (unsigned long)eptp,
					   r);
		}
		vmx->flush_vpid = true;
		vmx->flush = false;
	}
	if (vmx->flush_vpid && vmx->vpid) {
		r = vmx_invvpid(VMX_VPID_EXTENT_SINGLE_CONTEXT, vmx->vpid);
		if (r)
			vmx_failed(vmx, "INVVPID", vmx->vpid, r);
	}
	vmx->flush_vpid = false;
}

/*
 * Right after the exit, interrupts still off: a machine check the guest
 * took (or one during the entry) goes to the host's handler now, as if it
 * had come in the host.
 */
static void vmx_exit_irqoff(struct vmx_vcpu *vmx, u32 reason)
{
	u32 info;

	if ((reason & 0xffff) == EXIT_REASON_MCE_DURING_VMENTRY) {
		mv_machine_check_irqoff();
		return;
	}
	if ((reason & 0xffff) != EXIT_REASON_EXCEPTION_NMI)
		return;
	info = vmx_rd(vmx, VM_EXIT_INTR_INFO);
	if ((info & (INTR_INFO_VALID_MASK | INTR_INFO_INTR_TYPE_MASK |
		     INTR_INFO_VECTOR_MASK)) ==
	    (INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION | X86_TRAP_MC))
		mv_machine_check_irqoff();
}

/* The flush_tlb op: the next entry flushes (vmx_flush()). */
static void vmx_flush_tlb(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;

	vmx->flush = true;
}

/*
 * The load_mmu_root op: the EPTP for second-level tables (in TDP mode, or
 * in shadow mode with paging off: vmx_shadow_on_tdp()), else the CR3 the
 * hardware uses in place of the guest's.
 */
static void vmx_load_mmu_root(struct mv_vcpu *vcpu, u64 root, bool tdp)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	u64 eptp = root | VMX_EPTP_PWL_4 | VMX_EPTP_MT_WB;

	if (vmx->vmcs_failed)
		return;
	if (!tdp) {
		vmx_wr(vmx, GUEST_CR3, root);
	} else if (eptp != vmx->eptp) {
		vmx_wr(vmx, EPT_POINTER, eptp);
		vmx->eptp = eptp;
	}
}

/* The shadow_on_tdp op: a guest with paging off runs on EPT. */
static bool vmx_shadow_on_tdp(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;

	return vmx->phys;
}

static int vmx_vcpu_run(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	struct vmx_host_save host;
	bool dr_loaded;
	u32 reason = 0;
	int cpu, r;

	preempt_disable();
	vmx_load(vmx);
	if (vmx->vmcs_failed) {
		preempt_enable();
		return mv_fail(-EIO);
	}
	vmx_wr(vmx, GUEST_RSP, vmx->regs[4]);
	vmx_wr(vmx, GUEST_RIP, vmx->rip);
	vmx_wr(vmx, GUEST_RFLAGS, vmx->rflags);

	local_irq_disable();
	if (!mv_vcpu_enter_irqoff(vcpu)) {
		local_irq_enable();
		preempt_enable();
		return 1;
	}
	cpu = smp_processor_id();
	vmx_flush(vmx);
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	mv_fpu_enter_irqoff(vcpu);
	vmx_save_host(vmx, &host);
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);

	mv_spec_enter_irqoff(vcpu->vm);
	dr_loaded = mv_dr_enter_irqoff(&vmx->dr);

	mv_guest_enter_irqoff();
	/* last: what the host touches after it may be in L1D again */
	mv_spec_l1d_flush_irqoff();
	r = mv_vmx_vmrun(vmx->regs, vmx->launched,
			 mv_spec_host_spec_ctrl() ? &vcpu->spec_ctrl : NULL);
	mv_spec_exit_irqoff();

	vmx->cr2 = native_read_cr2();
	vmx_restore_host(&host, cpu);
	mv_dr_exit_irqoff(dr_loaded);
	mv_fpu_exit_irqoff(vcpu);
	if (!r) {
		reason = vmx_rd(vmx, VM_EXIT_REASON);
		if (!(reason & VMX_EXIT_REASONS_FAILED_VMENTRY))
			vmx->launched = true;
		/*
		 * An NMI that came in the guest is the host's: raise it again,
		 * by the ICR (the x2APIC self-IPI register sends fixed vectors
		 * only).
		 */
		if ((reason & 0xffff) == EXIT_REASON_EXCEPTION_NMI &&
		    (vmx_rd(vmx, VM_EXIT_INTR_INFO) &
		     (INTR_INFO_VALID_MASK | INTR_INFO_INTR_TYPE_MASK)) ==
		    (INTR_INFO_VALID_MASK | INTR_TYPE_NMI_INTR))
			apic->send_IPI(cpu, NMI_VECTOR);
		vmx_exit_irqoff(vmx, reason);
	}
	mv_vcpu_exit_irqoff(vcpu);
	local_irq_enable();

	if (r) {
		u32 err = r == 1 ? vmx_insn_error() : 0;

		preempt_enable();
		pr_err_ratelimited("minivisor: vCPU %u: %s %s on CPU %d (VM-instruction error %u)\n",
				   vcpu->id,
				   vmx->launched ? "VMRESUME" : "VMLAUNCH",
				   r == 1 ? "failed" : "faulted", cpu, err);
		if (r != 1)
			return mv_fail(-EIO);
		/* as KVM: the VM-instruction error is the reason */
		return vmx_fail_entry(vcpu, err);
	}
	vmx->regs[4] = vmx_rd(vmx, GUEST_RSP);
	vmx->rip = vmx_rd(vmx, GUEST_RIP);
	vmx->rflags = vmx_rd(vmx, GUEST_RFLAGS);
	vmx_redeliver(vmx);
	preempt_enable();

	r = vmx_handle_exit(vcpu, reason);
	if (vmx->vmcs_failed)
		return mv_fail(-EIO);
	return r;
}

const struct mv_vendor_ops mv_vmx_ops = {
	.name = "vmx",
	.backend = MV_BACKEND_VMX,
	.hardware_setup = vmx_hardware_setup,
	.hardware_unsetup = vmx_hardware_unsetup,
	.cpu_enable = vmx_cpu_enable,
	.cpu_disable = vmx_cpu_disable,
	.emergency_disable = vmx_emergency_disable,
	.mmu_modes = MV_MMU_TDP | MV_MMU_SHADOW,
	.get_cr4 = vmx_get_cr4,
	.get_cr0 = vmx_get_cr0,
	.tdp_format = &vmx_ept_format,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_free = vmx_vcpu_free,
	.vcpu_load = vmx_vcpu_load,
	.vcpu_put = vmx_vcpu_put,
	.get_regs = vmx_get_regs,
	.set_regs = vmx_set_regs,
	.get_sregs = vmx_get_sregs,
	.set_sregs = vmx_set_sregs,
	.get_msr = vmx_get_msr,
	.set_msr = vmx_set_msr,
	.inject_exception = vmx_queue_exception,
	.deliver_db = vmx_deliver_db,
	.queued_event = vmx_queued_event,
	.flush_tlb = vmx_flush_tlb,
	.load_mmu_root = vmx_load_mmu_root,
	.shadow_on_tdp = vmx_shadow_on_tdp,
	.vcpu_run = vmx_vcpu_run,
};
