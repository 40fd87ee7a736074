/* civil.h - proleptic Gregorian calendar arithmetic on 64-bit day counts.
 *
 * Days are counted from 1970-01-01 (day 0), for every int64_t that does not
 * overflow the year: H. Hinnant's days_from_civil / civil_from_days. No
 * gmtime and timegm: they are banned (scripts/checksrc.sh), depend on
 * time_t's range and, for timegm, on the process's TZ.
 * Threads: pure functions; any thread.
 */
#ifndef JOBSD_UTIL_CIVIL_H
#define JOBSD_UTIL_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

/* Broken-down UTC time of an instant in milliseconds. */
struct civil {
	long long year;
	int month, day, hour, minute, second, ms, iso_weekday; /* month 1..12, weekday 1 = MON */
};

/* a / b rounded towards minus infinity (b > 0). */
int64_t civil_floor_div(int64_t a, int64_t b);
/* Days since 1970-01-01 of year-month-day (month 1..12, day 1..31; a day
 * past the month's end simply counts on). */
int64_t civil_days(int64_t year, int month, int day);
/* The date of a day count. */
void civil_date(int64_t days, int64_t *year, int *month, int *day);
/* 0 = Sunday .. 6 = Saturday. */
int civil_weekday(int64_t days);
bool civil_leap(int64_t year);
/* 28..31. */
int civil_month_days(int64_t year, int month);
void civil_from_ms(int64_t ms, struct civil *c);

#endif
