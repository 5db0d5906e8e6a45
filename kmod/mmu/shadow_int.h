/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shadow MMU's own declarations, shared by its files and its KUnit
 * suite; the rest of the module includes shadow.h only.
 *
 *  - shadow_page.c: the shadow pages and the vCPUs' caches, the rmap and
 *    the parent links, the hash, write-protection and unsync pages;
 *  - shadow.c: the shape of the shadow (which shadow page an entry must
 *    point to, bringing a top-level shadow in step) and the #PF path;
 *  - shadow_root.c: the roots (CR3 loads, the previous roots, the
 *    second-level tables for paging off), INVLPG, emulated writes to
 *    guest tables, the notifier's zaps, vCPU and VM setup, the ops.
 *
 * The locking is in shadow.c's opening comment.
 */
#ifndef MV_MMU_SHADOW_INT_H
#define MV_MMU_SHADOW_INT_H

#include <kunit/visibility.h>
#include <linux/bits.h>
#include <linux/hash.h>
#include <linux/kconfig.h>
#include <linux/mm.h>
#include <linux/types.h>
#include <asm/pgtable_types.h>

#include "../vcpu.h"
#include "shadow.h"

struct list_head;
struct mv_tdp_zap;
struct mv_vm;
struct mv_walk_env;

/* Shadow entry bits: long-mode page-table entries */
#define SPTE_P		_PAGE_PRESENT
#define SPTE_RW		_PAGE_RW
#define SPTE_US		_PAGE_USER
#define SPTE_A		_PAGE_ACCESSED
#define SPTE_D		_PAGE_DIRTY
#define SPTE_PS		_PAGE_PSE
#define SPTE_NX		_PAGE_NX
#define SPTE_ADDR	GENMASK_ULL(51, 12)
#define SPTE_LINK	(SPTE_P | SPTE_RW | SPTE_US | SPTE_A)
/* Guest frames of a 2 MiB leaf */
#define SP_2M_FRAMES	512ULL

/* Guest entry bits */
#define GPTE_P		BIT_ULL(0)
#define GPTE_RW		BIT_ULL(1)
#define GPTE_US		BIT_ULL(2)
#define GPTE_D		BIT_ULL(6)
#define GPTE_PS		BIT_ULL(7)
#define GPTE_NX		BIT_ULL(63)

/* What the shape of the shadow depends on, from the guest's registers */
struct shadow_mode {
	enum mv_shadow_gmode gmode;
	bool pse;
	u64 addr_mask;		/* table address bits of an 8-byte entry */
	union mv_sp_role base;	/* gmode, cr0_wp, nxe */
};

static inline struct mv_shadow_vcpu *to_sv(struct mv_vcpu *vcpu)
{
	return vcpu->mmu.shadow;
}

/*
 * Is @spte a 2 MiB leaf?  Only level-2 entries can be; links never have
 * PS, nor do the 4 KiB leaves (we set no PAT bit).
 */
static inline bool spte_large(u64 spte)
{
	return (spte & (SPTE_P | SPTE_PS)) == (SPTE_P | SPTE_PS);
}

static inline struct mv_sp *spte_to_sp(u64 spte)
{
	return (struct mv_sp *)page_private(pfn_to_page((spte & SPTE_ADDR) >>
							 PAGE_SHIFT));
}

static inline unsigned int gfn_hash(u64 gfn)
{
	return hash_64(gfn, MV_SHADOW_HASH_BITS);
}

/* shadow_page.c: the caches */
void shadow_sp_free(struct mv_sp *sp);
int shadow_topup(struct mv_shadow_vcpu *sv);

/* shadow_page.c: rmap, links */
struct mv_rmap *shadow_rmap_first(struct rb_root *root, u64 gfn);
struct mv_rmap *shadow_rmap_next(struct mv_rmap *e);
bool shadow_rmap_add(struct mv_vm *vm, struct mv_shadow_vcpu *sv, u64 gfn,
		     u64 *sptep, bool large);
void shadow_drop_leaf(struct mv_vm *vm, struct mv_sp *sp, unsigned int i);
void shadow_rmap_zap(struct mv_vm *vm, struct mv_rmap *e,
		     struct mv_tdp_zap *zap);
void shadow_unlink(struct mv_vm *vm, u64 *sptep, struct list_head *freed);
bool shadow_link(struct mv_shadow_vcpu *sv, u64 *sptep,
		 struct mv_sp *child, bool pdpte);
void shadow_drop_spte(struct mv_vm *vm, struct mv_sp *sp, unsigned int i,
		      struct list_head *freed);
void shadow_zap_sp(struct mv_vm *vm, struct mv_sp *sp,
		   struct list_head *freed);
void shadow_free_list(struct list_head *freed);
void shadow_commit(struct mv_vm *vm, struct list_head *freed, bool flush);
void shadow_put_root(struct mv_vm *vm, struct mv_sp *sp,
		     struct list_head *freed);

/* shadow_page.c: the hash, write-protection */
bool shadow_gfn_protected(struct mv_vm *vm, u64 gfn);
bool shadow_range_protected(struct mv_vm *vm, u64 base);
void shadow_make_unsync(struct mv_vm *vm, struct mv_sp *sp);
void shadow_unsync_gfn(struct mv_vm *vm, u64 gfn);
void shadow_sync_unsync(struct mv_vm *vm, struct list_head *freed,
			bool *flush);
void shadow_reclaim(struct mv_vm *vm, unsigned int room,
		    struct list_head *freed);
struct mv_sp *shadow_get(struct mv_vm *vm, struct mv_shadow_vcpu *sv,
			 u64 gfn, union mv_sp_role role, bool *flush,
			 bool *created);

/* shadow.c: the shape of the shadow */
void shadow_mode_of(const struct mv_walk_env *env, struct shadow_mode *m);
u32 shadow_gpte_access(u64 gpte, const struct shadow_mode *m);
bool shadow_child(const struct shadow_mode *m, const struct mv_sp *parent,
		  int level, unsigned int i, u64 gpte, u64 *gfn,
		  union mv_sp_role *role);
void shadow_sync_entry(struct mv_vm *vm, const struct shadow_mode *m,
		       struct mv_sp *sp, unsigned int i, u64 gpte,
		       struct list_head *freed, bool *flush);
void shadow_sync(struct mv_vm *vm, const struct shadow_mode *m,
		 struct mv_sp *sp, const void *gt, struct list_head *freed,
		 bool *flush);

/* shadow.c: the fault */
void shadow_env(struct mv_vcpu *vcpu, struct mv_walk_env *env);
int shadow_page_fault(struct mv_vcpu *vcpu, u64 gva, u32 error);

#if IS_ENABLED(CONFIG_KUNIT)
/* shadow_root.c, static unless for the KUnit suite */
void shadow_untrack(struct mv_vm *vm);
void shadow_zap_gfns(struct mv_vm *vm, u64 start, u64 end,
		     struct mv_tdp_zap *zap);
#endif

#endif /* MV_MMU_SHADOW_INT_H */
