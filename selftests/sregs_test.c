// SPDX-License-Identifier: GPL-2.0
/*
 * CR4 and EFER validation, as KVM does it (kvm_is_valid_cr4(),
 * kvm_valid_efer()): a bit the guest's CPUID does not give, or one the
 * hypervisor cannot give on this host, or one the architecture reserves,
 * makes KVM_SET_SREGS fail with EINVAL and the guest's own MOV to CR4 or
 * WRMSR to EFER take a #GP; KVM_SET_MSRS checks EFER against the host only.
 * CR4.LA57 is refused unless the hypervisor offers LA57 in its supported
 * CPUID (minivisor never does: its shadow MMU and walker are 4-level).
 * Expectations come from the CPUID each test sets, so the same test holds
 * on minivisor (both MMU modes) and on KVM.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "lib/guest.h"

#define CR4_VMXE	_BITULL(13)
#define CR4_FSGSBASE	_BITULL(16)
#define CR4_PCIDE	_BITULL(17)
#define CR4_OSXSAVE	_BITULL(18)
#define CR4_SMEP	_BITULL(20)
#define CR4_SMAP	_BITULL(21)
#define CR4_PKE		_BITULL(22)
#define CR4_UMIP	_BITULL(11)
#define CR4_LA57	_BITULL(12)
#define EFER_SVME	_BITULL(12)
#define EFER_FFXSR	_BITULL(14)

/* A CPUID bit: leaf, register (0 EAX .. 3 EDX), bit */
struct cpuid_bit {
	__u32 function;
	int reg;
	int bit;
};

/* Each CR4 bit that needs a CPUID feature, and the feature */
static const struct {
	__u64 cr4;
	struct cpuid_bit cpuid;
	const char *name;
} cr4_feats[] = {
	{ CR4_OSXSAVE, { 1, 2, 26 }, "OSXSAVE" },
	{ CR4_PCIDE, { 1, 2, 17 }, "PCIDE" },
	{ CR4_VMXE, { 1, 2, 5 }, "VMXE" },
	{ CR4_FSGSBASE, { 7, 1, 0 }, "FSGSBASE" },
	{ CR4_SMEP, { 7, 1, 7 }, "SMEP" },
	{ CR4_SMAP, { 7, 1, 20 }, "SMAP" },
	{ CR4_UMIP, { 7, 2, 2 }, "UMIP" },
	{ CR4_PKE, { 7, 2, 3 }, "PKE" },
	{ CR4_LA57, { 7, 2, 16 }, "LA57" },
};

/* EFER bits that need a CPUID feature (not LME: the guest is in long mode) */
static const struct {
	__u64 efer;
	struct cpuid_bit cpuid;
} efer_feats[] = {
	{ EFER_NXE, { 0x80000001, 3, 20 } },
	{ EFER_SVME, { 0x80000001, 2, 2 } },
	{ EFER_FFXSR, { 0x80000001, 3, 25 } },
};

/* Bits reserved whatever the CPUID: SMXE, 15, KL, CET, PKS, UINTR, 32, 63 */
static const __u64 cr4_rsvd[] = {
	_BITULL(14), _BITULL(15), _BITULL(19), _BITULL(23), _BITULL(24),
	_BITULL(25), _BITULL(32), _BITULL(63),
};

/* EFER bits no x86 hypervisor gives: 1, 9, 15 (TCE), 63 */
static const __u64 efer_rsvd[] = {
	_BITULL(1), _BITULL(9), _BITULL(15), _BITULL(63),
};

static struct kvm_cpuid2 *get_supported(int dev)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));

	if (!c)
		return NULL;
	c->nent = 256;
	if (ioctl(dev, KVM_GET_SUPPORTED_CPUID, c)) {
		free(c);
		return NULL;
	}
	return c;
}

static __u32 *cpuid_reg(struct kvm_cpuid2 *c, const struct cpuid_bit *b)
{
	for (__u32 i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		__u32 *regs[4] = { &e->eax, &e->ebx, &e->ecx, &e->edx };

		if (e->function == b->function && e->index == 0)
			return regs[b->reg];
	}
	return NULL;
}

static bool cpuid_has(struct kvm_cpuid2 *c, const struct cpuid_bit *b)
{
	__u32 *r = cpuid_reg(c, b);

	return r && (*r & (1U << b->bit));
}

static void cpuid_set(struct kvm_cpuid2 *c, const struct cpuid_bit *b, bool on)
{
	__u32 *r = cpuid_reg(c, b);

	if (!r)
		return;
	if (on)
		*r |= 1U << b->bit;
	else
		*r &= ~(1U << b->bit);
}

/* ----------------------------------------------------------------- guest */

/* the guest's copies, written by the host before the run */
static __u64 guest_cr4_bits[32];
static __u64 guest_efer_bits[32];
static __u64 gp_count, fix_len;

/* the #GP handler runs between the guest's own accesses: no caching */
#define GP_COUNT()	__atomic_load_n(&gp_count, __ATOMIC_SEQ_CST)

static void gp_handler(struct mv_ex_regs *regs)
{
	GUEST_ASSERT_EQ(regs->vector, 13);
	GUEST_ASSERT_EQ(regs->error_code, 0);
	__atomic_add_fetch(&gp_count, 1, __ATOMIC_SEQ_CST);
	regs->rip += __atomic_load_n(&fix_len, __ATOMIC_SEQ_CST);
}

/* Loads CR4 with @v: 1 if that took a #GP, else 0. */
static __u64 try_cr4(__u64 v)
{
	__u64 n = GP_COUNT();

	__atomic_store_n(&fix_len, 3, __ATOMIC_SEQ_CST);	/* mov %rax, %cr4: 0f 22 e0 */
	asm volatile("mov %0, %%cr4" : : "a"(v) : "memory");
	return GP_COUNT() - n;
}

static __u64 try_efer(__u64 v)
{
	__u64 n = GP_COUNT();

	__atomic_store_n(&fix_len, 2, __ATOMIC_SEQ_CST);	/* wrmsr: 0f 30 */
	asm volatile("wrmsr" : : "c"(MSR_EFER), "a"((__u32)v),
		     "d"((__u32)(v >> 32)) : "memory");
	return GP_COUNT() - n;
}

/* Each bit is set in turn; each must #GP and leave the register alone. */
static void guest_refused(void)
{
	__u64 cr4 = read_cr4(), efer = rdmsr(MSR_EFER);

	for (int i = 0; guest_cr4_bits[i]; i++) {
		GUEST_SYNC2(guest_cr4_bits[i], try_cr4(cr4 | guest_cr4_bits[i]));
		GUEST_ASSERT_EQ(read_cr4(), cr4);
	}
	for (int i = 0; guest_efer_bits[i]; i++) {
		GUEST_SYNC2(guest_efer_bits[i],
			    try_efer(efer | guest_efer_bits[i]));
		GUEST_ASSERT_EQ(rdmsr(MSR_EFER), efer);
	}
	/* what is valid still is: PGE off and on, no #GP */
	GUEST_ASSERT_EQ(try_cr4(cr4 & ~X86_CR4_PGE), 0);
	GUEST_ASSERT_EQ(read_cr4(), cr4 & ~X86_CR4_PGE);
	GUEST_ASSERT_EQ(try_cr4(cr4 | X86_CR4_PGE), 0);
	GUEST_ASSERT_EQ(read_cr4(), cr4 | X86_CR4_PGE);
	GUEST_SYNC2(0, read_cr4());
}

/* ------------------------------------------------------------------ host */

FIXTURE(sregs) {
	struct mv_vm *vm;
	struct mv_vcpu *vcpu;
	struct kvm_cpuid2 *supported;
	struct kvm_sregs s;
};

FIXTURE_SETUP(sregs)
{
	self->vm = mv_vm_create(8 << 20);
	ASSERT_NE(NULL, self->vm) TH_LOG("vm: %s", strerror(errno));
	self->vcpu = mv_vcpu_add(self->vm, 0, guest_refused, 0, 0);
	if (!self->vcpu && errno == EOPNOTSUPP)
		SKIP(return, "no vCPUs on this backend yet");
	ASSERT_NE(NULL, self->vcpu) TH_LOG("vcpu: %s", strerror(errno));
	self->supported = get_supported(self->vm->dev);
	ASSERT_NE(NULL, self->supported);
	ASSERT_EQ(0, ioctl(self->vcpu->fd, KVM_GET_SREGS, &self->s));
}

FIXTURE_TEARDOWN(sregs)
{
	free(self->supported);
	if (self->vm)
		mv_vm_free(self->vm);
}

static int set_cpuid(struct mv_vcpu *vcpu, struct kvm_cpuid2 *c)
{
	return ioctl(vcpu->fd, KVM_SET_CPUID2, c);
}

/* KVM_SET_SREGS of @s; 0 or errno, and CR4/EFER must read back as set */
static int set_sregs(struct __test_metadata *_metadata, struct mv_vcpu *vcpu,
		     const struct kvm_sregs *s, const struct kvm_sregs *old)
{
	struct kvm_sregs back;
	int r = ioctl(vcpu->fd, KVM_SET_SREGS, s) ? errno : 0;

	EXPECT_EQ(0, ioctl(vcpu->fd, KVM_GET_SREGS, &back));
	EXPECT_EQ(r ? old->cr4 : s->cr4, back.cr4);
	EXPECT_EQ(r ? old->efer : s->efer, back.efer);
	/* back to the state the test started from */
	EXPECT_EQ(0, ioctl(vcpu->fd, KVM_SET_SREGS, old));
	return r;
}

TEST_F(sregs, cr4_reserved)
{
	struct kvm_sregs s;

	for (unsigned int i = 0; i < ARRAY_SIZE(cr4_rsvd); i++) {
		s = self->s;
		s.cr4 |= cr4_rsvd[i];
		EXPECT_EQ(EINVAL, set_sregs(_metadata, self->vcpu, &s, &self->s))
			TH_LOG("CR4 bit %#llx", cr4_rsvd[i]);
	}
}

TEST_F(sregs, cr4_cpuid)
{
	struct kvm_cpuid2 *c = self->supported;
	struct kvm_sregs s;

	for (unsigned int i = 0; i < ARRAY_SIZE(cr4_feats); i++) {
		bool has = cpuid_has(c, &cr4_feats[i].cpuid);

		s = self->s;
		s.cr4 |= cr4_feats[i].cr4;
		/* not in the guest's CPUID: reserved */
		cpuid_set(c, &cr4_feats[i].cpuid, false);
		ASSERT_EQ(0, set_cpuid(self->vcpu, c));
		EXPECT_EQ(EINVAL, set_sregs(_metadata, self->vcpu, &s, &self->s))
			TH_LOG("CR4.%s without its CPUID bit", cr4_feats[i].name);
		/* in it, as the hypervisor offers it: valid */
		cpuid_set(c, &cr4_feats[i].cpuid, has);
		ASSERT_EQ(0, set_cpuid(self->vcpu, c));
		EXPECT_EQ(has ? 0 : EINVAL,
			  set_sregs(_metadata, self->vcpu, &s, &self->s))
			TH_LOG("CR4.%s, CPUID bit %s", cr4_feats[i].name,
			       has ? "offered" : "not offered");
	}
}

/*
 * LA57 claimed in the CPUID though the hypervisor does not offer it: still
 * refused (the host cannot, or, on minivisor, a 4-level shadow root could
 * not map it).
 */
TEST_F(sregs, la57_not_offered)
{
	const struct cpuid_bit la57 = { 7, 2, 16 };
	struct kvm_cpuid2 *c = self->supported;
	struct kvm_sregs s = self->s;

	if (cpuid_has(c, &la57))
		SKIP(return, "the hypervisor offers LA57");
	cpuid_set(c, &la57, true);
	ASSERT_EQ(0, set_cpuid(self->vcpu, c));
	s.cr4 |= CR4_LA57;
	EXPECT_EQ(EINVAL, set_sregs(_metadata, self->vcpu, &s, &self->s));
	/* outside long mode too */
	s.cr0 = X86_CR0_ET;
	s.cr4 = CR4_LA57;
	s.efer = 0;
	s.cs.l = 0;
	EXPECT_EQ(EINVAL, set_sregs(_metadata, self->vcpu, &s, &self->s));
}

TEST_F(sregs, efer)
{
	struct kvm_cpuid2 *c = self->supported;
	struct kvm_msrs *m = calloc(1, sizeof(*m) + sizeof(m->entries[0]));
	struct kvm_sregs s;

	ASSERT_NE(NULL, m);
	for (unsigned int i = 0; i < ARRAY_SIZE(efer_rsvd); i++) {
		s = self->s;
		s.efer |= efer_rsvd[i];
		EXPECT_EQ(EINVAL, set_sregs(_metadata, self->vcpu, &s, &self->s))
			TH_LOG("EFER bit %#llx", efer_rsvd[i]);
		/* KVM_SET_MSRS: none set */
		m->nmsrs = 1;
		m->entries[0].index = MSR_EFER;
		m->entries[0].data = s.efer;
		EXPECT_EQ(0, ioctl(self->vcpu->fd, KVM_SET_MSRS, m));
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(efer_feats); i++) {
		s = self->s;
		s.efer |= efer_feats[i].efer;
		cpuid_set(c, &efer_feats[i].cpuid, false);
		ASSERT_EQ(0, set_cpuid(self->vcpu, c));
		EXPECT_EQ(EINVAL, set_sregs(_metadata, self->vcpu, &s, &self->s))
			TH_LOG("EFER bit %#llx without its CPUID bit",
			       efer_feats[i].efer);
	}
	/* long mode without CPUID.80000001:EDX.LM */
	cpuid_set(c, &(struct cpuid_bit){ 0x80000001, 3, 29 }, false);
	ASSERT_EQ(0, set_cpuid(self->vcpu, c));
	EXPECT_NE(0, ioctl(self->vcpu->fd, KVM_SET_SREGS, &self->s));
	EXPECT_EQ(EINVAL, errno);
	free(m);
}

/* kvm_amd in the QEMU machine: the CPU under it is TCG's */
static bool on_kvm_tcg_svm(void)
{
	const char *b = getenv("MV_BACKEND");

	return !strcmp(mv_dev_path(), "/dev/kvm") && b && !strcmp(b, "svm");
}

/* The guest's MOV to CR4 and WRMSR to EFER of what it may not have: #GP */
TEST_F(sregs, guest_gp)
{
	struct kvm_cpuid2 *c = self->supported;
	__u64 *cr4_bits = mv_gva2hva(self->vm, (uintptr_t)guest_cr4_bits);
	__u64 *efer_bits = mv_gva2hva(self->vm, (uintptr_t)guest_efer_bits);
	struct mv_ucall uc;
	int n = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(cr4_rsvd); i++)
		cr4_bits[n++] = cr4_rsvd[i];
	/* every feature taken from the CPUID (the guest uses none of them) */
	for (unsigned int i = 0; i < ARRAY_SIZE(cr4_feats); i++) {
		cpuid_set(c, &cr4_feats[i].cpuid, false);
		cr4_bits[n++] = cr4_feats[i].cr4;
	}
	cr4_bits[n] = 0;
	n = 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(efer_rsvd); i++)
		efer_bits[n++] = efer_rsvd[i];
	for (unsigned int i = 0; i < ARRAY_SIZE(efer_feats); i++) {
		cpuid_set(c, &efer_feats[i].cpuid, false);
		efer_bits[n++] = efer_feats[i].efer;
	}
	efer_bits[n] = 0;
	ASSERT_EQ(0, set_cpuid(self->vcpu, c));
	mv_vm_set_handler(self->vm, 13, gp_handler);

	for (int i = 0; cr4_bits[i]; i++) {
		ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
		EXPECT_EQ(cr4_bits[i], uc.args[0]);
		/*
		 * kvm_amd leaves CR4 writes to the CPU in NPT mode, and QEMU's
		 * TCG lets a guest set CR4 bits above 31: not KVM's doing
		 */
		if (on_kvm_tcg_svm() && cr4_bits[i] >> 32 && uc.args[1] != 1) {
			TH_LOG("CR4 bit %#llx: no #GP (kvm_amd on TCG)",
			       cr4_bits[i]);
			continue;
		}
		EXPECT_EQ(1, uc.args[1])
			TH_LOG("CR4 bit %#llx: no #GP", cr4_bits[i]);
	}
	for (int i = 0; efer_bits[i]; i++) {
		ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
		EXPECT_EQ(efer_bits[i], uc.args[0]);
		EXPECT_EQ(1, uc.args[1])
			TH_LOG("EFER bit %#llx: no #GP", efer_bits[i]);
	}
	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(0, uc.args[0]);
	EXPECT_EQ(self->s.cr4 | X86_CR4_PGE, uc.args[1]);
	ASSERT_EQ(0, ioctl(self->vcpu->fd, KVM_GET_SREGS, &self->s));
	EXPECT_EQ(uc.args[1], self->s.cr4);
	ASSERT_UCALL(self->vcpu, &uc, UCALL_DONE);
}

TEST_HARNESS_MAIN
