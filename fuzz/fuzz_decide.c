/*
 * fuzz_decide.c - differential libFuzzer target for the batch decision
 * endpoint's two readers.  The fast reader (svc_decide_batch_fast) decides
 * a `{"requests": [...]}` body straight from its bytes; the general path
 * is the HTTP layer's strict JSON parse followed by svc_decide_batch_text.
 * For any bytes the fast reader either declines, having written and
 * counted nothing, or answers exactly what the general path answers, byte
 * for byte and count for count.  Every element the general path answers
 * is also decided alone with svc_decide, which must agree with it.  Any
 * difference calls abort().
 *
 * The service runs over a temporary database holding persons in different
 * states, levels and compartments (made once, in LLVMFuzzerInitialize, and
 * removed at exit).  The target must never write to the database per
 * input: the snapshot generation is part of every answer.
 */
#include "fuzz_svc.h"
#include "lib/buf.h"
#include "core/role.h"
#include "lib/clock.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1767225600  /* 2026-01-01 */
#define DAY 86400

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const struct actor rev1 = {.name = "rev1", .roles = ROLE_REVIEWER};
static const struct actor rev2 = {.name = "rev2", .roles = ROLE_REVIEWER};


static void add_person(const char *id, struct bm_err *e)
{
	struct person_input in = {id, "Name", "HQ", NULL, NULL};
	struct person_rec r;

	must(svc_person_add(svc, &local, &in, &r, e) == 0, "person", e);
}

/* Opens a review of id at level with every item clear; returns its id. */
static int64_t review_clear(const char *id, const char *level, struct bm_err *e)
{
	json_t *v = svc_review_open(svc, &local, id, level, e);
	int64_t rid;

	must(v != NULL, "review open", e);
	rid = json_integer_value(json_object_get(v, "id"));
	json_decref(v);
	for (int i = 1; i <= 6; i++) {
		v = svc_review_finding(svc, &local, rid, i, "clear", NULL, 0, e);
		must(v != NULL, "finding", e);
		json_decref(v);
	}
	return rid;
}

/* A person on post, with an approved review at level, made active. */
static void active(const char *id, const char *level, const char *post, struct bm_err *e)
{
	struct appt_input in = {id, post, NULL, NULL};
	struct appt_rec ar;
	int64_t rid;
	json_t *v;

	add_person(id, e);
	rid = review_clear(id, level, e);
	v = svc_review_decide(svc, &rev1, rid, true, "r1", 0, e);
	must(v != NULL, "approve", e);
	if (strcmp(json_string_value(json_object_get(v, "state")), "open") == 0) {
		json_decref(v);
		v = svc_review_decide(svc, &rev2, rid, true, "r2", 0, e);
		must(v != NULL, "approve 2", e);
	}
	json_decref(v);
	must(svc_appt_add(svc, &local, &in, &ar, e) == 0, "appointment", e);
	must(svc_person_activate(svc, &local, id, e) == 0, "activate", e);
}

/* Persons: active at secret (ALPHA), at top secret (ALPHA, CRYPTO), with
 * an id longer than a snapshot slot holds; suspended at confidential;
 * a candidate; one under review. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct post_input posts[] = {{"P0", "HQ", "none", "", "n"},
					   {"P1", "HQ", "confidential", "BRAVO", "c"},
					   {"P2", "HQ", "secret", "ALPHA", "s"},
					   {"P3", "HQ", "top_secret", "ALPHA,CRYPTO", "ts"}};
	const struct unit_input ui = {"HQ", "HQ", NULL};
	struct bm_err e = BM_ERR_INIT;
	struct unit_rec u;
	struct post_rec po;

	(void)argc;
	(void)argv;
	fz_svc_open("fuzz_decide", T0);
	must(svc_unit_add(svc, &local, &ui, &u, &e) == 0, "unit", &e);
	for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++)
		must(svc_post_add(svc, &local, &posts[i], &po, &e) == 0, "post", &e);
	active("E1", "secret", "P2", &e);
	active("TS1", "top_secret", "P3", &e);
	active("LONG-PERSON-IDENTIFIER-0000000001", "secret", "P2", &e);
	active("C1", "confidential", "P1", &e);
	must(svc_person_suspend(svc, &local, "C1", "inquiry", &e) == 0, "suspend", &e);
	add_person("CAND", &e);
	add_person("REV", &e);
	review_clear("REV", "secret", &e);
	bm_err_clear(&e);
	return 0;
}

/* The general path as the HTTP handler runs it: the strict parse, one
 * member, then the batch.  Nonzero when it refuses the body. */
static int general(const json_t *body, int64_t now, struct buf *out, size_t counts[2])
{
	struct bm_err e = BM_ERR_INIT;
	int rc;

	counts[0] = counts[1] = 0;
	if (body == NULL || !json_is_object(body) || json_object_size(body) != 1)
		return BM_EUSAGE;
	rc = svc_decide_batch_text(svc, &local, json_object_get(body, "requests"), now, out,
				   counts, &e);
	bm_err_clear(&e);
	return rc;
}

/* Decides req alone; when the batch answered it (want non-NULL), the
 * single answer must be the batch's element, stamped. */
static void single(const json_t *req, const json_t *want, int64_t now)
{
	struct bm_err e = BM_ERR_INIT;
	json_t *v = svc_decide(svc, &local, req, now, &e);

	if (want != NULL) {
		if (v == NULL)
			abort();
		json_object_del(v, "evaluated_at");
		json_object_del(v, "snapshot");
		if (!json_equal(v, want))
			abort();
	}
	json_decref(v);
	bm_err_clear(&e);
}

/* The body itself and each element of its requests through svc_decide;
 * answer is the general path's answer or NULL. */
static void singles(const json_t *body, const json_t *answer, int64_t now)
{
	const json_t *reqs = json_object_get(body, "requests");
	const json_t *res = json_object_get(answer, "results");
	size_t i;
	json_t *r;

	if (body != NULL)
		single(body, NULL, now);
	if (answer != NULL && json_array_size(res) != json_array_size(reqs))
		abort();
	json_array_foreach(reqs, i, r)
		single(r, answer ? json_array_get(res, i) : NULL, now);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const int64_t now = size % 2 ? T0 + 4 * 365 * DAY : T0 + DAY; /* lapsed or not */
	struct buf fast = BUF_INIT, gen = BUF_INIT;
	struct bm_err e = BM_ERR_INIT;
	size_t fc[2] = {9, 9}, gc[2];
	uint64_t a0, d0, a1, d1;
	json_t *body, *answer = NULL;
	int rc, grc;

	svc_decision_counts(svc, &a0, &d0);
	rc = svc_decide_batch_fast(svc, &local, (const char *)data, size, now, &fast, fc, &e);
	svc_decision_counts(svc, &a1, &d1);
	bm_err_clear(&e);
	body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
			  NULL);
	grc = general(body, now, &gen, gc);
	if (rc == SVC_FAST_DECLINE) {
		if (fast.len != 0 || fc[0] + fc[1] != 0 || a1 != a0 || d1 != d0)
			abort();
	} else if (rc != 0 || grc != 0 || fast.len != gen.len ||
		   memcmp(fast.p, gen.p, fast.len) != 0 || fc[0] != gc[0] || fc[1] != gc[1] ||
		   a1 - a0 != fc[1] || d1 - d0 != fc[0]) {
		abort();
	}
	if (grc == 0 && (answer = json_loadb(gen.p, gen.len, 0, NULL)) == NULL)
		abort();
	singles(body, answer, now);
	json_decref(answer);
	json_decref(body);
	buf_free(&fast);
	buf_free(&gen);
	return 0;
}
