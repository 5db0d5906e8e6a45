/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exceptions given to the guest, combined with the event whose delivery
 * an exit interrupted, as the hardware combines them; external interrupts
 * from userspace (KVM_INTERRUPT) and the interrupt window (kmod/event.c).
 */
#ifndef MV_EVENT_H
#define MV_EVENT_H

#include <linux/types.h>

struct mv_vcpu;

void mv_inject_exception(struct mv_vcpu *vcpu, u8 vector, bool has_error,
			 u32 error, u64 cr2);
bool mv_event_delivering(struct mv_vcpu *vcpu);
int mv_event_kvm_interrupt(struct mv_vcpu *vcpu, u32 irq);
void mv_event_inject_irq(struct mv_vcpu *vcpu);
bool mv_event_irq_window_open(struct mv_vcpu *vcpu);
int mv_event_run_in(struct mv_vcpu *vcpu);
u32 mv_event_get_mp_state(struct mv_vcpu *vcpu);
int mv_event_set_mp_state(struct mv_vcpu *vcpu, u32 state);
void mv_event_run_out(struct mv_vcpu *vcpu);

#endif /* MV_EVENT_H */
