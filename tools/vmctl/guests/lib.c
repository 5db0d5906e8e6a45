// SPDX-License-Identifier: GPL-2.0
/*
 * The C guests' printing, RTC and exit, on the bare (virtual) hardware.
 */
#include "guest.h"

#define UART		0x3f8
#define UART_LSR	5
#define LSR_THRE	0x20

#define RTC_INDEX	0x70
#define RTC_DATA	0x71

void putc(char c)
{
	while (!(in8(UART + UART_LSR) & LSR_THRE))
		;
	out8(UART, c);
}

void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

/* unsigned long: no 64-bit division in the 32-bit guest */
static void putnum(unsigned long v, unsigned int base, int width)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n < width)
		buf[n++] = '0';
	while (n)
		putc(buf[--n]);
}

void putdec(unsigned long v, int width)
{
	putnum(v, 10, width);
}

void puthex(uint64_t v, int width)
{
	if (v >> 32) {
		putnum(v >> 32, 16, width > 8 ? width - 8 : 0);
		putnum((uint32_t)v, 16, 8);
	} else {
		putnum(v, 16, width);
	}
}

static unsigned int rtc(uint8_t reg)
{
	uint8_t v;

	out8(RTC_INDEX, reg);
	v = in8(RTC_DATA);
	return (v >> 4) * 10 + (v & 0xf);	/* BCD */
}

/* "RTC: YYYY-MM-DD hh:mm:ss", read once the clock is not updating */
void print_rtc(void)
{
	unsigned int y, mo, d, h, mi, s;

	out8(RTC_INDEX, 0x0a);
	while (in8(RTC_DATA) & 0x80)
		out8(RTC_INDEX, 0x0a);
	s = rtc(0x00);
	mi = rtc(0x02);
	h = rtc(0x04);
	d = rtc(0x07);
	mo = rtc(0x08);
	y = rtc(0x32) * 100 + rtc(0x09);
	puts("RTC: ");
	putdec(y, 4);
	putc('-');
	putdec(mo, 2);
	putc('-');
	putdec(d, 2);
	putc(' ');
	putdec(h, 2);
	putc(':');
	putdec(mi, 2);
	putc(':');
	putdec(s, 2);
	putc('\n');
}

void debug_exit(uint8_t v)
{
	out8(0xf4, v);
}
