/* nbconvert.c - see nbconvert.h.
 *
 * Source text is handled as a list of lines (without their "\n" or
 * "\r\n"); a cell is a run of lines between separator lines, trimmed of
 * blank lines at both ends. Out-of-memory aborts with a message (jobsd's
 * rule for internal allocations); sizes are bounded by the caller's cap.
 * Pure: any thread.
 */
#include "workspace/nbconvert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

#define COMMAND_MARK " COMMAND ----------"
#define MAGIC_MARK   " MAGIC"

/* --- a growable output buffer --------------------------------------------------- */

struct obuf {
	char *p;
	size_t len, cap;
};

static void oom(void)
{
	log_error("nbconvert: out of memory");
	abort();
}

static void ob_put(struct obuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			oom();
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void ob_str(struct obuf *b, const char *s) { ob_put(b, s, strlen(s)); }

/* --- headers and languages ---------------------------------------------------------- */

const char *nbconvert_comment(enum workspace_lang lang)
{
	switch (lang) {
	case WORKSPACE_PYTHON:
	case WORKSPACE_R: return "#";
	case WORKSPACE_SQL: return "--";
	case WORKSPACE_SCALA: return "//";
	default: return NULL;
	}
}

const char *nbconvert_header(enum workspace_lang lang)
{
	switch (lang) {
	case WORKSPACE_PYTHON:
	case WORKSPACE_R: return "# Databricks notebook source";
	case WORKSPACE_SQL: return "-- Databricks notebook source";
	case WORKSPACE_SCALA: return "// Databricks notebook source";
	default: return NULL;
	}
}

bool nbconvert_has_header(const char *buf, size_t len, enum workspace_lang lang)
{
	const char *h = nbconvert_header(lang);
	if (!h)
		return false;
	size_t n = strlen(h);
	if (len < n || memcmp(buf, h, n) != 0)
		return false;
	return len == n || buf[n] == '\n' ||
	       (buf[n] == '\r' && (len == n + 1 || buf[n + 1] == '\n'));
}

int nbconvert_ipynb_parse(const char *buf, size_t len, json_t **out, const char **why)
{
	json_error_t jerr;
	json_t *nb = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!nb) {
		*why = "is not valid JSON";
		return -1;
	}
	if (!json_is_object(nb) || !json_is_array(json_object_get(nb, "cells"))) {
		json_decref(nb);
		*why = "is not a Jupyter notebook (a JSON object with a \"cells\" array)";
		return -1;
	}
	*out = nb;
	return 0;
}

static enum workspace_lang lang_from_name(const json_t *v)
{
	const char *s = json_string_value(v);
	if (!s)
		return WORKSPACE_LANG_NONE;
	if (strcasecmp(s, "python") == 0 || strcasecmp(s, "python3") == 0)
		return WORKSPACE_PYTHON;
	if (strcasecmp(s, "sql") == 0)
		return WORKSPACE_SQL;
	if (strcasecmp(s, "scala") == 0)
		return WORKSPACE_SCALA;
	if (strcasecmp(s, "r") == 0)
		return WORKSPACE_R;
	return WORKSPACE_LANG_NONE;
}

enum workspace_lang nbconvert_ipynb_lang(const json_t *nb)
{
	const json_t *md = json_object_get(nb, "metadata");
	const json_t *candidates[] = {
		json_object_get(json_object_get(md, "application/vnd.databricks.v1+notebook"),
				"language"),
		json_object_get(json_object_get(md, "kernelspec"), "language"),
		json_object_get(json_object_get(md, "language_info"), "name"),
	};
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		enum workspace_lang l = lang_from_name(candidates[i]);
		if (l != WORKSPACE_LANG_NONE)
			return l;
	}
	return WORKSPACE_PYTHON;
}

/* --- lines ------------------------------------------------------------------------- */

struct line {
	const char *s;
	size_t n;
};

struct lines {
	struct line *v;
	size_t n, cap;
};

static void lines_add(struct lines *ls, const char *s, size_t n)
{
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 64;
		struct line *v = realloc(ls->v, cap * sizeof(*v));
		if (!v)
			oom();
		ls->v = v;
		ls->cap = cap;
	}
	ls->v[ls->n++] = (struct line){s, n};
}

/* Splits text into lines without their terminators ("\n" or "\r\n"). A
 * final terminator does not start an empty line. */
static void split_lines(const char *s, size_t len, struct lines *ls)
{
	const char *end = s + len;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		size_t n = (size_t)(e - s);
		while (n > 0 && s[n - 1] == '\r')
			n--; /* "\r\n", and CRs ending a line; a CR inside one is text */
		lines_add(ls, s, n);
		s = nl ? nl + 1 : end;
	}
}

static bool line_is(const struct line *l, const char *prefix, const char *mark)
{
	size_t p = strlen(prefix), m = strlen(mark);
	return l->n >= p + m && memcmp(l->s, prefix, p) == 0 && memcmp(l->s + p, mark, m) == 0;
}

/* "# COMMAND ----------", tolerating trailing blanks. */
static bool is_separator(const struct line *l, const char *c)
{
	if (!line_is(l, c, COMMAND_MARK))
		return false;
	for (size_t i = strlen(c) + strlen(COMMAND_MARK); i < l->n; i++)
		if (l->s[i] != ' ' && l->s[i] != '\t')
			return false;
	return true;
}

/* "# MAGIC" alone or followed by a space. */
static bool is_magic(const struct line *l, const char *c)
{
	size_t k = strlen(c) + strlen(MAGIC_MARK);
	return line_is(l, c, MAGIC_MARK) && (l->n == k || l->s[k] == ' ');
}

static struct line strip_magic(const struct line *l, const char *c)
{
	size_t k = strlen(c) + strlen(MAGIC_MARK);
	if (l->n > k)
		k++; /* the space after MAGIC */
	return (struct line){l->s + k, l->n - k};
}

static bool is_blank(const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->s[i] != ' ' && l->s[i] != '\t' && l->s[i] != '\r')
			return false;
	return true;
}

/* --- source -> ipynb ----------------------------------------------------------------- */

/* A Jupyter "source": the lines, each but the last ending in "\n". */
static json_t *source_array(const struct line *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		struct obuf b = {0};
		ob_put(&b, v[i].s, v[i].n);
		if (i + 1 < n)
			ob_str(&b, "\n");
		json_array_append_new(a, json_stringn(b.p ? b.p : "", b.len));
		free(b.p);
	}
	return a;
}

static json_t *make_cell(const char *type, json_t *source)
{
	json_t *cell = json_object();
	json_object_set_new(cell, "cell_type", json_string(type));
	if (strcmp(type, "code") == 0)
		json_object_set_new(cell, "execution_count", json_null());
	json_object_set_new(cell, "metadata", json_object());
	if (strcmp(type, "code") == 0)
		json_object_set_new(cell, "outputs", json_array());
	json_object_set_new(cell, "source", source);
	return cell;
}

/* True when the markdown magic starts the (MAGIC-stripped) first line:
 * "%md" alone, "%md <text>" or "%md-sandbox". */
static bool is_md_magic(const struct line *l)
{
	return l->n >= 3 && memcmp(l->s, "%md", 3) == 0 &&
	       (l->n == 3 || l->s[3] == ' ' || l->s[3] == '\t' || l->s[3] == '-');
}

/* One source cell (already trimmed, n > 0 lines) as a Jupyter cell. */
static json_t *convert_cell(const struct line *v, size_t n, const char *c)
{
	bool magic = true;
	for (size_t i = 0; i < n && magic; i++)
		magic = is_magic(&v[i], c) || v[i].n == 0;
	/* A MAGIC cell runs a magic command: its first line names it. Anything
	 * else is kept as written (plain code with "# MAGIC" comments). */
	if (magic) {
		struct line first = strip_magic(&v[0], c);
		magic = first.n > 0 && first.s[0] == '%';
	}
	if (!magic)
		return make_cell("code", source_array(v, n));
	struct line *s = malloc(n * sizeof(*s));
	if (!s)
		oom();
	for (size_t i = 0; i < n; i++)
		s[i] = v[i].n ? strip_magic(&v[i], c) : v[i];
	json_t *cell;
	if (is_md_magic(&s[0])) {
		/* Drop the "%md" token; keep inline text after it as a line. */
		size_t k = 3;
		while (k < s[0].n && s[0].s[k] != ' ' && s[0].s[k] != '\t')
			k++;
		if (k < s[0].n)
			k++;
		struct line rest = {s[0].s + k, s[0].n - k};
		if (is_blank(&rest)) {
			cell = make_cell("markdown", source_array(s + 1, n - 1));
		} else {
			s[0] = rest;
			cell = make_cell("markdown", source_array(s, n));
		}
	} else {
		cell = make_cell("code", source_array(s, n));
	}
	free(s);
	return cell;
}

static json_t *notebook_metadata(enum workspace_lang lang)
{
	static const char *const lower[] = {"python", "python", "sql", "scala", "r"};
	const char *l = lower[lang <= WORKSPACE_R ? lang : 0];
	json_t *md = json_object();
	json_t *ks = json_object();
	bool py = lang == WORKSPACE_PYTHON || lang == WORKSPACE_LANG_NONE;
	json_object_set_new(ks, "display_name", json_string(py ? "Python 3" : l));
	json_object_set_new(ks, "language", json_string(l));
	json_object_set_new(ks, "name", json_string(py ? "python3" : l));
	json_object_set_new(md, "kernelspec", ks);
	json_t *li = json_object();
	json_object_set_new(li, "name", json_string(l));
	json_object_set_new(md, "language_info", li);
	json_t *db = json_object();
	json_object_set_new(db, "language", json_string(l));
	json_object_set_new(md, "application/vnd.databricks.v1+notebook", db);
	return md;
}

int nbconvert_to_ipynb(const char *src, size_t len, enum workspace_lang lang, char **out,
		       size_t *outlen, const char **why)
{
	if (lang == WORKSPACE_LANG_NONE)
		lang = WORKSPACE_PYTHON;
	/* JSON strings must be UTF-8: check once here rather than per line. */
	json_t *probe = json_stringn(src, len);
	if (!probe) {
		*why = "is not UTF-8 text, so it cannot become a Jupyter notebook";
		return -1;
	}
	json_decref(probe);
	const char *c = nbconvert_comment(lang);
	struct lines ls = {0};
	split_lines(src, len, &ls);
	size_t start = ls.n > 0 && nbconvert_has_header(ls.v[0].s, ls.v[0].n, lang) ? 1 : 0;
	json_t *cells = json_array();
	bool any = false;
	for (size_t i = start; i < ls.n; i++)
		any = any || !is_blank(&ls.v[i]);
	for (size_t i = start; any && i <= ls.n;) {
		size_t j = i;
		while (j < ls.n && !is_separator(&ls.v[j], c))
			j++;
		size_t a = i, b = j;
		while (a < b && is_blank(&ls.v[a]))
			a++;
		while (b > a && is_blank(&ls.v[b - 1]))
			b--;
		json_array_append_new(cells, b > a ? convert_cell(ls.v + a, b - a, c)
						   : make_cell("code", json_array()));
		i = j + 1;
	}
	free(ls.v);
	json_t *nb = json_object();
	json_object_set_new(nb, "cells", cells);
	json_object_set_new(nb, "metadata", notebook_metadata(lang));
	json_object_set_new(nb, "nbformat", json_integer(4));
	json_object_set_new(nb, "nbformat_minor", json_integer(4));
	char *text = json_dumps(nb, JSON_INDENT(1));
	json_decref(nb);
	if (!text)
		oom();
	*out = text;
	*outlen = strlen(text);
	return 0;
}

/* --- ipynb -> source ----------------------------------------------------------------- */

/* The cell's text: a string, or an array of strings joined. */
static int cell_text(const json_t *cell, struct obuf *b)
{
	const json_t *src = json_object_get(cell, "source");
	if (!src)
		return 0;
	if (json_is_string(src)) {
		ob_put(b, json_string_value(src), json_string_length(src));
		return 0;
	}
	if (!json_is_array(src))
		return -1;
	size_t i;
	const json_t *part;
	json_array_foreach (src, i, part) {
		if (!json_is_string(part))
			return -1;
		ob_put(b, json_string_value(part), json_string_length(part));
	}
	return 0;
}

/* Writes each line of text prefixed by "<c> MAGIC " ("<c> MAGIC" when empty). */
static void put_magic_lines(struct obuf *b, const struct lines *ls, const char *c, bool first_nl)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (i > 0 || first_nl)
			ob_str(b, "\n");
		ob_str(b, c);
		ob_str(b, MAGIC_MARK);
		if (ls->v[i].n) {
			ob_str(b, " ");
			ob_put(b, ls->v[i].s, ls->v[i].n);
		}
	}
}

static void put_cell(struct obuf *b, const char *type, const char *text, size_t len, const char *c)
{
	struct lines ls = {0};
	split_lines(text, len, &ls);
	/* Blank lines at the edges would not survive the next read anyway. */
	size_t a = 0, e = ls.n;
	while (a < e && is_blank(&ls.v[a]))
		a++;
	while (e > a && is_blank(&ls.v[e - 1]))
		e--;
	struct lines body = {ls.v ? ls.v + a : NULL, e - a, 0};
	bool code = strcmp(type, "code") == 0;
	if (!code) {
		ob_str(b, c);
		ob_str(b, MAGIC_MARK " %md");
		put_magic_lines(b, &body, c, true);
	} else if (body.n > 0 && body.v[0].n > 0 && body.v[0].s[0] == '%') {
		put_magic_lines(b, &body, c, false);
	} else {
		for (size_t i = 0; i < body.n; i++) {
			if (i > 0)
				ob_str(b, "\n");
			ob_put(b, body.v[i].s, body.v[i].n);
		}
	}
	free(ls.v);
}

int nbconvert_to_source(const json_t *nb, enum workspace_lang lang, char **out, size_t *outlen,
			const char **why)
{
	if (lang == WORKSPACE_LANG_NONE)
		lang = WORKSPACE_PYTHON;
	const char *c = nbconvert_comment(lang);
	const json_t *cells = json_object_get(nb, "cells");
	struct obuf b = {0};
	ob_str(&b, nbconvert_header(lang));
	ob_str(&b, "\n");
	size_t i;
	const json_t *cell;
	json_array_foreach (cells, i, cell) {
		const char *type = json_string_value(json_object_get(cell, "cell_type"));
		struct obuf text = {0};
		if (!json_is_object(cell) || !type || cell_text(cell, &text) < 0) {
			free(text.p);
			free(b.p);
			*why = "has a cell without a cell_type or with a source that is not text";
			return -1;
		}
		if (i > 0) {
			ob_str(&b, "\n\n");
			ob_str(&b, c);
			ob_str(&b, COMMAND_MARK "\n\n");
		}
		put_cell(&b, type, text.p ? text.p : "", text.len, c);
		free(text.p);
	}
	if (json_array_size(cells) > 0)
		ob_str(&b, "\n");
	*out = b.p;
	*outlen = b.len;
	return 0;
}
