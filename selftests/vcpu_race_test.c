// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_CREATE_VCPU's errnos and its race with the rest of the VM.
 *
 * An id at or above KVM_CAP_MAX_VCPU_ID is EINVAL, an id in use EEXIST,
 * one vCPU more than KVM_CAP_MAX_VCPUS EINVAL (as in KVM); a VM holds
 * KVM's 1024 vCPUs with ids up to 4095, and a VM-wide flush and a run
 * reach the last one.
 *
 * The race: while one thread creates vCPUs, another guesses the number the
 * next vCPU fd will get (the lowest free one) and runs the vCPU through it
 * as soon as it exists, then closes it, and a third makes VM-wide flushes
 * (a memory slot added and deleted, guest memory dropped with
 * MADV_DONTNEED) as long as the other two are at work.  A vCPU whose fd
 * exists before the VM lists it runs unseen by those flushes; the kernel
 * log (KASAN, lockdep) judges the rest.  Written against <linux/kvm.h>
 * only.
 *
 * Bounded everywhere: the guesser stops once creation is over and its
 * guess is still no file, and the flusher stops with it (or after MAX_FLUSHES, or
 * FLUSH_SECONDS), not when the guesser has found every vCPU -- it may miss
 * some, and on KVM, where each slot change waits for an SRCU grace
 * period, the 100,000 flushes that then followed outlasted the harness's
 * timeout in both emulators.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "kselftest_harness.h"
#include "lib/mv_util.h"

#define NR_RACE_VCPUS	8
#define RUNS_PER_VCPU	4
#define CODE_GPA	0xffff0000ULL	/* the reset vector's 64 KiB */
#define CODE_SIZE	0x10000ULL
#define DATA_GPA	0x100000ULL
#define DATA_SIZE	0x10000ULL
#define MAX_FLUSHES	100000
#define FLUSH_SECONDS	10

/*
 * At the reset vector (CS base 0xffff0000, IP 0xfff0), real mode:
 *	1: mov $0x400, %cx; 2: loop 2b; hlt; jmp 1b
 */
static const unsigned char reset_code[] = {
	0xb9, 0x00, 0x04, 0xe2, 0xfe, 0xf4, 0xeb, 0xf8,
};

struct race {
	int dev, vm;
	size_t run_size;
	unsigned char *code, *data;
	atomic_int creating;		/* the creator has not finished */
	atomic_int guessing;		/* the guesser has not finished */
	atomic_int found;		/* vCPUs the guesser ran */
	atomic_int hlts;		/* KVM_EXIT_HLT seen */
	atomic_int bad_exits;
	atomic_int flushes;
	int fds[NR_RACE_VCPUS];
	int create_errno;
};

static void *creator(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < NR_RACE_VCPUS; i++) {
		r->fds[i] = ioctl(r->vm, KVM_CREATE_VCPU, i);
		if (r->fds[i] < 0) {
			r->create_errno = errno;
			break;
		}
		usleep(2000);
	}
	atomic_store(&r->creating, 0);
	return NULL;
}

/*
 * Runs the vCPU behind @fd a few times: 1; 0 when @fd is no open file
 * (yet), -1 when it is another file.
 */
static int run_guessed(struct race *r, int fd)
{
	struct kvm_run *run;

	if (ioctl(fd, KVM_RUN, 0) && errno != EINTR)
		return errno == EBADF ? 0 : -1;
	run = mmap(NULL, r->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (run == MAP_FAILED) {
		atomic_fetch_add(&r->bad_exits, 1);
		return 1;
	}
	for (int i = 0; i < RUNS_PER_VCPU; i++) {
		if (run->exit_reason == KVM_EXIT_HLT)
			atomic_fetch_add(&r->hlts, 1);
		else
			atomic_fetch_add(&r->bad_exits, 1);
		if (ioctl(fd, KVM_RUN, 0))
			atomic_fetch_add(&r->bad_exits, 1);
	}
	munmap(run, r->run_size);
	return 1;
}

/*
 * The next vCPU fd will be the lowest free number (no other thread opens
 * files meanwhile): KVM_RUN on it until the vCPU is there, from the
 * moment its fd is.
 */
static void *guesser(void *arg)
{
	struct race *r = arg;

	while (atomic_load(&r->found) < NR_RACE_VCPUS) {
		int fd = dup(0), ran;
		bool creating;

		if (fd < 0)
			break;
		close(fd);
		do {
			creating = atomic_load(&r->creating);
			ran = run_guessed(r, fd);
		} while (!ran && creating);
		if (!ran)
			break;		/* creation is over: nothing comes */
		if (ran > 0) {
			atomic_fetch_add(&r->found, 1);
			close(fd);
		}
	}
	atomic_store(&r->guessing, 0);
	return NULL;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void *flusher(void *arg)
{
	struct race *r = arg;
	struct kvm_userspace_memory_region slot = {
		.slot = 1, .guest_phys_addr = DATA_GPA,
		.userspace_addr = (uintptr_t)r->data,
	};
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* at least once, however late this thread starts */
	do {
		slot.memory_size = DATA_SIZE;
		if (ioctl(r->vm, KVM_SET_USER_MEMORY_REGION, &slot))
			break;
		madvise(r->code + CODE_SIZE / 2, CODE_SIZE / 4, MADV_DONTNEED);
		madvise(r->data, DATA_SIZE, MADV_DONTNEED);
		slot.memory_size = 0;
		if (ioctl(r->vm, KVM_SET_USER_MEMORY_REGION, &slot))
			break;
		atomic_fetch_add(&r->flushes, 1);
	} while ((atomic_load(&r->creating) || atomic_load(&r->guessing)) &&
		 atomic_load(&r->flushes) < MAX_FLUSHES &&
		 seconds_since(&t0) < FLUSH_SECONDS);
	return NULL;
}

TEST(create_errnos)
{
	int dev = mv_open_dev(), vm, max_id, max, fd0;

	ASSERT_LE(0, dev) TH_LOG("%s: %s", mv_dev_path(), strerror(errno));
	vm = ioctl(dev, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, mv_vm_choose_mmu(vm));
	max_id = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	max = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		SKIP(return, "no vCPUs on this backend");
	ASSERT_LT(0, max_id);

	EXPECT_EQ(-1, ioctl(vm, KVM_CREATE_VCPU, max_id));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm, KVM_CREATE_VCPU, -1UL));
	EXPECT_EQ(EINVAL, errno);
	fd0 = ioctl(vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, fd0) TH_LOG("vCPU 0: %s", strerror(errno));
	EXPECT_EQ(-1, ioctl(vm, KVM_CREATE_VCPU, 0));
	EXPECT_EQ(EEXIST, errno);
	/* a closed vCPU fd does not free its id: the vCPU lives with the VM */
	close(fd0);
	EXPECT_EQ(-1, ioctl(vm, KVM_CREATE_VCPU, 0));
	EXPECT_EQ(EEXIST, errno);

	close(vm);
	close(dev);
}

/*
 * A VM with every vCPU it may have (KVM_CAP_MAX_VCPUS: 1024 on minivisor
 * and on KVM), their ids spread over the whole id space up to the last
 * one (KVM_CAP_MAX_VCPU_ID - 1): one more is EINVAL, for a fresh id as for
 * one in use.  Then a VM-wide flush (a slot added and deleted) reaches
 * them all, and the last vCPU created runs the reset code to its HLT.
 */
TEST(full_vm)
{
	struct kvm_userspace_memory_region code = {
		.slot = 0, .guest_phys_addr = CODE_GPA,
		.memory_size = CODE_SIZE,
	};
	struct kvm_userspace_memory_region data = {
		.slot = 1, .guest_phys_addr = DATA_GPA,
		.memory_size = DATA_SIZE,
	};
	int dev = mv_open_dev(), vm, max_id, max, n, last = -1;
	unsigned char *mem;
	struct kvm_run *run;
	struct rlimit rl;
	size_t run_size;
	int *fds;

	ASSERT_LE(0, dev) TH_LOG("%s: %s", mv_dev_path(), strerror(errno));
	vm = ioctl(dev, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, mv_vm_choose_mmu(vm));
	max_id = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	max = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		SKIP(return, "no vCPUs on this backend");
	/*
	 * x86 KVM's limits: 1024 (CONFIG_KVM_MAX_NR_VCPUS's default; 4096
	 * under MAXSMP), ids up to four times that; the recommended number
	 * is the host's online CPUs
	 */
	EXPECT_TRUE(max == 1024 || max == 4096) TH_LOG("%d vCPUs", max);
	EXPECT_EQ(4 * max, max_id);
	n = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	EXPECT_EQ(sysconf(_SC_NPROCESSORS_ONLN) < max ?
		  sysconf(_SC_NPROCESSORS_ONLN) : max, n);

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max < (rlim_t)max + 64)
		SKIP(return, "RLIMIT_NOFILE's hard limit %lu < %d",
		     (unsigned long)rl.rlim_max, max + 64);
	rl.rlim_cur = max + 64;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	fds = calloc(max, sizeof(*fds));
	ASSERT_NE(NULL, fds);

	for (n = 0; n < max; n++) {
		/* 0, then every fourth id, and the very last id last */
		unsigned long id = n == max - 1 ? max_id - 1 :
			(unsigned long)n * (max_id / max);

		fds[n] = ioctl(vm, KVM_CREATE_VCPU, id);
		ASSERT_LE(0, fds[n])
			TH_LOG("vCPU %d (id %lu): %s", n, id, strerror(errno));
	}
	EXPECT_EQ(-1, ioctl(vm, KVM_CREATE_VCPU, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm, KVM_CREATE_VCPU, max_id - 1));
	EXPECT_TRUE(errno == EINVAL || errno == EEXIST);

	mem = mmap(NULL, CODE_SIZE + DATA_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memcpy(mem + 0xfff0, reset_code, sizeof(reset_code));
	code.userspace_addr = (uintptr_t)mem;
	data.userspace_addr = (uintptr_t)mem + CODE_SIZE;
	ASSERT_EQ(0, ioctl(vm, KVM_SET_USER_MEMORY_REGION, &code));
	/* added and deleted: every vCPU is sent the flush */
	ASSERT_EQ(0, ioctl(vm, KVM_SET_USER_MEMORY_REGION, &data));
	data.memory_size = 0;
	ASSERT_EQ(0, ioctl(vm, KVM_SET_USER_MEMORY_REGION, &data));

	run_size = ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	last = fds[max - 1];
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, last, 0);
	ASSERT_NE(MAP_FAILED, run);
	ASSERT_EQ(0, ioctl(last, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_HLT, run->exit_reason);
	munmap(run, run_size);

	for (n = 0; n < max; n++)
		close(fds[n]);
	free(fds);
	close(vm);
	munmap(mem, CODE_SIZE + DATA_SIZE);
	close(dev);
}

TEST(create_run_flush_race)
{
	struct kvm_userspace_memory_region code = {
		.slot = 0, .guest_phys_addr = CODE_GPA,
		.memory_size = CODE_SIZE,
	};
	pthread_t t[3];
	struct race *r;
	int extra = 0;

	r = calloc(1, sizeof(*r));
	ASSERT_NE(NULL, r);
	for (int i = 0; i < NR_RACE_VCPUS; i++)
		r->fds[i] = -1;
	r->dev = mv_open_dev();
	ASSERT_LE(0, r->dev) TH_LOG("%s: %s", mv_dev_path(), strerror(errno));
	r->vm = ioctl(r->dev, KVM_CREATE_VM, 0);
	ASSERT_LE(0, r->vm);
	ASSERT_EQ(0, mv_vm_choose_mmu(r->vm));
	if (ioctl(r->vm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS) <
	    NR_RACE_VCPUS)
		SKIP(return, "fewer than %d vCPUs", NR_RACE_VCPUS);
	r->run_size = ioctl(r->dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	r->code = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r->data = mmap(NULL, DATA_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r->code);
	ASSERT_NE(MAP_FAILED, r->data);
	memcpy(r->code + 0xfff0, reset_code, sizeof(reset_code));
	code.userspace_addr = (uintptr_t)r->code;
	ASSERT_EQ(0, ioctl(r->vm, KVM_SET_USER_MEMORY_REGION, &code));
	atomic_store(&r->creating, 1);
	atomic_store(&r->guessing, 1);

	ASSERT_EQ(0, pthread_create(&t[1], NULL, guesser, r));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, flusher, r));
	ASSERT_EQ(0, pthread_create(&t[0], NULL, creator, r));
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);

	EXPECT_EQ(0, r->create_errno) TH_LOG("%s", strerror(r->create_errno));
	EXPECT_EQ(0, atomic_load(&r->bad_exits));
	TH_LOG("vCPUs found by fd guessing: %d, HLT exits %d, flushes %d",
	       atomic_load(&r->found), atomic_load(&r->hlts),
	       atomic_load(&r->flushes));
	/*
	 * The vCPUs the guesser missed still have their fds (numbers the
	 * guesser closed may have been given again: each open one once).
	 */
	for (int i = 0; i < NR_RACE_VCPUS; i++) {
		bool again = false;

		for (int j = i + 1; j < NR_RACE_VCPUS; j++)
			again |= r->fds[j] == r->fds[i];
		if (again || r->fds[i] < 0 || fcntl(r->fds[i], F_GETFD) < 0)
			continue;
		EXPECT_EQ(1, run_guessed(r, r->fds[i]));
		close(r->fds[i]);
		extra++;
	}
	/* each vCPU ran once, stopping at its HLT each time */
	EXPECT_EQ(NR_RACE_VCPUS, atomic_load(&r->found) + extra);
	EXPECT_EQ(0, atomic_load(&r->bad_exits));
	EXPECT_EQ(NR_RACE_VCPUS * RUNS_PER_VCPU, atomic_load(&r->hlts));
	EXPECT_LT(0, atomic_load(&r->flushes));
	close(r->vm);
	close(r->dev);
	munmap(r->code, CODE_SIZE);
	munmap(r->data, DATA_SIZE);
	free(r);
}

TEST_HARNESS_MAIN
