/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exceptions given to the guest, combined with the event whose delivery
 * an exit interrupted, as the hardware combines them (kmod/event.c).
 */
#ifndef MV_EVENT_H
#define MV_EVENT_H

#include <linux/types.h>

struct mv_vcpu;

void mv_inject_exception(struct mv_vcpu *vcpu, u8 vector, bool has_error,
			 u32 error, u64 cr2);
bool mv_event_delivering(struct mv_vcpu *vcpu);

#endif /* MV_EVENT_H */
