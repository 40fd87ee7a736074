/* sched.c - the scheduler (see sched.h; docs/internals/scheduler.md).
 *
 * Data: one struct trig per job with a trigger, in a hash map by job id;
 * the unpaused ones with a due time sit in a binary min-heap keyed by that
 * time (each trig knows its heap index, so a change is O(log n)). A trig
 * carries only what firing needs: the parsed cron expression and its zone,
 * the period, or the watched folder. The run's settings are read from the
 * store when it fires, so memory stays at about 190 bytes per schedule
 * (bench/README.md: a 152-byte trig, its map slot and heap slot).
 *
 * Firing: the engine's timer hook submits one op when the heap's top is
 * due; inside it every due trigger fires (journal + runs_create) and gets
 * its next due time. File arrival adds one inotify descriptor, watched by
 * the engine loop, whose events only mark a trigger due; the decision
 * (new files? waited long enough?) is made by the op, from a scan of the
 * folder, so a missed or overflowed event costs at most a rescan period.
 *
 * Invariant: a trig is in the heap exactly when it is unpaused and has a
 * due time (due != INT64_MAX), and heap[t->hidx] == t.
 */
#include "engine/sched.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/runs.h"
#include "model/run.h"
#include "sched/cron.h"
#include "sched/cron_next.h"
#include "sched/tzif.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "workspace/wspath.h"

#define NONE INT64_MAX
/* Firings per op: bounds one transaction; the rest go in the next. */
#define FIRE_BATCH 256
/* A continuous job whose run failed waits 10 s, doubling, at most 10 min;
 * after a success the next run starts at least CONT_MIN_GAP_MS after the
 * previous one started (a run that ends at once must not spin). */
#define CONT_BACKOFF_MS 10000
#define CONT_BACKOFF_MAX 600000
#define CONT_MIN_GAP_MS 1000
/* A continuous job whose runs a limit refuses looks again this often. */
#define CONT_REFUSED_MS 60000
/* A firing whose write failed is tried again after this long. */
#define RETRY_MS 1000
/* File arrival: at most one scan of a folder per this long (default). */
#define SCAN_GAP_MS 250

enum kind { K_CRON, K_PERIODIC, K_FILE, K_CONTINUOUS };

struct file_watch {
	struct trig *next; /* the scheduler's list of file triggers */
	char dir[PATH_MAX]; /* on disk */
	char *url;	    /* as the job says: {{job.trigger.file_arrival.location}} */
	int wd;		    /* inotify watch, -1 while the folder is missing */
	int64_t min_between_ms, wait_after_ms;
	int64_t changed_ms; /* last event seen (0: none since the last firing) */
	int64_t scanned_ms; /* last scan of the folder */
};

struct trig {
	int64_t job_id;
	int64_t last_ms; /* journal: last instant fired, or since when it counts */
	int64_t mark;	 /* journal: newest file change already fired (ns) */
	int64_t due;	 /* NONE: not in the heap */
	size_t hidx;
	uint64_t sig; /* of the settings it came from: unchanged settings keep it */
	enum kind kind;
	bool paused;
	bool retry_on_failure; /* continuous task_retry_mode ON_FAILURE */
	int failures;	       /* continuous: runs failed in a row */
	int64_t period_ms;
	const struct tzif *tz;
	struct cron_expr cron;
	struct file_watch *fw;
};

struct sched {
	struct engine *e;
	struct store *st;
	struct runs *rs;
	struct sched_config cfg;
	char ws_root[PATH_MAX];
	struct trig **map; /* open addressing by job id */
	size_t map_cap, count;
	struct trig **heap;
	size_t heap_n, heap_cap;
	struct engine_op fire;
	bool fire_queued;
	int64_t retry_at;   /* a fire op that could not commit: again then */
	int64_t backoff_ms; /* doubles while commits fail */
	int ino_fd;
	struct engine_watch ino_watch;
	struct trig *files; /* the file-arrival triggers, for inotify events */
	bool reload;  /* memory is ahead of the store: reload after this commit */
	bool touched; /* memory changed in this transaction */
	bool need_load; /* a reload failed: the timer tries again */
	bool watch_warned; /* inotify_add_watch failed for another reason than a missing folder */
};

static int64_t now_ms(const struct sched *s) { return clock_now_ms(s->cfg.clock); }

/* --- the heap ---------------------------------------------------------------------- */

static void heap_place(struct sched *s, size_t i, struct trig *t)
{
	s->heap[i] = t;
	t->hidx = i;
}

static void heap_up(struct sched *s, size_t i)
{
	struct trig *t = s->heap[i];
	while (i > 0 && s->heap[(i - 1) / 2]->due > t->due) {
		heap_place(s, i, s->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_place(s, i, t);
}

static void heap_down(struct sched *s, size_t i)
{
	struct trig *t = s->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->heap_n)
			break;
		if (c + 1 < s->heap_n && s->heap[c + 1]->due < s->heap[c]->due)
			c++;
		if (s->heap[c]->due >= t->due)
			break;
		heap_place(s, i, s->heap[c]);
		i = c;
	}
	heap_place(s, i, t);
}

static void heap_remove(struct sched *s, struct trig *t)
{
	if (t->hidx == SIZE_MAX)
		return;
	size_t i = t->hidx;
	struct trig *last = s->heap[--s->heap_n];
	t->hidx = SIZE_MAX;
	if (last == t)
		return;
	heap_place(s, i, last);
	heap_up(s, i);
	heap_down(s, last->hidx);
}

/* Sets t's due time and its place in the heap. */
static void set_due(struct sched *s, struct trig *t, int64_t due)
{
	t->due = t->paused ? NONE : due;
	if (t->due == NONE) {
		heap_remove(s, t);
		return;
	}
	if (t->hidx == SIZE_MAX) {
		if (s->heap_n == s->heap_cap) {
			size_t cap = s->heap_cap ? s->heap_cap * 2 : 64;
			struct trig **h = realloc(s->heap, cap * sizeof(*h));
			if (!h)
				abort();
			s->heap = h;
			s->heap_cap = cap;
		}
		heap_place(s, s->heap_n++, t);
	}
	heap_up(s, t->hidx);
	heap_down(s, t->hidx);
}

/* --- the map ------------------------------------------------------------------------- */

static size_t slot_of(const struct sched *s, int64_t job_id)
{
	uint64_t h = (uint64_t)job_id * 0x9E3779B97F4A7C15ull;
	size_t i = (size_t)(h >> 17) & (s->map_cap - 1);
	while (s->map[i] && s->map[i]->job_id != job_id)
		i = (i + 1) & (s->map_cap - 1);
	return i;
}

static struct trig *find(const struct sched *s, int64_t job_id)
{
	return s->map_cap ? s->map[slot_of(s, job_id)] : NULL;
}

static void map_put(struct sched *s, struct trig *t)
{
	if (t->fw) {
		t->fw->next = s->files;
		s->files = t;
	}
	if (2 * (s->count + 1) > s->map_cap) {
		struct trig **old = s->map;
		size_t old_cap = s->map_cap;
		s->map_cap = old_cap ? old_cap * 2 : 1024;
		if (!(s->map = calloc(s->map_cap, sizeof(*s->map))))
			abort();
		for (size_t i = 0; i < old_cap; i++)
			if (old[i])
				s->map[slot_of(s, old[i]->job_id)] = old[i];
		free(old);
	}
	s->map[slot_of(s, t->job_id)] = t;
	s->count++;
}

/* Linear probing deletion: re-seat the rest of the cluster. */
static void map_del(struct sched *s, int64_t job_id)
{
	size_t i = slot_of(s, job_id);
	if (!s->map[i])
		return;
	s->map[i] = NULL;
	s->count--;
	for (size_t j = (i + 1) & (s->map_cap - 1); s->map[j]; j = (j + 1) & (s->map_cap - 1)) {
		struct trig *t = s->map[j];
		s->map[j] = NULL;
		s->map[slot_of(s, t->job_id)] = t;
	}
}

static void trig_free(struct sched *s, struct trig *t)
{
	if (!t)
		return;
	if (t->fw) {
		struct trig **pp = &s->files;
		while (*pp && *pp != t)
			pp = &(*pp)->fw->next;
		if (*pp)
			*pp = t->fw->next;
		/* Jobs watching the same folder share its watch descriptor. */
		bool shared = false;
		for (struct trig *o = s->files; o && !shared; o = o->fw->next)
			shared = o->fw->wd == t->fw->wd;
		if (t->fw->wd >= 0 && s->ino_fd >= 0 && !shared)
			inotify_rm_watch(s->ino_fd, t->fw->wd);
		free(t->fw->url);
		free(t->fw);
	}
	free(t);
}

static void drop(struct sched *s, int64_t job_id)
{
	struct trig *t = find(s, job_id);
	if (!t)
		return;
	heap_remove(s, t);
	map_del(s, job_id);
	trig_free(s, t);
}

/* --- reading a job's settings ---------------------------------------------------------- */

static uint64_t fnv(const char *p, uint64_t h)
{
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h;
}

static bool is_paused(const json_t *o)
{
	const char *p = json_string_value(json_object_get(o, "pause_status"));
	return p && strcmp(p, "PAUSED") == 0;
}

/* The folder a file_arrival url names: a workspace folder ("/Users/a/in",
 * "/Workspace/Users/a/in") or, when allowed, a local one ("file:///srv/in").
 * Cloud storage urls have nothing to watch here. */
static int resolve_url(const struct sched *s, const char *url, char *dir, size_t n,
		       struct model_error *err)
{
	if (strncmp(url, "file://", 7) == 0) {
		const char *p = url + 7;
		if (!s->cfg.allow_local_dirs)
			return model_fail(err, 400, MODEL_INVALID,
					  "trigger.file_arrival.url '%.200s': local folders are "
					  "not enabled on this server (allow_local_files)",
					  url);
		if (p[0] != '/' || strstr(p, "/../") || strlen(p) >= n)
			return model_fail(err, 400, MODEL_INVALID,
					  "trigger.file_arrival.url '%.200s': expected "
					  "file:///absolute/folder",
					  url);
		snprintf(dir, n, "%s", p);
		return 0;
	}
	char canon[WSPATH_MAX + 1];
	const char *why = NULL;
	if (url[0] != '/' || wspath_normalize(url, strlen(url), canon, sizeof(canon), &why) < 0)
		return model_fail(err, 400, MODEL_INVALID,
				  "trigger.file_arrival.url '%.200s': expected a workspace folder "
				  "such as /Workspace/Users/me/landing%s%s (cloud storage urls "
				  "cannot be watched by jobsd)",
				  url, why ? ": " : "", why ? why : "");
	if (snprintf(dir, n, "%s%s", s->ws_root, wspath_is_root(canon) ? "" : canon) >= (int)n)
		return model_fail(err, 400, MODEL_INVALID,
				  "trigger.file_arrival.url: the path is too long");
	return 0;
}

static struct trig *trig_new(int64_t job_id, enum kind kind, uint64_t sig, bool paused)
{
	struct trig *t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	*t = (struct trig){.job_id = job_id, .kind = kind, .sig = sig, .paused = paused,
			   .due = NONE, .hidx = SIZE_MAX};
	return t;
}

static int64_t period_of(const json_t *p)
{
	int64_t n = json_integer_value(json_object_get(p, "interval"));
	const char *u = json_string_value(json_object_get(p, "unit"));
	int64_t unit = !u ? 0 : strcmp(u, "MINUTES") == 0 ? 60000 :
			  strcmp(u, "HOURS") == 0 ? 3600000 : strcmp(u, "DAYS") == 0 ? 86400000 :
			  strcmp(u, "WEEKS") == 0 ? 7 * 86400000LL : 0;
	return n > 0 && unit ? n * unit : 0;
}

/* The trigger settings describe, or *out = NULL if none. -1 with err for a
 * trigger that cannot work on this server. */
static int trig_from_settings(const struct sched *s, int64_t job_id, const json_t *settings,
			      struct trig **out, struct model_error *err)
{
	const json_t *sc = json_object_get(settings, "schedule");
	const json_t *tr = json_object_get(settings, "trigger");
	const json_t *co = json_object_get(settings, "continuous");
	const json_t *which = sc ? sc : tr ? tr : co;
	*out = NULL;
	if (!which)
		return 0;
	char *text = json_dumps(which, JSON_SORT_KEYS | JSON_COMPACT);
	uint64_t sig = fnv(text ? text : "", fnv(sc ? "s" : tr ? "t" : "c", 0xcbf29ce484222325ull));
	free(text);

	struct trig *t;
	if (sc) {
		t = trig_new(job_id, K_CRON, sig, is_paused(sc));
		char why[160] = "";
		const char *expr = json_string_value(json_object_get(sc, "quartz_cron_expression"));
		const char *zone = json_string_value(json_object_get(sc, "timezone_id"));
		if (!expr || !zone || cron_parse(expr, &t->cron, why, sizeof(why)) < 0 ||
		    !(t->tz = tzdb_get(s->cfg.tzdb, zone, why, sizeof(why)))) {
			free(t);
			return model_fail(err, 400, MODEL_INVALID,
					  "schedule: cannot be used: %s", why);
		}
	} else if (co) {
		t = trig_new(job_id, K_CONTINUOUS, sig, is_paused(co));
		const char *m = json_string_value(json_object_get(co, "task_retry_mode"));
		t->retry_on_failure = m && strcmp(m, "ON_FAILURE") == 0;
	} else if (json_object_get(tr, "periodic")) {
		t = trig_new(job_id, K_PERIODIC, sig, is_paused(tr));
		t->period_ms = period_of(json_object_get(tr, "periodic"));
		if (!t->period_ms) {
			free(t);
			return model_fail(err, 400, MODEL_INVALID,
					  "trigger.periodic: interval and unit are required");
		}
	} else if (json_object_get(tr, "file_arrival")) {
		const json_t *fa = json_object_get(tr, "file_arrival");
		const char *url = json_string_value(json_object_get(fa, "url"));
		t = trig_new(job_id, K_FILE, sig, is_paused(tr));
		if (!(t->fw = calloc(1, sizeof(*t->fw))))
			abort();
		t->fw->wd = -1;
		if (!url || resolve_url(s, url, t->fw->dir, sizeof(t->fw->dir), err) < 0) {
			if (!url)
				model_fail(err, 400, MODEL_INVALID,
					   "trigger.file_arrival.url is required");
			free(t->fw);
			free(t);
			return -1;
		}
		if (!(t->fw->url = strdup(url)))
			abort();
		t->fw->min_between_ms =
			json_integer_value(json_object_get(fa, "min_time_between_triggers_seconds")) *
			1000;
		t->fw->wait_after_ms =
			json_integer_value(json_object_get(fa, "wait_after_last_change_seconds")) *
			1000;
	} else {
		return 0; /* only pause_status: nothing to fire */
	}
	*out = t;
	return 0;
}

/* --- file arrival -------------------------------------------------------------------- */

/* The newest change among the folder's files (ns since the epoch); 0 for
 * an empty folder, -1 if it cannot be read. Subfolders are not entered. */
static int64_t newest_change(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int64_t newest = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		/* ctime, not mtime: the kernel sets it (a file moved in, or
		 * given an old or future mtime, still gets the current time). */
		int64_t ns;
		if (__builtin_mul_overflow((int64_t)st.st_ctim.tv_sec, 1000000000, &ns))
			ns = INT64_MAX - 1000000000;
		ns += st.st_ctim.tv_nsec;
		if (ns > newest)
			newest = ns;
	}
	closedir(d);
	return newest;
}

static int rescan_ms(const struct sched *s) { return s->cfg.rescan_ms > 0 ? s->cfg.rescan_ms : 60000; }

/* A folder that does not exist (yet, or any more) is looked for this often,
 * so that one made later is watched within a second. */
#define MISSING_FOLDER_MS 1000

static void watch_folder(struct sched *s, struct trig *t)
{
	if (s->ino_fd < 0 || t->fw->wd >= 0 || t->paused)
		return;
	/* Finished files only: written and closed, or moved in (a workspace
	 * import renames its temporary file into place). */
	t->fw->wd = inotify_add_watch(s->ino_fd, t->fw->dir,
				      IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
					      IN_ONLYDIR);
	if (t->fw->wd < 0 && errno != ENOENT && errno != ENOTDIR && !s->watch_warned) {
		log_warn("scheduler: cannot watch %s (%s): file arrival looks every %d ms instead",
			 t->fw->dir, strerror(errno), MISSING_FOLDER_MS);
		s->watch_warned = true;
	}
}

/* When to look at a file trigger's folder again without an event. */
static int64_t next_look(const struct sched *s, const struct trig *t, int64_t now)
{
	return now + (t->fw->wd < 0 ? MISSING_FOLDER_MS : rescan_ms(s));
}

static void on_inotify(struct engine_watch *w)
{
	struct sched *s = (struct sched *)((char *)w - offsetof(struct sched, ino_watch));
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	int64_t now = now_ms(s);
	while ((n = read(s->ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			/* Few jobs watch folders: a walk of their list beats
			 * an index by watch descriptor. */
			for (struct trig *t = s->files; t; t = t->fw->next) {
				if (t->fw->wd != ev->wd && !(ev->mask & IN_Q_OVERFLOW))
					continue;
				if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
					t->fw->wd = -1;
				t->fw->changed_ms = now;
				set_due(s, t, now);
			}
			/* A folder moved away keeps its watch: drop it, the
			 * folder is looked for again by its path. */
			if (ev->mask & IN_MOVE_SELF)
				inotify_rm_watch(s->ino_fd, ev->wd);
		}
	}
}

/* --- firing -------------------------------------------------------------------------- */

static int journal(struct store *st, const struct trig *t)
{
	struct store_trigger row = {t->job_id, t->last_ms, t->mark};
	return store_trigger_put(st, &row);
}

/* For ON_FAILURE: every task without its own retry policy is retried. */
static void retry_forever(json_t *settings)
{
	size_t i;
	json_t *task;
	json_array_foreach(json_object_get(settings, "tasks"), i, task) {
		if (!json_object_get(task, "max_retries"))
			json_object_set_new(task, "max_retries", json_integer(-1));
		if (!json_object_get(task, "min_retry_interval_millis"))
			json_object_set_new(task, "min_retry_interval_millis",
					    json_integer(CONT_BACKOFF_MS));
	}
}

enum fired {
	FIRED,	   /* journaled with its run */
	REFUSED,   /* journaled; a limit (429, max_concurrent_runs 0) made no run: logged */
	NOT_FIRED, /* nothing written: try again later */
};

/* Creates the run of a firing. */
static enum fired start_run(struct sched *s, struct store *st, const struct trig *t,
			    enum run_trigger why, int64_t instant)
{
	struct store_job job;
	int rc = store_job_get(st, t->job_id, &job);
	if (rc != STORE_OK) {
		log_warn("scheduler: job %lld cannot be read (%s); its firing waits",
			 (long long)t->job_id, store_rc_name(rc));
		return NOT_FIRED;
	}
	json_t *settings = json_loads(job.settings, 0, NULL);
	enum fired res = FIRED;
	struct model_error err = {0};
	if (!settings) {
		model_fail(&err, 500, "INTERNAL_ERROR", "its settings cannot be read");
		res = NOT_FIRED;
	} else if (t->kind == K_CONTINUOUS &&
		   json_integer_value(json_object_get(settings, "max_concurrent_runs")) == 0) {
		/* Every run would be SKIPPED at once, and the next would follow. */
		model_fail(&err, 400, MODEL_INVALID, "max_concurrent_runs is 0");
		res = REFUSED;
	} else {
		if (t->kind == K_CONTINUOUS && t->retry_on_failure)
			retry_forever(settings);
		struct run_request rq = {
			.job_id = t->job_id,
			.settings = settings,
			.creator = job.creator,
			.type = RUN_TYPE_JOB_RUN,
			.trigger = why,
			.trigger_ms = instant,
			.schedule = t->kind == K_CRON ? json_object_get(settings, "schedule") : NULL,
			.file_location = t->fw ? t->fw->url : NULL,
		};
		int64_t id, number;
		if (runs_create(s->rs, st, &rq, &id, &number, &err) != 0)
			res = err.status >= 500 ? NOT_FIRED : REFUSED;
	}
	if (res != FIRED)
		log_warn("scheduler: job %lld: no run for its %s firing%s: %s",
			 (long long)t->job_id, run_trigger_name(why),
			 res == NOT_FIRED ? " yet" : "", err.message);
	json_decref(settings);
	store_job_release(&job);
	return res;
}

/* The journal row and the run of one firing, in a savepoint of their own:
 * both are written or neither. On NOT_FIRED t's journal fields are as
 * before. */
static enum fired fire_run(struct sched *s, struct store *st, struct trig *t, enum run_trigger why,
			   int64_t instant, int64_t last_ms, int64_t mark)
{
	int64_t old_last = t->last_ms, old_mark = t->mark;
	enum fired res = NOT_FIRED;
	t->last_ms = last_ms;
	t->mark = mark;
	if (store_savepoint(st) == STORE_OK) {
		res = journal(st, t) == STORE_OK ? start_run(s, st, t, why, instant) : NOT_FIRED;
		if (res == NOT_FIRED)
			store_savepoint_rollback(st);
		else
			store_savepoint_release(st);
	}
	if (res == NOT_FIRED) {
		t->last_ms = old_last;
		t->mark = old_mark;
	}
	return res;
}

static void fire_cron(struct sched *s, struct store *st, struct trig *t, int64_t now)
{
	int64_t instant = t->due, next;
	if (fire_run(s, st, t, TRIGGER_PERIODIC, instant, instant, t->mark) == NOT_FIRED) {
		set_due(s, t, now + RETRY_MS);
		return;
	}
	if (cron_next(&t->cron, t->tz, instant, &next) < 0)
		next = NONE;
	else if (next <= now && cron_next(&t->cron, t->tz, now, &next) < 0)
		next = NONE; /* missed more than one: one catch-up run, then on from now */
	set_due(s, t, next);
}

static void fire_periodic(struct sched *s, struct store *st, struct trig *t, int64_t now)
{
	int64_t instant = t->due, next = instant + t->period_ms;
	if (fire_run(s, st, t, TRIGGER_PERIODIC, instant, instant, t->mark) == NOT_FIRED) {
		set_due(s, t, now + RETRY_MS);
		return;
	}
	if (next <= now)
		next = instant + t->period_ms * ((now - instant) / t->period_ms + 1);
	set_due(s, t, next);
}

static void fire_continuous(struct sched *s, struct store *st, struct trig *t, int64_t now)
{
	/* The run that ends calls sched_run_ended, which makes it due again. */
	set_due(s, t, NONE);
	if (runs_job_active(s->rs, t->job_id) > 0)
		return;
	switch (fire_run(s, st, t, TRIGGER_CONTINUOUS, now, now, t->mark)) {
	case FIRED: break;
	case REFUSED: set_due(s, t, now + CONT_REFUSED_MS); break;
	case NOT_FIRED: set_due(s, t, now + RETRY_MS); break;
	}
}

static void fire_file(struct sched *s, struct store *st, struct trig *t, int64_t now)
{
	struct file_watch *fw = t->fw;
	/* Events come in bursts (a copy, a batch of files): one scan for
	 * them all, as each scan reads the whole folder. */
	int64_t gap = s->cfg.scan_gap_ms < 0 ? 0 : s->cfg.scan_gap_ms ? s->cfg.scan_gap_ms : SCAN_GAP_MS;
	if (now < fw->scanned_ms + gap) {
		set_due(s, t, fw->scanned_ms + gap);
		return;
	}
	fw->scanned_ms = now;
	watch_folder(s, t);
	int64_t next = next_look(s, t, now);
	int64_t newest = newest_change(fw->dir);
	if (newest > t->mark) {
		int64_t quiet = newest / 1000000 > fw->changed_ms ? newest / 1000000 : fw->changed_ms;
		if (fw->wait_after_ms && now < quiet + fw->wait_after_ms) {
			set_due(s, t, quiet + fw->wait_after_ms);
			return;
		}
		if (fw->min_between_ms && t->last_ms && now < t->last_ms + fw->min_between_ms) {
			set_due(s, t, t->last_ms + fw->min_between_ms);
			return;
		}
		if (fire_run(s, st, t, TRIGGER_FILE_ARRIVAL, now, now, newest) == NOT_FIRED)
			next = now + RETRY_MS;
		else
			fw->changed_ms = 0;
	}
	set_due(s, t, next);
}

static int fire_op(struct engine_op *op, struct store *st)
{
	struct sched *s = (struct sched *)((char *)op - offsetof(struct sched, fire));
	int64_t now = now_ms(s);
	s->fire_queued = false;
	s->touched = true;
	for (int n = 0; n < FIRE_BATCH && s->heap_n && s->heap[0]->due <= now; n++) {
		struct trig *t = s->heap[0];
		switch (t->kind) {
		case K_CRON: fire_cron(s, st, t, now); break;
		case K_PERIODIC: fire_periodic(s, st, t, now); break;
		case K_CONTINUOUS: fire_continuous(s, st, t, now); break;
		case K_FILE: fire_file(s, st, t, now); break;
		}
	}
	return 0;
}

static void fire_done(struct engine_op *op, int run_rc, int commit_rc)
{
	struct sched *s = (struct sched *)((char *)op - offsetof(struct sched, fire));
	(void)run_rc;
	(void)commit_rc;
	if (s->fire_queued) {
		/* The op never ran (no transaction, or no savepoint for it):
		 * try again shortly rather than never. */
		s->fire_queued = false;
		s->retry_at = now_ms(s) + 200;
	}
}

/* --- the first due time of a trigger ---------------------------------------------------- */

static void schedule_first(struct sched *s, struct trig *t, int64_t now)
{
	int64_t next = NONE;
	switch (t->kind) {
	case K_CRON:
		/* From the journal: an instant missed while down is due now. */
		if (cron_next(&t->cron, t->tz, t->last_ms, &next) < 0)
			next = NONE;
		break;
	case K_PERIODIC: next = t->last_ms + t->period_ms; break;
	case K_CONTINUOUS: next = now; break;
	case K_FILE:
		watch_folder(s, t);
		next = now; /* files that came while we were away count */
		break;
	}
	set_due(s, t, next);
}

/* --- loading ------------------------------------------------------------------------- */

struct load_ctx {
	struct sched *s;
	struct store_trigger *rows;
	size_t n, cap;
	int64_t now;
};

static int collect_row(void *arg, const struct store_trigger *t)
{
	struct load_ctx *l = arg;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		if (!(l->rows = realloc(l->rows, l->cap * sizeof(*l->rows))))
			abort();
	}
	l->rows[l->n++] = *t;
	return 0;
}

static const struct store_trigger *row_of(const struct load_ctx *l, int64_t job_id)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->rows[mid].job_id < job_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n && l->rows[lo].job_id == job_id ? &l->rows[lo] : NULL;
}

static int load_job(void *arg, const struct store_job *j)
{
	struct load_ctx *l = arg;
	json_t *settings = json_loads(j->settings_brief, 0, NULL);
	struct trig *t = NULL;
	struct model_error err;
	if (settings && trig_from_settings(l->s, j->job_id, settings, &t, &err) < 0)
		log_warn("scheduler: job %lld's trigger is not used: %s", (long long)j->job_id,
			 err.message);
	json_decref(settings);
	if (!t)
		return 0;
	const struct store_trigger *row = row_of(l, j->job_id);
	/* No journal row yet (nothing fired since the job was saved): from now. */
	t->last_ms = row ? row->last_ms : t->kind == K_FILE ? 0 : l->now;
	t->mark = row ? row->mark : 0;
	if (!row && t->fw) {
		/* Saved before the journal existed: only files from now on. */
		int64_t newest = newest_change(t->fw->dir);
		t->mark = newest > 0 ? newest : 0;
	}
	map_put(l->s, t);
	schedule_first(l->s, t, l->now);
	return 0;
}

/* The triggers held, taken out of the scheduler (which is left empty) so
 * that a reload can be built aside and the old state kept if it fails. */
struct state {
	struct trig **map, **heap, *files;
	size_t map_cap, count, heap_n, heap_cap;
};

static struct state take_state(struct sched *s)
{
	struct state o = {s->map, s->heap, s->files, s->map_cap, s->count, s->heap_n, s->heap_cap};
	s->map = s->heap = NULL;
	s->files = NULL;
	s->map_cap = s->count = s->heap_n = s->heap_cap = 0;
	return o;
}

static void put_state(struct sched *s, const struct state *o)
{
	s->map = o->map;
	s->heap = o->heap;
	s->files = o->files;
	s->map_cap = o->map_cap;
	s->count = o->count;
	s->heap_n = o->heap_n;
	s->heap_cap = o->heap_cap;
}

/* Frees o's triggers; watches that the held state shares stay. */
static void free_state(struct sched *s, struct state *o)
{
	for (size_t i = 0; i < o->map_cap; i++)
		trig_free(s, o->map[i]);
	free(o->map);
	free(o->heap);
}

/* Everything from the store (start-up, or after a failed commit). On
 * failure the state held before stays, and a reload is tried again later. */
static int load(struct sched *s)
{
	struct load_ctx l = {.s = s, .now = now_ms(s)};
	struct state old = take_state(s);
	int rc = store_trigger_list(s->st, collect_row, &l);
	struct store_job_query q = {.limit = INT_MAX, .above_id = 0};
	if (rc == STORE_OK)
		rc = store_job_list(s->st, &q, load_job, &l);
	free(l.rows);
	if (rc != STORE_OK) {
		log_error("scheduler: cannot load the jobs' triggers (%s); trying again",
			  store_rc_name(rc));
		struct state partial = take_state(s);
		put_state(s, &old);
		free_state(s, &partial);
		s->need_load = true;
		return -1;
	}
	free_state(s, &old);
	s->need_load = false;
	return 0;
}

/* --- hooks --------------------------------------------------------------------------- */

static int64_t next_timer(void *arg)
{
	struct sched *s = arg;
	if (s->fire_queued)
		return NONE;
	int64_t due = s->heap_n ? s->heap[0]->due : NONE;
	if (s->retry_at)
		due = s->retry_at > due ? s->retry_at : due;
	return due;
}

static void timer(void *arg)
{
	struct sched *s = arg;
	if (s->fire_queued)
		return;
	if (s->need_load && load(s) < 0) {
		s->retry_at = now_ms(s) + s->backoff_ms;
		return;
	}
	s->retry_at = 0;
	s->fire_queued = true;
	engine_submit(s->e, &s->fire);
}

static void post_commit(void *arg, int commit_rc)
{
	struct sched *s = arg;
	/* Memory is ahead of the store only if this transaction changed it
	 * and did not commit (or a write inside it failed). */
	bool reload = s->reload || (commit_rc != STORE_OK && s->touched);
	s->reload = s->touched = false;
	if (!reload) {
		if (commit_rc == STORE_OK)
			s->backoff_ms = 0;
		return;
	}
	/* Read it back, and fire again only after a pause that grows while
	 * commits keep failing (a full disk): never a busy loop. */
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 100;
	if (s->backoff_ms > 5000)
		s->backoff_ms = 5000;
	load(s);
	s->retry_at = now_ms(s) + s->backoff_ms;
}

/* --- the API's side ------------------------------------------------------------------- */

int sched_job_saved(struct sched *s, struct store *st, int64_t job_id, const json_t *settings,
		    struct model_error *err)
{
	struct trig *t;
	if (trig_from_settings(s, job_id, settings, &t, err) < 0)
		return -1;
	struct trig *cur = find(s, job_id);
	if (t && cur && cur->sig == t->sig) {
		trig_free(s, t); /* unchanged: keeps its journal and due time */
		return 0;
	}
	int64_t now = now_ms(s);
	int rc = STORE_OK;
	if (t) {
		t->last_ms = now;
		if (t->fw) {
			/* Files already there when the trigger is set do not
			 * count, and min_time_between_triggers_seconds counts
			 * from a firing only. */
			int64_t newest = newest_change(t->fw->dir);
			t->mark = newest > 0 ? newest : 0;
			t->last_ms = 0;
		}
		rc = journal(st, t);
	} else if (cur) {
		rc = store_trigger_delete(st, job_id);
	}
	if (rc != STORE_OK) {
		trig_free(s, t);
		return model_fail(err, 500, "INTERNAL_ERROR",
				  "the job's trigger could not be saved (%s)", store_rc_name(rc));
	}
	/* Nothing can fail from here: the caller's write stands. */
	s->touched = true;
	drop(s, job_id);
	if (!t)
		return 0;
	map_put(s, t);
	schedule_first(s, t, now);
	if (t->kind == K_FILE)
		set_due(s, t, next_look(s, t, now));
	return 0;
}

void sched_job_deleted(struct sched *s, int64_t job_id)
{
	s->touched = true;
	drop(s, job_id);
}

void sched_run_ended(void *arg, int64_t job_id, bool failed)
{
	struct sched *s = arg;
	struct trig *t = find(s, job_id);
	if (!t || t->kind != K_CONTINUOUS || t->paused)
		return;
	t->failures = failed ? t->failures + 1 : 0;
	int64_t now = now_ms(s);
	int64_t wait = t->last_ms + CONT_MIN_GAP_MS - now;
	if (wait < 0)
		wait = 0;
	if (t->failures > 0) {
		wait = CONT_BACKOFF_MS;
		for (int i = 1; i < t->failures && wait < CONT_BACKOFF_MAX; i++)
			wait *= 2;
		if (wait > CONT_BACKOFF_MAX)
			wait = CONT_BACKOFF_MAX;
	}
	set_due(s, t, now + wait);
}

size_t sched_size(const struct sched *s) { return s->count; }

int64_t sched_next_due(const struct sched *s, int64_t job_id)
{
	const struct trig *t = find(s, job_id);
	return t ? t->due : NONE;
}

/* --- open and close ------------------------------------------------------------------- */

struct open_op {
	struct engine_op op;
	struct sched *s;
	int rc;
};

static int open_run(struct engine_op *op, struct store *st)
{
	struct open_op *o = (struct open_op *)op;
	struct sched *s = o->s;
	(void)st;
	o->rc = load(s);
	struct engine_hooks h = {
		.arg = s,
		.clock = s->cfg.clock,
		.post_commit = post_commit,
		.next_timer = next_timer,
		.timer = timer,
	};
	if (o->rc == 0 && engine_add_hooks(s->e, &h) < 0)
		o->rc = -1;
	if (o->rc == 0)
		runs_on_end(s->rs, sched_run_ended, s);
	if (o->rc == 0 && s->ino_fd >= 0 && engine_watch(s->e, &s->ino_watch) < 0)
		log_warn("scheduler: file arrival falls back to a rescan every %d s",
			 rescan_ms(s) / 1000);
	return 0;
}

static void open_done(struct engine_op *op, int run_rc, int commit_rc)
{
	(void)op;
	(void)run_rc;
	(void)commit_rc;
}

int sched_open(struct sched **out, struct engine *e, struct store *st, struct runs *rs,
	       const struct sched_config *cfg)
{
	struct sched *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->e = e;
	s->st = st;
	s->rs = rs;
	s->cfg = *cfg;
	snprintf(s->ws_root, sizeof(s->ws_root), "%s", cfg->workspace_root ? cfg->workspace_root : "");
	s->cfg.workspace_root = s->ws_root;
	s->fire = (struct engine_op){.run = fire_op, .done = fire_done};
	s->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	s->ino_watch = (struct engine_watch){.cb = on_inotify, .fd = s->ino_fd};
	struct open_op o = {.op = {.run = open_run, .done = open_done}, .s = s};
	engine_run_sync(e, &o.op);
	if (o.rc < 0) {
		sched_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void sched_close(struct sched *s)
{
	if (!s)
		return;
	struct state held = take_state(s);
	free_state(s, &held);
	if (s->ino_fd >= 0)
		close(s->ino_fd);
	free(s);
}
