// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the CR4 and EFER rules (kmod/cr.c): which bits each CPUID
 * feature makes valid, and the checks of KVM_SET_SREGS and MOV to CR4.
 */
#include <kunit/test.h>
#include <linux/kvm.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "../cpuid.h"
#include "../cr.h"

/* CR4 bits no feature word ever makes valid */
#define CR4_NEVER	(BIT_ULL(14) | BIT_ULL(15) | BIT_ULL(19) | \
			 BIT_ULL(23) | BIT_ULL(24) | BIT_ULL(25) | \
			 BIT_ULL(28) | BIT_ULL(32) | BIT_ULL(63))

/* One row: a CR4 bit and the feature that makes it valid */
static const struct {
	u64 cr4;
	u32 feat;
} cr4_rows[] = {
	{ X86_CR4_OSXSAVE, MV_CRF_XSAVE },
	{ X86_CR4_SMEP, MV_CRF_SMEP },
	{ X86_CR4_SMAP, MV_CRF_SMAP },
	{ X86_CR4_FSGSBASE, MV_CRF_FSGSBASE },
	{ X86_CR4_PKE, MV_CRF_PKU },
	{ X86_CR4_LA57, MV_CRF_LA57 },
	{ X86_CR4_UMIP, MV_CRF_UMIP },
	{ X86_CR4_PCIDE, MV_CRF_PCID },
	{ X86_CR4_VMXE, MV_CRF_VMX },
};

static void cr4_reserved_test(struct kunit *test)
{
	const u64 always = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD |
		X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE |
		X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR |
		X86_CR4_OSXMMEXCPT;
	unsigned int i;

	KUNIT_EXPECT_EQ(test, mv_cr4_reserved(0), ~always);
	KUNIT_EXPECT_EQ(test, mv_cr4_reserved(~0U) & always, 0ULL);
	KUNIT_EXPECT_EQ(test, mv_cr4_reserved(~0U) & CR4_NEVER, CR4_NEVER);
	for (i = 0; i < ARRAY_SIZE(cr4_rows); i++) {
		/* the feature alone makes its bit valid, no other */
		KUNIT_EXPECT_EQ(test, mv_cr4_reserved(cr4_rows[i].feat),
				~always & ~cr4_rows[i].cr4);
		/* without it, all the others do not */
		KUNIT_EXPECT_NE(test, mv_cr4_reserved(~cr4_rows[i].feat) &
				cr4_rows[i].cr4, 0ULL);
	}
}

static void efer_reserved_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, mv_efer_reserved(0), ~(u64)EFER_SCE);
	KUNIT_EXPECT_EQ(test, mv_efer_reserved(MV_CRF_LM),
			~(u64)(EFER_SCE | EFER_LME | EFER_LMA));
	KUNIT_EXPECT_EQ(test, mv_efer_reserved(MV_CRF_NX),
			~(u64)(EFER_SCE | EFER_NX));
	KUNIT_EXPECT_EQ(test, mv_efer_reserved(MV_CRF_SVM),
			~(u64)(EFER_SCE | EFER_SVME));
	KUNIT_EXPECT_EQ(test, mv_efer_reserved(MV_CRF_FFXSR),
			~(u64)(EFER_SCE | EFER_FFXSR));
	/* LMSLE (bit 13), bits 1-7, 9, 63: never */
	KUNIT_EXPECT_EQ(test, mv_efer_reserved(~0U) &
			(BIT_ULL(13) | 0xfeULL | BIT_ULL(9) | BIT_ULL(63)),
			BIT_ULL(13) | 0xfeULL | BIT_ULL(9) | BIT_ULL(63));
}

static struct kvm_cpuid_entry2 cr_entries[] = {
	{ .function = 1, .ecx = BIT(26) | BIT(17) },		/* XSAVE, PCID */
	{ .function = 7, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .ebx = BIT(7), .ecx = BIT(16) },			/* SMEP, LA57 */
	{ .function = 7, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .ebx = BIT(0) | BIT(20), .ecx = BIT(2) },		/* not leaf 7.0 */
	{ .function = 0x80000001, .ecx = BIT(2), .edx = BIT(29) | BIT(20) },
};

static void cpuid_features_test(struct kunit *test)
{
	const struct mv_cpuid table = {
		.nent = ARRAY_SIZE(cr_entries),
		.entries = cr_entries,
	};
	const struct mv_cpuid empty = { };

	KUNIT_EXPECT_EQ(test, mv_cr_cpuid_features(&empty), 0U);
	KUNIT_EXPECT_EQ(test, mv_cr_cpuid_features(&table),
			MV_CRF_XSAVE | MV_CRF_PCID | MV_CRF_SMEP | MV_CRF_LA57 |
			MV_CRF_SVM | MV_CRF_LM | MV_CRF_NX);
}

/* 64-bit mode, as a VMM sets it */
static void long_mode(struct kvm_sregs *s)
{
	memset(s, 0, sizeof(*s));
	s->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET;
	s->cr4 = X86_CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
	s->cs.l = 1;
}

static void sregs_valid_test(struct kunit *test)
{
	const u32 feat = MV_CRF_LM | MV_CRF_NX | MV_CRF_XSAVE;
	struct kvm_sregs s;

	long_mode(&s);
	KUNIT_EXPECT_TRUE(test, mv_cr_sregs_valid(feat, &s));
	/* long mode without LM in the CPUID */
	KUNIT_EXPECT_FALSE(test, mv_cr_sregs_valid(feat & ~MV_CRF_LM, &s));
	s.cr4 |= X86_CR4_OSXSAVE;
	KUNIT_EXPECT_TRUE(test, mv_cr_sregs_valid(feat, &s));
	KUNIT_EXPECT_FALSE(test, mv_cr_sregs_valid(feat & ~MV_CRF_XSAVE, &s));
	s.cr4 |= X86_CR4_CET;
	KUNIT_EXPECT_FALSE(test, mv_cr_sregs_valid(~0U, &s));
	long_mode(&s);
	s.efer |= EFER_SVME;
	KUNIT_EXPECT_FALSE(test, mv_cr_sregs_valid(feat, &s));
	long_mode(&s);
	s.efer |= EFER_NX;
	KUNIT_EXPECT_TRUE(test, mv_cr_sregs_valid(feat, &s));
	KUNIT_EXPECT_FALSE(test, mv_cr_sregs_valid(feat & ~MV_CRF_NX, &s));
	/* the mode checks */
	long_mode(&s);
	s.cr4 = 0;
	KUNIT_EXPECT_FALSE(test, mv_cr_sregs_valid(feat, &s));
	long_mode(&s);
	s.efer &= ~EFER_LMA;
	KUNIT_EXPECT_FALSE(test, mv_cr_sregs_valid(feat, &s));
	long_mode(&s);
	s.cr0 &= ~X86_CR0_PE;
	KUNIT_EXPECT_FALSE(test, mv_cr_sregs_valid(feat, &s));
	long_mode(&s);
	s.cr0 |= X86_CR0_NW;
	KUNIT_EXPECT_FALSE(test, mv_cr_sregs_valid(feat, &s));
	long_mode(&s);
	s.cr0 |= BIT_ULL(32);
	KUNIT_EXPECT_FALSE(test, mv_cr_sregs_valid(feat, &s));
	/* real mode: no LMA, no CS.L */
	memset(&s, 0, sizeof(s));
	KUNIT_EXPECT_TRUE(test, mv_cr_sregs_valid(0, &s));
	s.cs.l = 1;
	KUNIT_EXPECT_FALSE(test, mv_cr_sregs_valid(0, &s));
}

static void cr4_load_test(struct kunit *test)
{
	const u64 lm = EFER_LME | EFER_LMA;
	const u32 all = ~0U;

	/* long mode keeps PAE and LA57 */
	KUNIT_EXPECT_TRUE(test, mv_cr4_load_valid(all, 0, X86_CR4_PAE, lm,
						  X86_CR4_PAE | X86_CR4_PGE));
	KUNIT_EXPECT_FALSE(test, mv_cr4_load_valid(all, 0, X86_CR4_PAE, lm, 0));
	KUNIT_EXPECT_FALSE(test, mv_cr4_load_valid(all, 0, X86_CR4_PAE, lm,
						   X86_CR4_PAE | X86_CR4_LA57));
	/* outside long mode LA57 may change (the feature permitting) */
	KUNIT_EXPECT_TRUE(test, mv_cr4_load_valid(all, 0, 0, 0, X86_CR4_LA57));
	KUNIT_EXPECT_FALSE(test, mv_cr4_load_valid(all & ~MV_CRF_LA57, 0, 0, 0,
						   X86_CR4_LA57));
	/* PCIDE: in long mode, CR3[11:0] clear, PCID in the CPUID */
	KUNIT_EXPECT_TRUE(test, mv_cr4_load_valid(all, 0x1000, X86_CR4_PAE, lm,
						  X86_CR4_PAE | X86_CR4_PCIDE));
	KUNIT_EXPECT_FALSE(test, mv_cr4_load_valid(all, 0x1001, X86_CR4_PAE,
						   lm, X86_CR4_PAE |
						   X86_CR4_PCIDE));
	KUNIT_EXPECT_FALSE(test, mv_cr4_load_valid(all, 0x1000, X86_CR4_PAE, 0,
						   X86_CR4_PAE | X86_CR4_PCIDE));
	KUNIT_EXPECT_FALSE(test, mv_cr4_load_valid(all & ~MV_CRF_PCID, 0x1000,
						   X86_CR4_PAE, lm,
						   X86_CR4_PAE | X86_CR4_PCIDE));
	/* already on: CR3's PCID does not matter */
	KUNIT_EXPECT_TRUE(test, mv_cr4_load_valid(all, 0x1001,
						  X86_CR4_PAE | X86_CR4_PCIDE,
						  lm, X86_CR4_PAE |
						  X86_CR4_PCIDE | X86_CR4_PGE));
	/* bits never valid */
	KUNIT_EXPECT_FALSE(test, mv_cr4_load_valid(all, 0, X86_CR4_PAE, lm,
						   X86_CR4_PAE | X86_CR4_CET));
	KUNIT_EXPECT_FALSE(test, mv_cr4_load_valid(all, 0, X86_CR4_PAE, lm,
						   X86_CR4_PAE | BIT_ULL(32)));
}

/* CR0 loads: the architecture's checks, and EFER.LMA following paging */
static void cr0_load_test(struct kunit *test)
{
	const u64 pe = X86_CR0_PE, pg = X86_CR0_PG | X86_CR0_PE;
	u64 efer, v;

	/* ET is forced; nothing above bit 31 */
	efer = 0;
	v = pe;
	KUNIT_EXPECT_TRUE(test, mv_cr0_load(0, 0, &efer, false, &v));
	KUNIT_EXPECT_EQ(test, v, pe | X86_CR0_ET);
	v = BIT_ULL(32) | pe;
	KUNIT_EXPECT_FALSE(test, mv_cr0_load(0, 0, &efer, false, &v));
	/* PG needs PE; NW needs CD */
	v = X86_CR0_PG;
	KUNIT_EXPECT_FALSE(test, mv_cr0_load(0, 0, &efer, false, &v));
	v = X86_CR0_NW;
	KUNIT_EXPECT_FALSE(test, mv_cr0_load(0, 0, &efer, false, &v));
	v = X86_CR0_NW | X86_CR0_CD;
	KUNIT_EXPECT_TRUE(test, mv_cr0_load(0, 0, &efer, false, &v));

	/* PG with LME: long mode, which needs PAE and a CS without L */
	efer = EFER_LME;
	v = pg;
	KUNIT_EXPECT_FALSE(test, mv_cr0_load(pe, 0, &efer, false, &v));
	KUNIT_EXPECT_EQ(test, efer, (u64)EFER_LME);
	v = pg;
	KUNIT_EXPECT_FALSE(test, mv_cr0_load(pe, X86_CR4_PAE, &efer, true,
					     &v));
	v = pg;
	KUNIT_EXPECT_TRUE(test, mv_cr0_load(pe, X86_CR4_PAE, &efer, false,
					    &v));
	KUNIT_EXPECT_EQ(test, efer, (u64)(EFER_LME | EFER_LMA));

	/* PG off leaves it, but not from 64-bit code */
	v = pe;
	KUNIT_EXPECT_FALSE(test, mv_cr0_load(pg, X86_CR4_PAE, &efer, true,
					     &v));
	KUNIT_EXPECT_EQ(test, efer, (u64)(EFER_LME | EFER_LMA));
	v = pe;
	KUNIT_EXPECT_TRUE(test, mv_cr0_load(pg, X86_CR4_PAE, &efer, false,
					    &v));
	KUNIT_EXPECT_EQ(test, efer, (u64)EFER_LME);

	/* PG off while CR4.PCIDE is set: #GP */
	efer = EFER_LME | EFER_LMA;
	v = pe;
	KUNIT_EXPECT_FALSE(test, mv_cr0_load(pg, X86_CR4_PAE | X86_CR4_PCIDE,
					     &efer, false, &v));
	/* a CR0 write that keeps paging leaves EFER alone */
	v = pg | X86_CR0_WP;
	KUNIT_EXPECT_TRUE(test, mv_cr0_load(pg, X86_CR4_PAE | X86_CR4_PCIDE,
					    &efer, true, &v));
	KUNIT_EXPECT_EQ(test, efer, (u64)(EFER_LME | EFER_LMA));
}

static struct kunit_case cr_test_cases[] = {
	KUNIT_CASE(cr4_reserved_test),
	KUNIT_CASE(efer_reserved_test),
	KUNIT_CASE(cpuid_features_test),
	KUNIT_CASE(sregs_valid_test),
	KUNIT_CASE(cr4_load_test),
	KUNIT_CASE(cr0_load_test),
	{}
};

static struct kunit_suite cr_test_suite = {
	.name = "minivisor_cr",
	.test_cases = cr_test_cases,
};

kunit_test_suite(cr_test_suite);
