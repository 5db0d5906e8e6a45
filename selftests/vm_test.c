// SPDX-License-Identifier: GPL-2.0
/*
 * VM file descriptors: creation, lifetime, and their ioctls.
 */
#include <sys/resource.h>

#include "kselftest_harness.h"
#include "lib/mv_util.h"

FIXTURE(vm) {
	int dev;
};

FIXTURE_SETUP(vm)
{
	self->dev = mv_open_dev();
	ASSERT_GE(self->dev, 0) TH_LOG("open %s: %s", mv_dev_path(),
				       strerror(errno));
}

FIXTURE_TEARDOWN(vm)
{
	close(self->dev);
}

/*
 * Each VM that is the only one turns virtualization on and off on every
 * CPU.  1000 rounds by default; $MV_VM_ROUNDS sizes it down for slow
 * machines.  The harness's 30 s are too few for 1000 rounds under KASAN.
 */
TEST_F_TIMEOUT(vm, create_close_1000, 600)
{
	const char *env = getenv("MV_VM_ROUNDS");
	int rounds = env ? atoi(env) : 1000;

	ASSERT_GT(rounds, 0);
	for (int i = 0; i < rounds; i++) {
		int vm = ioctl(self->dev, KVM_CREATE_VM, 0);

		ASSERT_GE(vm, 0) TH_LOG("VM %d: %s", i, strerror(errno));
		ASSERT_EQ(1, ioctl(vm, KVM_CHECK_EXTENSION, MV_CAP_INFO));
		ASSERT_EQ(0, close(vm));
	}
}

TEST_F(vm, many_at_once)
{
	enum { N = 200 };
	int fds[N];

	for (int i = 0; i < N; i++) {
		fds[i] = ioctl(self->dev, KVM_CREATE_VM, 0);
		ASSERT_GE(fds[i], 0) TH_LOG("VM %d: %s", i, strerror(errno));
	}
	/* every one of them answers, and they are distinct files */
	for (int i = 0; i < N; i++) {
		EXPECT_EQ(1, ioctl(fds[i], KVM_CHECK_EXTENSION, MV_CAP_INFO));
		if (i)
			EXPECT_NE(fds[i - 1], fds[i]);
	}
	/* close in an order unlike creation's */
	for (int i = 0; i < N; i += 2)
		EXPECT_EQ(0, close(fds[i]));
	for (int i = N - 1; i > 0; i -= 2)
		EXPECT_EQ(0, close(fds[i]));
}

TEST_F(vm, outlives_device_fd)
{
	struct minivisor_info info;
	int vm = ioctl(self->dev, KVM_CREATE_VM, 0);

	ASSERT_GE(vm, 0);
	ASSERT_EQ(0, close(self->dev));
	self->dev = mv_open_dev();	/* for the teardown */

	EXPECT_EQ(1, ioctl(vm, KVM_CHECK_EXTENSION, MV_CAP_INFO));
	EXPECT_EQ(0, ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP));
	ASSERT_EQ(0, ioctl(vm, MV_GET_INFO, &info));
	EXPECT_EQ(MV_ABI_VERSION, info.abi_version);
	EXPECT_EQ(0, close(vm));
}

TEST_F(vm, fd_is_cloexec)
{
	int vm = ioctl(self->dev, KVM_CREATE_VM, 0);

	ASSERT_GE(vm, 0);
	EXPECT_EQ(FD_CLOEXEC, fcntl(vm, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(vm, F_GETFL) & O_ACCMODE);
	close(vm);
}

TEST_F(vm, vm_fd_errors)
{
	int vm = ioctl(self->dev, KVM_CREATE_VM, 0);

	ASSERT_GE(vm, 0);
	/* system ioctls are not VM ioctls */
	EXPECT_EQ(-1, ioctl(vm, KVM_GET_API_VERSION, 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(vm, KVM_CREATE_VM, 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(vm, _IO(KVMIO, 0xff), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(vm, MV_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, close(vm));
}

/* Running out of file descriptors is an error, not a leak. */
TEST_F(vm, fd_limit)
{
	struct rlimit rl = { .rlim_cur = 16, .rlim_max = 16 };
	int last = -1, n = 0, vm;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	while ((vm = ioctl(self->dev, KVM_CREATE_VM, 0)) >= 0) {
		last = vm;
		n++;
		ASSERT_LT(n, 16);
	}
	EXPECT_EQ(EMFILE, errno);
	EXPECT_GT(n, 0);
	for (int fd = 3; fd <= last; fd++)
		if (fd != self->dev)
			close(fd);
	/* and a VM can be made again once fds are free */
	vm = ioctl(self->dev, KVM_CREATE_VM, 0);
	EXPECT_GE(vm, 0);
	close(vm);
}

TEST_HARNESS_MAIN
