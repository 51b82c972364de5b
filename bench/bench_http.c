/*
 * bench_http.c - the framework side of the HTTP benchmark: src/http's
 * server with one authenticated JSON route, GET /v1/hello (Bearer token,
 * permission session.own), access log on as in production.
 * Usage: bench_http [port] [token]; runs until SIGTERM or SIGINT and then
 * stops gracefully.  Compare with bench/hello_mhd under the same wrk run.
 */
#include "http/server.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *token = "bench-token-0123456789abcdef";

static int auth(void *app, struct http_req *r, struct bm_err *e)
{
	const char *h = http_req_header(r, "Authorization");
	size_t n = strlen(token);

	(void)app;
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0 || strlen(h + 7) != n ||
	    sodium_memcmp(h + 7, token, n) != 0)
		return bm_errf(e, BM_EAUTH, NULL, "bad or missing token");
	snprintf(r->actor.name, sizeof r->actor.name, "bench");
	r->actor.roles = ROLE_OFFICER;
	return 0;
}

static int h_hello(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	(void)r;
	(void)e;
	http_resp_json(w, 200, json_pack("{s:s}", "hello", "world"));
	return 0;
}

int main(int argc, char **argv)
{
	const struct http_route routes[] = {
		{"GET", "/v1/hello", h_hello, PERM_SESSION_OWN, 0, NULL},
	};
	struct http_opts o = {.addr = "127.0.0.1", .auth = auth};
	struct bm_err e = BM_ERR_INIT;
	struct http_server *s;

	o.port = (uint16_t)(argc > 1 ? atoi(argv[1]) : 8082);
	if (argc > 2)
		token = argv[2];
	o.router = router_new();
	router_add_all(o.router, routes, 1, &e);
	http_signals_block();
	if (http_server_start(&o, &s, &e) < 0) {
		fprintf(stderr, "bench_http: %s\n", e.msg);
		return 1;
	}
	printf("{\"server\":\"bench_http\",\"port\":%u}\n", http_server_port(s));
	fflush(stdout);
	http_signals_wait();
	http_server_stop(s, 10000);
	router_free(o.router);
	return 0;
}
