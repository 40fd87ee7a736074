/* launch.h - turning a task of a run into a command: parameters, references,
 * the attempt folder, the runtime's context file.
 *
 * The run engine decides that a task starts; this module works out what
 * runs: the task's parameters after the run-now overrides (reference §3
 * "run-now parameters") and the job parameters, every {{...}} reference
 * expanded (model/dynref.h), a snapshot of the notebook or file copied into
 * the attempt folder (a run uses the code as it was when it started, and
 * runs/export shows exactly that), and the runtime's context.json. The
 * command is `python runtime/jobsd_task.py ATTEMPT/context.json`
 * (docs/internals/runtime.md).
 *
 * Threads: engine thread (it reads the workspace and writes the attempt
 * folder; both are bounded by the 10 MB object limit).
 */
#ifndef JOBSD_ENGINE_LAUNCH_H
#define JOBSD_ENGINE_LAUNCH_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/runs.h"
#include "model/dynref.h"

struct workspace;

/* The effective parameters of a task, after overrides and references. */
struct launch_params {
	json_t *widgets; /* notebook: name -> string */
	json_t *argv;	 /* python file: array of strings */
};

/* The kinds of task and who carries them out. */
enum task_kind {
	TASK_NOTEBOOK,
	TASK_PYTHON_FILE,
	TASK_CONDITION,
	TASK_RUN_JOB,
	TASK_UNSUPPORTED,
};

/* The kind of a task and its member name ("notebook_task", ...). */
enum task_kind launch_task_kind(const json_t *task, const char **member);

/* Computes the effective parameters of task for this run (job_doc's
 * overrides and job parameters) with references expanded against ctx.
 * 0, or -1 with a message for the task's state_message. */
int launch_params(const json_t *task, const json_t *job_doc, const struct dynref_ctx *ctx,
		  struct launch_params *out, char *msg, size_t n);
void launch_params_free(struct launch_params *p);

/* Everything a started attempt needs that must outlive the call. */
struct launch {
	char dir[PATH_MAX];
	char context[PATH_MAX];
	char entry[PATH_MAX]; /* runtime/jobsd_task.py */
	const char *argv[4];
	char **envp;
};

/* Prepares attempt task_run_id of task: the folder, the snapshot of the
 * code, context.json, the command and its environment. 0, or -1 with a
 * message (the code does not exist, the kind is not runnable here...). */
int launch_prepare(const struct runs_config *cfg, struct workspace *ws, const json_t *task,
		   const json_t *job_doc, const struct dynref_ctx *ctx,
		   const struct launch_params *params, json_t *upstream_values, struct launch *out,
		   char *msg, size_t n);
void launch_free(struct launch *l);

#endif
