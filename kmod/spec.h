/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's speculation mitigations around guest entry and exit, and the
 * guest's speculation-control MSRs (kmod/spec.c).  The parts that must run
 * with no return between them and the world switch (RSB filling, VERW,
 * SPEC_CTRL switching, return untraining) are in the vmenter.S files.
 */
#ifndef MV_SPEC_H
#define MV_SPEC_H

#include <linux/types.h>

struct dentry;
struct mv_vcpu;

int mv_spec_init(void);
void mv_spec_exit(void);
void mv_spec_debugfs_init(struct dentry *dir);

void mv_spec_enter_irqoff(const void *vm);
void mv_spec_l1d_flush_irqoff(void);
void mv_spec_exit_irqoff(void);
void mv_spec_forget_vm(const void *vm);

bool mv_spec_host_spec_ctrl(void);
bool mv_spec_msr(u32 index);
int mv_spec_get_msr(struct mv_vcpu *vcpu, u32 index, u64 spec_ctrl,
		    u64 *data, bool host);
int mv_spec_set_msr(struct mv_vcpu *vcpu, u32 index, u64 data, bool host);

#endif /* MV_SPEC_H */
