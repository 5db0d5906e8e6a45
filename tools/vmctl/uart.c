// SPDX-License-Identifier: GPL-2.0
/*
 * A 16550 UART at 0x3f8, wired to stdout and stdin, polled: no interrupts,
 * no FIFO, the transmitter always empty.  A byte is received when stdin
 * has one ready as the guest reads the line status.
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "devices.h"

#define UART_BASE	0x3f8
#define UART_RBR	0	/* receive buffer (read), transmit (write) */
#define UART_IER	1	/* interrupt enable */
#define UART_IIR	2	/* interrupt identification (read) */
#define UART_LCR	3	/* line control */
#define UART_MCR	4	/* modem control */
#define UART_LSR	5	/* line status */
#define UART_MSR	6	/* modem status */
#define UART_SCR	7	/* scratch */

#define LCR_DLAB	0x80	/* registers 0 and 1 are the divisor */
#define LSR_DR		0x01	/* data ready */
#define LSR_THRE	0x20	/* transmit holding register empty */
#define LSR_TEMT	0x40	/* transmitter empty */
#define IIR_NONE	0x01	/* no interrupt pending */
#define MSR_DCD_DSR_CTS	0xb0

/* [single-threaded: the vCPU loop] */
static struct {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	int rx;			/* the received byte, -1 for none */
	bool eof;		/* stdin has no more */
} uart = { .dll = 1, .rx = -1 };

static void receive(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	unsigned char c;

	if (uart.rx >= 0 || uart.eof || poll(&p, 1, 0) != 1)
		return;
	if (read(STDIN_FILENO, &c, 1) == 1)
		uart.rx = c;
	else
		uart.eof = true;
}

static uint8_t uart_read(unsigned int reg)
{
	uint8_t v;

	switch (reg) {
	case UART_RBR:
		if (uart.lcr & LCR_DLAB)
			return uart.dll;
		receive();
		v = uart.rx < 0 ? 0 : uart.rx;
		uart.rx = -1;
		return v;
	case UART_IER:
		return uart.lcr & LCR_DLAB ? uart.dlm : uart.ier;
	case UART_IIR:
		return IIR_NONE;
	case UART_LCR:
		return uart.lcr;
	case UART_MCR:
		return uart.mcr;
	case UART_LSR:
		receive();
		return LSR_THRE | LSR_TEMT | (uart.rx >= 0 ? LSR_DR : 0);
	case UART_MSR:
		return MSR_DCD_DSR_CTS;
	default:
		return uart.scr;
	}
}

static void uart_write(unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR:
		if (uart.lcr & LCR_DLAB) {
			uart.dll = v;
		} else {
			putchar(v);
			fflush(stdout);
		}
		break;
	case UART_IER:
		if (uart.lcr & LCR_DLAB)
			uart.dlm = v;
		else
			uart.ier = v & 0x0f;
		break;
	case UART_LCR:
		uart.lcr = v;
		break;
	case UART_MCR:
		uart.mcr = v & 0x1f;
		break;
	case UART_SCR:
		uart.scr = v;
		break;
	default:		/* FCR, LSR, MSR: nothing to do */
		break;
	}
}

enum dev_result uart_io(struct port_access *a)
{
	unsigned int reg = a->port - UART_BASE;

	if (a->port < UART_BASE || reg > 7)
		return DEV_UNHANDLED;
	if (a->in)
		*a->data = uart_read(reg);
	else
		uart_write(reg, *a->data);
	return DEV_OK;
}
