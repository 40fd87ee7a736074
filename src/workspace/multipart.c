/* multipart.c - see multipart.h.
 *
 * The body is scanned once: find the delimiter "--B", read the part's
 * header lines up to the blank line, then the data runs to the next
 * "\r\n--B". Every read is bounds-checked against the body's end (the body
 * is not trusted to be NUL-terminated). Pure: any thread.
 */
#include "workspace/multipart.h"

#include <string.h>
#include <strings.h>

/* --- header parameters ------------------------------------------------------------- */

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static size_t skip_ows(const char *s, size_t i, size_t n)
{
	while (i < n && is_ows(s[i]))
		i++;
	return i;
}

/* Matches a leading token such as "form-data" (case-insensitive) that ends
 * at OWS, ';' or the end. Returns the index after it, or 0 if no match. */
static size_t leading_token(const char *s, size_t n, const char *token)
{
	size_t i = skip_ows(s, 0, n), t = strlen(token);
	if (n - i < t || strncasecmp(s + i, token, t) != 0)
		return 0;
	i += t;
	return i == n || is_ows(s[i]) || s[i] == ';' ? i : 0;
}

/* Reads one parameter value at s[i]: a quoted-string (backslash escapes
 * the next byte) or a bare run up to ';' or OWS. Copies at most outlen - 1
 * bytes to out. Returns the index after it, or -1 if malformed or too long. */
static long read_value(const char *s, size_t i, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	bool quoted = i < n && s[i] == '"';
	if (quoted)
		i++;
	for (; i < n; i++) {
		char c = s[i];
		if (quoted && c == '"')
			break;
		if (!quoted && (c == ';' || is_ows(c)))
			break;
		if (quoted && c == '\\' && ++i >= n)
			return -1;
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return -1;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = s[i];
	}
	if (quoted && i >= n)
		return -1; /* unterminated */
	out[o] = '\0';
	return (long)(quoted ? i + 1 : i);
}

/* Looks for parameter key in the "; k=v" list starting at s[i]. 1 when
 * found (value in out), 0 when absent, -1 when the list is malformed. */
static int find_param(const char *s, size_t i, size_t n, const char *key, char *out, size_t outlen)
{
	int found = 0;
	char scratch[1024];
	while ((i = skip_ows(s, i, n)) < n) {
		if (s[i++] != ';')
			return -1;
		if ((i = skip_ows(s, i, n)) >= n)
			break; /* a trailing ';' */
		size_t k = i;
		while (i < n && s[i] != '=' && s[i] != ';' && !is_ows(s[i]))
			i++;
		size_t klen = i - k;
		if (klen == 0 || i >= n || s[i] != '=')
			return -1;
		bool want = !found && klen == strlen(key) && strncasecmp(s + k, key, klen) == 0;
		long next = want ? read_value(s, i + 1, n, out, outlen)
				 : read_value(s, i + 1, n, scratch, sizeof(scratch));
		if (next < 0)
			return -1;
		found |= want;
		i = (size_t)next;
	}
	return found;
}

/* --- boundary ------------------------------------------------------------------------ */

static bool is_bchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       strchr("'()+_,-./:=? ", c) != NULL;
}

int multipart_boundary(const char *content_type, char *out, size_t outlen, const char **why)
{
	size_t n = content_type ? strlen(content_type) : 0;
	size_t i = n ? leading_token(content_type, n, "multipart/form-data") : 0;
	char b[MULTIPART_BOUNDARY_MAX + 2];
	if (i == 0) {
		*why = "Content-Type is not multipart/form-data";
		return -1;
	}
	int rc = find_param(content_type, i, n, "boundary", b, sizeof(b));
	size_t blen = rc == 1 ? strlen(b) : 0;
	bool ok =
		blen >= 1 && blen <= MULTIPART_BOUNDARY_MAX && b[blen - 1] != ' ' && blen < outlen;
	for (size_t k = 0; ok && k < blen; k++)
		ok = is_bchar(b[k]);
	if (!ok) {
		*why = rc == 0 ? "Content-Type has no boundary"
			       : "Content-Type has a malformed or invalid boundary";
		return -1;
	}
	memcpy(out, b, blen + 1);
	return 0;
}

/* --- the body --------------------------------------------------------------------------- */

struct scan {
	const char *s;
	size_t n;      /* body length */
	const char *d; /* "--" + boundary, preceded in memory by CRLF */
	size_t dlen;   /* of "--" + boundary */
	const char **why;
};

static int fail(struct scan *sc, const char *why)
{
	*sc->why = why;
	return -1;
}

/* Handles one header line line[0..len) (without its CRLF) of part p. */
static int header_line(struct scan *sc, const char *line, size_t len, struct multipart_part *p,
		       bool *named)
{
	if (len > 0 && is_ows(line[0]))
		return fail(sc, "uses folded header lines, which multipart/form-data forbids");
	const char *colon = memchr(line, ':', len);
	if (!colon || colon == line)
		return fail(sc, "has a part header line without a name and a ':'");
	size_t nlen = (size_t)(colon - line);
	static const char cd[] = "Content-Disposition";
	if (nlen != sizeof(cd) - 1 || strncasecmp(line, cd, nlen) != 0)
		return 0; /* Content-Type and others: not needed */
	const char *v = colon + 1;
	size_t vlen = len - nlen - 1;
	size_t i = leading_token(v, vlen, "form-data");
	if (i == 0)
		return fail(sc, "has a part whose Content-Disposition is not form-data");
	int rc = find_param(v, i, vlen, "name", p->name, sizeof(p->name));
	if (rc < 0)
		return fail(sc,
			    "has a malformed Content-Disposition (or a field name over 128 bytes)");
	char fname[1024];
	int f = find_param(v, i, vlen, "filename", fname, sizeof(fname));
	int f2 = find_param(v, i, vlen, "filename*", fname, sizeof(fname));
	p->has_filename = f == 1 || f2 == 1;
	*named = rc == 1 && p->name[0] != '\0';
	return 0;
}

/* Reads the headers starting at *pos, leaving *pos after the blank line. */
static int read_headers(struct scan *sc, size_t *pos, struct multipart_part *p)
{
	size_t start = *pos;
	bool named = false;
	for (;;) {
		const char *s = sc->s + *pos;
		size_t left = sc->n - *pos;
		const char *crlf = memmem(
			s, left < MULTIPART_HEADER_MAX ? left : MULTIPART_HEADER_MAX, "\r\n", 2);
		if (!crlf)
			return fail(sc, *pos - start + left > MULTIPART_HEADER_MAX
						? "has part headers over 8192 bytes"
						: "ends inside the headers of a part");
		size_t len = (size_t)(crlf - s);
		*pos += len + 2;
		if (*pos - start > MULTIPART_HEADER_MAX)
			return fail(sc, "has part headers over 8192 bytes");
		if (len == 0)
			break;
		if (header_line(sc, s, len, p, &named) < 0)
			return -1;
	}
	if (!named)
		return fail(sc, "has a part without a Content-Disposition name");
	return 0;
}

/* Whether "--B" at index at is a real delimiter: followed by "--" (the
 * close delimiter: 1) or by optional transport padding and CRLF (0, with
 * *next after the CRLF). -1 when it is not a delimiter. */
static int delimiter_kind(const struct scan *sc, size_t at, size_t *next)
{
	size_t i = at + sc->dlen;
	if (sc->n - i >= 2 && sc->s[i] == '-' && sc->s[i + 1] == '-')
		return 1;
	i = skip_ows(sc->s, i, sc->n);
	if (sc->n - i < 2 || sc->s[i] != '\r' || sc->s[i + 1] != '\n')
		return -1;
	*next = i + 2;
	return 0;
}

/* The next real delimiter after data starting at from: the index of its
 * "\r\n", or -1. Lookalikes ("\r\n--Bx") are data. */
static long find_delimiter(const struct scan *sc, size_t from)
{
	size_t next;
	while (from < sc->n) {
		const char *q = memmem(sc->s + from, sc->n - from, sc->d - 2, sc->dlen + 2);
		if (!q)
			return -1;
		size_t at = (size_t)(q - sc->s);
		if (delimiter_kind(sc, at + 2, &next) >= 0)
			return (long)at;
		from = at + 2;
	}
	return -1;
}

/* The index of the first delimiter: at the start, or after a preamble. */
static int first_delimiter(struct scan *sc, size_t *pos)
{
	size_t next;
	if (sc->n >= sc->dlen && memcmp(sc->s, sc->d, sc->dlen) == 0 &&
	    delimiter_kind(sc, 0, &next) >= 0) {
		*pos = 0;
		return 0;
	}
	long at = find_delimiter(sc, 0);
	if (at < 0)
		return fail(sc, "does not contain the boundary from Content-Type");
	*pos = (size_t)at + 2;
	return 0;
}

int multipart_parse(const char *body, size_t len, const char *boundary,
		    struct multipart_part *parts, size_t max, size_t *n, const char **why)
{
	/* "\r\n--" + boundary: the delimiter as it follows data. */
	char delim[4 + MULTIPART_BOUNDARY_MAX + 1];
	size_t blen = strlen(boundary);
	struct scan sc = {body, len, delim + 2, blen + 2, why};
	*n = 0;
	if (blen == 0 || blen > MULTIPART_BOUNDARY_MAX)
		return fail(&sc, "has an invalid boundary");
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, blen + 1);
	size_t pos;
	if (first_delimiter(&sc, &pos) < 0)
		return -1;
	for (;;) {
		if (delimiter_kind(&sc, pos, &pos) != 0)
			return 0; /* the close delimiter (each one was checked when found) */
		if (*n == max)
			return fail(&sc, "has more than 16 parts");
		struct multipart_part *p = &parts[*n];
		memset(p, 0, sizeof(*p));
		if (read_headers(&sc, &pos, p) < 0)
			return -1;
		long end = find_delimiter(&sc, pos);
		if (end < 0)
			return fail(&sc, "is truncated: a part has no closing boundary");
		p->data = body + pos;
		p->len = (size_t)end - pos;
		(*n)++;
		pos = (size_t)end + 2;
	}
}

const struct multipart_part *multipart_find(const struct multipart_part *parts, size_t n,
					    const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(parts[i].name, name) == 0)
			return &parts[i];
	return NULL;
}
