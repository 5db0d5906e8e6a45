// SPDX-License-Identifier: GPL-2.0
/*
 * The VM-wide MMU layer: choosing a VM's MMU mode, and what both modes
 * share: the mmu_notifier, slot changes, the zap-by-gfn entry point, faulting
 * a guest frame in (mv_mmu_fault_in()) and loading a vCPU's root.
 *
 * Guest memory is whatever the VMM mapped behind its slots, anonymous or
 * file memory, THP or hugetlbfs.  Nothing is pinned: a fault takes a page
 * reference with get_user_pages_fast() only long enough to map it, and from
 * then on the notifier keeps the leaf coherent: whenever the host is about
 * to change or drop its mapping of a range (munmap, MADV_DONTNEED, reclaim,
 * migration, COW, THP split...), invalidate_range_start() zaps the leaves
 * mapping it and makes every vCPU leave the guest and flush before it
 * returns, so no guest access reaches the page once the host moves on.
 *
 * A fault races with invalidations through a sequence count, as in KVM:
 *   fault:  under mmu.lock, find the slot and read vm->mmu.mn_seq;
 *           get the page (may sleep, takes mmap_lock);
 *           under mmu.lock again, map only if no invalidation is in
 *           progress and vm->mmu.mn_seq is unchanged, else go back to the
 *           guest (which faults again);
 *   invalidation: start: under mmu.lock, mn_in_progress++, zap; flush;
 *                 end: under mmu.lock, mn_seq++, mn_in_progress--.
 * A fault that got its page before an invalidation began thus never maps
 * it after the invalidation's zap.  Slot changes bump mn_seq too, so a fault
 * that looked at a slot that has since gone or moved retries.
 *
 * Lock choice: vm->mmu.lock is a spinlock, because invalidate_range_start()
 * may be called where it must not block (the OOM reaper) and must still zap;
 * the tables a fault may need are allocated before the lock is taken
 * (struct mv_tdp_cache).  The order is written beside struct mv_mmu
 * (mmu_types.h).
 *
 * Accessed/dirty: a leaf is made with the accessed and dirty bits already
 * set, and a writable leaf marks its folio dirty when zapped, since the guest
 * may have written it.  Aging (clear_young, clear_flush_young, test_young)
 * is not reported: the host then sees only its own accessed bits, so pages
 * the guest alone uses age faster, which costs at worst a refault after
 * reclaim, never correctness.  change_pte (up to 6.8) needs nothing: the mm
 * calls it only between an invalidation's start and end, whose start has
 * already zapped the leaf.
 */
#include <kunit/visibility.h>
#include <linux/kvm.h>
#include <linux/minivisor.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/pgtable.h>
#include <linux/string.h>
#include <linux/sysfs.h>

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

/* The "mmu" parameter: MV_MMU_TDP or MV_MMU_SHADOW, read racily */
static u32 mmu_param = MV_MMU_TDP;

static int mmu_param_set(const char *val, const struct kernel_param *kp)
{
	if (sysfs_streq(val, "tdp"))
		WRITE_ONCE(mmu_param, MV_MMU_TDP);
	else if (sysfs_streq(val, "shadow"))
		WRITE_ONCE(mmu_param, MV_MMU_SHADOW);
	else
		return -EINVAL;
	return 0;
}

static int mmu_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(mmu_param) == MV_MMU_SHADOW ? "shadow" :
			  "tdp");
}

static const struct kernel_param_ops mmu_param_ops = {
	.set = mmu_param_set,
	.get = mmu_param_get,
};

module_param_cb(mmu, &mmu_param_ops, NULL, 0644);
MODULE_PARM_DESC(mmu,
		 "MMU mode of VMs that do not choose one: tdp (default) or shadow; a change applies to VMs created after it");

/**
 * mv_mmu_default_mode() - the mode a new VM starts in
 *
 * The module parameter's, when this host offers it, else the other.
 *
 * Return: MV_MMU_SHADOW or MV_MMU_TDP.
 */
u32 mv_mmu_default_mode(void)
{
	u32 want = READ_ONCE(mmu_param);

	if (mv_caps.mmu_modes & want)
		return want;
	return mv_caps.mmu_modes & MV_MMU_TDP ? MV_MMU_TDP : MV_MMU_SHADOW;
}

/**
 * mv_mmu_set_mode() - KVM_ENABLE_CAP(MV_CAP_MMU_MODE) on a VM
 * @vm: the VM; caller holds @vm->lock
 * @mode: MV_MMU_SHADOW or MV_MMU_TDP
 *
 * Return: 0, -EINVAL for a mode that is not one or that this host cannot
 * run, -EBUSY once the VM has vCPUs.
 */
int mv_mmu_set_mode(struct mv_vm *vm, u64 mode)
{
	if ((mode != MV_MMU_SHADOW && mode != MV_MMU_TDP) ||
	    !(mv_caps.mmu_modes & mode))
		return mv_fail(-EINVAL);
	if (vm->nr_vcpus)
		return mv_fail(-EBUSY);
	vm->mmu.ops = mode == MV_MMU_SHADOW ? &mv_shadow_mmu_ops :
		&mv_tdp_mmu_ops;
	return 0;
}

/**
 * mv_mmu_is_shadow() - does the VM run on shadow tables?
 * @vm: the VM
 *
 * For the backends, to program the hardware; constant once the VM has a
 * vCPU.
 *
 * Return: true for shadow paging, false for TDP.
 */
bool mv_mmu_is_shadow(const struct mv_vm *vm)
{
	return vm->mmu.ops->mode == MV_MMU_SHADOW;
}

/**
 * mv_mmu_load() - give the backend the root its next entry runs on
 * @vcpu: the vCPU, loaded, on its own thread; preemption on
 *
 * Called by the entry path (mv_vcpu_enter_guest()) before every entry.
 * TDP: the VM's second-level root.  Shadow: the shadow root for the
 * guest's CR3 and paging mode, which may be built now and so sleep; or the
 * second-level root while the backend runs the vCPU on it (its
 * shadow_on_tdp op).  The backend only programs what it is given
 * (load_mmu_root op).
 *
 * Return: 0 or a negative errno (-ENOMEM when no shadow root can be built).
 */
int mv_mmu_load(struct mv_vcpu *vcpu)
{
	const struct mv_mmu_ops *mmu = vcpu->vm->mmu.ops;
	bool tdp = mmu->mode == MV_MMU_TDP;
	u64 root;
	int r;

	if (!tdp && mv_ops->shadow_on_tdp && mv_ops->shadow_on_tdp(vcpu)) {
		tdp = true;
		r = mmu->phys_root(vcpu, &root);
	} else {
		r = mmu->root(vcpu, &root);
	}
	if (r)
		return r;
	mv_ops->load_mmu_root(vcpu, root, tdp);
	return 0;
}

/**
 * mv_mmu_tdp_fault() - a fault on the VM's second-level tables
 * @vcpu: the vCPU
 * @gpa: the guest-physical address it touched
 * @error: MV_PF_* bits of the access
 *
 * In TDP mode, and in shadow mode while the backend runs a vCPU on the
 * second-level tables (see mv_mmu_load()): either way the TDP mode's fault
 * path maps the memory or emulates the access.
 *
 * Return: what vcpu_run() returns.
 */
int mv_mmu_tdp_fault(struct mv_vcpu *vcpu, u64 gpa, u32 error)
{
	return mv_tdp_mmu_ops.page_fault(vcpu, gpa, error);
}

/**
 * mv_mmu_vcpu_init() - a new vCPU's MMU state, in the VM's mode
 * @vcpu: the vCPU, not yet published; caller holds @vcpu->vm->lock
 *
 * The vcpu_init op of struct mv_mmu_ops.  Undone by mv_mmu_vcpu_destroy().
 *
 * Return: 0 or a negative errno.
 */
int mv_mmu_vcpu_init(struct mv_vcpu *vcpu)
{
	return vcpu->vm->mmu.ops->vcpu_init(vcpu);
}

/**
 * mv_mmu_vcpu_destroy() - free what mv_mmu_vcpu_init() set up
 * @vcpu: the vCPU; no vCPU of the VM runs
 *
 * The vcpu_destroy op of struct mv_mmu_ops.  mv_mmu_destroy() calls it for
 * every published vCPU; vCPU creation calls it when it fails after
 * mv_mmu_vcpu_init().
 */
void mv_mmu_vcpu_destroy(struct mv_vcpu *vcpu)
{
	vcpu->vm->mmu.ops->vcpu_destroy(vcpu);
}

/**
 * mv_mmu_vcpu_free() - free the table pages a vCPU still keeps for faults
 * @vcpu: the vCPU, being freed
 */
void mv_mmu_vcpu_free(struct mv_vcpu *vcpu)
{
	mv_tdp_cache_free(&vcpu->mmu.tdp_cache);
}

/* More guest frames than the tables can map, at five levels. */
#define TDP_ALL_GFNS		MV_TDP_FRAMES(MV_TDP_MAX_LEVELS + 1)

static struct mv_vm *mn_to_vm(struct mmu_notifier *mn)
{
	return container_of(mn, struct mv_vm, mmu.mn);
}

/**
 * mv_mmu_leaf_zapped() - a leaf that mapped host memory goes
 * @pfn: the first host frame it mapped
 * @level: its level (unused: a large leaf is one folio)
 * @writable: the guest could write through it
 * @arg: unused
 *
 * The guest may have written through a writable one: its folio is dirty.
 * The host still maps the page (this runs before the host drops its
 * mapping, which keeps truncation away as it does for zap_pte_range()).
 * Reserved pages (the zero page) are only ever mapped read-only.
 */
void mv_mmu_leaf_zapped(u64 pfn, int level, bool writable, void *arg)
{
	struct page *page;

	if (!writable || !pfn_valid(pfn))
		return;
	page = pfn_to_page(pfn);
	if (!PageReserved(page))
		folio_mark_dirty(page_folio(page));
}
EXPORT_SYMBOL_IF_KUNIT(mv_mmu_leaf_zapped);

/**
 * mv_mmu_zap_gfns() - zap a range of guest frames
 * @vm: the VM; caller holds @vm->mmu.lock
 * @start: first guest frame
 * @end: the frame after the last
 * @zap: prepared with mv_mmu_zap_init(); the caller kicks the vCPUs when
 *	anything was zapped, then calls mv_tdp_zap_done()
 */
void mv_mmu_zap_gfns(struct mv_vm *vm, u64 start, u64 end,
		     struct mv_tdp_zap *zap)
{
	unsigned long before = zap->zapped;

	vm->mmu.ops->zap_gfns(vm, start, end, zap);
	vm->stats.tdp_zaps += zap->zapped - before;
}

static void mv_mmu_zap_init(struct mv_tdp_zap *zap)
{
	mv_tdp_zap_init(zap, mv_mmu_leaf_zapped, NULL);
}

/* After a zap: make the vCPUs flush, then free the unhooked tables. */
static void mv_mmu_zap_finish(struct mv_vm *vm, struct mv_tdp_zap *zap)
{
	if (zap->zapped || !list_empty(&zap->tables)) {
		mv_vcpu_request_all(vm, MV_REQ_TLB_FLUSH);
		/* racy but only for the statistics */
		WRITE_ONCE(vm->stats.remote_tlb_flush,
			   vm->stats.remote_tlb_flush + 1);
	}
	mv_tdp_zap_done(&vm->mmu.tdp, zap);
}

/*
 * The host is about to change its mapping of [range->start, range->end):
 * zap what maps it in every slot, and make sure no vCPU still uses it.
 * Never sleeps (the MMU lock is a spinlock, the kick only waits for IPIs), so
 * non-blockable ranges are handled like the others and 0 is always right.
 */
static int mv_mn_invalidate_range_start(struct mmu_notifier *mn,
					const struct mmu_notifier_range *range)
{
	struct mv_vm *vm = mn_to_vm(mn);
	struct mv_tdp_zap zap;
	struct mv_memslots *slots;
	unsigned int i;

	mv_mmu_zap_init(&zap);
	spin_lock(&vm->mmu.lock);
	vm->mmu.mn_in_progress++;
	vm->stats.mmu_notifier_invalidations++;
	slots = mv_gmem_slots(vm);
	for (i = 0; i < slots->nr; i++) {
		const struct mv_memslot *s = &slots->slot[i];
		unsigned long s_end = s->userspace_addr +
			(s->npages << PAGE_SHIFT);
		unsigned long lo = max(range->start, s->userspace_addr);
		unsigned long hi = min(range->end, s_end);

		if (lo >= hi)
			continue;
		mv_mmu_zap_gfns(vm, s->base_gfn +
				((lo - s->userspace_addr) >> PAGE_SHIFT),
				s->base_gfn + ((hi - s->userspace_addr +
						PAGE_SIZE - 1) >> PAGE_SHIFT),
				&zap);
	}
	spin_unlock(&vm->mmu.lock);
	mv_mmu_zap_finish(vm, &zap);
	return 0;
}

static void mv_mn_invalidate_range_end(struct mmu_notifier *mn,
				       const struct mmu_notifier_range *range)
{
	struct mv_vm *vm = mn_to_vm(mn);

	spin_lock(&vm->mmu.lock);
	vm->mmu.mn_seq++;
	if (!WARN_ON_ONCE(!vm->mmu.mn_in_progress))
		vm->mmu.mn_in_progress--;
	spin_unlock(&vm->mmu.lock);
}

/*
 * The mm goes (its last user exited) or the notifier is unregistered:
 * nothing may stay mapped.  No fault can follow, since faults only come
 * from threads of this mm.
 */
static void mv_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct mv_vm *vm = mn_to_vm(mn);
	struct mv_tdp_zap zap;

	mv_mmu_zap_init(&zap);
	spin_lock(&vm->mmu.lock);
	mv_mmu_zap_gfns(vm, 0, TDP_ALL_GFNS, &zap);
	vm->mmu.mn_seq++;
	spin_unlock(&vm->mmu.lock);
	mv_mmu_zap_finish(vm, &zap);
}

static const struct mmu_notifier_ops mv_mn_ops = {
	.invalidate_range_start = mv_mn_invalidate_range_start,
	.invalidate_range_end = mv_mn_invalidate_range_end,
	.release = mv_mn_release,
};

/**
 * mv_mmu_init() - a new VM's tables and its notifier on the VMM's mm
 * @vm: the VM, with @vm->mm == current->mm
 *
 * Return: 0 or a negative errno; mv_mmu_destroy() undoes either way.
 */
int mv_mmu_init(struct mv_vm *vm)
{
	int r;

	vm->mmu.ops = mv_mmu_default_mode() == MV_MMU_SHADOW ?
		&mv_shadow_mmu_ops : &mv_tdp_mmu_ops;
	spin_lock_init(&vm->mmu.lock);
	r = mv_tdp_init(&vm->mmu.tdp, mv_ops->tdp_format, &vm->mmu.lock);
	if (r)
		return r;
	/* in either mode: a VMX guest in shadow mode also uses the tables */
	r = mv_gmem_init(vm, mv_tdp_max_gfn(&vm->mmu.tdp));
	if (r)
		return r;
	r = mv_shadow_vm_init(vm);
	if (r)
		return r;
	vm->mmu.mn.ops = &mv_mn_ops;
	r = mmu_notifier_register(&vm->mmu.mn, vm->mm);
	if (r)
		vm->mmu.mn.ops = NULL;
	return r;
}

/**
 * mv_mmu_destroy() - unregister the notifier and free the tables
 * @vm: the VM; no vCPU runs, but they are not freed yet
 */
void mv_mmu_destroy(struct mv_vm *vm)
{
	unsigned int i;

	/*
	 * Calls mv_mn_release() if the mm is still alive, which zaps all; if
	 * it is not, release already ran.  Without a notifier nothing was
	 * ever mapped.
	 */
	if (vm->mmu.mn.ops)
		mmu_notifier_unregister(&vm->mmu.mn, vm->mm);
	for (i = 0; i < vm->nr_vcpus; i++)
		mv_mmu_vcpu_destroy(mv_vm_vcpu(vm, i));
	mv_shadow_vm_destroy(vm);
	mv_tdp_destroy(&vm->mmu.tdp);
}

/**
 * mv_mmu_publish_slots() - make a changed slot set the one in use
 * @vm: the VM; caller holds @vm->lock
 * @next: the slots after the change (kmod/gmem.c)
 * @new: the slot changed, as mv_memslot_check() made it
 * @change: what mv_memslot_check() said the request does
 *
 * A slot that goes or moves has its leaves zapped and every vCPU flushed
 * before this returns; faults that looked at the old set retry.
 */
void mv_mmu_publish_slots(struct mv_vm *vm, struct mv_memslots *next,
			  const struct mv_memslot *new,
			  enum mv_memslot_change change)
{
	const struct mv_memslot *old;
	struct mv_tdp_zap zap;

	lockdep_assert_held(&vm->lock);
	mv_mmu_zap_init(&zap);
	spin_lock(&vm->mmu.lock);
	old = mv_memslot_find_id(mv_gmem_slots(vm), new->id);
	if (old && (change == MV_MEMSLOT_DELETE || change == MV_MEMSLOT_MOVE))
		mv_mmu_zap_gfns(vm, old->base_gfn, old->base_gfn + old->npages,
				&zap);
	rcu_assign_pointer(vm->slots, next);
	vm->mmu.mn_seq++;
	spin_unlock(&vm->mmu.lock);
	mv_mmu_zap_finish(vm, &zap);
}

/**
 * mv_mmu_host_2m() - may a guest frame be mapped by a 2 MiB leaf?
 * @mm: the VMM's mm
 * @s: the slot holding @gfn
 * @gfn: the guest frame
 * @hva: its host address in @s
 * @writable: the leaf would be writable
 *
 * The slot must hold the whole 2 MiB around @gfn, at the same offset in a
 * 2 MiB host region, and the host must map that region with one PMD (THP,
 * hugetlbfs) or PUD (1 GiB hugetlbfs) leaf, writable when we map it
 * writable.  Like GUP-fast, the walk runs with interrupts off so that the
 * host's tables cannot be freed under it; a change after the walk is an
 * invalidation, which the fault sees through the mmu_notifier sequence.
 *
 * Return: the first host frame of the 2 MiB, or 0 for "4 KiB only".
 */
static u64 mv_mmu_host_2m(struct mm_struct *mm, const struct mv_memslot *s,
			  u64 gfn, unsigned long hva, bool writable)
{
	u64 first = ALIGN_DOWN(gfn, MV_TDP_FRAMES(MV_TDP_LEVEL_2M));
	unsigned long flags;
	u64 pfn = 0;
	pgd_t pgd;
	p4d_t p4d;
	pud_t pud;
	pmd_t pmd;

	if (first < s->base_gfn ||
	    first + MV_TDP_FRAMES(MV_TDP_LEVEL_2M) > s->base_gfn + s->npages ||
	    ((hva >> PAGE_SHIFT) ^ gfn) & (MV_TDP_FRAMES(MV_TDP_LEVEL_2M) - 1))
		return 0;

	local_irq_save(flags);
	pgd = READ_ONCE(*pgd_offset(mm, hva));
	if (pgd_none(pgd) || !pgd_present(pgd))
		goto out;
	p4d = READ_ONCE(*p4d_offset(&pgd, hva));
	if (p4d_none(p4d) || !p4d_present(p4d))
		goto out;
	pud = READ_ONCE(*pud_offset(&p4d, hva));
	if (pud_none(pud) || !pud_present(pud))
		goto out;
	if (pud_leaf(pud)) {
		if (!writable || pud_write(pud))
			pfn = pud_pfn(pud) + ((hva & ~PUD_MASK & PMD_MASK) >>
					      PAGE_SHIFT);
		goto out;
	}
	pmd = READ_ONCE(*pmd_offset(&pud, hva));
	if (pmd_present(pmd) && pmd_leaf(pmd) &&
	    (!writable || pmd_write(pmd)))
		pfn = pmd_pfn(pmd);
out:
	local_irq_restore(flags);
	return pfn;
}

/**
 * mv_mmu_fault_in() - find a guest frame's host page, for a fault to map it
 * @vm: the VM; the caller is one of its vCPU threads (the VMM's mm)
 * @gfn: the guest frame
 * @write: the access that faulted is a write
 * @want_2m: also probe whether a 2 MiB leaf may map it (mv_mmu_host_2m())
 * @count: incremented under the MMU lock when not NULL (a fault counter)
 * @p: filled in on success
 *
 * The one fault-in path of both MMU modes: the slot is looked up and the
 * notifier's sequence read under the MMU lock; then, with no lock held
 * (may sleep, takes mmap_lock), the page is got, writable unless the slot
 * is read-only, or read-only when the VMM's mapping is and the access is
 * not a write.  The caller takes the MMU lock again and maps @p only if
 * mv_mmu_fault_in_stale() says no invalidation came in between; either
 * way it drops the page reference with put_page(@p->page).
 *
 * Return: 0 with @p filled in, MV_MMU_NO_RAM when no slot holds @gfn or
 * @write meets a read-only slot (MMIO to emulate), -EFAULT (or another
 * negative errno) when the VMM's memory behind the slot is not there, or
 * not writable for a write.
 */
int mv_mmu_fault_in(struct mv_vm *vm, u64 gfn, bool write, bool want_2m,
		    u64 *count, struct mv_mmu_page *p)
{
	const struct mv_memslot *found;
	struct mv_memslot slot;
	unsigned long hva;
	int r;

	spin_lock(&vm->mmu.lock);
	if (count)
		(*count)++;
	found = mv_memslot_find_gfn(mv_gmem_slots(vm), gfn);
	if (found)
		slot = *found;
	p->seq = vm->mmu.mn_seq;
	spin_unlock(&vm->mmu.lock);

	if (!found)
		return MV_MMU_NO_RAM;
	p->writable = !(slot.flags & KVM_MEM_READONLY);
	if (write && !p->writable)
		return MV_MMU_NO_RAM;
	hva = slot.userspace_addr + ((gfn - slot.base_gfn) << PAGE_SHIFT);

	r = get_user_pages_fast(hva, 1, p->writable ? FOLL_WRITE : 0, &p->page);
	if (r != 1 && p->writable && !write) {
		/* a read through a read-only mapping: map it read-only */
		p->writable = false;
		r = get_user_pages_fast(hva, 1, 0, &p->page);
	}
	if (r != 1)
		return mv_fail(r < 0 ? r : -EFAULT);
	p->pfn = page_to_pfn(p->page);
	p->pfn_2m = 0;
	if (want_2m) {
		p->pfn_2m = mv_mmu_host_2m(vm->mm, &slot, gfn, hva, p->writable);
		/* the walk and the page must agree, else the host changed */
		if (p->pfn_2m && p->pfn_2m +
		    (gfn & (MV_TDP_FRAMES(MV_TDP_LEVEL_2M) - 1)) != p->pfn)
			p->pfn_2m = 0;
	}
	return 0;
}

/**
 * mv_mmu_fault_in_stale() - did the host change its mapping meanwhile?
 * @vm: the VM; caller holds the MMU lock
 * @p: what mv_mmu_fault_in() found
 *
 * Return: true if an invalidation is in progress or ran, or a slot changed,
 * since mv_mmu_fault_in() looked: @p must not be mapped (the guest faults
 * again).  [MMU lock]
 */
bool mv_mmu_fault_in_stale(struct mv_vm *vm, const struct mv_mmu_page *p)
{
	lockdep_assert_held(&vm->mmu.lock);
	return vm->mmu.mn_in_progress || vm->mmu.mn_seq != p->seq;
}
