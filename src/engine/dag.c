/* dag.c - the task graph decisions of a job run (engine/dag.h).
 *
 * Method: dag_decide() tallies the node's dependency edges by what each
 * parent ended with (succeeded, failed, canceled, excluded, disabled; an
 * outcome dep whose condition parent had the other outcome is a mismatch),
 * then applies, in this order: the node's own `disabled`; disabled for the
 * run through a disabled parent; wait for the rest; every parent excluded;
 * an outcome mismatch; the run_if. Each rule and its source is in
 * docs/internals/dag.md; the comments here say only what the code cannot.
 *
 * Nothing here allocates except dag_select_only's scratch array: decide,
 * job result and condition run for every task of every run.
 * Threads: constant tables only; any thread.
 */
#include "engine/dag.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* --- results ----------------------------------------------------------------------- */

enum dag_class dag_result_class(enum run_result r)
{
	switch (r) {
	case RR_NONE: return DAG_CLASS_NONE;
	case RR_SUCCESS:
	case RR_SUCCESS_WITH_FAILURES: return DAG_CLASS_SUCCEEDED;
	case RR_CANCELED:
	case RR_UPSTREAM_CANCELED: return DAG_CLASS_CANCELED;
	case RR_EXCLUDED:
	case RR_DISABLED: return DAG_CLASS_SKIPPED;
	case RR_FAILED:
	case RR_TIMEDOUT:
	case RR_UPSTREAM_FAILED:
	case RR_MAXIMUM_CONCURRENT_RUNS_REACHED:
	case RR__COUNT: break;
	}
	/* Anything that did not succeed and is not a known skip is a failure, so
	 * a corrupt value can never make a run look successful. */
	return DAG_CLASS_FAILED;
}

/* What a finished node counts as for the rules: done without a result (a
 * caller's bug) or not done at all reads as failed, never as success. */
static enum dag_class final_class(const struct dag_node *p)
{
	enum dag_class c = p->done ? dag_result_class(p->result) : DAG_CLASS_NONE;
	return c == DAG_CLASS_NONE ? DAG_CLASS_FAILED : c;
}

enum run_term dag_not_run_term(enum run_result r)
{
	switch (r) {
	case RR_DISABLED: return TERM_DISABLED;
	case RR_EXCLUDED:
	case RR_UPSTREAM_FAILED:
	case RR_UPSTREAM_CANCELED: return TERM_SKIPPED;
	default: return TERM_NONE;
	}
}

/* --- dag_decide -------------------------------------------------------------------- */

/* The node's dependency edges, counted by what their parents ended with.
 * Only parents that are done are counted, except `done` itself. */
struct tally {
	int n, done;
	int succeeded, failed, canceled, excluded, disabled;
	bool mismatch; /* an outcome dep whose condition parent had the other outcome */
};

static signed char dep_outcome(const struct dag_node *d, int k)
{
	return d->dep_outcome ? d->dep_outcome[k] : -1;
}

static void count_edges(const struct dag_node *nodes, const struct dag_node *d, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	t->n = d->ndeps;
	for (int k = 0; k < d->ndeps; k++) {
		const struct dag_node *p = &nodes[d->deps[k]];
		if (!p->done)
			continue;
		t->done++;
		switch (final_class(p)) {
		case DAG_CLASS_SUCCEEDED:
			t->succeeded++;
			/* An outcome only means something on a condition parent
			 * (the job's validation allows no other); a condition
			 * that failed has no outcome and counts as failed. */
			if (p->is_condition && dep_outcome(d, k) >= 0 &&
			    p->outcome != dep_outcome(d, k))
				t->mismatch = true;
			break;
		case DAG_CLASS_CANCELED: t->canceled++; break;
		case DAG_CLASS_SKIPPED:
			if (p->result == RR_DISABLED)
				t->disabled++;
			else
				t->excluded++;
			break;
		case DAG_CLASS_NONE:
		case DAG_CLASS_FAILED: t->failed++; break;
		}
	}
}

/* Disabled for the run: a disabled parent makes the run_if impossible
 * whatever the others end with. Knowable before they end, because disabled
 * nodes are decided at once. */
static const char *disabled_by_parents(enum run_if rif, const struct tally *t)
{
	switch (rif) {
	case RUN_IF_ALL_SUCCESS:
	case RUN_IF_ALL_FAILED:
		return t->disabled > 0 ? "Skipped because an upstream task is disabled" : NULL;
	case RUN_IF_ALL_DONE: return NULL;
	case RUN_IF_AT_LEAST_ONE_SUCCESS:
	case RUN_IF_NONE_FAILED:
	case RUN_IF_AT_LEAST_ONE_FAILED:
	case RUN_IF__COUNT: break;
	}
	return t->disabled == t->n ? "Skipped because every upstream task is disabled" : NULL;
}

/* The result of a task whose run_if asked for success and did not get it. */
static enum run_result upstream_result(const struct tally *t)
{
	return t->failed > 0 ? RR_UPSTREAM_FAILED : RR_UPSTREAM_CANCELED;
}

static const char *upstream_why(const struct tally *t)
{
	return t->failed > 0 ? "Skipped because an upstream task failed"
			     : "Skipped because an upstream task was canceled";
}

static enum dag_verdict not_run(enum run_result r, const char *msg, enum run_result *result,
				const char **why)
{
	*result = r;
	*why = msg;
	return DAG_NOT_RUN;
}

/* The run_if on a node whose parents are all done, none disabled in a way
 * that matters, not all excluded, and no outcome mismatch. Excluded parents
 * count as successful. */
static enum dag_verdict apply_run_if(enum run_if rif, const struct tally *t,
				     enum run_result *result, const char **why)
{
	int ok = t->succeeded + t->excluded;
	int bad = t->failed + t->canceled;

	switch (rif) {
	case RUN_IF_ALL_DONE: return DAG_RUN;
	case RUN_IF_AT_LEAST_ONE_SUCCESS:
		if (ok > 0)
			return DAG_RUN;
		return not_run(upstream_result(t), "Skipped because no upstream task succeeded",
			       result, why);
	case RUN_IF_NONE_FAILED:
		if (bad == 0)
			return DAG_RUN;
		return not_run(upstream_result(t), upstream_why(t), result, why);
	case RUN_IF_AT_LEAST_ONE_FAILED:
		if (bad > 0)
			return DAG_RUN;
		return not_run(RR_EXCLUDED, "Skipped because no upstream task failed", result, why);
	case RUN_IF_ALL_FAILED:
		if (bad == t->n)
			return DAG_RUN;
		return not_run(RR_EXCLUDED, "Skipped because not every upstream task failed",
			       result, why);
	case RUN_IF_ALL_SUCCESS:
	case RUN_IF__COUNT: break;
	}
	if (bad == 0)
		return DAG_RUN;
	return not_run(upstream_result(t), upstream_why(t), result, why);
}

enum dag_verdict dag_decide(const struct dag_node *nodes, int i, enum run_result *result,
			    const char **why)
{
	const struct dag_node *d = &nodes[i];
	/* An unknown run_if (a corrupt row) gets the API's default. */
	enum run_if rif = (unsigned)d->run_if < RUN_IF__COUNT ? d->run_if : RUN_IF_ALL_SUCCESS;
	struct tally t;
	const char *msg;

	if (d->disabled)
		return not_run(RR_DISABLED, "Skipped because the task is disabled", result, why);
	if (d->ndeps <= 0)
		return DAG_RUN;
	count_edges(nodes, d, &t);
	if ((msg = disabled_by_parents(rif, &t)))
		return not_run(RR_DISABLED, msg, result, why);
	if (t.done < t.n)
		return DAG_WAIT;
	if (t.excluded == t.n)
		return not_run(RR_EXCLUDED, "Skipped because every upstream task was excluded",
			       result, why);
	if (t.mismatch)
		return not_run(RR_EXCLUDED,
			       "Skipped because an upstream condition task had the other outcome",
			       result, why);
	return apply_run_if(rif, &t, result, why);
}

/* --- the job run's result ---------------------------------------------------------- */

void dag_mark_leaves(const struct dag_node *nodes, int n, bool *leaf)
{
	for (int i = 0; i < n; i++)
		leaf[i] = true;
	for (int j = 0; j < n; j++)
		for (int k = 0; k < nodes[j].ndeps; k++)
			leaf[nodes[j].deps[k]] = false;
}

static bool is_leaf(const struct dag_node *nodes, int n, int i)
{
	for (int j = 0; j < n; j++)
		for (int k = 0; k < nodes[j].ndeps; k++)
			if (nodes[j].deps[k] == i)
				return false;
	return true;
}

enum run_result dag_job_result(const struct dag_node *nodes, int n, bool canceled, bool timed_out)
{
	bool leaf_failed = false, leaf_canceled = false, other_bad = false;

	if (timed_out)
		return RR_TIMEDOUT;
	if (canceled)
		return RR_CANCELED;
	/* Only the nodes that went wrong need the leaf test, which keeps the
	 * usual all-succeeded run linear. */
	for (int i = 0; i < n; i++) {
		enum dag_class c = final_class(&nodes[i]);
		if (c != DAG_CLASS_FAILED && c != DAG_CLASS_CANCELED)
			continue;
		if (!is_leaf(nodes, n, i))
			other_bad = true;
		else if (c == DAG_CLASS_FAILED)
			leaf_failed = true;
		else
			leaf_canceled = true;
	}
	if (leaf_failed)
		return RR_FAILED;
	if (leaf_canceled)
		return RR_CANCELED;
	return other_bad ? RR_SUCCESS_WITH_FAILURES : RR_SUCCESS;
}

/* --- condition_task ---------------------------------------------------------------- */

/* How the outcome follows from the sign of the comparison. */
#define CMP_LT 1
#define CMP_EQ 2
#define CMP_GT 4

static const struct cond_op {
	const char *name;
	bool numeric;
	int true_when; /* CMP_* of the results that make the condition true */
} cond_ops[] = {
	/* clang-format off */
	{"EQUAL_TO",              false, CMP_EQ},
	{"NOT_EQUAL",             false, CMP_LT | CMP_GT},
	{"GREATER_THAN",          true,  CMP_GT},
	{"GREATER_THAN_OR_EQUAL", true,  CMP_GT | CMP_EQ},
	{"LESS_THAN",             true,  CMP_LT},
	{"LESS_THAN_OR_EQUAL",    true,  CMP_LT | CMP_EQ},
	/* clang-format on */
};

/* Exponents beyond this are saturated: two numbers whose exponents both
 * exceed 10^15 in size compare as if equal in magnitude order, which no
 * task value ever meets and which keeps the arithmetic in long long. */
#define EXP_CAP 1000000000000000LL

/* A decimal number as written: value = sign x 0.D x 10^mag, D being the
 * significant digits of the integer digits followed by the fraction digits.
 * Kept as pointers into the operand, so comparing needs no copy. */
struct decimal {
	bool neg;
	const char *ip, *fp; /* integer and fraction digits */
	size_t ilen, flen;
	size_t lead; /* zeros before the first significant digit */
	size_t nsig; /* significant digits, trailing zeros dropped; 0: the number is 0 */
	long long mag;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Digit k of the concatenated integer and fraction digits. */
static char raw_digit(const struct decimal *d, size_t k)
{
	return k < d->ilen ? d->ip[k] : d->fp[k - d->ilen];
}

static const char *skip_digits(const char *s)
{
	while (is_digit(*s))
		s++;
	return s;
}

/* Reads [e|E [+|-] digits]; false when the marker has no digits after it. */
static bool parse_exponent(const char **sp, long long *exp)
{
	const char *s = *sp;
	bool neg = false;

	*exp = 0;
	if (*s != 'e' && *s != 'E')
		return true;
	s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++)
		if (*exp < EXP_CAP)
			*exp = *exp * 10 + (*s - '0');
	if (*exp > EXP_CAP)
		*exp = EXP_CAP;
	if (neg)
		*exp = -*exp;
	*sp = s;
	return true;
}

static bool parse_decimal(const char *s, struct decimal *d)
{
	long long exp;

	memset(d, 0, sizeof(*d));
	while (is_space(*s))
		s++;
	if (*s == '+' || *s == '-')
		d->neg = *s++ == '-';
	d->ip = s;
	s = skip_digits(s);
	d->ilen = (size_t)(s - d->ip);
	d->fp = s;
	if (*s == '.') {
		d->fp = ++s;
		s = skip_digits(s);
		d->flen = (size_t)(s - d->fp);
	}
	if (d->ilen + d->flen == 0 || !parse_exponent(&s, &exp))
		return false;
	while (is_space(*s))
		s++;
	if (*s)
		return false;

	size_t total = d->ilen + d->flen, last = total;
	while (d->lead < total && raw_digit(d, d->lead) == '0')
		d->lead++;
	while (last > d->lead && raw_digit(d, last - 1) == '0')
		last--;
	d->nsig = last - d->lead;
	d->mag = (long long)d->ilen - (long long)d->lead + exp;
	return true;
}

static char sig_digit(const struct decimal *d, size_t k)
{
	return k < d->nsig ? raw_digit(d, d->lead + k) : '0';
}

/* Compares |a| and |b|, both non-zero. */
static int cmp_magnitude(const struct decimal *a, const struct decimal *b)
{
	if (a->mag != b->mag)
		return a->mag < b->mag ? -1 : 1;
	size_t n = a->nsig > b->nsig ? a->nsig : b->nsig;
	for (size_t k = 0; k < n; k++) {
		char x = sig_digit(a, k), y = sig_digit(b, k);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static int sign_of(const struct decimal *d) { return d->nsig == 0 ? 0 : d->neg ? -1 : 1; }

/* Exact: "12.0" == "12" == "1.2e1", "-0" == "0". */
static int cmp_decimal(const struct decimal *a, const struct decimal *b)
{
	int sa = sign_of(a), sb = sign_of(b);

	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (sa == 0)
		return 0;
	int c = cmp_magnitude(a, b);
	return sa > 0 ? c : -c;
}

static int cmp_bit(int c) { return c < 0 ? CMP_LT : c > 0 ? CMP_GT : CMP_EQ; }

int dag_condition(const char *op, const char *left, const char *right, bool *outcome,
		  const char **why)
{
	const struct cond_op *o = NULL;
	struct decimal l, r;
	int c;

	for (size_t k = 0; op && k < sizeof(cond_ops) / sizeof(cond_ops[0]); k++)
		if (strcmp(op, cond_ops[k].name) == 0)
			o = &cond_ops[k];
	if (!o) {
		*why = "The condition's operator is not one of EQUAL_TO, NOT_EQUAL, GREATER_THAN, "
		       "GREATER_THAN_OR_EQUAL, LESS_THAN, LESS_THAN_OR_EQUAL";
		return -1;
	}
	left = left ? left : "";
	right = right ? right : "";
	if (!o->numeric) {
		c = strcmp(left, right);
	} else if (!parse_decimal(left, &l)) {
		*why = "The left operand of a numeric comparison is not a number";
		return -1;
	} else if (!parse_decimal(right, &r)) {
		*why = "The right operand of a numeric comparison is not a number";
		return -1;
	} else {
		c = cmp_decimal(&l, &r);
	}
	*outcome = (o->true_when & cmp_bit(c)) != 0;
	return 0;
}

/* --- run-now only ------------------------------------------------------------------ */

static int find_key(const char *const *keys, int n, const char *k, size_t len)
{
	for (int i = 0; i < n; i++)
		if (keys[i] && strncmp(keys[i], k, len) == 0 && keys[i][len] == '\0')
			return i;
	return -1;
}

/* Marks every ancestor of a marked node. Jobs list parents before children
 * far more often than not, so walking backwards usually settles in one pass;
 * the loop makes any order correct. */
static void close_upward(const struct dag_node *nodes, int n, bool *mark)
{
	bool changed = true;
	while (changed) {
		changed = false;
		for (int i = n - 1; i >= 0; i--) {
			if (!mark[i])
				continue;
			for (int k = 0; k < nodes[i].ndeps; k++) {
				if (!mark[nodes[i].deps[k]])
					changed = mark[nodes[i].deps[k]] = true;
			}
		}
	}
}

/* Marks every descendant of a marked node; with a predicate, only the nodes
 * it admits (arg is passed on), and the marking does not pass through the
 * others. */
static void close_downward(const struct dag_node *nodes, int n, bool *mark,
			   bool (*admit)(const struct dag_node *, bool), bool arg)
{
	bool changed = true;
	while (changed) {
		changed = false;
		for (int i = 0; i < n; i++) {
			if (mark[i] || (admit && !admit(&nodes[i], arg)))
				continue;
			for (int k = 0; k < nodes[i].ndeps; k++) {
				if (mark[nodes[i].deps[k]]) {
					changed = mark[i] = true;
					break;
				}
			}
		}
	}
}

/* Reads one `only` entry into its node and its + marks. */
static int read_entry(const char *const *keys, int n, const char *e, bool *up, bool *down)
{
	size_t len = strlen(e);
	const char *k = e;

	*up = *down = false;
	if (len > 0 && k[0] == '+') {
		*up = true;
		k++;
		len--;
	}
	if (len > 0 && k[len - 1] == '+') {
		*down = true;
		len--;
	}
	return find_key(keys, n, k, len);
}

int dag_select_only(const struct dag_node *nodes, const char *const *keys, int n,
		    const char *const *only, int nonly, bool *selected, const char **bad)
{
	bool *up, *down;

	for (int i = 0; i < n; i++)
		selected[i] = nonly <= 0;
	if (nonly <= 0)
		return 0;
	if (n <= 0) {
		*bad = only[0];
		return -1;
	}
	/* Two closures, one per direction, need a mark each: a node selected
	 * for "key+" must not pull in its own ancestors. */
	up = calloc((size_t)n * 2, sizeof(*up));
	if (!up)
		abort(); /* out of memory */
	down = up + n;
	for (int e = 0; e < nonly; e++) {
		bool want_up, want_down;
		int i = only[e] ? read_entry(keys, n, only[e], &want_up, &want_down) : -1;
		if (i < 0) {
			*bad = only[e];
			free(up);
			return -1;
		}
		selected[i] = true;
		up[i] = up[i] || want_up;
		down[i] = down[i] || want_down;
	}
	close_upward(nodes, n, up);
	close_downward(nodes, n, down, NULL, false);
	for (int i = 0; i < n; i++)
		selected[i] = selected[i] || up[i] || down[i];
	free(up);
	return 0;
}

/* --- repair ------------------------------------------------------------------------ */

/* Whether rerun_all_failed_tasks picks the node. */
static bool failed_for_repair(const struct dag_node *d)
{
	enum dag_class c = d->done ? dag_result_class(d->result) : DAG_CLASS_NONE;
	return c == DAG_CLASS_FAILED || c == DAG_CLASS_CANCELED || c == DAG_CLASS_NONE;
}

/* Whether a node downstream of a rerun one reruns too. */
static bool rerun_downstream(const struct dag_node *d, bool dependents)
{
	return dependents || !d->done || dag_result_class(d->result) != DAG_CLASS_SUCCEEDED;
}

void dag_repair_select(const struct dag_node *nodes, int n, const bool *rerun, bool all_failed,
		       bool dependents, bool *out)
{
	for (int i = 0; i < n; i++)
		out[i] = (rerun && rerun[i]) || (all_failed && failed_for_repair(&nodes[i]));
	close_downward(nodes, n, out, rerun_downstream, dependents);
}
