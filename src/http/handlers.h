/*
 * handlers.h - the baomi API v1: one route table over service/.
 *
 * struct api is the application the server calls back into: it owns one
 * service context per server thread (each with its own SQLite connection,
 * opened on the thread's first request; SQLite's WAL and BEGIN IMMEDIATE
 * serialise the writers), the one decision snapshot they all share, the
 * maintenance thread, the session-based auth hook and the readiness check
 * (ready once the snapshot is loaded).  Handlers parse, call exactly one
 * service function and render what it returns; no rule lives here.
 */
#ifndef BM_HTTP_HANDLERS_H
#define BM_HTTP_HANDLERS_H

#include "server.h"

struct api;

struct api_opts {
	struct svc_paths paths;
	bool secure_cookie;        /* add "Secure" to the session cookie */
	bool test_clock;           /* POST /v1/test/clock (only for black-box tests) */
	const char *openapi_path;  /* docs/openapi.json served at /v1/openapi.json */
	int64_t maintenance_interval_s; /* due re-reviews every N s; 0 = 3600 */
};

/* Opens the database once to check it, builds the router, starts the
 * maintenance thread (which loads the shared decision snapshot). */
int api_new(const struct api_opts *o, struct api **out, struct bm_err *e);
/* Stops the maintenance thread, closes every thread's service context and
 * frees the shared snapshot; call after http_server_stop. */
void api_free(struct api *a);
/* Fills the server options that belong to the application. */
void api_server_opts(struct api *a, struct http_opts *o);

#endif
