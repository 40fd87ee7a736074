/* strbuf.h - a growable, NUL-terminated byte buffer for building output.
 *
 * Like curl's dynbuf, every buffer has a maximum size set at init; an append
 * that would pass it fails (and leaves the buffer as it was), so no client
 * input can size an allocation without a cap. Out of memory aborts, as for
 * every internal allocation (STYLE.md). Not thread-safe: one owner.
 */
#ifndef JOBSD_UTIL_STRBUF_H
#define JOBSD_UTIL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len, cap, max;
};

void strbuf_init(struct strbuf *sb, size_t max);
/* 0, or -1 if the result would exceed the maximum. */
int strbuf_append(struct strbuf *sb, const void *data, size_t n);
int strbuf_puts(struct strbuf *sb, const char *s);
int strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a quoted JSON string. */
int strbuf_json_string(struct strbuf *sb, const char *s);
/* The same for n bytes, which may hold NUL (escaped as \u0000). */
int strbuf_json_string_n(struct strbuf *sb, const char *s, size_t n);
/* Hands the buffer (never NULL) to the caller and leaves sb empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_release(struct strbuf *sb);

#endif
