/* job_test.c - unit tests for src/model/job.c (JobSettings parse, validate,
 * update, emit, page).
 *
 * The request bodies are written with single quotes for readability; J()
 * turns them into JSON. The 2.0 and multi-task examples are the fixtures the
 * integration suite sends (tests/integration/fixtures/), so the unit and the
 * HTTP tests agree on what a real client body looks like.
 *
 * Every case frees what it builds: the suite runs under LeakSanitizer.
 * Pure, single-threaded; reads the fixtures, writes nothing.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "model/job.h"
#include "model/schema.h"
#include "testutil.h"

static const struct job_limits LIM = {.max_tasks = 100, .max_tags = 25};

/* --- helpers ----------------------------------------------------------------- */

/* A fixture of the integration suite; the tests run from the repository
 * root (scripts/run-tests.sh) or from their build directory. */
static json_t *fixture(const char *name)
{
	static const char *const prefixes[] = {"", "../", "../../", "../../../", "../../../../"};
	char path[512];
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		snprintf(path, sizeof(path), "%stests/integration/fixtures/%s", prefixes[i], name);
		json_error_t e;
		json_t *v = json_load_file(path, 0, &e);
		if (v)
			return v;
	}
	fail_msg("fixture '%s' not found (run from the repository root)", name);
	return NULL;
}

static json_t *parse_lim(json_t *in, int version, enum job_origin origin,
			 const struct job_limits *lim, enum job_format *fmt)
{
	json_t *out = NULL;
	enum job_format f;
	struct model_error err = {0};
	if (job_settings_parse(in, version, "", origin, lim, &out, &f, &err) != 0)
		fail_msg("parse (v%d) failed: %s %s", version, err.code, err.message);
	if (fmt)
		*fmt = f;
	return out;
}

/* Parses a literal that must be accepted; returns the normalized settings. */
static json_t *ok(const char *text, int version)
{
	return parse_lim(J(text), version, JOB_CREATE, &LIM, NULL);
}

/* Parses a literal that must be accepted; only that is checked. */
static void accepted(const char *text, int version) { json_decref(ok(text, version)); }

static bool has(const char *msg, const char *want)
{
	return want == NULL || strstr(msg, want) != NULL;
}

static void expect_err(const struct model_error *err, const char *code, const char *want1,
		       const char *want2)
{
	assert_int_equal(err->status, 400);
	assert_string_equal(err->code, code);
	if (!has(err->message, want1) || !has(err->message, want2))
		fail_msg("message \"%s\" lacks \"%s\"%s%s%s", err->message, want1,
			 want2 ? " / \"" : "", want2 ? want2 : "", want2 ? "\"" : "");
}

/* Parses a literal that must be refused with code and a message holding
 * want1 and want2 (either may be NULL). */
static void bad_lim(const char *text, int version, const struct job_limits *lim, const char *code,
		    const char *want1, const char *want2)
{
	json_t *out = NULL;
	enum job_format f;
	struct model_error err = {0};
	if (job_settings_parse(J(text), version, "", JOB_CREATE, lim, &out, &f, &err) == 0) {
		static char dump[2048];
		size_t n = json_dumpb(out, dump, sizeof(dump) - 1, JSON_COMPACT);
		dump[n < sizeof(dump) ? n : sizeof(dump) - 1] = '\0';
		json_decref(out);
		fail_msg("v%d accepted %s (expected %s \"%s\")", version, dump, code, want1);
	}
	expect_err(&err, code, want1, want2);
}

static void bad(const char *text, int version, const char *code, const char *want1,
		const char *want2)
{
	bad_lim(text, version, &LIM, code, want1, want2);
}

/* Asserts that settings read back through API version are want. */
static void assert_emits(const json_t *settings, int version, const json_t *want)
{
	json_t *got = job_settings_emit(settings, version);
	assert_json_equal(got, want);
	json_decref(got);
}

static const char *str_at(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_t *task_at(const json_t *settings, size_t i)
{
	return json_array_get(json_object_get(settings, "tasks"), i);
}

/* A notebook task literal. */
#define NB(key, path) "{'task_key':'" key "','notebook_task':{'notebook_path':'" path "'}}"
#define NB_DEP(key, path, deps)                                                                  \
	"{'task_key':'" key "','notebook_task':{'notebook_path':'" path "'},'depends_on':[" deps \
	"]}"
#define DEP(key) "{'task_key':'" key "'}"

/* --- 2.0 single-task shape --------------------------------------------------------- */

static void test_parse_20_single_task_fixture_round_trips_with_defaults(void **state)
{
	(void)state;
	json_t *given = fixture("create-job.json");
	enum job_format fmt;
	json_t *s = parse_lim(json_deep_copy(given), 20, JOB_CREATE, &LIM, &fmt);
	assert_int_equal(fmt, JOB_FORMAT_SINGLE_TASK);
	assert_int_equal(job_settings_format(s), JOB_FORMAT_SINGLE_TASK);

	/* Read back through 2.0: exactly as given, plus the service's defaults. */
	json_t *want = json_deep_copy(given);
	json_object_set_new(want, "max_concurrent_runs", json_integer(1));
	json_object_set_new(json_object_get(want, "schedule"), "pause_status",
			    json_string("UNPAUSED"));
	json_object_set_new(want, "format", json_string("SINGLE_TASK"));
	assert_emits(s, 20, want);

	json_decref(want);
	json_decref(s);
	json_decref(given);
}

static void test_parse_20_single_task_reads_through_21_as_one_task(void **state)
{
	(void)state;
	json_t *given = fixture("create-job.json");
	json_t *s = parse_lim(json_deep_copy(given), 20, JOB_CREATE, &LIM, NULL);
	json_t *v21 = job_settings_emit(s, 21);

	json_t *tasks = json_object_get(v21, "tasks");
	assert_int_equal(json_array_size(tasks), 1);
	json_t *t = json_array_get(tasks, 0);
	/* The task members moved into the task ... */
	static const char *const moved[] = {"new_cluster", "libraries", "max_retries",
					    "spark_jar_task", NULL};
	for (const char *const *m = moved; *m; m++) {
		assert_json_equal(json_object_get(t, *m), json_object_get(given, *m));
		assert_null(json_object_get(v21, *m));
	}
	/* ... the job's own members stayed at the top. */
	assert_json_equal(json_object_get(v21, "timeout_seconds"),
			  json_object_get(given, "timeout_seconds"));
	assert_json_equal(json_object_get(v21, "name"), json_object_get(given, "name"));
	assert_null(json_object_get(t, "timeout_seconds"));
	/* The task needs a key internally: derived from the name. */
	assert_string_equal(str_at(t, "task_key"), "Nightly_model_training");
	/* 2.2 shows the same internal object. */
	json_t *v22 = job_settings_emit(s, 22);
	assert_json_equal(v22, v21);

	json_decref(v22);
	json_decref(v21);
	json_decref(s);
	json_decref(given);
}

static void test_parse_20_single_task_key_from_name_or_untitled(void **state)
{
	(void)state;
	json_t *s = ok("{'name':'a b/c-d_e.f','notebook_task':{'notebook_path':'/x'}}", 20);
	assert_string_equal(str_at(task_at(s, 0), "task_key"), "a_b_c-d_e_f");
	json_decref(s);

	s = ok("{'notebook_task':{'notebook_path':'/x'}}", 20);
	assert_string_equal(str_at(task_at(s, 0), "task_key"), "Untitled");
	assert_string_equal(str_at(s, "name"), "Untitled");
	json_decref(s);
}

static void test_parse_20_without_task_members_has_no_task(void **state)
{
	(void)state;
	enum job_format fmt;
	json_t *s = parse_lim(J("{'name':'empty'}"), 20, JOB_CREATE, &LIM, &fmt);
	assert_int_equal(fmt, JOB_FORMAT_SINGLE_TASK);
	assert_null(json_object_get(s, "tasks"));
	json_t *v20 = job_settings_emit(s, 20);
	assert_json_is(v20, "{'name':'empty','max_concurrent_runs':1,'format':'SINGLE_TASK'}");
	json_decref(v20);
	json_decref(s);
}

static void test_parse_20_with_tasks_is_multi_task(void **state)
{
	(void)state;
	enum job_format fmt;
	json_t *s = parse_lim(J("{'tasks':[" NB("a", "/a") "],'format':'SINGLE_TASK'}"), 20,
			      JOB_CREATE, &LIM, &fmt);
	assert_int_equal(fmt, JOB_FORMAT_MULTI_TASK);
	assert_string_equal(str_at(s, "format"), "MULTI_TASK");
	/* A multi-task job looks the same through 2.0 and 2.1. */
	json_t *v20 = job_settings_emit(s, 20), *v21 = job_settings_emit(s, 21);
	assert_json_equal(v20, v21);
	json_decref(v20);
	json_decref(v21);
	json_decref(s);
}

static void test_parse_20_tasks_combined_with_single_task_fields_rejected(void **state)
{
	(void)state;
	/* A body with both shapes is ambiguous: which compute runs the tasks?
	 * job.c has a message for it ("tasks cannot be combined with the
	 * single-task fields of Jobs API 2.0"). */
	bad("{'tasks':[" NB("a", "/a") "],'notebook_task':{'notebook_path':'/b'}}", 20,
	    MODEL_INVALID, "notebook_task", NULL);
	bad("{'tasks':[" NB("a", "/a") "],'existing_cluster_id':'c1'}", 20, MODEL_INVALID,
	    "existing_cluster_id", NULL);
}

static void test_parse_20_single_task_errors_use_top_level_paths(void **state)
{
	(void)state;
	bad("{'notebook_task':{'notebook_path':7}}", 20, MODEL_MALFORMED,
	    "'notebook_task.notebook_path'", "must be a string");
	bad("{'new_cluster':{'num_workers':'ten'},'notebook_task':{'notebook_path':'/a'}}", 20,
	    MODEL_MALFORMED, "'new_cluster.num_workers'", NULL);
	bad("{'notebook_task':{'notebook_path':'Users/me/nb'}}", 20, MODEL_INVALID,
	    "'notebook_task.notebook_path'", "absolute");
	bad("{'notebook_task':{'notebook_path':'/a'},'spark_jar_task':{}}", 20, MODEL_INVALID,
	    "specify only one of", NULL);
	/* Compute without a task kind is not a job that can run. */
	bad("{'existing_cluster_id':'c1'}", 20, MODEL_INVALID, "specify one of", NULL);
}

/* --- 2.1 / 2.2 multi-task shape -------------------------------------------------------- */

static void test_parse_21_multi_task_fixture_round_trips(void **state)
{
	(void)state;
	json_t *given = fixture("multi-task-job.json");
	enum job_format fmt;
	json_t *s = parse_lim(json_deep_copy(given), 21, JOB_CREATE, &LIM, &fmt);
	assert_int_equal(fmt, JOB_FORMAT_MULTI_TASK);
	/* Every default is already given, so the settings read back as sent. */
	assert_emits(s, 21, given);
	assert_emits(s, 20, given);
	json_decref(s);
	json_decref(given);
}

static void test_parse_22_create_adds_queue_to_fixture(void **state)
{
	(void)state;
	json_t *given = fixture("multi-task-job.json");
	json_t *s = parse_lim(json_deep_copy(given), 22, JOB_CREATE, &LIM, NULL);
	json_t *want = json_deep_copy(given);
	json_object_set_new(want, "queue", J("{'enabled':true}"));
	assert_json_equal(s, want);
	json_decref(want);
	json_decref(s);
	json_decref(given);
}

static void test_parse_defaults(void **state)
{
	(void)state;
	json_t *s = ok("{}", 21);
	assert_json_is(s, "{'name':'Untitled','max_concurrent_runs':1,'format':'MULTI_TASK'}");
	json_decref(s);

	/* Given values are kept, including max_concurrent_runs 0. */
	s = ok("{'name':'n','max_concurrent_runs':0}", 21);
	assert_string_equal(str_at(s, "name"), "n");
	assert_int_equal(json_integer_value(json_object_get(s, "max_concurrent_runs")), 0);
	json_decref(s);
}

static void test_parse_queue_default_only_for_22_create(void **state)
{
	(void)state;
	static const struct {
		int version;
		enum job_origin origin;
		bool queue;
	} cases[] = {
		{20, JOB_CREATE, false}, {21, JOB_CREATE, false}, {22, JOB_CREATE, true},
		{20, JOB_RESET, false},	 {21, JOB_RESET, false},  {22, JOB_RESET, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *s =
			parse_lim(J("{'name':'q'}"), cases[i].version, cases[i].origin, &LIM, NULL);
		json_t *q = json_object_get(s, "queue");
		if (cases[i].queue) {
			assert_non_null(q);
			assert_true(json_is_true(json_object_get(q, "enabled")));
		} else if (q) {
			fail_msg("v%d origin %d: unexpected queue", cases[i].version,
				 cases[i].origin);
		}
		json_decref(s);
	}
	/* A given queue wins over the 2.2 default. */
	json_t *s = parse_lim(J("{'queue':{'enabled':false}}"), 22, JOB_CREATE, &LIM, NULL);
	assert_true(json_is_false(json_object_get(json_object_get(s, "queue"), "enabled")));
	json_decref(s);
}

static void test_parse_pause_status_defaults_to_unpaused(void **state)
{
	(void)state;
	json_t *s =
		ok("{'schedule':{'quartz_cron_expression':'0 0 * * * ?','timezone_id':'UTC'}}", 21);
	assert_string_equal(str_at(json_object_get(s, "schedule"), "pause_status"), "UNPAUSED");
	json_decref(s);

	s = ok("{'trigger':{'periodic':{'interval':1,'unit':'HOURS'}}}", 21);
	assert_string_equal(str_at(json_object_get(s, "trigger"), "pause_status"), "UNPAUSED");
	json_decref(s);

	s = ok("{'continuous':{}}", 21);
	assert_string_equal(str_at(json_object_get(s, "continuous"), "pause_status"), "UNPAUSED");
	json_decref(s);

	/* A given pause_status is kept. */
	s = ok("{'continuous':{'pause_status':'PAUSED'}}", 21);
	assert_string_equal(str_at(json_object_get(s, "continuous"), "pause_status"), "PAUSED");
	json_decref(s);
}

static void test_parse_format_input_ignored(void **state)
{
	(void)state;
	enum job_format fmt;
	json_t *s = parse_lim(J("{'format':'SINGLE_TASK'}"), 21, JOB_CREATE, &LIM, &fmt);
	assert_int_equal(fmt, JOB_FORMAT_MULTI_TASK);
	assert_string_equal(str_at(s, "format"), "MULTI_TASK");
	json_decref(s);

	s = parse_lim(J("{'format':'MULTI_TASK','notebook_task':{'notebook_path':'/a'}}"), 20,
		      JOB_CREATE, &LIM, &fmt);
	assert_int_equal(fmt, JOB_FORMAT_SINGLE_TASK);
	assert_string_equal(str_at(s, "format"), "SINGLE_TASK");
	json_decref(s);

	/* Not even its type is checked. */
	s = parse_lim(J("{'format':42}"), 22, JOB_CREATE, &LIM, &fmt);
	assert_string_equal(str_at(s, "format"), "MULTI_TASK");
	json_decref(s);
}

static void test_parse_steals_input_reference(void **state)
{
	(void)state;
	json_t *in = J("{'name':'x'}");
	json_incref(in); /* keep one to look at */
	json_t *out = NULL;
	enum job_format f;
	struct model_error err;
	assert_int_equal(job_settings_parse(in, 21, "", JOB_CREATE, &LIM, &out, &f, &err), 0);
	assert_ptr_equal(out, in); /* normalized in place, no copy */
	assert_int_equal(in->refcount, 2);
	json_decref(out);
	assert_int_equal(in->refcount, 1);
	json_decref(in);

	/* On error the reference is dropped too. */
	in = J("{'name':7}");
	json_incref(in);
	assert_int_equal(job_settings_parse(in, 21, "", JOB_CREATE, &LIM, &out, &f, &err), -1);
	assert_int_equal(in->refcount, 1);
	json_decref(in);

	in = J("[1]");
	json_incref(in);
	assert_int_equal(job_settings_parse(in, 21, "", JOB_CREATE, &LIM, &out, &f, &err), -1);
	assert_int_equal(in->refcount, 1);
	json_decref(in);
}

static void test_parse_21_and_22_reject_single_task_fields(void **state)
{
	(void)state;
	static const char *const bodies[] = {
		"{'notebook_task':{'notebook_path':'/a'}}",
		"{'existing_cluster_id':'c'}",
		"{'new_cluster':{}}",
		"{'libraries':[]}",
		"{'max_retries':1}",
		"{'min_retry_interval_millis':1}",
		"{'retry_on_timeout':true}",
		"{'spark_python_task':{'python_file':'dbfs:/a.py'}}",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		bad(bodies[i], 21, MODEL_INVALID, "single-task format", NULL);
		bad(bodies[i], 22, MODEL_INVALID, "single-task format", NULL);
	}
	/* The message names the field with the request's prefix. */
	json_t *out;
	enum job_format f;
	struct model_error err;
	assert_int_equal(job_settings_parse(J("{'max_retries':1}"), 21, "new_settings", JOB_RESET,
					    &LIM, &out, &f, &err),
			 -1);
	expect_err(&err, MODEL_INVALID, "'new_settings.max_retries'", NULL);
}

/* --- validation: types and values --------------------------------------------------------- */

static void test_parse_wrong_types_are_malformed_with_path(void **state)
{
	(void)state;
	bad("{'name':5}", 21, MODEL_MALFORMED, "field 'name' must be a string, not an integer",
	    NULL);
	bad("{'tasks':{}}", 21, MODEL_MALFORMED, "field 'tasks' must be an array", NULL);
	bad("{'tasks':[" NB("a", "/a") ",{'task_key':'b','notebook_task':{'notebook_path':3}}]}",
	    21, MODEL_MALFORMED, "'tasks[1].notebook_task.notebook_path'", NULL);
	bad("{'tasks':[{'task_key':'a','notebook_task':{'notebook_path':'/a',"
	    "'base_parameters':{'x':1}}}]}",
	    21, MODEL_MALFORMED, "'tasks[0].notebook_task.base_parameters.x'", NULL);
	bad("{'max_concurrent_runs':'abc'}", 21, MODEL_MALFORMED, "'max_concurrent_runs'",
	    "an integer");
	bad("{'max_concurrent_runs':1.5}", 21, MODEL_MALFORMED, "'max_concurrent_runs'", NULL);
	bad("{'tags':{'a':1}}", 21, MODEL_MALFORMED, "'tags.a'", NULL);
	bad("{'email_notifications':{'on_start':'a@b'}}", 21, MODEL_MALFORMED,
	    "'email_notifications.on_start'", "an array");
	bad("{'tasks':[{'task_key':'a','notebook_task':{'notebook_path':'/a'},"
	    "'retry_on_timeout':'yes'}]}",
	    21, MODEL_MALFORMED, "'tasks[0].retry_on_timeout'", "a boolean");
	bad("{'tasks':[" NB("a", "/a") ",null]}", 21, MODEL_MALFORMED, "'tasks[1]'",
	    "must not be null");
	bad("[]", 21, MODEL_MALFORMED, "must be an object", NULL);
	bad("'text'", 20, MODEL_MALFORMED, "must be an object", NULL);
}

static void test_parse_wrong_types_under_prefix(void **state)
{
	(void)state;
	json_t *out;
	enum job_format f;
	struct model_error err;
	assert_int_equal(job_settings_parse(J("{'timeout_seconds':'x'}"), 22, "new_settings",
					    JOB_RESET, &LIM, &out, &f, &err),
			 -1);
	expect_err(&err, MODEL_MALFORMED, "'new_settings.timeout_seconds'", NULL);
	assert_int_equal(
		job_settings_parse(J("7"), 22, "new_settings", JOB_RESET, &LIM, &out, &f, &err),
		-1);
	expect_err(&err, MODEL_MALFORMED, "new_settings", "must be an object");
}

static void test_parse_invalid_values_name_the_field(void **state)
{
	(void)state;
	bad("{'max_concurrent_runs':1001}", 21, MODEL_INVALID, "'max_concurrent_runs'",
	    "out of range");
	bad("{'max_concurrent_runs':-1}", 21, MODEL_INVALID, "'max_concurrent_runs'", NULL);
	bad("{'timeout_seconds':-5}", 21, MODEL_INVALID, "'timeout_seconds'", NULL);
	bad("{'tasks':[{'notebook_task':{'notebook_path':'/a'}}]}", 21, MODEL_INVALID,
	    "Missing required field: tasks[0].task_key", NULL);
	bad("{'tasks':[{'task_key':'a','notebook_task':{}}]}", 21, MODEL_INVALID,
	    "Missing required field: tasks[0].notebook_task.notebook_path", NULL);
	bad("{'tasks':[{'task_key':'a','notebook_task':{'notebook_path':''}}]}", 21, MODEL_INVALID,
	    "'tasks[0].notebook_task.notebook_path'", "empty");
	bad("{'tasks':[{'task_key':'a','run_if':'SOMETIMES',"
	    "'notebook_task':{'notebook_path':'/a'}}]}",
	    21, MODEL_INVALID, "'tasks[0].run_if'", "expected one of ALL_SUCCESS");
	bad("{'tasks':[{'task_key':'a b','notebook_task':{'notebook_path':'/a'}}]}", 21,
	    MODEL_INVALID, "'tasks[0].task_key'", NULL);
	bad("{'tasks':[{'task_key':'a'}]}", 21, MODEL_INVALID, "tasks[0]", "specify one of");
	bad("{'tasks':[{'task_key':'a','notebook_task':{'notebook_path':'/a'},"
	    "'spark_python_task':{'python_file':'/b.py'}}]}",
	    21, MODEL_INVALID, "tasks[0]", "specify only one of");
	bad("{'tasks':[{'task_key':'a','notebook_task':{'notebook_path':'/a'},"
	    "'existing_cluster_id':'c','environment_key':'e'}]}",
	    21, MODEL_INVALID, "tasks[0]", "specify only one of");
	bad("{'schedule':{'quartz_cron_expression':'not cron','timezone_id':'UTC'}}", 21,
	    MODEL_INVALID, "Invalid quartz_cron_expression: not cron", NULL);
	bad("{'schedule':{'quartz_cron_expression':'0 0 * * * ?','timezone_id':'Mars/Base'}}", 21,
	    MODEL_INVALID, "'schedule.timezone_id'", NULL);
	bad("{'schedule':{'quartz_cron_expression':'0 0 * * * ?'}}", 21, MODEL_INVALID,
	    "Missing required field: schedule.timezone_id", NULL);
	bad("{'schedule':{'quartz_cron_expression':'0 0 * * * ?','timezone_id':'UTC'},"
	    "'continuous':{}}",
	    21, MODEL_INVALID, "specify only one of schedule, trigger, continuous", NULL);
	bad("{'git_source':{'git_url':'u','git_provider':'svn'}}", 21, MODEL_INVALID,
	    "'git_source.git_provider'", NULL);
	bad("{'parameters':[{'name':'a b','default':''}]}", 21, MODEL_INVALID,
	    "'parameters[0].name'", NULL);
	bad("{'run_as':{}}", 21, MODEL_INVALID, "run_as", "specify one of");
	bad("{'webhook_notifications':{'on_start':[{'id':'1'},{'id':'2'},{'id':'3'},{'id':'4'}]}}",
	    21, MODEL_INVALID, "'webhook_notifications.on_start'", "at most 3");
	bad("{'email_notifications':{'on_failure':['\xc3\xa9@x']}}", 21, MODEL_INVALID,
	    "'email_notifications.on_failure[0]'", "ASCII");
}

static void test_parse_nested_for_each_task_rejected(void **state)
{
	(void)state;
	/* job_schema.c: "The task inside a for_each_task cannot itself be a
	 * for_each_task"; the nested one must not slip through unvalidated. */
	bad("{'tasks':[{'task_key':'a','for_each_task':{'inputs':'[1]','task':"
	    "{'task_key':'b','for_each_task':{}}}}]}",
	    21, MODEL_INVALID, "tasks[0].for_each_task.task", NULL);
	/* A valid for_each_task is accepted. */
	accepted("{'tasks':[{'task_key':'a','for_each_task':{'inputs':'[1,2]',"
		 "'concurrency':2,'task':" NB("b", "/b") "}}]}",
		 21);
	bad("{'tasks':[{'task_key':'a','for_each_task':{'inputs':'[1]'}}]}", 21, MODEL_INVALID,
	    "Missing required field: tasks[0].for_each_task.task", NULL);
}

static void test_parse_name_length_limit(void **state)
{
	(void)state;
	char *body = malloc(4200);
	assert_non_null(body);
	memcpy(body, "{'name':'", 9);
	memset(body + 9, 'n', 4096);
	memcpy(body + 9 + 4096, "'}", 3);
	accepted(body, 21);
	memset(body + 9, 'n', 4097);
	memcpy(body + 9 + 4097, "'}", 3);
	bad(body, 21, MODEL_INVALID, "'name' is too long", NULL);
	free(body);
}

static void test_parse_task_key_length_limit(void **state)
{
	(void)state;
	char key[102], body[400];
	memset(key, 'k', 100);
	key[100] = '\0';
	snprintf(body, sizeof(body),
		 "{'tasks':[{'task_key':'%s','notebook_task':{'notebook_path':'/a'}}]}", key);
	accepted(body, 21);
	key[100] = 'k';
	key[101] = '\0';
	snprintf(body, sizeof(body),
		 "{'tasks':[{'task_key':'%s','notebook_task':{'notebook_path':'/a'}}]}", key);
	bad(body, 21, MODEL_INVALID, "'tasks[0].task_key'", NULL);
}

static void test_parse_dbt_commands_longer_than_ten_bytes_accepted(void **state)
{
	(void)state;
	/* commands holds at most 10 commands; each command is a full dbt
	 * command line, which is routinely longer than 10 bytes. */
	accepted("{'tasks':[{'task_key':'d','dbt_task':{'commands':"
		 "['dbt deps','dbt run --select my_model']}}]}",
		 21);
	/* The count limit still holds. */
	bad("{'tasks':[{'task_key':'d','dbt_task':{'commands':['dbt a','dbt b','dbt c','dbt d',"
	    "'dbt e','dbt f','dbt g','dbt h','dbt i','dbt j','dbt k']}}]}",
	    21, MODEL_INVALID, "'tasks[0].dbt_task.commands'", "at most 10");
	bad("{'tasks':[{'task_key':'d','dbt_task':{'commands':['run']}}]}", 21, MODEL_INVALID,
	    "tasks[0].dbt_task.commands[0]", "starts with 'dbt'");
}

static void test_parse_cluster_ssh_public_keys_accept_real_keys(void **state)
{
	(void)state;
	/* ssh_public_keys holds at most 10 keys, each a full public key line. */
	accepted("{'job_clusters':[{'job_cluster_key':'c','new_cluster':{'ssh_public_keys':"
		 "['ssh-ed25519 "
		 "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b']}}]}",
		 21);
}

/* --- validation: rules across tasks -------------------------------------------------------- */

static void test_parse_duplicate_task_key(void **state)
{
	(void)state;
	bad("{'tasks':[" NB("a", "/a") "," NB("b", "/b") "," NB("a", "/c") "]}", 21, MODEL_INVALID,
	    "Duplicate task_key 'a'", "tasks[0] and tasks[2]");
	bad("{'job_clusters':[{'job_cluster_key':'c','new_cluster':{}},"
	    "{'job_cluster_key':'c','new_cluster':{}}]}",
	    21, MODEL_INVALID, "Duplicate job_cluster_key 'c'",
	    "job_clusters[0] and job_clusters[1]");
	bad("{'parameters':[{'name':'p','default':'1'},{'name':'p','default':'2'}]}", 21,
	    MODEL_INVALID, "Duplicate name 'p'", NULL);
	bad("{'environments':[{'environment_key':'e'},{'environment_key':'e'}]}", 21, MODEL_INVALID,
	    "Duplicate environment_key 'e'", NULL);
}

static void test_parse_depends_on_errors(void **state)
{
	(void)state;
	bad("{'tasks':[" NB("a", "/a") "," NB_DEP("b", "/b", DEP("zz")) "]}", 21, MODEL_INVALID,
	    "'zz' in tasks[1].depends_on[0]", "no task with this task_key");
	bad("{'tasks':[" NB("a", "/a") "," NB_DEP("b", "/b", DEP("a") "," DEP("b")) "]}", 21,
	    MODEL_INVALID, "tasks[1].depends_on[1]", "cannot depend on itself");
	bad("{'tasks':[" NB("a", "/a") "," NB_DEP("b", "/b", DEP("a") "," DEP("a")) "]}", 21,
	    MODEL_INVALID, "tasks[1].depends_on[1]", "listed twice");
	bad("{'tasks':[" NB_DEP("b", "/b", "{}") "]}", 21, MODEL_INVALID,
	    "Missing required field: tasks[0].depends_on[0].task_key", NULL);
}

#define COND(key) "{'task_key':'" key "','condition_task':{'left':'1','op':'EQUAL_TO','right':'1'}}"

static void test_parse_outcome_only_under_condition_parents(void **state)
{
	(void)state;
	accepted("{'tasks':[" COND("c") "," NB_DEP(
			 "t", "/t",
			 "{'task_key':'c','outcome':'true'}") "," NB_DEP("f", "/f",
									 "{'task_key':'c','outcome'"
									 ":'false'}") "]}",
		 21);
	bad("{'tasks':[" NB("a", "/a") "," NB_DEP("b", "/b",
						  "{'task_key':'a','outcome':'true'}") "]}",
	    21, MODEL_INVALID, "tasks[1].depends_on[0]",
	    "only allowed on a dependency on a condition");
	bad("{'tasks':[" COND("c") "," NB_DEP("b", "/b", "{'task_key':'c','outcome':'maybe'}") "]}",
	    21, MODEL_INVALID, "Invalid outcome 'maybe'", NULL);
}

static void test_parse_cycles_rejected(void **state)
{
	(void)state;
	/* Length 1 is a self-dependency. */
	bad("{'tasks':[" NB_DEP("a", "/a", DEP("a")) "]}", 21, MODEL_INVALID, "itself", NULL);
	bad("{'tasks':[" NB_DEP("a", "/a", DEP("b")) "," NB_DEP("b", "/b", DEP("a")) "]}", 21,
	    MODEL_INVALID, "form a cycle", "tasks");
	bad("{'tasks':[" NB_DEP("a", "/a", DEP("c")) "," NB_DEP("b", "/b", DEP("a")) "," NB_DEP(
		    "c", "/c", DEP("b")) "]}",
	    21, MODEL_INVALID, "form a cycle", NULL);
	/* A task downstream of a cycle is not itself on it, but the job is
	 * still refused. */
	bad("{'tasks':[" NB("root", "/r") "," NB_DEP(
		    "a", "/a",
		    DEP("root") "," DEP("b")) "," NB_DEP("b", "/b",
							 DEP("a")) "," NB_DEP("z", "/z",
									      DEP("b")) "]}",
	    21, MODEL_INVALID, "form a cycle", NULL);
}

/* n tasks t0..t(n-1), each depending on the previous, listed last first. */
static json_t *chain(int n)
{
	json_t *tasks = json_array();
	for (int i = n - 1; i >= 0; i--) {
		char key[16], prev[16];
		snprintf(key, sizeof(key), "t%d", i);
		json_t *t = json_pack("{s:s, s:{s:s}}", "task_key", key, "notebook_task",
				      "notebook_path", "/nb");
		if (i > 0) {
			snprintf(prev, sizeof(prev), "t%d", i - 1);
			json_object_set_new(t, "depends_on",
					    json_pack("[{s:s}]", "task_key", prev));
		}
		json_array_append_new(tasks, t);
	}
	return json_pack("{s:o}", "tasks", tasks);
}

static void test_parse_long_chain_is_not_a_cycle(void **state)
{
	(void)state;
	json_t *s = parse_lim(chain(100), 21, JOB_CREATE, &LIM, NULL);
	assert_int_equal(json_array_size(json_object_get(s, "tasks")), 100);
	json_decref(s);
	/* A diamond is not a cycle either. */
	accepted("{'tasks':[" NB("a", "/a") "," NB_DEP("b", "/b", DEP("a")) "," NB_DEP(
			 "c", "/c", DEP("a")) "," NB_DEP("d", "/d", DEP("b") "," DEP("c")) "]}",
		 21);
}

static void test_parse_cluster_and_environment_references(void **state)
{
	(void)state;
	accepted("{'job_clusters':[{'job_cluster_key':'c','new_cluster':{'num_workers':1}}],"
		 "'environments':[{'environment_key':'e','spec':{'client':'1'}}],"
		 "'tasks':[{'task_key':'a','job_cluster_key':'c','notebook_task':"
		 "{'notebook_path':'/a'}},{'task_key':'b','environment_key':'e',"
		 "'spark_python_task':{'python_file':'/b.py'}}]}",
		 21);
	bad("{'tasks':[{'task_key':'a','job_cluster_key':'nope','notebook_task':"
	    "{'notebook_path':'/a'}}]}",
	    21, MODEL_INVALID, "tasks[0].job_cluster_key 'nope'", "job_clusters");
	bad("{'environments':[{'environment_key':'e'}],'tasks':[" NB(
		    "x",
		    "/x") ",{'task_key':'a',"
			  "'environment_key':'f','spark_python_task':{'python_file':'/b.py'}}]}",
	    21, MODEL_INVALID, "tasks[1].environment_key 'f'", "environments");
}

static void test_parse_max_tasks(void **state)
{
	(void)state;
	const struct job_limits lim = {.max_tasks = 3, .max_tags = 25};
	json_t *s =
		parse_lim(J("{'tasks':[" NB("a", "/a") "," NB("b", "/b") "," NB("c", "/c") "]}"),
			  21, JOB_CREATE, &lim, NULL);
	json_decref(s);
	bad_lim("{'tasks':[" NB("a", "/a") "," NB("b", "/b") "," NB("c", "/c") "," NB("d",
										      "/d") "]}",
		21, &lim, MODEL_INVALID, "'tasks' has 4 tasks", "at most 3");
	/* The default limit: 101 tasks are refused. */
	json_t *in = chain(101);
	json_t *out;
	enum job_format f;
	struct model_error err;
	assert_int_equal(job_settings_parse(in, 22, "", JOB_CREATE, &LIM, &out, &f, &err), -1);
	expect_err(&err, MODEL_INVALID, "101 tasks", "at most 100");
}

static json_t *with_tags(int n)
{
	json_t *tags = json_object();
	for (int i = 0; i < n; i++) {
		char k[16];
		snprintf(k, sizeof(k), "tag%d", i);
		json_object_set_new(tags, k, json_string("v"));
	}
	return json_pack("{s:o}", "tags", tags);
}

static void test_parse_max_tags(void **state)
{
	(void)state;
	json_t *s = parse_lim(with_tags(25), 21, JOB_CREATE, &LIM, NULL);
	json_decref(s);
	json_t *out;
	enum job_format f;
	struct model_error err;
	assert_int_equal(
		job_settings_parse(with_tags(26), 21, "", JOB_CREATE, &LIM, &out, &f, &err), -1);
	expect_err(&err, MODEL_INVALID, "'tags' has 26 tags", "at most 25");
	const struct job_limits none = {.max_tasks = 100, .max_tags = 0};
	assert_int_equal(
		job_settings_parse(with_tags(1), 21, "", JOB_CREATE, &none, &out, &f, &err), -1);
	/* An empty tag key is refused. */
	bad("{'tags':{'':'v'}}", 21, MODEL_INVALID, "Invalid tag", NULL);
}

static void test_parse_workspace_paths(void **state)
{
	(void)state;
	bad("{'tasks':[" NB("a", "Users/me/nb") "]}", 21, MODEL_INVALID,
	    "'tasks[0].notebook_task.notebook_path'", "absolute");
	bad("{'tasks':[" NB("a", "/Users/../etc/passwd") "]}", 21, MODEL_INVALID,
	    "'tasks[0].notebook_task.notebook_path'", "'..'");
	bad("{'tasks':[" NB("a", "/Users/me/..") "]}", 21, MODEL_INVALID, "'..'", NULL);
	bad("{'tasks':[{'task_key':'p','spark_python_task':{'python_file':'scripts/run.py'}}]}", 21,
	    MODEL_INVALID, "'tasks[0].spark_python_task.python_file'", "absolute");
	bad("{'tasks':[{'task_key':'q','sql_task':{'warehouse_id':'w','file':{'path':'q.sql'}}}]}",
	    21, MODEL_INVALID, "'tasks[0].sql_task.file.path'", NULL);
	bad("{'tasks':[{'task_key':'d','dbt_task':{'commands':['dbt run'],"
	    "'project_directory':'../up'}}]}",
	    21, MODEL_INVALID, "'tasks[0].dbt_task.project_directory'", "'..'");
	bad("{'tasks':[{'task_key':'l','for_each_task':{'inputs':'[1]','task':" NB("in",
										   "rel") "}}]}",
	    21, MODEL_INVALID, "'tasks[0].for_each_task.task.notebook_task.notebook_path'", NULL);
	bad("{'tasks':[{'task_key':'a','notebook_task':{'notebook_path':'/a','source':'GIT'}}]}",
	    21, MODEL_INVALID, "source is GIT but the job has no git_source", NULL);
	/* Dots inside a name are not a '..' segment. */
	accepted("{'tasks':[" NB("a", "/Users/me/..hidden/a..b") "]}", 21);
}

static void test_parse_notebook_path_uri_rejected(void **state)
{
	(void)state;
	/* A URI is a valid python_file (dbfs:/, s3://), but a notebook lives in
	 * the workspace (absolute path) or in the job's git checkout
	 * (relative): notebook_path is never a URI (jobs-api.md §2.2). */
	bad("{'tasks':[" NB("a", "dbfs:/nb") "]}", 21, MODEL_INVALID,
	    "'tasks[0].notebook_task.notebook_path'", NULL);
	bad("{'tasks':[" NB("a", "file:/etc/passwd") "]}", 21, MODEL_INVALID,
	    "'tasks[0].notebook_task.notebook_path'", NULL);
	bad("{'tasks':[" NB("a", "Users/me:/nb") "]}", 21, MODEL_INVALID,
	    "'tasks[0].notebook_task.notebook_path'", NULL);
}

static void test_parse_sql_file_git_source_requires_git_source(void **state)
{
	(void)state;
	/* As for notebook_task.source: GIT without a git_source is refused,
	 * rather than accepting a relative path that names nothing. */
	bad("{'tasks':[{'task_key':'q','sql_task':{'warehouse_id':'w','file':{'path':'q.sql',"
	    "'source':'GIT'}}}]}",
	    21, MODEL_INVALID, "source is GIT but the job has no git_source", NULL);
}

#define GIT                                              \
	"'git_source':{'git_url':'https://github.com/o/" \
	"r','git_provider':'github','git_branch':'main'}"

static void test_parse_git_relative_paths_and_uris_allowed(void **state)
{
	(void)state;
	static const char body[] =
		"{" GIT
		",'tasks':[" NB("a", "notebooks/etl") ","
						      "{'task_key':'p','spark_python_task':{'"
						      "python_file':'src/main.py'}},"
						      "{'task_key':'q','sql_task':{'warehouse_id':'"
						      "w','file':{'path':'q/x.sql'}}},"
						      "{'task_key':'d','dbt_task':{'commands':['"
						      "dbt run'],'project_directory':'dbt'}}]}";
	accepted(body, 21);
	/* GIT paths still must not climb out of the checkout. */
	bad("{" GIT ",'tasks':[" NB("a", "notebooks/../../etc") "]}", 21, MODEL_INVALID, "'..'",
	    NULL);
	/* With source WORKSPACE, the path is a workspace path again. */
	bad("{" GIT ",'tasks':[{'task_key':'a','notebook_task':{'notebook_path':'rel',"
	    "'source':'WORKSPACE'}}]}",
	    21, MODEL_INVALID, "absolute", NULL);
	/* URIs are not workspace paths. */
	accepted("{'tasks':[{'task_key':'p','spark_python_task':{'python_file':'dbfs:/s/a.py'}},"
		 "{'task_key':'q','spark_python_task':{'python_file':'s3://bucket/b.py'}}]}",
		 21);
}

static void test_parse_nulls_dropped(void **state)
{
	(void)state;
	json_t *s =
		ok("{'description':null,'schedule':null,'tasks':[{'task_key':'a',"
		   "'timeout_seconds':null,'notebook_task':{'notebook_path':'/a','source':null},"
		   "'existing_cluster_id':null}]}",
		   21);
	assert_null(json_object_get(s, "description"));
	assert_null(json_object_get(s, "schedule"));
	json_t *t = task_at(s, 0);
	assert_null(json_object_get(t, "timeout_seconds"));
	assert_null(json_object_get(t, "existing_cluster_id"));
	assert_null(json_object_get(json_object_get(t, "notebook_task"), "source"));
	json_decref(s);
	/* A null name is unset, so the default applies. */
	s = ok("{'name':null}", 22);
	assert_string_equal(str_at(s, "name"), "Untitled");
	json_decref(s);
}

static void test_parse_21_null_single_task_fields_are_unset(void **state)
{
	(void)state;
	/* null means "not set" (schema.h), so a client that serializes every
	 * optional field (null for the unset ones) sends a valid 2.1 body. */
	json_t *in = J("{'name':'n','existing_cluster_id':null,'notebook_task':null,"
		       "'tasks':[" NB("a", "/a") "]}");
	json_t *out = NULL;
	enum job_format f;
	struct model_error err = {0};
	int rc = job_settings_parse(in, 21, "", JOB_CREATE, &LIM, &out, &f, &err);
	bool clean = rc == 0 && !json_object_get(out, "existing_cluster_id") &&
		     !json_object_get(out, "notebook_task");
	json_decref(rc == 0 ? out : NULL);
	if (rc != 0)
		fail_msg("rejected: %s", err.message);
	assert_true(clean);
}

static void test_parse_int64_decimal_strings_accepted(void **state)
{
	(void)state;
	json_t *s = ok("{'tasks':[{'task_key':'r','run_job_task':{'job_id':'9007199254740993'}}],"
		       "'health':{'rules':[{'metric':'RUN_DURATION_SECONDS','op':'GREATER_THAN',"
		       "'value':'-12'}]}}",
		       21);
	json_t *id = json_object_get(json_object_get(task_at(s, 0), "run_job_task"), "job_id");
	assert_true(json_is_integer(id));
	assert_int_equal(json_integer_value(id), 9007199254740993LL);
	json_t *v = json_object_get(
		json_array_get(json_object_get(json_object_get(s, "health"), "rules"), 0), "value");
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), -12);
	json_decref(s);

	bad("{'tasks':[{'task_key':'r','run_job_task':{'job_id':'12x'}}]}", 21, MODEL_MALFORMED,
	    "'tasks[0].run_job_task.job_id'", NULL);
	bad("{'tasks':[{'task_key':'r','run_job_task':{'job_id':''}}]}", 21, MODEL_MALFORMED,
	    "'tasks[0].run_job_task.job_id'", NULL);
	bad("{'tasks':[{'task_key':'r','run_job_task':{'job_id':'99999999999999999999'}}]}", 21,
	    MODEL_MALFORMED, "'tasks[0].run_job_task.job_id'", NULL);
}

static void test_parse_unknown_fields_kept(void **state)
{
	(void)state;
	json_t *s = ok("{'x_new_feature':{'a':[1,null]},'tasks':[{'task_key':'a','x_task':true,"
		       "'notebook_task':{'notebook_path':'/a','x_inner':'v'}}]}",
		       21);
	assert_json_is(json_object_get(s, "x_new_feature"), "{'a':[1,null]}");
	assert_true(json_is_true(json_object_get(task_at(s, 0), "x_task")));
	assert_string_equal(str_at(json_object_get(task_at(s, 0), "notebook_task"), "x_inner"),
			    "v");
	json_decref(s);
}

/* --- update --------------------------------------------------------------------------- */

static const char CURRENT[] =
	"{'name':'j','email_notifications':{'on_start':['a@x']},"
	"'schedule':{'quartz_cron_expression':'0 0 * * * ?','timezone_id':'UTC'},"
	"'tasks':[{'task_key':'A','job_cluster_key':'c1','notebook_task':{'notebook_path':'/a'}},"
	"{'task_key':'B','notebook_task':{'notebook_path':'/b'},'depends_on':[{'task_key':'A'}]}],"
	"'job_clusters':[{'job_cluster_key':'c1','new_cluster':{'num_workers':1}},"
	"{'job_cluster_key':'c2','new_cluster':{'num_workers':2}}],"
	"'parameters':[{'name':'p1','default':'1'},{'name':'p2','default':'2'}],"
	"'environments':[{'environment_key':'e1'},{'environment_key':'e2'}]}";

static json_t *current_multi(void) { return ok(CURRENT, 21); }

/* For cases that fail on purpose while holding current: cmocka runs the
 * teardown even after a failed assertion, so nothing leaks. */
static int multi_setup(void **state)
{
	*state = current_multi();
	return 0;
}

static int multi_teardown(void **state)
{
	json_decref(*state);
	return 0;
}

/* Runs an update that must succeed; checks that current is untouched. */
static json_t *update_ok(const json_t *cur, enum job_format cur_fmt, const char *new_settings,
			 const char *ftr, int version, enum job_format *fmt)
{
	json_t *ns = new_settings ? J(new_settings) : NULL;
	json_t *fr = ftr ? J(ftr) : NULL;
	json_t *before = json_deep_copy(cur);
	json_t *out = NULL;
	struct model_error err = {0};
	int rc = job_settings_update(cur, cur_fmt, ns, fr, version, &LIM, &out, fmt, &err);
	json_decref(ns);
	json_decref(fr);
	bool same = json_equal((json_t *)cur, before);
	json_decref(before);
	if (rc != 0)
		fail_msg("update failed: %s %s", err.code, err.message);
	assert_true(same);
	return out;
}

/* Runs an update that must fail; checks current is untouched and *out not set. */
static void update_bad(const json_t *cur, enum job_format cur_fmt, const char *new_settings,
		       const char *ftr, int version, const char *code, const char *want1,
		       const char *want2)
{
	json_t *ns = new_settings ? J(new_settings) : NULL;
	json_t *fr = ftr ? J(ftr) : NULL;
	json_t *before = json_deep_copy(cur);
	json_t *sentinel = (json_t *)(uintptr_t)0x1, *out = sentinel;
	enum job_format fmt;
	struct model_error err = {0};
	int rc = job_settings_update(cur, cur_fmt, ns, fr, version, &LIM, &out, &fmt, &err);
	json_decref(ns);
	json_decref(fr);
	bool same = json_equal((json_t *)cur, before);
	json_decref(before);
	if (rc == 0) {
		static char d[2048];
		size_t n = json_dumpb(out, d, sizeof(d) - 1, JSON_COMPACT);
		d[n < sizeof(d) ? n : sizeof(d) - 1] = '\0';
		json_decref(out);
		fail_msg("update accepted: %s", d);
	}
	assert_true(same);
	assert_ptr_equal(out, sentinel);
	expect_err(&err, code, want1, want2);
}

static void test_update_replaces_top_level_fields_whole(void **state)
{
	(void)state;
	json_t *cur = current_multi();
	enum job_format fmt;
	json_t *u = update_ok(cur, JOB_FORMAT_MULTI_TASK,
			      "{'name':'j2','email_notifications':{'on_failure':['b@x']},"
			      "'format':'SINGLE_TASK'}",
			      NULL, 21, &fmt);
	assert_int_equal(fmt, JOB_FORMAT_MULTI_TASK);
	assert_string_equal(str_at(u, "name"), "j2");
	assert_string_equal(str_at(u, "format"), "MULTI_TASK");
	assert_json_is(json_object_get(u, "email_notifications"), "{'on_failure':['b@x']}");
	/* Untouched fields stay. */
	assert_json_equal(json_object_get(u, "schedule"), json_object_get(cur, "schedule"));
	assert_json_equal(json_object_get(u, "tasks"), json_object_get(cur, "tasks"));
	json_decref(u);
	json_decref(cur);
}

static void test_update_merges_keyed_arrays_by_key(void **state)
{
	(void)state;
	json_t *cur = current_multi();
	enum job_format fmt;
	json_t *u = update_ok(
		cur, JOB_FORMAT_MULTI_TASK,
		"{'tasks':[{'task_key':'B','notebook_task':{'notebook_path':'/b2'}},"
		"{'task_key':'C','notebook_task':{'notebook_path':'/c'},"
		"'depends_on':[{'task_key':'B'}]}],"
		"'job_clusters':[{'job_cluster_key':'c2','new_cluster':{'num_workers':5}},"
		"{'job_cluster_key':'c3','new_cluster':{}}],"
		"'parameters':[{'name':'p1','default':'x'}],"
		"'environments':[{'environment_key':'e3'}]}",
		NULL, 22, &fmt);
	assert_json_is(json_object_get(u, "tasks"),
		       "[{'task_key':'A','job_cluster_key':'c1','notebook_task':"
		       "{'notebook_path':'/a'}},"
		       "{'task_key':'B','notebook_task':{'notebook_path':'/b2'}},"
		       "{'task_key':'C','notebook_task':{'notebook_path':'/c'},"
		       "'depends_on':[{'task_key':'B'}]}]");
	assert_json_is(json_object_get(u, "job_clusters"),
		       "[{'job_cluster_key':'c1','new_cluster':{'num_workers':1}},"
		       "{'job_cluster_key':'c2','new_cluster':{'num_workers':5}},"
		       "{'job_cluster_key':'c3','new_cluster':{}}]");
	assert_json_is(json_object_get(u, "parameters"),
		       "[{'name':'p1','default':'x'},{'name':'p2','default':'2'}]");
	assert_json_is(
		json_object_get(u, "environments"),
		"[{'environment_key':'e1'},{'environment_key':'e2'},{'environment_key':'e3'}]");
	json_decref(u);

	/* A keyed array the job does not have yet is simply set. */
	json_t *bare = ok("{'name':'b'}", 21);
	u = update_ok(bare, JOB_FORMAT_MULTI_TASK, "{'tasks':[" NB("n", "/n") "]}", NULL, 21, &fmt);
	assert_int_equal(json_array_size(json_object_get(u, "tasks")), 1);
	json_decref(u);
	json_decref(bare);
	json_decref(cur);
}

static void test_update_fields_to_remove(void **state)
{
	(void)state;
	json_t *cur = current_multi();
	enum job_format fmt;
	json_t *u =
		update_ok(cur, JOB_FORMAT_MULTI_TASK, NULL,
			  "['schedule','tasks/B','tasks/nope','job_clusters/c2','parameters/p2',"
			  "'environments/e1','no_such_field','bogus/x','tasks/']",
			  21, &fmt);
	assert_null(json_object_get(u, "schedule"));
	assert_json_is(
		json_object_get(u, "tasks"),
		"[{'task_key':'A','job_cluster_key':'c1','notebook_task':{'notebook_path':'/a'}}]");
	assert_json_is(json_object_get(u, "job_clusters"),
		       "[{'job_cluster_key':'c1','new_cluster':{'num_workers':1}}]");
	assert_json_is(json_object_get(u, "parameters"), "[{'name':'p1','default':'1'}]");
	assert_json_is(json_object_get(u, "environments"), "[{'environment_key':'e2'}]");
	json_decref(u);

	/* Removing what is not there is a no-op, so a retried update succeeds. */
	u = update_ok(cur, JOB_FORMAT_MULTI_TASK, NULL, "['tasks/zzz','trigger']", 21, &fmt);
	assert_json_equal(u, cur);
	json_decref(u);

	/* fields_to_remove runs before new_settings. */
	u = update_ok(cur, JOB_FORMAT_MULTI_TASK, "{'tasks':[" NB("B", "/new-b") "]}",
		      "['tasks/B']", 21, &fmt);
	assert_int_equal(json_array_size(json_object_get(u, "tasks")), 2);
	assert_string_equal(
		str_at(json_object_get(task_at(u, 1), "notebook_task"), "notebook_path"), "/new-b");
	json_decref(u);
	json_decref(cur);
}

static void test_update_result_validated_as_a_whole(void **state)
{
	(void)state;
	json_t *cur = current_multi();
	/* B depends on A. */
	update_bad(cur, JOB_FORMAT_MULTI_TASK, NULL, "['tasks/A']", 21, MODEL_INVALID,
		   "no task with this task_key", NULL);
	/* A uses c1. */
	update_bad(cur, JOB_FORMAT_MULTI_TASK, NULL, "['job_clusters/c1']", 21, MODEL_INVALID,
		   "job_cluster_key 'c1'", NULL);
	/* A new task that closes a cycle with the kept ones. */
	update_bad(cur, JOB_FORMAT_MULTI_TASK,
		   "{'tasks':[{'task_key':'A','job_cluster_key':'c1','notebook_task':"
		   "{'notebook_path':'/a'},'depends_on':[{'task_key':'B'}]}]}",
		   NULL, 21, MODEL_INVALID, "form a cycle", NULL);
	/* Type errors name the path in new_settings. */
	update_bad(cur, JOB_FORMAT_MULTI_TASK, "{'tasks':[{'task_key':7}]}", NULL, 21,
		   MODEL_MALFORMED, "'new_settings.tasks[0].task_key'", NULL);
	update_bad(cur, JOB_FORMAT_MULTI_TASK, "{'max_concurrent_runs':5000}", NULL, 22,
		   MODEL_INVALID, "'new_settings.max_concurrent_runs'", NULL);
	update_bad(cur, JOB_FORMAT_MULTI_TASK,
		   "{'trigger':{'periodic':{'interval':1,'unit':'DAYS'}}}", NULL, 21, MODEL_INVALID,
		   "specify only one of schedule, trigger, continuous", NULL);
	json_decref(cur);
}

static void test_update_cross_task_errors_name_the_clients_path(void **state)
{
	json_t *cur = *state;
	/* The client sent the new task as new_settings.tasks[0]; the merged
	 * array has it at [2], a position the request does not have. */
	update_bad(cur, JOB_FORMAT_MULTI_TASK,
		   "{'tasks':[{'task_key':'C','notebook_task':{'notebook_path':'/c'},"
		   "'depends_on':[{'task_key':'zz'}]}]}",
		   NULL, 21, MODEL_INVALID, "new_settings.tasks[0].depends_on[0]", NULL);
}

static void test_update_duplicate_keys_in_new_settings_rejected(void **state)
{
	json_t *cur = *state;
	/* jobs/create refuses a task_key twice; an update that sends one twice
	 * is just as ambiguous and must not silently keep the last one. */
	update_bad(cur, JOB_FORMAT_MULTI_TASK,
		   "{'tasks':[{'task_key':'C','notebook_task':{'notebook_path':'/c1'}},"
		   "{'task_key':'C','notebook_task':{'notebook_path':'/c2'}}]}",
		   NULL, 21, MODEL_INVALID, "Duplicate task_key 'C'", NULL);
	update_bad(cur, JOB_FORMAT_MULTI_TASK,
		   "{'parameters':[{'name':'p1','default':'a'},{'name':'p1','default':'b'}]}", NULL,
		   22, MODEL_INVALID, "Duplicate name 'p1'", NULL);
}

static void test_update_input_shapes(void **state)
{
	(void)state;
	json_t *cur = current_multi();
	update_bad(cur, JOB_FORMAT_MULTI_TASK, "[]", NULL, 21, MODEL_MALFORMED, "'new_settings'",
		   "must be an object");
	update_bad(cur, JOB_FORMAT_MULTI_TASK, NULL, "'schedule'", 21, MODEL_MALFORMED,
		   "'fields_to_remove'", "must be an array");
	update_bad(cur, JOB_FORMAT_MULTI_TASK, NULL, "['schedule',3]", 21, MODEL_MALFORMED,
		   "'fields_to_remove[1]'", "must be a string");
	/* 2.1 refuses the single-task fields; 2.0 refuses them on a multi-task job. */
	update_bad(cur, JOB_FORMAT_MULTI_TASK, "{'existing_cluster_id':'c'}", NULL, 21,
		   MODEL_INVALID, "'new_settings.existing_cluster_id'", "put it in a task");
	update_bad(cur, JOB_FORMAT_MULTI_TASK, "{'notebook_task':{'notebook_path':'/x'}}", NULL, 20,
		   MODEL_INVALID, "'new_settings.notebook_task'", "multi-task job");
	/* Nothing to do is fine: the settings come back unchanged. */
	enum job_format fmt;
	json_t *u = update_ok(cur, JOB_FORMAT_MULTI_TASK, NULL, NULL, 21, &fmt);
	assert_json_equal(u, cur);
	json_decref(u);
	u = update_ok(cur, JOB_FORMAT_MULTI_TASK, "{}", "[]", 22, &fmt);
	assert_json_equal(u, cur);
	json_decref(u);
	json_decref(cur);
}

static json_t *current_single(void)
{
	json_t *given = fixture("create-job.json");
	json_t *s = parse_lim(given, 20, JOB_CREATE, &LIM, NULL);
	return s;
}

static void test_update_20_single_task_fixture(void **state)
{
	(void)state;
	json_t *cur = current_single();
	json_t *body = fixture("update-job.json");
	json_t *out = NULL;
	enum job_format fmt;
	struct model_error err = {0};
	int rc = job_settings_update(
		cur, JOB_FORMAT_SINGLE_TASK, json_object_get(body, "new_settings"),
		json_object_get(body, "fields_to_remove"), 20, &LIM, &out, &fmt, &err);
	if (rc)
		fail_msg("update failed: %s", err.message);
	assert_int_equal(fmt, JOB_FORMAT_SINGLE_TASK);
	json_t *v20 = job_settings_emit(out, 20);
	/* existing_cluster_id replaced new_cluster; libraries removed. */
	assert_json_is(v20,
		       "{'name':'Nightly model training','existing_cluster_id':'1201-my-cluster',"
		       "'email_notifications':{'on_start':['someone@example.com'],'on_success':[],"
		       "'on_failure':[]},'timeout_seconds':3600,'max_retries':1,"
		       "'schedule':{'quartz_cron_expression':'0 15 22 * * ?','timezone_id':"
		       "'America/Los_Angeles','pause_status':'UNPAUSED'},'spark_jar_task':"
		       "{'main_class_name':'com.databricks.ComputeModels'},"
		       "'max_concurrent_runs':1,'format':'SINGLE_TASK'}");
	/* The task keeps its key. */
	assert_string_equal(str_at(task_at(out, 0), "task_key"),
			    str_at(task_at(cur, 0), "task_key"));
	json_decref(v20);
	json_decref(out);
	json_decref(body);
	json_decref(cur);
}

static void test_update_20_single_task_replaces_groups(void **state)
{
	(void)state;
	json_t *cur = current_single();
	enum job_format fmt;
	/* A new task kind replaces the old one. */
	json_t *u = update_ok(cur, JOB_FORMAT_SINGLE_TASK,
			      "{'notebook_task':{'notebook_path':'/nb'},'name':'renamed'}", NULL,
			      20, &fmt);
	assert_int_equal(fmt, JOB_FORMAT_SINGLE_TASK);
	json_t *t = task_at(u, 0);
	assert_null(json_object_get(t, "spark_jar_task"));
	assert_non_null(json_object_get(t, "notebook_task"));
	assert_non_null(json_object_get(t, "new_cluster")); /* other groups kept */
	assert_non_null(json_object_get(t, "libraries"));
	assert_string_equal(str_at(t, "task_key"), "Nightly_model_training"); /* not renamed */
	assert_int_equal(json_array_size(json_object_get(u, "tasks")), 1);
	json_decref(u);

	/* new_cluster replaces existing_cluster_id and vice versa. */
	u = update_ok(cur, JOB_FORMAT_SINGLE_TASK, "{'existing_cluster_id':'c9'}", NULL, 20, &fmt);
	assert_null(json_object_get(task_at(u, 0), "new_cluster"));
	json_t *back = update_ok(u, JOB_FORMAT_SINGLE_TASK, "{'new_cluster':{'num_workers':3}}",
				 NULL, 20, &fmt);
	assert_null(json_object_get(task_at(back, 0), "existing_cluster_id"));
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(task_at(back, 0), "new_cluster"), "num_workers")),
			 3);
	json_decref(back);
	json_decref(u);

	/* Errors leave current untouched and name the field. */
	update_bad(cur, JOB_FORMAT_SINGLE_TASK, "{'max_retries':'many'}", NULL, 20, MODEL_MALFORMED,
		   "'new_settings.max_retries'", NULL);
	update_bad(cur, JOB_FORMAT_SINGLE_TASK, "{'notebook_task':{'notebook_path':'rel'}}", NULL,
		   20, MODEL_INVALID, "'new_settings.notebook_task.notebook_path'", "absolute");
	json_decref(cur);
}

static void test_update_21_touching_tasks_makes_single_task_multi(void **state)
{
	(void)state;
	json_t *cur = current_single();
	enum job_format fmt;
	/* Not touching tasks keeps the format. */
	json_t *u = update_ok(cur, JOB_FORMAT_SINGLE_TASK, "{'name':'x'}", NULL, 21, &fmt);
	assert_int_equal(fmt, JOB_FORMAT_SINGLE_TASK);
	assert_string_equal(str_at(u, "format"), "SINGLE_TASK");
	json_decref(u);

	u = update_ok(cur, JOB_FORMAT_SINGLE_TASK, "{'tasks':[" NB("extra", "/e") "]}", NULL, 21,
		      &fmt);
	assert_int_equal(fmt, JOB_FORMAT_MULTI_TASK);
	assert_string_equal(str_at(u, "format"), "MULTI_TASK");
	assert_int_equal(json_array_size(json_object_get(u, "tasks")), 2);
	/* A multi-task job reads the same through 2.0. */
	assert_emits(u, 20, u);
	json_decref(u);

	/* Removing the task by key also touches tasks. */
	u = update_ok(cur, JOB_FORMAT_SINGLE_TASK, NULL, "['tasks/Nightly_model_training']", 20,
		      &fmt);
	assert_int_equal(fmt, JOB_FORMAT_MULTI_TASK);
	assert_int_equal(json_array_size(json_object_get(u, "tasks")), 0);
	json_decref(u);
	json_decref(cur);
}

/* --- emit / brief / page ------------------------------------------------------------------- */

static void test_texts_full_and_brief(void **state)
{
	(void)state;
	json_t *cur = current_multi();
	json_t *before = json_deep_copy(cur);
	char *full, *brief;
	job_settings_texts(cur, &full, &brief);
	json_t *f = J(full), *b = J(brief);
	assert_json_equal(f, cur); /* the full text is the settings, members reordered */
	assert_null(json_object_get(b, "tasks"));
	assert_null(json_object_get(b, "job_clusters"));
	json_t *want = json_deep_copy(cur);
	json_object_del(want, "tasks");
	json_object_del(want, "job_clusters");
	assert_json_equal(b, want);
	assert_json_equal(cur, before); /* the input is left as it was */
	json_decref(want);
	json_decref(f);
	json_decref(b);
	free(full);
	free(brief);
	json_decref(before);
	json_decref(cur);
}

static void test_texts_of_settings_with_only_tasks(void **state)
{
	(void)state;
	json_t *s = J("{'tasks':[{'task_key':'a'}]}");
	char *full, *brief;
	job_settings_texts(s, &full, &brief);
	assert_string_equal(brief, "{}");
	assert_string_equal(full, "{\"tasks\":[{\"task_key\":\"a\"}]}");
	free(full);
	free(brief);
	json_decref(s);
}

static json_t *keyed_array(const char *key_member, const char *prefix, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++) {
		char k[32];
		snprintf(k, sizeof(k), "%s%d", prefix, i);
		json_array_append_new(a, json_pack("{s:s}", key_member, k));
	}
	return a;
}

static const char *key_of(const json_t *settings, const char *array, const char *member, size_t i)
{
	return str_at(json_array_get(json_object_get(settings, array), i), member);
}

static void test_page_250_tasks_in_pages_of_100(void **state)
{
	(void)state;
	json_t *s = json_pack("{s:s, s:o, s:o, s:o}", "name", "big", "tasks",
			      keyed_array("task_key", "t", 250), "parameters",
			      keyed_array("name", "p", 150), "job_clusters",
			      keyed_array("job_cluster_key", "c", 3));
	json_t *before = json_deep_copy(s);
	static const struct {
		size_t tasks, params, clusters;
		bool more;
		const char *first;
	} want[] = {
		{100, 100, 3, true, "t0"},
		{100, 50, 0, true, "t100"},
		{50, 0, 0, false, "t200"},
		{0, 0, 0, false, NULL},
	};
	for (long page = 0; page < 4; page++) {
		bool more = !want[page].more;
		json_t *p = job_settings_page(s, page, &more);
		assert_int_equal(json_array_size(json_object_get(p, "tasks")), want[page].tasks);
		assert_int_equal(json_array_size(json_object_get(p, "parameters")),
				 want[page].params);
		assert_int_equal(json_array_size(json_object_get(p, "job_clusters")),
				 want[page].clusters);
		assert_int_equal(more, want[page].more);
		if (want[page].first)
			assert_string_equal(key_of(p, "tasks", "task_key", 0), want[page].first);
		assert_string_equal(str_at(p, "name"), "big");
		json_decref(p);
	}
	bool more;
	json_t *p = job_settings_page(s, 1, &more);
	assert_string_equal(key_of(p, "tasks", "task_key", 99), "t199");
	assert_string_equal(key_of(p, "parameters", "name", 49), "p149");
	json_decref(p);
	assert_json_equal(s, before); /* the input is not modified */
	assert_int_equal(job_settings_paged_len(s), 250);
	json_decref(before);
	json_decref(s);
}

static void test_page_boundaries(void **state)
{
	(void)state;
	/* Exactly 100: one page, no more. */
	json_t *s = json_pack("{s:o}", "tasks", keyed_array("task_key", "t", 100));
	bool more = true;
	json_t *p = job_settings_page(s, 0, &more);
	assert_false(more);
	assert_int_equal(json_array_size(json_object_get(p, "tasks")), 100);
	json_decref(p);
	json_decref(s);
	/* 101: the second page holds one. */
	s = json_pack("{s:o}", "environments", keyed_array("environment_key", "e", 101));
	p = job_settings_page(s, 0, &more);
	assert_true(more);
	json_decref(p);
	p = job_settings_page(s, 1, &more);
	assert_false(more);
	assert_int_equal(json_array_size(json_object_get(p, "environments")), 1);
	assert_string_equal(key_of(p, "environments", "environment_key", 0), "e100");
	json_decref(p);
	json_decref(s);
	/* No arrays at all. */
	s = J("{'name':'n'}");
	p = job_settings_page(s, 0, &more);
	assert_false(more);
	assert_json_equal(p, s);
	json_decref(p);
	json_decref(s);
}

static void test_page_far_beyond_the_end_is_empty(void **state)
{
	(void)state;
	/* Page numbers come from client page tokens (any int64 >= 0): a page
	 * past the end must be empty, never a wrapped-around earlier page. */
	json_t *s = json_pack("{s:o}", "tasks", keyed_array("task_key", "t", 250));
	static const long pages[] = {1000, 1L << 62, (1L << 62) + 1, LONG_MAX};
	char report[512] = "";
	size_t used = 0;
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		bool more = true;
		json_t *p = job_settings_page(s, pages[i], &more);
		size_t n = json_array_size(json_object_get(p, "tasks"));
		json_decref(p);
		if ((n != 0 || more) && used < sizeof(report))
			used += (size_t)snprintf(report + used, sizeof(report) - used,
						 "\n  page %ld: %zu tasks, more=%d (want 0, false)",
						 pages[i], n, more);
	}
	json_decref(s);
	if (used)
		fail_msg("%s", report);
}

static void test_paged_len_is_the_longest_paged_array(void **state)
{
	(void)state;
	json_t *s = json_pack("{s:o, s:o, s:o, s:o, s:o}", "tasks", keyed_array("task_key", "t", 3),
			      "job_clusters", keyed_array("job_cluster_key", "c", 7), "parameters",
			      keyed_array("name", "p", 5), "environments",
			      keyed_array("environment_key", "e", 2), "tags",
			      json_pack("{s:s}", "a", "b"));
	assert_int_equal(job_settings_paged_len(s), 7);
	json_decref(s);
	s = J("{}");
	assert_int_equal(job_settings_paged_len(s), 0);
	json_decref(s);
}

static void test_name_key_lower_cases(void **state)
{
	(void)state;
	json_t *s = J("{'name':'My JOB \xc3\x89t\xc3\xa9 42'}");
	char *k = job_name_key(s);
	assert_string_equal(k, "my job \xc3\x89t\xc3\xa9 42"); /* ASCII only is folded */
	free(k);
	json_decref(s);
	s = J("{}");
	k = job_name_key(s);
	assert_string_equal(k, "");
	free(k);
	json_decref(s);
}

static void test_run_as_user(void **state)
{
	(void)state;
	json_t *s = J("{'run_as':{'user_name':'u@x'}}");
	assert_string_equal(job_run_as_user(s, "creator"), "u@x");
	json_decref(s);
	s = J("{'run_as':{'service_principal_name':'sp-1'}}");
	assert_string_equal(job_run_as_user(s, "creator"), "sp-1");
	json_decref(s);
	s = J("{'run_as':{'group_name':'g'}}");
	assert_string_equal(job_run_as_user(s, "creator"), "creator");
	json_decref(s);
	s = J("{}");
	assert_string_equal(job_run_as_user(s, "creator"), "creator");
	json_decref(s);
}

static void test_format_of_settings(void **state)
{
	(void)state;
	json_t *s = J("{'format':'SINGLE_TASK'}");
	assert_int_equal(job_settings_format(s), JOB_FORMAT_SINGLE_TASK);
	json_decref(s);
	s = J("{'format':'MULTI_TASK'}");
	assert_int_equal(job_settings_format(s), JOB_FORMAT_MULTI_TASK);
	json_decref(s);
	s = J("{}");
	assert_int_equal(job_settings_format(s), JOB_FORMAT_MULTI_TASK);
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_20_single_task_fixture_round_trips_with_defaults),
		cmocka_unit_test(test_parse_20_single_task_reads_through_21_as_one_task),
		cmocka_unit_test(test_parse_20_single_task_key_from_name_or_untitled),
		cmocka_unit_test(test_parse_20_without_task_members_has_no_task),
		cmocka_unit_test(test_parse_20_with_tasks_is_multi_task),
		cmocka_unit_test(test_parse_20_tasks_combined_with_single_task_fields_rejected),
		cmocka_unit_test(test_parse_20_single_task_errors_use_top_level_paths),
		cmocka_unit_test(test_parse_21_multi_task_fixture_round_trips),
		cmocka_unit_test(test_parse_22_create_adds_queue_to_fixture),
		cmocka_unit_test(test_parse_defaults),
		cmocka_unit_test(test_parse_queue_default_only_for_22_create),
		cmocka_unit_test(test_parse_pause_status_defaults_to_unpaused),
		cmocka_unit_test(test_parse_format_input_ignored),
		cmocka_unit_test(test_parse_steals_input_reference),
		cmocka_unit_test(test_parse_21_and_22_reject_single_task_fields),
		cmocka_unit_test(test_parse_wrong_types_are_malformed_with_path),
		cmocka_unit_test(test_parse_wrong_types_under_prefix),
		cmocka_unit_test(test_parse_invalid_values_name_the_field),
		cmocka_unit_test(test_parse_nested_for_each_task_rejected),
		cmocka_unit_test(test_parse_name_length_limit),
		cmocka_unit_test(test_parse_task_key_length_limit),
		cmocka_unit_test(test_parse_dbt_commands_longer_than_ten_bytes_accepted),
		cmocka_unit_test(test_parse_cluster_ssh_public_keys_accept_real_keys),
		cmocka_unit_test(test_parse_duplicate_task_key),
		cmocka_unit_test(test_parse_depends_on_errors),
		cmocka_unit_test(test_parse_outcome_only_under_condition_parents),
		cmocka_unit_test(test_parse_cycles_rejected),
		cmocka_unit_test(test_parse_long_chain_is_not_a_cycle),
		cmocka_unit_test(test_parse_cluster_and_environment_references),
		cmocka_unit_test(test_parse_max_tasks),
		cmocka_unit_test(test_parse_max_tags),
		cmocka_unit_test(test_parse_workspace_paths),
		cmocka_unit_test(test_parse_notebook_path_uri_rejected),
		cmocka_unit_test(test_parse_sql_file_git_source_requires_git_source),
		cmocka_unit_test(test_parse_git_relative_paths_and_uris_allowed),
		cmocka_unit_test(test_parse_nulls_dropped),
		cmocka_unit_test(test_parse_21_null_single_task_fields_are_unset),
		cmocka_unit_test(test_parse_int64_decimal_strings_accepted),
		cmocka_unit_test(test_parse_unknown_fields_kept),
		cmocka_unit_test(test_update_replaces_top_level_fields_whole),
		cmocka_unit_test(test_update_merges_keyed_arrays_by_key),
		cmocka_unit_test(test_update_fields_to_remove),
		cmocka_unit_test(test_update_result_validated_as_a_whole),
		cmocka_unit_test_setup_teardown(test_update_cross_task_errors_name_the_clients_path,
						multi_setup, multi_teardown),
		cmocka_unit_test_setup_teardown(test_update_duplicate_keys_in_new_settings_rejected,
						multi_setup, multi_teardown),
		cmocka_unit_test(test_update_input_shapes),
		cmocka_unit_test(test_update_20_single_task_fixture),
		cmocka_unit_test(test_update_20_single_task_replaces_groups),
		cmocka_unit_test(test_update_21_touching_tasks_makes_single_task_multi),
		cmocka_unit_test(test_texts_full_and_brief),
		cmocka_unit_test(test_texts_of_settings_with_only_tasks),
		cmocka_unit_test(test_page_250_tasks_in_pages_of_100),
		cmocka_unit_test(test_page_boundaries),
		cmocka_unit_test(test_page_far_beyond_the_end_is_empty),
		cmocka_unit_test(test_paged_len_is_the_longest_paged_array),
		cmocka_unit_test(test_name_key_lower_cases),
		cmocka_unit_test(test_run_as_user),
		cmocka_unit_test(test_format_of_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
