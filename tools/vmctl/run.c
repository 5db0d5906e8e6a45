// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run: load an image, build a VM with one vCPU through the KVM ABI
 * (on /dev/minivisor or /dev/kvm alike), and serve its exits until the
 * guest halts, exits through the debug-exit port, or fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "devices.h"
#include "vmctl.h"

static enum dev_result (*const devices[])(struct port_access *) = {
	uart_io,
	debug_exit_io,
	rtc_io,
	post_io,
};

/* One element of a KVM_EXIT_IO; returns DEV_EXIT to end the run. */
static enum dev_result port_io(const struct run_options *o,
			       struct port_access *a)
{
	static unsigned char logged[65536 / 8];
	enum dev_result r = DEV_UNHANDLED;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(devices) && r == DEV_UNHANDLED; i++)
		r = devices[i](a);
	if (r != DEV_UNHANDLED)
		return r;
	if (a->in)
		*a->data = 0xffffffff;	/* nothing there */
	if (o->trace && !(logged[a->port / 8] & (1 << a->port % 8))) {
		fprintf(stderr, "vmctl: unhandled port %#x (%s), ignored\n",
			a->port, a->in ? "in" : "out");
		logged[a->port / 8] |= 1 << a->port % 8;
	}
	return DEV_OK;
}

/**
 * exit_io() - serve a KVM_EXIT_IO with vmctl's devices
 * @o: the options (--trace)
 * @run: the vCPU's kvm_run
 *
 * Return: -1 to go on, else the exit status the guest asked for.
 */
int exit_io(const struct run_options *o, struct kvm_run *run)
{
	unsigned char *p = (unsigned char *)run + run->io.data_offset;
	unsigned int i;

	for (i = 0; i < run->io.count; i++, p += run->io.size) {
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
	}
	return -1;
}

/* No MMIO devices: reads return all-ones, writes are dropped. */
static void exit_mmio(const struct run_options *o, struct kvm_run *run)
{
	static uint64_t logged[64];
	static unsigned int nlogged;
	unsigned int i;

	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	if (!o->trace)
		return;
	for (i = 0; i < nlogged; i++)
		if (logged[i] == run->mmio.phys_addr)
			return;
	if (nlogged < ARRAY_SIZE(logged))
		logged[nlogged++] = run->mmio.phys_addr;
	fprintf(stderr, "vmctl: unhandled MMIO %#llx (%s), ignored\n",
		(unsigned long long)run->mmio.phys_addr,
		run->mmio.is_write ? "write" : "read");
}

static void trace_exit(const struct kvm_run *run)
{
	fprintf(stderr, "vmctl: exit %s", exit_name(run->exit_reason));
	if (run->exit_reason == KVM_EXIT_IO)
		fprintf(stderr, " %s port %#x size %u count %u",
			run->io.direction == KVM_EXIT_IO_IN ? "in" : "out",
			run->io.port, run->io.size, run->io.count);
	else if (run->exit_reason == KVM_EXIT_MMIO)
		fprintf(stderr, " %s %#llx len %u",
			run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr, run->mmio.len);
	fputc('\n', stderr);
}

static void print_regs(int vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu, KVM_GET_REGS, &r) || ioctl(vcpu, KVM_GET_SREGS, &s)) {
		perror("vmctl: reading the registers");
		return;
	}
	fprintf(stderr,
		"  rip %016llx rflags %08llx cs %04x:%016llx\n"
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rsp %016llx rbp %016llx\n"
		"  cr0 %016llx cr3 %016llx cr4 %016llx efer %016llx\n",
		r.rip, r.rflags, s.cs.selector, s.cs.base, r.rax, r.rbx, r.rcx,
		r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, s.cr0, s.cr3, s.cr4, s.efer);
}

static void internal_error(const struct kvm_run *run)
{
	unsigned int i, n;

	fprintf(stderr, "vmctl: internal error in the hypervisor, suberror %u%s\n",
		run->internal.suberror,
		run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			" (emulation failed)" : "");
	if (run->emulation_failure.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    run->emulation_failure.ndata >= 3 &&
	    run->emulation_failure.flags &
	    KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) {
		n = run->emulation_failure.insn_size;
		if (n > sizeof(run->emulation_failure.insn_bytes))
			n = sizeof(run->emulation_failure.insn_bytes);
		fprintf(stderr, "  instruction bytes:");
		for (i = 0; i < n; i++)
			fprintf(stderr, " %02x",
				run->emulation_failure.insn_bytes[i]);
		fputc('\n', stderr);
		return;
	}
	n = run->internal.ndata;
	if (n > ARRAY_SIZE(run->internal.data))
		n = ARRAY_SIZE(run->internal.data);
	for (i = 0; i < n; i++)
		fprintf(stderr, "  data[%u] %#llx\n", i,
			(unsigned long long)run->internal.data[i]);
}

/* Runs until the guest halts, exits or fails; returns the exit status. */
static int run_loop(const struct run_options *o, struct vm *v)
{
	struct kvm_run *run = v->run;
	int status;

	for (;;) {
		if (ioctl(v->vcpu, KVM_RUN, 0) && errno != EINTR) {
			fprintf(stderr, "vmctl: KVM_RUN: %s\n", strerror(errno));
			return STATUS_ERROR;
		}
		v->counts.total++;
		if (run->exit_reason < ARRAY_SIZE(v->counts.reason))
			v->counts.reason[run->exit_reason]++;
		if (o->trace)
			trace_exit(run);
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			status = exit_io(o, run);
			if (status >= 0)
				return status;
			break;
		case KVM_EXIT_MMIO:
			exit_mmio(o, run);
			break;
		case KVM_EXIT_HLT:
			return 0;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_SHUTDOWN:
			fprintf(stderr,
				"vmctl: the guest shut down (triple fault); its registers:\n");
			print_regs(v->vcpu);
			return STATUS_SHUTDOWN;
		case KVM_EXIT_SYSTEM_EVENT:
			fprintf(stderr, "vmctl: the guest asked for system event %u\n",
				run->system_event.type);
			return STATUS_SHUTDOWN;
		case KVM_EXIT_FAIL_ENTRY:
			fprintf(stderr,
				"vmctl: entry failed, hardware reason %#llx\n",
				run->fail_entry.hardware_entry_failure_reason);
			print_regs(v->vcpu);
			return STATUS_INTERNAL;
		case KVM_EXIT_INTERNAL_ERROR:
			internal_error(run);
			print_regs(v->vcpu);
			return STATUS_INTERNAL;
		default:
			fprintf(stderr, "vmctl: unexpected exit %u (%s)\n",
				run->exit_reason, exit_name(run->exit_reason));
			print_regs(v->vcpu);
			return STATUS_INTERNAL;
		}
	}
}

/**
 * open_dev() - open a KVM device node and check its API version
 * @path: the node
 *
 * Return: the fd, or -1 after printing why not.
 */
int open_dev(const char *path)
{
	int fd, api;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vmctl: %s: %s%s\n", path, strerror(errno),
			errno == ENOENT ?
			" (no such device node: is the module loaded?)" : "");
		return -1;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		if (api < 0)
			fprintf(stderr, "vmctl: %s: not a KVM device: %s\n",
				path, strerror(errno));
		else
			fprintf(stderr, "vmctl: %s: KVM API version %d, not %d\n",
				path, api, KVM_API_VERSION);
		close(fd);
		return -1;
	}
	return fd;
}

/**
 * create_vm() - the VM, its memory and its vCPU, in the mode of @o->mmu
 * @o: the options
 * @v: @v->dev open and @v->img.mem allocated; the rest is filled in
 *
 * Return: 0, or -1 after printing why not.
 */
int create_vm(const struct run_options *o, struct vm *v)
{
	struct kvm_userspace_memory_region region = {
		.memory_size = v->img.mem_size,
		.userspace_addr = (unsigned long)v->img.mem,
	};

	v->vm = ioctl(v->dev, KVM_CREATE_VM, 0);
	if (v->vm < 0) {
		perror("vmctl: KVM_CREATE_VM");
		return -1;
	}
	if (mmu_select(v->dev, v->vm, o->mmu))
		return -1;
	if (o->no_root_cache && mmu_root_cache_off(v->dev, v->vm))
		return -1;
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region)) {
		perror("vmctl: guest memory");
		return -1;
	}
	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0) {
		perror("vmctl: KVM_CREATE_VCPU");
		return -1;
	}
	if (cpuid_setup(v->dev, v->vcpu))
		return -1;
	v->run_size = ioctl(v->dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (v->run_size <= 0) {
		perror("vmctl: KVM_GET_VCPU_MMAP_SIZE");
		return -1;
	}
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->vcpu, 0);
	if (v->run == MAP_FAILED) {
		perror("vmctl: mapping kvm_run");
		return -1;
	}
	return 0;
}

/**
 * cmd_run() - vmctl run
 * @o: the options
 *
 * Return: the exit status of vmctl: the guest's, or a STATUS_* of vmctl's.
 */
int cmd_run(const struct run_options *o)
{
	struct vm v = { .dev = -1, .vm = -1, .vcpu = -1, .run = MAP_FAILED };
	int status = STATUS_ERROR;
	struct boot b = { 0 };

	v.img.mem_size = o->mem;
	v.img.mem = mmap(NULL, o->mem, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v.img.mem == MAP_FAILED) {
		perror("vmctl: guest memory");
		return STATUS_ERROR;
	}
	if (load_image(o, &v.img, &b))
		goto out;
	v.dev = open_dev(o->dev);
	if (v.dev < 0 || create_vm(o, &v) || boot_setup(v.vcpu, &v.img, &b))
		goto out;
	if (o->trace)
		fprintf(stderr, "vmctl: %s image %s, entry %#llx\n", b.format,
			o->image, (unsigned long long)b.entry);

	status = run_loop(o, &v);
	if (o->stats)
		stats_print(v.dev, v.vm, v.vcpu, &v.counts);
out:
	if (v.run != MAP_FAILED)
		munmap(v.run, v.run_size);
	if (v.vcpu >= 0)
		close(v.vcpu);
	if (v.vm >= 0)
		close(v.vm);
	if (v.dev >= 0)
		close(v.dev);
	munmap(v.img.mem, o->mem);
	return status;
}
