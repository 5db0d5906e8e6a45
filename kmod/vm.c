// SPDX-License-Identifier: GPL-2.0
/*
 * VM lifetime and VM-fd ioctls.
 */
#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/minivisor.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "main.h"
#include "mv.h"
#include "virt.h"
#include "vm.h"

static void mv_vm_free(struct mv_vm *vm)
{
	mutex_destroy(&vm->lock);
	kfree(vm);
	mv_virt_put();
}

static int mv_vm_release(struct inode *inode, struct file *file)
{
	mv_vm_free(file->private_data);
	return 0;
}

static long mv_vm_ioctl(struct file *file, unsigned int cmd,
			unsigned long arg)
{
	switch (cmd) {
	case KVM_CHECK_EXTENSION:
		return mv_check_extension(arg);
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
	mutex_init(&vm->lock);

	r = mv_virt_get();
	if (r)
		goto free_vm;

	r = anon_inode_getfd("minivisor-vm", &mv_vm_fops, vm,
			     O_RDWR | O_CLOEXEC);
	if (r < 0)
		goto put_virt;
	return r;

put_virt:
	mv_virt_put();
free_vm:
	mutex_destroy(&vm->lock);
	kfree(vm);
	return r;
}
