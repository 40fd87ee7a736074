/* local_test.c - tests for src/exec/local.c together with the supervisor
 * (src/exec/supervisor.c): real supervisors running real commands
 * (/bin/sh -c ...), each case in its own mkdtemp attempt folder.
 *
 * The supervisor binary is $JOBSD_TEST_SUPERVISOR (scripts/run-tests.sh sets it
 * to the one of the build under test), else build/asan/jobsd-supervisor
 * under the current directory (the repository root).
 *
 * Waiting is done on the watch fd (a pidfd) or by polling a file every few
 * ms, never with a fixed sleep. A case that fails half-way leaves nothing
 * running: the teardown cancels what the case started.
 * Single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "exec/executor.h"
#include "exec/local.h"
#include "testutil.h"
#include "util/clock.h"
#include "util/fsio.h"
#include "util/log.h"

extern char **environ;

/* Every case that stops a task uses this grace, so stopping is quick. */
#define GRACE_MS 200

struct t {
	char dir[256]; /* the attempt folder */
	struct executor *ex;
	char handle[EXEC_HANDLE_MAX]; /* what teardown must stop, "" if nothing */
	int fd;
};

static char supervisor[PATH_MAX];

static int64_t mono_ms(void) { return clock_mono_us(&clock_system) / 1000; }

static void nap_ms(int ms)
{
	struct timespec ts = {0, (long)ms * 1000000};
	nanosleep(&ts, NULL);
}

static int t_setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	if (!t || test_mkdtemp(t->dir, sizeof(t->dir), "local_test") != 0)
		return -1;
	if (exec_local_open(&t->ex, supervisor) != 0)
		return -1;
	t->fd = -1;
	*state = t;
	return 0;
}

static int t_teardown(void **state)
{
	struct t *t = *state;
	if (t->handle[0]) {
		/* A case failed half-way: stop its task, wait for the status. */
		t->ex->ops->cancel(t->ex, t->handle);
		struct exec_status st;
		for (int i = 0; i < 500 && exec_local_read_status(t->dir, &st) != 0; i++)
			nap_ms(10);
		t->ex->ops->release(t->ex, t->handle, t->fd);
	}
	t->ex->ops->close(t->ex);
	int rc = test_rmtree(t->dir);
	free(t);
	return rc;
}

static int start_spec(struct t *t, struct exec_spec *spec)
{
	spec->attempt_dir = t->dir;
	if (!spec->grace_ms)
		spec->grace_ms = GRACE_MS;
	if (!spec->envp)
		spec->envp = (const char *const *)environ;
	spec->run_id = 42;
	spec->task_key = "task";
	int rc = t->ex->ops->start(t->ex, spec, t->handle, sizeof(t->handle), &t->fd);
	if (rc == 0) {
		assert_true(t->fd >= 0);
		assert_int_equal(strncmp(t->handle, "local:", 6), 0);
	}
	return rc;
}

static void start_sh(struct t *t, const char *script, int64_t timeout_ms)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct exec_spec spec = {.argv = argv, .timeout_ms = timeout_ms};
	assert_int_equal(start_spec(t, &spec), 0);
}

/* Waits (at most max_ms) for the watch fd to say the attempt ended. */
static void wait_fd(int fd, int max_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n;
	do
		n = poll(&p, 1, max_ms);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		fail_msg("the attempt did not end within %d ms", max_ms);
}

/* Waits for the end, reads the status, releases the attempt. */
static void finish(struct t *t, struct exec_status *st)
{
	wait_fd(t->fd, 5000);
	assert_int_equal(t->ex->ops->poll(t->ex, t->dir, t->handle, st), 0);
	t->ex->ops->release(t->ex, t->handle, t->fd);
	t->handle[0] = '\0';
	t->fd = -1;
	assert_true(st->state == EXEC_EXITED || st->state == EXEC_SIGNALED);
	assert_true(st->start_ms > 0 && st->end_ms >= st->start_ms);
}

static char *slurp(struct t *t, const char *name)
{
	char path[PATH_MAX], *text = NULL;
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	int rc = fsio_read_all(path, 1 << 20, &text, &len);
	if (rc < 0)
		fail_msg("cannot read '%s': %s", path, strerror(-rc));
	return text;
}

/* Waits until the file exists and contains want. */
static void wait_for(struct t *t, const char *name, const char *want)
{
	char path[PATH_MAX], *text;
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	for (int64_t end = mono_ms() + 5000; mono_ms() < end; nap_ms(2)) {
		if (fsio_read_all(path, 1 << 20, &text, &len) < 0)
			continue;
		bool found = strstr(text, want) != NULL;
		free(text);
		if (found)
			return;
	}
	fail_msg("'%s' never contained '%s'", name, want);
}

static void touch(struct t *t, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(fsio_write_atomic(path, "", 0, 0600), 0);
}

static long read_pid(struct t *t, const char *name)
{
	char *text = slurp(t, name);
	long pid = strtol(text, NULL, 10);
	free(text);
	assert_true(pid > 0);
	return pid;
}

/* The value of a `key value` line of one of the supervisor's files. */
static long long file_key(struct t *t, const char *name, const char *key)
{
	char *text = slurp(t, name), *p = text;
	size_t klen = strlen(key);
	while (p && !(strncmp(p, key, klen) == 0 && p[klen] == ' '))
		p = (p = strchr(p, '\n')) ? p + 1 : NULL;
	if (!p)
		fail_msg("no '%s' in '%s'", key, name);
	long long v = strtoll(p + klen + 1, NULL, 10);
	free(text);
	return v;
}

/* True once pid is gone or a zombie (an orphan may wait for an init that
 * does not reap in a container). */
static bool dead(long pid)
{
	/* Not fsio_read_all: /proc files report a size of 0. */
	char path[64], text[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return true;
	text[n] = '\0';
	char *p = strrchr(text, ')');
	return p && (p[2] == 'Z' || p[2] == 'X');
}

static void assert_dies(long pid)
{
	for (int64_t end = mono_ms() + 2000; mono_ms() < end; nap_ms(2))
		if (dead(pid))
			return;
	fail_msg("process %ld still alive", pid);
}

/* --- how tasks end --------------------------------------------------------------- */

static void test_exit_zero(void **state)
{
	struct t *t = *state;
	int64_t before = clock_now_ms(&clock_system);
	start_sh(t, "exit 0", 0);
	struct exec_status st;
	finish(t, &st);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);
	assert_int_equal(st.term_signal, 0);
	assert_false(st.timed_out);
	assert_false(st.canceled);
	assert_true(st.start_ms >= before - 1000 && st.end_ms <= clock_now_ms(&clock_system));
	assert_true(st.max_rss_kb > 0);
	assert_true(st.user_us >= 0 && st.sys_us >= 0);
	/* The files are private to the attempt's owner. */
	char path[PATH_MAX];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/status", t->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_exit_code(void **state)
{
	struct t *t = *state;
	start_sh(t, "exit 3", 0);
	struct exec_status st;
	finish(t, &st);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 3);
	/* The same as recovery code reads it. */
	struct exec_status again;
	assert_int_equal(exec_local_read_status(t->dir, &again), 0);
	assert_memory_equal(&st, &again, sizeof(st));
}

static void test_killed_by_signal(void **state)
{
	struct t *t = *state;
	start_sh(t, "kill -KILL $$", 0);
	struct exec_status st;
	finish(t, &st);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.term_signal, SIGKILL);
	assert_false(st.canceled);
}

static void test_exec_failure(void **state)
{
	struct t *t = *state;
	const char *argv[] = {"/nonexistent/jobsd-task", "x", NULL};
	struct exec_spec spec = {.argv = argv};
	assert_int_equal(start_spec(t, &spec), 0);
	struct exec_status st;
	finish(t, &st);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 127);
	char *err = slurp(t, "stderr");
	assert_string_equal(err, "jobsd-supervisor: cannot run /nonexistent/jobsd-task: No such "
				 "file or directory\n");
	free(err);
}

static void test_output_environment_cwd(void **state)
{
	struct t *t = *state;
	/* cat: stdin is /dev/null, so it returns at once. */
	const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; pwd; echo \"$FOO\"; cat",
			      NULL};
	const char *envp[] = {"FOO=bar baz", "PATH=/usr/bin:/bin", NULL};
	struct exec_spec spec = {.argv = argv, .envp = envp};
	assert_int_equal(start_spec(t, &spec), 0);
	struct exec_status st;
	finish(t, &st);
	assert_int_equal(st.exit_code, 0);
	char real[PATH_MAX], want[PATH_MAX + 32];
	assert_non_null(realpath(t->dir, real));
	snprintf(want, sizeof(want), "out\n%s\nbar baz\n", real); /* cwd: the attempt folder */
	char *out = slurp(t, "stdout"), *err = slurp(t, "stderr");
	assert_string_equal(out, want);
	assert_string_equal(err, "err\n");
	free(out);
	free(err);

	/* An explicit cwd. */
	const char *argv2[] = {"/bin/sh", "-c", "pwd", NULL};
	struct exec_spec spec2 = {.argv = argv2, .cwd = "/"};
	assert_int_equal(start_spec(t, &spec2), 0);
	finish(t, &st);
	out = slurp(t, "stdout"); /* truncated by the new attempt */
	assert_string_equal(out, "/\n");
	free(out);
}

/* --- stopping tasks --------------------------------------------------------------- */

static void test_cancel_trapped(void **state)
{
	struct t *t = *state;
	start_sh(t, "trap 'echo bye; exit 7' TERM; echo ready; while :; do sleep 0.05; done", 0);
	wait_for(t, "stdout", "ready");
	assert_int_equal(t->ex->ops->cancel(t->ex, t->handle), 0);
	struct exec_status st;
	finish(t, &st);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 7);
	assert_true(st.canceled);
	assert_false(st.timed_out);
	char *out = slurp(t, "stdout");
	assert_string_equal(out, "ready\nbye\n");
	free(out);
}

static void test_cancel_ignored_then_killed(void **state)
{
	struct t *t = *state;
	start_sh(t, "trap '' TERM; echo ready; while :; do sleep 0.05; done", 0);
	wait_for(t, "stdout", "ready");
	char handle[EXEC_HANDLE_MAX];
	snprintf(handle, sizeof(handle), "%s", t->handle);
	int64_t t0 = mono_ms();
	assert_int_equal(t->ex->ops->cancel(t->ex, handle), 0);
	/* A second cancel changes nothing. */
	assert_int_equal(t->ex->ops->cancel(t->ex, handle), 0);
	struct exec_status st;
	finish(t, &st);
	int64_t took = mono_ms() - t0;
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.term_signal, SIGKILL);
	assert_true(st.canceled);
	assert_true(took >= GRACE_MS && took < GRACE_MS + 2000);
	char *err = slurp(t, "stderr");
	assert_non_null(strstr(err, "sending SIGKILL"));
	free(err);
	/* Nothing left to cancel. */
	assert_int_equal(t->ex->ops->cancel(t->ex, handle), -ESRCH);
}

static void test_timeout(void **state)
{
	struct t *t = *state;
	int64_t t0 = mono_ms();
	start_sh(t, "sleep 5", 200);
	struct exec_status st;
	finish(t, &st);
	int64_t took = mono_ms() - t0;
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.term_signal, SIGTERM);
	assert_true(st.timed_out);
	assert_false(st.canceled);
	assert_true(took >= 200 && took < 2000);
	assert_true(st.end_ms - st.start_ms >= 200);
}

static void test_cancel_at_once(void **state)
{
	/* A cancel sent before the supervisor has set itself up is kept
	 * pending (it is spawned with the signals blocked): the attempt ends
	 * canceled, never lost. */
	struct t *t = *state;
	for (int i = 0; i < 3; i++) {
		start_sh(t, "sleep 5", 0);
		assert_int_equal(t->ex->ops->cancel(t->ex, t->handle), 0);
		struct exec_status st;
		finish(t, &st);
		assert_true(st.canceled);
		assert_int_equal(st.state, EXEC_SIGNALED);
		assert_int_equal(st.term_signal, SIGTERM);
	}
}

static void test_cancel_kills_the_group(void **state)
{
	struct t *t = *state;
	/* bg1 dies of the SIGTERM to the group; bg2 ignores it and is swept
	 * by the SIGKILL once the task itself has exited. */
	start_sh(t,
		 "sleep 30 & echo $! > bg1; (trap '' TERM; exec sleep 30) & echo $! > bg2; "
		 "trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done",
		 0);
	wait_for(t, "stdout", "ready");
	long bg1 = read_pid(t, "bg1"), bg2 = read_pid(t, "bg2");
	assert_false(dead(bg1));
	assert_false(dead(bg2));
	assert_int_equal(t->ex->ops->cancel(t->ex, t->handle), 0);
	struct exec_status st;
	finish(t, &st);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);
	assert_true(st.canceled);
	assert_dies(bg1);
	assert_dies(bg2);
}

static void test_exit_sweeps_the_group(void **state)
{
	/* Nothing of a finished attempt outlives it. */
	struct t *t = *state;
	start_sh(t, "sleep 30 & echo $! > bg; exit 0", 0);
	struct exec_status st;
	finish(t, &st);
	assert_int_equal(st.exit_code, 0);
	assert_dies(read_pid(t, "bg"));
}

/* --- watching, restarts, identity ---------------------------------------------------- */

static void test_poll_while_running(void **state)
{
	struct t *t = *state;
	start_sh(t, "echo ready; exec sleep 30", 0);
	wait_for(t, "supervisor", "start_ms");
	struct exec_status st;
	assert_int_equal(t->ex->ops->poll(t->ex, t->dir, t->handle, &st), 0);
	assert_int_equal(st.state, EXEC_RUNNING);
	assert_true(st.start_ms > 0);
	assert_int_equal(st.end_ms, 0);
	assert_int_equal(st.start_ms, file_key(t, "supervisor", "start_ms"));
	/* Recovery finds the same handle from the folder alone. */
	char h[EXEC_HANDLE_MAX];
	assert_int_equal(exec_local_handle_from_dir(t->dir, h, sizeof(h)), 0);
	assert_string_equal(h, t->handle);
	assert_int_equal(exec_local_handle_from_dir(t->dir, h, 8), -ENAMETOOLONG);
	/* The watch fd stays quiet while it runs. */
	struct pollfd p = {.fd = t->fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0);

	assert_int_equal(t->ex->ops->cancel(t->ex, t->handle), 0);
	finish(t, &st);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.term_signal, SIGTERM);
	assert_true(st.canceled);
}

static void test_reattach_after_restart(void **state)
{
	struct t *t = *state;
	start_sh(t, "echo ready; while [ ! -e go ]; do sleep 0.02; done; echo done; exit 5", 0);
	wait_for(t, "stdout", "ready");
	/* "Restart": the old executor and its watch fd are gone. */
	close(t->fd);
	t->ex->ops->close(t->ex);
	assert_int_equal(exec_local_open(&t->ex, supervisor), 0);
	t->fd = -1;

	struct exec_status st;
	assert_int_equal(t->ex->ops->reattach(t->ex, t->dir, t->handle, &st, &t->fd), 0);
	assert_int_equal(st.state, EXEC_RUNNING);
	assert_true(t->fd >= 0);
	struct pollfd p = {.fd = t->fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0); /* still running: reattach killed nothing */

	touch(t, "go");
	finish(t, &st);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 5);
	assert_false(st.canceled);
	char *out = slurp(t, "stdout");
	assert_string_equal(out, "ready\ndone\n");
	free(out);

	/* Reattaching to a finished attempt: its status, no watch fd. */
	int fd = 123;
	char handle[EXEC_HANDLE_MAX];
	assert_int_equal(exec_local_handle_from_dir(t->dir, handle, sizeof(handle)), 0);
	assert_int_equal(t->ex->ops->reattach(t->ex, t->dir, handle, &st, &fd), 0);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 5);
	assert_int_equal(fd, -1);
}

static void test_wrong_identity_is_lost(void **state)
{
	struct t *t = *state;
	start_sh(t, "echo ready; exec sleep 30", 0);
	wait_for(t, "stdout", "ready");
	int pid;
	unsigned long long ticks;
	char boot[32], bad[EXEC_HANDLE_MAX];
	assert_int_equal(sscanf(t->handle, "local:%d:%llu:%31s", &pid, &ticks, boot), 3);

	/* The same pid with another start time (the pid was reused), or
	 * another boot: not ours. Lost, never signalled. */
	const char *wrong_boot = strcmp(boot, "0123456789abcdef") ? "0123456789abcdef" : "1";
	char bads[2][EXEC_HANDLE_MAX];
	snprintf(bads[0], sizeof(bads[0]), "local:%d:%llu:%s", pid, ticks + 1, boot);
	snprintf(bads[1], sizeof(bads[1]), "local:%d:%llu:%s", pid, ticks, wrong_boot);
	for (int i = 0; i < 2; i++) {
		struct exec_status st;
		int fd = 123;
		assert_int_equal(t->ex->ops->poll(t->ex, t->dir, bads[i], &st), 0);
		assert_int_equal(st.state, EXEC_LOST);
		assert_int_equal(t->ex->ops->reattach(t->ex, t->dir, bads[i], &st, &fd), 0);
		assert_int_equal(st.state, EXEC_LOST);
		assert_int_equal(fd, -1);
		assert_int_equal(t->ex->ops->cancel(t->ex, bads[i]), -ESRCH);
	}
	/* Handles that are not ours at all. */
	static const char *const junk[] = {
		"",
		"slurm:12",
		"local:",
		"local:0:1:ab",
		"local:-5:1:ab",
		"local:12:x:ab",
		"local:12:34:",
		"local:12:34:XYZ",
		"local:12:34:0123456789abcdef0",
		"local:12:34",
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		struct exec_status st;
		int fd;
		assert_int_equal(t->ex->ops->poll(t->ex, t->dir, junk[i], &st), -EINVAL);
		assert_int_equal(t->ex->ops->cancel(t->ex, junk[i]), -EINVAL);
		assert_int_equal(t->ex->ops->reattach(t->ex, t->dir, junk[i], &st, &fd), -EINVAL);
	}
	snprintf(bad, sizeof(bad), "%s", t->handle);

	/* The real one still runs, untouched. */
	struct exec_status st;
	assert_int_equal(t->ex->ops->poll(t->ex, t->dir, t->handle, &st), 0);
	assert_int_equal(st.state, EXEC_RUNNING);
	assert_int_equal(t->ex->ops->cancel(t->ex, t->handle), 0);
	finish(t, &st);
	assert_int_equal(st.term_signal, SIGTERM);

	/* A supervisor that died without a status: lost. Its folder is
	 * reused here with the status removed to stand for one. */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/status", t->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(t->ex->ops->poll(t->ex, t->dir, bad, &st), 0);
	assert_int_equal(st.state, EXEC_LOST);
	assert_true(st.start_ms > 0); /* from the supervisor file */
}

static void test_survives_its_parent(void **state)
{
	struct t *t = *state;
	/* An intermediate process starts the attempt and exits without a
	 * word, as a crashing jobsd would. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		struct executor *ex;
		const char *argv[] = {"/bin/sh", "-c",
				      "echo ready; while [ ! -e go ]; do sleep 0.02; done; exit 4",
				      NULL};
		struct exec_spec spec = {.attempt_dir = t->dir,
					 .argv = argv,
					 .envp = (const char *const *)environ,
					 .grace_ms = GRACE_MS};
		char h[EXEC_HANDLE_MAX];
		int fd;
		if (exec_local_open(&ex, supervisor) != 0 ||
		    ex->ops->start(ex, &spec, h, sizeof(h), &fd) != 0)
			_exit(1);
		ssize_t w = write(p[1], h, strlen(h) + 1);
		_exit(w > 0 ? 0 : 1);
	}
	close(p[1]);
	ssize_t n = read(p[0], t->handle, sizeof(t->handle) - 1);
	close(p[0]);
	int ws;
	assert_int_equal(waitpid(mid, &ws, 0), mid);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_true(n > 0);
	t->handle[n] = '\0';

	wait_for(t, "stdout", "ready");
	wait_for(t, "supervisor", "start_ms");
	/* Sessions of their own: nothing of the parent's reaches them. */
	pid_t sup = (pid_t)file_key(t, "supervisor", "pid");
	pid_t task = (pid_t)file_key(t, "supervisor", "task_pid");
	assert_int_equal(getsid(sup), sup);
	assert_int_equal(getsid(task), task);
	assert_int_equal(getpgid(task), task);
	assert_true(getsid(0) != sup && getsid(0) != task);
	assert_true(getpgid(0) != task);

	struct exec_status st;
	assert_int_equal(t->ex->ops->reattach(t->ex, t->dir, t->handle, &st, &t->fd), 0);
	assert_int_equal(st.state, EXEC_RUNNING);
	touch(t, "go");
	finish(t, &st); /* release: not our child, ECHILD is fine */
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 4);
}

static void test_supervisor_killed_is_lost(void **state)
{
	/* Nobody records how the task ends: the attempt is lost, and the
	 * task does not run on unseen. */
	struct t *t = *state;
	start_sh(t, "echo ready; exec sleep 30", 0);
	wait_for(t, "supervisor", "start_ms");
	pid_t sup = (pid_t)file_key(t, "supervisor", "pid");
	long task = (long)file_key(t, "supervisor", "task_pid");
	assert_false(dead(task));
	assert_int_equal(kill(sup, SIGKILL), 0); /* our child: the pid is its own */
	wait_fd(t->fd, 5000);
	struct exec_status st;
	assert_int_equal(t->ex->ops->poll(t->ex, t->dir, t->handle, &st), 0);
	assert_int_equal(st.state, EXEC_LOST);
	assert_int_equal(t->ex->ops->cancel(t->ex, t->handle), -ESRCH);
	t->ex->ops->release(t->ex, t->handle, t->fd);
	t->handle[0] = '\0';
	t->fd = -1;
	assert_dies(task);
}

/* --- failures and the file formats -------------------------------------------------- */

static void test_start_failures(void **state)
{
	struct t *t = *state;
	struct executor *ex;
	assert_int_equal(exec_local_open(&ex, "jobsd-supervisor"), -EINVAL);
	assert_int_equal(exec_local_open(&ex, "/nonexistent/jobsd-supervisor"), -ENOENT);

	/* argv[0] must be absolute. */
	const char *rel[] = {"sh", "-c", "exit 0", NULL};
	struct exec_spec spec = {.argv = rel};
	assert_int_equal(start_spec(t, &spec), -EINVAL);
	assert_int_equal(t->fd, -1);
	assert_string_equal(t->handle, "");
	char *err = slurp(t, "stderr");
	assert_string_equal(err, "jobsd: cannot run 'sh': not an absolute path\n");
	free(err);

	/* The supervisor vanished after open: the spawn fails, nothing runs. */
	char link[PATH_MAX], path[PATH_MAX];
	snprintf(link, sizeof(link), "%s/sv", t->dir);
	assert_int_equal(symlink("/bin/true", link), 0);
	assert_int_equal(exec_local_open(&ex, link), 0);
	assert_int_equal(unlink(link), 0);
	const char *argv[] = {"/bin/true", NULL};
	struct exec_spec spec2 = {.attempt_dir = t->dir, .argv = argv, .grace_ms = GRACE_MS};
	char h[EXEC_HANDLE_MAX] = "x";
	int fd = 123;
	assert_int_equal(ex->ops->start(ex, &spec2, h, sizeof(h), &fd), -ENOENT);
	assert_int_equal(fd, -1);
	assert_string_equal(h, "");
	err = slurp(t, "stderr");
	assert_non_null(strstr(err, "jobsd: cannot start the supervisor"));
	assert_non_null(strstr(err, "No such file or directory\n"));
	free(err);
	snprintf(path, sizeof(path), "%s/supervisor", t->dir);
	assert_int_equal(access(path, F_OK), -1);
	ex->ops->close(ex);
	ex = NULL;
	t->ex->ops->close(NULL); /* close accepts NULL */
}

static void put(struct t *t, const char *name, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(fsio_write_atomic(path, text, strlen(text), 0600), 0);
}

static void test_status_file_format(void **state)
{
	struct t *t = *state;
	struct exec_status st;
	char h[EXEC_HANDLE_MAX];
	assert_int_equal(exec_local_read_status(t->dir, &st), -ENOENT);
	assert_int_equal(exec_local_handle_from_dir(t->dir, h, sizeof(h)), -ENOENT);

	put(t, "status",
	    "exit_code -1\nsignal 15\ntimed_out 1\ncanceled 0\nstart_ms 1000\nend_ms 2500\n"
	    "user_us 7\nsys_us 8\nmax_rss_kb 9\nfuture_key anything\n");
	assert_int_equal(exec_local_read_status(t->dir, &st), 0);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.term_signal, 15);
	assert_true(st.timed_out);
	assert_false(st.canceled);
	assert_int_equal(st.start_ms, 1000);
	assert_int_equal(st.end_ms, 2500);
	assert_int_equal(st.user_us, 7);
	assert_int_equal(st.sys_us, 8);
	assert_int_equal(st.max_rss_kb, 9);

	/* Only exit_code and signal are required (older supervisors). */
	put(t, "status", "signal 0\nexit_code 2");
	assert_int_equal(exec_local_read_status(t->dir, &st), 0);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 2);
	assert_int_equal(st.end_ms, 0);

	static const char *const bad[] = {
		"",
		"exit_code 0\n",
		"signal 0\n",
		"exit_code x\nsignal 0\n",
		"exit_code 0\nsignal 0\nend_ms 12x\n",
		"exit_code 256\nsignal 0\n",
		"exit_code -1\nsignal 0\n",
		"exit_code 0\nsignal 999\n",
		"exit_code  0\nsignal 0\n",
		"exit_code 99999999999999999999\nsignal 0\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(t, "status", bad[i]);
		if (exec_local_read_status(t->dir, &st) != -EBADMSG)
			fail_msg("accepted status file %zu: '%s'", i, bad[i]);
	}

	put(t, "supervisor",
	    "pid 77\nstart_ticks 88\nboot_id 0123abcd-4567-89ef-0123-456789abcdef\n");
	assert_int_equal(exec_local_handle_from_dir(t->dir, h, sizeof(h)), 0);
	assert_string_equal(h, "local:77:88:0123abcd456789ef");
	put(t, "supervisor", "pid x\nstart_ticks 88\nboot_id -\n");
	assert_int_equal(exec_local_handle_from_dir(t->dir, h, sizeof(h)), -EBADMSG);
}

#define T(f) cmocka_unit_test_setup_teardown(f, t_setup, t_teardown)

int main(void)
{
	const char *env = getenv("JOBSD_TEST_SUPERVISOR");
	if (env && *env)
		snprintf(supervisor, sizeof(supervisor), "%s", env);
	else if (!realpath("build/asan/jobsd-supervisor", supervisor)) {
		fprintf(stderr, "local_test: no supervisor: set JOBSD_TEST_SUPERVISOR or run from the "
				"repository root after make asan\n");
		return 1;
	}
	log_set_level(LOG_OFF); /* the cases provoke errors on purpose */
	const struct CMUnitTest tests[] = {
		T(test_exit_zero),
		T(test_exit_code),
		T(test_killed_by_signal),
		T(test_exec_failure),
		T(test_output_environment_cwd),
		T(test_cancel_trapped),
		T(test_cancel_ignored_then_killed),
		T(test_timeout),
		T(test_cancel_at_once),
		T(test_cancel_kills_the_group),
		T(test_exit_sweeps_the_group),
		T(test_poll_while_running),
		T(test_reattach_after_restart),
		T(test_wrong_identity_is_lost),
		T(test_survives_its_parent),
		T(test_supervisor_killed_is_lost),
		T(test_start_failures),
		T(test_status_file_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
