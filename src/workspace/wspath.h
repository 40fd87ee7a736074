/* wspath.h - workspace paths: validation and the canonical form.
 *
 * A workspace path as clients send it ("/Workspace/Users/ana/etl/",
 * "/Users/ana/etl") becomes one canonical string ("/Users/ana/etl") that
 * the workspace module maps to a file below its root. Everything that could
 * make that mapping ambiguous or unsafe is refused here, before any file
 * system call: relative paths, "." and ".." segments, empty segments (other
 * than one trailing slash), NUL bytes, over-long segments or paths, and
 * names starting with ".jobsd-" (reserved for the module's temp files).
 *
 * Invariants of a canonical path: starts with '/', is "/" or has no trailing
 * '/', every segment is 1..WSPATH_SEGMENT_MAX bytes, none is "." or "..",
 * none contains '/' or NUL, none starts with ".jobsd-", and its length is at
 * most WSPATH_MAX. A leading "Workspace" segment has been removed.
 *
 * Pure functions, no allocation, no I/O: safe from any thread.
 */
#ifndef JOBSD_WORKSPACE_WSPATH_H
#define JOBSD_WORKSPACE_WSPATH_H

#include <stdbool.h>
#include <stddef.h>

#define WSPATH_MAX	   4000 /* bytes in a canonical path */
#define WSPATH_SEGMENT_MAX 255	/* bytes in one segment: NAME_MAX of Linux */
#define WSPATH_RESERVED	   ".jobsd-"

/* Canonicalizes in[0..len) (may hold NUL bytes, which are refused) into out
 * (room for outlen bytes; WSPATH_MAX + 1 is always enough). 0 on success;
 * -1 when the path is refused, with *why (if not NULL) set to a static
 * phrase such as "must not contain '..' segments". out is untouched on
 * failure. */
int wspath_normalize(const char *in, size_t len, char *out, size_t outlen, const char **why);

/* True for "/". */
bool wspath_is_root(const char *canon);

/* The path relative to the workspace root, for *at() calls: "a/b" for
 * "/a/b", "." for "/". Points into canon. */
const char *wspath_rel(const char *canon);

/* The last segment: "b" for "/a/b", "" for "/". Points into canon. */
const char *wspath_base(const char *canon);

/* Writes the parent ("/a" for "/a/b", "/" for "/a" and for "/") to out.
 * 0, or -1 if outlen is too small. */
int wspath_parent(const char *canon, char *out, size_t outlen);

#endif
