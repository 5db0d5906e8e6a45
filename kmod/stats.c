// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_GET_STATS_FD: KVM's binary statistics, as Documentation/virt/kvm/
 * api.rst describes them.  The fd reads as
 *
 *   struct kvm_stats_header
 *   the id string                       (name_size bytes)
 *   num_desc descriptors                (each struct kvm_stats_desc and a
 *                                        name of name_size bytes)
 *   the values                          (one u64 each, at desc.offset from
 *                                        data_offset)
 *
 * from any offset, with read() or pread().  Everything but the values is
 * constant for the fd's life, as KVM promises.  The values are read without
 * a lock: each is one aligned u64 its writer stores whole.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mv.h"
#include "stats.h"
#include "vm.h"

/**
 * struct mv_stats_file - an open stats fd
 * @kind: what it shows (c)
 * @obj: the object counted; lives as long as @vm (c)
 * @vm: the VM it belongs to, on which the fd holds a reference (c)
 * @id: the id string (c)
 */
struct mv_stats_file {
	const struct mv_stats_kind *kind;
	const void *obj;
	struct mv_vm *vm;
	char id[MV_STATS_NAME_SIZE];
};

/* In the kernel the struct has a name of 48 bytes; count the uapi way */
#define MV_STATS_DESC_SIZE	(offsetof(struct kvm_stats_desc, name) + \
				 MV_STATS_NAME_SIZE)

static size_t mv_stats_size(const struct mv_stats_kind *kind)
{
	return sizeof(struct kvm_stats_header) + MV_STATS_NAME_SIZE +
		kind->nr * (MV_STATS_DESC_SIZE + sizeof(u64));
}

/* Lays the whole content out in @buf, of mv_stats_size() bytes. */
static void mv_stats_fill(const struct mv_stats_file *sf, char *buf)
{
	const struct mv_stats_kind *kind = sf->kind;
	struct kvm_stats_header *hdr = (void *)buf;
	unsigned int i;
	u64 *data;

	hdr->flags = 0;
	hdr->name_size = MV_STATS_NAME_SIZE;
	hdr->num_desc = kind->nr;
	hdr->id_offset = sizeof(*hdr);
	hdr->desc_offset = hdr->id_offset + MV_STATS_NAME_SIZE;
	hdr->data_offset = hdr->desc_offset + kind->nr * MV_STATS_DESC_SIZE;
	strscpy(buf + hdr->id_offset, sf->id, MV_STATS_NAME_SIZE);

	data = (u64 *)(buf + hdr->data_offset);
	for (i = 0; i < kind->nr; i++) {
		struct kvm_stats_desc *d = (void *)(buf + hdr->desc_offset +
						    i * MV_STATS_DESC_SIZE);
		const struct mv_stat *st = &kind->stats[i];

		d->flags = st->flags;
		d->exponent = 0;
		d->size = 1;
		d->offset = i * sizeof(u64);
		d->bucket_size = 0;
		strscpy(d->name, st->name, MV_STATS_NAME_SIZE);
		data[i] = READ_ONCE(*(const u64 *)(sf->obj + st->offset));
	}
}

static ssize_t mv_stats_read(struct file *file, char __user *ubuf,
			     size_t len, loff_t *pos)
{
	struct mv_stats_file *sf = file->private_data;
	size_t size = mv_stats_size(sf->kind);
	ssize_t r;
	char *buf;

	buf = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	mv_stats_fill(sf, buf);
	r = simple_read_from_buffer(ubuf, len, pos, buf, size);
	kfree(buf);
	return r;
}

static int mv_stats_release(struct inode *inode, struct file *file)
{
	struct mv_stats_file *sf = file->private_data;

	mv_vm_put(sf->vm);
	kfree(sf);
	return 0;
}

static const struct file_operations mv_stats_fops = {
	.owner = THIS_MODULE,
	.read = mv_stats_read,
	.release = mv_stats_release,
	.llseek = noop_llseek,
};

/**
 * mv_stats_fd() - KVM_GET_STATS_FD: open a stats fd
 * @kind: what it shows
 * @obj: the object its offsets point into
 * @vm: the VM @obj belongs to; the fd keeps it
 * @id: the id string, at most MV_STATS_NAME_SIZE - 1 characters
 *
 * Return: the new read-only fd, or a negative errno.
 */
int mv_stats_fd(const struct mv_stats_kind *kind, const void *obj,
		struct mv_vm *vm, const char *id)
{
	struct mv_stats_file *sf;
	struct file *file;
	int fd, r;

	sf = kzalloc(sizeof(*sf), GFP_KERNEL_ACCOUNT);
	if (!sf)
		return -ENOMEM;
	sf->kind = kind;
	sf->obj = obj;
	sf->vm = vm;
	strscpy(sf->id, id, sizeof(sf->id));

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		r = fd;
		goto free_sf;
	}
	file = anon_inode_getfile(kind->fd_name, &mv_stats_fops, sf,
				  O_RDONLY);
	if (IS_ERR(file)) {
		r = PTR_ERR(file);
		goto put_fd;
	}
	/* the values are meant to be read again and again with pread() */
	file->f_mode |= FMODE_PREAD;
	mv_vm_get(vm);
	fd_install(fd, file);
	return fd;

put_fd:
	put_unused_fd(fd);
free_sf:
	kfree(sf);
	return r;
}
