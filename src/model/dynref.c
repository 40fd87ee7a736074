/* dynref.c - see dynref.h. docs/internals/dynref.md has the table of
 * references and the reasons for each rule.
 *
 * One scanner serves both the save-time check and the run-time expansion:
 * at every "{{" it tries to parse a reference (parse_ref), classifies the
 * path (classify), and either checks it against a scope or resolves it
 * against a run context. Text that does not parse is copied one byte at a
 * time, so "{{{job.id}}}" still expands its inner reference; the parse of
 * one candidate reads at most DYNREF_MAX_REF bytes, so the whole scan is
 * linear in the input.
 */
#include "model/dynref.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/schema.h"
#include "util/civil.h"
#include "util/strbuf.h"
#include "util/utf8.h"

#define PATH_LEN SCH_PATH_TEXT
/* More segments than any reference has (tasks.k.output.first_row.col is 5);
 * {{input.a.b.c...}} may walk a for-each element this deep. */
#define MAX_SEGS 16
/* Messages quote at most this much of a reference. */
#define QUOTE_MAX 200
/* A segment as the arguments of "%.*s", at most QUOTE_MAX bytes. */
#define SEGF(g) (int)((g).n < QUOTE_MAX ? (g).n : QUOTE_MAX), (g).p
/* Task values nested deeper than this are refused rather than recursed. */
#define MAX_JSON_DEPTH 256

/* --- parsing ---------------------------------------------------------------------- */

struct seg {
	const char *p;
	size_t n;
};

struct ref {
	const char *text; /* from "{{" */
	size_t len;	  /* through "}}" */
	struct seg seg[MAX_SEGS];
	int nseg;
};

static bool is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* s starts with "{{". The length of the reference there, or 0 if the text
 * is no reference (and so stays literal). Reads no further than a NUL or
 * DYNREF_MAX_REF bytes: every test below fails on a NUL. */
static size_t parse_ref(const char *s, struct ref *r)
{
	const size_t max = DYNREF_MAX_REF;
	size_t i = 2;
	r->text = s;
	r->nseg = 0;
	while (i < max && is_space(s[i]))
		i++;
	for (;;) {
		if (r->nseg == MAX_SEGS || i >= max)
			return 0;
		struct seg *g = &r->seg[r->nseg++];
		size_t j = i;
		if (s[i] == '`') {
			for (j = i + 1; j < max && s[j] && s[j] != '`'; j++)
				;
			if (j >= max || s[j] != '`' || j == i + 1)
				return 0;
			g->p = s + i + 1;
			g->n = j - i - 1;
			i = j + 1;
		} else {
			while (j < max && is_ident_char(s[j]))
				j++;
			if (j == i)
				return 0;
			g->p = s + i;
			g->n = j - i;
			i = j;
		}
		if (i < max && s[i] == '.') {
			i++;
			continue;
		}
		break;
	}
	while (i < max && is_space(s[i]))
		i++;
	if (i + 1 >= max || s[i] != '}' || s[i + 1] != '}')
		return 0;
	r->len = i + 2;
	return r->len;
}

/* The next "{{" at or after p, or NULL. A plain loop, not strstr(): under
 * ASan every strstr() call checks the whole rest of the string, which made
 * the scan of text full of "{{" quadratic in sanitizer builds. */
static const char *next_open(const char *p)
{
	for (; *p; p++)
		if (p[0] == '{' && p[1] == '{')
			return p;
	return NULL;
}

static bool seg_is(const struct seg *g, const char *name)
{
	return strlen(name) == g->n && memcmp(g->p, name, g->n) == 0;
}

/* --- classification ------------------------------------------------------------- */

enum time_arg {
	T_ISO_DATE,
	T_ISO_DATETIME,
	T_IS_WEEKDAY,
	T_ISO_WEEKDAY,
	T_YEAR,
	T_MONTH,
	T_DAY,
	T_HOUR,
	T_MINUTE,
	T_SECOND,
	T_TIMESTAMP_MS,
};

static const char *const time_args[] = {
	"iso_date", "iso_datetime", "is_weekday", "iso_weekday", "year",	 "month",
	"day",	    "hour",	    "minute",	  "second",	 "timestamp_ms", NULL,
};

enum kind {
	K_LITERAL, /* no namespace we know: the text stays as written */
	K_UNKNOWN, /* a known namespace, but the path names nothing */
	K_UNSUPPORTED_TABLE,
	K_PARAM_NEEDS_BACKTICKS,
	K_JOB_ID,
	K_JOB_NAME,
	K_JOB_RUN_ID,
	K_JOB_REPAIR_COUNT,
	K_START_TIME,
	K_TRIGGER_TIME,
	K_BACKFILL_TIME,
	K_TRIGGER_TYPE,
	K_FILE_LOCATION,
	K_JOB_PARAM,
	K_TASK_NAME,
	K_TASK_RUN_ID,
	K_TASK_NOTEBOOK_PATH,
	K_TASK_EXECUTION_COUNT,
	K_TASK_RETRY_COUNT,
	K_TASKS_FACT, /* tasks.<key>.run_id and friends: seg[2] names it */
	K_TASKS_VALUE,
	K_TASKS_OUTPUT,
	K_WORKSPACE_ID,
	K_WORKSPACE_URL,
	K_INPUT,
};

struct what {
	enum kind kind;
	enum time_arg arg;
};

static bool time_arg_of(const struct seg *g, enum time_arg *arg)
{
	for (int i = 0; time_args[i]; i++)
		if (seg_is(g, time_args[i])) {
			*arg = (enum time_arg)i;
			return true;
		}
	return false;
}

/* The deprecated single-name forms of the task parameter variables that
 * came before dynamic value references. */
static struct what classify_legacy(const struct seg *g)
{
	static const struct {
		const char *name;
		enum kind kind;
		enum time_arg arg;
	} legacy[] = {
		{"job_id", K_JOB_ID, 0},
		{"run_id", K_TASK_RUN_ID, 0},
		{"parent_run_id", K_JOB_RUN_ID, 0},
		{"start_date", K_START_TIME, T_ISO_DATE},
		{"start_time", K_START_TIME, T_TIMESTAMP_MS},
		{"task_retry_count", K_TASK_RETRY_COUNT, 0},
		{"task_key", K_TASK_NAME, 0},
	};
	for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
		if (seg_is(g, legacy[i].name))
			return (struct what){legacy[i].kind, legacy[i].arg};
	return (struct what){K_LITERAL, 0};
}

static struct what classify_job(const struct ref *r)
{
	const struct seg *s = r->seg;
	struct what w = {K_UNKNOWN, 0};
	if (r->nseg == 2) {
		if (seg_is(&s[1], "id"))
			w.kind = K_JOB_ID;
		else if (seg_is(&s[1], "name"))
			w.kind = K_JOB_NAME;
		else if (seg_is(&s[1], "run_id"))
			w.kind = K_JOB_RUN_ID;
		else if (seg_is(&s[1], "repair_count"))
			w.kind = K_JOB_REPAIR_COUNT;
	} else if (seg_is(&s[1], "start_time")) {
		if (r->nseg == 3 && time_arg_of(&s[2], &w.arg))
			w.kind = K_START_TIME;
	} else if (seg_is(&s[1], "parameters")) {
		if (r->nseg == 3)
			w.kind = K_JOB_PARAM;
		else if (r->nseg > 3)
			w.kind = K_PARAM_NEEDS_BACKTICKS;
	} else if (seg_is(&s[1], "trigger") && r->nseg >= 3) {
		if (r->nseg == 3 && seg_is(&s[2], "type"))
			w.kind = K_TRIGGER_TYPE;
		else if (r->nseg == 4 && seg_is(&s[2], "time") && time_arg_of(&s[3], &w.arg))
			w.kind = K_TRIGGER_TIME;
		else if (r->nseg == 4 && seg_is(&s[2], "file_arrival") &&
			 seg_is(&s[3], "location"))
			w.kind = K_FILE_LOCATION;
		else if (seg_is(&s[2], "table_update") && r->nseg >= 4)
			w.kind = K_UNSUPPORTED_TABLE;
	}
	return w;
}

static struct what classify_tasks(const struct ref *r)
{
	static const char *const facts[] = {"run_id",	       "result_state",	"error_code",
					    "execution_count", "notebook_path", NULL};
	const struct seg *s = r->seg;
	struct what w = {K_UNKNOWN, 0};
	if (r->nseg == 3) {
		for (int i = 0; facts[i]; i++)
			if (seg_is(&s[2], facts[i]))
				w.kind = K_TASKS_FACT;
	} else if (r->nseg == 4 && seg_is(&s[2], "values")) {
		w.kind = K_TASKS_VALUE;
	} else if (r->nseg >= 4 && seg_is(&s[2], "output")) {
		/* A SQL task's output: rows, first_row, first_row.<column>,
		 * alert_state. */
		if ((r->nseg == 4 && (seg_is(&s[3], "rows") || seg_is(&s[3], "first_row") ||
				      seg_is(&s[3], "alert_state"))) ||
		    (r->nseg == 5 && seg_is(&s[3], "first_row")))
			w.kind = K_TASKS_OUTPUT;
	}
	return w;
}

static struct what classify(const struct ref *r)
{
	const struct seg *s = r->seg;
	struct what w = {K_UNKNOWN, 0};
	if (seg_is(&s[0], "job")) {
		if (r->nseg >= 2)
			w = classify_job(r);
	} else if (seg_is(&s[0], "task")) {
		if (r->nseg == 2) {
			if (seg_is(&s[1], "name"))
				w.kind = K_TASK_NAME;
			else if (seg_is(&s[1], "run_id"))
				w.kind = K_TASK_RUN_ID;
			else if (seg_is(&s[1], "notebook_path"))
				w.kind = K_TASK_NOTEBOOK_PATH;
			else if (seg_is(&s[1], "execution_count"))
				w.kind = K_TASK_EXECUTION_COUNT;
		}
	} else if (seg_is(&s[0], "tasks")) {
		w = classify_tasks(r);
	} else if (seg_is(&s[0], "workspace")) {
		if (r->nseg == 2 && seg_is(&s[1], "id"))
			w.kind = K_WORKSPACE_ID;
		else if (r->nseg == 2 && seg_is(&s[1], "url"))
			w.kind = K_WORKSPACE_URL;
	} else if (seg_is(&s[0], "input")) {
		w.kind = K_INPUT;
	} else if (seg_is(&s[0], "backfill")) {
		if (r->nseg == 2 && time_arg_of(&s[1], &w.arg))
			w.kind = K_BACKFILL_TIME;
	} else if (r->nseg == 1) {
		w = classify_legacy(&s[0]);
	} else {
		w.kind = K_LITERAL;
	}
	return w;
}

/* --- messages ---------------------------------------------------------------------- */

static int quote_len(const struct ref *r) { return (int)(r->len < QUOTE_MAX ? r->len : QUOTE_MAX); }

/* "<path>: <lead> dynamic value reference {{...}}<why>", where why
 * starts with its own separator (": ..." or " (...)"). */
static int ref_fail(struct model_error *err, const char *path, const struct ref *r,
		    const char *lead, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int ref_fail(struct model_error *err, const char *path, const struct ref *r,
		    const char *lead, const char *fmt, ...)
{
	char why[640];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	bool has_path = path && *path;
	model_fail(err, 400, MODEL_INVALID, "%s%s%s dynamic value reference %.*s%s",
		   has_path ? path : "", has_path ? ": " : "", lead, quote_len(r), r->text, why);
	if (err)
		utf8_scrub(err->message); /* a quote may end inside a UTF-8 sequence */
	return -1;
}

/* --- save-time check -------------------------------------------------------------- */

/* Whether key is the task_key of an element of arr: a string, or a task
 * object with that task_key. */
static bool has_task_key(const json_t *arr, const struct seg *key)
{
	size_t i;
	json_t *el;
	json_array_foreach ((json_t *)arr, i, el) {
		const char *k = json_is_object(el) ? json_string_value(json_object_get(el, "task_key"))
						   : json_string_value(el);
		if (k && seg_is(key, k))
			return true;
	}
	return false;
}

static bool has_param(const json_t *params, const char *name, size_t n)
{
	size_t i;
	json_t *p;
	json_array_foreach ((json_t *)params, i, p) {
		const char *k = json_string_value(json_object_get(p, "name"));
		if (k && strlen(k) == n && memcmp(k, name, n) == 0)
			return true;
	}
	return false;
}

static int check_one(const struct ref *r, struct what w, const char *path,
		     const struct dynref_scope *sc, struct model_error *err)
{
	const struct seg *s = r->seg;
	switch (w.kind) {
	case K_UNKNOWN:
		return ref_fail(err, path, r, "unknown", "%s", "");
	case K_UNSUPPORTED_TABLE:
		return ref_fail(err, path, r, "invalid",
				": table update triggers are not supported by jobsd, so this value "
				"never exists");
	case K_PARAM_NEEDS_BACKTICKS: {
		/* {{job.parameters.a.b}}: a name with dots goes in backticks. */
		size_t n = (size_t)(s[r->nseg - 1].p + s[r->nseg - 1].n - s[2].p);
		return ref_fail(err, path, r, "unknown",
				" (a parameter name with characters other than letters, digits "
				"and '_' goes in backticks: {{job.parameters.`%.*s`}})",
				(int)(n < QUOTE_MAX ? n : QUOTE_MAX), s[2].p);
	}
	case K_JOB_PARAM:
		if (sc->in_job_parameter)
			return ref_fail(err, path, r, "invalid",
					": a job parameter's default cannot refer to job parameters");
		if (!has_param(sc->parameters, s[2].p, s[2].n))
			return ref_fail(err, path, r, "invalid", ": the job has no parameter named '%.*s'",
					SEGF(s[2]));
		return 0;
	case K_TASKS_FACT:
	case K_TASKS_VALUE:
	case K_TASKS_OUTPUT:
		if (sc->task_key && seg_is(&s[1], sc->task_key))
			return ref_fail(err, path, r, "invalid",
					": a task cannot refer to itself through tasks.<key>; use "
					"{{task.*}} for its own run");
		if (!has_task_key(sc->task_keys, &s[1]))
			return ref_fail(err, path, r, "invalid",
					": the job has no task with task_key '%.*s'",
					SEGF(s[1]));
		return 0;
	case K_INPUT:
		if (!sc->in_for_each)
			return ref_fail(err, path, r, "invalid",
					": {{input}} exists only in the task of a for_each_task");
		return 0;
	default:
		return 0;
	}
}

int dynref_check(const char *s, const char *path, const struct dynref_scope *scope,
		 struct model_error *err)
{
	static const struct dynref_scope empty;
	const struct dynref_scope *sc = scope ? scope : &empty;
	struct ref r;
	for (const char *p = s ? next_open(s) : NULL; p; p = next_open(p)) {
		size_t n = parse_ref(p, &r);
		if (n == 0) {
			p++;
			continue;
		}
		struct what w = classify(&r);
		if (w.kind != K_LITERAL && check_one(&r, w, path ? path : "", sc, err))
			return -1;
		p += n;
	}
	return 0;
}

/* --- time ------------------------------------------------------------------------- */

static int format_time(char *buf, size_t n, int64_t ms, enum time_arg arg)
{
	struct civil c;
	civil_from_ms(ms, &c);
	switch (arg) {
	case T_ISO_DATE:
		return snprintf(buf, n, "%04lld-%02d-%02d", c.year, c.month, c.day);
	case T_ISO_DATETIME:
		return snprintf(buf, n, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month,
				c.day, c.hour, c.minute, c.second, c.ms);
	case T_IS_WEEKDAY:
		return snprintf(buf, n, "%s", c.iso_weekday <= 5 ? "true" : "false");
	case T_ISO_WEEKDAY:
		return snprintf(buf, n, "%d", c.iso_weekday);
	case T_YEAR:
		return snprintf(buf, n, "%lld", c.year);
	case T_MONTH:
		return snprintf(buf, n, "%d", c.month);
	case T_DAY:
		return snprintf(buf, n, "%d", c.day);
	case T_HOUR:
		return snprintf(buf, n, "%d", c.hour);
	case T_MINUTE:
		return snprintf(buf, n, "%d", c.minute);
	case T_SECOND:
		return snprintf(buf, n, "%d", c.second);
	case T_TIMESTAMP_MS:
		return snprintf(buf, n, "%lld", (long long)ms);
	}
	return snprintf(buf, n, "%s", "");
}

/* --- expansion -------------------------------------------------------------------- */

struct expander {
	struct strbuf sb;
	bool full; /* an append passed DYNREF_MAX_OUTPUT */
	const struct dynref_ctx *ctx;
	struct model_error *err;
};

static void put(struct expander *x, const char *p, size_t n)
{
	if (!x->full && strbuf_append(&x->sb, p, n) < 0)
		x->full = true;
}

static void put_str(struct expander *x, const char *s) { put(x, s ? s : "", s ? strlen(s) : 0); }

static void put_fmt(struct expander *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put_fmt(struct expander *x, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(x, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static int resolve_fail(struct expander *x, const struct ref *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A JSON string (quotes included), n bytes that may hold NULs. */
static void put_json_string(struct expander *x, const char *s, size_t n)
{
	if (!x->full && strbuf_json_string_n(&x->sb, s, n) < 0)
		x->full = true;
}

/* The shortest text that reads back as d, always with a '.' or exponent
 * so that 2.0 stays a real ("2.0", as Python writes it, not "2"). */
static void put_real(struct expander *x, double d)
{
	char buf[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	put_str(x, buf);
	if (!strpbrk(buf, ".eEni"))
		put(x, ".0", 2);
}

/* Compact JSON of v, the value of r; a top-level string is put as it is.
 * -1 (x->err filled) for a value nested too deep or a string with a NUL. */
static int put_json(struct expander *x, const struct ref *r, const json_t *v, bool top, int depth)
{
	if (depth > MAX_JSON_DEPTH)
		return resolve_fail(x, r, "the value is nested more than %d levels deep",
				    MAX_JSON_DEPTH);
	size_t i;
	const char *k;
	json_t *el;
	switch (json_typeof(v)) {
	case JSON_STRING:
		/* A NUL would cut the expanded C string short without a word. */
		if (top && memchr(json_string_value(v), '\0', json_string_length(v)))
			return resolve_fail(x, r, "the value holds a NUL byte");
		if (top)
			put(x, json_string_value(v), json_string_length(v));
		else
			put_json_string(x, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		put_fmt(x, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_REAL:
		put_real(x, json_real_value(v));
		return 0;
	case JSON_TRUE:
		put(x, "true", 4);
		return 0;
	case JSON_FALSE:
		put(x, "false", 5);
		return 0;
	case JSON_NULL:
		put(x, "null", 4);
		return 0;
	case JSON_ARRAY:
		put(x, "[", 1);
		json_array_foreach ((json_t *)v, i, el) {
			if (i)
				put(x, ",", 1);
			if (put_json(x, r, el, false, depth + 1))
				return -1;
		}
		put(x, "]", 1);
		return 0;
	case JSON_OBJECT:
		put(x, "{", 1);
		i = 0;
		json_object_foreach ((json_t *)v, k, el) {
			if (i++)
				put(x, ",", 1);
			put_json_string(x, k, strlen(k));
			put(x, ":", 1);
			if (put_json(x, r, el, false, depth + 1))
				return -1;
		}
		put(x, "}", 1);
		return 0;
	}
	return 0;
}

static json_t *get_seg(const json_t *obj, const struct seg *g)
{
	return json_is_object(obj) ? json_object_getn(obj, g->p, g->n) : NULL;
}


static int resolve_fail(struct expander *x, const struct ref *r, const char *fmt, ...)
{
	char why[640];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return ref_fail(x->err, NULL, r, "cannot resolve", ": %s", why);
}

static void put_lower(struct expander *x, const char *s)
{
	for (; s && *s; s++) {
		char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
		put(x, &c, 1);
	}
}

static void put_time(struct expander *x, int64_t ms, enum time_arg arg)
{
	char buf[64];
	int n = format_time(buf, sizeof(buf), ms, arg);
	put(x, buf, n > 0 ? (size_t)n : 0);
}

/* tasks.<key>.<fact>, .values.<name>, .output.<...> */
static int resolve_tasks(struct expander *x, const struct ref *r, struct what w)
{
	const struct seg *s = r->seg;
	const json_t *t = get_seg(x->ctx->tasks, &s[1]);
	if (!t)
		return resolve_fail(x, r,
				    "task '%.*s' has not run before this task in this job run (a "
				    "task can read only the tasks it depends on)",
				    SEGF(s[1]));
	if (w.kind == K_TASKS_VALUE) {
		const json_t *v = get_seg(json_object_get(t, "values"), &s[3]);
		if (!v)
			return resolve_fail(x, r, "task '%.*s' did not set the task value '%.*s'",
					    SEGF(s[1]), SEGF(s[3]));
		return put_json(x, r, v, true, 0);
	}
	if (w.kind == K_TASKS_OUTPUT) {
		const json_t *v = get_seg(json_object_get(t, "output"), &s[3]);
		if (v && r->nseg == 5)
			v = get_seg(v, &s[4]);
		if (!v)
			return resolve_fail(x, r, "task '%.*s' has no such output", SEGF(s[1]));
		return put_json(x, r, v, true, 0);
	}
	/* A fact: error_code and notebook_path may be absent (a task that
	 * succeeded has no error code); the others exist once a task ran. */
	const json_t *v = get_seg(t, &s[2]);
	bool optional = seg_is(&s[2], "error_code") || seg_is(&s[2], "notebook_path");
	if (!v || json_is_null(v)) {
		if (optional)
			return 0;
		return resolve_fail(x, r, "task '%.*s' has no %.*s yet", SEGF(s[1]), SEGF(s[2]));
	}
	if (seg_is(&s[2], "result_state") && json_is_string(v)) {
		put_lower(x, json_string_value(v));
		return 0;
	}
	return put_json(x, r, v, true, 0);
}

static int resolve_input(struct expander *x, const struct ref *r)
{
	const json_t *v = x->ctx->input;
	if (!v)
		return resolve_fail(x, r, "{{input}} exists only in the task of a for_each_task");
	for (int i = 1; i < r->nseg; i++) {
		v = get_seg(v, &r->seg[i]);
		if (!v)
			return resolve_fail(x, r, "the for-each input has no field '%.*s'",
					    SEGF(r->seg[i]));
	}
	return put_json(x, r, v, true, 0);
}

static int resolve(struct expander *x, const struct ref *r, struct what w)
{
	const struct dynref_ctx *c = x->ctx;
	const struct seg *s = r->seg;
	switch (w.kind) {
	case K_LITERAL:
		put(x, r->text, r->len);
		return 0;
	case K_UNKNOWN:
	case K_UNSUPPORTED_TABLE:
	case K_PARAM_NEEDS_BACKTICKS:
		return resolve_fail(x, r, "no such reference");
	case K_JOB_ID:
		put_fmt(x, "%lld", (long long)c->job_id);
		return 0;
	case K_JOB_NAME:
		put_str(x, c->job_name);
		return 0;
	case K_JOB_RUN_ID:
		put_fmt(x, "%lld", (long long)c->job_run_id);
		return 0;
	case K_JOB_REPAIR_COUNT:
		put_fmt(x, "%d", c->repair_count);
		return 0;
	case K_START_TIME:
		put_time(x, c->start_ms, w.arg);
		return 0;
	case K_TRIGGER_TIME:
		put_time(x, c->trigger_ms, w.arg);
		return 0;
	case K_BACKFILL_TIME:
		put_time(x, c->has_backfill ? c->backfill_ms : c->trigger_ms, w.arg);
		return 0;
	case K_TRIGGER_TYPE:
		put_lower(x, c->trigger_type);
		return 0;
	case K_FILE_LOCATION:
		put_str(x, c->file_arrival_location);
		return 0;
	case K_JOB_PARAM: {
		const json_t *v = get_seg(c->job_params, &s[2]);
		if (!v)
			return resolve_fail(x, r, "the run has no job parameter named '%.*s'",
					    SEGF(s[2]));
		return put_json(x, r, v, true, 0);
	}
	case K_TASK_NAME:
		put_str(x, c->task_key);
		return 0;
	case K_TASK_RUN_ID:
		put_fmt(x, "%lld", (long long)c->task_run_id);
		return 0;
	case K_TASK_NOTEBOOK_PATH:
		put_str(x, c->notebook_path);
		return 0;
	case K_TASK_EXECUTION_COUNT:
		put_fmt(x, "%d", c->execution_count);
		return 0;
	case K_TASK_RETRY_COUNT:
		put_fmt(x, "%d", c->retry_count);
		return 0;
	case K_TASKS_FACT:
	case K_TASKS_VALUE:
	case K_TASKS_OUTPUT:
		return resolve_tasks(x, r, w);
	case K_WORKSPACE_ID:
		put_str(x, c->workspace_id);
		return 0;
	case K_WORKSPACE_URL:
		put_str(x, c->workspace_url);
		return 0;
	case K_INPUT:
		return resolve_input(x, r);
	}
	return 0;
}

int dynref_expand(const char *s, const struct dynref_ctx *ctx, char **out,
		  struct model_error *err)
{
	static const struct dynref_ctx none;
	struct expander x = {.ctx = ctx ? ctx : &none, .err = err};
	strbuf_init(&x.sb, DYNREF_MAX_OUTPUT);
	*out = NULL;
	const char *lit = s ? s : "", *p = lit;
	struct ref r;
	while ((p = next_open(p)) != NULL) {
		size_t n = parse_ref(p, &r);
		if (n == 0) {
			p++;
			continue;
		}
		put(&x, lit, (size_t)(p - lit));
		if (resolve(&x, &r, classify(&r))) {
			strbuf_release(&x.sb);
			return -1;
		}
		if (x.full)
			break;
		p += n;
		lit = p;
	}
	put_str(&x, lit);
	if (x.full) {
		strbuf_release(&x.sb);
		return model_fail(err, 400, MODEL_INVALID,
				  "the value with its dynamic value references expanded is larger "
				  "than %d bytes",
				  DYNREF_MAX_OUTPUT);
	}
	*out = strbuf_detach(&x.sb, NULL);
	return 0;
}

/* --- settings walker ---------------------------------------------------------------- */

/* Paths are for messages only: a cut one still names the field. */
static void path_fmt(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void path_fmt(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* How a walk over one task names fields and what it checks against. A
 * task the client sent is named by its field path ("tasks[2]"); a task an
 * update kept is named by a phrase ("the job's task 'b'"), and its fields
 * become "notebook_task.base_parameters.x of the job's task 'b'". */
struct walk {
	const char *owner; /* "" or " of <phrase>" */
	const struct dynref_scope *sc;
	struct model_error *err;
};

static int check_value(const struct walk *w, const json_t *v, const char *path)
{
	const char *s = json_string_value(v);
	if (!s || !next_open(s))
		return 0;
	char full[PATH_LEN];
	path_fmt(full, sizeof(full), "%s%s", path, w->owner);
	return dynref_check(s, full, w->sc, w->err);
}

enum shape { STR, ARR, MAP };

static int check_member(const struct walk *w, const json_t *obj, const char *member,
			enum shape shape, const char *base)
{
	const json_t *v = json_object_get(obj, member);
	char path[PATH_LEN], el[PATH_LEN];
	if (!v)
		return 0;
	sch_path_member(path, sizeof(path), base, member);
	size_t i;
	const char *k;
	json_t *e;
	switch (shape) {
	case STR:
		return check_value(w, v, path);
	case ARR:
		json_array_foreach ((json_t *)v, i, e) {
			if (!json_is_string(e) || !next_open(json_string_value(e)))
				continue;
			path_fmt(el, sizeof(el), "%s[%zu]", path, i);
			if (check_value(w, e, el))
				return -1;
		}
		return 0;
	case MAP:
		json_object_foreach ((json_t *)v, k, e) {
			if (!json_is_string(e) || !next_open(json_string_value(e)))
				continue;
			path_fmt(el, sizeof(el), "%s.%s", path, k);
			if (check_value(w, e, el))
				return -1;
		}
		return 0;
	}
	return 0;
}

/* The members of each task kind that take references. */
static const struct {
	const char *kind, *member;
	enum shape shape;
} ref_fields[] = {
	{"notebook_task", "notebook_path", STR},
	{"notebook_task", "base_parameters", MAP},
	{"spark_python_task", "python_file", STR},
	{"spark_python_task", "parameters", ARR},
	{"python_wheel_task", "parameters", ARR},
	{"python_wheel_task", "named_parameters", MAP},
	{"spark_jar_task", "parameters", ARR},
	{"spark_submit_task", "parameters", ARR},
	{"sql_task", "parameters", MAP},
	{"dbt_task", "commands", ARR},
	{"pipeline_task", "parameters", MAP},
	{"clean_rooms_notebook_task", "notebook_base_parameters", MAP},
	{"run_job_task", "job_parameters", MAP},
	{"run_job_task", "notebook_params", MAP},
	{"run_job_task", "python_params", ARR},
	{"run_job_task", "jar_params", ARR},
	{"run_job_task", "spark_submit_params", ARR},
	{"run_job_task", "python_named_params", MAP},
	{"run_job_task", "sql_params", MAP},
	{"run_job_task", "dbt_commands", ARR},
	{"condition_task", "left", STR},
	{"condition_task", "right", STR},
	{"for_each_task", "inputs", STR},
};

static int check_task_fields(const struct walk *w, const json_t *task, const char *base)
{
	char where[PATH_LEN];
	for (size_t i = 0; i < sizeof(ref_fields) / sizeof(ref_fields[0]); i++) {
		const json_t *obj = json_object_get(task, ref_fields[i].kind);
		if (!obj)
			continue;
		sch_path_member(where, sizeof(where), base, ref_fields[i].kind);
		if (check_member(w, obj, ref_fields[i].member, ref_fields[i].shape, where))
			return -1;
	}
	const json_t *inner = json_object_get(json_object_get(task, "for_each_task"), "task");
	if (!inner)
		return 0;
	/* The inner task runs once per element: {{input}} is its own. The
	 * for-each's inputs are resolved before any element exists, so they
	 * do not see it. */
	struct dynref_scope in = *w->sc;
	in.in_for_each = true;
	struct walk wi = {.owner = w->owner, .sc = &in, .err = w->err};
	sch_path_member(where, sizeof(where), base, "for_each_task.task");
	return check_task_fields(&wi, inner, where);
}

int dynref_check_task(const json_t *settings, const json_t *task, const char *path,
		      struct model_error *err)
{
	struct dynref_scope sc = {
		.task_keys = json_object_get(settings, "tasks"),
		.parameters = json_object_get(settings, "parameters"),
		.task_key = json_string_value(json_object_get(task, "task_key")),
	};
	const char *p = path ? path : "";
	char owner[PATH_LEN] = "";
	bool phrase = strchr(p, ' ') != NULL;
	if (phrase)
		path_fmt(owner, sizeof(owner), " of %s", p);
	struct walk w = {.owner = owner, .sc = &sc, .err = err};
	return check_task_fields(&w, task, phrase ? "" : p);
}

int dynref_check_parameters(const json_t *settings, const char *prefix, struct model_error *err)
{
	struct dynref_scope sc = {
		.task_keys = json_object_get(settings, "tasks"),
		.parameters = json_object_get(settings, "parameters"),
		.in_job_parameter = true,
	};
	const char *pre = prefix ? prefix : "";
	size_t i;
	json_t *p;
	json_array_foreach (json_object_get(settings, "parameters"), i, p) {
		const json_t *def = json_object_get(p, "default");
		if (!json_is_string(def) || !next_open(json_string_value(def)))
			continue;
		char path[PATH_LEN], arr[PATH_LEN];
		if (*pre) {
			/* An update merges parameters by name: the index in the
			 * merged settings is nothing the client sent. */
			path_fmt(path, sizeof(path), "the default of job parameter '%.120s'",
				 json_string_value(json_object_get(p, "name")));
		} else {
			sch_path_index(arr, sizeof(arr), "parameters", i);
			sch_path_member(path, sizeof(path), arr, "default");
		}
		if (dynref_check(json_string_value(def), path, &sc, err))
			return -1;
	}
	return 0;
}

int job_settings_check_refs(const json_t *settings, const char *prefix, struct model_error *err)
{
	if (dynref_check_parameters(settings, prefix, err))
		return -1;
	char tasks[PATH_LEN], path[PATH_LEN];
	sch_path_member(tasks, sizeof(tasks), prefix ? prefix : "", "tasks");
	size_t i;
	json_t *task;
	json_array_foreach (json_object_get(settings, "tasks"), i, task) {
		sch_path_index(path, sizeof(path), tasks, i);
		if (dynref_check_task(settings, task, path, err))
			return -1;
	}
	return 0;
}
