/* runs.c - the Jobs API's run endpoints: jobs/run-now, runs/submit, get,
 * list, get-output, export, cancel, cancel-all, delete (reference §1, §2.4,
 * §2.5).
 *
 * Writes go to the run engine (engine/runs.h) on the engine thread through
 * call_write; reads come from the store, which holds every run as the
 * engine's document (model/run_doc.h), and from the attempt folders
 * (logs, exit value, errors) for get-output and export.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "config.h"
#include "engine/runs.h"
#include "http/server.h"
#include "model/run_doc.h"
#include "util/fsio.h"
#include "util/strbuf.h"
#include "util/utf8.h"

/* get-output returns at most this much of the exit value and of the logs. */
#define OUTPUT_MAX (5L * 1024 * 1024)
/* The JSON form of each legacy parameter field ({"jar_params":[...]}). */
#define LEGACY_PARAMS_MAX 10000
#define IDEM_TOKEN_MAX 64

/* internal.h: shared with jobs/create, which counts against the hourly limit. */
int set_run_error(struct call *c, const struct model_error *err)
{
	if (err->status == 429) {
		char s[16];
		snprintf(s, sizeof(s), "%d", runs_retry_after(c->api->runs));
		http_add_header(c->req, "Retry-After", s);
	}
	return set_error(c, err->status, err->code, "%s", err->message);
}

static void reply_no_run(struct call *c, int64_t id)
{
	/* SDKs match this text. */
	reply_error(c, 400, MODEL_INVALID, "Run %" PRId64 " does not exist.", id);
}

/* --- run-now parameters ------------------------------------------------------------- */

enum shape { ARRAY_OF_STRINGS, OBJECT_OF_STRINGS };

static const struct legacy {
	const char *name;
	enum shape shape;
	bool ascii;
} legacy_fields[] = {
	{"notebook_params", OBJECT_OF_STRINGS, false},
	{"python_params", ARRAY_OF_STRINGS, true},
	{"jar_params", ARRAY_OF_STRINGS, false},
	{"spark_submit_params", ARRAY_OF_STRINGS, true},
	{"python_named_params", OBJECT_OF_STRINGS, false},
	{"sql_params", OBJECT_OF_STRINGS, false},
	{"dbt_commands", ARRAY_OF_STRINGS, false},
};

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s > 127)
			return false;
	return true;
}

/* Checks one value of a legacy field: a string (ASCII where required). */
static int check_string(const json_t *v, const char *field, const char *at, bool ascii,
			struct model_error *err)
{
	if (!json_is_string(v))
		return model_fail(err, 400, MODEL_INVALID, "%s%s must be a string", field, at);
	if (ascii && !is_ascii(json_string_value(v)))
		return model_fail(err, 400, MODEL_INVALID,
				  "%s%s: only ASCII characters are allowed in %s", field, at, field);
	return 0;
}

static int check_legacy(const json_t *body, const struct legacy *l, struct model_error *err)
{
	json_t *v = json_object_get(body, l->name);
	if (!v || json_is_null(v))
		return 0;
	if (l->shape == ARRAY_OF_STRINGS && !json_is_array(v))
		return model_fail(err, 400, MODEL_INVALID, "%s must be an array of strings", l->name);
	if (l->shape == OBJECT_OF_STRINGS && !json_is_object(v))
		return model_fail(err, 400, MODEL_INVALID, "%s must be an object of strings", l->name);
	char at[300];
	if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			snprintf(at, sizeof(at), "[%zu]", i);
			if (check_string(e, l->name, at, l->ascii, err))
				return -1;
		}
	} else {
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e) {
			snprintf(at, sizeof(at), ".%.200s", k);
			if (check_string(e, l->name, at, l->ascii, err))
				return -1;
		}
	}
	json_t *wrapped = json_pack("{s:O}", l->name, v);
	char *text = json_dumps(wrapped, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	free(text);
	json_decref(wrapped);
	if (len > LEGACY_PARAMS_MAX)
		return model_fail(err, 400, MODEL_INVALID,
				  "%s is %zu bytes in JSON; at most %d bytes are allowed", l->name,
				  len, LEGACY_PARAMS_MAX);
	return 0;
}

/* The run-now (and, later, repair) parameters: their shapes and limits; the
 * legacy ones present are copied into *overrides. */
static int check_params(const json_t *body, json_t **overrides, struct model_error *err)
{
	*overrides = json_object();
	for (size_t i = 0; i < sizeof(legacy_fields) / sizeof(legacy_fields[0]); i++) {
		const struct legacy *l = &legacy_fields[i];
		if (check_legacy(body, l, err))
			return -1;
		json_t *v = json_object_get(body, l->name);
		if (v && !json_is_null(v))
			json_object_set(*overrides, l->name, v);
	}
	if (json_object_get(*overrides, "jar_params") && json_object_get(*overrides, "notebook_params"))
		return model_fail(err, 400, MODEL_INVALID,
				  "jar_params and notebook_params cannot be given together");
	json_t *jp = json_object_get(body, "job_parameters");
	if (jp && !json_is_null(jp)) {
		static const struct legacy l = {"job_parameters", OBJECT_OF_STRINGS, false};
		if (check_legacy(body, &l, err))
			return -1;
		if (json_object_size(*overrides))
			return model_fail(err, 400, MODEL_INVALID,
					  "job_parameters cannot be used together with the legacy "
					  "task parameters (notebook_params, python_params, ...)");
	}
	return 0;
}

static int check_token(const json_t *body, const char **token, struct model_error *err)
{
	json_t *t = json_object_get(body, "idempotency_token");
	*token = NULL;
	if (!t || json_is_null(t))
		return 0;
	if (!json_is_string(t))
		return model_fail(err, 400, MODEL_INVALID, "idempotency_token must be a string");
	if (json_string_length(t) > IDEM_TOKEN_MAX)
		return model_fail(err, 400, MODEL_INVALID,
				  "idempotency_token is %zu characters long; at most %d are "
				  "allowed",
				  json_string_length(t), IDEM_TOKEN_MAX);
	*token = json_string_value(t);
	return 0;
}

/* --- run-now ------------------------------------------------------------------------- */

struct run_write {
	int64_t job_id;
	json_t *settings; /* submit */
	json_t *overrides;
	const char *token;
	int64_t run_id;
	bool all_queued;
	/* runs/cancel, runs/delete: what to do with run_id */
	int (*act)(struct runs *rs, struct store *st, int64_t run_id, struct model_error *err);
};

static void run_write_free(void *p)
{
	struct run_write *w = p;
	json_decref(w->settings);
	json_decref(w->overrides);
	free(w);
}

static struct run_write *new_write(struct call *c)
{
	struct run_write *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	c->data = w;
	c->data_free = run_write_free;
	return w;
}

static int run_now_write(struct call *c, struct store *st)
{
	struct run_write *w = c->data;
	struct store_job job;
	int rc = store_job_get(st, w->job_id, &job);
	if (rc == STORE_NOT_FOUND)
		return set_error(c, 400, MODEL_INVALID, "Job %" PRId64 " does not exist.",
				 w->job_id);
	if (rc != STORE_OK)
		return set_store_error(c, rc);
	json_t *settings = json_loads(job.settings, 0, NULL);
	store_job_release(&job);
	if (!settings)
		return set_error(c, 500, "INTERNAL_ERROR", "The job's settings cannot be read");
	struct run_request rq = {
		.job_id = w->job_id,
		.settings = settings,
		.creator = c->user.name,
		.type = RUN_TYPE_JOB_RUN,
		.trigger = TRIGGER_ONE_TIME,
		.job_params = json_object_get(c->body, "job_parameters"),
		.overrides = json_object_size(w->overrides) ? w->overrides : NULL,
		.idem_token = w->token,
		.queue = json_is_object(json_object_get(c->body, "queue")) ?
				 json_object_get(c->body, "queue") :
				 NULL,
	};
	int64_t id, number;
	struct model_error err;
	rc = runs_create(c->api->runs, st, &rq, &id, &number, &err);
	json_decref(settings);
	if (rc != 0)
		return set_run_error(c, &err);
	json_t *r = json_pack("{s:I, s:I}", "run_id", (json_int_t)id, "number_in_job",
			      (json_int_t)(c->version == 20 ? number : id));
	set_reply(c, 200, r);
	return 0;
}

static void run_now(struct call *c)
{
	struct run_write *w = new_write(c);
	struct model_error err;
	if (arg_int64(c, "job_id", true, &w->job_id) < 0)
		return;
	json_t *q = json_object_get(c->body, "queue");
	if (q && !json_is_null(q) &&
	    (!json_is_object(q) || !json_is_boolean(json_object_get(q, "enabled"))))
		return reply_error(c, 400, MODEL_INVALID,
				   "queue must be an object with a boolean 'enabled'");
	if (check_token(c->body, &w->token, &err) || check_params(c->body, &w->overrides, &err))
		return reply_model_error(c, &err);
	call_write(c, run_now_write);
}

/* --- submit -------------------------------------------------------------------------- */

static bool single_task_shape(const json_t *body)
{
	for (const char *const *k = job_task_kinds; *k; k++)
		if (json_object_get(body, *k))
			return true;
	return false;
}

/* The settings of a one-time run: the body, less what belongs to the
 * request, validated as jobs/create validates a job. The single-task shape
 * (a top-level notebook_task...) is read as 2.0 reads it in every version:
 * clients send it to 2.1 (seeds/002). */
static int submit_settings(struct call *c, json_t **settings, struct model_error *err)
{
	json_t *body = json_deep_copy(c->body);
	json_t *name = json_object_get(body, "run_name");
	if (name && !json_is_string(name) && !json_is_null(name)) {
		json_decref(body);
		return model_fail(err, 400, MODEL_INVALID, "run_name must be a string");
	}
	if (json_is_string(name))
		json_object_set(body, "name", name);
	static const char *const dropped[] = {"run_name", "idempotency_token",
					      "access_control_list", NULL};
	for (const char *const *k = dropped; *k; k++)
		json_object_del(body, *k);
	if (json_object_get(body, "job_clusters")) {
		json_decref(body);
		return model_fail(err, 400, MODEL_INVALID,
				  "job_clusters is not a field of runs/submit: give each task "
				  "its new_cluster");
	}
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(body, "tasks"), i, t) {
		if (json_object_get(t, "job_cluster_key")) {
			json_decref(body);
			return model_fail(err, 400, MODEL_INVALID,
					  "tasks[%zu].job_cluster_key is not allowed in runs/submit",
					  i);
		}
	}
	bool single = single_task_shape(body);
	int version = single ? 20 : c->version;
	if (!single && json_array_size(json_object_get(body, "tasks")) == 0) {
		json_decref(body);
		return model_fail(err, 400, MODEL_INVALID,
				  "tasks: a run needs at least one task");
	}
	enum job_format format;
	return job_settings_parse(body, version, "", JOB_RESET, &c->api->limits, settings,
				  &format, err);
}

static int submit_write(struct call *c, struct store *st)
{
	struct run_write *w = c->data;
	struct run_request rq = {
		.settings = w->settings,
		.creator = c->user.name,
		.run_name = json_string_value(json_object_get(c->body, "run_name")),
		.type = RUN_TYPE_SUBMIT_RUN,
		.trigger = TRIGGER_ONE_TIME,
		.idem_token = w->token,
	};
	if (!rq.run_name)
		rq.run_name = "Untitled";
	int64_t id, number;
	struct model_error err;
	/* runs/submit counts against the hourly creation limit, unless its
	 * token names a run already made (then nothing is created). */
	if ((!w->token || store_run_by_token(st, w->token, &id) != STORE_OK) &&
	    runs_creation_allowed(c->api->runs, &err) != 0)
		return set_run_error(c, &err);
	if (runs_create(c->api->runs, st, &rq, &id, &number, &err) != 0)
		return set_run_error(c, &err);
	set_reply(c, 200, json_pack("{s:I}", "run_id", (json_int_t)id));
	return 0;
}

static void runs_submit(struct call *c)
{
	struct run_write *w = new_write(c);
	struct model_error err;
	if (check_token(c->body, &w->token, &err) || submit_settings(c, &w->settings, &err))
		return reply_model_error(c, &err);
	call_write(c, submit_write);
}

/* --- reading runs ------------------------------------------------------------------------ */


void run_read_free(struct run_read *l)
{
	json_decref(l->doc);
	json_decref(l->tasks);
	json_decref(l->attempts);
	memset(l, 0, sizeof(*l));
}

static int task_row(void *arg, const struct store_run *row)
{
	struct run_read *l = arg;
	json_t *doc = json_loads(row->doc, 0, NULL);
	if (!doc)
		return 0;
	json_array_append(l->attempts, doc);
	const char *key = json_string_value(json_object_get(doc, "task_key"));
	size_t i;
	json_t *t;
	json_array_foreach(l->order, i, t) {
		const char *k = json_string_value(json_object_get(t, "task_key"));
		if (key && k && strcmp(k, key) == 0) {
			json_array_set(l->tasks, i, doc); /* rows come oldest first */
			break;
		}
	}
	json_decref(doc);
	return 0;
}

/* A run from its row, without its tasks. */
static int load_row(const struct store_run *row, struct run_read *l)
{
	memset(l, 0, sizeof(*l));
	l->job_id = row->job_id;
	l->parent = row->parent_id;
	l->doc = json_loads(row->doc, 0, NULL);
	l->tasks = json_array();
	l->attempts = json_array();
	return l->doc ? STORE_OK : STORE_ERR;
}

/* A job run's task runs: the latest attempt of each task, every attempt. */
static int load_tasks(struct store *st, int64_t run_id, struct run_read *l)
{
	l->order = json_object_get(json_object_get(l->doc, RUN_DOC_PRIVATE), "settings");
	l->order = json_object_get(l->order, "tasks");
	for (size_t i = 0; i < json_array_size(l->order); i++)
		json_array_append_new(l->tasks, json_null());
	int rc = store_run_children(st, run_id, task_row, l);
	/* A task without a row (never the case for runs this jobsd wrote) is
	 * left out rather than shown as null. */
	for (size_t i = json_array_size(l->tasks); i-- > 0;)
		if (json_is_null(json_array_get(l->tasks, i)))
			json_array_remove(l->tasks, i);
	return rc;
}

int run_read(struct store *st, int64_t id, struct run_read *l)
{
	struct store_run row;
	int rc = store_run_get(st, id, &row);
	if (rc != STORE_OK) {
		memset(l, 0, sizeof(*l));
		return rc;
	}
	rc = load_row(&row, l);
	store_run_release(&row);
	return rc == STORE_OK && !l->parent ? load_tasks(st, id, l) : rc;
}

bool run_single_task(const json_t *job_doc)
{
	return json_is_true(json_object_get(json_object_get(job_doc, RUN_DOC_PRIVATE),
					    "single_task"));
}

/* API 2.0 shows each retry of a single-task job as a run of its own
 * (seeds/003): the attempt's id, state and times, attempt_number,
 * original_attempt_run_id and trigger RETRY. The first attempt is the job
 * run itself, with that attempt's state. */
static json_t *attempt_as_run(const json_t *job_doc, const json_t *attempt)
{
	json_t *one = json_pack("[O]", attempt);
	json_t *run = run_doc_emit(job_doc, one, 20, true, -1, NULL);
	json_decref(one);
	static const char *const own[] = {"state", "status", "start_time", "end_time", NULL};
	for (const char *const *k = own; *k; k++)
		json_object_set(run, *k, json_object_get(attempt, *k));
	json_int_t n = json_integer_value(json_object_get(attempt, "attempt_number"));
	if (n == 0)
		return run;
	json_object_set(run, "run_id", json_object_get(attempt, "run_id"));
	json_object_set(run, "run_page_url", json_object_get(attempt, "run_page_url"));
	json_object_set_new(run, "attempt_number", json_integer(n));
	json_object_set(run, "original_attempt_run_id", json_object_get(job_doc, "run_id"));
	json_object_set_new(run, "trigger", json_string("RETRY"));
	return run;
}

/* Whether a 2.0 single-task job run has retries (its job run then shows
 * its first attempt). */
static const json_t *first_attempt_if_retried(const struct run_read *l)
{
	if (!run_single_task(l->doc) || json_array_size(l->attempts) < 2)
		return NULL;
	return json_array_get(l->attempts, 0);
}

/* repair_history: the ORIGINAL run (as it was before its first repair, or
 * as it is), then one REPAIR item per repair, oldest first. */
static json_t *repair_history(const struct run_read *l)
{
	const json_t *priv = json_object_get(l->doc, RUN_DOC_PRIVATE);
	json_t *orig = json_deep_copy(json_object_get(priv, "original"));
	if (!orig) {
		json_t *ids = json_array();
		size_t i;
		json_t *a;
		json_array_foreach(l->attempts, i, a)
			json_array_append(ids, json_object_get(a, "run_id"));
		orig = json_pack("{s:O, s:O, s:O, s:O, s:o}", "start_time",
				 json_object_get(l->doc, "start_time"), "end_time",
				 json_object_get(l->doc, "end_time"), "state",
				 json_object_get(l->doc, "state"), "status",
				 json_object_get(l->doc, "status"), "task_run_ids", ids);
	}
	json_object_set_new(orig, "type", json_string("ORIGINAL"));
	json_t *out = json_pack("[o]", orig);
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(priv, "repairs"), i, r) {
		json_t *item = json_deep_copy(r);
		json_object_set_new(item, "type", json_string("REPAIR"));
		json_array_append_new(out, item);
	}
	return out;
}

/* runs/get of a task run id: the task run, or through 2.0 the retry run. */
static void get_task_run(struct call *c, struct run_read *t, int64_t id)
{
	struct run_read j;
	json_t *out = NULL;
	if (run_read(c->api->store, t->parent, &j) == STORE_OK)
		out = c->version == 20 && run_single_task(j.doc) ?
			      attempt_as_run(j.doc, t->doc) :
			      run_doc_emit_task(t->doc, j.doc);
	run_read_free(&j);
	run_read_free(t);
	return out ? reply_json(c, 200, out) : reply_no_run(c, id);
}

static void runs_get(struct call *c)
{
	int64_t id;
	bool history = false;
	const char *token = NULL;
	if (arg_int64(c, "run_id", true, &id) < 0 || arg_bool(c, "include_history", &history) < 0 ||
	    arg_string(c, "page_token", false, &token) < 0)
		return;
	int64_t page = 0;
	char kind;
	if (token && *token && page_token_read(c, token, "g", JOB_MAX_PAGE, &kind, &page))
		return;
	struct run_read l;
	int rc = run_read(c->api->store, id, &l);
	if (rc != STORE_OK) {
		run_read_free(&l);
		return rc == STORE_NOT_FOUND ? reply_no_run(c, id) : reply_store_error(c, rc);
	}
	if (l.parent)
		return get_task_run(c, &l, id);
	bool more = false;
	const json_t *first = c->version == 20 ? first_attempt_if_retried(&l) : NULL;
	json_t *out = first ? attempt_as_run(l.doc, first) :
			      run_doc_emit(l.doc, l.tasks, c->version, true,
					   c->version == 22 ? (long)page : -1, &more);
	if (history)
		json_object_set_new(out, "repair_history", repair_history(&l));
	if (more) {
		char *next = page_token_make('g', page + 1);
		json_object_set_new(out, "next_page_token", json_string(next));
		json_object_set_new(out, "has_more", json_true());
		free(next);
	}
	run_read_free(&l);
	reply_json(c, 200, out);
}

/* --- list ------------------------------------------------------------------------------------- */

struct list_ctx {
	struct store *st;
	int version;
	bool expand;
	int limit, n;
	bool extra;
	int64_t oldest, newest;
	json_t *runs;
};

/* The ids of the page before a "p" token, oldest first. */
struct id_list {
	int64_t ids[26];
	int n;
};

static int collect_id(void *arg, const struct store_run *r)
{
	struct id_list *l = arg;
	l->ids[l->n++] = r->run_id;
	return l->n == (int)(sizeof(l->ids) / sizeof(l->ids[0]));
}

/* A "p" token (back from the run `above`): the runs just newer than it,
 * found oldest first, then listed newest first like any page. */
static int back_to_forward(struct store *st, struct store_run_query *q, int64_t above,
			   bool *has_prev)
{
	struct id_list ids = {.n = 0};
	int limit = q->limit < 25 ? q->limit : 25;
	q->above_id = above;
	q->limit = limit + 1;
	int rc = store_run_list(st, q, collect_id, &ids);
	q->above_id = 0;
	if (rc != STORE_OK)
		return rc;
	*has_prev = ids.n > limit;
	q->limit = ids.n < limit ? ids.n : limit;
	q->below_id = q->limit ? ids.ids[q->limit - 1] + 1 : 1; /* 1: nothing below */
	return STORE_OK;
}

/* 2.0: a single-task job run with retries lists each retry as a run of its
 * own, newest first, before the original (attempt_as_run). */
static void list_retries(struct list_ctx *l, const struct run_read *run)
{
	for (size_t i = json_array_size(run->attempts); i-- > 1;)
		json_array_append_new(l->runs,
				      attempt_as_run(run->doc, json_array_get(run->attempts, i)));
	json_array_append_new(l->runs, attempt_as_run(run->doc, json_array_get(run->attempts, 0)));
}

static int list_row(void *arg, const struct store_run *row)
{
	struct list_ctx *l = arg;
	if (l->n == l->limit) {
		l->extra = true;
		return 1;
	}
	if (l->n++ == 0)
		l->newest = row->run_id;
	l->oldest = row->run_id;
	/* Task rows only where they are shown: expand_tasks, or the 2.0 view
	 * of a single-task run (its task at the top, its retries as runs). */
	struct run_read run;
	int rc = load_row(row, &run);
	if (rc == STORE_OK && (l->expand || (l->version == 20 && run_single_task(run.doc))))
		rc = load_tasks(l->st, row->run_id, &run);
	if (rc != STORE_OK) {
		run_read_free(&run);
		return 0;
	}
	if (l->version == 20 && first_attempt_if_retried(&run)) {
		list_retries(l, &run);
	} else {
		bool more = false;
		json_t *out = run_doc_emit(run.doc, run.tasks, l->version, l->expand,
					   l->version == 22 ? 0 : -1, &more);
		if (more)
			json_object_set_new(out, "has_more", json_true());
		json_array_append_new(l->runs, out);
	}
	run_read_free(&run);
	return 0;
}

static int list_flag(struct call *c, const char *name, bool *out)
{
	*out = false;
	return arg_bool(c, name, out) < 0 ? -1 : 0;
}

static int list_run_type(struct call *c, int *type)
{
	const char *s = NULL;
	*type = -1;
	if (arg_string(c, "run_type", false, &s) < 0)
		return -1;
	if (s && *s && (*type = run_type_parse(s)) < 0) {
		reply_error(c, 400, MODEL_INVALID,
			    "run_type must be JOB_RUN, WORKFLOW_RUN or SUBMIT_RUN, not '%.64s'", s);
		return -1;
	}
	return 0;
}

/* limit: 1..25 in 2.1/2.2 (default 20), 1..1000 in 2.0; 0 is the most;
 * larger values are clamped (AppKit asks for 100). */
static int list_limit(struct call *c, int *limit)
{
	int64_t v = 0;
	int max = c->version == 20 ? 1000 : 25;
	int rc = arg_int64(c, "limit", false, &v);
	if (rc < 0)
		return -1;
	if (v < 0) {
		reply_error(c, 400, MODEL_INVALID, "limit must not be negative");
		return -1;
	}
	*limit = rc == 1 ? 20 : v == 0 || v > max ? max : (int)v;
	return 0;
}

static void runs_list(struct call *c)
{
	struct store_run_query q = {.job_id = -1, .active = -1};
	bool active = false, completed = false, expand = false;
	const char *token = NULL;
	int64_t v;
	if (list_flag(c, "active_only", &active) || list_flag(c, "completed_only", &completed) ||
	    list_flag(c, "expand_tasks", &expand) || list_run_type(c, &q.run_type) ||
	    list_limit(c, &q.limit) || arg_string(c, "page_token", false, &token) < 0)
		return;
	int rc = arg_int64(c, "job_id", false, &v);
	if (rc < 0)
		return;
	if (rc == 0)
		q.job_id = v;
	if (active && completed)
		return reply_error(c, 400, MODEL_INVALID,
				   "active_only and completed_only cannot both be true");
	q.active = active ? 1 : completed ? 0 : -1;
	if ((rc = arg_int64(c, "offset", false, &q.offset)) < 0 ||
	    arg_int64(c, "start_time_from", false, &q.start_from) < 0 ||
	    arg_int64(c, "start_time_to", false, &q.start_to) < 0)
		return;
	if (q.offset < 0)
		return reply_error(c, 400, MODEL_INVALID, "offset must not be negative");
	char kind = 0;
	int64_t anchor = 0;
	if (token && *token && page_token_read(c, token, "np", INT64_MAX, &kind, &anchor))
		return;
	bool has_prev = kind == 'n' || q.offset > 0;
	if (kind == 'n')
		q.below_id = anchor;
	if (kind == 'p' && (rc = back_to_forward(c->api->store, &q, anchor, &has_prev)) != STORE_OK)
		return reply_store_error(c, rc);
	struct list_ctx l = {c->api->store, c->version, expand, q.limit, 0, false, 0, 0, json_array()};
	q.limit += 1; /* one more tells whether there is a next page */
	rc = q.limit > 1 ? store_run_list(c->api->store, &q, list_row, &l) : STORE_OK;
	if (rc != STORE_OK) {
		json_decref(l.runs);
		return reply_store_error(c, rc);
	}
	json_t *out = json_object();
	if (json_array_size(l.runs))
		json_object_set(out, "runs", l.runs);
	json_decref(l.runs);
	json_object_set_new(out, "has_more", json_boolean(l.extra));
	if (l.extra) {
		char *next = page_token_make('n', l.oldest);
		json_object_set_new(out, "next_page_token", json_string(next));
		free(next);
	}
	if (l.n > 0 && has_prev) {
		char *prev = page_token_make('p', l.newest);
		json_object_set_new(out, "prev_page_token", json_string(prev));
		free(prev);
	}
	reply_json(c, 200, out);
}

/* --- output ------------------------------------------------------------------------------------ */

/* Reads up to OUTPUT_MAX bytes of an attempt file; *truncated when longer. */
static char *read_capped(const char *dir, const char *name, bool *truncated, bool *present)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	*present = f != NULL;
	if (!f)
		return NULL;
	char *buf = malloc(OUTPUT_MAX + 1);
	size_t n = buf ? fread(buf, 1, OUTPUT_MAX, f) : 0;
	if (buf) {
		int extra = fgetc(f);
		*truncated |= extra != EOF;
		buf[n] = '\0';
		/* A cut in the middle of a character must not make invalid JSON. */
		utf8_scrub(buf);
	}
	fclose(f);
	return buf;
}

static void add_logs(json_t *out, const char *dir)
{
	bool t1 = false, t2 = false, p1, p2;
	char *so = read_capped(dir, "stdout", &t1, &p1);
	char *se = read_capped(dir, "stderr", &t2, &p2);
	struct strbuf sb;
	strbuf_init(&sb, OUTPUT_MAX);
	bool cut = t1 || t2;
	if (so && strbuf_puts(&sb, so) != 0)
		cut = true;
	if (se && strbuf_puts(&sb, se) != 0)
		cut = true;
	if (p1 || p2) {
		json_object_set_new(out, "logs", json_string(sb.len ? sb.buf : ""));
		json_object_set_new(out, "logs_truncated", json_boolean(cut));
	}
	strbuf_release(&sb);
	free(so);
	free(se);
}

static void add_error(json_t *out, const char *dir, const json_t *doc)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/error.json", dir);
	json_t *e = json_load_file(path, 0, NULL);
	json_t *msg = json_object_get(e, "error"), *trace = json_object_get(e, "error_trace");
	const char *result = json_string_value(
		json_object_get(json_object_get(doc, "state"), "result_state"));
	if (json_is_string(msg))
		json_object_set(out, "error", msg);
	else if (result && strcmp(result, "SUCCESS") != 0)
		json_object_set(out, "error",
				json_object_get(json_object_get(doc, "state"), "state_message"));
	if (json_is_string(trace))
		json_object_set(out, "error_trace", trace);
	json_decref(e);
}

/* metadata: the run asked for (a single-task job run when its id was
 * given, as seeds/002 shows), else the task run. Stolen. */
static json_t *task_output(struct call *c, const json_t *tdoc, const json_t *jdoc, json_t *metadata)
{
	json_t *out = json_object();
	json_object_set_new(out, "metadata",
			    metadata ? metadata : run_doc_emit_task(tdoc, jdoc));
	char dir[PATH_MAX];
	int64_t id = json_integer_value(json_object_get(tdoc, "run_id"));
	if (runs_attempt_dir(c->api->config->data_dir, id, dir, sizeof(dir)) != 0)
		return out;
	if (json_object_get(tdoc, "notebook_task")) {
		bool cut = false, present;
		char *result = read_capped(dir, "exit_value", &cut, &present);
		json_t *nb = json_object();
		if (present) {
			json_object_set_new(nb, "result", json_string(result ? result : ""));
			json_object_set_new(nb, "truncated", json_boolean(cut));
		}
		json_object_set_new(out, "notebook_output", nb);
		free(result);
	} else if (json_object_get(tdoc, "spark_python_task")) {
		add_logs(out, dir);
	}
	int64_t child = json_integer_value(
		json_object_get(json_object_get(tdoc, RUN_DOC_PRIVATE), "child_run_id"));
	if (child)
		json_object_set_new(out, "run_job_output",
				    json_pack("{s:I}", "run_id", (json_int_t)child));
	add_error(out, dir, tdoc);
	return out;
}

static void runs_get_output(struct call *c)
{
	int64_t id;
	if (arg_int64(c, "run_id", true, &id) < 0)
		return;
	struct run_read l, j = {0};
	int rc = run_read(c->api->store, id, &l);
	if (rc == STORE_OK && l.parent)
		rc = run_read(c->api->store, l.parent, &j);
	json_t *out = NULL;
	if (rc == STORE_OK && l.parent)
		out = task_output(c, l.doc, j.doc,
				  c->version == 20 && run_single_task(j.doc) ? attempt_as_run(j.doc, l.doc) :
									   NULL);
	else if (rc == STORE_OK && c->version == 20 && first_attempt_if_retried(&l))
		/* 2.0: the original run id is the first attempt (attempt_as_run). */
		out = task_output(c, first_attempt_if_retried(&l), l.doc,
				  attempt_as_run(l.doc, first_attempt_if_retried(&l)));
	else if (rc == STORE_OK && run_single_task(l.doc) && json_array_size(l.tasks) == 1)
		out = task_output(c, json_array_get(l.tasks, 0), l.doc,
				  run_doc_emit(l.doc, l.tasks, c->version, true, -1, NULL));
	bool multi = rc == STORE_OK && !out;
	run_read_free(&l);
	run_read_free(&j);
	if (rc == STORE_NOT_FOUND)
		return reply_no_run(c, id);
	if (rc != STORE_OK)
		return reply_store_error(c, rc);
	if (multi)
		return reply_error(c, 400, MODEL_INVALID,
				   "Retrieving the output of runs with multiple tasks is not "
				   "supported. Please retrieve the output of each individual task "
				   "run instead.");
	reply_json(c, 200, out);
}

/* --- cancel, cancel-all, delete ------------------------------------------------------------------ */

/* runs/cancel and runs/delete: the run engine acts on run_id. */
static int run_id_write(struct call *c, struct store *st)
{
	struct run_write *w = c->data;
	struct model_error err;
	if (w->act(c->api->runs, st, w->run_id, &err) != 0)
		return set_run_error(c, &err);
	set_reply(c, 200, json_object());
	return 0;
}

static void run_id_endpoint(struct call *c,
			    int (*act)(struct runs *, struct store *, int64_t, struct model_error *))
{
	struct run_write *w = new_write(c);
	w->act = act;
	if (arg_int64(c, "run_id", true, &w->run_id) < 0)
		return;
	call_write(c, run_id_write);
}

static void runs_cancel_ep(struct call *c) { run_id_endpoint(c, runs_cancel); }

static void runs_delete_ep(struct call *c) { run_id_endpoint(c, runs_delete); }

static int cancel_all_write(struct call *c, struct store *st)
{
	struct run_write *w = c->data;
	if (w->job_id) {
		struct store_job job;
		int rc = store_job_get(st, w->job_id, &job);
		if (rc == STORE_NOT_FOUND)
			return set_error(c, 400, MODEL_INVALID, "Job %" PRId64 " does not exist.",
					 w->job_id);
		if (rc != STORE_OK)
			return set_store_error(c, rc);
		store_job_release(&job);
	}
	runs_cancel_all(c->api->runs, st, w->job_id, w->all_queued && !w->job_id);
	set_reply(c, 200, json_object());
	return 0;
}

static void runs_cancel_all_ep(struct call *c)
{
	struct run_write *w = new_write(c);
	int rc = arg_int64(c, "job_id", false, &w->job_id);
	if (rc < 0 || arg_bool(c, "all_queued_runs", &w->all_queued) < 0)
		return;
	if (rc == 1 && !w->all_queued)
		return reply_error(c, 400, MODEL_INVALID,
				   "Either job_id or all_queued_runs must be given");
	call_write(c, cancel_all_write);
}

/* --- repair --------------------------------------------------------------------------------------- */

struct repair_write {
	struct repair_request rq;
	json_t *overrides;
};

static void repair_write_free(void *p)
{
	struct repair_write *w = p;
	json_decref(w->overrides);
	free(w);
}

static int repair_write(struct call *c, struct store *st)
{
	struct repair_write *w = c->data;
	int64_t id;
	struct model_error err;
	if (runs_repair(c->api->runs, st, &w->rq, &id, &err) != 0)
		return set_run_error(c, &err);
	set_reply(c, 200, json_pack("{s:I}", "repair_id", (json_int_t)id));
	return 0;
}

/* The body's choice of tasks: rerun_tasks or rerun_all_failed_tasks. */
static int repair_choice(struct call *c, struct repair_request *rq)
{
	json_t *tasks = json_object_get(c->body, "rerun_tasks");
	if (tasks && !json_is_null(tasks) && !json_is_array(tasks)) {
		reply_error(c, 400, MODEL_INVALID, "rerun_tasks must be an array of task keys");
		return -1;
	}
	rq->rerun_tasks = json_array_size(tasks) ? tasks : NULL;
	if (arg_bool(c, "rerun_all_failed_tasks", &rq->rerun_all_failed) < 0 ||
	    arg_bool(c, "rerun_dependent_tasks", &rq->rerun_dependents) < 0)
		return -1;
	if (rq->rerun_tasks && rq->rerun_all_failed) {
		reply_error(c, 400, MODEL_INVALID,
			    "Only one of rerun_tasks and rerun_all_failed_tasks may be given");
		return -1;
	}
	if (!rq->rerun_tasks && !rq->rerun_all_failed) {
		reply_error(c, 400, MODEL_INVALID,
			    "Either rerun_tasks or rerun_all_failed_tasks must be given");
		return -1;
	}
	return 0;
}

static void runs_repair_ep(struct call *c)
{
	struct repair_write *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	c->data = w;
	c->data_free = repair_write_free;
	struct model_error err;
	int rc = arg_int64(c, "latest_repair_id", false, &w->rq.latest_repair_id);
	if (arg_int64(c, "run_id", true, &w->rq.run_id) < 0 || rc < 0 || repair_choice(c, &w->rq))
		return;
	w->rq.has_latest = rc == 0;
	if (check_params(c->body, &w->overrides, &err))
		return reply_model_error(c, &err);
	w->rq.overrides = w->overrides;
	w->rq.job_params = json_is_object(json_object_get(c->body, "job_parameters")) ?
				   json_object_get(c->body, "job_parameters") :
				   NULL;
	call_write(c, repair_write);
}

/* --- export -------------------------------------------------------------------------------------- */

void runs_export(struct call *c); /* export.c */

const struct route runs_routes[] = {
	{"POST", "jobs/run-now", VALL, run_now, 0},
	{"POST", "jobs/runs/submit", VALL, runs_submit, 0},
	{"GET", "jobs/runs/list", VALL, runs_list, 0},
	{"GET", "jobs/runs/get", VALL, runs_get, 0},
	{"GET", "jobs/runs/get-output", VALL, runs_get_output, 0},
	{"GET", "jobs/runs/export", VALL, runs_export, 0},
	{"POST", "jobs/runs/cancel", VALL, runs_cancel_ep, 0},
	{"POST", "jobs/runs/cancel-all", VALL, runs_cancel_all_ep, 0},
	{"POST", "jobs/runs/delete", VALL, runs_delete_ep, 0},
	{"POST", "jobs/runs/repair", V21 | V22, runs_repair_ep, 0},
	{NULL, NULL, 0, NULL, 0},
};
