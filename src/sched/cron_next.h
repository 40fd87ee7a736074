/* cron_next.h - the next firing instant of a Quartz cron expression.
 *
 * cron_next() gives the instant org.quartz.CronExpression 2.3.2's
 * getNextValidTimeAfter() gives for the same expression, time zone and
 * start, including its handling of daylight-saving gaps and overlaps: it
 * replays Quartz's search over a model of java.util.GregorianCalendar's
 * lenient fields (sched/tzif.h resolves wall times the way Java does). The
 * differential test (tests/quartz) holds it to Quartz itself.
 *
 * Deliberate differences, all documented in docs/internals/cron.md:
 *   - `after` is taken at whole-second precision (Quartz's answer for nW and
 *     LW then depends on the current time's milliseconds);
 *   - there are no fire times after 2099 (Quartz's '*' year runs to the
 *     current year + 100);
 *   - where Quartz's search never ends (LW in a month whose last weekday
 *     does not exist locally, such as Pacific/Apia in December 2011), the
 *     search gives up after CRON_NEXT_MAX_STEPS steps and starts again in
 *     the next month: that month has no firing.
 *
 * Threads: pure; any thread.
 */
#ifndef JOBSD_SCHED_CRON_NEXT_H
#define JOBSD_SCHED_CRON_NEXT_H

#include <stdint.h>

#include "sched/cron.h"

struct tzif;

/* Steps of one search before it counts as endless; real expressions need
 * a few per year searched (the worst, Feb 29 on a 5th weekday, about 400
 * from 1970 to 2099). */
#define CRON_NEXT_MAX_STEPS 20000
/* Months skipped, one after the other, before cron_next() reports none. */
#define CRON_NEXT_MAX_SKIPS 24

/* The first firing instant strictly after after_ms (epoch milliseconds), in
 * epoch milliseconds (always a whole second). Returns 0 and *next_ms, or -1
 * when the expression has no further firing (none before 2100, or a search
 * that does not end). */
int cron_next(const struct cron_expr *e, const struct tzif *z, int64_t after_ms, int64_t *next_ms);

#endif
