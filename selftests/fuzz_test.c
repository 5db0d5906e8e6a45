// SPDX-License-Identifier: GPL-2.0
/*
 * An ioctl fuzzer for the KVM API of $MV_DEV (minivisor, or KVM on
 * /dev/kvm): threads that open the device, make VMs, vCPUs, memory slots
 * and stats fds, close them in any order, call every ioctl with random and
 * hostile arguments (sizes, counts, NULL, kernel, read-only and
 * edge-of-page pointers), change overlapping and huge slots, and munmap,
 * madvise(MADV_DONTNEED) and mprotect guest memory while vCPUs run guest
 * code: port I/O, MMIO, CPUID and REP string instructions ("faithful"),
 * or random bytes in random register, segment, CR and EFER states
 * ("random").  Every KVM_RUN is bounded by a timer signal of its thread
 * (and sometimes by immediate_exit).
 *
 *   fuzz_test [-s SEED] [-S SEEDS] [-n OPS] [-t THREADS] [-m tdp|shadow]
 *             [-g faithful|random|both] [-w SECONDS] [-v]
 *
 * Runs SEEDS seeds from SEED (default: from the time), each in a
 * child process of its own: OPS operations shared by THREADS threads.
 * Without -S or -n, $MV_FUZZ_SEEDS and $MV_FUZZ_OPS give them (default 1
 * and 2000, 10 to 60 s in the QEMU machine; testing/init.sh sets less for
 * Bochs).  -v logs each KVM_SET_SREGS/SET_REGS state and KVM_RUN (the op
 * log: what a hang was running).  On QEMU's TCG a state TCG cannot run
 * (EFER.LME with CR4.PAE and CR0.PG clear: efer_lme_test.c) is narrowed;
 * in Bochs ($MV_EMULATOR=bochs) the guests keep RFLAGS.IF set.
 * -m selects the VMs' MMU mode (minivisor's MV_CAP_MMU_MODE, as MV_MMU
 * does; the default keeps MV_MMU's, or the module's).  TAP: one result
 * per seed, which fails when an ioctl returns an errno outside the set
 * KVM uses for it (or a result out of its range), when a KVM_RUN stays in
 * the kernel for -w seconds (default 30) despite its timer, or when the
 * child dies.  The seed is printed; with -t 1 a seed repeats the same
 * operations, with more threads the same operations per thread (their
 * interleaving is the scheduler's).
 */
#include <cpuid.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest.h"
#include "lib/mv_util.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define MAX_THREADS	8
#define MAX_OBJS	48
#define MAX_VMS		4
#define MAX_VCPUS	10
#define VM_PAGES	128		/* each VM's host buffer */
#define MODEL_SLOTS	16
#define SCRATCH_SIZE	(64 * 1024)
#define PAGE		4096UL

/* ------------------------------------------------------------ settings */

static unsigned int opt_ops = 2000;
static unsigned int opt_threads = 3;
static unsigned int opt_watchdog = 30;
static int opt_guest = 2;		/* 0 faithful, 1 random, 2 both */
static int opt_verbose;
static const char *opt_mmu;
static bool on_kvm;			/* $MV_DEV is not minivisor */
static bool on_tcg;			/* the CPU is QEMU's TCG */
static bool on_bochs;			/* $MV_EMULATOR is bochs */

/* ---------------------------------------------------------- the PRNG */

struct rng {
	__u64 s;
};

static __u64 rnd(struct rng *r)
{
	__u64 z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rn(struct rng *r, unsigned int n)
{
	return n ? rnd(r) % n : 0;
}

/* One in @n */
static bool one_in(struct rng *r, unsigned int n)
{
	return rn(r, n) == 0;
}

/* Numbers that find edges: 0, 1, -1, powers of two and their neighbours */
static __u64 edgy(struct rng *r)
{
	unsigned int b = rn(r, 64);

	switch (rn(r, 8)) {
	case 0:
		return 0;
	case 1:
		return ~0ULL;
	case 2:
		return 1ULL << b;
	case 3:
		return (1ULL << b) - 1;
	case 4:
		return (1ULL << b) + 1;
	case 5:
		return rn(r, 256);
	default:
		return rnd(r);
	}
}

/* ------------------------------------------------------ results, errnos */

static atomic_uint ops_done;
static atomic_uint nr_ioctls;
static atomic_uint nr_runs;
static atomic_uint nr_exits[32];
static atomic_uint nr_errnos[128];
static atomic_uint nr_run_errnos[128];	/* of KVM_RUN alone */
static atomic_uint nr_failures;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static __u64 cur_seed;

/* errno bits: one for each errno below 127, bit 127 for the rest */
static inline int ebit(int e)
{
	return e < 127 ? e : 127;
}

#define errset		unsigned __int128
#define E(x)		((errset)1 << ebit(x))
/* the resource errors any call that allocates may meet */
#define E_ALLOC		(E(ENOMEM) | E(EMFILE) | E(ENFILE))
#define E_ARGS		(E(EFAULT) | E(EINVAL) | E(E2BIG))

static void failure(const char *fmt, ...) __printf(1, 2);

static void failure(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&nr_failures, 1) >= 20)
		return;
	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	printf("# FAIL (seed %llu): ", cur_seed);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	pthread_mutex_unlock(&out_lock);
}

/* The op log (-v): one line per state change and KVM_RUN, to the console */
static void vlog(const char *fmt, ...) __printf(1, 2);

static void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!opt_verbose)
		return;
	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	printf("# op: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	pthread_mutex_unlock(&out_lock);
}

/*
 * ioctl(@fd, @cmd, @arg), counted; a failure must be one of @allowed
 * (errno bits), a success in [@lo, @hi].  Returns the result, errno kept.
 */
static long xioctl(const char *name, int fd, unsigned long cmd, void *arg,
		   errset allowed, long lo, long hi)
{
	long r;
	int e;

	atomic_fetch_add(&nr_ioctls, 1);
	r = ioctl(fd, cmd, arg);
	e = errno;
	if (r == -1) {
		if (e > 0)
			atomic_fetch_add(&nr_errnos[ebit(e)], 1);
		if (e <= 0 || !(allowed & E(e)))
			failure("%s returned errno %d (%s), not one KVM uses for it",
				name, e, strerror(e));
	} else if (r < lo || r > hi) {
		failure("%s returned %ld, outside [%ld, %ld]", name, r, lo, hi);
	}
	errno = e;
	return r;
}

/* --------------------------------------------------------- the objects */

enum { OBJ_DEV, OBJ_VM, OBJ_VCPU, OBJ_STATS, NR_KINDS };

/* A VM as userspace sees it: its memory and slots; vm->lock guards them */
struct vm_model {
	pthread_mutex_t lock;
	int refs;			/* guarded by tab_lock */
	unsigned char *buf;		/* VM_PAGES pages */
	unsigned char page_state[VM_PAGES];	/* PS_* */
	struct {
		bool used;
		__u32 id;
		__u64 gpa, size;
		unsigned long uaddr;
	} slot[MODEL_SLOTS];
	int nr_vcpus;			/* guarded by tab_lock */
};

enum { PS_RW, PS_RO, PS_NONE, PS_UNMAPPED };

struct obj {
	bool used, dead;
	int kind;
	int fd;
	int users;
	struct vm_model *vm;		/* VM and vCPU */
	struct kvm_run *run;		/* vCPU */
	size_t run_size;
};

/* tab_lock guards the table, the objects' fields and vm_model.refs */
static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct obj objs[MAX_OBJS];
static size_t mmap_size;

static void vm_put_locked(struct vm_model *vm)
{
	unsigned int k;

	if (--vm->refs)
		return;
	for (k = 0; k < VM_PAGES; k++)
		if (vm->page_state[k] != PS_UNMAPPED)
			munmap(vm->buf + k * PAGE, PAGE);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

/* A live object of @kind, held (obj_put() it), or -1 */
static int obj_get(struct rng *r, int kind)
{
	int i, n = 0, pick = -1;

	pthread_mutex_lock(&tab_lock);
	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i].used && !objs[i].dead && objs[i].kind == kind &&
		    one_in(r, ++n))
			pick = i;
	if (pick >= 0)
		objs[pick].users++;
	pthread_mutex_unlock(&tab_lock);
	return pick;
}

static void obj_free_locked(struct obj *o)
{
	if (o->run)
		munmap(o->run, o->run_size);
	close(o->fd);
	if (o->vm) {
		if (o->kind == OBJ_VCPU)
			o->vm->nr_vcpus--;
		vm_put_locked(o->vm);
	}
	memset(o, 0, sizeof(*o));
}

static void obj_put(int i)
{
	pthread_mutex_lock(&tab_lock);
	if (!--objs[i].users && objs[i].dead)
		obj_free_locked(&objs[i]);
	pthread_mutex_unlock(&tab_lock);
}

/* Enters a new fd in the table (closes it when the table is full) */
static int obj_add(int kind, int fd, struct vm_model *vm, struct kvm_run *run)
{
	int i;

	pthread_mutex_lock(&tab_lock);
	for (i = 0; i < MAX_OBJS; i++)
		if (!objs[i].used)
			break;
	if (i == MAX_OBJS) {
		pthread_mutex_unlock(&tab_lock);
		if (run)
			munmap(run, mmap_size);
		close(fd);
		return -1;
	}
	objs[i] = (struct obj) { .used = true, .kind = kind, .fd = fd,
				 .vm = vm, .run = run, .run_size = mmap_size };
	if (vm) {
		vm->refs++;
		if (kind == OBJ_VCPU)
			vm->nr_vcpus++;
	}
	pthread_mutex_unlock(&tab_lock);
	return i;
}

static int count_kind(int kind)
{
	int i, n = 0;

	pthread_mutex_lock(&tab_lock);
	for (i = 0; i < MAX_OBJS; i++)
		n += objs[i].used && !objs[i].dead && objs[i].kind == kind;
	pthread_mutex_unlock(&tab_lock);
	return n;
}

/* ------------------------------------------------- per-thread pointers */

struct thread {
	struct rng r;
	int index;
	pid_t tid;
	timer_t timer;
	unsigned char *scratch;		/* SCRATCH_SIZE, read-write */
	unsigned char *edge;		/* a page, then a PROT_NONE page */
};

static unsigned char *ro_page;		/* read-only, shared */
static atomic_llong run_since[MAX_THREADS];	/* ns, 0 out of KVM_RUN */

/*
 * A pointer for an argument of @size bytes: mostly the thread's scratch
 * buffer, else NULL, a kernel address, a read-only page, or @size bytes
 * that end past a page into a PROT_NONE one.
 */
static void *hostile_ptr(struct thread *t, size_t size, bool mostly_good)
{
	struct rng *r = &t->r;
	size_t k;

	if (mostly_good && !one_in(r, 8))
		return t->scratch;
	switch (rn(r, 7)) {
	case 0:
		return NULL;
	case 1:
		return (void *)(uintptr_t)(0xffffffff81000000ULL +
					   rn(r, 0x1000000));
	case 2:
		return ro_page;
	case 3:
		return (void *)(uintptr_t)(1 + rn(r, PAGE));
	case 4:
		/* straddles into the PROT_NONE page */
		if (size > PAGE)
			return t->edge + rn(r, PAGE);
		k = size > 1 ? 1 + rn(r, size - 1) : 0;
		return t->edge + PAGE - size + k;
	case 5:
		/* the struct ends exactly at the guard */
		return t->edge + PAGE - (size < PAGE ? size : PAGE);
	default:
		return t->scratch + rn(r, 64);
	}
}

static void fill_random(struct rng *r, void *p, size_t n)
{
	unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = rnd(r);
}

/* ---------------------------------------------------- the operations */

static void op_dev_open(struct thread *t)
{
	int fd;

	if (count_kind(OBJ_DEV) >= 3)
		return;
	fd = mv_open_dev();
	if (fd < 0) {
		failure("open %s: %s", mv_dev_path(), strerror(errno));
		return;
	}
	obj_add(OBJ_DEV, fd, NULL, NULL);
}

static const __u32 some_msrs[] = {
	0x10, 0x1b, 0x3a, 0x48, 0x8b, 0xc1, 0xe7, 0xe8, 0xfe, 0x174, 0x175,
	0x176, 0x179, 0x17a, 0x1a0, 0x1d9, 0x200, 0x201, 0x250, 0x277, 0x2ff,
	0x480, 0x48d, 0x6e0, 0x800, 0x808, 0x830, 0xc0000080, 0xc0000081,
	0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101,
	0xc0000102, 0xc0000103, 0xc0010010, 0xc0010114, 0xc0010117,
	0xc0010015, 0x4b564d00, 0x40000000,
};

static __u32 some_msr(struct rng *r)
{
	if (one_in(r, 6))
		return rnd(r);
	return some_msrs[rn(r, ARRAY_SIZE(some_msrs))];
}

static void op_dev_ioctl(struct thread *t)
{
	struct rng *r = &t->r;
	int i = obj_get(r, OBJ_DEV), fd;
	struct kvm_cpuid2 *cpuid;
	struct kvm_msr_list *list;
	__u32 n;

	if (i < 0) {
		op_dev_open(t);
		return;
	}
	fd = objs[i].fd;
	switch (rn(r, 8)) {
	case 0:
		xioctl("KVM_GET_API_VERSION", fd, KVM_GET_API_VERSION, NULL,
		       0, KVM_API_VERSION, KVM_API_VERSION);
		break;
	case 1:
		xioctl("KVM_CHECK_EXTENSION", fd, KVM_CHECK_EXTENSION,
		       (void *)(uintptr_t)(one_in(r, 2) ? rn(r, 300) : edgy(r)),
		       E(EINVAL), 0, 1L << 31);
		break;
	case 2:
		xioctl("KVM_GET_VCPU_MMAP_SIZE", fd, KVM_GET_VCPU_MMAP_SIZE,
		       (void *)(uintptr_t)(one_in(r, 4) ? edgy(r) : 0),
		       E(EINVAL), PAGE, 64 * PAGE);
		break;
	case 3:
		/* nent: too few, enough, huge; the pointer good or not */
		n = one_in(r, 3) ? edgy(r) : rn(r, 130);
		cpuid = (void *)t->scratch;
		if (sizeof(*cpuid) + (__u64)n * sizeof(cpuid->entries[0]) >
		    SCRATCH_SIZE)
			n = one_in(r, 2) ? n : 100;
		cpuid = hostile_ptr(t, sizeof(*cpuid), true);
		if (cpuid == (void *)t->scratch)
			cpuid->nent = n;
		xioctl("KVM_GET_SUPPORTED_CPUID", fd, KVM_GET_SUPPORTED_CPUID,
		       cpuid, E_ARGS | E(ENOMEM), 0, 0);
		break;
	case 4:
		list = hostile_ptr(t, sizeof(*list), true);
		if (list == (void *)t->scratch)
			list->nmsrs = one_in(r, 3) ? edgy(r) % 4000 : rn(r, 200);
		xioctl("KVM_GET_MSR_INDEX_LIST", fd, KVM_GET_MSR_INDEX_LIST,
		       list, E_ARGS, 0, 0);
		break;
	case 5:
		if (!on_kvm)
			xioctl("MV_GET_INFO", fd, MV_GET_INFO,
			       hostile_ptr(t, sizeof(struct minivisor_info),
					   true), E(EFAULT), 0, 0);
		break;
	case 6:
		/* KVM's magic, numbers it does not use on the system fd */
		xioctl("unknown system ioctl", fd,
		       _IOC(rn(r, 4), KVMIO, 0xf0 + rn(r, 15), rn(r, 64)),
		       hostile_ptr(t, 64, false), E(EINVAL) | E(ENOTTY), 0, 0);
		break;
	default:
		xioctl("foreign ioctl", fd,
		       _IOC(rn(r, 4), 0x10 + rn(r, 0x80), rn(r, 256),
			    rn(r, 256)),
		       hostile_ptr(t, 256, false), E(EINVAL) | E(ENOTTY), 0, 0);
		break;
	}
	obj_put(i);
}

static void op_vm_create(struct thread *t)
{
	struct rng *r = &t->r;
	struct vm_model *vm;
	unsigned long type = one_in(r, 10) ? edgy(r) : 0;
	int i, fd;

	if (count_kind(OBJ_VM) >= MAX_VMS)
		return;
	i = obj_get(r, OBJ_DEV);
	if (i < 0) {
		op_dev_open(t);
		return;
	}
	fd = xioctl("KVM_CREATE_VM", objs[i].fd, KVM_CREATE_VM,
		    (void *)type, E_ALLOC | E(EINVAL) | E(EBUSY), 0, 1 << 20);
	obj_put(i);
	if (fd < 0)
		return;
	if (type && !on_kvm)
		failure("KVM_CREATE_VM made a VM of type %#lx", type);
	if (opt_mmu && mv_vm_choose_mmu(fd)) {
		failure("MV_CAP_MMU_MODE %s: %s", opt_mmu, strerror(errno));
		close(fd);
		return;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		abort();
	pthread_mutex_init(&vm->lock, NULL);
	vm->buf = mmap(NULL, VM_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->buf == MAP_FAILED)
		abort();
	vm->refs = 1;
	obj_add(OBJ_VM, fd, vm, NULL);
	pthread_mutex_lock(&tab_lock);
	vm_put_locked(vm);
	pthread_mutex_unlock(&tab_lock);
}

/* A guest-physical address: low ones overlap, some far and at edges */
static __u64 some_gpa(struct rng *r)
{
	switch (rn(r, 10)) {
	case 0:
		return edgy(r) & ~(PAGE - 1);
	case 1:
		return 0xfffff000ULL - rn(r, 16) * PAGE;
	case 2:
		return (1ULL << (32 + rn(r, 20))) - rn(r, 4) * PAGE;
	default:
		return (__u64)rn(r, 16) * 0x10000 + rn(r, 8) * PAGE;
	}
}

static void op_set_memory(struct thread *t)
{
	struct rng *r = &t->r;
	struct kvm_userspace_memory_region reg = { 0 }, *p;
	struct vm_model *vm;
	int i = obj_get(r, OBJ_VM), s;
	unsigned int off, pages;
	long ret;

	if (i < 0) {
		op_vm_create(t);
		return;
	}
	vm = objs[i].vm;
	pthread_mutex_lock(&vm->lock);
	s = rn(r, MODEL_SLOTS);
	if (vm->slot[s].used && one_in(r, 2)) {
		/* change the slot: delete, move, flags; or resize (EINVAL) */
		reg.slot = vm->slot[s].id;
		reg.guest_phys_addr = vm->slot[s].gpa;
		reg.memory_size = vm->slot[s].size;
		reg.userspace_addr = vm->slot[s].uaddr;
		switch (rn(r, 4)) {
		case 0:
			reg.memory_size = 0;
			break;
		case 1:
			reg.guest_phys_addr = some_gpa(r);
			break;
		case 2:
			reg.flags = one_in(r, 2) ? KVM_MEM_LOG_DIRTY_PAGES :
				    edgy(r);
			break;
		default:
			reg.memory_size += PAGE * (1 + rn(r, 4));
			break;
		}
	} else {
		off = rn(r, VM_PAGES);
		pages = 1 + rn(r, VM_PAGES - off);
		reg.slot = rn(r, MODEL_SLOTS);
		reg.guest_phys_addr = some_gpa(r);
		reg.memory_size = (__u64)pages * PAGE;
		reg.userspace_addr = (unsigned long)vm->buf + off * PAGE;
		reg.flags = one_in(r, 6) ? KVM_MEM_READONLY : 0;
		switch (rn(r, 12)) {
		case 0:		/* huge: far beyond the buffer */
			reg.memory_size = (1ULL << (30 + rn(r, 12)));
			break;
		case 1:		/* unaligned */
			reg.userspace_addr += 1 + rn(r, PAGE - 1);
			break;
		case 2:
			reg.memory_size += 1 + rn(r, PAGE - 1);
			break;
		case 3:		/* user addresses that are not */
			reg.userspace_addr = one_in(r, 2) ?
				0xffff800000000000ULL : edgy(r) & ~(PAGE - 1);
			break;
		case 4:		/* slot numbers out of range, address space 1 */
			reg.slot = one_in(r, 2) ? (1U << 16) | rn(r, 4) :
				   edgy(r);
			break;
		case 5:
			reg.guest_phys_addr = edgy(r);
			break;
		default:
			break;
		}
	}
	p = hostile_ptr(t, sizeof(reg), true);
	if (p == (void *)t->scratch)
		*p = reg;
	ret = xioctl("KVM_SET_USER_MEMORY_REGION", objs[i].fd,
		     KVM_SET_USER_MEMORY_REGION, p,
		     E(EINVAL) | E(EEXIST) | E(EFAULT) | E(ENOMEM) | E(EIO),
		     0, 0);
	if (!ret && p == (void *)t->scratch && reg.slot < MODEL_SLOTS) {
		/* the model follows what the kernel took */
		if (!vm->slot[reg.slot].used || reg.memory_size) {
			vm->slot[reg.slot].used = reg.memory_size != 0;
			vm->slot[reg.slot].id = reg.slot;
			vm->slot[reg.slot].gpa = reg.guest_phys_addr;
			vm->slot[reg.slot].size = reg.memory_size;
			vm->slot[reg.slot].uaddr = reg.userspace_addr;
		} else {
			vm->slot[reg.slot].used = false;
		}
	}
	pthread_mutex_unlock(&vm->lock);
	obj_put(i);
}

static void op_vcpu_create(struct thread *t)
{
	struct rng *r = &t->r;
	int i = obj_get(r, OBJ_VM), fd;
	unsigned long id;
	struct kvm_run *run;

	if (i < 0) {
		op_vm_create(t);
		return;
	}
	if (count_kind(OBJ_VCPU) >= MAX_VCPUS || objs[i].vm->nr_vcpus >= 4) {
		obj_put(i);
		return;
	}
	id = one_in(r, 8) ? edgy(r) : rn(r, 6);
	fd = xioctl("KVM_CREATE_VCPU", objs[i].fd, KVM_CREATE_VCPU,
		    (void *)id, E_ALLOC | E(EINVAL) | E(EEXIST) | E(EBUSY),
		    0, 1 << 20);
	if (fd >= 0) {
		run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, 0);
		if (run == MAP_FAILED) {
			failure("mmap of a vCPU: %s", strerror(errno));
			close(fd);
		} else {
			obj_add(OBJ_VCPU, fd, objs[i].vm, run);
		}
	}
	obj_put(i);
}

/* -------------------------------------------------------- guest code */

/* Appends bytes to a code buffer */
struct code {
	unsigned char b[512];
	unsigned int n;
};

static void emit(struct code *c, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	while (n--) {
		int v = va_arg(ap, int);

		if (c->n < sizeof(c->b))
			c->b[c->n++] = v;
	}
	va_end(ap);
}

static void emit16(struct code *c, unsigned int v)
{
	emit(c, 2, v & 0xff, (v >> 8) & 0xff);
}

/* Real-mode code: port I/O, MMIO and RAM accesses, CPUID, REP strings */
static void faithful_code(struct rng *r, struct code *c)
{
	unsigned int i, n = 4 + rn(r, 24);

	c->n = 0;
	for (i = 0; i < n && c->n < 440; i++) {
		switch (rn(r, 14)) {
		case 0:		/* mov dx, port; out dx, al / in al, dx */
			emit(c, 1, 0xba);
			emit16(c, rn(r, 3) ? 0x80 + rn(r, 64) : rnd(r));
			emit(c, 1, rn(r, 2) ? 0xee : 0xec);
			break;
		case 1:		/* out/in imm8, ax */
			emit(c, 2, rn(r, 2) ? 0xe7 : 0xe5, rn(r, 256));
			break;
		case 2:		/* mov al, [moffs] / mov [moffs], al */
			emit(c, 1, rn(r, 2) ? 0xa0 : 0xa2);
			emit16(c, rnd(r));
			break;
		case 3:		/* mov [bx+si+disp16], ax / reverse */
			emit(c, 2, rn(r, 2) ? 0x89 : 0x8b, 0x80);
			emit16(c, rnd(r));
			break;
		case 4:		/* mov eax, leaf; cpuid */
			emit(c, 2, 0x66, 0xb8);
			emit16(c, rn(r, 2) ? rn(r, 0x20) : rnd(r));
			emit16(c, rn(r, 2) ? 0 : 0x8000);
			emit(c, 4, 0x31, 0xc9, 0x0f, 0xa2); /* xor cx,cx */
			break;
		case 5:		/* mov cx, n; rep movsb/movsw */
			emit(c, 1, 0xb9);
			emit16(c, rn(r, 4) ? rn(r, 40) : rnd(r));
			emit(c, 2, 0xf3, rn(r, 2) ? 0xa4 : 0xa5);
			break;
		case 6:		/* mov cx, n; rep stosb/stosw */
			emit(c, 1, 0xb9);
			emit16(c, rn(r, 40));
			emit(c, 2, 0xf3, rn(r, 2) ? 0xaa : 0xab);
			break;
		case 7:		/* mov dx, port; mov cx, n; rep insb/outsw */
			emit(c, 1, 0xba);
			emit16(c, 0x80 + rn(r, 64));
			emit(c, 1, 0xb9);
			emit16(c, rn(r, 20));
			emit(c, 2, 0xf3, 0x6c + rn(r, 4));
			break;
		case 8:		/* mov si/di/bx, imm16 */
			emit(c, 1, 0xbe + rn(r, 2) - (one_in(r, 3) ? 3 : 0));
			emit16(c, rnd(r));
			break;
		case 9:		/* cld / std */
			emit(c, 1, rn(r, 4) ? 0xfc : 0xfd);
			break;
		case 10:	/* inc word [moffs]; xchg [moffs], ax */
			emit(c, 2, rn(r, 2) ? 0xff : 0x87, 0x06);
			emit16(c, rnd(r));
			break;
		case 11:	/* mov word [di], imm16 with es: */
			emit(c, 3, 0x26, 0xc7, 0x05);
			emit16(c, rnd(r));
			break;
		case 12:
			if (one_in(r, 4))
				emit(c, 1, 0xf4);	/* hlt */
			break;
		default:	/* lods / scas / cmps, one each */
			emit(c, 1, 0xac + rn(r, 4) - (one_in(r, 2) ? 8 : 0));
			break;
		}
	}
	/* jmp back to the start */
	emit(c, 1, 0xe9);
	emit16(c, (unsigned int)(-(int)(c->n + 2)));
}

/* The op log's copy of faithful code, in hex, 32 bytes a line */
static void vlog_code(struct thread *t, int i, __u64 gpa,
		      const struct code *c)
{
	char line[3 * 32 + 1];
	unsigned int k, n;

	vlog("t%d vcpu%d faithful code at gpa %#llx, %u bytes", t->index, i,
	     gpa, c->n);
	for (k = 0; k < c->n; k += 32) {
		for (n = 0; n < 32 && k + n < c->n; n++)
			snprintf(line + 3 * n, 4, " %02x", c->b[k + n]);
		vlog("  %s", line);
	}
}

/* A segment for real mode at @base */
static void real_seg(struct kvm_segment *s, __u64 base, int code)
{
	s->base = base & 0xffff0;
	s->selector = s->base >> 4;
	s->limit = 0xffff;
	s->type = code ? 0xb : 3;
	s->present = 1;
	s->s = 1;
	s->dpl = 0;
	s->db = 0;
	s->l = 0;
	s->g = 0;
	s->unusable = 0;
}

static void mutate_seg(struct rng *r, struct kvm_segment *s)
{
	switch (rn(r, 6)) {
	case 0:
		s->base = edgy(r);
		break;
	case 1:
		s->limit = edgy(r);
		break;
	case 2:
		s->type = rn(r, 16);
		s->s = rn(r, 2);
		break;
	case 3:
		s->dpl = rn(r, 4);
		s->present = rn(r, 2);
		s->unusable = one_in(r, 4);
		break;
	case 4:
		s->db = rn(r, 2);
		s->l = rn(r, 2);
		s->g = rn(r, 2);
		break;
	default:
		s->selector = rnd(r);
		break;
	}
}

/*
 * What QEMU's TCG cannot run (efer_lme_test.c): a guest with EFER.LME set
 * and CR4.PAE, CR0.PG clear hangs the host CPU at its next #VMEXIT, under
 * minivisor's TDP mode as under kvm_amd.  On TCG such a state gets PAE or
 * loses LME, whatever else the fuzzer made of it.  @p is what KVM_SET_SREGS
 * is given; only the thread's own writable buffers are changed.
 */
static void tcg_narrow(struct thread *t, void *p)
{
	struct kvm_sregs *sr = p;
	unsigned char *b = p;

	if (!on_tcg ||
	    !((b >= t->scratch && b + sizeof(*sr) <= t->scratch + SCRATCH_SIZE) ||
	      (b >= t->edge && b + sizeof(*sr) <= t->edge + PAGE)))
		return;
	if ((sr->efer & 0x100) && !(sr->cr0 & 0x80000000ULL) &&
	    !(sr->cr4 & 0x20)) {
		if (one_in(&t->r, 2))
			sr->cr4 |= 0x20;
		else
			sr->efer &= ~0x100ULL;
	}
}

/*
 * What Bochs cannot run: a guest that jumps to itself with RFLAGS.IF clear
 * is a dead CPU to Bochs 2.7, which then takes no interrupt of the host's
 * either, and no VM exit comes: the machine hangs, under kvm_intel as
 * under minivisor (fuzz_test -s 8 -t 1 -g faithful on /dev/kvm, faithful
 * code whose REP STOSW overwrote itself).  In Bochs the fuzzer's guests
 * keep IF set: in what KVM_SET_REGS is given from its own buffers, and
 * random code has STI where it would have had CLI (POPF and IRET can
 * still clear IF: rare enough).  No interrupt is injected either way.
 */
static void bochs_narrow_regs(struct thread *t, void *p)
{
	struct kvm_regs *regs = p;
	unsigned char *b = p;

	if (on_bochs &&
	    ((b >= t->scratch && b + sizeof(*regs) <= t->scratch + SCRATCH_SIZE) ||
	     (b >= t->edge && b + sizeof(*regs) <= t->edge + PAGE)))
		regs->rflags |= 0x200;
}

static void bochs_narrow_code(unsigned char *code, size_t n)
{
	size_t k;

	for (k = 0; on_bochs && k < n; k++)
		if (code[k] == 0xfa)		/* cli */
			code[k] = 0xfb;		/* sti */
}

/* A random state: registers, segments, CRs, EFER, flipped from @sregs */
static void mutate_sregs(struct rng *r, struct kvm_sregs *sr)
{
	static const __u64 cr0_bits[] = {
		1, 2, 4, 8, 0x10, 0x20, 1 << 16, 1 << 18, 1 << 29, 1 << 30,
		1ULL << 31, 1ULL << 32,
	};
	static const __u64 cr4_bits[] = {
		1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80, 0x100, 0x200, 0x400,
		0x800, 0x1000, 0x2000, 0x4000, 0x10000, 0x20000, 0x40000,
		0x100000, 0x200000, 0x400000, 0x800000, 1ULL << 40,
	};
	static const __u64 efer_bits[] = {
		1, 0x100, 0x400, 0x800, 0x1000, 0x2000, 0x4000, 0x8000,
		1ULL << 20,
	};
	unsigned int n = 1 + rn(r, 5);
	struct kvm_segment *segs[] = {
		&sr->cs, &sr->ds, &sr->es, &sr->fs, &sr->gs, &sr->ss,
		&sr->tr, &sr->ldt,
	};

	while (n--) {
		switch (rn(r, 9)) {
		case 0:
			sr->cr0 ^= cr0_bits[rn(r, 12)];
			break;
		case 1:
			sr->cr4 ^= cr4_bits[rn(r, 23)];
			break;
		case 2:
			sr->efer ^= efer_bits[rn(r, 9)];
			break;
		case 3:
			sr->cr3 = one_in(r, 2) ? edgy(r) : rn(r, 0x100) * PAGE;
			break;
		case 4:
			mutate_seg(r, segs[rn(r, 8)]);
			break;
		case 5:
			sr->gdt.base = edgy(r);
			sr->gdt.limit = edgy(r);
			sr->idt.base = rn(r, 0x100000);
			sr->idt.limit = edgy(r);
			break;
		case 6:
			sr->apic_base = one_in(r, 2) ? 0xfee00900 : edgy(r);
			break;
		case 7:
			sr->cr8 = edgy(r);
			sr->cr2 = edgy(r);
			break;
		default:
			if (one_in(r, 3))
				sr->interrupt_bitmap[rn(r, 4)] |=
					1ULL << rn(r, 64);
			/* long mode, paging, protected mode together */
			if (one_in(r, 2)) {
				sr->cr0 |= 0x80000001;
				sr->cr4 |= 0x20;
				sr->efer |= 0x500;
				sr->cs.l = 1;
				sr->cs.db = 0;
			}
			break;
		}
	}
}

/* The VM's RAM slot to put code in: its gpa and host address */
static bool pick_ram(struct rng *r, struct vm_model *vm, __u64 *gpa,
		     unsigned char **hva, bool low)
{
	int s, n = 0, pick = -1;
	__u64 off;

	for (s = 0; s < MODEL_SLOTS; s++) {
		unsigned long u = vm->slot[s].uaddr;

		if (!vm->slot[s].used ||
		    u < (unsigned long)vm->buf ||
		    u >= (unsigned long)vm->buf + VM_PAGES * PAGE ||
		    (low && vm->slot[s].gpa >= 0xf0000))
			continue;
		if (one_in(r, ++n))
			pick = s;
	}
	if (pick < 0)
		return false;
	off = rn(r, vm->slot[pick].size / PAGE) * PAGE;
	if (vm->slot[pick].uaddr + off + PAGE >
	    (unsigned long)vm->buf + VM_PAGES * PAGE)
		off = 0;
	*gpa = vm->slot[pick].gpa + off;
	*hva = (unsigned char *)vm->slot[pick].uaddr + off;
	return true;
}

/* A segment in the op log; out_lock held */
static void vlog_seg(const char *name, const struct kvm_segment *g)
{
	printf("# op:   %s sel %#x base %#llx limit %#x type %u s %u dpl %u ",
	       name, g->selector, g->base, g->limit, g->type, g->s, g->dpl);
	printf("p %u db %u l %u g %u unusable %u\n",
	       g->present, g->db, g->l, g->g, g->unusable);
}

/* The op log of a KVM_SET_SREGS: what the guest will run with */
static void vlog_state(struct thread *t, int i, long ret,
		       const struct kvm_sregs *sr)
{
	if (!opt_verbose)
		return;
	pthread_mutex_lock(&out_lock);
	printf("# op: t%d vcpu%d set_sregs %ld: cr0 %#llx cr2 %#llx cr3 %#llx ",
	       t->index, i, ret, sr->cr0, sr->cr2, sr->cr3);
	printf("cr4 %#llx cr8 %#llx efer %#llx apic %#llx\n",
	       sr->cr4, sr->cr8, sr->efer, sr->apic_base);
	printf("# op:   gdt %#llx/%#x idt %#llx/%#x irq bitmap %llx %llx %llx %llx\n",
	       sr->gdt.base, sr->gdt.limit, sr->idt.base, sr->idt.limit,
	       sr->interrupt_bitmap[0], sr->interrupt_bitmap[1],
	       sr->interrupt_bitmap[2], sr->interrupt_bitmap[3]);
	vlog_seg("cs", &sr->cs);
	vlog_seg("ss", &sr->ss);
	vlog_seg("ds", &sr->ds);
	vlog_seg("es", &sr->es);
	vlog_seg("fs", &sr->fs);
	vlog_seg("gs", &sr->gs);
	vlog_seg("tr", &sr->tr);
	vlog_seg("ldt", &sr->ldt);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

/*
 * Puts code in guest RAM and points the vCPU at it: faithful real-mode
 * code with DS and ES on RAM or MMIO, or random bytes and a random state.
 */
static void op_guest_code(struct thread *t)
{
	struct rng *r = &t->r;
	int i = obj_get(r, OBJ_VCPU);
	bool random = opt_guest == 1 || (opt_guest == 2 && one_in(r, 3));
	struct vm_model *vm;
	struct kvm_sregs sr;
	struct kvm_regs regs;
	struct code c;
	__u64 gpa, dgpa;
	unsigned char *hva, *dhva;
	unsigned int pg;
	long ret;

	if (i < 0) {
		op_vcpu_create(t);
		return;
	}
	vm = objs[i].vm;
	pthread_mutex_lock(&vm->lock);
	if (!pick_ram(r, vm, &gpa, &hva, true)) {
		pthread_mutex_unlock(&vm->lock);
		obj_put(i);
		return;
	}
	pg = (hva - vm->buf) / PAGE;
	if (vm->page_state[pg] == PS_RW) {
		if (random) {
			vlog("t%d vcpu%d random code at gpa %#llx from rng %#llx",
			     t->index, i, gpa, r->s);
			fill_random(r, hva, PAGE);
			bochs_narrow_code(hva, PAGE);
		} else {
			faithful_code(r, &c);
			memcpy(hva, c.b, c.n);
			vlog_code(t, i, gpa, &c);
		}
	}
	if (!pick_ram(r, vm, &dgpa, &dhva, true) || one_in(r, 3))
		dgpa = 0xa0000 + rn(r, 0x50000);	/* MMIO, mostly */
	pthread_mutex_unlock(&vm->lock);

	if (xioctl("KVM_GET_SREGS", objs[i].fd, KVM_GET_SREGS, &sr,
		   E(EFAULT), 0, 0))
		goto out;
	memset(&regs, 0, sizeof(regs));
	sr.cr0 &= ~0x80000001ULL;
	sr.efer &= ~0x500ULL;
	real_seg(&sr.cs, gpa, 1);
	real_seg(&sr.ds, dgpa, 0);
	real_seg(&sr.es, one_in(r, 2) ? dgpa : gpa, 0);
	real_seg(&sr.ss, gpa, 0);
	regs.rip = gpa & 0xf;
	regs.rsp = 0xfff0;
	regs.rflags = on_bochs ? 0x202 : 2;
	if (random) {
		mutate_sregs(r, &sr);
		tcg_narrow(t, &sr);
		regs.rip = one_in(r, 2) ? rn(r, 64) : edgy(r);
		regs.rflags = one_in(r, 2) ? 2 | (rnd(r) & 0x3f7fd5) : edgy(r);
		regs.rax = edgy(r);
		regs.rcx = rn(r, 100);
		regs.rsi = edgy(r);
		regs.rdi = edgy(r);
		regs.rsp = edgy(r);
		if (on_bochs)
			regs.rflags |= 0x200;
	}
	ret = xioctl("KVM_SET_SREGS", objs[i].fd, KVM_SET_SREGS, &sr,
		     E(EFAULT) | E(EINVAL), 0, 0);
	vlog_state(t, i, ret, &sr);
	ret = xioctl("KVM_SET_REGS", objs[i].fd, KVM_SET_REGS, &regs,
		     E(EFAULT) | E(EINVAL), 0, 0);
	vlog("t%d vcpu%d set_regs %ld: rip %#llx rflags %#llx rax %#llx",
	     t->index, i, ret, regs.rip, regs.rflags, regs.rax);
	vlog("t%d vcpu%d   rcx %#llx rsi %#llx rdi %#llx rsp %#llx", t->index,
	     i, regs.rcx, regs.rsi, regs.rdi, regs.rsp);
out:
	obj_put(i);
}

/* --------------------------------------------------------- KVM_RUN */

static void on_timer(int sig)
{
}

static void arm(struct thread *t, bool on)
{
	struct itimerspec its = { 0 };

	if (on) {
		its.it_value.tv_nsec = 1000000 + rn(&t->r, 4000000);
		its.it_interval.tv_nsec = 2000000;
	}
	timer_settime(t->timer, 0, &its, NULL);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void op_run(struct thread *t)
{
	struct rng *r = &t->r;
	int i = obj_get(r, OBJ_VCPU), rounds;
	struct kvm_run *run;
	long ret;

	if (i < 0) {
		op_vcpu_create(t);
		return;
	}
	run = objs[i].run;
	for (rounds = 1 + rn(r, 4); rounds; rounds--) {
		run->immediate_exit = one_in(r, 16);
		arm(t, true);
		vlog("t%d vcpu%d run", t->index, i);
		atomic_store(&run_since[t->index], now_ns());
		ret = xioctl("KVM_RUN", objs[i].fd, KVM_RUN,
			     one_in(r, 50) ? (void *)1 : NULL,
			     E(EINTR) | E(EFAULT) | E(EINVAL) | E(ENOMEM) |
			     E(EIO) | E(EAGAIN) | E(ENOEXEC) | E(ENXIO) |
			     E(EHWPOISON), 0, 0);
		atomic_store(&run_since[t->index], 0);
		arm(t, false);
		vlog("t%d vcpu%d ran %ld, exit %u", t->index, i, ret,
		     run->exit_reason);
		atomic_fetch_add(&nr_runs, 1);
		if (ret) {
			atomic_fetch_add(&nr_run_errnos[ebit(errno)], 1);
			break;
		}
		atomic_fetch_add(&nr_exits[run->exit_reason < 32 ?
					   run->exit_reason : 31], 1);
		/* answers for the guest's reads: anything */
		if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write)
			fill_random(r, run->mmio.data, 8);
	}
	run->immediate_exit = 0;
	obj_put(i);
}

/* ------------------------------------------------ vCPU state ioctls */

static void op_vcpu_state(struct thread *t)
{
	struct rng *r = &t->r;
	int i = obj_get(r, OBJ_VCPU), fd;
	struct kvm_msrs *msrs;
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs *sr;
	unsigned int n, k;
	void *p;
	long ret;

	if (i < 0) {
		op_vcpu_create(t);
		return;
	}
	fd = objs[i].fd;
	switch (rn(r, 16)) {
	case 0:
		xioctl("KVM_GET_REGS", fd, KVM_GET_REGS,
		       hostile_ptr(t, sizeof(struct kvm_regs), false),
		       E(EFAULT), 0, 0);
		break;
	case 1:
		p = hostile_ptr(t, sizeof(struct kvm_regs), true);
		if (p == t->scratch)
			fill_random(r, p, sizeof(struct kvm_regs));
		bochs_narrow_regs(t, p);
		ret = xioctl("KVM_SET_REGS", fd, KVM_SET_REGS, p,
			     E(EFAULT) | E(EINVAL), 0, 0);
		if (p == t->scratch)
			vlog("t%d vcpu%d set_regs %ld: rip %#llx rflags %#llx",
			     t->index, i, ret, ((struct kvm_regs *)p)->rip,
			     ((struct kvm_regs *)p)->rflags);
		break;
	case 2:
		xioctl("KVM_GET_SREGS", fd, KVM_GET_SREGS,
		       hostile_ptr(t, sizeof(struct kvm_sregs), false),
		       E(EFAULT), 0, 0);
		break;
	case 3:
	case 4:
		sr = hostile_ptr(t, sizeof(*sr), true);
		if ((void *)sr == t->scratch) {
			if (xioctl("KVM_GET_SREGS", fd, KVM_GET_SREGS, sr,
				   E(EFAULT), 0, 0))
				break;
			mutate_sregs(r, sr);
			if (one_in(r, 8))
				fill_random(r, sr, sizeof(*sr));
		}
		tcg_narrow(t, sr);
		ret = xioctl("KVM_SET_SREGS", fd, KVM_SET_SREGS, sr,
			     E(EFAULT) | E(EINVAL), 0, 0);
		if ((void *)sr == t->scratch)
			vlog_state(t, i, ret, sr);
		break;
	case 5:
	case 6:
		/* counts: none, some, more than the buffer, huge */
		n = one_in(r, 8) ? edgy(r) : rn(r, 40);
		msrs = hostile_ptr(t, sizeof(*msrs), true);
		if ((void *)msrs == t->scratch) {
			msrs->nmsrs = n;
			msrs->pad = one_in(r, 10) ? rnd(r) : 0;
			for (k = 0; k < 40; k++) {
				msrs->entries[k].index = some_msr(r);
				msrs->entries[k].reserved = 0;
				msrs->entries[k].data = edgy(r);
			}
		}
		if (n > 40 && n < 0x1000)
			n = 0x1000;	/* what the range check allows */
		ret = rn(r, 2) ?
			xioctl("KVM_SET_MSRS", fd, KVM_SET_MSRS, msrs,
			       E_ARGS | E(ENOMEM), 0, n) :
			xioctl("KVM_GET_MSRS", fd, KVM_GET_MSRS, msrs,
			       E_ARGS | E(ENOMEM), 0, n);
		(void)ret;
		break;
	case 7:
		n = one_in(r, 6) ? edgy(r) : rn(r, 100);
		cpuid = hostile_ptr(t, sizeof(*cpuid), true);
		if ((void *)cpuid == t->scratch) {
			cpuid->nent = n;
			for (k = 0; k < 100; k++) {
				cpuid->entries[k].function =
					one_in(r, 2) ? rn(r, 0x20) :
					0x80000000 + rn(r, 0x20);
				cpuid->entries[k].index = rn(r, 4);
				cpuid->entries[k].flags = rn(r, 8);
				cpuid->entries[k].eax = edgy(r);
				cpuid->entries[k].ebx = edgy(r);
				cpuid->entries[k].ecx = edgy(r);
				cpuid->entries[k].edx = edgy(r);
			}
		}
		/*
		 * EPERM: KVM's answer to a leaf 0xd that asks for a dynamic
		 * xfeature (AMX) the process has no ARCH_REQ_XCOMP_GUEST_PERM
		 * for (seed 4000 of the long tier, on kvm_amd)
		 */
		xioctl("KVM_SET_CPUID2", fd, KVM_SET_CPUID2, cpuid,
		       E_ARGS | E(ENOMEM) | E(EBUSY) | E(EPERM), 0, 0);
		break;
	case 8:
		cpuid = hostile_ptr(t, sizeof(*cpuid), true);
		if ((void *)cpuid == t->scratch)
			cpuid->nent = one_in(r, 4) ? edgy(r) : rn(r, 130);
		xioctl("KVM_GET_CPUID2", fd, KVM_GET_CPUID2, cpuid,
		       E_ARGS | E(ENOMEM), 0, 0);
		break;
	case 9:
		xioctl("KVM_GET_FPU", fd, KVM_GET_FPU,
		       hostile_ptr(t, sizeof(struct kvm_fpu), false),
		       E(EFAULT) | E(EINVAL), 0, 0);
		break;
	case 10:
		p = hostile_ptr(t, sizeof(struct kvm_fpu), true);
		if (p == t->scratch && one_in(r, 2))
			fill_random(r, p, sizeof(struct kvm_fpu));
		xioctl("KVM_SET_FPU", fd, KVM_SET_FPU, p,
		       E(EFAULT) | E(EINVAL), 0, 0);
		break;
	case 11:
		xioctl(rn(r, 2) ? "KVM_GET_XSAVE" : "KVM_GET_XSAVE2", fd,
		       rn(r, 2) ? KVM_GET_XSAVE : KVM_GET_XSAVE2,
		       hostile_ptr(t, sizeof(struct kvm_xsave), true),
		       E(EFAULT) | E(EINVAL) | E(ENOMEM), 0, 0);
		break;
	case 12:
		p = hostile_ptr(t, sizeof(struct kvm_xsave), true);
		if (p == t->scratch) {
			if (!xioctl("KVM_GET_XSAVE", fd, KVM_GET_XSAVE, p,
				    E(EFAULT) | E(EINVAL) | E(ENOMEM), 0, 0) &&
			    one_in(r, 2)) {
				k = rn(r, sizeof(struct kvm_xsave));
				((unsigned char *)p)[k] ^= 1 << rn(r, 8);
			} else if (one_in(r, 3)) {
				fill_random(r, p, sizeof(struct kvm_xsave));
			}
		}
		xioctl("KVM_SET_XSAVE", fd, KVM_SET_XSAVE, p,
		       E(EFAULT) | E(EINVAL) | E(ENOMEM), 0, 0);
		break;
	case 13:
		p = hostile_ptr(t, sizeof(struct kvm_xcrs), true);
		if (p == t->scratch && one_in(r, 2)) {
			struct kvm_xcrs *x = p;

			memset(x, 0, sizeof(*x));
			x->nr_xcrs = one_in(r, 4) ? edgy(r) : 1;
			x->xcrs[0].xcr = one_in(r, 4) ? rn(r, 3) : 0;
			x->xcrs[0].value = one_in(r, 2) ? 1 | (rnd(r) & 0xe7) :
					   edgy(r);
			xioctl("KVM_SET_XCRS", fd, KVM_SET_XCRS, p,
			       E(EFAULT) | E(EINVAL), 0, 0);
		} else {
			xioctl("KVM_GET_XCRS", fd, KVM_GET_XCRS, p,
			       E(EFAULT) | E(EINVAL), 0, 0);
		}
		break;
	case 14:
		/* vCPU ioctls KVM has and minivisor may not, and none */
		xioctl("other vCPU ioctl", fd,
		       rn(r, 2) ? _IOC(rn(r, 4), KVMIO, 0xf0 + rn(r, 15),
				       rn(r, 64)) :
				  (unsigned long)KVM_GET_LAPIC,
		       hostile_ptr(t, 1024, false),
		       E(EINVAL) | E(ENOTTY) | E(EFAULT) | E(ENXIO), 0, 0);
		break;
	default:
		/* the vCPU's mmap: more pages than it has, odd offsets */
		k = 1 + rn(r, 4);
		p = mmap(NULL, PAGE * k, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, PAGE * rn(r, 4));
		if (p != MAP_FAILED) {
			munmap(p, PAGE * k);
		} else if (errno != EINVAL && errno != ENOMEM &&
			   errno != ENXIO) {
			failure("mmap of a vCPU fd: errno %d", errno);
		}
		break;
	}
	obj_put(i);
}

/* ----------------------------------------------- the host's memory */

static void op_host_mem(struct thread *t)
{
	struct rng *r = &t->r;
	int i = obj_get(r, OBJ_VM);
	struct vm_model *vm;
	unsigned int pg, n, k, how;
	unsigned char *p;

	if (i < 0)
		return;
	vm = objs[i].vm;
	pthread_mutex_lock(&vm->lock);
	pg = rn(r, VM_PAGES);
	n = 1 + rn(r, one_in(r, 4) ? VM_PAGES - pg : 8);
	if (pg + n > VM_PAGES)
		n = VM_PAGES - pg;
	how = rn(r, 8);
	/*
	 * Page by page, so that the model stays exact; a page once
	 * munmapped may have been taken by another mapping since, and is
	 * only mapped again when it is still free.
	 */
	for (k = pg; k < pg + n; k++) {
		p = vm->buf + k * PAGE;
		if (vm->page_state[k] == PS_UNMAPPED && how < 6)
			continue;
		switch (how) {
		case 0:
			if (!munmap(p, PAGE))
				vm->page_state[k] = PS_UNMAPPED;
			break;
		case 1:		/* unmapped, the range kept */
			if (mmap(p, PAGE, PROT_NONE, MAP_PRIVATE |
				 MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED)
				vm->page_state[k] = PS_NONE;
			break;
		case 2:
		case 3:
			madvise(p, PAGE, MADV_DONTNEED);
			break;
		case 4:
			if (!mprotect(p, PAGE, PROT_READ))
				vm->page_state[k] = PS_RO;
			break;
		case 5:
			if (!mprotect(p, PAGE, PROT_NONE))
				vm->page_state[k] = PS_NONE;
			break;
		default:	/* fresh memory, read-write */
			if (mmap(p, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE |
				 MAP_ANONYMOUS | (vm->page_state[k] ==
				 PS_UNMAPPED ? MAP_FIXED_NOREPLACE : MAP_FIXED),
				 -1, 0) == p)
				vm->page_state[k] = PS_RW;
			break;
		}
	}
	pthread_mutex_unlock(&vm->lock);
	obj_put(i);
}

/* ------------------------------------------------------- stats fds */

static void op_stats(struct thread *t)
{
	struct rng *r = &t->r;
	int kind = rn(r, 2) ? OBJ_VM : OBJ_VCPU;
	int i, fd;
	ssize_t n;
	size_t size;
	off_t off;

	if (one_in(r, 3) || count_kind(OBJ_STATS) >= 6) {
		i = obj_get(r, OBJ_STATS);
		if (i < 0)
			return;
		if (one_in(r, 8)) {
			xioctl("stats fd ioctl", objs[i].fd,
			       _IOC(rn(r, 4), KVMIO, rn(r, 256), rn(r, 64)),
			       hostile_ptr(t, 64, false),
			       E(ENOTTY) | E(EINVAL), 0, 0);
		} else {
			size = one_in(r, 4) ? edgy(r) % (SCRATCH_SIZE * 2) :
			       rn(r, 256);
			off = one_in(r, 4) ? (off_t)edgy(r) : rn(r, 4096);
			atomic_fetch_add(&nr_ioctls, 1);
			n = pread(objs[i].fd, hostile_ptr(t, size, true), size,
				  off);
			if (n < 0 && errno != EFAULT && errno != EINVAL)
				failure("pread of a stats fd: errno %d", errno);
			if (n > (ssize_t)size)
				failure("pread of a stats fd gave %zd > %zu",
					n, size);
		}
		obj_put(i);
		return;
	}
	i = obj_get(r, kind);
	if (i < 0)
		return;
	fd = xioctl("KVM_GET_STATS_FD", objs[i].fd, KVM_GET_STATS_FD,
		    hostile_ptr(t, 8, false), E_ALLOC, 0, 1 << 20);
	if (fd >= 0)
		obj_add(OBJ_STATS, fd, NULL, NULL);
	obj_put(i);
}

/* ---------------------------------------------- the rest of the VM */

static void op_vm_misc(struct thread *t)
{
	struct rng *r = &t->r;
	int i = obj_get(r, OBJ_VM);
	struct kvm_enable_cap *cap;
	pid_t pid;
	int st;

	if (i < 0)
		return;
	switch (rn(r, 5)) {
	case 0:
		cap = hostile_ptr(t, sizeof(*cap), true);
		if ((void *)cap == t->scratch) {
			memset(cap, 0, sizeof(*cap));
			cap->cap = on_kvm || one_in(r, 3) ? rn(r, 250) :
				   MV_CAP_MMU_MODE;
			cap->args[0] = one_in(r, 2) ? 1 + rn(r, 2) : edgy(r);
			cap->flags = one_in(r, 8) ? edgy(r) : 0;
			/* never switch a VM the plan put in a mode */
			if (opt_mmu && cap->cap == MV_CAP_MMU_MODE)
				cap->args[0] = !strcmp(opt_mmu, "shadow") ?
					MV_MMU_SHADOW : MV_MMU_TDP;
		}
		xioctl("KVM_ENABLE_CAP (VM)", objs[i].fd, KVM_ENABLE_CAP, cap,
		       E_ARGS | E(EBUSY) | E(ENOMEM) | E(EEXIST) | E(ENXIO) |
		       E(EPERM) | E(EOPNOTSUPP),
		       0, 1L << 31);
		break;
	case 1:
		xioctl("KVM_CHECK_EXTENSION (VM)", objs[i].fd,
		       KVM_CHECK_EXTENSION, (void *)(uintptr_t)rn(r, 300),
		       E(EINVAL), 0, 1L << 31);
		break;
	case 2:
		xioctl("unknown VM ioctl", objs[i].fd,
		       _IOC(rn(r, 4), KVMIO, 0xf0 + rn(r, 15), rn(r, 64)),
		       hostile_ptr(t, 64, false), E(EINVAL) | E(ENOTTY), 0, 0);
		break;
	case 3:
		if (!on_kvm)
			xioctl("MV_GET_INFO (VM)", objs[i].fd, MV_GET_INFO,
			       hostile_ptr(t, sizeof(struct minivisor_info),
					   true), E(EFAULT), 0, 0);
		break;
	default:
		/* another process (mm) may not use the VM: -EIO */
		if (!one_in(r, 8))
			break;
		pid = fork();
		if (pid == 0) {
			long ret = ioctl(objs[i].fd, KVM_CHECK_EXTENSION, 0);

			_exit(ret == -1 && errno == EIO ? 0 : 1);
		}
		if (pid > 0 && (waitpid(pid, &st, 0) != pid ||
				!WIFEXITED(st) || WEXITSTATUS(st)))
			failure("a VM fd used by a child process did not fail with EIO");
		break;
	}
	obj_put(i);
}

static void op_close(struct thread *t)
{
	struct rng *r = &t->r;
	int i = obj_get(r, rn(r, NR_KINDS));

	if (i < 0)
		return;
	pthread_mutex_lock(&tab_lock);
	objs[i].dead = true;
	pthread_mutex_unlock(&tab_lock);
	obj_put(i);
}

/* ------------------------------------------------------- the threads */

struct op {
	void (*fn)(struct thread *t);
	unsigned int weight;
};

static const struct op ops[] = {
	{ op_dev_ioctl, 4 }, { op_dev_open, 1 }, { op_vm_create, 3 },
	{ op_set_memory, 10 }, { op_vcpu_create, 4 }, { op_vcpu_state, 8 },
	{ op_guest_code, 6 }, { op_run, 20 }, { op_host_mem, 6 },
	{ op_stats, 3 }, { op_vm_misc, 2 }, { op_close, 3 },
};

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	struct sigevent sev = { 0 };
	unsigned int total = 0, k, w;

	t->tid = syscall(SYS_gettid);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev.sigev_notify_thread_id = t->tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t->timer)) {
		failure("timer_create: %s", strerror(errno));
		return NULL;
	}
	for (k = 0; k < ARRAY_SIZE(ops); k++)
		total += ops[k].weight;
	while (atomic_fetch_add(&ops_done, 1) < opt_ops &&
	       atomic_load(&nr_failures) < 20) {
		w = rn(&t->r, total);
		for (k = 0; w >= ops[k].weight; k++)
			w -= ops[k].weight;
		ops[k].fn(t);
	}
	timer_delete(t->timer);
	return NULL;
}

/* Kills the process when a KVM_RUN stays in the kernel */
static void *watchdog(void *arg)
{
	unsigned int i;

	for (;;) {
		usleep(200000);
		for (i = 0; i < opt_threads; i++) {
			long long s = atomic_load(&run_since[i]);

			if (s && now_ns() - s > opt_watchdog * 1000000000LL) {
				pthread_mutex_lock(&out_lock);
				printf("# HANG (seed %llu): thread %u in KVM_RUN %u s\n",
				       cur_seed, i, opt_watchdog);
				fflush(stdout);
				_exit(3);
			}
		}
	}
	return NULL;
}

/* One seed, in this (child) process; the exit status says how it went */
static int fuzz_seed(__u64 seed)
{
	unsigned int other;
	struct thread th[MAX_THREADS];
	pthread_t tid[MAX_THREADS], wd;
	struct sigaction sa = { .sa_handler = on_timer };
	unsigned int i, k;
	int dev;

	cur_seed = seed;
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: KVM_RUN stops */
	dev = mv_open_dev();
	if (dev < 0) {
		printf("# %s: %s\n", mv_dev_path(), strerror(errno));
		return 4;
	}
	mmap_size = ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	if ((long)mmap_size < (long)PAGE) {
		printf("# KVM_GET_VCPU_MMAP_SIZE: %ld\n", (long)mmap_size);
		return 1;
	}
	obj_add(OBJ_DEV, dev, NULL, NULL);
	ro_page = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	for (i = 0; i < opt_threads; i++) {
		th[i] = (struct thread) {
			.r.s = seed * 0x100000001b3ULL + i * 0x9e37ULL + 1,
			.index = i,
		};
		th[i].scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		th[i].edge = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ro_page == MAP_FAILED || th[i].scratch == MAP_FAILED ||
		    th[i].edge == MAP_FAILED ||
		    mprotect(th[i].edge + PAGE, PAGE, PROT_NONE))
			return 1;
	}
	pthread_create(&wd, NULL, watchdog, NULL);
	for (i = 0; i < opt_threads; i++)
		pthread_create(&tid[i], NULL, thread_main, &th[i]);
	for (i = 0; i < opt_threads; i++)
		pthread_join(tid[i], NULL);

	/* close what is left, in a random order */
	for (k = 0; k < MAX_OBJS; k++) {
		i = rn(&th[0].r, MAX_OBJS);
		pthread_mutex_lock(&tab_lock);
		if (objs[i].used && !objs[i].users)
			obj_free_locked(&objs[i]);
		pthread_mutex_unlock(&tab_lock);
	}
	for (i = 0; i < MAX_OBJS; i++) {
		pthread_mutex_lock(&tab_lock);
		if (objs[i].used && !objs[i].users)
			obj_free_locked(&objs[i]);
		pthread_mutex_unlock(&tab_lock);
	}

	/* the runs that ended in neither an exit counted here nor an errno */
	other = atomic_load(&nr_runs) - nr_exits[KVM_EXIT_IO] -
		nr_exits[KVM_EXIT_MMIO] - nr_exits[KVM_EXIT_HLT] -
		nr_exits[KVM_EXIT_SHUTDOWN] - nr_exits[KVM_EXIT_FAIL_ENTRY] -
		nr_exits[KVM_EXIT_INTERNAL_ERROR] - nr_exits[KVM_EXIT_INTR];
	for (i = 0; i < 128; i++)
		other -= nr_run_errnos[i];
	printf("# seed %llu: %u ioctls, %u KVM_RUNs; exits io %u mmio %u hlt %u ",
	       seed, atomic_load(&nr_ioctls), atomic_load(&nr_runs),
	       nr_exits[KVM_EXIT_IO], nr_exits[KVM_EXIT_MMIO],
	       nr_exits[KVM_EXIT_HLT]);
	printf("shutdown %u fail_entry %u internal %u intr %u other %u; ",
	       nr_exits[KVM_EXIT_SHUTDOWN], nr_exits[KVM_EXIT_FAIL_ENTRY],
	       nr_exits[KVM_EXIT_INTERNAL_ERROR], nr_exits[KVM_EXIT_INTR],
	       other);
	printf("KVM_RUN EINTR %u EFAULT %u EINVAL %u; all ioctls EFAULT %u EINVAL %u\n",
	       nr_run_errnos[EINTR], nr_run_errnos[EFAULT],
	       nr_run_errnos[EINVAL], nr_errnos[EFAULT], nr_errnos[EINVAL]);
	fflush(stdout);
	return atomic_load(&nr_failures) ? 1 : 0;
}

/* ------------------------------------------------------------ main */

/* CPUID 0x40000000: "TCGTCGTCGTCG", QEMU's TCG under the test machine */
static bool cpu_is_tcg(void)
{
	unsigned int a, b, c, d;

	__cpuid_count(0x40000000, 0, a, b, c, d);
	return b == 0x54474354 && c == 0x43544743 && d == 0x47435447;
}

static const char *guest_name(void)
{
	return opt_guest == 0 ? "faithful" : opt_guest == 1 ? "random" : "both";
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"%s [-s SEED] [-S SEEDS] [-n OPS] [-t THREADS] [-m tdp|shadow]\n"
		"          [-g faithful|random|both] [-w SECONDS] [-v]\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	__u64 seed = (__u64)time(NULL);
	unsigned int nseeds = 1, s, failed = 0;
	struct minivisor_info info;
	int c, dev;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("MV_FUZZ_SEEDS"))
		nseeds = strtoul(getenv("MV_FUZZ_SEEDS"), NULL, 0);
	if (getenv("MV_FUZZ_OPS"))
		opt_ops = strtoul(getenv("MV_FUZZ_OPS"), NULL, 0);
	while ((c = getopt(argc, argv, "s:S:n:t:m:g:w:v")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'S':
			nseeds = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			opt_ops = strtoul(optarg, NULL, 0);
			break;
		case 't':
			opt_threads = strtoul(optarg, NULL, 0);
			if (!opt_threads || opt_threads > MAX_THREADS)
				usage(argv[0]);
			break;
		case 'm':
			if (strcmp(optarg, "tdp") && strcmp(optarg, "shadow"))
				usage(argv[0]);
			opt_mmu = optarg;
			break;
		case 'g':
			opt_guest = !strcmp(optarg, "faithful") ? 0 :
				    !strcmp(optarg, "random") ? 1 :
				    !strcmp(optarg, "both") ? 2 : -1;
			if (opt_guest < 0)
				usage(argv[0]);
			break;
		case 'w':
			opt_watchdog = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			opt_verbose = 1;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!opt_mmu) {
		opt_mmu = getenv("MV_MMU");
		if (opt_mmu && !*opt_mmu)
			opt_mmu = NULL;
	}

	printf("TAP version 13\n1..%u\n", nseeds);
	dev = mv_open_dev();
	if (dev < 0) {
		for (s = 0; s < nseeds; s++)
			printf("ok %u fuzz # SKIP %s: %s\n", s + 1,
			       mv_dev_path(), strerror(errno));
		return 0;
	}
	on_kvm = ioctl(dev, MV_GET_INFO, &info) != 0;
	on_tcg = cpu_is_tcg();
	on_bochs = getenv("MV_EMULATOR") && !strcmp(getenv("MV_EMULATOR"), "bochs");
	if (opt_mmu && on_kvm) {
		printf("# -m %s is for minivisor; KVM keeps its own mode\n",
		       opt_mmu);
		opt_mmu = NULL;
	}
	if (opt_mmu) {
		int vm = ioctl(dev, KVM_CREATE_VM, 0);
		int ok = vm >= 0 && !mv_vm_choose_mmu(vm);

		if (vm >= 0)
			close(vm);
		if (!ok) {
			for (s = 0; s < nseeds; s++)
				printf("ok %u fuzz mmu=%s # SKIP this host cannot: %s\n",
				       s + 1, opt_mmu, strerror(errno));
			return 0;
		}
	}
	close(dev);

	for (s = 0; s < nseeds; s++) {
		__u64 sd = seed + s;
		unsigned int waited = 0;
		int st = 0;
		pid_t pid, w;

		printf("# fuzz_test -s %llu -n %u -t %u -m %s -g %s on %s\n",
		       sd, opt_ops, opt_threads, opt_mmu ? opt_mmu : "default",
		       guest_name(), mv_dev_path());
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0)
			_exit(fuzz_seed(sd));
		/* the child's watchdog ends a hung KVM_RUN; this ends it */
		while ((w = waitpid(pid, &st, WNOHANG)) == 0) {
			usleep(100000);
			if (++waited == 10 * (opt_watchdog + 600)) {
				printf("# HANG (seed %llu): killed after %u s\n",
				       sd, waited / 10);
				kill(pid, SIGKILL);
			}
			if (waited > 10 * (opt_watchdog + 660)) {
				printf("not ok %u fuzz seed=%llu # unkillable\n",
				       s + 1, sd);
				return 1;
			}
		}
		if (w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("ok %u fuzz seed=%llu mmu=%s guest=%s\n",
			       s + 1, sd, opt_mmu ? opt_mmu : "default",
			       guest_name());
			continue;
		}
		failed++;
		if (WIFSIGNALED(st))
			printf("not ok %u fuzz seed=%llu # died of signal %d\n",
			       s + 1, sd, WTERMSIG(st));
		else if (WEXITSTATUS(st) == 3)
			printf("not ok %u fuzz seed=%llu # a KVM_RUN hung\n",
			       s + 1, sd);
		else
			printf("not ok %u fuzz seed=%llu # exit status %d\n",
			       s + 1, sd, WEXITSTATUS(st));
	}
	return failed ? 1 : 0;
}
