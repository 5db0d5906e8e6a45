/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's own page tables, walked in software: guest-virtual (linear)
 * to guest-physical, with the permission checks and the Accessed and Dirty
 * updates the hardware would make.  Used to fetch and emulate instructions
 * under TDP, and by the shadow MMU.
 *
 * Pure: guest memory is reached through callbacks, so KUnit tests it on
 * made-up tables.
 */
#ifndef MV_MMU_WALK_H
#define MV_MMU_WALK_H

#include <linux/bits.h>
#include <linux/types.h>

/* #PF error code bits (SDM vol. 3, 4.7); also the access of a walk */
#define MV_PF_PRESENT	BIT(0)	/* protection violation, not "not present" */
#define MV_PF_WRITE	BIT(1)
#define MV_PF_USER	BIT(2)	/* the access was made at CPL 3 */
#define MV_PF_RSVD	BIT(3)
#define MV_PF_FETCH	BIT(4)

/**
 * struct mv_walk_env - the paging state of the vCPU that walks
 * @cr0: CR0 (PG, WP)
 * @cr3: CR3
 * @cr4: CR4 (PSE, PAE, SMEP, SMAP)
 * @efer: EFER (LMA, NXE)
 * @rflags: RFLAGS (AC, for SMAP)
 * @cpl: the current privilege level
 * @maxphyaddr: the guest's physical address width; entry bits from it
 *	up to 51 (4-level paging) or 62 (PAE paging) are reserved
 * @pdptes: PAE paging only: the four PDPTE registers, as loaded with CR3;
 *	NULL to read the PDPTEs from memory at each walk
 */
struct mv_walk_env {
	u64 cr0;
	u64 cr3;
	u64 cr4;
	u64 efer;
	u64 rflags;
	u8 cpl;
	u8 maxphyaddr;
	const u64 *pdptes;
};

/**
 * struct mv_walk_ops - guest-physical memory, for the walker
 * @read: read the @size-byte (4 or 8) entry at @gpa into @val; 0 or a
 *	negative errno (-EFAULT: no memory there)
 * @compare_exchange: if the @size-byte entry at @gpa is @old, make it
 *	@new, atomically; 0 when it was replaced, 1 when the entry had
 *	changed, or a negative errno
 */
struct mv_walk_ops {
	int (*read)(void *priv, u64 gpa, u64 *val, unsigned int size);
	int (*compare_exchange)(void *priv, u64 gpa, u64 old, u64 new,
				unsigned int size);
};

/**
 * struct mv_walk - the outcome of a walk
 * @gpa: the guest-physical address (when the walk succeeded)
 * @error: the #PF error code (when it faulted)
 * @level: the level of the leaf: 1 for 4 KiB, 2 for 2 or 4 MiB, 3 for
 *	1 GiB; 0 when paging is off
 * @nr: entries read, from the top (PML4E, PDPTE or 32-bit PDE) down
 * @pte_gpa: where each of them is (the shadow MMU shadows those tables)
 * @pte: each entry, as it is after the walk's Accessed/Dirty update
 * @writable: every entry of the translation allows writes
 * @user: every entry allows user accesses
 * @nx: an entry forbids instruction fetches (with EFER.NXE)
 *
 * @nr, @pte_gpa, @pte and the three permissions are set when the walk
 * succeeds and, up to the entry that failed, when it faults.
 */
struct mv_walk {
	u64 gpa;
	u32 error;
	unsigned int level;
	unsigned int nr;
	u64 pte_gpa[4];
	u64 pte[4];
	bool writable;
	bool user;
	bool nx;
};

/* mv_walk_gva() returns this when the guest takes a #PF */
#define MV_WALK_FAULT	1

int mv_walk_gva(const struct mv_walk_env *env, const struct mv_walk_ops *ops,
		void *priv, u64 gva, u32 access, struct mv_walk *w);

u64 mv_walk_pte_rsvd(const struct mv_walk_env *env, int level, u64 pte);

#endif /* MV_MMU_WALK_H */
