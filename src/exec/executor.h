/* executor.h - where task attempts run: the interface the run engine drives.
 *
 * Backends (exec/local.c: processes under supervisors that outlive jobsd;
 * exec/slurm.c later: one Slurm job per attempt) implement struct
 * executor_backend; the engine sees only these calls.
 *
 * Contract:
 * - start() returns a durable handle (text) naming the attempt in a way that
 *   survives a restart of jobsd: for the local executor the supervisor's pid
 *   and its start time (pid alone can be reused). The engine stores the
 *   handle with the attempt.
 * - start() also returns a watch fd (a pidfd for the local executor) that
 *   becomes readable (EPOLLIN) once the attempt has ended; the engine puts it
 *   in its epoll set and calls poll() when it fires. -1 means the backend has
 *   no such fd and the engine polls on a timer.
 * - The executor never decides run states. It reports what it observed
 *   (exited with a code, killed by a signal, timed out, canceled, lost) and
 *   the engine maps that to the API's life_cycle_state / result_state.
 * - Each attempt has a folder (attempt_dir) where the supervisor writes the
 *   task's stdout and stderr and, atomically (tmp, fsync, rename, fsync dir),
 *   its final status: the source of truth when jobsd restarts.
 * - reattach() is called at start-up for every attempt the store believes is
 *   running; it must not kill anything.
 *
 * Threads: called from the engine thread only.
 */
#ifndef JOBSD_EXEC_EXECUTOR_H
#define JOBSD_EXEC_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct executor;

/* Longest handle text, NUL included. */
#define EXEC_HANDLE_MAX 64

struct exec_spec {
	int64_t run_id;		 /* the task run id */
	const char *task_key;
	int attempt;		 /* 0 for the first */
	const char *attempt_dir; /* exists; logs and status go here */
	const char *const *argv; /* the command; argv[0] an absolute path */
	const char *const *envp; /* the task's whole environment */
	const char *cwd;	 /* NULL: attempt_dir */
	int64_t timeout_ms;	 /* 0: none. The supervisor enforces it (SIGTERM, grace, SIGKILL) */
	int grace_ms;		 /* SIGTERM to SIGKILL on cancel and timeout */
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
	bool timed_out; /* the supervisor ended it at timeout_ms */
	bool canceled;	/* the supervisor ended it on cancel() */
	int64_t start_ms, end_ms; /* wall clock, epoch ms; end_ms 0 while running */
	int64_t user_us, sys_us, max_rss_kb;
};

struct executor_backend {
	const char *name;
	/* Starts an attempt; writes its durable handle to handle (n bytes) and
	 * the watch fd to *watch_fd. 0, or a negative errno with nothing left
	 * running (and a line in the attempt's stderr file saying why when it
	 * could be written). */
	int (*start)(struct executor *ex, const struct exec_spec *spec, char *handle, size_t n,
		     int *watch_fd);
	/* Reads the attempt's current status without blocking. */
	int (*poll)(struct executor *ex, const char *attempt_dir, const char *handle,
		    struct exec_status *out);
	/* Asks the attempt to stop: its supervisor sends SIGTERM to the task's
	 * process group and SIGKILL after the grace period. Returns at once. */
	int (*cancel)(struct executor *ex, const char *handle);
	/* At start-up: finds an attempt again after a restart of jobsd. Fills
	 * out as poll() does and, while it runs, opens a new watch fd. */
	int (*reattach)(struct executor *ex, const char *attempt_dir, const char *handle,
			struct exec_status *out, int *watch_fd);
	/* At start-up: the handle of an attempt that was started but whose
	 * handle was never stored (jobsd died in between), found from what
	 * the attempt left in attempt_dir. 0, or -ENOENT if it never started. */
	int (*find)(struct executor *ex, const char *attempt_dir, char *handle, size_t n);
	/* The attempt is finished with: reaps what is left of it and closes
	 * watch_fd (which may be -1). */
	void (*release)(struct executor *ex, const char *handle, int watch_fd);
	void (*close)(struct executor *ex);
};

struct executor {
	const struct executor_backend *ops;
};

#endif
