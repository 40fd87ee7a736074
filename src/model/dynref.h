/* dynref.h - dynamic value references: the {{...}} placeholders of task
 * parameters, condition operands, for-each inputs, paths and job parameter
 * defaults. Parsed and checked when settings are saved (jobs/create, reset,
 * update, runs/submit); expanded when a task starts.
 *
 * Syntax: "{{", optional spaces, a dotted path of identifiers, optional
 * spaces, "}}". An identifier is [A-Za-z0-9_]+ or any text but a backtick
 * between backticks (`my-param`). Text that does not parse (a lone "{{",
 * "{{job.}}", "{{ a + b }}") stays literal, and so does a well-formed path
 * whose first identifier is no namespace jobsd knows (job, task, tasks,
 * workspace, input, backfill, the legacy names job_id, run_id, ...): the
 * service treats both as text. A path in a known namespace that names
 * nothing is an error. docs/internals/dynref.md lists every reference, how
 * it renders, and the decisions behind each rule.
 *
 * Pure functions over jansson values (no I/O, no clock, no globals); any
 * thread. Errors are INVALID_PARAMETER_VALUE (400).
 */
#ifndef JOBSD_MODEL_DYNREF_H
#define JOBSD_MODEL_DYNREF_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "model/error.h"

/* An expansion never grows past this many bytes (a notebook's
 * base_parameters are capped at 1 MB as a whole, so no single value needs
 * more); larger is an error, never a silently cut value. */
#define DYNREF_MAX_OUTPUT (1024 * 1024)

/* The text from "{{" to "}}" of one reference is at most this long. The
 * longest meaningful one, {{tasks.<100-char key>.values.`<key>`}}, is far
 * shorter; the cap keeps the scan linear on input full of "{{". */
#define DYNREF_MAX_REF 1024

/* What names exist where a string is saved. */
struct dynref_scope {
	const json_t *task_keys;  /* array of the job's task_key strings (or of its
				     task objects), or NULL */
	const json_t *parameters; /* the job's `parameters` [{name, default}], or NULL */
	const char *task_key;	  /* the task the string belongs to (it cannot name
				     itself in tasks.<key>), or NULL */
	bool in_for_each;	  /* the task of a for_each_task: {{input}} allowed */
	bool in_job_parameter;	  /* a job parameter's default: no {{job.parameters.*}} */
};

/* Checks every reference in s. path names the field in messages ("" or
 * NULL: none). 0, or -1 with err, e.g. "tasks[1].notebook_task.
 * base_parameters.day: unknown dynamic value reference {{job.foo}}". A NULL
 * scope is a scope with nothing in it. */
int dynref_check(const char *s, const char *path, const struct dynref_scope *scope,
		 struct model_error *err);

/* Everything a run knows when a task starts. Strings may be NULL: a fact
 * that does not apply to this run (file_arrival_location of a manual run)
 * expands to "". The JSON values are borrowed for the call. */
struct dynref_ctx {
	int64_t job_id;
	const char *job_name;
	int64_t job_run_id;
	int repair_count;
	int64_t start_ms;	   /* job run start, ms since the epoch (UTC) */
	int64_t trigger_ms;	   /* scheduled fire time (start time for a manual run) */
	bool has_backfill;	   /* a backfill run: {{backfill.*}} use backfill_ms */
	int64_t backfill_ms;	   /* else they fall back to trigger_ms */
	const char *trigger_type;  /* TriggerType, e.g. "ONE_TIME"; rendered lower-case */
	const char *file_arrival_location;
	const json_t *job_params;  /* object: name -> effective string value */
	const char *task_key;
	int64_t task_run_id;
	const char *notebook_path; /* of this task, or NULL */
	int execution_count;	   /* runs of this task in this job run, this one included */
	int retry_count;	   /* retries of this task before this attempt (0 first) */
	/* Tasks this one may read (the engine passes its upstream tasks only, so
	 * a reference never depends on scheduling order): key -> {"run_id": int,
	 * "result_state": "SUCCESS"|..., "error_code": str, "notebook_path": str,
	 * "execution_count": int, "values": {name: any JSON}, "output": {...}}. */
	const json_t *tasks;
	const char *workspace_id, *workspace_url;
	const json_t *input; /* the for-each element, or NULL outside a for-each */
};

/* Expands every reference in s into *out (malloc'd, NUL-terminated, the
 * caller frees). Task values and for-each elements render strings as they
 * are, other JSON compactly (true, 12, 0.5, [1,2], {"a":1}). A reference
 * whose value this run does not have (a task value never set, a task that
 * has not run, an unknown job parameter) is an error, so that the engine
 * fails the task with the message instead of running it with a wrong
 * value; so is a result over DYNREF_MAX_OUTPUT. 0, or -1 with err and
 * *out NULL. */
int dynref_expand(const char *s, const struct dynref_ctx *ctx, char **out,
		  struct model_error *err);

/* Checks the references of one task (and of the task inside its
 * for_each_task) of settings: every string field that takes them. path is
 * the task's path for messages: a field path ("tasks[2]", "new_settings",
 * "" for a 2.0 single-task job) or a phrase such as "the job's task 'b'".
 * 0, or -1 with err. */
int dynref_check_task(const json_t *settings, const json_t *task, const char *path,
		      struct model_error *err);

/* Checks the defaults of the settings' job parameters. prefix: "" or
 * "new_settings". 0, or -1 with err. */
int dynref_check_parameters(const json_t *settings, const char *prefix, struct model_error *err);

/* All of the settings: job parameters, then every task as
 * <prefix>.tasks[i]. 0, or -1 with err. */
int job_settings_check_refs(const json_t *settings, const char *prefix, struct model_error *err);

#endif
