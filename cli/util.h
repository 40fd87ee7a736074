/* util.h - small helpers shared by every jobctl module: allocation that aborts on
 * out-of-memory, a growable string buffer, bounded file reading, strict integer
 * parsing and sanitizing of text that came from the network.
 *
 * Out of memory is not recoverable for a short-lived client, so the x* allocators
 * print a message and exit (git's wrapper.c school, as STYLE.md asks); nothing
 * here ever returns NULL for lack of memory. Single-threaded, like all of jobctl. */
#ifndef JOBCTL_UTIL_H
#define JOBCTL_UTIL_H

#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* printf into a new string that the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A NUL-terminated byte buffer that grows as needed. Zero-initialize it
 * (`struct strbuf b = {0};`), append, then strbuf_release(). buf is NULL until
 * the first append. */
struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};
void strbuf_add(struct strbuf *sb, const void *data, size_t n);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Give the buffer to the caller (never NULL: "" when empty) and reset sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_release(struct strbuf *sb);

/* Read the whole of `path` ("-" = standard input) into a NUL-terminated buffer
 * the caller frees. Fails when the file is larger than max_bytes, so input never
 * sizes an allocation without a cap. Returns 0, or -1 with a message in err
 * and errno saying why (ENOENT, EFBIG...). */
int read_file_capped(const char *path, size_t max_bytes, char **out, size_t *out_len, char *err,
		     size_t err_len);

/* Parse a whole string as a decimal, non-negative int64 (job ids, seconds).
 * Returns 0 or -1 (empty, sign, junk, overflow). */
int parse_nonneg_int64(const char *s, long long *out);

/* Copy of s in which control characters (C0, DEL) become '?', so text from the
 * server cannot move the cursor or inject escape sequences into a terminal. */
char *sanitize_dup(const char *s);

/* Compare ASCII case-insensitively; true when equal. */
bool str_ieq(const char *a, const char *b);

#endif
