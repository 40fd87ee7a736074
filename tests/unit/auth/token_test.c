/* token_test.c - unit tests for src/auth/token.c (personal access tokens).
 *
 * The token format is what clients and the store depend on: "dapi" + 16
 * lower-case hex digits of id + 32 of secret. token_parse_id is the first
 * thing every request's Authorization header meets, so its refusals are
 * covered one malformation at a time. Pure except for getrandom(2).
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

#include "auth/token.h"

static bool all_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void test_generate_format(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++) {
		char token[TOKEN_LEN + 1], id[TOKEN_ID_HEX + 1];
		memset(token, 'X', sizeof(token));
		memset(id, 'X', sizeof(id));
		assert_int_equal(token_generate(token, id), 0);
		assert_int_equal(strlen(token), TOKEN_LEN);
		assert_int_equal(TOKEN_LEN, 52);
		assert_memory_equal(token, "dapi", 4);
		assert_true(all_lower_hex(token + 4, 48));
		assert_int_equal(strlen(id), TOKEN_ID_HEX);
		assert_memory_equal(id, token + 4, TOKEN_ID_HEX);
		char parsed[TOKEN_ID_HEX + 1];
		assert_true(token_parse_id(token, parsed));
		assert_string_equal(parsed, id);
	}
}

static void test_generate_is_random(void **state)
{
	(void)state;
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1], ida[TOKEN_ID_HEX + 1], idb[TOKEN_ID_HEX + 1];
	assert_int_equal(token_generate(a, ida), 0);
	assert_int_equal(token_generate(b, idb), 0);
	assert_string_not_equal(a, b);
	assert_string_not_equal(ida, idb);
	assert_string_not_equal(a + 4 + TOKEN_ID_HEX, b + 4 + TOKEN_ID_HEX);
}

#define GOOD "dapi0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_parse_id_accepts(void **state)
{
	(void)state;
	char id[TOKEN_ID_HEX + 1];
	assert_int_equal(strlen(GOOD), TOKEN_LEN);
	assert_true(token_parse_id(GOOD, id));
	assert_string_equal(id, "0123456789abcdef");
	assert_true(token_parse_id("dapiffffffffffffffff00000000000000000000000000000000", id));
	assert_string_equal(id, "ffffffffffffffff");
}

static void test_parse_id_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"dapi",
		"dapi0123456789abcdef0123456789abcdef0123456789abcde",	 /* 51 */
		"dapi0123456789abcdef0123456789abcdef0123456789abcdef0", /* 53 */
		"dapx0123456789abcdef0123456789abcdef0123456789abcdef",	 /* prefix */
		"DAPI0123456789abcdef0123456789abcdef0123456789abcdef",
		"dose0123456789abcdef0123456789abcdef0123456789abcdef",
		"0123456789abcdef0123456789abcdef0123456789abcdefabcd",
		"dapi0123456789ABCDEF0123456789abcdef0123456789abcdef", /* upper in id */
		"dapi0123456789abcdef0123456789abcdef0123456789abcdeF", /* upper in secret */
		"dapi0123456789abcdeg0123456789abcdef0123456789abcdef", /* non-hex */
		"dapi0123456789abcdef0123456789abcdef 123456789abcdef",
		"dapi0123456789abcdef0123456789abcdef0123456789abcde\n",
		"Bearer dapi0123456789abcdef0123456789abcdef0123456789",
		"dapi-123456789abcdef0123456789abcdef0123456789abcdef",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char id[TOKEN_ID_HEX + 1] = "untouched";
		if (token_parse_id(bad[i], id))
			fail_msg("'%s' accepted", bad[i]);
		assert_string_equal(id, "untouched");
	}
	/* A NUL inside: the token ends there and is too short. */
	char id[TOKEN_ID_HEX + 1];
	char withnul[TOKEN_LEN + 1];
	memcpy(withnul, GOOD, sizeof(withnul));
	withnul[30] = '\0';
	assert_false(token_parse_id(withnul, id));
}

static void test_hash_stable_and_distinct(void **state)
{
	(void)state;
	uint8_t a[TOKEN_HASH_LEN], b[TOKEN_HASH_LEN], c[TOKEN_HASH_LEN];
	token_hash(GOOD, a);
	token_hash(GOOD, b);
	assert_memory_equal(a, b, TOKEN_HASH_LEN);
	assert_true(token_hash_equal(a, b));
	/* SHA-256 of the whole token: a known vector pins the algorithm, so a
	 * change cannot silently invalidate every stored token. */
	static const uint8_t sha256_abc[TOKEN_HASH_LEN] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	token_hash("abc", c);
	assert_memory_equal(c, sha256_abc, TOKEN_HASH_LEN);
	/* One character changes everything. */
	char other[TOKEN_LEN + 1];
	memcpy(other, GOOD, sizeof(other));
	other[TOKEN_LEN - 1] = 'e';
	token_hash(other, c);
	assert_false(token_hash_equal(a, c));
	/* Equality looks at every byte. */
	memcpy(c, a, TOKEN_HASH_LEN);
	c[TOKEN_HASH_LEN - 1] ^= 1;
	assert_false(token_hash_equal(a, c));
	memcpy(c, a, TOKEN_HASH_LEN);
	c[0] ^= 0x80;
	assert_false(token_hash_equal(a, c));
}

static void test_mint_expiry_math(void **state)
{
	(void)state;
	struct store_token t;
	char value[TOKEN_LEN + 1];
	const int64_t now = 1700000000123;
	assert_int_equal(token_mint(&t, value, 7, 3, now, 3600, "ci token"), 0);
	assert_int_equal(t.expiry_ms, now + 3600 * 1000);
	assert_int_equal(t.created_ms, now);
	assert_int_equal(t.user_id, 7);
	assert_int_equal(t.created_by, 3);
	assert_string_equal(t.comment, "ci token");
	/* The id and hash belong to the value handed out. */
	char id[TOKEN_ID_HEX + 1];
	assert_true(token_parse_id(value, id));
	assert_string_equal(t.id, id);
	uint8_t h[TOKEN_HASH_LEN];
	token_hash(value, h);
	assert_true(token_hash_equal(t.hash, h));

	/* lifetime <= 0: never expires. */
	assert_int_equal(token_mint(&t, value, 7, 7, now, 0, NULL), 0);
	assert_int_equal(t.expiry_ms, -1);
	assert_string_equal(t.comment, "");
	assert_int_equal(token_mint(&t, value, 7, 7, now, -5, ""), 0);
	assert_int_equal(t.expiry_ms, -1);
	/* 90 days, the kind of lifetime the CLI asks for. */
	assert_int_equal(token_mint(&t, value, 1, 1, now, 90LL * 86400, "x"), 0);
	assert_int_equal(t.expiry_ms, now + 90LL * 86400 * 1000);
	/* A comment longer than the struct holds is cut, not overflowed. */
	char longc[3000];
	memset(longc, 'c', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	assert_int_equal(token_mint(&t, value, 1, 1, now, 1, longc), 0);
	assert_int_equal(strlen(t.comment), sizeof(t.comment) - 1);
}

static void test_mint_gives_fresh_tokens(void **state)
{
	(void)state;
	struct store_token a, b;
	char va[TOKEN_LEN + 1], vb[TOKEN_LEN + 1];
	assert_int_equal(token_mint(&a, va, 1, 1, 0, 10, "a"), 0);
	assert_int_equal(token_mint(&b, vb, 1, 1, 0, 10, "b"), 0);
	assert_string_not_equal(va, vb);
	assert_string_not_equal(a.id, b.id);
	assert_false(token_hash_equal(a.hash, b.hash));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_format),
		cmocka_unit_test(test_generate_is_random),
		cmocka_unit_test(test_parse_id_accepts),
		cmocka_unit_test(test_parse_id_rejects),
		cmocka_unit_test(test_hash_stable_and_distinct),
		cmocka_unit_test(test_mint_expiry_math),
		cmocka_unit_test(test_mint_gives_fresh_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
