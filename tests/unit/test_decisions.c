/*
 * test_decisions.c - access decisions from the snapshot, and a second
 * opinion: a plain reference evaluator, written here from the rules of
 * DESIGN.md and reading the database with its own SQLite connection, must
 * agree with the snapshot after random sequences of operations, asked at
 * random instants (at least 20,000 comparisons, objects of every level and
 * compartment set among them), and with the clearance status on since when
 * each gate has had its outcome.
 */
#include "service/service.h"
#include "core/role.h"
#include "lib/clock.h"
#include "lib/utf8.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "svc_fixture.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1767225600  /* 2026-01-01 */
#define DAY 86400
#define NPERS 10

static const struct actor rev1 = {.name = "rev1", .roles = ROLE_REVIEWER};
static const struct actor rev2 = {.name = "rev2", .roles = ROLE_REVIEWER};
static const char *const posts[] = {"P0", "P1", "P2", "P3"};

static int setup(void **state)
{
	const struct post_input pi[] = {{"P0", "HQ", "none", "", "n"},
					{"P1", "HQ", "confidential", "BRAVO", "c"},
					{"P2", "HQ", "secret", "ALPHA", "s"},
					{"P3", "HQ", "top_secret", "ALPHA,CRYPTO", "ts"}};

	*state = fx_open(T0, pi, sizeof pi / sizeof pi[0]);
	return 0;
}

static int teardown(void **state)
{
	return fx_close(state);
}

static json_t *req(const char *person, const char *level, const char *comps)
{
	json_t *c = json_array();
	char buf[64], *save = NULL;

	snprintf(buf, sizeof buf, "%s", comps);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(c, json_string(t));
	return json_pack("{s:s, s:s, s:{s:s, s:o}}", "person", person, "action", "read", "object",
			 "level", level, "compartments", c);
}

/* When set, every decide() is also asked of this context, whose snapshot
 * is partial (svc_snapshot_partial, as the console's), and must get the
 * same answer as the loaded one. */
static struct svc *partial_svc;

static void same_in_partial(struct fx *f, const json_t *r, int64_t now, const json_t *v)
{
	json_t *w = svc_decide(partial_svc, &local, r, now, &f->e);

	assert_non_null(w);
	if (json_is_true(json_object_get(v, "allow")) != json_is_true(json_object_get(w, "allow")) ||
	    !json_equal(json_object_get(v, "reasons"), json_object_get(w, "reasons"))) {
		char *a = json_dumps(v, JSON_COMPACT), *b = json_dumps(w, JSON_COMPACT);

		fail_msg("%s: loaded %s, partial %s", json_dumps(r, JSON_COMPACT), a, b);
	}
	json_decref(w);
}

/* Decides and returns allow; *codes gets the reason codes joined by ','. */
static bool decide(struct fx *f, const char *person, const char *level, const char *comps,
		   int64_t now, char *codes, size_t cap)
{
	json_t *r = req(person, level, comps), *v, *x;
	size_t i;
	bool allow;

	v = svc_decide(f->s, &local, r, now, &f->e);
	assert_non_null(v);
	if (partial_svc != NULL)
		same_in_partial(f, r, now, v);
	json_decref(r);
	allow = json_is_true(json_object_get(v, "allow"));
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

/* ------------------------------------------------------------ operations */

static void add_person(struct fx *f, const char *id)
{
	struct person_input in = {id, "Name", "HQ", NULL, NULL};
	struct person_rec r;

	assert_int_equal(svc_person_add(f->s, &local, &in, &r, &f->e), 0);
}

/* A full approved review at level (two reviewers always). */
static int review(struct fx *f, const char *id, const char *level, bool approve)
{
	json_t *v = svc_review_open(f->s, &local, id, level, &f->e);
	int64_t rid;

	if (v == NULL)
		return f->e.code;
	rid = json_integer_value(json_object_get(v, "id"));
	json_decref(v);
	for (int i = 1; i <= 6; i++)
		json_decref(svc_review_finding(f->s, &local, rid, i, "clear", NULL, 0, &f->e));
	v = svc_review_decide(f->s, &rev1, rid, approve, "r1", 0, &f->e);
	if (v && approve && strcmp(json_string_value(json_object_get(v, "state")), "open") == 0) {
		json_decref(v);
		v = svc_review_decide(f->s, &rev2, rid, true, "r2", 0, &f->e);
	}
	json_decref(v);
	return 0;
}

static void full_active(struct fx *f, const char *id, const char *level, const char *post)
{
	struct appt_input in = {id, post, NULL, NULL};
	struct appt_rec ar;

	add_person(f, id);
	assert_int_equal(review(f, id, level, true), 0);
	assert_int_equal(svc_appt_add(f->s, &local, &in, &ar, &f->e), 0);
	assert_int_equal(svc_person_activate(f->s, &local, id, &f->e), 0);
}

static void test_decide_rules(void **state)
{
	struct fx *f = *state;
	char codes[256];

	full_active(f, "E1", "secret", "P2");
	assert_true(decide(f, "E1", "secret", "ALPHA", T0, NULL, 0));
	assert_true(decide(f, "E1", "confidential", "", T0, NULL, 0));
	assert_false(decide(f, "E1", "top_secret", "ALPHA,CRYPTO", T0, codes, sizeof codes));
	assert_string_equal(codes, "level_too_low,need_to_know,");
	assert_false(decide(f, "E1", "secret", "NOSUCH", T0, codes, sizeof codes));
	assert_string_equal(codes, "need_to_know,");
	/* Time alone lapses the clearance: key re-review after 3 years, and
	 * the decision names the gate that lapsed, as the status does. */
	assert_false(decide(f, "E1", "secret", "", T0 + 3 * 365 * DAY, codes, sizeof codes));
	assert_string_equal(codes, "review_expired,");
	assert_false(decide(f, "GHOST", "secret", "", T0, codes, sizeof codes));
	assert_non_null(strstr(codes, "unknown_person"));
	/* The snapshot follows a committed suspension at once. */
	assert_int_equal(svc_person_suspend(f->s, &local, "E1", "inquiry", &f->e), 0);
	assert_false(decide(f, "E1", "confidential", "", T0, codes, sizeof codes));
	assert_string_equal(codes, "suspended,");
	/* ... and a refused write changes nothing. */
	assert_int_equal(svc_person_suspend(f->s, &local, "E1", "again", &f->e), BM_ESTATE);
	assert_false(decide(f, "E1", "confidential", "", T0, NULL, 0));
}

static void test_bad_requests(void **state)
{
	struct fx *f = *state;
	const struct actor aud = {.name = "aud", .roles = ROLE_AUDITOR};
	json_t *r, *batch;

	r = json_pack("{s:s}", "person", "E1");
	assert_null(svc_decide(f->s, &local, r, T0, &f->e));
	assert_string_equal(f->e.field, "action");
	json_decref(r);
	r = json_pack("{s:i, s:s, s:{s:s}}", "person", 5, "action", "read", "object", "level",
		      "secret");
	assert_null(svc_decide(f->s, &local, r, T0, &f->e));
	assert_string_equal(f->e.field, "person");
	json_decref(r);
	r = json_pack("{s:s, s:s, s:{s:s}}", "person", "E1", "action", "read", "object", "level",
		      "cosmic");
	assert_null(svc_decide(f->s, &local, r, T0, &f->e));
	assert_int_equal(f->e.code, BM_EINVAL);
	json_decref(r);
	r = json_pack("{s:s, s:s, s:{s:s, s:[i]}}", "person", "E1", "action", "read", "object",
		      "level", "secret", "compartments", 3);
	assert_null(svc_decide(f->s, &local, r, T0, &f->e));
	json_decref(r);
	r = json_string("E1");
	assert_null(svc_decide(f->s, &local, r, T0, &f->e));
	assert_int_equal(f->e.code, BM_EUSAGE);
	json_decref(r);
	/* 63 bytes could be an id: an unknown person, a denial; 64 cannot */
	char id[BM_CODE_MAX + 1];
	memset(id, 'X', sizeof id - 1);
	id[BM_CODE_MAX - 1] = '\0';
	r = req(id, "secret", "");
	json_t *v = svc_decide(f->s, &local, r, T0, &f->e);
	assert_non_null(v);
	assert_false(json_is_true(json_object_get(v, "allow")));
	json_decref(v);
	json_decref(r);
	id[BM_CODE_MAX - 1] = 'X';
	id[BM_CODE_MAX] = '\0';
	r = req(id, "secret", "");
	assert_null(svc_decide(f->s, &local, r, T0, &f->e));
	assert_int_equal(f->e.code, BM_EINVAL);
	assert_string_equal(f->e.field, "person");
	json_decref(r);
	r = req("E1", "secret", "");
	assert_null(svc_decide(f->s, &aud, r, T0, &f->e));
	assert_int_equal(f->e.code, BM_EPERM);
	batch = json_array();
	for (int i = 0; i < 10001; i++)
		json_array_append(batch, r);
	assert_null(svc_decide_batch(f->s, &local, batch, T0, &f->e));
	assert_int_equal(f->e.code, BM_ETOOBIG);
	json_array_remove(batch, 0);
	json_decref(r);
	r = svc_decide_batch(f->s, &local, batch, T0, &f->e);
	assert_int_equal(json_array_size(json_object_get(r, "results")), 10000);
	json_decref(r);
	json_decref(batch);
}

/* The batch rendered as text is byte for byte jansson's compact dump of
 * the JSON answer, for allows, denials with several reasons and every
 * character an id may hold; a person no id can be (quotes, backslashes,
 * control characters, Chinese) is refused, naming the element, and never
 * reaches an answer or the audit trail. */
static void test_batch_text(void **state)
{
	static const char *const odd[] = {"E1", "GHOST", "a.b-c_D9", "e1", "x", "E1"};
	static const char *const never[] = {"a\"b\\c", "\x01\t\n\x1f", "张伟", "E1 ", "E/1"};
	struct fx *f = *state;
	struct buf text = BUF_INIT;
	json_t *batch = json_array(), *v;
	size_t counts[2];
	char *dump;

	full_active(f, "E1", "secret", "P2");
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
		json_array_append_new(batch, req(odd[i], i % 2 ? "top_secret" : "secret",
						 i == 5 ? "ALPHA,CRYPTO" : "ALPHA"));
	v = svc_decide_batch(f->s, &local, batch, T0, &f->e);
	assert_non_null(v);
	assert_int_equal(svc_decide_batch_text(f->s, &local, batch, T0, &text, counts, &f->e), 0);
	dump = json_dumps(v, JSON_COMPACT);
	assert_string_equal(buf_cstr(&text), dump);
	assert_int_equal(counts[1], 1);
	assert_int_equal(counts[0], 5);
	free(dump);
	json_decref(v);
	buf_reset(&text);
	json_array_append_new(batch, json_pack("{s:s}", "person", "E1"));
	assert_int_equal(svc_decide_batch_text(f->s, &local, batch, T0, &text, counts, &f->e),
			 BM_EINVAL);
	assert_non_null(strstr(f->e.msg, "requests[6]"));
	json_decref(batch);
	for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
		batch = json_array();
		json_array_append_new(batch, req("E1", "secret", ""));
		json_array_append_new(batch, req(never[i], "secret", ""));
		assert_int_equal(svc_decide_batch_text(f->s, &local, batch, T0, &text, counts,
						       &f->e), BM_EINVAL);
		assert_non_null(strstr(f->e.msg, "requests[1]"));
		assert_string_equal(f->e.field, "requests[1].person");
		json_decref(batch);
	}
	v = json_pack("{s:s, s:s, s:{s:s}}", "person", "E1", "action", "re\xe2\x80\xae" "ad",
		      "object", "level", "secret");
	assert_null(svc_decide(f->s, &local, v, T0, &f->e));
	assert_string_equal(f->e.field, "action");
	json_decref(v);
	batch = json_object();
	assert_int_equal(svc_decide_batch_text(f->s, &local, batch, T0, &text, counts, &f->e),
			 BM_EUSAGE);
	buf_free(&text);
	json_decref(batch);
}

/* The general path over a raw body, as the HTTP handler runs it. */
static int general(struct fx *f, const char *body, size_t len, struct buf *out, size_t counts[2])
{
	json_t *b = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	int rc;

	if (b == NULL || !json_is_object(b) || json_object_size(b) != 1)
		rc = BM_EUSAGE;
	else
		rc = svc_decide_batch_text(f->s, &local, json_object_get(b, "requests"), T0, out,
					   counts, &f->e);
	json_decref(b);
	bm_err_clear(&f->e);
	return rc;
}

/* Runs the fast reader on body; it must answer (want_fast) with exactly
 * the general path's bytes, or decline having written and counted nothing. */
static void same_as_general(struct fx *f, const char *body, size_t len, bool want_fast)
{
	struct buf fast = BUF_INIT, gen = BUF_INIT;
	size_t fc[2] = {9, 9}, gc[2];
	uint64_t allow0, deny0, allow1, deny1;
	int rc;

	svc_decision_counts(f->s, &allow0, &deny0);
	rc = svc_decide_batch_fast(f->s, &local, body, len, T0, &fast, fc, &f->e);
	svc_decision_counts(f->s, &allow1, &deny1);
	if (rc != (want_fast ? 0 : SVC_FAST_DECLINE))
		fail_msg("fast reader rc %d on %.200s", rc, body);
	if (rc == SVC_FAST_DECLINE) {
		assert_int_equal(fast.len, 0);
		assert_int_equal(fc[0] + fc[1], 0);
		assert_true(allow1 == allow0 && deny1 == deny0);
	} else {
		assert_int_equal(general(f, body, len, &gen, gc), 0);
		assert_string_equal(buf_cstr(&fast), buf_cstr(&gen));
		assert_true(fc[0] == gc[0] && fc[1] == gc[1]);
		assert_true(allow1 - allow0 == fc[1] && deny1 - deny0 == fc[0]);
	}
	buf_free(&fast);
	buf_free(&gen);
}

#define R1 "{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":\"secret\"," \
	   "\"compartments\":[\"ALPHA\"]}}"

/* The batch endpoint's fast reader agrees byte for byte with the general
 * path on plain bodies and declines every other body untouched. */
static void test_batch_fast(void **state)
{
	static const char *const plain[] = {
		"{\"requests\":[]}",
		"{\"requests\":[" R1 "]}",
		" {\n \"requests\" : [ {\"object\" : {\"compartments\":[ ],\"level\":\"top_secret\"},"
		"\"action\":\"x\",\"person\":\"GHOST\"} ,\t" R1 " ] } \r\n",
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":\"Secret\"}},"
		"{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":\"2\",\"compartments\":"
		"[\"ALPHA\",\"ZULU\"]}},{\"person\":\"E1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxx\",\"action\":\"read\",\"object\":{\"level\":\"none\"}}]}",
		/* a space is printable ASCII; a one-letter code is a code: "A" and
		 * "LPHA" are two, never ALPHA */
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read all\",\"object\":{\"level\":"
		"\"top secret\"}},{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":"
		"\"secret\",\"compartments\":[\"A\",\"LPHA\"]}}]}",
	};
	static const char *const other[] = {
		"", "{}", "[]", "{\"requests\":{}}", "{\"requests\":[" R1 "]", "{\"requests\":[" R1 "]}x",
		"{\"requests\":[" R1 "],\"more\":1}", "{\"requests\":[" R1 ",]}",
		"{\"requests\":[{\"person\":\"E\\u0031\",\"action\":\"read\",\"object\":{\"level\":\"secret\"}}]}",
		"{\"requests\":[{\"person\":\"张伟\",\"action\":\"read\",\"object\":{\"level\":\"secret\"}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"person\":\"E2\",\"action\":\"read\",\"object\":{\"level\":\"secret\"}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read\",\"note\":\"x\",\"object\":{\"level\":\"secret\"}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":2}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":\"ultra\"}}]}",
		"{\"requests\":[{\"person\":\"\",\"action\":\"read\",\"object\":{\"level\":\"secret\"}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"" "123456789012345678901234567890123"
		"\",\"object\":{\"level\":\"secret\"}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"object\":{\"level\":\"secret\"}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"compartments\":[]}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":\"secret\","
		"\"compartments\":null}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":\"secret\","
		"\"compartments\":[\"\"]}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":\"secret\","
		"\"compartments\":[\"ALPHA\",\"ALPHA\"],\"level\":\"none\"}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":\"secret\","
		"\"compartments\":[\"ALPHA,CRYPTO\"]}}]}",
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":\"secret\","
		"\"compartments\":[\"ALPHA \"]}}]}",
		"{\"requests\":[{\"person\":\"E1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxx\",\"action\":\"read\",\"object\":{\"level\":\"none\"}}]}",
		/* a level one byte too long for the reader's buffer */
		"{\"requests\":[{\"person\":\"E1\",\"action\":\"read\",\"object\":{\"level\":"
		"\"ABCDEFGHIJKLMNOPQRSTUVWX\"}}]}",
		"{\"requests\":[" R1 "]}\0",   /* last: its length takes the NUL */
	};
	struct fx *f = *state;
	struct buf big = BUF_INIT;

	full_active(f, "E1", "secret", "P2");
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		same_as_general(f, plain[i], strlen(plain[i]), true);
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
		same_as_general(f, other[i], strlen(other[i]) + (i + 1 == sizeof other / sizeof other[0]),
				false);
	/* the body ends where its length says, whatever byte follows it */
	same_as_general(f, "{\"requests\":[" R1 "]} ", strlen("{\"requests\":[" R1 "]}"), true);
	/* groups of 64 and a partial one, mixed answers */
	buf_puts(&big, "{\"requests\":[");
	for (int i = 0; i < 150; i++)
		buf_printf(&big, "%s{\"person\":\"%s\",\"action\":\"read\",\"object\":{\"level\":\"%s\"}}",
			   i ? "," : "", i % 3 ? "E1" : "NOBODY", i % 5 ? "secret" : "top_secret");
	buf_puts(&big, "]}");
	same_as_general(f, big.p, big.len, true);
	/* more than 10,000 requests: the general path's error, never a partial answer */
	buf_reset(&big);
	buf_puts(&big, "{\"requests\":[");
	for (int i = 0; i < 10001; i++)
		buf_puts(&big, i ? "," R1 : R1);
	buf_puts(&big, "]}");
	same_as_general(f, big.p, big.len, false);
	buf_free(&big);
}

/* The error field of deciding r (consumed), or "" when it was answered. */
static const char *refused_field(struct fx *f, json_t *r)
{
	static char field[64];
	json_t *v = svc_decide(f->s, &local, r, T0, &f->e);

	json_decref(r);
	field[0] = '\0';
	if (v == NULL)
		snprintf(field, sizeof field, "%s", f->e.field[0] ? f->e.field : "?");
	json_decref(v);
	return field;
}

/* A request is read strictly: a string holding a NUL byte is not the
 * string before it ("E1\u0000x" is not E1), a misspelt or unknown member
 * is refused rather than ignored (a dropped "compartments" would drop the
 * need-to-know check), and each element of compartments is one code. */
static void test_strict_requests(void **state)
{
	struct fx *f = *state;

	full_active(f, "E1", "secret", "P2");
	assert_true(decide(f, "E1", "secret", "ALPHA", T0, NULL, 0));
	/* an action is at most 32 bytes: 32 is answered, 33 refused */
	assert_string_equal(refused_field(f, json_pack("{s:s, s:s, s:{s:s}}", "person", "E1",
						       "action", "12345678901234567890123456789012",
						       "object", "level", "secret")), "");
	assert_string_equal(refused_field(f, json_pack("{s:s, s:s, s:{s:s}}", "person", "E1",
						       "action", "123456789012345678901234567890123",
						       "object", "level", "secret")), "action");
	assert_string_equal(refused_field(f, json_pack("{s:s#, s:s, s:{s:s}}", "person", "E1\0x",
						       (int)4, "action", "read", "object", "level",
						       "secret")), "person");
	assert_string_equal(refused_field(f, json_pack("{s:s, s:s#, s:{s:s}}", "person", "E1",
						       "action", "read\0", (int)5, "object",
						       "level", "secret")), "action");
	assert_string_equal(refused_field(f, json_pack("{s:s, s:s, s:{s:s#}}", "person", "E1",
						       "action", "read", "object", "level",
						       "secret\0x", (int)8)), "object.level");
	assert_string_equal(refused_field(f, json_pack("{s:s, s:s, s:{s:s, s:[s#]}}", "person",
						       "E1", "action", "read", "object", "level",
						       "secret", "compartments", "CRYPTO\0",
						       (int)7)), "object.compartments");
	assert_string_equal(refused_field(f, json_pack("{s:s, s:s, s:{s:s, s:[s]}}", "person",
						       "E1", "action", "read", "object", "level",
						       "secret", "compartment", "CRYPTO")),
			    "object.compartment");
	assert_string_equal(refused_field(f, json_pack("{s:s, s:s, s:{s:s, s:s}}", "person", "E1",
						       "action", "read", "object", "level",
						       "secret", "unit", "HQ")), "object.unit");
	assert_string_equal(refused_field(f, json_pack("{s:s, s:s, s:s, s:{s:s}}", "person", "E1",
						       "action", "read", "subject", "E9", "object",
						       "level", "secret")), "subject");
	/* one code per element: no list inside an element, no blanks */
	assert_string_equal(refused_field(f, json_pack("{s:s, s:s, s:{s:s, s:[s]}}", "person", "E1",
						       "action", "read", "object", "level",
						       "secret", "compartments", "ALPHA,CRYPTO")),
			    "object.compartments");
	assert_string_equal(refused_field(f, json_pack("{s:s, s:s, s:{s:s, s:[s]}}", "person", "E1",
						       "action", "read", "object", "level",
						       "secret", "compartments", " ALPHA")),
			    "object.compartments");
	/* ... while the plain request is still answered */
	assert_string_equal(refused_field(f, req("E1", "secret", "ALPHA")), "");
}

/* An unknown member's name is echoed in the error cut to a few dozen
 * bytes; the cut must not split a character, or the problem+json answer
 * cannot be built (jansson refuses invalid UTF-8) and the client gets an
 * empty body. */
static void test_unknown_member_named_in_utf8(void **state)
{
	struct fx *f = *state;
	char key[64];
	size_t n = 0;

	key[n++] = 'a';
	for (int i = 0; i < 25; i++)
		key[n++] = (char)0xC3, key[n++] = (char)0xA9;      /* U+00E9 */
	key[n] = '\0';
	json_t *r = req("E1", "secret", "");
	json_object_set_new(json_object_get(r, "object"), key, json_integer(1));
	assert_string_not_equal(refused_field(f, r), "");
	assert_int_equal(f->e.code, BM_EINVAL);
	assert_true(utf8_valid(f->e.field, strlen(f->e.field), NULL));
	assert_true(utf8_valid(f->e.msg, strlen(f->e.msg), NULL));
	assert_non_null(strstr(f->e.msg, "unknown member"));
	assert_int_equal(strncmp(f->e.field, "object.a\xC3\xA9", 10), 0);
}

/* How many audit events there are, counted by the verifier. */
static int64_t audit_count(struct fx *f)
{
	struct audit_verdict av;

	assert_int_equal(svc_audit_verify(f->s, &local, &av, &f->e), 0);
	return (int64_t)av.count;
}

/* A batch with one bad element is refused whole: no denial before it is
 * audited and none is counted, whichever rendering runs; a good batch
 * audits each of its denials. */
static void test_rejected_batch_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct policy pol;
	struct buf doc = BUF_INIT, text = BUF_INIT;
	json_t *batch = json_array(), *v;
	uint64_t allow0, deny0, allow1, deny1;
	size_t counts[2];
	int64_t ver, n0;

	full_active(f, "E1", "secret", "P2");
	assert_int_equal(policy_builtin("cn", &pol, &f->e), 0);
	pol.audit_denials = true;
	policy_to_json(&pol, &doc);
	assert_int_equal(svc_policy_load(f->s, &local, doc.p, doc.len, 0, &ver, &f->e), 0);
	buf_free(&doc);
	for (int i = 0; i < 6; i++)
		json_array_append_new(batch, req(i % 2 ? "E1" : "GHOST", "secret", ""));
	json_array_append_new(batch, json_pack("{s:s}", "person", "E1"));
	n0 = audit_count(f);
	svc_decision_counts(f->s, &allow0, &deny0);
	assert_null(svc_decide_batch(f->s, &local, batch, T0, &f->e));
	assert_non_null(strstr(f->e.msg, "requests[6]"));
	assert_int_equal(svc_decide_batch_text(f->s, &local, batch, T0, &text, counts, &f->e),
			 BM_EINVAL);
	svc_decision_counts(f->s, &allow1, &deny1);
	assert_int_equal(audit_count(f), n0);
	assert_true(allow1 == allow0 && deny1 == deny0);
	json_array_remove(batch, 6);
	v = svc_decide_batch(f->s, &local, batch, T0, &f->e);
	assert_non_null(v);
	json_decref(v);
	assert_int_equal(audit_count(f), n0 + 3);
	svc_decision_counts(f->s, &allow1, &deny1);
	assert_true(allow1 == allow0 + 3 && deny1 == deny0 + 3);
	buf_free(&text);
	json_decref(batch);
}

/* Policy audit_denials: a denial leaves an audit event. */
static void test_audit_denials(void **state)
{
	struct fx *f = *state;
	struct policy pol;
	struct buf doc = BUF_INIT;
	int64_t ver;
	struct audit_verdict av0, av1;

	assert_int_equal(policy_builtin("cn", &pol, &f->e), 0);
	pol.audit_denials = true;
	policy_to_json(&pol, &doc);
	assert_int_equal(svc_policy_load(f->s, &local, doc.p, doc.len, 0, &ver, &f->e), 0);
	buf_free(&doc);
	assert_int_equal(svc_audit_verify(f->s, &local, &av0, &f->e), 0);
	assert_false(decide(f, "NOBODY", "secret", "", T0, NULL, 0));
	assert_int_equal(svc_audit_verify(f->s, &local, &av1, &f->e), 0);
	assert_int_equal(av1.count, av0.count + 1);
	assert_int_equal(av1.fault, 0);
	/* the event names the reason, unknown_person (reason 0) too */
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT action, fields FROM audit ORDER BY seq "
					    "DESC LIMIT 1", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "decision.deny");
	assert_non_null(strstr((const char *)sqlite3_column_text(st, 1),
			       "\"reasons\":[\"unknown_person\"]"));
	sqlite3_finalize(st);
	sqlite3_close(db);
	/* the batch fast reader does not audit: it leaves such bodies to the
	 * general path, which audits each denial */
	same_as_general(f, "{\"requests\":[" R1 "]}", strlen("{\"requests\":[" R1 "]}"), false);
}

/* A bad element of a batch is named in the error's field as well as its
 * text, so a client mending errors[] knows which of 10,000 to look at:
 * "requests[2].object.level", or "requests[1]" when the element itself is
 * not a request. */
static void test_batch_error_field_names_the_element(void **state)
{
	struct fx *f = *state;
	json_t *batch = json_array();
	struct buf text = BUF_INIT;
	size_t counts[2];

	full_active(f, "E1", "secret", "P2");
	json_array_append_new(batch, req("E1", "secret", "ALPHA"));
	json_array_append_new(batch, req("E1", "secret", "ALPHA"));
	json_array_append_new(batch, req("E1", "cosmic", "ALPHA"));
	json_array_append_new(batch, req("E1", "secret", "ALPHA"));
	assert_null(svc_decide_batch(f->s, &local, batch, T0, &f->e));
	assert_string_equal(f->e.field, "requests[2].object.level");
	assert_non_null(strstr(f->e.msg, "requests[2]: object.level"));
	assert_int_equal(svc_decide_batch_text(f->s, &local, batch, T0, &text, counts, &f->e),
			 BM_EINVAL);
	assert_string_equal(f->e.field, "requests[2].object.level");
	json_array_set_new(batch, 2, req("E1", "secret", "ALPHA"));
	json_array_set_new(batch, 1, json_string("E1"));
	assert_null(svc_decide_batch(f->s, &local, batch, T0, &f->e));
	assert_int_equal(f->e.code, BM_EUSAGE);
	assert_string_equal(f->e.field, "requests[1]");
	json_array_set_new(batch, 1, req("E1", "secret", ""));
	json_array_set_new(batch, 3, json_pack("{s:s, s:s, s:{s:s, s:[i]}}", "person", "E1",
					       "action", "read", "object", "level", "secret",
					       "compartments", 7));
	assert_null(svc_decide_batch(f->s, &local, batch, T0, &f->e));
	assert_string_equal(f->e.field, "requests[3].object.compartments");
	buf_free(&text);
	json_decref(batch);
}

/* The compartments of an object are a set: a code named many times is
 * the one code, answered like it, not refused blaming a good element.
 * Only more distinct codes than the list can hold are refused, saying so;
 * and a NUL inside a string is refused in those words, not as missing. */
/* Decisions come from the snapshot, which knows no units: an officer scoped
 * to a subtree would learn through the reasons whether a person outside it
 * exists and is suspended or lapsed.  Every decision route refuses a scoped
 * actor before reading anything; the same officer unscoped may ask. */
static void test_scoped_actor_asks_no_decisions(void **state)
{
	struct fx *f = *state;
	struct actor off = {.name = "off", .roles = ROLE_OFFICER, .scope_unit = 1};
	static const char body[] = "{\"requests\":[{\"person\":\"E1\",\"action\":\"read\","
				   "\"object\":{\"level\":\"secret\"}}]}";
	struct buf out = BUF_INIT;
	size_t counts[2];
	uint64_t allow0, deny0, allow1, deny1;
	json_t *r = req("E1", "secret", ""), *batch = json_pack("[O]", r), *v;

	svc_decision_counts(f->s, &allow0, &deny0);
	assert_null(svc_decide(f->s, &off, r, T0, &f->e));
	assert_int_equal(f->e.code, BM_EPERM);
	assert_string_equal(f->e.field, "scope");
	assert_null(svc_decide_batch(f->s, &off, batch, T0, &f->e));
	assert_int_equal(f->e.code, BM_EPERM);
	assert_int_equal(svc_decide_batch_fast(f->s, &off, body, sizeof body - 1, T0, &out,
					       counts, &f->e), BM_EPERM);
	assert_int_equal(out.len, 0);
	svc_decision_counts(f->s, &allow1, &deny1);
	assert_true(allow1 == allow0 && deny1 == deny0);
	off.scope_unit = 0;
	v = svc_decide(f->s, &off, r, T0, &f->e);
	assert_non_null(v);
	assert_non_null(json_object_get(v, "allow"));
	json_decref(v);
	buf_free(&out);
	json_decref(batch);
	json_decref(r);
}

/* E1 asks to read a secret object of the compartments in codes: 1 allowed,
 * 0 denied, -1 refused (f->e says why). */
static int decide_codes(struct fx *f, json_t *codes)
{
	json_t *r = json_pack("{s:s, s:s, s:{s:s, s:O}}", "person", "E1", "action", "read",
			      "object", "level", "secret", "compartments", codes);
	json_t *v = svc_decide(f->s, &local, r, T0, &f->e);
	int allow = v == NULL ? -1 : json_is_true(json_object_get(v, "allow"));

	json_decref(v);
	json_decref(r);
	return allow;
}

static void test_compartments_are_a_set(void **state)
{
	struct fx *f = *state;
	json_t *codes = json_array(), *r;
	char code[16];

	full_active(f, "E1", "secret", "P2");
	for (int i = 0; i < 100000; i++)
		json_array_append_new(codes, json_string("ALPHA"));
	assert_int_equal(decide_codes(f, codes), 1);
	json_array_append_new(codes, json_string("CRYPTO"));   /* not held: denied */
	assert_int_equal(decide_codes(f, codes), 0);
	json_array_clear(codes);
	for (int i = 0; i < 100; i++) {
		snprintf(code, sizeof code, "C%04d", i);
		json_array_append_new(codes, json_string(code));
	}
	assert_int_equal(decide_codes(f, codes), -1);
	assert_string_equal(f->e.field, "object.compartments");
	assert_non_null(strstr(f->e.msg, "distinct codes"));
	assert_non_null(strstr(f->e.msg, "255 bytes"));
	assert_null(strstr(f->e.msg, "["));   /* no element is to blame */
	/* 42 distinct codes of 5 take 251 of the 255 bytes; the last one named
	 * again is the same set, answered (denied: not held), not refused */
	while (json_array_size(codes) > 42)
		json_array_remove(codes, json_array_size(codes) - 1);
	json_array_append_new(codes, json_string("C0041"));
	assert_int_equal(decide_codes(f, codes), 0);
	json_decref(codes);
	r = json_pack("{s:s#, s:s, s:{s:s}}", "person", "E1\0x", (int)4, "action", "read",
		      "object", "level", "secret");
	assert_null(svc_decide(f->s, &local, r, T0, &f->e));
	assert_string_equal(f->e.field, "person");
	assert_non_null(strstr(f->e.msg, "NUL"));
	json_decref(r);
	r = json_pack("{s:s, s:s, s:{s:s#}}", "person", "E1", "action", "read", "object",
		      "level", "secret\0", (int)7);
	assert_null(svc_decide(f->s, &local, r, T0, &f->e));
	assert_string_equal(f->e.field, "object.level");
	assert_non_null(strstr(f->e.msg, "NUL"));
	json_decref(r);
}

/* ------------------------------------------------------ second opinion */

struct ref {
	bool cleared;
	int level;
	unsigned comps;              /* bits of ALPHA, BRAVO, CRYPTO held */
	int64_t valid_until;         /* the review's re-review instant */
	char why[128];               /* the failing gates' codes, each followed by ',',
				      * in reason order (as a denial lists them) */
};

static const char *const comp_codes[] = {"ALPHA", "BRAVO", "CRYPTO"};

/* The compartments of the person's open appointments, as bits. */
static unsigned ref_comps(sqlite3 *db, int64_t pid)
{
	sqlite3_stmt *st;
	unsigned bits = 0;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT p.compartments FROM appointments a JOIN "
					    "posts p ON p.id = a.post_id WHERE a.person_id = $1 "
					    "AND a.end_at IS NULL", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, pid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char list[256], *save = NULL;

		snprintf(list, sizeof list, "%s", (const char *)sqlite3_column_text(st, 0));
		for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
			for (unsigned k = 0; k < 3; k++)
				bits |= (unsigned)(strcmp(t, comp_codes[k]) == 0) << k;
	}
	sqlite3_finalize(st);
	return bits;
}

static int64_t q1(sqlite3 *db, const char *sql, int64_t a, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t v = dflt;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, a);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Recomputes the clearance of person pid at t from the tables alone:
 * on post (active), a secret-related post, no suspension in force, the
 * latest decided review approved, at or above the level, not yet due. */
static void ref_eval(sqlite3 *db, int64_t pid, int64_t t, const int rereview[4], struct ref *r)
{
	const char *latest = "FROM reviews WHERE person_id = $1 AND state > 0 "
			     "ORDER BY decided_at DESC, id DESC LIMIT 1";
	char sql[256];
	int64_t state = q1(db, "SELECT state FROM persons WHERE id = $1", pid, -1);
	int64_t rstate, rlevel, rdec, rvalid;

	r->level = (int)q1(db, "SELECT max(p.level) FROM appointments a JOIN posts p ON "
			   "p.id = a.post_id WHERE a.person_id = $1 AND a.end_at IS NULL", pid, 0);
	snprintf(sql, sizeof sql, "SELECT state %s", latest);
	rstate = q1(db, sql, pid, 0);
	snprintf(sql, sizeof sql, "SELECT level %s", latest);
	rlevel = q1(db, sql, pid, 0);
	snprintf(sql, sizeof sql, "SELECT decided_at %s", latest);
	rdec = q1(db, sql, pid, 0);
	snprintf(sql, sizeof sql, "SELECT valid_until %s", latest);
	rvalid = q1(db, sql, pid, 0);
	if (rvalid == 0 && r->level > 0)
		rvalid = rdec + (int64_t)rereview[r->level] * DAY;
	r->valid_until = rvalid;
	r->comps = ref_comps(db, pid);
	bool susp = state == 4 || q1(db, "SELECT count(*) FROM suspensions WHERE person_id = $1 "
				     "AND lifted_at IS NULL", pid, 0) != 0;
	r->cleared = state == 3 && r->level > 0 && rstate == 1 && rlevel >= r->level &&
		     t < rvalid && !susp;
	/* Every failing gate, not only the first: a person with no post is
	 * told that (and a suspension); one with a post, each of on post (active or
	 * suspended), not suspended, and the review (missing or rejected, then
	 * below the level, then past its date). */
	r->why[0] = '\0';
	if (r->level == 0) {
		strcat(r->why, "no_secret_post,");
		if (susp)
			strcat(r->why, "suspended,");
		return;
	}
	if (state != 3 && state != 4)
		strcat(r->why, "not_on_post,");
	if (susp)
		strcat(r->why, "suspended,");
	if (rstate != 1)
		strcat(r->why, "review_missing,");
	else if (rlevel < r->level)
		strcat(r->why, "review_level_too_low,");
	else if (t >= rvalid)
		strcat(r->why, "review_expired,");
}

/* ----------------------------------------------- since, second opinion */

/* A time of the audit trail (ms) about person `id`, in seconds: max over
 * the person.state events the condition (on from/to) selects; dflt none. */
static int64_t ref_state_event(sqlite3 *db, const char *id, const char *cond, int64_t dflt)
{
	char sql[512];
	sqlite3_stmt *st;
	int64_t v = dflt;

	snprintf(sql, sizeof sql, "SELECT max(a.time_ms) / 1000 FROM audit a JOIN audit_subjects s "
		 "ON s.seq = a.seq WHERE s.subject = $1 AND a.action = 'person.state' AND %s",
		 cond);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

#define REF_ON_POST "('active', 'suspended')"

/* Since when gate `gate` of person pid (id) has had outcome `code` at t,
 * recomputed from other records than the store's facts: state changes
 * from the audit trail, review times from the approvals, suspensions and
 * appointments from their rows (ARCHITECTURE.md, "Since and
 * valid_until").  0: unknown. */
static int64_t ref_since(sqlite3 *db, int64_t pid, const char *id, const char *gate,
			 const char *code)
{
	int64_t created = q1(db, "SELECT created FROM persons WHERE id = $1", pid, 0);
	int64_t in_force = q1(db, "SELECT min(since) FROM suspensions WHERE person_id = $1 "
			      "AND lifted_at IS NULL", pid, 0);
	int64_t last, a, b;

	if (strcmp(gate, "secret_post") == 0) {
		a = q1(db, "SELECT max(a.end_at) FROM appointments a JOIN posts p ON p.id = "
		       "a.post_id WHERE a.person_id = $1 AND p.level > 0", pid, 0);
		return a ? a : created;
	}
	if (strcmp(gate, "not_suspended") == 0) {
		if (strcmp(code, "suspended") == 0)   /* the state alone: since entered */
			return in_force ? in_force
					: ref_state_event(db, id, "a.fields ->> 'to' = 'suspended'",
							  created);
		a = q1(db, "SELECT max(lifted_at) FROM suspensions WHERE person_id = $1", pid, 0);
		return a ? a : created;
	}
	if (strcmp(gate, "on_post") == 0) {
		if (strcmp(code, "not_on_post") == 0)   /* the latest change of state */
			return ref_state_event(db, id, "1", created);
		a = ref_state_event(db, id, "a.fields ->> 'to' IN " REF_ON_POST " AND "
				    "a.fields ->> 'from' NOT IN " REF_ON_POST, 0);
		b = q1(db, "SELECT min(start_at) FROM appointments WHERE person_id = $1 AND "
		       "end_at IS NULL", pid, 0);
		return a > b ? a : b;
	}
	/* review: the latest decided one, dated by its last verdict */
	last = q1(db, "SELECT id FROM reviews WHERE person_id = $1 AND state > 0 ORDER BY "
		  "decided_at DESC, id DESC LIMIT 1", pid, 0);
	if (last == 0)
		return created;
	if (strcmp(code, "review_expired") == 0)
		return q1(db, "SELECT valid_until FROM reviews WHERE id = $1", last, 0);
	return q1(db, "SELECT max(at) FROM review_approvals WHERE review_id = $1", last, 0);
}

/* The status of person pid at t names, for every gate, the since the
 * reference recomputes; the overall valid_until is the review's date when
 * cleared (the only gate that lapses by time here), else null. */
static void check_status_since(struct fx *f, sqlite3 *db, int64_t pid, const char *id,
			       int64_t t, const struct ref *r)
{
	json_t *v = svc_clearance(f->s, &local, id, t, &f->e), *g;
	const char *vu;
	size_t i;

	assert_non_null(v);
	json_array_foreach(json_object_get(v, "gates"), i, g) {
		const char *name = json_string_value(json_object_get(g, "gate"));
		const char *code = json_string_value(json_object_get(g, "code"));
		const char *since = json_string_value(json_object_get(g, "since"));
		int64_t got = 0, want = ref_since(db, pid, id, name, code);

		if (since)
			assert_int_equal(clock_parse(since, "since", &got, &f->e), 0);
		if (got != want)
			fail_msg("%s at %lld: %s %s since %lld, reference %lld", id, (long long)t,
				 name, code, (long long)got, (long long)want);
	}
	vu = json_string_value(json_object_get(v, "valid_until"));
	if (r->cleared) {
		int64_t until = 0;

		assert_non_null(vu);
		assert_int_equal(clock_parse(vu, "valid_until", &until, &f->e), 0);
		assert_int_equal(until, r->valid_until);
	} else {
		assert_null(vu);
	}
	json_decref(v);
}

static void random_op(struct fx *f, uint32_t *seed, int i)
{
	char id[8];
	static const char *const lv[] = {"confidential", "secret", "top_secret"};
	struct appt_input in = {id, posts[rand_r(seed) % 4], NULL, NULL};
	struct appt_rec ar;
	json_t *v;

	snprintf(id, sizeof id, "E%d", i);
	switch (rand_r(seed) % 11) {
	case 0:
		review(f, id, lv[rand_r(seed) % 3], rand_r(seed) % 5 != 0);
		break;
	case 1: case 2: case 3:
		svc_appt_add(f->s, &local, &in, &ar, &f->e);
		break;
	case 4: case 9:
		svc_person_activate(f->s, &local, id, &f->e);
		break;
	case 5:
		svc_person_suspend(f->s, &local, id, "random", &f->e);
		break;
	case 6:
		svc_person_reinstate(f->s, &local, id, "random", &f->e);
		break;
	case 7:
		v = svc_matter_file(f->s, &local, id, rand_r(seed) % 2 ? "leak" : "foreign_funding",
				    NULL, &f->e);
		json_decref(v);
		break;
	case 8:
		/* the whole way to a post: review at the post's level, appoint, take up */
		if (in.post[1] > '0')
			review(f, id, lv[in.post[1] - '1'], true);
		svc_appt_add(f->s, &local, &in, &ar, &f->e);
		svc_person_activate(f->s, &local, id, &f->e);
		break;
	default:
		svc_appt_end(f->s, &local, id, 1 + rand_r(seed) % 40, NULL, &f->e);
		break;
	}
}

/* One more case for person pid: an object of random level (none too) and
 * random compartments, asked at t or at the review's re-review instant or
 * just before it; the reference decides it from the tables, with every
 * reason a cleared person can have (level and need-to-know at once).
 * Returns the answer (1 allow). */
static int any_object(struct fx *f, sqlite3 *db, int64_t pid, const char *id, int64_t now,
		      const int rereview[4], uint32_t *seed)
{
	static const char *const lv[] = {"none", "confidential", "secret", "top_secret"};
	int olevel = (int)(rand_r(seed) % 4);
	unsigned want = (unsigned)rand_r(seed) % 8;
	char comps[64] = "", codes[256], expect[256] = "";
	int64_t t = now + rand_r(seed) % (400 * DAY);
	struct ref r;
	bool allow;

	ref_eval(db, pid, t, rereview, &r);
	if (rand_r(seed) % 3 == 0 && r.valid_until - 1 > now) {
		t = r.valid_until - (rand_r(seed) % 2);   /* the boundary: last second, then lapsed */
		ref_eval(db, pid, t, rereview, &r);
	}
	for (unsigned k = 0; k < 3; k++)
		if (want & (1u << k))
			snprintf(comps + strlen(comps), sizeof comps - strlen(comps), "%s%s",
				 comps[0] ? "," : "", comp_codes[k]);
	allow = decide(f, id, lv[olevel], comps, t, codes, sizeof codes);
	/* A denial lists every failing reason, the person's gates and the
	 * object's checks together, whether or not the person is cleared. */
	strcat(expect, r.why);
	if (olevel > r.level)
		strcat(expect, "level_too_low,");
	if (want & ~r.comps)
		strcat(expect, "need_to_know,");
	if (strcmp(codes, expect) != 0)
		fail_msg("%s at %lld, object %s [%s]: snapshot says \"%s\", reference \"%s\"",
			 id, (long long)t, lv[olevel], comps, codes, expect);
	if (allow != (r.cleared && expect[0] == '\0') || r.cleared != (r.why[0] == '\0'))
		fail_msg("%s at %lld, object %s [%s]: snapshot %d, reference cleared %d level %d",
			 id, (long long)t, lv[olevel], comps, allow, r.cleared, r.level);
	return allow;
}

/* "Is the decider the same person?" fails closed: when an account cannot
 * be read (here its table is gone), the review is not decided. */
static void test_same_person_check_fails_closed(void **state)
{
	struct fx *f = *state;
	const struct actor cons = {.name = "console-rev", .roles = ACTOR_LOCAL};
	sqlite3 *db;
	json_t *v;
	int64_t rid;

	add_person(f, "E4");
	rid = fx_review_clear(f, "E4", "secret");
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE accounts RENAME TO accounts_gone", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(svc_review_decide(f->s, &cons, rid, true, "fine", 0, &f->e));
	assert_int_not_equal(f->e.code, BM_OK);
	assert_int_not_equal(f->e.code, BM_EPERM);   /* an error, not a verdict */
	v = svc_review_show(f->s, &local, rid, &f->e);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "state")), "open");
	json_decref(v);
}

/* The reason codes ps gives for person and object, joined by ','. */
static const char *partial_codes(struct fx *f, struct svc *ps, const char *person,
				 const char *level, const char *comps, char *codes, size_t cap)
{
	json_t *r = req(person, level, comps), *v = svc_decide(ps, &local, r, T0, &f->e), *x;
	size_t i;

	json_decref(r);
	assert_non_null(v);
	snprintf(codes, cap, "%s:", json_is_true(json_object_get(v, "allow")) ? "allow" : "deny");
	json_array_foreach(json_object_get(v, "reasons"), i, x) {
		strncat(codes, json_string_value(json_object_get(x, "code")), cap - strlen(codes) - 2);
		strcat(codes, ",");
	}
	json_decref(v);
	return codes;
}

/* The console's decision reads only the person asked about, at the moment
 * it is asked, and answers as a loaded snapshot would: the person's
 * compartments known before the object's are read (the first question is
 * about a compartment nobody was asked about yet), an unknown person, a
 * change committed by another context since, a hand-damaged row. */
static void test_partial_snapshot_for_the_console(void **state)
{
	struct fx *f = *state;
	struct svc *ps;
	char codes[256];
	sqlite3 *db;

	full_active(f, "E1", "secret", "P2");
	full_active(f, "E2", "top_secret", "P3");
	assert_int_equal(svc_open(&(struct svc_paths){f->db, NULL}, &ps, &f->e), 0);
	assert_int_equal(svc_snapshot_partial(ps, &f->e), 0);
	assert_string_equal(partial_codes(f, ps, "E2", "top_secret", "CRYPTO", codes, 256),
			    "allow:");
	assert_string_equal(partial_codes(f, ps, "E1", "secret", "ALPHA", codes, 256), "allow:");
	assert_string_equal(partial_codes(f, ps, "E1", "secret", "CRYPTO", codes, 256),
			    "deny:need_to_know,");
	assert_string_equal(partial_codes(f, ps, "GHOST", "secret", "", codes, 256),
			    "deny:unknown_person,");
	assert_int_equal(svc_person_suspend(f->s, &local, "E1", "inquiry", &f->e), 0);
	assert_string_equal(partial_codes(f, ps, "E1", "confidential", "", codes, 256),
			    "deny:suspended,");
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE persons SET level = 1 WHERE ext_id = 'E2'", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_string_equal(partial_codes(f, ps, "E2", "confidential", "", codes, 256),
			    "deny:record_damaged,");
	svc_close(ps);
}

static void test_second_opinion(void **state)
{
	struct fx *f = *state;
	const struct policy *p = svc_policy(f->s);
	int rereview[4] = {0, p->cat[1].rereview_days, p->cat[2].rereview_days,
			   p->cat[3].rereview_days};
	static const char *const lv[] = {"", "confidential", "secret", "top_secret"};
	uint32_t seed = 12345, oseed = 777;   /* operations; extra objects */
	int64_t now = T0, cases = 0, allowed = 0;
	sqlite3 *db;
	char id[8];

	for (int i = 0; i < NPERS; i++) {
		snprintf(id, sizeof id, "E%d", i);
		add_person(f, id);
	}
	/* the console's partial snapshot answers each case too (decide()) */
	assert_int_equal(svc_open(&(struct svc_paths){f->db, NULL}, &partial_svc, &f->e), 0);
	assert_int_equal(svc_snapshot_partial(partial_svc, &f->e), 0);
	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (int round = 0; cases < 20000; round++) {
		now += rand_r(&seed) % (60 * DAY);
		clock_set(now);
		random_op(f, &seed, rand_r(&seed) % NPERS);
		int64_t t = now + (rand_r(&seed) % 3 == 0 ? rand_r(&seed) % (800 * DAY) : 0);

		for (int i = 0; i < NPERS; i++) {
			struct ref r;
			bool a;

			snprintf(id, sizeof id, "E%d", i);
			ref_eval(db, i + 1, t, rereview, &r);
			a = decide(f, id, "confidential", "", t, NULL, 0);
			if (a != (r.cleared && r.level >= 1))
				fail_msg("round %d %s at %lld: snapshot %d, reference %d (level %d)",
					 round, id, (long long)t, a, r.cleared, r.level);
			if (r.level > 0)
				assert_int_equal(decide(f, id, lv[r.level], "", t, NULL, 0), r.cleared);
			check_status_since(f, db, i + 1, id, t, &r);
			allowed += a + any_object(f, db, i + 1, id, now, rereview, &oseed);
			cases += 2 + (r.level > 0);
		}
	}
	sqlite3_close(db);
	svc_close(partial_svc);
	partial_svc = NULL;
	if (allowed <= 100)
		fail_msg("only %lld of %lld allowed", (long long)allowed, (long long)cases);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_decide_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_fast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strict_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_member_named_in_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_batch_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_denials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_error_field_names_the_element, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compartments_are_a_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scoped_actor_asks_no_decisions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_same_person_check_fails_closed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_partial_snapshot_for_the_console, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_second_opinion, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
