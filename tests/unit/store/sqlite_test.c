/* sqlite_test.c - unit tests for src/store/sqlite.c through the store.h API.
 *
 * Each case opens a store in its own mkdtemp directory and removes it at the
 * end. Covered: schema creation, every table's operations and their
 * expected outcomes (NOT_FOUND, CONFLICT), the jobs counter kept by
 * triggers, list filters and keyset paging, savepoints inside a batch,
 * isolation of other threads' reads from an open transaction, and that
 * everything survives close and reopen. No sleeps: threads are joined.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "testutil.h"
#include "util/log.h"

struct fx {
	char dir[256];
	struct store *st;
};

static struct store *open_store(const char *dir)
{
	struct store *st = NULL;
	char err[512] = "";
	int rc = store_open_sqlite(&st, dir, err, sizeof(err));
	if (rc != STORE_OK)
		fail_msg("store_open_sqlite(%s): %d %s", dir, rc, err);
	return st;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	if (test_mkdtemp(f->dir, sizeof(f->dir), "sqlite_test") != 0) {
		free(f);
		return -1;
	}
	char err[512];
	if (store_open_sqlite(&f->st, f->dir, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->st);
	int rc = test_rmtree(f->dir);
	free(f);
	return rc;
}

static void reopen(struct fx *f)
{
	store_close(f->st);
	f->st = open_store(f->dir);
}

/* --- helpers ---------------------------------------------------------------------- */

static struct store_user user(const char *name, bool admin)
{
	struct store_user u = {.active = true, .admin = admin, .created_ms = 1000};
	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.display_name, sizeof(u.display_name), "Display %s", name);
	return u;
}

static int64_t add_user(struct store *st, const char *name)
{
	struct store_user u = user(name, false);
	assert_int_equal(store_user_insert(st, &u), STORE_OK);
	assert_true(u.id > 0);
	return u.id;
}

static struct store_token token(const char *id, int64_t user_id, int64_t created_ms)
{
	struct store_token t = {.user_id = user_id,
				.created_by = user_id,
				.created_ms = created_ms,
				.expiry_ms = -1};
	snprintf(t.id, sizeof(t.id), "%s", id);
	for (size_t i = 0; i < sizeof(t.hash); i++)
		t.hash[i] = (uint8_t)(i * 7 + (uint8_t)id[0]);
	snprintf(t.comment, sizeof(t.comment), "comment %s", id);
	return t;
}

/* A job row; the strings are the caller's (insert only reads them). */
static struct store_job job(const char *name_key, const char *settings)
{
	struct store_job j = {
		.created_ms = 5000,
		.creator = (char *)"alice@example.com",
		.run_as = (char *)"alice@example.com",
		.format = 0,
		.created_version = 22,
		.paged_len = 1,
		.name_key = (char *)name_key,
		.settings = (char *)settings,
		.settings_brief = (char *)"{\"brief\":true}",
	};
	return j;
}

static int64_t add_job(struct store *st, const char *name_key)
{
	struct store_job j = job(name_key, "{\"full\":true}");
	assert_int_equal(store_job_insert(st, &j), STORE_OK);
	return j.job_id;
}

static int64_t count_jobs(struct store *st)
{
	int64_t n = -1;
	assert_int_equal(store_job_count(st, &n), STORE_OK);
	return n;
}

/* --- open / schema ------------------------------------------------------------------ */

static void test_open_creates_schema(void **state)
{
	struct fx *f = *state;
	char path[512];
	snprintf(path, sizeof(path), "%s/jobsd.db", f->dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(count_jobs(f->st), 0);
	char buf[16];
	assert_int_equal(store_meta_get(f->st, "anything", buf, sizeof(buf)), STORE_NOT_FOUND);

	/* Look at the file with SQLite itself: WAL mode, schema version 3, the
	 * tables and the counter row. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 4);
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT group_concat(name, ',') FROM (SELECT name FROM "
					    "sqlite_master WHERE type = 'table' AND name NOT LIKE "
					    "'sqlite_%' ORDER BY name)",
					    -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0),
			    "counters,jobs,meta,runs,tokens,triggers,users");
	sqlite3_finalize(q);
	sqlite3_close(db);

	/* Reopening applies nothing twice. */
	reopen(f);
	assert_int_equal(count_jobs(f->st), 0);
}

static void test_open_fails_cleanly(void **state)
{
	struct fx *f = *state;
	char dir[600], err[512] = "";
	struct store *st = NULL;
	snprintf(dir, sizeof(dir), "%s/does/not/exist", f->dir);
	int rc = store_open_sqlite(&st, dir, err, sizeof(err));
	assert_true(rc < 0);
	assert_null(st);
	assert_non_null(strstr(err, "jobsd.db"));

	/* A database from a newer jobsd is refused, not downgraded. */
	char path[700];
	snprintf(path, sizeof(path), "%s/newer", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/newer/jobsd.db", f->dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(dir, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	rc = store_open_sqlite(&st, path, err, sizeof(err));
	assert_true(rc < 0);
	assert_null(st);
}

static void test_meta(void **state)
{
	struct fx *f = *state;
	char buf[8];
	assert_int_equal(store_meta_set(f->st, "k", "v1"), STORE_OK);
	assert_int_equal(store_meta_get(f->st, "k", buf, sizeof(buf)), STORE_OK);
	assert_string_equal(buf, "v1");
	assert_int_equal(store_meta_set(f->st, "k", "value-two"), STORE_OK);
	assert_int_equal(store_meta_get(f->st, "k", buf, sizeof(buf)), STORE_OK);
	assert_string_equal(buf, "value-t"); /* cut to the buffer, NUL-terminated */
	assert_int_equal(store_meta_get(f->st, "other", buf, sizeof(buf)), STORE_NOT_FOUND);
}

/* --- users --------------------------------------------------------------------------- */

static void test_users_insert_get_by_name(void **state)
{
	struct fx *f = *state;
	struct store_user u = user("Alice@Example.com", true);
	assert_int_equal(store_user_insert(f->st, &u), STORE_OK);
	int64_t bob = add_user(f->st, "bob@example.com");
	assert_true(bob > u.id);

	struct store_user got;
	assert_int_equal(store_user_get(f->st, u.id, &got), STORE_OK);
	assert_int_equal(got.id, u.id);
	assert_string_equal(got.name, "Alice@Example.com");
	assert_string_equal(got.display_name, "Display Alice@Example.com");
	assert_true(got.active);
	assert_true(got.admin);
	assert_int_equal(got.created_ms, 1000);

	/* Names are compared case-insensitively. */
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_user_get_by_name(f->st, "alice@example.COM", &got), STORE_OK);
	assert_int_equal(got.id, u.id);
	assert_string_equal(got.name, "Alice@Example.com");
	assert_int_equal(store_user_get_by_name(f->st, "carol@example.com", &got), STORE_NOT_FOUND);
	assert_int_equal(store_user_get(f->st, 9999, &got), STORE_NOT_FOUND);

	/* A name taken in another case is a conflict. */
	struct store_user dup = user("ALICE@EXAMPLE.COM", false);
	assert_int_equal(store_user_insert(f->st, &dup), STORE_CONFLICT);
}

static int collect_users(void *arg, const struct store_user *u)
{
	int64_t *ids = arg;
	for (int i = 0; i < 8; i++)
		if (ids[i] == 0) {
			ids[i] = u->id;
			return i == 1; /* stop after the second */
		}
	return 0;
}

static int count_users(void *arg, const struct store_user *u)
{
	(void)u;
	(*(int *)arg)++;
	return 0;
}

static void test_users_list_update_delete(void **state)
{
	struct fx *f = *state;
	int64_t a = add_user(f->st, "a@x"), b = add_user(f->st, "b@x"), c = add_user(f->st, "c@x");
	int64_t ids[8] = {0};
	assert_int_equal(store_user_list(f->st, collect_users, ids), STORE_OK);
	assert_int_equal(ids[0], a); /* id order, stopped by the callback */
	assert_int_equal(ids[1], b);
	assert_int_equal(ids[2], 0);

	struct store_user u;
	assert_int_equal(store_user_get(f->st, b, &u), STORE_OK);
	snprintf(u.display_name, sizeof(u.display_name), "Bee");
	u.active = false;
	u.admin = true;
	snprintf(u.name, sizeof(u.name), "renamed@x"); /* not updatable */
	assert_int_equal(store_user_update(f->st, &u), STORE_OK);
	struct store_user got;
	assert_int_equal(store_user_get(f->st, b, &got), STORE_OK);
	assert_string_equal(got.display_name, "Bee");
	assert_false(got.active);
	assert_true(got.admin);
	assert_string_equal(got.name, "b@x");
	u.id = 4242;
	assert_int_equal(store_user_update(f->st, &u), STORE_NOT_FOUND);

	assert_int_equal(store_user_delete(f->st, c), STORE_OK);
	assert_int_equal(store_user_delete(f->st, c), STORE_NOT_FOUND);
	assert_int_equal(store_user_get(f->st, c, &got), STORE_NOT_FOUND);
	int n = 0;
	assert_int_equal(store_user_list(f->st, count_users, &n), STORE_OK);
	assert_int_equal(n, 2);
}

/* --- tokens -------------------------------------------------------------------------- */

struct token_ids {
	int n;
	char ids[8][17];
};

static int collect_tokens(void *arg, const struct store_token *t)
{
	struct token_ids *c = arg;
	if (c->n < 8)
		snprintf(c->ids[c->n++], sizeof(c->ids[0]), "%s", t->id);
	return 0;
}

static void test_tokens(void **state)
{
	struct fx *f = *state;
	int64_t a = add_user(f->st, "a@x"), b = add_user(f->st, "b@x");
	struct store_token t1 = token("00000000000000a1", a, 300);
	t1.expiry_ms = 99999;
	t1.created_by = b;
	struct store_token t2 = token("00000000000000a2", a, 100);
	struct store_token t3 = token("00000000000000b1", b, 200);
	assert_int_equal(store_token_insert(f->st, &t1), STORE_OK);
	assert_int_equal(store_token_insert(f->st, &t2), STORE_OK);
	assert_int_equal(store_token_insert(f->st, &t3), STORE_OK);
	assert_int_equal(store_token_insert(f->st, &t1), STORE_CONFLICT); /* same id */

	struct store_token got;
	memset(&got, 0xee, sizeof(got));
	assert_int_equal(store_token_get(f->st, t1.id, &got), STORE_OK);
	assert_string_equal(got.id, t1.id);
	assert_int_equal(got.user_id, a);
	assert_int_equal(got.created_by, b);
	assert_memory_equal(got.hash, t1.hash, sizeof(t1.hash));
	assert_int_equal(got.created_ms, 300);
	assert_int_equal(got.expiry_ms, 99999);
	assert_string_equal(got.comment, "comment 00000000000000a1");
	assert_int_equal(store_token_get(f->st, "ffffffffffffffff", &got), STORE_NOT_FOUND);

	/* Per user, by creation time; or everyone's. */
	struct token_ids c = {0};
	assert_int_equal(store_token_list(f->st, a, collect_tokens, &c), STORE_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.ids[0], "00000000000000a2");
	assert_string_equal(c.ids[1], "00000000000000a1");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_token_list(f->st, -1, collect_tokens, &c), STORE_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.ids[0], "00000000000000a2");
	assert_string_equal(c.ids[1], "00000000000000b1");
	assert_string_equal(c.ids[2], "00000000000000a1");

	assert_int_equal(store_token_delete(f->st, t2.id), STORE_OK);
	assert_int_equal(store_token_delete(f->st, t2.id), STORE_NOT_FOUND);
	assert_int_equal(store_token_get(f->st, t2.id, &got), STORE_NOT_FOUND);

	/* A token for a user that does not exist is refused. */
	struct store_token orphan = token("00000000000000c1", 777, 1);
	assert_true(store_token_insert(f->st, &orphan) != STORE_OK);
	assert_int_equal(store_token_get(f->st, orphan.id, &got), STORE_NOT_FOUND);
}

static void test_user_delete_cascades_tokens(void **state)
{
	struct fx *f = *state;
	int64_t a = add_user(f->st, "a@x"), b = add_user(f->st, "b@x");
	struct store_token t1 = token("1111111111111111", a, 1);
	struct store_token t2 = token("2222222222222222", a, 2);
	struct store_token t3 = token("3333333333333333", b, 3);
	assert_int_equal(store_token_insert(f->st, &t1), STORE_OK);
	assert_int_equal(store_token_insert(f->st, &t2), STORE_OK);
	assert_int_equal(store_token_insert(f->st, &t3), STORE_OK);
	assert_int_equal(store_user_delete(f->st, a), STORE_OK);
	struct store_token got;
	assert_int_equal(store_token_get(f->st, t1.id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_token_get(f->st, t2.id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_token_get(f->st, t3.id, &got), STORE_OK);
	struct token_ids c = {0};
	assert_int_equal(store_token_list(f->st, a, collect_tokens, &c), STORE_OK);
	assert_int_equal(c.n, 0);
	/* Also inside a transaction, and after reopening (foreign keys on). */
	reopen(f);
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_user_delete(f->st, b), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_token_get(f->st, t3.id, &got), STORE_NOT_FOUND);
}

/* --- jobs ------------------------------------------------------------------------------ */

static void test_jobs_insert_get_update_delete(void **state)
{
	struct fx *f = *state;
	struct store_job j = job("first", "{\"name\":\"First\"}");
	j.format = 1;
	j.created_version = 20;
	j.paged_len = 3;
	j.run_as = (char *)"sp-1";
	assert_int_equal(store_job_insert(f->st, &j), STORE_OK);
	assert_true(j.job_id > 0);
	int64_t second = add_job(f->st, "second");
	assert_true(second > j.job_id);

	struct store_job got;
	assert_int_equal(store_job_get(f->st, j.job_id, &got), STORE_OK);
	assert_int_equal(got.job_id, j.job_id);
	assert_int_equal(got.created_ms, 5000);
	assert_string_equal(got.creator, "alice@example.com");
	assert_string_equal(got.run_as, "sp-1");
	assert_int_equal(got.format, 1);
	assert_int_equal(got.created_version, 20);
	assert_int_equal(got.paged_len, 3);
	assert_string_equal(got.name_key, "first");
	assert_string_equal(got.settings, "{\"name\":\"First\"}");
	assert_string_equal(got.settings_brief, "{\"brief\":true}");
	store_job_release(&got);
	assert_null(got.settings);
	store_job_release(&got); /* released twice is fine */
	store_job_release(NULL);

	struct store_job upd = job("renamed", "{\"name\":\"Renamed\"}");
	upd.job_id = j.job_id;
	upd.format = 0;
	upd.paged_len = 250;
	upd.run_as = (char *)"bob@example.com";
	upd.settings_brief = (char *)"{\"b\":2}";
	upd.created_ms = 1; /* not updatable */
	upd.creator = (char *)"mallory";
	assert_int_equal(store_job_update(f->st, &upd), STORE_OK);
	assert_int_equal(store_job_get(f->st, j.job_id, &got), STORE_OK);
	assert_string_equal(got.name_key, "renamed");
	assert_string_equal(got.settings, "{\"name\":\"Renamed\"}");
	assert_string_equal(got.settings_brief, "{\"b\":2}");
	assert_string_equal(got.run_as, "bob@example.com");
	assert_int_equal(got.format, 0);
	assert_int_equal(got.paged_len, 250);
	assert_int_equal(got.created_ms, 5000);
	assert_string_equal(got.creator, "alice@example.com");
	assert_int_equal(got.created_version, 20);
	store_job_release(&got);
	upd.job_id = 123456;
	assert_int_equal(store_job_update(f->st, &upd), STORE_NOT_FOUND);

	assert_int_equal(store_job_delete(f->st, j.job_id), STORE_OK);
	assert_int_equal(store_job_get(f->st, j.job_id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_job_delete(f->st, j.job_id), STORE_NOT_FOUND);
	assert_int_equal(store_job_get(f->st, second, &got), STORE_OK);
	store_job_release(&got);
}

static void test_job_ids_never_reused(void **state)
{
	struct fx *f = *state;
	int64_t a = add_job(f->st, "a"), b = add_job(f->st, "b");
	/* Deleting the newest job must not hand its id out again ... */
	assert_int_equal(store_job_delete(f->st, b), STORE_OK);
	int64_t c = add_job(f->st, "c");
	assert_true(c > b);
	/* ... nor after deleting every job, nor across a restart. */
	assert_int_equal(store_job_delete(f->st, a), STORE_OK);
	assert_int_equal(store_job_delete(f->st, c), STORE_OK);
	reopen(f);
	int64_t d = add_job(f->st, "d");
	assert_true(d > c);
}

static void test_job_count_follows_inserts_deletes_rollbacks(void **state)
{
	struct fx *f = *state;
	int64_t ids[5];
	for (int i = 0; i < 5; i++)
		ids[i] = add_job(f->st, "n");
	assert_int_equal(count_jobs(f->st), 5);
	assert_int_equal(store_job_delete(f->st, ids[1]), STORE_OK);
	assert_int_equal(store_job_delete(f->st, ids[3]), STORE_OK);
	assert_int_equal(store_job_delete(f->st, ids[3]), STORE_NOT_FOUND);
	assert_int_equal(count_jobs(f->st), 3);

	/* A rolled-back transaction leaves the counter as it was; inside the
	 * transaction the counter sees the batch's own rows. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	add_job(f->st, "x");
	add_job(f->st, "y");
	assert_int_equal(store_job_delete(f->st, ids[0]), STORE_OK);
	assert_int_equal(count_jobs(f->st), 4);
	store_rollback(f->st);
	assert_int_equal(count_jobs(f->st), 3);
	struct store_job got;
	assert_int_equal(store_job_get(f->st, ids[0], &got), STORE_OK);
	store_job_release(&got);

	/* A committed one moves it. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	add_job(f->st, "z");
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(count_jobs(f->st), 4);
	reopen(f);
	assert_int_equal(count_jobs(f->st), 4);
}

struct listed {
	int n;
	int64_t ids[64];
	bool full_seen, brief_seen;
	int stop_after;
};

static int collect_jobs(void *arg, const struct store_job *j)
{
	struct listed *l = arg;
	if (l->n < 64)
		l->ids[l->n++] = j->job_id;
	if (j->settings)
		l->full_seen = true;
	if (j->settings_brief)
		l->brief_seen = true;
	return l->stop_after && l->n >= l->stop_after;
}

static struct listed list(struct store *st, struct store_job_query q)
{
	struct listed l = {0};
	assert_int_equal(store_job_list(st, &q, collect_jobs, &l), STORE_OK);
	return l;
}

static void test_job_list_filters_and_paging(void **state)
{
	struct fx *f = *state;
	int64_t id[10];
	for (int i = 0; i < 10; i++)
		id[i] = add_job(f->st, i % 3 == 0 ? "etl" : "other"); /* etl: 0, 3, 6, 9 */

	/* Newest first, limit and offset. */
	struct listed l = list(f->st, (struct store_job_query){.limit = 3});
	assert_int_equal(l.n, 3);
	assert_int_equal(l.ids[0], id[9]);
	assert_int_equal(l.ids[2], id[7]);
	assert_true(l.brief_seen);
	assert_false(l.full_seen);
	l = list(f->st, (struct store_job_query){.limit = 3, .offset = 8});
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ids[0], id[1]);
	assert_int_equal(l.ids[1], id[0]);
	l = list(f->st, (struct store_job_query){.limit = 100, .full_settings = true});
	assert_int_equal(l.n, 10);
	assert_true(l.full_seen);
	assert_false(l.brief_seen);

	/* Name filter: an exact match on name_key. */
	l = list(f->st, (struct store_job_query){.name_key = "etl", .limit = 100});
	assert_int_equal(l.n, 4);
	assert_int_equal(l.ids[0], id[9]);
	assert_int_equal(l.ids[3], id[0]);
	l = list(f->st, (struct store_job_query){.name_key = "et", .limit = 100});
	assert_int_equal(l.n, 0);

	/* Keyset: below_id continues newest first; above_id goes back, oldest first. */
	l = list(f->st, (struct store_job_query){.below_id = id[5], .limit = 2});
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ids[0], id[4]);
	assert_int_equal(l.ids[1], id[3]);
	l = list(f->st, (struct store_job_query){.above_id = id[5], .limit = 2});
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ids[0], id[6]);
	assert_int_equal(l.ids[1], id[7]);
	l = list(f->st,
		 (struct store_job_query){
			 .name_key = "etl", .below_id = id[9], .limit = 2, .full_settings = true});
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ids[0], id[6]);
	assert_int_equal(l.ids[1], id[3]);
	l = list(f->st,
		 (struct store_job_query){.name_key = "etl", .above_id = id[0], .limit = 10});
	assert_int_equal(l.n, 3);
	assert_int_equal(l.ids[0], id[3]);
	l = list(f->st, (struct store_job_query){.below_id = id[0], .limit = 10});
	assert_int_equal(l.n, 0);

	/* Walking every page with below_id sees each job once. */
	int seen = 0;
	int64_t below = 0;
	for (;;) {
		l = list(f->st, (struct store_job_query){.below_id = below, .limit = 3});
		if (l.n == 0)
			break;
		for (int i = 0; i < l.n; i++)
			assert_int_equal(l.ids[i], id[9 - seen - i]);
		seen += l.n;
		below = l.ids[l.n - 1];
	}
	assert_int_equal(seen, 10);

	/* The callback can stop the walk. */
	struct store_job_query q = {.limit = 100};
	struct listed s = {.stop_after = 4};
	assert_int_equal(store_job_list(f->st, &q, collect_jobs, &s), STORE_OK);
	assert_int_equal(s.n, 4);
	/* limit 0 returns nothing. */
	l = list(f->st, (struct store_job_query){.limit = 0});
	assert_int_equal(l.n, 0);
}

static void test_savepoint_rollback_undoes_only_that_op(void **state)
{
	struct fx *f = *state;
	int64_t kept0 = add_job(f->st, "before");
	assert_int_equal(store_begin(f->st), STORE_OK);

	assert_int_equal(store_savepoint(f->st), STORE_OK);
	int64_t a = add_job(f->st, "a");
	add_user(f->st, "u1@x");
	store_savepoint_release(f->st);

	assert_int_equal(store_savepoint(f->st), STORE_OK);
	int64_t b = add_job(f->st, "b");
	assert_int_equal(store_job_delete(f->st, kept0), STORE_OK);
	add_user(f->st, "u2@x");
	store_savepoint_rollback(f->st);

	assert_int_equal(store_savepoint(f->st), STORE_OK);
	/* A failed statement inside a savepoint does not poison the batch. */
	struct store_user dup = user("U1@X", false);
	assert_int_equal(store_user_insert(f->st, &dup), STORE_CONFLICT);
	store_savepoint_rollback(f->st);

	assert_int_equal(store_savepoint(f->st), STORE_OK);
	int64_t c = add_job(f->st, "c");
	store_savepoint_release(f->st);
	assert_int_equal(store_commit(f->st), STORE_OK);

	struct store_job got;
	assert_int_equal(store_job_get(f->st, kept0, &got), STORE_OK);
	store_job_release(&got);
	assert_int_equal(store_job_get(f->st, a, &got), STORE_OK);
	store_job_release(&got);
	assert_int_equal(store_job_get(f->st, c, &got), STORE_OK);
	store_job_release(&got);
	if (b != c)
		assert_int_equal(store_job_get(f->st, b, &got), STORE_NOT_FOUND);
	assert_int_equal(count_jobs(f->st), 3);
	struct store_user u;
	assert_int_equal(store_user_get_by_name(f->st, "u1@x", &u), STORE_OK);
	assert_int_equal(store_user_get_by_name(f->st, "u2@x", &u), STORE_NOT_FOUND);
}

/* --- isolation and durability ------------------------------------------------------- */

struct reader_args {
	struct store *st;
	int64_t job_id;
	int get_rc;
	int64_t count;
	int count_rc;
	int user_rc;
};

static void *reader_main(void *arg)
{
	struct reader_args *r = arg;
	struct store_job j;
	r->get_rc = store_job_get(r->st, r->job_id, &j);
	if (r->get_rc == STORE_OK)
		store_job_release(&j);
	r->count_rc = store_job_count(r->st, &r->count);
	struct store_user u;
	r->user_rc = store_user_get_by_name(r->st, "tx@x", &u);
	return NULL;
}

static struct reader_args read_from_thread(struct store *st, int64_t job_id)
{
	struct reader_args r = {.st = st, .job_id = job_id};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	return r;
}

static void test_other_threads_read_only_committed_data(void **state)
{
	struct fx *f = *state;
	add_job(f->st, "committed");
	assert_int_equal(store_begin(f->st), STORE_OK);
	int64_t id = add_job(f->st, "pending");
	add_user(f->st, "tx@x");

	/* This thread, inside the transaction, sees its own writes ... */
	struct store_job j;
	assert_int_equal(store_job_get(f->st, id, &j), STORE_OK);
	store_job_release(&j);
	assert_int_equal(count_jobs(f->st), 2);
	/* ... another thread does not, and is not blocked by the writer. */
	struct reader_args r = read_from_thread(f->st, id);
	assert_int_equal(r.get_rc, STORE_NOT_FOUND);
	assert_int_equal(r.count_rc, STORE_OK);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.user_rc, STORE_NOT_FOUND);

	assert_int_equal(store_commit(f->st), STORE_OK);
	r = read_from_thread(f->st, id);
	assert_int_equal(r.get_rc, STORE_OK);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.user_rc, STORE_OK);

	/* After a rollback, nobody sees the rolled-back rows. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	int64_t gone = add_job(f->st, "gone");
	store_rollback(f->st);
	r = read_from_thread(f->st, gone);
	assert_int_equal(r.get_rc, STORE_NOT_FOUND);
	assert_int_equal(r.count, 2);
	assert_int_equal(store_job_get(f->st, gone, &j), STORE_NOT_FOUND);
}

static void test_reader_in_this_thread_sees_later_commits(void **state)
{
	struct fx *f = *state;
	/* The main thread reads outside a transaction through its own read
	 * connection; later commits must be visible to it (no stale snapshot). */
	assert_int_equal(count_jobs(f->st), 0);
	add_job(f->st, "a");
	assert_int_equal(count_jobs(f->st), 1);
	assert_int_equal(store_begin(f->st), STORE_OK);
	int64_t id = add_job(f->st, "b");
	assert_int_equal(store_commit(f->st), STORE_OK);
	struct store_job j;
	assert_int_equal(store_job_get(f->st, id, &j), STORE_OK);
	store_job_release(&j);
	assert_int_equal(count_jobs(f->st), 2);
}

static void test_close_reopen_keeps_everything(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_begin(f->st), STORE_OK);
	int64_t uid = add_user(f->st, "keep@x");
	struct store_token t = token("abcdefabcdefabcd", uid, 42);
	assert_int_equal(store_token_insert(f->st, &t), STORE_OK);
	struct store_job j = job("kept", "{\"name\":\"Kept\",\"tasks\":[]}");
	assert_int_equal(store_job_insert(f->st, &j), STORE_OK);
	assert_int_equal(store_meta_set(f->st, "instance_id", "i-123"), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);

	/* Reopen twice: the second time with a reader connection in use. */
	reopen(f);
	assert_int_equal(count_jobs(f->st), 1);
	reopen(f);

	struct store_user u;
	assert_int_equal(store_user_get(f->st, uid, &u), STORE_OK);
	assert_string_equal(u.name, "keep@x");
	struct store_token got;
	assert_int_equal(store_token_get(f->st, t.id, &got), STORE_OK);
	assert_memory_equal(got.hash, t.hash, sizeof(t.hash));
	struct store_job gj;
	assert_int_equal(store_job_get(f->st, j.job_id, &gj), STORE_OK);
	assert_string_equal(gj.settings, "{\"name\":\"Kept\",\"tasks\":[]}");
	store_job_release(&gj);
	char buf[32];
	assert_int_equal(store_meta_get(f->st, "instance_id", buf, sizeof(buf)), STORE_OK);
	assert_string_equal(buf, "i-123");
	assert_int_equal(count_jobs(f->st), 1);
}

static void test_uncommitted_transaction_lost_on_close(void **state)
{
	struct fx *f = *state;
	add_job(f->st, "committed");
	assert_int_equal(store_begin(f->st), STORE_OK);
	int64_t id = add_job(f->st, "never committed");
	store_rollback(f->st);
	reopen(f);
	struct store_job j;
	assert_int_equal(store_job_get(f->st, id, &j), STORE_NOT_FOUND);
	assert_int_equal(count_jobs(f->st), 1);
}

static void test_rc_names(void **state)
{
	(void)state;
	assert_string_equal(store_rc_name(STORE_OK), "ok");
	assert_string_equal(store_rc_name(STORE_NOT_FOUND), "not found");
	assert_string_equal(store_rc_name(STORE_CONFLICT), "conflict");
	assert_string_equal(store_rc_name(STORE_EFULL), "disk full");
	assert_string_equal(store_rc_name(STORE_EIO), "I/O error");
	assert_string_equal(store_rc_name(STORE_EBUSY), "busy");
	assert_string_equal(store_rc_name(STORE_ENOMEM), "out of memory");
	assert_string_equal(store_rc_name(STORE_ERR), "error");
	assert_string_equal(store_rc_name(12345), "error");
}


/* --- runs ---------------------------------------------------------------------------- */

static void put_run(struct store *st, int64_t id, int64_t job, int64_t parent, bool active,
		    int64_t start, const char *token, int rc_want)
{
	char doc[64];
	snprintf(doc, sizeof(doc), "{\"run_id\":%lld}", (long long)id);
	struct store_run r = {id, job, parent, 0, active, start, (char *)token, doc};
	assert_int_equal(store_run_put(st, &r), rc_want);
}

static int count_row(void *arg, const struct store_run *r)
{
	int64_t *ids = arg;
	ids[++ids[0]] = r->run_id;
	return 0;
}

static void test_runs_put_get_children_delete(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_begin(f->st), STORE_OK);
	put_run(f->st, 10, 1, 0, true, 100, "tok", STORE_OK);
	put_run(f->st, 11, 1, 10, true, 100, NULL, STORE_OK);
	put_run(f->st, 12, 1, 10, false, 100, NULL, STORE_OK);
	/* The same token on another run is a conflict, never a silent takeover. */
	put_run(f->st, 13, 2, 0, true, 100, "tok", STORE_CONFLICT);
	/* Writing a row again replaces it (upsert on run_id). */
	put_run(f->st, 10, 1, 0, false, 100, "tok", STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);

	struct store_run r;
	assert_int_equal(store_run_get(f->st, 10, &r), STORE_OK);
	assert_false(r.active);
	assert_string_equal(r.idem_token, "tok");
	assert_string_equal(r.doc, "{\"run_id\":10}");
	store_run_release(&r);
	assert_int_equal(store_run_get(f->st, 13, &r), STORE_NOT_FOUND);
	int64_t id;
	assert_int_equal(store_run_by_token(f->st, "tok", &id), STORE_OK);
	assert_int_equal(id, 10);
	int64_t ids[8] = {0};
	assert_int_equal(store_run_children(f->st, 10, count_row, ids), STORE_OK);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 11);

	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_run_delete(f->st, 10), STORE_OK);
	assert_int_equal(store_run_delete(f->st, 10), STORE_NOT_FOUND);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_run_get(f->st, 11, &r), STORE_NOT_FOUND);
	assert_int_equal(store_run_by_token(f->st, "tok", &id), STORE_NOT_FOUND);
}

static void test_run_list_filters(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_begin(f->st), STORE_OK);
	for (int i = 1; i <= 6; i++)
		put_run(f->st, i, i % 2 ? 1 : 2, 0, i > 4, 100 * i, NULL, STORE_OK);
	put_run(f->st, 7, 1, 1, true, 700, NULL, STORE_OK); /* a task run: never listed */
	assert_int_equal(store_commit(f->st), STORE_OK);

	struct store_run_query q = {.job_id = -1, .active = -1, .run_type = -1, .limit = 10};
	int64_t ids[16] = {0};
	assert_int_equal(store_run_list(f->st, &q, count_row, ids), STORE_OK);
	assert_int_equal(ids[0], 6);
	assert_int_equal(ids[1], 6); /* newest first */
	memset(ids, 0, sizeof(ids));
	q.job_id = 1;
	assert_int_equal(store_run_list(f->st, &q, count_row, ids), STORE_OK);
	assert_int_equal(ids[0], 3); /* 5, 3, 1 */
	memset(ids, 0, sizeof(ids));
	q.job_id = -1;
	q.active = 1;
	assert_int_equal(store_run_list(f->st, &q, count_row, ids), STORE_OK);
	assert_int_equal(ids[0], 2);
	memset(ids, 0, sizeof(ids));
	q.active = -1;
	q.start_from = 200;
	q.start_to = 400;
	assert_int_equal(store_run_list(f->st, &q, count_row, ids), STORE_OK);
	assert_int_equal(ids[0], 3);
	memset(ids, 0, sizeof(ids));
	q.start_from = q.start_to = 0;
	q.below_id = 3;
	q.limit = 1;
	assert_int_equal(store_run_list(f->st, &q, count_row, ids), STORE_OK);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 2);
	memset(ids, 0, sizeof(ids));
	assert_int_equal(store_run_list_active(f->st, count_row, ids), STORE_OK);
	assert_int_equal(ids[0], 2);
	/* finished runs started at or before 300, oldest first */
	memset(ids, 0, sizeof(ids));
	assert_int_equal(store_run_list_expired(f->st, 300, 10, count_row, ids), STORE_OK);
	assert_int_equal(ids[0], 3);
	assert_int_equal(ids[1], 1);
	memset(ids, 0, sizeof(ids));
	assert_int_equal(store_run_list_expired(f->st, 300, 2, count_row, ids), STORE_OK);
	assert_int_equal(ids[0], 2);
}

static void test_counters_and_reserved_job_ids(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_begin(f->st), STORE_OK);
	int64_t a, b, c;
	assert_int_equal(store_counter_next(f->st, "run_ids", &a), STORE_OK);
	assert_int_equal(store_counter_next(f->st, "run_ids", &b), STORE_OK);
	assert_int_equal(store_counter_next(f->st, "other", &c), STORE_OK);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(c, 1);
	int64_t reserved;
	assert_int_equal(store_job_reserve_id(f->st, &reserved), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	/* A reserved id is never given to a job. */
	int64_t job = add_job(f->st, "after");
	assert_true(job > reserved);
	assert_int_equal(store_begin(f->st), STORE_OK);
	int64_t again;
	assert_int_equal(store_job_reserve_id(f->st, &again), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_true(again > job);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	log_set_level(LOG_OFF);
	const struct CMUnitTest tests[] = {
		T(test_open_creates_schema),
		T(test_open_fails_cleanly),
		T(test_meta),
		T(test_users_insert_get_by_name),
		T(test_users_list_update_delete),
		T(test_tokens),
		T(test_user_delete_cascades_tokens),
		T(test_jobs_insert_get_update_delete),
		T(test_job_ids_never_reused),
		T(test_job_count_follows_inserts_deletes_rollbacks),
		T(test_job_list_filters_and_paging),
		T(test_savepoint_rollback_undoes_only_that_op),
		T(test_other_threads_read_only_committed_data),
		T(test_reader_in_this_thread_sees_later_commits),
		T(test_close_reopen_keeps_everything),
		T(test_uncommitted_transaction_lost_on_close),
		T(test_runs_put_get_children_delete),
		T(test_run_list_filters),
		T(test_counters_and_reserved_job_ids),
		cmocka_unit_test(test_rc_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
