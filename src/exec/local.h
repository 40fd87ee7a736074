/* local.h - the local executor: each task attempt runs as a process under
 * its own jobsd-supervisor (src/exec/supervisor.c), which outlives jobsd and
 * records how the attempt ended in the attempt's folder (ARCHITECTURE.md
 * invariant 4; docs/internals/executor.md).
 *
 * Handle: "local:<pid>:<start_ticks>:<boot>", the supervisor's pid, its start
 * time (field 22 of /proc/<pid>/stat) and the first 16 hex digits of the
 * kernel's boot id. A pid alone is reused; pid and start time can repeat
 * after a reboot; all three name one process. Nothing is ever signalled or
 * reported running unless all three match a live process.
 *
 * Backend specifics, beyond executor.h:
 * - start(): argv[0] must be absolute (-EINVAL otherwise); envp NULL means an
 *   empty environment, never jobsd's own; grace_ms <= 0 means 10 s. The
 *   watch fd is a pidfd of the supervisor (O_CLOEXEC), or -1 in the rare
 *   case one cannot be opened, when the engine must poll on a timer.
 * - poll() and reattach() return 0 and fill the status (EXITED, SIGNALED,
 *   RUNNING or LOST), or -EINVAL for a handle that is not ours. A status
 *   file that cannot be parsed is logged and treated as missing.
 * - cancel() returns 0 once the supervisor has been sent SIGTERM, -ESRCH
 *   when no live supervisor matches the handle (finished, lost, or the pid
 *   now names another process: nothing is signalled), -EINVAL for a bad
 *   handle.
 * - release() should come after the attempt has ended; a supervisor still
 *   running is left alone (and stays a zombie of jobsd when it ends).
 *
 * Threads: the executor is used from the engine thread only. The two
 * helpers below read files only and are safe from any thread.
 */
#ifndef JOBSD_EXEC_LOCAL_H
#define JOBSD_EXEC_LOCAL_H

#include <stddef.h>

#include "exec/executor.h"

/* A local executor running supervisor_path (absolute, executable) for each
 * attempt. 0 and *out (freed by its close op), -EINVAL for a relative path,
 * or the negative errno of checking that the file is executable. */
int exec_local_open(struct executor **out, const char *supervisor_path);

/* Reads the final status the supervisor wrote into attempt_dir. 0 and out
 * filled (EXITED or SIGNALED); -ENOENT when the attempt has not ended (or
 * its supervisor died before writing it); -EBADMSG when the file is not a
 * status file; another negative errno if it cannot be read. */
int exec_local_read_status(const char *attempt_dir, struct exec_status *out);

/* The handle of the supervisor that started in attempt_dir, from the
 * 'supervisor' file it writes once the task runs: for recovery when jobsd
 * died between start() and storing the handle. 0, -ENOENT if there is no
 * such file (no supervisor got that far), -EBADMSG if it cannot be parsed,
 * -ENAMETOOLONG if n is too small (EXEC_HANDLE_MAX always suffices). */
int exec_local_handle_from_dir(const char *attempt_dir, char *handle, size_t n);

#endif
