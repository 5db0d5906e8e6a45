// SPDX-License-Identifier: GPL-2.0
/*
 * Second-level tables for NPT and EPT: four levels of 512 entries, 4 KiB
 * leaves, built on the first access to each guest frame.
 *
 * Each leaf holds a pin on the page of the VMM's memory it maps (taken with
 * pin_user_pages_fast()); the pin is dropped when the leaf is zapped, on a
 * slot deletion or move, or at VM teardown.  Zapping clears the entries,
 * then makes every vCPU leave the guest and flush before it enters again,
 * and only then unpins.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/kvm.h>
#include <asm/io.h>

#include "../mv.h"
#include "../vcpu.h"
#include "../vm.h"
#include "tdp.h"

#define TDP_LEVELS		4
#define TDP_ENTRIES		512
#define TDP_ADDR_MASK		0x000ffffffffff000ULL

static unsigned int tdp_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * (level - 1))) & (TDP_ENTRIES - 1);
}

static u64 *tdp_table(u64 entry)
{
	return __va(entry & TDP_ADDR_MASK);
}

/**
 * mv_tdp_init() - allocate the root table of a VM
 * @tdp: the VM's tables
 * @fmt: the backend's entry format
 *
 * Return: 0 or -ENOMEM.
 */
int mv_tdp_init(struct mv_tdp *tdp, const struct mv_tdp_format *fmt)
{
	mutex_init(&tdp->lock);
	tdp->fmt = fmt;
	tdp->root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!tdp->root)
		return -ENOMEM;
	tdp->root_pa = __pa(tdp->root);
	return 0;
}

/* What to do with each present leaf of a walk. */
struct tdp_walk {
	void (*leaf)(struct mv_tdp *tdp, u64 *entry, void *arg);
	void *arg;
};

/* Calls walk->leaf on each present leaf below a table; tdp->lock held */
static void tdp_walk_leaves(struct mv_tdp *tdp, u64 *table, int level,
			    const struct tdp_walk *walk)
{
	unsigned int i;

	for (i = 0; i < TDP_ENTRIES; i++) {
		if (!(table[i] & tdp->fmt->present))
			continue;
		if (level == 1)
			walk->leaf(tdp, &table[i], walk->arg);
		else
			tdp_walk_leaves(tdp, tdp_table(table[i]), level - 1,
					walk);
	}
}

static void tdp_free_tables(struct mv_tdp *tdp, u64 *table, int level)
{
	unsigned int i;

	if (level > 1)
		for (i = 0; i < TDP_ENTRIES; i++)
			if (table[i] & tdp->fmt->present)
				tdp_free_tables(tdp, tdp_table(table[i]),
						level - 1);
	free_page((unsigned long)table);
}

static void tdp_unpin_leaf(struct mv_tdp *tdp, u64 *entry, void *arg)
{
	unpin_user_page(pfn_to_page((*entry & TDP_ADDR_MASK) >> PAGE_SHIFT));
	*entry = 0;
	tdp->nr_leaves--;
}

/**
 * mv_tdp_destroy() - unpin every mapped page and free the tables
 * @tdp: the VM's tables; no vCPU can run any more
 */
void mv_tdp_destroy(struct mv_tdp *tdp)
{
	const struct tdp_walk walk = { .leaf = tdp_unpin_leaf };

	if (!tdp->root)
		return;
	tdp_walk_leaves(tdp, tdp->root, TDP_LEVELS, &walk);
	tdp_free_tables(tdp, tdp->root, TDP_LEVELS);
	tdp->root = NULL;
	mutex_destroy(&tdp->lock);
}

struct zap_list {
	struct page **pages;
	unsigned long nr;
};

static void tdp_zap_leaf(struct mv_tdp *tdp, u64 *entry, void *arg)
{
	struct zap_list *zl = arg;

	zl->pages[zl->nr++] = pfn_to_page((*entry & TDP_ADDR_MASK) >>
					  PAGE_SHIFT);
	WRITE_ONCE(*entry, 0);
	tdp->nr_leaves--;
}

/* No memory to remember the pages: one leaf, one kick, one unpin. */
static void tdp_zap_leaf_slowly(struct mv_tdp *tdp, u64 *entry, void *arg)
{
	struct page *page = pfn_to_page((*entry & TDP_ADDR_MASK) >>
					PAGE_SHIFT);

	WRITE_ONCE(*entry, 0);
	tdp->nr_leaves--;
	mv_vcpu_kick_all(arg, MV_REQ_TLB_FLUSH);
	unpin_user_page(page);
}

/**
 * mv_tdp_zap_all() - unmap all guest memory from the second-level tables
 * @vm: the VM; caller holds @vm->lock
 *
 * Used when a memory slot goes or moves.  The tables themselves stay.
 */
void mv_tdp_zap_all(struct mv_vm *vm)
{
	struct mv_tdp *tdp = &vm->tdp;
	struct zap_list zl = { };

	mutex_lock(&tdp->lock);
	if (tdp->nr_leaves) {
		const struct tdp_walk fast = { tdp_zap_leaf, &zl };
		const struct tdp_walk slow = { tdp_zap_leaf_slowly, vm };

		zl.pages = kvmalloc_array(tdp->nr_leaves, sizeof(*zl.pages),
					  GFP_KERNEL);

		tdp_walk_leaves(tdp, tdp->root, TDP_LEVELS,
				zl.pages ? &fast : &slow);
	}
	mutex_unlock(&tdp->lock);

	/* No vCPU may use the old entries once this returns. */
	mv_vcpu_kick_all(vm, MV_REQ_TLB_FLUSH);
	unpin_user_pages(zl.pages, zl.nr);
	kvfree(zl.pages);
}

/* Installs a leaf for @gpa; [tdp->lock].  Returns 0 or -ENOMEM. */
static int tdp_map(struct mv_tdp *tdp, u64 gpa, u64 pa, bool writable,
		   struct page *page)
{
	u64 *table = tdp->root;
	u64 *entry;
	int level;

	for (level = TDP_LEVELS; level > 1; level--) {
		entry = &table[tdp_index(gpa, level)];
		if (!(*entry & tdp->fmt->present)) {
			u64 *next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

			if (!next)
				return -ENOMEM;
			WRITE_ONCE(*entry, __pa(next) | tdp->fmt->table);
		}
		table = tdp_table(*entry);
	}
	entry = &table[tdp_index(gpa, 1)];
	if (*entry & tdp->fmt->present) {
		/* another vCPU mapped it first */
		unpin_user_page(page);
		return 0;
	}
	WRITE_ONCE(*entry, pa | tdp->fmt->leaf |
		   (writable ? tdp->fmt->leaf_write : 0));
	tdp->nr_leaves++;
	return 0;
}

/**
 * mv_tdp_page_fault() - handle an NPT or EPT violation
 * @vcpu: the vCPU that faulted
 * @gpa: the guest-physical address
 * @write: the access was a write
 *
 * Maps the page of the slot that holds @gpa.  May sleep.
 *
 * Return: MV_TDP_FIXED, MV_TDP_MMIO when no slot holds @gpa or it is a
 * write to a read-only slot, -EFAULT when the VMM's memory behind the slot
 * is not there, or another negative errno.
 */
int mv_tdp_page_fault(struct mv_vcpu *vcpu, u64 gpa, bool write)
{
	struct mv_vm *vm = vcpu->vm;
	const struct mv_memslot *slot;
	struct page *page;
	unsigned long hva;
	bool writable;
	int r;

	mutex_lock(&vm->lock);
	slot = mv_memslot_find_gfn(&vm->slots, gpa >> PAGE_SHIFT);
	writable = slot && !(slot->flags & KVM_MEM_READONLY);
	if (!slot || (write && !writable)) {
		r = MV_TDP_MMIO;
		goto out;
	}
	hva = slot->userspace_addr +
		(((gpa >> PAGE_SHIFT) - slot->base_gfn) << PAGE_SHIFT);
	r = pin_user_pages_fast(hva, 1, FOLL_LONGTERM |
				(writable ? FOLL_WRITE : 0), &page);
	if (r != 1) {
		r = mv_fail(r < 0 ? r : -EFAULT);
		goto out;
	}
	mutex_lock(&vm->tdp.lock);
	r = tdp_map(&vm->tdp, gpa & PAGE_MASK, page_to_phys(page), writable,
		    page);
	mutex_unlock(&vm->tdp.lock);
	if (r)
		unpin_user_page(page);
	else
		r = MV_TDP_FIXED;
out:
	mutex_unlock(&vm->lock);
	return r;
}
