// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO: every instruction form an in-kernel decoder must take to a
 * KVM_EXIT_MMIO, on guest-physical addresses no slot covers.  The host
 * checks each exit (address, length, direction, data written) against a
 * script and answers reads through run->mmio.data; the guest checks what
 * it computed from the values read, flags included.  64-bit mode with
 * 64- and 32-bit addressing, segment bases, REX registers; 16-bit
 * addressing in real mode.  Written against <linux/kvm.h> only.
 */
#include "kselftest_harness.h"
#include "lib/guest.h"
#include "lib/vm.h"

#define M		0xc0000000ULL	/* mapped by the guest, no slot */
#define MA(off)		((void *)(uintptr_t)(M + (off)))

#define CF	0x001
#define ZF	0x040
#define SF	0x080
#define OF	0x800
#define FLAGS	(CF | ZF | SF | OF)

struct mmio {
	__u64 gpa;
	__u8 len;
	bool write;
	__u64 data;	/* what a write must carry, or what a read gets */
};

#define W(off, n, v)	((struct mmio){ M + (off), n, true, v })
#define R(off, n, v)	((struct mmio){ M + (off), n, false, v })

/* The exits of guest_mmio(), in order. */
static const struct mmio script[] = {
	/* MOV r/m, reg */
	W(0x00, 1, 0x11), W(0x02, 2, 0x2222), W(0x04, 4, 0x33333333),
	W(0x08, 8, 0x4444444444444444),
	/* MOV reg, r/m */
	R(0x10, 1, 0x55), R(0x12, 2, 0x6666), R(0x14, 4, 0x77777777),
	R(0x18, 8, 0x8888888888888888),
	/* MOV r/m, imm */
	W(0x20, 1, 0x99), W(0x22, 2, 0xaaaa), W(0x24, 4, 0xbbbbbbbb),
	W(0x28, 8, 0xffffffffedcba988),
	/* MOV AL/AX/EAX/RAX, moffs64 and back */
	R(0x30, 1, 0x12), R(0x32, 2, 0x3456), R(0x34, 4, 0x789abcde),
	R(0x38, 8, 0x0123456789abcdef),
	W(0x40, 1, 0xef), W(0x42, 2, 0xcdef), W(0x44, 4, 0x89abcdef),
	W(0x48, 8, 0x0123456789abcdef),
	/* MOVZX, MOVSX, MOVSXD */
	R(0x50, 1, 0x80), R(0x52, 2, 0x8001), R(0x54, 1, 0x80),
	R(0x56, 2, 0x8001), R(0x58, 4, 0x80000001),
	/* MOVS from MMIO to RAM: one, then REP of 3 */
	R(0x60, 1, 0xab), R(0x64, 4, 0x10203040), R(0x68, 4, 0x50607080),
	R(0x6c, 4, 0x90a0b0c0),
	/* MOVS from RAM to MMIO: one, then REP of 3 */
	W(0x70, 8, 0x1122334455667788), W(0x78, 2, 0xa1a2), W(0x7a, 2, 0xb1b2),
	W(0x7c, 2, 0xc1c2),
	/* STOS: one, REP of 4 bytes, REP of 2 qwords */
	W(0x80, 4, 0xfeedf00d), W(0x84, 1, 0x5e), W(0x85, 1, 0x5e),
	W(0x86, 1, 0x5e), W(0x87, 1, 0x5e),
	W(0x88, 8, 0x0102030405060708), W(0x90, 8, 0x0102030405060708),
	/* XCHG: read, then write of the old register value */
	R(0xa0, 4, 0x12345678), W(0xa0, 4, 0xcafebabe),
	R(0xa8, 8, 0x8877665544332211), W(0xa8, 8, 0x0f0e0d0c0b0a0908),
	/* ALU with a memory operand */
	R(0xb0, 4, 0xfffffff0), W(0xb0, 4, 0x00000010),	/* add r/m, reg */
	R(0xb8, 8, 5),					/* sub reg, r/m */
	R(0xc0, 1, 0xf0), W(0xc0, 1, 0x00),		/* and r/m, imm8 */
	R(0xc2, 2, 0x0001), W(0xc2, 2, 0x0101),		/* or r/m, reg */
	R(0xc4, 4, 0xffffffff),				/* xor reg, r/m */
	R(0xc8, 4, 0x100),				/* cmp r/m, imm */
	R(0xd0, 1, 0x80),				/* cmp reg, r/m */
	R(0xd4, 1, 0x80),				/* test r/m, imm */
	R(0xd8, 4, 0x0f),				/* test r/m, reg */
	/* MOVNTI */
	W(0xe0, 4, 0xdeadbeef), W(0xe8, 8, 0xdeadbeefcafef00d),
	/* 32-bit addressing (0x67) */
	R(0xf0, 4, 0x600dc0de), W(0xf4, 1, 0xde),
	/* FS and GS bases */
	R(0x110, 4, 0x0badf00d), W(0x208, 8, 0x0badf00d),
	/* REX registers r8-r15 */
	W(0x300, 8, 0x8080808080808080), R(0x30c, 4, 0x10101010),
	W(0x318, 1, 0x10), R(0x334, 2, 0x9999),
};

#define MOV_W(sfx, reg, off, v)						\
	({								\
		asm volatile("mov" sfx " %" reg "0, (%1)"		\
			     : : "q"((__u64)(v)), "r"(MA(off)) : "memory"); \
	})
#define MOV_R(sfx, reg, off, init)					\
	({								\
		__u64 __v = (init);					\
		asm volatile("mov" sfx " (%1), %" reg "0"		\
			     : "+q"(__v) : "r"(MA(off)) : "memory");	\
		__v;							\
	})
/* @insn, then its flags into operand 0 */
#define ALU(insn, ...)							\
	({								\
		asm volatile(insn "\n\tpushfq\n\tpop %0"		\
			     : __VA_ARGS__ : "memory", "cc");		\
	})

static void guest_mmio(void)
{
	__u64 v, f, ram[4] = { 0 };
	__u64 rs, rd, rc;

	/* MOV r/m, reg */
	MOV_W("b", "b", 0x00, 0x11);
	MOV_W("w", "w", 0x02, 0x2222);
	MOV_W("l", "k", 0x04, 0x33333333);
	MOV_W("q", "q", 0x08, 0x4444444444444444);

	/* MOV reg, r/m: 8 and 16 bits merge, 32 bits zero-extend */
	GUEST_ASSERT_EQ(MOV_R("b", "b", 0x10, -1), 0xffffffffffffff55);
	GUEST_ASSERT_EQ(MOV_R("w", "w", 0x12, -1), 0xffffffffffff6666);
	GUEST_ASSERT_EQ(MOV_R("l", "k", 0x14, -1), 0x77777777);
	GUEST_ASSERT_EQ(MOV_R("q", "q", 0x18, -1), 0x8888888888888888);

	/* MOV r/m, imm; the 64-bit one sign-extends its imm32 */
	asm volatile("movb $0x99, (%0)" : : "r"(MA(0x20)) : "memory");
	asm volatile("movw $0xaaaa, (%0)" : : "r"(MA(0x22)) : "memory");
	asm volatile("movl $0xbbbbbbbb, (%0)" : : "r"(MA(0x24)) : "memory");
	asm volatile("movq $-0x12345678, (%0)" : : "r"(MA(0x28)) : "memory");

	/* A0-A3: MOV with a 64-bit absolute address */
	v = -1;
	asm volatile("movabs 0xc0000030, %%al" : "+a"(v) : : "memory");
	GUEST_ASSERT_EQ(v, 0xffffffffffffff12);
	asm volatile("movabs 0xc0000032, %%ax" : "+a"(v) : : "memory");
	GUEST_ASSERT_EQ(v, 0xffffffffffff3456);
	asm volatile("movabs 0xc0000034, %%eax" : "+a"(v) : : "memory");
	GUEST_ASSERT_EQ(v, 0x789abcde);
	asm volatile("movabs 0xc0000038, %%rax" : "+a"(v) : : "memory");
	GUEST_ASSERT_EQ(v, 0x0123456789abcdef);
	asm volatile("movabs %%al, 0xc0000040" : : "a"(v) : "memory");
	asm volatile("movabs %%ax, 0xc0000042" : : "a"(v) : "memory");
	asm volatile("movabs %%eax, 0xc0000044" : : "a"(v) : "memory");
	asm volatile("movabs %%rax, 0xc0000048" : : "a"(v) : "memory");

	/* MOVZX, MOVSX, MOVSXD */
	v = -1;
	asm volatile("movzbl (%1), %k0" : "+r"(v) : "r"(MA(0x50)) : "memory");
	GUEST_ASSERT_EQ(v, 0x80);
	v = -1;
	asm volatile("movzwl (%1), %k0" : "+r"(v) : "r"(MA(0x52)) : "memory");
	GUEST_ASSERT_EQ(v, 0x8001);
	asm volatile("movsbq (%1), %0" : "=r"(v) : "r"(MA(0x54)) : "memory");
	GUEST_ASSERT_EQ(v, 0xffffffffffffff80);
	v = -1;
	asm volatile("movswl (%1), %k0" : "+r"(v) : "r"(MA(0x56)) : "memory");
	GUEST_ASSERT_EQ(v, 0xffff8001);
	asm volatile("movslq (%1), %0" : "=r"(v) : "r"(MA(0x58)) : "memory");
	GUEST_ASSERT_EQ(v, 0xffffffff80000001);

	/* MOVS, MMIO to RAM */
	rs = M + 0x60;
	rd = (uintptr_t)ram;
	asm volatile("movsb" : "+S"(rs), "+D"(rd) : : "memory");
	GUEST_ASSERT_EQ(ram[0], 0xab);
	GUEST_ASSERT_EQ(rs, M + 0x61);
	rs = M + 0x64;
	rd = (uintptr_t)&ram[1];
	rc = 3;
	asm volatile("rep movsl" : "+S"(rs), "+D"(rd), "+c"(rc) : : "memory");
	GUEST_ASSERT_EQ(ram[1], 0x5060708010203040);
	GUEST_ASSERT_EQ(ram[2], 0x90a0b0c0);
	GUEST_ASSERT_EQ(rc, 0);
	GUEST_ASSERT_EQ(rs, M + 0x70);

	/* MOVS, RAM to MMIO */
	ram[0] = 0x1122334455667788;
	ram[1] = 0xc1c2b1b2a1a2;
	rs = (uintptr_t)ram;
	rd = M + 0x70;
	asm volatile("movsq" : "+S"(rs), "+D"(rd) : : "memory");
	rc = 3;
	asm volatile("rep movsw" : "+S"(rs), "+D"(rd), "+c"(rc) : : "memory");
	GUEST_ASSERT_EQ(rd, M + 0x7e);

	/* STOS */
	rd = M + 0x80;
	asm volatile("stosl" : "+D"(rd) : "a"(0xfeedf00d) : "memory");
	rc = 4;
	asm volatile("rep stosb" : "+D"(rd), "+c"(rc) : "a"(0x5e) : "memory");
	rc = 2;
	asm volatile("rep stosq" : "+D"(rd), "+c"(rc)
		     : "a"(0x0102030405060708) : "memory");
	GUEST_ASSERT_EQ(rd, M + 0x98);

	/* XCHG, 32 bits and with a REX register */
	v = 0xffffffffcafebabe;
	asm volatile("xchg %k0, (%1)" : "+r"(v) : "r"(MA(0xa0)) : "memory");
	GUEST_ASSERT_EQ(v, 0x12345678);
	asm volatile("mov %1, %%r9\n"
		     "xchg %%r9, (%2)\n"
		     "mov %%r9, %0"
		     : "=r"(v) : "r"(0x0f0e0d0c0b0a0908), "r"(MA(0xa8))
		     : "r9", "memory");
	GUEST_ASSERT_EQ(v, 0x8877665544332211);

	/* ALU: each followed by the flags it left; 0xfffffff0 + 0x20 carries */
	ALU("addl %k1, (%2)", "=r"(f) : "r"(0x20), "r"(MA(0xb0)));
	GUEST_ASSERT_EQ(f & FLAGS, CF);
	v = 3;
	ALU("subq (%2), %1", "=r"(f), "+r"(v) : "r"(MA(0xb8)));
	GUEST_ASSERT_EQ(v, -2ULL);
	GUEST_ASSERT_EQ(f & FLAGS, CF | SF);
	ALU("andb $0x0f, (%1)", "=r"(f) : "r"(MA(0xc0)));
	GUEST_ASSERT_EQ(f & FLAGS, ZF);
	ALU("orw %w1, (%2)", "=r"(f) : "r"(0x100), "r"(MA(0xc2)));
	GUEST_ASSERT_EQ(f & FLAGS, 0);
	v = 0xffffffffffffffff;
	ALU("xorl (%2), %k1", "=r"(f), "+r"(v) : "r"(MA(0xc4)));
	GUEST_ASSERT_EQ(f & FLAGS, ZF);
	GUEST_ASSERT_EQ(v, 0);
	ALU("cmpl $0x100, (%1)", "=r"(f) : "r"(MA(0xc8)));
	GUEST_ASSERT_EQ(f & FLAGS, ZF);
	/* 0x7f - 0x80: borrow, negative, signed overflow */
	ALU("cmpb (%2), %b1", "=r"(f) : "q"(0x7f), "r"(MA(0xd0)));
	GUEST_ASSERT_EQ(f & FLAGS, CF | SF | OF);
	ALU("testb $0x80, (%1)", "=r"(f) : "r"(MA(0xd4)));
	GUEST_ASSERT_EQ(f & FLAGS, SF);
	ALU("testl %k1, (%2)", "=r"(f) : "r"(0xf0), "r"(MA(0xd8)));
	GUEST_ASSERT_EQ(f & FLAGS, ZF);

	/* MOVNTI */
	asm volatile("movnti %k0, (%1)" : : "r"(0xdeadbeef), "r"(MA(0xe0)) : "memory");
	asm volatile("movnti %0, (%1)" : : "r"(0xdeadbeefcafef00d), "r"(MA(0xe8))
		     : "memory");
	asm volatile("sfence" : : : "memory");

	/* 32-bit addressing: the 0x67 prefix, EBX as the base */
	asm volatile("movl (%%ebx), %k0" : "=r"(v) : "b"(M + 0xf0) : "memory");
	GUEST_ASSERT_EQ(v, 0x600dc0de);
	asm volatile("movb %b0, 4(%%ebx)" : : "q"(v), "b"(M + 0xf0) : "memory");

	/* segment bases */
	wrmsr(MSR_FS_BASE, M + 0x100);
	wrmsr(MSR_GS_BASE, M + 0x200);
	asm volatile("movl %%fs:0x10, %k0" : "=r"(v) : : "memory");
	GUEST_ASSERT_EQ(v, 0x0badf00d);
	asm volatile("movq %0, %%gs:0x8" : : "r"(v) : "memory");
	wrmsr(MSR_FS_BASE, 0);
	wrmsr(MSR_GS_BASE, 0);

	/* REX registers as data, base and index */
	asm volatile("mov %0, %%r8\n"
		     "mov %1, %%r12\n"
		     "movq %%r8, (%%r12)"
		     : : "r"(0x8080808080808080), "r"(M + 0x300)
		     : "r8", "r12", "memory");
	asm volatile("mov %1, %%r13\n"
		     "mov $-1, %%r10\n"
		     "movl 4(%%r13), %%r10d\n"
		     "mov %%r10, %0"
		     : "=r"(v) : "r"(M + 0x308) : "r10", "r13", "memory");
	GUEST_ASSERT_EQ(v, 0x10101010);
	asm volatile("mov %1, %%r14\n"
		     "mov $4, %%r15\n"
		     "mov %0, %%r11\n"
		     "movb %%r11b, (%%r14,%%r15,2)\n"
		     "mov $-1, %%r9\n"
		     "movw 0x20(%%r15,%%r14), %%r9w\n"
		     "mov %%r9, %0"
		     : "+r"(v) : "r"(M + 0x310)
		     : "r9", "r11", "r14", "r15", "memory");
	GUEST_ASSERT_EQ(v, 0xffffffffffff9999);
}

/* Runs @vcpu through @n scripted MMIO exits, then to UCALL_DONE. */
static void run_script(struct __test_metadata *_metadata,
		       struct mv_vcpu *vcpu, const struct mmio *s,
		       unsigned int n)
{
	struct kvm_run *run = vcpu->run;
	struct mv_ucall uc;
	char buf[512];

	for (unsigned int i = 0; i < n; i++) {
		__u64 got = 0;

		ASSERT_EQ(0, mv_vcpu_run(vcpu));
		mv_get_ucall(vcpu, &uc);
		ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason)
			TH_LOG("step %u (%#llx): %s", i, (unsigned long long)s[i].gpa,
			       mv_exit_str(vcpu, &uc, buf, sizeof(buf)));
		EXPECT_EQ(s[i].gpa, run->mmio.phys_addr) TH_LOG("step %u", i);
		EXPECT_EQ(s[i].len, run->mmio.len) TH_LOG("step %u", i);
		EXPECT_EQ(s[i].write, run->mmio.is_write) TH_LOG("step %u", i);
		if (run->mmio.is_write) {
			memcpy(&got, run->mmio.data, s[i].len);
			EXPECT_EQ(s[i].data, got) TH_LOG("step %u (%#llx)", i,
							 (unsigned long long)s[i].gpa);
		} else {
			memcpy(run->mmio.data, &s[i].data, s[i].len);
		}
	}
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
}

TEST(mmio_64bit)
{
	struct mv_vcpu *vcpu;
	struct mv_vm *vm;

	vm = mv_vm_create(16 << 20);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	ASSERT_EQ(0, mv_vm_map(vm, M, M, 2 << 20, PTE_W));
	vcpu = mv_vcpu_add(vm, 0, guest_mmio, 0, 0);
	if (!vcpu && errno == EOPNOTSUPP)
		SKIP(mv_vm_free(vm); return, "no vCPUs on this backend yet");
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	run_script(_metadata, vcpu, script, ARRAY_SIZE(script));
	mv_vm_free(vm);
}

/* ------------------------------------------------------- real mode */

#define RM	0x20000ULL	/* DS = 0x2000; RAM is the first 64 KiB */

/*
 * Loaded at 0x1000 with CS = 0.  Each OUT to 0x10 shows the host a value
 * the guest computed; it halts at the end.
 */
asm(".pushsection .text\n"
	".code16\n"
	"rm_code:\n"
	"	mov $0x2000, %ax\n"
	"	mov %ax, %ds\n"
	"	movb $0x5a, 0x10\n"
	"	movw $0x1234, 0x12\n"
	"	mov 0x20, %al\n"			/* A0, moffs16 */
	"	out %al, $0x10\n"
	"	mov 0x22, %ax\n"			/* A1 */
	"	out %ax, $0x10\n"
	"	mov $0x30, %bx\n"
	"	mov $2, %si\n"
	"	mov (%bx,%si), %ax\n"
	"	out %ax, $0x10\n"
	"	mov $0x87654321, %eax\n"
	"	mov %eax, (%bx)\n"			/* 32-bit operand, 16-bit address */
	"	movzbw 1(%bx), %ax\n"
	"	out %ax, $0x10\n"
	"	xor %ax, %ax\n"
	"	mov %ax, %es\n"
	"	mov $0x40, %si\n"
	"	mov $0x3000, %di\n"
	"	mov $2, %cx\n"
	"	cld\n"
	"	rep movsw\n"				/* MMIO to RAM */
	"	hlt\n"
	"rm_code_end:\n"
	".code64\n"
	".popsection\n");

static const struct mmio rm_script[] = {
	{ RM + 0x10, 1, true, 0x5a },
	{ RM + 0x12, 2, true, 0x1234 },
	{ RM + 0x20, 1, false, 0x77 },
	{ RM + 0x22, 2, false, 0xbeef },
	{ RM + 0x32, 2, false, 0x4321 },
	{ RM + 0x30, 4, true, 0x87654321 },
	{ RM + 0x31, 1, false, 0x9c },
	{ RM + 0x40, 2, false, 0xa1a2 },
	{ RM + 0x42, 2, false, 0xb1b2 },
};

/* After which step the guest OUTs, and what. */
static const struct {
	unsigned int after;
	__u8 size;
	__u16 value;
} rm_outs[] = {
	{ 2, 1, 0x77 }, { 3, 2, 0xbeef }, { 4, 2, 0x4321 }, { 6, 2, 0x9c },
};

TEST(mmio_real_mode)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct mv_guest g;
	unsigned int o = 0;
	int r;

	r = mv_guest_create(&g, 0, 0x10000);
	if (r == -EOPNOTSUPP)
		SKIP(mv_guest_destroy(&g); return, "no vCPUs on this backend yet");
	ASSERT_EQ(0, r) TH_LOG("guest: %s", strerror(-r));
	mv_guest_put(&g, 0x1000, (void *)MV_ASM_ADDR(rm_code),
		     MV_ASM_ADDR(rm_code_end) - MV_ASM_ADDR(rm_code));
	ASSERT_EQ(0, ioctl(g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	ASSERT_EQ(0, ioctl(g.vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	ASSERT_EQ(0, ioctl(g.vcpu, KVM_SET_REGS, &regs));

	for (unsigned int i = 0; i < ARRAY_SIZE(rm_script); i++) {
		const struct mmio *s = &rm_script[i];
		__u64 got = 0;

		ASSERT_EQ(0, mv_guest_run(&g));
		ASSERT_EQ(KVM_EXIT_MMIO, g.run->exit_reason)
			TH_LOG("step %u: exit %u", i, g.run->exit_reason);
		EXPECT_EQ(s->gpa, g.run->mmio.phys_addr) TH_LOG("step %u", i);
		EXPECT_EQ(s->len, g.run->mmio.len) TH_LOG("step %u", i);
		EXPECT_EQ(s->write, g.run->mmio.is_write) TH_LOG("step %u", i);
		if (s->write) {
			memcpy(&got, g.run->mmio.data, s->len);
			EXPECT_EQ(s->data, got) TH_LOG("step %u", i);
		} else {
			memcpy(g.run->mmio.data, &s->data, s->len);
		}
		if (o < ARRAY_SIZE(rm_outs) && rm_outs[o].after == i) {
			ASSERT_EQ(0, mv_guest_run(&g));
			ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
			EXPECT_EQ(0x10, g.run->io.port);
			EXPECT_EQ(rm_outs[o].size, g.run->io.size);
			EXPECT_EQ(rm_outs[o].value, mv_guest_io_data(&g));
			o++;
		}
	}
	ASSERT_EQ(0, mv_guest_run(&g));
	EXPECT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	EXPECT_EQ(0xa2, g.mem[0x3000]);
	EXPECT_EQ(0xa1, g.mem[0x3001]);
	EXPECT_EQ(0xb2, g.mem[0x3002]);
	EXPECT_EQ(0xb1, g.mem[0x3003]);
	ASSERT_EQ(0, ioctl(g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x44, regs.rsi & 0xffff);
	EXPECT_EQ(0x3004, regs.rdi & 0xffff);
	EXPECT_EQ(0, regs.rcx & 0xffff);
	mv_guest_destroy(&g);
}

TEST_HARNESS_MAIN
