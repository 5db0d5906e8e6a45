/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory slots: ranges of guest-physical memory backed by ranges of the
 * VMM's address space, set with KVM_SET_USER_MEMORY_REGION.
 */
#ifndef MV_MEMSLOT_H
#define MV_MEMSLOT_H

#include <linux/types.h>

/*
 * Slots a VM may have, KVM's x86 number (SHRT_MAX less its 3 internal
 * slots); KVM_CHECK_EXTENSION(KVM_CAP_NR_MEMSLOTS) says so.
 */
#define MV_MEMSLOTS_MAX		32764
/* The most pages one slot may cover, as in KVM. */
#define MV_MEMSLOT_MAX_PAGES	((1ULL << 31) - 1)

/**
 * struct mv_memslot - one memory slot
 * @base_gfn: first guest frame
 * @npages: number of guest frames
 * @userspace_addr: the VMM's address of the first frame
 * @flags: KVM_MEM_* flags
 * @id: the slot number the VMM chose
 */
struct mv_memslot {
	u64 base_gfn;
	u64 npages;
	u64 userspace_addr;
	u32 flags;
	u16 id;
};

/**
 * struct mv_memslots - a VM's slots, sorted by @base_gfn, not overlapping
 * @nr: slots in use
 * @cap: room in @slot; the owner grows it before a creation needs more
 * @slot: the slots
 * @index_cap: room in @index: ids below it can be looked up; the owner
 *	grows it before creating a slot with a higher id
 * @index: by slot id, the slot's first guest frame plus one, 0 for no
 *	slot: a key that stays put when other slots move in @slot
 * @max_gfn: the last guest frame a slot may cover: what the VM's
 *	second-level tables can map (set at VM creation)
 *
 * Lookups are O(log n) by guest frame (binary search) and by id (the
 * index, then a binary search); a creation or deletion moves the slots
 * above the changed place (one memmove, none when slots are added in
 * address order).
 * Both arrays grow with use: nothing is sized for MV_MEMSLOTS_MAX.
 */
struct mv_memslots {
	unsigned int nr;
	unsigned int cap;
	struct mv_memslot *slot;
	unsigned int index_cap;
	u64 *index;
	u64 max_gfn;
};

/* What a KVM_SET_USER_MEMORY_REGION call does to the slots. */
enum mv_memslot_change {
	MV_MEMSLOT_NONE,	/* same slot again: nothing to do */
	MV_MEMSLOT_CREATE,
	MV_MEMSLOT_DELETE,
	MV_MEMSLOT_MOVE,	/* same memory, another guest address */
	MV_MEMSLOT_FLAGS,	/* same place, other flags */
};

/**
 * struct mv_memslot_request - KVM_SET_USER_MEMORY_REGION's arguments
 * @slot: address space in bits 31:16, slot id in bits 15:0
 * @flags: KVM_MEM_* flags
 * @guest_phys_addr: guest-physical start
 * @memory_size: bytes; 0 deletes the slot
 * @userspace_addr: the VMM's address of the memory
 */
struct mv_memslot_request {
	u32 slot;
	u32 flags;
	u64 guest_phys_addr;
	u64 memory_size;
	u64 userspace_addr;
};

int mv_memslot_check(const struct mv_memslots *slots,
		     const struct mv_memslot_request *req,
		     struct mv_memslot *new, enum mv_memslot_change *change);
int mv_memslot_apply(struct mv_memslots *slots, const struct mv_memslot *new,
		     enum mv_memslot_change change);
const struct mv_memslot *mv_memslot_find_id(const struct mv_memslots *slots,
					    u16 id);
const struct mv_memslot *mv_memslot_find_gfn(const struct mv_memslots *slots,
					     u64 gfn);

#endif /* MV_MEMSLOT_H */
