// SPDX-License-Identifier: GPL-2.0
/*
 * --mmu shadow|tdp: the MMU mode of the VM.
 *
 * All of vmctl's knowledge of MMU modes is here.  minivisor announces
 * MV_CAP_MMU_MODE (KVM_CHECK_EXTENSION answers the MV_MMU_* bits the host
 * can run) and takes the choice through KVM_ENABLE_CAP on the VM before its
 * first vCPU.  KVM has no such choice: there a VM runs on the hardware's
 * second-level tables (TDP) when the host has them, so "tdp" is accepted
 * and "shadow" refused with a message.  Without --mmu the device's default
 * stays.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>
#include <linux/minivisor.h>

#include "vmctl.h"

/**
 * mmu_select() - put a new VM in the MMU mode --mmu asks for
 * @dev: the device fd (for KVM_CHECK_EXTENSION)
 * @vm: the VM fd, before any vCPU exists
 * @mode: "shadow", "tdp", or NULL for the device's default
 *
 * Return: 0, or -1 after printing why the mode cannot be had.
 */
int mmu_select(int dev, int vm, const char *mode)
{
	struct kvm_enable_cap cap = { .cap = MV_CAP_MMU_MODE };
	__u32 bit;
	int modes;

	if (!mode)
		return 0;
	if (!strcmp(mode, "shadow")) {
		bit = MV_MMU_SHADOW;
	} else if (!strcmp(mode, "tdp")) {
		bit = MV_MMU_TDP;
	} else {
		fprintf(stderr, "vmctl: --mmu %s: not shadow or tdp\n", mode);
		return -1;
	}
	modes = ioctl(dev, KVM_CHECK_EXTENSION, MV_CAP_MMU_MODE);
	if (modes <= 0) {
		if (bit == MV_MMU_TDP)
			return 0;
		fprintf(stderr,
			"vmctl: --mmu %s: this device offers no way to choose the MMU mode (only its default, tdp)\n",
			mode);
		return -1;
	}
	if (!(modes & bit)) {
		fprintf(stderr, "vmctl: --mmu %s: this host cannot run it\n",
			mode);
		return -1;
	}
	cap.args[0] = bit;
	if (ioctl(vm, KVM_ENABLE_CAP, &cap)) {
		fprintf(stderr, "vmctl: --mmu %s: KVM_ENABLE_CAP: %s\n", mode,
			strerror(errno));
		return -1;
	}
	return 0;
}

/**
 * mmu_root_cache_off() - turn a VM's shadow root cache off (benchmarking)
 * @dev: the device fd (for KVM_CHECK_EXTENSION)
 * @vm: the VM fd
 *
 * Return: 0, or -1 after printing why not (KVM has no such switch).
 */
int mmu_root_cache_off(int dev, int vm)
{
	struct kvm_enable_cap cap = { .cap = MV_CAP_SHADOW_ROOT_CACHE };

	if (ioctl(dev, KVM_CHECK_EXTENSION, MV_CAP_SHADOW_ROOT_CACHE) <= 0) {
		fprintf(stderr,
			"vmctl: --no-root-cache: this device has no shadow root cache to turn off\n");
		return -1;
	}
	if (ioctl(vm, KVM_ENABLE_CAP, &cap)) {
		fprintf(stderr, "vmctl: --no-root-cache: KVM_ENABLE_CAP: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}
