/* executor.h - where task attempts run: the interface the run engine drives.
 *
 * Backends (exec/local.c: processes under supervisors that outlive jobsd;
 * exec/slurm.c: one Slurm job per attempt) implement struct executor_backend;
 * the engine sees only these calls. No backend exists yet: the run engine and
 * the local executor arrive with runs (jobs/run-now, runs/submit), and this
 * header fixes the contract they are built to.
 *
 * Contract:
 * - start() returns a durable handle (text) naming the attempt in a way that
 *   survives a restart of jobsd: for the local executor the supervisor's pid
 *   and its start time (pid alone can be reused), for Slurm the job id. The
 *   engine stores the handle before it reports the attempt RUNNING.
 * - The executor never decides run states. It reports what it observed
 *   (exited with a code, killed by a signal, lost) and the engine maps that to
 *   the API's life_cycle_state / result_state on its own thread.
 * - Each attempt has a folder (attempt_dir) where the supervisor writes the
 *   task's stdout/stderr and, atomically (tmp, fsync, rename, fsync dir), its
 *   final status: the source of truth when jobsd restarts.
 * - reattach() is called at start-up for every attempt the store believes is
 *   running; it must not kill anything.
 *
 * Threads: called from the engine thread only.
 */
#ifndef JOBSD_EXEC_EXECUTOR_H
#define JOBSD_EXEC_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

struct executor;

struct exec_spec {
	int64_t run_id;          /* the task run id */
	const char *task_key;
	int attempt;             /* 0 for the first */
	const char *attempt_dir; /* exists; logs and status go here */
	const char *const *argv; /* the command, argv[0] resolved */
	const char *const *envp;
	const char *cwd;
	int64_t timeout_ms;      /* 0: none; enforced by the engine, executors may help */
};

enum exec_state {
	EXEC_RUNNING,
	EXEC_EXITED,   /* exit_code is valid */
	EXEC_SIGNALED, /* term_signal is valid */
	EXEC_LOST,     /* no supervisor and no final status: what happened is unknown */
};

struct exec_status {
	enum exec_state state;
	int exit_code;
	int term_signal;
	int64_t start_ms, end_ms;
	int64_t user_us, sys_us, max_rss_kb;
};

struct executor_backend {
	const char *name;
	/* Starts an attempt; writes its durable handle to handle (n bytes).
	 * 0, or a negative errno with nothing left running. */
	int (*start)(struct executor *ex, const struct exec_spec *spec, char *handle, size_t n);
	/* Reads the attempt's current status without blocking. */
	int (*poll)(struct executor *ex, const char *handle, struct exec_status *out);
	/* Asks the attempt to stop: SIGTERM to its process group, SIGKILL after grace_ms. */
	int (*cancel)(struct executor *ex, const char *handle, int grace_ms);
	/* At start-up: finds an attempt again after a restart of jobsd. */
	int (*reattach)(struct executor *ex, const char *handle, struct exec_status *out);
	void (*close)(struct executor *ex);
};

struct executor {
	const struct executor_backend *ops;
};

#endif
