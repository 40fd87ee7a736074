/* store.h - the one interface to jobsd's durable state.
 *
 * Backends (sqlite.c now, postgres.c later) implement struct store_backend;
 * callers only use the store_* functions below and never see SQL.
 *
 * Threads and transactions:
 * - Writes happen on one thread only, the engine thread (engine.h), between
 *   store_begin() and store_commit(). The engine batches many API writes into
 *   one transaction (group commit) and wraps each in a savepoint so that one
 *   failing write does not undo its neighbours.
 * - Reads may be called from any thread. A thread inside a transaction reads
 *   through the write connection (and so sees the batch's own changes); every
 *   other thread reads through its own read-only connection, which sees the
 *   last committed state.
 * - store_commit() returns only once the transaction is durable (WAL,
 *   synchronous=FULL). A failed commit (disk full, fsync error) is reported,
 *   never hidden, and leaves nothing half-written.
 *
 * Return codes: STORE_OK, or STORE_NOT_FOUND / STORE_CONFLICT for the expected
 * outcomes, or a negative STORE_E* code for failures. Strings in returned
 * structs are owned by the struct and freed by its _release function.
 */
#ifndef JOBSD_STORE_STORE_H
#define JOBSD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_rc {
	STORE_OK = 0,
	STORE_NOT_FOUND = 1, /* the row does not exist */
	STORE_CONFLICT = 2,  /* a unique key is taken */
	STORE_ERR = -1,	     /* anything else; logged by the backend */
	STORE_EFULL = -2,    /* disk or database full: refuse writes, keep serving reads */
	STORE_EIO = -3,	     /* I/O error, including a failed fsync */
	STORE_EBUSY = -4,    /* locked by someone else */
	STORE_ENOMEM = -5,
};

const char *store_rc_name(int rc);

struct store;

/* Opens (creating if needed) the store in data_dir and applies pending schema
 * migrations. On failure returns a negative code and a message in err. */
int store_open_sqlite(struct store **out, const char *data_dir, char *err, size_t errlen);
void store_close(struct store *st);

/* --- transactions: engine thread only --------------------------------------- */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
int store_savepoint(struct store *st);
void store_savepoint_release(struct store *st);
void store_savepoint_rollback(struct store *st);
/* Whether the transaction begun by store_begin is still open: a backend may
 * abort a whole transaction on an I/O error, and the engine must know. */
bool store_in_transaction(struct store *st);

/* --- key/value metadata ------------------------------------------------------ */
/* Copies the value into buf; STORE_NOT_FOUND if unset. */
int store_meta_get(struct store *st, const char *key, char *buf, size_t buflen);
int store_meta_set(struct store *st, const char *key, const char *value);

/* --- users ------------------------------------------------------------------- */
struct store_user {
	int64_t id;
	char name[256]; /* userName; unique, compared case-insensitively */
	char display_name[256];
	bool active;
	bool admin;
	int64_t created_ms;
};

/* Sets u->id. STORE_CONFLICT if the name is taken. */
int store_user_insert(struct store *st, struct store_user *u);
int store_user_get(struct store *st, int64_t id, struct store_user *out);
int store_user_get_by_name(struct store *st, const char *name, struct store_user *out);
/* Calls cb for each user in id order until cb returns non-zero. */
int store_user_list(struct store *st, int (*cb)(void *arg, const struct store_user *u), void *arg);
/* Updates display_name, active and admin of user u->id. */
int store_user_update(struct store *st, const struct store_user *u);
/* Deleting a user also deletes its tokens. */
int store_user_delete(struct store *st, int64_t id);

/* --- tokens ------------------------------------------------------------------ */
struct store_token {
	char id[17];	    /* public id, see auth/token.h */
	int64_t user_id;    /* owner: the user the token authenticates */
	int64_t created_by; /* who made it: the owner, or an admin on its behalf */
	uint8_t hash[32];
	int64_t created_ms;
	int64_t expiry_ms; /* -1: never expires */
	char comment[1024];
};

int store_token_insert(struct store *st, const struct store_token *t);
int store_token_get(struct store *st, const char *id, struct store_token *out);
/* user_id < 0 lists every user's tokens. */
int store_token_list(struct store *st, int64_t user_id,
		     int (*cb)(void *arg, const struct store_token *t), void *arg);
int store_token_delete(struct store *st, const char *id);

/* --- jobs -------------------------------------------------------------------- */
struct store_job {
	int64_t job_id;
	int64_t created_ms;
	char *creator;
	char *run_as;
	int format;	      /* model/job.h enum job_format */
	int created_version;  /* API version of the create call: 20, 21 or 22 */
	int paged_len;	      /* longest of the arrays that 2.2 pages (tasks, ...) */
	char *name_key;	      /* lower-cased name, for the list filter */
	char *settings;	      /* normalized JobSettings JSON (model/job.h) */
	char *settings_brief; /* the same without tasks and job_clusters */
};

void store_job_release(struct store_job *j);

/* Inserts j (job_id ignored) and sets j->job_id. Ids are never reused. */
int store_job_insert(struct store *st, struct store_job *j);
/* Fetches one job; out must be released. */
int store_job_get(struct store *st, int64_t job_id, struct store_job *out);
/* Replaces settings, name_key, format and paged_len of an existing job. */
int store_job_update(struct store *st, const struct store_job *j);
int store_job_delete(struct store *st, int64_t job_id);
int store_job_count(struct store *st, int64_t *count);

struct store_job_query {
	const char *name_key; /* NULL: any name; else exact match on name_key */
	int64_t below_id;     /* > 0: only jobs with job_id < below_id (newest first) */
	int64_t above_id;     /* > 0: only jobs with job_id > above_id, oldest first */
	int64_t offset;
	int limit;	    /* rows to return */
	bool full_settings; /* fill settings (else only settings_brief) */
};

/* Calls cb for each job, newest first (oldest first with above_id), until cb
 * returns non-zero. The job passed to cb is valid only during the call. */
int store_job_list(struct store *st, const struct store_job_query *q,
		   int (*cb)(void *arg, const struct store_job *j), void *arg);

/* --- runs ---------------------------------------------------------------------
 * A job run and each of its task runs (one per attempt) are rows of their own,
 * each with its own run id from one sequence. The row is a few indexed columns
 * plus `doc`, the run as the engine serializes it (engine/runs.c); the store
 * never looks inside. */
struct store_run {
	int64_t run_id;
	int64_t job_id;
	int64_t parent_id; /* 0: a job run; else the job run of this task run */
	int run_type;	   /* model/run.h enum run_type */
	bool active;	   /* not terminal yet */
	int64_t start_ms;
	char *idem_token;  /* job runs: the idempotency token, or NULL */
	char *doc;
};

void store_run_release(struct store_run *r);

/* Inserts or replaces the row of r->run_id. STORE_CONFLICT if the token is
 * taken by another run. */
int store_run_put(struct store *st, const struct store_run *r);
int store_run_get(struct store *st, int64_t run_id, struct store_run *out);
/* The task runs of a job run, in run id order. The row passed to cb is valid
 * only during the call. */
int store_run_children(struct store *st, int64_t parent_id,
		       int (*cb)(void *arg, const struct store_run *r), void *arg);

struct store_run_query {
	int64_t job_id;		/* < 0: every job */
	int active;		/* -1 any, 1 active only, 0 completed only */
	int run_type;		/* -1 any */
	int64_t start_from;	/* >= this start_ms (0: no bound) */
	int64_t start_to;	/* <= this start_ms (0: no bound) */
	int64_t below_id;	/* > 0: only run_id < below_id */
	int64_t above_id;	/* > 0: only run_id > above_id, oldest first */
	int64_t offset;
	int limit;
};

/* Job runs matching q, newest first (oldest first with above_id). Rows lent
 * to cb as above. */
int store_run_list(struct store *st, const struct store_run_query *q,
		   int (*cb)(void *arg, const struct store_run *r), void *arg);
/* Every job run that is not terminal (start-up recovery). */
int store_run_list_active(struct store *st, int (*cb)(void *arg, const struct store_run *r),
			  void *arg);
/* Finished job runs that started at or before before_ms, oldest first, at
 * most limit (the retention sweep). */
int store_run_list_expired(struct store *st, int64_t before_ms, int limit,
			   int (*cb)(void *arg, const struct store_run *r), void *arg);
/* Deletes a run and its task runs. */
int store_run_delete(struct store *st, int64_t run_id);
/* The job run holding token; STORE_NOT_FOUND if none. */
int store_run_by_token(struct store *st, const char *token, int64_t *run_id);

/* Next value of a named counter (run ids, per-job run numbers), starting at 1. */
int store_counter_next(struct store *st, const char *name, int64_t *out);
/* A job id that no job will ever get (the job of a runs/submit run). */
int store_job_reserve_id(struct store *st, int64_t *out);

/* --- the scheduler's journal ----------------------------------------------------
 * One row per job with a trigger (engine/sched.c): what has been fired, so a
 * restart neither fires an instant twice nor forgets one. Deleting the job
 * deletes its row. */
struct store_trigger {
	int64_t job_id;
	int64_t last_ms; /* the last instant fired, or since when the trigger counts */
	int64_t mark;	 /* file arrival: the newest file change already triggered (ns) */
};

int store_trigger_put(struct store *st, const struct store_trigger *t);
int store_trigger_delete(struct store *st, int64_t job_id);
/* Every row, by job id; cb returns non-zero to stop. */
int store_trigger_list(struct store *st, int (*cb)(void *arg, const struct store_trigger *t),
		       void *arg);

/* --- the backend table --------------------------------------------------------- */
struct store_backend {
	const char *name;
	void (*close)(struct store *st);
	int (*begin)(struct store *st);
	int (*commit)(struct store *st);
	void (*rollback)(struct store *st);
	int (*savepoint)(struct store *st);
	void (*savepoint_release)(struct store *st);
	void (*savepoint_rollback)(struct store *st);
	bool (*in_transaction)(struct store *st);
	int (*meta_get)(struct store *st, const char *key, char *buf, size_t buflen);
	int (*meta_set)(struct store *st, const char *key, const char *value);
	int (*user_insert)(struct store *st, struct store_user *u);
	int (*user_get)(struct store *st, int64_t id, struct store_user *out);
	int (*user_get_by_name)(struct store *st, const char *name, struct store_user *out);
	int (*user_list)(struct store *st, int (*cb)(void *, const struct store_user *), void *arg);
	int (*user_update)(struct store *st, const struct store_user *u);
	int (*user_delete)(struct store *st, int64_t id);
	int (*token_insert)(struct store *st, const struct store_token *t);
	int (*token_get)(struct store *st, const char *id, struct store_token *out);
	int (*token_list)(struct store *st, int64_t user_id,
			  int (*cb)(void *, const struct store_token *), void *arg);
	int (*token_delete)(struct store *st, const char *id);
	int (*job_insert)(struct store *st, struct store_job *j);
	int (*job_get)(struct store *st, int64_t job_id, struct store_job *out);
	int (*job_update)(struct store *st, const struct store_job *j);
	int (*job_delete)(struct store *st, int64_t job_id);
	int (*job_count)(struct store *st, int64_t *count);
	int (*job_list)(struct store *st, const struct store_job_query *q,
			int (*cb)(void *, const struct store_job *), void *arg);
	int (*run_put)(struct store *st, const struct store_run *r);
	int (*run_get)(struct store *st, int64_t run_id, struct store_run *out);
	int (*run_children)(struct store *st, int64_t parent_id,
			    int (*cb)(void *, const struct store_run *), void *arg);
	int (*run_list)(struct store *st, const struct store_run_query *q,
			int (*cb)(void *, const struct store_run *), void *arg);
	int (*run_list_active)(struct store *st, int (*cb)(void *, const struct store_run *),
			       void *arg);
	int (*run_list_expired)(struct store *st, int64_t before_ms, int limit,
				int (*cb)(void *, const struct store_run *), void *arg);
	int (*run_delete)(struct store *st, int64_t run_id);
	int (*run_by_token)(struct store *st, const char *token, int64_t *run_id);
	int (*counter_next)(struct store *st, const char *name, int64_t *out);
	int (*job_reserve_id)(struct store *st, int64_t *out);
	int (*trigger_put)(struct store *st, const struct store_trigger *t);
	int (*trigger_delete)(struct store *st, int64_t job_id);
	int (*trigger_list)(struct store *st, int (*cb)(void *, const struct store_trigger *),
			    void *arg);
};

/* Every backend's state begins with this. */
struct store {
	const struct store_backend *ops;
};

#endif
