// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_SET_USER_MEMORY_REGION: what is accepted and the errno of what is
 * not, as KVM answers (beyond_tables runs against KVM too).
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "lib/mv_util.h"

#define MB (1024ULL * 1024)

FIXTURE(memslot) {
	int dev, vm;
	void *mem;		/* 64 MiB of address space for the slots */
};

FIXTURE_SETUP(memslot)
{
	self->dev = mv_open_dev();
	ASSERT_GE(self->dev, 0);
	self->vm = ioctl(self->dev, KVM_CREATE_VM, 0);
	ASSERT_GE(self->vm, 0);
	self->mem = mmap(NULL, 64 * MB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(memslot)
{
	munmap(self->mem, 64 * MB);
	close(self->vm);
	close(self->dev);
}

static int set_region(int vm, __u32 slot, __u32 flags, __u64 gpa, __u64 size,
		      __u64 uaddr)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = uaddr,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

#define UA(self, off) ((__u64)(unsigned long)(self)->mem + (off))

TEST_F(memslot, capabilities)
{
	EXPECT_EQ(1, ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY));
	EXPECT_EQ(1, ioctl(self->vm, KVM_CHECK_EXTENSION,
			   KVM_CAP_READONLY_MEM));
	/* KVM's x86 number: SHRT_MAX less its 3 internal slots */
	EXPECT_EQ(32764, ioctl(self->vm, KVM_CHECK_EXTENSION,
			       KVM_CAP_NR_MEMSLOTS));
	EXPECT_EQ(32764, ioctl(self->dev, KVM_CHECK_EXTENSION,
			       KVM_CAP_NR_MEMSLOTS));
}

TEST_F(memslot, create_same_delete)
{
	EXPECT_EQ(0, set_region(self->vm, 0, 0, 0, 2 * MB, UA(self, 0)));
	/* the same request again changes nothing and succeeds */
	EXPECT_EQ(0, set_region(self->vm, 0, 0, 0, 2 * MB, UA(self, 0)));
	EXPECT_EQ(0, set_region(self->vm, 1, KVM_MEM_READONLY, 0xfff00000, MB,
				UA(self, 4 * MB)));
	EXPECT_EQ(0, set_region(self->vm, 0, 0, 0, 0, 0));
	/* deleted: deleting again is an error, recreating is not */
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, 0, 0, 0));
	EXPECT_EQ(0, set_region(self->vm, 0, 0, 0, 2 * MB, UA(self, 0)));
}

TEST_F(memslot, bad_arguments)
{
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, KVM_MEM_LOG_DIRTY_PAGES, 0,
				      MB, UA(self, 0)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 1U << 9, 0, MB,
				      UA(self, 0)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, 0, MB - 1, UA(self, 0)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, 0x123, MB, UA(self, 0)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, 0, MB, UA(self, 8)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 1U << 16, 0, 0, MB,
				      UA(self, 0)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 32764, 0, 0, MB, UA(self, 0)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, -MB, 2 * MB,
				      UA(self, 0)));
	/* a kernel address is no VMM memory */
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, 0, MB,
				      0xffffffff80000000ULL));
	/* and the request itself must be readable */
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* none of that left a slot behind */
	EXPECT_EQ(0, set_region(self->vm, 0, 0, 0, 64 * MB, UA(self, 0)));
}

TEST_F(memslot, overlap)
{
	ASSERT_EQ(0, set_region(self->vm, 0, 0, 16 * MB, 16 * MB,
				UA(self, 0)));
	EXPECT_EQ(-EEXIST, set_region(self->vm, 1, 0, 20 * MB, MB,
				      UA(self, 32 * MB)));
	EXPECT_EQ(-EEXIST, set_region(self->vm, 1, 0, 15 * MB, 2 * MB,
				      UA(self, 32 * MB)));
	EXPECT_EQ(-EEXIST, set_region(self->vm, 1, 0, 31 * MB, 2 * MB,
				      UA(self, 32 * MB)));
	EXPECT_EQ(-EEXIST, set_region(self->vm, 1, 0, 0, 64 * MB,
				      UA(self, 0)));
	EXPECT_EQ(0, set_region(self->vm, 1, 0, 32 * MB, MB,
				UA(self, 32 * MB)));
	EXPECT_EQ(0, set_region(self->vm, 2, 0, 15 * MB, MB,
				UA(self, 40 * MB)));
}

TEST_F(memslot, modify)
{
	ASSERT_EQ(0, set_region(self->vm, 0, 0, 0, 2 * MB, UA(self, 0)));
	ASSERT_EQ(0, set_region(self->vm, 1, 0, 8 * MB, MB, UA(self, 8 * MB)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, 0, 4 * MB, UA(self, 0)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, 0, 2 * MB,
				      UA(self, 2 * MB)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, KVM_MEM_READONLY, 0, 2 * MB,
				      UA(self, 0)));
	/* moving onto another slot is refused, elsewhere allowed */
	EXPECT_EQ(-EEXIST, set_region(self->vm, 0, 0, 7 * MB, 2 * MB,
				      UA(self, 0)));
	EXPECT_EQ(0, set_region(self->vm, 0, 0, 32 * MB, 2 * MB, UA(self, 0)));
	/* the old place is free now */
	EXPECT_EQ(0, set_region(self->vm, 2, 0, 0, 2 * MB, UA(self, 16 * MB)));
}

/*
 * Every slot id, one page each, the ids shuffled over rising addresses
 * (slot i at place P(i)), every 64th place left free and filled last so
 * that those land between others; one more id is EINVAL; every 64th id
 * deleted, its id and range free again, and a slot over a deleted one's
 * range is EEXIST only where a live one is.
 */
TEST_F_TIMEOUT(memslot, all_slots, 900)
{
	int max = ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	__u64 page = 4096, inv = 1;

	ASSERT_LT(0, max);
	/* P is a permutation, as 7919 is prime; ID(p) its inverse */
#define P(i) ((__u64)(i) * 7919 % max)
#define ID(p) ((int)((__u64)(p) * inv % max))
#define GPA(i) (P(i) * 2 * page)
#define HVA(i) UA(self, ((__u64)(i) % 1024) * page)
	while (P(inv) != 1)
		inv++;
	for (int late = 0; late < 2; late++) {
		for (int p = 0; p < max; p++) {
			if ((p % 64 == 0) != late)
				continue;
			ASSERT_EQ(0, set_region(self->vm, ID(p), 0, GPA(ID(p)),
						page, HVA(ID(p))))
				TH_LOG("slot %d", ID(p));
		}
	}
	EXPECT_EQ(-EINVAL, set_region(self->vm, max, 0, 2ULL * max * page,
				      page, HVA(0)));
	for (int i = 0; i < max; i += 64) {
		ASSERT_EQ(0, set_region(self->vm, i, 0, 0, 0, 0))
			TH_LOG("slot %d", i);
	}
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, 0, 0, 0));
	/* slot 0's old range is free; slot 1's is not */
	EXPECT_EQ(0, set_region(self->vm, 0, 0, GPA(0), page, HVA(0)));
	EXPECT_EQ(-EEXIST, set_region(self->vm, 64, 0, GPA(1), page, HVA(64)));
	EXPECT_EQ(0, set_region(self->vm, 64, 0, GPA(64), page, HVA(64)));
	/* moved into a deleted one's place, then another into its old one */
	EXPECT_EQ(0, set_region(self->vm, 1, 0, GPA(128), page, HVA(1)));
	EXPECT_EQ(0, set_region(self->vm, 3, 0, GPA(1), page, HVA(3)));
	EXPECT_EQ(-EEXIST, set_region(self->vm, 5, 0, GPA(128), page, HVA(5)));
#undef P
#undef ID
#undef GPA
#undef HVA
}

/*
 * Slots past what the second-level tables can map are refused (KVM: the
 * host's MAXPHYADDR; minivisor's 4-level tables also stop at 48 bits),
 * created or moved there: their frames would alias low ones.  One ending
 * on the last frame that can be mapped is fine.
 */
TEST_F(memslot, beyond_tables)
{
	unsigned int eax, ebx, ecx, edx, bits;
	__u64 top;

	__asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
			 : "a"(0x80000008), "c"(0));
	bits = eax & 0xff;
	ASSERT_LE(36U, bits);
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, 1ULL << 52, MB,
				      UA(self, 0)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, (1ULL << 52) - MB,
				      2 * MB, UA(self, 0)));
	if (bits > 48)
		SKIP(return, "MAXPHYADDR %u: where the limit is depends", bits);
	top = 1ULL << bits;
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, top, MB, UA(self, 0)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 0, 0, top - MB, 2 * MB,
				      UA(self, 0)));
	EXPECT_EQ(0, set_region(self->vm, 0, 0, top - MB, MB, UA(self, 0)));
	EXPECT_EQ(0, set_region(self->vm, 1, 0, 0, MB, UA(self, MB)));
	EXPECT_EQ(-EINVAL, set_region(self->vm, 1, 0, top, MB, UA(self, MB)));
	EXPECT_EQ(0, set_region(self->vm, 1, 0, top - 2 * MB, MB,
				UA(self, MB)));
	/* nothing of the refused requests was kept */
	EXPECT_EQ(0, set_region(self->vm, 2, 0, MB, MB, UA(self, 2 * MB)));
}

TEST_HARNESS_MAIN
