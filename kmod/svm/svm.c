// SPDX-License-Identifier: GPL-2.0
/*
 * The AMD-V (SVM) backend: EFER.SVME and the host save area per CPU.
 *
 * Everything SVM specific lives under svm/; the core reaches it only
 * through mv_svm_ops.
 */
#include <linux/gfp.h>
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/minivisor.h>
#include <linux/slab.h>
#include <asm/asm.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/page.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>

#include "../cr.h"
#include "../crinsn.h"
#include "../event.h"
#include "../exc.h"
#include "../exit.h"
#include "../fpu.h"
#include "../mmu/mmu.h"
#include "../mmu/tdp.h"
#include "../msr.h"
#include "../mv.h"
#include "../ops.h"
#include "../spec.h"
#include "../vcpu.h"
#include "../vm.h"
#include "vmcb.h"
#include "vmenter.h"

/* VM_CR bit 4 (AMD APM vol. 2, 15.30.1): SVM disabled by firmware */
#define VM_CR_SVMDIS		BIT_ULL(4)

/**
 * struct svm_cpu - what SVM needs of each CPU
 * @hsave: the host save area VMRUN uses (VM_HSAVE_PA)
 * @host_vmcb: where VMSAVE keeps the host state VMRUN does not switch
 * @asid_gen: the ASID generation; a vCPU whose ASID is of an older one, or
 *	of another CPU, takes a new ASID before it runs here
 * @next_asid: the next free ASID of this generation
 *
 * Allocated at setup for every possible CPU; @asid_gen and @next_asid are
 * touched only by their CPU with interrupts off.
 */
struct svm_cpu {
	struct page *hsave;
	struct page *host_vmcb;
	u32 asid_gen;
	u32 next_asid;
};

static DEFINE_PER_CPU(struct svm_cpu, svm_cpu);
/* (c) the highest ASID the CPU has (CPUID 0x8000000a EBX - 1) */
static u32 svm_max_asid;
/* (c) the I/O and MSR permission maps: every port and MSR intercepted */
static void *svm_iopm, *svm_msrpm;

/**
 * struct svm_vcpu - a vCPU's SVM state
 * @vmcb: its VMCB
 * @vmcb_pa: its physical address
 * @regs: the general registers but RAX and RSP, by x86 number
 * @asid: the ASID it runs with on @asid_cpu
 * @asid_gen: the generation of @asid
 * @asid_cpu: the CPU @asid belongs to
 * @shadow: the VM runs on shadow tables: NPT is off, and the VMCB holds
 *	the CR0, CR3, CR4 and EFER the hardware needs; the guest's own are
 *	in vcpu->cr (c).  In TDP mode the VMCB holds the guest's CR0, CR3
 *	and EFER (with SVME) and vcpu->cr caches them (svm_read_cr()); CR4
 *	is intercepted in both modes and kept in vcpu->cr, the VMCB's having
 *	the host's CR4.MCE too (svm_hw_cr4())
 * @dr: the guest's debug registers; the VMCB holds its DR7, and a DR6 of
 *	MV_DR6_INIT that tells the next #DB's bits apart (kmod/exc.c)
 */
struct svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	unsigned long regs[16];
	u32 asid;
	u32 asid_gen;
	int asid_cpu;
	bool shadow;
	struct mv_dr dr;
};

/* NPT entries are long-mode page-table entries, accessed as user. */
static const struct mv_tdp_format svm_npt_format = {
	.present = _PAGE_PRESENT,
	.table = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED,
	.leaf = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY,
	.leaf_write = _PAGE_RW,
	.large = _PAGE_PSE,
	/* the nested walk has the host's paging levels (hCR4.LA57) */
	.host_levels = true,
};

static void svm_free_cpus(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sd = per_cpu_ptr(&svm_cpu, cpu);

		if (sd->hsave)
			__free_page(sd->hsave);
		if (sd->host_vmcb)
			__free_page(sd->host_vmcb);
		sd->hsave = NULL;
		sd->host_vmcb = NULL;
	}
}

static int svm_hardware_setup(const struct mv_cpu_caps *caps)
{
	int cpu;

	svm_max_asid = cpuid_ebx(0x8000000a) - 1;
	if (!svm_max_asid)
		return -ENODEV;
	for_each_possible_cpu(cpu) {
		struct svm_cpu *sd = per_cpu_ptr(&svm_cpu, cpu);
		int node = cpu_to_node(cpu);

		sd->hsave = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		sd->host_vmcb = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO,
						 0);
		if (!sd->hsave || !sd->host_vmcb)
			goto fail;
		sd->asid_gen = 1;
		sd->next_asid = 1;
	}
	/* 12 KiB of I/O bits and 8 KiB of MSR bits, all set: intercept */
	svm_iopm = (void *)__get_free_pages(GFP_KERNEL, 2);
	svm_msrpm = (void *)__get_free_pages(GFP_KERNEL, 1);
	if (!svm_iopm || !svm_msrpm)
		goto fail;
	memset(svm_iopm, 0xff, PAGE_SIZE << 2);
	memset(svm_msrpm, 0xff, PAGE_SIZE << 1);
	return 0;

fail:
	free_pages((unsigned long)svm_iopm, 2);
	free_pages((unsigned long)svm_msrpm, 1);
	svm_iopm = NULL;
	svm_msrpm = NULL;
	svm_free_cpus();
	return -ENOMEM;
}

static void svm_hardware_unsetup(void)
{
	free_pages((unsigned long)svm_iopm, 2);
	free_pages((unsigned long)svm_msrpm, 1);
	svm_free_cpus();
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
			page_to_phys(this_cpu_ptr(&svm_cpu)->hsave))) {
		wrmsrl(MSR_EFER, efer);
		return -EIO;
	}
	/* another hypervisor may have used ASIDs: flush before the first */
	this_cpu_ptr(&svm_cpu)->next_asid = svm_max_asid + 1;
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

/* ---------------------------------------------------------------- vCPUs */

static void svm_set_seg(struct vmcb_seg *seg, u16 sel, u64 base, u32 limit,
			u16 attrib)
{
	seg->selector = sel;
	seg->base = base;
	seg->limit = limit;
	seg->attrib = attrib;
}

/*
 * The CR4 the hardware runs the guest with: its own, with MCE kept as the
 * host has it, so that a machine check in the guest raises the #MC the
 * host intercepts, not a shutdown.  Guest reads and writes of CR4 exit.
 */
static u64 svm_hw_cr4(u64 cr4)
{
	return cr4 | (cr4_read_shadow() & X86_CR4_MCE);
}

/*
 * Shadow paging: what the hardware runs with, from the guest's registers.
 * Paging is always on, on the shadow tables (a paging-off guest runs in
 * SVM's paged real mode, APM vol. 2, 15.19, on a shadow that maps each
 * address to itself); they are PAE or 4-level, with NX, and write-protect
 * guest tables even from the guest kernel (WP).  The shadow's U bits are
 * the guest's, so SMEP and SMAP work, except in paged real mode where all
 * is supervisor.  PCIDs are not used by the hardware: the MMU flushes on
 * every root change.
 */
static void svm_shadow_hw(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;
	struct vmcb_save *save = &svm->vmcb->save;
	u64 cr0 = mv_read_cr0(vcpu);
	u64 cr4 = (mv_read_cr4(vcpu) | X86_CR4_PAE) & ~X86_CR4_PCIDE;
	u64 efer = mv_read_efer(vcpu) | EFER_NX | EFER_SVME;

	save->cr0 = (cr0 | X86_CR0_PG | X86_CR0_WP) &
		~(X86_CR0_CD | X86_CR0_NW);
	if (!(cr0 & X86_CR0_PG))
		cr4 &= ~(X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE);
	if (!(efer & EFER_LMA))
		efer &= ~EFER_LME;
	save->cr4 = svm_hw_cr4(cr4);
	save->efer = efer;
	mv_mmu_paging_changed(vcpu, true);
}

/* The architectural reset state (APM vol. 2, 14.1.3) and our intercepts. */
static void svm_init_vmcb(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_control *c = &vmcb->control;
	struct vmcb_save *save = &vmcb->save;

	memset(vmcb, 0, PAGE_SIZE);
	memset(svm->regs, 0, sizeof(svm->regs));

	c->intercept_misc1 = SVM_I1_INTR | SVM_I1_NMI | SVM_I1_SMI |
		SVM_I1_INIT | SVM_I1_RDPMC | SVM_I1_CPUID | SVM_I1_INVD |
		SVM_I1_HLT |
		SVM_I1_INVLPGA | SVM_I1_IOIO | SVM_I1_MSR | SVM_I1_SHUTDOWN;
	c->intercept_misc2 = SVM_I2_VMRUN | SVM_I2_VMMCALL | SVM_I2_VMLOAD |
		SVM_I2_VMSAVE | SVM_I2_STGI | SVM_I2_CLGI | SVM_I2_SKINIT |
		SVM_I2_RDTSCP | SVM_I2_WBINVD | SVM_I2_MONITOR |
		SVM_I2_MWAIT | SVM_I2_MWAIT_COND | SVM_I2_XSETBV;
	/*
	 * Not ICEBP: INT1's #DB, which the #DB intercept does not see (APM
	 * vol. 2, 15.12), goes through the guest's IDT as on bare metal, as
	 * in KVM.  A #DB its delivery raises is intercepted.
	 */
	/* MOV to and from DR0-DR7; #DB, #AC and #MC (kmod/exc.c) */
	c->intercept_dr = 0x00ff00ff;
	c->intercept_exceptions = BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) |
		BIT(X86_TRAP_MC);
	c->iopm_base_pa = __pa(svm_iopm);
	c->msrpm_base_pa = __pa(svm_msrpm);
	c->int_ctl = SVM_INT_CTL_V_INTR_MASKING;
	if (svm->shadow) {
		/*
		 * No read shadows on SVM: CR0, CR3 and CR4 differ from the
		 * guest's, so reads are intercepted as well as writes.
		 */
		c->intercept_cr = BIT(0) | BIT(3) | BIT(4) |
			BIT(16 + 0) | BIT(16 + 3) | BIT(16 + 4);
		c->intercept_exceptions |= BIT(X86_TRAP_PF);
		c->intercept_misc1 |= SVM_I1_INVLPG;
	} else {
		/*
		 * CR4 reads and writes: the hardware's has MCE forced, and
		 * writes go through kmod/cr.c's rules (no CET or PKS over
		 * the host's unswitched MSRs, nothing the guest CPUID denies)
		 */
		c->intercept_cr = BIT(4) | BIT(16 + 4);
		/* nCR3: from the MMU before every entry (svm_load_mmu_root()) */
		c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	}

	svm_set_seg(&save->cs, 0xf000, 0xffff0000, 0xffff,
		    SVM_ATTR_P | SVM_ATTR_S | 0xb);
	svm_set_seg(&save->ds, 0, 0, 0xffff, SVM_ATTR_P | SVM_ATTR_S | 0x3);
	save->es = save->ds;
	save->ss = save->ds;
	save->fs = save->ds;
	save->gs = save->ds;
	svm_set_seg(&save->gdtr, 0, 0, 0xffff, 0);
	svm_set_seg(&save->idtr, 0, 0, 0xffff, 0);
	svm_set_seg(&save->ldtr, 0, 0, 0xffff, SVM_ATTR_P | 0x2);
	svm_set_seg(&save->tr, 0, 0, 0xffff, SVM_ATTR_P | 0x3);
	/* in TDP mode the guest writes CR0 and CR3 (and so EFER.LMA) freely */
	mv_cr_reset(vcpu, svm->shadow ? 0 :
		    BIT(MV_CR0) | BIT(MV_CR3) | BIT(MV_EFER));
	save->cr0 = mv_read_cr0(vcpu);
	mv_dr_reset(&svm->dr);
	save->dr6 = MV_DR6_INIT;
	save->dr7 = svm->dr.dr7;
	save->rflags = X86_EFLAGS_FIXED;
	save->rip = 0xfff0;
	save->g_pat = 0x0007040600070406ULL;
	/* the guest's EFER, with SVME, which VMRUN needs, hidden from it */
	save->efer = EFER_SVME;
	/* EDX holds the processor signature after reset */
	svm->regs[2] = 0x600;
	mv_msr_reset(vcpu);
	/* the guest's TSC counts from about zero */
	c->tsc_offset = -rdtsc();
	/* a fresh ASID before the next entry */
	svm->asid_gen = 0;
	save->cr4 = svm_hw_cr4(mv_read_cr4(vcpu));
	if (svm->shadow)
		svm_shadow_hw(vcpu);
}

static int svm_vcpu_create(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm;

	svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);
	if (!svm)
		return -ENOMEM;
	svm->vmcb = (struct vmcb *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!svm->vmcb) {
		kfree(svm);
		return -ENOMEM;
	}
	svm->vmcb_pa = __pa(svm->vmcb);
	svm->asid_cpu = -1;
	svm->shadow = mv_mmu_is_shadow(vcpu->vm);
	vcpu->priv = svm;
	svm_init_vmcb(vcpu);
	return 0;
}

static void svm_vcpu_free(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;

	mv_spec_forget_vm(vcpu->vm);
	free_page((unsigned long)svm->vmcb);
	kfree(svm);
	vcpu->priv = NULL;
}

static void svm_vcpu_load(struct mv_vcpu *vcpu, int cpu)
{
}

static void svm_vcpu_put(struct mv_vcpu *vcpu)
{
}

static void svm_get_regs(struct mv_vcpu *vcpu, struct kvm_regs *r)
{
	struct svm_vcpu *svm = vcpu->priv;
	const unsigned long *g = svm->regs;

	r->rax = svm->vmcb->save.rax;
	r->rcx = g[1];
	r->rdx = g[2];
	r->rbx = g[3];
	r->rsp = svm->vmcb->save.rsp;
	r->rbp = g[5];
	r->rsi = g[6];
	r->rdi = g[7];
	r->r8 = g[8];
	r->r9 = g[9];
	r->r10 = g[10];
	r->r11 = g[11];
	r->r12 = g[12];
	r->r13 = g[13];
	r->r14 = g[14];
	r->r15 = g[15];
	r->rip = svm->vmcb->save.rip;
	r->rflags = svm->vmcb->save.rflags;
}

static void svm_set_regs(struct mv_vcpu *vcpu, const struct kvm_regs *r)
{
	struct svm_vcpu *svm = vcpu->priv;
	unsigned long *g = svm->regs;

	svm->vmcb->save.rax = r->rax;
	g[1] = r->rcx;
	g[2] = r->rdx;
	g[3] = r->rbx;
	svm->vmcb->save.rsp = r->rsp;
	g[5] = r->rbp;
	g[6] = r->rsi;
	g[7] = r->rdi;
	g[8] = r->r8;
	g[9] = r->r9;
	g[10] = r->r10;
	g[11] = r->r11;
	g[12] = r->r12;
	g[13] = r->r13;
	g[14] = r->r14;
	g[15] = r->r15;
	svm->vmcb->save.rip = r->rip;
	/* bit 1 is always 1 */
	svm->vmcb->save.rflags = r->rflags | X86_EFLAGS_FIXED;
}

static void svm_seg_to_kvm(const struct vmcb_seg *s, struct kvm_segment *k)
{
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->selector;
	k->type = s->attrib & SVM_ATTR_TYPE_MASK;
	k->s = !!(s->attrib & SVM_ATTR_S);
	k->dpl = (s->attrib >> SVM_ATTR_DPL_SHIFT) & 3;
	k->present = !!(s->attrib & SVM_ATTR_P);
	k->avl = !!(s->attrib & SVM_ATTR_AVL);
	k->l = !!(s->attrib & SVM_ATTR_L);
	k->db = !!(s->attrib & SVM_ATTR_DB);
	k->g = !!(s->attrib & SVM_ATTR_G);
	k->unusable = !k->present;
}

static void svm_seg_from_kvm(struct vmcb_seg *s, const struct kvm_segment *k)
{
	s->base = k->base;
	s->limit = k->limit;
	s->selector = k->selector;
	s->attrib = 0;
	if (k->unusable)
		return;
	s->attrib = (k->type & SVM_ATTR_TYPE_MASK) |
		(k->s ? SVM_ATTR_S : 0) |
		((k->dpl & 3) << SVM_ATTR_DPL_SHIFT) |
		(k->present ? SVM_ATTR_P : 0) |
		(k->avl ? SVM_ATTR_AVL : 0) |
		(k->l ? SVM_ATTR_L : 0) |
		(k->db ? SVM_ATTR_DB : 0) |
		(k->g ? SVM_ATTR_G : 0);
}

static void svm_get_sregs(struct mv_vcpu *vcpu, struct kvm_sregs *sr)
{
	struct svm_vcpu *svm = vcpu->priv;
	const struct vmcb_save *save = &svm->vmcb->save;

	svm_seg_to_kvm(&save->cs, &sr->cs);
	svm_seg_to_kvm(&save->ds, &sr->ds);
	svm_seg_to_kvm(&save->es, &sr->es);
	svm_seg_to_kvm(&save->fs, &sr->fs);
	svm_seg_to_kvm(&save->gs, &sr->gs);
	svm_seg_to_kvm(&save->ss, &sr->ss);
	svm_seg_to_kvm(&save->tr, &sr->tr);
	svm_seg_to_kvm(&save->ldtr, &sr->ldt);
	sr->gdt.base = save->gdtr.base;
	sr->gdt.limit = save->gdtr.limit;
	sr->idt.base = save->idtr.base;
	sr->idt.limit = save->idtr.limit;
	mv_cr_get_sregs(vcpu, sr);
	sr->cr2 = save->cr2;
	sr->cr8 = svm->vmcb->control.int_ctl & SVM_INT_CTL_V_TPR_MASK;
	sr->apic_base = vcpu->apic_base;
}

/*
 * The read_cr op: in TDP mode the VMCB holds the guest's CR0, CR3 and EFER
 * (with SVME, hidden from it).  CR4 is never the guest's (svm_hw_cr4()),
 * and never asked for.
 */
static u64 svm_read_cr(struct mv_vcpu *vcpu, enum mv_cr_reg reg)
{
	struct svm_vcpu *svm = vcpu->priv;
	struct vmcb_save *save = &svm->vmcb->save;

	switch (reg) {
	case MV_CR0:
		return save->cr0;
	case MV_CR3:
		return save->cr3;
	case MV_EFER:
		return save->efer & ~EFER_SVME;
	default:
		return vcpu->cr.val[reg];
	}
}

static int svm_set_sregs(struct mv_vcpu *vcpu, const struct kvm_sregs *sr)
{
	struct svm_vcpu *svm = vcpu->priv;
	struct vmcb_save *save = &svm->vmcb->save;

	/* kmod/cr.c's checks, KVM's; VMRUN checks the rest */
	if (sr->cr8 > 15 || !mv_vcpu_sregs_valid(vcpu, sr))
		return mv_fail(-EINVAL);

	svm_seg_from_kvm(&save->cs, &sr->cs);
	svm_seg_from_kvm(&save->ds, &sr->ds);
	svm_seg_from_kvm(&save->es, &sr->es);
	svm_seg_from_kvm(&save->fs, &sr->fs);
	svm_seg_from_kvm(&save->gs, &sr->gs);
	svm_seg_from_kvm(&save->ss, &sr->ss);
	svm_seg_from_kvm(&save->tr, &sr->tr);
	svm_seg_from_kvm(&save->ldtr, &sr->ldt);
	save->gdtr.base = sr->gdt.base;
	save->gdtr.limit = sr->gdt.limit;
	save->idtr.base = sr->idt.base;
	save->idtr.limit = sr->idt.limit;
	mv_cr_set_sregs(vcpu, sr);
	save->cr0 = sr->cr0;
	save->cr2 = sr->cr2;
	save->cr3 = sr->cr3;
	save->cr4 = svm_hw_cr4(sr->cr4);
	svm->vmcb->control.int_ctl = sr->cr8 |
		(svm->vmcb->control.int_ctl & ~SVM_INT_CTL_V_TPR_MASK);
	save->cpl = (save->cs.attrib >> SVM_ATTR_DPL_SHIFT) & 3;
	save->efer = sr->efer | EFER_SVME;
	vcpu->apic_base = sr->apic_base;
	if (svm->shadow) {
		svm_shadow_hw(vcpu);
	} else {
		/*
		 * New paging state (a MOV to CR4 of PGE or PCIDE among them):
		 * a fresh ASID, no old mapping survives.
		 */
		svm->asid_gen = 0;
	}
	return 0;
}

/* Gives the vCPU an ASID that is valid, and clean, on this CPU. */
static void svm_pick_asid(struct svm_vcpu *svm, int cpu)
{
	struct svm_cpu *sd = per_cpu_ptr(&svm_cpu, cpu);

	if (svm->asid_cpu == cpu && svm->asid_gen == sd->asid_gen)
		return;
	if (sd->next_asid > svm_max_asid) {
		sd->asid_gen++;
		sd->next_asid = 1;
		svm->vmcb->control.tlb_ctl = SVM_TLB_CONTROL_FLUSH_ALL;
	}
	svm->asid = sd->next_asid++;
	svm->asid_gen = sd->asid_gen;
	svm->asid_cpu = cpu;
	svm->vmcb->control.asid = svm->asid;
}

static void svm_inject_exception(struct svm_vcpu *svm, u8 vector,
				 bool has_error, u32 error)
{
	svm->vmcb->control.event_inj = vector | SVM_EVTINJ_TYPE_EXCEPT |
		SVM_EVTINJ_VALID | (has_error ? SVM_EVTINJ_VALID_ERR : 0) |
		((u64)error << 32);
}

/* The inject_exception op: a #PF also sets CR2, as the hardware would. */
static void svm_queue_exception(struct mv_vcpu *vcpu, u8 vector,
				bool has_error, u32 error, u64 cr2)
{
	struct svm_vcpu *svm = vcpu->priv;

	if (vector == X86_TRAP_PF)
		svm->vmcb->save.cr2 = cr2;
	svm_inject_exception(svm, vector, has_error, error);
}

/*
 * The queued_event op: what event_inj holds (the event whose delivery the
 * exit interrupted, queued again after the exit, or one injected since).
 */
static bool svm_queued_event(struct mv_vcpu *vcpu, struct mv_event *ev,
			     bool take)
{
	struct svm_vcpu *svm = vcpu->priv;
	u64 inj = svm->vmcb->control.event_inj;

	if (!(inj & SVM_EVTINJ_VALID))
		return false;
	ev->vector = inj & SVM_EVTINJ_VEC_MASK;
	switch (inj & SVM_EVTINJ_TYPE_MASK) {
	case SVM_EVTINJ_TYPE_INTR:
		ev->type = MV_EVENT_EXT_INTR;
		break;
	case SVM_EVTINJ_TYPE_NMI:
		ev->type = MV_EVENT_NMI;
		break;
	case SVM_EVTINJ_TYPE_EXCEPT:
		/* INT3 and INTO come as exceptions: theirs are soft */
		ev->type = ev->vector == X86_TRAP_BP || ev->vector == X86_TRAP_OF ?
			MV_EVENT_SOFT : MV_EVENT_EXCEPTION;
		break;
	default:
		ev->type = MV_EVENT_SOFT;
		break;
	}
	ev->has_error = inj & SVM_EVTINJ_VALID_ERR;
	ev->error = inj >> 32;
	if (take)
		svm->vmcb->control.event_inj = 0;
	return true;
}

/* The get_rflags op */
static unsigned long svm_get_rflags(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;

	return svm->vmcb->save.rflags;
}

/* The in_interrupt_shadow op */
static bool svm_in_interrupt_shadow(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;

	return svm->vmcb->control.int_state & SVM_INT_SHADOW;
}

/* The end_interrupt_shadow op */
static void svm_end_interrupt_shadow(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;

	svm->vmcb->control.int_state &= ~SVM_INT_SHADOW;
}

/* The inject_irq op */
static void svm_inject_irq(struct mv_vcpu *vcpu, u8 vector)
{
	struct svm_vcpu *svm = vcpu->priv;

	svm->vmcb->control.event_inj = vector | SVM_EVTINJ_TYPE_INTR |
		SVM_EVTINJ_VALID;
}

/*
 * The enable_irq_window op: a virtual interrupt of the highest priority,
 * regardless of the virtual TPR, and its intercept, which exits as soon
 * as the guest would take it (RFLAGS.IF set, no shadow); the VINTR exit
 * takes it away again.
 */
static void svm_enable_irq_window(struct mv_vcpu *vcpu)
{
	struct vmcb_control *c = &((struct svm_vcpu *)vcpu->priv)->vmcb->control;

	c->int_ctl |= SVM_INT_CTL_V_IRQ | SVM_INT_CTL_V_INTR_PRIO_MASK |
		SVM_INT_CTL_V_IGN_TPR;
	c->intercept_misc1 |= SVM_I1_VINTR;
}

static int svm_handle_vintr(struct mv_vcpu *vcpu)
{
	struct vmcb_control *c = &((struct svm_vcpu *)vcpu->priv)->vmcb->control;

	c->int_ctl &= ~(SVM_INT_CTL_V_IRQ | SVM_INT_CTL_V_INTR_PRIO_MASK |
			SVM_INT_CTL_V_IGN_TPR);
	c->intercept_misc1 &= ~SVM_I1_VINTR;
	WRITE_ONCE(vcpu->stats.irq_window_exits,
		   vcpu->stats.irq_window_exits + 1);
	return 1;
}

/*
 * The get_cr8 op: with V_INTR_MASKING the guest's MOV to and from CR8 use
 * the VMCB's virtual TPR, without an exit.
 */
static u64 svm_get_cr8(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;

	return svm->vmcb->control.int_ctl & SVM_INT_CTL_V_TPR_MASK;
}

/* The set_cr8 op */
static void svm_set_cr8(struct mv_vcpu *vcpu, u64 cr8)
{
	struct svm_vcpu *svm = vcpu->priv;
	u64 *int_ctl = &svm->vmcb->control.int_ctl;

	*int_ctl = (*int_ctl & ~SVM_INT_CTL_V_TPR_MASK) | cr8;
}

/*
 * The deliver_db op: a #DB as the CPU raises one, DR6 and DR7 updated
 * (kmod/exc.c); DR7 is the VMCB's.
 */
static void svm_deliver_db(struct mv_vcpu *vcpu, unsigned long payload)
{
	struct svm_vcpu *svm = vcpu->priv;

	mv_dr_deliver_db(&svm->dr, payload);
	svm->vmcb->save.dr7 = svm->dr.dr7;
	mv_inject_exception(vcpu, X86_TRAP_DB, false, 0, 0);
}

/* Past the instruction the exit stopped at, done here; its single step. */
static void svm_skip(struct mv_vcpu *vcpu, unsigned int len)
{
	struct svm_vcpu *svm = vcpu->priv;
	u64 rflags = svm->vmcb->save.rflags;

	svm->vmcb->save.rip += len;
	/* the instruction completed: its breakpoints count again */
	svm->vmcb->save.rflags &= ~X86_EFLAGS_RF;
	mv_single_step(vcpu, rflags);
}

static int svm_exit_internal(struct mv_vcpu *vcpu, u32 suberror)
{
	struct svm_vcpu *svm = vcpu->priv;
	const u64 data[3] = {
		svm->vmcb->control.exit_code,
		svm->vmcb->control.exit_info_1,
		svm->vmcb->control.exit_info_2,
	};

	return mv_exit_internal(vcpu, suberror, data, ARRAY_SIZE(data));
}

static int svm_handle_io(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;
	u64 info = svm->vmcb->control.exit_info_1;
	struct mv_io_exit io = {
		.port = info >> SVM_IOIO_PORT_SHIFT,
		.size = (info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT,
		.in = info & SVM_IOIO_IN,
		.string = info & SVM_IOIO_STR,
		/* exit_info_2 is the address of the next instruction */
		.insn_len = svm->vmcb->control.exit_info_2 -
			svm->vmcb->save.rip,
	};

	return mv_exit_io(vcpu, &io);
}

static int svm_handle_npf(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;

	return mv_exit_tdp_fault(vcpu, svm->vmcb->control.exit_info_2,
				 svm->vmcb->control.exit_info_1 &
				 SVM_NPF_WRITE);
}

static int svm_get_msr(struct mv_vcpu *vcpu, u32 index, u64 *data)
{
	struct svm_vcpu *svm = vcpu->priv;
	struct vmcb_save *save = &svm->vmcb->save;

	switch (index) {
	case MSR_IA32_SYSENTER_CS:
		*data = save->sysenter_cs;
		break;
	case MSR_IA32_SYSENTER_ESP:
		*data = save->sysenter_esp;
		break;
	case MSR_IA32_SYSENTER_EIP:
		*data = save->sysenter_eip;
		break;
	case MSR_STAR:
		*data = save->star;
		break;
	case MSR_LSTAR:
		*data = save->lstar;
		break;
	case MSR_CSTAR:
		*data = save->cstar;
		break;
	case MSR_SYSCALL_MASK:
		*data = save->sfmask;
		break;
	case MSR_KERNEL_GS_BASE:
		*data = save->kernel_gs_base;
		break;
	case MSR_FS_BASE:
		*data = save->fs.base;
		break;
	case MSR_GS_BASE:
		*data = save->gs.base;
		break;
	case MSR_IA32_TSC:
		*data = rdtsc() + svm->vmcb->control.tsc_offset;
		break;
	case MSR_IA32_CR_PAT:
		*data = save->g_pat;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* The set_msr op: the value is checked (kmod/msr.c); store it */
static int svm_set_msr(struct mv_vcpu *vcpu, u32 index, u64 data)
{
	struct svm_vcpu *svm = vcpu->priv;
	struct vmcb_save *save = &svm->vmcb->save;

	switch (index) {
	case MSR_IA32_SYSENTER_CS:
		save->sysenter_cs = data;
		break;
	case MSR_IA32_SYSENTER_ESP:
		save->sysenter_esp = data;
		break;
	case MSR_IA32_SYSENTER_EIP:
		save->sysenter_eip = data;
		break;
	case MSR_STAR:
		save->star = data;
		break;
	case MSR_LSTAR:
		save->lstar = data;
		break;
	case MSR_CSTAR:
		save->cstar = data;
		break;
	case MSR_SYSCALL_MASK:
		save->sfmask = data;
		break;
	case MSR_KERNEL_GS_BASE:
		save->kernel_gs_base = data;
		break;
	case MSR_FS_BASE:
		save->fs.base = data;
		break;
	case MSR_GS_BASE:
		save->gs.base = data;
		break;
	case MSR_IA32_TSC:
		svm->vmcb->control.tsc_offset = data - rdtsc();
		break;
	case MSR_IA32_CR_PAT:
		save->g_pat = data;
		break;
	case MSR_EFER:
		/* vcpu->cr has the new value */
		if (svm->shadow)
			svm_shadow_hw(vcpu);
		else
			save->efer = data | EFER_SVME;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* RDMSR and WRMSR: the MSRs mv_msr_known() lists, a #GP for the rest. */
static int svm_handle_msr(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;
	u32 index = svm->regs[1];
	u64 data;
	int r;

	if (svm->vmcb->control.exit_info_1) {
		data = (u32)svm->vmcb->save.rax | (svm->regs[2] << 32);
		r = mv_msr_set(vcpu, index, data, false);
	} else {
		r = mv_msr_get(vcpu, index, &data, false);
		if (!r) {
			svm->vmcb->save.rax = (u32)data;
			svm->regs[2] = data >> 32;
		}
	}
	if (r)
		svm_inject_exception(svm, X86_TRAP_GP, true, 0);
	else
		svm_skip(vcpu, 2);
	return 1;
}

/* MOV to or from DR0-DR7: carried out on svm->dr (kmod/exc.c) */
static int svm_handle_dr(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;
	int r = mv_exit_dr_insn(vcpu, &svm->dr);

	svm->vmcb->save.dr7 = svm->dr.dr7;
	return r;
}

/*
 * The exceptions every guest has intercepted, given back to it: a #DB with
 * the DR6 bits the run left in the VMCB (it began with MV_DR6_INIT), an
 * #AC with its error code, as the CPU pushes it, and RF set as for any
 * fault.  A #MC went to the host's handler already (svm_exit_irqoff()).
 */
static int svm_handle_exception(struct mv_vcpu *vcpu, unsigned int vector)
{
	struct svm_vcpu *svm = vcpu->priv;
	struct vmcb_save *save = &svm->vmcb->save;

	switch (vector) {
	case X86_TRAP_DB:
		svm_deliver_db(vcpu, save->dr6 ^ MV_DR6_INIT);
		return 1;
	case X86_TRAP_AC:
		save->rflags |= X86_EFLAGS_RF;
		mv_inject_exception(vcpu, X86_TRAP_AC, true,
				    svm->vmcb->control.exit_info_1, 0);
		return 1;
	case X86_TRAP_MC:
		return 1;
	default:
		return svm_exit_internal(vcpu,
				KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
	}
}

static int svm_handle_exit(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;
	struct kvm_run *run = vcpu->run;
	u64 code = svm->vmcb->control.exit_code;

	if (code >= SVM_EXIT_READ_CR0 && code <= SVM_EXIT_WRITE_CR15)
		return mv_exit_cr_insn(vcpu);
	if (code >= SVM_EXIT_READ_DR0 && code <= SVM_EXIT_WRITE_DR7)
		return svm_handle_dr(vcpu);
	switch (code) {
	case SVM_EXIT_EXCP_BASE + X86_TRAP_PF:
		/* exit_info_1: the error code, exit_info_2: the address */
		return mv_exit_guest_pf(vcpu, svm->vmcb->control.exit_info_2,
					svm->vmcb->control.exit_info_1);
	case SVM_EXIT_EXCP_BASE + X86_TRAP_DB:
	case SVM_EXIT_EXCP_BASE + X86_TRAP_AC:
	case SVM_EXIT_EXCP_BASE + X86_TRAP_MC:
		return svm_handle_exception(vcpu, code - SVM_EXIT_EXCP_BASE);
	case SVM_EXIT_INVLPG:
		return mv_exit_cr_insn(vcpu);
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
	case SVM_EXIT_INIT:
		/* the host takes it once GIF and interrupts are back on */
		return 1;
	case SVM_EXIT_VINTR:
		return svm_handle_vintr(vcpu);
	case SVM_EXIT_NPF:
		return svm_handle_npf(vcpu);
	case SVM_EXIT_IOIO:
		return svm_handle_io(vcpu);
	case SVM_EXIT_HLT:
		/* no in-kernel local APIC: userspace decides what HLT means */
		svm_skip(vcpu, 1);
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	case SVM_EXIT_CPUID: {
		u32 eax = svm->vmcb->save.rax, ebx, ecx = svm->regs[1], edx;

		mv_cpuid_emulate(vcpu, &eax, &ebx, &ecx, &edx);
		svm->vmcb->save.rax = eax;
		svm->regs[1] = ecx;
		svm->regs[2] = edx;
		svm->regs[3] = ebx;
		svm_skip(vcpu, 2);
		return 1;
	}
	case SVM_EXIT_MSR:
		return svm_handle_msr(vcpu);
	case SVM_EXIT_SHUTDOWN:
		/* the VMCB is undefined after a shutdown: start afresh */
		svm_init_vmcb(vcpu);
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case SVM_EXIT_INVD:
	case SVM_EXIT_WBINVD:
		/* no device sees the guest's caches: nothing to write back */
		svm_skip(vcpu, 2);
		return 1;
	case SVM_EXIT_RDPMC:
		/* the guest has no performance counters */
		svm_inject_exception(svm, X86_TRAP_GP, true, 0);
		return 1;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_RDTSCP:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND:
		svm_inject_exception(svm, X86_TRAP_UD, false, 0);
		return 1;
	case SVM_EXIT_XSETBV:
		/* 0f 01 d1 */
		return mv_exit_xsetbv(vcpu, svm->vmcb->save.cpl, 3);
	case SVM_EXIT_INVALID:
		run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		run->fail_entry.hardware_entry_failure_reason = code;
		run->fail_entry.cpu = vcpu->cpu;
		return 0;
	default:
		return svm_exit_internal(vcpu,
				KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
	}
}

/*
 * Right after the exit, interrupts still off: a machine check the guest
 * took goes to the host's handler now, as if it had come in the host.
 */
static void svm_exit_irqoff(struct svm_vcpu *svm)
{
	if (svm->vmcb->control.exit_code == SVM_EXIT_EXCP_BASE + X86_TRAP_MC)
		mv_machine_check_irqoff();
}

/* The flush_tlb op: the next entry takes a new ASID (svm_pick_asid()). */
static void svm_flush_tlb(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;

	svm->asid_gen = 0;
}

/* The load_mmu_root op: nCR3 for NPT, else the CR3 the hardware uses. */
static void svm_load_mmu_root(struct mv_vcpu *vcpu, u64 root, bool tdp)
{
	struct svm_vcpu *svm = vcpu->priv;

	if (tdp)
		svm->vmcb->control.nested_cr3 = root;
	else
		svm->vmcb->save.cr3 = root;
}

static int svm_vcpu_run(struct mv_vcpu *vcpu)
{
	struct svm_vcpu *svm = vcpu->priv;
	struct vmcb *vmcb = svm->vmcb;
	const u64 *spec_ctrl = NULL;
	bool dr_loaded;
	int cpu;

	preempt_disable();
	local_irq_disable();
	if (!mv_vcpu_enter_irqoff(vcpu)) {
		local_irq_enable();
		preempt_enable();
		return 1;
	}
	cpu = smp_processor_id();
	svm_pick_asid(svm, cpu);
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	mv_fpu_enter_irqoff(vcpu);

	vmcb->control.clean = 0;
	/* what the caller sees if VMRUN could not even start */
	vmcb->control.exit_code = SVM_EXIT_INVALID;
	/* the guest's SPEC_CTRL: switched by the CPU, or by mv_svm_vmrun() */
	if (mv_spec_host_spec_ctrl()) {
		if (boot_cpu_has(X86_FEATURE_V_SPEC_CTRL))
			vmcb->save.spec_ctrl = vcpu->spec_ctrl;
		else
			spec_ctrl = &vcpu->spec_ctrl;
	}
	mv_spec_enter_irqoff(vcpu->vm);

	vmcb->save.dr6 = MV_DR6_INIT;
	dr_loaded = mv_dr_enter_irqoff(&svm->dr);

	mv_guest_enter_irqoff();
	asm volatile("clgi" ::: "memory");
	/*
	 * With V_INTR_MASKING the host's RFLAGS.IF, as VMRUN finds it, decides
	 * whether physical interrupts exit the guest: it must be set.  GIF is
	 * clear, so nothing is taken here before VMRUN or after #VMEXIT.
	 */
	raw_local_irq_enable();
	mv_svm_vmrun(svm->vmcb_pa,
		     page_to_phys(per_cpu_ptr(&svm_cpu, cpu)->host_vmcb),
		     svm->regs, spec_ctrl);
	raw_local_irq_disable();
	mv_spec_exit_irqoff();
	mv_dr_exit_irqoff(dr_loaded);
	mv_fpu_exit_irqoff(vcpu);
	asm volatile("stgi" ::: "memory");
	svm_exit_irqoff(svm);
	mv_vcpu_exit_irqoff(vcpu);

	vmcb->control.tlb_ctl = 0;
	/*
	 * An event whose delivery the exit interrupted (a #PF or NPF on the
	 * IDT or the stack) is delivered again, unless the exit's handler
	 * queues another.
	 */
	vmcb->control.event_inj = vmcb->control.exit_int_info &
		SVM_EVTINJ_VALID ? vmcb->control.exit_int_info : 0;
	local_irq_enable();
	preempt_enable();

	return svm_handle_exit(vcpu);
}

const struct mv_vendor_ops mv_svm_ops = {
	.name = "svm",
	.backend = MV_BACKEND_SVM,
	.hardware_setup = svm_hardware_setup,
	.hardware_unsetup = svm_hardware_unsetup,
	.cpu_enable = svm_cpu_enable,
	.cpu_disable = svm_cpu_disable,
	.emergency_disable = svm_emergency_disable,
	.mmu_modes = MV_MMU_TDP | MV_MMU_SHADOW,
	.tdp_format = &svm_npt_format,
	.vcpu_create = svm_vcpu_create,
	.vcpu_free = svm_vcpu_free,
	.vcpu_load = svm_vcpu_load,
	.vcpu_put = svm_vcpu_put,
	.get_regs = svm_get_regs,
	.set_regs = svm_set_regs,
	.get_sregs = svm_get_sregs,
	.set_sregs = svm_set_sregs,
	.read_cr = svm_read_cr,
	.get_msr = svm_get_msr,
	.set_msr = svm_set_msr,
	.inject_exception = svm_queue_exception,
	.deliver_db = svm_deliver_db,
	.queued_event = svm_queued_event,
	.get_rflags = svm_get_rflags,
	.in_interrupt_shadow = svm_in_interrupt_shadow,
	.end_interrupt_shadow = svm_end_interrupt_shadow,
	.inject_irq = svm_inject_irq,
	.enable_irq_window = svm_enable_irq_window,
	.get_cr8 = svm_get_cr8,
	.set_cr8 = svm_set_cr8,
	.flush_tlb = svm_flush_tlb,
	.load_mmu_root = svm_load_mmu_root,
	.vcpu_run = svm_vcpu_run,
};
