// SPDX-License-Identifier: GPL-2.0
/*
 * Speculation: what the host's mitigations ask around each guest entry and
 * exit, with the kernel's own helpers and mitigation state, and the guest's
 * speculation-control MSRs.
 *
 * In the world switches (svm/vmenter.S, vmx/vmenter.S), where no return or
 * indirect branch may come between them and VMRUN/VMLAUNCH or the exit:
 *  - the guest's IA32_SPEC_CTRL is written before entry when it differs
 *    from the host's current value (x86_spec_ctrl_current), and the host's
 *    written back after the exit (before the first return) when they differ;
 *    the MSR stays intercepted, so the guest's value is always ours to know;
 *    SVM with V_SPEC_CTRL switches it itself, from the VMCB;
 *  - the return stack buffer is filled after the exit where the kernel says
 *    (X86_FEATURE_RSB_VMEXIT, _LITE), and on SVM the return predictor is
 *    untrained (UNTRAIN_RET_VM: retbleed, SRSO, IBPB on VM exit);
 *  - VERW clears the CPU buffers right before entry where the host's
 *    mitigation state asks (X86_FEATURE_CLEAR_CPU_BUF on VMX,
 *    X86_FEATURE_CLEAR_CPU_BUF_VM on SVM, as KVM).
 * Here, called by the run functions with interrupts off:
 *  - an IBPB when a vCPU of another VM than the last one runs on a CPU
 *    (mv_spec_enter_irqoff());
 *  - on VMX, the L1D flush where L1TF asks for it (mv_spec_l1d_flush_irqoff():
 *    kvm_intel's l1tf_vmx_mitigation when it set one, else the host's
 *    l1tf= choice; minivisor flushes before every entry, where KVM's "cond"
 *    skips some, having no account of what the host touched in between);
 *  - after the exit, the IBPB before the next return to user space that
 *    the kernel's VMSCAPE mitigation asks for (X86_FEATURE_IBPB_EXIT_TO_USER).
 * minivisor has no assigned devices: the MMIO stale data clear KVM does for
 * those (mmio_stale_data_clear) never applies.
 *
 * The guest's IA32_SPEC_CTRL, IA32_PRED_CMD and IA32_FLUSH_CMD exist for it
 * as KVM has them: per its CPUID (and the host's), a #GP otherwise.
 */
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/kvm.h>
#include <linux/minivisor.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/vmx.h>

#include "compat.h"
#include "cpuid.h"
#include "mv.h"
#include "spec.h"
#include "vcpu.h"
#include "virt.h"

/* The software L1D flush reads 64 KiB: twice a 32 KiB L1D, not quite LRU. */
#define MV_L1D_FLUSH_ORDER	4

/*
 * l1d_flush=auto (the host's L1TF mitigation decides), always (every VMX
 * entry, even where the CPU is not affected), never.
 */
static char *l1d_flush = "auto";
module_param(l1d_flush, charp, 0444);
MODULE_PARM_DESC(l1d_flush, "L1D flush before VMX entries: auto (as the host's L1TF mitigation), always, never");

enum mv_l1d_mode { MV_L1D_AUTO, MV_L1D_ALWAYS, MV_L1D_NEVER };

/* (c) from l1d_flush= */
static enum mv_l1d_mode mv_l1d_mode;
/* (c) the CPU has L1TF and does not skip the flush on VM entry itself */
static bool mv_l1d_affected;
/* (c) the host's l1tf= choice, L1TF_MITIGATION_FLUSH when unknown */
static enum l1tf_mitigations mv_l1tf_host = L1TF_MITIGATION_FLUSH;
/* (c) the software flush's buffer, on VMX CPUs without IA32_FLUSH_CMD */
static void *mv_l1d_pages;

/**
 * struct mv_spec_counts - what the mitigations did on one CPU
 * @vm_switches: entries with a vCPU of another VM than the last one here
 * @ibpb: IBPBs those switches issued
 * @l1d_flushes: L1D flushes before VMX entries
 * @guest_ibpb: IBPBs the guests asked for (IA32_PRED_CMD)
 * @guest_l1d_flushes: L1D flushes they asked for (IA32_FLUSH_CMD)
 *
 * Written by its CPU with interrupts off, read by debugfs minivisor/spec.
 */
struct mv_spec_counts {
	u64 vm_switches;
	u64 ibpb;
	u64 l1d_flushes;
	u64 guest_ibpb;
	u64 guest_l1d_flushes;
};

static DEFINE_PER_CPU(struct mv_spec_counts, mv_spec_counts);
/*
 * [this CPU, interrupts off; cleared by mv_spec_forget_vm()] the VM whose
 * vCPU entered last here, or NULL
 */
static DEFINE_PER_CPU(const void *, mv_spec_last_vm);

static void mv_l1d_flush_sw(void)
{
	const u8 *p = mv_l1d_pages;
	unsigned int size = PAGE_SIZE << MV_L1D_FLUSH_ORDER;
	unsigned int i;

	/* the buffer's translations first, so that the fill below misses none */
	for (i = 0; i < size; i += PAGE_SIZE)
		(void)READ_ONCE(p[i]);
	/* serializing: the fill starts only after the walks */
	(void)cpuid_eax(0);
	for (i = 0; i < size; i += L1_CACHE_BYTES)
		(void)READ_ONCE(p[i]);
}

static bool mv_l1d_wanted(void)
{
	if (mv_l1d_mode != MV_L1D_AUTO)
		return mv_l1d_mode == MV_L1D_ALWAYS;
	if (!mv_l1d_affected)
		return false;
	/* what kvm_intel chose, when it was loaded with a choice */
	switch (READ_ONCE(l1tf_vmx_mitigation)) {
	case VMENTER_L1D_FLUSH_NEVER:
	case VMENTER_L1D_FLUSH_NOT_REQUIRED:
		return false;
	case VMENTER_L1D_FLUSH_COND:
	case VMENTER_L1D_FLUSH_ALWAYS:
		return true;
	default:
		return mv_l1tf_host != L1TF_MITIGATION_OFF;
	}
}

/**
 * mv_spec_l1d_flush_irqoff() - the L1D flush before a VMX entry
 *
 * As the host's L1TF mitigation asks (or l1d_flush=): IA32_FLUSH_CMD where
 * the CPU has it, else by reading 64 KiB.  Interrupts off, right before
 * the entry.
 */
void mv_spec_l1d_flush_irqoff(void)
{
	if (!mv_l1d_wanted())
		return;
	if (boot_cpu_has(X86_FEATURE_FLUSH_L1D))
		wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
	else if (mv_l1d_pages)
		mv_l1d_flush_sw();
	else
		return;
	__this_cpu_inc(mv_spec_counts.l1d_flushes);
}

/**
 * mv_spec_enter_irqoff() - before an entry: an IBPB when the VM changes
 * @vm: the VM of the vCPU about to enter (only compared)
 *
 * A guest must not steer the indirect branches of another VM's guest:
 * when a vCPU of another VM than the last one enters on this CPU, the
 * predictors are flushed (unless every VM exit does it already).
 * Interrupts off.
 */
void mv_spec_enter_irqoff(const void *vm)
{
	if (__this_cpu_read(mv_spec_last_vm) == vm)
		return;
	__this_cpu_write(mv_spec_last_vm, vm);
	__this_cpu_inc(mv_spec_counts.vm_switches);
	if (boot_cpu_has(X86_FEATURE_IBPB) &&
	    !boot_cpu_has(X86_FEATURE_IBPB_ON_VMEXIT)) {
		indirect_branch_prediction_barrier();
		__this_cpu_inc(mv_spec_counts.ibpb);
	}
}

/**
 * mv_spec_exit_irqoff() - after an exit, what the kernel asks of it
 *
 * The VMSCAPE mitigation: an IBPB before the next return to user space,
 * so that the guest cannot steer the VMM's branches.  Interrupts off.
 */
void mv_spec_exit_irqoff(void)
{
	mv_compat_ibpb_exit_to_user();
}

/**
 * mv_spec_forget_vm() - no CPU may take a new VM at @vm's address for it
 * @vm: a VM whose vCPUs are being freed, none of them running
 *
 * Clears the CPUs' record of @vm, so that a later VM at the same address
 * still gets its IBPB.
 */
void mv_spec_forget_vm(const void *vm)
{
	int cpu;

	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&mv_spec_last_vm, cpu), vm, NULL);
}

/* ------------------------------------------------- the guest's MSRs */

/**
 * mv_spec_host_spec_ctrl() - does the host have IA32_SPEC_CTRL?
 *
 * Return: true when the world switch must switch it.
 */
bool mv_spec_host_spec_ctrl(void)
{
	return boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL);
}

/* The IA32_SPEC_CTRL bits a guest may set: those the host CPU has. */
static u64 mv_spec_ctrl_bits(void)
{
	u64 bits = 0;

	if (!mv_spec_host_spec_ctrl())
		return 0;
	if (boot_cpu_has(X86_FEATURE_SPEC_CTRL) ||
	    boot_cpu_has(X86_FEATURE_AMD_IBRS))
		bits |= SPEC_CTRL_IBRS;
	if (boot_cpu_has(X86_FEATURE_INTEL_STIBP) ||
	    boot_cpu_has(X86_FEATURE_AMD_STIBP))
		bits |= SPEC_CTRL_STIBP;
	if (boot_cpu_has(X86_FEATURE_SPEC_CTRL_SSBD) ||
	    boot_cpu_has(X86_FEATURE_AMD_SSBD))
		bits |= SPEC_CTRL_SSBD;
	return bits;
}

/* CPUID leaf 7 EDX and 0x80000008 EBX bits of the guest's table */
#define CPUID7_EDX_SPEC_CTRL	BIT(26)
#define CPUID7_EDX_STIBP	BIT(27)
#define CPUID7_EDX_FLUSH_L1D	BIT(28)
#define CPUID7_EDX_SSBD		BIT(31)
#define EXT8_EBX_IBPB		BIT(12)
#define EXT8_EBX_IBRS		BIT(14)
#define EXT8_EBX_STIBP		BIT(15)
#define EXT8_EBX_SSBD		BIT(24)

static void mv_spec_guest_cpuid(struct mv_vcpu *vcpu, u32 *edx7, u32 *ebx8)
{
	const struct kvm_cpuid_entry2 *e;

	e = mv_cpuid_find(&vcpu->cpuid, 7, 0);
	*edx7 = e ? e->edx : 0;
	e = mv_cpuid_find(&vcpu->cpuid, 0x80000008, 0);
	*ebx8 = e ? e->ebx : 0;
}

/*
 * May the guest itself reach @index?  By its CPUID, as KVM: the values it
 * may write are the host's business (mv_spec_set_msr()).
 */
static bool mv_spec_guest_may(struct mv_vcpu *vcpu, u32 index)
{
	u32 edx7, ebx8;

	mv_spec_guest_cpuid(vcpu, &edx7, &ebx8);
	switch (index) {
	case MSR_IA32_SPEC_CTRL:
		return (edx7 & CPUID7_EDX_SPEC_CTRL) ||
			(ebx8 & (EXT8_EBX_IBRS | EXT8_EBX_STIBP |
				 EXT8_EBX_SSBD));
	case MSR_IA32_PRED_CMD:
		return (edx7 & CPUID7_EDX_SPEC_CTRL) || (ebx8 & EXT8_EBX_IBPB);
	case MSR_IA32_FLUSH_CMD:
		return edx7 & CPUID7_EDX_FLUSH_L1D;
	}
	return false;
}

/**
 * mv_spec_msr() - is @index one of the speculation-control MSRs?
 * @index: an MSR
 *
 * Return: true for IA32_SPEC_CTRL, IA32_PRED_CMD and IA32_FLUSH_CMD, which
 * the MSR rules (mv_msr_get()/mv_msr_set(), kmod/msr.c) pass to
 * mv_spec_get_msr()/mv_spec_set_msr().
 */
bool mv_spec_msr(u32 index)
{
	return index == MSR_IA32_SPEC_CTRL || index == MSR_IA32_PRED_CMD ||
		index == MSR_IA32_FLUSH_CMD;
}

/**
 * mv_spec_get_msr() - RDMSR or KVM_GET_MSRS of a speculation-control MSR
 * @vcpu: the vCPU; its mutex held
 * @index: the MSR (mv_spec_msr())
 * @spec_ctrl: the guest's IA32_SPEC_CTRL, as the backend keeps it
 * @data: the value read
 * @host: the VMM asks (KVM_GET_MSRS), not the guest
 *
 * Return: 0, or -EINVAL (a #GP for the guest): the two command MSRs are
 * write-only, IA32_SPEC_CTRL is the guest's only with the CPUID for it.
 */
int mv_spec_get_msr(struct mv_vcpu *vcpu, u32 index, u64 spec_ctrl,
		    u64 *data, bool host)
{
	if (index != MSR_IA32_SPEC_CTRL ||
	    (!host && !mv_spec_guest_may(vcpu, index)))
		return -EINVAL;
	*data = spec_ctrl;
	return 0;
}

/**
 * mv_spec_set_msr() - WRMSR or KVM_SET_MSRS of a speculation-control MSR
 * @vcpu: the vCPU; its mutex held
 * @index: the MSR (mv_spec_msr())
 * @data: the value
 * @host: the VMM asks (KVM_SET_MSRS), not the guest
 *
 * IA32_PRED_CMD and IA32_FLUSH_CMD are done at once (an IBPB, an L1D
 * flush) when the host CPU has them; IA32_SPEC_CTRL is checked here and
 * kept by the backend, which loads it around entries.  0 is taken by both
 * on any host, as KVM takes what the CPU takes; other bits only where the
 * host CPU has them.
 *
 * Return: 0 (for IA32_SPEC_CTRL: @data may be kept), or -EINVAL (a #GP for
 * the guest) for a bit the host lacks or an MSR the guest's CPUID lacks.
 */
int mv_spec_set_msr(struct mv_vcpu *vcpu, u32 index, u64 data, bool host)
{
	if (!host && !mv_spec_guest_may(vcpu, index))
		return -EINVAL;
	switch (index) {
	case MSR_IA32_SPEC_CTRL:
		/* 0 is a no-op anywhere (kvm_amd takes it on QEMU's TCG too) */
		return data & ~mv_spec_ctrl_bits() ? -EINVAL : 0;
	case MSR_IA32_PRED_CMD:
		if (data & ~(boot_cpu_has(X86_FEATURE_IBPB) ? PRED_CMD_IBPB : 0))
			return -EINVAL;
		if (data) {
			wrmsrl(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
			this_cpu_inc(mv_spec_counts.guest_ibpb);
		}
		return 0;
	case MSR_IA32_FLUSH_CMD:
		if (!boot_cpu_has(X86_FEATURE_FLUSH_L1D) || (data & ~L1D_FLUSH))
			return -EINVAL;
		if (data) {
			wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
			this_cpu_inc(mv_spec_counts.guest_l1d_flushes);
		}
		return 0;
	}
	return -EINVAL;
}

/* ------------------------------------------------- setup and debugfs */

static const char * const mv_l1d_names[] = {
	[MV_L1D_AUTO] = "auto", [MV_L1D_ALWAYS] = "always",
	[MV_L1D_NEVER] = "never",
};

/*
 * debugfs minivisor/spec: the choices made, then the counters summed over
 * the CPUs.  For tests.
 */
static int mv_spec_show(struct seq_file *m, void *unused)
{
	struct mv_spec_counts sum = { 0 };
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct mv_spec_counts *c = per_cpu_ptr(&mv_spec_counts,
							     cpu);

		sum.vm_switches += READ_ONCE(c->vm_switches);
		sum.ibpb += READ_ONCE(c->ibpb);
		sum.l1d_flushes += READ_ONCE(c->l1d_flushes);
		sum.guest_ibpb += READ_ONCE(c->guest_ibpb);
		sum.guest_l1d_flushes += READ_ONCE(c->guest_l1d_flushes);
	}
	seq_printf(m, "l1d_flush %s\n", mv_l1d_names[mv_l1d_mode]);
	seq_printf(m, "l1d_flush_now %s\n",
		   mv_caps.backend != MV_BACKEND_VMX ? "no (not VMX)" :
		   mv_l1d_wanted() ? "yes" : "no");
	seq_printf(m, "spec_ctrl_bits 0x%llx\n", mv_spec_ctrl_bits());
	seq_printf(m, "vm_switches %llu\n", sum.vm_switches);
	seq_printf(m, "ibpb %llu\n", sum.ibpb);
	seq_printf(m, "l1d_flushes %llu\n", sum.l1d_flushes);
	seq_printf(m, "guest_ibpb %llu\n", sum.guest_ibpb);
	seq_printf(m, "guest_l1d_flushes %llu\n", sum.guest_l1d_flushes);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mv_spec);

/**
 * mv_spec_debugfs_init() - add the "spec" file to minivisor's debugfs folder
 * @dir: the folder
 */
void mv_spec_debugfs_init(struct dentry *dir)
{
	debugfs_create_file("spec", 0444, dir, NULL, &mv_spec_fops);
}

/**
 * mv_spec_init() - read the host's mitigation state; after mv_virt_init()
 *
 * Return: 0, -EINVAL for a bad l1d_flush=, or -ENOMEM.
 */
int mv_spec_init(void)
{
	enum l1tf_mitigations *l1tf;
	u64 cap = 0;

	if (!strcmp(l1d_flush, "auto")) {
		mv_l1d_mode = MV_L1D_AUTO;
	} else if (!strcmp(l1d_flush, "always")) {
		mv_l1d_mode = MV_L1D_ALWAYS;
	} else if (!strcmp(l1d_flush, "never")) {
		mv_l1d_mode = MV_L1D_NEVER;
	} else {
		pr_err("minivisor: l1d_flush=%s: not auto, always or never\n",
		       l1d_flush);
		return -EINVAL;
	}
	if (mv_caps.backend != MV_BACKEND_VMX)
		return 0;

	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES) &&
	    rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &cap))
		cap = 0;
	mv_l1d_affected = boot_cpu_has_bug(X86_BUG_L1TF) &&
		!(cap & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH);
	/* exported only where kvm_intel is configured: looked up, not linked */
	l1tf = __symbol_get("l1tf_mitigation");
	if (l1tf) {
		mv_l1tf_host = READ_ONCE(*l1tf);
		__symbol_put("l1tf_mitigation");
	}

	if (mv_l1d_mode == MV_L1D_NEVER || boot_cpu_has(X86_FEATURE_FLUSH_L1D))
		return 0;
	if (mv_l1d_mode == MV_L1D_AUTO && !mv_l1d_affected)
		return 0;
	mv_l1d_pages = (void *)__get_free_pages(GFP_KERNEL, MV_L1D_FLUSH_ORDER);
	if (!mv_l1d_pages)
		return -ENOMEM;
	/* no page of it may be one the host shares with others (zero page) */
	memset(mv_l1d_pages, 0x5a, PAGE_SIZE << MV_L1D_FLUSH_ORDER);
	return 0;
}

/**
 * mv_spec_exit() - free what mv_spec_init() took
 */
void mv_spec_exit(void)
{
	free_pages((unsigned long)mv_l1d_pages, MV_L1D_FLUSH_ORDER);
	mv_l1d_pages = NULL;
}
