/* run_test.c - unit tests for src/model/run.c (the names of the run enums).
 *
 * The expected names are written out here, not derived from run.c's tables,
 * so a name typed wrong in either place, or an enum reordered in run.h
 * without its table, fails. Every name must parse back to its value.
 * Pure, single-threaded, no files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/run.h"

#define COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Checks one enum: names[v] is the name of value v (NULL: none), every
 * name parses back to v, and the names after the last value are NULL. */
static void check_enum(const char *const *want, int count, const char *(*name)(int),
		       int (*parse)(const char *))
{
	for (int v = 0; v < count; v++) {
		const char *got = name(v);
		if (!want[v]) {
			if (got)
				fail_msg("value %d: name \"%s\", want none", v, got);
			continue;
		}
		if (!got || strcmp(got, want[v]) != 0)
			fail_msg("value %d: name \"%s\", want \"%s\"", v, got ? got : "(null)",
				 want[v]);
		assert_int_equal(parse(want[v]), v);
	}
	assert_null(name(count));
	assert_null(name(-1));
	assert_int_equal(parse(NULL), -1);
	assert_int_equal(parse(""), -1);
}

/* Adapters from the typed functions to check_enum's int signature; the
 * casts of -1 and count test the range checks against corrupt values. */
static const char *life_name(int v) { return run_life_name((enum run_life)v); }
static const char *result_name(int v) { return run_result_name((enum run_result)v); }
static const char *if_name(int v) { return run_if_name((enum run_if)v); }
static const char *trigger_name(int v) { return run_trigger_name((enum run_trigger)v); }
static const char *type_name(int v) { return run_type_name((enum run_type)v); }
static const char *term_name(int v) { return run_term_name((enum run_term)v); }

static void test_life_cycle_state_names(void **state)
{
	(void)state;
	static const char *const want[] = {
		"QUEUED",  "PENDING",	     "RUNNING", "TERMINATING",	     "TERMINATED",
		"SKIPPED", "INTERNAL_ERROR", "BLOCKED", "WAITING_FOR_RETRY",
	};
	assert_int_equal(COUNT_OF(want), RL__COUNT);
	check_enum(want, RL__COUNT, life_name, run_life_parse);
	assert_string_equal(run_life_name(RL_WAITING_FOR_RETRY), "WAITING_FOR_RETRY");
}

static void test_result_state_names(void **state)
{
	(void)state;
	static const char *const want[] = {
		NULL,
		"SUCCESS",
		"FAILED",
		"TIMEDOUT",
		"CANCELED",
		"MAXIMUM_CONCURRENT_RUNS_REACHED",
		"EXCLUDED",
		"SUCCESS_WITH_FAILURES",
		"UPSTREAM_FAILED",
		"UPSTREAM_CANCELED",
		"DISABLED",
	};
	assert_int_equal(COUNT_OF(want), RR__COUNT);
	check_enum(want, RR__COUNT, result_name, run_result_parse);
	/* RR_NONE is "no result_state": it has no name to parse. */
	assert_null(run_result_name(RR_NONE));
	assert_int_equal(run_result_parse("NONE"), -1);
	assert_string_equal(run_result_name(RR_MAXIMUM_CONCURRENT_RUNS_REACHED),
			    "MAXIMUM_CONCURRENT_RUNS_REACHED");
	/* The wire values, not the docs' prose ("SUCCESSFUL", "TIMED_OUT"). */
	assert_int_equal(run_result_parse("SUCCESSFUL"), -1);
	assert_int_equal(run_result_parse("TIMED_OUT"), -1);
}

static void test_run_if_names(void **state)
{
	(void)state;
	static const char *const want[] = {
		"ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED",
		"ALL_DONE",    "AT_LEAST_ONE_FAILED",  "ALL_FAILED",
	};
	assert_int_equal(COUNT_OF(want), RUN_IF__COUNT);
	check_enum(want, RUN_IF__COUNT, if_name, run_if_parse);
	assert_int_equal(RUN_IF_ALL_SUCCESS, 0); /* the default is the zero value */
}

static void test_trigger_names(void **state)
{
	(void)state;
	static const char *const want[] = {
		"ONE_TIME",	"PERIODIC",   "RETRY", "RUN_JOB_TASK",
		"FILE_ARRIVAL", "CONTINUOUS", "TABLE", "CONTINUOUS_RESTART",
	};
	assert_int_equal(COUNT_OF(want), TRIGGER__COUNT);
	check_enum(want, TRIGGER__COUNT, trigger_name, run_trigger_parse);
}

static void test_run_type_names(void **state)
{
	(void)state;
	static const char *const want[] = {"JOB_RUN", "WORKFLOW_RUN", "SUBMIT_RUN"};
	assert_int_equal(COUNT_OF(want), RUN_TYPE__COUNT);
	check_enum(want, RUN_TYPE__COUNT, type_name, run_type_parse);
}

static void test_termination_code_names(void **state)
{
	(void)state;
	static const char *const want[] = {
		NULL,
		"SUCCESS",
		"SUCCESS_WITH_FAILURES",
		"USER_CANCELED",
		"CANCELED",
		"SKIPPED",
		"INTERNAL_ERROR",
		"RUN_EXECUTION_ERROR",
		"DRIVER_ERROR",
		"RESOURCE_NOT_FOUND",
		"INVALID_RUN_CONFIGURATION",
		"MAX_CONCURRENT_RUNS_EXCEEDED",
		"MAX_JOB_QUEUE_SIZE_EXCEEDED",
		"WORKSPACE_RUN_LIMIT_EXCEEDED",
		"DISABLED",
		"FEATURE_DISABLED",
	};
	assert_int_equal(COUNT_OF(want), TERM__COUNT);
	check_enum(want, TERM__COUNT, term_name, run_term_parse);
	assert_null(run_term_name(TERM_NONE));
}

static void test_parse_is_exact(void **state)
{
	(void)state;
	/* The API's enums are upper case; clients send them so. */
	assert_int_equal(run_life_parse("terminated"), -1);
	assert_int_equal(run_result_parse("Success"), -1);
	assert_int_equal(run_if_parse(" ALL_DONE"), -1);
	assert_int_equal(run_if_parse("ALL_DONE "), -1);
	assert_int_equal(run_trigger_parse("PERIODIC\n"), -1);
	assert_int_equal(run_type_parse("JOB"), -1);
	assert_int_equal(run_term_parse("SUCCESS_"), -1);
	/* Names shared by two enums parse in each. */
	assert_int_equal(run_life_parse("SKIPPED"), RL_SKIPPED);
	assert_int_equal(run_term_parse("SKIPPED"), TERM_SKIPPED);
	assert_int_equal(run_result_parse("DISABLED"), RR_DISABLED);
	assert_int_equal(run_term_parse("DISABLED"), TERM_DISABLED);
}

static void test_terminal_life_cycle_states(void **state)
{
	(void)state;
	for (int v = 0; v < RL__COUNT; v++) {
		bool want = v == RL_TERMINATED || v == RL_SKIPPED || v == RL_INTERNAL_ERROR;
		if (run_life_terminal((enum run_life)v) != want)
			fail_msg("%s: terminal %d, want %d", run_life_name((enum run_life)v), !want,
				 want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_life_cycle_state_names),
		cmocka_unit_test(test_result_state_names),
		cmocka_unit_test(test_run_if_names),
		cmocka_unit_test(test_trigger_names),
		cmocka_unit_test(test_run_type_names),
		cmocka_unit_test(test_termination_code_names),
		cmocka_unit_test(test_parse_is_exact),
		cmocka_unit_test(test_terminal_life_cycle_states),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
