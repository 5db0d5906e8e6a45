// SPDX-License-Identifier: GPL-2.0
/*
 * A plain KVM API client, as any VMM is one: <linux/kvm.h> and nothing of
 * minivisor.  It runs a fixed guest from the reset vector (real mode,
 * then into 64-bit mode on page tables it builds itself; port I/O both
 * ways, MMIO both ways, CPUID of a leaf the VMM set, WRMSR/RDMSR, HLT)
 * and prints a transcript of every exit and the final registers.  The
 * transcript on /dev/minivisor must equal the one on /dev/kvm
 * (testing/tests.plan: kvm_client_transcript).
 *
 *   kvm_client [DEVICE]		default: $MV_DEV, else /dev/minivisor
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#define MEM_SIZE	0x200000	/* slot 0 at 0 */
#define RESET_GPA	0xfffff000	/* slot 1: the reset vector's page */
#define LOAD		0x1000		/* where the guest is copied */
#define PML4		0x2000
#define MMIO		0xc0000000	/* no slot */
#define IN_VALUE	0xabcdef01U
#define MMIO_VALUE	0x55aa55aaU

/*
 * The guest.  Addresses are LOAD + offset in the blob (G() below); the
 * reset vector jumps to its start.
 */
#define G(sym)	"(" #sym " - kc_guest + 0x1000)"

asm(".pushsection .rodata\n"
	"kc_guest:\n"
	".code16\n"
	"	cli\n"
	"	xor %ax, %ax\n"
	"	mov %ax, %ds\n"
	"	mov %ax, %ss\n"
	"	mov $0x7000, %sp\n"
	"	mov $0x42, %al\n"
	"	out %al, $0x10\n"
	"	lgdtl " G(kc_gdtr) "\n"
	"	mov %cr4, %eax\n"
	"	or $0x20, %eax\n"			/* PAE */
	"	mov %eax, %cr4\n"
	"	mov $0x2000, %eax\n"
	"	mov %eax, %cr3\n"
	"	mov $0xc0000080, %ecx\n"
	"	rdmsr\n"
	"	or $0x100, %eax\n"			/* EFER.LME */
	"	wrmsr\n"
	"	mov %cr0, %eax\n"
	"	or $0x80000001, %eax\n"			/* PG, PE */
	"	mov %eax, %cr0\n"
	"	ljmpl $0x08, $" G(kc_long) "\n"
	".code64\n"
	"kc_long:\n"
	"	mov $0x10, %ax\n"
	"	mov %ax, %ds\n"
	"	mov %ax, %es\n"
	"	mov %ax, %ss\n"
	"	mov $0x7000, %rsp\n"
	"	mov $0x12345678, %eax\n"
	"	out %eax, $0x10\n"
	"	in $0x11, %eax\n"
	"	out %eax, $0x10\n"
	"	mov $0xc0000000, %ebx\n"
	"	movabs $0x1122334455667788, %rax\n"
	"	mov %rax, (%rbx)\n"
	"	mov 8(%rbx), %ecx\n"
	"	mov %ecx, %eax\n"
	"	out %eax, $0x10\n"
	"	mov $0x4d560001, %eax\n"
	"	xor %ecx, %ecx\n"
	"	cpuid\n"
	"	out %eax, $0x10\n"
	"	mov %ebx, %eax\n"
	"	out %eax, $0x10\n"
	"	mov %ecx, %eax\n"
	"	out %eax, $0x10\n"
	"	mov %edx, %eax\n"
	"	out %eax, $0x10\n"
	"	mov $0xc0000102, %ecx\n"		/* KERNEL_GS_BASE, */
	"	mov $0x9abcdef0, %eax\n"		/* canonical: a #GP */
	"	mov $0xffff8000, %edx\n"		/* otherwise */
	"	wrmsr\n"
	"	xor %eax, %eax\n"
	"	xor %edx, %edx\n"
	"	rdmsr\n"
	"	out %eax, $0x10\n"
	"	mov %edx, %eax\n"
	"	out %eax, $0x10\n"
	"	mov $0x11111111, %esi\n"
	"	mov $0x22222222, %r8d\n"
	"	mov $0x33333333, %r15d\n"
	"	hlt\n"
	"	.balign 8\n"
	"kc_gdt:\n"
	"	.quad 0\n"
	"	.quad 0x00af9b000000ffff\n"		/* 0x08: 64-bit code */
	"	.quad 0x00cf93000000ffff\n"		/* 0x10: data */
	"kc_gdtr:\n"
	"	.word 0x17\n"
	"	.long " G(kc_gdt) "\n"
	"kc_guest_end:\n"
	".popsection\n");

/* The address of a label of the asm above. */
#define ASM_ADDR(label)							\
	({								\
		uintptr_t __a;						\
									\
		asm("lea " #label "(%%rip), %0" : "=r"(__a));		\
		__a;							\
	})

static void die(const char *what)
{
	fprintf(stderr, "kvm_client: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *slot(int vm, int n, __u64 gpa, size_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = n, .guest_phys_addr = gpa, .memory_size = size,
	};
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	r.userspace_addr = (uintptr_t)p;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r))
		die("KVM_SET_USER_MEMORY_REGION");
	return p;
}

/* The host's CPUID, and leaf 0x4d560001 of our own. */
static void set_cpuid(int dev, int vcpu)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));

	if (!c)
		die("calloc");
	c->nent = 255;
	if (ioctl(dev, KVM_GET_SUPPORTED_CPUID, c))
		die("KVM_GET_SUPPORTED_CPUID");
	c->entries[c->nent++] = (struct kvm_cpuid_entry2) {
		.function = 0x4d560001, .eax = 0x6b766d21, .ebx = 0x12345678,
		.ecx = 0x9abcdef0, .edx = 0x0badcafe,
	};
	if (ioctl(vcpu, KVM_SET_CPUID2, c))
		die("KVM_SET_CPUID2");
	free(c);
}

/*
 * The accessed bit (bit 0 of the type) is left out: KVM itself reports it
 * differently by vendor (kvm_amd leaves it clear in CS and SS at reset,
 * kvm_intel sets it, as the SDM's reset state has it).
 */
static void print_seg(const char *name, const struct kvm_segment *s)
{
	printf("%s sel %#06x base %#llx limit %#x type %u p %u dpl %u db %u s %u l %u g %u\n",
	       name, s->selector, (unsigned long long)s->base, s->limit,
	       s->type & ~1u, s->present, s->dpl, s->db, s->s, s->l, s->g);
}

static void print_state(int vcpu, const char *when)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	if (ioctl(vcpu, KVM_GET_REGS, &r) || ioctl(vcpu, KVM_GET_SREGS, &s))
		die("KVM_GET_REGS/SREGS");
	printf("%s:\n", when);
	printf("rax %#llx rbx %#llx rcx %#llx rdx %#llx\n",
	       r.rax, r.rbx, r.rcx, r.rdx);
	printf("rsi %#llx rdi %#llx rsp %#llx rbp %#llx\n",
	       r.rsi, r.rdi, r.rsp, r.rbp);
	printf("r8 %#llx r15 %#llx rip %#llx rflags %#llx\n",
	       r.r8, r.r15, r.rip, r.rflags);
	printf("cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx\n",
	       s.cr0, s.cr3, s.cr4, s.efer);
	printf("gdt %#llx/%#x\n", s.gdt.base, s.gdt.limit);
	print_seg("cs", &s.cs);
	print_seg("ds", &s.ds);
	print_seg("ss", &s.ss);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : getenv("MV_DEV");
	__u64 *pt;
	__u8 *mem, *reset;
	struct kvm_run *run;
	int dev, vm, vcpu, n;
	__u32 v;

	if (!path || !*path)
		path = "/dev/minivisor";
	dev = open(path, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die(path);
	vm = ioctl(dev, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	mem = slot(vm, 0, 0, MEM_SIZE);
	reset = slot(vm, 1, RESET_GPA, 0x1000);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	n = ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	set_cpuid(dev, vcpu);

	/* reset vector: ljmp $0, $LOAD */
	memcpy(reset + 0xff0, "\xea\x00\x10\x00\x00", 5);
	memcpy(mem + LOAD, (void *)ASM_ADDR(kc_guest),
	       ASM_ADDR(kc_guest_end) - ASM_ADDR(kc_guest));
	/* 2 MiB pages: 0 -> 0 for the code, MMIO -> MMIO */
	pt = (__u64 *)(mem + PML4);
	pt[0] = 0x3000 | 3;
	pt = (__u64 *)(mem + 0x3000);
	pt[0] = 0x4000 | 3;
	pt[MMIO >> 30] = 0x5000 | 3;
	*(__u64 *)(mem + 0x4000) = 0x83;
	*(__u64 *)(mem + 0x5000) = MMIO | 0x83;

	print_state(vcpu, "reset");
	for (n = 1; n <= 64; n++) {
		if (ioctl(vcpu, KVM_RUN, 0))
			die("KVM_RUN");
		printf("exit %d: ", n);
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			v = 0;
			if (run->io.direction == KVM_EXIT_IO_IN) {
				memcpy((__u8 *)run + run->io.data_offset,
				       &(__u32){IN_VALUE}, run->io.size);
				v = IN_VALUE;
			} else {
				memcpy(&v, (__u8 *)run + run->io.data_offset,
				       run->io.size);
			}
			printf("io %s port %#x size %u count %u data %#x\n",
			       run->io.direction == KVM_EXIT_IO_IN ? "in" : "out",
			       run->io.port, run->io.size, run->io.count, v);
			break;
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memcpy(run->mmio.data, &(__u32){MMIO_VALUE}, 4);
			printf("mmio %s %#llx len %u data",
			       run->mmio.is_write ? "write" : "read",
			       (unsigned long long)run->mmio.phys_addr,
			       run->mmio.len);
			for (unsigned int i = 0; i < run->mmio.len && i < 8; i++)
				printf(" %02x", run->mmio.data[i]);
			printf("\n");
			break;
		case KVM_EXIT_HLT:
			printf("hlt\n");
			print_state(vcpu, "final");
			return 0;
		default:
			printf("reason %u\n", run->exit_reason);
			print_state(vcpu, "final");
			return 1;
		}
	}
	printf("too many exits\n");
	return 1;
}
