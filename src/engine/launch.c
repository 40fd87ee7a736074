/* launch.c - see launch.h. */
#include "engine/launch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/job.h"
#include "util/fsio.h"
#include "workspace/workspace.h"
#include "workspace/wspath.h"

extern char **environ;

enum task_kind launch_task_kind(const json_t *task, const char **member)
{
	static const struct {
		const char *name;
		enum task_kind kind;
	} known[] = {
		{"notebook_task", TASK_NOTEBOOK},
		{"spark_python_task", TASK_PYTHON_FILE},
		{"condition_task", TASK_CONDITION},
		{"run_job_task", TASK_RUN_JOB},
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (json_object_get(task, known[i].name)) {
			*member = known[i].name;
			return known[i].kind;
		}
	}
	*member = "unknown";
	for (const char *const *k = job_task_kinds; *k; k++) {
		if (json_object_get(task, *k)) {
			*member = *k;
			break;
		}
	}
	return TASK_UNSUPPORTED;
}

/* A parameter value as the task sees it, with its references expanded: a
 * new JSON string. Strings are taken as they are, other JSON (numbers,
 * booleans in base_parameters) as their text. what names the value in msg. */
static json_t *expand(const json_t *v, const struct dynref_ctx *ctx, const char *what, char *msg,
		      size_t n)
{
	char *text = json_is_string(v) ? strdup(json_string_value(v)) :
					 json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	char *out = NULL;
	struct model_error err;
	if (!text) {
		snprintf(msg, n, "%s: out of memory", what);
		return NULL;
	}
	int rc = dynref_expand(text, ctx, &out, &err);
	free(text);
	if (rc != 0) {
		snprintf(msg, n, "%s: %s", what, err.message);
		return NULL;
	}
	json_t *e = json_string(out);
	free(out);
	if (!e)
		snprintf(msg, n, "%s: the value is not valid UTF-8", what);
	return e;
}

/* Notebook widgets: base_parameters, then run-now notebook_params over them,
 * then the job parameters, which beat same-named task parameters. */
static int notebook_widgets(const json_t *task, const json_t *priv, const struct dynref_ctx *ctx,
			    json_t *out, char *msg, size_t n)
{
	json_t *layers[3] = {
		json_object_get(json_object_get(task, "notebook_task"), "base_parameters"),
		json_object_get(json_object_get(priv, "overrides"), "notebook_params"),
		json_object_get(priv, "job_params"),
	};
	for (int l = 0; l < 3; l++) {
		const char *k;
		json_t *v;
		json_object_foreach(layers[l], k, v) {
			char what[300];
			snprintf(what, sizeof(what), "notebook parameter %s", k);
			json_t *e = expand(v, ctx, what, msg, n);
			if (!e)
				return -1;
			json_object_set_new(out, k, e);
		}
	}
	return 0;
}

/* python_file arguments: the task's parameters, or run-now python_params,
 * which replace them. */
static int python_argv(const json_t *task, const json_t *priv, const struct dynref_ctx *ctx,
		       json_t *out, char *msg, size_t n)
{
	json_t *args = json_object_get(json_object_get(priv, "overrides"), "python_params");
	if (!args)
		args = json_object_get(json_object_get(task, "spark_python_task"), "parameters");
	size_t i;
	json_t *v;
	json_array_foreach(args, i, v) {
		char what[64];
		snprintf(what, sizeof(what), "parameters[%zu]", i);
		json_t *e = expand(v, ctx, what, msg, n);
		if (!e)
			return -1;
		json_array_append_new(out, e);
	}
	return 0;
}

int launch_params(const json_t *task, const json_t *job_doc, const struct dynref_ctx *ctx,
		  struct launch_params *out, char *msg, size_t n)
{
	const json_t *priv = json_object_get(job_doc, "_");
	out->widgets = json_object();
	out->argv = json_array();
	const char *member;
	enum task_kind kind = launch_task_kind(task, &member);
	int rc = 0;
	if (kind == TASK_NOTEBOOK)
		rc = notebook_widgets(task, priv, ctx, out->widgets, msg, n);
	else if (kind == TASK_PYTHON_FILE)
		rc = python_argv(task, priv, ctx, out->argv, msg, n);
	if (rc != 0)
		launch_params_free(out);
	return rc;
}

void launch_params_free(struct launch_params *p)
{
	json_decref(p->widgets);
	json_decref(p->argv);
	p->widgets = p->argv = NULL;
}

int runs_attempt_dir(const char *data_dir, int64_t task_run_id, char *buf, size_t n)
{
	int w = snprintf(buf, n, "%s/runs/%lld", data_dir, (long long)task_run_id);
	return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

/* dir/name into buf; -1 when it does not fit. */
static int join(char *buf, size_t n, const char *dir, const char *name)
{
	int w = snprintf(buf, n, "%s/%s", dir, name);
	return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

int runs_attempt_file(const char *data_dir, int64_t task_run_id, const char *name, char *buf,
		      size_t n)
{
	int w = snprintf(buf, n, "%s/runs/%lld/%s", data_dir, (long long)task_run_id, name);
	return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len, char *msg,
		      size_t n)
{
	char path[PATH_MAX];
	if (join(path, sizeof(path), dir, name) != 0) {
		snprintf(msg, n, "attempt folder path too long");
		return -1;
	}
	/* Not synced: the snapshot and the context are read by the task at once,
	 * and after a crash the attempt is judged by the supervisor's files,
	 * never by these. Syncing them would put four fsyncs between run-now
	 * and the task's start. */
	int rc = fsio_write_file(path, data, len, 0600);
	if (rc < 0) {
		snprintf(msg, n, "cannot write %s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Copies a workspace notebook into the folder. Sets *format and the name of
 * the copy. */
static int snapshot_notebook(struct workspace *ws, const char *path, const char *dir,
			     const char **format, const char **name, char *msg, size_t n)
{
	struct model_error err;
	struct workspace_object obj;
	if (workspace_stat(ws, path, strlen(path), &obj, &err) != 0 ||
	    obj.type != WORKSPACE_NOTEBOOK) {
		snprintf(msg, n,
			 "Unable to access the notebook \"%s\": it does not exist in the workspace "
			 "or is not a notebook",
			 path);
		return -1;
	}
	if (obj.lang != WORKSPACE_PYTHON) {
		snprintf(msg, n,
			 "The notebook \"%s\" is a %s notebook: jobsd runs Python notebooks only", path,
			 workspace_lang_name(obj.lang));
		return -1;
	}
	char *data = NULL, type[16];
	size_t len = 0;
	if (workspace_export(ws, path, strlen(path), WORKSPACE_AUTO, &data, &len, type, &err) != 0) {
		snprintf(msg, n, "Unable to read the notebook \"%s\": %s", path, err.message);
		return -1;
	}
	bool ipynb = strcmp(type, "ipynb") == 0;
	*format = ipynb ? "JUPYTER" : "SOURCE";
	*name = ipynb ? "notebook.ipynb" : "notebook.py";
	int rc = write_file(dir, *name, data, len, msg, n);
	free(data);
	return rc;
}

/* The python_file of a spark_python_task: a workspace file, copied; or, when
 * the configuration allows, a local file run where it is. */
static int locate_python_file(const struct runs_config *cfg, struct workspace *ws,
			      const char *file, const char *dir, char *path, size_t pathlen,
			      char *msg, size_t n)
{
	struct model_error err;
	char *data = NULL, type[16];
	size_t len = 0;
	if (file[0] == '/' &&
	    workspace_export(ws, file, strlen(file), WORKSPACE_AUTO, &data, &len, type, &err) == 0) {
		int rc = write_file(dir, "main.py", data, len, msg, n);
		free(data);
		return rc ? rc : join(path, pathlen, dir, "main.py");
	}
	const char *local = strncmp(file, "file:", 5) == 0 ? file + 5 : file;
	struct stat sb;
	if (cfg->allow_local_files && local[0] == '/' && stat(local, &sb) == 0 &&
	    S_ISREG(sb.st_mode)) {
		snprintf(path, pathlen, "%s", local);
		return 0;
	}
	if (file[0] == '/')
		snprintf(msg, n, "The python file \"%s\" does not exist in the workspace%s", file,
			 cfg->allow_local_files ? " nor on this machine" : "");
	else
		snprintf(msg, n,
			 "Cannot read the python file \"%s\": jobsd reads workspace files%s; other "
			 "file systems (dbfs:/, cloud storage) are not available here",
			 file, cfg->allow_local_files ? " and local files" : "");
	return -1;
}

/* The task's environment: jobsd's own, with unbuffered Python output so the
 * logs are complete when a task is killed. */
static char **task_env(void)
{
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "PYTHONUNBUFFERED=", 17) != 0)
			env[k++] = environ[i];
	env[k++] = "PYTHONUNBUFFERED=1";
	env[k] = NULL;
	return env;
}

/* The workspace folder of the code, on disk, so that the task can import
 * the modules beside it as it could on Databricks. NULL when the code is
 * not from the workspace. */
static json_t *code_folder(const struct runs_config *cfg, const char *ws_path)
{
	char canon[WSPATH_MAX + 1], parent[WSPATH_MAX + 1], dir[PATH_MAX];
	if (!ws_path || ws_path[0] != '/' ||
	    wspath_normalize(ws_path, strlen(ws_path), canon, sizeof(canon), NULL) != 0 ||
	    wspath_parent(canon, parent, sizeof(parent)) != 0)
		return NULL;
	int w = snprintf(dir, sizeof(dir), "%s/workspace/%s", cfg->data_dir, wspath_rel(parent));
	if (w < 0 || (size_t)w >= sizeof(dir))
		return NULL;
	return json_pack("[s]", dir);
}

static int write_context(const struct launch *l, const json_t *task, const json_t *job_doc,
			 const struct dynref_ctx *ctx, const struct launch_params *p,
			 json_t *upstream_values, const char *kind, const char *code,
			 const char *ws_path, const char *format, const json_t *sys_path, char *msg,
			 size_t n)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:o, s:s, s:O, s:I, s:I, s:s}", "kind",
			      kind, "path", code, "workspace_path", ws_path, "language", "PYTHON",
			      "widgets", p->widgets, "argv", p->argv, "task_values",
			      upstream_values ? json_incref(upstream_values) : json_object(),
			      "output_dir",
			      l->dir, "job_id", json_object_get(job_doc, "job_id"), "job_run_id",
			      (json_int_t)ctx->job_run_id, "task_run_id",
			      (json_int_t)ctx->task_run_id, "task_key",
			      json_string_value(json_object_get(task, "task_key")));
	if (!c) {
		snprintf(msg, n, "cannot build the task context");
		return -1;
	}
	if (format)
		json_object_set_new(c, "format", json_string(format));
	if (sys_path)
		json_object_set(c, "sys_path", (json_t *)sys_path);
	char *text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	if (!text) {
		snprintf(msg, n, "cannot build the task context");
		return -1;
	}
	int rc = write_file(l->dir, "context.json", text, strlen(text), msg, n);
	free(text);
	return rc;
}

int launch_prepare(const struct runs_config *cfg, struct workspace *ws, const json_t *task,
		   const json_t *job_doc, const struct dynref_ctx *ctx,
		   const struct launch_params *params, json_t *upstream_values, struct launch *out,
		   char *msg, size_t n)
{
	memset(out, 0, sizeof(*out));
	if (runs_attempt_dir(cfg->data_dir, ctx->task_run_id, out->dir, sizeof(out->dir)) != 0) {
		snprintf(msg, n, "attempt folder path too long");
		return -1;
	}
	/* DATA/runs exists (runs_open); one mkdir, not a walk from the root. A
	 * folder already there never belonged to this attempt (the engine only
	 * starts an attempt whose folder shows no supervisor): e.g. left by a
	 * database that was reset. Its old status must not end the new attempt. */
	int rc = mkdir(out->dir, 0700) < 0 ? -errno : 0;
	if (rc == -EEXIST && (rc = fsio_remove_tree(out->dir)) == 0)
		rc = mkdir(out->dir, 0700) < 0 ? -errno : 0;
	if (rc < 0) {
		snprintf(msg, n, "cannot create %s: %s", out->dir, strerror(-rc));
		return -1;
	}
	const char *member, *format = NULL, *name = NULL, *kind, *ws_path;
	char code[PATH_MAX];
	if (launch_task_kind(task, &member) == TASK_NOTEBOOK) {
		json_t *nt = json_object_get(task, "notebook_task");
		ws_path = json_string_value(json_object_get(nt, "notebook_path"));
		const char *source = json_string_value(json_object_get(nt, "source"));
		/* Without a source, a job with git_source reads notebooks from Git. */
		const json_t *settings = json_object_get(json_object_get(job_doc, "_"), "settings");
		if (!source && json_object_get(settings, "git_source"))
			source = "GIT";
		if (source && strcmp(source, "GIT") == 0) {
			snprintf(msg, n,
				 "notebook_task.source GIT needs a checkout of git_source, which "
				 "jobsd cannot do yet; import the notebook and use WORKSPACE");
			return -1;
		}
		if (!ws_path || snapshot_notebook(ws, ws_path, out->dir, &format, &name, msg, n))
			return -1;
		if (join(code, sizeof(code), out->dir, name) != 0)
			return -1;
		kind = "notebook";
	} else {
		ws_path = json_string_value(
			json_object_get(json_object_get(task, "spark_python_task"), "python_file"));
		if (!ws_path ||
		    locate_python_file(cfg, ws, ws_path, out->dir, code, sizeof(code), msg, n))
			return -1;
		kind = "python_file";
	}
	if (join(out->context, sizeof(out->context), out->dir, "context.json") != 0)
		return -1;
	/* A local file (allow_local_files) has its own folder beside it. */
	json_t *sys_path = strncmp(code, out->dir, strlen(out->dir)) == 0 ?
				   code_folder(cfg, ws_path) :
				   NULL;
	rc = write_context(out, task, job_doc, ctx, params, upstream_values, kind, code, ws_path,
			   format, sys_path, msg, n);
	json_decref(sys_path);
	if (rc)
		return -1;
	if (join(out->entry, sizeof(out->entry), cfg->runtime_dir, "jobsd_task.py") != 0)
		return -1;
	out->argv[0] = cfg->python;
	out->argv[1] = out->entry;
	out->argv[2] = out->context;
	out->argv[3] = NULL;
	out->envp = task_env();
	if (!out->envp) {
		snprintf(msg, n, "out of memory");
		return -1;
	}
	return 0;
}

void launch_free(struct launch *l)
{
	free(l->envp);
	l->envp = NULL;
}
