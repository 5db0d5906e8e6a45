// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: mv_cpufeat_detect() fed the CPUID leaves and MSR values of real and
 * emulated CPUs.
 */
#include <kunit/test.h>
#include <linux/minivisor.h>

#include "../cpufeat.h"

/* CPUID leaf 0 vendor strings, as EBX, EDX, ECX */
#define INTEL	.ebx = 0x756e6547, .edx = 0x49656e69, .ecx = 0x6c65746e
#define AMD	.ebx = 0x68747541, .edx = 0x69746e65, .ecx = 0x444d4163
#define HYGON	.ebx = 0x6f677948, .edx = 0x6e65476e, .ecx = 0x656e6975

struct cpufeat_case {
	const char *name;
	struct mv_cpu_facts facts;
	int ret;
	u32 backend;
	u32 features;
	u32 mmu_modes;
	u32 vmcs_revision;
	const char *why;	/* a part of the reason, when ret != 0 */
};

static const struct cpufeat_case cpufeat_cases[] = {
	{
		/* Bochs 2.7, corei7_skylake_x (recorded with testing/facts.plan) */
		.name = "bochs-skylake-x",
		.facts = {
			.std0 = { .eax = 0x16, INTEL },
			.std1 = { .eax = 0x50654, .ebx = 0x10800,
				  .ecx = 0x77faf3bf, .edx = 0xbfebfbff },
			.ext0 = { .eax = 0x80000008 },
			.ext1 = { .ecx = 0x121, .edx = 0x2c100800 },
			.has_feature_control = true,
			.feature_control = 0x5,
			.has_vm_cr = false,
			.has_vmx_msrs = true,
			.vmx_basic = 0x00d810000000002bULL,
			.vmx_procbased = 0xf7f9fffe0401e172ULL,
			.vmx_procbased2 = 0x02177fff00000000ULL,
		},
		.backend = MV_BACKEND_VMX,
		.features = MV_FEAT_EPT | MV_FEAT_VPID |
			    MV_FEAT_UNRESTRICTED_GUEST,
		.mmu_modes = MV_MMU_SHADOW | MV_MMU_TDP,
		.vmcs_revision = 0x2b,
	},
	{
		/* Core 2 era VT-x: no secondary controls, so no EPT/VPID */
		.name = "core2-no-secondary",
		.facts = {
			.std0 = { .eax = 0xd, INTEL },
			.std1 = { .eax = 0x10676, .ecx = 0x0408e3fd },
			.ext0 = { .eax = 0x80000008 },
			.has_feature_control = true,
			.feature_control = 0x5,
			.has_vmx_msrs = true,
			.vmx_basic = 0x005a08000000000dULL,
			.vmx_procbased = 0x7ff9fffe0401e172ULL,
		},
		.backend = MV_BACKEND_VMX,
		.mmu_modes = MV_MMU_SHADOW,
		.vmcs_revision = 0xd,
	},
	{
		/* firmware locked IA32_FEATURE_CONTROL with VMX off */
		.name = "vmx-disabled-by-firmware",
		.facts = {
			.std0 = { .eax = 0x16, INTEL },
			.std1 = { .ecx = 0x7ffaf3bf },
			.has_feature_control = true,
			.feature_control = 0x1,
			.has_vmx_msrs = true,
		},
		.ret = -ENODEV,
		.why = "disabled by firmware",
	},
	{
		.name = "vmx-feature-control-unlocked",
		.facts = {
			.std0 = { .eax = 0x16, INTEL },
			.std1 = { .ecx = 0x7ffaf3bf },
			.has_feature_control = true,
			.feature_control = 0x4,
		},
		.ret = -ENODEV,
		.why = "not locked",
	},
	{
		/* QEMU 7.2 TCG, -cpu max (recorded with testing/facts.plan) */
		.name = "qemu-tcg-max",
		.facts = {
			.std0 = { .eax = 0xd, AMD },
			.std1 = { .eax = 0x60fb1, .ebx = 0x20800,
				  .ecx = 0xfed8320b, .edx = 0x1fcbfbfd },
			.ext0 = { .eax = 0x8000000a, AMD },
			.ext1 = { .eax = 0x60fb1, .ecx = 0x77,
				  .edx = 0xedd3fbfd },
			.svm = { .eax = 0x1, .ebx = 0x10, .edx = 0x10010001 },
			.has_vm_cr = true,
			.vm_cr = 0,
		},
		.backend = MV_BACKEND_SVM,
		.features = MV_FEAT_NPT | MV_FEAT_VGIF,
		.mmu_modes = MV_MMU_SHADOW | MV_MMU_TDP,
	},
	{
		/* Zen 2 (EPYC 7002) */
		.name = "amd-zen2",
		.facts = {
			.std0 = { .eax = 0x10, AMD },
			.std1 = { .eax = 0x830f10, .ecx = 0x7ed8320b },
			.ext0 = { .eax = 0x80000020, AMD },
			.ext1 = { .ecx = 0x75c237ff, .edx = 0x2fd3fbff },
			.svm = { .eax = 0x1, .ebx = 0x8000, .edx = 0x0013bcff },
			.has_vm_cr = true,
			.vm_cr = 0x8,
		},
		.backend = MV_BACKEND_SVM,
		.features = MV_FEAT_NPT | MV_FEAT_NRIPS |
			    MV_FEAT_DECODE_ASSISTS | MV_FEAT_VGIF,
		.mmu_modes = MV_MMU_SHADOW | MV_MMU_TDP,
	},
	{
		/* Hygon Dhyana, a Zen derivative: SVM, NPT, nothing more */
		.name = "hygon-npt-only",
		.facts = {
			.std0 = { .eax = 0xd, HYGON },
			.ext0 = { .eax = 0x8000001f, HYGON },
			.ext1 = { .ecx = 0x4 },
			.svm = { .edx = 0x1 },
			.has_vm_cr = true,
		},
		.backend = MV_BACKEND_SVM,
		.features = MV_FEAT_NPT,
		.mmu_modes = MV_MMU_SHADOW | MV_MMU_TDP,
	},
	{
		/* K8 era: SVM but no nested paging */
		.name = "amd-svm-no-npt",
		.facts = {
			.std0 = { .eax = 0x1, AMD },
			.ext0 = { .eax = 0x8000001a, AMD },
			.ext1 = { .ecx = 0x4 },
			.svm = { .eax = 0x1, .ebx = 0x40 },
			.has_vm_cr = true,
		},
		.backend = MV_BACKEND_SVM,
		.mmu_modes = MV_MMU_SHADOW,
	},
	{
		.name = "svm-disabled-by-firmware",
		.facts = {
			.std0 = { .eax = 0x10, AMD },
			.ext0 = { .eax = 0x80000020, AMD },
			.ext1 = { .ecx = 0x4 },
			.svm = { .edx = 0x1 },
			.has_vm_cr = true,
			.vm_cr = 0x18,
		},
		.ret = -ENODEV,
		.why = "SVMDIS",
	},
	{
		/* An Intel CPU never offers SVM, whatever its CPUID says */
		.name = "intel-without-vmx",
		.facts = {
			.std0 = { .eax = 0x16, INTEL },
			.std1 = { .ecx = 0x7ffaf39f },
			.ext0 = { .eax = 0x80000008 },
			.ext1 = { .ecx = 0x4 },
		},
		.ret = -ENODEV,
		.why = "neither",
	},
	{
		/* QEMU TCG -cpu qemu64 without svm */
		.name = "amd-without-svm",
		.facts = {
			.std0 = { .eax = 0xd, AMD },
			.ext0 = { .eax = 0x8000000a, AMD },
			.ext1 = { .ecx = 0x1 },
			.has_vm_cr = true,
		},
		.ret = -ENODEV,
		.why = "neither",
	},
};

static void cpufeat_case_desc(const struct cpufeat_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(cpufeat, cpufeat_cases, cpufeat_case_desc);

static void cpufeat_detect_test(struct kunit *test)
{
	const struct cpufeat_case *c = test->param_value;
	struct mv_cpu_caps caps;
	int ret;

	ret = mv_cpufeat_detect(&c->facts, &caps);
	KUNIT_EXPECT_EQ(test, ret, c->ret);
	if (c->ret) {
		KUNIT_EXPECT_EQ(test, caps.backend, 0U);
		KUNIT_ASSERT_NOT_NULL(test, caps.why);
		KUNIT_EXPECT_NOT_NULL(test, strstr(caps.why, c->why));
		return;
	}
	KUNIT_EXPECT_EQ(test, caps.backend, c->backend);
	KUNIT_EXPECT_EQ(test, caps.features, c->features);
	KUNIT_EXPECT_EQ(test, caps.mmu_modes, c->mmu_modes);
	KUNIT_EXPECT_EQ(test, caps.vmcs_revision, c->vmcs_revision);
	KUNIT_EXPECT_NULL(test, caps.why);
}

/* A verdict never depends on what the caller left in @caps. */
static void cpufeat_clears_caps_test(struct kunit *test)
{
	struct mv_cpu_caps caps;

	memset(&caps, 0xa5, sizeof(caps));
	KUNIT_EXPECT_EQ(test, mv_cpufeat_detect(&cpufeat_cases[4].facts, &caps),
			0);
	KUNIT_EXPECT_EQ(test, caps.vmcs_revision, 0U);
	KUNIT_EXPECT_NULL(test, caps.why);
}

static struct kunit_case cpufeat_test_cases[] = {
	KUNIT_CASE_PARAM(cpufeat_detect_test, cpufeat_gen_params),
	KUNIT_CASE(cpufeat_clears_caps_test),
	{}
};

static struct kunit_suite cpufeat_test_suite = {
	.name = "minivisor_cpufeat",
	.test_cases = cpufeat_test_cases,
};

kunit_test_suite(cpufeat_test_suite);

MODULE_DESCRIPTION("KUnit tests of minivisor's CPU feature detection");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
