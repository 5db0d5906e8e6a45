// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl: the VMM that drives minivisor (or KVM) through the KVM ABI.
 *
 * This first version only introduces the hypervisor behind a device node:
 *   vmctl info [--dev PATH]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/minivisor.h>

static void show_help(FILE *out)
{
	fprintf(out,
		"usage: vmctl info [--dev PATH]\n"
		"  info   describe the hypervisor behind PATH (default /dev/minivisor)\n");
}

static const char *backend_name(__u32 backend)
{
	switch (backend) {
	case MV_BACKEND_VMX:
		return "Intel VT-x (vmx)";
	case MV_BACKEND_SVM:
		return "AMD-V (svm)";
	default:
		return "unknown";
	}
}

static int cmd_info(const char *dev)
{
	struct minivisor_info info;
	int fd, api, vm;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vmctl: %s: %s%s\n", dev, strerror(errno),
			errno == ENOENT ? " (is the module loaded?)" : "");
		return 1;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	printf("device:      %s\n", dev);
	printf("api version: %d\n", api);
	if (ioctl(fd, KVM_CHECK_EXTENSION, MV_CAP_INFO) > 0 &&
	    !ioctl(fd, MV_GET_INFO, &info)) {
		printf("hypervisor:  minivisor (abi %u)\n", info.abi_version);
		printf("backend:     %s\n", backend_name(info.backend));
		printf("mmu modes:  %s%s\n",
		       info.mmu_modes & MV_MMU_SHADOW ? " shadow" : "",
		       info.mmu_modes & MV_MMU_TDP ? " tdp" : "");
		printf("features:   %s%s%s%s%s%s%s\n",
		       info.features & MV_FEAT_EPT ? " ept" : "",
		       info.features & MV_FEAT_VPID ? " vpid" : "",
		       info.features & MV_FEAT_UNRESTRICTED_GUEST ?
				" unrestricted_guest" : "",
		       info.features & MV_FEAT_NPT ? " npt" : "",
		       info.features & MV_FEAT_NRIPS ? " nrips" : "",
		       info.features & MV_FEAT_DECODE_ASSISTS ?
				" decode_assists" : "",
		       info.features & MV_FEAT_VGIF ? " vgif" : "");
	} else {
		printf("hypervisor:  KVM or another without minivisor's extensions\n");
	}
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm < 0) {
		printf("create vm:   failed: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	printf("create vm:   ok\n");
	close(vm);
	close(fd);
	return api == KVM_API_VERSION ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *dev = "/dev/minivisor";
	const char *cmd;
	int c;

	if (argc < 2) {
		show_help(stderr);
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 'h':
			show_help(stdout);
			return 0;
		default:
			show_help(stderr);
			return 2;
		}
	}
	if (!strcmp(cmd, "info"))
		return cmd_info(dev);
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		show_help(stdout);
		return 0;
	}
	fprintf(stderr, "vmctl: unknown command '%s'\n", cmd);
	show_help(stderr);
	return 2;
}
