/* cron_next.c - Quartz 2.3.2's next-fire-time search (see cron_next.h).
 *
 * Method: Quartz's CronExpression.getTimeAfter() walks a
 * java.util.GregorianCalendar forward field by field: it reads a field,
 * finds the next allowed value, writes fields back (sometimes out of range,
 * like minute 60 or day 0, which the lenient calendar carries) and starts
 * over until every field agrees. Its answers around daylight-saving changes,
 * short months and the L/W/# forms come from exactly when the calendar
 * re-resolves its fields into an instant. So we do not compute fire times
 * "correctly" and hope they agree: struct jcal models the calendar (lenient
 * fields, resolved on the next read, wall times resolved by
 * tzif_offset_for_wall()) and the search below takes the same steps. The
 * differential test against Quartz itself (tests/quartz) keeps it honest.
 *
 * Threads: pure; any thread.
 */
#include "sched/cron_next.h"

#include <stdbool.h>

#include "sched/tzif.h"
#include "util/civil.h"

/* --- a model of java.util.GregorianCalendar (lenient, whole seconds) ---------- */

enum { F_YEAR, F_MONTH, F_DAY, F_HOUR, F_MIN, F_SEC, F_N };

struct jcal {
	const struct tzif *z;
	int64_t f[F_N]; /* YEAR, MONTH (0-based, as Java), DAY_OF_MONTH, HOUR_OF_DAY, MINUTE, SECOND */
	int64_t t;	/* the instant (seconds) the fields resolve to */
	int dow;	/* DAY_OF_WEEK of t: 1 = Sunday .. 7 = Saturday */
	bool dirty;	/* fields were set since t was computed */
};

/* computeFields(): the fields of instant t in the zone. */
static void jc_set_time(struct jcal *c, int64_t t)
{
	int64_t local = t + tzif_offset_at(c->z, t);
	int64_t days = civil_floor_div(local, 86400), sod = local - days * 86400;
	int month, day;

	civil_date(days, &c->f[F_YEAR], &month, &day);
	c->f[F_MONTH] = month - 1;
	c->f[F_DAY] = day;
	c->f[F_HOUR] = sod / 3600;
	c->f[F_MIN] = sod / 60 % 60;
	c->f[F_SEC] = sod % 60;
	c->dow = civil_weekday(days) + 1;
	c->t = t;
	c->dirty = false;
}

/* complete(): after a set(), the fields are read as a (possibly out of
 * range) wall time, turned into an instant the way Java does, and every
 * field is computed again from that instant. */
static void jc_complete(struct jcal *c)
{
	if (!c->dirty)
		return;
	int64_t carry = civil_floor_div(c->f[F_MONTH], 12);
	int64_t local = (civil_days(c->f[F_YEAR] + carry, (int)(c->f[F_MONTH] - carry * 12) + 1, 1) +
			 c->f[F_DAY] - 1) * 86400 +
			c->f[F_HOUR] * 3600 + c->f[F_MIN] * 60 + c->f[F_SEC];
	jc_set_time(c, local - tzif_offset_for_wall(c->z, local));
}

static int64_t jc_get(struct jcal *c, int field)
{
	jc_complete(c);
	return c->f[field];
}

static int jc_dow(struct jcal *c)
{
	jc_complete(c);
	return c->dow;
}

static void jc_set(struct jcal *c, int field, int64_t v)
{
	c->f[field] = v;
	c->dirty = true;
}

/* Quartz's setCalendarHour(): an hour that the day does not have (a
 * spring-forward gap) is replaced by the next one. */
static void jc_set_hour(struct jcal *c, int64_t hour)
{
	jc_set(c, F_HOUR, hour);
	if (jc_get(c, F_HOUR) != hour && hour != 24)
		jc_set(c, F_HOUR, hour + 1);
}

/* The start of the day: the reset Quartz writes before moving to a day. */
static void jc_set_day(struct jcal *c, int64_t day, int64_t month0)
{
	jc_set(c, F_SEC, 0);
	jc_set(c, F_MIN, 0);
	jc_set(c, F_HOUR, 0);
	jc_set(c, F_DAY, day);
	jc_set(c, F_MONTH, month0);
}

/* Calendar.add(YEAR, 1): then a day past the month's end is pinned to it. */
static void jc_add_year(struct jcal *c)
{
	jc_complete(c);
	jc_set(c, F_YEAR, c->f[F_YEAR] + 1);
	int len = civil_month_days(c->f[F_YEAR], (int)c->f[F_MONTH] + 1);
	if (c->f[F_DAY] > len)
		jc_set(c, F_DAY, len);
}

/* --- the sets of a parsed expression --------------------------------------------- */

/* Lowest bit >= from, or -1 (Java's tailSet(from).first()). */
static int next_bit(uint64_t set, int64_t from)
{
	if (from < 0)
		from = 0;
	if (from > 63)
		return -1;
	uint64_t rest = set & (~(uint64_t)0 << from);
	return rest ? __builtin_ctzll(rest) : -1;
}

static int first_bit(uint64_t set) { return next_bit(set, 0); }

static int64_t next_year(const struct cron_expr *e, int64_t from)
{
	for (int64_t y = from < CRON_YEAR_MIN ? CRON_YEAR_MIN : from; y <= CRON_YEAR_MAX; y++)
		if (cron_year_allowed(e, (int)y))
			return y;
	return -1;
}

static int month_days(int64_t month, int64_t year) { return civil_month_days(year, (int)month); }

/* --- the day-of-month rules -------------------------------------------------------- */

struct search {
	const struct cron_expr *e;
	struct jcal cl;
	int64_t after_ms; /* Quartz's afterTime: the start plus one second */
	int64_t sec, min, hr;
};

/* The weekday nearest `day` (nW, LW, L-nW) as Quartz computes it, on a
 * second calendar; *late is set when that day at the current time of day
 * is already before the start, so the month cannot fire any more. */
static int64_t nearest_weekday(struct search *s, int64_t day, int64_t mon, bool *late)
{
	struct jcal tcal = {.z = s->cl.z};
	int64_t year = jc_get(&s->cl, F_YEAR);
	int ldom = month_days(mon, year);

	jc_set(&tcal, F_SEC, 0);
	jc_set(&tcal, F_MIN, 0);
	jc_set(&tcal, F_HOUR, 0);
	jc_set(&tcal, F_DAY, day);
	jc_set(&tcal, F_MONTH, mon - 1);
	jc_set(&tcal, F_YEAR, year);
	int dow = jc_dow(&tcal);
	if (dow == 7 && day == 1)
		day += 2;
	else if (dow == 7)
		day -= 1;
	else if (dow == 1 && day == ldom)
		day -= 2;
	else if (dow == 1)
		day += 1;
	jc_set(&tcal, F_SEC, s->sec);
	jc_set(&tcal, F_MIN, s->min);
	jc_set(&tcal, F_HOUR, s->hr);
	jc_set(&tcal, F_DAY, day);
	jc_set(&tcal, F_MONTH, mon - 1);
	jc_complete(&tcal);
	*late = tcal.t * 1000 < s->after_ms;
	return day;
}

/* Day-of-month is specified. Returns true if the search must start over
 * (the calendar was moved). */
static bool by_day_of_month(struct search *s, int64_t day, int64_t mon)
{
	const struct cron_expr *e = s->e;
	int64_t t = -1, tmon = mon;
	bool late;

	switch (e->dom_kind) {
	case CRON_DOM_LAST:
		t = day;
		day = month_days(mon, jc_get(&s->cl, F_YEAR)) - e->dom_offset;
		if (t > day) {
			mon++;
			if (mon > 12) {
				mon = 1;
				tmon = -1; /* always "moved" */
				jc_add_year(&s->cl);
			}
			day = 1;
		}
		break;
	case CRON_DOM_LAST_WEEKDAY:
		t = day;
		day = month_days(mon, jc_get(&s->cl, F_YEAR)) - e->dom_offset;
		day = nearest_weekday(s, day, mon, &late);
		if (late) {
			day = 1;
			mon++;
		}
		break;
	case CRON_DOM_NEAREST_WEEKDAY:
		t = day;
		day = nearest_weekday(s, e->dom_day, mon, &late);
		if (late) {
			day = e->dom_day;
			mon++;
		}
		break;
	default: {
		int next = next_bit(e->days_of_month, day);
		if (next >= 0) {
			t = day;
			day = next;
			if (day > month_days(mon, jc_get(&s->cl, F_YEAR))) {
				day = first_bit(e->days_of_month);
				mon++;
			}
		} else {
			day = first_bit(e->days_of_month);
			mon++;
		}
	}
	}
	if (day == t && mon == tmon)
		return false;
	jc_set_day(&s->cl, day, mon - 1);
	return true;
}

/* --- the day-of-week rules ----------------------------------------------------------- */

static int64_t days_to(int cur, int want)
{
	return cur < want ? want - cur : cur > want ? want + 7 - cur : 0;
}

/* Day-of-week is specified. Returns true if the search must start over. */
static bool by_day_of_week(struct search *s, int64_t day, int64_t mon)
{
	const struct cron_expr *e = s->e;
	int cdow = jc_dow(&s->cl);
	int64_t last = month_days(mon, jc_get(&s->cl, F_YEAR));

	if (e->dow_kind == CRON_DOW_LAST) {
		int64_t add = days_to(cdow, e->dow_day);
		if (day + add > last) {
			jc_set_day(&s->cl, 1, mon);
			return true;
		}
		while (day + add + 7 <= last)
			add += 7;
		if (add > 0) {
			jc_set_day(&s->cl, day + add, mon - 1);
			return true;
		}
		return false;
	}
	if (e->dow_kind == CRON_DOW_NTH) {
		int64_t add = days_to(cdow, e->dow_day);
		bool shifted = add > 0;
		day += add;
		int64_t week = day / 7 + (day % 7 > 0);
		add = (e->dow_nth - week) * 7;
		day += add;
		if (add < 0 || day > last) {
			jc_set_day(&s->cl, 1, mon);
			return true;
		}
		if (add > 0 || shifted) {
			jc_set_day(&s->cl, day, mon - 1);
			return true;
		}
		return false;
	}
	int want = next_bit(e->days_of_week, cdow);
	if (want < 0)
		want = first_bit(e->days_of_week);
	int64_t add = days_to(cdow, want);
	if (day + add > last) {
		jc_set_day(&s->cl, 1, mon);
		return true;
	}
	if (add > 0) {
		jc_set_day(&s->cl, day + add, mon - 1);
		return true;
	}
	return false;
}

/* --- the search ------------------------------------------------------------------------ */

/* One round of Quartz's loop. 1: start over; 0: the calendar holds the
 * answer; -1: no answer. */
static int step(struct search *s)
{
	const struct cron_expr *e = s->e;
	struct jcal *cl = &s->cl;
	int64_t t;

	if (jc_get(cl, F_YEAR) > CRON_YEAR_MAX)
		return -1;

	/* Seconds: the next allowed one, else the first in the next minute. */
	s->sec = jc_get(cl, F_SEC);
	s->min = jc_get(cl, F_MIN);
	int next = next_bit(e->seconds, s->sec);
	if (next >= 0) {
		s->sec = next;
	} else {
		s->sec = first_bit(e->seconds);
		jc_set(cl, F_MIN, ++s->min);
	}
	jc_set(cl, F_SEC, s->sec);

	/* Minutes. */
	s->min = jc_get(cl, F_MIN);
	s->hr = jc_get(cl, F_HOUR);
	t = -1;
	next = next_bit(e->minutes, s->min);
	if (next >= 0) {
		t = s->min;
		s->min = next;
	} else {
		s->min = first_bit(e->minutes);
		s->hr++;
	}
	if (s->min != t) {
		jc_set(cl, F_SEC, 0);
		jc_set(cl, F_MIN, s->min);
		jc_set_hour(cl, s->hr);
		return 1;
	}
	jc_set(cl, F_MIN, s->min);

	/* Hours. */
	s->hr = jc_get(cl, F_HOUR);
	int64_t day = jc_get(cl, F_DAY);
	t = -1;
	next = next_bit(e->hours, s->hr);
	if (next >= 0) {
		t = s->hr;
		s->hr = next;
	} else {
		s->hr = first_bit(e->hours);
		day++;
	}
	if (s->hr != t) {
		jc_set(cl, F_SEC, 0);
		jc_set(cl, F_MIN, 0);
		jc_set(cl, F_DAY, day);
		jc_set_hour(cl, s->hr);
		return 1;
	}
	jc_set(cl, F_HOUR, s->hr);

	/* Day: exactly one of the two day fields is specified. */
	day = jc_get(cl, F_DAY);
	int64_t mon = jc_get(cl, F_MONTH) + 1;
	if (e->dom_kind != CRON_DOM_NONE ? by_day_of_month(s, day, mon)
					 : by_day_of_week(s, day, mon))
		return 1;
	jc_set(cl, F_DAY, day);

	/* Month. */
	mon = jc_get(cl, F_MONTH) + 1;
	int64_t year = jc_get(cl, F_YEAR);
	if (year > CRON_YEAR_MAX)
		return -1;
	t = -1;
	next = next_bit(e->months, mon);
	if (next >= 0) {
		t = mon;
		mon = next;
	} else {
		mon = first_bit(e->months);
		year++;
	}
	if (mon != t) {
		jc_set_day(cl, 1, mon - 1);
		jc_set(cl, F_YEAR, year);
		return 1;
	}
	jc_set(cl, F_MONTH, mon - 1);

	/* Year. */
	year = jc_get(cl, F_YEAR);
	int64_t y = next_year(e, year);
	if (y < 0)
		return -1;
	if (y != year) {
		jc_set_day(cl, 1, 0);
		jc_set(cl, F_YEAR, y);
		return 1;
	}
	jc_set(cl, F_YEAR, y);
	jc_complete(cl);
	return 0;
}

/* One search as Quartz does it. 0 and *next_ms; -1: no firing; -2: the
 * search does not end, and *stuck_ms is the first instant of the month
 * after the one it is stuck in. */
static int search(const struct cron_expr *e, const struct tzif *z, int64_t after_ms,
		  int64_t *next_ms, int64_t *stuck_ms)
{
	struct search s = {.e = e, .cl = {.z = z}};

	/* Quartz starts one second later, drops the milliseconds, and that
	 * set(MILLISECOND, 0) makes the calendar re-read its wall time: an
	 * instant in the first pass of a repeated hour moves to the second. */
	s.after_ms = civil_floor_div(after_ms, 1000) * 1000 + 1000;
	jc_set_time(&s.cl, s.after_ms / 1000);
	s.cl.dirty = true;
	for (int i = 0; i < CRON_NEXT_MAX_STEPS; i++) {
		int rc = step(&s);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			*next_ms = s.cl.t * 1000;
			return 0;
		}
	}
	jc_set_day(&s.cl, 1, jc_get(&s.cl, F_MONTH) + 1);
	jc_complete(&s.cl);
	*stuck_ms = s.cl.t * 1000;
	return -2;
}

int cron_next(const struct cron_expr *e, const struct tzif *z, int64_t after_ms, int64_t *next_ms)
{
	for (int i = 0; i <= CRON_NEXT_MAX_SKIPS; i++) {
		int64_t stuck;
		int rc = search(e, z, after_ms, next_ms, &stuck);
		if (rc != -2)
			return rc;
		/* Where Quartz would search forever, go on after that month. */
		after_ms = stuck - 1000 > after_ms ? stuck - 1000 : after_ms + 86400000LL;
	}
	return -1;
}
