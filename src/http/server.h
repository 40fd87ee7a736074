/* server.h - the HTTP(S) front end, on libmicrohttpd.
 *
 * Owns connections, TLS, request bodies (capped: a body whose Content-Length
 * is over the limit is refused before it is read), per-request logging
 * (method, path, status, duration at info level) and graceful shutdown.
 * Knows nothing of the API: a request goes to two handlers, one when its
 * headers are in (which may answer at once: authentication, routing, so no
 * body of an unauthenticated or misrouted request is ever read) and one when
 * its body is complete. All request bodies held at once are capped too: past
 * the cap a request is answered 503 rather than buffered.
 *
 * Threads: libmicrohttpd's pool threads call the handler. A handler either
 * answers at once (http_respond) or defers (http_defer) and answers later from
 * any thread with http_respond + http_complete: the connection is suspended
 * meanwhile, so a request that waits for a durable write never blocks the
 * other connections of its thread.
 */
#ifndef JOBSD_HTTP_SERVER_H
#define JOBSD_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct http_server;
struct http_request;

struct http_config {
	int listen_fd;	      /* bound and listening; the server takes ownership */
	const char *tls_cert; /* PEM text; NULL for plain HTTP */
	const char *tls_key;  /* PEM text */
	unsigned threads;     /* pool size, >= 1 */
	size_t max_body;      /* larger request bodies are refused */
	size_t max_buffered;  /* request bodies held at once, all connections */
	/* Called when the headers are in; may answer (http_respond), and then
	 * the body is never read. May be NULL. */
	void (*headers)(void *cls, struct http_request *req);
	/* Called when the body is complete, unless headers() answered. */
	void (*handler)(void *cls, struct http_request *req);
	void *cls;
};

/* 0 on success; -1 with a message in err. */
int http_server_start(struct http_server **out, const struct http_config *cfg, char *err,
		      size_t errlen);

/* Graceful stop: stop accepting, wait (up to timeout_ms) for requests in
 * flight to be answered, then close every connection and free the server. */
void http_server_stop(struct http_server *srv, int timeout_ms);

/* --- request ------------------------------------------------------------------ */
const char *http_method(const struct http_request *req);
const char *http_path(const struct http_request *req);
/* A header value or NULL (case-insensitive name). */
const char *http_header(const struct http_request *req, const char *name);
/* A query-string argument (decoded) or NULL; present-but-empty gives "".
 * *len (if not NULL) receives the decoded length, which exceeds strlen when
 * the value held %00. */
const char *http_query(const struct http_request *req, const char *name, size_t *len);
/* The request body (NUL-terminated; len excludes the NUL). */
const char *http_body(const struct http_request *req, size_t *len);
/* The Content-Length of a body refused as too large, else 0. The handler is
 * still called, so it can answer with the error its API prescribes. */
size_t http_body_too_large(const struct http_request *req);

/* Per-request slot for the handler's own state; free_fn (may be NULL) runs
 * when the request is finished. */
void http_set_context(struct http_request *req, void *ctx, void (*free_fn)(void *));
void *http_context(const struct http_request *req);

/* --- response ------------------------------------------------------------------ */
/* Sets the response. Takes ownership of body (malloc'd, may be NULL if len 0).
 * content_type NULL means application/json. */
void http_respond(struct http_request *req, int status, const char *content_type, char *body,
		  size_t len);
/* Adds a response header; call after http_respond. */
void http_add_header(struct http_request *req, const char *name, const char *value);

/* Marks the request as answered later: the handler returns without a
 * response, and the connection is suspended until http_complete. */
void http_defer(struct http_request *req);
/* Resumes a deferred request once http_respond has set its response. Any
 * thread; exactly once per http_defer. */
void http_complete(struct http_request *req);

#endif
