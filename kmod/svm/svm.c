// SPDX-License-Identifier: GPL-2.0
/*
 * The AMD-V (SVM) backend: EFER.SVME and the host save area per CPU.
 *
 * Everything SVM specific lives under svm/; the core reaches it only
 * through mv_svm_ops.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/minivisor.h>
#include <asm/asm.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/msr-index.h>

#include "../mv.h"
#include "../ops.h"

/* VM_CR bit 4 (AMD APM vol. 2, 15.30.1): SVM disabled by firmware */
#define VM_CR_SVMDIS		BIT_ULL(4)

/* [this CPU] its host save area (VM_HSAVE_PA), allocated at setup */
static DEFINE_PER_CPU(struct page *, hsave_page);

static int svm_hardware_setup(const struct mv_cpu_caps *caps)
{
	struct page *page;
	int cpu;

	for_each_possible_cpu(cpu) {
		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page)
			goto fail;
		per_cpu(hsave_page, cpu) = page;
	}
	return 0;

fail:
	for_each_possible_cpu(cpu) {
		if (per_cpu(hsave_page, cpu))
			__free_page(per_cpu(hsave_page, cpu));
		per_cpu(hsave_page, cpu) = NULL;
	}
	return -ENOMEM;
}

static void svm_hardware_unsetup(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		__free_page(per_cpu(hsave_page, cpu));
		per_cpu(hsave_page, cpu) = NULL;
	}
}

static int svm_cpu_enable(void)
{
	u64 efer, vm_cr;

	if (rdmsrl_safe(MSR_EFER, &efer))
		return -EIO;
	/* EFER.SVME set: another hypervisor has SVM on here. */
	if (efer & EFER_SVME)
		return -EBUSY;
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr) || (vm_cr & VM_CR_SVMDIS))
		return -EIO;

	if (wrmsrl_safe(MSR_EFER, efer | EFER_SVME))
		return -EIO;
	if (wrmsrl_safe(MSR_VM_HSAVE_PA,
			page_to_phys(__this_cpu_read(hsave_page)))) {
		wrmsrl(MSR_EFER, efer);
		return -EIO;
	}
	return 0;
}

static void svm_cpu_disable(void)
{
	u64 efer;

	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
}

static void svm_emergency_disable(void)
{
	u64 efer;

	/* A crash inside a world switch can leave GIF clear: set it first. */
	asm volatile("1: stgi\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : : : "memory");
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
}

const struct mv_vendor_ops mv_svm_ops = {
	.name = "svm",
	.backend = MV_BACKEND_SVM,
	.hardware_setup = svm_hardware_setup,
	.hardware_unsetup = svm_hardware_unsetup,
	.cpu_enable = svm_cpu_enable,
	.cpu_disable = svm_cpu_disable,
	.emergency_disable = svm_emergency_disable,
};
