/* tz.c - Java-compatible time zone id check (see tz.h).
 *
 * Order of the checks, as in java.util.TimeZone.getTimeZone(): custom
 * "GMT+hh:mm" ids, then Java's own alias table, then the tz database. The
 * id becomes part of a file path, so before it gets near open() it must be
 * '/'-separated segments of [A-Za-z0-9_+-] with no leading '/': no '.', no
 * "..", no empty segment, nothing the shell or the kernel reads specially.
 * A file counts only if it is a regular file starting with the TZif magic.
 *
 * Invariant: tz_id_check() returns 0 only with a canonical id that is a
 * TZif file under the given directory or a normalized fixed offset.
 * Threads: constant tables, open/read/close on a private descriptor, and a
 * small cache of ids already found in the system database (under a mutex):
 * checking a schedule's zone is on the path of every jobs/create, and the
 * file check costs a few system calls.
 */
#include "sched/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Java's legacy ids (java.util.TimeZone, sun.util.calendar.ZoneInfoFile
 * oldMappings) with the IANA zone Java gives the same rules; checked with
 * TimeZone.hasSameRules() on OpenJDK 17. EST, MST and HST are fixed offsets
 * in Java (sun.timezone.ids.oldmapping=false, the default), hence Etc/GMT+n
 * rather than America/New_York. */
static const struct {
	const char *id;
	const char *zone;
} aliases[] = {
	{"ACT", "Australia/Darwin"},
	{"AET", "Australia/Sydney"},
	{"AGT", "America/Argentina/Buenos_Aires"},
	{"ART", "Africa/Cairo"},
	{"AST", "America/Anchorage"},
	{"BET", "America/Sao_Paulo"},
	{"BST", "Asia/Dhaka"},
	{"CAT", "Africa/Harare"},
	{"CNT", "America/St_Johns"},
	{"CST", "America/Chicago"},
	{"CTT", "Asia/Shanghai"},
	{"EAT", "Africa/Addis_Ababa"},
	{"ECT", "Europe/Paris"},
	{"EST", "Etc/GMT+5"},
	{"HST", "Etc/GMT+10"},
	{"IET", "America/Indiana/Indianapolis"},
	{"IST", "Asia/Kolkata"},
	{"JST", "Asia/Tokyo"},
	{"MIT", "Pacific/Apia"},
	{"MST", "Etc/GMT+7"},
	{"NET", "Asia/Yerevan"},
	{"NST", "Pacific/Auckland"},
	{"PLT", "Asia/Karachi"},
	{"PNT", "America/Phoenix"},
	{"PRT", "America/Puerto_Rico"},
	{"PST", "America/Los_Angeles"},
	{"SST", "Pacific/Guadalcanal"},
	{"VST", "Asia/Ho_Chi_Minh"},
	{"SystemV/AST4", "Etc/GMT+4"},
	{"SystemV/CST6", "Etc/GMT+6"},
	{"SystemV/EST5", "Etc/GMT+5"},
	{"SystemV/HST10", "Etc/GMT+10"},
	{"SystemV/MST7", "Etc/GMT+7"},
	{"SystemV/PST8", "Etc/GMT+8"},
	{"SystemV/YST9", "Etc/GMT+9"},
};

/* TZif files that Java's TimeZone does not know: it would read these ids
 * as GMT, so accepting them would fire at other times than Databricks. */
static const char *const not_java[] = {
	"Factory",
	"localtime",
	"posixrules",
	"ROC",
};
static const char *const not_java_prefix[] = {
	"posix/",
	"right/",
	"SystemV/",
};

static int put(char *canonical, size_t n, const char *s)
{
	if (!canonical || n == 0)
		return -1;
	if (strlen(s) >= n) {
		canonical[0] = '\0';
		return -1;
	}
	memcpy(canonical, s, strlen(s) + 1);
	return 0;
}

/* java.util.TimeZone.parseCustomTimeZone: "GMT", a sign, then h, hh, hmm,
 * hhmm (more digits if leading zeros) or h:mm / hh:mm (also ":mm"). */
static int parse_custom(const char *id, bool *negative, int *hours, int *minutes)
{
	size_t len = strlen(id);
	long num = 0;
	int h = 0, delim = 0, digits = 0;

	if (len < 5 || strncmp(id, "GMT", 3) != 0)
		return -1;
	if (id[3] != '+' && id[3] != '-')
		return -1;
	*negative = id[3] == '-';
	for (const char *p = id + 4; *p; p++) {
		if (*p == ':') {
			if (delim > 0 || digits > 2)
				return -1;
			h = (int)num;
			delim++;
			num = 0;
			digits = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			return -1;
		num = num * 10 + (*p - '0');
		digits++;
		/* Any larger number fails below anyway (hours > 23 or a
		 * minutes part that is not two digits); stop before overflow. */
		if (num > 9999)
			return -1;
	}
	if (delim == 0) {
		if (digits <= 2) {
			h = (int)num;
			num = 0;
		} else {
			h = (int)(num / 100);
			num %= 100;
		}
	} else if (digits != 2) {
		return -1;
	}
	if (h > 23 || num > 59)
		return -1;
	*hours = h;
	*minutes = (int)num;
	return 0;
}

/* Segments of [A-Za-z0-9_+-]+ separated by single '/', no leading or
 * trailing '/'. There is no '.' in the alphabet, so neither "." nor ".."
 * can appear as a segment. */
static bool safe_name(const char *id)
{
	size_t seg = 0, len = 0;

	for (const char *p = id; *p; p++, len++) {
		char c = *p;
		if (c == '/') {
			if (seg == 0)
				return false;
			seg = 0;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '+' || c == '-'))
			return false;
		seg++;
	}
	return len > 0 && len <= TZ_ID_MAX && seg > 0;
}

/* True if dir/name is a regular file that starts with "TZif". */
static bool is_tzif(const char *dir, const char *name)
{
	char path[PATH_MAX], magic[4];
	struct stat st;
	bool ok = false;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return false;
	/* O_NONBLOCK: a FIFO planted in a test directory must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		ssize_t r;
		do
			r = pread(fd, magic, sizeof(magic), 0);
		while (r < 0 && errno == EINTR);
		ok = r == (ssize_t)sizeof(magic) && memcmp(magic, "TZif", 4) == 0;
	}
	close(fd);
	return ok;
}

/* Positive answers for the default database only; a full cache overwrites
 * its oldest entry. Zones are not removed from a tz database in practice. */
#define CACHE_SLOTS 64
static struct {
	pthread_mutex_t lock;
	unsigned next;
	char id[CACHE_SLOTS][TZ_ID_MAX + 1];
	char canonical[CACHE_SLOTS][TZ_ID_MAX + 1];
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool cache_get(const char *id, char *canonical, size_t n)
{
	bool hit = false;
	pthread_mutex_lock(&cache.lock);
	for (unsigned i = 0; i < CACHE_SLOTS && !hit; i++) {
		if (cache.id[i][0] && strcmp(cache.id[i], id) == 0) {
			hit = put(canonical, n, cache.canonical[i]) == 0;
		}
	}
	pthread_mutex_unlock(&cache.lock);
	return hit;
}

static void cache_put(const char *id, const char *canonical)
{
	if (strlen(canonical) > TZ_ID_MAX)
		return;
	pthread_mutex_lock(&cache.lock);
	unsigned i = cache.next++ % CACHE_SLOTS;
	snprintf(cache.id[i], sizeof(cache.id[i]), "%s", id);
	snprintf(cache.canonical[i], sizeof(cache.canonical[i]), "%s", canonical);
	pthread_mutex_unlock(&cache.lock);
}

static int check_uncached(const char *id, const char *zoneinfo_dir, char *canonical, size_t n);

int tz_id_check(const char *id, const char *zoneinfo_dir, char *canonical, size_t n)
{
	if (!zoneinfo_dir && id && canonical && n > 0 && strnlen(id, TZ_ID_MAX + 1) <= TZ_ID_MAX &&
	    cache_get(id, canonical, n))
		return 0;
	int rc = check_uncached(id, zoneinfo_dir, canonical, n);
	if (rc == 0 && !zoneinfo_dir)
		cache_put(id, canonical);
	return rc;
}

static int check_uncached(const char *id, const char *zoneinfo_dir, char *canonical, size_t n)
{
	const char *dir = zoneinfo_dir ? zoneinfo_dir : TZ_ZONEINFO_DIR;
	bool negative;
	int h, m;

	if (canonical && n > 0)
		canonical[0] = '\0';
	if (!id || !canonical || n == 0 || strnlen(id, TZ_ID_MAX + 1) > TZ_ID_MAX)
		return -1;

	if (strncmp(id, "GMT+", 4) == 0 || strncmp(id, "GMT-", 4) == 0) {
		char buf[32];
		if (parse_custom(id, &negative, &h, &m) < 0)
			return -1;
		snprintf(buf, sizeof(buf), "GMT%c%02d:%02d", negative ? '-' : '+', h, m);
		return put(canonical, n, buf);
	}

	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(id, aliases[i].id) == 0)
			return is_tzif(dir, aliases[i].zone) ? put(canonical, n, aliases[i].zone)
							     : -1;

	for (size_t i = 0; i < sizeof(not_java) / sizeof(not_java[0]); i++)
		if (strcmp(id, not_java[i]) == 0)
			return -1;
	for (size_t i = 0; i < sizeof(not_java_prefix) / sizeof(not_java_prefix[0]); i++)
		if (strncmp(id, not_java_prefix[i], strlen(not_java_prefix[i])) == 0)
			return -1;

	if (!safe_name(id) || !is_tzif(dir, id))
		return -1;
	return put(canonical, n, id);
}

int tz_fixed_offset(const char *canonical, int32_t *utc_offset_s)
{
	const char *c = canonical;

	/* Exactly "GMT" sign hh ':' mm, as tz_id_check() writes it. */
	if (!c || strlen(c) != 9 || strncmp(c, "GMT", 3) != 0 || (c[3] != '+' && c[3] != '-') ||
	    c[6] != ':')
		return -1;
	for (int i = 4; i < 9; i++)
		if (i != 6 && (c[i] < '0' || c[i] > '9'))
			return -1;
	int h = (c[4] - '0') * 10 + (c[5] - '0');
	int m = (c[7] - '0') * 10 + (c[8] - '0');
	if (h > 23 || m > 59)
		return -1;
	int32_t s = (int32_t)(h * 3600 + m * 60);
	*utc_offset_s = c[3] == '-' ? -s : s;
	return 0;
}
