/* api.c - routing, authentication, body parsing, replies and deferred
 * writes shared by every endpoint (api.h, internal.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "config.h"
#include "http/server.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/utf8.h"

int api_create(struct api **out, const struct api_deps *deps)
{
	struct api *api = calloc(1, sizeof(*api));
	if (!api)
		return -1;
	api->store = deps->store;
	api->engine = deps->engine;
	api->workspace = deps->workspace;
	api->runs = deps->runs;
	api->sched = deps->sched;
	api->config = deps->config;
	api->clock = deps->clock;
	api->limits.max_tasks = deps->config->max_tasks_per_job;
	api->limits.max_tags = deps->config->max_tags;
	if (auth_cache_create(&api->auth_cache) < 0) {
		free(api);
		return -1;
	}
	*out = api;
	return 0;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	auth_cache_free(api->auth_cache);
	free(api);
}

void api_set_ready(struct api *api, bool ready) { atomic_store(&api->ready, ready); }

int64_t call_now_ms(const struct call *c) { return clock_now_ms(c->api->clock); }

/* --- the call's lifetime -------------------------------------------------------- */

static void call_free(void *p)
{
	struct call *c = p;
	if (c->data_free)
		c->data_free(c->data);
	json_decref(c->body);
	json_decref(c->reply);
	free(c);
}

/* --- replies ------------------------------------------------------------------------ */

static void send_json(struct http_request *req, int status, const json_t *value)
{
	if (status == 204) { /* No Content: a body would break the framing */
		http_respond(req, status, NULL, NULL, 0);
		return;
	}
	char *body = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!body) {
		log_error("api: out of memory serializing a response");
		abort();
	}
	http_respond(req, status, NULL, body, strlen(body));
}

void reply_json(struct call *c, int status, json_t *value)
{
	send_json(c->req, status, value);
	json_decref(value);
}

void reply_empty(struct call *c) { reply_json(c, 200, json_object()); }

static json_t *error_body(const char *code, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static json_t *error_body(const char *code, const char *fmt, va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Client text inside ("%.64s" of a value, a URL) may be invalid UTF-8
	 * or cut mid-character; jansson would then drop the message, and
	 * clients need it. */
	utf8_scrub(msg);
	json_t *e = json_object();
	json_object_set_new(e, "error_code", json_string(code));
	json_object_set_new(e, "message", json_string(msg));
	return e;
}

void reply_error(struct call *c, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_t *e = error_body(code, fmt, ap);
	va_end(ap);
	reply_json(c, status, e);
}

void reply_model_error(struct call *c, const struct model_error *err)
{
	reply_error(c, err->status, err->code, "%s", err->message);
}

/* Store failures become 503 when retrying later can help (full or failing
 * disk, lock contention) and 500 otherwise. The messages avoid the phrases
 * that make SDKs retry non-retryable errors (reference §4). */
static int store_error_status(int rc, const char **code, const char **msg)
{
	switch (rc) {
	case STORE_EFULL:
		*code = "TEMPORARILY_UNAVAILABLE";
		*msg = "The server's disk is full; the request changed nothing";
		return 503;
	case STORE_EIO:
		*code = "TEMPORARILY_UNAVAILABLE";
		*msg = "The server could not write to its disk; the request changed nothing";
		return 503;
	case STORE_EBUSY:
		*code = "TEMPORARILY_UNAVAILABLE";
		*msg = "The server's database is busy; the request changed nothing";
		return 503;
	default:
		*code = "INTERNAL_ERROR";
		*msg = "The server's database failed; the request changed nothing";
		return 500;
	}
}

void reply_store_error(struct call *c, int rc)
{
	const char *code, *msg;
	int status = store_error_status(rc, &code, &msg);
	reply_error(c, status, code, "%s", msg);
}

void set_reply(struct call *c, int status, json_t *value)
{
	json_decref(c->reply);
	c->status = status;
	c->reply = value;
}

int set_error(struct call *c, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_t *e = error_body(code, fmt, ap);
	va_end(ap);
	set_reply(c, status, e);
	return -1;
}

int set_store_error(struct call *c, int rc)
{
	const char *code, *msg;
	int status = store_error_status(rc, &code, &msg);
	return set_error(c, status, code, "%s", msg);
}

/* --- deferred writes --------------------------------------------------------------- */

static int write_run(struct engine_op *op, struct store *st)
{
	struct call *c = (struct call *)((char *)op - offsetof(struct call, op));
	return c->write(c, st);
}

static void write_done(struct engine_op *op, int run_rc, int commit_rc)
{
	struct call *c = (struct call *)((char *)op - offsetof(struct call, op));
	if (run_rc == 0 && commit_rc != STORE_OK)
		set_store_error(c, commit_rc); /* nothing was made durable */
	else if (run_rc != 0 && !c->reply)
		set_store_error(c, run_rc < 0 ? run_rc : STORE_ERR); /* failed without saying why */
	if (c->auth_changed)
		api_auth_changed(c->api);
	if (!c->reply)
		set_reply(c, 200, json_object());
	send_json(c->req, c->status ? c->status : 200, c->reply);
	http_complete(c->req);
}

void call_write(struct call *c, int (*write)(struct call *c, struct store *st))
{
	c->write = write;
	c->op.run = write_run;
	c->op.done = write_done;
	http_defer(c->req);
	engine_submit(c->api->engine, &c->op);
}

/* --- arguments --------------------------------------------------------------------- */

/* A query-string argument: 0 found (*out set), 1 absent, -1 after replying.
 * A value with a NUL byte (%00) is refused rather than silently cut short:
 * "/a%00b" must never act on "/a". */
static int query_value(struct call *c, const char *name, const char **out)
{
	size_t len;
	const char *v = http_query(c->req, name, &len);
	if (!v)
		return 1;
	if (strlen(v) != len) {
		reply_error(c, 400, MODEL_INVALID, "Invalid value for %s: it contains a NUL byte",
			    name);
		return -1;
	}
	/* JSON bodies are UTF-8 by construction; query strings are not. */
	if (!utf8_valid(v, len)) {
		reply_error(c, 400, MODEL_INVALID, "Invalid value for %s: it is not valid UTF-8",
			    name);
		return -1;
	}
	*out = v;
	return 0;
}

int arg_int64(struct call *c, const char *name, bool required, int64_t *out)
{
	json_t *v = c->body ? json_object_get(c->body, name) : NULL;
	if (v && !json_is_null(v)) {
		if (json_is_integer(v)) {
			*out = json_integer_value(v);
			return 0;
		}
		if (!json_is_string(v)) {
			reply_error(
				c, 400, MODEL_MALFORMED,
				"Could not parse request object: field '%s' must be an integer, "
				"not %s",
				name,
				json_is_real(v) ? "a number with a fraction" : "another type");
			return -1;
		}
	}
	bool in_body = v && json_is_string(v);
	const char *s = NULL;
	if (in_body)
		s = json_string_value(v);
	else if (query_value(c, name, &s) < 0)
		return -1;
	if (!s || !*s) {
		if (!required)
			return 1;
		reply_error(c, 400, MODEL_INVALID, "Missing required field: %s", name);
		return -1;
	}
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (errno || end == s || *end) {
		/* In a JSON body a non-numeric string is the wrong type; in a
		 * query string it is a bad value. */
		if (in_body)
			reply_error(
				c, 400, MODEL_MALFORMED,
				"Could not parse request object: field '%s' must be an integer, "
				"not '%.64s'",
				name, s);
		else
			reply_error(c, 400, MODEL_INVALID,
				    "Invalid value '%.64s' for %s: not an integer", s, name);
		return -1;
	}
	*out = n;
	return 0;
}

int arg_bool(struct call *c, const char *name, bool *out)
{
	json_t *v = c->body ? json_object_get(c->body, name) : NULL;
	if (v && json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (v && !json_is_null(v)) {
		reply_error(c, 400, MODEL_MALFORMED,
			    "Could not parse request object: field '%s' must be a boolean", name);
		return -1;
	}
	const char *s = NULL;
	int rc = query_value(c, name, &s);
	if (rc != 0)
		return rc;
	if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || *s == '\0') {
		*out = true; /* a bare ?expand_tasks means true */
		return 0;
	}
	if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0) {
		*out = false;
		return 0;
	}
	reply_error(c, 400, MODEL_INVALID, "Invalid value '%.64s' for %s: expected true or false",
		    s, name);
	return -1;
}

int arg_string(struct call *c, const char *name, bool required, const char **out)
{
	json_t *v = c->body ? json_object_get(c->body, name) : NULL;
	if (v && !json_is_null(v)) {
		if (!json_is_string(v)) {
			reply_error(c, 400, MODEL_MALFORMED,
				    "Could not parse request object: field '%s' must be a string",
				    name);
			return -1;
		}
		*out = json_string_value(v);
		return 0;
	}
	int rc = query_value(c, name, out);
	if (rc <= 0)
		return rc;
	if (!required)
		return 1;
	reply_error(c, 400, MODEL_INVALID, "Missing required field: %s", name);
	return -1;
}

/* --- routing ------------------------------------------------------------------------- */

static const struct route *const route_tables[] = {jobs_routes, runs_routes, token_routes,
						   scim_routes, workspace_routes};

/* Finds the route for method + path (path after /api/<version>/). Sets
 * *rest for prefix routes. */
static const struct route *find_route(const char *method, const char *path, int version,
				      const char **rest)
{
	unsigned vbit = version == 20 ? V20 : version == 21 ? V21 : V22;
	for (size_t t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++) {
		for (const struct route *r = route_tables[t]; r->path; r++) {
			if (!(r->versions & vbit) || strcmp(r->method, method) != 0)
				continue;
			size_t n = strlen(r->path);
			if (r->flags & ROUTE_PREFIX) {
				if (strncmp(path, r->path, n) == 0 && path[n] != '\0') {
					*rest = path + n;
					return r;
				}
			} else if (strcmp(path, r->path) == 0) {
				return r;
			}
		}
	}
	return NULL;
}

/* Parses "/api/2.1/jobs/get" into version 21 and "jobs/get". */
static bool split_api_path(const char *path, int *version, const char **rest)
{
	if (strncmp(path, "/api/2.", 7) != 0 || !isdigit((unsigned char)path[7]) || path[8] != '/')
		return false;
	int minor = path[7] - '0';
	if (minor > 2)
		return false;
	*version = 20 + minor;
	*rest = path + 9;
	return true;
}

/* Most JSON values a request body may hold. jansson spends about 140 bytes
 * per value, so a 10 MB body of "[],[],..." would take ~500 MB; the largest
 * real JobSettings (1,000 tasks) hold well under 100,000 values. */
#define MAX_JSON_VALUES 500000

/* Counts values by their separators and openers outside strings; stops at
 * limit + 1. One pass, no allocation: refuses a bomb before parsing it. */
static size_t json_values_upto(const char *s, size_t len, size_t limit)
{
	size_t n = 1;
	bool in_string = false;
	for (size_t i = 0; i < len && n <= limit; i++) {
		char ch = s[i];
		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = false;
		} else if (ch == '"') {
			in_string = true;
		} else if (ch == ',' || ch == '[' || ch == '{') {
			n++;
		}
	}
	return n;
}

static int parse_body(struct call *c, const struct route *r)
{
	size_t len;
	const char *body = http_body(c->req, &len);
	bool is_get = strcmp(http_method(c->req), "GET") == 0;
	if (r->flags & ROUTE_RAW_BODY)
		return 0;
	if (len == 0) {
		c->body = is_get ? NULL : json_object();
		return 0;
	}
	if (json_values_upto(body, len, MAX_JSON_VALUES) > MAX_JSON_VALUES) {
		reply_error(c, 400, "RESOURCE_LIMIT_EXCEEDED",
			    "The request body holds more than %d JSON values", MAX_JSON_VALUES);
		return -1;
	}
	json_error_t jerr;
	json_t *v = json_loadb(body, len, 0, &jerr);
	if (is_get) {
		/* Legacy clients send GET parameters as a JSON body; use it when
		 * it is an object and ignore it otherwise. */
		if (json_is_object(v))
			c->body = v;
		else
			json_decref(v);
		return 0;
	}
	if (!v) {
		reply_error(c, 400, MODEL_MALFORMED,
			    "Invalid JSON given in the body of the request - failed to parse given "
			    "JSON: %s (line %d, column %d)",
			    jerr.text, jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		reply_error(
			c, 400, MODEL_MALFORMED,
			"Invalid JSON given in the body of the request - expected a JSON object");
		return -1;
	}
	c->body = v;
	return 0;
}

static void handle_healthz(struct call *c)
{
	bool ready = atomic_load(&c->api->ready);
	json_t *v = json_object();
	json_object_set_new(v, "status", json_string(ready ? "ok" : "starting"));
	reply_json(c, ready ? 200 : 503, v);
}

static void reply_not_found(struct call *c)
{
	reply_error(c, 404, "ENDPOINT_NOT_FOUND", "No API found for '%s %s'", http_method(c->req),
		    http_path(c->req));
}

/* The headers phase: everything that needs no body. Answers here mean the
 * body is never read: an unauthenticated client cannot make jobsd buffer
 * anything. Otherwise c->route is set for api_handle. */
static void route_call(struct call *c)
{
	const char *path = http_path(c->req), *method = http_method(c->req), *rest;
	if (strcmp(path, "/healthz") == 0 && strcmp(method, "GET") == 0)
		return handle_healthz(c);
	if (strncmp(path, "/api/", 5) != 0)
		return reply_not_found(c); /* includes /.well-known/databricks-config */
	if (authenticate(c))
		return;
	const struct route *r = NULL;
	if (split_api_path(path, &c->version, &rest))
		r = find_route(method, rest, c->version, &c->rest);
	if (!r)
		return reply_not_found(c);
	if ((r->flags & ROUTE_ADMIN) && !c->user.admin)
		return reply_error(c, 403, "PERMISSION_DENIED",
				   "Only workspace admins may call %s %s", method, path);
	c->route = r;
}

void api_headers(void *cls, struct http_request *req)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c) {
		log_error("api: out of memory for a call");
		abort();
	}
	c->api = cls;
	c->req = req;
	http_set_context(req, c, call_free);
	route_call(c);
}

void api_handle(void *cls, struct http_request *req)
{
	(void)cls;
	struct call *c = http_context(req);
	const struct route *r = c->route;
	/* Raw-body endpoints answer an oversized body with their own error. */
	if (http_body_too_large(c->req) && !(r->flags & ROUTE_RAW_BODY))
		return reply_error(c, 400, "RESOURCE_LIMIT_EXCEEDED",
				   "Request body of %zu bytes is over the limit of %ld bytes",
				   http_body_too_large(c->req), c->api->config->max_request_bytes);
	if (parse_body(c, r))
		return;
	r->fn(c);
}
