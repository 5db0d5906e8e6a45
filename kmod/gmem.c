// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory: the VM's memory slots, and guest RAM by guest-physical
 * address for the emulator, the shadow MMU, the page-table walker and the
 * backends.
 *
 * Readers never take the VM mutex.  The slots are kept twice, in
 * vm->slot_sets[], and vm->slots points at the one in use:
 *  - the emulator's and the walker's accesses (any number of vCPUs at
 *    once) read it under SRCU (vm->srcu), and may sleep there (copying from
 *    the VMM's memory faults it in);
 *  - the fault paths and the mmu_notifier read it under the MMU lock;
 *  - KVM_SET_USER_MEMORY_REGION, under vm->lock, changes the set not in
 *    use, makes it the one in use under the MMU lock (zapping what the old
 *    slot mapped, and bumping the notifier sequence so racing faults
 *    retry), waits for the SRCU readers of the old one, then makes the same
 *    change to the old one, which becomes the spare.
 * Each change costs two O(n) array updates and an SRCU grace period, as in
 * KVM; room for a creation is allocated for both sets before anything
 * changes, so a change is never half made.
 */
#include <linux/highmem.h>
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>

#include "gmem.h"
#include "memslot.h"
#include "mmu/mmu.h"
#include "mmu/walk.h"
#include "mv.h"
#include "vm.h"

/**
 * mv_gmem_init() - a new VM's (empty) slots
 * @vm: the VM, zeroed but for what mv_vm_create() set
 * @max_gfn: the last guest frame a slot may cover
 *
 * Return: 0 or -ENOMEM; mv_gmem_destroy() undoes either way.
 */
int mv_gmem_init(struct mv_vm *vm, u64 max_gfn)
{
	int r;

	r = init_srcu_struct(&vm->srcu);
	if (r)
		return r;
	vm->slot_sets[0].max_gfn = max_gfn;
	vm->slot_sets[1].max_gfn = max_gfn;
	rcu_assign_pointer(vm->slots, &vm->slot_sets[0]);
	return 0;
}

/**
 * mv_gmem_destroy() - free the slots
 * @vm: the VM; nothing reads its slots any more
 */
void mv_gmem_destroy(struct mv_vm *vm)
{
	unsigned int i;

	if (!rcu_access_pointer(vm->slots))
		return;		/* mv_gmem_init() did not run or failed */
	for (i = 0; i < ARRAY_SIZE(vm->slot_sets); i++) {
		kvfree(vm->slot_sets[i].slot);
		kvfree(vm->slot_sets[i].index);
	}
	cleanup_srcu_struct(&vm->srcu);
}

/**
 * mv_gmem_slots() - the slots in use, for a holder of vm->lock or the MMU
 *	lock
 * @vm: the VM
 *
 * Return: the slot set; stays the one in use while the lock is held.
 */
struct mv_memslots *mv_gmem_slots(struct mv_vm *vm)
{
	return rcu_dereference_protected(vm->slots,
					 lockdep_is_held(&vm->lock) ||
					 mv_mmu_lock_held(vm));
}

/* Room for one more slot in a set, allocated before anything changes */
struct gmem_room {
	struct mv_memslot *slot;
	unsigned int cap;
	u64 *index;
	unsigned int index_cap;
};

/*
 * Allocates what @slots needs to take a slot with id @id: both arrays grow
 * by doubling, the index only as far as the ids in use need.
 */
static int gmem_reserve(const struct mv_memslots *slots, u16 id,
			struct gmem_room *room)
{
	unsigned int cap = slots->cap, index_cap = slots->index_cap;

	if (slots->nr >= cap) {
		cap = min_t(unsigned int, max(8U, cap * 2), MV_MEMSLOTS_MAX);
		if (cap <= slots->nr)
			return mv_fail(-ENOSPC);
		room->slot = kvmalloc_array(cap, sizeof(*room->slot),
					    GFP_KERNEL_ACCOUNT);
		if (!room->slot)
			return -ENOMEM;
		room->cap = cap;
	}
	if (id >= index_cap) {
		index_cap = max(index_cap, 8U);
		while (index_cap <= id)
			index_cap *= 2;
		index_cap = min_t(unsigned int, index_cap, MV_MEMSLOTS_MAX);
		room->index = kvcalloc(index_cap, sizeof(*room->index),
				       GFP_KERNEL_ACCOUNT);
		if (!room->index)
			return -ENOMEM;
		room->index_cap = index_cap;
	}
	return 0;
}

/* Moves @slots, a set no one reads, into the arrays of @room */
static void gmem_install(struct mv_memslots *slots, struct gmem_room *room)
{
	if (room->slot) {
		if (slots->nr)
			memcpy(room->slot, slots->slot,
			       slots->nr * sizeof(*room->slot));
		kvfree(slots->slot);
		slots->slot = room->slot;
		slots->cap = room->cap;
		room->slot = NULL;
	}
	if (room->index) {
		if (slots->index_cap)
			memcpy(room->index, slots->index,
			       slots->index_cap * sizeof(*room->index));
		kvfree(slots->index);
		slots->index = room->index;
		slots->index_cap = room->index_cap;
		room->index = NULL;
	}
}

/**
 * mv_gmem_set_memory() - KVM_SET_USER_MEMORY_REGION
 * @vm: the VM; caller holds @vm->lock
 * @mem: the request, copied from userspace
 *
 * A slot that goes or moves has its mappings zapped and every vCPU
 * flushed, and no SRCU reader still sees it, before this returns.
 *
 * Return: 0, or KVM's errno for the request (mv_memslot_check()), -ENOSPC
 * with MV_MEMSLOTS_MAX slots, -ENOMEM.
 */
int mv_gmem_set_memory(struct mv_vm *vm,
		       const struct kvm_userspace_memory_region *mem)
{
	struct mv_memslot_request req = {
		.slot = mem->slot,
		.flags = mem->flags,
		.guest_phys_addr = mem->guest_phys_addr,
		.memory_size = mem->memory_size,
		.userspace_addr = mem->userspace_addr,
	};
	struct gmem_room room[2] = { 0 };
	struct mv_memslots *cur, *spare;
	enum mv_memslot_change change;
	struct mv_memslot new;
	int r;

	lockdep_assert_held(&vm->lock);
	cur = mv_gmem_slots(vm);
	spare = cur == &vm->slot_sets[0] ? &vm->slot_sets[1] :
		&vm->slot_sets[0];
	r = mv_memslot_check(cur, &req, &new, &change);
	if (r || change == MV_MEMSLOT_NONE)
		return r;
	if (change == MV_MEMSLOT_CREATE) {
		r = gmem_reserve(spare, new.id, &room[0]);
		if (!r)
			r = gmem_reserve(cur, new.id, &room[1]);
		if (r)
			goto out;
		gmem_install(spare, &room[0]);
	}
	/* the spare is what cur is: the change cannot fail on either */
	r = mv_memslot_apply(spare, &new, change);
	if (r)
		goto out;
	mv_mmu_publish_slots(vm, spare, &new, change);
	synchronize_srcu_expedited(&vm->srcu);
	gmem_install(cur, &room[1]);
	r = mv_memslot_apply(cur, &new, change);
out:
	kvfree(room[0].slot);
	kvfree(room[0].index);
	kvfree(room[1].slot);
	kvfree(room[1].index);
	return r;
}

/**
 * mv_gmem_gpa_to_hva() - where guest RAM at @gpa is in the VMM
 * @vm: the VM
 * @gpa: guest-physical address
 * @write: the access is a write
 * @hva: set to the VMM's address of @gpa
 *
 * Any context that may sleep; takes no lock but the VM's SRCU.
 *
 * Return: 0, -ENOENT where no slot is (MMIO), or -EROFS for a write to a
 * read-only slot (MMIO too).
 */
int mv_gmem_gpa_to_hva(struct mv_vm *vm, u64 gpa, bool write,
		       unsigned long *hva)
{
	const struct mv_memslot *slot;
	int idx, r = 0;

	idx = srcu_read_lock(&vm->srcu);
	slot = mv_memslot_find_gfn(srcu_dereference(vm->slots, &vm->srcu),
				   gpa >> PAGE_SHIFT);
	if (!slot)
		r = -ENOENT;
	else if (write && (slot->flags & KVM_MEM_READONLY))
		r = -EROFS;
	else
		*hva = slot->userspace_addr +
			((gpa >> PAGE_SHIFT) - slot->base_gfn) * PAGE_SIZE +
			offset_in_page(gpa);
	srcu_read_unlock(&vm->srcu, idx);
	return r;
}

/**
 * mv_gmem_read() - read guest RAM
 * @vm: the VM
 * @gpa: guest-physical address
 * @val: where to read to
 * @size: bytes, not crossing a page
 *
 * May sleep (faults the VMM's memory in).
 *
 * Return: 0, -ENOENT where no slot is (MMIO), or -EFAULT.
 */
int mv_gmem_read(struct mv_vm *vm, u64 gpa, void *val, unsigned int size)
{
	unsigned long hva;
	int r;

	r = mv_gmem_gpa_to_hva(vm, gpa, false, &hva);
	if (r)
		return r;
	return copy_from_user(val, (void __user *)hva, size) ? -EFAULT : 0;
}

/**
 * mv_gmem_cmpxchg_hva() - one compare-exchange on guest RAM
 * @hva: the VMM's address of it (mv_gmem_gpa_to_hva())
 * @old: the value expected; gets what was there when it differs
 * @new: the value to put there
 * @size: 1, 2, 4, 8 or 16 bytes, not crossing a page
 *
 * Atomic for naturally aligned sizes up to 8 bytes; the rest (an unaligned
 * or 16-byte LOCK CMPXCHG) is done as a read and a write, since a locked
 * access split over cache lines is refused by the kernel's split-lock
 * detection.
 *
 * Return: 0 when @new went in, 1 when the memory held something else, or
 * -EFAULT.
 */
int mv_gmem_cmpxchg_hva(unsigned long hva, void *old, const void *new,
			unsigned int size)
{
	struct page *page;
	bool ok = false;
	void *p;

	if (get_user_pages_fast(hva & PAGE_MASK, 1, FOLL_WRITE, &page) != 1)
		return -EFAULT;
	p = kmap_local_page(page) + offset_in_page(hva);
	if (size > 8 || !IS_ALIGNED(hva, size)) {
		ok = !memcmp(p, old, size);
		if (ok)
			memcpy(p, new, size);
		else
			memcpy(old, p, size);
	} else if (size == 1) {
		ok = try_cmpxchg((u8 *)p, (u8 *)old, *(const u8 *)new);
	} else if (size == 2) {
		ok = try_cmpxchg((u16 *)p, (u16 *)old, *(const u16 *)new);
	} else if (size == 4) {
		ok = try_cmpxchg((u32 *)p, (u32 *)old, *(const u32 *)new);
	} else if (size == 8) {
		ok = try_cmpxchg((u64 *)p, (u64 *)old, *(const u64 *)new);
	}
	kunmap_local(p);
	if (ok)
		set_page_dirty_lock(page);
	put_page(page);
	return ok ? 0 : 1;
}

/**
 * mv_gmem_cmpxchg_gpa() - the walker's atomic A/D update on guest RAM
 * @vm: the VM
 * @gpa: the entry's guest-physical address
 * @old: the value the walk read
 * @new: the value to put there
 * @size: 4 or 8
 *
 * Return: as struct mv_walk_ops.compare_exchange.
 */
int mv_gmem_cmpxchg_gpa(struct mv_vm *vm, u64 gpa, u64 old, u64 new,
			unsigned int size)
{
	u32 old32 = old, new32 = new;
	unsigned long hva;
	int r;

	r = mv_gmem_gpa_to_hva(vm, gpa, true, &hva);
	if (r)
		return r;
	if (size == 8)
		return mv_gmem_cmpxchg_hva(hva, &old, &new, 8);
	return mv_gmem_cmpxchg_hva(hva, &old32, &new32, 4);
}

static int gmem_walk_read(void *priv, u64 gpa, u64 *val, unsigned int size)
{
	*val = 0;
	return mv_gmem_read(priv, gpa, val, size);
}

static int gmem_walk_cmpxchg(void *priv, u64 gpa, u64 old, u64 new,
			     unsigned int size)
{
	return mv_gmem_cmpxchg_gpa(priv, gpa, old, new, size);
}

/* The walker's access to a VM's guest RAM: priv is the struct mv_vm. */
const struct mv_walk_ops mv_gmem_walk_ops = {
	.read = gmem_walk_read,
	.compare_exchange = gmem_walk_cmpxchg,
};
