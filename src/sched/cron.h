/* cron.h - Quartz 2.3 cron expressions: the parsed form and its parser.
 *
 * A Quartz expression (schedule.quartz_cron_expression) has 6 or 7 fields
 * separated by white space:
 *
 *     seconds minutes hours day-of-month month day-of-week [year]
 *
 * cron_parse() checks the text and turns it into a struct cron_expr: one
 * bitset per field, plus the day forms whose day depends on the month and so
 * cannot be a bitset (L, L-n, nW, LW, L-nW in day-of-month; dL and d#n in
 * day-of-week). The next-fire-time code works from the struct alone; the text
 * is not kept. docs/internals/cron.md describes the accepted syntax and every
 * place where we are stricter than Quartz.
 *
 * Invariants of a struct filled by a successful cron_parse():
 *   - bitsets hold only in-range values, and every bitset in use is non-empty;
 *   - exactly one of dom_kind and dow_kind is the '?' kind (CRON_DOM_NONE or
 *     CRON_DOW_NONE), as Quartz requires;
 *   - days_of_month != 0 exactly when dom_kind == CRON_DOM_DAYS, and
 *     days_of_week != 0 exactly when dow_kind == CRON_DOW_DAYS;
 *   - any_year implies that every year bit 1970..2099 is set.
 *
 * Threads: pure functions over caller-owned memory, no globals, no
 * allocation: callable from any thread.
 */
#ifndef JOBSD_SCHED_CRON_H
#define JOBSD_SCHED_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest expression text accepted, in bytes. Every field written out as an
 * explicit list of all its values (0,1,...,59 for seconds, every year
 * 1970..2099) takes about 1,180 bytes, so the limit never refuses a
 * meaningful expression; it only bounds the work a client can ask for. */
#define CRON_MAX_LEN 2048

/* The year field's range (Quartz documents 1970-2099). */
#define CRON_YEAR_MIN	1970
#define CRON_YEAR_MAX	2099
#define CRON_YEAR_WORDS 3 /* 130 years in 64-bit words */

/* A buffer of this size always holds cron_format()'s output and its NUL:
 * every field listed value by value is at most 1,176 bytes (see above), and
 * cron_format() only ever writes less. It is below CRON_MAX_LEN, so the
 * output always parses again. */
#define CRON_FORMAT_MAX 1200

enum cron_dom_kind {
	CRON_DOM_NONE = 0,	  /* '?': day-of-week decides the day */
	CRON_DOM_DAYS,		  /* the days_of_month bitset */
	CRON_DOM_LAST,		  /* L, L-n: the month's last day minus dom_offset */
	CRON_DOM_LAST_WEEKDAY,	  /* LW, L-nW: the weekday nearest that day */
	CRON_DOM_NEAREST_WEEKDAY, /* nW: the weekday nearest day dom_day,
				   * never leaving the month */
};

enum cron_dow_kind {
	CRON_DOW_NONE = 0, /* '?': day-of-month decides the day */
	CRON_DOW_DAYS,	   /* the days_of_week bitset (a lone 'L' is 7 = SAT) */
	CRON_DOW_LAST,	   /* dL: the last weekday dow_day of the month */
	CRON_DOW_NTH,	   /* d#n: the dow_nth-th weekday dow_day of the month;
			    * a month without one does not fire */
};

struct cron_expr {
	uint64_t seconds;		 /* bit s: second s, 0..59 */
	uint64_t minutes;		 /* bit m: minute m, 0..59 */
	uint64_t years[CRON_YEAR_WORDS]; /* bit (y - 1970): year y, 1970..2099 */
	uint32_t hours;			 /* bit h: hour h, 0..23 */
	uint32_t days_of_month;		 /* bit d: day d, 1..31 (CRON_DOM_DAYS only) */
	enum cron_dom_kind dom_kind;
	enum cron_dow_kind dow_kind;
	uint16_t months;      /* bit m: month m, 1..12 (1 = JAN) */
	uint8_t days_of_week; /* bit d: weekday d, 1..7 (1 = SUN; CRON_DOW_DAYS only) */
	uint8_t dom_day;      /* CRON_DOM_NEAREST_WEEKDAY: 1..31 */
	uint8_t dom_offset;   /* CRON_DOM_LAST, CRON_DOM_LAST_WEEKDAY: 0..30 */
	uint8_t dow_day;      /* CRON_DOW_LAST, CRON_DOW_NTH: 1..7 (1 = SUN) */
	uint8_t dow_nth;      /* CRON_DOW_NTH: 1..5 */
	bool any_year;	      /* year omitted or '*': no year restriction */
};

/* Ordered so that there is no padding: memcmp() compares two parsed
 * expressions, and a struct copied whole carries no stray bytes. */
_Static_assert(sizeof(struct cron_expr) == 64, "struct cron_expr has padding");

/* Parses the NUL-terminated Quartz expression text into *out.
 * Returns 0, or -1 when the text is not a valid expression: *out is then
 * zeroed and err (if errlen > 0) holds a one-line message for people that
 * names the field and the problem, e.g.
 *   "day-of-month field '32': value 32 out of range 1-31"
 *   "expected 6 or 7 fields, got 5"
 * err is always NUL-terminated when errlen > 0; a long message is cut. */
int cron_parse(const char *text, struct cron_expr *out, char *err, size_t errlen);

/* Writes e back as canonical Quartz text into buf (n bytes, NUL included):
 * sorted lists with runs as ranges, '*' for full fields, no year field when
 * any_year. cron_parse() of the result gives back the same struct.
 * Returns 0, or -1 if e breaks the invariants above or n is too small (buf
 * then holds a cut, NUL-terminated prefix when n > 0). CRON_FORMAT_MAX is
 * always enough. */
int cron_format(const struct cron_expr *e, char *buf, size_t n);

/* True if year y is allowed by e (false outside 1970..2099). */
static inline bool cron_year_allowed(const struct cron_expr *e, int y)
{
	if (y < CRON_YEAR_MIN || y > CRON_YEAR_MAX)
		return false;
	unsigned i = (unsigned)(y - CRON_YEAR_MIN);
	return (e->years[i / 64] >> (i % 64)) & 1;
}

#endif
