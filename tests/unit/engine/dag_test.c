/* dag_test.c - unit tests for src/engine/dag.c (task graph decisions).
 *
 * The run_if cases are the tables of the Databricks docs ("Configure task
 * dependencies", "Disabled tasks in Lakeflow Jobs") written out parent mix
 * by parent mix, with the expected verdict; docs/internals/dag.md gives the
 * source of each rule. An exhaustive sweep over every mix of up to three
 * parent results then checks the properties every decision must have. The
 * simulation tests drive a 10-node job the way the run engine will: decide,
 * start what may run, finish it with a scripted result, repeat.
 *
 * Graphs are built in a struct graph on the test's stack; dag_node's
 * pointers point into it, so a graph is never copied.
 * Pure, single-threaded, no files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/dag.h"

#define MAXN 16

/* Short names for parent results in the tables. */
#define S   RR_SUCCESS
#define SWF RR_SUCCESS_WITH_FAILURES
#define F   RR_FAILED
#define T   RR_TIMEDOUT
#define C   RR_CANCELED
#define X   RR_EXCLUDED
#define UF  RR_UPSTREAM_FAILED
#define UC  RR_UPSTREAM_CANCELED
#define D   RR_DISABLED
#define RUN RR_NONE /* expected verdict DAG_RUN */

struct graph {
	int n;
	struct dag_node nodes[MAXN];
	int deps[MAXN][MAXN];
	signed char outs[MAXN][MAXN];
};

/* --- building graphs ------------------------------------------------------------- */

static void graph_init(struct graph *g) { memset(g, 0, sizeof(*g)); }

static int add_node(struct graph *g, enum run_if rif)
{
	assert_true(g->n < MAXN);
	int i = g->n++;
	g->nodes[i].deps = g->deps[i];
	g->nodes[i].dep_outcome = g->outs[i];
	g->nodes[i].run_if = rif;
	g->nodes[i].result = RR_NONE;
	g->nodes[i].outcome = -1;
	return i;
}

static int add_cond(struct graph *g, enum run_if rif)
{
	int i = add_node(g, rif);
	g->nodes[i].is_condition = true;
	return i;
}

static int add_disabled(struct graph *g)
{
	int i = add_node(g, RUN_IF_ALL_SUCCESS);
	g->nodes[i].disabled = true;
	return i;
}

/* child depends on parent; outcome -1 none, 0 "false", 1 "true". */
static void add_dep(struct graph *g, int child, int parent, int outcome)
{
	struct dag_node *d = &g->nodes[child];
	g->deps[child][d->ndeps] = parent;
	g->outs[child][d->ndeps] = (signed char)outcome;
	d->ndeps++;
}

static void finish(struct graph *g, int i, enum run_result r)
{
	g->nodes[i].done = true;
	g->nodes[i].result = r;
}

static void finish_cond(struct graph *g, int i, bool outcome)
{
	finish(g, i, RR_SUCCESS);
	g->nodes[i].outcome = outcome ? 1 : 0;
}

/* --- checking decisions ---------------------------------------------------------- */

static const char *verdict_text(enum dag_verdict v, enum run_result r)
{
	if (v == DAG_WAIT)
		return "WAIT";
	if (v == DAG_RUN)
		return "RUN";
	return run_result_name(r);
}

/* Asserts that node i gets want: RUN (RR_NONE), or NOT_RUN with result want. */
static void expect(const struct graph *g, int i, enum run_result want, const char *what)
{
	enum run_result r = RR_NONE;
	const char *why = NULL;
	enum dag_verdict v = dag_decide(g->nodes, i, &r, &why);
	enum dag_verdict wv = want == RUN ? DAG_RUN : DAG_NOT_RUN;

	if (v != wv || (v == DAG_NOT_RUN && r != want))
		fail_msg("%s: node %d got %s, want %s", what, i, verdict_text(v, r),
			 verdict_text(wv, want));
	if (v == DAG_NOT_RUN && (!why || !*why))
		fail_msg("%s: NOT_RUN without a reason", what);
}

static void expect_wait(const struct graph *g, int i, const char *what)
{
	enum run_result r = RR_NONE;
	const char *why = NULL;
	enum dag_verdict v = dag_decide(g->nodes, i, &r, &why);
	if (v != DAG_WAIT)
		fail_msg("%s: node %d got %s, want WAIT", what, i, verdict_text(v, r));
}

/* The reason node i is not run must contain want. */
static void expect_why(const struct graph *g, int i, const char *want)
{
	enum run_result r;
	const char *why = NULL;
	assert_int_equal(dag_decide(g->nodes, i, &r, &why), DAG_NOT_RUN);
	if (!why || !strstr(why, want))
		fail_msg("reason \"%s\" lacks \"%s\"", why ? why : "(null)", want);
}

/* --- run_if against parent mixes ------------------------------------------------- */

struct mix_case {
	enum run_if rif;
	int nparents;
	enum run_result parents[3];
	enum run_result want; /* RUN or the NOT_RUN result */
};

/* A child with the case's run_if under finished parents with its results. */
static enum dag_verdict decide_mix(enum run_if rif, const enum run_result *parents, int np,
				   enum run_result *r, const char **why)
{
	struct graph g;
	graph_init(&g);
	for (int k = 0; k < np; k++)
		finish(&g, add_node(&g, RUN_IF_ALL_SUCCESS), parents[k]);
	int child = add_node(&g, rif);
	for (int k = 0; k < np; k++)
		add_dep(&g, child, k, -1);
	return dag_decide(g.nodes, child, r, why);
}

static void run_cases(const struct mix_case *cases, size_t count)
{
	for (size_t c = 0; c < count; c++) {
		const struct mix_case *m = &cases[c];
		enum run_result r = RR_NONE;
		const char *why = NULL;
		enum dag_verdict v = decide_mix(m->rif, m->parents, m->nparents, &r, &why);
		enum dag_verdict wv = m->want == RUN ? DAG_RUN : DAG_NOT_RUN;
		if (v != wv || (v == DAG_NOT_RUN && r != m->want)) {
			char mix[128] = "";
			for (int k = 0; k < m->nparents; k++) {
				size_t len = strlen(mix);
				snprintf(mix + len, sizeof(mix) - len, "%s%s", k ? "," : "",
					 run_result_name(m->parents[k]));
			}
			fail_msg("case %zu: %s over {%s} got %s, want %s", c, run_if_name(m->rif),
				 mix, verdict_text(v, r), verdict_text(wv, m->want));
		}
	}
}

/* clang-format off */
#define P1(a)       1, {a}
#define P2(a, b)    2, {a, b}
#define P3(a, b, c) 3, {a, b, c}
/* clang-format on */

static void test_all_success(void **state)
{
	(void)state;
	static const struct mix_case cases[] = {
		{RUN_IF_ALL_SUCCESS, P1(S), RUN},
		{RUN_IF_ALL_SUCCESS, P3(S, S, S), RUN},
		{RUN_IF_ALL_SUCCESS, P2(S, SWF), RUN},
		{RUN_IF_ALL_SUCCESS, P1(F), UF},
		{RUN_IF_ALL_SUCCESS, P1(T), UF},
		{RUN_IF_ALL_SUCCESS, P1(UF), UF},
		{RUN_IF_ALL_SUCCESS, P2(S, F), UF},
		{RUN_IF_ALL_SUCCESS, P1(C), UC},
		{RUN_IF_ALL_SUCCESS, P1(UC), UC},
		{RUN_IF_ALL_SUCCESS, P2(S, C), UC},
		/* A failure is the reason over a cancel, in either order. */
		{RUN_IF_ALL_SUCCESS, P2(C, F), UF},
		{RUN_IF_ALL_SUCCESS, P2(F, UC), UF},
		/* Excluded parents count as successful, unless all are. */
		{RUN_IF_ALL_SUCCESS, P1(X), X},
		{RUN_IF_ALL_SUCCESS, P2(X, X), X},
		{RUN_IF_ALL_SUCCESS, P2(X, S), RUN},
		{RUN_IF_ALL_SUCCESS, P2(X, F), UF},
		/* "A disabled parent task does not satisfy the succeeded requirement." */
		{RUN_IF_ALL_SUCCESS, P1(D), D},
		{RUN_IF_ALL_SUCCESS, P2(D, S), D},
		{RUN_IF_ALL_SUCCESS, P2(S, D), D},
		{RUN_IF_ALL_SUCCESS, P2(D, F), D},
		{RUN_IF_ALL_SUCCESS, P2(D, X), D},
	};
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_at_least_one_success(void **state)
{
	(void)state;
	static const struct mix_case cases[] = {
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P1(S), RUN},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P2(F, S), RUN},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P3(F, C, SWF), RUN},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P1(F), UF},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P2(F, T), UF},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P2(C, F), UF},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P2(C, UC), UC},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P2(X, X), X},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P2(X, F), RUN},
		/* Docs: A (disabled) and C (succeeded) -> B runs; all other
		 * parents failed or disabled -> B does not run. */
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P2(D, S), RUN},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P2(D, F), UF},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P2(D, C), UC},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P1(D), D},
		{RUN_IF_AT_LEAST_ONE_SUCCESS, P2(D, D), D},
	};
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_none_failed(void **state)
{
	(void)state;
	static const struct mix_case cases[] = {
		{RUN_IF_NONE_FAILED, P1(S), RUN},
		{RUN_IF_NONE_FAILED, P2(S, SWF), RUN},
		{RUN_IF_NONE_FAILED, P2(S, X), RUN},
		{RUN_IF_NONE_FAILED, P2(S, F), UF},
		{RUN_IF_NONE_FAILED, P2(S, T), UF},
		{RUN_IF_NONE_FAILED, P2(S, UF), UF},
		{RUN_IF_NONE_FAILED, P2(S, C), UC},
		{RUN_IF_NONE_FAILED, P2(UC, S), UC},
		{RUN_IF_NONE_FAILED, P2(C, F), UF},
		/* "At least one dependency was run": all excluded -> excluded. */
		{RUN_IF_NONE_FAILED, P1(X), X},
		{RUN_IF_NONE_FAILED, P3(X, X, X), X},
		/* Docs: A (disabled) and C (skipped) -> B runs, no parent failed;
		 * all parents disabled -> B does not run. */
		{RUN_IF_NONE_FAILED, P2(D, X), RUN},
		{RUN_IF_NONE_FAILED, P2(D, S), RUN},
		{RUN_IF_NONE_FAILED, P2(D, F), UF},
		{RUN_IF_NONE_FAILED, P1(D), D},
		{RUN_IF_NONE_FAILED, P2(D, D), D},
	};
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_all_done(void **state)
{
	(void)state;
	static const struct mix_case cases[] = {
		{RUN_IF_ALL_DONE, P1(S), RUN},
		{RUN_IF_ALL_DONE, P1(F), RUN},
		{RUN_IF_ALL_DONE, P1(T), RUN},
		{RUN_IF_ALL_DONE, P1(C), RUN},
		{RUN_IF_ALL_DONE, P1(UF), RUN},
		{RUN_IF_ALL_DONE, P1(UC), RUN},
		{RUN_IF_ALL_DONE, P3(F, C, S), RUN},
		{RUN_IF_ALL_DONE, P2(X, F), RUN},
		/* "If all task dependencies are excluded, the task is also
		 * excluded, regardless of its Run if condition." */
		{RUN_IF_ALL_DONE, P1(X), X},
		{RUN_IF_ALL_DONE, P2(X, X), X},
		/* Docs: a disabled parent is treated as done, A (disabled) -> B runs. */
		{RUN_IF_ALL_DONE, P1(D), RUN},
		{RUN_IF_ALL_DONE, P2(D, D), RUN},
		{RUN_IF_ALL_DONE, P2(D, X), RUN},
		{RUN_IF_ALL_DONE, P2(D, F), RUN},
	};
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_at_least_one_failed(void **state)
{
	(void)state;
	static const struct mix_case cases[] = {
		{RUN_IF_AT_LEAST_ONE_FAILED, P1(F), RUN},
		{RUN_IF_AT_LEAST_ONE_FAILED, P2(S, F), RUN},
		{RUN_IF_AT_LEAST_ONE_FAILED, P1(T), RUN},
		{RUN_IF_AT_LEAST_ONE_FAILED, P1(UF), RUN},
		/* Cancellation propagates, but failure handlers still run. */
		{RUN_IF_AT_LEAST_ONE_FAILED, P1(C), RUN},
		{RUN_IF_AT_LEAST_ONE_FAILED, P2(S, UC), RUN},
		/* Not met: excluded, never UPSTREAM_*. */
		{RUN_IF_AT_LEAST_ONE_FAILED, P1(S), X},
		{RUN_IF_AT_LEAST_ONE_FAILED, P3(S, SWF, S), X},
		{RUN_IF_AT_LEAST_ONE_FAILED, P2(S, X), X},
		{RUN_IF_AT_LEAST_ONE_FAILED, P1(X), X},
		/* Docs: A (disabled) and C (failed) -> B runs; a disabled parent
		 * is not a failure. */
		{RUN_IF_AT_LEAST_ONE_FAILED, P2(D, F), RUN},
		{RUN_IF_AT_LEAST_ONE_FAILED, P2(D, S), X},
		{RUN_IF_AT_LEAST_ONE_FAILED, P1(D), D},
		{RUN_IF_AT_LEAST_ONE_FAILED, P2(D, D), D},
	};
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_all_failed(void **state)
{
	(void)state;
	static const struct mix_case cases[] = {
		{RUN_IF_ALL_FAILED, P1(F), RUN},
		{RUN_IF_ALL_FAILED, P3(F, T, UF), RUN},
		{RUN_IF_ALL_FAILED, P2(F, C), RUN},
		{RUN_IF_ALL_FAILED, P1(UC), RUN},
		{RUN_IF_ALL_FAILED, P2(F, S), X},
		{RUN_IF_ALL_FAILED, P1(S), X},
		{RUN_IF_ALL_FAILED, P2(F, X), X},
		{RUN_IF_ALL_FAILED, P1(X), X},
		/* Docs: A (disabled) -> B does not run; a disabled parent is
		 * not a failure, so with one the condition can never hold. */
		{RUN_IF_ALL_FAILED, P1(D), D},
		{RUN_IF_ALL_FAILED, P2(D, F), D},
	};
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Every mix of up to three parent results under every run_if: the
 * properties each decision must have whatever the table says. */
static void check_mix_properties(enum run_if rif, const enum run_result *p, int np)
{
	enum run_result r = RR_NONE, r2 = RR_NONE, rev[3];
	const char *why = NULL, *why2 = NULL;
	int failed = 0, canceled = 0, excluded = 0, disabled = 0;

	for (int k = 0; k < np; k++) {
		rev[np - 1 - k] = p[k];
		failed += p[k] == F || p[k] == T || p[k] == UF;
		canceled += p[k] == C || p[k] == UC;
		excluded += p[k] == X;
		disabled += p[k] == D;
	}
	enum dag_verdict v = decide_mix(rif, p, np, &r, &why);
	enum dag_verdict v2 = decide_mix(rif, rev, np, &r2, &why2);
	bool handler = rif == RUN_IF_AT_LEAST_ONE_FAILED || rif == RUN_IF_ALL_FAILED;

	assert_int_not_equal(v, DAG_WAIT);
	/* The order of depends_on never matters. */
	assert_int_equal(v, v2);
	if (v == DAG_RUN)
		return;
	assert_int_equal(r, r2);
	assert_true(r == X || r == UF || r == UC || r == D);
	assert_non_null(why);
	assert_true(*why != '\0');
	if (handler)
		assert_true(r == X || r == D);
	if (rif == RUN_IF_ALL_DONE)
		assert_int_equal(r, X); /* only when every parent was excluded */
	if (r == UC)
		assert_true(canceled > 0 && failed == 0);
	if (r == UF)
		assert_true(failed > 0);
	if (r == D)
		assert_true(disabled > 0);
	if (excluded == np)
		assert_int_equal(r, X);
	if (disabled == 0 && excluded < np && !handler && failed + canceled == 0)
		fail_msg("%s: nothing went wrong upstream, yet not run", run_if_name(rif));
}

static void test_every_mix_has_the_properties(void **state)
{
	(void)state;
	static const enum run_result all[] = {S, SWF, F, T, C, X, UF, UC, D};
	const int na = (int)(sizeof(all) / sizeof(all[0]));
	enum run_result p[3];
	int checked = 0;

	for (int rif = 0; rif < RUN_IF__COUNT; rif++) {
		for (int np = 1; np <= 3; np++) {
			int total = np == 1 ? na : np == 2 ? na * na : na * na * na;
			for (int code = 0; code < total; code++) {
				for (int k = 0, c = code; k < np; k++, c /= na)
					p[k] = all[c % na];
				check_mix_properties((enum run_if)rif, p, np);
				checked++;
			}
		}
	}
	assert_int_equal(checked, RUN_IF__COUNT * (9 + 81 + 729));
}

/* --- waiting, roots, disabled ------------------------------------------------------ */

static void test_roots_run_and_children_wait(void **state)
{
	(void)state;
	struct graph g;
	graph_init(&g);
	int a = add_node(&g, RUN_IF_ALL_SUCCESS);
	int b = add_node(&g, RUN_IF_ALL_FAILED); /* run_if means nothing on a root */
	int c = add_node(&g, RUN_IF_ALL_DONE);
	add_dep(&g, c, a, -1);
	add_dep(&g, c, b, -1);

	expect(&g, a, RUN, "root");
	expect(&g, b, RUN, "root with a failure-handler run_if");
	expect_wait(&g, c, "no parent done");
	finish(&g, a, F);
	expect_wait(&g, c, "one parent of two done");
	finish(&g, b, S);
	expect(&g, c, RUN, "both done");
}

static void test_each_run_if_waits_for_every_parent(void **state)
{
	(void)state;
	/* Even when the answer is already known (one success for
	 * AT_LEAST_ONE_SUCCESS, one failure for ALL_SUCCESS), a task waits:
	 * "The Run if condition is evaluated after completing all task
	 * dependencies." */
	for (int rif = 0; rif < RUN_IF__COUNT; rif++) {
		struct graph g;
		graph_init(&g);
		int a = add_node(&g, RUN_IF_ALL_SUCCESS), b = add_node(&g, RUN_IF_ALL_SUCCESS);
		int c = add_node(&g, (enum run_if)rif);
		add_dep(&g, c, a, -1);
		add_dep(&g, c, b, -1);
		finish(&g, a, rif % 2 ? S : F);
		expect_wait(&g, c, run_if_name((enum run_if)rif));
	}
}

static void test_disabled_task_is_decided_at_once(void **state)
{
	(void)state;
	struct graph g;
	graph_init(&g);
	int a = add_node(&g, RUN_IF_ALL_SUCCESS);
	int b = add_disabled(&g);
	int root = add_disabled(&g);
	add_dep(&g, b, a, -1);

	/* Its parent has not even started. */
	expect(&g, b, D, "disabled child");
	expect_why(&g, b, "disabled");
	expect(&g, root, D, "disabled root");
	/* Disabled wins over every run_if. */
	for (int rif = 0; rif < RUN_IF__COUNT; rif++) {
		g.nodes[b].run_if = (enum run_if)rif;
		finish(&g, a, F);
		expect(&g, b, D, run_if_name((enum run_if)rif));
	}
}

static void test_disabled_parent_decides_before_the_others_end(void **state)
{
	(void)state;
	struct graph g;
	graph_init(&g);
	int dis = add_disabled(&g);
	int running = add_node(&g, RUN_IF_ALL_SUCCESS);
	int all_s = add_node(&g, RUN_IF_ALL_SUCCESS);
	int all_f = add_node(&g, RUN_IF_ALL_FAILED);
	int one_s = add_node(&g, RUN_IF_AT_LEAST_ONE_SUCCESS);
	int done = add_node(&g, RUN_IF_ALL_DONE);
	for (int c = all_s; c <= done; c++) {
		add_dep(&g, c, dis, -1);
		add_dep(&g, c, running, -1);
	}
	finish(&g, dis, D);

	/* The service decides these when it creates the run. */
	expect(&g, all_s, D, "ALL_SUCCESS under a disabled parent");
	expect_why(&g, all_s, "upstream task is disabled");
	expect(&g, all_f, D, "ALL_FAILED under a disabled parent");
	/* These may still run: they wait for the other parent. */
	expect_wait(&g, one_s, "AT_LEAST_ONE_SUCCESS");
	expect_wait(&g, done, "ALL_DONE");
	finish(&g, running, S);
	expect(&g, one_s, RUN, "AT_LEAST_ONE_SUCCESS, the other parent succeeded");
	expect(&g, done, RUN, "ALL_DONE");
}

static void test_disabled_spreads_down_a_chain(void **state)
{
	(void)state;
	struct graph g;
	graph_init(&g);
	int a = add_disabled(&g);
	int b = add_node(&g, RUN_IF_ALL_SUCCESS);
	int c = add_node(&g, RUN_IF_NONE_FAILED);
	int d = add_node(&g, RUN_IF_ALL_DONE);
	add_dep(&g, b, a, -1);
	add_dep(&g, c, b, -1);
	add_dep(&g, d, c, -1);

	expect(&g, a, D, "disabled");
	finish(&g, a, D);
	expect(&g, b, D, "child of a disabled task");
	finish(&g, b, D);
	expect(&g, c, D, "NONE_FAILED whose only parent is disabled");
	expect_why(&g, c, "every upstream task is disabled");
	finish(&g, c, D);
	expect(&g, d, RUN, "ALL_DONE treats a disabled parent as done");
}

static void test_not_run_termination_codes(void **state)
{
	(void)state;
	assert_int_equal(dag_not_run_term(RR_DISABLED), TERM_DISABLED);
	assert_int_equal(dag_not_run_term(RR_EXCLUDED), TERM_SKIPPED);
	assert_int_equal(dag_not_run_term(RR_UPSTREAM_FAILED), TERM_SKIPPED);
	assert_int_equal(dag_not_run_term(RR_UPSTREAM_CANCELED), TERM_SKIPPED);
	assert_int_equal(dag_not_run_term(RR_SUCCESS), TERM_NONE);
	assert_int_equal(dag_not_run_term(RR_FAILED), TERM_NONE);
	assert_int_equal(dag_not_run_term(RR_NONE), TERM_NONE);
}

static void test_result_classes(void **state)
{
	(void)state;
	assert_int_equal(dag_result_class(RR_NONE), DAG_CLASS_NONE);
	assert_int_equal(dag_result_class(S), DAG_CLASS_SUCCEEDED);
	assert_int_equal(dag_result_class(SWF), DAG_CLASS_SUCCEEDED);
	assert_int_equal(dag_result_class(F), DAG_CLASS_FAILED);
	assert_int_equal(dag_result_class(T), DAG_CLASS_FAILED);
	assert_int_equal(dag_result_class(UF), DAG_CLASS_FAILED);
	assert_int_equal(dag_result_class(RR_MAXIMUM_CONCURRENT_RUNS_REACHED), DAG_CLASS_FAILED);
	assert_int_equal(dag_result_class(C), DAG_CLASS_CANCELED);
	assert_int_equal(dag_result_class(UC), DAG_CLASS_CANCELED);
	assert_int_equal(dag_result_class(X), DAG_CLASS_SKIPPED);
	assert_int_equal(dag_result_class(D), DAG_CLASS_SKIPPED);
	/* A corrupt value never reads as success. */
	assert_int_equal(dag_result_class((enum run_result)RR__COUNT), DAG_CLASS_FAILED);
	assert_int_equal(dag_result_class((enum run_result)99), DAG_CLASS_FAILED);
}

static void test_parent_done_without_result_reads_as_failed(void **state)
{
	(void)state;
	struct graph g;
	graph_init(&g);
	int a = add_node(&g, RUN_IF_ALL_SUCCESS);
	int b = add_node(&g, RUN_IF_ALL_SUCCESS);
	int h = add_node(&g, RUN_IF_AT_LEAST_ONE_FAILED);
	add_dep(&g, b, a, -1);
	add_dep(&g, h, a, -1);
	finish(&g, a, RR_NONE);
	expect(&g, b, UF, "parent done with no result");
	expect(&g, h, RUN, "failure handler of a parent with no result");
}

static void test_unknown_run_if_is_all_success(void **state)
{
	(void)state;
	struct graph g;
	graph_init(&g);
	int a = add_node(&g, RUN_IF_ALL_SUCCESS);
	int b = add_node(&g, (enum run_if)RUN_IF__COUNT);
	add_dep(&g, b, a, -1);
	finish(&g, a, F);
	expect(&g, b, UF, "run_if out of range");
	finish(&g, a, S);
	expect(&g, b, RUN, "run_if out of range");
}

/* --- condition tasks ------------------------------------------------------------- */

/* cond -> yes (outcome true), no (outcome false); join depends on both. */
struct branch {
	struct graph g;
	int cond, yes, no, join;
};

static void branch_init(struct branch *b, enum run_if join_rif)
{
	graph_init(&b->g);
	b->cond = add_cond(&b->g, RUN_IF_ALL_SUCCESS);
	b->yes = add_node(&b->g, RUN_IF_ALL_SUCCESS);
	b->no = add_node(&b->g, RUN_IF_ALL_SUCCESS);
	b->join = add_node(&b->g, join_rif);
	add_dep(&b->g, b->yes, b->cond, 1);
	add_dep(&b->g, b->no, b->cond, 0);
	add_dep(&b->g, b->join, b->yes, -1);
	add_dep(&b->g, b->join, b->no, -1);
}

static void test_condition_true_runs_the_true_branch(void **state)
{
	(void)state;
	struct branch b;
	branch_init(&b, RUN_IF_ALL_SUCCESS);
	expect(&b.g, b.cond, RUN, "condition root");
	expect_wait(&b.g, b.yes, "condition not done");
	finish_cond(&b.g, b.cond, true);
	expect(&b.g, b.yes, RUN, "outcome true on the true edge");
	expect(&b.g, b.no, X, "outcome true on the false edge");
	expect_why(&b.g, b.no, "other outcome");
	finish(&b.g, b.yes, S);
	finish(&b.g, b.no, X);
	/* The join after both branches runs: the excluded one counts as
	 * successful. */
	expect(&b.g, b.join, RUN, "join after the branches");
}

static void test_condition_false_runs_the_false_branch(void **state)
{
	(void)state;
	struct branch b;
	branch_init(&b, RUN_IF_ALL_SUCCESS);
	finish_cond(&b.g, b.cond, false);
	expect(&b.g, b.yes, X, "outcome false on the true edge");
	expect(&b.g, b.no, RUN, "outcome false on the false edge");
	finish(&b.g, b.yes, X);
	finish(&b.g, b.no, F);
	expect(&b.g, b.join, UF, "join after a failed branch");
}

static void test_failed_condition_fails_both_branches(void **state)
{
	(void)state;
	struct branch b;
	branch_init(&b, RUN_IF_ALL_SUCCESS);
	int handler = add_node(&b.g, RUN_IF_AT_LEAST_ONE_FAILED);
	add_dep(&b.g, handler, b.cond, -1);
	/* A condition whose operand is not a number fails; it has no
	 * outcome, so its branches are upstream failed, not excluded. */
	finish(&b.g, b.cond, F);
	expect(&b.g, b.yes, UF, "true branch of a failed condition");
	expect(&b.g, b.no, UF, "false branch of a failed condition");
	expect(&b.g, handler, RUN, "failure handler of a condition");
	finish(&b.g, b.yes, UF);
	finish(&b.g, b.no, UF);
	expect(&b.g, b.join, UF, "join");
}

static void test_excluded_branch_spreads_exclusion(void **state)
{
	(void)state;
	struct graph g;
	graph_init(&g);
	int cond = add_cond(&g, RUN_IF_ALL_SUCCESS);
	int a = add_node(&g, RUN_IF_ALL_SUCCESS);
	int b = add_node(&g, RUN_IF_NONE_FAILED);
	int c = add_node(&g, RUN_IF_ALL_DONE);
	int h = add_node(&g, RUN_IF_AT_LEAST_ONE_FAILED);
	add_dep(&g, a, cond, 1);
	add_dep(&g, b, a, -1);
	add_dep(&g, c, b, -1);
	add_dep(&g, h, a, -1);
	finish_cond(&g, cond, false);

	expect(&g, a, X, "outcome mismatch");
	finish(&g, a, X);
	expect(&g, b, X, "NONE_FAILED under an excluded branch");
	expect(&g, h, X, "failure handler under an excluded branch");
	finish(&g, b, X);
	expect(&g, c, X, "even ALL_DONE");
	expect_why(&g, c, "every upstream task was excluded");
}

static void test_outcome_is_a_gate_whatever_the_run_if(void **state)
{
	(void)state;
	/* A task on the true edge of a condition that came out false does not
	 * run, even when its other parents would let it. */
	for (int rif = 0; rif < RUN_IF__COUNT; rif++) {
		struct graph g;
		graph_init(&g);
		int cond = add_cond(&g, RUN_IF_ALL_SUCCESS);
		int other = add_node(&g, RUN_IF_ALL_SUCCESS);
		int child = add_node(&g, (enum run_if)rif);
		add_dep(&g, child, cond, 1);
		add_dep(&g, child, other, -1);
		finish_cond(&g, cond, false);
		finish(&g, other, rif >= RUN_IF_AT_LEAST_ONE_FAILED ? F : S);
		expect(&g, child, X, run_if_name((enum run_if)rif));
		/* The matching outcome lets the run_if decide (ALL_FAILED
		 * does not hold: the condition succeeded). */
		g.nodes[cond].outcome = 1;
		expect(&g, child, rif == RUN_IF_ALL_FAILED ? X : RUN,
		       run_if_name((enum run_if)rif));
	}
}

static void test_nested_conditions(void **state)
{
	(void)state;
	struct graph g;
	graph_init(&g);
	int c1 = add_cond(&g, RUN_IF_ALL_SUCCESS);
	int c2 = add_cond(&g, RUN_IF_ALL_SUCCESS); /* on c1's true edge */
	int c3 = add_cond(&g, RUN_IF_ALL_SUCCESS); /* on c1's false edge */
	int t2 = add_node(&g, RUN_IF_ALL_SUCCESS), f2 = add_node(&g, RUN_IF_ALL_SUCCESS);
	int t3 = add_node(&g, RUN_IF_ALL_SUCCESS);
	int after = add_node(&g, RUN_IF_NONE_FAILED);
	add_dep(&g, c2, c1, 1);
	add_dep(&g, c3, c1, 0);
	add_dep(&g, t2, c2, 1);
	add_dep(&g, f2, c2, 0);
	add_dep(&g, t3, c3, 1);
	add_dep(&g, after, t2, -1);
	add_dep(&g, after, f2, -1);
	add_dep(&g, after, t3, -1);

	finish_cond(&g, c1, true);
	expect(&g, c2, RUN, "inner condition on the taken edge");
	expect(&g, c3, X, "inner condition on the other edge");
	finish(&g, c3, X);
	/* An excluded condition has no outcome: its children are excluded as
	 * children of an excluded task. */
	expect(&g, t3, X, "child of an excluded condition");
	finish(&g, t3, X);
	finish_cond(&g, c2, false);
	expect(&g, t2, X, "inner true edge, inner outcome false");
	expect(&g, f2, RUN, "inner false edge, inner outcome false");
	finish(&g, t2, X);
	expect_wait(&g, after, "f2 still running");
	finish(&g, f2, S);
	expect(&g, after, RUN, "one branch ran and succeeded");
}

static void test_outcome_without_meaning_is_ignored(void **state)
{
	(void)state;
	struct graph g;
	graph_init(&g);
	int plain = add_node(&g, RUN_IF_ALL_SUCCESS);
	int cond = add_cond(&g, RUN_IF_ALL_SUCCESS);
	int a = add_node(&g, RUN_IF_ALL_SUCCESS);
	int b = add_node(&g, RUN_IF_ALL_SUCCESS);
	add_dep(&g, a, plain, 0); /* validation forbids it; the rules ignore it */
	add_dep(&g, b, cond, 1);
	g.nodes[b].dep_outcome = NULL; /* NULL: no outcome on any dep */
	finish(&g, plain, S);
	finish_cond(&g, cond, false);
	expect(&g, a, RUN, "outcome on a parent that is no condition");
	expect(&g, b, RUN, "dep_outcome NULL");
}

static void test_disabled_condition_disables_its_branches(void **state)
{
	(void)state;
	struct graph g;
	graph_init(&g);
	int cond = add_cond(&g, RUN_IF_ALL_SUCCESS);
	int yes = add_node(&g, RUN_IF_ALL_SUCCESS), any = add_node(&g, RUN_IF_ALL_DONE);
	g.nodes[cond].disabled = true;
	add_dep(&g, yes, cond, 1);
	add_dep(&g, any, cond, 1);
	expect(&g, cond, D, "disabled condition");
	finish(&g, cond, D);
	expect(&g, yes, D, "its true edge");
	/* ALL_DONE treats the disabled parent as done; it has no outcome to
	 * mismatch. */
	expect(&g, any, RUN, "ALL_DONE on its true edge");
}

/* --- the job run's result -------------------------------------------------------- */

/* a -> b -> c, a -> h (AT_LEAST_ONE_FAILED), e alone. */
struct job {
	struct graph g;
	int a, b, c, h, e;
};

static void job_init(struct job *j, enum run_result ra, enum run_result rb, enum run_result rc,
		     enum run_result rh, enum run_result re)
{
	graph_init(&j->g);
	j->a = add_node(&j->g, RUN_IF_ALL_SUCCESS);
	j->b = add_node(&j->g, RUN_IF_ALL_SUCCESS);
	j->c = add_node(&j->g, RUN_IF_ALL_SUCCESS);
	j->h = add_node(&j->g, RUN_IF_AT_LEAST_ONE_FAILED);
	j->e = add_node(&j->g, RUN_IF_ALL_SUCCESS);
	add_dep(&j->g, j->b, j->a, -1);
	add_dep(&j->g, j->c, j->b, -1);
	add_dep(&j->g, j->h, j->a, -1);
	finish(&j->g, j->a, ra);
	finish(&j->g, j->b, rb);
	finish(&j->g, j->c, rc);
	finish(&j->g, j->h, rh);
	finish(&j->g, j->e, re);
}

static enum run_result job_result(const struct job *j)
{
	return dag_job_result(j->g.nodes, j->g.n, false, false);
}

static void test_leaves(void **state)
{
	(void)state;
	struct job j;
	bool leaf[MAXN];
	job_init(&j, S, S, S, X, S);
	dag_mark_leaves(j.g.nodes, j.g.n, leaf);
	assert_false(leaf[j.a]);
	assert_false(leaf[j.b]);
	assert_true(leaf[j.c]);
	assert_true(leaf[j.h]);
	assert_true(leaf[j.e]);
}

static void test_job_result_from_leaves(void **state)
{
	(void)state;
	struct job j;

	job_init(&j, S, S, S, X, S);
	assert_int_equal(job_result(&j), RR_SUCCESS); /* unused failure handler */
	job_init(&j, S, S, F, X, S);
	assert_int_equal(job_result(&j), RR_FAILED);
	job_init(&j, S, S, S, X, T);
	assert_int_equal(job_result(&j), RR_FAILED); /* a timed out leaf */
	job_init(&j, S, F, UF, X, S);
	assert_int_equal(job_result(&j), RR_FAILED); /* an upstream failed leaf */
	/* The failure handler succeeded, yet c (a leaf) could not run. */
	job_init(&j, F, UF, UF, S, S);
	assert_int_equal(job_result(&j), RR_FAILED);
	job_init(&j, S, S, UC, X, S);
	assert_int_equal(job_result(&j), RR_CANCELED);
	job_init(&j, S, C, UC, X, F);
	assert_int_equal(job_result(&j), RR_FAILED); /* failed leaf beats a canceled one */
}

static void test_job_result_success_with_failures(void **state)
{
	(void)state;
	struct graph g;
	graph_init(&g);
	/* a fails, its handler h succeeds and is the only leaf. */
	int a = add_node(&g, RUN_IF_ALL_SUCCESS);
	int h = add_node(&g, RUN_IF_AT_LEAST_ONE_FAILED);
	add_dep(&g, h, a, -1);
	finish(&g, a, F);
	finish(&g, h, S);
	assert_int_equal(dag_job_result(g.nodes, g.n, false, false), RR_SUCCESS_WITH_FAILURES);
	/* A canceled task upstream of a succeeded ALL_DONE leaf. */
	finish(&g, a, C);
	assert_int_equal(dag_job_result(g.nodes, g.n, false, false), RR_SUCCESS_WITH_FAILURES);
	/* A successful child job with failures counts as success. */
	finish(&g, a, SWF);
	finish(&g, h, X);
	assert_int_equal(dag_job_result(g.nodes, g.n, false, false), RR_SUCCESS);
}

static void test_job_result_skipped_leaves_are_neutral(void **state)
{
	(void)state;
	struct branch b;
	branch_init(&b, RUN_IF_ALL_SUCCESS);
	finish_cond(&b.g, b.cond, true);
	finish(&b.g, b.yes, S);
	finish(&b.g, b.no, X);
	finish(&b.g, b.join, S);
	assert_int_equal(dag_job_result(b.g.nodes, b.g.n, false, false), RR_SUCCESS);
	/* Every leaf excluded or disabled, nothing failed. */
	finish(&b.g, b.join, X);
	assert_int_equal(dag_job_result(b.g.nodes, b.g.n, false, false), RR_SUCCESS);
	finish(&b.g, b.join, D);
	assert_int_equal(dag_job_result(b.g.nodes, b.g.n, false, false), RR_SUCCESS);
	/* Every node skipped. */
	for (int i = 0; i < b.g.n; i++)
		finish(&b.g, i, i % 2 ? X : D);
	assert_int_equal(dag_job_result(b.g.nodes, b.g.n, false, false), RR_SUCCESS);
	assert_int_equal(dag_job_result(b.g.nodes, 0, false, false), RR_SUCCESS);
}

static void test_job_result_cancel_and_timeout_win(void **state)
{
	(void)state;
	struct job j;
	job_init(&j, S, S, S, X, S);
	assert_int_equal(dag_job_result(j.g.nodes, j.g.n, true, false), RR_CANCELED);
	assert_int_equal(dag_job_result(j.g.nodes, j.g.n, false, true), RR_TIMEDOUT);
	/* A timeout cancels the run: the cause is what is reported. */
	assert_int_equal(dag_job_result(j.g.nodes, j.g.n, true, true), RR_TIMEDOUT);
	job_init(&j, S, S, F, X, S);
	assert_int_equal(dag_job_result(j.g.nodes, j.g.n, true, false), RR_CANCELED);
}

static void test_job_result_unfinished_node_counts_as_failed(void **state)
{
	(void)state;
	struct job j;
	job_init(&j, S, S, S, X, S);
	j.g.nodes[j.e].done = false;
	assert_int_equal(job_result(&j), RR_FAILED);
	job_init(&j, S, S, S, X, S);
	j.g.nodes[j.b].result = RR_NONE;
	assert_int_equal(job_result(&j), RR_SUCCESS_WITH_FAILURES);
}

/* --- condition_task -------------------------------------------------------------- */

static bool cond_ok(const char *op, const char *l, const char *r)
{
	bool out = false;
	const char *why = NULL;
	if (dag_condition(op, l, r, &out, &why) != 0)
		fail_msg("'%s' %s '%s' refused: %s", l, op, r, why);
	return out;
}

static void cond_bad(const char *op, const char *l, const char *r, const char *want)
{
	bool out = true;
	const char *why = NULL;
	if (dag_condition(op, l, r, &out, &why) == 0)
		fail_msg("'%s' %s '%s' accepted", l ? l : "(null)", op ? op : "(null)",
			 r ? r : "(null)");
	if (!why || !strstr(why, want))
		fail_msg("'%s' %s '%s': reason \"%s\" lacks \"%s\"", l ? l : "(null)",
			 op ? op : "(null)", r ? r : "(null)", why ? why : "(null)", want);
	assert_true(out); /* untouched */
}

/* Asserts all four numeric ops on l and r agree with sign (-1, 0, 1). */
static void num_cmp(const char *l, const char *r, int sign)
{
	if (cond_ok("GREATER_THAN", l, r) != (sign > 0) ||
	    cond_ok("GREATER_THAN_OR_EQUAL", l, r) != (sign >= 0) ||
	    cond_ok("LESS_THAN", l, r) != (sign < 0) ||
	    cond_ok("LESS_THAN_OR_EQUAL", l, r) != (sign <= 0))
		fail_msg("'%s' vs '%s' should compare %d", l, r, sign);
}

static void test_condition_string_ops(void **state)
{
	(void)state;
	/* The docs' example: == compares strings, so 12.0 == 12 is false. */
	assert_false(cond_ok("EQUAL_TO", "12.0", "12"));
	assert_true(cond_ok("NOT_EQUAL", "12.0", "12"));
	assert_true(cond_ok("EQUAL_TO", "abc", "abc"));
	assert_false(cond_ok("EQUAL_TO", "abc", "abd"));
	assert_false(cond_ok("EQUAL_TO", "abc", "ab"));
	assert_true(cond_ok("EQUAL_TO", "", ""));
	assert_false(cond_ok("NOT_EQUAL", "", ""));
	assert_false(cond_ok("EQUAL_TO", " 12", "12")); /* no trimming for strings */
	/* Booleans arrive as "true"/"false", compared as strings. */
	assert_true(cond_ok("EQUAL_TO", "true", "true"));
	assert_true(cond_ok("NOT_EQUAL", "true", "false"));
	assert_false(cond_ok("EQUAL_TO", "True", "true"));
	/* NULL operands read as empty. */
	assert_true(cond_ok("EQUAL_TO", NULL, ""));
	/* Bytes beyond ASCII compare bytewise. */
	assert_true(cond_ok("EQUAL_TO", "caf\xc3\xa9", "caf\xc3\xa9"));
}

static void test_condition_numeric_ops(void **state)
{
	(void)state;
	/* The docs' examples: 12.0 >= 12 is true, 10.0 >= 12 is false. */
	assert_true(cond_ok("GREATER_THAN_OR_EQUAL", "12.0", "12"));
	assert_false(cond_ok("GREATER_THAN_OR_EQUAL", "10.0", "12"));
	num_cmp("12.0", "12", 0);
	num_cmp("12", "12.000", 0);
	num_cmp("1", "2", -1);
	num_cmp("10", "9", 1); /* numbers, not strings: "10" < "9" as text */
	num_cmp("100", "99.999", 1);
	num_cmp("0.1", "0.09", 1);
	num_cmp("007", "7", 0);
	num_cmp(".5", "0.5", 0);
	num_cmp("5.", "5", 0);
	num_cmp("+5", "4.999", 1);
	num_cmp(" 12 ", "12", 0); /* surrounding white space, as task values may carry */
	num_cmp("\t3\n", "3", 0);
}

static void test_condition_signs_and_exponents(void **state)
{
	(void)state;
	num_cmp("-1", "0", -1);
	num_cmp("-10", "-9", -1);
	num_cmp("-0.5", "-0.25", -1);
	num_cmp("-0", "0", 0);
	num_cmp("-0.0e5", "+0", 0);
	num_cmp("-3", "2", -1);
	num_cmp("1e3", "1000", 0);
	num_cmp("1E3", "999.9", 1);
	num_cmp("2e+2", "199.9", 1);
	num_cmp("1.5e-3", "0.002", -1);
	num_cmp("1.5E-3", "0.0015", 0);
	num_cmp("-1e-2", "-0.1", 1);
	num_cmp("12e-1", "1.2", 0);
	num_cmp("0.0012e3", "1.2", 0);
	num_cmp("1e400", "9e399", 1); /* beyond double */
	num_cmp("1e-400", "0", 1);    /* a double would say 0 */
	num_cmp("-1e-400", "0", -1);
	num_cmp("9007199254740993", "9007199254740992", 1); /* beyond double's 53 bits */
	num_cmp("0.30000000000000001", "0.3", 1);
	num_cmp("1e999999999999999999999", "1e999999999999999999999", 0);
	num_cmp("1e-999999999999999999999", "0", 1);
}

static void test_condition_refusals(void **state)
{
	(void)state;
	static const char *const not_numbers[] = {
		"",    "abc", "1e",    "e5",  ".",   "+",   "-",   "1.2.3", "0x10",  "inf",
		"NaN", "1 2", "12abc", "1e+", "--1", "+-1", "1,5", "true",  "false", " ",
	};
	for (size_t k = 0; k < sizeof(not_numbers) / sizeof(not_numbers[0]); k++) {
		cond_bad("GREATER_THAN", not_numbers[k], "1", "left operand");
		cond_bad("LESS_THAN_OR_EQUAL", "1", not_numbers[k], "right operand");
	}
	/* The same operands are fine for the string ops. */
	assert_false(cond_ok("EQUAL_TO", "true", "1"));
	cond_bad("==", "1", "1", "operator");
	cond_bad("equal_to", "1", "1", "operator");
	cond_bad("", "1", "1", "operator");
	cond_bad(NULL, "1", "1", "operator");
	cond_bad("GREATER_THAN", NULL, "1", "left operand");
}

/* --- run-now only ---------------------------------------------------------------- */

/* a -> b -> c -> f, a -> d -> f, e alone. Listed children first, so the
 * closures cannot rely on the order. */
struct sel {
	struct graph g;
	const char *keys[MAXN];
	int a, b, c, d, e, f;
};

static void sel_init(struct sel *s)
{
	graph_init(&s->g);
	s->f = add_node(&s->g, RUN_IF_ALL_SUCCESS);
	s->c = add_node(&s->g, RUN_IF_ALL_SUCCESS);
	s->b = add_node(&s->g, RUN_IF_ALL_SUCCESS);
	s->d = add_node(&s->g, RUN_IF_ALL_SUCCESS);
	s->a = add_node(&s->g, RUN_IF_ALL_SUCCESS);
	s->e = add_node(&s->g, RUN_IF_ALL_SUCCESS);
	add_dep(&s->g, s->b, s->a, -1);
	add_dep(&s->g, s->c, s->b, -1);
	add_dep(&s->g, s->f, s->c, -1);
	add_dep(&s->g, s->d, s->a, -1);
	add_dep(&s->g, s->f, s->d, -1);
	s->keys[s->a] = "a";
	s->keys[s->b] = "b";
	s->keys[s->c] = "c";
	s->keys[s->d] = "d";
	s->keys[s->e] = "e";
	s->keys[s->f] = "f";
}

/* Selects with the entries (NULL-terminated) and asserts the selected keys
 * are exactly want (a string of key letters). */
static void expect_only(const char *want, const char *e0, const char *e1, const char *e2)
{
	struct sel s;
	const char *only[3] = {e0, e1, e2};
	int nonly = e2 ? 3 : e1 ? 2 : e0 ? 1 : 0;
	bool selected[MAXN];
	const char *bad = NULL;
	char got[MAXN + 1] = "";

	sel_init(&s);
	memset(selected, 0xff, sizeof(selected));
	if (dag_select_only(s.g.nodes, s.keys, s.g.n, only, nonly, selected, &bad) != 0)
		fail_msg("refused '%s'", bad ? bad : "(null)");
	for (char k = 'a'; k <= 'f'; k++) {
		for (int i = 0; i < s.g.n; i++) {
			if (s.keys[i][0] == k && selected[i]) {
				size_t len = strlen(got);
				got[len] = k;
				got[len + 1] = '\0';
			}
		}
	}
	if (strcmp(got, want) != 0)
		fail_msg("only [%s, %s, %s] selected \"%s\", want \"%s\"", e0 ? e0 : "",
			 e1 ? e1 : "", e2 ? e2 : "", got, want);
}

static void test_only_plain_keys(void **state)
{
	(void)state;
	expect_only("b", "b", NULL, NULL);
	expect_only("ce", "e", "c", NULL);
	expect_only("c", "c", "c", NULL);    /* duplicates are harmless */
	expect_only("abc", "+c", "c", NULL); /* and keep the + of either */
	expect_only("cf", "c", "c+", NULL);
	expect_only("abcdef", NULL, NULL, NULL); /* no list: the whole job */
}

static void test_only_upstream_and_downstream(void **state)
{
	(void)state;
	expect_only("abc", "+c", NULL, NULL);
	expect_only("bcf", "b+", NULL, NULL); /* not a: "b+" adds no ancestor */
	expect_only("abcf", "+b+", NULL, NULL);
	expect_only("abcdf", "+f", NULL, NULL);
	expect_only("abcdf", "a+", NULL, NULL);
	expect_only("e", "+e+", NULL, NULL);
	expect_only("f", "f+", NULL, NULL);
	expect_only("a", "+a", NULL, NULL);
	/* One entry's direction does not leak into another's nodes: d is
	 * upstream of f (selected by "c+") but only "c+" selected f. */
	expect_only("cef", "c+", "+e", NULL);
	expect_only("abcdf", "b+", "+d", NULL);
}

static void test_only_refuses_unknown_keys(void **state)
{
	(void)state;
	static const char *const bad_entries[] = {"zz", "+zz+", "++b", "b++", "+", "++", "", "B"};
	struct sel s;
	bool selected[MAXN];

	sel_init(&s);
	for (size_t k = 0; k < sizeof(bad_entries) / sizeof(bad_entries[0]); k++) {
		const char *only[2] = {"b+", bad_entries[k]};
		const char *bad = NULL;
		assert_int_equal(dag_select_only(s.g.nodes, s.keys, s.g.n, only, 2, selected, &bad),
				 -1);
		assert_ptr_equal(bad, bad_entries[k]);
	}
	const char *only[1] = {"a"};
	const char *bad = NULL;
	assert_int_equal(dag_select_only(s.g.nodes, s.keys, 0, only, 1, selected, &bad), -1);
	assert_ptr_equal(bad, only[0]);
}

/* --- repair ---------------------------------------------------------------------- */

/* Asserts out[] is exactly the nodes listed in want (-1 terminated). */
static void expect_set(const bool *out, int n, const int *want, const char *what)
{
	bool w[MAXN] = {false};
	for (int k = 0; want[k] >= 0; k++)
		w[want[k]] = true;
	for (int i = 0; i < n; i++)
		if (out[i] != w[i])
			fail_msg("%s: node %d %s, want %s", what, i, out[i] ? "reruns" : "stays",
				 w[i] ? "reruns" : "stays");
}

static void test_repair_failed_and_what_did_not_succeed_below(void **state)
{
	(void)state;
	struct job j;
	bool rerun[MAXN] = {false}, out[MAXN];

	job_init(&j, F, UF, UF, S, S);
	rerun[j.a] = true;
	dag_repair_select(j.g.nodes, j.g.n, rerun, false, false, out);
	expect_set(out, j.g.n, (int[]){j.a, j.b, j.c, -1}, "rerun a");
	/* rerun_dependent_tasks: the handler that succeeded too. */
	dag_repair_select(j.g.nodes, j.g.n, rerun, false, true, out);
	expect_set(out, j.g.n, (int[]){j.a, j.b, j.c, j.h, -1}, "rerun a with dependents");
	/* rerun_all_failed_tasks: UPSTREAM_FAILED is a failure too. */
	dag_repair_select(j.g.nodes, j.g.n, NULL, true, false, out);
	expect_set(out, j.g.n, (int[]){j.a, j.b, j.c, -1}, "all failed");
	/* Nothing asked, nothing reruns. */
	dag_repair_select(j.g.nodes, j.g.n, NULL, false, true, out);
	expect_set(out, j.g.n, (int[]){-1}, "nothing asked");
}

static void test_repair_stops_at_what_succeeded(void **state)
{
	(void)state;
	struct job j;
	bool rerun[MAXN] = {false}, out[MAXN];

	/* a and b succeeded, c failed on its own. */
	job_init(&j, S, S, F, X, S);
	rerun[j.a] = true;
	dag_repair_select(j.g.nodes, j.g.n, rerun, false, false, out);
	/* b succeeded and reruns not: c's inputs do not change. The excluded
	 * handler is re-decided. */
	expect_set(out, j.g.n, (int[]){j.a, j.h, -1}, "rerun a");
	dag_repair_select(j.g.nodes, j.g.n, rerun, false, true, out);
	expect_set(out, j.g.n, (int[]){j.a, j.b, j.c, j.h, -1}, "rerun a with dependents");
	dag_repair_select(j.g.nodes, j.g.n, rerun, true, false, out);
	expect_set(out, j.g.n, (int[]){j.a, j.c, j.h, -1}, "rerun a and all failed");
	memset(rerun, 0, sizeof(rerun));
	rerun[j.e] = true;
	dag_repair_select(j.g.nodes, j.g.n, rerun, false, true, out);
	expect_set(out, j.g.n, (int[]){j.e, -1}, "rerun a task nobody depends on");
}

static void test_repair_reconsiders_excluded_branches(void **state)
{
	(void)state;
	struct branch b;
	bool rerun[MAXN] = {false}, out[MAXN];
	branch_init(&b, RUN_IF_ALL_SUCCESS);
	finish_cond(&b.g, b.cond, true);
	finish(&b.g, b.yes, S);
	finish(&b.g, b.no, X);
	finish(&b.g, b.join, S);
	rerun[b.cond] = true;
	/* The condition may come out the other way this time. */
	dag_repair_select(b.g.nodes, b.g.n, rerun, false, false, out);
	expect_set(out, b.g.n, (int[]){b.cond, b.no, -1}, "rerun the condition");
	/* Canceled and disabled: rerun_all_failed picks the canceled only. */
	finish(&b.g, b.yes, C);
	finish(&b.g, b.no, D);
	finish(&b.g, b.join, UC);
	dag_repair_select(b.g.nodes, b.g.n, NULL, true, false, out);
	expect_set(out, b.g.n, (int[]){b.yes, b.join, -1}, "all failed with cancels");
}

/* --- simulation ------------------------------------------------------------------ */

/* What each task ends with when it runs. */
struct script {
	enum run_result result;
	signed char outcome; /* condition tasks */
};

/* The 10-task job of the simulations:
 *   0 ingest                      5 on_fail   AT_LEAST_ONE_FAILED <- 2
 *   1 check (condition) <- 0      6 report    NONE_FAILED <- 4, 3
 *   2 transform <- 1 (true)       7 cleanup   ALL_DONE <- 5, 6
 *   3 note      <- 1 (false)      8 archive   disabled <- 0
 *   4 load      <- 2              9 publish   <- 8               */
static void build_job10(struct graph *g)
{
	graph_init(g);
	int ingest = add_node(g, RUN_IF_ALL_SUCCESS);
	int check = add_cond(g, RUN_IF_ALL_SUCCESS);
	int transform = add_node(g, RUN_IF_ALL_SUCCESS);
	int note = add_node(g, RUN_IF_ALL_SUCCESS);
	int load = add_node(g, RUN_IF_ALL_SUCCESS);
	int on_fail = add_node(g, RUN_IF_AT_LEAST_ONE_FAILED);
	int report = add_node(g, RUN_IF_NONE_FAILED);
	int cleanup = add_node(g, RUN_IF_ALL_DONE);
	int archive = add_disabled(g);
	int publish = add_node(g, RUN_IF_ALL_SUCCESS);
	add_dep(g, check, ingest, -1);
	add_dep(g, transform, check, 1);
	add_dep(g, note, check, 0);
	add_dep(g, load, transform, -1);
	add_dep(g, on_fail, transform, -1);
	add_dep(g, report, load, -1);
	add_dep(g, report, note, -1);
	add_dep(g, cleanup, on_fail, -1);
	add_dep(g, cleanup, report, -1);
	add_dep(g, archive, ingest, -1);
	add_dep(g, publish, archive, -1);
	assert_int_equal(g->n, 10);
}

/* Drives the graph as the engine does: each sweep decides every open node
 * in index order; NOT_RUN ends a node at once, RUN starts it, and the tasks
 * started in a sweep run side by side and end (with their scripted result)
 * when the sweep is over. Returns the number of sweeps; wave[i] = the
 * sweep in which node i started, -1 if it never ran. */
static int simulate(struct graph *g, const struct script *script, int *wave)
{
	bool started[MAXN] = {false};
	int sweeps = 0;

	for (int i = 0; i < g->n; i++)
		wave[i] = -1;
	for (;;) {
		bool progress = false;
		for (int i = 0; i < g->n; i++) {
			enum run_result r;
			const char *why;
			if (g->nodes[i].done || started[i])
				continue;
			switch (dag_decide(g->nodes, i, &r, &why)) {
			case DAG_RUN:
				for (int k = 0; k < g->nodes[i].ndeps; k++)
					assert_true(g->nodes[g->nodes[i].deps[k]].done);
				started[i] = true;
				wave[i] = sweeps;
				progress = true;
				break;
			case DAG_NOT_RUN:
				assert_non_null(why);
				finish(g, i, r);
				progress = true;
				break;
			case DAG_WAIT: break;
			}
		}
		for (int i = 0; i < g->n; i++) {
			if (started[i] && !g->nodes[i].done) {
				finish(g, i, script[i].result);
				g->nodes[i].outcome = script[i].outcome;
			}
		}
		if (!progress)
			break;
		sweeps++;
		assert_true(sweeps <= g->n); /* each sweep settles at least one node */
	}
	for (int i = 0; i < g->n; i++)
		if (!g->nodes[i].done)
			fail_msg("node %d never decided", i);
	return sweeps;
}

static void expect_results(const struct graph *g, const enum run_result *want)
{
	for (int i = 0; i < g->n; i++)
		if (g->nodes[i].result != want[i])
			fail_msg("node %d ended %s, want %s", i,
				 run_result_name(g->nodes[i].result), run_result_name(want[i]));
}

static void expect_waves(const int *wave, const int *want, int n)
{
	for (int i = 0; i < n; i++)
		if (wave[i] != want[i])
			fail_msg("node %d started in sweep %d, want %d", i, wave[i], want[i]);
}

static void test_simulation_transform_fails(void **state)
{
	(void)state;
	struct graph g;
	int wave[MAXN];
	static const struct script script[10] = {
		{S, -1}, {S, 1},  {F, -1}, {S, -1}, {S, -1},
		{S, -1}, {S, -1}, {S, -1}, {S, -1}, {S, -1},
	};
	static const enum run_result want[10] = {S, S, F, X, UF, S, UF, S, D, D};
	static const int want_wave[10] = {0, 1, 2, -1, -1, 3, -1, 4, -1, -1};

	build_job10(&g);
	assert_int_equal(simulate(&g, script, wave), 5);
	expect_results(&g, want);
	expect_waves(wave, want_wave, g.n);
	/* Leaves: cleanup (succeeded) and publish (disabled); transform,
	 * load and report failed upstream of them. */
	assert_int_equal(dag_job_result(g.nodes, g.n, false, false), RR_SUCCESS_WITH_FAILURES);
}

static void test_simulation_all_succeed(void **state)
{
	(void)state;
	struct graph g;
	int wave[MAXN];
	static const struct script script[10] = {
		{S, -1}, {S, 1},  {S, -1}, {S, -1}, {S, -1},
		{S, -1}, {S, -1}, {S, -1}, {S, -1}, {S, -1},
	};
	static const enum run_result want[10] = {S, S, S, X, S, X, S, S, D, D};
	static const int want_wave[10] = {0, 1, 2, -1, 3, -1, 4, 5, -1, -1};

	build_job10(&g);
	assert_int_equal(simulate(&g, script, wave), 6);
	expect_results(&g, want);
	expect_waves(wave, want_wave, g.n);
	assert_int_equal(dag_job_result(g.nodes, g.n, false, false), RR_SUCCESS);
}

static void test_simulation_condition_false(void **state)
{
	(void)state;
	struct graph g;
	int wave[MAXN];
	static const struct script script[10] = {
		{S, -1}, {S, 0},  {S, -1}, {S, -1}, {S, -1},
		{S, -1}, {S, -1}, {S, -1}, {S, -1}, {S, -1},
	};
	/* transform excluded; load and on_fail have only excluded parents;
	 * report runs on note's success, cleanup after it. */
	static const enum run_result want[10] = {S, S, X, S, X, X, S, S, D, D};
	static const int want_wave[10] = {0, 1, -1, 2, -1, -1, 3, 4, -1, -1};

	build_job10(&g);
	assert_int_equal(simulate(&g, script, wave), 5);
	expect_results(&g, want);
	expect_waves(wave, want_wave, g.n);
	assert_int_equal(dag_job_result(g.nodes, g.n, false, false), RR_SUCCESS);
}

static void test_simulation_root_fails(void **state)
{
	(void)state;
	struct graph g;
	int wave[MAXN];
	static const struct script script[10] = {
		{F, -1}, {S, 1},  {S, -1}, {S, -1}, {S, -1},
		{S, -1}, {S, -1}, {S, -1}, {S, -1}, {S, -1},
	};
	/* Everything below ingest is upstream failed except the two that
	 * handle failure: on_fail (UPSTREAM_FAILED is a failure) and cleanup
	 * (ALL_DONE). The disabled pair is decided in the first sweep. */
	static const enum run_result want[10] = {F, UF, UF, UF, UF, S, UF, S, D, D};
	static const int want_wave[10] = {0, -1, -1, -1, -1, 1, -1, 2, -1, -1};

	build_job10(&g);
	assert_int_equal(simulate(&g, script, wave), 3);
	expect_results(&g, want);
	expect_waves(wave, want_wave, g.n);
	assert_int_equal(dag_job_result(g.nodes, g.n, false, false), RR_SUCCESS_WITH_FAILURES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_success),
		cmocka_unit_test(test_at_least_one_success),
		cmocka_unit_test(test_none_failed),
		cmocka_unit_test(test_all_done),
		cmocka_unit_test(test_at_least_one_failed),
		cmocka_unit_test(test_all_failed),
		cmocka_unit_test(test_every_mix_has_the_properties),
		cmocka_unit_test(test_roots_run_and_children_wait),
		cmocka_unit_test(test_each_run_if_waits_for_every_parent),
		cmocka_unit_test(test_disabled_task_is_decided_at_once),
		cmocka_unit_test(test_disabled_parent_decides_before_the_others_end),
		cmocka_unit_test(test_disabled_spreads_down_a_chain),
		cmocka_unit_test(test_not_run_termination_codes),
		cmocka_unit_test(test_result_classes),
		cmocka_unit_test(test_parent_done_without_result_reads_as_failed),
		cmocka_unit_test(test_unknown_run_if_is_all_success),
		cmocka_unit_test(test_condition_true_runs_the_true_branch),
		cmocka_unit_test(test_condition_false_runs_the_false_branch),
		cmocka_unit_test(test_failed_condition_fails_both_branches),
		cmocka_unit_test(test_excluded_branch_spreads_exclusion),
		cmocka_unit_test(test_outcome_is_a_gate_whatever_the_run_if),
		cmocka_unit_test(test_nested_conditions),
		cmocka_unit_test(test_outcome_without_meaning_is_ignored),
		cmocka_unit_test(test_disabled_condition_disables_its_branches),
		cmocka_unit_test(test_leaves),
		cmocka_unit_test(test_job_result_from_leaves),
		cmocka_unit_test(test_job_result_success_with_failures),
		cmocka_unit_test(test_job_result_skipped_leaves_are_neutral),
		cmocka_unit_test(test_job_result_cancel_and_timeout_win),
		cmocka_unit_test(test_job_result_unfinished_node_counts_as_failed),
		cmocka_unit_test(test_condition_string_ops),
		cmocka_unit_test(test_condition_numeric_ops),
		cmocka_unit_test(test_condition_signs_and_exponents),
		cmocka_unit_test(test_condition_refusals),
		cmocka_unit_test(test_only_plain_keys),
		cmocka_unit_test(test_only_upstream_and_downstream),
		cmocka_unit_test(test_only_refuses_unknown_keys),
		cmocka_unit_test(test_repair_failed_and_what_did_not_succeed_below),
		cmocka_unit_test(test_repair_stops_at_what_succeeded),
		cmocka_unit_test(test_repair_reconsiders_excluded_branches),
		cmocka_unit_test(test_simulation_transform_fails),
		cmocka_unit_test(test_simulation_all_succeed),
		cmocka_unit_test(test_simulation_condition_false),
		cmocka_unit_test(test_simulation_root_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
