/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MSRs of a vCPU: KVM_GET_MSR_INDEX_LIST, KVM_GET_MSRS, KVM_SET_MSRS, and
 * the guest's RDMSR and WRMSR.
 */
#ifndef MV_MSR_H
#define MV_MSR_H

#include <linux/compiler_types.h>
#include <linux/types.h>

struct mv_vcpu;

/* At most this many MSRs in one KVM_GET_MSRS or KVM_SET_MSRS, as KVM. */
#define MV_MAX_IO_MSRS		256

long mv_msr_index_list(void __user *uarg);
long mv_msr_ioctl(struct mv_vcpu *vcpu, void __user *uarg, bool set);
bool mv_msr_known(u32 index);
void mv_msr_reset(struct mv_vcpu *vcpu);
int mv_msr_get(struct mv_vcpu *vcpu, u32 index, u64 *data, bool host);
int mv_msr_set(struct mv_vcpu *vcpu, u32 index, u64 data, bool host);
bool mv_msr_pat_valid(u64 pat);

#endif /* MV_MSR_H */
