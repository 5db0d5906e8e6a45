// SPDX-License-Identifier: GPL-2.0
/*
 * A 64-bit ELF guest: says where it runs, reads the time from the RTC,
 * checks it really is in 64-bit mode, and halts.
 */
#include "guest.h"

int main(void)
{
	uint64_t efer;
	uint32_t lo, hi;

	puts("Hello from a 64-bit ELF guest of minivisor, in long mode.\n");
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	efer = (uint64_t)hi << 32 | lo;
	puts("EFER: 0x");
	puthex(efer, 4);
	puts(efer & (1 << 10) ? " (LMA)\n" : " (no LMA?)\n");
	print_rtc();
	return 0;
}
