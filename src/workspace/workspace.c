/* workspace.c - the Workspace API's object store on the file system (see
 * workspace.h for the layout, docs/internals/workspace.md for the why).
 *
 * Invariants:
 * - Every path is opened beneath the root fd with openat2(RESOLVE_BENEATH |
 *   RESOLVE_NO_MAGICLINKS), or relative to a directory fd that was; no path
 *   string is ever opened from "/". Symlinks inside the workspace are
 *   followed; one that leaves it (or an absolute one) fails with EXDEV.
 * - A write either fully happens (temp file, fsync, rename, fsync of the
 *   folder) or leaves the tree as it was: the temp file is removed on every
 *   failure path.
 * - Names starting with ".jobsd-" are ours (wspath refuses them from
 *   clients) and never listed. ".jobsd-tmp-*" files older than this process
 *   are leftovers of a crash and are removed when a listing meets them.
 *
 * Threads: any. The write lock serializes import, mkdirs and delete, so the
 * existence checks of a write hold until its rename. Reads take no lock.
 */
#include "workspace/workspace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util/fsio.h"
#include "util/log.h"
#include "util/rand.h"
#include "workspace/nbconvert.h"

#define TMP_PREFIX	 WSPATH_RESERVED "tmp-"
#define REL_MAX		 (WSPATH_MAX + 16) /* a relative path plus a notebook extension */
#define NAME_BUF	 (WSPATH_SEGMENT_MAX + 8)
#define HEAD_BYTES	 64  /* enough for the longest header line + CRLF */
#define DELETE_DEPTH_MAX 256 /* one open fd per level of a recursive delete */
#define FILE_MODE	 0644
#define DIR_MODE	 0755

/* The language of .ipynb notebooks, which lives in their JSON metadata: a
 * listing would otherwise parse every notebook it shows (up to 10 MB each)
 * every time. Keyed by the file's identity, so a new version (a new inode,
 * size or mtime) is parsed again; a full cache overwrites round-robin. */
#define LANG_CACHE_SLOTS 256
struct lang_cache {
	pthread_mutex_t lock;
	unsigned next;
	struct {
		int64_t ino, mtime_ms, size;
		enum workspace_lang lang;
	} slot[LANG_CACHE_SLOTS];
};

struct workspace {
	int root; /* O_PATH fd of the root directory */
	pthread_mutex_t write_lock;
	struct lang_cache *langs;
	struct timespec opened; /* temp files older than this are stale */
	int (*fault)(void *arg, enum workspace_step step, int dirfd, const char *name);
	void *fault_arg;
};

/* Notebook files, in resolution order: a name resolves to the first of
 * these that exists as a notebook. .ipynb files are notebooks by name. */
static const struct nb_ext {
	const char *ext;
	enum workspace_lang lang; /* NONE for .ipynb: read from its metadata */
} NB_EXTS[] = {
	{".py", WORKSPACE_PYTHON}, {".sql", WORKSPACE_SQL},	    {".scala", WORKSPACE_SCALA},
	{".r", WORKSPACE_R},	   {".ipynb", WORKSPACE_LANG_NONE},
};
#define N_NB_EXTS ((int)(sizeof(NB_EXTS) / sizeof(NB_EXTS[0])))
#define IPYNB	  (N_NB_EXTS - 1)

/* --- names ---------------------------------------------------------------------- */

static const char *const LANG_NAMES[] = {NULL, "PYTHON", "SQL", "SCALA", "R"};

const char *workspace_lang_name(enum workspace_lang lang)
{
	return lang >= WORKSPACE_PYTHON && lang <= WORKSPACE_R ? LANG_NAMES[lang] : NULL;
}

int workspace_lang_parse(const char *s, enum workspace_lang *out)
{
	for (int l = WORKSPACE_PYTHON; l <= WORKSPACE_R; l++)
		if (strcmp(s, LANG_NAMES[l]) == 0) {
			*out = (enum workspace_lang)l;
			return 0;
		}
	return -1;
}

const char *workspace_type_name(enum workspace_type type)
{
	switch (type) {
	case WORKSPACE_DIRECTORY: return "DIRECTORY";
	case WORKSPACE_NOTEBOOK: return "NOTEBOOK";
	default: return "FILE";
	}
}

int workspace_format_parse(const char *s, enum workspace_format *out)
{
	static const char *const names[] = {"SOURCE", "JUPYTER", "AUTO", "RAW"};
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum workspace_format)i;
			return 0;
		}
	if (strcmp(s, "HTML") == 0 || strcmp(s, "DBC") == 0 || strcmp(s, "R_MARKDOWN") == 0)
		return -2;
	return -1;
}

/* --- file-system primitives (all beneath the root) --------------------------------- */

/* openat2 beneath the root. Returns an fd or a negative errno. */
static int beneath(const struct workspace *ws, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, ws->root, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		/* EAGAIN: a concurrent rename raced the lookup; it is safe to retry. */
		if (errno != EINTR && !(errno == EAGAIN && tries < 8))
			return -errno;
	}
}

static int64_t ts_ms(const struct statx_timestamp *t)
{
	return (int64_t)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

#define STATX_WANT (STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE | STATX_MTIME | STATX_BTIME)

/* statx of rel, following symlinks that stay beneath the root. */
static int stat_beneath(const struct workspace *ws, const char *rel, struct statx *stx)
{
	int fd = beneath(ws, rel, O_PATH, 0);
	if (fd < 0)
		return fd;
	int rc = statx(fd, "", AT_EMPTY_PATH, STATX_WANT, stx) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* Reads the regular file rel into *out (malloc'd, NUL-terminated). A file
 * larger than max gives -EFBIG, or when partial only its first max bytes. */
static int read_beneath(const struct workspace *ws, const char *rel, size_t max, bool partial,
			char **out, size_t *len)
{
	/* O_NONBLOCK: never hang on a FIFO swapped in after the statx. */
	int fd = beneath(ws, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return fd;
	struct stat st;
	int rc = 0;
	char *buf = NULL;
	size_t got = 0, want = 0;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if ((size_t)st.st_size > max && !partial)
		rc = -EFBIG;
	if (rc < 0)
		goto out;
	want = (size_t)st.st_size < max ? (size_t)st.st_size : max;
	if (!(buf = malloc(want + 1))) {
		log_error("workspace: out of memory reading %zu bytes", want);
		abort();
	}
	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break; /* it shrank meanwhile */
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

/* --- errors ------------------------------------------------------------------------ */

static int not_found(struct model_error *err, const char *path)
{
	/* The service's words; clients (CLI, Terraform) match "doesn't exist". */
	return model_fail(err, 404, "RESOURCE_DOES_NOT_EXIST", "Path (%s) doesn't exist.", path);
}

static int already_exists(struct model_error *err, const char *path, const char *more)
{
	/* The CLI matches "Path \((.*)\) already exists." to name the object. */
	return model_fail(err, 400, "RESOURCE_ALREADY_EXISTS", "Path (%s) already exists.%s", path,
			  more);
}

/* Turns a negative errno from a file-system call on path into the answer. */
static int fs_error(struct model_error *err, int rc, const char *path, const char *doing)
{
	int e = -rc;
	switch (e) {
	case ENOENT:
	case ENOTDIR: return not_found(err, path);
	case EXDEV:
		return model_fail(err, 400, MODEL_INVALID,
				  "Path (%s) resolves outside the workspace (through a symbolic "
				  "link that leaves it or is absolute)",
				  path);
	case ELOOP:
		return model_fail(err, 400, MODEL_INVALID,
				  "Path (%s) has too many levels of symbolic links", path);
	case ENAMETOOLONG:
		return model_fail(err, 400, MODEL_INVALID,
				  "Path (%s) is too long for the server's file system (255 bytes "
				  "per name, notebook extension included)",
				  path);
	case ENOSPC:
	case EDQUOT:
		log_error("workspace: cannot %s '%s': %s", doing, path, strerror(e));
		return model_fail(err, 503, "TEMPORARILY_UNAVAILABLE",
				  "The server's disk is full; nothing was written for path (%s)",
				  path);
	case EIO:
	case EROFS:
		log_error("workspace: cannot %s '%s': %s", doing, path, strerror(e));
		return model_fail(err, 503, "TEMPORARILY_UNAVAILABLE",
				  "The server could not write to its disk (%s) for path (%s)",
				  strerror(e), path);
	default:
		log_error("workspace: cannot %s '%s': %s", doing, path, strerror(e));
		return model_fail(err, 500, "INTERNAL_ERROR",
				  "The server could not %s path (%s): %s", doing, path,
				  strerror(e));
	}
}

static int bad_path(struct model_error *err, const char *in, size_t len, const char *why)
{
	/* Quote at most 200 bytes and stop at a NUL, so the message stays short. */
	const char *nul = memchr(in, '\0', len);
	size_t shown = nul ? (size_t)(nul - in) : len;
	if (shown > 200)
		shown = 200;
	return model_fail(err, 400, MODEL_INVALID, "Invalid path '%.*s%s': the path %s", (int)shown,
			  in, shown < len ? "..." : "", why);
}

static int normalize(const char *in, size_t len, char *canon, struct model_error *err)
{
	const char *why;
	if (wspath_normalize(in, len, canon, WSPATH_MAX + 1, &why) < 0)
		return bad_path(err, in, len, why);
	return 0;
}

/* --- objects ------------------------------------------------------------------------- */

/* What a path resolved to, and where it is on disk. */
struct found {
	struct workspace_object obj;
	char disk[NAME_BUF]; /* the entry in the parent folder ("" for the root) */
};

static void fill_object(struct workspace_object *o, const char *path, enum workspace_type type,
			const struct statx *stx)
{
	snprintf(o->path, sizeof(o->path), "%s", path);
	o->type = type;
	o->lang = WORKSPACE_LANG_NONE;
	o->ipynb = false;
	o->object_id = (int64_t)(stx->stx_ino & (uint64_t)INT64_MAX);
	o->modified_ms = ts_ms(&stx->stx_mtime);
	o->created_ms = (stx->stx_mask & STATX_BTIME) ? ts_ms(&stx->stx_btime) : o->modified_ms;
	o->size = (int64_t)stx->stx_size;
}

/* The notebook extension index that name ends with, or -1. A name whose
 * stem would be "." or ".." ("...py") is never a notebook: its path could
 * not be used. */
static int nb_ext_of(const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < N_NB_EXTS; i++) {
		size_t e = strlen(NB_EXTS[i].ext);
		if (n > e && strcmp(name + n - e, NB_EXTS[i].ext) == 0) {
			size_t stem = n - e;
			if ((stem == 1 && name[0] == '.') ||
			    (stem == 2 && name[0] == '.' && name[1] == '.'))
				return -1;
			return i;
		}
	}
	return -1;
}

/* ".py" for PYTHON...: the extension of a source notebook in lang. */
static const char *lang_ext(enum workspace_lang lang)
{
	return NB_EXTS[lang >= WORKSPACE_PYTHON && lang <= WORKSPACE_R ? lang - WORKSPACE_PYTHON
								       : 0]
		.ext;
}

/* True when the regular file rel, whose name ends with extension ext, is
 * a notebook: .ipynb by name, the others by their header line. */
static bool is_notebook_file(const struct workspace *ws, const char *rel, int ext)
{
	if (ext < 0)
		return false;
	if (ext == IPYNB)
		return true;
	char *head;
	size_t n;
	if (read_beneath(ws, rel, HEAD_BYTES, true, &head, &n) < 0)
		return false;
	bool yes = nbconvert_has_header(head, n, NB_EXTS[ext].lang);
	free(head);
	return yes;
}

static bool lang_cached(struct lang_cache *c, const struct workspace_object *o,
			enum workspace_lang *lang)
{
	bool hit = false;
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < LANG_CACHE_SLOTS && !hit; i++) {
		if (c->slot[i].ino == o->object_id && c->slot[i].mtime_ms == o->modified_ms &&
		    c->slot[i].size == o->size && c->slot[i].lang != WORKSPACE_LANG_NONE) {
			*lang = c->slot[i].lang;
			hit = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

static void lang_remember(struct lang_cache *c, const struct workspace_object *o,
			  enum workspace_lang lang)
{
	pthread_mutex_lock(&c->lock);
	unsigned i = c->next++ % LANG_CACHE_SLOTS;
	c->slot[i].ino = o->object_id;
	c->slot[i].mtime_ms = o->modified_ms;
	c->slot[i].size = o->size;
	c->slot[i].lang = lang;
	pthread_mutex_unlock(&c->lock);
}

/* The language of an .ipynb notebook file (PYTHON when unreadable). */
static enum workspace_lang ipynb_lang(const struct workspace *ws, const char *rel)
{
	char *text;
	size_t n;
	json_t *nb;
	const char *why;
	enum workspace_lang lang = WORKSPACE_PYTHON;
	if (read_beneath(ws, rel, WORKSPACE_MAX_CONTENT, false, &text, &n) < 0)
		return lang;
	if (nbconvert_ipynb_parse(text, n, &nb, &why) == 0) {
		lang = nbconvert_ipynb_lang(nb);
		json_decref(nb);
	}
	free(text);
	return lang;
}

static void set_notebook(const struct workspace *ws, struct workspace_object *o, int ext,
			 const char *rel)
{
	o->type = WORKSPACE_NOTEBOOK;
	o->ipynb = ext == IPYNB;
	o->lang = NB_EXTS[ext].lang;
	if (ext == IPYNB && !lang_cached(ws->langs, o, &o->lang)) {
		o->lang = ipynb_lang(ws, rel);
		lang_remember(ws->langs, o, o->lang);
	}
}

/* Resolves canonical path to an object: directory, then notebook (in
 * NB_EXTS order), then file. 0 when found, -ENOENT when not, another
 * negative errno when the lookup failed (-EXDEV: outside the root). */
static int resolve(const struct workspace *ws, const char *path, struct found *f)
{
	const char *rel = wspath_rel(path), *base = wspath_base(path);
	struct statx stx, self;
	char cand[REL_MAX];
	int rc = stat_beneath(ws, rel, &self);
	if (rc < 0 && rc != -ENOENT && rc != -ENOTDIR)
		return rc;
	if (rc == 0 && S_ISDIR(self.stx_mode)) {
		fill_object(&f->obj, path, WORKSPACE_DIRECTORY, &self);
		snprintf(f->disk, sizeof(f->disk), "%s", base);
		return 0;
	}
	if (rc == -ENOTDIR)
		return -ENOENT; /* a parent is not a folder */
	for (int i = 0; i < N_NB_EXTS && !wspath_is_root(path); i++) {
		snprintf(cand, sizeof(cand), "%s%s", rel, NB_EXTS[i].ext);
		int r = stat_beneath(ws, cand, &stx);
		if (r == -ENOENT || r == -ENAMETOOLONG) /* a name that cannot exist */
			continue;
		if (r < 0)
			return r;
		if (!S_ISREG(stx.stx_mode) || !is_notebook_file(ws, cand, i))
			continue;
		fill_object(&f->obj, path, WORKSPACE_NOTEBOOK, &stx);
		set_notebook(ws, &f->obj, i, cand);
		snprintf(f->disk, sizeof(f->disk), "%s%s", base, NB_EXTS[i].ext);
		return 0;
	}
	/* A regular file is a FILE unless it is itself a notebook ("x.py" with
	 * the header is notebook "x", never file "x.py"). */
	if (rc == 0 && S_ISREG(self.stx_mode) && !is_notebook_file(ws, rel, nb_ext_of(base))) {
		fill_object(&f->obj, path, WORKSPACE_FILE, &self);
		snprintf(f->disk, sizeof(f->disk), "%s", base);
		return 0;
	}
	return -ENOENT;
}

/* What the directory entry name in folder dir (canonical) is: fills o and
 * returns the rank resolution gives it (0 folder, 1.. notebooks in NB_EXTS
 * order, N_NB_EXTS + 1 file), or -1 when it is not an object. */
static int classify_entry(const struct workspace *ws, const char *dir, const char *name,
			  struct workspace_object *o)
{
	/* Room for a notebook whose path is WSPATH_MAX bytes plus its extension. */
	char path[WSPATH_MAX + 1 + NAME_BUF];
	int n = snprintf(path, sizeof(path), "%s/%s", wspath_is_root(dir) ? "" : dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	struct statx stx;
	const char *rel = wspath_rel(path);
	json_t *utf8 = json_string(name); /* NULL unless UTF-8: JSON could not carry it */
	if (!utf8)
		return -1;
	json_decref(utf8);
	if (stat_beneath(ws, rel, &stx) < 0)
		return -1; /* dangling, escaping or vanished: not an object */
	if (!S_ISDIR(stx.stx_mode) && !S_ISREG(stx.stx_mode))
		return -1; /* FIFOs, sockets, devices */
	int ext = S_ISREG(stx.stx_mode) ? nb_ext_of(name) : -1;
	if (ext < 0 || !is_notebook_file(ws, rel, ext)) {
		if ((size_t)n > WSPATH_MAX)
			return -1; /* no client could name it */
		fill_object(o, path, S_ISDIR(stx.stx_mode) ? WORKSPACE_DIRECTORY : WORKSPACE_FILE,
			    &stx);
		return S_ISDIR(stx.stx_mode) ? 0 : N_NB_EXTS + 1;
	}
	/* A notebook: its path is the file's without the extension. */
	size_t stem = (size_t)n - strlen(NB_EXTS[ext].ext);
	if (stem > WSPATH_MAX)
		return -1;
	fill_object(o, path, WORKSPACE_NOTEBOOK, &stx);
	o->path[stem] = '\0';
	set_notebook(ws, o, ext, rel);
	return ext + 1;
}

/* --- open / close ---------------------------------------------------------------------- */

int workspace_open(struct workspace **out, const char *root, char *err, size_t errlen)
{
	struct workspace *ws = calloc(1, sizeof(*ws));
	if (ws && !(ws->langs = calloc(1, sizeof(*ws->langs)))) {
		free(ws);
		ws = NULL;
	}
	if (!ws) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&ws->langs->lock, NULL);
	pthread_mutex_init(&ws->write_lock, NULL);
	ws->root = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ws->root < 0) {
		snprintf(err, errlen, "cannot open workspace folder '%s': %s", root,
			 strerror(errno));
		workspace_close(ws);
		return -1;
	}
	/* Fail closed: without openat2 nothing keeps paths inside the root. */
	int fd = beneath(ws, ".", O_PATH | O_DIRECTORY, 0);
	if (fd < 0) {
		if (fd == -ENOSYS)
			snprintf(err, errlen,
				 "the kernel lacks openat2(2) (Linux 5.6 or later), which jobsd "
				 "needs to keep workspace paths inside '%s'",
				 root);
		else
			snprintf(err, errlen, "cannot resolve paths beneath '%s' with openat2: %s",
				 root, strerror(-fd));
		workspace_close(ws);
		return -1;
	}
	close(fd);
	clock_gettime(CLOCK_REALTIME, &ws->opened);
	*out = ws;
	return 0;
}

void workspace_close(struct workspace *ws)
{
	if (!ws)
		return;
	pthread_mutex_destroy(&ws->write_lock);
	pthread_mutex_destroy(&ws->langs->lock);
	free(ws->langs);
	if (ws->root >= 0)
		close(ws->root);
	free(ws);
}

void workspace_set_fault_hook(struct workspace *ws,
			      int (*hook)(void *arg, enum workspace_step step, int dirfd,
					  const char *name),
			      void *arg)
{
	ws->fault = hook;
	ws->fault_arg = arg;
}

static int fault(const struct workspace *ws, enum workspace_step step, int dirfd, const char *name)
{
	return ws->fault ? ws->fault(ws->fault_arg, step, dirfd, name) : 0;
}

/* --- reads ------------------------------------------------------------------------------ */

int workspace_stat(struct workspace *ws, const char *in, size_t in_len,
		   struct workspace_object *out, struct model_error *err)
{
	char path[WSPATH_MAX + 1];
	struct found f;
	if (normalize(in, in_len, path, err) < 0)
		return -1;
	int rc = resolve(ws, path, &f);
	if (rc < 0)
		return fs_error(err, rc, path, "read");
	*out = f.obj;
	return 0;
}

/* A listing entry with the rank that decides which of two same-path
 * entries resolution would pick. */
struct ranked {
	struct workspace_object obj;
	int rank;
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	int c = strcmp(x->obj.path, y->obj.path);
	return c ? c : x->rank - y->rank;
}

/* A ".jobsd-tmp-*" file left by a crash of an earlier process: remove it.
 * Files of this process are newer than ws->opened and are left alone (a
 * write may be in flight). */
static void remove_if_stale(const struct workspace *ws, int dirfd, const char *name)
{
	struct stat st;
	if (strncmp(name, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) != 0 ||
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return;
	if (st.st_mtim.tv_sec > ws->opened.tv_sec ||
	    (st.st_mtim.tv_sec == ws->opened.tv_sec && st.st_mtim.tv_nsec >= ws->opened.tv_nsec))
		return;
	if (unlinkat(dirfd, name, 0) == 0)
		log_info("workspace: removed temp file '%s' left by an earlier run", name);
}

/* Reads folder dir (canonical) into a sorted, de-duplicated array. */
static int read_folder(const struct workspace *ws, const char *dir, struct ranked **out, size_t *n)
{
	int fd = beneath(ws, wspath_rel(dir), O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	struct ranked *v = NULL;
	size_t len = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strncmp(e->d_name, WSPATH_RESERVED, sizeof(WSPATH_RESERVED) - 1) == 0) {
			remove_if_stale(ws, dirfd(d), e->d_name);
			continue;
		}
		if (len == cap) {
			cap = cap ? cap * 2 : 32;
			struct ranked *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				log_error("workspace: out of memory listing '%s'", dir);
				abort();
			}
			v = nv;
		}
		int rank = classify_entry(ws, dir, e->d_name, &v[len].obj);
		if (rank >= 0)
			v[len++].rank = rank;
	}
	closedir(d);
	if (len > 1)
		qsort(v, len, sizeof(*v), ranked_cmp);
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		if (k == 0 || strcmp(v[k - 1].obj.path, v[i].obj.path) != 0)
			v[k++] = v[i]; /* the first of equal paths has the best rank */
	*out = v;
	*n = k;
	return 0;
}

int workspace_list(struct workspace *ws, const char *in, size_t in_len, int64_t modified_after_ms,
		   struct workspace_object **out, size_t *n, struct model_error *err)
{
	char path[WSPATH_MAX + 1];
	struct found f;
	*out = NULL;
	*n = 0;
	if (normalize(in, in_len, path, err) < 0)
		return -1;
	int rc = resolve(ws, path, &f);
	if (rc < 0)
		return fs_error(err, rc, path, "read");
	if (f.obj.type != WORKSPACE_DIRECTORY) {
		if (!(*out = malloc(sizeof(**out))))
			abort();
		**out = f.obj;
		*n = 1;
		return 0;
	}
	struct ranked *v = NULL;
	size_t len = 0;
	if ((rc = read_folder(ws, path, &v, &len)) < 0)
		return fs_error(err, rc, path, "list");
	struct workspace_object *objs = len ? malloc(len * sizeof(*objs)) : NULL;
	if (len && !objs)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		if (v[i].obj.type != WORKSPACE_NOTEBOOK || v[i].obj.modified_ms > modified_after_ms)
			objs[k++] = v[i].obj;
	free(v);
	if (k == 0) {
		free(objs);
		objs = NULL;
	}
	*out = objs;
	*n = k;
	return 0;
}

static void file_extension(const char *name, char file_type[16])
{
	const char *dot = strrchr(name, '.');
	file_type[0] = '\0';
	if (dot && dot != name && strlen(dot + 1) < 16)
		snprintf(file_type, 16, "%s", dot + 1);
}

static int too_big(struct model_error *err, const char *path)
{
	return model_fail(err, 400, "MAX_NOTEBOOK_SIZE_EXCEEDED",
			  "Path (%s) is larger than the 10 MB export limit", path);
}

/* Converts a notebook between its stored form and the asked one. Takes
 * ownership of *data and replaces it. */
static int convert_notebook(const struct found *f, enum workspace_format format, char **data,
			    size_t *len, char file_type[16], struct model_error *err)
{
	const struct workspace_object *o = &f->obj;
	const char *why;
	char *conv = NULL;
	size_t clen = 0;
	bool want_ipynb = format == WORKSPACE_JUPYTER || (format == WORKSPACE_AUTO && o->ipynb);
	snprintf(file_type, 16, "%s", want_ipynb ? "ipynb" : lang_ext(o->lang) + 1);
	if (o->ipynb == want_ipynb)
		return 0;
	if (want_ipynb) {
		if (nbconvert_to_ipynb(*data, *len, o->lang, &conv, &clen, &why) < 0)
			return model_fail(err, 400, MODEL_INVALID, "Notebook (%s) %s", o->path,
					  why);
	} else {
		json_t *nb;
		int rc = nbconvert_ipynb_parse(*data, *len, &nb, &why);
		if (rc == 0) {
			rc = nbconvert_to_source(nb, o->lang, &conv, &clen, &why);
			json_decref(nb);
		}
		if (rc < 0)
			return model_fail(
				err, 400, MODEL_INVALID,
				"Notebook (%s) cannot be exported as SOURCE: its .ipynb %s",
				o->path, why);
	}
	free(*data);
	*data = conv;
	*len = clen;
	return clen > (size_t)WORKSPACE_MAX_CONTENT ? too_big(err, o->path) : 0;
}

int workspace_export(struct workspace *ws, const char *in, size_t in_len,
		     enum workspace_format format, char **out, size_t *len, char file_type[16],
		     struct model_error *err)
{
	char path[WSPATH_MAX + 1], parent[WSPATH_MAX + 1], rel[REL_MAX];
	struct found f;
	*out = NULL;
	if (normalize(in, in_len, path, err) < 0)
		return -1;
	int rc = resolve(ws, path, &f);
	if (rc < 0)
		return fs_error(err, rc, path, "read");
	if (f.obj.type == WORKSPACE_DIRECTORY)
		return model_fail(err, 400, MODEL_INVALID,
				  "Path (%s) is a folder: export of a directory needs format DBC, "
				  "which jobsd does not support",
				  path);
	if (f.obj.type == WORKSPACE_FILE && format == WORKSPACE_JUPYTER)
		return model_fail(err, 400, MODEL_INVALID,
				  "Path (%s) is a file, not a notebook: format JUPYTER exports "
				  "notebooks only",
				  path);
	wspath_parent(path, parent, sizeof(parent));
	if (snprintf(rel, sizeof(rel), "%s%s%s", wspath_is_root(parent) ? "" : parent + 1,
		     wspath_is_root(parent) ? "" : "/", f.disk) >= (int)sizeof(rel))
		return fs_error(err, -ENAMETOOLONG, path, "read");
	char *data;
	if ((rc = read_beneath(ws, rel, WORKSPACE_MAX_CONTENT, false, &data, len)) < 0)
		return rc == -EFBIG ? too_big(err, path) : fs_error(err, rc, path, "read");
	if (f.obj.type == WORKSPACE_FILE) {
		file_extension(f.disk, file_type);
	} else if (convert_notebook(&f, format, &data, len, file_type, err) < 0) {
		free(data);
		return -1;
	}
	*out = data;
	return 0;
}

/* --- writes ------------------------------------------------------------------------------ */

/* Where an import goes: the object path, its type and the file on disk. */
struct plan {
	char path[WSPATH_MAX + 1];
	char parent[WSPATH_MAX + 1];
	char disk[NAME_BUF];
	enum workspace_type type;
	enum workspace_lang lang;
	bool ipynb;	    /* a notebook stored as .ipynb */
	const char *header; /* a header line to write before the content, or NULL */
};

/* The language a SOURCE/AUTO path extension names, and its length. */
static enum workspace_lang lang_of_ext(const char *path, size_t *ext_len)
{
	static const struct {
		const char *ext;
		enum workspace_lang lang;
	} exts[] = {{".py", WORKSPACE_PYTHON},
		    {".sql", WORKSPACE_SQL},
		    {".scala", WORKSPACE_SCALA},
		    {".r", WORKSPACE_R},
		    {".R", WORKSPACE_R}};
	const char *base = wspath_base(path);
	size_t n = strlen(base);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t e = strlen(exts[i].ext);
		if (n > e && strcmp(base + n - e, exts[i].ext) == 0) {
			*ext_len = e;
			return exts[i].lang;
		}
	}
	return WORKSPACE_LANG_NONE;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && strcmp(s + n - k, suffix) == 0;
}

static int plan_ipynb(struct plan *p, const struct workspace_import *imp, struct model_error *err)
{
	json_t *nb;
	const char *why;
	if (nbconvert_ipynb_parse(imp->content, imp->len, &nb, &why) < 0)
		return model_fail(err, 400, MODEL_INVALID, "The content for path (%s) %s", p->path,
				  why);
	p->lang = nbconvert_ipynb_lang(nb);
	json_decref(nb);
	p->type = WORKSPACE_NOTEBOOK;
	p->ipynb = true;
	return 0;
}

/* Decides path, type and on-disk name of an import (the format rules of
 * workspace/import, see docs/internals/workspace.md). */
static int plan_import(struct plan *p, const char *path, const struct workspace_import *imp,
		       struct model_error *err)
{
	size_t ext_len = 0;
	enum workspace_lang by_ext = lang_of_ext(path, &ext_len);
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->type = WORKSPACE_FILE;
	p->lang = WORKSPACE_LANG_NONE;
	p->ipynb = false;
	p->header = NULL;
	switch (imp->format) {
	case WORKSPACE_SOURCE:
		p->type = WORKSPACE_NOTEBOOK;
		p->lang = imp->lang;
		if (p->lang == WORKSPACE_LANG_NONE) {
			if (by_ext == WORKSPACE_LANG_NONE)
				return model_fail(
					err, 400, MODEL_INVALID,
					"language is required for format SOURCE (path %s "
					"has no .py, .sql, .scala or .r extension to infer "
					"it from)",
					path);
			p->lang = by_ext;
			p->path[strlen(p->path) - ext_len] = '\0';
		}
		if (!nbconvert_has_header(imp->content, imp->len, p->lang))
			p->header = nbconvert_header(p->lang);
		break;
	case WORKSPACE_JUPYTER:
		if (plan_ipynb(p, imp, err) < 0)
			return -1;
		break;
	case WORKSPACE_AUTO:
		if (ends_with(wspath_base(path), ".ipynb")) {
			if (plan_ipynb(p, imp, err) < 0)
				return -1;
			p->path[strlen(p->path) - 6] = '\0';
		} else if (by_ext != WORKSPACE_LANG_NONE &&
			   nbconvert_has_header(imp->content, imp->len, by_ext)) {
			p->type = WORKSPACE_NOTEBOOK;
			p->lang = by_ext;
			p->path[strlen(p->path) - ext_len] = '\0';
		}
		break;
	case WORKSPACE_RAW: break;
	}
	if (wspath_is_root(p->path) || wspath_base(p->path)[0] == '\0')
		return already_exists(err, "/", "");
	wspath_parent(p->path, p->parent, sizeof(p->parent));
	const char *ext = p->type == WORKSPACE_FILE ? "" : p->ipynb ? ".ipynb" : lang_ext(p->lang);
	if (snprintf(p->disk, sizeof(p->disk), "%s%s", wspath_base(p->path), ext) >=
	    (int)sizeof(p->disk))
		return fs_error(err, -ENAMETOOLONG, p->path, "write");
	return 0;
}

/* The parent must be an existing folder. The service answers 404 naming
 * the parent when it is missing and creates nothing (clients call mkdirs
 * and retry); see docs/internals/workspace.md for the sources. */
static int check_parent(const struct workspace *ws, const char *parent, struct model_error *err)
{
	struct found f;
	int rc = resolve(ws, parent, &f);
	if (rc < 0)
		return fs_error(err, rc, parent, "read");
	if (f.obj.type != WORKSPACE_DIRECTORY)
		return already_exists(err, parent,
				      " It is not a folder, so nothing can be put in it.");
	return 0;
}

/* The object that the entry disk of folder parent belongs to, if any.
 * 1 with its path in owner, 0 when the entry does not exist. */
static int entry_owner(const struct workspace *ws, int dirfd, const char *parent, const char *disk,
		       char *owner, size_t n)
{
	struct stat st;
	struct workspace_object o;
	if (fstatat(dirfd, disk, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (classify_entry(ws, parent, disk, &o) < 0) /* a dangling link or a FIFO */
		snprintf(owner, n, "%s/%s", wspath_is_root(parent) ? "" : parent, disk);
	else
		snprintf(owner, n, "%s", o.path);
	return 1;
}

static int write_temp(const struct workspace *ws, int dirfd, const char *tmp, const struct plan *p,
		      const struct workspace_import *imp)
{
	int fd =
		openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, FILE_MODE);
	if (fd < 0)
		return -errno;
	int rc = fault(ws, WORKSPACE_STEP_WRITE, dirfd, tmp);
	if (rc == 0 && p->header) {
		if ((rc = fsio_write_full(fd, p->header, strlen(p->header))) == 0)
			rc = fsio_write_full(fd, "\n", 1);
	}
	if (rc == 0)
		rc = fsio_write_full(fd, imp->content, imp->len);
	if (rc == 0)
		rc = fault(ws, WORKSPACE_STEP_FSYNC, dirfd, tmp);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* Moves tmp to disk: replacing when replace, else only if disk is free
 * (atomically: RENAME_NOREPLACE, or link+unlink where the file system
 * lacks it). */
static int place(int dirfd, const char *tmp, const char *disk, bool replace)
{
	if (replace)
		return renameat(dirfd, tmp, dirfd, disk) < 0 ? -errno : 0;
	if (renameat2(dirfd, tmp, dirfd, disk, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (linkat(dirfd, tmp, dirfd, disk, 0) < 0)
		return -errno;
	unlinkat(dirfd, tmp, 0);
	return 0;
}

/* Writes the planned object durably. Called with the write lock held. */
static int import_locked(struct workspace *ws, const struct plan *p,
			 const struct workspace_import *imp, struct model_error *err)
{
	char owner[WSPATH_MAX + 1 + NAME_BUF], tmp[sizeof(TMP_PREFIX) + 32];
	struct found old;
	if (check_parent(ws, p->parent, err) < 0)
		return -1;
	int dirfd = beneath(ws, wspath_rel(p->parent), O_RDONLY | O_DIRECTORY, 0);
	if (dirfd < 0)
		return fs_error(err, dirfd, p->parent, "open");
	int rc = resolve(ws, p->path, &old);
	bool exists = rc == 0;
	if (rc < 0 && rc != -ENOENT) {
		rc = fs_error(err, rc, p->path, "read");
		goto out;
	}
	bool occupied = entry_owner(ws, dirfd, p->parent, p->disk, owner, sizeof(owner));
	if (occupied && strcmp(owner, p->path) != 0) {
		/* e.g. notebook /x over a file /x.py: both are x.py on disk. */
		rc = already_exists(err, owner, "");
		goto out;
	}
	if (exists && old.obj.type == WORKSPACE_DIRECTORY) {
		rc = already_exists(err, p->path,
				    " It is a folder; overwrite replaces notebooks "
				    "and files only.");
		goto out;
	}
	if (exists && !imp->overwrite) {
		rc = already_exists(err, p->path, "");
		goto out;
	}
	uint8_t rnd[8];
	char hex[17];
	if ((rc = rand_bytes(rnd, sizeof(rnd))) < 0) {
		rc = fs_error(err, rc, p->path, "write");
		goto out;
	}
	hex_encode(rnd, sizeof(rnd), hex);
	snprintf(tmp, sizeof(tmp), "%s%s", TMP_PREFIX, hex);
	rc = write_temp(ws, dirfd, tmp, p, imp);
	if (rc == 0)
		rc = fault(ws, WORKSPACE_STEP_RENAME, dirfd, p->disk);
	if (rc == 0)
		rc = place(dirfd, tmp, p->disk, occupied);
	if (rc < 0) {
		unlinkat(dirfd, tmp, 0);
		rc = rc == -EEXIST ? already_exists(err, p->path, "")
				   : fs_error(err, rc, p->path, "write");
		goto out;
	}
	/* Overwriting in another language (or type) leaves the old file. */
	if (exists && strcmp(old.disk, p->disk) != 0 && unlinkat(dirfd, old.disk, 0) < 0)
		log_warn("workspace: cannot remove '%s' replaced by '%s': %s", old.disk, p->disk,
			 strerror(errno));
	if (fsync(dirfd) < 0) {
		rc = fs_error(err, -errno, p->path, "write");
		/* A new object the client is told failed must not stay behind
		 * (its retry would meet RESOURCE_ALREADY_EXISTS). An overwrite has
		 * already replaced the old content: that cannot be undone here. */
		if (!exists)
			unlinkat(dirfd, p->disk, 0);
		goto out;
	}
	log_info("workspace: imported '%s' as %s (%zu bytes)", p->path,
		 workspace_type_name(p->type), imp->len);
	rc = 0;
out:
	close(dirfd);
	return rc;
}

int workspace_import(struct workspace *ws, const struct workspace_import *imp,
		     struct model_error *err)
{
	char path[WSPATH_MAX + 1];
	struct plan p;
	if (normalize(imp->path, imp->path_len, path, err) < 0)
		return -1;
	if (imp->len > (size_t)WORKSPACE_MAX_CONTENT)
		return model_fail(err, 400, "MAX_NOTEBOOK_SIZE_EXCEEDED",
				  "The content for path (%s) is %zu bytes, over the 10 MB limit",
				  path, imp->len);
	if (plan_import(&p, path, imp, err) < 0)
		return -1;
	pthread_mutex_lock(&ws->write_lock);
	int rc = import_locked(ws, &p, imp, err);
	pthread_mutex_unlock(&ws->write_lock);
	return rc;
}

/* Creates folder path (whose parent is a folder). 0 when it exists now. */
static int mkdir_one(const struct workspace *ws, const char *path, struct model_error *err)
{
	char parent[WSPATH_MAX + 1];
	wspath_parent(path, parent, sizeof(parent));
	int dirfd = beneath(ws, wspath_rel(parent), O_RDONLY | O_DIRECTORY, 0);
	if (dirfd < 0)
		return fs_error(err, dirfd, parent, "open");
	int rc = mkdirat(dirfd, wspath_base(path), DIR_MODE) < 0 ? -errno : 0;
	if (rc == 0 && fsync(dirfd) < 0)
		rc = -errno;
	close(dirfd);
	if (rc == -EEXIST) /* a dangling symlink or an entry that is not ours */
		return already_exists(err, path, " It is not a folder.");
	return rc < 0 ? fs_error(err, rc, path, "create") : 0;
}

static int mkdirs_locked(const struct workspace *ws, const char *path, struct model_error *err)
{
	char prefix[WSPATH_MAX + 1];
	size_t len = strlen(path);
	for (size_t i = 1; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		struct found f;
		int rc = resolve(ws, prefix, &f);
		if (rc == 0 && f.obj.type != WORKSPACE_DIRECTORY)
			return already_exists(err, prefix, " It is not a folder.");
		if (rc < 0 && rc != -ENOENT)
			return fs_error(err, rc, prefix, "read");
		if (rc < 0 && mkdir_one(ws, prefix, err) < 0)
			return -1;
		if (rc < 0)
			log_info("workspace: created folder '%s'", prefix);
	}
	return 0;
}

int workspace_mkdirs(struct workspace *ws, const char *in, size_t in_len, struct model_error *err)
{
	char path[WSPATH_MAX + 1];
	if (normalize(in, in_len, path, err) < 0)
		return -1;
	if (wspath_is_root(path))
		return 0;
	pthread_mutex_lock(&ws->write_lock);
	int rc = mkdirs_locked(ws, path, err);
	pthread_mutex_unlock(&ws->write_lock);
	return rc;
}

/* Removes everything inside the folder dirfd, never following a symlink:
 * links are unlinked, sub-folders are opened with O_NOFOLLOW relative to
 * their parent's fd. Repeats until a pass finds nothing, because POSIX
 * leaves open whether readdir sees entries after removals. */
static int remove_tree(int dirfd, int depth)
{
	if (depth >= DELETE_DEPTH_MAX)
		return -EMLINK;
	for (;;) {
		int fd = dup(dirfd);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d) {
			int rc = -errno;
			if (fd >= 0)
				close(fd);
			return rc;
		}
		rewinddir(d);
		int rc = 0, removed = 0;
		struct dirent *e;
		while (rc == 0 && (e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			struct stat st;
			if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				rc = errno == ENOENT ? 0 : -errno;
				continue;
			}
			if (S_ISDIR(st.st_mode)) {
				int sub = openat(dirfd, e->d_name,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				rc = sub < 0 ? -errno : remove_tree(sub, depth + 1);
				if (sub >= 0)
					close(sub);
			}
			if (rc == 0 &&
			    unlinkat(dirfd, e->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
				rc = errno == ENOENT ? 0 : -errno;
			removed++;
		}
		closedir(d);
		if (rc < 0 || removed == 0)
			return rc;
	}
}

/* True when folder dirfd holds nothing but our temp files, which it then
 * removes (under the write lock every temp file is a leftover). */
static int empty_but_temps(int dirfd, bool *empty)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	struct dirent *e;
	*empty = true;
	while (*empty && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strncmp(e->d_name, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) != 0)
			*empty = false;
	rewinddir(d);
	while (*empty && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) == 0)
			unlinkat(dirfd, e->d_name, 0);
	closedir(d);
	return 0;
}

static int delete_folder(int parentfd, const char *name, const char *path, bool recursive,
			 struct model_error *err)
{
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fs_error(err, -errno, path, "open");
	bool empty = true;
	int rc = recursive ? remove_tree(fd, 0) : empty_but_temps(fd, &empty);
	close(fd);
	if (rc == -EMLINK)
		return model_fail(
			err, 400, MODEL_INVALID,
			"Path (%s) holds folders nested deeper than %d levels; delete the "
			"inner folders first",
			path, DELETE_DEPTH_MAX);
	if (rc < 0)
		return fs_error(err, rc, path, "delete");
	if (empty && unlinkat(parentfd, name, AT_REMOVEDIR) < 0)
		rc = -errno;
	if (!empty || rc == -ENOTEMPTY || rc == -EEXIST)
		return model_fail(err, 400, "DIRECTORY_NOT_EMPTY",
				  "Folder (%s) is not empty; set recursive to delete it with "
				  "everything in it",
				  path);
	return rc < 0 ? fs_error(err, rc, path, "delete") : 0;
}

static int delete_locked(const struct workspace *ws, const char *path, bool recursive,
			 struct model_error *err)
{
	char parent[WSPATH_MAX + 1];
	struct found f;
	int rc = resolve(ws, path, &f);
	if (rc < 0)
		return fs_error(err, rc, path, "read");
	wspath_parent(path, parent, sizeof(parent));
	int dirfd = beneath(ws, wspath_rel(parent), O_RDONLY | O_DIRECTORY, 0);
	if (dirfd < 0)
		return fs_error(err, dirfd, parent, "open");
	struct stat st;
	if (fstatat(dirfd, f.disk, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = fs_error(err, -errno, path, "delete");
	else if (S_ISDIR(st.st_mode))
		rc = delete_folder(dirfd, f.disk, path, recursive, err);
	else if (unlinkat(dirfd, f.disk, 0) < 0) /* a symlink goes, never its target */
		rc = fs_error(err, -errno, path, "delete");
	if (rc == 0 && fsync(dirfd) < 0)
		rc = fs_error(err, -errno, path, "delete");
	close(dirfd);
	if (rc == 0)
		log_info("workspace: deleted %s '%s'%s", workspace_type_name(f.obj.type), path,
			 recursive && f.obj.type == WORKSPACE_DIRECTORY ? " recursively" : "");
	return rc;
}

int workspace_delete(struct workspace *ws, const char *in, size_t in_len, bool recursive,
		     struct model_error *err)
{
	char path[WSPATH_MAX + 1];
	if (normalize(in, in_len, path, err) < 0)
		return -1;
	if (wspath_is_root(path))
		return model_fail(err, 400, MODEL_INVALID,
				  "Path (/) is the workspace root, which cannot be deleted");
	pthread_mutex_lock(&ws->write_lock);
	int rc = delete_locked(ws, path, recursive, err);
	pthread_mutex_unlock(&ws->write_lock);
	return rc;
}
