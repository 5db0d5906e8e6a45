/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory: a VM's memory slots as the rest of the module sees them,
 * and access to guest RAM by guest-physical address.  Below the MMU and the
 * emulator: both call down into it.
 */
#ifndef MV_GMEM_H
#define MV_GMEM_H

#include <linux/types.h>

struct kvm_userspace_memory_region;
struct mv_memslots;
struct mv_vm;
struct mv_walk_ops;

int mv_gmem_init(struct mv_vm *vm, u64 max_gfn);
void mv_gmem_destroy(struct mv_vm *vm);
struct mv_memslots *mv_gmem_slots(struct mv_vm *vm);
int mv_gmem_set_memory(struct mv_vm *vm,
		       const struct kvm_userspace_memory_region *mem);
int mv_gmem_gpa_to_hva(struct mv_vm *vm, u64 gpa, bool write,
		       unsigned long *hva);
int mv_gmem_read(struct mv_vm *vm, u64 gpa, void *val, unsigned int size);
int mv_gmem_cmpxchg_hva(unsigned long hva, void *old, const void *new,
			unsigned int size);
int mv_gmem_cmpxchg_gpa(struct mv_vm *vm, u64 gpa, u64 old, u64 new,
			unsigned int size);
extern const struct mv_walk_ops mv_gmem_walk_ops;

#endif /* MV_GMEM_H */
