// SPDX-License-Identifier: GPL-2.0
/*
 * --stats: the device's binary statistics (KVM_GET_STATS_FD on the VM and
 * the vCPU) when KVM_CAP_BINARY_STATS_FD says it has them, else vmctl's own
 * exit counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "vmctl.h"

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "unknown",
	[KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io",
	[KVM_EXIT_HYPERCALL] = "hypercall",
	[KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SET_TPR] = "set_tpr",
	[KVM_EXIT_TPR_ACCESS] = "tpr_access",
	[KVM_EXIT_NMI] = "nmi",
	[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event",
	[KVM_EXIT_X86_RDMSR] = "x86_rdmsr",
	[KVM_EXIT_X86_WRMSR] = "x86_wrmsr",
};

/**
 * exit_name() - a KVM exit reason's name
 * @reason: KVM_EXIT_*
 *
 * Return: the name, or "?" for a reason vmctl does not know.
 */
const char *exit_name(unsigned int reason)
{
	if (reason < ARRAY_SIZE(exit_names) && exit_names[reason])
		return exit_names[reason];
	return "?";
}

/**
 * stats_read_descs() - the header and descriptors of a binary stats fd
 * @fd: a KVM_GET_STATS_FD file descriptor
 * @h: its header, read
 * @dsize: bytes of one descriptor with its name
 *
 * Each descriptor's name is NUL-terminated within its name_size.
 *
 * Return: h->num_desc descriptors of *@dsize bytes each (free() them), or
 * NULL if the fd cannot be read or its header is not believable.
 */
unsigned char *stats_read_descs(int fd, struct kvm_stats_header *h,
				size_t *dsize)
{
	struct kvm_stats_desc *d;
	unsigned char *descs;
	size_t i;

	if (pread(fd, h, sizeof(*h), 0) != sizeof(*h) || !h->name_size ||
	    h->name_size > 4096 || h->num_desc > 65536)
		return NULL;
	*dsize = sizeof(*d) + h->name_size;
	descs = calloc(h->num_desc, *dsize);
	if (!descs)
		return NULL;
	if (pread(fd, descs, h->num_desc * *dsize, h->desc_offset) !=
	    (ssize_t)(h->num_desc * *dsize)) {
		free(descs);
		return NULL;
	}
	for (i = 0; i < h->num_desc; i++) {
		d = (struct kvm_stats_desc *)(descs + i * *dsize);
		d->name[h->name_size - 1] = 0;
	}
	return descs;
}

/* Every stat of one stats fd, "name = value" (histograms: all buckets). */
static int print_fd_stats(int fd, const char *what)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	unsigned char *descs;
	uint64_t *data = NULL;
	size_t dsize, i, j;
	int ret = -1;

	descs = stats_read_descs(fd, &h, &dsize);
	if (!descs)
		return -1;
	fprintf(stderr, "vmctl: %s stats:\n", what);
	for (i = 0; i < h.num_desc; i++) {
		d = (struct kvm_stats_desc *)(descs + i * dsize);
		data = calloc(d->size ? d->size : 1, sizeof(*data));
		if (!data || pread(fd, data, d->size * sizeof(*data),
				   h.data_offset + d->offset) !=
		    (ssize_t)(d->size * sizeof(*data)))
			goto out;
		fprintf(stderr, "  %s =", d->name);
		for (j = 0; j < d->size; j++)
			fprintf(stderr, " %llu", (unsigned long long)data[j]);
		fputc('\n', stderr);
		free(data);
		data = NULL;
	}
	ret = 0;
out:
	free(data);
	free(descs);
	return ret;
}

static int binary_stats(int dev, int vm, int vcpu)
{
	int fd, ret;

	if (ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) <= 0)
		return -1;
	fd = ioctl(vm, KVM_GET_STATS_FD, 0);
	if (fd < 0)
		return -1;
	ret = print_fd_stats(fd, "vm");
	close(fd);
	if (ret)
		return ret;
	fd = ioctl(vcpu, KVM_GET_STATS_FD, 0);
	if (fd >= 0) {
		print_fd_stats(fd, "vcpu 0");
		close(fd);
	}
	return 0;
}

/**
 * stats_print() - print the counters of a finished run on stderr
 * @dev: the device fd
 * @vm: the VM fd
 * @vcpu: the vCPU fd
 * @c: vmctl's own exit counts
 */
void stats_print(int dev, int vm, int vcpu, const struct exit_counts *c)
{
	unsigned int i;

	if (!binary_stats(dev, vm, vcpu))
		return;
	fprintf(stderr, "vmctl: exits = %lu\n", c->total);
	for (i = 0; i < ARRAY_SIZE(c->reason); i++)
		if (c->reason[i])
			fprintf(stderr, "vmctl: exits.%s = %lu\n",
				exit_name(i), c->reason[i]);
}
