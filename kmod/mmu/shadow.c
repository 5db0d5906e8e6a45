// SPDX-License-Identifier: GPL-2.0
/*
 * The shadow MMU: tables the hardware walks in place of the guest's own,
 * mapping guest-virtual addresses straight to host-physical pages.
 * Documentation/shadow-mmu.md explains the design; in short:
 *
 *  - A shadow page (struct mv_sp) shadows one guest table, found by the
 *    guest frame of that table and a role (level, guest paging mode,
 *    quadrant, the access the guest entries above grant...), in a hash
 *    shared by the VM's vCPUs.  A direct shadow page shadows no table but
 *    maps a range of guest frames (paging off, guest large pages).
 *  - The hardware's tables are always 64-bit entries: a 4-level root for a
 *    4-level guest, and a per-vCPU PAE root (four PDPTEs) for the others,
 *    run in PAE mode (paging-off guests in SVM's paged real mode, or on
 *    VMX on the second-level tables: shadow_phys_root()).  Leaves are
 *    4 KiB, or 2 MiB where a guest large page is backed by a 2 MiB host
 *    page and covers no write-protected guest table.
 *  - Guest tables below the top level are write-protected: a leaf mapping
 *    their frame is made read-only (the rmap finds them), so that a guest
 *    write to one exits and the shadows stay equal to the guest's tables.
 *    The guest's top-level tables (PML4, the PAE PDs, the 32-bit PD) are
 *    instead never protected, and brought in step entry by entry at the
 *    moments the architecture lets a change take effect: CR3 loads and
 *    INVLPG.
 *  - A write to a write-protected guest table makes its shadows "unsync":
 *    the write goes through unprotected, and at the next CR3 load, INVLPG
 *    or flush (which the architecture requires before a changed entry must
 *    be seen) they are emptied and protected again; what the guest maps
 *    comes back fault by fault.  A not-present entry made present needs no
 *    flush: the shadow has nothing there, so the access faults and the
 *    walk finds the new entry.
 *  - Roots stay in the hash when a vCPU leaves them; a CR3 load looks for
 *    one there (and in the vCPU's previous roots) before building a new
 *    one, so returning to an address space costs only a sync of its top
 *    table.
 *
 * Locking: everything is under the VM's MMU lock, vm->mmu_lock (a
 * spinlock, shared with the mmu_notifier and the memory slots).  Pages and
 * rmap entries a fault may need are allocated before it is taken; guest
 * memory is read before it is taken too.  Shadow pages are freed only after
 * every vCPU left the guest and flushed (shadow_commit()).
 */
#include <kunit/visibility.h>
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/kvm.h>
#include <linux/minivisor.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "../event.h"
#include "../exit.h"
#include "../gmem.h"
#include "../insn.h"
#include "../mv.h"
#include "../ops.h"
#include "../vcpu.h"
#include "../virt.h"
#include "../vm.h"
#include "mmu.h"
#include "shadow.h"
#include "tdp.h"
#include "walk.h"

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

static struct mv_shadow_vcpu *to_sv(struct mv_vcpu *vcpu)
{
	return vcpu->shadow;
}

static void shadow_mode_of(const struct mv_walk_env *env,
			   struct shadow_mode *m)
{
	memset(m, 0, sizeof(*m));
	if (!(env->cr0 & X86_CR0_PG))
		m->gmode = MV_GMODE_OFF;
	else if (env->efer & EFER_LMA)
		m->gmode = MV_GMODE_LONG;
	else if (env->cr4 & X86_CR4_PAE)
		m->gmode = MV_GMODE_PAE;
	else
		m->gmode = MV_GMODE_32;
	m->pse = env->cr4 & X86_CR4_PSE;
	m->addr_mask = GENMASK_ULL(env->maxphyaddr - 1, 12);
	m->base.gmode = m->gmode;
	if (m->gmode != MV_GMODE_OFF) {
		m->base.cr0_wp = !!(env->cr0 & X86_CR0_WP);
		m->base.nxe = !!(env->efer & EFER_NX);
	}
}

/*
 * Is @spte a 2 MiB leaf?  Only level-2 entries can be; links never have
 * PS, nor do the 4 KiB leaves (we set no PAT bit).
 */
static bool spte_large(u64 spte)
{
	return (spte & (SPTE_P | SPTE_PS)) == (SPTE_P | SPTE_PS);
}

static struct mv_sp *spte_to_sp(u64 spte)
{
	return (struct mv_sp *)page_private(pfn_to_page((spte & SPTE_ADDR) >>
							 PAGE_SHIFT));
}

static unsigned int gfn_hash(u64 gfn)
{
	return hash_64(gfn, MV_SHADOW_HASH_BITS);
}

/* Is @role the shadow of the guest's top-level table (see above)? */
static bool role_is_top(union mv_sp_role role)
{
	if (role.direct)
		return false;
	return (role.gmode == MV_GMODE_LONG && role.level == 4) ||
		((role.gmode == MV_GMODE_PAE || role.gmode == MV_GMODE_32) &&
		 role.level == 2);
}

/* ------------------------------------------------------------ the caches */

static void shadow_sp_free(struct mv_sp *sp)
{
	free_page((unsigned long)sp->spt);
	free_page((unsigned long)sp->gfns);
	kfree(sp);
}

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
static int shadow_topup(struct mv_shadow_vcpu *sv)
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
	return large ? &vm->shadow.rmap_2m : &vm->shadow.rmap_4k;
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
static struct mv_rmap *rmap_first(struct rb_root *root, u64 gfn)
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

static struct mv_rmap *rmap_next(struct mv_rmap *e)
{
	struct rb_node *n = rb_next(&e->node);

	return n ? rb_entry(n, struct mv_rmap, node) : NULL;
}

/*
 * Records that *@sptep is to map @gfn (a 2 MiB leaf's first frame if
 * @large), with an entry from @sv's cache; false (nothing recorded: the
 * caller must not install the leaf) when the cache is empty.
 */
static bool rmap_add(struct mv_vm *vm, struct mv_shadow_vcpu *sv, u64 gfn,
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
static void shadow_drop_leaf(struct mv_vm *vm, struct mv_sp *sp,
			     unsigned int i)
{
	u64 spte = sp->spt[i];

	rmap_del(vm, sp->gfns[i], &sp->spt[i], spte_large(spte));
	WRITE_ONCE(sp->spt[i], 0);
	if (spte_large(spte))
		vm->shadow.nr_2m--;
	mv_mmu_leaf_zapped((spte & SPTE_ADDR) >> PAGE_SHIFT, 1,
			   spte & SPTE_RW, NULL);
}

/* A leaf found through the rmap goes, with its rmap entry */
static void rmap_zap(struct mv_vm *vm, struct mv_rmap *e,
		     struct mv_tdp_zap *zap)
{
	u64 spte = *e->sptep;

	rb_erase(&e->node, rmap_tree(vm, spte_large(spte)));
	WRITE_ONCE(*e->sptep, 0);
	kfree(e);
	if (spte_large(spte))
		vm->shadow.nr_2m--;
	if (zap) {
		zap->leaf((spte & SPTE_ADDR) >> PAGE_SHIFT, 1, spte & SPTE_RW,
			  zap->arg);
		zap->zapped++;
	} else {
		mv_mmu_leaf_zapped((spte & SPTE_ADDR) >> PAGE_SHIFT, 1,
				   spte & SPTE_RW, NULL);
	}
}

static void shadow_zap_sp(struct mv_vm *vm, struct mv_sp *sp,
			  struct list_head *freed);

/* Clears a link to a shadow page; one left without parents may go. */
static void shadow_unlink(struct mv_vm *vm, u64 *sptep,
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
	if (!vm->shadow.root_cache && hlist_empty(&child->parents) &&
	    !child->root_count)
		shadow_zap_sp(vm, child, freed);
}

/* Points *@sptep to @child; false (nothing done) when @sv's cache is empty */
static bool shadow_link(struct mv_shadow_vcpu *sv, u64 *sptep,
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

/* Clears present entry @i of @sp, a leaf (4 KiB or 2 MiB) or a link */
static void shadow_drop_spte(struct mv_vm *vm, struct mv_sp *sp,
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
static void shadow_zap_sp(struct mv_vm *vm, struct mv_sp *sp,
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
	vm->shadow.nr_pages--;
	vm->stats.sp_zapped++;
	if (!sp->root_count)
		list_add(&sp->lru, freed);
}

static void shadow_free_list(struct list_head *freed)
{
	struct mv_sp *sp, *tmp;

	list_for_each_entry_safe(sp, tmp, freed, lru) {
		list_del(&sp->lru);
		shadow_sp_free(sp);
	}
}

/*
 * After changes under the MMU lock, with it dropped: make every vCPU flush
 * (when an entry was taken away or made stricter), then free the zapped
 * pages no CPU can walk any more.
 */
static void shadow_commit(struct mv_vm *vm, struct list_head *freed,
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
static void shadow_put_root(struct mv_vm *vm, struct mv_sp *sp,
			    struct list_head *freed)
{
	if (WARN_ON_ONCE(!sp->root_count))
		return;
	if (--sp->root_count)
		return;
	if (sp->invalid)
		list_add(&sp->lru, freed);
	else if (!vm->shadow.root_cache)
		shadow_zap_sp(vm, sp, freed);
}

/* ------------------------------------------------------ the hash, write-protection */

static struct mv_sp *shadow_find(struct mv_vm *vm, u64 gfn,
				 union mv_sp_role role)
{
	struct mv_sp *sp;

	hlist_for_each_entry(sp, &vm->shadow.hash[gfn_hash(gfn)], hash_link)
		if (sp->gfn == gfn && sp->role.word == role.word)
			return sp;
	return NULL;
}

/* Is @gfn a guest table shadowed write-protected? */
static bool shadow_gfn_protected(struct mv_vm *vm, u64 gfn)
{
	struct mv_sp *sp;

	hlist_for_each_entry(sp, &vm->shadow.hash[gfn_hash(gfn)], hash_link)
		if (sp->gfn == gfn && !sp->role.direct && !sp->top &&
		    !sp->unsync)
			return true;
	return false;
}

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

	for (e = rmap_first(&vm->shadow.rmap_4k, gfn); e && e->gfn == gfn;
	     e = rmap_next(e)) {
		u64 spte = *e->sptep;

		if (!(spte & SPTE_RW))
			continue;
		WRITE_ONCE(*e->sptep, spte & ~(SPTE_RW | SPTE_D));
		mv_mmu_leaf_zapped((spte & SPTE_ADDR) >> PAGE_SHIFT, 1, true,
				   NULL);
		changed = true;
	}
	for (e = rmap_first(&vm->shadow.rmap_2m, base); e && e->gfn == base;
	     e = next) {
		next = rmap_next(e);
		if (!(*e->sptep & SPTE_RW))
			continue;
		rmap_zap(vm, e, NULL);
		changed = true;
	}
	return changed;
}

/* Is a guest table in the 2 MiB of frames from @base write-protected? */
static bool shadow_range_protected(struct mv_vm *vm, u64 base)
{
	u64 gfn;

	for (gfn = base; gfn < base + SP_2M_FRAMES; gfn++)
		if (shadow_gfn_protected(vm, gfn))
			return true;
	return false;
}

/* @sp, the shadow of a guest table, stops being write-protected */
static void shadow_make_unsync(struct mv_vm *vm, struct mv_sp *sp)
{
	if (sp->role.direct || sp->top || sp->unsync || sp->invalid)
		return;
	sp->unsync = true;
	list_add_tail(&sp->unsync_link, &vm->shadow.unsync);
	vm->stats.sp_unsynced++;
}

/*
 * The guest writes guest table @gfn: its shadows stop being
 * write-protected (the write goes through) and become unsync.
 */
static void shadow_unsync_gfn(struct mv_vm *vm, u64 gfn)
{
	struct mv_sp *sp;

	hlist_for_each_entry(sp, &vm->shadow.hash[gfn_hash(gfn)], hash_link)
		if (sp->gfn == gfn)
			shadow_make_unsync(vm, sp);
}

/*
 * Brings every unsync page in step with the guest: it is emptied (what
 * the guest maps now comes back fault by fault) and protected again;
 * unless a vCPU writes guest memory unseen (mv_shadow.untracked), when
 * it stays unsync.
 */
static void shadow_sync_unsync(struct mv_vm *vm, struct list_head *freed,
			       bool *flush)
{
	bool protect = !vm->shadow.untracked;
	LIST_HEAD(pending);
	struct mv_sp *sp;
	unsigned int i;

	/*
	 * Dropping an entry can zap another unsync page (no root cache):
	 * take them from a private list, always its first.
	 */
	list_splice_init(&vm->shadow.unsync, &pending);
	while (!list_empty(&pending)) {
		sp = list_first_entry(&pending, struct mv_sp, unsync_link);
		if (protect) {
			list_del(&sp->unsync_link);
			sp->unsync = false;
		} else {
			list_move_tail(&sp->unsync_link, &vm->shadow.unsync);
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

/*
 * Keeps the VM under its budget with @room pages to spare: zaps the least
 * recently used pages that are nobody's root.  [MMU lock]
 */
static void shadow_reclaim(struct mv_vm *vm, unsigned int room,
			   struct list_head *freed)
{
	struct mv_shadow *s = &vm->shadow;
	struct mv_sp *sp;

	lockdep_assert_held(&vm->mmu_lock);
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
static struct mv_sp *shadow_get(struct mv_vm *vm, struct mv_shadow_vcpu *sv,
				u64 gfn, union mv_sp_role role, bool *flush,
				bool *created)
{
	struct mv_sp *sp = shadow_find(vm, gfn, role);

	if (created)
		*created = !sp;
	if (sp) {
		list_move_tail(&sp->lru, &vm->shadow.lru);
		return sp;
	}
	if (WARN_ON_ONCE(!sv->nr_sp))
		return NULL;
	sp = sv->sp[--sv->nr_sp];
	sp->gfn = gfn;
	sp->role = role;
	sp->top = role_is_top(role);
	INIT_HLIST_HEAD(&sp->parents);
	hlist_add_head(&sp->hash_link, &vm->shadow.hash[gfn_hash(gfn)]);
	list_add_tail(&sp->lru, &vm->shadow.lru);
	vm->shadow.nr_pages++;
	vm->stats.sp_created++;
	if (vm->shadow.untracked)
		shadow_make_unsync(vm, sp);	/* see shadow_phys_root() */
	else if (!role.direct && !sp->top && shadow_write_protect(vm, gfn))
		*flush = true;
	return sp;
}

/* ------------------------------------------------------ shape of the shadow */

/* MV_ACC_* of one guest entry */
static u32 gpte_access(u64 gpte, const struct shadow_mode *m)
{
	u32 acc = MV_ACC_EXEC;

	if (gpte & GPTE_RW)
		acc |= MV_ACC_WRITE;
	if (gpte & GPTE_US)
		acc |= MV_ACC_USER;
	if (m->base.nxe && m->gmode != MV_GMODE_32 && (gpte & GPTE_NX))
		acc &= ~MV_ACC_EXEC;
	return acc;
}

/*
 * Which shadow page entry @i of @parent (a table of @level; NULL for the
 * PAE root) must point to, given the guest entry @gpte it shadows (for a
 * parent that is not direct; for the PAE root of a PAE guest, the PDPTE;
 * for the PAE root of a 32-bit guest, the guest's CR3).  False when it
 * must point nowhere (the guest entry is not present).
 */
static bool shadow_child(const struct shadow_mode *m,
			 const struct mv_sp *parent, int level,
			 unsigned int i, u64 gpte, u64 *gfn,
			 union mv_sp_role *role)
{
	*role = m->base;
	role->level = level - 1;
	role->access = MV_ACC_ALL;

	if (!parent) {		/* the PAE root: one entry per GiB */
		switch (m->gmode) {
		case MV_GMODE_OFF:
			role->direct = 1;
			*gfn = (u64)i << 18;
			return true;
		case MV_GMODE_32:
			role->quadrant = i;
			*gfn = (gpte & GENMASK_ULL(31, 12)) >> PAGE_SHIFT;
			return true;
		default:
			if (!(gpte & GPTE_P))
				return false;
			*gfn = (gpte & m->addr_mask) >> PAGE_SHIFT;
			return true;
		}
	}
	if (parent->role.direct) {
		role->direct = 1;
		role->access = parent->role.access;
		*gfn = parent->gfn + ((u64)i << (9 * (level - 1)));
		return true;
	}
	if (!(gpte & GPTE_P))
		return false;
	role->access = parent->role.access & gpte_access(gpte, m);
	if ((gpte & GPTE_PS) &&
	    ((level == 2 && (m->gmode != MV_GMODE_32 || m->pse)) ||
	     (level == 3 && m->gmode == MV_GMODE_LONG))) {
		role->direct = 1;
		/*
		 * A clean large page is shadowed read-only: the first write
		 * faults, the walk sets the guest's Dirty bit, and the entry
		 * then names another (writable) direct page.  A writable
		 * leaf under a clean entry would let the guest dirty the
		 * page without the Dirty bit ever being set.
		 */
		if (!(gpte & GPTE_D))
			role->access &= ~MV_ACC_WRITE;
		if (m->gmode == MV_GMODE_32)	/* half of a 4 MiB page */
			*gfn = ((gpte & GENMASK_ULL(31, 22)) >> PAGE_SHIFT |
				((gpte >> 13) & 0xff) << 20) + (i & 1) * 512;
		else
			*gfn = (gpte & m->addr_mask &
				~GENMASK_ULL(12 + 9 * (level - 1) - 1, 0)) >>
				PAGE_SHIFT;
		return true;
	}
	if (m->gmode == MV_GMODE_32) {
		role->quadrant = i & 1;
		*gfn = (gpte & GENMASK_ULL(31, 12)) >> PAGE_SHIFT;
	} else {
		*gfn = (gpte & m->addr_mask) >> PAGE_SHIFT;
	}
	return true;
}

/* The guest entry of an unsync (top) shadow page's entry @i, from @gt */
static u64 shadow_top_gpte(const struct mv_sp *sp, const void *gt,
			   unsigned int i)
{
	if (sp->role.gmode == MV_GMODE_32)
		return ((const u32 *)gt)[sp->role.quadrant * 256 + i / 2];
	return ((const u64 *)gt)[i];
}

/*
 * Does the 2 MiB leaf at entry @i of @sp still give no more than the guest
 * entry @gpte: the same frames, no permission the guest took away, and
 * not writable once the guest cleared Dirty?
 */
static bool shadow_large_current(const struct shadow_mode *m,
				 const struct mv_sp *sp, unsigned int i,
				 u64 gpte)
{
	u64 spte = sp->spt[i], gfn;
	union mv_sp_role role;

	if (!shadow_child(m, sp, sp->role.level, i, gpte, &gfn, &role) ||
	    !role.direct || gfn != sp->gfns[i])
		return false;
	if ((spte & SPTE_RW) &&
	    (!(role.access & MV_ACC_WRITE) || !(gpte & GPTE_D)))
		return false;
	if ((spte & SPTE_US) && !(role.access & MV_ACC_USER))
		return false;
	return (spte & SPTE_NX) || (role.access & MV_ACC_EXEC);
}

/* Brings entry @i of top-level @sp in step with the guest entry @gpte. */
static void shadow_sync_entry(struct mv_vm *vm, const struct shadow_mode *m,
			      struct mv_sp *sp, unsigned int i, u64 gpte,
			      struct list_head *freed, bool *flush)
{
	union mv_sp_role role;
	struct mv_sp *child;
	u64 gfn;

	if (!(sp->spt[i] & SPTE_P))
		return;
	if (spte_large(sp->spt[i])) {
		if (shadow_large_current(m, sp, i, gpte))
			return;
	} else {
		child = spte_to_sp(sp->spt[i]);
		if (shadow_child(m, sp, sp->role.level, i, gpte, &gfn,
				 &role) &&
		    child->gfn == gfn && child->role.word == role.word)
			return;
	}
	shadow_drop_spte(vm, sp, i, freed);
	*flush = true;
}

static void shadow_sync(struct mv_vm *vm, const struct shadow_mode *m,
			struct mv_sp *sp, const void *gt,
			struct list_head *freed, bool *flush)
{
	unsigned int i;

	for (i = 0; i < 512; i++)
		shadow_sync_entry(vm, m, sp, i, shadow_top_gpte(sp, gt, i),
				  freed, flush);
}

/* ------------------------------------------------------------- the fault */

/* The guest entry that shadow table @level (not direct) shadows, on a walk */
static u64 walk_gpte(const struct shadow_mode *m, const struct mv_walk *w,
		     int level)
{
	int top = m->gmode == MV_GMODE_LONG ? 4 :
		m->gmode == MV_GMODE_PAE ? 3 : 2;

	return w->pte[top - level];
}

/*
 * The leaf for a successful walk @w that maps host frame(s) from @pfn:
 * the walk's permissions, made stricter where needed.  @prot: a guest
 * table the leaf covers is write-protected.
 */
static u64 shadow_leaf_spte(const struct shadow_mode *m,
			    const struct mv_walk_env *env,
			    const struct mv_walk *w, u32 access, u64 pfn,
			    bool host_writable, bool prot)
{
	bool writable = w->writable, user = w->user;
	u64 spte;

	if ((access & MV_PF_WRITE) && !writable && !(access & MV_PF_USER) &&
	    !(env->cr0 & X86_CR0_WP)) {
		/* CR0.WP=0: the kernel writes a read-only page, users may not */
		writable = true;
		user = false;
	}
	/* clean in the guest: the first write must come here to set D */
	if (m->gmode != MV_GMODE_OFF && !(w->pte[w->nr - 1] & GPTE_D))
		writable = false;
	if (!host_writable || prot)
		writable = false;
	spte = (pfn << PAGE_SHIFT) | SPTE_P | SPTE_A;
	if (writable)
		spte |= SPTE_RW | SPTE_D;
	if (user)
		spte |= SPTE_US;
	if (w->nx)
		spte |= SPTE_NX;
	return spte;
}

/*
 * Entry @i of level-2 @sp maps the 2 MiB around @gva, part of a guest
 * large page: make it a 2 MiB leaf of the host's 2 MiB page @pfn_2m, if no
 * guest table in it is write-protected.  False to map 4 KiB instead.
 */
static bool shadow_map_2m(struct mv_vcpu *vcpu, const struct shadow_mode *m,
			  const struct mv_walk_env *env,
			  const struct mv_walk *w, u32 access, u64 pfn_2m,
			  bool host_writable, struct mv_sp *sp, unsigned int i,
			  bool *flush)
{
	struct mv_vm *vm = vcpu->vm;
	u64 base = ALIGN_DOWN(w->gpa >> PAGE_SHIFT, SP_2M_FRAMES);
	u64 old = sp->spt[i], spte;

	/* a link to 4 KiB leaves stays: the range fell back to them */
	if ((old & SPTE_P) && !spte_large(old))
		return false;
	if (shadow_range_protected(vm, base))
		return false;
	spte = shadow_leaf_spte(m, env, w, access, pfn_2m, host_writable,
				false) | SPTE_PS;
	if (spte_large(old)) {
		if (sp->gfns[i] == base &&
		    (old & SPTE_ADDR) == (spte & SPTE_ADDR)) {
			/* the same page: only its permissions change */
			if ((old & ~spte) & (SPTE_RW | SPTE_US))
				*flush = true;
			if (old == spte)	/* stale TLB entry */
				mv_vcpu_request(vcpu, MV_REQ_TLB_FLUSH);
			WRITE_ONCE(sp->spt[i], spte);
			return true;
		}
		shadow_drop_leaf(vm, sp, i);
		*flush = true;
	}
	sp->gfns[i] = base;
	if (!rmap_add(vm, to_sv(vcpu), base, &sp->spt[i], true))
		return true;	/* left empty: the access faults again */
	WRITE_ONCE(sp->spt[i], spte);
	vm->shadow.nr_2m++;
	return true;
}

/*
 * Builds the shadow path for @gva down to a leaf, after a successful walk
 * @w, and maps host frame @pfn there: a 4 KiB leaf, or a 2 MiB one when
 * @pfn_2m (the host's 2 MiB page, for a guest large page) is not 0 and
 * shadow_map_2m() agrees.  Under the MMU lock.
 */
static void shadow_map(struct mv_vcpu *vcpu, const struct shadow_mode *m,
		       const struct mv_walk_env *env, const struct mv_walk *w,
		       u64 gva, u32 access, u64 pfn, u64 pfn_2m,
		       bool host_writable, struct list_head *freed,
		       bool *flush)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	struct mv_vm *vm = vcpu->vm;
	struct mv_sp *sp = sv->root;
	u64 *table, spte, gfn = w->gpa >> PAGE_SHIFT;
	unsigned int i;
	int level;

	if (sp) {
		level = 4;
		table = sp->spt;
	} else {
		level = 3;
		table = sv->pae_root;
	}
	for (; level > 1; level--) {
		union mv_sp_role role;
		struct mv_sp *child;
		u64 gpte = 0, cgfn;

		if (!sp)
			i = (gva >> 30) & 3;
		else
			i = (gva >> (12 + 9 * (level - 1))) & 511;
		if (!sp && m->gmode == MV_GMODE_32)
			gpte = env->cr3;
		else if (!sp && m->gmode == MV_GMODE_PAE)
			gpte = env->pdptes[i];
		else if (sp && !sp->role.direct)
			gpte = walk_gpte(m, w, level);
		if (!shadow_child(m, sp, level, i, gpte, &cgfn, &role))
			return;		/* the guest changed it: fault again */
		if (level == 2 && pfn_2m && role.direct &&
		    shadow_map_2m(vcpu, m, env, w, access, pfn_2m,
				  host_writable, sp, i, flush))
			return;
		if (level == 2 && spte_large(table[i])) {
			shadow_drop_leaf(vm, sp, i);
			*flush = true;
		}
		if (table[i] & SPTE_P) {
			child = spte_to_sp(table[i]);
			if (child->gfn == cgfn && child->role.word == role.word) {
				list_move_tail(&child->lru, &vm->shadow.lru);
				child->write_count = 0;
				sp = child;
				table = sp->spt;
				continue;
			}
			shadow_unlink(vm, &table[i], freed);
			*flush = true;
		}
		child = shadow_get(vm, sv, cgfn, role, flush, NULL);
		if (!child || !shadow_link(sv, &table[i], child, !sp))
			return;		/* the access faults again */
		sp = child;
		table = sp->spt;
	}

	spte = shadow_leaf_spte(m, env, w, access, pfn, host_writable,
				shadow_gfn_protected(vm, gfn));

	i = (gva >> PAGE_SHIFT) & 511;
	if (table[i] & SPTE_P) {
		if (sp->gfns[i] == gfn &&
		    (table[i] & SPTE_ADDR) == (spte & SPTE_ADDR)) {
			/* the same page: only its permissions change */
			if ((table[i] & ~spte) & (SPTE_RW | SPTE_US))
				*flush = true;
			if (table[i] == spte)	/* stale TLB entry */
				mv_vcpu_request(vcpu, MV_REQ_TLB_FLUSH);
			WRITE_ONCE(table[i], spte);
			return;
		}
		shadow_drop_leaf(vm, sp, i);
		*flush = true;
	}
	sp->gfns[i] = gfn;
	if (rmap_add(vm, sv, gfn, &table[i], false))
		WRITE_ONCE(table[i], spte);
}

static const struct mv_walk_ops shadow_walk_ops;

/* Reads guest memory for the walker */
static int shadow_walk_read(void *priv, u64 gpa, u64 *val, unsigned int size)
{
	struct mv_vcpu *vcpu = priv;

	*val = 0;
	return mv_gmem_read(vcpu->vm, gpa, val, size);
}

static int shadow_walk_cmpxchg(void *priv, u64 gpa, u64 old, u64 new,
			       unsigned int size)
{
	struct mv_vcpu *vcpu = priv;

	return mv_gmem_cmpxchg_gpa(vcpu->vm, gpa, old, new, size);
}

static const struct mv_walk_ops shadow_walk_ops = {
	.read = shadow_walk_read,
	.compare_exchange = shadow_walk_cmpxchg,
};

/* The vCPU's paging state, with the PDPTEs it loaded */
static void shadow_env(struct mv_vcpu *vcpu, struct mv_walk_env *env)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);

	mv_insn_walk_env(vcpu, env);
	if ((env->cr0 & X86_CR0_PG) && (env->cr4 & X86_CR4_PAE) &&
	    !(env->efer & EFER_LMA))
		env->pdptes = sv->pdptes;
}

/* Injects the #PF the guest's own tables give */
static int shadow_inject_pf(struct mv_vcpu *vcpu, u64 gva, u32 error)
{
	vcpu->vm->stats.shadow_pf_injected++;
	vcpu->stats.shadow_pf_injected++;
	/* a #DF if the #PF came while delivering a #PF, say */
	mv_inject_exception(vcpu, X86_TRAP_PF, true, error, gva);
	return 1;
}

static int shadow_page_fault(struct mv_vcpu *vcpu, u64 gva, u32 error)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	struct mv_vm *vm = vcpu->vm;
	u32 access = error & (MV_PF_WRITE | MV_PF_USER | MV_PF_FETCH);
	struct mv_walk_env env;
	struct shadow_mode m;
	struct mv_mmu_page p;
	bool flush = false;
	struct mv_walk w;
	LIST_HEAD(freed);
	u64 gfn;
	int r;

	vcpu->stats.shadow_faults++;
	if (error & MV_PF_RSVD) {
		const u64 data[2] = { gva, error };

		/* no shadow entry has reserved bits set */
		return mv_exit_internal(vcpu, KVM_INTERNAL_ERROR_EMULATION,
					data, ARRAY_SIZE(data));
	}
	shadow_env(vcpu, &env);
	shadow_mode_of(&env, &m);
	r = mv_walk_gva(&env, &shadow_walk_ops, vcpu, gva, access, &w);
	if (r == MV_WALK_FAULT)
		return shadow_inject_pf(vcpu, gva, w.error);
	if (r == -EAGAIN)
		return 1;
	if (r) {
		const u64 data[2] = { gva, r };

		/* the guest's tables are not in its memory */
		return mv_exit_internal(vcpu, KVM_INTERNAL_ERROR_EMULATION,
					data, ARRAY_SIZE(data));
	}
	gfn = w.gpa >> PAGE_SHIFT;

	r = shadow_topup(sv);
	if (r)
		return r;
	/* a guest large page: a 2 MiB leaf if the host has a 2 MiB page */
	r = mv_mmu_fault_in(vm, gfn, access & MV_PF_WRITE, w.level >= 2,
			    &vm->stats.shadow_faults, &p);
	if (r == MV_MMU_NO_RAM) {
		const u64 data[2] = { gva, w.gpa };

		/* MMIO: the instruction's, unless an event's delivery made it */
		if (!mv_event_delivering(vcpu))
			return mv_insn_emulate(vcpu);
		return mv_exit_internal(vcpu, KVM_INTERNAL_ERROR_DELIVERY_EV,
					data, ARRAY_SIZE(data));
	}
	if (r)
		return r;

	spin_lock(&vm->mmu_lock);
	if (mv_mmu_fault_in_stale(vm, &p) ||
	    sv->need_load || (sv->root && sv->root->invalid)) {
		vm->stats.tdp_fault_retries++;
		goto unlock;
	}
	/*
	 * The guest writes one of its write-protected tables: emulate the
	 * write, which updates the shadows in place (shadow_write_gpa()).
	 * A write an event's delivery makes (a stack push) is not the
	 * instruction's: the table is unsynced and the delivery runs again.
	 */
	if ((access & MV_PF_WRITE) && shadow_gfn_protected(vm, gfn)) {
		spin_unlock(&vm->mmu_lock);
		put_page(p.page);
		r = mv_event_delivering(vcpu) ? -EOPNOTSUPP :
			mv_insn_emulate_write(vcpu);
		if (r != -EOPNOTSUPP)
			return r;
		/* an instruction the emulator does not know: unsync */
		spin_lock(&vm->mmu_lock);
		shadow_unsync_gfn(vm, gfn);
		spin_unlock(&vm->mmu_lock);
		return 1;
	}
	shadow_reclaim(vm, MV_SHADOW_CACHE_SP, &freed);
	if (sv->root && sv->root->invalid)
		goto unlock;
	shadow_map(vcpu, &m, &env, &w, gva, access, p.pfn, p.pfn_2m,
		   p.writable, &freed, &flush);
unlock:
	spin_unlock(&vm->mmu_lock);
	put_page(p.page);
	shadow_commit(vm, &freed, flush);
	return 1;
}

/* ------------------------------------------------------------- the roots */

/* Reads @len bytes of guest memory at @gpa; zeros where there is none */
static void shadow_read_guest(struct mv_vcpu *vcpu, u64 gpa, void *buf,
			      unsigned int len)
{
	if (mv_gmem_read(vcpu->vm, gpa, buf, len))
		memset(buf, 0, len);
}

/* Lets go of the root and the PAE root's links. [MMU lock] */
static void shadow_drop_roots(struct mv_vm *vm, struct mv_shadow_vcpu *sv,
			      struct list_head *freed)
{
	unsigned int i;

	lockdep_assert_held(&vm->mmu_lock);
	for (i = 0; i < 4; i++)
		if (sv->pae_root[i] & SPTE_P)
			shadow_unlink(vm, &sv->pae_root[i], freed);
	if (sv->root)
		shadow_put_root(vm, sv->root, freed);
	sv->root = NULL;
}

/* Keeps @sp (the root being left) among the previous roots. */
static void shadow_push_prev(struct mv_vm *vm, struct mv_shadow_vcpu *sv,
			     struct mv_sp *sp, u64 cr3,
			     struct list_head *freed)
{
	int i;

	if (!vm->shadow.root_cache || sp->invalid) {
		shadow_put_root(vm, sp, freed);
		return;
	}
	if (sv->prev[MV_SHADOW_PREV_ROOTS - 1])
		shadow_put_root(vm, sv->prev[MV_SHADOW_PREV_ROOTS - 1], freed);
	for (i = MV_SHADOW_PREV_ROOTS - 1; i > 0; i--) {
		sv->prev[i] = sv->prev[i - 1];
		sv->prev_cr3[i] = sv->prev_cr3[i - 1];
	}
	sv->prev[0] = sp;
	sv->prev_cr3[0] = cr3;
}

/* Loads the root for a 4-level guest's CR3 */
static void shadow_load_long(struct mv_vcpu *vcpu, const struct shadow_mode *m,
			     u64 cr3, bool sync, struct list_head *freed,
			     bool *flush)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	struct mv_vm *vm = vcpu->vm;
	u64 gfn = (cr3 & m->addr_mask) >> PAGE_SHIFT;
	union mv_sp_role role = m->base;
	struct mv_sp *sp = NULL, *old = sv->root;
	bool created = false;
	int i;

	role.level = 4;
	role.access = MV_ACC_ALL;
	if (old && !old->invalid && old->gfn == gfn &&
	    old->role.word == role.word) {
		sp = old;		/* the same address space again */
	} else {
		for (i = 0; i < MV_SHADOW_PREV_ROOTS; i++) {
			struct mv_sp *p = sv->prev[i];

			if (p && !p->invalid && p->gfn == gfn &&
			    p->role.word == role.word) {
				sp = p;
				/* it leaves the list, keeping its reference */
				for (; i < MV_SHADOW_PREV_ROOTS - 1; i++) {
					sv->prev[i] = sv->prev[i + 1];
					sv->prev_cr3[i] = sv->prev_cr3[i + 1];
				}
				sv->prev[i] = NULL;
				break;
			}
		}
		if (!sp) {
			sp = shadow_get(vm, sv, gfn, role, flush, &created);
			if (!sp)
				return;
			sp->root_count++;
		}
		if (old)
			shadow_push_prev(vm, sv, old, sv->root_cr3, freed);
		sv->root = sp;
	}
	if (created) {
		vm->stats.root_cache_misses++;
	} else {
		vm->stats.root_cache_hits++;
		if (sync)
			shadow_sync(vm, m, sp, sv->top, freed, flush);
	}
	list_move_tail(&sp->lru, &vm->shadow.lru);
	sv->root_pa = __pa(sp->spt);
}

/* Loads the PAE root for the other guests */
static void shadow_load_pae(struct mv_vcpu *vcpu, const struct shadow_mode *m,
			    u64 cr3, bool sync, struct list_head *freed,
			    bool *flush)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	struct mv_vm *vm = vcpu->vm;
	bool miss = false;
	unsigned int i;

	shadow_drop_roots(vm, sv, freed);
	for (i = 0; i < 4; i++) {
		union mv_sp_role role;
		struct mv_sp *sp;
		bool created;
		u64 gpte = m->gmode == MV_GMODE_32 ? cr3 :
			sv->pdptes[i];
		u64 gfn;

		if (!shadow_child(m, NULL, 3, i, gpte, &gfn, &role))
			continue;
		sp = shadow_get(vm, sv, gfn, role, flush, &created);
		if (!sp)
			return;
		miss |= created;
		if (!created && sp->top && sync)
			shadow_sync(vm, m, sp, sv->top + 512 *
				    (m->gmode == MV_GMODE_PAE ? i : 0),
				    freed, flush);
		shadow_link(sv, &sv->pae_root[i], sp, true);
	}
	if (m->gmode != MV_GMODE_OFF) {
		if (miss)
			vm->stats.root_cache_misses++;
		else
			vm->stats.root_cache_hits++;
	}
	sv->root_pa = __pa(sv->pae_root);
}

/*
 * Loads the root for the guest's CR3 and paging mode, before an entry:
 * reads the guest's top-level tables first (it may sleep), then finds or
 * builds the root under the MMU lock.
 */
static int shadow_load_root(struct mv_vcpu *vcpu)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	struct mv_vm *vm = vcpu->vm;
	struct mv_walk_env env;
	struct shadow_mode m;
	bool flush = false, sync = !sv->noflush;
	LIST_HEAD(freed);
	unsigned int i;
	u64 cr3;
	int r;

	mv_insn_walk_env(vcpu, &env);
	shadow_mode_of(&env, &m);
	cr3 = env.cr3;
	if (env.cr4 & X86_CR4_PCIDE)
		cr3 &= ~(GENMASK_ULL(11, 0) | BIT_ULL(63));

	r = shadow_topup(sv);
	if (r)
		return r;
	switch (m.gmode) {
	case MV_GMODE_LONG:
		shadow_read_guest(vcpu, cr3 & m.addr_mask, sv->top, PAGE_SIZE);
		break;
	case MV_GMODE_32:
		shadow_read_guest(vcpu, cr3 & GENMASK_ULL(31, 12), sv->top,
				  PAGE_SIZE);
		break;
	case MV_GMODE_PAE:
		/* the PDPTE registers, loaded now as the hardware does */
		shadow_read_guest(vcpu, cr3 & GENMASK_ULL(31, 5),
				  sv->pdptes,
				  sizeof(sv->pdptes));
		for (i = 0; i < 4; i++) {
			u64 pdpte = sv->pdptes[i];

			if (pdpte & GPTE_P)
				shadow_read_guest(vcpu, pdpte & m.addr_mask,
						  sv->top + 512 * i, PAGE_SIZE);
		}
		break;
	default:
		break;
	}

	spin_lock(&vm->mmu_lock);
	if (sync)
		shadow_sync_unsync(vm, &freed, &flush);
	shadow_reclaim(vm, MV_SHADOW_CACHE_SP, &freed);
	if (m.gmode == MV_GMODE_LONG) {
		for (i = 0; i < 4; i++)
			if (sv->pae_root[i] & SPTE_P)
				shadow_unlink(vm, &sv->pae_root[i], &freed);
		shadow_load_long(vcpu, &m, cr3, sync, &freed, &flush);
	} else {
		shadow_load_pae(vcpu, &m, cr3, sync, &freed, &flush);
	}
	sv->root_cr3 = cr3;
	sv->root_role = m.base;
	sv->need_load = false;
	sv->noflush = false;
	spin_unlock(&vm->mmu_lock);
	shadow_commit(vm, &freed, flush);
	/* the hardware's TLB holds the last address space: always flush */
	mv_vcpu_request(vcpu, MV_REQ_TLB_FLUSH);
	vcpu->stats.tlb_flushes++;
	return 0;
}

/*
 * A vCPU starts writing guest memory unseen (see shadow_phys_root()):
 * every shadow of a guest table becomes unsync.  [MMU lock]
 */
static void shadow_untrack(struct mv_vm *vm)
{
	struct mv_sp *sp;

	lockdep_assert_held(&vm->mmu_lock);
	vm->shadow.untracked++;
	list_for_each_entry(sp, &vm->shadow.lru, lru)
		shadow_make_unsync(vm, sp);
}

/*
 * The vCPU leaves the second-level tables for a shadow root: its writes
 * are seen again.  The load that follows (need_load is set) empties and
 * protects again the shadows it may have written meanwhile.
 */
static void shadow_leave_phys(struct mv_vcpu *vcpu)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	struct mv_vm *vm = vcpu->vm;

	spin_lock(&vm->mmu_lock);
	sv->phys = false;
	vm->shadow.untracked--;
	spin_unlock(&vm->mmu_lock);
	sv->need_load = true;
	sv->noflush = false;
}

static int shadow_root(struct mv_vcpu *vcpu, u64 *root_pa)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	int r;

	if (sv->phys)
		shadow_leave_phys(vcpu);
	if (sv->need_load || (sv->root && READ_ONCE(sv->root->invalid)) ||
	    (!sv->root && !sv->root_pa)) {
		r = shadow_load_root(vcpu);
		if (r)
			return r;
	}
	*root_pa = sv->root_pa;
	return 0;
}

/*
 * A backend that cannot run a paging-off guest on a shadow root (VMX:
 * unrestricted guest needs EPT) runs it on the VM's second-level tables,
 * which map guest-physical addresses as the TDP mode does (their faults go
 * to the TDP fault path, their zaps come with shadow_zap_gfns()).  The
 * guest's writes to its page tables then reach memory unseen: every
 * shadow of a guest table becomes unsync, and so does every one made
 * while such a vCPU exists, until the last leaves (shadow_leave_phys()).
 * The vCPUs still on shadow roots see the guest's changes at their next
 * CR3 load, INVLPG or flush, as the architecture says they must.
 */
static int shadow_phys_root(struct mv_vcpu *vcpu, u64 *root_pa)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	struct mv_vm *vm = vcpu->vm;

	if (!sv->phys) {
		spin_lock(&vm->mmu_lock);
		sv->phys = true;
		shadow_untrack(vm);
		spin_unlock(&vm->mmu_lock);
		/* a shadow root is loaded, and synced, when it comes back */
		sv->need_load = true;
	}
	*root_pa = vm->tdp.root_pa;
	return 0;
}

static void shadow_paging_changed(struct mv_vcpu *vcpu, bool flush)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);

	sv->need_load = true;
	sv->noflush = !flush;
}

static void shadow_flush(struct mv_vcpu *vcpu)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);

	sv->need_load = true;
	sv->noflush = false;
}

/*
 * INVLPG: the write-protected tables are always in step, so only the entry
 * of the top-level table that covers @gva may be stale: sync it, and flush.
 */
static void shadow_invlpg(struct mv_vcpu *vcpu, u64 gva)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	struct mv_vm *vm = vcpu->vm;
	struct mv_walk_env env;
	struct shadow_mode m;
	bool flush = false;
	LIST_HEAD(freed);
	struct mv_sp *sp = NULL;
	unsigned int i = 0, q;
	u64 gpa = 0, gpte = 0;

	mv_vcpu_request(vcpu, MV_REQ_TLB_FLUSH);
	vcpu->stats.tlb_flushes++;
	shadow_env(vcpu, &env);
	shadow_mode_of(&env, &m);
	switch (m.gmode) {
	case MV_GMODE_LONG:
		i = (gva >> 39) & 511;
		gpa = (sv->root_cr3 & m.addr_mask) + 8 * i;
		break;
	case MV_GMODE_PAE:
		q = (gva >> 30) & 3;
		if (!(sv->pdptes[q] & GPTE_P))
			return;
		i = (gva >> 21) & 511;
		gpa = (sv->pdptes[q] & m.addr_mask) + 8 * i;
		break;
	case MV_GMODE_32:
		i = (gva >> 21) & 511;
		gpa = (sv->root_cr3 & GENMASK_ULL(31, 12)) + 4 * (u32)(gva >> 22);
		break;
	default:
		return;
	}
	shadow_read_guest(vcpu, gpa, &gpte, m.gmode == MV_GMODE_32 ? 4 : 8);

	spin_lock(&vm->mmu_lock);
	if (sv->need_load)
		goto unlock;
	if (m.gmode == MV_GMODE_LONG) {
		sp = sv->root;
	} else {
		q = (gva >> 30) & 3;
		if (sv->pae_root[q] & SPTE_P)
			sp = spte_to_sp(sv->pae_root[q]);
	}
	if (sp && !sp->invalid && sp->top)
		shadow_sync_entry(vm, &m, sp, i, gpte, &freed, &flush);
	shadow_sync_unsync(vm, &freed, &flush);
unlock:
	spin_unlock(&vm->mmu_lock);
	shadow_commit(vm, &freed, flush);
}

/*
 * A new guest leaf entry @gpte, just written into the table @sp shadows at
 * entry @i: map it at once if it is a plain present, accessed entry whose
 * page (@pfn, from @slot) is at hand; else the entry is left empty and the
 * next access faults.  [MMU lock]
 */
static void shadow_prefetch(struct mv_vm *vm, struct mv_shadow_vcpu *sv,
			    const struct shadow_mode *m, struct mv_sp *sp,
			    unsigned int i, u64 gpte, u64 pfn,
			    bool host_writable)
{
	u32 acc = sp->role.access & gpte_access(gpte, m);
	u64 gfn, spte;

	lockdep_assert_held(&vm->mmu_lock);
	if (sp->role.gmode == MV_GMODE_32)
		gfn = (gpte & GENMASK_ULL(31, 12)) >> PAGE_SHIFT;
	else
		gfn = (gpte & m->addr_mask) >> PAGE_SHIFT;
	spte = (pfn << PAGE_SHIFT) | SPTE_P | SPTE_A;
	if ((acc & MV_ACC_WRITE) && (gpte & GPTE_D) && host_writable &&
	    !shadow_gfn_protected(vm, gfn))
		spte |= SPTE_RW | SPTE_D;
	if (acc & MV_ACC_USER)
		spte |= SPTE_US;
	if (!(acc & MV_ACC_EXEC))
		spte |= SPTE_NX;
	sp->gfns[i] = gfn;
	if (rmap_add(vm, sv, gfn, &sp->spt[i], false))
		WRITE_ONCE(sp->spt[i], spte);
}

/*
 * The emulator wrote guest RAM: where that is a write-protected guest
 * table, the entries written are brought in step in place (a new leaf is
 * mapped at once, "prefetched"), or the shadow is zapped when the table
 * looks no longer used as one (written misaligned, or MV_SHADOW_FLOOD
 * times without a translation through it in between).
 */
static void shadow_write_gpa(struct mv_vcpu *vcpu, u64 gpa, unsigned int size)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	struct mv_vm *vm = vcpu->vm;
	struct mv_sp *sp, *tmp;
	struct page *page = NULL;
	struct mv_walk_env env;
	struct shadow_mode m;
	struct mv_mmu_page p;
	bool flush = false, writable = false, any = false;
	unsigned int esize, gi, i;
	LIST_HEAD(freed);
	LIST_HEAD(written);
	u64 gpte = 0, pfn = 0, ngfn, rsvd = 0;

	shadow_env(vcpu, &env);
	shadow_mode_of(&env, &m);
	esize = m.gmode == MV_GMODE_32 ? 4 : 8;
	if (shadow_topup(sv))
		return;		/* nothing prefetched: entries are dropped */
	/* the whole entry as it is now, and the page it maps */
	if (mv_gmem_read(vcpu->vm, gpa & ~(u64)(esize - 1), &gpte, esize))
		gpte = 0;
	/* an entry with reserved bits must fault in the guest: not mapped */
	rsvd = mv_walk_pte_rsvd(&env, 1, gpte);

	ngfn = (m.gmode == MV_GMODE_32 ? gpte & GENMASK_ULL(31, 12) :
		gpte & m.addr_mask) >> PAGE_SHIFT;
	if ((gpte & GPTE_P) && (gpte & _PAGE_ACCESSED) &&
	    !mv_mmu_fault_in(vm, ngfn, false, false, NULL, &p)) {
		page = p.page;
		pfn = p.pfn;
		writable = p.writable;
	}
	spin_lock(&vm->mmu_lock);
	if (page && mv_mmu_fault_in_stale(vm, &p))
		pfn = 0;	/* raced: fault it in later */

	/*
	 * Every shadow of the table written, however many roles it has: a
	 * private list, since zapping one can zap others and take them off
	 * the hash (a zapped page is only freed after the lock is dropped).
	 */
	hlist_for_each_entry(sp, &vm->shadow.hash[gfn_hash(gpa >> PAGE_SHIFT)],
			     hash_link) {
		if (sp->gfn == gpa >> PAGE_SHIFT && !sp->role.direct &&
		    !sp->top && !sp->unsync)
			list_add_tail(&sp->write_link, &written);
	}
	list_for_each_entry_safe(sp, tmp, &written, write_link) {
		list_del(&sp->write_link);
		if (sp->invalid)
			continue;
		any = true;
		esize = sp->role.gmode == MV_GMODE_32 ? 4 : 8;
		/* misaligned, or written again and again: not a table now */
		if ((gpa & (esize - 1)) + size > esize ||
		    ++sp->write_count > MV_SHADOW_FLOOD) {
			shadow_zap_sp(vm, sp, &freed);
			vm->stats.sp_flooded++;
			flush = true;
			continue;
		}
		gi = offset_in_page(gpa) / esize;
		if (sp->role.gmode == MV_GMODE_32 && sp->role.level == 2) {
			/* a guest PDE is two shadow PDEs of one quadrant */
			if (gi / 256 != sp->role.quadrant)
				continue;
			for (i = (gi % 256) * 2; i < (gi % 256) * 2 + 2; i++) {
				if (sp->spt[i] & SPTE_P) {
					shadow_drop_spte(vm, sp, i, &freed);
					flush = true;
				}
			}
			continue;
		}
		if (sp->role.gmode == MV_GMODE_32) {
			if (gi / 512 != sp->role.quadrant)
				continue;
			gi %= 512;
		}
		if (sp->spt[gi] & SPTE_P) {
			shadow_drop_spte(vm, sp, gi, &freed);
			flush = true;
		}
		/* prefetched while the cache lasts; the rest fault it in */
		if (sp->role.level == 1 && pfn && sp->role.gmode == m.gmode &&
		    sp->role.cr0_wp && !(gpte & rsvd) && sv->nr_rmap)
			shadow_prefetch(vm, sv, &m, sp, gi, gpte, pfn,
					writable);
	}
	if (any) {
		vm->stats.pte_writes_emulated++;
		/* faults that read the old entry must not map it */
		vm->mn_seq++;
	}
	spin_unlock(&vm->mmu_lock);
	if (page)
		put_page(page);
	shadow_commit(vm, &freed, flush);
}

/*
 * mmu_notifier and slot changes: drop the leaves mapping the range.  The
 * rmap trees are in frame order: the cost is a lookup and the leaves
 * dropped, however wide the range (a VM's whole space at mm release) and
 * however many slots alias the memory.
 */
static void shadow_zap_gfns(struct mv_vm *vm, u64 start, u64 end,
			    struct mv_tdp_zap *zap)
{
	struct mv_rmap *e, *next;

	/* what vCPUs with paging off mapped there (shadow_phys_root()) */
	if (vm->tdp.root)
		mv_tdp_zap_range(&vm->tdp, start, end, zap);
	if (!vm->shadow.hash)
		return;
	for (e = rmap_first(&vm->shadow.rmap_4k, start); e && e->gfn < end;
	     e = next) {
		next = rmap_next(e);
		rmap_zap(vm, e, zap);
	}
	/* the 2 MiB leaves that cover part of the range */
	for (e = rmap_first(&vm->shadow.rmap_2m,
			    ALIGN_DOWN(start, SP_2M_FRAMES));
	     e && e->gfn < end; e = next) {
		next = rmap_next(e);
		rmap_zap(vm, e, zap);
	}
}

static int shadow_vcpu_init(struct mv_vcpu *vcpu)
{
	struct mv_shadow_vcpu *sv;

	sv = kzalloc(sizeof(*sv), GFP_KERNEL_ACCOUNT);
	if (!sv)
		return -ENOMEM;
	/* legacy PAE: CR3 holds 32 bits */
	sv->pae_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT | GFP_DMA32);
	sv->top = (u64 *)__get_free_pages(GFP_KERNEL_ACCOUNT, 2);
	if (!sv->pae_root || !sv->top) {
		free_page((unsigned long)sv->pae_root);
		free_pages((unsigned long)sv->top, 2);
		kfree(sv);
		return -ENOMEM;
	}
	sv->need_load = true;
	vcpu->shadow = sv;
	return 0;
}

static void shadow_vcpu_destroy(struct mv_vcpu *vcpu)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	struct mv_vm *vm = vcpu->vm;
	LIST_HEAD(freed);
	unsigned int i;

	if (!sv)
		return;
	spin_lock(&vm->mmu_lock);
	if (sv->phys)
		vm->shadow.untracked--;
	shadow_drop_roots(vm, sv, &freed);
	for (i = 0; i < MV_SHADOW_PREV_ROOTS; i++)
		if (sv->prev[i])
			shadow_put_root(vm, sv->prev[i], &freed);
	spin_unlock(&vm->mmu_lock);
	/* the VM is going: no vCPU runs, nothing to flush */
	shadow_free_list(&freed);
	while (sv->nr_sp)
		shadow_sp_free(sv->sp[--sv->nr_sp]);
	while (sv->nr_rmap)
		kfree(sv->rmap[--sv->nr_rmap]);
	free_page((unsigned long)sv->pae_root);
	free_pages((unsigned long)sv->top, 2);
	kfree(sv);
	vcpu->shadow = NULL;
}

/**
 * mv_shadow_vm_init() - a new VM's (empty) shadow state
 * @vm: the VM
 *
 * Return: 0 or -ENOMEM; mv_shadow_vm_destroy() undoes either way.
 */
int mv_shadow_vm_init(struct mv_vm *vm)
{
	struct mv_shadow *s = &vm->shadow;
	unsigned int i, n = 1U << MV_SHADOW_HASH_BITS;

	INIT_LIST_HEAD(&s->lru);
	INIT_LIST_HEAD(&s->unsync);
	s->max_pages = MV_SHADOW_DEFAULT_PAGES;
	s->root_cache = true;
	s->rmap_4k = RB_ROOT;
	s->rmap_2m = RB_ROOT;
	s->hash = kvmalloc_array(n, sizeof(*s->hash), GFP_KERNEL_ACCOUNT);
	if (!s->hash)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		INIT_HLIST_HEAD(&s->hash[i]);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_vm_init);

/**
 * mv_shadow_set_max_pages() - KVM_SET_NR_MMU_PAGES: a VM's shadow budget
 * @vm: the VM; caller holds @vm->lock
 * @max_pages: the budget, at least MV_SHADOW_MIN_PAGES (the caller checks)
 *
 * As KVM: a VM over the new budget has its least recently used pages
 * zapped now, down to it or to what its vCPUs' roots keep; a fault always
 * has room for one walk's pages (MV_SHADOW_CACHE_SP) over what roots hold.
 * In TDP mode the budget is kept for nothing.
 */
void mv_shadow_set_max_pages(struct mv_vm *vm, u64 max_pages)
{
	LIST_HEAD(freed);

	lockdep_assert_held(&vm->lock);
	spin_lock(&vm->mmu_lock);
	vm->shadow.max_pages = max_t(u64, max_pages, 4 * MV_SHADOW_CACHE_SP);
	shadow_reclaim(vm, 0, &freed);
	spin_unlock(&vm->mmu_lock);
	shadow_commit(vm, &freed, false);
}

/**
 * mv_shadow_set_root_cache() - MV_CAP_SHADOW_ROOT_CACHE: keep left roots?
 * @vm: the VM; caller holds @vm->lock
 * @on: keep them (the default), or zap a root when its vCPU leaves it
 *
 * Roots already kept stay until their vCPUs' caches push them out.
 */
void mv_shadow_set_root_cache(struct mv_vm *vm, bool on)
{
	lockdep_assert_held(&vm->lock);
	spin_lock(&vm->mmu_lock);
	vm->shadow.root_cache = on;
	spin_unlock(&vm->mmu_lock);
}

/**
 * mv_shadow_vm_destroy() - free every shadow page of a VM
 * @vm: the VM; its vCPUs' shadow state is gone already
 */
void mv_shadow_vm_destroy(struct mv_vm *vm)
{
	struct mv_shadow *s = &vm->shadow;
	struct mv_sp *sp;
	LIST_HEAD(freed);

	if (s->hash) {
		spin_lock(&vm->mmu_lock);
		while (!list_empty(&s->lru)) {
			sp = list_first_entry(&s->lru, struct mv_sp, lru);
			shadow_zap_sp(vm, sp, &freed);
		}
		spin_unlock(&vm->mmu_lock);
		shadow_free_list(&freed);
	}
	kvfree(s->hash);
	s->hash = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_vm_destroy);

const struct mv_mmu_ops mv_shadow_mmu_ops = {
	.mode = MV_MMU_SHADOW,
	.name = "shadow",
	.vcpu_init = shadow_vcpu_init,
	.vcpu_destroy = shadow_vcpu_destroy,
	.page_fault = shadow_page_fault,
	.paging_changed = shadow_paging_changed,
	.invlpg = shadow_invlpg,
	.flush = shadow_flush,
	.root = shadow_root,
	.phys_root = shadow_phys_root,
	.write_gpa = shadow_write_gpa,
	.zap_gfns = shadow_zap_gfns,
};

#if IS_ENABLED(CONFIG_KUNIT)
/*
 * For the KUnit suite (kmod/tests/shadow_test.c): the role computation,
 * and the hash and rmap driven on a VM with no vCPU.  The caller holds
 * vm->mmu_lock where the real callers do.
 */

/**
 * mv_shadow_test_child() - the (gfn, role) an entry must point to
 * @env: the guest's registers
 * @parent: the shadow page holding the entry, NULL for the PAE root
 * @level: @parent's level (3 for the PAE root)
 * @i: the entry
 * @gpte: the guest entry it shadows (see shadow_child())
 * @gfn: out
 * @role: out
 *
 * Return: false when the entry must point nowhere.
 */
bool mv_shadow_test_child(const struct mv_walk_env *env,
			  const struct mv_sp *parent, int level,
			  unsigned int i, u64 gpte, u64 *gfn,
			  union mv_sp_role *role)
{
	struct shadow_mode m;

	shadow_mode_of(env, &m);
	return shadow_child(&m, parent, level, i, gpte, gfn, role);
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_child);

/**
 * mv_shadow_test_topup() - fill a vCPU-less cache
 * @sv: the cache's holder
 *
 * Return: 0 or -ENOMEM.
 */
int mv_shadow_test_topup(struct mv_shadow_vcpu *sv)
{
	return shadow_topup(sv);
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_topup);

/**
 * mv_shadow_test_drain() - free what @sv's cache holds
 * @sv: the cache's holder
 */
void mv_shadow_test_drain(struct mv_shadow_vcpu *sv)
{
	while (sv->nr_sp)
		shadow_sp_free(sv->sp[--sv->nr_sp]);
	while (sv->nr_rmap)
		kfree(sv->rmap[--sv->nr_rmap]);
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_drain);

/**
 * mv_shadow_test_get() - shadow_get(): find or make a shadow page
 * @vm: the VM
 * @sv: the cache to take from
 * @gfn: the guest table
 * @role: its role
 * @flush: set when a guest table was write-protected
 * @created: whether it was made
 *
 * Return: the shadow page.
 */
struct mv_sp *mv_shadow_test_get(struct mv_vm *vm, struct mv_shadow_vcpu *sv,
				 u64 gfn, union mv_sp_role role, bool *flush,
				 bool *created)
{
	return shadow_get(vm, sv, gfn, role, flush, created);
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_get);

/**
 * mv_shadow_test_link() - point entry @i of @parent to @child
 * @sv: the cache to take the parent link from
 * @parent: the upper shadow page
 * @i: the entry
 * @child: the lower one
 */
void mv_shadow_test_link(struct mv_shadow_vcpu *sv, struct mv_sp *parent,
			 unsigned int i, struct mv_sp *child)
{
	shadow_link(sv, &parent->spt[i], child, false);
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_link);

/**
 * mv_shadow_test_leaf() - map guest frame @gfn at entry @i of level-1 @sp
 * @vm: the VM
 * @sv: the cache to take the rmap entry from
 * @sp: the shadow page
 * @i: the entry
 * @gfn: the guest frame
 * @pfn: the host frame
 * @writable: make it writable
 */
void mv_shadow_test_leaf(struct mv_vm *vm, struct mv_shadow_vcpu *sv,
			 struct mv_sp *sp, unsigned int i, u64 gfn, u64 pfn,
			 bool writable)
{
	sp->gfns[i] = gfn;
	if (!rmap_add(vm, sv, gfn, &sp->spt[i], false))
		return;
	sp->spt[i] = (pfn << PAGE_SHIFT) | SPTE_P | SPTE_A |
		(writable ? SPTE_RW | SPTE_D : 0);
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_leaf);

/**
 * mv_shadow_test_leaf_2m() - map the 2 MiB from guest frame @gfn at entry
 *	@i of level-2 @sp
 * @vm: the VM
 * @sv: the cache to take the rmap entry from
 * @sp: the shadow page
 * @i: the entry
 * @gfn: the first guest frame (2 MiB aligned)
 * @pfn: the first host frame
 * @writable: make it writable
 */
void mv_shadow_test_leaf_2m(struct mv_vm *vm, struct mv_shadow_vcpu *sv,
			    struct mv_sp *sp, unsigned int i, u64 gfn,
			    u64 pfn, bool writable)
{
	sp->gfns[i] = gfn;
	if (!rmap_add(vm, sv, gfn, &sp->spt[i], true))
		return;
	sp->spt[i] = (pfn << PAGE_SHIFT) | SPTE_P | SPTE_A | SPTE_PS |
		(writable ? SPTE_RW | SPTE_D : 0);
	vm->shadow.nr_2m++;
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_leaf_2m);

/**
 * mv_shadow_test_rmap_count() - leaves the rmap lists for @gfn
 * @vm: the VM
 * @gfn: the guest frame
 *
 * Return: how many.
 */
unsigned int mv_shadow_test_rmap_count(struct mv_vm *vm, u64 gfn)
{
	struct mv_rmap *e;
	unsigned int n = 0;

	for (e = rmap_first(&vm->shadow.rmap_4k, gfn); e && e->gfn == gfn;
	     e = rmap_next(e))
		n++;
	for (e = rmap_first(&vm->shadow.rmap_2m, gfn); e && e->gfn == gfn;
	     e = rmap_next(e))
		n++;
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_rmap_count);

/**
 * mv_shadow_test_protected() - is guest frame @gfn write-protected?
 * @vm: the VM
 * @gfn: the guest frame
 *
 * Return: true if a shadow of it is protected.
 */
bool mv_shadow_test_protected(struct mv_vm *vm, u64 gfn)
{
	return shadow_gfn_protected(vm, gfn);
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_protected);

/**
 * mv_shadow_test_zap() - zap @sp and free what is freed at once
 * @vm: the VM
 * @sp: the shadow page
 */
void mv_shadow_test_zap(struct mv_vm *vm, struct mv_sp *sp)
{
	LIST_HEAD(freed);

	shadow_zap_sp(vm, sp, &freed);
	shadow_free_list(&freed);
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_zap);

/**
 * mv_shadow_test_unsync() - the guest wrote guest table @gfn
 * @vm: the VM
 * @gfn: the guest frame
 */
void mv_shadow_test_unsync(struct mv_vm *vm, u64 gfn)
{
	shadow_unsync_gfn(vm, gfn);
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_unsync);

/**
 * mv_shadow_test_sync() - the guest flushed: unsync pages are synced
 * @vm: the VM
 */
void mv_shadow_test_sync(struct mv_vm *vm)
{
	LIST_HEAD(freed);
	bool flush = false;

	shadow_sync_unsync(vm, &freed, &flush);
	shadow_free_list(&freed);
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_sync);

/**
 * mv_shadow_test_untrack() - a vCPU starts or stops running on the
 *	second-level tables, writing guest memory unseen (phys_root)
 * @vm: the VM
 * @on: starts (true) or stops
 */
void mv_shadow_test_untrack(struct mv_vm *vm, bool on)
{
	if (on)
		shadow_untrack(vm);
	else
		vm->shadow.untracked--;
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_untrack);

/**
 * mv_shadow_test_zap_gfns() - the mmu_notifier's zap of [@start, @end)
 * @vm: the VM
 * @start: first guest frame
 * @end: the frame after the last
 *
 * Return: leaves zapped.
 */
unsigned long mv_shadow_test_zap_gfns(struct mv_vm *vm, u64 start, u64 end)
{
	struct mv_tdp_zap zap;

	mv_tdp_zap_init(&zap, mv_mmu_leaf_zapped, NULL);
	shadow_zap_gfns(vm, start, end, &zap);
	return zap.zapped;
}
EXPORT_SYMBOL_IF_KUNIT(mv_shadow_test_zap_gfns);
#endif
