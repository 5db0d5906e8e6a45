// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the generic second-level table code (kmod/mmu/tdp.c), on a made-up
 * entry format, with no VM and no hardware.
 */
#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/gfp.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <asm/processor.h>

#include "../mmu/tdp.h"

/* Bits unlike either NPT or EPT, so that nothing works by accident. */
static const struct mv_tdp_format fake_format = {
	.present = BIT_ULL(0) | BIT_ULL(60),
	.table = BIT_ULL(0) | BIT_ULL(1),
	.leaf = BIT_ULL(60) | BIT_ULL(2),
	.leaf_write = BIT_ULL(1) | BIT_ULL(9),
	.large = BIT_ULL(7),
};

#define ADDR_MASK	0x000ffffffffff000ULL

struct tdp_ctx {
	struct mv_tdp tdp;
	struct mv_tdp_cache cache;
	/* what the zap callback saw */
	unsigned int nr_zapped;
	u64 pfn[8];
	int level[8];
	bool writable[8];
	struct mv_tdp_zap zap_dummy;
	spinlock_t lock;	/* the tables' */
};

static int tdp_test_init(struct kunit *test)
{
	struct tdp_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	spin_lock_init(&ctx->lock);
	KUNIT_ASSERT_EQ(test, mv_tdp_init(&ctx->tdp, &fake_format, &ctx->lock),
			0);
	test->priv = ctx;
	return 0;
}

static void tdp_test_exit(struct kunit *test)
{
	struct tdp_ctx *ctx = test->priv;

	mv_tdp_cache_free(&ctx->cache);
	mv_tdp_destroy(&ctx->tdp);
}

/* Maps under the lock, with a full cache. */
static int map(struct tdp_ctx *ctx, u64 gfn, u64 pfn, int level, bool w)
{
	int r;

	if (mv_tdp_cache_topup(&ctx->tdp, &ctx->cache, GFP_KERNEL))
		return -ENOMEM;
	spin_lock(&ctx->lock);
	r = mv_tdp_map(&ctx->tdp, &ctx->cache, gfn, pfn, level, w);
	spin_unlock(&ctx->lock);
	return r;
}

static u64 lookup(struct tdp_ctx *ctx, u64 gfn, int *level)
{
	u64 e;

	*level = 0;
	spin_lock(&ctx->lock);
	e = mv_tdp_lookup(&ctx->tdp, gfn, level);
	spin_unlock(&ctx->lock);
	return e;
}

static void record_leaf(u64 pfn, int level, bool writable, void *arg)
{
	struct tdp_ctx *ctx = arg;

	if (ctx->nr_zapped < ARRAY_SIZE(ctx->pfn)) {
		ctx->pfn[ctx->nr_zapped] = pfn;
		ctx->level[ctx->nr_zapped] = level;
		ctx->writable[ctx->nr_zapped] = writable;
	}
	ctx->nr_zapped++;
}

/* Zaps [start, end) and frees the unhooked tables; returns their count. */
static unsigned int zap(struct tdp_ctx *ctx, u64 start, u64 end,
			unsigned long *zapped)
{
	struct mv_tdp_zap z;
	struct list_head *p;
	unsigned int tables = 0;

	mv_tdp_zap_init(&z, record_leaf, ctx);
	spin_lock(&ctx->lock);
	mv_tdp_zap_range(&ctx->tdp, start, end, &z);
	spin_unlock(&ctx->lock);
	list_for_each(p, &z.tables)
		tables++;
	mv_tdp_zap_done(&ctx->tdp, &z);
	*zapped = z.zapped;
	return tables;
}

/* A 4 KiB leaf: the path is built, the entry holds frame and bits. */
static void tdp_map_4k_test(struct kunit *test)
{
	struct tdp_ctx *ctx = test->priv;
	u64 gfn = 0x123456789ULL, e;
	int level;

	KUNIT_ASSERT_EQ(test, map(ctx, gfn, 0x777, MV_TDP_LEVEL_4K, false), 0);
	e = lookup(ctx, gfn, &level);
	KUNIT_EXPECT_EQ(test, e, (0x777ULL << PAGE_SHIFT) | fake_format.leaf);
	KUNIT_EXPECT_EQ(test, level, MV_TDP_LEVEL_4K);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[0], 1ULL);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[1], 0ULL);
	/* three new tables: levels 3, 2 and 1 */
	KUNIT_EXPECT_EQ(test, ctx->cache.nr, 0U);
	/* the neighbours are not mapped */
	KUNIT_EXPECT_EQ(test, lookup(ctx, gfn + 1, &level), 0ULL);
	KUNIT_EXPECT_EQ(test, lookup(ctx, gfn - 1, &level), 0ULL);
	/* the root's entry is a table entry */
	KUNIT_EXPECT_EQ(test, ctx->tdp.root[(gfn >> 27) & 511] & ~ADDR_MASK,
			fake_format.table);

	/* writable; a second path shares the upper tables */
	KUNIT_ASSERT_EQ(test, map(ctx, gfn + 1, 0x778, MV_TDP_LEVEL_4K, true),
			0);
	KUNIT_EXPECT_EQ(test, ctx->cache.nr, 3U);
	e = lookup(ctx, gfn + 1, &level);
	KUNIT_EXPECT_EQ(test, e, (0x778ULL << PAGE_SHIFT) | fake_format.leaf |
			fake_format.leaf_write);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[0], 2ULL);

	/* mapped already: nothing changes */
	KUNIT_EXPECT_EQ(test, map(ctx, gfn, 0x999, MV_TDP_LEVEL_4K, true),
			-EEXIST);
	e = lookup(ctx, gfn, &level);
	KUNIT_EXPECT_EQ(test, e, (0x777ULL << PAGE_SHIFT) | fake_format.leaf);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[0], 2ULL);
}

/* A 2 MiB leaf: one level-2 entry with the large bit covers 512 frames. */
static void tdp_map_2m_test(struct kunit *test)
{
	struct tdp_ctx *ctx = test->priv;
	u64 e;
	int level;

	KUNIT_ASSERT_EQ(test, map(ctx, 0x40200, 0x80400, MV_TDP_LEVEL_2M,
				  true), 0);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[1], 1ULL);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[0], 0ULL);
	/* only levels 3 and 2 were needed */
	KUNIT_EXPECT_EQ(test, ctx->cache.nr, 1U);
	e = lookup(ctx, 0x403ff, &level);
	KUNIT_EXPECT_EQ(test, level, MV_TDP_LEVEL_2M);
	KUNIT_EXPECT_EQ(test, e, (0x80400ULL << PAGE_SHIFT) |
			fake_format.leaf | fake_format.leaf_write |
			fake_format.large);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0x40200, &level), e);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0x401ff, &level), 0ULL);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0x40400, &level), 0ULL);

	/* a 4 KiB leaf inside it, or the same 2 MiB again: there already */
	KUNIT_EXPECT_EQ(test, map(ctx, 0x40300, 0x5, MV_TDP_LEVEL_4K, true),
			-EEXIST);
	KUNIT_EXPECT_EQ(test, map(ctx, 0x40200, 0x80400, MV_TDP_LEVEL_2M,
				  true), -EEXIST);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[0], 0ULL);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[1], 1ULL);
}

static void tdp_map_errors_test(struct kunit *test)
{
	struct tdp_ctx *ctx = test->priv;
	int level;

	/* unaligned 2 MiB, in either address; unknown levels */
	KUNIT_EXPECT_EQ(test, map(ctx, 0x201, 0x400, MV_TDP_LEVEL_2M, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, map(ctx, 0x200, 0x401, MV_TDP_LEVEL_2M, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, map(ctx, 0, 0, 3, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, map(ctx, 0, 0, 0, true), -EINVAL);

	/* a table of 4 KiB leaves where a 2 MiB one is wanted */
	KUNIT_ASSERT_EQ(test, map(ctx, 0x205, 0x1005, MV_TDP_LEVEL_4K, true),
			0);
	KUNIT_EXPECT_EQ(test, map(ctx, 0x200, 0x1000, MV_TDP_LEVEL_2M, true),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0x205, &level),
			(0x1005ULL << PAGE_SHIFT) | fake_format.leaf |
			fake_format.leaf_write);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[1], 0ULL);

	/* no pages in the cache for a new path */
	mv_tdp_cache_free(&ctx->cache);
	spin_lock(&ctx->lock);
	KUNIT_EXPECT_EQ(test, mv_tdp_map(&ctx->tdp, &ctx->cache, 1ULL << 30,
					 0x1, MV_TDP_LEVEL_4K, true), -ENOMEM);
	/* but none is needed where the path exists */
	KUNIT_EXPECT_EQ(test, mv_tdp_map(&ctx->tdp, &ctx->cache, 0x206,
					 0x1006, MV_TDP_LEVEL_4K, false), 0);
	spin_unlock(&ctx->lock);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[0], 2ULL);
}

/* Zapping a range: exact leaves, each reported with its frame and bits. */
static void tdp_zap_4k_test(struct kunit *test)
{
	struct tdp_ctx *ctx = test->priv;
	unsigned long zapped;
	int level;
	u64 gfn;

	for (gfn = 0x1000; gfn < 0x1010; gfn++)
		KUNIT_ASSERT_EQ(test, map(ctx, gfn, gfn + 0x5000,
					  MV_TDP_LEVEL_4K, gfn & 1), 0);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[0], 16ULL);

	/* [0x1003, 0x1005): two leaves, the table stays */
	KUNIT_EXPECT_EQ(test, zap(ctx, 0x1003, 0x1005, &zapped), 0U);
	KUNIT_EXPECT_EQ(test, zapped, 2UL);
	KUNIT_ASSERT_EQ(test, ctx->nr_zapped, 2U);
	KUNIT_EXPECT_EQ(test, ctx->pfn[0], 0x6003ULL);
	KUNIT_EXPECT_EQ(test, ctx->level[0], MV_TDP_LEVEL_4K);
	KUNIT_EXPECT_TRUE(test, ctx->writable[0]);
	KUNIT_EXPECT_EQ(test, ctx->pfn[1], 0x6004ULL);
	KUNIT_EXPECT_FALSE(test, ctx->writable[1]);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[0], 14ULL);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0x1003, &level), 0ULL);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0x1004, &level), 0ULL);
	KUNIT_EXPECT_NE(test, lookup(ctx, 0x1002, &level), 0ULL);
	KUNIT_EXPECT_NE(test, lookup(ctx, 0x1005, &level), 0ULL);

	/* an empty range, and one where nothing is mapped */
	KUNIT_EXPECT_EQ(test, zap(ctx, 0x1006, 0x1006, &zapped), 0U);
	KUNIT_EXPECT_EQ(test, zapped, 0UL);
	KUNIT_EXPECT_EQ(test, zap(ctx, 1ULL << 35, 1ULL << 36, &zapped), 0U);
	KUNIT_EXPECT_EQ(test, zapped, 0UL);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[0], 14ULL);
}

/* Tables the range covers whole are unhooked; the path is built again. */
static void tdp_zap_frees_tables_test(struct kunit *test)
{
	struct tdp_ctx *ctx = test->priv;
	unsigned long zapped;
	int level;

	KUNIT_ASSERT_EQ(test, map(ctx, 0x200, 0x300, MV_TDP_LEVEL_4K, true), 0);
	KUNIT_ASSERT_EQ(test, map(ctx, 0x3ff, 0x301, MV_TDP_LEVEL_4K, true), 0);
	KUNIT_ASSERT_EQ(test, map(ctx, 0x400, 0x302, MV_TDP_LEVEL_4K, true), 0);

	/* the level-1 table of 0x200-0x3ff goes, the one of 0x400 stays */
	KUNIT_EXPECT_EQ(test, zap(ctx, 0x200, 0x400, &zapped), 1U);
	KUNIT_EXPECT_EQ(test, zapped, 2UL);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0x400, &level),
			(0x302ULL << PAGE_SHIFT) | fake_format.leaf |
			fake_format.leaf_write);
	/* so a 2 MiB leaf now fits where the table was */
	KUNIT_EXPECT_EQ(test, map(ctx, 0x200, 0x800, MV_TDP_LEVEL_2M, false),
			0);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0x3ff, &level),
			(0x800ULL << PAGE_SHIFT) | fake_format.leaf |
			fake_format.large);

	/* everything: the root stays, the three tables below it go */
	KUNIT_EXPECT_EQ(test, zap(ctx, 0, 1ULL << 36, &zapped), 3U);
	KUNIT_EXPECT_EQ(test, zapped, 2UL);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[0], 0ULL);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[1], 0ULL);
	KUNIT_EXPECT_EQ(test, ctx->tdp.root[0], 0ULL);
	KUNIT_EXPECT_EQ(test, map(ctx, 0x400, 0x302, MV_TDP_LEVEL_4K, true), 0);
	/* three new tables again */
	KUNIT_EXPECT_EQ(test, ctx->cache.nr, 0U);
}

/* A 2 MiB leaf partly in the range is zapped whole, reported once. */
static void tdp_zap_2m_partial_test(struct kunit *test)
{
	struct tdp_ctx *ctx = test->priv;
	unsigned long zapped;
	int level;

	KUNIT_ASSERT_EQ(test, map(ctx, 0x600, 0x1200, MV_TDP_LEVEL_2M, true),
			0);
	KUNIT_ASSERT_EQ(test, map(ctx, 0x800, 0x1400, MV_TDP_LEVEL_2M, false),
			0);
	KUNIT_EXPECT_EQ(test, zap(ctx, 0x7ff, 0x801, &zapped), 0U);
	KUNIT_EXPECT_EQ(test, zapped, 2UL);
	KUNIT_ASSERT_EQ(test, ctx->nr_zapped, 2U);
	KUNIT_EXPECT_EQ(test, ctx->pfn[0], 0x1200ULL);
	KUNIT_EXPECT_EQ(test, ctx->level[0], MV_TDP_LEVEL_2M);
	KUNIT_EXPECT_TRUE(test, ctx->writable[0]);
	KUNIT_EXPECT_EQ(test, ctx->pfn[1], 0x1400ULL);
	KUNIT_EXPECT_FALSE(test, ctx->writable[1]);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[1], 0ULL);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0x600, &level), 0ULL);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0x9ff, &level), 0ULL);

	/* one frame in the middle of a 2 MiB leaf takes it all */
	KUNIT_ASSERT_EQ(test, map(ctx, 0xa00, 0x1600, MV_TDP_LEVEL_2M, true),
			0);
	KUNIT_EXPECT_EQ(test, zap(ctx, 0xa42, 0xa43, &zapped), 0U);
	KUNIT_EXPECT_EQ(test, zapped, 1UL);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0xa00, &level), 0ULL);
	/* and then 4 KiB leaves may come back there */
	KUNIT_EXPECT_EQ(test, map(ctx, 0xa42, 0x1642, MV_TDP_LEVEL_4K, true),
			0);
	KUNIT_EXPECT_EQ(test, lookup(ctx, 0xa42, &level) >> PAGE_SHIFT &
			0xffffffffffULL, 0x1642ULL);
	KUNIT_EXPECT_EQ(test, level, MV_TDP_LEVEL_4K);
}

/* Teardown with leaves and tables left is clean (kmemleak watches). */
static void tdp_destroy_mapped_test(struct kunit *test)
{
	struct tdp_ctx *ctx = test->priv;
	u64 gfn;

	for (gfn = 0; gfn < (1ULL << 36); gfn += 1ULL << 31)
		KUNIT_ASSERT_EQ(test, map(ctx, gfn, gfn & 0xffffff,
					  MV_TDP_LEVEL_4K, true), 0);
	KUNIT_ASSERT_EQ(test, map(ctx, 0x200, 0x200, MV_TDP_LEVEL_2M, true), 0);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[0], 32ULL);
	KUNIT_EXPECT_EQ(test, ctx->tdp.nr_pages[1], 1ULL);
}

/*
 * Five levels (NPT on a host with LA57): frames above 48 bits of address
 * get their own paths, not aliases of low ones; four levels refuse them.
 */
static void tdp_five_levels_test(struct kunit *test)
{
	struct tdp_ctx *ctx = test->priv;
	struct mv_tdp five;
	u64 high = BIT_ULL(40) | 0x1234, e;
	int level;

	KUNIT_EXPECT_EQ(test, ctx->tdp.levels, 4);
	KUNIT_EXPECT_EQ(test, mv_tdp_max_gfn(&ctx->tdp),
			min(BIT_ULL(36) - 1,
			    BIT_ULL(boot_cpu_data.x86_phys_bits - 12) - 1));
	KUNIT_EXPECT_EQ(test, map(ctx, high, 0x55, MV_TDP_LEVEL_4K, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lookup(ctx, high, &level), 0ULL);

	KUNIT_EXPECT_EQ(test, mv_tdp_init_levels(&five, &fake_format,
						 &ctx->lock, 3), -EINVAL);
	KUNIT_ASSERT_EQ(test, mv_tdp_init_levels(&five, &fake_format,
						 &ctx->lock, 5), 0);
	KUNIT_EXPECT_EQ(test, mv_tdp_max_gfn(&five),
			BIT_ULL(boot_cpu_data.x86_phys_bits - 12) - 1);
	KUNIT_ASSERT_EQ(test, mv_tdp_cache_topup(&ctx->tdp, &ctx->cache,
						 GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, ctx->cache.nr, 3U);
	KUNIT_ASSERT_EQ(test, mv_tdp_cache_topup(&five, &ctx->cache,
						 GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, ctx->cache.nr, 4U);
	spin_lock(five.lock);
	KUNIT_EXPECT_EQ(test, mv_tdp_map(&five, &ctx->cache, high, 0x55,
					 MV_TDP_LEVEL_4K, true), 0);
	/* four new tables below the root: the path of a 5-level walk */
	KUNIT_EXPECT_EQ(test, ctx->cache.nr, 0U);
	e = mv_tdp_lookup(&five, high & (BIT_ULL(36) - 1), &level);
	KUNIT_EXPECT_EQ(test, e, 0ULL);
	e = mv_tdp_lookup(&five, high, &level);
	KUNIT_EXPECT_EQ(test, e & ADDR_MASK, 0x55ULL << 12);
	KUNIT_EXPECT_EQ(test, level, MV_TDP_LEVEL_4K);
	/* the root's entry for it is the one bits 44:36 of the frame pick */
	KUNIT_EXPECT_NE(test, five.root[(high >> 36) & 511] &
			fake_format.present, 0ULL);
	KUNIT_EXPECT_EQ(test, five.root[0], 0ULL);
	mv_tdp_zap_init(&ctx->zap_dummy, NULL, NULL);
	mv_tdp_zap_range(&five, 0, BIT_ULL(45), &ctx->zap_dummy);
	KUNIT_EXPECT_EQ(test, ctx->zap_dummy.zapped, 1UL);
	KUNIT_EXPECT_EQ(test, mv_tdp_lookup(&five, high, &level), 0ULL);
	spin_unlock(five.lock);
	mv_tdp_zap_done(&five, &ctx->zap_dummy);
	mv_tdp_destroy(&five);
}

static struct kunit_case tdp_test_cases[] = {
	KUNIT_CASE(tdp_map_4k_test),
	KUNIT_CASE(tdp_map_2m_test),
	KUNIT_CASE(tdp_map_errors_test),
	KUNIT_CASE(tdp_zap_4k_test),
	KUNIT_CASE(tdp_zap_frees_tables_test),
	KUNIT_CASE(tdp_zap_2m_partial_test),
	KUNIT_CASE(tdp_destroy_mapped_test),
	KUNIT_CASE(tdp_five_levels_test),
	{}
};

static struct kunit_suite tdp_test_suite = {
	.name = "minivisor_tdp",
	.init = tdp_test_init,
	.exit = tdp_test_exit,
	.test_cases = tdp_test_cases,
};

kunit_test_suite(tdp_test_suite);
