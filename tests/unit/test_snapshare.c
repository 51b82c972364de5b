/*
 * test_snapshare.c - one decision snapshot shared by several service
 * contexts, as the server's threads use it: a committed write on one
 * context is in the next decision on another without any refresh, a policy
 * change re-evaluates everyone, a context with an older policy never puts
 * back an entry under it, writes by another process are found by
 * svc_snapshot_sync, and decisions stay consistent while writer threads
 * commit (run it under ASan and TSan too).
 */
#include "service/service.h"
#include "core/role.h"
#include "lib/clock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "svc_fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1767225600  /* 2026-01-01 */
#define NPERS 9        /* E1..E9, all active at secret */

static const struct actor rev1 = {.name = "rev1", .roles = ROLE_REVIEWER};

/* The fixture's context A, plus B attached to the same share. */
struct sx {
	struct fx *f;
	struct svc_snapshare *sh;
	struct svc *b;
};

static struct svc *open_ctx(struct sx *x, bool attach)
{
	struct svc_paths p = {x->f->db, NULL};
	struct svc *s;

	assert_int_equal(svc_open(&p, &s, &x->f->e), 0);
	if (attach)
		svc_snapshot_attach(s, x->sh);
	return s;
}

static void add_active(struct fx *f, const char *id)
{
	struct person_input pin = {id, "Name", "HQ", NULL, NULL};
	struct appt_input ain = {id, "P2", NULL, NULL};
	struct person_rec pr;
	struct appt_rec ar;
	json_t *v;
	int64_t rid;

	assert_int_equal(svc_person_add(f->s, &local, &pin, &pr, &f->e), 0);
	v = svc_review_open(f->s, &local, id, "secret", &f->e);
	assert_non_null(v);
	rid = json_integer_value(json_object_get(v, "id"));
	json_decref(v);
	for (int i = 1; i <= 6; i++)
		json_decref(svc_review_finding(f->s, &local, rid, i, "clear", NULL, 0, &f->e));
	v = svc_review_decide(f->s, &rev1, rid, true, "fine", 0, &f->e);
	assert_non_null(v);
	json_decref(v);
	assert_int_equal(svc_appt_add(f->s, &local, &ain, &ar, &f->e), 0);
	assert_int_equal(svc_person_activate(f->s, &local, id, &f->e), 0);
}

/* Persons are made before the share exists; A and B attach, B loads. */
static int setup(void **state)
{
	const struct post_input pi[] = {{"P2", "HQ", "secret", "ALPHA", "s"}};
	struct sx *x = calloc(1, sizeof *x);
	char id[16];

	x->f = fx_open(T0, pi, 1);
	for (int i = 1; i <= NPERS; i++) {
		snprintf(id, sizeof id, "E%d", i);
		add_active(x->f, id);
	}
	x->sh = svc_snapshare_new();
	assert_false(svc_snapshare_ready(x->sh));
	svc_snapshot_attach(x->f->s, x->sh);
	x->b = open_ctx(x, true);
	assert_int_equal(svc_snapshot_load(x->b, &x->f->e), 0);
	assert_true(svc_snapshare_ready(x->sh));
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct sx *x = *state;

	svc_close(x->b);
	svc_close(x->f->s);   /* before the share it borrows */
	x->f->s = NULL;
	svc_snapshare_free(x->sh);
	*state = x->f;
	fx_close(state);
	free(x);
	return 0;
}

/* Decides person at secret/ALPHA on s; *gen gets the "snapshot" number,
 * codes (may be NULL) the reason codes joined by ','.  NULL result: -1. */
static int decide(struct svc *s, const char *person, uint64_t *gen, char *codes, size_t cap)
{
	struct bm_err e = BM_ERR_INIT;
	json_t *r = json_pack("{s:s, s:s, s:{s:s, s:[s]}}", "person", person, "action", "read",
			      "object", "level", "secret", "compartments", "ALPHA");
	json_t *v = svc_decide(s, &local, r, T0 + 60, &e), *x;
	size_t i;
	int allow;

	json_decref(r);
	bm_err_clear(&e);
	if (v == NULL)
		return -1;
	allow = json_is_true(json_object_get(v, "allow"));
	if (gen)
		*gen = (uint64_t)json_integer_value(json_object_get(v, "snapshot"));
	if (codes) {
		codes[0] = '\0';
		json_array_foreach(json_object_get(v, "reasons"), i, x) {
			strncat(codes, json_string_value(json_object_get(x, "code")),
				cap - strlen(codes) - 2);
			strcat(codes, ",");
		}
	}
	json_decref(v);
	return allow;
}

/* The policy in force with key (secret) persons re-reviewed every `days`. */
static json_t *policy_with_key_rereview(struct svc *s, int days)
{
	struct bm_err e = BM_ERR_INIT;
	json_t *p = svc_policy_show(s, &local, &e);

	assert_non_null(p);
	json_object_del(p, "version");
	json_object_set_new(json_object_get(json_object_get(p, "categories"), "key"),
			    "rereview_days", json_integer(days));
	return p;
}

static void load_policy(struct svc *s, json_t *p, struct bm_err *e)
{
	char *txt = json_dumps(p, 0);
	int64_t v;

	assert_int_equal(svc_policy_load(s, &local, txt, strlen(txt), 0, &v, e), 0);
	free(txt);
}

/* ------------------------------------------------------------ the tests */

static void test_write_on_one_seen_by_other(void **state)
{
	struct sx *x = *state;
	uint64_t g0, g1, g2;
	char codes[128];

	assert_int_equal(decide(x->b, "E1", &g0, NULL, 0), 1);
	assert_int_equal(decide(x->f->s, "E1", &g1, NULL, 0), 1);
	assert_true(g0 == g1 && g0 > 0);
	/* A suspends; B's very next decision denies, with no refresh call. */
	assert_int_equal(svc_person_suspend(x->f->s, &local, "E1", "inquiry", &x->f->e), 0);
	assert_int_equal(decide(x->b, "E1", &g1, codes, sizeof codes), 0);
	assert_string_equal(codes, "suspended,");
	assert_true(g1 > g0);
	assert_int_equal(decide(x->b, "E2", NULL, NULL, 0), 1);
	/* A refused write changes neither the entry nor the number. */
	assert_int_equal(svc_person_suspend(x->f->s, &local, "E1", "again", &x->f->e), BM_ESTATE);
	assert_int_equal(decide(x->b, "E1", &g2, NULL, 0), 0);
	assert_true(g2 == g1);
	/* B reinstates; A sees it. */
	assert_int_equal(svc_person_reinstate(x->b, &local, "E1", "cleared", &x->f->e), 0);
	assert_int_equal(decide(x->f->s, "E1", &g2, NULL, 0), 1);
	assert_true(g2 > g1);
	/* A new person added on B is known on A at once. */
	add_active(x->f, "E10");
	assert_int_equal(decide(x->b, "E10", NULL, NULL, 0), 1);
	assert_int_equal(decide(x->b, "E11", NULL, codes, sizeof codes), 0);
	assert_string_equal(codes, "unknown_person,");
}

static void test_policy_change_reputs_everyone(void **state)
{
	struct sx *x = *state;
	json_t *brief = policy_with_key_rereview(x->f->s, 1);
	json_t *usual = policy_with_key_rereview(x->f->s, 3 * 365);
	struct person_patch rename = {"Renamed", NULL, 0};
	struct person_rec pr;
	uint64_t g0, g1;
	char id[16];

	clock_set(T0 + 2 * 86400);   /* approvals at T0: two days old */
	assert_int_equal(decide(x->b, "E1", &g0, NULL, 0), 1);
	/* A one-day re-review interval makes every key review due at once. */
	load_policy(x->f->s, brief, &x->f->e);
	for (int i = 1; i <= 4; i++) {
		snprintf(id, sizeof id, "E%d", i);
		assert_int_equal(decide(x->b, id, &g1, NULL, 0), 0);
	}
	assert_true(g1 > g0);
	/* B still holds the old policy; its flush reloads it before putting,
	 * so a write about E4 on B puts E4 under the new rules, not the old. */
	assert_int_equal(svc_person_update(x->b, &local, "E4", &rename, &pr, &x->f->e), 0);
	assert_int_equal(decide(x->f->s, "E4", NULL, NULL, 0), 0);
	/* Back to the usual interval, stored through B this time. */
	load_policy(x->b, usual, &x->f->e);
	for (int i = 1; i <= 4; i++) {
		snprintf(id, sizeof id, "E%d", i);
		assert_int_equal(decide(x->f->s, id, NULL, NULL, 0), 1);
	}
	assert_int_equal(decide(x->f->s, "E5", NULL, NULL, 0), 1);
	json_decref(brief);
	json_decref(usual);
}

static void test_other_process_writes_are_synced(void **state)
{
	struct sx *x = *state;
	struct svc *m = open_ctx(x, true);    /* the maintenance thread's */
	struct svc *c = open_ctx(x, false);   /* another process: its own snapshot */
	json_t *brief = policy_with_key_rereview(c, 1);
	struct svc_sync out = {.policy_changed = true};
	uint64_t g0, g1;

	assert_int_equal(svc_snapshot_sync(m, &out, &x->f->e), 0);
	assert_false(out.policy_changed || out.refreshed || out.recheck);
	/* In-process writes are known: syncing re-reads nothing. */
	assert_int_equal(svc_person_suspend(x->f->s, &local, "E2", "inquiry", &x->f->e), 0);
	assert_int_equal(decide(x->b, "E2", &g0, NULL, 0), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(svc_snapshot_sync(m, &out, &x->f->e), 0);
		assert_false(out.refreshed || out.recheck);
	}
	assert_int_equal(decide(x->b, "E2", &g1, NULL, 0), 0);
	assert_true(g1 == g0);
	/* The other process suspends E1: unseen until the second sync. */
	assert_int_equal(svc_person_suspend(c, &local, "E1", "elsewhere", &x->f->e), 0);
	assert_int_equal(decide(x->b, "E1", NULL, NULL, 0), 1);
	assert_int_equal(svc_snapshot_sync(m, &out, &x->f->e), 0);
	assert_true(out.recheck && !out.refreshed);
	assert_int_equal(svc_snapshot_sync(m, &out, &x->f->e), 0);
	assert_true(out.refreshed && !out.policy_changed);
	assert_int_equal(decide(x->b, "E1", &g1, NULL, 0), 0);
	assert_true(g1 > g0);
	/* Its policy change is reported, and applied to everyone: E3's review,
	 * two days old, falls due under a one-day interval. */
	clock_set(T0 + 2 * 86400);
	assert_int_equal(decide(x->b, "E3", NULL, NULL, 0), 1);
	load_policy(c, brief, &x->f->e);
	assert_int_equal(svc_snapshot_sync(m, &out, &x->f->e), 0);
	assert_int_equal(svc_snapshot_sync(m, &out, &x->f->e), 0);
	assert_true(out.policy_changed && out.refreshed);
	assert_int_equal(decide(x->b, "E3", NULL, NULL, 0), 0);
	assert_int_equal(decide(x->b, "E1", NULL, NULL, 0), 0);
	assert_int_equal(decide(x->b, "E2", NULL, NULL, 0), 0);
	json_decref(brief);
	svc_close(c);
	svc_close(m);
}

static void test_private_snapshot_unchanged(void **state)
{
	struct sx *x = *state;
	struct svc *c = open_ctx(x, false);
	uint64_t g0, g1;

	/* A context never attached decides from its own snapshot, which the
	 * shared one's writes do not reach until it is refreshed. */
	assert_int_equal(decide(c, "E3", &g0, NULL, 0), 1);
	assert_int_equal(svc_person_suspend(x->f->s, &local, "E3", "inquiry", &x->f->e), 0);
	assert_int_equal(decide(c, "E3", &g1, NULL, 0), 1);
	assert_true(g1 == g0);
	assert_int_equal(svc_snapshot_refresh(c, &x->f->e), 0);
	assert_int_equal(decide(c, "E3", &g1, NULL, 0), 0);
	assert_true(g1 > g0);
	/* Its own writes reach it at once. */
	assert_int_equal(svc_person_reinstate(c, &local, "E3", "ok", &x->f->e), 0);
	assert_int_equal(decide(c, "E3", NULL, NULL, 0), 1);
	svc_close(c);
}

/* ----------------------------------------------------------- concurrency */

#define NWRITERS 2
#define NREADERS 3
#define ROUNDS 30

struct conc {
	struct sx *x;
	atomic_int writers_left;
	atomic_int errors;         /* a decision or a write failed unexpectedly */
	atomic_int stale;          /* a write not in the next decision elsewhere */
	atomic_int backwards;      /* a reader's snapshot number went down */
	atomic_long decisions;
};

struct wargs {
	struct conc *c;
	int w;
};

/* Toggles its own persons (checking each write on a second context at
 * once) and the shared person E9 (racing the other writer). */
static void *writer(void *arg)
{
	struct wargs *wa = arg;
	struct conc *c = wa->c;
	struct svc *s = open_ctx(c->x, true), *chk = open_ctx(c->x, true);
	struct bm_err e = BM_ERR_INIT;
	char id[16];

	for (int r = 0; r < ROUNDS; r++) {
		int p = 1 + wa->w * 4 + r % 4, rc;
		bool susp = (r / 4) % 2 == 0;

		snprintf(id, sizeof id, "E%d", p);
		rc = susp ? svc_person_suspend(s, &local, id, "t", &e)
			  : svc_person_reinstate(s, &local, id, "t", &e);
		if (rc != 0)
			atomic_fetch_add(&c->errors, 1);
		else if (decide(chk, id, NULL, NULL, 0) != (susp ? 0 : 1))
			atomic_fetch_add(&c->stale, 1);
		rc = r % 2 ? svc_person_suspend(s, &local, "E9", "t", &e)
			   : svc_person_reinstate(s, &local, "E9", "t", &e);
		if (rc != 0 && rc != BM_ESTATE)
			atomic_fetch_add(&c->errors, 1);
	}
	bm_err_clear(&e);
	svc_close(chk);
	svc_close(s);
	atomic_fetch_sub(&c->writers_left, 1);
	return NULL;
}

static void *reader(void *arg)
{
	struct conc *c = arg;
	struct svc *s = open_ctx(c->x, true);
	uint64_t last = 0, g;
	char id[16];
	unsigned n = 0;

	while (atomic_load(&c->writers_left) > 0) {
		snprintf(id, sizeof id, "E%u", 1 + n++ % NPERS);
		if (decide(s, id, &g, NULL, 0) < 0)
			atomic_fetch_add(&c->errors, 1);
		else if (g < last)
			atomic_fetch_add(&c->backwards, 1);
		last = g;
		atomic_fetch_add(&c->decisions, 1);
	}
	svc_close(s);
	return NULL;
}

/* After everything: each entry equals the store's truth (a fresh context
 * with its own snapshot read after every commit). */
static void check_final(struct sx *x)
{
	struct svc *truth = open_ctx(x, false);
	char id[16];

	for (int i = 1; i <= NPERS; i++) {
		snprintf(id, sizeof id, "E%d", i);
		assert_int_equal(decide(x->b, id, NULL, NULL, 0), decide(truth, id, NULL, NULL, 0));
	}
	svc_close(truth);
}

static void test_concurrent_writers_and_readers(void **state)
{
	struct sx *x = *state;
	struct conc c = {.x = x};
	struct wargs wa[NWRITERS];
	pthread_t wt[NWRITERS], rt[NREADERS];

	atomic_init(&c.writers_left, NWRITERS);
	for (int i = 0; i < NREADERS; i++)
		assert_int_equal(pthread_create(&rt[i], NULL, reader, &c), 0);
	for (int i = 0; i < NWRITERS; i++) {
		wa[i] = (struct wargs){&c, i};
		assert_int_equal(pthread_create(&wt[i], NULL, writer, &wa[i]), 0);
	}
	for (int i = 0; i < NWRITERS; i++)
		pthread_join(wt[i], NULL);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(rt[i], NULL);
	assert_int_equal(atomic_load(&c.errors), 0);
	assert_int_equal(atomic_load(&c.stale), 0);
	assert_int_equal(atomic_load(&c.backwards), 0);
	assert_true(atomic_load(&c.decisions) > 0);
	check_final(x);
}

static void test_share_misuse_is_harmless(void **state)
{
	struct sx *x = *state;
	struct svc_snapshare *other = svc_snapshare_new();
	struct svc *c = open_ctx(x, false);
	struct svc_sync out;

	svc_snapshare_free(NULL);
	assert_false(svc_snapshare_ready(NULL));
	/* Attaching replaces a private snapshot; re-attaching is fine. */
	assert_int_equal(decide(c, "E1", NULL, NULL, 0), 1);
	svc_snapshot_attach(c, other);
	svc_snapshot_attach(c, other);
	assert_false(svc_snapshare_ready(other));
	/* The first sync loads it. */
	assert_int_equal(svc_snapshot_sync(c, &out, &x->f->e), 0);
	assert_true(svc_snapshare_ready(other));
	assert_int_equal(decide(c, "E1", NULL, NULL, 0), 1);
	/* A cancelled share refuses a re-read (shutdown), decisions go on. */
	svc_snapshare_cancel(other);
	assert_int_equal(svc_snapshot_refresh(c, &x->f->e), BM_EBUSY);
	assert_int_equal(decide(c, "E1", NULL, NULL, 0), 1);
	svc_close(c);
	svc_snapshare_free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_on_one_seen_by_other, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_change_reputs_everyone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_process_writes_are_synced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_private_snapshot_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers_and_readers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_share_misuse_is_harmless, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
