// SPDX-License-Identifier: GPL-2.0
/*
 * The VMX controls minivisor needs and wants, checked against what a CPU
 * allows.  Bit positions are those of the Intel SDM, vol. 3, chapter 25
 * and appendix A, as <asm/vmx.h> names them.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/vmx.h>

#include "../compat.h"
#include "../mmu/tdp.h"
#include "ctls.h"

/* EPT entries (SDM vol. 3, 29.3.2): read, write, execute; write-back. */
#define EPT_READ		BIT_ULL(0)
#define EPT_WRITE		BIT_ULL(1)
#define EPT_EXEC		BIT_ULL(2)
#define EPT_MT_WB		(6ULL << 3)
#define EPT_LARGE		BIT_ULL(7)

/* IA32_VMX_BASIC bit 55: the IA32_VMX_TRUE_*_CTLS MSRs exist */
#define BASIC_TRUE_CTLS		BIT_ULL(55)

/* A control minivisor cannot run guests without, and its name. */
struct vmx_need {
	u32 bit;
	const char *why;
};

static const struct vmx_need pin_need[] = {
	{ PIN_BASED_EXT_INTR_MASK,
	  "VMX: the CPU lacks external-interrupt exiting" },
	{ PIN_BASED_NMI_EXITING, "VMX: the CPU lacks NMI exiting" },
};

static const struct vmx_need proc_need[] = {
	{ CPU_BASED_HLT_EXITING, "VMX: the CPU lacks HLT exiting" },
	{ CPU_BASED_USE_TSC_OFFSETTING, "VMX: the CPU lacks TSC offsetting" },
	{ CPU_BASED_MWAIT_EXITING, "VMX: the CPU lacks MWAIT exiting" },
	{ CPU_BASED_MONITOR_EXITING, "VMX: the CPU lacks MONITOR exiting" },
	{ CPU_BASED_CR8_LOAD_EXITING, "VMX: the CPU lacks CR8-load exiting" },
	{ CPU_BASED_CR8_STORE_EXITING,
	  "VMX: the CPU lacks CR8-store exiting" },
	{ CPU_BASED_MOV_DR_EXITING, "VMX: the CPU lacks MOV-DR exiting" },
	{ CPU_BASED_UNCOND_IO_EXITING,
	  "VMX: the CPU lacks unconditional I/O exiting" },
	{ CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
	  "VMX: the CPU has no secondary processor-based controls" },
};

static const struct vmx_need proc2_need[] = {
	{ SECONDARY_EXEC_ENABLE_EPT, "VMX: the CPU lacks EPT" },
	{ SECONDARY_EXEC_UNRESTRICTED_GUEST,
	  "VMX: the CPU lacks unrestricted guest" },
};

static const struct vmx_need exit_need[] = {
	{ VM_EXIT_HOST_ADDR_SPACE_SIZE,
	  "VMX: the CPU cannot exit to a 64-bit host" },
	{ VM_EXIT_SAVE_IA32_PAT, "VMX: the CPU cannot save IA32_PAT on exit" },
	{ VM_EXIT_LOAD_IA32_PAT, "VMX: the CPU cannot load IA32_PAT on exit" },
	{ VM_EXIT_SAVE_IA32_EFER,
	  "VMX: the CPU cannot save IA32_EFER on exit" },
	{ VM_EXIT_LOAD_IA32_EFER,
	  "VMX: the CPU cannot load IA32_EFER on exit" },
	/* the guest's DR7 and DEBUGCTL, kept in the VMCS (kmod/exc.c) */
	{ VM_EXIT_SAVE_DEBUG_CONTROLS,
	  "VMX: the CPU cannot save the debug controls on exit" },
};

static const struct vmx_need entry_need[] = {
	{ VM_ENTRY_LOAD_IA32_PAT,
	  "VMX: the CPU cannot load IA32_PAT on entry" },
	{ VM_ENTRY_LOAD_IA32_EFER,
	  "VMX: the CPU cannot load IA32_EFER on entry" },
	/* else the guest runs with the host's DR7 and DEBUGCTL */
	{ VM_ENTRY_LOAD_DEBUG_CONTROLS,
	  "VMX: the CPU cannot load the debug controls on entry" },
	/* set per vCPU, but it must be allowed */
	{ VM_ENTRY_IA32E_MODE, "VMX: the CPU cannot enter 64-bit guests" },
};

/* What shadow paging intercepts: guest CR3 loads and reads, INVLPG */
#define PROC_SHADOW	(CPU_BASED_CR3_LOAD_EXITING | \
			 CPU_BASED_CR3_STORE_EXITING | \
			 CPU_BASED_INVLPG_EXITING)

/*
 * Controls that help but are not needed: the MSR bitmap, RDPMC, VPID,
 * WBINVD exiting (a guest's WBINVD would flush the host's caches).
 */
#define PROC_WANT	(CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_RDPMC_EXITING)
#define PROC2_WANT	(SECONDARY_EXEC_ENABLE_VPID | \
			 SECONDARY_EXEC_WBINVD_EXITING)

/*
 * Computes one control field from its capability MSR: the needed bits,
 * the wanted ones the CPU allows, and the ones it forces to 1.  Returns
 * false, with @why set, when a needed bit is not allowed.
 */
static bool vmx_adjust(u64 cap, const struct vmx_need *need, size_t n,
		       u32 want, u32 *ctl, const char **why)
{
	u32 must = cap, may = cap >> 32;
	u32 val = want & may;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(may & need[i].bit)) {
			*why = need[i].why;
			return false;
		}
		val |= need[i].bit;
	}
	*ctl = val | must;
	return true;
}

/**
 * mv_vmx_compute_ctls() - the VMX controls to run guests with on a CPU
 * @caps: the CPU's VMX capability MSRs
 * @ctls: filled with the controls; on failure only @ctls->why is meaningful
 *
 * Needs external-interrupt and NMI exiting; HLT, MWAIT, MONITOR, CR8,
 * MOV-DR and unconditional I/O exiting; TSC offsetting; EPT with 4-level
 * walks, write-back tables and INVEPT; unrestricted guest; a 64-bit host;
 * EFER, PAT and the debug controls (DR7, DEBUGCTL) switched by the VMCS;
 * interrupt-window exiting allowed (set per vCPU, not in @ctls->proc).
 * Uses the MSR bitmap, RDPMC and WBINVD exiting and VPIDs (with
 * single-context INVVPID) when the CPU has them.  Every other control is
 * 0 unless the CPU forces it to 1; the TRUE_* MSRs, when IA32_VMX_BASIC
 * says they exist, let fewer be forced (CR3 exiting).
 * Shadow paging is possible when CR3-load, CR3-store and INVLPG exiting
 * may be set and EPT and unrestricted guest may be clear (never forced).
 *
 * Return: 0, or -EIO when the CPU lacks a control minivisor needs.
 */
int mv_vmx_compute_ctls(const struct mv_vmx_cap_msrs *caps,
			struct mv_vmx_ctls *ctls)
{
	bool has_true = caps->basic & BASIC_TRUE_CTLS;
	u64 ept = caps->ept_vpid;

	memset(ctls, 0, sizeof(*ctls));
	if (!vmx_adjust(has_true ? caps->true_pinbased : caps->pinbased,
			pin_need, ARRAY_SIZE(pin_need), 0, &ctls->pin,
			&ctls->why) ||
	    !vmx_adjust(has_true ? caps->true_procbased : caps->procbased,
			proc_need, ARRAY_SIZE(proc_need), PROC_WANT,
			&ctls->proc, &ctls->why) ||
	    !vmx_adjust(caps->procbased2, proc2_need, ARRAY_SIZE(proc2_need),
			PROC2_WANT, &ctls->proc2, &ctls->why) ||
	    !vmx_adjust(has_true ? caps->true_exit : caps->exit,
			exit_need, ARRAY_SIZE(exit_need), 0, &ctls->exit,
			&ctls->why) ||
	    !vmx_adjust(has_true ? caps->true_entry : caps->entry,
			entry_need, ARRAY_SIZE(entry_need), 0, &ctls->entry,
			&ctls->why))
		return -EIO;
	/* chosen per vCPU, from the guest's EFER.LMA */
	ctls->entry &= ~VM_ENTRY_IA32E_MODE;
	/* set per vCPU while it waits for an interrupt window */
	if (!((has_true ? caps->true_procbased : caps->procbased) >> 32 &
	      CPU_BASED_INTR_WINDOW_EXITING)) {
		ctls->why = "VMX: the CPU lacks interrupt-window exiting";
		return -EIO;
	}

	if (!(ept & VMX_EPT_PAGE_WALK_4_BIT)) {
		ctls->why = "VMX: EPT lacks 4-level page walks";
		return -EIO;
	}
	if (!(ept & VMX_EPTP_WB_BIT)) {
		ctls->why = "VMX: EPT lacks write-back paging structures";
		return -EIO;
	}
	if (!(ept & VMX_EPT_INVEPT_BIT) ||
	    !(ept & (VMX_EPT_EXTENT_CONTEXT_BIT | VMX_EPT_EXTENT_GLOBAL_BIT))) {
		ctls->why = "VMX: the CPU lacks INVEPT";
		return -EIO;
	}
	ctls->invept_single = ept & VMX_EPT_EXTENT_CONTEXT_BIT;
	ctls->ept_2m = ept & VMX_EPT_2MB_PAGE_BIT;

	/* INVVPID's bits are in the high half of the EPT/VPID MSR */
	ctls->vpid = (ctls->proc2 & SECONDARY_EXEC_ENABLE_VPID) &&
		((ept >> 32) & VMX_VPID_INVVPID_BIT) &&
		((ept >> 32) & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT);
	if (!ctls->vpid)
		ctls->proc2 &= ~SECONDARY_EXEC_ENABLE_VPID;

	ctls->shadow_proc = PROC_SHADOW;
	ctls->shadow = !(~(u32)((has_true ? caps->true_procbased :
				 caps->procbased) >> 32) & PROC_SHADOW) &&
		!((u32)caps->procbased2 & (SECONDARY_EXEC_ENABLE_EPT |
					   SECONDARY_EXEC_UNRESTRICTED_GUEST));
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mv_vmx_compute_ctls);

/**
 * mv_vmx_ept_format() - the EPT entry format the CPU allows
 * @ctls: the controls mv_vmx_compute_ctls() found
 * @fmt: filled in
 *
 * Write-back leaves, readable and executable, writable on demand; 2 MiB
 * leaves only when IA32_VMX_EPT_VPID_CAP says the CPU has them (bit 16,
 * @ctls->ept_2m): a PDE with bit 7 set is otherwise a misconfiguration.
 */
void mv_vmx_ept_format(const struct mv_vmx_ctls *ctls,
		       struct mv_tdp_format *fmt)
{
	fmt->present = EPT_READ | EPT_WRITE | EPT_EXEC;
	fmt->table = EPT_READ | EPT_WRITE | EPT_EXEC;
	fmt->leaf = EPT_READ | EPT_EXEC | EPT_MT_WB;
	fmt->leaf_write = EPT_WRITE;
	fmt->large = ctls->ept_2m ? EPT_LARGE : 0;
}
EXPORT_SYMBOL_IF_KUNIT(mv_vmx_ept_format);
