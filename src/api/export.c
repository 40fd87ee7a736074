/* export.c - runs/export: a notebook task run as one self-contained HTML page
 * (reference §1, §2.6 ViewsToExport/ViewType; docs/internals/export.md).
 *
 * The page is built from the task attempt's folder (engine/runs.h): the
 * runtime's cell record, cells.json (source, output, error, skipped of each
 * cell, rewritten after every cell), else the snapshot of the notebook the
 * attempt ran (notebook.py or notebook.ipynb), shown without outputs.
 *
 * Invariants: everything that comes from a file or a run document is
 * HTML-escaped (& < > " '), whatever it holds; the page loads nothing (inline
 * style, no script, a CSP that forbids the rest); at most EXPORT_READ_MAX
 * bytes are read of any file and the page holds at most PAGE_MAX bytes of
 * content, and anything left out is said to be "truncated" on the page.
 *
 * Threads: HTTP worker threads. Reads only: the store, and files the
 * runtime and the engine replace atomically (rename), so a read sees one
 * complete version of each.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "config.h"
#include "engine/runs.h"
#include "model/run.h"
#include "model/run_doc.h"
#include "util/strbuf.h"
#include "util/utf8.h"
#include "workspace/nbconvert.h"

/* The most read of any one attempt file. The runtime caps each cell's output
 * and the workspace caps notebooks at 10 MB, so only a pathological record
 * reaches it; the cells that fit are still shown. */
#define EXPORT_READ_MAX (16L * 1024 * 1024)
/* The content budget of the page. Escaping can make text up to six times
 * longer (' is &#39;), so 16 MB of cells could pass it. */
#define PAGE_MAX (32L * 1024 * 1024)
/* Room kept past PAGE_MAX for jobsd's own markup after the budget is spent:
 * closing tags and the truncation note (a few hundred bytes). */
#define PAGE_RESERVE (16L * 1024)

void runs_export(struct call *c); /* the route in runs.c */

/* --- the page: a capped buffer of markup and escaped text -------------------------------- */

struct page {
	struct strbuf sb;
	bool full; /* PAGE_MAX reached: text is dropped from here on */
};

static void page_init(struct page *p)
{
	strbuf_init(&p->sb, PAGE_MAX + PAGE_RESERVE);
	p->full = false;
}

/* jobsd's own markup: always appended (the reserve holds it). Markup alone
 * (cells with empty text) also fills the page, so that the cell loop stops
 * while the reserve still holds the closing tags. */
static void page_raw(struct page *p, const char *s)
{
	if (strbuf_puts(&p->sb, s) != 0 || p->sb.len >= (size_t)PAGE_MAX)
		p->full = true;
}

static void page_rawf(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void page_rawf(struct page *p, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	page_raw(p, buf);
}

/* Appends n bytes of content if the budget allows; else as much as fits,
 * cut before a UTF-8 continuation byte (never inside a character), or
 * nothing when atomic (an entity is never cut), and the page is full. */
static void page_put(struct page *p, const char *s, size_t n, bool atomic)
{
	if (p->full)
		return;
	size_t room = p->sb.len < (size_t)PAGE_MAX ? (size_t)PAGE_MAX - p->sb.len : 0;
	if (n > room) {
		n = atomic ? 0 : room;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		p->full = true;
	}
	if (n && strbuf_append(&p->sb, s, n) != 0)
		p->full = true;
}

/* What byte b becomes in HTML text or an attribute value, NULL when it
 * stands for itself. Control characters (NUL included) are not text: they
 * become U+FFFD, as an HTML parser would make NUL. */
static const char *escape_of(unsigned char b)
{
	switch (b) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	case '\t':
	case '\n':
	case '\r': return NULL;
	default: return b < 0x20 || b == 0x7f ? "\xef\xbf\xbd" : NULL;
	}
}

/* Content: n bytes of valid UTF-8, escaped. */
static void page_text(struct page *p, const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n && !p->full; i++) {
		const char *e = escape_of((unsigned char)s[i]);
		if (!e)
			continue;
		page_put(p, s + start, i - start, false);
		page_put(p, e, strlen(e), true);
		start = i + 1;
	}
	if (start < n)
		page_put(p, s + start, n - start, false);
}

static void page_str(struct page *p, const char *s)
{
	if (s)
		page_text(p, s, strlen(s));
}

/* A JSON string member of obj as content; false when it is not a string. */
static bool page_member(struct page *p, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return false;
	page_text(p, json_string_value(v), json_string_length(v));
	return true;
}

/* --- the task run to export ---------------------------------------------------------------- */

struct target {
	json_t *task;	/* the task run's doc (owned) */
	int64_t run_id; /* the task run */
	int64_t job_run_id;
	int64_t job_id;
	const char *path; /* notebook_task.notebook_path (in task) */
	const char *name; /* its last component */
};

static void target_release(struct target *t) { json_decref(t->task); }

/* The kind member of a task doc ("spark_python_task"...), for messages. */
static const char *task_kind(const json_t *task)
{
	for (const char *const *k = job_task_kinds; *k; k++)
		if (json_object_get(task, *k))
			return *k;
	return "non-notebook";
}

/* Loads the task run that id names (a task run, or the one task of a
 * single-task-format job run) and checks it is a notebook task. 0, or -1
 * after replying. */
static int find_target(struct call *c, int64_t id, struct target *t)
{
	memset(t, 0, sizeof(*t));
	struct run_read r;
	int rc = run_read(c->api->store, id, &r);
	if (rc == STORE_OK && r.parent) {
		t->task = json_incref(r.doc);
		t->job_run_id = r.parent;
	} else if (rc == STORE_OK && run_single_task(r.doc) && json_array_size(r.tasks)) {
		t->task = json_incref(json_array_get(r.tasks, 0));
		t->job_run_id = id;
	}
	t->job_id = r.job_id;
	bool single = rc == STORE_OK && !r.parent && run_single_task(r.doc);
	run_read_free(&r);
	if (rc == STORE_NOT_FOUND) {
		/* SDKs match this text. */
		reply_error(c, 400, MODEL_INVALID, "Run %" PRId64 " does not exist.", id);
		return -1;
	}
	if (rc != STORE_OK) {
		reply_store_error(c, rc);
		return -1;
	}
	if (!t->task && !single) {
		reply_error(c, 400, MODEL_INVALID,
			    "Run %" PRId64 " is a job run with multiple tasks; runs/export exports "
			    "one notebook task run: give the run_id of one of its tasks "
			    "(tasks[].run_id in runs/get) instead.",
			    id);
		return -1;
	}
	if (!t->task) {
		reply_error(c, 400, "INVALID_STATE",
			    "Run %" PRId64 " has no task run yet: nothing to export", id);
		return -1;
	}
	t->run_id = json_integer_value(json_object_get(t->task, "run_id"));
	if (!t->run_id)
		t->run_id = id;
	const json_t *nt = json_object_get(t->task, "notebook_task");
	if (!json_is_object(nt)) {
		reply_error(c, 400, MODEL_INVALID,
			    "Run %" PRId64 " is a %s run: runs/export exports notebook task runs "
			    "only",
			    id, task_kind(t->task));
		target_release(t);
		return -1;
	}
	t->path = json_string_value(json_object_get(nt, "notebook_path"));
	if (!t->path)
		t->path = "";
	const char *slash = strrchr(t->path, '/');
	t->name = slash ? slash + 1 : t->path;
	if (!*t->name)
		t->name = "notebook";
	return 0;
}

static const char *state_member(const json_t *task, const char *key)
{
	return json_string_value(json_object_get(json_object_get(task, "state"), key));
}

static bool terminal(const json_t *task)
{
	int life = run_life_parse(state_member(task, "life_cycle_state"));
	return state_member(task, "result_state") || (life >= 0 && run_life_terminal(life));
}

/* --- reading the attempt folder ------------------------------------------------------------ */

/* Reads at most EXPORT_READ_MAX bytes of dir/name into *buf (NUL-terminated,
 * the caller frees) and *len; *cut when the file is longer. 0, 1 when there
 * is no such file, -1 when it cannot be read. */
static int read_head(const char *dir, const char *name, char **buf, size_t *len, bool *cut)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	*buf = NULL;
	*len = 0;
	*cut = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 1 : -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	size_t want = st.st_size > EXPORT_READ_MAX ? (size_t)EXPORT_READ_MAX : (size_t)st.st_size;
	char *b = malloc(want + 1);
	if (!b)
		abort();
	size_t n = 0;
	while (n < want) {
		ssize_t r = read(fd, b + n, want - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	*cut = st.st_size > EXPORT_READ_MAX;
	return 0;
}

/* The cells to show and where they come from. */
struct cells {
	json_t *list;	/* array of records shaped as cells.json's */
	bool outputs;	/* from cells.json (else the snapshot, without outputs) */
	bool cut;	/* the file was cut at EXPORT_READ_MAX: later cells left out */
	char note[256]; /* why the outputs are missing, or "" */
};

static size_t skip_space(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
		i++;
	return i;
}

/* Parses a cells.json text element by element, so that a record cut at
 * EXPORT_READ_MAX still yields the cells before the cut. Elements that are
 * not objects are kept (they show as empty cells). 0 with cs->list; -1 when
 * the text is not a JSON array. */
static int parse_record(const char *s, size_t n, bool cut, struct cells *cs)
{
	size_t i = skip_space(s, 0, n);
	if (i >= n || s[i] != '[')
		return -1;
	json_t *list = json_array();
	for (i = skip_space(s, i + 1, n); i < n && s[i] != ']';) {
		json_error_t e;
		json_t *cell =
			json_loadb(s + i, n - i, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &e);
		if (!cell || e.position <= 0)
			break;
		json_array_append_new(list, cell);
		i = skip_space(s, i + (size_t)e.position, n);
		if (i < n && s[i] == ',')
			i = skip_space(s, i + 1, n);
		else if (i < n && s[i] != ']')
			break;
	}
	if (i >= n || s[i] != ']') {
		if (!cut) { /* not cut, yet not a whole array: not the runtime's record */
			json_decref(list);
			return -1;
		}
		cs->cut = true;
	}
	cs->list = list;
	return 0;
}

/* The runtime's record. 0, 1 when there is none, -1 when it is unreadable. */
static int load_record(const char *dir, struct cells *cs)
{
	char *buf;
	size_t len;
	bool cut;
	int rc = read_head(dir, "cells.json", &buf, &len, &cut);
	if (rc == 0) {
		rc = parse_record(buf, len, cut, cs);
		cs->outputs = rc == 0;
	}
	free(buf);
	return rc;
}

/* The text of an ipynb cell's source: a string or an array of strings. */
static json_t *ipynb_source(const json_t *cell)
{
	const json_t *src = json_object_get(cell, "source");
	if (json_is_string(src))
		return json_incref((json_t *)src);
	struct strbuf sb;
	strbuf_init(&sb, EXPORT_READ_MAX);
	size_t i;
	const json_t *line;
	json_array_foreach (src, i, line)
		if (json_is_string(line))
			strbuf_append(&sb, json_string_value(line), json_string_length(line));
	json_t *s = json_stringn(sb.len ? sb.buf : "", sb.len);
	strbuf_release(&sb);
	return s ? s : json_string("");
}

/* Records (no outputs) of a parsed ipynb's cells. */
static json_t *ipynb_records(const json_t *nb)
{
	json_t *list = json_array();
	size_t i;
	const json_t *cell;
	json_array_foreach (json_object_get(nb, "cells"), i, cell) {
		json_t *src = ipynb_source(cell);
		const char *type = json_string_value(json_object_get(cell, "cell_type"));
		const char *kind = type && strcmp(type, "markdown") == 0 ? "markdown"
				   : json_string_value(src)[0] == '%'	 ? "magic"
									 : "code";
		json_array_append_new(list, json_pack("{s:o, s:s}", "source", src, "kind", kind));
	}
	return list;
}

/* The snapshot of the notebook, split into cells. 0, or 1 when there is
 * none. A snapshot that cannot be split is shown whole, as one cell. */
static int load_snapshot(const char *dir, struct cells *cs)
{
	static const char *const names[] = {"notebook.py", "notebook.ipynb"};
	char *buf = NULL;
	size_t len = 0;
	bool cut = false;
	size_t k;
	for (k = 0; k < 2; k++) {
		if (read_head(dir, names[k], &buf, &len, &cut) == 0)
			break;
		free(buf);
	}
	if (k == 2)
		return 1;
	utf8_scrub(buf); /* stops at a NUL byte: such a file is shown up to it */
	len = strlen(buf);
	cs->cut = cut;
	const char *why = NULL;
	char *text = NULL;
	size_t tlen = 0;
	json_t *nb = NULL;
	if (k == 0) { /* notebook.py */
		if (nbconvert_to_ipynb(buf, len, WORKSPACE_PYTHON, &text, &tlen, &why) == 0)
			nbconvert_ipynb_parse(text, tlen, &nb, &why);
	} else {
		nbconvert_ipynb_parse(buf, len, &nb, &why);
	}
	if (nb)
		cs->list = ipynb_records(nb);
	else
		cs->list = json_pack("[{s:s%, s:s}]", "source", buf, len, "kind", "code");
	json_decref(nb);
	free(text);
	free(buf);
	return 0;
}

/* --- rendering ----------------------------------------------------------------------------- */

static const char page_style[] =
	"body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;"
	"margin:0 auto;max-width:70rem;padding:1rem 2rem;color:#1b1f24;background:#fff}"
	"h1{font-size:1.5rem;margin:.5rem 0}"
	"table.run{border-collapse:collapse;margin:.5rem 0 1rem}"
	"table.run th{text-align:left;padding:.15rem 1rem .15rem 0;color:#57606a;"
	"font-weight:normal;vertical-align:top}"
	"table.run td{padding:.15rem 0;overflow-wrap:anywhere}"
	".note{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .75rem;"
	"border-radius:4px}"
	".cell{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0;overflow:hidden}"
	".cell .head{background:#f6f8fa;color:#57606a;font-size:.85rem;padding:.3rem .75rem;"
	"border-bottom:1px solid #d0d7de}"
	".cell .head .tag{margin-left:.5rem;font-weight:bold}"
	"pre{margin:0;padding:.6rem .75rem;white-space:pre-wrap;overflow-wrap:anywhere;"
	"font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}"
	"pre.out{border-top:1px dashed #d0d7de;background:#fbfbfb}"
	"pre.err{border-top:1px dashed #cf222e;background:#ffebe9;color:#82071e}"
	".md{padding:.6rem .75rem;white-space:pre-wrap;overflow-wrap:anywhere}"
	".skipped{opacity:.55}"
	".SUCCESS{color:#1a7f37}.FAILED,.TIMEDOUT,.INTERNAL_ERROR{color:#cf222e}"
	"footer{color:#57606a;font-size:.8rem;margin:2rem 0 1rem}";

static void format_ms(int64_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, n, "%" PRId64 " ms", ms);
}

static void render_row(struct page *p, const char *label, const char *value)
{
	page_rawf(p, "<tr><th>%s</th><td>", label);
	page_str(p, value);
	page_raw(p, "</td></tr>\n");
}

static void render_result(struct page *p, const json_t *task)
{
	const char *life = state_member(task, "life_cycle_state");
	const char *result = state_member(task, "result_state");
	page_raw(p, "<tr><th>Result</th><td><span class=\"");
	page_str(p, result ? result : life);
	page_raw(p, "\">");
	page_str(p, result ? result : life ? life : "UNKNOWN");
	if (result && life) {
		page_raw(p, " (");
		page_str(p, life);
		page_raw(p, ")");
	}
	page_raw(p, "</span>");
	const char *msg = state_member(task, "state_message");
	if (msg && *msg) {
		page_raw(p, ": ");
		page_str(p, msg);
	}
	page_raw(p, "</td></tr>\n");
}

static void render_head(struct page *p, const struct target *t)
{
	page_raw(p, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		    "style-src 'unsafe-inline'\">\n"
		    "<meta name=\"generator\" content=\"jobsd\">\n<title>");
	page_str(p, t->name);
	page_rawf(p, " - run %" PRId64 "</title>\n<style>", t->run_id);
	page_raw(p, page_style);
	page_raw(p, "</style>\n</head>\n<body>\n<header>\n<h1>");
	page_str(p, t->name);
	page_raw(p, "</h1>\n<table class=\"run\">\n");
	render_row(p, "Notebook", t->path);
	char buf[64];
	snprintf(buf, sizeof(buf), "%" PRId64, t->run_id);
	render_row(p, "Run", buf);
	render_row(p, "Task", json_string_value(json_object_get(t->task, "task_key")));
	snprintf(buf, sizeof(buf), "%" PRId64,
		 (int64_t)json_integer_value(json_object_get(t->task, "attempt_number")));
	render_row(p, "Attempt", buf);
	snprintf(buf, sizeof(buf), "%" PRId64 " (job %" PRId64 ")", t->job_run_id, t->job_id);
	render_row(p, "Job run", buf);
	render_result(p, t->task);
	static const char *const times[][2] = {{"start_time", "Started"}, {"end_time", "Ended"}};
	for (size_t i = 0; i < 2; i++) {
		int64_t ms = json_integer_value(json_object_get(t->task, times[i][0]));
		if (ms > 0) {
			format_ms(ms, buf, sizeof(buf));
			render_row(p, times[i][1], buf);
		}
	}
	page_raw(p, "</table>\n");
}

/* A note of jobsd's own (constant text, no markup characters): written as
 * markup so that it still fits once the content budget is spent. */
static void render_note(struct page *p, const char *text)
{
	page_raw(p, "<p class=\"note\">");
	page_raw(p, text);
	page_raw(p, "</p>\n");
}

/* One cell record; nothing in it is trusted (any member may be missing or
 * of another type). running: the task has not ended, so a cell not run yet
 * is pending rather than skipped. */
static void render_cell(struct page *p, size_t index, const json_t *cell, const struct cells *cs,
			bool running)
{
	const char *kind = json_string_value(json_object_get(cell, "kind"));
	bool markdown = kind && strcmp(kind, "markdown") == 0;
	bool skipped = cs->outputs && json_is_true(json_object_get(cell, "skipped"));
	const json_t *error = json_object_get(cell, "error");
	bool failed = json_is_string(error) && json_string_length(error) > 0;
	page_rawf(p, "<section class=\"cell %s%s\" id=\"cell-%zu\">\n<div class=\"head\">Cell %zu",
		  markdown			       ? "markdown"
		  : kind && strcmp(kind, "magic") == 0 ? "magic"
						       : "code",
		  skipped ? " skipped" : "", index, index);
	const char *magic = json_string_value(json_object_get(cell, "magic"));
	if (markdown || magic) {
		page_raw(p, " &middot; %");
		page_str(p, magic ? magic : "md");
	}
	if (json_is_string(json_object_get(cell, "title"))) {
		page_raw(p, " &middot; ");
		page_member(p, cell, "title");
	}
	if (skipped)
		page_raw(p, running ? "<span class=\"tag\">not run yet</span>"
				    : "<span class=\"tag\">skipped: not run</span>");
	if (failed)
		page_raw(p, "<span class=\"tag FAILED\">failed</span>");
	if (json_is_true(json_object_get(cell, "truncated")))
		page_raw(p, "<span class=\"tag\">output truncated</span>");
	/* A newline right after <pre> is dropped by HTML parsers: give them ours. */
	page_raw(p, markdown ? "</div>\n<div class=\"md\">" : "</div>\n<pre class=\"src\">\n");
	page_member(p, cell, "source");
	page_raw(p, markdown ? "</div>\n" : "</pre>\n");
	const json_t *out = json_object_get(cell, "output");
	if (json_is_string(out) && json_string_length(out) > 0) {
		page_raw(p, "<pre class=\"out\">\n");
		page_member(p, cell, "output");
		page_raw(p, "</pre>\n");
	}
	if (failed) {
		page_raw(p, "<pre class=\"err\">\n");
		page_member(p, cell, "error");
		page_raw(p, "</pre>\n");
	}
	page_raw(p, "</section>\n");
}

static void render_cells(struct page *p, const struct target *t, const struct cells *cs)
{
	if (cs->note[0])
		render_note(p, cs->note);
	if (cs->cut)
		render_note(p,
			    cs->outputs
				    ? "Truncated: the cell record is larger than the 16 MB export "
				      "limit; the cells after the last one shown are left out."
				    : "Truncated: the notebook is larger than the 16 MB export "
				      "limit; its end is left out.");
	page_raw(p, "</header>\n<main>\n");
	bool running = !terminal(t->task);
	size_t i;
	const json_t *cell;
	json_array_foreach (cs->list, i, cell) {
		if (p->full)
			break;
		render_cell(p, i + 1, cell, cs, running);
	}
	if (!json_array_size(cs->list) && !cs->cut)
		render_note(p, "The notebook has no cells.");
	if (p->full) /* cells close their own tags: markup goes on into the reserve */
		render_note(p, "Truncated: the page reached its 32 MB limit; the rest of the "
			       "notebook is left out.");
	page_raw(p, "</main>\n<footer>Exported by jobsd from the files of task run ");
	page_rawf(p, "%" PRId64 ".</footer>\n</body>\n</html>\n", t->run_id);
}

/* --- the endpoint -------------------------------------------------------------------------- */

/* The cells of the target's attempt folder: the record, else the snapshot.
 * 0, or -1 after replying (there is nothing to show). */
static int load_cells(struct call *c, const struct target *t, struct cells *cs)
{
	memset(cs, 0, sizeof(*cs));
	char dir[PATH_MAX];
	if (runs_attempt_dir(c->api->config->data_dir, t->run_id, dir, sizeof(dir)) != 0) {
		reply_error(c, 500, "INTERNAL_ERROR", "The folder of run %" PRId64 " is too long",
			    t->run_id);
		return -1;
	}
	int rc = load_record(dir, cs);
	if (rc == 0)
		return 0;
	bool ended = terminal(t->task);
	snprintf(cs->note, sizeof(cs->note), "%s: the notebook's source is shown without outputs.",
		 rc < 0	 ? "The cell record of this run (cells.json) cannot be read"
		 : ended ? "This run ended before its cells ran"
			 : "No cell of this run has finished yet");
	if (load_snapshot(dir, cs) == 0)
		return 0;
	const char *msg = state_member(t->task, "state_message");
	if (ended)
		reply_error(c, 400, "INVALID_STATE",
			    "Run %" PRId64 " has nothing to export: the task ended before its "
			    "notebook was read (%.300s)",
			    t->run_id, msg ? msg : "no message");
	else
		reply_error(c, 400, "INVALID_STATE",
			    "Run %" PRId64 " has nothing to export yet: its task has not started",
			    t->run_id);
	return -1;
}

/* The NOTEBOOK view of the target. NULL after replying. */
static json_t *notebook_view(struct call *c, const struct target *t)
{
	struct cells cs;
	if (load_cells(c, t, &cs) != 0)
		return NULL;
	struct page p;
	page_init(&p);
	render_head(&p, t);
	render_cells(&p, t, &cs);
	json_decref(cs.list);
	json_t *content = json_stringn(p.sb.len ? p.sb.buf : "", p.sb.len);
	strbuf_release(&p.sb);
	if (!content) { /* can't happen: every input was valid UTF-8 and cut between characters */
		reply_error(c, 500, "INTERNAL_ERROR", "The export of run %" PRId64 " is not UTF-8",
			    t->run_id);
		return NULL;
	}
	return json_pack("{s:o, s:s, s:s}", "content", content, "name", t->name, "type",
			 "NOTEBOOK");
}

enum views { VIEWS_CODE, VIEWS_DASHBOARDS, VIEWS_ALL };

static int parse_views(struct call *c, enum views *out)
{
	const char *s = NULL;
	if (arg_string(c, "views_to_export", false, &s) < 0)
		return -1;
	*out = VIEWS_CODE;
	if (!s || !*s || strcasecmp(s, "CODE") == 0)
		return 0;
	if (strcasecmp(s, "DASHBOARDS") == 0) {
		*out = VIEWS_DASHBOARDS;
		return 0;
	}
	if (strcasecmp(s, "ALL") == 0) {
		*out = VIEWS_ALL;
		return 0;
	}
	reply_error(c, 400, MODEL_INVALID,
		    "views_to_export must be CODE, DASHBOARDS or ALL, not '%.64s'", s);
	return -1;
}

void runs_export(struct call *c)
{
	int64_t id;
	enum views views;
	struct target t;
	if (arg_int64(c, "run_id", true, &id) < 0 || parse_views(c, &views) < 0 ||
	    find_target(c, id, &t) < 0)
		return;
	json_t *list = json_array();
	/* jobsd has no dashboards: DASHBOARDS is empty and ALL is the code. */
	if (views != VIEWS_DASHBOARDS) {
		json_t *view = notebook_view(c, &t);
		if (!view) {
			json_decref(list);
			target_release(&t);
			return;
		}
		json_array_append_new(list, view);
	}
	target_release(&t);
	reply_json(c, 200, json_pack("{s:o}", "views", list));
}
