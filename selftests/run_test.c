// SPDX-License-Identifier: GPL-2.0
/*
 * Running guests: the reset state, real-mode code, port I/O, HLT, guest
 * memory, triple fault, signals, immediate_exit, vCPU migration, and the
 * errors of the vCPU ioctls.  Written against <linux/kvm.h> only.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/time.h>

#include "kselftest_harness.h"
#include "lib/vm.h"

#define RESET_GPA	0xffff0000ULL	/* the 64 KiB below 4 GiB */
#define LOW_GPA		0ULL

/* The last exit was a single port access of @size bytes at @port. */
static void expect_io(struct __test_metadata *_metadata, struct mv_guest *g,
		      int dir, int port, int size)
{
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	EXPECT_EQ(dir, g->run->io.direction);
	EXPECT_EQ(port, g->run->io.port);
	EXPECT_EQ(size, g->run->io.size);
	EXPECT_EQ(1U, g->run->io.count);
}

#define EXPECT_IO(g, dir, p, sz) expect_io(_metadata, g, dir, p, sz)

/* Real mode: point CS at segment 0 and start at @ip. */
static void real_mode_at(struct __test_metadata *_metadata,
			 struct mv_guest *g, __u16 ip)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	ASSERT_EQ(0, ioctl(g->vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = ip;
	regs.rflags = 2;
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_REGS, &regs));
}

FIXTURE(run) {
	struct mv_guest g;
};

/* Guest memory: the first 64 KiB; code is started in real mode there. */
FIXTURE_SETUP(run)
{
	int r = mv_guest_create(&self->g, LOW_GPA, 0x10000);

	if (r == -EOPNOTSUPP)
		SKIP(return, "this backend does not run vCPUs yet");
	ASSERT_EQ(0, r) TH_LOG("guest: %s", strerror(-r));
}

FIXTURE_TEARDOWN(run)
{
	mv_guest_destroy(&self->g);
}

/* Guest memory: the 64 KiB below 4 GiB, where the reset vector is. */
FIXTURE(reset) {
	struct mv_guest g;
};

FIXTURE_SETUP(reset)
{
	int r = mv_guest_create(&self->g, RESET_GPA, 0x10000);

	if (r == -EOPNOTSUPP)
		SKIP(return, "this backend does not run vCPUs yet");
	ASSERT_EQ(0, r) TH_LOG("guest: %s", strerror(-r));
}

FIXTURE_TEARDOWN(reset)
{
	mv_guest_destroy(&self->g);
}

TEST_F(reset, state)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0xfff0ULL, regs.rip);
	EXPECT_EQ(0x2ULL, regs.rflags);
	EXPECT_EQ(0ULL, regs.rax);
	EXPECT_EQ(0ULL, regs.rsp);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(0xf000, sregs.cs.selector);
	EXPECT_EQ(0xffff0000ULL, sregs.cs.base);
	EXPECT_EQ(0xffffU, sregs.cs.limit);
	EXPECT_EQ(1, sregs.cs.present);
	EXPECT_EQ(0ULL, sregs.ds.base);
	EXPECT_EQ(0xffffU, sregs.ds.limit);
	EXPECT_EQ(0x60000010ULL, sregs.cr0);
	EXPECT_EQ(0ULL, sregs.cr3);
	EXPECT_EQ(0ULL, sregs.cr4);
	EXPECT_EQ(0ULL, sregs.efer);
	EXPECT_EQ(0xffffU, sregs.idt.limit);
	EXPECT_EQ(0xfee00900ULL, sregs.apic_base);
}

/* From the reset vector: OUT, IN completed by the VMM, OUT, HLT. */
TEST_F(reset, real_mode_code)
{
	static const unsigned char code[] = {
		0xb0, 0x42,		/* mov al, 0x42 */
		0xe6, 0x10,		/* out 0x10, al */
		0xe4, 0x11,		/* in al, 0x11 */
		0xe6, 0x12,		/* out 0x12, al */
		0xf4,			/* hlt */
		0xeb, 0xfd,		/* jmp hlt */
	};
	struct kvm_regs regs;

	mv_guest_put(&self->g, 0xfffffff0ULL, code, sizeof(code));

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x10, 1);
	EXPECT_EQ(0x42U, mv_guest_io_data(&self->g));
	/* as in KVM: RIP is at the OUT until the VMM completes it */
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0xfff2ULL, regs.rip);

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_IN, 0x11, 1);
	mv_guest_set_io_data(&self->g, 0x99);

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x12, 1);
	EXPECT_EQ(0x99U, mv_guest_io_data(&self->g));

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0xfff9ULL, regs.rip);
	EXPECT_EQ(0x99ULL, regs.rax);
}

/* Port I/O of every size, through DX; IN merges into AX/EAX as x86 does. */
TEST_F(run, pio_sizes)
{
	static const unsigned char code[] = {
		0xba, 0x00, 0x05,			/* mov dx, 0x500 */
		0x66, 0xb8, 0x78, 0x56, 0x34, 0x12,	/* mov eax, 0x12345678 */
		0x66, 0xef,				/* out dx, eax */
		0xef,					/* out dx, ax */
		0xee,					/* out dx, al */
		0x66, 0xed,				/* in eax, dx */
		0x66, 0xef,				/* out dx, eax */
		0xed,					/* in ax, dx */
		0x66, 0xef,				/* out dx, eax */
		0xec,					/* in al, dx */
		0x66, 0xef,				/* out dx, eax */
		0xf4,					/* hlt */
	};
	struct kvm_regs regs;

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x500, 4);
	EXPECT_EQ(0x12345678U, mv_guest_io_data(&self->g));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x500, 2);
	EXPECT_EQ(0x5678U, mv_guest_io_data(&self->g));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x500, 1);
	EXPECT_EQ(0x78U, mv_guest_io_data(&self->g));

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_IN, 0x500, 4);
	mv_guest_set_io_data(&self->g, 0xdeadbeef);
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x500, 4);
	EXPECT_EQ(0xdeadbeefU, mv_guest_io_data(&self->g));

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_IN, 0x500, 2);
	mv_guest_set_io_data(&self->g, 0x1111);
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(0xdead1111U, mv_guest_io_data(&self->g));

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_IN, 0x500, 1);
	mv_guest_set_io_data(&self->g, 0x22);
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(0xdead1122U, mv_guest_io_data(&self->g));

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x1000ULL + sizeof(code), regs.rip);
	EXPECT_EQ(0x500ULL, regs.rdx);
}

/* The guest reads what the VMM wrote, and the VMM sees what it wrote. */
TEST_F(run, guest_memory)
{
	static const unsigned char code[] = {
		0xa0, 0x00, 0x20,			/* mov al, [0x2000] */
		0xe6, 0x10,				/* out 0x10, al */
		0xc6, 0x06, 0x01, 0x20, 0x77,		/* mov byte [0x2001], 0x77 */
		0xc7, 0x06, 0x00, 0x90, 0x34, 0x12,	/* mov word [0x9000], 0x1234 */
		0xf4,					/* hlt */
	};

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	self->g.mem[0x2000] = 0x5a;
	real_mode_at(_metadata, &self->g, 0x1000);

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x10, 1);
	EXPECT_EQ(0x5aU, mv_guest_io_data(&self->g));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);
	EXPECT_EQ(0x77, self->g.mem[0x2001]);
	EXPECT_EQ(0x34, self->g.mem[0x9000]);
	EXPECT_EQ(0x12, self->g.mem[0x9001]);
	EXPECT_EQ(0x5a, self->g.mem[0x2000]);
}

/* An exception with no IDT to deliver it: triple fault. */
TEST_F(run, triple_fault_is_shutdown)
{
	static const unsigned char code[] = { 0xcc };	/* int3 */
	struct kvm_sregs sregs;

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.idt.limit = 0;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_SREGS, &sregs));

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(KVM_EXIT_SHUTDOWN, self->g.run->exit_reason);
}

static void on_alarm(int sig)
{
}

/* A guest that never exits on its own is stopped by a signal. */
TEST_F(run, signal_interrupts_guest)
{
	static const unsigned char code[] = { 0xeb, 0xfe };	/* jmp $ */
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	struct kvm_regs regs;

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);
	/*
	 * Interrupts on in the guest: Bochs takes "jmp $" with IF clear for
	 * a dead CPU and stops delivering the host's interrupts.
	 */
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	regs.rflags |= 0x200;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));

	EXPECT_EQ(-EINTR, mv_guest_run(&self->g));
	EXPECT_EQ(KVM_EXIT_INTR, self->g.run->exit_reason);
}

TEST_F(run, immediate_exit)
{
	static const unsigned char code[] = { 0xf4 };	/* hlt */
	struct kvm_regs regs;

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);

	self->g.run->immediate_exit = 1;
	EXPECT_EQ(-EINTR, mv_guest_run(&self->g));
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x1000ULL, regs.rip);
	self->g.run->immediate_exit = 0;
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);
}

/*
 * Many exits while the vCPU thread is moved from CPU to CPU: the guest's
 * counter in EBX, copied out through EAX, never skips or repeats.
 */
TEST_F_TIMEOUT(run, exits_across_cpus, 600)
{
	static const unsigned char code[] = {
		0x66, 0x43,		/* inc ebx */
		0x66, 0x89, 0xd8,	/* mov eax, ebx */
		0x66, 0xe7, 0x10,	/* out 0x10, eax */
		0xeb, 0xf6,		/* jmp back to inc */
	};
	const char *env = getenv("MV_EXITS");
	int n = env ? atoi(env) : 20000;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);

	for (int i = 1; i <= n; i++) {
		if (ncpus > 1 && !(i % 64)) {
			CPU_ZERO(&set);
			CPU_SET((i / 64) % ncpus, &set);
			ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
		}
		ASSERT_EQ(0, mv_guest_run(&self->g));
		ASSERT_EQ(KVM_EXIT_IO, self->g.run->exit_reason);
		ASSERT_EQ((__u32)i, mv_guest_io_data(&self->g));
	}
}

/*
 * A slot that goes is gone for the guest at once: no stale translation
 * survives (KVM gives KVM_EXIT_MMIO; minivisor, until its emulator lands,
 * KVM_EXIT_INTERNAL_ERROR), and a new slot there is seen afresh.
 */
TEST_F(run, slot_delete_and_readd)
{
	static const unsigned char code[] = {
		0xb8, 0x00, 0x20,	/* mov ax, 0x2000 */
		0x8e, 0xd8,		/* mov ds, ax */
		0xa0, 0x00, 0x00,	/* mov al, [0] */
		0xe6, 0x10,		/* out 0x10, al */
		0xf4,			/* hlt */
	};
	struct kvm_userspace_memory_region data = {
		.slot = 1, .guest_phys_addr = 0x20000, .memory_size = 0x1000,
	};
	unsigned char *page1, *page2;
	struct kvm_regs regs;

	page1 = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	page2 = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page1);
	ASSERT_NE(MAP_FAILED, page2);
	page1[0] = 0x11;
	page2[0] = 0x22;
	data.userspace_addr = (unsigned long)page1;
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION, &data));
	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x10, 1);
	EXPECT_EQ(0x11U, mv_guest_io_data(&self->g));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	ASSERT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);

	/* delete: the read must leave the guest */
	data.memory_size = 0;
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION, &data));
	real_mode_at(_metadata, &self->g, 0x1000);
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_TRUE(self->g.run->exit_reason == KVM_EXIT_MMIO ||
		    self->g.run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		TH_LOG("exit %u", self->g.run->exit_reason);
	/* let a pending MMIO read complete (KVM does it on the next KVM_RUN) */
	self->g.run->immediate_exit = 1;
	EXPECT_EQ(-EINTR, mv_guest_run(&self->g));
	self->g.run->immediate_exit = 0;

	/* the same place, other memory */
	data.memory_size = 0x1000;
	data.userspace_addr = (unsigned long)page2;
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION, &data));
	real_mode_at(_metadata, &self->g, 0x1000);
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x10, 1);
	EXPECT_EQ(0x22U, mv_guest_io_data(&self->g));
	/* as in KVM, the OUT is skipped when the VMM completes it */
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x1008ULL, regs.rip);
	munmap(page1, 0x1000);
	munmap(page2, 0x1000);
}

static struct kvm_cpuid2 *cpuid_alloc(int nent)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
				      nent * sizeof(c->entries[0]));

	if (c)
		c->nent = nent;
	return c;
}

/* The guest's CPUID answers from the table KVM_SET_CPUID2 set. */
TEST_F(run, cpuid_from_table)
{
	static const unsigned char code[] = {
		0x66, 0xb8, 0x01, 0x00, 0x56, 0x4d,	/* mov eax, 0x4d560001 */
		0x66, 0x31, 0xc9,			/* xor ecx, ecx */
		0x0f, 0xa2,				/* cpuid */
		0x66, 0xe7, 0x10,			/* out 0x10, eax */
		0x66, 0x89, 0xd8,			/* mov eax, ebx */
		0x66, 0xe7, 0x10,			/* out 0x10, eax */
		0x66, 0x89, 0xc8,			/* mov eax, ecx */
		0x66, 0xe7, 0x10,			/* out 0x10, eax */
		0x66, 0x89, 0xd0,			/* mov eax, edx */
		0x66, 0xe7, 0x10,			/* out 0x10, eax */
		0x66, 0xb8, 0x02, 0x00, 0x56, 0x4d,	/* mov eax, 0x4d560002 */
		0x0f, 0xa2,				/* cpuid */
		0x66, 0x09, 0xd8,			/* or eax, ebx */
		0x66, 0x09, 0xc8,			/* or eax, ecx */
		0x66, 0x09, 0xd0,			/* or eax, edx */
		0x66, 0xe7, 0x10,			/* out 0x10, eax */
		0xf4,					/* hlt */
	};
	static const __u32 want[] = {
		0x11111111, 0x22222222, 0x33333333, 0x44444444, 0,
	};
	struct kvm_cpuid2 *c = cpuid_alloc(2), *back = cpuid_alloc(4);
	unsigned int i;

	ASSERT_NE(NULL, c);
	ASSERT_NE(NULL, back);
	c->entries[0] = (struct kvm_cpuid_entry2) {
		.function = 0x4d560001, .eax = 0x11111111, .ebx = 0x22222222,
		.ecx = 0x33333333, .edx = 0x44444444,
	};
	c->entries[1] = (struct kvm_cpuid_entry2) {
		.function = 0x4d560003, .index = 1,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x55,
	};
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_CPUID2, c));

	/* the table reads back as it was set */
	back->nent = 1;
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_GET_CPUID2, back));
	EXPECT_EQ(E2BIG, errno);
	back->nent = 4;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_CPUID2, back));
	EXPECT_EQ(2U, back->nent);
	EXPECT_EQ(0x4d560003U, back->entries[1].function);
	EXPECT_EQ(1U, back->entries[1].index);
	EXPECT_EQ(0x55U, back->entries[1].eax);

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		ASSERT_EQ(0, mv_guest_run(&self->g));
		EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x10, 4);
		EXPECT_EQ(want[i], mv_guest_io_data(&self->g));
	}
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);

	/* once the vCPU ran, only the same table is accepted */
	EXPECT_EQ(0, ioctl(self->g.vcpu, KVM_SET_CPUID2, c));
	c->entries[0].eax = 0;
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_SET_CPUID2, c));
	EXPECT_EQ(EINVAL, errno);
	free(c);
	free(back);
}

TEST_F(run, cpuid_table_errors)
{
	struct kvm_cpuid2 *c = cpuid_alloc(257);
	int found = 0;

	ASSERT_NE(NULL, c);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_SET_CPUID2, c));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_SET_CPUID2, NULL));
	EXPECT_EQ(EFAULT, errno);

	c->nent = 0;
	EXPECT_EQ(-1, ioctl(self->g.dev, KVM_GET_SUPPORTED_CPUID, c));
	EXPECT_EQ(E2BIG, errno);
	c->nent = 256;
	ASSERT_EQ(0, ioctl(self->g.dev, KVM_GET_SUPPORTED_CPUID, c));
	ASSERT_GT(c->nent, 2U);
	for (unsigned int i = 0; i < c->nent; i++) {
		/* leaf 1 always has the FPU, and reports family 6 or later */
		if (c->entries[i].function == 1) {
			EXPECT_NE(0U, c->entries[i].edx & 1);
			EXPECT_GE((c->entries[i].eax >> 8) & 0xf, 6U);
			found++;
		}
		if (c->entries[i].function == 0) {
			EXPECT_GE(c->entries[i].eax, 1U);
			found++;
		}
	}
	EXPECT_EQ(2, found);
	free(c);
}

#define MSR_STAR	0xc0000081
#define MSR_LSTAR	0xc0000082
#define MSR_KGSBASE	0xc0000102

struct msrs4 {
	struct kvm_msrs h;
	struct kvm_msr_entry e[4];
};

TEST_F(run, msr_index_list)
{
	struct {
		struct kvm_msr_list h;
		__u32 idx[256];
	} list = { .h.nmsrs = 1 };
	int star = 0, lstar = 0;

	/* too small: E2BIG, and the count needed comes back */
	EXPECT_EQ(-1, ioctl(self->g.dev, KVM_GET_MSR_INDEX_LIST, &list));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_GE(list.h.nmsrs, 10U);
	list.h.nmsrs = 256;
	ASSERT_EQ(0, ioctl(self->g.dev, KVM_GET_MSR_INDEX_LIST, &list));
	for (unsigned int i = 0; i < list.h.nmsrs; i++) {
		star += list.h.indices[i] == MSR_STAR;
		lstar += list.h.indices[i] == MSR_LSTAR;
	}
	EXPECT_EQ(1, star);
	EXPECT_EQ(1, lstar);
}

TEST_F(run, msrs_round_trip)
{
	struct msrs4 m = { .h.nmsrs = 3 };

	m.e[0] = (struct kvm_msr_entry) { .index = MSR_STAR,
					  .data = 0x0023001000000000ULL };
	m.e[1] = (struct kvm_msr_entry) { .index = MSR_LSTAR,
					  .data = 0xffffffff81000000ULL };
	m.e[2] = (struct kvm_msr_entry) { .index = MSR_KGSBASE,
					  .data = 0x12345000 };
	EXPECT_EQ(3, ioctl(self->g.vcpu, KVM_SET_MSRS, &m));
	m.e[0].data = 0;
	m.e[1].data = 0;
	m.e[2].data = 0;
	EXPECT_EQ(3, ioctl(self->g.vcpu, KVM_GET_MSRS, &m));
	EXPECT_EQ(0x0023001000000000ULL, m.e[0].data);
	EXPECT_EQ(0xffffffff81000000ULL, m.e[1].data);
	EXPECT_EQ(0x12345000ULL, m.e[2].data);

	/* KVM's count: the MSRs done before the first refused */
	/* not canonical, with 48 or with 57 address bits */
	m.e[1].data = 0x0100000000000000ULL;
	EXPECT_EQ(1, ioctl(self->g.vcpu, KVM_SET_MSRS, &m));
	m.h.nmsrs = 1;
	m.e[0].index = 0x12345;			/* no such MSR */
	EXPECT_EQ(0, ioctl(self->g.vcpu, KVM_GET_MSRS, &m));
	m.h.nmsrs = 1000;
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_GET_MSRS, &m));
	EXPECT_EQ(E2BIG, errno);
}

/* WRMSR and RDMSR from the guest, seen by the VMM; an unknown MSR: #GP. */
TEST_F(run, guest_msrs)
{
	static const unsigned char code[] = {
		0x66, 0xb9, 0x81, 0x00, 0x00, 0xc0,	/* mov ecx, STAR */
		0x66, 0xb8, 0x78, 0x56, 0x34, 0x12,	/* mov eax, 0x12345678 */
		0x66, 0xba, 0xef, 0xbe, 0xad, 0xde,	/* mov edx, 0xdeadbeef */
		0x0f, 0x30,				/* wrmsr */
		0x66, 0x31, 0xc0,			/* xor eax, eax */
		0x66, 0x31, 0xd2,			/* xor edx, edx */
		0x0f, 0x32,				/* rdmsr */
		0x66, 0xe7, 0x10,			/* out 0x10, eax */
		0x66, 0x89, 0xd0,			/* mov eax, edx */
		0x66, 0xe7, 0x10,			/* out 0x10, eax */
		0x66, 0xb9, 0x45, 0x23, 0x01, 0x00,	/* mov ecx, 0x12345 */
		0x0f, 0x32,				/* rdmsr: #GP */
		0xf4,					/* hlt */
	};
	struct msrs4 m = { .h.nmsrs = 1, .e[0].index = MSR_STAR };
	struct kvm_sregs sregs;

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);
	/* no IDT: the #GP becomes a triple fault the test can see */
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.idt.limit = 0;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_SREGS, &sregs));

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x10, 4);
	EXPECT_EQ(0x12345678U, mv_guest_io_data(&self->g));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x10, 4);
	EXPECT_EQ(0xdeadbeefU, mv_guest_io_data(&self->g));
	EXPECT_EQ(1, ioctl(self->g.vcpu, KVM_GET_MSRS, &m));
	EXPECT_EQ(0xdeadbeef12345678ULL, m.e[0].data);

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(KVM_EXIT_SHUTDOWN, self->g.run->exit_reason);
}

struct spinner {
	struct mv_guest *g;
	int r;
	int started;
};

static void *spin_thread(void *arg)
{
	struct spinner *sp = arg;

	__atomic_store_n(&sp->started, 1, __ATOMIC_RELEASE);
	sp->r = mv_guest_run(sp->g);
	return NULL;
}

/*
 * The VM fd goes while another thread is in KVM_RUN: the VM lives on until
 * that thread leaves, then goes with the vCPU fd.
 */
TEST_F(run, vm_close_while_running)
{
	static const unsigned char code[] = { 0xeb, 0xfe };	/* jmp $ */
	struct sigaction sa = { .sa_handler = on_alarm };
	struct spinner sp = { .g = &self->g };
	struct kvm_regs regs;
	pthread_t t;

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	regs.rflags |= 0x200;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	ASSERT_EQ(0, pthread_create(&t, NULL, spin_thread, &sp));
	while (!__atomic_load_n(&sp.started, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(100000);
	ASSERT_EQ(0, close(self->g.vm));
	self->g.vm = -1;
	ASSERT_EQ(0, close(self->g.dev));
	self->g.dev = -1;
	usleep(100000);
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-EINTR, sp.r);
	EXPECT_EQ(KVM_EXIT_INTR, self->g.run->exit_reason);
	/* the vCPU still answers; closing it frees the VM */
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x1000ULL, regs.rip);
}

/* A flat 64-bit segment of @type, for KVM_SET_SREGS. */
static struct kvm_segment seg64(__u16 sel, __u8 type, bool code)
{
	return (struct kvm_segment) {
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .l = code, .db = !code, .g = 1,
	};
}

/*
 * Straight into 64-bit mode with KVM_SET_SREGS: 4-level guest page tables
 * (one 2 MiB page) built by the VMM, a 64-bit store the VMM then reads,
 * and EFER.LMA as the CPU set it.
 */
TEST_F(run, long_mode)
{
	static const unsigned char code[] = {
		0x48, 0xb8, 0x88, 0x77, 0x66, 0x55,	/* movabs rax, */
		0x44, 0x33, 0x22, 0x11,			/*   0x1122334455667788 */
		0x48, 0x89, 0x04, 0x25,			/* mov [0x8000], rax */
		0x00, 0x80, 0x00, 0x00,
		0x48, 0xc1, 0xe8, 0x20,			/* shr rax, 32 */
		0xe7, 0x10,				/* out 0x10, eax */
		0xf4,					/* hlt */
	};
	__u64 pml4e = 0x3000 | 3, pdpte = 0x4000 | 3, pde = 0x83, stored;
	struct kvm_cpuid2 *cpuid = cpuid_alloc(256);
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	/* long mode needs CPUID.80000001:EDX.LM in the guest's CPUID (KVM) */
	ASSERT_NE(NULL, cpuid);
	ASSERT_EQ(0, ioctl(self->g.dev, KVM_GET_SUPPORTED_CPUID, cpuid));
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_CPUID2, cpuid));
	free(cpuid);

	mv_guest_put(&self->g, 0x2000, &pml4e, sizeof(pml4e));
	mv_guest_put(&self->g, 0x3000, &pdpte, sizeof(pdpte));
	mv_guest_put(&self->g, 0x4000, &pde, sizeof(pde));
	mv_guest_put(&self->g, 0x1000, code, sizeof(code));

	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs = seg64(0x8, 0xb, true);
	sregs.ds = seg64(0x10, 0x3, false);
	sregs.es = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.tr = (struct kvm_segment) {
		.selector = 0x18, .limit = 0x67, .type = 0xb, .present = 1,
	};
	sregs.cr0 = 0x80000011;		/* PG, ET, PE */
	sregs.cr3 = 0x2000;
	sregs.cr4 = 0x20;		/* PAE */
	sregs.efer = 0x500;		/* LMA, LME */
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rsp = 0x9000;
	regs.rflags = 2;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));

	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_IO(&self->g, KVM_EXIT_IO_OUT, 0x10, 4);
	EXPECT_EQ(0x11223344U, mv_guest_io_data(&self->g));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	ASSERT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);

	memcpy(&stored, self->g.mem + 0x8000, sizeof(stored));
	EXPECT_EQ(0x1122334455667788ULL, stored);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x1000ULL + sizeof(code), regs.rip);
	EXPECT_EQ(0x11223344ULL, regs.rax);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(0x500ULL, sregs.efer & 0x500);
	EXPECT_EQ(1, sregs.cs.l);
	/* the CPU marked the page used and written in the guest's tables */
	memcpy(&pde, self->g.mem + 0x4000, sizeof(pde));
	EXPECT_EQ(0x60ULL, pde & 0x60);
}

TEST_F(run, vcpu_ioctl_errors)
{
	struct kvm_sregs sregs;
	int fd;

	EXPECT_EQ(-1, ioctl(self->g.vm, KVM_CREATE_VCPU, 0));
	EXPECT_EQ(EEXIST, errno);
	fd = ioctl(self->g.vm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	EXPECT_GT(fd, 1);
	EXPECT_EQ(-1, ioctl(self->g.vm, KVM_CREATE_VCPU, fd));
	EXPECT_EQ(EINVAL, errno);
	fd = ioctl(self->g.vm, KVM_CREATE_VCPU, 1);
	EXPECT_GE(fd, 0);
	close(fd);

	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_RUN, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_GET_REGS, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_SET_SREGS, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* KVM answers EINVAL to an ioctl a vCPU fd does not know */
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_CREATE_VM, 0));
	EXPECT_EQ(EINVAL, errno);

	/* CR0.PG without CR0.PE is no state a CPU can be in */
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.cr0 |= 0x80000000;
	sregs.cr0 &= ~1ULL;
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_SET_SREGS, &sregs));
	EXPECT_EQ(EINVAL, errno);
}

TEST_HARNESS_MAIN
