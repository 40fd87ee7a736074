/* strbuf_test.c - unit tests for src/util/strbuf.c (the capped growable
 * buffer).
 *
 * The cap is the point of the module (strbuf.h, after curl's dynbuf): every
 * kind of append is pushed past it and must fail leaving the buffer exactly
 * as it was. strbuf_json_string output is checked byte for byte and by
 * parsing it back with jansson. Pure, single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/strbuf.h"

/* The buffer's contents as a string ("" before the first append). */
static const char *text(const struct strbuf *sb) { return sb->buf ? sb->buf : ""; }

static void test_append_puts_printf(void **state)
{
	(void)state;
	struct strbuf sb;
	strbuf_init(&sb, 1024);
	assert_int_equal(sb.len, 0);
	assert_int_equal(strbuf_append(&sb, "ab", 2), 0);
	assert_int_equal(strbuf_puts(&sb, "cd"), 0);
	assert_int_equal(strbuf_printf(&sb, "-%d-%s", 42, "x"), 0);
	assert_int_equal(strbuf_append(&sb, "", 0), 0);
	assert_string_equal(sb.buf, "abcd-42-x");
	assert_int_equal(sb.len, 9);
	/* Binary data, NULs included, is kept and still NUL-terminated. */
	assert_int_equal(strbuf_append(&sb, "\0z", 2), 0);
	assert_int_equal(sb.len, 11);
	assert_memory_equal(sb.buf + 9, "\0z\0", 3);
	strbuf_release(&sb);
	assert_null(sb.buf);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb); /* twice is fine */
}

static void test_grows_past_initial_capacity(void **state)
{
	(void)state;
	struct strbuf sb;
	strbuf_init(&sb, 1 << 20);
	char chunk[97];
	for (int i = 0; i < 1000; i++) {
		memset(chunk, 'a' + i % 26, sizeof(chunk));
		assert_int_equal(strbuf_append(&sb, chunk, sizeof(chunk)), 0);
	}
	assert_int_equal(sb.len, 97000);
	assert_true(sb.cap > sb.len);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sb.buf[i * 97 + 50], 'a' + i % 26);
	assert_int_equal(sb.buf[sb.len], '\0');
	strbuf_release(&sb);
}

static void test_max_is_enforced_and_buffer_unchanged(void **state)
{
	(void)state;
	struct strbuf sb;
	strbuf_init(&sb, 10);
	assert_int_equal(strbuf_puts(&sb, "0123456"), 0);
	char *before = sb.buf;
	size_t cap = sb.cap;

	assert_int_equal(strbuf_append(&sb, "abcd", 4), -1);
	assert_int_equal(strbuf_puts(&sb, "abcd"), -1);
	assert_int_equal(strbuf_printf(&sb, "%s", "abcd"), -1);
	assert_int_equal(strbuf_printf(&sb, "%d", 1234), -1);
	assert_int_equal(strbuf_append(&sb, "x", SIZE_MAX), -1); /* no overflow either */
	assert_int_equal(sb.len, 7);
	assert_string_equal(sb.buf, "0123456");
	assert_ptr_equal(sb.buf, before);
	assert_int_equal(sb.cap, cap);

	/* Up to the max exactly is fine; one more byte is not. */
	assert_int_equal(strbuf_printf(&sb, "%s", "789"), 0);
	assert_int_equal(sb.len, 10);
	assert_int_equal(strbuf_append(&sb, "!", 1), -1);
	assert_string_equal(sb.buf, "0123456789");
	strbuf_release(&sb);

	/* A max of 0 takes nothing but the empty string. */
	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_append(&sb, "", 0), 0);
	assert_int_equal(strbuf_puts(&sb, "a"), -1);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

static void test_json_string_past_max_leaves_buffer_unchanged(void **state)
{
	(void)state;
	/* strbuf.h: "an append that would pass [the max] fails (and leaves the
	 * buffer as it was)". A half-written JSON string would corrupt the
	 * document a caller goes on to build. */
	static const char *const inputs[] = {"abcdefghij", "ab\"cdefgh", "a\nb\nc\nd\ne\n"};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct strbuf sb;
		strbuf_init(&sb, 12);
		assert_int_equal(strbuf_puts(&sb, "{\"k\":"), 0);
		int rc = strbuf_json_string(&sb, inputs[i]);
		size_t len = sb.len;
		char got[64];
		snprintf(got, sizeof(got), "%s", text(&sb));
		strbuf_release(&sb);
		assert_int_equal(rc, -1);
		if (len != 5)
			fail_msg("input %zu: buffer changed to '%s' (len %zu) by a failed append",
				 i, got, len);
	}
}

/* strbuf_json_string of s, as a malloc'd string. */
static char *json_of(const char *s)
{
	struct strbuf sb;
	strbuf_init(&sb, 1 << 16);
	assert_int_equal(strbuf_json_string(&sb, s), 0);
	return strbuf_detach(&sb, NULL);
}

static void test_json_string_escapes(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"", "\"\""},
		{"plain", "\"plain\""},
		{"a\"b", "\"a\\\"b\""},
		{"back\\slash", "\"back\\\\slash\""},
		{"\"\\\"", "\"\\\"\\\\\\\"\""},
		{"l1\nl2\r\tx", "\"l1\\nl2\\r\\tx\""},
		{"\x01\x08\x0c\x1f", "\"\\u0001\\u0008\\u000c\\u001f\""},
		{" ~\x7f", "\" ~\x7f\""}, /* DEL needs no escape in JSON */
		{"/", "\"/\""},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
		{"</script>", "\"</script>\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = json_of(cases[i].in);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

static void test_json_string_parses_back(void **state)
{
	(void)state;
	/* Every ASCII byte and some UTF-8, read back by a real JSON parser. */
	char in[200];
	size_t n = 0;
	for (int c = 1; c < 128; c++)
		in[n++] = (char)c;
	memcpy(in + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	n += 9;
	in[n] = '\0';
	char *js = json_of(in);
	json_error_t e;
	json_t *v = json_loads(js, JSON_DECODE_ANY, &e);
	if (!v)
		fail_msg("output does not parse: %s", e.text);
	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), in);
	json_decref(v);
	free(js);
}

/* The length-taking form escapes NUL bytes instead of stopping at them. */
static void test_json_string_n_keeps_nul_bytes(void **state)
{
	(void)state;
	struct strbuf sb;
	strbuf_init(&sb, 1024);
	assert_int_equal(strbuf_json_string_n(&sb, "a\0b\"", 4), 0);
	assert_string_equal(sb.buf, "\"a\\u0000b\\\"\"");
	strbuf_release(&sb);
}

static void test_detach(void **state)
{
	(void)state;
	struct strbuf sb;
	strbuf_init(&sb, 100);
	size_t len = 99;
	char *s = strbuf_detach(&sb, &len); /* never NULL, even when empty */
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);

	assert_int_equal(strbuf_puts(&sb, "hello"), 0);
	s = strbuf_detach(&sb, &len);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	assert_null(sb.buf);
	assert_int_equal(sb.len, 0);
	/* The buffer is reusable, with its max. */
	assert_int_equal(strbuf_puts(&sb, "again"), 0);
	assert_string_equal(sb.buf, "again");
	free(s);
	s = strbuf_detach(&sb, NULL);
	assert_string_equal(s, "again");
	free(s);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_puts_printf),
		cmocka_unit_test(test_grows_past_initial_capacity),
		cmocka_unit_test(test_max_is_enforced_and_buffer_unchanged),
		cmocka_unit_test(test_json_string_past_max_leaves_buffer_unchanged),
		cmocka_unit_test(test_json_string_escapes),
		cmocka_unit_test(test_json_string_parses_back),
		cmocka_unit_test(test_json_string_n_keeps_nul_bytes),
		cmocka_unit_test(test_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
