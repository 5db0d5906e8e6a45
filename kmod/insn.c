// SPDX-License-Identifier: GPL-2.0
/*
 * One guest instruction, emulated: the bridge between the pure emulator in
 * kmod/emul/ and a vCPU.
 *
 * The emulator works on linear addresses; here they are translated with
 * the guest's page tables (kmod/mmu/walk.c), and the guest-physical address
 * is either in a memory slot, read and written through the VMM's mapping,
 * or MMIO, which leaves to userspace as KVM_EXIT_MMIO.  String port I/O
 * leaves as KVM_EXIT_IO with a count.  An access userspace must answer (an
 * MMIO read, an INS) stops the emulation with nothing done; the next
 * KVM_RUN hands the data over and emulates the instruction again, the
 * emulator replaying the reads it had made.  Writes leave after the
 * instruction is done, as in KVM.
 *
 * All of it runs in the vCPU thread, under vcpu->mutex.
 */
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>
#include <asm/trapnr.h>

#include "emul/emulate.h"
#include "event.h"
#include "exc.h"
#include "exit.h"
#include "gmem.h"
#include "insn.h"
#include "mmu/mmu.h"
#include "mmu/walk.h"
#include "mv.h"
#include "ops.h"
#include "vcpu.h"
#include "virt.h"
#include "vm.h"

/* What the callbacks need, for one emulation */
struct insn_env {
	struct mv_vcpu *vcpu;
	struct mv_walk_env walk;
	bool user;		/* CPL 3 */
	bool stopped;		/* an access is out: nothing was committed */
};

/* The walker's view of the registers the caller already read */
static int insn_walk_env(struct mv_vcpu *vcpu, const struct kvm_sregs *sregs,
			 const struct kvm_regs *regs, struct mv_walk_env *env)
{
	const struct kvm_cpuid_entry2 *e;

	env->cr0 = sregs->cr0;
	env->cr3 = sregs->cr3;
	env->cr4 = sregs->cr4;
	env->efer = sregs->efer;
	env->rflags = regs->rflags;
	env->cpl = sregs->cr0 & X86_CR0_PE ? sregs->ss.dpl : 0;
	e = mv_cpuid_find(&vcpu->cpuid, 0x80000008, 0);
	env->maxphyaddr = e && (e->eax & 0xff) >= 32 && (e->eax & 0xff) <= 52 ?
		e->eax & 0xff : boot_cpu_data.x86_phys_bits;
	return env->cpl;
}

/**
 * mv_insn_walk_env() - the paging state of a vCPU, for the walker
 * @vcpu: the vCPU
 * @env: filled in
 *
 * Return: the CPL.
 */
int mv_insn_walk_env(struct mv_vcpu *vcpu, struct mv_walk_env *env)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	mv_ops->get_sregs(vcpu, &sregs);
	mv_ops->get_regs(vcpu, &regs);
	return insn_walk_env(vcpu, &sregs, &regs, env);
}

/*
 * Translates @la for an access of the emulator: MV_EMUL_OK with @gpa, or
 * MV_EMUL_EXCEPTION (a #PF), MV_EMUL_RETRY, or MV_EMUL_UNHANDLED.
 */
static int insn_translate(struct mv_emul_ctxt *ctxt, u64 la, u32 access,
			  u64 *gpa)
{
	struct insn_env *ie = ctxt->priv;
	struct mv_walk w;
	int r;

	if (ie->user)
		access |= MV_PF_USER;
	r = mv_walk_gva(&ie->walk, &mv_gmem_walk_ops, ie->vcpu->vm, la,
			access, &w);
	if (r == MV_WALK_FAULT) {
		ctxt->exception = (struct mv_emul_exception){
			.vector = X86_TRAP_PF, .has_error = true,
			.error = w.error, .cr2 = la,
		};
		return MV_EMUL_EXCEPTION;
	}
	if (r == -EAGAIN)
		return MV_EMUL_RETRY;
	if (r)
		return MV_EMUL_UNHANDLED;
	*gpa = w.gpa;
	return MV_EMUL_OK;
}

/* An MMIO access leaves: KVM_EXIT_MMIO, at most 8 bytes */
static int insn_mmio_exit(struct mv_emul_ctxt *ctxt, u64 gpa,
			  const void *val, unsigned int size, bool write)
{
	struct insn_env *ie = ctxt->priv;
	struct mv_vcpu *vcpu = ie->vcpu;
	struct kvm_run *run = vcpu->run;

	if (size > sizeof(run->mmio.data))
		return MV_EMUL_UNHANDLED;
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = size;
	run->mmio.is_write = write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write) {
		memcpy(run->mmio.data, val, size);
	} else {
		vcpu->insn_io.mmio_read = true;
		vcpu->insn_io.len = size;
		ie->stopped = true;
	}
	return MV_EMUL_USER;
}

static int insn_access(struct mv_emul_ctxt *ctxt, u64 la, void *val,
		       unsigned int size, bool write)
{
	struct insn_env *ie = ctxt->priv;
	unsigned long hva;
	u64 gpa;
	int r;

	/* the emulator splits at pages; guard the VMM's memory anyway */
	if (offset_in_page(la) + size > PAGE_SIZE)
		return MV_EMUL_UNHANDLED;
	r = insn_translate(ctxt, la, write ? MV_PF_WRITE : 0, &gpa);
	if (r != MV_EMUL_OK)
		return r;
	r = mv_gmem_gpa_to_hva(ie->vcpu->vm, gpa, write, &hva);
	if (r == -ENOENT || r == -EROFS)
		return insn_mmio_exit(ctxt, gpa, val, size, write);
	if (r)
		return MV_EMUL_UNHANDLED;
	if (write) {
		r = copy_to_user((void __user *)hva, val, size);
		/* the MMU follows writes to guest page tables */
		if (!r)
			mv_mmu_write_gpa(ie->vcpu, gpa, size);
	} else {
		r = copy_from_user(val, (void __user *)hva, size);
	}
	return r ? MV_EMUL_UNHANDLED : MV_EMUL_OK;
}

static int insn_read(struct mv_emul_ctxt *ctxt, u64 la, void *val,
		     unsigned int size)
{
	return insn_access(ctxt, la, val, size, false);
}

static int insn_write(struct mv_emul_ctxt *ctxt, u64 la, const void *val,
		      unsigned int size)
{
	return insn_access(ctxt, la, (void *)val, size, true);
}

static int insn_cmpxchg(struct mv_emul_ctxt *ctxt, u64 la, void *old,
			const void *new, unsigned int size)
{
	struct insn_env *ie = ctxt->priv;
	unsigned long hva;
	u64 gpa;
	int r;

	if (offset_in_page(la) + size > PAGE_SIZE)
		return MV_EMUL_UNHANDLED;
	r = insn_translate(ctxt, la, MV_PF_WRITE, &gpa);
	if (r != MV_EMUL_OK)
		return r;
	r = mv_gmem_gpa_to_hva(ie->vcpu->vm, gpa, true, &hva);
	/* MMIO has no atomics: the new value is simply written */
	if (r == -ENOENT || r == -EROFS)
		return insn_mmio_exit(ctxt, gpa, new, size, true);
	if (r)
		return MV_EMUL_UNHANDLED;
	r = mv_gmem_cmpxchg_hva(hva, old, new, size);
	if (!r)
		mv_mmu_write_gpa(ie->vcpu, gpa, size);
	return r < 0 ? MV_EMUL_UNHANDLED : MV_EMUL_OK;
}

static void insn_pio_exit(struct mv_vcpu *vcpu, u16 port, unsigned int size,
			  unsigned int count, bool in)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = size;
	run->io.port = port;
	run->io.count = count;
	run->io.data_offset = MV_PIO_PAGE_OFFSET * PAGE_SIZE;
}

static int insn_pio_in(struct mv_emul_ctxt *ctxt, u16 port,
		       unsigned int size, unsigned int count, void *val)
{
	struct insn_env *ie = ctxt->priv;
	struct mv_insn_io *io = &ie->vcpu->insn_io;

	if (size * count > PAGE_SIZE)
		return MV_EMUL_UNHANDLED;
	if (io->pio_in_done && io->port == port && io->size == size &&
	    io->count == count) {
		io->pio_in_done = false;
		memcpy(val, page_address(ie->vcpu->pio_page), size * count);
		return MV_EMUL_OK;
	}
	io->pio_in_done = false;
	io->pio_in = true;
	io->port = port;
	io->size = size;
	io->count = count;
	insn_pio_exit(ie->vcpu, port, size, count, true);
	ie->stopped = true;
	return MV_EMUL_USER;
}

static int insn_pio_out(struct mv_emul_ctxt *ctxt, u16 port,
			unsigned int size, unsigned int count,
			const void *val)
{
	struct insn_env *ie = ctxt->priv;

	if (size * count > PAGE_SIZE)
		return MV_EMUL_UNHANDLED;
	memcpy(page_address(ie->vcpu->pio_page), val, size * count);
	insn_pio_exit(ie->vcpu, port, size, count, false);
	return MV_EMUL_USER;
}

static const struct mv_emul_ops insn_emul_ops = {
	.read = insn_read,
	.write = insn_write,
	.compare_exchange = insn_cmpxchg,
	.pio_in = insn_pio_in,
	.pio_out = insn_pio_out,
};

/* struct kvm_regs keeps the registers in its own order */
static void insn_regs_to_gpr(const struct kvm_regs *r, u64 *gpr)
{
	gpr[MV_RAX] = r->rax;
	gpr[MV_RCX] = r->rcx;
	gpr[MV_RDX] = r->rdx;
	gpr[MV_RBX] = r->rbx;
	gpr[MV_RSP] = r->rsp;
	gpr[MV_RBP] = r->rbp;
	gpr[MV_RSI] = r->rsi;
	gpr[MV_RDI] = r->rdi;
	gpr[MV_R8] = r->r8;
	gpr[MV_R9] = r->r9;
	gpr[MV_R10] = r->r10;
	gpr[MV_R11] = r->r11;
	gpr[MV_R12] = r->r12;
	gpr[MV_R13] = r->r13;
	gpr[MV_R14] = r->r14;
	gpr[MV_R15] = r->r15;
}

static void insn_gpr_to_regs(const u64 *gpr, struct kvm_regs *r)
{
	r->rax = gpr[MV_RAX];
	r->rcx = gpr[MV_RCX];
	r->rdx = gpr[MV_RDX];
	r->rbx = gpr[MV_RBX];
	r->rsp = gpr[MV_RSP];
	r->rbp = gpr[MV_RBP];
	r->rsi = gpr[MV_RSI];
	r->rdi = gpr[MV_RDI];
	r->r8 = gpr[MV_R8];
	r->r9 = gpr[MV_R9];
	r->r10 = gpr[MV_R10];
	r->r11 = gpr[MV_R11];
	r->r12 = gpr[MV_R12];
	r->r13 = gpr[MV_R13];
	r->r14 = gpr[MV_R14];
	r->r15 = gpr[MV_R15];
}

/* The CPU mode the emulator decodes in, from the segment state */
static enum mv_emul_mode insn_mode(const struct kvm_sregs *sregs,
				   const struct kvm_regs *regs)
{
	if (!(sregs->cr0 & X86_CR0_PE) || (regs->rflags & X86_EFLAGS_VM))
		return MV_EMUL_MODE16;
	if ((sregs->efer & EFER_LMA) && sregs->cs.l)
		return MV_EMUL_MODE64;
	return sregs->cs.db ? MV_EMUL_MODE32 : MV_EMUL_MODE16;
}

/**
 * mv_insn_ctxt_init() - an emulator context for the instruction at CS:RIP
 * @ctxt: the context
 * @regs: the guest's registers
 * @sregs: and its segment and control registers
 *
 * Sets the mode, registers, RIP, RFLAGS and segments; no byte of the
 * instruction yet (the caller fetches them) and no callbacks.  In real and
 * virtual-8086 mode every segment is a writable data segment of its limit,
 * as the CPU treats them.
 */
void mv_insn_ctxt_init(struct mv_emul_ctxt *ctxt, const struct kvm_regs *regs,
		       const struct kvm_sregs *sregs)
{
	const struct kvm_segment *segs[MV_NR_SEGS] = {
		[MV_SEG_ES] = &sregs->es, [MV_SEG_CS] = &sregs->cs,
		[MV_SEG_SS] = &sregs->ss, [MV_SEG_DS] = &sregs->ds,
		[MV_SEG_FS] = &sregs->fs, [MV_SEG_GS] = &sregs->gs,
	};
	bool prot = (sregs->cr0 & X86_CR0_PE) &&
		!(regs->rflags & X86_EFLAGS_VM);
	unsigned int i;

	for (i = 0; i < MV_NR_SEGS; i++) {
		struct mv_emul_segment *s = &ctxt->seg[i];

		s->limit = segs[i]->limit;
		s->big = segs[i]->db;
		s->type = prot ? segs[i]->type : 3;
		s->unusable = prot &&
			(segs[i]->unusable || !segs[i]->present);
	}
	ctxt->segs_given = true;
	ctxt->ops = NULL;
	ctxt->priv = NULL;
	ctxt->mode = insn_mode(sregs, regs);
	insn_regs_to_gpr(regs, ctxt->gpr);
	ctxt->rip = regs->rip;
	ctxt->rflags = regs->rflags;
	ctxt->seg_base[MV_SEG_ES] = sregs->es.base;
	ctxt->seg_base[MV_SEG_CS] = sregs->cs.base;
	ctxt->seg_base[MV_SEG_SS] = sregs->ss.base;
	ctxt->seg_base[MV_SEG_DS] = sregs->ds.base;
	ctxt->seg_base[MV_SEG_FS] = sregs->fs.base;
	ctxt->seg_base[MV_SEG_GS] = sregs->gs.base;
	ctxt->insn_avail = 0;
}

/* Fetches the bytes at CS:RIP, page by page, as far as they can be read */
static int insn_fetch(struct mv_emul_ctxt *ctxt, u64 cs_base)
{
	struct insn_env *ie = ctxt->priv;
	unsigned int n = 0;
	u64 la, gpa;
	int r;

	la = ctxt->mode == MV_EMUL_MODE64 ? ctxt->rip :
		(u32)(cs_base + (ctxt->mode == MV_EMUL_MODE16 ?
				 (u16)ctxt->rip : (u32)ctxt->rip));
	while (n < MV_EMUL_MAX_INSN) {
		unsigned int chunk = min_t(unsigned int, MV_EMUL_MAX_INSN - n,
					   PAGE_SIZE - offset_in_page(la + n));

		r = insn_translate(ctxt, la + n, MV_PF_FETCH, &gpa);
		if (r != MV_EMUL_OK)
			/* a fault past the first byte is the decoder's call */
			return n ? MV_EMUL_OK : r;
		if (mv_gmem_read(ie->vcpu->vm, gpa, ctxt->insn_bytes + n, chunk))
			return n ? MV_EMUL_OK : MV_EMUL_UNHANDLED;
		n += chunk;
		ctxt->insn_avail = n;
	}
	return MV_EMUL_OK;
}

/* KVM_EXIT_INTERNAL_ERROR, emulation failure, with the instruction bytes */
static int insn_failed(struct mv_vcpu *vcpu, struct mv_emul_ctxt *ctxt)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	/* the flags, then the 16 bytes of size and instruction */
	run->emulation_failure.ndata = 3;
	run->emulation_failure.flags =
		KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run->emulation_failure.insn_size = ctxt->insn_avail;
	memcpy(run->emulation_failure.insn_bytes, ctxt->insn_bytes,
	       ctxt->insn_avail);
	return 0;
}

/*
 * Emulates the instruction at RIP; an instruction the emulator does not
 * know ends in an emulation-failure exit, or, with @may_fail, returns
 * -EOPNOTSUPP with nothing done.
 */
static int insn_emulate(struct mv_vcpu *vcpu, bool may_fail)
{
	struct mv_emul_ctxt *ctxt = vcpu->emul;
	struct insn_env ie = { .vcpu = vcpu };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	u64 rflags;
	bool done;
	int r;

	mv_ops->get_regs(vcpu, &regs);
	mv_ops->get_sregs(vcpu, &sregs);
	ie.user = insn_walk_env(vcpu, &sregs, &regs, &ie.walk) == 3;

	mv_insn_ctxt_init(ctxt, &regs, &sregs);
	ctxt->ops = &insn_emul_ops;
	ctxt->priv = &ie;

	r = insn_fetch(ctxt, sregs.cs.base);
	if (r == MV_EMUL_OK)
		r = mv_emulate(ctxt);

	switch (r) {
	case MV_EMUL_OK:
	case MV_EMUL_USER:
		if (ie.stopped)		/* userspace answers a read first */
			return 0;
		insn_gpr_to_regs(ctxt->gpr, &regs);
		/* a REP string not done yet stays at its RIP: no step yet */
		done = regs.rip != ctxt->rip;
		rflags = regs.rflags;
		regs.rip = ctxt->rip;
		regs.rflags = ctxt->rflags;
		/* done: its breakpoints count again */
		if (done)
			regs.rflags &= ~X86_EFLAGS_RF;
		mv_ops->set_regs(vcpu, &regs);
		if (done)
			mv_single_step(vcpu, rflags);
		return r == MV_EMUL_OK;
	case MV_EMUL_EXCEPTION:
		mv_emul_reset(ctxt);
		mv_inject_exception(vcpu, ctxt->exception.vector,
				    ctxt->exception.has_error,
				    ctxt->exception.error,
				    ctxt->exception.cr2);
		return 1;
	case MV_EMUL_RETRY:
		mv_emul_reset(ctxt);
		return 1;
	default:
		mv_emul_reset(ctxt);
		if (may_fail)
			return -EOPNOTSUPP;
		return insn_failed(vcpu, ctxt);
	}
}

/**
 * mv_insn_emulate() - emulate the instruction at the guest's RIP
 * @vcpu: the vCPU, loaded
 *
 * For MMIO (a second-level fault where no memory is) and string port I/O.
 *
 * Return: what the backend's vcpu_run() returns: > 0 to enter the guest
 * again (the instruction done, or an exception queued), 0 with kvm_run
 * filled in (KVM_EXIT_MMIO, KVM_EXIT_IO, or an emulation failure).
 */
int mv_insn_emulate(struct mv_vcpu *vcpu)
{
	return insn_emulate(vcpu, false);
}

/**
 * mv_insn_emulate_write() - emulate a write the MMU must see (shadow paging:
 *	a guest write to one of its write-protected page tables)
 * @vcpu: the vCPU, loaded
 *
 * Return: as mv_insn_emulate(), or -EOPNOTSUPP, with nothing done, for an
 * instruction the emulator does not know (the caller then lets the guest
 * write by itself).
 */
int mv_insn_emulate_write(struct mv_vcpu *vcpu)
{
	return insn_emulate(vcpu, true);
}

/**
 * mv_insn_complete() - hand userspace's data to the waiting instruction
 * @vcpu: the vCPU, loaded, at the start of KVM_RUN
 *
 * Return: as mv_insn_emulate(): the instruction may need userspace again.
 */
int mv_insn_complete(struct mv_vcpu *vcpu)
{
	struct mv_insn_io *io = &vcpu->insn_io;
	int r;

	if (io->mmio_read) {
		io->mmio_read = false;
		mv_emul_complete_read(vcpu->emul, vcpu->run->mmio.data,
				      io->len);
	} else if (io->pio_in) {
		io->pio_in = false;
		io->pio_in_done = true;
	} else {
		return 1;
	}
	r = mv_insn_emulate(vcpu);
	io->pio_in_done = false;
	return r;
}
