/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A virtual machine: its lifetime and the ioctls of its file descriptor.
 */
#ifndef MV_VM_H
#define MV_VM_H

#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/types.h>

#include "memslot.h"
#include "mmu/tdp.h"
#include "vcpu.h"

struct mm_struct;

/**
 * struct mv_vm - one virtual machine
 * @users: the VM fd and every vCPU fd hold one
 * @mm: the process that created the VM (c); only it may run vCPUs
 * @lock: serializes the VM-fd ioctls that change the VM, and guest page
 *	faults against slot changes
 * @slots: guest memory slots [@lock]
 * @vcpus: the vCPUs; entries below @nr_vcpus are set and constant
 * @nr_vcpus: written under @lock with release, read with acquire
 * @tdp: the second-level tables (NPT or EPT)
 *
 * Lifetime: created by KVM_CREATE_VM on /dev/minivisor, freed when the last
 * fd is closed.  The VM holds virtualization on (see mv_virt_get()) for as
 * long as it exists.
 */
struct mv_vm {
	refcount_t users;
	struct mm_struct *mm;
	struct mutex lock;	/* VM-fd ioctls that change the VM */
	struct mv_memslots slots;
	struct mv_vcpu *vcpus[MV_MAX_VCPUS];
	unsigned int nr_vcpus;
	struct mv_tdp tdp;
};

int mv_vm_create(unsigned long type);
void mv_vm_get(struct mv_vm *vm);
void mv_vm_put(struct mv_vm *vm);
void mv_vm_put_nofree(struct mv_vm *vm);

#endif /* MV_VM_H */
