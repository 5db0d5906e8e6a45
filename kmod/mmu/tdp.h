/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two-dimensional paging: the second-level tables (NPT or EPT) that map
 * guest-physical to host-physical memory, built on demand from the memory
 * slots.  The table code is generic; each backend gives the entry format.
 */
#ifndef MV_MMU_TDP_H
#define MV_MMU_TDP_H

#include <linux/mutex.h>
#include <linux/types.h>

struct mv_vm;
struct mv_vcpu;

/**
 * struct mv_tdp_format - the bits of a second-level entry
 * @present: bits of which any set means the entry is present
 * @table: bits of an entry that points to a lower table
 * @leaf: bits of a 4 KiB leaf entry, readable and executable
 * @leaf_write: bits that make a leaf writable too
 */
struct mv_tdp_format {
	u64 present;
	u64 table;
	u64 leaf;
	u64 leaf_write;
};

/**
 * struct mv_tdp - one VM's second-level tables
 * @lock: serializes changes to the tables
 * @fmt: the entry format (c)
 * @root: the top-level table (c, allocated at VM creation)
 * @root_pa: its physical address (c)
 * @nr_leaves: present leaf entries, each holding a pinned page [@lock]
 */
struct mv_tdp {
	struct mutex lock;	/* changes to the tables */
	const struct mv_tdp_format *fmt;
	u64 *root;
	u64 root_pa;
	unsigned long nr_leaves;
};

/* What mv_tdp_page_fault() decided. */
enum mv_tdp_fault {
	MV_TDP_FIXED,		/* mapped: enter the guest again */
	MV_TDP_MMIO,		/* no memory there: emulate the access */
};

int mv_tdp_init(struct mv_tdp *tdp, const struct mv_tdp_format *fmt);
void mv_tdp_destroy(struct mv_tdp *tdp);
int mv_tdp_page_fault(struct mv_vcpu *vcpu, u64 gpa, bool write);
void mv_tdp_zap_all(struct mv_vm *vm);

#endif /* MV_MMU_TDP_H */
