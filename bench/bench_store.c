/*
 * bench_store.c - throughput of the SQLite store on its two hot paths:
 * a bulk person import (one transaction, all indexes) and a full audit
 * scan (what `audit verify` does).  Prints one JSON line per measurement.
 *
 *   bench_store DIR [persons] [events]     (defaults 1000000 and 2000000)
 *
 * It creates DIR/bench.db (removed afterwards).  It must never be pointed at
 * a real database.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const struct store_ops *ops = &store_sqlite_ops;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

/* xorshift64*: fast, deterministic filler for ids and blobs. */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1du;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rnd();
		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* User + system CPU seconds: steadier than wall time on a shared box. */
static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long max_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void die(const char *what, const struct bm_err *e)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, e->msg);
	exit(1);
}

/* A random but unique external id: i permuted by an odd multiplier. */
static void make_person(struct person_rec *p, long i, int64_t unit)
{
	uint32_t x = (uint32_t)i * 2654435761u;

	snprintf(p->ext_id, sizeof p->ext_id, "E%010u", x);
	snprintf(p->name, sizeof p->name, "Person %ld 张三", i);
	p->id = 0;
	p->version = 0;
	p->unit_id = unit;
	p->level = (int)(i % 4);
	p->state = (int)(i % 9);
	p->national_id.len = 48;
	fill_random(p->national_id.ct, 48);
	fill_random(p->national_id.idx, 32);
	p->passport.len = 48;
	fill_random(p->passport.ct, 48);
	fill_random(p->passport.idx, 32);
}

static void bench_persons(struct store *s, long n)
{
	struct bm_err e = BM_ERR_INIT;
	struct unit_rec u = { .code = "ROOT", .name = "root" };
	struct person_rec p = { .created = 1700000000 };
	double t0, t, tl, c0;

	if (ops->unit_insert(s, &u, &e) != 0)
		die("unit", &e);
	ops->bulk_hint(s, true);
	t0 = now();
	c0 = cpu();
	if (ops->begin(s, &e) != 0)
		die("begin", &e);
	for (long i = 0; i < n; i++) {
		make_person(&p, i, u.id);
		if (ops->person_insert(s, &p, &e) != 0)
			die("person_insert", &e);
	}
	tl = now() - t0;
	if (ops->commit(s, &e) != 0)
		die("commit", &e);
	t = now() - t0;
	ops->bulk_hint(s, false);
	printf("{\"bench\":\"person_insert\",\"rows\":%ld,\"seconds\":%.3f,\"rows_per_s\":%.0f,"
	       "\"commit_seconds\":%.3f,\"cpu_seconds\":%.3f,\"max_rss_mib\":%.1f}\n", n, t,
	       (double)n / t, t - tl, cpu() - c0, (double)max_rss_kib() / 1024);
}

/* ~200-byte events, like the service writes. */
static void fill_events(struct store *s, long n)
{
	struct bm_err e = BM_ERR_INIT;
	char subj[64], fields[160];
	struct audit_rec r = { .subjects = subj, .fields = fields };

	if (ops->begin(s, &e) != 0)
		die("begin", &e);
	for (long i = 1; i <= n; i++) {
		r.seq = i;
		r.time_ms = 1700000000000 + i;
		snprintf(r.actor, sizeof r.actor, "secadmin%ld", i % 5);
		snprintf(r.action, sizeof r.action, "person.update");
		snprintf(subj, sizeof subj, "[\"E%010ld\"]", i % 100000);
		snprintf(fields, sizeof fields, "{\"level\":[1,2],\"name\":\"Person %ld\","
			 "\"state\":[\"active\",\"suspended\"]}", i);
		memcpy(r.prev, r.hash, 32);
		fill_random(r.hash, 32);
		if (ops->audit_insert(s, &r, &e) != 0)
			die("audit_insert", &e);
	}
	if (ops->commit(s, &e) != 0)
		die("commit", &e);
}

struct scan { long rows; size_t bytes; unsigned check; };

/* Touches every member, as a verifier would. */
static int scan_cb(void *ctx, const struct audit_rec *r)
{
	struct scan *sc = ctx;

	sc->rows++;
	sc->bytes += strlen(r->actor) + strlen(r->action) + strlen(r->subjects) +
		     strlen(r->fields) + 64 + 16;
	sc->check ^= r->hash[0] ^ r->prev[31];
	return 0;
}

static void bench_scan(struct store *s, long n)
{
	struct bm_err e = BM_ERR_INIT;
	struct scan sc = {0};
	double t0, t, c0;

	fill_events(s, n);
	ops->audit_scan(s, 1, 0, scan_cb, &sc, &e); /* warm the page cache */
	sc = (struct scan){0};
	t0 = now();
	c0 = cpu();
	if (ops->audit_scan(s, 1, 0, scan_cb, &sc, &e) != 0)
		die("audit_scan", &e);
	t = now() - t0;
	printf("{\"bench\":\"audit_scan\",\"rows\":%ld,\"seconds\":%.3f,\"rows_per_s\":%.0f,"
	       "\"cpu_seconds\":%.3f,\"avg_row_bytes\":%.0f}\n", sc.rows, t,
	       (double)sc.rows / t, cpu() - c0, (double)sc.bytes / (double)sc.rows);
}

int main(int argc, char **argv)
{
	struct bm_err e = BM_ERR_INIT;
	char path[4096];
	struct store *s;
	long persons = argc > 2 ? atol(argv[2]) : 1000000;
	long events = argc > 3 ? atol(argv[3]) : 2000000;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_store DIR [persons] [events]\n");
		return 2;
	}
	snprintf(path, sizeof path, "%s/bench.db", argv[1]);
	if (ops->open(path, STORE_CREATE, &s, &e) != 0)
		die("open", &e);
	if (persons > 0)
		bench_persons(s, persons);
	if (events > 0)
		bench_scan(s, events);
	ops->close(s);
	for (const char *sfx = ""; sfx != NULL; sfx = *sfx ? NULL : "-wal") {
		char p[4200];
		snprintf(p, sizeof p, "%s%s", path, sfx);
		unlink(p);
	}
	return 0;
}
