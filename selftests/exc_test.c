// SPDX-License-Identifier: GPL-2.0
/*
 * Guest exceptions the hypervisor must intercept, and the debug registers.
 *
 * - The guest's DR0-DR7 read back what it wrote, with DR6 and DR7's fixed
 *   bits; it never sees the host's breakpoint addresses (a watchpoint the
 *   test arms on its own thread with perf_event_open()), and that
 *   watchpoint still fires after the guest ran.
 * - Breakpoints the guest arms fire in the guest, with DR6 saying which:
 *   a data breakpoint, an instruction breakpoint the handler resumes from
 *   with RFLAGS.RF (no loop), a single step; none fires in the host.
 * - A #DB whose delivery raises #DB again (a data breakpoint on the IDT
 *   gate of #DB, the CVE-2015-8104 loop) and an #AC whose delivery raises
 *   #AC again (a misaligned ring-3 stack with CR0.AM and EFLAGS.AC, the
 *   CVE-2015-5307 loop): the CPU must not stay inside the delivery for
 *   ever: a signal gets KVM_RUN out with -EINTR, and SIGKILL ends the VMM.
 * - A plain #AC reaches the guest's handler with error code 0 and RF set.
 *
 * Written against <linux/kvm.h> only: the same tests run on KVM.
 */
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>

#include "kselftest_harness.h"
#include "lib/guest.h"

#define MEM_SIZE	(16ULL << 20)
#define RFLAGS_TF	0x100ULL
#define RFLAGS_RF	0x10000ULL
#define RFLAGS_AC	0x40000ULL
#define X86_CR0_AM	_BITULL(18)
/* DR6 bits a guest without RTM and bus-lock detection may see change */
#define DR6_VOLATILE	0xe00fULL
#define DR6_INIT	0xffff0ff0ULL
/* KVM clears bit 16 (RTM) or 11 (bus lock) for guests that have them */
#define DR6_MASK	(~0x10800ULL)
#define DR6_BS		0x4000ULL

#define DR_ACCESSORS(n)							\
static inline __u64 get_dr##n(void)					\
{									\
	__u64 v;							\
									\
	asm volatile("mov %%db" #n ", %0" : "=r"(v));			\
	return v;							\
}									\
static inline void set_dr##n(__u64 v)					\
{									\
	asm volatile("mov %0, %%db" #n : : "r"(v) : "memory");		\
}

DR_ACCESSORS(0)
DR_ACCESSORS(1)
DR_ACCESSORS(2)
DR_ACCESSORS(3)
DR_ACCESSORS(6)
DR_ACCESSORS(7)

static void sync4(__u64 a, __u64 b, __u64 c, __u64 d)
{
	mv_ucall(UCALL_SYNC, __FILE__, NULL, __LINE__, a, b, c, d);
}

static void on_alarm(int sig)
{
}

/*
 * QEMU's TCG (the SVM test machine) arms the breakpoints of DR7 only on a
 * MOV to DR7, not when VMRUN loads a guest's: there a guest's breakpoints
 * never fire under minivisor, and kvm_amd, which lets the guest move to
 * DR7 itself, leaves them armed in the host and the machine dies.
 */
static bool breakpoints_unemulated(void)
{
	__u32 r[4];

	cpuid(0x40000000, 0, r);
	return r[1] == 0x54474354 && r[2] == 0x43544743 && r[3] == 0x47435447;
}

/* Arms a SIGALRM in @ms milliseconds that interrupts KVM_RUN. */
static int alarm_in(unsigned int ms)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = {
		.it_value = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 },
	};

	if (sigaction(SIGALRM, &sa, NULL))
		return -errno;
	return setitimer(ITIMER_REAL, &it, NULL) ? -errno : 0;
}

/* A write watchpoint of the host on @addr, on this thread; -1 if none. */
static int host_watchpoint(void *addr)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(a),
		.bp_type = HW_BREAKPOINT_W,
		.bp_addr = (uintptr_t)addr,
		.bp_len = HW_BREAKPOINT_LEN_8,
		.sample_period = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};

	return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static __u64 watch_count(int fd)
{
	__u64 n = ~0ULL;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return ~0ULL;
	return n;
}

/* ------------------------------------------------ the debug registers */

/* the host's watched variable; the guest has a copy at the same address */
static __u64 host_var;
/* the guest's watched variable */
static __u64 guest_var;

/* stores the compiler must make, where the hardware watches them */
#define STORE(var, v)	__atomic_store_n(&(var), (v), __ATOMIC_SEQ_CST)

static void guest_gp(struct mv_ex_regs *regs)
{
	/* a MOV to DR7 with a register below R8: 0f 23 /r, three bytes */
	regs->rip += 3;
	regs->rax = 0x6d;
}

static void guest_dr_regs(void)
{
	__u64 v;

	/* the reset values, not the host's */
	sync4(get_dr0(), get_dr1(), get_dr2(), get_dr3());
	set_dr0(0x1000);
	set_dr1(0x7fff2000);
	set_dr2(0xffffffff80003000ULL);
	set_dr3(0x4001);
	sync4(get_dr0(), get_dr1(), get_dr2(), get_dr3());
	set_dr6(0);
	set_dr7(0);
	GUEST_SYNC2(get_dr6(), get_dr7());
	set_dr6(DR6_VOLATILE);
	/* lengths and types of all four, none enabled; LE and GE */
	set_dr7(0xfdfd0300ULL);
	GUEST_SYNC2(get_dr6(), get_dr7());
	/* DR7 bits 63:32 are reserved: #GP, the value unchanged */
	v = 1ULL << 32;
	asm volatile("mov %0, %%db7" : "+a"(v));
	GUEST_SYNC2(v, get_dr7());
	set_dr7(0x400);
}

TEST(debug_registers)
{
	struct mv_ucall uc;
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;
	int fd;

	fd = host_watchpoint((void *)&host_var);
	if (fd < 0)
		SKIP(return, "no hardware breakpoint for the host: %s",
		     strerror(errno));
	STORE(host_var, 1);
	ASSERT_EQ(1, watch_count(fd));

	vm = mv_vm_create(MEM_SIZE);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	vcpu = mv_vcpu_add(vm, 0, guest_dr_regs, 0, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	mv_vm_set_handler(vm, 13, guest_gp);

	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	TH_LOG("host watchpoint at %p; guest DR0-3 %llx %llx %llx %llx",
	       &host_var, uc.args[0], uc.args[1], uc.args[2], uc.args[3]);
	EXPECT_EQ(0, uc.args[0]);
	EXPECT_EQ(0, uc.args[1]);
	EXPECT_EQ(0, uc.args[2]);
	EXPECT_EQ(0, uc.args[3]);

	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(0x1000, uc.args[0]);
	EXPECT_EQ(0x7fff2000, uc.args[1]);
	EXPECT_EQ(0xffffffff80003000ULL, uc.args[2]);
	EXPECT_EQ(0x4001, uc.args[3]);

	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(DR6_INIT & DR6_MASK, uc.args[0] & DR6_MASK);
	EXPECT_EQ(0x400, uc.args[1]);

	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ((DR6_INIT | DR6_VOLATILE) & DR6_MASK, uc.args[0] & DR6_MASK);
	EXPECT_EQ(0xfdfd0700ULL, uc.args[1]);

	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(0x6d, uc.args[0]);
	EXPECT_EQ(0xfdfd0700ULL, uc.args[1]);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);

	/* the host's watchpoint is where it was */
	STORE(host_var, 2);
	EXPECT_EQ(2, watch_count(fd));
	close(fd);
	mv_vm_free(vm);
}

/* What the guest's #DB handler saw, in the guest's copy. */
static __u64 db_count, db_dr6, db_rip;

asm(".pushsection .text\n"
	".globl bp_target\n"
	"bp_target:\n"
	"	ret\n"
	".popsection\n");

static void guest_db(struct mv_ex_regs *regs)
{
	db_count++;
	db_dr6 = get_dr6();
	db_rip = regs->rip;
	set_dr6(DR6_INIT);
	/* an instruction breakpoint: go on past it */
	if (regs->rip == MV_ASM_ADDR(bp_target))
		regs->rflags |= RFLAGS_RF;
	regs->rflags &= ~RFLAGS_TF;
}

static void guest_arms_breakpoints(void)
{
	/* DR0: a write of guest_var, 8 bytes; DR1: fetch at bp_target */
	set_dr0((uintptr_t)&guest_var);
	set_dr1(MV_ASM_ADDR(bp_target));
	set_dr7(0x400 | 1 | 4 | (0x1 << 16) | (0x3 << 18));
	STORE(guest_var, 1);
	sync4(db_count, db_dr6, db_rip, 0);

	asm volatile("call bp_target" ::: "memory");
	sync4(db_count, db_dr6, db_rip, MV_ASM_ADDR(bp_target));
	/* the guest's breakpoints stay armed through the host's exits */
}

static void guest_single_step(void)
{
	/* the instruction after the POPF that sets TF, then a #DB */
	asm volatile("pushf\n"
		     "orq $0x100, (%%rsp)\n"
		     "popf\n"
		     "nop\n"
		     "nop\n" : : : "memory", "cc");
	sync4(db_count, db_dr6, 0, 0);
}

TEST(single_step)
{
	struct mv_ucall uc;
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;

	vm = mv_vm_create(MEM_SIZE);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	vcpu = mv_vcpu_add(vm, 0, guest_single_step, 0, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	mv_vm_set_handler(vm, 1, guest_db);
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(DR6_BS, uc.args[1] & DR6_VOLATILE);
	EXPECT_EQ(DR6_INIT & DR6_MASK, uc.args[1] & ~DR6_VOLATILE & DR6_MASK);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

/* ------------------------------------- single step over exiting insns */

/* RFLAGS.TF set by POPF: the instruction after it is the one stepped */
#define STEP_PRE	"pushf\n\torq $0x100, (%%rsp)\n\tpopf\n\t"
#define STEP_PORT	0x80
#define STEP_IN_VAL	0xa5
#define STEP_MMIO	0xc0000000ULL	/* mapped by the guest, no slot */
#define STEP_MMIO_VAL	0x12345678U

enum step_case {
	STEP_CPUID, STEP_OUT, STEP_IN, STEP_RDMSR, STEP_MMIO_READ,
	STEP_MMIO_WRITE, STEP_HLT, STEP_MOV_DR, STEP_CASES,
};

static const char *const step_names[] = {
	"CPUID", "OUT", "IN", "RDMSR", "MMIO read", "MMIO write", "HLT",
	"MOV to DR0",
};

/*
 * Each instruction exits and the hypervisor completes it (skips it or
 * emulates it): with TF set as it began, the #DB of the single step comes
 * right after it, DR6.BS set, at the address of the label that follows.
 * The handler clears TF: one #DB per case.
 */
static void guest_step_exits(void)
{
	__u64 next = 0, v = 0;
	__u32 a, b, c, d;
	int i;

	/*
	 * Without TF first: the MMIO page's guest page tables mapped in the
	 * second-level tables, KVM's MOV DR exiting off (it lets the guest
	 * own the registers after the first access).  Else an exit that
	 * only maps memory and retries the instruction comes before it,
	 * and Bochs 2.7 then delivers the step at the retried instruction
	 * on the way back in, before it ran.
	 */
	v = *(__u32 *)STEP_MMIO;
	set_dr0(0);

	for (i = 0; i < STEP_CASES; i++) {
		db_count = 0;
		db_dr6 = 0;
		db_rip = 0;
		switch (i) {
		case STEP_CPUID:
			a = 0;
			c = 0;
			asm volatile(STEP_PRE "cpuid\n1:\tlea 1b(%%rip), %4"
				     : "+a"(a), "=b"(b), "+c"(c), "=d"(d),
				       "=r"(next) : : "memory", "cc");
			break;
		case STEP_OUT:
			asm volatile(STEP_PRE "outb %%al, $0x80\n"
				     "1:\tlea 1b(%%rip), %0"
				     : "=r"(next) : "a"(0x5a) : "memory", "cc");
			break;
		case STEP_IN:
			asm volatile(STEP_PRE "inb $0x80, %%al\n"
				     "1:\tlea 1b(%%rip), %1"
				     : "+a"(v), "=r"(next) : : "memory", "cc");
			break;
		case STEP_RDMSR:
			asm volatile(STEP_PRE "rdmsr\n1:\tlea 1b(%%rip), %2"
				     : "=a"(a), "=d"(d), "=r"(next)
				     : "c"(0x1a0) : "memory", "cc");
			break;
		case STEP_MMIO_READ:
			asm volatile(STEP_PRE "movl (%2), %k0\n"
				     "1:\tlea 1b(%%rip), %1"
				     : "=&r"(v), "=&r"(next) : "r"(STEP_MMIO)
				     : "memory", "cc");
			break;
		case STEP_MMIO_WRITE:
			asm volatile(STEP_PRE "movl %k1, (%2)\n"
				     "1:\tlea 1b(%%rip), %0"
				     : "=&r"(next) : "r"(STEP_MMIO_VAL),
				       "r"(STEP_MMIO) : "memory", "cc");
			break;
		case STEP_HLT:
			asm volatile(STEP_PRE "hlt\n1:\tlea 1b(%%rip), %0"
				     : "=r"(next) : : "memory", "cc");
			break;
		case STEP_MOV_DR:
			asm volatile(STEP_PRE "mov %1, %%db0\n"
				     "1:\tlea 1b(%%rip), %0"
				     : "=&r"(next) : "r"(0x1000ULL)
				     : "memory", "cc");
			break;
		}
		sync4(db_count, db_dr6, db_rip, next);
	}
	(void)b;
	(void)c;
	GUEST_SYNC(v);
}

/* Runs to the next ucall, answering the port, MMIO and HLT exits. */
static __u64 step_run(struct mv_vcpu *vcpu, struct mv_ucall *uc,
		      unsigned int *mmio_writes)
{
	struct kvm_run *run = vcpu->run;
	__u32 val = STEP_MMIO_VAL;

	for (;;) {
		if (mv_vcpu_run(vcpu))
			return UCALL_NONE;
		if (run->exit_reason == KVM_EXIT_HLT)
			continue;
		if (run->exit_reason == KVM_EXIT_MMIO) {
			if (!run->mmio.is_write)
				memcpy(run->mmio.data, &val, sizeof(val));
			else if (!memcmp(run->mmio.data, &val, sizeof(val)))
				++*mmio_writes;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.port == STEP_PORT) {
			if (run->io.direction == KVM_EXIT_IO_IN)
				*((__u8 *)run + run->io.data_offset) =
					STEP_IN_VAL;
			continue;
		}
		return mv_get_ucall(vcpu, uc);
	}
}

TEST(single_step_exits)
{
	bool on_kvm = strstr(mv_dev_path(), "kvm");
	unsigned int i, mmio_writes = 0;
	struct mv_ucall uc;
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;
	char buf[512];

	vm = mv_vm_create(MEM_SIZE);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	ASSERT_EQ(0, mv_vm_map(vm, STEP_MMIO, STEP_MMIO, 2 << 20, PTE_W));
	vcpu = mv_vcpu_add(vm, 0, guest_step_exits, 0, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	mv_vm_set_handler(vm, 1, guest_db);

	for (i = 0; i < STEP_CASES; i++) {
		ASSERT_EQ(UCALL_SYNC, step_run(vcpu, &uc, &mmio_writes))
			TH_LOG("%s: %s", step_names[i],
			       mv_exit_str(vcpu, &uc, buf, sizeof(buf)));
		TH_LOG("%s: %llu #DB, DR6 %llx, at %llx (next %llx)",
		       step_names[i], uc.args[0], uc.args[1], uc.args[2],
		       uc.args[3]);
		/*
		 * KVM 6.12 finishes an MMIO write without the step (in
		 * complete_emulated_mmio(), "FIXME: return into emulator if
		 * single-stepping"): the CPU steps the next instruction.
		 */
		if (on_kvm && i == STEP_MMIO_WRITE)
			continue;
		/*
		 * KVM exits on the first MOV DR after each exit and lets the
		 * guest retry it natively; Bochs 2.7 then delivers the step
		 * before the retried instruction runs.
		 */
		if (on_kvm && i == STEP_MOV_DR)
			continue;
		EXPECT_EQ(1, uc.args[0]) TH_LOG("%s", step_names[i]);
		EXPECT_EQ(DR6_BS, uc.args[1] & DR6_VOLATILE)
			TH_LOG("%s", step_names[i]);
		EXPECT_EQ(uc.args[3], uc.args[2]) TH_LOG("%s", step_names[i]);
	}
	ASSERT_EQ(UCALL_SYNC, step_run(vcpu, &uc, &mmio_writes));
	/* the emulated read got the MMIO data, the write reached userspace */
	EXPECT_EQ(STEP_MMIO_VAL, uc.args[0]);
	EXPECT_EQ(1, mmio_writes);
	ASSERT_EQ(UCALL_DONE, step_run(vcpu, &uc, &mmio_writes));
	mv_vm_free(vm);
}

/*
 * MOV SS holds back the single step of its own for one instruction: with
 * TF set, one #DB comes after the instruction that follows, here a CPUID
 * the hypervisor completes.
 */
static void guest_step_mov_ss(void)
{
	__u32 a = 0, b, c = 0, d;
	__u64 next;

	/* the GDT mapped first (see guest_step_exits()) */
	asm volatile("mov %%ss, %%esi\n\tmov %%esi, %%ss" : : : "rsi");
	db_count = 0;
	asm volatile("mov %%ss, %%esi\n\t" STEP_PRE
		     "mov %%esi, %%ss\n\t"
		     "cpuid\n1:\tlea 1b(%%rip), %4"
		     : "+a"(a), "=b"(b), "+c"(c), "=d"(d), "=r"(next)
		     : : "rsi", "memory", "cc");
	sync4(db_count, db_dr6, db_rip, next);
}

TEST(single_step_mov_ss)
{
	struct mv_ucall uc;
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;

	vm = mv_vm_create(MEM_SIZE);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	vcpu = mv_vcpu_add(vm, 0, guest_step_mov_ss, 0, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	mv_vm_set_handler(vm, 1, guest_db);
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	TH_LOG("%llu #DB, DR6 %llx, at %llx (next %llx)", uc.args[0],
	       uc.args[1], uc.args[2], uc.args[3]);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(DR6_BS, uc.args[1] & DR6_BS);
	EXPECT_EQ(uc.args[3], uc.args[2]);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

/*
 * ICEBP (INT1, F1): a trap-like #DB through the guest's IDT, RIP past
 * the instruction, no DR6 condition bit of its own.
 */
static void guest_icebp(void)
{
	__u64 next;

	db_count = 0;
	asm volatile(".byte 0xf1\n1:\tlea 1b(%%rip), %0"
		     : "=r"(next) : : "memory");
	sync4(db_count, db_dr6, db_rip, next);
}

TEST(icebp)
{
	struct mv_ucall uc;
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;
	char buf[512];

	vm = mv_vm_create(MEM_SIZE);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	vcpu = mv_vcpu_add(vm, 0, guest_icebp, 0, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	mv_vm_set_handler(vm, 1, guest_db);
	if (mv_vcpu_run_ucall(vcpu, &uc) == UCALL_UNHANDLED &&
	    uc.args[0] == 6 && breakpoints_unemulated())
		SKIP(mv_vm_free(vm); return,
		     "QEMU's TCG raises #UD for ICEBP (kvm_amd alike)");
	ASSERT_EQ(UCALL_SYNC, uc.cmd)
		TH_LOG("%s", mv_exit_str(vcpu, &uc, buf, sizeof(buf)));
	TH_LOG("%llu #DB, DR6 %llx, at %llx (next %llx)", uc.args[0],
	       uc.args[1], uc.args[2], uc.args[3]);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(uc.args[3], uc.args[2]);
	EXPECT_EQ(0, uc.args[1] & DR6_VOLATILE);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

TEST(guest_breakpoints)
{
	struct mv_ucall uc;
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;
	int fd;

	if (breakpoints_unemulated())
		SKIP(return, "QEMU's TCG does not arm a guest's breakpoints");
	fd = host_watchpoint((void *)&host_var);
	vm = mv_vm_create(MEM_SIZE);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	vcpu = mv_vcpu_add(vm, 0, guest_arms_breakpoints, 0, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	mv_vm_set_handler(vm, 1, guest_db);

	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(1, uc.args[1] & DR6_VOLATILE);
	EXPECT_EQ(DR6_INIT & DR6_MASK, uc.args[1] & ~DR6_VOLATILE & DR6_MASK);

	/* once: RF lets the instruction run */
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(2, uc.args[0]);
	EXPECT_EQ(2, uc.args[1] & DR6_VOLATILE);
	EXPECT_EQ(uc.args[3], uc.args[2]);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);

	/* neither the guest's breakpoints fire here, nor are the host's lost */
	STORE(guest_var, 5);
	if (fd >= 0) {
		STORE(host_var, 3);
		EXPECT_EQ(1, watch_count(fd));
		close(fd);
	}
	mv_vm_free(vm);
}

/* ---------------------------------------------- exception delivery loops */

/* #DB handler runs: the CPU did not loop in the delivery */
static __u64 loop_escaped;

static void guest_db_escaped(struct mv_ex_regs *regs)
{
	set_dr7(0x400);
	loop_escaped++;
	GUEST_SYNC(0xdb);
}

/*
 * A read-write breakpoint on the IDT gate of #DB, then a read of it: each
 * delivery of the #DB reads the gate and raises the next.
 */
static void guest_db_loop(void)
{
	/* SIDT stores a 2-byte limit, then the 8-byte base */
	__u8 idtr[10];
	__u64 base;

	asm volatile("sidt %0" : "=m"(idtr));
	memcpy(&base, idtr + 2, sizeof(base));
	set_dr0(base + 16);
	set_dr7(0x400 | 1 | (0x3 << 16) | (0x3 << 18));
	GUEST_SYNC(0);
	(void)__atomic_load_n((__u64 *)(base + 16), __ATOMIC_SEQ_CST);
	GUEST_SYNC(1);
}

/* The loop's VM; #DB on its own stack (IST 1), as a kernel would. */
static struct mv_vcpu *db_loop_vcpu(struct mv_vm **vmp)
{
	struct mv_vm *vm = mv_vm_create(MEM_SIZE);
	struct mv_vcpu *vcpu;
	__u64 *idt, stack;

	*vmp = vm;
	if (!vm)
		return NULL;
	vcpu = mv_vcpu_add(vm, 0, guest_db_loop, 0, 0);
	if (!vcpu)
		return NULL;
	stack = mv_vm_alloc(vm, 4 * MV_PAGE_SIZE);
	if (!stack)
		return NULL;
	/* IST1 at offset 0x24 of the 64-bit TSS; the gate's IST field */
	*(__u64 *)((__u8 *)mv_gpa2hva(vm, vm->tss) + 0x24) =
		stack + 4 * MV_PAGE_SIZE;
	idt = mv_gpa2hva(vm, vm->idt);
	idt[2] |= 1ULL << 32;
	mv_vm_set_handler(vm, 1, guest_db_escaped);
	return vcpu;
}

TEST(db_delivery_loop)
{
	struct mv_ucall uc;
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;
	int r;

	if (breakpoints_unemulated())
		SKIP(return, "QEMU's TCG does not arm a guest's breakpoints");
	vcpu = db_loop_vcpu(&vm);
	ASSERT_NE(NULL, vcpu) TH_LOG("vm: %s", strerror(errno));
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	ASSERT_EQ(0, uc.args[0]);

	ASSERT_EQ(0, alarm_in(500));
	r = mv_vcpu_run(vcpu);
	if (r == 0 && vcpu->run->exit_reason == KVM_EXIT_IO &&
	    *(__u64 *)mv_gva2hva(vm, (uintptr_t)&loop_escaped))
		SKIP(mv_vm_free(vm); return,
		     "this CPU raises no #DB on the IDT read of a delivery");
	EXPECT_EQ(-EINTR, r);
	EXPECT_EQ(KVM_EXIT_INTR, vcpu->run->exit_reason);
	mv_vm_free(vm);
}

/* A VMM whose vCPU loops: SIGKILL ends it. */
TEST(db_delivery_loop_killable)
{
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;
	int p[2], status;
	pid_t pid;
	char c;

	if (breakpoints_unemulated())
		SKIP(return, "QEMU's TCG does not arm a guest's breakpoints");
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		vcpu = db_loop_vcpu(&vm);
		if (!vcpu)
			_exit(2);
		if (write(p[1], "x", 1) != 1)
			_exit(3);
		for (;;)
			mv_vcpu_run(vcpu);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	usleep(300000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
}

/* ------------------------------------------------------------ CR4.MCE */

#define X86_CR4_MCE	_BITULL(6)

/*
 * The hypervisor keeps the host's CR4.MCE in the CPU under the guest (a
 * #MC there must come to the host): the guest still sees its own.
 */
static void guest_cr4_mce(void)
{
	__u64 cr4 = read_cr4();

	write_cr4(cr4 & ~X86_CR4_MCE);
	GUEST_SYNC(read_cr4());
	write_cr4(cr4 | X86_CR4_MCE);
	GUEST_SYNC2(read_cr4(), cr4);
}

TEST(cr4_mce_guest_view)
{
	struct mv_ucall uc;
	struct mv_vcpu *vcpu;
	struct kvm_sregs s;
	struct mv_vm *vm;
	__u64 want;

	vm = mv_vm_create(MEM_SIZE);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	vcpu = mv_vcpu_add(vm, 0, guest_cr4_mce, 0, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_SREGS, &s));
	want = s.cr4 & ~X86_CR4_MCE;

	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(want, uc.args[0]);
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_SREGS, &s));
	EXPECT_EQ(want, s.cr4);
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(want | X86_CR4_MCE, uc.args[0]);
	EXPECT_EQ(want, uc.args[1]);
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_SREGS, &s));
	EXPECT_EQ(want | X86_CR4_MCE, s.cr4);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

/* -------------------------------------------- #AC, in 32-bit ring 3 */

/* GDT entries of the 32-bit ring-3 tests, after the library's six */
#define SEL_UCODE32	(0x30 | 3)
#define SEL_UDATA	(0x38 | 3)
#define AC_PORT		0xac
#define AC_NONE_PORT	0xad

/*
 * Protected mode, paging off, CR0.AM set by the host.  From ring 0, an
 * IRET to ring 3 with EFLAGS.AC and IOPL 3, ESP = EBX; there a misaligned
 * read through DS, reloaded with ring 3's data segment (the IRET left it
 * null).  The #AC gate (DPL 3) leads to ring 3: no stack switch, so its
 * frame goes where ESP is.  With ESP aligned, the handler reports the
 * error code, the EFLAGS image and the CS image pushed, then spins (the
 * test has seen what it wants by then).  With ESP
 * misaligned, pushing the frame raises #AC again, and again.  A CPU that
 * does not check alignment gets to the OUT to AC_NONE_PORT.
 */
asm(".pushsection .text\n"
	".code32\n"
	"ac32_start:\n"
	"	pushl $0x3b\n"			/* SS */
	"	pushl %ebx\n"			/* ESP */
	"	pushl $0x43202\n"		/* EFLAGS: AC, IOPL 3, IF */
	"	pushl $0x33\n"			/* CS */
	"	pushl $ac32_user\n"
	"	iret\n"
	"ac32_user:\n"
	"	mov $0x3b, %eax\n"
	"	mov %eax, %ds\n"
	"	mov $0x2001, %ecx\n"
	"	mov (%ecx), %eax\n"		/* misaligned: #AC */
	"	out %eax, $0xad\n"
	"1:	jmp 1b\n"
	"ac32_handler:\n"
	"	pop %eax\n"
	"	out %eax, $0xac\n"		/* the error code */
	"	mov 4(%esp), %eax\n"
	"	out %eax, $0xac\n"		/* CS */
	"	mov 8(%esp), %eax\n"
	"	out %eax, $0xac\n"		/* EFLAGS */
	"2:	jmp 2b\n"
	".code64\n"
	".popsection\n");

static __u64 gdt_entry(__u32 base, __u32 limit, __u16 flags)
{
	return (limit & 0xffff) | (__u64)(base & 0xffffff) << 16 |
	       (__u64)flags << 40 | (__u64)(limit >> 16 & 0xf) << 48 |
	       (__u64)(base >> 24) << 56;
}

/* A vCPU at ac32_start, ring 0, with ESP for ring 3 @misalign off. */
static struct mv_vcpu *ac32_vcpu(struct mv_vm **vmp, unsigned int misalign)
{
	struct mv_vm *vm = mv_vm_create(MEM_SIZE);
	struct kvm_segment cs, ds;
	struct mv_vcpu *vcpu;
	struct kvm_regs regs;
	struct kvm_sregs s;
	__u64 *gdt, *idt, idt_gpa, stack, fn;

	*vmp = vm;
	if (!vm)
		return NULL;
	vcpu = mv_vcpu_add(vm, 0, NULL, 0, 0);
	idt_gpa = mv_vm_alloc(vm, MV_PAGE_SIZE);
	stack = mv_vm_alloc(vm, 2 * MV_PAGE_SIZE);
	if (!vcpu || !idt_gpa || !stack)
		return NULL;
	gdt = mv_gpa2hva(vm, vm->gdt);
	gdt[6] = gdt_entry(0, 0xfffff, 0xc0fb);	/* ring-3 code, 32-bit */
	gdt[7] = gdt_entry(0, 0xfffff, 0xc0f3);	/* ring-3 data */
	/* #AC: a 32-bit interrupt gate, DPL 3, to ring-3 code */
	idt = mv_gpa2hva(vm, idt_gpa);
	fn = MV_ASM_ADDR(ac32_handler);
	idt[17] = (fn & 0xffff) | (__u64)SEL_UCODE32 << 16 | 0xeeULL << 40 |
		  (fn >> 16) << 48;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s))
		return NULL;
	cs = (struct kvm_segment) {
		.limit = 0xffffffff, .selector = MV_SEL_CODE32, .type = 0xb,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
	ds = cs;
	ds.selector = MV_SEL_DATA;
	ds.type = 0x3;
	s.cs = cs;
	s.ds = ds;
	s.es = ds;
	s.fs = ds;
	s.gs = ds;
	s.ss = ds;
	s.gdt.limit = 0x3f;
	s.idt.base = idt_gpa;
	s.idt.limit = 0xff;
	s.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_AM;
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s))
		return NULL;
	memset(&regs, 0, sizeof(regs));
	regs.rip = MV_ASM_ADDR(ac32_start);
	regs.rsp = stack + MV_PAGE_SIZE;
	regs.rbx = stack + 2 * MV_PAGE_SIZE - 0x100 + misalign;
	regs.rflags = 2;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs))
		return NULL;
	return vcpu;
}

/* Runs to an OUT; its port, and the value in *@v; -1 for another exit. */
static int ac32_out(struct mv_vcpu *vcpu, __u32 *v)
{
	struct kvm_run *run = vcpu->run;

	if (mv_vcpu_run(vcpu) || run->exit_reason != KVM_EXIT_IO ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4)
		return -1;
	memcpy(v, (__u8 *)run + run->io.data_offset, 4);
	return run->io.port;
}

TEST(ac_reflected)
{
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;
	__u32 v;
	int port;

	vcpu = ac32_vcpu(&vm, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vm: %s", strerror(errno));
	port = ac32_out(vcpu, &v);
	if (port == AC_NONE_PORT)
		SKIP(mv_vm_free(vm); return, "this CPU checks no alignment");
	ASSERT_EQ(AC_PORT, port) TH_LOG("exit %u", vcpu->run->exit_reason);
	EXPECT_EQ(0, v);			/* error code */
	ASSERT_EQ(AC_PORT, ac32_out(vcpu, &v));
	EXPECT_EQ(SEL_UCODE32, v & 0xffff);
	ASSERT_EQ(AC_PORT, ac32_out(vcpu, &v));
	/* AC and IOPL as they were; RF set, as for any fault */
	EXPECT_EQ(RFLAGS_AC | 0x3000, v & (RFLAGS_AC | 0x3000));
	EXPECT_EQ(RFLAGS_RF, v & RFLAGS_RF);
	mv_vm_free(vm);
}

TEST(ac_delivery_loop)
{
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;
	__u32 v;
	int r;

	vcpu = ac32_vcpu(&vm, 1);
	ASSERT_NE(NULL, vcpu) TH_LOG("vm: %s", strerror(errno));
	ASSERT_EQ(0, alarm_in(500));
	r = mv_vcpu_run(vcpu);
	if (!r && vcpu->run->exit_reason == KVM_EXIT_IO &&
	    vcpu->run->io.port == AC_NONE_PORT)
		SKIP(mv_vm_free(vm); return, "this CPU checks no alignment");
	/*
	 * The guest loops as the CPU would, one exit per round, until the
	 * signal; or the hypervisor gives up on an exception raised while
	 * delivering one, as kvm_intel does (KVM_INTERNAL_ERROR_SIMUL_EX).
	 * Either way KVM_RUN returned.
	 */
	if (!r && vcpu->run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		EXPECT_EQ(KVM_INTERNAL_ERROR_SIMUL_EX,
			  vcpu->run->internal.suberror);
	} else {
		EXPECT_EQ(-EINTR, r)
			TH_LOG("exit %u", vcpu->run->exit_reason);
		EXPECT_EQ(KVM_EXIT_INTR, vcpu->run->exit_reason);
	}
	(void)v;
	mv_vm_free(vm);
}

TEST_HARNESS_MAIN
