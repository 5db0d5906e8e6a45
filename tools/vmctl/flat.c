// SPDX-License-Identifier: GPL-2.0
/*
 * A flat binary: its bytes at --at, entered there in real mode with CS = 0.
 */
#include <stdio.h>
#include <string.h>

#include "vmctl.h"

/**
 * load_flat() - copy a flat image to --at
 * @o: the options (--at)
 * @img: the image and guest memory
 * @b: filled in: real mode at --at, the stack below it
 *
 * Return: 0, or -1 after printing why the image does not fit.
 */
int load_flat(const struct run_options *o, struct image *img, struct boot *b)
{
	if (o->at >= img->mem_size || img->size > img->mem_size - o->at) {
		fprintf(stderr,
			"vmctl: %s: bad image: %zu bytes do not fit at %#zx in %zu bytes of memory\n",
			img->path, img->size, o->at, img->mem_size);
		return -1;
	}
	memcpy(img->mem + o->at, img->data, img->size);
	b->mode = BOOT_REAL;
	b->entry = o->at;
	b->rsp = o->at;
	b->format = "flat";
	return 0;
}
