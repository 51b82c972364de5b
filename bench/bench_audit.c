/*
 * bench_audit.c - fills a database with N audit events through the service's
 * own append (one transaction), then times svc_audit_verify against a bare
 * store scan of the same rows.  Prints JSON lines.
 */
#include "service/svc_internal.h"
#include "lib/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fill(struct svc *s, long n, struct bm_err *e)
{
	struct actor a = {.name = "bench", .roles = ACTOR_LOCAL};
	char id[32];
	int rc;

	if ((rc = svc__begin(s, e)))
		return rc;
	for (long i = 0; i < n && rc == 0; i++) {
		snprintf(id, sizeof id, "E%07ld", i);
		rc = svc__audit1(s, &a, "person.add", id,
				 json_pack("{s:s, s:s, s:s, s:b, s:b}", "id", id, "name",
					   "王伟 Wang Wei", "unit", "HQ-R", "national_id_set", 1,
					   "passport_set", 0), e);
	}
	return rc ? (svc__rollback(s), rc) : svc__commit(s, e);
}

static int count_row(void *ctx, const struct audit_rec *r)
{
	(void)r;
	++*(long *)ctx;
	return 0;
}

int main(int argc, char **argv)
{
	struct svc_paths p = {argc > 1 ? argv[1] : "bench.db", NULL};
	long n = argc > 2 ? atol(argv[2]) : 1000000, rows = 0;
	struct bm_err e = BM_ERR_INIT;
	struct audit_verdict v;
	struct actor a = {.name = "bench", .roles = ACTOR_LOCAL};
	struct svc *s;
	double t0, t1, t2;

	if (svc_open(&p, &s, &e) || fill(s, n, &e)) {
		fprintf(stderr, "bench_audit: %s\n", e.msg);
		return 1;
	}
	t0 = now();
	ST(s)->audit_scan(s->st, 1, 0, count_row, &rows, &e);
	t1 = now();
	if (svc_audit_verify(s, &a, &v, &e) || v.fault) {
		fprintf(stderr, "bench_audit: verify failed: %s\n", e.msg);
		return 1;
	}
	t2 = now();
	printf("{\"bench\":\"ref_store_scan\",\"items\":%ld,\"seconds\":%.3f,\"per_s\":%.0f}\n",
	       rows, t1 - t0, (double)rows / (t1 - t0));
	printf("{\"bench\":\"audit_verify\",\"items\":%lld,\"seconds\":%.3f,\"per_s\":%.0f}\n",
	       (long long)v.count, t2 - t1, (double)v.count / (t2 - t1));
	svc_close(s);
	return 0;
}
