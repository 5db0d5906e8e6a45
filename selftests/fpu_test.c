// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's FPU and XSAVE state: KVM_GET/SET_FPU, KVM_GET/SET_XSAVE,
 * KVM_GET_XSAVE2, KVM_GET/SET_XCRS and their errors; guests that read and
 * write x87, SSE and AVX registers; the host thread's registers across
 * KVM_RUN; two vCPUs' states; XSETBV and XGETBV in the guest, and the XSAVE
 * bits of CPUID.  Written against <linux/kvm.h> only; what the CPU has
 * (AVX, which XCR0 bits) is read from KVM_GET_SUPPORTED_CPUID, never
 * assumed.
 *
 * Guests run in flat 32-bit protected mode, with a small IDT whose #UD and
 * #GP handlers report the vector, the error code and the faulting EIP on
 * ports 0xe0, 0xe1 and 0xe2.
 */
#include <cpuid.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "lib/vm.h"

#define GDT_GPA		0x500
#define IDT_GPA		0x600
#define TSS_GPA		0x700
#define UD_GPA		0x800
#define GP_GPA		0x820
#define CODE_GPA	0x1000
#define DATA_GPA	0x8000
#define STACK_GPA	0x9000

#define PORT_DATA	0x10
#define PORT_VECTOR	0xe0
#define PORT_ERROR	0xe1
#define PORT_EIP	0xe2

#define CR4_OSFXSR	0x200
#define CR4_OSXMMEXCPT	0x400
#define CR4_OSXSAVE	0x40000
#define CR4_SSE		(CR4_OSFXSR | CR4_OSXMMEXCPT)

#define XCR0_FP		0x1ULL
#define XCR0_SSE	0x2ULL
#define XCR0_YMM	0x4ULL

#define CPUID1_XSAVE	0x04000000U
#define CPUID1_OSXSAVE	0x08000000U
#define CPUID1_AVX	0x10000000U

/* struct kvm_xsave's region: the legacy area, the header, components */
#define XS_FCW		0
#define XS_FSW		2
#define XS_FTW		4
#define XS_MXCSR	24
#define XS_ST(i)	(32 + 16 * (i))
#define XS_XMM(i)	(160 + 16 * (i))
#define XS_XSTATE_BV	512
#define XS_XCOMP_BV	520

/* Reports the vector, the error code and EIP of the exception. */
static const unsigned char ud_handler[] = {
		0xb8, 0x06, 0x00, 0x00, 0x00,			/* mov eax, 6 */
		0xe7, 0xe0,					/* out 0xe0, eax */
		0x58,						/* pop eax */
		0xe7, 0xe2,					/* out 0xe2, eax */
		0xf4,						/* hlt */
};

static const unsigned char gp_handler[] = {
		0xb8, 0x0d, 0x00, 0x00, 0x00,			/* mov eax, 13 */
		0xe7, 0xe0,					/* out 0xe0, eax */
		0x58,						/* pop eax */
		0xe7, 0xe1,					/* out 0xe1, eax */
		0x58,						/* pop eax */
		0xe7, 0xe2,					/* out 0xe2, eax */
		0xf4,						/* hlt */
};

/* What the device offers: from KVM_GET_SUPPORTED_CPUID. */
struct offer {
	struct kvm_cpuid2 *cpuid;
	__u64 xcr0;		/* leaf 0xd, subleaf 0, EDX:EAX */
	bool avx;		/* YMM state and CPUID.1:ECX.AVX */
	__u32 ymm_offset;	/* where YMM_Hi128 is in the standard format */
	__u32 ymm_size;
};

static struct kvm_cpuid_entry2 *find_leaf(struct kvm_cpuid2 *c, __u32 fn,
					  __u32 index)
{
	for (__u32 i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == index))
			return &c->entries[i];
	return NULL;
}

static void get_offer(struct __test_metadata *_metadata, int dev,
		      struct offer *o)
{
	struct kvm_cpuid_entry2 *e, *l1;

	memset(o, 0, sizeof(*o));
	o->cpuid = calloc(1, sizeof(*o->cpuid) +
			  256 * sizeof(o->cpuid->entries[0]));
	ASSERT_NE(NULL, o->cpuid);
	o->cpuid->nent = 256;
	ASSERT_EQ(0, ioctl(dev, KVM_GET_SUPPORTED_CPUID, o->cpuid));
	l1 = find_leaf(o->cpuid, 1, 0);
	ASSERT_NE(NULL, l1);
	e = find_leaf(o->cpuid, 0xd, 0);
	if (!e || !(l1->ecx & CPUID1_XSAVE))
		return;
	o->xcr0 = e->eax | (__u64)e->edx << 32;
	o->avx = (o->xcr0 & XCR0_YMM) && (l1->ecx & CPUID1_AVX);
	e = find_leaf(o->cpuid, 0xd, 2);
	if (o->avx && e) {
		o->ymm_size = e->eax;
		o->ymm_offset = e->ebx;
	}
}

/*
 * Flat segments: 8 ring-0 code, 0x10 ring-0 data, 0x18/0x20 ring 3; 0x28 an
 * available 32-bit TSS at TSS_GPA, for a guest that loads TR itself.
 */
static const __u64 gdt[] = {
	0, 0x00cf9a000000ffffULL, 0x00cf92000000ffffULL,
	0x00cffa000000ffffULL, 0x00cff2000000ffffULL, 0x0000890007000067ULL,
};

/* Puts the GDT, the IDT (#UD, #GP), the TSS and the handlers in memory. */
static void put_tables(struct mv_guest *g)
{
	__u32 esp0_ss0[2] = { STACK_GPA, 0x10 };
	__u64 idt[32] = { 0 };

	/* 32-bit interrupt gates, selector 8 */
	idt[6] = (UD_GPA & 0xffff) | (8ULL << 16) | (0x8eULL << 40);
	idt[13] = (GP_GPA & 0xffff) | (8ULL << 16) | (0x8eULL << 40);
	mv_guest_put(g, GDT_GPA, gdt, sizeof(gdt));
	mv_guest_put(g, IDT_GPA, idt, sizeof(idt));
	mv_guest_put(g, TSS_GPA + 4, esp0_ss0, sizeof(esp0_ss0));
	mv_guest_put(g, UD_GPA, ud_handler, sizeof(ud_handler));
	mv_guest_put(g, GP_GPA, gp_handler, sizeof(gp_handler));
}

static struct kvm_segment flat(__u16 sel, __u8 type)
{
	return (struct kvm_segment) {
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
}

/*
 * Gives vCPU @fd the table @cpuid and starts it at CODE_GPA in 32-bit
 * protected mode with CR4 = @cr4.
 */
static void start_pm32(struct __test_metadata *_metadata, int fd,
		       struct kvm_cpuid2 *cpuid, __u64 cr4)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	ASSERT_EQ(0, ioctl(fd, KVM_SET_CPUID2, cpuid));
	ASSERT_EQ(0, ioctl(fd, KVM_GET_SREGS, &sregs));
	sregs.cs = flat(0x8, 0xb);
	sregs.ds = flat(0x10, 0x3);
	sregs.es = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.tr = (struct kvm_segment) {
		.base = TSS_GPA, .selector = 0x28, .limit = 0x67, .type = 0xb,
		.present = 1,
	};
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = sizeof(gdt) - 1;
	sregs.idt.base = IDT_GPA;
	sregs.idt.limit = 32 * 8 - 1;
	sregs.cr0 = 0x11;		/* ET, PE */
	sregs.cr4 = cr4;
	sregs.efer = 0;
	ASSERT_EQ(0, ioctl(fd, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rsp = STACK_GPA;
	regs.rflags = 2;
	ASSERT_EQ(0, ioctl(fd, KVM_SET_REGS, &regs));
}

/* Runs the guest to its next OUT to @port; the data. */
static __u32 next_out(struct __test_metadata *_metadata, struct mv_guest *g,
		      int port)
{
	__u32 v = 0;

	ASSERT_EQ(0, mv_guest_run(g));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	EXPECT_EQ(KVM_EXIT_IO_OUT, g->run->io.direction);
	EXPECT_EQ(port, g->run->io.port);
	EXPECT_EQ(4, g->run->io.size);
	memcpy(&v, (char *)g->run + g->run->io.data_offset, 4);
	return v;
}

#define OUT(g, port) next_out(_metadata, g, port)

static void run_to_hlt(struct __test_metadata *_metadata, struct mv_guest *g)
{
	ASSERT_EQ(0, mv_guest_run(g));
	ASSERT_EQ(KVM_EXIT_HLT, g->run->exit_reason);
}

/* The guest took exception @vector (error code @error if >= 0) at @eip. */
static void expect_fault(struct __test_metadata *_metadata, struct mv_guest *g,
			 __u32 vector, int error, __u32 eip)
{
	EXPECT_EQ(vector, OUT(g, PORT_VECTOR));
	if (error >= 0)
		EXPECT_EQ((__u32)error, OUT(g, PORT_ERROR));
	EXPECT_EQ(eip, OUT(g, PORT_EIP));
	run_to_hlt(_metadata, g);
}

static __u64 get_xcr0(struct __test_metadata *_metadata, int fd)
{
	struct kvm_xcrs x;

	memset(&x, 0xff, sizeof(x));
	EXPECT_EQ(0, ioctl(fd, KVM_GET_XCRS, &x));
	EXPECT_EQ(1U, x.nr_xcrs);
	EXPECT_EQ(0U, x.flags);
	EXPECT_EQ(0U, x.xcrs[0].xcr);
	return x.xcrs[0].value;
}

static int set_xcr0(int fd, __u64 value)
{
	struct kvm_xcrs x = { .nr_xcrs = 1, .xcrs[0].value = value };

	return ioctl(fd, KVM_SET_XCRS, &x) ? errno : 0;
}

static void put32(void *p, size_t off, __u32 v)
{
	memcpy((char *)p + off, &v, sizeof(v));
}

static __u32 get32(const void *p, size_t off)
{
	__u32 v;

	memcpy(&v, (const char *)p + off, sizeof(v));
	return v;
}

/* Every dword of the 16-byte register at @p + @off is @v. */
static bool all32(const void *p, size_t off, __u32 v)
{
	for (int i = 0; i < 4; i++)
		if (get32(p, off + 4 * i) != v)
			return false;
	return true;
}

FIXTURE(fpu) {
	struct mv_guest g;
	struct offer o;
};

FIXTURE_SETUP(fpu)
{
	int r = mv_guest_create(&self->g, 0, 0x10000);

	if (r == -EOPNOTSUPP)
		SKIP(return, "this backend does not run vCPUs yet");
	ASSERT_EQ(0, r) TH_LOG("guest: %s", strerror(-r));
	get_offer(_metadata, self->g.dev, &self->o);
	put_tables(&self->g);
}

FIXTURE_TEARDOWN(fpu)
{
	free(self->o.cpuid);
	mv_guest_destroy(&self->g);
}

TEST_F(fpu, capabilities)
{
	int dev = self->g.dev;

	EXPECT_EQ(1, ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE));
	EXPECT_EQ(self->o.xcr0 ? 1 : 0,
		  ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_XCRS));
	/* the size KVM_GET_XSAVE2 copies: struct kvm_xsave or more */
	EXPECT_GE(ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2),
		  (int)sizeof(struct kvm_xsave));
}

/*
 * Leaf 0xd of KVM_GET_SUPPORTED_CPUID: the XCR0 bits with x87 and SSE,
 * a subleaf for each component beyond them, the sizes; and leaf 1 with
 * XSAVE and AVX as leaf 0xd says, OSXSAVE clear (it follows the guest's CR4).
 */
TEST_F(fpu, supported_cpuid)
{
	struct kvm_cpuid_entry2 *l1 = find_leaf(self->o.cpuid, 1, 0);
	struct kvm_cpuid_entry2 *d0 = find_leaf(self->o.cpuid, 0xd, 0);
	__u32 max = 576;

	if (!self->o.xcr0)
		SKIP(return, "no XSAVE offered");
	ASSERT_NE(NULL, d0);
	EXPECT_EQ(XCR0_FP | XCR0_SSE, self->o.xcr0 & (XCR0_FP | XCR0_SSE));
	EXPECT_EQ(0U, l1->ecx & CPUID1_OSXSAVE);
	EXPECT_EQ(!!(self->o.xcr0 & XCR0_YMM), !!(l1->ecx & CPUID1_AVX));
	EXPECT_NE(NULL, find_leaf(self->o.cpuid, 0xd, 1));
	for (int i = 2; i < 63; i++) {
		struct kvm_cpuid_entry2 *e = find_leaf(self->o.cpuid, 0xd, i);

		if (!(self->o.xcr0 & (1ULL << i)))
			continue;
		ASSERT_NE(NULL, e) TH_LOG("no subleaf %d", i);
		EXPECT_NE(0U, e->eax);
		if (e->ebx + e->eax > max)
			max = e->ebx + e->eax;
	}
	/* EBX and ECX: the size for everything offered, at reset */
	EXPECT_EQ(max, d0->ecx);
	if (self->o.avx) {
		EXPECT_EQ(256U, self->o.ymm_size);
		EXPECT_EQ(576U, self->o.ymm_offset);
	}
}

/* KVM_SET_FPU then KVM_GET_FPU: every field but mxcsr, which KVM ignores. */
TEST_F(fpu, fpu_round_trip)
{
	struct kvm_fpu in, out;
	struct kvm_xsave xs;

	memset(&in, 0, sizeof(in));
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 10; j++)
			in.fpr[i][j] = 0x10 * i + j;
	in.fcw = 0x027f;
	in.fsw = 0x3800;
	in.ftwx = 0x81;
	in.last_opcode = 0x1d9;
	in.last_ip = 0x12345678;
	in.last_dp = 0x9abcdef0;
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			in.xmm[i][j] = i * 16 + j;
	in.mxcsr = 0x7f80;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_FPU, &in));

	memset(&out, 0xaa, sizeof(out));
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_FPU, &out));
	EXPECT_EQ(0, memcmp(in.fpr, out.fpr, sizeof(in.fpr)));
	EXPECT_EQ(0x027f, out.fcw);
	EXPECT_EQ(0x3800, out.fsw);
	EXPECT_EQ(0x81, out.ftwx);
	EXPECT_EQ(0x1d9, out.last_opcode);
	EXPECT_EQ(0x12345678ULL, out.last_ip);
	EXPECT_EQ(0x9abcdef0ULL, out.last_dp);
	EXPECT_EQ(0, memcmp(in.xmm, out.xmm, sizeof(in.xmm)));
	/* as in KVM: mxcsr is neither read nor written */
	EXPECT_EQ(0U, out.mxcsr);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_XSAVE, &xs));
	EXPECT_EQ(0x1f80U, get32(xs.region, XS_MXCSR));
	/*
	 * KVM leaves x87 and SSE marked initial in the XSAVE header of a vCPU
	 * that has not run, so KVM_GET_XSAVE (and the guest) see the initial
	 * registers instead; minivisor marks them in use.
	 */
	if (strcmp(mv_dev_path(), "/dev/kvm")) {
		EXPECT_EQ(0x027fU, get32(xs.region, XS_FCW) & 0xffff);
		EXPECT_EQ(0x0f0e0d0cU, get32(xs.region, XS_XMM(0) + 12));
		EXPECT_EQ(0xfffefdfcU, get32(xs.region, XS_XMM(15) + 12));
	}

	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_SET_FPU, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_GET_FPU, NULL));
	EXPECT_EQ(EFAULT, errno);
}

/* A new vCPU's state, KVM_SET_XSAVE's checks, KVM_GET_XSAVE2. */
TEST_F(fpu, xsave_state_and_errors)
{
	struct kvm_xsave xs, back;
	unsigned char *big;
	int size;

	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_XSAVE, &xs));
	/* the reset state: FNINIT's control word, MXCSR's default */
	EXPECT_EQ(0x037fU, get32(xs.region, XS_FCW) & 0xffff);
	EXPECT_EQ(0x1f80U, get32(xs.region, XS_MXCSR));
	EXPECT_TRUE(all32(xs.region, XS_XMM(3), 0));

	put32(xs.region, XS_XMM(3), 0xcafe0003);
	put32(xs.region, XS_MXCSR, 0x7f80);
	put32(xs.region, XS_XSTATE_BV, XCR0_FP | XCR0_SSE);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_XSAVE, &xs));
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_XSAVE, &back));
	EXPECT_EQ(0xcafe0003U, get32(back.region, XS_XMM(3)));
	EXPECT_EQ(0x7f80U, get32(back.region, XS_MXCSR));
	EXPECT_EQ(XCR0_FP | XCR0_SSE,
		  get32(back.region, XS_XSTATE_BV) & (XCR0_FP | XCR0_SSE));

	/* KVM_GET_XSAVE2 copies KVM_CAP_XSAVE2 bytes, the same state */
	size = ioctl(self->g.dev, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	ASSERT_GE(size, (int)sizeof(xs));
	big = calloc(1, size);
	ASSERT_NE(NULL, big);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_XSAVE2, big));
	EXPECT_EQ(0, memcmp(big, back.region, sizeof(back.region)));
	free(big);

	/*
	 * A component no host offers (bit 62), a compacted image: the XSAVE
	 * header is only checked on a host with XSAVE (without it the image
	 * is the FXSAVE one, KVM's and ours).  Then MXCSR.
	 */
	if (self->o.xcr0) {
		xs = back;
		put32(xs.region, XS_XSTATE_BV + 4, 0x40000000);
		EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_SET_XSAVE, &xs));
		EXPECT_EQ(EINVAL, errno);
		xs = back;
		put32(xs.region, XS_XCOMP_BV + 4, 0x80000000);
		EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_SET_XSAVE, &xs));
		EXPECT_EQ(EINVAL, errno);
	}
	xs = back;
	put32(xs.region, XS_MXCSR, 0xffff1f80);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_SET_XSAVE, &xs));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_SET_XSAVE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->g.vcpu, KVM_GET_XSAVE, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* nothing of the refused images was taken */
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_XSAVE, &xs));
	EXPECT_EQ(0, memcmp(xs.region, back.region, sizeof(xs.region)));
}

/* x87, SSE and (with AVX) YMM state set with KVM_SET_XSAVE, read by a guest */
TEST_F(fpu, guest_reads_xsave)
{
	static const unsigned char code[] = {
		0x66, 0x0f, 0x7e, 0xc0,				/* movd eax, xmm0 */
		0xe7, 0x10,					/* out 0x10, eax */
		0x66, 0x0f, 0x73, 0xd8, 0x0c,			/* psrldq xmm0, 12 */
		0x66, 0x0f, 0x7e, 0xc0,				/* movd eax, xmm0 */
		0xe7, 0x10,					/* out 0x10, eax */
		0x66, 0x0f, 0x7e, 0xf8,				/* movd eax, xmm7 */
		0xe7, 0x10,					/* out 0x10, eax */
		0x0f, 0xae, 0x1d, 0x00, 0x80, 0x00, 0x00,	/* stmxcsr [0x8000] */
		0xa1, 0x00, 0x80, 0x00, 0x00,			/* mov eax, [0x8000] */
		0xe7, 0x10,					/* out 0x10, eax */
		0xd9, 0x3d, 0x00, 0x80, 0x00, 0x00,		/* fnstcw [0x8000] */
		0x0f, 0xb7, 0x05, 0x00, 0x80, 0x00, 0x00,	/* movzx eax, [0x8000] */
		0xe7, 0x10,					/* out 0x10, eax */
		0xd9, 0x15, 0x00, 0x80, 0x00, 0x00,		/* fst dword [0x8000] */
		0xa1, 0x00, 0x80, 0x00, 0x00,			/* mov eax, [0x8000] */
		0xe7, 0x10,					/* out 0x10, eax */
		0xf4,						/* hlt */
		/* with AVX: */
		0xc4, 0xe3, 0x7d, 0x19, 0xc1, 0x01,		/* vextractf128 xmm1, ymm0, 1 */
		0x66, 0x0f, 0x7e, 0xc8,				/* movd eax, xmm1 */
		0xe7, 0x10,					/* out 0x10, eax */
		0xc4, 0xe3, 0x7d, 0x19, 0xf9, 0x01,		/* vextractf128 xmm1, ymm7, 1 */
		0x66, 0x0f, 0x73, 0xd9, 0x0c,			/* psrldq xmm1, 12 */
		0x66, 0x0f, 0x7e, 0xc8,				/* movd eax, xmm1 */
		0xe7, 0x10,					/* out 0x10, eax */
		0xf4,						/* hlt */
	};
	/* -2.5 in the 80-bit format: mantissa 0xa000..., sign and exponent */
	static const unsigned char minus_2_5[10] = {
		0, 0, 0, 0, 0, 0, 0, 0xa0, 0x00, 0xc0,
	};
	struct offer *o = &self->o;
	__u64 xcr0 = o->avx ? XCR0_FP | XCR0_SSE | XCR0_YMM : XCR0_FP;
	struct kvm_xsave xs;
	struct kvm_fpu fpu;

	mv_guest_put(&self->g, CODE_GPA, code, sizeof(code));
	start_pm32(_metadata, self->g.vcpu, o->cpuid,
		   CR4_SSE | (o->avx ? CR4_OSXSAVE : 0));
	if (o->xcr0)
		ASSERT_EQ(0, set_xcr0(self->g.vcpu, xcr0));

	memset(&xs, 0, sizeof(xs));
	put32(xs.region, XS_FCW, 0x027f);
	/* ST0 valid: TOP is 0, so physical register 0 is tagged in use */
	put32(xs.region, XS_FTW, 0x01);
	memcpy((char *)xs.region + XS_ST(0), minus_2_5, sizeof(minus_2_5));
	put32(xs.region, XS_MXCSR, 0x7f80);
	put32(xs.region, XS_XMM(0), 0x01020304);
	put32(xs.region, XS_XMM(0) + 12, 0x0d0e0f10);
	put32(xs.region, XS_XMM(7), 0x77770000);
	if (o->avx) {
		put32(xs.region, o->ymm_offset, 0x99990000);
		put32(xs.region, o->ymm_offset + 7 * 16 + 12, 0x99990007);
	}
	put32(xs.region, XS_XSTATE_BV, xcr0 | XCR0_SSE);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_XSAVE, &xs));
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_FPU, &fpu));
	EXPECT_EQ(0, memcmp(fpu.fpr[0], minus_2_5, sizeof(minus_2_5)));
	EXPECT_EQ(0x01, fpu.ftwx);

	EXPECT_EQ(0x01020304U, OUT(&self->g, PORT_DATA));
	EXPECT_EQ(0x0d0e0f10U, OUT(&self->g, PORT_DATA));
	EXPECT_EQ(0x77770000U, OUT(&self->g, PORT_DATA));
	EXPECT_EQ(0x7f80U, OUT(&self->g, PORT_DATA));
	EXPECT_EQ(0x027fU, OUT(&self->g, PORT_DATA));
	EXPECT_EQ(0xc0200000U, OUT(&self->g, PORT_DATA));	/* -2.5f */
	run_to_hlt(_metadata, &self->g);
	if (!o->avx)
		return;
	EXPECT_EQ(0x99990000U, OUT(&self->g, PORT_DATA));
	EXPECT_EQ(0x99990007U, OUT(&self->g, PORT_DATA));
	run_to_hlt(_metadata, &self->g);
}

/* A guest writes x87, SSE, MXCSR (and YMM); the VMM reads them back. */
TEST_F(fpu, guest_writes)
{
	static const unsigned char code[] = {
		0xb8, 0x11, 0x11, 0x11, 0x11,			/* mov eax, 0x11111111 */
		0x66, 0x0f, 0x6e, 0xc0,				/* movd xmm0, eax */
		0x66, 0x0f, 0x70, 0xc0, 0x00,			/* pshufd xmm0, xmm0, 0 */
		0xb8, 0x22, 0x22, 0x22, 0x22,			/* mov eax, 0x22222222 */
		0x66, 0x0f, 0x6e, 0xc8,				/* movd xmm1, eax */
		0x66, 0x0f, 0x70, 0xc9, 0x00,			/* pshufd xmm1, xmm1, 0 */
		0xb8, 0x33, 0x33, 0x33, 0x33,			/* mov eax, 0x33333333 */
		0x66, 0x0f, 0x6e, 0xd0,				/* movd xmm2, eax */
		0x66, 0x0f, 0x70, 0xd2, 0x00,			/* pshufd xmm2, xmm2, 0 */
		0xb8, 0x44, 0x44, 0x44, 0x44,			/* mov eax, 0x44444444 */
		0x66, 0x0f, 0x6e, 0xd8,				/* movd xmm3, eax */
		0x66, 0x0f, 0x70, 0xdb, 0x00,			/* pshufd xmm3, xmm3, 0 */
		0xb8, 0x55, 0x55, 0x55, 0x55,			/* mov eax, 0x55555555 */
		0x66, 0x0f, 0x6e, 0xe0,				/* movd xmm4, eax */
		0x66, 0x0f, 0x70, 0xe4, 0x00,			/* pshufd xmm4, xmm4, 0 */
		0xb8, 0x66, 0x66, 0x66, 0x66,			/* mov eax, 0x66666666 */
		0x66, 0x0f, 0x6e, 0xe8,				/* movd xmm5, eax */
		0x66, 0x0f, 0x70, 0xed, 0x00,			/* pshufd xmm5, xmm5, 0 */
		0xb8, 0x77, 0x77, 0x77, 0x77,			/* mov eax, 0x77777777 */
		0x66, 0x0f, 0x6e, 0xf0,				/* movd xmm6, eax */
		0x66, 0x0f, 0x70, 0xf6, 0x00,			/* pshufd xmm6, xmm6, 0 */
		0xb8, 0x88, 0x88, 0x88, 0x88,			/* mov eax, 0x88888888 */
		0x66, 0x0f, 0x6e, 0xf8,				/* movd xmm7, eax */
		0x66, 0x0f, 0x70, 0xff, 0x00,			/* pshufd xmm7, xmm7, 0 */
		0xc7, 0x05, 0x00, 0x80, 0x00, 0x00, 0x80,	/* mov dword [0x8000], */
		0x7f, 0x00, 0x00,				/*   0x7f80 */
		0x0f, 0xae, 0x15, 0x00, 0x80, 0x00, 0x00,	/* ldmxcsr [0x8000] */
		0x66, 0xc7, 0x05, 0x04, 0x80, 0x00, 0x00,	/* mov word [0x8004], */
		0x7f, 0x02,					/*   0x27f */
		0xd9, 0x2d, 0x04, 0x80, 0x00, 0x00,		/* fldcw [0x8004] */
		0xd9, 0xe8,					/* fld1 */
		0xd9, 0xeb,					/* fldpi */
		0xf4,						/* hlt */
		/* with AVX: */
		0xc7, 0x05, 0x08, 0x80, 0x00, 0x00, 0xa5,	/* mov dword [0x8008], */
		0xa5, 0xa5, 0xa5,				/*   0xa5a5a5a5 */
		0xc4, 0xe2, 0x7d, 0x18, 0x1d, 0x08, 0x80,	/* vbroadcastss ymm3, */
		0x00, 0x00,					/*   [0x8008] */
		0xf4,						/* hlt */
	};
	/* pi and 1 in the 80-bit format */
	static const unsigned char pi[10] = {
		0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40,
	};
	static const unsigned char one[10] = {
		0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f,
	};
	struct offer *o = &self->o;
	struct kvm_xsave xs;
	struct kvm_fpu fpu;

	mv_guest_put(&self->g, CODE_GPA, code, sizeof(code));
	start_pm32(_metadata, self->g.vcpu, o->cpuid,
		   CR4_SSE | (o->avx ? CR4_OSXSAVE : 0));
	if (o->avx)
		ASSERT_EQ(0, set_xcr0(self->g.vcpu, XCR0_FP | XCR0_SSE | XCR0_YMM));
	run_to_hlt(_metadata, &self->g);

	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_FPU, &fpu));
	for (int i = 0; i < 8; i++) {
		EXPECT_TRUE(all32(fpu.xmm[i], 0, 0x11111111U * (i + 1)))
			TH_LOG("xmm%d", i);
	}
	EXPECT_TRUE(all32(fpu.xmm[8], 0, 0));
	EXPECT_EQ(0x027f, fpu.fcw);
	/* two loads: TOP is 6, physical registers 6 and 7 in use */
	EXPECT_EQ(0x3000, fpu.fsw);
	EXPECT_EQ(0xc0, fpu.ftwx);
	EXPECT_EQ(0, memcmp(fpu.fpr[0], pi, sizeof(pi)));
	EXPECT_EQ(0, memcmp(fpu.fpr[1], one, sizeof(one)));

	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_XSAVE, &xs));
	EXPECT_EQ(0x7f80U, get32(xs.region, XS_MXCSR));
	EXPECT_TRUE(all32(xs.region, XS_XMM(7), 0x88888888U));
	EXPECT_EQ(XCR0_FP | XCR0_SSE,
		  get32(xs.region, XS_XSTATE_BV) & (XCR0_FP | XCR0_SSE));
	if (!o->avx)
		return;

	run_to_hlt(_metadata, &self->g);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_XSAVE, &xs));
	EXPECT_TRUE(all32(xs.region, XS_XMM(3), 0xa5a5a5a5U));
	EXPECT_TRUE(all32(xs.region, o->ymm_offset + 3 * 16, 0xa5a5a5a5U));
	EXPECT_TRUE(all32(xs.region, o->ymm_offset + 2 * 16, 0));
	EXPECT_EQ(XCR0_YMM, get32(xs.region, XS_XSTATE_BV) & XCR0_YMM);
}

/*
 * Registers set with KVM_SET_FPU while the guest is stopped at an OUT, as
 * the guest then reads them.  The guest has used x87 and SSE first: KVM
 * drops what KVM_SET_FPU writes into a state still marked initial in the
 * XSAVE header (minivisor does not, see fpu_round_trip).
 */
TEST_F(fpu, set_fpu_then_guest_reads)
{
	static const unsigned char code[] = {
		0x66, 0x0f, 0x76, 0xc9,				/* pcmpeqd xmm1, xmm1 */
		0xd9, 0xe8,					/* fld1 */
		0xb8, 0x01, 0x00, 0x00, 0x00,			/* mov eax, 1 */
		0xe7, 0x10,					/* out 0x10, eax */
		0x66, 0x0f, 0x7e, 0xc0,				/* movd eax, xmm0 */
		0xe7, 0x10,					/* out 0x10, eax */
		0xd9, 0x3d, 0x00, 0x80, 0x00, 0x00,		/* fnstcw [0x8000] */
		0x0f, 0xb7, 0x05, 0x00, 0x80, 0x00, 0x00,	/* movzx eax, [0x8000] */
		0xe7, 0x10,					/* out 0x10, eax */
		0xf4,						/* hlt */
	};
	struct kvm_fpu fpu;

	mv_guest_put(&self->g, CODE_GPA, code, sizeof(code));
	start_pm32(_metadata, self->g.vcpu, self->o.cpuid, CR4_SSE);
	EXPECT_EQ(1U, OUT(&self->g, PORT_DATA));
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_FPU, &fpu));
	put32(fpu.xmm[0], 0, 0x5e7f0000);
	fpu.fcw = 0x027f;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_FPU, &fpu));
	EXPECT_EQ(0x5e7f0000U, OUT(&self->g, PORT_DATA));
	EXPECT_EQ(0x027fU, OUT(&self->g, PORT_DATA));
	run_to_hlt(_metadata, &self->g);
}

/*
 * KVM_RUN with the host thread's own XMM (and YMM) registers loaded: the
 * registers are intact when it returns, the guest sees its own values, not
 * the host's, and the guest's writes stay in the guest's state.
 */
static long run_keeping_regs(int fd, const void *in, void *out, bool avx)
{
	long r = SYS_ioctl;

	if (avx)
		asm volatile("vmovdqu 0x000(%[in]), %%ymm0\n\t"
			     "vmovdqu 0x020(%[in]), %%ymm1\n\t"
			     "vmovdqu 0x040(%[in]), %%ymm2\n\t"
			     "vmovdqu 0x060(%[in]), %%ymm3\n\t"
			     "vmovdqu 0x080(%[in]), %%ymm4\n\t"
			     "vmovdqu 0x0a0(%[in]), %%ymm5\n\t"
			     "vmovdqu 0x0c0(%[in]), %%ymm6\n\t"
			     "vmovdqu 0x0e0(%[in]), %%ymm7\n\t"
			     "vmovdqu 0x100(%[in]), %%ymm8\n\t"
			     "vmovdqu 0x120(%[in]), %%ymm9\n\t"
			     "vmovdqu 0x140(%[in]), %%ymm10\n\t"
			     "vmovdqu 0x160(%[in]), %%ymm11\n\t"
			     "vmovdqu 0x180(%[in]), %%ymm12\n\t"
			     "vmovdqu 0x1a0(%[in]), %%ymm13\n\t"
			     "vmovdqu 0x1c0(%[in]), %%ymm14\n\t"
			     "vmovdqu 0x1e0(%[in]), %%ymm15\n\t"
			     "syscall\n\t"
			     "vmovdqu %%ymm0, 0x000(%[out])\n\t"
			     "vmovdqu %%ymm1, 0x020(%[out])\n\t"
			     "vmovdqu %%ymm2, 0x040(%[out])\n\t"
			     "vmovdqu %%ymm3, 0x060(%[out])\n\t"
			     "vmovdqu %%ymm4, 0x080(%[out])\n\t"
			     "vmovdqu %%ymm5, 0x0a0(%[out])\n\t"
			     "vmovdqu %%ymm6, 0x0c0(%[out])\n\t"
			     "vmovdqu %%ymm7, 0x0e0(%[out])\n\t"
			     "vmovdqu %%ymm8, 0x100(%[out])\n\t"
			     "vmovdqu %%ymm9, 0x120(%[out])\n\t"
			     "vmovdqu %%ymm10, 0x140(%[out])\n\t"
			     "vmovdqu %%ymm11, 0x160(%[out])\n\t"
			     "vmovdqu %%ymm12, 0x180(%[out])\n\t"
			     "vmovdqu %%ymm13, 0x1a0(%[out])\n\t"
			     "vmovdqu %%ymm14, 0x1c0(%[out])\n\t"
			     "vmovdqu %%ymm15, 0x1e0(%[out])\n\t"
			     "vzeroupper"
			     : "+a" (r)
			     : "D" ((long)fd), "S" ((long)KVM_RUN), "d" (0L),
			       [in] "r" (in), [out] "r" (out)
			     : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2",
			       "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
			       "xmm14", "xmm15");
	else
		asm volatile("movdqu 0x000(%[in]), %%xmm0\n\t"
			     "movdqu 0x020(%[in]), %%xmm1\n\t"
			     "movdqu 0x040(%[in]), %%xmm2\n\t"
			     "movdqu 0x060(%[in]), %%xmm3\n\t"
			     "movdqu 0x080(%[in]), %%xmm4\n\t"
			     "movdqu 0x0a0(%[in]), %%xmm5\n\t"
			     "movdqu 0x0c0(%[in]), %%xmm6\n\t"
			     "movdqu 0x0e0(%[in]), %%xmm7\n\t"
			     "movdqu 0x100(%[in]), %%xmm8\n\t"
			     "movdqu 0x120(%[in]), %%xmm9\n\t"
			     "movdqu 0x140(%[in]), %%xmm10\n\t"
			     "movdqu 0x160(%[in]), %%xmm11\n\t"
			     "movdqu 0x180(%[in]), %%xmm12\n\t"
			     "movdqu 0x1a0(%[in]), %%xmm13\n\t"
			     "movdqu 0x1c0(%[in]), %%xmm14\n\t"
			     "movdqu 0x1e0(%[in]), %%xmm15\n\t"
			     "syscall\n\t"
			     "movdqu %%xmm0, 0x000(%[out])\n\t"
			     "movdqu %%xmm1, 0x020(%[out])\n\t"
			     "movdqu %%xmm2, 0x040(%[out])\n\t"
			     "movdqu %%xmm3, 0x060(%[out])\n\t"
			     "movdqu %%xmm4, 0x080(%[out])\n\t"
			     "movdqu %%xmm5, 0x0a0(%[out])\n\t"
			     "movdqu %%xmm6, 0x0c0(%[out])\n\t"
			     "movdqu %%xmm7, 0x0e0(%[out])\n\t"
			     "movdqu %%xmm8, 0x100(%[out])\n\t"
			     "movdqu %%xmm9, 0x120(%[out])\n\t"
			     "movdqu %%xmm10, 0x140(%[out])\n\t"
			     "movdqu %%xmm11, 0x160(%[out])\n\t"
			     "movdqu %%xmm12, 0x180(%[out])\n\t"
			     "movdqu %%xmm13, 0x1a0(%[out])\n\t"
			     "movdqu %%xmm14, 0x1c0(%[out])\n\t"
			     "movdqu %%xmm15, 0x1e0(%[out])"
			     : "+a" (r)
			     : "D" ((long)fd), "S" ((long)KVM_RUN), "d" (0L),
			       [in] "r" (in), [out] "r" (out)
			     : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2",
			       "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
			       "xmm14", "xmm15");
	return r;
}

/* Does this process's CPU have AVX enabled by its OS? */
static bool host_avx(void)
{
	unsigned int a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & CPUID1_OSXSAVE) ||
	    !(c & CPUID1_AVX))
		return false;
	asm volatile("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
	return (lo & 6) == 6;
}

static __u64 host_xcr0(void)
{
	unsigned int lo, hi;

	asm volatile("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
	return lo | (__u64)hi << 32;
}

TEST_F(fpu, host_registers_kept)
{
	static const unsigned char code[] = {
		0x66, 0x0f, 0x7e, 0xc0,				/* movd eax, xmm0 */
		0xa3, 0x00, 0x80, 0x00, 0x00,			/* mov [0x8000], eax */
		0x66, 0x0f, 0x7e, 0xf8,				/* movd eax, xmm7 */
		0xa3, 0x04, 0x80, 0x00, 0x00,			/* mov [0x8004], eax */
		0x66, 0x0f, 0x76, 0xc0,				/* pcmpeqd xmm0, xmm0 */
		0x66, 0x0f, 0x76, 0xc9,				/* pcmpeqd xmm1, xmm1 */
		0x66, 0x0f, 0x76, 0xd2,				/* pcmpeqd xmm2, xmm2 */
		0x66, 0x0f, 0x76, 0xdb,				/* pcmpeqd xmm3, xmm3 */
		0x66, 0x0f, 0x76, 0xe4,				/* pcmpeqd xmm4, xmm4 */
		0x66, 0x0f, 0x76, 0xed,				/* pcmpeqd xmm5, xmm5 */
		0x66, 0x0f, 0x76, 0xf6,				/* pcmpeqd xmm6, xmm6 */
		0x66, 0x0f, 0x76, 0xff,				/* pcmpeqd xmm7, xmm7 */
		0xf4,						/* hlt */
		/* with AVX: */
		0xc5, 0xfc, 0xc2, 0xc0, 0x0f,			/* vcmptrueps ymm0, ymm0, ymm0 */
		0xc5, 0xf4, 0xc2, 0xc9, 0x0f,			/* vcmptrueps ymm1, ymm1, ymm1 */
		0xc5, 0xec, 0xc2, 0xd2, 0x0f,			/* vcmptrueps ymm2, ymm2, ymm2 */
		0xc5, 0xe4, 0xc2, 0xdb, 0x0f,			/* vcmptrueps ymm3, ymm3, ymm3 */
		0xc5, 0xdc, 0xc2, 0xe4, 0x0f,			/* vcmptrueps ymm4, ymm4, ymm4 */
		0xc5, 0xd4, 0xc2, 0xed, 0x0f,			/* vcmptrueps ymm5, ymm5, ymm5 */
		0xc5, 0xcc, 0xc2, 0xf6, 0x0f,			/* vcmptrueps ymm6, ymm6, ymm6 */
		0xc5, 0xc4, 0xc2, 0xff, 0x0f,			/* vcmptrueps ymm7, ymm7, ymm7 */
		0xf4,						/* hlt */
	};
	bool avx = host_avx() && self->o.avx;
	unsigned char in[16][32], out[16][32];
	__u64 xcr0 = self->o.xcr0 ? host_xcr0() : 0;
	struct offer *o = &self->o;
	struct kvm_xsave xs;
	__u32 seen[2];

	mv_guest_put(&self->g, CODE_GPA, code, sizeof(code));
	start_pm32(_metadata, self->g.vcpu, o->cpuid,
		   CR4_SSE | (avx ? CR4_OSXSAVE : 0));
	if (avx)
		ASSERT_EQ(0, set_xcr0(self->g.vcpu, XCR0_FP | XCR0_SSE | XCR0_YMM));
	memset(&xs, 0, sizeof(xs));
	put32(xs.region, XS_MXCSR, 0x1f80);
	put32(xs.region, XS_XMM(0), 0x600d0000);
	put32(xs.region, XS_XMM(7), 0x600d0007);
	put32(xs.region, XS_XSTATE_BV, XCR0_FP | XCR0_SSE);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_XSAVE, &xs));
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 32; j++)
			in[i][j] = 0xc0 ^ (i << 4 | (j & 15)) ^ (j >> 4);

	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, run_keeping_regs(self->g.vcpu, in, out, avx));
	ASSERT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);
	for (int i = 0; i < 16; i++) {
		EXPECT_EQ(0, memcmp(in[i], out[i], avx ? 32 : 16))
			TH_LOG("host register %d changed", i);
	}
	memcpy(seen, self->g.mem + DATA_GPA, sizeof(seen));
	EXPECT_EQ(0x600d0000U, seen[0]);
	EXPECT_EQ(0x600d0007U, seen[1]);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_XSAVE, &xs));
	for (int i = 0; i < 8; i++)
		EXPECT_TRUE(all32(xs.region, XS_XMM(i), 0xffffffffU));
	/* the guest has no XMM8-15 in 32-bit mode: still its zeros */
	for (int i = 8; i < 16; i++)
		EXPECT_TRUE(all32(xs.region, XS_XMM(i), 0));
	if (xcr0)
		EXPECT_EQ(xcr0, host_xcr0());
	if (!avx)
		return;

	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, run_keeping_regs(self->g.vcpu, in, out, true));
	ASSERT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);
	for (int i = 0; i < 16; i++) {
		EXPECT_EQ(0, memcmp(in[i], out[i], 32))
			TH_LOG("host register %d changed", i);
	}
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_XSAVE, &xs));
	for (int i = 0; i < 8; i++) {
		EXPECT_TRUE(all32(xs.region, o->ymm_offset + 16 * i,
				  0xffffffffU));
	}
	EXPECT_EQ(xcr0, host_xcr0());
}

/* Two vCPUs of a VM take turns; each keeps its own XMM0. */
TEST_F(fpu, two_vcpus_separate)
{
	static const unsigned char code[] = {
		0x66, 0x0f, 0x7e, 0xc0,				/* movd eax, xmm0 */
		0xe7, 0x10,					/* out 0x10, eax */
		0x66, 0x0f, 0xfe, 0xc0,				/* paddd xmm0, xmm0 */
		0x66, 0x0f, 0x7e, 0xc0,				/* movd eax, xmm0 */
		0xe7, 0x10,					/* out 0x10, eax */
		0xf4,						/* hlt */
	};
	struct mv_guest b = self->g;
	struct kvm_xsave xs;
	struct kvm_fpu fpu;

	b.vcpu = ioctl(self->g.vm, KVM_CREATE_VCPU, 1);
	ASSERT_GE(b.vcpu, 0);
	b.run = mmap(NULL, b.run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		     b.vcpu, 0);
	ASSERT_NE(MAP_FAILED, b.run);
	mv_guest_put(&self->g, CODE_GPA, code, sizeof(code));
	start_pm32(_metadata, self->g.vcpu, self->o.cpuid, CR4_SSE);
	start_pm32(_metadata, b.vcpu, self->o.cpuid, CR4_SSE);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_XSAVE, &xs));
	put32(xs.region, XS_XMM(0), 0x0a0a0001);
	put32(xs.region, XS_XSTATE_BV, XCR0_FP | XCR0_SSE);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_XSAVE, &xs));
	put32(xs.region, XS_XMM(0), 0x0b0b0001);
	ASSERT_EQ(0, ioctl(b.vcpu, KVM_SET_XSAVE, &xs));

	EXPECT_EQ(0x0a0a0001U, OUT(&self->g, PORT_DATA));
	EXPECT_EQ(0x0b0b0001U, OUT(&b, PORT_DATA));
	EXPECT_EQ(0x14140002U, OUT(&self->g, PORT_DATA));
	EXPECT_EQ(0x16160002U, OUT(&b, PORT_DATA));
	run_to_hlt(_metadata, &b);
	run_to_hlt(_metadata, &self->g);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_FPU, &fpu));
	EXPECT_EQ(0x14140002U, get32(fpu.xmm[0], 0));
	ASSERT_EQ(0, ioctl(b.vcpu, KVM_GET_FPU, &fpu));
	EXPECT_EQ(0x16160002U, get32(fpu.xmm[0], 0));
	munmap(b.run, b.run_size);
	close(b.vcpu);
}

/* KVM_GET_XCRS, KVM_SET_XCRS and what they refuse. */
TEST_F(fpu, xcrs_ioctls)
{
	struct offer *o = &self->o;
	struct kvm_xcrs x;
	int fd = self->g.vcpu;

	if (!o->xcr0)
		SKIP(return, "no XSAVE offered");
	/* XCR0 after reset: x87 only */
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, fd));
	/* without CPUID leaf 0xd the guest may have x87 only */
	EXPECT_EQ(EINVAL, set_xcr0(fd, XCR0_FP | XCR0_SSE));
	EXPECT_EQ(0, set_xcr0(fd, XCR0_FP));

	ASSERT_EQ(0, ioctl(fd, KVM_SET_CPUID2, o->cpuid));
	EXPECT_EQ(0, set_xcr0(fd, XCR0_FP | XCR0_SSE));
	EXPECT_EQ(XCR0_FP | XCR0_SSE, get_xcr0(_metadata, fd));
	if (o->avx) {
		EXPECT_EQ(0, set_xcr0(fd, XCR0_FP | XCR0_SSE | XCR0_YMM));
		EXPECT_EQ(XCR0_FP | XCR0_SSE | XCR0_YMM,
			  get_xcr0(_metadata, fd));
	}
	EXPECT_EQ(0, set_xcr0(fd, XCR0_FP | XCR0_SSE));

	/* x87 missing; AVX without SSE; bits no CPU has */
	EXPECT_EQ(EINVAL, set_xcr0(fd, 0));
	EXPECT_EQ(EINVAL, set_xcr0(fd, XCR0_SSE));
	EXPECT_EQ(EINVAL, set_xcr0(fd, XCR0_FP | XCR0_YMM));
	EXPECT_EQ(EINVAL, set_xcr0(fd, XCR0_FP | XCR0_SSE | 1ULL << 62));
	EXPECT_EQ(EINVAL, set_xcr0(fd, XCR0_FP | XCR0_SSE | 1ULL << 32));
	for (int i = 2; i < 10; i++) {
		if (o->xcr0 & 1ULL << i)
			continue;
		EXPECT_EQ(EINVAL, set_xcr0(fd, XCR0_FP | XCR0_SSE | 1ULL << i))
			TH_LOG("bit %d", i);
	}

	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].value = XCR0_FP;
	x.flags = 1;
	EXPECT_EQ(-1, ioctl(fd, KVM_SET_XCRS, &x));
	EXPECT_EQ(EINVAL, errno);
	x.flags = 0;
	x.nr_xcrs = KVM_MAX_XCRS + 1;
	EXPECT_EQ(-1, ioctl(fd, KVM_SET_XCRS, &x));
	EXPECT_EQ(EINVAL, errno);
	/* other XCRs are ignored; the first XCR0 counts */
	x.nr_xcrs = 3;
	x.xcrs[0] = (struct kvm_xcr) { .xcr = 1, .value = 0x1234 };
	x.xcrs[1] = (struct kvm_xcr) { .xcr = 0, .value = XCR0_FP };
	x.xcrs[2] = (struct kvm_xcr) { .xcr = 0, .value = 0 };
	EXPECT_EQ(0, ioctl(fd, KVM_SET_XCRS, &x));
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, fd));
	x.nr_xcrs = 0;
	EXPECT_EQ(0, ioctl(fd, KVM_SET_XCRS, &x));
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, fd));
	/* nothing refused changed XCR0 */
	EXPECT_EQ(-1, ioctl(fd, KVM_SET_XCRS, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, KVM_GET_XCRS, NULL));
	EXPECT_EQ(EFAULT, errno);
}

static const unsigned char xsetbv_code[] = {
		0x89, 0xd8,					/* mov eax, ebx */
		0x89, 0xf2,					/* mov edx, esi */
		0x89, 0xf9,					/* mov ecx, edi */
		0x0f, 0x01, 0xd1,				/* xsetbv (at 0x1006) */
		0x31, 0xc9,					/* xor ecx, ecx */
		0x0f, 0x01, 0xd0,				/* xgetbv */
		0xe7, 0x10,					/* out 0x10, eax */
		0x89, 0xd0,					/* mov eax, edx */
		0xe7, 0x10,					/* out 0x10, eax */
		0xb8, 0x01, 0x00, 0x00, 0x00,			/* mov eax, 1 */
		0x0f, 0xa2,					/* cpuid */
		0x89, 0xc8,					/* mov eax, ecx */
		0xe7, 0x10,					/* out 0x10, eax */
		0xb8, 0x0d, 0x00, 0x00, 0x00,			/* mov eax, 0xd */
		0x31, 0xc9,					/* xor ecx, ecx */
		0x0f, 0xa2,					/* cpuid */
		0x89, 0xd8,					/* mov eax, ebx */
		0xe7, 0x10,					/* out 0x10, eax */
		0xf4,						/* hlt */
};

#define XSETBV_EIP	0x1006

/* Restarts xsetbv_code to do XSETBV with ECX = @index, EDX:EAX = @value. */
static void xsetbv_regs(struct __test_metadata *_metadata, struct mv_guest *g,
			__u32 index, __u64 value)
{
	struct kvm_regs regs;

	ASSERT_EQ(0, ioctl(g->vcpu, KVM_GET_REGS, &regs));
	regs.rip = CODE_GPA;
	regs.rsp = STACK_GPA;
	regs.rbx = (__u32)value;
	regs.rsi = value >> 32;
	regs.rdi = index;
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_REGS, &regs));
}

/*
 * Does XSETBV exit to the hypervisor on this CPU?  QEMU's emulated SVM does
 * not intercept it: the guest sets XCR0 itself, checked only against the
 * emulated CPU.  Probed with another vCPU whose CPUID allows x87 and SSE:
 * XSETBV of x87, SSE and AVX takes a #GP only if the hypervisor sees it.
 * Returns 1 or 0, or -1 without AVX to probe with.  Uses CODE_GPA.
 */
static int xsetbv_exits(struct __test_metadata *_metadata, struct mv_guest *g,
			struct offer *o)
{
	struct kvm_cpuid_entry2 *d0 = find_leaf(o->cpuid, 0xd, 0);
	struct mv_guest p = *g;
	__u32 eax;
	int r;

	if (!o->avx)
		return -1;
	p.vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 7);
	ASSERT_GE(p.vcpu, 0);
	p.run = mmap(NULL, p.run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		     p.vcpu, 0);
	ASSERT_NE(MAP_FAILED, p.run);
	mv_guest_put(g, CODE_GPA, xsetbv_code, sizeof(xsetbv_code));
	eax = d0->eax;
	d0->eax &= XCR0_FP | XCR0_SSE;
	start_pm32(_metadata, p.vcpu, o->cpuid, CR4_SSE | CR4_OSXSAVE);
	d0->eax = eax;
	xsetbv_regs(_metadata, &p, 0, XCR0_FP | XCR0_SSE | XCR0_YMM);
	ASSERT_EQ(0, mv_guest_run(&p));
	ASSERT_EQ(KVM_EXIT_IO, p.run->exit_reason);
	r = p.run->io.port == PORT_VECTOR;
	munmap(p.run, p.run_size);
	close(p.vcpu);
	return r;
}

/* The size CPUID.0xd:EBX must give for @xcr0 in the standard format. */
static __u32 xsave_size(struct offer *o, __u64 xcr0)
{
	__u32 size = 576;

	for (int i = 2; i < 63; i++) {
		struct kvm_cpuid_entry2 *e = find_leaf(o->cpuid, 0xd, i);

		if ((xcr0 & 1ULL << i) && e && e->ebx + e->eax > size)
			size = e->ebx + e->eax;
	}
	return size;
}

/* XSETBV in the guest; XGETBV and CPUID see the new XCR0, so does the VMM. */
TEST_F(fpu, guest_xsetbv)
{
	struct offer *o = &self->o;
	__u64 values[3] = { XCR0_FP | XCR0_SSE, XCR0_FP,
			    XCR0_FP | XCR0_SSE | XCR0_YMM };
	__u32 size;
	int exits;

	if (!o->xcr0)
		SKIP(return, "no XSAVE offered");
	exits = xsetbv_exits(_metadata, &self->g, o);
	mv_guest_put(&self->g, CODE_GPA, xsetbv_code, sizeof(xsetbv_code));
	start_pm32(_metadata, self->g.vcpu, o->cpuid, CR4_SSE | CR4_OSXSAVE);
	for (int i = 0; i < (o->avx ? 3 : 2); i++) {
		xsetbv_regs(_metadata, &self->g, 0, values[i]);
		EXPECT_EQ((__u32)values[i], OUT(&self->g, PORT_DATA));
		EXPECT_EQ(0U, OUT(&self->g, PORT_DATA));
		/* CPUID.1:ECX.OSXSAVE follows CR4.OSXSAVE */
		EXPECT_EQ(CPUID1_OSXSAVE,
			  OUT(&self->g, PORT_DATA) & CPUID1_OSXSAVE);
		/*
		 * CPUID.0xd:EBX follows XCR0; both need a hypervisor that
		 * learns of XCR0, which KVM does not where XSETBV does not
		 * exit (minivisor then reads it back at the next exit)
		 */
		size = OUT(&self->g, PORT_DATA);
		if (exits)
			EXPECT_EQ(xsave_size(o, values[i]), size);
		run_to_hlt(_metadata, &self->g);
		if (exits)
			EXPECT_EQ(values[i], get_xcr0(_metadata, self->g.vcpu));
	}
}

/* XSETBV of what the guest may not have: #GP(0), XCR0 unchanged. */
TEST_F(fpu, guest_xsetbv_faults)
{
	struct offer *o = &self->o;
	__u64 bad[16] = {
		0, XCR0_SSE, XCR0_FP | XCR0_YMM, XCR0_FP | XCR0_SSE | 1ULL << 62,
		XCR0_FP | XCR0_SSE | 1ULL << 32,
	};
	unsigned int cpu_xcr0 = 0, ebx, ecx, edx;
	int n = 5, exits;

	if (!o->xcr0)
		SKIP(return, "no XSAVE offered");
	/* where XSETBV does not exit, only what the CPU refuses faults */
	exits = xsetbv_exits(_metadata, &self->g, o);
	if (!exits)
		__get_cpuid_count(0xd, 0, &cpu_xcr0, &ebx, &ecx, &edx);
	for (int i = 2; i < 10; i++)
		if (!(o->xcr0 & 1ULL << i) && !(cpu_xcr0 & 1U << i))
			bad[n++] = XCR0_FP | XCR0_SSE | 1ULL << i;
	mv_guest_put(&self->g, CODE_GPA, xsetbv_code, sizeof(xsetbv_code));
	start_pm32(_metadata, self->g.vcpu, o->cpuid, CR4_SSE | CR4_OSXSAVE);
	ASSERT_EQ(0, set_xcr0(self->g.vcpu, XCR0_FP | XCR0_SSE));
	for (int i = 0; i < n; i++) {
		xsetbv_regs(_metadata, &self->g, 0, bad[i]);
		expect_fault(_metadata, &self->g, 13, 0, XSETBV_EIP);
		EXPECT_EQ(XCR0_FP | XCR0_SSE, get_xcr0(_metadata, self->g.vcpu))
			TH_LOG("value %llx", (unsigned long long)bad[i]);
	}
	/* XCR1 and beyond cannot be set */
	xsetbv_regs(_metadata, &self->g, 1, XCR0_FP);
	expect_fault(_metadata, &self->g, 13, 0, XSETBV_EIP);
}

/* The guest's CPUID, not the host's, bounds XCR0. */
TEST_F(fpu, guest_xsetbv_cpuid_bound)
{
	struct offer *o = &self->o;
	struct kvm_cpuid_entry2 *d0 = find_leaf(o->cpuid, 0xd, 0);

	if (!o->avx)
		SKIP(return, "no AVX offered");
	if (!xsetbv_exits(_metadata, &self->g, o))
		SKIP(return, "XSETBV does not exit on this CPU (QEMU's SVM)");
	d0->eax &= XCR0_FP | XCR0_SSE;
	mv_guest_put(&self->g, CODE_GPA, xsetbv_code, sizeof(xsetbv_code));
	start_pm32(_metadata, self->g.vcpu, o->cpuid, CR4_SSE | CR4_OSXSAVE);
	xsetbv_regs(_metadata, &self->g, 0, XCR0_FP | XCR0_SSE | XCR0_YMM);
	expect_fault(_metadata, &self->g, 13, 0, XSETBV_EIP);
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, self->g.vcpu));
	EXPECT_EQ(EINVAL, set_xcr0(self->g.vcpu, XCR0_FP | XCR0_SSE | XCR0_YMM));
}

/* XSETBV at CPL 3: #GP(0). */
TEST_F(fpu, guest_xsetbv_cpl3)
{
	/*
	 * The guest loads TR itself: QEMU's TCG aborts when an exception
	 * switches stacks with a TSS that was not loaded by LTR.
	 */
	static const unsigned char code[] = {
		0x66, 0xb8, 0x28, 0x00,				/* mov ax, 0x28 */
		0x0f, 0x00, 0xd8,				/* ltr ax */
		0x6a, 0x23,					/* push 0x23 (ss) */
		0x68, 0x00, 0x88, 0x00, 0x00,			/* push 0x8800 (esp) */
		0x6a, 0x02,					/* push 2 (eflags) */
		0x6a, 0x1b,					/* push 0x1b (cs) */
		0x68, 0x18, 0x10, 0x00, 0x00,			/* push user */
		0xcf,						/* iret */
		/* user (0x1018): */
		0xb8, 0x03, 0x00, 0x00, 0x00,			/* mov eax, 3 */
		0x31, 0xd2,					/* xor edx, edx */
		0x31, 0xc9,					/* xor ecx, ecx */
		0x0f, 0x01, 0xd1,				/* xsetbv (at 0x1021) */
		0xf4,						/* hlt */
	};

	if (!self->o.xcr0)
		SKIP(return, "no XSAVE offered");
	mv_guest_put(&self->g, CODE_GPA, code, sizeof(code));
	start_pm32(_metadata, self->g.vcpu, self->o.cpuid,
		   CR4_SSE | CR4_OSXSAVE);
	expect_fault(_metadata, &self->g, 13, 0, 0x1021);
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, self->g.vcpu));
}

/*
 * The guest's XCR0 is the CPU's while it runs: without YMM in it, an AVX
 * instruction is #UD even though the host's XCR0 has YMM; with it, it runs.
 * First with XCR0 from KVM_SET_XCRS, then from XSETBV.  The host's XCR0 is
 * back after every exit.
 */
TEST_F(fpu, guest_xcr0_is_live)
{
	static const unsigned char code[] = {
		0x89, 0xd8,					/* mov eax, ebx */
		0x31, 0xd2,					/* xor edx, edx */
		0x31, 0xc9,					/* xor ecx, ecx */
		0x0f, 0x01, 0xd1,				/* xsetbv */
		0xc4, 0xe3, 0x7d, 0x19, 0xc1, 0x01,		/* vextractf128 xmm1, ymm0, 1 */
		0xb8, 0x0d, 0x60, 0x00, 0x00,			/* mov eax, 0x600d */
		0xe7, 0x10,					/* out 0x10, eax */
		0xf4,						/* hlt */
	};
	struct offer *o = &self->o;
	struct kvm_regs regs;
	__u64 xcr0;

	if (!o->xcr0 || !o->avx)
		SKIP(return, "no XSAVE with AVX offered");
	/* XGETBV here: the host has XSAVE on, else nothing was offered */
	xcr0 = host_xcr0();
	mv_guest_put(&self->g, CODE_GPA, code, sizeof(code));
	start_pm32(_metadata, self->g.vcpu, o->cpuid, CR4_SSE | CR4_OSXSAVE);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	for (int i = 0; i < 2; i++) {
		/* straight to the VEX instruction, XCR0 from the VMM */
		regs.rip = CODE_GPA + 9;
		ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));
		ASSERT_EQ(0, set_xcr0(self->g.vcpu, i ? XCR0_FP | XCR0_SSE |
				      XCR0_YMM : XCR0_FP | XCR0_SSE));
		if (i) {
			EXPECT_EQ(0x600dU, OUT(&self->g, PORT_DATA));
			run_to_hlt(_metadata, &self->g);
		} else {
			expect_fault(_metadata, &self->g, 6, -1, 0x1009);
		}
		EXPECT_EQ(xcr0, host_xcr0());
	}

	regs.rip = CODE_GPA;
	regs.rbx = XCR0_FP | XCR0_SSE;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));
	expect_fault(_metadata, &self->g, 6, -1, 0x1009);
	EXPECT_EQ(xcr0, host_xcr0());

	regs.rbx = XCR0_FP | XCR0_SSE | XCR0_YMM;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));
	EXPECT_EQ(0x600dU, OUT(&self->g, PORT_DATA));
	run_to_hlt(_metadata, &self->g);
	EXPECT_EQ(xcr0, host_xcr0());
}

/* CPUID.1:ECX.OSXSAVE is clear until the guest sets CR4.OSXSAVE. */
TEST_F(fpu, cpuid_osxsave_follows_cr4)
{
	static const unsigned char code[] = {
		0xb8, 0x01, 0x00, 0x00, 0x00,			/* mov eax, 1 */
		0x0f, 0xa2,					/* cpuid */
		0x89, 0xc8,					/* mov eax, ecx */
		0xe7, 0x10,					/* out 0x10, eax */
		0x0f, 0x20, 0xe0,				/* mov eax, cr4 */
		0x0d, 0x00, 0x00, 0x04, 0x00,			/* or eax, 0x40000 */
		0x0f, 0x22, 0xe0,				/* mov cr4, eax */
		0xb8, 0x01, 0x00, 0x00, 0x00,			/* mov eax, 1 */
		0x0f, 0xa2,					/* cpuid */
		0x89, 0xc8,					/* mov eax, ecx */
		0xe7, 0x10,					/* out 0x10, eax */
		0xf4,						/* hlt */
	};

	if (!self->o.xcr0)
		SKIP(return, "no XSAVE offered");
	mv_guest_put(&self->g, CODE_GPA, code, sizeof(code));
	start_pm32(_metadata, self->g.vcpu, self->o.cpuid, CR4_SSE);
	EXPECT_EQ(CPUID1_XSAVE, OUT(&self->g, PORT_DATA) &
		  (CPUID1_XSAVE | CPUID1_OSXSAVE));
	EXPECT_EQ(CPUID1_XSAVE | CPUID1_OSXSAVE, OUT(&self->g, PORT_DATA) &
		  (CPUID1_XSAVE | CPUID1_OSXSAVE));
	run_to_hlt(_metadata, &self->g);
}

TEST_HARNESS_MAIN
