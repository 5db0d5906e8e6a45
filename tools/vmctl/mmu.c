// SPDX-License-Identifier: GPL-2.0
/*
 * --mmu shadow|tdp: the MMU mode of the VM.
 *
 * All of vmctl's knowledge of MMU modes is here.  Today neither KVM nor
 * minivisor offers userspace a way to choose: the VM runs on the hardware's
 * second-level tables (TDP: EPT or NPT) when the host has them.  So "tdp" is
 * accepted as the default and "shadow" is refused with a message; when
 * minivisor announces a capability for the choice, this is the one place
 * that asks for it.
 */
#include <stdio.h>
#include <string.h>

#include "vmctl.h"

/**
 * mmu_select() - put a new VM in the MMU mode --mmu asks for
 * @dev: the device fd (for KVM_CHECK_EXTENSION)
 * @vm: the VM fd, before any vCPU exists
 * @mode: "shadow", "tdp", or NULL for the default
 *
 * Return: 0, or -1 after printing why the mode cannot be had.
 */
int mmu_select(int dev, int vm, const char *mode)
{
	(void)dev;
	(void)vm;
	if (!mode || !strcmp(mode, "tdp"))
		return 0;
	if (!strcmp(mode, "shadow")) {
		fprintf(stderr,
			"vmctl: --mmu shadow: this device offers no way to choose the MMU mode (only its default, tdp)\n");
		return -1;
	}
	fprintf(stderr, "vmctl: --mmu %s: not shadow or tdp\n", mode);
	return -1;
}
