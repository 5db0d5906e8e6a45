// SPDX-License-Identifier: GPL-2.0
/*
 * What the VMX backend must get right beyond the vendor-neutral run tests:
 * a VMCS that follows its vCPU thread from CPU to CPU under load, a guest
 * state VM entry refuses, an access beyond every slot, and EPT entries
 * zapped when a slot goes.  The tests that are not VMX-specific run on any
 * backend.  Written against <linux/kvm.h> and <linux/minivisor.h> only.
 */
#include <pthread.h>
#include <sched.h>

#include "kselftest_harness.h"
#include "lib/vm.h"

/* VM-entry failure, invalid guest state (Intel SDM vol. 3, appendix C) */
#define VMX_ENTRY_FAIL_GUEST_STATE	0x80000021U

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

/* The backend behind the device, or 0 when it cannot say. */
static __u32 backend(struct mv_guest *g)
{
	struct minivisor_info info;

	if (ioctl(g->dev, MV_GET_INFO, &info))
		return 0;
	return info.backend;
}

FIXTURE(vmx) {
	struct mv_guest g;
};

/* Guest memory: the first 64 KiB; code is started in real mode there. */
FIXTURE_SETUP(vmx)
{
	int r = mv_guest_create(&self->g, 0, 0x10000);

	if (r == -EOPNOTSUPP)
		SKIP(return, "this backend does not run vCPUs yet");
	ASSERT_EQ(0, r) TH_LOG("guest: %s", strerror(-r));
}

FIXTURE_TEARDOWN(vmx)
{
	mv_guest_destroy(&self->g);
}

struct load {
	int stop;
};

/* Keeps the CPUs busy, so that the vCPU thread is preempted too. */
static void *load_thread(void *arg)
{
	struct load *l = arg;

	while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED))
		;
	return NULL;
}

/* Values the guest never touches: any change is the host's doing. */
static const __u64 kept[] = {
	0x5151515151515151ULL, 0xd1d1d1d1d1d1d1d1ULL, 0xb0b0b0b0b0b0b0b0ULL,
	0x0808080808080808ULL, 0x0909090909090909ULL, 0x1010101010101010ULL,
	0x1111111111111111ULL, 0x1212121212121212ULL, 0x1313131313131313ULL,
	0x1414141414141414ULL, 0x1515151515151515ULL,
};

static void check_kept(struct __test_metadata *_metadata,
		       const struct kvm_regs *r)
{
	const __u64 got[] = {
		r->rsi, r->rdi, r->rbp, r->r8, r->r9, r->r10, r->r11,
		r->r12, r->r13, r->r14, r->r15,
	};

	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kept); i++)
		EXPECT_EQ(kept[i], got[i]) TH_LOG("register %u", i);
}

/* What a failing exit of vmcs_follows_the_thread looked like. */
static void log_exit(struct __test_metadata *_metadata, struct mv_guest *g,
		     int i, int r, __u32 stored)
{
	struct kvm_regs regs = { 0 };

	ioctl(g->vcpu, KVM_GET_REGS, &regs);
	TH_LOG("exit %d on CPU %d: KVM_RUN %d, exit reason %u, port %#x, data %u, stored %u",
	       i, sched_getcpu(), r, g->run->exit_reason, g->run->io.port,
	       mv_guest_io_data(g), stored);
	TH_LOG("rip %#llx rbx %#llx rax %#llx rsp %#llx rflags %#llx",
	       regs.rip, regs.rbx, regs.rax, regs.rsp, regs.rflags);
}

/*
 * Exits while the vCPU thread is moved between the CPUs every few exits,
 * another thread spinning: the counter the guest keeps in EBX, stores to
 * memory and sends out through EAX never skips or repeats, and the
 * registers it does not touch keep their 64-bit values.  $MV_MIGRATIONS
 * exits (100,000 by default).
 */
TEST_F_TIMEOUT(vmx, vmcs_follows_the_thread, 1800)
{
	static const unsigned char code[] = {
		0x66, 0x43,			/* inc ebx */
		0x66, 0x89, 0x1e, 0x00, 0x20,	/* mov [0x2000], ebx */
		0x66, 0x89, 0xd8,		/* mov eax, ebx */
		0x66, 0xe7, 0x10,		/* out 0x10, eax */
		0xeb, 0xf1,			/* jmp back to inc */
	};
	const char *env = getenv("MV_MIGRATIONS");
	int n = env ? atoi(env) : 100000;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct load load = { 0 };
	struct kvm_regs regs;
	pthread_t t;
	cpu_set_t set;
	__u32 stored;
	int r;

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	regs.rsi = kept[0];
	regs.rdi = kept[1];
	regs.rbp = kept[2];
	regs.r8 = kept[3];
	regs.r9 = kept[4];
	regs.r10 = kept[5];
	regs.r11 = kept[6];
	regs.r12 = kept[7];
	regs.r13 = kept[8];
	regs.r14 = kept[9];
	regs.r15 = kept[10];
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));
	if (ncpus < 2)
		TH_LOG("one CPU: the VMCS cannot move");
	ASSERT_EQ(0, pthread_create(&t, NULL, load_thread, &load));

	for (int i = 1; i <= n; i++) {
		if (ncpus > 1 && !(i % 8)) {
			CPU_ZERO(&set);
			CPU_SET((i / 8) % ncpus, &set);
			ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
		}
		r = mv_guest_run(&self->g);
		memcpy(&stored, self->g.mem + 0x2000, sizeof(stored));
		if (r || self->g.run->exit_reason != KVM_EXIT_IO ||
		    mv_guest_io_data(&self->g) != (__u32)i || stored != (__u32)i)
			/* where it went wrong, before the assertion says what */
			log_exit(_metadata, &self->g, i, r, stored);
		ASSERT_EQ(0, r);
		ASSERT_EQ(KVM_EXIT_IO, self->g.run->exit_reason);
		ASSERT_EQ((__u32)i, mv_guest_io_data(&self->g));
		ASSERT_EQ((__u32)i, stored);
		if (!(i % 256) || i == n) {
			ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
			ASSERT_EQ((__u64)i, regs.rbx) TH_LOG("exit %d", i);
			ASSERT_EQ(0x100aULL, regs.rip) TH_LOG("exit %d", i);
			check_kept(_metadata, &regs);
		}
	}
	__atomic_store_n(&load.stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(t, NULL));
}

/*
 * A state VM entry refuses (TR unusable) gives KVM_EXIT_FAIL_ENTRY with
 * the exit reason of the failed entry; the vCPU runs once it is fixed.
 */
TEST_F(vmx, invalid_guest_state_fails_entry)
{
	static const unsigned char code[] = { 0xf4 };	/* hlt */
	struct kvm_sregs sregs;

	if (backend(&self->g) != MV_BACKEND_VMX)
		SKIP(return, "VMX only");
	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.tr.present = 0;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_SREGS, &sregs));

	ASSERT_EQ(0, mv_guest_run(&self->g));
	ASSERT_EQ(KVM_EXIT_FAIL_ENTRY, self->g.run->exit_reason);
	EXPECT_EQ(VMX_ENTRY_FAIL_GUEST_STATE,
		  self->g.run->fail_entry.hardware_entry_failure_reason);

	sregs.tr.present = 1;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_SREGS, &sregs));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);
}

/* A read beyond every slot is MMIO for the VMM, completed by it. */
TEST_F(vmx, access_beyond_slots_is_mmio)
{
	static const unsigned char code[] = {
		0xb8, 0x00, 0x10,	/* mov ax, 0x1000 */
		0x8e, 0xd8,		/* mov ds, ax */
		0xa0, 0x00, 0x00,	/* mov al, [0]: 0x10000 */
		0xe6, 0x10,		/* out 0x10, al */
		0xf4,			/* hlt */
	};
	struct kvm_run *run = self->g.run;

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);

	ASSERT_EQ(0, mv_guest_run(&self->g));
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
	    run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
		SKIP(return, "no MMIO emulation in this build yet");
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason);
	EXPECT_EQ(0x10000ULL, run->mmio.phys_addr);
	EXPECT_EQ(1U, run->mmio.len);
	EXPECT_EQ(0, run->mmio.is_write);
	run->mmio.data[0] = 0x5a;
	ASSERT_EQ(0, mv_guest_run(&self->g));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(0x5aU, mv_guest_io_data(&self->g));
}

/*
 * A slot that goes takes its EPT entries with it: a guest write after the
 * slot was deleted and added again with other memory lands in the new
 * memory, not in the old.
 */
TEST_F(vmx, slot_delete_zaps_mappings)
{
	static const unsigned char code[] = {
		0xb8, 0x00, 0x20,	/* mov ax, 0x2000 */
		0x8e, 0xd8,		/* mov ds, ax */
		0x88, 0x0e, 0x00, 0x00,	/* mov [0], cl: 0x20000 */
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
	data.userspace_addr = (unsigned long)page1;
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION, &data));
	mv_guest_put(&self->g, 0x1000, code, sizeof(code));

	real_mode_at(_metadata, &self->g, 0x1000);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	regs.rcx = 0x77;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	ASSERT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);
	EXPECT_EQ(0x77, page1[0]);

	data.memory_size = 0;
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION, &data));
	data.memory_size = 0x1000;
	data.userspace_addr = (unsigned long)page2;
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION, &data));

	real_mode_at(_metadata, &self->g, 0x1000);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	regs.rcx = 0x88;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	ASSERT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);
	EXPECT_EQ(0x88, page2[0]);
	EXPECT_EQ(0x77, page1[0]);
	munmap(page1, 0x1000);
	munmap(page2, 0x1000);
}

static int set_online(int cpu, int online)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online",
		 cpu);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write(fd, online ? "1" : "0", 1) == 1 ? 0 : -errno;
	close(fd);
	return r;
}

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/*
 * The CPU a vCPU last ran on goes offline (taking VMX off there, with
 * what was loaded on it) and comes back: the vCPU runs on, on either.
 */
TEST_F(vmx, vcpu_outlives_its_cpu)
{
	static const unsigned char code[] = {
		0x66, 0x43,		/* inc ebx */
		0x66, 0x89, 0xd8,	/* mov eax, ebx */
		0x66, 0xe7, 0x10,	/* out 0x10, eax */
		0xeb, 0xf6,		/* jmp back to inc */
	};
	int r;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	if (access("/sys/devices/system/cpu/cpu1/online", W_OK))
		SKIP(return, "CPU 1 cannot be hot-unplugged");
	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	real_mode_at(_metadata, &self->g, 0x1000);

	ASSERT_EQ(0, pin_to(1));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	ASSERT_EQ(1U, mv_guest_io_data(&self->g));
	ASSERT_EQ(0, pin_to(0));
	ASSERT_EQ(0, set_online(1, 0));
	r = mv_guest_run(&self->g);
	EXPECT_EQ(0, set_online(1, 1));
	ASSERT_EQ(0, r);
	ASSERT_EQ(KVM_EXIT_IO, self->g.run->exit_reason);
	ASSERT_EQ(2U, mv_guest_io_data(&self->g));
	ASSERT_EQ(0, pin_to(1));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	ASSERT_EQ(3U, mv_guest_io_data(&self->g));
	ASSERT_EQ(0, pin_to(0));
}

TEST_HARNESS_MAIN
