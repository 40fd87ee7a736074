/* cron_next_test.c - unit tests for src/sched/cron_next.c (the next firing
 * instant of a Quartz cron expression) and for the instant formatting and
 * parsing of src/sched/preview.c (`jobsd cron next`).
 *
 * Every expected instant below comes from Quartz 2.3.2 itself
 * (org.quartz.CronExpression.getNextValidTimeAfter, Debian's
 * libquartz2-java on OpenJDK 17.0.15, asked through tests/quartz/
 * QuartzNext.java with the same zone, start and expression), computed once
 * and written here with its local time in a comment. The few places where
 * jobsd answers differently on purpose (cron_next.h, docs/internals/
 * cron.md) say what Quartz answers instead, and where Quartz's search
 * never ends, what it answers from the month after. Each CHAIN is a sequence: the
 * first instant strictly after the start, then the first after that, and
 * so on; NONE means cron_next() reports no further firing (-1).
 *
 * Zones come from the system's /usr/share/zoneinfo through one tzdb (tests
 * that need it skip without tzdata). Single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sched/cron.h"
#include "sched/cron_next.h"
#include "sched/preview.h"
#include "sched/tzif.h"
#include "testutil.h"

#define NONE INT64_MIN

static struct tzdb *db;

static int group_setup(void **state)
{
	(void)state;
	db = tzdb_open(NULL);
	return db ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	tzdb_close(db);
	db = NULL;
	return 0;
}

static int have_system_tzdata(void)
{
	return access("/usr/share/zoneinfo/America/New_York", R_OK) == 0;
}

static const struct tzif *zone(const char *id)
{
	char err[256];
	const struct tzif *z = tzdb_get(db, id, err, sizeof(err));
	if (!z)
		fail_msg("zone %s: %s", id, err);
	return z;
}

static struct cron_expr expr(const char *text)
{
	struct cron_expr e;
	char err[256];
	if (cron_parse(text, &e, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", text, err);
	return e;
}

/* Follows the chain of firings of text in zone id from `from`. */
static void chain(int line, const char *id, const char *text, int64_t from, const int64_t *want,
		  size_t n)
{
	if (!have_system_tzdata())
		skip();
	struct cron_expr e = expr(text);
	const struct tzif *z = zone(id);
	int64_t t = from;
	for (size_t i = 0; i < n; i++) {
		int64_t next = 12345;
		int rc = cron_next(&e, z, t, &next);
		if (want[i] == NONE) {
			if (rc != -1)
				fail_msg("line %d, '%s' in %s: firing %zu after %lld is %lld, want "
					 "none",
					 line, text, id, i + 1, (long long)t, (long long)next);
			return;
		}
		if (rc != 0)
			fail_msg("line %d, '%s' in %s: no firing %zu after %lld, want %lld", line,
				 text, id, i + 1, (long long)t, (long long)want[i]);
		if (next != want[i])
			fail_msg("line %d, '%s' in %s: firing %zu after %lld is %lld, want %lld",
				 line, text, id, i + 1, (long long)t, (long long)next,
				 (long long)want[i]);
		assert_true(next > t);
		assert_int_equal(next % 1000, 0);
		t = next;
	}
}

#define CHAIN(id, text, from, ...)                                      \
	chain(__LINE__, id, text, from, (const int64_t[]){__VA_ARGS__}, \
	      sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

/* --- seconds, minutes, hours ------------------------------------------------------------ */

static void test_lists(void **state)
{
	(void)state;
	CHAIN("UTC", "5,10,50 * * * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767225605000 /* 2026-01-01T00:00:05Z */, 1767225610000 /* 2026-01-01T00:00:10Z */,
	      1767225650000 /* 2026-01-01T00:00:50Z */, 1767225665000 /* 2026-01-01T00:01:05Z */);
	CHAIN("UTC", "0 7,33 * * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767226020000 /* 2026-01-01T00:07:00Z */, 1767227580000 /* 2026-01-01T00:33:00Z */,
	      1767229620000 /* 2026-01-01T01:07:00Z */);
	CHAIN("UTC", "0 0 3,15 * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767236400000 /* 2026-01-01T03:00:00Z */, 1767279600000 /* 2026-01-01T15:00:00Z */,
	      1767322800000 /* 2026-01-02T03:00:00Z */);
}

static void test_ranges(void **state)
{
	(void)state;
	CHAIN("UTC", "10-12 * * * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767225610000 /* 2026-01-01T00:00:10Z */, 1767225611000 /* 2026-01-01T00:00:11Z */,
	      1767225612000 /* 2026-01-01T00:00:12Z */, 1767225670000 /* 2026-01-01T00:01:10Z */);
	CHAIN("UTC", "0 0 9-11 * * ?", 1767263400000 /* 2026-01-01T10:30:00Z */,
	      1767265200000 /* 2026-01-01T11:00:00Z */, 1767344400000 /* 2026-01-02T09:00:00Z */,
	      1767348000000 /* 2026-01-02T10:00:00Z */, 1767351600000 /* 2026-01-02T11:00:00Z */);
	CHAIN("UTC", "0 0 6 1 JAN-MAR ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767247200000 /* 2026-01-01T06:00:00Z */, 1769925600000 /* 2026-02-01T06:00:00Z */,
	      1772344800000 /* 2026-03-01T06:00:00Z */, 1798783200000 /* 2027-01-01T06:00:00Z */);
	CHAIN("UTC", "0 0 8 ? * 2-6", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767254400000 /* 2026-01-01T08:00:00Z */, 1767340800000 /* 2026-01-02T08:00:00Z */,
	      1767600000000 /* 2026-01-05T08:00:00Z */, 1767686400000 /* 2026-01-06T08:00:00Z */,
	      1767772800000 /* 2026-01-07T08:00:00Z */, 1767859200000 /* 2026-01-08T08:00:00Z */);
}

/* b < a wraps through the field's modulus (day-of-month through 31). */
static void test_wrap_around_ranges(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 22-2 * * ?", 1767268800000 /* 2026-01-01T12:00:00Z */,
	      1767304800000 /* 2026-01-01T22:00:00Z */, 1767308400000 /* 2026-01-01T23:00:00Z */,
	      1767312000000 /* 2026-01-02T00:00:00Z */, 1767315600000 /* 2026-01-02T01:00:00Z */,
	      1767319200000 /* 2026-01-02T02:00:00Z */, 1767391200000 /* 2026-01-02T22:00:00Z */);
	CHAIN("UTC", "0 0 0 1 NOV-FEB ?", 1768435200000 /* 2026-01-15T00:00:00Z */,
	      1769904000000 /* 2026-02-01T00:00:00Z */, 1793491200000 /* 2026-11-01T00:00:00Z */,
	      1796083200000 /* 2026-12-01T00:00:00Z */, 1798761600000 /* 2027-01-01T00:00:00Z */,
	      1801440000000 /* 2027-02-01T00:00:00Z */);
	CHAIN("UTC", "0 0 12 ? * FRI-MON", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767355200000 /* 2026-01-02T12:00:00Z */, 1767441600000 /* 2026-01-03T12:00:00Z */,
	      1767528000000 /* 2026-01-04T12:00:00Z */, 1767614400000 /* 2026-01-05T12:00:00Z */,
	      1767960000000 /* 2026-01-09T12:00:00Z */);
	CHAIN("UTC", "0 0 0 30-2 * ?", 1768435200000 /* 2026-01-15T00:00:00Z */,
	      1769731200000 /* 2026-01-30T00:00:00Z */, 1769817600000 /* 2026-01-31T00:00:00Z */,
	      1769904000000 /* 2026-02-01T00:00:00Z */, 1769990400000 /* 2026-02-02T00:00:00Z */,
	      1772323200000 /* 2026-03-01T00:00:00Z */, 1772409600000 /* 2026-03-02T00:00:00Z */);
	CHAIN("UTC", "50-10/15 * * * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767225605000 /* 2026-01-01T00:00:05Z */, 1767225650000 /* 2026-01-01T00:00:50Z */,
	      1767225665000 /* 2026-01-01T00:01:05Z */, 1767225710000 /* 2026-01-01T00:01:50Z */);
}

static void test_steps(void **state)
{
	(void)state;
	CHAIN("UTC", "*/20 * * * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767225620000 /* 2026-01-01T00:00:20Z */, 1767225640000 /* 2026-01-01T00:00:40Z */,
	      1767225660000 /* 2026-01-01T00:01:00Z */, 1767225680000 /* 2026-01-01T00:01:20Z */);
	CHAIN("UTC", "/20 * * * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767225620000 /* 2026-01-01T00:00:20Z */, 1767225640000 /* 2026-01-01T00:00:40Z */,
	      1767225660000 /* 2026-01-01T00:01:00Z */);
	/* a/n runs to the field's end, no carry: :00 and :45 only. */
	CHAIN("UTC", "0 0/45 * * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767228300000 /* 2026-01-01T00:45:00Z */, 1767229200000 /* 2026-01-01T01:00:00Z */,
	      1767231900000 /* 2026-01-01T01:45:00Z */, 1767232800000 /* 2026-01-01T02:00:00Z */);
	CHAIN("UTC", "0 10-40/15 * * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767226200000 /* 2026-01-01T00:10:00Z */, 1767227100000 /* 2026-01-01T00:25:00Z */,
	      1767228000000 /* 2026-01-01T00:40:00Z */, 1767229800000 /* 2026-01-01T01:10:00Z */);
	CHAIN("UTC", "0 0 */7 * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767250800000 /* 2026-01-01T07:00:00Z */, 1767276000000 /* 2026-01-01T14:00:00Z */,
	      1767301200000 /* 2026-01-01T21:00:00Z */, 1767312000000 /* 2026-01-02T00:00:00Z */,
	      1767337200000 /* 2026-01-02T07:00:00Z */);
	CHAIN("UTC", "0 0 0 1/10 * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1768089600000 /* 2026-01-11T00:00:00Z */, 1768953600000 /* 2026-01-21T00:00:00Z */,
	      1769817600000 /* 2026-01-31T00:00:00Z */, 1769904000000 /* 2026-02-01T00:00:00Z */);
	CHAIN("UTC", "0 0 0 1 */4 ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1777593600000 /* 2026-05-01T00:00:00Z */, 1788220800000 /* 2026-09-01T00:00:00Z */,
	      1798761600000 /* 2027-01-01T00:00:00Z */, 1809129600000 /* 2027-05-01T00:00:00Z */);
	/* 2/3 in day-of-week: MON and THU. */
	CHAIN("UTC", "0 0 0 ? * 2/3", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767571200000 /* 2026-01-05T00:00:00Z */, 1767830400000 /* 2026-01-08T00:00:00Z */,
	      1768176000000 /* 2026-01-12T00:00:00Z */, 1768435200000 /* 2026-01-15T00:00:00Z */);
	CHAIN("UTC", "0 0 0 1 1 ? 2030/5", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1893456000000 /* 2030-01-01T00:00:00Z */, 2051222400000 /* 2035-01-01T00:00:00Z */,
	      2208988800000 /* 2040-01-01T00:00:00Z */, 2366841600000 /* 2045-01-01T00:00:00Z */);
}

static void test_names(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 ? JAN,JUL MON", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767614400000 /* 2026-01-05T12:00:00Z */, 1768219200000 /* 2026-01-12T12:00:00Z */,
	      1768824000000 /* 2026-01-19T12:00:00Z */, 1769428800000 /* 2026-01-26T12:00:00Z */);
	CHAIN("UTC", "0 0 12 ? * SUN", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767528000000 /* 2026-01-04T12:00:00Z */, 1768132800000 /* 2026-01-11T12:00:00Z */);
}

/* --- day-of-month: L, L-n, W ------------------------------------------------------------------ */

static void test_dom_last(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 L * ?", 1768435200000 /* 2026-01-15T00:00:00Z */,
	      1769860800000 /* 2026-01-31T12:00:00Z */, 1772280000000 /* 2026-02-28T12:00:00Z */,
	      1774958400000 /* 2026-03-31T12:00:00Z */, 1777550400000 /* 2026-04-30T12:00:00Z */);
	CHAIN("UTC", "0 0 12 L * ?", 1832976000000 /* 2028-02-01T00:00:00Z */,
	      1835438400000 /* 2028-02-29T12:00:00Z */, 1838116800000 /* 2028-03-31T12:00:00Z */);
}

static void test_dom_last_minus(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 L-3 * ?", 1768435200000 /* 2026-01-15T00:00:00Z */,
	      1769601600000 /* 2026-01-28T12:00:00Z */, 1772020800000 /* 2026-02-25T12:00:00Z */,
	      1774699200000 /* 2026-03-28T12:00:00Z */);
}

/* L-30 exists only in 31-day months (day 1): February, April, June are
 * skipped. */
static void test_dom_last_minus_30(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 0 L-30 * ?", 1768435200000 /* 2026-01-15T00:00:00Z */,
	      1772323200000 /* 2026-03-01T00:00:00Z */, 1777593600000 /* 2026-05-01T00:00:00Z */,
	      1782864000000 /* 2026-07-01T00:00:00Z */, 1785542400000 /* 2026-08-01T00:00:00Z */);
	CHAIN("UTC", "0 0 0 L-30 * ?", 1797292800000 /* 2026-12-15T00:00:00Z */,
	      1798761600000 /* 2027-01-01T00:00:00Z */, 1803859200000 /* 2027-03-01T00:00:00Z */,
	      1809129600000 /* 2027-05-01T00:00:00Z */);
}

/* The last weekday: January 2026 ends on a Saturday, May on a Sunday. */
static void test_dom_last_weekday(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 LW * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1769774400000 /* 2026-01-30T12:00:00Z */, 1772193600000 /* 2026-02-27T12:00:00Z */,
	      1774958400000 /* 2026-03-31T12:00:00Z */, 1777550400000 /* 2026-04-30T12:00:00Z */,
	      1780056000000 /* 2026-05-29T12:00:00Z */);
}

static void test_dom_last_minus_weekday(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 L-2W * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1769688000000 /* 2026-01-29T12:00:00Z */, 1772107200000 /* 2026-02-26T12:00:00Z */,
	      1774872000000 /* 2026-03-30T12:00:00Z */, 1777377600000 /* 2026-04-28T12:00:00Z */);
}

/* 15W: Feb and Mar 15 2026 are Sundays (-> Monday 16), Aug 15 a Saturday
 * (-> Friday 14). */
static void test_dom_nearest_weekday(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 15W * ?", 1768867200000 /* 2026-01-20T00:00:00Z */,
	      1771243200000 /* 2026-02-16T12:00:00Z */, 1773662400000 /* 2026-03-16T12:00:00Z */,
	      1776254400000 /* 2026-04-15T12:00:00Z */, 1778846400000 /* 2026-05-15T12:00:00Z */,
	      1781524800000 /* 2026-06-15T12:00:00Z */, 1784116800000 /* 2026-07-15T12:00:00Z */,
	      1786708800000 /* 2026-08-14T12:00:00Z */);
}

/* 1W when the 1st is a Saturday (August 2026): Monday the 3rd, not
 * Friday in the month before. */
static void test_dom_1w_on_saturday(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 1W * ?", 1784073600000 /* 2026-07-15T00:00:00Z */,
	      1785758400000 /* 2026-08-03T12:00:00Z */, 1788264000000 /* 2026-09-01T12:00:00Z */);
}

/* 31W: months without a 31st (April, June) do not fire; May 31 2026 is a
 * Sunday (-> Friday 29). */
static void test_dom_31w_in_short_months(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 31W * ?", 1773532800000 /* 2026-03-15T00:00:00Z */,
	      1774958400000 /* 2026-03-31T12:00:00Z */, 1780056000000 /* 2026-05-29T12:00:00Z */,
	      1785499200000 /* 2026-07-31T12:00:00Z */, 1788177600000 /* 2026-08-31T12:00:00Z */);
}

/* --- day-of-week: dL, d#n, L ---------------------------------------------------------------- */

static void test_dow_last(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 ? * 6L", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1769774400000 /* 2026-01-30T12:00:00Z */, 1772193600000 /* 2026-02-27T12:00:00Z */,
	      1774612800000 /* 2026-03-27T12:00:00Z */);
	CHAIN("UTC", "0 0 12 ? * FRIL", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1769774400000 /* 2026-01-30T12:00:00Z */, 1772193600000 /* 2026-02-27T12:00:00Z */,
	      1774612800000 /* 2026-03-27T12:00:00Z */);
}

static void test_dow_nth(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 ? * 6#3", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1768564800000 /* 2026-01-16T12:00:00Z */, 1771588800000 /* 2026-02-20T12:00:00Z */,
	      1774008000000 /* 2026-03-20T12:00:00Z */);
}

/* 2#5: only months with a fifth Monday fire (none in Jan and Feb 2026). */
static void test_dow_nth_missing(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 ? * 2#5", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1774872000000 /* 2026-03-30T12:00:00Z */, 1782734400000 /* 2026-06-29T12:00:00Z */,
	      1788177600000 /* 2026-08-31T12:00:00Z */);
}

/* A lone L in day-of-week is Saturday. */
static void test_dow_lone_l(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 ? * L", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767441600000 /* 2026-01-03T12:00:00Z */, 1768046400000 /* 2026-01-10T12:00:00Z */,
	      1768651200000 /* 2026-01-17T12:00:00Z */);
}

/* --- years ------------------------------------------------------------------------------------ */

static void test_years(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 0 1 1 ? 2027,2029,2031-2032", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1798761600000 /* 2027-01-01T00:00:00Z */, 1861920000000 /* 2029-01-01T00:00:00Z */,
	      1924992000000 /* 2031-01-01T00:00:00Z */, 1956528000000 /* 2032-01-01T00:00:00Z */,
	      NONE);
	CHAIN("UTC", "0 0 0 1 1 ? 2027-2028", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1798761600000 /* 2027-01-01T00:00:00Z */, 1830297600000 /* 2028-01-01T00:00:00Z */,
	      NONE);
	CHAIN("UTC", "0 0 0 1 1 ? 2099", 4052419200000 /* 2098-06-01T00:00:00Z */,
	      4070908800000 /* 2099-01-01T00:00:00Z */, NONE);
}

static void test_leap_day(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 0 29 2 ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1835395200000 /* 2028-02-29T00:00:00Z */, 1961625600000 /* 2032-02-29T00:00:00Z */,
	      2087856000000 /* 2036-02-29T00:00:00Z */);
	/* After 2096 the next Feb 29 is in 2104: Quartz answers
	 * 4233686400000 (2104-02-29T00:00:00Z), jobsd has no times after 2099. */
	CHAIN("UTC", "0 0 0 29 2 ?", 3981398400000 /* 2096-03-01T00:00:00Z */, NONE);
}

/* No firing after 2099 for '*' years either (Quartz: 2100-01-01T00:00:00Z,
 * 4102444800000; its '*' runs to the current year + 100). */
static void test_star_year_ends_in_2099(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 0 1 1 ?", 4083955200000 /* 2099-06-01T00:00:00Z */, NONE);
	CHAIN("UTC", "59 59 23 31 12 ?", 4102444798000 /* 2099-12-31T23:59:58Z */,
	      4102444799000 /* 2099-12-31T23:59:59Z */, NONE);
}

/* Quartz returns null: the only year is in the past. */
static void test_no_future_firing(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 0 1 1 ? 2020", 1767225600000 /* 2026-01-01T00:00:00Z */, NONE);
	CHAIN("UTC", "0 0 0 1 1 ? 2020-2025", 1767225600000 /* 2026-01-01T00:00:00Z */, NONE);
}

/* --- the start instant: whole seconds ------------------------------------------------------ */

/* `after` is taken at whole-second precision (floored, also before 1970),
 * which for these expressions is also what Quartz answers. */
static void test_after_milliseconds(void **state)
{
	(void)state;
	CHAIN("UTC", "* * * * * ?", 1767225600999 /* 2026-01-01T00:00:00.999Z */,
	      1767225601000 /* 2026-01-01T00:00:01Z */, 1767225602000 /* 2026-01-01T00:00:02Z */);
	CHAIN("UTC", "0 0 12 * * ?", 1767268800500 /* 2026-01-01T12:00:00.500Z */,
	      1767355200000 /* 2026-01-02T12:00:00Z */);
	CHAIN("UTC", "0 0 12 * * ?", 1767268799999 /* 2026-01-01T11:59:59.999Z */,
	      1767268800000 /* 2026-01-01T12:00:00Z */);
	CHAIN("UTC", "* * * * * ?", -1500 /* 1969-12-31T23:59:58.500Z */,
	      0 /* 1970-01-01T00:00:00Z */, 1000 /* 1970-01-01T00:00:01Z */);
	/* Every millisecond of a second gives the same answer. */
	struct cron_expr e = expr("*/7 * * * * ?");
	const struct tzif *z = zone("UTC");
	int64_t base = 1767225600000, want, got;
	assert_int_equal(cron_next(&e, z, base, &want), 0);
	assert_int_equal(want, 1767225607000);
	for (int ms = 0; ms < 1000; ms += 37) {
		assert_int_equal(cron_next(&e, z, base + ms, &got), 0);
		assert_int_equal(got, want);
	}
}

/* --- daylight saving: America/New_York ----------------------------------------------------- */

/* 02:30 does not exist on 2026-03-08: Quartz skips that day. */
static void test_ny_spring_forward_daily(void **state)
{
	(void)state;
	CHAIN("America/New_York", "0 30 2 * * ?", 1772816400000 /* 2026-03-06T12:00:00-05:00 */,
	      1772868600000 /* 2026-03-07T02:30:00-05:00 */,
	      1773037800000 /* 2026-03-09T02:30:00-04:00 */,
	      1773124200000 /* 2026-03-10T02:30:00-04:00 */,
	      1773210600000 /* 2026-03-11T02:30:00-04:00 */);
}

/* 01:30 happens twice on 2026-11-01: it fires once, at the EST pass. */
static void test_ny_fall_back_daily(void **state)
{
	(void)state;
	CHAIN("America/New_York", "0 30 1 * * ?", 1793376000000 /* 2026-10-30T12:00:00-04:00 */,
	      1793424600000 /* 2026-10-31T01:30:00-04:00 */,
	      1793514600000 /* 2026-11-01T01:30:00-05:00 */,
	      1793601000000 /* 2026-11-02T01:30:00-05:00 */,
	      1793687400000 /* 2026-11-03T01:30:00-05:00 */);
}

/* Every 30 minutes across both changes: 02:00 and 02:30 are missing in
 * March; in November the EDT pass of 01:00-02:00 is skipped. */
static void test_ny_every_30_minutes(void **state)
{
	(void)state;
	CHAIN("America/New_York", "0 */30 * * * ?", 1772946000000 /* 2026-03-08T00:00:00-05:00 */,
	      1772947800000 /* 2026-03-08T00:30:00-05:00 */,
	      1772949600000 /* 2026-03-08T01:00:00-05:00 */,
	      1772951400000 /* 2026-03-08T01:30:00-05:00 */,
	      1772953200000 /* 2026-03-08T03:00:00-04:00 */,
	      1772955000000 /* 2026-03-08T03:30:00-04:00 */,
	      1772956800000 /* 2026-03-08T04:00:00-04:00 */,
	      1772958600000 /* 2026-03-08T04:30:00-04:00 */);
	CHAIN("America/New_York", "0 */30 * * * ?", 1793505600000 /* 2026-11-01T00:00:00-04:00 */,
	      1793507400000 /* 2026-11-01T00:30:00-04:00 */,
	      1793512800000 /* 2026-11-01T01:00:00-05:00 */,
	      1793514600000 /* 2026-11-01T01:30:00-05:00 */,
	      1793516400000 /* 2026-11-01T02:00:00-05:00 */,
	      1793518200000 /* 2026-11-01T02:30:00-05:00 */,
	      1793520000000 /* 2026-11-01T03:00:00-05:00 */,
	      1793521800000 /* 2026-11-01T03:30:00-05:00 */);
}

/* A start inside the first (EDT) pass of the repeated hour moves to the
 * second pass, as Quartz's calendar re-reads the wall time. */
static void test_ny_start_in_repeated_hour(void **state)
{
	(void)state;
	CHAIN("America/New_York", "0 */30 * * * ?", 1793510100000 /* 2026-11-01T01:15:00-04:00 */,
	      1793514600000 /* 2026-11-01T01:30:00-05:00 */,
	      1793516400000 /* 2026-11-01T02:00:00-05:00 */,
	      1793518200000 /* 2026-11-01T02:30:00-05:00 */,
	      1793520000000 /* 2026-11-01T03:00:00-05:00 */);
	CHAIN("America/New_York", "0 30 1 * * ?", 1793510100000 /* 2026-11-01T01:15:00-04:00 */,
	      1793514600000 /* 2026-11-01T01:30:00-05:00 */,
	      1793601000000 /* 2026-11-02T01:30:00-05:00 */);
	CHAIN("America/New_York", "0 */30 * * * ?", 1793513700000 /* 2026-11-01T01:15:00-05:00 */,
	      1793514600000 /* 2026-11-01T01:30:00-05:00 */,
	      1793516400000 /* 2026-11-01T02:00:00-05:00 */,
	      1793518200000 /* 2026-11-01T02:30:00-05:00 */);
}

/* --- daylight saving: other zones ------------------------------------------------------------ */

/* Lord Howe moves by 30 minutes: 02:00-02:30 missing on 2026-10-04,
 * 01:30-02:00 twice on 2026-04-05. */
static void test_lord_howe(void **state)
{
	(void)state;
	CHAIN("Australia/Lord_Howe", "0 15 2 * * ?", 1790904600000 /* 2026-10-02T12:00:00+10:30 */,
	      1790955900000 /* 2026-10-03T02:15:00+10:30 */,
	      1791126900000 /* 2026-10-05T02:15:00+11:00 */,
	      1791213300000 /* 2026-10-06T02:15:00+11:00 */);
	CHAIN("Australia/Lord_Howe", "0 */30 * * * ?",
	      1791037800000 /* 2026-10-04T01:00:00+10:30 */,
	      1791039600000 /* 2026-10-04T01:30:00+10:30 */,
	      1791041400000 /* 2026-10-04T02:30:00+11:00 */,
	      1791043200000 /* 2026-10-04T03:00:00+11:00 */,
	      1791045000000 /* 2026-10-04T03:30:00+11:00 */,
	      1791046800000 /* 2026-10-04T04:00:00+11:00 */);
	CHAIN("Australia/Lord_Howe", "0 45 1 * * ?", 1775178000000 /* 2026-04-03T12:00:00+11:00 */,
	      1775227500000 /* 2026-04-04T01:45:00+11:00 */,
	      1775315700000 /* 2026-04-05T01:45:00+10:30 */,
	      1775402100000 /* 2026-04-06T01:45:00+10:30 */);
	CHAIN("Australia/Lord_Howe", "0 */15 * * * ?",
	      1775311200000 /* 2026-04-05T01:00:00+11:00 */,
	      1775312100000 /* 2026-04-05T01:15:00+11:00 */,
	      1775314800000 /* 2026-04-05T01:30:00+10:30 */,
	      1775315700000 /* 2026-04-05T01:45:00+10:30 */,
	      1775316600000 /* 2026-04-05T02:00:00+10:30 */,
	      1775317500000 /* 2026-04-05T02:15:00+10:30 */,
	      1775318400000 /* 2026-04-05T02:30:00+10:30 */);
}

/* Chatham changes at 02:45 / 03:45 local, +12:45 / +13:45. */
static void test_chatham(void **state)
{
	(void)state;
	CHAIN("Pacific/Chatham", "0 0 3 * * ?", 1790291700000 /* 2026-09-25T12:00:00+12:45 */,
	      1790345700000 /* 2026-09-26T03:00:00+12:45 */,
	      1790514900000 /* 2026-09-28T03:00:00+13:45 */,
	      1790601300000 /* 2026-09-29T03:00:00+13:45 */);
	CHAIN("Pacific/Chatham", "0 0 3 * * ?", 1775168100000 /* 2026-04-03T12:00:00+13:45 */,
	      1775222100000 /* 2026-04-04T03:00:00+13:45 */,
	      1775312100000 /* 2026-04-05T03:00:00+12:45 */,
	      1775398500000 /* 2026-04-06T03:00:00+12:45 */);
}

/* Brazil 2018-11-04: 00:00 -> 01:00, the day has no midnight. Quartz does
 * not fire on that day at all (its calendar resolves 00:00 to 01:00, which
 * then fails the hour check and moves on to the next day). */
static void test_sao_paulo_midnight_gap(void **state)
{
	(void)state;
	CHAIN("America/Sao_Paulo", "0 0 0 * * ?", 1541170800000 /* 2018-11-02T12:00:00-03:00 */,
	      1541214000000 /* 2018-11-03T00:00:00-03:00 */,
	      1541383200000 /* 2018-11-05T00:00:00-02:00 */,
	      1541469600000 /* 2018-11-06T00:00:00-02:00 */);
	CHAIN("America/Sao_Paulo", "0 30 0 * * ?", 1541170800000 /* 2018-11-02T12:00:00-03:00 */,
	      1541215800000 /* 2018-11-03T00:30:00-03:00 */,
	      1541385000000 /* 2018-11-05T00:30:00-02:00 */,
	      1541471400000 /* 2018-11-06T00:30:00-02:00 */);
}

/* Samoa skipped 2011-12-30. */
static void test_apia_skipped_day(void **state)
{
	(void)state;
	CHAIN("Pacific/Apia", "0 0 12 * * ?", 1325066400000 /* 2011-12-28T00:00:00-10:00 */,
	      1325109600000 /* 2011-12-28T12:00:00-10:00 */,
	      1325196000000 /* 2011-12-29T12:00:00-10:00 */,
	      1325282400000 /* 2011-12-31T12:00:00+14:00 */);
	CHAIN("Pacific/Apia", "0 0 12 30 12 ?", 1322733600000 /* 2011-12-01T00:00:00-10:00 */,
	      1356818400000 /* 2012-12-30T12:00:00+14:00 */,
	      1388354400000 /* 2013-12-30T12:00:00+14:00 */);
}

/* Quartz's search never ends here: the last weekday of December 2011 was
 * the skipped 30th. jobsd counts a search as endless after
 * CRON_NEXT_MAX_STEPS steps and starts again at the first instant of the
 * next month, so December has no firing; the values after it are what
 * Quartz answers from 2011-12-31T23:59:59+14:00 (1325325599000). */
static void test_apia_lw_skips_the_endless_month(void **state)
{
	(void)state;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHAIN("Pacific/Apia", "0 0 12 LW * ?", 1322733600000 /* 2011-12-01T00:00:00-10:00 */,
	      1327960800000 /* 2012-01-31T12:00:00+14:00 */,
	      1330466400000 /* 2012-02-29T12:00:00+14:00 */,
	      1333058400000 /* 2012-03-30T12:00:00+14:00 */);
	CHAIN("Pacific/Apia", "0 0 0 LW * ?", 1322733600000 /* 2011-12-01T00:00:00-10:00 */,
	      1327917600000 /* 2012-01-31T00:00:00+14:00 */,
	      1330423200000 /* 2012-02-29T00:00:00+14:00 */,
	      1333015200000 /* 2012-03-30T00:00:00+14:00 */);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (s > 2.0)
		fail_msg("skipping took %.2f s", s);
}

/* L-30W: in February (and in 30-day months) the day is before the 1st and
 * Quartz loops; jobsd skips those months. Quartz's own answers: from
 * 2026-01-01 it gives 2026-01-01T12:00Z then never returns; from
 * 2026-02-28T23:59:59Z 2026-03-02T12:00Z then never returns; from
 * 2026-04-30T23:59:59Z 2026-05-01T12:00Z. With February as the only month
 * every search is endless: after CRON_NEXT_MAX_SKIPS months, none. */
static void test_endless_every_month_gives_none(void **state)
{
	(void)state;
	CHAIN("UTC", "0 0 12 L-30W * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767268800000 /* 2026-01-01T12:00:00Z */, 1772452800000 /* 2026-03-02T12:00:00Z */,
	      1777636800000 /* 2026-05-01T12:00:00Z */);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHAIN("UTC", "0 0 12 L-30W 2 ?", 1767225600000 /* 2026-01-01T00:00:00Z */, NONE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (s > 5.0)
		fail_msg("giving up took %.2f s", s);
}

/* Fixed zones, by Java alias and by custom offset. */
static void test_fixed_zones(void **state)
{
	(void)state;
	CHAIN("IST", "0 0 9 * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767238200000 /* 2026-01-01T09:00:00+05:30 */,
	      1767324600000 /* 2026-01-02T09:00:00+05:30 */);
	CHAIN("GMT+05:30", "0 0 9 * * ?", 1767225600000 /* 2026-01-01T00:00:00Z */,
	      1767238200000 /* 2026-01-01T09:00:00+05:30 */,
	      1767324600000 /* 2026-01-02T09:00:00+05:30 */);
}

/* --- preview.c: cron_format_instant ---------------------------------------------------------- */

static void expect_format(const char *id, int64_t ms, const char *want)
{
	char buf[64];
	memset(buf, 'x', sizeof(buf));
	cron_format_instant(zone(id), ms, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("%s %lld: '%s', want '%s'", id, (long long)ms, buf, want);
}

static void test_format_instant(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	expect_format("America/New_York", 1772953200000, "2026-03-08T03:00:00-04:00");
	expect_format("America/New_York", 1772953199000, "2026-03-08T01:59:59-05:00");
	expect_format("America/New_York", 1793514600000, "2026-11-01T01:30:00-05:00");
	expect_format("America/New_York", 1793511000000, "2026-11-01T01:30:00-04:00");
	expect_format("UTC", 1767225600000, "2026-01-01T00:00:00+00:00");
	expect_format("Asia/Kathmandu", 1767225600000, "2026-01-01T05:45:00+05:45");
	expect_format("Pacific/Chatham", 1767225600000, "2026-01-01T13:45:00+13:45");
	expect_format("Pacific/Chatham", 1783000000000, "2026-07-03T02:31:40+12:45");
	expect_format("Asia/Kolkata", 1767225600000, "2026-01-01T05:30:00+05:30");
	expect_format("GMT-03:30", 1767225600000, "2025-12-31T20:30:00-03:30");
	/* Milliseconds are shown when there are some. */
	expect_format("America/New_York", 1772953200123, "2026-03-08T03:00:00.123-04:00");
	expect_format("UTC", 1767225600007, "2026-01-01T00:00:00.007+00:00");
	/* Local mean time has seconds in its offset. */
	expect_format("America/New_York", -5364662400000, "1799-12-31T19:03:58-04:56:02");
	expect_format("Asia/Kolkata", -5364662400000, "1800-01-01T05:53:28+05:53:28");
	/* Before the epoch, with milliseconds. */
	expect_format("UTC", -1, "1969-12-31T23:59:59.999+00:00");
	/* A small buffer is cut, never overrun. */
	char small[12];
	cron_format_instant(zone("UTC"), 1767225600000, small, sizeof(small));
	assert_string_equal(small, "2026-01-01T");
}

/* --- preview.c: cron_parse_instant --------------------------------------------------------- */

static void expect_parse(const char *id, const char *text, int64_t want)
{
	int64_t got = 12345;
	if (cron_parse_instant(text, zone(id), &got) != 0)
		fail_msg("'%s' refused", text);
	if (got != want)
		fail_msg("'%s' in %s: %lld, want %lld", text, id, (long long)got, (long long)want);
}

static void expect_refused(const char *text)
{
	int64_t got = 12345;
	if (cron_parse_instant(text, zone("UTC"), &got) == 0)
		fail_msg("'%s' accepted as %lld", text, (long long)got);
}

static void test_parse_instant(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	const char *ny = "America/New_York";
	/* Z, and offsets in both forms; the zone plays no part then. */
	expect_parse(ny, "2026-03-08T07:00:00Z", 1772953200000);
	expect_parse(ny, "2026-03-08T07:00:00z", 1772953200000);
	expect_parse(ny, "2026-03-08T03:00:00-04:00", 1772953200000);
	expect_parse(ny, "2026-03-08T03:00:00-0400", 1772953200000);
	expect_parse(ny, "2026-03-08T12:45:00+05:45", 1772953200000);
	expect_parse(ny, "2026-03-08T20:45:00+13:45", 1772953200000);
	expect_parse(ny, "2026-03-08T12:30:00+0530", 1772953200000);
	expect_parse("UTC", "2026-03-08 03:00:00-04:00", 1772953200000);
	expect_parse("UTC", "2026-03-08T07:00Z", 1772953200000);
	/* Fractions: milliseconds, more digits cut, a comma as in ISO 8601. */
	expect_parse("UTC", "2026-03-08T07:00:00.5Z", 1772953200500);
	expect_parse("UTC", "2026-03-08T07:00:00.123Z", 1772953200123);
	expect_parse("UTC", "2026-03-08T07:00:00.123999Z", 1772953200123);
	expect_parse("UTC", "2026-03-08T07:00:00,25Z", 1772953200250);
	/* A local time is read in the zone, as GregorianCalendar reads it:
	 * in the spring gap with the offset before (02:30 -> 03:30 EDT), in
	 * the repeated hour the later (EST) instant. */
	expect_parse(ny, "2026-03-08T01:30:00", 1772951400000);
	expect_parse(ny, "2026-03-08T02:30:00", 1772955000000);
	expect_parse(ny, "2026-03-08T03:30:00", 1772955000000);
	expect_parse(ny, "2026-11-01T01:30:00", 1793514600000);
	expect_parse(ny, "2026-11-01T00:30:00", 1793507400000);
	expect_parse("Pacific/Apia", "2011-12-30T12:00:00", 1325282400000);
	expect_parse("IST", "2026-01-01T05:30:00", 1767225600000);
	expect_parse("UTC", "2028-02-29T00:00:00", 1835395200000);
	/* Epoch milliseconds. */
	expect_parse(ny, "1772953200000", 1772953200000);
	expect_parse(ny, "0", 0);
	expect_parse(ny, "999999999999999", 999999999999999);

	static const char *const garbage[] = {
		"",
		"now",
		"yesterday",
		"-1000",
		"1234567890123456", /* 16 digits: not epoch ms, not a date */
		"1772953200000x",
		"2026-03-08",
		"2026-03-08T",
		"2026-03-08T07",
		"2026-3-08T07:00:00Z",
		"2026-03-8T07:00:00Z",
		"26-03-08T07:00:00Z",
		"2026/03/08T07:00:00Z",
		"2026-03-08X07:00:00Z",
		"2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z",
		"2026-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z",
		"2026-03-00T00:00:00Z",
		"2026-03-08T24:00:00Z",
		"2026-03-08T07:60:00Z",
		"2026-03-08T07:00:60Z",
		"2026-03-08T07:00:00.Z",
		"2026-03-08T07:00:00+24:00",
		"2026-03-08T07:00:00+05:60",
		"2026-03-08T07:00:00+5",
		"2026-03-08T07:00:00+05:3",
		"2026-03-08T07:00:00ZZ",
		"2026-03-08T07:00:00Z ",
		" 2026-03-08T07:00:00Z",
		"2026-03-08T07:00:00 Z",
		"2026-03-08T07:00:00-04:00junk",
		"2026-03-08T07:00:00UTC",
	};
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		expect_refused(garbage[i]);
}

/* The formatter's output parses back to the same instant. */
static void test_format_parse_round_trip(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	static const char *const ids[] = {"America/New_York",
					  "Pacific/Chatham",
					  "Asia/Kathmandu",
					  "Australia/Lord_Howe",
					  "UTC",
					  "GMT-03:30"};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		for (int64_t ms = 1767225600000; ms < 1798761600000;
		     ms += 86400000LL * 7 + 3601123) {
			char buf[64];
			int64_t back = 0;
			cron_format_instant(zone(ids[i]), ms, buf, sizeof(buf));
			if (cron_parse_instant(buf, zone(ids[i]), &back) != 0 || back != ms)
				fail_msg("%s: %lld -> '%s' -> %lld", ids[i], (long long)ms, buf,
					 (long long)back);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_wrap_around_ranges),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_dom_last),
		cmocka_unit_test(test_dom_last_minus),
		cmocka_unit_test(test_dom_last_minus_30),
		cmocka_unit_test(test_dom_last_weekday),
		cmocka_unit_test(test_dom_last_minus_weekday),
		cmocka_unit_test(test_dom_nearest_weekday),
		cmocka_unit_test(test_dom_1w_on_saturday),
		cmocka_unit_test(test_dom_31w_in_short_months),
		cmocka_unit_test(test_dow_last),
		cmocka_unit_test(test_dow_nth),
		cmocka_unit_test(test_dow_nth_missing),
		cmocka_unit_test(test_dow_lone_l),
		cmocka_unit_test(test_years),
		cmocka_unit_test(test_leap_day),
		cmocka_unit_test(test_star_year_ends_in_2099),
		cmocka_unit_test(test_no_future_firing),
		cmocka_unit_test(test_after_milliseconds),
		cmocka_unit_test(test_ny_spring_forward_daily),
		cmocka_unit_test(test_ny_fall_back_daily),
		cmocka_unit_test(test_ny_every_30_minutes),
		cmocka_unit_test(test_ny_start_in_repeated_hour),
		cmocka_unit_test(test_lord_howe),
		cmocka_unit_test(test_chatham),
		cmocka_unit_test(test_sao_paulo_midnight_gap),
		cmocka_unit_test(test_apia_skipped_day),
		cmocka_unit_test(test_apia_lw_skips_the_endless_month),
		cmocka_unit_test(test_endless_every_month_gives_none),
		cmocka_unit_test(test_fixed_zones),
		cmocka_unit_test(test_format_instant),
		cmocka_unit_test(test_parse_instant),
		cmocka_unit_test(test_format_parse_round_trip),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
