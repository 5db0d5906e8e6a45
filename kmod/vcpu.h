/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A virtual CPU: its lifetime, the KVM_RUN loop, and its fd's ioctls.
 */
#ifndef MV_VCPU_H
#define MV_VCPU_H

#include <linux/kvm.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <asm/fpu/types.h>

#include "cpuid.h"
#include "fpu.h"
#include "insn.h"
#include "mmu/mmu_types.h"
#include "stats.h"

struct mv_emul_ctxt;
struct mv_vm;

/**
 * struct mv_vcpu_stats - a vCPU's counters, read by KVM_GET_STATS_FD
 * @exits: returns from the guest (KVM's name, as all below)
 * @io_exits: port accesses; all go to userspace
 * @mmio_exits: exits to userspace with KVM_EXIT_MMIO
 * @halt_exits: HLTs; all go to userspace (no in-kernel local APIC)
 * @shadow_faults: #PF intercepts the shadow MMU handled (minivisor's)
 * @shadow_pf_injected: of those, #PFs the guest's own tables gave it
 * @tlb_flushes: guest TLB flushes the shadow MMU made (CR3 loads, INVLPG)
 * @irq_injections: external interrupts injected (from KVM_INTERRUPT)
 * @irq_window_exits: interrupt-window exits (VMX) or VINTR intercepts (SVM)
 * @request_irq_exits: KVM_EXIT_IRQ_WINDOW_OPEN returns to userspace
 *
 * Written by the vCPU thread under vcpu->mutex, read without it.
 */
struct mv_vcpu_stats {
	u64 exits;
	u64 io_exits;
	u64 mmio_exits;
	u64 halt_exits;
	u64 shadow_faults;
	u64 shadow_pf_injected;
	u64 tlb_flushes;
	u64 irq_injections;
	u64 irq_window_exits;
	u64 request_irq_exits;
};

/* Most vCPUs a VM may have (KVM_CAP_MAX_VCPUS): x86 KVM's default. */
#define MV_MAX_VCPUS		1024
/* vCPU ids (APIC ids) are below this (KVM_CAP_MAX_VCPU_ID), as in KVM. */
#define MV_MAX_VCPU_IDS		(4 * MV_MAX_VCPUS)
/* Pages of a vCPU fd's mapping: struct kvm_run, then the PIO data page. */
#define MV_VCPU_MMAP_PAGES	2
#define MV_PIO_PAGE_OFFSET	1

/* vcpu->mode: may an IPI be needed to get the vCPU out of the guest? */
enum mv_vcpu_mode {
	MV_OUTSIDE_GUEST,
	MV_IN_GUEST,
};

/**
 * enum mv_cr_reg - the guest's paging-control registers, in vcpu->cr
 * @MV_CR0: CR0
 * @MV_CR3: CR3
 * @MV_CR4: CR4
 * @MV_EFER: IA32_EFER (without SVM's EFER.SVME, which the guest never sees)
 * @MV_NR_CR_REGS: how many
 */
enum mv_cr_reg {
	MV_CR0,
	MV_CR3,
	MV_CR4,
	MV_EFER,
	MV_NR_CR_REGS,
};

/**
 * struct mv_cr_regs - the guest's CR0, CR3, CR4 and EFER, as the
 *	architecture defines them (kmod/cr.h)
 * @val: by enum mv_cr_reg: the values the guest reads, whatever the
 *	hardware runs it with (shadow paging, forced bits)
 * @guest_owned: BIT(enum mv_cr_reg) of the registers the backend lets the
 *	guest change without an exit (in TDP mode: those the VMCB or VMCS
 *	holds as they are); set once at vCPU creation (c)
 * @stale: those of @guest_owned whose @val may be older than the
 *	hardware's: set at every entry, cleared when mv_cr_read() asks the
 *	backend's read_cr op [vcpu->mutex]
 *
 * The rest, all four under shadow paging, are intercepted on every write
 * and @val is what the backend programs the hardware from.
 */
struct mv_cr_regs {
	u64 val[MV_NR_CR_REGS];
	u8 guest_owned;
	u8 stale;
};

/**
 * enum mv_vcpu_request - bits of vcpu->requests: work before the next entry
 * @MV_REQ_TLB_FLUSH: drop the guest's cached translations before it runs
 *	again: the core calls the backend's flush_tlb op (a new ASID on SVM,
 *	INVEPT/INVVPID on VMX); any thread may ask, with mv_vcpu_request()
 * @MV_REQ_TRIPLE_FAULT: the guest triple faulted: KVM_RUN returns
 *	KVM_EXIT_SHUTDOWN instead of entering; asked by the vCPU's own thread
 *
 * Only the core's entry path, mv_vcpu_enter_guest() (kmod/vcpu.c), tests
 * and clears them; a backend sees them only as calls of its ops, and checks
 * that none came late with mv_vcpu_enter_irqoff().
 */
enum mv_vcpu_request {
	MV_REQ_TLB_FLUSH,
	MV_REQ_TRIPLE_FAULT,
};

/**
 * struct mv_vcpu - one virtual CPU
 * @vm: its VM (c)
 * @id: the id KVM_CREATE_VCPU gave (c)
 * @run: the struct kvm_run shared with userspace (c)
 * @run_page: the page of @run (c)
 * @pio_page: the page PIO data goes through (c)
 * @mutex: held across every ioctl on the vCPU fd
 * @pn: preempt notifier, registered while KVM_RUN runs [@mutex]
 * @cpu: the CPU the vCPU was last loaded on, or -1; set by the core before
 *	the backend's vcpu_load [preemption off]
 * @mode: MV_IN_GUEST from just before entry to just after exit; written
 *	by the vCPU thread with interrupts off, read by anyone
 * @requests: enum mv_vcpu_request bits, set by anyone (mv_vcpu_request()),
 *	taken by the vCPU thread (mv_vcpu_enter_guest())
 * @fpu: the guest's FPU state [@mutex]
 * @xs: its XCR0 and PKRU (kmod/fpu.c)
 * @apic_base: what the guest and KVM_GET_SREGS see of IA32_APIC_BASE
 *	(kmod/msr.c) [@mutex]
 * @misc_enable: what the guest sees of IA32_MISC_ENABLE [@mutex]
 * @spec_ctrl: the guest's IA32_SPEC_CTRL (kmod/spec.c); the backend
 *	switches it around entry [@mutex]
 * @pio: a port access userspace completes on the next KVM_RUN: as in KVM,
 *	the instruction is skipped (and an IN's data loaded) only then, and
 *	only if the guest's linear RIP is still @pio.linear_rip [@mutex]
 * @emul: the instruction being emulated, kept while it waits for
 *	userspace [@mutex]
 * @insn_io: what an emulated instruction waits for [@mutex]
 * @cpuid: the CPUID table the guest sees [@mutex]
 * @cr: the guest's CR0, CR3, CR4 and EFER (read with mv_read_cr0()...,
 *	kmod/cr.h) [@mutex]
 * @cr_feat: the MV_CRF_* features its CR4 and EFER may use: the host's
 *	and @cpuid's (kmod/cr.c) [@mutex]
 * @irq: the external interrupt KVM_INTERRUPT gave, not yet injected:
 *	@irq.pending, and its @irq.vector (kmod/event.c) [@mutex]
 * @has_run: KVM_RUN has been called [@mutex]
 * @mmu: the MMU's state (struct mv_vcpu_mmu, in kmod/mmu/mmu_types.h)
 *	[@mutex]; only kmod/mmu/ looks inside
 * @stats: counters for KVM_GET_STATS_FD [@mutex]
 * @stats_id: the stats fd's id string, "kvm-PID/vcpu-ID" as in KVM (c)
 * @priv: the backend's state (c)
 */
struct mv_vcpu {
	struct mv_vm *vm;
	u32 id;
	struct kvm_run *run;
	struct page *run_page;
	struct page *pio_page;
	struct mutex mutex;	/* every ioctl on the vCPU fd */
	struct preempt_notifier pn;
	int cpu;
	enum mv_vcpu_mode mode;
	unsigned long requests;
	struct fpu_guest fpu;
	struct mv_xstate xs;
	u64 apic_base;
	u64 misc_enable;
	u64 spec_ctrl;
	struct {
		bool pending;
		bool in;
		u8 size;
		u8 insn_len;
		u64 linear_rip;
	} pio;
	struct mv_emul_ctxt *emul;
	struct mv_insn_io insn_io;
	struct mv_cpuid cpuid;
	struct mv_cr_regs cr;
	u32 cr_feat;
	struct {
		bool pending;
		u8 vector;
	} irq;
	bool has_run;
	struct mv_vcpu_mmu mmu;
	struct mv_vcpu_stats stats;
	char stats_id[MV_STATS_NAME_SIZE];
	void *priv;
};

/**
 * mv_vcpu_enter_irqoff() - the vCPU goes into the guest: the last check
 * @vcpu: the vCPU, on its own thread
 *
 * Called by the backend with interrupts off, after what may sleep or
 * exit and before the entry.  From here a request sent with
 * mv_vcpu_request() interrupts the guest with an IPI; one sent before it
 * was seen makes this return false: the backend then returns 1 without
 * entering, and the core services it first.
 *
 * From here on the registers the guest owns (vcpu->cr.guest_owned) are
 * read back from the hardware when next asked for.
 *
 * Return: true to enter; then mv_vcpu_exit_irqoff() follows the exit.
 */
static inline bool mv_vcpu_enter_irqoff(struct mv_vcpu *vcpu)
{
	WRITE_ONCE(vcpu->mode, MV_IN_GUEST);
	/* Pairs with mv_vcpu_request(): mode first, then the requests. */
	smp_mb();
	if (likely(!READ_ONCE(vcpu->requests))) {
		vcpu->cr.stale = vcpu->cr.guest_owned;
		return true;
	}
	WRITE_ONCE(vcpu->mode, MV_OUTSIDE_GUEST);
	return false;
}

/**
 * mv_vcpu_exit_irqoff() - the vCPU is out of the guest
 * @vcpu: the vCPU, on its own thread
 *
 * Called by the backend with interrupts still off after every entry that
 * mv_vcpu_enter_irqoff() allowed, whether it succeeded or not: counts it.
 */
static inline void mv_vcpu_exit_irqoff(struct mv_vcpu *vcpu)
{
	WRITE_ONCE(vcpu->mode, MV_OUTSIDE_GUEST);
	WRITE_ONCE(vcpu->stats.exits, vcpu->stats.exits + 1);
}

/**
 * mv_guest_enter_irqoff() - tell the kernel a vCPU is about to enter
 *
 * Called by the backend with interrupts off right before each entry.  To
 * RCU, guest mode is like user mode, a quiescent state: without this, a
 * guest that keeps the CPU (with exits only to the kernel) stalls RCU,
 * since every tick lands where preemption is off.
 */
static inline void mv_guest_enter_irqoff(void)
{
	rcu_note_context_switch(false);
}

int mv_vcpu_create(struct mv_vm *vm, unsigned long id);
void mv_vcpu_free(struct mv_vcpu *vcpu);
void mv_vcpu_kick(struct mv_vcpu *vcpu);
void mv_vcpu_request(struct mv_vcpu *vcpu, enum mv_vcpu_request req);
void mv_vcpu_request_all(struct mv_vm *vm, enum mv_vcpu_request req);
void mv_vcpu_init(void);
void mv_vcpu_exit(void);

#endif /* MV_VCPU_H */
