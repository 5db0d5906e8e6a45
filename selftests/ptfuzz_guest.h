/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ptfuzz_test.c shares with its legacy-mode guest code,
 * ptfuzz_guest.S: the layout of a round (struct fz_round, whose offsets
 * the C side checks), of the legacy-mode state (ptfuzz_g32), the
 * selectors and the fixed addresses of the 32-bit paging modes.
 */
#ifndef PTFUZZ_GUEST_H
#define PTFUZZ_GUEST_H

#define PTFUZZ_MAX_PRO		4
#define PTFUZZ_MAX_MUT		8
#define PTFUZZ_MAX_INV		16
#define PTFUZZ_MAX_ACC		48

/* struct fz_round, in bytes */
#define R_MODE			8
#define R_CR0_WP		16
#define R_CR4			24
#define R_EFER			32
#define R_CR3			40
#define R_FLUSH			48
#define R_NMUT			56
#define R_NACC			64
#define R_NINV			72
#define R_NPRO			80
#define R_PRO_GPA		88
#define R_PRO_VAL		120
#define R_MUT_VA		152
#define R_MUT_VAL		216
#define R_INV			280
#define R_ACC			408
#define R_RES			1944

/* struct fz_access and struct fz_result: 32 bytes each */
#define A_GVA			0
#define A_VAL			8
#define A_TYPE			16
#define A_CPL			20
#define A_AC			24
#define A_SIZE			32
#define RES_VAL			0
#define RES_ERR			8
#define RES_CR2			16
#define RES_FAULT		24

#define ACC_READ		0
#define ACC_WRITE		1
#define ACC_FETCH		2

/* ptfuzz_g32: long mode's state while away, what the handlers record */
#define G_RSP			0
#define G_CR0			8
#define G_CR3			16
#define G_CR4			24
#define G_EFER			32
#define G_IDTR64		40	/* 10 bytes */
#define G_IDTR32		56	/* 6 bytes, set by the host */
#define G_TSS			64	/* set by the host */
#define G_KSP			68
#define G_KFSP			72
#define G_VAL			76
#define G_FAULT			80
#define G_ERR			84
#define G_CR2			88
#define G_XVEC			92	/* an exception no probe expects */
#define G_XFRAME		96	/* its frame's first three words */
#define G_XCR2			108
#define G_GDT			112	/* set by the host */
#define G_SIZE			128

/* selectors: the library's GDT, and the test's CPL 3 descriptors */
#define SEL_CODE64		0x08
#define SEL_DATA		0x10
#define SEL_TSS			0x18
#define SEL_CODE32		0x28
#define SEL_UCODE		0x30
#define SEL_UDATA		0x38
#define SEL_UCODE32		0x40

/* 32-bit and PAE paging: the stub's page, then the CPL 3 stack page */
#define USER32_VA		0x01000000
#define USER32_STACK_TOP	0x01002000
/* where an unexpected exception in a legacy mode writes to */
#define PTFUZZ_XPORT		0xfff2

#endif /* PTFUZZ_GUEST_H */
