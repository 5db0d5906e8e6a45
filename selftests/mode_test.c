// SPDX-License-Identifier: GPL-2.0
/*
 * Processor modes: 32-bit protected mode with 2-level paging (4 MiB and
 * 4 KiB pages), 64-bit mode through the guest library; control register
 * and EFER bits the guest changes, read back by the guest and seen by
 * KVM_GET_SREGS; page faults from CR0.WP and EFER.NXE; HLT, a triple
 * fault and a signal in 64-bit mode.  Written against <linux/kvm.h> only.
 */
#include <signal.h>
#include <sys/time.h>

#include "kselftest_harness.h"
#include "lib/guest.h"

#define MEM_SIZE	(32ULL << 20)
#define TEST_VA		0x40000000ULL	/* 4 KiB pages in both modes */
#define PORT		0x10

/* ------------------------------------------------ 32-bit protected mode */

/*
 * Starts with paging off, EBX = the page directory; every OUT to PORT is
 * a checkpoint the host checks.  The #PF handler reports CR2 and the
 * error code, then halts.
 */
asm(".pushsection .text\n"
	".code32\n"
	"prot32_code:\n"
	"	mov %ebx, %cr3\n"
	"	mov %cr4, %eax\n"
	"	or $0x10, %eax\n"		/* PSE */
	"	mov %eax, %cr4\n"
	"	mov %cr0, %eax\n"
	"	or $0x80000000, %eax\n"		/* PG */
	"	mov %eax, %cr0\n"
	"	jmp 1f\n"
	"1:	mov %cr0, %eax\n"
	"	out %eax, $0x10\n"		/* 1: CR0 */
	"	mov %cr4, %eax\n"
	"	out %eax, $0x10\n"		/* 2: CR4 */
	"	mov 0x40000000, %eax\n"
	"	out %eax, $0x10\n"		/* 3: read through a 4 KiB page */
	"	movl $0xcafef00d, 0x40000004\n"
	"	movl $0x600dd00d, 0x40001008\n"	/* read-only page, CR0.WP clear */
	"	mov prot32_data, %eax\n"
	"	out %eax, $0x10\n"		/* 4: read through the 4 MiB page */
	"	mov %cr0, %eax\n"
	"	or $0x10000, %eax\n"		/* WP */
	"	mov %eax, %cr0\n"
	"	mov %cr0, %eax\n"
	"	out %eax, $0x10\n"		/* 5: CR0 */
	"	mov %cr4, %eax\n"
	"	or $0x80, %eax\n"		/* PGE */
	"	mov %eax, %cr4\n"
	"	mov %cr4, %eax\n"
	"	out %eax, $0x10\n"		/* 6: CR4 */
	"	and $~0x80, %eax\n"
	"	or $0x600, %eax\n"		/* OSFXSR, OSXMMEXCPT */
	"	mov %eax, %cr4\n"
	"	mov %cr4, %eax\n"
	"	out %eax, $0x10\n"		/* 7: CR4 */
	"	movl $0xbad, 0x4000100c\n"	/* CR0.WP set: #PF */
	"	hlt\n"
	"prot32_pf:\n"
	"	mov %cr2, %eax\n"
	"	out %eax, $0x10\n"		/* 8: CR2 */
	"	pop %eax\n"
	"	out %eax, $0x10\n"		/* 9: error code */
	"	hlt\n"
	"prot32_data: .long 0x3badcafe\n"
	".code64\n"
	".popsection\n");

static void expect_out(struct __test_metadata *_metadata,
		       struct mv_vcpu *vcpu, __u32 want)
{
	struct kvm_run *run = vcpu->run;
	__u32 v;

	ASSERT_EQ(0, mv_vcpu_run(vcpu));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
	ASSERT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
	ASSERT_EQ(PORT, run->io.port);
	ASSERT_EQ(4, run->io.size);
	memcpy(&v, (__u8 *)run + run->io.data_offset, 4);
	EXPECT_EQ(want, v);
}

static __u64 sregs_of(struct __test_metadata *_metadata,
		      struct mv_vcpu *vcpu, int which)
{
	struct kvm_sregs s;

	EXPECT_EQ(0, ioctl(vcpu->fd, KVM_GET_SREGS, &s));
	return which == 0 ? s.cr0 : which == 4 ? s.cr4 : s.efer;
}

#define EXPECT_OUT(want)	expect_out(_metadata, vcpu, want)
#define SREG(n)			sregs_of(_metadata, vcpu, n)

TEST(prot32_paging)
{
	const __u32 cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	__u32 *pd, *pt, *page;
	__u64 pd_gpa, pt_gpa, page_gpa, idt_gpa, stack, pf;
	struct kvm_segment cs, ds;
	struct mv_vcpu *vcpu;
	struct kvm_sregs s;
	struct kvm_regs regs;
	struct mv_vm *vm;
	__u64 *idt;

	vm = mv_vm_create(MEM_SIZE);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	vcpu = mv_vcpu_add(vm, 0, NULL, 0, 0);
	if (!vcpu && errno == EOPNOTSUPP)
		SKIP(mv_vm_free(vm); return, "no vCPUs on this backend yet");
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));

	/* 4 MiB pages 1:1 over the slot; 4 KiB pages at TEST_VA */
	pd_gpa = mv_vm_alloc(vm, 4096);
	pt_gpa = mv_vm_alloc(vm, 4096);
	page_gpa = mv_vm_alloc(vm, 4096);
	idt_gpa = mv_vm_alloc(vm, 4096);
	stack = mv_vm_alloc(vm, 4096) + 4096;
	pd = mv_gpa2hva(vm, pd_gpa);
	pt = mv_gpa2hva(vm, pt_gpa);
	page = mv_gpa2hva(vm, page_gpa);
	for (unsigned int i = 0; i < MEM_SIZE >> 22; i++)
		pd[i] = i << 22 | PTE_PS | PTE_W | PTE_P;
	pd[TEST_VA >> 22] = pt_gpa | PTE_W | PTE_P;
	pt[0] = page_gpa | PTE_W | PTE_P;
	pt[1] = page_gpa | PTE_P;		/* the same page, read-only */
	page[0] = 0x11223344;

	/* a 32-bit interrupt gate for #PF */
	idt = mv_gpa2hva(vm, idt_gpa);
	pf = MV_ASM_ADDR(prot32_pf);
	idt[14] = (pf & 0xffff) | MV_SEL_CODE32 << 16 | 0x8eULL << 40 |
		  (pf >> 16) << 48;

	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_SREGS, &s));
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
	s.idt.base = idt_gpa;
	s.idt.limit = 0x7f;
	s.cr0 = cr0;
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_SREGS, &s));
	memset(&regs, 0, sizeof(regs));
	regs.rip = MV_ASM_ADDR(prot32_code);
	regs.rbx = pd_gpa;
	regs.rsp = stack;
	regs.rflags = 2;
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_REGS, &regs));

	EXPECT_OUT(cr0 | X86_CR0_PG);
	EXPECT_EQ(cr0 | X86_CR0_PG, SREG(0));
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_SREGS, &s));
	EXPECT_EQ(pd_gpa, s.cr3);
	EXPECT_EQ(0, s.efer & EFER_LMA);
	EXPECT_OUT(X86_CR4_PSE);
	EXPECT_EQ(X86_CR4_PSE, SREG(4));
	EXPECT_OUT(0x11223344);
	EXPECT_OUT(0x3badcafe);
	EXPECT_OUT(cr0 | X86_CR0_PG | X86_CR0_WP);
	EXPECT_EQ(cr0 | X86_CR0_PG | X86_CR0_WP, SREG(0));
	EXPECT_OUT(X86_CR4_PSE | X86_CR4_PGE);
	EXPECT_EQ(X86_CR4_PSE | X86_CR4_PGE, SREG(4));
	EXPECT_OUT(X86_CR4_PSE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
	EXPECT_EQ(X86_CR4_PSE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT, SREG(4));
	EXPECT_OUT(TEST_VA + 0x100c);
	EXPECT_OUT(PTE_W | PTE_P);	/* a write to a present page */
	ASSERT_EQ(0, mv_vcpu_run(vcpu));
	EXPECT_EQ(KVM_EXIT_HLT, vcpu->run->exit_reason);

	EXPECT_EQ(0x11223344, page[0]);
	EXPECT_EQ(0xcafef00d, page[1]);
	EXPECT_EQ(0x600dd00d, page[2]);
	EXPECT_EQ(0, page[3]);
	/* the CPU's accessed and dirty bits in the guest's tables */
	EXPECT_EQ(PTE_A | PTE_D, pt[0] & (PTE_A | PTE_D));
	EXPECT_EQ(PTE_A | PTE_D, pt[1] & (PTE_A | PTE_D));
	EXPECT_EQ(PTE_A, pd[TEST_VA >> 22] & PTE_A);
	EXPECT_EQ(PTE_A, pd[regs.rip >> 22] & PTE_A);
	EXPECT_EQ(0, pd[(MEM_SIZE >> 22) - 1] & PTE_A);
	mv_vm_free(vm);
}

/* ------------------------------------------------------ 64-bit mode */

FIXTURE(lm) {
	struct mv_vm *vm;
	struct mv_vcpu *vcpu;
	struct mv_ucall uc;
};

/* A VM and a vCPU; each test starts the vCPU at its guest code. */
FIXTURE_SETUP(lm)
{
	self->vm = mv_vm_create(MEM_SIZE);
	ASSERT_NE(NULL, self->vm) TH_LOG("vm: %s", strerror(errno));
	self->vcpu = mv_vcpu_add(self->vm, 0, NULL, 0, 0);
	if (!self->vcpu && errno == EOPNOTSUPP)
		SKIP(return, "no vCPUs on this backend yet");
	ASSERT_NE(NULL, self->vcpu) TH_LOG("vcpu: %s", strerror(errno));
}

FIXTURE_TEARDOWN(lm)
{
	mv_vm_free(self->vm);
}

#define START(fn, arg)	ASSERT_EQ(0, mv_vcpu_start(self->vcpu, fn, arg, 0))

/*
 * Faulting accesses below are written "lea 1f(%rip), %r11; access; 1:";
 * the handler resumes at R11 and records what the fault was.
 */
static __u64 fault_vector, fault_error, fault_cr2;

static void fixup_handler(struct mv_ex_regs *regs)
{
	fault_vector = regs->vector;
	fault_error = regs->error_code;
	fault_cr2 = read_cr2();
	regs->rip = regs->r11;
}

/* For a fault on the fetch of a function: return to its caller. */
static void fetch_fault_handler(struct mv_ex_regs *regs)
{
	fault_vector = regs->vector;
	fault_error = regs->error_code;
	fault_cr2 = read_cr2();
	regs->rip = *(__u64 *)regs->rsp;
	regs->rsp += 8;
}

static void guest_write_ro(__u64 va)
{
	asm volatile("lea 1f(%%rip), %%r11\n"
		     "movl $0x5555aaaa, (%0)\n"
		     "1:"
		     : : "r"(va) : "r11", "memory");
}

#define RO_VA		(TEST_VA + 0x1000)
#define NX_VA		(TEST_VA + 0x2000)
#define PF_PRESENT	0x1
#define PF_WRITE	0x2
#define PF_FETCH	0x10

static void guest_cr_bits(bool has_nx)
{
	const __u64 cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET |
			     X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	const __u64 cr4 = X86_CR4_PAE | X86_CR4_OSFXSR |
			     X86_CR4_OSXMMEXCPT;
	__u64 v;

	GUEST_ASSERT_EQ(read_cr0(), cr0);
	GUEST_ASSERT_EQ(read_cr4(), cr4);
	GUEST_ASSERT_EQ(rdmsr(MSR_EFER), EFER_LME | EFER_LMA);

	write_cr4(cr4 | X86_CR4_PGE);
	GUEST_SYNC(read_cr4());
	write_cr4(cr4);
	GUEST_SYNC(read_cr4());

	/* SSE off and on again: nothing compiled may run in between */
	asm volatile("mov %%cr4, %%rax\n"
		     "and $~0x600, %%rax\n"
		     "mov %%rax, %%cr4\n"
		     "mov %%cr4, %0\n"
		     "or $0x600, %%rax\n"
		     "mov %%rax, %%cr4\n"
		     : "=r"(v) : : "rax");
	GUEST_ASSERT_EQ(v, X86_CR4_PAE);
	GUEST_ASSERT_EQ(read_cr4(), cr4);

	/* CR0.WP: a supervisor write to a read-only page faults */
	guest_write_ro(RO_VA + 8);
	GUEST_ASSERT_EQ(fault_vector, 14);
	GUEST_ASSERT_EQ(fault_error, PF_PRESENT | PF_WRITE);
	GUEST_ASSERT_EQ(fault_cr2, RO_VA + 8);
	GUEST_ASSERT_EQ(__atomic_load_n((__u32 *)(RO_VA + 8), __ATOMIC_RELAXED), 0);
	fault_vector = 0;
	write_cr0(cr0 & ~X86_CR0_WP);
	GUEST_SYNC(read_cr0());
	guest_write_ro(RO_VA + 8);
	GUEST_ASSERT_EQ(fault_vector, 0);
	GUEST_ASSERT_EQ(__atomic_load_n((__u32 *)(RO_VA + 8), __ATOMIC_RELAXED),
			0x5555aaaa);
	write_cr0(cr0);
	GUEST_SYNC(read_cr0());

	if (!has_nx)
		return;
	/* EFER.NXE: a fetch from an NX page faults */
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	GUEST_SYNC(rdmsr(MSR_EFER));
	((void (*)(void))NX_VA)();
	GUEST_ASSERT_EQ(fault_vector, 14);
	GUEST_ASSERT_EQ(fault_error, PF_PRESENT | PF_FETCH);
	GUEST_ASSERT_EQ(fault_cr2, NX_VA);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_NXE);
	GUEST_SYNC(rdmsr(MSR_EFER));
}

static bool host_has_nx(struct mv_vm *vm)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	bool nx = false;

	c->nent = 256;
	if (!ioctl(vm->dev, KVM_GET_SUPPORTED_CPUID, c))
		for (unsigned int i = 0; i < c->nent; i++)
			if (c->entries[i].function == 0x80000001)
				nx = c->entries[i].edx & (1U << 20);
	free(c);
	return nx;
}

TEST_F(lm, cr_and_efer_bits)
{
	const __u64 cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET |
			     X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	const __u64 cr4 = X86_CR4_PAE | X86_CR4_OSFXSR |
			     X86_CR4_OSXMMEXCPT;
	bool nx = host_has_nx(self->vm);
	__u64 ro, code;
	struct mv_vcpu *vcpu;

	ro = mv_vm_alloc(self->vm, 4096);
	code = mv_vm_alloc(self->vm, 4096);
	ASSERT_EQ(0, mv_vm_map(self->vm, RO_VA, ro, 4096, 0));
	ASSERT_EQ(0, mv_vm_map(self->vm, NX_VA, code, 4096, PTE_NX));
	*(__u8 *)mv_gpa2hva(self->vm, code) = 0xc3;	/* ret */
	START(guest_cr_bits, nx);
	vcpu = self->vcpu;
	mv_vm_set_handler(self->vm, 14, fixup_handler);

	ASSERT_UCALL(vcpu, &self->uc, UCALL_SYNC);
	EXPECT_EQ(cr4 | X86_CR4_PGE, self->uc.args[0]);
	EXPECT_EQ(cr4 | X86_CR4_PGE, SREG(4));
	ASSERT_UCALL(vcpu, &self->uc, UCALL_SYNC);
	EXPECT_EQ(cr4, self->uc.args[0]);
	EXPECT_EQ(cr4, SREG(4));
	ASSERT_UCALL(vcpu, &self->uc, UCALL_SYNC);
	EXPECT_EQ(cr0 & ~X86_CR0_WP, self->uc.args[0]);
	EXPECT_EQ(cr0 & ~X86_CR0_WP, SREG(0));
	EXPECT_EQ(0, *(__u32 *)mv_gpa2hva(self->vm, ro + 8));
	ASSERT_UCALL(vcpu, &self->uc, UCALL_SYNC);
	EXPECT_EQ(cr0, self->uc.args[0]);
	EXPECT_EQ(cr0, SREG(0));
	EXPECT_EQ(0x5555aaaa, *(__u32 *)mv_gpa2hva(self->vm, ro + 8));
	if (nx) {
		mv_vm_set_handler(self->vm, 14, fetch_fault_handler);
		ASSERT_UCALL(vcpu, &self->uc, UCALL_SYNC);
		EXPECT_EQ(EFER_LME | EFER_LMA | EFER_NXE, self->uc.args[0]);
		EXPECT_EQ(EFER_LME | EFER_LMA | EFER_NXE, SREG(8));
		ASSERT_UCALL(vcpu, &self->uc, UCALL_SYNC);
		EXPECT_EQ(EFER_LME | EFER_LMA, self->uc.args[0]);
		EXPECT_EQ(EFER_LME | EFER_LMA, SREG(8));
	}
	ASSERT_UCALL(vcpu, &self->uc, UCALL_DONE);
}

/* GUEST_ASSERT failures and unclaimed exceptions reach the host. */
static void guest_fail(int how)
{
	__u64 x = 41;

	/* not a constant to the compiler */
	asm volatile("" : "+r"(x));
	if (how == 0)
		GUEST_ASSERT_EQ(x + 1, 43);
	asm volatile("ud2");
}

TEST_F(lm, guest_assert_and_exception)
{
	START(guest_fail, 0);
	ASSERT_EQ(UCALL_ASSERT, mv_vcpu_run_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(42, self->uc.args[0]);
	EXPECT_EQ(43, self->uc.args[1]);
	EXPECT_STREQ(__FILE__, self->uc.file);
	EXPECT_STREQ("x + 1 == 43", self->uc.expr);
	/* it stays failed */
	ASSERT_EQ(UCALL_ASSERT, mv_vcpu_run_ucall(self->vcpu, &self->uc));
}

TEST_F(lm, unhandled_exception)
{
	START(guest_fail, 1);
	ASSERT_EQ(UCALL_UNHANDLED, mv_vcpu_run_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(6, self->uc.args[0]);		/* #UD */
	EXPECT_EQ(0, self->uc.args[1]);
	EXPECT_EQ(0x0b0f, *(__u16 *)mv_gva2hva(self->vm, self->uc.args[2]));
}

/* HLT leaves the guest; KVM_RUN resumes after it. */
static void guest_hlt(void)
{
	GUEST_SYNC(1);
	asm volatile("hlt");
	GUEST_SYNC(2);
}

TEST_F(lm, hlt)
{
	struct kvm_regs regs;

	START(guest_hlt, 0);
	ASSERT_UCALL(self->vcpu, &self->uc, UCALL_SYNC);
	EXPECT_EQ(1, self->uc.args[0]);
	ASSERT_EQ(0, mv_vcpu_run(self->vcpu));
	ASSERT_EQ(KVM_EXIT_HLT, self->vcpu->run->exit_reason);
	ASSERT_EQ(0, ioctl(self->vcpu->fd, KVM_GET_REGS, &regs));
	EXPECT_EQ(0xf4, *(__u8 *)mv_gva2hva(self->vm, regs.rip - 1));
	ASSERT_UCALL(self->vcpu, &self->uc, UCALL_SYNC);
	EXPECT_EQ(2, self->uc.args[0]);
	ASSERT_UCALL(self->vcpu, &self->uc, UCALL_DONE);
}

/* An exception with an empty IDT: #UD, #GP, #DF, shutdown. */
static void guest_triple_fault(void)
{
	__u16 idtr[5] = { 0 };		/* limit 0, base 0 */

	GUEST_SYNC(0);
	asm volatile("lidt %0\n"
		     "ud2" : : "m"(idtr));
}

TEST_F(lm, triple_fault)
{
	START(guest_triple_fault, 0);
	ASSERT_UCALL(self->vcpu, &self->uc, UCALL_SYNC);
	ASSERT_EQ(0, mv_vcpu_run(self->vcpu));
	EXPECT_EQ(KVM_EXIT_SHUTDOWN, self->vcpu->run->exit_reason);
}

/*
 * A push onto a stack nothing maps: the #PF cannot be delivered there, so
 * a #DF is, on the library's own stack for it, and reaches the host with
 * the stack that failed in its frame.
 */
#define BAD_STACK	0x80000000ULL	/* beyond MEM_SIZE, TEST_VA: unmapped */

static void guest_bad_stack(void)
{
	GUEST_SYNC(0);
	asm volatile("mov %0, %%rsp\n\t"
		     "push %%rax" : : "r"(BAD_STACK) : "memory");
}

TEST_F(lm, stack_fault_is_double_fault)
{
	__u64 *frame;

	START(guest_bad_stack, 0);
	ASSERT_UCALL(self->vcpu, &self->uc, UCALL_SYNC);
	ASSERT_EQ(UCALL_UNHANDLED, mv_vcpu_run_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(8, self->uc.args[0]);		/* #DF */
	EXPECT_EQ(0, self->uc.args[1]);
	/* error code, RIP, CS, RFLAGS, RSP, SS at the top of its stack */
	frame = mv_gpa2hva(self->vm, self->vm->df_stack - 6 * 8);
	ASSERT_NE(NULL, frame);
	EXPECT_EQ(BAD_STACK, frame[4]);
	EXPECT_EQ(MV_SEL_CODE64, frame[2]);
	EXPECT_EQ(0x50, *(__u8 *)mv_gva2hva(self->vm, frame[1]));  /* push */
}

/* Spins until the host sets stop (its copy in guest memory). */
static int stop;

static void guest_spin(void)
{
	GUEST_SYNC(0);
	asm volatile("sti");
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		;
	asm volatile("cli");
}

static void on_alarm(int sig)
{
}

TEST_F(lm, signal_interrupts_guest)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };

	START(guest_spin, 0);
	ASSERT_UCALL(self->vcpu, &self->uc, UCALL_SYNC);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, mv_vcpu_run(self->vcpu));
	EXPECT_EQ(KVM_EXIT_INTR, self->vcpu->run->exit_reason);

	/* the guest goes on where it was */
	__atomic_store_n((int *)mv_gva2hva(self->vm, (uintptr_t)&stop), 1,
			 __ATOMIC_RELAXED);
	ASSERT_UCALL(self->vcpu, &self->uc, UCALL_DONE);
}

TEST_HARNESS_MAIN
