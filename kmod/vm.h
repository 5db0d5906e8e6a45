/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A virtual machine: its lifetime and the ioctls of its file descriptor.
 */
#ifndef MV_VM_H
#define MV_VM_H

#include <linux/mutex.h>
#include <linux/types.h>

/**
 * struct mv_vm - one virtual machine
 * @lock: serializes the VM-fd ioctls that change the VM
 *
 * Lifetime: created by KVM_CREATE_VM on /dev/minivisor, freed when the last
 * reference to its file is dropped.  The VM holds virtualization on (see
 * mv_virt_get()) for as long as it exists.
 */
struct mv_vm {
	struct mutex lock;	/* VM-fd ioctls that change the VM */
};

int mv_vm_create(unsigned long type);

#endif /* MV_VM_H */
