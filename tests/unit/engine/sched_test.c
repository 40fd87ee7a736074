/* sched_test.c - unit tests for src/engine/sched.c (the scheduler: cron
 * schedules, periodic, continuous and file-arrival triggers) with a real
 * engine thread, a real SQLite store and workspace in a mkdtemp directory,
 * the real run engine, a virtual clock and a fake executor.
 *
 * Jobs are saved the way src/api/jobs.c saves them: inside an engine write,
 * the job row is written (store_job_insert / store_job_update /
 * store_job_delete) and then sched_job_saved / sched_job_deleted is called
 * in the same transaction. Every assertion on runs reads them back from the
 * store (store_run_list, the run docs); {{job.trigger.*}} values are read
 * from the context.json the run engine wrote for the task's process, whose
 * path the fake executor recorded (notebook base_parameters become its
 * "widgets").
 *
 * Waiting without sleeping: settle() and advance() are runs_test.c's (see
 * its header): two barrier eventfds watched by the engine, repeated until a
 * round passes with no store transaction and no executor call. The clock is
 * virtual, so a firing happens exactly when the test moves the clock past
 * its instant. The only real waits are the bounded polls (at most 5 s) for
 * inotify events in the file-arrival tests.
 *
 * File arrival and the clock: the scheduler compares file times (real) with
 * its clock (virtual here). Those tests start the virtual clock at the real
 * time and move it well ahead before a file appears, and give each new file
 * an explicit mtime between the real time and the virtual one, so the
 * answers do not depend on how fast the test runs.
 *
 * Never call a cmocka assertion on the engine thread: the fake records
 * what is wrong in fx.problem and the test thread fails on it.
 *
 * SCHED_TEST=<pattern> runs only the matching cases.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "engine/sched.h"
#include "exec/executor.h"
#include "model/job.h"
#include "model/run_doc.h"
#include "sched/tzif.h"
#include "store/store.h"
#include "testutil.h"
#include "util/clock.h"
#include "util/log.h"
#include "workspace/workspace.h"

/* The virtual clock starts here (2026-01-01T00:00:00Z, a whole minute and
 * hour, so cron instants are easy to read). */
#define T0     1767225600000LL
#define SEC    1000LL
#define MIN    (60 * SEC)
#define HOUR   (60 * MIN)
#define NO_DUE INT64_MAX

#define MAX_ATTEMPTS 64

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
	char context[PATH_MAX]; /* argv[2]: the context.json of the attempt */
	struct exec_status st;
	bool ended;
};

struct fx {
	char dir[256];
	char runtime[PATH_MAX];
	char ws_root[PATH_MAX];
	struct clock clock;
	struct store *st;
	const struct store_backend *real_ops;
	struct store_backend ops; /* the real table, begin wrapped */
	struct workspace *ws;
	struct engine *e;
	struct runs *rs;
	struct sched *sched;
	struct tzdb *tzdb;
	struct executor ex;
	struct runs_config cfg;
	struct sched_config scfg;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct fake_attempt att[MAX_ATTEMPTS];
	int natt;
	long calls;	   /* executor calls of any kind */
	char problem[512]; /* the first inconsistency seen on the engine thread */
	long begins;
	int barrier_fd;
	struct engine_watch barrier;
	long barriers;
};

static struct fx *the_fx; /* for the store wrapper: one test at a time */

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

static int counting_begin(struct store *st)
{
	struct fx *f = the_fx;
	pthread_mutex_lock(&f->lock);
	f->begins++;
	pthread_mutex_unlock(&f->lock);
	return f->real_ops->begin(st);
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

static int fake_start(struct executor *ex, const struct exec_spec *spec, char *handle, size_t n,
		      int *watch_fd)
{
	struct fx *f = fx_of(ex);
	pthread_mutex_lock(&f->lock);
	f->calls++;
	if (f->natt == MAX_ATTEMPTS) {
		problem(f, "more than %d starts", MAX_ATTEMPTS);
		pthread_mutex_unlock(&f->lock);
		return -EAGAIN;
	}
	struct fake_attempt *a = &f->att[f->natt];
	memset(a, 0, sizeof(*a));
	a->run_id = spec->run_id;
	snprintf(a->task_key, sizeof(a->task_key), "%s", spec->task_key);
	a->attempt = spec->attempt;
	snprintf(a->dir, sizeof(a->dir), "%s", spec->attempt_dir);
	if (spec->argv[0] && spec->argv[1] && spec->argv[2])
		snprintf(a->context, sizeof(a->context), "%s", spec->argv[2]);
	else
		problem(f, "start of %s without a context argument", spec->task_key);
	snprintf(a->handle, sizeof(a->handle), "fake:%d", f->natt + 1);
	snprintf(handle, n, "%s", a->handle);
	a->st = (struct exec_status){.state = EXEC_RUNNING, .start_ms = clock_now_ms(&f->clock)};
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	*watch_fd = a->efd;
	f->natt++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fake_poll(struct executor *ex, const char *attempt_dir, const char *handle,
		     struct exec_status *out)
{
	struct fx *f = fx_of(ex);
	(void)attempt_dir;
	pthread_mutex_lock(&f->lock);
	f->calls++;
	struct fake_attempt *a = by_handle(f, handle);
	int rc = 0;
	if (!a) {
		problem(f, "poll of unknown handle '%s'", handle);
		rc = -ENOENT;
	} else {
		*out = a->st;
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/* f->lock held: the attempt ends with status s. */
static void end_locked(struct fx *f, struct fake_attempt *a, const struct exec_status *s)
{
	a->st = *s;
	a->st.start_ms = a->st.start_ms ? a->st.start_ms : clock_now_ms(&f->clock);
	a->st.end_ms = clock_now_ms(&f->clock);
	a->ended = true;
	uint64_t one = 1;
	if (a->efd >= 0 && write(a->efd, &one, sizeof(one)) != sizeof(one))
		problem(f, "cannot write the eventfd of %s", a->handle);
}

/* Cancels end the attempt at once, as killed by SIGTERM. */
static int fake_cancel(struct executor *ex, const char *handle)
{
	struct fx *f = fx_of(ex);
	pthread_mutex_lock(&f->lock);
	f->calls++;
	struct fake_attempt *a = by_handle(f, handle);
	if (!a) {
		problem(f, "cancel of unknown handle '%s'", handle);
	} else if (!a->ended) {
		struct exec_status s = {.state = EXEC_SIGNALED,
					.term_signal = 15,
					.canceled = true,
					.start_ms = a->st.start_ms};
		end_locked(f, a, &s);
	}
	pthread_mutex_unlock(&f->lock);
	return a ? 0 : -ESRCH;
}

static int fake_reattach(struct executor *ex, const char *attempt_dir, const char *handle,
			 struct exec_status *out, int *watch_fd)
{
	struct fx *f = fx_of(ex);
	(void)attempt_dir;
	pthread_mutex_lock(&f->lock);
	f->calls++;
	*watch_fd = -1;
	struct fake_attempt *a = by_handle(f, handle);
	int rc = 0;
	if (!a) {
		problem(f, "reattach of unknown handle '%s'", handle);
		rc = -ENOENT;
	} else {
		*out = a->st;
		if (!a->ended) {
			a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			*watch_fd = a->efd;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static int fake_find(struct executor *ex, const char *attempt_dir, char *handle, size_t n)
{
	struct fx *f = fx_of(ex);
	pthread_mutex_lock(&f->lock);
	f->calls++;
	int rc = -ENOENT;
	for (int i = 0; i < f->natt; i++) {
		if (strcmp(f->att[i].dir, attempt_dir) == 0) {
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
	if (!a)
		problem(f, "release of unknown handle '%s'", handle);
	else if (watch_fd >= 0 && watch_fd == a->efd) {
		close(a->efd);
		a->efd = -1;
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

/* Runs fn inside an engine transaction, as an API write does. */
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

/* --- waiting for the engine (runs_test.c's method) -------------------------------------- */

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
	clock_virtual_advance_ms(&f->clock, ms);
	engine_wake(f->e);
	settle(f);
}

static int64_t now(struct fx *f) { return clock_now_ms(&f->clock); }

/* --- fixture set-up ------------------------------------------------------------------- */

static int write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	if (!fp)
		return -1;
	int rc = fputs(text, fp) < 0 ? -1 : 0;
	return fclose(fp) != 0 ? -1 : rc;
}

/* Starts the engine, the run engine and the scheduler on the open store. */
static int open_engine(struct fx *f)
{
	if (engine_start(&f->e, f->st) != 0)
		return -1;
	if (on_engine(f, watch_barrier, NULL) != 0)
		return -1;
	if (runs_open(&f->rs, f->e, f->st, &f->ex, f->ws, &f->cfg) != 0)
		return -1;
	if (sched_open(&f->sched, f->e, f->st, f->rs, &f->scfg) != 0)
		return -1;
	return 0;
}

/* As jobsd stops: the engine first, then the scheduler and the run engine. */
static void close_engine(struct fx *f)
{
	on_engine(f, unwatch_barrier, NULL);
	engine_stop(f->e);
	sched_close(f->sched);
	runs_close(f->rs);
	f->e = NULL;
	f->sched = NULL;
	f->rs = NULL;
	/* The attempts keep running; their watch fds die with the process. */
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < f->natt; i++) {
		if (f->att[i].efd >= 0)
			close(f->att[i].efd);
		f->att[i].efd = -1;
	}
	pthread_mutex_unlock(&f->lock);
}

static int setup_at(void **state, int64_t start_ms)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	the_fx = f;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->barrier_fd = -1;
	clock_virtual_init(&f->clock, start_ms);
	if (test_mkdtemp(f->dir, sizeof(f->dir), "sched_test") != 0)
		return -1;
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
	f->st->ops = &f->ops;

	snprintf(f->ws_root, sizeof(f->ws_root), "%s/workspace", f->dir);
	char path[PATH_MAX + 64];
	if (mkdir(f->ws_root, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/nb.py", f->ws_root);
	if (write_text(path, "# Databricks notebook source\nprint('hello')\n") != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/Users", f->ws_root);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/Users/u", f->ws_root);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/Users/u/in", f->ws_root);
	if (mkdir(path, 0700) != 0)
		return -1;
	if (workspace_open(&f->ws, f->ws_root, err, sizeof(err)) != 0) {
		fprintf(stderr, "workspace: %s\n", err);
		return -1;
	}
	if (!(f->tzdb = tzdb_open(NULL)))
		return -1;
	f->barrier_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->barrier = (struct engine_watch){.cb = barrier_cb, .fd = f->barrier_fd};
	if (f->barrier_fd < 0)
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
	f->scfg = (struct sched_config){
		.clock = &f->clock,
		.tzdb = f->tzdb,
		.workspace_root = f->ws_root,
		.rescan_ms = (int)HOUR, /* out of the way: inotify drives the tests */
		.scan_gap_ms = -1,	/* every event is scanned at once: the clock is virtual */
	};
	if (open_engine(f) != 0)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state) { return setup_at(state, T0); }

/* The virtual clock starts at the real time (whole seconds), for the tests
 * that compare it with file times. */
static int setup_real_time(void **state)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return setup_at(state, ((int64_t)ts.tv_sec + 1) * 1000);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->e)
		close_engine(f);
	close(f->barrier_fd);
	workspace_close(f->ws);
	tzdb_close(f->tzdb);
	store_close(f->st);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	int rc = test_rmtree(f->dir);
	the_fx = NULL;
	free(f);
	return rc;
}

/* jobsd stops and starts again on the same store, the clock moved by
 * down_ms in between. */
static void restart(struct fx *f, int64_t down_ms)
{
	close_engine(f);
	clock_virtual_advance_ms(&f->clock, down_ms);
	assert_int_equal(open_engine(f), 0);
	settle(f);
}

/* --- jobs: create, update, delete as src/api/jobs.c does ----------------------------------- */

/* Normalized settings, as jobs/create stores them, from a test literal. */
static json_t *settings(const char *text, enum job_origin origin)
{
	json_t *out = NULL;
	enum job_format fmt;
	struct model_error err = {0};
	if (job_settings_parse(J(text), 21, "", origin, &LIM, &out, &fmt, &err) != 0)
		fail_msg("settings refused: %s", err.message);
	return out;
}

static void row_from(struct store_job *j, json_t *s)
{
	job_settings_texts(s, &j->settings, &j->settings_brief);
	j->name_key = job_name_key(s);
	j->run_as = strdup(job_run_as_user(s, "alice@example.com"));
	j->format = job_settings_format(s);
	j->paged_len = job_settings_paged_len(s);
}

struct job_args {
	int64_t job_id;
	struct store_job row;
	int rc; /* sched_job_saved's */
	struct model_error err;
};

static int do_create(struct fx *f, struct store *st, void *arg)
{
	struct job_args *a = arg;
	int rc = store_job_insert(st, &a->row);
	if (rc != STORE_OK)
		return rc;
	a->job_id = a->row.job_id;
	json_t *s = json_loads(a->row.settings, 0, NULL);
	a->rc = sched_job_saved(f->sched, st, a->job_id, s, &a->err);
	json_decref(s);
	return a->rc ? -1 : 0;
}

static int do_update(struct fx *f, struct store *st, void *arg)
{
	struct job_args *a = arg;
	a->row.job_id = a->job_id;
	int rc = store_job_update(st, &a->row);
	if (rc != STORE_OK)
		return rc;
	json_t *s = json_loads(a->row.settings, 0, NULL);
	a->rc = sched_job_saved(f->sched, st, a->job_id, s, &a->err);
	if (a->rc == 0)
		runs_job_changed(f->rs, st, a->job_id, s);
	json_decref(s);
	return a->rc ? -1 : 0;
}

static int do_delete(struct fx *f, struct store *st, void *arg)
{
	struct job_args *a = arg;
	int rc = store_job_delete(st, a->job_id);
	if (rc != STORE_OK)
		return rc;
	runs_cancel_all(f->rs, st, a->job_id, false);
	sched_job_deleted(f->sched, a->job_id);
	return 0;
}

/* jobs/create; returns the job id, or 0 with *err set when the scheduler
 * refuses the trigger (err NULL: that fails the test). */
static int64_t try_create_job(struct fx *f, const char *text, struct model_error *err)
{
	json_t *s = settings(text, JOB_CREATE);
	struct job_args a = {0};
	a.row.created_ms = now(f);
	a.row.creator = strdup("alice@example.com");
	a.row.created_version = 21;
	row_from(&a.row, s);
	json_decref(s);
	int rc = on_engine(f, do_create, &a);
	store_job_release(&a.row);
	if (rc != 0) {
		if (!err)
			fail_msg("jobs/create: %d %s", rc, a.err.message);
		*err = a.err;
		return 0;
	}
	settle(f);
	return a.job_id;
}

static int64_t create_job(struct fx *f, const char *text) { return try_create_job(f, text, NULL); }

/* jobs/reset with new settings. */
static void reset_job(struct fx *f, int64_t job_id, const char *text)
{
	json_t *s = settings(text, JOB_RESET);
	struct job_args a = {.job_id = job_id};
	row_from(&a.row, s);
	json_decref(s);
	int rc = on_engine(f, do_update, &a);
	store_job_release(&a.row);
	if (rc != 0)
		fail_msg("jobs/reset: %d %s", rc, a.err.message);
	settle(f);
}

static void delete_job(struct fx *f, int64_t job_id)
{
	struct job_args a = {.job_id = job_id};
	assert_int_equal(on_engine(f, do_delete, &a), 0);
	settle(f);
}

struct due_args {
	int64_t job_id, due;
	size_t size;
};

static int do_due(struct fx *f, struct store *st, void *arg)
{
	struct due_args *a = arg;
	(void)st;
	a->due = sched_next_due(f->sched, a->job_id);
	a->size = sched_size(f->sched);
	return 0;
}

/* The scheduler's next due time for the job (NO_DUE: none). */
static int64_t next_due(struct fx *f, int64_t job_id)
{
	struct due_args a = {.job_id = job_id};
	assert_int_equal(on_engine(f, do_due, &a), 0);
	return a.due;
}

static size_t sched_count(struct fx *f)
{
	struct due_args a = {0};
	assert_int_equal(on_engine(f, do_due, &a), 0);
	return a.size;
}

/* --- reading runs back ------------------------------------------------------------------- */

static int collect_run(void *arg, const struct store_run *r)
{
	json_t *doc = json_loads(r->doc, 0, NULL);
	if (doc)
		json_array_insert_new(arg, 0, doc); /* newest first from the store */
	return 0;
}

/* The job runs of job_id, oldest first. */
static json_t *job_runs(struct fx *f, int64_t job_id)
{
	json_t *all = json_array();
	struct store_run_query q = {.job_id = job_id, .active = -1, .run_type = -1, .limit = 1000};
	assert_int_equal(store_run_list(f->st, &q, collect_run, all), STORE_OK);
	return all;
}

static size_t count_runs(struct fx *f, int64_t job_id)
{
	json_t *all = job_runs(f, job_id);
	size_t n = json_array_size(all);
	json_decref(all);
	return n;
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
	const char *s = json_string_value(json_object_get(doc, key));
	return s ? s : "";
}

static const char *life_of(const json_t *run)
{
	return sval(json_object_get(run, "state"), "life_cycle_state");
}

/* The widgets (resolved notebook base_parameters) the task of job run
 * run_id was started with; NULL if no task of it was started. */
static json_t *widgets_of(struct fx *f, int64_t run_id)
{
	json_t *found = NULL;
	pthread_mutex_lock(&f->lock);
	int n = f->natt;
	pthread_mutex_unlock(&f->lock);
	for (int i = 0; i < n && !found; i++) {
		pthread_mutex_lock(&f->lock);
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s", f->att[i].context);
		pthread_mutex_unlock(&f->lock);
		json_t *ctx = json_load_file(path, 0, NULL);
		if (ctx && json_integer_value(json_object_get(ctx, "job_run_id")) == run_id)
			found = json_incref(json_object_get(ctx, "widgets"));
		json_decref(ctx);
	}
	return found;
}

/* Checks run number i (0-based, oldest first) of job_id: its trigger, its
 * scheduled instant ({{job.trigger.time.timestamp_ms}} and start_time)
 * and, unless it is SKIPPED or QUEUED, what its task saw (it must have
 * started one). Returns the run's id. */
static int64_t expect_run(struct fx *f, int64_t job_id, size_t i, const char *trigger,
			  int64_t instant)
{
	json_t *all = job_runs(f, job_id);
	if (i >= json_array_size(all))
		fail_msg("job %lld has %zu runs, want at least %zu", (long long)job_id,
			 json_array_size(all), i + 1);
	json_t *run = json_array_get(all, i);
	assert_string_equal(sval(run, "trigger"), trigger);
	assert_string_equal(sval(run, "run_type"), "JOB_RUN");
	json_t *priv = json_object_get(run, RUN_DOC_PRIVATE);
	int64_t tms = json_integer_value(json_object_get(priv, "trigger_ms"));
	if (tms != instant)
		fail_msg("run %zu of job %lld: trigger time %lld, want %lld", i, (long long)job_id,
			 (long long)tms, (long long)instant);
	int64_t id = ival(run, "run_id");
	json_t *w = widgets_of(f, id);
	const char *life = life_of(run);
	bool started = strcmp(life, "SKIPPED") != 0 && strcmp(life, "QUEUED") != 0;
	if (started && !w)
		fail_msg("run %zu of job %lld (%s) started no task", i, (long long)job_id, life);
	if (w) {
		char want[32];
		snprintf(want, sizeof(want), "%lld", (long long)instant);
		assert_string_equal(sval(w, "time"), want);
		char lower[32];
		size_t k = 0;
		for (; trigger[k] && k < sizeof(lower) - 1; k++)
			lower[k] = (char)(trigger[k] >= 'A' && trigger[k] <= 'Z' ? trigger[k] + 32
										 : trigger[k]);
		lower[k] = '\0';
		assert_string_equal(sval(w, "type"), lower);
		json_decref(w);
	}
	json_decref(all);
	return id;
}

static int starts(struct fx *f)
{
	pthread_mutex_lock(&f->lock);
	int n = f->natt;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* The task of job run run_id (its last attempt) ends with exit code code. */
static void end_run(struct fx *f, int64_t run_id, int code)
{
	json_t *all = json_array();
	assert_int_equal(store_run_children(f->st, run_id, collect_run, all), STORE_OK);
	bool ended = false;
	pthread_mutex_lock(&f->lock);
	for (int i = f->natt - 1; i >= 0 && !ended; i--) {
		struct fake_attempt *a = &f->att[i];
		size_t k;
		json_t *t;
		json_array_foreach (all, k, t) {
			if (ival(t, "run_id") == a->run_id && !a->ended) {
				struct exec_status s = {.state = EXEC_EXITED,
							.exit_code = code,
							.start_ms = a->st.start_ms};
				end_locked(f, a, &s);
				ended = true;
				break;
			}
		}
	}
	pthread_mutex_unlock(&f->lock);
	json_decref(all);
	if (!ended)
		fail_msg("run %lld has no running task", (long long)run_id);
	settle(f);
}

struct trig_row {
	int64_t job_id;
	struct store_trigger row;
	bool found;
};

static int find_trigger(void *arg, const struct store_trigger *t)
{
	struct trig_row *r = arg;
	if (t->job_id == r->job_id) {
		r->row = *t;
		r->found = true;
	}
	return 0;
}

/* The journal row of job_id. */
static struct trig_row journal_of(struct fx *f, int64_t job_id)
{
	struct trig_row r = {.job_id = job_id};
	assert_int_equal(store_trigger_list(f->st, find_trigger, &r), STORE_OK);
	return r;
}

/* --- settings used by the tests -------------------------------------------------------- */

/* A job of one notebook task that records the trigger it saw; `extra` is
 * the rest of the settings (the trigger, max_concurrent_runs...). */
static const char *job_text(char *buf, size_t n, const char *extra)
{
	snprintf(buf, n,
		 "{'name':'sched','tasks':[{'task_key':'t','notebook_task':{'notebook_path':'/nb',"
		 "'base_parameters':{'time':'{{job.trigger.time.timestamp_ms}}',"
		 "'type':'{{job.trigger.type}}'}}}],%s}",
		 extra);
	return buf;
}

static int64_t create(struct fx *f, const char *extra)
{
	char buf[2048];
	return create_job(f, job_text(buf, sizeof(buf), extra));
}

static void reset(struct fx *f, int64_t job_id, const char *extra)
{
	char buf[2048];
	reset_job(f, job_id, job_text(buf, sizeof(buf), extra));
}

#define EVERY_2S  "'schedule':{'quartz_cron_expression':'*/2 * * * * ?','timezone_id':'UTC'}"
#define EVERY_MIN "'schedule':{'quartz_cron_expression':'0 * * * * ?','timezone_id':'UTC'}"

/* --- cron schedules ---------------------------------------------------------------------- */

static void test_cron_fires_at_each_instant(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, EVERY_2S ",'max_concurrent_runs':100");
	assert_int_equal(sched_count(f), 1);
	assert_int_equal(next_due(f, job), T0 + 2 * SEC);
	assert_int_equal(count_runs(f, job), 0);

	advance(f, 2 * SEC - 1);
	assert_int_equal(count_runs(f, job), 0);
	advance(f, 1);
	assert_int_equal(count_runs(f, job), 1);
	expect_run(f, job, 0, "PERIODIC", T0 + 2 * SEC);
	assert_int_equal(next_due(f, job), T0 + 4 * SEC);

	/* The run: started at its instant, with the schedule it came from. */
	json_t *all = job_runs(f, job);
	json_t *run = json_array_get(all, 0);
	assert_int_equal(ival(run, "start_time"), T0 + 2 * SEC);
	assert_json_is(json_object_get(run, "schedule"),
		       "{'quartz_cron_expression':'*/2 * * * * ?','timezone_id':'UTC',"
		       "'pause_status':'UNPAUSED'}");
	json_decref(all);
	assert_int_equal(starts(f), 1);

	for (int k = 2; k <= 4; k++) {
		advance(f, 2 * SEC);
		assert_int_equal(count_runs(f, job), (size_t)k);
		expect_run(f, job, (size_t)k - 1, "PERIODIC", T0 + 2 * k * SEC);
	}
	assert_int_equal(starts(f), 4);
	/* The journal holds the last instant fired. */
	struct trig_row j = journal_of(f, job);
	assert_true(j.found);
	assert_int_equal(j.row.last_ms, T0 + 8 * SEC);
}

/* The engine stalls past two instants: one late run, for the first of
 * them, and the schedule goes on from the first instant after now. */
static void test_cron_stall_fires_once(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, EVERY_2S ",'max_concurrent_runs':100");
	advance(f, 2 * SEC);
	assert_int_equal(count_runs(f, job), 1);
	advance(f, 5 * SEC); /* now T0+7s: +4s and +6s were due */
	assert_int_equal(count_runs(f, job), 2);
	expect_run(f, job, 1, "PERIODIC", T0 + 4 * SEC);
	json_t *all = job_runs(f, job);
	assert_int_equal(ival(json_array_get(all, 1), "start_time"), T0 + 7 * SEC);
	json_decref(all);
	assert_int_equal(next_due(f, job), T0 + 8 * SEC);
	advance(f, SEC);
	assert_int_equal(count_runs(f, job), 3);
	expect_run(f, job, 2, "PERIODIC", T0 + 8 * SEC);
}

/* In a zone: 09:00 in New York is 14:00Z in January. */
static void test_cron_in_zone(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, "'schedule':{'quartz_cron_expression':'0 0 9 * * ?',"
				"'timezone_id':'America/New_York'}");
	assert_int_equal(next_due(f, job), T0 + 14 * HOUR);
	advance(f, 14 * HOUR);
	assert_int_equal(count_runs(f, job), 1);
	expect_run(f, job, 0, "PERIODIC", T0 + 14 * HOUR);
	assert_int_equal(next_due(f, job), T0 + 38 * HOUR);
}

static void test_cron_paused(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, "'schedule':{'quartz_cron_expression':'*/2 * * * * ?',"
				"'timezone_id':'UTC','pause_status':'PAUSED'}");
	assert_int_equal(sched_count(f), 1);
	assert_int_equal(next_due(f, job), NO_DUE);
	advance(f, 10 * SEC);
	advance(f, 10 * MIN);
	assert_int_equal(count_runs(f, job), 0);
	assert_int_equal(starts(f), 0);
}

/* Unpausing counts from the moment of the unpause: the instants missed
 * while paused are not fired. */
static void test_cron_unpause_counts_from_now(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, "'schedule':{'quartz_cron_expression':'0 * * * * ?',"
				"'timezone_id':'UTC','pause_status':'PAUSED'}");
	advance(f, 150 * SEC); /* +60 s and +120 s pass while paused */
	reset(f, job, EVERY_MIN);
	assert_int_equal(count_runs(f, job), 0);
	assert_int_equal(next_due(f, job), T0 + 180 * SEC);
	advance(f, 29 * SEC);
	assert_int_equal(count_runs(f, job), 0);
	advance(f, SEC);
	assert_int_equal(count_runs(f, job), 1);
	expect_run(f, job, 0, "PERIODIC", T0 + 180 * SEC);

	/* Pausing again stops it at once. */
	reset(f, job,
	      "'schedule':{'quartz_cron_expression':'0 * * * * ?',"
	      "'timezone_id':'UTC','pause_status':'PAUSED'}");
	assert_int_equal(next_due(f, job), NO_DUE);
	advance(f, 5 * MIN);
	assert_int_equal(count_runs(f, job), 1);
}

/* A new expression takes effect in the write that saves it. */
static void test_cron_update_expression(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, "'schedule':{'quartz_cron_expression':'0 0 * * * ?',"
				"'timezone_id':'UTC'}");
	assert_int_equal(next_due(f, job), T0 + HOUR);
	advance(f, 10 * MIN);
	reset(f, job, "'schedule':{'quartz_cron_expression':'0 */15 * * * ?','timezone_id':'UTC'}");
	assert_int_equal(next_due(f, job), T0 + 15 * MIN);
	advance(f, 5 * MIN);
	assert_int_equal(count_runs(f, job), 1);
	expect_run(f, job, 0, "PERIODIC", T0 + 15 * MIN);
	/* The zone is part of the schedule too: 00:30 in Kolkata is 19:00Z. */
	reset(f, job,
	      "'schedule':{'quartz_cron_expression':'0 30 0 * * ?',"
	      "'timezone_id':'Asia/Kolkata'}");
	assert_int_equal(next_due(f, job), T0 + 19 * HOUR);
	/* Settings saved again unchanged keep the due time. */
	reset(f, job,
	      "'schedule':{'quartz_cron_expression':'0 30 0 * * ?',"
	      "'timezone_id':'Asia/Kolkata'}");
	assert_int_equal(next_due(f, job), T0 + 19 * HOUR);
	/* Without a schedule, nothing fires any more. */
	reset(f, job, "'max_concurrent_runs':1");
	assert_int_equal(sched_count(f), 0);
	assert_false(journal_of(f, job).found);
	advance(f, 24 * HOUR);
	assert_int_equal(count_runs(f, job), 1);
}

/* A schedule with no firing left is held, and never due. */
static void test_cron_no_future_firing(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, "'schedule':{'quartz_cron_expression':'0 0 0 1 1 ? 2020',"
				"'timezone_id':'UTC'}");
	assert_int_equal(sched_count(f), 1);
	assert_int_equal(next_due(f, job), NO_DUE);
	advance(f, 24 * HOUR);
	assert_int_equal(count_runs(f, job), 0);
	restart(f, HOUR);
	assert_int_equal(next_due(f, job), NO_DUE);
	assert_int_equal(count_runs(f, job), 0);
}

static void test_cron_delete_stops(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, EVERY_2S);
	advance(f, 2 * SEC);
	assert_int_equal(count_runs(f, job), 1);
	assert_true(journal_of(f, job).found);
	delete_job(f, job);
	assert_int_equal(sched_count(f), 0);
	assert_int_equal(next_due(f, job), NO_DUE);
	assert_false(journal_of(f, job).found);
	advance(f, 10 * SEC);
	advance(f, HOUR);
	assert_int_equal(count_runs(f, job), 1);
	assert_int_equal(starts(f), 1);
}

/* --- restarts: the journal and the catch-up rule -------------------------------------------- */

/* Down for ten minutes: exactly one run at once, for the first missed
 * instant, then the next instant after now. */
static void test_catch_up_after_downtime(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, EVERY_MIN ",'max_concurrent_runs':10");
	advance(f, MIN);
	assert_int_equal(count_runs(f, job), 1);
	int64_t first = expect_run(f, job, 0, "PERIODIC", T0 + MIN);
	end_run(f, first, 0);
	advance(f, SEC); /* stopped at T0 + 61 s */

	restart(f, 10 * MIN); /* back at T0 + 661 s */
	assert_int_equal(count_runs(f, job), 2);
	expect_run(f, job, 1, "PERIODIC", T0 + 2 * MIN);
	json_t *all = job_runs(f, job);
	assert_int_equal(ival(json_array_get(all, 1), "start_time"), T0 + 661 * SEC);
	json_decref(all);
	assert_int_equal(next_due(f, job), T0 + 12 * MIN);
	assert_int_equal(journal_of(f, job).row.last_ms, T0 + 2 * MIN);

	advance(f, 58 * SEC);
	assert_int_equal(count_runs(f, job), 2);
	advance(f, SEC); /* T0 + 12 min */
	assert_int_equal(count_runs(f, job), 3);
	expect_run(f, job, 2, "PERIODIC", T0 + 12 * MIN);
}

/* One instant missed while down: it fires late, once. */
static void test_catch_up_single_instant(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, EVERY_MIN ",'max_concurrent_runs':10");
	advance(f, 30 * SEC);
	restart(f, 45 * SEC); /* +60 s passed while down; now +75 s */
	assert_int_equal(count_runs(f, job), 1);
	expect_run(f, job, 0, "PERIODIC", T0 + MIN);
	assert_int_equal(next_due(f, job), T0 + 2 * MIN);
}

/* At most once: the instant fired is journaled with its run, and a restart
 * at the same moment does not fire it again. */
static void test_journal_at_most_once(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, EVERY_MIN ",'max_concurrent_runs':10");
	struct trig_row j = journal_of(f, job);
	assert_true(j.found);
	assert_int_equal(j.row.last_ms, T0); /* counts from the save */
	advance(f, MIN);
	assert_int_equal(count_runs(f, job), 1);
	j = journal_of(f, job);
	assert_int_equal(j.row.last_ms, T0 + MIN);

	restart(f, 0);
	assert_int_equal(count_runs(f, job), 1);
	assert_int_equal(next_due(f, job), T0 + 2 * MIN);
	restart(f, 0);
	assert_int_equal(count_runs(f, job), 1);
	assert_int_equal(starts(f), 1);
	advance(f, MIN);
	assert_int_equal(count_runs(f, job), 2);
	expect_run(f, job, 1, "PERIODIC", T0 + 2 * MIN);
}

/* A paused schedule stays paused across a restart, and fires nothing for
 * the time it was down. */
static void test_restart_paused(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, "'schedule':{'quartz_cron_expression':'0 * * * * ?',"
				"'timezone_id':'UTC','pause_status':'PAUSED'}");
	restart(f, 10 * MIN);
	assert_int_equal(sched_count(f), 1);
	assert_int_equal(next_due(f, job), NO_DUE);
	assert_int_equal(count_runs(f, job), 0);
}

/* --- max_concurrent_runs ---------------------------------------------------------------------- */

static void test_concurrency_skip(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, EVERY_MIN ",'max_concurrent_runs':1");
	advance(f, MIN);
	int64_t first = expect_run(f, job, 0, "PERIODIC", T0 + MIN);
	advance(f, MIN); /* the first run is still running */
	assert_int_equal(count_runs(f, job), 2);
	expect_run(f, job, 1, "PERIODIC", T0 + 2 * MIN);
	json_t *all = job_runs(f, job);
	assert_string_equal(life_of(json_array_get(all, 0)), "RUNNING");
	assert_string_equal(life_of(json_array_get(all, 1)), "SKIPPED");
	json_decref(all);
	assert_int_equal(starts(f), 1);
	/* The schedule goes on. */
	end_run(f, first, 0);
	advance(f, MIN);
	assert_int_equal(count_runs(f, job), 3);
	expect_run(f, job, 2, "PERIODIC", T0 + 3 * MIN);
	all = job_runs(f, job);
	assert_string_equal(life_of(json_array_get(all, 2)), "RUNNING");
	json_decref(all);
	assert_int_equal(starts(f), 2);
}

static void test_concurrency_queue(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, EVERY_MIN ",'max_concurrent_runs':1,'queue':{'enabled':true}");
	advance(f, MIN);
	int64_t first = expect_run(f, job, 0, "PERIODIC", T0 + MIN);
	advance(f, MIN);
	assert_int_equal(count_runs(f, job), 2);
	json_t *all = job_runs(f, job);
	assert_string_equal(life_of(json_array_get(all, 1)), "QUEUED");
	json_decref(all);
	assert_int_equal(starts(f), 1);
	/* The queued run starts when the first ends, with its own instant. */
	advance(f, 10 * SEC);
	end_run(f, first, 0);
	all = job_runs(f, job);
	assert_string_equal(life_of(json_array_get(all, 0)), "TERMINATED");
	assert_string_equal(life_of(json_array_get(all, 1)), "RUNNING");
	json_decref(all);
	assert_int_equal(starts(f), 2);
	expect_run(f, job, 1, "PERIODIC", T0 + 2 * MIN);
}

/* --- periodic triggers ---------------------------------------------------------------------- */

static void test_periodic_hours(void **state)
{
	struct fx *f = *state;
	advance(f, 7 * MIN + 3 * SEC); /* created at an odd moment */
	int64_t t = now(f);
	int64_t job = create(f, "'trigger':{'periodic':{'interval':1,'unit':'HOURS'}}");
	assert_int_equal(next_due(f, job), t + HOUR);
	advance(f, HOUR - 1);
	assert_int_equal(count_runs(f, job), 0);
	advance(f, 1);
	assert_int_equal(count_runs(f, job), 1);
	int64_t first = expect_run(f, job, 0, "PERIODIC", t + HOUR);
	json_t *all = job_runs(f, job);
	assert_null(json_object_get(json_array_get(all, 0), "schedule"));
	json_decref(all);
	end_run(f, first, 0);
	advance(f, HOUR - SEC);
	assert_int_equal(count_runs(f, job), 1);
	advance(f, SEC);
	assert_int_equal(count_runs(f, job), 2);
	expect_run(f, job, 1, "PERIODIC", t + 2 * HOUR);
	assert_int_equal(next_due(f, job), t + 3 * HOUR);
}

/* Days and weeks, and the catch-up rule on the interval grid. */
static void test_periodic_days_and_restart(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, "'trigger':{'periodic':{'interval':2,'unit':'DAYS'}},"
				"'max_concurrent_runs':10");
	assert_int_equal(next_due(f, job), T0 + 48 * HOUR);
	restart(f, 7 * 24 * HOUR); /* +2, +4, +6 days missed */
	assert_int_equal(count_runs(f, job), 1);
	expect_run(f, job, 0, "PERIODIC", T0 + 48 * HOUR);
	assert_int_equal(next_due(f, job), T0 + 8 * 24 * HOUR);

	int64_t w = create(f, "'trigger':{'periodic':{'interval':1,'unit':'WEEKS'}}");
	assert_int_equal(next_due(f, w), now(f) + 7 * 24 * HOUR);
}

/* The schema accepts unit MINUTES, so the scheduler runs it too (it once
 * refused it with "interval and unit are required"). */
static void test_periodic_minutes_fire(void **state)
{
	struct fx *f = *state;
	char buf[2048];
	const char *text = job_text(buf, sizeof(buf),
				    "'trigger':{'periodic':{'interval':30,'unit':'MINUTES'}}");
	json_t *out = NULL;
	enum job_format fmt;
	struct model_error err = {0};
	bool schema_accepts =
		job_settings_parse(J(text), 21, "", JOB_CREATE, &LIM, &out, &fmt, &err) == 0;
	json_decref(out);
	if (!schema_accepts)
		return; /* refused when parsed: consistent */
	int64_t job = try_create_job(f, text, &err);
	if (job == 0)
		fail_msg("job_settings_parse accepts unit MINUTES, sched_job_saved refuses it: %s",
			 err.message);
	assert_int_equal(next_due(f, job), T0 + 30 * MIN);
}

/* --- continuous ------------------------------------------------------------------------------ */

static void test_continuous(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, "'continuous':{}");
	/* A run at once. */
	assert_int_equal(count_runs(f, job), 1);
	int64_t r1 = expect_run(f, job, 0, "CONTINUOUS", T0);
	assert_int_equal(next_due(f, job), NO_DUE); /* until it ends */
	advance(f, HOUR);
	assert_int_equal(count_runs(f, job), 1);

	/* The next one when it ends. */
	end_run(f, r1, 0);
	assert_int_equal(count_runs(f, job), 2);
	int64_t r2 = expect_run(f, job, 1, "CONTINUOUS", T0 + HOUR);
	advance(f, 5 * SEC);

	/* A failed run: the next waits 10 s. */
	end_run(f, r2, 1);
	assert_int_equal(count_runs(f, job), 2);
	assert_int_equal(next_due(f, job), T0 + HOUR + 15 * SEC);
	advance(f, 10 * SEC - 1);
	assert_int_equal(count_runs(f, job), 2);
	advance(f, 1);
	assert_int_equal(count_runs(f, job), 3);
	int64_t r3 = expect_run(f, job, 2, "CONTINUOUS", T0 + HOUR + 15 * SEC);

	/* Paused: the active run goes on, no new one after it. */
	reset(f, job, "'continuous':{'pause_status':'PAUSED'}");
	json_t *all = job_runs(f, job);
	assert_string_equal(life_of(json_array_get(all, 2)), "RUNNING");
	json_decref(all);
	end_run(f, r3, 0);
	advance(f, HOUR);
	assert_int_equal(count_runs(f, job), 3);
	assert_int_equal(next_due(f, job), NO_DUE);

	/* Unpaused: a run at once. */
	reset(f, job, "'continuous':{'pause_status':'UNPAUSED'}");
	assert_int_equal(count_runs(f, job), 4);
	expect_run(f, job, 3, "CONTINUOUS", now(f));
}

/* A restart while the run is active starts no second one; after it, a
 * continuous job with no active run gets one at once. */
static void test_continuous_restart(void **state)
{
	struct fx *f = *state;
	int64_t job = create(f, "'continuous':{}");
	assert_int_equal(count_runs(f, job), 1);
	restart(f, MIN);
	assert_int_equal(count_runs(f, job), 1);
	int64_t r1 = expect_run(f, job, 0, "CONTINUOUS", T0);
	end_run(f, r1, 0);
	assert_int_equal(count_runs(f, job), 2);
	int64_t r2 = expect_run(f, job, 1, "CONTINUOUS", T0 + MIN);
	end_run(f, r2, 0);
	/* A run that ended at once: the next starts a second after it began. */
	assert_int_equal(count_runs(f, job), 2);
	advance(f, SEC);
	assert_int_equal(count_runs(f, job), 3);
}

/* --- file arrival ----------------------------------------------------------------------------- */

static int64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A new file in the watched folder, with mtime mtime_ms (ms since the
 * epoch), which the scheduler ignores: it goes by ctime, which the kernel
 * sets. It is written under a hidden name (the scan skips those) and
 * renamed into place. Returns its ctime in ns. */
static int64_t new_file(struct fx *f, const char *name, int64_t mtime_ms)
{
	char tmp[PATH_MAX + 300], path[PATH_MAX + 300];
	snprintf(tmp, sizeof(tmp), "%s/Users/u/in/.tmp-%s", f->ws_root, name);
	snprintf(path, sizeof(path), "%s/Users/u/in/%s", f->ws_root, name);
	assert_int_equal(write_text(tmp, "a,b\n1,2\n"), 0);
	struct timespec ts[2] = {{mtime_ms / 1000, (mtime_ms % 1000) * 1000000},
				 {mtime_ms / 1000, (mtime_ms % 1000) * 1000000}};
	assert_int_equal(utimensat(AT_FDCWD, tmp, ts, 0), 0);
	assert_int_equal(rename(tmp, path), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

/* Polls (bounded: 5 s of real time) until the job has n runs. */
static void wait_runs(struct fx *f, int64_t job, size_t n)
{
	int64_t deadline = real_ms() + 5000;
	for (;;) {
		settle(f);
		size_t got = count_runs(f, job);
		if (got == n)
			return;
		if (got > n || real_ms() > deadline)
			fail_msg("job %lld has %zu runs, want %zu", (long long)job, got, n);
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
	}
}

/* Polls until the job's next due time is `due` (the event was seen). */
static void wait_due(struct fx *f, int64_t job, int64_t due)
{
	int64_t deadline = real_ms() + 5000;
	for (;;) {
		settle(f);
		int64_t got = next_due(f, job);
		if (got == due)
			return;
		if (real_ms() > deadline)
			fail_msg("job %lld: next due %lld, want %lld", (long long)job,
				 (long long)got, (long long)due);
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
	}
}

static void expect_location(struct fx *f, int64_t job, size_t i)
{
	json_t *all = job_runs(f, job);
	json_t *w = widgets_of(f, ival(json_array_get(all, i), "run_id"));
	assert_non_null(w);
	assert_string_equal(sval(w, "loc"), "/Users/u/in");
	json_decref(w);
	json_decref(all);
}

/* A job watching /Users/u/in; fa is added to file_arrival, trig (ending
 * with a comma) to the trigger. */
static int64_t create_file_job(struct fx *f, const char *fa, const char *trig)
{
	char buf[2048];
	snprintf(buf, sizeof(buf),
		 "{'name':'files','max_concurrent_runs':10,'tasks':[{'task_key':'t',"
		 "'notebook_task':{'notebook_path':'/nb','base_parameters':{"
		 "'time':'{{job.trigger.time.timestamp_ms}}','type':'{{job.trigger.type}}',"
		 "'loc':'{{job.trigger.file_arrival.location}}'}}}],"
		 "'trigger':{%s'file_arrival':{'url':'/Users/u/in'%s}}}",
		 trig, fa);
	return create_job(f, buf);
}

static void test_file_arrival(void **state)
{
	struct fx *f = *state;
	int64_t v0 = now(f);
	new_file(f, "old.csv", v0 - HOUR); /* there before the trigger: does not count */
	int64_t job = create_file_job(f, "", "");
	assert_int_equal(next_due(f, job), v0 + HOUR); /* the rescan */
	advance(f, 100 * SEC);
	assert_int_equal(count_runs(f, job), 0);

	int64_t ctime_ns = new_file(f, "a.csv", v0 + 50 * SEC);
	wait_runs(f, job, 1);
	expect_run(f, job, 0, "FILE_ARRIVAL", v0 + 100 * SEC);
	expect_location(f, job, 0);
	assert_int_equal(journal_of(f, job).row.mark, ctime_ns);

	/* Nothing new: the rescan fires nothing. */
	advance(f, HOUR);
	assert_int_equal(count_runs(f, job), 1);
	/* Another file. */
	new_file(f, "b.csv", v0 + 60 * SEC);
	wait_runs(f, job, 2);
	expect_run(f, job, 1, "FILE_ARRIVAL", v0 + 100 * SEC + HOUR);
	/* Hidden files and sub-folders do not count. */
	new_file(f, ".hidden", v0 + 70 * SEC);
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/Users/u/in/sub", f->ws_root);
	assert_int_equal(mkdir(path, 0700), 0);
	advance(f, HOUR);
	assert_int_equal(count_runs(f, job), 2);
}

/* Files that came while jobsd was down are seen at start-up. */
static void test_file_arrival_restart(void **state)
{
	struct fx *f = *state;
	int64_t v0 = now(f);
	int64_t job = create_file_job(f, "", "");
	close_engine(f);
	new_file(f, "a.csv", v0 + 50 * SEC);
	clock_virtual_advance_ms(&f->clock, 100 * SEC);
	assert_int_equal(open_engine(f), 0);
	wait_runs(f, job, 1);
	expect_run(f, job, 0, "FILE_ARRIVAL", v0 + 100 * SEC);
	restart(f, 0);
	assert_int_equal(count_runs(f, job), 1);
}

static void test_file_arrival_wait_after_last_change(void **state)
{
	struct fx *f = *state;
	int64_t v0 = now(f);
	int64_t job = create_file_job(f, ",'wait_after_last_change_seconds':60", "");
	advance(f, 100 * SEC);
	new_file(f, "a.csv", v0 + 50 * SEC);
	wait_due(f, job, v0 + 160 * SEC); /* quiet since +100 s */
	assert_int_equal(count_runs(f, job), 0);
	advance(f, 30 * SEC);
	new_file(f, "b.csv", v0 + 51 * SEC); /* a change at +130 s starts the wait again */
	wait_due(f, job, v0 + 190 * SEC);
	advance(f, 59 * SEC);
	assert_int_equal(count_runs(f, job), 0);
	advance(f, SEC);
	assert_int_equal(count_runs(f, job), 1);
	expect_run(f, job, 0, "FILE_ARRIVAL", v0 + 190 * SEC);
}

static void test_file_arrival_min_time_between_triggers(void **state)
{
	struct fx *f = *state;
	int64_t v0 = now(f);
	int64_t job = create_file_job(f, ",'min_time_between_triggers_seconds':60", "");
	advance(f, 100 * SEC);
	new_file(f, "a.csv", v0 + 50 * SEC);
	wait_runs(f, job, 1);
	expect_run(f, job, 0, "FILE_ARRIVAL", v0 + 100 * SEC);
	advance(f, 10 * SEC);
	new_file(f, "b.csv", v0 + 51 * SEC);
	wait_due(f, job, v0 + 160 * SEC); /* 60 s after the last firing */
	assert_int_equal(count_runs(f, job), 1);
	advance(f, 49 * SEC);
	assert_int_equal(count_runs(f, job), 1);
	advance(f, SEC);
	assert_int_equal(count_runs(f, job), 2);
	expect_run(f, job, 1, "FILE_ARRIVAL", v0 + 160 * SEC);
}

/* Two jobs watch the same folder (inotify gives them one watch
 * descriptor): a file fires both; deleting one, which removes that watch,
 * leaves the other one watching. */
static void test_file_arrival_two_jobs_one_folder(void **state)
{
	struct fx *f = *state;
	int64_t v0 = now(f);
	int64_t a = create_file_job(f, "", "");
	int64_t b = create_file_job(f, "", "");
	advance(f, 100 * SEC);
	new_file(f, "a.csv", v0 + 50 * SEC);
	wait_runs(f, a, 1);
	wait_runs(f, b, 1);
	delete_job(f, a);
	advance(f, 10 * SEC);
	new_file(f, "b.csv", v0 + 60 * SEC);
	wait_runs(f, b, 2);
	expect_run(f, b, 1, "FILE_ARRIVAL", v0 + 110 * SEC);
	assert_int_equal(count_runs(f, a), 1);
}

/* Paused: the folder is not watched, and nothing fires. */
static void test_file_arrival_paused(void **state)
{
	struct fx *f = *state;
	int64_t v0 = now(f);
	int64_t job = create_file_job(f, "", "'pause_status':'PAUSED',");
	assert_int_equal(sched_count(f), 1);
	assert_int_equal(next_due(f, job), NO_DUE);
	advance(f, 100 * SEC);
	new_file(f, "a.csv", v0 + 50 * SEC);
	settle(f);
	advance(f, 2 * HOUR);
	assert_int_equal(count_runs(f, job), 0);
}

/* Urls the server cannot watch are refused when the job is saved. */
static void test_file_arrival_refused_urls(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *url, *want;
	} cases[] = {
		{"s3://bucket/landing", "cloud storage"},
		{"abfss://c@a.dfs.core.windows.net/x", "cloud storage"},
		{"file:///srv/landing", "not enabled"},
		{"relative/folder", "workspace folder"},
		{"/Users/u/../../etc", "workspace folder"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char extra[512], buf[2048];
		snprintf(extra, sizeof(extra), "'trigger':{'file_arrival':{'url':'%s'}}",
			 cases[i].url);
		struct model_error err = {0};
		int64_t job = try_create_job(f, job_text(buf, sizeof(buf), extra), &err);
		if (job != 0)
			fail_msg("url '%s' accepted", cases[i].url);
		if (!strstr(err.message, cases[i].want))
			fail_msg("url '%s': \"%s\" lacks \"%s\"", cases[i].url, err.message,
				 cases[i].want);
		assert_int_equal(err.status, 400);
	}
	assert_int_equal(sched_count(f), 0);
}

#define T(fn)  cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TR(fn) cmocka_unit_test_setup_teardown(fn, setup_real_time, teardown)

int main(void)
{
	log_set_level(LOG_OFF);
	if (getenv("SCHED_TEST"))
		cmocka_set_test_filter(getenv("SCHED_TEST"));
	const struct CMUnitTest tests[] = {
		T(test_cron_fires_at_each_instant),
		T(test_cron_stall_fires_once),
		T(test_cron_in_zone),
		T(test_cron_paused),
		T(test_cron_unpause_counts_from_now),
		T(test_cron_update_expression),
		T(test_cron_no_future_firing),
		T(test_cron_delete_stops),
		T(test_catch_up_after_downtime),
		T(test_catch_up_single_instant),
		T(test_journal_at_most_once),
		T(test_restart_paused),
		T(test_concurrency_skip),
		T(test_concurrency_queue),
		T(test_periodic_hours),
		T(test_periodic_days_and_restart),
		T(test_continuous),
		T(test_continuous_restart),
		TR(test_file_arrival),
		TR(test_file_arrival_restart),
		TR(test_file_arrival_wait_after_last_change),
		TR(test_file_arrival_min_time_between_triggers),
		TR(test_file_arrival_paused),
		TR(test_file_arrival_two_jobs_one_folder),
		T(test_file_arrival_refused_urls),
		T(test_periodic_minutes_fire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
