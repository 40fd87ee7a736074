/* api.h - the REST API: routing, authentication, JSON in and out.
 *
 * api_handle is the HTTP server's handler. It routes by method, path and
 * API version (/api/2.0, 2.1, 2.2), authenticates every /api/ route with a
 * bearer token, parses the JSON body and calls the endpoint, which reads
 * from the store directly or hands a write to the engine.
 *
 * Threads: api_handle runs on the HTTP pool threads; the api struct is
 * read-only after api_create except for the atomic ready flag.
 */
#ifndef JOBSD_API_API_H
#define JOBSD_API_API_H

#include <stdbool.h>

struct api;
struct config;
struct engine;
struct http_request;
struct store;
struct workspace;
struct clock;

struct api_deps {
	struct store *store;
	struct engine *engine;
	struct workspace *workspace;
	const struct config *config;
	const struct clock *clock;
};

int api_create(struct api **out, const struct api_deps *deps);
void api_free(struct api *api);

/* /healthz answers 200 only once this is set. */
void api_set_ready(struct api *api, bool ready);

/* The http_config handler; cls is the struct api. */
void api_handle(void *cls, struct http_request *req);

#endif
