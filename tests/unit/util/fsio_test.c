/* fsio_test.c - unit tests for src/util/fsio.c (atomic replace, bounded
 * read, mkdir -p).
 *
 * Each case works in its own mkdtemp directory, removed at the end. What is
 * checked is what callers rely on: after fsio_write_atomic the file holds
 * exactly the new bytes and nothing else is left in the directory, on
 * success and on failure; fsio_read_all never reads past its limit.
 * Single-threaded; no sleeps.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "util/fsio.h"

struct tmp {
	char dir[256];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	if (test_mkdtemp(t->dir, sizeof(t->dir), "fsio_test") != 0) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	int rc = test_rmtree(t->dir);
	free(t);
	return rc;
}

static const char *in_dir(void **state, const char *name, char *buf, size_t n)
{
	struct tmp *t = *state;
	if (snprintf(buf, n, "%s/%s", t->dir, name) >= (int)n)
		fail_msg("path too long");
	return buf;
}

/* The names in the test directory (sorted, space-separated). */
static void dir_listing(void **state, char *out, size_t n)
{
	struct tmp *t = *state;
	struct dirent **names;
	int k = scandir(t->dir, &names, NULL, alphasort);
	assert_true(k >= 0);
	size_t used = 0;
	out[0] = '\0';
	for (int i = 0; i < k; i++) {
		const char *s = names[i]->d_name;
		if (strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && used < n)
			used += (size_t)snprintf(out + used, n - used, "%s%s", used ? " " : "", s);
		free(names[i]);
	}
	free(names);
}

static void read_back(const char *path, const char *want, size_t want_len)
{
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(fsio_read_all(path, 1 << 20, &out, &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(out, want, want_len);
	assert_int_equal(out[len], '\0');
	free(out);
}

/* --- write_atomic --------------------------------------------------------------- */

static void test_write_atomic_creates_with_mode(void **state)
{
	char path[PATH_MAX], ls[512];
	in_dir(state, "state.json", path, sizeof(path));
	mode_t old = umask(022);
	assert_int_equal(fsio_write_atomic(path, "{\"a\":1}", 7, 0600), 0);
	umask(old);
	read_back(path, "{\"a\":1}", 7);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	dir_listing(state, ls, sizeof(ls));
	assert_string_equal(ls, "state.json");
}

static void test_write_atomic_replaces_contents(void **state)
{
	char path[PATH_MAX], ls[512];
	in_dir(state, "f", path, sizeof(path));
	char big[10000];
	memset(big, 'B', sizeof(big));
	assert_int_equal(fsio_write_atomic(path, big, sizeof(big), 0644), 0);
	/* A shorter replacement leaves no tail of the old contents. */
	assert_int_equal(fsio_write_atomic(path, "short", 5, 0644), 0);
	read_back(path, "short", 5);
	/* Empty contents, and binary contents with NULs. */
	assert_int_equal(fsio_write_atomic(path, "", 0, 0644), 0);
	read_back(path, "", 0);
	assert_int_equal(fsio_write_atomic(path, "a\0b", 3, 0644), 0);
	read_back(path, "a\0b", 3);
	dir_listing(state, ls, sizeof(ls));
	assert_string_equal(ls, "f"); /* no temporary file left behind */
}

static void test_write_atomic_replaces_not_rewrites(void **state)
{
	/* A reader holding the old file keeps seeing the old contents: the new
	 * file is a different inode renamed into place. */
	char path[PATH_MAX];
	in_dir(state, "g", path, sizeof(path));
	assert_int_equal(fsio_write_atomic(path, "old", 3, 0644), 0);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fsio_write_atomic(path, "new!", 4, 0644), 0);
	char buf[8] = {0};
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 3);
	assert_string_equal(buf, "old");
	close(fd);
	read_back(path, "new!", 4);
}

static void test_write_atomic_failures_leave_nothing(void **state)
{
	char path[PATH_MAX], ls[512];
	/* The directory does not exist. */
	in_dir(state, "missing/f", path, sizeof(path));
	assert_int_equal(fsio_write_atomic(path, "x", 1, 0644), -ENOENT);
	/* The target is a directory: the rename fails, the temp file goes. */
	in_dir(state, "adir", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	int rc = fsio_write_atomic(path, "x", 1, 0644);
	assert_true(rc < 0);
	dir_listing(state, ls, sizeof(ls));
	assert_string_equal(ls, "adir");
	/* A path too long for the temporary name. */
	char longp[5000];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(fsio_write_atomic(longp, "x", 1, 0644), -ENAMETOOLONG);
}

/* --- read_all ------------------------------------------------------------------- */

static void test_read_all_limits(void **state)
{
	char path[PATH_MAX];
	in_dir(state, "r", path, sizeof(path));
	assert_int_equal(fsio_write_atomic(path, "0123456789", 10, 0644), 0);
	char *out = (char *)"untouched";
	size_t len = 77;
	assert_int_equal(fsio_read_all(path, 10, &out, &len), 0); /* exactly max */
	assert_string_equal(out, "0123456789");
	assert_int_equal(len, 10);
	free(out);

	out = (char *)"untouched";
	len = 77;
	assert_int_equal(fsio_read_all(path, 9, &out, &len), -EFBIG);
	assert_string_equal(out, "untouched"); /* outputs untouched on error */
	assert_int_equal(len, 77);
	assert_int_equal(fsio_read_all(path, 0, &out, &len), -EFBIG);

	in_dir(state, "empty", path, sizeof(path));
	assert_int_equal(fsio_write_atomic(path, "", 0, 0644), 0);
	assert_int_equal(fsio_read_all(path, 0, &out, &len), 0);
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	free(out);
}

static void test_read_all_errors(void **state)
{
	char path[PATH_MAX];
	char *out;
	size_t len;
	in_dir(state, "nope", path, sizeof(path));
	assert_int_equal(fsio_read_all(path, 100, &out, &len), -ENOENT);
	struct tmp *t = *state;
	assert_int_equal(fsio_read_all(t->dir, 100, &out, &len), -EINVAL); /* a directory */
	/* Not a regular file: a FIFO would block a plain read loop forever. */
	in_dir(state, "fifo", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0600), 0);
	int keep = open(path, O_RDWR); /* so opening for reading does not block */
	assert_true(keep >= 0);
	assert_int_equal(fsio_read_all(path, 100, &out, &len), -EINVAL);
	close(keep);
}

/* --- mkdir_p and friends ------------------------------------------------------------ */

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdir_p(void **state)
{
	char path[PATH_MAX];
	in_dir(state, "a/b/c", path, sizeof(path));
	assert_int_equal(fsio_mkdir_p(path, 0755), 0);
	assert_true(is_dir(path));
	assert_int_equal(fsio_mkdir_p(path, 0755), 0); /* existing is fine */
	in_dir(state, "a/b", path, sizeof(path));
	assert_int_equal(fsio_mkdir_p(path, 0755), 0);
	in_dir(state, "x/y/", path, sizeof(path)); /* trailing slash */
	assert_int_equal(fsio_mkdir_p(path, 0755), 0);
	assert_true(is_dir(path));
	in_dir(state, "p//q", path, sizeof(path)); /* doubled slash */
	assert_int_equal(fsio_mkdir_p(path, 0755), 0);
	assert_true(is_dir(path));
}

static void test_mkdir_p_through_a_file_fails(void **state)
{
	char file[PATH_MAX], path[PATH_MAX];
	in_dir(state, "file", file, sizeof(file));
	assert_int_equal(fsio_write_atomic(file, "x", 1, 0644), 0);
	in_dir(state, "file/sub", path, sizeof(path));
	assert_int_equal(fsio_mkdir_p(path, 0755), -ENOTDIR);
}

static void test_mkdir_p_on_an_existing_file_fails(void **state)
{
	/* "existing directories are fine" (fsio.h); an existing file is not a
	 * directory, and a caller that goes on to create files under it fails
	 * later with a less clear error. mkdir -p reports "File exists". */
	char file[PATH_MAX];
	in_dir(state, "plain", file, sizeof(file));
	assert_int_equal(fsio_write_atomic(file, "x", 1, 0644), 0);
	int rc = fsio_mkdir_p(file, 0755);
	if (rc == 0)
		fail_msg("fsio_mkdir_p on a regular file returned 0");
	assert_true(rc == -EEXIST || rc == -ENOTDIR);
}

static void test_fsync_dir_and_write_full(void **state)
{
	struct tmp *t = *state;
	char path[PATH_MAX];
	assert_int_equal(fsio_fsync_dir(t->dir), 0);
	in_dir(state, "none", path, sizeof(path));
	assert_int_equal(fsio_fsync_dir(path), -ENOENT);

	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fsio_write_full(p[1], "hello", 5), 0);
	char buf[8] = {0};
	assert_int_equal(read(p[0], buf, sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	close(p[0]);
	/* Writing to a pipe with no reader: an error, not a hang. */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	assert_int_equal(fsio_write_full(p[1], "x", 1), -EPIPE);
	signal(SIGPIPE, old);
	close(p[1]);
	assert_int_equal(fsio_write_full(-1, "x", 1), -EBADF);
}

/* rm -r removes everything below, but never what a symlink points to. */
static void test_remove_tree(void **state)
{
	char top[PATH_MAX], deep[PATH_MAX], file[PATH_MAX], outside[PATH_MAX], link[PATH_MAX];
	in_dir(state, "t", top, sizeof(top));
	in_dir(state, "t/a/b", deep, sizeof(deep));
	in_dir(state, "t/a/b/f", file, sizeof(file));
	in_dir(state, "keep", outside, sizeof(outside));
	in_dir(state, "t/a/link", link, sizeof(link));
	assert_int_equal(fsio_mkdir_p(deep, 0755), 0);
	assert_int_equal(fsio_write_atomic(file, "x", 1, 0600), 0);
	assert_int_equal(fsio_mkdir_p(outside, 0755), 0);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(fsio_remove_tree(top), 0);
	assert_false(is_dir(top));
	assert_true(is_dir(outside));
	assert_int_equal(fsio_remove_tree(top), 0); /* already gone: fine */
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_write_atomic_creates_with_mode),
		T(test_write_atomic_replaces_contents),
		T(test_write_atomic_replaces_not_rewrites),
		T(test_write_atomic_failures_leave_nothing),
		T(test_read_all_limits),
		T(test_read_all_errors),
		T(test_mkdir_p),
		T(test_mkdir_p_through_a_file_fails),
		T(test_mkdir_p_on_an_existing_file_fails),
		T(test_fsync_dir_and_write_full),
		T(test_remove_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
