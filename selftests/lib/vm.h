/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small guest builder for the selftests: a VM with one memory slot of
 * anonymous memory, one vCPU with its kvm_run mapped, and code copied into
 * guest memory.  Only <linux/kvm.h> is needed to drive it, so the same
 * tests run against /dev/kvm.
 */
#ifndef MV_SELFTEST_VM_H
#define MV_SELFTEST_VM_H

#include <sys/mman.h>

#include "mv_util.h"

/**
 * struct mv_guest - a VM with memory and one vCPU
 * @dev: the system fd
 * @vm: the VM fd
 * @vcpu: the vCPU fd
 * @run: the vCPU's struct kvm_run
 * @run_size: its mapping's size
 * @mem: the VMM's view of guest memory
 * @gpa: the guest-physical address @mem starts at
 * @size: bytes of guest memory
 */
struct mv_guest {
	int dev, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	unsigned char *mem;
	__u64 gpa;
	size_t size;
};

/*
 * Makes the VM, a slot of @size bytes at @gpa, and vCPU 0.  Returns 0,
 * -EOPNOTSUPP when the hypervisor cannot run vCPUs on this host yet, or
 * another -errno.
 */
static inline int mv_guest_create(struct mv_guest *g, __u64 gpa, size_t size)
{
	struct kvm_userspace_memory_region region;

	memset(g, 0, sizeof(*g));
	g->vm = -1;
	g->vcpu = -1;
	g->dev = mv_open_dev();
	if (g->dev < 0)
		return -errno;
	g->vm = ioctl(g->dev, KVM_CREATE_VM, 0);
	if (g->vm < 0)
		return -errno;
	if (mv_vm_choose_mmu(g->vm))
		return -errno;
	g->mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED)
		return -errno;
	g->gpa = gpa;
	g->size = size;
	region = (struct kvm_userspace_memory_region) {
		.slot = 0, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (unsigned long)g->mem,
	};
	if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &region))
		return -errno;
	g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	if (g->vcpu < 0)
		return -errno;
	g->run_size = ioctl(g->dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	g->run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->vcpu, 0);
	if (g->run == MAP_FAILED)
		return -errno;
	return 0;
}

static inline void mv_guest_destroy(struct mv_guest *g)
{
	if (g->run && g->run != MAP_FAILED)
		munmap(g->run, g->run_size);
	if (g->mem && g->mem != MAP_FAILED)
		munmap(g->mem, g->size);
	if (g->vcpu >= 0)
		close(g->vcpu);
	if (g->vm >= 0)
		close(g->vm);
	if (g->dev >= 0)
		close(g->dev);
}

/* Copies @len bytes of code to guest-physical @gpa. */
static inline void mv_guest_put(struct mv_guest *g, __u64 gpa,
				const void *code, size_t len)
{
	memcpy(g->mem + (gpa - g->gpa), code, len);
}

/* KVM_RUN; returns 0 or -errno. */
static inline int mv_guest_run(struct mv_guest *g)
{
	return ioctl(g->vcpu, KVM_RUN, 0) ? -errno : 0;
}

/* The byte(s) of the last KVM_EXIT_IO, as a number. */
static inline __u32 mv_guest_io_data(struct mv_guest *g)
{
	__u32 v = 0;

	memcpy(&v, (char *)g->run + g->run->io.data_offset, g->run->io.size);
	return v;
}

static inline void mv_guest_set_io_data(struct mv_guest *g, __u32 v)
{
	memcpy((char *)g->run + g->run->io.data_offset, &v, g->run->io.size);
}

#endif /* MV_SELFTEST_VM_H */
