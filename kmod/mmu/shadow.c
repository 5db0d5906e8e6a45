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
 * Locking: everything is under the VM's MMU lock, vm->mmu.lock (a
 * spinlock, shared with the mmu_notifier and the memory slots).  Pages and
 * rmap entries a fault may need are allocated before it is taken; guest
 * memory is read before it is taken too.  Shadow pages are freed only after
 * every vCPU left the guest and flushed (shadow_commit()).
 *
 * This file: the shape of the shadow (which shadow page an entry must
 * point to, and bringing a top-level shadow in step with the guest) and
 * the #PF path.  shadow_page.c holds the shadow pages, their hash, the
 * rmap and write-protection; shadow_root.c the roots, INVLPG, emulated
 * writes to guest tables, vCPU and VM setup and the MMU ops; shadow_int.h
 * what they share.
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
#include "shadow_int.h"
#include "tdp.h"
#include "walk.h"

void shadow_mode_of(const struct mv_walk_env *env,
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
EXPORT_SYMBOL_IF_KUNIT(shadow_mode_of);

/* ------------------------------------------------------ shape of the shadow */

/* MV_ACC_* of one guest entry */
u32 shadow_gpte_access(u64 gpte, const struct shadow_mode *m)
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
bool shadow_child(const struct shadow_mode *m,
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
	role->access = parent->role.access & shadow_gpte_access(gpte, m);
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
EXPORT_SYMBOL_IF_KUNIT(shadow_child);

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
void shadow_sync_entry(struct mv_vm *vm, const struct shadow_mode *m,
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

void shadow_sync(struct mv_vm *vm, const struct shadow_mode *m,
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
	if (!shadow_rmap_add(vm, to_sv(vcpu), base, &sp->spt[i], true))
		return true;	/* left empty: the access faults again */
	WRITE_ONCE(sp->spt[i], spte);
	vm->mmu.shadow.nr_2m++;
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
				list_move_tail(&child->lru,
					       &vm->mmu.shadow.lru);
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
	if (shadow_rmap_add(vm, sv, gfn, &table[i], false))
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
void shadow_env(struct mv_vcpu *vcpu, struct mv_walk_env *env)
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

int shadow_page_fault(struct mv_vcpu *vcpu, u64 gva, u32 error)
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

	spin_lock(&vm->mmu.lock);
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
		spin_unlock(&vm->mmu.lock);
		put_page(p.page);
		r = mv_event_delivering(vcpu) ? -EOPNOTSUPP :
			mv_insn_emulate_write(vcpu);
		if (r != -EOPNOTSUPP)
			return r;
		/* an instruction the emulator does not know: unsync */
		spin_lock(&vm->mmu.lock);
		shadow_unsync_gfn(vm, gfn);
		spin_unlock(&vm->mmu.lock);
		return 1;
	}
	shadow_reclaim(vm, MV_SHADOW_CACHE_SP, &freed);
	if (sv->root && sv->root->invalid)
		goto unlock;
	shadow_map(vcpu, &m, &env, &w, gva, access, p.pfn, p.pfn_2m,
		   p.writable, &freed, &flush);
unlock:
	spin_unlock(&vm->mmu.lock);
	put_page(p.page);
	shadow_commit(vm, &freed, flush);
	return 1;
}
