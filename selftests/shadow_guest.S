/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guests of shadow_test, assembled with it and copied to guest
 * address 0x1000.  Each reports through OUT to port 0x10 and ends with
 * HLT.  Addresses are absolute (identity-mapped low memory); jumps are
 * relative, so the code runs wherever it is copied.
 */
	.section .rodata
	.intel_syntax noprefix
	.code64
/* #PF handler: CR2 and the error code to MBOX, resume at [MBOX+16] */
	.globl lm_pf_start, lm_pf_end, lm_pf_handler
lm_pf_start:
/* 1: a read where nothing is mapped (PD entry 2 not present) */
	lea rax, [rip + 1f]
	mov [0x5010], rax
	mov rax, [0x400000]
1:	mov eax, [0x5008]
	out 0x10, eax
	mov eax, [0x5000]
	out 0x10, eax
/* 2: a write to a read-only page (CR0.WP is set) */
	lea rax, [rip + 2f]
	mov [0x5010], rax
	mov byte ptr [0x20000], 1
2:	mov eax, [0x5008]
	out 0x10, eax
	mov eax, [0x5000]
	out 0x10, eax
/* 3: a fetch from a no-execute page */
	lea rax, [rip + 3f]
	mov [0x5010], rax
	mov rax, 0x21000
	call rax
3:	mov eax, [0x5008]
	out 0x10, eax
	mov eax, [0x5000]
	out 0x10, eax
/* 4: a read through an entry with a reserved bit set */
	lea rax, [rip + 4f]
	mov [0x5010], rax
	mov rax, [0x22008]
4:	mov eax, [0x5008]
	out 0x10, eax
	mov eax, [0x5000]
	out 0x10, eax
/* 5: the read-only page is still readable */
	mov eax, [0x20000]
	out 0x10, eax
	hlt
lm_pf_handler:
	push rax
	mov rax, cr2
	mov [0x5000], rax
	mov rax, [rsp + 8]
	mov [0x5008], rax
	mov rax, [0x5010]
	mov [rsp + 16], rax
	pop rax
	add rsp, 8
	iretq
lm_pf_end:
/* Accessed and Dirty: read page 0x23000, write page 0x24000 */
	.globl lm_ad_start, lm_ad_end
lm_ad_start:
	mov eax, [0x23000]
	mov dword ptr [0x24000], 0x5a5a
	out 0x10, eax
	hlt
lm_ad_end:
/*
 * The guest remaps gva 0x26000 from gpa 0x26000 to 0x27000 in its
 * own page table (which maps itself), INVLPGs, and reads again.
 */
	.globl lm_invlpg_start, lm_invlpg_end
lm_invlpg_start:
	mov eax, [0x26000]
	out 0x10, eax
	mov rax, 0x27023
	mov [0x13000 + 0x26 * 8], rax
	invlpg [0x26000]
	mov eax, [0x26000]
	out 0x10, eax
/* and back, with a MOV to CR3 as the flush */
	mov rax, 0x26003
	mov [0x13000 + 0x26 * 8], rax
	mov rax, cr3
	mov cr3, rax
	mov eax, [0x26000]
	out 0x10, eax
	hlt
lm_invlpg_end:
/*
 * 64 address spaces: CR3 = 0x100000 + i * 0x5000 maps, at gva
 * 0x8000000000 (PML4 entry 1), a page holding i.  Each round loads
 * them all, sums what it reads, and reports the sum.
 */
/*
 * A page that stops being a table: gva 0x200000 is read through the page
 * table at 0x14000, the PD entry pointing to it is cleared, and the page
 * is filled with data (0 to 15); the last one is reported.
 */
	.globl lm_flood_start, lm_flood_end
lm_flood_start:
	mov eax, [0x200000]
	out 0x10, eax
	mov qword ptr [0x12000 + 8], 0
	invlpg [0x200000]
	xor ecx, ecx
9:	mov [0x14000 + rcx * 8], rcx
	inc ecx
	cmp ecx, 16
	jne 9b
	mov eax, [0x14000 + 15 * 8]
	out 0x10, eax
	hlt
lm_flood_end:
/*
 * One page table (0x30000) under eight PD entries (gva k * 2 MiB for k = 1
 * to 8, every R/W, U/S and NX combination), read through in the four
 * CR0.WP and EFER.NXE combinations (NX entries only with NXE): 24 shadows
 * of one guest table.  Then entry 5 is rewritten (an emulated write all of
 * them must see) and each mapping read again.  Each report is the sum of
 * the reads of gva k * 2 MiB + 0x5000.
 */
	.globl lm_many_start, lm_many_end
lm_many_start:
	mov ebx, 8			/* WP, NXE */
	call many_touch
	out 0x10, eax
	call many_nxe_off
	mov ebx, 4			/* WP */
	call many_touch
	out 0x10, eax
	call many_wp_off
	call many_touch			/* none */
	out 0x10, eax
	call many_nxe_on
	mov ebx, 8			/* NXE */
	call many_touch
	out 0x10, eax
	mov rax, 0x41063		/* 0x41000, P RW A D */
	mov [0x30000 + 5 * 8], rax
	mov rax, cr3
	mov cr3, rax
	call many_touch			/* NXE */
	out 0x10, eax
	mov rax, cr0
	or eax, 0x10000
	mov cr0, rax
	call many_touch			/* WP, NXE */
	out 0x10, eax
	call many_nxe_off
	mov ebx, 4
	call many_touch			/* WP */
	out 0x10, eax
	call many_wp_off
	call many_touch			/* none */
	out 0x10, eax
	hlt
/* eax = the sum of the reads through the first ebx PD entries from 1 */
many_touch:
	xor eax, eax
	mov rsi, 0x205000
	mov ecx, ebx
1:	add eax, [rsi]
	add rsi, 0x200000
	dec ecx
	jnz 1b
	ret
many_nxe_off:
	mov ecx, 0xc0000080
	rdmsr
	and eax, ~0x800
	wrmsr
	ret
many_nxe_on:
	mov ecx, 0xc0000080
	rdmsr
	or eax, 0x800
	wrmsr
	ret
many_wp_off:
	mov rax, cr0
	and eax, ~0x10000
	mov cr0, rax
	ret
lm_many_end:
/*
 * Sums, for ever, the dwords at gpa 0x10000000 + k * 512 KiB for k < 512
 * (256 MiB of aliased slots, mapped by guest 2 MiB pages), reporting each
 * round's sum.
 */
	.globl lm_alias_start, lm_alias_end
lm_alias_start:
	xor ebx, ebx
	mov rsi, 0x10000000
	mov ecx, 512
1:	add ebx, [rsi]
	add rsi, 0x80000
	dec ecx
	jnz 1b
	mov eax, ebx
	out 0x10, eax
	jmp lm_alias_start
lm_alias_end:
	.globl lm_as_start, lm_as_end
lm_as_start:
	mov rbx, 0x8000000000
5:	xor ecx, ecx
	xor edx, edx
6:	mov rax, rcx
	imul rax, rax, 0x5000
	add rax, 0x100000
	mov cr3, rax
	add edx, [rbx]
	inc ecx
	cmp ecx, 64
	jne 6b
	mov eax, edx
	out 0x10, eax
	jmp 5b
lm_as_end:
/* reports the dword at 0x28000, over and over */
	.globl lm_loop_start, lm_loop_end
lm_loop_start:
	mov eax, [0x28000]
	out 0x10, eax
	jmp lm_loop_start
lm_loop_end:
/*
 * Two vCPUs in one address space: each, 200 times, points gva
 * 0x200000 + 0x1000 * id (RDI) at one of two pages by writing the
 * shared page table, INVLPGs, and checks it reads that page's tag;
 * a mismatch is reported as 0xbad, else the count.
 */
	.globl lm_share_start, lm_share_end
lm_share_start:
	xor ecx, ecx
	mov r9, rdi
	shl r9, 12
	add r9, 0x200000	/* gva 0x200000 + id * 0x1000 */
	lea r10, [rdi * 8 + 0x14000]	/* its entry in the shared PT */
7:	mov eax, ecx
	and eax, 1
	shl eax, 12
	mov rsi, rdi
	shl rsi, 13
	add rax, rsi
	add rax, 0x30000	/* 0x30000 + id * 0x2000 + (n & 1) * 0x1000 */
	mov r8, rax
	or rax, 3
	mov [r10], rax
	invlpg [r9]
	mov rax, [r9]
	cmp rax, r8
	jne 8f
	inc ecx
	cmp ecx, 200
	jne 7b
	mov eax, ecx
	out 0x10, eax
	hlt
8:	mov eax, 0xbad
	out 0x10, eax
	hlt
lm_share_end:
/*
 * A 2 MiB guest page at gva 0x600000: sums a dword of each of its 32
 * pages 64 KiB apart, writes the sum to its last page, and reports it.
 */
	.globl lm_2m_start, lm_2m_end
lm_2m_start:
	mov rbx, 0x600000
	xor ecx, ecx
	xor edx, edx
1:	add edx, [rbx + rcx]
	add ecx, 0x10000
	cmp ecx, 0x200000
	jne 1b
	mov [rbx + 0x1ff000], edx
	mov eax, edx
	out 0x10, eax
	hlt
lm_2m_end:
/*
 * The same 2 MiB page, which holds the page table of gva 0x800000 (at
 * offset 0x10000): written through the large page, read through the
 * table; the guest then rewrites the table's entry 0 through the large
 * page, INVLPGs, and reads both again.
 */
	.globl lm_2m_wp_start, lm_2m_wp_end
lm_2m_wp_start:
	mov dword ptr [0x600000 + 0x30000], 0x3333
	mov eax, [0x600000 + 0x30000]
	out 0x10, eax
	mov eax, [0x800000]
	out 0x10, eax
	mov rax, 0x40030023
	mov [0x600000 + 0x10000], rax
	invlpg [0x800000]
	mov eax, [0x800000]
	out 0x10, eax
	mov eax, [0x600000 + 0x50000]
	out 0x10, eax
	hlt
lm_2m_wp_end:
/*
 * 1 GiB guest pages: gva 0x40000000 (the THP-backed slot) summed as by
 * lm_2m, and gva 0x80000000 (gpa 0) read at 0x20000; both reported.
 */
	.globl lm_1g_start, lm_1g_end
lm_1g_start:
	mov rbx, 0x40000000
	xor ecx, ecx
	xor edx, edx
1:	add edx, [rbx + rcx]
	add ecx, 0x10000
	cmp ecx, 0x200000
	jne 1b
	mov [rbx + 0x1ff000], edx
	mov eax, edx
	out 0x10, eax
	mov rax, 0x80020000
	mov eax, [rax]
	out 0x10, eax
	hlt
lm_1g_end:
/*
 * Copy-on-write by the guest kernel: gva 0x200000 maps the shared page
 * 0x30000 read-only in two address spaces (CR3 0x10000 and 0x17000, page
 * tables 0x14000 and 0x1a000).  A write to it faults; the #PF handler
 * copies the page to 0x31000, points this space's entry there writable,
 * INVLPGs, and returns to the write.  Reported: the page before, the
 * handler's error code and CR2, then the page as each space sees it.
 */
	.globl lm_cow_start, lm_cow_end, lm_cow_handler
lm_cow_start:
	mov eax, [0x200000]
	out 0x10, eax
	mov dword ptr [0x200000], 0x1111
	mov eax, [0x5008]
	out 0x10, eax
	mov eax, [0x5000]
	out 0x10, eax
	mov eax, [0x200000]
	out 0x10, eax
	mov rax, 0x17000
	mov cr3, rax
	mov eax, [0x200000]
	out 0x10, eax
	mov rax, 0x10000
	mov cr3, rax
	mov eax, [0x200000]
	out 0x10, eax
	hlt
lm_cow_handler:
	push rax
	push rcx
	push rsi
	push rdi
	mov rax, cr2
	mov [0x5000], rax
	mov rax, [rsp + 32]
	mov [0x5008], rax
	mov rsi, 0x30000
	mov rdi, 0x31000
	mov ecx, 512
	cld
	rep movsq
	mov rax, 0x31023
	mov [0x14000], rax
	invlpg [0x200000]
	pop rdi
	pop rsi
	pop rcx
	pop rax
	add rsp, 8
	iretq
lm_cow_end:
/*
 * 32-bit protected mode, paging set up by the VMM (32-bit or PAE):
 * reads gva 0x400000 (a 4 MiB / 2 MiB page at gpa 0x200000), writes
 * gva 0x800000 (a 4 KiB page at gpa 0x29000), reports both.
 */
	.code32
	.globl pm_start, pm_end
pm_start:
	mov eax, [0x400000 + 0x10]
	out 0x10, eax
	mov dword ptr [0x800000], 0x32323232
	mov eax, [0x29000]
	out 0x10, eax
	hlt
pm_end:
	.code64
	.att_syntax prefix
	.section .note.GNU-stack, "", @progbits
