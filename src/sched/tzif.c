/* tzif.c - TZif reader and Java-compatible offset lookups (see tzif.h).
 *
 * Method: RFC 8536. From a version 2+ file only the 64-bit block and the
 * footer are used (the 32-bit block is skipped); a version 1 file has only
 * the 32-bit block. Every count and index is checked before use, since the
 * fuzzer feeds this parser arbitrary bytes. The table becomes two arrays
 * (transition instant, offset after it); the footer, a POSIX TZ string such
 * as "EST5EDT,M3.2.0,M11.1.0", answers for instants after the last
 * transition by computing the rule's two transitions per year on demand.
 *
 * Java's wall-time rule (OpenJDK ZoneInfo.getOffsets with WALL_TIME): each
 * transition is given a wall-clock key, its instant plus the offset AFTER
 * it, and a wall time w takes the offset of the last transition whose key
 * is <= w (found by the same binary search). For a spring-forward gap the
 * key is the end of the gap, so a wall time inside it still has the old
 * offset; for a fall-back overlap the key is the start of the repeated
 * hour, so a time inside it has the new offset: the later instant. Past
 * the table Java uses a SimpleTimeZone built from the last rules, whose
 * answer is the same for rules of two transitions a year.
 *
 * Invariant: a struct tzif is never changed after tzif_parse()/tzif_fixed()
 * returns it. Threads: tzif functions are pure; tzdb serializes its cache
 * with a mutex and hands out zones that outlive every lookup.
 */
#include "sched/tzif.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/tz.h"
#include "util/civil.h"
#include "util/fsio.h"

/* One date of a POSIX TZ rule: "Jn" (1..365, no Feb 29), "n" (0..365) or
 * "Mm.w.d" (weekday d of week w, 5 = last, of month m), and the local time
 * of day (seconds; may be negative or past 24 h, RFC 8536 section 3.3.1). */
struct rule_date {
	char kind; /* 'J', 'D' (plain n) or 'M' */
	int n, m, w, d;
	int32_t time;
};

struct posix_tz {
	int32_t std_off, dst_off; /* east of UTC */
	bool has_dst;
	struct rule_date start, end;
};

struct tzif {
	size_t n;	    /* transitions */
	int64_t *at;	    /* instant of transition i, ascending */
	int32_t *off;	    /* offset after transition i */
	int32_t off_before; /* before the first transition (local time type 0) */
	bool has_footer;
	struct posix_tz rule;
};

static int fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

/* --- POSIX TZ strings ---------------------------------------------------------- */

struct scan {
	const char *p, *e;
};

static bool sc_digit(const struct scan *s) { return s->p < s->e && *s->p >= '0' && *s->p <= '9'; }

static int sc_number(struct scan *s, int max, int *out)
{
	int v = 0;
	if (!sc_digit(s))
		return -1;
	while (sc_digit(s)) {
		v = v * 10 + (*s->p++ - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* A zone abbreviation: 3+ letters, or <...> with letters, digits, + and -. */
static int sc_name(struct scan *s)
{
	const char *b = s->p;
	if (s->p < s->e && *s->p == '<') {
		for (s->p++; s->p < s->e && *s->p != '>'; s->p++)
			;
		if (s->p == s->e || s->p - b < 4)
			return -1;
		s->p++;
		return 0;
	}
	while (s->p < s->e && ((*s->p >= 'A' && *s->p <= 'Z') || (*s->p >= 'a' && *s->p <= 'z')))
		s->p++;
	return s->p - b >= 3 ? 0 : -1;
}

/* [+-]hh[:mm[:ss]], hours up to max_h. Returns seconds. */
static int sc_hms(struct scan *s, int max_h, int32_t *out)
{
	int sign = 1, h, m = 0, sec = 0;
	if (s->p < s->e && (*s->p == '+' || *s->p == '-'))
		sign = *s->p++ == '-' ? -1 : 1;
	if (sc_number(s, max_h, &h) < 0)
		return -1;
	if (s->p < s->e && *s->p == ':') {
		s->p++;
		if (sc_number(s, 59, &m) < 0)
			return -1;
		if (s->p < s->e && *s->p == ':') {
			s->p++;
			if (sc_number(s, 59, &sec) < 0)
				return -1;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	return 0;
}

static int sc_rule_date(struct scan *s, struct rule_date *d)
{
	d->time = 2 * 3600;
	if (s->p < s->e && *s->p == 'M') {
		s->p++;
		d->kind = 'M';
		if (sc_number(s, 12, &d->m) < 0 || d->m < 1 || s->p == s->e || *s->p++ != '.' ||
		    sc_number(s, 5, &d->w) < 0 || d->w < 1 || s->p == s->e || *s->p++ != '.' ||
		    sc_number(s, 6, &d->d) < 0)
			return -1;
	} else if (s->p < s->e && *s->p == 'J') {
		s->p++;
		d->kind = 'J';
		if (sc_number(s, 365, &d->n) < 0 || d->n < 1)
			return -1;
	} else {
		d->kind = 'D';
		if (sc_number(s, 365, &d->n) < 0)
			return -1;
	}
	if (s->p < s->e && *s->p == '/') {
		s->p++;
		return sc_hms(s, 167, &d->time);
	}
	return 0;
}

/* "std offset [dst [offset] [,start[/time],end[/time]]]"; POSIX offsets
 * count west of UTC, ours east. A DST zone without rules gets the US rules
 * (what glibc's posixrules usually says); tzdata never writes one. */
static int parse_posix(const char *text, size_t len, struct posix_tz *tz)
{
	struct scan s = {text, text + len};
	int32_t off;

	memset(tz, 0, sizeof(*tz));
	if (sc_name(&s) < 0 || sc_hms(&s, 24, &off) < 0)
		return -1;
	tz->std_off = -off;
	if (s.p == s.e)
		return 0;
	if (sc_name(&s) < 0)
		return -1;
	tz->has_dst = true;
	tz->dst_off = tz->std_off + 3600;
	if (s.p < s.e && *s.p != ',') {
		if (sc_hms(&s, 24, &off) < 0)
			return -1;
		tz->dst_off = -off;
	}
	if (s.p == s.e) {
		tz->start = (struct rule_date){'M', 0, 3, 2, 0, 7200};
		tz->end = (struct rule_date){'M', 0, 11, 1, 0, 7200};
		return 0;
	}
	if (*s.p++ != ',' || sc_rule_date(&s, &tz->start) < 0 || s.p == s.e || *s.p++ != ',' ||
	    sc_rule_date(&s, &tz->end) < 0)
		return -1;
	return s.p == s.e ? 0 : -1;
}

/* Local midnight (as seconds since the epoch, local) of a rule date in y. */
static int64_t rule_day(const struct rule_date *d, int64_t y)
{
	int64_t jan1 = civil_days(y, 1, 1);
	switch (d->kind) {
	case 'J': return jan1 + d->n - 1 + (civil_leap(y) && d->n >= 60);
	case 'D': return jan1 + d->n;
	default: {
		int64_t first = civil_days(y, d->m, 1);
		int64_t day = first + (d->d - civil_weekday(first) + 7) % 7 + 7 * (d->w - 1);
		while (day >= first + civil_month_days(y, d->m))
			day -= 7;
		return day;
	}
	}
}

struct trans {
	int64_t at;
	int32_t off;
};

/* The rule's transitions in years y-1..y+1, by instant. */
static size_t rule_transitions(const struct posix_tz *tz, int64_t y, struct trans out[6])
{
	size_t n = 0;
	for (int64_t k = y - 1; k <= y + 1; k++) {
		out[n++] = (struct trans){rule_day(&tz->start, k) * 86400 + tz->start.time -
						  tz->std_off,
					  tz->dst_off};
		out[n++] = (struct trans){rule_day(&tz->end, k) * 86400 + tz->end.time -
						  tz->dst_off,
					  tz->std_off};
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && out[j - 1].at > out[j].at; j--) {
			struct trans t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

static int64_t year_of(int64_t t)
{
	int64_t y;
	int m, d;
	civil_date(civil_floor_div(t, 86400), &y, &m, &d);
	return y;
}

/* --- TZif ------------------------------------------------------------------------ */

struct reader {
	const unsigned char *p;
	size_t left;
};

static const unsigned char *take(struct reader *r, size_t n)
{
	if (n > r->left)
		return NULL;
	const unsigned char *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct header {
	char version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int read_header(struct reader *r, struct header *h)
{
	const unsigned char *p = take(r, 44);
	if (!p || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->version = (char)p[4];
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	/* RFC 8536 3.1: typecnt >= 1, charcnt >= 1, indicator counts 0 or typecnt. */
	if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0 || h->timecnt > 1000000 ||
	    h->leapcnt > 100000 || h->charcnt > 100000 ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return -1;
	return 0;
}

static size_t block_size(const struct header *h, size_t tsize)
{
	return h->timecnt * tsize + h->timecnt + h->typecnt * 6 + h->charcnt +
	       h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

static struct tzif *tzif_alloc(size_t n)
{
	struct tzif *z = calloc(1, sizeof(*z));
	if (!z)
		return NULL;
	if (n) {
		z->at = calloc(n, sizeof(*z->at));
		z->off = calloc(n, sizeof(*z->off));
		if (!z->at || !z->off) {
			tzif_free(z);
			return NULL;
		}
	}
	return z;
}

/* The data block of h at r (tsize 4 or 8 bytes per time) into a new zone. */
static int read_block(struct reader *r, const struct header *h, size_t tsize, struct tzif **out,
		      char *err, size_t errlen)
{
	const unsigned char *times = take(r, h->timecnt * tsize);
	const unsigned char *idx = take(r, h->timecnt);
	const unsigned char *types = take(r, h->typecnt * 6);
	if (!times || !idx || !types || !take(r, h->charcnt + h->leapcnt * (tsize + 4) +
						      h->isstdcnt + h->isutcnt))
		return fail(err, errlen, "TZif file is truncated");

	int32_t utoff[256];
	for (uint32_t i = 0; i < h->typecnt; i++) {
		utoff[i] = (int32_t)be32(types + 6 * i);
		/* RFC 8536: -2^31 is not allowed; real offsets are within a day. */
		if (utoff[i] < -25 * 3600 || utoff[i] > 26 * 3600 || types[6 * i + 4] > 1 ||
		    types[6 * i + 5] >= h->charcnt)
			return fail(err, errlen, "TZif file has an invalid local time type");
	}
	struct tzif *z = tzif_alloc(h->timecnt);
	if (!z)
		return fail(err, errlen, "out of memory");
	z->n = h->timecnt;
	z->off_before = utoff[0];
	for (uint32_t i = 0; i < h->timecnt; i++) {
		z->at[i] = tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
		if (idx[i] >= h->typecnt || (i > 0 && z->at[i] <= z->at[i - 1])) {
			tzif_free(z);
			return fail(err, errlen, "TZif file has invalid transitions");
		}
		z->off[i] = utoff[idx[i]];
	}
	*out = z;
	return 0;
}

int tzif_parse(const unsigned char *buf, size_t len, struct tzif **out, char *err, size_t errlen)
{
	struct reader r = {buf, len};
	struct header h;

	*out = NULL;
	if (read_header(&r, &h) < 0)
		return fail(err, errlen, "not a TZif file (bad header)");
	if (h.version == 0) {
		if (read_block(&r, &h, 4, out, err, errlen) < 0)
			return -1;
		return 0;
	}
	if (!take(&r, block_size(&h, 4)) || read_header(&r, &h) < 0)
		return fail(err, errlen, "TZif file is truncated or has a bad second header");
	struct tzif *z;
	if (read_block(&r, &h, 8, &z, err, errlen) < 0)
		return -1;
	/* Footer: "\n" TZ-string "\n"; an empty string means "no rule". */
	const unsigned char *nl = r.left ? memchr(r.p + 1, '\n', r.left - 1) : NULL;
	if (r.left < 2 || r.p[0] != '\n' || !nl) {
		tzif_free(z);
		return fail(err, errlen, "TZif file has no footer");
	}
	size_t flen = (size_t)(nl - (r.p + 1));
	if (flen > 0) {
		if (parse_posix((const char *)r.p + 1, flen, &z->rule) < 0) {
			tzif_free(z);
			return fail(err, errlen, "TZif file has an invalid TZ string footer");
		}
		z->has_footer = true;
	}
	*out = z;
	return 0;
}

int tzif_load_file(const char *path, struct tzif **out, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	char msg[128];

	*out = NULL;
	int rc = fsio_read_all(path, TZIF_MAX_FILE, &buf, &len);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "cannot read the zone file: %s", strerror(-rc));
		return fail(err, errlen, msg);
	}
	rc = tzif_parse((const unsigned char *)buf, len, out, err, errlen);
	free(buf);
	return rc;
}

int tzif_fixed(int32_t utc_offset, struct tzif **out)
{
	*out = tzif_alloc(0);
	if (!*out)
		return -1;
	(*out)->off_before = utc_offset;
	return 0;
}

void tzif_free(struct tzif *z)
{
	if (!z)
		return;
	free(z->at);
	free(z->off);
	free(z);
}

/* --- lookups -------------------------------------------------------------------- */

/* A transition's wall-clock key. Saturating: a malformed file may put a
 * transition at the ends of int64_t. */
static int64_t wall_key(int64_t at, int32_t off)
{
	int64_t k;
	return __builtin_add_overflow(at, off, &k) ? (at < 0 ? INT64_MIN : INT64_MAX) : k;
}

/* Instants past +-2^50 s (35 million years) are answered as at that bound:
 * no date arithmetic on them can overflow. */
static int64_t bounded(int64_t t)
{
	const int64_t lim = (int64_t)1 << 50;
	return t < -lim ? -lim : t > lim ? lim : t;
}

static int32_t rule_offset_at(const struct tzif *z, int64_t t)
{
	if (!z->rule.has_dst)
		return z->rule.std_off;
	struct trans tr[6];
	size_t n = rule_transitions(&z->rule, year_of(t + z->rule.std_off), tr);
	int32_t off = tr[0].off == z->rule.dst_off ? z->rule.std_off : z->rule.dst_off;
	for (size_t i = 0; i < n && tr[i].at <= t; i++)
		off = tr[i].off;
	return off;
}

int32_t tzif_offset_at(const struct tzif *z, int64_t t)
{
	t = bounded(t);
	if (z->n == 0 || t < z->at[0])
		return z->n == 0 && z->has_footer ? rule_offset_at(z, t) : z->off_before;
	if (t >= z->at[z->n - 1])
		return z->has_footer ? rule_offset_at(z, t) : z->off[z->n - 1];
	size_t lo = 0, hi = z->n - 1; /* at[lo] <= t < at[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->off[lo];
}

/* Past the table: the last table transition, then the rule's own. */
static int32_t rule_offset_for_wall(const struct tzif *z, int64_t w)
{
	int32_t off = z->n ? z->off[z->n - 1] : z->rule.std_off;
	int64_t after = z->n ? z->at[z->n - 1] : INT64_MIN;
	if (!z->rule.has_dst)
		return z->rule.std_off;
	struct trans tr[6];
	size_t n = rule_transitions(&z->rule, year_of(w), tr);
	if (!z->n) {
		/* No table: start from the state before the first of the six. */
		off = tr[0].off == z->rule.dst_off ? z->rule.std_off : z->rule.dst_off;
	}
	for (size_t i = 0; i < n; i++)
		if (tr[i].at > after && wall_key(tr[i].at, tr[i].off) <= w)
			off = tr[i].off;
	return off;
}

int32_t tzif_offset_for_wall(const struct tzif *z, int64_t w)
{
	w = bounded(w);
	if (z->n == 0)
		return z->has_footer ? rule_offset_for_wall(z, w) : z->off_before;
	/* OpenJDK ZoneInfo.getTransitionIndex(date, WALL_TIME), including
	 * its answer for keys that are out of order. */
	int64_t low = 0, high = (int64_t)z->n - 1;
	while (low <= high) {
		int64_t mid = (low + high) / 2;
		int64_t key = wall_key(z->at[mid], z->off[mid]);
		if (key < w)
			low = mid + 1;
		else if (key > w)
			high = mid - 1;
		else
			return z->off[mid];
	}
	if (low >= (int64_t)z->n)
		return z->has_footer ? rule_offset_for_wall(z, w) : z->off[z->n - 1];
	return low == 0 ? z->off_before : z->off[low - 1];
}

/* --- the cache ------------------------------------------------------------------ */

#define TZDB_BUCKETS 256

struct tzdb_entry {
	struct tzdb_entry *next;
	struct tzif *zone;
	char id[]; /* as asked for: lookups skip tz_id_check when cached */
};

struct tzdb {
	pthread_mutex_t lock;
	char *dir; /* NULL: the system's */
	struct tzdb_entry *bucket[TZDB_BUCKETS];
};

struct tzdb *tzdb_open(const char *zoneinfo_dir)
{
	struct tzdb *db = calloc(1, sizeof(*db));
	if (!db)
		return NULL;
	if (zoneinfo_dir && !(db->dir = strdup(zoneinfo_dir))) {
		free(db);
		return NULL;
	}
	pthread_mutex_init(&db->lock, NULL);
	return db;
}

void tzdb_close(struct tzdb *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < TZDB_BUCKETS; i++)
		for (struct tzdb_entry *e = db->bucket[i], *next; e; e = next) {
			next = e->next;
			tzif_free(e->zone);
			free(e);
		}
	pthread_mutex_destroy(&db->lock);
	free(db->dir);
	free(db);
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % TZDB_BUCKETS;
}

/* Loads the zone of id (not cached). */
static struct tzif *load(const struct tzdb *db, const char *id, char *err, size_t errlen)
{
	char canonical[TZ_CANONICAL_MAX], path[TZ_CANONICAL_MAX + 4096];
	struct tzif *z = NULL;
	int32_t off;

	if (tz_id_check(id, db->dir, canonical, sizeof(canonical)) < 0) {
		fail(err, errlen, "unknown time zone id");
		return NULL;
	}
	if (tz_fixed_offset(canonical, &off) == 0) {
		if (tzif_fixed(off, &z) < 0)
			fail(err, errlen, "out of memory");
		return z;
	}
	snprintf(path, sizeof(path), "%s/%s", db->dir ? db->dir : TZ_ZONEINFO_DIR, canonical);
	tzif_load_file(path, &z, err, errlen);
	return z;
}

const struct tzif *tzdb_get(struct tzdb *db, const char *id, char *err, size_t errlen)
{
	if (!id || strnlen(id, TZ_ID_MAX + 1) > TZ_ID_MAX) {
		fail(err, errlen, "unknown time zone id");
		return NULL;
	}
	unsigned h = hash(id);
	const struct tzif *found = NULL;

	pthread_mutex_lock(&db->lock);
	for (struct tzdb_entry *e = db->bucket[h]; e && !found; e = e->next)
		if (strcmp(e->id, id) == 0)
			found = e->zone;
	if (!found) {
		/* Loading under the lock: a zone is loaded once, and a few
		 * hundred microseconds per zone per process is nothing. */
		struct tzif *z = load(db, id, err, errlen);
		struct tzdb_entry *e = z ? malloc(sizeof(*e) + strlen(id) + 1) : NULL;
		if (e) {
			memcpy(e->id, id, strlen(id) + 1);
			e->zone = z;
			e->next = db->bucket[h];
			db->bucket[h] = e;
			found = z;
		} else if (z) {
			tzif_free(z);
			fail(err, errlen, "out of memory");
		}
	}
	pthread_mutex_unlock(&db->lock);
	return found;
}
