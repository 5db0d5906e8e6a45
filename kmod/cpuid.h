/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CPUID a guest sees: the table KVM_SET_CPUID2 gives each vCPU, and the
 * leaves KVM_GET_SUPPORTED_CPUID offers.
 */
#ifndef MV_CPUID_H
#define MV_CPUID_H

#include <linux/kvm.h>
#include <linux/types.h>

struct mv_vcpu;

/* At most this many entries in a table, as in KVM. */
#define MV_MAX_CPUID_ENTRIES	256

/**
 * struct mv_cpuid - a vCPU's CPUID table
 * @nent: entries in @entries
 * @entries: the table, as KVM_SET_CPUID2 gave it (kvmalloc'ed)
 */
struct mv_cpuid {
	unsigned int nent;
	struct kvm_cpuid_entry2 *entries;
};

const struct kvm_cpuid_entry2 *mv_cpuid_find(const struct mv_cpuid *c,
					     u32 function, u32 index);
void mv_cpuid_emulate(struct mv_vcpu *vcpu, u32 *eax, u32 *ebx, u32 *ecx,
		      u32 *edx);
long mv_cpuid_get_supported(struct kvm_cpuid2 __user *uc);
long mv_cpuid_set(struct mv_vcpu *vcpu, struct kvm_cpuid2 __user *uc);
long mv_cpuid_get(struct mv_vcpu *vcpu, struct kvm_cpuid2 __user *uc);
void mv_cpuid_free(struct mv_cpuid *c);

#endif /* MV_CPUID_H */
