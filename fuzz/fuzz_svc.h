/*
 * fuzz_svc.h - the service fixture the service-level fuzz targets share:
 * a fresh database in a temporary directory, opened once at
 * LLVMFuzzerInitialize and removed at exit.  Each target is its own
 * program, so the state here is the target's own.  Setup must succeed: a
 * target over a half-made fixture finds nothing, so any failure aborts.
 */
#ifndef BM_FUZZ_SVC_H
#define BM_FUZZ_SVC_H

#include "service/service.h"
#include "lib/clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct actor local = {.name = "cli:officer", .roles = ACTOR_LOCAL};
static char fz_dir[64];
static const char *fz_name;
static struct svc *svc;

static void must(bool ok, const char *what, const struct bm_err *e)
{
	if (ok)
		return;
	fprintf(stderr, "%s setup: %s: %s\n", fz_name, what, e->msg);
	abort();
}

static void fz_cleanup(void)
{
	char cmd[128];

	if (svc != NULL)
		svc_close(svc);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: could not remove %s\n", fz_name, fz_dir);
}

/* Makes and opens the fixture's database (cn policy, clock at t0). */
static void fz_svc_open(const char *name, int64_t t0)
{
	struct bm_err e = BM_ERR_INIT;
	struct svc_paths p;
	char db[128];

	fz_name = name;
	clock_set(t0);
	strcpy(fz_dir, "/tmp/bm_fuzz_XXXXXX");
	must(mkdtemp(fz_dir) != NULL, "mkdtemp", &e);
	atexit(fz_cleanup);
	snprintf(db, sizeof db, "%s/t.db", fz_dir);
	p = (struct svc_paths){db, NULL};
	must(svc_init(&p, "cn", &local, &e) == 0, "init", &e);
	must(svc_open(&p, &svc, &e) == 0, "open", &e);
}

#endif
