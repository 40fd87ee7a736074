/* job.h - job definitions: JobSettings parse, validate, merge, emit.
 *
 * The internal model of a job's settings is ONE normalized JSON object in the
 * multi-task shape of API 2.1 (tasks[], job_clusters[], ...), plus a "format"
 * member: MULTI_TASK, or SINGLE_TASK for a job created through 2.0 in the
 * legacy single-task shape, whose one task lives in tasks[0] internally and
 * is flattened back to the top level when read through 2.0. Every other
 * layer stores and passes this object around; only this module knows the
 * version-specific shapes.
 *
 * Every function is pure (no I/O, no clock, no globals) and may run on any
 * thread. Functions returning json_t * return a new reference.
 */
#ifndef JOBSD_MODEL_JOB_H
#define JOBSD_MODEL_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "model/error.h"

enum job_format { JOB_FORMAT_MULTI_TASK = 0, JOB_FORMAT_SINGLE_TASK = 1 };

/* Limits that come from the configuration. */
struct job_limits {
	long max_tasks; /* tasks per job (100) */
	long max_tags;	/* tags per job (25) */
};

/* Tasks, job clusters, parameters and environments are paged 100 at a time
 * by jobs/get and jobs/list in API 2.2. */
#define JOB_PAGE_SIZE 100
/* The last page number that can hold anything: no array is that long. */
#define JOB_MAX_PAGE 10000000L

enum job_origin {
	JOB_CREATE, /* jobs/create: defaults of a new job, including 2.2's queue */
	JOB_RESET,  /* jobs/reset: the same defaults, but queue is left as given */
};

/* Parses settings as sent to jobs/create (the body minus access_control_list)
 * or as new_settings of jobs/reset, in the shape of API `version` (20, 21,
 * 22). Takes the reference to `in` and normalizes it in place (no copy: a
 * request body is parsed once and becomes the stored settings). prefix is
 * the path of the settings in the request ("" or "new_settings") and starts
 * every field path in error messages. On success *out is the normalized
 * internal object (with "format" set) and *format its format. */
int job_settings_parse(json_t *in, int version, const char *prefix, enum job_origin origin,
		       const struct job_limits *lim, json_t **out, enum job_format *format,
		       struct model_error *err);

/* Applies a jobs/update to the internal settings `current`: fields_to_remove
 * first (top-level names and "tasks/<key>", "job_clusters/<key>",
 * "parameters/<name>", "environments/<key>"), then new_settings: top-level
 * fields replaced, keyed arrays merged by key. Either input may be NULL. The
 * result is validated as a whole; *out receives it. */
int job_settings_update(const json_t *current, enum job_format cur_format,
			const json_t *new_settings, const json_t *fields_to_remove, int version,
			const struct job_limits *lim, json_t **out, enum job_format *format,
			struct model_error *err);

/* The settings as API `version` shows them: 2.0 flattens a single-task job;
 * every other case is the internal object itself. */
json_t *job_settings_emit(const json_t *settings, int version);

/* The two stored serializations of settings (compact JSON, malloc'd): full,
 * and brief, without tasks and job_clusters (jobs/list without
 * expand_tasks). One serialization serves both: the brief text is dumped,
 * then the two arrays are appended. settings is left as it was. */
void job_settings_texts(json_t *settings, char **full, char **brief);

/* For 2.2 paging: a copy of settings whose paged arrays hold only the
 * elements [page*JOB_PAGE_SIZE, (page+1)*JOB_PAGE_SIZE). *more is set when a
 * later page has elements. */
json_t *job_settings_page(const json_t *settings, long page, bool *more);

/* The length of the longest paged array (tasks, job_clusters, parameters,
 * environments). */
int job_settings_paged_len(const json_t *settings);

/* The lower-cased name used by the jobs/list name filter, malloc'd. */
char *job_name_key(const json_t *settings);

/* The effective run-as user: settings.run_as.user_name or
 * service_principal_name, else creator. Borrowed from settings or creator. */
const char *job_run_as_user(const json_t *settings, const char *creator);

enum job_format job_settings_format(const json_t *settings);

/* The object schema of JobSettings, for callers that validate pieces of it
 * (runs/submit, later). */
struct sch_object;
extern const struct sch_object job_settings_schema;
extern const struct sch_object job_task_schema;

/* The members of a Task that name its kind (notebook_task, ...), NULL-ended. */
extern const char *const job_task_kinds[];

/* Cross-task rules of a settings object (job_graph.c): unique keys,
 * depends_on and outcomes, cycles, references, the task and tag limits,
 * workspace paths. `sent`, for an update, is the normalized new_settings so
 * that messages name tasks as the client sent them; NULL otherwise.
 * single_task: a 2.0 single-task job, whose task members are top-level in
 * the request. 0, or -1 with err. */
int job_settings_check_graph(json_t *settings, const char *prefix, const json_t *sent,
			     const struct job_limits *lim, bool single_task,
			     struct model_error *err);

/* Refuses a key used twice in tasks, job_clusters, environments or
 * parameters. 0, or -1 with err. */
int job_settings_check_unique(const json_t *settings, const char *prefix, struct model_error *err);

#endif
