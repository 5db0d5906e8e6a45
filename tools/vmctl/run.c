// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run: load a flat real-mode image and run it on one vCPU, through
 * the KVM ABI, on /dev/minivisor or /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "devices.h"
#include "vmctl.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static enum dev_result (*const devices[])(struct port_access *) = {
	uart_io,
	debug_exit_io,
};

/* One element of a KVM_EXIT_IO; returns DEV_EXIT to end the run. */
static enum dev_result port_io(const struct run_options *o,
			       struct port_access *a)
{
	static unsigned char logged[65536 / 8];
	enum dev_result r = DEV_UNHANDLED;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(devices); i++) {
		r = devices[i](a);
		if (r != DEV_UNHANDLED)
			break;
	}
	if (a->port == 0x80)			/* POST codes */
		r = DEV_OK;
	if (r == DEV_UNHANDLED) {
		if (a->in)
			*a->data = 0xffffffff;	/* nothing there */
		if (o->trace && !(logged[a->port / 8] & (1 << a->port % 8))) {
			fprintf(stderr, "vmctl: unhandled port %#x (%s)\n",
				a->port, a->in ? "in" : "out");
			logged[a->port / 8] |= 1 << a->port % 8;
		}
		r = DEV_OK;
	}
	return r;
}

static void print_regs(int vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu, KVM_GET_REGS, &r) || ioctl(vcpu, KVM_GET_SREGS, &s))
		return;
	fprintf(stderr,
		"  rip %016llx rflags %08llx cs %04x:%016llx\n"
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rsp %016llx rbp %016llx\n"
		"  cr0 %016llx cr3 %016llx cr4 %016llx efer %016llx\n",
		r.rip, r.rflags, s.cs.selector, s.cs.base, r.rax, r.rbx, r.rcx,
		r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, s.cr0, s.cr3, s.cr4, s.efer);
}

static int load_image(const char *path, unsigned char *mem, size_t size,
		      size_t at)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vmctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || st.st_size == 0 || (size_t)st.st_size > size - at) {
		fprintf(stderr, "vmctl: %s: not an image that fits at %#zx\n",
			path, at);
		close(fd);
		return -1;
	}
	n = read(fd, mem + at, st.st_size);
	close(fd);
	return n == st.st_size ? 0 : -1;
}

/* Runs until the guest halts or asks to exit; returns the exit status. */
static int run_loop(const struct run_options *o, int vcpu,
		    struct kvm_run *run)
{
	unsigned long exits = 0;

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) && errno != EINTR) {
			fprintf(stderr, "vmctl: KVM_RUN: %s\n", strerror(errno));
			return 1;
		}
		exits++;
		if (o->trace)
			fprintf(stderr, "vmctl: exit %u\n", run->exit_reason);
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			unsigned char *p = (unsigned char *)run +
				run->io.data_offset;
			unsigned int i;

			for (i = 0; i < run->io.count; i++) {
				uint32_t v = 0;
				struct port_access a = {
					.port = run->io.port,
					.size = run->io.size,
					.in = run->io.direction == KVM_EXIT_IO_IN,
					.data = &v,
				};

				if (!a.in)
					memcpy(&v, p, a.size);
				if (port_io(o, &a) == DEV_EXIT)
					return a.exit_status;
				if (a.in)
					memcpy(p, &v, a.size);
				p += a.size;
			}
			break;
		}
		case KVM_EXIT_HLT:
			if (o->stats)
				fprintf(stderr, "vmctl: %lu exits\n", exits);
			return 0;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_SHUTDOWN:
			fprintf(stderr, "vmctl: the guest shut down (triple fault)\n");
			print_regs(vcpu);
			return 3;
		case KVM_EXIT_FAIL_ENTRY:
			fprintf(stderr, "vmctl: entry failed, hardware reason %#llx\n",
				run->fail_entry.hardware_entry_failure_reason);
			print_regs(vcpu);
			return 4;
		case KVM_EXIT_INTERNAL_ERROR:
			fprintf(stderr, "vmctl: internal error, suberror %u\n",
				run->internal.suberror);
			print_regs(vcpu);
			return 4;
		default:
			fprintf(stderr, "vmctl: unexpected exit %u\n",
				run->exit_reason);
			print_regs(vcpu);
			return 4;
		}
	}
}

int cmd_run(const struct run_options *o)
{
	struct kvm_userspace_memory_region region;
	int dev, vm = -1, vcpu = -1, status = 1;
	struct kvm_run *run = MAP_FAILED;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	unsigned char *mem;
	long run_size = 0;

	dev = open(o->dev, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "vmctl: %s: %s\n", o->dev, strerror(errno));
		return 1;
	}
	mem = mmap(NULL, o->mem, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || load_image(o->image, mem, o->mem, o->at))
		goto out;

	vm = ioctl(dev, KVM_CREATE_VM, 0);
	if (vm < 0) {
		fprintf(stderr, "vmctl: KVM_CREATE_VM: %s\n", strerror(errno));
		goto out;
	}
	region = (struct kvm_userspace_memory_region) {
		.memory_size = o->mem, .userspace_addr = (unsigned long)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region)) {
		fprintf(stderr, "vmctl: guest memory: %s\n", strerror(errno));
		goto out;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || run_size <= 0) {
		fprintf(stderr, "vmctl: KVM_CREATE_VCPU: %s\n", strerror(errno));
		goto out;
	}
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		goto out;

	/* real mode, CS = 0, entered at the load address */
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		goto out;
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	memset(&regs, 0, sizeof(regs));
	regs.rip = o->at;
	regs.rflags = 2;
	regs.rsp = o->at;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) ||
	    ioctl(vcpu, KVM_SET_REGS, &regs))
		goto out;

	status = run_loop(o, vcpu, run);
out:
	if (run != MAP_FAILED)
		munmap(run, run_size);
	if (mem != MAP_FAILED)
		munmap(mem, o->mem);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	close(dev);
	return status;
}
