/*
 * router.h - the route table of the HTTP API.
 *
 * A route is {method, pattern, handler, permission, flags}; patterns are
 * literal segments and {name} parameters ("/v1/persons/{id}").  Matching
 * splits the raw (still percent-encoded) path, so an encoded "/" inside an
 * id stays inside its parameter; parameter values are then percent-decoded
 * and must be valid UTF-8 without control characters.  An unknown path is a
 * 404, a known path with another method a 405 with the allowed methods.
 * Routes are added before the server starts and never change afterwards, so
 * matching needs no lock.
 *
 * A route also lists the query parameters it takes.  The server refuses a
 * request with any other, with one given twice or with one without a
 * value, before the handler runs (server.c, query_walk): a misspelt or
 * misplaced filter (GET /v1/due?unit=HQ) must never be answered as if it
 * had been applied.  docs/openapi.yaml documents the same lists
 * (tests/http/docs.test.mjs compares them both ways).
 */
#ifndef BM_HTTP_ROUTER_H
#define BM_HTTP_ROUTER_H

#include "../core/role.h"
#include "../lib/err.h"

#include <stddef.h>

struct http_req;
struct http_resp;

/* Fills w and returns 0, or returns a BM_E* code with e set; the server
 * turns that into a problem+json response. */
typedef int (*http_handler)(struct http_req *r, struct http_resp *w, struct bm_err *e);

enum {
	ROUTE_PUBLIC = 1u << 0, /* no authentication, no permission check */
	ROUTE_CSRF = 1u << 1,   /* a write that the auth hook must CSRF-check
				 * when the caller authenticated by cookie */
	ROUTE_BIG_BODY = 1u << 2, /* body up to http_opts.big_body_cap, not
				   * body_cap (a batch of 10,000 decisions) */
	ROUTE_OFFLOAD = 1u << 3, /* the handler may wait (password hashing):
				  * it runs on the password lane with the
				  * connection suspended, never on a worker */
	ROUTE_SLOW = 1u << 4,    /* a read that may take seconds (a scan of
				  * the organisation): it runs on the work
				  * lane.  Every write does unless
				  * ROUTE_INLINE: it may wait for the
				  * database's write lock */
	ROUTE_INLINE = 1u << 5,  /* a write that never waits for the write
				  * lock (a decision): it runs on the worker
				  * that read it */
};

struct http_route {
	const char *method;  /* "GET", "POST", ... (static string) */
	const char *pattern; /* "/v1/persons/{id}" (static string) */
	http_handler fn;
	enum perm perm;      /* ignored for ROUTE_PUBLIC */
	unsigned flags;
	const char *query;   /* the query parameters it takes, space-separated
			      * ("unit limit cursor", static string); NULL:
			      * none.  At most ROUTER_MAXQUERY names. */
};

#define ROUTER_MAXPARAMS 8
#define ROUTER_MAXSEGS 16
#define ROUTER_MAXPATH 2048
#define ROUTER_MAXQUERY 16

enum router_result {
	ROUTER_OK,
	ROUTER_NOTFOUND,  /* 404 */
	ROUTER_BADMETHOD, /* 405; allow lists the methods */
	ROUTER_BADPATH,   /* 400: bad percent-encoding, UTF-8 or too long */
};

/* The outcome of one match; values point into store. */
struct router_match {
	const struct http_route *route;
	size_t index;                 /* route index, for metrics */
	size_t nparams;
	const char *names[ROUTER_MAXPARAMS];
	const char *values[ROUTER_MAXPARAMS];
	char allow[64];               /* "GET, POST" for a 405 */
	char store[ROUTER_MAXPATH];
};

struct router;

struct router *router_new(void);
void router_free(struct router *rt);
/* Adds one route (copied; method, pattern and query strings are borrowed
 * for the router's lifetime).  BM_EINVAL for a malformed pattern or query
 * list, BM_EEXIST for a duplicate method+pattern. */
int router_add(struct router *rt, const struct http_route *route, struct bm_err *e);
/* Adds n routes, stopping at the first error. */
int router_add_all(struct router *rt, const struct http_route *routes, size_t n,
		   struct bm_err *e);
size_t router_count(const struct router *rt);
/* The route at index i (borrowed). */
const struct http_route *router_route(const struct router *rt, size_t i);
/* Matches method and raw path (no query).  HEAD matches GET routes. */
enum router_result router_match(const struct router *rt, const char *method,
				const char *path, struct router_match *m);
/* The position of query parameter name[0..len) in route's list, or -1
 * when the route does not take it. */
int router_query_index(const struct http_route *route, const char *name, size_t len);
/* The decoded value of parameter name, or NULL. */
const char *router_param(const struct router_match *m, const char *name);

#endif
