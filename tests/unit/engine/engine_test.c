/* engine_test.c - unit tests for src/engine/engine.c (the write thread and
 * its group commit) against a real SQLite store in a mkdtemp directory.
 *
 * Ops here insert a job each and record what the engine told them. A "gate"
 * op blocks the engine inside run() until the test releases it, so the
 * ops submitted meanwhile are known to be queued together: that makes the
 * batching deterministic without any sleep. A failed commit is produced by
 * a real write error: the file size limit (RLIMIT_FSIZE) is lowered while a
 * large insert waits in the page cache, so writing the WAL at COMMIT fails
 * the way a full disk does.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "store/store.h"
#include "testutil.h"
#include "util/log.h"

/* --- fixture ------------------------------------------------------------------------ */

struct fx {
	char dir[256];
	struct store *st;
	struct engine *e;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done_count; /* done() calls so far, any op */
	int run_count;	/* run() calls so far, any op */
	bool gate_running, gate_open;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	if (test_mkdtemp(f->dir, sizeof(f->dir), "engine_test") != 0)
		return -1;
	char err[512];
	if (store_open_sqlite(&f->st, f->dir, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "open: %s\n", err);
		return -1;
	}
	if (engine_start(&f->e, f->st) != 0)
		return -1;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	engine_stop(f->e);
	store_close(f->st);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	int rc = test_rmtree(f->dir);
	free(f);
	return rc;
}

/* --- the test op ---------------------------------------------------------------------- */

struct op {
	struct engine_op base;
	struct fx *f;
	int tag;	   /* who submitted it, and in which position */
	bool fail;	   /* run() inserts, then asks for its undo */
	size_t payload;	   /* bytes of settings to insert (0: small) */
	bool gate;	   /* run() blocks until the test opens the gate */
	bool limit_fsize;  /* run() lowers RLIMIT_FSIZE after its insert */
	bool fsize_zero;   /* run() inserts with RLIMIT_FSIZE at 0: the insert fails */
	bool free_in_done; /* done() frees the op */
	int *done_log;	   /* for free_in_done ops: where done() records */

	int64_t job_id;
	int done_calls;
	int run_rc, commit_rc;
	int done_before_run;  /* done() calls of other ops when run() started */
	int run_seq;	      /* position among all run() calls */
	bool visible_in_done; /* the job could be read back from done() */
};

static struct rlimit saved_fsize;

static int op_run(struct engine_op *base, struct store *st)
{
	struct op *o = (struct op *)base;
	struct fx *f = o->f;
	pthread_mutex_lock(&f->lock);
	o->done_before_run = f->done_count;
	o->run_seq = f->run_count++;
	if (o->gate) {
		f->gate_running = true;
		pthread_cond_broadcast(&f->cond);
		while (!f->gate_open)
			pthread_cond_wait(&f->cond, &f->lock);
	}
	pthread_mutex_unlock(&f->lock);

	char name[32];
	snprintf(name, sizeof(name), "op%d", o->tag);
	char *settings = NULL;
	if (o->payload) {
		settings = malloc(o->payload + 1);
		assert_non_null(settings);
		memset(settings, 'p', o->payload);
		settings[o->payload] = '\0';
	}
	struct store_job j = {
		.created_ms = 1,
		.creator = (char *)"engine@test",
		.run_as = (char *)"engine@test",
		.created_version = 22,
		.name_key = name,
		.settings = settings ? settings : (char *)"{}",
		.settings_brief = (char *)"{}",
	};
	struct rlimit zero = {0, saved_fsize.rlim_max};
	if (o->fsize_zero)
		setrlimit(RLIMIT_FSIZE, &zero);
	int rc = store_job_insert(st, &j);
	if (o->fsize_zero)
		setrlimit(RLIMIT_FSIZE, &saved_fsize);
	free(settings);
	if (rc != STORE_OK)
		return rc;
	o->job_id = j.job_id;
	if (o->limit_fsize) {
		/* Nothing of this transaction has reached the WAL yet; cap the
		 * file size below what COMMIT has to write. */
		char wal[512];
		struct stat sb;
		snprintf(wal, sizeof(wal), "%s/jobsd.db-wal", f->dir);
		off_t size = stat(wal, &sb) == 0 ? sb.st_size : 0;
		struct rlimit rl = saved_fsize;
		rl.rlim_cur = (rlim_t)size + 4096;
		setrlimit(RLIMIT_FSIZE, &rl);
	}
	return o->fail ? 7 : 0;
}

static int found_one(void *arg, const struct store_job *j)
{
	(void)j;
	(*(int *)arg)++;
	return 0;
}

/* Whether the job op <tag> inserted is stored. By name, not by id: an undone
 * insert's id goes back to SQLite and the next op of the batch gets it. */
static bool op_job_stored(struct store *st, int tag)
{
	char name[32];
	snprintf(name, sizeof(name), "op%d", tag);
	struct store_job_query q = {.name_key = name, .limit = 10};
	int n = 0;
	assert_int_equal(store_job_list(st, &q, found_one, &n), STORE_OK);
	return n == 1;
}

static void op_done(struct engine_op *base, int run_rc, int commit_rc)
{
	struct op *o = (struct op *)base;
	struct fx *f = o->f;
	if (o->limit_fsize)
		setrlimit(RLIMIT_FSIZE, &saved_fsize);
	/* done() runs after the commit: what it acknowledges is readable. */
	if (o->job_id)
		o->visible_in_done = op_job_stored(f->st, o->tag);
	o->run_rc = run_rc;
	o->commit_rc = commit_rc;
	o->done_calls++;
	if (o->free_in_done) {
		(*o->done_log)++;
		free(o);
	}
	pthread_mutex_lock(&f->lock);
	f->done_count++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static void op_init(struct op *o, struct fx *f, int tag)
{
	memset(o, 0, sizeof(*o));
	o->base.run = op_run;
	o->base.done = op_done;
	o->f = f;
	o->tag = tag;
}

/* Submits a gate op and waits until the engine is blocked inside its run():
 * the ops submitted before open_gate() are then queued together. */
static void start_gate(struct fx *f, struct op *gate)
{
	op_init(gate, f, -1);
	gate->gate = true;
	engine_submit(f->e, &gate->base);
	pthread_mutex_lock(&f->lock);
	while (!f->gate_running)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
}

static void open_gate(struct fx *f)
{
	pthread_mutex_lock(&f->lock);
	f->gate_open = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static void wait_done(struct fx *f, int n)
{
	pthread_mutex_lock(&f->lock);
	while (f->done_count < n)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
}

static bool job_exists(struct store *st, int64_t id)
{
	struct store_job j;
	int rc = store_job_get(st, id, &j);
	if (rc == STORE_OK)
		store_job_release(&j);
	return rc == STORE_OK;
}

static int64_t count_jobs(struct store *st)
{
	int64_t n = -1;
	assert_int_equal(store_job_count(st, &n), STORE_OK);
	return n;
}

/* --- cases ------------------------------------------------------------------------------ */

static void test_run_sync_commits_then_calls_done(void **state)
{
	struct fx *f = *state;
	struct op o;
	op_init(&o, f, 1);
	assert_int_equal(engine_run_sync(f->e, &o.base), STORE_OK);
	assert_int_equal(o.done_calls, 1);
	assert_int_equal(o.run_rc, 0);
	assert_int_equal(o.commit_rc, STORE_OK);
	assert_true(o.visible_in_done);
	assert_true(job_exists(f->st, o.job_id));
	assert_int_equal(count_jobs(f->st), 1);
}

static void test_run_sync_returns_run_rc_and_undoes(void **state)
{
	struct fx *f = *state;
	struct op o;
	op_init(&o, f, 2);
	o.fail = true;
	assert_int_equal(engine_run_sync(f->e, &o.base), 7);
	assert_int_equal(o.done_calls, 1);
	assert_int_equal(o.run_rc, 7);
	assert_int_equal(o.commit_rc, STORE_OK); /* the (empty) batch committed */
	assert_true(o.job_id > 0);
	assert_false(o.visible_in_done);
	assert_false(op_job_stored(f->st, o.tag));
	assert_int_equal(count_jobs(f->st), 0);
}

static int plain_run(struct engine_op *op, struct store *st)
{
	(void)op;
	return store_meta_set(st, "k", "v");
}

static void test_run_sync_without_done(void **state)
{
	struct fx *f = *state;
	/* engine_run_sync only needs run(); done() is optional for it. */
	struct engine_op o = {.run = plain_run};
	assert_int_equal(engine_run_sync(f->e, &o), STORE_OK);
	char buf[8];
	assert_int_equal(store_meta_get(f->st, "k", buf, sizeof(buf)), STORE_OK);
	assert_string_equal(buf, "v");
}

#define N_THREADS  4
#define PER_THREAD 25

struct submitter {
	struct fx *f;
	struct op *ops; /* PER_THREAD of them */
};

static void *submit_main(void *arg)
{
	struct submitter *s = arg;
	for (int i = 0; i < PER_THREAD; i++)
		engine_submit(s->f->e, &s->ops[i].base);
	return NULL;
}

static void test_group_commit_from_many_threads(void **state)
{
	struct fx *f = *state;
	struct op gate;
	start_gate(f, &gate);

	static struct op ops[N_THREADS][PER_THREAD];
	struct submitter subs[N_THREADS];
	pthread_t th[N_THREADS];
	for (int t = 0; t < N_THREADS; t++) {
		for (int i = 0; i < PER_THREAD; i++) {
			op_init(&ops[t][i], f, t * 1000 + i);
			ops[t][i].fail = i % 10 == 3; /* 3 per thread: 12 undone */
		}
		subs[t] = (struct submitter){.f = f, .ops = ops[t]};
		assert_int_equal(pthread_create(&th[t], NULL, submit_main, &subs[t]), 0);
	}
	for (int t = 0; t < N_THREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	open_gate(f);
	wait_done(f, 1 + N_THREADS * PER_THREAD);

	assert_int_equal(gate.done_calls, 1);
	int kept = 0;
	for (int t = 0; t < N_THREADS; t++) {
		int last_seq = -1;
		for (int i = 0; i < PER_THREAD; i++) {
			struct op *o = &ops[t][i];
			assert_int_equal(o->done_calls, 1);
			assert_int_equal(o->commit_rc, STORE_OK);
			/* All 100 ran in one batch: no done() but the gate's came
			 * before any of them ran. */
			assert_int_equal(o->done_before_run, 1);
			/* Each thread's ops ran in the order it submitted them. */
			assert_true(o->run_seq > last_seq);
			last_seq = o->run_seq;
			if (o->fail) {
				assert_int_equal(o->run_rc, 7);
				assert_false(o->visible_in_done);
				assert_false(op_job_stored(f->st, o->tag));
			} else {
				assert_int_equal(o->run_rc, 0);
				assert_true(o->visible_in_done);
				assert_true(job_exists(f->st, o->job_id));
				kept++;
			}
		}
	}
	assert_int_equal(kept, 88);
	assert_int_equal(count_jobs(f->st), 89); /* + the gate's */
}

static void test_batches_are_capped(void **state)
{
	struct fx *f = *state;
	struct op gate;
	start_gate(f, &gate);
	enum { N = ENGINE_MAX_BATCH + 88 };
	struct op *ops = calloc(N, sizeof(*ops));
	assert_non_null(ops);
	for (int i = 0; i < N; i++) {
		op_init(&ops[i], f, i);
		engine_submit(f->e, &ops[i].base);
	}
	open_gate(f);
	wait_done(f, 1 + N);
	/* The first ENGINE_MAX_BATCH ran in one transaction, the rest in the next. */
	for (int i = 0; i < N; i++) {
		assert_int_equal(ops[i].done_calls, 1);
		assert_int_equal(ops[i].commit_rc, STORE_OK);
		assert_int_equal(ops[i].done_before_run,
				 i < ENGINE_MAX_BATCH ? 1 : 1 + ENGINE_MAX_BATCH);
	}
	assert_int_equal(count_jobs(f->st), 1 + N);
	free(ops);
}

static void test_done_may_free_the_op(void **state)
{
	struct fx *f = *state;
	struct op gate;
	start_gate(f, &gate);
	int freed = 0;
	for (int i = 0; i < 70; i++) { /* more than the engine's on-stack batch */
		struct op *o = malloc(sizeof(*o));
		assert_non_null(o);
		op_init(o, f, i);
		o->free_in_done = true;
		o->done_log = &freed;
		o->fail = i % 2;
		engine_submit(f->e, &o->base);
	}
	open_gate(f);
	wait_done(f, 71);
	assert_int_equal(freed, 70);
	assert_int_equal(count_jobs(f->st), 36);
}

static void test_failed_commit_reported_to_every_done(void **state)
{
	struct fx *f = *state;
	void (*old)(int) = signal(SIGXFSZ, SIG_IGN); /* get EFBIG, not a signal */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_fsize), 0);

	struct op gate, small, big, undone;
	start_gate(f, &gate);
	op_init(&small, f, 1);
	op_init(&undone, f, 2);
	undone.fail = true;
	op_init(&big, f, 3);
	big.payload = 1 << 20;
	big.limit_fsize = true;
	engine_submit(f->e, &small.base);
	engine_submit(f->e, &undone.base);
	engine_submit(f->e, &big.base);
	open_gate(f);
	wait_done(f, 4);
	signal(SIGXFSZ, old);

	/* Every op of the batch hears that the commit failed ... */
	assert_int_equal(small.done_calls, 1);
	assert_int_equal(big.done_calls, 1);
	assert_int_equal(undone.done_calls, 1);
	assert_true(small.commit_rc == STORE_EIO || small.commit_rc == STORE_EFULL);
	assert_int_equal(big.commit_rc, small.commit_rc);
	assert_int_equal(undone.commit_rc, small.commit_rc);
	assert_int_equal(small.run_rc, 0);
	assert_int_equal(big.run_rc, 0);
	assert_int_equal(undone.run_rc, 7);
	/* ... and nothing of it is visible, then or later. */
	assert_false(small.visible_in_done);
	assert_false(big.visible_in_done);
	assert_false(job_exists(f->st, small.job_id));
	assert_false(job_exists(f->st, big.job_id));
	assert_int_equal(count_jobs(f->st), 1); /* the gate's batch */

	/* The engine goes on: the next batch commits. */
	struct op after;
	op_init(&after, f, 4);
	assert_int_equal(engine_run_sync(f->e, &after.base), STORE_OK);
	assert_true(job_exists(f->st, after.job_id));
	assert_int_equal(count_jobs(f->st), 2);
}

/* An I/O error inside a write makes SQLite roll back the whole
 * transaction, not just the write: what ran before it is lost and must be
 * reported so; what comes after must run in a new transaction, not outside
 * any (where each write would commit on its own, unreported). */
static void test_write_aborting_its_transaction(void **state)
{
	struct fx *f = *state;
	void (*old)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_fsize), 0);

	struct op gate, before, culprit, after;
	start_gate(f, &gate);
	op_init(&before, f, 1);
	op_init(&culprit, f, 2);
	culprit.payload = 30u << 20; /* spills SQLite's page cache to the full file */
	culprit.fsize_zero = true;
	op_init(&after, f, 3);
	engine_submit(f->e, &before.base);
	engine_submit(f->e, &culprit.base);
	engine_submit(f->e, &after.base);
	open_gate(f);
	wait_done(f, 4);
	signal(SIGXFSZ, old);

	assert_int_equal(before.run_rc, 0);
	assert_int_not_equal(before.commit_rc, STORE_OK); /* rolled back: told so */
	/* by name: the rolled-back id is free again and "after" may get it */
	assert_false(op_job_stored(f->st, before.tag));
	assert_true(culprit.run_rc < 0);
	assert_int_not_equal(culprit.commit_rc, STORE_OK);
	assert_int_equal(after.run_rc, 0);
	assert_int_equal(after.commit_rc, STORE_OK); /* ran again, and committed */
	assert_true(op_job_stored(f->st, after.tag));
	assert_int_equal(count_jobs(f->st), 2); /* the gate's and after's */
}

static void test_failed_begin_reported_and_nothing_run(void **state)
{
	struct fx *f = *state;
	/* Simulate a BEGIN that fails: this thread holds the write
	 * connection's transaction while the engine starts its batch. The
	 * engine thread is idle meanwhile, so the connection is never used by
	 * two threads at once. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	struct op o;
	op_init(&o, f, 1);
	int rc = engine_run_sync(f->e, &o.base);
	store_rollback(f->st);
	assert_true(rc < 0);
	assert_int_equal(o.done_calls, 1);
	assert_int_equal(o.run_rc, 0);
	assert_int_equal(o.commit_rc, rc);
	assert_int_equal(o.job_id, 0); /* run() never ran */
	/* And the engine recovers. */
	op_init(&o, f, 2);
	assert_int_equal(engine_run_sync(f->e, &o.base), STORE_OK);
	assert_int_equal(count_jobs(f->st), 1);
}

static void test_stop_drains_the_queue(void **state)
{
	struct fx *f = *state;
	struct op gate;
	start_gate(f, &gate);
	enum { N = 50 };
	struct op ops[N];
	for (int i = 0; i < N; i++) {
		op_init(&ops[i], f, i);
		engine_submit(f->e, &ops[i].base);
	}
	open_gate(f);
	engine_stop(f->e); /* returns only once every queued op is done */
	f->e = NULL;
	assert_int_equal(f->done_count, N + 1);
	for (int i = 0; i < N; i++) {
		assert_int_equal(ops[i].done_calls, 1);
		assert_int_equal(ops[i].commit_rc, STORE_OK);
		assert_true(job_exists(f->st, ops[i].job_id));
	}
	assert_int_equal(count_jobs(f->st), N + 1);
}

static void test_stop_idle_and_null(void **state)
{
	struct fx *f = *state;
	engine_stop(f->e);
	f->e = NULL;
	engine_stop(NULL);
	/* A new engine on the same store works. */
	assert_int_equal(engine_start(&f->e, f->st), 0);
	struct op o;
	op_init(&o, f, 1);
	assert_int_equal(engine_run_sync(f->e, &o.base), STORE_OK);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	log_set_level(LOG_OFF);
	const struct CMUnitTest tests[] = {
		T(test_run_sync_commits_then_calls_done),
		T(test_run_sync_returns_run_rc_and_undoes),
		T(test_run_sync_without_done),
		T(test_group_commit_from_many_threads),
		T(test_batches_are_capped),
		T(test_done_may_free_the_op),
		T(test_failed_commit_reported_to_every_done),
		T(test_write_aborting_its_transaction),
		T(test_failed_begin_reported_and_nothing_run),
		T(test_stop_drains_the_queue),
		T(test_stop_idle_and_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
