// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl bench --compare --svg: a grouped bar chart of ns_per_op, each bar a
 * config's median over the lowest median of its workload variant.  One
 * self-contained SVG file: no scripts, no styles or fonts from elsewhere.
 * The scale is linear up to ratios of 20, log2 beyond.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vmctl.h"

#define BAR_W		16	/* a bar */
#define GROUP_GAP	24	/* between two workload variants */
#define LEFT		72	/* the y axis and its labels */
#define RIGHT		24
#define PLOT_H		320	/* the plot, between the axis' ends */
#define LABEL_ROOM	48	/* above the plot, for the tallest bar's label */
#define BOTTOM		130	/* below the plot, the variants' names */
#define LEGEND_ROW	20
#define MIN_WIDTH	720
#define CHAR_W		7	/* a guess at one character, 12px sans-serif */
#define LOG_ABOVE	20	/* ratios beyond this: log2 scale */

/*
 * From Okabe and Ito's colour-blind safe set: minivisor blue, KVM orange,
 * the same colour for a config in every chart; other configs the rest.
 */
static const struct {
	const char *config;
	const char *colour;
} known[] = {
	{ "minivisor-shadow", "#0072b2" },
	{ "minivisor-tdp", "#56b4e9" },
	{ "kvm-shadow", "#d55e00" },
	{ "kvm-tdp", "#e69f00" },
};

static const char *const others[] = {
	"#009e73", "#cc79a7", "#f0e442", "#666666",
};

static const char *colour(const struct bench_set *s, size_t config)
{
	size_t i, unknown = config;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(s->configs[config], known[i].config))
			return known[i].colour;
	/* the columns put the known configs first: count those before */
	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (bench_config(s, known[i].config) >= 0)
			unknown--;
	return others[unknown % ARRAY_SIZE(others)];
}

/**
 * struct scale - the y axis
 * @log: log2, else linear
 * @lo: the ratio at the bottom of the plot (0, or 0.5 in log2 so that a
 *	ratio of 1 still has a bar)
 * @hi: the ratio at the top
 * @step: between ticks: an addend (linear) or a factor (log2)
 * @top: y of the top of the plot
 */
struct scale {
	bool log;
	double lo;
	double hi;
	double step;
	double top;
};

/* y of @ratio; infinite ratios reach the top. */
static double scale_y(const struct scale *sc, double ratio)
{
	double f;

	if (isinf(ratio))
		f = 1;
	else if (sc->log)
		f = (log2(ratio) - log2(sc->lo)) / (log2(sc->hi) - log2(sc->lo));
	else
		f = (ratio - sc->lo) / (sc->hi - sc->lo);
	if (f < 0)
		f = 0;
	if (f > 1)
		f = 1;
	return sc->top + PLOT_H * (1 - f);
}

/* 1, 2, 2.5 or 5 times a power of ten, at least @x. */
static double nice_step(double x)
{
	double e = pow(10, floor(log10(x))), f = x / e;

	if (f <= 1)
		return e;
	if (f <= 2)
		return 2 * e;
	if (f <= 2.5)
		return 2.5 * e;
	if (f <= 5)
		return 5 * e;
	return 10 * e;
}

static void scale_init(struct scale *sc, double max, double top)
{
	int k;

	sc->top = top;
	sc->log = max > LOG_ABOVE;
	if (sc->log) {
		k = (int)ceil(log2(max));
		sc->lo = 0.5;
		sc->hi = ldexp(1, k);
		/* at most 12 ticks: every power of 2, or every 2nd, ... */
		sc->step = ldexp(1, (k + 12) / 12);
	} else {
		sc->step = nice_step(max / 5);
		sc->lo = 0;
		sc->hi = ceil(max / sc->step) * sc->step;
	}
}

/* @s as XML character data or attribute value. */
static void xml(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void draw_axis(FILE *f, const struct scale *sc, double x0, double x1)
{
	double bottom = sc->top + PLOT_H, v, y;

	fprintf(f, "<g class=\"axis\" data-scale=\"%s\">\n",
		sc->log ? "log2" : "linear");
	for (v = sc->lo; v <= sc->hi * 1.0001;
	     v = sc->log ? v * sc->step : v + sc->step) {
		y = scale_y(sc, v);
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n",
			x0, y, x1, y);
		fprintf(f,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%g</text>\n",
			x0 - 6, y + 4, v);
	}
	y = scale_y(sc, 1);
	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888888\" stroke-dasharray=\"4 3\"/>\n",
		x0, y, x1, y);
	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
		x0, sc->top, x0, bottom);
	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
		x0, bottom, x1, bottom);
	fprintf(f,
		"<text transform=\"translate(%d %.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">ratio to the lowest of the group, %s scale (lower is better)</text>\n",
		16, sc->top + PLOT_H / 2.0, sc->log ? "log2" : "linear");
	fprintf(f, "</g>\n");
}

/* The legend's entries, wrapped at @width; returns the rows it took. */
static int draw_legend(FILE *f, const struct bench_set *s, double y,
		       int width, bool draw)
{
	double x = LEFT, w;
	int rows = 1;
	size_t j;

	if (draw)
		fprintf(f, "<g class=\"legend\" font-size=\"12\">\n");
	for (j = 0; j < s->nconfigs; j++) {
		w = 12 + 6 + CHAR_W * strlen(s->configs[j]) + 18;
		if (x > LEFT && x + w > width - RIGHT) {
			x = LEFT;
			y += LEGEND_ROW;
			rows++;
		}
		if (draw) {
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n",
				x, y - 10, colour(s, j));
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x + 18, y);
			xml(f, s->configs[j]);
			fprintf(f, "</text>\n");
		}
		x += w;
	}
	if (draw)
		fprintf(f, "</g>\n");
	return rows;
}

static void draw_bar(FILE *f, const struct bench_set *s,
		     const struct scale *sc, size_t m, size_t r, size_t j,
		     double x, double best)
{
	const struct bench_cell *c = bench_cell(s, m, r, j);
	double bottom = sc->top + PLOT_H, ratio, y;
	char med[32], lo[32], hi[32], num[24], rtext[32];

	if (!c) {
		fprintf(f,
			"<text class=\"missing\" transform=\"translate(%.1f %.1f) rotate(-90)\" font-size=\"10\" fill=\"#888888\">no result</text>\n",
			x + BAR_W / 2.0 + 3.5, bottom - 3);
		return;
	}
	ratio = bench_ratio(c->median, best);
	y = scale_y(sc, ratio);
	bench_format_ratio(num, sizeof(num), ratio);
	snprintf(rtext, sizeof(rtext), "x%s%s", isinf(ratio) ? " " : "", num);
	bench_format_ns(med, sizeof(med), c->median);
	bench_format_ns(lo, sizeof(lo), c->min);
	bench_format_ns(hi, sizeof(hi), c->max);
	fprintf(f,
		"<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>",
		x + 1, y, BAR_W - 2, bottom - y,
		colour(s, j));
	xml(f, s->configs[j]);
	fputc(' ', f);
	xml(f, s->rows[r].workload);
	fputc('/', f);
	xml(f, s->rows[r].variant);
	fprintf(f, ": %s %s (min %s, max %s, %lu runs)</title></rect>\n",
		med, rtext, lo, hi, c->runs);
	fprintf(f,
		"<text class=\"ratio\" transform=\"translate(%.1f %.1f) rotate(-90)\" font-size=\"10\">%s</text>\n",
		x + BAR_W / 2.0 + 3.5, y - 3, rtext);
}

/**
 * bench_svg_write() - the chart of ns_per_op ratios
 * @s: the results, indexed
 * @path: the file to write
 *
 * Return: 0, or -1 (with a message) if there is no ns_per_op result or
 * the file could not be written.
 */
int bench_svg_write(const struct bench_set *s, const char *path)
{
	double best, ratio, max = 1, x, top;
	size_t r, j, groups = 0;
	struct scale sc;
	int width, height, rows;
	long m;
	FILE *f;

	m = bench_metric(s, "ns_per_op");
	for (r = 0; m >= 0 && r < s->nrows; r++) {
		if (!bench_best(s, m, r, &best))
			continue;
		groups++;
		for (j = 0; j < s->nconfigs; j++) {
			const struct bench_cell *c = bench_cell(s, m, r, j);

			ratio = c ? bench_ratio(c->median, best) : 1;
			if (!isinf(ratio) && ratio > max)
				max = ratio;
		}
	}
	if (!groups) {
		fprintf(stderr, "vmctl bench: %s: no ns_per_op results to draw\n",
			path);
		return -1;
	}
	width = LEFT + groups * (s->nconfigs * BAR_W + GROUP_GAP) + RIGHT;
	if (width < MIN_WIDTH)
		width = MIN_WIDTH;
	rows = draw_legend(NULL, s, 0, width, false);
	top = 48 + rows * LEGEND_ROW + LABEL_ROOM;
	height = top + PLOT_H + BOTTOM;
	scale_init(&sc, max, top);

	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "vmctl bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
		"<rect class=\"background\" width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text class=\"title\" x=\"%d\" y=\"26\" font-size=\"16\" font-weight=\"bold\">ns_per_op: each config over the lowest of its workload variant</text>\n",
		width, height, width, height, LEFT);
	draw_legend(f, s, 52, width, true);
	draw_axis(f, &sc, LEFT, width - RIGHT);

	fprintf(f, "<g class=\"bars\">\n");
	x = LEFT + GROUP_GAP / 2.0;
	for (r = 0; r < s->nrows; r++) {
		if (!bench_best(s, m, r, &best))
			continue;
		fprintf(f, "<g class=\"group\">\n");
		for (j = 0; j < s->nconfigs; j++)
			draw_bar(f, s, &sc, m, r, j, x + j * BAR_W, best);
		fprintf(f,
			"<text class=\"group-label\" transform=\"translate(%.1f %.1f) rotate(-40)\" text-anchor=\"end\" font-size=\"12\">",
			x + s->nconfigs * BAR_W / 2.0, top + PLOT_H + 16);
		xml(f, s->rows[r].workload);
		fputc('/', f);
		xml(f, s->rows[r].variant);
		fprintf(f, "</text>\n</g>\n");
		x += s->nconfigs * BAR_W + GROUP_GAP;
	}
	fprintf(f, "</g>\n</svg>\n");
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "vmctl bench: %s: write failed\n", path);
		return -1;
	}
	return 0;
}
