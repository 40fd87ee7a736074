/* utf8_test.c - UTF-8 validation and scrubbing (src/util/utf8.c). */
#include "testutil.h"

#include "util/utf8.h"

static void test_valid_sequences(void **state)
{
	(void)state;
	static const char *const ok[] = {"", "ascii", "caf\xc3\xa9", "\xe2\x82\xac",
					 "\xf0\x9f\x98\x80", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(utf8_valid(ok[i], strlen(ok[i])));
}

static void test_invalid_sequences(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"\xff",             /* never valid */
		"\xc3",             /* cut short */
		"\xc0\xaf",         /* overlong '/' */
		"\xe0\x80\xaf",     /* overlong */
		"\xed\xa0\x80",     /* a surrogate */
		"\xf4\x90\x80\x80", /* past U+10FFFF */
		"\x80",             /* a continuation byte alone */
		"a\xe2\x82",        /* cut in the middle */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(utf8_valid(bad[i], strlen(bad[i])));
}

static void test_scrub_replaces_only_bad_bytes(void **state)
{
	(void)state;
	char s[] = "ok \xc3\xa9 \xff x \xe2\x82";
	utf8_scrub(s);
	assert_string_equal(s, "ok \xc3\xa9 ? x ??");
	assert_true(utf8_valid(s, strlen(s)));
}

static void test_scrub_controls(void **state)
{
	(void)state;
	char s[] = "GET /a\nforged line\r\x1b[31m\x7f";
	utf8_scrub_controls(s);
	assert_string_equal(s, "GET /a?forged line??[31m?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_sequences),
		cmocka_unit_test(test_invalid_sequences),
		cmocka_unit_test(test_scrub_replaces_only_bad_bytes),
		cmocka_unit_test(test_scrub_controls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
