/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The MMU's state, as struct mv_vm and struct mv_vcpu embed it.  Only the
 * MMU (kmod/mmu/) and its KUnit suites look inside; the rest of the module
 * goes through the interface in mmu.h.  (vm.c's KVM_GET_STATS_FD table
 * names the page counts in struct mv_mmu's tdp and shadow by their offsets:
 * the stats fd reads them racily, as it does every counter.)  The types are
 * apart from mmu.h because vm.h and vcpu.h need them complete, and mmu.h's
 * inlines need those two.
 */
#ifndef MV_MMU_MMU_TYPES_H
#define MV_MMU_MMU_TYPES_H

#include <linux/mmu_notifier.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "shadow.h"
#include "tdp.h"

struct mv_mmu_ops;

/**
 * struct mv_mmu - a VM's MMU, struct mv_vm's @mmu
 * @ops: the MMU mode's ops; set at creation, changed (MV_CAP_MMU_MODE)
 *	only under vm->lock while there is no vCPU, constant after
 * @lock: the VM's MMU lock, in both modes: the second-level tables,
 *	the shadow pages, the slots (with vm->lock) and the notifier's
 *	state.  A spinlock: the mmu_notifier's invalidation may be called
 *	where it must not sleep, and it zaps under this lock.  Lock order:
 *	mmap_lock, i_mmap_rwsem, the folio lock (held by the mm code calling
 *	the notifier) and vm->lock are all taken before it; with it
 *	held nothing sleeps and nothing else is taken but the folio dirty
 *	path's spinlocks (mapping's xarray lock, inode lock).  See
 *	Documentation/layout.md.
 * @tdp: the second-level tables (NPT or EPT) [@lock]
 * @shadow: the shadow pages [@lock]
 * @mn: the mmu_notifier on vm->mm (c, registered at creation)
 * @mn_seq: bumped when an invalidation ends and when the slots change: a
 *	fault that saw another value must not map what it found [@lock]
 * @mn_in_progress: invalidations started and not ended [@lock]
 */
struct mv_mmu {
	const struct mv_mmu_ops *ops;
	spinlock_t lock;	/* the MMU's state, see above */
	struct mv_tdp tdp;
	struct mv_shadow shadow;
	struct mmu_notifier mn;
	unsigned long mn_seq;
	unsigned long mn_in_progress;
};

/**
 * struct mv_vcpu_mmu - a vCPU's MMU state, struct mv_vcpu's @mmu
 * @tdp_cache: table pages for the next second-level fault [vcpu->mutex]
 * @shadow: the shadow MMU's state, in shadow mode [vcpu->mutex]
 */
struct mv_vcpu_mmu {
	struct mv_tdp_cache tdp_cache;
	struct mv_shadow_vcpu *shadow;
};

#endif /* MV_MMU_MMU_TYPES_H */
