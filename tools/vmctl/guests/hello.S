/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The smallest guest: real mode, loaded and entered at 0x1000 (CS = 0).
 * Prints a line through the 16550 at 0x3f8, then halts.
 */
	.code16
	.text
	.globl	_start
_start:
	mov	$msg, %si
	mov	$0x3f8, %dx
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, %dx
	jmp	1b
2:	hlt
	jmp	2b

msg:
	.asciz	"Hello from a guest of minivisor, in real mode.\n"
