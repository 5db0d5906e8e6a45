// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl bench: the MMU-mode benchmark suite.  Each workload variant runs
 * the guest guests/bench64.elf (guests/bench.h is the protocol) in a new
 * VM, --runs times; the guest marks each measured phase with a port write,
 * and vmctl reads the clock and the vCPU's and VM's binary stats fds around
 * it.  The figures per operation (median, min, max over the runs) go to a
 * text table and, with --out, to the raw-results CSV that "vmctl bench
 * --compare" reads.  Documentation/bench.md describes the workloads and the
 * CSV.  Only the KVM ABI is needed: minivisor's extensions are used when
 * MV_CAP_INFO answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/minivisor.h>

#include "devices.h"
#include "guests/bench.h"
#include "vmctl.h"

#define MIB		BIT_ULL(20)
#define MAX_RUNS	100
#define MAX_STATS	256
#define MAX_METRICS	128
#define NAME_LEN	64

/**
 * struct variant - one workload variant and its sizes
 * @workload: its name in the CSV
 * @variant: the variant's name
 * @w: BENCH_W_*
 * @flags: BENCH_F_*
 * @k: ctxsw: address spaces
 * @pages: ctxsw: pages per turn; churn: pages cycled
 * @size: bytes of the region (faults, gups)
 * @ops: operations (ctxsw: revisit rounds)
 * @qpages: @pages of --quick
 * @qsize: @size of --quick
 * @qops: @ops of --quick; 0: not part of --quick (full size if named)
 */
struct variant {
	const char *workload;
	const char *variant;
	uint32_t w, flags, k;
	uint64_t pages, size, ops;
	uint64_t qpages, qsize, qops;
};

static const struct variant variants[] = {
	{ "faults", "4k", BENCH_W_FAULTS, 0, 0, 0, 64 * MIB, 1, 0, 2 * MIB, 1 },
	{ "faults", "2m", BENCH_W_FAULTS, BENCH_F_HUGE, 0, 0, 64 * MIB, 1,
	  0, 2 * MIB, 1 },
	{ "ctxsw", "k2-pcid", BENCH_W_CTXSW, BENCH_F_PCID, 2, 4, 0, 2048, 4, 0,
	  32 },
	{ "ctxsw", "k2-nopcid", BENCH_W_CTXSW, 0, 2, 4, 0, 2048, 4, 0, 32 },
	{ "ctxsw", "k16-pcid", BENCH_W_CTXSW, BENCH_F_PCID, 16, 4, 0, 256, 4, 0,
	  4 },
	{ "ctxsw", "k16-nopcid", BENCH_W_CTXSW, 0, 16, 4, 0, 256, 4, 0, 4 },
	{ "ctxsw", "k64-pcid", BENCH_W_CTXSW, BENCH_F_PCID, 64, 4, 0, 64, 4, 0,
	  0 },
	{ "ctxsw", "k64-nopcid", BENCH_W_CTXSW, 0, 64, 4, 0, 64, 4, 0, 0 },
	{ "ctxsw", "k256-pcid", BENCH_W_CTXSW, BENCH_F_PCID, 256, 4, 0, 16, 4, 0,
	  0 },
	{ "ctxsw", "k256-nopcid", BENCH_W_CTXSW, 0, 256, 4, 0, 16, 4, 0, 0 },
	{ "churn", "map", BENCH_W_CHURN, 0, 0, 64, 0, 4096, 16, 0, 64 },
	{ "gups", "4k", BENCH_W_GUPS, 0, 0, 0, 64 * MIB, 1 << 20,
	  0, 2 * MIB, 8192 },
	{ "gups", "2m", BENCH_W_GUPS, BENCH_F_HUGE, 0, 0, 64 * MIB, 1 << 20,
	  0, 2 * MIB, 8192 },
	{ "exit", "cpuid", BENCH_W_CPUID, 0, 0, 0, 0, 20000, 0, 0, 256 },
	{ "exit", "pio", BENCH_W_PIO, 0, 0, 0, 0, 20000, 0, 0, 256 },
	{ "exit", "mmio", BENCH_W_MMIO, 0, 0, 0, 0, 20000, 0, 0, 256 },
	{ "exit", "hlt", BENCH_W_HLT, 0, 0, 0, 0, 20000, 0, 0, 128 },
};

/**
 * struct bench_options - what "vmctl bench" was told
 * @dev: the device node
 * @mmu: --mmu, or NULL
 * @only: --only, or NULL for every variant
 * @label: --label, or NULL to detect one
 * @out: --out, or NULL
 * @guest: the guest image
 * @quick: --quick
 * @small_pages: --no-thp: guest memory in 4 KiB host pages only
 * @no_root_cache: --no-root-cache: each VM's shadow root cache off
 * @runs: runs of each variant
 */
struct bench_options {
	const char *dev;
	const char *mmu;
	const char *only;
	const char *label;
	const char *out;
	const char *guest;
	bool quick;
	bool small_pages;
	bool no_root_cache;
	unsigned int runs;
};

#define HOST_2M		(2ul << 20)

/*
 * Guest memory: 2 MiB-aligned and, unless @small_pages, with
 * MADV_HUGEPAGE, so that the host may back it with 2 MiB pages (which
 * KVM's and minivisor's second-level and shadow tables then map with
 * 2 MiB leaves), as a VMM does.  *@map and *@map_len are what to unmap.
 */
static uint8_t *guest_mem_alloc(size_t size, bool small_pages, void **map,
				size_t *map_len)
{
	uintptr_t base;

	*map_len = size + HOST_2M;
	*map = mmap(NULL, *map_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (*map == MAP_FAILED)
		return MAP_FAILED;
	base = ((uintptr_t)*map + HOST_2M - 1) & ~(HOST_2M - 1);
	/* without THP in the host kernel this fails: 4 KiB pages it is */
	if (!small_pages)
		madvise((void *)base, size, MADV_HUGEPAGE);
	return (uint8_t *)base;
}

/**
 * struct stats - the cumulative counters of a VM's two stats fds
 * @fd: the vCPU's and the VM's stats fds, -1 if absent
 * @data_offset: where each fd's values start
 * @data_len: bytes of each fd's values
 * @n: counters kept
 * @name: their names; a name both fds have is the vCPU's
 * @src: which fd each is read from
 * @offset: its offset in that fd's values
 * @buf: the values of each fd, read at once
 */
struct stats {
	int fd[2];
	uint64_t data_offset[2];
	size_t data_len[2];
	unsigned int n;
	char name[MAX_STATS][NAME_LEN];
	unsigned int src[MAX_STATS];
	uint64_t offset[MAX_STATS];
	uint64_t *buf[2];
};

/**
 * struct series - one metric of a phase, over the runs
 * @name: the metric, e.g. "exits_per_op"
 * @v: its value in each run
 * @moved: it was not 0 in some run
 */
struct series {
	char name[NAME_LEN];
	double v[MAX_RUNS];
	bool moved;
};

/**
 * struct result - one phase of one variant, over the runs
 * @runs: runs measured
 * @pending: the run under way measured it
 * @ops: operations of the last run
 * @n: metrics
 * @m: the metrics; ns_per_op and exits_per_op first
 */
struct result {
	unsigned int runs;
	bool pending;
	uint64_t ops;
	unsigned int n;
	struct series m[MAX_METRICS];
};

/* What the run of one variant came to. */
enum outcome {
	RAN,
	SKIPPED,
	FAILED,
};

static struct result results[ARRAY_SIZE(variants)][BENCH_PHASES];

/* Reads the descriptors of one stats fd into @s as source @src. */
static int stats_add_fd(struct stats *s, unsigned int src, int fd)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	unsigned char *descs;
	size_t dsize, i, j, end = 0;

	s->fd[src] = fd;
	descs = stats_read_descs(fd, &h, &dsize);
	if (!descs)
		return -1;
	for (i = 0; i < h.num_desc; i++) {
		d = (struct kvm_stats_desc *)(descs + i * dsize);
		if (d->offset + d->size * 8ull > end)
			end = d->offset + d->size * 8ull;
		if ((d->flags & KVM_STATS_TYPE_MASK) !=
		    KVM_STATS_TYPE_CUMULATIVE || d->size != 1 ||
		    strlen(d->name) + sizeof("_per_op") > NAME_LEN ||
		    s->n == MAX_STATS)
			continue;
		for (j = 0; j < s->n; j++)
			if (!strcmp(s->name[j], d->name))
				break;
		if (j < s->n)
			continue;
		snprintf(s->name[s->n], NAME_LEN, "%s", d->name);
		s->src[s->n] = src;
		s->offset[s->n] = d->offset;
		s->n++;
	}
	free(descs);
	s->data_offset[src] = h.data_offset;
	s->data_len[src] = end;
	s->buf[src] = calloc(1, end + 8);
	return s->buf[src] ? 0 : -1;
}

/* The stats fds of a new VM; without them only vmctl's counts are there. */
static void stats_open(struct stats *s, const struct vm *v)
{
	int fd;

	memset(s, 0, sizeof(*s));
	s->fd[0] = -1;
	s->fd[1] = -1;
	if (ioctl(v->dev, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) <= 0)
		return;
	fd = ioctl(v->vcpu, KVM_GET_STATS_FD, 0);
	if (fd >= 0 && stats_add_fd(s, 0, fd))
		fprintf(stderr, "vmctl: the vCPU's stats fd cannot be read\n");
	fd = ioctl(v->vm, KVM_GET_STATS_FD, 0);
	if (fd >= 0 && stats_add_fd(s, 1, fd))
		fprintf(stderr, "vmctl: the VM's stats fd cannot be read\n");
}

static void stats_close(struct stats *s)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		if (s->fd[i] >= 0)
			close(s->fd[i]);
		free(s->buf[i]);
	}
}

/* Every counter now, into @val; -1 if a fd cannot be read. */
static int stats_read(struct stats *s, uint64_t *val)
{
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (s->buf[i] &&
		    pread(s->fd[i], s->buf[i], s->data_len[i],
			  s->data_offset[i]) != (ssize_t)s->data_len[i])
			return -1;
	for (i = 0; i < s->n; i++)
		memcpy(&val[i], (unsigned char *)s->buf[s->src[i]] +
		       s->offset[i], sizeof(val[i]));
	return 0;
}

static struct series *metric(struct result *r, const char *name)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->m[i].name, name))
			return &r->m[i];
	if (r->n == MAX_METRICS)
		return NULL;
	snprintf(r->m[r->n].name, NAME_LEN, "%s", name);
	return &r->m[r->n++];
}

static void put_metric(struct result *r, const char *name, double v)
{
	struct series *m = metric(r, name);

	if (!m)
		return;
	m->v[r->runs] = v;
	if (v != 0)
		m->moved = true;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/**
 * struct phase - a phase being measured
 * @t0: the clock at its start
 * @s0: the counters at its start
 * @exits0: vmctl's count of returns from KVM_RUN at its start
 * @open: begun and not yet ended
 */
struct phase {
	double t0;
	uint64_t s0[MAX_STATS];
	unsigned long exits0;
	bool open;
};

/* The end of a phase: its figures per operation go into @r. */
static void phase_end(struct result *r, struct phase *p, struct stats *s,
		      uint64_t ops, unsigned long exits)
{
	uint64_t s1[MAX_STATS];
	double t1 = now_ns();
	char name[NAME_LEN + 8];
	bool have_exits = false;
	unsigned int i;

	if (!ops)
		ops = 1;
	r->ops = ops;
	put_metric(r, "ns_per_op", (t1 - p->t0) / ops);
	metric(r, "exits_per_op");	/* second, always there */
	if (s->n && !stats_read(s, s1)) {
		for (i = 0; i < s->n; i++) {
			uint64_t d = s1[i] - p->s0[i];

			/* the port write that ended the phase is not its own */
			if ((!strcmp(s->name[i], "exits") ||
			     !strcmp(s->name[i], "io_exits")) && d)
				d--;
			have_exits |= !strcmp(s->name[i], "exits");
			snprintf(name, sizeof(name), "%s_per_op", s->name[i]);
			put_metric(r, name, (double)d / ops);
		}
	}
	if (!have_exits)
		put_metric(r, "exits_per_op",
			   (double)(exits - p->exits0 - 1) / ops);
	p->open = false;
	r->pending = true;
}

/* A BENCH_PORT command; returns 1 to go on, 0 at the end, -1 on failure. */
static int bench_command(uint32_t cmd, struct vm *v, struct stats *s,
			 struct phase *ph, struct result *res, enum outcome *out)
{
	struct bench_params *bp = (void *)(v->img.mem + BENCH_PARAMS);
	uint32_t phase = bp->phase;

	switch (cmd) {
	case BENCH_BEGIN:
	case BENCH_END:
		if (phase >= BENCH_PHASES) {
			fprintf(stderr, "vmctl: bench guest: bad phase %u\n",
				phase);
			return -1;
		}
		if (cmd == BENCH_BEGIN) {
			if (s->n && stats_read(s, ph[phase].s0))
				return -1;
			ph[phase].exits0 = v->counts.total;
			ph[phase].open = true;
			ph[phase].t0 = now_ns();
			return 1;
		}
		if (!ph[phase].open) {
			fprintf(stderr, "vmctl: bench guest: phase %u ended, never begun\n",
				phase);
			return -1;
		}
		phase_end(&res[phase], &ph[phase], s, bp->phase_ops,
			  v->counts.total);
		return 1;
	case BENCH_DONE:
		*out = RAN;
		return 0;
	case BENCH_SKIP:
		*out = SKIPPED;
		return 0;
	case BENCH_FAIL:
		fprintf(stderr, "vmctl: bench guest failed, error %u\n",
			bp->error);
		return -1;
	default:
		fprintf(stderr, "vmctl: bench guest: unknown command %u\n",
			cmd);
		return -1;
	}
}

/* Serves the guest's exits until it is done; RAN, SKIPPED or FAILED. */
static enum outcome bench_loop(struct vm *v, struct stats *s,
			       struct result *res)
{
	static const struct run_options quiet = { .dev = "" };
	struct phase ph[BENCH_PHASES] = { 0 };
	enum outcome out = FAILED;
	struct kvm_run *run = v->run;
	unsigned char *p;
	uint32_t val;
	int r;

	for (;;) {
		if (ioctl(v->vcpu, KVM_RUN, 0) && errno != EINTR) {
			fprintf(stderr, "vmctl: KVM_RUN: %s\n", strerror(errno));
			return FAILED;
		}
		v->counts.total++;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			p = (unsigned char *)run + run->io.data_offset;
			if (run->io.port == BENCH_PORT && run->io.size == 4 &&
			    run->io.direction == KVM_EXIT_IO_OUT &&
			    run->io.count == 1) {
				memcpy(&val, p, 4);
				r = bench_command(val, v, s, ph, res, &out);
				if (r <= 0)
					return r ? FAILED : out;
			} else if (run->io.port == BENCH_PIO_PORT &&
				   run->io.size == 4 && run->io.count == 1 &&
				   run->io.direction == KVM_EXIT_IO_IN) {
				val = BENCH_ANSWER;
				memcpy(p, &val, 4);
			} else if (exit_io(&quiet, run) >= 0) {
				fprintf(stderr, "vmctl: the bench guest used the debug exit\n");
				return FAILED;
			}
			break;
		case KVM_EXIT_MMIO:
			if (run->mmio.is_write)
				break;
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			if (run->mmio.phys_addr == BENCH_MMIO &&
			    run->mmio.len == 4) {
				val = BENCH_ANSWER;
				memcpy(run->mmio.data, &val, 4);
			}
			break;
		case KVM_EXIT_HLT:
		case KVM_EXIT_INTR:
			break;	/* HLT: resume it */
		case KVM_EXIT_SHUTDOWN:
			fprintf(stderr, "vmctl: the bench guest shut down (triple fault)\n");
			return FAILED;
		case KVM_EXIT_INTERNAL_ERROR:
			fprintf(stderr, "vmctl: internal error in the hypervisor, suberror %u\n",
				run->internal.suberror);
			return FAILED;
		default:
			fprintf(stderr, "vmctl: bench: unexpected exit %u (%s)\n",
				run->exit_reason, exit_name(run->exit_reason));
			return FAILED;
		}
	}
}

static uint64_t mem_for(const struct variant *var, uint64_t pages,
			uint64_t size)
{
	uint64_t data = size + 2 * MIB;

	if (var->w == BENCH_W_CTXSW)
		data = var->k * pages * 4096;
	else if (var->w == BENCH_W_CHURN)
		data = 2 * pages * 4096;
	return (BENCH_DATA + data + 6 * MIB) & ~(2 * MIB - 1);
}

/* One run of @var in a new VM on @dev. */
static enum outcome run_variant(const struct bench_options *o, int dev,
				const char *mmu, const struct variant *var,
				struct result *res)
{
	struct run_options ro = {
		.dev = o->dev, .image = o->guest, .mmu = mmu, .cpus = 1,
		.no_root_cache = o->no_root_cache,
	};
	struct vm v = { .dev = dev, .vm = -1, .vcpu = -1, .run = MAP_FAILED };
	struct bench_params *bp;
	enum outcome out = FAILED;
	struct boot b = { 0 };
	struct stats s;
	size_t map_len;
	void *map;
	/* a variant --quick leaves out runs in full when named by --only */
	bool quick = o->quick && var->qops;
	uint64_t pages = quick ? var->qpages : var->pages;
	uint64_t size = quick ? var->qsize : var->size;

	ro.mem = mem_for(var, pages, size);
	v.img.mem_size = ro.mem;
	v.img.mem = guest_mem_alloc(ro.mem, o->small_pages, &map, &map_len);
	if (v.img.mem == MAP_FAILED) {
		perror("vmctl: guest memory");
		return FAILED;
	}
	if (load_image(&ro, &v.img, &b))
		goto out;
	if (b.mode != BOOT_LONG) {
		fprintf(stderr, "vmctl: %s: not the 64-bit bench guest\n",
			o->guest);
		goto out;
	}
	bp = (struct bench_params *)(v.img.mem + BENCH_PARAMS);
	*bp = (struct bench_params) {
		.magic = BENCH_MAGIC, .workload = var->w, .flags = var->flags,
		.k = var->k, .pages = pages, .size = size,
		.ops = quick ? var->qops : var->ops, .mem_size = ro.mem,
	};
	if (create_vm(&ro, &v) || boot_setup(v.vcpu, &v.img, &b))
		goto out;
	stats_open(&s, &v);
	out = bench_loop(&v, &s, res);
	stats_close(&s);
out:
	if (v.run != MAP_FAILED)
		munmap(v.run, v.run_size);
	if (v.vcpu >= 0)
		close(v.vcpu);
	if (v.vm >= 0)
		close(v.vm);
	munmap(map, map_len);
	return out;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median, min and max of a metric over @runs runs. */
static void spread(const struct series *m, unsigned int runs, double *med,
		   double *min, double *max)
{
	double v[MAX_RUNS];

	memcpy(v, m->v, runs * sizeof(v[0]));
	qsort(v, runs, sizeof(v[0]), cmp_double);
	*min = v[0];
	*max = v[runs - 1];
	*med = runs % 2 ? v[runs / 2] : (v[runs / 2 - 1] + v[runs / 2]) / 2;
}

/* A number for the CSV: fixed point, no trailing zeros. */
static void num(FILE *f, double v)
{
	char buf[64];
	char *e;

	snprintf(buf, sizeof(buf), "%.6f", v);
	e = buf + strlen(buf) - 1;
	while (*e == '0')
		*e-- = 0;
	if (*e == '.')
		*e = 0;
	fputs(strcmp(buf, "-0") ? buf : "0", f);
}

static void print_row(const char *label, const char *workload,
		      const char *variant, const struct result *r)
{
	double med, min, max;
	unsigned int i;
	int col = 0;

	spread(&r->m[0], r->runs, &med, &min, &max);
	printf("%-18s %-6s %-24s %8llu %12.1f %12.1f-%-12.1f", label,
	       workload, variant, (unsigned long long)r->ops, med, min, max);
	spread(&r->m[1], r->runs, &med, &min, &max);
	printf(" %9.3f ", med);
	for (i = 2; i < r->n; i++) {
		if (!r->m[i].moved || !strcmp(r->m[i].name, "exits_per_op"))
			continue;
		spread(&r->m[i], r->runs, &med, &min, &max);
		printf("%s%.*s=%.3g", col++ ? " " : "",
		       (int)(strlen(r->m[i].name) - strlen("_per_op")),
		       r->m[i].name, med);
	}
	putchar('\n');
}

static void print_table(const char *label)
{
	char name[NAME_LEN];
	unsigned int i;

	printf("%-18s %-6s %-24s %8s %12s %25s %9s  %s\n", "config", "work",
	       "variant", "ops", "ns/op", "(min-max)", "exits/op",
	       "counters/op (medians)");
	for (i = 0; i < ARRAY_SIZE(variants); i++) {
		const struct result *r = results[i];

		if (r[BENCH_PH_FIRST].runs) {
			snprintf(name, sizeof(name), "%s (1st round)",
				 variants[i].variant);
			print_row(label, variants[i].workload, name,
				  &r[BENCH_PH_FIRST]);
		}
		if (r[BENCH_PH_MAIN].runs)
			print_row(label, variants[i].workload,
				  variants[i].variant, &r[BENCH_PH_MAIN]);
	}
}

static int write_csv(const char *path, const char *label)
{
	double med, min, max;
	unsigned int i, j;
	FILE *f;

	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "vmctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "config,workload,variant,metric,median,min,max,runs\n");
	for (i = 0; i < ARRAY_SIZE(variants); i++) {
		const struct result *r = &results[i][BENCH_PH_MAIN];

		for (j = 0; r->runs && j < r->n; j++) {
			if (j >= 2 && !r->m[j].moved)
				continue;
			spread(&r->m[j], r->runs, &med, &min, &max);
			fprintf(f, "%s,%s,%s,%s,", label, variants[i].workload,
				variants[i].variant, r->m[j].name);
			num(f, med);
			fputc(',', f);
			num(f, min);
			fputc(',', f);
			num(f, max);
			fprintf(f, ",%u\n", r->runs);
		}
	}
	if (fclose(f)) {
		fprintf(stderr, "vmctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static bool selected(const struct bench_options *o, const struct variant *v)
{
	char want[128], *tok, *save = NULL;
	size_t n;

	if (!o->only)
		return !o->quick || v->qops;
	snprintf(want, sizeof(want), "%s", o->only);
	for (tok = strtok_r(want, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		n = strlen(v->workload);
		if (!strcmp(tok, v->workload) && (!o->quick || v->qops))
			return true;
		if (!strncmp(tok, v->workload, n) && tok[n] == '/' &&
		    !strcmp(tok + n + 1, v->variant))
			return true;
	}
	return false;
}

/* "Y"/"1" or "N"/"0" in a module parameter's file; -1 if unreadable. */
static int read_bool_param(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	if (c == 'Y' || c == 'y' || c == '1')
		return 1;
	if (c == 'N' || c == 'n' || c == '0')
		return 0;
	return -1;
}

/*
 * The hypervisor and MMU mode: "minivisor-<mode>" for a device answering
 * MV_CAP_INFO, its mode --mmu or its default; "kvm-<mode>" for KVM, the
 * mode its module parameter npt/ept sets.  @mmu gets what create_vm()
 * is to ask for (NULL on KVM).  Returns -1 after printing why not.
 */
static int detect(const struct bench_options *o, int dev, char *label,
		  size_t len, const char **mmu)
{
	struct minivisor_info info;
	const char *mode = "tdp";
	char buf[16] = "";
	int modes, fd, on;
	ssize_t n;

	*mmu = NULL;
	if (ioctl(dev, KVM_CHECK_EXTENSION, MV_CAP_INFO) > 0 &&
	    !ioctl(dev, MV_GET_INFO, &info)) {
		modes = ioctl(dev, KVM_CHECK_EXTENSION, MV_CAP_MMU_MODE);
		if (modes > 0 && !(modes & MV_MMU_TDP))
			mode = "shadow";
		fd = open("/sys/module/minivisor/parameters/mmu",
			  O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0 && !strncmp(buf, "shadow", 6) &&
			    modes > 0 && (modes & MV_MMU_SHADOW))
				mode = "shadow";
		}
		if (o->mmu)
			mode = o->mmu;
		*mmu = mode;
		snprintf(label, len, "minivisor-%s%s", mode,
			 o->no_root_cache ? "-nocache" : "");
		return 0;
	}
	on = read_bool_param("/sys/module/kvm_amd/parameters/npt");
	if (on < 0)
		on = read_bool_param("/sys/module/kvm_intel/parameters/ept");
	mode = on == 0 ? "shadow" : "tdp";
	if (o->mmu && strcmp(o->mmu, mode)) {
		fprintf(stderr,
			"vmctl: --mmu %s: this KVM runs %s (kvm_amd npt= / kvm_intel ept= choose)\n",
			o->mmu, mode);
		return -1;
	}
	snprintf(label, len, "kvm-%s", mode);
	return 0;
}

/* guests/bench64.elf beside the vmctl binary. */
static const char *default_guest(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "guests/bench64.elf";
	exe[n] = 0;
	snprintf(path, sizeof(path), "%s/guests/bench64.elf", dirname(exe));
	return path;
}

static void bench_help(FILE *out)
{
	fprintf(out,
		"usage: vmctl bench [--dev PATH] [--mmu shadow|tdp] [--quick] [--runs N]\n"
		"                   [--only W[,W...]] [--label NAME] [--out FILE.csv]\n"
		"                   [--guest ELF] [--no-thp] [--no-root-cache]\n"
		"  runs each workload variant (or those --only names: a workload, or\n"
		"  workload/variant) --runs times (default 5; --quick: 3, small sizes)\n"
		"  in a new VM each, and prints per operation the median time, its\n"
		"  spread, exits and the counters that moved; --out writes the CSV.\n"
		"  workloads: faults 4k 2m; ctxsw k2 k16 k64 k256, each -pcid -nopcid;\n"
		"  churn map; gups 4k 2m; exit cpuid pio mmio hlt\n"
		"  --label: the config column (default minivisor-MODE or kvm-MODE)\n"
		"  --guest: the guest (default guests/bench64.elf beside vmctl)\n"
		"  --no-thp: guest memory in 4 KiB host pages (default: 2 MiB-aligned,\n"
		"  MADV_HUGEPAGE, so the host may back it with 2 MiB pages)\n"
		"  --no-root-cache: minivisor's shadow MMU keeps no roots of left\n"
		"  address spaces (MV_CAP_SHADOW_ROOT_CACHE; label ...-nocache)\n");
}

static int parse_args(int argc, char **argv, struct bench_options *o)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "mmu", required_argument, NULL, 'u' },
		{ "quick", no_argument, NULL, 'q' },
		{ "runs", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ "label", required_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'O' },
		{ "guest", required_argument, NULL, 'g' },
		{ "no-thp", no_argument, NULL, 'T' },
		{ "no-root-cache", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	bool runs_set = false;
	char *end;
	int c;

	optind = 2;
	while ((c = getopt_long(argc, argv, "d:u:qr:o:l:O:g:TNh", opts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dev = optarg;
			break;
		case 'u':
			if (strcmp(optarg, "shadow") && strcmp(optarg, "tdp")) {
				fprintf(stderr, "vmctl: --mmu %s: not shadow or tdp\n",
					optarg);
				return 2;
			}
			o->mmu = optarg;
			break;
		case 'q':
			o->quick = true;
			break;
		case 'T':
			o->small_pages = true;
			break;
		case 'N':
			o->no_root_cache = true;
			break;
		case 'r':
			o->runs = strtoul(optarg, &end, 0);
			if (*end || !o->runs || o->runs > MAX_RUNS) {
				fprintf(stderr, "vmctl: --runs: 1 to %d\n",
					MAX_RUNS);
				return 2;
			}
			runs_set = true;
			break;
		case 'o':
			o->only = optarg;
			break;
		case 'l':
			if (strchr(optarg, ',') || !*optarg) {
				fprintf(stderr, "vmctl: --label: not empty, no commas\n");
				return 2;
			}
			o->label = optarg;
			break;
		case 'O':
			o->out = optarg;
			break;
		case 'g':
			o->guest = optarg;
			break;
		case 'h':
			bench_help(stdout);
			return 0;
		default:
			bench_help(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		bench_help(stderr);
		return 2;
	}
	if (!runs_set)
		o->runs = o->quick ? 3 : 5;
	return -1;
}

/**
 * cmd_bench() - vmctl bench
 * @argc: the command line's arguments, "vmctl bench ..."
 * @argv: them
 *
 * Return: vmctl's exit status: 0 when every selected variant ran (or was
 * skipped for a feature this CPU lacks), 1 otherwise, 2 for usage.
 */
int cmd_bench(int argc, char **argv)
{
	struct bench_options o = { .dev = "/dev/minivisor" };
	unsigned int i, run, n = 0, done = 0;
	char label[NAME_LEN];
	const char *mmu;
	int dev, status = 0, r;

	r = parse_args(argc, argv, &o);
	if (r >= 0)
		return r;
	if (!o.guest)
		o.guest = default_guest();
	for (i = 0; i < ARRAY_SIZE(variants); i++)
		n += selected(&o, &variants[i]);
	if (!n) {
		fprintf(stderr, "vmctl: --only %s: no such workload%s\n",
			o.only, o.quick ? " in --quick" : "");
		return 2;
	}
	dev = open_dev(o.dev);
	if (dev < 0)
		return 1;
	if (detect(&o, dev, label, sizeof(label), &mmu)) {
		close(dev);
		return 1;
	}
	if (o.label)
		snprintf(label, sizeof(label), "%s", o.label);
	fprintf(stderr, "vmctl: bench %s on %s, %u runs%s\n", label, o.dev,
		o.runs, o.quick ? ", quick sizes" : "");

	for (i = 0; i < ARRAY_SIZE(variants); i++) {
		const struct variant *var = &variants[i];
		enum outcome out = RAN;

		if (!selected(&o, var))
			continue;
		done++;
		for (run = 0; run < o.runs && out == RAN; run++) {
			fprintf(stderr, "[%u/%u] %s %s run %u/%u\n", done, n,
				var->workload, var->variant, run + 1, o.runs);
			out = run_variant(&o, dev, mmu, var, results[i]);
			if (out != RAN)
				break;
			for (r = 0; r < BENCH_PHASES; r++) {
				if (results[i][r].pending)
					results[i][r].runs++;
				results[i][r].pending = false;
			}
		}
		if (out == SKIPPED)
			fprintf(stderr, "vmctl: %s %s: skipped (%s)\n",
				var->workload, var->variant,
				var->flags & BENCH_F_PCID ?
				"the guest's CPUID has no PCID" :
				"the guest cannot run it");
		if (out == FAILED || (out == RAN &&
				      !results[i][BENCH_PH_MAIN].runs)) {
			fprintf(stderr, "vmctl: %s %s: failed\n",
				var->workload, var->variant);
			status = 1;
		}
	}
	close(dev);
	print_table(label);
	if (o.out && write_csv(o.out, label))
		status = 1;
	return status;
}
