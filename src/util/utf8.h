/* utf8.h - UTF-8 checks (RFC 3629: no overlong forms, no surrogates, nothing
 * past U+10FFFF). JSON text must be UTF-8, and so must anything jobsd may
 * later put in a JSON answer: query-string values, messages, log lines.
 * Pure functions; any thread. */
#ifndef JOBSD_UTIL_UTF8_H
#define JOBSD_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the n bytes at s are valid UTF-8 (NUL bytes count as valid). */
bool utf8_valid(const char *s, size_t n);

/* Makes the NUL-terminated s valid UTF-8 in place: every byte that does not
 * start a valid sequence (including a sequence cut short at the end, as a
 * truncating "%.64s" leaves) becomes '?'. */
void utf8_scrub(char *s);

/* Replaces ASCII control characters (below 0x20, and 0x7f) with '?', so
 * that text from clients cannot forge lines in a log. */
void utf8_scrub_controls(char *s);

#endif
