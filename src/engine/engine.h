/* engine.h - the single thread that owns every write (ARCHITECTURE.md).
 *
 * Other threads hand the engine an engine_op; the engine runs queued ops in
 * batches, all of a batch inside one store transaction (group commit), each
 * op inside its own savepoint, and commits once. Only after the commit has
 * returned, durable or failed, does it call each op's done(), so an API
 * answer built in done() never acknowledges a write that is not on disk.
 *
 * Today the engine applies API writes; later issues grow it into the run
 * engine (state transitions, timers), which is why state changes must never
 * be made anywhere else.
 *
 * Threads: engine_submit from any thread; run() and done() are called on the
 * engine thread only and must not block on anything but the store.
 */
#ifndef JOBSD_ENGINE_ENGINE_H
#define JOBSD_ENGINE_ENGINE_H

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
