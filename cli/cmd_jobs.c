/* cmd_jobs.c - `jobctl jobs ...`: create, get, list, update, reset and delete
 * jobs through /api/2.2/jobs/....
 *
 * API 2.2 pages large responses: jobs/get returns at most 100 tasks,
 * job_clusters, parameters and environments per call plus a next_page_token,
 * and jobs/list pages the jobs. Like the Go SDK, `get` follows the tokens and
 * appends each page's arrays to the first page's settings, and `list` follows
 * them across all pages, so users always see the whole job or the whole list. */
#include "client.h"
#include "command.h"
#include "jsonio.h"
#include "table.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A server that keeps handing out page tokens is broken; stop rather than spin.
 * 10,000 pages of 100 is ten times the 1,000-task limit of a job. */
#define MAX_PAGES 10000
/* jobs/list accepts up to 100 jobs per page in API 2.2. */
#define LIST_MAX_PAGE_SIZE 100

static const char *const paged_job_arrays[] = {"tasks", "job_clusters", "parameters",
					       "environments"};

/* JOB_ID as a non-negative decimal; usage error otherwise. */
static int parse_job_id(const struct session *s, const char *text, long long *id)
{
	if (parse_nonneg_int64(text, id) < 0)
		return usage_failure(s, "JOB_ID must be a number, not '%s'", text);
	return EXIT_OK;
}

/* The required --json option, parsed. */
static int load_json_option(const struct session *s, const struct args *a, json_t **out)
{
	const char *arg = args_get(a, "json");
	if (!arg)
		return usage_failure(s, "missing --json");
	char err[512];
	*out = jsonio_load_arg(arg, err, sizeof(err));
	return *out ? EXIT_OK : usage_failure(s, "%s", err);
}

/* Put the job id into a request body: the positional JOB_ID when given (it must
 * agree with a job_id already in the body), else the body's own job_id. */
static int apply_job_id(const struct session *s, const struct args *a, json_t *body)
{
	json_t *in_body = json_object_get(body, "job_id");
	if (a->npos == 0)
		return in_body ? EXIT_OK : usage_failure(s, "missing JOB_ID (or job_id in --json)");
	long long id;
	int rc = parse_job_id(s, a->pos[0], &id);
	if (rc)
		return rc;
	if (in_body && !(json_is_integer(in_body) && json_integer_value(in_body) == id))
		return usage_failure(s, "job_id in --json differs from JOB_ID %lld", id);
	json_object_set_new(body, "job_id", json_integer(id));
	return EXIT_OK;
}

/* --- create ------------------------------------------------------------------ */

static int jobs_create(struct session *s, const struct args *a)
{
	json_t *body = NULL;
	int rc = load_json_option(s, a, &body);
	if (rc)
		return rc;
	json_t *resp = NULL;
	rc = client_post(s->client, "/api/2.2/jobs/create", body, &resp) < 0 ? api_failure(s) : 0;
	json_decref(body);
	if (rc)
		return rc;
	long long id;
	if (s->output == OUTPUT_JSON)
		jsonio_print(resp);
	else if (jsonio_int(resp, "job_id", &id))
		printf("%lld\n", id);
	else
		rc = runtime_failure("the server's answer has no job_id");
	json_decref(resp);
	return rc;
}

/* --- get --------------------------------------------------------------------- */

/* Append page's settings arrays to job's, creating them where job has none. */
static void merge_job_page(json_t *job, const json_t *page)
{
	json_t *src_settings = json_object_get(page, "settings");
	json_t *dst_settings = json_object_get(job, "settings");
	if (!json_is_object(dst_settings)) {
		dst_settings = json_object();
		json_object_set_new(job, "settings", dst_settings);
	}
	for (size_t i = 0; i < sizeof(paged_job_arrays) / sizeof(paged_job_arrays[0]); i++) {
		const char *key = paged_job_arrays[i];
		json_t *src = json_object_get(src_settings, key);
		if (!json_is_array(src) || json_array_size(src) == 0)
			continue;
		json_t *dst = json_object_get(dst_settings, key);
		if (!json_is_array(dst)) {
			dst = json_array();
			json_object_set_new(dst_settings, key, dst);
		}
		json_array_extend(dst, src);
	}
}

/* A copy of obj's next_page_token, or NULL when it is absent or empty. */
static char *next_token(const json_t *obj)
{
	const char *t = jsonio_str(obj, "next_page_token");
	return t && *t ? xstrdup(t) : NULL;
}

/* Check that a new page token makes progress; a server that repeats one would
 * otherwise be followed forever. */
static int check_token(const char *prev, const char *next, size_t pages)
{
	if (next && prev && strcmp(prev, next) == 0)
		return runtime_failure("the server returned the same page token twice");
	if (next && pages >= MAX_PAGES)
		return runtime_failure("the server returned more than %d pages", MAX_PAGES);
	return EXIT_OK;
}

/* jobs/get and every following page, merged into *out. */
static int fetch_job(struct session *s, const char *job_id, json_t **out)
{
	struct query_param q[] = {{"job_id", job_id}, {"page_token", NULL}};
	json_t *job = NULL;
	if (client_get(s->client, "/api/2.2/jobs/get", q, 2, &job) < 0)
		return api_failure(s);
	char *token = next_token(job);
	int rc = EXIT_OK;
	for (size_t pages = 2; token && rc == EXIT_OK; pages++) {
		json_t *page = NULL;
		q[1].value = token;
		if (client_get(s->client, "/api/2.2/jobs/get", q, 2, &page) < 0) {
			rc = api_failure(s);
			break;
		}
		merge_job_page(job, page);
		char *next = next_token(page);
		rc = check_token(token, next, pages);
		json_decref(page);
		free(token);
		token = next;
	}
	free(token);
	if (rc) {
		json_decref(job);
		return rc;
	}
	json_object_del(job, "next_page_token"); /* the merged job is complete */
	*out = job;
	return EXIT_OK;
}

/* The task's kind: the name of its "*_task" member, e.g. "notebook_task". */
static const char *task_kind(const json_t *task)
{
	const char *key;
	json_t *value;
	json_object_foreach ((json_t *)task, key, value) {
		size_t n = strlen(key);
		if (n > 5 && strcmp(key + n - 5, "_task") == 0 && json_is_object(value))
			return key;
	}
	return NULL;
}

/* "a,b,c" from depends_on: [{task_key}...]; caller frees. */
static char *task_depends_on(const json_t *task)
{
	struct strbuf sb = {0};
	size_t i;
	json_t *dep;
	json_array_foreach (json_object_get(task, "depends_on"), i, dep) {
		const char *key = jsonio_str(dep, "task_key");
		if (!key)
			continue;
		if (sb.len)
			strbuf_adds(&sb, ",");
		strbuf_adds(&sb, key);
	}
	return strbuf_detach(&sb, NULL);
}

static void print_tasks(const json_t *tasks)
{
	static const char *const headers[] = {"TASK_KEY", "KIND", "DEPENDS_ON"};
	struct table *t = table_new(3, headers);
	size_t i;
	json_t *task;
	json_array_foreach (tasks, i, task) {
		char *deps = task_depends_on(task);
		const char *row[] = {jsonio_str(task, "task_key"), task_kind(task), deps};
		table_add_row(t, row);
		free(deps);
	}
	table_print(t);
	table_free(t);
}

static void print_job_summary(const json_t *job)
{
	json_t *settings = json_object_get(job, "settings");
	json_t *tasks = json_object_get(settings, "tasks");
	char *id = jsonio_scalar_text(json_object_get(job, "job_id"));
	char created[32], ntasks[32];
	long long ms = 0;
	jsonio_int(job, "created_time", &ms);
	format_time_ms(ms, created, sizeof(created));
	snprintf(ntasks, sizeof(ntasks), "%zu", json_array_size(tasks));

	print_field("Job ID", id);
	print_field("Name", jsonio_str(settings, "name"));
	print_field("Creator", jsonio_str(job, "creator_user_name"));
	print_field("Created", created);
	print_field("Tasks", ntasks);
	if (json_array_size(tasks) > 0) {
		putchar('\n');
		print_tasks(tasks);
	}
	free(id);
}

static int jobs_get(struct session *s, const struct args *a)
{
	long long id;
	int rc = parse_job_id(s, a->pos[0], &id);
	if (rc)
		return rc;
	char id_text[32];
	snprintf(id_text, sizeof(id_text), "%lld", id);
	json_t *job = NULL;
	rc = fetch_job(s, id_text, &job);
	if (rc)
		return rc;
	if (s->output == OUTPUT_JSON)
		jsonio_print(job);
	else
		print_job_summary(job);
	json_decref(job);
	return EXIT_OK;
}

/* --- list -------------------------------------------------------------------- */

struct list_request {
	const char *name;
	bool expand_tasks;
	long long limit; /* 0 = no cap */
};

/* Append page's jobs to all, stopping at the cap. */
static void collect_jobs(json_t *all, const json_t *page, long long limit)
{
	size_t i;
	json_t *job = NULL;
	json_array_foreach (json_object_get(page, "jobs"), i, job) {
		if (limit && (long long)json_array_size(all) >= limit)
			return;
		json_array_append(all, job);
	}
}

/* Every page of jobs/list (up to the cap) into a new array *out. */
static int fetch_job_list(struct session *s, const struct list_request *req, json_t **out)
{
	char page_size[32] = "";
	if (req->limit)
		snprintf(page_size, sizeof(page_size), "%lld",
			 req->limit < LIST_MAX_PAGE_SIZE ? req->limit : LIST_MAX_PAGE_SIZE);
	struct query_param q[] = {
		{"name", req->name},
		{"expand_tasks", req->expand_tasks ? "true" : NULL},
		{"limit", page_size[0] ? page_size : NULL},
		{"page_token", NULL},
	};
	json_t *all = json_array();
	char *token = NULL;
	int rc = EXIT_OK;
	for (size_t pages = 1; rc == EXIT_OK; pages++) {
		json_t *page = NULL;
		q[3].value = token;
		if (client_get(s->client, "/api/2.2/jobs/list", q, 4, &page) < 0) {
			rc = api_failure(s);
			break;
		}
		collect_jobs(all, page, req->limit);
		char *next = next_token(page);
		json_decref(page);
		bool full = req->limit && (long long)json_array_size(all) >= req->limit;
		rc = full ? EXIT_OK : check_token(token, next, pages);
		free(token);
		token = next;
		if (!token || full)
			break;
	}
	free(token);
	if (rc) {
		json_decref(all);
		return rc;
	}
	*out = all;
	return EXIT_OK;
}

/* "n" tasks, or "n+" when the list truncated the job's tasks (has_more). */
static char *task_count(const json_t *job)
{
	json_t *tasks = json_object_get(json_object_get(job, "settings"), "tasks");
	return xasprintf("%zu%s", json_array_size(tasks),
			 json_is_true(json_object_get(job, "has_more")) ? "+" : "");
}

static void print_job_table(const json_t *jobs, bool with_tasks)
{
	static const char *const headers[] = {"JOB_ID", "NAME", "CREATED", "CREATOR", "TASKS"};
	struct table *t = table_new(with_tasks ? 5 : 4, headers);
	size_t i;
	json_t *job = NULL;
	json_array_foreach (jobs, i, job) {
		char *id = jsonio_scalar_text(json_object_get(job, "job_id"));
		char created[32];
		long long ms = 0;
		jsonio_int(job, "created_time", &ms);
		format_time_ms(ms, created, sizeof(created));
		char *ntasks = task_count(job);
		const char *row[] = {id, jsonio_str(json_object_get(job, "settings"), "name"),
				     created, jsonio_str(job, "creator_user_name"), ntasks};
		table_add_row(t, row);
		free(ntasks);
		free(id);
	}
	table_print(t);
	table_free(t);
}

static int jobs_list(struct session *s, const struct args *a)
{
	struct list_request req = {
		.name = args_get(a, "name"),
		.expand_tasks = args_has(a, "expand-tasks"),
	};
	const char *limit = args_get(a, "limit");
	if (limit && (parse_nonneg_int64(limit, &req.limit) < 0 || req.limit == 0))
		return usage_failure(s, "--limit must be a positive number, not '%s'", limit);
	json_t *jobs = NULL;
	int rc = fetch_job_list(s, &req, &jobs);
	if (rc)
		return rc;
	if (s->output == OUTPUT_JSON) {
		json_t *wrapped = json_pack("{s:o}", "jobs", jobs);
		jsonio_print(wrapped);
		json_decref(wrapped);
	} else {
		print_job_table(jobs, req.expand_tasks);
		json_decref(jobs);
	}
	return EXIT_OK;
}

/* --- update, reset, delete --------------------------------------------------- */

static int jobs_update(struct session *s, const struct args *a)
{
	json_t *body = NULL;
	int rc = load_json_option(s, a, &body);
	if (rc)
		return rc;
	rc = apply_job_id(s, a, body);
	if (rc) {
		json_decref(body);
		return rc;
	}
	return command_post_quietly(s, "/api/2.2/jobs/update", body);
}

static int jobs_reset(struct session *s, const struct args *a)
{
	json_t *json = NULL;
	int rc = load_json_option(s, a, &json);
	if (rc)
		return rc;
	/* Without new_settings the JSON is taken to be the settings themselves, so
	 * `jobctl jobs reset 1 --json @settings.json` works with a plain file. */
	json_t *body = json_object_get(json, "new_settings")
			       ? json
			       : json_pack("{s:o}", "new_settings", json);
	rc = apply_job_id(s, a, body);
	if (rc) {
		json_decref(body);
		return rc;
	}
	return command_post_quietly(s, "/api/2.2/jobs/reset", body);
}

static int jobs_delete(struct session *s, const struct args *a)
{
	long long id;
	int rc = parse_job_id(s, a->pos[0], &id);
	if (rc)
		return rc;
	json_t *body = json_pack("{s:I}", "job_id", (json_int_t)id);
	return command_post_quietly(s, "/api/2.2/jobs/delete", body);
}

/* --- table ------------------------------------------------------------------- */

static const struct opt_spec json_opts[] = {
	{"json", 0, true, "JSON", "job settings: inline JSON, @FILE, or @- for standard input",
	 true},
	{NULL},
};

static const struct opt_spec update_opts[] = {
	{"json", 0, true, "JSON",
	 "{\"new_settings\": {...}, \"fields_to_remove\": [...]} inline, @FILE or @-", true},
	{NULL},
};

static const struct opt_spec reset_opts[] = {
	{"json", 0, true, "JSON",
	 "{\"new_settings\": {...}} or the settings alone; inline, @FILE or @-", true},
	{NULL},
};

static const struct opt_spec list_opts[] = {
	{"name", 0, true, "NAME", "only jobs with this exact name (case-insensitive)"},
	{"expand-tasks", 0, false, NULL, "include tasks and job clusters in each job"},
	{"limit", 0, true, "N", "print at most N jobs"},
	{NULL},
};

const struct command jobs_commands[] = {
	{"jobs", "create", "--json JSON", "create a job from its settings and print its id",
	 json_opts, 0, 0, true, jobs_create},
	{"jobs", "get", "JOB_ID", "show a job, with all its tasks", NULL, 1, 1, true, jobs_get},
	{"jobs", "list", "[--name NAME] [--expand-tasks] [--limit N]", "list jobs, newest first",
	 list_opts, 0, 0, true, jobs_list},
	{"jobs", "update", "[JOB_ID] --json JSON", "change some settings of a job", update_opts, 0,
	 1, true, jobs_update},
	{"jobs", "reset", "[JOB_ID] --json JSON", "replace all settings of a job", reset_opts, 0, 1,
	 true, jobs_reset},
	{"jobs", "delete", "JOB_ID", "delete a job", NULL, 1, 1, true, jobs_delete},
	{NULL},
};
