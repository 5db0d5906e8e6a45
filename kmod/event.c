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
 */
#include <asm/trapnr.h>

#include "event.h"
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
