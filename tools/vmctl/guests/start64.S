/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry of the 64-bit ELF guest: vmctl enters it in long mode, identity
 * mapped; it takes its own stack, runs main() and halts.
 */
	.code64
	.text
	.globl	_start
_start:
	lea	stack_top(%rip), %rsp
	call	main
1:	hlt
	jmp	1b

	.bss
	.balign	16
	.space	8192
stack_top:
