/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shadow paging: the tables the hardware runs on, built from the guest's
 * own, mapping guest-virtual straight to host-physical.  The design is
 * explained in Documentation/shadow-mmu.md.
 */
#ifndef MV_MMU_SHADOW_H
#define MV_MMU_SHADOW_H

#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/types.h>

struct mv_vcpu;
struct mv_vm;

/* How the guest translates, as far as the shadow's shape depends on it */
enum mv_shadow_gmode {
	MV_GMODE_OFF,		/* paging off: the shadow maps gva == gpa */
	MV_GMODE_32,		/* two levels of 4-byte entries, PSE */
	MV_GMODE_PAE,		/* PDPTEs, then two levels */
	MV_GMODE_LONG,		/* four levels */
};

/* role.access: what the guest entries above the shadowed table allow */
#define MV_ACC_WRITE	BIT(0)
#define MV_ACC_USER	BIT(1)
#define MV_ACC_EXEC	BIT(2)
#define MV_ACC_ALL	(MV_ACC_WRITE | MV_ACC_USER | MV_ACC_EXEC)

/**
 * union mv_sp_role - what makes two shadows of one guest table differ
 * @word: all of it, for comparing
 * @level: the shadow table's level, 1 (4 KiB entries) to 4
 * @gmode: the guest's paging mode (enum mv_shadow_gmode)
 * @quadrant: for a 32-bit guest, which part of the guest table this
 *	shadow covers: a guest PD of 1024 entries needs four shadow PDs of
 *	512, a guest PT two shadow PTs
 * @direct: the table shadows no guest table but maps a contiguous range of
 *	guest frames (paging off, or below a guest 2 MiB, 4 MiB or 1 GiB
 *	page); its gfn is the first frame
 * @access: MV_ACC_* the guest entries above grant
 * @cr0_wp: the guest's CR0.WP
 * @nxe: the guest's EFER.NXE
 */
union mv_sp_role {
	u32 word;
	struct {
		u32 level:3;
		u32 gmode:2;
		u32 quadrant:2;
		u32 direct:1;
		u32 access:3;
		u32 cr0_wp:1;
		u32 nxe:1;
	};
};

/**
 * struct mv_sp - one shadow page: a table the hardware walks
 * @hash_link: in the VM's hash, by @gfn
 * @lru: in the VM's LRU list, least recently used first
 * @gfn: the guest table it shadows, or the first frame it maps if direct
 * @role: see above
 * @spt: the 512 entries
 * @gfns: for each leaf entry, the guest frame it maps (for the rmap)
 * @parents: struct mv_rmap entries, one per shadow entry pointing here
 * @root_count: vCPUs using it as their root, and references from their
 *	previous-roots caches
 * @unsync_link: in the VM's list of unsync pages, while @unsync
 * @write_link: in the private list of the shadows an emulated write to
 *	the guest table reaches, while shadow_write_gpa() runs
 * @invalid: zapped while a vCPU held it as root; freed at the last put
 * @top: a shadow of the guest's top-level table: never write-protected,
 *	brought in step entry by entry at CR3 loads and INVLPG instead
 * @write_count: emulated guest writes to the table since the shadow was
 *	last used for a translation; too many and it is zapped (flooded)
 * @unsync: a shadow of a lower table the guest wrote: no longer
 *	write-protected; emptied and protected again at the next CR3 load,
 *	INVLPG or flush, which is when the guest's change must take effect
 *
 * Everything [vm->mmu.lock].
 */
struct mv_sp {
	struct hlist_node hash_link;
	struct list_head lru;
	u64 gfn;
	union mv_sp_role role;
	u64 *spt;
	u64 *gfns;
	struct hlist_head parents;
	unsigned int root_count;
	unsigned int write_count;
	struct list_head unsync_link;
	struct list_head write_link;
	bool invalid;
	bool top;
	bool unsync;
};

/**
 * struct mv_rmap - one shadow entry that maps a guest frame, or points to
 *	a shadow page
 * @node: a leaf's: in the VM's rmap tree of its size, by (@gfn, @sptep)
 * @link: a link's: in mv_sp.parents
 * @gfn: the guest frame (leaf entries only; a 2 MiB leaf's first)
 * @sptep: the shadow entry
 */
struct mv_rmap {
	union {
		struct rb_node node;
		struct hlist_node link;
	};
	u64 gfn;
	u64 *sptep;
};

#define MV_SHADOW_HASH_BITS	10
#define MV_SHADOW_CACHE_SP	5
#define MV_SHADOW_CACHE_RMAP	8
#define MV_SHADOW_PREV_ROOTS	3
/* Emulated writes to a table, without a use in between, that unshadow it */
#define MV_SHADOW_FLOOD		3

/**
 * struct mv_shadow - a VM's shadow pages
 * @hash: shadow pages by guest frame (MV_SHADOW_HASH_BITS buckets)
 * @rmap_4k: the 4 KiB leaf entries, in order of the guest frame they map
 *	(then of the entry's address), so that a range of frames costs what
 *	it maps, never the whole VM's leaves
 * @rmap_2m: the 2 MiB leaf entries, likewise by their first frame
 * @lru: every shadow page, least recently used first
 * @unsync: the unsync shadow pages (struct mv_sp.unsync_link)
 * @nr_pages: shadow pages that exist
 * @max_pages: the budget; over it the least recently used are zapped
 *	(MV_SHADOW_DEFAULT_PAGES, or what KVM_SET_NR_MMU_PAGES set)
 * @root_cache: keep the roots of address spaces a vCPU left (default on;
 *	MV_CAP_SHADOW_ROOT_CACHE turns it off, for benchmarking)
 * @nr_2m: 2 MiB leaves in the shadow tables (guest large pages the host
 *	backs with 2 MiB pages)
 * @untracked: vCPUs the backend runs on the second-level tables (paging
 *	off, see the phys_root op): their writes to guest tables are not
 *	seen, so while there is one every shadow of a guest table is unsync
 *
 * All [vm->mmu.lock], the VM's MMU lock.
 */
struct mv_shadow {
	struct hlist_head *hash;
	struct rb_root rmap_4k;
	struct rb_root rmap_2m;
	struct list_head lru;
	struct list_head unsync;
	u64 nr_pages;
	u64 max_pages;
	u64 nr_2m;
	unsigned int untracked;
	bool root_cache;
};

/* A new VM's shadow page budget: 16 MiB of shadow tables. */
#define MV_SHADOW_DEFAULT_PAGES	4096
/* The smallest budget KVM_SET_NR_MMU_PAGES takes, as KVM's. */
#define MV_SHADOW_MIN_PAGES	64

/**
 * struct mv_shadow_vcpu - a vCPU's shadow state
 * @root: the root shadow page (4-level guests), or NULL
 * @pae_root: the root the hardware walks for other guests: four PDPTEs
 *	pointing to shadow PDs (a page of its own per vCPU)
 * @root_pa: what the hardware's CR3 gets
 * @root_cr3: the guest CR3 @root or @pae_root was built for
 * @root_role: the role it was built for
 * @need_load: the guest's CR3 or paging mode changed: load a root before
 *	the next entry
 * @phys: the backend runs the vCPU on the second-level tables, not on a
 *	shadow root (counted in mv_shadow.untracked) [also vm->mmu.lock]
 * @noflush: the CR3 load had the PCID no-flush bit: the guest keeps its
 *	translations, so the top-level shadows are not synced
 * @pdptes: the PAE PDPTE registers, loaded with CR3 as the hardware does
 * @prev: previous roots, most recently used first, each holding a
 *	root_count reference
 * @prev_cr3: the guest CR3 of each
 * @sp: shadow pages allocated before the MMU lock is taken
 * @nr_sp: how many
 * @rmap: rmap entries, likewise
 * @nr_rmap: how many
 * @top: a copy of the guest's top-level table(s), read before the MMU lock
 *	is taken, for syncing the unsync shadows at a CR3 load
 *
 * [vcpu->mutex]; @root and @prev also [vm->mmu.lock].
 */
struct mv_shadow_vcpu {
	struct mv_sp *root;
	u64 *pae_root;
	u64 root_pa;
	u64 root_cr3;
	union mv_sp_role root_role;
	bool need_load;
	bool noflush;
	bool phys;
	u64 pdptes[4];
	struct mv_sp *prev[MV_SHADOW_PREV_ROOTS];
	u64 prev_cr3[MV_SHADOW_PREV_ROOTS];
	struct mv_sp *sp[MV_SHADOW_CACHE_SP];
	unsigned int nr_sp;
	struct mv_rmap *rmap[MV_SHADOW_CACHE_RMAP];
	unsigned int nr_rmap;
	u64 *top;
};

int mv_shadow_vm_init(struct mv_vm *vm);
void mv_shadow_vm_destroy(struct mv_vm *vm);
void mv_shadow_set_max_pages(struct mv_vm *vm, u64 max_pages);
void mv_shadow_set_root_cache(struct mv_vm *vm, bool on);

#endif /* MV_MMU_SHADOW_H */
