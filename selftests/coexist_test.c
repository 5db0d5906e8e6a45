// SPDX-License-Identifier: GPL-2.0
/*
 * minivisor and KVM on one host, taking turns (kmod/virt.c): while KVM is
 * loaded minivisor refuses VMs with EBUSY, and while minivisor has a VM
 * the kvm module refuses to load (EBUSY), so that neither finds the
 * kernel's one emergency-disable slot taken (which WARNs; the runner fails
 * a WARN).  Each works again once the other is gone.
 *
 * Needs $MV_KVM_MODULES: the KVM module files to load, in order, separated
 * by ':' (irqbypass.ko:kvm.ko:kvm_amd.ko).
 */
#include <libgen.h>

#include "kselftest_harness.h"
#include "lib/vm.h"

#define MAX_MODS 4

FIXTURE(coexist) {
	char *paths[MAX_MODS];
	char names[MAX_MODS][64];
	int n, loaded;
	int dev;
};

FIXTURE_SETUP(coexist)
{
	const char *env = getenv("MV_KVM_MODULES");
	char *list, *tok, *save;

	self->dev = -1;
	if (!env || !*env)
		SKIP(return, "MV_KVM_MODULES is not set");
	list = strdup(env);
	ASSERT_NE(NULL, list);
	for (tok = strtok_r(list, ":", &save); tok && self->n < MAX_MODS;
	     tok = strtok_r(NULL, ":", &save)) {
		char *base = basename(tok), *dot;

		self->paths[self->n] = tok;
		snprintf(self->names[self->n], sizeof(self->names[0]), "%s",
			 base);
		dot = strstr(self->names[self->n], ".ko");
		if (dot)
			*dot = '\0';
		self->n++;
	}
	self->dev = mv_open_dev();
	ASSERT_GE(self->dev, 0);
}

FIXTURE_TEARDOWN(coexist)
{
	/* leave the machine as we found it: without KVM */
	for (int i = self->loaded - 1; i >= 0; i--)
		mv_unload_module(self->names[i]);
	if (self->dev >= 0)
		close(self->dev);
}

TEST_F(coexist, take_turns)
{
	struct mv_virt_state st;
	int vm, kvm, kvm_vm;

	/* minivisor works before KVM */
	vm = ioctl(self->dev, KVM_CREATE_VM, 0);
	ASSERT_GE(vm, 0);
	ASSERT_EQ(0, close(vm));

	for (int i = 0; i < self->n; i++) {
		int r = mv_load_module(self->paths[i], NULL);

		ASSERT_TRUE(r == 0 || r == -EEXIST)
			TH_LOG("load %s: %s", self->paths[i], strerror(-r));
		self->loaded = i + 1;
	}

	/* the reference hypervisor works... */
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_GE(kvm, 0) TH_LOG("/dev/kvm: %s", strerror(errno));
	EXPECT_EQ(12, ioctl(kvm, KVM_GET_API_VERSION, 0));
	kvm_vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ASSERT_GE(kvm_vm, 0) TH_LOG("KVM_CREATE_VM on KVM: %s",
				    strerror(errno));

	/* ...so minivisor refuses, and leaves nothing half-enabled */
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(-1, ioctl(self->dev, KVM_CREATE_VM, 0));
		EXPECT_EQ(EBUSY, errno);
	}
	if (!mv_read_virt_state(&st)) {
		EXPECT_EQ(0, st.users);
		EXPECT_EQ(0, mv_cpus_on(&st));
	}
	/* the system ioctls still answer */
	EXPECT_EQ(12, ioctl(self->dev, KVM_GET_API_VERSION, 0));

	/* KVM's VM still works after minivisor's attempts */
	EXPECT_EQ(1, ioctl(kvm_vm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY));
	close(kvm_vm);
	close(kvm);

	/* KVM keeps VMX/SVM on while loaded, even with no VM */
	EXPECT_EQ(-1, ioctl(self->dev, KVM_CREATE_VM, 0));
	EXPECT_EQ(EBUSY, errno);

	for (int i = self->loaded - 1; i >= 0; i--) {
		EXPECT_EQ(0, mv_unload_module(self->names[i]))
			TH_LOG("unload %s", self->names[i]);
		self->loaded = i;
	}

	/* minivisor's turn again */
	vm = ioctl(self->dev, KVM_CREATE_VM, 0);
	ASSERT_GE(vm, 0) TH_LOG("KVM_CREATE_VM after KVM left: %s",
				strerror(errno));
	EXPECT_EQ(1, ioctl(vm, KVM_CHECK_EXTENSION, MV_CAP_INFO));
	close(vm);
}

/* Index of module @name in @names (@n of them), or -1. */
static int mod_index(char names[][64], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

/* A guest that sends 1, 2, 3... to port 0x10, one OUT a run. */
static void counting_guest(struct __test_metadata *_metadata,
			   struct mv_guest *g)
{
	static const unsigned char code[] = {
		0x66, 0x43,			/* inc ebx */
		0x66, 0x89, 0xd8,		/* mov eax, ebx */
		0x66, 0xe7, 0x10,		/* out 0x10, eax */
		0xeb, 0xf6,			/* jmp back to inc */
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	mv_guest_put(g, 0x1000, code, sizeof(code));
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_REGS, &regs));
}

static void run_counting(struct __test_metadata *_metadata,
			 struct mv_guest *g, __u32 want)
{
	ASSERT_EQ(0, mv_guest_run(g));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	ASSERT_EQ(want, mv_guest_io_data(g));
}

/*
 * minivisor first: with a minivisor VM running, kvm refuses to load (its
 * vendor module, which would WARN taking the slot or fail on VMX/SVM in
 * use, never gets to run), the VM goes on; once the VM is gone KVM loads
 * and works.
 */
TEST_F(coexist, minivisor_first)
{
	struct mv_virt_state st;
	int kvm_i = mod_index(self->names, self->n, "kvm");
	struct mv_guest g;
	int r, kvm, kvm_vm;

	ASSERT_GE(kvm_i, 1) TH_LOG("kvm.ko is not in MV_KVM_MODULES");
	ASSERT_EQ(0, mv_guest_create(&g, 0, 0x10000));
	counting_guest(_metadata, &g);
	run_counting(_metadata, &g, 1);

	/* what comes before kvm (irqbypass) loads; kvm does not */
	for (int i = 0; i < kvm_i; i++) {
		r = mv_load_module(self->paths[i], NULL);
		ASSERT_TRUE(r == 0 || r == -EEXIST)
			TH_LOG("load %s: %s", self->paths[i], strerror(-r));
		self->loaded = i + 1;
	}
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(-EBUSY, mv_load_module(self->paths[kvm_i], NULL));
	EXPECT_FALSE(mv_module_loaded("kvm"));
	EXPECT_NE(0, access("/dev/kvm", F_OK));

	/* minivisor's VM did not notice */
	for (__u32 i = 2; i <= 10; i++)
		run_counting(_metadata, &g, i);
	if (!mv_read_virt_state(&st)) {
		EXPECT_EQ(1, st.users);
		EXPECT_EQ(mv_cpus_online(&st), mv_cpus_on(&st));
	}
	mv_guest_destroy(&g);

	/* its VM gone, KVM's turn */
	for (int i = kvm_i; i < self->n; i++) {
		r = mv_load_module(self->paths[i], NULL);
		ASSERT_EQ(0, r) TH_LOG("load %s: %s", self->paths[i],
				       strerror(-r));
		self->loaded = i + 1;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_GE(kvm, 0) TH_LOG("/dev/kvm: %s", strerror(errno));
	kvm_vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ASSERT_GE(kvm_vm, 0) TH_LOG("KVM_CREATE_VM on KVM: %s",
				    strerror(errno));
	EXPECT_EQ(-1, ioctl(self->dev, KVM_CREATE_VM, 0));
	EXPECT_EQ(EBUSY, errno);
	close(kvm_vm);
	close(kvm);
}

/*
 * KVM loaded with enable_virt_at_load=0 holds neither VMX/SVM nor the slot
 * until its first VM; minivisor still refuses VMs while it is loaded (its
 * VM would make KVM's first one WARN), and KVM's VMs work.
 */
TEST_F(coexist, kvm_loaded_idle)
{
	int kvm_i = mod_index(self->names, self->n, "kvm");
	int r, kvm, kvm_vm;

	ASSERT_GE(kvm_i, 0) TH_LOG("kvm.ko is not in MV_KVM_MODULES");
	for (int i = 0; i < self->n; i++) {
		r = mv_load_module(self->paths[i], i == kvm_i ?
				   "enable_virt_at_load=0" : NULL);
		ASSERT_TRUE(r == 0 || r == -EEXIST)
			TH_LOG("load %s: %s", self->paths[i], strerror(-r));
		self->loaded = i + 1;
	}
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(-1, ioctl(self->dev, KVM_CREATE_VM, 0));
		EXPECT_EQ(EBUSY, errno);
	}

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_GE(kvm, 0) TH_LOG("/dev/kvm: %s", strerror(errno));
	kvm_vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ASSERT_GE(kvm_vm, 0) TH_LOG("KVM_CREATE_VM on KVM: %s",
				    strerror(errno));
	EXPECT_EQ(1, ioctl(kvm_vm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY));
	close(kvm_vm);
	close(kvm);

	for (int i = self->loaded - 1; i >= 0; i--) {
		EXPECT_EQ(0, mv_unload_module(self->names[i]))
			TH_LOG("unload %s", self->names[i]);
		self->loaded = i;
	}
	r = ioctl(self->dev, KVM_CREATE_VM, 0);
	ASSERT_GE(r, 0) TH_LOG("KVM_CREATE_VM after KVM left: %s",
			       strerror(errno));
	close(r);
}

TEST_HARNESS_MAIN
