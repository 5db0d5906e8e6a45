/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmctl's devices: each one answers the ports it owns.
 */
#ifndef VMCTL_DEVICES_H
#define VMCTL_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

/* What a port access left for the run loop to do. */
enum dev_result {
	DEV_UNHANDLED,		/* no device has this port */
	DEV_OK,
	DEV_EXIT,		/* the guest asked to end the run */
};

/**
 * struct port_access - one KVM_EXIT_IO access, one element of it
 * @port: the port
 * @size: 1, 2 or 4 bytes
 * @in: a read
 * @data: the value written, or where to put the value read
 * @exit_status: for DEV_EXIT, vmctl's exit status
 */
struct port_access {
	uint16_t port;
	uint8_t size;
	bool in;
	uint32_t *data;
	int exit_status;
};

/* Each device: DEV_UNHANDLED for a port it does not own. */
enum dev_result uart_io(struct port_access *a);
enum dev_result debug_exit_io(struct port_access *a);
enum dev_result rtc_io(struct port_access *a);
enum dev_result post_io(struct port_access *a);

#endif /* VMCTL_DEVICES_H */
