// SPDX-License-Identifier: GPL-2.0
/*
 * Virtualization is on, on every online CPU, exactly while a VM exists,
 * and follows CPUs that go offline and come back.  Reads minivisor's
 * debugfs "virt" file and, on AMD, EFER.SVME itself.
 */
#include "kselftest_harness.h"
#include "lib/mv_util.h"

#define MSR_EFER	0xc0000080
#define EFER_SVME	_BITULL(12)

static int set_online(int cpu, int online)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online",
		 cpu);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write(fd, online ? "1" : "0", 1) == 1 ? 0 : -errno;
	close(fd);
	return r;
}

/* On SVM, the hardware bit must agree with minivisor's bookkeeping. */
static void check_svme(struct __test_metadata *_metadata,
		       const struct mv_virt_state *st)
{
	const char *backend = getenv("MV_BACKEND");
	__u64 efer;

	if (!backend || strcmp(backend, "svm"))
		return;
	for (int cpu = 0; cpu < st->ncpus; cpu++) {
		if (!st->online[cpu])
			continue;
		ASSERT_EQ(0, mv_rdmsr(cpu, MSR_EFER, &efer));
		EXPECT_EQ(st->on[cpu], !!(efer & EFER_SVME))
			TH_LOG("cpu%d EFER %#llx", cpu,
			       (unsigned long long)efer);
	}
}

FIXTURE(hotplug) {
	int dev;
};

FIXTURE_SETUP(hotplug)
{
	struct mv_virt_state st;

	self->dev = mv_open_dev();
	ASSERT_GE(self->dev, 0);
	if (mv_read_virt_state(&st))
		SKIP(return, "no debugfs minivisor/virt");
	ASSERT_EQ(0, st.users);
	ASSERT_EQ(0, mv_cpus_on(&st));
	check_svme(_metadata, &st);
}

FIXTURE_TEARDOWN(hotplug)
{
	set_online(1, 1);
	close(self->dev);
}

TEST_F(hotplug, on_while_vms_exist)
{
	struct mv_virt_state st;
	int vm1, vm2;

	vm1 = ioctl(self->dev, KVM_CREATE_VM, 0);
	ASSERT_GE(vm1, 0);
	ASSERT_EQ(0, mv_read_virt_state(&st));
	EXPECT_EQ(1, st.users);
	EXPECT_EQ(mv_cpus_online(&st), mv_cpus_on(&st));
	check_svme(_metadata, &st);

	vm2 = ioctl(self->dev, KVM_CREATE_VM, 0);
	ASSERT_GE(vm2, 0);
	ASSERT_EQ(0, mv_read_virt_state(&st));
	EXPECT_EQ(2, st.users);

	/* the last VM, not the first, turns it off */
	ASSERT_EQ(0, close(vm1));
	ASSERT_EQ(0, mv_read_virt_state(&st));
	EXPECT_EQ(1, st.users);
	EXPECT_EQ(mv_cpus_online(&st), mv_cpus_on(&st));

	ASSERT_EQ(0, close(vm2));
	ASSERT_EQ(0, mv_read_virt_state(&st));
	EXPECT_EQ(0, st.users);
	EXPECT_EQ(0, mv_cpus_on(&st));
	check_svme(_metadata, &st);
}

TEST_F(hotplug, cpu_offline_online)
{
	struct mv_virt_state st;
	int vm;

	ASSERT_EQ(0, mv_read_virt_state(&st));
	if (st.ncpus < 2 || !st.online[1])
		SKIP(return, "needs CPU 1 online");
	if (access("/sys/devices/system/cpu/cpu1/online", W_OK))
		SKIP(return, "CPU 1 cannot be hot-unplugged");

	vm = ioctl(self->dev, KVM_CREATE_VM, 0);
	ASSERT_GE(vm, 0);
	ASSERT_EQ(0, mv_read_virt_state(&st));
	EXPECT_EQ(1, st.on[1]);

	ASSERT_EQ(0, set_online(1, 0));
	ASSERT_EQ(0, mv_read_virt_state(&st));
	EXPECT_EQ(0, st.online[1]);
	EXPECT_EQ(0, st.on[1]);
	EXPECT_EQ(1, st.on[0]);
	check_svme(_metadata, &st);
	EXPECT_EQ(1, ioctl(vm, KVM_CHECK_EXTENSION, MV_CAP_INFO));

	ASSERT_EQ(0, set_online(1, 1));
	ASSERT_EQ(0, mv_read_virt_state(&st));
	EXPECT_EQ(1, st.online[1]);
	EXPECT_EQ(1, st.on[1]);
	check_svme(_metadata, &st);

	ASSERT_EQ(0, close(vm));
	ASSERT_EQ(0, mv_read_virt_state(&st));
	EXPECT_EQ(0, mv_cpus_on(&st));

	/* a CPU that comes online with no VM stays off */
	ASSERT_EQ(0, set_online(1, 0));
	ASSERT_EQ(0, set_online(1, 1));
	ASSERT_EQ(0, mv_read_virt_state(&st));
	EXPECT_EQ(0, st.on[1]);
	check_svme(_metadata, &st);
}

TEST_HARNESS_MAIN
