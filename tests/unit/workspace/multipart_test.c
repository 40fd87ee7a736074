/* multipart_test.c - unit tests for src/workspace/multipart.c.
 *
 * Bodies shaped like those the Python SDK (requests/urllib3), the Go SDK
 * (mime/multipart) and curl -F send; binary data holding boundary-like
 * bytes; every refusal with its reason; the limits. Bodies are copied into
 * exactly-sized heap buffers so ASan catches any read past the end.
 * Pure, single-threaded, no files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "workspace/multipart.h"

static struct multipart_part parts[MULTIPART_MAX_PARTS];
static size_t nparts;

static int parse_n(const char *body, size_t len, const char *boundary, const char **why)
{
	char *copy = malloc(len ? len : 1); /* no NUL after it: bounds matter */
	memcpy(copy, body, len);
	int rc = multipart_parse(copy, len, boundary, parts, MULTIPART_MAX_PARTS, &nparts, why);
	/* Rebase the parts onto body so they survive the free. */
	for (size_t i = 0; rc == 0 && i < nparts; i++)
		parts[i].data = body + (parts[i].data - copy);
	free(copy);
	return rc;
}

static void parse_ok(const char *body, const char *boundary)
{
	const char *why = NULL;
	if (parse_n(body, strlen(body), boundary, &why) != 0)
		fail_msg("refused: %s", why);
}

static void parse_bad(const char *body, const char *boundary, const char *want)
{
	const char *why = NULL;
	if (parse_n(body, strlen(body), boundary, &why) == 0)
		fail_msg("accepted a body that should fail with '%s'", want);
	if (!why || !strstr(why, want))
		fail_msg("reason '%s' lacks '%s'", why ? why : "(null)", want);
}

static void assert_part(size_t i, const char *name, const char *data, bool file)
{
	assert_true(i < nparts);
	assert_string_equal(parts[i].name, name);
	assert_int_equal(parts[i].len, strlen(data));
	assert_memory_equal(parts[i].data, data, parts[i].len);
	assert_int_equal(parts[i].has_filename, file);
}

static void test_boundary_header(void **state)
{
	(void)state;
	char b[MULTIPART_BOUNDARY_MAX + 1];
	const char *why;
	assert_int_equal(
		multipart_boundary("multipart/form-data; boundary=abc123", b, sizeof(b), &why), 0);
	assert_string_equal(b, "abc123");
	assert_int_equal(
		multipart_boundary("Multipart/Form-Data;boundary=\"a b:c\"", b, sizeof(b), &why),
		0);
	assert_string_equal(b, "a b:c");
	assert_int_equal(multipart_boundary("multipart/form-data; charset=utf-8; boundary=x; y=z",
					    b, sizeof(b), &why),
			 0);
	assert_string_equal(b, "x");
	assert_int_equal(
		multipart_boundary("multipart/form-data ; boundary=x ;", b, sizeof(b), &why), 0);
	assert_string_equal(b, "x");

	assert_int_equal(multipart_boundary("application/json", b, sizeof(b), &why), -1);
	assert_non_null(strstr(why, "not multipart"));
	assert_int_equal(multipart_boundary(NULL, b, sizeof(b), &why), -1);
	assert_int_equal(multipart_boundary("multipart/form-datax; boundary=a", b, sizeof(b), &why),
			 -1);
	assert_int_equal(multipart_boundary("multipart/form-data", b, sizeof(b), &why), -1);
	assert_non_null(strstr(why, "no boundary"));
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=", b, sizeof(b), &why),
			 -1);
	assert_int_equal(
		multipart_boundary("multipart/form-data; boundary=\"abc", b, sizeof(b), &why), -1);
	assert_int_equal(
		multipart_boundary("multipart/form-data; boundary=a<b", b, sizeof(b), &why), -1);
	assert_int_equal(
		multipart_boundary("multipart/form-data; boundary=\"ab \"", b, sizeof(b), &why),
		-1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary", b, sizeof(b), &why),
			 -1);
	char long_b[200];
	snprintf(long_b, sizeof(long_b), "multipart/form-data; boundary=%071d", 0);
	assert_int_equal(multipart_boundary(long_b, b, sizeof(b), &why), -1);
	snprintf(long_b, sizeof(long_b), "multipart/form-data; boundary=%070d", 0);
	assert_int_equal(multipart_boundary(long_b, b, sizeof(b), &why), 0);
}

/* What the Python SDK's upload() sends through requests. */
static void test_python_sdk_shape(void **state)
{
	(void)state;
	parse_ok("--9f3e\r\n"
		 "Content-Disposition: form-data; name=\"path\"\r\n\r\n"
		 "/Users/a/nb.py\r\n"
		 "--9f3e\r\n"
		 "Content-Disposition: form-data; name=\"format\"\r\n\r\n"
		 "AUTO\r\n"
		 "--9f3e\r\n"
		 "Content-Disposition: form-data; name=\"overwrite\"\r\n\r\n"
		 "true\r\n"
		 "--9f3e\r\n"
		 "Content-Disposition: form-data; name=\"content\"; filename=\"content\"\r\n"
		 "Content-Type: application/octet-stream\r\n\r\n"
		 "# Databricks notebook source\nprint(1)\n\r\n"
		 "--9f3e--\r\n",
		 "9f3e");
	assert_int_equal(nparts, 4);
	assert_part(0, "path", "/Users/a/nb.py", false);
	assert_part(1, "format", "AUTO", false);
	assert_part(2, "overwrite", "true", false);
	assert_part(3, "content", "# Databricks notebook source\nprint(1)\n", true);
	assert_non_null(multipart_find(parts, nparts, "format"));
	assert_null(multipart_find(parts, nparts, "language"));
}

static void test_binary_and_lookalikes(void **state)
{
	(void)state;
	/* The boundary text inside data without a preceding CRLF is data; so
	 * are CR, LF and NUL bytes. */
	static const char body[] =
		"--XyZ\r\n"
		"content-disposition: FORM-DATA; filename=\"a;b.bin\"; name=content\r\n\r\n"
		"a--XyZ\r\n--Xy\r\n\0\xff\r\r\n\n--XyZx"
		"\r\n--XyZ--";
	const char *why;
	assert_int_equal(parse_n(body, sizeof(body) - 1, "XyZ", &why), 0);
	assert_int_equal(nparts, 1);
	static const char data[] = "a--XyZ\r\n--Xy\r\n\0\xff\r\r\n\n--XyZx";
	assert_int_equal(parts[0].len, sizeof(data) - 1);
	assert_memory_equal(parts[0].data, data, sizeof(data) - 1);
	assert_string_equal(parts[0].name, "content");
	assert_true(parts[0].has_filename);
	/* "\r\n--XyZx" is not a delimiter: it is followed by neither "--" nor CRLF. */
	static const char look[] =
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZx";
	assert_int_equal(parse_n(look, sizeof(look) - 1, "XyZ", &why), -1);
	assert_non_null(strstr(why, "truncated"));
}

static void test_boundary_line_ends(void **state)
{
	(void)state;
	parse_bad("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--bx\r\n", "b",
		  "truncated");
	parse_ok("--b  \r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--", "b");
	assert_part(0, "a", "x", false);
	/* Not a delimiter at the start: a preamble, as RFC 2046 reads it. */
	parse_ok("--bzz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--", "b");
	assert_int_equal(nparts, 0);
}

static void test_preamble_epilogue_empty(void **state)
{
	(void)state;
	parse_ok("ignored preamble\r\n--b\r\nContent-Disposition: form-data; "
		 "name=a\r\n\r\n\r\n--b--\r\nepilogue",
		 "b");
	assert_int_equal(nparts, 1);
	assert_part(0, "a", "", false);
	parse_ok("--b--", "b");
	assert_int_equal(nparts, 0);
	parse_bad("", "b", "does not contain the boundary");
	parse_bad("no boundary here", "b", "does not contain the boundary");
}

static void test_header_errors(void **state)
{
	(void)state;
	parse_bad("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "b",
		  "without a Content-Disposition name");
	parse_bad("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--", "b",
		  "not form-data");
	parse_bad("--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--b--", "b",
		  "without a Content-Disposition name");
	parse_bad("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--", "b",
		  "malformed");
	parse_bad("--b\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--b--", "b",
		  "malformed");
	parse_bad("--b\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n--b--", "b",
		  "folded");
	parse_bad("--b\r\nno colon\r\n\r\nx\r\n--b--", "b", "without a name");
	parse_bad("--b\r\nContent-Disposition: form-data; name=a", "b", "ends inside the headers");
	parse_bad("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nno end", "b", "truncated");
}

static void test_quoted_names(void **state)
{
	(void)state;
	parse_ok("--b\r\nContent-Disposition: form-data; name=\"a\\\"q\"; "
		 "filename*=UTF-8''x\r\n\r\nv\r\n--b--",
		 "b");
	assert_part(0, "a\"q", "v", true);
}

static void test_limits(void **state)
{
	(void)state;
	static char body[64 * 1024];
	size_t n = 0;
	for (int i = 0; i < MULTIPART_MAX_PARTS + 1; i++)
		n += (size_t)snprintf(
			body + n, sizeof(body) - n,
			"--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n", i);
	snprintf(body + n, sizeof(body) - n, "--b--");
	parse_bad(body, "b", "more than 16 parts");

	/* Headers over 8192 bytes. */
	n = (size_t)snprintf(body, sizeof(body),
			     "--b\r\nContent-Disposition: form-data; name=a\r\nX: ");
	memset(body + n, 'x', 9000);
	n += 9000;
	snprintf(body + n, sizeof(body) - n, "\r\n\r\nv\r\n--b--");
	parse_bad(body, "b", "over 8192");

	/* A field name over 128 bytes. */
	n = (size_t)snprintf(body, sizeof(body), "--b\r\nContent-Disposition: form-data; name=\"");
	memset(body + n, 'n', 200);
	n += 200;
	snprintf(body + n, sizeof(body) - n, "\"\r\n\r\nv\r\n--b--");
	parse_bad(body, "b", "128 bytes");

	const char *why;
	assert_int_equal(multipart_parse("--b--", 5, "", parts, 4, &nparts, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundary_header),
		cmocka_unit_test(test_python_sdk_shape),
		cmocka_unit_test(test_binary_and_lookalikes),
		cmocka_unit_test(test_boundary_line_ends),
		cmocka_unit_test(test_preamble_epilogue_empty),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_quoted_names),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
