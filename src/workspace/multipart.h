/* multipart.h - a minimal, strict multipart/form-data parser (RFC 7578 on
 * RFC 2046) for workspace/import, whose SDK upload() sends the notebook as
 * a file part named "content" next to text fields (path, format, language,
 * overwrite).
 *
 * Why not libmicrohttpd's MHD_PostProcessor: it is fed from the connection
 * while the body streams in, and the HTTP layer (http/server.h) hides the
 * connection and hands the API a buffered body instead. This parser works
 * on that buffer: parts point into it, nothing is copied but the names.
 *
 * Strict: CRLF line ends only, no header folding, every part needs
 * Content-Disposition: form-data with a name, the body must end with the
 * close delimiter; a preamble before the first delimiter and an epilogue
 * after the last are ignored as RFC 2046 says. Limits: MULTIPART_MAX_PARTS
 * parts, MULTIPART_HEADER_MAX bytes of headers per part.
 *
 * Pure functions, no allocation: safe from any thread.
 */
#ifndef JOBSD_WORKSPACE_MULTIPART_H
#define JOBSD_WORKSPACE_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#define MULTIPART_MAX_PARTS    16
#define MULTIPART_BOUNDARY_MAX 70   /* RFC 2046 §5.1.1 */
#define MULTIPART_NAME_MAX     128  /* longest field name we keep */
#define MULTIPART_HEADER_MAX   8192 /* headers of one part */

struct multipart_part {
	char name[MULTIPART_NAME_MAX + 1]; /* the form field name */
	bool has_filename;		   /* sent as a file (filename=...) */
	const char *data;		   /* the part's bytes, inside the body */
	size_t len;
};

/* Reads the boundary from a Content-Type header value. 0 with the boundary
 * in out (room for MULTIPART_BOUNDARY_MAX + 1), or -1 with *why when the
 * type is not multipart/form-data or the boundary is missing or invalid. */
int multipart_boundary(const char *content_type, char *out, size_t outlen, const char **why);

/* Parses body[0..len) into at most max parts. 0 with *n parts, or -1 with
 * *why (a static phrase) when the body is malformed. The parts borrow the
 * body: valid while it is. */
int multipart_parse(const char *body, size_t len, const char *boundary,
		    struct multipart_part *parts, size_t max, size_t *n, const char **why);

/* The first part with that name, or NULL. */
const struct multipart_part *multipart_find(const struct multipart_part *parts, size_t n,
					    const char *name);

#endif
