/* tz_test.c - unit tests for src/sched/tz.c (Java-compatible zone ids).
 *
 * Two sources of zone files: a fake zoneinfo tree made per run under
 * $TMPDIR (fixed contents: TZif files, non-TZif files, a directory, a FIFO,
 * symlinks, a TZif file outside the tree that path tricks would reach), and
 * the system's /usr/share/zoneinfo for real names and aliases (those tests
 * skip when tzdata is not installed). Expected answers for GMT offsets are
 * what OpenJDK 17's TimeZone.getTimeZone() gives. Single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sched/tz.h"
#include "testutil.h"

#define SYSTEM_DIR "/usr/share/zoneinfo"

struct fake {
	char root[256]; /* mkdtemp dir holding zi/ and outside */
	char zi[300];   /* the fake zoneinfo dir */
};

static void write_file(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void path_in(const struct fake *f, const char *rel, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", f->root, rel);
}

static void mk_dir(const struct fake *f, const char *rel)
{
	char p[512];
	path_in(f, rel, p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
}

static void mk_file(const struct fake *f, const char *rel, const char *data, size_t n)
{
	char p[512];
	path_in(f, rel, p, sizeof(p));
	write_file(p, data, n);
}

static int fake_setup(void **state)
{
	static const char tzif[] = "TZif2\0\0\0 pretend TZif body";
	struct fake *f = calloc(1, sizeof(*f));
	char p[512];

	assert_non_null(f);
	assert_int_equal(test_mkdtemp(f->root, sizeof(f->root), "tz_test"), 0);
	snprintf(f->zi, sizeof(f->zi), "%s/zi", f->root);

	mk_dir(f, "zi");
	mk_dir(f, "zi/Good");
	mk_file(f, "zi/Good/Zone", tzif, sizeof(tzif));
	mk_file(f, "zi/UTC", tzif, sizeof(tzif));
	mk_dir(f, "zi/Etc");
	mk_file(f, "zi/Etc/GMT+5", tzif, sizeof(tzif));
	mk_dir(f, "zi/America");
	mk_file(f, "zi/America/Los_Angeles", tzif, sizeof(tzif));
	mk_dir(f, "zi/Bad");
	mk_file(f, "zi/Bad/Text", "# zone.tab\n", 11);
	mk_file(f, "zi/Short", "TZ", 2);
	mk_dir(f, "zi/Dir");
	mk_dir(f, "zi/Dir/Sub");
	path_in(f, "zi/Fifo", p, sizeof(p));
	assert_int_equal(mkfifo(p, 0644), 0);
	path_in(f, "zi/LinkOk", p, sizeof(p));
	assert_int_equal(symlink("Good/Zone", p), 0);
	path_in(f, "zi/LinkBad", p, sizeof(p));
	assert_int_equal(symlink("Bad/Text", p), 0);
	mk_file(f, "zi/posixrules", tzif, sizeof(tzif));
	mk_dir(f, "zi/posix");
	mk_file(f, "zi/posix/UTC", tzif, sizeof(tzif));
	mk_file(f, "zi/Mixed+Name_1-2", tzif, sizeof(tzif));
	/* A valid TZif file just outside the tree: the target of path tricks. */
	mk_file(f, "outside", tzif, sizeof(tzif));
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	int rc = test_rmtree(f->root);

	free(f);
	return rc;
}

static void accept_as(const char *dir, const char *id, const char *want)
{
	char can[TZ_CANONICAL_MAX];

	if (tz_id_check(id, dir, can, sizeof(can)) != 0)
		fail_msg("'%s' rejected (dir %s)", id, dir ? dir : "default");
	if (strcmp(can, want) != 0)
		fail_msg("'%s': canonical '%s', want '%s'", id, can, want);
}

static void reject(const char *dir, const char *id)
{
	char can[TZ_CANONICAL_MAX] = "untouched";

	if (tz_id_check(id, dir, can, sizeof(can)) == 0)
		fail_msg("'%s' accepted as '%s' (dir %s)", id, can, dir ? dir : "default");
	assert_string_equal(can, "");
}

static int have_system_tzdata(void)
{
	return access(SYSTEM_DIR "/America/New_York", R_OK) == 0;
}

/* --- fake tree ---------------------------------------------------------------- */

static void test_fake_files(void **state)
{
	struct fake *f = *state;

	accept_as(f->zi, "Good/Zone", "Good/Zone");
	accept_as(f->zi, "UTC", "UTC");
	accept_as(f->zi, "Etc/GMT+5", "Etc/GMT+5");
	accept_as(f->zi, "LinkOk", "LinkOk");
	accept_as(f->zi, "Mixed+Name_1-2", "Mixed+Name_1-2");
	/* Files that are not TZif, or not files at all. */
	reject(f->zi, "Bad/Text");
	reject(f->zi, "Short");
	reject(f->zi, "Dir");
	reject(f->zi, "Dir/Sub");
	reject(f->zi, "Fifo"); /* and does not hang */
	reject(f->zi, "LinkBad");
	reject(f->zi, "Good/Missing");
	reject(f->zi, "Mars/Olympus");
	/* Java does not know these even though they are TZif files. */
	reject(f->zi, "posixrules");
	reject(f->zi, "posix/UTC");
	/* A directory that does not exist. */
	reject("/nonexistent/zoneinfo", "UTC");
}

static void test_fake_path_tricks(void **state)
{
	struct fake *f = *state;
	char abs[600];

	/* "outside" is a TZif file one level up: none of these may reach it. */
	reject(f->zi, "../outside");
	reject(f->zi, "Good/../../outside");
	reject(f->zi, "./UTC");
	reject(f->zi, "Good/./Zone");
	reject(f->zi, "Good//Zone");
	reject(f->zi, "/Good/Zone");
	reject(f->zi, "Good/Zone/");
	reject(f->zi, "Good/Zone\n");
	reject(f->zi, "Good/Zone ");
	reject(f->zi, "Good\\Zone");
	reject(f->zi, "Good/Zone\x01");
	reject(f->zi, "Good/Z\xc3\xb6ne");
	reject(f->zi, "Good/Zone;rm");
	reject(f->zi, "~/x");
	reject(f->zi, "$HOME");
	reject(f->zi, "..");
	reject(f->zi, ".");
	reject(f->zi, "/");
	reject(f->zi, "");
	snprintf(abs, sizeof(abs), "%s/outside", f->root);
	reject(f->zi, abs);
	reject(f->zi, "../etc/passwd");
	reject(f->zi, "America/../../etc");
}

static void test_fake_aliases_need_their_file(void **state)
{
	struct fake *f = *state;

	accept_as(f->zi, "PST", "America/Los_Angeles");
	accept_as(f->zi, "EST", "Etc/GMT+5");
	accept_as(f->zi, "SystemV/EST5", "Etc/GMT+5");
	/* The fake tree has no Asia/Tokyo, so JST cannot be served. */
	reject(f->zi, "JST");
}

/* --- GMT offsets ---------------------------------------------------------------- */

static void test_gmt_offsets(void **state)
{
	(void)state;
	/* Results of java.util.TimeZone.getTimeZone(id).getID() on OpenJDK 17.
	 * Offsets need no file: check them against an empty directory. */
	static const struct {
		const char *id, *canonical;
		int32_t offset_s;
	} ok[] = {
		{ "GMT+5", "GMT+05:00", 5 * 3600 },
		{ "GMT+05", "GMT+05:00", 5 * 3600 },
		{ "GMT-5", "GMT-05:00", -5 * 3600 },
		{ "GMT+5:30", "GMT+05:30", 19800 },
		{ "GMT+05:30", "GMT+05:30", 19800 },
		{ "GMT+0530", "GMT+05:30", 19800 },
		{ "GMT+530", "GMT+05:30", 19800 },
		{ "GMT+00530", "GMT+05:30", 19800 },
		{ "GMT+123", "GMT+01:23", 83 * 60 },
		{ "GMT+:30", "GMT+00:30", 30 * 60 },
		{ "GMT+23:59", "GMT+23:59", 1439 * 60 },
		{ "GMT+2359", "GMT+23:59", 1439 * 60 },
		{ "GMT-23:59", "GMT-23:59", -1439 * 60 },
		{ "GMT+0", "GMT+00:00", 0 },
		{ "GMT-0", "GMT-00:00", 0 },
		{ "GMT+00:00", "GMT+00:00", 0 },
		{ "GMT+0000000005", "GMT+00:05", 5 * 60 },
	};
	static const char *const bad[] = {
		"GMT+", "GMT-", "GMT+24", "GMT+24:00", "GMT+2400", "GMT+2360", "GMT+23:60",
		"GMT+5:3", "GMT+12:3", "GMT+123:00", "GMT+1:00:00", "GMT+1:", "GMT+:",
		"GMT+-5", "GMT++5", "GMT+5 ", " GMT+5", "GMT5", "GMTx", "UTC+5", "UTC-05:00",
		"GMT+5a", "GMT+99999999999999999999", "gmt+5", "Z",
	};
	char can[TZ_CANONICAL_MAX];
	int32_t off;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		accept_as("/nonexistent", ok[i].id, ok[i].canonical);
		assert_int_equal(tz_id_check(ok[i].id, "/nonexistent", can, sizeof(can)), 0);
		assert_int_equal(tz_fixed_offset(can, &off), 0);
		assert_int_equal(off, ok[i].offset_s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		reject("/nonexistent", bad[i]);
}

static void test_fixed_offset_parser(void **state)
{
	(void)state;
	int32_t off = 12345;

	assert_int_equal(tz_fixed_offset("GMT+05:30", &off), 0);
	assert_int_equal(off, 19800);
	assert_int_equal(tz_fixed_offset("GMT-00:00", &off), 0);
	assert_int_equal(off, 0);
	off = 12345;
	assert_int_equal(tz_fixed_offset("GMT+5", &off), -1);
	assert_int_equal(tz_fixed_offset("GMT+24:00", &off), -1);
	assert_int_equal(tz_fixed_offset("GMT+05:60", &off), -1);
	assert_int_equal(tz_fixed_offset("GMT+05-30", &off), -1);
	assert_int_equal(tz_fixed_offset("GMT+05:30x", &off), -1);
	assert_int_equal(tz_fixed_offset("America/New_York", &off), -1);
	assert_int_equal(tz_fixed_offset("", &off), -1);
	assert_int_equal(tz_fixed_offset(NULL, &off), -1);
	assert_int_equal(off, 12345);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	char can[TZ_CANONICAL_MAX], small[6] = "xxxxx";
	char long_id[TZ_ID_MAX + 2];

	assert_int_equal(tz_id_check(NULL, NULL, can, sizeof(can)), -1);
	assert_int_equal(tz_id_check("GMT+5", NULL, NULL, 0), -1);
	assert_int_equal(tz_id_check("GMT+5", NULL, can, 0), -1);
	/* The canonical id must fit, whole. */
	assert_int_equal(tz_id_check("GMT+5", NULL, small, sizeof(small)), -1);
	assert_string_equal(small, "");
	/* Over TZ_ID_MAX bytes: refused before any file access. */
	memset(long_id, 'A', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	reject(NULL, long_id);
	for (size_t i = 1; i < sizeof(long_id) - 1; i += 2)
		long_id[i] = '/';
	reject(NULL, long_id);
}

/* --- the system tz database ------------------------------------------------------ */

static void test_system_names(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	static const char *const names[] = {
		"America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Paris",
		"Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney", "Pacific/Apia",
		"America/Argentina/Buenos_Aires", "America/Port-au-Prince",
		"America/Indiana/Indianapolis", "UTC", "GMT", "GMT0", "UCT", "Zulu",
		"Etc/UTC", "Etc/GMT+5", "Etc/GMT-14", "US/Eastern", "US/Pacific",
		"CET", "EST5EDT", "PST8PDT",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		accept_as(NULL, names[i], names[i]);
		accept_as(SYSTEM_DIR, names[i], names[i]);
	}
}

static void test_system_aliases(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	/* Java's legacy ids: the zone with the same rules in OpenJDK 17. */
	static const char *const map[][2] = {
		{ "ACT", "Australia/Darwin" }, { "AET", "Australia/Sydney" },
		{ "AGT", "America/Argentina/Buenos_Aires" }, { "ART", "Africa/Cairo" },
		{ "AST", "America/Anchorage" }, { "BET", "America/Sao_Paulo" },
		{ "BST", "Asia/Dhaka" }, { "CAT", "Africa/Harare" },
		{ "CNT", "America/St_Johns" }, { "CST", "America/Chicago" },
		{ "CTT", "Asia/Shanghai" }, { "EAT", "Africa/Addis_Ababa" },
		{ "ECT", "Europe/Paris" }, { "EST", "Etc/GMT+5" }, { "HST", "Etc/GMT+10" },
		{ "IET", "America/Indiana/Indianapolis" }, { "IST", "Asia/Kolkata" },
		{ "JST", "Asia/Tokyo" }, { "MIT", "Pacific/Apia" }, { "MST", "Etc/GMT+7" },
		{ "NET", "Asia/Yerevan" }, { "NST", "Pacific/Auckland" },
		{ "PLT", "Asia/Karachi" }, { "PNT", "America/Phoenix" },
		{ "PRT", "America/Puerto_Rico" }, { "PST", "America/Los_Angeles" },
		{ "SST", "Pacific/Guadalcanal" }, { "VST", "Asia/Ho_Chi_Minh" },
		{ "SystemV/AST4", "Etc/GMT+4" }, { "SystemV/CST6", "Etc/GMT+6" },
		{ "SystemV/EST5", "Etc/GMT+5" }, { "SystemV/HST10", "Etc/GMT+10" },
		{ "SystemV/MST7", "Etc/GMT+7" }, { "SystemV/PST8", "Etc/GMT+8" },
		{ "SystemV/YST9", "Etc/GMT+9" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		accept_as(NULL, map[i][0], map[i][1]);
}

static void test_system_rejects(void **state)
{
	(void)state;
	if (!have_system_tzdata())
		skip();
	static const char *const bad[] = {
		"Mars/Olympus", "../etc/passwd", "America/../../etc", "", "Z", "utc",
		"america/new_york", "America/New_York ", "America", "America/",
		"posix/America/New_York", "right/UTC", "posixrules", "localtime",
		"Factory", "ROC", "zone.tab", "tzdata.zi", "iso3166.tab",
		"leap-seconds.list", "SystemV/EST5EDT", "SystemV/PST8PDT",
		"SystemV/Nowhere", "PDT", "EDT", "CEST", "UTC+5", "Etc/GMT+15",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		reject(NULL, bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fake_files, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_fake_path_tricks, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_fake_aliases_need_their_file, fake_setup,
						fake_teardown),
		cmocka_unit_test(test_gmt_offsets),
		cmocka_unit_test(test_fixed_offset_parser),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_system_names),
		cmocka_unit_test(test_system_aliases),
		cmocka_unit_test(test_system_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
