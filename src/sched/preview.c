/* preview.c - `jobsd cron next` (see preview.h).
 *
 * The same checks and messages as jobs/create (model/schedule.h), the same
 * zone reader and the same search as the scheduler, so what a user previews
 * is what will fire.
 */
#include "sched/preview.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model/schedule.h"
#include "sched/cron_next.h"
#include "sched/tzif.h"
#include "util/civil.h"
#include "util/clock.h"

#define PREVIEW_MAX 10000

void cron_format_instant(const struct tzif *z, int64_t ms, char *buf, size_t n)
{
	int32_t off = tzif_offset_at(z, civil_floor_div(ms, 1000));
	struct civil c;
	int32_t a = off < 0 ? -off : off;

	civil_from_ms(ms + (int64_t)off * 1000, &c);
	int k = snprintf(buf, n, "%04lld-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour,
			 c.minute, c.second);
	if (c.ms && k > 0 && (size_t)k < n)
		k += snprintf(buf + k, n - (size_t)k, ".%03d", c.ms);
	if (k > 0 && (size_t)k < n)
		k += snprintf(buf + k, n - (size_t)k, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600,
			      a / 60 % 60);
	if (a % 60 && k > 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, ":%02d", a % 60);
}

/* Exactly `digits` decimal digits at *p. */
static int fixed_digits(const char **p, int digits, int *out)
{
	int v = 0;
	for (int i = 0; i < digits; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

int cron_parse_instant(const char *s, const struct tzif *z, int64_t *ms)
{
	const char *p = s;
	int y, mo, d, h, mi, sec = 0, frac = 0;

	if (*s >= '0' && *s <= '9' && strspn(s, "0123456789") == strlen(s) && strlen(s) <= 15) {
		*ms = strtoll(s, NULL, 10);
		return 0;
	}
	if (fixed_digits(&p, 4, &y) < 0 || *p++ != '-' || fixed_digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || fixed_digits(&p, 2, &d) < 0 || (*p != 'T' && *p != ' ') ||
	    (p++, fixed_digits(&p, 2, &h)) < 0 || *p++ != ':' || fixed_digits(&p, 2, &mi) < 0)
		return -1;
	if (*p == ':' && (p++, fixed_digits(&p, 2, &sec)) < 0)
		return -1;
	if (*p == '.' || *p == ',') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > civil_month_days(y, mo) || h > 23 || mi > 59 ||
	    sec > 59)
		return -1;
	int64_t local = civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	int64_t off;
	if (*p == 'Z' || *p == 'z') {
		off = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if (fixed_digits(&p, 2, &oh) < 0)
			return -1;
		bool colon = *p == ':';
		if (colon)
			p++;
		if ((*p || colon) && fixed_digits(&p, 2, &om) < 0)
			return -1; /* "+05:" and "+05:3" are refused, "+05" is +05:00 */
		if (oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	} else {
		off = tzif_offset_for_wall(z, local);
	}
	if (*p)
		return -1;
	*ms = (local - off) * 1000 + frac;
	return 0;
}

static int usage(FILE *errout)
{
	fprintf(errout, "usage: jobsd cron next EXPR --tz ZONE [--from ISO8601] [-n N]\n");
	return 2;
}

int cron_command(int argc, char **argv, FILE *out, FILE *errout)
{
	const char *expr = NULL, *zone = NULL, *from = NULL;
	long count = 10;

	if (argc < 1 || strcmp(argv[0], "next") != 0)
		return usage(errout);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "--tz") == 0 || strcmp(a, "--from") == 0 || strcmp(a, "-n") == 0) &&
		    i + 1 < argc) {
			const char *v = argv[++i];
			if (a[1] == 'n') {
				char *end;
				count = strtol(v, &end, 10);
				if (*end || count < 1 || count > PREVIEW_MAX) {
					fprintf(errout, "-n: expected a count from 1 to %d\n",
						PREVIEW_MAX);
					return 2;
				}
			} else if (a[2] == 't') {
				zone = v;
			} else {
				from = v;
			}
		} else if (!expr && (a[0] != '-' || a[1] == '\0')) {
			expr = a;
		} else {
			return usage(errout);
		}
	}
	if (!expr || !zone)
		return usage(errout);

	struct model_error err;
	struct cron_expr e;
	if (schedule_check_cron(expr, &e, &err) < 0 ||
	    schedule_check_timezone(zone, "--tz", &err) < 0) {
		fprintf(errout, "%s\n", err.message);
		return 2;
	}
	struct tzdb *db = tzdb_open(NULL);
	char why[160];
	const struct tzif *z = db ? tzdb_get(db, zone, why, sizeof(why)) : NULL;
	if (!z) {
		fprintf(errout, "time zone %s: %s\n", zone, db ? why : "out of memory");
		tzdb_close(db);
		return 2;
	}
	int64_t t = clock_now_ms(&clock_system);
	if (from && cron_parse_instant(from, z, &t) < 0) {
		fprintf(errout,
			"--from '%s': expected ISO 8601 (2026-03-08T01:30:00Z, "
			"2026-03-08T01:30:00-05:00, a local time in the zone) or epoch milliseconds\n",
			from);
		tzdb_close(db);
		return 2;
	}
	for (long i = 0; i < count && cron_next(&e, z, t, &t) == 0; i++) {
		char iso[48];
		cron_format_instant(z, t, iso, sizeof(iso));
		fprintf(out, "%s %lld\n", iso, (long long)t);
	}
	tzdb_close(db);
	return 0;
}
