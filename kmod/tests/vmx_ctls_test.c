// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: mv_vmx_compute_ctls() fed the VMX capability MSRs of real and
 * emulated CPUs.
 *
 * Sources of the values: Bochs 2.7 corei7_skylake_x, recorded in the vmx
 * test machine with testing/facts.plan; the Core i7-6700K (Skylake), Core
 * i7-5600U (Broadwell) and Xeon X5482 (Penryn) as VirtualBox's CPU database
 * recorded them (src/VBox/VMM/VMMR3/cpus/).
 */
#include <kunit/test.h>
#include <asm/vmx.h>

#include "../mmu/tdp.h"
#include "../vmx/ctls.h"

struct vmx_ctls_case {
	const char *name;
	struct mv_vmx_cap_msrs caps;
	int ret;
	struct mv_vmx_ctls ctls;	/* all but why */
	const char *why;		/* a part of the reason, when ret != 0 */
};

/*
 * The Core i7-6700K's MSRs, with IA32_VMX_BASIC, IA32_VMX_TRUE_PINBASED_CTLS
 * and IA32_VMX_EPT_VPID_CAP as given: the base of the edited cases below.
 */
#define SKYLAKE(b, true_pin, ept)					\
	.basic = (b),							\
	.pinbased = 0x0000007f00000016ULL,				\
	.procbased = 0xfff9fffe0401e172ULL,				\
	.exit = 0x01ffffff00036dffULL,					\
	.entry = 0x0003ffff000011ffULL,					\
	.procbased2 = 0x001ffcff00000000ULL,				\
	.ept_vpid = (ept),						\
	.true_pinbased = (true_pin),					\
	.true_procbased = 0xfff9fffe04006172ULL,			\
	.true_exit = 0x01ffffff00036dfbULL,				\
	.true_entry = 0x0003ffff000011fbULL
#define SKYLAKE_BASIC		0x00da040000000004ULL
#define SKYLAKE_TRUE_PIN	0x0000007f00000016ULL
#define SKYLAKE_EPT		0x00000f0106334141ULL

static const struct vmx_ctls_case vmx_ctls_cases[] = {
	{
		/* Bochs 2.7, corei7_skylake_x (testing/facts.plan) */
		.name = "bochs-skylake-x",
		.caps = {
			.basic = 0x00d810000000002bULL,
			.pinbased = 0x0000007f00000016ULL,
			.procbased = 0xf7f9fffe0401e172ULL,
			.exit = 0x007fffff00036dffULL,
			.entry = 0x0000ffff000011ffULL,
			.procbased2 = 0x02177fff00000000ULL,
			.ept_vpid = 0x00000f0106334141ULL,
			.true_pinbased = 0x0000007f00000016ULL,
			.true_procbased = 0xf7f9fffe04006172ULL,
			.true_exit = 0x007fffff00036dfbULL,
			.true_entry = 0x0000ffff000011fbULL,
		},
		.ctls = {
			.pin = 0x1f, .proc = 0xb5986dfa, .proc2 = 0xe2,
			.exit = 0x3f6fff, .entry = 0xd1ff,
			.vpid = true, .invept_single = true, .ept_2m = true,
		},
	},
	{
		/* Core i7-6700K: TRUE_* let CR3 exiting be 0 */
		.name = "skylake-i7-6700k",
		.caps = { SKYLAKE(SKYLAKE_BASIC, SKYLAKE_TRUE_PIN, SKYLAKE_EPT) },
		.ctls = {
			.pin = 0x1f, .proc = 0xb5986dfa, .proc2 = 0xe2,
			.exit = 0x3f6fff, .entry = 0xd1ff,
			.vpid = true, .invept_single = true, .ept_2m = true,
		},
	},
	{
		/* Core i7-5600U */
		.name = "broadwell-i7-5600u",
		.caps = {
			.basic = 0x00da040000000012ULL,
			.pinbased = 0x0000007f00000016ULL,
			.procbased = 0xfff9fffe0401e172ULL,
			.exit = 0x007fffff00036dffULL,
			.entry = 0x0000ffff000011ffULL,
			.procbased2 = 0x00057cff00000000ULL,
			.ept_vpid = 0x00000f0106334141ULL,
			.true_pinbased = 0x0000007f00000016ULL,
			.true_procbased = 0xfff9fffe04006172ULL,
			.true_exit = 0x007fffff00036dfbULL,
			.true_entry = 0x0000ffff000011fbULL,
		},
		.ctls = {
			.pin = 0x1f, .proc = 0xb5986dfa, .proc2 = 0xe2,
			.exit = 0x3f6fff, .entry = 0xd1ff,
			.vpid = true, .invept_single = true, .ept_2m = true,
		},
	},
	{
		/*
		 * The 6700K's values with bit 55 of IA32_VMX_BASIC clear: the
		 * TRUE_* MSRs must be ignored, CR3 exiting and the other
		 * default1 controls stay 1.
		 */
		.name = "skylake-without-true-msrs",
		.caps = { SKYLAKE(0x005a040000000004ULL, SKYLAKE_TRUE_PIN,
				  SKYLAKE_EPT) },
		.ctls = {
			.pin = 0x1f, .proc = 0xb599edfa, .proc2 = 0xe2,
			.exit = 0x3f6fff, .entry = 0xd1ff,
			.vpid = true, .invept_single = true, .ept_2m = true,
		},
	},
	{
		/* The 6700K without INVVPID: VPIDs are not used */
		.name = "skylake-without-invvpid",
		.caps = { SKYLAKE(SKYLAKE_BASIC, SKYLAKE_TRUE_PIN,
				  0x0000000006334141ULL) },
		.ctls = {
			.pin = 0x1f, .proc = 0xb5986dfa, .proc2 = 0xc2,
			.exit = 0x3f6fff, .entry = 0xd1ff,
			.vpid = false, .invept_single = true, .ept_2m = true,
		},
	},
	{
		/* The 6700K without 2 MiB EPT pages (bit 16 of the EPT MSR) */
		.name = "skylake-without-ept-2m",
		.caps = { SKYLAKE(SKYLAKE_BASIC, SKYLAKE_TRUE_PIN,
				  0x00000f0106324141ULL) },
		.ctls = {
			.pin = 0x1f, .proc = 0xb5986dfa, .proc2 = 0xe2,
			.exit = 0x3f6fff, .entry = 0xd1ff,
			.vpid = true, .invept_single = true, .ept_2m = false,
		},
	},
	{
		/* Xeon X5482 (Penryn): secondary controls, but no EPT */
		.name = "penryn-xeon-x5482",
		.caps = {
			.basic = 0x005a08000000000dULL,
			.pinbased = 0x0000003f00000016ULL,
			.procbased = 0xf7f9fffe0401e172ULL,
			.exit = 0x0003ffff00036dffULL,
			.entry = 0x00003fff000011ffULL,
			.procbased2 = 0x0000004100000000ULL,
		},
		.ret = -EIO,
		.why = "lacks EPT",
	},
	{
		/* The 6700K with NMI exiting taken away */
		.name = "no-nmi-exiting",
		.caps = { SKYLAKE(SKYLAKE_BASIC, 0x0000007700000016ULL,
				  SKYLAKE_EPT) },
		.ret = -EIO,
		.why = "NMI exiting",
	},
	{
		/* The 6700K with an EPT that has no write-back tables */
		.name = "ept-without-write-back",
		.caps = { SKYLAKE(SKYLAKE_BASIC, SKYLAKE_TRUE_PIN,
				  0x00000f0106330141ULL) },
		.ret = -EIO,
		.why = "write-back",
	},
};

static void vmx_ctls_case_desc(const struct vmx_ctls_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vmx_ctls, vmx_ctls_cases, vmx_ctls_case_desc);

static void vmx_ctls_compute_test(struct kunit *test)
{
	const struct vmx_ctls_case *c = test->param_value;
	struct mv_vmx_ctls ctls;
	int ret;

	ret = mv_vmx_compute_ctls(&c->caps, &ctls);
	KUNIT_EXPECT_EQ(test, ret, c->ret);
	if (c->ret) {
		KUNIT_ASSERT_NOT_NULL(test, ctls.why);
		KUNIT_EXPECT_NOT_NULL(test, strstr(ctls.why, c->why));
		return;
	}
	KUNIT_EXPECT_EQ(test, ctls.pin, c->ctls.pin);
	KUNIT_EXPECT_EQ(test, ctls.proc, c->ctls.proc);
	KUNIT_EXPECT_EQ(test, ctls.proc2, c->ctls.proc2);
	KUNIT_EXPECT_EQ(test, ctls.exit, c->ctls.exit);
	KUNIT_EXPECT_EQ(test, ctls.entry, c->ctls.entry);
	KUNIT_EXPECT_EQ(test, ctls.vpid, c->ctls.vpid);
	KUNIT_EXPECT_EQ(test, ctls.invept_single, c->ctls.invept_single);
	KUNIT_EXPECT_EQ(test, ctls.ept_2m, c->ctls.ept_2m);
	KUNIT_EXPECT_NULL(test, ctls.why);
}

/*
 * Whatever the CPU, the controls minivisor relies on are set and the ones
 * it must not have are clear: a cross-check of the table above.
 */
static void vmx_ctls_invariants_test(struct kunit *test)
{
	struct mv_vmx_ctls ctls;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vmx_ctls_cases); i++) {
		if (vmx_ctls_cases[i].ret)
			continue;
		KUNIT_ASSERT_EQ(test, mv_vmx_compute_ctls(&vmx_ctls_cases[i].caps,
							  &ctls), 0);
		KUNIT_EXPECT_TRUE(test, ctls.pin & PIN_BASED_EXT_INTR_MASK);
		KUNIT_EXPECT_TRUE(test, ctls.pin & PIN_BASED_NMI_EXITING);
		KUNIT_EXPECT_TRUE(test, ctls.proc & CPU_BASED_HLT_EXITING);
		KUNIT_EXPECT_TRUE(test, ctls.proc & CPU_BASED_UNCOND_IO_EXITING);
		KUNIT_EXPECT_FALSE(test, ctls.proc & CPU_BASED_USE_IO_BITMAPS);
		KUNIT_EXPECT_FALSE(test, ctls.proc & CPU_BASED_TPR_SHADOW);
		KUNIT_EXPECT_FALSE(test, ctls.proc & CPU_BASED_RDTSC_EXITING);
		KUNIT_EXPECT_TRUE(test, ctls.proc2 & SECONDARY_EXEC_ENABLE_EPT);
		KUNIT_EXPECT_TRUE(test,
				  ctls.proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST);
		KUNIT_EXPECT_FALSE(test, ctls.exit & VM_EXIT_ACK_INTR_ON_EXIT);
		KUNIT_EXPECT_TRUE(test, ctls.exit & VM_EXIT_HOST_ADDR_SPACE_SIZE);
		KUNIT_EXPECT_FALSE(test, ctls.entry & VM_ENTRY_IA32E_MODE);
		KUNIT_EXPECT_TRUE(test, ctls.entry & VM_ENTRY_LOAD_IA32_EFER);
		/* the guest's DR7 is the VMCS's, both ways */
		KUNIT_EXPECT_TRUE(test,
				  ctls.entry & VM_ENTRY_LOAD_DEBUG_CONTROLS);
		KUNIT_EXPECT_TRUE(test, ctls.exit & VM_EXIT_SAVE_DEBUG_CONTROLS);
		/* shadow paging everywhere; its exits only in its VMs */
		KUNIT_EXPECT_TRUE(test, ctls.shadow);
		KUNIT_EXPECT_EQ(test, ctls.shadow_proc,
				(u32)(CPU_BASED_CR3_LOAD_EXITING |
				      CPU_BASED_CR3_STORE_EXITING |
				      CPU_BASED_INVLPG_EXITING));
		if (vmx_ctls_cases[i].caps.basic & BIT_ULL(55))
			KUNIT_EXPECT_FALSE(test, ctls.proc &
					   CPU_BASED_INVLPG_EXITING);
	}
}

/*
 * The EPT format of each CPU: bit 7 makes 2 MiB leaves only where the
 * capability MSR offers them; without, the table code refuses a 2 MiB
 * leaf (-EBUSY, so the fault maps 4 KiB) and still maps 4 KiB ones.
 */
static void vmx_ept_format_test(struct kunit *test)
{
	const struct vmx_ctls_case *c = test->param_value;
	struct mv_tdp_cache cache = { 0 };
	struct mv_tdp_format fmt;
	struct mv_vmx_ctls ctls;
	struct mv_tdp tdp;
	spinlock_t lock;	/* the tables' */
	int level = 0, r2m, r4k;
	u64 e;

	if (c->ret)
		return;
	KUNIT_ASSERT_EQ(test, mv_vmx_compute_ctls(&c->caps, &ctls), 0);
	mv_vmx_ept_format(&ctls, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.present, 0x7ULL);
	KUNIT_EXPECT_EQ(test, fmt.table, 0x7ULL);
	/* read, execute, write-back; write on demand */
	KUNIT_EXPECT_EQ(test, fmt.leaf, 0x35ULL);
	KUNIT_EXPECT_EQ(test, fmt.leaf_write, 0x2ULL);
	KUNIT_EXPECT_EQ(test, fmt.large,
			(c->caps.ept_vpid & BIT_ULL(16)) ? BIT_ULL(7) : 0);

	spin_lock_init(&lock);
	KUNIT_ASSERT_EQ(test, mv_tdp_init(&tdp, &fmt, &lock), 0);
	KUNIT_ASSERT_EQ(test, mv_tdp_cache_topup(&tdp, &cache, GFP_KERNEL), 0);
	spin_lock(&lock);
	r2m = mv_tdp_map(&tdp, &cache, 0x200, 0x400, MV_TDP_LEVEL_2M, true);
	r4k = mv_tdp_map(&tdp, &cache, 0x3ff, 0x5ff, MV_TDP_LEVEL_4K, true);
	e = mv_tdp_lookup(&tdp, 0x200, &level);
	spin_unlock(&lock);
	if (fmt.large) {
		KUNIT_EXPECT_EQ(test, r2m, 0);
		KUNIT_EXPECT_EQ(test, level, MV_TDP_LEVEL_2M);
		KUNIT_EXPECT_EQ(test, e, (0x400ULL << PAGE_SHIFT) | 0xb7);
		/* inside the 2 MiB leaf */
		KUNIT_EXPECT_EQ(test, r4k, -EEXIST);
	} else {
		KUNIT_EXPECT_EQ(test, r2m, -EBUSY);
		KUNIT_EXPECT_EQ(test, e, 0ULL);
		KUNIT_EXPECT_EQ(test, r4k, 0);
		KUNIT_EXPECT_EQ(test, tdp.nr_pages[1], 0ULL);
	}
	mv_tdp_cache_free(&cache);
	mv_tdp_destroy(&tdp);
}

static struct kunit_case vmx_ctls_test_cases[] = {
	KUNIT_CASE_PARAM(vmx_ctls_compute_test, vmx_ctls_gen_params),
	KUNIT_CASE_PARAM(vmx_ept_format_test, vmx_ctls_gen_params),
	KUNIT_CASE(vmx_ctls_invariants_test),
	{}
};

static struct kunit_suite vmx_ctls_test_suite = {
	.name = "minivisor_vmx_ctls",
	.test_cases = vmx_ctls_test_cases,
};

kunit_test_suite(vmx_ctls_test_suite);
