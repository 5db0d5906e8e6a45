/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The MMU interface: what the core and the vendor backends call, whichever
 * way guest memory is virtualized.  Two implementations:
 *  - TDP (tdp_mm.c): the hardware's second-level tables (NPT, EPT) map
 *    guest-physical to host-physical; the guest's own page tables are live.
 *  - shadow (shadow.c): the hardware runs on tables minivisor builds from
 *    the guest's, mapping guest-virtual straight to host-physical.
 *
 * The mode is chosen per VM before its first vCPU (MV_CAP_MMU_MODE, or the
 * module parameter "mmu").  A backend asks mv_mmu_is_shadow() only to know
 * what to program (NPT/EPT on or off, the CR3, #PF and INVLPG intercepts)
 * and calls the ops below, through the inlines at the end; it never sees
 * how either mode works.  The MMU's state, embedded in struct mv_vm and
 * struct mv_vcpu, is in mmu_types.h: nothing outside kmod/mmu/ (but the
 * KUnit suites) looks inside it.
 */
#ifndef MV_MMU_MMU_H
#define MV_MMU_MMU_H

#include <linux/lockdep.h>
#include <linux/types.h>

#include "../vcpu.h"
#include "../vm.h"

struct mv_memslot;
struct mv_memslots;
struct mv_tdp_zap;
struct mv_vcpu;
struct mv_vm;
struct page;
enum mv_memslot_change;

/**
 * struct mv_mmu_page - a guest frame's host page, found by mv_mmu_fault_in()
 * @page: the page, referenced until the caller's put_page()
 * @pfn: its host frame
 * @pfn_2m: the first host frame of the 2 MiB host page holding it, when a
 *	2 MiB leaf may map the frame's 2 MiB (asked for), else 0
 * @writable: it may be mapped writable
 * @seq: the notifier's sequence before the lookup (mv_mmu_fault_in_stale())
 */
struct mv_mmu_page {
	struct page *page;
	u64 pfn;
	u64 pfn_2m;
	bool writable;
	unsigned long seq;
};

/* mv_mmu_fault_in(): no RAM there for this access, MMIO to emulate */
#define MV_MMU_NO_RAM		1

/**
 * struct mv_mmu_ops - one MMU mode
 * @mode: MV_MMU_SHADOW or MV_MMU_TDP
 * @name: "shadow" or "tdp"
 * @vcpu_init: set up a new vCPU's MMU state; 0 or a negative errno
 * @vcpu_destroy: free it (the VM is going, no vCPU runs)
 * @page_fault: a fault the hardware reported: for TDP a second-level
 *	fault at guest-physical @addr, for shadow a #PF at guest-virtual
 *	@addr with the #PF @error code.  Returns what vcpu_run() returns.
 * @paging_changed: the guest's CR0, CR3, CR4 or EFER changed (a write
 *	the backend intercepted, or KVM_SET_SREGS); @flush is false for a
 *	CR3 load with the PCID no-flush bit.  Called before the next entry.
 * @invlpg: the guest ran INVLPG (or INVPCID for one address) on @gva
 * @flush: the guest's TLB must be flushed entirely (e.g. CR4.PGE toggled)
 * @root: the table the hardware walks: the NPT/EPT root for TDP, the
 *	shadow root, for the guest's CR3, for shadow.  Called by
 *	mv_mmu_load() before every entry, with preemption on; may load a new
 *	shadow root (and so may fail with a negative errno).
 * @phys_root: instead of @root, for a backend that runs a guest with
 *	paging off on second-level tables (VMX in shadow mode: unrestricted
 *	guest needs EPT): the root of the VM's tables mapping guest-physical
 *	to host-physical, whose faults the backend reports with
 *	mv_exit_tdp_fault() in either mode.  Called before every such entry,
 *	with preemption on; 0 or a negative errno.  The next @root leaves
 *	them.
 * @write_gpa: the emulator wrote @size bytes of guest RAM at @gpa (the
 *	shadow MMU updates the shadows of a guest table written there)
 * @zap_gfns: the guest frames [start, end) go (slot deleted or moved,
 *	mmu_notifier invalidation): drop every mapping of them.  Called with
 *	the VM's MMU lock (vm->mmu.lock) held; may not sleep; counts what it
 *	zapped in @zap so the caller flushes the vCPUs.
 */
struct mv_mmu_ops {
	u32 mode;
	const char *name;
	int (*vcpu_init)(struct mv_vcpu *vcpu);
	void (*vcpu_destroy)(struct mv_vcpu *vcpu);
	int (*page_fault)(struct mv_vcpu *vcpu, u64 addr, u32 error);
	void (*paging_changed)(struct mv_vcpu *vcpu, bool flush);
	void (*invlpg)(struct mv_vcpu *vcpu, u64 gva);
	void (*flush)(struct mv_vcpu *vcpu);
	int (*root)(struct mv_vcpu *vcpu, u64 *root_pa);
	int (*phys_root)(struct mv_vcpu *vcpu, u64 *root_pa);
	void (*write_gpa)(struct mv_vcpu *vcpu, u64 gpa, unsigned int size);
	void (*zap_gfns)(struct mv_vm *vm, u64 start, u64 end,
			 struct mv_tdp_zap *zap);
};

extern const struct mv_mmu_ops mv_tdp_mmu_ops;
extern const struct mv_mmu_ops mv_shadow_mmu_ops;

bool mv_mmu_is_shadow(const struct mv_vm *vm);
int mv_mmu_load(struct mv_vcpu *vcpu);
int mv_mmu_init(struct mv_vm *vm);
void mv_mmu_destroy(struct mv_vm *vm);
void mv_mmu_publish_slots(struct mv_vm *vm, struct mv_memslots *next,
			  const struct mv_memslot *new,
			  enum mv_memslot_change change);
void mv_mmu_zap_gfns(struct mv_vm *vm, u64 start, u64 end,
		     struct mv_tdp_zap *zap);
void mv_mmu_leaf_zapped(u64 pfn, int level, bool writable, void *arg);
int mv_mmu_fault_in(struct mv_vm *vm, u64 gfn, bool write, bool want_2m,
		    u64 *count, struct mv_mmu_page *p);
bool mv_mmu_fault_in_stale(struct mv_vm *vm, const struct mv_mmu_page *p);
int mv_mmu_tdp_fault(struct mv_vcpu *vcpu, u64 gpa, u32 error);
int mv_mmu_set_mode(struct mv_vm *vm, u64 mode);
u32 mv_mmu_default_mode(void);
int mv_mmu_vcpu_init(struct mv_vcpu *vcpu);
void mv_mmu_vcpu_destroy(struct mv_vcpu *vcpu);
void mv_mmu_vcpu_free(struct mv_vcpu *vcpu);

/**
 * mv_mmu_page_fault() - a fault the hardware reported, to the VM's mode
 * @vcpu: the vCPU, on its own thread
 * @addr: for TDP the guest-physical address of a second-level fault, for
 *	shadow the guest-virtual address of a #PF
 * @error: the #PF error code (shadow), or MV_PF_* bits of the access
 *
 * The page_fault op of struct mv_mmu_ops.
 *
 * Return: what vcpu_run() returns.
 */
static inline int mv_mmu_page_fault(struct mv_vcpu *vcpu, u64 addr,
				    u32 error)
{
	return vcpu->vm->mmu.ops->page_fault(vcpu, addr, error);
}

/**
 * mv_mmu_paging_changed() - the guest's CR0, CR3, CR4 or EFER changed
 * @vcpu: the vCPU, on its own thread
 * @flush: false for a CR3 load with the PCID no-flush bit
 *
 * The paging_changed op of struct mv_mmu_ops: called on a write the
 * backend intercepted, or on KVM_SET_SREGS, before the next entry.
 */
static inline void mv_mmu_paging_changed(struct mv_vcpu *vcpu, bool flush)
{
	vcpu->vm->mmu.ops->paging_changed(vcpu, flush);
}

/**
 * mv_mmu_invlpg() - the guest ran INVLPG (or INVPCID for one address)
 * @vcpu: the vCPU, on its own thread
 * @gva: the guest-virtual address it invalidated
 *
 * The invlpg op of struct mv_mmu_ops.
 */
static inline void mv_mmu_invlpg(struct mv_vcpu *vcpu, u64 gva)
{
	vcpu->vm->mmu.ops->invlpg(vcpu, gva);
}

/**
 * mv_mmu_write_gpa() - the emulator wrote guest RAM
 * @vcpu: the vCPU, on its own thread
 * @gpa: where
 * @size: how many bytes
 *
 * The write_gpa op of struct mv_mmu_ops: the shadow MMU updates the shadows
 * of a guest table written there.
 */
static inline void mv_mmu_write_gpa(struct mv_vcpu *vcpu, u64 gpa,
				    unsigned int size)
{
	vcpu->vm->mmu.ops->write_gpa(vcpu, gpa, size);
}

/**
 * mv_mmu_lock_held() - does the caller hold the VM's MMU lock?
 * @vm: the VM
 *
 * For lockdep conditions only (rcu_dereference_protected() and the like),
 * as lockdep_is_held(): without CONFIG_LOCKDEP it has no answer.
 *
 * Return: true if the lock is held by the current context.
 */
static inline bool mv_mmu_lock_held(struct mv_vm *vm)
{
	return lockdep_is_held(&vm->mmu.lock);
}

#endif /* MV_MMU_MMU_H */
