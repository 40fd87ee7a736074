/* util.c - allocation, string buffer, bounded file reading, integer parsing and
 * text sanitizing for jobctl (see util.h for the contract of each function).
 * Allocation failure ends the process with a message: a CLI has nothing useful
 * to do without memory, and it keeps every caller free of NULL checks. */
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void die_oom(size_t n)
{
	fprintf(stderr, "Error: out of memory (allocating %zu bytes)\n", n);
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom(n);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die_oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);
	memcpy(p, s, n);
	return p;
}

static char *xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		fprintf(stderr, "Error: bad format string '%s'\n", fmt);
		exit(1);
	}
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

/* Make room for n more bytes plus the terminating NUL; doubling keeps appends
 * amortized O(1). */
static void strbuf_grow(struct strbuf *sb, size_t n)
{
	if (n > SIZE_MAX / 2 - sb->len)
		die_oom(SIZE_MAX);
	size_t need = sb->len + n + 1;
	if (need <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	sb->buf = xrealloc(sb->buf, cap);
	sb->cap = cap;
}

void strbuf_add(struct strbuf *sb, const void *data, size_t n)
{
	strbuf_grow(sb, n);
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void strbuf_adds(struct strbuf *sb, const char *s) { strbuf_add(sb, s, strlen(s)); }

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	strbuf_adds(sb, s);
	free(s);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	if (!sb->buf) {
		strbuf_grow(sb, 0);
		sb->buf[0] = '\0';
	}
	char *p = sb->buf;
	if (len)
		*len = sb->len;
	*sb = (struct strbuf){0};
	return p;
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	*sb = (struct strbuf){0};
}

/* Read fp to its end into sb, failing once more than max_bytes arrive. */
static int read_stream_capped(FILE *fp, size_t max_bytes, struct strbuf *sb)
{
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (n > max_bytes - sb->len)
			return -2;
		strbuf_add(sb, chunk, n);
	}
	return ferror(fp) ? -1 : 0;
}

int read_file_capped(const char *path, size_t max_bytes, char **out, size_t *out_len, char *err,
		     size_t err_len)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *fp = is_stdin ? stdin : fopen(path, "rb");
	if (!fp) {
		int saved = errno;
		snprintf(err, err_len, "cannot open '%s': %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	struct strbuf sb = {0};
	int rc = read_stream_capped(fp, max_bytes, &sb);
	int saved_errno = errno;
	if (!is_stdin)
		fclose(fp);
	if (rc == -2) {
		snprintf(err, err_len, "'%s' is larger than %zu bytes", path, max_bytes);
		strbuf_release(&sb);
		errno = EFBIG;
		return -1;
	}
	if (rc < 0) {
		snprintf(err, err_len, "cannot read '%s': %s", path, strerror(saved_errno));
		strbuf_release(&sb);
		errno = saved_errno;
		return -1;
	}
	*out = strbuf_detach(&sb, out_len);
	return 0;
}

int parse_nonneg_int64(const char *s, long long *out)
{
	/* strtoll accepts leading blanks and signs; ids are plain digits only. */
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

char *sanitize_dup(const char *s)
{
	char *p = xstrdup(s);
	for (unsigned char *c = (unsigned char *)p; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			*c = '?';
	return p;
}

bool str_ieq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }
