/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Echoes what the 16550 receives (vmctl's stdin) up to a newline, polling
 * the line status for data ready, then halts.
 */
	.code16
	.text
	.globl	_start
_start:
1:	mov	$0x3fd, %dx		/* line status */
	in	%dx, %al
	test	$1, %al			/* data ready */
	jz	1b
	mov	$0x3f8, %dx
	in	%dx, %al
	out	%al, %dx
	cmp	$0x0a, %al
	jne	1b
	hlt
