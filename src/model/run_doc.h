/* run_doc.h - the JSON of runs: the stored document and what each API version
 * shows of it.
 *
 * The engine keeps each run (job run or task run) as a JSON object shaped like
 * the API's 2.1 Run / RunTask, plus a private member "_" with what only jobsd
 * needs (the settings the run started with, the executor handle, timers).
 * The store keeps that text; runs/get and runs/list show it through
 * run_doc_emit, which drops "_" and applies the version's differences.
 *
 * Every function is pure and thread-safe.
 */
#ifndef JOBSD_MODEL_RUN_DOC_H
#define JOBSD_MODEL_RUN_DOC_H

#include <jansson.h>
#include <stdbool.h>

#include "model/run.h"

/* The name of the private member. */
#define RUN_DOC_PRIVATE "_"

struct run_state_in {
	enum run_life life;
	enum run_result result; /* RR_NONE until terminal */
	enum run_term term;	/* TERM_NONE until terminal */
	const char *message;	/* state_message; NULL is "" */
	bool user_cancelled_or_timedout;
	const char *queue_code; /* QUEUED: MAX_CONCURRENT_RUNS_REACHED, ... */
};

/* Sets doc.state and doc.status from s, so the two always agree. */
void run_doc_set_state(json_t *doc, const struct run_state_in *s);

/* TerminationTypeType of a code: SUCCESS, CLIENT_ERROR or INTERNAL_ERROR. */
const char *run_term_type(enum run_term t);

/* status.state (RunLifecycleStateV2State) of a life cycle state. */
const char *run_life_v2(enum run_life v);

/* The private object of doc, created if missing (borrowed). */
json_t *run_doc_private(json_t *doc);

/* What a client sees of a job run: a new object built from the job run's doc
 * and its task runs' docs (the latest attempt of each task, in the order of
 * the job's tasks), for API `version`:
 * - 2.1/2.2: number_in_job is the run id;
 * - 2.0: number_in_job is the per-job counter, and a run of a single-task
 *   (2.0 format) job shows its one task at the top level as 2.0 did;
 * - with_tasks false leaves tasks and job_clusters out (runs/list without
 *   expand_tasks);
 * - page >= 0 (2.2) keeps tasks [page*100, page*100+100) and sets *more. */
json_t *run_doc_emit(const json_t *job_doc, const json_t *task_docs, int version,
		     bool with_tasks, long page, bool *more);

/* A task run shown on its own (runs/get of a task run id, get-output's
 * metadata): the doc without "_". */
json_t *run_doc_emit_task(const json_t *task_doc, const json_t *job_doc);

#endif
