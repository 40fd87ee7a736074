/* jobs.c - jobs/create, get, list, update, reset, delete (API 2.0-2.2).
 *
 * Validation and JSON work happen on the HTTP thread before a write is
 * handed to the engine; update is the exception, because it must read the
 * current settings and write the merged ones atomically, so its merge runs
 * inside the engine's transaction. Reads go to the store directly.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "config.h"
#include "engine/runs.h"
#include "engine/sched.h"
#include "http/server.h"
#include "util/base64.h"
#include "util/log.h"
#include "util/strbuf.h"

/* --- rows <-> JSON ----------------------------------------------------------- */

struct job_write {
	struct store_job job;
	int64_t job_id;
	const json_t *new_settings, *fields_to_remove; /* borrowed from the body */
};

static void job_write_free(void *p)
{
	struct job_write *w = p;
	if (!w)
		return;
	store_job_release(&w->job);
	free(w);
}

/* Fills the derived columns of a row from normalized settings. creator is
 * the run-as user when the settings name none; NULL leaves run_as NULL for
 * the caller to fill (reset learns the creator only inside its write). */
static void row_from_settings(struct store_job *j, json_t *settings, const char *creator)
{
	free(j->settings);
	free(j->settings_brief);
	free(j->name_key);
	free(j->run_as);
	job_settings_texts(settings, &j->settings, &j->settings_brief);
	j->name_key = job_name_key(settings);
	const char *run_as = job_run_as_user(settings, creator);
	j->run_as = run_as ? strdup(run_as) : NULL;
	j->format = job_settings_format(settings);
	j->paged_len = job_settings_paged_len(settings);
	if (!j->name_key || (run_as && !j->run_as))
		abort();
}

static json_t *parse_stored(const char *text)
{
	/* What json_dumps wrote, this must read: a NUL in a string is stored
	 * as \u0000, which the strict default parser refuses. */
	json_t *v = json_loads(text, JSON_ALLOW_NUL, NULL);
	if (!v) {
		log_error("jobs: stored settings are not valid JSON");
		v = json_object();
	}
	return v;
}

/* Responses can be large (a list of jobs with their tasks) but not unbounded. */
#define MAX_RESPONSE (512u << 20)

/* Appends the settings of j as API `version` shows them. The stored text
 * goes out as it is whenever no reshaping is needed, which is the common
 * case and costs no parsing; 2.0's single-task view and 2.2's paging of
 * large arrays go through the model. *more: later pages hold more. */
static int append_settings(struct strbuf *sb, const struct store_job *j, const char *stored,
			   int version, long page, bool *more)
{
	*more = false;
	bool flatten = version == 20 && j->format == JOB_FORMAT_SINGLE_TASK;
	bool paging = version == 22 && (page > 0 || j->paged_len > JOB_PAGE_SIZE);
	if (!flatten && !paging)
		return strbuf_puts(sb, stored);
	json_t *s = parse_stored(stored), *e = job_settings_emit(s, version);
	json_decref(s);
	if (paging) {
		json_t *paged = job_settings_page(e, page, more);
		json_decref(e);
		e = paged;
	}
	char *text = json_dumps(e, JSON_COMPACT);
	json_decref(e);
	if (!text)
		abort(); /* out of memory */
	int rc = strbuf_puts(sb, text);
	free(text);
	return rc;
}

/* The Job of jobs/get (with_run_as) or the BaseJob of jobs/list, without
 * its closing brace so that callers can add members. */
static int append_job(struct strbuf *sb, const struct store_job *j, const char *stored, int version,
		      long page, bool with_run_as, bool *more)
{
	int rc = strbuf_printf(sb, "{\"job_id\":%" PRId64 ",\"creator_user_name\":", j->job_id);
	rc |= strbuf_json_string(sb, j->creator);
	if (with_run_as) {
		rc |= strbuf_puts(sb, ",\"run_as_user_name\":");
		rc |= strbuf_json_string(sb, j->run_as);
	}
	rc |= strbuf_puts(sb, ",\"settings\":");
	rc |= append_settings(sb, j, stored, version, page, more);
	rc |= strbuf_printf(sb, ",\"created_time\":%" PRId64, j->created_ms);
	return rc;
}

static void reply_text(struct call *c, struct strbuf *sb, int rc)
{
	if (rc) {
		strbuf_release(sb);
		return reply_error(
			c, 500, "INTERNAL_ERROR",
			"The response would be larger than %u bytes; ask for fewer items",
			MAX_RESPONSE);
	}
	size_t len;
	char *body = strbuf_detach(sb, &len);
	http_respond(c->req, 200, NULL, body, len);
}

/* run_as names the user a job's runs execute as: an existing, active user,
 * and for anyone but an admin only the caller themself. jobsd has no
 * service principals or groups to run as. 0, or -1 with err set. */
static int check_run_as(struct call *c, struct store *st, const json_t *settings,
			struct model_error *err)
{
	json_t *ra = json_object_get(settings, "run_as");
	if (!ra)
		return 0;
	if (!json_object_get(ra, "user_name"))
		return model_fail(err, 400, MODEL_INVALID,
				  "run_as: jobsd has no service principals or groups to run as; "
				  "set run_as.user_name");
	const char *name = json_string_value(json_object_get(ra, "user_name"));
	struct store_user u;
	int rc = store_user_get_by_name(st, name, &u);
	if (rc == STORE_NOT_FOUND || (rc == STORE_OK && !u.active))
		return model_fail(err, 400, MODEL_INVALID,
				  "run_as.user_name '%.200s' is not an active user", name);
	if (rc != STORE_OK)
		return model_fail(err, 503, "TEMPORARILY_UNAVAILABLE",
				  "The server's database is unavailable; the request changed nothing");
	if (!c->user.admin && u.id != c->user.id)
		return model_fail(err, 403, "PERMISSION_DENIED",
				  "Only admins may make a job run as another user ('%.200s')", name);
	return 0;
}

static void reply_no_job(struct call *c, int64_t id)
{
	/* SDKs match this text to raise ResourceDoesNotExist. */
	reply_error(c, 400, MODEL_INVALID, "Job %" PRId64 " does not exist.", id);
}

/* --- page tokens ------------------------------------------------------------------
 * Opaque to clients: base64url of "<kind><number>". jobs/get pages arrays
 * ("g<page>"); jobs/list pages by keyset on job_id, newest first: "n<id>"
 * continues below id, "p<id>" goes back above id. */

char *page_token_make(char kind, int64_t n)
{
	char raw[32];
	int len = snprintf(raw, sizeof(raw), "%c%" PRId64, kind, n);
	return base64url_encode(raw, (size_t)len);
}

int page_token_read(struct call *c, const char *token, const char *kinds, int64_t max,
		    char *kind, int64_t *n)
{
	unsigned char *raw = NULL;
	size_t len = 0;
	char *end = NULL;
	bool ok = base64url_decode(token, &raw, &len) == 0 && len >= 2 && raw[0] &&
		  strchr(kinds, raw[0]) != NULL && raw[1] >= '0' && raw[1] <= '9';
	if (ok) {
		*kind = (char)raw[0];
		errno = 0;
		*n = strtoll((char *)raw + 1, &end, 10);
		ok = !errno && end == (char *)raw + len && *n <= max;
	}
	free(raw);
	if (!ok)
		reply_error(c, 400, MODEL_INVALID, "Invalid page_token '%.64s'", token);
	return ok ? 0 : -1;
}

/* --- create ---------------------------------------------------------------------- */

/* The job's schedule or trigger follows its saved settings at once. */
static int follow_triggers(struct call *c, struct store *st, int64_t job_id, const json_t *settings)
{
	struct model_error err;
	if (!c->api->sched || sched_job_saved(c->api->sched, st, job_id, settings, &err) == 0)
		return 0;
	return set_error(c, err.status, err.code, "%s", err.message);
}

static int create_write(struct call *c, struct store *st)
{
	struct job_write *w = c->data;
	int64_t n;
	int rc = store_job_count(st, &n);
	if (rc != STORE_OK)
		return set_store_error(c, rc);
	if (n >= c->api->config->max_saved_jobs)
		return set_error(c, 400, "RESOURCE_LIMIT_EXCEEDED",
				 "The workspace already holds %" PRId64
				 " jobs, the most it may hold (max_saved_jobs); delete jobs first",
				 n);
	struct model_error err;
	if (runs_creation_allowed(c->api->runs, &err) != 0)
		return set_run_error(c, &err);
	rc = store_job_insert(st, &w->job);
	if (rc != STORE_OK)
		return set_store_error(c, rc);
	json_t *settings = json_loads(w->job.settings, 0, NULL);
	rc = settings ? follow_triggers(c, st, w->job.job_id, settings) : 0;
	json_decref(settings);
	if (rc)
		return -1;
	json_t *r = json_object();
	json_object_set_new(r, "job_id", json_integer(w->job.job_id));
	set_reply(c, 200, r);
	return 0;
}

static void jobs_create(struct call *c)
{
	/* Permissions come with a later issue; the list is accepted, not kept. */
	json_object_del(c->body, "access_control_list");
	json_t *settings;
	enum job_format format;
	struct model_error err;
	if (job_settings_parse(json_incref(c->body), c->version, "", JOB_CREATE, &c->api->limits,
			       &settings, &format, &err))
		return reply_model_error(c, &err);
	if (check_run_as(c, c->api->store, settings, &err)) {
		json_decref(settings);
		return reply_model_error(c, &err);
	}
	struct job_write *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	w->job.created_ms = call_now_ms(c);
	w->job.creator = strdup(c->user.name);
	w->job.created_version = c->version;
	row_from_settings(&w->job, settings, c->user.name);
	json_decref(settings);
	c->data = w;
	c->data_free = job_write_free;
	call_write(c, create_write);
}

/* --- get ------------------------------------------------------------------------- */

static void jobs_get(struct call *c)
{
	int64_t id;
	const char *token = NULL;
	if (arg_int64(c, "job_id", true, &id) < 0 || arg_string(c, "page_token", false, &token) < 0)
		return;
	int64_t page = 0;
	char kind;
	if (token && *token && page_token_read(c, token, "g", JOB_MAX_PAGE, &kind, &page))
		return;
	struct store_job j;
	int rc = store_job_get(c->api->store, id, &j);
	if (rc == STORE_NOT_FOUND)
		return reply_no_job(c, id);
	if (rc != STORE_OK)
		return reply_store_error(c, rc);
	struct strbuf sb;
	strbuf_init(&sb, MAX_RESPONSE);
	bool more;
	rc = append_job(&sb, &j, j.settings, c->version, (long)page, true, &more);
	if (more) {
		char *next = page_token_make('g', page + 1);
		rc |= strbuf_printf(&sb, ",\"next_page_token\":\"%s\",\"has_more\":true", next);
		free(next);
	}
	rc |= strbuf_puts(&sb, "}");
	store_job_release(&j);
	reply_text(c, &sb, rc);
}

/* --- list ------------------------------------------------------------------------ */

/* One page of jobs/list, rendered as the store hands the rows over. */
struct list_ctx {
	int version;
	bool full;
	struct strbuf *sb;
	int limit, n, rc;
	bool extra; /* a row beyond the limit exists: there is a next page */
	int64_t newest, oldest;
};

static int list_row(void *arg, const struct store_job *j)
{
	struct list_ctx *l = arg;
	if (l->n == l->limit) {
		l->extra = true;
		return 1;
	}
	if (l->n == 0)
		l->newest = j->job_id;
	l->oldest = j->job_id;
	bool more = false;
	l->rc |= strbuf_puts(l->sb, l->n++ ? "," : "{\"jobs\":[");
	/* List items are paged like jobs/get's first page (2.2, expand_tasks). */
	l->rc |= append_job(l->sb, j, l->full ? j->settings : j->settings_brief, l->version, 0,
			    false, &more);
	if (more)
		l->rc |= strbuf_puts(l->sb, ",\"has_more\":true");
	l->rc |= strbuf_puts(l->sb, "}");
	return 0;
}

/* The ids of a page reached backwards ("p" token), oldest first. */
struct id_list {
	int64_t ids[101];
	int n;
};

static int collect_id(void *arg, const struct store_job *j)
{
	struct id_list *l = arg;
	l->ids[l->n++] = j->job_id;
	return l->n == (int)(sizeof(l->ids) / sizeof(l->ids[0]));
}

/* Reads the list arguments. limit: 2.0 lists everything unless asked; 2.1+
 * default 20, oversize values are clamped to 100 (AppKit sends 100). */
static int list_args(struct call *c, struct store_job_query *q, bool *expand, char *dir,
		     int64_t *anchor)
{
	int64_t limit = 0, offset = 0;
	const char *token = NULL, *name = NULL;
	*expand = false;
	*dir = 0;
	if (arg_int64(c, "limit", false, &limit) < 0 ||
	    arg_int64(c, "offset", false, &offset) < 0 || arg_bool(c, "expand_tasks", expand) < 0 ||
	    arg_string(c, "page_token", false, &token) < 0 ||
	    arg_string(c, "name", false, &name) < 0)
		return -1;
	if (limit < 0 || offset < 0) {
		reply_error(c, 400, MODEL_INVALID, "Invalid %s %" PRId64 ": must not be negative",
			    limit < 0 ? "limit" : "offset", limit < 0 ? limit : offset);
		return -1;
	}
	/* 2.0 lists everything unless asked; 2.1+ pages at most 100. The
	 * store takes an int and asks for one more row than the page. */
	if (limit == 0 || limit > INT32_MAX - 1)
		limit = (c->version == 20 || limit) ? INT32_MAX - 1 : 20;
	if (limit > 100 && c->version != 20)
		limit = 100;
	q->limit = (int)limit;
	q->offset = offset;
	if (token && *token) {
		if (page_token_read(c, token, "np", INT64_MAX, dir, anchor))
			return -1;
		q->offset = 0;
		if (*dir == 'n')
			q->below_id = *anchor;
		else
			q->above_id = *anchor;
	}
	if (name && *name) {
		json_t *tmp = json_object();
		json_object_set_new(tmp, "name", json_string(name));
		q->name_key = job_name_key(tmp); /* freed by the caller */
		json_decref(tmp);
	}
	q->full_settings = *expand || c->version == 20;
	return 0;
}

/* Going back (a "p" token): finds the page's ids above the anchor, then
 * lists that page forward like any other. *has_prev: newer pages remain. */
static int back_to_forward(struct call *c, struct store_job_query *q, int *limit,
			   bool *has_prev)
{
	struct id_list ids = {.n = 0};
	q->limit = *limit + 1;
	int rc = store_job_list(c->api->store, q, collect_id, &ids);
	if (rc != STORE_OK) {
		reply_store_error(c, rc);
		return -1;
	}
	*has_prev = ids.n > *limit;
	*limit = ids.n < *limit ? ids.n : *limit;
	q->above_id = 0;
	q->below_id = *limit ? ids.ids[*limit - 1] + 1 : 1; /* 1: nothing below */
	return 0;
}

static void jobs_list(struct call *c)
{
	struct store_job_query q = {0};
	bool expand, has_prev;
	char dir;
	int64_t anchor = 0;
	if (list_args(c, &q, &expand, &dir, &anchor))
		return;
	int limit = q.limit;
	has_prev = dir == 'n' || q.offset > 0;
	if (dir == 'p' && limit > 100)
		limit = 100; /* pages reached by token are at most 100 (2.1+) */
	if (dir == 'p' && back_to_forward(c, &q, &limit, &has_prev)) {
		free((char *)q.name_key);
		return;
	}
	struct strbuf sb;
	strbuf_init(&sb, MAX_RESPONSE);
	struct list_ctx l = {.version = c->version, .full = q.full_settings, .sb = &sb,
			     .limit = limit};
	q.limit = limit + 1; /* one more tells whether there is a next page */
	int rc = limit > 0 ? store_job_list(c->api->store, &q, list_row, &l) : STORE_OK;
	free((char *)q.name_key);
	if (rc != STORE_OK) {
		strbuf_release(&sb);
		return reply_store_error(c, rc);
	}
	int out = l.rc;
	if (l.n == 0)
		out |= strbuf_puts(&sb, "{\"has_more\":false");
	else
		out |= strbuf_printf(&sb, "],\"has_more\":%s", l.extra ? "true" : "false");
	if (l.n > 0 && l.extra) {
		char *t = page_token_make('n', l.oldest);
		out |= strbuf_printf(&sb, ",\"next_page_token\":\"%s\"", t);
		free(t);
	}
	if (l.n > 0 && has_prev) {
		char *t = page_token_make('p', l.newest);
		out |= strbuf_printf(&sb, ",\"prev_page_token\":\"%s\"", t);
		free(t);
	}
	out |= strbuf_puts(&sb, "}");
	reply_text(c, &sb, out);
}

/* --- update, reset, delete --------------------------------------------------------- */

static int get_for_write(struct call *c, struct store *st, int64_t id, struct store_job *j)
{
	int rc = store_job_get(st, id, j);
	if (rc == STORE_NOT_FOUND)
		return set_error(c, 400, MODEL_INVALID, "Job %" PRId64 " does not exist.", id);
	if (rc != STORE_OK)
		return set_store_error(c, rc);
	return 0;
}

static int update_write(struct call *c, struct store *st)
{
	struct job_write *w = c->data;
	if (get_for_write(c, st, w->job_id, &w->job))
		return -1;
	json_t *current = parse_stored(w->job.settings), *merged;
	enum job_format format;
	struct model_error err;
	int rc = job_settings_update(current, (enum job_format)w->job.format, w->new_settings,
				     w->fields_to_remove, c->version, &c->api->limits, &merged,
				     &format, &err);
	json_decref(current);
	if (rc == 0 && json_object_get(w->new_settings, "run_as") &&
	    check_run_as(c, st, merged, &err)) {
		json_decref(merged);
		rc = -1;
	}
	if (rc)
		return set_error(c, err.status, err.code, "%s", err.message);
	row_from_settings(&w->job, merged, w->job.creator);
	rc = store_job_update(st, &w->job);
	if (rc != STORE_OK) {
		json_decref(merged);
		return set_store_error(c, rc);
	}
	if (follow_triggers(c, st, w->job_id, merged)) {
		json_decref(merged);
		return -1;
	}
	/* The timeout and the concurrency limit reach runs already there. */
	runs_job_changed(c->api->runs, st, w->job_id, merged);
	json_decref(merged);
	set_reply(c, 200, json_object());
	return 0;
}

static void jobs_update(struct call *c)
{
	struct job_write *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	c->data = w;
	c->data_free = job_write_free;
	if (arg_int64(c, "job_id", true, &w->job_id) < 0)
		return;
	w->new_settings = json_object_get(c->body, "new_settings");
	w->fields_to_remove = json_object_get(c->body, "fields_to_remove");
	if (json_is_null(w->new_settings))
		w->new_settings = NULL;
	if (json_is_null(w->fields_to_remove))
		w->fields_to_remove = NULL;
	call_write(c, update_write);
}

static int reset_write(struct call *c, struct store *st)
{
	struct job_write *w = c->data;
	struct store_job cur;
	if (get_for_write(c, st, w->job_id, &cur))
		return -1;
	w->job.job_id = w->job_id;
	/* Without run_as in the new settings, runs go as the job's creator. */
	if (!w->job.run_as && !(w->job.run_as = strdup(cur.creator)))
		abort();
	store_job_release(&cur);
	int rc = store_job_update(st, &w->job);
	if (rc != STORE_OK)
		return set_store_error(c, rc);
	json_t *settings = json_loads(w->job.settings, 0, NULL);
	if (settings && follow_triggers(c, st, w->job_id, settings)) {
		json_decref(settings);
		return -1;
	}
	if (settings)
		runs_job_changed(c->api->runs, st, w->job_id, settings);
	json_decref(settings);
	set_reply(c, 200, json_object());
	return 0;
}

static void jobs_reset(struct call *c)
{
	struct job_write *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	c->data = w;
	c->data_free = job_write_free;
	if (arg_int64(c, "job_id", true, &w->job_id) < 0)
		return;
	json_t *ns = json_object_get(c->body, "new_settings");
	if (!ns || json_is_null(ns))
		return reply_error(c, 400, MODEL_INVALID, "Missing required field: new_settings");
	json_t *settings;
	enum job_format format;
	struct model_error err;
	if (job_settings_parse(json_incref(ns), c->version, "new_settings", JOB_RESET,
			       &c->api->limits, &settings, &format, &err))
		return reply_model_error(c, &err);
	if (check_run_as(c, c->api->store, settings, &err)) {
		json_decref(settings);
		return reply_model_error(c, &err);
	}
	row_from_settings(&w->job, settings, NULL);
	json_decref(settings);
	call_write(c, reset_write);
}

static int delete_write(struct call *c, struct store *st)
{
	struct job_write *w = c->data;
	int rc = store_job_delete(st, w->job_id);
	/* The 2.0 documentation makes deleting a removed job a no-op; later
	 * versions report the unknown id like every other call. */
	if (rc == STORE_NOT_FOUND && c->version != 20)
		return set_error(c, 400, MODEL_INVALID, "Job %" PRId64 " does not exist.",
				 w->job_id);
	if (rc != STORE_OK && rc != STORE_NOT_FOUND)
		return set_store_error(c, rc);
	/* The job's active runs are cancelled, asynchronously, as the service does. */
	if (rc == STORE_OK) {
		runs_cancel_all(c->api->runs, st, w->job_id, false);
		if (c->api->sched)
			sched_job_deleted(c->api->sched, w->job_id);
	}
	set_reply(c, 200, json_object());
	return 0;
}

static void jobs_delete(struct call *c)
{
	struct job_write *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	c->data = w;
	c->data_free = job_write_free;
	if (arg_int64(c, "job_id", true, &w->job_id) < 0)
		return;
	call_write(c, delete_write);
}

/* Endpoints of the Jobs API that later versions of jobsd implement: they
 * answer 501 with a message saying so, never a misleading 404 or a fake. */
static void not_yet(struct call *c)
{
	reply_error(c, 501, "NOT_IMPLEMENTED",
		    "%s %s is part of the Jobs API but this jobsd does not implement it yet "
		    "(see the compatibility table in README.md)",
		    http_method(c->req), http_path(c->req));
}

const struct route jobs_routes[] = {
	{"POST", "jobs/create", VALL, jobs_create, 0},
	{"GET", "jobs/get", VALL, jobs_get, 0},
	{"GET", "jobs/list", VALL, jobs_list, 0},
	{"POST", "jobs/update", VALL, jobs_update, 0},
	{"POST", "jobs/reset", VALL, jobs_reset, 0},
	{"POST", "jobs/delete", VALL, jobs_delete, 0},
	{"GET", "permissions/jobs/", V20, not_yet, ROUTE_PREFIX},
	{"PUT", "permissions/jobs/", V20, not_yet, ROUTE_PREFIX | ROUTE_RAW_BODY},
	{"PATCH", "permissions/jobs/", V20, not_yet, ROUTE_PREFIX | ROUTE_RAW_BODY},
	{"POST", "policies/jobs/enforce-compliance", V20, not_yet, ROUTE_RAW_BODY},
	{"GET", "policies/jobs/get-compliance", V20, not_yet, 0},
	{"GET", "policies/jobs/list-compliance", V20, not_yet, 0},
	{NULL, NULL, 0, NULL, 0},
};
