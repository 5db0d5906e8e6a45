/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reads what is not there, twice each: port 0x1234 and, run with --mem 1M,
 * the MMIO at 1M (0xffff:0x10).  Both must read all-ones; then it exits
 * through the debug-exit port with 0x10 (vmctl exits 33), else with 1.
 */
	.code16
	.text
	.globl	_start
_start:
	mov	$2, %cx
1:	mov	$0x1234, %dx
	in	%dx, %al
	cmp	$0xff, %al
	jne	bad
	mov	$0xffff, %ax
	mov	%ax, %ds
	mov	0x10, %ebx
	xor	%ax, %ax
	mov	%ax, %ds
	cmp	$0xffffffff, %ebx
	jne	bad
	loop	1b
	mov	$0x10, %al
	out	%al, $0xf4
	hlt
bad:
	mov	$1, %al
	out	%al, $0xf4
	hlt
