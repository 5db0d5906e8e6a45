// SPDX-License-Identifier: GPL-2.0
/*
 * The double-fault rules: a #PF raised while a #PF is delivered becomes a
 * #DF, delivered to the guest's #DF handler with error code 0, and a fault
 * while a #DF is delivered shuts the vCPU down (KVM_EXIT_SHUTDOWN).  Under
 * TDP the hardware applies them; under shadow paging (MV_MMU=shadow, the
 * shadow-selftest line) the #PFs are minivisor's to combine.  Written
 * against <linux/kvm.h> only, so it runs on KVM too.
 */
#include <signal.h>
#include <sys/time.h>

#include "kselftest_harness.h"
#include "lib/vm.h"
#include "df_guest.h"

#define MEM_SIZE	0x200000ULL
#define CODE		0x1000ULL
#define GDT		0x3000ULL
/* vector 8's gate at 0x4fc0, the last of page 0x4000; 14's in page 0x5000 */
#define IDT		0x4f40ULL
#define TSS		0x6000ULL
#define IST_STACK	0x8000ULL	/* the #DF handler's (IST 1) */
#define STACK		0x9000ULL
#define PML4		0x10000ULL
#define PDPT		0x11000ULL
#define PD		0x12000ULL
#define PT		0x13000ULL
#define PORT		0x10

#define P		0x1ULL
#define RW		0x2ULL

FIXTURE(df) {
	struct mv_guest g;
};

static __u64 *gmem64(struct mv_guest *g, __u64 gpa)
{
	return (__u64 *)(g->mem + gpa);
}

/* A 64-bit interrupt gate to @handler, on IST @ist */
static void set_gate(struct mv_guest *g, int vector, __u64 handler, int ist)
{
	__u64 *gate = gmem64(g, IDT + 16 * vector);

	gate[0] = (handler & 0xffff) | (0x8ULL << 16) | ((__u64)ist << 32) |
		(0x8eULL << 40) | ((handler >> 16 & 0xffff) << 48);
	gate[1] = handler >> 32;
}

/* The CPUID the host supports (KVM checks CR4 and EFER against it) */
static void set_cpuid(struct __test_metadata *_metadata, struct mv_guest *g)
{
	struct kvm_cpuid2 *cpuid;

	cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	ASSERT_NE(NULL, cpuid);
	cpuid->nent = 256;
	ASSERT_EQ(0, ioctl(g->dev, KVM_GET_SUPPORTED_CPUID, cpuid));
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_CPUID2, cpuid));
	free(cpuid);
}

FIXTURE_SETUP(df)
{
	__u64 handler = CODE + (df_guest_handler - df_guest_start);
	struct kvm_segment code = {
		.limit = 0xffffffff, .selector = 0x8, .type = 0xb,
		.present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.limit = 0xffffffff, .selector = 0x10, .type = 0x3,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	__u64 *gdt;
	int i, r;

	r = mv_guest_create(&self->g, 0, MEM_SIZE);
	if (r == -EOPNOTSUPP)
		SKIP(return, "this backend does not run vCPUs yet");
	ASSERT_EQ(0, r) TH_LOG("guest: %s", strerror(-r));

	/* the first 2 MiB identity-mapped but page 0 and 0x400000 on */
	*gmem64(&self->g, PML4) = PDPT | P | RW;
	*gmem64(&self->g, PDPT) = PD | P | RW;
	*gmem64(&self->g, PD) = PT | P | RW;
	for (i = 1; i < 512; i++)
		gmem64(&self->g, PT)[i] = ((__u64)i << 12) | P | RW;
	gdt = gmem64(&self->g, GDT);
	gdt[1] = 0x00af9b000000ffffULL;
	gdt[2] = 0x00cf93000000ffffULL;
	gdt[3] = 0x00008b000000ffffULL | ((TSS & 0xffffff) << 16);
	/* the 64-bit TSS: IST 1 at offset 0x24 */
	*(__u64 *)(self->g.mem + TSS + 0x24) = IST_STACK;
	set_gate(&self->g, 14, CODE + 0x800, 0);	/* never reached */
	set_gate(&self->g, 8, handler, 1);
	mv_guest_put(&self->g, CODE, df_guest_start,
		     df_guest_end - df_guest_start);

	set_cpuid(_metadata, &self->g);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs = code;
	sregs.ds = data;
	sregs.es = data;
	sregs.ss = data;
	sregs.fs = data;
	sregs.gs = data;
	sregs.tr = (struct kvm_segment) {
		.base = TSS, .limit = 0x67, .selector = 0x18, .type = 0xb,
		.present = 1,
	};
	sregs.gdt.base = GDT;
	sregs.gdt.limit = 0x1f;
	sregs.idt.base = IDT;
	sregs.idt.limit = 0xfff;
	sregs.cr0 = 0x80010011;		/* PG, WP, ET, PE */
	sregs.cr3 = PML4;
	sregs.cr4 = 0x20;		/* PAE */
	sregs.efer = 0xd00;		/* NXE, LMA, LME */
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE;
	regs.rsp = STACK;
	regs.rflags = 2;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));
}

FIXTURE_TEARDOWN(df)
{
	mv_guest_destroy(&self->g);
}

static void set_rsp(struct __test_metadata *_metadata, struct mv_guest *g,
		    __u64 rsp)
{
	struct kvm_regs regs;

	ASSERT_EQ(0, ioctl(g->vcpu, KVM_GET_REGS, &regs));
	regs.rsp = rsp;
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_REGS, &regs));
}

/* The next exit is OUT to PORT; returns its value. */
static __u32 next_out(struct __test_metadata *_metadata, struct mv_guest *g)
{
	int r = mv_guest_run(g);

	EXPECT_EQ(0, r);
	EXPECT_EQ(KVM_EXIT_IO, g->run->exit_reason)
		TH_LOG("exit %u, internal %u", g->run->exit_reason,
		       g->run->internal.suberror);
	if (r || g->run->exit_reason != KVM_EXIT_IO)
		return 0xdeadbeef;
	EXPECT_EQ(PORT, g->run->io.port);
	return mv_guest_io_data(g);
}

#define OUT() next_out(_metadata, &self->g)

static void expect_hlt(struct __test_metadata *_metadata, struct mv_guest *g)
{
	ASSERT_EQ(0, mv_guest_run(g));
	EXPECT_EQ(KVM_EXIT_HLT, g->run->exit_reason);
}

/* The #PF gate is on a page nothing maps: the #PF becomes a #DF. */
TEST_F(df, pf_gate_unmapped)
{
	gmem64(&self->g, PT)[5] = 0;
	EXPECT_EQ(0U, OUT());		/* the #DF's error code */
	EXPECT_EQ(0xdfU, OUT());
	expect_hlt(_metadata, &self->g);
}

/* The #PF handler's stack is not mapped: the push faults, a #DF. */
TEST_F(df, pf_stack_unmapped)
{
	set_rsp(_metadata, &self->g, 0x401000);
	EXPECT_EQ(0U, OUT());
	EXPECT_EQ(0xdfU, OUT());
	expect_hlt(_metadata, &self->g);
}

/* Neither gate is mapped: the #DF cannot be delivered, shutdown. */
TEST_F(df, df_gate_unmapped)
{
	gmem64(&self->g, PT)[4] = 0;
	gmem64(&self->g, PT)[5] = 0;
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(KVM_EXIT_SHUTDOWN, self->g.run->exit_reason)
		TH_LOG("exit %u", self->g.run->exit_reason);
}

/* The #DF's IST stack is not mapped either: shutdown. */
TEST_F(df, df_stack_unmapped)
{
	set_rsp(_metadata, &self->g, 0x401000);
	gmem64(&self->g, PT)[7] = 0;		/* IST 1: 0x8000 down */
	ASSERT_EQ(0, mv_guest_run(&self->g));
	EXPECT_EQ(KVM_EXIT_SHUTDOWN, self->g.run->exit_reason)
		TH_LOG("exit %u", self->g.run->exit_reason);
}

static void on_alarm(int sig)
{
}

/*
 * An exception whose delivery an exit interrupted stays queued while the
 * VMM changes the mode: a #GP(0x1230) pushed onto an MMIO stack exits
 * (minivisor: KVM_EXIT_INTERNAL_ERROR), KVM_SET_SREGS then puts the vCPU
 * in real mode, and the #GP is delivered there through the IVT, without
 * an error code (real mode pushes none; VM entry refuses one: before,
 * KVM_RUN failed the entry).  kvm_intel does the same; kvm_amd on QEMU's
 * TCG stays in the first KVM_RUN, which a timer signal ends (a skip).
 */
TEST_F(df, queued_gp_into_real_mode)
{
	static const unsigned char gp[] = {
		0x66, 0xb8, 0x30, 0x12,		/* mov ax, 0x1230 */
		0x8e, 0xd8,			/* mov ds, ax: #GP(0x1230) */
	};
	static const unsigned char rm[] = {
		0xe6, PORT, 0xf4,		/* out PORT, al; hlt */
	};
	struct kvm_segment seg = {
		.limit = 0xffff, .type = 0x3, .present = 1, .s = 1,
	};
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_sec = 5 } };
	struct itimerval off = { };
	struct minivisor_info info;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	__u16 *frame;
	int r;

	mv_guest_put(&self->g, CODE, gp, sizeof(gp));
	set_gate(&self->g, 13, CODE + 0x800, 0);
	/* the stack's page is MMIO: no slot at 1 GiB */
	gmem64(&self->g, PT)[0x1ff] = 0x40000000ULL | P | RW;
	set_rsp(_metadata, &self->g, 0x200000);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	r = mv_guest_run(&self->g);
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &off, NULL));
	if (r || self->g.run->exit_reason != KVM_EXIT_INTERNAL_ERROR) {
		/* minivisor exits; KVM may retry the push (kvm_amd on TCG) */
		ASSERT_NE(0, ioctl(self->g.dev, MV_GET_INFO, &info))
			TH_LOG("KVM_RUN %d, exit %u", r,
			       self->g.run->exit_reason);
		SKIP(return, "KVM left no #GP queued (KVM_RUN %d, exit %u)",
		     r, self->g.run->exit_reason);
	}
	/* KVM's sub-error varies (kvm_intel: 3 with EPT, 2 without) */
	TH_LOG("internal error %u", self->g.run->internal.suberror);
	if (!ioctl(self->g.dev, MV_GET_INFO, &info))
		EXPECT_EQ(KVM_INTERNAL_ERROR_DELIVERY_EV,
			  self->g.run->internal.suberror);

	/* real mode: the IVT at 0, the code at 0xa000, the stack below 0xc000 */
	*(__u32 *)(self->g.mem + 13 * 4) = 0x0a000010;	/* a00:0010 */
	mv_guest_put(&self->g, 0xa000, rm, sizeof(rm));
	mv_guest_put(&self->g, 0xa010, rm + 2, 1);	/* hlt */
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.ds = seg;
	sregs.es = seg;
	sregs.fs = seg;
	sregs.gs = seg;
	sregs.ss = seg;
	seg.type = 0xb;
	seg.selector = 0xa00;
	seg.base = 0xa000;
	sregs.cs = seg;
	sregs.idt.base = 0;
	sregs.idt.limit = 0x3ff;
	sregs.cr0 = 0x10;		/* ET */
	sregs.cr3 = 0;
	sregs.cr4 = 0;
	sregs.efer = 0;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rsp = 0xc000;
	regs.rflags = 2;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));

	ASSERT_EQ(0, mv_guest_run(&self->g));
	ASSERT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason)
		TH_LOG("exit %u (entry failure %#llx)",
		       self->g.run->exit_reason, (unsigned long long)
		       self->g.run->fail_entry.hardware_entry_failure_reason);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x11ULL, regs.rip);
	/* IP, CS, FLAGS: six bytes, no error code */
	EXPECT_EQ(0xc000ULL - 6, regs.rsp);
	frame = (__u16 *)(self->g.mem + 0xc000 - 6);
	EXPECT_EQ(0, frame[0]);
	EXPECT_EQ(0xa00, frame[1]);
	EXPECT_EQ(2, frame[2]);
}

TEST_HARNESS_MAIN
