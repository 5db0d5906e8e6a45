/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two-dimensional paging: the second-level tables (NPT or EPT) that map
 * guest-physical to host-physical memory.
 *
 * Two layers:
 *  - the table code (tdp.c): builds, walks and zaps four-level tables of
 *    4 KiB and 2 MiB leaves in a format the backend describes; it knows
 *    nothing of VMs, slots or the host's memory, so KUnit tests it alone;
 *  - the VM's side: the TDP mode's fault path and ops (tdp_mm.c), over the
 *    MMU layer (mmu.c) that both modes share: the memory slots, faulting
 *    guest frames in, and the mmu_notifier that keeps the tables in step
 *    with the VMM's mappings.
 */
#ifndef MV_MMU_TDP_H
#define MV_MMU_TDP_H

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "../memslot.h"

struct mm_struct;
struct mv_vm;
struct mv_vcpu;

/*
 * Levels of the tables: four, or five where the hardware walks five (see
 * struct mv_tdp_format); level 1 holds 4 KiB leaves, level 2 2 MiB ones.
 */
#define MV_TDP_MAX_LEVELS	5
#define MV_TDP_LEVEL_4K		1
#define MV_TDP_LEVEL_2M		2
/* Guest frames one entry of @level covers. */
#define MV_TDP_FRAMES(level)	(1ULL << (9 * ((level) - 1)))

/**
 * struct mv_tdp_format - the bits of a second-level entry
 * @present: bits of which any set means the entry is present
 * @table: bits of an entry that points to a lower table
 * @leaf: bits of a leaf entry, readable and executable
 * @leaf_write: bits that make a leaf writable too
 * @large: the bit that makes a level-2 entry a 2 MiB leaf (bit 7 in both
 *	NPT and EPT); 0 when the hardware has no 2 MiB leaves in this format
 *	(EPT without bit 16 of IA32_VMX_EPT_VPID_CAP): mv_tdp_map() then
 *	refuses them, and the faults map 4 KiB
 * @host_levels: the hardware walks as many levels as the host's own
 *	paging has: NPT, whose walk follows the host's CR4.LA57 (five levels
 *	on a 5-level host).  Else the tables have four levels, as EPT's do:
 *	the backend's EPTP asks for a 4-level walk, which covers every guest
 *	address of up to 48 bits.
 */
struct mv_tdp_format {
	u64 present;
	u64 table;
	u64 leaf;
	u64 leaf_write;
	u64 large;
	bool host_levels;
};

/**
 * struct mv_tdp_cache - table pages allocated before the table lock is taken
 * @nr: pages in @pages
 * @pages: zeroed pages, enough for the deepest new path one map can need
 *	(a table per level below the root)
 *
 * The tables are changed under a spinlock (the mmu_notifier must be able to
 * zap without sleeping), so a fault fills its cache first with
 * mv_tdp_cache_topup(), where it may sleep, and mv_tdp_map() takes from it.
 */
struct mv_tdp_cache {
	unsigned int nr;
	void *pages[MV_TDP_MAX_LEVELS - 1];
};

/**
 * struct mv_tdp - one VM's second-level tables
 * @lock: the lock the tables are changed under, their owner's: a VM's
 *	MMU lock (struct mv_mmu's @lock) (c)
 * @fmt: the entry format (c)
 * @root: the top-level table (c, allocated at VM creation)
 * @root_pa: its physical address (c)
 * @levels: levels of the tables, 4 or 5: what the hardware walks (c)
 * @nr_pages: present leaves of each size, [0] 4 KiB, [1] 2 MiB [@lock];
 *	read without it by the statistics
 */
struct mv_tdp {
	spinlock_t *lock;	/* the owner's, see above */
	const struct mv_tdp_format *fmt;
	u64 *root;
	u64 root_pa;
	int levels;
	u64 nr_pages[2];
};

/**
 * struct mv_tdp_zap - what mv_tdp_zap_range() did and must still do
 * @leaf: called for each leaf zapped, under the table lock (must not
 *	sleep), with the first host frame it mapped, its level and whether
 *	it was writable; may be NULL
 * @arg: for @leaf
 * @zapped: leaves zapped so far
 * @tables: table pages taken out of the tables; freed by mv_tdp_zap_done()
 *	once no CPU can still walk them (after the vCPUs flushed)
 */
struct mv_tdp_zap {
	void (*leaf)(u64 pfn, int level, bool writable, void *arg);
	void *arg;
	unsigned long zapped;
	struct list_head tables;
};

int mv_tdp_init(struct mv_tdp *tdp,
		const struct mv_tdp_format *fmt, spinlock_t *lock);
int mv_tdp_init_levels(struct mv_tdp *tdp, const struct mv_tdp_format *fmt,
		       spinlock_t *lock, int levels);
u64 mv_tdp_max_gfn(const struct mv_tdp *tdp);
void mv_tdp_destroy(struct mv_tdp *tdp);
int mv_tdp_cache_topup(const struct mv_tdp *tdp, struct mv_tdp_cache *cache,
		       gfp_t gfp);
void mv_tdp_cache_free(struct mv_tdp_cache *cache);
int mv_tdp_map(struct mv_tdp *tdp, struct mv_tdp_cache *cache, u64 gfn,
	       u64 pfn, int level, bool writable);
u64 mv_tdp_lookup(struct mv_tdp *tdp, u64 gfn, int *level);
void mv_tdp_zap_init(struct mv_tdp_zap *zap,
		     void (*leaf)(u64 pfn, int level, bool writable, void *arg),
		     void *arg);
void mv_tdp_zap_range(struct mv_tdp *tdp, u64 start, u64 end,
		      struct mv_tdp_zap *zap);
void mv_tdp_zap_done(struct mv_tdp *tdp, struct mv_tdp_zap *zap);

/* What mv_tdp_page_fault() decided. */
enum mv_tdp_fault {
	MV_TDP_FIXED,		/* mapped, or raced: enter the guest again */
	MV_TDP_MMIO,		/* no memory there: emulate the access */
};

int mv_tdp_page_fault(struct mv_vcpu *vcpu, u64 gpa, bool write);

#endif /* MV_MMU_TDP_H */
