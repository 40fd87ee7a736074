/* dynref_test.c - unit tests for src/model/dynref.c (dynamic value
 * references: parse, save-time check, run-time expansion) and for the
 * check wired into job validation (job_settings_check_graph).
 *
 * Times are fixed instants written out in UTC (a leap day, both sides of a
 * year boundary, before the epoch) and, for the calendar arithmetic, every
 * day of 1800-2500 against the C library's gmtime_r. JSON literals use '
 * for " (J()). Every case frees what it builds: the suite runs under
 * LeakSanitizer. Pure and single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "model/dynref.h"
#include "model/job.h"
#include "testutil.h"

static const struct job_limits LIM = {.max_tasks = 100, .max_tags = 25};

/* 2024-02-29T13:45:07.123Z, a Thursday in a leap year. */
#define LEAP_DAY_MS 1709214307123LL
/* 2023-12-31T23:59:59.999Z (a Sunday) and one ms later (a Monday). */
#define NEW_YEAR_EVE_MS 1704067199999LL

/* --- helpers ----------------------------------------------------------------- */

/* The context every expansion case starts from; cases change what they test. */
struct fixture {
	json_t *params, *tasks, *input;
	struct dynref_ctx ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->params = J("{'env':'prod','my-param':'dash','empty':''}");
	f->tasks = J("{'ingest':{'run_id':501,'result_state':'SUCCESS','execution_count':2,"
		     "'notebook_path':'/Repos/etl/ingest',"
		     "'values':{'rows':1250,'ratio':0.5,'two':2.0,'tenth':0.1,'ok':true,'no':false,"
		     "'nothing':null,'name':'orders','list':[1,'a',true],"
		     "'obj':{'k':'v','q':'say \\'hi\\'\\n'},'my key':'spaced','}}':'braces'},"
		     "'output':{'first_row':{'n':7},'rows':[{'n':7}],'alert_state':'OK'}},"
		     "'broken':{'run_id':502,'result_state':'FAILED','error_code':'RUN_EXECUTION_ERROR',"
		     "'execution_count':1,'values':{}}}");
	f->ctx = (struct dynref_ctx){
		.job_id = 42,
		.job_name = "nightly etl",
		.job_run_id = 9001,
		.repair_count = 1,
		.start_ms = LEAP_DAY_MS,
		.trigger_ms = NEW_YEAR_EVE_MS,
		.trigger_type = "ONE_TIME",
		.file_arrival_location = NULL,
		.job_params = f->params,
		.task_key = "report",
		.task_run_id = 9005,
		.notebook_path = "/Users/a@b.c/report",
		.execution_count = 3,
		.retry_count = 2,
		.tasks = f->tasks,
		.workspace_id = "1234567890",
		.workspace_url = "https://jobsd.example.com",
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	json_decref(f->params);
	json_decref(f->tasks);
	json_decref(f->input);
	free(f);
	return 0;
}

/* Expands s, which must succeed, and compares the result with want. */
static void expands_to(const struct dynref_ctx *ctx, const char *s, const char *want)
{
	char *out = NULL;
	struct model_error err = {0};
	if (dynref_expand(s, ctx, &out, &err) != 0)
		fail_msg("expanding \"%s\" failed: %s", s, err.message);
	assert_non_null(out);
	if (strcmp(out, want) != 0)
		fail_msg("\"%s\" expanded to \"%s\", want \"%s\"", s, out, want);
	free(out);
}

/* Expands s, which must fail with exactly the message want. */
static void expand_fails(const struct dynref_ctx *ctx, const char *s, const char *want)
{
	char *out = (char *)"not touched";
	struct model_error err = {0};
	if (dynref_expand(s, ctx, &out, &err) == 0) {
		fail_msg("\"%s\" expanded to \"%s\", want the error \"%s\"", s, out, want);
		free(out);
	}
	assert_null(out);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, MODEL_INVALID);
	assert_string_equal(err.message, want);
}

/* The scope of a job with tasks a, b, c and parameters env, my-param. */
static json_t *scope_tasks, *scope_params;

static int scope_setup(void **state)
{
	(void)state;
	scope_tasks = J("['a','b','c']");
	scope_params = J("[{'name':'env','default':'dev'},{'name':'my-param','default':'x'},"
			 "{'name':'a.b','default':'y'}]");
	return 0;
}

static int scope_teardown(void **state)
{
	(void)state;
	json_decref(scope_tasks);
	json_decref(scope_params);
	return 0;
}

static struct dynref_scope scope_of(const char *task_key, bool in_for_each)
{
	return (struct dynref_scope){
		.task_keys = scope_tasks,
		.parameters = scope_params,
		.task_key = task_key,
		.in_for_each = in_for_each,
	};
}

static void check_ok(const struct dynref_scope *sc, const char *s)
{
	struct model_error err = {0};
	if (dynref_check(s, "f", sc, &err) != 0)
		fail_msg("\"%s\" refused: %s", s, err.message);
}

static void check_fails(const struct dynref_scope *sc, const char *path, const char *s,
			const char *want)
{
	struct model_error err = {0};
	if (dynref_check(s, path, sc, &err) == 0)
		fail_msg("\"%s\" accepted, want \"%s\"", s, want);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, MODEL_INVALID);
	assert_string_equal(err.message, want);
}

/* Parses settings (2.1) that must be accepted. */
static void settings_ok(const char *text)
{
	json_t *out = NULL;
	enum job_format f;
	struct model_error err = {0};
	if (job_settings_parse(J(text), 21, "", JOB_CREATE, &LIM, &out, &f, &err) != 0)
		fail_msg("refused: %s", err.message);
	json_decref(out);
}

/* Parses settings (2.1) that must be refused with exactly want. */
static void settings_fail(const char *text, const char *want)
{
	json_t *out = NULL;
	enum job_format f;
	struct model_error err = {0};
	if (job_settings_parse(J(text), 21, "", JOB_CREATE, &LIM, &out, &f, &err) == 0) {
		json_decref(out);
		fail_msg("accepted, want \"%s\"", want);
	}
	assert_string_equal(err.code, MODEL_INVALID);
	assert_string_equal(err.message, want);
}

/* --- parsing: what is a reference and what stays text ----------------------------- */

static void test_parse_spaces_and_backticks(void **state)
{
	struct fixture *f = *state;
	expands_to(&f->ctx, "{{job.id}}", "42");
	expands_to(&f->ctx, "{{ job.id }}", "42");
	expands_to(&f->ctx, "{{\tjob.id  }}", "42");
	expands_to(&f->ctx, "run-{{job.run_id}}-of-{{ job.id}}", "run-9001-of-42");
	expands_to(&f->ctx, "{{job.parameters.`my-param`}}", "dash");
	expands_to(&f->ctx, "{{`job`.`id`}}", "42");
	expands_to(&f->ctx, "{{tasks.ingest.values.`my key`}}", "spaced");
	/* A backticked name may hold braces; the first "}}" after it ends the
	 * reference. */
	expands_to(&f->ctx, "{{tasks.ingest.values.`}}`}}", "braces");
}

static void test_parse_malformed_stays_literal(void **state)
{
	struct fixture *f = *state;
	static const char *const literal[] = {
		"{{job.id",	  "{{job.id}",	   "{job.id}}",	     "{ {job.id}}",
		"{{}}",		  "{{ }}",	   "{{job.}}",	     "{{.job}}",
		"{{job..id}}",	  "{{ job . id }}", "{{job.id + 1}}", "{{`unterminated}}",
		"{{``.id}}",	  "{{job-id}}",	   "{{job.run-id}}", "{{my.value}",
		"{{job.id}x}",	  "{{",		   "}}",	     "{{{",
		"plain text",	  "",		   "{{job.id\n}}",   "{{job.\"id\"}}",
	};
	for (size_t i = 0; i < sizeof(literal) / sizeof(literal[0]); i++)
		expands_to(&f->ctx, literal[i], literal[i]);
	/* NULL expands like "". */
	expands_to(&f->ctx, NULL, "");
}

static void test_parse_unknown_namespace_stays_literal(void **state)
{
	struct fixture *f = *state;
	/* The service keeps references outside its namespaces as text (and so
	 * must accept them on save). */
	static const char *const literal[] = {
		"{{foo}}", "{{foo.bar}}", "{{JOB.ID}}", "{{Job.id}}", "{{job_id.x}}",
		"{{ds}}",  "{{ var.x }}", "{{run_id.attempt}}",
	};
	for (size_t i = 0; i < sizeof(literal) / sizeof(literal[0]); i++) {
		expands_to(&f->ctx, literal[i], literal[i]);
		check_ok(&(struct dynref_scope){0}, literal[i]);
	}
}

static void test_parse_nested_braces(void **state)
{
	struct fixture *f = *state;
	expands_to(&f->ctx, "{{{job.id}}}", "{42}");
	expands_to(&f->ctx, "{{{{job.id}}}}", "{{42}}");
	expands_to(&f->ctx, "{{job.id}}}}", "42}}");
	expands_to(&f->ctx, "{{{{job.id}}", "{{42");
	expands_to(&f->ctx, "{{ {{job.id}} }}", "{{ 42 }}");
	expands_to(&f->ctx, "{{job.id}}{{job.id}}", "4242");
	expands_to(&f->ctx, "{{{{}}}}", "{{{{}}}}");
}

static void test_parse_length_limit(void **state)
{
	struct fixture *f = *state;
	/* A candidate longer than DYNREF_MAX_REF is text, not a reference. */
	size_t n = DYNREF_MAX_REF + 64;
	char *s = malloc(n + 1);
	assert_non_null(s);
	memcpy(s, "{{job.parameters.`", 18);
	memset(s + 18, 'x', n - 18);
	memcpy(s + n - 3, "`}}", 3);
	s[n] = '\0';
	expands_to(&f->ctx, s, s);
	check_ok(&(struct dynref_scope){0}, s);
	free(s);
}

/* --- expansion of every namespace ------------------------------------------------ */

static void test_expand_job(void **state)
{
	struct fixture *f = *state;
	expands_to(&f->ctx, "{{job.id}}", "42");
	expands_to(&f->ctx, "{{job.name}}", "nightly etl");
	expands_to(&f->ctx, "{{job.run_id}}", "9001");
	expands_to(&f->ctx, "{{job.repair_count}}", "1");
	expands_to(&f->ctx, "{{job.trigger.type}}", "one_time");
	f->ctx.trigger_type = "FILE_ARRIVAL";
	f->ctx.file_arrival_location = "s3://bucket/in/";
	expands_to(&f->ctx, "{{job.trigger.type}}:{{job.trigger.file_arrival.location}}",
		   "file_arrival:s3://bucket/in/");
	/* Facts a run does not have render as "": a manual run has no
	 * file-arrival location. */
	f->ctx.trigger_type = NULL;
	f->ctx.file_arrival_location = NULL;
	f->ctx.job_name = NULL;
	expands_to(&f->ctx, "[{{job.trigger.type}}|{{job.trigger.file_arrival.location}}|"
			    "{{job.name}}]",
		   "[||]");
	expands_to(&f->ctx, "{{job.parameters.env}}/{{job.parameters.empty}}", "prod/");
}

static void test_expand_task_and_workspace(void **state)
{
	struct fixture *f = *state;
	expands_to(&f->ctx, "{{task.name}} {{task.run_id}} {{task.notebook_path}} "
			    "{{task.execution_count}}",
		   "report 9005 /Users/a@b.c/report 3");
	expands_to(&f->ctx, "{{workspace.id}} {{workspace.url}}",
		   "1234567890 https://jobsd.example.com");
}

static void test_expand_other_tasks(void **state)
{
	struct fixture *f = *state;
	expands_to(&f->ctx, "{{tasks.ingest.run_id}}", "501");
	expands_to(&f->ctx, "{{tasks.ingest.result_state}}", "success");
	expands_to(&f->ctx, "{{tasks.broken.result_state}}", "failed");
	expands_to(&f->ctx, "{{tasks.ingest.execution_count}}", "2");
	expands_to(&f->ctx, "{{tasks.ingest.notebook_path}}", "/Repos/etl/ingest");
	/* A task that succeeded has no error code: "" rather than a failure,
	 * so that an ALL_DONE task can report either outcome. */
	expands_to(&f->ctx, "[{{tasks.ingest.error_code}}]", "[]");
	expands_to(&f->ctx, "{{tasks.broken.error_code}}", "RUN_EXECUTION_ERROR");
	expands_to(&f->ctx, "[{{tasks.broken.notebook_path}}]", "[]");
	expands_to(&f->ctx, "{{tasks.ingest.output.first_row.n}}", "7");
	expands_to(&f->ctx, "{{tasks.ingest.output.first_row}}", "{\"n\":7}");
	expands_to(&f->ctx, "{{tasks.ingest.output.rows}}", "[{\"n\":7}]");
	expands_to(&f->ctx, "{{tasks.ingest.output.alert_state}}", "OK");
}

static void test_expand_task_values_of_every_type(void **state)
{
	struct fixture *f = *state;
	expands_to(&f->ctx, "{{tasks.ingest.values.name}}", "orders");
	expands_to(&f->ctx, "{{tasks.ingest.values.rows}}", "1250");
	expands_to(&f->ctx, "{{tasks.ingest.values.ratio}}", "0.5");
	expands_to(&f->ctx, "{{tasks.ingest.values.two}}", "2.0");
	expands_to(&f->ctx, "{{tasks.ingest.values.tenth}}", "0.1");
	expands_to(&f->ctx, "{{tasks.ingest.values.ok}}", "true");
	expands_to(&f->ctx, "{{tasks.ingest.values.no}}", "false");
	expands_to(&f->ctx, "{{tasks.ingest.values.nothing}}", "null");
	expands_to(&f->ctx, "{{tasks.ingest.values.list}}", "[1,\"a\",true]");
	expands_to(&f->ctx, "{{tasks.ingest.values.obj}}", "{\"k\":\"v\",\"q\":\"say \\\"hi\\\"\\n\"}");
	expands_to(&f->ctx, "rows={{ tasks.ingest.values.rows }};ok={{tasks.ingest.values.ok}}",
		   "rows=1250;ok=true");

	json_t *big = J("{'t':{'values':{'e':1e300,'neg':-0.25,'int':-9007199254740993}}}");
	f->ctx.tasks = big;
	expands_to(&f->ctx, "{{tasks.t.values.e}}", "1e+300");
	expands_to(&f->ctx, "{{tasks.t.values.neg}}", "-0.25");
	expands_to(&f->ctx, "{{tasks.t.values.int}}", "-9007199254740993");
	json_decref(big);
}

static void test_expand_input(void **state)
{
	struct fixture *f = *state;
	f->input = J("{'country':'PL','n':3,'nested':{'x':[1,2]}}");
	f->ctx.input = f->input;
	expands_to(&f->ctx, "{{input.country}}-{{input.n}}", "PL-3");
	expands_to(&f->ctx, "{{input.nested.x}}", "[1,2]");
	expands_to(&f->ctx, "{{input}}", "{\"country\":\"PL\",\"n\":3,\"nested\":{\"x\":[1,2]}}");
	json_t *s = json_string("DE");
	f->ctx.input = s;
	expands_to(&f->ctx, "{{input}}", "DE");
	json_decref(s);
}

static void test_expand_legacy_forms(void **state)
{
	struct fixture *f = *state;
	expands_to(&f->ctx, "{{job_id}} {{run_id}} {{parent_run_id}} {{task_key}}",
		   "42 9005 9001 report");
	expands_to(&f->ctx, "{{start_date}} {{start_time}} {{task_retry_count}}",
		   "2024-02-29 1709214307123 2");
	expands_to(&f->ctx, "{{ job_id }}", "42");
}

/* --- time -------------------------------------------------------------------------- */

static void test_time_args_on_a_leap_day(void **state)
{
	struct fixture *f = *state;
	const char *all = "{{job.start_time.iso_date}}|{{job.start_time.iso_datetime}}|"
			  "{{job.start_time.is_weekday}}|{{job.start_time.iso_weekday}}|"
			  "{{job.start_time.year}}|{{job.start_time.month}}|{{job.start_time.day}}|"
			  "{{job.start_time.hour}}|{{job.start_time.minute}}|"
			  "{{job.start_time.second}}|{{job.start_time.timestamp_ms}}";
	expands_to(&f->ctx, all,
		   "2024-02-29|2024-02-29T13:45:07.123Z|true|4|2024|2|29|13|45|7|1709214307123");
}

static void test_time_args_across_a_year_boundary(void **state)
{
	struct fixture *f = *state;
	const char *all = "{{job.trigger.time.iso_date}}|{{job.trigger.time.iso_datetime}}|"
			  "{{job.trigger.time.is_weekday}}|{{job.trigger.time.iso_weekday}}|"
			  "{{job.trigger.time.year}}|{{job.trigger.time.month}}|"
			  "{{job.trigger.time.day}}|{{job.trigger.time.hour}}|"
			  "{{job.trigger.time.minute}}|{{job.trigger.time.second}}|"
			  "{{job.trigger.time.timestamp_ms}}";
	/* Sunday, the last ms of 2023 ... */
	expands_to(&f->ctx, all,
		   "2023-12-31|2023-12-31T23:59:59.999Z|false|7|2023|12|31|23|59|59|1704067199999");
	/* ... and Monday, the first of 2024. */
	f->ctx.trigger_ms = NEW_YEAR_EVE_MS + 1;
	expands_to(&f->ctx, all,
		   "2024-01-01|2024-01-01T00:00:00.000Z|true|1|2024|1|1|0|0|0|1704067200000");
}

static void test_time_args_around_the_epoch_and_centuries(void **state)
{
	struct fixture *f = *state;
	const char *t = "{{job.start_time.iso_datetime}} {{job.start_time.iso_weekday}}";
	f->ctx.start_ms = 0;
	expands_to(&f->ctx, t, "1970-01-01T00:00:00.000Z 4");
	f->ctx.start_ms = -1;
	expands_to(&f->ctx, t, "1969-12-31T23:59:59.999Z 3");
	/* 2000 is a leap year (divisible by 400), 2100 is not. */
	f->ctx.start_ms = 951825600000LL;
	expands_to(&f->ctx, t, "2000-02-29T12:00:00.000Z 2");
	f->ctx.start_ms = 4107542400000LL;
	expands_to(&f->ctx, t, "2100-03-01T00:00:00.000Z 1");
	f->ctx.start_ms = 4107542400000LL - 1;
	expands_to(&f->ctx, t, "2100-02-28T23:59:59.999Z 7");
	/* The extremes do not overflow. */
	f->ctx.start_ms = INT64_MAX;
	expands_to(&f->ctx, "{{job.start_time.iso_date}}", "292278994-08-17");
	f->ctx.start_ms = INT64_MIN;
	expands_to(&f->ctx, "{{job.start_time.iso_weekday}}", "7");
}

static void test_time_every_day_agrees_with_gmtime_r(void **state)
{
	struct fixture *f = *state;
	/* 1800-01-01 to 2500-01-01, one sample a day at a varying time of day. */
	for (int64_t day = -62091; day < 193449; day++) {
		int64_t ms = day * 86400000 + (day * 7919 % 86400) * 1000 + day % 1000;
		time_t secs = (time_t)(ms / 1000 - (ms % 1000 < 0));
		struct tm tm;
		assert_non_null(gmtime_r(&secs, &tm));
		char want[96];
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %d %s",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (int)(((ms % 1000) + 1000) % 1000),
			 tm.tm_wday == 0 ? 7 : tm.tm_wday,
			 tm.tm_wday == 0 || tm.tm_wday == 6 ? "false" : "true");
		f->ctx.start_ms = ms;
		char *out = NULL;
		struct model_error err = {0};
		assert_int_equal(dynref_expand("{{job.start_time.iso_datetime}} "
					       "{{job.start_time.iso_weekday}} "
					       "{{job.start_time.is_weekday}}",
					       &f->ctx, &out, &err),
				 0);
		if (strcmp(out, want) != 0)
			fail_msg("ms %lld: got %s, want %s", (long long)ms, out, want);
		free(out);
	}
}

static void test_backfill_time(void **state)
{
	struct fixture *f = *state;
	/* Not a backfill: the scheduled time stands in. */
	expands_to(&f->ctx, "{{backfill.iso_date}}", "2023-12-31");
	f->ctx.has_backfill = true;
	f->ctx.backfill_ms = LEAP_DAY_MS;
	expands_to(&f->ctx, "{{backfill.iso_datetime}}", "2024-02-29T13:45:07.123Z");
}

/* --- run-time errors --------------------------------------------------------------- */

static void test_expand_missing_values_fail(void **state)
{
	struct fixture *f = *state;
	expand_fails(&f->ctx, "n={{tasks.ingest.values.count}}",
		     "cannot resolve dynamic value reference {{tasks.ingest.values.count}}: task "
		     "'ingest' did not set the task value 'count'");
	expand_fails(&f->ctx, "{{tasks.later.run_id}}",
		     "cannot resolve dynamic value reference {{tasks.later.run_id}}: task 'later' "
		     "has not run before this task in this job run (a task can read only the tasks "
		     "it depends on)");
	expand_fails(&f->ctx, "{{job.parameters.region}}",
		     "cannot resolve dynamic value reference {{job.parameters.region}}: the run has "
		     "no job parameter named 'region'");
	expand_fails(&f->ctx, "{{input.country}}",
		     "cannot resolve dynamic value reference {{input.country}}: {{input}} exists "
		     "only in the task of a for_each_task");
	expand_fails(&f->ctx, "{{tasks.ingest.output.first_row.missing}}",
		     "cannot resolve dynamic value reference "
		     "{{tasks.ingest.output.first_row.missing}}: task 'ingest' has no such output");
	/* Settings saved before a rule existed still never run with a wrong
	 * value. */
	expand_fails(&f->ctx, "{{job.foo}}",
		     "cannot resolve dynamic value reference {{job.foo}}: no such reference");
	json_t *no_run = J("{'x':{'values':{}}}");
	f->ctx.tasks = no_run;
	expand_fails(&f->ctx, "{{tasks.x.result_state}}",
		     "cannot resolve dynamic value reference {{tasks.x.result_state}}: task 'x' "
		     "has no result_state yet");
	json_decref(no_run);

	f->input = J("{'a':1}");
	f->ctx.input = f->input;
	expand_fails(&f->ctx, "{{input.b}}",
		     "cannot resolve dynamic value reference {{input.b}}: the for-each input has no "
		     "field 'b'");
}

static void test_expand_output_limit(void **state)
{
	struct fixture *f = *state;
	size_t n = DYNREF_MAX_OUTPUT / 2 + 1;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'v', n);
	big[n] = '\0';
	json_t *tasks = json_pack("{s:{s:{s:s}}}", "t", "values", "v", big);
	f->ctx.tasks = tasks;
	/* Once fits ... */
	char *out = NULL;
	struct model_error err = {0};
	assert_int_equal(dynref_expand("{{tasks.t.values.v}}", &f->ctx, &out, &err), 0);
	assert_int_equal(strlen(out), n);
	free(out);
	/* ... twice does not: an error, never a cut value. */
	expand_fails(&f->ctx, "{{tasks.t.values.v}}{{tasks.t.values.v}}",
		     "the value with its dynamic value references expanded is larger than "
		     "1048576 bytes");
	json_decref(tasks);
	free(big);
}

static void test_expand_nul_in_value_fails(void **state)
{
	struct fixture *f = *state;
	json_t *tasks = json_pack("{s:{s:{s:s#,s:[s#]}}}", "t", "values", "v", "a\0b", (size_t)3,
				  "nested", "a\0b", (size_t)3);
	assert_non_null(tasks);
	f->ctx.tasks = tasks;
	expand_fails(&f->ctx, "{{tasks.t.values.v}}",
		     "cannot resolve dynamic value reference {{tasks.t.values.v}}: the value holds "
		     "a NUL byte");
	/* Inside JSON it is escaped like any control character. */
	expands_to(&f->ctx, "{{tasks.t.values.nested}}", "[\"a\\u0000b\"]");
	json_decref(tasks);
}

/* --- save-time check --------------------------------------------------------------- */

static void test_check_accepts_every_known_reference(void **state)
{
	(void)state;
	struct dynref_scope sc = scope_of("c", true);
	static const char *const ok[] = {
		"{{job.id}}",
		"{{job.name}}",
		"{{job.run_id}}",
		"{{job.repair_count}}",
		"{{job.start_time.iso_date}}",
		"{{job.start_time.timestamp_ms}}",
		"{{job.trigger.time.is_weekday}}",
		"{{job.trigger.type}}",
		"{{job.trigger.file_arrival.location}}",
		"{{job.parameters.env}}",
		"{{job.parameters.`my-param`}}",
		"{{job.parameters.`a.b`}}",
		"{{task.name}}",
		"{{task.run_id}}",
		"{{task.notebook_path}}",
		"{{task.execution_count}}",
		"{{tasks.a.run_id}}",
		"{{tasks.a.result_state}}",
		"{{tasks.a.error_code}}",
		"{{tasks.a.execution_count}}",
		"{{tasks.a.notebook_path}}",
		"{{tasks.b.values.anything}}",
		"{{tasks.b.values.`odd key!`}}",
		"{{tasks.b.output.rows}}",
		"{{tasks.b.output.first_row.col}}",
		"{{tasks.b.output.alert_state}}",
		"{{workspace.id}}",
		"{{workspace.url}}",
		"{{input}}",
		"{{input.field}}",
		"{{input.a.b}}",
		"{{backfill.iso_date}}",
		"{{job_id}}{{run_id}}{{start_date}}{{start_time}}{{task_retry_count}}{{task_key}}",
		"{{parent_run_id}}",
		"{{ job.id }} and {{job.run_id}} and {{ weird",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		check_ok(&sc, ok[i]);
	check_ok(&sc, NULL);
}

static void test_check_unknown_in_known_namespace(void **state)
{
	(void)state;
	struct dynref_scope sc = scope_of("c", false);
	check_fails(&sc, "tasks[1].notebook_task.base_parameters.day", "x {{job.foo}} y",
		    "tasks[1].notebook_task.base_parameters.day: unknown dynamic value reference "
		    "{{job.foo}}");
	check_fails(&sc, "f", "{{ job.naem }}", "f: unknown dynamic value reference {{ job.naem }}");
	check_fails(&sc, "f", "{{job}}", "f: unknown dynamic value reference {{job}}");
	check_fails(&sc, "f", "{{job.start_time}}",
		    "f: unknown dynamic value reference {{job.start_time}}");
	check_fails(&sc, "f", "{{job.start_time.weekday}}",
		    "f: unknown dynamic value reference {{job.start_time.weekday}}");
	check_fails(&sc, "f", "{{job.trigger.time}}",
		    "f: unknown dynamic value reference {{job.trigger.time}}");
	check_fails(&sc, "f", "{{task.id}}", "f: unknown dynamic value reference {{task.id}}");
	check_fails(&sc, "f", "{{tasks.a}}", "f: unknown dynamic value reference {{tasks.a}}");
	check_fails(&sc, "f", "{{tasks.a.values}}",
		    "f: unknown dynamic value reference {{tasks.a.values}}");
	check_fails(&sc, "f", "{{tasks.a.values.x.y}}",
		    "f: unknown dynamic value reference {{tasks.a.values.x.y}}");
	check_fails(&sc, "f", "{{tasks.a.output.cols}}",
		    "f: unknown dynamic value reference {{tasks.a.output.cols}}");
	check_fails(&sc, "f", "{{workspace.name}}",
		    "f: unknown dynamic value reference {{workspace.name}}");
	check_fails(&sc, "f", "{{backfill.date}}",
		    "f: unknown dynamic value reference {{backfill.date}}");
	check_fails(&sc, "", "{{job.notebook_url}}",
		    "unknown dynamic value reference {{job.notebook_url}}");
	check_fails(&sc, NULL, "{{job.notebook_url}}",
		    "unknown dynamic value reference {{job.notebook_url}}");
	/* The first bad reference is the one reported. */
	check_fails(&sc, "f", "{{job.id}}{{job.x}}{{job.y}}",
		    "f: unknown dynamic value reference {{job.x}}");
}

static void test_check_names_in_scope(void **state)
{
	(void)state;
	struct dynref_scope sc = scope_of("c", false);
	check_fails(&sc, "f", "{{tasks.zz.values.n}}",
		    "f: invalid dynamic value reference {{tasks.zz.values.n}}: the job has no task "
		    "with task_key 'zz'");
	check_fails(&sc, "f", "{{tasks.c.run_id}}",
		    "f: invalid dynamic value reference {{tasks.c.run_id}}: a task cannot refer to "
		    "itself through tasks.<key>; use {{task.*}} for its own run");
	check_fails(&sc, "f", "{{job.parameters.region}}",
		    "f: invalid dynamic value reference {{job.parameters.region}}: the job has no "
		    "parameter named 'region'");
	check_fails(&sc, "f", "{{job.parameters.a.b}}",
		    "f: unknown dynamic value reference {{job.parameters.a.b}} (a parameter name "
		    "with characters other than letters, digits and '_' goes in backticks: "
		    "{{job.parameters.`a.b`}})");
	check_fails(&sc, "f", "{{input}}",
		    "f: invalid dynamic value reference {{input}}: {{input}} exists only in the task "
		    "of a for_each_task");
	check_fails(&sc, "f", "{{job.trigger.table_update.updated_tables}}",
		    "f: invalid dynamic value reference {{job.trigger.table_update.updated_tables}}: "
		    "table update triggers are not supported by jobsd, so this value never exists");
	sc.in_job_parameter = true;
	check_fails(&sc, "parameters[0].default", "{{job.parameters.env}}",
		    "parameters[0].default: invalid dynamic value reference {{job.parameters.env}}: "
		    "a job parameter's default cannot refer to job parameters");
	/* An empty scope knows no tasks and no parameters. */
	check_fails(NULL, "f", "{{tasks.a.run_id}}",
		    "f: invalid dynamic value reference {{tasks.a.run_id}}: the job has no task "
		    "with task_key 'a'");
	check_ok(NULL, "{{job.id}}");
}

static void test_check_quotes_long_references_cut(void **state)
{
	(void)state;
	struct dynref_scope sc = scope_of(NULL, false);
	char s[600], want[400];
	snprintf(s, sizeof(s), "{{job.%0500d}}", 0);
	struct model_error err = {0};
	assert_int_equal(dynref_check(s, "f", &sc, &err), -1);
	snprintf(want, sizeof(want), "f: unknown dynamic value reference %.200s", s);
	assert_string_equal(err.message, want);
}

/* --- the check in job validation ------------------------------------------------------ */

/* A realistic job: ingest sets task values, a condition reads one, a
 * for-each fans out over another, a report uses job parameters and times. */
#define REALISTIC_JOB(report_param)                                                              \
	"{'name':'orders','parameters':[{'name':'env','default':'dev'},"                          \
	"{'name':'run_date','default':'{{job.start_time.iso_date}}'}],"                           \
	"'tasks':["                                                                               \
	"{'task_key':'ingest','notebook_task':{'notebook_path':'/etl/ingest',"                    \
	"'base_parameters':{'env':'{{job.parameters.env}}','run':'{{job.run_id}}'}}},"            \
	"{'task_key':'check','depends_on':[{'task_key':'ingest'}],"                               \
	"'condition_task':{'op':'GREATER_THAN','left':'{{tasks.ingest.values.rows}}',"            \
	"'right':'0'}},"                                                                          \
	"{'task_key':'fan','depends_on':[{'task_key':'check','outcome':'true'}],"                  \
	"'for_each_task':{'inputs':'{{tasks.ingest.values.countries}}','concurrency':4,"          \
	"'task':{'task_key':'fan_body','spark_python_task':{'python_file':'/etl/country.py',"     \
	"'parameters':['--country','{{input.code}}','--attempt','{{task.execution_count}}']}}}}," \
	"{'task_key':'report','depends_on':[{'task_key':'fan'}],'run_if':'ALL_DONE',"             \
	"'python_wheel_task':{'package_name':'rep','entry_point':'main',"                         \
	"'named_parameters':{'date':'{{job.parameters.run_date}}','state':" report_param "}}},"   \
	"{'task_key':'notify','depends_on':[{'task_key':'report'}],"                              \
	"'run_job_task':{'job_id':7,'job_parameters':{'upstream':'{{tasks.report.run_id}}'}}}"    \
	"]}"

static void test_settings_realistic_job_accepted(void **state)
{
	(void)state;
	settings_ok(REALISTIC_JOB("'{{tasks.fan.result_state}}'"));
	/* A reference to an existing task is fine wherever it sits. */
	settings_ok(REALISTIC_JOB("'{{tasks.notify.run_id}}'"));
}

static void test_settings_reference_to_missing_task_refused(void **state)
{
	(void)state;
	settings_fail(REALISTIC_JOB("'{{tasks.fann.result_state}}'"),
		      "tasks[3].python_wheel_task.named_parameters.state: invalid dynamic value "
		      "reference {{tasks.fann.result_state}}: the job has no task with task_key "
		      "'fann'");
	settings_fail(REALISTIC_JOB("'{{job.start_time.iso_week}}'"),
		      "tasks[3].python_wheel_task.named_parameters.state: unknown dynamic value "
		      "reference {{job.start_time.iso_week}}");
}

static void test_settings_every_field_is_checked(void **state)
{
	(void)state;
	static const struct {
		const char *task, *path;
	} cases[] = {
		{"'notebook_task':{'notebook_path':'/x/{{job.nope}}'}",
		 "tasks[0].notebook_task.notebook_path"},
		{"'notebook_task':{'notebook_path':'/x','base_parameters':{'k':'{{job.nope}}'}}",
		 "tasks[0].notebook_task.base_parameters.k"},
		{"'spark_python_task':{'python_file':'/x/{{job.nope}}.py'}",
		 "tasks[0].spark_python_task.python_file"},
		{"'spark_python_task':{'python_file':'/x.py','parameters':['a','{{job.nope}}']}",
		 "tasks[0].spark_python_task.parameters[1]"},
		{"'python_wheel_task':{'package_name':'p','entry_point':'e','parameters':["
		 "'{{job.nope}}']}",
		 "tasks[0].python_wheel_task.parameters[0]"},
		{"'spark_jar_task':{'main_class_name':'M','parameters':['{{job.nope}}']}",
		 "tasks[0].spark_jar_task.parameters[0]"},
		{"'spark_submit_task':{'parameters':['{{job.nope}}']}",
		 "tasks[0].spark_submit_task.parameters[0]"},
		{"'sql_task':{'warehouse_id':'w','query':{'query_id':'q'},'parameters':{'p':"
		 "'{{job.nope}}'}}",
		 "tasks[0].sql_task.parameters.p"},
		{"'dbt_task':{'commands':['dbt run --vars {{job.nope}}']}",
		 "tasks[0].dbt_task.commands[0]"},
		{"'pipeline_task':{'pipeline_id':'p','parameters':{'k':'{{job.nope}}'}}",
		 "tasks[0].pipeline_task.parameters.k"},
		{"'run_job_task':{'job_id':1,'job_parameters':{'k':'{{job.nope}}'}}",
		 "tasks[0].run_job_task.job_parameters.k"},
		{"'run_job_task':{'job_id':1,'notebook_params':{'k':'{{job.nope}}'}}",
		 "tasks[0].run_job_task.notebook_params.k"},
		{"'run_job_task':{'job_id':1,'python_params':['{{job.nope}}']}",
		 "tasks[0].run_job_task.python_params[0]"},
		{"'run_job_task':{'job_id':1,'jar_params':['{{job.nope}}']}",
		 "tasks[0].run_job_task.jar_params[0]"},
		{"'run_job_task':{'job_id':1,'spark_submit_params':['{{job.nope}}']}",
		 "tasks[0].run_job_task.spark_submit_params[0]"},
		{"'run_job_task':{'job_id':1,'python_named_params':{'k':'{{job.nope}}'}}",
		 "tasks[0].run_job_task.python_named_params.k"},
		{"'run_job_task':{'job_id':1,'sql_params':{'k':'{{job.nope}}'}}",
		 "tasks[0].run_job_task.sql_params.k"},
		{"'run_job_task':{'job_id':1,'dbt_commands':['dbt {{job.nope}}']}",
		 "tasks[0].run_job_task.dbt_commands[0]"},
		{"'condition_task':{'op':'EQUAL_TO','left':'{{job.nope}}','right':'1'}",
		 "tasks[0].condition_task.left"},
		{"'condition_task':{'op':'EQUAL_TO','left':'1','right':'{{job.nope}}'}",
		 "tasks[0].condition_task.right"},
		{"'for_each_task':{'inputs':'{{job.nope}}','task':{'task_key':'in',"
		 "'notebook_task':{'notebook_path':'/x'}}}",
		 "tasks[0].for_each_task.inputs"},
		{"'for_each_task':{'inputs':'[1]','task':{'task_key':'in',"
		 "'notebook_task':{'notebook_path':'/x','base_parameters':{'i':'{{job.nope}}'}}}}",
		 "tasks[0].for_each_task.task.notebook_task.base_parameters.i"},
		{"'clean_rooms_notebook_task':{'clean_room_name':'r','notebook_name':'n',"
		 "'notebook_base_parameters':{'k':'{{job.nope}}'}}",
		 "tasks[0].clean_rooms_notebook_task.notebook_base_parameters.k"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024], want[512];
		snprintf(text, sizeof(text), "{'tasks':[{'task_key':'t',%s}]}", cases[i].task);
		snprintf(want, sizeof(want), "%s: unknown dynamic value reference {{job.nope}}",
			 cases[i].path);
		settings_fail(text, want);
	}
	/* Fields that take no references are left alone. */
	settings_ok("{'tasks':[{'task_key':'t','description':'{{job.nope}}',"
		    "'notebook_task':{'notebook_path':'/x','warehouse_id':'{{job.nope}}'}}]}");
}

static void test_settings_input_only_inside_for_each(void **state)
{
	(void)state;
	settings_fail("{'tasks':[{'task_key':'t','notebook_task':{'notebook_path':'/x',"
		      "'base_parameters':{'i':'{{input}}'}}}]}",
		      "tasks[0].notebook_task.base_parameters.i: invalid dynamic value reference "
		      "{{input}}: {{input}} exists only in the task of a for_each_task");
	/* The inputs of the for-each itself are resolved before any element. */
	settings_fail("{'tasks':[{'task_key':'t','for_each_task':{'inputs':'{{input}}',"
		      "'task':{'task_key':'in','notebook_task':{'notebook_path':'/x'}}}}]}",
		      "tasks[0].for_each_task.inputs: invalid dynamic value reference {{input}}: "
		      "{{input}} exists only in the task of a for_each_task");
	settings_ok("{'tasks':[{'task_key':'t','for_each_task':{'inputs':'[1,2]',"
		    "'task':{'task_key':'in','notebook_task':{'notebook_path':'/x',"
		    "'base_parameters':{'i':'{{input}}'}}}}}]}");
}

static void test_settings_self_reference_refused(void **state)
{
	(void)state;
	settings_fail("{'tasks':[{'task_key':'t','condition_task':{'op':'EQUAL_TO',"
		      "'left':'{{tasks.t.result_state}}','right':'success'}}]}",
		      "tasks[0].condition_task.left: invalid dynamic value reference "
		      "{{tasks.t.result_state}}: a task cannot refer to itself through "
		      "tasks.<key>; use {{task.*}} for its own run");
	/* Nor from the task inside its for-each. */
	settings_fail("{'tasks':[{'task_key':'t','for_each_task':{'inputs':'[1]',"
		      "'task':{'task_key':'in','notebook_task':{'notebook_path':'/x',"
		      "'base_parameters':{'p':'{{tasks.t.run_id}}'}}}}}]}",
		      "tasks[0].for_each_task.task.notebook_task.base_parameters.p: invalid dynamic "
		      "value reference {{tasks.t.run_id}}: a task cannot refer to itself through "
		      "tasks.<key>; use {{task.*}} for its own run");
}

static void test_settings_job_parameter_defaults(void **state)
{
	(void)state;
	settings_ok("{'parameters':[{'name':'d','default':'{{job.start_time.iso_date}}'},"
		    "{'name':'r','default':'run-{{job.run_id}}-{{unknown_thing}}'}]}");
	settings_fail("{'parameters':[{'name':'a','default':'x'},"
		      "{'name':'b','default':'{{job.parameters.a}}'}]}",
		      "parameters[1].default: invalid dynamic value reference {{job.parameters.a}}: "
		      "a job parameter's default cannot refer to job parameters");
	settings_fail("{'parameters':[{'name':'a','default':'{{job.nope}}'}]}",
		      "parameters[0].default: unknown dynamic value reference {{job.nope}}");
	settings_fail("{'tasks':[{'task_key':'t','notebook_task':{'notebook_path':'/x',"
		      "'base_parameters':{'p':'{{job.parameters.missing}}'}}}],"
		      "'parameters':[{'name':'present','default':''}]}",
		      "tasks[0].notebook_task.base_parameters.p: invalid dynamic value reference "
		      "{{job.parameters.missing}}: the job has no parameter named 'missing'");
}

static void test_settings_update_names_kept_tasks(void **state)
{
	(void)state;
	json_t *cur = NULL, *out = NULL;
	enum job_format f;
	struct model_error err = {0};
	assert_int_equal(job_settings_parse(J("{'tasks':[{'task_key':'a','notebook_task':"
					      "{'notebook_path':'/a'}},{'task_key':'b',"
					      "'depends_on':[{'task_key':'a'}],'notebook_task':{"
					      "'notebook_path':'/b','base_parameters':{'n':"
					      "'{{tasks.a.values.n}}'}}}]}"),
					    21, "", JOB_CREATE, &LIM, &cur, &f, &err),
			 0);
	/* Removing a while b still reads it: b was not in the request, so it is
	 * named by its key. (The depends_on check would also refuse; drop it.) */
	json_t *ns = J("{'tasks':[{'task_key':'b','notebook_task':{'notebook_path':'/b',"
		       "'base_parameters':{'n':'{{tasks.a.values.n}}'}}}]}");
	json_t *ftr = J("['tasks/a']");
	assert_int_equal(job_settings_update(cur, f, ns, ftr, 21, &LIM, &out, &f, &err), -1);
	assert_string_equal(err.message, "new_settings.tasks[0].notebook_task.base_parameters.n: "
					 "invalid dynamic value reference {{tasks.a.values.n}}: "
					 "the job has no task with task_key 'a'");
	json_decref(ns);
	/* A kept task that breaks is named by its key. */
	ns = J("{'tasks':[{'task_key':'c','notebook_task':{'notebook_path':'/c'}}]}");
	json_t *ftr2 = J("['tasks/a']");
	json_decref(cur);
	assert_int_equal(job_settings_parse(J("{'tasks':[{'task_key':'a','notebook_task':"
					      "{'notebook_path':'/a'}},{'task_key':'b',"
					      "'notebook_task':{'notebook_path':'/b',"
					      "'base_parameters':{'n':'{{tasks.a.run_id}}'}}}]}"),
					    21, "", JOB_CREATE, &LIM, &cur, &f, &err),
			 0);
	assert_int_equal(job_settings_update(cur, f, ns, ftr2, 21, &LIM, &out, &f, &err), -1);
	assert_string_equal(err.message,
			    "notebook_task.base_parameters.n of the job's task 'b': invalid dynamic "
			    "value reference {{tasks.a.run_id}}: the job has no task with task_key "
			    "'a'");
	json_decref(ns);
	json_decref(ftr);
	json_decref(ftr2);
	json_decref(cur);
}

static void test_settings_walker_standalone(void **state)
{
	(void)state;
	json_t *s = J(REALISTIC_JOB("'{{tasks.gone.run_id}}'"));
	struct model_error err = {0};
	assert_int_equal(job_settings_check_refs(s, "new_settings", &err), -1);
	assert_string_equal(err.message,
			    "new_settings.tasks[3].python_wheel_task.named_parameters.state: invalid "
			    "dynamic value reference {{tasks.gone.run_id}}: the job has no task with "
			    "task_key 'gone'");
	json_decref(s);
	s = J(REALISTIC_JOB("'ok'"));
	assert_int_equal(job_settings_check_refs(s, "", &err), 0);
	json_decref(s);
	/* Named by the parameter's name when the prefix is an update's. */
	s = J("{'parameters':[{'name':'p','default':'{{job.x}}'}]}");
	assert_int_equal(job_settings_check_refs(s, "new_settings", &err), -1);
	assert_string_equal(err.message, "the default of job parameter 'p': unknown dynamic value "
					 "reference {{job.x}}");
	json_decref(s);
}

static void test_settings_20_single_task(void **state)
{
	(void)state;
	json_t *out = NULL;
	enum job_format f;
	struct model_error err = {0};
	assert_int_equal(job_settings_parse(J("{'name':'x','existing_cluster_id':'c','notebook_task':"
					      "{'notebook_path':'/x','base_parameters':{'d':"
					      "'{{job.naem}}'}}}"),
					    20, "", JOB_CREATE, &LIM, &out, &f, &err),
			 -1);
	assert_string_equal(err.message, "notebook_task.base_parameters.d: unknown dynamic value "
					 "reference {{job.naem}}");
	/* Legacy variables are what 2.0 clients send. */
	assert_int_equal(job_settings_parse(J("{'name':'x','existing_cluster_id':'c','notebook_task':"
					      "{'notebook_path':'/x','base_parameters':{'d':"
					      "'{{start_date}}','r':'{{run_id}}'}}}"),
					    20, "", JOB_CREATE, &LIM, &out, &f, &err),
			 0);
	json_decref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse_spaces_and_backticks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_malformed_stays_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_unknown_namespace_stays_literal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_parse_nested_braces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_length_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_task_and_workspace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_other_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_task_values_of_every_type, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expand_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_legacy_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_args_on_a_leap_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_args_across_a_year_boundary, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_time_args_around_the_epoch_and_centuries, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_time_every_day_agrees_with_gmtime_r, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_backfill_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_missing_values_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_output_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_nul_in_value_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_accepts_every_known_reference,
						scope_setup, scope_teardown),
		cmocka_unit_test_setup_teardown(test_check_unknown_in_known_namespace, scope_setup,
						scope_teardown),
		cmocka_unit_test_setup_teardown(test_check_names_in_scope, scope_setup,
						scope_teardown),
		cmocka_unit_test_setup_teardown(test_check_quotes_long_references_cut, scope_setup,
						scope_teardown),
		cmocka_unit_test(test_settings_realistic_job_accepted),
		cmocka_unit_test(test_settings_reference_to_missing_task_refused),
		cmocka_unit_test(test_settings_every_field_is_checked),
		cmocka_unit_test(test_settings_input_only_inside_for_each),
		cmocka_unit_test(test_settings_self_reference_refused),
		cmocka_unit_test(test_settings_job_parameter_defaults),
		cmocka_unit_test(test_settings_update_names_kept_tasks),
		cmocka_unit_test(test_settings_walker_standalone),
		cmocka_unit_test(test_settings_20_single_task),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
