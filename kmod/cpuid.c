// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID for guests.  A vCPU answers CPUID from the table userspace set with
 * KVM_SET_CPUID2; a leaf the table does not have reads as zeros.
 * KVM_GET_SUPPORTED_CPUID offers the host's leaves less what minivisor does
 * not virtualize (VMX, SVM, MONITOR, the local APIC's x2APIC and TSC
 * deadline modes, XSAVE components beyond those kmod/fpu.c offers).  As
 * with KVM, setting the hypervisor bit is the VMM's choice.
 *
 * As in KVM, a few bits follow the vCPU's state rather than the table:
 * CPUID.1:ECX.OSXSAVE is CR4.OSXSAVE, CPUID.7:ECX.OSPKE is CR4.PKE, and
 * CPUID.0xd:EBX (subleaves 0 and 1) is the XSAVE area size for the current
 * XCR0.
 */
#include <linux/bits.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/fpu/types.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>

#include "compat.h"
#include "cpuid.h"
#include "cr.h"
#include "fpu.h"
#include "mv.h"
#include "vcpu.h"

/**
 * mv_cpuid_find() - the entry of a table for a leaf and subleaf
 * @c: the table
 * @function: the leaf (EAX)
 * @index: the subleaf (ECX); looked at only for entries flagged
 *	KVM_CPUID_FLAG_SIGNIFCANT_INDEX
 *
 * Return: the entry, or NULL.
 */
const struct kvm_cpuid_entry2 *mv_cpuid_find(const struct mv_cpuid *c,
					     u32 function, u32 index)
{
	unsigned int i;

	for (i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
		    e->index != index)
			continue;
		return e;
	}
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(mv_cpuid_find);

/* Leaf 1 ECX: FMA, XSAVE, OSXSAVE, AVX, F16C */
#define LEAF1_ECX_FMA		BIT(12)
#define LEAF1_ECX_XSAVE		BIT(26)
#define LEAF1_ECX_OSXSAVE	BIT(27)
#define LEAF1_ECX_AVX		BIT(28)
#define LEAF1_ECX_F16C		BIT(29)
/* Leaf 7 EBX: AVX2; AVX512F, DQ, IFMA, CD, BW, VL */
#define LEAF7_EBX_AVX2		BIT(5)
#define LEAF7_EBX_AVX512	(BIT(16) | BIT(17) | BIT(21) | BIT(28) | \
				 BIT(30) | BIT(31))
/* Leaf 7 ECX: OSPKE */
#define LEAF7_ECX_OSPKE		BIT(4)
/* Leaf 0xd subleaf 1 EAX: XSAVEOPT, XSAVEC, XGETBV with ECX = 1 */
#define LEAFD1_EAX_KEEP		(BIT(0) | BIT(1) | BIT(2))
#define LEAFD1_EAX_XSAVEC	BIT(1)

/* The bits of a leaf that follow the vCPU's CR4 and XCR0, as in KVM. */
static void cpuid_runtime(struct mv_vcpu *vcpu, u32 function, u32 index,
			  u32 *eax, u32 *ebx, u32 *ecx)
{
	switch (function) {
	case 1:
		if (!boot_cpu_has(X86_FEATURE_XSAVE))
			break;
		*ecx &= ~LEAF1_ECX_OSXSAVE;
		if (mv_read_cr4(vcpu) & X86_CR4_OSXSAVE)
			*ecx |= LEAF1_ECX_OSXSAVE;
		break;
	case 7:
		if (index || !boot_cpu_has(X86_FEATURE_OSPKE))
			break;
		*ecx &= ~LEAF7_ECX_OSPKE;
		if (mv_read_cr4(vcpu) & X86_CR4_PKE)
			*ecx |= LEAF7_ECX_OSPKE;
		break;
	case 0xd:
		if (index == 0)
			*ebx = mv_fpu_xstate_size(vcpu->xs.xcr0, false);
		else if (index == 1 && (*eax & LEAFD1_EAX_XSAVEC))
			*ebx = mv_fpu_xstate_size(vcpu->xs.xcr0, true);
		break;
	}
}

/**
 * mv_cpuid_emulate() - the guest executed CPUID
 * @vcpu: the vCPU
 * @eax: in: the leaf; out: EAX
 * @ebx: out: EBX
 * @ecx: in: the subleaf; out: ECX
 * @edx: out: EDX
 */
void mv_cpuid_emulate(struct mv_vcpu *vcpu, u32 *eax, u32 *ebx, u32 *ecx,
		      u32 *edx)
{
	const struct kvm_cpuid_entry2 *e;
	u32 function = *eax, index = *ecx;

	e = mv_cpuid_find(&vcpu->cpuid, function, index);
	*eax = e ? e->eax : 0;
	*ebx = e ? e->ebx : 0;
	*ecx = e ? e->ecx : 0;
	*edx = e ? e->edx : 0;
	if (e)
		cpuid_runtime(vcpu, function, index, eax, ebx, ecx);
}

/* Leaf 1 ECX: VMX, SMX, MONITOR, x2APIC, TSC deadline, OSXSAVE */
#define LEAF1_ECX_HIDE	(BIT(3) | BIT(5) | BIT(6) | BIT(21) | BIT(24) | \
			 LEAF1_ECX_OSXSAVE)
/* The highest basic leaf offered: the XSAVE leaf */
#define MAX_BASIC_LEAF	0xdU
/* Leaf 7 EBX: FSGSBASE, BMI1, SMEP, BMI2, ERMS, RDSEED, ADX, SMAP, CLFLUSHOPT */
#define LEAF7_EBX_KEEP	(BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) | \
			 BIT(18) | BIT(19) | BIT(20) | BIT(23))
/* Leaf 0x80000001 ECX: SVM */
#define EXT1_ECX_HIDE	BIT(2)

/*
 * Leaf 0xd: the components kmod/fpu.c offers, the sizes for all of them,
 * each component's size and offset as the host has them.
 */
static void xsave_leaf(struct kvm_cpuid_entry2 *e)
{
	u64 xcr0 = mv_fpu_supported_xcr0();

	switch (e->index) {
	case 0:
		e->eax &= xcr0;
		e->edx &= xcr0 >> 32;
		e->ebx = mv_fpu_xstate_size(xcr0, false);
		e->ecx = e->ebx;
		break;
	case 1:
		e->eax &= LEAFD1_EAX_KEEP;
		e->ebx = 0;
		if (e->eax & LEAFD1_EAX_XSAVEC)
			e->ebx = mv_fpu_xstate_size(xcr0, true);
		/* no supervisor components (IA32_XSS) */
		e->ecx = 0;
		e->edx = 0;
		break;
	default:
		/* no XFD (ECX bit 2) */
		e->ecx &= ~BIT(2);
		e->edx = 0;
		break;
	}
}

/* Leaf 1 ECX and leaf 7 EBX: the XSAVE features, as far as offered. */
static u32 xsave_features(u32 function, u32 host)
{
	u64 xcr0 = mv_fpu_supported_xcr0();
	u32 hide = 0, keep = 0;

	if (function == 1) {
		if (!xcr0)
			hide |= LEAF1_ECX_XSAVE;
		if (!(xcr0 & XFEATURE_MASK_YMM))
			hide |= LEAF1_ECX_AVX | LEAF1_ECX_FMA | LEAF1_ECX_F16C;
		return host & ~hide;
	}
	if (xcr0 & XFEATURE_MASK_YMM)
		keep |= LEAF7_EBX_AVX2;
	if (xcr0 & XFEATURE_MASK_AVX512)
		keep |= LEAF7_EBX_AVX512;
	return host & keep;
}

static void host_leaf(struct kvm_cpuid_entry2 *e, u32 function, u32 index,
		      bool indexed)
{
	u32 host_ebx;

	memset(e, 0, sizeof(*e));
	e->function = function;
	e->index = index;
	e->flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
	cpuid_count(function, index, &e->eax, &e->ebx, &e->ecx, &e->edx);
	host_ebx = e->ebx;
	switch (function) {
	case 0:
		e->eax = min(e->eax, MAX_BASIC_LEAF);
		break;
	case 1:
		e->ecx = xsave_features(1, e->ecx & ~LEAF1_ECX_HIDE);
		break;
	case 7:
		e->eax = 0;
		e->ebx = (host_ebx & LEAF7_EBX_KEEP) | xsave_features(7, host_ebx);
		e->ecx = 0;
		e->edx = 0;
		break;
	case 0xd:
		xsave_leaf(e);
		break;
	case 0x80000000:
		e->eax = min(e->eax, 0x80000008U);
		break;
	case 0x80000001:
		e->ecx &= ~EXT1_ECX_HIDE;
		break;
	}
}

/* Fills @out (room for @max) with the offered leaves; returns how many. */
static unsigned int supported_leaves(struct kvm_cpuid_entry2 *out,
				     unsigned int max)
{
	static const u32 basic[] = { 0, 1, 7, 0xd };
	u32 max_basic = min(cpuid_eax(0), MAX_BASIC_LEAF);
	u32 max_ext = min(cpuid_eax(0x80000000), 0x80000008U);
	u64 xcr0 = mv_fpu_supported_xcr0();
	unsigned int n = 0, i;
	u32 f;

	for (i = 0; i < ARRAY_SIZE(basic); i++) {
		if (basic[i] > max_basic)
			break;
		if (n < max)
			host_leaf(&out[n], basic[i], 0,
				  basic[i] == 7 || basic[i] == 0xd);
		n++;
	}
	/* leaf 0xd: subleaf 1 and one per component beyond x87 and SSE */
	for (i = 1; max_basic >= 0xd && xcr0 && i < 64; i++) {
		if (i >= 2 && !(xcr0 & BIT_ULL(i)))
			continue;
		if (n < max)
			host_leaf(&out[n], 0xd, i, true);
		n++;
	}
	for (f = 0x80000000; f <= max_ext; f++) {
		/* 0x8000000a describes SVM itself */
		if (f == 0x8000000a)
			continue;
		if (n < max)
			host_leaf(&out[n], f, 0, false);
		n++;
	}
	return n;
}

/**
 * mv_cpuid_get_supported() - KVM_GET_SUPPORTED_CPUID
 * @uc: the VMM's struct kvm_cpuid2, with room for nent entries
 *
 * Return: 0 with nent set to the entries written; -E2BIG when they do not
 * fit (nent left alone, as in KVM); -EFAULT.
 */
long mv_cpuid_get_supported(struct kvm_cpuid2 __user *uc)
{
	struct kvm_cpuid_entry2 *entries;
	struct kvm_cpuid2 c;
	unsigned int n;
	long r = 0;

	if (copy_from_user(&c, uc, sizeof(c)))
		return mv_fail(-EFAULT);
	if (c.nent < 1)
		return mv_fail(-E2BIG);
	c.nent = min_t(u32, c.nent, MV_MAX_CPUID_ENTRIES);
	entries = kvcalloc(c.nent, sizeof(*entries), GFP_KERNEL_ACCOUNT);
	if (!entries)
		return -ENOMEM;
	n = supported_leaves(entries, c.nent);
	if (n > c.nent) {
		r = mv_fail(-E2BIG);
		goto out;
	}
	c.nent = n;
	if (copy_to_user(uc, &c, sizeof(c)) ||
	    copy_to_user(uc->entries, entries, n * sizeof(*entries)))
		r = mv_fail(-EFAULT);
out:
	kvfree(entries);
	return r;
}

/**
 * mv_cpuid_set() - KVM_SET_CPUID2
 * @vcpu: the vCPU; caller holds its mutex
 * @uc: the table
 *
 * As in KVM, once the vCPU has run only the same table may be set again.
 *
 * Return: 0, -E2BIG for more than MV_MAX_CPUID_ENTRIES entries, -EINVAL
 * for a change after the first KVM_RUN, -EFAULT, -ENOMEM.
 */
long mv_cpuid_set(struct mv_vcpu *vcpu, struct kvm_cpuid2 __user *uc)
{
	struct kvm_cpuid_entry2 *e = NULL;
	struct kvm_cpuid2 c;
	size_t size;

	if (copy_from_user(&c, uc, sizeof(c)))
		return mv_fail(-EFAULT);
	if (c.nent > MV_MAX_CPUID_ENTRIES)
		return mv_fail(-E2BIG);
	size = c.nent * sizeof(*e);
	if (c.nent) {
		e = kvmalloc(size, GFP_KERNEL_ACCOUNT);
		if (!e)
			return -ENOMEM;
		if (copy_from_user(e, uc->entries, size)) {
			kvfree(e);
			return mv_fail(-EFAULT);
		}
	}
	if (vcpu->has_run &&
	    (c.nent != vcpu->cpuid.nent ||
	     (size && memcmp(e, vcpu->cpuid.entries, size)))) {
		kvfree(e);
		return mv_fail(-EINVAL);
	}
	kvfree(vcpu->cpuid.entries);
	vcpu->cpuid.entries = e;
	vcpu->cpuid.nent = c.nent;
	mv_cr_update_features(vcpu);
	return 0;
}

/**
 * mv_cpuid_get() - KVM_GET_CPUID2
 * @vcpu: the vCPU; caller holds its mutex
 * @uc: where the table goes
 *
 * Return: 0 with nent set, -E2BIG when nent is too small, -EFAULT.
 */
long mv_cpuid_get(struct mv_vcpu *vcpu, struct kvm_cpuid2 __user *uc)
{
	struct kvm_cpuid2 c;

	if (copy_from_user(&c, uc, sizeof(c)))
		return mv_fail(-EFAULT);
	if (c.nent < vcpu->cpuid.nent)
		return mv_fail(-E2BIG);
	c.nent = vcpu->cpuid.nent;
	if (copy_to_user(uc->entries, vcpu->cpuid.entries,
			 c.nent * sizeof(*vcpu->cpuid.entries)) ||
	    copy_to_user(uc, &c, sizeof(c)))
		return mv_fail(-EFAULT);
	return 0;
}

/**
 * mv_cpuid_free() - free a vCPU's table
 * @c: the table
 */
void mv_cpuid_free(struct mv_cpuid *c)
{
	kvfree(c->entries);
	c->entries = NULL;
	c->nent = 0;
}
