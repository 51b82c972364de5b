/*
 * cmd_serve.c - `baomi serve [--listen ADDR:PORT]`: the HTTP API.
 *
 * Prints "listening on http://ADDR:PORT" once the socket is bound (port 0
 * asks for a free one, which tests use), then serves until SIGTERM or
 * SIGINT: the server stops accepting, answers what is in flight, stops the
 * maintenance thread, closes every database connection and the process
 * exits 0.  The maintenance thread loads the decision snapshot (readyz
 * answers 503 until then), picks up other processes' writes within about
 * a second and opens due re-reviews at start and every
 * --maintenance-interval seconds.  The OpenAPI document
 * is read from BAOMI_OPENAPI, or docs/openapi.json next to the build or
 * installed share directory.
 */
#include "cli.h"
#include "../http/handlers.h"
#include "../lib/num.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DRAIN_MS 10000
#define MAINT_MAX_S (366 * 86400)
#define SERVE_THREADS_MAX 64   /* the most threads serve starts; more is refused */

/* Splits "127.0.0.1:8080" or "[::1]:8080" into addr and port. */
static int parse_listen(const char *v, char *addr, size_t cap, uint16_t *port,
			struct bm_err *e)
{
	const char *colon = strrchr(v, ':');
	const char *a = v;
	size_t n;
	int64_t p;

	if (colon == NULL)
		return bm_errf(e, BM_EUSAGE, "listen", "--listen: ADDR:PORT expected");
	n = (size_t)(colon - v);
	if (v[0] == '[' && n >= 2 && v[n - 1] == ']') {
		a = v + 1;
		n -= 2;
	}
	if (n == 0 || n >= cap || !num_parse(colon + 1, 0, 65535, &p))
		return bm_errf(e, BM_EUSAGE, "listen", "--listen: ADDR:PORT expected");
	memcpy(addr, a, n);
	addr[n] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* The OpenAPI document: $BAOMI_OPENAPI, else ../docs/openapi.json relative
 * to the executable (the build tree), else the share directory. */
static const char *openapi_path(char *buf, size_t cap)
{
	static const char *const rel[] = {"/../docs/openapi.json",
					  "/../share/baomi/openapi.json"};
	char exe[PATH_MAX];
	ssize_t n;

	if (getenv("BAOMI_OPENAPI") != NULL)
		return getenv("BAOMI_OPENAPI");
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		snprintf(buf, cap, "%s%s", exe, rel[i]);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return NULL;
}

/* A thread count option: 0 (the default) to max, else refused naming it. */
static int threads_opt(const char *name, const char *v, int64_t max, const char *zero,
		       unsigned *out, struct bm_err *e)
{
	int64_t n;
	int rc = args_int(name, v, &n, e);

	if (rc == 0 && (n < 0 || n > max))
		rc = bm_errf(e, BM_EUSAGE, name, "--%s: 0 (%s) to %lld", name, zero, (long long)max);
	*out = rc ? 0 : (unsigned)n;
	return rc;
}

static int serve(struct cli *c, struct bm_err *e)
{
	const char *listen = "127.0.0.1:8080", *threads = "0", *work = "0", *interval = "3600";
	const struct opt o[] = {{"listen", &listen, NULL}, {"threads", &threads, NULL},
				{"work-threads", &work, NULL},
				{"maintenance-interval", &interval, NULL}, {0}};
	struct api_opts ao = {0};
	struct http_opts ho = {0};
	struct http_server *srv = NULL;
	struct api *api = NULL;
	char addr[64], path[PATH_MAX + 64];
	int rc, sig;

	if ((rc = args_parse(c, o, NULL, 0, 0, e)) ||
	    (rc = parse_listen(listen, addr, sizeof addr, &ho.port, e)) ||
	    (rc = threads_opt("threads", threads, SERVE_THREADS_MAX, "one per core", &ho.threads,
			      e)) ||
	    (rc = threads_opt("work-threads", work, HTTP_LANE_THREADS_MAX, "4", &ho.work_threads,
			      e)) ||
	    (rc = args_int("maintenance-interval", interval, &ao.maintenance_interval_s, e)))
		return rc;
	if (ao.maintenance_interval_s < 1 || ao.maintenance_interval_s > MAINT_MAX_S)
		return bm_errf(e, BM_EUSAGE, "maintenance-interval",
			       "--maintenance-interval: seconds from 1 to %d", MAINT_MAX_S);
	ao.paths = c->paths;
	ao.secure_cookie = getenv("BAOMI_SECURE_COOKIE") != NULL;
	ao.test_clock = getenv("BAOMI_TEST_CLOCK") && strcmp(getenv("BAOMI_TEST_CLOCK"), "1") == 0;
	ao.openapi_path = openapi_path(path, sizeof path);
	if ((rc = api_new(&ao, &api, e)))
		return rc;
	ho.addr = addr;
	api_server_opts(api, &ho);
	http_signals_block();
	if ((rc = http_server_start(&ho, &srv, e))) {
		api_free(api);
		return rc;
	}
	printf("listening on http://%s%s%s:%u\n", strchr(addr, ':') ? "[" : "", addr,
	       strchr(addr, ':') ? "]" : "", (unsigned)http_server_port(srv));
	fflush(stdout);
	sig = http_signals_wait();
	fprintf(stderr, "{\"event\":\"shutdown\",\"signal\":%d}\n", sig);
	http_server_stop(srv, DRAIN_MS);
	api_free(api);
	return 0;
}

const struct verb cmd_serve_verbs[] = {
	{"", "[--listen ADDR:PORT] [--threads N] [--work-threads N] "
	 "[--maintenance-interval SECONDS]",
	 "serve the HTTP API until SIGTERM/SIGINT (port 0 picks a free port); N threads "
	 "answer decisions, N more run writes and reports; open due re-reviews at start and "
	 "every SECONDS (3600)", serve},
	{0}};
