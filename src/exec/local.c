/* local.c - the local executor: see local.h and docs/internals/executor.md.
 *
 * Each attempt runs under a jobsd-supervisor spawned with posix_spawn
 * (clone(CLONE_VFORK) in glibc: no copy of jobsd's address space, however
 * big and threaded it is). Everything this file knows about an attempt is
 * its handle (the supervisor's pid, start time and boot) and its folder;
 * it keeps no table of attempts, so a restarted jobsd knows exactly what
 * the old one knew.
 *
 * Identity: before anything is signalled, a pidfd is opened on the pid and
 * then /proc/<pid>/stat is checked for the handle's start time. The pidfd
 * names one process for good, and the supervisor started before the pidfd
 * was opened, so if /proc shows its start time after the open, the pidfd is
 * the supervisor's; the signal then goes through the pidfd and cannot reach
 * a process that reused the pid in between.
 *
 * Threads: engine thread only (local.h). No globals.
 */
#include "exec/local.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fsio.h"
#include "util/log.h"

#if __has_include(<sys/pidfd.h>)
#include <sys/pidfd.h>
#else /* glibc before 2.36 */
static int pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}
#endif

#define HANDLE_PREFIX "local:"
/* Hex digits of the boot id kept in handles: 64 bits tell boots apart, and
 * the handle stays well under EXEC_HANDLE_MAX. */
#define BOOT_DIGITS 16
/* The supervisor's files are a few hundred bytes; anything bigger is not one. */
#define SMALL_FILE_MAX	 4096
#define DEFAULT_GRACE_MS 10000

struct exec_local {
	struct executor base; /* first: the ops see a struct executor * */
	char *supervisor;
	char boot[BOOT_DIGITS + 1];
};

struct handle {
	pid_t pid;
	unsigned long long ticks;
	char boot[BOOT_DIGITS + 1];
};

static struct exec_local *local_of(struct executor *ex) { return (struct exec_local *)ex; }

/* --- small parsers -------------------------------------------------------------- */

/* The first BOOT_DIGITS hex digits of a boot id ("bed46d9d-4eea-..."), or
 * "0" when there are fewer (no /proc/sys: every handle then has "0"). */
static void boot_short(const char *id, char out[BOOT_DIGITS + 1])
{
	size_t k = 0;
	for (const char *p = id; *p && k < BOOT_DIGITS; p++) {
		if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
			out[k++] = *p;
		else if (*p != '-')
			break;
	}
	if (k < BOOT_DIGITS)
		k = 0;
	if (k == 0)
		out[k++] = '0';
	out[k] = '\0';
}

/* A whole decimal number (an optional '-', digits, nothing else). */
static bool parse_ll(const char *s, long long *out)
{
	const char *d = *s == '-' ? s + 1 : s;
	if (*d < '0' || *d > '9')
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* The value of the `key value` line named key in text, copied to val.
 * 0, -ENOENT if there is no such line, -EBADMSG if it does not fit. */
static int kv_str(const char *text, const char *key, char *val, size_t n)
{
	size_t klen = strlen(key);
	for (const char *line = text; *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		if (len > klen && memcmp(line, key, klen) == 0 && line[klen] == ' ') {
			size_t vlen = len - klen - 1;
			if (vlen >= n)
				return -EBADMSG;
			memcpy(val, line + klen + 1, vlen);
			val[vlen] = '\0';
			return 0;
		}
		if (!eol)
			break;
		line = eol + 1;
	}
	return -ENOENT;
}

/* kv_str for an integer: 0, -ENOENT, or -EBADMSG when it is not one. */
static int kv_int(const char *text, const char *key, long long *out)
{
	char val[32];
	int rc = kv_str(text, key, val, sizeof(val));
	if (rc < 0)
		return rc;
	return parse_ll(val, out) ? 0 : -EBADMSG;
}

/* An optional integer: absent is 0. */
static int kv_opt(const char *text, const char *key, int64_t *out)
{
	long long v = 0;
	int rc = kv_int(text, key, &v);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	*out = v;
	return 0;
}

static int read_small(const char *dir, const char *name, char **text)
{
	char path[PATH_MAX];
	size_t len;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return fsio_read_all(path, SMALL_FILE_MAX, text, &len);
}

int exec_local_read_status(const char *attempt_dir, struct exec_status *out)
{
	char *text;
	int rc = read_small(attempt_dir, "status", &text);
	if (rc < 0)
		return rc;
	/* exit_code and signal are what every supervisor ever wrote; the
	 * rest defaults to 0, so a supervisor started by an older jobsd (it
	 * outlives upgrades) still reads. */
	struct exec_status st = {0};
	long long code, sig;
	int64_t timed_out, canceled;
	if ((rc = kv_int(text, "exit_code", &code)) < 0 ||
	    (rc = kv_int(text, "signal", &sig)) < 0 ||
	    (rc = kv_opt(text, "timed_out", &timed_out)) < 0 ||
	    (rc = kv_opt(text, "canceled", &canceled)) < 0 ||
	    (rc = kv_opt(text, "start_ms", &st.start_ms)) < 0 ||
	    (rc = kv_opt(text, "end_ms", &st.end_ms)) < 0 ||
	    (rc = kv_opt(text, "user_us", &st.user_us)) < 0 ||
	    (rc = kv_opt(text, "sys_us", &st.sys_us)) < 0 ||
	    (rc = kv_opt(text, "max_rss_kb", &st.max_rss_kb)) < 0)
		goto out;
	if (code < -1 || code > 255 || sig < 0 || sig >= NSIG || (sig == 0 && code < 0)) {
		rc = -EBADMSG;
		goto out;
	}
	st.state = sig ? EXEC_SIGNALED : EXEC_EXITED;
	st.exit_code = (int)code;
	st.term_signal = (int)sig;
	st.timed_out = timed_out != 0;
	st.canceled = canceled != 0;
	*out = st;
out:
	free(text);
	return rc == -ENOENT ? -EBADMSG : rc; /* the file exists: a missing key is damage */
}

/* pid, start ticks and boot of the supervisor file's writer; start_ms too. */
static int read_supervisor_file(const char *dir, struct handle *h, int64_t *start_ms)
{
	char *text, boot[64];
	int rc = read_small(dir, "supervisor", &text);
	if (rc < 0)
		return rc;
	long long pid, ticks;
	if (kv_int(text, "pid", &pid) < 0 || kv_int(text, "start_ticks", &ticks) < 0 ||
	    kv_str(text, "boot_id", boot, sizeof(boot)) < 0 ||
	    kv_opt(text, "start_ms", start_ms) < 0 || pid <= 0 || pid > INT_MAX || ticks < 0) {
		rc = -EBADMSG;
	} else {
		h->pid = (pid_t)pid;
		h->ticks = (unsigned long long)ticks;
		boot_short(boot, h->boot);
	}
	free(text);
	return rc;
}

/* When the attempt's supervisor started (wall ms), 0 if unknown yet. */
static int64_t supervisor_start_ms(const char *dir)
{
	struct handle h;
	int64_t ms = 0;
	return read_supervisor_file(dir, &h, &ms) == 0 ? ms : 0;
}

static int format_handle(const struct handle *h, char *out, size_t n)
{
	int len = snprintf(out, n, HANDLE_PREFIX "%d:%llu:%s", (int)h->pid, h->ticks, h->boot);
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

/* Opens and locks DIR/lock (the attempt lock); the fd, or -errno. */
static int open_lock(const char *attempt_dir)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/lock", attempt_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		return e == EWOULDBLOCK ? -EAGAIN : -e;
	}
	return fd;
}

/* Whether a supervisor of this attempt folder is alive: it holds the lock. */
static bool lock_held(const char *attempt_dir)
{
	int fd = open_lock(attempt_dir);
	if (fd >= 0)
		close(fd);
	return fd == -EAGAIN;
}

int exec_local_handle_from_dir(const char *attempt_dir, char *handle, size_t n)
{
	struct handle h;
	int64_t ms;
	int rc = read_supervisor_file(attempt_dir, &h, &ms);
	return rc < 0 ? rc : format_handle(&h, handle, n);
}

static int parse_handle(const char *s, struct handle *h)
{
	if (!s || strncmp(s, HANDLE_PREFIX, strlen(HANDLE_PREFIX)) != 0)
		return -EINVAL;
	const char *p = s + strlen(HANDLE_PREFIX);
	char *end;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	long pid = strtol(p, &end, 10);
	if (errno || *end != ':' || pid <= 0 || pid > INT_MAX)
		return -EINVAL;
	p = end + 1;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long ticks = strtoull(p, &end, 10);
	if (errno || *end != ':')
		return -EINVAL;
	p = end + 1;
	size_t blen = strlen(p);
	if (blen == 0 || blen > BOOT_DIGITS || strspn(p, "0123456789abcdef") != blen)
		return -EINVAL;
	h->pid = (pid_t)pid;
	h->ticks = ticks;
	memcpy(h->boot, p, blen + 1);
	return 0;
}

/* --- processes ------------------------------------------------------------------ */

/* State (field 3) and start time (field 22) of /proc/<pid>/stat. -ESRCH if
 * there is no such process. The comm field may hold spaces and ')', so the
 * fields are counted after the last ')'. */
static int proc_stat(pid_t pid, unsigned long long *ticks, char *state)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ssize_t n;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (n < 0)
		return e == ESRCH ? -ESRCH : -e; /* it died between open and read */
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -EIO;
	*state = p[2];
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || p[1] < '0' || p[1] > '9')
		return -EIO;
	*ticks = strtoull(p + 1, NULL, 10);
	return 0;
}

/* True if the process the handle names is alive now (not a zombie). */
static bool handle_alive(const struct exec_local *l, const struct handle *h)
{
	unsigned long long ticks;
	char state;
	return strcmp(h->boot, l->boot) == 0 && proc_stat(h->pid, &ticks, &state) == 0 &&
	       ticks == h->ticks && state != 'Z' && state != 'X';
}

static bool pidfd_exited(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) > 0;
}

/* A pidfd on the live supervisor the handle names: the fd, or -ESRCH when
 * no live process matches, or the errno of pidfd_open (EMFILE...). */
static int open_verified(const struct exec_local *l, const struct handle *h)
{
	if (strcmp(h->boot, l->boot) != 0)
		return -ESRCH;
	int fd = pidfd_open(h->pid, 0);
	if (fd < 0)
		return -errno;
	/* Checked after the open (see the top of this file). */
	if (!handle_alive(l, h) || pidfd_exited(fd)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

/* --- the backend ---------------------------------------------------------------- */

/* A line in the attempt's stderr file saying why it did not start. */
static void note_failure(const struct exec_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note_failure(const struct exec_spec *spec, const char *fmt, ...)
{
	char line[1024], path[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len > sizeof(line) - 2)
		len = (int)sizeof(line) - 2;
	log_error("run_id=%lld task_key=%s attempt=%d: %s", (long long)spec->run_id,
		  spec->task_key ? spec->task_key : "-", spec->attempt, line);
	line[len++] = '\n';
	if (!spec->attempt_dir ||
	    snprintf(path, sizeof(path), "%s/stderr", spec->attempt_dir) >= (int)sizeof(path))
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	fsio_write_full(fd, "jobsd: ", 7);
	fsio_write_full(fd, line, (size_t)len);
	close(fd);
}

/* The supervisor runs but start() cannot hand it over. It may have forked
 * the task already, so it is asked to stop that task the normal way and
 * waited for: "nothing left running" is worth blocking for, on a path that
 * only fd exhaustion reaches. */
static void abandon(pid_t pid)
{
	kill(pid, SIGTERM); /* our unreaped child: the pid is still its own */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int local_start(struct executor *ex, const struct exec_spec *spec, char *handle, size_t n,
		       int *watch_fd)
{
	struct exec_local *l = local_of(ex);
	*watch_fd = -1;
	if (n > 0)
		handle[0] = '\0';
	if (!spec->attempt_dir || !spec->argv || !spec->argv[0]) {
		note_failure(spec, "cannot start the attempt: no command or no attempt folder");
		return -EINVAL;
	}
	if (spec->argv[0][0] != '/') {
		note_failure(spec, "cannot run '%s': not an absolute path", spec->argv[0]);
		return -EINVAL;
	}
	if (n < EXEC_HANDLE_MAX)
		return -ENAMETOOLONG;

	size_t argc = 0;
	while (spec->argv[argc])
		argc++;
	const char **av = calloc(argc + 12, sizeof(*av));
	if (!av)
		abort(); /* out of memory */
	char timeout[24], grace[24];
	size_t k = 0;
	av[k++] = l->supervisor;
	av[k++] = "--dir";
	av[k++] = spec->attempt_dir;
	if (spec->cwd) {
		av[k++] = "--cwd";
		av[k++] = spec->cwd;
	}
	if (spec->timeout_ms > 0) {
		snprintf(timeout, sizeof(timeout), "%lld", (long long)spec->timeout_ms);
		av[k++] = "--timeout-ms";
		av[k++] = timeout;
	}
	snprintf(grace, sizeof(grace), "%d",
		 spec->grace_ms > 0 ? spec->grace_ms : DEFAULT_GRACE_MS);
	av[k++] = "--grace-ms";
	av[k++] = grace;
	av[k++] = "--";
	memcpy(av + k, spec->argv, (argc + 1) * sizeof(*av));

	/* Its own session (jobsd's terminal, group and death are nothing to
	 * it), default dispositions for every signal (jobsd ignores some),
	 * and a mask of exactly what it reads with sigtimedwait(): a cancel
	 * that arrives before it has set itself up waits for it instead of
	 * killing it. */
	posix_spawnattr_t attr;
	sigset_t mask, all;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &mask);
	posix_spawnattr_setsigdefault(&attr, &all);
	static const char *const no_env[] = {NULL};
	/* The attempt lock, held by the supervisor as its fd 3 for its whole
	 * life: local_find() learns from it that an attempt started even if
	 * jobsd died before the supervisor wrote its file. */
	int lock = open_lock(spec->attempt_dir);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (lock >= 0)
		posix_spawn_file_actions_adddup2(&fa, lock, 3);
	pid_t pid;
	int rc = lock < 0 ? -lock :
			    posix_spawn(&pid, l->supervisor, &fa, &attr, (char *const *)av,
					(char *const *)(spec->envp ? spec->envp : no_env));
	posix_spawn_file_actions_destroy(&fa);
	if (lock >= 0)
		close(lock); /* the supervisor's copy keeps the lock */
	posix_spawnattr_destroy(&attr);
	free(av);
	if (rc != 0) {
		note_failure(spec, "cannot start the supervisor '%s': %s", l->supervisor,
			     strerror(rc));
		return -rc;
	}

	struct handle h = {.pid = pid};
	char state;
	memcpy(h.boot, l->boot, sizeof(h.boot));
	if ((rc = proc_stat(pid, &h.ticks, &state)) < 0 ||
	    (rc = format_handle(&h, handle, n)) < 0) {
		note_failure(spec, "cannot read the supervisor's start time (pid %d): %s", (int)pid,
			     strerror(-rc));
		abandon(pid);
		handle[0] = '\0';
		return rc;
	}
	/* Our unreaped child, so the pid is still the supervisor's here. */
	*watch_fd = pidfd_open(pid, 0);
	if (*watch_fd < 0)
		log_warn("run_id=%lld task_key=%s attempt=%d: cannot open a pidfd for the "
			 "supervisor (pid %d), polling instead: %s",
			 (long long)spec->run_id, spec->task_key ? spec->task_key : "-",
			 spec->attempt, (int)pid, strerror(errno));
	log_info("attempt started run_id=%lld task_key=%s attempt=%d handle=%s",
		 (long long)spec->run_id, spec->task_key ? spec->task_key : "-", spec->attempt,
		 handle);
	return 0;
}

/* The final status if there is a readable one. A damaged file is logged and
 * counts as absent: the attempt must still end (invariant 2), as lost. */
static bool have_status(const char *dir, struct exec_status *out)
{
	int rc = exec_local_read_status(dir, out);
	if (rc < 0 && rc != -ENOENT)
		log_warn("cannot read the status of the attempt in '%s': %s", dir, strerror(-rc));
	return rc == 0;
}

static void set_state(const char *dir, enum exec_state state, struct exec_status *out)
{
	*out = (struct exec_status){.state = state, .start_ms = supervisor_start_ms(dir)};
}

static int local_poll(struct executor *ex, const char *attempt_dir, const char *handle,
		      struct exec_status *out)
{
	struct handle h;
	if (parse_handle(handle, &h) < 0)
		return -EINVAL;
	if (have_status(attempt_dir, out))
		return 0;
	if (handle_alive(local_of(ex), &h)) {
		set_state(attempt_dir, EXEC_RUNNING, out);
		return 0;
	}
	/* It may have written its status and exited since we looked. */
	if (have_status(attempt_dir, out))
		return 0;
	set_state(attempt_dir, EXEC_LOST, out);
	return 0;
}

static int local_cancel(struct executor *ex, const char *handle)
{
	struct handle h;
	if (parse_handle(handle, &h) < 0)
		return -EINVAL;
	int fd = open_verified(local_of(ex), &h);
	if (fd < 0) {
		if (fd != -ESRCH)
			log_warn("cannot cancel the attempt %s: %s", handle, strerror(-fd));
		return fd;
	}
	int rc = pidfd_send_signal(fd, SIGTERM, NULL, 0) < 0 ? -errno : 0;
	close(fd);
	if (rc == 0)
		log_info("attempt canceled handle=%s", handle);
	return rc;
}

static int local_reattach(struct executor *ex, const char *attempt_dir, const char *handle,
			  struct exec_status *out, int *watch_fd)
{
	struct exec_local *l = local_of(ex);
	struct handle h;
	*watch_fd = -1;
	if (parse_handle(handle, &h) < 0)
		return -EINVAL;
	if (have_status(attempt_dir, out))
		return 0;
	int fd = open_verified(l, &h);
	if (fd >= 0 || (fd != -ESRCH && handle_alive(l, &h))) {
		/* Alive; without a pidfd (fd exhaustion) the engine polls. */
		*watch_fd = fd >= 0 ? fd : -1;
		set_state(attempt_dir, EXEC_RUNNING, out);
		return 0;
	}
	if (have_status(attempt_dir, out))
		return 0;
	set_state(attempt_dir, EXEC_LOST, out);
	return 0;
}

static void local_release(struct executor *ex, const char *handle, int watch_fd)
{
	siginfo_t si;
	if (watch_fd >= 0) {
		/* Reaps the supervisor if it is our child and has exited;
		 * ECHILD after a restart (init reaped it) is fine. */
		waitid(P_PIDFD, (id_t)watch_fd, &si, WEXITED | WNOHANG);
		close(watch_fd);
		return;
	}
	/* No pidfd: reap by pid, but only a zombie child that is provably
	 * ours (WNOWAIT first, then its start time). */
	struct handle h;
	unsigned long long ticks;
	char state;
	if (parse_handle(handle, &h) < 0 || strcmp(h.boot, local_of(ex)->boot) != 0)
		return;
	si.si_pid = 0;
	if (waitid(P_PID, (id_t)h.pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == h.pid && proc_stat(h.pid, &ticks, &state) == 0 && ticks == h.ticks)
		waitid(P_PID, (id_t)h.pid, &si, WEXITED | WNOHANG);
}

static void local_close(struct executor *ex)
{
	struct exec_local *l = local_of(ex);
	if (!l)
		return;
	free(l->supervisor);
	free(l);
}

/* -EAGAIN: a supervisor holds the attempt lock but has not written its
 * file yet (started, not yet known): ask again soon, never start another. */
static int local_find(struct executor *ex, const char *attempt_dir, char *handle, size_t n)
{
	(void)ex;
	int rc = exec_local_handle_from_dir(attempt_dir, handle, n);
	if (rc == -ENOENT && lock_held(attempt_dir))
		rc = exec_local_handle_from_dir(attempt_dir, handle, n) == 0 ? 0 : -EAGAIN;
	return rc;
}

static const struct executor_backend local_backend = {
	.name = "local",
	.start = local_start,
	.poll = local_poll,
	.cancel = local_cancel,
	.reattach = local_reattach,
	.find = local_find,
	.release = local_release,
	.close = local_close,
};

int exec_local_open(struct executor **out, const char *supervisor_path)
{
	if (!supervisor_path || supervisor_path[0] != '/')
		return -EINVAL;
	if (access(supervisor_path, X_OK) < 0)
		return -errno;
	struct exec_local *l = calloc(1, sizeof(*l));
	char *path = strdup(supervisor_path);
	if (!l || !path)
		abort(); /* out of memory */
	l->base.ops = &local_backend;
	l->supervisor = path;
	char id[64] = "";
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, id, sizeof(id) - 1);
		id[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	boot_short(id, l->boot);
	*out = &l->base;
	return 0;
}
