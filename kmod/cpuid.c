// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID for guests.  A vCPU answers CPUID from the table userspace set with
 * KVM_SET_CPUID2; a leaf the table does not have reads as zeros.
 * KVM_GET_SUPPORTED_CPUID offers the host's leaves less what minivisor does
 * not virtualize (VMX, SVM, XSAVE and what needs it, MONITOR, the local
 * APIC's x2APIC and TSC deadline modes).  As with KVM, setting the
 * hypervisor bit is the VMM's choice.
 */
#include <linux/bits.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/processor.h>

#include "compat.h"
#include "cpuid.h"
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

	e = mv_cpuid_find(&vcpu->cpuid, *eax, *ecx);
	*eax = e ? e->eax : 0;
	*ebx = e ? e->ebx : 0;
	*ecx = e ? e->ecx : 0;
	*edx = e ? e->edx : 0;
}

/* Leaf 1 ECX: VMX, SMX, MONITOR, x2APIC, TSC deadline, XSAVE, OSXSAVE, AVX */
#define LEAF1_ECX_HIDE	(BIT(3) | BIT(5) | BIT(6) | BIT(21) | BIT(24) | \
			 BIT(26) | BIT(27) | BIT(28))
/* Leaf 7 EBX: FSGSBASE, BMI1, SMEP, BMI2, ERMS, RDSEED, ADX, SMAP, CLFLUSHOPT */
#define LEAF7_EBX_KEEP	(BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) | \
			 BIT(18) | BIT(19) | BIT(20) | BIT(23))
/* Leaf 0x80000001 ECX: SVM */
#define EXT1_ECX_HIDE	BIT(2)

static void host_leaf(struct kvm_cpuid_entry2 *e, u32 function, u32 index,
		      bool indexed)
{
	memset(e, 0, sizeof(*e));
	e->function = function;
	e->index = index;
	e->flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
	cpuid_count(function, index, &e->eax, &e->ebx, &e->ecx, &e->edx);
	switch (function) {
	case 0:
		e->eax = min(e->eax, 7U);
		break;
	case 1:
		e->ecx &= ~LEAF1_ECX_HIDE;
		break;
	case 7:
		e->eax = 0;
		e->ebx &= LEAF7_EBX_KEEP;
		e->ecx = 0;
		e->edx = 0;
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
	static const u32 basic[] = { 0, 1, 7 };
	u32 max_basic = min(cpuid_eax(0), 7U);
	u32 max_ext = min(cpuid_eax(0x80000000), 0x80000008U);
	unsigned int n = 0, i;
	u32 f;

	for (i = 0; i < ARRAY_SIZE(basic); i++) {
		if (basic[i] > max_basic)
			break;
		if (n < max)
			host_leaf(&out[n], basic[i], 0, basic[i] == 7);
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
	entries = kvcalloc(c.nent, sizeof(*entries), GFP_KERNEL);
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
