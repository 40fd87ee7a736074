/* config_test.c - unit tests for src/config.c (defaults, config file,
 * environment, option names).
 *
 * Config files are written into a mkdtemp directory removed at the end;
 * environment variables set here are unset again by each case.
 * Single-threaded (setenv).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "testutil.h"

static char tmpdir[256];

static int group_setup(void **state)
{
	(void)state;
	return test_mkdtemp(tmpdir, sizeof(tmpdir), "config_test");
}

static int group_teardown(void **state)
{
	(void)state;
	return test_rmtree(tmpdir);
}

/* Writes text to the test's config file and returns its path. */
static const char *conf(const char *text)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/jobsd.conf", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_defaults(void **state)
{
	(void)state;
	struct config c;
	memset(&c, 0x5a, sizeof(c));
	config_defaults(&c);
	assert_string_equal(c.data_dir, "./jobsd-data");
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_string_equal(c.tls_cert, "");
	assert_string_equal(c.tls_key, "");
	assert_int_equal(c.log_level, LOG_INFO);
	assert_int_equal(c.http_threads, 0);
	assert_int_equal(c.max_request_bytes, 10485760);
	assert_int_equal(c.max_tasks_per_job, 100);
	assert_int_equal(c.max_saved_jobs, 12000);
	assert_int_equal(c.max_tags, 25);
}

static void test_set_each_type(void **state)
{
	(void)state;
	struct config c;
	config_defaults(&c);
	char err[256];
	assert_int_equal(config_set(&c, "data_dir", "/var/lib/jobsd", err, sizeof(err)), 0);
	assert_string_equal(c.data_dir, "/var/lib/jobsd");
	assert_int_equal(config_set(&c, "listen", "0.0.0.0:0", err, sizeof(err)), 0);
	assert_string_equal(c.listen, "0.0.0.0:0");
	assert_int_equal(config_set(&c, "tls_cert", "/etc/c.pem", err, sizeof(err)), 0);
	assert_string_equal(c.tls_cert, "/etc/c.pem");
	assert_int_equal(config_set(&c, "tls_key", "", err, sizeof(err)), 0);
	assert_string_equal(c.tls_key, "");
	assert_int_equal(config_set(&c, "log_level", "debug", err, sizeof(err)), 0);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_int_equal(config_set(&c, "log_level", "WARNING", err, sizeof(err)), 0);
	assert_int_equal(c.log_level, LOG_WARN);
	assert_int_equal(config_set(&c, "log_level", "off", err, sizeof(err)), 0);
	assert_int_equal(c.log_level, LOG_OFF);
	assert_int_equal(config_set(&c, "http_threads", "8", err, sizeof(err)), 0);
	assert_int_equal(c.http_threads, 8);
	assert_int_equal(config_set(&c, "max_request_bytes", "1024", err, sizeof(err)), 0);
	assert_int_equal(c.max_request_bytes, 1024);
	assert_int_equal(config_set(&c, "max_tasks_per_job", "1000", err, sizeof(err)), 0);
	assert_int_equal(c.max_tasks_per_job, 1000);
	assert_int_equal(config_set(&c, "max_saved_jobs", "100000000", err, sizeof(err)), 0);
	assert_int_equal(c.max_saved_jobs, 100000000);
	assert_int_equal(config_set(&c, "max_tags", "0", err, sizeof(err)), 0);
	assert_int_equal(c.max_tags, 0);
}

static void bad_set(const char *key, const char *value, const char *want)
{
	struct config c, before;
	config_defaults(&c);
	before = c;
	char err[256] = "";
	if (config_set(&c, key, value, err, sizeof(err)) == 0)
		fail_msg("%s = '%s' accepted", key, value);
	if (!strstr(err, want))
		fail_msg("%s = '%s': \"%s\" lacks \"%s\"", key, value, err, want);
	assert_memory_equal(&c, &before, sizeof(c)); /* nothing changed */
}

static void test_set_errors(void **state)
{
	(void)state;
	bad_set("no_such_key", "1", "unknown setting 'no_such_key'");
	bad_set("data-dir", "/x", "unknown setting"); /* file spelling only */
	bad_set("DATA_DIR", "/x", "unknown setting");
	bad_set("log_level", "verbose", "invalid log level 'verbose'");
	bad_set("log_level", "", "invalid log level");
	bad_set("http_threads", "257",
		"invalid value '257' for 'http_threads' (an integer from 0 to 256)");
	bad_set("http_threads", "-1", "from 0 to 256");
	bad_set("http_threads", "", "invalid value");
	bad_set("http_threads", "4x", "invalid value '4x'");
	bad_set("http_threads", "0x10", "invalid value");
	bad_set("http_threads", "1.5", "invalid value");
	bad_set("max_request_bytes", "1023", "from 1024 to 1073741824");
	bad_set("max_tasks_per_job", "0", "from 1 to 10000");
	bad_set("max_saved_jobs", "99999999999999999999", "invalid value"); /* ERANGE */
	bad_set("max_tags", "1001", "from 0 to 1000");
	char longv[PATH_MAX + 10];
	memset(longv, 'd', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	bad_set("data_dir", longv, "value of 'data_dir' is too long");
	char listen[300];
	memset(listen, '1', sizeof(listen) - 1);
	listen[sizeof(listen) - 1] = '\0';
	bad_set("listen", listen, "too long");
	/* The longest value that fits is accepted. */
	struct config c;
	config_defaults(&c);
	char err[64];
	listen[sizeof(c.listen) - 1] = '\0';
	assert_int_equal(config_set(&c, "listen", listen, err, sizeof(err)), 0);
	assert_int_equal(strlen(c.listen), sizeof(c.listen) - 1);
}

static void test_load_file(void **state)
{
	(void)state;
	const char *path = conf("# jobsd configuration\n"
				"\n"
				"data_dir = /srv/jobsd   # trailing comment\n"
				"   listen=127.0.0.1:9090\n"
				"log_level = \"warn\"\n"
				"tls_cert = \"/etc/with space.pem\"\n"
				"\tmax_tags\t=\t7\t\n"
				"max_saved_jobs = 50\r\n"
				"# the end, no final newline\n"
				"http_threads = 3");
	struct config c;
	config_defaults(&c);
	char err[512] = "";
	if (config_load_file(&c, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.data_dir, "/srv/jobsd");
	assert_string_equal(c.listen, "127.0.0.1:9090");
	assert_int_equal(c.log_level, LOG_WARN);
	assert_string_equal(c.tls_cert, "/etc/with space.pem");
	assert_int_equal(c.max_tags, 7);
	assert_int_equal(c.max_saved_jobs, 50);
	assert_int_equal(c.http_threads, 3);
	assert_int_equal(c.max_tasks_per_job, 100); /* untouched */

	/* Empty quotes give an empty value. */
	path = conf("tls_key = \"\"\n");
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.tls_key, "");
}

static void bad_file(const char *text, const char *want)
{
	struct config c;
	config_defaults(&c);
	char err[512] = "";
	const char *path = conf(text);
	if (config_load_file(&c, path, err, sizeof(err)) == 0)
		fail_msg("accepted: %s", text);
	char full[600];
	snprintf(full, sizeof(full), "%s:%s", path, want);
	if (!strstr(err, full))
		fail_msg("\"%s\" lacks \"%s\"", err, full);
}

static void test_load_file_errors_name_the_line(void **state)
{
	(void)state;
	bad_file("data_dir = /x\njust some words\n", "2: expected 'key = value'");
	bad_file("# c\n\n\nbogus = 1\n", "4: unknown setting 'bogus'");
	bad_file("max_tags = 5\nmax_tags = many\n", "2: invalid value 'many' for 'max_tags'");
	bad_file("log_level = loud\n", "1: invalid log level 'loud'");
	bad_file("= 5\n", "1: unknown setting ''");

	struct config c;
	config_defaults(&c);
	char err[512];
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/nope.conf", tmpdir);
	assert_int_equal(config_load_file(&c, missing, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open config file"));
	assert_non_null(strstr(err, "nope.conf"));
	assert_non_null(strstr(err, strerror(ENOENT)));
}

static void test_load_file_hash_inside_quotes_is_kept(void **state)
{
	(void)state;
	/* Quotes exist for values with special characters; a '#' inside them is
	 * part of the value (a path such as /srv/jobs#2), not a comment. */
	const char *path = conf("data_dir = \"/srv/jobs#2\"  # the second instance\n");
	struct config c;
	config_defaults(&c);
	char err[512] = "";
	int rc = config_load_file(&c, path, err, sizeof(err));
	if (rc != 0)
		fail_msg("rejected: %s", err);
	assert_string_equal(c.data_dir, "/srv/jobs#2");
}

static void test_load_file_long_line_reports_its_own_line(void **state)
{
	(void)state;
	/* A line longer than the reader's buffer must fail as that line, not
	 * be split into a truncated value plus a bogus "line 2". */
	size_t n = 5000;
	char *text = malloc(n + 64);
	assert_non_null(text);
	int k = snprintf(text, n + 64, "data_dir = /");
	memset(text + k, 'd', n);
	snprintf(text + k + n, 64 - (size_t)k, "\n");
	struct config c;
	config_defaults(&c);
	char err[512] = "";
	int rc = config_load_file(&c, conf(text), err, sizeof(err));
	free(text);
	assert_int_equal(rc, -1);
	if (!strstr(err, ":1:"))
		fail_msg("error \"%s\" does not name line 1", err);
}

static void test_load_file_long_comment_stays_a_comment(void **state)
{
	(void)state;
	/* The tail of a long comment line must not be read as a setting. */
	size_t n = 4100;
	char *text = malloc(n + 64);
	assert_non_null(text);
	text[0] = '#';
	memset(text + 1, 'c', n);
	snprintf(text + 1 + n, 63, " listen = 0.0.0.0:9999\n");
	struct config c;
	config_defaults(&c);
	char err[512] = "";
	int rc = config_load_file(&c, conf(text), err, sizeof(err));
	free(text);
	if (rc != 0)
		fail_msg("a comment line failed: %s", err);
	assert_string_equal(c.listen, "127.0.0.1:8080");
}

static void test_load_env(void **state)
{
	(void)state;
	struct config c;
	config_defaults(&c);
	char err[512] = "";
	setenv("JOBSD_MAX_SAVED_JOBS", "77", 1);
	setenv("JOBSD_DATA_DIR", "/env/dir", 1);
	setenv("JOBSD_LOG_LEVEL", "error", 1);
	setenv("jobsd_max_tags", "3", 1); /* wrong case: not ours */
	int rc = config_load_env(&c, err, sizeof(err));
	unsetenv("JOBSD_DATA_DIR");
	unsetenv("JOBSD_LOG_LEVEL");
	unsetenv("jobsd_max_tags");
	assert_int_equal(rc, 0);
	assert_int_equal(c.max_saved_jobs, 77);
	assert_string_equal(c.data_dir, "/env/dir");
	assert_int_equal(c.log_level, LOG_ERROR);
	assert_int_equal(c.max_tags, 25);

	setenv("JOBSD_MAX_SAVED_JOBS", "0", 1);
	rc = config_load_env(&c, err, sizeof(err));
	unsetenv("JOBSD_MAX_SAVED_JOBS");
	assert_int_equal(rc, -1);
	assert_non_null(
		strstr(err, "JOBSD_MAX_SAVED_JOBS: invalid value '0' for 'max_saved_jobs'"));

	/* Nothing set: nothing changes. */
	struct config d, before;
	config_defaults(&d);
	before = d;
	assert_int_equal(config_load_env(&d, err, sizeof(err)), 0);
	assert_memory_equal(&d, &before, sizeof(d));
}

static void test_key_for_option(void **state)
{
	(void)state;
	assert_string_equal(config_key_for_option("data-dir"), "data_dir");
	assert_string_equal(config_key_for_option("max-saved-jobs"), "max_saved_jobs");
	assert_string_equal(config_key_for_option("listen"), "listen");
	assert_string_equal(config_key_for_option("log-level"), "log_level");
	assert_null(config_key_for_option("data-directory"));
	assert_null(config_key_for_option(""));
	assert_null(config_key_for_option("help"));
	char longopt[200];
	memset(longopt, 'x', sizeof(longopt) - 1);
	longopt[sizeof(longopt) - 1] = '\0';
	assert_null(config_key_for_option(longopt));
}

static void test_print_help_lists_every_setting(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_print_help(f);
	fclose(f);
	static const char *const want[] = {
		"--data-dir",
		"JOBSD_DATA_DIR",
		"--listen",
		"--tls-cert",
		"--tls-key",
		"--log-level",
		"--http-threads",
		"--max-request-bytes",
		"--max-tasks-per-job",
		"--max-saved-jobs",
		"JOBSD_MAX_SAVED_JOBS",
		"--max-tags",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(buf, want[i]))
			fail_msg("help lacks %s", want[i]);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_set_each_type),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_file_errors_name_the_line),
		cmocka_unit_test(test_load_file_hash_inside_quotes_is_kept),
		cmocka_unit_test(test_load_file_long_line_reports_its_own_line),
		cmocka_unit_test(test_load_file_long_comment_stays_a_comment),
		cmocka_unit_test(test_load_env),
		cmocka_unit_test(test_key_for_option),
		cmocka_unit_test(test_print_help_lists_every_setting),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
