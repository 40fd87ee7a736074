/* run_doc.c - see run_doc.h. */
#include "model/run_doc.h"

#include <string.h>

#include "model/job.h"

const char *run_life_v2(enum run_life v)
{
	switch (v) {
	case RL_QUEUED: return "QUEUED";
	case RL_PENDING: return "PENDING";
	case RL_RUNNING: return "RUNNING";
	case RL_TERMINATING: return "TERMINATING";
	case RL_BLOCKED: return "BLOCKED";
	case RL_WAITING_FOR_RETRY: return "WAITING";
	default: return "TERMINATED"; /* TERMINATED, SKIPPED, INTERNAL_ERROR */
	}
}

/* Cancelled by a user is a clean end (SUCCESS type), as is skipping a run
 * over its limit by configuration (CLIENT_ERROR: the job's settings decided). */
const char *run_term_type(enum run_term t)
{
	switch (t) {
	case TERM_SUCCESS:
	case TERM_SUCCESS_WITH_FAILURES:
	case TERM_USER_CANCELED: return "SUCCESS";
	case TERM_INTERNAL_ERROR: return "INTERNAL_ERROR";
	default: return "CLIENT_ERROR";
	}
}

void run_doc_set_state(json_t *doc, const struct run_state_in *s)
{
	const char *msg = s->message ? s->message : "";
	json_t *state = json_object();
	json_object_set_new(state, "life_cycle_state", json_string(run_life_name(s->life)));
	if (s->result != RR_NONE)
		json_object_set_new(state, "result_state", json_string(run_result_name(s->result)));
	json_object_set_new(state, "state_message", json_string(msg));
	json_object_set_new(state, "user_cancelled_or_timedout",
			    json_boolean(s->user_cancelled_or_timedout));
	if (s->life == RL_QUEUED && s->queue_code)
		json_object_set_new(state, "queue_reason", json_string(msg));
	json_object_set_new(doc, "state", state);

	json_t *status = json_object();
	json_object_set_new(status, "state", json_string(run_life_v2(s->life)));
	if (s->life == RL_QUEUED && s->queue_code)
		json_object_set_new(status, "queue_details",
				    json_pack("{s:s, s:s}", "code", s->queue_code, "message", msg));
	if (run_life_terminal(s->life) && s->term != TERM_NONE)
		json_object_set_new(status, "termination_details",
				    json_pack("{s:s, s:s, s:s}", "code", run_term_name(s->term),
					      "type", run_term_type(s->term), "message", msg));
	json_object_set_new(doc, "status", status);
}

json_t *run_doc_private(json_t *doc)
{
	json_t *p = json_object_get(doc, RUN_DOC_PRIVATE);
	if (!json_is_object(p)) {
		p = json_object();
		json_object_set_new(doc, RUN_DOC_PRIVATE, p);
	}
	return p;
}

static json_t *public_copy(const json_t *doc)
{
	json_t *out = json_copy((json_t *)doc);
	json_object_del(out, RUN_DOC_PRIVATE);
	return out;
}

/* 2.0 showed a single-task job's run with its task at the top level. */
static void flatten_single_task(json_t *run, const json_t *task)
{
	json_t *t = json_object();
	for (const char *const *k = job_task_kinds; *k; k++) {
		json_t *v = json_object_get(task, *k);
		if (v)
			json_object_set(t, *k, v);
	}
	json_object_set_new(run, "task", t);
	static const char *const lifted[] = {"cluster_spec", "cluster_instance", "setup_duration",
					     "execution_duration", "cleanup_duration", NULL};
	for (const char *const *k = lifted; *k; k++) {
		json_t *v = json_object_get(task, *k);
		if (v)
			json_object_set(run, *k, v);
	}
	/* The run's state is the task's while it runs. */
	json_object_del(run, "tasks");
}

json_t *run_doc_emit(const json_t *job_doc, const json_t *task_docs, int version,
		     bool with_tasks, long page, bool *more)
{
	json_t *run = public_copy(job_doc);
	json_t *priv = json_object_get(job_doc, RUN_DOC_PRIVATE);
	bool single = json_is_true(json_object_get(priv, "single_task"));
	if (version >= 21)
		json_object_set(run, "number_in_job", json_object_get(job_doc, "run_id"));
	if (more)
		*more = false;
	if (version == 20 && single && json_array_size(task_docs) == 1) {
		json_t *t = public_copy(json_array_get(task_docs, 0));
		flatten_single_task(run, t);
		json_decref(t);
		return run;
	}
	if (!with_tasks) {
		json_object_del(run, "job_clusters");
		return run;
	}
	json_t *tasks = json_array();
	size_t n = json_array_size(task_docs);
	size_t from = 0, to = n;
	if (page >= 0) {
		from = (size_t)page * JOB_PAGE_SIZE;
		to = from + JOB_PAGE_SIZE;
		if (from > n)
			from = n;
		if (to > n)
			to = n;
		if (more)
			*more = to < n;
	}
	for (size_t i = from; i < to; i++)
		json_array_append_new(tasks, public_copy(json_array_get(task_docs, i)));
	json_object_set_new(run, "tasks", tasks);
	return run;
}

json_t *run_doc_emit_task(const json_t *task_doc, const json_t *job_doc)
{
	json_t *t = public_copy(task_doc);
	/* A task run read on its own names its job and job run, as the
	 * service's RunTask-as-Run does. */
	json_object_set(t, "job_id", json_object_get(job_doc, "job_id"));
	json_object_set(t, "job_run_id", json_object_get(job_doc, "run_id"));
	json_object_set(t, "run_type", json_object_get(job_doc, "run_type"));
	json_object_set(t, "trigger", json_object_get(job_doc, "trigger"));
	json_object_set(t, "creator_user_name", json_object_get(job_doc, "creator_user_name"));
	if (!json_object_get(t, "run_name"))
		json_object_set(t, "run_name", json_object_get(task_doc, "task_key"));
	json_object_set(t, "number_in_job", json_object_get(task_doc, "run_id"));
	return t;
}
