// SPDX-License-Identifier: GPL-2.0
/*
 * EFER.LME with paging off: a state every 64-bit OS passes through, and the
 * one the ioctl fuzzer (fuzz_test -s 1 -t 3 -m tdp, before its inputs were
 * narrowed) hung the QEMU machine with.  A guest in real mode with
 * EFER.LME set (by KVM_SET_SREGS or by its own WRMSR) takes exits and must
 * keep LME, the exits coming back as they would on hardware.
 *
 * QEMU 7.2's TCG cannot run it: its #VMEXIT reloads the host's CR0 while
 * the guest's EFER and CR4 are still in place, and with LME set, PAE and
 * PG clear it takes the host's CR0.PG for an entry into long mode without
 * PAE and drops the whole write.  The host then runs on with the guest's
 * CR0 (paging and protection off) in long mode, with GIF clear: it no
 * longer answers interrupts, IPIs or NMIs.  kvm_amd (NPT) loads the same
 * EFER as minivisor's TDP mode does, and hangs the machine the same way.
 * So on TCG (CPUID 0x40000000 "TCGTCGTCGTCG") the cases with PAE clear
 * skip unless $MV_TCG_UNSAFE is set; with PAE set the same path works and
 * runs everywhere.
 */
#include <cpuid.h>
#include <signal.h>
#include <sys/time.h>

#include "kselftest_harness.h"
#include "lib/vm.h"

#define EFER_LME	0x100ULL
#define EFER_LMA	0x400ULL
#define CR0_PE		0x1ULL
#define CR0_PG		0x80000000ULL
#define CR4_PAE		0x20ULL

static void on_alarm(int sig)
{
}

/* A SIGALRM in 5 s: a KVM_RUN that does not come back fails, not hangs */
static int alarm_on(bool on)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_sec = on ? 5 : 0 } };

	if (sigaction(SIGALRM, &sa, NULL))
		return -errno;
	return setitimer(ITIMER_REAL, &it, NULL) ? -errno : 0;
}

static bool on_tcg(void)
{
	unsigned int a, b, c, d;

	__cpuid_count(0x40000000, 0, a, b, c, d);
	return b == 0x54474354 && c == 0x43544743 && d == 0x47435447;
}

/* The state would hang this machine: the case skips */
static bool tcg_hangs(bool pae)
{
	return !pae && on_tcg() && !getenv("MV_TCG_UNSAFE");
}

#define TCG_HANGS	"QEMU's TCG hangs the host CPU on a #VMEXIT with LME and no PAE or PG"

FIXTURE(lme) {
	struct mv_guest g;
};

FIXTURE_SETUP(lme)
{
	int r = mv_guest_create(&self->g, 0, 0x10000);

	struct kvm_cpuid2 *c;

	if (r == -EOPNOTSUPP)
		SKIP(return, "this backend does not run vCPUs yet");
	ASSERT_EQ(0, r) TH_LOG("guest: %s", strerror(-r));
	/* LME and PAE need the guest's CPUID to have LM and PAE */
	c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	ASSERT_NE(NULL, c);
	c->nent = 256;
	ASSERT_EQ(0, ioctl(self->g.dev, KVM_GET_SUPPORTED_CPUID, c));
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_CPUID2, c));
	free(c);
}

FIXTURE_TEARDOWN(lme)
{
	mv_guest_destroy(&self->g);
}

/* Real mode at 0:0 with @efer and @cr4; @code there */
static void start(struct __test_metadata *_metadata, struct mv_guest *g,
		  __u64 efer, __u64 cr4, const void *code, size_t len)
{
	struct kvm_sregs sr;
	struct kvm_regs regs = { .rflags = 2, .rsp = 0xfff0 };

	mv_guest_put(g, 0, code, len);
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_GET_SREGS, &sr));
	sr.cs.selector = 0;
	sr.cs.base = 0;
	sr.efer = efer;
	sr.cr4 = cr4;
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_SREGS, &sr));
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_REGS, &regs));
}

/* One KVM_RUN, bounded; the exit must be OUT to port 0x80 of @val */
static void expect_out(struct __test_metadata *_metadata, struct mv_guest *g,
		       __u8 val)
{
	ASSERT_EQ(0, alarm_on(true));
	ASSERT_EQ(0, mv_guest_run(g));
	ASSERT_EQ(0, alarm_on(false));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	EXPECT_EQ(KVM_EXIT_IO_OUT, g->run->io.direction);
	EXPECT_EQ(0x80, g->run->io.port);
	EXPECT_EQ(val, mv_guest_io_data(g));
}

/* The state the guest is left in: LME kept, not active, paging off */
static void expect_lme(struct __test_metadata *_metadata, struct mv_guest *g,
		       __u64 cr4)
{
	struct kvm_sregs sr;

	ASSERT_EQ(0, ioctl(g->vcpu, KVM_GET_SREGS, &sr));
	EXPECT_EQ(EFER_LME, sr.efer & (EFER_LME | EFER_LMA));
	EXPECT_EQ(0, sr.cr0 & (CR0_PG | CR0_PE));
	EXPECT_EQ(cr4 & CR4_PAE, sr.cr4 & CR4_PAE);
}

/* mov al, 0x42; out 0x80, al; mov al, 0x43; out 0x80, al; hlt */
static const __u8 outs[] = {
	0xb0, 0x42, 0xe6, 0x80, 0xb0, 0x43, 0xe6, 0x80, 0xf4,
};

static void run_outs(struct __test_metadata *_metadata, struct mv_guest *g,
		     __u64 cr4)
{
	start(_metadata, g, EFER_LME, cr4, outs, sizeof(outs));
	expect_out(_metadata, g, 0x42);
	expect_lme(_metadata, g, cr4);
	expect_out(_metadata, g, 0x43);
	ASSERT_EQ(0, alarm_on(true));
	ASSERT_EQ(0, mv_guest_run(g));
	ASSERT_EQ(0, alarm_on(false));
	EXPECT_EQ(KVM_EXIT_HLT, g->run->exit_reason);
	expect_lme(_metadata, g, cr4);
}

/* KVM_SET_SREGS gives LME, paging and PAE off: the exits come back */
TEST_F(lme, set_sregs)
{
	if (tcg_hangs(false))
		SKIP(return, TCG_HANGS);
	run_outs(_metadata, &self->g, 0);
}

/* The same with CR4.PAE set (the order OSes use; TCG runs it right) */
TEST_F(lme, set_sregs_pae)
{
	if (tcg_hangs(true))
		SKIP(return, TCG_HANGS);
	run_outs(_metadata, &self->g, CR4_PAE);
}

/*
 * The guest sets LME itself: mov ecx, 0xc0000080; rdmsr; or eax, 0x100;
 * wrmsr; mov al, 0x42; out 0x80, al; hlt
 */
static const __u8 wrmsr_lme[] = {
	0x66, 0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32,
	0x66, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f, 0x30,
	0xb0, 0x42, 0xe6, 0x80, 0xf4,
};

TEST_F(lme, guest_wrmsr)
{
	if (tcg_hangs(false))
		SKIP(return, TCG_HANGS);
	start(_metadata, &self->g, 0, 0, wrmsr_lme, sizeof(wrmsr_lme));
	expect_out(_metadata, &self->g, 0x42);
	expect_lme(_metadata, &self->g, 0);
}

TEST_HARNESS_MAIN
