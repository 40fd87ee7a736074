/* wspath.c - see wspath.h.
 *
 * One left-to-right pass over the input; the canonical form is built in a
 * local buffer and copied out only when the whole path is accepted, so a
 * refused path never leaves a half-written result. Pure: any thread.
 */
#include "workspace/wspath.h"

#include <string.h>

/* Clients may spell every path with the "/Workspace" prefix that the UI
 * shows; it names the same tree. */
#define ALIAS "Workspace"

static bool is_dot_segment(const char *s, size_t n)
{
	return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

static bool is_reserved(const char *s, size_t n)
{
	size_t r = sizeof(WSPATH_RESERVED) - 1;
	return n >= r && memcmp(s, WSPATH_RESERVED, r) == 0;
}

/* Checks one segment; NULL when it is acceptable, else why not. */
static const char *segment_problem(const char *s, size_t n)
{
	if (n == 0)
		return "must not contain empty segments ('//')";
	if (is_dot_segment(s, n))
		return "must not contain '.' or '..' segments";
	if (n > WSPATH_SEGMENT_MAX)
		return "has a segment longer than 255 bytes";
	if (is_reserved(s, n))
		return "must not use names starting with '" WSPATH_RESERVED "' (reserved by jobsd)";
	return NULL;
}

int wspath_normalize(const char *in, size_t len, char *out, size_t outlen, const char **why)
{
	const char *dummy;
	char buf[WSPATH_MAX + 1];
	size_t blen = 0;
	if (!why)
		why = &dummy;
	if (len == 0) {
		*why = "must not be empty";
		return -1;
	}
	if (in[0] != '/') {
		*why = "must be absolute (start with '/')";
		return -1;
	}
	if (memchr(in, '\0', len)) {
		*why = "must not contain NUL bytes";
		return -1;
	}
	/* The loop stops when p reaches end, so one trailing slash is dropped
	 * and any other empty segment is seen (and refused) as n == 0. */
	const char *end = in + len;
	for (const char *p = in + 1, *q; p < end; p = q + 1) {
		q = memchr(p, '/', (size_t)(end - p));
		if (!q)
			q = end;
		size_t n = (size_t)(q - p);
		if ((*why = segment_problem(p, n)) != NULL)
			return -1;
		if (p == in + 1 && n == sizeof(ALIAS) - 1 && memcmp(p, ALIAS, n) == 0)
			continue;
		if (blen + 1 + n > WSPATH_MAX) {
			*why = "is longer than 4000 bytes";
			return -1;
		}
		buf[blen++] = '/';
		memcpy(buf + blen, p, n);
		blen += n;
	}
	if (blen == 0)
		buf[blen++] = '/';
	if (blen + 1 > outlen) {
		*why = "is too long";
		return -1;
	}
	memcpy(out, buf, blen);
	out[blen] = '\0';
	*why = NULL;
	return 0;
}

bool wspath_is_root(const char *canon) { return canon[0] == '/' && canon[1] == '\0'; }

const char *wspath_rel(const char *canon) { return wspath_is_root(canon) ? "." : canon + 1; }

const char *wspath_base(const char *canon)
{
	const char *slash = strrchr(canon, '/');
	return slash ? slash + 1 : canon;
}

int wspath_parent(const char *canon, char *out, size_t outlen)
{
	const char *slash = strrchr(canon, '/');
	size_t n = slash && slash != canon ? (size_t)(slash - canon) : 1;
	if (n + 1 > outlen)
		return -1;
	memcpy(out, canon, n);
	out[n] = '\0';
	return 0;
}
