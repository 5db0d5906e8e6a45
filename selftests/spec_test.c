// SPDX-License-Identifier: GPL-2.0
/*
 * Speculation controls (kmod/spec.c).  The guest's IA32_SPEC_CTRL,
 * IA32_PRED_CMD and IA32_FLUSH_CMD exist as in KVM: per its CPUID, the
 * values the host takes, write-only where they are commands, a #GP
 * otherwise; the same test passes on KVM.  On minivisor, debugfs
 * minivisor/spec also shows an IBPB (where the CPU has one) whenever a
 * vCPU of another VM than the last enters on a CPU, and an L1D flush
 * before every VMX entry where the host's mitigation (or l1d_flush=) asks.
 */
#include <sched.h>

#include "kselftest_harness.h"
#include "lib/guest.h"

#define MSR_SPEC_CTRL	0x48
#define MSR_PRED_CMD	0x49
#define MSR_FLUSH_CMD	0x10b
#define SPEC_IBRS	1ULL
#define SPEC_STIBP	2ULL
#define MARK		0xbeef0000deadULL

/* #GPs the guest took (its copy; read with GP_SEEN) */
static __u64 gp_seen;
#define GP_SEEN		__atomic_load_n(&gp_seen, __ATOMIC_SEQ_CST)

static void gp_handler(struct mv_ex_regs *regs)
{
	__atomic_store_n(&gp_seen, GP_SEEN + 1, __ATOMIC_SEQ_CST);
	regs->rip += 2;		/* RDMSR and WRMSR are 0f 32 and 0f 30 */
}

/* RDMSR, or MARK when it faults */
static __u64 rdmsr_mark(__u32 msr)
{
	__u32 lo = (__u32)MARK, hi = MARK >> 32;

	asm volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr));
	return lo | (__u64)hi << 32;
}

/* Each step reports what it read and the #GPs so far. */
static void guest_spec(__u64 value)
{
	__u64 v;

	v = rdmsr_mark(MSR_SPEC_CTRL);
	GUEST_SYNC2(v, GP_SEEN);
	wrmsr(MSR_SPEC_CTRL, value);
	v = rdmsr_mark(MSR_SPEC_CTRL);
	GUEST_SYNC2(v, GP_SEEN);
	wrmsr(MSR_PRED_CMD, 1);
	GUEST_SYNC(GP_SEEN);
	wrmsr(MSR_FLUSH_CMD, 1);
	GUEST_SYNC(GP_SEEN);
	/* the commands are write-only */
	v = rdmsr_mark(MSR_PRED_CMD);
	GUEST_SYNC2(v, GP_SEEN);
	v = rdmsr_mark(MSR_FLUSH_CMD);
	GUEST_SYNC2(v, GP_SEEN);
}

/* Does /proc/cpuinfo's first flags line have @flag? */
static bool host_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096], *tok, *save;
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (tok = strtok_r(line, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			found |= !strcmp(tok, flag);
		break;
	}
	fclose(f);
	return found;
}

/* A number from debugfs minivisor/spec, or -1 (KVM, or no such line). */
static long long spec_value(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/minivisor/spec", "r");
	char line[128], key[64];
	long long v = -1, x;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lli", key, &x) == 2 &&
		    !strcmp(key, name))
			v = x;
	fclose(f);
	return v;
}

static bool on_kvm(void)
{
	return !strcmp(mv_dev_path(), "/dev/kvm");
}

struct spec_run {
	__u64 read0, read1, gp[6];
};

/* Runs guest_spec(@value) on a vCPU with @cpuid (NULL: none set). */
static void run_guest_spec(struct __test_metadata *_metadata,
			   struct kvm_cpuid2 *cpuid, __u64 value,
			   struct spec_run *out)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} msrs = { .h.nmsrs = 1, .e.index = MSR_SPEC_CTRL };
	struct mv_vcpu *vcpu;
	struct mv_ucall uc;
	struct mv_vm *vm;

	vm = mv_vm_create(16 << 20);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	vcpu = mv_vcpu_add(vm, 0, guest_spec, value, 0);
	if (!vcpu && errno == EOPNOTSUPP)
		SKIP(mv_vm_free(vm); return, "no vCPUs on this backend yet");
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	if (cpuid)
		ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid));
	mv_vm_set_handler(vm, 13, gp_handler);

	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	out->read0 = uc.args[0];
	out->gp[0] = uc.args[1];
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	out->read1 = uc.args[0];
	out->gp[1] = uc.args[1];
	for (int i = 2; i < 6; i++) {
		ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
		out->gp[i] = i < 4 ? uc.args[0] : uc.args[1];
		if (i >= 4)
			EXPECT_EQ(MARK, uc.args[0]) TH_LOG("step %d", i);
	}
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	/* what the VMM reads is what the guest last saw */
	if (out->read1 != MARK) {
		ASSERT_EQ(1, ioctl(vcpu->fd, KVM_GET_MSRS, &msrs));
		EXPECT_EQ(out->read1, msrs.e.data);
	}
	mv_vm_free(vm);
}

/* No CPUID for them: every access is a #GP. */
TEST(msrs_without_cpuid)
{
	struct spec_run r;

	run_guest_spec(_metadata, NULL, 0, &r);
	EXPECT_EQ(MARK, r.read0);
	EXPECT_EQ(1, r.gp[0]);
	EXPECT_EQ(MARK, r.read1);
	EXPECT_EQ(3, r.gp[1]);
	EXPECT_EQ(4, r.gp[2]);
	EXPECT_EQ(5, r.gp[3]);
	EXPECT_EQ(6, r.gp[4]);
	EXPECT_EQ(7, r.gp[5]);
}

/*
 * CPUID.7.EDX SPEC_CTRL and FLUSH_L1D: IA32_SPEC_CTRL reads (0 at first)
 * and takes the bits the host has (0 anywhere), PRED_CMD
 * an IBPB where the host has one, FLUSH_CMD a flush where it has that.
 */
TEST(msrs_with_cpuid)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[2];
	} c = { .h.nent = 2 };
	bool ibrs = host_flag("ibrs"), ibpb = host_flag("ibpb");
	bool flush = host_flag("flush_l1d");
	bool msr = ibrs || host_flag("stibp");
	__u64 value = ibrs ? SPEC_IBRS : 0, gp = 0;
	long long ibpb0 = spec_value("guest_ibpb");
	struct spec_run r;

	c.e[0] = (struct kvm_cpuid_entry2) { .function = 0, .eax = 7 };
	c.e[1] = (struct kvm_cpuid_entry2) {
		.function = 7, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		.edx = (1U << 26) | (1U << 28),
	};
	TH_LOG("host: SPEC_CTRL %s, IBRS %d, IBPB %d, FLUSH_L1D %d",
	       msr ? "yes" : "no", ibrs, ibpb, flush);
	run_guest_spec(_metadata, &c.h, value, &r);

	EXPECT_EQ(0, r.read0);
	EXPECT_EQ(0, r.gp[0]);
	/* without the MSR the value is 0, which any host takes */
	EXPECT_EQ(msr ? value : 0, r.read1);
	EXPECT_EQ(gp, r.gp[1]);
	gp += !ibpb;
	EXPECT_EQ(gp, r.gp[2]);
	gp += !flush;
	EXPECT_EQ(gp, r.gp[3]);
	EXPECT_EQ(gp + 1, r.gp[4]);
	EXPECT_EQ(gp + 2, r.gp[5]);
	if (ibpb0 >= 0)
		EXPECT_EQ(ibpb0 + ibpb, spec_value("guest_ibpb"));
}

/* A VM whose one vCPU halts in real mode, again and again. */
struct hlt_vm {
	int vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	unsigned char *mem;
	size_t size;
};

static int hlt_guest(struct hlt_vm *g, int dev)
{
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	memset(g, 0, sizeof(*g));
	g->vm = ioctl(dev, KVM_CREATE_VM, 0);
	if (g->vm < 0)
		return -errno;
	g->size = 0x10000;
	g->mem = mmap(NULL, g->size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED)
		return -errno;
	g->mem[0x1000] = 0xf4;		/* hlt */
	g->mem[0x1001] = 0xeb;		/* jmp back to it */
	g->mem[0x1002] = 0xfd;
	region = (struct kvm_userspace_memory_region) {
		.memory_size = g->size, .userspace_addr = (unsigned long)g->mem,
	};
	if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &region))
		return -errno;
	g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	if (g->vcpu < 0)
		return -errno;
	g->run_size = ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	g->run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->vcpu, 0);
	if (g->run == MAP_FAILED)
		return -errno;
	if (ioctl(g->vcpu, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	if (ioctl(g->vcpu, KVM_SET_SREGS, &sregs))
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	return ioctl(g->vcpu, KVM_SET_REGS, &regs) ? -errno : 0;
}

static void hlt_destroy(struct hlt_vm *g)
{
	munmap(g->run, g->run_size);
	munmap(g->mem, g->size);
	close(g->vcpu);
	close(g->vm);
}

/*
 * Two VMs on one CPU: each entry of the other VM's vCPU is a VM switch
 * with an IBPB (where the CPU has IBPB); entries of the same one are not.
 */
TEST(ibpb_between_vms)
{
	int dev = mv_open_dev(), n = 10;
	bool ibpb = host_flag("ibpb");
	long long sw0, ib0;
	struct hlt_vm g[2];
	cpu_set_t set;

	if (on_kvm())
		SKIP(return, "minivisor's counters");
	ASSERT_GE(dev, 0);
	sw0 = spec_value("vm_switches");
	ASSERT_GE(sw0, 0) TH_LOG("no debugfs minivisor/spec");
	ib0 = spec_value("ibpb");
	ASSERT_EQ(0, hlt_guest(&g[0], dev));
	ASSERT_EQ(0, hlt_guest(&g[1], dev));
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));

	for (int i = 0; i < 2 * n; i++) {
		ASSERT_EQ(0, ioctl(g[i % 2].vcpu, KVM_RUN, 0));
		ASSERT_EQ(KVM_EXIT_HLT, g[i % 2].run->exit_reason);
	}
	EXPECT_EQ(sw0 + 2 * n, spec_value("vm_switches"));
	EXPECT_EQ(ib0 + (ibpb ? 2 * n : 0), spec_value("ibpb"));
	/* one VM again and again: one switch, to it */
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, ioctl(g[0].vcpu, KVM_RUN, 0));
		ASSERT_EQ(KVM_EXIT_HLT, g[0].run->exit_reason);
	}
	EXPECT_EQ(sw0 + 2 * n + 1, spec_value("vm_switches"));
	EXPECT_EQ(ib0 + (ibpb ? 2 * n + 1 : 0), spec_value("ibpb"));
	hlt_destroy(&g[0]);
	hlt_destroy(&g[1]);
	close(dev);
}

/*
 * The L1D flush: before every VMX entry when debugfs says it is on now
 * (the plan loads minivisor with l1d_flush=always and sets
 * MV_L1D_FLUSH=always), never on SVM or when off.
 */
TEST(l1d_flush_per_entry)
{
	const char *want = getenv("MV_L1D_FLUSH");
	int dev = mv_open_dev(), n = 20;
	struct minivisor_info info;
	long long f0, f1;
	bool on;
	struct hlt_vm g;
	FILE *f;
	char line[128];

	if (on_kvm())
		SKIP(return, "minivisor's counters");
	ASSERT_GE(dev, 0);
	ASSERT_EQ(0, ioctl(dev, MV_GET_INFO, &info));
	f = fopen("/sys/kernel/debug/minivisor/spec", "r");
	ASSERT_NE(NULL, f);
	on = false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "l1d_flush_now ", 14))
			on = !strncmp(line + 14, "yes", 3);
	fclose(f);
	if (want && !strcmp(want, "always"))
		EXPECT_EQ(info.backend == MV_BACKEND_VMX, on);
	if (want && !strcmp(want, "never"))
		EXPECT_FALSE(on);

	f0 = spec_value("l1d_flushes");
	ASSERT_GE(f0, 0);
	ASSERT_EQ(0, hlt_guest(&g, dev));
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, ioctl(g.vcpu, KVM_RUN, 0));
		ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	}
	/* an entry a run at least (the host's interrupts may add some) */
	f1 = spec_value("l1d_flushes");
	TH_LOG("flush %s: %lld flushes for %d runs", on ? "on" : "off",
	       f1 - f0, n);
	EXPECT_TRUE(on ? f1 >= f0 + n : f1 == f0);
	hlt_destroy(&g);
	close(dev);
}

TEST_HARNESS_MAIN
