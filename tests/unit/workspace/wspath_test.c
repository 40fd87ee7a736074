/* wspath_test.c - unit tests for src/workspace/wspath.c (workspace paths).
 *
 * Every accepted shape with its canonical form, every refusal with the
 * phrase that names it, the length and segment limits on both sides of the
 * boundary, and the helpers. Pure, single-threaded, no files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "workspace/wspath.h"

static void ok(const char *in, const char *want)
{
	char out[WSPATH_MAX + 1];
	const char *why = "untouched";
	if (wspath_normalize(in, strlen(in), out, sizeof(out), &why) != 0)
		fail_msg("'%s' refused: %s", in, why);
	assert_string_equal(out, want);
	assert_null(why);
}

static void bad_n(const char *in, size_t len, const char *want)
{
	char out[WSPATH_MAX + 1] = "untouched";
	const char *why = NULL;
	if (wspath_normalize(in, len, out, sizeof(out), &why) == 0)
		fail_msg("'%.*s' accepted as '%s'", (int)len, in, out);
	assert_non_null(why);
	if (!strstr(why, want))
		fail_msg("'%.*s': reason '%s' lacks '%s'", (int)len, in, why, want);
	assert_string_equal(out, "untouched");
}

static void bad(const char *in, const char *want) { bad_n(in, strlen(in), want); }

static void test_plain(void **state)
{
	(void)state;
	ok("/", "/");
	ok("/a", "/a");
	ok("/Users/ana@example.com/etl", "/Users/ana@example.com/etl");
	ok("/a b/c-d_e.f", "/a b/c-d_e.f");
	ok("/.hidden/..x/x..", "/.hidden/..x/x..");
	ok("/\xc3\xa9t\xc3\xa9", "/\xc3\xa9t\xc3\xa9");
}

static void test_trailing_slash(void **state)
{
	(void)state;
	ok("/a/", "/a");
	ok("/a/b/", "/a/b");
	bad("/a//", "empty segments");
	bad("/a/b//", "empty segments");
}

static void test_workspace_alias(void **state)
{
	(void)state;
	ok("/Workspace", "/");
	ok("/Workspace/", "/");
	ok("/Workspace/Users/a", "/Users/a");
	ok("/Workspace/Workspace/x", "/Workspace/x"); /* only the first segment */
	ok("/Workspacex/y", "/Workspacex/y");
	ok("/workspace/y", "/workspace/y"); /* case-sensitive like the service */
	ok("/a/Workspace", "/a/Workspace");
	bad("/Workspace//a", "empty segments");
}

static void test_relative_and_empty(void **state)
{
	(void)state;
	bad("", "empty");
	bad("a", "absolute");
	bad("a/b", "absolute");
	bad("./a", "absolute");
	bad(" /a", "absolute");
	bad("//", "empty segments");
	bad("//a", "empty segments");
	bad("/a//b", "empty segments");
}

static void test_dot_segments(void **state)
{
	(void)state;
	bad("/.", "'..'");
	bad("/..", "'..'");
	bad("/a/..", "'..'");
	bad("/a/../b", "'..'");
	bad("/a/./b", "'.'");
	bad("/Workspace/..", "'..'");
	bad("/Users/admin/../../etc/passwd", "'..'");
	bad("/a/.", "'.'");
}

static void test_nul_bytes(void **state)
{
	(void)state;
	bad_n("/a\0b", 4, "NUL");
	bad_n("/\0", 2, "NUL");
	bad_n("/a/\0", 4, "NUL");
}

static void test_reserved_names(void **state)
{
	(void)state;
	bad("/.jobsd-tmp-0123", "reserved");
	bad("/a/.jobsd-x", "reserved");
	bad("/Workspace/.jobsd-", "reserved");
	ok("/.jobsd", "/.jobsd");
	ok("/a.jobsd-x", "/a.jobsd-x");
	ok("/x/.jobs-d", "/x/.jobs-d");
}

static void test_segment_limit(void **state)
{
	(void)state;
	char in[300];
	in[0] = '/';
	memset(in + 1, 'x', 255);
	in[256] = '\0';
	ok(in, in);
	in[256] = 'x';
	in[257] = '\0';
	bad(in, "255 bytes");
}

static void test_total_limit(void **state)
{
	(void)state;
	static char in[WSPATH_MAX + 64];
	/* 40 segments of "/" + 99 bytes = 4000 bytes exactly. */
	size_t n = 0;
	for (int i = 0; i < 40; i++) {
		in[n++] = '/';
		memset(in + n, 'a' + i % 26, 99);
		n += 99;
	}
	in[n] = '\0';
	assert_int_equal(n, WSPATH_MAX);
	ok(in, in);
	/* The alias does not count: it is removed before the limit applies. */
	static char aliased[WSPATH_MAX + 128];
	snprintf(aliased, sizeof(aliased), "/Workspace%s", in);
	ok(aliased, in);
	in[n] = 'z';
	in[n + 1] = '\0';
	bad(in, "longer than 4000");
}

static void test_small_output(void **state)
{
	(void)state;
	char out[4];
	const char *why;
	assert_int_equal(wspath_normalize("/abc", 4, out, sizeof(out), &why), -1);
	assert_int_equal(wspath_normalize("/ab", 3, out, sizeof(out), &why), 0);
	assert_string_equal(out, "/ab");
	assert_int_equal(wspath_normalize("/ab", 3, out, sizeof(out), NULL), 0);
}

static void test_helpers(void **state)
{
	(void)state;
	char p[64];
	assert_true(wspath_is_root("/"));
	assert_false(wspath_is_root("/a"));
	assert_string_equal(wspath_rel("/"), ".");
	assert_string_equal(wspath_rel("/a/b"), "a/b");
	assert_string_equal(wspath_base("/a/b"), "b");
	assert_string_equal(wspath_base("/a"), "a");
	assert_string_equal(wspath_base("/"), "");
	assert_int_equal(wspath_parent("/a/b", p, sizeof(p)), 0);
	assert_string_equal(p, "/a");
	assert_int_equal(wspath_parent("/a", p, sizeof(p)), 0);
	assert_string_equal(p, "/");
	assert_int_equal(wspath_parent("/", p, sizeof(p)), 0);
	assert_string_equal(p, "/");
	assert_int_equal(wspath_parent("/abc/d", p, 4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),		cmocka_unit_test(test_trailing_slash),
		cmocka_unit_test(test_workspace_alias), cmocka_unit_test(test_relative_and_empty),
		cmocka_unit_test(test_dot_segments),	cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_reserved_names),	cmocka_unit_test(test_segment_limit),
		cmocka_unit_test(test_total_limit),	cmocka_unit_test(test_small_output),
		cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
