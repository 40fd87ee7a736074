/* client.h - jobctl's HTTP client for the jobsd / Databricks REST API.
 *
 * One libcurl easy handle per client, reused across requests so paged calls
 * keep their connection. Every request carries `Authorization: Bearer <token>`
 * and `User-Agent: jobctl/<version>`; POSTs send a JSON body with
 * `Content-Type: application/json`. A request gives up after 60 s and refuses
 * response bodies over 64 MiB.
 *
 * A call succeeds when the server answers 2xx with a JSON object (an empty body
 * counts as {}). Anything else is a failure whose message, for the user, is the
 * body's "message" (or SCIM "detail", or legacy "error"), else the HTTP status
 * line, else the transport error; client_error() returns it. Messages never
 * contain the token.
 *
 * The caller runs curl_global_init() before client_new() and
 * curl_global_cleanup() after client_free(). Not thread-safe. */
#ifndef JOBCTL_CLIENT_H
#define JOBCTL_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CLIENT_TIMEOUT_S      60L
#define CLIENT_MAX_BODY_BYTES ((size_t)64 * 1024 * 1024)

struct client;

/* One query-string parameter; a NULL value means "leave it out". */
struct query_param {
	const char *key;
	const char *value;
};

/* host is "scheme://authority[/prefix]" without a trailing slash. Copies what it
 * keeps. Returns NULL only when libcurl cannot make a handle. */
struct client *client_new(const char *host, const char *token, bool insecure);
void client_free(struct client *c);

/* GET host+path?params. On success *out is a new reference the caller
 * json_decref()s. Returns 0, or -1 (see client_error()). */
int client_get(struct client *c, const char *path, const struct query_param *params, size_t nparams,
	       json_t **out);

/* POST body (a JSON object, not consumed) to host+path. Same result rules. */
int client_post(struct client *c, const char *path, const json_t *body, json_t **out);

/* The message of the last failure, valid until the next request. */
const char *client_error(const struct client *c);

#endif
