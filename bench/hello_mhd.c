/*
 * hello_mhd.c - the reference for the HTTP benchmark: a bare libmicrohttpd
 * server answering {"hello":"world"} with the same threading options as
 * src/http/server.c (epoll thread pool, one thread per core, same limits).
 * Usage: hello_mhd [port]; runs until SIGTERM or SIGINT.
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char body[] = "{\"hello\":\"world\"}";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	static int seen;
	struct MHD_Response *r;
	enum MHD_Result ok;

	(void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
	/* The usual idiom: answer on the second call, once the request is
	 * complete; answering on the first makes the connection close. */
	if (*con_cls == NULL) {
		*con_cls = &seen;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(sizeof body - 1, (void *)(uintptr_t)body,
					    MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ok = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ok;
}

int main(int argc, char **argv)
{
	unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 8081;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC, (uint16_t)port,
			     NULL, NULL, on_request, NULL,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cores > 0 ? cores : 1),
			     MHD_OPTION_CONNECTION_LIMIT, 1024u,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, 256u,
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "hello_mhd: cannot listen on port %u\n", port);
		return 1;
	}
	printf("{\"server\":\"hello_mhd\",\"port\":%u}\n", port);
	fflush(stdout);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
