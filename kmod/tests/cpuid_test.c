// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: looking up a CPUID table (kmod/cpuid.c).
 */
#include <kunit/test.h>
#include <linux/kvm.h>

#include "../cpuid.h"

static struct kvm_cpuid_entry2 cpuid_entries[] = {
	{ .function = 0, .eax = 0xd },
	{ .function = 7, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .ebx = 0x70 },
	{ .function = 7, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .ebx = 0x71 },
	{ .function = 0x80000001, .ecx = 0x121 },
};

static const struct mv_cpuid cpuid_table = {
	.nent = ARRAY_SIZE(cpuid_entries),
	.entries = cpuid_entries,
};

static void cpuid_find_test(struct kunit *test)
{
	const struct kvm_cpuid_entry2 *e;

	/* without a significant index, any subleaf finds the entry */
	e = mv_cpuid_find(&cpuid_table, 0, 5);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->eax, 0xdU);
	e = mv_cpuid_find(&cpuid_table, 0x80000001, 0);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->ecx, 0x121U);
	/* with one, the subleaf chooses */
	e = mv_cpuid_find(&cpuid_table, 7, 1);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->ebx, 0x71U);
	e = mv_cpuid_find(&cpuid_table, 7, 0);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->ebx, 0x70U);
	KUNIT_EXPECT_NULL(test, mv_cpuid_find(&cpuid_table, 7, 2));
	/* leaves not in the table */
	KUNIT_EXPECT_NULL(test, mv_cpuid_find(&cpuid_table, 1, 0));
	KUNIT_EXPECT_NULL(test, mv_cpuid_find(&cpuid_table, 0x80000000, 0));
}

static void cpuid_empty_table_test(struct kunit *test)
{
	const struct mv_cpuid empty = { };

	KUNIT_EXPECT_NULL(test, mv_cpuid_find(&empty, 0, 0));
}

static struct kunit_case cpuid_test_cases[] = {
	KUNIT_CASE(cpuid_find_test),
	KUNIT_CASE(cpuid_empty_table_test),
	{}
};

static struct kunit_suite cpuid_test_suite = {
	.name = "minivisor_cpuid",
	.test_cases = cpuid_test_cases,
};

kunit_test_suite(cpuid_test_suite);
