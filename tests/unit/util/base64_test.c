/* base64_test.c - unit tests for src/util/base64.c (RFC 4648 base64 and
 * base64url).
 *
 * The RFC 4648 §10 vectors both ways, every byte value through both
 * alphabets, and the inputs the decoder must refuse (base64.h: "rejects
 * anything that is not canonical base64, whitespace included"). Pure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/base64.h"

static const struct {
	const char *plain, *b64, *url;
} rfc4648[] = {
	{"", "", ""},
	{"f", "Zg==", "Zg"},
	{"fo", "Zm8=", "Zm8"},
	{"foo", "Zm9v", "Zm9v"},
	{"foob", "Zm9vYg==", "Zm9vYg"},
	{"fooba", "Zm9vYmE=", "Zm9vYmE"},
	{"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};
#define N_RFC (sizeof(rfc4648) / sizeof(rfc4648[0]))

static void test_encode_rfc4648_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_RFC; i++) {
		char *s = base64_encode(rfc4648[i].plain, strlen(rfc4648[i].plain));
		assert_non_null(s);
		assert_string_equal(s, rfc4648[i].b64);
		free(s);
		s = base64url_encode(rfc4648[i].plain, strlen(rfc4648[i].plain));
		assert_non_null(s);
		assert_string_equal(s, rfc4648[i].url);
		free(s);
	}
}

static void test_decode_rfc4648_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_RFC; i++) {
		unsigned char *out = NULL;
		size_t len = 99;
		assert_int_equal(base64_decode(rfc4648[i].b64, strlen(rfc4648[i].b64), &out, &len),
				 0);
		assert_int_equal(len, strlen(rfc4648[i].plain));
		assert_memory_equal(out, rfc4648[i].plain, len);
		assert_int_equal(out[len], '\0'); /* NUL-terminated */
		free(out);

		out = NULL;
		len = 99;
		assert_int_equal(base64url_decode(rfc4648[i].url, &out, &len), 0);
		assert_int_equal(len, strlen(rfc4648[i].plain));
		assert_memory_equal(out, rfc4648[i].plain, len);
		assert_int_equal(out[len], '\0');
		free(out);
	}
}

static void test_every_byte_round_trips(void **state)
{
	(void)state;
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	for (size_t n = 0; n <= sizeof(all); n += (n < 8 ? 1 : 37)) {
		char *s = base64_encode(all, n);
		assert_int_equal(strlen(s), 4 * ((n + 2) / 3));
		unsigned char *out;
		size_t len;
		assert_int_equal(base64_decode(s, strlen(s), &out, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(out, all, n);
		free(out);
		free(s);

		s = base64url_encode(all, n);
		assert_null(strpbrk(s, "+/="));
		assert_int_equal(base64url_decode(s, &out, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(out, all, n);
		free(out);
		free(s);
	}
}

static void test_url_alphabet(void **state)
{
	(void)state;
	static const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
	char *s = base64_encode(bytes, sizeof(bytes));
	assert_string_equal(s, "+/+/");
	free(s);
	s = base64url_encode(bytes, sizeof(bytes));
	assert_string_equal(s, "-_-_");
	free(s);
	unsigned char *out;
	size_t len;
	assert_int_equal(base64url_decode("-_-_", &out, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(out, bytes, 3);
	free(out);
	/* The standard alphabet's specials and padding are not base64url. */
	assert_int_equal(base64url_decode("+/+/", &out, &len), -1);
	assert_int_equal(base64url_decode("Zg==", &out, &len), -1);
	assert_int_equal(base64url_decode("Zm9v+A", &out, &len), -1);
	/* ... and the url specials are not standard base64. */
	assert_int_equal(base64_decode("-_-_", 4, &out, &len), -1);
}

static void test_decode_rejects_bad_length_and_padding(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"Z",	"Zg",	"Zg=",	"Zm9vY", "Zm9vYg=", /* length not a multiple of 4 */
		"Z===", "====", "Zg=a", "Z=g=",	 "Zg==Zg==", "Zm9v====", "=Zm9", "Zm=v",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char *out = (unsigned char *)"untouched";
		size_t len = 7;
		if (base64_decode(bad[i], strlen(bad[i]), &out, &len) == 0) {
			free(out);
			fail_msg("'%s' accepted", bad[i]);
		}
	}
	/* base64url: a length of 4n+1 cannot be produced by the encoder. */
	unsigned char *out;
	size_t len;
	assert_int_equal(base64url_decode("Zm9vY", &out, &len), -1);
	assert_int_equal(base64url_decode("Z", &out, &len), -1);
}

static void test_decode_rejects_whitespace_and_foreign_bytes(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"Zm9 ",	     " Zm9", "Zm9v\n", "Zm9v\r\n",   "Zm\t8", "Zm9vYmFy\n",
		"Zm9v YmFy", "Zm8.", "Zm8*",   "Zm\xc3\xa9", "Zg= ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char *out;
		size_t len;
		if (base64_decode(bad[i], strlen(bad[i]), &out, &len) == 0) {
			free(out);
			fail_msg("'%s' accepted by base64_decode", bad[i]);
		}
		if (base64url_decode(bad[i], &out, &len) == 0) {
			free(out);
			fail_msg("'%s' accepted by base64url_decode", bad[i]);
		}
	}
	/* A NUL byte inside the given length. */
	unsigned char *out;
	size_t len;
	assert_int_equal(base64_decode("Zm\0v", 4, &out, &len), -1);
}

static void test_decode_uses_the_given_length(void **state)
{
	(void)state;
	unsigned char *out;
	size_t len;
	/* Only the first 4 bytes are the text; the rest is not looked at. */
	assert_int_equal(base64_decode("Zm9v!!!!", 4, &out, &len), 0);
	assert_int_equal(len, 3);
	assert_string_equal((char *)out, "foo");
	free(out);
	assert_int_equal(base64_decode("", 0, &out, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal((char *)out, "");
	free(out);
}

static void test_decode_rejects_non_canonical_padding_bits(void **state)
{
	(void)state;
	/* "Zh==" and "Zm9=" decode to the same bytes as "Zg==" and "Zm8=" if the
	 * unused low bits are ignored; canonical base64 (RFC 4648 §3.5) has
	 * them zero, and base64.h promises to reject non-canonical input. */
	static const char *const bad[] = {"Zh==", "Zm9=", "Zm9vYh==", "Zm9vYmF="};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char *out;
		size_t len;
		if (base64_decode(bad[i], strlen(bad[i]), &out, &len) == 0) {
			free(out);
			fail_msg("non-canonical '%s' accepted", bad[i]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_rfc4648_vectors),
		cmocka_unit_test(test_decode_rfc4648_vectors),
		cmocka_unit_test(test_every_byte_round_trips),
		cmocka_unit_test(test_url_alphabet),
		cmocka_unit_test(test_decode_rejects_bad_length_and_padding),
		cmocka_unit_test(test_decode_rejects_whitespace_and_foreign_bytes),
		cmocka_unit_test(test_decode_uses_the_given_length),
		cmocka_unit_test(test_decode_rejects_non_canonical_padding_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
