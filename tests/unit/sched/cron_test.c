/* cron_test.c - unit tests for src/sched/cron.c (Quartz cron parsing).
 *
 * Every syntax element with the bitsets it must produce, every error path
 * with the part of its message that matters, and cron_format() round trips.
 * Expected values were checked against org.quartz.CronExpression 2.3.2
 * where Quartz and jobsd agree (docs/internals/cron.md lists where they
 * do not). Pure, single-threaded, no files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sched/cron.h"

#define B(n) ((uint64_t)1 << (n))
#define ALL_SEC ((uint64_t)0x0fffffffffffffffULL)   /* bits 0..59 */
#define ALL_HOURS 0x00ffffffu                       /* bits 0..23 */
#define ALL_DOM 0xfffffffeu                         /* bits 1..31 */
#define ALL_MONTHS 0x1ffe                           /* bits 1..12 */
#define ALL_DOW 0xfe                                /* bits 1..7 */

static struct cron_expr ok(const char *text)
{
	struct cron_expr e;
	char err[256];

	if (cron_parse(text, &e, err, sizeof(err)) != 0)
		fail_msg("'%s' rejected: %s", text, err);
	return e;
}

static void bad(const char *text, const char *want)
{
	struct cron_expr e;
	char err[256] = "untouched";

	memset(&e, 0xab, sizeof(e));
	if (cron_parse(text, &e, err, sizeof(err)) == 0)
		fail_msg("'%s' accepted, expected an error containing \"%s\"", text, want);
	if (!strstr(err, want))
		fail_msg("'%s': error \"%s\" lacks \"%s\"", text, err, want);
	/* A failed parse leaves the struct zeroed. */
	assert_int_equal(e.seconds, 0);
	assert_int_equal(e.dom_kind, CRON_DOM_NONE);
	assert_int_equal(e.any_year, 0);
}

static uint64_t bits(int lo, int hi, int step)
{
	uint64_t b = 0;
	for (int i = lo; i <= hi; i += step)
		b |= B(i);
	return b;
}

/* --- accepted syntax -------------------------------------------------------- */

static void test_simple_daily(void **state)
{
	(void)state;
	struct cron_expr e = ok("0 15 10 * * ?");

	assert_true(e.seconds == B(0));
	assert_true(e.minutes == B(15));
	assert_true(e.hours == B(10));
	assert_int_equal(e.dom_kind, CRON_DOM_DAYS);
	assert_true(e.days_of_month == ALL_DOM);
	assert_true(e.months == ALL_MONTHS);
	assert_int_equal(e.dow_kind, CRON_DOW_NONE);
	assert_int_equal(e.days_of_week, 0);
	assert_true(e.any_year);
	assert_true(cron_year_allowed(&e, 1970));
	assert_true(cron_year_allowed(&e, 2099));
	assert_false(cron_year_allowed(&e, 1969));
	assert_false(cron_year_allowed(&e, 2100));
}

static void test_star_everywhere(void **state)
{
	(void)state;
	struct cron_expr e = ok("* * * ? * *");

	assert_true(e.seconds == ALL_SEC);
	assert_true(e.minutes == ALL_SEC);
	assert_true(e.hours == ALL_HOURS);
	assert_int_equal(e.dom_kind, CRON_DOM_NONE);
	assert_int_equal(e.dow_kind, CRON_DOW_DAYS);
	assert_true(e.days_of_week == ALL_DOW);
}

static void test_lists_and_ranges(void **state)
{
	(void)state;
	struct cron_expr e = ok("1,2,3 5-10 0,12-14,23 1,15,31 3 ?");

	assert_true(e.seconds == (B(1) | B(2) | B(3)));
	assert_true(e.minutes == bits(5, 10, 1));
	assert_true(e.hours == (B(0) | B(12) | B(13) | B(14) | B(23)));
	assert_true(e.days_of_month == (B(1) | B(15) | B(31)));
	assert_true(e.months == B(3));
	/* Single-value ranges, leading zeros, '*' inside a list. */
	e = ok("5-5 007 23-23 ? *,5 MON");
	assert_true(e.seconds == B(5));
	assert_true(e.minutes == B(7));
	assert_true(e.hours == B(23));
	assert_true(e.months == ALL_MONTHS);
}

static void test_wrap_around_ranges(void **state)
{
	(void)state;
	struct cron_expr e = ok("50-10 58-2 22-2 30-2 NOV-FEB ?");

	assert_true(e.seconds == (bits(50, 59, 1) | bits(0, 10, 1)));
	assert_true(e.minutes == (B(58) | B(59) | B(0) | B(1) | B(2)));
	assert_true(e.hours == (B(22) | B(23) | B(0) | B(1) | B(2)));
	/* Day-of-month wraps through 31 whatever the month's length. */
	assert_true(e.days_of_month == (B(30) | B(31) | B(1) | B(2)));
	assert_true(e.months == (B(11) | B(12) | B(1) | B(2)));

	e = ok("0 0 12 ? 12-1 FRI-MON");
	assert_true(e.months == (B(12) | B(1)));
	assert_true(e.days_of_week == (B(6) | B(7) | B(1) | B(2)));
	e = ok("0 0 12 ? * 7-1");
	assert_true(e.days_of_week == (B(7) | B(1)));
	/* Quartz's own example. */
	e = ok("0 0 14-6 ? * FRI-MON");
	assert_true(e.hours == (bits(14, 23, 1) | bits(0, 6, 1)));
}

static void test_steps(void **state)
{
	(void)state;
	struct cron_expr e = ok("0/15 5/15 */6 1/5 */3 ?");

	assert_true(e.seconds == (B(0) | B(15) | B(30) | B(45)));
	assert_true(e.minutes == (B(5) | B(20) | B(35) | B(50)));
	assert_true(e.hours == (B(0) | B(6) | B(12) | B(18)));
	assert_true(e.days_of_month == (B(1) | B(6) | B(11) | B(16) | B(21) | B(26) | B(31)));
	assert_true(e.months == (B(1) | B(4) | B(7) | B(10)));

	/* '/n' alone starts at the field's minimum. */
	e = ok("/20 /45 /12 /10 /6 ?");
	assert_true(e.seconds == (B(0) | B(20) | B(40)));
	assert_true(e.minutes == (B(0) | B(45)));
	assert_true(e.hours == (B(0) | B(12)));
	assert_true(e.days_of_month == (B(1) | B(11) | B(21) | B(31)));
	assert_true(e.months == (B(1) | B(7)));

	/* No carry: minutes 0/45 is :00 and :45 only. */
	e = ok("0 0/45 * * * ?");
	assert_true(e.minutes == (B(0) | B(45)));

	/* Ranges with steps, wrapped ranges with steps. */
	e = ok("10-30/10 50-10/15 22-2/2 ? 11-2/2 2-6/2");
	assert_true(e.seconds == (B(10) | B(20) | B(30)));
	assert_true(e.minutes == (B(50) | B(5)));
	assert_true(e.hours == (B(22) | B(0) | B(2)));
	assert_true(e.months == (B(11) | B(1)));
	assert_true(e.days_of_week == (B(2) | B(4) | B(6)));

	e = ok("0 0 12 ? * */2");
	assert_true(e.days_of_week == (B(1) | B(3) | B(5) | B(7)));

	/* Largest steps Quartz allows per field; a range's step is not
	 * limited (0-30/60 is just 0). */
	e = ok("*/59 0/59 */23 */31 */12 ?");
	assert_true(e.seconds == (B(0) | B(59)));
	assert_true(e.hours == (B(0) | B(23)));
	assert_true(e.days_of_month == B(1));
	assert_true(e.months == B(1));
	e = ok("0-30/60 0-30/2147483647 0 ? * */7");
	assert_true(e.seconds == B(0));
	assert_true(e.minutes == B(0));
	assert_true(e.days_of_week == (B(1)));
}

static void test_names(void **state)
{
	(void)state;
	struct cron_expr e = ok("0 0 12 ? JAN,mar,Dec sun,Mon,SAT");

	assert_true(e.months == (B(1) | B(3) | B(12)));
	assert_true(e.days_of_week == (B(1) | B(2) | B(7)));

	e = ok("0 0 12 ? jan-MAR MON-fri");
	assert_true(e.months == (B(1) | B(2) | B(3)));
	assert_true(e.days_of_week == bits(2, 6, 1));

	/* Every name maps to its number. */
	static const char *const months[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
					      "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
	static const char *const days[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };
	char text[64];
	for (int i = 0; i < 12; i++) {
		snprintf(text, sizeof(text), "0 0 0 1 %s ?", months[i]);
		e = ok(text);
		assert_true(e.months == B(i + 1));
	}
	for (int i = 0; i < 7; i++) {
		snprintf(text, sizeof(text), "0 0 0 ? * %s", days[i]);
		e = ok(text);
		assert_true(e.days_of_week == B(i + 1));
	}
	/* Names and numbers mix in a list. */
	e = ok("0 0 12 ? JAN,6 MON,7");
	assert_true(e.months == (B(1) | B(6)));
	assert_true(e.days_of_week == (B(2) | B(7)));
}

static void test_day_of_month_specials(void **state)
{
	(void)state;
	struct cron_expr e = ok("0 0 0 L * ?");

	assert_int_equal(e.dom_kind, CRON_DOM_LAST);
	assert_int_equal(e.dom_offset, 0);
	assert_int_equal(e.days_of_month, 0);

	e = ok("0 15 10 L-2 * ?");
	assert_int_equal(e.dom_kind, CRON_DOM_LAST);
	assert_int_equal(e.dom_offset, 2);
	e = ok("0 0 0 L-0 * ?");
	assert_int_equal(e.dom_kind, CRON_DOM_LAST);
	assert_int_equal(e.dom_offset, 0);
	e = ok("0 0 0 L-30 * ?");
	assert_int_equal(e.dom_offset, 30);

	e = ok("0 0 0 LW * ?");
	assert_int_equal(e.dom_kind, CRON_DOM_LAST_WEEKDAY);
	assert_int_equal(e.dom_offset, 0);
	e = ok("0 0 0 L-3W * ?");
	assert_int_equal(e.dom_kind, CRON_DOM_LAST_WEEKDAY);
	assert_int_equal(e.dom_offset, 3);
	e = ok("0 0 0 l-2w * ?");
	assert_int_equal(e.dom_kind, CRON_DOM_LAST_WEEKDAY);
	assert_int_equal(e.dom_offset, 2);

	e = ok("0 0 0 15W * ?");
	assert_int_equal(e.dom_kind, CRON_DOM_NEAREST_WEEKDAY);
	assert_int_equal(e.dom_day, 15);
	assert_int_equal(e.days_of_month, 0);
	e = ok("0 0 0 1w * ?");
	assert_int_equal(e.dom_day, 1);
	e = ok("0 0 0 31W * ?");
	assert_int_equal(e.dom_day, 31);
}

static void test_day_of_week_specials(void **state)
{
	(void)state;
	/* A lone L is 7 (Saturday), an ordinary day. */
	struct cron_expr e = ok("0 0 0 ? * L");

	assert_int_equal(e.dow_kind, CRON_DOW_DAYS);
	assert_true(e.days_of_week == B(7));

	e = ok("0 15 10 ? * 6L 2002-2005");
	assert_int_equal(e.dow_kind, CRON_DOW_LAST);
	assert_int_equal(e.dow_day, 6);
	assert_int_equal(e.days_of_week, 0);
	e = ok("0 0 0 ? * FRIL");
	assert_int_equal(e.dow_kind, CRON_DOW_LAST);
	assert_int_equal(e.dow_day, 6);
	e = ok("0 0 0 ? * sunl");
	assert_int_equal(e.dow_day, 1);
	e = ok("0 0 0 ? * 7L");
	assert_int_equal(e.dow_day, 7);

	e = ok("0 15 10 ? * 6#3");
	assert_int_equal(e.dow_kind, CRON_DOW_NTH);
	assert_int_equal(e.dow_day, 6);
	assert_int_equal(e.dow_nth, 3);
	assert_int_equal(e.days_of_week, 0);
	e = ok("0 0 0 ? * MON#1");
	assert_int_equal(e.dow_day, 2);
	assert_int_equal(e.dow_nth, 1);
	e = ok("0 0 0 ? * 1#5");
	assert_int_equal(e.dow_day, 1);
	assert_int_equal(e.dow_nth, 5);
	e = ok("0 0 0 ? * sat#05");
	assert_int_equal(e.dow_day, 7);
	assert_int_equal(e.dow_nth, 5);
}

static void test_year_field(void **state)
{
	(void)state;
	struct cron_expr e = ok("0 0 12 * * ? 2020");

	assert_false(e.any_year);
	assert_true(cron_year_allowed(&e, 2020));
	assert_false(cron_year_allowed(&e, 2019));
	assert_false(cron_year_allowed(&e, 2021));

	e = ok("0 0 12 * * ? *");
	assert_true(e.any_year);
	for (int y = CRON_YEAR_MIN; y <= CRON_YEAR_MAX; y++)
		assert_true(cron_year_allowed(&e, y));

	e = ok("0 0 12 * * ? 1970-2099");
	assert_false(e.any_year);
	for (int y = CRON_YEAR_MIN; y <= CRON_YEAR_MAX; y++)
		assert_true(cron_year_allowed(&e, y));

	e = ok("0 0 12 * * ? 2020/5");
	for (int y = CRON_YEAR_MIN; y <= CRON_YEAR_MAX; y++)
		assert_int_equal(cron_year_allowed(&e, y), y >= 2020 && (y - 2020) % 5 == 0);

	e = ok("0 0 12 * * ? 2020,2030-2032,2098-2099/1");
	assert_true(cron_year_allowed(&e, 2020));
	assert_true(cron_year_allowed(&e, 2031));
	assert_true(cron_year_allowed(&e, 2099));
	assert_false(cron_year_allowed(&e, 2033));

	/* Word boundaries of the 3 x 64-bit set: 1970+63, +64, +127, +128. */
	e = ok("0 0 12 * * ? 2033,2034,2097,2098");
	assert_true(e.years[0] == B(63));
	assert_true(e.years[1] == (B(0) | B(63)));
	assert_true(e.years[2] == B(0));

	e = ok("0 0 12 * * ? */40");
	assert_true(cron_year_allowed(&e, 1970));
	assert_true(cron_year_allowed(&e, 2010));
	assert_true(cron_year_allowed(&e, 2090));
	assert_false(cron_year_allowed(&e, 2091));
	/* '*' in a list still means "any year". */
	e = ok("0 0 12 * * ? 2020,*");
	assert_true(e.any_year);
}

static void test_whitespace_and_case(void **state)
{
	(void)state;
	struct cron_expr e = ok("  0\t0  12\n* *\r?  ");

	assert_true(e.hours == B(12));
	e = ok("0 0 12 ? * mon-fri");
	assert_true(e.days_of_week == bits(2, 6, 1));
	e = ok("0 0 12 l * ?");
	assert_int_equal(e.dom_kind, CRON_DOM_LAST);
}

static void test_reference_examples(void **state)
{
	(void)state;
	/* jobs-api.md section 7 and the Quartz tutorial. */
	static const char *const examples[] = {
		"0 15 22 * * ?", "0 0/5 14 * * ?", "0 10,44 14 ? 3 WED",
		"0 15 10 ? * MON-FRI", "0 15 10 L-2 * ?", "0 15 10 ? * 6L 2002-2005",
		"0 15 10 ? * 6#3", "0 0 12 1/5 * ?", "20 30 * * * ?",
		"0 0 12 * * ?", "0 15 10 ? * *", "0 15 10 * * ? *", "0 15 10 * * ? 2005",
		"0 * 14 * * ?", "0 0/5 14,18 * * ?", "0 0-5 14 * * ?", "0 15 10 15 * ?",
		"0 15 10 L * ?", "0 15 10 ? * 6L", "0 0 12 ? JAN,FEB MON#1",
		"0 11 11 11 11 ?", "59 59 23 31 12 ? 2099",
	};
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++)
		ok(examples[i]);
}

/* --- errors ----------------------------------------------------------------- */

static void test_errors_structure(void **state)
{
	(void)state;
	bad("", "expression is empty");
	bad("   \t ", "expression is empty");
	bad("0 0 12 * *", "expected 6 or 7 fields, got 5");
	bad("*", "expected 6 or 7 fields, got 1");
	bad("0 0 12 * * ? 2020 x", "expected 6 or 7 fields, got 8");
	bad("0 0 12 * * *", "both day-of-month and day-of-week are specified; one of them must be '?'");
	bad("0 30 2,7,11,15 * * *", "both day-of-month and day-of-week are specified");
	bad("0 0 12 L * MON", "both day-of-month and day-of-week are specified");
	bad("0 0 12 15W * 6#3", "both day-of-month and day-of-week are specified");
	bad("0 0 12 ? * ?", "both '?'");

	struct cron_expr e;
	char err[64];
	assert_int_equal(cron_parse(NULL, &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no expression"));
}

static void test_errors_values(void **state)
{
	(void)state;
	bad("60 0 12 * * ?", "seconds field '60': value 60 out of range 0-59");
	bad("0 60 12 * * ?", "minutes field '60': value 60 out of range 0-59");
	bad("0 0 24 * * ?", "hours field '24': value 24 out of range 0-23");
	bad("0 0 12 32 * ?", "day-of-month field '32': value 32 out of range 1-31");
	bad("0 0 12 0 * ?", "day-of-month field '0': value 0 out of range 1-31");
	bad("0 0 12 ? 13 MON", "month field '13': value 13 out of range 1-12");
	bad("0 0 12 ? 0 MON", "value 0 out of range 1-12");
	bad("0 0 12 ? * 0", "day-of-week field '0': value 0 out of range 1-7");
	bad("0 0 12 ? * 8", "value 8 out of range 1-7");
	bad("0 0 12 * * ? 1969", "year field '1969': value 1969 out of range 1970-2099");
	bad("0 0 12 * * ? 2100", "value 2100 out of range 1970-2099");
	bad("0 0 12 * * ? 20", "value 20 out of range 1970-2099");
	bad("0 0 99999999999 * * ?", "value 99999999999 out of range 0-23");
	/* Quartz's internal markers (99 = '*', 98 = '?') are just numbers. */
	bad("0 99 12 * * ?", "value 99 out of range 0-59");
	bad("0 0 12 98 * ?", "value 98 out of range 1-31");
	/* Range ends are checked too, including 0 as the end of 1-based ranges. */
	bad("0 0 0-59 * * ?", "value 59 out of range 0-23");
	bad("0 0 12 ? 3-0 MON", "value 0 out of range 1-12");
	bad("0 0 12 ? * 4-0", "value 0 out of range 1-7");
	bad("0 0 12 20-0 * ?", "value 0 out of range 1-31");
	bad("0 0 12 * * ? 2030-2020", "range 2030-2020 runs backwards");
}

static void test_errors_steps(void **state)
{
	(void)state;
	bad("*/60 0 12 * * ?", "seconds field '*/60': step 60 out of range 1-59");
	bad("0 5/60 12 * * ?", "step 60 out of range 1-59");
	bad("0 0 */24 * * ?", "step 24 out of range 1-23");
	bad("0 0 12 */32 * ?", "step 32 out of range 1-31");
	bad("0 0 12 ? /13 MON", "step 13 out of range 1-12");
	bad("0 0 12 ? * */8", "step 8 out of range 1-7");
	bad("*/0 0 12 * * ?", "step 0: a step must be at least 1");
	bad("5/0 0 12 * * ?", "a step must be at least 1");
	bad("0-30/0 0 12 * * ?", "a step must be at least 1");
	bad("0 0 0-5/2147483648 * * ?", "step 2147483648 is too large");
	bad("0 0 / * * ?", "'/' must be followed by a number");
	bad("0 0 */ * * ?", "'/' must be followed by a number");
	bad("0 0 1-5/ * * ?", "'/' must be followed by a number");
	bad("*/-5 0 12 * * ?", "'/' must be followed by a number");
	bad("*/+5 0 12 * * ?", "'/' must be followed by a number");
	bad("0 0 12 ? MON-FRI/2 MON", "unknown month name 'MON'");
	bad("0 0 12 ? * MON-FRI/2", "a step cannot follow a day name");
	bad("0 0 12 ? * MON/2", "a step cannot follow a day name");
	bad("0 0 12 ? JAN/3 *", "a step cannot follow a month name");
	bad("0 0 12 ? JAN-DEC/3 ?", "a step cannot follow a month name");
}

static void test_errors_syntax(void **state)
{
	(void)state;
	bad("0 0 12X * * ?", "hours field '12X': unexpected character 'X'");
	bad("0 0 ** * * ?", "unexpected character '*'");
	bad("0 0 *X * * ?", "unexpected character 'X'");
	bad("0 0 12-14X * * ?", "unexpected character 'X'");
	bad("0 0 5/10X * * ?", "unexpected character 'X'");
	bad("0 0 1-2-3 * * ?", "unexpected character '-'");
	bad("0 0 -5 * * ?", "unexpected character '-'");
	bad("0 0 +5 * * ?", "unexpected character '+'");
	bad("0 0 % * * ?", "unexpected character '%'");
	bad("0 0 1- * * ?", "a value is missing");
	bad("0 0 1,,2 * * ?", "empty element in list");
	bad("0 0 ,1 * * ?", "empty element in list");
	bad("0 0 1, * * ?", "empty element in list");
	bad("0 0 ABC * * ?", "unexpected 'ABC'");
	bad("0 0 12 \xc3\xa9 * ?", "unexpected byte 0xc3");
	bad("0 0 12 ? JNA MON", "unknown month name 'JNA'");
	bad("0 0 12 ? JANUARY MON", "unknown month name 'JANUARY'");
	bad("0 0 12 ? JA MON", "unknown month name 'JA'");
	bad("0 0 12 ? * MONDAY", "unknown day name 'MONDAY'");
	bad("0 0 12 ? * TUL", "unknown day name 'TUL'");
	bad("0 0 12 ? * MON-5", "a range needs two numbers or two names");
	bad("0 0 12 ? * 2-FRI", "a range needs two numbers or two names");
	bad("0 0 12 JAN * ?", "unexpected 'JAN' (names are only allowed in month and day-of-week)");
}

static void test_errors_question_mark(void **state)
{
	(void)state;
	bad("? 0 12 * * ?", "'?' is only allowed in day-of-month or day-of-week");
	bad("0 ? 12 * * ?", "'?' is only allowed in day-of-month or day-of-week");
	bad("0 0 ? * * ?", "hours field '?': '?' is only allowed in day-of-month or day-of-week");
	bad("0 0 12 ? ? MON", "month field '?'");
	bad("0 0 12 * * ? ?", "year field '?'");
	bad("0 0 5? * * ?", "'?' is only allowed in day-of-month or day-of-week");
	bad("0 0 12 ?? * MON", "'?' must be the whole field");
	bad("0 0 12 ?x * MON", "'?' must be the whole field");
	bad("0 0 12 ?,5 * ?", "'?' must be the whole field");
	bad("0 0 12 ? * ?,2", "'?' must be the whole field");
}

static void test_errors_l_w_hash(void **state)
{
	(void)state;
	/* L */
	bad("L 0 12 * * ?", "'L' is only allowed in day-of-month or day-of-week");
	bad("0 0 12 ? L MON", "month field 'L': 'L' is only allowed in day-of-month or day-of-week");
	bad("0 0 LW * * ?", "'L' is only allowed in day-of-month or day-of-week");
	bad("0 0 12 * * ? L", "year field 'L'");
	bad("0 0 12 L,5 * ?", "'L' cannot be combined with other days in a list");
	bad("0 0 12 5,L * ?", "'L' cannot be combined with other days in a list");
	bad("0 0 12 L-5,3 * ?", "'L' cannot be combined");
	bad("0 0 12 LW,1 * ?", "'L' cannot be combined");
	bad("0 0 12 5L * ?", "'L' must be one of L, L-n, LW, L-nW");
	bad("0 0 12 1-L * ?", "'L' must be one of L, L-n, LW, L-nW");
	bad("0 0 12 LX * ?", "'L' must be one of L, L-n, LW, L-nW");
	bad("0 0 12 L3 * ?", "'L' must be one of");
	bad("0 0 12 L-3-2 * ?", "'L' must be one of");
	bad("0 0 12 LWX * ?", "'L' must be one of");
	bad("0 0 12 L- * ?", "'L-' must be followed by a number of days 0-30");
	bad("0 0 12 L-W * ?", "'L-' must be followed by a number");
	bad("0 0 12 L-31 * ?", "offset 31 from the last day out of range 0-30");
	bad("0 0 12 L-99999999999 * ?", "out of range 0-30");
	bad("0 0 12 ? * 6L,2", "'L' cannot be combined with other days in a list");
	bad("0 0 12 ? * L,2", "'L' cannot be combined");
	bad("0 0 12 ? * 2-6L", "'L' must be L alone or dL");
	bad("0 0 12 ? * 6L-7", "'L' must be L alone or dL");
	bad("0 0 12 ? * L-3", "'L' must be L alone or dL");
	bad("0 0 12 ? * 0L", "value 0 out of range 1-7");
	bad("0 0 12 ? * 8L", "value 8 out of range 1-7");
	bad("0 0 12 ? * LW", "unknown day name 'LW'");
	/* W */
	bad("0 0 12 W * ?", "'W' needs a single day of month (1W..31W)");
	bad("0 0 12 0W * ?", "'W' needs a single day of month (1W..31W)");
	bad("0 0 12 32W * ?", "'W' needs a single day of month");
	bad("0 0 12 1-15W * ?", "'W' needs a single day of month");
	bad("0 0 12 15W,20 * ?", "'W' needs a single day of month");
	bad("0 0 12 1W,15W * ?", "'W' needs a single day of month");
	bad("0 0 12 W15 * ?", "'W' needs a single day of month");
	bad("0 0 12 15WW * ?", "'W' needs a single day of month");
	bad("0 0 5W * * ?", "'W' is only allowed in day-of-month");
	bad("0 0 12 ? * 5W", "'W' is only allowed in day-of-month");
	/* # */
	bad("0 0 1#2 * * ?", "'#' is only allowed in day-of-week");
	bad("0 0 12 5#2 * ?", "'#' is only allowed in day-of-week");
	bad("0 0 12 ? * 6#3,2", "'#' cannot be combined with other days in a list");
	bad("0 0 12 ? * 2,6#3", "'#' cannot be combined");
	bad("0 0 12 ? * 6#3#2", "only one '#' term is allowed");
	bad("0 0 12 ? * 6#", "'#' must be followed by a number 1-5");
	bad("0 0 12 ? * 6#0", "'#' must be followed by a number 1-5");
	bad("0 0 12 ? * 6#6", "'#' must be followed by a number 1-5");
	bad("0 0 12 ? * 6#3L", "'#' must be followed by a number 1-5");
	bad("0 0 12 ? * #3", "'#' needs a single day of week before it");
	bad("0 0 12 ? * 2-6#2", "'#' needs a single day of week before it");
	bad("0 0 12 ? * 8#1", "value 8 out of range 1-7");
	bad("0 0 12 ? * 0#1", "value 0 out of range 1-7");
}

static void test_error_quoting_and_limits(void **state)
{
	(void)state;
	struct cron_expr e;
	char err[256];

	/* Control bytes and quotes in a field are escaped in the message. */
	assert_int_equal(cron_parse("0 0 1\x01' * * ?", &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'1\\x01\\x27'"));

	/* A long field is cut in the message. */
	char text[CRON_MAX_LEN + 2];
	memset(text, '1', 100);
	memcpy(text + 100, " 0 0 * * ?", 11);
	assert_int_equal(cron_parse(text, &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "1111...'"));

	/* Length limit: CRON_MAX_LEN bytes pass, one more does not. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "0 0 12 * * ?", 12);
	text[CRON_MAX_LEN] = '\0';
	assert_int_equal(cron_parse(text, &e, err, sizeof(err)), 0);
	text[CRON_MAX_LEN] = ' ';
	text[CRON_MAX_LEN + 1] = '\0';
	assert_int_equal(cron_parse(text, &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 2048 bytes"));

	/* err may be absent or tiny; it stays NUL-terminated. */
	assert_int_equal(cron_parse("0 0 24 * * ?", &e, NULL, 0), -1);
	char tiny[8];
	assert_int_equal(cron_parse("0 0 24 * * ?", &e, tiny, sizeof(tiny)), -1);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_int_equal(cron_parse("0 0 12 * * ?", &e, tiny, sizeof(tiny)), 0);
	assert_string_equal(tiny, "");
}

/* --- cron_format -------------------------------------------------------------- */

static void format_is(const char *in, const char *want)
{
	struct cron_expr e = ok(in), again;
	char buf[CRON_FORMAT_MAX], err[256];

	assert_int_equal(cron_format(&e, buf, sizeof(buf)), 0);
	if (strcmp(buf, want) != 0)
		fail_msg("format of '%s' is '%s', want '%s'", in, buf, want);
	assert_int_equal(cron_parse(buf, &again, err, sizeof(err)), 0);
	assert_memory_equal(&e, &again, sizeof(e));
}

static void test_format(void **state)
{
	(void)state;
	format_is("0 15 10 * * ?", "0 15 10 * * ?");
	format_is("0 15 10 ? * MON-FRI", "0 15 10 ? * 2-6");
	format_is("0/15 22-2 0-23 L-3W NOV-FEB ?", "0,15,30,45 0-2,22-59 * L-3W 1,2,11,12 ?");
	format_is("0 0 0 LW * ?", "0 0 0 LW * ?");
	format_is("0 0 0 L * ?", "0 0 0 L * ?");
	format_is("0 0 0 L-2 * ?", "0 0 0 L-2 * ?");
	format_is("0 0 0 15W * ?", "0 0 0 15W * ?");
	format_is("0 0 0 ? * FRIL", "0 0 0 ? * 6L");
	format_is("0 0 0 ? * L", "0 0 0 ? * 7");
	format_is("0 0 0 ? * 6#3 2020-2030/5,2099", "0 0 0 ? * 6#3 2020,2025,2030,2099");
	format_is("0 0 0 ? * 1-7 1970-2099", "0 0 0 ? * * 1970-2099");
	format_is("0 0 0 1,2 * ? *", "0 0 0 1,2 * ?");

	/* Worst case for length: every other value everywhere, every year. */
	struct cron_expr e = ok("*/2 */2 */2 */2 */2 ? */2");
	char buf[CRON_FORMAT_MAX];
	assert_int_equal(cron_format(&e, buf, sizeof(buf)), 0);
	/* Too small a buffer fails but stays a string. */
	assert_int_equal(cron_format(&e, buf, 20), -1);
	assert_true(strlen(buf) < 20);

	/* A struct that breaks the invariants is refused. */
	struct cron_expr z;
	memset(&z, 0, sizeof(z));
	assert_int_equal(cron_format(&z, buf, sizeof(buf)), -1);
	z = ok("0 0 12 * * ?");
	z.dow_kind = CRON_DOW_DAYS;
	z.days_of_week = 2;
	assert_int_equal(cron_format(&z, buf, sizeof(buf)), -1);
}

static void test_format_bound(void **state)
{
	(void)state;
	/* The densest non-collapsing pattern (two on, one off) in every field
	 * must still fit CRON_FORMAT_MAX. */
	struct cron_expr e = ok("0/3,1/3 0/3,1/3 0/3,1/3 1/3,2/3 1/3,2/3 ? 1970/3,1971/3");
	char buf[CRON_FORMAT_MAX];
	assert_int_equal(cron_format(&e, buf, sizeof(buf)), 0);
	assert_true(strlen(buf) < CRON_FORMAT_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_daily),
		cmocka_unit_test(test_star_everywhere),
		cmocka_unit_test(test_lists_and_ranges),
		cmocka_unit_test(test_wrap_around_ranges),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_day_of_month_specials),
		cmocka_unit_test(test_day_of_week_specials),
		cmocka_unit_test(test_year_field),
		cmocka_unit_test(test_whitespace_and_case),
		cmocka_unit_test(test_reference_examples),
		cmocka_unit_test(test_errors_structure),
		cmocka_unit_test(test_errors_values),
		cmocka_unit_test(test_errors_steps),
		cmocka_unit_test(test_errors_syntax),
		cmocka_unit_test(test_errors_question_mark),
		cmocka_unit_test(test_errors_l_w_hash),
		cmocka_unit_test(test_error_quoting_and_limits),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
