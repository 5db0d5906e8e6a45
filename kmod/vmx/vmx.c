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
 *
 * This file holds VMX operation per CPU, the VPIDs, the world switch and
 * mv_vmx_ops.  vmcs.c loads a VMCS and sets its fields, state.c gives the
 * core the vCPU's state, exit.c handles the exits; vmx.h is what they
 * share.
 */
#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/minivisor.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <asm/apic.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
/* load_gs_index(), from <asm/gsseg.h> since 6.2 */
#include <asm/mmu_context.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>
#include <asm/vmx.h>

#include "../exc.h"
#include "../fpu.h"
#include "../mmu/mmu.h"
#include "../mmu/tdp.h"
#include "../mv.h"
#include "../ops.h"
#include "../spec.h"
#include "../vcpu.h"
#include "../virt.h"
#include "ctls.h"
#include "vmenter.h"
#include "vmx.h"

/* (c) the EPT entry format, from the capability MSRs at setup */
static struct mv_tdp_format vmx_ept_format;

/* VPIDs 1..65535 are the guests'; 0 is the host's */
#define MV_NR_VPIDS		65536

/*
 * The MSRs a VM entry loads for the guest and a VM exit stores back, then
 * loads again for the host (SDM vol. 3, 25.7.2, 26.4): those of SYSCALL
 * and SWAPGS, which the VMCS does not hold.  The guest reaches them
 * without exits (the MSR bitmap lets RDMSR and WRMSR through).
 */
const u32 vmx_switched_msrs[] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
};

static_assert(ARRAY_SIZE(vmx_switched_msrs) == VMX_NR_SWITCHED);

/* SYSENTER, FS and GS bases live in the VMCS: no exits for them either */
static const u32 vmx_passthrough_msrs[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_FS_BASE, MSR_GS_BASE,
};

/* (c) from IA32_VMX_BASIC at setup */
u32 vmx_revision;
/* (c) the controls every VMCS starts with, from the capability MSRs */
struct mv_vmx_ctls vmx_ctls;
/* (c) the CR0 and CR4 bits VMX operation forces to 1 and to 0 */
u64 vmx_cr0_fixed0, vmx_cr0_fixed1, vmx_cr4_fixed0, vmx_cr4_fixed1;
/* (c) the MSR bitmap all vCPUs share: 1 = exit */
void *vmx_msr_bitmap;
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
DEFINE_PER_CPU(struct list_head, vmx_loaded);
/* [this CPU, interrupts off] the vCPU whose VMCS is current here */
DEFINE_PER_CPU(struct vmx_vcpu *, vmx_current);

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

/**
 * vmx_clear_ipi() - VMCLEAR a vCPU's VMCS on the CPU it is loaded on
 * @arg: the vCPU's struct vmx_vcpu
 *
 * Runs on that CPU, from smp_call_function_single(), interrupts off.
 */
void vmx_clear_ipi(void *arg)
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

/* ---------------------------------------------------------------- VPIDs */

/**
 * vmx_alloc_vpid() - a free VPID, or 0 when none is left
 *
 * With 0 the vCPU runs with "enable VPID" clear (vmx_proc2()), where every
 * VM entry and exit flushes the linear and combined mappings of VPID 0
 * (SDM vol. 3, "Operations that Invalidate Cached Mappings"); INVEPT still
 * follows the vCPU to new CPUs.
 *
 * Return: the VPID, or 0.
 */
int vmx_alloc_vpid(void)
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

/**
 * vmx_free_vpid() - give back a VPID of vmx_alloc_vpid()
 * @vpid: the VPID, or 0 for none
 */
void vmx_free_vpid(int vpid)
{
	if (!vpid)
		return;
	spin_lock(&vmx_vpid_lock);
	__clear_bit(vpid, vmx_vpids);
	spin_unlock(&vmx_vpid_lock);
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
	.read_cr = vmx_read_cr,
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
	.get_rflags = vmx_get_rflags,
	.in_interrupt_shadow = vmx_in_interrupt_shadow,
	.end_interrupt_shadow = vmx_end_interrupt_shadow,
	.inject_irq = vmx_inject_irq,
	.enable_irq_window = vmx_enable_irq_window,
	.get_cr8 = vmx_get_cr8,
	.set_cr8 = vmx_set_cr8,
	.flush_tlb = vmx_flush_tlb,
	.load_mmu_root = vmx_load_mmu_root,
	.shadow_on_tdp = vmx_shadow_on_tdp,
	.vcpu_run = vmx_vcpu_run,
};
