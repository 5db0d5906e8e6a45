/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmctl's commands.
 */
#ifndef VMCTL_H
#define VMCTL_H

#include <stdbool.h>
#include <stddef.h>

/**
 * struct run_options - what "vmctl run" was told
 * @dev: the device node
 * @image: the flat image to load
 * @mem: bytes of guest memory, from guest-physical 0
 * @at: where the image goes and execution starts (real mode, CS = 0)
 * @trace: print each exit
 * @stats: print counters at the end
 */
struct run_options {
	const char *dev;
	const char *image;
	size_t mem;
	size_t at;
	bool trace;
	bool stats;
};

int cmd_run(const struct run_options *o);

#endif /* VMCTL_H */
