/* api.h - the REST API: routing, authentication, JSON in and out.
 *
 * api_headers and api_handle are the HTTP server's handlers. The first,
 * with only the headers in, authenticates every /api/ route with a bearer
 * token and routes by method, path and API version (/api/2.0, 2.1, 2.2);
 * the second parses the JSON body and calls the endpoint, which reads from
 * the store directly or hands a write to the engine.
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
struct runs;
struct sched;
struct clock;

struct api_deps {
	struct store *store;
	struct engine *engine;
	struct workspace *workspace;
	struct runs *runs; /* the run engine (engine/runs.h) */
	struct sched *sched; /* the scheduler (engine/sched.h) */
	const struct config *config;
	const struct clock *clock;
};

int api_create(struct api **out, const struct api_deps *deps);
void api_free(struct api *api);

/* /healthz answers 200 only once this is set. */
void api_set_ready(struct api *api, bool ready);

/* The http_config handlers (cls is the struct api): api_headers when a
 * request's headers are in (authentication, routing: it may answer at
 * once), api_handle when its body is complete. */
void api_headers(void *cls, struct http_request *req);
void api_handle(void *cls, struct http_request *req);

#endif
