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

/*
 * The exhaustive check: an oracle written from the SDM (vol. 3, 4.6 and
 * 4.7) entry by entry, against the walker, over every combination of the
 * leaf's P, R/W, U/S, XD, A, D, of P, R/W, U/S, XD of one entry above it,
 * the leaf's size (PS), CR0.WP, CR4.SMEP, CR4.SMAP, EFER.NXE, EFLAGS.AC
 * and the kind of access; checking fault or not, the error code, and the
 * Accessed and Dirty bits each entry ends with.
 */
struct oracle_case {
	bool pae_long;		/* 8-byte entries with XD; else 32-bit */
	int n;			/* entries on the path, top first */
	u64 e[4];
	bool wp, smep, smap, nxe, ac;
	u32 access;
};

/* Returns true for a fault, with *error; else the entries' final values */
static bool oracle(const struct oracle_case *c, u32 *error, u64 *after)
{
	bool write = c->access & MV_PF_WRITE, user = c->access & MV_PF_USER;
	bool fetch = c->access & MV_PF_FETCH;
	bool rw = true, us = true, xd = false, fault;
	u32 bits = (write ? MV_PF_WRITE : 0) | (user ? MV_PF_USER : 0);
	int i;

	if (fetch && ((c->nxe && c->pae_long) || c->smep))
		bits |= MV_PF_FETCH;
	for (i = 0; i < c->n; i++) {
		if (!(c->e[i] & P)) {
			*error = bits;
			return true;
		}
		/* XD is a reserved bit unless EFER.NXE */
		if (c->pae_long && (c->e[i] & NX) && !c->nxe) {
			*error = MV_PF_PRESENT | MV_PF_RSVD | bits;
			return true;
		}
		rw = rw && (c->e[i] & RW);
		us = us && (c->e[i] & US);
		xd = xd || (c->pae_long && c->nxe && (c->e[i] & NX));
	}
	if (user)
		fault = !us || (write && !rw);
	else if (fetch)
		fault = us && c->smep;
	else
		fault = (write && !rw && c->wp) || (us && c->smap && !c->ac);
	fault = fault || (fetch && xd);
	if (fault) {
		*error = MV_PF_PRESENT | bits;
		return true;
	}
	for (i = 0; i < c->n; i++)
		after[i] = c->e[i] | A | (i == c->n - 1 && write ? D : 0);
	return false;
}

/* One walk against the oracle; false (and the test failed) on a mismatch */
static bool oracle_check(struct kunit *test, struct fake_mem *m,
			 const struct oracle_case *c, const u64 *pte_gpa,
			 u64 gva)
{
	struct mv_walk_env env = {
		.cr0 = X86_CR0_PE | X86_CR0_PG | (c->wp ? X86_CR0_WP : 0),
		.cr3 = 0x1000,
		.cr4 = (c->pae_long ? X86_CR4_PAE : X86_CR4_PSE) |
			(c->smep ? X86_CR4_SMEP : 0) |
			(c->smap ? X86_CR4_SMAP : 0),
		.efer = (c->pae_long ? EFER_LME | EFER_LMA : 0) |
			(c->nxe ? EFER_NX : 0),
		.rflags = c->ac ? X86_EFLAGS_AC : 0,
		.maxphyaddr = 40,
	};
	u64 after[4];
	u32 error = 0;
	struct mv_walk w;
	bool fault;
	int i, r;

	for (i = 0; i < c->n; i++) {
		if (c->pae_long)
			put64(m, pte_gpa[i], c->e[i]);
		else
			put32(m, pte_gpa[i], c->e[i]);
	}
	fault = oracle(c, &error, after);
	r = mv_walk_gva(&env, &fake_ops, m, gva, c->access, &w);
	if (r != (fault ? MV_WALK_FAULT : 0) || (fault && w.error != error)) {
		KUNIT_FAIL(test, "%llx/%llx/%llx/%llx env %d%d%d%d%d %x: %d %x",
			   c->e[0], c->e[1], c->e[2], c->e[3], c->wp,
			   c->smep, c->smap, c->nxe, c->ac, c->access, r,
			   w.error);
		KUNIT_FAIL(test, "the oracle: fault %d error %x", fault, error);
		return false;
	}
	for (i = 0; i < c->n; i++) {
		u64 want = fault ? c->e[i] : after[i];
		u64 got = c->pae_long ? get64(m, pte_gpa[i]) :
			get64(m, pte_gpa[i]) & 0xffffffff;

		if (got != want) {
			KUNIT_FAIL(test, "entry %d: %llx, oracle %llx (access %x)",
				   i, got, want, c->access);
			return false;
		}
	}
	return true;
}

static const u32 oracle_access[] = {
	0, MV_PF_WRITE, MV_PF_FETCH,
	MV_PF_USER, MV_PF_USER | MV_PF_WRITE, MV_PF_USER | MV_PF_FETCH,
};

/* Every combination for one path; the varied entries are @leaf and @up */
static void oracle_run(struct kunit *test, struct fake_mem *m,
		       struct oracle_case *c, const u64 *pte_gpa, u64 gva,
		       int up, u64 leaf_base, u64 leaf_bits)
{
	unsigned int lb, ub, env, a;
	int leaf = c->n - 1;

	for (lb = 0; lb < 64; lb++) {
		u64 lv = leaf_base | leaf_bits | (lb & 1 ? P : 0) |
			(lb & 2 ? RW : 0) | (lb & 4 ? US : 0) |
			(lb & 8 ? A : 0) | (lb & 16 ? D : 0);

		if (lb & 32) {
			if (!c->pae_long)
				continue;	/* 32-bit entries have no XD */
			lv |= NX;
		}
		/* @up == the leaf: nothing above it to vary */
		for (ub = 0; ub < (up == leaf ? 1 : 16); ub++) {
			u64 uv = (c->e[up] & ~(P | RW | US | NX)) |
				(ub & 1 ? P : 0) | (ub & 2 ? RW : 0) |
				(ub & 4 ? US : 0);

			if (ub & 8) {
				if (!c->pae_long)
					continue;
				uv |= NX;
			}
			for (env = 0; env < 32; env++) {
				for (a = 0; a < ARRAY_SIZE(oracle_access);
				     a++) {
					struct oracle_case k = *c;

					if (up != leaf)
						k.e[up] = uv;
					k.e[leaf] = lv;
					k.wp = env & 1;
					k.smep = env & 2;
					k.smap = env & 4;
					k.nxe = env & 8;
					k.ac = env & 16;
					k.access = oracle_access[a];
					if (!oracle_check(test, m, &k, pte_gpa,
							  gva))
						return;
				}
			}
		}
	}
}

static void walk_exhaustive_4level(struct kunit *test)
{
	/* PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000; gva 0x5123 */
	static const u64 pte_gpa[4] = { 0x1000, 0x2000, 0x3000, 0x4000 + 5 * 8 };
	static const u64 tables[4] = { 0x2000, 0x3000, 0x4000, 0 };
	struct fake_mem *m = mem(test);
	int n, up, i;

	/* the leaf at level 1 (4 KiB), 2 (2 MiB, PS), 3 (1 GiB, PS) */
	for (n = 4; n >= 2; n--) {
		for (up = 0; up < n - 1; up++) {
			struct oracle_case c = { .pae_long = true, .n = n };
			u64 base = n == 4 ? 0x9000 : n == 3 ? 0x200000 :
				0x40000000;

			for (i = 0; i < n - 1; i++)
				c.e[i] = tables[i] | P | RW | US;
			oracle_run(test, m, &c, pte_gpa, 0x5123, up, base,
				   n == 4 ? 0 : PS);
		}
	}
}

static void walk_exhaustive_32bit(struct kunit *test)
{
	/* PD 0x1000, PT 0x2000; gva 0x5123 */
	static const u64 pte_gpa[2] = { 0x1000, 0x2000 + 5 * 4 };
	struct fake_mem *m = mem(test);
	struct oracle_case c = { .pae_long = false, .n = 2 };

	c.e[0] = 0x2000 | P | RW | US;
	oracle_run(test, m, &c, pte_gpa, 0x5123, 0, 0x9000, 0);
	/* a 4 MiB page (CR4.PSE is set) */
	c.n = 1;
	oracle_run(test, m, &c, pte_gpa, 0x5123, 0, 0x400000, PS);
}

/*
 * Reserved bits, bit by bit: each bit from 13 up is set alone in one
 * entry of a valid path, and the walk must fault with RSVD exactly when
 * the SDM's entry formats (vol. 3, tables 4-4 to 4-20; APM vol. 2, 5.3
 * and 5.4) reserve it.  Only bits that are no address bits are set in
 * links (those at or above MAXPHYADDR), so a bit that is not reserved
 * leaves the walk's path as it was.
 */
enum rsvd_mode { RSVD_32, RSVD_PAE, RSVD_4LEVEL };

struct rsvd_entry {
	int level;		/* of the table that holds it */
	bool ps;		/* a large page */
	u64 gpa;		/* where it is */
	u64 gva;		/* an address whose walk reads it */
};

/* What the SDM says of bit @b of @e, written out per mode */
static bool sdm_rsvd(enum rsvd_mode mode, const struct rsvd_entry *e,
		     unsigned int b, unsigned int maxphy, bool nxe)
{
	unsigned int m40 = min(maxphy, 40U);

	switch (mode) {
	case RSVD_32:	/* 4 MiB PDE: bits 21:(M-19); none elsewhere */
		return e->level == 2 && e->ps && b <= 21 && b >= m40 - 19;
	case RSVD_PAE:
		if (e->level == 3)	/* PDPTE: 63:M, no XD */
			return b >= maxphy;
		if (b == 63)
			return !nxe;
		if (e->ps && b >= 13 && b <= 20)
			return true;
		return b >= maxphy;
	case RSVD_4LEVEL:
		if (b == 63)
			return !nxe;
		if (b >= 52)	/* ignored; 62:59 protection keys */
			return false;
		if (e->ps && e->level == 2 && b >= 13 && b <= 20)
			return true;
		if (e->ps && e->level == 3 && b >= 13 && b <= 29)
			return true;
		return b >= maxphy;
	}
	return false;
}

#define RSVD_F	(P | RW | US | A | D)

/* Lays out the paths of @mode; returns the entries to try */
static int rsvd_build(struct fake_mem *m, enum rsvd_mode mode,
		      struct mv_walk_env *env, struct rsvd_entry *e)
{
	memset(m->bytes, 0, sizeof(m->bytes));
	env->cr0 = X86_CR0_PE | X86_CR0_PG;
	env->cr3 = 0x1000;
	switch (mode) {
	case RSVD_32:
		env->cr4 = X86_CR4_PSE;
		env->efer = 0;
		put32(m, 0x1000, 0x4000 | RSVD_F);
		put32(m, 0x1004, 0x00400000 | RSVD_F | PS);
		put32(m, 0x4000, 0x5000 | RSVD_F);
		e[0] = (struct rsvd_entry){ 2, false, 0x1000, 0 };
		e[1] = (struct rsvd_entry){ 2, true, 0x1004, 0x400000 };
		e[2] = (struct rsvd_entry){ 1, false, 0x4000, 0 };
		return 3;
	case RSVD_PAE:
		env->cr4 = X86_CR4_PAE;
		put64(m, 0x1000, 0x3000 | P);
		put64(m, 0x3000, 0x4000 | RSVD_F);
		put64(m, 0x3008, 0x200000 | RSVD_F | PS);
		put64(m, 0x4000, 0x5000 | RSVD_F);
		e[0] = (struct rsvd_entry){ 3, false, 0x1000, 0 };
		e[1] = (struct rsvd_entry){ 2, false, 0x3000, 0 };
		e[2] = (struct rsvd_entry){ 2, true, 0x3008, 0x200000 };
		e[3] = (struct rsvd_entry){ 1, false, 0x4000, 0 };
		return 4;
	case RSVD_4LEVEL:
		env->cr4 = X86_CR4_PAE;
		env->efer |= EFER_LME | EFER_LMA;
		put64(m, 0x1000, 0x2000 | RSVD_F);
		put64(m, 0x2000, 0x3000 | RSVD_F);
		put64(m, 0x2008, 0x40000000ULL | RSVD_F | PS);
		put64(m, 0x3000, 0x4000 | RSVD_F);
		put64(m, 0x3008, 0x200000 | RSVD_F | PS);
		put64(m, 0x4000, 0x5000 | RSVD_F);
		e[0] = (struct rsvd_entry){ 4, false, 0x1000, 0 };
		e[1] = (struct rsvd_entry){ 3, false, 0x2000, 0 };
		e[2] = (struct rsvd_entry){ 3, true, 0x2008, 1ULL << 30 };
		e[3] = (struct rsvd_entry){ 2, false, 0x3000, 0 };
		e[4] = (struct rsvd_entry){ 2, true, 0x3008, 0x200000 };
		e[5] = (struct rsvd_entry){ 1, false, 0x4000, 0 };
		return 6;
	}
	return 0;
}

static void rsvd_mode_run(struct kunit *test, enum rsvd_mode mode,
			  unsigned int maxphy, bool nxe)
{
	struct mv_walk_env env = { .maxphyaddr = maxphy };
	struct fake_mem *m = mem(test);
	struct rsvd_entry e[6];
	unsigned int b, top = mode == RSVD_32 ? 31 : 63;
	int i, n;

	for (i = 0; i < 6; i++) {
		env.efer = nxe ? EFER_NX : 0;
		n = rsvd_build(m, mode, &env, e);
		if (i >= n)
			break;
		for (b = 13; b <= top; b++) {
			bool want = sdm_rsvd(mode, &e[i], b, maxphy, nxe);
			u64 old = mode == RSVD_32 ? 0 : get64(m, e[i].gpa);
			struct mv_walk w;
			int r;

			/* address bits of links and 4 KiB pages stay */
			if (!e[i].ps && b < maxphy && b < 52 && !want)
				continue;
			if (mode == RSVD_32) {
				u32 v;

				memcpy(&v, m->bytes + e[i].gpa, 4);
				old = v;
				put32(m, e[i].gpa, v | BIT(b));
			} else {
				put64(m, e[i].gpa, old | BIT_ULL(b));
			}
			r = mv_walk_gva(&env, &fake_ops, m, e[i].gva, 0, &w);
			KUNIT_EXPECT_EQ_MSG(test, r, want ? MV_WALK_FAULT : 0,
					    "mode %d M %u NXE %d level %d%s bit %u",
					    mode, maxphy, nxe, e[i].level,
					    e[i].ps ? " PS" : "", b);
			if (want)
				KUNIT_EXPECT_EQ_MSG(test, w.error,
						    MV_PF_PRESENT | MV_PF_RSVD,
						    "mode %d M %u level %d bit %u",
						    mode, maxphy, e[i].level, b);
			/* and the helper the shadow MMU's prefetch uses */
			KUNIT_EXPECT_EQ_MSG(test,
					    !!(mv_walk_pte_rsvd(&env, e[i].level,
								(old | BIT_ULL(b))) &
					       BIT_ULL(b)), want,
					    "pte_rsvd mode %d M %u level %d bit %u",
					    mode, maxphy, e[i].level, b);
			if (mode == RSVD_32)
				put32(m, e[i].gpa, old);
			else
				put64(m, e[i].gpa, old);
		}
	}
}

/* 4-level paging: bits 62:52 are ignored, 51:M reserved */
static void walk_rsvd_4level(struct kunit *test)
{
	static const unsigned int maxphys[] = { 36, 40, 46, 48, 52 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(maxphys); i++) {
		rsvd_mode_run(test, RSVD_4LEVEL, maxphys[i], true);
		rsvd_mode_run(test, RSVD_4LEVEL, maxphys[i], false);
	}
}

/* PAE paging: bits 62:M reserved, 63 too without NXE and in PDPTEs */
static void walk_rsvd_pae(struct kunit *test)
{
	static const unsigned int maxphys[] = { 36, 40, 52 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(maxphys); i++) {
		rsvd_mode_run(test, RSVD_PAE, maxphys[i], true);
		rsvd_mode_run(test, RSVD_PAE, maxphys[i], false);
	}
}

/* 32-bit paging, PSE-36: a 4 MiB PDE reserves bits 21:(M-19), M <= 40 */
static void walk_rsvd_32bit(struct kunit *test)
{
	static const unsigned int maxphys[] = { 32, 36, 39, 40, 46 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(maxphys); i++)
		rsvd_mode_run(test, RSVD_32, maxphys[i], false);
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
	KUNIT_CASE(walk_exhaustive_4level),
	KUNIT_CASE(walk_exhaustive_32bit),
	KUNIT_CASE(walk_rsvd_4level),
	KUNIT_CASE(walk_rsvd_pae),
	KUNIT_CASE(walk_rsvd_32bit),
	{}
};

static struct kunit_suite walk_suite = {
	.name = "minivisor_walk",
	.test_cases = walk_cases,
};

kunit_test_suite(walk_suite);
