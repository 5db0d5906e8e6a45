// SPDX-License-Identifier: GPL-2.0
/*
 * The workload of testing/fault_test.sh: one guest, built step by step
 * (device, VM, MMU mode, two slots, vCPU, its mmap, a stats fd, registers,
 * CPUID, MSRs, KVM_RUN of 32-bit paged code that writes 32 pages, an
 * munmap of guest memory and a second run, a slot deleted, the fds
 * closed), with kernel allocations made to fail:
 *
 *   fault_helper [-m tdp|shadow] nth [MAX]
 *	every step in turn, with the 1st, 2nd, ... fault site the step meets
 *	failing (/proc/thread-self/fail-nth), until the step meets no more
 *	sites (or MAX, default 400)
 *   fault_helper [-m tdp|shadow] random ROUNDS
 *	ROUNDS guests with /proc/self/make-it-fail set around every step
 *	(the script arms failslab and fail_page_alloc with a probability)
 *
 * A step that fails must fail with an errno the step may return (ENOMEM,
 * and a few more); done again without faults it must then succeed, and
 * the guest must still run to its end with the right result: a failed
 * allocation may not leave a half-made object or a corrupted one behind.
 * A step that succeeds must have done its work (the guest's result says).
 * TAP: one result per mode (and per nth/random), a line per problem.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/mman.h>

#include "kselftest.h"
#include "lib/mv_util.h"

#define SLOT0_GPA	0x0ULL
#define SLOT0_SIZE	(64 * 4096UL)
#define SLOT1_GPA	0x100000ULL
#define SLOT1_SIZE	(16 * 4096UL)
#define CODE_GPA	0x3000
#define PD_GPA		0x1000
#define PT_GPA		0x2000

enum step {
	S_OPEN, S_VM, S_MMU, S_SLOT0, S_SLOT1, S_VCPU, S_MMAP, S_STATS,
	S_SREGS, S_REGS, S_CPUID, S_MSRS, S_RUN, S_ZAP, S_ZAP_RUN, S_DELETE,
	S_CLOSE_VCPU, S_CLOSE_VM, NR_STEPS
};

static const char *const step_name[NR_STEPS] = {
	"open", "KVM_CREATE_VM", "MV_CAP_MMU_MODE", "slot 0", "slot 1",
	"KVM_CREATE_VCPU", "mmap vCPU", "KVM_GET_STATS_FD", "KVM_SET_SREGS",
	"KVM_SET_REGS", "KVM_SET_CPUID2", "KVM_SET_MSRS", "KVM_RUN",
	"munmap", "KVM_RUN again", "slot 1 deleted", "close vCPU", "close VM",
};

struct guest {
	int dev, vm, vcpu, stats;
	struct kvm_run *run;
	size_t run_size;
	unsigned char *mem0, *mem1;
};

static const char *mmu;
static struct kvm_cpuid2 *cpuid;
static int nth_fd = -1, fail_fd = -1;
static unsigned int problems, injected, failed_steps;

static void problem(const char *fmt, ...) __printf(1, 2);

static void problem(const char *fmt, ...)
{
	va_list ap;

	problems++;
	if (problems > 30)
		return;
	va_start(ap, fmt);
	printf("# PROBLEM: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

static void on_alarm(int sig)
{
}

/* The errnos a step may fail with under allocation failures */
static bool allowed(enum step s, int e)
{
	switch (e) {
	case ENOMEM:
		return true;
	case ENFILE:
	case EMFILE:
		return s == S_OPEN || s == S_VM || s == S_VCPU ||
		       s == S_STATS;
	case EFAULT:
		/* guest memory that could not be faulted in */
		return s == S_RUN || s == S_ZAP_RUN;
	default:
		return false;
	}
}

static void put_code(struct guest *g)
{
	static const unsigned char code[] = {
		0xbf, 0x00, 0x00, 0x01, 0x00,	/* mov edi, 0x10000 */
		0xb9, 0x10, 0x00, 0x00, 0x00,	/* mov ecx, 16 */
		0x89, 0x3f,			/* 1: mov [edi], edi */
		0x81, 0xc7, 0x00, 0x10, 0x00, 0x00, /* add edi, 0x1000 */
		0x49,				/* dec ecx */
		0x75, 0xf5,			/* jnz 1b */
		0xbf, 0x00, 0x00, 0x10, 0x00,	/* mov edi, 0x100000 */
		0xb9, 0x10, 0x00, 0x00, 0x00,	/* mov ecx, 16 */
		0x89, 0x3f,			/* 2: mov [edi], edi */
		0x81, 0xc7, 0x00, 0x10, 0x00, 0x00, /* add edi, 0x1000 */
		0x49,				/* dec ecx */
		0x75, 0xf5,			/* jnz 2b */
		0xb0, 0x42,			/* mov al, 0x42 */
		0xe6, 0x10,			/* out 0x10, al */
		0xf4,				/* 3: hlt */
		0xeb, 0xfd,			/* jmp 3b */
	};
	__u32 *pd = (__u32 *)(g->mem0 + PD_GPA);
	__u32 *pt = (__u32 *)(g->mem0 + PT_GPA);
	unsigned int i;

	memset(g->mem0, 0, SLOT0_SIZE);
	memset(g->mem1, 0, SLOT1_SIZE);
	pd[0] = PT_GPA | 7;
	for (i = 0; i < SLOT0_SIZE / 4096; i++)
		pt[i] = (SLOT0_GPA + i * 4096) | 7;
	for (i = 0; i < SLOT1_SIZE / 4096; i++)
		pt[SLOT1_GPA / 4096 + i] = (SLOT1_GPA + i * 4096) | 7;
	memcpy(g->mem0 + CODE_GPA, code, sizeof(code));
}

static void flat(struct kvm_segment *s, int code)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->selector = code ? 8 : 16;
	s->type = code ? 0xb : 3;
	s->present = 1;
	s->s = 1;
	s->db = 1;
	s->g = 1;
}

/* Runs the guest to its OUT; 0, -errno, or 1 for a wrong exit */
static int run_guest(struct guest *g)
{
	unsigned int i;

	for (i = 0; i < 20; i++) {
		alarm(20);
		if (ioctl(g->vcpu, KVM_RUN, 0)) {
			int e = errno;

			alarm(0);
			return -e;
		}
		alarm(0);
		if (g->run->exit_reason == KVM_EXIT_IO &&
		    g->run->io.port == 0x10)
			return *((unsigned char *)g->run +
				 g->run->io.data_offset) == 0x42 ? 0 : 1;
		if (g->run->exit_reason != KVM_EXIT_INTR)
			return 1;
	}
	return 1;
}

static bool check_memory(struct guest *g)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (*(__u32 *)(g->mem0 + 0x10000 + i * 4096) !=
		    0x10000 + i * 4096)
			return false;
		if (*(__u32 *)(g->mem1 + i * 4096) != SLOT1_GPA + i * 4096)
			return false;
	}
	return true;
}

static int restart(struct guest *g)
{
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2 };

	return ioctl(g->vcpu, KVM_SET_REGS, &regs) ? -errno : 0;
}

/* One step; 0, -errno, or 1 for a step that did not do its work */
static int do_step(struct guest *g, enum step s)
{
	struct kvm_userspace_memory_region reg = { 0 };
	struct kvm_sregs sr;
	struct kvm_regs regs;
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[2];
	} msrs = { 0 };
	char buf[256];
	int r;

	switch (s) {
	case S_OPEN:
		g->dev = mv_open_dev();
		return g->dev < 0 ? -errno : 0;
	case S_VM:
		g->vm = ioctl(g->dev, KVM_CREATE_VM, 0);
		return g->vm < 0 ? -errno : 0;
	case S_MMU:
		return mmu && mv_vm_choose_mmu(g->vm) ? -errno : 0;
	case S_SLOT0:
	case S_SLOT1:
		reg.slot = s == S_SLOT1;
		reg.guest_phys_addr = s == S_SLOT1 ? SLOT1_GPA : SLOT0_GPA;
		reg.memory_size = s == S_SLOT1 ? SLOT1_SIZE : SLOT0_SIZE;
		reg.userspace_addr = (unsigned long)(s == S_SLOT1 ? g->mem1 :
						     g->mem0);
		return ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &reg) ?
			-errno : 0;
	case S_VCPU:
		g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
		return g->vcpu < 0 ? -errno : 0;
	case S_MMAP:
		g->run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, g->vcpu, 0);
		if (g->run == MAP_FAILED) {
			g->run = NULL;
			return -errno;
		}
		return 0;
	case S_STATS:
		g->stats = ioctl(g->vm, KVM_GET_STATS_FD, 0);
		if (g->stats < 0)
			return -errno;
		r = pread(g->stats, buf, sizeof(buf), 0);
		return r < 0 ? -errno : r != sizeof(buf);
	case S_SREGS:
		if (ioctl(g->vcpu, KVM_GET_SREGS, &sr))
			return -errno;
		flat(&sr.cs, 1);
		flat(&sr.ds, 0);
		flat(&sr.es, 0);
		flat(&sr.ss, 0);
		flat(&sr.fs, 0);
		flat(&sr.gs, 0);
		sr.cr0 = 0x80000011;
		sr.cr3 = PD_GPA;
		sr.cr4 = 0;
		sr.efer = 0;
		return ioctl(g->vcpu, KVM_SET_SREGS, &sr) ? -errno : 0;
	case S_REGS:
		memset(&regs, 0, sizeof(regs));
		regs.rip = CODE_GPA;
		regs.rflags = 2;
		return ioctl(g->vcpu, KVM_SET_REGS, &regs) ? -errno : 0;
	case S_CPUID:
		return ioctl(g->vcpu, KVM_SET_CPUID2, cpuid) ? -errno : 0;
	case S_MSRS:
		msrs.h.nmsrs = 2;
		msrs.e[0].index = 0x174;	/* SYSENTER_CS */
		msrs.e[0].data = 8;
		msrs.e[1].index = 0xc0000082;	/* LSTAR */
		msrs.e[1].data = 0xffffffff81000000ULL;
		r = ioctl(g->vcpu, KVM_SET_MSRS, &msrs);
		return r < 0 ? -errno : r != 2;
	case S_RUN:
		r = run_guest(g);
		return r ? r : !check_memory(g);
	case S_ZAP:
		/* the invalidation paths (never with faults: mm's own) */
		madvise(g->mem1, SLOT1_SIZE / 2, MADV_DONTNEED);
		if (mmap(g->mem1 + SLOT1_SIZE / 2, SLOT1_SIZE / 2,
			 PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		    MAP_FAILED)
			return -errno;
		return 0;
	case S_ZAP_RUN:
		/* faults again, where the guest's pages went */
		r = restart(g);
		if (r)
			return r;
		r = run_guest(g);
		return r ? r : !check_memory(g);
	case S_DELETE:
		reg.slot = 1;
		return ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &reg) ?
			-errno : 0;
	case S_CLOSE_VCPU:
		munmap(g->run, g->run_size);
		g->run = NULL;
		close(g->vcpu);
		g->vcpu = -1;
		return 0;
	case S_CLOSE_VM:
		close(g->stats);
		close(g->vm);
		close(g->dev);
		g->stats = -1;
		g->vm = -1;
		g->dev = -1;
		return 0;
	default:
		return 1;
	}
}

static void teardown(struct guest *g)
{
	if (g->run)
		munmap(g->run, g->run_size);
	if (g->vcpu >= 0)
		close(g->vcpu);
	if (g->stats >= 0)
		close(g->stats);
	if (g->vm >= 0)
		close(g->vm);
	if (g->dev >= 0)
		close(g->dev);
	munmap(g->mem0, SLOT0_SIZE);
	munmap(g->mem1, SLOT1_SIZE);
}

static int setup(struct guest *g, size_t run_size)
{
	memset(g, 0, sizeof(*g));
	g->dev = -1;
	g->vm = -1;
	g->vcpu = -1;
	g->stats = -1;
	g->run_size = run_size;
	g->mem0 = mmap(NULL, SLOT0_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g->mem1 = mmap(NULL, SLOT1_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem0 == MAP_FAILED || g->mem1 == MAP_FAILED)
		return -1;
	put_code(g);
	return 0;
}

/* Arms the faults for the next step: fail-nth @nth, or make-it-fail */
static void arm(unsigned int nth, bool random)
{
	char v[16];
	int n;

	if (nth) {
		n = snprintf(v, sizeof(v), "%u", nth);
		if (pwrite(nth_fd, v, n, 0) != n)
			problem("cannot write fail-nth: %s", strerror(errno));
	}
	if (random && pwrite(fail_fd, "1", 1, 0) != 1)
		problem("cannot write make-it-fail: %s", strerror(errno));
}

/* Disarms; returns whether a fault was injected (fail-nth mode) */
static bool disarm(unsigned int nth, bool random)
{
	char v[16] = "";
	bool hit = false;

	if (random && pwrite(fail_fd, "0", 1, 0) != 1)
		problem("cannot write make-it-fail: %s", strerror(errno));
	if (nth) {
		if (pread(nth_fd, v, sizeof(v) - 1, 0) < 0)
			problem("cannot read fail-nth: %s", strerror(errno));
		hit = atoi(v) == 0;
		if (pwrite(nth_fd, "0", 1, 0) != 1)
			problem("cannot write fail-nth: %s", strerror(errno));
	}
	return hit;
}

/*
 * One guest; step @faulty with faults (fail-nth @nth, or make-it-fail
 * for every step when @random).  Returns whether a fault was injected.
 */
static bool scenario(size_t run_size, int faulty, unsigned int nth,
		     bool random)
{
	struct guest g;
	bool hit = false;
	int s, r;

	if (setup(&g, run_size)) {
		problem("no memory for the guest");
		return false;
	}
	for (s = 0; s < NR_STEPS; s++) {
		/*
		 * Only the kernel's work for minivisor fails: not the mm
		 * calls of S_ZAP, nor a page fault of this process (which
		 * would wake the OOM killer): S_MMAP's page is touched after.
		 */
		bool armed = (s == faulty || random) && s != S_ZAP;

		if (armed)
			arm(s == faulty ? nth : 0, random);
		r = do_step(&g, s);
		if (armed && disarm(s == faulty ? nth : 0, random))
			hit = true;
		if (r == 0) {
			if (s == S_MMAP)	/* the page in, now */
				(void)__atomic_load_n(&g.run->exit_reason, __ATOMIC_RELAXED);
			continue;
		}
		if (r > 0) {
			problem("%s%s (fail-nth %u): did not do its work (exit reason %u)",
				step_name[s], armed ? " under faults" : "",
				s == faulty ? nth : 0,
				g.run ? g.run->exit_reason : 0);
			break;
		}
		if (!armed || !allowed(s, -r)) {
			problem("%s (fail-nth %u): errno %d (%s)%s", step_name[s],
				s == faulty ? nth : 0, -r, strerror(-r),
				armed ? "" : " without faults");
			break;
		}
		failed_steps++;
		/* the same step again, now without faults: it must work */
		if (s == S_ZAP_RUN || s == S_RUN) {
			r = restart(&g);
			if (!r)
				r = run_guest(&g);
			if (!r)
				r = !check_memory(&g);
		} else if (s == S_MMAP || s == S_OPEN || s == S_VM ||
			   s == S_VCPU || s == S_STATS || s == S_SLOT0 ||
			   s == S_SLOT1 || s == S_DELETE || s == S_MMU ||
			   s == S_SREGS || s == S_REGS || s == S_CPUID ||
			   s == S_MSRS) {
			if (s == S_STATS && g.stats >= 0) {
				close(g.stats);
				g.stats = -1;
			}
			r = do_step(&g, s);
		}
		if (r) {
			problem("%s: failed (errno %d) under faults, then %d without",
				step_name[s], -r, r);
			break;
		}
	}
	teardown(&g);
	return hit;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	unsigned int n, max = 400, rounds, s, sites = 0;
	size_t run_size;
	int dev, i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGALRM, &sa, NULL);
	if (argc > 2 && !strcmp(argv[1], "-m")) {
		mmu = argv[2];
		setenv("MV_MMU", mmu, 1);
		i = 3;
	}
	if (argc <= i) {
		fprintf(stderr, "usage: %s [-m tdp|shadow] nth [MAX] | random ROUNDS\n",
			argv[0]);
		return 2;
	}
	printf("TAP version 13\n1..1\n");
	dev = mv_open_dev();
	if (dev < 0) {
		printf("ok 1 # SKIP %s: %s\n", mv_dev_path(), strerror(errno));
		return 0;
	}
	run_size = ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	cpuid = calloc(1, sizeof(*cpuid) + 100 * sizeof(cpuid->entries[0]));
	cpuid->nent = 100;
	if (ioctl(dev, KVM_GET_SUPPORTED_CPUID, cpuid)) {
		printf("not ok 1 KVM_GET_SUPPORTED_CPUID: %s\n", strerror(errno));
		return 1;
	}
	close(dev);
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	fail_fd = open("/proc/self/make-it-fail", O_RDWR);
	if (nth_fd < 0 || fail_fd < 0) {
		printf("ok 1 # SKIP no fault injection in this kernel\n");
		return 0;
	}

	/* without faults first: the workload itself must work */
	scenario(run_size, -1, 0, false);
	if (problems) {
		printf("not ok 1 %s mmu=%s # the guest fails without faults\n",
		       argv[i], mmu ? mmu : "default");
		return 1;
	}
	if (!strcmp(argv[i], "nth")) {
		if (argc > i + 1)
			max = strtoul(argv[i + 1], NULL, 0);
		for (s = 0; s < NR_STEPS && problems < 30; s++) {
			if (s == S_ZAP)
				continue;
			for (n = 1; n <= max; n++) {
				if (!scenario(run_size, s, n, false))
					break;
				injected++;
			}
			sites += n - 1;
			printf("# %s: %u fault sites\n", step_name[s], n - 1);
		}
	} else if (!strcmp(argv[i], "random") && argc > i + 1) {
		rounds = strtoul(argv[i + 1], NULL, 0);
		for (n = 0; n < rounds && problems < 30; n++)
			scenario(run_size, -1, 0, true);
	} else {
		fprintf(stderr, "%s: unknown mode %s\n", argv[0], argv[i]);
		return 2;
	}
	printf("# %u fault sites, %u injected, %u steps failed, %u problems\n",
	       sites, injected, failed_steps, problems);
	printf("%s 1 %s mmu=%s\n", problems ? "not ok" : "ok", argv[i],
	       mmu ? mmu : "default");
	return problems ? 1 : 0;
}
