/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmctl: the commands, the VM it builds, and the image loaders.
 */
#ifndef VMCTL_H
#define VMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define fallthrough __attribute__((__fallthrough__))
#define BIT(n) (1u << (n))
#define BIT_ULL(n) (1ull << (n))

/* Exit statuses of "vmctl run" besides the guest's own (see --help). */
#define STATUS_ERROR		1	/* vmctl could not run the guest */
#define STATUS_USAGE		2	/* bad command line */
#define STATUS_SHUTDOWN		4	/* the guest shut down (triple fault) */
#define STATUS_INTERNAL		6	/* internal error, failed entry */

/**
 * struct run_options - what "vmctl run" was told
 * @dev: the device node
 * @image: the image to load
 * @append: the command line of a Multiboot kernel, or NULL
 * @mmu: "shadow", "tdp" or NULL for the device's default
 * @mem: bytes of guest memory, from guest-physical 0
 * @at: where a flat image goes and execution starts (real mode, CS = 0)
 * @cpus: vCPUs (1 until SMP lands)
 * @trace: print each exit
 * @stats: print counters at the end
 * @no_root_cache: turn the shadow MMU's root cache off (MV_CAP_SHADOW_ROOT_CACHE)
 */
struct run_options {
	const char *dev;
	const char *image;
	const char *append;
	const char *mmu;
	size_t mem;
	size_t at;
	unsigned int cpus;
	bool trace;
	bool stats;
	bool no_root_cache;
};

/* The CPU mode a loader asks the guest to be entered in. */
enum boot_mode {
	BOOT_REAL,		/* real mode, CS = 0 */
	BOOT_PROTECTED,		/* 32-bit flat protected mode, no paging */
	BOOT_LONG,		/* 64-bit mode on identity page tables */
};

/**
 * struct boot - where and how the loaded image starts
 * @mode: the CPU mode at entry
 * @entry: the first instruction (guest-physical = linear)
 * @rsp: the stack pointer at entry, 0 for none
 * @rax: EAX at entry (the Multiboot magic)
 * @rbx: EBX at entry (the Multiboot information structure)
 * @format: a name for messages
 */
struct boot {
	enum boot_mode mode;
	uint64_t entry;
	uint64_t rsp;
	uint64_t rax;
	uint64_t rbx;
	const char *format;
};

/**
 * struct image - an image file read into memory, and the guest's memory
 * @path: the file, for messages
 * @data: its bytes
 * @size: its length
 * @mem: guest memory, guest-physical 0 at @mem[0]
 * @mem_size: bytes of guest memory
 */
struct image {
	const char *path;
	const unsigned char *data;
	size_t size;
	unsigned char *mem;
	size_t mem_size;
};

/*
 * Low memory vmctl itself uses for ELF and Multiboot guests; images must not
 * load there.  A flat image owns all of memory.
 */
#define BOOT_GDT		0x1000	/* the GDT of protected and long mode */
#define BOOT_PML4		0x2000	/* identity page tables, 2M pages ... */
#define BOOT_PDPT		0x3000
#define BOOT_PD			0x4000	/* ... four page directories: 4G */
#define BOOT_INFO		0x9000	/* Multiboot information */
#define BOOT_INFO_END		0xa000
#define BOOT_STACK		0x80000	/* RSP of a 64-bit ELF at entry */

/**
 * struct exit_counts - vmctl's own counters, kept on every run
 * @total: every return from KVM_RUN
 * @reason: returns by exit reason, KVM_EXIT_* below 64
 */
struct exit_counts {
	unsigned long total;
	unsigned long reason[64];
};

struct kvm_run;

/**
 * struct vm - what one run holds
 * @dev: the device fd
 * @vm: the VM fd
 * @vcpu: the vCPU fd
 * @run: the vCPU's kvm_run page
 * @run_size: its mapped size
 * @img: the image and guest memory
 * @counts: exits by reason
 */
struct vm {
	int dev, vm, vcpu;
	struct kvm_run *run;
	long run_size;
	struct image img;
	struct exit_counts counts;
};

int cmd_run(const struct run_options *o);
int cmd_bench(int argc, char **argv);
int open_dev(const char *path);
int create_vm(const struct run_options *o, struct vm *v);
int exit_io(const struct run_options *o, struct kvm_run *run);

int load_image(const struct run_options *o, struct image *img,
	       struct boot *b);
int load_flat(const struct run_options *o, struct image *img,
	      struct boot *b);
bool is_elf(const struct image *img);
int load_elf(struct image *img, int class, uint64_t *entry);
int multiboot_find(const struct image *img);
int load_multiboot(const struct run_options *o, struct image *img,
		   struct boot *b, int header);
bool image_fits(const struct image *img, uint64_t addr, uint64_t len);

int cpuid_setup(int dev, int vcpu);
int boot_setup(int vcpu, struct image *img, const struct boot *b);

int mmu_select(int dev, int vm, const char *mode);
int mmu_root_cache_off(int dev, int vm);

void stats_print(int dev, int vm, int vcpu, const struct exit_counts *c);
struct kvm_stats_header;
unsigned char *stats_read_descs(int fd, struct kvm_stats_header *h,
				size_t *dsize);
const char *exit_name(unsigned int reason);

/*
 * vmctl bench --compare (compare.c, svg.c): the raw results of several
 * "vmctl bench" runs, one config each, side by side.
 */

/**
 * struct bench_cell - one config's result for one workload variant and metric
 * @median: the median over the runs
 * @min: the lowest run
 * @max: the highest run
 * @text: median, min and max as the file wrote them (the CSV repeats them)
 * @runs: how many runs
 * @config: index in &bench_set.configs
 * @row: index in &bench_set.rows
 * @metric: index in &bench_set.metrics
 * @file: the file it was read from, for messages
 * @line: its line there
 */
struct bench_cell {
	double median;
	double min;
	double max;
	char *text[3];
	unsigned long runs;
	size_t config;
	size_t row;
	size_t metric;
	const char *file;
	unsigned long line;
};

/**
 * struct bench_row - one row of the comparison: a workload variant
 * @workload: e.g. "ctxsw"
 * @variant: e.g. "k64-pcid"
 * @rank: the workload's place in the order of rows
 * @vrank: the variant's place among the workload's
 * @seen: the row's place in the order the files named it
 */
struct bench_row {
	char *workload;
	char *variant;
	size_t rank;
	size_t vrank;
	size_t seen;
};

/**
 * struct bench_set - every result read, and where each one sits
 * @configs: the configs, in the order of the columns
 * @nconfigs: how many
 * @metrics: the metrics, ns_per_op and exits_per_op first
 * @nmetrics: how many
 * @rows: the workload variants, in the order of the rows
 * @nrows: how many
 * @cells: every result read
 * @ncells: how many
 * @cap: room in @cells
 * @index: [metric][row][config] to the result, NULL where none was read;
 *	   built by bench_compare_main() once every file is read
 */
struct bench_set {
	char **configs;
	size_t nconfigs;
	char **metrics;
	size_t nmetrics;
	struct bench_row *rows;
	size_t nrows;
	struct bench_cell *cells;
	size_t ncells;
	size_t cap;
	const struct bench_cell **index;
};

int bench_compare_main(int argc, char **argv);
const struct bench_cell *bench_cell(const struct bench_set *s, size_t metric,
				    size_t row, size_t config);
bool bench_best(const struct bench_set *s, size_t metric, size_t row,
		double *best);
double bench_ratio(double value, double best);
long bench_metric(const struct bench_set *s, const char *name);
long bench_config(const struct bench_set *s, const char *name);
void bench_format_ns(char *buf, size_t len, double ns);
void bench_format_ratio(char *buf, size_t len, double ratio);
int bench_svg_write(const struct bench_set *s, const char *path);

#endif /* VMCTL_H */
