// SPDX-License-Identifier: GPL-2.0
/*
 * The guest page-table walker: the four paging modes of the SDM (vol. 3,
 * chapter 4) and the APM (vol. 2, chapter 5): none, 32-bit (with 4 MiB
 * pages under CR4.PSE), PAE, and 4-level.
 *
 * PAE: the hardware reads the four PDPTEs when CR3 is loaded; the walker
 * reads them from memory at each walk, which is what a guest that does not
 * rewrite live PDPTEs sees.  Five-level paging is not offered to guests.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>

#include "../compat.h"
#include "walk.h"

/* Entry bits, the same in every mode */
#define PTE_P		BIT_ULL(0)
#define PTE_RW		BIT_ULL(1)
#define PTE_US		BIT_ULL(2)
#define PTE_A		BIT_ULL(5)
#define PTE_D		BIT_ULL(6)
#define PTE_PS		BIT_ULL(7)
#define PTE_NX		BIT_ULL(63)

/* Walks redone because the guest changed an entry, before giving up */
#define MV_WALK_TRIES	8

/* What the levels of one mode look like. */
struct walk_mode {
	int levels;		/* levels walked from the top */
	unsigned int size;	/* entry size in bytes */
	bool nx;		/* bit 63 is XD (else reserved, if 8 bytes) */
};

/* Physical address bits [maxphyaddr-1:12] of an 8-byte entry */
static u64 walk_addr_mask(const struct mv_walk_env *env)
{
	return GENMASK_ULL(env->maxphyaddr - 1, 12);
}

/*
 * Bits of an 8-byte entry that must be 0 at @level (leaf or not), SDM
 * vol. 3 tables 4-8 to 4-20, APM vol. 2 5.3 and 5.4.  Above MAXPHYADDR:
 * in PAE paging bits 62:M are reserved (63 too in a PDPTE); in 4-level
 * paging only bits 51:M, since 62:52 are ignored (62:59 are protection
 * keys under CR4.PKE).  Bit 63 is XD only with EFER.NXE.
 */
static u64 walk_rsvd(const struct mv_walk_env *env, const struct walk_mode *m,
		     int level, u64 pte)
{
	unsigned int top = m->levels == 4 ? 51 : 62;
	u64 rsvd = 0;

	if (env->maxphyaddr <= top)
		rsvd = GENMASK_ULL(top, env->maxphyaddr);
	if (!(env->efer & EFER_NX))
		rsvd |= PTE_NX;
	/* the PAE PDPTE: bits 63, 8:5 and 2:1 reserved, no XD */
	if (m->levels == 3 && level == 3)
		return rsvd | PTE_NX | GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1);
	if (level == 4)
		rsvd |= PTE_PS;
	if (pte & PTE_PS) {
		if (level == 2)		/* bits 20:13 of a 2 MiB page */
			rsvd |= GENMASK_ULL(20, 13);
		else if (level == 3)	/* bits 29:13 of a 1 GiB page */
			rsvd |= GENMASK_ULL(29, 13);
	}
	return rsvd;
}

/*
 * Bits of a 4-byte entry that must be 0: only in a 4 MiB PDE (CR4.PSE),
 * whose bits (M-20):13 are address bits (M-1):32 with M = MAXPHYADDR up
 * to 40 (PSE-36), and bits 21:(M-19) reserved (SDM vol. 3 table 4-4).
 */
static u64 walk_rsvd32(const struct mv_walk_env *env, int level, u64 pte)
{
	unsigned int m = min_t(unsigned int, env->maxphyaddr, 40);

	if (level != 2 || !(pte & PTE_PS) || !(env->cr4 & X86_CR4_PSE))
		return 0;
	return GENMASK_ULL(21, m - 19);
}

/* The levels of the paging mode @env is in (paging on) */
static void walk_mode_of(const struct mv_walk_env *env, struct walk_mode *m)
{
	if (env->efer & EFER_LMA)
		*m = (struct walk_mode){ .levels = 4, .size = 8, .nx = true };
	else if (env->cr4 & X86_CR4_PAE)
		*m = (struct walk_mode){ .levels = 3, .size = 8, .nx = true };
	else
		*m = (struct walk_mode){ .levels = 2, .size = 4, .nx = false };
}

/**
 * mv_walk_pte_rsvd() - the reserved bits of a guest paging entry
 * @env: the paging state; paging on
 * @level: the level of the table that holds the entry, 1 for a PTE
 * @pte: the entry (its PS bit matters above level 1)
 *
 * For callers that use a guest entry without a walk (the shadow MMU's
 * prefetch): an entry with one of these bits set makes the walk fault
 * with RSVD.
 *
 * Return: the bits of @pte that must be 0 in @env's paging mode.
 */
u64 mv_walk_pte_rsvd(const struct mv_walk_env *env, int level, u64 pte)
{
	struct walk_mode m;

	if (!(env->cr0 & X86_CR0_PG))
		return 0;
	walk_mode_of(env, &m);
	if (m.size == 4)
		return walk_rsvd32(env, level, pte);
	return walk_rsvd(env, &m, level, pte);
}
EXPORT_SYMBOL_IF_KUNIT(mv_walk_pte_rsvd);

/* The index of @gva in a table of @level */
static unsigned int walk_index(const struct walk_mode *m, u64 gva, int level)
{
	if (m->size == 4)	/* 32-bit paging: 10 bits a level */
		return (gva >> (12 + 10 * (level - 1))) & 0x3ff;
	return (gva >> (12 + 9 * (level - 1))) & 0x1ff;
}

/* The permission checks, once the leaf is known; 0 or a #PF error code */
static u32 walk_check(const struct mv_walk_env *env, u32 access, bool rw,
		      bool us, bool nx)
{
	bool user = access & MV_PF_USER;
	bool fault = false;

	if (user) {
		fault = !us || ((access & MV_PF_WRITE) && !rw);
	} else {
		if ((access & MV_PF_WRITE) && !rw && (env->cr0 & X86_CR0_WP))
			fault = true;
		if (us && (access & MV_PF_FETCH) &&
		    (env->cr4 & X86_CR4_SMEP))
			fault = true;
		if (us && !(access & MV_PF_FETCH) &&
		    (env->cr4 & X86_CR4_SMAP) &&
		    !(env->rflags & X86_EFLAGS_AC))
			fault = true;
	}
	if ((access & MV_PF_FETCH) && nx)
		fault = true;
	return fault ? MV_PF_PRESENT : 0;
}

/* The error code bits that describe the access itself */
static u32 walk_access_bits(const struct mv_walk_env *env, u32 access)
{
	u32 bits = access & (MV_PF_WRITE | MV_PF_USER);

	/*
	 * I/D is reported only when XD (PAE and 4-level paging with NXE) or
	 * SMEP make fetches special
	 */
	if ((access & MV_PF_FETCH) &&
	    (((env->efer & EFER_NX) && (env->cr4 & X86_CR4_PAE)) ||
	     (env->cr4 & X86_CR4_SMEP)))
		bits |= MV_PF_FETCH;
	return bits;
}

/**
 * mv_walk_gva() - translate a guest-virtual address as the guest's MMU would
 * @env: the vCPU's paging state
 * @ops: how to reach guest-physical memory
 * @priv: for @ops
 * @gva: the linear address
 * @access: MV_PF_WRITE, MV_PF_USER (CPL 3 access), MV_PF_FETCH, or 0 for a
 *	supervisor read
 * @w: the outcome
 *
 * On success, the Accessed bit of every entry used, and for a write the
 * Dirty bit of the leaf, are set (atomically) as the hardware does.
 *
 * Return: 0 with @w->gpa set, MV_WALK_FAULT with @w->error the #PF error
 * code, -EAGAIN when other CPUs kept changing the entries (run the guest
 * and try again), or the negative errno of a failed entry read or update.
 */
int mv_walk_gva(const struct mv_walk_env *env, const struct mv_walk_ops *ops,
		void *priv, u64 gva, u32 access, struct mv_walk *w)
{
	u64 pte_gpa[4], ptes[4];
	int level, used, i, r = 0, tries = 0;
	u64 top, table, pte = 0, gpa;
	struct walk_mode m;
	bool rw, us, nx;

	w->error = 0;
	w->level = 0;
	w->nr = 0;
	w->writable = true;
	w->user = true;
	w->nx = false;
	if (!(env->cr0 & X86_CR0_PG)) {
		w->gpa = env->efer & EFER_LMA ? gva : (u32)gva;
		return 0;
	}
	walk_mode_of(env, &m);
	if (m.levels == 4) {
		top = env->cr3 & walk_addr_mask(env);
	} else if (m.levels == 3) {
		top = env->cr3 & GENMASK_ULL(31, 5);
		gva = (u32)gva;
	} else {
		top = env->cr3 & GENMASK_ULL(31, 12);
		gva = (u32)gva;
	}

retry:
	table = top;
	rw = true;
	us = true;
	nx = false;
	used = 0;
	for (level = m.levels; level >= 1; level--) {
		u64 rsvd = 0;

		if (m.levels == 3 && level == 3)	/* PDPTE from CR3 */
			pte_gpa[used] = table + 8 * ((gva >> 30) & 3);
		else
			pte_gpa[used] = table + m.size *
				walk_index(&m, gva, level);
		if (m.levels == 3 && level == 3 && env->pdptes)
			pte = env->pdptes[(gva >> 30) & 3];
		else
			r = ops->read(priv, pte_gpa[used], &pte, m.size);
		if (r)
			return r;
		ptes[used++] = pte;
		w->nr = used;
		w->pte_gpa[used - 1] = pte_gpa[used - 1];
		w->pte[used - 1] = pte;
		if (!(pte & PTE_P)) {
			w->error = walk_access_bits(env, access);
			return MV_WALK_FAULT;
		}
		if (m.size == 8)
			rsvd = walk_rsvd(env, &m, level, pte);
		else
			rsvd = walk_rsvd32(env, level, pte);
		if (pte & rsvd) {
			w->error = MV_PF_PRESENT | MV_PF_RSVD |
				walk_access_bits(env, access);
			return MV_WALK_FAULT;
		}
		/* the PAE PDPTE holds no permissions */
		if (!(m.levels == 3 && level == 3)) {
			rw &= !!(pte & PTE_RW);
			us &= !!(pte & PTE_US);
			nx |= m.nx && (env->efer & EFER_NX) && (pte & PTE_NX);
		}
		if (level == 1)
			break;
		/* a large page: 2 or 4 MiB at level 2, 1 GiB at level 3 */
		if ((pte & PTE_PS) && (level == 2 || m.levels == 4) &&
		    (m.size == 8 || (env->cr4 & X86_CR4_PSE)))
			break;
		if (m.size == 4)
			table = pte & GENMASK_ULL(31, 12);
		else
			table = pte & walk_addr_mask(env);
	}

	w->writable = rw;
	w->user = us;
	w->nx = nx;
	w->error = walk_check(env, access, rw, us, nx);
	if (w->error) {
		w->error |= walk_access_bits(env, access);
		return MV_WALK_FAULT;
	}

	/* the page and the offset in it */
	if (level == 1) {
		gpa = (m.size == 4 ? pte & GENMASK_ULL(31, 12) :
		       pte & walk_addr_mask(env)) | (gva & 0xfff);
	} else if (m.size == 4) {	/* 4 MiB, PSE-36 bits 20:13 */
		gpa = (pte & GENMASK_ULL(31, 22)) |
			(((pte >> 13) & 0xff) << 32) | (gva & GENMASK(21, 0));
	} else {
		u64 span = level == 2 ? GENMASK_ULL(20, 0) :
			GENMASK_ULL(29, 0);

		gpa = (pte & walk_addr_mask(env) & ~span) | (gva & span);
	}

	/* Accessed on every entry used, Dirty on the leaf for a write */
	for (i = 0; i < used; i++) {
		u64 want = ptes[i] | PTE_A;

		if (m.levels == 3 && i == 0)	/* PDPTE: no A bit */
			continue;
		if (i == used - 1 && (access & MV_PF_WRITE))
			want |= PTE_D;
		w->pte[i] = want;
		if (want == ptes[i])
			continue;
		r = ops->compare_exchange(priv, pte_gpa[i], ptes[i], want,
					  m.size);
		if (r < 0)
			return r;
		/* the guest changed it meanwhile: walk again, a few times */
		if (r && ++tries > MV_WALK_TRIES)
			return -EAGAIN;
		if (r)
			goto retry;
	}

	w->gpa = gpa;
	w->level = level;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mv_walk_gva);
