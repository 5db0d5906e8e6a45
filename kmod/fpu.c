// SPDX-License-Identifier: GPL-2.0
/*
 * A guest's FPU and XSAVE state, and its XCR0.
 *
 * The registers are kept by the kernel: the vCPU has a guest fpstate
 * (fpu_alloc_guest_fpstate()) that KVM_RUN swaps in for the task's, and the
 * ioctls below move it to and from userspace in KVM's formats with the
 * kernel's helpers.  What the kernel does not switch is XCR0, which decides
 * which state components the guest can use, and PKRU: the backend calls
 * mv_fpu_enter_irqoff() and mv_fpu_exit_irqoff() around each entry for
 * them.  The guest sets its XCR0 with XSETBV, which always exits, and the
 * VMM with KVM_SET_XCRS; both accept only what KVM's __kvm_set_xcr()
 * accepts.
 *
 * Guests are offered x87, SSE, AVX and AVX-512 state, as far as the host
 * enabled it in its XCR0.  No dynamically sized component (AMX) is offered,
 * so the state always fits struct kvm_xsave's 4 KiB.  PKRU is not offered
 * either; it is switched only to keep a guest that sets CR4.PKE anyway from
 * changing the host's (when the host kernel uses protection keys).
 */
#include <linux/kvm.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/pkru.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "cpuid.h"
#include "cr.h"
#include "event.h"
#include "exc.h"
#include "fpu.h"
#include "mv.h"
#include "ops.h"
#include "vcpu.h"
#include "virt.h"

/* The XSAVE components guests may have: x87, SSE, AVX, AVX-512. */
#define MV_XCR0_OFFERED	(XFEATURE_MASK_FPSSE | XFEATURE_MASK_YMM | \
			 XFEATURE_MASK_AVX512)
/* Components are numbered below this; the AVX-512 ones end at 7. */
#define MV_XFEATURES		8
/* The legacy (FXSAVE) area and the XSAVE header: where components start */
#define MV_XSAVE_BASE_SIZE	(512 + 64)
/* CPUID 0xd, subleaf i, ECX bit 1: aligned to 64 bytes when compacted */
#define MV_XCOMP_ALIGN64	BIT(1)

/**
 * struct mv_xcomp - where the host's CPU keeps one XSAVE component
 * @size: its size in bytes (CPUID 0xd subleaf EAX)
 * @offset: its offset in the standard format (EBX)
 * @flags: ECX of that subleaf
 */
struct mv_xcomp {
	u32 size;
	u32 offset;
	u32 flags;
};

/* (c) XCR0 as the host kernel set it; 0 when the host does not use XSAVE */
static u64 mv_host_xcr0;
/* (c) what a guest may have in XCR0: mv_host_xcr0 & MV_XCR0_OFFERED */
static u64 mv_supported_xcr0;
/* (c) the host's layout of each component in mv_supported_xcr0 */
static struct mv_xcomp mv_xcomp[MV_XFEATURES];

/**
 * mv_fpu_init() - module init: read the host's XCR0 and XSAVE layout
 */
void mv_fpu_init(void)
{
	u32 eax, ebx, ecx, edx;
	unsigned int i;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return;
	mv_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	mv_supported_xcr0 = mv_host_xcr0 & MV_XCR0_OFFERED;
	/* AVX-512 is all three components or none, and needs AVX */
	if ((mv_supported_xcr0 & XFEATURE_MASK_AVX512) != XFEATURE_MASK_AVX512 ||
	    !(mv_supported_xcr0 & XFEATURE_MASK_YMM))
		mv_supported_xcr0 &= ~XFEATURE_MASK_AVX512;
	for (i = 2; i < MV_XFEATURES; i++) {
		if (!(mv_supported_xcr0 & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		mv_xcomp[i].size = eax;
		mv_xcomp[i].offset = ebx;
		mv_xcomp[i].flags = ecx;
	}
}

/**
 * mv_fpu_supported_xcr0() - the XSAVE components guests may enable
 *
 * Return: the XCR0 bits KVM_GET_SUPPORTED_CPUID offers in leaf 0xd.
 */
u64 mv_fpu_supported_xcr0(void)
{
	return mv_supported_xcr0;
}

/**
 * mv_fpu_xstate_size() - bytes of an XSAVE area holding some components
 * @xfeatures: the components (XCR0 bits); those not offered are ignored
 * @compacted: in the compacted format (XSAVEC) rather than the standard one
 *
 * Return: the size, at least the legacy area and the header (576 bytes).
 */
u32 mv_fpu_xstate_size(u64 xfeatures, bool compacted)
{
	u32 size = MV_XSAVE_BASE_SIZE, offset;
	unsigned int i;

	for (i = 2; i < MV_XFEATURES; i++) {
		const struct mv_xcomp *c = &mv_xcomp[i];

		if (!(xfeatures & mv_supported_xcr0 & BIT_ULL(i)))
			continue;
		if (!compacted)
			offset = c->offset;
		else if (c->flags & MV_XCOMP_ALIGN64)
			offset = ALIGN(size, 64);
		else
			offset = size;
		size = max(size, offset + c->size);
	}
	return size;
}

/* The XCR0 bits the guest's CPUID (leaf 0xd, subleaf 0) gives it. */
static u64 mv_guest_xcr0_allowed(struct mv_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e = mv_cpuid_find(&vcpu->cpuid, 0xd, 0);

	if (!e)
		return 0;
	return (e->eax | (u64)e->edx << 32) & mv_supported_xcr0;
}

/* What __kvm_set_xcr() accepts for XCR0. */
static bool mv_xcr0_valid(struct mv_vcpu *vcpu, u64 xcr0)
{
	u64 avx512 = xcr0 & XFEATURE_MASK_AVX512;

	if (!(xcr0 & XFEATURE_MASK_FP))
		return false;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return false;
	/* x87 is always allowed, even with no XSAVE in the guest's CPUID */
	if (xcr0 & ~(mv_guest_xcr0_allowed(vcpu) | XFEATURE_MASK_FP))
		return false;
	if (avx512 && (avx512 != XFEATURE_MASK_AVX512 ||
		       !(xcr0 & XFEATURE_MASK_YMM)))
		return false;
	return true;
}

/* Sets XCR @index; only XCR0 exists.  0 or -EINVAL. */
static int mv_set_xcr(struct mv_vcpu *vcpu, u32 index, u64 value)
{
	if (index != XCR_XFEATURE_ENABLED_MASK || !mv_xcr0_valid(vcpu, value))
		return -EINVAL;
	vcpu->xs.xcr0 = value;
	return 0;
}

/**
 * mv_exit_xsetbv() - the guest executed XSETBV
 * @vcpu: the vCPU
 * @cpl: the guest's current privilege level
 * @insn_len: the length of the instruction, to skip it
 *
 * Called by the backend on its XSETBV exit (the CPU has already checked
 * CR4.OSXSAVE: XSETBV without it is a #UD before any exit).  Sets XCR0 from
 * EDX:EAX when ECX is 0, the guest is at CPL 0 and the value is one its
 * CPUID allows; otherwise injects #GP(0), as KVM does.  The new XCR0 is
 * loaded by mv_fpu_enter_irqoff() before the next entry.
 *
 * Return: 1, enter the guest again.
 */
int mv_exit_xsetbv(struct mv_vcpu *vcpu, unsigned int cpl, u8 insn_len)
{
	struct kvm_regs regs;
	u64 value;

	mv_ops->get_regs(vcpu, &regs);
	value = (u32)regs.rax | (u64)(u32)regs.rdx << 32;
	if (cpl || mv_set_xcr(vcpu, regs.rcx, value)) {
		mv_inject_exception(vcpu, X86_TRAP_GP, true, 0, 0);
		return 1;
	}
	regs.rip += insn_len;
	mv_ops->set_regs(vcpu, &regs);
	mv_single_step(vcpu, regs.rflags);
	return 1;
}

/**
 * mv_fpu_enter_irqoff() - load what the guest has of XCR0 and PKRU
 * @vcpu: the vCPU, about to enter
 *
 * Called by the backend with interrupts off, after switch_fpu_return() (the
 * guest's fpstate is restored with the host's XCR0) and right before the
 * entry.  As in KVM, the guest's XCR0 is loaded only while its CR4.OSXSAVE
 * is set: without it the guest cannot see XCR0.  mv_fpu_exit_irqoff() must
 * follow before interrupts are enabled again.
 */
void mv_fpu_enter_irqoff(struct mv_vcpu *vcpu)
{
	struct mv_xstate *xs = &vcpu->xs;
	bool pku = cpu_feature_enabled(X86_FEATURE_OSPKE);
	u64 cr4;

	if (!mv_host_xcr0 && !pku)
		return;
	cr4 = mv_read_cr4(vcpu);
	if (mv_host_xcr0 && (cr4 & X86_CR4_OSXSAVE) &&
	    xs->xcr0 != mv_host_xcr0) {
		xsetbv(XCR_XFEATURE_ENABLED_MASK, xs->xcr0);
		xs->xcr0_loaded = true;
	}
	if (pku) {
		xs->host_pkru = read_pkru();
		if (cr4 & X86_CR4_PKE) {
			write_pkru(xs->pkru);
			xs->pkru_loaded = true;
		}
	}
}

/*
 * Gives the host its XCR0 back, whatever the guest did.  The CPU's value is
 * read rather than trusted: a CPU that does not intercept XSETBV (QEMU's
 * emulated SVM does not) lets the guest set XCR0 itself, and then the
 * guest's XCR0 is what it set, kept for its next entry.
 */
static void mv_fpu_restore_xcr0(struct mv_xstate *xs)
{
	u64 cpu = xgetbv(XCR_XFEATURE_ENABLED_MASK);

	if (cpu != (xs->xcr0_loaded ? xs->xcr0 : mv_host_xcr0))
		xs->xcr0 = cpu;
	if (cpu != mv_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, mv_host_xcr0);
	xs->xcr0_loaded = false;
}

/**
 * mv_fpu_exit_irqoff() - give the host its XCR0 and PKRU back
 * @vcpu: the vCPU, just out of the guest
 *
 * Called by the backend with interrupts still off, right after the exit,
 * before anything can use the FPU.  The guest may have changed its CR4
 * meanwhile, so what was loaded is undone whatever CR4 says now, and a
 * PKRU the guest may have written is kept.
 */
void mv_fpu_exit_irqoff(struct mv_vcpu *vcpu)
{
	struct mv_xstate *xs = &vcpu->xs;
	u32 pkru;

	if (mv_host_xcr0)
		mv_fpu_restore_xcr0(xs);
	if (!cpu_feature_enabled(X86_FEATURE_OSPKE))
		return;
	pkru = read_pkru();
	if (xs->pkru_loaded || (mv_read_cr4(vcpu) & X86_CR4_PKE))
		xs->pkru = pkru;
	if (pkru != xs->host_pkru)
		write_pkru(xs->host_pkru);
	xs->pkru_loaded = false;
}

/**
 * mv_fpu_create() - give a new vCPU its FPU state, in the reset state
 * @vcpu: the vCPU
 *
 * Return: true, or false when out of memory.
 */
bool mv_fpu_create(struct mv_vcpu *vcpu)
{
	vcpu->xs.xcr0 = XFEATURE_MASK_FP;
	return fpu_alloc_guest_fpstate(&vcpu->fpu);
}

/**
 * mv_fpu_free() - free what mv_fpu_create() allocated
 * @vcpu: the vCPU
 */
void mv_fpu_free(struct mv_vcpu *vcpu)
{
	fpu_free_guest_fpstate(&vcpu->fpu);
}

/* KVM_GET_FPU: the FXSAVE image, in struct kvm_fpu's order. */
static long mv_get_fpu(struct mv_vcpu *vcpu, void __user *argp)
{
	const struct fxregs_state *fx = &vcpu->fpu.fpstate->regs.fxsave;
	struct kvm_fpu *f;
	long r = 0;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	memcpy(f->fpr, fx->st_space, sizeof(f->fpr));
	f->fcw = fx->cwd;
	f->fsw = fx->swd;
	f->ftwx = fx->twd;
	f->last_opcode = fx->fop;
	f->last_ip = fx->rip;
	f->last_dp = fx->rdp;
	memcpy(f->xmm, fx->xmm_space, sizeof(f->xmm));
	/* as in KVM, mxcsr is not read: KVM_GET_XSAVE has it */
	if (copy_to_user(argp, f, sizeof(*f)))
		r = mv_fail(-EFAULT);
	kfree(f);
	return r;
}

/*
 * KVM_SET_FPU.  As in KVM, mxcsr is ignored.  Unlike KVM, the x87 and SSE
 * components are marked as not in their initial state in the XSAVE header,
 * or XRSTOR would ignore the registers just written.
 */
static long mv_set_fpu(struct mv_vcpu *vcpu, void __user *argp)
{
	struct fpstate *fps = vcpu->fpu.fpstate;
	struct fxregs_state *fx = &fps->regs.fxsave;
	struct kvm_fpu *f;

	f = memdup_user(argp, sizeof(*f));
	if (IS_ERR(f))
		return mv_fail(PTR_ERR(f));
	memcpy(fx->st_space, f->fpr, sizeof(f->fpr));
	fx->cwd = f->fcw;
	fx->swd = f->fsw;
	fx->twd = f->ftwx;
	fx->fop = f->last_opcode;
	fx->rip = f->last_ip;
	fx->rdp = f->last_dp;
	memcpy(fx->xmm_space, f->xmm, sizeof(f->xmm));
	if (mv_host_xcr0)
		fps->regs.xsave.header.xfeatures |= XFEATURE_MASK_FPSSE;
	kfree(f);
	return 0;
}

/*
 * KVM_GET_XSAVE and KVM_GET_XSAVE2: as in KVM, only the components the
 * guest's CPUID allows, and x87 and SSE always, are in the image, so that
 * it can be set on a host with fewer components.
 */
static long mv_get_xsave(struct mv_vcpu *vcpu, void __user *argp)
{
	struct kvm_xsave *x;
	long r = 0;

	x = kzalloc(sizeof(*x), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	fpu_copy_guest_fpstate_to_uabi(&vcpu->fpu, x->region, sizeof(x->region),
				       mv_guest_xcr0_allowed(vcpu) |
				       XFEATURE_MASK_FPSSE, vcpu->xs.pkru);
	if (copy_to_user(argp, x, sizeof(*x)))
		r = mv_fail(-EFAULT);
	kfree(x);
	return r;
}

/*
 * KVM_SET_XSAVE.  The kernel's helper refuses, with -EINVAL, components the
 * host does not offer guests, a compacted image, reserved header bits and
 * reserved MXCSR bits.
 */
static long mv_set_xsave(struct mv_vcpu *vcpu, void __user *argp)
{
	union fpregs_state *st;
	struct kvm_xsave *x;
	long r;

	x = memdup_user(argp, sizeof(*x));
	if (IS_ERR(x))
		return mv_fail(PTR_ERR(x));
	/* as in KVM: components disabled by XFD must be in the init state */
	st = (union fpregs_state *)x->region;
	st->xsave.header.xfeatures &= ~vcpu->fpu.fpstate->xfd;
	r = fpu_copy_uabi_to_guest_fpstate(&vcpu->fpu, x->region,
					   mv_supported_xcr0, &vcpu->xs.pkru);
	kfree(x);
	return r ? mv_fail(r) : 0;
}

/* KVM_GET_XCRS: XCR0, when the host has XSAVE; no XCR otherwise. */
static long mv_get_xcrs(struct mv_vcpu *vcpu, void __user *argp)
{
	struct kvm_xcrs *x;
	long r = 0;

	x = kzalloc(sizeof(*x), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	if (mv_host_xcr0) {
		x->nr_xcrs = 1;
		x->xcrs[0].xcr = XCR_XFEATURE_ENABLED_MASK;
		x->xcrs[0].value = vcpu->xs.xcr0;
	}
	if (copy_to_user(argp, x, sizeof(*x)))
		r = mv_fail(-EFAULT);
	kfree(x);
	return r;
}

/*
 * KVM_SET_XCRS.  As in KVM: -EINVAL without XSAVE, for flags, for more than
 * KVM_MAX_XCRS entries, or for an XCR0 the guest could not set itself;
 * the first entry for XCR0 is used and other XCRs are ignored.
 */
static long mv_set_xcrs(struct mv_vcpu *vcpu, void __user *argp)
{
	struct kvm_xcrs *x;
	long r = 0;
	u32 i;

	x = memdup_user(argp, sizeof(*x));
	if (IS_ERR(x))
		return mv_fail(PTR_ERR(x));
	if (!mv_host_xcr0 || x->flags || x->nr_xcrs > KVM_MAX_XCRS) {
		r = mv_fail(-EINVAL);
		goto out;
	}
	for (i = 0; i < x->nr_xcrs; i++) {
		if (x->xcrs[i].xcr != XCR_XFEATURE_ENABLED_MASK)
			continue;
		if (mv_set_xcr(vcpu, x->xcrs[i].xcr, x->xcrs[i].value))
			r = mv_fail(-EINVAL);
		break;
	}
out:
	kfree(x);
	return r;
}

/**
 * mv_fpu_ioctl() - the vCPU ioctls of the FPU and XSAVE state
 * @vcpu: the vCPU; caller holds its mutex, so the guest's fpstate is not
 *	in use
 * @cmd: KVM_GET_FPU, KVM_SET_FPU, KVM_GET_XSAVE, KVM_SET_XSAVE,
 *	KVM_GET_XSAVE2, KVM_GET_XCRS or KVM_SET_XCRS
 * @argp: the ioctl's argument
 *
 * Return: 0, or -EINVAL, -EFAULT, -ENOMEM as KVM returns them.
 */
long mv_fpu_ioctl(struct mv_vcpu *vcpu, unsigned int cmd, void __user *argp)
{
	switch (cmd) {
	case KVM_GET_FPU:
		return mv_get_fpu(vcpu, argp);
	case KVM_SET_FPU:
		return mv_set_fpu(vcpu, argp);
	case KVM_GET_XSAVE:
	case KVM_GET_XSAVE2:
		/* the same: the state never outgrows struct kvm_xsave */
		return mv_get_xsave(vcpu, argp);
	case KVM_SET_XSAVE:
		return mv_set_xsave(vcpu, argp);
	case KVM_GET_XCRS:
		return mv_get_xcrs(vcpu, argp);
	case KVM_SET_XCRS:
		return mv_set_xcrs(vcpu, argp);
	default:
		return mv_fail(-EINVAL);
	}
}

/**
 * mv_fpu_check_extension() - the FPU capabilities for KVM_CHECK_EXTENSION
 * @cap: KVM_CAP_XSAVE, KVM_CAP_XCRS or KVM_CAP_XSAVE2
 *
 * Return: 1 for KVM_CAP_XSAVE; for KVM_CAP_XCRS whether the host has XSAVE;
 * for KVM_CAP_XSAVE2 the size KVM_GET_XSAVE2 copies; 0 for anything else.
 */
long mv_fpu_check_extension(unsigned long cap)
{
	switch (cap) {
	case KVM_CAP_XSAVE:
		return 1;
	case KVM_CAP_XCRS:
		return !!mv_host_xcr0;
	case KVM_CAP_XSAVE2:
		return max_t(u32, mv_fpu_xstate_size(mv_supported_xcr0, false),
			     sizeof(struct kvm_xsave));
	default:
		return 0;
	}
}
