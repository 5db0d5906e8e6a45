/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry of the Multiboot 1 guest: the header, then 32-bit code entered
 * with EAX the boot magic and EBX the information structure.  Built twice:
 * as an ELF (the loader reads the segments) and, with AOUT_KLUDGE defined,
 * as a flat file whose header carries the load addresses.
 */
#define MB_MAGIC	0x1badb002
#ifdef AOUT_KLUDGE
#define MB_FLAGS	0x00010002	/* memory information, load addresses */
#else
#define MB_FLAGS	0x00000002	/* memory information */
#endif

	.section .multiboot, "a"
	.balign	4
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
	.long	mb_header		/* header_addr ... */
	.long	mb_header		/* load_addr: the file starts here */
	.long	_edata			/* load_end_addr */
	.long	_end			/* bss_end_addr */
	.long	_start			/* entry_addr */

	.code32
	.text
	.globl	_start
_start:
	mov	$stack_top, %esp
	push	%ebx
	push	%eax
	call	mb_main
1:	hlt
	jmp	1b

	.bss
	.balign	16
	.space	8192
stack_top:
