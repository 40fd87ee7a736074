/* sched.h - the scheduler: when a job starts by itself (reference §2.1, §7).
 *
 * A job has at most one of: schedule (Quartz cron in a time zone),
 * trigger.periodic (every N minutes, hours, days or weeks), trigger.file_arrival (new
 * files in a folder) or continuous (a new run as soon as the last one ends);
 * each can be PAUSED. The scheduler keeps every unpaused one in memory, with
 * its next due time in a min-heap on the engine's clock (virtual in tests),
 * and fires on the engine thread: inside one savepoint it writes the
 * fired instant to the journal (store_trigger_put) and creates the run
 * (runs_create, so max_concurrent_runs skips or queues it exactly as for
 * run-now). Both commit or neither does, so an instant never fires twice,
 * also across crashes, and one that was due is never forgotten.
 *
 * Catch-up rule (docs/internals/scheduler.md): firings missed while jobsd
 * was down (or the engine stalled) are not replayed. If any were missed,
 * one run starts at once, for the first missed instant, and the schedule
 * then goes on from the first instant after now: at most one catch-up run,
 * Quartz's default misfire policy for cron triggers (FIRE_ONCE_NOW).
 *
 * Memory follows the store: every change is made in memory inside the
 * transaction that writes it, after the last step that can fail (callers
 * must not fail their op after sched_job_saved succeeded); a transaction
 * that changed memory and failed to commit reloads the scheduler from the
 * store (built aside: if that read fails too, the old state stays and the
 * reload is tried again).
 *
 * Threads: everything on the engine thread, except sched_open/sched_close
 * (main thread, around the engine's life).
 */
#ifndef JOBSD_ENGINE_SCHED_H
#define JOBSD_ENGINE_SCHED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/error.h"

struct clock;
struct engine;
struct runs;
struct sched;
struct store;
struct tzdb;

struct sched_config {
	const struct clock *clock; /* the engine's (virtual in tests) */
	struct tzdb *tzdb;	   /* zones of cron schedules */
	const char *workspace_root; /* on disk: file_arrival urls that are workspace folders */
	bool allow_local_dirs;	   /* file_arrival may name file:///local/folder */
	int rescan_ms;		   /* file arrival: look again this often anyway (0: 60 s) */
	int scan_gap_ms;	   /* file arrival: at most one scan per folder per this long
				    * (0: 250 ms; < 0: none) */
};

/* Loads every job's trigger and installs the engine hooks. */
int sched_open(struct sched **out, struct engine *e, struct store *st, struct runs *rs,
	       const struct sched_config *cfg);
/* After engine_stop. */
void sched_close(struct sched *s);

/* jobs/create, update, reset saved settings for job_id (engine thread,
 * inside the write, after the job row is written). An unchanged trigger
 * keeps its journal; a new, changed or unpaused one counts from now.
 * 0, or -1 with err (a file_arrival url this server cannot watch). */
int sched_job_saved(struct sched *s, struct store *st, int64_t job_id, const json_t *settings,
		    struct model_error *err);
/* jobs/delete (inside the write). */
void sched_job_deleted(struct sched *s, int64_t job_id);

/* Installed with runs_on_end(): a job run ended. */
void sched_run_ended(void *arg, int64_t job_id, bool failed);

/* Introspection for tests and the benchmark (engine thread): triggers held,
 * and the next due time of job_id (INT64_MAX: none). */
size_t sched_size(const struct sched *s);
int64_t sched_next_due(const struct sched *s, int64_t job_id);

#endif
