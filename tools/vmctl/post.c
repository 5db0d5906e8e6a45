// SPDX-License-Identifier: GPL-2.0
/*
 * The PC's POST code port 0x80: writes are ignored (firmware and kernels
 * also write it just to wait), reads return all-ones.
 */
#include "devices.h"

#define POST_PORT	0x80

enum dev_result post_io(struct port_access *a)
{
	if (a->port != POST_PORT)
		return DEV_UNHANDLED;
	if (a->in)
		*a->data = 0xffffffff;
	return DEV_OK;
}
