// SPDX-License-Identifier: GPL-2.0
/*
 * The module cannot go while a VM or the device is open, and goes after.
 * Needs $MINIVISOR_KO, the module file, to load it back.
 */
#include "kselftest_harness.h"
#include "lib/mv_util.h"

static const char *module_file(struct __test_metadata *_metadata)
{
	const char *ko = getenv("MINIVISOR_KO");

	if (!ko || !*ko)
		return NULL;
	return ko;
}

TEST(unload_refused_while_vm_open)
{
	const char *ko = module_file(_metadata);
	int dev, vm;

	if (!ko)
		SKIP(return, "MINIVISOR_KO is not set");
	ASSERT_TRUE(mv_module_loaded("minivisor"));

	dev = mv_open_dev();
	ASSERT_GE(dev, 0);
	vm = ioctl(dev, KVM_CREATE_VM, 0);
	ASSERT_GE(vm, 0);
	ASSERT_EQ(0, close(dev));

	/* the VM fd alone pins the module */
	EXPECT_EQ(-EWOULDBLOCK, mv_unload_module("minivisor"));
	EXPECT_TRUE(mv_module_loaded("minivisor"));
	EXPECT_EQ(1, ioctl(vm, KVM_CHECK_EXTENSION, MV_CAP_INFO));

	ASSERT_EQ(0, close(vm));
	/* the VM release runs from task work, which has run by now */
	EXPECT_EQ(0, mv_unload_module("minivisor"));
	EXPECT_FALSE(mv_module_loaded("minivisor"));
	EXPECT_EQ(-1, open(mv_dev_path(), O_RDWR));
	EXPECT_EQ(ENOENT, errno);

	ASSERT_EQ(0, mv_load_module(ko, NULL));
	EXPECT_TRUE(mv_module_loaded("minivisor"));
}

TEST(unload_refused_while_device_open)
{
	const char *ko = module_file(_metadata);
	int dev, vm;

	if (!ko)
		SKIP(return, "MINIVISOR_KO is not set");
	dev = mv_open_dev();
	ASSERT_GE(dev, 0);
	EXPECT_EQ(-EWOULDBLOCK, mv_unload_module("minivisor"));
	ASSERT_EQ(0, close(dev));
	EXPECT_EQ(0, mv_unload_module("minivisor"));

	/* loading twice is refused; a fresh load works at once */
	ASSERT_EQ(0, mv_load_module(ko, NULL));
	EXPECT_EQ(-EEXIST, mv_load_module(ko, NULL));
	dev = mv_open_dev();
	ASSERT_GE(dev, 0);
	vm = ioctl(dev, KVM_CREATE_VM, 0);
	EXPECT_GE(vm, 0);
	close(vm);
	close(dev);
}

TEST_HARNESS_MAIN
