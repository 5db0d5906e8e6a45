/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct mv_vendor_ops: what a hardware backend (VMX or SVM) provides to the
 * vendor-neutral core.  One table is chosen at module init and never changes.
 */
#ifndef MV_OPS_H
#define MV_OPS_H

#include "cpufeat.h"
#include "vcpu.h"

struct kvm_regs;
struct kvm_sregs;
struct mv_tdp_format;
struct mv_vcpu;

/* struct mv_event.type: how an event came to be */
enum mv_event_type {
	MV_EVENT_EXT_INTR,	/* an external interrupt */
	MV_EVENT_NMI,
	MV_EVENT_EXCEPTION,	/* a hardware exception (fault, trap, abort) */
	MV_EVENT_SOFT,		/* INTn, INT3, INTO, INT1: an instruction's */
};

/**
 * struct mv_event - an event the next entry delivers to the guest
 * @vector: its IDT vector
 * @type: enum mv_event_type
 * @has_error: it pushes @error
 * @error: the error code
 */
struct mv_event {
	u8 vector;
	u8 type;
	bool has_error;
	u32 error;
};

/**
 * struct mv_vendor_ops - the hardware backend
 * @name: "vmx" or "svm", for messages
 * @backend: MV_BACKEND_VMX or MV_BACKEND_SVM
 * @hardware_setup: at module init, after the CPU was found suitable:
 *	allocate what every CPU will need (VMXON regions, host save areas).
 *	May sleep.  Returns 0 or a negative errno.
 * @hardware_unsetup: at module exit, frees what @hardware_setup allocated;
 *	virtualization is off on every CPU by then.
 * @cpu_enable: turn virtualization on for the calling CPU.  Called with
 *	interrupts disabled.  Returns 0, -EBUSY when another hypervisor owns
 *	the CPU's virtualization extensions (nothing is changed then), or
 *	another negative errno when the CPU refuses (nothing is left changed).
 * @cpu_disable: turn virtualization off for the calling CPU, which
 *	@cpu_enable had turned on.  Called with interrupts disabled.
 * @emergency_disable: turn virtualization off for the calling CPU on the
 *	crash or emergency-reboot path: NMI context, no locks, never fails.
 * @mmu_modes: the MV_MMU_* modes this backend can run guests in
 * @tdp_format: the entry format of the second-level tables (NPT or EPT)
 * @vcpu_create: set up the backend state of a new vCPU, in the
 *	architectural reset state; may sleep; 0 or a negative errno
 *	(-EOPNOTSUPP when the backend cannot run vCPUs yet)
 * @vcpu_free: free what @vcpu_create set up
 * @vcpu_load: the vCPU thread now runs on @cpu; preemption is off
 * @vcpu_put: the vCPU thread leaves the CPU; preemption is off
 * @get_regs: the general registers, RIP and RFLAGS
 * @set_regs: set them
 * @get_sregs: the segment, control and descriptor-table registers
 * @set_sregs: set them; -EINVAL for a state the backend refuses
 * @read_cr: the hardware's value of one of the registers the backend lets
 *	the guest own (vcpu->cr.guest_owned), as the guest reads it; called
 *	by mv_cr_read() only, with interrupts on or off, loaded or not
 * @get_msr: read one of the MSRs mv_msr_known() lists that the backend
 *	stores (all but IA32_APIC_BASE, IA32_MISC_ENABLE and EFER, which the
 *	core keeps); 0 or -EINVAL.  Called by mv_msr_get() only.
 * @set_msr: store one, which mv_msr_set() already checked against the
 *	rules (kmod/msr.c); 0 (-EINVAL only for an MSR the backend lacks).
 *	For EFER, vcpu->cr already holds the value: program the hardware
 * @inject_exception: deliver an exception to the guest at its next entry
 *	(for a #PF, @cr2 is the faulting address the guest will read in CR2),
 *	in place of any event queued.  The core calls it through
 *	mv_inject_exception() (kmod/event.c), which applies the double-fault
 *	rules first.
 * @deliver_db: give the guest a #DB at its next entry, as the CPU raises
 *	one: DR6 takes @payload's bits (MV_DR6_BS, MV_DR6_BD, B0-B3: active
 *	high) and DR7.GD is cleared (mv_dr_deliver_db()); the core calls it
 *	through mv_single_step().
 * @queued_event: the event the next entry will deliver, if any: one whose
 *	delivery the last exit interrupted (queued again by the backend as the
 *	exit came) or one injected since.  True with @ev filled in, false if
 *	none; with @take the event is also dequeued.
 * @get_rflags: the guest's RFLAGS
 * @in_interrupt_shadow: the guest is in the shadow of an STI or MOV SS
 *	(its next instruction runs before any interrupt)
 * @end_interrupt_shadow: end that shadow: the instruction it covered was
 *	completed outside the guest (mv_single_step())
 * @inject_irq: deliver external interrupt @vector at the next entry; the
 *	core calls it only when the guest can take it (RFLAGS.IF, no
 *	shadow, no event queued)
 * @enable_irq_window: exit as soon as the guest can take an external
 *	interrupt (VMX: interrupt-window exiting; SVM: a virtual interrupt
 *	and its intercept), then turn that off again; asked before an entry
 * @get_cr8: the guest's TPR, CR8 (0-15)
 * @set_cr8: set it; @cr8 is 0-15
 * @flush_tlb: the guest's cached translations must go before its next
 *	entry (the core took an MV_REQ_TLB_FLUSH); vCPU loaded, preemption
 *	on.  The backend only marks it: the entry that follows flushes.
 * @load_mmu_root: the root the next entry runs on, chosen by the MMU
 *	(mv_mmu_load()) before every entry; vCPU loaded, preemption on.
 *	With @tdp, @root is the physical address of the second-level tables'
 *	root (NPT's nCR3, EPT's EPTP); else of the shadow tables the guest
 *	runs on in place of its CR3.  The backend programs it, and keeps no
 *	other idea of which tables the vCPU uses.
 * @shadow_on_tdp: shadow mode only, optional: true while the backend must
 *	run the vCPU on the VM's second-level tables rather than a shadow root
 *	(VMX: a guest with paging off runs only as an unrestricted guest,
 *	which needs EPT); the MMU then gives @load_mmu_root that root
 * @vcpu_run: enter the guest once and handle the exit.  Called by the
 *	core's entry path (mv_vcpu_enter_guest()) once the requests are
 *	serviced, with the vCPU loaded, preemption on.  The backend enters
 *	only if mv_vcpu_enter_irqoff() allows it, with interrupts off, and
 *	calls mv_vcpu_exit_irqoff() after.  Returns > 0 to enter again, 0 to
 *	return to userspace with struct kvm_run filled in, or a negative errno.
 */
struct mv_vendor_ops {
	const char *name;
	u32 backend;
	int (*hardware_setup)(const struct mv_cpu_caps *caps);
	void (*hardware_unsetup)(void);
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);
	void (*emergency_disable)(void);

	u32 mmu_modes;
	const struct mv_tdp_format *tdp_format;
	int (*vcpu_create)(struct mv_vcpu *vcpu);
	void (*vcpu_free)(struct mv_vcpu *vcpu);
	void (*vcpu_load)(struct mv_vcpu *vcpu, int cpu);
	void (*vcpu_put)(struct mv_vcpu *vcpu);
	void (*get_regs)(struct mv_vcpu *vcpu, struct kvm_regs *regs);
	void (*set_regs)(struct mv_vcpu *vcpu, const struct kvm_regs *regs);
	void (*get_sregs)(struct mv_vcpu *vcpu, struct kvm_sregs *sregs);
	int (*set_sregs)(struct mv_vcpu *vcpu, const struct kvm_sregs *sregs);
	u64 (*read_cr)(struct mv_vcpu *vcpu, enum mv_cr_reg reg);
	int (*get_msr)(struct mv_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct mv_vcpu *vcpu, u32 index, u64 data);
	void (*inject_exception)(struct mv_vcpu *vcpu, u8 vector,
				 bool has_error, u32 error, u64 cr2);
	void (*deliver_db)(struct mv_vcpu *vcpu, unsigned long payload);
	bool (*queued_event)(struct mv_vcpu *vcpu, struct mv_event *ev,
			     bool take);
	unsigned long (*get_rflags)(struct mv_vcpu *vcpu);
	bool (*in_interrupt_shadow)(struct mv_vcpu *vcpu);
	void (*end_interrupt_shadow)(struct mv_vcpu *vcpu);
	void (*inject_irq)(struct mv_vcpu *vcpu, u8 vector);
	void (*enable_irq_window)(struct mv_vcpu *vcpu);
	u64 (*get_cr8)(struct mv_vcpu *vcpu);
	void (*set_cr8)(struct mv_vcpu *vcpu, u64 cr8);
	void (*flush_tlb)(struct mv_vcpu *vcpu);
	void (*load_mmu_root)(struct mv_vcpu *vcpu, u64 root, bool tdp);
	bool (*shadow_on_tdp)(struct mv_vcpu *vcpu);
	int (*vcpu_run)(struct mv_vcpu *vcpu);
};

extern const struct mv_vendor_ops mv_vmx_ops;
extern const struct mv_vendor_ops mv_svm_ops;

#endif /* MV_OPS_H */
