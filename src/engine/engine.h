/* engine.h - the single thread that owns every write (ARCHITECTURE.md).
 *
 * Other threads hand the engine an engine_op; the engine runs queued ops in
 * batches, all of a batch inside one store transaction (group commit), each
 * op inside its own savepoint, and commits once. Only after the commit has
 * returned, durable or failed, does it call each op's done(), so an API
 * answer built in done() never acknowledges a write that is not on disk.
 *
 * The thread waits in epoll: on the op queue (an eventfd), on file
 * descriptors other modules watch (the run engine's attempt pidfds, the
 * scheduler's inotify descriptor) and on the next timer of its hooks. The
 * run engine (engine/runs.c) and the scheduler (engine/sched.c) sit on the
 * hooks: the run engine writes what changed in memory just before each
 * commit and acts on the outcome right after, so no transition is
 * observable before it is durable and no process is started for a
 * transition that was not.
 *
 * Threads: engine_submit from any thread; run(), done(), watch callbacks and
 * hooks are called on the engine thread only and must not block on anything
 * but the store.
 */
#ifndef JOBSD_ENGINE_ENGINE_H
#define JOBSD_ENGINE_ENGINE_H

#include <stdint.h>

struct store;
struct engine;

struct engine_op {
	/* Applies the write. Returns 0 to keep it, anything else to undo it
	 * (its savepoint is rolled back; the batch goes on). */
	int (*run)(struct engine_op *op, struct store *st);
	/* Called after the batch: run_rc is what run() returned, commit_rc the
	 * store code of the commit (STORE_OK when the write is durable). */
	void (*done)(struct engine_op *op, int run_rc, int commit_rc);
	struct engine_op *next; /* the engine's */
};

/* Most ops one transaction carries; a bound on the latency of the batch. */
#define ENGINE_MAX_BATCH 512

int engine_start(struct engine **out, struct store *st);

/* Hooks of the run engine or the scheduler; all called on the engine thread. */
struct clock;

struct engine_hooks {
	void *arg;
	const struct clock *clock; /* of next_timer's times; NULL: the system clock */
	/* Inside each transaction, after its ops: writes pending changes. A
	 * non-zero return fails the whole transaction. */
	int (*pre_commit)(void *arg, struct store *st);
	/* After each transaction: STORE_OK once durable, else why it failed. */
	void (*post_commit)(void *arg, int commit_rc);
	/* Wall-clock ms of the next timer, or INT64_MAX for none. */
	int64_t (*next_timer)(void *arg);
	/* Called when that time has come. */
	void (*timer)(void *arg);
};

/* Most hook sets: the run engine and the scheduler. */
#define ENGINE_MAX_HOOKS 4

/* Adds a set of hooks, before anything is submitted that uses them. Each
 * transaction calls every set's pre_commit (in the order added; the first
 * failure fails it) and post_commit; each set's timer is called when its
 * own next_timer has come. -1 if ENGINE_MAX_HOOKS sets are installed. */
int engine_add_hooks(struct engine *e, const struct engine_hooks *h);

/* Calls cb on the engine thread whenever fd is readable (or hung up). From
 * the engine thread only; w must stay valid until engine_unwatch. */
struct engine_watch {
	void (*cb)(struct engine_watch *w);
	int fd;
};
int engine_watch(struct engine *e, struct engine_watch *w);
void engine_unwatch(struct engine *e, struct engine_watch *w);

/* Wakes the loop so that it asks next_timer again (engine thread or not),
 * e.g. after a test moved its virtual clock. */
void engine_wake(struct engine *e);

/* Queues op; it runs soon on the engine thread. The op must stay valid until
 * its done() has been called. */
void engine_submit(struct engine *e, struct engine_op *op);

/* Runs op and waits for its done(); for callers that may block (start-up,
 * tools). Returns run_rc if it was non-zero, else commit_rc. Never from the
 * engine thread itself (inside run or done): it would wait for itself. */
int engine_run_sync(struct engine *e, struct engine_op *op);

/* Finishes every queued op, then stops the thread and frees the engine.
 * Nothing may be submitted once it has been called. */
void engine_stop(struct engine *e);

#endif
