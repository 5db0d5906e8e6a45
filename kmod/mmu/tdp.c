// SPDX-License-Identifier: GPL-2.0
/*
 * Second-level tables for NPT and EPT: four or five levels of 512 entries
 * (as many as the hardware walks), with 4 KiB leaves at level 1 and 2 MiB
 * leaves at level 2, in the entry format the backend gives (struct
 * mv_tdp_format).
 *
 * This file only builds, walks and zaps tables: it neither knows where the
 * frames it maps come from nor when a vCPU must flush; mmu.c and tdp_mm.c
 * do.  All of it runs under the owner's lock (tdp->lock, the VM's MMU lock),
 * a spinlock, so nothing here sleeps: the pages a new path needs come from a
 * cache filled before the lock was taken.
 *
 * Table pages are freed when a zap covers all they map: such a table is
 * unhooked at once but only freed by mv_tdp_zap_done(), after the caller
 * made every vCPU flush, since a CPU may still be walking it until then.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/lockdep.h>
#include <linux/pgtable.h>
#include <asm/io.h>
#include <asm/processor.h>

#include "../compat.h"
#include "tdp.h"

#define TDP_ENTRIES		512
#define TDP_ADDR_MASK		0x000ffffffffff000ULL

static unsigned int tdp_index(u64 gfn, int level)
{
	return (gfn >> (9 * (level - 1))) & (TDP_ENTRIES - 1);
}

static u64 *tdp_table(u64 entry)
{
	return __va(entry & TDP_ADDR_MASK);
}

static bool tdp_is_leaf(const struct mv_tdp_format *fmt, u64 entry, int level)
{
	return level == MV_TDP_LEVEL_4K ||
		(level == MV_TDP_LEVEL_2M && (entry & fmt->large));
}

/**
 * mv_tdp_init_levels() - allocate the root table of tables of @levels
 * @tdp: the tables
 * @fmt: the backend's entry format
 * @lock: the lock its owner changes the tables under
 * @levels: 4 or 5
 *
 * Return: 0, -EINVAL for another @levels, or -ENOMEM.
 */
int mv_tdp_init_levels(struct mv_tdp *tdp, const struct mv_tdp_format *fmt,
		       spinlock_t *lock, int levels)
{
	tdp->lock = lock;
	tdp->fmt = fmt;
	tdp->root = NULL;
	if (levels != 4 && levels != MV_TDP_MAX_LEVELS)
		return -EINVAL;
	tdp->levels = levels;
	tdp->nr_pages[0] = 0;
	tdp->nr_pages[1] = 0;
	tdp->root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!tdp->root)
		return -ENOMEM;
	tdp->root_pa = __pa(tdp->root);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mv_tdp_init_levels);

/**
 * mv_tdp_init() - allocate the root table, of as many levels as the
 *	hardware will walk
 * @tdp: the tables
 * @fmt: the backend's entry format
 * @lock: the lock its owner changes the tables under
 *
 * NPT walks the host's number of levels: built with four on a host with
 * five, its walk would take the guest's data pages for tables.
 *
 * Return: 0 or -ENOMEM.
 */
int mv_tdp_init(struct mv_tdp *tdp,
		const struct mv_tdp_format *fmt, spinlock_t *lock)
{
	return mv_tdp_init_levels(tdp, fmt, lock,
				  fmt->host_levels && pgtable_l5_enabled() ?
				  5 : 4);
}
EXPORT_SYMBOL_IF_KUNIT(mv_tdp_init);

/**
 * mv_tdp_max_gfn() - the last guest frame the tables may map
 * @tdp: the tables
 *
 * What their levels reach, and (as KVM allows) no more than the host's
 * physical address width.  Memory slots beyond are refused: their frames
 * would alias lower ones in the tables.
 *
 * Return: the frame number.
 */
u64 mv_tdp_max_gfn(const struct mv_tdp *tdp)
{
	u64 reach = MV_TDP_FRAMES(tdp->levels + 1) - 1;
	u64 phys = BIT_ULL(boot_cpu_data.x86_phys_bits - PAGE_SHIFT) - 1;

	return min(reach, phys);
}
EXPORT_SYMBOL_IF_KUNIT(mv_tdp_max_gfn);

/* Frees a table and the tables below it; leaves are ignored. */
static void tdp_free_tables(const struct mv_tdp_format *fmt, u64 *table,
			    int level)
{
	unsigned int i;

	if (level > MV_TDP_LEVEL_4K)
		for (i = 0; i < TDP_ENTRIES; i++)
			if ((table[i] & fmt->present) &&
			    !tdp_is_leaf(fmt, table[i], level))
				tdp_free_tables(fmt, tdp_table(table[i]),
						level - 1);
	free_page((unsigned long)table);
}

/**
 * mv_tdp_destroy() - free every table
 * @tdp: the tables; no CPU may use them any more
 *
 * Leaves still present are dropped without a word: the caller zapped what
 * needed zapping.
 */
void mv_tdp_destroy(struct mv_tdp *tdp)
{
	if (!tdp->root)
		return;
	tdp_free_tables(tdp->fmt, tdp->root, tdp->levels);
	tdp->root = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(mv_tdp_destroy);

/**
 * mv_tdp_cache_topup() - fill a cache with enough pages for one map
 * @tdp: the tables the map is for: a table per level below their root
 * @cache: the cache
 * @gfp: how to allocate; may sleep if @gfp says so
 *
 * Return: 0, or -ENOMEM (the pages got so far stay in @cache).
 */
int mv_tdp_cache_topup(const struct mv_tdp *tdp, struct mv_tdp_cache *cache,
		       gfp_t gfp)
{
	unsigned int want = min_t(unsigned int, tdp->levels - 1,
				  ARRAY_SIZE(cache->pages));

	while (cache->nr < want) {
		void *p = (void *)get_zeroed_page(gfp);

		if (!p)
			return -ENOMEM;
		cache->pages[cache->nr++] = p;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mv_tdp_cache_topup);

/**
 * mv_tdp_cache_free() - free what a cache still holds
 * @cache: the cache
 */
void mv_tdp_cache_free(struct mv_tdp_cache *cache)
{
	while (cache->nr)
		free_page((unsigned long)cache->pages[--cache->nr]);
}
EXPORT_SYMBOL_IF_KUNIT(mv_tdp_cache_free);

/**
 * mv_tdp_map() - install one leaf
 * @tdp: the tables; caller holds the MMU lock
 * @cache: where the tables a new path needs come from
 * @gfn: first guest frame, aligned to the leaf's size
 * @pfn: first host frame, aligned the same way
 * @level: MV_TDP_LEVEL_4K or MV_TDP_LEVEL_2M
 * @writable: the guest may write through the leaf
 *
 * Return: 0; -EEXIST when a leaf already maps @gfn (another vCPU got there
 * first, or a 2 MiB leaf covers it); -EBUSY when a 2 MiB leaf is asked for
 * where a table of 4 KiB leaves is, or of a format without 2 MiB leaves
 * (map 4 KiB instead); -ENOMEM when @cache ran out; -EINVAL for a bad
 * @level or alignment, or a @gfn the tables cannot reach.
 */
int mv_tdp_map(struct mv_tdp *tdp, struct mv_tdp_cache *cache, u64 gfn,
	       u64 pfn, int level, bool writable)
{
	const struct mv_tdp_format *fmt = tdp->fmt;
	u64 *table = tdp->root;
	u64 *sptep, entry;
	int l;

	lockdep_assert_held(tdp->lock);
	if (level != MV_TDP_LEVEL_4K && level != MV_TDP_LEVEL_2M)
		return -EINVAL;
	if ((gfn | pfn) & (MV_TDP_FRAMES(level) - 1))
		return -EINVAL;
	if (level == MV_TDP_LEVEL_2M && !fmt->large)
		return -EBUSY;
	if (gfn >= MV_TDP_FRAMES(tdp->levels + 1))
		return -EINVAL;

	for (l = tdp->levels; l > level; l--) {
		sptep = &table[tdp_index(gfn, l)];
		entry = *sptep;
		if (!(entry & fmt->present)) {
			void *next;

			if (!cache->nr)
				return -ENOMEM;
			next = cache->pages[--cache->nr];
			entry = __pa(next) | fmt->table;
			/* the page was zeroed before this store (TSO) */
			WRITE_ONCE(*sptep, entry);
		} else if (tdp_is_leaf(fmt, entry, l)) {
			return -EEXIST;
		}
		table = tdp_table(entry);
	}

	sptep = &table[tdp_index(gfn, level)];
	entry = *sptep;
	if (entry & fmt->present)
		return tdp_is_leaf(fmt, entry, level) ? -EEXIST : -EBUSY;
	entry = (pfn << PAGE_SHIFT) | fmt->leaf;
	if (writable)
		entry |= fmt->leaf_write;
	if (level == MV_TDP_LEVEL_2M)
		entry |= fmt->large;
	WRITE_ONCE(*sptep, entry);
	tdp->nr_pages[level - 1]++;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mv_tdp_map);

/**
 * mv_tdp_lookup() - the leaf that maps a guest frame
 * @tdp: the tables; caller holds the MMU lock
 * @gfn: the guest frame
 * @level: set to the leaf's level when there is one
 *
 * Return: the leaf entry, or 0 when nothing maps @gfn.
 */
u64 mv_tdp_lookup(struct mv_tdp *tdp, u64 gfn, int *level)
{
	const struct mv_tdp_format *fmt = tdp->fmt;
	u64 *table = tdp->root;
	int l;

	lockdep_assert_held(tdp->lock);
	if (gfn >= MV_TDP_FRAMES(tdp->levels + 1))
		return 0;
	for (l = tdp->levels; l >= MV_TDP_LEVEL_4K; l--) {
		u64 entry = table[tdp_index(gfn, l)];

		if (!(entry & fmt->present))
			return 0;
		if (tdp_is_leaf(fmt, entry, l)) {
			*level = l;
			return entry;
		}
		table = tdp_table(entry);
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mv_tdp_lookup);

/**
 * mv_tdp_zap_init() - prepare a zap
 * @zap: the zap
 * @leaf: called for each leaf zapped, or NULL
 * @arg: for @leaf
 */
void mv_tdp_zap_init(struct mv_tdp_zap *zap,
		     void (*leaf)(u64 pfn, int level, bool writable, void *arg),
		     void *arg)
{
	zap->leaf = leaf;
	zap->arg = arg;
	zap->zapped = 0;
	INIT_LIST_HEAD(&zap->tables);
}
EXPORT_SYMBOL_IF_KUNIT(mv_tdp_zap_init);

/* Zaps below @table, which maps the frames from @base on. */
static void tdp_zap(struct mv_tdp *tdp, u64 *table, int level, u64 base,
		    u64 start, u64 end, struct mv_tdp_zap *zap)
{
	const struct mv_tdp_format *fmt = tdp->fmt;
	u64 span = MV_TDP_FRAMES(level);
	u64 lo = max(start, base);
	u64 hi = min(end, base + TDP_ENTRIES * span);
	unsigned int i;

	if (lo >= hi)
		return;
	for (i = (lo - base) / span; i <= (hi - 1 - base) / span; i++) {
		u64 entry = table[i];
		u64 first = base + i * span;
		struct page *page;

		if (!(entry & fmt->present))
			continue;
		if (tdp_is_leaf(fmt, entry, level)) {
			/* a large leaf partly in the range goes whole */
			WRITE_ONCE(table[i], 0);
			tdp->nr_pages[level - 1]--;
			zap->zapped++;
			if (zap->leaf)
				zap->leaf((entry & TDP_ADDR_MASK) >> PAGE_SHIFT,
					  level, (entry & fmt->leaf_write) ==
					  fmt->leaf_write, zap->arg);
			continue;
		}
		tdp_zap(tdp, tdp_table(entry), level - 1, first, start, end,
			zap);
		if (start > first || first + span > end)
			continue;
		/* nothing below is mapped now: unhook the table */
		WRITE_ONCE(table[i], 0);
		page = virt_to_page(tdp_table(entry));
		set_page_private(page, level - 1);
		list_add(&page->lru, &zap->tables);
	}
}

/**
 * mv_tdp_zap_range() - remove the leaves that map a range of guest frames
 * @tdp: the tables; caller holds the MMU lock
 * @start: first guest frame
 * @end: the frame after the last
 * @zap: prepared by mv_tdp_zap_init(); collects what was done
 *
 * A 2 MiB leaf that maps any frame of the range is zapped whole: the next
 * fault maps the part still wanted again, at whatever size the host then
 * allows.  Tables that mapped only frames of the range are unhooked and
 * queued on @zap.  The caller must then make every vCPU flush and call
 * mv_tdp_zap_done(), in that order.
 */
void mv_tdp_zap_range(struct mv_tdp *tdp, u64 start, u64 end,
		      struct mv_tdp_zap *zap)
{
	lockdep_assert_held(tdp->lock);
	tdp_zap(tdp, tdp->root, tdp->levels, 0, start, end, zap);
}
EXPORT_SYMBOL_IF_KUNIT(mv_tdp_zap_range);

/**
 * mv_tdp_zap_done() - free the tables a zap unhooked
 * @tdp: the tables
 * @zap: the zap; no CPU may be walking its tables any more
 *
 * May be called with or without the MMU lock.
 */
void mv_tdp_zap_done(struct mv_tdp *tdp, struct mv_tdp_zap *zap)
{
	struct page *page, *tmp;

	list_for_each_entry_safe(page, tmp, &zap->tables, lru) {
		int level = page_private(page);

		list_del_init(&page->lru);
		set_page_private(page, 0);
		tdp_free_tables(tdp->fmt, page_address(page), level);
	}
}
EXPORT_SYMBOL_IF_KUNIT(mv_tdp_zap_done);
