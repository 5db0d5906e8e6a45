// SPDX-License-Identifier: GPL-2.0
/*
 * The VT-x backend's VMCSes: loading one on a CPU (and clearing it on the
 * CPU it was loaded on), the guest state and controls it holds, and the
 * vCPUs that own them, created and freed here.
 */
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <asm/cpu_entry_area.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>
#include <asm/tsc.h>
#include <asm/vmx.h>

#include "../cr.h"
#include "../exc.h"
#include "../gmem.h"
#include "../mmu/mmu.h"
#include "../msr.h"
#include "../spec.h"
#include "../vcpu.h"
#include "../vm.h"
#include "ctls.h"
#include "vmenter.h"
#include "vmx.h"

/* ------------------------------------------------ the VMX instructions */

/**
 * vmx_failed() - a VMX instruction on a vCPU's VMCS failed
 * @vmx: the vCPU
 * @insn: the instruction's name
 * @arg: its operand (the VMCS field, the physical address...)
 * @r: what it returned, -EIO (VMfail) or -EFAULT (a fault)
 *
 * Says which and why, and stops the vCPU (its next KVM_RUN fails with
 * -EIO).
 */
void vmx_failed(struct vmx_vcpu *vmx, const char *insn,
		unsigned long arg, int r)
{
	vmx->vmcs_failed = true;
	pr_err_ratelimited("minivisor: vCPU %u: %s %#lx failed on CPU %d: %s (VM-instruction error %u)\n",
			   vmx->vcpu->id, insn, arg, raw_smp_processor_id(),
			   r == -EIO ? "VMfail" : "fault",
			   r == -EIO ? vmx_insn_error() : 0);
}

/* ------------------------------------------------ loading a VMCS */

/* The host state that differs between CPUs; the VMCS is current. */
static void vmx_set_host_cpu_state(struct vmx_vcpu *vmx, int cpu)
{
	struct desc_ptr idt;
	unsigned int i;
	u64 v;

	vmx_wr(vmx, HOST_TR_BASE,
	       (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	vmx_wr(vmx, HOST_GDTR_BASE, (unsigned long)get_current_gdt_ro());
	store_idt(&idt);
	vmx_wr(vmx, HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_GS_BASE, v);
	vmx_wr(vmx, HOST_GS_BASE, v);
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	vmx_wr(vmx, HOST_IA32_SYSENTER_ESP, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmx_wr(vmx, HOST_IA32_SYSENTER_EIP, v);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmx_wr(vmx, HOST_IA32_SYSENTER_CS, v);
	vmx_wr(vmx, HOST_CR0, read_cr0());
	for (i = 0; i < VMX_NR_SWITCHED; i++) {
		vmx->msrs->host[i].index = vmx_switched_msrs[i];
		rdmsrl(vmx_switched_msrs[i], vmx->msrs->host[i].value);
	}
	/* the next entry writes these again */
	vmx->host_cr3 = 0;
	vmx->host_cr4 = 0;
	vmx->host_fs_base = 0;
	vmx_wr(vmx, HOST_CR3, __read_cr3());
	vmx_wr(vmx, HOST_CR4, cr4_read_shadow());
}

/**
 * vmx_load() - make @vmx's VMCS current on this CPU
 * @vmx: the vCPU
 *
 * Preemption off, interrupts on (the VMCS may have to be cleared on the
 * CPU it was loaded on, by an IPI).
 */
void vmx_load(struct vmx_vcpu *vmx)
{
	int cpu = smp_processor_id();
	int old = READ_ONCE(vmx->cpu);
	unsigned long flags;
	int r;

	if (old != cpu) {
		if (old >= 0)
			smp_call_function_single(old, vmx_clear_ipi, vmx, 1);
		if (READ_ONCE(vmx->cpu) >= 0) {
			pr_err_ratelimited("minivisor: vCPU %u: VMCS still loaded on CPU %d\n",
					   vmx->vcpu->id, READ_ONCE(vmx->cpu));
			vmx->vmcs_failed = true;
			return;
		}
		local_irq_save(flags);
		list_add(&vmx->link, this_cpu_ptr(&vmx_loaded));
		WRITE_ONCE(vmx->cpu, cpu);
		local_irq_restore(flags);
	}
	if (this_cpu_read(vmx_current) != vmx) {
		r = vmx_vmptrld(vmx->vmcs_pa);
		if (r) {
			vmx_failed(vmx, "VMPTRLD", (unsigned long)vmx->vmcs_pa,
				   r);
			return;
		}
		this_cpu_write(vmx_current, vmx);
	}
	if (old != cpu) {
		vmx_set_host_cpu_state(vmx, cpu);
		/* this CPU may hold stale mappings of the VM and the VPID */
		vmx->flush = true;
	}
}

/**
 * vmx_get() - load a vCPU's VMCS on this CPU for a few accesses
 * @vcpu: the vCPU
 *
 * Preemption stays off until vmx_put().
 *
 * Return: the vCPU's VMX state.
 */
struct vmx_vcpu *vmx_get(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;

	preempt_disable();
	vmx_load(vmx);
	return vmx;
}

/**
 * vmx_put() - done with the VMCS vmx_get() loaded
 */
void vmx_put(void)
{
	preempt_enable();
}

/* ---------------------------------------------------------------- vCPUs */

/**
 * vmx_write_seg() - write a guest segment register to the VMCS
 * @vmx: the vCPU, its VMCS current
 * @s: the segment register
 * @sel: its selector
 * @base: its base
 * @limit: its limit
 * @ar: its VMX access rights (VMCS_AR_*)
 */
void vmx_write_seg(struct vmx_vcpu *vmx, enum vmx_seg s, u16 sel,
		   u64 base, u32 limit, u32 ar)
{
	vmx_wr(vmx, GUEST_ES_SELECTOR + 2 * s, sel);
	vmx_wr(vmx, GUEST_ES_BASE + 2 * s, base);
	vmx_wr(vmx, GUEST_ES_LIMIT + 2 * s, limit);
	vmx_wr(vmx, GUEST_ES_AR_BYTES + 2 * s, ar);
}

/* CR0 bits the guest's value is not what the CPU runs with: intercepted */
static unsigned long vmx_cr0_host_owned(void)
{
	/* unrestricted guest: PE and PG are the guest's own */
	unsigned long forced = (vmx_cr0_fixed0 | ~vmx_cr0_fixed1) &
		~(X86_CR0_PE | X86_CR0_PG) & 0xffffffffUL;

	/* PG too: setting it with EFER.LME is entering long mode */
	return forced | X86_CR0_CD | X86_CR0_NW | X86_CR0_PG;
}

/*
 * CR4 bits a guest in the TDP mode may write without an exit: bits every
 * vCPU may have (kmod/cr.c) whose effect stays within the guest.  Every
 * other bit is the host's, so that each write of it meets kmod/cr.c's
 * rules: the CPU would accept CET, PKS or UINTR, which would run the guest
 * on host MSRs VM entry does not switch, or bits the guest's CPUID denies.
 */
#define VMX_CR4_GUEST_OWNED	(X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | \
				 X86_CR4_PGE | X86_CR4_PCE | \
				 X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)

static unsigned long vmx_cr4_host_owned(void)
{
	return ~(VMX_CR4_GUEST_OWNED & ~vmx_cr4_fixed0 & vmx_cr4_fixed1);
}

/*
 * The CR0 and CR4 guest/host masks of a vCPU.  Under shadow paging every
 * bit is the host's: the CPU runs with PG, PE, WP and PAE the guest may
 * not have, and all of CR0 and CR4 go through the shadow MMU (a CLTS or a
 * write of TS alone exits too, which guests with eager FPU never do).
 */
static unsigned long vmx_cr0_mask(const struct vmx_vcpu *vmx)
{
	return vmx->shadow ? ~0UL : vmx_cr0_host_owned();
}

static unsigned long vmx_cr4_mask(const struct vmx_vcpu *vmx)
{
	/* MCE too: the CPU runs the guest with the host's (vmx_hw_cr4()) */
	return vmx->shadow ? ~0UL : vmx_cr4_host_owned() | X86_CR4_MCE;
}

/* The CR0 the CPU runs the guest with when the guest sees @cr0. */
static unsigned long vmx_hw_cr0(unsigned long cr0)
{
	unsigned long on = vmx_cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);

	/* caches stay on under the guest, as KVM does */
	return (cr0 | on) & ~(X86_CR0_CD | X86_CR0_NW);
}

/*
 * CR4.MCE stays as the host has it, so that a machine check in the guest
 * raises the #MC the host intercepts, not a shutdown.
 */
static unsigned long vmx_hw_cr4(unsigned long cr4)
{
	return ((cr4 | vmx_cr4_fixed0) & vmx_cr4_fixed1) |
		(cr4_read_shadow() & X86_CR4_MCE);
}

/**
 * vmx_write_cr0() - give the guest a CR0 (TDP mode)
 * @vmx: the vCPU, its VMCS current
 * @cr0: the CR0 the guest sees; the CPU runs it with vmx_hw_cr0()'s
 */
void vmx_write_cr0(struct vmx_vcpu *vmx, unsigned long cr0)
{
	vmx_wr(vmx, CR0_READ_SHADOW, cr0);
	vmx_wr(vmx, GUEST_CR0, vmx_hw_cr0(cr0));
}

/**
 * vmx_write_cr4() - give the guest a CR4 (TDP mode)
 * @vmx: the vCPU, its VMCS current
 * @cr4: the CR4 the guest sees; the CPU runs it with vmx_hw_cr4()'s
 */
void vmx_write_cr4(struct vmx_vcpu *vmx, unsigned long cr4)
{
	vmx_wr(vmx, CR4_READ_SHADOW, cr4);
	vmx_wr(vmx, GUEST_CR4, vmx_hw_cr4(cr4));
}

/**
 * vmx_read_cr0() - the CR0 the guest sees
 * @vmx: the vCPU, its VMCS current
 *
 * The CR0 and CR4 the guest sees: the bits it owns from the register it
 * runs with, the others from the read shadow.
 *
 * Return: the guest's CR0.
 */
unsigned long vmx_read_cr0(struct vmx_vcpu *vmx)
{
	unsigned long own = vmx_cr0_mask(vmx);

	return (vmx_rd(vmx, GUEST_CR0) & ~own) |
		(vmx_rd(vmx, CR0_READ_SHADOW) & own);
}

/**
 * vmx_read_cr4() - the CR4 the guest sees, as vmx_read_cr0()
 * @vmx: the vCPU, its VMCS current
 *
 * Return: the guest's CR4.
 */
unsigned long vmx_read_cr4(struct vmx_vcpu *vmx)
{
	unsigned long own = vmx_cr4_mask(vmx);

	return (vmx_rd(vmx, GUEST_CR4) & ~own) |
		(vmx_rd(vmx, CR4_READ_SHADOW) & own);
}

/**
 * vmx_write_efer() - EFER, and the IA-32e mode guest entry control that
 *	must match LMA
 * @vmx: the vCPU, its VMCS current
 * @efer: the EFER the CPU runs the guest with
 */
void vmx_write_efer(struct vmx_vcpu *vmx, u64 efer)
{
	vmx_wr(vmx, GUEST_IA32_EFER, efer);
	vmx_wr(vmx, VM_ENTRY_CONTROLS, vmx_ctls.entry |
	       (efer & EFER_LMA ? VM_ENTRY_IA32E_MODE : 0));
}

/*
 * Shadow paging on VMX: what the CPU runs with, from the guest's CR0, CR3,
 * CR4 and EFER (vcpu->cr), which the read shadows give back to it.
 *
 * With paging on, the guest runs on the shadow root the MMU gives before
 * each entry (GUEST_CR3), EPT off: PG, PE and WP always set (WP so that
 * write-protection holds against the guest kernel too), CD and NW clear,
 * PAE set (the shadow is PAE or 4-level) and PCIDE clear (the MMU flushes
 * on every root change), NX on for the shadow's XD bits, LME only with
 * LMA.  #PF, CR3 loads and stores, INVLPG and every CR0/CR4 write exit.
 *
 * With paging off (real mode, or protected mode without paging) there is
 * nothing to shadow, but VMX runs such a guest only as an unrestricted
 * guest, which needs EPT.  So it runs as in the TDP mode, on EPT, on the
 * second-level tables of the VM (the phys_root MMU op; their faults go to
 * the TDP fault path), with its own CR0, CR3 and CR4.  CR0.PG is the
 * host's, so the guest setting it exits: the secondary controls then turn
 * EPT and unrestricted guest off again.  Every switch flushes the VPID's
 * and the EPT's mappings.  The shadow MMU knows nothing of this but that
 * the vCPU asked for phys_root rather than root; this backend knows
 * nothing of how shadow pages work.
 */
/*
 * The secondary controls of @vmx: "enable VPID" only with a VPID, for VPID
 * 0 with it set fails every VM entry.
 */
static u32 vmx_proc2(const struct vmx_vcpu *vmx)
{
	return vmx_ctls.proc2 &
		~(vmx->vpid ? 0 : (u32)SECONDARY_EXEC_ENABLE_VPID);
}

/**
 * vmx_shadow_hw() - under shadow paging, what the CPU runs the guest with
 * @vmx: the vCPU, its VMCS current
 *
 * From vcpu->cr, as described above.
 */
void vmx_shadow_hw(struct vmx_vcpu *vmx)
{
	struct mv_vcpu *vcpu = vmx->vcpu;
	unsigned long guest_cr0 = mv_read_cr0(vcpu);
	unsigned long guest_cr4 = mv_read_cr4(vcpu);
	unsigned long cr0 = guest_cr0, cr4 = guest_cr4;
	bool paged = cr0 & X86_CR0_PG;
	u64 efer = mv_read_efer(vcpu);
	u32 proc2 = vmx_proc2(vmx);

	if (paged) {
		u32 cs_ar = vmx_rd(vmx, GUEST_CS_AR_BYTES);

		/*
		 * A guest that set PE and PG from real mode still has a CS
		 * loaded there, a data segment to VMX, which only an
		 * unrestricted guest may have: make it the code segment it
		 * is used as (until the guest's far jump loads its own).
		 */
		if ((cs_ar & (VMCS_AR_UNUSABLE | VMCS_AR_S | 0x8)) == VMCS_AR_S)
			vmx_wr(vmx, GUEST_CS_AR_BYTES, cs_ar | 0xa);
		proc2 &= ~(SECONDARY_EXEC_ENABLE_EPT |
			   SECONDARY_EXEC_UNRESTRICTED_GUEST);
		cr0 |= X86_CR0_PG | X86_CR0_PE | X86_CR0_WP;
		cr4 = (cr4 | X86_CR4_PAE) & ~X86_CR4_PCIDE;
		efer |= EFER_NX;
		if (!(efer & EFER_LMA))
			efer &= ~EFER_LME;
	} else {
		vmx_wr(vmx, GUEST_CR3, mv_read_cr3(vcpu));
	}
	vmx_wr(vmx, SECONDARY_VM_EXEC_CONTROL, proc2);
	vmx_wr(vmx, CR0_READ_SHADOW, guest_cr0);
	vmx_wr(vmx, GUEST_CR0, vmx_hw_cr0(cr0));
	vmx_wr(vmx, CR4_READ_SHADOW, guest_cr4);
	vmx_wr(vmx, GUEST_CR4, vmx_hw_cr4(cr4));
	vmx_write_efer(vmx, efer);
	vmx->phys = !paged;
	vmx->flush = true;
	mv_mmu_paging_changed(vcpu, true);
}

/**
 * vmx_pae_paging() - is the guest in PAE paging outside long mode?
 * @cr0: its CR0
 * @cr4: its CR4
 * @efer: its EFER
 *
 * Return: true for PAE paging outside long mode.
 */
bool vmx_pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/**
 * vmx_read_pdptrs() - read the four PDPTEs CR3 points at in PAE paging
 * @vcpu: the vCPU
 * @cr3: the guest's CR3
 * @pdpte: where to put them
 *
 * VM entry loads them from the VMCS (the CPU itself only does it for the
 * MOV to CR0, CR3 and CR4 that do not exit).  May sleep.
 *
 * Return: 0, or -EFAULT when no slot holds them.
 */
int vmx_read_pdptrs(struct mv_vcpu *vcpu, u64 cr3, u64 *pdpte)
{
	/* 32-byte aligned: the four never cross a page */
	if (mv_gmem_read(vcpu->vm, cr3 & 0xffffffe0ULL, pdpte,
			 4 * sizeof(u64)))
		return -EFAULT;
	return 0;
}

/**
 * vmx_write_pdptrs() - give VM entry the PDPTEs vmx_read_pdptrs() read
 * @vmx: the vCPU, its VMCS current
 * @pdpte: the four PDPTEs
 */
void vmx_write_pdptrs(struct vmx_vcpu *vmx, const u64 *pdpte)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		vmx_wr(vmx, GUEST_PDPTR0 + 2 * i, pdpte[i]);
}

/* The architectural reset state (SDM vol. 3, 10.1.1); VMCS current. */
static void vmx_reset_guest(struct vmx_vcpu *vmx)
{
	u32 data = VMCS_AR_P | VMCS_AR_S | 0x3;
	unsigned int i;

	memset(vmx->regs, 0, sizeof(vmx->regs));
	mv_dr_reset(&vmx->dr);
	/* EDX holds the processor signature after reset */
	vmx->regs[2] = 0x600;
	vmx->rip = 0xfff0;
	vmx->rflags = X86_EFLAGS_FIXED;
	vmx->cr2 = 0;
	vmx->cr8 = 0;

	vmx_write_seg(vmx, SEG_CS, 0xf000, 0xffff0000, 0xffff,
		      VMCS_AR_P | VMCS_AR_S | 0xb);
	vmx_write_seg(vmx, SEG_DS, 0, 0, 0xffff, data);
	vmx_write_seg(vmx, SEG_ES, 0, 0, 0xffff, data);
	vmx_write_seg(vmx, SEG_SS, 0, 0, 0xffff, data);
	vmx_write_seg(vmx, SEG_FS, 0, 0, 0xffff, data);
	vmx_write_seg(vmx, SEG_GS, 0, 0, 0xffff, data);
	vmx_write_seg(vmx, SEG_LDTR, 0, 0, 0xffff, VMCS_AR_P | 0x2);
	vmx_write_seg(vmx, SEG_TR, 0, 0, 0xffff, VMCS_AR_P | 0xb);
	vmx_wr(vmx, GUEST_GDTR_BASE, 0);
	vmx_wr(vmx, GUEST_GDTR_LIMIT, 0xffff);
	vmx_wr(vmx, GUEST_IDTR_BASE, 0);
	vmx_wr(vmx, GUEST_IDTR_LIMIT, 0xffff);
	/* in TDP mode the VMCS holds the guest's own four */
	mv_cr_reset(vmx->vcpu, vmx->shadow ? 0 : BIT(MV_CR0) | BIT(MV_CR3) |
		    BIT(MV_CR4) | BIT(MV_EFER));
	vmx_write_cr0(vmx, mv_read_cr0(vmx->vcpu));
	vmx_write_cr4(vmx, mv_read_cr4(vmx->vcpu));
	vmx_wr(vmx, GUEST_CR3, mv_read_cr3(vmx->vcpu));
	vmx_wr(vmx, GUEST_DR7, vmx->dr.dr7);
	vmx_wr(vmx, GUEST_RSP, 0);
	vmx_wr(vmx, GUEST_RIP, vmx->rip);
	vmx_wr(vmx, GUEST_RFLAGS, vmx->rflags);
	vmx_wr(vmx, GUEST_IA32_DEBUGCTL, 0);
	vmx_wr(vmx, GUEST_IA32_PAT, 0x0007040600070406ULL);
	vmx_write_efer(vmx, 0);
	vmx_wr(vmx, GUEST_SYSENTER_CS, 0);
	vmx_wr(vmx, GUEST_SYSENTER_ESP, 0);
	vmx_wr(vmx, GUEST_SYSENTER_EIP, 0);
	vmx_wr(vmx, GUEST_INTERRUPTIBILITY_INFO, 0);
	vmx_wr(vmx, GUEST_ACTIVITY_STATE, 0);
	vmx_wr(vmx, GUEST_PENDING_DBG_EXCEPTIONS, 0);
	for (i = 0; i < 4; i++)
		vmx_wr(vmx, GUEST_PDPTR0 + 2 * i, 0);
	vmx_wr(vmx, VM_ENTRY_INTR_INFO_FIELD, 0);
	for (i = 0; i < VMX_NR_SWITCHED; i++) {
		vmx->msrs->guest[i].index = vmx_switched_msrs[i];
		vmx->msrs->guest[i].value = 0;
	}
	mv_msr_reset(vmx->vcpu);
	/* the guest's TSC counts from about zero */
	vmx_wr(vmx, TSC_OFFSET, -rdtsc());
	vmx->flush = true;
	if (vmx->shadow)
		vmx_shadow_hw(vmx);
}

/* The controls and the host state every CPU shares; VMCS current. */
static void vmx_init_vmcs(struct vmx_vcpu *vmx)
{
	u64 v;

	vmx_wr(vmx, PIN_BASED_VM_EXEC_CONTROL, vmx_ctls.pin);
	vmx_wr(vmx, CPU_BASED_VM_EXEC_CONTROL, vmx_ctls.proc |
	       (vmx->shadow ? vmx_ctls.shadow_proc : 0));
	vmx_wr(vmx, SECONDARY_VM_EXEC_CONTROL, vmx_proc2(vmx));
	vmx_wr(vmx, VM_EXIT_CONTROLS, vmx_ctls.exit);
	vmx_wr(vmx, VM_ENTRY_CONTROLS, vmx_ctls.entry);
	/*
	 * #DB, #AC and #MC always (kmod/exc.c); shadow paging: every #PF
	 * (the error-code mask and match are 0)
	 */
	vmx_wr(vmx, EXCEPTION_BITMAP, BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) |
	       BIT(X86_TRAP_MC) | (vmx->shadow ? BIT(X86_TRAP_PF) : 0));
	vmx_wr(vmx, PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmx_wr(vmx, PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmx_wr(vmx, CR3_TARGET_COUNT, 0);
	vmx_wr(vmx, CR0_GUEST_HOST_MASK, vmx_cr0_mask(vmx));
	vmx_wr(vmx, CR4_GUEST_HOST_MASK, vmx_cr4_mask(vmx));
	vmx_wr(vmx, MSR_BITMAP, __pa(vmx_msr_bitmap));
	/* the EPTP: from the MMU before every entry (vmx_load_mmu_root()) */
	vmx->eptp = 0;
	if (vmx->vpid)
		vmx_wr(vmx, VIRTUAL_PROCESSOR_ID, vmx->vpid);
	vmx_wr(vmx, VM_EXIT_MSR_STORE_ADDR, __pa(vmx->msrs->guest));
	vmx_wr(vmx, VM_EXIT_MSR_STORE_COUNT, VMX_NR_SWITCHED);
	vmx_wr(vmx, VM_ENTRY_MSR_LOAD_ADDR, __pa(vmx->msrs->guest));
	vmx_wr(vmx, VM_ENTRY_MSR_LOAD_COUNT, VMX_NR_SWITCHED);
	vmx_wr(vmx, VM_EXIT_MSR_LOAD_ADDR, __pa(vmx->msrs->host));
	vmx_wr(vmx, VM_EXIT_MSR_LOAD_COUNT, VMX_NR_SWITCHED);
	vmx_wr(vmx, VMCS_LINK_POINTER, ~0ULL);

	/* the VM exit comes back to the kernel's segments, at vmenter.S */
	vmx_wr(vmx, HOST_CS_SELECTOR, __KERNEL_CS);
	vmx_wr(vmx, HOST_SS_SELECTOR, __KERNEL_DS);
	vmx_wr(vmx, HOST_DS_SELECTOR, 0);
	vmx_wr(vmx, HOST_ES_SELECTOR, 0);
	vmx_wr(vmx, HOST_FS_SELECTOR, 0);
	vmx_wr(vmx, HOST_GS_SELECTOR, 0);
	vmx_wr(vmx, HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	vmx_wr(vmx, HOST_RIP, (unsigned long)mv_vmx_vmexit);
	rdmsrl(MSR_EFER, v);
	vmx_wr(vmx, HOST_IA32_EFER, v);
	rdmsrl(MSR_IA32_CR_PAT, v);
	vmx_wr(vmx, HOST_IA32_PAT, v);
	vmx_wr(vmx, HOST_FS_BASE, 0);
}

/**
 * vmx_vcpu_create() - the vcpu_create op: a VMCS and MSR areas, in reset
 *	state
 * @vcpu: the new vCPU
 *
 * Return: 0, -ENOMEM, or -EIO when a VMX instruction failed.
 */
int vmx_vcpu_create(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx;
	int r;

	vmx = kzalloc(sizeof(*vmx), GFP_KERNEL_ACCOUNT);
	if (!vmx)
		return -ENOMEM;
	vmx->vcpu = vcpu;
	vmx->cpu = -1;
	INIT_LIST_HEAD(&vmx->link);
	vmx->vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vmx->msrs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	r = -ENOMEM;
	if (!vmx->vmcs || !vmx->msrs)
		goto fail;
	*(u32 *)vmx->vmcs = vmx_revision;
	vmx->vmcs_pa = __pa(vmx->vmcs);
	/* launch state clear before the first VMPTRLD */
	r = vmx_vmclear(vmx->vmcs_pa);
	if (r) {
		pr_err("minivisor: VMCLEAR of a new VMCS failed: %d\n", r);
		r = -EIO;
		goto fail;
	}
	if (vmx_ctls.vpid)
		vmx->vpid = vmx_alloc_vpid();
	vmx->shadow = mv_mmu_is_shadow(vcpu->vm);
	vcpu->priv = vmx;

	vmx_get(vcpu);
	vmx_init_vmcs(vmx);
	vmx_reset_guest(vmx);
	vmx_put();
	if (vmx->vmcs_failed) {
		r = -EIO;
		goto free_vpid;
	}
	return 0;

free_vpid:
	if (READ_ONCE(vmx->cpu) >= 0)
		smp_call_function_single(vmx->cpu, vmx_clear_ipi, vmx, 1);
	vmx_free_vpid(vmx->vpid);
	vcpu->priv = NULL;
fail:
	free_page((unsigned long)vmx->msrs);
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
	return r;
}

/**
 * vmx_vcpu_free() - the vcpu_free op: VMCLEAR the VMCS, free it all
 * @vcpu: the vCPU
 */
void vmx_vcpu_free(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	int cpu = READ_ONCE(vmx->cpu);

	mv_spec_forget_vm(vcpu->vm);
	/* an offline CPU cleared it on its way down */
	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_clear_ipi, vmx, 1);
	vmx_free_vpid(vmx->vpid);
	free_page((unsigned long)vmx->msrs);
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
	vcpu->priv = NULL;
}

/**
 * vmx_vcpu_load() - the vcpu_load op: load the VMCS on this CPU
 * @vcpu: the vCPU
 * @cpu: this CPU
 */
void vmx_vcpu_load(struct mv_vcpu *vcpu, int cpu)
{
	vmx_load(vcpu->priv);
}

/**
 * vmx_vcpu_put() - the vcpu_put op: nothing, the VMCS stays loaded
 * @vcpu: the vCPU
 */
void vmx_vcpu_put(struct mv_vcpu *vcpu)
{
}
