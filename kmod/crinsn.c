// SPDX-License-Identifier: GPL-2.0
/*
 * The paging-control instructions shadow paging intercepts: MOV to and from
 * CR0, CR3 and CR4, CLTS, LMSW and INVLPG (and, in both modes on SVM, MOV
 * to CR4, which kmod/cr.c's rules must see).  A backend whose hardware says
 * nothing of the instruction (SVM without decode assists) hands the exit
 * here: the instruction is fetched through the guest's page tables,
 * decoded, checked as the SDM/APM define, and carried out through the
 * backend's register accessors, whose set_sregs tells the MMU.
 *
 * They are decoded by the emulator's decoder (kmod/emul/), which knows them
 * but leaves carrying them out to this file.
 */
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "cr.h"
#include "crinsn.h"
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

enum cri_kind {
	CRI_MOV_TO_CR,
	CRI_MOV_FROM_CR,
	CRI_CLTS,
	CRI_LMSW,
	CRI_INVLPG,
};

/* A decoded instruction */
struct cri {
	enum cri_kind kind;
	unsigned int len;
	unsigned int cr;	/* MOV CR */
	unsigned int reg;	/* the GPR of MOV CR or register LMSW */
	bool mem;		/* LMSW or INVLPG with a memory operand */
	u64 la;			/* its linear address */
	bool dr;		/* in: a MOV DR (its kind a MOV CR's) is due */
};

/* The guest's registers, as struct kvm_regs orders them, by x86 number */
static u64 *cri_gpr(struct kvm_regs *r, unsigned int n)
{
	u64 *map[16] = {
		&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp,
		&r->rsi, &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11,
		&r->r12, &r->r13, &r->r14, &r->r15,
	};

	return map[n & 15];
}

/* 2, 4 or 8: the address size the code segment gives */
static unsigned int cri_mode(const struct kvm_sregs *s,
			     const struct kvm_regs *r)
{
	if (!(s->cr0 & X86_CR0_PE) || (r->rflags & X86_EFLAGS_VM))
		return 2;
	if ((s->efer & EFER_LMA) && s->cs.l)
		return 8;
	return s->cs.db ? 4 : 2;
}

/* Reads guest-virtual memory: 0, MV_WALK_FAULT (*error set) or -errno */
static int cri_read(struct mv_vcpu *vcpu, u64 la, void *buf,
		    unsigned int len, u32 access, u32 *error)
{
	struct mv_walk_env env;
	struct mv_walk w;
	unsigned int n = 0;
	int r;

	if (mv_insn_walk_env(vcpu, &env) == 3)
		access |= MV_PF_USER;
	while (n < len) {
		unsigned int chunk = min_t(unsigned int, len - n,
					   PAGE_SIZE - offset_in_page(la + n));

		r = mv_walk_gva(&env, &mv_gmem_walk_ops, vcpu->vm, la + n, access,
				&w);
		if (r == MV_WALK_FAULT) {
			*error = w.error;
			return n ? 0 : r;	/* the bytes fetched may do */
		}
		if (r)
			return r;
		r = mv_gmem_read(vcpu->vm, w.gpa, (u8 *)buf + n, chunk);
		if (r)
			return n ? 0 : r;
		n += chunk;
	}
	return 0;
}

/*
 * Decodes the instruction at CS:RIP with the emulator's decoder (in
 * vcpu->emul, free between emulations); 0 or -EINVAL for anything else.
 */
static int cri_decode(struct mv_vcpu *vcpu, const u8 *b, unsigned int avail,
		      const struct kvm_regs *regs,
		      const struct kvm_sregs *sregs, struct cri *ci)
{
	struct mv_emul_ctxt *ctxt = vcpu->emul;
	const struct mv_emul_insn *insn = &ctxt->insn;
	bool want_dr = ci->dr;

	mv_insn_ctxt_init(ctxt, regs, sregs);
	memcpy(ctxt->insn_bytes, b, min_t(unsigned int, avail,
					  sizeof(ctxt->insn_bytes)));
	ctxt->insn_avail = avail;
	if (mv_emul_decode(ctxt) != MV_EMUL_OK)
		return -EINVAL;
	ci->len = insn->len;
	ci->reg = insn->rm;
	ci->mem = insn->mem;
	ci->la = insn->la;
	switch (insn->opcode) {
	case 0x0f06:
		ci->kind = CRI_CLTS;
		break;
	case 0x0f20:
	case 0x0f22:
		ci->kind = insn->opcode == 0x0f20 ? CRI_MOV_FROM_CR :
			CRI_MOV_TO_CR;
		ci->cr = insn->reg;
		break;
	case 0x0f21:
	case 0x0f23:
		/* MOV DR: told as a MOV CR */
		ci->kind = insn->opcode == 0x0f21 ? CRI_MOV_FROM_CR :
			CRI_MOV_TO_CR;
		ci->cr = insn->reg & 7;
		break;
	case 0x0f01:
		ci->kind = (insn->reg & 7) == 6 ? CRI_LMSW : CRI_INVLPG;
		break;
	default:
		return -EINVAL;
	}
	/* a MOV DR where one is due, the others where it is not */
	if (want_dr != (insn->opcode == 0x0f21 || insn->opcode == 0x0f23))
		return -EINVAL;
	return 0;
}

/* A CR0 value the guest loads: false for a #GP; may change EFER.LMA */
static bool cri_set_cr0(struct kvm_sregs *s, u64 val)
{
	if (!mv_cr0_load(s->cr0, s->cr4, &s->efer, s->cs.l, &val))
		return false;
	s->cr0 = val;
	return true;
}

/* The checks are kmod/cr.c's, the same for both backends. */
static bool cri_set_cr4(u32 feat, struct kvm_sregs *s, u64 val)
{
	if (!mv_cr4_load_valid(feat, s->cr3, s->cr4, s->efer, val))
		return false;
	s->cr4 = val;
	return true;
}

static int cri_gp(struct mv_vcpu *vcpu)
{
	mv_inject_exception(vcpu, X86_TRAP_GP, true, 0, 0);
	return 1;
}

/**
 * mv_exit_cr_insn() - emulate the intercepted paging-control instruction
 * @vcpu: the vCPU, loaded, stopped at the instruction
 *
 * Return: what vcpu_run() returns: > 0 (done, or an exception queued) or
 * 0 with an emulation failure in kvm_run for an instruction this does not
 * know.
 */
int mv_exit_cr_insn(struct mv_vcpu *vcpu)
{
	struct kvm_sregs s, old;
	struct kvm_regs regs;
	u8 b[16];
	unsigned int mode;
	struct cri ci = {};
	bool noflush = false;
	u64 la, val, *gpr;
	u32 error = 0;
	int r;

	mv_ops->get_regs(vcpu, &regs);
	mv_ops->get_sregs(vcpu, &s);
	old = s;
	mode = cri_mode(&s, &regs);
	la = mode == 8 ? regs.rip : (u32)(s.cs.base + regs.rip);
	memset(b, 0, sizeof(b));
	r = cri_read(vcpu, la, b, MV_CR_INSN_MAX, MV_PF_FETCH, &error);
	if (r == MV_WALK_FAULT) {
		mv_inject_exception(vcpu, X86_TRAP_PF, true, error, la);
		return 1;
	}
	if (r || cri_decode(vcpu, b, MV_CR_INSN_MAX, &regs, &s, &ci)) {
		const u64 data[3] = { la, *(u64 *)b, *(u64 *)(b + 8) };

		return mv_exit_internal(vcpu, KVM_INTERNAL_ERROR_EMULATION,
					data, ARRAY_SIZE(data));
	}
	/* all of them are privileged */
	if ((s.cr0 & X86_CR0_PE) &&
	    ((regs.rflags & X86_EFLAGS_VM) || s.ss.dpl))
		return cri_gp(vcpu);

	switch (ci.kind) {
	case CRI_MOV_FROM_CR:
	case CRI_MOV_TO_CR:
		if (ci.cr != 0 && ci.cr != 3 && ci.cr != 4) {
			mv_inject_exception(vcpu, X86_TRAP_UD, false, 0, 0);
			return 1;
		}
		gpr = cri_gpr(&regs, ci.reg);
		if (ci.kind == CRI_MOV_FROM_CR) {
			val = ci.cr == 0 ? s.cr0 : ci.cr == 3 ? s.cr3 : s.cr4;
			*gpr = mode == 8 ? val : (u32)val;
			break;
		}
		val = mode == 8 ? *gpr : (u32)*gpr;
		if (ci.cr == 0 && !cri_set_cr0(&s, val))
			return cri_gp(vcpu);
		if (ci.cr == 4 && !cri_set_cr4(vcpu->cr_feat, &s, val))
			return cri_gp(vcpu);
		if (ci.cr == 3) {
			if (s.cr4 & X86_CR4_PCIDE) {
				noflush = val & BIT_ULL(63);
				val &= ~BIT_ULL(63);
			}
			if ((s.efer & EFER_LMA) &&
			    (val >> boot_cpu_data.x86_phys_bits))
				return cri_gp(vcpu);
			s.cr3 = val;
		}
		break;
	case CRI_CLTS:
		s.cr0 &= ~X86_CR0_TS;
		break;
	case CRI_LMSW: {
		u16 msw = 0;

		if (ci.mem) {
			r = cri_read(vcpu, ci.la, &msw, 2, 0, &error);
			if (r == MV_WALK_FAULT) {
				mv_inject_exception(vcpu, X86_TRAP_PF,
						    true, error, ci.la);
				return 1;
			}
			if (r)
				return mv_fail(r);
		} else {
			msw = *cri_gpr(&regs, ci.reg);
		}
		/* PE can be set, never cleared; bits 4 and up stay */
		if (!cri_set_cr0(&s, (s.cr0 & ~0xeULL) | (msw & 0xf)))
			return cri_gp(vcpu);
		break;
	}
	case CRI_INVLPG:
		mv_mmu_invlpg(vcpu, ci.la);
		break;
	}

	regs.rip += ci.len;
	if (mode != 8)
		regs.rip = (u32)regs.rip;
	regs.rflags &= ~X86_EFLAGS_RF;
	mv_ops->set_regs(vcpu, &regs);
	if (memcmp(&s, &old, sizeof(s))) {
		r = mv_ops->set_sregs(vcpu, &s);
		if (r)
			return cri_gp(vcpu);
	}
	/* a CR3 load flushes even when the value is the same */
	if (ci.kind == CRI_MOV_TO_CR && ci.cr == 3)
		mv_mmu_paging_changed(vcpu, !noflush);
	mv_single_step(vcpu, regs.rflags);
	return 1;
}

/**
 * mv_exit_dr_insn() - emulate an intercepted MOV to or from a debug register
 * @vcpu: the vCPU, loaded, stopped at the instruction
 * @d: its debug registers, which the instruction reads or changes
 *
 * For a backend whose exit says nothing of the instruction (SVM without
 * decode assists).  The caller gives the hardware what @d then holds
 * (DR7).
 *
 * Return: what vcpu_run() returns: > 0 (done, or an exception queued) or
 * 0 with an emulation failure in kvm_run for an instruction that is no
 * MOV DR.
 */
int mv_exit_dr_insn(struct mv_vcpu *vcpu, struct mv_dr *d)
{
	struct kvm_sregs s;
	struct kvm_regs regs;
	struct cri ci = { .dr = true };
	unsigned int mode;
	unsigned long val;
	u8 b[16];
	u32 error = 0;
	u64 la, *gpr;
	int r;

	mv_ops->get_regs(vcpu, &regs);
	mv_ops->get_sregs(vcpu, &s);
	mode = cri_mode(&s, &regs);
	la = mode == 8 ? regs.rip : (u32)(s.cs.base + regs.rip);
	memset(b, 0, sizeof(b));
	r = cri_read(vcpu, la, b, MV_CR_INSN_MAX, MV_PF_FETCH, &error);
	if (r == MV_WALK_FAULT) {
		mv_inject_exception(vcpu, X86_TRAP_PF, true, error, la);
		return 1;
	}
	if (r || cri_decode(vcpu, b, MV_CR_INSN_MAX, &regs, &s, &ci)) {
		const u64 data[3] = { la, *(u64 *)b, *(u64 *)(b + 8) };

		return mv_exit_internal(vcpu, KVM_INTERNAL_ERROR_EMULATION,
					data, ARRAY_SIZE(data));
	}
	if ((s.cr0 & X86_CR0_PE) &&
	    ((regs.rflags & X86_EFLAGS_VM) || s.ss.dpl))
		return cri_gp(vcpu);

	gpr = cri_gpr(&regs, ci.reg);
	val = mode == 8 ? *gpr : (u32)*gpr;
	r = mv_dr_mov(d, ci.cr, ci.kind == CRI_MOV_TO_CR, &val,
		      s.cr4 & X86_CR4_DE);
	if (r) {
		mv_inject_exception(vcpu, r, r == X86_TRAP_GP, 0, 0);
		return 1;
	}
	if (ci.kind == CRI_MOV_FROM_CR)
		*gpr = mode == 8 ? val : (u32)val;
	regs.rip += ci.len;
	if (mode != 8)
		regs.rip = (u32)regs.rip;
	regs.rflags &= ~X86_EFLAGS_RF;
	mv_ops->set_regs(vcpu, &regs);
	mv_single_step(vcpu, regs.rflags);
	return 1;
}
