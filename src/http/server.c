/* server.c - see server.h.
 *
 * libmicrohttpd runs its own thread pool, each thread with an epoll loop over
 * its share of the connections. For each request MHD calls on_access several
 * times: once when the headers are in, once per chunk of body, and once more
 * when the body is complete; the last call runs the handler. A deferred
 * request is suspended and, once http_complete resumes it, MHD calls
 * on_access again, which queues the response prepared meanwhile.
 *
 * Suspend/complete race: the handler thread suspends first and then swaps
 * suspend_state to SUSPENDED; http_complete swaps it to COMPLETED. Whichever
 * swap comes second sees the other's mark and performs the one resume.
 */
#include "http/server.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

enum { SUSPEND_NONE = 0, SUSPEND_SUSPENDED = 1, SUSPEND_COMPLETED = 2 };
#define MAX_EXTRA_HEADERS 8

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_config cfg;
	_Atomic long in_flight;
	_Atomic long suspended;  /* deferred requests waiting for http_complete */
	_Atomic size_t buffered; /* bytes reserved for request bodies */
	_Atomic bool closing;    /* new requests get 503; answers close the connection */
};

struct header {
	char *name, *value;
};

struct http_request {
	struct http_server *srv;
	struct MHD_Connection *conn;
	char *method, *path;
	int64_t start_us;

	char *body;
	size_t body_len, body_cap;
	size_t too_large;
	size_t reserved; /* of srv->buffered */
	bool busy;       /* the body did not fit in the server's budget */
	bool suspended;  /* counted in srv->suspended */

	int status;
	char *resp_body;
	size_t resp_len;
	char *content_type;
	struct header headers[MAX_EXTRA_HEADERS];
	int nheaders;
	bool responded, deferred, queued;
	_Atomic int suspend_state;

	void *ctx;
	void (*ctx_free)(void *);
};

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Uncounts a suspended request: when it is resumed, or when MHD ends it
 * without calling us again (the client went away while it waited). */
static void unsuspend(struct http_request *req)
{
	if (req->suspended) {
		req->suspended = false;
		atomic_fetch_sub(&req->srv->suspended, 1);
	}
}

static void request_free(struct http_request *req)
{
	unsuspend(req);
	atomic_fetch_sub(&req->srv->buffered, req->reserved);
	if (req->ctx_free)
		req->ctx_free(req->ctx);
	free(req->method);
	free(req->path);
	free(req->body);
	free(req->resp_body);
	free(req->content_type);
	for (int i = 0; i < req->nheaders; i++) {
		free(req->headers[i].name);
		free(req->headers[i].value);
	}
	free(req);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d) {
		log_error("http: out of memory");
		abort();
	}
	return d;
}

/* --- request accessors ------------------------------------------------------ */

const char *http_method(const struct http_request *req) { return req->method; }
const char *http_path(const struct http_request *req) { return req->path; }

const char *http_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *req, const char *name, size_t *len)
{
	const char *v = NULL;
	size_t n = 0;
	if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v,
					  &n) != MHD_YES)
		return NULL;
	if (len)
		*len = v ? n : 0;
	return v ? v : "";
}

const char *http_body(const struct http_request *req, size_t *len)
{
	*len = req->body_len;
	return req->body ? req->body : "";
}

size_t http_body_too_large(const struct http_request *req) { return req->too_large; }

void http_set_context(struct http_request *req, void *ctx, void (*free_fn)(void *))
{
	req->ctx = ctx;
	req->ctx_free = free_fn;
}

void *http_context(const struct http_request *req) { return req->ctx; }

/* --- responses ---------------------------------------------------------------- */

void http_respond(struct http_request *req, int status, const char *content_type, char *body,
		  size_t len)
{
	free(req->resp_body);
	free(req->content_type);
	req->status = status;
	req->resp_body = body;
	req->resp_len = body ? len : 0;
	req->content_type = xstrdup(content_type ? content_type : "application/json");
	req->responded = true;
}

void http_add_header(struct http_request *req, const char *name, const char *value)
{
	if (req->nheaders == MAX_EXTRA_HEADERS) {
		log_error("http: too many response headers, dropping '%s'", name);
		return;
	}
	req->headers[req->nheaders].name = xstrdup(name);
	req->headers[req->nheaders].value = xstrdup(value);
	req->nheaders++;
}

void http_defer(struct http_request *req) { req->deferred = true; }

void http_complete(struct http_request *req)
{
	if (atomic_exchange(&req->suspend_state, SUSPEND_COMPLETED) == SUSPEND_SUSPENDED)
		MHD_resume_connection(req->conn);
}

static enum MHD_Result queue_response(struct http_request *req)
{
	if (!req->responded) {
		/* A handler that neither answered nor deferred is a bug; answer
		 * rather than hang the client. */
		log_error("http: no response for %s %s", req->method, req->path);
		static const char msg[] =
			"{\"error_code\":\"INTERNAL_ERROR\",\"message\":\"no response\"}";
		http_respond(req, 500, NULL, xstrdup(msg), sizeof(msg) - 1);
	}
	/* MHD frees the body with free() once sent; the request forgets it. */
	struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(
		req->resp_len, req->resp_body ? req->resp_body : xstrdup(""), free);
	req->resp_body = NULL;
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, req->content_type);
	for (int i = 0; i < req->nheaders; i++)
		MHD_add_response_header(r, req->headers[i].name, req->headers[i].value);
	if (atomic_load(&req->srv->closing))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ok = MHD_queue_response(req->conn, (unsigned)req->status, r);
	MHD_destroy_response(r);
	req->queued = true;
	return ok;
}

/* --- the MHD callbacks ---------------------------------------------------------- */

static struct http_request *request_new(struct http_server *srv, struct MHD_Connection *conn,
					const char *url, const char *method)
{
	struct http_request *req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	req->srv = srv;
	req->conn = conn;
	req->method = xstrdup(method);
	req->path = xstrdup(url);
	req->start_us = mono_us();
	atomic_fetch_add(&srv->in_flight, 1);
	return req;
}

/* Parses the Content-Length header; 0 when absent or unparsable (MHD itself
 * refuses malformed lengths before we are called). */
static size_t content_length(struct MHD_Connection *conn)
{
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return 0;
	char *end;
	unsigned long long v = strtoull(cl, &end, 10);
	return (end != cl && *end == '\0') ? (size_t)v : 0;
}

/* Takes n bytes from the server's budget for request bodies. */
static bool reserve(struct http_request *req, size_t n)
{
	struct http_server *srv = req->srv;
	if (atomic_fetch_add(&srv->buffered, n) + n > srv->cfg.max_buffered) {
		atomic_fetch_sub(&srv->buffered, n);
		return false;
	}
	req->reserved += n;
	return true;
}

/* Appends a chunk of body, keeping at most max_body bytes. Past the limit
 * (only possible for chunked bodies) the rest is counted and dropped. */
static void append_body(struct http_request *req, const char *data, size_t n)
{
	size_t max = req->srv->cfg.max_body;
	if (req->busy)
		return;
	if (req->too_large || req->body_len + n > max) {
		req->too_large = (req->too_large ? req->too_large : req->body_len) + n;
		free(req->body);
		req->body = NULL;
		req->body_len = req->body_cap = 0;
		return;
	}
	if (req->body_len + n + 1 > req->body_cap) {
		size_t cap = req->body_cap ? req->body_cap : 4096;
		while (cap < req->body_len + n + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		if (!reserve(req, cap - req->body_cap)) {
			req->busy = true;
			free(req->body);
			req->body = NULL;
			req->body_len = req->body_cap = 0;
			return;
		}
		char *b = realloc(req->body, cap);
		if (!b) {
			log_error("http: out of memory for a %zu-byte body", cap);
			abort();
		}
		req->body = b;
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, n);
	req->body_len += n;
	req->body[req->body_len] = '\0';
}

/* 503 from the HTTP layer itself: the server is stopping or full. */
static enum MHD_Result answer_unavailable(struct http_request *req, const char *why)
{
	char body[256];
	int n = snprintf(body, sizeof(body),
			 "{\"error_code\":\"TEMPORARILY_UNAVAILABLE\",\"message\":\"%s\"}", why);
	http_respond(req, 503, NULL, xstrdup(body), (size_t)n);
	http_add_header(req, "Retry-After", "1");
	return queue_response(req);
}

static enum MHD_Result run_handler(struct http_request *req)
{
	struct http_server *srv = req->srv;
	if (req->busy)
		return answer_unavailable(req, "The server holds too many request bodies right "
					       "now; the request changed nothing");
	srv->cfg.handler(srv->cfg.cls, req);
	if (!req->deferred)
		return queue_response(req);
	atomic_fetch_add(&srv->suspended, 1);
	req->suspended = true;
	MHD_suspend_connection(req->conn);
	if (atomic_exchange(&req->suspend_state, SUSPEND_SUSPENDED) == SUSPEND_COMPLETED)
		MHD_resume_connection(req->conn);
	return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;

	if (!req) {
		req = request_new(srv, conn, url, method);
		if (!req)
			return MHD_NO;
		*con_cls = req;
		/* Every answer from here on, before the body is read, makes MHD
		 * drop the rest of the body and close the connection. */
		if (atomic_load(&srv->closing))
			return answer_unavailable(req, "jobsd is shutting down");
		if (srv->cfg.headers)
			srv->cfg.headers(srv->cfg.cls, req);
		if (req->responded)
			return queue_response(req);
		size_t cl = content_length(conn);
		if (cl > srv->cfg.max_body) {
			req->too_large = cl;
			return run_handler(req);
		}
		if (cl > 0) {
			if (!reserve(req, cl + 1)) {
				req->busy = true;
				return run_handler(req);
			}
			req->body = malloc(cl + 1);
			if (!req->body)
				return MHD_NO;
			req->body_cap = cl + 1;
			req->body[0] = '\0';
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		append_body(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->queued)
		return MHD_YES;
	if (req->deferred) { /* resumed after http_complete */
		unsuspend(req);
		return queue_response(req);
	}
	return run_handler(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;
	if (!req)
		return;
	if (log_enabled(LOG_INFO)) {
		double ms = (double)(mono_us() - req->start_us) / 1000.0;
		if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
			log_msg(LOG_INFO, "request method=%s path=%s status=%d duration_ms=%.3f",
				req->method, req->path, req->status, ms);
		else
			log_msg(LOG_INFO,
				"request method=%s path=%s status=%d duration_ms=%.3f aborted=%d",
				req->method, req->path, req->status, ms, (int)toe);
	}
	request_free(req);
	*con_cls = NULL;
	atomic_fetch_sub(&srv->in_flight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("http: libmicrohttpd: %s", msg);
}

int http_server_start(struct http_server **out, const struct http_config *cfg, char *err,
		      size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->cfg = *cfg;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (cfg->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "this libmicrohttpd was built without TLS support");
			free(srv);
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	struct MHD_OptionItem tls_opts[] = {
		{MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->tls_key},
		{MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->tls_cert},
		{MHD_OPTION_END, 0, NULL},
	};
	srv->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_access, srv, MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_EXTERNAL_LOGGER,
		on_mhd_log, NULL, MHD_OPTION_ARRAY, cfg->tls_cert ? tls_opts : tls_opts + 2,
		MHD_OPTION_END);
	if (!srv->daemon) {
		snprintf(err, errlen, "cannot start the HTTP server%s",
			 cfg->tls_cert ? " (check the TLS certificate and key)" : "");
		free(srv);
		return -1;
	}
	*out = srv;
	return 0;
}

void http_server_stop(struct http_server *srv, int timeout_ms)
{
	if (!srv)
		return;
	/* No MHD_quiesce_daemon: with a thread pool in epoll mode it races
	 * the workers, which drop the listen socket from their epoll sets on
	 * their own once they see the quiesce flag, and then the quiesce's own
	 * removal fails with ENOENT and libmicrohttpd aborts (0.9.75, seen in
	 * CI at SIGTERM). The listen socket stays open instead; 'closing'
	 * answers new requests 503 until MHD_stop_daemon closes it. */
	atomic_store(&srv->closing, true);
	/* Requests already received finish; new ones get 503, so the count
	 * only falls. Deferred (suspended) ones wait on the engine, which is
	 * still running, so they complete: they are always waited for, since
	 * stopping MHD with a suspended connection is not allowed. */
	for (int waited = 0; atomic_load(&srv->in_flight) > 0 && waited < timeout_ms; waited += 5)
		usleep(5000);
	for (int waited = 0; atomic_load(&srv->suspended) > 0; waited += 5) {
		if (waited % 5000 == 0)
			log_warn("http: waiting for %ld deferred requests at shutdown",
				 atomic_load(&srv->suspended));
		usleep(5000);
	}
	if (atomic_load(&srv->in_flight) > 0)
		log_warn("http: closing %ld requests still in flight at shutdown",
			 atomic_load(&srv->in_flight));
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
