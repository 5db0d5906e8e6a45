// SPDX-License-Identifier: GPL-2.0
/*
 * minivisor: module init and exit, /dev/minivisor and its ioctls.
 *
 * The ABI is the x86 subset of KVM's <linux/kvm.h>; minivisor's additions
 * are in <linux/minivisor.h>.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/minivisor.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "cpuid.h"
#include "fpu.h"
#include "main.h"
#include "memslot.h"
#include "msr.h"
#include "mv.h"
#include "spec.h"
#include "vcpu.h"
#include "virt.h"
#include "vm.h"

/* KVM's API version: the only one there has ever been. */
#define MV_API_VERSION		12

/**
 * mv_check_extension() - KVM_CHECK_EXTENSION, on /dev/minivisor or a VM fd
 * @cap: a KVM_CAP_* or MV_CAP_* number
 *
 * Return: 0 for anything minivisor does not implement, otherwise a positive
 * value whose meaning is the capability's (1 for a plain yes).
 */
long mv_check_extension(unsigned long cap)
{
	switch (cap) {
	case MV_CAP_INFO:
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_READONLY_MEM:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_BINARY_STATS_FD:
	case KVM_CAP_ENABLE_CAP_VM:
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
	case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_SYNC_MMU:
		return 1;
	case MV_CAP_MMU_MODE:
		return mv_caps.mmu_modes;
	case MV_CAP_SHADOW_ROOT_CACHE:
		return !!(mv_caps.mmu_modes & MV_MMU_SHADOW);
	case KVM_CAP_MMU_SHADOW_CACHE_CONTROL:
		return 1;
	case KVM_CAP_XSAVE:
	case KVM_CAP_XCRS:
	case KVM_CAP_XSAVE2:
		return mv_fpu_check_extension(cap);
	case KVM_CAP_NR_MEMSLOTS:
		return MV_MEMSLOTS_MAX;
	/* only a backend that runs vCPUs has any */
	case KVM_CAP_NR_VCPUS:
		/* the recommended most: one per online host CPU, as KVM */
		return mv_ops->vcpu_run ?
			min_t(int, num_online_cpus(), MV_MAX_VCPUS) : 0;
	case KVM_CAP_MAX_VCPUS:
		return mv_ops->vcpu_run ? MV_MAX_VCPUS : 0;
	case KVM_CAP_MAX_VCPU_ID:
		return mv_ops->vcpu_run ? MV_MAX_VCPU_IDS : 0;
	default:
		return 0;
	}
}

/**
 * mv_get_info() - MV_GET_INFO: the backend and MMU modes of this host
 * @uinfo: where to copy a struct minivisor_info
 *
 * Return: 0, or -EFAULT.
 */
long mv_get_info(void __user *uinfo)
{
	struct minivisor_info info = {
		.abi_version = MV_ABI_VERSION,
		.backend = mv_caps.backend,
		.mmu_modes = mv_caps.mmu_modes,
		.features = mv_caps.features,
	};

	if (copy_to_user(uinfo, &info, sizeof(info)))
		return mv_fail(-EFAULT);
	return 0;
}

static long mv_dev_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	switch (cmd) {
	case KVM_GET_API_VERSION:
		if (arg)
			return mv_fail(-EINVAL);
		return MV_API_VERSION;
	case KVM_CHECK_EXTENSION:
		return mv_check_extension(arg);
	case KVM_CREATE_VM:
		return mv_vm_create(arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		if (arg)
			return mv_fail(-EINVAL);
		return MV_VCPU_MMAP_PAGES * PAGE_SIZE;
	case KVM_GET_SUPPORTED_CPUID:
		return mv_cpuid_get_supported((void __user *)arg);
	case KVM_GET_MSR_INDEX_LIST:
		return mv_msr_index_list((void __user *)arg);
	case MV_GET_INFO:
		return mv_get_info((void __user *)arg);
	default:
		return mv_fail(-ENOTTY);
	}
}

static const struct file_operations mv_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = mv_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice mv_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "minivisor",
	.fops = &mv_dev_fops,
	/*
	 * root only, as devtmpfs makes /dev/kvm; udev/60-minivisor.rules
	 * gives it to group kvm (0660) where the package is installed
	 */
	.mode = 0600,
};

/* (c) minivisor's debugfs folder; an error pointer when there is none */
static struct dentry *mv_debugfs;

static int __init mv_init(void)
{
	int r;

	r = mv_virt_init();
	if (r)
		return r;
	r = mv_spec_init();
	if (r)
		goto virt_exit;
	mv_vcpu_init();

	mv_debugfs = debugfs_create_dir("minivisor", NULL);
	mv_virt_debugfs_init(mv_debugfs);
	mv_spec_debugfs_init(mv_debugfs);

	r = misc_register(&mv_dev);
	if (r) {
		pr_err("minivisor: cannot register /dev/minivisor: error %d\n",
		       r);
		goto vcpu_exit;
	}
	return 0;

vcpu_exit:
	debugfs_remove(mv_debugfs);
	mv_vcpu_exit();
	mv_spec_exit();
virt_exit:
	mv_virt_exit();
	return r;
}

static void __exit mv_exit(void)
{
	misc_deregister(&mv_dev);
	debugfs_remove(mv_debugfs);
	mv_vcpu_exit();
	mv_spec_exit();
	mv_virt_exit();
}

module_init(mv_init);
module_exit(mv_exit);

MODULE_DESCRIPTION("minivisor: a small hypervisor with KVM's x86 ABI");
MODULE_AUTHOR("The minivisor developers");
MODULE_LICENSE("GPL");
