// SPDX-License-Identifier: GPL-2.0
/*
 * The Intel VT-x backend: VMX operation on and off per CPU.
 *
 * Everything VT-x specific lives under vmx/; the core reaches it only
 * through mv_vmx_ops.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/minivisor.h>
#include <asm/asm.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include "../mmu/tdp.h"
#include "../mv.h"
#include "../ops.h"

/* EPT entries (SDM vol. 3, 29.3.2): read, write, execute; write-back. */
#define EPT_READ		BIT_ULL(0)
#define EPT_WRITE		BIT_ULL(1)
#define EPT_EXEC		BIT_ULL(2)
#define EPT_MT_WB		(6ULL << 3)
#define EPT_LARGE		BIT_ULL(7)

static const struct mv_tdp_format vmx_ept_format = {
	.present = EPT_READ | EPT_WRITE | EPT_EXEC,
	.table = EPT_READ | EPT_WRITE | EPT_EXEC,
	.leaf = EPT_READ | EPT_EXEC | EPT_MT_WB,
	.leaf_write = EPT_WRITE,
	.large = EPT_LARGE,
};

/* (c) from IA32_VMX_BASIC at setup */
static u32 vmx_revision;
/* [this CPU] its VMXON region, allocated at setup for every possible CPU */
static DEFINE_PER_CPU(struct page *, vmxon_page);

/*
 * The VMX instructions below report in one byte: 0 success, 1 VMfail
 * (CF or ZF set), 2 a fault (#UD or #GP, caught by the exception table).
 */
static int vmx_insn_result(u8 r)
{
	return r == 0 ? 0 : r == 1 ? -EIO : -EFAULT;
}

static int vmx_vmxon(u64 pa)
{
	u8 r = 2;

	asm volatile("1: vmxon %[pa]\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r) : [pa] "m" (pa) : "cc", "memory");
	return vmx_insn_result(r);
}

static int vmx_vmxoff(void)
{
	u8 r = 2;

	asm volatile("1: vmxoff\n\t"
		     "setna %[r]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [r] "+qm" (r) : : "cc", "memory");
	return vmx_insn_result(r);
}

/* Does @val keep the bits IA32_VMX_*_FIXED0/1 say must be 1 and 0? */
static bool vmx_fixed_ok(unsigned long val, u32 msr0, u32 msr1)
{
	u64 fixed0, fixed1;

	if (rdmsrl_safe(msr0, &fixed0) || rdmsrl_safe(msr1, &fixed1))
		return false;
	return (val & fixed0) == fixed0 && !(val & ~fixed1);
}

static int vmx_hardware_setup(const struct mv_cpu_caps *caps)
{
	struct page *page;
	int cpu;

	vmx_revision = caps->vmcs_revision;
	for_each_possible_cpu(cpu) {
		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page)
			goto fail;
		*(u32 *)page_address(page) = vmx_revision;
		per_cpu(vmxon_page, cpu) = page;
	}
	return 0;

fail:
	for_each_possible_cpu(cpu) {
		if (per_cpu(vmxon_page, cpu))
			__free_page(per_cpu(vmxon_page, cpu));
		per_cpu(vmxon_page, cpu) = NULL;
	}
	return -ENOMEM;
}

static void vmx_hardware_unsetup(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		__free_page(per_cpu(vmxon_page, cpu));
		per_cpu(vmxon_page, cpu) = NULL;
	}
}

static int vmx_cpu_enable(void)
{
	u64 fc;
	int r;

	/* CR4.VMXE set: another hypervisor is in VMX operation here. */
	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;

	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &fc) ||
	    !(fc & FEAT_CTL_LOCKED) ||
	    !(fc & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return -EIO;
	if (!vmx_fixed_ok(read_cr0(), MSR_IA32_VMX_CR0_FIXED0,
			  MSR_IA32_VMX_CR0_FIXED1))
		return -EIO;

	cr4_set_bits_irqsoff(X86_CR4_VMXE);
	if (!vmx_fixed_ok(cr4_read_shadow(), MSR_IA32_VMX_CR4_FIXED0,
			  MSR_IA32_VMX_CR4_FIXED1)) {
		r = -EIO;
		goto clear_vmxe;
	}
	r = vmx_vmxon(page_to_phys(__this_cpu_read(vmxon_page)));
	if (r)
		goto clear_vmxe;
	return 0;

clear_vmxe:
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
	return r;
}

static void vmx_cpu_disable(void)
{
	int r = vmx_vmxoff();

	if (r)
		pr_err("minivisor: VMXOFF failed on CPU %d: error %d\n",
		       smp_processor_id(), r);
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
}

static void vmx_emergency_disable(void)
{
	vmx_vmxoff();
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
}

/* Running vCPUs on VT-x comes with the VMX backend's VMCS code. */
static int vmx_vcpu_create(struct mv_vcpu *vcpu)
{
	return -EOPNOTSUPP;
}

const struct mv_vendor_ops mv_vmx_ops = {
	.name = "vmx",
	.backend = MV_BACKEND_VMX,
	.hardware_setup = vmx_hardware_setup,
	.hardware_unsetup = vmx_hardware_unsetup,
	.cpu_enable = vmx_cpu_enable,
	.cpu_disable = vmx_cpu_disable,
	.emergency_disable = vmx_emergency_disable,
	.tdp_format = &vmx_ept_format,
	.vcpu_create = vmx_vcpu_create,
};
