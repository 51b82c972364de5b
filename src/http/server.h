/*
 * server.h - the HTTP server: libmicrohttpd underneath, routes on top.
 *
 * One module turns a connection into a request: it collects the body under
 * a hard cap (413 as soon as Content-Length or the data passes it), matches
 * the route, asks the application's auth hook who is calling (401), checks
 * the route's permission with role_allows (403), calls the handler and maps
 * any error to problem+json.  It also owns /healthz, /readyz and /metrics,
 * the per-request JSON access log on stderr (never a query string, a token,
 * an Authorization or Cookie header) and graceful shutdown.
 *
 * libmicrohttpd runs an epoll thread pool with a connection limit, a per-
 * address limit and an idle timeout, so slow or partial clients cannot
 * stall the others.
 */
#ifndef BM_HTTP_SERVER_H
#define BM_HTTP_SERVER_H

#include "../lib/err.h"
#include "../service/service.h"
#include "metrics.h"
#include "problem.h"
#include "router.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_server;
struct MHD_Connection;

/* One request, as a handler sees it.  Everything is borrowed for the
 * duration of the handler call. */
struct http_req {
	const char *method;
	const char *path;          /* raw path, no query string */
	const char *body;          /* NUL-terminated; body_len bytes */
	size_t body_len;
	char client[48];           /* peer address */
	char id[20];               /* request id, also sent as X-Request-Id */
	int64_t start_us;          /* monotonic */
	struct router_match match; /* the route and its decoded parameters */
	struct actor actor;        /* filled by the auth hook */
	bool authenticated;
	void *app;                 /* http_opts.app */
	void *app_req;             /* the application's per-request state (auth hook
				    * sets it, the done hook releases it) */
	struct http_server *srv;
	struct MHD_Connection *conn_; /* private to server.c */
};

#define HTTP_MAXHEADERS 8

/* What a handler answers.  Set the body with http_resp_json or
 * http_resp_bytes; the server frees it after sending. */
struct http_resp {
	int status;
	json_t *json;       /* owned */
	char *raw;          /* owned (malloc) */
	size_t raw_len;
	const char *ctype;  /* static string; default application/json */
	size_t nheaders;
	struct {
		char *name, *value; /* owned copies */
	} headers[HTTP_MAXHEADERS];
};

/* Identifies the caller: fills r->actor and returns 0, or returns BM_EAUTH
 * (401), BM_EPERM (403, e.g. a failed CSRF check on a ROUTE_CSRF route
 * reached with a cookie) or another code, with e set. */
typedef int (*http_auth_fn)(void *app, struct http_req *r, struct bm_err *e);
/* Called after every routed request's handler (or its refusal), before the
 * response is sent: releases what the auth hook took for the request. */
typedef void (*http_done_fn)(void *app, struct http_req *r);
/* True when the application can serve (database open, snapshot loaded). */
typedef bool (*http_ready_fn)(void *app);

/* The most threads a lane runs (http_opts.offload_threads, work_threads). */
#define HTTP_LANE_THREADS_MAX 16

struct http_opts {
	const char *addr;        /* IPv4 or IPv6 literal; NULL = 127.0.0.1 */
	uint16_t port;           /* 0 = an ephemeral port (see http_server_port) */
	unsigned threads;        /* 0 = number of cores */
	unsigned conn_limit;     /* 0 = 1024 */
	unsigned per_ip_limit;   /* 0 = 256 */
	unsigned timeout_s;      /* idle connection timeout; 0 = 10 */
	size_t body_cap;         /* 0 = 1 MiB */
	size_t big_body_cap;     /* routes flagged ROUTE_BIG_BODY; 0 = 8 MiB */
	unsigned offload_threads; /* run ROUTE_OFFLOAD handlers; 0 = 2 */
	unsigned offload_queue;  /* ROUTE_OFFLOAD requests waiting, at most; past it
				  * 503 with Retry-After at once; 0 = 64 */
	unsigned work_threads;   /* run ROUTE_SLOW handlers and writes; 0 = 4, at
				  * most HTTP_LANE_THREADS_MAX */
	unsigned work_queue;     /* those waiting, at most; then 503; 0 = 256 */
	bool metrics_public;     /* /metrics without authentication */
	bool no_access_log;
	int log_fd;              /* access log, written in batches (alog.h); 0 = stderr */
	struct router *router;   /* borrowed; built-in routes are added to it */
	http_auth_fn auth;       /* NULL: every non-public route answers 401 */
	http_ready_fn ready;     /* NULL: always ready */
	http_done_fn done;       /* NULL: nothing to release */
	void *app;
};

/* Starts serving.  The router must outlive the server and get no routes
 * after this call.  BM_EUSAGE for a bad address, BM_EIO when the port
 * cannot be bound. */
int http_server_start(const struct http_opts *o, struct http_server **out, struct bm_err *e);
/* The bound port (useful after asking for port 0). */
uint16_t http_server_port(const struct http_server *s);
/* Requests between their complete headers and the end of their response. */
unsigned http_server_inflight(struct http_server *s);
/* The counters (borrowed), for login, lockout and decision handlers. */
struct metrics *http_server_metrics(struct http_server *s);
/* Graceful stop: stops accepting, waits up to drain_ms for requests in
 * flight to be answered, closes all connections and frees s.  Returns the
 * number of requests still in flight when it gave up (0 normally). */
unsigned http_server_stop(struct http_server *s, unsigned drain_ms);

/* Blocks SIGTERM and SIGINT in the calling thread and threads started after
 * it, so that http_signals_wait receives them; call before starting. */
void http_signals_block(void);
/* Waits for SIGTERM or SIGINT and returns its number. */
int http_signals_wait(void);

/* A request header (case-insensitive name) or NULL. */
const char *http_req_header(const struct http_req *r, const char *name);
/* A decoded query parameter or NULL. */
const char *http_req_query(const struct http_req *r, const char *name);
/* A decoded path parameter ("{id}") or NULL. */
const char *http_req_param(const struct http_req *r, const char *name);
/* The body as a JSON object checked against spec (see problem.h); a new
 * reference, or NULL with e set. */
json_t *http_req_json(const struct http_req *r, const struct problem_field *spec, size_t n,
		      struct bm_err *e);

/* Sets status and a JSON body (stolen). */
void http_resp_json(struct http_resp *w, int status, json_t *body);
/* Sets status and a body of len bytes copied from data, with ctype (static). */
void http_resp_bytes(struct http_resp *w, int status, const char *ctype, const void *data,
		     size_t len);
/* Adds a response header (copied); BM_ETOOBIG when full. */
int http_resp_header(struct http_resp *w, const char *name, const char *value);
/* Sets a problem+json body that the error table does not produce (404 of
 * no route, 412, 428, ...): type PROBLEM_TYPE_PREFIX name, and r's
 * request id, as every problem carries. */
void http_resp_problem(const struct http_req *r, struct http_resp *w, int status,
		       const char *name, const char *title, const char *detail);

#endif
