/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest of df_test, copied to guest address 0x1000: it reads an
 * address nothing maps (0x400000), with RSP where the test put it; its #DF
 * handler reports the error code it finds on its stack, then 0xdf, through
 * OUT to port 0x10.  Reaching past the read is a failure (0xbad).
 */
	.section .rodata
	.intel_syntax noprefix
	.code64
	.globl df_guest_start, df_guest_handler, df_guest_end
df_guest_start:
	mov rax, [0x400000]
	mov eax, 0xbad
	out 0x10, eax
	hlt
df_guest_handler:
	mov rax, [rsp]
	out 0x10, eax
	mov eax, 0xdf
	out 0x10, eax
	hlt
df_guest_end:
	.att_syntax prefix
	.section .note.GNU-stack, "", @progbits
