/*
 * test_httpfw.c - the HTTP framework driven over real sockets on loopback:
 * routing, auth and permissions, the body cap, strict JSON, problem+json,
 * slow clients, graceful stop, metrics and the access log.
 */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http/server.h"
#include "lib/buf.h"

static atomic_int writes;
static atomic_bool app_ready = true;

/* ---- test routes ---- */

static int h_hello(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	(void)r;
	(void)e;
	http_resp_json(w, 200, json_pack("{s:s}", "hello", "world"));
	return 0;
}

static int h_item(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	(void)e;
	http_resp_json(w, 200, json_pack("{s:s, s:s}", "id", http_req_param(r, "id"),
					  "actor", r->actor.name));
	return 0;
}

static const struct problem_field item_spec[] = {
	{"name", PF_STRING, true, 16, 0},
	{"count", PF_INTEGER, false, 0, 0},
	{"flag", PF_BOOLEAN, false, 0, 0},
	{"tags", PF_STRARRAY, false, 8, 3},
	{"note", PF_STRING, false, 20000, 0},
	{"extra", PF_OBJECT, false, 0, 0},
};

static int h_create(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *v = http_req_json(r, item_spec, sizeof item_spec / sizeof item_spec[0], e);

	if (v == NULL)
		return e->code;
	http_resp_json(w, 201, v);
	return 0;
}

static int h_len(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	(void)e;
	http_resp_json(w, 200, json_pack("{s:I}", "len", (json_int_t)r->body_len));
	return 0;
}

/* A write that takes a while: counted before it answers. */
static int h_slow(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct timespec t = {0, 300 * 1000 * 1000};

	(void)r;
	(void)e;
	nanosleep(&t, NULL);
	atomic_fetch_add(&writes, 1);
	http_resp_json(w, 201, json_pack("{s:b}", "written", 1));
	return 0;
}

static int h_fail(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	(void)r;
	(void)w;
	return bm_errf(e, BM_EIO, NULL, "disk /secret/path.db is on fire");
}

/* The store's answer when another writer holds the database. */
static int h_busy(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	(void)r;
	(void)w;
	return bm_errf(e, BM_EBUSY, NULL, "the database is busy; try again");
}

static int h_conflict(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	(void)r;
	(void)w;
	bm_err_add(e, 3, "unit", "no such unit");
	return bm_errf(e, BM_EINVAL, "unit", "bad row");
}

/* A password-hashing stand-in: waits, so it runs on an offload thread. */
static int h_offload(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct timespec t = {0, 300 * 1000 * 1000};

	(void)r;
	(void)e;
	nanosleep(&t, NULL);
	atomic_fetch_add(&writes, 1);
	http_resp_json(w, 201, json_pack("{s:b}", "written", 1));
	return 0;
}

/* A handler that holds its thread until the test opens the gate: a
 * report scanning the organisation, a write waiting for the lock. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static int gate_inside;

static int h_gate(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	(void)r;
	(void)e;
	pthread_mutex_lock(&gate_mu);
	gate_inside++;
	pthread_cond_broadcast(&gate_cv);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	gate_inside--;
	pthread_mutex_unlock(&gate_mu);
	atomic_fetch_add(&writes, 1);
	http_resp_json(w, 201, json_pack("{s:b}", "written", 1));
	return 0;
}

static const struct http_route test_routes[] = {
	{"GET", "/t/scan", h_gate, PERM_UNIT_READ, ROUTE_PUBLIC | ROUTE_SLOW, NULL},
	{"POST", "/t/wait", h_gate, PERM_UNIT_READ, ROUTE_PUBLIC, NULL},
	{"POST", "/t/decide", h_hello, PERM_UNIT_READ, ROUTE_PUBLIC | ROUTE_INLINE, NULL},
	{"POST", "/t/offload", h_offload, PERM_UNIT_READ, ROUTE_PUBLIC | ROUTE_OFFLOAD, NULL},
	{"GET", "/t/hello", h_hello, PERM_UNIT_READ, ROUTE_PUBLIC, NULL},
	{"GET", "/t/items/{id}", h_item, PERM_PERSON_READ, 0, "token page"},
	{"DELETE", "/t/items/{id}", h_item, PERM_PERSON_WRITE, 0, NULL},
	{"POST", "/t/items", h_create, PERM_UNIT_READ, ROUTE_PUBLIC, NULL},
	{"POST", "/t/len", h_len, PERM_UNIT_READ, ROUTE_PUBLIC, NULL},
	{"POST", "/t/slow", h_slow, PERM_UNIT_READ, ROUTE_PUBLIC, NULL},
	{"GET", "/t/fail", h_fail, PERM_UNIT_READ, ROUTE_PUBLIC, NULL},
	{"GET", "/t/busy", h_busy, PERM_UNIT_READ, ROUTE_PUBLIC, NULL},
	{"GET", "/t/invalid", h_conflict, PERM_UNIT_READ, ROUTE_PUBLIC, NULL},
};

/* "Authorization: Bearer officer,reviewer" names the roles directly. */
static int test_auth(void *app, struct http_req *r, struct bm_err *e)
{
	const char *h = http_req_header(r, "Authorization");

	(void)app;
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return bm_errf(e, BM_EAUTH, NULL, "no credentials");
	if (role_parse_list(h + 7, "token", &r->actor.roles, e) < 0)
		return bm_errf(e, BM_EAUTH, NULL, "bad token");
	snprintf(r->actor.name, sizeof r->actor.name, "tester");
	return 0;
}

static bool test_ready(void *app)
{
	(void)app;
	return atomic_load(&app_ready);
}

/* ---- a server per test ---- */

struct fixture {
	struct router *rt;
	struct http_server *srv;
	uint16_t port;
	char logpath[64];
	int logfd;
};

static struct fixture *start(struct http_opts *o)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct bm_err e = BM_ERR_INIT;

	f->rt = router_new();
	assert_int_equal(router_add_all(f->rt, test_routes,
					sizeof test_routes / sizeof test_routes[0], &e), 0);
	snprintf(f->logpath, sizeof f->logpath, "/tmp/test_httpfw_log_XXXXXX");
	f->logfd = mkstemp(f->logpath);
	assert_true(f->logfd >= 0);
	o->router = f->rt;
	o->auth = test_auth;
	o->ready = test_ready;
	o->log_fd = f->logfd;
	if (o->threads == 0)
		o->threads = 2;
	assert_int_equal(http_server_start(o, &f->srv, &e), 0);
	f->port = http_server_port(f->srv);
	assert_true(f->port != 0);
	return f;
}

/* Reads the log into log until it holds needle; the server writes its log
 * in batches, within a fraction of a second (alog.h). */
static bool log_wait(struct fixture *f, char *log, size_t n, const char *needle)
{
	struct timespec nap = {0, 20 * 1000000};

	for (int i = 0; i < 150; i++) {
		ssize_t got = pread(f->logfd, log, n - 1, 0);

		log[got > 0 ? got : 0] = '\0';
		if (strstr(log, needle) != NULL)
			return true;
		nanosleep(&nap, NULL);
	}
	return false;
}

static void stop(struct fixture *f)
{
	if (f->srv)
		assert_int_equal(http_server_stop(f->srv, 5000), 0);
	router_free(f->rt);
	close(f->logfd);
	unlink(f->logpath);
	free(f);
}

static int dial(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct reply {
	int status;
	struct buf raw;
	const char *body;
	json_t *json;
};

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k <= 0)
			return; /* the server may answer and close early */
		p += k;
		n -= (size_t)k;
	}
}

/* Reads until the server closes; parses status and a JSON body if any. */
static void read_reply(int fd, struct reply *r)
{
	char chunk[65536];
	ssize_t k;

	memset(r, 0, sizeof *r);
	while ((k = recv(fd, chunk, sizeof chunk, 0)) > 0)
		buf_append(&r->raw, chunk, (size_t)k);
	close(fd);
	if (r->raw.len < 12 || sscanf(buf_cstr(&r->raw), "HTTP/1.%*d %d", &r->status) != 1)
		return;
	r->body = strstr(buf_cstr(&r->raw), "\r\n\r\n");
	r->body = r->body ? r->body + 4 : "";
	r->json = json_loads(r->body, 0, NULL);
}

static void roundtrip(uint16_t port, const char *req, size_t n, struct reply *r)
{
	int fd = dial(port);

	assert_true(fd >= 0);
	send_all(fd, req, n);
	read_reply(fd, r);
}

/* A complete request with Connection: close and an optional body. */
static void request(uint16_t port, const char *method, const char *path, const char *hdrs,
		    const char *body, struct reply *r)
{
	struct buf q = BUF_INIT;

	buf_printf(&q, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s", method, path,
		   hdrs ? hdrs : "");
	if (body)
		buf_printf(&q, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			   strlen(body), body);
	else
		buf_puts(&q, "\r\n");
	roundtrip(port, q.p, q.len, r);
	buf_free(&q);
}

static void reply_free(struct reply *r)
{
	json_decref(r->json);
	buf_free(&r->raw);
}

static bool has_header(const struct reply *r, const char *line)
{
	const char *end = r->body ? r->body : buf_cstr(&r->raw) + r->raw.len;
	const char *p = strcasestr(buf_cstr(&r->raw), line);

	return p != NULL && p < end;
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* errors[i].field and .reason of a problem reply. */
static const char *err_field(const struct reply *r, size_t i, const char *k)
{
	return jstr(json_array_get(json_object_get(r->json, "errors"), i), k);
}

/* ---- tests ---- */

static void test_hello_and_headers(void **state)
{
	struct http_opts o = {0};
	struct fixture *f = start(&o);
	struct reply r;

	(void)state;
	request(f->port, "GET", "/t/hello", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Content-Type: application/json"));
	assert_true(has_header(&r, "X-Request-Id: "));
	assert_true(has_header(&r, "Cache-Control: no-store"));
	assert_string_equal(jstr(r.json, "hello"), "world");
	reply_free(&r);
	/* Keep-alive: two requests on one connection are both answered (a
	 * response queued too early makes libmicrohttpd close instead). */
	roundtrip(f->port, "GET /t/hello HTTP/1.1\r\nHost: t\r\n\r\n"
			   "GET /t/hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		  strlen("GET /t/hello HTTP/1.1\r\nHost: t\r\n\r\n"
			 "GET /t/hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"), &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(strstr(buf_cstr(&r.raw), "world"), "HTTP/1.1 200 OK"));
	reply_free(&r);
	/* HEAD answers like GET, without a body. */
	request(f->port, "HEAD", "/t/hello", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	stop(f);
}

static void test_404_405(void **state)
{
	struct http_opts o = {0};
	struct fixture *f = start(&o);
	struct reply r;

	(void)state;
	request(f->port, "GET", "/t/nothing", NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	assert_true(has_header(&r, "Content-Type: application/problem+json"));
	assert_string_equal(jstr(r.json, "type"), "urn:baomi:problem:no_route");
	assert_int_equal(json_integer_value(json_object_get(r.json, "status")), 404);
	reply_free(&r);
	request(f->port, "GET", "/t/hello/", NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	request(f->port, "PUT", "/t/items/7", "Authorization: Bearer officer\r\n", NULL, &r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow: GET, DELETE"));
	assert_string_equal(jstr(r.json, "type"), "urn:baomi:problem:method_not_allowed");
	reply_free(&r);
	stop(f);
}

/* A GET as the officer and what its answer must be: the status, and the
 * "id" member of a 200 or the first error's field of a problem. */
struct get_case {
	const char *path;
	int status;
	const char *id, *field;
};

static void officer_gets(const struct get_case *c, size_t n)
{
	struct http_opts o = {0};
	struct fixture *f = start(&o);

	for (size_t i = 0; i < n; i++) {
		struct reply r;

		request(f->port, "GET", c[i].path, "Authorization: Bearer officer\r\n", NULL, &r);
		if (r.status != c[i].status)
			fail_msg("%s: %d, expected %d", c[i].path, r.status, c[i].status);
		if (c[i].id)
			assert_string_equal(jstr(r.json, "id"), c[i].id);
		if (c[i].field)
			assert_string_equal(err_field(&r, 0, "field"), c[i].field);
		reply_free(&r);
	}
	stop(f);
}

static void test_path_params(void **state)
{
	static const struct get_case cases[] = {
		{"/t/items/42", 200, "42", NULL},
		{"/t/items/a%2Fb", 200, "a/b", NULL},
		{"/t/items/%E4%BA%BA", 200, "\xE4\xBA\xBA", NULL},
		{"/t/items/%ZZ", 400, NULL, NULL},
		{"/t/items/%4", 400, NULL, NULL},
		{"/t/items/%00", 400, NULL, NULL},
		{"/t/items/%0A", 400, NULL, NULL},
		{"/t/items/%C0%AF", 400, NULL, NULL},       /* overlong '/' */
		{"/t/items/%ED%A0%80", 400, NULL, NULL},    /* surrogate */
		{"/t/items/%FF", 400, NULL, NULL},
		{"/t/items/", 404, NULL, NULL},
	};

	(void)state;
	officer_gets(cases, sizeof cases / sizeof cases[0]);
}

/* A route takes the query parameters it lists, each once and with a
 * value; anything else is a 400 naming the parameter, so a misspelt or
 * misplaced filter is never answered as if it had been applied. */
static void test_query_strict(void **state)
{
	static const struct get_case cases[] = {
		{"/t/items/1?token=a&page=2", 200, "1", NULL},
		{"/t/items/1?page=2", 200, "1", NULL},
		{"/t/items/1?li%6Dit=2", 400, NULL, "limit"},   /* decoded before the check */
		{"/t/items/1?unit=HQ", 400, NULL, "unit"},
		{"/t/items/1?token=a&Token=b", 400, NULL, "Token"},
		{"/t/items/1?page=5&page=500", 400, NULL, "page"},
		{"/t/items/1?page=5&page=5", 400, NULL, "page"},
		{"/t/items/1?page=", 400, NULL, "page"},
		{"/t/items/1?page", 400, NULL, "page"},
		{"/t/items/1?=5", 400, NULL, "query"},
		{"/t/hello?x=1", 400, NULL, "x"},              /* a route that takes none */
	};
	struct http_opts o = {0};
	struct fixture *f;
	struct reply r;

	(void)state;
	officer_gets(cases, sizeof cases / sizeof cases[0]);
	/* the permission is checked first: no caller learns a route's
	 * parameters before they may use it; a query that is no text (a NUL,
	 * a control) is a bad request before anything else, one walk telling
	 * both (server.c query_walk) */
	f = start(&o);
	request(f->port, "GET", "/t/items/1?unit=HQ", NULL, NULL, &r);
	assert_int_equal(r.status, 401);
	reply_free(&r);
	request(f->port, "GET", "/t/items/1?unit=HQ&page=%00", NULL, NULL, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(jstr(r.json, "type"), "urn:baomi:problem:bad_path");
	reply_free(&r);
	request(f->port, "GET", "/t/items/1?page=2&page=%01", "Authorization: Bearer officer\r\n",
		NULL, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(jstr(r.json, "type"), "urn:baomi:problem:bad_path");
	reply_free(&r);
	stop(f);
}

static void test_auth_and_permissions(void **state)
{
	struct http_opts o = {0};
	struct fixture *f = start(&o);
	struct reply r;

	(void)state;
	request(f->port, "GET", "/t/items/1", NULL, NULL, &r);
	assert_int_equal(r.status, 401);
	assert_true(has_header(&r, "WWW-Authenticate: Bearer"));
	assert_string_equal(jstr(r.json, "type"), "urn:baomi:problem:unauthenticated");
	reply_free(&r);
	/* sysadmin reads no personnel data. */
	request(f->port, "GET", "/t/items/1", "Authorization: Bearer sysadmin\r\n", NULL, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(jstr(r.json, "detail"), "person.read"));
	reply_free(&r);
	/* auditor+officer is not a valid role set: the hook refuses it. */
	request(f->port, "GET", "/t/items/1", "Authorization: Bearer auditor,officer\r\n", NULL,
		&r);
	assert_int_equal(r.status, 401);
	reply_free(&r);
	request(f->port, "GET", "/t/items/1", "Authorization: Bearer reviewer\r\n", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "actor"), "tester");
	reply_free(&r);
	/* reviewer may read but not write persons. */
	request(f->port, "DELETE", "/t/items/1", "Authorization: Bearer reviewer\r\n", NULL, &r);
	assert_int_equal(r.status, 403);
	reply_free(&r);
	stop(f);
}

static void test_body_cap_content_length(void **state)
{
	struct http_opts o = {0};
	struct fixture *f = start(&o);
	const char *big = "POST /t/len HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n";
	size_t n = 1048576;
	char *body = malloc(n);
	struct buf q = BUF_INIT;
	struct reply r;

	(void)state;
	roundtrip(f->port, big, strlen(big), &r);
	assert_int_equal(r.status, 413);
	assert_string_equal(jstr(r.json, "type"), "urn:baomi:problem:too_big");
	reply_free(&r);
	/* Exactly at the cap is accepted. */
	memset(body, 'x', n);
	buf_printf(&q, "POST /t/len HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		       "Content-Length: %zu\r\n\r\n", n);
	buf_append(&q, body, n);
	roundtrip(f->port, q.p, q.len, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "len")), (json_int_t)n);
	reply_free(&r);
	buf_free(&q);
	free(body);
	stop(f);
}

/* Sends n bytes as chunks of 64 KiB. */
static void chunked(uint16_t port, size_t n, struct reply *r)
{
	const char *head = "POST /t/len HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n";
	static char chunk[65536];
	int fd = dial(port);
	char line[32];

	memset(chunk, 'y', sizeof chunk);
	send_all(fd, head, strlen(head));
	for (size_t sent = 0; sent < n; sent += sizeof chunk) {
		size_t k = n - sent < sizeof chunk ? n - sent : sizeof chunk;

		snprintf(line, sizeof line, "%zx\r\n", k);
		send_all(fd, line, strlen(line));
		send_all(fd, chunk, k);
		send_all(fd, "\r\n", 2);
	}
	send_all(fd, "0\r\n\r\n", 5);
	read_reply(fd, r);
}

static void test_body_cap_chunked(void **state)
{
	struct http_opts o = {.body_cap = 256 * 1024};
	struct fixture *f = start(&o);
	struct reply r;

	(void)state;
	chunked(f->port, 256 * 1024 + 1, &r);
	assert_int_equal(r.status, 413);
	assert_true(has_header(&r, "Content-Type: application/problem+json"));
	reply_free(&r);
	chunked(f->port, 256 * 1024, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "len")), 256 * 1024);
	reply_free(&r);
	/* The server is still fine afterwards. */
	request(f->port, "GET", "/t/hello", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	stop(f);
}

static void expect_problem(uint16_t port, const char *body, int status, const char *field,
			   const char *reason)
{
	struct reply r;

	request(port, "POST", "/t/items", NULL, body, &r);
	assert_int_equal(r.status, status);
	assert_true(has_header(&r, "Content-Type: application/problem+json"));
	assert_non_null(err_field(&r, 0, "field"));
	assert_string_equal(err_field(&r, 0, "field"), field);
	if (reason)
		assert_non_null(strstr(err_field(&r, 0, "reason"), reason));
	reply_free(&r);
}

static void test_malformed_json(void **state)
{
	struct http_opts o = {0};
	struct fixture *f = start(&o);

	(void)state;
	expect_problem(f->port, "{\"name\": }", 400, "$.name", NULL);
	expect_problem(f->port, "{\"name\": \"a\", \"name\": \"b\"}", 400, "$.name",
		       "duplicate");
	expect_problem(f->port, "{\"name\": \"a\", \"extra\": {\"k\": 1, \"k\": 2}}", 400,
		       "$.extra.k", "duplicate");
	expect_problem(f->port, "{\"tags\": [\"a\", tru]}", 400, "$.tags[1]", NULL);
	expect_problem(f->port, "[1, 2]", 400, "$", "object");
	expect_problem(f->port, "{\"name\": \"a\"} trailing", 400, "$", NULL);
	expect_problem(f->port, "{\"name\": \"\xC3\x28\"}", 400, "$.name", NULL);
	expect_problem(f->port, "", 400, "$", NULL);
	stop(f);
}

static void test_field_spec(void **state)
{
	struct http_opts o = {0};
	struct fixture *f = start(&o);
	struct buf big = BUF_INIT;
	struct reply r;

	(void)state;
	expect_problem(f->port, "{\"name\": \"a\", \"bogus\": 1}", 422, "$.bogus",
		       "unknown field");
	expect_problem(f->port, "{\"name\": 5}", 422, "$.name", "expected string");
	expect_problem(f->port, "{\"name\": \"a\", \"count\": \"7\"}", 422, "$.count",
		       "expected integer");
	expect_problem(f->port, "{\"name\": \"a\", \"count\": 1.5}", 422, "$.count",
		       "expected integer");
	expect_problem(f->port, "{\"name\": \"a\", \"flag\": 1}", 422, "$.flag",
		       "expected boolean");
	expect_problem(f->port, "{\"name\": \"a\", \"tags\": [\"x\", 2]}", 422, "$.tags[1]",
		       "expected string");
	expect_problem(f->port, "{\"name\": \"a\", \"tags\": [\"a\",\"b\",\"c\",\"d\"]}", 422,
		       "$.tags", "more than 3");
	expect_problem(f->port, "{\"count\": 1}", 422, "$.name", "required");
	expect_problem(f->port, "{\"name\": null}", 422, "$.name", "required");
	expect_problem(f->port, "{\"name\": \"a\\u0000b\"}", 422, "$.name", "NUL");
	expect_problem(f->port, "{\"name\": \"a\", \"extra\": {\"x\": [\"\\u0000\"]}}", 422,
		       "$.extra.x[0]", "NUL");
	/* Bytes of UTF-8, as the service counts its limits: 5 CJK characters
	 * (15 bytes) and 16 ASCII pass, 6 (18 bytes) do not. */
	request(f->port, "POST", "/t/items", NULL, "{\"name\": \"人人人人人\"}", &r);
	assert_int_equal(r.status, 201);
	reply_free(&r);
	request(f->port, "POST", "/t/items", NULL, "{\"name\": \"nnnnnnnnnnnnnnnn\"}", &r);
	assert_int_equal(r.status, 201);
	reply_free(&r);
	expect_problem(f->port, "{\"name\": \"人人人人人人\"}", 422, "$.name",
		       "longer than 16 bytes");
	/* A 10,000-character string passes a 20,000 spec and fails a 16 one. */
	buf_puts(&big, "{\"name\": \"ok\", \"note\": \"");
	for (int i = 0; i < 10000; i++)
		buf_putc(&big, 'n');
	buf_puts(&big, "\"}");
	request(f->port, "POST", "/t/items", NULL, big.p, &r);
	assert_int_equal(r.status, 201);
	reply_free(&r);
	buf_reset(&big);
	buf_puts(&big, "{\"name\": \"");
	for (int i = 0; i < 10000; i++)
		buf_putc(&big, 'n');
	buf_puts(&big, "\"}");
	expect_problem(f->port, big.p, 422, "$.name", "longer than 16");
	buf_free(&big);
	/* Several problems are all reported. */
	request(f->port, "POST", "/t/items", NULL, "{\"name\": 1, \"count\": true, \"zz\": 0}",
		&r);
	assert_int_equal(r.status, 422);
	assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 3);
	reply_free(&r);
	stop(f);
}

static void test_error_mapping(void **state)
{
	struct http_opts o = {0};
	struct fixture *f = start(&o);
	struct reply r;
	char log[8192] = "";

	(void)state;
	request(f->port, "GET", "/t/fail", NULL, NULL, &r);
	assert_int_equal(r.status, 500);
	assert_string_equal(jstr(r.json, "type"), "urn:baomi:problem:io");
	assert_null(strstr(r.body, "secret"));
	assert_non_null(jstr(r.json, "request_id"));
	reply_free(&r);
	/* The real message is in the server log (written in batches). */
	assert_true(log_wait(f, log, sizeof log, "/secret/path.db"));
	/* a busy database is 429 and says when to come back */
	request(f->port, "GET", "/t/busy", NULL, NULL, &r);
	assert_int_equal(r.status, 429);
	assert_true(has_header(&r, "Retry-After: 1\r\n"));
	reply_free(&r);
	request(f->port, "GET", "/t/invalid", NULL, NULL, &r);
	assert_int_equal(r.status, 422);
	assert_string_equal(err_field(&r, 0, "field"), "unit");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(r.json, "errors"), 0), "line")), 3);
	reply_free(&r);
	assert_int_equal(problem_status(BM_ENOTFOUND), 404);
	assert_int_equal(problem_status(BM_ECONFLICT), 409);
	assert_int_equal(problem_status(BM_ETOOBIG), 413);
	assert_int_equal(problem_status(12345), 500);
	stop(f);
}

/* Every status the API answers has its own series: one counted as
 * "other" (428 was) cannot be told apart on a dashboard. */
static void test_metrics_count_every_api_status(void **state)
{
	static const int api[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 412,
				  413, 422, 428, 429, 500, 503};
	const char *labels[] = {"GET /t"};
	struct metrics *m = metrics_new(1, labels);
	struct buf b = BUF_INIT;
	char want[96];

	(void)state;
	for (size_t i = 0; i < sizeof api / sizeof api[0]; i++)
		metrics_observe(m, 0, api[i], 10);
	metrics_render(m, &b);
	for (size_t i = 0; i < sizeof api / sizeof api[0]; i++) {
		snprintf(want, sizeof want, "{route=\"GET /t\",code=\"%d\"} 1\n", api[i]);
		assert_non_null(strstr(buf_cstr(&b), want));
	}
	assert_null(strstr(buf_cstr(&b), "code=\"other\""));
	buf_free(&b);
	metrics_free(m);
}

static void test_health_ready_metrics(void **state)
{
	struct http_opts o = {0};
	struct fixture *f = start(&o);
	struct reply r;

	(void)state;
	request(f->port, "GET", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "status"), "ok");
	reply_free(&r);
	request(f->port, "GET", "/readyz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	atomic_store(&app_ready, false);
	request(f->port, "GET", "/readyz", NULL, NULL, &r);
	assert_int_equal(r.status, 503);
	reply_free(&r);
	atomic_store(&app_ready, true);

	metrics_login(http_server_metrics(f->srv), true);
	metrics_login(http_server_metrics(f->srv), false);
	metrics_login(http_server_metrics(f->srv), false);
	metrics_lockout(http_server_metrics(f->srv));
	metrics_decision(http_server_metrics(f->srv), false);
	request(f->port, "GET", "/t/hello", NULL, NULL, &r);
	reply_free(&r);
	request(f->port, "GET", "/nowhere", NULL, NULL, &r);
	reply_free(&r);
	request(f->port, "GET", "/metrics", NULL, NULL, &r);
	assert_int_equal(r.status, 401);
	reply_free(&r);
	request(f->port, "GET", "/metrics", "Authorization: Bearer officer\r\n", NULL, &r);
	assert_int_equal(r.status, 403);
	reply_free(&r);
	request(f->port, "GET", "/metrics", "Authorization: Bearer sysadmin\r\n", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(r.body, "baomi_http_requests_total{route=\"GET /t/hello\","
				       "code=\"200\"} 1\n"));
	assert_non_null(strstr(r.body, "baomi_http_requests_total{route=\"GET /readyz\","
				       "code=\"503\"} 1\n"));
	assert_non_null(strstr(r.body, "baomi_http_requests_total{route=\"unmatched\","
				       "code=\"404\"} 1\n"));
	assert_non_null(strstr(r.body, "baomi_http_requests_total{route=\"GET /metrics\","
				       "code=\"401\"} 1\n"));
	assert_non_null(strstr(r.body, "baomi_http_request_duration_seconds_bucket{route=\"GET "
				       "/t/hello\",le=\"+Inf\"} 1\n"));
	assert_non_null(strstr(r.body, "baomi_http_request_duration_seconds_count{route=\"GET "
				       "/t/hello\"} 1\n"));
	assert_non_null(strstr(r.body, "baomi_logins_total{result=\"ok\"} 1\n"));
	assert_non_null(strstr(r.body, "baomi_logins_total{result=\"fail\"} 2\n"));
	assert_non_null(strstr(r.body, "baomi_lockouts_total 1\n"));
	assert_non_null(strstr(r.body, "baomi_decisions_total{result=\"deny\"} 1\n"));
	reply_free(&r);
	stop(f);
}

static void test_access_log_has_no_secrets(void **state)
{
	struct http_opts o = {0};
	struct fixture *f = start(&o);
	struct reply r;
	char log[8192] = "";
	json_t *line;

	(void)state;
	request(f->port, "GET", "/t/items/9?token=SECRETQUERY",
		"Authorization: Bearer officer\r\nCookie: sid=SECRETCOOKIE\r\n", NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	http_server_stop(f->srv, 1000); /* the line is written when the request completes */
	f->srv = NULL;
	assert_true(pread(f->logfd, log, sizeof log - 1, 0) > 0);
	assert_null(strstr(log, "SECRET"));
	assert_null(strstr(log, "Bearer"));
	assert_null(strstr(log, "token"));
	line = json_loads(log, JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(line);
	assert_string_equal(jstr(line, "path"), "/t/items/9");
	assert_string_equal(jstr(line, "route"), "/t/items/{id}");
	assert_string_equal(jstr(line, "method"), "GET");
	assert_string_equal(jstr(line, "client"), "127.0.0.1");
	assert_string_equal(jstr(line, "actor"), "tester");
	assert_int_equal(json_integer_value(json_object_get(line, "status")), 200);
	assert_true(json_integer_value(json_object_get(line, "bytes")) > 0);
	assert_true(json_is_integer(json_object_get(line, "duration_us")));
	assert_int_equal(strlen(jstr(line, "id")), 18);
	json_decref(line);
	stop(f);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_slow_clients_do_not_stall(void **state)
{
	struct http_opts o = {0};
	struct fixture *f = start(&o);
	const char *half = "POST /t/len HTTP/1.1\r\nHost: t\r\nContent-Le";
	int fds[200];
	struct reply r;
	double t0;

	(void)state;
	for (int i = 0; i < 200; i++) {
		fds[i] = dial(f->port);
		assert_true(fds[i] >= 0);
		send_all(fds[i], half, strlen(half));
	}
	t0 = now_s();
	request(f->port, "GET", "/t/hello", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(now_s() - t0 < 1.0);
	reply_free(&r);
	for (int i = 0; i < 200; i++)
		close(fds[i]);
	stop(f);
}

static void test_connection_timeout_and_per_ip_limit(void **state)
{
	struct http_opts o = {.per_ip_limit = 3, .timeout_s = 1};
	struct fixture *f = start(&o);
	int fds[3];
	struct reply r;
	char c;

	(void)state;
	for (int i = 0; i < 3; i++)
		fds[i] = dial(f->port);
	/* A fourth connection from the same address is closed unanswered. */
	request(f->port, "GET", "/t/hello", NULL, NULL, &r);
	assert_int_equal(r.status, 0);
	reply_free(&r);
	/* Idle connections are closed after the timeout, freeing the slots. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(recv(fds[i], &c, 1, 0), 0);
		close(fds[i]);
	}
	/* (the server frees the slot just after closing the socket) */
	for (int tries = 0; tries < 50; tries++) {
		request(f->port, "GET", "/t/hello", NULL, NULL, &r);
		reply_free(&r);
		if (r.status == 200)
			break;
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	assert_int_equal(r.status, 200);
	stop(f);
}

struct writer {
	uint16_t port;
	int status;
};

static void *write_once(void *arg)
{
	struct writer *w = arg;
	struct reply r;
	const char *q = "POST /t/slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
			"Content-Length: 2\r\n\r\n{}";

	roundtrip(w->port, q, strlen(q), &r);
	w->status = r.status;
	reply_free(&r);
	return NULL;
}

/* Starts n clients running `client` at once (writes counted anew). */
static void burst(const struct fixture *f, void *(*client)(void *), struct writer *w,
		  pthread_t *th, int n)
{
	atomic_store(&writes, 0);
	for (int i = 0; i < n; i++) {
		w[i] = (struct writer){f->port, 0};
		pthread_create(&th[i], NULL, client, &w[i]);
	}
}

/* Joins the n clients: each was answered 201 (done) or `undone` (503
 * refused, or 0 never accepted: nothing done either way), and only the
 * acknowledged ones wrote.  Returns how many were acknowledged. */
static int join_clients(struct writer *w, pthread_t *th, int n, int undone)
{
	int acked = 0;

	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		assert_true(w[i].status == 201 || w[i].status == undone);
		acked += w[i].status == 201;
	}
	assert_int_equal(atomic_load(&writes), acked);
	return acked;
}

static unsigned stop_left;

static void *stop_async(void *arg)
{
	struct fixture *f = arg;

	stop_left = http_server_stop(f->srv, 5000);
	return NULL;
}

static void *stop_async_1s(void *arg)
{
	struct fixture *f = arg;

	stop_left = http_server_stop(f->srv, 1000);
	return NULL;
}

/* SIGTERM under load: every request in flight when the stop begins is
 * answered, and no write happens without its answer reaching the client.
 * Requests the server never accepted get no answer (status 0): the client
 * knows they were not done. */
static void test_graceful_stop(void **state)
{
	struct http_opts o = {.threads = 8};
	struct fixture *f = start(&o);
	struct writer w[8];
	pthread_t th[8];
	struct timespec t = {0, 2 * 1000 * 1000};
	unsigned at_stop;
	pthread_t stopper;
	struct reply r;

	(void)state;
	burst(f, write_once, w, th, 8);
	for (int i = 0; i < 1000 && http_server_inflight(f->srv) < 1; i++)
		nanosleep(&t, NULL);
	at_stop = http_server_inflight(f->srv);
	assert_true(at_stop >= 1);
	assert_int_equal(atomic_load(&writes), 0);
	pthread_create(&stopper, NULL, stop_async, f);
	nanosleep(&(struct timespec){0, 30 * 1000 * 1000}, NULL);
	/* While draining, a new connection is closed unanswered. */
	request(f->port, "GET", "/t/hello", NULL, NULL, &r);
	assert_int_equal(r.status, 0);
	reply_free(&r);
	pthread_join(stopper, NULL);
	assert_int_equal(stop_left, 0);
	f->srv = NULL;
	assert_true(join_clients(w, th, 8, 0) >= (int)at_stop);
	/* No longer listening. */
	assert_int_equal(dial(f->port), -1);
	stop(f);
}

static void *offload_once(void *arg)
{
	struct writer *w = arg;
	struct reply r;
	const char *q = "POST /t/offload HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
			"Content-Length: 2\r\n\r\n{}";

	roundtrip(w->port, q, strlen(q), &r);
	w->status = r.status;
	reply_free(&r);
	return NULL;
}

/* SIGTERM with a queue of logins: the drain bounds the stop.  What is
 * still queued when it ends is refused (503, nothing done) instead of
 * hashed one by one past the deadline; every client gets an answer and
 * none of them is a write that was not acknowledged. */
static void test_stop_with_a_full_offload_queue(void **state)
{
	struct http_opts o = {.offload_threads = 1};
	struct fixture *f = start(&o);
	struct writer w[10];
	pthread_t th[10];
	struct timespec t = {0, 2 * 1000 * 1000};
	double t0;

	(void)state;
	burst(f, offload_once, w, th, 10);
	for (int i = 0; i < 1000 && http_server_inflight(f->srv) < 10; i++)
		nanosleep(&t, NULL);
	assert_int_equal(http_server_inflight(f->srv), 10);
	t0 = now_s();
	http_server_stop(f->srv, 200);
	f->srv = NULL;
	/* 200 ms of drain and the one handler running, not 10 x 300 ms */
	assert_true(now_s() - t0 < 1.5);
	assert_true(join_clients(w, th, 10, 503) < 10);
	stop(f);
}

/* More offloaded requests than the queue holds: the surplus is answered
 * 503 at once (nothing done), not held suspended, which would keep its
 * connection past the idle timeout; every client gets an answer. */
static void test_offload_queue_is_bounded(void **state)
{
	struct http_opts o = {.offload_threads = 1, .offload_queue = 2};
	struct fixture *f = start(&o);
	struct writer w[8];
	pthread_t th[8];
	int busy;

	(void)state;
	burst(f, offload_once, w, th, 8);
	busy = 8 - join_clients(w, th, 8, 503);
	assert_true(busy > 0);
	assert_true(busy < 8);
	stop(f);
}

/* A client of the work lane: a write (POST /t/wait) or, with scan, a
 * report (GET /t/scan); status 0 until answered (-1: no answer). */
struct lane_client {
	uint16_t port;
	bool scan;
	atomic_int status;
	bool busy;                   /* a 503 "busy" with Retry-After: 1 */
};

static void *lane_write(void *arg)
{
	struct lane_client *lc = arg;
	struct reply r;
	const char *type;

	request(lc->port, lc->scan ? "GET" : "POST", lc->scan ? "/t/scan" : "/t/wait", NULL,
		lc->scan ? NULL : "{}", &r);
	type = json_string_value(json_object_get(r.json, "type"));
	lc->busy = r.status == 503 && has_header(&r, "Retry-After: 1") && type != NULL &&
		   strstr(type, "busy") != NULL;
	atomic_store(&lc->status, r.status ? r.status : -1);
	reply_free(&r);
	return NULL;
}

/* Waits (up to 5 s) until n handlers are inside the gate; returns how many. */
static int gate_wait(int n)
{
	struct timespec until;
	int got;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&gate_mu);
	while (gate_inside < n && pthread_cond_timedwait(&gate_cv, &gate_mu, &until) == 0)
		;
	got = gate_inside;
	pthread_mutex_unlock(&gate_mu);
	return got;
}

static void gate_set(bool open)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

/* Reports that scan the organisation (ROUTE_SLOW) and writes waiting for
 * the database's write lock (every write not ROUTE_INLINE) hold their
 * thread for seconds.  Twice as many of them as there are workers all
 * run at once, on the work lane, while a read and an inline write (a
 * decision) are still answered by the workers; each is answered when the
 * gate opens. */
static void test_slow_routes_leave_the_workers_free(void **state)
{
	struct http_opts o = {.threads = 2, .work_threads = 4};
	struct fixture *f = start(&o);
	struct lane_client lc[4];
	pthread_t th[4];
	struct reply r;

	(void)state;
	gate_set(false);
	for (int i = 0; i < 4; i++) {
		lc[i] = (struct lane_client){.port = f->port, .scan = i % 2 == 0};
		pthread_create(&th[i], NULL, lane_write, &lc[i]);
	}
	assert_int_equal(gate_wait(4), 4);
	request(f->port, "GET", "/t/hello", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	request(f->port, "POST", "/t/decide", NULL, "{}", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_int_equal(gate_wait(4), 4); /* nobody left the gate meanwhile */
	gate_set(true);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(atomic_load(&lc[i].status), 201);
	}
	stop(f);
}

/* A write that waits on the work lane; status is 0 until it is answered. */
/* Waits up to secs for clients 1..n-1 (the queued ones) to be answered. */
static bool queued_answered(struct lane_client *lc, int n, double secs)
{
	double until = now_s() + secs;
	bool all;

	do {
		all = true;
		for (int i = 1; i < n; i++)
			all = all && atomic_load(&lc[i].status) != 0;
		if (!all)
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	} while (!all && now_s() < until);
	return all;
}

/* SIGTERM while writes queue on the work lane behind one held by the
 * write lock (the gate): the queued ones are refused (503, nothing done)
 * within the drain, while the held one still runs, instead of waiting
 * for its thread to come free; the held one is done and acknowledged, and
 * the stop keeps within its drain. */
static void test_stop_refuses_the_work_queue_within_the_drain(void **state)
{
	struct http_opts o = {.work_threads = 1};
	struct fixture *f = start(&o);
	struct lane_client lc[4];
	pthread_t th[4], stopper;
	struct timespec t = {0, 2 * 1000 * 1000};
	bool answered;
	double t0;

	(void)state;
	gate_set(false);
	atomic_store(&writes, 0);
	for (int i = 0; i < 4; i++) {
		lc[i] = (struct lane_client){.port = f->port};
		pthread_create(&th[i], NULL, lane_write, &lc[i]);
		if (i == 0)
			assert_int_equal(gate_wait(1), 1);
	}
	for (int i = 0; i < 1000 && http_server_inflight(f->srv) < 4; i++)
		nanosleep(&t, NULL);
	assert_int_equal(http_server_inflight(f->srv), 4);
	t0 = now_s();
	pthread_create(&stopper, NULL, stop_async_1s, f);
	answered = queued_answered(lc, 4, 2.5);
	gate_set(true);
	pthread_join(stopper, NULL);
	f->srv = NULL;
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_true(answered);
	assert_true(now_s() - t0 < 1.5);
	assert_int_equal(atomic_load(&lc[0].status), 201);
	for (int i = 1; i < 4; i++)
		assert_int_equal(atomic_load(&lc[i].status), 503);
	assert_int_equal(atomic_load(&writes), 1);
	stop(f);
}

/* More writes than the work lane runs and queues (one thread, a queue of
 * two) while its handler is held: the surplus is answered 503 busy with
 * Retry-After at once, before the held one ends, and nothing is done for
 * it; the rest are done when the gate opens; the server then takes writes
 * again; the refusals count under their route in /metrics. */
static void test_work_queue_is_bounded(void **state)
{
	struct http_opts o = {.work_threads = 1, .work_queue = 2};
	struct fixture *f = start(&o);
	struct lane_client lc[8];
	pthread_t th[8];
	struct timespec t = {0, 2 * 1000 * 1000};
	struct reply r;
	int busy = 0, done = 0, answered = 0;

	(void)state;
	gate_set(false);
	atomic_store(&writes, 0);
	for (int i = 0; i < 8; i++) {
		lc[i] = (struct lane_client){.port = f->port};
		pthread_create(&th[i], NULL, lane_write, &lc[i]);
		if (i == 0) /* the first runs, so exactly two can wait */
			assert_int_equal(gate_wait(1), 1);
	}
	for (int i = 0; i < 2500 && answered < 5; i++) {
		answered = 0;
		for (int j = 0; j < 8; j++)
			answered += atomic_load(&lc[j].status) != 0;
		nanosleep(&t, NULL);
	}
	assert_int_equal(answered, 5);     /* while the gate is still closed */
	assert_int_equal(atomic_load(&writes), 0);
	/* the two waiting show in /metrics (a GET: the workers answer it) */
	request(f->port, "GET", "/metrics", "Authorization: Bearer sysadmin\r\n", NULL, &r);
	assert_non_null(strstr(r.body, "baomi_http_lane_waiting{lane=\"work\"} 2\n"));
	assert_non_null(strstr(r.body, "baomi_http_lane_waiting{lane=\"password\"} 0\n"));
	reply_free(&r);
	gate_set(true);
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		busy += lc[i].busy;
		done += atomic_load(&lc[i].status) == 201;
	}
	assert_int_equal(busy, 5);
	assert_int_equal(done, 3);
	assert_int_equal(atomic_load(&writes), 3);
	request(f->port, "POST", "/t/wait", NULL, "{}", &r);
	assert_int_equal(r.status, 201);
	reply_free(&r);
	request(f->port, "GET", "/metrics", "Authorization: Bearer sysadmin\r\n", NULL, &r);
	assert_non_null(strstr(r.body, "baomi_http_requests_total{route=\"POST /t/wait\","
				       "code=\"503\"} 5\n"));
	assert_non_null(strstr(r.body, "baomi_http_lane_waiting{lane=\"work\"} 0\n"));
	reply_free(&r);
	stop(f);
}

/* An offloaded request on a keep-alive connection, pipelined between two
 * others: each gets its own answer, in order, on the same connection. */
static void test_offload_keepalive_pipelined(void **state)
{
	struct fixture *f = start(&(struct http_opts){0});
	const char *q = "POST /t/offload HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"
			"GET /t/hello HTTP/1.1\r\nHost: t\r\n\r\n"
			"POST /t/offload HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"
			"GET /t/hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	struct reply r;
	const char *p;
	int n = 0;

	(void)state;
	roundtrip(f->port, q, strlen(q), &r);
	for (p = buf_cstr(&r.raw); (p = strstr(p, "HTTP/1.1 ")) != NULL; p += 9, n++)
		assert_true(strncmp(p + 9, n % 2 ? "200" : "201", 3) == 0);
	assert_int_equal(n, 4);
	reply_free(&r);
	stop(f);
}

/* Writes, a decision (inline) and a report with its HEAD, pipelined on
 * one keep-alive connection: each answered, in order, on the connection,
 * whichever thread ran it. */
static void test_work_lane_keepalive_pipelined(void **state)
{
	struct fixture *f = start(&(struct http_opts){0});
	const char *q = "POST /t/wait HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"
			"POST /t/decide HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"
			"GET /t/scan HTTP/1.1\r\nHost: t\r\n\r\n"
			"HEAD /t/scan HTTP/1.1\r\nHost: t\r\n\r\n"
			"POST /t/wait HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n"
			"Connection: close\r\n\r\n{}";
	const char *want[] = {"201", "200", "201", "201", "201"};
	struct reply r;
	const char *p;
	int n = 0;

	(void)state;
	gate_set(true);
	atomic_store(&writes, 0);
	roundtrip(f->port, q, strlen(q), &r);
	for (p = buf_cstr(&r.raw); (p = strstr(p, "HTTP/1.1 ")) != NULL && n < 5; p += 9, n++)
		assert_memory_equal(p + 9, want[n], 3);
	assert_int_equal(n, 5);
	assert_int_equal(atomic_load(&writes), 4);
	/* the HEAD's answer has no body: the last answer follows its headers */
	assert_non_null(strstr(buf_cstr(&r.raw), "\r\n\r\nHTTP/1.1 201"));
	reply_free(&r);
	stop(f);
}

/* Sends a write and hangs up without reading the answer. */
static void write_and_leave(uint16_t port)
{
	const char *q = "POST /t/wait HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}";
	int fd = dial(port);

	assert_true(fd >= 0);
	send_all(fd, q, strlen(q));
	close(fd);
}

/* Clients that hang up while their write waits on the work lane: the lane
 * later runs them (or, stopping, refuses them) and resumes connections
 * whose peer has gone; nothing may touch a freed connection (run under
 * ASan and TSan), nothing stays in flight, and the server goes on. */
static void test_work_lane_clients_that_leave(void **state)
{
	struct fixture *f = start(&(struct http_opts){.work_threads = 1});
	struct lane_client lc = {.port = f->port};
	struct timespec t = {0, 2 * 1000 * 1000};
	pthread_t th, stopper;
	struct reply r;

	(void)state;
	for (int round = 0; round < 2; round++) {
		gate_set(false);
		atomic_store(&lc.status, 0);
		pthread_create(&th, NULL, lane_write, &lc);
		assert_int_equal(gate_wait(1), 1);
		for (int i = 0; i < 3; i++)
			write_and_leave(f->port);
		for (int i = 0; i < 1000 && http_server_inflight(f->srv) < 4; i++)
			nanosleep(&t, NULL);
		assert_int_equal(http_server_inflight(f->srv), 4);
		if (round == 1) /* the stop refuses the three while one runs */
			pthread_create(&stopper, NULL, stop_async_1s, f);
		nanosleep(&(struct timespec){0, 700 * 1000 * 1000}, NULL);
		gate_set(true);
		pthread_join(th, NULL);
		assert_int_equal(atomic_load(&lc.status), 201);
		if (round == 1)
			break;
		for (int i = 0; i < 1000 && http_server_inflight(f->srv) > 0; i++)
			nanosleep(&t, NULL);
		assert_int_equal(http_server_inflight(f->srv), 0);
		request(f->port, "GET", "/t/hello", NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		reply_free(&r);
	}
	pthread_join(stopper, NULL);
	assert_int_equal(stop_left, 0);
	f->srv = NULL;
	stop(f);
}

static void test_start_errors(void **state)
{
	struct http_opts o = {.addr = "not-an-address"};
	struct http_server *s;
	struct bm_err e = BM_ERR_INIT;
	struct router *rt = router_new();
	struct fixture *f;

	(void)state;
	o.router = rt;
	assert_int_equal(http_server_start(&o, &s, &e), BM_EUSAGE);
	assert_string_equal(e.field, "listen");
	router_free(rt);
	/* A port in use. */
	f = start(&(struct http_opts){0});
	rt = router_new();
	o = (struct http_opts){.port = f->port, .router = rt};
	assert_int_equal(http_server_start(&o, &s, &e), BM_EIO);
	router_free(rt);
	stop(f);
}

static int h_dummy(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	(void)r;
	(void)w;
	(void)e;
	return 0;
}

static void test_router_patterns(void **state)
{
	struct router *rt = router_new();
	struct bm_err e = BM_ERR_INIT;
	struct router_match *m = malloc(sizeof *m);
	const struct http_route bad[] = {
		{"GET", "no-slash", h_dummy, PERM_UNIT_READ, 0, NULL},
		{"GET", "/a//b", h_dummy, PERM_UNIT_READ, 0, NULL},
		{"GET", "/a/{}", h_dummy, PERM_UNIT_READ, 0, NULL},
		{"GET", "/a/{Bad}", h_dummy, PERM_UNIT_READ, 0, NULL},
		{"GET", "/a/{x", h_dummy, PERM_UNIT_READ, 0, NULL},
		{"GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", h_dummy, PERM_UNIT_READ, 0, NULL},
	};
	const struct http_route ok = {"GET", "/v1/units/{unit}/posts/{post}", h_dummy,
				      PERM_POST_READ, 0, " limit  cursor "};
	const struct http_route badq[] = {
		{"GET", "/q1", h_dummy, PERM_UNIT_READ, 0, "limit limit"},
		{"GET", "/q2", h_dummy, PERM_UNIT_READ, 0, "Limit"},
		{"GET", "/q3", h_dummy, PERM_UNIT_READ, 0, "a,b"},
		{"GET", "/q4", h_dummy, PERM_UNIT_READ, 0, "a b c d e f g h i j k l m n o p q"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(router_add(rt, &bad[i], &e), BM_EINVAL);
	for (size_t i = 0; i < sizeof badq / sizeof badq[0]; i++)
		assert_int_equal(router_add(rt, &badq[i], &e), BM_EINVAL);
	assert_int_equal(router_add(rt, &ok, &e), 0);
	assert_int_equal(router_query_index(&ok, "cursor", 6), 1);
	assert_int_equal(router_query_index(&ok, "limi", 4), -1);
	assert_int_equal(router_query_index(&ok, "", 0), -1);
	assert_int_equal(router_query_index(&bad[0], "limit", 5), -1);
	assert_int_equal(router_add(rt, &ok, &e), BM_EEXIST);
	assert_int_equal(router_match(rt, "GET", "/v1/units/u1/posts/p%202", m), ROUTER_OK);
	assert_string_equal(router_param(m, "unit"), "u1");
	assert_string_equal(router_param(m, "post"), "p 2");
	assert_null(router_param(m, "nope"));
	assert_int_equal(router_match(rt, "GET", "/v1/units/u1/posts", m), ROUTER_NOTFOUND);
	assert_int_equal(router_match(rt, "GET", "/v1/units//posts/p", m), ROUTER_NOTFOUND);
	assert_int_equal(router_match(rt, "POST", "/v1/units/u/posts/p", m), ROUTER_BADMETHOD);
	assert_string_equal(m->allow, "GET");
	assert_int_equal(router_match(rt, "GET", "", m), ROUTER_NOTFOUND);
	free(m);
	router_free(rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_router_patterns),
		cmocka_unit_test(test_hello_and_headers),
		cmocka_unit_test(test_404_405),
		cmocka_unit_test(test_path_params),
		cmocka_unit_test(test_query_strict),
		cmocka_unit_test(test_auth_and_permissions),
		cmocka_unit_test(test_body_cap_content_length),
		cmocka_unit_test(test_body_cap_chunked),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_field_spec),
		cmocka_unit_test(test_error_mapping),
		cmocka_unit_test(test_health_ready_metrics),
		cmocka_unit_test(test_metrics_count_every_api_status),
		cmocka_unit_test(test_access_log_has_no_secrets),
		cmocka_unit_test(test_slow_clients_do_not_stall),
		cmocka_unit_test(test_connection_timeout_and_per_ip_limit),
		cmocka_unit_test(test_graceful_stop),
		cmocka_unit_test(test_stop_with_a_full_offload_queue),
		cmocka_unit_test(test_slow_routes_leave_the_workers_free),
		cmocka_unit_test(test_stop_refuses_the_work_queue_within_the_drain),
		cmocka_unit_test(test_work_queue_is_bounded),
		cmocka_unit_test(test_work_lane_keepalive_pipelined),
		cmocka_unit_test(test_work_lane_clients_that_leave),
		cmocka_unit_test(test_offload_keepalive_pipelined),
		cmocka_unit_test(test_offload_queue_is_bounded),
		cmocka_unit_test(test_start_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
