/* civil.c - proleptic Gregorian calendar arithmetic (see civil.h). */
#include "util/civil.h"

int64_t civil_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t civil_days(int64_t year, int month, int day)
{
	int64_t y = year - (month <= 2);
	int64_t era = civil_floor_div(y, 400);
	int64_t yoe = y - era * 400;				       /* 0 .. 399 */
	int64_t mp = month > 2 ? month - 3 : month + 9;		       /* March = 0 */
	int64_t doy = (153 * mp + 2) / 5 + day - 1;		       /* 0 .. 365 */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	       /* 0 .. 146096 */
	return era * 146097 + doe - 719468;
}

void civil_date(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t z = days + 719468; /* days since 0000-03-01 */
	int64_t era = civil_floor_div(z, 146097);
	int64_t doe = z - era * 146097; /* 0 .. 146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (*month <= 2);
}

int civil_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (4). */
	return (int)((days % 7 + 7 + 4) % 7);
}

bool civil_leap(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int civil_month_days(int64_t year, int month)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return month == 2 && civil_leap(year) ? 29 : len[month - 1];
}

void civil_from_ms(int64_t ms, struct civil *c)
{
	int64_t days = civil_floor_div(ms, 86400000);
	int64_t rem = ms % 86400000; /* not ms - days * 86400000: that overflows */
	int64_t y;
	if (rem < 0)
		rem += 86400000;
	c->hour = (int)(rem / 3600000);
	c->minute = (int)(rem / 60000 % 60);
	c->second = (int)(rem / 1000 % 60);
	c->ms = (int)(rem % 1000);
	c->iso_weekday = civil_weekday(days) == 0 ? 7 : civil_weekday(days);
	civil_date(days, &y, &c->month, &c->day);
	c->year = (long long)y;
}
