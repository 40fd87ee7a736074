/* job_graph.c - the rules of JobSettings that span tasks: unique keys,
 * depends_on targets and outcomes, cycles, references to job clusters and
 * environments, the task and tag limits, workspace paths, and the
 * dynamic value references of every field that takes them (dynref.h).
 *
 * Messages name each task by the path the client used: "tasks[2]" on create,
 * "new_settings.tasks[0]" for a task an update sent, and "the job's task
 * 'b'" for one the update kept, since its position in the merged settings
 * is nothing the client ever saw. Paths are formatted only on error.
 *
 * Pure functions over jansson values; any thread.
 */
#include <stdlib.h>
#include <string.h>

#include "model/dynref.h"
#include "model/job.h"
#include "model/schema.h"

#define PATH_LEN SCH_PATH_TEXT

struct graph {
	json_t *settings, *tasks;
	const char *prefix;        /* of the settings: "" or "new_settings" */
	const json_t *sent_tasks;  /* an update's new_settings.tasks, else NULL */
	bool single;               /* 2.0 single-task: the task's fields are top-level */
	json_t *task_idx;          /* task_key -> index in tasks */
};

static const char *task_key_of(const json_t *task)
{
	return json_string_value(json_object_get(task, "task_key"));
}

/* Where task i of the update's request is, or -1 if the update kept it. */
static long sent_index(const struct graph *g, size_t i)
{
	const char *key = task_key_of(json_array_get(g->tasks, i));
	size_t j;
	json_t *t;
	json_array_foreach(g->sent_tasks, j, t) {
		const char *k = task_key_of(t);
		if (k && key && strcmp(k, key) == 0)
			return (long)j;
	}
	return -1;
}

/* The path of member `sub` ("" for the task itself) of task i. */
static void task_path(const struct graph *g, size_t i, const char *sub, char *out, size_t n)
{
	char base[PATH_LEN];
	if (g->single) {
		snprintf(base, sizeof(base), "%s", g->prefix);
	} else if (g->sent_tasks) {
		long j = sent_index(g, i);
		if (j < 0) {
			const char *key = task_key_of(json_array_get(g->tasks, i));
			snprintf(out, n, "%s%sthe job's task '%.100s'", sub, *sub ? " of " : "",
				 key ? key : "");
			return;
		}
		snprintf(base, sizeof(base), "new_settings.tasks[%ld]", j);
	} else {
		char tasks[PATH_LEN];
		sch_path_member(tasks, sizeof(tasks), g->prefix, "tasks");
		sch_path_index(base, sizeof(base), tasks, i);
	}
	if (*sub)
		sch_path_member(out, n, base, sub);
	else
		snprintf(out, n, "%s", *base ? base : "the task");
}

/* Collects the keys of a keyed array into key -> index, refusing duplicates.
 * *out is a new object. */
static int index_keys(const json_t *settings, const char *array, const char *key,
		      const char *prefix, json_t **out, struct model_error *err)
{
	json_t *idx = json_object();
	size_t i;
	json_t *el;
	json_array_foreach(json_object_get(settings, array), i, el) {
		const char *k = json_string_value(json_object_get(el, key));
		if (!k)
			continue;
		json_t *seen = json_object_get(idx, k);
		if (seen) {
			char path[PATH_LEN];
			sch_path_member(path, sizeof(path), prefix, array);
			json_decref(idx);
			return model_fail(err, 400, MODEL_INVALID,
					  "Duplicate %s '%.120s' in %s[%lld] and %s[%zu]", key, k, path,
					  (long long)json_integer_value(seen), path, i);
		}
		json_object_set_new(idx, k, json_integer((json_int_t)i));
	}
	if (out)
		*out = idx;
	else
		json_decref(idx);
	return 0;
}

int job_settings_check_unique(const json_t *settings, const char *prefix, struct model_error *err)
{
	return index_keys(settings, "tasks", "task_key", prefix, NULL, err) ||
			       index_keys(settings, "job_clusters", "job_cluster_key", prefix, NULL,
					  err) ||
			       index_keys(settings, "environments", "environment_key", prefix, NULL,
					  err) ||
			       index_keys(settings, "parameters", "name", prefix, NULL, err) ?
		       -1 :
		       0;
}

/* --- workspace paths ------------------------------------------------------------ */

static bool has_dotdot_segment(const char *p)
{
	for (const char *s = p;;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return true;
		if (!e)
			return false;
		s = e + 1;
	}
}

enum path_kind {
	PATH_WORKSPACE, /* a workspace object: absolute */
	PATH_GIT,       /* relative to the job's git checkout */
	PATH_FILE,      /* a workspace path, or a URI such as dbfs:/ or s3:// */
};

/* Checks obj.member: never '..' segments or NUL bytes; absolute when it
 * names a workspace object. */
static int check_path(const json_t *obj, const char *member, enum path_kind kind,
		      const char *where, struct model_error *err)
{
	json_t *v = json_object_get(obj, member);
	if (!json_is_string(v))
		return 0;
	const char *s = json_string_value(v);
	char full[PATH_LEN];
	sch_path_member(full, sizeof(full), where, member);
	if (strlen(s) != json_string_length(v))
		return model_fail(err, 400, MODEL_INVALID, "Invalid value for field '%s': NUL byte",
				  full);
	if (has_dotdot_segment(s))
		return model_fail(err, 400, MODEL_INVALID,
				  "Invalid value '%.200s' for field '%s': paths must not contain '..' "
				  "segments",
				  s, full);
	bool uri = kind == PATH_FILE && strstr(s, ":/") != NULL;
	if (kind != PATH_GIT && !uri && s[0] != '/')
		return model_fail(err, 400, MODEL_INVALID,
				  "Invalid value '%.200s' for field '%s': a workspace path must be "
				  "absolute (start with '/')",
				  s, full);
	return 0;
}

/* Whether a task kind object reads from the git checkout: its own source, or
 * GIT by default when the job has a git_source. */
static int source_of(const json_t *kind_obj, bool job_has_git, const char *where, bool *git,
		     struct model_error *err)
{
	const char *src = json_string_value(json_object_get(kind_obj, "source"));
	*git = src ? strcmp(src, "GIT") == 0 : job_has_git;
	if (*git && !job_has_git)
		return model_fail(err, 400, MODEL_INVALID,
				  "%s.source is GIT but the job has no git_source", where);
	return 0;
}

static int check_task_paths(const json_t *task, const char *base, bool job_has_git,
			    struct model_error *err)
{
	static const struct {
		const char *kind, *member;
		enum path_kind workspace_kind;
	} paths[] = {
		{"notebook_task", "notebook_path", PATH_WORKSPACE},
		{"spark_python_task", "python_file", PATH_FILE},
		{"sql_task", "file", PATH_WORKSPACE}, /* its path, below */
		{"dbt_task", "project_directory", PATH_GIT},
		{"dbt_task", "profiles_directory", PATH_GIT},
	};
	char where[PATH_LEN];
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const json_t *obj = json_object_get(task, paths[i].kind);
		sch_path_member(where, sizeof(where), base, paths[i].kind);
		const char *member = paths[i].member;
		if (obj && strcmp(paths[i].kind, "sql_task") == 0) {
			obj = json_object_get(obj, "file");
			sch_path_member(where, sizeof(where), base, "sql_task.file");
			member = "path";
		}
		if (!obj)
			continue;
		bool git;
		if (source_of(obj, job_has_git, where, &git, err) ||
		    check_path(obj, member, git ? PATH_GIT : paths[i].workspace_kind, where, err))
			return -1;
	}
	const json_t *inner = json_object_get(json_object_get(task, "for_each_task"), "task");
	if (!inner)
		return 0;
	sch_path_member(where, sizeof(where), base, "for_each_task.task");
	return check_task_paths(inner, where, job_has_git, err);
}

/* --- dependencies, references, cycles ------------------------------------------------ */

static int check_dependencies(const struct graph *g, struct model_error *err)
{
	size_t i, j;
	json_t *task, *dep;
	json_array_foreach(g->tasks, i, task) {
		const char *self = task_key_of(task);
		json_array_foreach(json_object_get(task, "depends_on"), j, dep) {
			const char *k = task_key_of(dep);
			json_t *parent_i = json_object_get(g->task_idx, k);
			const char *msg = NULL;
			if (strcmp(k, self) == 0)
				msg = "a task cannot depend on itself";
			else if (!parent_i)
				msg = "no task with this task_key";
			for (size_t e = 0; !msg && e < j; e++)
				if (strcmp(task_key_of(json_array_get(json_object_get(task, "depends_on"),
								      e)),
					   k) == 0)
					msg = "listed twice";
			const char *outcome = json_string_value(json_object_get(dep, "outcome"));
			json_t *parent = parent_i ? json_array_get(g->tasks,
								   (size_t)json_integer_value(parent_i)) :
						    NULL;
			bool bad_outcome =
				outcome && (!json_object_get(parent, "condition_task") ||
					    (strcmp(outcome, "true") != 0 && strcmp(outcome, "false") != 0));
			if (msg || bad_outcome) {
				char sub[64], path[PATH_LEN];
				snprintf(sub, sizeof(sub), "depends_on[%zu]", j);
				task_path(g, i, sub, path, sizeof(path));
				if (msg)
					return model_fail(err, 400, MODEL_INVALID,
							  "Invalid dependency '%.120s' in %s: %s", k, path,
							  msg);
				return model_fail(err, 400, MODEL_INVALID,
						  "Invalid outcome '%.20s' in %s: an outcome (\"true\" or "
						  "\"false\") is only allowed on a dependency on a "
						  "condition task",
						  outcome, path);
			}
		}
	}
	return 0;
}

/* Kahn's algorithm on index arrays: O(tasks + dependencies). Tasks that
 * never reach in-degree 0 are on a cycle or after one. */
static int check_cycles(const struct graph *g, struct model_error *err)
{
	size_t n = json_array_size(g->tasks), edges = 0;
	if (n == 0)
		return 0;
	size_t i, j;
	json_t *task, *dep;
	json_array_foreach(g->tasks, i, task) {
		edges += json_array_size(json_object_get(task, "depends_on"));
	}
	/* children of node p: child[first[p] .. first[p+1]) (compressed rows) */
	size_t *first = calloc(n + 1, sizeof(size_t)), *child = malloc((edges + 1) * sizeof(size_t));
	size_t *indeg = calloc(n, sizeof(size_t)), *queue = malloc(n * sizeof(size_t));
	size_t *fill = calloc(n, sizeof(size_t));
	if (!first || !child || !indeg || !queue || !fill)
		abort();
	json_array_foreach(g->tasks, i, task) {
		json_array_foreach(json_object_get(task, "depends_on"), j, dep) {
			size_t p = (size_t)json_integer_value(json_object_get(g->task_idx,
									      task_key_of(dep)));
			first[p + 1]++;
			indeg[i]++;
		}
	}
	for (i = 0; i < n; i++)
		first[i + 1] += first[i];
	json_array_foreach(g->tasks, i, task) {
		json_array_foreach(json_object_get(task, "depends_on"), j, dep) {
			size_t p = (size_t)json_integer_value(json_object_get(g->task_idx,
									      task_key_of(dep)));
			child[first[p] + fill[p]++] = i;
		}
	}
	size_t head = 0, tail = 0;
	for (i = 0; i < n; i++)
		if (indeg[i] == 0)
			queue[tail++] = i;
	while (head < tail) {
		size_t p = queue[head++];
		for (size_t e = first[p]; e < first[p + 1]; e++)
			if (--indeg[child[e]] == 0)
				queue[tail++] = child[e];
	}
	int rc = 0;
	if (tail < n) {
		for (i = 0; i < n && indeg[i] == 0; i++)
			;
		char path[PATH_LEN];
		task_path(g, i, "", path, sizeof(path));
		rc = model_fail(err, 400, MODEL_INVALID,
				"The task dependencies form a cycle: task '%.120s' (%s) is on it or "
				"depends on it",
				task_key_of(json_array_get(g->tasks, i)), path);
	}
	free(first);
	free(child);
	free(indeg);
	free(queue);
	free(fill);
	return rc;
}

static int check_references(const struct graph *g, const char *member, const json_t *idx,
			    const char *what, struct model_error *err)
{
	size_t i;
	json_t *task;
	json_array_foreach(g->tasks, i, task) {
		const char *k = json_string_value(json_object_get(task, member));
		if (k && !json_object_get(idx, k)) {
			char path[PATH_LEN];
			task_path(g, i, member, path, sizeof(path));
			return model_fail(err, 400, MODEL_INVALID,
					  "%s '%.120s' does not name one of the job's %s", path, k, what);
		}
	}
	return 0;
}

static int check_tags(const json_t *settings, const char *prefix, const struct job_limits *lim,
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
	json_object_foreach(tags, k, v) {
		if (strlen(k) == 0 || strlen(k) > 512 || json_string_length(v) > 256)
			return model_fail(err, 400, MODEL_INVALID,
					  "Invalid tag '%.100s' in %s: keys are 1 to 512 characters, "
					  "values at most 256",
					  k, path);
	}
	return 0;
}

int job_settings_check_graph(json_t *settings, const char *prefix, const json_t *sent,
			     const struct job_limits *lim, bool single_task,
			     struct model_error *err)
{
	struct graph g = {
		.settings = settings,
		.tasks = json_object_get(settings, "tasks"),
		.prefix = prefix,
		.sent_tasks = sent ? json_object_get(sent, "tasks") : NULL,
		.single = single_task,
	};
	char tasks_path[PATH_LEN];
	sch_path_member(tasks_path, sizeof(tasks_path), prefix, "tasks");
	if ((long)json_array_size(g.tasks) > lim->max_tasks)
		return model_fail(err, 400, MODEL_INVALID,
				  "Field '%s' has %zu tasks; a job can have at most %ld", tasks_path,
				  json_array_size(g.tasks), lim->max_tasks);
	if (check_tags(settings, prefix, lim, err))
		return -1;

	json_t *cluster_idx = NULL, *env_idx = NULL;
	int rc = -1;
	if (index_keys(settings, "tasks", "task_key", prefix, &g.task_idx, err) ||
	    index_keys(settings, "job_clusters", "job_cluster_key", prefix, &cluster_idx, err) ||
	    index_keys(settings, "environments", "environment_key", prefix, &env_idx, err) ||
	    index_keys(settings, "parameters", "name", prefix, NULL, err))
		goto out;
	if (check_dependencies(&g, err) || check_cycles(&g, err) ||
	    check_references(&g, "job_cluster_key", cluster_idx, "job_clusters", err) ||
	    check_references(&g, "environment_key", env_idx, "environments", err))
		goto out;

	bool has_git = json_object_get(settings, "git_source") != NULL;
	size_t i;
	json_t *task;
	char path[PATH_LEN];
	json_array_foreach(g.tasks, i, task) {
		/* A single-task job's task members sit at the top of the settings. */
		if (g.single)
			snprintf(path, sizeof(path), "%s", prefix);
		else
			task_path(&g, i, "", path, sizeof(path));
		if (check_task_paths(task, path, has_git, err) ||
		    dynref_check_task(settings, task, path, err))
			goto out;
	}
	if (dynref_check_parameters(settings, prefix, err))
		goto out;
	rc = 0;
out:
	json_decref(g.task_idx);
	json_decref(cluster_idx);
	json_decref(env_idx);
	return rc;
}
