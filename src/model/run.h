/* run.h - runs: the states of the API's run state machine and their names.
 *
 * A job run (run-now, a schedule, runs/submit) holds task runs; each task
 * attempt is a task run of its own id. Their states are the API's:
 * life_cycle_state QUEUED -> PENDING -> RUNNING -> TERMINATING -> TERMINATED,
 * or SKIPPED, or INTERNAL_ERROR; result_state once terminal, never changed
 * afterwards; the newer `status` object (status.state, termination_details)
 * derived from the same fields so the two always agree (ARCHITECTURE.md
 * invariant 5).
 *
 * Every function is pure and thread-safe.
 */
#ifndef JOBSD_MODEL_RUN_H
#define JOBSD_MODEL_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum run_life {
	RL_QUEUED,
	RL_PENDING,
	RL_RUNNING,
	RL_TERMINATING,
	RL_TERMINATED,
	RL_SKIPPED,
	RL_INTERNAL_ERROR,
	RL_BLOCKED,
	RL_WAITING_FOR_RETRY,
	RL__COUNT
};

enum run_result {
	RR_NONE, /* not terminal yet: no result_state */
	RR_SUCCESS,
	RR_FAILED,
	RR_TIMEDOUT,
	RR_CANCELED,
	RR_MAXIMUM_CONCURRENT_RUNS_REACHED,
	RR_EXCLUDED,
	RR_SUCCESS_WITH_FAILURES,
	RR_UPSTREAM_FAILED,
	RR_UPSTREAM_CANCELED,
	RR_DISABLED,
	RR__COUNT
};

enum run_if {
	RUN_IF_ALL_SUCCESS, /* the default */
	RUN_IF_AT_LEAST_ONE_SUCCESS,
	RUN_IF_NONE_FAILED,
	RUN_IF_ALL_DONE,
	RUN_IF_AT_LEAST_ONE_FAILED,
	RUN_IF_ALL_FAILED,
	RUN_IF__COUNT
};

enum run_trigger {
	TRIGGER_ONE_TIME,
	TRIGGER_PERIODIC,
	TRIGGER_RETRY,
	TRIGGER_RUN_JOB_TASK,
	TRIGGER_FILE_ARRIVAL,
	TRIGGER_CONTINUOUS,
	TRIGGER_TABLE,
	TRIGGER_CONTINUOUS_RESTART,
	TRIGGER__COUNT
};

enum run_type { RUN_TYPE_JOB_RUN, RUN_TYPE_WORKFLOW_RUN, RUN_TYPE_SUBMIT_RUN, RUN_TYPE__COUNT };

/* TerminationCodeCode values jobsd produces. */
enum run_term {
	TERM_NONE,
	TERM_SUCCESS,
	TERM_SUCCESS_WITH_FAILURES,
	TERM_USER_CANCELED,
	TERM_CANCELED, /* by the platform: a timeout */
	TERM_SKIPPED,
	TERM_INTERNAL_ERROR,
	TERM_RUN_EXECUTION_ERROR,
	TERM_DRIVER_ERROR,
	TERM_RESOURCE_NOT_FOUND,
	TERM_INVALID_RUN_CONFIGURATION,
	TERM_MAX_CONCURRENT_RUNS_EXCEEDED,
	TERM_MAX_JOB_QUEUE_SIZE_EXCEEDED,
	TERM_WORKSPACE_RUN_LIMIT_EXCEEDED,
	TERM_DISABLED,
	TERM_FEATURE_DISABLED,
	TERM__COUNT
};

const char *run_life_name(enum run_life v);
const char *run_result_name(enum run_result v);
const char *run_if_name(enum run_if v);
const char *run_trigger_name(enum run_trigger v);
const char *run_type_name(enum run_type v);
const char *run_term_name(enum run_term v);

/* Name to value; -1 when the name is not one of them. */
int run_life_parse(const char *s);
int run_result_parse(const char *s);
int run_if_parse(const char *s);
int run_trigger_parse(const char *s);
int run_type_parse(const char *s);
int run_term_parse(const char *s);

/* Whether a life cycle state is final. */
bool run_life_terminal(enum run_life v);

#endif
