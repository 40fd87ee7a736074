/* schedule.h - the checks and messages of a job's schedule.
 *
 * One place words the errors for schedule.quartz_cron_expression and
 * schedule.timezone_id, so that jobs/create, jobs/update and the
 * `jobsd cron next` preview say the same thing about the same input.
 * Threads: pure (the tz check reads the tz database); any thread.
 */
#ifndef JOBSD_MODEL_SCHEDULE_H
#define JOBSD_MODEL_SCHEDULE_H

#include "model/error.h"
#include "sched/cron.h"

/* Parses expr into *out (may be NULL). 0, or -1 with a 400
 * INVALID_PARAMETER_VALUE "Invalid quartz_cron_expression: ..." in err. */
int schedule_check_cron(const char *expr, struct cron_expr *out, struct model_error *err);

/* Checks a timezone_id; where names the field in the message
 * ("schedule.timezone_id"). 0, or -1 with a 400 in err. */
int schedule_check_timezone(const char *id, const char *where, struct model_error *err);

#endif
