/* supervisor.c - jobsd-supervisor: runs one task attempt and records how it
 * ended, whether or not jobsd is still alive.
 *
 *   jobsd-supervisor --dir ATTEMPT_DIR [--cwd DIR] [--timeout-ms N]
 *                    [--grace-ms N] -- /abs/program args...
 *
 * One supervisor per attempt (ARCHITECTURE.md invariant 4). exec/local.c
 * spawns it in a session of its own with SIGTERM, SIGINT, SIGHUP and SIGCHLD
 * already blocked; from then on nothing ties it to jobsd: its stdin is
 * /dev/null, its stdout and stderr are the attempt's files, it ignores
 * SIGPIPE, and no fd of jobsd survives close_range().
 *
 * Files in ATTEMPT_DIR (all 0600):
 *   stdout, stderr  the task's output; the supervisor's own messages, one
 *                   line each starting "jobsd-supervisor:", go to stderr too
 *   supervisor      `key value` lines written atomically once the task runs:
 *                   pid, start_ticks (field 22 of /proc/<pid>/stat), boot_id,
 *                   task_pid, start_ms. jobsd uses it to find this process
 *                   again when it crashed before storing the handle.
 *   status          `key value` lines written atomically once the task has
 *                   ended: exit_code (-1 when killed by a signal), signal,
 *                   timed_out, canceled, start_ms, end_ms (wall clock, epoch
 *                   ms), user_us, sys_us, max_rss_kb. Its presence means the
 *                   attempt is over; it is the source of truth after a
 *                   restart of jobsd.
 *
 * Stopping: SIGTERM, SIGINT or SIGHUP to the supervisor (cancel) or the
 * timeout sends SIGTERM and SIGCONT to the task's process group, then
 * SIGKILL to the group grace-ms later if the task still lives. The first
 * reason wins; a second request changes nothing. If the supervisor itself
 * is killed, the task gets SIGKILL (PR_SET_PDEATHSIG): an attempt nobody
 * watches must not go on running.
 *
 * Exit status: 0 once the status file is written; 1 if anything failed
 * (message on stderr, no status file: jobsd sees the attempt as lost);
 * 2 for bad arguments.
 *
 * libc only, single-threaded, no signal handlers: signals are taken
 * synchronously with sigtimedwait(), so there is no async-signal-safety to
 * get wrong. Kept small so it execs about as fast as /bin/true.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_GRACE_MS 10000

extern char **environ;

/* One line on stderr (before setup: jobsd's stderr; after: the attempt's). */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "jobsd-supervisor: ");
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w; /* nowhere better to report it */
}

static int64_t now_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int write_full(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Replaces dirfd/name with buf: tmp, fsync, rename, fsync dir. A crash at
 * any point leaves the old file or the new one, never a part. Only this
 * process writes this directory's files, so a fixed temporary name is safe.
 * 0, or -1 with errno set and the temporary file removed. */
static int write_atomic(int dirfd, const char *name, const char *buf, size_t len)
{
	char tmp[64];
	int e;
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write_full(fd, buf, len) < 0 || fsync(fd) < 0)
		goto fail_close;
	if (close(fd) < 0)
		goto fail_unlink;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail_unlink;
	return fsync(dirfd);

fail_close:
	e = errno;
	close(fd);
	errno = e;
fail_unlink:
	e = errno;
	unlinkat(dirfd, tmp, 0);
	errno = e;
	return -1;
}

/* Reads a small file whole into buf (NUL-terminated). Length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t got;
	do
		got = read(fd, buf, n - 1);
	while (got < 0 && errno == EINTR);
	close(fd);
	if (got < 0)
		return -1;
	buf[got] = '\0';
	return got;
}

/* Field 22 of /proc/self/stat: start time in clock ticks since boot. With
 * the pid it names this process uniquely within one boot. The comm field
 * (2) may hold spaces and ')', so fields are counted after the last ')'. */
static unsigned long long self_start_ticks(void)
{
	char buf[1024];
	if (read_small("/proc/self/stat", buf, sizeof(buf)) < 0)
		return 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* A duration in ms. Clamped to about 31 years, so that µs never overflow:
 * a longer timeout means the same as none. */
static bool parse_ms(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return false;
	*out = v < 1000000000000LL ? v : 1000000000000LL;
	return true;
}

static void usage(void)
{
	say("usage: jobsd-supervisor --dir ATTEMPT_DIR [--cwd DIR] [--timeout-ms N] "
	    "[--grace-ms N] -- /abs/program [args...]");
	exit(2);
}

/* The task's side of fork(): its own session and process group (so one
 * killpg reaches everything it starts), the default signal state, then
 * exec. Its stdin, stdout and stderr are already the supervisor's. */
static __attribute__((noreturn)) void run_task(char **argv, const char *cwd, int dirfd,
					       pid_t supervisor)
{
	setsid();
	/* If the supervisor is killed (SIGKILL, the OOM killer), nobody will
	 * record this task's end and jobsd will call the attempt lost and may
	 * retry it: the task must not run on unseen beside its retry. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != supervisor)
		_exit(127);
	if (cwd ? chdir(cwd) < 0 : fchdir(dirfd) < 0) {
		say("cannot change directory to '%s': %s", cwd ? cwd : "the attempt folder",
		    strerror(errno));
		_exit(127);
	}
	/* Ignored signals stay ignored across exec, blocked ones stay blocked:
	 * the task gets neither our SIGPIPE nor our mask. Caught signals
	 * (sanitizer builds install some) are reset by exec itself. */
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* EINVAL for KILL, STOP, libc's own: fine */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(argv[0], argv, environ);
	say("cannot run %s: %s", argv[0], strerror(errno));
	_exit(127);
}

/* SIGTERM (or SIGKILL) to the task's process group. Before the task has
 * called setsid() the group does not exist yet; the signal then goes to the
 * task itself, which holds it blocked until it has reset its signals. The
 * task is not reaped until the end, so task_pid cannot name anyone else. */
static void signal_task(pid_t task, int sig)
{
	if (killpg(task, sig) < 0 && errno == ESRCH)
		kill(task, sig);
	/* A stopped process would hold SIGTERM pending until someone resumed it. */
	if (sig == SIGTERM)
		killpg(task, SIGCONT);
}

/* The attempt lock's descriptor (see main). */
#define LOCK_FD 3

int main(int argc, char **argv)
{
	/* Signals are read with sigtimedwait() only. jobsd spawns us with
	 * these blocked already, so a cancel sent before this line is kept
	 * pending instead of killing us. */
	sigset_t waitset;
	sigemptyset(&waitset);
	sigaddset(&waitset, SIGCHLD);
	sigaddset(&waitset, SIGTERM);
	sigaddset(&waitset, SIGINT);
	sigaddset(&waitset, SIGHUP);
	sigprocmask(SIG_BLOCK, &waitset, NULL);
	/* jobsd's stderr may be a pipe whose reader is gone. */
	signal(SIGPIPE, SIG_IGN);

	/* Nothing of jobsd (sockets, the database) may leak into tasks. fd 3
	 * is the attempt's lock (jobsd's local.c puts it there): held for as
	 * long as this process lives, it tells a restarted jobsd that this
	 * attempt started even before the 'supervisor' file exists. The task
	 * does not get it (close-on-exec). */
	if (close_range(LOCK_FD + 1, ~0U, 0) < 0) { /* kernels before 5.9 */
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = LOCK_FD + 1; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			close((int)fd);
	}
	fcntl(LOCK_FD, F_SETFD, FD_CLOEXEC);

	const char *dir = NULL, *cwd = NULL;
	int64_t timeout_ms = 0, grace_ms = DEFAULT_GRACE_MS;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(a, "--dir") == 0)
			dir = argv[++i];
		else if (strcmp(a, "--cwd") == 0)
			cwd = argv[++i];
		else if (strcmp(a, "--timeout-ms") == 0) {
			if (!parse_ms(argv[++i], &timeout_ms))
				usage();
		} else if (strcmp(a, "--grace-ms") == 0) {
			if (!parse_ms(argv[++i], &grace_ms))
				usage();
		} else
			usage();
	}
	if (!dir || i >= argc)
		usage();
	char **task_argv = argv + i;

	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		say("cannot open '%s': %s", dir, strerror(errno));
		return 1;
	}
	const int oflags = O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC;
	int in = open("/dev/null", O_RDONLY | O_NOCTTY | O_CLOEXEC);
	int out = openat(dirfd, "stdout", oflags, 0600);
	int err = openat(dirfd, "stderr", oflags, 0600);
	if (in < 0 || out < 0 || err < 0) {
		say("cannot open the output files in '%s': %s", dir, strerror(errno));
		return 1;
	}
	/* From here on our stdio is the task's: the child inherits it, and
	 * our own messages land in the attempt's stderr, not in jobsd's. */
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
		say("cannot redirect stdio: %s", strerror(errno));
		return 1;
	}
	close(in);
	close(out);
	close(err);

	/* Deadlines in µs: ms rounding must not end a task before its
	 * timeout_ms has fully passed. */
	int64_t start_us = now_us(CLOCK_REALTIME), start_ms = start_us / 1000;
	int64_t start_mono = now_us(CLOCK_MONOTONIC);
	pid_t self = getpid();
	pid_t task = fork();
	if (task < 0) {
		say("cannot fork: %s", strerror(errno));
		return 1;
	}
	if (task == 0)
		run_task(task_argv, cwd, dirfd, self);

	char buf[512], boot[40] = "";
	if (read_small("/proc/sys/kernel/random/boot_id", boot, sizeof(boot)) > 0)
		boot[strcspn(boot, "\n")] = '\0';
	int len = snprintf(buf, sizeof(buf),
			   "pid %d\nstart_ticks %llu\nboot_id %s\ntask_pid %d\nstart_ms %lld\n"
			   "start_us %lld\n",
			   (int)self, self_start_ticks(), boot[0] ? boot : "-", (int)task,
			   (long long)start_ms, (long long)start_us);
	/* Not fatal: jobsd normally has the handle from its own start(). */
	if (write_atomic(dirfd, "supervisor", buf, (size_t)len) < 0)
		say("cannot write '%s/supervisor': %s", dir, strerror(errno));

	/* Wait for the task. deadline is when the next step of stopping it
	 * is due (monotonic µs), -1 for none. */
	enum { RUNNING, TERMINATING, KILLED } phase = RUNNING;
	bool timed_out = false, canceled = false;
	int64_t deadline = timeout_ms > 0 ? start_mono + timeout_ms * 1000 : -1;
	for (;;) {
		/* WNOWAIT: the task stays a zombie until we have swept its
		 * group below, so its pid (and group id) cannot be reused. */
		siginfo_t si = {0};
		if (waitid(P_PID, (id_t)task, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			say("cannot wait for the task: %s", strerror(errno));
			return 1;
		}
		if (si.si_pid == task)
			break;

		int64_t now = now_us(CLOCK_MONOTONIC);
		int sig = -1;
		if (deadline < 0 || now < deadline) {
			struct timespec ts, *tsp = NULL;
			if (deadline >= 0) {
				ts.tv_sec = (deadline - now) / 1000000;
				ts.tv_nsec = (long)((deadline - now) % 1000000) * 1000;
				tsp = &ts;
			}
			sig = sigtimedwait(&waitset, NULL, tsp);
			if (sig < 0 && errno == EINTR)
				continue;
			if (sig < 0 && errno != EAGAIN) {
				say("cannot wait for signals: %s", strerror(errno));
				return 1;
			}
			if (sig == SIGCHLD)
				continue;
			if (sig < 0 && now_us(CLOCK_MONOTONIC) < deadline)
				continue; /* woke a little early */
		}

		if (sig > 0) { /* SIGTERM, SIGINT or SIGHUP: cancel */
			if (phase != RUNNING)
				continue;
			canceled = true;
			say("canceled: stopping the task");
		} else if (phase == RUNNING) {
			timed_out = true;
			say("timed out after %lld ms", (long long)timeout_ms);
		} else if (phase == TERMINATING) {
			say("task still running %lld ms after SIGTERM: sending SIGKILL",
			    (long long)grace_ms);
			signal_task(task, SIGKILL);
			phase = KILLED;
			deadline = -1;
			continue;
		}
		signal_task(task, SIGTERM);
		phase = TERMINATING;
		deadline = now_us(CLOCK_MONOTONIC) + grace_ms * 1000;
	}

	/* Nothing of a finished attempt outlives it: what the task left
	 * behind in its group (a daemon it forgot, a pipeline's tail) would
	 * hold resources and write into the next attempt's world unseen. */
	killpg(task, SIGKILL);

	int wstatus = 0;
	struct rusage ru = {0};
	while (wait4(task, &wstatus, 0, &ru) < 0) {
		if (errno != EINTR) {
			say("cannot reap the task: %s", strerror(errno));
			return 1;
		}
	}
	int64_t end_ms = now_us(CLOCK_REALTIME) / 1000;

	int exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	int signo = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
	len = snprintf(buf, sizeof(buf),
		       "exit_code %d\nsignal %d\ntimed_out %d\ncanceled %d\nstart_ms %lld\n"
		       "end_ms %lld\nuser_us %lld\nsys_us %lld\nmax_rss_kb %ld\n",
		       exit_code, signo, timed_out, canceled, (long long)start_ms,
		       (long long)end_ms,
		       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
		       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss);
	if (write_atomic(dirfd, "status", buf, (size_t)len) < 0) {
		say("cannot write '%s/status': %s", dir, strerror(errno));
		return 1;
	}
	return 0;
}
