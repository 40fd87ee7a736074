/* cron_bench.c - the next-fire computation cost of bench/sched.py (bench/README.md).
 *
 * Reads "class<TAB>zone<TAB>expr" lines on stdin (the schedules sched.py loads
 * into jobsd) and runs in one of two modes:
 *
 *   cron_bench next FROM_MS
 *       one line per input line: the first firing strictly after FROM_MS
 *       (epoch ms) as cron_next() gives it, "none", or "error <why>". sched.py
 *       uses it to check that none of the loaded schedules fires while it
 *       measures.
 *
 *   cron_bench time [CALLS_PER_CLASS] [SEED]
 *       times cron_next() over the same expressions and zones, from random
 *       starting instants in 2026-2030 (so that daylight-saving transitions
 *       come up as often as they do in a year), next to two references timed
 *       on the same zone and the same instants in the same pass:
 *         localtime_r   glibc's conversion of an instant to local time, with TZ
 *                       set to the zone in this process (tzset once per zone).
 *                       setenv("TZ") is what jobsd itself never does; here it
 *                       is the reference being measured, in a single-threaded
 *                       process that exists only for that.
 *         tzif_offset   one tzif_offset_at() lookup (jobsd's own TZif table)
 *       Each call is timed on its own (CLOCK_MONOTONIC around it, minus the
 *       median cost of an empty timing pair) for p50/p99; a second pass times
 *       whole loops of the same calls (the fastest of 5 runs of each) for the
 *       mean without timer overhead.
 *       Prints one JSON object.
 *
 * Built by bench/sched.py against build/libjobsd.a with the Makefile's flags.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/cron.h"
#include "sched/cron_next.h"
#include "sched/tzif.h"

#define MAX_CLASSES 64

struct entry {
	char cls[48];
	char zone[64];
	char expr[256];
	int cls_idx;
	struct cron_expr e;
	const struct tzif *z;
};

struct sample {
	const struct entry *en;
	int64_t after_ms;
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static inline int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_zone(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->zone, y->zone);
	return c ? c : x->cls_idx - y->cls_idx;
}

static int cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;
	int c = strcmp(x->en->zone, y->en->zone);
	return c ? c : x->en->cls_idx - y->en->cls_idx;
}

static double pct(int64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i];
}

static struct entry *read_entries(struct tzdb *db, size_t *n_out, char cls_names[][48],
				  int *ncls)
{
	size_t n = 0, cap = 1024;
	struct entry *v = malloc(cap * sizeof(*v));
	char line[1024];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2) {
			fprintf(stderr, "cron_bench: malformed line: %s\n", line);
			exit(2);
		}
		*t1 = *t2 = '\0';
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		struct entry *en = &v[n++];
		memset(en, 0, sizeof(*en));
		snprintf(en->cls, sizeof(en->cls), "%.47s", line);
		snprintf(en->zone, sizeof(en->zone), "%.63s", t1 + 1);
		snprintf(en->expr, sizeof(en->expr), "%.255s", t2 + 1);
		int c = 0;
		while (c < *ncls && strcmp(cls_names[c], en->cls) != 0)
			c++;
		if (c == *ncls) {
			if (*ncls == MAX_CLASSES) {
				fprintf(stderr, "cron_bench: too many classes\n");
				exit(2);
			}
			snprintf(cls_names[(*ncls)++], 48, "%.47s", en->cls);
		}
		en->cls_idx = c;
		char why[200];
		if (cron_parse(en->expr, &en->e, why, sizeof(why)) < 0) {
			en->z = NULL;
			snprintf(en->expr, sizeof(en->expr), "%.199s", why);
			en->cls_idx = -1; /* reported by `next`, skipped by `time` */
			continue;
		}
		if (!(en->z = tzdb_get(db, en->zone, why, sizeof(why)))) {
			snprintf(en->expr, sizeof(en->expr), "%.199s", why);
			en->cls_idx = -1;
		}
	}
	*n_out = n;
	return v;
}

static int mode_next(struct entry *v, size_t n, int64_t from_ms)
{
	for (size_t i = 0; i < n; i++) {
		int64_t next;
		if (v[i].cls_idx < 0)
			printf("error %s\n", v[i].expr);
		else if (cron_next(&v[i].e, v[i].z, from_ms, &next) < 0)
			printf("none\n");
		else
			printf("%" PRId64 "\n", next);
	}
	return 0;
}

/* A sink the compiler cannot see through. */
static volatile int64_t sink;

static int mode_time(struct entry *v, size_t n, char cls_names[][48], int ncls, long per_class)
{
	/* Usable entries, grouped by zone so that TZ is set once per zone. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].cls_idx >= 0)
			v[m++] = v[i];
	qsort(v, m, sizeof(*v), cmp_zone);

	/* Entries of each class, and for each class per_class samples: a
	 * random entry of the class and a random instant in 2026-01-01 ..
	 * 2031-01-01 (whole ms). Sorted by zone afterwards. */
	const int64_t lo = 1767225600000LL, hi = 1924992000000LL;
	size_t total = (size_t)per_class * (size_t)ncls;
	struct sample *s = malloc(total * sizeof(*s));
	size_t ns = 0;
	for (int c = 0; c < ncls; c++) {
		size_t cnt = 0;
		for (size_t i = 0; i < m; i++)
			cnt += v[i].cls_idx == c;
		if (!cnt)
			continue;
		const struct entry **of = malloc(cnt * sizeof(*of));
		size_t k = 0;
		for (size_t i = 0; i < m; i++)
			if (v[i].cls_idx == c)
				of[k++] = &v[i];
		for (long j = 0; j < per_class; j++) {
			s[ns].en = of[rng() % cnt];
			s[ns].after_ms = lo + (int64_t)(rng() % (uint64_t)(hi - lo));
			ns++;
		}
		free(of);
	}
	/* Grouped by zone, then class; random order within a group. */
	qsort(s, ns, sizeof(*s), cmp_sample);

	int64_t *d_cron = malloc(ns * sizeof(int64_t)), *d_lt = malloc(ns * sizeof(int64_t)),
		*d_tz = malloc(ns * sizeof(int64_t));
	int *cls_of = malloc(ns * sizeof(int));

	/* Timer overhead: the median of empty pairs. */
	int64_t *o = malloc(200000 * sizeof(int64_t));
	for (int i = 0; i < 200000; i++) {
		int64_t a = now_ns();
		o[i] = now_ns() - a;
	}
	qsort(o, 200000, sizeof(int64_t), cmp_i64);
	int64_t overhead = o[100000];
	free(o);

	/* Warm-up: one untimed pass over every sample. */
	for (int pass = 0; pass < 2; pass++) {
		const char *zone = NULL;
		for (size_t i = 0; i < ns; i++) {
			const struct entry *en = s[i].en;
			if (!zone || strcmp(zone, en->zone) != 0) {
				zone = en->zone;
				setenv("TZ", zone, 1);
				tzset();
			}
			int64_t next = 0;
			time_t tt = (time_t)(s[i].after_ms / 1000);
			struct tm tm;
			if (pass == 0) {
				cron_next(&en->e, en->z, s[i].after_ms, &next);
				localtime_r(&tt, &tm);
				sink += next + tm.tm_hour + tzif_offset_at(en->z, tt);
				continue;
			}
			int64_t t0 = now_ns();
			cron_next(&en->e, en->z, s[i].after_ms, &next);
			int64_t t1 = now_ns();
			localtime_r(&tt, &tm);
			int64_t t2 = now_ns();
			int32_t off = tzif_offset_at(en->z, tt);
			int64_t t3 = now_ns();
			sink += next + tm.tm_hour + off;
			d_cron[i] = t1 - t0 - overhead;
			d_lt[i] = t2 - t1 - overhead;
			d_tz[i] = t3 - t2 - overhead;
			cls_of[i] = en->cls_idx;
		}
	}

	/* Means without per-call timers: whole runs of one zone and class. */
	double sum_cron[MAX_CLASSES] = {0}, sum_lt[MAX_CLASSES] = {0}, sum_tz[MAX_CLASSES] = {0};
	long cnt[MAX_CLASSES] = {0};
	for (size_t i = 0; i < ns;) {
		size_t j = i;
		while (j < ns && s[j].en->cls_idx == s[i].en->cls_idx &&
		       strcmp(s[j].en->zone, s[i].en->zone) == 0)
			j++;
		setenv("TZ", s[i].en->zone, 1);
		tzset();
		int c = s[i].en->cls_idx;
		/* The fastest of 5 runs of each loop: a preemption by another
		 * process lands in one run, not in the figure. */
		int64_t best_c = INT64_MAX, best_l = INT64_MAX, best_t = INT64_MAX, acc = 0;
		for (int rep = 0; rep < 5; rep++) {
			int64_t t0 = now_ns();
			for (size_t k = i; k < j; k++) {
				int64_t next = 0;
				cron_next(&s[k].en->e, s[k].en->z, s[k].after_ms, &next);
				acc += next;
			}
			int64_t t1 = now_ns();
			for (size_t k = i; k < j; k++) {
				time_t tt = (time_t)(s[k].after_ms / 1000);
				struct tm tm;
				localtime_r(&tt, &tm);
				acc += tm.tm_hour;
			}
			int64_t t2 = now_ns();
			for (size_t k = i; k < j; k++)
				acc += tzif_offset_at(s[k].en->z, (time_t)(s[k].after_ms / 1000));
			int64_t t3 = now_ns();
			best_c = t1 - t0 < best_c ? t1 - t0 : best_c;
			best_l = t2 - t1 < best_l ? t2 - t1 : best_l;
			best_t = t3 - t2 < best_t ? t3 - t2 : best_t;
		}
		sink += acc;
		sum_cron[c] += (double)best_c;
		sum_lt[c] += (double)best_l;
		sum_tz[c] += (double)best_t;
		cnt[c] += (long)(j - i);
		i = j;
	}

	printf("{\"timer_overhead_ns\": %" PRId64 ", \"calls_per_class\": %ld, \"classes\": {",
	       overhead, per_class);
	int64_t *a = malloc(ns * sizeof(int64_t)), *b = malloc(ns * sizeof(int64_t)),
		*c3 = malloc(ns * sizeof(int64_t));
	double all_cron = 0, all_lt = 0, all_tz = 0;
	long all_n = 0;
	for (int c = 0; c <= ncls; c++) {
		/* c == ncls: every class together. */
		size_t k = 0;
		for (size_t i = 0; i < ns; i++)
			if (c == ncls || cls_of[i] == c) {
				a[k] = d_cron[i];
				b[k] = d_lt[i];
				c3[k] = d_tz[i];
				k++;
			}
		if (!k)
			continue;
		qsort(a, k, sizeof(int64_t), cmp_i64);
		qsort(b, k, sizeof(int64_t), cmp_i64);
		qsort(c3, k, sizeof(int64_t), cmp_i64);
		double mc, ml, mt;
		if (c < ncls) {
			mc = sum_cron[c] / (double)cnt[c];
			ml = sum_lt[c] / (double)cnt[c];
			mt = sum_tz[c] / (double)cnt[c];
			all_cron += sum_cron[c];
			all_lt += sum_lt[c];
			all_tz += sum_tz[c];
			all_n += cnt[c];
		} else {
			mc = all_cron / (double)all_n;
			ml = all_lt / (double)all_n;
			mt = all_tz / (double)all_n;
		}
		printf("%s\"%s\": {\"n\": %zu, \"cron_next\": {\"mean\": %.1f, \"p50\": %.0f, "
		       "\"p99\": %.0f, \"max\": %.0f}, \"localtime_r\": {\"mean\": %.1f, \"p50\": "
		       "%.0f, \"p99\": %.0f}, \"tzif_offset_at\": {\"mean\": %.1f, \"p50\": %.0f, "
		       "\"p99\": %.0f}}",
		       c ? ", " : "", c == ncls ? "all" : cls_names[c], k, mc, pct(a, k, 0.5),
		       pct(a, k, 0.99), (double)a[k - 1], ml, pct(b, k, 0.5), pct(b, k, 0.99), mt,
		       pct(c3, k, 0.5), pct(c3, k, 0.99));
	}
	printf("}}\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "next") != 0 && strcmp(argv[1], "time") != 0)) {
		fprintf(stderr, "usage: cron_bench next FROM_MS < lines\n"
				"       cron_bench time [CALLS_PER_CLASS] [SEED] < lines\n"
				"lines: class<TAB>zone<TAB>quartz expression\n");
		return 2;
	}
	struct tzdb *db = tzdb_open(NULL);
	static char cls_names[MAX_CLASSES][48];
	int ncls = 0;
	size_t n;
	struct entry *v = read_entries(db, &n, cls_names, &ncls);
	if (strcmp(argv[1], "next") == 0)
		return mode_next(v, n, argc > 2 ? strtoll(argv[2], NULL, 10) : 0);
	long per_class = argc > 2 ? atol(argv[2]) : 20000;
	if (argc > 3)
		rng_state = strtoull(argv[3], NULL, 10) | 1;
	return mode_time(v, n, cls_names, ncls, per_class);
}
