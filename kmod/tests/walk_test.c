// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the guest page-table walker (kmod/mmu/walk.c), on page tables
 * built in a small made-up guest memory, in each paging mode.
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "../mmu/walk.h"

#define MEM_SIZE	(64 * 1024)

/* guest memory: MEM_SIZE bytes at guest-physical 0 */
struct fake_mem {
	u8 bytes[MEM_SIZE];
	int cmpxchg_races;	/* compare_exchange calls to fail first */
	int cmpxchgs;		/* compare_exchange calls made */
};

static int fake_read(void *priv, u64 gpa, u64 *val, unsigned int size)
{
	struct fake_mem *m = priv;

	if (gpa + size > MEM_SIZE)
		return -EFAULT;
	*val = 0;
	memcpy(val, m->bytes + gpa, size);
	return 0;
}

static int fake_cmpxchg(void *priv, u64 gpa, u64 old, u64 new,
			unsigned int size)
{
	struct fake_mem *m = priv;
	u64 cur = 0;

	if (gpa + size > MEM_SIZE)
		return -EFAULT;
	m->cmpxchgs++;
	if (m->cmpxchg_races) {
		m->cmpxchg_races--;
		return 1;
	}
	memcpy(&cur, m->bytes + gpa, size);
	if (cur != old)
		return 1;
	memcpy(m->bytes + gpa, &new, size);
	return 0;
}

static const struct mv_walk_ops fake_ops = {
	.read = fake_read,
	.compare_exchange = fake_cmpxchg,
};

static void put32(struct fake_mem *m, u64 gpa, u32 v)
{
	memcpy(m->bytes + gpa, &v, 4);
}

static void put64(struct fake_mem *m, u64 gpa, u64 v)
{
	memcpy(m->bytes + gpa, &v, 8);
}

static u64 get64(struct fake_mem *m, u64 gpa)
{
	u64 v;

	memcpy(&v, m->bytes + gpa, 8);
	return v;
}

static struct fake_mem *mem(struct kunit *test)
{
	struct fake_mem *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, m);
	return m;
}

#define P	0x1ULL
#define RW	0x2ULL
#define US	0x4ULL
#define A	0x20ULL
#define D	0x40ULL
#define PS	0x80ULL
#define NX	BIT_ULL(63)

static void walk_paging_off(struct kunit *test)
{
	struct mv_walk_env env = { .cr0 = X86_CR0_PE, .maxphyaddr = 40 };
	struct fake_mem *m = mem(test);
	struct mv_walk w;

	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x1234567890ULL,
					  MV_PF_WRITE, &w), 0);
	/* outside long mode, linear addresses are 32 bits */
	KUNIT_EXPECT_EQ(test, w.gpa, 0x34567890ULL);
	KUNIT_EXPECT_EQ(test, w.level, 0U);
}

/* 32-bit paging: CR3 0x1000, PDE[1] -> PT at 0x2000, PTE[2] -> 0x5000 */
static void walk_32bit_4k(struct kunit *test)
{
	struct mv_walk_env env = {
		.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000,
		.maxphyaddr = 40,
	};
	struct fake_mem *m = mem(test);
	u64 gva = (1 << 22) | (2 << 12) | 0x123;
	struct mv_walk w;
	u32 pde, pte;

	put32(m, 0x1000 + 4 * 1, 0x2000 | P | RW | US);
	put32(m, 0x2000 + 4 * 2, 0x5000 | P | RW | US);
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, gva,
					  MV_PF_WRITE | MV_PF_USER, &w), 0);
	KUNIT_EXPECT_EQ(test, w.gpa, 0x5123ULL);
	KUNIT_EXPECT_EQ(test, w.level, 1U);
	memcpy(&pde, m->bytes + 0x1004, 4);
	memcpy(&pte, m->bytes + 0x2008, 4);
	/* Accessed on both, Dirty on the leaf only */
	KUNIT_EXPECT_EQ(test, pde, 0x2000 | P | RW | US | A);
	KUNIT_EXPECT_EQ(test, pte, 0x5000 | P | RW | US | A | D);
}

/* 4 MiB pages need CR4.PSE; bits 20:13 of the PDE give address bits 39:32 */
static void walk_32bit_pse(struct kunit *test)
{
	struct mv_walk_env env = {
		.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000,
		.cr4 = X86_CR4_PSE, .maxphyaddr = 40,
	};
	struct fake_mem *m = mem(test);
	struct mv_walk w;

	put32(m, 0x1000 + 4 * 3, 0x00c00000 | (0x5 << 13) | P | RW | PS);
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x00d23456,
					  0, &w), 0);
	KUNIT_EXPECT_EQ(test, w.gpa, 0x500d23456ULL);
	KUNIT_EXPECT_EQ(test, w.level, 2U);

	/* bit 21 is reserved in a 4 MiB PDE */
	put32(m, 0x1000 + 4 * 3, 0x00c00000 | (1 << 21) | P | RW | PS);
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x00d23456,
					  MV_PF_WRITE, &w), MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_PRESENT | MV_PF_RSVD |
			MV_PF_WRITE);

	/* without CR4.PSE, PS is ignored: the PDE points to a table */
	env.cr4 = 0;
	put32(m, 0x1000 + 4 * 3, 0x3000 | P | RW | PS);
	put32(m, 0x3000 + 4 * 0x123, 0x7000 | P);
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x00d23456,
					  0, &w), 0);
	KUNIT_EXPECT_EQ(test, w.gpa, 0x7456ULL);
}

static void walk_not_present(struct kunit *test)
{
	struct mv_walk_env env = {
		.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000,
		.maxphyaddr = 40,
	};
	struct fake_mem *m = mem(test);
	struct mv_walk w;

	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x1000, 0, &w),
			MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, 0U);
	put32(m, 0x1000, 0x2000 | P | RW | US);
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x1000,
					  MV_PF_WRITE | MV_PF_USER, &w),
			MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_WRITE | MV_PF_USER);
	/* nothing was marked accessed on a fault */
	KUNIT_EXPECT_EQ(test, m->cmpxchgs, 0);
}

/* U/S and R/W, CR0.WP, SMEP and SMAP (with EFLAGS.AC) */
static void walk_permissions(struct kunit *test)
{
	struct mv_walk_env env = {
		.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000,
		.maxphyaddr = 40,
	};
	struct fake_mem *m = mem(test);
	struct mv_walk w;

	put32(m, 0x1000, 0x2000 | P | RW | US);
	put32(m, 0x2000 + 4, 0x5000 | P);		/* supervisor, RO */
	put32(m, 0x2000 + 8, 0x6000 | P | US);		/* user, RO */

	/* user read of a supervisor page */
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x1000,
					  MV_PF_USER, &w), MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_PRESENT | MV_PF_USER);
	/* supervisor write to a read-only page: fine without CR0.WP */
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x1000,
					  MV_PF_WRITE, &w), 0);
	env.cr0 |= X86_CR0_WP;
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x1000,
					  MV_PF_WRITE, &w), MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_PRESENT | MV_PF_WRITE);
	/* user write to a user read-only page, whatever CR0.WP */
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x2000,
					  MV_PF_WRITE | MV_PF_USER, &w),
			MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_PRESENT | MV_PF_WRITE |
			MV_PF_USER);

	/* SMEP: no supervisor fetch from a user page; I/D is reported */
	env.cr4 = X86_CR4_SMEP;
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x2000,
					  MV_PF_FETCH, &w), MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_PRESENT | MV_PF_FETCH);
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x2000, 0, &w),
			0);

	/* SMAP: no supervisor data access to a user page, unless AC */
	env.cr4 = X86_CR4_SMAP;
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x2000, 0, &w),
			MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_PRESENT);
	env.rflags = X86_EFLAGS_AC;
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x2000, 0, &w),
			0);
	KUNIT_EXPECT_EQ(test, w.gpa, 0x6000ULL);
}

/* PAE: PDPTEs at CR3 (32-byte aligned), 2 MiB pages, NX */
static void walk_pae(struct kunit *test)
{
	struct mv_walk_env env = {
		.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1020,
		.cr4 = X86_CR4_PAE, .efer = EFER_NX, .maxphyaddr = 40,
	};
	struct fake_mem *m = mem(test);
	u64 gva = (2ULL << 30) | (3 << 21) | 0x12345;
	struct mv_walk w;

	put64(m, 0x1020 + 8 * 2, 0x2000 | P);
	put64(m, 0x2000 + 8 * 3, 0x40200000ULL | P | RW | PS | NX);
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, gva, 0, &w), 0);
	KUNIT_EXPECT_EQ(test, w.gpa, 0x40212345ULL);
	KUNIT_EXPECT_EQ(test, w.level, 2U);
	/* the PDPTE has no A bit; the PDE got one */
	KUNIT_EXPECT_EQ(test, get64(m, 0x1030), 0x2000 | P);
	KUNIT_EXPECT_EQ(test, get64(m, 0x2018),
			0x40200000ULL | P | RW | PS | NX | A);
	/* NX forbids fetches */
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, gva,
					  MV_PF_FETCH, &w), MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_PRESENT | MV_PF_FETCH);
	/* without EFER.NXE, bit 63 is reserved */
	env.efer = 0;
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, gva, 0, &w),
			MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_PRESENT | MV_PF_RSVD);
	/* bits 20:13 of a 2 MiB PDE are reserved */
	env.efer = EFER_NX;
	put64(m, 0x2000 + 8 * 3, 0x40200000ULL | (1 << 13) | P | PS);
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, gva, 0, &w),
			MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_PRESENT | MV_PF_RSVD);
}

/* 4-level: 1 GiB, 2 MiB and 4 KiB pages, and MAXPHYADDR */
static void walk_4level(struct kunit *test)
{
	struct mv_walk_env env = {
		.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000,
		.cr4 = X86_CR4_PAE, .efer = EFER_LME | EFER_LMA | EFER_NX,
		.maxphyaddr = 40,
	};
	u64 base = 0xffff800000000000ULL;	/* PML4 index 256 */
	struct fake_mem *m = mem(test);
	struct mv_walk w;

	put64(m, 0x1000 + 8 * 256, 0x2000 | P | RW);
	put64(m, 0x2000 + 8 * 0, 0x80000000ULL | P | RW | PS);	/* 1 GiB */
	put64(m, 0x2000 + 8 * 1, 0x3000 | P | RW);
	put64(m, 0x3000 + 8 * 0, 0x600000 | P | RW | PS);	/* 2 MiB */
	put64(m, 0x3000 + 8 * 1, 0x4000 | P | RW);
	put64(m, 0x4000 + 8 * 5, 0xabcd000 | P | RW);		/* 4 KiB */

	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m,
					  base + 0x12345678, MV_PF_WRITE, &w),
			0);
	KUNIT_EXPECT_EQ(test, w.gpa, 0x92345678ULL);
	KUNIT_EXPECT_EQ(test, w.level, 3U);
	KUNIT_EXPECT_EQ(test, get64(m, 0x2000),
			0x80000000ULL | P | RW | PS | A | D);

	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m,
					  base + (1ULL << 30) + 0x54321, 0, &w),
			0);
	KUNIT_EXPECT_EQ(test, w.gpa, 0x654321ULL);
	KUNIT_EXPECT_EQ(test, w.level, 2U);

	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m,
					  base + (1ULL << 30) + (1 << 21) +
					  0x5abc, 0, &w), 0);
	KUNIT_EXPECT_EQ(test, w.gpa, 0xabcdabcULL);
	KUNIT_EXPECT_EQ(test, w.level, 1U);

	/* an address bit above MAXPHYADDR is reserved */
	put64(m, 0x4000 + 8 * 5, (1ULL << 45) | 0xabcd000 | P | RW);
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m,
					  base + (1ULL << 30) + (1 << 21) +
					  0x5abc, MV_PF_USER, &w),
			MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_PRESENT | MV_PF_RSVD |
			MV_PF_USER);
	/* so is PS in a PML4E */
	put64(m, 0x1000 + 8 * 256, 0x2000 | P | RW | PS);
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, base, 0, &w),
			MV_WALK_FAULT);
	KUNIT_EXPECT_EQ(test, w.error, MV_PF_PRESENT | MV_PF_RSVD);
}

/* An A/D update that loses a race is walked again; endless races give up */
static void walk_ad_races(struct kunit *test)
{
	struct mv_walk_env env = {
		.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000,
		.maxphyaddr = 40,
	};
	struct fake_mem *m = mem(test);
	struct mv_walk w;

	put32(m, 0x1000, 0x2000 | P | RW);
	put32(m, 0x2000, 0x5000 | P | RW);
	m->cmpxchg_races = 2;
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x10,
					  MV_PF_WRITE, &w), 0);
	KUNIT_EXPECT_EQ(test, w.gpa, 0x5010ULL);
	/* two lost, then PDE and PTE updated */
	KUNIT_EXPECT_EQ(test, m->cmpxchgs, 4);

	put32(m, 0x1000, 0x2000 | P | RW);
	m->cmpxchg_races = 1000;
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x10, 0, &w),
			-EAGAIN);
}

/* An entry outside guest memory is the caller's error, not a #PF */
static void walk_bad_table(struct kunit *test)
{
	struct mv_walk_env env = {
		.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000,
		.maxphyaddr = 40,
	};
	struct fake_mem *m = mem(test);
	struct mv_walk w;

	put32(m, 0x1000, 0x80000000 | P | RW);
	KUNIT_EXPECT_EQ(test, mv_walk_gva(&env, &fake_ops, m, 0x10, 0, &w),
			-EFAULT);
}

static struct kunit_case walk_cases[] = {
	KUNIT_CASE(walk_paging_off),
	KUNIT_CASE(walk_32bit_4k),
	KUNIT_CASE(walk_32bit_pse),
	KUNIT_CASE(walk_not_present),
	KUNIT_CASE(walk_permissions),
	KUNIT_CASE(walk_pae),
	KUNIT_CASE(walk_4level),
	KUNIT_CASE(walk_ad_races),
	KUNIT_CASE(walk_bad_table),
	{}
};

static struct kunit_suite walk_suite = {
	.name = "minivisor_walk",
	.test_cases = walk_cases,
};

kunit_test_suite(walk_suite);
