/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the minivisor selftests share: the device node, loading and
 * unloading modules.
 */
#ifndef MV_SELFTEST_UTIL_H
#define MV_SELFTEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/minivisor.h>

/* The device under test: $MV_DEV, by default /dev/minivisor. */
static inline const char *mv_dev_path(void)
{
	const char *p = getenv("MV_DEV");

	return p && *p ? p : "/dev/minivisor";
}

static inline int mv_open_dev(void)
{
	return open(mv_dev_path(), O_RDWR | O_CLOEXEC);
}

/* Load the module file at @path; returns 0 or -errno. */
static inline int mv_load_module(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, params ? params : "", 0);
	r = r ? -errno : 0;
	close(fd);
	return r;
}

/* Unload module @name without waiting; returns 0 or -errno. */
static inline int mv_unload_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/* Is module @name loaded? */
static inline int mv_module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return access(path, F_OK) == 0;
}

#endif /* MV_SELFTEST_UTIL_H */
