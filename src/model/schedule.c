/* schedule.c - the checks and messages of a job's schedule (see schedule.h). */
#include "model/schedule.h"

#include "sched/tz.h"

int schedule_check_cron(const char *expr, struct cron_expr *out, struct model_error *err)
{
	struct cron_expr e;
	char why[256];
	if (cron_parse(expr, out ? out : &e, why, sizeof(why)) == 0)
		return 0;
	return model_fail(err, 400, MODEL_INVALID,
			  "Invalid quartz_cron_expression: %.256s. %s (jobsd uses Quartz cron syntax)",
			  expr, why);
}

int schedule_check_timezone(const char *id, const char *where, struct model_error *err)
{
	char canonical[TZ_CANONICAL_MAX];
	if (tz_id_check(id, NULL, canonical, sizeof(canonical)) == 0)
		return 0;
	return model_fail(err, 400, MODEL_INVALID,
			  "Invalid timezone_id '%.256s' in '%s': not a Java time zone id known to "
			  "this server",
			  id, where);
}
