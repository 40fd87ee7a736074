/* internal.h - what the endpoint files of src/api share: the per-request call,
 * replies, argument parsing, deferred writes and route tables.
 *
 * A call lives from routing until the HTTP request is finished. Reads answer
 * at once with reply_*. Writes call call_write(): the write function then
 * runs on the engine thread inside the group-commit transaction and records
 * its answer with set_reply/set_error; the answer is sent only after the
 * transaction committed (a failed commit turns it into 503).
 */
#ifndef JOBSD_API_INTERNAL_H
#define JOBSD_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "engine/engine.h"
#include "model/error.h"
#include "model/job.h"
#include "store/store.h"

struct auth_cache;
struct route;

struct api {
	struct store *store;
	struct engine *engine;
	struct workspace *workspace;
	struct runs *runs;
	struct sched *sched;
	const struct config *config;
	const struct clock *clock;
	struct job_limits limits;
	_Atomic bool ready;
	struct auth_cache *auth_cache;
	_Atomic uint64_t auth_generation; /* bumped after writes that revoke access */
};

struct call {
	struct api *api;
	struct http_request *req;
	int version;		/* 20, 21 or 22 */
	struct store_user user; /* who is calling */
	json_t *body;		/* the JSON body (an object), or NULL */
	const char *rest;	/* after a prefix route: the rest of the path */
	const struct route *route; /* set when the headers phase routed the call */

	/* A deferred write (call_write). */
	struct engine_op op;
	int (*write)(struct call *c, struct store *st);
	void *data; /* the endpoint's state for its write, freed with the call */
	void (*data_free)(void *);
	int status;
	json_t *reply;
	bool auth_changed; /* set by a write that can revoke access (auth.c) */
};

/* --- replies: each sends the HTTP response (reads) ---------------------------- */
void reply_json(struct call *c, int status, json_t *value); /* steals value */
void reply_empty(struct call *c);			    /* 200 {} */
void reply_error(struct call *c, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void reply_model_error(struct call *c, const struct model_error *err);
/* A store failure on a read: 503 when the disk or database is unavailable. */
void reply_store_error(struct call *c, int rc);

/* --- answers recorded by a write function (engine thread) ------------------------ */
void set_reply(struct call *c, int status, json_t *value); /* steals value */
int set_error(struct call *c, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int set_store_error(struct call *c, int rc);
/* An error of the run engine (engine/runs.h); a 429 gets its Retry-After. */
int set_run_error(struct call *c, const struct model_error *err);

/* Defers the request and hands write() to the engine. write returns 0 to
 * keep its changes; non-zero undoes them (it should have set an error). */
void call_write(struct call *c, int (*write)(struct call *c, struct store *st));

/* --- arguments: from the JSON body, else the query string --------------------------
 * Each returns 0 when found, 1 when absent and not required, and -1 after
 * replying with an error naming the argument. */
int arg_int64(struct call *c, const char *name, bool required, int64_t *out);
int arg_bool(struct call *c, const char *name, bool *out);
int arg_string(struct call *c, const char *name, bool required, const char **out);

/* --- page tokens (jobs.c) ------------------------------------------------------------
 * Opaque to clients: base64url of "<kind><number>". */
char *page_token_make(char kind, int64_t n); /* malloc'd */
/* 0 with *kind (one of kinds) and *n <= max; else replies 400 and -1. */
int page_token_read(struct call *c, const char *token, const char *kinds, int64_t max, char *kind,
		    int64_t *n);

/* --- runs as read from the store (runs.c) ---------------------------------------------
 * A run as the store holds it (model/run_doc.h). For a job run: the latest
 * attempt of each task in the order of its tasks, and every attempt, oldest
 * first. */
struct run_read {
	json_t *doc;
	int64_t job_id;
	int64_t parent;	     /* a task run: its job run; 0 for a job run */
	const json_t *order; /* the run's settings.tasks (borrowed from doc) */
	json_t *tasks;
	json_t *attempts;
};

/* STORE_OK, STORE_NOT_FOUND or a store failure; r must be freed either way. */
int run_read(struct store *st, int64_t id, struct run_read *r);
void run_read_free(struct run_read *r);
/* Whether a job run has the 2.0 single-task format (its one task stands for it). */
bool run_single_task(const json_t *job_doc);

/* --- authentication (auth.c) -------------------------------------------------------- */
/* 0 when the call carries a valid bearer token (c->user is set); otherwise
 * replies 401 (no credentials) or 403 (bad ones) and returns -1. */
int authenticate(struct call *c);
int auth_cache_create(struct auth_cache **out);
void auth_cache_free(struct auth_cache *cache);
/* Forgets every cached verification; called after a committed write that
 * may have revoked a token or a user. */
void api_auth_changed(struct api *api);

/* The current time from the api's clock, ms. */
int64_t call_now_ms(const struct call *c);

/* --- routes ------------------------------------------------------------------------ */
enum route_versions { V20 = 1, V21 = 2, V22 = 4, VALL = V20 | V21 | V22 };
enum route_flags {
	ROUTE_PREFIX = 1,   /* path matches a prefix; call->rest gets the remainder */
	ROUTE_ADMIN = 2,    /* only admins */
	ROUTE_RAW_BODY = 4, /* do not parse the body as JSON (the endpoint does) */
};

struct route {
	const char *method;
	const char *path; /* after /api/<version>/ */
	unsigned versions;
	void (*fn)(struct call *c);
	unsigned flags;
};

/* Route tables of the endpoint files, each ended by a route with path NULL. */
extern const struct route jobs_routes[];
extern const struct route token_routes[];
extern const struct route scim_routes[];
extern const struct route workspace_routes[];
extern const struct route runs_routes[];

#endif
