// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the shadow MMU's role computation (which shadow page a shadow
 * entry must point to, in every paging mode), and its hash, rmap and
 * parent links under insertion and removal, on a VM without vCPUs.
 */
#include <kunit/test.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "../mmu/mmu.h"
#include "../mmu/shadow.h"
#include "../mmu/shadow_int.h"
#include "../mmu/tdp.h"
#include "../mmu/walk.h"
#include "../vm.h"

#define P	0x1ULL
#define RW	0x2ULL
#define US	0x4ULL
#define D	0x40ULL
#define PS	0x80ULL
#define NX	BIT_ULL(63)

/* host frames no memory has: nothing is marked dirty when they go */
#define FAKE_PFN(n)	(BIT_ULL(39) + (n))

static const struct mv_walk_env env_long = {
	.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP,
	.cr4 = X86_CR4_PAE, .efer = EFER_LME | EFER_LMA | EFER_NX,
	.maxphyaddr = 40,
};

static union mv_sp_role role_of(int level, int gmode, bool direct, u32 acc)
{
	union mv_sp_role r = { .word = 0 };

	r.level = level;
	r.gmode = gmode;
	r.direct = direct;
	r.access = acc;
	return r;
}

/* The (gfn, role) entry @i of @parent must point to, given the registers */
static bool child(const struct mv_walk_env *env, const struct mv_sp *parent,
		  int level, unsigned int i, u64 gpte, u64 *gfn,
		  union mv_sp_role *role)
{
	struct shadow_mode m;

	shadow_mode_of(env, &m);
	return shadow_child(&m, parent, level, i, gpte, gfn, role);
}

/* a parent shadow page that is only read: gfn and role */
static struct mv_sp *fake_parent(struct kunit *test, u64 gfn,
				 union mv_sp_role role)
{
	struct mv_sp *sp = kunit_kzalloc(test, sizeof(*sp), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, sp);
	sp->gfn = gfn;
	sp->role = role;
	return sp;
}

static void shadow_role_long(struct kunit *test)
{
	union mv_sp_role top = role_of(4, MV_GMODE_LONG, false, MV_ACC_ALL);
	struct mv_sp *pml4, *pdpt, *pd, *dir;
	union mv_sp_role r;
	u64 gfn;

	top.cr0_wp = 1;
	top.nxe = 1;
	pml4 = fake_parent(test, 0x10, top);
	KUNIT_EXPECT_TRUE(test, child(&env_long, pml4, 4, 3,
				      0x5000 | P | RW | US,
				      &gfn, &r));
	KUNIT_EXPECT_EQ(test, gfn, 0x5ULL);
	KUNIT_EXPECT_EQ(test, (u32)r.level, 3U);
	KUNIT_EXPECT_EQ(test, (u32)r.direct, 0U);
	KUNIT_EXPECT_EQ(test, (u32)r.access, (u32)MV_ACC_ALL);
	KUNIT_EXPECT_EQ(test, (u32)r.cr0_wp, 1U);
	KUNIT_EXPECT_EQ(test, (u32)r.nxe, 1U);
	/* a read-only, supervisor, no-execute entry restricts the child */
	KUNIT_EXPECT_TRUE(test, child(&env_long, pml4, 4, 3,
				      0x5000 | P | NX,
				      &gfn, &r));
	KUNIT_EXPECT_EQ(test, (u32)r.access, 0U);
	KUNIT_EXPECT_FALSE(test, child(&env_long, pml4, 4, 3,
				       0x5000 | RW, &gfn, &r));

	/* a dirty 1 GiB page: a direct level-2 page at its first frame */
	r = role_of(3, MV_GMODE_LONG, false, MV_ACC_WRITE | MV_ACC_EXEC);
	pdpt = fake_parent(test, 0x5, r);
	KUNIT_EXPECT_TRUE(test, child(&env_long, pdpt, 3, 0,
				      0x80000000ULL | P | RW |
				      US | D | PS, &gfn, &r));
	KUNIT_EXPECT_EQ(test, gfn, 0x80000ULL);
	KUNIT_EXPECT_EQ(test, (u32)r.direct, 1U);
	KUNIT_EXPECT_EQ(test, (u32)r.level, 2U);
	KUNIT_EXPECT_EQ(test, (u32)r.access, (u32)(MV_ACC_WRITE | MV_ACC_EXEC));
	/* clean, the same page is shadowed read-only until the first write */
	r = pdpt->role;
	KUNIT_EXPECT_TRUE(test, child(&env_long, pdpt, 3, 0,
				      0x80000000ULL | P | RW |
				      US | PS, &gfn, &r));
	KUNIT_EXPECT_EQ(test, gfn, 0x80000ULL);
	KUNIT_EXPECT_EQ(test, (u32)r.direct, 1U);
	KUNIT_EXPECT_EQ(test, (u32)r.access, (u32)MV_ACC_EXEC);
	/* a 2 MiB page */
	r = role_of(2, MV_GMODE_LONG, false, MV_ACC_ALL);
	pd = fake_parent(test, 0x6, r);
	KUNIT_EXPECT_TRUE(test, child(&env_long, pd, 2, 7,
				      0x600000 | P | PS,
				      &gfn, &r));
	KUNIT_EXPECT_EQ(test, gfn, 0x600ULL);
	KUNIT_EXPECT_EQ(test, (u32)r.direct, 1U);
	KUNIT_EXPECT_EQ(test, (u32)r.access, (u32)MV_ACC_EXEC);
	/* below a direct page, its frames in order */
	r = role_of(2, MV_GMODE_LONG, true, MV_ACC_ALL);
	dir = fake_parent(test, 0x80000, r);
	KUNIT_EXPECT_TRUE(test, child(&env_long, dir, 2, 5, 0,
				      &gfn, &r));
	KUNIT_EXPECT_EQ(test, gfn, 0x80000ULL + 5 * 512);
	KUNIT_EXPECT_EQ(test, (u32)r.direct, 1U);
	KUNIT_EXPECT_EQ(test, (u32)r.level, 1U);
}

static void shadow_role_legacy(struct kunit *test)
{
	struct mv_walk_env env = {
		.cr0 = X86_CR0_PE | X86_CR0_PG, .cr4 = X86_CR4_PSE,
		.maxphyaddr = 36,
	};
	union mv_sp_role r;
	struct mv_sp *pd;
	u64 gfn;

	/* 32-bit: the PAE root's entries are the guest PD's quadrants */
	KUNIT_EXPECT_TRUE(test, child(&env, NULL, 3, 2,
				      0x7000, &gfn, &r));
	KUNIT_EXPECT_EQ(test, gfn, 0x7ULL);
	KUNIT_EXPECT_EQ(test, (u32)r.quadrant, 2U);
	KUNIT_EXPECT_EQ(test, (u32)r.level, 2U);
	KUNIT_EXPECT_EQ(test, (u32)r.gmode, (u32)MV_GMODE_32);
	/* a guest PT is two shadow PTs: the quadrant is the half */
	pd = fake_parent(test, 0x7, r);
	KUNIT_EXPECT_TRUE(test, child(&env, pd, 2, 9,
				      0x8000 | P | RW,
				      &gfn, &r));
	KUNIT_EXPECT_EQ(test, gfn, 0x8ULL);
	KUNIT_EXPECT_EQ(test, (u32)r.quadrant, 1U);
	KUNIT_EXPECT_EQ(test, (u32)r.direct, 0U);
	/* a 4 MiB page (PSE-36: bits 39:32 in 20:13): two direct halves */
	KUNIT_EXPECT_TRUE(test, child(&env, pd, 2, 9,
				      0xc00000 | (3 << 13) | P |
				      PS, &gfn, &r));
	KUNIT_EXPECT_EQ(test, gfn, 0xc00ULL + (3ULL << 20) + 512);
	KUNIT_EXPECT_EQ(test, (u32)r.direct, 1U);
	/* without CR4.PSE, PS means nothing */
	env.cr4 = 0;
	KUNIT_EXPECT_TRUE(test, child(&env, pd, 2, 8,
				      0xc00000 | P | PS,
				      &gfn, &r));
	KUNIT_EXPECT_EQ(test, (u32)r.direct, 0U);
	KUNIT_EXPECT_EQ(test, gfn, 0xc00ULL);

	/* PAE: the root's entries follow the PDPTEs */
	env.cr4 = X86_CR4_PAE;
	KUNIT_EXPECT_TRUE(test, child(&env, NULL, 3, 1,
				      0x9000 | P, &gfn, &r));
	KUNIT_EXPECT_EQ(test, gfn, 0x9ULL);
	KUNIT_EXPECT_EQ(test, (u32)r.gmode, (u32)MV_GMODE_PAE);
	KUNIT_EXPECT_EQ(test, (u32)r.quadrant, 0U);
	KUNIT_EXPECT_FALSE(test, child(&env, NULL, 3, 1,
				       0x9000, &gfn, &r));

	/* paging off: direct, each entry a GiB of frames */
	env.cr0 = X86_CR0_PE;
	KUNIT_EXPECT_TRUE(test, child(&env, NULL, 3, 3, 0,
				      &gfn, &r));
	KUNIT_EXPECT_EQ(test, gfn, 3ULL << 18);
	KUNIT_EXPECT_EQ(test, (u32)r.direct, 1U);
	KUNIT_EXPECT_EQ(test, (u32)r.gmode, (u32)MV_GMODE_OFF);
}

/* What differs in the registers makes a different role */
static void shadow_role_registers(struct kunit *test)
{
	struct mv_walk_env env = env_long;
	union mv_sp_role a, b;
	u64 gfn;

	KUNIT_EXPECT_TRUE(test, child(&env, NULL, 3, 0,
				      0x1000 | P, &gfn, &a));
	env.cr0 &= ~X86_CR0_WP;
	KUNIT_EXPECT_TRUE(test, child(&env, NULL, 3, 0,
				      0x1000 | P, &gfn, &b));
	KUNIT_EXPECT_NE(test, a.word, b.word);
	env = env_long;
	env.efer &= ~EFER_NX;
	KUNIT_EXPECT_TRUE(test, child(&env, NULL, 3, 0,
				      0x1000 | P, &gfn, &b));
	KUNIT_EXPECT_NE(test, a.word, b.word);
}

struct shadow_ctx {
	struct mv_vm *vm;
	struct mv_shadow_vcpu *sv;
};

/*
 * The hash and rmap driven on a VM with no vCPU, with what the module's
 * own callers do around those calls.  The tests take vm->mmu.lock where
 * the function called asserts it.
 */

/* Frees what @sv's cache holds */
static void drain(struct mv_shadow_vcpu *sv)
{
	while (sv->nr_sp)
		shadow_sp_free(sv->sp[--sv->nr_sp]);
	while (sv->nr_rmap)
		kfree(sv->rmap[--sv->nr_rmap]);
}

/* Maps guest frame @gfn to host frame @pfn at entry @i of level-1 @sp */
static void map_leaf(struct mv_vm *vm, struct mv_shadow_vcpu *sv,
		     struct mv_sp *sp, unsigned int i, u64 gfn, u64 pfn,
		     bool writable)
{
	sp->gfns[i] = gfn;
	if (!shadow_rmap_add(vm, sv, gfn, &sp->spt[i], false))
		return;
	sp->spt[i] = (pfn << PAGE_SHIFT) | SPTE_P | SPTE_A |
		(writable ? SPTE_RW | SPTE_D : 0);
}

/* Maps the 2 MiB from guest frame @gfn (aligned) at entry @i of level-2 @sp */
static void map_leaf_2m(struct mv_vm *vm, struct mv_shadow_vcpu *sv,
			struct mv_sp *sp, unsigned int i, u64 gfn, u64 pfn,
			bool writable)
{
	sp->gfns[i] = gfn;
	if (!shadow_rmap_add(vm, sv, gfn, &sp->spt[i], true))
		return;
	sp->spt[i] = (pfn << PAGE_SHIFT) | SPTE_P | SPTE_A | SPTE_PS |
		(writable ? SPTE_RW | SPTE_D : 0);
	vm->mmu.shadow.nr_2m++;
}

/* The leaves the rmap lists for @gfn, 4 KiB and 2 MiB */
static unsigned int rmap_count(struct mv_vm *vm, u64 gfn)
{
	struct mv_rmap *e;
	unsigned int n = 0;

	for (e = shadow_rmap_first(&vm->mmu.shadow.rmap_4k, gfn);
	     e && e->gfn == gfn; e = shadow_rmap_next(e))
		n++;
	for (e = shadow_rmap_first(&vm->mmu.shadow.rmap_2m, gfn);
	     e && e->gfn == gfn; e = shadow_rmap_next(e))
		n++;
	return n;
}

/* Zaps @sp, and frees what is freed at once */
static void zap_sp(struct mv_vm *vm, struct mv_sp *sp)
{
	LIST_HEAD(freed);

	shadow_zap_sp(vm, sp, &freed);
	shadow_free_list(&freed);
}

/* The guest flushed: the unsync pages are synced */
static void sync_unsync(struct mv_vm *vm)
{
	LIST_HEAD(freed);
	bool flush = false;

	shadow_sync_unsync(vm, &freed, &flush);
	shadow_free_list(&freed);
}

/*
 * A vCPU starts (@on) or stops running on the second-level tables, writing
 * guest memory unseen (the phys_root op)
 */
static void untrack(struct mv_vm *vm, bool on)
{
	if (on)
		shadow_untrack(vm);
	else
		vm->mmu.shadow.untracked--;
}

/* The mmu_notifier's zap of frames [@start, @end): the leaves zapped */
static unsigned long zap_gfns(struct mv_vm *vm, u64 start, u64 end)
{
	struct mv_tdp_zap zap;

	mv_tdp_zap_init(&zap, mv_mmu_leaf_zapped, NULL);
	shadow_zap_gfns(vm, start, end, &zap);
	return zap.zapped;
}

static int shadow_test_init(struct kunit *test)
{
	struct shadow_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->vm = kzalloc(sizeof(*ctx->vm), GFP_KERNEL);
	ctx->sv = kunit_kzalloc(test, sizeof(*ctx->sv), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->vm);
	KUNIT_ASSERT_NOT_NULL(test, ctx->sv);
	spin_lock_init(&ctx->vm->mmu.lock);
	KUNIT_ASSERT_EQ(test, mv_shadow_vm_init(ctx->vm), 0);
	test->priv = ctx;
	return 0;
}

static void shadow_test_exit(struct kunit *test)
{
	struct shadow_ctx *ctx = test->priv;

	mv_shadow_vm_destroy(ctx->vm);
	drain(ctx->sv);
	kfree(ctx->vm);
}

static struct mv_sp *get(struct kunit *test, u64 gfn, union mv_sp_role r,
			 bool *created)
{
	struct shadow_ctx *ctx = test->priv;
	bool flush = false;

	KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
	return shadow_get(ctx->vm, ctx->sv, gfn, r, &flush, created);
}

/* The hash finds by (gfn, role), keeps count, forgets what is zapped */
static void shadow_hash(struct kunit *test)
{
	struct shadow_ctx *ctx = test->priv;
	union mv_sp_role r1 = role_of(1, MV_GMODE_LONG, false, MV_ACC_ALL);
	union mv_sp_role r2 = role_of(1, MV_GMODE_LONG, false, MV_ACC_EXEC);
	struct mv_sp *sp[64], *a, *b;
	bool created;
	int i;

	a = get(test, 10, r1, &created);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_TRUE(test, created);
	KUNIT_EXPECT_PTR_EQ(test, get(test, 10, r1, &created), a);
	KUNIT_EXPECT_FALSE(test, created);
	b = get(test, 10, r2, &created);
	KUNIT_EXPECT_TRUE(test, created);
	KUNIT_EXPECT_PTR_NE(test, a, b);
	KUNIT_EXPECT_EQ(test, ctx->vm->mmu.shadow.nr_pages, 2ULL);

	/* many, with frames 1024 apart (the bucket count) */
	for (i = 0; i < 64; i++) {
		sp[i] = get(test, 1000 + 1024 * i, r1, &created);
		KUNIT_ASSERT_NOT_NULL(test, sp[i]);
		KUNIT_EXPECT_TRUE(test, created);
	}
	for (i = 0; i < 64; i += 2)
		zap_sp(ctx->vm, sp[i]);
	KUNIT_EXPECT_EQ(test, ctx->vm->mmu.shadow.nr_pages, 2ULL + 32);
	for (i = 0; i < 64; i++) {
		struct mv_sp *again = get(test, 1000 + 1024 * i, r1, &created);

		KUNIT_EXPECT_EQ(test, created, !(i & 1));
		if (i & 1)
			KUNIT_EXPECT_PTR_EQ(test, again, sp[i]);
	}
	KUNIT_EXPECT_EQ(test, ctx->vm->mmu.shadow.nr_pages, 2ULL + 64);
	KUNIT_EXPECT_EQ(test, ctx->vm->stats.sp_zapped, 32ULL);
}

/*
 * The rmap: leaves by guest frame; a new shadow of a guest table makes
 * its leaves read-only; unsync and sync; the notifier's zap of a range.
 */
static void shadow_rmap(struct kunit *test)
{
	struct shadow_ctx *ctx = test->priv;
	union mv_sp_role leaf = role_of(1, MV_GMODE_LONG, true, MV_ACC_ALL);
	union mv_sp_role table = role_of(1, MV_GMODE_LONG, false, MV_ACC_ALL);
	struct mv_sp *sp, *t;
	bool flush = false, created;
	int i;

	sp = get(test, 0x100, leaf, &created);
	KUNIT_ASSERT_NOT_NULL(test, sp);
	for (i = 0; i < 3; i++) {
		KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
		map_leaf(ctx->vm, ctx->sv, sp, i, 7,
			 FAKE_PFN(i), true);
	}
	KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
	map_leaf(ctx->vm, ctx->sv, sp, 3, 8, FAKE_PFN(3), true);
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 7), 3U);
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 8), 1U);
	KUNIT_EXPECT_FALSE(test, shadow_gfn_protected(ctx->vm, 7));

	/* frame 7 becomes a guest table: its leaves lose RW */
	KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
	t = shadow_get(ctx->vm, ctx->sv, 7, table, &flush, &created);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_TRUE(test, flush);
	KUNIT_EXPECT_TRUE(test, shadow_gfn_protected(ctx->vm, 7));
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, sp->spt[i] & SPTE_RW, 0ULL);
	KUNIT_EXPECT_EQ(test, sp->spt[3] & SPTE_RW, SPTE_RW);

	/* the guest writes it: unsync, unprotected; a flush protects again */
	shadow_unsync_gfn(ctx->vm, 7);
	KUNIT_EXPECT_FALSE(test, shadow_gfn_protected(ctx->vm, 7));
	KUNIT_EXPECT_EQ(test, ctx->vm->stats.sp_unsynced, 1ULL);
	sync_unsync(ctx->vm);
	KUNIT_EXPECT_TRUE(test, shadow_gfn_protected(ctx->vm, 7));

	/* the notifier drops frames [7, 8): the three leaves go */
	KUNIT_EXPECT_EQ(test, zap_gfns(ctx->vm, 7, 8), 3UL);
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 7), 0U);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, sp->spt[i], 0ULL);
	/* a range wider than the buckets takes the other way */
	KUNIT_EXPECT_EQ(test, zap_gfns(ctx->vm, 0, 1 << 20),
			1UL);
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 8), 0U);

	/* zapping a page takes its leaves out of the rmap */
	KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
	map_leaf(ctx->vm, ctx->sv, sp, 9, 9, FAKE_PFN(9), false);
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 9), 1U);
	zap_sp(ctx->vm, sp);
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 9), 0U);
}

/*
 * The vCPU's rmap cache runs out (more leaves than one top-up holds): the
 * leaf that finds it empty is left out, not installed without an rmap
 * entry, and the next top-up lets it be mapped.
 */
static void shadow_rmap_cache_empty(struct kunit *test)
{
	struct shadow_ctx *ctx = test->priv;
	union mv_sp_role leaf = role_of(1, MV_GMODE_LONG, true, MV_ACC_ALL);
	unsigned int i, n = MV_SHADOW_CACHE_RMAP + 2;
	struct mv_sp *sp;
	bool created;

	sp = get(test, 0x200, leaf, &created);
	KUNIT_ASSERT_NOT_NULL(test, sp);
	KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
	for (i = 0; i < n; i++)
		map_leaf(ctx->vm, ctx->sv, sp, i, 0x30, FAKE_PFN(i),
			 true);
	KUNIT_EXPECT_EQ(test, ctx->sv->nr_rmap, 0U);
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 0x30),
			(unsigned int)MV_SHADOW_CACHE_RMAP);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, !!sp->spt[i], i < MV_SHADOW_CACHE_RMAP);
	KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
	map_leaf(ctx->vm, ctx->sv, sp, n - 1, 0x30, FAKE_PFN(n),
		 true);
	KUNIT_EXPECT_NE(test, sp->spt[n - 1], 0ULL);
	KUNIT_EXPECT_EQ(test, zap_gfns(ctx->vm, 0x30, 0x31),
			(unsigned long)MV_SHADOW_CACHE_RMAP + 1);
}

/*
 * The notifier's zap costs what the range maps, not every leaf of the VM
 * once per slot: with 64K leaves (frames 0 to 127, 512 leaves each), 512
 * zaps of 16 MiB ranges elsewhere (as many aliased slots a munmap covers)
 * must take no time, then a zap of one frame drops its 512 leaves and a
 * zap of all the rest, once, drops them all.
 */
static void shadow_zap_cost(struct kunit *test)
{
	struct shadow_ctx *ctx = test->priv;
	union mv_sp_role leaf = role_of(1, MV_GMODE_LONG, true, MV_ACC_ALL);
	unsigned int i, j, nr = 128;
	unsigned long t0, zapped = 0;
	struct mv_sp *sp;
	bool created;

	for (i = 0; i < nr; i++) {
		sp = get(test, 0x100000 + i * 512, leaf, &created);
		KUNIT_ASSERT_NOT_NULL(test, sp);
		for (j = 0; j < 512; j++) {
			if (!ctx->sv->nr_rmap)
				KUNIT_ASSERT_EQ(test,
						shadow_topup(ctx->sv),
						0);
			map_leaf(ctx->vm, ctx->sv, sp, j, j % nr,
				 FAKE_PFN(j), true);
		}
	}
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 5), nr * 4);

	t0 = jiffies;
	for (i = 0; i < 512; i++)
		zapped += zap_gfns(ctx->vm, 0x1000 + i * 4096,
				   0x2000 + i * 4096);
	KUNIT_EXPECT_EQ(test, zapped, 0UL);
	KUNIT_EXPECT_LT_MSG(test, jiffies - t0, (unsigned long)HZ,
			    "512 empty zaps took %u ms",
			    jiffies_to_msecs(jiffies - t0));

	KUNIT_EXPECT_EQ(test, zap_gfns(ctx->vm, 5, 6),
			(unsigned long)nr * 4);
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 5), 0U);
	KUNIT_EXPECT_EQ(test, zap_gfns(ctx->vm, 0, U64_MAX),
			(unsigned long)nr * 512 - nr * 4);
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 6), 0U);
}

/*
 * 2 MiB leaves: counted; a guest table in their range zaps the writable
 * ones (a read-only one may stay); the notifier's zap of part of the
 * range takes the whole leaf; zapping the page drops the count.
 */
static void shadow_rmap_2m(struct kunit *test)
{
	struct shadow_ctx *ctx = test->priv;
	union mv_sp_role pd = role_of(2, MV_GMODE_LONG, false, MV_ACC_ALL);
	union mv_sp_role table = role_of(1, MV_GMODE_LONG, false, MV_ACC_ALL);
	struct mv_shadow *s = &ctx->vm->mmu.shadow;
	struct mv_sp *sp, *t;
	bool flush = false, created;

	sp = get(test, 0x30, pd, &created);
	KUNIT_ASSERT_NOT_NULL(test, sp);
	KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
	map_leaf_2m(ctx->vm, ctx->sv, sp, 0, 0x200, FAKE_PFN(0),
		    true);
	map_leaf_2m(ctx->vm, ctx->sv, sp, 1, 0x400, FAKE_PFN(512),
		    false);
	map_leaf_2m(ctx->vm, ctx->sv, sp, 2, 0x600,
		    FAKE_PFN(1024), true);
	KUNIT_EXPECT_EQ(test, s->nr_2m, 3ULL);

	/* a table at frame 0x234, inside the first: that leaf goes */
	KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
	t = shadow_get(ctx->vm, ctx->sv, 0x234, table, &flush,
		       &created);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_TRUE(test, flush);
	KUNIT_EXPECT_EQ(test, sp->spt[0], 0ULL);
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 0x200), 0U);
	KUNIT_EXPECT_EQ(test, s->nr_2m, 2ULL);
	/* in the read-only one: it stays */
	flush = false;
	t = shadow_get(ctx->vm, ctx->sv, 0x5ff, table, &flush,
		       &created);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_FALSE(test, flush);
	KUNIT_EXPECT_NE(test, sp->spt[1], 0ULL);

	/* one frame of the third goes from the host: all of the leaf */
	KUNIT_EXPECT_EQ(test, zap_gfns(ctx->vm, 0x7ff, 0x800),
			1UL);
	KUNIT_EXPECT_EQ(test, sp->spt[2], 0ULL);
	KUNIT_EXPECT_EQ(test, s->nr_2m, 1ULL);
	/* the wide way finds one by its middle too */
	map_leaf_2m(ctx->vm, ctx->sv, sp, 2, 0x600,
		    FAKE_PFN(1024), true);
	KUNIT_EXPECT_EQ(test, zap_gfns(ctx->vm, 0x700,
				       0x700 + 4096), 1UL);
	KUNIT_EXPECT_EQ(test, s->nr_2m, 1ULL);

	zap_sp(ctx->vm, sp);
	KUNIT_EXPECT_EQ(test, s->nr_2m, 0ULL);
	KUNIT_EXPECT_EQ(test, rmap_count(ctx->vm, 0x400), 0U);
}

/*
 * While a vCPU writes guest memory unseen (VMX, paging off, on EPT), every
 * shadow of a guest table is unsync, old or new, and a sync leaves it so;
 * once none does, the next sync protects them all again.
 */
static void shadow_untracked(struct kunit *test)
{
	struct shadow_ctx *ctx = test->priv;
	union mv_sp_role leaf = role_of(1, MV_GMODE_LONG, true, MV_ACC_ALL);
	union mv_sp_role table = role_of(1, MV_GMODE_LONG, false, MV_ACC_ALL);
	struct mv_sp *sp, *t7, *t8;
	bool created;

	sp = get(test, 0x100, leaf, &created);
	KUNIT_ASSERT_NOT_NULL(test, sp);
	KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
	map_leaf(ctx->vm, ctx->sv, sp, 0, 7, FAKE_PFN(0), true);
	KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
	map_leaf(ctx->vm, ctx->sv, sp, 1, 8, FAKE_PFN(1), true);
	t7 = get(test, 7, table, &created);
	KUNIT_ASSERT_NOT_NULL(test, t7);
	KUNIT_EXPECT_TRUE(test, shadow_gfn_protected(ctx->vm, 7));

	/* shadow_untrack() runs under the MMU lock, and asserts it */
	spin_lock(&ctx->vm->mmu.lock);
	untrack(ctx->vm, true);
	spin_unlock(&ctx->vm->mmu.lock);
	/* the old shadow (and the leaf page, direct, is left alone) */
	KUNIT_EXPECT_TRUE(test, t7->unsync);
	KUNIT_EXPECT_FALSE(test, sp->unsync);
	KUNIT_EXPECT_FALSE(test, shadow_gfn_protected(ctx->vm, 7));
	/* a new one: its frame stays writable */
	t8 = get(test, 8, table, &created);
	KUNIT_ASSERT_NOT_NULL(test, t8);
	KUNIT_EXPECT_TRUE(test, t8->unsync);
	KUNIT_EXPECT_EQ(test, sp->spt[1] & SPTE_RW, SPTE_RW);
	KUNIT_EXPECT_EQ(test, ctx->vm->stats.sp_unsynced, 2ULL);
	/* a flush meanwhile empties them but cannot protect them */
	sync_unsync(ctx->vm);
	KUNIT_EXPECT_TRUE(test, t7->unsync);
	KUNIT_EXPECT_TRUE(test, t8->unsync);
	KUNIT_EXPECT_FALSE(test, shadow_gfn_protected(ctx->vm, 8));

	spin_lock(&ctx->vm->mmu.lock);
	untrack(ctx->vm, false);
	spin_unlock(&ctx->vm->mmu.lock);
	sync_unsync(ctx->vm);
	KUNIT_EXPECT_FALSE(test, t7->unsync);
	KUNIT_EXPECT_FALSE(test, t8->unsync);
	KUNIT_EXPECT_TRUE(test, shadow_gfn_protected(ctx->vm, 7));
	KUNIT_EXPECT_TRUE(test, shadow_gfn_protected(ctx->vm, 8));
	KUNIT_EXPECT_EQ(test, sp->spt[0] & SPTE_RW, 0ULL);
	KUNIT_EXPECT_EQ(test, sp->spt[1] & SPTE_RW, 0ULL);
}

/* Parent links: a zapped child leaves no dangling entry above it */
static void shadow_parents(struct kunit *test)
{
	struct shadow_ctx *ctx = test->priv;
	union mv_sp_role r2 = role_of(2, MV_GMODE_LONG, false, MV_ACC_ALL);
	union mv_sp_role r1 = role_of(1, MV_GMODE_LONG, false, MV_ACC_ALL);
	struct mv_sp *pd, *pt, *pt2;
	bool created;

	pd = get(test, 0x20, r2, &created);
	pt = get(test, 0x21, r1, &created);
	pt2 = get(test, 0x22, r1, &created);
	KUNIT_ASSERT_NOT_NULL(test, pd);
	KUNIT_ASSERT_NOT_NULL(test, pt);
	KUNIT_ASSERT_NOT_NULL(test, pt2);
	KUNIT_ASSERT_EQ(test, shadow_topup(ctx->sv), 0);
	shadow_link(ctx->sv, &pd->spt[0], pt, false);
	shadow_link(ctx->sv, &pd->spt[1], pt, false);
	shadow_link(ctx->sv, &pd->spt[2], pt2, false);
	KUNIT_EXPECT_NE(test, pd->spt[0], 0ULL);
	zap_sp(ctx->vm, pt);
	KUNIT_EXPECT_EQ(test, pd->spt[0], 0ULL);
	KUNIT_EXPECT_EQ(test, pd->spt[1], 0ULL);
	KUNIT_EXPECT_NE(test, pd->spt[2], 0ULL);
	/* the parent goes: the child stays cached, without a parent */
	zap_sp(ctx->vm, pd);
	KUNIT_EXPECT_PTR_EQ(test, get(test, 0x22, r1, &created), pt2);
	KUNIT_EXPECT_FALSE(test, created);
	KUNIT_EXPECT_TRUE(test, hlist_empty(&pt2->parents));
	KUNIT_EXPECT_EQ(test, ctx->vm->mmu.shadow.nr_pages, 1ULL);
}

static struct kunit_case shadow_cases[] = {
	KUNIT_CASE(shadow_role_long),
	KUNIT_CASE(shadow_role_legacy),
	KUNIT_CASE(shadow_role_registers),
	KUNIT_CASE(shadow_hash),
	KUNIT_CASE(shadow_rmap),
	KUNIT_CASE(shadow_rmap_2m),
	KUNIT_CASE(shadow_rmap_cache_empty),
	KUNIT_CASE(shadow_zap_cost),
	KUNIT_CASE(shadow_parents),
	KUNIT_CASE(shadow_untracked),
	{}
};

static struct kunit_suite shadow_suite = {
	.name = "minivisor_shadow",
	.init = shadow_test_init,
	.exit = shadow_test_exit,
	.test_cases = shadow_cases,
};

kunit_test_suite(shadow_suite);
