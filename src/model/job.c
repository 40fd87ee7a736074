/* job.c - see job.h. The schema (job_schema.c) checks each object; this
 * file converts between API shapes, merges updates, applies the service's
 * defaults and checks the rules that span tasks. */
#include "model/job.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "model/schema.h"
#include "util/strbuf.h"

#define PATH_LEN 512

/* Top-level members of a 2.0 single-task job that belong to its task. */
static const char *const single_task_members[] = {
	"existing_cluster_id",	     "new_cluster",	 "libraries", "max_retries",
	"min_retry_interval_millis", "retry_on_timeout", NULL,
};

/* Members that replace each other in a 2.0 update of a single-task job. */
static const char *const compute_group[] = {"existing_cluster_id", "new_cluster", NULL};

/* Keyed arrays: update merges them element by element on this key. */
struct keyed_array {
	const char *array, *key;
};
static const struct keyed_array keyed_arrays[] = {
	{"tasks", "task_key"},
	{"job_clusters", "job_cluster_key"},
	{"parameters", "name"},
	{"environments", "environment_key"},
};
#define N_KEYED (sizeof(keyed_arrays) / sizeof(keyed_arrays[0]))

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

static bool is_single_task_member(const char *name)
{
	return in_list(name, single_task_members) || in_list(name, job_task_kinds);
}

/* The first member of obj that belongs to a single-task job's task, if
 * any. A null member is unset, so it does not count. */
static const char *first_single_task_member(const json_t *obj)
{
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)obj, key, v) {
		if (!json_is_null(v) && is_single_task_member(key))
			return key;
	}
	return NULL;
}

static bool has_member(const json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);
	return v && !json_is_null(v);
}

enum job_format job_settings_format(const json_t *settings)
{
	const char *f = json_string_value(json_object_get(settings, "format"));
	return f && strcmp(f, "SINGLE_TASK") == 0 ? JOB_FORMAT_SINGLE_TASK : JOB_FORMAT_MULTI_TASK;
}

/* --- defaults ----------------------------------------------------------------- */

static void default_pause_status(json_t *settings, const char *member)
{
	json_t *o = json_object_get(settings, member);
	if (json_is_object(o) && !json_object_get(o, "pause_status"))
		json_object_set_new(o, "pause_status", json_string("UNPAUSED"));
}

/* The values the service fills in when a job is saved. queue is enabled
 * only for jobs created through 2.2 (the 2.2 migration guide). */
static void apply_defaults(json_t *s, enum job_format format, bool create_22)
{
	if (!json_object_get(s, "name"))
		json_object_set_new(s, "name", json_string("Untitled"));
	if (!json_object_get(s, "max_concurrent_runs"))
		json_object_set_new(s, "max_concurrent_runs", json_integer(1));
	default_pause_status(s, "schedule");
	default_pause_status(s, "trigger");
	default_pause_status(s, "continuous");
	if (create_22 && !json_object_get(s, "queue")) {
		json_t *q = json_object();
		json_object_set_new(q, "enabled", json_true());
		json_object_set_new(s, "queue", q);
	}
	json_object_set_new(
		s, "format",
		json_string(format == JOB_FORMAT_SINGLE_TASK ? "SINGLE_TASK" : "MULTI_TASK"));
}

/* --- 2.0 single-task shape --------------------------------------------------------- */

/* A task_key for the one task of a single-task job, from the job's name:
 * the 2.0 shape has no key, the internal model needs one. */
static char *single_task_key(const json_t *settings)
{
	const char *name = json_string_value(json_object_get(settings, "name"));
	char buf[101];
	size_t n = 0;
	for (const char *p = name ? name : ""; *p && n < 100; p++)
		buf[n++] = (isalnum((unsigned char)*p) || *p == '-' || *p == '_') ? *p : '_';
	buf[n] = '\0';
	return strdup(n ? buf : "Untitled");
}

/* Moves the task members of a 2.0 single-task settings object into a task
 * (validated with paths as the client wrote them) and that task into
 * tasks[0]. A job with no task members gets no task. */
static int single_to_multi(json_t *s, const char *prefix, const char *key, struct model_error *err)
{
	json_t *task = json_object();
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe (s, tmp, k, v) {
		if (!is_single_task_member(k))
			continue;
		json_object_set(task, k, v);
		json_object_del(s, k);
	}
	if (json_object_size(task) == 0) {
		json_decref(task);
		return 0;
	}
	char *own_key = key ? NULL : single_task_key(s);
	json_object_set_new(task, "task_key", json_string(key ? key : own_key));
	free(own_key);
	if (sch_validate(&job_task_schema, task, prefix, err)) {
		json_decref(task);
		return -1;
	}
	json_t *tasks = json_array();
	json_array_append_new(tasks, task);
	json_object_set_new(s, "tasks", tasks);
	return 0;
}

/* Validates a settings object s (owned, modified in place) whose tasks are
 * in the internal shape, except for a 2.0 single-task job (single) whose
 * task members are still at the top level. sent: see
 * job_settings_check_graph. */
static int validate_settings(json_t *s, const char *prefix, bool single, const char *single_key,
			     const json_t *sent, const struct job_limits *lim,
			     struct model_error *err)
{
	if (single && single_to_multi(s, prefix, single_key, err))
		return -1;
	if (sch_validate(&job_settings_schema, s, prefix, err))
		return -1;
	return job_settings_check_graph(s, prefix, sent, lim, single, err);
}

/* Which shape a request uses: single-task fields are 2.0-only, and never
 * together with tasks. 0, or -1 with err. */
static int check_shape(const json_t *s, int version, const char *prefix, struct model_error *err)
{
	const char *legacy = first_single_task_member(s);
	if (!legacy)
		return 0;
	if (version >= 21)
		return model_fail(err, 400, MODEL_INVALID,
				  "Field '%s%s%s' belongs to the single-task format of Jobs API 2.0; "
				  "from 2.1 on, put it in a task of 'tasks'",
				  prefix, *prefix ? "." : "", legacy);
	if (has_member(s, "tasks"))
		return model_fail(err, 400, MODEL_INVALID,
				  "Field '%s%s%s' (the single-task format of Jobs API 2.0) cannot be "
				  "combined with tasks",
				  prefix, *prefix ? "." : "", legacy);
	return 0;
}

int job_settings_parse(json_t *in, int version, const char *prefix, enum job_origin origin,
		       const struct job_limits *lim, json_t **out, enum job_format *format,
		       struct model_error *err)
{
	json_t *s = in;
	if (!json_is_object(s)) {
		model_fail(err, 400, MODEL_MALFORMED,
			   "Could not parse request object: %s must be an object, not %s",
			   *prefix ? prefix : "the settings", sch_json_type_name(s));
		json_decref(s);
		return -1;
	}
	bool single = version == 20 && !has_member(s, "tasks");
	json_object_del(s, "format"); /* ignored on input, as the service does */
	if (check_shape(s, version, prefix, err) ||
	    validate_settings(s, prefix, single, NULL, NULL, lim, err)) {
		json_decref(s);
		return -1;
	}
	*format = single ? JOB_FORMAT_SINGLE_TASK : JOB_FORMAT_MULTI_TASK;
	apply_defaults(s, *format, origin == JOB_CREATE && version == 22);
	*out = s;
	return 0;
}

/* --- update --------------------------------------------------------------------------- */

static int check_update_inputs(const json_t *new_settings, const json_t *ftr,
			       struct model_error *err)
{
	if (new_settings && !json_is_object(new_settings))
		return model_fail(err, 400, MODEL_MALFORMED,
				  "Could not parse request object: field 'new_settings' must be an "
				  "object, not %s",
				  sch_json_type_name(new_settings));
	if (!ftr)
		return 0;
	if (!json_is_array(ftr))
		return model_fail(
			err, 400, MODEL_MALFORMED,
			"Could not parse request object: field 'fields_to_remove' must be "
			"an array, not %s",
			sch_json_type_name(ftr));
	size_t i;
	json_t *v;
	json_array_foreach (ftr, i, v) {
		if (!json_is_string(v))
			return model_fail(err, 400, MODEL_MALFORMED,
					  "Could not parse request object: field "
					  "'fields_to_remove[%zu]' must be a string, not %s",
					  i, sch_json_type_name(v));
	}
	return 0;
}

static bool touches_tasks(const json_t *new_settings, const json_t *ftr)
{
	if (new_settings && has_member(new_settings, "tasks"))
		return true;
	size_t i;
	json_t *v;
	json_array_foreach (ftr, i, v) {
		if (strncmp(json_string_value(v), "tasks/", 6) == 0)
			return true;
	}
	return false;
}

static const struct keyed_array *keyed(const char *array)
{
	for (size_t i = 0; i < N_KEYED; i++)
		if (strcmp(keyed_arrays[i].array, array) == 0)
			return &keyed_arrays[i];
	return NULL;
}

static long find_keyed(const json_t *arr, const char *key_member, const char *key)
{
	size_t i;
	json_t *el;
	json_array_foreach (arr, i, el) {
		const char *k = json_string_value(json_object_get(el, key_member));
		if (k && strcmp(k, key) == 0)
			return (long)i;
	}
	return -1;
}

/* "tasks/<key>" removes one element of a keyed array; a plain name removes
 * a top-level field. Removing what is not there is not an error, so that a
 * retried update succeeds. */
static void remove_fields(json_t *s, const json_t *ftr)
{
	size_t i;
	json_t *v;
	json_array_foreach (ftr, i, v) {
		const char *f = json_string_value(v);
		const char *slash = strchr(f, '/');
		if (!slash) {
			json_object_del(s, f);
			continue;
		}
		char array[32];
		size_t n = (size_t)(slash - f);
		if (n >= sizeof(array))
			continue;
		memcpy(array, f, n);
		array[n] = '\0';
		const struct keyed_array *ka = keyed(array);
		json_t *arr = json_object_get(s, array);
		long at = ka ? find_keyed(arr, ka->key, slash + 1) : -1;
		if (at >= 0)
			json_array_remove(arr, (size_t)at);
	}
}

/* Merges new_settings into s: keyed arrays element by element, everything
 * else replaced whole. new_settings was validated already, so keyed
 * elements carry their key. */
static void merge_fields(json_t *s, const json_t *new_settings)
{
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)new_settings, k, v) {
		if (strcmp(k, "format") == 0)
			continue;
		const struct keyed_array *ka = keyed(k);
		json_t *cur = json_object_get(s, k);
		if (!ka || !json_is_array(cur)) {
			json_object_set_new(s, k, json_deep_copy(v));
			continue;
		}
		size_t i;
		json_t *el;
		json_array_foreach (v, i, el) {
			const char *key = json_string_value(json_object_get(el, ka->key));
			long at = key ? find_keyed(cur, ka->key, key) : -1;
			if (at >= 0)
				json_array_set_new(cur, (size_t)at, json_deep_copy(el));
			else
				json_array_append_new(cur, json_deep_copy(el));
		}
	}
}

/* The 2.0 update of a single-task job, done in the 2.0 shape: its view is
 * edited like any top-level object, where setting one compute member or one
 * task kind replaces the others of its group. */
static int update_single(const json_t *current, const json_t *new_settings, const json_t *ftr,
			 const struct job_limits *lim, json_t **out, struct model_error *err)
{
	json_t *view = job_settings_emit(current, 20);
	json_object_del(view, "format");
	size_t i;
	json_t *v;
	json_array_foreach (ftr, i, v) {
		json_object_del(view, json_string_value(v));
	}
	const char *k;
	json_object_foreach ((json_t *)new_settings, k, v) {
		if (strcmp(k, "format") == 0)
			continue;
		const char *const *group = in_list(k, compute_group)	? compute_group
					   : in_list(k, job_task_kinds) ? job_task_kinds
									: NULL;
		for (; group && *group; group++)
			json_object_del(view, *group);
		json_object_set_new(view, k, json_deep_copy(v));
	}
	const char *key = json_string_value(
		json_object_get(json_array_get(json_object_get(current, "tasks"), 0), "task_key"));
	char *keep = key ? strdup(key) : NULL;
	int rc = validate_settings(view, "new_settings", true, keep, NULL, lim, err);
	free(keep);
	if (rc) {
		json_decref(view);
		return -1;
	}
	apply_defaults(view, JOB_FORMAT_SINGLE_TASK, false);
	*out = view;
	return 0;
}

int job_settings_update(const json_t *current, enum job_format cur_format,
			const json_t *new_settings, const json_t *fields_to_remove, int version,
			const struct job_limits *lim, json_t **out, enum job_format *format,
			struct model_error *err)
{
	if (check_update_inputs(new_settings, fields_to_remove, err))
		return -1;
	bool tasks = touches_tasks(new_settings, fields_to_remove);
	const char *legacy = new_settings ? first_single_task_member(new_settings) : NULL;

	if (version == 20 && cur_format == JOB_FORMAT_SINGLE_TASK && !tasks) {
		*format = JOB_FORMAT_SINGLE_TASK;
		return update_single(current, new_settings, fields_to_remove, lim, out, err);
	}
	if (legacy)
		return model_fail(
			err, 400, MODEL_INVALID,
			"Field 'new_settings.%s' belongs to the single-task format of Jobs "
			"API 2.0 and cannot be applied to %s",
			legacy,
			version >= 21 ? "a job through 2.1 or later; put it in a task"
				      : "a multi-task job; update its tasks instead");

	/* Check the new fields with the paths the client used, then merge their
	 * normalized (null-free, typed) form. */
	json_t *fresh = NULL;
	if (new_settings) {
		fresh = json_deep_copy(new_settings);
		json_object_del(fresh, "format");
		/* A key sent twice would silently keep the last one. */
		if (sch_validate(&job_settings_schema, fresh, "new_settings", err) ||
		    job_settings_check_unique(fresh, "new_settings", err)) {
			json_decref(fresh);
			return -1;
		}
	}
	json_t *s = json_deep_copy(current);
	json_object_del(s, "format");
	remove_fields(s, fields_to_remove);
	if (fresh)
		merge_fields(s, fresh);
	int rc = validate_settings(s, "new_settings", false, NULL, fresh, lim, err);
	json_decref(fresh);
	if (rc) {
		json_decref(s);
		return -1;
	}
	*format = (cur_format == JOB_FORMAT_SINGLE_TASK && !tasks) ? JOB_FORMAT_SINGLE_TASK
								   : JOB_FORMAT_MULTI_TASK;
	apply_defaults(s, *format, false);
	*out = s;
	return 0;
}

/* --- emit ----------------------------------------------------------------------------- */

json_t *job_settings_emit(const json_t *settings, int version)
{
	json_t *s = json_deep_copy(settings);
	if (version != 20 || job_settings_format(settings) != JOB_FORMAT_SINGLE_TASK)
		return s;
	json_t *task = json_object_get(s, "tasks");
	task = json_incref(json_array_get(task, 0));
	json_object_del(s, "tasks");
	const char *k;
	json_t *v;
	json_object_foreach (task, k, v) {
		if (strcmp(k, "task_key") != 0)
			json_object_set(s, k, v);
	}
	json_decref(task);
	return s;
}

static char *dump_compact(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);
	if (!s)
		abort(); /* out of memory */
	return s;
}

void job_settings_texts(json_t *settings, char **full, char **brief)
{
	static const char *const heavy[] = {"tasks", "job_clusters"};
	json_t *arrays[2];
	for (int i = 0; i < 2; i++) {
		arrays[i] = json_incref(json_object_get(settings, heavy[i]));
		json_object_del(settings, heavy[i]);
	}
	*brief = dump_compact(settings);
	struct strbuf sb;
	strbuf_init(&sb, SIZE_MAX / 2);
	size_t n = strlen(*brief);
	strbuf_append(&sb, *brief, n - 1); /* without its closing brace */
	bool members = n > 2;
	for (int i = 0; i < 2; i++) {
		if (!arrays[i])
			continue;
		char *text = dump_compact(arrays[i]);
		strbuf_printf(&sb, "%s\"%s\":%s", members ? "," : "", heavy[i], text);
		free(text);
		members = true;
		json_object_set_new(settings, heavy[i], arrays[i]); /* put back */
	}
	strbuf_puts(&sb, "}");
	*full = strbuf_detach(&sb, NULL);
}

json_t *job_settings_page(const json_t *settings, long page, bool *more)
{
	json_t *s = json_copy((json_t *)settings);
	*more = false;
	/* Past any array a job can hold, every page is empty (and the
	 * multiplication below cannot overflow). */
	if (page < 0 || page > JOB_MAX_PAGE)
		page = JOB_MAX_PAGE + 1;
	size_t from = (size_t)page * JOB_PAGE_SIZE;
	for (size_t i = 0; i < N_KEYED; i++) {
		json_t *arr = json_object_get(s, keyed_arrays[i].array);
		if (!json_is_array(arr))
			continue;
		size_t n = json_array_size(arr);
		if (n > from + JOB_PAGE_SIZE)
			*more = true;
		if (page == 0 && n <= JOB_PAGE_SIZE)
			continue;
		json_t *slice = json_array();
		for (size_t j = from; j < n && j < from + JOB_PAGE_SIZE; j++)
			json_array_append(slice, json_array_get(arr, j));
		json_object_set_new(s, keyed_arrays[i].array, slice);
	}
	return s;
}

int job_settings_paged_len(const json_t *settings)
{
	size_t longest = 0;
	for (size_t i = 0; i < N_KEYED; i++) {
		size_t n = json_array_size(json_object_get(settings, keyed_arrays[i].array));
		if (n > longest)
			longest = n;
	}
	return (int)longest;
}

char *job_name_key(const json_t *settings)
{
	const char *name = json_string_value(json_object_get(settings, "name"));
	char *k = strdup(name ? name : "");
	for (char *p = k; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return k;
}

const char *job_run_as_user(const json_t *settings, const char *creator)
{
	json_t *ra = json_object_get(settings, "run_as");
	const char *u = json_string_value(json_object_get(ra, "user_name"));
	if (!u)
		u = json_string_value(json_object_get(ra, "service_principal_name"));
	return u ? u : creator;
}
