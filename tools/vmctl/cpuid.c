// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU's CPUID: what the device supports (KVM_GET_SUPPORTED_CPUID),
 * given as is (KVM_SET_CPUID2).  KVM checks guest state against it: long
 * mode, for one, needs the LM bit there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "vmctl.h"

/**
 * cpuid_setup() - give the vCPU the CPUID the device supports
 * @dev: the device fd
 * @vcpu: the vCPU fd
 *
 * Return: 0, or -1 after printing which ioctl failed.
 */
int cpuid_setup(int dev, int vcpu)
{
	struct kvm_cpuid2 *c = NULL;
	unsigned int nent;
	int ret = -1;

	for (nent = 64; nent <= 4096; nent *= 2) {
		free(c);
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return -1;
		c->nent = nent;
		if (!ioctl(dev, KVM_GET_SUPPORTED_CPUID, c))
			break;
		if (errno != E2BIG) {
			perror("vmctl: KVM_GET_SUPPORTED_CPUID");
			goto out;
		}
	}
	if (nent > 4096) {
		fprintf(stderr, "vmctl: KVM_GET_SUPPORTED_CPUID: too many leaves\n");
		goto out;
	}
	if (ioctl(vcpu, KVM_SET_CPUID2, c)) {
		perror("vmctl: KVM_SET_CPUID2");
		goto out;
	}
	ret = 0;
out:
	free(c);
	return ret;
}
