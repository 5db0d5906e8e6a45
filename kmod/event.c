// SPDX-License-Identifier: GPL-2.0
/*
 * Exceptions the core, the emulator and the MMU give the guest, and how
 * they combine with an event whose delivery was under way when the exit
 * came: the double-fault rules of the SDM (vol. 3, 6.15, "Interrupt 8",
 * table 6-5) and the APM (vol. 2, 8.2.9).
 *
 * A fault minivisor finds while the hardware was delivering an event (a
 * shadow #PF on the guest's IDT or stack, say) is architecturally raised
 * during that delivery.  The backends queue the interrupted event again as
 * the exit comes (SVM's EXITINTINFO, VMX's IDT-vectoring information), so
 * the event queued when an exit handler injects is the one whose delivery
 * failed.  With the first the queued event and the second the new one:
 *
 *   - a contributory exception (#DE, #TS, #NP, #SS, #GP), then another:
 *     #DF;
 *   - a #PF, then a #PF or a contributory exception: #DF;
 *   - a #DF, then a #PF or a contributory exception: shutdown (triple
 *     fault), which userspace sees as KVM_EXIT_SHUTDOWN;
 *   - anything else: the new exception is delivered instead.  minivisor
 *     queues no interrupt or NMI of its own, and an exception or INTn whose
 *     delivery failed is raised again when its instruction runs again after
 *     the handler returns.
 *
 * #DF pushes an error code of 0.  CR2 keeps its value (as in KVM).
 *
 * External interrupts, with the interrupt controllers in userspace (KVM's
 * ABI without KVM_CREATE_IRQCHIP): KVM_INTERRUPT hands the vCPU a vector,
 * which stays pending until the guest can take it (RFLAGS.IF set, no
 * STI or MOV SS shadow, no event queued for the entry) and is then
 * injected at the next entry; until then the backend's interrupt-window
 * exit brings the vCPU back as soon as the guest can.  A VMM that asks
 * for the window (kvm_run.request_interrupt_window) gets
 * KVM_EXIT_IRQ_WINDOW_OPEN at the first exit after which the guest could
 * take one; every KVM_RUN reports if_flag, ready_for_interrupt_injection,
 * cr8 and apic_base, and takes cr8 (the TPR) in, as KVM does.
 */
#include <linux/kvm.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "event.h"
#include "mv.h"
#include "ops.h"
#include "vcpu.h"
#include "virt.h"

/* The classes of table 6-5 */
enum mv_exc_class {
	MV_EXC_BENIGN,
	MV_EXC_CONTRIBUTORY,
	MV_EXC_PF,
	MV_EXC_DF,
};

static enum mv_exc_class mv_exc_class(u8 vector)
{
	switch (vector) {
	case X86_TRAP_DE:
	case X86_TRAP_TS:
	case X86_TRAP_NP:
	case X86_TRAP_SS:
	case X86_TRAP_GP:
		return MV_EXC_CONTRIBUTORY;
	case X86_TRAP_PF:
		return MV_EXC_PF;
	case X86_TRAP_DF:
		return MV_EXC_DF;
	default:
		return MV_EXC_BENIGN;
	}
}

/**
 * mv_event_delivering() - was an event being delivered when the exit came?
 * @vcpu: the vCPU, in an exit handler, before anything was injected
 *
 * An access that faulted then was made by the delivery (IDT, GDT, stack),
 * not by the instruction at RIP: it must not be emulated.
 *
 * Return: true if an event is queued to be delivered again.
 */
bool mv_event_delivering(struct mv_vcpu *vcpu)
{
	struct mv_event ev;

	return mv_ops->queued_event && mv_ops->queued_event(vcpu, &ev, false);
}

/**
 * mv_inject_exception() - give the guest an exception at its next entry
 * @vcpu: the vCPU, in an exit handler
 * @vector: the exception's vector
 * @has_error: it pushes an error code
 * @error: the error code
 * @cr2: for a #PF, the faulting address (CR2)
 *
 * Combines it with the event being delivered, if any, by the rules above:
 * the guest gets @vector, a #DF, or (a triple fault) the vCPU returns to
 * userspace with KVM_EXIT_SHUTDOWN before entering the guest again.
 */
void mv_inject_exception(struct mv_vcpu *vcpu, u8 vector, bool has_error,
			 u32 error, u64 cr2)
{
	enum mv_exc_class first, second = mv_exc_class(vector);
	struct mv_event ev;

	if (second == MV_EXC_BENIGN || !mv_ops->queued_event ||
	    !mv_ops->queued_event(vcpu, &ev, true) ||
	    ev.type != MV_EVENT_EXCEPTION) {
		mv_ops->inject_exception(vcpu, vector, has_error, error, cr2);
		return;
	}
	first = mv_exc_class(ev.vector);
	if (first == MV_EXC_DF) {
		/* nothing is delivered: the vCPU shuts down */
		mv_vcpu_request(vcpu, MV_REQ_TRIPLE_FAULT);
		return;
	}
	if (first == MV_EXC_PF ||
	    (first == MV_EXC_CONTRIBUTORY && second == MV_EXC_CONTRIBUTORY)) {
		mv_ops->inject_exception(vcpu, X86_TRAP_DF, true, 0, 0);
		return;
	}
	mv_ops->inject_exception(vcpu, vector, has_error, error, cr2);
}

/* The guest could take an external interrupt at its next entry. */
static bool mv_event_irq_allowed(struct mv_vcpu *vcpu)
{
	struct mv_event ev;

	if (!(mv_ops->get_rflags(vcpu) & X86_EFLAGS_IF) ||
	    mv_ops->in_interrupt_shadow(vcpu))
		return false;
	return !mv_ops->queued_event(vcpu, &ev, false);
}

/*
 * KVM's ready_for_interrupt_injection: the guest could take one and none
 * is waiting for it.
 */
static bool mv_event_ready_for_irq(struct mv_vcpu *vcpu)
{
	return !vcpu->irq.pending && mv_event_irq_allowed(vcpu);
}

/**
 * mv_event_kvm_interrupt() - KVM_INTERRUPT: an external interrupt from
 *	userspace's interrupt controller
 * @vcpu: the vCPU; caller holds its mutex
 * @irq: the vector
 *
 * As in KVM without an in-kernel irqchip, a vector given before the last
 * one was injected replaces it.
 *
 * Return: 0, or -EINVAL for a vector above 255.
 */
int mv_event_kvm_interrupt(struct mv_vcpu *vcpu, u32 irq)
{
	if (irq >= 256)
		return mv_fail(-EINVAL);
	vcpu->irq.vector = irq;
	vcpu->irq.pending = true;
	return 0;
}

/**
 * mv_event_inject_irq() - before an entry: the pending interrupt, or the
 *	interrupt window
 * @vcpu: the vCPU, loaded, on its thread
 *
 * Injects the pending external interrupt if the guest can take it now;
 * else, or when userspace asked for the window, has the backend exit as
 * soon as the guest can.
 */
void mv_event_inject_irq(struct mv_vcpu *vcpu)
{
	bool window = vcpu->run->request_interrupt_window;

	if (vcpu->irq.pending) {
		if (mv_event_irq_allowed(vcpu)) {
			mv_ops->inject_irq(vcpu, vcpu->irq.vector);
			vcpu->irq.pending = false;
			WRITE_ONCE(vcpu->stats.irq_injections,
				   vcpu->stats.irq_injections + 1);
		} else {
			window = true;
		}
	}
	if (window)
		mv_ops->enable_irq_window(vcpu);
}

/**
 * mv_event_irq_window_open() - after an exit handled in the kernel: does
 *	KVM_RUN return KVM_EXIT_IRQ_WINDOW_OPEN?
 * @vcpu: the vCPU, on its thread
 *
 * Return: true, with kvm_run filled in, when userspace asked for the window
 * and the guest can take an interrupt from it.
 */
bool mv_event_irq_window_open(struct mv_vcpu *vcpu)
{
	if (!vcpu->run->request_interrupt_window ||
	    !mv_event_ready_for_irq(vcpu))
		return false;
	vcpu->run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
	WRITE_ONCE(vcpu->stats.request_irq_exits,
		   vcpu->stats.request_irq_exits + 1);
	return true;
}

/**
 * mv_event_run_in() - what KVM_RUN takes from kvm_run for the events
 * @vcpu: the vCPU, loaded, on its thread
 *
 * The guest's TPR (CR8) is kvm_run.cr8, as userspace's local APIC has it.
 *
 * Return: 0, or -EINVAL for a CR8 above 15.
 */
int mv_event_run_in(struct mv_vcpu *vcpu)
{
	u64 cr8 = vcpu->run->cr8;

	if (cr8 > 15)
		return mv_fail(-EINVAL);
	mv_ops->set_cr8(vcpu, cr8);
	return 0;
}

/**
 * mv_event_run_out() - what every return from KVM_RUN reports in kvm_run
 * @vcpu: the vCPU, loaded, on its thread
 */
void mv_event_run_out(struct mv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->if_flag = !!(mv_ops->get_rflags(vcpu) & X86_EFLAGS_IF);
	run->cr8 = mv_ops->get_cr8(vcpu);
	run->apic_base = vcpu->apic_base;
	run->ready_for_interrupt_injection = mv_event_ready_for_irq(vcpu);
}

/**
 * mv_event_get_mp_state() - KVM_GET_MP_STATE
 * @vcpu: the vCPU; caller holds its mutex
 *
 * With the local APIC in userspace a vCPU is runnable from its creation
 * on: its HLT exits to userspace, and INIT and SIPI are the VMM's.
 *
 * Return: the KVM_MP_STATE_* of @vcpu.
 */
u32 mv_event_get_mp_state(struct mv_vcpu *vcpu)
{
	return KVM_MP_STATE_RUNNABLE;
}

/**
 * mv_event_set_mp_state() - KVM_SET_MP_STATE
 * @vcpu: the vCPU; caller holds its mutex
 * @state: the KVM_MP_STATE_* userspace gives
 *
 * Return: 0 for KVM_MP_STATE_RUNNABLE; -EINVAL, as KVM answers without an
 * in-kernel local APIC, for every other state.
 */
int mv_event_set_mp_state(struct mv_vcpu *vcpu, u32 state)
{
	if (state != KVM_MP_STATE_RUNNABLE)
		return mv_fail(-EINVAL);
	return 0;
}
