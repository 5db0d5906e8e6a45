// SPDX-License-Identifier: GPL-2.0
/*
 * The TDP mode: its fault path and its MMU ops.  The second-level tables
 * themselves are tdp.c's; what both modes share (the mmu_notifier, slot
 * changes, faulting a guest frame in) is mmu.c's.
 */
#include <linux/kvm.h>
#include <linux/minivisor.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pgtable.h>

#include "../event.h"
#include "../exit.h"
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

/**
 * mv_tdp_page_fault() - handle an NPT or EPT violation
 * @vcpu: the vCPU that faulted
 * @gpa: the guest-physical address
 * @write: the access was a write
 *
 * Maps the page of the slot that holds @gpa: 2 MiB at once where the slot
 * and the host allow, else 4 KiB; writable unless the slot is read-only or
 * the VMM's mapping is.  May sleep; takes the VMM's mmap_lock.
 *
 * Return: MV_TDP_FIXED (also when an invalidation raced: the guest faults
 * again), MV_TDP_MMIO when no slot holds @gpa or it is a write to a
 * read-only slot, -EFAULT when the VMM's memory behind the slot is not
 * there (or not writable, for a write), or another negative errno.
 */
int mv_tdp_page_fault(struct mv_vcpu *vcpu, u64 gpa, bool write)
{
	struct mv_vm *vm = vcpu->vm;
	struct mv_tdp *tdp = &vm->mmu.tdp;
	u64 gfn = gpa >> PAGE_SHIFT;
	struct mv_mmu_page p;
	int r;

	r = mv_tdp_cache_topup(tdp, &vcpu->mmu.tdp_cache, GFP_KERNEL_ACCOUNT);
	if (r)
		return r;
	r = mv_mmu_fault_in(vm, gfn, write, true, &vm->stats.tdp_faults, &p);
	if (r == MV_MMU_NO_RAM)
		return MV_TDP_MMIO;
	if (r)
		return r;

	spin_lock(&vm->mmu.lock);
	if (mv_mmu_fault_in_stale(vm, &p)) {
		vm->stats.tdp_fault_retries++;
		r = 0;
		goto unlock;
	}
	r = -EBUSY;
	if (p.pfn_2m)
		r = mv_tdp_map(tdp, &vcpu->mmu.tdp_cache,
			       ALIGN_DOWN(gfn, MV_TDP_FRAMES(MV_TDP_LEVEL_2M)),
			       p.pfn_2m, MV_TDP_LEVEL_2M, p.writable);
	if (r == -EBUSY)
		r = mv_tdp_map(tdp, &vcpu->mmu.tdp_cache, gfn, p.pfn,
			       MV_TDP_LEVEL_4K, p.writable);
	if (r == -EEXIST)
		r = 0;		/* another vCPU mapped it first */
unlock:
	spin_unlock(&vm->mmu.lock);
	/* from here on the notifier, not a reference, keeps the page right */
	put_page(p.page);
	return r ? r : MV_TDP_FIXED;
}

/* ------------------------------------------------- the TDP MMU ops */

static int tdp_vcpu_init(struct mv_vcpu *vcpu)
{
	return 0;
}

static void tdp_vcpu_destroy(struct mv_vcpu *vcpu)
{
}

static int tdp_page_fault(struct mv_vcpu *vcpu, u64 gpa, u32 error)
{
	int r;

	r = mv_tdp_page_fault(vcpu, gpa, error & MV_PF_WRITE);
	if (r < 0)
		return r;
	if (r == MV_TDP_MMIO) {
		const u64 data[2] = { 0, gpa };

		/*
		 * MMIO: the instruction's, unless an event's delivery made
		 * the access (an IDT or a stack on MMIO), as in shadow mode
		 * and as KVM reports it; the event stays queued.
		 */
		if (!mv_event_delivering(vcpu))
			return mv_insn_emulate(vcpu);
		return mv_exit_internal(vcpu, KVM_INTERNAL_ERROR_DELIVERY_EV,
					data, ARRAY_SIZE(data));
	}
	return 1;
}

/* The guest's own tables are live: the hardware follows its changes. */
static void tdp_paging_changed(struct mv_vcpu *vcpu, bool flush)
{
}

static void tdp_invlpg(struct mv_vcpu *vcpu, u64 gva)
{
}

static void tdp_flush(struct mv_vcpu *vcpu)
{
}

static int tdp_root(struct mv_vcpu *vcpu, u64 *root_pa)
{
	*root_pa = vcpu->vm->mmu.tdp.root_pa;
	return 0;
}

/* The guest's tables are the hardware's: nothing to follow. */
static void tdp_write_gpa(struct mv_vcpu *vcpu, u64 gpa, unsigned int size)
{
}

static void tdp_zap_gfns(struct mv_vm *vm, u64 start, u64 end,
			 struct mv_tdp_zap *zap)
{
	mv_tdp_zap_range(&vm->mmu.tdp, start, end, zap);
}

const struct mv_mmu_ops mv_tdp_mmu_ops = {
	.mode = MV_MMU_TDP,
	.name = "tdp",
	.vcpu_init = tdp_vcpu_init,
	.vcpu_destroy = tdp_vcpu_destroy,
	.page_fault = tdp_page_fault,
	.paging_changed = tdp_paging_changed,
	.invlpg = tdp_invlpg,
	.flush = tdp_flush,
	.root = tdp_root,
	.phys_root = tdp_root,
	.write_gpa = tdp_write_gpa,
	.zap_gfns = tdp_zap_gfns,
};
