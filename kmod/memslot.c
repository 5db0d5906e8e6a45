// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slot bookkeeping: checking a KVM_SET_USER_MEMORY_REGION request
 * the way KVM does, and keeping the slots sorted for lookups by guest frame.
 * Pure code: the caller holds the VM's lock and checks the user address
 * range with access_ok().
 */
#include <linux/errno.h>
#include <linux/kvm.h>
#include <linux/string.h>

#include "compat.h"
#include "memslot.h"

#include <linux/mm.h>

#define MV_PAGE_OFFSET_MASK	((u64)PAGE_SIZE - 1)
#define MV_MEM_FLAGS	KVM_MEM_READONLY

/**
 * mv_memslot_find_id() - the slot with a given id
 * @slots: the VM's slots
 * @id: slot number
 *
 * Return: the slot, or NULL.
 */
const struct mv_memslot *mv_memslot_find_id(const struct mv_memslots *slots,
					    u16 id)
{
	u64 key = id < slots->index_cap ? slots->index[id] : 0;
	const struct mv_memslot *s;

	if (!key)
		return NULL;
	s = mv_memslot_find_gfn(slots, key - 1);
	return s && s->id == id ? s : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(mv_memslot_find_id);

/* How many slots begin below @gfn: the place a slot at @gfn goes. */
static unsigned int slots_below(const struct mv_memslots *slots, u64 gfn)
{
	unsigned int lo = 0, hi = slots->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (slots->slot[mid].base_gfn < gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/**
 * mv_memslot_find_gfn() - the slot that holds a guest frame
 * @slots: the VM's slots
 * @gfn: guest frame number
 *
 * Return: the slot, or NULL when no slot covers @gfn.
 */
const struct mv_memslot *mv_memslot_find_gfn(const struct mv_memslots *slots,
					     u64 gfn)
{
	unsigned int lo = 0, hi = slots->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct mv_memslot *s = &slots->slot[mid];

		if (gfn < s->base_gfn)
			hi = mid;
		else if (gfn - s->base_gfn >= s->npages)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(mv_memslot_find_gfn);

/*
 * Does [@start, @end) meet a slot other than @id?  The slots are sorted
 * and disjoint, so the last one beginning below @end reaches furthest of
 * those; the slot @id itself (a move) may be that one, and then the one
 * before it is the next candidate.
 */
static bool overlaps(const struct mv_memslots *slots, u16 id, u64 start,
		     u64 end)
{
	unsigned int i = slots_below(slots, end);

	while (i--) {
		const struct mv_memslot *s = &slots->slot[i];

		if (s->id == id)
			continue;
		return start < s->base_gfn + s->npages;
	}
	return false;
}

/**
 * mv_memslot_check() - check a KVM_SET_USER_MEMORY_REGION request
 * @slots: the VM's slots
 * @req: the request
 * @new: filled with the slot as it will be (for a deletion, the old one)
 * @change: filled with what the request does
 *
 * Follows KVM: unknown flags, sizes or addresses that are not page aligned,
 * a range that wraps, an address space other than 0, a slot id beyond
 * MV_MEMSLOTS_MAX, deleting a slot that does not exist, and changing the
 * size, the user address or KVM_MEM_READONLY of an existing slot are all
 * -EINVAL, and so is a new or moved slot past @slots->max_gfn; a new or
 * moved slot that overlaps another is -EEXIST.
 *
 * Return: 0 or a negative errno.
 */
int mv_memslot_check(const struct mv_memslots *slots,
		     const struct mv_memslot_request *req,
		     struct mv_memslot *new, enum mv_memslot_change *change)
{
	const struct mv_memslot *old;
	u16 id = req->slot & 0xffff;
	u64 npages;

	if (req->flags & ~MV_MEM_FLAGS)
		return -EINVAL;
	if ((req->memory_size & MV_PAGE_OFFSET_MASK) ||
	    (req->guest_phys_addr & MV_PAGE_OFFSET_MASK) ||
	    (req->userspace_addr & MV_PAGE_OFFSET_MASK))
		return -EINVAL;
	if ((req->slot >> 16) || id >= MV_MEMSLOTS_MAX)
		return -EINVAL;
	if (req->guest_phys_addr + req->memory_size < req->guest_phys_addr ||
	    req->userspace_addr + req->memory_size < req->userspace_addr)
		return -EINVAL;
	npages = req->memory_size >> PAGE_SHIFT;
	if (npages > MV_MEMSLOT_MAX_PAGES)
		return -EINVAL;

	old = mv_memslot_find_id(slots, id);
	if (!npages) {
		if (!old)
			return -EINVAL;
		*new = *old;
		*change = MV_MEMSLOT_DELETE;
		return 0;
	}

	new->base_gfn = req->guest_phys_addr >> PAGE_SHIFT;
	new->npages = npages;
	new->userspace_addr = req->userspace_addr;
	new->flags = req->flags;
	new->id = id;

	if (!old) {
		*change = MV_MEMSLOT_CREATE;
	} else {
		if (req->userspace_addr != old->userspace_addr ||
		    npages != old->npages ||
		    ((req->flags ^ old->flags) & KVM_MEM_READONLY))
			return -EINVAL;
		if (new->base_gfn != old->base_gfn)
			*change = MV_MEMSLOT_MOVE;
		else if (new->flags != old->flags)
			*change = MV_MEMSLOT_FLAGS;
		else
			*change = MV_MEMSLOT_NONE;
	}

	if (new->base_gfn > slots->max_gfn ||
	    npages - 1 > slots->max_gfn - new->base_gfn)
		return -EINVAL;
	if ((*change == MV_MEMSLOT_CREATE || *change == MV_MEMSLOT_MOVE) &&
	    overlaps(slots, id, new->base_gfn, new->base_gfn + npages))
		return -EEXIST;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mv_memslot_check);

static void remove_at(struct mv_memslots *slots, unsigned int i)
{
	slots->index[slots->slot[i].id] = 0;
	memmove(&slots->slot[i], &slots->slot[i + 1],
		(slots->nr - i - 1) * sizeof(slots->slot[0]));
	slots->nr--;
}

static void insert_sorted(struct mv_memslots *slots,
			  const struct mv_memslot *new)
{
	unsigned int i = slots_below(slots, new->base_gfn);

	memmove(&slots->slot[i + 1], &slots->slot[i],
		(slots->nr - i) * sizeof(slots->slot[0]));
	slots->slot[i] = *new;
	slots->nr++;
	slots->index[new->id] = new->base_gfn + 1;
}

/**
 * mv_memslot_apply() - carry out a change mv_memslot_check() accepted
 * @slots: the VM's slots; for MV_MEMSLOT_CREATE, @slots->cap > @slots->nr
 *	and @slots->index_cap > @new->id
 * @new: the slot as mv_memslot_check() filled it
 * @change: what mv_memslot_check() said the request does
 *
 * Return: 0; -ENOSPC when a creation finds no room, -ENOENT when the slot
 * to change is gone (both mean the caller broke the rules above).
 */
int mv_memslot_apply(struct mv_memslots *slots, const struct mv_memslot *new,
		     enum mv_memslot_change change)
{
	const struct mv_memslot *old;

	if (change == MV_MEMSLOT_NONE)
		return 0;
	if (change == MV_MEMSLOT_CREATE &&
	    (slots->nr >= slots->cap || new->id >= slots->index_cap))
		return -ENOSPC;
	if (change != MV_MEMSLOT_CREATE) {
		old = mv_memslot_find_id(slots, new->id);
		if (!old)
			return -ENOENT;
		remove_at(slots, old - slots->slot);
	}
	if (change != MV_MEMSLOT_DELETE)
		insert_sorted(slots, new);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mv_memslot_apply);
