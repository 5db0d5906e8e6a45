// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/minivisor: the system ioctls and their errors.
 */
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "lib/mv_util.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = mv_open_dev();
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", mv_dev_path(),
				      strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

/*
 * A misc character device that only root may open, as devtmpfs makes it
 * (udev's rule gives it to group kvm, 0660, like /dev/kvm, where the
 * package is installed; the test machines have no udev).
 */
TEST_F(dev, node)
{
	struct stat st;

	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(10U, major(st.st_rdev));	/* MISC_MAJOR */
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
	EXPECT_EQ(0U, st.st_gid);
}

TEST_F(dev, api_version)
{
	EXPECT_EQ(KVM_API_VERSION, ioctl(self->fd, KVM_GET_API_VERSION, 0));
	EXPECT_EQ(12, ioctl(self->fd, KVM_GET_API_VERSION, 0));
	/* KVM refuses an argument to this ioctl, and so do we. */
	EXPECT_EQ(-1, ioctl(self->fd, KVM_GET_API_VERSION, 1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, check_extension)
{
	struct minivisor_info info;

	/* minivisor's own capability is there... */
	EXPECT_EQ(1, ioctl(self->fd, KVM_CHECK_EXTENSION, MV_CAP_INFO));
	/* ...the MMU modes one may choose are the ones MV_GET_INFO lists... */
	ASSERT_EQ(0, ioctl(self->fd, MV_GET_INFO, &info));
	EXPECT_EQ(info.mmu_modes,
		  ioctl(self->fd, KVM_CHECK_EXTENSION, MV_CAP_MMU_MODE));
	/* ...the root cache switch where shadow paging is... */
	EXPECT_EQ(!!(info.mmu_modes & MV_MMU_SHADOW),
		  ioctl(self->fd, KVM_CHECK_EXTENSION,
			MV_CAP_SHADOW_ROOT_CACHE));
	/* ...its unassigned neighbours are not there... */
	EXPECT_EQ(0, ioctl(self->fd, KVM_CHECK_EXTENSION, MV_CAP_BASE + 3));
	EXPECT_EQ(0, ioctl(self->fd, KVM_CHECK_EXTENSION, MV_CAP_BASE - 1));
	/* ...memory slots are... */
	EXPECT_EQ(1, ioctl(self->fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY));
	EXPECT_EQ(32764, ioctl(self->fd, KVM_CHECK_EXTENSION,
			       KVM_CAP_NR_MEMSLOTS));
	/* ...but nothing not implemented yet or unknown: answer 0. */
	EXPECT_EQ(0, ioctl(self->fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP));
	EXPECT_EQ(0, ioctl(self->fd, KVM_CHECK_EXTENSION, KVM_CAP_HLT));
	EXPECT_EQ(0, ioctl(self->fd, KVM_CHECK_EXTENSION, 100000));
	EXPECT_EQ(0, ioctl(self->fd, KVM_CHECK_EXTENSION, -1L));
}

TEST_F(dev, vcpu_mmap_size)
{
	long page = sysconf(_SC_PAGESIZE);
	int size = ioctl(self->fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	/* struct kvm_run and the PIO data page behind it */
	EXPECT_EQ(2 * page, size);
	EXPECT_GE(size, (int)sizeof(struct kvm_run));
	EXPECT_EQ(-1, ioctl(self->fd, KVM_GET_VCPU_MMAP_SIZE, 1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, get_info)
{
	struct minivisor_info info;
	__u32 other_vendor;

	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, ioctl(self->fd, MV_GET_INFO, &info));
	EXPECT_EQ(MV_ABI_VERSION, info.abi_version);
	EXPECT_TRUE(info.backend == MV_BACKEND_VMX ||
		    info.backend == MV_BACKEND_SVM);
	EXPECT_EQ(0U, info.mmu_modes & ~(MV_MMU_SHADOW | MV_MMU_TDP));
	for (int i = 0; i < 6; i++)
		EXPECT_EQ(0ULL, info.reserved[i]);
	/* VMX features in bits 0-7, SVM ones in bits 8-15 */
	other_vendor = info.backend == MV_BACKEND_VMX ? 0xff00 : 0xff;
	EXPECT_EQ(0U, info.features & other_vendor);
	/* TDP is offered only when the CPU has EPT or NPT. */
	if (info.mmu_modes & MV_MMU_TDP)
		EXPECT_NE(0U, info.features & (MV_FEAT_EPT | MV_FEAT_NPT));
	/* $MV_BACKEND names the machine the runner booted. */
	if (getenv("MV_BACKEND")) {
		const char *want = getenv("MV_BACKEND");

		EXPECT_EQ(strcmp(want, "vmx") ? MV_BACKEND_SVM : MV_BACKEND_VMX,
			  info.backend);
		/* both test machines have EPT or NPT */
		EXPECT_NE(0U, info.features & (MV_FEAT_EPT | MV_FEAT_NPT));
		/* guests on NPT or EPT, or on shadow tables, with either */
		EXPECT_EQ(MV_MMU_TDP | MV_MMU_SHADOW, info.mmu_modes);
	}
}

TEST_F(dev, get_info_bad_pointer)
{
	EXPECT_EQ(-1, ioctl(self->fd, MV_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, MV_GET_INFO, (void *)16));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, unknown_ioctls)
{
	/* KVM ioctls that belong to a VM or vCPU fd, not the system fd */
	EXPECT_EQ(-1, ioctl(self->fd, KVM_CREATE_VCPU, 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KVM_RUN, 0));
	EXPECT_EQ(ENOTTY, errno);
	/* numbers nobody defined, under both magics */
	EXPECT_EQ(-1, ioctl(self->fd, _IO(KVMIO, 0xff), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(MVIO, 0xff), 0));
	EXPECT_EQ(ENOTTY, errno);
	/* MV_GET_INFO's number with another size is another ioctl */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(MVIO, 0x80, __u32), 0));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, create_vm_bad_type)
{
	EXPECT_EQ(-1, ioctl(self->fd, KVM_CREATE_VM, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KVM_CREATE_VM, -1L));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, no_mmap_no_rw)
{
	char buf[8];

	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED,
				   self->fd, 0));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
}

TEST_HARNESS_MAIN
