/* sqlite.c - the SQLite backend of store.h.
 *
 * One database file, DIR/jobsd.db, in WAL mode with synchronous=FULL: a
 * commit returns once the WAL is fsynced, and readers never block the writer.
 * One write connection, used only by the thread inside store_begin/commit
 * (the engine thread; the main thread during start-up before the engine
 * runs). Each other thread gets its own read-only connection on first use,
 * kept in thread-local storage and closed when the thread exits or the store
 * closes. Statements are prepared once per connection and reused.
 *
 * Schema changes are migrations: an append-only list applied in order at
 * open, tracked by PRAGMA user_version, each in its own transaction.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/log.h"

/* Append only: never edit a migration that has shipped. */
static const char *const migrations[] = {
	/* 1: users, tokens, jobs */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  user_name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  display_name TEXT NOT NULL,"
	"  active INTEGER NOT NULL DEFAULT 1,"
	"  admin INTEGER NOT NULL DEFAULT 0,"
	"  created_ms INTEGER NOT NULL);"
	"CREATE TABLE tokens ("
	"  token_id TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  created_by INTEGER NOT NULL,"
	"  hash BLOB NOT NULL,"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  created_ms INTEGER NOT NULL,"
	"  expiry_ms INTEGER NOT NULL);"
	"CREATE INDEX tokens_by_user ON tokens(user_id);"
	"CREATE TABLE jobs ("
	"  job_id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  created_ms INTEGER NOT NULL,"
	"  creator TEXT NOT NULL,"
	"  run_as TEXT NOT NULL,"
	"  name_key TEXT NOT NULL,"
	"  format INTEGER NOT NULL,"
	"  created_version INTEGER NOT NULL,"
	"  paged_len INTEGER NOT NULL,"
	"  settings TEXT NOT NULL,"
	"  settings_brief TEXT NOT NULL);"
	"CREATE INDEX jobs_by_name ON jobs(name_key, job_id);"
	/* Row counts that limits check on every write, kept by triggers in the
	 * same transaction as the rows themselves: O(1) and never out of step. */
	"CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO counters VALUES ('jobs', 0);"
	"CREATE TRIGGER jobs_count_up AFTER INSERT ON jobs BEGIN "
	"  UPDATE counters SET n = n + 1 WHERE name = 'jobs'; END;"
	"CREATE TRIGGER jobs_count_down AFTER DELETE ON jobs BEGIN "
	"  UPDATE counters SET n = n - 1 WHERE name = 'jobs'; END;",
	/* 2: runs. A job run and its task runs (one per attempt) share the table;
	 * `doc` is the engine's serialization of the run. */
	"CREATE TABLE runs ("
	"  run_id INTEGER PRIMARY KEY,"
	"  job_id INTEGER NOT NULL,"
	"  parent_id INTEGER NOT NULL,"
	"  run_type INTEGER NOT NULL,"
	"  active INTEGER NOT NULL,"
	"  start_ms INTEGER NOT NULL,"
	"  idem_token TEXT UNIQUE,"
	"  doc TEXT NOT NULL);"
	"CREATE INDEX runs_by_parent ON runs(parent_id, run_id);"
	"CREATE INDEX runs_by_job ON runs(job_id, run_id) WHERE parent_id = 0;"
	"CREATE INDEX runs_active ON runs(run_id) WHERE active = 1 AND parent_id = 0;",
	/* 3: the retention sweep's finished job runs by start time. */
	"CREATE INDEX runs_done_by_start ON runs(start_ms) WHERE active = 0 AND parent_id = 0;",
	/* 4: the scheduler's journal, one row per job with a trigger; it goes
	 * with its job. */
	"CREATE TABLE triggers ("
	"  job_id INTEGER PRIMARY KEY,"
	"  last_ms INTEGER NOT NULL,"
	"  mark INTEGER NOT NULL);"
	"CREATE TRIGGER jobs_drop_trigger AFTER DELETE ON jobs BEGIN "
	"  DELETE FROM triggers WHERE job_id = old.job_id; END;",
};

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_META_GET,
	ST_META_SET,
	ST_USER_INSERT,
	ST_USER_GET,
	ST_USER_BY_NAME,
	ST_USER_LIST,
	ST_USER_UPDATE,
	ST_USER_DELETE,
	ST_TOKEN_INSERT,
	ST_TOKEN_GET,
	ST_TOKEN_LIST_USER,
	ST_TOKEN_LIST_ALL,
	ST_TOKEN_DELETE,
	ST_JOB_INSERT,
	ST_JOB_GET,
	ST_JOB_UPDATE,
	ST_JOB_DELETE,
	ST_JOB_COUNT,
	ST_RUN_PUT,
	ST_RUN_GET,
	ST_RUN_CHILDREN,
	ST_RUN_ACTIVE,
	ST_RUN_EXPIRED,
	ST_RUN_DELETE,
	ST_RUN_BY_TOKEN,
	ST_COUNTER_NEXT,
	ST_TRIGGER_PUT,
	ST_TRIGGER_DELETE,
	ST_TRIGGER_LIST,
	ST_SEQ_INIT,
	ST_SEQ_NEXT,
	ST_COUNT
};

#define USER_COLS  "id, user_name, display_name, active, admin, created_ms"
#define TOKEN_COLS "token_id, user_id, hash, comment, created_ms, expiry_ms, created_by"
#define JOB_COLS   "job_id, created_ms, creator, run_as, name_key, format, created_version, paged_len"
#define RUN_COLS   "run_id, job_id, parent_id, run_type, active, start_ms, idem_token, doc"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT op",
	[ST_RELEASE] = "RELEASE op",
	[ST_ROLLBACK_TO] = "ROLLBACK TO op",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
			"ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[ST_USER_INSERT] = "INSERT INTO users(user_name, display_name, active, admin, created_ms) "
			   "VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
	[ST_USER_BY_NAME] = "SELECT " USER_COLS " FROM users WHERE user_name = ?1",
	[ST_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY id",
	[ST_USER_UPDATE] =
		"UPDATE users SET display_name = ?2, active = ?3, admin = ?4 WHERE id = ?1",
	[ST_USER_DELETE] = "DELETE FROM users WHERE id = ?1",
	[ST_TOKEN_INSERT] =
		"INSERT INTO tokens(" TOKEN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM tokens WHERE token_id = ?1",
	[ST_TOKEN_LIST_USER] = "SELECT " TOKEN_COLS " FROM tokens WHERE user_id = ?1 "
			       "ORDER BY created_ms, token_id",
	[ST_TOKEN_LIST_ALL] = "SELECT " TOKEN_COLS " FROM tokens ORDER BY created_ms, token_id",
	[ST_TOKEN_DELETE] = "DELETE FROM tokens WHERE token_id = ?1",
	[ST_JOB_INSERT] = "INSERT INTO jobs(created_ms, creator, run_as, name_key, format, "
			  "created_version, paged_len, settings, settings_brief) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_JOB_GET] = "SELECT " JOB_COLS ", settings, settings_brief FROM jobs WHERE job_id = ?1",
	[ST_JOB_UPDATE] =
		"UPDATE jobs SET name_key = ?2, format = ?3, paged_len = ?4, settings = ?5, "
		"settings_brief = ?6, run_as = ?7 WHERE job_id = ?1",
	[ST_JOB_DELETE] = "DELETE FROM jobs WHERE job_id = ?1",
	[ST_JOB_COUNT] = "SELECT n FROM counters WHERE name = 'jobs'",
	/* An upsert on run_id only: OR REPLACE would also evict the row of a
	 * taken idempotency token, which must be a conflict instead. */
	[ST_RUN_PUT] = "INSERT INTO runs(" RUN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
		       "ON CONFLICT(run_id) DO UPDATE SET job_id = ?2, parent_id = ?3, "
		       "run_type = ?4, active = ?5, start_ms = ?6, idem_token = ?7, doc = ?8",
	[ST_RUN_GET] = "SELECT " RUN_COLS " FROM runs WHERE run_id = ?1",
	[ST_RUN_CHILDREN] = "SELECT " RUN_COLS " FROM runs WHERE parent_id = ?1 ORDER BY run_id",
	/* INDEXED BY: without statistics SQLite prefers the equality on
	 * runs_by_parent and reads every job run (130 ms at 200,000 runs, at
	 * each start); the partial index holds only the active ones. */
	[ST_RUN_ACTIVE] = "SELECT " RUN_COLS " FROM runs INDEXED BY runs_active "
			  "WHERE active = 1 AND parent_id = 0 ORDER BY run_id",
	[ST_RUN_EXPIRED] = "SELECT " RUN_COLS " FROM runs INDEXED BY runs_done_by_start "
			   "WHERE active = 0 AND parent_id = 0 AND start_ms <= ?1 "
			   "ORDER BY start_ms LIMIT ?2",
	[ST_RUN_DELETE] = "DELETE FROM runs WHERE run_id = ?1 OR parent_id = ?1",
	[ST_RUN_BY_TOKEN] = "SELECT run_id FROM runs WHERE idem_token = ?1",
	[ST_COUNTER_NEXT] = "INSERT INTO counters(name, n) VALUES (?1, 1) "
			    "ON CONFLICT(name) DO UPDATE SET n = n + 1 RETURNING n",
	[ST_TRIGGER_PUT] = "INSERT INTO triggers(job_id, last_ms, mark) VALUES (?1, ?2, ?3) "
			   "ON CONFLICT(job_id) DO UPDATE SET last_ms = ?2, mark = ?3",
	[ST_TRIGGER_DELETE] = "DELETE FROM triggers WHERE job_id = ?1",
	[ST_TRIGGER_LIST] = "SELECT job_id, last_ms, mark FROM triggers ORDER BY job_id",
	/* Job ids come from the jobs table's AUTOINCREMENT sequence, so an id
	 * reserved for a runs/submit run is never given to a job. */
	[ST_SEQ_INIT] = "INSERT INTO sqlite_sequence(name, seq) SELECT 'jobs', 0 "
			"WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'jobs')",
	[ST_SEQ_NEXT] = "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'jobs' RETURNING seq",
};

/* jobs/list statements, one per combination of filters (see job_list_sql). */
#define JOB_LIST_VARIANTS 12
/* runs/list statements: with a job filter or not, newest or oldest first. */
#define RUN_LIST_VARIANTS 4

struct conn {
	sqlite3 *db;
	sqlite3_stmt *stmts[ST_COUNT];
	sqlite3_stmt *job_list[JOB_LIST_VARIANTS];
	sqlite3_stmt *run_list[RUN_LIST_VARIANTS];
	struct conn *next; /* in the store's list of read connections */
	struct sqlite_store *owner;
};

struct sqlite_store {
	struct store base;
	char path[PATH_MAX];
	struct conn w;
	pthread_key_t reader_key;
	pthread_mutex_t readers_lock;
	struct conn *readers;
};

/* The store whose transaction this thread is inside, if any. */
static _Thread_local struct sqlite_store *tx_owner;

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE: return STORE_OK;
	case SQLITE_FULL: return STORE_EFULL;
	case SQLITE_IOERR: return (rc == SQLITE_IOERR_NOMEM) ? STORE_ENOMEM : STORE_EIO;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return STORE_EBUSY;
	case SQLITE_NOMEM: return STORE_ENOMEM;
	case SQLITE_CONSTRAINT:
		/* Only a taken unique key is a conflict; a broken foreign key is a bug. */
		return (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) ?
			       STORE_CONFLICT :
			       STORE_ERR;
	default: return STORE_ERR;
	}
}

static int fail(struct conn *c, int rc, const char *what)
{
	log_error("store: %s failed: %s (%d)", what, sqlite3_errmsg(c->db), rc);
	return map_rc(rc);
}

static void conn_close(struct conn *c)
{
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->stmts[i]);
	for (int i = 0; i < JOB_LIST_VARIANTS; i++)
		sqlite3_finalize(c->job_list[i]);
	for (int i = 0; i < RUN_LIST_VARIANTS; i++)
		sqlite3_finalize(c->run_list[i]);
	sqlite3_close(c->db);
	memset(c->stmts, 0, sizeof(c->stmts));
	memset(c->job_list, 0, sizeof(c->job_list));
	memset(c->run_list, 0, sizeof(c->run_list));
	c->db = NULL;
}

static int conn_exec(struct conn *c, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		log_error("store: '%.60s' failed: %s", sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return map_rc(rc);
	}
	return STORE_OK;
}

static int conn_open(struct conn *c, const char *path, bool writer)
{
	int flags = SQLITE_OPEN_NOMUTEX |
		    (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
	memset(c, 0, sizeof(*c));
	int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		log_error("store: cannot open '%s': %s", path,
			  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close(c->db);
		c->db = NULL;
		return map_rc(rc);
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, 5000);
	if (!writer && (rc = conn_exec(c, "PRAGMA query_only = ON")) != STORE_OK) {
		sqlite3_close(c->db);
		c->db = NULL;
		return rc;
	}
	return STORE_OK;
}

static sqlite3_stmt *stmt(struct conn *c, enum stmt_id id)
{
	if (!c->stmts[id]) {
		int rc = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					    &c->stmts[id], NULL);
		if (rc != SQLITE_OK) {
			fail(c, rc, stmt_sql[id]);
			return NULL;
		}
	}
	return c->stmts[id];
}

static void reader_destroy(void *p)
{
	struct conn *c = p;
	struct sqlite_store *s = c->owner;
	pthread_mutex_lock(&s->readers_lock);
	for (struct conn **pp = &s->readers; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&s->readers_lock);
	conn_close(c);
	free(c);
}

/* The connection this thread should use: the write connection inside a
 * transaction, else this thread's own read connection. */
static struct conn *conn_for(struct sqlite_store *s)
{
	if (tx_owner == s)
		return &s->w;
	struct conn *c = pthread_getspecific(s->reader_key);
	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (conn_open(c, s->path, false) != STORE_OK) {
		free(c);
		return NULL;
	}
	c->owner = s;
	pthread_mutex_lock(&s->readers_lock);
	c->next = s->readers;
	s->readers = c;
	pthread_mutex_unlock(&s->readers_lock);
	pthread_setspecific(s->reader_key, c);
	return c;
}

#define S(st) ((struct sqlite_store *)(st))

/* Runs a statement that returns no rows; resets it afterwards. */
static int step_done(struct conn *c, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return STORE_CONFLICT;
		return fail(c, rc, what);
	}
	return STORE_OK;
}

static int run_simple(struct sqlite_store *s, enum stmt_id id)
{
	sqlite3_stmt *q = stmt(&s->w, id);
	if (!q)
		return STORE_ERR;
	return step_done(&s->w, q, stmt_sql[id]);
}

/* --- transactions ------------------------------------------------------------ */

static int sq_begin(struct store *st)
{
	struct sqlite_store *s = S(st);
	int rc = run_simple(s, ST_BEGIN);
	if (rc == STORE_OK)
		tx_owner = s;
	return rc;
}

/* After a COMMIT whose sync failed, SQLite forgets the transaction in
 * memory but its frames, commit frame included, may still sit in the WAL
 * file: a crash before the next commit would replay them at the next open,
 * bringing back a write its client was told failed. A TRUNCATE checkpoint
 * copies only what the WAL index knows (earlier, durable commits) and
 * empties the file. If even that fails, say so loudly: the disk is failing. */
static void forget_failed_commit(struct sqlite_store *s)
{
	int logged = 0, ckpt = 0;
	int rc = sqlite3_wal_checkpoint_v2(s->w.db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &logged,
					   &ckpt);
	if (rc != SQLITE_OK)
		log_error("store: after a failed commit, the WAL could not be emptied (%s): a crash "
			  "now could bring that write back",
			  sqlite3_errstr(rc));
}

static int sq_commit(struct store *st)
{
	struct sqlite_store *s = S(st);
	int rc = run_simple(s, ST_COMMIT);
	if (rc != STORE_OK && !sqlite3_get_autocommit(s->w.db)) {
		/* A failed COMMIT (disk full, fsync error) can leave the transaction
		 * open; roll it back so the next batch starts clean. */
		run_simple(s, ST_ROLLBACK);
	}
	tx_owner = NULL;
	if (rc == STORE_EIO)
		forget_failed_commit(s);
	return rc;
}

static void sq_rollback(struct store *st)
{
	struct sqlite_store *s = S(st);
	if (!sqlite3_get_autocommit(s->w.db))
		run_simple(s, ST_ROLLBACK);
	tx_owner = NULL;
}

static bool sq_in_transaction(struct store *st) { return !sqlite3_get_autocommit(S(st)->w.db); }

static int sq_savepoint(struct store *st)
{
	/* Outside a transaction SAVEPOINT would open one of its own, and its
	 * RELEASE would commit: never let an op write outside the batch. */
	if (!sq_in_transaction(st))
		return STORE_ERR;
	return run_simple(S(st), ST_SAVEPOINT);
}
static void sq_savepoint_release(struct store *st) { run_simple(S(st), ST_RELEASE); }

static void sq_savepoint_rollback(struct store *st)
{
	/* ROLLBACK TO keeps the savepoint; release it so the names do not pile up. */
	run_simple(S(st), ST_ROLLBACK_TO);
	run_simple(S(st), ST_RELEASE);
}

/* --- helpers for rows ---------------------------------------------------------- */

static void copy_text(char *dst, size_t n, sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);
	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static char *dup_text(sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);
	return strdup(t ? (const char *)t : "");
}

/* --- meta -------------------------------------------------------------------- */

static int sq_meta_get(struct store *st, const char *key, char *buf, size_t buflen)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_META_GET) : NULL;
	if (!q)
		return STORE_ERR;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q), out;
	if (rc == SQLITE_ROW) {
		copy_text(buf, buflen, q, 0);
		out = STORE_OK;
	} else {
		out = rc == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, rc, "meta get");
	}
	sqlite3_reset(q);
	return out;
}

static int sq_meta_set(struct store *st, const char *key, const char *value)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_META_SET);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	return step_done(c, q, "meta set");
}

/* --- users ------------------------------------------------------------------- */

static void read_user(sqlite3_stmt *q, struct store_user *u)
{
	u->id = sqlite3_column_int64(q, 0);
	copy_text(u->name, sizeof(u->name), q, 1);
	copy_text(u->display_name, sizeof(u->display_name), q, 2);
	u->active = sqlite3_column_int(q, 3) != 0;
	u->admin = sqlite3_column_int(q, 4) != 0;
	u->created_ms = sqlite3_column_int64(q, 5);
}

static int sq_user_insert(struct store *st, struct store_user *u)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_USER_INSERT);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_text(q, 1, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, u->display_name, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, u->active);
	sqlite3_bind_int(q, 4, u->admin);
	sqlite3_bind_int64(q, 5, u->created_ms);
	int rc = step_done(c, q, "user insert");
	if (rc == STORE_OK)
		u->id = sqlite3_last_insert_rowid(c->db);
	return rc;
}

/* Runs a one-row user query whose ?1 is already bound. */
static int user_one(struct conn *c, sqlite3_stmt *q, struct store_user *out)
{
	int rc = sqlite3_step(q), res;
	if (rc == SQLITE_ROW) {
		read_user(q, out);
		res = STORE_OK;
	} else {
		res = rc == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, rc, "user get");
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return res;
}

static int sq_user_get(struct store *st, int64_t id, struct store_user *out)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_USER_GET) : NULL;
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, id);
	return user_one(c, q, out);
}

static int sq_user_get_by_name(struct store *st, const char *name, struct store_user *out)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_USER_BY_NAME) : NULL;
	if (!q)
		return STORE_ERR;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	return user_one(c, q, out);
}

static int sq_user_list(struct store *st, int (*cb)(void *, const struct store_user *), void *arg)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_USER_LIST) : NULL;
	if (!q)
		return STORE_ERR;
	int rc, res = STORE_OK;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_user u;
		read_user(q, &u);
		if (cb(arg, &u))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		res = fail(c, rc, "user list");
	sqlite3_reset(q);
	return res;
}

static int sq_user_update(struct store *st, const struct store_user *u)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_USER_UPDATE);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, u->id);
	sqlite3_bind_text(q, 2, u->display_name, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, u->active);
	sqlite3_bind_int(q, 4, u->admin);
	int rc = step_done(c, q, "user update");
	if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
		return STORE_NOT_FOUND;
	return rc;
}

static int sq_user_delete(struct store *st, int64_t id)
{
	struct conn *c = &S(st)->w;
	/* Tokens go with their user: the schema cascades, but only with
	 * foreign_keys on, which the write connection sets at open. */
	sqlite3_stmt *q = stmt(c, ST_USER_DELETE);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, id);
	int rc = step_done(c, q, "user delete");
	if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
		return STORE_NOT_FOUND;
	return rc;
}

/* --- tokens ------------------------------------------------------------------ */

static void read_token(sqlite3_stmt *q, struct store_token *t)
{
	copy_text(t->id, sizeof(t->id), q, 0);
	t->user_id = sqlite3_column_int64(q, 1);
	memset(t->hash, 0, sizeof(t->hash));
	int n = sqlite3_column_bytes(q, 2);
	const void *h = sqlite3_column_blob(q, 2);
	if (h && n == (int)sizeof(t->hash))
		memcpy(t->hash, h, sizeof(t->hash));
	copy_text(t->comment, sizeof(t->comment), q, 3);
	t->created_ms = sqlite3_column_int64(q, 4);
	t->expiry_ms = sqlite3_column_int64(q, 5);
	t->created_by = sqlite3_column_int64(q, 6);
}

static int sq_token_insert(struct store *st, const struct store_token *t)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_TOKEN_INSERT);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_text(q, 1, t->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, t->user_id);
	sqlite3_bind_blob(q, 3, t->hash, sizeof(t->hash), SQLITE_STATIC);
	sqlite3_bind_text(q, 4, t->comment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, t->created_ms);
	sqlite3_bind_int64(q, 6, t->expiry_ms);
	sqlite3_bind_int64(q, 7, t->created_by);
	return step_done(c, q, "token insert");
}

static int sq_token_get(struct store *st, const char *id, struct store_token *out)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_TOKEN_GET) : NULL;
	if (!q)
		return STORE_ERR;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q), res;
	if (rc == SQLITE_ROW) {
		read_token(q, out);
		res = STORE_OK;
	} else {
		res = rc == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, rc, "token get");
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return res;
}

static int sq_token_list(struct store *st, int64_t user_id,
			 int (*cb)(void *, const struct store_token *), void *arg)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, user_id < 0 ? ST_TOKEN_LIST_ALL : ST_TOKEN_LIST_USER) : NULL;
	if (!q)
		return STORE_ERR;
	if (user_id >= 0)
		sqlite3_bind_int64(q, 1, user_id);
	int rc, res = STORE_OK;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_token t;
		read_token(q, &t);
		if (cb(arg, &t))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		res = fail(c, rc, "token list");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return res;
}

static int sq_token_delete(struct store *st, const char *id)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_TOKEN_DELETE);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	int rc = step_done(c, q, "token delete");
	if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
		return STORE_NOT_FOUND;
	return rc;
}

/* --- jobs -------------------------------------------------------------------- */

/* Copies JOB_COLS and then, from column 8 on, the settings columns present. */
static int read_job(sqlite3_stmt *q, struct store_job *j, bool full, bool brief)
{
	memset(j, 0, sizeof(*j));
	j->job_id = sqlite3_column_int64(q, 0);
	j->created_ms = sqlite3_column_int64(q, 1);
	j->creator = dup_text(q, 2);
	j->run_as = dup_text(q, 3);
	j->name_key = dup_text(q, 4);
	j->format = sqlite3_column_int(q, 5);
	j->created_version = sqlite3_column_int(q, 6);
	j->paged_len = sqlite3_column_int(q, 7);
	int col = 8;
	if (full)
		j->settings = dup_text(q, col++);
	if (brief)
		j->settings_brief = dup_text(q, col++);
	if (!j->creator || !j->run_as || !j->name_key || (full && !j->settings) ||
	    (brief && !j->settings_brief)) {
		store_job_release(j);
		return STORE_ENOMEM;
	}
	return STORE_OK;
}

static void bind_job_settings(sqlite3_stmt *q, const struct store_job *j, int first)
{
	sqlite3_bind_text(q, first, j->name_key, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, first + 1, j->format);
	sqlite3_bind_int(q, first + 2, j->paged_len);
	sqlite3_bind_text(q, first + 3, j->settings, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, first + 4, j->settings_brief, -1, SQLITE_STATIC);
}

static int sq_job_insert(struct store *st, struct store_job *j)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_JOB_INSERT);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, j->created_ms);
	sqlite3_bind_text(q, 2, j->creator, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, j->run_as, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, j->name_key, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 5, j->format);
	sqlite3_bind_int(q, 6, j->created_version);
	sqlite3_bind_int(q, 7, j->paged_len);
	sqlite3_bind_text(q, 8, j->settings, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 9, j->settings_brief, -1, SQLITE_STATIC);
	int rc = step_done(c, q, "job insert");
	if (rc == STORE_OK)
		j->job_id = sqlite3_last_insert_rowid(c->db);
	return rc;
}

static int sq_job_get(struct store *st, int64_t job_id, struct store_job *out)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_JOB_GET) : NULL;
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, job_id);
	int rc = sqlite3_step(q), res;
	if (rc == SQLITE_ROW)
		res = read_job(q, out, true, true);
	else
		res = rc == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, rc, "job get");
	sqlite3_reset(q);
	return res;
}

static int sq_job_update(struct store *st, const struct store_job *j)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_JOB_UPDATE);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, j->job_id);
	bind_job_settings(q, j, 2);
	sqlite3_bind_text(q, 7, j->run_as, -1, SQLITE_STATIC);
	int rc = step_done(c, q, "job update");
	if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
		return STORE_NOT_FOUND;
	return rc;
}

static int sq_job_delete(struct store *st, int64_t job_id)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_JOB_DELETE);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, job_id);
	int rc = step_done(c, q, "job delete");
	if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
		return STORE_NOT_FOUND;
	return rc;
}

static int sq_job_count(struct store *st, int64_t *count)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_JOB_COUNT) : NULL;
	if (!q)
		return STORE_ERR;
	int rc = sqlite3_step(q), res = STORE_OK;
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(q, 0);
	else
		res = fail(c, rc, "job count");
	sqlite3_reset(q);
	return res;
}

/* The list statement for one combination of filters: name filter or not,
 * direction (none / below_id / above_id), full settings or brief. Built once
 * per connection; separate statements let SQLite use the right index. */
static sqlite3_stmt *job_list_stmt(struct conn *c, const struct store_job_query *qr)
{
	int dir = qr->below_id > 0 ? 1 : qr->above_id > 0 ? 2 : 0;
	int slot = (qr->name_key ? 1 : 0) + 2 * dir + 6 * (qr->full_settings ? 1 : 0);
	if (c->job_list[slot])
		return c->job_list[slot];
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT " JOB_COLS ", %s FROM jobs WHERE %s %s %s ORDER BY job_id %s "
		 "LIMIT ?3 OFFSET ?4",
		 qr->full_settings ? "settings" : "settings_brief",
		 qr->name_key ? "name_key = ?1" : "?1 IS NULL", dir ? "AND" : "",
		 dir == 1   ? "job_id < ?2"
		 : dir == 2 ? "job_id > ?2"
			    : "",
		 dir == 2 ? "ASC" : "DESC");
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->job_list[slot],
				    NULL);
	if (rc != SQLITE_OK) {
		fail(c, rc, "job list prepare");
		return NULL;
	}
	return c->job_list[slot];
}

static int sq_job_list(struct store *st, const struct store_job_query *qr,
		       int (*cb)(void *, const struct store_job *), void *arg)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? job_list_stmt(c, qr) : NULL;
	if (!q)
		return STORE_ERR;
	if (qr->name_key)
		sqlite3_bind_text(q, 1, qr->name_key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 1);
	sqlite3_bind_int64(q, 2, qr->below_id > 0 ? qr->below_id : qr->above_id);
	sqlite3_bind_int(q, 3, qr->limit);
	sqlite3_bind_int64(q, 4, qr->offset);
	int rc, res = STORE_OK;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		/* The row's strings are lent, not copied: they live until the
		 * next step, which is what the callback contract promises. */
		struct store_job j = {
			.job_id = sqlite3_column_int64(q, 0),
			.created_ms = sqlite3_column_int64(q, 1),
			.creator = (char *)sqlite3_column_text(q, 2),
			.run_as = (char *)sqlite3_column_text(q, 3),
			.name_key = (char *)sqlite3_column_text(q, 4),
			.format = sqlite3_column_int(q, 5),
			.created_version = sqlite3_column_int(q, 6),
			.paged_len = sqlite3_column_int(q, 7),
		};
		char *text = (char *)sqlite3_column_text(q, 8);
		if (qr->full_settings)
			j.settings = text;
		else
			j.settings_brief = text;
		if (!j.creator || !j.run_as || !j.name_key || !text) {
			res = STORE_ENOMEM;
			break;
		}
		if (cb(arg, &j))
			break;
	}
	if (res == STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		res = fail(c, rc, "job list");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return res;
}

/* --- runs -------------------------------------------------------------------- */

/* A row lent from the statement: valid until the next step. */
static struct store_run lend_run(sqlite3_stmt *q)
{
	return (struct store_run){
		.run_id = sqlite3_column_int64(q, 0),
		.job_id = sqlite3_column_int64(q, 1),
		.parent_id = sqlite3_column_int64(q, 2),
		.run_type = sqlite3_column_int(q, 3),
		.active = sqlite3_column_int(q, 4) != 0,
		.start_ms = sqlite3_column_int64(q, 5),
		.idem_token = (char *)sqlite3_column_text(q, 6),
		.doc = (char *)sqlite3_column_text(q, 7),
	};
}

static int sq_run_put(struct store *st, const struct store_run *r)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_RUN_PUT);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, r->run_id);
	sqlite3_bind_int64(q, 2, r->job_id);
	sqlite3_bind_int64(q, 3, r->parent_id);
	sqlite3_bind_int(q, 4, r->run_type);
	sqlite3_bind_int(q, 5, r->active ? 1 : 0);
	sqlite3_bind_int64(q, 6, r->start_ms);
	if (r->idem_token)
		sqlite3_bind_text(q, 7, r->idem_token, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 7);
	sqlite3_bind_text(q, 8, r->doc, -1, SQLITE_STATIC);
	return step_done(c, q, "run put");
}

static int sq_run_get(struct store *st, int64_t run_id, struct store_run *out)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_RUN_GET) : NULL;
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, run_id);
	int rc = sqlite3_step(q), res = STORE_OK;
	if (rc == SQLITE_ROW) {
		*out = lend_run(q);
		out->idem_token = out->idem_token ? strdup(out->idem_token) : NULL;
		out->doc = out->doc ? strdup(out->doc) : NULL;
		if (!out->doc) {
			store_run_release(out);
			res = STORE_ENOMEM;
		}
	} else {
		res = rc == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, rc, "run get");
	}
	sqlite3_reset(q);
	return res;
}

/* Steps q, lending each row to cb until it returns non-zero. */
static int each_run(struct conn *c, sqlite3_stmt *q, int (*cb)(void *, const struct store_run *),
		    void *arg, const char *what)
{
	int rc, res = STORE_OK;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_run r = lend_run(q);
		if (!r.doc) {
			res = STORE_ENOMEM;
			break;
		}
		if (cb(arg, &r))
			break;
	}
	if (res == STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		res = fail(c, rc, what);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return res;
}

static int sq_run_children(struct store *st, int64_t parent_id,
			   int (*cb)(void *, const struct store_run *), void *arg)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_RUN_CHILDREN) : NULL;
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, parent_id);
	return each_run(c, q, cb, arg, "run children");
}

static int sq_run_list_active(struct store *st, int (*cb)(void *, const struct store_run *),
			      void *arg)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_RUN_ACTIVE) : NULL;
	if (!q)
		return STORE_ERR;
	return each_run(c, q, cb, arg, "active runs");
}

static int sq_run_list_expired(struct store *st, int64_t before_ms, int limit,
			       int (*cb)(void *, const struct store_run *), void *arg)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_RUN_EXPIRED) : NULL;
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, before_ms);
	sqlite3_bind_int(q, 2, limit);
	return each_run(c, q, cb, arg, "expired runs");
}

static sqlite3_stmt *run_list_stmt(struct conn *c, bool by_job, bool up)
{
	int slot = by_job + 2 * up;
	if (c->run_list[slot])
		return c->run_list[slot];
	/* Unset filters are bound as NULL; "?N IS NULL OR ..." keeps one
	 * statement per index choice (the job filter). */
	char sql[720];
	snprintf(sql, sizeof(sql),
		 "SELECT " RUN_COLS " FROM runs WHERE parent_id = 0 %s "
		 "AND (?2 IS NULL OR active = ?2) AND (?3 IS NULL OR run_type = ?3) "
		 "AND (?4 IS NULL OR start_ms >= ?4) AND (?5 IS NULL OR start_ms <= ?5) "
		 "AND (?6 IS NULL OR run_id < ?6) AND (?9 IS NULL OR run_id > ?9) "
		 "ORDER BY run_id %s LIMIT ?7 OFFSET ?8",
		 by_job ? "AND job_id = ?1" : "AND ?1 IS NULL", up ? "ASC" : "DESC");
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->run_list[slot],
				    NULL);
	if (rc != SQLITE_OK) {
		fail(c, rc, "run list prepare");
		return NULL;
	}
	return c->run_list[slot];
}

static void bind_opt(sqlite3_stmt *q, int i, bool set, int64_t v)
{
	if (set)
		sqlite3_bind_int64(q, i, v);
	else
		sqlite3_bind_null(q, i);
}

static int sq_run_list(struct store *st, const struct store_run_query *qr,
		       int (*cb)(void *, const struct store_run *), void *arg)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? run_list_stmt(c, qr->job_id >= 0, qr->above_id > 0) : NULL;
	if (!q)
		return STORE_ERR;
	bind_opt(q, 1, qr->job_id >= 0, qr->job_id);
	bind_opt(q, 2, qr->active >= 0, qr->active);
	bind_opt(q, 3, qr->run_type >= 0, qr->run_type);
	bind_opt(q, 4, qr->start_from > 0, qr->start_from);
	bind_opt(q, 5, qr->start_to > 0, qr->start_to);
	bind_opt(q, 6, qr->below_id > 0, qr->below_id);
	sqlite3_bind_int(q, 7, qr->limit);
	sqlite3_bind_int64(q, 8, qr->offset);
	bind_opt(q, 9, qr->above_id > 0, qr->above_id);
	return each_run(c, q, cb, arg, "run list");
}

static int sq_run_delete(struct store *st, int64_t run_id)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_RUN_DELETE);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, run_id);
	int rc = step_done(c, q, "run delete");
	if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
		return STORE_NOT_FOUND;
	return rc;
}

static int sq_trigger_put(struct store *st, const struct store_trigger *t)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_TRIGGER_PUT);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, t->job_id);
	sqlite3_bind_int64(q, 2, t->last_ms);
	sqlite3_bind_int64(q, 3, t->mark);
	return step_done(c, q, "trigger put");
}

static int sq_trigger_delete(struct store *st, int64_t job_id)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_TRIGGER_DELETE);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_int64(q, 1, job_id);
	return step_done(c, q, "trigger delete");
}

static int sq_trigger_list(struct store *st, int (*cb)(void *, const struct store_trigger *),
			   void *arg)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_TRIGGER_LIST) : NULL;
	int rc, res = STORE_OK;
	if (!q)
		return STORE_ERR;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_trigger t = {sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
					  sqlite3_column_int64(q, 2)};
		if (cb(arg, &t))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		res = fail(c, rc, "trigger list");
	sqlite3_reset(q);
	return res;
}

/* Runs a statement that yields one integer. */
static int one_int(struct conn *c, sqlite3_stmt *q, int64_t *out, const char *what)
{
	int rc = sqlite3_step(q), res = STORE_OK;
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(q, 0);
	else
		res = rc == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, rc, what);
	/* Step to the end so that an UPDATE ... RETURNING completes. */
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return res;
}

static int sq_run_by_token(struct store *st, const char *token, int64_t *run_id)
{
	struct conn *c = conn_for(S(st));
	sqlite3_stmt *q = c ? stmt(c, ST_RUN_BY_TOKEN) : NULL;
	if (!q)
		return STORE_ERR;
	sqlite3_bind_text(q, 1, token, -1, SQLITE_STATIC);
	return one_int(c, q, run_id, "run by token");
}

static int sq_counter_next(struct store *st, const char *name, int64_t *out)
{
	struct conn *c = &S(st)->w;
	sqlite3_stmt *q = stmt(c, ST_COUNTER_NEXT);
	if (!q)
		return STORE_ERR;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	return one_int(c, q, out, "counter");
}

static int sq_job_reserve_id(struct store *st, int64_t *out)
{
	struct conn *c = &S(st)->w;
	int rc = run_simple(S(st), ST_SEQ_INIT);
	sqlite3_stmt *q = rc == STORE_OK ? stmt(c, ST_SEQ_NEXT) : NULL;
	if (!q)
		return rc == STORE_OK ? STORE_ERR : rc;
	return one_int(c, q, out, "job id");
}

/* --- open / close ------------------------------------------------------------ */

static int migrate(struct sqlite_store *s)
{
	sqlite3_stmt *q;
	int version = 0;
	if (sqlite3_prepare_v2(s->w.db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			version = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	int latest = (int)(sizeof(migrations) / sizeof(migrations[0]));
	if (version > latest) {
		log_error("store: database schema version %d is newer than this jobsd (%d)",
			  version, latest);
		return STORE_ERR;
	}
	for (int v = version; v < latest; v++) {
		char bump[64];
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
		int rc = conn_exec(&s->w, "BEGIN IMMEDIATE");
		if (rc == STORE_OK)
			rc = conn_exec(&s->w, migrations[v]);
		if (rc == STORE_OK)
			rc = conn_exec(&s->w, bump);
		if (rc == STORE_OK)
			rc = conn_exec(&s->w, "COMMIT");
		if (rc != STORE_OK) {
			conn_exec(&s->w, "ROLLBACK");
			log_error("store: migration %d failed", v + 1);
			return rc;
		}
		log_info("store: applied schema migration %d", v + 1);
	}
	return STORE_OK;
}

/* Must run after every other thread that read from the store has exited
 * (main.c stops the HTTP server and the engine first): a reader thread
 * exiting during close would free its connection a second time. */
static void sq_close(struct store *st)
{
	struct sqlite_store *s = S(st);
	if (tx_owner == s)
		tx_owner = NULL;
	pthread_mutex_lock(&s->readers_lock);
	struct conn *c = s->readers;
	s->readers = NULL;
	pthread_mutex_unlock(&s->readers_lock);
	while (c) {
		struct conn *next = c->next;
		conn_close(c);
		free(c);
		c = next;
	}
	/* The calling thread may hold a (now freed) reader in its key slot;
	 * deleting the key makes sure no destructor ever sees it. */
	pthread_key_delete(s->reader_key);
	pthread_mutex_destroy(&s->readers_lock);
	conn_close(&s->w);
	free(s);
}

static const struct store_backend sqlite_backend = {
	.name = "sqlite",
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.savepoint = sq_savepoint,
	.savepoint_release = sq_savepoint_release,
	.savepoint_rollback = sq_savepoint_rollback,
	.in_transaction = sq_in_transaction,
	.meta_get = sq_meta_get,
	.meta_set = sq_meta_set,
	.user_insert = sq_user_insert,
	.user_get = sq_user_get,
	.user_get_by_name = sq_user_get_by_name,
	.user_list = sq_user_list,
	.user_update = sq_user_update,
	.user_delete = sq_user_delete,
	.token_insert = sq_token_insert,
	.token_get = sq_token_get,
	.token_list = sq_token_list,
	.token_delete = sq_token_delete,
	.job_insert = sq_job_insert,
	.job_get = sq_job_get,
	.job_update = sq_job_update,
	.job_delete = sq_job_delete,
	.job_count = sq_job_count,
	.job_list = sq_job_list,
	.run_put = sq_run_put,
	.run_get = sq_run_get,
	.run_children = sq_run_children,
	.run_list = sq_run_list,
	.run_list_active = sq_run_list_active,
	.run_list_expired = sq_run_list_expired,
	.run_delete = sq_run_delete,
	.run_by_token = sq_run_by_token,
	.counter_next = sq_counter_next,
	.job_reserve_id = sq_job_reserve_id,
	.trigger_put = sq_trigger_put,
	.trigger_delete = sq_trigger_delete,
	.trigger_list = sq_trigger_list,
};

int store_open_sqlite(struct store **out, const char *data_dir, char *err, size_t errlen)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return STORE_ENOMEM;
	}
	s->base.ops = &sqlite_backend;
	if (snprintf(s->path, sizeof(s->path), "%s/jobsd.db", data_dir) >= (int)sizeof(s->path)) {
		snprintf(err, errlen, "data dir path too long");
		free(s);
		return STORE_ERR;
	}
	if (pthread_key_create(&s->reader_key, reader_destroy) != 0) {
		snprintf(err, errlen, "cannot create thread key");
		free(s);
		return STORE_ERR;
	}
	pthread_mutex_init(&s->readers_lock, NULL);

	int rc = conn_open(&s->w, s->path, true);
	if (rc == STORE_OK) {
		/* WAL lets readers run beside the writer; FULL syncs the WAL at every
		 * commit, which is what makes a 200 answer durable. */
		rc = conn_exec(&s->w, "PRAGMA journal_mode = WAL");
		if (rc == STORE_OK)
			rc = conn_exec(&s->w, "PRAGMA synchronous = FULL");
		if (rc == STORE_OK)
			rc = conn_exec(&s->w, "PRAGMA foreign_keys = ON");
		if (rc == STORE_OK)
			rc = migrate(s);
	}
	if (rc != STORE_OK) {
		snprintf(err, errlen, "cannot open database '%s': %s", s->path,
			 s->w.db ? sqlite3_errmsg(s->w.db) : store_rc_name(rc));
		sq_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return STORE_OK;
}
