/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the minivisor selftests share: the device node, loading and
 * unloading modules.
 */
#ifndef MV_SELFTEST_UTIL_H
#define MV_SELFTEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <linux/const.h>
#include <linux/types.h>
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
/*
 * MV_MMU=shadow or MV_MMU=tdp in the environment puts a new VM in that MMU
 * mode (minivisor's MV_CAP_MMU_MODE); unset, the VM keeps the default.
 * Returns 0 or -1 with errno set.
 */
static inline int mv_vm_choose_mmu(int vm)
{
	const char *mmu = getenv("MV_MMU");
	struct kvm_enable_cap cap = { .cap = MV_CAP_MMU_MODE };

	if (!mmu || !*mmu)
		return 0;
	cap.args[0] = strcmp(mmu, "shadow") ? MV_MMU_TDP : MV_MMU_SHADOW;
	return ioctl(vm, KVM_ENABLE_CAP, &cap);
}

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

#define MV_MAX_CPUS 64

/* What debugfs minivisor/virt says: users, and each CPU's state. */
struct mv_virt_state {
	int users;
	int ncpus;			/* possible CPUs listed */
	int online[MV_MAX_CPUS];
	int on[MV_MAX_CPUS];		/* minivisor enabled VMX/SVM there */
};

/* Reads debugfs minivisor/virt; returns 0 or -errno. */
static inline int mv_read_virt_state(struct mv_virt_state *st)
{
	FILE *f = fopen("/sys/kernel/debug/minivisor/virt", "r");
	char line[128], word[16], state[16];
	int cpu;

	if (!f)
		return -errno;
	memset(st, 0, sizeof(*st));
	st->users = -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "users %d", &st->users) == 1)
			continue;
		if (sscanf(line, "cpu%d %15s %15s", &cpu, word, state) == 3 &&
		    cpu >= 0 && cpu < MV_MAX_CPUS) {
			st->online[cpu] = !strcmp(word, "online");
			st->on[cpu] = !strcmp(state, "on");
			if (cpu + 1 > st->ncpus)
				st->ncpus = cpu + 1;
		}
	}
	fclose(f);
	return st->users < 0 ? -EINVAL : 0;
}

/* Number of CPUs on which minivisor has virtualization enabled. */
static inline int mv_cpus_on(const struct mv_virt_state *st)
{
	int n = 0;

	for (int i = 0; i < st->ncpus; i++)
		n += st->on[i];
	return n;
}

/* Number of online CPUs in @st. */
static inline int mv_cpus_online(const struct mv_virt_state *st)
{
	int n = 0;

	for (int i = 0; i < st->ncpus; i++)
		n += st->online[i];
	return n;
}

/* Reads MSR @msr on @cpu through /dev/cpu/N/msr; returns 0 or -errno. */
static inline int mv_rdmsr(int cpu, __u32 msr, __u64 *val)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = pread(fd, val, sizeof(*val), msr) == sizeof(*val) ? 0 : -EIO;
	close(fd);
	return r;
}

#endif /* MV_SELFTEST_UTIL_H */
