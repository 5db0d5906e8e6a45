/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A guest that triple-faults: real mode, an empty interrupt table, then an
 * exception: #UD cannot be delivered, nor the #GP, nor the #DF.
 */
	.code16
	.text
	.globl	_start
_start:
	lidt	idt
	ud2

idt:
	.word	0
	.long	0
