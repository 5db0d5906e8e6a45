// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O from a 64-bit guest: IN and OUT of 1, 2 and 4 bytes, with the
 * port in an imm8 and in DX.  The host checks every exit against a script
 * and answers the INs; the guest checks what its INs returned, including
 * how they merge into RAX.  Written against <linux/kvm.h> only.
 */
#include "kselftest_harness.h"
#include "lib/guest.h"

#define IMM_PORT	0xe0
#define DX_PORT		0x1230

/* Filler in RAX before an IN: the bits an IN must keep or clear. */
#define FILL		0x1111111111111111ULL

#define IN_IMM(insn, reg, v)						\
	({								\
		__u64 __r = (v);					\
		asm volatile(insn " $0xe0, %%" reg : "+a"(__r));		\
		__r;							\
	})

#define IN_DX(insn, reg, v)						\
	({								\
		__u64 __r = (v);					\
		asm volatile(insn " %%dx, %%" reg			\
			     : "+a"(__r) : "d"(DX_PORT));		\
		__r;							\
	})

static void guest_pio(void)
{
	asm volatile("outb %%al, $0xe0" : : "a"(0x12));
	asm volatile("outw %%ax, $0xe0" : : "a"(0x3456));
	asm volatile("outl %%eax, $0xe0" : : "a"(0x789abcde));
	asm volatile("outb %%al, %%dx" : : "a"(0xf1), "d"(DX_PORT));
	asm volatile("outw %%ax, %%dx" : : "a"(0xf2f3), "d"(DX_PORT));
	asm volatile("outl %%eax, %%dx" : : "a"(0xf4f5f6f7), "d"(DX_PORT));

	/* IN AL and IN AX keep the rest of RAX; IN EAX zero-extends */
	GUEST_ASSERT_EQ(IN_IMM("inb", "al", FILL), 0x11111111111111a5ULL);
	GUEST_ASSERT_EQ(IN_IMM("inw", "ax", FILL), 0x111111111111b6c7ULL);
	GUEST_ASSERT_EQ(IN_IMM("inl", "eax", FILL), 0xd8e9fa0bULL);
	GUEST_ASSERT_EQ(IN_DX("inb", "al", FILL), 0x111111111111115aULL);
	GUEST_ASSERT_EQ(IN_DX("inw", "ax", FILL), 0x1111111111116b7cULL);
	GUEST_ASSERT_EQ(IN_DX("inl", "eax", FILL), 0x8d9eaf10ULL);
}

struct pio {
	__u8 dir, size;
	__u16 port;
	__u32 data;		/* written by an OUT, returned to an IN */
};

static const struct pio script[] = {
	{ KVM_EXIT_IO_OUT, 1, IMM_PORT, 0x12 },
	{ KVM_EXIT_IO_OUT, 2, IMM_PORT, 0x3456 },
	{ KVM_EXIT_IO_OUT, 4, IMM_PORT, 0x789abcde },
	{ KVM_EXIT_IO_OUT, 1, DX_PORT, 0xf1 },
	{ KVM_EXIT_IO_OUT, 2, DX_PORT, 0xf2f3 },
	{ KVM_EXIT_IO_OUT, 4, DX_PORT, 0xf4f5f6f7 },
	{ KVM_EXIT_IO_IN, 1, IMM_PORT, 0xa5 },
	{ KVM_EXIT_IO_IN, 2, IMM_PORT, 0xb6c7 },
	{ KVM_EXIT_IO_IN, 4, IMM_PORT, 0xd8e9fa0b },
	{ KVM_EXIT_IO_IN, 1, DX_PORT, 0x5a },
	{ KVM_EXIT_IO_IN, 2, DX_PORT, 0x6b7c },
	{ KVM_EXIT_IO_IN, 4, DX_PORT, 0x8d9eaf10 },
};

TEST(pio_sizes_and_forms)
{
	struct mv_vcpu *vcpu;
	struct mv_ucall uc;
	struct mv_vm *vm;
	char buf[512];

	vm = mv_vm_create(16 << 20);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	vcpu = mv_vcpu_add(vm, 0, guest_pio, 0, 0);
	if (!vcpu && errno == EOPNOTSUPP)
		SKIP(mv_vm_free(vm); return, "no vCPUs on this backend yet");
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));

	for (unsigned int i = 0; i < ARRAY_SIZE(script); i++) {
		const struct pio *p = &script[i];
		struct kvm_run *run = vcpu->run;
		__u32 v = 0;
		__u8 *data;

		ASSERT_EQ(0, mv_vcpu_run(vcpu));
		mv_get_ucall(vcpu, &uc);
		ASSERT_EQ(KVM_EXIT_IO, run->exit_reason)
			TH_LOG("step %u: %s", i, mv_exit_str(vcpu, &uc, buf, sizeof(buf)));
		EXPECT_EQ(p->dir, run->io.direction) TH_LOG("step %u", i);
		EXPECT_EQ(p->size, run->io.size) TH_LOG("step %u", i);
		EXPECT_EQ(p->port, run->io.port) TH_LOG("step %u", i);
		EXPECT_EQ(1, run->io.count) TH_LOG("step %u", i);
		data = (__u8 *)run + run->io.data_offset;
		if (p->dir == KVM_EXIT_IO_OUT) {
			memcpy(&v, data, p->size);
			EXPECT_EQ(p->data, v) TH_LOG("step %u", i);
		} else {
			memcpy(data, &p->data, p->size);
		}
	}
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	mv_vm_free(vm);
}

/*
 * KVM_SET_REGS between a port exit and the next KVM_RUN moves the guest:
 * the access is then dropped, not completed where the guest now is (KVM
 * skips the instruction only while the linear RIP is the one of the exit).
 * pio_restart's two-byte INCs count how many of them ran: a skip of the
 * OUT's or IN's two bytes would lose one.  pio_guest_report is not static:
 * the asm names it.
 */
void pio_guest_report(__u64 n, __u64 ax);

void pio_guest_report(__u64 n, __u64 ax)
{
	GUEST_SYNC2(n, ax);
	GUEST_DONE();
}

asm(".pushsection .text\n"
	"pio_restart:\n"
	"\tinc %edi\n"
	"\tinc %edi\n"
	"\tinc %edi\n"
	"\tmov %eax, %esi\n"
	"\tjmp pio_guest_report\n"
	".popsection");

static void guest_out_in(void)
{
	asm volatile("outb %%al, $0xe2" : : "a"(0x33));
	GUEST_SYNC(0xdead);
	asm volatile("inb $0xe2, %%al" : : : "rax");
	GUEST_SYNC(0xdead);
}

TEST(set_regs_after_pio_exit)
{
	struct mv_vcpu *vcpu = NULL;
	struct kvm_regs regs;
	struct mv_ucall uc;
	struct mv_vm *vm;
	char buf[512];

	vm = mv_vm_create(16 << 20);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	for (int in = 0; in <= 1; in++) {
		vcpu = in ? vcpu : mv_vcpu_add(vm, 0, guest_out_in, 0, 0);
		if (!vcpu && errno == EOPNOTSUPP)
			SKIP(mv_vm_free(vm); return, "no vCPUs on this backend yet");
		ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
		if (in) {
			/* to the IN this time */
			ASSERT_EQ(0, mv_vcpu_start(vcpu, guest_out_in, 0, 0));
			ASSERT_EQ(0, mv_vcpu_run(vcpu));
			ASSERT_EQ(KVM_EXIT_IO, vcpu->run->exit_reason);
			ASSERT_EQ(KVM_EXIT_IO_OUT, vcpu->run->io.direction);
			ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
			ASSERT_EQ(0xdead, uc.args[0]);
		}
		ASSERT_EQ(0, mv_vcpu_run(vcpu));
		mv_get_ucall(vcpu, &uc);
		ASSERT_EQ(KVM_EXIT_IO, vcpu->run->exit_reason)
			TH_LOG("%s", mv_exit_str(vcpu, &uc, buf, sizeof(buf)));
		ASSERT_EQ(0xe2, vcpu->run->io.port);
		ASSERT_EQ(in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT,
			  vcpu->run->io.direction);
		if (in)
			*((__u8 *)vcpu->run + vcpu->run->io.data_offset) = 0x5a;

		ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_REGS, &regs));
		regs.rip = MV_ASM_ADDR(pio_restart);
		regs.rdi = 0;
		regs.rax = 0x1234;
		ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_REGS, &regs));
		ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
		EXPECT_EQ(3, uc.args[0]) TH_LOG("%s", in ? "IN" : "OUT");
		/* the IN's data went nowhere */
		EXPECT_EQ(0x1234, uc.args[1]) TH_LOG("%s", in ? "IN" : "OUT");
		ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	}
	mv_vm_free(vm);
}

TEST_HARNESS_MAIN
