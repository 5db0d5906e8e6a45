// SPDX-License-Identifier: GPL-2.0
/*
 * A 16550 UART at 0x3f8, wired to stdout: enough for a guest to print.
 * The transmitter is always empty, nothing is ever received.
 */
#include <stdio.h>

#include "devices.h"

#define UART_BASE	0x3f8
#define UART_THR	0	/* transmit holding register (write) */
#define UART_LSR	5	/* line status register (read) */
#define LSR_THRE	0x20	/* transmit holding register empty */
#define LSR_TEMT	0x40	/* transmitter empty */

enum dev_result uart_io(struct port_access *a)
{
	unsigned int reg = a->port - UART_BASE;

	if (a->port < UART_BASE || reg > 7)
		return DEV_UNHANDLED;
	if (a->in) {
		*a->data = reg == UART_LSR ? LSR_THRE | LSR_TEMT : 0;
		return DEV_OK;
	}
	if (reg == UART_THR) {
		putchar(*a->data & 0xff);
		fflush(stdout);
	}
	return DEV_OK;
}
