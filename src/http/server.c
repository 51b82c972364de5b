/*
 * server.c - libmicrohttpd glue: body collection under a cap, dispatch,
 * error mapping, built-in routes, access log and graceful stop.
 *
 * This module must never log a query string, a request body or any header
 * value: tokens travel in those.  It must never block a worker on anything
 * but the handler itself.
 */
#include "server.h"
#include "alog.h"
#include "../lib/buf.h"
#include "../lib/jdump.h"
#include "../lib/mem.h"
#include "../lib/utf8.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CAP (1024 * 1024)
/* A route flagged ROUTE_BIG_BODY: 10,000 decision requests of up to ~550
 * bytes each (a 63-byte id, a full compartment list) fit. */
#define DEFAULT_BIG_CAP (8 * 1024 * 1024)
/* Past the cap, a chunked body is discarded up to this many bytes so the
 * client can read its 413; beyond that the connection is dropped. */
#define DISCARD_MAX (4 * 1024 * 1024)
/* How long the server must be idle, while draining, before it stops. */
#define DRAIN_GRACE_US (100 * 1000)
/* How long the stop waits, after the lane threads end, for the answers
 * they gave to be written. */
#define FINAL_DRAIN_MS 1000
/* The part of a drain in which the lanes start nothing more, so that a
 * write they started, which may wait this long for the database's write
 * lock (BUSY_MS in store_sqlite.c), still ends within the drain; at most
 * half of the drain. */
#define LANE_LEAD_MS 5000

struct ctx;
struct http_server;

/* Handlers that may hold their thread for long run on a lane, with their
 * connection suspended, so that a burst of them never holds the workers
 * every other request needs (a decision above all): the password lane
 * (ROUTE_OFFLOAD: a login waits for a password hashing slot) and the work
 * lane (ROUTE_SLOW and, unless ROUTE_INLINE, every write: a scan of the
 * organisation, or a wait for the database's write lock).  Each lane has
 * its own threads and bounded queue, so a burst of logins never delays an
 * officer's write and a long report never delays a login. */
struct lane {
	struct http_server *s;
	const char *busy;            /* the 503 detail when the queue is full */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ctx *head, *tail;     /* queued, oldest first */
	atomic_uint queued;          /* changed under mu; /metrics reads it */
	unsigned cap;
	bool stop;
	unsigned n;
	pthread_t th[HTTP_LANE_THREADS_MAX];
};

enum { LANE_PASSWORD, LANE_WORK, NLANES };
static const char *const lane_names[NLANES] = {"password", "work"};

struct http_server {
	struct MHD_Daemon *d;
	struct router *router;
	struct metrics *metrics;
	struct http_opts o;
	uint16_t port;
	size_t builtin_first;
	atomic_uint inflight;
	atomic_bool draining;
	atomic_uint_fast64_t seq;
	uint32_t id_prefix;
	struct alog *log;               /* access and error lines, batched */
	struct lane lanes[NLANES];
};

/* Per-request state; req comes first so handlers see only it. */
struct ctx {
	struct http_req req;
	struct http_resp resp;
	struct buf body;
	size_t discarded;
	size_t cap;                  /* this request's body cap (route_early) */
	enum router_result rr;       /* the route match, made in begin */
	size_t route_index;
	int status;
	size_t bytes;
	bool started, too_big, routed;
	atomic_int offloaded;        /* OFF_NONE, OFF_QUEUED, OFF_DONE */
	struct ctx *next;            /* in a lane's queue */
	char path[];
};

enum { OFF_NONE, OFF_QUEUED, OFF_DONE };

static void dispatch(struct http_server *s, struct ctx *c);
static int authorize(struct http_server *s, struct ctx *c, struct bm_err *e);
static enum MHD_Result send_resp(struct http_server *s, struct ctx *c);

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- responses ---- */

void http_resp_json(struct http_resp *w, int status, json_t *body)
{
	json_decref(w->json);
	free(w->raw);
	w->raw = NULL;
	w->status = status;
	w->json = body;
	w->ctype = NULL;
}

void http_resp_bytes(struct http_resp *w, int status, const char *ctype, const void *data,
		     size_t len)
{
	json_decref(w->json);
	free(w->raw);
	w->json = NULL;
	w->status = status;
	w->ctype = ctype;
	w->raw = xmalloc(len ? len : 1);
	if (len)
		memcpy(w->raw, data, len);
	w->raw_len = len;
}

int http_resp_header(struct http_resp *w, const char *name, const char *value)
{
	if (w->nheaders == HTTP_MAXHEADERS)
		return BM_ETOOBIG;
	w->headers[w->nheaders].name = xstrdup(name);
	w->headers[w->nheaders].value = xstrdup(value);
	w->nheaders++;
	return 0;
}

/* True when the response already carries header name. */
static bool resp_has_header(const struct http_resp *w, const char *name)
{
	for (size_t i = 0; i < w->nheaders; i++)
		if (strcasecmp(w->headers[i].name, name) == 0)
			return true;
	return false;
}

/* Replaces whatever the handler set with a problem for e.  A 429 says
 * when to come back: the handler's Retry-After (a login backoff) when it
 * set one, else one second (the database was busy). */
static void resp_problem(struct ctx *c, const struct bm_err *e)
{
	int status;
	json_t *p = problem_from_err(e, c->req.id, &status);

	http_resp_json(&c->resp, status, p);
	c->resp.ctype = PROBLEM_CTYPE;
	if (status == 429 && !resp_has_header(&c->resp, "Retry-After"))
		http_resp_header(&c->resp, "Retry-After", "1");
}

void http_resp_problem(const struct http_req *r, struct http_resp *w, int status,
		       const char *name, const char *title, const char *detail)
{
	json_t *p = problem_make(status, name, title, detail);

	json_object_set_new(p, "request_id", json_string(r->id));
	http_resp_json(w, status, p);
	w->ctype = PROBLEM_CTYPE;
}

/* A problem the framework itself produces (404, 405, 413, ...). */
static void resp_fw_problem(struct ctx *c, int status, const char *name, const char *title,
			    const char *detail)
{
	http_resp_problem(&c->req, &c->resp, status, name, title, detail);
}

/* ---- requests ---- */

const char *http_req_header(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn_, MHD_HEADER_KIND, name);
}

const char *http_req_query(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn_, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_param(const struct http_req *r, const char *name)
{
	return router_param(&r->match, name);
}

json_t *http_req_json(const struct http_req *r, const struct problem_field *spec, size_t n,
		      struct bm_err *e)
{
	const char *ct = http_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	json_t *v;

	if (ct != NULL && strncasecmp(ct, "application/json", 16) != 0 &&
	    strstr(ct, "+json") == NULL) {
		bm_errf(e, BM_EUSAGE, "Content-Type", "expected application/json, got '%.60s'",
			ct);
		return NULL;
	}
	v = problem_parse_object(r->body, r->body_len, e);
	if (v != NULL && spec != NULL && problem_check_fields(v, spec, n, e) < 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* ---- access log ---- */

/* Appends s as a JSON string; every byte outside printable ASCII is
 * escaped, so a hostile path cannot break the log line.  Runs of plain
 * bytes are copied at once: the access log is written for every request. */
static void log_str(struct buf *b, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run = 0;

	buf_putc(b, '"');
	for (; s[i] && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};

		if (ch >= 0x20 && ch < 0x7F && ch != '"' && ch != '\\')
			continue;
		buf_append(b, s + run, i - run);
		run = i + 1;
		if (ch == '"' || ch == '\\') {
			esc[1] = (char)ch;
			buf_append(b, esc, 2);
		} else {
			buf_append(b, esc, 6);
		}
	}
	buf_append(b, s + run, i - run);
	buf_putc(b, '"');
}

/* "2026-01-02T03:04:05.678Z" for now, the date part formatted once a
 * second per thread (strftime is the costly part). */
static void log_time(struct buf *b)
{
	static _Thread_local char when[32];
	static _Thread_local time_t when_sec = -1;
	struct timespec ts;
	struct tm tm;
	long ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != when_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
		when_sec = ts.tv_sec;
	}
	ms = ts.tv_nsec / 1000000;
	buf_puts(b, when);
	buf_append(b, (char[5]){'.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10),
				(char)('0' + ms % 10), 'Z'}, 5);
}

/* One JSON line per request, no printf: it runs for every request. */
static void access_log(struct http_server *s, const struct ctx *c, int64_t dur_us,
		       bool completed)
{
	const struct http_route *rt = c->routed ? c->req.match.route : NULL;
	struct buf b = BUF_INIT;

	buf_reserve(&b, 400);
	buf_puts(&b, "{\"time\":\"");
	log_time(&b);
	buf_puts(&b, "\",\"id\":\"");
	buf_puts(&b, c->req.id);
	buf_puts(&b, "\",\"method\":");
	log_str(&b, c->req.method ? c->req.method : "", 16);
	buf_puts(&b, ",\"path\":");
	log_str(&b, c->path, 256);
	if (rt != NULL) {
		buf_puts(&b, ",\"route\":");
		log_str(&b, rt->pattern, 128);
	}
	buf_puts(&b, ",\"status\":");
	jdump_int(&b, c->status);
	buf_puts(&b, ",\"bytes\":");
	jdump_int(&b, (int64_t)c->bytes);
	buf_puts(&b, ",\"duration_us\":");
	jdump_int(&b, dur_us);
	buf_puts(&b, ",\"client\":\"");
	buf_puts(&b, c->req.client);
	buf_putc(&b, '"');
	if (c->req.authenticated) {
		buf_puts(&b, ",\"actor\":");
		log_str(&b, c->req.actor.name, 64);
	}
	buf_puts(&b, completed ? "}\n" : ",\"aborted\":true}\n");
	alog_put(s->log, b.p, b.len);
	buf_free(&b);
}

/* An internal error's real message goes to the log, not to the client. */
static void log_internal(struct http_server *s, const struct ctx *c, const struct bm_err *e)
{
	struct buf b = BUF_INIT;

	if (s->o.no_access_log)
		return;
	buf_printf(&b, "{\"level\":\"error\",\"id\":\"%s\",\"code\":\"%s\",\"msg\":", c->req.id,
		   bm_errname(e->code));
	log_str(&b, e->msg, sizeof e->msg);
	buf_puts(&b, "}\n");
	alog_put(s->log, b.p, b.len);
	buf_free(&b);
}

/* ---- MHD callbacks ---- */

/* "%08x%010llx" of the server's random prefix and the low 40 bits of seq,
 * without snprintf (every request gets one). */
static void request_id(char out[20], uint32_t prefix, uint64_t seq)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 7; i >= 0; i--, prefix >>= 4)
		out[i] = hex[prefix & 15];
	for (int i = 17; i >= 8; i--, seq >>= 4)
		out[i] = hex[seq & 15];
	out[18] = '\0';
}

/* Called with the raw request line: the request context is born here so
 * the path is seen before libmicrohttpd unescapes it. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *s = cls;
	size_t n = strcspn(uri, "?");
	struct ctx *c = xcalloc(1, sizeof *c + n + 1);
	uint64_t seq = atomic_fetch_add_explicit(&s->seq, 1, memory_order_relaxed);

	memcpy(c->path, uri, n);
	c->req.path = c->path;
	c->req.srv = s;
	c->req.app = s->o.app;
	c->req.conn_ = conn;
	c->req.start_us = mono_us();
	c->route_index = SIZE_MAX;
	request_id(c->req.id, s->id_prefix, seq);
	return c;
}

static void peer_addr(struct ctx *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c->req.conn_, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(c->req.client, sizeof c->req.client, "?");
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  c->req.client, sizeof c->req.client);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  c->req.client, sizeof c->req.client);
}

/* Matches the route once, as soon as the method is known, so its body cap
 * applies while the body arrives: the big one for a route flagged
 * ROUTE_BIG_BODY, else the general one (unknown routes too). */
static void route_early(struct http_server *s, struct ctx *c)
{
	c->rr = router_match(s->router, c->req.method, c->req.path, &c->req.match);
	c->cap = s->o.body_cap;
	if (c->rr == ROUTER_OK && (c->req.match.route->flags & ROUTE_BIG_BODY))
		c->cap = s->o.big_body_cap;
}

/* A route whose body may be big is authorized before its body is read, so
 * that only a logged-in caller with the route's permission can make the
 * server hold that much (the headers carry the credentials).  The check is
 * done again, as for every route, when the request is dispatched; this one
 * ends at once (the done hook).  Returns 0, or fills c's response. */
static int authorize_early(struct http_server *s, struct ctx *c)
{
	struct bm_err e = BM_ERR_INIT;
	int rc;

	if (c->rr != ROUTER_OK || !(c->req.match.route->flags & ROUTE_BIG_BODY))
		return 0;
	rc = authorize(s, c, &e);
	if (s->o.done != NULL)
		s->o.done(s->o.app, &c->req);
	if (rc < 0) {
		if (e.code == 0)
			e.code = rc;
		resp_problem(c, &e);
		if (e.code == BM_EAUTH)
			http_resp_header(&c->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	}
	bm_err_clear(&e);
	return rc;
}

/* First call: headers are in, and from here the request counts as in
 * flight (a client still sending headers has been promised nothing, so it
 * must not hold up a graceful stop).  Refuses an announced body over the
 * cap, and a big-body route's caller who may not use it. */
static enum MHD_Result begin(struct http_server *s, struct ctx *c, const char *method)
{
	const char *cl = http_req_header(&c->req, MHD_HTTP_HEADER_CONTENT_LENGTH);

	c->started = true;
	atomic_fetch_add(&s->inflight, 1);
	c->req.method = method;
	route_early(s, c);
	peer_addr(c);
	if (authorize_early(s, c) < 0)
		return send_resp(s, c);
	if (cl != NULL && strtoull(cl, NULL, 10) > c->cap) {
		c->too_big = true;
		resp_fw_problem(c, 413, "too_big", "Content too large",
				"the request body exceeds the server's limit");
		return send_resp(s, c);
	}
	/* Answering now would make libmicrohttpd close the connection (it has
	 * not seen the end of the request), so even a GET waits for the next
	 * call: keep-alive matters more than one trip through the loop. */
	return MHD_YES;
}

/* Appends upload data under the cap; past it, discards (bounded). */
static enum MHD_Result collect(struct ctx *c, const char *data, size_t *size)
{
	size_t n = *size;

	*size = 0;
	if (!c->too_big && c->body.len + n > c->cap) {
		c->too_big = true;
		buf_free(&c->body);
	}
	if (c->too_big) {
		c->discarded += n;
		return c->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	buf_append(&c->body, data, n);
	return MHD_YES;
}

/* ---- lanes ---- */

/* A request a lane refused without running it still had its route: its
 * 503 counts under the route in /metrics and names it in the access log
 * (an operator must see which route is refused, not an "unmatched" one). */
static void lane_routed(struct ctx *c)
{
	c->routed = true;
	c->route_index = c->req.match.index;
}

/* The answer to a request that waited on a lane while the server stopped:
 * refused, nothing done, so the client may try again. */
static void lane_refuse(struct ctx *c)
{
	lane_routed(c);
	resp_fw_problem(c, 503, "stopping", "Service unavailable",
			"the server is stopping; try again");
}

/* The answer when a lane's queue is full: a suspended connection is not
 * closed by the idle timeout, so an unbounded queue would hold every
 * connection the server has while the lane works through it. */
static void lane_busy(struct ctx *c, const struct lane *l)
{
	lane_routed(c);
	resp_fw_problem(c, 503, "busy", "Service unavailable", l->busy);
	http_resp_header(&c->resp, "Retry-After", "1");
}

/* The lane a routed request runs on, or NULL for the worker that read it:
 * the route's flag, else every write but a ROUTE_INLINE one (a write may
 * wait seconds for the database's write lock held by an import or the due
 * run), so a route nobody thought about cannot hold a worker. */
static struct lane *lane_of(struct http_server *s, const struct ctx *c)
{
	const struct http_route *r;

	if (c->rr != ROUTER_OK)
		return NULL;
	r = c->req.match.route;
	if (r->flags & ROUTE_OFFLOAD)
		return &s->lanes[LANE_PASSWORD];
	if ((r->flags & ROUTE_SLOW) ||
	    (!(r->flags & ROUTE_INLINE) && strcmp(r->method, "GET") != 0))
		return &s->lanes[LANE_WORK];
	return NULL;
}

enum { PUSHED, PUSH_STOPPING, PUSH_FULL };

/* Suspends the connection and queues c on lane l, unless its threads are
 * stopping (nothing may be queued that no thread will take, or the
 * connection would stay suspended when libmicrohttpd stops, which it does
 * not survive) or its queue is full; the caller answers those. */
static int lane_push(struct lane *l, struct ctx *c, struct MHD_Connection *conn)
{
	pthread_mutex_lock(&l->mu);
	if (l->stop || atomic_load_explicit(&l->queued, memory_order_relaxed) >= l->cap) {
		int why = l->stop ? PUSH_STOPPING : PUSH_FULL;

		pthread_mutex_unlock(&l->mu);
		return why;
	}
	atomic_fetch_add_explicit(&l->queued, 1, memory_order_relaxed);
	atomic_store_explicit(&c->offloaded, OFF_QUEUED, memory_order_relaxed);
	MHD_suspend_connection(conn);
	c->next = NULL;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	return PUSHED;
}

/* Runs queued handlers until the lane is closed (lanes_close answers
 * what was still queued).  After the resume, c belongs to libmicrohttpd
 * again and is not touched. */
static void *lane_main(void *arg)
{
	struct lane *l = arg;
	struct ctx *c;

	for (;;) {
		pthread_mutex_lock(&l->mu);
		while (l->head == NULL && !l->stop)
			pthread_cond_wait(&l->cv, &l->mu);
		c = l->head;
		if (c != NULL && (l->head = c->next) == NULL)
			l->tail = NULL;
		if (c != NULL)
			atomic_fetch_sub_explicit(&l->queued, 1, memory_order_relaxed);
		pthread_mutex_unlock(&l->mu);
		if (c == NULL)
			return NULL;
		dispatch(l->s, c);
		atomic_store_explicit(&c->offloaded, OFF_DONE, memory_order_release);
		MHD_resume_connection(c->req.conn_);
	}
}

/* Starts a lane's threads; false when none could start (the server then
 * does not start: the lane's routes could never be answered). */
static bool lane_start(struct http_server *s, struct lane *l, unsigned threads, unsigned cap,
		       const char *busy)
{
	l->s = s;
	l->cap = cap;
	l->busy = busy;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	for (l->n = 0; l->n < threads && l->n < HTTP_LANE_THREADS_MAX; l->n++)
		if (pthread_create(&l->th[l->n], NULL, lane_main, l) != 0)
			break;
	return l->n > 0;
}

/* Closes every lane: nothing more is queued or started, and what is
 * still queued is refused here and now (503, nothing done; its connection
 * resumes), not when a lane thread comes free: a thread may be held by a
 * write waiting seconds for the lock, and the clients queued behind it
 * must have their answer within the drain.  The threads end once their
 * running handler has.  A lane that never started (l->s NULL) is skipped. */
static void lanes_close(struct http_server *s)
{
	for (int i = 0; i < NLANES; i++) {
		struct lane *l = &s->lanes[i];
		struct ctx *c, *next;

		if (l->s == NULL)
			continue;
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		c = l->head;
		l->head = l->tail = NULL;
		atomic_store_explicit(&l->queued, 0, memory_order_relaxed);
		pthread_cond_broadcast(&l->cv);
		pthread_mutex_unlock(&l->mu);
		for (; c != NULL; c = next) {
			next = c->next;
			lane_refuse(c);
			atomic_store_explicit(&c->offloaded, OFF_DONE, memory_order_release);
			MHD_resume_connection(c->req.conn_);
		}
	}
}

/* Closes the lanes and joins their threads once the handlers they are
 * running end: libmicrohttpd must not be stopped with a connection
 * suspended. */
static void lanes_stop(struct http_server *s)
{
	lanes_close(s);
	for (int i = 0; i < NLANES; i++) {
		struct lane *l = &s->lanes[i];

		if (l->s == NULL)
			continue;
		for (unsigned j = 0; j < l->n; j++)
			pthread_join(l->th[j], NULL);
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cv);
		l->s = NULL;
	}
}

/* Starts both lanes, or none. */
static bool lanes_start(struct http_server *s)
{
	if (lane_start(s, &s->lanes[LANE_PASSWORD], s->o.offload_threads, s->o.offload_queue,
		       "too many password checks are waiting; try again in a second") &&
	    lane_start(s, &s->lanes[LANE_WORK], s->o.work_threads, s->o.work_queue,
		       "too many writes and reports are waiting; try again in a second"))
		return true;
	lanes_stop(s);
	return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct ctx *c = *con_cls;
	struct lane *l;

	(void)version;
	if (c == NULL) /* no URI callback ran; cannot happen with our options */
		*con_cls = c = on_uri(s, url, conn);
	if (!c->started)
		return begin(s, c, method);
	if (*upload_size > 0)
		return collect(c, upload, upload_size);
	switch (atomic_load_explicit(&c->offloaded, memory_order_acquire)) {
	case OFF_QUEUED:             /* a spurious call while suspended */
		return MHD_YES;
	case OFF_DONE:               /* resumed: the offload thread answered */
		return send_resp(s, c);
	}
	if (c->too_big) {
		resp_fw_problem(c, 413, "too_big", "Content too large",
				"the request body exceeds the server's limit");
	} else if ((l = lane_of(s, c)) != NULL) {
		int pushed = lane_push(l, c, conn);

		if (pushed == PUSHED)
			return MHD_YES;
		if (pushed == PUSH_FULL)
			lane_busy(c, l);
		else
			lane_refuse(c);
	} else {
		dispatch(s, c);
	}
	return send_resp(s, c);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct ctx *c = *con_cls;
	int64_t dur;

	(void)conn;
	if (c == NULL)
		return;
	dur = mono_us() - c->req.start_us;
	metrics_observe(s->metrics, c->route_index, c->status, (uint64_t)(dur > 0 ? dur : 0));
	if (!s->o.no_access_log)
		access_log(s, c, dur, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	json_decref(c->resp.json);
	free(c->resp.raw);
	for (size_t i = 0; i < c->resp.nheaders; i++) {
		free(c->resp.headers[i].name);
		free(c->resp.headers[i].value);
	}
	buf_free(&c->body);
	if (c->started)
		atomic_fetch_sub(&s->inflight, 1);
	free(c);
	*con_cls = NULL;
}

/* ---- dispatch ---- */

/* Who is calling, and may they use this route? */
static int authorize(struct http_server *s, struct ctx *c, struct bm_err *e)
{
	const struct http_route *rt = c->req.match.route;

	if (rt->flags & ROUTE_PUBLIC)
		return 0;
	if (s->o.auth == NULL)
		return bm_errf(e, BM_EAUTH, NULL, "authentication required");
	if (s->o.auth(s->o.app, &c->req, e) < 0)
		return e->code ? e->code : BM_EAUTH;
	c->req.authenticated = true;
	if (!role_allows(c->req.actor.roles, rt->perm))
		return bm_errf(e, BM_EPERM, NULL, "this request requires the permission '%s'",
			       perm_name(rt->perm));
	return 0;
}

static void route_failed(struct ctx *c, enum router_result rr)
{
	if (rr == ROUTER_BADMETHOD) {
		resp_fw_problem(c, 405, "method_not_allowed", "Method not allowed",
				"this resource does not support the method");
		http_resp_header(&c->resp, MHD_HTTP_HEADER_ALLOW, c->req.match.allow);
	} else if (rr == ROUTER_BADPATH) {
		resp_fw_problem(c, 400, "bad_path", "Bad request",
				"the path or query has a bad percent-encoding, invalid "
				"UTF-8 or a control character, or the path is too long");
	} else {
		resp_fw_problem(c, 404, "no_route", "Not found", "no such resource");
	}
}

/* The state of the one walk over a request's query (query_walk). */
struct qwalk {
	const struct http_route *rt;
	bool encoding_ok;    /* every name and value valid UTF-8, no control */
	unsigned seen;       /* bit i: the route's i-th parameter was given */
	struct bm_err *e;    /* the first problem against the route's list */
};

/* One query parameter as libmicrohttpd decoded it.  A NUL would cut a
 * value short for every C reader (?person=E1%00x read as E1), so names and
 * values are held to the path's rule (valid UTF-8, no control); then the
 * route's list: known, once, with a value (its first problem is kept). */
static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				 size_t key_size, const char *value, size_t value_size)
{
	struct qwalk *q = cls;
	int i = router_query_index(q->rt, key, key_size);

	(void)kind;
	if (!utf8_valid(key, key_size, NULL) || !utf8_printable(key, key_size) ||
	    (value != NULL && (!utf8_valid(value, value_size, NULL) ||
			       !utf8_printable(value, value_size)))) {
		q->encoding_ok = false;
		return MHD_NO;
	}
	if (q->e->code != 0)
		return MHD_YES;
	if (key_size == 0)
		bm_errf(q->e, BM_EUSAGE, "query", "the query has a parameter without a name");
	else if (i < 0)
		bm_errf(q->e, BM_EUSAGE, key, "%s: not a parameter of %s %s (%s%s)", key,
			q->rt->method, q->rt->pattern, q->rt->query ? "it takes: " : "it takes none",
			q->rt->query ? q->rt->query : "");
	else if (q->seen & (1u << i))
		bm_errf(q->e, BM_EUSAGE, key, "%s: given more than once", key);
	else if (value == NULL || value_size == 0)
		bm_errf(q->e, BM_EUSAGE, key, "%s: no value; give one or leave %s out", key, key);
	else
		q->seen |= 1u << i;
	return MHD_YES;
}

/* The one walk over a routed request's query: false when its encoding is
 * bad (a 400 before anything else).  A parameter the route does not take,
 * or takes once, goes into e, answered only after authorization, so a
 * caller without access learns nothing of the route's parameters.
 * Handlers look a parameter up by name and would never see a name they
 * do not know, the second of two values or an empty value from none. */
static bool query_walk(struct ctx *c, struct bm_err *e)
{
	struct qwalk q = {c->req.match.route, true, 0, e};

	MHD_get_connection_values_n(c->req.conn_, MHD_GET_ARGUMENT_KIND, query_arg, &q);
	return q.encoding_ok;
}

static void dispatch(struct http_server *s, struct ctx *c)
{
	struct bm_err e = BM_ERR_INIT, qe = BM_ERR_INIT;
	enum router_result rr;
	int rc;

	c->req.body = buf_cstr(&c->body);
	c->req.body_len = c->body.len;
	rr = c->rr;   /* matched in begin (route_early) */
	if (rr == ROUTER_OK && !query_walk(c, &qe))
		rr = ROUTER_BADPATH;
	if (rr != ROUTER_OK) {
		bm_err_clear(&qe);
		route_failed(c, rr);
		return;
	}
	c->routed = true;
	c->route_index = c->req.match.index;
	rc = authorize(s, c, &e);
	if (rc == 0 && qe.code != 0) {
		bm_err_clear(&e);
		e = qe;              /* e takes over what qe owned */
		qe = (struct bm_err)BM_ERR_INIT;
		rc = e.code;
	}
	if (rc == 0)
		rc = c->req.match.route->fn(&c->req, &c->resp, &e);
	if (s->o.done != NULL)
		s->o.done(s->o.app, &c->req);
	if (rc == 0 && c->resp.status == 0)
		rc = bm_errf(&e, BM_EINTERNAL, NULL, "handler for %s set no response",
			     c->req.match.route->pattern);
	if (rc < 0) {
		if (e.code == 0)
			e.code = rc;
		if (problem_status(e.code) >= 500)
			log_internal(s, c, &e);
		resp_problem(c, &e);
		if (e.code == BM_EAUTH)
			http_resp_header(&c->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	}
	bm_err_clear(&qe);
	bm_err_clear(&e);
}

/* Hands the body to a libmicrohttpd response (which frees it). */
static struct MHD_Response *make_response(struct ctx *c)
{
	struct http_resp *w = &c->resp;
	char *body = NULL;
	size_t len = 0;

	if (w->json != NULL) {
		struct buf b = BUF_INIT;

		buf_reserve(&b, 1024);
		jdump(w->json, &b);
		len = b.len;
		body = buf_steal(&b);
		if (w->ctype == NULL)
			w->ctype = "application/json";
	} else if (w->raw != NULL) {
		body = w->raw;
		len = w->raw_len;
		w->raw = NULL;
	}
	c->bytes = len;
	if (body == NULL)
		return MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	return MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result send_resp(struct http_server *s, struct ctx *c)
{
	struct MHD_Response *r = make_response(c);
	enum MHD_Result ok;

	if (r == NULL)
		return MHD_NO;
	if (c->resp.ctype != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, c->resp.ctype);
	MHD_add_response_header(r, "X-Request-Id", c->req.id);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (size_t i = 0; i < c->resp.nheaders; i++)
		MHD_add_response_header(r, c->resp.headers[i].name, c->resp.headers[i].value);
	if (atomic_load(&s->draining) || c->too_big)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	c->status = c->resp.status;
	ok = MHD_queue_response(c->req.conn_, (unsigned)c->resp.status, r);
	MHD_destroy_response(r);
	return ok;
}

/* ---- built-in routes ---- */

static int h_healthz(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	(void)r;
	(void)e;
	http_resp_json(w, 200, json_pack("{s:s}", "status", "ok"));
	return 0;
}

static int h_readyz(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct http_server *s = r->srv;
	bool ready = !atomic_load(&s->draining) && (s->o.ready == NULL || s->o.ready(s->o.app));

	(void)e;
	http_resp_json(w, ready ? 200 : 503,
		       json_pack("{s:s}", "status", ready ? "ready" : "not_ready"));
	return 0;
}

/* How many requests wait for each lane's threads now: a queue that keeps
 * growing says the lane needs threads, or that the database's write lock
 * is held (an import, the due run).  Read without the lane's mutex, which
 * may be gone while the server stops and a keep-alive client asks. */
static void lanes_render(struct http_server *s, struct buf *b)
{
	buf_puts(b, "# HELP baomi_http_lane_waiting Requests waiting for a lane's threads.\n"
		    "# TYPE baomi_http_lane_waiting gauge\n");
	for (int i = 0; i < NLANES; i++)
		buf_printf(b, "baomi_http_lane_waiting{lane=\"%s\"} %u\n", lane_names[i],
			   atomic_load_explicit(&s->lanes[i].queued, memory_order_relaxed));
}

static int h_metrics(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct buf b = BUF_INIT;

	(void)e;
	metrics_render(r->srv->metrics, &b);
	lanes_render(r->srv, &b);
	w->status = 200;
	w->ctype = "text/plain; version=0.0.4; charset=utf-8";
	w->raw_len = b.len;
	w->raw = buf_steal(&b);
	return 0;
}

static int add_builtins(struct http_server *s, struct bm_err *e)
{
	const struct http_route builtins[] = {
		{"GET", "/healthz", h_healthz, PERM_METRICS_READ, ROUTE_PUBLIC, NULL},
		{"GET", "/readyz", h_readyz, PERM_METRICS_READ, ROUTE_PUBLIC, NULL},
		{"GET", "/metrics", h_metrics, PERM_METRICS_READ,
		 s->o.metrics_public ? ROUTE_PUBLIC : 0, NULL},
	};

	s->builtin_first = router_count(s->router);
	return router_add_all(s->router, builtins, sizeof builtins / sizeof builtins[0], e);
}

/* ---- start and stop ---- */

static void defaults(struct http_opts *o)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (o->addr == NULL)
		o->addr = "127.0.0.1";
	if (o->threads == 0)
		o->threads = cores > 0 ? (unsigned)cores : 1;
	if (o->conn_limit == 0)
		o->conn_limit = 1024;
	if (o->per_ip_limit == 0)
		o->per_ip_limit = 256;
	if (o->timeout_s == 0)
		o->timeout_s = 10;
	if (o->body_cap == 0)
		o->body_cap = DEFAULT_CAP;
	if (o->big_body_cap == 0)
		o->big_body_cap = DEFAULT_BIG_CAP;
	if (o->offload_threads == 0)
		o->offload_threads = 2;
	if (o->offload_queue == 0)
		o->offload_queue = 64;
	if (o->work_threads == 0)
		o->work_threads = 4;
	if (o->work_queue == 0)
		o->work_queue = 256;
	if (o->log_fd == 0)
		o->log_fd = STDERR_FILENO;
}

static int parse_addr(const struct http_opts *o, struct sockaddr_storage *ss, bool *v6,
		      struct bm_err *e)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	*v6 = strchr(o->addr, ':') != NULL;
	if (!*v6 && inet_pton(AF_INET, o->addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(o->port);
		return 0;
	}
	if (*v6 && inet_pton(AF_INET6, o->addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(o->port);
		return 0;
	}
	return bm_errf(e, BM_EUSAGE, "listen", "'%s' is not an IPv4 or IPv6 address", o->addr);
}

/* Refuses new connections once the server is draining. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct http_server *s = cls;

	(void)addr;
	(void)len;
	return atomic_load_explicit(&s->draining, memory_order_relaxed) ? MHD_NO : MHD_YES;
}

static struct MHD_Daemon *start_mhd(struct http_server *s, struct sockaddr_storage *ss,
				    bool v6)
{
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
			 (v6 ? MHD_USE_IPv6 : 0);

	return MHD_start_daemon(
		flags, s->o.port, on_accept, s, on_request, s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->o.threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->o.conn_limit,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->o.per_ip_limit,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->o.timeout_s,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_END);
}

static struct metrics *make_metrics(const struct router *rt)
{
	size_t n = router_count(rt);
	char **labels = xcalloc(n ? n : 1, sizeof *labels);
	struct metrics *m;

	for (size_t i = 0; i < n; i++) {
		const struct http_route *r = router_route(rt, i);
		size_t len = strlen(r->method) + strlen(r->pattern) + 2;

		labels[i] = xmalloc(len);
		snprintf(labels[i], len, "%s %s", r->method, r->pattern);
	}
	m = metrics_new(n, (const char *const *)labels);
	for (size_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
	return m;
}

int http_server_start(const struct http_opts *o, struct http_server **out, struct bm_err *e)
{
	struct http_server *s = xcalloc(1, sizeof *s);
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di;
	bool v6;

	s->o = *o;
	defaults(&s->o);
	s->router = o->router;
	if (s->router == NULL || parse_addr(&s->o, &ss, &v6, e) < 0 || add_builtins(s, e) < 0) {
		if (s->router == NULL)
			bm_errf(e, BM_EUSAGE, NULL, "no router given");
		goto fail;
	}
	if (sodium_init() < 0) {
		bm_errf(e, BM_ECRYPTO, NULL, "libsodium failed to initialise");
		goto fail;
	}
	/* A log pipe whose reader has gone must cost log lines, not the
	 * process (sockets are written with MSG_NOSIGNAL by libmicrohttpd). */
	signal(SIGPIPE, SIG_IGN);
	s->id_prefix = randombytes_random();
	s->metrics = make_metrics(s->router);
	s->log = alog_open(s->o.log_fd);
	if (!lanes_start(s)) {
		bm_errf(e, BM_EINTERNAL, NULL, "cannot start the lane threads");
		goto fail;
	}
	s->d = start_mhd(s, &ss, v6);
	if (s->d == NULL) {
		bm_errf(e, BM_EIO, "listen", "cannot listen on %s port %u (in use, or not "
			"permitted)", s->o.addr, (unsigned)s->o.port);
		lanes_stop(s);
		goto fail;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : s->o.port;
	*out = s;
	return 0;
fail:
	alog_close(s->log);
	metrics_free(s->metrics);
	free(s);
	return e->code;
}

uint16_t http_server_port(const struct http_server *s)
{
	return s->port;
}

unsigned http_server_inflight(struct http_server *s)
{
	return atomic_load(&s->inflight);
}

struct metrics *http_server_metrics(struct http_server *s)
{
	return s->metrics;
}

/* Connections still open (idle keep-alive ones included). */
static unsigned open_connections(struct http_server *s)
{
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return di ? di->num_connections : 0;
}

/* Waits until no connection is left, or no request has been in flight for
 * DRAIN_GRACE_US (a worker that just finished a handler reads the next
 * request already waiting on its connections well within that), or the
 * deadline passes.  Returns the requests still in flight. */
static unsigned drain(struct http_server *s, unsigned drain_ms)
{
	int64_t now = mono_us(), deadline = now + (int64_t)drain_ms * 1000, idle_since = now;
	struct timespec nap = {0, 2 * 1000 * 1000};
	unsigned left;

	for (;;) {
		left = atomic_load(&s->inflight);
		now = mono_us();
		if (left > 0)
			idle_since = now;
		if (open_connections(s) == 0 || now - idle_since >= DRAIN_GRACE_US ||
		    now >= deadline)
			return left;
		nanosleep(&nap, NULL);
	}
}

/* Stopping uses the accept policy rather than MHD_quiesce_daemon: with
 * libmicrohttpd 0.9.75's epoll thread pool, connections closed by their
 * clients after a quiesce were not reaped for seconds, stalling the drain. */
unsigned http_server_stop(struct http_server *s, unsigned drain_ms)
{
	unsigned lead = drain_ms / 2 < LANE_LEAD_MS ? drain_ms / 2 : LANE_LEAD_MS;
	unsigned left;

	atomic_store(&s->draining, true);
	left = drain(s, drain_ms - lead);
	/* the lanes start nothing after this, so what they run has lead
	 * left to end in: the stop keeps within its drain */
	lanes_close(s);
	if (left > 0)
		left = drain(s, lead);
	lanes_stop(s);
	/* answers the lane threads gave after the drain (a refusal, or a
	 * handler that was running) still have to be written */
	if (atomic_load(&s->inflight) > 0)
		drain(s, FINAL_DRAIN_MS);
	MHD_stop_daemon(s->d);
	alog_close(s->log);
	metrics_free(s->metrics);
	free(s);
	return left;
}

void http_signals_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int http_signals_wait(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}
