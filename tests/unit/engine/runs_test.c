/* runs_test.c - unit tests for src/engine/runs.c (the run state machine)
 * with a real engine thread, a real SQLite store and workspace in a mkdtemp
 * directory, a virtual clock and a fake executor.
 *
 * The fake executor (struct fake_attempt, fake_*) records what start() was
 * given, answers the handle "fake:<n>" and an eventfd as the watch fd. The
 * test ends an attempt by scripting its exec_status and writing the eventfd,
 * which fires the engine's watch as a supervisor's pidfd would; poll()
 * answers the scripted status; cancel() records the call and (unless the
 * test says otherwise) ends the attempt as canceled by SIGTERM; find() and
 * reattach() know the attempts by folder and handle, as the local executor
 * does after a restart. start() also reads the store, so a test can check
 * what was durable when a process started. Every assertion reads the run
 * and task run docs back from the store: what runs/get is built from.
 *
 * Waiting without sleeping: settle() returns once the engine has done
 * everything that follows from what the test did (eventfd writes, a moved
 * clock). It relies on engine.c's loop: the engine calls wait_events (epoll:
 * watch callbacks, then the timer check) only when its op queue is empty,
 * and a watch fd made readable before an epoll_wait is reported by it.
 * The test watches a "barrier" eventfd of its own; its callback counts.
 *   - Barrier 1 fires in some wait_events W1. Every eventfd the test wrote
 *     before it, and every timer due at the clock the test set before it,
 *     has been seen by the end of W1 (a tick is queued).
 *   - Barrier 2 fires in a later wait_events W2, which the engine reaches
 *     only with an empty queue: every tick queued in W1 has run, with its
 *     commit and post_commit (processes started, cancels sent), and so has
 *     every tick those queued in turn.
 * What the engine does to itself after W1 (a cancel() that writes an
 * eventfd, a retry due at once) is caught by counting its activity (store
 * transactions begun and executor calls): settle() repeats the two
 * barriers until a round passes with no activity at all.
 *
 * The store's table of functions is copied with begin and commit wrapped
 * (counting transactions; failing chosen commits to test the reload).
 *
 * Never call a cmocka assertion on the engine thread: the fake records
 * what is wrong in fx.problem and the test thread fails on it.
 *
 * RUNS_TEST=<pattern> runs only the matching cases, RUNS_TEST_SKIP=<pattern>
 * skips them (cmocka's filters).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "engine/runs.h"
#include "exec/executor.h"
#include "model/job.h"
#include "model/run_doc.h"
#include "store/store.h"
#include "testutil.h"
#include "util/clock.h"
#include "util/log.h"
#include "workspace/workspace.h"

/* The virtual clock starts here (2023-11-14T22:13:20Z). */
#define T0 1700000000000LL

#define MAX_ATTEMPTS 32

static const struct job_limits LIM = {.max_tasks = 100, .max_tags = 25};

/* --- fixture -------------------------------------------------------------------------- */

/* One start() of the fake executor. */
struct fake_attempt {
	char handle[EXEC_HANDLE_MAX];
	int efd; /* the watch fd; -1 once released */
	int64_t run_id;
	char task_key[64];
	int attempt;
	char dir[PATH_MAX];
	char argv[4][PATH_MAX];
	int argc;
	bool cwd_null;
	bool env_unbuffered; /* PYTHONUNBUFFERED=1 in envp */
	int64_t timeout_ms;
	int grace_ms;
	/* What the store held (committed) when start() was called. */
	char task_life_at_start[32];
	char job_life_at_start[32];
	long begins_at_start; /* transactions begun before the start */
	int step;	      /* the test's step at the start */
	struct exec_status st;
	bool ended;
	int polls, cancels, releases, reattaches;
};

struct fx {
	char dir[256];
	char runtime[PATH_MAX];
	struct clock clock;
	struct store *st;
	const struct store_backend *real_ops;
	struct store_backend ops; /* the real table, begin and commit wrapped */
	struct workspace *ws;
	struct engine *e;
	struct runs *rs;
	struct executor ex;
	struct runs_config cfg;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* fake executor */
	struct fake_attempt att[MAX_ATTEMPTS];
	int natt;
	int start_fail_n;	      /* so many next starts fail ... */
	int start_fail_rc;	      /* ... with this */
	bool no_watch_fd;	      /* start() answers watch fd -1 */
	bool cancel_ends;	      /* cancel() ends the attempt at once */
	bool fail_commit_after_start; /* the commit after the next start fails */
	long calls;		      /* executor calls of any kind */
	char problem[512];	      /* the first inconsistency seen on the engine thread */
	/* store */
	long begins;
	int fail_commits; /* the next so many commits fail */
	/* the test */
	int step;
	int barrier_fd;
	struct engine_watch barrier;
	long barriers;
};

static struct fx *the_fx; /* for the store wrappers: one test at a time */

static void problem(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Engine thread, with f->lock held. */
static void problem(struct fx *f, const char *fmt, ...)
{
	if (f->problem[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->problem, sizeof(f->problem), fmt, ap);
	va_end(ap);
}

/* --- the store, wrapped --------------------------------------------------------------- */

static int counting_begin(struct store *st)
{
	struct fx *f = the_fx;
	pthread_mutex_lock(&f->lock);
	f->begins++;
	pthread_mutex_unlock(&f->lock);
	return f->real_ops->begin(st);
}

/* A failed commit as a full disk gives it: nothing of the batch stays. */
static int flaky_commit(struct store *st)
{
	struct fx *f = the_fx;
	pthread_mutex_lock(&f->lock);
	bool fail = f->fail_commits > 0;
	if (fail)
		f->fail_commits--;
	pthread_mutex_unlock(&f->lock);
	if (!fail)
		return f->real_ops->commit(st);
	f->real_ops->rollback(st);
	return STORE_EIO;
}

/* --- the fake executor ---------------------------------------------------------------- */

static struct fx *fx_of(struct executor *ex)
{
	return (struct fx *)((char *)ex - offsetof(struct fx, ex));
}

static struct fake_attempt *by_handle(struct fx *f, const char *handle)
{
	for (int i = 0; i < f->natt; i++)
		if (strcmp(f->att[i].handle, handle) == 0)
			return &f->att[i];
	return NULL;
}

/* life_cycle_state of a stored run, into buf ("" when unreadable). */
static void stored_life(struct store *st, int64_t id, char *buf, size_t n, int64_t *parent)
{
	buf[0] = '\0';
	struct store_run row;
	if (store_run_get(st, id, &row) != STORE_OK)
		return;
	json_t *doc = json_loads(row.doc, 0, NULL);
	const char *life = json_string_value(
		json_object_get(json_object_get(doc, "state"), "life_cycle_state"));
	snprintf(buf, n, "%s", life ? life : "");
	if (parent)
		*parent = row.parent_id;
	json_decref(doc);
	store_run_release(&row);
}

static int fake_start(struct executor *ex, const struct exec_spec *spec, char *handle, size_t n,
		      int *watch_fd)
{
	struct fx *f = fx_of(ex);
	/* Read before taking the lock: store reads never wait for the test. */
	char task_life[32], job_life[32];
	int64_t parent = 0;
	stored_life(f->st, spec->run_id, task_life, sizeof(task_life), &parent);
	stored_life(f->st, parent, job_life, sizeof(job_life), NULL);

	pthread_mutex_lock(&f->lock);
	f->calls++;
	if (f->natt == MAX_ATTEMPTS) {
		problem(f, "more than %d starts", MAX_ATTEMPTS);
		pthread_mutex_unlock(&f->lock);
		return -EAGAIN;
	}
	struct fake_attempt *a = &f->att[f->natt];
	memset(a, 0, sizeof(*a));
	a->efd = -1;
	a->run_id = spec->run_id;
	snprintf(a->task_key, sizeof(a->task_key), "%s", spec->task_key);
	a->attempt = spec->attempt;
	snprintf(a->dir, sizeof(a->dir), "%s", spec->attempt_dir);
	for (a->argc = 0; spec->argv[a->argc] && a->argc < 4; a->argc++)
		snprintf(a->argv[a->argc], sizeof(a->argv[a->argc]), "%s", spec->argv[a->argc]);
	a->cwd_null = spec->cwd == NULL;
	for (const char *const *e = spec->envp; e && *e; e++)
		if (strcmp(*e, "PYTHONUNBUFFERED=1") == 0)
			a->env_unbuffered = true;
	a->timeout_ms = spec->timeout_ms;
	a->grace_ms = spec->grace_ms;
	snprintf(a->task_life_at_start, sizeof(a->task_life_at_start), "%s", task_life);
	snprintf(a->job_life_at_start, sizeof(a->job_life_at_start), "%s", job_life);
	a->begins_at_start = f->begins;
	a->step = f->step;
	struct stat sb;
	if (stat(spec->attempt_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		problem(f, "start: the attempt folder %s does not exist", spec->attempt_dir);
	if (f->start_fail_n > 0) {
		/* Recorded as tried, but nothing runs and no handle is given. */
		f->start_fail_n--;
		snprintf(a->handle, sizeof(a->handle), "(not started %d)", f->natt + 1);
		a->ended = true;
		f->natt++;
		pthread_mutex_unlock(&f->lock);
		return f->start_fail_rc;
	}
	snprintf(a->handle, sizeof(a->handle), "fake:%d", f->natt + 1);
	snprintf(handle, n, "%s", a->handle);
	a->st = (struct exec_status){.state = EXEC_RUNNING, .start_ms = clock_now_ms(&f->clock)};
	if (f->no_watch_fd) {
		*watch_fd = -1;
	} else {
		a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		*watch_fd = a->efd;
	}
	if (f->fail_commit_after_start) {
		f->fail_commit_after_start = false;
		f->fail_commits = 1;
	}
	f->natt++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fake_poll(struct executor *ex, const char *attempt_dir, const char *handle,
		     struct exec_status *out)
{
	struct fx *f = fx_of(ex);
	pthread_mutex_lock(&f->lock);
	f->calls++;
	struct fake_attempt *a = by_handle(f, handle);
	int rc = 0;
	if (!a) {
		problem(f, "poll of unknown handle '%s'", handle);
		rc = -ENOENT;
	} else {
		if (strcmp(a->dir, attempt_dir) != 0)
			problem(f, "poll of %s with folder %s, started in %s", handle, attempt_dir,
				a->dir);
		a->polls++;
		*out = a->st;
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/* Engine thread, f->lock held: the attempt ends with status s. */
static void end_locked(struct fx *f, struct fake_attempt *a, const struct exec_status *s)
{
	a->st = *s;
	a->st.end_ms = clock_now_ms(&f->clock);
	a->ended = true;
	uint64_t one = 1;
	if (a->efd >= 0 && write(a->efd, &one, sizeof(one)) != sizeof(one))
		problem(f, "cannot write the eventfd of %s", a->handle);
}

static int fake_cancel(struct executor *ex, const char *handle)
{
	struct fx *f = fx_of(ex);
	pthread_mutex_lock(&f->lock);
	f->calls++;
	struct fake_attempt *a = by_handle(f, handle);
	if (!a) {
		problem(f, "cancel of unknown handle '%s'", handle);
	} else {
		a->cancels++;
		if (f->cancel_ends && !a->ended) {
			struct exec_status s = {.state = EXEC_SIGNALED,
						.term_signal = 15,
						.canceled = true,
						.start_ms = a->st.start_ms};
			end_locked(f, a, &s);
		}
	}
	pthread_mutex_unlock(&f->lock);
	return a ? 0 : -ESRCH;
}

static int fake_reattach(struct executor *ex, const char *attempt_dir, const char *handle,
			 struct exec_status *out, int *watch_fd)
{
	struct fx *f = fx_of(ex);
	pthread_mutex_lock(&f->lock);
	f->calls++;
	*watch_fd = -1;
	struct fake_attempt *a = by_handle(f, handle);
	int rc = 0;
	if (!a) {
		problem(f, "reattach of unknown handle '%s'", handle);
		rc = -ENOENT;
	} else {
		if (strcmp(a->dir, attempt_dir) != 0)
			problem(f, "reattach of %s with folder %s", handle, attempt_dir);
		a->reattaches++;
		*out = a->st;
		if (!a->ended) {
			if (a->efd >= 0)
				problem(f, "reattach of %s, whose watch fd is still open", handle);
			a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			*watch_fd = a->efd;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/* The local executor reads the handle back from the attempt folder; the
 * fake knows which folder each start was given. */
static int fake_find(struct executor *ex, const char *attempt_dir, char *handle, size_t n)
{
	struct fx *f = fx_of(ex);
	pthread_mutex_lock(&f->lock);
	f->calls++;
	int rc = -ENOENT;
	for (int i = 0; i < f->natt; i++) {
		if (strcmp(f->att[i].dir, attempt_dir) == 0 &&
		    strncmp(f->att[i].handle, "fake:", 5) == 0) {
			snprintf(handle, n, "%s", f->att[i].handle);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static void fake_release(struct executor *ex, const char *handle, int watch_fd)
{
	struct fx *f = fx_of(ex);
	pthread_mutex_lock(&f->lock);
	f->calls++;
	struct fake_attempt *a = by_handle(f, handle);
	if (!a) {
		problem(f, "release of unknown handle '%s'", handle);
	} else {
		a->releases++;
		if (watch_fd >= 0 && watch_fd != a->efd)
			problem(f, "release of %s with fd %d, its fd is %d", handle, watch_fd,
				a->efd);
		if (watch_fd >= 0 && watch_fd == a->efd) {
			close(a->efd);
			a->efd = -1;
		}
	}
	pthread_mutex_unlock(&f->lock);
}

static void fake_close(struct executor *ex) { (void)ex; }

static const struct executor_backend fake_backend = {
	.name = "fake",
	.start = fake_start,
	.poll = fake_poll,
	.cancel = fake_cancel,
	.reattach = fake_reattach,
	.find = fake_find,
	.release = fake_release,
	.close = fake_close,
};

/* --- running code on the engine thread ------------------------------------------------ */

struct call_op {
	struct engine_op op;
	struct fx *f;
	int (*fn)(struct fx *f, struct store *st, void *arg);
	void *arg;
};

static int call_run(struct engine_op *op, struct store *st)
{
	struct call_op *c = (struct call_op *)op;
	return c->fn(c->f, st, c->arg);
}

/* Runs fn inside an engine transaction, as an API write does; returns what
 * engine_run_sync does (fn's code, else the commit's). */
static int on_engine(struct fx *f, int (*fn)(struct fx *, struct store *, void *), void *arg)
{
	struct call_op c = {.op = {.run = call_run}, .f = f, .fn = fn, .arg = arg};
	return engine_run_sync(f->e, &c.op);
}

static int watch_barrier(struct fx *f, struct store *st, void *arg)
{
	(void)st;
	(void)arg;
	return engine_watch(f->e, &f->barrier);
}

static int unwatch_barrier(struct fx *f, struct store *st, void *arg)
{
	(void)st;
	(void)arg;
	engine_unwatch(f->e, &f->barrier);
	return 0;
}

/* --- waiting for the engine ----------------------------------------------------------- */

static void barrier_cb(struct engine_watch *w)
{
	struct fx *f = (struct fx *)((char *)w - offsetof(struct fx, barrier));
	uint64_t v;
	if (read(w->fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to clear */
	}
	pthread_mutex_lock(&f->lock);
	f->barriers++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* Returns once the engine has gone through epoll after this call. */
static void barrier(struct fx *f)
{
	pthread_mutex_lock(&f->lock);
	long target = f->barriers + 1;
	pthread_mutex_unlock(&f->lock);
	uint64_t one = 1;
	assert_int_equal(write(f->barrier_fd, &one, sizeof(one)), sizeof(one));
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5; /* a hung engine, not a wait for time */
	int rc = 0;
	pthread_mutex_lock(&f->lock);
	while (f->barriers < target && rc == 0)
		rc = pthread_cond_timedwait(&f->cond, &f->lock, &deadline);
	bool reached = f->barriers >= target;
	pthread_mutex_unlock(&f->lock);
	if (!reached)
		fail_msg("the engine did not come back to its loop within 5 s");
}

static long activity(struct fx *f)
{
	pthread_mutex_lock(&f->lock);
	long n = f->begins + f->calls;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static void check_problems(struct fx *f)
{
	pthread_mutex_lock(&f->lock);
	char p[sizeof(f->problem)];
	memcpy(p, f->problem, sizeof(p));
	pthread_mutex_unlock(&f->lock);
	if (p[0])
		fail_msg("fake executor: %s", p);
}

/* Until the engine is idle: see the header. */
static void settle(struct fx *f)
{
	for (int round = 0; round < 200; round++) {
		long before = activity(f);
		barrier(f);
		barrier(f);
		if (activity(f) == before) {
			check_problems(f);
			return;
		}
	}
	fail_msg("the engine never became idle");
}

/* Moves the virtual clock, wakes the engine so that it looks at its timers,
 * and waits for what follows. */
static void advance(struct fx *f, int64_t ms)
{
	f->step++;
	clock_virtual_advance_ms(&f->clock, ms);
	engine_wake(f->e);
	settle(f);
}

/* --- fixture set-up ------------------------------------------------------------------- */

static int write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	if (!fp)
		return -1;
	int rc = fputs(text, fp) < 0 ? -1 : 0;
	return fclose(fp) != 0 ? -1 : rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	the_fx = f;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->cancel_ends = true;
	f->barrier_fd = -1;
	clock_virtual_init(&f->clock, T0);
	if (test_mkdtemp(f->dir, sizeof(f->dir), "runs_test") != 0)
		return -1;
	/* Tests run from the repository root; nothing here executes it. */
	char cwd[PATH_MAX - 16];
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(f->runtime, sizeof(f->runtime), "%s/runtime", cwd);

	char err[512];
	if (store_open_sqlite(&f->st, f->dir, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "store: %s\n", err);
		return -1;
	}
	f->real_ops = f->st->ops;
	f->ops = *f->real_ops;
	f->ops.begin = counting_begin;
	f->ops.commit = flaky_commit;
	f->st->ops = &f->ops;

	char path[512];
	snprintf(path, sizeof(path), "%s/workspace", f->dir);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/workspace/nb.py", f->dir);
	if (write_text(path, "# Databricks notebook source\nprint('hello')\n") != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/workspace", f->dir);
	if (workspace_open(&f->ws, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "workspace: %s\n", err);
		return -1;
	}
	if (engine_start(&f->e, f->st) != 0)
		return -1;
	f->barrier_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->barrier = (struct engine_watch){.cb = barrier_cb, .fd = f->barrier_fd};
	if (f->barrier_fd < 0 || on_engine(f, watch_barrier, NULL) != 0)
		return -1;
	f->ex.ops = &fake_backend;
	f->cfg = (struct runs_config){
		.clock = &f->clock,
		.data_dir = f->dir,
		.python = "/usr/bin/python3",
		.runtime_dir = f->runtime,
		.base_url = "http://test",
		.grace_ms = 100,
	};
	if (runs_open(&f->rs, f->e, f->st, &f->ex, f->ws, &f->cfg) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	on_engine(f, unwatch_barrier, NULL);
	engine_stop(f->e);
	runs_close(f->rs);
	for (int i = 0; i < f->natt; i++)
		if (f->att[i].efd >= 0)
			close(f->att[i].efd);
	close(f->barrier_fd);
	workspace_close(f->ws);
	store_close(f->st);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	int rc = test_rmtree(f->dir);
	the_fx = NULL;
	free(f);
	return rc;
}

/* --- creating and acting on runs ------------------------------------------------------ */

/* Normalized settings, as jobs/create stores them, from a test literal. */
static json_t *settings(const char *text)
{
	json_t *out = NULL;
	enum job_format fmt;
	struct model_error err = {0};
	if (job_settings_parse(J(text), 21, "", JOB_CREATE, &LIM, &out, &fmt, &err) != 0)
		fail_msg("settings refused: %s", err.message);
	return out;
}

struct create_args {
	const json_t *settings;
	const char *token;
	int times;	 /* runs_create calls in the one write */
	bool cancel_too; /* then runs_cancel of the run, in the same write */
	int rc[2];
	int64_t id[2], number[2];
	struct model_error err;
};

static int do_create(struct fx *f, struct store *st, void *arg)
{
	struct create_args *a = arg;
	struct run_request rq = {
		.settings = a->settings,
		.creator = "alice@example.com",
		.type = RUN_TYPE_SUBMIT_RUN,
		.trigger = TRIGGER_ONE_TIME,
		.idem_token = a->token,
	};
	int times = a->times > 1 ? 2 : 1;
	for (int i = 0; i < times; i++) {
		a->rc[i] = runs_create(f->rs, st, &rq, &a->id[i], &a->number[i], &a->err);
		if (a->rc[i] != 0)
			return a->rc[i];
	}
	if (a->cancel_too)
		return runs_cancel(f->rs, st, a->id[0], &a->err);
	return 0;
}

/* Creates a run of the settings text (runs/submit); its run id. */
static int64_t create_run(struct fx *f, const char *text)
{
	f->step++;
	json_t *s = settings(text);
	struct create_args a = {.settings = s};
	int rc = on_engine(f, do_create, &a);
	json_decref(s);
	if (rc != 0)
		fail_msg("runs_create: %d %s", rc, a.err.message);
	assert_true(a.id[0] > 0);
	return a.id[0];
}

struct id_args {
	int64_t id;
	struct model_error err;
};

static int do_cancel(struct fx *f, struct store *st, void *arg)
{
	struct id_args *a = arg;
	return runs_cancel(f->rs, st, a->id, &a->err);
}

static int do_delete(struct fx *f, struct store *st, void *arg)
{
	struct id_args *a = arg;
	return runs_delete(f->rs, st, a->id, &a->err);
}

/* --- the fake's records, from the test thread ----------------------------------------- */

/* A copy of the record of task key's attempt (the last start of it). */
static struct fake_attempt attempt_of(struct fx *f, const char *key, int attempt)
{
	struct fake_attempt out;
	bool found = false;
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < f->natt; i++) {
		if (strcmp(f->att[i].task_key, key) == 0 && f->att[i].attempt == attempt) {
			out = f->att[i];
			found = true;
		}
	}
	pthread_mutex_unlock(&f->lock);
	if (!found)
		fail_msg("task %s attempt %d was never started", key, attempt);
	return out;
}

static int starts_of(struct fx *f, const char *key)
{
	int n = 0;
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < f->natt; i++)
		n += !key || strcmp(f->att[i].task_key, key) == 0;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* The attempt ends with status s, as its supervisor would report it. */
static void end_with(struct fx *f, const char *key, int attempt, struct exec_status s)
{
	f->step++;
	pthread_mutex_lock(&f->lock);
	struct fake_attempt *a = NULL;
	for (int i = 0; i < f->natt; i++)
		if (strcmp(f->att[i].task_key, key) == 0 && f->att[i].attempt == attempt)
			a = &f->att[i];
	if (a && !a->ended)
		end_locked(f, a, &s);
	bool ok = a && a->ended;
	pthread_mutex_unlock(&f->lock);
	if (!ok)
		fail_msg("task %s attempt %d is not running", key, attempt);
	settle(f);
}

static void exit_with(struct fx *f, const char *key, int attempt, int code)
{
	end_with(f, key, attempt, (struct exec_status){.state = EXEC_EXITED, .exit_code = code});
}

/* --- reading the store ---------------------------------------------------------------- */

static json_t *run_doc(struct fx *f, int64_t id)
{
	struct store_run row;
	int rc = store_run_get(f->st, id, &row);
	if (rc != STORE_OK)
		fail_msg("run %lld: %s", (long long)id, store_rc_name(rc));
	json_error_t e;
	json_t *doc = json_loads(row.doc, 0, &e);
	if (!doc)
		fail_msg("run %lld: bad doc: %s", (long long)id, e.text);
	store_run_release(&row);
	return doc;
}

static bool run_exists(struct fx *f, int64_t id)
{
	struct store_run row;
	int rc = store_run_get(f->st, id, &row);
	if (rc == STORE_OK)
		store_run_release(&row);
	assert_true(rc == STORE_OK || rc == STORE_NOT_FOUND);
	return rc == STORE_OK;
}

static bool run_active(struct fx *f, int64_t id)
{
	struct store_run row;
	assert_int_equal(store_run_get(f->st, id, &row), STORE_OK);
	bool active = row.active;
	store_run_release(&row);
	return active;
}

static int collect_doc(void *arg, const struct store_run *r)
{
	json_array_append_new(arg, json_loads(r->doc, 0, NULL));
	return 0;
}

/* Every task run of a job run, attempts included, in run id order. */
static json_t *task_runs(struct fx *f, int64_t job_run_id)
{
	json_t *all = json_array();
	assert_int_equal(store_run_children(f->st, job_run_id, collect_doc, all), STORE_OK);
	return all;
}

static int64_t ival(const json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);
	if (!json_is_integer(v))
		fail_msg("%s is not an integer", key);
	return json_integer_value(v);
}

static const char *sval(const json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

/* The task run of key's attempt (a new reference). */
static json_t *task_run(struct fx *f, int64_t job_run_id, const char *key, int attempt)
{
	json_t *all = task_runs(f, job_run_id);
	json_t *found = NULL;
	size_t i;
	json_t *t;
	json_array_foreach (all, i, t) {
		if (strcmp(sval(t, "task_key"), key) == 0 && ival(t, "attempt_number") == attempt)
			found = json_incref(t);
	}
	json_decref(all);
	if (!found)
		fail_msg("run %lld has no task run %s attempt %d", (long long)job_run_id, key,
			 attempt);
	return found;
}

static int count_task_runs(struct fx *f, int64_t job_run_id, const char *key)
{
	json_t *all = task_runs(f, job_run_id);
	int n = 0;
	size_t i;
	json_t *t;
	json_array_foreach (all, i, t)
		n += strcmp(sval(t, "task_key"), key) == 0;
	json_decref(all);
	return n;
}

/* status.state of a life_cycle_state, written out here rather than taken from
 * the code under test. */
static const char *v2_of(const char *life)
{
	if (strcmp(life, "WAITING_FOR_RETRY") == 0)
		return "WAITING";
	if (strcmp(life, "TERMINATED") == 0 || strcmp(life, "SKIPPED") == 0 ||
	    strcmp(life, "INTERNAL_ERROR") == 0)
		return "TERMINATED";
	return life;
}

/* Any termination code or type (checked apart with expect_term). */
#define ANY "*"

/* state and status of doc: life, result (NULL: none), termination code and
 * type (NULL: no termination_details; ANY: some), message (NULL: any, but
 * the same in both objects), user_cancelled_or_timedout. */
static void expect_state(const json_t *doc, const char *life, const char *result, const char *code,
			 const char *type, const char *msg, bool user)
{
	const char *who = sval(doc, "task_key") ? sval(doc, "task_key") : "the job run";
	json_t *state = json_object_get(doc, "state");
	json_t *status = json_object_get(doc, "status");
	assert_non_null(state);
	assert_non_null(status);
	const char *got = sval(state, "life_cycle_state");
	if (!got || strcmp(got, life) != 0)
		fail_msg("%s: life_cycle_state %s, want %s (state_message \"%s\")", who,
			 got ? got : "(none)", life, sval(state, "state_message"));
	if (result) {
		const char *r = sval(state, "result_state");
		if (!r || strcmp(r, result) != 0)
			fail_msg("%s: result_state %s, want %s (state_message \"%s\")", who,
				 r ? r : "(none)", result, sval(state, "state_message"));
	} else {
		assert_null(json_object_get(state, "result_state"));
	}
	const char *m = sval(state, "state_message");
	assert_non_null(m);
	if (msg)
		assert_string_equal(m, msg);
	assert_true(json_is_boolean(json_object_get(state, "user_cancelled_or_timedout")));
	if (json_is_true(json_object_get(state, "user_cancelled_or_timedout")) != user)
		fail_msg("%s: user_cancelled_or_timedout is not %s", who, user ? "true" : "false");

	assert_string_equal(sval(status, "state"), v2_of(life));
	json_t *td = json_object_get(status, "termination_details");
	if (code) {
		assert_non_null(td);
		if (strcmp(code, ANY) != 0)
			assert_string_equal(sval(td, "code"), code);
		if (strcmp(type, ANY) != 0)
			assert_string_equal(sval(td, "type"), type);
		assert_string_equal(sval(td, "message"), m);
	} else {
		assert_null(td);
	}
}

static void expect_term(const json_t *doc, const char *code, const char *type)
{
	json_t *td = json_object_get(json_object_get(doc, "status"), "termination_details");
	assert_non_null(td);
	assert_string_equal(sval(td, "code"), code);
	assert_string_equal(sval(td, "type"), type);
}

static bool file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* --- settings used by several tests --------------------------------------------------- */

#define ONE_TASK "{'name':'one','tasks':[{'task_key':'t','notebook_task':{'notebook_path':'/nb'}}]}"

/* --- cases: one task ------------------------------------------------------------------ */

static void test_one_task_succeeds(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, ONE_TASK);

	/* The start came after the commit of the write that created the run,
	 * with the task PENDING on disk: nothing runs before it is durable. */
	assert_int_equal(starts_of(f, NULL), 1);
	struct fake_attempt a = attempt_of(f, "t", 0);
	json_t *t = task_run(f, id, "t", 0);
	int64_t tid = ival(t, "run_id");
	json_decref(t);
	assert_true(tid > id);
	assert_string_equal(a.task_life_at_start, "PENDING");
	assert_true(strcmp(a.job_life_at_start, "PENDING") == 0 ||
		    strcmp(a.job_life_at_start, "RUNNING") == 0);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s/runs/%lld", f->dir, (long long)tid);
	assert_string_equal(a.dir, want);
	assert_int_equal(a.run_id, tid);
	assert_int_equal(a.attempt, 0);
	assert_int_equal(a.argc, 3);
	assert_string_equal(a.argv[0], "/usr/bin/python3");
	snprintf(want, sizeof(want), "%s/jobsd_task.py", f->runtime);
	assert_string_equal(a.argv[1], want);
	snprintf(want, sizeof(want), "%s/runs/%lld/context.json", f->dir, (long long)tid);
	assert_string_equal(a.argv[2], want);
	assert_true(a.cwd_null);
	assert_true(a.env_unbuffered);
	assert_int_equal(a.timeout_ms, 0);
	assert_int_equal(a.grace_ms, 100);

	/* The attempt folder: the notebook as it was, and the runtime's context. */
	snprintf(want, sizeof(want), "%s/runs/%lld/notebook.py", f->dir, (long long)tid);
	assert_true(file_exists(want));
	json_t *ctx = json_load_file(a.argv[2], 0, NULL);
	assert_non_null(ctx);
	assert_string_equal(sval(ctx, "kind"), "notebook");
	assert_string_equal(sval(ctx, "path"), want);
	assert_string_equal(sval(ctx, "workspace_path"), "/nb");
	assert_string_equal(sval(ctx, "output_dir"), a.dir);
	assert_string_equal(sval(ctx, "task_key"), "t");
	assert_int_equal(ival(ctx, "task_run_id"), tid);
	assert_int_equal(ival(ctx, "job_run_id"), id);
	json_decref(ctx);

	settle(f);
	json_t *job = run_doc(f, id);
	expect_state(job, "RUNNING", NULL, NULL, NULL, "", false);
	assert_int_equal(ival(job, "start_time"), T0);
	assert_int_equal(ival(job, "end_time"), 0);
	assert_string_equal(sval(job, "run_type"), "SUBMIT_RUN");
	assert_string_equal(sval(job, "run_name"), "one");
	assert_string_equal(sval(job, "creator_user_name"), "alice@example.com");
	snprintf(want, sizeof(want), "http://test/#/runs/%lld", (long long)id);
	assert_string_equal(sval(job, "run_page_url"), want);
	assert_true(ival(job, "job_id") > 0);
	json_decref(job);
	t = task_run(f, id, "t", 0);
	expect_state(t, "RUNNING", NULL, NULL, NULL, "", false);
	assert_int_equal(ival(t, "start_time"), T0);
	assert_int_equal(ival(t, "end_time"), 0);
	assert_int_equal(ival(t, "original_attempt_run_id"), tid);
	assert_string_equal(sval(json_object_get(t, RUN_DOC_PRIVATE), "handle"), "fake:1");
	json_decref(t);
	assert_true(run_active(f, id));
	assert_true(run_active(f, tid));

	advance(f, 1500);
	exit_with(f, "t", 0, 0);

	job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	assert_int_equal(ival(job, "start_time"), T0);
	assert_int_equal(ival(job, "end_time"), T0 + 1500);
	assert_int_equal(ival(job, "run_duration"), 1500);
	json_decref(job);
	t = task_run(f, id, "t", 0);
	expect_state(t, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	assert_int_equal(ival(t, "start_time"), T0);
	assert_int_equal(ival(t, "end_time"), T0 + 1500);
	assert_int_equal(ival(t, "execution_duration"), 1500);
	assert_int_equal(ival(t, "run_duration"), 1500);
	assert_int_equal(ival(t, "setup_duration"), 0);
	assert_int_equal(ival(t, "cleanup_duration"), 0);
	json_decref(t);
	assert_false(run_active(f, id));
	assert_false(run_active(f, tid));
	assert_int_equal(count_task_runs(f, id, "t"), 1);

	a = attempt_of(f, "t", 0);
	assert_true(a.polls >= 1);
	assert_int_equal(a.releases, 1);
	assert_int_equal(a.efd, -1); /* released with its watch fd */
	assert_int_equal(a.cancels, 0);
	assert_int_equal(starts_of(f, NULL), 1);
}

static void test_failed_attempt(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, ONE_TASK);
	settle(f);
	advance(f, 700);
	exit_with(f, "t", 0, 1);

	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR",
		     "Task t failed: the process exited with code 1", false);
	assert_int_equal(ival(t, "end_time"), T0 + 700);
	assert_int_equal(ival(t, "execution_duration"), 700);
	json_decref(t);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL,
		     false);
	assert_int_equal(ival(job, "end_time"), T0 + 700);
	json_decref(job);
	assert_int_equal(count_task_runs(f, id, "t"), 1); /* no retry by default */
	assert_int_equal(starts_of(f, NULL), 1);
}

static void test_failed_attempt_error_json(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, ONE_TASK);
	settle(f);
	struct fake_attempt a = attempt_of(f, "t", 0);
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/error.json", a.dir);
	assert_int_equal(write_text(path, "{\"error\": \"ZeroDivisionError: division by zero\", "
					  "\"error_trace\": \"Traceback...\"}"),
			 0);
	exit_with(f, "t", 0, 1);

	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR",
		     "ZeroDivisionError: division by zero", false);
	json_decref(t);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL,
		     false);
	json_decref(job);
}

static void test_killed_by_signal(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, ONE_TASK);
	settle(f);
	end_with(f, "t", 0, (struct exec_status){.state = EXEC_SIGNALED, .term_signal = 9});
	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL, false);
	assert_non_null(strstr(sval(json_object_get(t, "state"), "state_message"), "killed by"));
	json_decref(t);
}

static void test_lost_attempt(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, ONE_TASK);
	settle(f);
	end_with(f, "t", 0, (struct exec_status){.state = EXEC_LOST});
	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "INTERNAL_ERROR", "FAILED", "INTERNAL_ERROR", "INTERNAL_ERROR",
		     "The task's supervisor ended without recording how the task ended", false);
	json_decref(t);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL,
		     false);
	json_decref(job);
}

/* --- cases: retries ------------------------------------------------------------------- */

static void test_retry_waits_its_interval(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, "{'name':'r','tasks':[{'task_key':'t','notebook_task':"
				   "{'notebook_path':'/nb'},'max_retries':2,"
				   "'min_retry_interval_millis':5000}]}");
	settle(f);
	json_t *t = task_run(f, id, "t", 0);
	int64_t first = ival(t, "run_id");
	json_decref(t);

	advance(f, 1000);
	exit_with(f, "t", 0, 1);

	/* The failed attempt keeps its result; the retry is a new task run. */
	t = task_run(f, id, "t", 0);
	expect_state(t, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL, false);
	assert_int_equal(ival(t, "end_time"), T0 + 1000);
	json_decref(t);
	assert_false(run_active(f, first));
	json_t *r = task_run(f, id, "t", 1);
	int64_t retry = ival(r, "run_id");
	assert_true(retry > first);
	assert_int_equal(ival(r, "attempt_number"), 1);
	assert_int_equal(ival(r, "original_attempt_run_id"), first);
	assert_int_equal(ival(r, "start_time"), 0);
	expect_state(r, "WAITING_FOR_RETRY", NULL, NULL, NULL, NULL, false);
	json_decref(r);
	json_t *job = run_doc(f, id);
	expect_state(job, "RUNNING", NULL, NULL, NULL, NULL, false);
	json_decref(job);

	/* min_retry_interval_millis counts from the failed attempt's start. */
	advance(f, 3999); /* T0 + 4999 */
	assert_int_equal(starts_of(f, "t"), 1);
	r = task_run(f, id, "t", 1);
	expect_state(r, "WAITING_FOR_RETRY", NULL, NULL, NULL, NULL, false);
	json_decref(r);

	advance(f, 1); /* T0 + 5000 */
	assert_int_equal(starts_of(f, "t"), 2);
	struct fake_attempt a = attempt_of(f, "t", 1);
	assert_int_equal(a.run_id, retry);
	assert_int_equal(a.attempt, 1);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s/runs/%lld", f->dir, (long long)retry);
	assert_string_equal(a.dir, want);
	assert_string_equal(a.task_life_at_start, "PENDING");
	r = task_run(f, id, "t", 1);
	expect_state(r, "RUNNING", NULL, NULL, NULL, "", false);
	assert_int_equal(ival(r, "start_time"), T0 + 5000);
	json_decref(r);

	advance(f, 250);
	exit_with(f, "t", 1, 0);
	r = task_run(f, id, "t", 1);
	expect_state(r, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	assert_int_equal(ival(r, "end_time"), T0 + 5250);
	assert_int_equal(ival(r, "execution_duration"), 250);
	json_decref(r);
	job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	assert_int_equal(ival(job, "end_time"), T0 + 5250);
	json_decref(job);
	assert_int_equal(count_task_runs(f, id, "t"), 2);
	assert_int_equal(starts_of(f, NULL), 2);
}

static void test_retries_run_out(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, "{'name':'r','tasks':[{'task_key':'t','notebook_task':"
				   "{'notebook_path':'/nb'},'max_retries':1,"
				   "'min_retry_interval_millis':1000}]}");
	settle(f);
	exit_with(f, "t", 0, 1);
	advance(f, 1000);
	exit_with(f, "t", 1, 3);
	advance(f, 60000); /* nothing more is scheduled */
	assert_int_equal(count_task_runs(f, id, "t"), 2);
	assert_int_equal(starts_of(f, NULL), 2);
	json_t *r = task_run(f, id, "t", 1);
	expect_state(r, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR",
		     "Task t failed: the process exited with code 3", false);
	json_decref(r);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL,
		     false);
	json_decref(job);
}

static void test_unlimited_retries(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, "{'name':'r','tasks':[{'task_key':'t','notebook_task':"
				   "{'notebook_path':'/nb'},'max_retries':-1,"
				   "'min_retry_interval_millis':1000}]}");
	settle(f);
	int64_t first = 0;
	for (int i = 0; i < 4; i++) {
		exit_with(f, "t", i, 1);
		json_t *r = task_run(f, id, "t", i + 1);
		expect_state(r, "WAITING_FOR_RETRY", NULL, NULL, NULL, NULL, false);
		if (i == 0) {
			json_t *t = task_run(f, id, "t", 0);
			first = ival(t, "run_id");
			json_decref(t);
		}
		assert_int_equal(ival(r, "original_attempt_run_id"), first);
		json_decref(r);
		advance(f, 1000);
		assert_int_equal(starts_of(f, "t"), i + 2);
	}
	exit_with(f, "t", 4, 0);
	assert_int_equal(count_task_runs(f, id, "t"), 5);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	json_decref(job);
}

#define TIMING_OUT(retry)                                                                \
	"{'name':'to','tasks':[{'task_key':'t','notebook_task':{'notebook_path':'/nb'}," \
	"'timeout_seconds':30,'max_retries':1,'min_retry_interval_millis':60000,"        \
	"'retry_on_timeout':" retry "}]}"

/* The supervisor enforces the task's timeout_seconds and says so. */
static const struct exec_status timed_out = {
	.state = EXEC_SIGNALED, .term_signal = 15, .timed_out = true};

static void test_task_timeout_not_retried(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, TIMING_OUT("false"));
	settle(f);
	assert_int_equal(attempt_of(f, "t", 0).timeout_ms, 30000);
	advance(f, 30000);
	end_with(f, "t", 0, timed_out);
	advance(f, 60000);
	assert_int_equal(count_task_runs(f, id, "t"), 1);
	assert_int_equal(starts_of(f, NULL), 1);
	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "TERMINATED", "TIMEDOUT", "CANCELED", "CLIENT_ERROR", "Task t timed out.",
		     true);
	json_decref(t);
	/* A timed-out leaf fails the run; the run itself did not time out. */
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL,
		     false);
	json_decref(job);
}

static void test_task_timeout_retried(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, TIMING_OUT("true"));
	settle(f);
	advance(f, 30000);
	end_with(f, "t", 0, timed_out);
	json_t *r = task_run(f, id, "t", 1);
	expect_state(r, "WAITING_FOR_RETRY", NULL, NULL, NULL, NULL, false);
	json_decref(r);
	advance(f, 29999); /* T0 + 59999 */
	assert_int_equal(starts_of(f, "t"), 1);
	advance(f, 1); /* a minute after the first attempt started */
	assert_int_equal(starts_of(f, "t"), 2);
	assert_int_equal(attempt_of(f, "t", 1).timeout_ms, 30000);
	exit_with(f, "t", 1, 0);
	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "TERMINATED", "TIMEDOUT", "CANCELED", "CLIENT_ERROR", "Task t timed out.",
		     true);
	json_decref(t);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	json_decref(job);
}

/* --- cases: the job's timeout and cancellation ---------------------------------------- */

static void test_job_timeout(void **state)
{
	struct fx *f = *state;
	f->cancel_ends = false; /* to see TERMINATING while the task stops */
	int64_t id = create_run(f, "{'name':'slow','timeout_seconds':10,'tasks':[{'task_key':'t',"
				   "'notebook_task':{'notebook_path':'/nb'}}]}");
	settle(f);
	advance(f, 9999);
	assert_int_equal(attempt_of(f, "t", 0).cancels, 0);
	json_t *job = run_doc(f, id);
	expect_state(job, "RUNNING", NULL, NULL, NULL, "", false);
	json_decref(job);

	advance(f, 1); /* T0 + 10 s: the deadline */
	assert_int_equal(attempt_of(f, "t", 0).cancels, 1);
	job = run_doc(f, id);
	expect_state(job, "TERMINATING", NULL, NULL, NULL, NULL, false);
	json_decref(job);
	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "RUNNING", NULL, NULL, NULL, NULL, false);
	json_decref(t);

	/* The supervisor stops the task (SIGTERM). */
	advance(f, 100);
	end_with(f, "t", 0,
		 (struct exec_status){.state = EXEC_SIGNALED, .term_signal = 15, .canceled = true});
	t = task_run(f, id, "t", 0);
	expect_state(t, "TERMINATED", "TIMEDOUT", "CANCELED", "CLIENT_ERROR", "Task t timed out.",
		     true);
	assert_int_equal(ival(t, "end_time"), T0 + 10100);
	json_decref(t);
	job = run_doc(f, id);
	expect_state(job, "TERMINATED", "TIMEDOUT", "CANCELED", "CLIENT_ERROR", "Run timed out.",
		     true);
	assert_int_equal(ival(job, "end_time"), T0 + 10100);
	assert_int_equal(ival(job, "run_duration"), 10100);
	json_decref(job);
	advance(f, 60000);
	assert_int_equal(attempt_of(f, "t", 0).cancels, 1); /* once */
	assert_int_equal(count_task_runs(f, id, "t"), 1);
}

#define TWO_IN_LINE                                                                           \
	"{'name':'line','tasks':[{'task_key':'a','notebook_task':{'notebook_path':'/nb'}},"   \
	"{'task_key':'b','depends_on':[{'task_key':'a'}],'notebook_task':{'notebook_path':'/" \
	"nb'}}]}"

static void test_cancel_running_and_pending(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, TWO_IN_LINE);
	settle(f);
	json_t *b = task_run(f, id, "b", 0);
	expect_state(b, "PENDING", NULL, NULL, NULL, "", false);
	json_decref(b);

	f->step++;
	struct id_args c = {.id = id};
	assert_int_equal(on_engine(f, do_cancel, &c), 0);
	settle(f);

	assert_int_equal(attempt_of(f, "a", 0).cancels, 1);
	assert_int_equal(starts_of(f, "b"), 0);
	json_t *a = task_run(f, id, "a", 0);
	expect_state(a, "TERMINATED", "CANCELED", "USER_CANCELED", "SUCCESS", "Run cancelled.",
		     true);
	json_decref(a);
	b = task_run(f, id, "b", 0);
	expect_state(b, "TERMINATED", "CANCELED", "USER_CANCELED", "SUCCESS",
		     "The run was cancelled before this task started.", true);
	assert_int_equal(ival(b, "start_time"), 0);
	json_decref(b);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "CANCELED", "USER_CANCELED", "SUCCESS", "Run cancelled.",
		     true);
	json_decref(job);
	assert_false(run_active(f, id));

	/* Cancelling a finished run is a no-op. */
	assert_int_equal(on_engine(f, do_cancel, &c), 0);
	settle(f);
	assert_int_equal(attempt_of(f, "a", 0).cancels, 1);
	c.id = 999999;
	assert_int_equal(on_engine(f, do_cancel, &c), -1);
	assert_string_equal(c.err.code, "INVALID_PARAMETER_VALUE");
}

/* Two writes of one group commit: a run is created (its task is to start
 * after the commit) and cancelled. Nothing may be left running. */
static void test_cancel_in_the_batch_that_starts(void **state)
{
	struct fx *f = *state;
	f->step++;
	json_t *s = settings(ONE_TASK);
	struct create_args a = {.settings = s, .cancel_too = true};
	assert_int_equal(on_engine(f, do_create, &a), 0);
	json_decref(s);
	settle(f);
	int64_t id = a.id[0];
	/* Either the task never started, or it was stopped. */
	if (starts_of(f, "t") > 0)
		assert_int_equal(attempt_of(f, "t", 0).cancels, 1);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "CANCELED", "USER_CANCELED", "SUCCESS", "Run cancelled.",
		     true);
	json_decref(job);
	json_t *t = task_run(f, id, "t", 0);
	const char *res = sval(json_object_get(t, "state"), "result_state");
	assert_non_null(res);
	assert_string_equal(res, "CANCELED");
	json_decref(t);
}

/* --- cases: the graph ----------------------------------------------------------------- */

#define DIAMOND(run_if)                                                                           \
	"{'name':'diamond','tasks':["                                                             \
	"{'task_key':'a','notebook_task':{'notebook_path':'/nb'}},"                               \
	"{'task_key':'b','depends_on':[{'task_key':'a'}],'notebook_task':{'notebook_path':'/"     \
	"nb'}},"                                                                                  \
	"{'task_key':'c','depends_on':[{'task_key':'a'}],'notebook_task':{'notebook_path':'/"     \
	"nb'}},"                                                                                  \
	"{'task_key':'d','depends_on':[{'task_key':'b'},{'task_key':'c'}],'run_if':'" run_if "'," \
	"'notebook_task':{'notebook_path':'/nb'}}]}"

static void test_diamond_all_done(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, DIAMOND("ALL_DONE"));
	settle(f);
	assert_int_equal(starts_of(f, NULL), 1);
	assert_int_equal(starts_of(f, "a"), 1);
	for (const char *k = "bcd"; *k; k++) {
		char key[2] = {*k, 0};
		json_t *t = task_run(f, id, key, 0);
		expect_state(t, "PENDING", NULL, NULL, NULL, "", false);
		json_decref(t);
	}

	exit_with(f, "a", 0, 0);
	/* b and c, which only wait for a, start together: one commit, one
	 * round of starts after it. */
	assert_int_equal(starts_of(f, NULL), 3);
	struct fake_attempt b = attempt_of(f, "b", 0), c = attempt_of(f, "c", 0);
	assert_int_equal(b.step, c.step);
	assert_int_equal(b.begins_at_start, c.begins_at_start);
	assert_true(b.step > attempt_of(f, "a", 0).step);
	assert_string_equal(b.task_life_at_start, "PENDING");
	assert_string_equal(c.task_life_at_start, "PENDING");

	exit_with(f, "b", 0, 1);
	assert_int_equal(starts_of(f, "d"), 0); /* c is not done */
	json_t *d = task_run(f, id, "d", 0);
	expect_state(d, "PENDING", NULL, NULL, NULL, "", false);
	json_decref(d);

	exit_with(f, "c", 0, 0);
	assert_int_equal(starts_of(f, "d"), 1); /* ALL_DONE: runs after a failure */
	exit_with(f, "d", 0, 0);

	json_t *t = task_run(f, id, "b", 0);
	expect_state(t, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL, false);
	json_decref(t);
	t = task_run(f, id, "d", 0);
	expect_state(t, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	json_decref(t);
	/* The only leaf succeeded, a task before it failed. */
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS_WITH_FAILURES", "SUCCESS_WITH_FAILURES", "SUCCESS",
		     "Some tasks failed, but every leaf task succeeded.", false);
	json_decref(job);
}

static void test_diamond_all_success(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, DIAMOND("ALL_SUCCESS"));
	settle(f);
	exit_with(f, "a", 0, 0);
	exit_with(f, "c", 0, 0);
	exit_with(f, "b", 0, 1);
	assert_int_equal(starts_of(f, "d"), 0);
	json_t *d = task_run(f, id, "d", 0);
	expect_state(d, "SKIPPED", "UPSTREAM_FAILED", "SKIPPED", "CLIENT_ERROR", NULL, false);
	assert_int_equal(ival(d, "start_time"), 0);
	json_decref(d);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL,
		     false);
	json_decref(job);
}

#define CONDITION(left)                                                                          \
	"{'name':'cond','tasks':["                                                               \
	"{'task_key':'check','condition_task':{'op':'EQUAL_TO','left':'" left "','right':'1'}}," \
	"{'task_key':'yes','depends_on':[{'task_key':'check','outcome':'true'}],"                \
	"'notebook_task':{'notebook_path':'/nb'}},"                                              \
	"{'task_key':'no','depends_on':[{'task_key':'check','outcome':'false'}],"                \
	"'notebook_task':{'notebook_path':'/nb'}}]}"

static void check_condition(struct fx *f, const char *text, bool outcome)
{
	const char *taken = outcome ? "yes" : "no", *other = outcome ? "no" : "yes";
	int64_t id = create_run(f, text);
	settle(f);
	/* Evaluated at once, by the engine: no process. */
	assert_int_equal(starts_of(f, "check"), 0);
	assert_int_equal(starts_of(f, NULL), 1);
	assert_int_equal(starts_of(f, taken), 1);
	json_t *c = task_run(f, id, "check", 0);
	expect_state(c, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	assert_string_equal(sval(json_object_get(c, "condition_task"), "outcome"),
			    outcome ? "true" : "false");
	assert_int_equal(ival(c, "start_time"), T0);
	json_decref(c);
	json_t *o = task_run(f, id, other, 0);
	expect_state(o, "SKIPPED", "EXCLUDED", "SKIPPED", "CLIENT_ERROR", NULL, false);
	json_decref(o);

	exit_with(f, taken, 0, 0);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	json_decref(job);
	/* The settings the run was created with are its record: unchanged. */
	json_t *want = settings(text);
	job = run_doc(f, id);
	assert_json_equal(json_object_get(json_object_get(job, RUN_DOC_PRIVATE), "settings"), want);
	json_decref(job);
	json_decref(want);
}

static void test_condition_true(void **state) { check_condition(*state, CONDITION("1"), true); }

static void test_condition_false(void **state) { check_condition(*state, CONDITION("2"), false); }

/* --- cases: tasks that cannot start --------------------------------------------------- */

static void test_unsupported_kind(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, "{'name':'jar','tasks':[{'task_key':'j','existing_cluster_id':"
				   "'c1','spark_jar_task':{'main_class_name':'com.example.Main'},"
				   "'max_retries':3}]}");
	settle(f);
	assert_int_equal(starts_of(f, NULL), 0);
	json_t *t = task_run(f, id, "j", 0);
	expect_state(t, "INTERNAL_ERROR", "FAILED", "FEATURE_DISABLED", "CLIENT_ERROR", NULL,
		     false);
	assert_non_null(
		strstr(sval(json_object_get(t, "state"), "state_message"), "spark_jar_task"));
	json_decref(t);
	assert_int_equal(count_task_runs(f, id, "j"), 1); /* not retried */
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL,
		     false);
	json_decref(job);
}

static void test_missing_notebook(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, "{'name':'gone','tasks':[{'task_key':'t','notebook_task':"
				   "{'notebook_path':'/missing'}}]}");
	settle(f);
	assert_int_equal(starts_of(f, NULL), 0);
	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "INTERNAL_ERROR", "FAILED", "INVALID_RUN_CONFIGURATION", "CLIENT_ERROR",
		     NULL, false);
	assert_non_null(strstr(sval(json_object_get(t, "state"), "state_message"),
			       "Unable to access the notebook \"/missing\""));
	json_decref(t);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL,
		     false);
	json_decref(job);
}

static void test_start_failure_retried(void **state)
{
	struct fx *f = *state;
	f->start_fail_n = 1;
	f->start_fail_rc = -ENOENT;
	int64_t id = create_run(f, "{'name':'sf','tasks':[{'task_key':'t','notebook_task':"
				   "{'notebook_path':'/nb'},'max_retries':1,"
				   "'min_retry_interval_millis':2000}]}");
	settle(f);
	assert_int_equal(starts_of(f, "t"), 1); /* tried */
	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "INTERNAL_ERROR", "FAILED", ANY, ANY,
		     "The task could not be started: No such file or directory", false);
	assert_null(json_object_get(json_object_get(t, RUN_DOC_PRIVATE), "handle"));
	json_t *r = task_run(f, id, "t", 1);
	expect_state(r, "WAITING_FOR_RETRY", NULL, NULL, NULL, NULL, false);
	json_decref(r);

	advance(f, 1999);
	assert_int_equal(starts_of(f, "t"), 1);
	advance(f, 1);
	assert_int_equal(starts_of(f, "t"), 2);
	exit_with(f, "t", 1, 0);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	json_decref(job);
	/* The executor could not start it: jobsd's failure, not the client's
	 * (INVALID_RUN_CONFIGURATION is a CLIENT_ERROR). */
	expect_term(t, "INTERNAL_ERROR", "INTERNAL_ERROR");
	json_decref(t);
}

static void test_start_failure_without_retry(void **state)
{
	struct fx *f = *state;
	f->start_fail_n = 1;
	f->start_fail_rc = -EAGAIN;
	int64_t id = create_run(f, ONE_TASK);
	settle(f);
	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "INTERNAL_ERROR", "FAILED", ANY, ANY,
		     "The task could not be started: Resource temporarily unavailable", false);
	assert_int_equal(count_task_runs(f, id, "t"), 1);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL,
		     false);
	json_decref(job);
	expect_term(t, "INTERNAL_ERROR", "INTERNAL_ERROR");
	json_decref(t);
}

/* executor.h: a watch fd of -1 "means the backend has no such fd and the
 * engine polls on a timer". */
static void test_attempt_without_watch_fd_is_polled(void **state)
{
	struct fx *f = *state;
	f->no_watch_fd = true;
	int64_t id = create_run(f, ONE_TASK);
	settle(f);
	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "RUNNING", NULL, NULL, NULL, "", false);
	json_decref(t);
	f->step++;
	pthread_mutex_lock(&f->lock);
	f->att[0].st = (struct exec_status){.state = EXEC_EXITED, .exit_code = 0};
	f->att[0].ended = true;
	pthread_mutex_unlock(&f->lock);
	for (int i = 0; i < 10 && run_active(f, id); i++)
		advance(f, 60000);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	json_decref(job);
}

/* --- cases: idempotency and deletion -------------------------------------------------- */

static int count_row(void *arg, const struct store_run *r)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static int count_job_runs(struct fx *f)
{
	struct store_run_query q = {.job_id = -1, .active = -1, .run_type = -1, .limit = 1000};
	int n = 0;
	assert_int_equal(store_run_list(f->st, &q, count_row, &n), STORE_OK);
	return n;
}

static void test_idempotency_token(void **state)
{
	struct fx *f = *state;
	json_t *s = settings(ONE_TASK);
	struct create_args a1 = {.settings = s, .token = "tok-1"};
	assert_int_equal(on_engine(f, do_create, &a1), 0);
	struct create_args a2 = {.settings = s, .token = "tok-1"};
	assert_int_equal(on_engine(f, do_create, &a2), 0);
	assert_int_equal(a2.id[0], a1.id[0]);
	assert_int_equal(a2.number[0], a1.number[0]);
	/* Twice in one transaction (one group commit) too. */
	struct create_args a3 = {.settings = s, .token = "tok-2", .times = 2};
	assert_int_equal(on_engine(f, do_create, &a3), 0);
	json_decref(s);
	assert_int_equal(a3.id[1], a3.id[0]);
	assert_int_not_equal(a3.id[0], a1.id[0]);
	settle(f);
	assert_int_equal(count_job_runs(f), 2);
	assert_int_equal(count_task_runs(f, a1.id[0], "t"), 1);
	assert_int_equal(count_task_runs(f, a3.id[0], "t"), 1);
	assert_int_equal(starts_of(f, NULL), 2);
}

static void test_delete(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, "{'name':'del','tasks':[{'task_key':'t','notebook_task':"
				   "{'notebook_path':'/nb'},'max_retries':1}]}");
	settle(f);
	struct id_args d = {.id = id};
	assert_int_equal(on_engine(f, do_delete, &d), -1);
	assert_int_equal(d.err.status, 400);
	assert_string_equal(d.err.code, "INVALID_STATE");
	assert_true(run_exists(f, id));

	exit_with(f, "t", 0, 1);
	advance(f, 0);
	exit_with(f, "t", 1, 0);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	json_decref(job);
	json_t *tasks = task_runs(f, id);
	assert_int_equal(json_array_size(tasks), 2);
	int64_t t0 = ival(json_array_get(tasks, 0), "run_id");
	int64_t t1 = ival(json_array_get(tasks, 1), "run_id");
	json_decref(tasks);
	char dir0[PATH_MAX], dir1[PATH_MAX];
	assert_int_equal(runs_attempt_dir(f->dir, t0, dir0, sizeof(dir0)), 0);
	assert_int_equal(runs_attempt_dir(f->dir, t1, dir1, sizeof(dir1)), 0);
	assert_true(file_exists(dir0));
	assert_true(file_exists(dir1));

	/* A task run is not deleted on its own. */
	d.id = t0;
	assert_int_equal(on_engine(f, do_delete, &d), -1);
	assert_string_equal(d.err.code, "INVALID_PARAMETER_VALUE");

	d.id = id;
	assert_int_equal(on_engine(f, do_delete, &d), 0);
	assert_false(run_exists(f, id));
	assert_false(run_exists(f, t0));
	assert_false(run_exists(f, t1));
	assert_false(file_exists(dir0));
	assert_false(file_exists(dir1));
	assert_int_equal(count_job_runs(f), 0);

	assert_int_equal(on_engine(f, do_delete, &d), -1);
	assert_string_equal(d.err.code, "INVALID_PARAMETER_VALUE");
}

/* --- cases: a failed commit ----------------------------------------------------------- */

/* The commit that records a task's end fails: memory is reloaded from the
 * store, where the task still runs; the engine finds the attempt again and
 * reads how it ended. */
static void test_failed_commit_reloads(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, ONE_TASK);
	settle(f);
	pthread_mutex_lock(&f->lock);
	f->fail_commits = 1;
	pthread_mutex_unlock(&f->lock);
	advance(f, 500);
	exit_with(f, "t", 0, 0);
	/* After a failed commit the engine waits (100 ms, growing while the
	 * store keeps failing) before it ticks again: no busy loop. */
	advance(f, 100);
	struct fake_attempt a = attempt_of(f, "t", 0);
	assert_int_equal(a.reattaches, 1);
	assert_int_equal(f->fail_commits, 0);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	json_decref(job);
	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	assert_int_equal(ival(t, "end_time"), T0 + 600);
	json_decref(t);
	assert_int_equal(starts_of(f, NULL), 1);
}

/* The commit after a start (the one that records RUNNING and the handle)
 * fails. The process runs: the reload must not start the same attempt a
 * second time next to it, nor leave it running unwatched. */
static void test_failed_commit_after_start(void **state)
{
	struct fx *f = *state;
	f->fail_commit_after_start = true;
	int64_t id = create_run(f, ONE_TASK);
	settle(f);
	advance(f, 100); /* the pause after a failed commit */
	assert_int_equal(f->fail_commits, 0);
	json_t *t = task_run(f, id, "t", 0);
	int64_t tid = ival(t, "run_id");
	json_decref(t);
	int live = 0;
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < f->natt; i++)
		live += f->att[i].run_id == tid && !f->att[i].ended && f->att[i].cancels == 0;
	int n = f->natt;
	pthread_mutex_unlock(&f->lock);
	if (live != 1)
		fail_msg("%d processes run attempt %lld (%d starts)", live, (long long)tid, n);
	/* Found again from its folder: RUNNING with its handle, as if the
	 * commit had not failed. */
	assert_int_equal(starts_of(f, NULL), 1);
	struct fake_attempt a = attempt_of(f, "t", 0);
	assert_int_equal(a.reattaches, 1);
	t = task_run(f, id, "t", 0);
	expect_state(t, "RUNNING", NULL, NULL, NULL, "", false);
	json_t *handle = json_object_get(json_object_get(t, RUN_DOC_PRIVATE), "handle");
	json_incref(handle);
	json_decref(t);
	advance(f, 300);
	exit_with(f, "t", 0, 0);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	json_decref(job);
	/* What a restart needs to find the attempt again was stored with it. */
	const char *h = json_string_value(handle);
	bool stored = h && strcmp(h, "fake:1") == 0;
	json_decref(handle);
	if (!stored)
		fail_msg("the RUNNING task run was stored without its handle");
}

/* The same, then a restart while the attempt runs: the stored RUNNING task
 * run must lead to its process again. */
static void restart(struct fx *f);

static void test_failed_commit_after_start_then_restart(void **state)
{
	struct fx *f = *state;
	f->fail_commit_after_start = true;
	int64_t id = create_run(f, ONE_TASK);
	settle(f);
	restart(f);
	assert_int_equal(starts_of(f, NULL), 1);
	exit_with(f, "t", 0, 0);
	for (int i = 0; i < 3 && run_active(f, id); i++)
		advance(f, 60000);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	json_decref(job);
}

/* --- cases: a restart ----------------------------------------------------------------- */

/* jobsd stops and starts again on the same store; the attempts keep
 * running (their watch fds die with the old process). */
static void restart(struct fx *f)
{
	f->step++;
	assert_int_equal(on_engine(f, unwatch_barrier, NULL), 0);
	engine_stop(f->e);
	runs_close(f->rs);
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < f->natt; i++) {
		if (f->att[i].efd >= 0)
			close(f->att[i].efd);
		f->att[i].efd = -1;
	}
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(engine_start(&f->e, f->st), 0);
	assert_int_equal(on_engine(f, watch_barrier, NULL), 0);
	assert_int_equal(runs_open(&f->rs, f->e, f->st, &f->ex, f->ws, &f->cfg), 0);
	settle(f);
}

static void test_restart_reattaches(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, TWO_IN_LINE);
	settle(f);
	advance(f, 100);
	restart(f);
	struct fake_attempt a = attempt_of(f, "a", 0);
	assert_int_equal(a.reattaches, 1);
	assert_true(a.efd >= 0); /* watched again */
	assert_int_equal(starts_of(f, NULL), 1);
	json_t *t = task_run(f, id, "a", 0);
	expect_state(t, "RUNNING", NULL, NULL, NULL, "", false);
	assert_int_equal(ival(t, "start_time"), T0);
	json_decref(t);
	t = task_run(f, id, "b", 0);
	expect_state(t, "PENDING", NULL, NULL, NULL, "", false);
	json_decref(t);

	exit_with(f, "a", 0, 0);
	assert_int_equal(starts_of(f, "b"), 1);
	exit_with(f, "b", 0, 0);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", "", false);
	json_decref(job);
}

static void test_restart_after_the_attempt_ended(void **state)
{
	struct fx *f = *state;
	int64_t id = create_run(f, ONE_TASK);
	settle(f);
	advance(f, 100);
	/* It ends while jobsd is down: the supervisor's status says how. */
	pthread_mutex_lock(&f->lock);
	f->att[0].st = (struct exec_status){.state = EXEC_EXITED, .exit_code = 2};
	f->att[0].ended = true;
	pthread_mutex_unlock(&f->lock);
	restart(f);
	assert_int_equal(attempt_of(f, "t", 0).reattaches, 1);
	assert_int_equal(starts_of(f, NULL), 1);
	json_t *t = task_run(f, id, "t", 0);
	expect_state(t, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR",
		     "Task t failed: the process exited with code 2", false);
	json_decref(t);
	json_t *job = run_doc(f, id);
	expect_state(job, "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", NULL,
		     false);
	json_decref(job);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	log_set_level(LOG_OFF);
	if (getenv("RUNS_TEST"))
		cmocka_set_test_filter(getenv("RUNS_TEST"));
	if (getenv("RUNS_TEST_SKIP"))
		cmocka_set_skip_filter(getenv("RUNS_TEST_SKIP"));
	const struct CMUnitTest tests[] = {
		T(test_one_task_succeeds),
		T(test_failed_attempt),
		T(test_failed_attempt_error_json),
		T(test_killed_by_signal),
		T(test_lost_attempt),
		T(test_retry_waits_its_interval),
		T(test_retries_run_out),
		T(test_unlimited_retries),
		T(test_task_timeout_not_retried),
		T(test_task_timeout_retried),
		T(test_job_timeout),
		T(test_cancel_running_and_pending),
		T(test_cancel_in_the_batch_that_starts),
		T(test_diamond_all_done),
		T(test_diamond_all_success),
		T(test_condition_true),
		T(test_condition_false),
		T(test_unsupported_kind),
		T(test_missing_notebook),
		T(test_start_failure_retried),
		T(test_start_failure_without_retry),
		T(test_attempt_without_watch_fd_is_polled),
		T(test_idempotency_token),
		T(test_delete),
		T(test_failed_commit_reloads),
		T(test_failed_commit_after_start),
		T(test_failed_commit_after_start_then_restart),
		T(test_restart_reattaches),
		T(test_restart_after_the_attempt_ended),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
