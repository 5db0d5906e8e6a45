/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * minivisor: the extensions minivisor adds to the KVM x86 ABI.
 *
 * The ABI shared with KVM (ioctl numbers, structures, exit reasons) is
 * <linux/kvm.h>; this header only declares what KVM does not have.  Every
 * extension is announced by a capability that KVM_CHECK_EXTENSION answers,
 * numbered far above KVM's own capabilities so that the two never collide.
 */
#ifndef _UAPI_LINUX_MINIVISOR_H
#define _UAPI_LINUX_MINIVISOR_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/kvm.h>
#include <linux/types.h>

/* ioctl magic of minivisor's own ioctls; numbers 0x80-0xff of it are ours. */
#define MVIO				0xAF

/* Capabilities, for KVM_CHECK_EXTENSION. */
#define MV_CAP_BASE			0x4d560000	/* "MV" */
#define MV_CAP_INFO			(MV_CAP_BASE + 0)	/* MV_GET_INFO */
/*
 * The MMU mode of a VM.  KVM_CHECK_EXTENSION answers the MV_MMU_* bits of
 * the modes this host can run; KVM_ENABLE_CAP on a VM fd, before its first
 * vCPU, with args[0] one MV_MMU_* bit, selects that mode for the VM
 * (-EINVAL for a mode the host cannot run, -EBUSY once vCPUs exist).  A VM
 * that does not choose gets the module parameter "mmu"'s mode.
 */
#define MV_CAP_MMU_MODE			(MV_CAP_BASE + 1)
/*
 * The shadow MMU's root cache, for benchmarking.  KVM_CHECK_EXTENSION
 * answers 1 where the host has shadow paging; KVM_ENABLE_CAP on a VM fd,
 * at any time, with args[0] 0 or 1 turns the VM's cache off (roots of
 * address spaces a vCPU leaves are then zapped) or on (the default);
 * another value is -EINVAL.  The VM's shadow page budget is KVM's
 * KVM_SET_NR_MMU_PAGES (KVM_CAP_MMU_SHADOW_CACHE_CONTROL).
 */
#define MV_CAP_SHADOW_ROOT_CACHE	(MV_CAP_BASE + 2)

/* struct minivisor_info.backend */
#define MV_BACKEND_VMX			1	/* Intel VT-x */
#define MV_BACKEND_SVM			2	/* AMD-V */

/* struct minivisor_info.mmu_modes: the MMU modes guests can run in here */
#define MV_MMU_SHADOW			_BITUL(0)
#define MV_MMU_TDP			_BITUL(1)	/* EPT or NPT */

/* struct minivisor_info.features: what the hardware offers */
#define MV_FEAT_EPT			_BITUL(0)
#define MV_FEAT_VPID			_BITUL(1)
#define MV_FEAT_UNRESTRICTED_GUEST	_BITUL(2)
#define MV_FEAT_NPT			_BITUL(8)
#define MV_FEAT_NRIPS			_BITUL(9)
#define MV_FEAT_DECODE_ASSISTS		_BITUL(10)
#define MV_FEAT_VGIF			_BITUL(11)

/* The version MV_GET_INFO reports; bumped when an extension is added. */
#define MV_ABI_VERSION			1

/**
 * struct minivisor_info - what MV_GET_INFO reports
 * @abi_version: MV_ABI_VERSION of the running module
 * @backend: MV_BACKEND_VMX or MV_BACKEND_SVM
 * @mmu_modes: MV_MMU_* bits, the MMU modes guests can run in on this host
 * @features: MV_FEAT_* bits, the virtualization features of the CPU
 * @reserved: zero
 */
struct minivisor_info {
	__u32 abi_version;
	__u32 backend;
	__u32 mmu_modes;
	__u32 features;
	__u64 reserved[6];
};

/* ioctl on /dev/minivisor; also answered on a VM fd. */
#define MV_GET_INFO			_IOR(MVIO, 0x80, struct minivisor_info)

#endif /* _UAPI_LINUX_MINIVISOR_H */
