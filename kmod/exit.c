// SPDX-License-Identifier: GPL-2.0
/*
 * The exits that work the same on every backend.
 *
 * Each returns what the backend's vcpu_run() returns: > 0 to enter the
 * guest again, 0 to return to userspace with struct kvm_run filled in, or a
 * negative errno.  An access userspace completes (an IN's data, an MMIO
 * read) is finished by mv_exit_complete() at the start of the next KVM_RUN,
 * which is also when the instruction is skipped, as in KVM.
 */
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/msr-index.h>

#include "exc.h"
#include "exit.h"
#include "insn.h"
#include "mmu/mmu.h"
#include "mmu/walk.h"
#include "mv.h"
#include "ops.h"
#include "vcpu.h"
#include "virt.h"
#include "vm.h"

/**
 * mv_exit_internal() - return KVM_EXIT_INTERNAL_ERROR to userspace
 * @vcpu: the vCPU
 * @suberror: a KVM_INTERNAL_ERROR_* code
 * @data: what helps a developer see why: the backend's exit code and
 *	information, instruction bytes...
 * @ndata: how many of @data; at most the size of kvm_run's internal.data
 *
 * Return: 0.
 */
int mv_exit_internal(struct mv_vcpu *vcpu, u32 suberror, const u64 *data,
		     unsigned int ndata)
{
	struct kvm_run *run = vcpu->run;

	ndata = min_t(unsigned int, ndata, ARRAY_SIZE(run->internal.data));
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = ndata;
	memcpy(run->internal.data, data, ndata * sizeof(*data));
	return 0;
}

/* CS.base + @rip, as the guest's mode truncates it */
static u64 mv_exit_linear_rip(struct mv_vcpu *vcpu, u64 rip)
{
	struct kvm_sregs sregs;

	mv_ops->get_sregs(vcpu, &sregs);
	if ((sregs.efer & EFER_LMA) && sregs.cs.l)
		return rip;
	return (u32)(sregs.cs.base + rip);
}

/**
 * mv_exit_io() - a port access: hand it to userspace as KVM_EXIT_IO
 * @vcpu: the vCPU
 * @io: the access
 *
 * Return: 0, userspace completes the access.
 */
int mv_exit_io(struct mv_vcpu *vcpu, const struct mv_io_exit *io)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_regs regs;
	u64 data[2] = { io->port, io->size };

	if (io->size != 1 && io->size != 2 && io->size != 4)
		return mv_exit_internal(vcpu, KVM_INTERNAL_ERROR_EMULATION,
					data, ARRAY_SIZE(data));
	/* INS and OUTS go through the emulator: memory, REP, segments */
	if (io->string)
		return mv_insn_emulate(vcpu);

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = io->in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = io->size;
	run->io.port = io->port;
	run->io.count = 1;
	run->io.data_offset = MV_PIO_PAGE_OFFSET * PAGE_SIZE;
	mv_ops->get_regs(vcpu, &regs);
	if (!io->in)
		memcpy(page_address(vcpu->pio_page), &regs.rax, io->size);
	vcpu->pio.pending = true;
	vcpu->pio.in = io->in;
	vcpu->pio.size = io->size;
	vcpu->pio.insn_len = io->insn_len;
	vcpu->pio.linear_rip = mv_exit_linear_rip(vcpu, regs.rip);
	return 0;
}

/**
 * mv_exit_tdp_fault() - an NPT or EPT violation
 * @vcpu: the vCPU
 * @gpa: the guest-physical address the guest touched
 * @write: the access was a write
 *
 * Maps the memory there, or, where there is none, emulates the access.
 * Second-level tables are the TDP mode's, also when a shadow-mode VM's
 * vCPU runs on them with paging off (the phys_root MMU op).
 *
 * Return: what vcpu_run() returns.
 */
int mv_exit_tdp_fault(struct mv_vcpu *vcpu, u64 gpa, bool write)
{
	return mv_mmu_tdp_fault(vcpu, gpa, write ? MV_PF_WRITE : 0);
}

/**
 * mv_exit_guest_pf() - a #PF the backend intercepted (shadow paging)
 * @vcpu: the vCPU
 * @gva: the faulting linear address (CR2)
 * @error: the #PF error code
 *
 * Fixes the shadow tables, or gives the guest its #PF.
 *
 * Return: what vcpu_run() returns.
 */
int mv_exit_guest_pf(struct mv_vcpu *vcpu, u64 gva, u32 error)
{
	return mv_mmu_page_fault(vcpu, gva, error);
}

/*
 * Completes a port access that went to userspace: an IN's data goes to RAX,
 * and the instruction is skipped -- unless userspace moved the guest
 * elsewhere meanwhile (KVM_SET_REGS or KVM_SET_SREGS, e.g. a reset after an
 * OUT): then, as in KVM, the access is dropped and the guest starts where
 * it was put.
 */
static void mv_exit_complete_pio(struct mv_vcpu *vcpu)
{
	struct kvm_regs regs;
	u64 mask, val = 0;

	vcpu->pio.pending = false;
	mv_ops->get_regs(vcpu, &regs);
	if (mv_exit_linear_rip(vcpu, regs.rip) != vcpu->pio.linear_rip)
		return;
	if (vcpu->pio.in) {
		memcpy(&val, page_address(vcpu->pio_page), vcpu->pio.size);
		mask = (1ULL << (vcpu->pio.size * 8)) - 1;
		/* a 32-bit IN zero-extends into RAX, narrower ones merge */
		if (vcpu->pio.size == 4)
			regs.rax = val;
		else
			regs.rax = (regs.rax & ~mask) | (val & mask);
	}
	regs.rip += vcpu->pio.insn_len;
	mv_ops->set_regs(vcpu, &regs);
	mv_single_step(vcpu, regs.rflags);
}

/**
 * mv_exit_complete() - finish what userspace completed since the last exit
 * @vcpu: the vCPU, loaded, at the start of KVM_RUN
 *
 * Return: > 0 to go on into the guest, or what vcpu_run() returns when the
 * instruction being finished needs userspace again.
 */
int mv_exit_complete(struct mv_vcpu *vcpu)
{
	if (vcpu->pio.pending) {
		mv_exit_complete_pio(vcpu);
		return 1;
	}
	return mv_insn_complete(vcpu);
}
