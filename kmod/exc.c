// SPDX-License-Identifier: GPL-2.0
/*
 * Exceptions both backends intercept in every guest, and the guest's debug
 * registers.
 *
 * #AC and #DB are intercepted always: a guest whose delivery of one raises
 * the same exception again (a misaligned ring-3 stack with alignment
 * checks on, a data breakpoint on the IDT or the handler's stack) would
 * otherwise keep the CPU inside the delivery for ever, host interrupts
 * blocked.  Intercepted, each round trip is a VM exit, where the host
 * takes its interrupts and signals.  The backend reflects the exception
 * into the guest; for #DB the guest's DR6 is updated here, as the CPU
 * would have.
 *
 * #MC is intercepted so that a machine check taken in the guest goes to
 * the host's handler, not to the guest.
 *
 * Single step: a guest instruction minivisor carries out itself (skips
 * after an exit, or emulates) ends without the CPU's single-step trap:
 * when RFLAGS.TF was set as it began, mv_single_step() raises the #DB
 * with DR6.BS the CPU would have, as KVM's kvm_skip_emulated_instruction()
 * does.  An instruction the CPU completes itself before the exit (INT1,
 * the hardware's own single step) is not counted again.
 *
 * Debug registers: every MOV to or from DR0-DR7 exits (both backends) and
 * is carried out on struct mv_dr.  DR7 is the guest's in hardware while
 * it runs (VM entry and VMRUN load it); DR0-DR3 are loaded only while the
 * guest's DR7 enables a breakpoint, and the host's are put back after the
 * exit, before interrupts are on, when the host has breakpoints armed.
 * So a guest never reads nor moves the host's breakpoints, and its own
 * fire in the guest.
 */
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/percpu.h>
#include <asm/cpufeature.h>
#include <asm/special_insns.h>
#include <asm/debugreg.h>
#include <asm/mce.h>
#include <asm/processor-flags.h>
#include <asm/ptrace.h>
#include <asm/trapnr.h>

#include "exc.h"
#include "ops.h"
#include "virt.h"

/**
 * mv_dr_reset() - the debug registers after RESET or INIT
 * @d: the guest's debug registers
 */
void mv_dr_reset(struct mv_dr *d)
{
	d->db[0] = 0;
	d->db[1] = 0;
	d->db[2] = 0;
	d->db[3] = 0;
	d->dr6 = MV_DR6_INIT;
	d->dr7 = MV_DR7_INIT;
}

/**
 * mv_dr_mov() - a guest's MOV to or from a debug register
 * @d: its debug registers
 * @dr: the register number, 0-7
 * @write: MOV to @dr (else from)
 * @val: the value written, or where the value read goes; the caller
 *	truncates it to 32 bits outside 64-bit mode
 * @cr4_de: the guest's CR4.DE: DR4 and DR5 are then reserved, else
 *	aliases of DR6 and DR7
 *
 * The caller has checked the privilege (CPL 0, #GP otherwise).  With
 * DR7.GD set the instruction does not execute: DR6.BD is set, GD cleared,
 * and a fault-class #DB is due.
 *
 * Return: 0 when done (the caller skips the instruction), else the vector
 * of the exception the instruction raises instead: X86_TRAP_UD (DR4/DR5
 * with CR4.DE), X86_TRAP_DB (general detect) or X86_TRAP_GP (bits 63:32
 * of DR6 or DR7).
 */
int mv_dr_mov(struct mv_dr *d, unsigned int dr, bool write,
	      unsigned long *val, bool cr4_de)
{
	if (dr == 4 || dr == 5) {
		if (cr4_de)
			return X86_TRAP_UD;
		dr += 2;
	}
	if (d->dr7 & MV_DR7_GD) {
		mv_dr_deliver_db(d, MV_DR6_BD);
		return X86_TRAP_DB;
	}
	if (!write) {
		*val = dr < 4 ? d->db[dr] : dr == 6 ? d->dr6 : d->dr7;
		return 0;
	}
	switch (dr) {
	case 0 ... 3:
		d->db[dr] = *val;
		break;
	case 6:
		if (upper_32_bits(*val))
			return X86_TRAP_GP;
		d->dr6 = (*val & MV_DR6_VOLATILE) | MV_DR6_INIT;
		break;
	default:
		if (upper_32_bits(*val))
			return X86_TRAP_GP;
		d->dr7 = (*val & MV_DR7_VOLATILE) | MV_DR7_INIT;
		break;
	}
	return 0;
}

/**
 * mv_dr_deliver_db() - DR6 and DR7 as a #DB leaves them
 * @d: the guest's debug registers
 * @payload: the DR6 bits of this #DB, active high (B0-B3, BD, BS, BT: a
 *	VMX exit qualification, or SVM's DR6 read back from a run that began
 *	with MV_DR6_INIT)
 *
 * B0-B3 say which breakpoints matched this time, the other bits stay set
 * once set; DR7.GD is cleared so that the handler may use the registers.
 */
void mv_dr_deliver_db(struct mv_dr *d, unsigned long payload)
{
	d->dr6 &= ~DR_TRAP_BITS;
	d->dr6 |= (payload & MV_DR6_VOLATILE) | MV_DR6_INIT;
	d->dr7 &= ~MV_DR7_GD;
}

/**
 * mv_dr_enter_irqoff() - give the hardware the guest's DR0-DR3 if it uses them
 * @d: the guest's debug registers
 *
 * Called with interrupts off, right before the entry; the entry itself
 * loads the guest's DR7.  The host's DR7 is cleared first, so that none of
 * its breakpoints matches on the guest's addresses meanwhile.
 *
 * Return: true when DR0-DR3 now hold the guest's: mv_dr_exit_irqoff()
 * must then run after the exit.
 */
bool mv_dr_enter_irqoff(const struct mv_dr *d)
{
	if (likely(!(d->dr7 & MV_DR7_ENABLES))) {
		if (unlikely(hw_breakpoint_active()))
			set_debugreg(MV_DR7_INIT, 7);
		return false;
	}
	set_debugreg(MV_DR7_INIT, 7);
	set_debugreg(d->db[0], 0);
	set_debugreg(d->db[1], 1);
	set_debugreg(d->db[2], 2);
	set_debugreg(d->db[3], 3);
	return true;
}

/**
 * mv_dr_exit_irqoff() - the host's debug registers back after an exit
 * @loaded: what mv_dr_enter_irqoff() returned
 *
 * Interrupts off.  The exit left DR7 at its reset value; the host's
 * DR0-DR3, DR6 and DR7 are written back when it has breakpoints armed.
 * Without any, the guest's addresses may stay in DR0-DR3: nothing enables
 * them, and the kernel reloads them before it arms one.
 */
void mv_dr_exit_irqoff(bool loaded)
{
	if (unlikely(hw_breakpoint_active()))
		hw_breakpoint_restore();
	else if (loaded)
		set_debugreg(DR6_RESERVED, 6);
}

/**
 * mv_machine_check_irqoff() - a machine check the guest took, to the host
 *
 * Called after an exit for an intercepted #MC, interrupts still off.  The
 * host's handler sees it as one taken in user mode with interrupts on:
 * it may then kill the vCPU thread, never the kernel, for an error the
 * guest consumed.
 */
void mv_machine_check_irqoff(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = {
		.cs = 3,
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}

/**
 * mv_single_step() - what ends with an instruction done for the guest
 * @vcpu: the vCPU, in an exit handler, loaded
 * @rflags: the guest's RFLAGS as the instruction began
 *
 * Call after the instruction completed (RIP past it), never for one that
 * raised an exception or will run again (a REP string's next round).
 * The shadow of an STI or MOV SS the instruction ran in ends with it, as
 * on hardware; with @rflags.TF the guest gets the #DB with DR6.BS it
 * would have had.
 */
void mv_single_step(struct mv_vcpu *vcpu, unsigned long rflags)
{
	mv_ops->end_interrupt_shadow(vcpu);
	if (unlikely(rflags & X86_EFLAGS_TF))
		mv_ops->deliver_db(vcpu, MV_DR6_BS);
}
