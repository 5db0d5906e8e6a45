// SPDX-License-Identifier: GPL-2.0
/*
 * The shadow MMU's roots and what comes with them: CR3 loads, which find
 * the root in the vCPU's previous roots or the hash before building one,
 * and sync the top-level shadows; the second-level tables a paging-off
 * guest may run on instead, with write tracking off meanwhile; INVLPG;
 * the emulator's writes to write-protected guest tables; the notifier's
 * zaps; vCPU and VM setup, and the MMU ops.
 */
#include <kunit/visibility.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/minivisor.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <asm/processor-flags.h>

#include "../gmem.h"
#include "../insn.h"
#include "../vcpu.h"
#include "../vm.h"
#include "mmu.h"
#include "shadow.h"
#include "shadow_int.h"
#include "tdp.h"
#include "walk.h"

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

	lockdep_assert_held(&vm->mmu.lock);
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

	if (!vm->mmu.shadow.root_cache || sp->invalid) {
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
	list_move_tail(&sp->lru, &vm->mmu.shadow.lru);
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

	spin_lock(&vm->mmu.lock);
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
	spin_unlock(&vm->mmu.lock);
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
VISIBLE_IF_KUNIT void shadow_untrack(struct mv_vm *vm)
{
	struct mv_sp *sp;

	lockdep_assert_held(&vm->mmu.lock);
	vm->mmu.shadow.untracked++;
	list_for_each_entry(sp, &vm->mmu.shadow.lru, lru)
		shadow_make_unsync(vm, sp);
}
EXPORT_SYMBOL_IF_KUNIT(shadow_untrack);

/*
 * The vCPU leaves the second-level tables for a shadow root: its writes
 * are seen again.  The load that follows (need_load is set) empties and
 * protects again the shadows it may have written meanwhile.
 */
static void shadow_leave_phys(struct mv_vcpu *vcpu)
{
	struct mv_shadow_vcpu *sv = to_sv(vcpu);
	struct mv_vm *vm = vcpu->vm;

	spin_lock(&vm->mmu.lock);
	sv->phys = false;
	vm->mmu.shadow.untracked--;
	spin_unlock(&vm->mmu.lock);
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
		spin_lock(&vm->mmu.lock);
		sv->phys = true;
		shadow_untrack(vm);
		spin_unlock(&vm->mmu.lock);
		/* a shadow root is loaded, and synced, when it comes back */
		sv->need_load = true;
	}
	*root_pa = vm->mmu.tdp.root_pa;
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

	spin_lock(&vm->mmu.lock);
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
	spin_unlock(&vm->mmu.lock);
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
	u32 acc = sp->role.access & shadow_gpte_access(gpte, m);
	u64 gfn, spte;

	lockdep_assert_held(&vm->mmu.lock);
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
	if (shadow_rmap_add(vm, sv, gfn, &sp->spt[i], false))
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
	spin_lock(&vm->mmu.lock);
	if (page && mv_mmu_fault_in_stale(vm, &p))
		pfn = 0;	/* raced: fault it in later */

	/*
	 * Every shadow of the table written, however many roles it has: a
	 * private list, since zapping one can zap others and take them off
	 * the hash (a zapped page is only freed after the lock is dropped).
	 */
	hlist_for_each_entry(sp,
			     &vm->mmu.shadow.hash[gfn_hash(gpa >> PAGE_SHIFT)],
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
		vm->mmu.mn_seq++;
	}
	spin_unlock(&vm->mmu.lock);
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
VISIBLE_IF_KUNIT void shadow_zap_gfns(struct mv_vm *vm, u64 start, u64 end,
				      struct mv_tdp_zap *zap)
{
	struct mv_rmap *e, *next;

	/* what vCPUs with paging off mapped there (shadow_phys_root()) */
	if (vm->mmu.tdp.root)
		mv_tdp_zap_range(&vm->mmu.tdp, start, end, zap);
	if (!vm->mmu.shadow.hash)
		return;
	for (e = shadow_rmap_first(&vm->mmu.shadow.rmap_4k, start);
	     e && e->gfn < end; e = next) {
		next = shadow_rmap_next(e);
		shadow_rmap_zap(vm, e, zap);
	}
	/* the 2 MiB leaves that cover part of the range */
	for (e = shadow_rmap_first(&vm->mmu.shadow.rmap_2m,
				   ALIGN_DOWN(start, SP_2M_FRAMES));
	     e && e->gfn < end; e = next) {
		next = shadow_rmap_next(e);
		shadow_rmap_zap(vm, e, zap);
	}
}
EXPORT_SYMBOL_IF_KUNIT(shadow_zap_gfns);

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
	vcpu->mmu.shadow = sv;
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
	spin_lock(&vm->mmu.lock);
	if (sv->phys)
		vm->mmu.shadow.untracked--;
	shadow_drop_roots(vm, sv, &freed);
	for (i = 0; i < MV_SHADOW_PREV_ROOTS; i++)
		if (sv->prev[i])
			shadow_put_root(vm, sv->prev[i], &freed);
	spin_unlock(&vm->mmu.lock);
	/* the VM is going: no vCPU runs, nothing to flush */
	shadow_free_list(&freed);
	while (sv->nr_sp)
		shadow_sp_free(sv->sp[--sv->nr_sp]);
	while (sv->nr_rmap)
		kfree(sv->rmap[--sv->nr_rmap]);
	free_page((unsigned long)sv->pae_root);
	free_pages((unsigned long)sv->top, 2);
	kfree(sv);
	vcpu->mmu.shadow = NULL;
}

/**
 * mv_shadow_vm_init() - a new VM's (empty) shadow state
 * @vm: the VM
 *
 * Return: 0 or -ENOMEM; mv_shadow_vm_destroy() undoes either way.
 */
int mv_shadow_vm_init(struct mv_vm *vm)
{
	struct mv_shadow *s = &vm->mmu.shadow;
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
	spin_lock(&vm->mmu.lock);
	vm->mmu.shadow.max_pages = max_t(u64, max_pages,
					 4 * MV_SHADOW_CACHE_SP);
	shadow_reclaim(vm, 0, &freed);
	spin_unlock(&vm->mmu.lock);
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
	spin_lock(&vm->mmu.lock);
	vm->mmu.shadow.root_cache = on;
	spin_unlock(&vm->mmu.lock);
}

/**
 * mv_shadow_vm_destroy() - free every shadow page of a VM
 * @vm: the VM; its vCPUs' shadow state is gone already
 */
void mv_shadow_vm_destroy(struct mv_vm *vm)
{
	struct mv_shadow *s = &vm->mmu.shadow;
	struct mv_sp *sp;
	LIST_HEAD(freed);

	if (s->hash) {
		spin_lock(&vm->mmu.lock);
		while (!list_empty(&s->lru)) {
			sp = list_first_entry(&s->lru, struct mv_sp, lru);
			shadow_zap_sp(vm, sp, &freed);
		}
		spin_unlock(&vm->mmu.lock);
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
