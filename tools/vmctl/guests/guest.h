/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the C guests share: port I/O, the 16550 at 0x3f8, the RTC, the
 * debug-exit port.  Built both 32-bit (Multiboot) and 64-bit (ELF).
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>

#define BIT(n) (1u << (n))
#define BIT_ULL(n) (1ull << (n))

static inline void out8(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t in8(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void putc(char c);
void puts(const char *s);
void putdec(unsigned long v, int width);
void puthex(uint64_t v, int width);
void print_rtc(void);
void debug_exit(uint8_t v);

/* the Multiboot kernel's C entry, from guests/multiboot.S */
struct mb_info;
void mb_main(uint32_t magic, const struct mb_info *mbi);

#endif /* GUEST_H */
