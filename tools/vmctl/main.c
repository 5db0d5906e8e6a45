// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl: the VMM that drives minivisor (or KVM) through the KVM ABI.
 *
 *   vmctl info [--dev PATH]
 *   vmctl run [--dev PATH] [--mem SIZE] [--at ADDR] [--trace] [--stats] IMAGE
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

#include "vmctl.h"

static void show_help(FILE *out)
{
	fprintf(out,
		"usage: vmctl info [--dev PATH]\n"
		"       vmctl run [--dev PATH] [--mem SIZE] [--at ADDR] [--trace] [--stats] IMAGE\n"
		"  info   describe the hypervisor behind PATH (default /dev/minivisor)\n"
		"  run    run a flat real-mode IMAGE loaded at ADDR (default 0x1000)\n"
		"         with SIZE bytes of memory (default 1M); port 0x3f8 is a\n"
		"         16550 on stdout, writing V to port 0xf4 exits (V << 1) | 1\n");
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
		printf("mmu modes:  %s%s%s\n",
		       info.mmu_modes & MV_MMU_SHADOW ? " shadow" : "",
		       info.mmu_modes & MV_MMU_TDP ? " tdp" : "",
		       info.mmu_modes ? "" : " none (no guests yet)");
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
		{ "mem", required_argument, NULL, 'm' },
		{ "at", required_argument, NULL, 'a' },
		{ "trace", no_argument, NULL, 't' },
		{ "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct run_options ro = {
		.dev = "/dev/minivisor", .mem = 1 << 20, .at = 0x1000,
	};
	const char *cmd;
	char *end;
	int c;

	if (argc < 2) {
		show_help(stderr);
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "d:m:a:tsh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			ro.dev = optarg;
			break;
		case 'm':
			ro.mem = strtoul(optarg, &end, 0);
			if (*end == 'K' || *end == 'k')
				ro.mem <<= 10;
			else if (*end == 'M' || *end == 'm')
				ro.mem <<= 20;
			if (!ro.mem || ro.mem % 4096 || ro.mem > (1UL << 30)) {
				fprintf(stderr, "vmctl: bad --mem %s\n", optarg);
				return 2;
			}
			break;
		case 'a':
			ro.at = strtoul(optarg, &end, 0);
			if (*end || ro.at >= 0x10000) {
				fprintf(stderr, "vmctl: --at must be below 0x10000\n");
				return 2;
			}
			break;
		case 't':
			ro.trace = true;
			break;
		case 's':
			ro.stats = true;
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
		return cmd_info(ro.dev);
	if (!strcmp(cmd, "run")) {
		if (optind != argc - 1) {
			show_help(stderr);
			return 2;
		}
		ro.image = argv[optind];
		return cmd_run(&ro);
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		show_help(stdout);
		return 0;
	}
	fprintf(stderr, "vmctl: unknown command '%s'\n", cmd);
	show_help(stderr);
	return 2;
}
