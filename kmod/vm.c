// SPDX-License-Identifier: GPL-2.0
/*
 * VM lifetime and VM-fd ioctls.
 */
#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/minivisor.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "gmem.h"
#include "main.h"
#include "mmu/mmu.h"
#include "mmu/shadow.h"
#include "mv.h"
#include "stats.h"
#include "virt.h"
#include "vm.h"

static void mv_vm_free(struct mv_vm *vm)
{
	unsigned int i;

	/* the notifier's release may still kick the vCPUs: they go after */
	mv_mmu_destroy(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		mv_vcpu_free(mv_vm_vcpu(vm, i));
	xa_destroy(&vm->vcpus);
	mv_gmem_destroy(vm);
	mutex_destroy(&vm->lock);
	mmdrop(vm->mm);
	kfree(vm);
	mv_virt_put();
}

/**
 * mv_vm_get() - take a reference on a VM
 * @vm: the VM, on which the caller already holds one
 */
void mv_vm_get(struct mv_vm *vm)
{
	refcount_inc(&vm->users);
}

/**
 * mv_vm_put() - drop a reference; the last one frees the VM
 * @vm: the VM
 */
void mv_vm_put(struct mv_vm *vm)
{
	if (refcount_dec_and_test(&vm->users))
		mv_vm_free(vm);
}

/**
 * mv_vm_put_nofree() - drop a reference that cannot be the last
 * @vm: the VM
 */
void mv_vm_put_nofree(struct mv_vm *vm)
{
	WARN_ON_ONCE(refcount_dec_and_test(&vm->users));
}

static int mv_vm_release(struct inode *inode, struct file *file)
{
	mv_vm_put(file->private_data);
	return 0;
}

/* KVM_SET_USER_MEMORY_REGION */
static int mv_vm_set_memory(struct mv_vm *vm, void __user *argp)
{
	struct kvm_userspace_memory_region mem;
	int r;

	if (copy_from_user(&mem, argp, sizeof(mem)))
		return mv_fail(-EFAULT);
	if (!access_ok(u64_to_user_ptr(mem.userspace_addr), mem.memory_size))
		return mv_fail(-EINVAL);
	mutex_lock(&vm->lock);
	r = mv_gmem_set_memory(vm, &mem);
	mutex_unlock(&vm->lock);
	return r ? mv_fail(r) : 0;
}

/* The VM fd's statistics: KVM's x86 names first, then minivisor's. */
static const struct mv_stat mv_vm_stats[] = {
	MV_STAT_INSTANT(struct mv_vm, mmu.tdp.nr_pages[0], "pages_4k"),
	MV_STAT_INSTANT(struct mv_vm, mmu.tdp.nr_pages[1], "pages_2m"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.remote_tlb_flush,
			   "remote_tlb_flush"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.tdp_faults, "tdp_faults"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.tdp_fault_retries,
			   "tdp_fault_retries"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.tdp_zaps, "tdp_zaps"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.mmu_notifier_invalidations,
			   "mmu_notifier_invalidations"),
	MV_STAT_INSTANT(struct mv_vm, mmu.shadow.nr_pages, "shadow_pages"),
	MV_STAT_INSTANT(struct mv_vm, mmu.shadow.nr_2m, "shadow_pages_2m"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.shadow_faults, "shadow_faults"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.shadow_pf_injected,
			   "shadow_pf_injected"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.sp_created,
			   "shadow_pages_created"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.sp_zapped,
			   "shadow_pages_zapped"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.sp_unsynced,
			   "shadow_pages_unsynced"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.sp_reclaimed,
			   "shadow_pages_reclaimed"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.pte_writes_emulated,
			   "pte_writes_emulated"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.sp_flooded,
			   "shadow_pages_flooded"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.root_cache_hits,
			   "root_cache_hits"),
	MV_STAT_CUMULATIVE(struct mv_vm, stats.root_cache_misses,
			   "root_cache_misses"),
};

static const struct mv_stats_kind mv_vm_stats_kind = {
	.fd_name = "minivisor-vm-stats",
	.stats = mv_vm_stats,
	.nr = ARRAY_SIZE(mv_vm_stats),
};

static int mv_vm_stats_fd(struct mv_vm *vm)
{
	return mv_stats_fd(&mv_vm_stats_kind, vm, vm, vm->stats_id);
}

/* KVM_ENABLE_CAP on the VM fd: minivisor's MMU mode and root cache */
static int mv_vm_enable_cap(struct mv_vm *vm, void __user *argp)
{
	struct kvm_enable_cap cap;
	int r = 0;

	if (copy_from_user(&cap, argp, sizeof(cap)))
		return mv_fail(-EFAULT);
	if (cap.flags || cap.args[1] || cap.args[2] || cap.args[3])
		return mv_fail(-EINVAL);
	switch (cap.cap) {
	case MV_CAP_MMU_MODE:
		mutex_lock(&vm->lock);
		r = mv_mmu_set_mode(vm, cap.args[0]);
		mutex_unlock(&vm->lock);
		return r;
	case MV_CAP_SHADOW_ROOT_CACHE:
		if (!(mv_caps.mmu_modes & MV_MMU_SHADOW) || cap.args[0] > 1)
			return mv_fail(-EINVAL);
		mutex_lock(&vm->lock);
		mv_shadow_set_root_cache(vm, cap.args[0]);
		mutex_unlock(&vm->lock);
		return 0;
	default:
		return mv_fail(-EINVAL);
	}
}

/* KVM_SET_NR_MMU_PAGES: the shadow page budget, at least 64 as in KVM */
static int mv_vm_set_nr_mmu_pages(struct mv_vm *vm, unsigned long nr)
{
	if (nr < MV_SHADOW_MIN_PAGES)
		return mv_fail(-EINVAL);
	mutex_lock(&vm->lock);
	mv_shadow_set_max_pages(vm, nr);
	mutex_unlock(&vm->lock);
	return 0;
}

static long mv_vm_ioctl(struct file *file, unsigned int cmd,
			unsigned long arg)
{
	struct mv_vm *vm = file->private_data;

	long r;

	if (vm->mm != current->mm)
		return mv_fail(-EIO);

	switch (cmd) {
	case KVM_SET_USER_MEMORY_REGION:
		return mv_vm_set_memory(vm, (void __user *)arg);
	case KVM_CREATE_VCPU:
		mutex_lock(&vm->lock);
		r = mv_vcpu_create(vm, arg);
		mutex_unlock(&vm->lock);
		return r;
	case KVM_CHECK_EXTENSION:
		return mv_check_extension(arg);
	case KVM_SET_NR_MMU_PAGES:
		return mv_vm_set_nr_mmu_pages(vm, arg);
	case KVM_SET_TSS_ADDR:
		/*
		 * Only VMX without unrestricted guest needs the three pages
		 * (to run real mode in vm86), and minivisor needs unrestricted
		 * guest: as KVM, it checks that they fit below 4 GiB and keeps
		 * nothing.
		 */
		if (arg > SZ_4G - 3 * PAGE_SIZE)
			return mv_fail(-EINVAL);
		return 0;
	case KVM_ENABLE_CAP:
		return mv_vm_enable_cap(vm, (void __user *)arg);
	case KVM_GET_STATS_FD:
		return mv_vm_stats_fd(vm);
	case MV_GET_INFO:
		return mv_get_info((void __user *)arg);
	default:
		return mv_fail(-ENOTTY);
	}
}

static const struct file_operations mv_vm_fops = {
	.owner = THIS_MODULE,
	.release = mv_vm_release,
	.unlocked_ioctl = mv_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/**
 * mv_vm_create() - KVM_CREATE_VM: make a VM and return its file descriptor
 * @type: the machine type; only 0 (the default x86 VM) exists
 *
 * The VM file pins the module, so minivisor cannot be unloaded while any VM
 * fd is open, and keeps working after /dev/minivisor is closed.
 *
 * Return: the new fd, -EINVAL for an unknown @type, -EBUSY when another
 * hypervisor owns VMX/SVM, or another negative errno.
 */
int mv_vm_create(unsigned long type)
{
	struct mv_vm *vm;
	int r;

	if (type)
		return mv_fail(-EINVAL);

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	refcount_set(&vm->users, 1);
	mutex_init(&vm->lock);
	xa_init(&vm->vcpus);
	vm->mm = current->mm;
	mmgrab(vm->mm);
	snprintf(vm->stats_id, sizeof(vm->stats_id), "kvm-%d",
		 task_pid_nr(current));

	r = mv_virt_get();
	if (r)
		goto free_vm;
	r = mv_mmu_init(vm);
	if (r)
		goto free_mmu;

	r = anon_inode_getfd("minivisor-vm", &mv_vm_fops, vm,
			     O_RDWR | O_CLOEXEC);
	if (r < 0)
		goto free_mmu;
	return r;

free_mmu:
	mv_mmu_destroy(vm);
	mv_gmem_destroy(vm);
	mv_virt_put();
free_vm:
	mmdrop(vm->mm);
	mutex_destroy(&vm->lock);
	kfree(vm);
	return r;
}
