// SPDX-License-Identifier: GPL-2.0
/*
 * Reading an image and choosing its loader: a Multiboot 1 kernel (the
 * header wins, as in QEMU's -kernel), a 64-bit ELF, else a flat binary.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/elf.h>

#include "vmctl.h"

/**
 * image_fits() - whether [@addr, @addr + @len) is guest memory an image may use
 * @img: the image and guest memory
 * @addr: guest-physical start
 * @len: bytes
 *
 * Return: true if the range lies in guest memory, above vmctl's boot area.
 */
bool image_fits(const struct image *img, uint64_t addr, uint64_t len)
{
	if (addr < BOOT_INFO_END || addr > img->mem_size)
		return false;
	return len <= img->mem_size - addr;
}

static unsigned char *read_file(const char *path, size_t *size)
{
	unsigned char *buf;
	struct stat st;
	size_t done = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vmctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) {
		fprintf(stderr, "vmctl: %s: bad image: not a non-empty file\n",
			path);
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size);
	while (buf && done < (size_t)st.st_size) {
		n = read(fd, buf + done, st.st_size - done);
		if (n <= 0) {
			fprintf(stderr, "vmctl: %s: %s\n", path,
				n ? strerror(errno) : "short read");
			free(buf);
			buf = NULL;
		} else {
			done += n;
		}
	}
	close(fd);
	*size = done;
	return buf;
}

/* A 64-bit ELF: entered in long mode, on vmctl's identity page tables. */
static int boot_elf64(struct image *img, struct boot *b)
{
	if (load_elf(img, ELFCLASS64, &b->entry))
		return -1;
	b->mode = BOOT_LONG;
	b->rsp = BOOT_STACK;
	b->format = "elf64";
	return 0;
}

/**
 * load_image() - read the image of @o and load it into guest memory
 * @o: the options (image path, command line)
 * @img: guest memory in @img->mem and @img->mem_size; the rest is filled in
 * @b: where the guest starts, filled in
 *
 * Return: 0, or -1 after printing why the image cannot run.
 */
int load_image(const struct run_options *o, struct image *img, struct boot *b)
{
	unsigned char *data;
	int header, ret;

	img->path = o->image;
	data = read_file(o->image, &img->size);
	if (!data)
		return -1;
	img->data = data;

	header = multiboot_find(img);
	if (header >= 0)
		ret = load_multiboot(o, img, b, header);
	else if (is_elf(img))
		ret = boot_elf64(img, b);
	else
		ret = load_flat(o, img, b);
	free(data);
	img->data = NULL;
	return ret;
}
