/* run.c - the names of the run enums (model/run.h) as the API writes them.
 *
 * Each table is indexed by the enum with designated initializers, so a value
 * added to run.h without a name here reads back as NULL instead of shifting
 * every name after it; the _Static_asserts catch a table that outgrows its
 * enum. A name is exactly the enum constant without its prefix. RR_NONE and
 * TERM_NONE mean "not set" and have no name: the API omits the field.
 *
 * Parsing is exact and case-sensitive, as the service's enums are.
 * Threads: constant tables only; any thread.
 */
#include "model/run.h"

#include <stddef.h>
#include <string.h>

#define COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const life_names[] = {
	[RL_QUEUED] = "QUEUED",
	[RL_PENDING] = "PENDING",
	[RL_RUNNING] = "RUNNING",
	[RL_TERMINATING] = "TERMINATING",
	[RL_TERMINATED] = "TERMINATED",
	[RL_SKIPPED] = "SKIPPED",
	[RL_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[RL_BLOCKED] = "BLOCKED",
	[RL_WAITING_FOR_RETRY] = "WAITING_FOR_RETRY",
};
_Static_assert(COUNT_OF(life_names) == RL__COUNT, "life_names and enum run_life differ");

static const char *const result_names[] = {
	[RR_NONE] = NULL,
	[RR_SUCCESS] = "SUCCESS",
	[RR_FAILED] = "FAILED",
	[RR_TIMEDOUT] = "TIMEDOUT",
	[RR_CANCELED] = "CANCELED",
	[RR_MAXIMUM_CONCURRENT_RUNS_REACHED] = "MAXIMUM_CONCURRENT_RUNS_REACHED",
	[RR_EXCLUDED] = "EXCLUDED",
	[RR_SUCCESS_WITH_FAILURES] = "SUCCESS_WITH_FAILURES",
	[RR_UPSTREAM_FAILED] = "UPSTREAM_FAILED",
	[RR_UPSTREAM_CANCELED] = "UPSTREAM_CANCELED",
	[RR_DISABLED] = "DISABLED",
};
_Static_assert(COUNT_OF(result_names) == RR__COUNT, "result_names and enum run_result differ");

static const char *const if_names[] = {
	[RUN_IF_ALL_SUCCESS] = "ALL_SUCCESS",
	[RUN_IF_AT_LEAST_ONE_SUCCESS] = "AT_LEAST_ONE_SUCCESS",
	[RUN_IF_NONE_FAILED] = "NONE_FAILED",
	[RUN_IF_ALL_DONE] = "ALL_DONE",
	[RUN_IF_AT_LEAST_ONE_FAILED] = "AT_LEAST_ONE_FAILED",
	[RUN_IF_ALL_FAILED] = "ALL_FAILED",
};
_Static_assert(COUNT_OF(if_names) == RUN_IF__COUNT, "if_names and enum run_if differ");

static const char *const trigger_names[] = {
	[TRIGGER_ONE_TIME] = "ONE_TIME",
	[TRIGGER_PERIODIC] = "PERIODIC",
	[TRIGGER_RETRY] = "RETRY",
	[TRIGGER_RUN_JOB_TASK] = "RUN_JOB_TASK",
	[TRIGGER_FILE_ARRIVAL] = "FILE_ARRIVAL",
	[TRIGGER_CONTINUOUS] = "CONTINUOUS",
	[TRIGGER_TABLE] = "TABLE",
	[TRIGGER_CONTINUOUS_RESTART] = "CONTINUOUS_RESTART",
};
_Static_assert(COUNT_OF(trigger_names) == TRIGGER__COUNT,
	       "trigger_names and enum run_trigger differ");

static const char *const type_names[] = {
	[RUN_TYPE_JOB_RUN] = "JOB_RUN",
	[RUN_TYPE_WORKFLOW_RUN] = "WORKFLOW_RUN",
	[RUN_TYPE_SUBMIT_RUN] = "SUBMIT_RUN",
};
_Static_assert(COUNT_OF(type_names) == RUN_TYPE__COUNT, "type_names and enum run_type differ");

static const char *const term_names[] = {
	[TERM_NONE] = NULL,
	[TERM_SUCCESS] = "SUCCESS",
	[TERM_SUCCESS_WITH_FAILURES] = "SUCCESS_WITH_FAILURES",
	[TERM_USER_CANCELED] = "USER_CANCELED",
	[TERM_CANCELED] = "CANCELED",
	[TERM_SKIPPED] = "SKIPPED",
	[TERM_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[TERM_RUN_EXECUTION_ERROR] = "RUN_EXECUTION_ERROR",
	[TERM_DRIVER_ERROR] = "DRIVER_ERROR",
	[TERM_RESOURCE_NOT_FOUND] = "RESOURCE_NOT_FOUND",
	[TERM_INVALID_RUN_CONFIGURATION] = "INVALID_RUN_CONFIGURATION",
	[TERM_MAX_CONCURRENT_RUNS_EXCEEDED] = "MAX_CONCURRENT_RUNS_EXCEEDED",
	[TERM_MAX_JOB_QUEUE_SIZE_EXCEEDED] = "MAX_JOB_QUEUE_SIZE_EXCEEDED",
	[TERM_WORKSPACE_RUN_LIMIT_EXCEEDED] = "WORKSPACE_RUN_LIMIT_EXCEEDED",
	[TERM_DISABLED] = "DISABLED",
	[TERM_FEATURE_DISABLED] = "FEATURE_DISABLED",
};
_Static_assert(COUNT_OF(term_names) == TERM__COUNT, "term_names and enum run_term differ");

/* The value is taken as an int so that an out-of-range enum (a cast, a
 * corrupt row) yields NULL rather than reading past the table. */
static const char *name_of(const char *const *names, int count, int v)
{
	return v >= 0 && v < count ? names[v] : NULL;
}

static int parse_in(const char *const *names, int count, const char *s)
{
	if (!s)
		return -1;
	for (int v = 0; v < count; v++)
		if (names[v] && strcmp(names[v], s) == 0)
			return v;
	return -1;
}

const char *run_life_name(enum run_life v) { return name_of(life_names, RL__COUNT, (int)v); }
const char *run_result_name(enum run_result v) { return name_of(result_names, RR__COUNT, (int)v); }
const char *run_if_name(enum run_if v) { return name_of(if_names, RUN_IF__COUNT, (int)v); }

const char *run_trigger_name(enum run_trigger v)
{
	return name_of(trigger_names, TRIGGER__COUNT, (int)v);
}

const char *run_type_name(enum run_type v) { return name_of(type_names, RUN_TYPE__COUNT, (int)v); }
const char *run_term_name(enum run_term v) { return name_of(term_names, TERM__COUNT, (int)v); }

int run_life_parse(const char *s) { return parse_in(life_names, RL__COUNT, s); }
int run_result_parse(const char *s) { return parse_in(result_names, RR__COUNT, s); }
int run_if_parse(const char *s) { return parse_in(if_names, RUN_IF__COUNT, s); }
int run_trigger_parse(const char *s) { return parse_in(trigger_names, TRIGGER__COUNT, s); }
int run_type_parse(const char *s) { return parse_in(type_names, RUN_TYPE__COUNT, s); }
int run_term_parse(const char *s) { return parse_in(term_names, TERM__COUNT, s); }

/* The terminal states of the 2.0 docs' state machine: a run in one of them
 * never changes again (RL_BLOCKED and RL_WAITING_FOR_RETRY still will). */
bool run_life_terminal(enum run_life v)
{
	return v == RL_TERMINATED || v == RL_SKIPPED || v == RL_INTERNAL_ERROR;
}
