// SPDX-License-Identifier: GPL-2.0
/*
 * The VT-x backend's exits: one handler per exit reason, dispatched by
 * vmx_handle_exit() after the world switch (vmx_vcpu_run(), in vmx.c).
 */
#include <linux/kvm.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include <asm/vmx.h>

#include "../cpuid.h"
#include "../cr.h"
#include "../crinsn.h"
#include "../event.h"
#include "../exc.h"
#include "../exit.h"
#include "../fpu.h"
#include "../mmu/mmu.h"
#include "../msr.h"
#include "../vcpu.h"
#include "../vm.h"
#include "vmx.h"

/*
 * The exit handlers run with preemption on, the vCPU loaded: when the
 * thread moves, the preempt notifier loads the VMCS on the new CPU, so
 * VMREAD and VMWRITE reach it.  Each returns what vcpu_run() returns.
 */

/**
 * vmx_deliver_db() - the deliver_db op: a #DB as the CPU raises one
 * @vcpu: the vCPU
 * @payload: the DR6 bits of the #DB
 *
 * DR6 and DR7 updated (kmod/exc.c); DR7 is the VMCS's.
 */
void vmx_deliver_db(struct mv_vcpu *vcpu, unsigned long payload)
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
	mv_cr_hw_written(vcpu, BIT(MV_CR0) | BIT(MV_EFER));
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
	mv_cr_hw_written(vcpu, BIT(MV_CR4));
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
			mv_cr_hw_written(vcpu, BIT(MV_CR3));
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

/**
 * vmx_redeliver() - queue again an event the exit interrupted
 * @vmx: the vCPU, its VMCS current
 *
 * An event the guest was being delivered when the exit came (an EPT
 * violation on its IDT or stack, say) is delivered again on the next entry.
 */
void vmx_redeliver(struct vmx_vcpu *vmx)
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

/**
 * vmx_fail_entry() - return KVM_EXIT_FAIL_ENTRY to userspace
 * @vcpu: the vCPU
 * @reason: the hardware entry failure reason
 *
 * Return: 0.
 */
int vmx_fail_entry(struct mv_vcpu *vcpu, u64 reason)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = reason;
	run->fail_entry.cpu = vcpu->cpu;
	return 0;
}

/**
 * vmx_handle_exit() - handle a VM exit
 * @vcpu: the vCPU, its VMCS loaded
 * @reason: the exit reason (VM_EXIT_REASON)
 *
 * Return: what vcpu_run() returns.
 */
int vmx_handle_exit(struct mv_vcpu *vcpu, u32 reason)
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
	case EXIT_REASON_INTERRUPT_WINDOW:
		/* the guest can take an interrupt: the core decides */
		vmx_wr(vmx, CPU_BASED_VM_EXEC_CONTROL,
		       vmx_rd(vmx, CPU_BASED_VM_EXEC_CONTROL) &
		       ~CPU_BASED_INTR_WINDOW_EXITING);
		WRITE_ONCE(vcpu->stats.irq_window_exits,
			   vcpu->stats.irq_window_exits + 1);
		return 1;
	case EXIT_REASON_CPUID:
		return vmx_handle_cpuid(vcpu);
	case EXIT_REASON_HLT:
		/* no in-kernel local APIC: userspace decides what HLT means */
		vmx_skip(vmx);
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	case EXIT_REASON_INVLPG:
		/* the qualification is the linear address; shadow paging only */
		mv_mmu_invlpg(vcpu, vmx_rd(vmx, EXIT_QUALIFICATION));
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
