// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl: the VMM that drives minivisor (or KVM) through the KVM ABI.
 *
 *   vmctl info [--dev PATH]
 *   vmctl run [OPTIONS] IMAGE
 *   vmctl bench [OPTIONS]
 *   vmctl bench --compare FILE... [--csv OUT] [--svg OUT]
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
		"       vmctl run [OPTIONS] IMAGE\n"
		"       vmctl bench [OPTIONS]   (vmctl bench --help)\n"
		"       vmctl bench --compare FILE... [--csv OUT] [--svg OUT]\n"
		"  info   describe the hypervisor behind PATH (default /dev/minivisor)\n"
		"  run    run IMAGE on one vCPU:\n"
		"         a Multiboot 1 kernel: 32-bit protected mode, EAX the magic,\n"
		"           EBX the information (memory map, command line)\n"
		"         a 64-bit ELF: long mode on identity page tables of the low 4G\n"
		"         anything else: a flat binary, real mode at --at\n"
		"options of run:\n"
		"  --dev PATH       the device (default /dev/minivisor; /dev/kvm works)\n"
		"  --mmu MODE       shadow or tdp (default: the device's, tdp)\n"
		"  --mem SIZE       guest memory, K, M or G suffix (default 16M, 1M-2G)\n"
		"  --cpus N         vCPUs (only 1 until SMP lands)\n"
		"  --at ADDR        load address of a flat image (default 0x1000)\n"
		"  --append CMDLINE the command line of a Multiboot kernel\n"
		"  --trace          print each exit, and unhandled ports and MMIO once\n"
		"  --stats          print the device's statistics (or vmctl's exit\n"
		"                   counts) at the end\n"
		"devices: a 16550 at 0x3f8 on stdout and stdin, the RTC at 0x70,\n"
		"  POST port 0x80 ignored, isa-debug-exit at 0xf4; other ports and\n"
		"  MMIO read all-ones\n"
		"exit status: 0 the guest halted, (V << 1) | 1 it wrote V to 0xf4,\n"
		"  1 vmctl could not run it (no device, bad image), 2 usage,\n"
		"  4 the guest shut down (triple fault), 6 an internal error or\n"
		"  failed entry in the hypervisor\n"
		"  bench --compare: see vmctl bench --compare --help\n");
}

static int parse_size(const char *arg, size_t *size)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 0);
	switch (*end) {
	case 'G':
	case 'g':
		v <<= 10;
		fallthrough;
	case 'M':
	case 'm':
		v <<= 10;
		fallthrough;
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	}
	if (errno || *end || v < (1 << 20) || v > (2ull << 30) || v % 4096)
		return -1;
	*size = v;
	return 0;
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

/* "vmctl bench --compare ..." compares results, else bench.c runs. */
static int bench_dispatch(int argc, char **argv)
{
	int i;

	for (i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--compare"))
			return bench_compare_main(argc - 1, argv + 1);
	return cmd_bench(argc, argv);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "mem", required_argument, NULL, 'm' },
		{ "mmu", required_argument, NULL, 'u' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "append", required_argument, NULL, 'A' },
		{ "at", required_argument, NULL, 'a' },
		{ "trace", no_argument, NULL, 't' },
		{ "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct run_options ro = {
		.dev = "/dev/minivisor", .mem = 16 << 20, .at = 0x1000,
		.cpus = 1,
	};
	const char *cmd;
	char *end;
	int c;

	if (argc < 2) {
		show_help(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "bench"))
		return bench_dispatch(argc, argv);
	optind = 2;
	while ((c = getopt_long(argc, argv, "d:m:u:c:A:a:tsh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			ro.dev = optarg;
			break;
		case 'm':
			if (parse_size(optarg, &ro.mem)) {
				fprintf(stderr,
					"vmctl: bad --mem %s (1M to 2G, in pages)\n",
					optarg);
				return 2;
			}
			break;
		case 'u':
			ro.mmu = optarg;
			break;
		case 'c':
			ro.cpus = strtoul(optarg, &end, 0);
			if (*end || ro.cpus != 1) {
				fprintf(stderr,
					"vmctl: --cpus %s: only 1 vCPU until SMP lands\n",
					optarg);
				return 2;
			}
			break;
		case 'A':
			ro.append = optarg;
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
