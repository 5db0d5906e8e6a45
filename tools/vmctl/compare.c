// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl bench --compare FILE... [--csv OUT] [--svg OUT]
 *
 * Reads the raw results "vmctl bench --out" writes (one config per run,
 * several files or one concatenation of them), and puts the configs side by
 * side: a text table for ns_per_op and one for exits_per_op, each cell the
 * median and its ratio to the lowest median of the row; --csv writes every
 * metric in wide form with the spread, --svg a chart (svg.c).
 *
 * Exit status: 0 done, 1 bad input or an output that could not be written,
 * 2 usage.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl.h"

#define BENCH_HEADER	"config,workload,variant,metric,median,min,max,runs"
#define BENCH_FIELDS	8

enum { F_CONFIG, F_WORKLOAD, F_VARIANT, F_METRIC, F_MEDIAN, F_MIN, F_MAX,
	F_RUNS };

/* The columns, rows and metrics that come first; others follow as seen. */
static const char *const config_order[] = {
	"minivisor-shadow", "minivisor-tdp", "kvm-shadow", "kvm-tdp",
};

static const char *const workload_order[] = {
	"faults", "ctxsw", "churn", "gups", "exit",
};

/* Within a workload, these variants first; the others as first seen. */
static const char *const variant_order[] = {
	"4k", "2m",
	"k2-pcid", "k2-nopcid", "k16-pcid", "k16-nopcid",
	"k64-pcid", "k64-nopcid", "k256-pcid", "k256-nopcid",
	"map", "cpuid", "pio", "mmio", "hlt",
};

/* These metrics first, then the others by name. */
static const char *const metric_order[] = { "ns_per_op", "exits_per_op" };

/* The metrics the text tables show, with what their cells are. */
static const struct {
	const char *metric;
	const char *what;
} tables[] = {
	{ "ns_per_op", "host time per operation" },
	{ "exits_per_op", "VM exits per operation" },
};

static void show_help(FILE *out)
{
	fprintf(out,
		"usage: vmctl bench --compare FILE... [--csv OUT] [--svg OUT]\n"
		"  reads the raw results of \"vmctl bench --out\" (FILE - is stdin),\n"
		"  prints ns_per_op and exits_per_op per workload/variant, one\n"
		"  column per config: the median and (xR), R its ratio to the\n"
		"  lowest median of the row; - where a config has no result\n"
		"  --csv OUT   every metric as CSV: per config the median, the\n"
		"              ratio, min and max\n"
		"  --svg OUT   a bar chart of the ns_per_op ratios\n"
		"exit status: 0 done, 1 bad input or output, 2 usage\n");
}

/* A message about a line of an input file: "vmctl bench: FILE:LINE: ..." */
#define bad_line(file, line, fmt, ...) \
	fprintf(stderr, "vmctl bench: %s:%lu: " fmt "\n", file, line, \
		##__VA_ARGS__)

/* The index of @name in @v, appending a copy when absent; -1 out of memory. */
static long intern(char ***v, size_t *n, const char *name)
{
	char **nv;
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i], name))
			return i;
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -1;
	*v = nv;
	nv[*n] = strdup(name);
	if (!nv[*n])
		return -1;
	return (*n)++;
}

static long intern_row(struct bench_set *s, const char *workload,
		       const char *variant)
{
	struct bench_row *rows;
	size_t i;

	for (i = 0; i < s->nrows; i++)
		if (!strcmp(s->rows[i].workload, workload) &&
		    !strcmp(s->rows[i].variant, variant))
			return i;
	rows = realloc(s->rows, (s->nrows + 1) * sizeof(*rows));
	if (!rows)
		return -1;
	s->rows = rows;
	rows[i].workload = strdup(workload);
	rows[i].variant = strdup(variant);
	rows[i].seen = i;
	rows[i].rank = 0;
	rows[i].vrank = 0;
	s->nrows++;
	if (!rows[i].workload || !rows[i].variant)
		return -1;
	return i;
}

static void bench_set_free(struct bench_set *s)
{
	size_t i, j;

	for (i = 0; i < s->nconfigs; i++)
		free(s->configs[i]);
	for (i = 0; i < s->nmetrics; i++)
		free(s->metrics[i]);
	for (i = 0; i < s->nrows; i++) {
		free(s->rows[i].workload);
		free(s->rows[i].variant);
	}
	for (i = 0; i < s->ncells; i++)
		for (j = 0; j < ARRAY_SIZE(s->cells[i].text); j++)
			free(s->cells[i].text[j]);
	free(s->configs);
	free(s->metrics);
	free(s->rows);
	free(s->cells);
	free(s->index);
}

/* A name: printable ASCII, no spaces (a config, workload, variant, metric) */
static const char *check_name(const char *s)
{
	if (!*s)
		return "is empty";
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return "has a space or a character that is not printable ASCII";
	return NULL;
}

/* A decimal number >= 0: digits, a point, an exponent; no inf, nan, hex. */
static int parse_number(const char *s, double *v)
{
	char *end;

	if (!*s || strspn(s, "0123456789.eE+-") != strlen(s))
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	if (*end || errno || !isfinite(*v) || *v < 0)
		return -1;
	return 0;
}

static int parse_runs(const char *s, unsigned long *runs)
{
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	*runs = strtoul(s, &end, 10);
	if (*end || errno || !*runs)
		return -1;
	return 0;
}

static int oom(void)
{
	fprintf(stderr, "vmctl bench: out of memory\n");
	return -1;
}

/* One result line, split in place; 0, or -1 with the reason printed. */
static int parse_line(struct bench_set *s, char *text, const char *file,
		      unsigned long line)
{
	static const char *const names[] = {
		"config", "workload", "variant", "metric", "median", "min",
		"max", "runs",
	};
	char *f[BENCH_FIELDS];
	struct bench_cell *c;
	long config, row, metric;
	const char *why;
	double v[3];
	size_t n, i;
	unsigned long runs;
	char *p = text;

	for (n = 0; ; n++) {
		char *comma = strchr(p, ',');

		if (n < BENCH_FIELDS)
			f[n] = p;
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	n++;
	if (n != BENCH_FIELDS) {
		bad_line(file, line, "%zu fields, not %d (%s)", n,
			 BENCH_FIELDS, BENCH_HEADER);
		return -1;
	}
	for (i = F_CONFIG; i <= F_METRIC; i++) {
		why = check_name(f[i]);
		if (why) {
			bad_line(file, line, "the %s '%s' %s", names[i], f[i],
				 why);
			return -1;
		}
	}
	for (i = F_MEDIAN; i <= F_MAX; i++) {
		if (parse_number(f[i], &v[i - F_MEDIAN])) {
			bad_line(file, line,
				 "the %s '%s' is not a decimal number >= 0",
				 names[i], f[i]);
			return -1;
		}
	}
	if (parse_runs(f[F_RUNS], &runs)) {
		bad_line(file, line, "the runs '%s' is not a count > 0",
			 f[F_RUNS]);
		return -1;
	}
	if (v[1] > v[0] || v[0] > v[2]) {
		bad_line(file, line, "not min <= median <= max (%s, %s, %s)",
			 f[F_MIN], f[F_MEDIAN], f[F_MAX]);
		return -1;
	}

	config = intern(&s->configs, &s->nconfigs, f[F_CONFIG]);
	metric = intern(&s->metrics, &s->nmetrics, f[F_METRIC]);
	row = intern_row(s, f[F_WORKLOAD], f[F_VARIANT]);
	if (config < 0 || metric < 0 || row < 0)
		return oom();
	if (s->ncells == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;

		c = realloc(s->cells, cap * sizeof(*c));
		if (!c)
			return oom();
		s->cells = c;
		s->cap = cap;
	}
	c = &s->cells[s->ncells];
	memset(c, 0, sizeof(*c));
	s->ncells++;
	c->median = v[0];
	c->min = v[1];
	c->max = v[2];
	c->runs = runs;
	c->config = config;
	c->row = row;
	c->metric = metric;
	c->file = file;
	c->line = line;
	for (i = 0; i < ARRAY_SIZE(c->text); i++) {
		c->text[i] = strdup(f[F_MEDIAN + i]);
		if (!c->text[i])
			return oom();
	}
	return 0;
}

/*
 * One raw results file: its first line that is not a comment must be the
 * header; the header may come again (files concatenated), blank lines and
 * '#' comments are skipped.
 */
static int read_file(struct bench_set *s, const char *path)
{
	bool header = false;
	unsigned long line = 0;
	char *text = NULL;
	size_t size = 0;
	ssize_t len;
	FILE *f;
	int ret = 0;

	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		fprintf(stderr, "vmctl bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&text, &size, f)) >= 0) {
		line++;
		while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
			text[--len] = '\0';
		if (!len || text[0] == '#')
			continue;
		if (!strcmp(text, BENCH_HEADER)) {
			header = true;
			continue;
		}
		if (!header || !strncmp(text, "config,", 7)) {
			bad_line(path, line,
				 "not the header of vmctl bench's results: '%.60s', expected '%s'",
				 text, BENCH_HEADER);
			ret = -1;
			break;
		}
		ret = parse_line(s, text, path, line);
		if (ret)
			break;
	}
	if (!ret && ferror(f)) {
		fprintf(stderr, "vmctl bench: %s: %s\n", path, strerror(errno));
		ret = -1;
	}
	if (!ret && !header) {
		fprintf(stderr, "vmctl bench: %s: no header line '%s' (empty?)\n",
			path, BENCH_HEADER);
		ret = -1;
	}
	free(text);
	if (f != stdin)
		fclose(f);
	return ret;
}

/* The index of @name in @v, or @n if absent. */
static size_t in_list(const char *const *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n && strcmp(v[i], name); i++)
		;
	return i;
}

static long find(char *const *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return i;
	return -1;
}

/*
 * Puts @v (n names, first-seen order) in the order @first names, then the
 * others as seen, or by name with @by_name; @map[old index] = new index.
 */
static int reorder(char **v, size_t n, const char *const *first,
		   size_t nfirst, bool by_name, size_t *map)
{
	size_t i, k = 0;
	char **old;
	long j;

	old = malloc((n + 1) * sizeof(*old));
	if (!old)
		return oom();
	memcpy(old, v, n * sizeof(*old));
	for (i = 0; i < n; i++)
		map[i] = n;
	for (i = 0; i < nfirst; i++) {
		j = find(old, n, first[i]);
		if (j >= 0)
			map[j] = k++;
	}
	while (by_name && k < n) {
		for (i = 0, j = -1; i < n; i++)
			if (map[i] == n &&
			    (j < 0 || strcmp(old[i], old[j]) < 0))
				j = i;
		map[j] = k++;
	}
	for (i = 0; i < n; i++)
		if (map[i] == n)
			map[i] = k++;
	for (i = 0; i < n; i++)
		v[map[i]] = old[i];
	free(old);
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct bench_row *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->vrank != y->vrank)
		return x->vrank < y->vrank ? -1 : 1;
	return x->seen < y->seen ? -1 : x->seen > y->seen;
}

/*
 * Orders the columns, metrics and rows, and indexes the results; a second
 * result for one cell is an error.
 */
static int bench_set_finish(struct bench_set *s)
{
	size_t *cmap, *mmap, *rmap, i, j;
	const struct bench_cell **slot;
	int ret = -1;

	cmap = calloc(s->nconfigs + 1, sizeof(*cmap));
	mmap = calloc(s->nmetrics + 1, sizeof(*mmap));
	rmap = calloc(s->nrows + 1, sizeof(*rmap));
	s->index = calloc(s->nmetrics * s->nrows * s->nconfigs + 1,
			  sizeof(*s->index));
	if (!cmap || !mmap || !rmap || !s->index) {
		oom();
		goto out;
	}
	if (reorder(s->configs, s->nconfigs, config_order,
		    ARRAY_SIZE(config_order), false, cmap) ||
	    reorder(s->metrics, s->nmetrics, metric_order,
		    ARRAY_SIZE(metric_order), true, mmap))
		goto out;

	/* Known workloads and variants first, the others as first seen. */
	for (i = 0; i < s->nrows; i++) {
		struct bench_row *r = &s->rows[i];

		r->vrank = in_list(variant_order, ARRAY_SIZE(variant_order),
				   r->variant);
		r->rank = in_list(workload_order, ARRAY_SIZE(workload_order),
				  r->workload);
		if (r->rank < ARRAY_SIZE(workload_order))
			continue;
		for (j = 0; strcmp(s->rows[j].workload, r->workload); j++)
			;
		r->rank = ARRAY_SIZE(workload_order) + j;
	}
	qsort(s->rows, s->nrows, sizeof(*s->rows), row_cmp);
	for (i = 0; i < s->nrows; i++)
		rmap[s->rows[i].seen] = i;

	for (i = 0; i < s->ncells; i++) {
		struct bench_cell *c = &s->cells[i];

		c->config = cmap[c->config];
		c->metric = mmap[c->metric];
		c->row = rmap[c->row];
		slot = &s->index[(c->metric * s->nrows + c->row) * s->nconfigs +
				 c->config];
		if (*slot) {
			bad_line(c->file, c->line,
				 "a second result for %s %s/%s %s (the first: %s:%lu)",
				 s->configs[c->config],
				 s->rows[c->row].workload,
				 s->rows[c->row].variant,
				 s->metrics[c->metric], (*slot)->file,
				 (*slot)->line);
			goto out;
		}
		*slot = c;
	}
	ret = 0;
out:
	free(cmap);
	free(mmap);
	free(rmap);
	return ret;
}

/**
 * bench_cell() - one config's result for one workload variant and metric
 * @s: the results, indexed
 * @metric: index in @s->metrics
 * @row: index in @s->rows
 * @config: index in @s->configs
 *
 * Return: the result, or NULL if the files had none.
 */
const struct bench_cell *bench_cell(const struct bench_set *s, size_t metric,
				    size_t row, size_t config)
{
	return s->index[(metric * s->nrows + row) * s->nconfigs + config];
}

/**
 * bench_best() - the lowest median of a row
 * @s: the results, indexed
 * @metric: index in @s->metrics
 * @row: index in @s->rows
 * @best: set to the lowest median of any config
 *
 * Return: false if no config has a result there (@best untouched).
 */
bool bench_best(const struct bench_set *s, size_t metric, size_t row,
		double *best)
{
	const struct bench_cell *c;
	bool any = false;
	size_t i;

	for (i = 0; i < s->nconfigs; i++) {
		c = bench_cell(s, metric, row, i);
		if (c && (!any || c->median < *best)) {
			*best = c->median;
			any = true;
		}
	}
	return any;
}

/**
 * bench_ratio() - a median relative to the best of its row
 * @value: the median
 * @best: the row's lowest median
 *
 * Return: @value / @best; 1 where both are 0, INFINITY where only @best is.
 */
double bench_ratio(double value, double best)
{
	if (best > 0)
		return value / best;
	return value > 0 ? INFINITY : 1;
}

/**
 * bench_metric() - a metric's index
 * @s: the results
 * @name: e.g. "ns_per_op"
 *
 * Return: its index in @s->metrics, or -1 if no file had it.
 */
long bench_metric(const struct bench_set *s, const char *name)
{
	return find(s->metrics, s->nmetrics, name);
}

/**
 * bench_config() - a config's index
 * @s: the results
 * @name: e.g. "kvm-tdp"
 *
 * Return: its index in @s->configs, or -1 if no file had it.
 */
long bench_config(const struct bench_set *s, const char *name)
{
	return find(s->configs, s->nconfigs, name);
}

/* @v to three significant digits. */
static double round3(double v)
{
	double p;

	if (v <= 0)
		return 0;
	p = pow(10, floor(log10(v)) - 2);
	return round(v / p) * p;
}

/* Three significant digits: 0.00123, 1.23, 12.3, 123, 1230; else 1.23e+07 */
static void format3(char *buf, size_t len, double v)
{
	int decimals;

	if (v == 0) {
		snprintf(buf, len, "0");
		return;
	}
	if (v < 0.0001 || v >= 1000000) {
		snprintf(buf, len, "%.2e", v);
		return;
	}
	decimals = 2 - (int)floor(log10(v));
	if (decimals < 0)
		decimals = 0;
	snprintf(buf, len, "%.*f", decimals, v);
}

/**
 * bench_format_ns() - nanoseconds for people: "850 ns", "12.3 us", "3.05 ms"
 * @buf: where the text goes
 * @len: its size
 * @ns: nanoseconds
 *
 * Three significant digits, in the unit that keeps the number below 1000.
 */
void bench_format_ns(char *buf, size_t len, double ns)
{
	static const char *const units[] = { "ns", "us", "ms", "s" };
	double v = round3(ns);
	char num[32];
	size_t u = 0;

	while (v >= 1000 && u < ARRAY_SIZE(units) - 1) {
		v /= 1000;
		u++;
	}
	format3(num, sizeof(num), v);
	snprintf(buf, len, "%s %s", num, units[u]);
}

static void format_value(char *buf, size_t len, const char *metric, double v)
{
	if (!strcmp(metric, "ns_per_op"))
		bench_format_ns(buf, len, v);
	else
		format3(buf, len, round3(v));
}

/**
 * bench_format_ratio() - a ratio to the best: "1.00", "53.33", "inf"
 * @buf: where the text goes
 * @len: its size
 * @ratio: from bench_ratio()
 */
void bench_format_ratio(char *buf, size_t len, double ratio)
{
	if (isinf(ratio))
		snprintf(buf, len, "inf");
	else if (ratio >= 1000000)
		snprintf(buf, len, "%.2e", ratio);
	else
		snprintf(buf, len, "%.2f", ratio);
}

#define CELL_LEN	128

/* The text table of one metric: rows with a result, a column per config. */
static int print_table(const struct bench_set *s, size_t m, const char *what,
		       FILE *out)
{
	size_t cols = s->nconfigs + 1, nr = 0, i, j;
	const struct bench_cell *c;
	char (*cell)[CELL_LEN];
	size_t *width;
	double best;

	cell = calloc((s->nrows + 1) * cols, CELL_LEN);
	width = calloc(cols, sizeof(*width));
	if (!cell || !width) {
		free(cell);
		free(width);
		return oom();
	}
	snprintf(cell[0], CELL_LEN, "workload/variant");
	for (j = 0; j < s->nconfigs; j++)
		snprintf(cell[j + 1], CELL_LEN, "%s", s->configs[j]);
	for (i = 0; i < s->nrows; i++) {
		char (*r)[CELL_LEN] = &cell[(nr + 1) * cols];

		if (!bench_best(s, m, i, &best))
			continue;
		nr++;
		snprintf(r[0], CELL_LEN, "%s/%s", s->rows[i].workload,
			 s->rows[i].variant);
		for (j = 0; j < s->nconfigs; j++) {
			char v[48], ratio[24];

			c = bench_cell(s, m, i, j);
			if (!c) {
				snprintf(r[j + 1], CELL_LEN, "-");
				continue;
			}
			format_value(v, sizeof(v), s->metrics[m], c->median);
			bench_format_ratio(ratio, sizeof(ratio),
					   bench_ratio(c->median, best));
			snprintf(r[j + 1], CELL_LEN, "%s (x%s%s)", v,
				 isdigit(ratio[0]) ? "" : " ", ratio);
		}
	}
	for (i = 0; i <= nr; i++)
		for (j = 0; j < cols; j++)
			if (strlen(cell[i * cols + j]) > width[j])
				width[j] = strlen(cell[i * cols + j]);

	fprintf(out, "%s: median %s, (xR) = R times the lowest of the row\n",
		s->metrics[m], what);
	for (i = 0; i <= nr; i++) {
		fprintf(out, "%-*s", (int)width[0], cell[i * cols]);
		for (j = 1; j < cols; j++)
			fprintf(out, "  %*s", (int)width[j], cell[i * cols + j]);
		fputc('\n', out);
	}
	free(cell);
	free(width);
	return 0;
}

static int print_tables(const struct bench_set *s, FILE *out)
{
	bool others = false;
	size_t i;
	long m;

	for (i = 0; i < ARRAY_SIZE(tables); i++) {
		if (i)
			fputc('\n', out);
		m = bench_metric(s, tables[i].metric);
		if (m < 0) {
			fprintf(out, "%s: no results\n", tables[i].metric);
			continue;
		}
		if (print_table(s, m, tables[i].what, out))
			return -1;
	}
	for (i = 0; i < s->nmetrics; i++) {
		if (in_list(metric_order, ARRAY_SIZE(metric_order),
			    s->metrics[i]) < ARRAY_SIZE(metric_order))
			continue;
		fprintf(out, "%s%s", others ? ", " : "\nalso in --csv: ",
			s->metrics[i]);
		others = true;
	}
	if (others)
		fputc('\n', out);
	return 0;
}

/*
 * The wide CSV: workload,variant,metric, then per config its median, ratio,
 * min and max ("-" where it has no result); every metric, rows as in the
 * tables.
 */
static int write_csv(const struct bench_set *s, const char *path)
{
	const struct bench_cell *c;
	size_t m, r, j;
	char ratio[24];
	double best;
	FILE *f;

	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "vmctl bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "workload,variant,metric");
	for (j = 0; j < s->nconfigs; j++)
		fprintf(f, ",%s,%s_ratio,%s_min,%s_max", s->configs[j],
			s->configs[j], s->configs[j], s->configs[j]);
	fputc('\n', f);
	for (m = 0; m < s->nmetrics; m++) {
		for (r = 0; r < s->nrows; r++) {
			if (!bench_best(s, m, r, &best))
				continue;
			fprintf(f, "%s,%s,%s", s->rows[r].workload,
				s->rows[r].variant, s->metrics[m]);
			for (j = 0; j < s->nconfigs; j++) {
				c = bench_cell(s, m, r, j);
				if (!c) {
					fprintf(f, ",-,-,-,-");
					continue;
				}
				bench_format_ratio(ratio, sizeof(ratio),
						   bench_ratio(c->median, best));
				fprintf(f, ",%s,%s,%s,%s", c->text[0], ratio,
					c->text[1], c->text[2]);
			}
			fputc('\n', f);
		}
	}
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "vmctl bench: %s: write failed\n", path);
		return -1;
	}
	return 0;
}

/**
 * bench_compare_main() - vmctl bench --compare
 * @argc: the arguments' count
 * @argv: the arguments, argv[0] being "bench"
 *
 * Return: the exit status: 0 done, 1 bad input or output, 2 usage.
 */
int bench_compare_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "compare", no_argument, NULL, 'C' },
		{ "csv", required_argument, NULL, 'c' },
		{ "svg", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *csv = NULL, *svg = NULL;
	struct bench_set s = { };
	int c, i, ret = STATUS_ERROR;
	bool compare = false;

	optind = 0;	/* whoever used getopt before: start afresh */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			compare = true;
			break;
		case 'c':
			csv = optarg;
			break;
		case 's':
			svg = optarg;
			break;
		case 'h':
			show_help(stdout);
			return 0;
		default:
			show_help(stderr);
			return STATUS_USAGE;
		}
	}
	if (!compare || optind == argc) {
		fprintf(stderr, "vmctl bench: --compare needs result files\n");
		show_help(stderr);
		return STATUS_USAGE;
	}
	for (i = optind; i < argc; i++)
		if (read_file(&s, argv[i]))
			goto out;
	if (!s.ncells) {
		fprintf(stderr, "vmctl bench: no results in the files\n");
		goto out;
	}
	if (bench_set_finish(&s) || print_tables(&s, stdout))
		goto out;
	if (fflush(stdout)) {
		perror("vmctl bench: stdout");
		goto out;
	}
	if (csv && write_csv(&s, csv))
		goto out;
	if (svg && bench_svg_write(&s, svg))
		goto out;
	ret = 0;
out:
	bench_set_free(&s);
	return ret;
}
