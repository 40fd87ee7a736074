/* testutil.h - helpers shared by the cmocka unit tests (tests/unit/).
 *
 * Test code only, never linked into jobsd. Every function is static inline,
 * so a test that includes this header and uses only some of it still builds
 * under -Wall -Werror (no -Wunused-function). The header is self-contained:
 * it includes what cmocka.h needs before it (stdarg.h, stddef.h, stdint.h,
 * setjmp.h), then cmocka.h and jansson.h, so it may come before or after a
 * test's own includes. nftw() and mkdtemp() need _GNU_SOURCE (or
 * _XOPEN_SOURCE 700), which the Makefile defines.
 *
 *   test_json(text)              JSON from a test literal in which ' stands
 *                                for " (J() for short); fails the test on
 *                                bad JSON
 *   assert_json_equal(got, want) fails the test, showing both, unless equal
 *   assert_json_is(got, text)    the same against test_json(text)
 *   test_mkdtemp(buf, n, name)   creates a fresh directory
 *                                $TMPDIR/<name>.XXXXXX (TMPDIR unset or
 *                                empty: /tmp), its path in buf; 0 or -1
 *   test_rmtree(dir)             removes dir and everything below it,
 *                                never following a symlink; 0 or -1
 */
#ifndef JOBSD_TESTS_UNIT_TESTUTIL_H
#define JOBSD_TESTS_UNIT_TESTUTIL_H

/* cmocka.h uses these without including them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --- JSON ---------------------------------------------------------------------------- */

/* JSON from a test literal in which ' stands for " (any JSON value, not only
 * objects). The caller owns the result. */
static inline json_t *test_json(const char *text)
{
	char *s = strdup(text);
	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t e;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
	if (!v)
		fail_msg("bad JSON in test (%s): %s", e.text, s);
	free(s);
	return v;
}

#define J test_json

static inline void assert_json_equal(const json_t *got, const json_t *want)
{
	if (json_equal((json_t *)got, (json_t *)want))
		return;
	char g[4096], w[4096];
	size_t n = json_dumpb(got, g, sizeof(g) - 1, JSON_SORT_KEYS | JSON_COMPACT);
	g[n < sizeof(g) ? n : sizeof(g) - 1] = '\0';
	n = json_dumpb(want, w, sizeof(w) - 1, JSON_SORT_KEYS | JSON_COMPACT);
	w[n < sizeof(w) ? n : sizeof(w) - 1] = '\0';
	fail_msg("JSON differs\n got: %s\nwant: %s", g, w);
}

static inline void assert_json_is(const json_t *got, const char *want_text)
{
	json_t *want = test_json(want_text);
	assert_json_equal(got, want);
	json_decref(want);
}

/* --- temporary directories ----------------------------------------------------------- */

static inline int test_mkdtemp(char *buf, size_t n, const char *name)
{
	const char *base = getenv("TMPDIR");
	int len = snprintf(buf, n, "%s/%s.XXXXXX", base && *base ? base : "/tmp", name);
	if (len < 0 || (size_t)len >= n)
		return -1;
	return mkdtemp(buf) ? 0 : -1;
}

static inline int test_rmtree_one(const char *path, const struct stat *st, int flag,
				  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Depth first, so a directory is empty when its turn comes; FTW_PHYS: a
 * symlink is removed itself, what it points to is left alone. */
static inline int test_rmtree(const char *dir)
{
	return nftw(dir, test_rmtree_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

#endif
