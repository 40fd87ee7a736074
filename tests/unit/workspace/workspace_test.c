/* workspace_test.c - tests for src/workspace/workspace.c against a real
 * temporary folder: the on-disk layout and resolution, every import format,
 * export conversions, list, mkdirs, delete, overwrite rules, symlinks that
 * stay inside or leave the root, lazy removal of stale temp files, and
 * injected faults (a racing creator before the rename, ENOSPC, EIO) through
 * the module's fault hook.
 *
 * Each test gets a fresh folder <tmp>/ws (the root) next to <tmp>/outside
 * (a target that symlinks must not reach). Single-threaded except the
 * concurrent-import test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "testutil.h"
#include "util/log.h"
#include "workspace/workspace.h"

struct fx {
	char tmp[256], root[300], outside[300];
	struct workspace *ws;
};

static struct model_error err;

/* --- fixtures and helpers ----------------------------------------------------------- */

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(text, 1, strlen(text), f);
	fclose(f);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static bool exists(const struct fx *fx, const char *rel)
{
	char p[1024];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", fx->root, rel);
	return lstat(p, &st) == 0;
}

static const char *at(const struct fx *fx, const char *rel)
{
	static char p[1024];
	snprintf(p, sizeof(p), "%s/%s", fx->root, rel);
	return p;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char e[256];
	assert_int_equal(test_mkdtemp(fx->tmp, sizeof(fx->tmp), "wstest"), 0);
	snprintf(fx->root, sizeof(fx->root), "%s/ws", fx->tmp);
	snprintf(fx->outside, sizeof(fx->outside), "%s/outside", fx->tmp);
	assert_int_equal(mkdir(fx->root, 0700), 0);
	assert_int_equal(mkdir(fx->outside, 0700), 0);
	char secret[400];
	snprintf(secret, sizeof(secret), "%s/secret", fx->outside);
	put_file(secret, "top secret");
	if (workspace_open(&fx->ws, fx->root, e, sizeof(e)) != 0)
		fail_msg("workspace_open: %s", e);
	memset(&err, 0, sizeof(err));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	workspace_close(fx->ws);
	test_rmtree(fx->tmp);
	free(fx);
	return 0;
}

static int imp(struct fx *fx, const char *path, const char *content, enum workspace_format fmt,
	       enum workspace_lang lang, bool overwrite)
{
	struct workspace_import i = {path, strlen(path), content,  strlen(content),
				     fmt,  lang,	 overwrite};
	memset(&err, 0, sizeof(err));
	return workspace_import(fx->ws, &i, &err);
}

static void imp_ok(struct fx *fx, const char *path, const char *content, enum workspace_format fmt,
		   enum workspace_lang lang, bool overwrite)
{
	if (imp(fx, path, content, fmt, lang, overwrite) != 0)
		fail_msg("import %s: %d %s %s", path, err.status, err.code, err.message);
}

/* Asserts the last call failed with status, code and a message containing want. */
static void failed(int rc, int status, const char *code, const char *want)
{
	assert_int_equal(rc, -1);
	if (err.status != status || strcmp(err.code, code) != 0 || !strstr(err.message, want))
		fail_msg("got %d %s '%s', want %d %s '...%s...'", err.status, err.code, err.message,
			 status, code, want);
}

static struct workspace_object st(struct fx *fx, const char *path)
{
	struct workspace_object o;
	if (workspace_stat(fx->ws, path, strlen(path), &o, &err) != 0)
		fail_msg("stat %s: %s", path, err.message);
	return o;
}

static int stat_rc(struct fx *fx, const char *path)
{
	struct workspace_object o;
	memset(&err, 0, sizeof(err));
	return workspace_stat(fx->ws, path, strlen(path), &o, &err);
}

static char *exp_ok(struct fx *fx, const char *path, enum workspace_format fmt, char ft[16])
{
	char *out;
	size_t len;
	if (workspace_export(fx->ws, path, strlen(path), fmt, &out, &len, ft, &err) != 0)
		fail_msg("export %s: %s", path, err.message);
	assert_int_equal(strlen(out), len);
	return out;
}

static size_t list(struct fx *fx, const char *path, int64_t after, struct workspace_object **v)
{
	size_t n;
	if (workspace_list(fx->ws, path, strlen(path), after, v, &n, &err) != 0)
		fail_msg("list %s: %s", path, err.message);
	return n;
}

#define HDR "# Databricks notebook source\n"

/* --- open ------------------------------------------------------------------------------- */

static void test_open_missing_root(void **state)
{
	(void)state;
	struct workspace *ws = NULL;
	char e[256];
	assert_int_equal(workspace_open(&ws, "/nonexistent/jobsd/ws", e, sizeof(e)), -1);
	assert_non_null(strstr(e, "/nonexistent/jobsd/ws"));
	workspace_close(NULL);
}

/* --- import and the layout -------------------------------------------------------------- */

static void test_source_with_language(void **state)
{
	struct fx *fx = *state;
	imp_ok(fx, "/nb", "print(1)\n", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false);
	assert_string_equal(slurp(at(fx, "nb.py")), HDR "print(1)\n"); /* header added */
	struct workspace_object o = st(fx, "/nb");
	assert_int_equal(o.type, WORKSPACE_NOTEBOOK);
	assert_int_equal(o.lang, WORKSPACE_PYTHON);
	assert_string_equal(o.path, "/nb");
	assert_true(o.object_id > 0);
	assert_true(o.modified_ms > 1600000000000LL && o.created_ms > 1600000000000LL);
	/* Content that has the header keeps one copy of it. */
	imp_ok(fx, "/q", "-- Databricks notebook source\nSELECT 1", WORKSPACE_SOURCE, WORKSPACE_SQL,
	       false);
	assert_string_equal(slurp(at(fx, "q.sql")), "-- Databricks notebook source\nSELECT 1");
	assert_int_equal(st(fx, "/Workspace/q").lang, WORKSPACE_SQL);
	imp_ok(fx, "/s", "1", WORKSPACE_SOURCE, WORKSPACE_SCALA, false);
	assert_true(exists(fx, "s.scala"));
	imp_ok(fx, "/r", "1", WORKSPACE_SOURCE, WORKSPACE_R, false);
	assert_true(exists(fx, "r.r"));
	/* With a language the name is kept as given. */
	imp_ok(fx, "/x.py", "1", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false);
	assert_true(exists(fx, "x.py.py"));
	assert_int_equal(st(fx, "/x.py").type, WORKSPACE_NOTEBOOK);
}

static void test_source_language_from_extension(void **state)
{
	struct fx *fx = *state;
	imp_ok(fx, "/a.sql", "SELECT 1", WORKSPACE_SOURCE, WORKSPACE_LANG_NONE, false);
	assert_int_equal(st(fx, "/a").lang, WORKSPACE_SQL);
	assert_true(exists(fx, "a.sql"));
	imp_ok(fx, "/b.R", "x <- 1", WORKSPACE_SOURCE, WORKSPACE_LANG_NONE, false);
	assert_int_equal(st(fx, "/b").lang, WORKSPACE_R);
	assert_true(exists(fx, "b.r"));
	imp_ok(fx, "/c.scala", "1", WORKSPACE_SOURCE, WORKSPACE_LANG_NONE, false);
	assert_int_equal(st(fx, "/c").lang, WORKSPACE_SCALA);
	failed(imp(fx, "/d.txt", "x", WORKSPACE_SOURCE, WORKSPACE_LANG_NONE, false), 400,
	       "INVALID_PARAMETER_VALUE", "language is required for format SOURCE");
	failed(imp(fx, "/d", "x", WORKSPACE_SOURCE, WORKSPACE_LANG_NONE, false), 400,
	       "INVALID_PARAMETER_VALUE", "language is required");
	assert_false(exists(fx, "d"));
}

static void test_auto_and_raw(void **state)
{
	struct fx *fx = *state;
	imp_ok(fx, "/n.py", HDR "x = 1\n", WORKSPACE_AUTO, WORKSPACE_LANG_NONE, false);
	assert_int_equal(st(fx, "/n").type, WORKSPACE_NOTEBOOK);
	failed(stat_rc(fx, "/n.py"), 404, "RESOURCE_DOES_NOT_EXIST", "(/n.py)");
	imp_ok(fx, "/plain.py", "x = 1\n", WORKSPACE_AUTO, WORKSPACE_LANG_NONE, false);
	struct workspace_object o = st(fx, "/plain.py");
	assert_int_equal(o.type, WORKSPACE_FILE);
	assert_int_equal(o.size, 6);
	failed(stat_rc(fx, "/plain"), 404, "RESOURCE_DOES_NOT_EXIST", "(/plain)");
	imp_ok(fx, "/data.csv", "a,b\n", WORKSPACE_AUTO, WORKSPACE_LANG_NONE, false);
	assert_int_equal(st(fx, "/data.csv").type, WORKSPACE_FILE);
	imp_ok(fx, "/j.ipynb", "{\"cells\":[],\"metadata\":{\"kernelspec\":{\"language\":\"r\"}}}",
	       WORKSPACE_AUTO, WORKSPACE_LANG_NONE, false);
	o = st(fx, "/j");
	assert_int_equal(o.type, WORKSPACE_NOTEBOOK);
	assert_true(o.ipynb);
	assert_int_equal(o.lang, WORKSPACE_R);
	failed(imp(fx, "/k.ipynb", "not json", WORKSPACE_AUTO, WORKSPACE_LANG_NONE, false), 400,
	       "INVALID_PARAMETER_VALUE", "not valid JSON");
	/* RAW is always a file, even with the header: the documented ambiguity
	 * makes it read back as a notebook. */
	imp_ok(fx, "/raw.txt", HDR, WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
	assert_int_equal(st(fx, "/raw.txt").type, WORKSPACE_FILE);
	imp_ok(fx, "/amb.py", HDR "1\n", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
	assert_int_equal(st(fx, "/amb").type, WORKSPACE_NOTEBOOK);
}

static void test_jupyter(void **state)
{
	struct fx *fx = *state;
	const char *nb = "{\"cells\":[{\"cell_type\":\"markdown\",\"source\":[\"# T\"]},"
			 "{\"cell_type\":\"code\",\"source\":[\"SELECT 1\"]}],"
			 "\"metadata\":{\"language_info\":{\"name\":\"sql\"}}}";
	imp_ok(fx, "/jn", nb, WORKSPACE_JUPYTER, WORKSPACE_LANG_NONE, false);
	assert_true(exists(fx, "jn.ipynb"));
	struct workspace_object o = st(fx, "/jn");
	assert_int_equal(o.lang, WORKSPACE_SQL);
	char ft[16];
	char *s = exp_ok(fx, "/jn", WORKSPACE_SOURCE, ft);
	assert_string_equal(s, "-- Databricks notebook source\n-- MAGIC %md\n-- MAGIC # T\n\n"
			       "-- COMMAND ----------\n\nSELECT 1\n");
	assert_string_equal(ft, "sql");
	free(s);
	s = exp_ok(fx, "/jn", WORKSPACE_AUTO, ft);
	assert_string_equal(s, nb);
	assert_string_equal(ft, "ipynb");
	free(s);
	failed(imp(fx, "/bad", "[1]", WORKSPACE_JUPYTER, WORKSPACE_LANG_NONE, false), 400,
	       "INVALID_PARAMETER_VALUE", "cells");
	assert_false(exists(fx, "bad.ipynb"));
}

static void test_export(void **state)
{
	struct fx *fx = *state;
	char ft[16];
	imp_ok(fx, "/nb", "print(1)\n\n# COMMAND ----------\n\n# MAGIC %md\n# MAGIC hi\n",
	       WORKSPACE_SOURCE, WORKSPACE_PYTHON, false);
	char *s = exp_ok(fx, "/nb", WORKSPACE_SOURCE, ft);
	assert_string_equal(s, HDR "print(1)\n\n# COMMAND ----------\n\n# MAGIC %md\n# MAGIC hi\n");
	assert_string_equal(ft, "py");
	free(s);
	s = exp_ok(fx, "/nb", WORKSPACE_JUPYTER, ft);
	assert_string_equal(ft, "ipynb");
	assert_non_null(strstr(s, "\"cell_type\": \"markdown\""));
	assert_non_null(strstr(s, "python3"));
	free(s);
	imp_ok(fx, "/f.tar.gz", "bytes", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
	s = exp_ok(fx, "/f.tar.gz", WORKSPACE_SOURCE, ft);
	assert_string_equal(s, "bytes");
	assert_string_equal(ft, "gz");
	free(s);
	imp_ok(fx, "/noext", "b", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
	s = exp_ok(fx, "/noext", WORKSPACE_AUTO, ft);
	assert_string_equal(ft, "");
	free(s);
	char *out;
	size_t len;
	failed(workspace_export(fx->ws, "/noext", 6, WORKSPACE_JUPYTER, &out, &len, ft, &err), 400,
	       "INVALID_PARAMETER_VALUE", "JUPYTER");
	failed(workspace_export(fx->ws, "/", 1, WORKSPACE_SOURCE, &out, &len, ft, &err), 400,
	       "INVALID_PARAMETER_VALUE", "DBC");
	failed(workspace_export(fx->ws, "/none", 5, WORKSPACE_SOURCE, &out, &len, ft, &err), 404,
	       "RESOURCE_DOES_NOT_EXIST", "Path (/none) doesn't exist.");
}

static void test_size_limits(void **state)
{
	struct fx *fx = *state;
	size_t big = (size_t)WORKSPACE_MAX_CONTENT + 1;
	char *data = malloc(big + 1);
	memset(data, 'x', big);
	data[big] = '\0';
	failed(imp(fx, "/big", data, WORKSPACE_RAW, WORKSPACE_LANG_NONE, false), 400,
	       "MAX_NOTEBOOK_SIZE_EXCEEDED", "/big");
	assert_false(exists(fx, "big"));
	/* An operator's oversized file lists, but does not export. */
	FILE *f = fopen(at(fx, "huge.bin"), "wb");
	fwrite(data, 1, big, f);
	fclose(f);
	free(data);
	assert_int_equal(st(fx, "/huge.bin").size, (int64_t)big);
	char *out, ft[16];
	size_t len;
	failed(workspace_export(fx->ws, "/huge.bin", 9, WORKSPACE_AUTO, &out, &len, ft, &err), 400,
	       "MAX_NOTEBOOK_SIZE_EXCEEDED", "/huge.bin");
}

/* --- overwrite and conflicts ---------------------------------------------------------------- */

static void test_overwrite(void **state)
{
	struct fx *fx = *state;
	imp_ok(fx, "/nb", "a", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false);
	failed(imp(fx, "/nb", "b", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false), 400,
	       "RESOURCE_ALREADY_EXISTS", "Path (/nb) already exists.");
	/* Another language is the same object: still refused without overwrite. */
	failed(imp(fx, "/Workspace/nb", "b", WORKSPACE_SOURCE, WORKSPACE_SQL, false), 400,
	       "RESOURCE_ALREADY_EXISTS", "(/nb)");
	imp_ok(fx, "/nb", "b", WORKSPACE_SOURCE, WORKSPACE_PYTHON, true);
	assert_string_equal(slurp(at(fx, "nb.py")), HDR "b");
	/* A language change replaces the file and removes the old one. */
	imp_ok(fx, "/nb", "SELECT 1", WORKSPACE_SOURCE, WORKSPACE_SQL, true);
	assert_false(exists(fx, "nb.py"));
	assert_true(exists(fx, "nb.sql"));
	assert_int_equal(st(fx, "/nb").lang, WORKSPACE_SQL);
	/* A notebook replaced by a file, and back. */
	imp_ok(fx, "/nb", "raw", WORKSPACE_RAW, WORKSPACE_LANG_NONE, true);
	assert_false(exists(fx, "nb.sql"));
	assert_int_equal(st(fx, "/nb").type, WORKSPACE_FILE);
	imp_ok(fx, "/nb", "{\"cells\":[]}", WORKSPACE_JUPYTER, WORKSPACE_LANG_NONE, true);
	assert_false(exists(fx, "nb"));
	assert_true(st(fx, "/nb").ipynb);
	/* A folder is never overwritten. */
	assert_int_equal(workspace_mkdirs(fx->ws, "/dir", 4, &err), 0);
	failed(imp(fx, "/dir", "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, true), 400,
	       "RESOURCE_ALREADY_EXISTS", "folder");
	failed(imp(fx, "/dir", "x", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false), 400,
	       "RESOURCE_ALREADY_EXISTS", "(/dir)");
	failed(imp(fx, "/", "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, true), 400,
	       "RESOURCE_ALREADY_EXISTS", "(/)");
}

static void test_name_collisions(void **state)
{
	struct fx *fx = *state;
	/* File /t.py and notebook /t would both be t.py on disk. */
	imp_ok(fx, "/t.py", "print(1)", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
	failed(imp(fx, "/t", "x", WORKSPACE_SOURCE, WORKSPACE_PYTHON, true), 400,
	       "RESOURCE_ALREADY_EXISTS", "Path (/t.py) already exists.");
	assert_string_equal(slurp(at(fx, "t.py")), "print(1)");
	/* And the other way round: notebook /u (u.py) blocks file /u.py. */
	imp_ok(fx, "/u", "x", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false);
	failed(imp(fx, "/u.py", "y", WORKSPACE_RAW, WORKSPACE_LANG_NONE, true), 400,
	       "RESOURCE_ALREADY_EXISTS", "Path (/u) already exists.");
	/* A file named like the notebook's stem is the notebook's path. */
	imp_ok(fx, "/v", "x", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false);
	failed(imp(fx, "/v", "plain", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false), 400,
	       "RESOURCE_ALREADY_EXISTS", "(/v)");
}

static void test_missing_or_bad_parent(void **state)
{
	struct fx *fx = *state;
	/* The service answers 404 naming the parent and creates nothing. */
	failed(imp(fx, "/Users/a/nb", "x", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false), 404,
	       "RESOURCE_DOES_NOT_EXIST", "Path (/Users/a) doesn't exist.");
	assert_false(exists(fx, "Users"));
	imp_ok(fx, "/f", "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
	failed(imp(fx, "/f/nb", "x", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false), 400,
	       "RESOURCE_ALREADY_EXISTS", "Path (/f) already exists.");
	imp_ok(fx, "/n", "x", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false);
	failed(imp(fx, "/n/x", "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false), 400,
	       "RESOURCE_ALREADY_EXISTS", "not a folder");
	failed(imp(fx, "/f/g/h", "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false), 404,
	       "RESOURCE_DOES_NOT_EXIST", "(/f/g)");
}

static void test_bad_paths(void **state)
{
	struct fx *fx = *state;
	failed(imp(fx, "/a/../b", "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false), 400,
	       "INVALID_PARAMETER_VALUE", "'/a/../b'");
	failed(imp(fx, "rel", "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false), 400,
	       "INVALID_PARAMETER_VALUE", "absolute");
	failed(stat_rc(fx, "/.jobsd-tmp-1"), 400, "INVALID_PARAMETER_VALUE", "reserved");
	struct workspace_object o;
	failed(workspace_stat(fx->ws, "/a\0b", 4, &o, &err), 400, "INVALID_PARAMETER_VALUE", "NUL");
	/* 255 bytes is a legal segment, but not with ".scala" after it. */
	char p[300] = "/";
	memset(p + 1, 'n', 255);
	p[256] = '\0';
	failed(imp(fx, p, "x", WORKSPACE_SOURCE, WORKSPACE_SCALA, false), 400,
	       "INVALID_PARAMETER_VALUE", "too long");
	imp_ok(fx, p, "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
}

/* A notebook path of exactly WSPATH_MAX bytes: its file name is longer
 * than any path a client may send, and must still resolve, list and be
 * overwritten. */
static void test_longest_notebook_path(void **state)
{
	struct fx *fx = *state;
	static char dir[WSPATH_MAX + 1], nb[WSPATH_MAX + 1];
	size_t n = 0;
	for (int i = 0; i < 39; i++) {
		dir[n++] = '/';
		memset(dir + n, 'a' + i % 26, 99);
		n += 99;
	}
	dir[n] = '\0';
	if (workspace_mkdirs(fx->ws, dir, n, &err) != 0)
		fail_msg("mkdirs: %s", err.message);
	memcpy(nb, dir, n);
	nb[n] = '/';
	memset(nb + n + 1, 'n', 99);
	nb[n + 100] = '\0';
	assert_int_equal(strlen(nb), WSPATH_MAX);
	imp_ok(fx, nb, "val x = 1", WORKSPACE_SOURCE, WORKSPACE_SCALA, false);
	imp_ok(fx, nb, "val x = 2", WORKSPACE_SOURCE, WORKSPACE_SCALA, true);
	assert_int_equal(st(fx, nb).lang, WORKSPACE_SCALA);
	struct workspace_object *v;
	assert_int_equal(list(fx, dir, -1, &v), 1);
	assert_string_equal(v[0].path, nb);
	assert_int_equal(v[0].type, WORKSPACE_NOTEBOOK);
	free(v);
	char *out, ft[16];
	out = exp_ok(fx, nb, WORKSPACE_SOURCE, ft);
	assert_string_equal(out, "// Databricks notebook source\nval x = 2");
	free(out);
}

/* --- list ----------------------------------------------------------------------------------- */

static void test_list(void **state)
{
	struct fx *fx = *state;
	struct workspace_object *v;
	assert_int_equal(list(fx, "/", -1, &v), 0);
	assert_null(v);
	assert_int_equal(workspace_mkdirs(fx->ws, "/d/e", 4, &err), 0);
	imp_ok(fx, "/d/nb", "1", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false);
	imp_ok(fx, "/d/a.txt", "1", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
	imp_ok(fx, "/d/z.ipynb", "{\"cells\":[]}", WORKSPACE_AUTO, WORKSPACE_LANG_NONE, false);
	/* An operator's files show up; a shadowed duplicate shows once. */
	put_file(at(fx, "d/hand.sql"), "-- Databricks notebook source\nSELECT 1\n");
	put_file(at(fx, "d/e.py"), HDR "shadowed by folder e\n");
	mkfifo(at(fx, "d/fifo"), 0600);
	size_t n = list(fx, "/Workspace/d/", -1, &v);
	assert_int_equal(n, 5);
	assert_string_equal(v[0].path, "/d/a.txt");
	assert_int_equal(v[0].type, WORKSPACE_FILE);
	assert_string_equal(v[1].path, "/d/e");
	assert_int_equal(v[1].type, WORKSPACE_DIRECTORY);
	assert_string_equal(v[2].path, "/d/hand");
	assert_int_equal(v[2].lang, WORKSPACE_SQL);
	assert_string_equal(v[3].path, "/d/nb");
	assert_string_equal(v[4].path, "/d/z");
	assert_true(v[4].ipynb);
	free(v);
	/* notebooks_modified_after filters notebooks only. */
	n = list(fx, "/d", INT64_MAX - 1, &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].path, "/d/a.txt");
	assert_string_equal(v[1].path, "/d/e");
	free(v);
	/* A non-folder lists as itself. */
	n = list(fx, "/d/nb", -1, &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].path, "/d/nb");
	assert_int_equal(v[0].type, WORKSPACE_NOTEBOOK);
	free(v);
	n = list(fx, "/", -1, &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].path, "/d");
	free(v);
	size_t k;
	failed(workspace_list(fx->ws, "/zz", 3, -1, &v, &k, &err), 404, "RESOURCE_DOES_NOT_EXIST",
	       "(/zz)");
}

static void set_mtime(const char *path, time_t when)
{
	struct timeval tv[2] = {{when, 0}, {when, 0}};
	assert_int_equal(utimes(path, tv), 0);
}

static void test_stale_temp_files(void **state)
{
	struct fx *fx = *state;
	put_file(at(fx, ".jobsd-tmp-0011223344556677"), "stale");
	set_mtime(at(fx, ".jobsd-tmp-0011223344556677"), time(NULL) - 3600);
	put_file(at(fx, ".jobsd-tmp-8899aabbccddeeff"), "in flight");
	set_mtime(at(fx, ".jobsd-tmp-8899aabbccddeeff"), time(NULL) + 3600);
	put_file(at(fx, ".jobsd-other"), "reserved");
	struct workspace_object *v;
	assert_int_equal(list(fx, "/", -1, &v), 0); /* all hidden */
	assert_false(exists(fx, ".jobsd-tmp-0011223344556677"));
	assert_true(exists(fx, ".jobsd-tmp-8899aabbccddeeff"));
	assert_true(exists(fx, ".jobsd-other"));
}

/* --- symlinks -------------------------------------------------------------------------------- */

static void test_symlinks(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(mkdir(at(fx, "real"), 0700), 0);
	put_file(at(fx, "real/f.txt"), "inside");
	assert_int_equal(symlink("real", at(fx, "alias")), 0);	   /* stays inside */
	assert_int_equal(symlink("/etc", at(fx, "etc")), 0);	   /* absolute */
	assert_int_equal(symlink("../outside", at(fx, "out")), 0); /* relative, leaves */
	assert_int_equal(symlink("../outside/secret", at(fx, "s")), 0);
	assert_int_equal(symlink("nowhere", at(fx, "dangling")), 0);

	assert_int_equal(st(fx, "/alias").type, WORKSPACE_DIRECTORY);
	char ft[16];
	char *s = exp_ok(fx, "/alias/f.txt", WORKSPACE_AUTO, ft);
	assert_string_equal(s, "inside");
	free(s);
	imp_ok(fx, "/alias/g.txt", "via link", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
	assert_string_equal(slurp(at(fx, "real/g.txt")), "via link");

	const char *esc[] = {"/etc", "/etc/passwd", "/out", "/out/secret", "/s"};
	for (size_t i = 0; i < sizeof(esc) / sizeof(esc[0]); i++)
		failed(stat_rc(fx, esc[i]), 400, "INVALID_PARAMETER_VALUE",
		       "outside the workspace");
	char *out;
	size_t len;
	failed(workspace_export(fx->ws, "/out/secret", 11, WORKSPACE_AUTO, &out, &len, ft, &err),
	       400, "INVALID_PARAMETER_VALUE", "resolves outside the workspace");
	failed(imp(fx, "/out/x", "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false), 400,
	       "INVALID_PARAMETER_VALUE", "outside");
	failed(workspace_mkdirs(fx->ws, "/etc/x", 6, &err), 400, "INVALID_PARAMETER_VALUE",
	       "outside");
	failed(workspace_delete(fx->ws, "/out/secret", 11, false, &err), 400,
	       "INVALID_PARAMETER_VALUE", "outside");
	char secret[400];
	snprintf(secret, sizeof(secret), "%s/secret", fx->outside);
	assert_string_equal(slurp(secret), "top secret");
	/* Listing the root shows what resolves inside, and nothing else. */
	struct workspace_object *v;
	size_t n = list(fx, "/", -1, &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].path, "/alias");
	assert_string_equal(v[1].path, "/real");
	free(v);
	failed(stat_rc(fx, "/dangling"), 404, "RESOURCE_DOES_NOT_EXIST", "(/dangling)");
}

/* --- mkdirs and delete ------------------------------------------------------------------------ */

static void test_mkdirs(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(workspace_mkdirs(fx->ws, "/a/b/c", 6, &err), 0);
	assert_int_equal(st(fx, "/a/b/c").type, WORKSPACE_DIRECTORY);
	assert_int_equal(workspace_mkdirs(fx->ws, "/Workspace/a/b/", 15, &err),
			 0); /* exists: fine */
	assert_int_equal(workspace_mkdirs(fx->ws, "/", 1, &err), 0);
	imp_ok(fx, "/a/nb", "x", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false);
	failed(workspace_mkdirs(fx->ws, "/a/nb/x/y", 9, &err), 400, "RESOURCE_ALREADY_EXISTS",
	       "Path (/a/nb) already exists.");
	assert_false(exists(fx, "a/nb"));
	imp_ok(fx, "/a/f", "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
	failed(workspace_mkdirs(fx->ws, "/a/f", 4, &err), 400, "RESOURCE_ALREADY_EXISTS", "(/a/f)");
	assert_int_equal(symlink("missing", at(fx, "a/dl")), 0);
	failed(workspace_mkdirs(fx->ws, "/a/dl/x", 7, &err), 400, "RESOURCE_ALREADY_EXISTS",
	       "(/a/dl)");
	failed(workspace_mkdirs(fx->ws, "/a/../x", 7, &err), 400, "INVALID_PARAMETER_VALUE",
	       "'..'");
}

static void test_delete(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(workspace_mkdirs(fx->ws, "/d/e/f", 6, &err), 0);
	imp_ok(fx, "/d/nb", "x", WORKSPACE_SOURCE, WORKSPACE_PYTHON, false);
	imp_ok(fx, "/d/e/file", "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
	/* A symlink inside the tree to a folder outside: removed, not followed. */
	assert_int_equal(symlink("../../../outside", at(fx, "d/e/link")), 0);

	assert_int_equal(workspace_delete(fx->ws, "/d/nb", 5, false, &err), 0);
	assert_false(exists(fx, "d/nb.py"));
	failed(workspace_delete(fx->ws, "/d/nb", 5, false, &err), 404, "RESOURCE_DOES_NOT_EXIST",
	       "Path (/d/nb) doesn't exist.");
	failed(workspace_delete(fx->ws, "/d", 2, false, &err), 400, "DIRECTORY_NOT_EMPTY", "(/d)");
	assert_int_equal(workspace_delete(fx->ws, "/d/e/f", 6, false, &err), 0);
	/* An "empty" folder holding only a leftover temp file is empty. */
	assert_int_equal(workspace_mkdirs(fx->ws, "/d/g", 4, &err), 0);
	put_file(at(fx, "d/g/.jobsd-tmp-00"), "left");
	assert_int_equal(workspace_delete(fx->ws, "/d/g", 4, false, &err), 0);
	assert_false(exists(fx, "d/g"));

	assert_int_equal(workspace_delete(fx->ws, "/Workspace/d", 12, true, &err), 0);
	assert_false(exists(fx, "d"));
	char secret[400];
	snprintf(secret, sizeof(secret), "%s/secret", fx->outside);
	assert_string_equal(slurp(secret), "top secret");

	failed(workspace_delete(fx->ws, "/", 1, true, &err), 400, "INVALID_PARAMETER_VALUE",
	       "root");
	failed(workspace_delete(fx->ws, "/Workspace", 10, true, &err), 400,
	       "INVALID_PARAMETER_VALUE", "root");
	/* Deleting a symlinked folder removes the link only. */
	assert_int_equal(mkdir(at(fx, "t"), 0700), 0);
	put_file(at(fx, "t/keep"), "k");
	assert_int_equal(symlink("t", at(fx, "tl")), 0);
	assert_int_equal(workspace_delete(fx->ws, "/tl", 3, true, &err), 0);
	assert_false(exists(fx, "tl"));
	assert_true(exists(fx, "t/keep"));
}

/* --- faults ---------------------------------------------------------------------------------- */

static int race_calls;

/* Creates the target just before the rename, as a racing writer would. */
static int racer(void *arg, enum workspace_step step, int dirfd, const char *name)
{
	(void)arg;
	if (step != WORKSPACE_STEP_RENAME)
		return 0;
	race_calls++;
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "winner", 6), 6);
	close(fd);
	return 0;
}

static size_t count_temps(struct fx *fx)
{
	size_t n = 0;
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "find '%s' -name '.jobsd-tmp-*' | wc -l", fx->root);
	FILE *p = popen(cmd, "r");
	assert_int_equal(fscanf(p, "%zu", &n), 1);
	pclose(p);
	return n;
}

static void test_rename_noreplace_race(void **state)
{
	struct fx *fx = *state;
	workspace_set_fault_hook(fx->ws, racer, NULL);
	failed(imp(fx, "/r.txt", "loser", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false), 400,
	       "RESOURCE_ALREADY_EXISTS", "(/r.txt)");
	assert_int_equal(race_calls, 1);
	assert_string_equal(slurp(at(fx, "r.txt")), "winner");
	assert_int_equal(count_temps(fx), 0);
	workspace_set_fault_hook(fx->ws, NULL, NULL);
}

struct inject {
	enum workspace_step step;
	int err;
};

static int injector(void *arg, enum workspace_step step, int dirfd, const char *name)
{
	(void)dirfd;
	(void)name;
	const struct inject *in = arg;
	return step == in->step ? in->err : 0;
}

static void test_injected_io_errors(void **state)
{
	struct fx *fx = *state;
	struct inject cases[] = {
		{WORKSPACE_STEP_WRITE, -ENOSPC},
		{WORKSPACE_STEP_FSYNC, -EIO},
		{WORKSPACE_STEP_RENAME, -EDQUOT},
		{WORKSPACE_STEP_WRITE, -EACCES},
	};
	imp_ok(fx, "/keep", "old", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		workspace_set_fault_hook(fx->ws, injector, &cases[i]);
		int rc = imp(fx, "/keep", "new", WORKSPACE_RAW, WORKSPACE_LANG_NONE, true);
		if (cases[i].err == -EACCES)
			failed(rc, 500, "INTERNAL_ERROR", "(/keep)");
		else
			failed(rc, 503, "TEMPORARILY_UNAVAILABLE", "(/keep)");
		assert_string_equal(slurp(at(fx, "keep")), "old");
		assert_int_equal(count_temps(fx), 0);
	}
	failed(imp(fx, "/fresh", "x", WORKSPACE_RAW, WORKSPACE_LANG_NONE, false), 500,
	       "INTERNAL_ERROR", "(/fresh)");
	assert_false(exists(fx, "fresh"));
	workspace_set_fault_hook(fx->ws, NULL, NULL);
	imp_ok(fx, "/keep", "new", WORKSPACE_RAW, WORKSPACE_LANG_NONE, true);
	assert_string_equal(slurp(at(fx, "keep")), "new");
}

/* --- concurrency ------------------------------------------------------------------------------ */

struct racer_arg {
	struct fx *fx;
	int ok;
};

static void *import_thread(void *p)
{
	struct racer_arg *a = p;
	struct model_error e;
	struct workspace_import i = {"/same", 5, "x", 1, WORKSPACE_SOURCE, WORKSPACE_PYTHON, false};
	a->ok = workspace_import(a->fx->ws, &i, &e) == 0;
	if (!a->ok)
		assert_string_equal(e.code, "RESOURCE_ALREADY_EXISTS");
	return NULL;
}

static void test_concurrent_imports(void **state)
{
	struct fx *fx = *state;
	pthread_t t[8];
	struct racer_arg a[8];
	for (int i = 0; i < 8; i++) {
		a[i] = (struct racer_arg){fx, 0};
		pthread_create(&t[i], NULL, import_thread, &a[i]);
	}
	int wins = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		wins += a[i].ok;
	}
	assert_int_equal(wins, 1);
	assert_int_equal(count_temps(fx), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	log_set_level(LOG_OFF);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_missing_root),
		T(test_source_with_language),
		T(test_source_language_from_extension),
		T(test_auto_and_raw),
		T(test_jupyter),
		T(test_export),
		T(test_size_limits),
		T(test_overwrite),
		T(test_name_collisions),
		T(test_missing_or_bad_parent),
		T(test_bad_paths),
		T(test_longest_notebook_path),
		T(test_list),
		T(test_stale_temp_files),
		T(test_symlinks),
		T(test_mkdirs),
		T(test_delete),
		T(test_rename_noreplace_race),
		T(test_injected_io_errors),
		T(test_concurrent_imports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
