/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A virtual machine: its lifetime and the ioctls of its file descriptor.
 */
#ifndef MV_VM_H
#define MV_VM_H

#include <linux/kvm.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include "memslot.h"
#include "mmu/mmu_types.h"
#include "stats.h"
#include "vcpu.h"

struct mm_struct;

/**
 * struct mv_vm_stats - a VM's counters, read by KVM_GET_STATS_FD
 * @remote_tlb_flush: times every vCPU was made to flush after a zap
 *	(KVM's name)
 * @tdp_faults: second-level faults handled
 * @tdp_fault_retries: of those, faults an invalidation or a slot change
 *	raced, whose guest access was retried
 * @tdp_zaps: leaves zapped (by the notifier, slot changes, teardown)
 * @mmu_notifier_invalidations: invalidate_range_start calls from the mm
 * @shadow_faults: shadow paging: #PF intercepts handled
 * @shadow_pf_injected: of those, #PFs the guest's own tables gave it
 * @sp_created: shadow pages made
 * @sp_zapped: shadow pages zapped (reclaim, teardown, no cache)
 * @sp_unsynced: shadows of a guest table the guest wrote, unprotected
 *	until its next CR3 load or INVLPG
 * @sp_reclaimed: of those, zapped to keep the VM under its budget
 * @pte_writes_emulated: guest writes to its write-protected tables,
 *	emulated, the shadow entries updated in place
 * @sp_flooded: shadow pages zapped because their guest table was written
 *	too often without being used, or written misaligned (unshadowed)
 * @root_cache_hits: CR3 loads that found their root (or, for guests
 *	without 4-level paging, all their top-level shadows) already built
 * @root_cache_misses: CR3 loads that had to build one
 *
 * All written under the VM's MMU lock (@remote_tlb_flush: by whoever
 * zapped, racily), read without it.
 */
struct mv_vm_stats {
	u64 remote_tlb_flush;
	u64 tdp_faults;
	u64 tdp_fault_retries;
	u64 tdp_zaps;
	u64 mmu_notifier_invalidations;
	u64 shadow_faults;
	u64 shadow_pf_injected;
	u64 sp_created;
	u64 sp_zapped;
	u64 sp_unsynced;
	u64 sp_reclaimed;
	u64 pte_writes_emulated;
	u64 sp_flooded;
	u64 root_cache_hits;
	u64 root_cache_misses;
};

/**
 * struct mv_vm - one virtual machine
 * @users: the VM fd and every vCPU fd hold one
 * @mm: the process that created the VM (c); only it may run vCPUs
 * @lock: serializes the VM-fd ioctls that change the VM
 * @slots: the guest memory slots in use, one of @slot_sets: read under
 *	@srcu, @lock or @mmu.lock (mv_gmem_slots()), replaced under @lock and
 *	@mmu.lock (kmod/gmem.c)
 * @slot_sets: the slots twice: the one in use and the spare the next
 *	change is made to [@lock]
 * @srcu: the readers of @slots that hold neither lock
 * @vcpus: the vCPUs by creation index (not by id); entries below
 *	@nr_vcpus are complete and constant until the VM is freed.  Stored
 *	under @lock; read with mv_vm_vcpu() from any context.  A vCPU is
 *	listed (with @nr_vcpus) before its fd is installed, so nothing runs a
 *	vCPU the VM-wide kicks and flushes do not see
 * @nr_vcpus: written under @lock with release, read with acquire by
 *	whoever does not hold @lock (mv_vcpu_request_all())
 * @mmu: the MMU's state and its mode's ops (struct mv_mmu, in
 *	kmod/mmu/mmu_types.h: its lock, @mmu.lock, is the VM's MMU lock, and
 *	the lock order is written there); only kmod/mmu/ looks inside, the
 *	rest goes through kmod/mmu/mmu.h
 * @stats: counters for KVM_GET_STATS_FD
 * @stats_id: the stats fd's id string, "kvm-PID" as in KVM (c)
 *
 * Lifetime: created by KVM_CREATE_VM on /dev/minivisor, freed when the last
 * fd is closed.  The VM holds virtualization on (see mv_virt_get()) for as
 * long as it exists.
 */
struct mv_vm {
	refcount_t users;
	struct mm_struct *mm;
	struct mutex lock;	/* VM-fd ioctls that change the VM */
	struct mv_memslots __rcu *slots;
	struct mv_memslots slot_sets[2];
	struct srcu_struct srcu;
	struct xarray vcpus;
	unsigned int nr_vcpus;
	struct mv_mmu mmu;
	struct mv_vm_stats stats;
	char stats_id[MV_STATS_NAME_SIZE];
};

/**
 * mv_vm_vcpu() - a VM's vCPU by creation index
 * @vm: the VM
 * @i: an index below the @vm->nr_vcpus the caller read (with acquire, or
 *	under @vm->lock)
 *
 * Return: the vCPU; any context may call it (the xarray reads under RCU).
 */
static inline struct mv_vcpu *mv_vm_vcpu(struct mv_vm *vm, unsigned int i)
{
	return xa_load(&vm->vcpus, i);
}

int mv_vm_create(unsigned long type);
void mv_vm_get(struct mv_vm *vm);
void mv_vm_put(struct mv_vm *vm);
void mv_vm_put_nofree(struct mv_vm *vm);

#endif /* MV_VM_H */
