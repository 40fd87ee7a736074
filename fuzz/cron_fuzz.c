/* cron_fuzz.c - libFuzzer target for the schedule parsers: cron_parse(),
 * cron_format() and tz_id_check(), and for cron_next() on what parses.
 *
 * Beyond "never crash", it checks what callers rely on: the error message is
 * always a NUL-terminated string within its buffer, a parsed expression
 * keeps the invariants cron.h states, and cron_format() output parses back
 * to the same struct. A broken property aborts, which libFuzzer reports.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       fuzz/cron_fuzz.c src/sched/cron.c src/sched/tz.c -o build/cron_fuzz
 *   build/cron_fuzz fuzz/corpus/cron
 *
 * Seeds: fuzz/corpus/cron/, one expression per file. Single-threaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched/cron.h"
#include "sched/cron_next.h"
#include "sched/tz.h"
#include "sched/tzif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                  \
	do {                         \
		if (!(cond))         \
			abort();     \
	} while (0)

static void check_invariants(const struct cron_expr *e)
{
	CHECK(e->seconds != 0 && (e->seconds >> 60) == 0);
	CHECK(e->minutes != 0 && (e->minutes >> 60) == 0);
	CHECK(e->hours != 0 && (e->hours >> 24) == 0);
	CHECK(e->months != 0 && (e->months & ~0x1ffeu) == 0);
	CHECK((e->dom_kind == CRON_DOM_NONE) != (e->dow_kind == CRON_DOW_NONE));
	CHECK((e->days_of_month != 0) == (e->dom_kind == CRON_DOM_DAYS));
	CHECK((e->days_of_month & 1) == 0);
	CHECK((e->days_of_week != 0) == (e->dow_kind == CRON_DOW_DAYS));
	CHECK((e->days_of_week & 1) == 0);
	if (e->dom_kind == CRON_DOM_NEAREST_WEEKDAY)
		CHECK(e->dom_day >= 1 && e->dom_day <= 31);
	else
		CHECK(e->dom_day == 0);
	CHECK(e->dom_offset <= 30);
	if (e->dow_kind == CRON_DOW_LAST || e->dow_kind == CRON_DOW_NTH)
		CHECK(e->dow_day >= 1 && e->dow_day <= 7);
	else
		CHECK(e->dow_day == 0);
	CHECK(e->dow_kind == CRON_DOW_NTH ? e->dow_nth >= 1 && e->dow_nth <= 5
					  : e->dow_nth == 0);
	/* 130 years: bits 0..129, word 2 holds bits 128 and 129 only. */
	CHECK((e->years[2] >> 2) == 0);
	CHECK(e->years[0] | e->years[1] | e->years[2]);
	if (e->any_year)
		CHECK(e->years[0] == UINT64_MAX && e->years[1] == UINT64_MAX &&
		      e->years[2] == 3);
}

/* Three fire times in a row from a few starts: each a whole second,
 * strictly after the previous one, and the search always ends. */
static void check_next(const struct cron_expr *e, const uint8_t *data, size_t size)
{
	static struct tzdb *db;
	static const char *const zones[] = {"UTC", "America/New_York", "Australia/Lord_Howe"};
	if (!db)
		db = tzdb_open(NULL);
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ull;
	const struct tzif *z = tzdb_get(db, zones[h % 3], NULL, 0);
	CHECK(z != NULL);
	/* 1970..2100, millisecond precision. */
	int64_t t = (int64_t)(h >> 8) % 4102444800000LL;
	for (int i = 0; i < 3; i++) {
		int64_t next;
		if (cron_next(e, z, t, &next) < 0)
			break;
		CHECK(next > t && next % 1000 == 0);
		t = next;
	}
}

static void check_err(const char *err, size_t errlen)
{
	CHECK(memchr(err, '\0', errlen) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[256], tiny[5], buf[CRON_FORMAT_MAX], can[TZ_CANONICAL_MAX];
	struct cron_expr e, again;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	memset(err, 'x', sizeof(err));
	int rc = cron_parse(text, &e, err, sizeof(err));
	check_err(err, sizeof(err));
	if (rc == 0) {
		CHECK(err[0] == '\0');
		check_invariants(&e);
		CHECK(cron_format(&e, buf, sizeof(buf)) == 0);
		CHECK(strlen(buf) < CRON_MAX_LEN);
		CHECK(cron_parse(buf, &again, err, sizeof(err)) == 0);
		CHECK(memcmp(&e, &again, sizeof(e)) == 0);
		check_next(&e, data, size);
	} else {
		CHECK(err[0] != '\0');
		static const struct cron_expr zero;
		CHECK(memcmp(&e, &zero, sizeof(e)) == 0);
	}
	/* Same answer with a cut message buffer or none at all. */
	memset(tiny, 'x', sizeof(tiny));
	CHECK(cron_parse(text, &again, tiny, sizeof(tiny)) == rc);
	check_err(tiny, sizeof(tiny));
	CHECK(cron_parse(text, &again, NULL, 0) == rc);

	if (tz_id_check(text, NULL, can, sizeof(can)) == 0) {
		int32_t off;
		CHECK(can[0] != '\0' && strlen(can) <= TZ_ID_MAX);
		if (tz_fixed_offset(can, &off) == 0)
			CHECK(off > -24 * 3600 && off < 24 * 3600);
	} else {
		CHECK(can[0] == '\0');
	}

	free(text);
	return 0;
}
