/*
 * bench_load.c - how long the service takes to build its decision
 * snapshot from the database at start (issue 4: 1,000,000 persons in
 * <= 5 s).
 *
 * Creates a database with `baomi init`'s service call, fills it with N
 * persons (default 1,000,000; a mix of levels, states, reviews,
 * appointments and suspensions) by raw SQL in one transaction -- fixture
 * generation only, which the service would take much longer to do row by
 * row -- then times svc_open + svc_snapshot_load and prints one JSON line.
 * Usage: bench_load [N] [DIR] [keep].  With "keep" the database and its key
 * file stay (their path is in the JSON line), for measuring a server on
 * it.  Must never be linked into baomi itself.
 */
#include "service/service.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOW 1767225600LL

static double secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(int rc, sqlite3 *db, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		fprintf(stderr, "bench_load: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	must(sqlite3_prepare_v2(db, sql, -1, &st, NULL), db, sql);
	return st;
}

static void step(sqlite3 *db, sqlite3_stmt *st)
{
	must(sqlite3_step(st), db, "insert");
	sqlite3_reset(st);
}

/* Persons E0000001..: 80 % on post, most with an approved review. */
static void fill(const char *path, long n)
{
	static const char *const comps[] = {"", "ALPHA", "ALPHA,BRAVO", "CRYPTO", "NET,ORBIT"};
	sqlite3 *db;
	sqlite3_stmt *per, *apt, *rev, *sus;
	char id[32];

	must(sqlite3_open(path, &db), db, "open");
	must(sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN;"
			  "INSERT INTO units(code,name,version,created,updated) VALUES('HQ','HQ',1,0,0);"
			  "INSERT INTO posts(code,unit_id,level,compartments,title,version,created,updated)"
			  " VALUES('P1',1,1,'','',1,0,0),('P2',1,2,'ALPHA','',1,0,0),"
			  "('P3',1,3,'ALPHA,BRAVO','',1,0,0);", NULL, NULL, NULL), db, "seed");
	per = prep(db, "INSERT INTO persons(id,ext_id,name,unit_id,state,level,compartments,"
		   "version,created,updated) VALUES($1,$2,'N',1,$3,$4,$5,1,0,0)");
	apt = prep(db, "INSERT INTO appointments(person_id,post_id,start_at,version,created) "
		   "VALUES($1,$2,0,1,0)");
	rev = prep(db, "INSERT INTO reviews(person_id,level,trigger,opened_by,opened_at,state,"
		   "decided_at,valid_until,reason,version) VALUES($1,$2,'initial','b',0,1,$3,$4,'',1)");
	sus = prep(db, "INSERT INTO suspensions(person_id,since,by,reason,version) "
		   "VALUES($1,$2,'b','',1)");
	srand(42);
	for (long i = 1; i <= n; i++) {
		int level = 1 + rand() % 3, on = rand() % 5 != 0;

		snprintf(id, sizeof id, "E%07ld", i);
		sqlite3_bind_int64(per, 1, i);
		sqlite3_bind_text(per, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_int(per, 3, on ? 3 : rand() % 3);
		sqlite3_bind_int(per, 4, on ? level : 0);
		sqlite3_bind_text(per, 5, on ? comps[rand() % 5] : "", -1, SQLITE_STATIC);
		step(db, per);
		if (on) {
			sqlite3_bind_int64(apt, 1, i);
			sqlite3_bind_int(apt, 2, level);
			step(db, apt);
		}
		if (on || rand() % 2) {
			long long decided = NOW - rand() % (400 * 86400);
			long long until = NOW + 86400LL * (rand() % 900) - 30 * 86400;

			/* a review valid until before it was decided is damage
			 * (clearance.c); the fixture holds none by accident */
			sqlite3_bind_int64(rev, 1, i);
			sqlite3_bind_int(rev, 2, level);
			sqlite3_bind_int64(rev, 3, decided);
			sqlite3_bind_int64(rev, 4, until < decided ? decided : until);
			step(db, rev);
		}
		if (rand() % 100 == 0) {
			sqlite3_bind_int64(sus, 1, i);
			sqlite3_bind_int64(sus, 2, NOW - 86400);
			step(db, sus);
		}
	}
	sqlite3_finalize(per);
	sqlite3_finalize(apt);
	sqlite3_finalize(rev);
	sqlite3_finalize(sus);
	must(sqlite3_exec(db, "COMMIT; ANALYZE;", NULL, NULL, NULL), db, "commit");
	sqlite3_close(db);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	int keep = argc > 3 && strcmp(argv[3], "keep") == 0;
	const struct actor a = {.name = "bench", .roles = ACTOR_LOCAL};
	struct bm_err e = BM_ERR_INIT;
	char db[512], key[520];
	struct svc *s;
	struct svc_paths p = {db, NULL};
	double t0, t1, t2;

	snprintf(db, sizeof db, "%s/bench_load_%d.db", dir, (int)getpid());
	snprintf(key, sizeof key, "%s.key", db);
	if (svc_init(&p, "cn", &a, &e)) {
		fprintf(stderr, "bench_load: %s\n", e.msg);
		return 1;
	}
	fill(db, n);
	t0 = secs();
	if (svc_open(&p, &s, &e)) {
		fprintf(stderr, "bench_load: %s\n", e.msg);
		return 1;
	}
	t1 = secs();
	if (svc_snapshot_load(s, &e)) {
		fprintf(stderr, "bench_load: %s\n", e.msg);
		return 1;
	}
	t2 = secs();
	printf("{\"bench\":\"snapshot_load\",\"persons\":%ld,\"open_s\":%.3f,\"load_s\":%.3f,"
	       "\"persons_per_s\":%.0f,\"db\":\"%s\"}\n", n, t1 - t0, t2 - t1,
	       (double)n / (t2 - t1), keep ? db : "");
	svc_close(s);
	if (!keep) {
		unlink(db);
		unlink(key);
	}
	bm_err_clear(&e);
	return 0;
}
