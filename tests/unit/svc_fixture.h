/*
 * svc_fixture.h - a fresh database in a temporary directory with unit HQ
 * and the caller's posts, shared by the service-level tests (clearance,
 * decisions, persons, snapshare).  Header-only: each test binary includes
 * it once.
 */
#ifndef BM_SVC_FIXTURE_H
#define BM_SVC_FIXTURE_H

#include "service/service.h"
#include "lib/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fx {
	char dir[64], db[128];
	struct svc *s;
	struct bm_err e;
};

static const struct actor local = {.name = "cli:officer", .roles = ACTOR_LOCAL};

/* Creates the database at clock t0 with unit HQ and posts[0..n). */
static struct fx *fx_open(int64_t t0, const struct post_input *posts, size_t n)
{
	struct fx *f = calloc(1, sizeof *f);
	const struct unit_input ui = {"HQ", "HQ", NULL};
	struct svc_paths p;
	struct unit_rec u;
	struct post_rec po;

	clock_set(t0);
	strcpy(f->dir, "/tmp/bm_fx_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/t.db", f->dir);
	p = (struct svc_paths){f->db, NULL};
	assert_int_equal(svc_init(&p, "cn", &local, &f->e), 0);
	assert_int_equal(svc_open(&p, &f->s, &f->e), 0);
	assert_int_equal(svc_unit_add(f->s, &local, &ui, &u, &f->e), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(svc_post_add(f->s, &local, &posts[i], &po, &f->e), 0);
	return f;
}

/* Closes the service and removes the directory; restores the real clock. */
static int fx_close(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	svc_close(f->s);
	bm_err_clear(&f->e);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	clock_set(0);
	return 0;
}

/* Opens a review of id at level and records all six items as clear;
 * returns its id.  Inline: not every test binary uses it. */
static inline int64_t fx_review_clear(struct fx *f, const char *id, const char *level)
{
	json_t *v = svc_review_open(f->s, &local, id, level, &f->e);
	int64_t rid;

	assert_non_null(v);
	rid = json_integer_value(json_object_get(v, "id"));
	json_decref(v);
	for (int i = 1; i <= 6; i++) {
		v = svc_review_finding(f->s, &local, rid, i, "clear", NULL, 0, &f->e);
		assert_non_null(v);
		json_decref(v);
	}
	return rid;
}

/* svc_reviews_open_due's list of what it opened (NULL on an error); the
 * count it gives must be the list's length. */
static inline json_t *fx_open_due(struct svc *s, const struct actor *a, int64_t now,
				  struct bm_err *e)
{
	json_t *v = json_array();
	int64_t n = -1;

	if (svc_reviews_open_due(s, a, now, v, &n, e) != 0) {
		assert_int_equal(n, 0);
		json_decref(v);
		return NULL;
	}
	assert_int_equal(n, (int64_t)json_array_size(v));
	return v;
}

#endif
