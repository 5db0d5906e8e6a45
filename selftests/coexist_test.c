// SPDX-License-Identifier: GPL-2.0
/*
 * minivisor and KVM on one host, taking turns.  KVM (6.12) turns VMX/SVM on
 * when kvm_intel/kvm_amd loads; minivisor must then refuse VMs with EBUSY,
 * cleanly, and work again once KVM is gone.
 *
 * Needs $MV_KVM_MODULES: the KVM module files to load, in order, separated
 * by ':' (irqbypass.ko:kvm.ko:kvm_amd.ko).
 */
#include <libgen.h>

#include "kselftest_harness.h"
#include "lib/mv_util.h"

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

TEST_HARNESS_MAIN
