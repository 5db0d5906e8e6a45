/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM's binary statistics (KVM_GET_STATS_FD): a read-only fd whose content
 * is a struct kvm_stats_header, an id string, the descriptors and the
 * values.  Generic over what is counted: a VM, a vCPU.
 */
#ifndef MV_STATS_H
#define MV_STATS_H

#include <linux/stddef.h>
#include <linux/types.h>

struct mv_vm;

/* Bytes of each name and of the id string: 48, as KVM has always used. */
#define MV_STATS_NAME_SIZE	48

/**
 * struct mv_stat - one statistic
 * @name: its name; KVM's where KVM counts the same thing
 * @flags: KVM_STATS_TYPE_*, KVM_STATS_UNIT_* and KVM_STATS_BASE_*
 * @offset: where its u64 value is in the counted object
 */
struct mv_stat {
	const char *name;
	u32 flags;
	size_t offset;
};

/* A counter that only grows, or a value as it is now, in @type at @field. */
#define MV_STAT_CUMULATIVE(type, field, statname) {			\
	.name = statname, .offset = offsetof(type, field),		\
	.flags = KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE |	\
		 KVM_STATS_BASE_POW10 }
#define MV_STAT_INSTANT(type, field, statname) {			\
	.name = statname, .offset = offsetof(type, field),		\
	.flags = KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_NONE |		\
		 KVM_STATS_BASE_POW10 }

/**
 * struct mv_stats_kind - what a stats fd of one kind shows
 * @fd_name: the anonymous inode's name
 * @stats: the statistics
 * @nr: how many
 */
struct mv_stats_kind {
	const char *fd_name;
	const struct mv_stat *stats;
	unsigned int nr;
};

int mv_stats_fd(const struct mv_stats_kind *kind, const void *obj,
		struct mv_vm *vm, const char *id);

#endif /* MV_STATS_H */
