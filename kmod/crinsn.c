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
 * Only these few opcodes, so a small decoder of their own: prefixes, REX,
 * 0F xx and a ModRM memory operand (for INVLPG and LMSW).
 */
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "cr.h"
#include "crinsn.h"
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

/* The effective address of a ModRM memory operand, and its segment */
static int cri_modrm_ea(const u8 *b, unsigned int *i, unsigned int avail,
			u8 modrm, u8 rex, unsigned int asize,
			struct kvm_regs *regs, u64 *ea, int *seg,
			bool *rip_rel)
{
	unsigned int mod = modrm >> 6, rm = modrm & 7;
	s64 disp = 0;
	u64 a = 0;

	*seg = 3;	/* DS */
	*rip_rel = false;
	if (asize == 2) {
		static const u8 base[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
		static const s8 index[8] = { 6, 7, 6, 7, -1, -1, -1, -1 };

		if (mod == 0 && rm == 6) {
			if (*i + 2 > avail)
				return -EINVAL;
			a = (u16)(b[*i] | b[*i + 1] << 8);
			*i += 2;
		} else {
			a = *cri_gpr(regs, base[rm]);
			if (index[rm] >= 0)
				a += *cri_gpr(regs, index[rm]);
			if (base[rm] == 5)
				*seg = 2;	/* SS */
		}
		if (mod == 1) {
			if (*i + 1 > avail)
				return -EINVAL;
			disp = (s8)b[(*i)++];
		} else if (mod == 2) {
			if (*i + 2 > avail)
				return -EINVAL;
			disp = (s16)(b[*i] | b[*i + 1] << 8);
			*i += 2;
		}
		*ea = (u16)(a + disp);
		return 0;
	}

	if (rm == 4) {		/* SIB */
		u8 sib;
		unsigned int sbase, sindex;

		if (*i + 1 > avail)
			return -EINVAL;
		sib = b[(*i)++];
		sbase = (sib & 7) | (rex & 1 ? 8 : 0);
		sindex = ((sib >> 3) & 7) | (rex & 2 ? 8 : 0);
		if (sindex != 4)
			a = *cri_gpr(regs, sindex) << (sib >> 6);
		if ((sib & 7) == 5 && mod == 0) {
			if (*i + 4 > avail)
				return -EINVAL;
			disp = (s32)(b[*i] | b[*i + 1] << 8 | b[*i + 2] << 16 |
				     (u32)b[*i + 3] << 24);
			*i += 4;
		} else {
			a += *cri_gpr(regs, sbase);
			if ((sbase & 7) == 4 || (sbase & 7) == 5)
				*seg = 2;
		}
	} else if (rm == 5 && mod == 0) {
		if (*i + 4 > avail)
			return -EINVAL;
		disp = (s32)(b[*i] | b[*i + 1] << 8 | b[*i + 2] << 16 |
			     (u32)b[*i + 3] << 24);
		*i += 4;
		*rip_rel = asize == 8;
	} else {
		unsigned int n = rm | (rex & 1 ? 8 : 0);

		a = *cri_gpr(regs, n);
		if (rm == 5)
			*seg = 2;
	}
	if (mod == 1) {
		if (*i + 1 > avail)
			return -EINVAL;
		disp = (s8)b[(*i)++];
	} else if (mod == 2) {
		if (*i + 4 > avail)
			return -EINVAL;
		disp = (s32)(b[*i] | b[*i + 1] << 8 | b[*i + 2] << 16 |
			     (u32)b[*i + 3] << 24);
		*i += 4;
	}
	a += disp;
	*ea = asize == 4 ? (u32)a : a;
	return 0;
}

static const struct kvm_segment *cri_seg(const struct kvm_sregs *s, int n)
{
	const struct kvm_segment *segs[6] = {
		&s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs,
	};

	return segs[n < 6 && n >= 0 ? n : 3];
}

/* Decodes the instruction bytes @b; 0 or -EINVAL for anything else */
static int cri_decode(const u8 *b, unsigned int avail, unsigned int mode,
		      struct kvm_regs *regs, const struct kvm_sregs *sregs,
		      struct cri *ci)
{
	unsigned int i = 0, asize = mode;
	int seg = -1, dseg;
	u8 rex = 0, op, modrm;
	bool rip_rel;
	u64 ea;

	/* prefixes; a segment override's number in the x86 order */
	for (; i < avail; i++) {
		static const u8 segp[6] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
		const u8 *sp = memchr(segp, b[i], sizeof(segp));

		if (sp) {
			seg = sp - segp;
		} else if (b[i] == 0x67) {
			asize = mode == 8 ? 4 : mode == 4 ? 2 : 4;
		} else if (b[i] != 0x66 && b[i] != 0xf0 && b[i] != 0xf2 &&
			   b[i] != 0xf3) {
			break;
		}
	}
	if (mode == 8 && i < avail && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i + 2 > avail || b[i] != 0x0f)
		return -EINVAL;
	op = b[i + 1];
	i += 2;
	if (op == 0x06) {
		ci->kind = CRI_CLTS;
		ci->len = i;
		return 0;
	}
	if (i >= avail)
		return -EINVAL;
	modrm = b[i++];
	if (op == 0x20 || op == 0x22) {
		/* the operand is always a register, whatever mod says */
		ci->kind = op == 0x20 ? CRI_MOV_FROM_CR : CRI_MOV_TO_CR;
		ci->cr = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
		ci->reg = (modrm & 7) | (rex & 1 ? 8 : 0);
		ci->len = i;
		return 0;
	}
	if (ci->dr && (op == 0x21 || op == 0x23)) {
		/* MOV DR: encoded as MOV CR, the operand a register too */
		ci->kind = op == 0x21 ? CRI_MOV_FROM_CR : CRI_MOV_TO_CR;
		ci->cr = (modrm >> 3) & 7;
		ci->reg = (modrm & 7) | (rex & 1 ? 8 : 0);
		ci->len = i;
		return 0;
	}
	if (ci->dr || op != 0x01)
		return -EINVAL;
	switch ((modrm >> 3) & 7) {
	case 6:
		ci->kind = CRI_LMSW;
		break;
	case 7:
		if ((modrm >> 6) == 3)	/* SWAPGS, RDTSCP */
			return -EINVAL;
		ci->kind = CRI_INVLPG;
		break;
	default:
		return -EINVAL;
	}
	ci->mem = (modrm >> 6) != 3;
	if (!ci->mem) {
		ci->reg = (modrm & 7) | (rex & 1 ? 8 : 0);
		ci->len = i;
		return 0;
	}
	if (cri_modrm_ea(b, &i, avail, modrm, rex, asize, regs, &ea, &dseg,
			 &rip_rel))
		return -EINVAL;
	ci->len = i;
	if (rip_rel)
		ea += regs->rip + i;
	if (seg < 0)
		seg = dseg;
	if (mode == 8)
		ci->la = (seg == 4 || seg == 5 ? cri_seg(sregs, seg)->base : 0) +
			ea;
	else
		ci->la = (u32)(cri_seg(sregs, seg)->base + ea);
	return 0;
}

/* A CR0 value the guest loads: false for a #GP; may change EFER.LMA */
static bool cri_set_cr0(struct kvm_sregs *s, u64 val)
{
	val |= X86_CR0_ET;
	if (val >> 32)
		return false;
	if ((val & X86_CR0_PG) && !(val & X86_CR0_PE))
		return false;
	if ((val & X86_CR0_NW) && !(val & X86_CR0_CD))
		return false;
	if ((val & X86_CR0_PG) && !(s->cr0 & X86_CR0_PG) &&
	    (s->efer & EFER_LME)) {
		if (!(s->cr4 & X86_CR4_PAE))
			return false;
		s->efer |= EFER_LMA;
	}
	if (!(val & X86_CR0_PG) && (s->efer & EFER_LMA)) {
		if (s->cs.l)
			return false;
		s->efer &= ~EFER_LMA;
	}
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
	if (r || cri_decode(b, MV_CR_INSN_MAX, mode, &regs, &s, &ci)) {
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
		vcpu->vm->mmu->invlpg(vcpu, ci.la);
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
		vcpu->vm->mmu->paging_changed(vcpu, !noflush);
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
	if (r || cri_decode(b, MV_CR_INSN_MAX, mode, &regs, &s, &ci)) {
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
