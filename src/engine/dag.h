/* dag.h - the task graph of a job run: which task may start, which never will
 * and why, the run's result, condition tasks, run-now `only` and repair.
 *
 * The run engine keeps one struct dag_node per task of a job run (its own
 * index = the node's index), keeps the state members up to date as task runs
 * finish, and asks these functions what follows. It drives a run like this:
 *
 *     until every node is done:
 *         for each node i not done and not started:
 *             switch (dag_decide(nodes, i, &result, &why))
 *             DAG_RUN:     start task i; when it ends set done, result (and
 *                          outcome for a condition task)
 *             DAG_NOT_RUN: set done and result now; why is its state_message
 *             DAG_WAIT:    ask again after some other node is done
 *     dag_job_result(nodes, n, canceled, timed_out)
 *
 * Every decision is final: once dag_decide has said RUN or NOT_RUN for a node
 * it would say the same later, so the engine may persist it at once. When the
 * run as a whole is canceled the engine stops asking (nothing new starts);
 * the graph rules below never look at the clock or at the run's state.
 *
 * docs/internals/dag.md lists each rule with its source.
 *
 * Input the functions trust (job_settings_check_graph() guarantees it for
 * saved jobs): deps[] hold valid indices other than the node's own, the
 * graph has no cycle, dep_outcome is set only on deps whose parent is a
 * condition task.
 *
 * Threads: pure functions over caller memory, no globals, no I/O, no clock.
 * Only dag_select_only allocates (a scratch array, aborting when memory is
 * out, like every internal allocation in jobsd). Any thread; the engine calls
 * them on its own.
 */
#ifndef JOBSD_ENGINE_DAG_H
#define JOBSD_ENGINE_DAG_H

#include <stdbool.h>

#include "model/run.h"

struct dag_node {
	int ndeps;
	const int *deps; /* indices of the parent nodes */
	/* per dep: -1 none, 0 "false", 1 "true"; may be NULL = all -1 */
	const signed char *dep_outcome;
	enum run_if run_if;
	bool disabled;
	bool is_condition;
	/* state, maintained by the caller */
	bool done; /* finished: result is final */
	enum run_result result;
	signed char outcome; /* condition tasks once done: 0 false, 1 true; else -1 */
};

enum dag_verdict { DAG_WAIT, DAG_RUN, DAG_NOT_RUN };

/* How the rules read a task's result. */
enum dag_class {
	DAG_CLASS_NONE,	     /* RR_NONE: no result yet */
	DAG_CLASS_SUCCEEDED, /* SUCCESS, SUCCESS_WITH_FAILURES */
	/* FAILED, TIMEDOUT, UPSTREAM_FAILED, MAXIMUM_CONCURRENT_RUNS_REACHED */
	DAG_CLASS_FAILED,
	DAG_CLASS_CANCELED, /* CANCELED, UPSTREAM_CANCELED */
	DAG_CLASS_SKIPPED,  /* EXCLUDED, DISABLED: neither succeeded nor failed */
};

enum dag_class dag_result_class(enum run_result r);

/* For node i, not started yet. DAG_WAIT while a parent is not done; DAG_RUN
 * when its run_if (and every outcome on its deps) holds; otherwise
 * DAG_NOT_RUN with the result it ends with in *result (RR_EXCLUDED,
 * RR_UPSTREAM_FAILED, RR_UPSTREAM_CANCELED or RR_DISABLED) and in *why a
 * static state_message saying why. *result and *why are set only for
 * DAG_NOT_RUN.
 *
 * One exception to "wait for every parent": a node that is disabled, or that
 * is disabled for the run because a disabled parent makes its run_if
 * impossible, is DAG_NOT_RUN/RR_DISABLED as soon as that is known, as the
 * service decides it when the run is created. A parent that is done without
 * a result (RR_NONE) is read as failed. */
enum dag_verdict dag_decide(const struct dag_node *nodes, int i, enum run_result *result,
			    const char **why);

/* leaf[i] = no node of the n depends on node i. */
void dag_mark_leaves(const struct dag_node *nodes, int n, bool *leaf);

/* The job run's result once every node is done, first rule that applies:
 *   1. timed_out (the run's own timeout_seconds)       -> RR_TIMEDOUT
 *   2. canceled (runs/cancel, cancel-all, job deleted) -> RR_CANCELED
 *   3. a leaf failed (dag_result_class FAILED)         -> RR_FAILED
 *   4. a leaf canceled (CANCELED, UPSTREAM_CANCELED)   -> RR_CANCELED
 *   5. any other node failed or was canceled           -> RR_SUCCESS_WITH_FAILURES
 *   6. otherwise (EXCLUDED and DISABLED count as
 *      successful; also n == 0, every node skipped)    -> RR_SUCCESS
 * A node not done, or done without a result, counts as failed. */
enum run_result dag_job_result(const struct dag_node *nodes, int n, bool canceled, bool timed_out);

/* condition_task: op is the ConditionTaskOp name. EQUAL_TO and NOT_EQUAL
 * compare the strings byte for byte ("12.0" != "12"); GREATER_THAN,
 * GREATER_THAN_OR_EQUAL, LESS_THAN, LESS_THAN_OR_EQUAL compare the numbers
 * the operands write ("12.0" >= "12"), exactly, in decimal. A number is
 * [+|-] digits [. digits] [e|E [+|-] digits] (either side of the point may be
 * empty, not both), surrounded by optional ASCII white space; no inf, nan or
 * hex. Returns 0 with *outcome set, or -1 with a static message in *why when
 * the op is unknown or an operand of a numeric op is not a number (the
 * service fails the condition task then). */
int dag_condition(const char *op, const char *left, const char *right, bool *outcome,
		  const char **why);

/* run-now `only`: sets selected[i] for every node the list names. An entry
 * is a task key, "+key" (the task and everything upstream of it,
 * transitively), "key+" (and everything downstream) or "+key+" (both).
 * keys[i] is node i's task_key. nonly == 0 selects every node (an absent or
 * empty list runs the whole job). Returns 0, or -1 with *bad = the entry
 * (as given) whose key is not a task of the job; selected is then
 * unspecified. */
int dag_select_only(const struct dag_node *nodes, const char *const *keys, int n,
		    const char *const *only, int nonly, bool *selected, const char **bad);

/* Repair: which tasks of a finished run run again (out[i]), given their final
 * results and the request. A task reruns if rerun[i] (rerun_tasks), or if
 * all_failed (rerun_all_failed_tasks) and it failed, was canceled or has no
 * result; then, transitively, a task downstream of a rerunning one reruns if
 * it did not succeed (EXCLUDED and UPSTREAM_* included: its parents may
 * decide otherwise this time), or whatever it ended with when dependents
 * (rerun_dependent_tasks). rerun may be NULL (none asked). */
void dag_repair_select(const struct dag_node *nodes, int n, const bool *rerun, bool all_failed,
		       bool dependents, bool *out);

/* The TerminationCodeCode of a task that was not run with result r:
 * TERM_DISABLED for RR_DISABLED, TERM_SKIPPED for the other not-run results,
 * TERM_NONE for results of tasks that ran. */
enum run_term dag_not_run_term(enum run_result r);

#endif
