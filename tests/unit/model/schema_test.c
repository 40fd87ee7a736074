/* schema_test.c - unit tests for src/model/schema.c (declarative validation
 * of JSON request objects).
 *
 * A small hand-written schema below uses every sch_kind and every flag, so
 * the walker is tested apart from the JobSettings tables (job_test.c covers
 * those). jansson's allocator is swapped for a counting one in main(), so a
 * validation that fails half-way can be checked to leak nothing even
 * without LeakSanitizer. Pure, single-threaded.
 */
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

#include "model/schema.h"
#include "testutil.h"

/* --- counting allocator for jansson -------------------------------------------- */

static long live_allocs;

static void *count_malloc(size_t n)
{
	void *p = malloc(n);
	if (p)
		live_allocs++;
	return p;
}

static void count_free(void *p)
{
	if (p)
		live_allocs--;
	free(p);
}

/* --- the test schema ----------------------------------------------------------------- */

static const char *const colors[] = {"RED", "GREEN", NULL};

static int check_even(json_t *v, const struct sch_path *path, struct model_error *err)
{
	char w[SCH_PATH_TEXT];
	if (json_integer_value(v) % 2 == 0)
		return 0;
	return model_fail(err, 400, MODEL_INVALID, "Field '%s' must be even",
			  sch_path_text(path, w, sizeof(w)));
}

/* An object-level rule: "lo" must not exceed "hi". */
static int check_lo_hi(json_t *o, const struct sch_path *path, struct model_error *err)
{
	char w[SCH_PATH_TEXT];
	json_t *lo = json_object_get(o, "lo"), *hi = json_object_get(o, "hi");
	if (lo && hi && json_integer_value(lo) > json_integer_value(hi))
		return model_fail(err, 400, MODEL_INVALID, "'%s': lo > hi",
				  sch_path_text(path, w, sizeof(w)));
	return 0;
}

static const struct sch_field leaf_fields[] = {
	{.name = "c", .kind = SK_ARRAY, .elem = SK_INT32},
	{.name = "s", .kind = SK_STRING, .flags = SF_REQUIRED},
	{.name = NULL},
};
static const struct sch_object leaf = {"Leaf", leaf_fields, NULL};

static const struct sch_field mid_fields[] = {
	{.name = "b", .kind = SK_OBJECT, .obj = &leaf},
	{.name = "lo", .kind = SK_INT64},
	{.name = "hi", .kind = SK_INT64},
	{.name = NULL},
};
static const struct sch_object mid = {"Mid", mid_fields, check_lo_hi};

static const struct sch_field top_fields[] = {
	{.name = "str", .kind = SK_STRING, .max = 5},
	{.name = "ascii", .kind = SK_STRING, .flags = SF_ASCII},
	{.name = "nonempty", .kind = SK_STRING, .flags = SF_NONEMPTY},
	{.name = "i32", .kind = SK_INT32},
	{.name = "i32r", .kind = SK_INT32, .flags = SF_RANGE, .min = 1, .max = 10},
	{.name = "i64", .kind = SK_INT64},
	{.name = "i64r", .kind = SK_INT64, .flags = SF_RANGE, .min = 0, .max = 100},
	{.name = "i64even", .kind = SK_INT64, .check = check_even},
	{.name = "flag", .kind = SK_BOOL},
	{.name = "num", .kind = SK_NUMBER},
	{.name = "color", .kind = SK_ENUM, .enums = colors},
	{.name = "colors", .kind = SK_ARRAY, .elem = SK_ENUM, .enums = colors},
	{.name = "a", .kind = SK_ARRAY, .elem = SK_OBJECT, .obj = &mid},
	{.name = "m", .kind = SK_OBJECT, .obj = &mid},
	{.name = "strmap", .kind = SK_STRMAP, .max = 2},
	{.name = "asciimap", .kind = SK_STRMAP, .flags = SF_ASCII},
	{.name = "map", .kind = SK_MAP},
	{.name = "any", .kind = SK_ANY},
	{.name = "req", .kind = SK_STRING, .flags = SF_REQUIRED},
	{.name = "even", .kind = SK_INT32, .check = check_even},
	{.name = "names", .kind = SK_ARRAY, .elem = SK_STRING, .flags = SF_NONEMPTY, .max = 3},
	{.name = "ids", .kind = SK_ARRAY, .elem = SK_INT64},
	{.name = "small_ids",
	 .kind = SK_ARRAY,
	 .elem = SK_INT64,
	 .flags = SF_RANGE,
	 .min = 0,
	 .max = 9},
	{.name = "ascii_list", .kind = SK_ARRAY, .elem = SK_STRING, .flags = SF_ASCII},
	{.name = NULL},
};
static const struct sch_object top = {"Top", top_fields, NULL};

/* --- helpers ------------------------------------------------------------------------- */

/* Validates a literal against top (with req filled in unless given) under
 * root path `path`; returns the normalized value. */
static json_t *valid(const char *text)
{
	json_t *v = J(text);
	if (!json_object_get(v, "req"))
		json_object_set_new(v, "req", json_string("r"));
	struct model_error err = {0};
	if (sch_validate(&top, v, "", &err) != 0)
		fail_msg("%s rejected: %s %s", text, err.code, err.message);
	json_object_del(v, "req");
	return v;
}

static void invalid_at(const char *text, const char *path, const char *code, const char *want1,
		       const char *want2)
{
	json_t *v = J(text);
	if (json_is_object(v) && !json_object_get(v, "req"))
		json_object_set_new(v, "req", json_string("r"));
	struct model_error err = {0};
	int rc = sch_validate(&top, v, path, &err);
	json_decref(v);
	if (rc == 0)
		fail_msg("%s accepted, expected %s \"%s\"", text, code, want1);
	assert_int_equal(rc, -1);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, code);
	if (!strstr(err.message, want1) || (want2 && !strstr(err.message, want2)))
		fail_msg("%s: message \"%s\" lacks \"%s\" / \"%s\"", text, err.message, want1,
			 want2 ? want2 : "");
}

static void invalid(const char *text, const char *code, const char *want1, const char *want2)
{
	invalid_at(text, "", code, want1, want2);
}

/* --- paths ------------------------------------------------------------------------------ */

static void test_path_render_nested_arrays_and_objects(void **state)
{
	(void)state;
	struct sch_path root = {.root = ""};
	struct sch_path a = {.up = &root, .member = "a"};
	struct sch_path a1 = {.up = &a, .index = 1};
	struct sch_path b = {.up = &a1, .member = "b"};
	struct sch_path c = {.up = &b, .member = "c"};
	struct sch_path c0 = {.up = &c, .index = 0};
	char buf[SCH_PATH_TEXT];
	sch_path_render(&c0, buf, sizeof(buf));
	assert_string_equal(buf, "a[1].b.c[0]");
	assert_string_equal(sch_path_text(&b, buf, sizeof(buf)), "a[1].b");

	struct sch_path ns = {.root = "new_settings"};
	struct sch_path t = {.up = &ns, .member = "tasks"};
	struct sch_path t2 = {.up = &t, .index = 2};
	assert_string_equal(sch_path_text(&t2, buf, sizeof(buf)), "new_settings.tasks[2]");
	assert_string_equal(sch_path_text(&ns, buf, sizeof(buf)), "new_settings");

	/* The root alone, with or without a name; NULL root is "". */
	struct sch_path bare = {.root = NULL};
	assert_string_equal(sch_path_text(&bare, buf, sizeof(buf)), "");
	struct sch_path el = {.up = &root, .index = 7};
	assert_string_equal(sch_path_text(&el, buf, sizeof(buf)), "[7]");
}

static void test_path_render_truncates_safely(void **state)
{
	(void)state;
	struct sch_path root = {.root = "new_settings"};
	struct sch_path a = {.up = &root, .member = "a_rather_long_member_name"};
	struct sch_path a1 = {.up = &a, .index = 123456};
	struct sch_path b = {.up = &a1, .member = "b"};
	for (size_t n = 1; n < 48; n++) {
		char buf[64];
		memset(buf, 'x', sizeof(buf));
		sch_path_render(&b, buf, n);
		assert_true(strlen(buf) < n);
		assert_int_equal(buf[n], 'x'); /* nothing written past n */
		assert_true(strncmp(buf, "new_settings.a_rather_long_member_name[123456].b",
				    strlen(buf)) == 0);
	}
}

static void test_path_member_and_index(void **state)
{
	(void)state;
	char buf[64];
	sch_path_member(buf, sizeof(buf), "", "name");
	assert_string_equal(buf, "name");
	sch_path_member(buf, sizeof(buf), NULL, "name");
	assert_string_equal(buf, "name");
	sch_path_member(buf, sizeof(buf), "a.b", "c");
	assert_string_equal(buf, "a.b.c");
	sch_path_index(buf, sizeof(buf), "tasks", 3);
	assert_string_equal(buf, "tasks[3]");
	sch_path_index(buf, sizeof(buf), "", 0);
	assert_string_equal(buf, "[0]");
	sch_path_member(buf, 4, "abc", "def");
	assert_string_equal(buf, "abc");
}

static void test_json_type_names(void **state)
{
	(void)state;
	static const struct {
		const char *json, *name;
	} cases[] = {
		{"{}", "an object"},	{"[]", "an array"},  {"'s'", "a string"},
		{"1", "an integer"},	{"1.5", "a number"}, {"true", "a boolean"},
		{"false", "a boolean"}, {"null", "null"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = J(cases[i].json);
		assert_string_equal(sch_json_type_name(v), cases[i].name);
		json_decref(v);
	}
}

static void test_count_present(void **state)
{
	(void)state;
	static const char *const names[] = {"a", "b", "c", NULL};
	static const char *const none[] = {NULL};
	json_t *v = J("{'a':1,'c':null,'d':2}");
	assert_int_equal(sch_count_present(v, names), 2); /* present, even if null */
	assert_int_equal(sch_count_present(v, none), 0);
	json_decref(v);
}

/* --- kinds -------------------------------------------------------------------------------- */

static void test_valid_object_with_every_kind(void **state)
{
	(void)state;
	json_t *v =
		valid("{'str':'abcde','ascii':'plain','nonempty':'x','i32':-2147483648,"
		      "'i32r':10,'i64':9223372036854775807,'i64r':0,'i64even':4,'flag':false,"
		      "'num':1.5,'color':'GREEN','colors':['RED','GREEN'],"
		      "'a':[{'lo':1,'hi':2,'b':{'s':'','c':[1,2]}}],'m':{},"
		      "'strmap':{'k':'v','l':''},'asciimap':{'k':'v'},'map':{'x':[1,{}],'y':null},"
		      "'any':[null,true],'even':2,'names':['n'],'ids':[1],'small_ids':[9],"
		      "'ascii_list':['a']}");
	/* Nothing was changed: no nulls, no strings to convert. (A null inside
	 * a MAP or ANY value is data, not "unset".) */
	assert_json_is(v,
		       "{'str':'abcde','ascii':'plain','nonempty':'x','i32':-2147483648,"
		       "'i32r':10,'i64':9223372036854775807,'i64r':0,'i64even':4,'flag':false,"
		       "'num':1.5,'color':'GREEN','colors':['RED','GREEN'],"
		       "'a':[{'lo':1,'hi':2,'b':{'s':'','c':[1,2]}}],'m':{},"
		       "'strmap':{'k':'v','l':''},'asciimap':{'k':'v'},'map':{'x':[1,{}],'y':null},"
		       "'any':[null,true],'even':2,'names':['n'],'ids':[1],'small_ids':[9],"
		       "'ascii_list':['a']}");
	json_decref(v);
}

static void test_number_kinds(void **state)
{
	(void)state;
	json_t *v = valid("{'num':3}");
	json_decref(v);
	invalid("{'num':'3'}", MODEL_MALFORMED, "field 'num' must be a number, not a string", NULL);
	invalid("{'i32':1.0}", MODEL_MALFORMED, "field 'i32' must be an integer, not a number",
		NULL);
	/* proto3 JSON: a decimal string is an integer, but strictly digits. */
	v = valid("{'i32':'7'}");
	assert_int_equal(json_integer_value(json_object_get(v, "i32")), 7);
	json_decref(v);
	invalid("{'i32':' 7'}", MODEL_MALFORMED, "field 'i32' must be an integer, not a string",
		NULL);
	invalid("{'i32':'+7'}", MODEL_MALFORMED, "field 'i32' must be an integer, not a string",
		NULL);
	invalid("{'i32':2147483648}", MODEL_INVALID, "'i32'", "does not fit in 32 bits");
	invalid("{'i32':-2147483649}", MODEL_INVALID, "'i32'", "does not fit in 32 bits");
	invalid("{'i32r':0}", MODEL_INVALID, "'i32r': 0 is out of range (1 to 10)", NULL);
	invalid("{'i32r':11}", MODEL_INVALID, "'i32r'", "out of range");
	invalid("{'i64':true}", MODEL_MALFORMED, "field 'i64' must be an integer, not a boolean",
		NULL);
	invalid("{'flag':1}", MODEL_MALFORMED, "field 'flag' must be a boolean, not an integer",
		NULL);
	invalid("{'flag':'true'}", MODEL_MALFORMED, "'flag'", NULL);
}

static void test_int64_decimal_strings_become_integers(void **state)
{
	(void)state;
	json_t *v = valid("{'i64':'-42','i64r':'100','ids':['1','9007199254740993',3],"
			  "'a':[{'lo':'5'}],'i64even':'8'}");
	assert_json_is(v, "{'i64':-42,'i64r':100,'ids':[1,9007199254740993,3],'a':[{'lo':5}],"
			  "'i64even':8}");
	json_decref(v);
	invalid("{'i64':'12abc'}", MODEL_MALFORMED, "'i64'", "must be an integer, not a string");
	invalid("{'i64':''}", MODEL_MALFORMED, "'i64'", NULL);
	invalid("{'i64':'1.5'}", MODEL_MALFORMED, "'i64'", NULL);
	invalid("{'i64':'9223372036854775808'}", MODEL_MALFORMED, "'i64'", NULL);
	invalid("{'ids':[1,'x']}", MODEL_MALFORMED, "'ids[1]'", NULL);
}

static void test_int64_string_failing_a_later_rule_leaks_nothing(void **state)
{
	(void)state;
	/* The string is converted first, then the range or the field's check
	 * refuses the integer: the converted value must not be lost. */
	static const char *const cases[] = {
		"{'i64r':'1000','req':'r'}",
		"{'i64even':'3','req':'r'}",
	};
	char report[512] = "";
	size_t used = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long before = live_allocs;
		json_t *v = J(cases[i]);
		struct model_error err;
		assert_int_equal(sch_validate(&top, v, "", &err), -1);
		assert_string_equal(err.code, MODEL_INVALID);
		json_decref(v);
		if (live_allocs != before && used < sizeof(report))
			used += (size_t)snprintf(report + used, sizeof(report) - used,
						 "\n  %s: %ld jansson allocation(s) leaked",
						 cases[i], live_allocs - before);
	}
	if (used)
		fail_msg("%s", report);
}

static void test_string_kinds(void **state)
{
	(void)state;
	invalid("{'str':5}", MODEL_MALFORMED, "field 'str' must be a string, not an integer", NULL);
	invalid("{'str':'abcdef'}", MODEL_INVALID, "Field 'str' is too long: 6 bytes (at most 5)",
		NULL);
	invalid("{'ascii':'caf\xc3\xa9'}", MODEL_INVALID, "Field 'ascii' accepts only ASCII", NULL);
	invalid("{'nonempty':''}", MODEL_INVALID, "Field 'nonempty' must not be empty", NULL);
	invalid("{'ascii_list':['ok','\xc3\xa9']}", MODEL_INVALID, "'ascii_list[1]'", "ASCII");
	/* UTF-8 is fine where ASCII is not required; max counts bytes. */
	json_t *v = valid("{'str':'\xc3\xa9\xc3\xa9'}");
	json_decref(v);
	invalid("{'str':'\xc3\xa9\xc3\xa9\xc3\xa9'}", MODEL_INVALID, "too long", NULL);
}

static void test_enum_kinds(void **state)
{
	(void)state;
	invalid("{'color':'BLUE'}", MODEL_INVALID,
		"Invalid value 'BLUE' for field 'color': expected one of RED, GREEN", NULL);
	invalid("{'color':'red'}", MODEL_INVALID, "'color'", NULL); /* case matters */
	invalid("{'color':1}", MODEL_MALFORMED, "field 'color' must be a string", NULL);
	invalid("{'colors':['RED','PINK']}", MODEL_INVALID, "'colors[1]'", "expected one of");
	invalid("{'colors':'RED'}", MODEL_MALFORMED, "field 'colors' must be an array", NULL);
}

static void test_array_kinds(void **state)
{
	(void)state;
	invalid("{'names':[]}", MODEL_INVALID, "Field 'names' must not be empty", NULL);
	invalid("{'names':['a','b','c','d']}", MODEL_INVALID,
		"Field 'names' has 4 entries (at most 3)", NULL);
	invalid("{'colors':['RED',null]}", MODEL_MALFORMED, "'colors[1]' must not be null", NULL);
	invalid("{'a':{}}", MODEL_MALFORMED, "field 'a' must be an array, not an object", NULL);
	invalid("{'a':[1]}", MODEL_MALFORMED, "field 'a[0]' must be an object, not an integer",
		NULL);
}

static void test_array_max_caps_items_not_element_length(void **state)
{
	(void)state;
	/* .max on an array field caps its items (schema.h); the elements are
	 * strings of any length. */
	json_t *v = J("{'names':['a name longer than three bytes'],'req':'r'}");
	struct model_error err = {0};
	int rc = sch_validate(&top, v, "", &err);
	json_decref(v);
	if (rc != 0)
		fail_msg("rejected: %s", err.message);
}

static void test_map_kinds(void **state)
{
	(void)state;
	invalid("{'strmap':{'k':1}}", MODEL_MALFORMED, "field 'strmap.k' must be a string", NULL);
	invalid("{'strmap':{'a':'1','b':'2','c':'3'}}", MODEL_INVALID,
		"Field 'strmap' has 3 entries (at most 2)", NULL);
	invalid("{'strmap':[]}", MODEL_MALFORMED, "field 'strmap' must be an object, not an array",
		NULL);
	invalid("{'asciimap':{'k\xc3\xa9':'v'}}", MODEL_INVALID, "ASCII", NULL);
	invalid("{'asciimap':{'k':'v\xc3\xa9'}}", MODEL_INVALID, "'asciimap.k'", "ASCII");
	invalid("{'map':'x'}", MODEL_MALFORMED, "field 'map' must be an object, not a string",
		NULL);
	invalid("{'m':[]}", MODEL_MALFORMED, "field 'm' must be an object, not an array", NULL);
	json_t *v = valid("{'any':'s'}");
	json_decref(v);
	v = valid("{'any':{'deep':[{'x':null}]}}");
	json_decref(v);
}

/* --- flags, checks, nulls, unknown members ---------------------------------------------- */

static void test_required_fields(void **state)
{
	(void)state;
	json_t *v = J("{}");
	struct model_error err;
	assert_int_equal(sch_validate(&top, v, "", &err), -1);
	assert_string_equal(err.code, MODEL_INVALID);
	assert_string_equal(err.message, "Missing required field: req");
	json_decref(v);
	/* null is unset, so a required null is missing. */
	v = J("{'req':null}");
	assert_int_equal(sch_validate(&top, v, "", &err), -1);
	assert_string_equal(err.message, "Missing required field: req");
	json_decref(v);
	/* Deep in the tree, with the root path. */
	invalid_at("{'a':[{},{'b':{}}]}", "new_settings", MODEL_INVALID,
		   "Missing required field: new_settings.a[1].b.s", NULL);
}

static void test_error_paths_nested(void **state)
{
	(void)state;
	invalid("{'a':[{},{'b':{'s':'x','c':[1,'two']}}]}", MODEL_MALFORMED,
		"field 'a[1].b.c[1]' must be an integer, not a string", NULL);
	invalid("{'a':[{'b':{'s':'x','c':['x']}}]}", MODEL_MALFORMED, "'a[0].b.c[0]'", NULL);
	invalid_at("{'a':[{},{'b':{'s':'x','c':[true]}}]}", "new_settings", MODEL_MALFORMED,
		   "'new_settings.a[1].b.c[0]'", NULL);
	invalid("{'m':{'b':{'s':3}}}", MODEL_MALFORMED, "'m.b.s'", NULL);
}

static void test_field_and_object_checks(void **state)
{
	(void)state;
	invalid("{'even':3}", MODEL_INVALID, "Field 'even' must be even", NULL);
	json_t *v = valid("{'even':4}");
	json_decref(v);
	/* The object check runs on nested objects with their path. */
	invalid("{'a':[{'lo':1,'hi':2},{'lo':3,'hi':2}]}", MODEL_INVALID, "'a[1]': lo > hi", NULL);
	invalid_at("{'m':{'lo':9,'hi':1}}", "x", MODEL_INVALID, "'x.m': lo > hi", NULL);
	/* ... after the fields were normalized (strings already integers). */
	invalid("{'m':{'lo':'9','hi':'1'}}", MODEL_INVALID, "lo > hi", NULL);
	/* ... and not when a field already failed. */
	invalid("{'m':{'lo':'x','hi':1}}", MODEL_MALFORMED, "'m.lo'", NULL);
}

static void test_nulls_dropped_everywhere(void **state)
{
	(void)state;
	json_t *v = valid("{'str':null,'zzz':null,'a':[{'lo':null,'b':{'s':'x','c':null}}],"
			  "'m':{'hi':null}}");
	assert_json_is(v, "{'a':[{'b':{'s':'x'}}],'m':{}}");
	json_decref(v);
}

static void test_unknown_members_kept(void **state)
{
	(void)state;
	json_t *v = valid("{'unknown':{'x':'1'},'a':[{'extra':[1,2],'b':{'s':'x','more':false}}]}");
	assert_json_is(v, "{'unknown':{'x':'1'},'a':[{'extra':[1,2],'b':{'s':'x','more':false}}]}");
	json_decref(v);
}

static void test_validate_non_objects(void **state)
{
	(void)state;
	static const char *const values[] = {"[]", "'x'", "1", "2.5", "true", "null"};
	static const char *const names[] = {"an array", "a string",  "an integer",
					    "a number", "a boolean", "null"};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		json_t *v = J(values[i]);
		struct model_error err = {0};
		assert_int_equal(sch_validate(&top, v, "", &err), -1);
		assert_string_equal(err.code, MODEL_MALFORMED);
		char want[128];
		snprintf(want, sizeof(want),
			 "Could not parse request object: the body must be an object, not %s",
			 names[i]);
		assert_string_equal(err.message, want);
		assert_int_equal(sch_validate(&top, v, "new_settings", &err), -1);
		snprintf(want, sizeof(want),
			 "Could not parse request object: field 'new_settings' must be an object, "
			 "not %s",
			 names[i]);
		assert_string_equal(err.message, want);
		json_decref(v);
	}
}

static void test_model_fail_without_err_and_truncation(void **state)
{
	(void)state;
	assert_int_equal(model_fail(NULL, 400, MODEL_INVALID, "x"), -1);
	struct model_error err;
	char big[2000];
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(model_fail(&err, 404,
				    "A_CODE_THAT_IS_DEFINITELY_LONGER_THAN_FORTY_EIGHT_BYTES", "%s",
				    big),
			 -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(strlen(err.code), sizeof(err.code) - 1);
	assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
}

int main(void)
{
	json_set_alloc_funcs(count_malloc, count_free);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_render_nested_arrays_and_objects),
		cmocka_unit_test(test_path_render_truncates_safely),
		cmocka_unit_test(test_path_member_and_index),
		cmocka_unit_test(test_json_type_names),
		cmocka_unit_test(test_count_present),
		cmocka_unit_test(test_valid_object_with_every_kind),
		cmocka_unit_test(test_number_kinds),
		cmocka_unit_test(test_int64_decimal_strings_become_integers),
		cmocka_unit_test(test_int64_string_failing_a_later_rule_leaks_nothing),
		cmocka_unit_test(test_string_kinds),
		cmocka_unit_test(test_enum_kinds),
		cmocka_unit_test(test_array_kinds),
		cmocka_unit_test(test_array_max_caps_items_not_element_length),
		cmocka_unit_test(test_map_kinds),
		cmocka_unit_test(test_required_fields),
		cmocka_unit_test(test_error_paths_nested),
		cmocka_unit_test(test_field_and_object_checks),
		cmocka_unit_test(test_nulls_dropped_everywhere),
		cmocka_unit_test(test_unknown_members_kept),
		cmocka_unit_test(test_validate_non_objects),
		cmocka_unit_test(test_model_fail_without_err_and_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
