/* job.c - see job.h. The schema (job_schema.c) checks each object; this
 * file converts between API shapes, merges updates, applies the service's
 * defaults and checks the rules that span tasks. */
#include "model/job.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "model/schema.h"

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

/* The first member of obj that belongs to a single-task job's task, if any. */
static const char *first_single_task_member(const json_t *obj)
{
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)obj, key, v) {
		if (is_single_task_member(key))
			return key;
	}
	return NULL;
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

/* --- cross-task rules ------------------------------------------------------------ */

/* Collects the keys of a keyed array into an object key -> index, refusing
 * duplicates. *out is a new object. */
static int index_keys(json_t *settings, const char *array, const char *key, const char *prefix,
		      json_t **out, struct model_error *err)
{
	json_t *idx = json_object();
	json_t *arr = json_object_get(settings, array);
	size_t i;
	json_t *el;
	char path[PATH_LEN];
	json_array_foreach (arr, i, el) {
		const char *k = json_string_value(json_object_get(el, key));
		if (!k)
			continue;
		json_t *seen = json_object_get(idx, k);
		if (seen) {
			sch_path_member(path, sizeof(path), prefix, array);
			json_decref(idx);
			return model_fail(err, 400, MODEL_INVALID,
					  "Duplicate %s '%.120s' in %s[%lld] and %s[%zu]", key, k,
					  path, (long long)json_integer_value(seen), path, i);
		}
		json_object_set_new(idx, k, json_integer((json_int_t)i));
	}
	*out = idx;
	return 0;
}

static bool has_dotdot_segment(const char *p)
{
	const char *s = p;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return true;
		if (!e)
			break;
		s = e + 1;
	}
	return false;
}

/* A path naming a workspace object or a file in the job's git checkout:
 * absolute for the workspace, never with '..' segments or NUL bytes.
 * Values with a URI scheme (dbfs:/, s3://, file:/) are not workspace paths. */
static int check_task_path(json_t *obj, const char *member, bool git, const char *path,
			   struct model_error *err)
{
	json_t *v = json_object_get(obj, member);
	if (!json_is_string(v))
		return 0;
	const char *s = json_string_value(v);
	char full[PATH_LEN];
	sch_path_member(full, sizeof(full), path, member);
	bool uri = strstr(s, ":/") != NULL;
	if (strlen(s) != json_string_length(v))
		return model_fail(err, 400, MODEL_INVALID, "Invalid value for field '%s': NUL byte",
				  full);
	if (has_dotdot_segment(s))
		return model_fail(
			err, 400, MODEL_INVALID,
			"Invalid value '%.200s' for field '%s': paths must not contain '..' "
			"segments",
			s, full);
	if (!git && !uri && s[0] != '/')
		return model_fail(err, 400, MODEL_INVALID,
				  "Invalid value '%.200s' for field '%s': a workspace path must be "
				  "absolute (start with '/')",
				  s, full);
	return 0;
}

/* Whether a task kind object reads its files from the git checkout: its own
 * source, or GIT by default when the job has a git_source. */
static bool uses_git(const json_t *kind_obj, bool job_has_git)
{
	const char *src = json_string_value(json_object_get(kind_obj, "source"));
	return src ? strcmp(src, "GIT") == 0 : job_has_git;
}

static int check_task_paths(json_t *task, const char *path, bool job_has_git,
			    struct model_error *err)
{
	char sub[PATH_LEN];
	static const struct {
		const char *kind, *member;
	} paths[] = {
		{"notebook_task", "notebook_path"},
		{"spark_python_task", "python_file"},
		{"dbt_task", "project_directory"},
		{"dbt_task", "profiles_directory"},
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		json_t *k = json_object_get(task, paths[i].kind);
		if (!k)
			continue;
		bool git = uses_git(k, job_has_git);
		if (git && !job_has_git && json_object_get(k, "source")) {
			sch_path_member(sub, sizeof(sub), path, paths[i].kind);
			return model_fail(err, 400, MODEL_INVALID,
					  "%s.source is GIT but the job has no git_source", sub);
		}
		/* dbt directories are relative to the project in either case. */
		if (strcmp(paths[i].kind, "dbt_task") == 0)
			git = true;
		sch_path_member(sub, sizeof(sub), path, paths[i].kind);
		if (check_task_path(k, paths[i].member, git, sub, err))
			return -1;
	}
	json_t *file = json_object_get(json_object_get(task, "sql_task"), "file");
	if (file) {
		sch_path_member(sub, sizeof(sub), path, "sql_task.file");
		if (check_task_path(file, "path", uses_git(file, job_has_git), sub, err))
			return -1;
	}
	json_t *inner = json_object_get(json_object_get(task, "for_each_task"), "task");
	if (inner) {
		sch_path_member(sub, sizeof(sub), path, "for_each_task.task");
		return check_task_paths(inner, sub, job_has_git, err);
	}
	return 0;
}

static int check_dependencies(json_t *tasks, json_t *task_idx, const char *tasks_path,
			      struct model_error *err)
{
	size_t i, j;
	json_t *task, *dep;
	char path[PATH_LEN], task_path[PATH_LEN], deps_path[PATH_LEN];
	json_array_foreach (tasks, i, task) {
		const char *self = json_string_value(json_object_get(task, "task_key"));
		json_t *seen = json_object();
		sch_path_index(task_path, sizeof(task_path), tasks_path, i);
		sch_path_member(deps_path, sizeof(deps_path), task_path, "depends_on");
		json_array_foreach (json_object_get(task, "depends_on"), j, dep) {
			sch_path_index(path, sizeof(path), deps_path, j);
			const char *k = json_string_value(json_object_get(dep, "task_key"));
			json_t *parent_i = json_object_get(task_idx, k);
			const char *msg = NULL;
			if (strcmp(k, self) == 0)
				msg = "a task cannot depend on itself";
			else if (!parent_i)
				msg = "no task with this task_key";
			else if (json_object_get(seen, k))
				msg = "listed twice";
			if (msg) {
				json_decref(seen);
				return model_fail(err, 400, MODEL_INVALID,
						  "Invalid dependency '%.120s' in %s: %s", k, path,
						  msg);
			}
			json_object_set_new(seen, k, json_true());
			json_t *outcome = json_object_get(dep, "outcome");
			if (!outcome)
				continue;
			json_t *parent =
				json_array_get(tasks, (size_t)json_integer_value(parent_i));
			const char *o = json_string_value(outcome);
			if (!json_object_get(parent, "condition_task") ||
			    (strcmp(o, "true") != 0 && strcmp(o, "false") != 0)) {
				json_decref(seen);
				return model_fail(
					err, 400, MODEL_INVALID,
					"Invalid outcome '%.20s' in %s: an outcome (\"true\" or "
					"\"false\") is only allowed on a dependency on a "
					"condition task",
					o, path);
			}
		}
		json_decref(seen);
	}
	return 0;
}

/* Kahn's algorithm: if some tasks never reach in-degree 0, they form or
 * depend on a cycle; name one task on it. */
static int check_cycles(json_t *tasks, json_t *task_idx, const char *tasks_path,
			struct model_error *err)
{
	size_t n = json_array_size(tasks);
	if (n == 0)
		return 0;
	int *indeg = calloc(n, sizeof(int)), *queue = malloc(n * sizeof(int));
	if (!indeg || !queue)
		abort();
	size_t i, j;
	json_t *task, *dep;
	json_array_foreach (tasks, i, task) {
		indeg[i] = (int)json_array_size(json_object_get(task, "depends_on"));
	}
	size_t head = 0, tail = 0;
	for (i = 0; i < n; i++)
		if (indeg[i] == 0)
			queue[tail++] = (int)i;
	/* Reverse edges are found by scanning; n is at most a few thousand. */
	while (head < tail) {
		const char *k = json_string_value(
			json_object_get(json_array_get(tasks, (size_t)queue[head++]), "task_key"));
		json_array_foreach (tasks, i, task) {
			json_array_foreach (json_object_get(task, "depends_on"), j, dep) {
				const char *p = json_string_value(json_object_get(dep, "task_key"));
				if (strcmp(p, k) == 0 && --indeg[i] == 0)
					queue[tail++] = (int)i;
			}
		}
	}
	int rc = 0;
	if (tail < n) {
		for (i = 0; i < n && indeg[i] == 0; i++)
			;
		rc = model_fail(
			err, 400, MODEL_INVALID,
			"The task dependencies in %s form a cycle (task '%.120s' is on or "
			"after it)",
			tasks_path,
			json_string_value(json_object_get(json_array_get(tasks, i), "task_key")));
	}
	(void)task_idx;
	free(indeg);
	free(queue);
	return rc;
}

static int check_references(json_t *tasks, const char *member, json_t *idx, const char *what,
			    const char *tasks_path, struct model_error *err)
{
	size_t i;
	json_t *task;
	json_array_foreach (tasks, i, task) {
		const char *k = json_string_value(json_object_get(task, member));
		if (k && !json_object_get(idx, k))
			return model_fail(err, 400, MODEL_INVALID,
					  "%s[%zu].%s '%.120s' does not name one of the job's %s",
					  tasks_path, i, member, k, what);
	}
	return 0;
}

static int check_tags(json_t *settings, const char *prefix, const struct job_limits *lim,
		      struct model_error *err)
{
	json_t *tags = json_object_get(settings, "tags");
	char path[PATH_LEN];
	sch_path_member(path, sizeof(path), prefix, "tags");
	if ((long)json_object_size(tags) > lim->max_tags)
		return model_fail(err, 400, MODEL_INVALID, "Field '%s' has %zu tags (at most %ld)",
				  path, json_object_size(tags), lim->max_tags);
	const char *k;
	json_t *v;
	json_object_foreach (tags, k, v) {
		if (strlen(k) == 0 || strlen(k) > 512 || json_string_length(v) > 256)
			return model_fail(
				err, 400, MODEL_INVALID,
				"Invalid tag '%.100s' in %s: keys are 1 to 512 characters, "
				"values at most 256",
				k, path);
	}
	return 0;
}

int job_settings_check_graph(json_t *settings, const char *prefix, const struct job_limits *lim,
			     bool single_task, struct model_error *err)
{
	char tasks_path[PATH_LEN];
	sch_path_member(tasks_path, sizeof(tasks_path), prefix, "tasks");
	json_t *tasks = json_object_get(settings, "tasks");
	if ((long)json_array_size(tasks) > lim->max_tasks)
		return model_fail(err, 400, MODEL_INVALID,
				  "Field '%s' has %zu tasks; a job can have at most %ld",
				  tasks_path, json_array_size(tasks), lim->max_tasks);
	if (check_tags(settings, prefix, lim, err))
		return -1;

	json_t *task_idx = NULL, *cluster_idx = NULL, *env_idx = NULL, *param_idx = NULL;
	int rc = -1;
	if (index_keys(settings, "tasks", "task_key", prefix, &task_idx, err) ||
	    index_keys(settings, "job_clusters", "job_cluster_key", prefix, &cluster_idx, err) ||
	    index_keys(settings, "environments", "environment_key", prefix, &env_idx, err) ||
	    index_keys(settings, "parameters", "name", prefix, &param_idx, err))
		goto out;
	if (check_dependencies(tasks, task_idx, tasks_path, err) ||
	    check_cycles(tasks, task_idx, tasks_path, err) ||
	    check_references(tasks, "job_cluster_key", cluster_idx, "job_clusters", tasks_path,
			     err) ||
	    check_references(tasks, "environment_key", env_idx, "environments", tasks_path, err))
		goto out;

	bool has_git = json_object_get(settings, "git_source") != NULL;
	size_t i;
	json_t *task;
	char path[PATH_LEN];
	json_array_foreach (tasks, i, task) {
		/* A 2.0 single-task job's task fields sit at the top level. */
		if (single_task)
			snprintf(path, sizeof(path), "%s", prefix);
		else
			sch_path_index(path, sizeof(path), tasks_path, i);
		if (check_task_paths(task, path, has_git, err))
			goto out;
	}
	rc = 0;
out:
	json_decref(task_idx);
	json_decref(cluster_idx);
	json_decref(env_idx);
	json_decref(param_idx);
	return rc;
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
 * task members are still at the top level. */
static int validate_settings(json_t *s, const char *prefix, bool single, const char *single_key,
			     const struct job_limits *lim, struct model_error *err)
{
	if (single) {
		if (json_object_get(s, "tasks"))
			return model_fail(
				err, 400, MODEL_INVALID,
				"%s%stasks cannot be combined with the single-task fields "
				"of Jobs API 2.0 (%s)",
				prefix, *prefix ? "." : "", first_single_task_member(s));
		if (single_to_multi(s, prefix, single_key, err))
			return -1;
	}
	if (sch_validate(&job_settings_schema, s, prefix, err))
		return -1;
	return job_settings_check_graph(s, prefix, lim, single, err);
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
	const char *legacy = first_single_task_member(s);
	if (legacy && version >= 21) {
		model_fail(err, 400, MODEL_INVALID,
			   "Field '%s%s%s' belongs to the single-task format of Jobs API 2.0; "
			   "from 2.1 on, put it in a task of 'tasks'",
			   prefix, *prefix ? "." : "", legacy);
		json_decref(s);
		return -1;
	}
	bool single = version == 20 && !json_object_get(s, "tasks");
	json_object_del(s, "format"); /* ignored on input, as the service does */
	if (validate_settings(s, prefix, single, NULL, lim, err)) {
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
	if (new_settings && json_object_get(new_settings, "tasks"))
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
	int rc = validate_settings(view, "new_settings", true, keep, lim, err);
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
		if (sch_validate(&job_settings_schema, fresh, "new_settings", err)) {
			json_decref(fresh);
			return -1;
		}
	}
	json_t *s = json_deep_copy(current);
	json_object_del(s, "format");
	remove_fields(s, fields_to_remove);
	if (fresh) {
		merge_fields(s, fresh);
		json_decref(fresh);
	}
	if (validate_settings(s, "new_settings", false, NULL, lim, err)) {
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

json_t *job_settings_brief(const json_t *settings)
{
	json_t *s = json_copy((json_t *)settings);
	json_object_del(s, "tasks");
	json_object_del(s, "job_clusters");
	return s;
}

json_t *job_settings_page(const json_t *settings, long page, bool *more)
{
	json_t *s = json_copy((json_t *)settings);
	size_t from = (size_t)page * JOB_PAGE_SIZE;
	*more = false;
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
