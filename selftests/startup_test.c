// SPDX-License-Identifier: GPL-2.0
/*
 * What a VMM asks for and sets before its first KVM_RUN, with KVM's
 * answers: the capabilities QEMU requires (KVM_CAP_DESTROY_MEMORY_REGION_WORKS,
 * KVM_CAP_JOIN_MEMORY_REGIONS_WORKS, KVM_CAP_SET_TSS_ADDR, KVM_CAP_MP_STATE,
 * KVM_CAP_IMMEDIATE_EXIT, KVM_CAP_SYNC_MMU), KVM_SET_TSS_ADDR and the MP
 * state of a vCPU whose local APIC is in userspace.  Written against
 * <linux/kvm.h> only, so that it runs on /dev/kvm too.
 */
#include "kselftest_harness.h"
#include "lib/mv_util.h"

FIXTURE(startup) {
	int dev, vm, vcpu;
};

FIXTURE_SETUP(startup)
{
	self->dev = mv_open_dev();
	ASSERT_GE(self->dev, 0) TH_LOG("open %s: %s", mv_dev_path(),
				       strerror(errno));
	self->vm = ioctl(self->dev, KVM_CREATE_VM, 0);
	ASSERT_GE(self->vm, 0) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
	self->vcpu = ioctl(self->vm, KVM_CREATE_VCPU, 0);
	ASSERT_GE(self->vcpu, 0) TH_LOG("KVM_CREATE_VCPU: %s",
					strerror(errno));
}

FIXTURE_TEARDOWN(startup)
{
	close(self->vcpu);
	close(self->vm);
	close(self->dev);
}

/* Each is a plain yes, on the system fd and on the VM fd alike. */
TEST_F(startup, capabilities)
{
	static const int caps[] = {
		KVM_CAP_DESTROY_MEMORY_REGION_WORKS,
		KVM_CAP_JOIN_MEMORY_REGIONS_WORKS,
		KVM_CAP_SET_TSS_ADDR,
		KVM_CAP_MP_STATE,
		KVM_CAP_IMMEDIATE_EXIT,
		KVM_CAP_SYNC_MMU,
		KVM_CAP_EXT_CPUID,
		KVM_CAP_USER_MEMORY,
	};

	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		EXPECT_EQ(1, ioctl(self->dev, KVM_CHECK_EXTENSION, caps[i]))
			TH_LOG("capability %d on the system fd", caps[i]);
		EXPECT_EQ(1, ioctl(self->vm, KVM_CHECK_EXTENSION, caps[i]))
			TH_LOG("capability %d on the VM fd", caps[i]);
	}
}

/*
 * The three pages of the real-mode TSS must fit below 4 GiB: the last
 * address KVM takes is 4 GiB - 3 pages.  QEMU puts them at 0xfffbd000.
 */
TEST_F(startup, set_tss_addr)
{
	EXPECT_EQ(0, ioctl(self->vm, KVM_SET_TSS_ADDR, 0xfffbd000UL));
	EXPECT_EQ(0, ioctl(self->vm, KVM_SET_TSS_ADDR, 0xffffd000UL));
	EXPECT_EQ(0, ioctl(self->vm, KVM_SET_TSS_ADDR, 0UL));
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_TSS_ADDR, 0xffffd001UL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_TSS_ADDR, 0xfffff000UL));
	EXPECT_EQ(EINVAL, errno);
	/* the whole unsigned long counts */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_TSS_ADDR, 0x1fffbd000UL));
	EXPECT_EQ(EINVAL, errno);
	/* a VM ioctl, not a vCPU one */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vcpu, KVM_SET_TSS_ADDR, 0xfffbd000UL));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * Without an in-kernel local APIC every vCPU is runnable from its
 * creation, stays so (HLT exits to userspace), and runnable is the only
 * state it may be given.
 */
TEST_F(startup, mp_state)
{
	static const __u32 refused[] = {
		KVM_MP_STATE_UNINITIALIZED,
		KVM_MP_STATE_INIT_RECEIVED,
		KVM_MP_STATE_HALTED,
		KVM_MP_STATE_SIPI_RECEIVED,
		KVM_MP_STATE_STOPPED,
		KVM_MP_STATE_CHECK_STOP,
		KVM_MP_STATE_OPERATING,
		KVM_MP_STATE_LOAD,
		KVM_MP_STATE_AP_RESET_HOLD,
		KVM_MP_STATE_SUSPENDED,
		1000,
	};
	struct kvm_mp_state mp = { .mp_state = 1234 };

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);

	mp.mp_state = KVM_MP_STATE_RUNNABLE;
	EXPECT_EQ(0, ioctl(self->vcpu, KVM_SET_MP_STATE, &mp));
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		mp.mp_state = refused[i];
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->vcpu, KVM_SET_MP_STATE, &mp))
			TH_LOG("MP state %u", refused[i]);
		EXPECT_EQ(EINVAL, errno);
	}
	mp.mp_state = 1234;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vcpu, KVM_GET_MP_STATE, NULL));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vcpu, KVM_SET_MP_STATE, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_HARNESS_MAIN
