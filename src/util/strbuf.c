/* strbuf.c - see strbuf.h. */
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

void strbuf_init(struct strbuf *sb, size_t max)
{
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->max = max;
}

static int grow(struct strbuf *sb, size_t extra)
{
	if (extra > sb->max || sb->len + extra > sb->max)
		return -1;
	size_t need = sb->len + extra + 1;
	if (need <= sb->cap)
		return 0;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap *= 2;
	char *b = realloc(sb->buf, cap);
	if (!b) {
		log_error("strbuf: out of memory for %zu bytes", cap);
		abort();
	}
	sb->buf = b;
	sb->cap = cap;
	return 0;
}

int strbuf_append(struct strbuf *sb, const void *data, size_t n)
{
	if (grow(sb, n) < 0)
		return -1;
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_puts(struct strbuf *sb, const char *s) { return strbuf_append(sb, s, strlen(s)); }

int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(sb, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

/* Appends the escaped body of s[0..n) (without quotes). */
static int json_escape(struct strbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (strbuf_append(sb, s + run, i - run) < 0)
			return -1;
		char esc[6] = {'\\', (char)c};
		size_t len = 2;
		if (c == '\n')
			esc[1] = 'n';
		else if (c == '\t')
			esc[1] = 't';
		else if (c == '\r')
			esc[1] = 'r';
		else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			len = 6;
		}
		if (strbuf_append(sb, esc, len) < 0)
			return -1;
		run = i + 1;
	}
	return strbuf_append(sb, s + run, n - run);
}

int strbuf_json_string_n(struct strbuf *sb, const char *s, size_t n)
{
	size_t mark = sb->len;
	if (strbuf_append(sb, "\"", 1) < 0 || json_escape(sb, s, n) < 0 ||
	    strbuf_append(sb, "\"", 1) < 0) {
		/* A failed append leaves the buffer as it was (strbuf.h). */
		sb->len = mark;
		if (sb->buf)
			sb->buf[mark] = '\0';
		return -1;
	}
	return 0;
}

int strbuf_json_string(struct strbuf *sb, const char *s)
{
	return strbuf_json_string_n(sb, s, strlen(s));
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	if (!sb->buf) {
		grow(sb, 0); /* cannot fail: nothing is added */
		sb->buf[0] = '\0';
	}
	char *b = sb->buf;
	if (len)
		*len = sb->len;
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return b;
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}
