// SPDX-License-Identifier: GPL-2.0
/*
 * External interrupts from a userspace irqchip, as KVM's x86 ABI has them
 * (no KVM_CREATE_IRQCHIP): KVM_INTERRUPT, kvm_run's if_flag,
 * ready_for_interrupt_injection, request_interrupt_window with
 * KVM_EXIT_IRQ_WINDOW_OPEN, and cr8 and apic_base.
 *
 * KVM's rules (arch/x86/kvm/x86.c): KVM_INTERRUPT takes vectors below 256
 * and queues the interrupt for the next entry; ready_for_interrupt_injection
 * is 1 when RFLAGS.IF is set, no STI or MOV SS shadow is in force and
 * nothing is queued; a window requested exits as soon as the vCPU is ready
 * after an exit KVM handled itself; run->cr8 is loaded at each KVM_RUN (a
 * value above 15 fails it with EINVAL) and stored at each return, even a
 * failed one.  At a port exit RIP is still that of the OUT.
 *
 * Written against <linux/kvm.h> only: the same tests run on KVM.
 */
#include "kselftest_harness.h"
#include "lib/guest.h"

#define MEM_SIZE	(16ULL << 20)
#define IRQ_PORT	0xe6

MV_CR_ACCESSORS(8)

/* What the guest's interrupt handler saw, in the guest's copy. */
static __u64 irq_count, irq_vector, irq_rip, irq_rsp;

static void guest_irq(struct mv_ex_regs *regs)
{
	irq_count++;
	irq_vector = regs->vector;
	irq_rip = regs->rip;
	irq_rsp = regs->rsp;
}

static __u64 load(__u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Reports count, vector, interrupted RIP and RSP. */
static void guest_report(void)
{
	mv_ucall(UCALL_SYNC, __FILE__, NULL, __LINE__, load(&irq_count),
		 load(&irq_vector), load(&irq_rip), load(&irq_rsp));
}

/*
 * Port exits at labels the host knows.  irq_window_seq: two OUTs with
 * IF clear, then STI, whose shadow covers the NOP, then the OUT at
 * irq_window_label.  irq_open_seq: an OUT, then one at irq_open_after.
 * irq_sti_seq and irq_movss_seq: an OUT in the shadow of STI or MOV SS,
 * then one out of it.  irq_fault_seq: RSP to the fresh stack in RDI, an
 * OUT, RSP back.  Called from asm: RAX and RSI are theirs.
 */
static void call_seq(__u64 seq, __u64 stack)
{
	asm volatile("call *%[seq]" : : [seq] "r"(seq), "D"(stack)
		     : "rax", "rsi", "memory", "cc");
}

#define CALL_SEQ(fn, stack) call_seq(MV_ASM_ADDR(fn), stack)

asm(".pushsection .text\n"
	".globl irq_window_seq, irq_window_out1, irq_window_out2\n"
	".globl irq_window_label\n"
	"irq_window_seq:\n"
	"irq_window_out1:\n"
	"	outb %al, $0xe6\n"
	"irq_window_out2:\n"
	"	outb %al, $0xe6\n"
	"	sti\n"
	"	nop\n"
	"irq_window_label:\n"
	"	outb %al, $0xe6\n"
	"	ret\n"
	".globl irq_open_seq, irq_open_out, irq_open_after\n"
	"irq_open_seq:\n"
	"irq_open_out:\n"
	"	outb %al, $0xe6\n"
	"irq_open_after:\n"
	"	outb %al, $0xe6\n"
	"	ret\n"
	".globl irq_sti_seq, irq_sti_out, irq_sti_out2\n"
	"irq_sti_seq:\n"
	"	cli\n"
	"	sti\n"
	"irq_sti_out:\n"
	"	outb %al, $0xe6\n"
	"irq_sti_out2:\n"
	"	outb %al, $0xe6\n"
	"	ret\n"
	".globl irq_movss_seq, irq_movss_out, irq_movss_out2\n"
	"irq_movss_seq:\n"
	"	mov %ss, %ax\n"
	"	mov %ax, %ss\n"
	"irq_movss_out:\n"
	"	outb %al, $0xe6\n"
	"irq_movss_out2:\n"
	"	outb %al, $0xe6\n"
	"	ret\n"
	".globl irq_fault_seq, irq_fault_out, irq_fault_back\n"
	"irq_fault_seq:\n"
	"	mov %rsp, %rsi\n"
	"	mov %rdi, %rsp\n"
	"irq_fault_out:\n"
	"	outb %al, $0xe6\n"
	"irq_fault_back:\n"
	"	mov %rsi, %rsp\n"
	"	ret\n"
	".popsection\n");

static struct mv_vcpu *irq_vcpu(struct mv_vm **vmp, void *guest_code,
				__u64 arg)
{
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;

	vm = mv_vm_create(MEM_SIZE);
	*vmp = vm;
	if (!vm)
		return NULL;
	vcpu = mv_vcpu_add(vm, 0, guest_code, arg, 0);
	if (!vcpu)
		return NULL;
	for (int v = 0x30; v <= 0x33; v++)
		mv_vm_set_handler(vm, v, guest_irq);
	mv_vm_set_handler(vm, 255, guest_irq);
	return vcpu;
}

static __u64 vcpu_rip(struct mv_vcpu *vcpu)
{
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs))
		return -1ULL;
	return regs.rip;
}

static int inject(struct mv_vcpu *vcpu, __u32 irq)
{
	struct kvm_interrupt i = { .irq = irq };

	return ioctl(vcpu->fd, KVM_INTERRUPT, &i) ? -errno : 0;
}

/* Runs to the next exit: a port exit to IRQ_PORT whose OUT is at @rip. */
#define ASSERT_PORT_EXIT(vcpu, rip)					\
	do {								\
		struct mv_vcpu *__v = (vcpu);				\
		struct mv_ucall __uc;					\
		char __buf[512];					\
									\
		ASSERT_EQ(0, mv_vcpu_run(__v));				\
		mv_get_ucall(__v, &__uc);				\
		ASSERT_EQ(KVM_EXIT_IO, __v->run->exit_reason)		\
			TH_LOG("%s", mv_exit_str(__v, &__uc, __buf,	\
						 sizeof(__buf)));	\
		ASSERT_EQ(IRQ_PORT, __v->run->io.port);			\
		ASSERT_EQ((rip), vcpu_rip(__v));			\
	} while (0)

/* The ucall's OUT is "out %eax, (%dx)", one byte: RIP after it. */
static __u64 ucall_next_rip(struct mv_vcpu *vcpu)
{
	__u64 rip = vcpu_rip(vcpu);
	__u8 *p = mv_gva2hva(vcpu->vm, rip);

	return p && *p == 0xef ? rip + 1 : -1ULL;
}

/* ------------------------------------------------------ KVM_INTERRUPT */

static void guest_sync_report(void)
{
	GUEST_SYNC(0);
	guest_report();
}

TEST(interrupt_vector_range)
{
	struct mv_vcpu *vcpu;
	struct mv_ucall uc;
	struct mv_vm *vm;
	__u64 next;

	vcpu = irq_vcpu(&vm, guest_sync_report, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vm: %s", strerror(errno));
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	ASSERT_EQ(1, vcpu->run->ready_for_interrupt_injection);
	next = ucall_next_rip(vcpu);
	ASSERT_NE(-1ULL, next);
	EXPECT_EQ(-EINVAL, inject(vcpu, 256));
	EXPECT_EQ(-EINVAL, inject(vcpu, ~0U));
	ASSERT_EQ(0, inject(vcpu, 255));
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(255, uc.args[1]);
	EXPECT_EQ(next, uc.args[2]);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

TEST(inject_if_set)
{
	struct mv_vcpu *vcpu;
	struct mv_ucall uc;
	struct mv_vm *vm;
	__u64 next;

	vcpu = irq_vcpu(&vm, guest_sync_report, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vm: %s", strerror(errno));
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(1, vcpu->run->if_flag);
	ASSERT_EQ(1, vcpu->run->ready_for_interrupt_injection);
	next = ucall_next_rip(vcpu);
	ASSERT_NE(-1ULL, next);
	ASSERT_EQ(0, inject(vcpu, 0x30));
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(0x30, uc.args[1]);
	/* the interrupt came before the first instruction after the OUT */
	EXPECT_EQ(next, uc.args[2]);
	EXPECT_EQ(1, vcpu->run->ready_for_interrupt_injection);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

static void guest_cli(void)
{
	asm volatile("cli");
	GUEST_SYNC(0);
	asm volatile("sti");
}

TEST(not_ready_if_clear)
{
	struct mv_vcpu *vcpu;
	struct mv_ucall uc;
	struct mv_vm *vm;

	vcpu = irq_vcpu(&vm, guest_cli, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vm: %s", strerror(errno));
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(0, vcpu->run->if_flag);
	EXPECT_EQ(0, vcpu->run->ready_for_interrupt_injection);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	EXPECT_EQ(1, vcpu->run->if_flag);
	mv_vm_free(vm);
}

/* ---------------------------------------------------- interrupt window */

static void guest_window(void)
{
	asm volatile("cli");
	GUEST_SYNC(0);
	CALL_SEQ(irq_window_seq, 0);
	guest_report();
}

TEST(window_after_sti)
{
	struct mv_vcpu *vcpu;
	struct kvm_run *run;
	struct mv_ucall uc;
	struct mv_vm *vm;
	char buf[512];
	__u64 label = MV_ASM_ADDR(irq_window_label);

	vcpu = irq_vcpu(&vm, guest_window, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vm: %s", strerror(errno));
	run = vcpu->run;
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(0, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);

	run->request_interrupt_window = 1;
	ASSERT_PORT_EXIT(vcpu, MV_ASM_ADDR(irq_window_out1));
	EXPECT_EQ(0, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);
	ASSERT_PORT_EXIT(vcpu, MV_ASM_ADDR(irq_window_out2));
	EXPECT_EQ(0, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);

	/* STI's shadow covers the NOP: the window opens at the label */
	ASSERT_EQ(0, mv_vcpu_run(vcpu));
	mv_get_ucall(vcpu, &uc);
	ASSERT_EQ(KVM_EXIT_IRQ_WINDOW_OPEN, run->exit_reason)
		TH_LOG("%s", mv_exit_str(vcpu, &uc, buf, sizeof(buf)));
	EXPECT_EQ(label, vcpu_rip(vcpu));
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);

	run->request_interrupt_window = 0;
	ASSERT_EQ(0, inject(vcpu, 0x31));
	ASSERT_PORT_EXIT(vcpu, label);
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(0x31, uc.args[1]);
	EXPECT_EQ(label, uc.args[2]);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

static void guest_open(void)
{
	GUEST_SYNC(0);
	CALL_SEQ(irq_open_seq, 0);
	guest_report();
}

TEST(window_already_open)
{
	struct mv_vcpu *vcpu;
	struct kvm_run *run;
	struct mv_ucall uc;
	struct mv_vm *vm;
	__u64 next, after = MV_ASM_ADDR(irq_open_after);

	vcpu = irq_vcpu(&vm, guest_open, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vm: %s", strerror(errno));
	run = vcpu->run;
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	ASSERT_EQ(1, run->ready_for_interrupt_injection);
	next = ucall_next_rip(vcpu);
	ASSERT_NE(-1ULL, next);

	/* at once: only the ucall's OUT completes */
	run->request_interrupt_window = 1;
	ASSERT_EQ(0, mv_vcpu_run(vcpu));
	ASSERT_EQ(KVM_EXIT_IRQ_WINDOW_OPEN, run->exit_reason);
	EXPECT_EQ(next, vcpu_rip(vcpu));
	EXPECT_EQ(1, run->ready_for_interrupt_injection);

	/* the same at a plain OUT; an interrupt there */
	run->request_interrupt_window = 0;
	ASSERT_PORT_EXIT(vcpu, MV_ASM_ADDR(irq_open_out));
	run->request_interrupt_window = 1;
	ASSERT_EQ(0, mv_vcpu_run(vcpu));
	ASSERT_EQ(KVM_EXIT_IRQ_WINDOW_OPEN, run->exit_reason);
	EXPECT_EQ(after, vcpu_rip(vcpu));
	run->request_interrupt_window = 0;
	ASSERT_EQ(0, inject(vcpu, 0x33));
	ASSERT_PORT_EXIT(vcpu, after);
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(0x33, uc.args[1]);
	EXPECT_EQ(after, uc.args[2]);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

/* ----------------------------------------------------------- shadows */

static void guest_shadows(void)
{
	CALL_SEQ(irq_sti_seq, 0);
	CALL_SEQ(irq_movss_seq, 0);
}

TEST(shadow_at_exit)
{
	struct mv_vcpu *vcpu;
	struct kvm_run *run;
	struct mv_ucall uc;
	struct mv_vm *vm;

	vcpu = irq_vcpu(&vm, guest_shadows, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vm: %s", strerror(errno));
	run = vcpu->run;
	ASSERT_PORT_EXIT(vcpu, MV_ASM_ADDR(irq_sti_out));
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);
	ASSERT_PORT_EXIT(vcpu, MV_ASM_ADDR(irq_sti_out2));
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);
	ASSERT_PORT_EXIT(vcpu, MV_ASM_ADDR(irq_movss_out));
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);
	ASSERT_PORT_EXIT(vcpu, MV_ASM_ADDR(irq_movss_out2));
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

/* --------------------------------------------------------------- CR8 */

static void guest_cr8(void)
{
	GUEST_SYNC(read_cr8());
	write_cr8(9);
	GUEST_SYNC(read_cr8());
	GUEST_SYNC(read_cr8());
}

TEST(cr8_in_kvm_run)
{
	struct mv_vcpu *vcpu;
	struct kvm_sregs s;
	struct kvm_run *run;
	struct mv_ucall uc;
	struct mv_vm *vm;

	vcpu = irq_vcpu(&vm, guest_cr8, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vm: %s", strerror(errno));
	run = vcpu->run;
	run->cr8 = 5;
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(5, uc.args[0]);
	EXPECT_EQ(5, run->cr8);
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_SREGS, &s));
	EXPECT_EQ(5, s.cr8);
	EXPECT_EQ(s.apic_base, run->apic_base);
	TH_LOG("apic_base %#llx", (unsigned long long)run->apic_base);

	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(9, uc.args[0]);
	EXPECT_EQ(9, run->cr8);
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_SREGS, &s));
	EXPECT_EQ(9, s.cr8);
	EXPECT_EQ(s.apic_base, run->apic_base);

	/* refused; the return stores the vCPU's CR8 back in kvm_run */
	run->cr8 = 16;
	EXPECT_EQ(-EINVAL, mv_vcpu_run(vcpu));
	EXPECT_EQ(9, run->cr8);
	run->cr8 = 9;
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(9, uc.args[0]);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

/* ---------------------------------------- delivery through a fault */

static void guest_fault(__u64 stack)
{
	CALL_SEQ(irq_fault_seq, stack);
	guest_report();
}

TEST(delivery_fault_once)
{
	struct mv_vcpu *vcpu;
	struct mv_ucall uc;
	struct mv_vm *vm;
	__u64 region, stack;

	vm = mv_vm_create(MEM_SIZE);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	/*
	 * A 2 MiB-aligned region nothing in the guest touched yet, so that
	 * even a huge page of the hypervisor's tables is not there yet.
	 */
	region = mv_vm_alloc(vm, 4 << 20);
	ASSERT_NE(0, region);
	stack = ((region + (2 << 20) - 1) & ~((2ULL << 20) - 1)) +
		MV_PAGE_SIZE;
	vcpu = mv_vcpu_add(vm, 0, guest_fault, stack, 0);
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	mv_vm_set_handler(vm, 0x32, guest_irq);

	ASSERT_PORT_EXIT(vcpu, MV_ASM_ADDR(irq_fault_out));
	ASSERT_EQ(1, vcpu->run->ready_for_interrupt_injection);
	ASSERT_EQ(0, inject(vcpu, 0x32));
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(0x32, uc.args[1]);
	EXPECT_EQ(MV_ASM_ADDR(irq_fault_back), uc.args[2]);
	EXPECT_EQ(stack, uc.args[3]);
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

TEST_HARNESS_MAIN
