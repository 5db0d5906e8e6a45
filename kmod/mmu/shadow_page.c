// SPDX-License-Identifier: GPL-2.0
/*
 * The shadow MMU's pages: allocated into a vCPU's caches before the MMU
 * lock is taken, found in the VM's hash by guest frame and role, linked to
 * the entries above them, zapped, and freed after the flush; the rmap of
 * the leaves by guest frame; write-protection of the guest tables that
 * are shadowed, and their unsync state.  shadow.c's opening comment tells
 * the whole design.
 */
#include <kunit/visibility.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rbtree.h>
#include <linux/slab.h>

#include "../vcpu.h"
#include "../vm.h"
#include "mmu.h"
#include "shadow.h"
#include "shadow_int.h"
#include "tdp.h"

/* Is @role the shadow of the guest's top-level table (see shadow.c)? */
static bool role_is_top(union mv_sp_role role)
{
	if (role.direct)
		return false;
	return (role.gmode == MV_GMODE_LONG && role.level == 4) ||
		((role.gmode == MV_GMODE_PAE || role.gmode == MV_GMODE_32) &&
		 role.level == 2);
}

/* ------------------------------------------------------------ the caches */

void shadow_sp_free(struct mv_sp *sp)
{
	free_page((unsigned long)sp->spt);
	free_page((unsigned long)sp->gfns);
	kfree(sp);
}
EXPORT_SYMBOL_IF_KUNIT(shadow_sp_free);

static struct mv_sp *shadow_sp_alloc(void)
{
	struct mv_sp *sp;

	sp = kzalloc(sizeof(*sp), GFP_KERNEL_ACCOUNT);
	if (!sp)
		return NULL;
	sp->spt = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	sp->gfns = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!sp->spt || !sp->gfns) {
		shadow_sp_free(sp);
		return NULL;
	}
	set_page_private(virt_to_page(sp->spt), (unsigned long)sp);
	return sp;
}

/* Fills the vCPU's caches, before the MMU lock is taken; may sleep. */
int shadow_topup(struct mv_shadow_vcpu *sv)
{
	while (sv->nr_sp < MV_SHADOW_CACHE_SP) {
		sv->sp[sv->nr_sp] = shadow_sp_alloc();
		if (!sv->sp[sv->nr_sp])
			return -ENOMEM;
		sv->nr_sp++;
	}
	while (sv->nr_rmap < MV_SHADOW_CACHE_RMAP) {
		sv->rmap[sv->nr_rmap] = kzalloc(sizeof(*sv->rmap[0]),
						GFP_KERNEL_ACCOUNT);
		if (!sv->rmap[sv->nr_rmap])
			return -ENOMEM;
		sv->nr_rmap++;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(shadow_topup);

/*
 * An rmap entry from the vCPU's cache, or NULL when it is empty.  A fault
 * never needs more than the cache holds (shadow_topup() filled it); the
 * prefetch of an emulated PTE write stops when it is empty.  Every caller
 * copes with NULL by leaving the shadow entry empty: the next access then
 * faults, with the cache topped up again.
 */
static struct mv_rmap *shadow_take_rmap(struct mv_shadow_vcpu *sv)
{
	if (!sv->nr_rmap)
		return NULL;
	return sv->rmap[--sv->nr_rmap];
}

/* ---------------------------------------------------------- rmap, links */

static struct rb_root *rmap_tree(struct mv_vm *vm, bool large)
{
	return large ? &vm->mmu.shadow.rmap_2m : &vm->mmu.shadow.rmap_4k;
}

/* Orders (@gfn, @sptep) against @e: <0 before, 0 the same, >0 after */
static int rmap_cmp(u64 gfn, const u64 *sptep, const struct mv_rmap *e)
{
	if (gfn != e->gfn)
		return gfn < e->gfn ? -1 : 1;
	if (sptep != e->sptep)
		return sptep < e->sptep ? -1 : 1;
	return 0;
}

/* The first entry of @root for a frame from @gfn on, or NULL */
struct mv_rmap *shadow_rmap_first(struct rb_root *root, u64 gfn)
{
	struct rb_node *n = root->rb_node;
	struct mv_rmap *found = NULL;

	while (n) {
		struct mv_rmap *e = rb_entry(n, struct mv_rmap, node);

		if (e->gfn >= gfn) {
			found = e;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return found;
}
EXPORT_SYMBOL_IF_KUNIT(shadow_rmap_first);

struct mv_rmap *shadow_rmap_next(struct mv_rmap *e)
{
	struct rb_node *n = rb_next(&e->node);

	return n ? rb_entry(n, struct mv_rmap, node) : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(shadow_rmap_next);

/*
 * Records that *@sptep is to map @gfn (a 2 MiB leaf's first frame if
 * @large), with an entry from @sv's cache; false (nothing recorded: the
 * caller must not install the leaf) when the cache is empty.
 */
bool shadow_rmap_add(struct mv_vm *vm, struct mv_shadow_vcpu *sv, u64 gfn,
		     u64 *sptep, bool large)
{
	struct rb_root *root = rmap_tree(vm, large);
	struct rb_node **link = &root->rb_node, *parent = NULL;
	struct mv_rmap *e = shadow_take_rmap(sv);

	if (!e)
		return false;
	e->gfn = gfn;
	e->sptep = sptep;
	while (*link) {
		parent = *link;
		if (rmap_cmp(gfn, sptep, rb_entry(parent, struct mv_rmap,
						  node)) < 0)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&e->node, parent, link);
	rb_insert_color(&e->node, root);
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(shadow_rmap_add);

static void rmap_del(struct mv_vm *vm, u64 gfn, u64 *sptep, bool large)
{
	struct rb_root *root = rmap_tree(vm, large);
	struct rb_node *n = root->rb_node;

	while (n) {
		struct mv_rmap *e = rb_entry(n, struct mv_rmap, node);
		int c = rmap_cmp(gfn, sptep, e);

		if (!c) {
			rb_erase(&e->node, root);
			kfree(e);
			return;
		}
		n = c < 0 ? n->rb_left : n->rb_right;
	}
	WARN_ONCE(1, "minivisor: shadow leaf without rmap");
}

/* A leaf goes: forget it, and tell the host if the guest may have written */
void shadow_drop_leaf(struct mv_vm *vm, struct mv_sp *sp,
		      unsigned int i)
{
	u64 spte = sp->spt[i];

	rmap_del(vm, sp->gfns[i], &sp->spt[i], spte_large(spte));
	WRITE_ONCE(sp->spt[i], 0);
	if (spte_large(spte))
		vm->mmu.shadow.nr_2m--;
	mv_mmu_leaf_zapped((spte & SPTE_ADDR) >> PAGE_SHIFT, 1,
			   spte & SPTE_RW, NULL);
}

/* A leaf found through the rmap goes, with its rmap entry */
void shadow_rmap_zap(struct mv_vm *vm, struct mv_rmap *e,
		     struct mv_tdp_zap *zap)
{
	u64 spte = *e->sptep;

	rb_erase(&e->node, rmap_tree(vm, spte_large(spte)));
	WRITE_ONCE(*e->sptep, 0);
	kfree(e);
	if (spte_large(spte))
		vm->mmu.shadow.nr_2m--;
	if (zap) {
		zap->leaf((spte & SPTE_ADDR) >> PAGE_SHIFT, 1, spte & SPTE_RW,
			  zap->arg);
		zap->zapped++;
	} else {
		mv_mmu_leaf_zapped((spte & SPTE_ADDR) >> PAGE_SHIFT, 1,
				   spte & SPTE_RW, NULL);
	}
}

/* Clears a link to a shadow page; one left without parents may go. */
void shadow_unlink(struct mv_vm *vm, u64 *sptep,
		   struct list_head *freed)
{
	struct mv_sp *child = spte_to_sp(*sptep);
	struct mv_rmap *e;

	hlist_for_each_entry(e, &child->parents, link) {
		if (e->sptep == sptep) {
			hlist_del(&e->link);
			kfree(e);
			break;
		}
	}
	WRITE_ONCE(*sptep, 0);
	/* without the cache, what no table reaches is dropped at once */
	if (!vm->mmu.shadow.root_cache && hlist_empty(&child->parents) &&
	    !child->root_count)
		shadow_zap_sp(vm, child, freed);
}

/* Points *@sptep to @child; false (nothing done) when @sv's cache is empty */
bool shadow_link(struct mv_shadow_vcpu *sv, u64 *sptep,
		 struct mv_sp *child, bool pdpte)
{
	struct mv_rmap *e = shadow_take_rmap(sv);

	if (!e)
		return false;
	e->sptep = sptep;
	e->gfn = 0;
	hlist_add_head(&e->link, &child->parents);
	/* a legacy-PAE PDPTE has reserved bits where the others are */
	WRITE_ONCE(*sptep, __pa(child->spt) | (pdpte ? SPTE_P : SPTE_LINK));
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(shadow_link);

/* Clears present entry @i of @sp, a leaf (4 KiB or 2 MiB) or a link */
void shadow_drop_spte(struct mv_vm *vm, struct mv_sp *sp,
		      unsigned int i, struct list_head *freed)
{
	if (sp->role.level == 1 || spte_large(sp->spt[i]))
		shadow_drop_leaf(vm, sp, i);
	else
		shadow_unlink(vm, &sp->spt[i], freed);
}

/*
 * Zaps a shadow page: its entries and the links to it go, it leaves the
 * hash; it is freed (after the flush) unless a vCPU still has it as root,
 * which frees it when it lets go.
 */
void shadow_zap_sp(struct mv_vm *vm, struct mv_sp *sp,
		   struct list_head *freed)
{
	struct hlist_node *tmp;
	struct mv_rmap *e;
	unsigned int i;

	if (sp->invalid)
		return;
	sp->invalid = true;
	if (sp->unsync) {
		list_del(&sp->unsync_link);
		sp->unsync = false;
	}
	for (i = 0; i < 512; i++) {
		if (sp->spt[i] & SPTE_P)
			shadow_drop_spte(vm, sp, i, freed);
	}
	hlist_for_each_entry_safe(e, tmp, &sp->parents, link) {
		WRITE_ONCE(*e->sptep, 0);
		hlist_del(&e->link);
		kfree(e);
	}
	hlist_del(&sp->hash_link);
	list_del(&sp->lru);
	vm->mmu.shadow.nr_pages--;
	vm->stats.sp_zapped++;
	if (!sp->root_count)
		list_add(&sp->lru, freed);
}
EXPORT_SYMBOL_IF_KUNIT(shadow_zap_sp);

void shadow_free_list(struct list_head *freed)
{
	struct mv_sp *sp, *tmp;

	list_for_each_entry_safe(sp, tmp, freed, lru) {
		list_del(&sp->lru);
		shadow_sp_free(sp);
	}
}
EXPORT_SYMBOL_IF_KUNIT(shadow_free_list);

/*
 * After changes under the MMU lock, with it dropped: make every vCPU flush
 * (when an entry was taken away or made stricter), then free the zapped
 * pages no CPU can walk any more.
 */
void shadow_commit(struct mv_vm *vm, struct list_head *freed,
		   bool flush)
{
	if (flush || !list_empty(freed)) {
		mv_vcpu_request_all(vm, MV_REQ_TLB_FLUSH);
		WRITE_ONCE(vm->stats.remote_tlb_flush,
			   vm->stats.remote_tlb_flush + 1);
	}
	shadow_free_list(freed);
}

/* A vCPU lets go of a root */
void shadow_put_root(struct mv_vm *vm, struct mv_sp *sp,
		     struct list_head *freed)
{
	if (WARN_ON_ONCE(!sp->root_count))
		return;
	if (--sp->root_count)
		return;
	if (sp->invalid)
		list_add(&sp->lru, freed);
	else if (!vm->mmu.shadow.root_cache)
		shadow_zap_sp(vm, sp, freed);
}

/* ------------------------------------------------------ the hash, write-protection */

static struct mv_sp *shadow_find(struct mv_vm *vm, u64 gfn,
				 union mv_sp_role role)
{
	struct mv_sp *sp;

	hlist_for_each_entry(sp, &vm->mmu.shadow.hash[gfn_hash(gfn)], hash_link)
		if (sp->gfn == gfn && sp->role.word == role.word)
			return sp;
	return NULL;
}

/* Is @gfn a guest table shadowed write-protected? */
bool shadow_gfn_protected(struct mv_vm *vm, u64 gfn)
{
	struct mv_sp *sp;

	hlist_for_each_entry(sp, &vm->mmu.shadow.hash[gfn_hash(gfn)], hash_link)
		if (sp->gfn == gfn && !sp->role.direct && !sp->top &&
		    !sp->unsync)
			return true;
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(shadow_gfn_protected);

/*
 * Makes every leaf mapping @gfn read-only, and zaps the writable 2 MiB
 * leaves covering it (the range falls back to 4 KiB leaves at the next
 * fault); true if one was writable.
 */
static bool shadow_write_protect(struct mv_vm *vm, u64 gfn)
{
	u64 base = ALIGN_DOWN(gfn, SP_2M_FRAMES);
	struct mv_rmap *e, *next;
	bool changed = false;

	for (e = shadow_rmap_first(&vm->mmu.shadow.rmap_4k, gfn);
	     e && e->gfn == gfn; e = shadow_rmap_next(e)) {
		u64 spte = *e->sptep;

		if (!(spte & SPTE_RW))
			continue;
		WRITE_ONCE(*e->sptep, spte & ~(SPTE_RW | SPTE_D));
		mv_mmu_leaf_zapped((spte & SPTE_ADDR) >> PAGE_SHIFT, 1, true,
				   NULL);
		changed = true;
	}
	for (e = shadow_rmap_first(&vm->mmu.shadow.rmap_2m, base);
	     e && e->gfn == base; e = next) {
		next = shadow_rmap_next(e);
		if (!(*e->sptep & SPTE_RW))
			continue;
		shadow_rmap_zap(vm, e, NULL);
		changed = true;
	}
	return changed;
}

/* Is a guest table in the 2 MiB of frames from @base write-protected? */
bool shadow_range_protected(struct mv_vm *vm, u64 base)
{
	u64 gfn;

	for (gfn = base; gfn < base + SP_2M_FRAMES; gfn++)
		if (shadow_gfn_protected(vm, gfn))
			return true;
	return false;
}

/* @sp, the shadow of a guest table, stops being write-protected */
void shadow_make_unsync(struct mv_vm *vm, struct mv_sp *sp)
{
	if (sp->role.direct || sp->top || sp->unsync || sp->invalid)
		return;
	sp->unsync = true;
	list_add_tail(&sp->unsync_link, &vm->mmu.shadow.unsync);
	vm->stats.sp_unsynced++;
}

/*
 * The guest writes guest table @gfn: its shadows stop being
 * write-protected (the write goes through) and become unsync.
 */
void shadow_unsync_gfn(struct mv_vm *vm, u64 gfn)
{
	struct mv_sp *sp;

	hlist_for_each_entry(sp, &vm->mmu.shadow.hash[gfn_hash(gfn)], hash_link)
		if (sp->gfn == gfn)
			shadow_make_unsync(vm, sp);
}
EXPORT_SYMBOL_IF_KUNIT(shadow_unsync_gfn);

/*
 * Brings every unsync page in step with the guest: it is emptied (what
 * the guest maps now comes back fault by fault) and protected again;
 * unless a vCPU writes guest memory unseen (mv_shadow.untracked), when
 * it stays unsync.
 */
void shadow_sync_unsync(struct mv_vm *vm, struct list_head *freed,
			bool *flush)
{
	bool protect = !vm->mmu.shadow.untracked;
	LIST_HEAD(pending);
	struct mv_sp *sp;
	unsigned int i;

	/*
	 * Dropping an entry can zap another unsync page (no root cache):
	 * take them from a private list, always its first.
	 */
	list_splice_init(&vm->mmu.shadow.unsync, &pending);
	while (!list_empty(&pending)) {
		sp = list_first_entry(&pending, struct mv_sp, unsync_link);
		if (protect) {
			list_del(&sp->unsync_link);
			sp->unsync = false;
		} else {
			list_move_tail(&sp->unsync_link,
				       &vm->mmu.shadow.unsync);
		}
		for (i = 0; i < 512; i++) {
			if (!(sp->spt[i] & SPTE_P))
				continue;
			shadow_drop_spte(vm, sp, i, freed);
			*flush = true;
		}
		if (protect) {
			shadow_write_protect(vm, sp->gfn);
			*flush = true;
		}
	}
}
EXPORT_SYMBOL_IF_KUNIT(shadow_sync_unsync);

/*
 * Keeps the VM under its budget with @room pages to spare: zaps the least
 * recently used pages that are nobody's root.  [MMU lock]
 */
void shadow_reclaim(struct mv_vm *vm, unsigned int room,
		    struct list_head *freed)
{
	struct mv_shadow *s = &vm->mmu.shadow;
	struct mv_sp *sp;

	lockdep_assert_held(&vm->mmu.lock);
	while (s->nr_pages + room > s->max_pages) {
		bool found = false;

		list_for_each_entry(sp, &s->lru, lru) {
			if (sp->root_count)
				continue;
			shadow_zap_sp(vm, sp, freed);
			vm->stats.sp_reclaimed++;
			found = true;
			break;
		}
		if (!found)
			break;
	}
}

/*
 * The shadow page for (@gfn, @role): found, or made from the cache.  A new
 * shadow of a guest table write-protects that table (*@flush is then set).
 */
struct mv_sp *shadow_get(struct mv_vm *vm, struct mv_shadow_vcpu *sv,
			 u64 gfn, union mv_sp_role role, bool *flush,
			 bool *created)
{
	struct mv_sp *sp = shadow_find(vm, gfn, role);

	if (created)
		*created = !sp;
	if (sp) {
		list_move_tail(&sp->lru, &vm->mmu.shadow.lru);
		return sp;
	}
	if (WARN_ON_ONCE(!sv->nr_sp))
		return NULL;
	sp = sv->sp[--sv->nr_sp];
	sp->gfn = gfn;
	sp->role = role;
	sp->top = role_is_top(role);
	INIT_HLIST_HEAD(&sp->parents);
	hlist_add_head(&sp->hash_link, &vm->mmu.shadow.hash[gfn_hash(gfn)]);
	list_add_tail(&sp->lru, &vm->mmu.shadow.lru);
	vm->mmu.shadow.nr_pages++;
	vm->stats.sp_created++;
	if (vm->mmu.shadow.untracked)
		shadow_make_unsync(vm, sp);	/* see shadow_phys_root() */
	else if (!role.direct && !sp->top && shadow_write_protect(vm, gfn))
		*flush = true;
	return sp;
}
EXPORT_SYMBOL_IF_KUNIT(shadow_get);
