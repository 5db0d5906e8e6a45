// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's isa-debug-exit at port 0xf4: writing V ends the run with exit
 * status (V << 1) | 1.
 */
#include "devices.h"

#define DEBUG_EXIT_PORT	0xf4

enum dev_result debug_exit_io(struct port_access *a)
{
	if (a->port != DEBUG_EXIT_PORT)
		return DEV_UNHANDLED;
	if (a->in) {
		*a->data = 0xffffffff;
		return DEV_OK;
	}
	a->exit_status = ((*a->data & 0xff) << 1) | 1;
	return DEV_EXIT;
}
