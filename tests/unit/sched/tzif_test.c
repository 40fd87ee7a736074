/* tzif_test.c - unit tests for src/sched/tzif.c (the TZif reader, the
 * Java-compatible offset lookups and the tzdb cache).
 *
 * Three sources of zones:
 *   - the system's /usr/share/zoneinfo (Debian tzdata 2025b: "fat" files,
 *     whose tables run to 2037; later instants come from the POSIX TZ
 *     footer). Those tests skip when tzdata is not installed. Expected
 *     offsets, both at instants and for wall times, are what OpenJDK 17's
 *     TimeZone.getOffset() and GregorianCalendar (set fields, then
 *     getTimeInMillis) answer for the same zone, computed once and written
 *     here;
 *   - TZif images built byte by byte in the test (struct image), valid ones
 *     and every kind of malformed one, which must be refused with a message
 *     and never read out of bounds (ASan build);
 *   - footer-only images, whose POSIX TZ strings exercise each rule form;
 *     expected transitions are glibc's answers for TZ=<the same string>.
 *
 * Times are seconds since the epoch, offsets seconds east of UTC. A "wall
 * time" is local seconds since 1970-01-01T00:00 local (tzif.h).
 * Single-threaded except test_tzdb_threads; the one bug test forks.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sched/tzif.h"
#include "testutil.h"

#define SYSTEM_DIR "/usr/share/zoneinfo"

/* --- calendar helpers (written out here, not taken from the code under test) ---- */

/* Days from 1970-01-01 to y-m-d (H. Hinnant's days_from_civil). */
static int64_t days_of(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* An instant given in UTC, or a wall time: the same arithmetic. */
static int64_t at(int64_t y, int mo, int d, int h, int mi, int s)
{
	return days_of(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

#define wall at

#define H(h)	 ((h)*3600)
#define HM(h, m) ((h)*3600 + ((h) < 0 ? -(m) : (m)) * 60)

static int have_system_tzdata(void) { return access(SYSTEM_DIR "/America/New_York", R_OK) == 0; }

static struct tzif *load_system(const char *name)
{
	char path[512], err[256] = "";
	struct tzif *z = NULL;

	snprintf(path, sizeof(path), "%s/%s", SYSTEM_DIR, name);
	if (tzif_load_file(path, &z, err, sizeof(err)) != 0)
		fail_msg("%s: %s", path, err);
	assert_non_null(z);
	return z;
}

/* The offset changes from `before` to `after` exactly at instant t. */
static void expect_change(const struct tzif *z, int64_t t, int32_t before, int32_t after)
{
	int32_t b = tzif_offset_at(z, t - 1), a = tzif_offset_at(z, t);
	if (b != before || a != after)
		fail_msg("at %lld: offsets %d -> %d, want %d -> %d", (long long)t, b, a, before,
			 after);
}

static void expect_wall(const struct tzif *z, int64_t w, int32_t want)
{
	int32_t got = tzif_offset_for_wall(z, w);
	if (got != want)
		fail_msg("wall %lld: offset %d, want %d", (long long)w, got, want);
}

/* --- building TZif images ------------------------------------------------------------ */

struct image {
	unsigned char b[8192];
	size_t n;
};

struct ttype {
	int32_t off;
	uint8_t isdst, abbr;
};

/* One data block and the header counts that describe it. The counts are
 * written as given, so a test can make them disagree with the arrays. */
struct block {
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
	const int64_t *at;
	const uint8_t *idx;
	const struct ttype *types;
	const char *chars; /* charcnt bytes */
};

static void put8(struct image *m, unsigned v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = (unsigned char)v;
}

static void put32(struct image *m, uint32_t v)
{
	for (int s = 24; s >= 0; s -= 8)
		put8(m, (v >> s) & 0xff);
}

static void put64(struct image *m, uint64_t v)
{
	put32(m, (uint32_t)(v >> 32));
	put32(m, (uint32_t)v);
}

static void put_bytes(struct image *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put_header(struct image *m, char version, const struct block *k)
{
	put_bytes(m, "TZif", 4);
	put8(m, (unsigned char)version);
	for (int i = 0; i < 15; i++)
		put8(m, 0);
	put32(m, k->isutcnt);
	put32(m, k->isstdcnt);
	put32(m, k->leapcnt);
	put32(m, k->timecnt);
	put32(m, k->typecnt);
	put32(m, k->charcnt);
}

/* The data of k, times in tsize (4 or 8) bytes. Arrays hold what the counts
 * say, except that missing arrays are written as zeros. */
static void put_data(struct image *m, const struct block *k, int tsize)
{
	for (uint32_t i = 0; i < k->timecnt; i++) {
		int64_t t = k->at ? k->at[i] : 0;
		if (tsize == 8)
			put64(m, (uint64_t)t);
		else
			put32(m, (uint32_t)(int32_t)t);
	}
	for (uint32_t i = 0; i < k->timecnt; i++)
		put8(m, k->idx ? k->idx[i] : 0);
	for (uint32_t i = 0; i < k->typecnt; i++) {
		struct ttype t = k->types ? k->types[i] : (struct ttype){0, 0, 0};
		put32(m, (uint32_t)t.off);
		put8(m, t.isdst);
		put8(m, t.abbr);
	}
	for (uint32_t i = 0; i < k->charcnt; i++)
		put8(m, k->chars ? (unsigned char)k->chars[i] : 0);
	for (uint32_t i = 0; i < k->leapcnt; i++) {
		if (tsize == 8)
			put64(m, (uint64_t)(78796800 + (int64_t)i * 31536000));
		else
			put32(m, (uint32_t)(78796800 + i * 31536000u));
		put32(m, i + 1);
	}
	for (uint32_t i = 0; i < k->isstdcnt; i++)
		put8(m, 0);
	for (uint32_t i = 0; i < k->isutcnt; i++)
		put8(m, 0);
}

/* A version-1 file: header and 32-bit block, no footer. */
static void build_v1(struct image *m, const struct block *k)
{
	m->n = 0;
	put_header(m, 0, k);
	put_data(m, k, 4);
}

/* A version 2+ file: v1 header and block (k1), v2 header and 64-bit block
 * (k2), then the footer "\n" footer "\n" (footer NULL: no footer bytes). */
static void build_v2(struct image *m, char version, const struct block *k1, const struct block *k2,
		     const char *footer)
{
	m->n = 0;
	put_header(m, version, k1);
	put_data(m, k1, 4);
	put_header(m, version, k2);
	put_data(m, k2, 8);
	if (footer) {
		put8(m, '\n');
		put_bytes(m, footer, strlen(footer));
		put8(m, '\n');
	}
}

/* Parses bytes [0, n) of m from an exact-size heap copy, so that ASan sees
 * any read past the end. */
static int parse_n(const struct image *m, size_t n, struct tzif **z, char *err, size_t errlen)
{
	unsigned char *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, m->b, n);
	int rc = tzif_parse(copy, n, z, err, errlen);
	free(copy);
	return rc;
}

static struct tzif *parse_ok(const struct image *m)
{
	struct tzif *z = (struct tzif *)1;
	char err[256] = "";
	if (parse_n(m, m->n, &z, err, sizeof(err)) != 0)
		fail_msg("image refused: %s", err);
	assert_non_null(z);
	return z;
}

/* Refused with a message containing want (NULL: any message). */
static void parse_bad_n(const struct image *m, size_t n, const char *want)
{
	struct tzif *z = (struct tzif *)1;
	char err[256] = "";
	if (parse_n(m, n, &z, err, sizeof(err)) == 0) {
		tzif_free(z);
		fail_msg("image of %zu bytes accepted, want \"%s\"", n, want ? want : "an error");
	}
	assert_null(z);
	assert_true(err[0] != '\0');
	if (want && !strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void parse_bad(const struct image *m, const char *want) { parse_bad_n(m, m->n, want); }

/* A small zone: LMT until 1910, then EST, and one EDT period in 2010; its
 * footer (when it has one) carries on with the rule that 2010 followed.
 *   type 0: LMT -17762, type 1: EST -18000, type 2: EDT -14400
 * 1910 fits in a version 1 file's 32-bit times. */
static const struct ttype SMALL_TYPES[] = {{-17762, 0, 0}, {-18000, 0, 4}, {-14400, 1, 8}};
static const char SMALL_CHARS[] = "LMT\0EST\0EDT"; /* 12 bytes with the last NUL */
#define T_1910	   (-1893456000LL)		   /* 1910-01-01T00:00:00Z */
#define T_2010_MAR (1268550000LL)		   /* 2010-03-14T07:00:00Z */
#define T_2010_NOV (1289109600LL)		   /* 2010-11-07T06:00:00Z */
static const int64_t SMALL_AT[] = {T_1910, T_2010_MAR, T_2010_NOV};
static const uint8_t SMALL_IDX[] = {1, 2, 1};

static struct block small_block(void)
{
	return (struct block){.timecnt = 3,
			      .typecnt = 3,
			      .charcnt = 12,
			      .at = SMALL_AT,
			      .idx = SMALL_IDX,
			      .types = SMALL_TYPES,
			      .chars = SMALL_CHARS};
}

/* The v1 block of a v2 file that only has to be skippable. */
static struct block empty_block(void)
{
	static const struct ttype utc[] = {{0, 0, 0}};
	return (struct block){.typecnt = 1, .charcnt = 4, .types = utc, .chars = "UTC"};
}

/* A v2 image of the small zone with a footer. */
static void small_v2(struct image *m, const char *footer)
{
	struct block k1 = empty_block(), k2 = small_block();
	build_v2(m, '2', &k1, &k2, footer);
}

/* A v2 image with no transitions, one type (off), and a footer. */
static struct tzif *footer_zone(int32_t off, const char *footer)
{
	struct ttype t[] = {{off, 0, 0}};
	struct block k = {.typecnt = 1, .charcnt = 4, .types = t, .chars = "XXX"};
	struct image m;
	build_v2(&m, '2', &k, &k, footer);
	return parse_ok(&m);
}

/* --- the system's zones: instants ------------------------------------------------------- */

static void test_new_york(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzif *z = load_system("America/New_York");
	/* 2026-03-08 02:00 EST -> 03:00 EDT, 2026-11-01 02:00 EDT -> 01:00 EST. */
	expect_change(z, at(2026, 3, 8, 7, 0, 0), -H(5), -H(4));
	expect_change(z, at(2026, 11, 1, 6, 0, 0), -H(4), -H(5));
	assert_int_equal(tzif_offset_at(z, at(2026, 1, 15, 12, 0, 0)), -H(5));
	assert_int_equal(tzif_offset_at(z, at(2026, 7, 15, 12, 0, 0)), -H(4));
	/* Local mean time before 1883-11-18 17:00 UTC: -4:56:02. */
	assert_int_equal(tzif_offset_at(z, at(1800, 1, 1, 0, 0, 0)), -(4 * 3600 + 56 * 60 + 2));
	expect_change(z, at(1883, 11, 18, 17, 0, 0), -(4 * 3600 + 56 * 60 + 2), -H(5));
	tzif_free(z);
}

/* Past the table (2037): the footer EST5EDT,M3.2.0,M11.1.0 answers. */
static void test_new_york_footer(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzif *z = load_system("America/New_York");
	expect_change(z, at(2040, 3, 11, 7, 0, 0), -H(5), -H(4));
	expect_change(z, at(2040, 11, 4, 6, 0, 0), -H(4), -H(5));
	expect_change(z, at(2090, 3, 12, 7, 0, 0), -H(5), -H(4));
	expect_change(z, at(2090, 11, 5, 6, 0, 0), -H(4), -H(5));
	assert_int_equal(tzif_offset_at(z, at(2040, 7, 1, 0, 0, 0)), -H(4));
	assert_int_equal(tzif_offset_at(z, at(2090, 1, 1, 0, 0, 0)), -H(5));
	/* Around new year, where the rule's years meet. */
	assert_int_equal(tzif_offset_at(z, at(2089, 12, 31, 23, 59, 59)), -H(5));
	assert_int_equal(tzif_offset_at(z, at(2090, 1, 1, 4, 59, 59)), -H(5));
	/* Far away, still the rule. */
	assert_int_equal(tzif_offset_at(z, at(2999, 7, 1, 0, 0, 0)), -H(4));
	tzif_free(z);
}

static void test_london(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzif *z = load_system("Europe/London");
	expect_change(z, at(2026, 3, 29, 1, 0, 0), 0, H(1));
	expect_change(z, at(2026, 10, 25, 1, 0, 0), H(1), 0);
	/* Footer GMT0BST,M3.5.0/1,M10.5.0. */
	expect_change(z, at(2060, 3, 28, 1, 0, 0), 0, H(1));
	expect_change(z, at(2060, 10, 31, 1, 0, 0), H(1), 0);
	tzif_free(z);
}

/* +10:30 standard, +11:00 summer: a 30-minute change. */
static void test_lord_howe(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzif *z = load_system("Australia/Lord_Howe");
	expect_change(z, at(2026, 4, 4, 15, 0, 0), H(11), HM(10, 30));
	expect_change(z, at(2026, 10, 3, 15, 30, 0), HM(10, 30), H(11));
	/* Footer <+1030>-10:30<+11>-11,M10.1.0,M4.1.0. */
	expect_change(z, at(2050, 4, 2, 15, 0, 0), H(11), HM(10, 30));
	expect_change(z, at(2050, 10, 1, 15, 30, 0), HM(10, 30), H(11));
	tzif_free(z);
}

/* +12:45 / +13:45, changes at 02:45 and 03:45 local. */
static void test_chatham(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzif *z = load_system("Pacific/Chatham");
	expect_change(z, at(2026, 4, 4, 14, 0, 0), HM(13, 45), HM(12, 45));
	expect_change(z, at(2026, 9, 26, 14, 0, 0), HM(12, 45), HM(13, 45));
	/* Footer <+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45. */
	expect_change(z, at(2045, 4, 1, 14, 0, 0), HM(13, 45), HM(12, 45));
	expect_change(z, at(2045, 9, 23, 14, 0, 0), HM(12, 45), HM(13, 45));
	tzif_free(z);
}

/* Samoa skipped 2011-12-30: 2011-12-29 24:00 (-10) became 12-31 00:00 (+14). */
static void test_apia(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzif *z = load_system("Pacific/Apia");
	expect_change(z, at(2011, 12, 30, 10, 0, 0), -H(10), H(14));
	/* No daylight saving since 2021: footer <+13>-13. */
	assert_int_equal(tzif_offset_at(z, at(2026, 1, 1, 0, 0, 0)), H(13));
	assert_int_equal(tzif_offset_at(z, at(2070, 7, 1, 0, 0, 0)), H(13));
	tzif_free(z);
}

static void test_kolkata(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzif *z = load_system("Asia/Kolkata");
	assert_int_equal(tzif_offset_at(z, at(2026, 6, 1, 0, 0, 0)), HM(5, 30));
	assert_int_equal(tzif_offset_at(z, at(2090, 1, 1, 0, 0, 0)), HM(5, 30));
	/* War time, +6:30 (1942-09-01 to 1945-10-15). */
	assert_int_equal(tzif_offset_at(z, at(1943, 1, 1, 0, 0, 0)), HM(6, 30));
	tzif_free(z);
}

/* Brazil's 2018 change at local midnight (the day had no 00:00). */
static void test_sao_paulo(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzif *z = load_system("America/Sao_Paulo");
	expect_change(z, at(2018, 11, 4, 3, 0, 0), -H(3), -H(2));
	expect_change(z, at(2019, 2, 17, 2, 0, 0), -H(2), -H(3));
	/* No DST since 2019: footer <-03>3. */
	assert_int_equal(tzif_offset_at(z, at(2026, 1, 1, 0, 0, 0)), -H(3));
	tzif_free(z);
}

/* --- the system's zones: wall times (GregorianCalendar's choice) ---------------------- */

static void test_wall_new_york(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzif *z = load_system("America/New_York");
	/* The gap 02:00-03:00 on 2026-03-08: the offset before the change,
	 * so 02:30 is the instant 07:30Z (03:30 EDT). */
	expect_wall(z, wall(2026, 3, 8, 1, 59, 59), -H(5));
	expect_wall(z, wall(2026, 3, 8, 2, 0, 0), -H(5));
	expect_wall(z, wall(2026, 3, 8, 2, 30, 0), -H(5));
	expect_wall(z, wall(2026, 3, 8, 3, 0, 0), -H(4));
	assert_int_equal(wall(2026, 3, 8, 2, 30, 0) -
				 tzif_offset_for_wall(z, wall(2026, 3, 8, 2, 30, 0)),
			 at(2026, 3, 8, 7, 30, 0));
	/* The repeated 01:00-02:00 on 2026-11-01: the offset after, the later
	 * instant. */
	expect_wall(z, wall(2026, 11, 1, 0, 59, 59), -H(4));
	expect_wall(z, wall(2026, 11, 1, 1, 0, 0), -H(5));
	expect_wall(z, wall(2026, 11, 1, 1, 30, 0), -H(5));
	expect_wall(z, wall(2026, 11, 1, 1, 59, 59), -H(5));
	expect_wall(z, wall(2026, 11, 1, 2, 0, 0), -H(5));
	assert_int_equal(wall(2026, 11, 1, 1, 30, 0) -
				 tzif_offset_for_wall(z, wall(2026, 11, 1, 1, 30, 0)),
			 at(2026, 11, 1, 6, 30, 0));
	/* Past the table: the footer, with the same rule. */
	expect_wall(z, wall(2040, 3, 11, 2, 30, 0), -H(5));
	expect_wall(z, wall(2040, 3, 11, 3, 0, 0), -H(4));
	expect_wall(z, wall(2040, 11, 4, 0, 59, 59), -H(4));
	expect_wall(z, wall(2040, 11, 4, 1, 30, 0), -H(5));
	expect_wall(z, wall(2090, 3, 12, 2, 30, 0), -H(5));
	expect_wall(z, wall(2090, 11, 5, 1, 30, 0), -H(5));
	expect_wall(z, wall(2090, 7, 1, 12, 0, 0), -H(4));
	tzif_free(z);
}

static void test_wall_half_hours(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzif *z = load_system("Australia/Lord_Howe");
	/* 2026-04-05 02:00 +11 -> 01:30 +10:30: 01:30-02:00 twice. */
	expect_wall(z, wall(2026, 4, 5, 1, 29, 59), H(11));
	expect_wall(z, wall(2026, 4, 5, 1, 45, 0), HM(10, 30));
	/* 2026-10-04 02:00 +10:30 -> 02:30 +11: 02:00-02:30 missing. */
	expect_wall(z, wall(2026, 10, 4, 2, 15, 0), HM(10, 30));
	expect_wall(z, wall(2026, 10, 4, 2, 30, 0), H(11));
	expect_wall(z, wall(2050, 4, 3, 1, 45, 0), HM(10, 30));
	expect_wall(z, wall(2050, 10, 2, 2, 15, 0), HM(10, 30));
	tzif_free(z);

	z = load_system("Pacific/Chatham");
	expect_wall(z, wall(2026, 9, 27, 3, 0, 0), HM(12, 45)); /* gap 02:45-03:45 */
	expect_wall(z, wall(2026, 4, 5, 3, 0, 0), HM(12, 45));	/* overlap 02:45-03:45 */
	expect_wall(z, wall(2026, 4, 5, 2, 44, 59), HM(13, 45));
	tzif_free(z);
}

static void test_wall_skipped_day(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzif *z = load_system("Pacific/Apia");
	/* 2011-12-30 does not exist: its noon is read with the old offset,
	 * which lands on 12-31 12:00 +14. */
	expect_wall(z, wall(2011, 12, 29, 23, 59, 59), -H(10));
	expect_wall(z, wall(2011, 12, 30, 12, 0, 0), -H(10));
	expect_wall(z, wall(2011, 12, 31, 0, 0, 0), H(14));
	assert_int_equal(wall(2011, 12, 30, 12, 0, 0) -
				 tzif_offset_for_wall(z, wall(2011, 12, 30, 12, 0, 0)),
			 at(2011, 12, 30, 22, 0, 0));
	tzif_free(z);

	z = load_system("America/Sao_Paulo");
	expect_wall(z, wall(2018, 11, 4, 0, 30, 0), -H(3));  /* midnight gap */
	expect_wall(z, wall(2019, 2, 16, 23, 30, 0), -H(3)); /* repeated 23:00-24:00 */
	tzif_free(z);

	z = load_system("Europe/London");
	expect_wall(z, wall(2026, 3, 29, 1, 30, 0), 0);
	expect_wall(z, wall(2026, 10, 25, 1, 30, 0), 0);
	tzif_free(z);
}

/* Southern hemisphere past the table (footer <-04>4<-03>,M9.1.6/24,
 * M4.1.6/24): summer spans new year, and the changes are at 24:00. Java's
 * answers for America/Santiago in 2040; the footer-only image must agree. */
static void check_santiago_2040(const struct tzif *z)
{
	expect_wall(z, wall(2040, 4, 7, 22, 59, 59), -H(3));
	expect_wall(z, wall(2040, 4, 7, 23, 30, 0), -H(4)); /* 23:00-24:00 twice */
	expect_wall(z, wall(2040, 4, 8, 0, 0, 0), -H(4));
	expect_wall(z, wall(2040, 9, 1, 23, 59, 59), -H(4));
	expect_wall(z, wall(2040, 9, 2, 0, 30, 0), -H(4)); /* 00:00-01:00 missing */
	expect_wall(z, wall(2040, 9, 2, 1, 0, 0), -H(3));
	expect_wall(z, wall(2040, 12, 31, 23, 59, 59), -H(3));
	expect_wall(z, wall(2041, 1, 1, 0, 0, 0), -H(3));
	expect_wall(z, wall(2040, 6, 30, 12, 0, 0), -H(4));
	expect_change(z, at(2040, 4, 8, 3, 0, 0), -H(3), -H(4));
	expect_change(z, at(2040, 9, 2, 4, 0, 0), -H(4), -H(3));
}

static void test_wall_southern_footer(void **state)
{
	(void)state;
	struct tzif *z = footer_zone(-H(4), "<-04>4<-03>,M9.1.6/24,M4.1.6/24");
	check_santiago_2040(z);
	tzif_free(z);
	if (!have_system_tzdata())
		skip();
	z = load_system("America/Santiago");
	check_santiago_2040(z);
	tzif_free(z);
}

/* --- fixed offsets ------------------------------------------------------------------- */

static void test_fixed(void **state)
{
	(void)state;
	struct tzif *z = NULL;
	assert_int_equal(tzif_fixed(HM(5, 30), &z), 0);
	assert_non_null(z);
	for (int64_t t = at(1800, 1, 1, 0, 0, 0); t < at(2200, 1, 1, 0, 0, 0); t += 86400 * 3653) {
		assert_int_equal(tzif_offset_at(z, t), HM(5, 30));
		assert_int_equal(tzif_offset_for_wall(z, t), HM(5, 30));
	}
	tzif_free(z);
	assert_int_equal(tzif_fixed(-H(8), &z), 0);
	assert_int_equal(tzif_offset_at(z, 0), -H(8));
	assert_int_equal(tzif_offset_for_wall(z, INT64_C(-9000000000)), -H(8));
	tzif_free(z);
	tzif_free(NULL);
}

/* --- hand-built images: valid ----------------------------------------------------------- */

static void test_image_v2(void **state)
{
	(void)state;
	struct image m;
	small_v2(&m, "EST5EDT,M3.2.0,M11.1.0");
	struct tzif *z = parse_ok(&m);
	/* Before the first transition: type 0. */
	assert_int_equal(tzif_offset_at(z, T_1910 - 1), -17762);
	expect_change(z, T_1910, -17762, -H(5));
	expect_change(z, T_2010_MAR, -H(5), -H(4));
	expect_change(z, T_2010_NOV, -H(4), -H(5));
	/* Past the table: the footer. */
	expect_change(z, at(2030, 3, 10, 7, 0, 0), -H(5), -H(4));
	expect_change(z, at(2030, 11, 3, 6, 0, 0), -H(4), -H(5));
	/* Wall times in the table and past it. */
	expect_wall(z, wall(1909, 12, 31, 0, 0, 0), -17762);
	expect_wall(z, wall(2010, 3, 14, 2, 30, 0), -H(5));
	expect_wall(z, wall(2010, 3, 14, 3, 0, 0), -H(4));
	expect_wall(z, wall(2010, 11, 7, 1, 30, 0), -H(5));
	expect_wall(z, wall(2010, 11, 7, 0, 59, 59), -H(4));
	expect_wall(z, wall(2030, 3, 10, 2, 30, 0), -H(5));
	expect_wall(z, wall(2030, 7, 1, 0, 0, 0), -H(4));
	expect_wall(z, wall(2030, 11, 3, 1, 30, 0), -H(5));
	tzif_free(z);

	/* Versions 3 and 4 read the same way. */
	for (char v = '3'; v <= '4'; v++) {
		struct block k1 = empty_block(), k2 = small_block();
		build_v2(&m, v, &k1, &k2, "EST5EDT,M3.2.0,M11.1.0");
		z = parse_ok(&m);
		expect_change(z, T_2010_MAR, -H(5), -H(4));
		expect_change(z, at(2030, 3, 10, 7, 0, 0), -H(5), -H(4));
		tzif_free(z);
	}
}

/* Only the 64-bit block counts: the 32-bit one here says UTC. */
static void test_image_v2_ignores_v1_block(void **state)
{
	(void)state;
	struct image m;
	small_v2(&m, "");
	struct tzif *z = parse_ok(&m);
	expect_change(z, T_2010_MAR, -H(5), -H(4));
	/* An empty footer: no rule, the last type holds for ever. */
	assert_int_equal(tzif_offset_at(z, at(2030, 7, 1, 0, 0, 0)), -H(5));
	expect_wall(z, wall(2030, 7, 1, 0, 0, 0), -H(5));
	tzif_free(z);
}

/* Version 1: 32-bit times (sign-extended), no footer: the last offset
 * holds after the table. */
static void test_image_v1(void **state)
{
	(void)state;
	struct image m;
	struct block k = small_block();
	build_v1(&m, &k);
	struct tzif *z = parse_ok(&m);
	assert_int_equal(tzif_offset_at(z, T_1910 - 1), -17762);
	expect_change(z, T_1910, -17762, -H(5));
	expect_change(z, T_2010_MAR, -H(5), -H(4));
	expect_change(z, T_2010_NOV, -H(4), -H(5));
	assert_int_equal(tzif_offset_at(z, at(2030, 7, 1, 0, 0, 0)), -H(5));
	expect_wall(z, wall(2010, 3, 14, 2, 30, 0), -H(5));
	expect_wall(z, wall(2030, 7, 1, 0, 0, 0), -H(5));
	tzif_free(z);
}

/* Leap second records and indicator arrays are skipped over correctly. */
static void test_image_leap_and_indicators(void **state)
{
	(void)state;
	struct image m;
	struct block k1 = small_block(), k2 = small_block();
	k1.leapcnt = k2.leapcnt = 2;
	k1.isstdcnt = k2.isstdcnt = 3;
	k1.isutcnt = k2.isutcnt = 3;
	build_v2(&m, '2', &k1, &k2, "EST5EDT,M3.2.0,M11.1.0");
	struct tzif *z = parse_ok(&m);
	expect_change(z, T_2010_NOV, -H(4), -H(5));
	expect_change(z, at(2030, 3, 10, 7, 0, 0), -H(5), -H(4));
	tzif_free(z);
	build_v1(&m, &k1);
	z = parse_ok(&m);
	expect_change(z, T_2010_NOV, -H(4), -H(5));
	tzif_free(z);
}

/* A zone with no transitions and only a footer (as zic writes for
 * fixed zones): the footer answers everywhere. */
static void test_image_footer_only(void **state)
{
	(void)state;
	struct tzif *z = footer_zone(-H(5), "EST5EDT,M3.2.0,M11.1.0");
	expect_change(z, at(2030, 3, 10, 7, 0, 0), -H(5), -H(4));
	expect_change(z, at(2030, 11, 3, 6, 0, 0), -H(4), -H(5));
	expect_change(z, at(1990, 3, 11, 7, 0, 0), -H(5), -H(4)); /* the rule, also backwards */
	expect_wall(z, wall(2030, 3, 10, 1, 59, 59), -H(5));
	expect_wall(z, wall(2030, 3, 10, 2, 30, 0), -H(5));
	expect_wall(z, wall(2030, 3, 10, 3, 0, 0), -H(4));
	expect_wall(z, wall(2030, 11, 3, 0, 59, 59), -H(4));
	expect_wall(z, wall(2030, 11, 3, 1, 30, 0), -H(5));
	expect_wall(z, wall(2030, 12, 31, 23, 59, 59), -H(5));
	expect_wall(z, wall(2031, 1, 1, 0, 0, 0), -H(5));
	tzif_free(z);
}

/* --- POSIX TZ footers: each form (expected: glibc with TZ=<string>) ---------------- */

static void test_posix_m_rules(void **state)
{
	(void)state;
	/* Mm.w.d, w = 5 meaning the last: London. */
	struct tzif *z = footer_zone(0, "GMT0BST,M3.5.0/1,M10.5.0");
	expect_change(z, at(2030, 3, 31, 1, 0, 0), 0, H(1));
	expect_change(z, at(2030, 10, 27, 1, 0, 0), H(1), 0);
	tzif_free(z);
	/* Southern hemisphere, the summer spans new year; /24 times. */
	z = footer_zone(-H(4), "<-04>4<-03>,M9.1.6/24,M4.1.6/24");
	expect_change(z, at(2030, 4, 7, 3, 0, 0), -H(3), -H(4));
	expect_change(z, at(2030, 9, 8, 4, 0, 0), -H(4), -H(3));
	assert_int_equal(tzif_offset_at(z, at(2030, 1, 1, 0, 0, 0)), -H(3));
	assert_int_equal(tzif_offset_at(z, at(2030, 12, 31, 23, 0, 0)), -H(3));
	assert_int_equal(tzif_offset_at(z, at(2030, 6, 30, 0, 0, 0)), -H(4));
	tzif_free(z);
}

static void test_posix_julian(void **state)
{
	(void)state;
	/* Jn counts 1..365 and never Feb 29: J60 is March 1 in every year. */
	struct tzif *z = footer_zone(-H(3), "XXX3YYY,J60/2,J300/2");
	expect_change(z, at(2028, 3, 1, 5, 0, 0), -H(3), -H(2));
	expect_change(z, at(2028, 10, 27, 4, 0, 0), -H(2), -H(3));
	expect_change(z, at(2027, 3, 1, 5, 0, 0), -H(3), -H(2));
	expect_change(z, at(2027, 10, 27, 4, 0, 0), -H(2), -H(3));
	tzif_free(z);
	/* n counts 0..365 and includes Feb 29: day 59 is Feb 29 in a leap year. */
	z = footer_zone(-H(3), "XXX3YYY,59/2,300/2");
	expect_change(z, at(2028, 2, 29, 5, 0, 0), -H(3), -H(2));
	expect_change(z, at(2028, 10, 27, 4, 0, 0), -H(2), -H(3));
	expect_change(z, at(2027, 3, 1, 5, 0, 0), -H(3), -H(2));
	expect_change(z, at(2027, 10, 28, 4, 0, 0), -H(2), -H(3));
	tzif_free(z);
}

static void test_posix_odd_times(void **state)
{
	(void)state;
	/* Negative times: Greenland, the change on Saturday 23:00 local. */
	struct tzif *z = footer_zone(-H(2), "<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
	expect_change(z, at(2030, 3, 31, 1, 0, 0), -H(2), -H(1));
	expect_change(z, at(2030, 10, 27, 1, 0, 0), -H(1), -H(2));
	tzif_free(z);
	/* Past 24 h: Israel, Thursday 26:00 = Friday 02:00. */
	z = footer_zone(H(2), "IST-2IDT,M3.4.4/26,M10.5.0");
	expect_change(z, at(2030, 3, 29, 0, 0, 0), H(2), H(3));
	expect_change(z, at(2030, 10, 26, 23, 0, 0), H(3), H(2));
	tzif_free(z);
	/* The extremes RFC 8536 allows: +-167 hours. */
	z = footer_zone(-H(3), "AAA3BBB,M3.5.0/167,M10.5.0/-167");
	expect_change(z, at(2030, 4, 7, 2, 0, 0), -H(3), -H(2));
	expect_change(z, at(2030, 10, 20, 3, 0, 0), -H(2), -H(3));
	tzif_free(z);
}

static void test_posix_no_dst(void **state)
{
	(void)state;
	static const struct {
		const char *tz;
		int32_t off;
	} cases[] = {
		{"<+03>-3", H(3)},	     {"<-03>3", -H(3)},	    {"IST-5:30", HM(5, 30)},
		{"<+0545>-5:45", HM(5, 45)}, {"XXX-1:02:03", 3723}, {"UTC0", 0},
		{"<+13>-13", H(13)},	     {"<-12>+12", -H(12)},  {"XXX-24", H(24)},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tzif *z = footer_zone(0, cases[i].tz);
		for (int64_t y = 1950; y <= 2100; y += 25) {
			int64_t t = at(y, 7, 1, 12, 0, 0);
			if (tzif_offset_at(z, t) != cases[i].off ||
			    tzif_offset_for_wall(z, t) != cases[i].off)
				fail_msg("'%s' in %lld: %d / %d, want %d", cases[i].tz,
					 (long long)y, tzif_offset_at(z, t),
					 tzif_offset_for_wall(z, t), cases[i].off);
		}
		tzif_free(z);
	}
}

/* A DST name with its own offset (not std + 1 h), and the default rule. */
static void test_posix_dst_offset(void **state)
{
	(void)state;
	/* Lord Howe: DST is +11, 30 minutes ahead. */
	struct tzif *z = footer_zone(HM(10, 30), "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
	expect_change(z, at(2030, 4, 6, 15, 0, 0), H(11), HM(10, 30));
	expect_change(z, at(2030, 10, 5, 15, 30, 0), HM(10, 30), H(11));
	tzif_free(z);
	/* Chatham: /2:45 and /3:45. */
	z = footer_zone(HM(12, 45), "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45");
	expect_change(z, at(2045, 4, 1, 14, 0, 0), HM(13, 45), HM(12, 45));
	expect_change(z, at(2045, 9, 23, 14, 0, 0), HM(12, 45), HM(13, 45));
	tzif_free(z);
}

/* --- hand-built images: malformed ------------------------------------------------------- */

static void test_bad_header(void **state)
{
	(void)state;
	struct image m;
	small_v2(&m, "EST5EDT,M3.2.0,M11.1.0");
	/* Too short for a header. */
	parse_bad_n(&m, 0, "not a TZif file");
	parse_bad_n(&m, 4, "not a TZif file");
	parse_bad_n(&m, 43, "not a TZif file");
	/* Bad magic. */
	struct image b = m;
	b.b[0] = 'X';
	parse_bad(&b, "not a TZif file");
	b = m;
	memcpy(b.b, "tzif", 4);
	parse_bad(&b, "not a TZif file");
	/* Not TZif at all. */
	struct image t = {.n = 0};
	put_bytes(&t, "# tzdata zone.tab, not a zone file, but long enough to read\n", 60);
	parse_bad(&t, "not a TZif file");
}

static void test_bad_counts(void **state)
{
	(void)state;
	struct image m;
	struct block k1 = empty_block(), k2 = small_block(), bad;

	/* typecnt 0 (first and second header). */
	bad = small_block();
	bad.typecnt = 0;
	bad.idx = NULL;
	build_v1(&m, &bad);
	parse_bad(&m, NULL);
	build_v2(&m, '2', &k1, &bad, "EST5EDT");
	parse_bad(&m, NULL);
	bad = empty_block();
	bad.typecnt = 0;
	build_v2(&m, '2', &bad, &k2, "EST5EDT");
	parse_bad(&m, NULL);
	/* charcnt 0. */
	bad = small_block();
	bad.charcnt = 0;
	build_v2(&m, '2', &k1, &bad, "EST5EDT");
	parse_bad(&m, NULL);
	/* More types than a byte index can reach. */
	bad = small_block();
	bad.typecnt = 257;
	bad.types = NULL;
	build_v2(&m, '2', &k1, &bad, "EST5EDT");
	parse_bad(&m, NULL);
	/* Indicator counts other than 0 or typecnt. */
	bad = small_block();
	bad.isstdcnt = 1;
	build_v2(&m, '2', &k1, &bad, "EST5EDT");
	parse_bad(&m, NULL);
	bad = small_block();
	bad.isutcnt = 2;
	build_v1(&m, &bad);
	parse_bad(&m, NULL);
	/* Counts far beyond the file, in the second header (after the first
	 * header and empty_block's data: one type, four characters). */
	build_v2(&m, '2', &k1, &k2, "EST5EDT");
	size_t second = 44 + 6 + 4;
	assert_memory_equal(m.b + second, "TZif", 4);
	static const size_t count_at[] = {20, 24, 28, 32, 36, 40}; /* isut .. char */
	static const uint32_t huge[] = {0xffffffffu, 0x7fffffffu, 1000001u, 200u};
	for (size_t c = 0; c < sizeof(count_at) / sizeof(count_at[0]); c++) {
		for (size_t v = 0; v < sizeof(huge) / sizeof(huge[0]); v++) {
			struct image b = m;
			b.n = second + count_at[c];
			put32(&b, huge[v]);
			b.n = m.n;
			parse_bad(&b, NULL);
		}
	}
	/* The same in the first header. */
	for (size_t c = 0; c < sizeof(count_at) / sizeof(count_at[0]); c++) {
		struct image b = m;
		b.n = count_at[c];
		put32(&b, 0x7fffffffu);
		b.n = m.n;
		parse_bad(&b, NULL);
	}
}

static void test_bad_types(void **state)
{
	(void)state;
	struct image m;
	struct block k1 = empty_block(), k2 = small_block();
	struct ttype t[3];

	/* A transition naming a type that does not exist. */
	static const uint8_t idx_out[] = {1, 3, 1};
	k2.idx = idx_out;
	build_v2(&m, '2', &k1, &k2, "EST5EDT,M3.2.0,M11.1.0");
	parse_bad(&m, "invalid transitions");
	static const uint8_t idx_ff[] = {1, 2, 255};
	k2.idx = idx_ff;
	build_v1(&m, &k2);
	parse_bad(&m, "invalid transitions");

	/* Offsets RFC 8536 forbids (-2^31) or beyond any real zone. */
	int32_t bad_off[] = {INT32_MIN, -26 * 3600, 27 * 3600, INT32_MAX};
	for (size_t i = 0; i < sizeof(bad_off) / sizeof(bad_off[0]); i++) {
		memcpy(t, SMALL_TYPES, sizeof(t));
		t[2].off = bad_off[i];
		k2 = small_block();
		k2.types = t;
		build_v2(&m, '2', &k1, &k2, "EST5EDT,M3.2.0,M11.1.0");
		parse_bad(&m, "invalid local time type");
	}
	/* isdst must be 0 or 1. */
	memcpy(t, SMALL_TYPES, sizeof(t));
	t[1].isdst = 2;
	k2 = small_block();
	k2.types = t;
	build_v2(&m, '2', &k1, &k2, "EST5EDT,M3.2.0,M11.1.0");
	parse_bad(&m, "invalid local time type");
	/* The abbreviation index must fall inside the characters. */
	memcpy(t, SMALL_TYPES, sizeof(t));
	t[2].abbr = 12;
	k2.types = t;
	build_v2(&m, '2', &k1, &k2, "EST5EDT,M3.2.0,M11.1.0");
	parse_bad(&m, "invalid local time type");
}

static void test_bad_transitions(void **state)
{
	(void)state;
	struct image m;
	struct block k1 = empty_block(), k2 = small_block();

	static const int64_t equal[] = {T_1910, T_2010_MAR, T_2010_MAR};
	k2.at = equal;
	build_v2(&m, '2', &k1, &k2, "EST5EDT,M3.2.0,M11.1.0");
	parse_bad(&m, "invalid transitions");
	static const int64_t down[] = {T_1910, T_2010_NOV, T_2010_MAR};
	k2.at = down;
	build_v2(&m, '2', &k1, &k2, "EST5EDT,M3.2.0,M11.1.0");
	parse_bad(&m, "invalid transitions");
	build_v1(&m, &k2);
	parse_bad(&m, "invalid transitions");
	static const int64_t extremes[] = {INT64_MAX, INT64_MIN, 0};
	k2.at = extremes;
	build_v2(&m, '2', &k1, &k2, "EST5EDT,M3.2.0,M11.1.0");
	parse_bad(&m, "invalid transitions");
}

static void test_bad_footer(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"EST",				  /* no offset */
		"EST5EDT,M3.2.0",		  /* one rule date */
		"EST5EDT,M3.2.0,",		  /* an empty one */
		"EST5EDT,M13.2.0,M11.1.0",	  /* month 13 */
		"EST5EDT,M0.2.0,M11.1.0",	  /* month 0 */
		"EST5EDT,M3.6.0,M11.1.0",	  /* week 6 */
		"EST5EDT,M3.0.0,M11.1.0",	  /* week 0 */
		"EST5EDT,M3.2.7,M11.1.0",	  /* weekday 7 */
		"EST5EDT,M3.2,M11.1.0",		  /* weekday missing */
		"EST5EDT,J0,J300",		  /* J counts from 1 */
		"EST5EDT,J366,J300",		  /* ... to 365 */
		"EST5EDT,366,300",		  /* n counts 0..365 */
		"EST5EDT,M3.2.0/168,M11.1.0",	  /* time past 167 h */
		"EST5EDT,M3.2.0/2:60,M11.1.0",	  /* minute 60 */
		"EST5EDT,M3.2.0,M11.1.0x",	  /* trailing junk */
		"EST5EDT,M3.2.0,M11.1.0,M12.1.0", /* a third date */
		"EST5EDT;M3.2.0,M11.1.0",	  /* wrong separator */
		"ES5",				  /* name too short */
		"5EST",				  /* no name */
		"<AB>5",			  /* quoted name too short */
		"<+03-3",			  /* unclosed quote */
		"EST25",			  /* offset hours past 24 */
		"EST5:60",			  /* offset minute 60 */
		"EST+",				  /* sign without digits */
		"EST5E",			  /* DST name too short */
		"EST5EDT4,",			  /* comma without rules */
		"EST 5",			  /* blank */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct image m;
		small_v2(&m, bad[i]);
		struct tzif *z = (struct tzif *)1;
		char err[256] = "";
		if (parse_n(&m, m.n, &z, err, sizeof(err)) == 0) {
			tzif_free(z);
			fail_msg("footer '%s' accepted", bad[i]);
		}
		assert_null(z);
		if (!strstr(err, "footer"))
			fail_msg("footer '%s': error \"%s\"", bad[i], err);
	}
	/* The footer's framing: missing, no opening newline, no closing one. */
	struct image m;
	small_v2(&m, NULL);
	parse_bad(&m, "footer");
	small_v2(&m, "EST5EDT");
	m.b[m.n - 9] = 'X'; /* the opening "\n" */
	parse_bad(&m, "footer");
	small_v2(&m, "EST5EDT");
	parse_bad_n(&m, m.n - 1, "footer"); /* the closing "\n" */
	small_v2(&m, "");
	parse_bad_n(&m, m.n - 1, "footer"); /* a lone "\n" */
}

/* Every strict prefix of a valid image is refused, without reading past
 * its end. */
static void test_truncated(void **state)
{
	(void)state;
	struct image m;
	small_v2(&m, "EST5EDT,M3.2.0,M11.1.0");
	for (size_t n = 0; n < m.n; n++)
		parse_bad_n(&m, n, NULL);
	struct block k = small_block();
	k.leapcnt = 1;
	k.isstdcnt = k.isutcnt = 3;
	build_v1(&m, &k);
	for (size_t n = 0; n < m.n; n++)
		parse_bad_n(&m, n, NULL);
	struct tzif *z = parse_ok(&m);
	tzif_free(z);
}

static void test_truncated_system_file(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct image m;
	int fd = open(SYSTEM_DIR "/America/New_York", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, m.b, sizeof(m.b));
	close(fd);
	assert_true(n > 44 && (size_t)n < sizeof(m.b));
	m.n = (size_t)n;
	tzif_free(parse_ok(&m));
	for (size_t k = 0; k < m.n; k++)
		parse_bad_n(&m, k, NULL);
}

/* Any single byte changed: accepted or refused, never a crash or an
 * out-of-bounds read (ASan), and an accepted zone answers lookups. */
static void test_corrupted_bytes(void **state)
{
	(void)state;
	struct image m;
	small_v2(&m, "EST5EDT,M3.2.0,M11.1.0");
	static const unsigned char vals[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '\n', ','};
	for (size_t i = 0; i < m.n; i++) {
		for (size_t v = 0; v < sizeof(vals); v++) {
			struct image b = m;
			b.b[i] = vals[v];
			struct tzif *z = NULL;
			char err[128];
			if (parse_n(&b, b.n, &z, err, sizeof(err)) == 0) {
				(void)tzif_offset_at(z, at(2030, 1, 1, 0, 0, 0));
				(void)tzif_offset_for_wall(z, wall(2010, 3, 14, 2, 30, 0));
				(void)tzif_offset_for_wall(z, wall(2090, 11, 5, 1, 30, 0));
				tzif_free(z);
			} else {
				assert_null(z);
			}
		}
	}
}

/* --- files ------------------------------------------------------------------------------ */

struct tmpdir {
	char root[256];
};

static int dir_setup(void **state)
{
	struct tmpdir *d = calloc(1, sizeof(*d));
	if (!d || test_mkdtemp(d->root, sizeof(d->root), "tzif_test") != 0)
		return -1;
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct tmpdir *d = *state;
	int rc = test_rmtree(d->root);
	free(d);
	return rc;
}

static void write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void test_load_file(void **state)
{
	struct tmpdir *d = *state;
	char path[512], err[256];
	struct tzif *z = (struct tzif *)1;
	struct image m;

	small_v2(&m, "EST5EDT,M3.2.0,M11.1.0");
	snprintf(path, sizeof(path), "%s/zone", d->root);
	write_file(path, m.b, m.n);
	assert_int_equal(tzif_load_file(path, &z, err, sizeof(err)), 0);
	expect_change(z, T_2010_MAR, -H(5), -H(4));
	tzif_free(z);

	snprintf(path, sizeof(path), "%s/missing", d->root);
	z = (struct tzif *)1;
	assert_int_equal(tzif_load_file(path, &z, err, sizeof(err)), -1);
	assert_null(z);
	assert_non_null(strstr(err, "cannot read the zone file"));

	snprintf(path, sizeof(path), "%s/short", d->root);
	write_file(path, m.b, 30);
	assert_int_equal(tzif_load_file(path, &z, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a TZif file"));

	/* A directory. */
	assert_int_equal(tzif_load_file(d->root, &z, err, sizeof(err)), -1);
	assert_null(z);
	/* A NULL or empty error buffer is fine. */
	assert_int_equal(tzif_load_file(path, &z, NULL, 0), -1);
	char one[1] = {'x'};
	assert_int_equal(tzif_load_file(path, &z, one, 0), -1);
	assert_int_equal(one[0], 'x');
}

/* --- the tzdb cache ---------------------------------------------------------------------- */

static void test_tzdb_system(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzdb *db = tzdb_open(NULL);
	assert_non_null(db);
	char err[256] = "";

	const struct tzif *ny = tzdb_get(db, "America/New_York", err, sizeof(err));
	assert_non_null(ny);
	expect_change(ny, at(2026, 3, 8, 7, 0, 0), -H(5), -H(4));
	/* Cached: the same zone again. */
	assert_ptr_equal(tzdb_get(db, "America/New_York", err, sizeof(err)), ny);

	/* Java's aliases: PST is Los Angeles, IST is Kolkata, EST a fixed -5. */
	const struct tzif *pst = tzdb_get(db, "PST", err, sizeof(err));
	assert_non_null(pst);
	expect_change(pst, at(2026, 3, 8, 10, 0, 0), -H(8), -H(7));
	assert_ptr_equal(tzdb_get(db, "PST", err, sizeof(err)), pst);
	const struct tzif *ist = tzdb_get(db, "IST", err, sizeof(err));
	assert_non_null(ist);
	assert_int_equal(tzif_offset_at(ist, at(2026, 6, 1, 0, 0, 0)), HM(5, 30));
	const struct tzif *est = tzdb_get(db, "EST", err, sizeof(err));
	assert_non_null(est);
	assert_int_equal(tzif_offset_at(est, at(2026, 7, 1, 0, 0, 0)), -H(5));

	/* Custom offsets: "+" is east. Etc/GMT+5 is POSIX-signed: UTC-5. */
	const struct tzif *g = tzdb_get(db, "GMT+05:30", err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(tzif_offset_at(g, 0), HM(5, 30));
	assert_int_equal(tzif_offset_for_wall(g, at(2026, 3, 8, 2, 30, 0)), HM(5, 30));
	assert_ptr_equal(tzdb_get(db, "GMT+05:30", err, sizeof(err)), g);
	g = tzdb_get(db, "GMT-8", err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(tzif_offset_at(g, 0), -H(8));
	g = tzdb_get(db, "GMT+5", err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(tzif_offset_at(g, 0), H(5));
	g = tzdb_get(db, "Etc/GMT+5", err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(tzif_offset_at(g, 0), -H(5));
	g = tzdb_get(db, "UTC", err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(tzif_offset_at(g, at(2026, 7, 1, 0, 0, 0)), 0);

	/* Unknown ids: NULL and a message. */
	static const char *const unknown[] = {
		"Mars/Olympus_Mons",	    "posixrules", "posix/America/New_York", "Z", "utc", "",
		"America/../Europe/London", "GMT+24:00",  "America/New_York ",
	};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		snprintf(err, sizeof(err), "untouched");
		if (tzdb_get(db, unknown[i], err, sizeof(err)))
			fail_msg("'%s' accepted", unknown[i]);
		assert_string_equal(err, "unknown time zone id");
		/* Not cached as a success the second time either. */
		assert_null(tzdb_get(db, unknown[i], err, sizeof(err)));
	}
	snprintf(err, sizeof(err), "untouched");
	assert_null(tzdb_get(db, NULL, err, sizeof(err)));
	assert_string_equal(err, "unknown time zone id");
	char longid[400];
	memset(longid, 'A', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_null(tzdb_get(db, longid, err, sizeof(err)));
	assert_null(tzdb_get(db, longid, NULL, 0));
	tzdb_close(db);
	tzdb_close(NULL);
}

/* A zoneinfo tree of our own: a good zone, and files that start with the
 * magic (so tz_id_check accepts the name) but do not parse. */
static void test_tzdb_own_dir(void **state)
{
	struct tmpdir *d = *state;
	char path[512], err[256];
	struct image m;

	snprintf(path, sizeof(path), "%s/Test", d->root);
	assert_int_equal(mkdir(path, 0755), 0);
	small_v2(&m, "EST5EDT,M3.2.0,M11.1.0");
	snprintf(path, sizeof(path), "%s/Test/Good", d->root);
	write_file(path, m.b, m.n);
	snprintf(path, sizeof(path), "%s/Test/Short", d->root);
	write_file(path, m.b, 60);
	small_v2(&m, "EST5EDT,M3.2.0");
	snprintf(path, sizeof(path), "%s/Test/BadFooter", d->root);
	write_file(path, m.b, m.n);

	struct tzdb *db = tzdb_open(d->root);
	assert_non_null(db);
	const struct tzif *z = tzdb_get(db, "Test/Good", err, sizeof(err));
	if (!z)
		fail_msg("Test/Good: %s", err);
	expect_change(z, T_2010_MAR, -H(5), -H(4));
	assert_ptr_equal(tzdb_get(db, "Test/Good", err, sizeof(err)), z);

	err[0] = '\0';
	assert_null(tzdb_get(db, "Test/Short", err, sizeof(err)));
	assert_non_null(strstr(err, "TZif"));
	err[0] = '\0';
	assert_null(tzdb_get(db, "Test/BadFooter", err, sizeof(err)));
	assert_non_null(strstr(err, "footer"));
	/* A name the real tree has is not there. */
	assert_null(tzdb_get(db, "Europe/London", err, sizeof(err)));
	assert_string_equal(err, "unknown time zone id");
	/* Fixed offsets need no file. */
	z = tzdb_get(db, "GMT-03:30", err, sizeof(err));
	assert_non_null(z);
	assert_int_equal(tzif_offset_at(z, 0), -HM(3, 30));
	tzdb_close(db);
}

/* Several threads asking for the same zones get the same pointers. */
struct getter {
	struct tzdb *db;
	const struct tzif *got[4];
};

static const char *const THREAD_IDS[4] = {"America/New_York", "Europe/London", "IST", "GMT+05:30"};

static void *get_all(void *arg)
{
	struct getter *g = arg;
	for (int round = 0; round < 50; round++)
		for (int i = 0; i < 4; i++)
			g->got[i] = tzdb_get(g->db, THREAD_IDS[i], NULL, 0);
	return NULL;
}

static void test_tzdb_threads(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	struct tzdb *db = tzdb_open(NULL);
	struct getter g[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		g[i].db = db;
		assert_int_equal(pthread_create(&th[i], NULL, get_all, &g[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++) {
		assert_non_null(g[0].got[i]);
		for (int k = 1; k < 4; k++)
			assert_ptr_equal(g[k].got[i], g[0].got[i]);
	}
	tzdb_close(db);
}

/* BUG (src/sched/tzif.c, tzif_offset_for_wall): transitions at the ends
 * of the 64-bit range are valid TZif (zic -b fat itself writes one at
 * -2^59; any value is allowed), but the wall-time search computes each
 * transition's key as at[i] + off[i]: a transition at INT64_MAX - 1 with a
 * positive offset (or INT64_MIN with a negative one) must saturate, not
 * overflow (UBSan aborts on that). A zone file is data that an
 * administrator can point anywhere (tzif.h), so a malformed file reaches it. The lookups run in a child process so
 * that the abort fails this test only. */
static void test_wall_lookup_saturates_at_int64_ends(void **state)
{
	(void)state;
	static const struct ttype types[] = {{-H(1), 0, 0}, {H(2), 1, 4}};
	static const int64_t ends[] = {INT64_MIN, -(INT64_C(1) << 59), 0, INT64_MAX - 1};
	static const uint8_t idx[] = {0, 1, 0, 1};
	struct block k1 = empty_block();
	struct block k2 = {.timecnt = 4,
			   .typecnt = 2,
			   .charcnt = 8,
			   .at = ends,
			   .idx = idx,
			   .types = types,
			   .chars = "AAA\0BBB"};
	struct image m;
	build_v2(&m, '2', &k1, &k2, "");
	struct tzif *z = parse_ok(&m);
	assert_int_equal(tzif_offset_at(z, 0), -H(1));
	assert_int_equal(tzif_offset_at(z, -1), H(2));
	assert_int_equal(tzif_offset_at(z, INT64_C(4102444800)), -H(1));
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int bad = tzif_offset_for_wall(z, wall(1000, 1, 1, 0, 0, 0)) != H(2);
		bad |= tzif_offset_for_wall(z, INT64_C(4102444800)) != -H(1);
		bad |= tzif_offset_for_wall(z, INT64_C(-9000000000000000000)) != H(2);
		_exit(bad ? 3 : 0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	tzif_free(z);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("tzif_offset_for_wall near INT64_MAX/MIN: the child %s %d (UBSan's "
			 "report, if any, is above)",
			 WIFEXITED(status) ? "exited with" : "died of signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_york),
		cmocka_unit_test(test_new_york_footer),
		cmocka_unit_test(test_london),
		cmocka_unit_test(test_lord_howe),
		cmocka_unit_test(test_chatham),
		cmocka_unit_test(test_apia),
		cmocka_unit_test(test_kolkata),
		cmocka_unit_test(test_sao_paulo),
		cmocka_unit_test(test_wall_new_york),
		cmocka_unit_test(test_wall_half_hours),
		cmocka_unit_test(test_wall_skipped_day),
		cmocka_unit_test(test_wall_southern_footer),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_image_v2),
		cmocka_unit_test(test_image_v2_ignores_v1_block),
		cmocka_unit_test(test_image_v1),
		cmocka_unit_test(test_image_leap_and_indicators),
		cmocka_unit_test(test_image_footer_only),
		cmocka_unit_test(test_posix_m_rules),
		cmocka_unit_test(test_posix_julian),
		cmocka_unit_test(test_posix_odd_times),
		cmocka_unit_test(test_posix_no_dst),
		cmocka_unit_test(test_posix_dst_offset),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_counts),
		cmocka_unit_test(test_bad_types),
		cmocka_unit_test(test_bad_transitions),
		cmocka_unit_test(test_bad_footer),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_truncated_system_file),
		cmocka_unit_test(test_corrupted_bytes),
		cmocka_unit_test_setup_teardown(test_load_file, dir_setup, dir_teardown),
		cmocka_unit_test(test_tzdb_system),
		cmocka_unit_test_setup_teardown(test_tzdb_own_dir, dir_setup, dir_teardown),
		cmocka_unit_test(test_tzdb_threads),
		cmocka_unit_test(test_wall_lookup_saturates_at_int64_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
