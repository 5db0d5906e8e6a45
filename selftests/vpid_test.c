// SPDX-License-Identifier: GPL-2.0
/*
 * More vCPUs than VPIDs: those without one run with "enable VPID" clear
 * (and the TLB flushed on every entry and exit), as correctly as the rest.
 * Before, they entered with VPID 0 and "enable VPID" set, and every VM
 * entry failed.
 *
 * The plan loads minivisor with vpid_limit=$MV_VPID_LIMIT (a test-only
 * parameter) and runs this with MV_VPID_LIMIT set: the test checks that
 * the module has that limit and runs the limit plus two vCPUs.  Without
 * MV_VPID_LIMIT (on KVM, or minivisor as loaded) it runs four.  The
 * vCPUs take turns on the CPUs, their thread moved every round.
 */
#include <sched.h>

#include "kselftest_harness.h"
#include "lib/vm.h"

#define MAX_GUESTS	8

/* Real mode at 0:@ip. */
static void real_mode_at(struct __test_metadata *_metadata,
			 struct mv_guest *g, __u16 ip)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	ASSERT_EQ(0, ioctl(g->vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = ip;
	regs.rflags = 2;
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_REGS, &regs));
}

/* minivisor's vpid_limit parameter, or -1 when it has none. */
static int module_vpid_limit(void)
{
	FILE *f = fopen("/sys/module/minivisor/parameters/vpid_limit", "r");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

TEST(more_vcpus_than_vpids)
{
	/*
	 * Each guest adds its own step (EDX) to a counter in EBX, stores it
	 * at 0x2000 and sends it out: a vCPU running another's state, or a
	 * stale mapping of another's memory, shows as a wrong value.
	 */
	static const unsigned char code[] = {
		0x66, 0x01, 0xd3,		/* add ebx, edx */
		0x66, 0x89, 0x1e, 0x00, 0x20,	/* mov [0x2000], ebx */
		0x66, 0x89, 0xd8,		/* mov eax, ebx */
		0x66, 0xe7, 0x10,		/* out 0x10, eax */
		0xeb, 0xf0,			/* jmp back to add */
	};
	const char *env = getenv("MV_VPID_LIMIT");
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct mv_guest g[MAX_GUESTS];
	int n = 4, rounds = 32, made = 0;
	struct kvm_regs regs;
	cpu_set_t set;
	__u32 stored;

	if (env && *env && strcmp(mv_dev_path(), "/dev/kvm")) {
		int limit = atoi(env);

		ASSERT_EQ(limit, module_vpid_limit())
			TH_LOG("minivisor was not loaded with vpid_limit=%d",
			       limit);
		n = limit + 2;
		ASSERT_LE(n, MAX_GUESTS);
	}

	for (int i = 0; i < n; i++) {
		int r = mv_guest_create(&g[i], 0, 0x10000);

		if (r == -EOPNOTSUPP)
			SKIP(goto out, "this backend does not run vCPUs yet");
		ASSERT_EQ(0, r) TH_LOG("guest %d: %s", i, strerror(-r));
		made = i + 1;
		mv_guest_put(&g[i], 0x1000, code, sizeof(code));
		real_mode_at(_metadata, &g[i], 0x1000);
		ASSERT_EQ(0, ioctl(g[i].vcpu, KVM_GET_REGS, &regs));
		regs.rdx = i + 1;
		ASSERT_EQ(0, ioctl(g[i].vcpu, KVM_SET_REGS, &regs));
	}

	for (int round = 1; round <= rounds; round++) {
		if (ncpus > 1) {
			CPU_ZERO(&set);
			CPU_SET(round % ncpus, &set);
			ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
		}
		for (int i = 0; i < n; i++) {
			__u32 want = (__u32)round * (i + 1);

			ASSERT_EQ(0, mv_guest_run(&g[i]));
			struct kvm_run *run = g[i].run;

			ASSERT_EQ(KVM_EXIT_IO, run->exit_reason)
				TH_LOG("guest %d, round %d: exit %u, entry failure 0x%llx",
				       i, round, run->exit_reason,
				       run->fail_entry.hardware_entry_failure_reason);
			ASSERT_EQ(want, mv_guest_io_data(&g[i]));
			memcpy(&stored, g[i].mem + 0x2000, sizeof(stored));
			ASSERT_EQ(want, stored);
		}
	}
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, ioctl(g[i].vcpu, KVM_GET_REGS, &regs));
		EXPECT_EQ((__u64)rounds * (i + 1), regs.rbx);
		EXPECT_EQ((__u64)(i + 1), regs.rdx);
		/* at the OUT: it completes on the next KVM_RUN */
		EXPECT_EQ(0x100bULL, regs.rip);
	}
out:
	for (int i = 0; i < made; i++)
		mv_guest_destroy(&g[i]);
}

TEST_HARNESS_MAIN
