/* runs.h - the run engine: job runs and their task runs, from creation to a
 * terminal state (ARCHITECTURE.md: engine; reference §2.4, §3).
 *
 * Every active job run lives in memory on the engine thread, as a graph of
 * task runs driven by engine/dag.c, and in the store as one row per job run
 * and per task attempt (model/run_doc.h). Transitions are made in memory
 * inside an engine transaction and written just before its commit (the
 * engine's pre_commit hook); processes are started and signalled only after
 * the commit (post_commit), so nothing is observable, and nothing runs,
 * before the state that explains it is durable. A failed commit throws the
 * memory away and reloads the active runs from the store, the same path as
 * a start-up.
 *
 * Threads: runs_create, runs_cancel, runs_delete are called on the engine
 * thread, inside a write (api call_write). runs_open and runs_close from the
 * main thread around the engine's life. Nothing else touches a struct runs.
 */
#ifndef JOBSD_ENGINE_RUNS_H
#define JOBSD_ENGINE_RUNS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/error.h"
#include "model/run.h"

struct engine;
struct executor;
struct store;
struct workspace;
struct runs;

struct clock;

struct runs_config {
	const struct clock *clock; /* wall time of runs and timers (virtual in tests) */
	const char *data_dir;	 /* attempt folders live in DIR/runs/<task run id> */
	const char *python;	 /* interpreter of notebook and Python tasks */
	const char *runtime_dir; /* holds jobsd_task.py */
	const char *base_url;	 /* run_page_url prefix, e.g. http://127.0.0.1:8080 */
	int grace_ms;		 /* SIGTERM to SIGKILL when a task is stopped */
	bool allow_local_files;	 /* python_file may name an absolute local path */
	int64_t retention_ms;	 /* finished runs older than this are deleted; 0: never */
	int max_task_runs;	 /* task runs running at once in the workspace; 0: no limit */
	int max_created_per_hour; /* jobs/create + runs/submit per hour; 0: no limit */
};

/* Loads the active runs (re-attaching to their tasks) and installs the
 * engine hooks. The engine must be running; the config is copied. */
int runs_open(struct runs **out, struct engine *e, struct store *st, struct executor *ex,
	      struct workspace *ws, const struct runs_config *cfg);
/* After engine_stop: frees memory. Running tasks keep running. */
void runs_close(struct runs *rs);

/* A new job run: jobs/run-now, runs/submit, a run_job_task's child. */
struct run_request {
	int64_t job_id;		   /* 0 for runs/submit: a job id is reserved */
	const json_t *settings;	   /* normalized settings (model/job.h), copied */
	const char *creator;	   /* user name */
	const char *run_name;	   /* NULL: the settings' name */
	enum run_type type;
	enum run_trigger trigger;
	const json_t *job_params;  /* run-now job_parameters (object) or NULL */
	const json_t *overrides;   /* run-now legacy parameters (object) or NULL */
	const char *idem_token;	   /* NULL: none */
	int64_t parent_task_run_id; /* RUN_JOB_TASK: the task run waiting for it */
	const json_t *queue;	   /* run-now's queue ({enabled}) or NULL: as the job says */
	int64_t trigger_ms;	   /* the scheduled instant ({{job.trigger.time}}); 0: now */
	const json_t *schedule;	   /* PERIODIC from a cron schedule: the run's `schedule` */
	const char *file_location; /* FILE_ARRIVAL: the folder that fired */
};

/* Creates a run (engine thread, inside a transaction). With a token already
 * used, answers that run instead and creates nothing. 0, or -1 with err. */
int runs_create(struct runs *rs, struct store *st, const struct run_request *rq, int64_t *run_id,
		int64_t *number_in_job, struct model_error *err);

/* cb is called on the engine thread once a job run's end is durable (the
 * scheduler starts a continuous job's next run from there). Engine thread. */
void runs_on_end(struct runs *rs, void (*cb)(void *arg, int64_t job_id, bool failed), void *arg);

/* Job runs of job_id not terminal yet (engine thread). */
int runs_job_active(const struct runs *rs, int64_t job_id);

/* The hourly creation limit (jobs/create and runs/submit count): 0 and the
 * creation is counted, or -1 with a 429 in err. */
int runs_creation_allowed(struct runs *rs, struct model_error *err);

/* After a 429 (runs_create, runs_creation_allowed): the seconds a client
 * should wait (Retry-After). */
int runs_retry_after(const struct runs *rs);

/* runs/cancel of a job run or a task run: asynchronous; a finished run is a
 * no-op. 0, or -1 with err (unknown run). */
int runs_cancel(struct runs *rs, struct store *st, int64_t run_id, struct model_error *err);
/* runs/cancel-all: every active run of job_id (or, with job_id 0 and
 * queued_only, every queued run). */
int runs_cancel_all(struct runs *rs, struct store *st, int64_t job_id, bool queued_only);
/* jobs/update or reset saved new settings: the timeout applies to the job's
 * active runs too, as the service does, and a new max_concurrent_runs to
 * its queue (a lower one stops nothing). Engine thread, inside the write. */
void runs_job_changed(struct runs *rs, struct store *st, int64_t job_id,
		      const json_t *settings);
/* runs/repair of a finished job run. */
struct repair_request {
	int64_t run_id;
	const json_t *rerun_tasks;   /* array of task keys, or NULL */
	bool rerun_all_failed;
	bool rerun_dependents;
	bool has_latest;	     /* latest_repair_id was given */
	int64_t latest_repair_id;
	const json_t *job_params;    /* new job_parameters, or NULL */
	const json_t *overrides;     /* new legacy parameters, or NULL */
};

/* Re-runs tasks of a finished run inside it, with the job's current
 * settings; the run is PENDING again when this returns (SDK waiters read it
 * at once). *repair_id identifies the repair. 0, or -1 with err. */
int runs_repair(struct runs *rs, struct store *st, const struct repair_request *rq,
		int64_t *repair_id, struct model_error *err);

/* runs/delete: a finished job run and its attempt folders. */
int runs_delete(struct runs *rs, struct store *st, int64_t run_id, struct model_error *err);

/* The folder of a task attempt. 0, or -1 if it does not fit. */
int runs_attempt_dir(const char *data_dir, int64_t task_run_id, char *buf, size_t n);
/* A file of that folder ("stdout", "error.json"...). 0, or -1 if it does not fit. */
int runs_attempt_file(const char *data_dir, int64_t task_run_id, const char *name, char *buf,
		      size_t n);

#endif
