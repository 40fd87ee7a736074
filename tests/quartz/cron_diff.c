/* cron_diff.c - the jobsd side of the Quartz differential test (tests/quartz/run.sh).
 *
 * Speaks the protocol of tests/quartz/QuartzNext.java, which asks Quartz
 * 2.3.2 the same questions: each stdin line "zone<TAB>from_ms<TAB>n<TAB>expr"
 * gives one stdout line holding the n successive fire times of expr in zone
 * after from_ms (epoch milliseconds, each one strictly after the one before),
 * separated by spaces. The expression goes through cron_parse(), the zone
 * through tzdb_get() (any id the API accepts), the times through cron_next().
 *
 * Tokens: epoch milliseconds; "none" when cron_next() finds no further time
 * (the chain stops; it matches Quartz's "none", and its "loop" where Quartz's
 * search never ends); "parse-error" when cron_parse() refuses the text;
 * "zone-error" when tzdb_get() refuses the zone. Empty lines and lines that
 * start with '#' are skipped without output, as QuartzNext skips them.
 *
 *   build/asan/tests/cron_diff < input > output
 *
 * Exit status 0, or 2 on a malformed input line (with a message on stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/cron.h"
#include "sched/cron_next.h"
#include "sched/tzif.h"

/* Parses a decimal int64 that makes up all of s; 0 or -1. */
static int parse_i64(const char *s, int64_t *out)
{
	char *end;

	if (*s == '\0')
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Answers one line (already split into its four fields) on stdout. */
static void answer(struct tzdb *db, const char *zone, int64_t from_ms, int64_t n, const char *expr)
{
	struct cron_expr e;
	char err[256];

	if (cron_parse(expr, &e, err, sizeof(err)) != 0) {
		fputs("parse-error\n", stdout);
		return;
	}
	const struct tzif *z = tzdb_get(db, zone, err, sizeof(err));
	if (!z) {
		fputs("zone-error\n", stdout);
		return;
	}
	int64_t t = from_ms;
	for (int64_t i = 0; i < n; i++) {
		int64_t next;
		if (cron_next(&e, z, t, &next) != 0) {
			printf("%snone", i ? " " : "");
			break;
		}
		printf("%s%" PRId64, i ? " " : "", next);
		t = next;
	}
	fputc('\n', stdout);
}

int main(void)
{
	struct tzdb *db = tzdb_open(NULL);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	int status = 0;

	if (!db) {
		fputs("cron_diff: cannot open the tz database\n", stderr);
		return 2;
	}
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;

		/* zone, from_ms and n end at the first three tabs; the rest is
		 * the expression, which may itself hold tabs. */
		char *field[4];
		char *p = line;
		int k;
		for (k = 0; k < 3; k++) {
			char *tab = strchr(p, '\t');
			if (!tab)
				break;
			*tab = '\0';
			field[k] = p;
			p = tab + 1;
		}
		field[3] = p;
		int64_t from_ms, n;
		if (k < 3 || parse_i64(field[1], &from_ms) != 0 || parse_i64(field[2], &n) != 0 ||
		    n < 0) {
			fprintf(stderr, "cron_diff: line %ld: expected zone, from_ms, n, expr\n",
				lineno);
			status = 2;
			break;
		}
		answer(db, field[0], from_ms, n, field[3]);
	}
	free(line);
	tzdb_close(db);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs("cron_diff: write error on stdout\n", stderr);
		status = 2;
	}
	return status;
}
