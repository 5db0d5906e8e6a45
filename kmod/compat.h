/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels minivisor builds against (6.1 and 6.12),
 * each behind a named helper, so that no version test is found elsewhere.
 */
#ifndef MV_COMPAT_H
#define MV_COMPAT_H

#include <linux/compiler.h>
#include <linux/kvm.h>
#include <linux/percpu.h>
#include <kunit/visibility.h>
#include <asm/cpufeature.h>
#include <asm/nospec-branch.h>

/**
 * mv_run_immediate_exit() - kvm_run.immediate_exit, as userspace left it
 * @run: the vCPU's shared struct kvm_run
 *
 * Since 6.10 the kernel sees the field as immediate_exit__unsafe
 * (HINT_UNSAFE_IN_KVM); before, by its uapi name.
 *
 * Return: the byte userspace wrote.
 */
static inline u8 mv_run_immediate_exit(struct kvm_run *run)
{
#ifdef HINT_UNSAFE_IN_KVM
	return READ_ONCE(run->immediate_exit__unsafe);
#else
	return READ_ONCE(run->immediate_exit);
#endif
}

/**
 * mv_compat_ibpb_exit_to_user() - ask for an IBPB before the next return
 *	to user space, after running a guest, where the kernel has the VMSCAPE
 *	mitigation and it is on (X86_FEATURE_IBPB_EXIT_TO_USER)
 *
 * Interrupts off.
 */
static inline void mv_compat_ibpb_exit_to_user(void)
{
#ifdef X86_FEATURE_IBPB_EXIT_TO_USER
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
#endif
}

#endif /* MV_COMPAT_H */
