/* preview.h - `jobsd cron next`: a schedule's next firing instants.
 *
 *   jobsd cron next EXPR --tz ZONE [--from ISO8601] [-n N]
 *
 * prints the next N (default 10, at most 10000) firing instants strictly
 * after --from (default: now), one per line: the instant in ISO 8601 with
 * its UTC offset in ZONE, a space, and epoch milliseconds:
 *
 *     2026-03-08T03:00:00-04:00 1772953200000
 *
 * --from takes "2026-03-08T01:30:00Z", "...-05:00", "...+0530", a local
 * time without offset (read in ZONE, as the schedule would) or epoch
 * milliseconds. An invalid expression, zone or option prints the API's
 * error message on stderr and exits 2. Fewer than N lines (exit 0) means
 * the schedule has no more firings.
 */
#ifndef JOBSD_SCHED_PREVIEW_H
#define JOBSD_SCHED_PREVIEW_H

#include <stdint.h>
#include <stdio.h>

struct tzif;

/* argv[0] is "next". Returns the exit status. */
int cron_command(int argc, char **argv, FILE *out, FILE *errout);

/* Writes instant ms as ISO 8601 with the zone's offset ("...T03:00:00-04:00")
 * into buf (at least 40 bytes). */
void cron_format_instant(const struct tzif *z, int64_t ms, char *buf, size_t n);

/* Reads an --from value (see above). 0 and *ms, or -1. */
int cron_parse_instant(const char *s, const struct tzif *z, int64_t *ms);

#endif
