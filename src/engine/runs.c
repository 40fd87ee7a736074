/* runs.c - see runs.h.
 *
 * Shape of the work: a job run (struct jrun) holds one struct trun per task
 * of its settings; a trun follows the task's current attempt, whose doc is
 * the task run row. Everything below runs on the engine thread, in one of
 * three places:
 *   - inside a transaction (an API write, or the tick op this module queues
 *     for itself): state transitions in memory, decisions of the graph;
 *   - pre_commit: the docs changed since the last commit are written;
 *   - post_commit: processes are started and signalled for what was just
 *     committed, or, after a failed commit, memory is reloaded from the store.
 * A process that ends fires its pidfd (an engine watch), which queues the
 * tick; timers (retry back-off, job timeouts) do the same.
 */
#include "engine/runs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/dag.h"
#include "engine/engine.h"
#include "engine/launch.h"
#include "exec/executor.h"
#include "model/job.h"
#include "model/run_doc.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/fsio.h"
#include "util/log.h"

struct jrun;

struct trun {
	struct jrun *run;
	int idx;
	json_t *spec;	  /* the task's settings (borrowed from run->settings) */
	const char *key;  /* task_key (borrowed) */
	json_t *doc;	  /* the current attempt's task run (owned) */
	int64_t run_id;	  /* the current attempt's run id */
	int attempt;
	enum run_life life;
	enum run_result result;
	char handle[EXEC_HANDLE_MAX];
	struct engine_watch watch; /* fd -1 when not watching */
	int64_t retry_at;	   /* WAITING_FOR_RETRY until then */
	int64_t poll_at;	   /* no watch fd: read the status then */
	int64_t child_run_id;	   /* run_job_task: the run it waits for */
	char *fail_msg;		   /* a start that failed after the commit */
	enum run_term fail_term;   /* and whose fault: INTERNAL_ERROR or the task's */
	bool start_now;		   /* decided to run: start after the commit */
	bool exited;		   /* the watch fired: read the status */
	bool cancel_now;	   /* signal after the commit */
	bool cancel_asked;	   /* runs/cancel named this task: never retried */
	bool finding;		   /* started by a jobsd that died, identity not known yet */
	bool cancel_sent;
	bool dirty;
};

/* How often an attempt without a watch fd (none could be opened) is polled. */
#define POLL_MS 1000

struct jrun {
	struct jrun *next;
	struct runs *rs;
	int64_t run_id, job_id;
	json_t *doc;	  /* the job run (owned) */
	json_t *settings; /* borrowed from doc._.settings */
	int n;
	struct trun *t;
	struct dag_node *nodes;
	int *deps;
	signed char *outs;
	enum run_life life;
	bool cancel, timed_out;
	int64_t deadline; /* job timeout, 0 none */
	int64_t parent_task_run_id;
	int max_concurrent; /* the job's max_concurrent_runs (job runs only) */
	bool limited;	    /* a job run counted against that limit */
	bool dirty, advance, finished;
};

struct runs {
	const struct clock *clock;
	struct engine *e;
	struct store *st;
	struct executor *ex;
	struct workspace *ws;
	struct runs_config cfg;
	char data_dir[PATH_MAX], python[PATH_MAX], runtime_dir[PATH_MAX], base_url[256];
	struct jrun *active;
	struct engine_op tick;
	bool tick_queued;
	int64_t tick_retry_at; /* a tick that could not run (no transaction): again then */
	struct engine_op sweep; /* retention */
	bool sweep_queued;
	int64_t sweep_at;
	json_t *swept;	       /* task run ids whose folders go once the sweep committed */
	int64_t *created;      /* ring of creation times (the hourly limit) */
	int created_n, created_head;
	int retry_after;       /* of the last 429 */
	int64_t fail_backoff;  /* ms before ticking again after failed commits */
	int64_t fail_logged;   /* when that was last logged */
	bool reload; /* memory is ahead of the store: reload after this batch */
	void (*on_end)(void *arg, int64_t job_id, bool failed);
	void *on_end_arg;
};


static int64_t now_ms(const struct runs *rs) { return clock_now_ms(rs->clock); }

static void queue_tick(struct runs *rs)
{
	if (rs->tick_queued)
		return;
	rs->tick_queued = true;
	engine_submit(rs->e, &rs->tick);
}

/* --- states -------------------------------------------------------------------- */

static void set_task_state(struct trun *t, enum run_life life, enum run_result result,
			   enum run_term term, const char *msg, bool user)
{
	t->life = life;
	t->result = result;
	struct run_state_in s = {life, result, term, msg, user, NULL};
	run_doc_set_state(t->doc, &s);
	t->dirty = true;
	t->run->advance = true;
}

static bool task_done(const struct trun *t) { return t->run->nodes[t->idx].done; }

static void set_int(json_t *doc, const char *k, int64_t v)
{
	json_object_set_new(doc, k, json_integer(v));
}

static int64_t get_int(const json_t *doc, const char *k)
{
	return json_integer_value(json_object_get(doc, k));
}

/* A task's attempt has reached its final state: durations, the graph node. */
static void task_final(struct trun *t, enum run_life life, enum run_result result,
		       enum run_term term, const char *msg, bool user)
{
	int64_t now = now_ms(t->run->rs);
	int64_t start = get_int(t->doc, "start_time");
	if (start > 0) {
		set_int(t->doc, "end_time", now);
		set_int(t->doc, "execution_duration", now - start);
		set_int(t->doc, "run_duration", now - start);
	}
	set_task_state(t, life, result, term, msg, user);
	struct dag_node *node = &t->run->nodes[t->idx];
	node->done = true;
	node->result = result;
}

static void task_not_run(struct trun *t, enum run_result result, const char *why)
{
	enum run_term term = result == RR_DISABLED ? TERM_DISABLED : TERM_SKIPPED;
	task_final(t, RL_SKIPPED, result, term, why, false);
}

/* --- documents ------------------------------------------------------------------- */

static void page_url(struct runs *rs, json_t *doc, int64_t id)
{
	char url[320];
	snprintf(url, sizeof(url), "%s/#/runs/%lld", rs->base_url, (long long)id);
	json_object_set_new(doc, "run_page_url", json_string(url));
}

/* cluster_spec of a task: the compute it names, recorded; every task runs
 * on the local pool whatever it names. */
static json_t *cluster_spec(const json_t *task)
{
	static const char *const keys[] = {"existing_cluster_id", "new_cluster", "job_cluster_key",
					   "environment_key", "libraries", NULL};
	json_t *cs = json_object();
	for (const char *const *k = keys; *k; k++) {
		json_t *v = json_object_get(task, *k);
		if (v)
			json_object_set(cs, *k, v);
	}
	return cs;
}

static json_t *new_task_doc(struct runs *rs, const json_t *spec, int64_t id, int attempt,
			    int64_t first_id)
{
	json_t *doc = json_deep_copy(spec);
	set_int(doc, "run_id", id);
	set_int(doc, "attempt_number", attempt);
	set_int(doc, "original_attempt_run_id", first_id);
	set_int(doc, "start_time", 0);
	set_int(doc, "end_time", 0);
	set_int(doc, "setup_duration", 0);
	set_int(doc, "execution_duration", 0);
	set_int(doc, "cleanup_duration", 0);
	json_object_set_new(doc, "cluster_spec", cluster_spec(spec));
	page_url(rs, doc, id);
	return doc;
}

static int put_doc(struct store *st, struct jrun *r, json_t *doc, int64_t id, int64_t parent,
		   bool active)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	if (!text)
		return STORE_ENOMEM;
	const char *token = parent ? NULL : json_string_value(json_object_get(
						  json_object_get(doc, RUN_DOC_PRIVATE), "token"));
	struct store_run row = {
		.run_id = id,
		.job_id = r->job_id,
		.parent_id = parent,
		.run_type = run_type_parse(json_string_value(json_object_get(r->doc, "run_type"))),
		.active = active,
		.start_ms = get_int(r->doc, "start_time"),
		.idem_token = (char *)token,
		.doc = text,
	};
	int rc = store_run_put(st, &row);
	free(text);
	return rc;
}

static int flush_run(struct store *st, struct jrun *r)
{
	for (int i = 0; i < r->n; i++) {
		struct trun *t = &r->t[i];
		if (!t->dirty)
			continue;
		int rc = put_doc(st, r, t->doc, t->run_id, r->run_id, !run_life_terminal(t->life));
		if (rc != STORE_OK)
			return rc;
		t->dirty = false;
	}
	if (r->dirty) {
		int rc = put_doc(st, r, r->doc, r->run_id, 0, !r->finished);
		if (rc != STORE_OK)
			return rc;
		r->dirty = false;
	}
	return STORE_OK;
}

/* --- building a run in memory ------------------------------------------------------ */

static void jrun_free(struct jrun *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++) {
		struct trun *t = &r->t[i];
		if (t->watch.fd >= 0) {
			engine_unwatch(r->rs->e, &t->watch);
			r->rs->ex->ops->release(r->rs->ex, t->handle, t->watch.fd);
		}
		json_decref(t->doc);
		free(t->fail_msg);
	}
	free(r->t);
	free(r->nodes);
	free(r->deps);
	free(r->outs);
	json_decref(r->doc);
	free(r);
}

static int task_index(const json_t *tasks, const char *key)
{
	size_t i;
	json_t *t;
	json_array_foreach(tasks, i, t) {
		const char *k = json_string_value(json_object_get(t, "task_key"));
		if (k && strcmp(k, key) == 0)
			return (int)i;
	}
	return -1;
}

static void on_exit_watch(struct engine_watch *w);

/* The graph of the run's settings: nodes, their parents and outcomes. */
static int build_graph(struct jrun *r)
{
	json_t *tasks = json_object_get(r->settings, "tasks");
	r->n = (int)json_array_size(tasks);
	int ndeps = 0;
	for (int i = 0; i < r->n; i++)
		ndeps += (int)json_array_size(json_object_get(json_array_get(tasks, i), "depends_on"));
	r->t = calloc((size_t)r->n + 1, sizeof(*r->t));
	r->nodes = calloc((size_t)r->n + 1, sizeof(*r->nodes));
	r->deps = calloc((size_t)ndeps + 1, sizeof(*r->deps));
	r->outs = calloc((size_t)ndeps + 1, sizeof(*r->outs));
	if (!r->t || !r->nodes || !r->deps || !r->outs)
		return -1;
	int d = 0;
	for (int i = 0; i < r->n; i++) {
		json_t *spec = json_array_get(tasks, i);
		struct trun *t = &r->t[i];
		struct dag_node *node = &r->nodes[i];
		t->run = r;
		t->idx = i;
		t->spec = spec;
		t->key = json_string_value(json_object_get(spec, "task_key"));
		t->watch = (struct engine_watch){.cb = on_exit_watch, .fd = -1};
		node->deps = &r->deps[d];
		node->dep_outcome = &r->outs[d];
		size_t k;
		json_t *dep;
		json_array_foreach(json_object_get(spec, "depends_on"), k, dep) {
			r->deps[d] = task_index(tasks, json_string_value(json_object_get(dep, "task_key")));
			const char *o = json_string_value(json_object_get(dep, "outcome"));
			r->outs[d] = !o ? -1 : strcmp(o, "true") == 0 ? 1 : 0;
			if (r->deps[d] < 0)
				return -1;
			d++;
			node->ndeps++;
		}
		const char *run_if = json_string_value(json_object_get(spec, "run_if"));
		int ri = run_if ? run_if_parse(run_if) : RUN_IF_ALL_SUCCESS;
		node->run_if = ri < 0 ? RUN_IF_ALL_SUCCESS : (enum run_if)ri;
		node->disabled = json_is_true(json_object_get(spec, "disabled"));
		node->is_condition = json_object_get(spec, "condition_task") != NULL;
		node->outcome = -1;
	}
	return 0;
}

static struct jrun *jrun_new(struct runs *rs, json_t *doc)
{
	struct jrun *r = calloc(1, sizeof(*r));
	if (!r) {
		json_decref(doc);
		return NULL;
	}
	r->rs = rs;
	r->doc = doc;
	r->run_id = get_int(doc, "run_id");
	r->job_id = get_int(doc, "job_id");
	json_t *priv = run_doc_private(doc);
	r->settings = json_object_get(priv, "settings");
	r->parent_task_run_id = get_int(priv, "parent_task_run_id");
	r->deadline = get_int(priv, "deadline");
	r->cancel = json_is_true(json_object_get(priv, "cancel"));
	r->limited = json_is_true(json_object_get(priv, "limited"));
	r->max_concurrent = (int)json_integer_value(json_object_get(r->settings,
								   "max_concurrent_runs"));
	r->timed_out = json_is_true(json_object_get(priv, "timed_out"));
	r->life = run_life_parse(
		json_string_value(json_object_get(json_object_get(doc, "state"), "life_cycle_state")));
	if (build_graph(r) != 0) {
		jrun_free(r);
		return NULL;
	}
	return r;
}

static struct jrun *find_run(struct runs *rs, int64_t run_id)
{
	for (struct jrun *r = rs->active; r; r = r->next)
		if (r->run_id == run_id)
			return r;
	return NULL;
}

static struct trun *find_task(struct runs *rs, int64_t run_id)
{
	for (struct jrun *r = rs->active; r; r = r->next)
		for (int i = 0; i < r->n; i++)
			if (r->t[i].run_id == run_id)
				return &r->t[i];
	return NULL;
}

/* --- creating runs ------------------------------------------------------------------ */

/* Job parameters: each defined parameter's default, overridden by run-now
 * job_parameters. An unknown name is refused, as the service does. */
static int effective_params(const json_t *settings, const json_t *given, json_t **eff,
			    json_t **shown, struct model_error *err)
{
	*eff = json_object();
	*shown = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(settings, "parameters"), i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		json_t *def = json_object_get(p, "default");
		json_t *val = json_object_get(given, name);
		json_t *v = val ? val : def;
		json_object_set(*eff, name, v);
		json_array_append_new(*shown, json_pack("{s:s, s:O, s:O}", "name", name, "default",
							def ? def : json_null(), "value", v));
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)given, k, v) {
		if (!json_object_get(*eff, k)) {
			model_fail(err, 400, "INVALID_PARAMETER_VALUE",
					"job_parameters.%s: the job has no parameter named %s", k, k);
			return -1;
		}
	}
	return 0;
}

static json_t *new_job_doc(struct runs *rs, const struct run_request *rq, int64_t id,
			   int64_t job_id, int64_t number, json_t *settings)
{
	int64_t now = now_ms(rs);
	const char *name = rq->run_name ? rq->run_name
					: json_string_value(json_object_get(settings, "name"));
	json_t *doc = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, "
				"s:I, s:I, s:I, s:s}",
				"job_id", (json_int_t)job_id, "run_id", (json_int_t)id,
				"number_in_job", (json_int_t)number, "original_attempt_run_id",
				(json_int_t)id, "attempt_number", (json_int_t)0,
				"creator_user_name", rq->creator, "run_name", name ? name : "Untitled",
				"run_type", run_type_name(rq->type), "trigger",
				run_trigger_name(rq->trigger), "start_time", (json_int_t)now,
				"end_time", (json_int_t)0, "setup_duration", (json_int_t)0,
				"execution_duration", (json_int_t)0, "cleanup_duration",
				(json_int_t)0, "run_duration", (json_int_t)0, "queue_duration",
				(json_int_t)0, "format",
				job_settings_format(settings) == JOB_FORMAT_SINGLE_TASK ?
					"SINGLE_TASK" :
					"MULTI_TASK");
	page_url(rs, doc, id);
	static const char *const copied[] = {"job_clusters", "git_source", "description", NULL};
	for (const char *const *k = copied; *k; k++) {
		json_t *v = json_object_get(settings, *k);
		if (v)
			json_object_set(doc, *k, v);
	}
	if (rq->parent_task_run_id)
		json_object_set_new(doc, "trigger_info",
				    json_pack("{s:I}", "run_id", (json_int_t)rq->parent_task_run_id));
	if (rq->overrides && json_object_size(rq->overrides))
		json_object_set(doc, "overriding_parameters", (json_t *)rq->overrides);
	if (rq->schedule)
		json_object_set(doc, "schedule", (json_t *)rq->schedule);
	return doc;
}

/* Fills the private part: the settings the run uses, parameters, timers. */
static void fill_private(json_t *doc, const struct run_request *rq, json_t *settings,
			 json_t *eff_params)
{
	json_t *priv = run_doc_private(doc);
	json_object_set_new(priv, "settings", settings);
	json_object_set_new(priv, "job_params", eff_params);
	json_object_set_new(priv, "single_task",
			    json_boolean(job_settings_format(settings) == JOB_FORMAT_SINGLE_TASK));
	if (rq->overrides)
		json_object_set(priv, "overrides", (json_t *)rq->overrides);
	if (rq->idem_token)
		json_object_set_new(priv, "token", json_string(rq->idem_token));
	if (rq->parent_task_run_id)
		set_int(priv, "parent_task_run_id", rq->parent_task_run_id);
	if (rq->trigger_ms)
		set_int(priv, "trigger_ms", rq->trigger_ms);
	if (rq->file_location)
		json_object_set_new(priv, "file_location", json_string(rq->file_location));
	int64_t timeout = get_int(settings, "timeout_seconds");
	if (timeout > 0)
		set_int(priv, "deadline", get_int(doc, "start_time") + timeout * 1000);
}

static int existing_token(struct store *st, const char *token, int64_t *run_id, int64_t *number)
{
	int64_t id;
	int rc = store_run_by_token(st, token, &id);
	if (rc != STORE_OK)
		return rc;
	struct store_run row;
	rc = store_run_get(st, id, &row);
	if (rc != STORE_OK)
		return rc;
	json_t *doc = json_loads(row.doc, 0, NULL);
	*run_id = id;
	*number = get_int(doc, "number_in_job");
	json_decref(doc);
	store_run_release(&row);
	return STORE_OK;
}

static int store_failed(struct model_error *err, int rc)
{
	if (rc == STORE_EFULL || rc == STORE_EIO || rc == STORE_EBUSY)
		model_fail(err, 503, "TEMPORARILY_UNAVAILABLE",
				"The run could not be saved (%s); nothing was started",
				store_rc_name(rc));
	else
		model_fail(err, 500, "INTERNAL_ERROR", "Saving the run failed (%s)",
				store_rc_name(rc));
	return -1;
}

static int alloc_ids(struct store *st, const struct run_request *rq, int64_t *job_id,
		     int64_t *id, int64_t *number)
{
	int rc = STORE_OK;
	*job_id = rq->job_id;
	if (!*job_id)
		rc = store_job_reserve_id(st, job_id);
	char name[48];
	snprintf(name, sizeof(name), "job_runs:%lld", (long long)*job_id);
	if (rc == STORE_OK)
		rc = store_counter_next(st, "run_ids", id);
	if (rc == STORE_OK)
		rc = store_counter_next(st, name, number);
	return rc;
}

/* The first attempt of every task: PENDING, with its run id. */
static int create_tasks(struct runs *rs, struct store *st, struct jrun *r)
{
	for (int i = 0; i < r->n; i++) {
		struct trun *t = &r->t[i];
		int rc = store_counter_next(st, "run_ids", &t->run_id);
		if (rc != STORE_OK)
			return rc;
		t->doc = new_task_doc(rs, t->spec, t->run_id, 0, t->run_id);
		set_task_state(t, RL_PENDING, RR_NONE, TERM_NONE, "", false);
	}
	return STORE_OK;
}

static void advance(struct runs *rs, struct store *st, struct jrun *r);

/* --- per-job concurrency: max_concurrent_runs, the queue -------------------------- */

/* Runs of the job that hold a slot: started and not finished. */
/* Job runs of job_id not finished, QUEUED ones counted or not. */
static int job_runs_open(const struct runs *rs, int64_t job_id, bool queued)
{
	int n = 0;
	for (const struct jrun *r = rs->active; r; r = r->next)
		n += r->job_id == job_id && r->limited && !r->finished &&
		     (queued || r->life != RL_QUEUED);
	return n;
}

static int slots_taken(const struct runs *rs, int64_t job_id)
{
	return job_runs_open(rs, job_id, false);
}

static void queued_message(const struct runs *rs, const struct jrun *r, bool workspace,
			   char *msg, size_t n)
{
	if (workspace)
		snprintf(msg, n,
			 "Queued: the workspace is at its limit of %d task runs running at once "
			 "(max_concurrent_task_runs); this run starts when one of them ends.",
			 rs->cfg.max_task_runs);
	else
		snprintf(msg, n,
			 "Queued: the job is at its maximum of %d concurrent runs "
			 "(max_concurrent_runs); this run starts when one of them ends.",
			 r->max_concurrent);
}

/* Task runs holding a workspace slot: running, or about to be started. */
static int task_slots_used(const struct runs *rs)
{
	int n = 0;
	for (const struct jrun *r = rs->active; r; r = r->next)
		for (int i = 0; i < r->n; i++)
			n += r->t[i].life == RL_RUNNING || r->t[i].start_now;
	return n;
}

static bool workspace_full(const struct runs *rs)
{
	return rs->cfg.max_task_runs > 0 && task_slots_used(rs) >= rs->cfg.max_task_runs;
}

/* Where a new run goes: now, to the queue (and why), nowhere (SKIPPED), or
 * back to the client (429, nothing created). */
enum admission { ADMIT_RUN, ADMIT_QUEUE_JOB, ADMIT_QUEUE_WORKSPACE, ADMIT_SKIP, ADMIT_REFUSE };

static enum admission admit(const struct runs *rs, const struct run_request *rq, int64_t job_id)
{
	const json_t *q = rq->queue ? rq->queue : json_object_get(rq->settings, "queue");
	bool queue = json_is_true(json_object_get(q, "enabled"));
	int max = (int)json_integer_value(json_object_get(rq->settings, "max_concurrent_runs"));
	if (rq->type == RUN_TYPE_JOB_RUN && slots_taken(rs, job_id) >= max)
		/* max_concurrent_runs 0 skips every run: no slot will ever free. */
		return queue && max > 0 ? ADMIT_QUEUE_JOB : ADMIT_SKIP;
	if (workspace_full(rs))
		return queue ? ADMIT_QUEUE_WORKSPACE : ADMIT_REFUSE;
	return ADMIT_RUN;
}

static void set_run_state(struct jrun *r, enum run_life life, enum run_result res,
			  enum run_term term, const char *msg, const char *queue_code)
{
	struct run_state_in s = {life, res, term, msg, false, queue_code};
	run_doc_set_state(r->doc, &s);
	r->life = life;
	r->dirty = true;
}

/* Over the limit without a queue: the run ends at once, SKIPPED, and so do
 * its tasks, none of which ever starts. */
static void skip_run(struct jrun *r)
{
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "Skipped: the job is already at its maximum of %d concurrent runs "
		 "(max_concurrent_runs) and its queue is off.",
		 r->max_concurrent);
	for (int i = 0; i < r->n; i++) {
		struct trun *t = &r->t[i];
		struct run_state_in s = {RL_SKIPPED, RR_NONE, TERM_MAX_CONCURRENT_RUNS_EXCEEDED, msg,
					 false, NULL};
		run_doc_set_state(t->doc, &s);
		t->life = RL_SKIPPED;
		t->dirty = true;
		r->nodes[i].done = true;
	}
	set_int(r->doc, "end_time", get_int(r->doc, "start_time"));
	set_run_state(r, RL_SKIPPED, RR_NONE, TERM_MAX_CONCURRENT_RUNS_EXCEEDED, msg, NULL);
	r->finished = true;
}

static void advance(struct runs *rs, struct store *st, struct jrun *r);

/* Slots of job_id freed (a run ended, the limit rose): its oldest queued runs
 * start, in arrival order, while slots are free. */
static void promote(struct runs *rs, struct store *st, int64_t job_id)
{
	for (;;) {
		struct jrun *oldest = NULL;
		for (struct jrun *r = rs->active; r; r = r->next)
			if (r->job_id == job_id && r->life == RL_QUEUED && !r->finished &&
			    (!oldest || r->run_id < oldest->run_id))
				oldest = r;
		if (!oldest || (oldest->limited && slots_taken(rs, job_id) >= oldest->max_concurrent) ||
		    workspace_full(rs))
			return;
		int64_t now = now_ms(rs);
		set_int(oldest->doc, "queue_duration", now - get_int(oldest->doc, "start_time"));
		set_run_state(oldest, RL_PENDING, RR_NONE, TERM_NONE, "", NULL);
		advance(rs, st, oldest);
	}
}

/* --- the hourly creation limit ---------------------------------------------------- */

#define HOUR_MS (3600 * 1000LL)

int runs_creation_allowed(struct runs *rs, struct model_error *err)
{
	int cap = rs->cfg.max_created_per_hour;
	if (cap <= 0)
		return 0;
	if (!rs->created && !(rs->created = calloc((size_t)cap, sizeof(*rs->created))))
		return model_fail(err, 500, "INTERNAL_ERROR", "out of memory");
	int64_t now = now_ms(rs);
	/* A ring of the last cap creation times: full and its oldest within the
	 * hour means cap creations in the last hour. */
	int64_t oldest = rs->created[rs->created_head];
	if (rs->created_n == cap && oldest > now - HOUR_MS) {
		rs->retry_after = (int)((oldest + HOUR_MS - now + 999) / 1000);
		return model_fail(err, 429, "REQUEST_LIMIT_EXCEEDED",
				  "%d jobs and one-time runs were created in the last hour, the "
				  "most allowed (max_jobs_created_per_hour); retry in %d s",
				  cap, rs->retry_after);
	}
	rs->created[rs->created_head] = now;
	rs->created_head = (rs->created_head + 1) % cap;
	if (rs->created_n < cap)
		rs->created_n++;
	return 0;
}

int runs_retry_after(const struct runs *rs) { return rs->retry_after > 0 ? rs->retry_after : 1; }

/* The meta key that remembers the token of a deleted run. */
static void token_key(const char *token, char *key, size_t n)
{
	snprintf(key, n, "deleted_token:%s", token);
}

int runs_create(struct runs *rs, struct store *st, const struct run_request *rq, int64_t *run_id,
		int64_t *number_in_job, struct model_error *err)
{
	if (rq->idem_token) {
		int rc = existing_token(st, rq->idem_token, run_id, number_in_job);
		if (rc == STORE_OK)
			return 0;
		if (rc != STORE_NOT_FOUND)
			return store_failed(err, rc);
		/* One run per token, even after that run was deleted (reference §3). */
		char key[128], was[32];
		token_key(rq->idem_token, key, sizeof(key));
		if (store_meta_get(st, key, was, sizeof(was)) == STORE_OK)
			return model_fail(err, 400, "INVALID_PARAMETER_VALUE",
					  "The run created with idempotency token '%s' (run %s) "
					  "has been deleted; use a new token",
					  rq->idem_token, was);
	}
	/* Decided before anything is written: a 429 must create nothing. */
	enum admission a = admit(rs, rq, rq->job_id);
	if (a == ADMIT_REFUSE) {
		rs->retry_after = 1;
		return model_fail(err, 429, "REQUEST_LIMIT_EXCEEDED",
				  "The workspace is at its limit of %d task runs running at once "
				  "(max_concurrent_task_runs) and the job does not queue; no run was "
				  "created",
				  rs->cfg.max_task_runs);
	}
	json_t *eff, *shown;
	if (effective_params(rq->settings, rq->job_params, &eff, &shown, err) != 0) {
		json_decref(eff);
		json_decref(shown);
		return -1;
	}
	int64_t job_id, id, number;
	int rc = alloc_ids(st, rq, &job_id, &id, &number);
	if (rc != STORE_OK) {
		json_decref(eff);
		json_decref(shown);
		return store_failed(err, rc);
	}
	json_t *settings = json_deep_copy(rq->settings);
	json_t *doc = new_job_doc(rs, rq, id, job_id, number, settings);
	if (json_array_size(shown))
		json_object_set(doc, "job_parameters", shown);
	json_decref(shown);
	fill_private(doc, rq, settings, eff);
	struct run_state_in s = {RL_PENDING, RR_NONE, TERM_NONE, "", false, NULL};
	run_doc_set_state(doc, &s);
	struct jrun *r = jrun_new(rs, doc);
	if (!r) {
		model_fail(err, 500, "INTERNAL_ERROR", "out of memory");
		return -1;
	}
	rc = create_tasks(rs, st, r);
	/* Only runs of a saved job count against its max_concurrent_runs. */
	r->limited = rq->type == RUN_TYPE_JOB_RUN;
	json_object_set_new(run_doc_private(r->doc), "limited", json_boolean(r->limited));
	if (a == ADMIT_QUEUE_JOB || a == ADMIT_QUEUE_WORKSPACE) {
		char msg[256];
		bool ws = a == ADMIT_QUEUE_WORKSPACE;
		queued_message(rs, r, ws, msg, sizeof(msg));
		set_run_state(r, RL_QUEUED, RR_NONE, TERM_NONE, msg,
			      ws ? "ACTIVE_RUNS_LIMIT_REACHED" : "MAX_CONCURRENT_RUNS_REACHED");
	} else if (a == ADMIT_SKIP) {
		skip_run(r);
	}
	r->dirty = true;
	/* A token must be taken at once (a duplicate in the same batch must
	 * find it); without one the rows are written once, in pre_commit. */
	if (rc == STORE_OK && rq->idem_token)
		rc = flush_run(st, r);
	if (rc != STORE_OK) {
		jrun_free(r);
		if (rc == STORE_CONFLICT)
			return existing_token(st, rq->idem_token, run_id, number_in_job) == STORE_OK ?
				       0 :
				       store_failed(err, STORE_ERR);
		return store_failed(err, rc);
	}
	r->next = rs->active;
	rs->active = r;
	*run_id = id;
	*number_in_job = number;
	if (a == ADMIT_SKIP && rq->parent_task_run_id)
		r->advance = true; /* its parent learns it at the next tick */
	else if (a != ADMIT_RUN)
		; /* queued: promote() starts it; skipped: done */
	else if (rq->parent_task_run_id)
		r->advance = true; /* by the next tick: see run_child_job */
	else
		advance(rs, st, r);
	return 0;
}

/* --- the graph moving -------------------------------------------------------------- */

/* Upstream facts a task may read: results, run ids and task values of the
 * tasks before it (dynref_ctx.tasks). */
static json_t *tasks_facts(struct jrun *r)
{
	json_t *all = json_object();
	for (int i = 0; i < r->n; i++) {
		struct trun *u = &r->t[i];
		json_t *priv = json_object_get(u->doc, RUN_DOC_PRIVATE);
		json_t *f = json_pack("{s:I, s:i}", "run_id", (json_int_t)u->run_id,
				      "execution_count", u->attempt + 1);
		if (task_done(u) && u->result != RR_NONE)
			json_object_set_new(f, "result_state",
					    json_string(run_result_name(u->result)));
		json_t *values = json_object_get(priv, "values");
		json_object_set(f, "values", values ? values : json_object());
		if (!values)
			json_decref(json_object_get(f, "values"));
		json_object_set_new(all, u->key, f);
	}
	return all;
}

static void fill_ctx(struct dynref_ctx *c, struct trun *t, json_t *facts)
{
	struct jrun *r = t->run;
	json_t *priv = json_object_get(r->doc, RUN_DOC_PRIVATE);
	memset(c, 0, sizeof(*c));
	c->job_id = r->job_id;
	c->job_name = json_string_value(json_object_get(r->settings, "name"));
	c->job_run_id = r->run_id;
	c->repair_count = (int)json_array_size(json_object_get(priv, "repairs"));
	c->start_ms = get_int(r->doc, "start_time");
	c->trigger_ms = get_int(priv, "trigger_ms") ? get_int(priv, "trigger_ms") : c->start_ms;
	c->file_arrival_location = json_string_value(json_object_get(priv, "file_location"));
	c->trigger_type = json_string_value(json_object_get(r->doc, "trigger"));
	c->job_params = json_object_get(priv, "job_params");
	c->task_key = t->key;
	c->task_run_id = t->run_id;
	c->notebook_path = json_string_value(
		json_object_get(json_object_get(t->spec, "notebook_task"), "notebook_path"));
	c->execution_count = t->attempt + 1;
	c->retry_count = t->attempt;
	c->tasks = facts;
	c->workspace_id = "0";
	c->workspace_url = r->rs->base_url;
}

/* condition_task: evaluated here, at once. */
static void run_condition(struct trun *t)
{
	json_t *ct = json_object_get(t->spec, "condition_task");
	json_t *facts = tasks_facts(t->run);
	struct dynref_ctx ctx;
	fill_ctx(&ctx, t, facts);
	char *left = NULL, *right = NULL;
	struct model_error err;
	bool outcome = false;
	const char *why = NULL;
	int64_t now = now_ms(t->run->rs);
	set_int(t->doc, "start_time", now);
	if (dynref_expand(json_string_value(json_object_get(ct, "left")), &ctx, &left, &err) != 0 ||
	    dynref_expand(json_string_value(json_object_get(ct, "right")), &ctx, &right, &err) != 0) {
		task_final(t, RL_TERMINATED, RR_FAILED, TERM_INVALID_RUN_CONFIGURATION, err.message,
			   false);
	} else if (dag_condition(json_string_value(json_object_get(ct, "op")), left, right,
				 &outcome, &why) != 0) {
		task_final(t, RL_TERMINATED, RR_FAILED, TERM_INVALID_RUN_CONFIGURATION, why, false);
	} else {
		json_object_set_new(json_object_get(t->doc, "condition_task"), "outcome",
				    json_string(outcome ? "true" : "false"));
		t->run->nodes[t->idx].outcome = outcome ? 1 : 0;
		task_final(t, RL_TERMINATED, RR_SUCCESS, TERM_SUCCESS, "", false);
	}
	free(left);
	free(right);
	json_decref(facts);
}

/* How deep run_job_task runs may nest (a job running a job running ...). */
#define MAX_RUN_JOB_DEPTH 16

/* Whether running job_id from task t would run a job inside itself, or
 * nest too deep: the chain of waiting parents is all in memory (a parent
 * waits, so it is active). NULL, or why not. */
static const char *run_job_refused(struct runs *rs, struct trun *t, int64_t job_id)
{
	int depth = 0;
	for (struct jrun *r = t->run; r; depth++) {
		if (r->job_id == job_id)
			return "run_job_task would run a job inside a run of itself";
		if (depth >= MAX_RUN_JOB_DEPTH)
			return "run_job_task runs are nested too deep (at most 16 levels)";
		struct trun *parent = r->parent_task_run_id ? find_task(rs, r->parent_task_run_id) : NULL;
		r = parent ? parent->run : NULL;
	}
	return NULL;
}

/* The child's job_parameters, each with the parent task's references
 * expanded (the child sees values, not the parent's placeholders). */
static json_t *child_params(struct trun *t, const json_t *given, char *msg, size_t n)
{
	json_t *out = json_object(), *facts = tasks_facts(t->run);
	struct dynref_ctx ctx;
	fill_ctx(&ctx, t, facts);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)given, k, v) {
		char *x = NULL;
		struct model_error err;
		if (!json_is_string(v) || dynref_expand(json_string_value(v), &ctx, &x, &err) != 0) {
			snprintf(msg, n, "run_job_task.job_parameters.%.100s: %.300s", k,
				 json_is_string(v) ? err.message : "must be a string");
			json_decref(out);
			out = NULL;
			break;
		}
		json_object_set_new(out, k, json_string(x));
		free(x);
	}
	json_decref(facts);
	return out;
}

/* The legacy parameters a run_job_task passes (notebook_params, ...), as
 * run-now would: a new object, or NULL when there are none. */
static json_t *child_overrides(const json_t *rj)
{
	static const char *const legacy[] = {"notebook_params", "python_params", "jar_params",
					     "spark_submit_params", "python_named_params",
					     "sql_params", "dbt_commands", NULL};
	json_t *o = NULL;
	for (const char *const *k = legacy; *k; k++) {
		json_t *v = json_object_get(rj, *k);
		if (!v)
			continue;
		if (!o)
			o = json_object();
		json_object_set(o, *k, v);
	}
	return o;
}

/* run_job_task: a run of another job; this task waits for its result. The
 * child is advanced by the next tick, never from inside this one, so that
 * nothing here recurses. */
static void run_child_job(struct runs *rs, struct store *st, struct trun *t)
{
	json_t *rj = json_object_get(t->spec, "run_job_task");
	int64_t job_id = get_int(rj, "job_id");
	set_int(t->doc, "start_time", now_ms(rs));
	char msg[512];
	const char *why = run_job_refused(rs, t, job_id);
	if (why) {
		task_final(t, RL_INTERNAL_ERROR, RR_FAILED, TERM_INVALID_RUN_CONFIGURATION, why,
			   false);
		return;
	}
	struct store_job job;
	if (store_job_get(st, job_id, &job) != STORE_OK) {
		snprintf(msg, sizeof(msg), "Job %lld does not exist.", (long long)job_id);
		task_final(t, RL_INTERNAL_ERROR, RR_FAILED, TERM_RESOURCE_NOT_FOUND, msg, false);
		return;
	}
	json_t *settings = json_loads(job.settings, 0, NULL);
	store_job_release(&job);
	json_t *jp = child_params(t, json_object_get(rj, "job_parameters"), msg, sizeof(msg));
	struct run_request rq = {
		.job_id = job_id,
		.settings = settings,
		.creator = json_string_value(json_object_get(t->run->doc, "creator_user_name")),
		.type = RUN_TYPE_JOB_RUN,
		.trigger = TRIGGER_RUN_JOB_TASK,
		.job_params = jp,
		.overrides = child_overrides(rj),
		.parent_task_run_id = t->run_id,
	};
	int64_t child = 0, number = 0;
	struct model_error err;
	int rc = -1;
	if (!settings)
		snprintf(msg, sizeof(msg), "The settings of job %lld cannot be read",
			 (long long)job_id);
	else if (jp && (rc = runs_create(rs, st, &rq, &child, &number, &err)) != 0)
		snprintf(msg, sizeof(msg), "%.500s", err.message);
	json_decref(settings);
	json_decref(jp);
	json_decref((json_t *)rq.overrides);
	if (rc != 0) {
		task_final(t, RL_INTERNAL_ERROR, RR_FAILED, TERM_INVALID_RUN_CONFIGURATION, msg,
			   false);
		return;
	}
	t->child_run_id = child;
	set_int(run_doc_private(t->doc), "child_run_id", child);
	set_task_state(t, RL_RUNNING, RR_NONE, TERM_NONE, "", false);
}

static void start_task(struct runs *rs, struct store *st, struct trun *t)
{
	const char *member;
	switch (launch_task_kind(t->spec, &member)) {
	case TASK_CONDITION: run_condition(t); return;
	case TASK_RUN_JOB: run_child_job(rs, st, t); return;
	case TASK_NOTEBOOK:
	case TASK_PYTHON_FILE: t->start_now = true; return;
	case TASK_UNSUPPORTED: break;
	}
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "jobsd cannot run %s tasks yet: this installation runs notebook_task, "
		 "spark_python_task, condition_task and run_job_task",
		 member);
	task_final(t, RL_INTERNAL_ERROR, RR_FAILED, TERM_FEATURE_DISABLED, msg, false);
}

static enum run_term job_term(enum run_result res, const struct jrun *r)
{
	switch (res) {
	case RR_SUCCESS: return TERM_SUCCESS;
	case RR_SUCCESS_WITH_FAILURES: return TERM_SUCCESS_WITH_FAILURES;
	case RR_CANCELED: return TERM_USER_CANCELED;
	case RR_TIMEDOUT: return TERM_CANCELED;
	default: return r->timed_out ? TERM_CANCELED : TERM_RUN_EXECUTION_ERROR;
	}
}

static const char *job_message(enum run_result res, const struct jrun *r)
{
	switch (res) {
	case RR_SUCCESS: return "";
	case RR_SUCCESS_WITH_FAILURES: return "Some tasks failed, but every leaf task succeeded.";
	case RR_CANCELED: return "Run cancelled.";
	case RR_TIMEDOUT: return "Run timed out.";
	default: return r->timed_out ? "Run timed out." : "Task failed (see its state message).";
	}
}

static void child_finished(struct runs *rs, struct store *st, struct jrun *child,
			   enum run_result res);

/* Every task is done: the run's result, from its leaf tasks. */
static void finish_run(struct runs *rs, struct store *st, struct jrun *r)
{
	enum run_result res = dag_job_result(r->nodes, r->n, r->cancel && !r->timed_out,
					     r->timed_out);
	int64_t now = now_ms(rs);
	set_int(r->doc, "end_time", now);
	set_int(r->doc, "run_duration", now - get_int(r->doc, "start_time"));
	struct run_state_in s = {RL_TERMINATED, res, job_term(res, r), job_message(res, r),
				 r->cancel || r->timed_out, NULL};
	run_doc_set_state(r->doc, &s);
	json_t *repairs = json_object_get(run_doc_private(r->doc), "repairs");
	json_t *last = json_array_get(repairs, json_array_size(repairs) - 1);
	if (last) { /* the repair that just ended: its history item */
		set_int(last, "end_time", now);
		json_object_set(last, "state", json_object_get(r->doc, "state"));
		json_object_set(last, "status", json_object_get(r->doc, "status"));
	}
	r->life = RL_TERMINATED;
	r->finished = true;
	r->dirty = true;
	if (r->parent_task_run_id)
		child_finished(rs, st, r, res);
	if (r->limited)
		promote(rs, st, r->job_id);
}

/* Marks tasks that will never run once the run is cancelled. */
static void cancel_pending(struct jrun *r)
{
	const char *msg = r->timed_out ? "The run timed out before this task started." :
					 "The run was cancelled before this task started.";
	for (int i = 0; i < r->n; i++) {
		struct trun *t = &r->t[i];
		/* A start decided in this transaction has not happened yet (that
		 * is post_commit's work): it never will. */
		t->start_now = false;
		if (task_done(t) || t->life == RL_RUNNING)
			continue;
		task_final(t, RL_TERMINATED, r->timed_out ? RR_TIMEDOUT : RR_CANCELED,
			   r->timed_out ? TERM_CANCELED : TERM_USER_CANCELED, msg, true);
	}
}

/* Asks the graph which tasks can start now, until nothing changes. */
static void advance(struct runs *rs, struct store *st, struct jrun *r)
{
	r->advance = false;
	if (r->finished) {
		/* A skipped child: its waiting parent task ends with it. */
		if (r->parent_task_run_id && r->life == RL_SKIPPED)
			child_finished(rs, st, r, RR_NONE);
		return;
	}
	if (r->life == RL_QUEUED && !r->cancel)
		return; /* promote() starts it */
	if (r->cancel)
		cancel_pending(r);
	bool changed = true, running = false;
	while (changed) {
		changed = false;
		for (int i = 0; i < r->n && !r->cancel; i++) {
			struct trun *t = &r->t[i];
			if (task_done(t) || t->life != RL_PENDING || t->start_now || t->fail_msg ||
			    t->finding)
				continue;
			enum run_result res;
			const char *why = NULL;
			enum dag_verdict v = dag_decide(r->nodes, i, &res, &why);
			if (v == DAG_NOT_RUN) {
				task_not_run(t, res, why);
				changed = true;
			} else if (v == DAG_RUN) {
				start_task(rs, st, t);
				changed = task_done(t);
			}
		}
	}
	bool all_done = true;
	for (int i = 0; i < r->n; i++) {
		all_done &= task_done(&r->t[i]);
		running |= r->t[i].life == RL_RUNNING || r->t[i].start_now;
	}
	if (all_done) {
		finish_run(rs, st, r);
		return;
	}
	enum run_life life = r->cancel ? RL_TERMINATING : running ? RL_RUNNING : r->life;
	if (life != r->life) {
		r->life = life;
		struct run_state_in s = {life, RR_NONE, TERM_NONE,
					 r->cancel ? "Cancelling the run." : "", false, NULL};
		run_doc_set_state(r->doc, &s);
		r->dirty = true;
	}
}

/* --- attempts ending -------------------------------------------------------------------- */

/* The task's error message from error.json of its attempt, if any. */
static char *attempt_error(struct runs *rs, int64_t id)
{
	char path[PATH_MAX];
	if (runs_attempt_file(rs->data_dir, id, "error.json", path, sizeof(path)) != 0)
		return NULL;
	json_t *e = json_load_file(path, 0, NULL);
	const char *msg = json_string_value(json_object_get(e, "error"));
	char *out = msg ? strdup(msg) : NULL;
	json_decref(e);
	return out;
}

/* Most bytes of task_values.json read back (each value is at most 48 KiB,
 * their number is the task's business): the values go into the stored task
 * run and into every downstream task's context. */
#define TASK_VALUES_MAX (1024 * 1024)

/* Task values the attempt set (task_values.json), kept with the task run. */
static void attempt_values(struct runs *rs, struct trun *t)
{
	char path[PATH_MAX], *text = NULL;
	size_t len;
	if (runs_attempt_file(rs->data_dir, t->run_id, "task_values.json", path, sizeof(path)) != 0)
		return;
	int rc = fsio_read_all(path, TASK_VALUES_MAX, &text, &len);
	if (rc == -EFBIG)
		log_warn("runs: task values of run %lld are over %d bytes; ignored",
			 (long long)t->run_id, TASK_VALUES_MAX);
	json_t *v = rc == 0 ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	if (json_is_object(v))
		json_object_set_new(run_doc_private(t->doc), "values", v);
	else
		json_decref(v);
}

static bool should_retry(const struct trun *t, enum run_result res, enum run_life life)
{
	if (t->run->cancel || t->cancel_asked)
		return false;
	json_int_t max = json_integer_value(json_object_get(t->spec, "max_retries"));
	bool retryable = res == RR_FAILED || life == RL_INTERNAL_ERROR ||
			 (res == RR_TIMEDOUT && json_is_true(json_object_get(t->spec, "retry_on_timeout")));
	return retryable && (max < 0 || t->attempt < max);
}

/* The next attempt: a new task run, WAITING_FOR_RETRY until its time. */
static int schedule_retry(struct runs *rs, struct store *st, struct trun *t)
{
	int rc = put_doc(st, t->run, t->doc, t->run_id, t->run->run_id, false);
	int64_t id = 0;
	if (rc == STORE_OK)
		rc = store_counter_next(st, "run_ids", &id);
	if (rc != STORE_OK)
		return rc;
	int64_t first = get_int(t->doc, "original_attempt_run_id");
	int64_t started = get_int(t->doc, "start_time");
	json_decref(t->doc);
	t->attempt++;
	t->run_id = id;
	t->doc = new_task_doc(rs, t->spec, id, t->attempt, first);
	t->handle[0] = '\0';
	t->cancel_sent = false;
	int64_t wait = json_integer_value(json_object_get(t->spec, "min_retry_interval_millis"));
	t->retry_at = (started ? started : now_ms(rs)) + wait;
	set_int(run_doc_private(t->doc), "retry_at", t->retry_at);
	struct dag_node *node = &t->run->nodes[t->idx];
	node->done = false;
	node->result = RR_NONE;
	set_task_state(t, RL_WAITING_FOR_RETRY, RR_NONE, TERM_NONE, "Waiting for retry", false);
	return STORE_OK;
}

/* An attempt ended (or could not start): its final state, then a retry or
 * the graph moving on. */
static void end_attempt(struct runs *rs, struct store *st, struct trun *t, enum run_life life,
			enum run_result res, enum run_term term, const char *msg, bool user)
{
	task_final(t, life, res, term, msg, user);
	if (should_retry(t, res, life) && schedule_retry(rs, st, t) != STORE_OK)
		rs->reload = true;
}

static void read_exit(struct runs *rs, struct store *st, struct trun *t)
{
	struct exec_status es;
	char dir[PATH_MAX];
	t->exited = false;
	if (runs_attempt_dir(rs->data_dir, t->run_id, dir, sizeof(dir)) != 0 ||
	    rs->ex->ops->poll(rs->ex, dir, t->handle, &es) != 0)
		es.state = EXEC_LOST;
	if (es.state == EXEC_RUNNING) { /* woken early, or polling: wait again */
		if (t->watch.fd < 0 || engine_watch(rs->e, &t->watch) != 0)
			t->poll_at = now_ms(rs) + POLL_MS;
		return;
	}
	t->poll_at = 0;
	engine_unwatch(rs->e, &t->watch);
	rs->ex->ops->release(rs->ex, t->handle, t->watch.fd);
	t->watch.fd = -1;
	attempt_values(rs, t);
	char msg[512];
	char *err = attempt_error(rs, t->run_id);
	bool job_timeout = t->run->timed_out;
	if (es.state == EXEC_LOST) {
		snprintf(msg, sizeof(msg),
			 "The task's supervisor ended without recording how the task ended");
		end_attempt(rs, st, t, RL_INTERNAL_ERROR, RR_FAILED, TERM_INTERNAL_ERROR, msg, false);
	} else if (es.timed_out || (job_timeout && t->cancel_sent)) {
		snprintf(msg, sizeof(msg), "Task %s timed out.", t->key);
		end_attempt(rs, st, t, RL_TERMINATED, RR_TIMEDOUT, TERM_CANCELED, msg, true);
	} else if (es.canceled || t->cancel_sent || t->cancel_asked) {
		end_attempt(rs, st, t, RL_TERMINATED, RR_CANCELED, TERM_USER_CANCELED,
			    "Run cancelled.", true);
	} else if (es.state == EXEC_EXITED && es.exit_code == 0) {
		end_attempt(rs, st, t, RL_TERMINATED, RR_SUCCESS, TERM_SUCCESS, "", false);
	} else {
		if (err)
			snprintf(msg, sizeof(msg), "%s", err);
		else if (es.state == EXEC_EXITED)
			snprintf(msg, sizeof(msg), "Task %s failed: the process exited with code %d",
				 t->key, es.exit_code);
		else
			snprintf(msg, sizeof(msg), "Task %s failed: the process was killed by %s",
				 t->key, strsignal(es.term_signal));
		end_attempt(rs, st, t, RL_TERMINATED, RR_FAILED, TERM_RUN_EXECUTION_ERROR, msg,
			    false);
	}
	free(err);
}

/* The waiting run_job_task takes the result of its child run. */
static void end_attempt(struct runs *rs, struct store *st, struct trun *t, enum run_life life,
			enum run_result res, enum run_term term, const char *msg, bool user);

/* The waiting run_job_task takes the result of its child run, and is
 * retried like any task when its settings say so. */
static void take_child_result(struct runs *rs, struct store *st, struct trun *t, int64_t child_id,
			      int64_t child_job, enum run_result res)
{
	t->child_run_id = 0;
	if (res == RR_SUCCESS || res == RR_SUCCESS_WITH_FAILURES) {
		end_attempt(rs, st, t, RL_TERMINATED, RR_SUCCESS, TERM_SUCCESS, "", false);
		return;
	}
	char msg[128];
	snprintf(msg, sizeof(msg), "The run %lld of job %lld ended %s.", (long long)child_id,
		 (long long)child_job, res == RR_NONE ? "without a result" : run_result_name(res));
	enum run_result mine = res == RR_CANCELED || res == RR_TIMEDOUT ? res : RR_FAILED;
	enum run_term term = mine == RR_FAILED	  ? TERM_RUN_EXECUTION_ERROR :
			     mine == RR_TIMEDOUT ? TERM_CANCELED :
						   TERM_USER_CANCELED;
	end_attempt(rs, st, t, RL_TERMINATED, mine, term, msg, false);
}

/* A child run ended in memory: its parent task, if loaded, takes the result. */
static void child_finished(struct runs *rs, struct store *st, struct jrun *child,
			   enum run_result res)
{
	struct trun *t = find_task(rs, child->parent_task_run_id);
	if (t && !task_done(t) && t->child_run_id == child->run_id)
		take_child_result(rs, st, t, child->run_id, child->job_id, res);
}

/* A run_job_task whose child is not among the active runs (it ended while
 * this run was not loaded, or was deleted): the stored child decides. */
static void settle_child(struct runs *rs, struct store *st, struct trun *t)
{
	if (!t->child_run_id || task_done(t) || find_run(rs, t->child_run_id))
		return;
	struct store_run row;
	int rc = store_run_get(st, t->child_run_id, &row);
	if (rc == STORE_NOT_FOUND) {
		take_child_result(rs, st, t, t->child_run_id, 0, RR_NONE);
		return;
	}
	if (rc != STORE_OK)
		return; /* the next tick tries again */
	json_t *doc = json_loads(row.doc, 0, NULL);
	store_run_release(&row);
	const char *res = json_string_value(
		json_object_get(json_object_get(doc, "state"), "result_state"));
	if (res)
		take_child_result(rs, st, t, t->child_run_id, get_int(doc, "job_id"),
				  (enum run_result)run_result_parse(res));
	json_decref(doc);
}

/* --- timers ------------------------------------------------------------------------- */

static void request_cancel(struct jrun *r, bool timeout);

static void reattach(struct runs *rs, struct trun *t);

static void run_timers(struct jrun *r, int64_t now)
{
	if (r->deadline && now >= r->deadline && !r->finished && !r->cancel)
		request_cancel(r, true);
	for (int i = 0; i < r->n; i++) {
		struct trun *t = &r->t[i];
		if (t->poll_at && now >= t->poll_at) {
			t->poll_at = 0;
			if (t->finding)
				reattach(r->rs, t);
			else
				t->exited = true;
		}
		if (t->life == RL_WAITING_FOR_RETRY && now >= t->retry_at) {
			set_task_state(t, RL_PENDING, RR_NONE, TERM_NONE, "", false);
			t->retry_at = 0;
			r->advance = true;
		}
	}
}

static bool run_succeeded(const struct jrun *r)
{
	const char *res = json_string_value(
		json_object_get(json_object_get(r->doc, "state"), "result_state"));
	return r->life == RL_TERMINATED && res && strcmp(res, "SUCCESS") == 0;
}

void runs_on_end(struct runs *rs, void (*cb)(void *arg, int64_t job_id, bool failed), void *arg)
{
	rs->on_end = cb;
	rs->on_end_arg = arg;
}

int runs_job_active(const struct runs *rs, int64_t job_id)
{
	return job_runs_open(rs, job_id, true);
}

static int64_t next_timer(void *arg)
{
	struct runs *rs = arg;
	int64_t due = rs->tick_retry_at ? rs->tick_retry_at : INT64_MAX;
	if (rs->sweep_at && !rs->sweep_queued && rs->sweep_at < due)
		due = rs->sweep_at;
	for (struct jrun *r = rs->active; r; r = r->next) {
		if (r->deadline && !r->cancel && !r->finished && r->deadline < due)
			due = r->deadline;
		for (int i = 0; i < r->n; i++)
		{
			if (r->t[i].life == RL_WAITING_FOR_RETRY && r->t[i].retry_at < due)
				due = r->t[i].retry_at;
			if (r->t[i].poll_at && r->t[i].poll_at < due)
				due = r->t[i].poll_at;
		}
	}
	return due;
}

static void timer_due(void *arg)
{
	struct runs *rs = arg;
	if (rs->sweep_at && !rs->sweep_queued && rs->sweep_at <= now_ms(rs)) {
		rs->sweep_queued = true;
		engine_submit(rs->e, &rs->sweep);
	}
	rs->tick_retry_at = 0;
	queue_tick(rs);
}

/* --- cancel ---------------------------------------------------------------------------- */

static void request_cancel(struct jrun *r, bool timeout)
{
	if (r->finished || r->cancel)
		return;
	r->cancel = true;
	r->timed_out = timeout;
	json_t *priv = run_doc_private(r->doc);
	json_object_set_new(priv, "cancel", json_true());
	json_object_set_new(priv, "timed_out", json_boolean(timeout));
	r->dirty = true;
	r->advance = true;
	for (int i = 0; i < r->n; i++) {
		struct trun *t = &r->t[i];
		if (t->life == RL_RUNNING && t->handle[0])
			t->cancel_now = true;
		if (t->child_run_id) {
			struct jrun *child = find_run(r->rs, t->child_run_id);
			if (child)
				request_cancel(child, timeout);
		}
	}
}

int runs_cancel(struct runs *rs, struct store *st, int64_t run_id, struct model_error *err)
{
	struct jrun *r = find_run(rs, run_id);
	if (r) {
		request_cancel(r, false);
		advance(rs, st, r);
		return 0;
	}
	struct trun *t = find_task(rs, run_id);
	if (t) {
		/* One task: it ends CANCELED, its dependants UPSTREAM_CANCELED. */
		t->start_now = false;
		t->cancel_asked = true;
		if (t->life == RL_RUNNING && t->handle[0])
			t->cancel_now = true;
		else if (!task_done(t) && !t->child_run_id)
			task_final(t, RL_TERMINATED, RR_CANCELED, TERM_USER_CANCELED,
				   "Run cancelled.", true);
		if (t->child_run_id && find_run(rs, t->child_run_id))
			request_cancel(find_run(rs, t->child_run_id), false);
		t->run->advance = true;
		advance(rs, st, t->run);
		return 0;
	}
	struct store_run row;
	int rc = store_run_get(st, run_id, &row);
	if (rc == STORE_OK) {
		store_run_release(&row);
		return 0; /* finished already: a no-op */
	}
	if (rc == STORE_NOT_FOUND) {
		model_fail(err, 400, "INVALID_PARAMETER_VALUE", "Run %lld does not exist.",
				(long long)run_id);
		return -1;
	}
	return store_failed(err, rc);
}

int runs_cancel_all(struct runs *rs, struct store *st, int64_t job_id, bool queued_only)
{
	for (struct jrun *r = rs->active; r; r = r->next) {
		if ((job_id && r->job_id != job_id) || r->finished)
			continue;
		if (queued_only && r->life != RL_QUEUED)
			continue;
		request_cancel(r, false);
		advance(rs, st, r);
	}
	return 0;
}

void runs_job_changed(struct runs *rs, struct store *st, int64_t job_id,
		      const json_t *settings)
{
	int64_t timeout = json_integer_value(json_object_get(settings, "timeout_seconds"));
	json_t *max = json_object_get(settings, "max_concurrent_runs");
	for (struct jrun *r = rs->active; r; r = r->next) {
		if (r->job_id != job_id || r->finished || !r->limited)
			continue;
		if (max)
			r->max_concurrent = (int)json_integer_value(max);
		int64_t d = timeout > 0 ? get_int(r->doc, "start_time") + timeout * 1000 : 0;
		if (d == r->deadline)
			continue;
		r->deadline = d;
		set_int(run_doc_private(r->doc), "deadline", d);
		r->dirty = true; /* the next timer is asked again after this batch */
	}
	promote(rs, st, job_id);
}


/* --- repair ------------------------------------------------------------------------ */

static int load_task(void *arg, const struct store_run *row);

/* The settings a repair uses: the job's current ones (a runs/submit run has
 * only its own). */
static json_t *repair_settings(struct store *st, const json_t *doc, struct model_error *err)
{
	const json_t *priv = json_object_get(doc, RUN_DOC_PRIVATE);
	if (strcmp(json_string_value(json_object_get(doc, "run_type")), "SUBMIT_RUN") == 0)
		return json_deep_copy(json_object_get(priv, "settings"));
	struct store_job job;
	int64_t job_id = get_int(doc, "job_id");
	int rc = store_job_get(st, job_id, &job);
	if (rc == STORE_NOT_FOUND) {
		model_fail(err, 400, "INVALID_PARAMETER_VALUE", "Job %lld does not exist.",
			   (long long)job_id);
		return NULL;
	}
	if (rc != STORE_OK) {
		store_failed(err, rc);
		return NULL;
	}
	json_t *settings = json_loads(job.settings, 0, NULL);
	store_job_release(&job);
	if (!settings)
		model_fail(err, 500, "INTERNAL_ERROR", "The job's settings cannot be read");
	return settings;
}

/* latest_repair_id: absent on the first repair, the latest one after. */
static int check_latest(const json_t *repairs, const struct repair_request *rq,
			struct model_error *err)
{
	size_t n = json_array_size(repairs);
	int64_t latest = n ? get_int(json_array_get(repairs, n - 1), "id") : 0;
	if (n && !rq->has_latest)
		return model_fail(err, 400, "INVALID_PARAMETER_VALUE",
				  "latest_repair_id is required: run %lld has been repaired before "
				  "(latest repair %lld)",
				  (long long)rq->run_id, (long long)latest);
	if (rq->has_latest && rq->latest_repair_id != latest)
		return model_fail(err, 400, "INVALID_PARAMETER_VALUE",
				  "latest_repair_id %lld is not the latest repair of run %lld%s%lld",
				  (long long)rq->latest_repair_id, (long long)rq->run_id,
				  n ? ": that is " : ": it has none; ", (long long)latest);
	return 0;
}

/* Which tasks rerun: rerun_tasks (keys of the current settings) or the
 * failed ones, then their dependants (dag_repair_select). A task the run
 * never had (added to the job since) always runs. */
static int repair_selection(struct jrun *r, const struct repair_request *rq, bool *out,
			    struct model_error *err)
{
	bool *asked = calloc((size_t)r->n + 1, sizeof(*asked));
	if (!asked)
		return model_fail(err, 500, "INTERNAL_ERROR", "out of memory");
	size_t i;
	json_t *k;
	json_array_foreach(rq->rerun_tasks, i, k) {
		int idx = json_is_string(k) ? task_index(json_object_get(r->settings, "tasks"),
							 json_string_value(k)) :
					      -1;
		if (idx < 0) {
			free(asked);
			return model_fail(err, 400, "INVALID_PARAMETER_VALUE",
					  "rerun_tasks[%zu]: the job has no task %s", i,
					  json_is_string(k) ? json_string_value(k) : "(not a string)");
		}
		asked[idx] = true;
	}
	for (int t = 0; t < r->n; t++)
		if (!r->t[t].doc)
			asked[t] = true;
	dag_repair_select(r->nodes, r->n, asked, rq->rerun_all_failed, rq->rerun_dependents, out);
	free(asked);
	for (int t = 0; t < r->n; t++)
		if (out[t])
			return 0;
	return model_fail(err, 400, "INVALID_PARAMETER_VALUE",
			  "Nothing to repair: no task of run %lld matches the request",
			  (long long)rq->run_id);
}

/* A new attempt of each selected task; the others keep their last one. */
static int repair_tasks(struct runs *rs, struct store *st, struct jrun *r, const bool *sel,
			json_t *ids)
{
	for (int i = 0; i < r->n; i++) {
		struct trun *t = &r->t[i];
		if (!sel[i]) {
			t->dirty = false;
			continue;
		}
		int64_t id;
		int rc = store_counter_next(st, "run_ids", &id);
		if (rc != STORE_OK)
			return rc;
		json_decref(t->doc);
		t->run_id = id;
		t->attempt = 0;
		t->child_run_id = 0;
		t->handle[0] = '\0';
		t->doc = new_task_doc(rs, t->spec, id, 0, id);
		r->nodes[i].done = false;
		r->nodes[i].result = RR_NONE;
		r->nodes[i].outcome = -1;
		set_task_state(t, RL_PENDING, RR_NONE, TERM_NONE, "", false);
		json_array_append_new(ids, json_integer(id));
	}
	return STORE_OK;
}

/* The history item of the run as it was before its first repair. */
static void keep_original(json_t *doc, struct jrun *r)
{
	json_t *priv = run_doc_private(doc);
	if (json_object_get(priv, "original"))
		return;
	json_t *ids = json_array();
	for (int i = 0; i < r->n; i++)
		if (r->t[i].doc)
			json_array_append_new(ids, json_integer(r->t[i].run_id));
	json_object_set_new(priv, "original",
			    json_pack("{s:O, s:O, s:O, s:O, s:o}", "start_time",
				      json_object_get(doc, "start_time"), "end_time",
				      json_object_get(doc, "end_time"), "state",
				      json_object_get(doc, "state"), "status",
				      json_object_get(doc, "status"), "task_run_ids", ids));
}

/* New parameters of the repair replace the run's (reference §1: repair
 * takes job_parameters and the legacy fields as run-now does). */
static int repair_params(json_t *doc, const json_t *settings, const struct repair_request *rq,
			 struct model_error *err)
{
	json_t *priv = run_doc_private(doc);
	if (rq->overrides && json_object_size(rq->overrides)) {
		json_object_set(priv, "overrides", (json_t *)rq->overrides);
		json_object_set(doc, "overriding_parameters", (json_t *)rq->overrides);
	}
	if (!rq->job_params && !json_object_get(settings, "parameters"))
		return 0;
	json_t *given = rq->job_params ? (json_t *)rq->job_params : json_object();
	json_t *eff, *shown;
	int rc = effective_params(settings, given, &eff, &shown, err);
	if (!rq->job_params)
		json_decref(given);
	if (rc == 0) {
		json_object_set(priv, "job_params", eff);
		json_object_set(doc, "job_parameters", shown);
	}
	json_decref(eff);
	json_decref(shown);
	return rc;
}

static struct jrun *load_for_repair(struct runs *rs, struct store *st,
				    const struct repair_request *rq, struct model_error *err)
{
	struct store_run row = {0};
	int rc = store_run_get(st, rq->run_id, &row);
	json_t *doc = rc == STORE_OK && !row.parent_id ? json_loads(row.doc, 0, NULL) : NULL;
	store_run_release(&row);
	if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
		store_failed(err, rc);
		return NULL;
	}
	if (!doc) {
		model_fail(err, 400, "INVALID_PARAMETER_VALUE", "Run %lld does not exist.",
			   (long long)rq->run_id);
		return NULL;
	}
	json_t *settings = NULL;
	if (check_latest(json_object_get(run_doc_private(doc), "repairs"), rq, err) != 0 ||
	    !(settings = repair_settings(st, doc, err)) ||
	    repair_params(doc, settings, rq, err) != 0) {
		json_decref(settings);
		json_decref(doc);
		return NULL;
	}
	json_object_set_new(run_doc_private(doc), "settings", settings);
	struct jrun *r = jrun_new(rs, doc);
	if (r && store_run_children(st, r->run_id, load_task, r) != STORE_OK) {
		jrun_free(r);
		r = NULL;
	}
	if (!r)
		model_fail(err, 500, "INTERNAL_ERROR", "Run %lld cannot be read",
			   (long long)rq->run_id);
	return r;
}

/* The run leaves its terminal state before the answer (SDK repair waiters
 * read it at once): PENDING, no end, a new deadline, a history item. */
static void reopen_run(struct runs *rs, struct jrun *r, int64_t repair_id, json_t *ids)
{
	int64_t now = now_ms(rs);
	json_t *priv = run_doc_private(r->doc);
	json_t *repairs = json_object_get(priv, "repairs");
	if (!repairs) {
		repairs = json_array();
		json_object_set_new(priv, "repairs", repairs);
	}
	json_array_append_new(repairs, json_pack("{s:I, s:I, s:I, s:o}", "id", (json_int_t)repair_id,
						 "start_time", (json_int_t)now, "end_time",
						 (json_int_t)0, "task_run_ids", ids));
	json_object_del(priv, "cancel");
	json_object_del(priv, "timed_out");
	r->cancel = r->timed_out = false;
	int64_t timeout = get_int(r->settings, "timeout_seconds");
	r->deadline = timeout > 0 ? now + timeout * 1000 : 0;
	set_int(priv, "deadline", r->deadline);
	set_int(r->doc, "end_time", 0);
	r->max_concurrent = (int)get_int(r->settings, "max_concurrent_runs");
	r->finished = false;
	set_run_state(r, RL_PENDING, RR_NONE, TERM_NONE, "", NULL);
	json_t *item = json_array_get(repairs, json_array_size(repairs) - 1);
	json_object_set(item, "state", json_object_get(r->doc, "state"));
	json_object_set(item, "status", json_object_get(r->doc, "status"));
}

int runs_repair(struct runs *rs, struct store *st, const struct repair_request *rq,
		int64_t *repair_id, struct model_error *err)
{
	if (find_run(rs, rq->run_id) || find_task(rs, rq->run_id))
		return model_fail(err, 400, "INVALID_STATE",
				  "Run %lld is still active: only a finished run can be repaired",
				  (long long)rq->run_id);
	struct jrun *r = load_for_repair(rs, st, rq, err);
	if (!r)
		return -1;
	bool *sel = calloc((size_t)r->n + 1, sizeof(*sel));
	json_t *ids = json_array();
	int rc = sel ? repair_selection(r, rq, sel, err) : model_fail(err, 500, "INTERNAL_ERROR",
								      "out of memory");
	int src = STORE_OK;
	if (rc == 0)
		keep_original(r->doc, r); /* before the tasks get new run ids */
	if (rc == 0 && (src = store_counter_next(st, "run_ids", repair_id)) == STORE_OK)
		src = repair_tasks(rs, st, r, sel, ids);
	free(sel);
	if (rc == 0 && src != STORE_OK)
		rc = store_failed(err, src);
	if (rc != 0) {
		json_decref(ids);
		jrun_free(r);
		return -1;
	}
	reopen_run(rs, r, *repair_id, ids);
	r->next = rs->active;
	rs->active = r;
	advance(rs, st, r);
	return 0;
}

/* Removes an attempt folder and everything in it: the task ran there and
 * may have written anything (its cwd is the folder). */
static void remove_attempt(struct runs *rs, int64_t id)
{
	char dir[PATH_MAX];
	if (runs_attempt_dir(rs->data_dir, id, dir, sizeof(dir)) != 0)
		return;
	int rc = fsio_remove_tree(dir);
	if (rc < 0)
		log_warn("runs: %s left behind: %s", dir, strerror(-rc));
}

static int collect_child(void *arg, const struct store_run *row)
{
	json_t *ids = arg;
	json_array_append_new(ids, json_integer(row->run_id));
	return 0;
}

int runs_delete(struct runs *rs, struct store *st, int64_t run_id, struct model_error *err)
{
	if (find_run(rs, run_id)) {
		model_fail(err, 400, "INVALID_STATE",
				"Run %lld is active: cancel it and wait for it to end before "
				"deleting it.",
				(long long)run_id);
		return -1;
	}
	struct store_run row = {0};
	int rc = store_run_get(st, run_id, &row);
	if (rc == STORE_OK && row.parent_id != 0)
		rc = STORE_NOT_FOUND; /* task runs go with their job run */
	if (rc == STORE_OK && row.idem_token) {
		/* The token stays taken (runs_create refuses it). */
		char key[128], id[32];
		token_key(row.idem_token, key, sizeof(key));
		snprintf(id, sizeof(id), "%lld", (long long)run_id);
		rc = store_meta_set(st, key, id);
	}
	store_run_release(&row);
	if (rc == STORE_NOT_FOUND) {
		model_fail(err, 400, "INVALID_PARAMETER_VALUE", "Run %lld does not exist.",
				(long long)run_id);
		return -1;
	}
	json_t *ids = json_array();
	if (rc == STORE_OK)
		rc = store_run_children(st, run_id, collect_child, ids);
	if (rc == STORE_OK)
		rc = store_run_delete(st, run_id);
	if (rc != STORE_OK) {
		json_decref(ids);
		return store_failed(err, rc);
	}
	/* The folders go now; were the commit to fail the run would stay
	 * without logs, never the other way round (logs of a deleted run). */
	size_t i;
	json_t *id;
	json_array_foreach(ids, i, id)
		remove_attempt(rs, json_integer_value(id));
	json_decref(ids);
	return 0;
}


/* --- retention ---------------------------------------------------------------------- */

/* Runs deleted per transaction, and the pause between sweeps when nothing
 * is left: the sweep never holds the engine for long. */
#define SWEEP_BATCH 100
#define SWEEP_EVERY_MS (10 * 60 * 1000)

struct sweep_ctx {
	struct store *st;
	json_t *runs, *tasks;
};

static int sweep_row(void *arg, const struct store_run *row)
{
	struct sweep_ctx *c = arg;
	json_array_append_new(c->runs, json_integer(row->run_id));
	return 0;
}

/* One batch: the oldest finished runs past retention, their rows now, their
 * folders after the commit (sweep_done). Idempotency tokens go with them:
 * a token is kept as long as its run. */
static int sweep_op(struct engine_op *op, struct store *st)
{
	struct runs *rs = (struct runs *)((char *)op - offsetof(struct runs, sweep));
	rs->sweep_queued = false;
	int64_t now = now_ms(rs);
	int64_t cutoff = now - rs->cfg.retention_ms;
	struct sweep_ctx c = {st, json_array(), json_array()};
	int rc = cutoff > 0 ? store_run_list_expired(st, cutoff, SWEEP_BATCH, sweep_row, &c) :
			      STORE_OK;
	size_t i;
	json_t *id;
	json_array_foreach(c.runs, i, id) {
		if (rc == STORE_OK)
			rc = store_run_children(st, json_integer_value(id), collect_child, c.tasks);
		if (rc == STORE_OK)
			rc = store_run_delete(st, json_integer_value(id));
	}
	size_t n = json_array_size(c.runs);
	json_decref(c.runs);
	rs->sweep_at = now + (n == SWEEP_BATCH ? 0 : SWEEP_EVERY_MS);
	if (rc != STORE_OK) {
		json_decref(c.tasks);
		rs->sweep_at = now + 1000;
		return rc;
	}
	if (n)
		log_info("runs: retention deleted %zu runs started before %lld", n,
			 (long long)cutoff);
	json_decref(rs->swept);
	rs->swept = c.tasks;
	return 0;
}

static void sweep_done(struct engine_op *op, int run_rc, int commit_rc)
{
	struct runs *rs = (struct runs *)((char *)op - offsetof(struct runs, sweep));
	if (rs->sweep_queued) { /* never ran: no transaction could begin */
		rs->sweep_queued = false;
		rs->sweep_at = now_ms(rs) + 1000;
	}
	size_t i;
	json_t *id;
	if (run_rc == 0 && commit_rc == STORE_OK)
		json_array_foreach(rs->swept, i, id)
			remove_attempt(rs, json_integer_value(id));
	json_decref(rs->swept);
	rs->swept = NULL;
}

/* --- the tick: events into transitions ------------------------------------------------ */

static void on_exit_watch(struct engine_watch *w)
{
	struct trun *t = (struct trun *)((char *)w - offsetof(struct trun, watch));
	t->exited = true;
	/* The fd stays readable: stop watching it until the tick has read it. */
	engine_unwatch(t->run->rs->e, w);
	queue_tick(t->run->rs);
}

static void tick_run(struct runs *rs, struct store *st, struct jrun *r, int64_t now)
{
	run_timers(r, now);
	for (int i = 0; i < r->n; i++) {
		struct trun *t = &r->t[i];
		if (t->exited)
			read_exit(rs, st, t);
		settle_child(rs, st, t);
		if (t->fail_msg) {
			end_attempt(rs, st, t, RL_INTERNAL_ERROR, RR_FAILED, t->fail_term, t->fail_msg,
				    false);
			free(t->fail_msg);
			t->fail_msg = NULL;
		}
	}
	if (r->advance)
		advance(rs, st, r);
}

static int tick_op(struct engine_op *op, struct store *st)
{
	struct runs *rs = (struct runs *)((char *)op - offsetof(struct runs, tick));
	rs->tick_queued = false;
	int64_t now = now_ms(rs);
	for (struct jrun *r = rs->active; r; r = r->next)
		tick_run(rs, st, r, now);
	/* Queued runs whose slot freed while they were not watched (loaded
	 * after a restart, a limit raised): promote() is cheap when full. */
	for (struct jrun *r = rs->active; r; r = r->next)
		if (r->life == RL_QUEUED && !r->finished)
			promote(rs, st, r->job_id);
	/* A finished child may have moved its parent: once more for those. */
	for (struct jrun *r = rs->active; r; r = r->next)
		if (r->advance)
			advance(rs, st, r);
	return 0;
}

/* A tick whose transaction could not even begin (database busy, I/O
 * error) never ran: its events are still pending, so it must come back, a
 * little later rather than in a busy loop. */
static void tick_done(struct engine_op *op, int run_rc, int commit_rc)
{
	struct runs *rs = (struct runs *)((char *)op - offsetof(struct runs, tick));
	(void)run_rc;
	if (commit_rc != STORE_OK && rs->tick_queued) {
		rs->tick_queued = false;
		rs->tick_retry_at = now_ms(rs) + 200;
	}
}

/* --- hooks ------------------------------------------------------------------------------ */

static int pre_commit(void *arg, struct store *st)
{
	struct runs *rs = arg;
	for (struct jrun *r = rs->active; r; r = r->next) {
		int rc = flush_run(st, r);
		if (rc != STORE_OK)
			return rc;
	}
	return rs->reload ? -1 : 0;
}

/* Starts one attempt's process; on failure the tick ends the attempt. */
static void spawn(struct runs *rs, struct trun *t)
{
	t->start_now = false;
	if (t->life != RL_PENDING || task_done(t) || t->fail_msg)
		return; /* decided otherwise since (a cancel in the same batch) */
	char msg[512] = "";
	enum run_term term = TERM_INVALID_RUN_CONFIGURATION;
	json_t *facts = tasks_facts(t->run);
	struct dynref_ctx ctx;
	fill_ctx(&ctx, t, facts);
	struct launch_params p = {0};
	struct launch l = {0};
	json_t *values = json_object();
	for (int i = 0; i < t->run->n; i++) {
		json_t *v = json_object_get(json_object_get(t->run->t[i].doc, RUN_DOC_PRIVATE),
					    "values");
		if (v && i != t->idx)
			json_object_set(values, t->run->t[i].key, v);
	}
	int rc = launch_params(t->spec, t->run->doc, &ctx, &p, msg, sizeof(msg));
	if (rc == 0)
		rc = launch_prepare(&rs->cfg, rs->ws, t->spec, t->run->doc, &ctx, &p, values, &l,
				    msg, sizeof(msg));
	if (rc == 0) {
		int64_t timeout = get_int(t->spec, "timeout_seconds");
		struct exec_spec spec = {
			.run_id = t->run_id,
			.task_key = t->key,
			.attempt = t->attempt,
			.attempt_dir = l.dir,
			.argv = l.argv,
			.envp = (const char *const *)l.envp,
			.timeout_ms = timeout > 0 ? timeout * 1000 : 0,
			.grace_ms = rs->cfg.grace_ms,
		};
		int fd = -1;
		rc = rs->ex->ops->start(rs->ex, &spec, t->handle, sizeof(t->handle), &fd);
		if (rc < 0) {
			snprintf(msg, sizeof(msg), "The task could not be started: %s",
				 strerror(-rc));
			term = TERM_INTERNAL_ERROR; /* jobsd's failure, not the task's */
		}
		t->watch.fd = fd;
		if (rc == 0 && (fd < 0 || engine_watch(rs->e, &t->watch) != 0))
			t->poll_at = now_ms(rs) + POLL_MS; /* cannot watch: poll instead */
	}
	launch_free(&l);
	launch_params_free(&p);
	json_decref(values);
	json_decref(facts);
	if (rc != 0) {
		t->fail_msg = strdup(msg);
		t->fail_term = term;
		return;
	}
	int64_t now = now_ms(rs);
	set_int(t->doc, "start_time", now);
	json_object_set_new(t->doc, "cluster_instance",
			    json_pack("{s:s}", "cluster_id", "jobsd-local"));
	json_object_set_new(run_doc_private(t->doc), "handle", json_string(t->handle));
	set_task_state(t, RL_RUNNING, RR_NONE, TERM_NONE, "", false);
	t->run->advance = true; /* the job run becomes RUNNING */
}

static void load_active(struct runs *rs);

static void post_commit(void *arg, int commit_rc)
{
	struct runs *rs = arg;
	if (commit_rc != STORE_OK || rs->reload) {
		rs->reload = false;
		/* Reload, then try again after a pause that grows while the store
		 * keeps failing (a full disk): never a busy loop of failed commits. */
		int64_t now = now_ms(rs);
		rs->fail_backoff = rs->fail_backoff ? rs->fail_backoff * 2 : 100;
		if (rs->fail_backoff > 5000)
			rs->fail_backoff = 5000;
		if (now - rs->fail_logged >= 5000) {
			log_warn("runs: a transaction failed (%s); runs reloaded from the store, "
				 "retrying in %lld ms",
				 store_rc_name(commit_rc), (long long)rs->fail_backoff);
			rs->fail_logged = now;
		}
		load_active(rs);
		rs->tick_retry_at = now + rs->fail_backoff;
		return;
	}
	rs->fail_backoff = 0;
	bool more = false;
	for (struct jrun **pp = &rs->active; *pp;) {
		struct jrun *r = *pp;
		for (int i = 0; i < r->n; i++) {
			struct trun *t = &r->t[i];
			if (t->start_now)
				spawn(rs, t);
			if (t->cancel_now && !t->cancel_sent && t->handle[0]) {
				rs->ex->ops->cancel(rs->ex, t->handle);
				t->cancel_sent = true;
			}
			t->cancel_now = false;
			more |= t->dirty || t->fail_msg || t->exited;
		}
		more |= r->dirty || r->advance;
		if (r->finished && !r->dirty) {
			*pp = r->next;
			if (rs->on_end && r->limited)
				rs->on_end(rs->on_end_arg, r->job_id,
						  !run_succeeded(r));
			jrun_free(r);
			continue;
		}
		pp = &r->next;
	}
	if (more)
		queue_tick(rs);
}

/* --- loading ---------------------------------------------------------------------------------- */

/* Re-attaches one task attempt after a restart or a reload. A task still
 * PENDING may have been started by a jobsd that died before storing its
 * handle: the attempt folder tells (executor find). */
static void reattach(struct runs *rs, struct trun *t)
{
	char dir[PATH_MAX];
	if (runs_attempt_dir(rs->data_dir, t->run_id, dir, sizeof(dir)) != 0)
		return;
	json_t *priv = run_doc_private(t->doc);
	const char *h = json_string_value(json_object_get(priv, "handle"));
	t->finding = false;
	if (h) {
		snprintf(t->handle, sizeof(t->handle), "%s", h);
	} else if (t->life != RL_PENDING) {
		t->handle[0] = '\0';
		return;
	} else {
		int rc = rs->ex->ops->find(rs->ex, dir, t->handle, sizeof(t->handle));
		if (rc == -EAGAIN) {
			/* Its supervisor lives but has not said who it is yet: ask
			 * again shortly; starting another would run the task twice. */
			t->handle[0] = '\0';
			t->finding = true;
			t->poll_at = clock_now_ms(rs->clock) + 50;
			return;
		}
		if (rc != 0) {
			t->handle[0] = '\0';
			t->run->advance = true; /* never started: the graph starts it */
			return;
		}
		/* Started, never recorded: it is RUNNING, from its own start. */
		json_object_set_new(priv, "handle", json_string(t->handle));
		set_int(t->doc, "start_time", clock_now_ms(rs->clock));
		set_task_state(t, RL_RUNNING, RR_NONE, TERM_NONE, "", false);
	}
	struct exec_status es;
	int fd = -1;
	if (rs->ex->ops->reattach(rs->ex, dir, t->handle, &es, &fd) != 0 || es.state != EXEC_RUNNING) {
		t->exited = true;
		return;
	}
	t->watch.fd = fd;
	if (fd < 0 || engine_watch(rs->e, &t->watch) != 0)
		t->poll_at = clock_now_ms(rs->clock) + POLL_MS;
}

static int load_task(void *arg, const struct store_run *row)
{
	struct jrun *r = arg;
	json_t *doc = json_loads(row->doc, 0, NULL);
	const char *key = json_string_value(json_object_get(doc, "task_key"));
	int i = key ? task_index(json_object_get(r->settings, "tasks"), key) : -1;
	if (i < 0) {
		json_decref(doc);
		return 0;
	}
	struct trun *t = &r->t[i];
	/* Rows come in run id order: the last one is the current attempt. */
	json_decref(t->doc);
	t->doc = doc;
	t->run_id = row->run_id;
	t->attempt = (int)get_int(doc, "attempt_number");
	json_t *state = json_object_get(doc, "state");
	t->life = run_life_parse(json_string_value(json_object_get(state, "life_cycle_state")));
	const char *res = json_string_value(json_object_get(state, "result_state"));
	t->result = res ? run_result_parse(res) : RR_NONE;
	json_t *priv = json_object_get(doc, RUN_DOC_PRIVATE);
	t->retry_at = get_int(priv, "retry_at");
	t->child_run_id = get_int(priv, "child_run_id");
	struct dag_node *node = &r->nodes[i];
	node->done = run_life_terminal(t->life);
	node->result = t->result;
	const char *o = json_string_value(
		json_object_get(json_object_get(doc, "condition_task"), "outcome"));
	node->outcome = !o ? -1 : strcmp(o, "true") == 0 ? 1 : 0;
	return 0;
}

static int load_run(void *arg, const struct store_run *row)
{
	struct runs *rs = arg;
	json_t *doc = json_loads(row->doc, 0, NULL);
	struct jrun *r = doc ? jrun_new(rs, doc) : NULL;
	if (!r) {
		log_error("runs: run %lld cannot be loaded", (long long)row->run_id);
		return 0;
	}
	if (store_run_children(rs->st, r->run_id, load_task, r) != STORE_OK) {
		jrun_free(r);
		return 0;
	}
	for (int i = 0; i < r->n; i++) {
		struct trun *t = &r->t[i];
		if (!t->doc) { /* never written: cannot happen, but never crash on it */
			jrun_free(r);
			return 0;
		}
		if ((t->life == RL_RUNNING || t->life == RL_PENDING) && !t->child_run_id)
			reattach(rs, t);
		/* A cancel committed before a crash may never have been signalled:
		 * signal again (harmless twice). */
		if (r->cancel && t->life == RL_RUNNING && t->handle[0])
			t->cancel_now = true;
	}
	r->advance = true;
	r->next = rs->active;
	rs->active = r;
	return 0;
}

static void load_active(struct runs *rs)
{
	while (rs->active) {
		struct jrun *r = rs->active;
		rs->active = r->next;
		jrun_free(r);
	}
	if (store_run_list_active(rs->st, load_run, rs) != STORE_OK)
		log_error("runs: the active runs cannot be read from the store");
}

/* --- open / close ------------------------------------------------------------------------------ */

struct open_op {
	struct engine_op op;
	struct runs *rs;
	bool ran;
};

static int open_run(struct engine_op *op, struct store *st)
{
	(void)st;
	struct runs *rs = ((struct open_op *)op)->rs;
	((struct open_op *)op)->ran = true;
	load_active(rs);
	struct engine_hooks h = {
		.arg = rs,
		.clock = rs->clock,
		.pre_commit = pre_commit,
		.post_commit = post_commit,
		.next_timer = next_timer,
		.timer = timer_due,
	};
	engine_add_hooks(rs->e, &h);
	queue_tick(rs);
	return 0;
}

static void open_done(struct engine_op *op, int run_rc, int commit_rc)
{
	(void)op;
	(void)run_rc;
	(void)commit_rc;
}

int runs_open(struct runs **out, struct engine *e, struct store *st, struct executor *ex,
	      struct workspace *ws, const struct runs_config *cfg)
{
	struct runs *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -1;
	rs->e = e;
	rs->st = st;
	rs->clock = cfg->clock ? cfg->clock : &clock_system;
	rs->ex = ex;
	rs->ws = ws;
	snprintf(rs->data_dir, sizeof(rs->data_dir), "%s", cfg->data_dir);
	snprintf(rs->python, sizeof(rs->python), "%s", cfg->python);
	snprintf(rs->runtime_dir, sizeof(rs->runtime_dir), "%s", cfg->runtime_dir);
	snprintf(rs->base_url, sizeof(rs->base_url), "%s", cfg->base_url ? cfg->base_url : "");
	rs->cfg = *cfg;
	rs->cfg.data_dir = rs->data_dir;
	rs->cfg.python = rs->python;
	rs->cfg.runtime_dir = rs->runtime_dir;
	rs->cfg.base_url = rs->base_url;
	rs->tick = (struct engine_op){.run = tick_op, .done = tick_done};
	rs->sweep = (struct engine_op){.run = sweep_op, .done = sweep_done};
	/* The first sweep soon after start, then every SWEEP_EVERY_MS. */
	rs->sweep_at = cfg->retention_ms > 0 ? clock_now_ms(rs->clock) + 1000 : 0;
	char runs_dir[PATH_MAX + 8];
	snprintf(runs_dir, sizeof(runs_dir), "%s/runs", rs->data_dir);
	int rc = fsio_mkdir_p(runs_dir, 0700);
	if (rc < 0) {
		log_error("runs: cannot create %s: %s", runs_dir, strerror(-rc));
		free(rs);
		return -1;
	}
	/* Loading happens on the engine thread, which owns the runs from then on. */
	struct open_op op = {.op = {.run = open_run, .done = open_done}, .rs = rs};
	/* Once it ran, the hooks own rs (a failed commit reloads by itself). */
	if (engine_run_sync(e, &op.op) != STORE_OK && !op.ran) {
		log_error("runs: the active runs cannot be loaded (no transaction)");
		free(rs);
		return -1;
	}
	*out = rs;
	return 0;
}

void runs_close(struct runs *rs)
{
	if (!rs)
		return;
	json_decref(rs->swept);
	free(rs->created);
	while (rs->active) {
		struct jrun *r = rs->active;
		rs->active = r->next;
		for (int i = 0; i < r->n; i++)
			r->t[i].watch.fd = -1; /* the engine is gone: nothing to unwatch */
		jrun_free(r);
	}
	free(rs);
}
