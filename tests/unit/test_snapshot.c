/*
 * test_snapshot.c - decisions from the in-memory table: dominance,
 * need-to-know, lapse at valid_until, unknown persons, every reason listed,
 * growth, replacement, removal, and readers racing a writer (torn entries,
 * growth, and a removal shifting the entry a lookup is after).
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "core/snapshot.h"

#define NOW 1700000000LL
#define BIT(r) (1u << (r))

static struct snap_comp comps(struct snapshot *s, const char *list)
{
	struct snap_comp c;
	struct bm_err e = BM_ERR_INIT;
	assert_int_equal(snapshot_comp_bits(s, list, true, &c, NULL, &e), 0);
	return c;
}

static struct snap_object object(const struct snapshot *s, int level, const char *list)
{
	struct snap_object o;
	struct bm_err e = BM_ERR_INIT;
	assert_int_equal(snapshot_object(s, level, list, &o, &e), 0);
	return o;
}

/* Stores a cleared person at level with compartments list. */
static void put_cleared(struct snapshot *s, const char *id, int level, const char *list)
{
	struct snap_entry v = {.level = level, .reasons = 0, .valid_until = GATE_NEVER};
	struct bm_err e = BM_ERR_INIT;
	v.comp = comps(s, list);
	assert_int_equal(snapshot_put(s, id, strlen(id), &v, &e), 0);
}

static struct decision decide(const struct snapshot *s, const char *id,
			      const struct snap_object *o, int64_t now)
{
	struct decision d;
	snapshot_decide(s, id, strlen(id), o, now, &d);
	return d;
}

static void test_level_dominance(void **state)
{
	(void)state;
	struct snapshot *s = snapshot_new(0);
	char id[8];
	for (int pl = 0; pl <= 3; pl++) {
		snprintf(id, sizeof id, "P%d", pl);
		put_cleared(s, id, pl, "");
	}
	for (int pl = 0; pl <= 3; pl++) {
		for (int ol = 0; ol <= 3; ol++) {
			snprintf(id, sizeof id, "P%d", pl);
			struct snap_object o = object(s, ol, "");
			struct decision d = decide(s, id, &o, NOW);
			bool want = pl > 0 && pl >= ol;
			assert_int_equal(d.allow, want);
			assert_int_equal(d.level, pl);
			assert_int_equal(!!(d.reasons & BIT(REASON_LEVEL_TOO_LOW)), pl < ol);
			/* Level 0 persons are never cleared, whatever the object. */
			assert_int_equal(!!(d.reasons & BIT(REASON_NO_SECRET_POST)), pl == 0);
		}
	}
	snapshot_free(s);
}

static void test_compartment_inclusion(void **state)
{
	(void)state;
	struct snapshot *s = snapshot_new(0);
	put_cleared(s, "E1", 2, "ALPHA,BRAVO");
	put_cleared(s, "E2", 2, "CHARLIE");
	struct {
		const char *need;
		bool allow;
	} cases[] = {
		{"", true},           {"ALPHA", true},         {"BRAVO,ALPHA", true},
		{"ALPHA,BRAVO", true}, {"ALPHA,CHARLIE", false}, {"CHARLIE", false},
		{"ZULU", false},      {"ALPHA,ZULU", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct snap_object o = object(s, 1, cases[i].need);
		struct decision d = decide(s, "E1", &o, NOW);
		assert_int_equal(d.allow, cases[i].allow);
		assert_int_equal(d.reasons, cases[i].allow ? 0 : BIT(REASON_NEED_TO_KNOW));
	}
	/* A code nobody holds is a need-to-know denial, not an error, and is not
	 * added to the dictionary by a reader. */
	struct snap_object o = object(s, 1, "ZULU");
	assert_true(o.comp_unknown);
	assert_null(snapshot_comp_code(s, 3));
	assert_string_equal(snapshot_comp_code(s, 0), "ALPHA");
	assert_string_equal(snapshot_comp_code(s, 2), "CHARLIE");
	assert_null(snapshot_comp_code(s, -1));
	snapshot_free(s);
}

static void test_unknown_person(void **state)
{
	(void)state;
	struct snapshot *s = snapshot_new(0);
	put_cleared(s, "E1", 3, "");
	struct snap_object o = object(s, 1, "");
	struct decision d = decide(s, "E2", &o, NOW);
	assert_false(d.allow);
	assert_int_equal(d.reasons, BIT(REASON_UNKNOWN_PERSON));
	assert_int_equal(d.level, 0);
	/* Prefixes and extensions of a known id are other persons. */
	snapshot_decide(s, "E1", 1, &o, NOW, &d);
	assert_int_equal(d.reasons, BIT(REASON_UNKNOWN_PERSON));
	snapshot_decide(s, "E1X", 3, &o, NOW, &d);
	assert_int_equal(d.reasons, BIT(REASON_UNKNOWN_PERSON));
	/* Empty, too long and NULL ids are unknown persons too. */
	char longid[80];
	memset(longid, 'A', sizeof longid);
	snapshot_decide(s, "", 0, &o, NOW, &d);
	assert_int_equal(d.reasons, BIT(REASON_UNKNOWN_PERSON));
	snapshot_decide(s, longid, sizeof longid, &o, NOW, &d);
	assert_int_equal(d.reasons, BIT(REASON_UNKNOWN_PERSON));
	snapshot_decide(s, NULL, 3, &o, NOW, &d);
	assert_int_equal(d.reasons, BIT(REASON_UNKNOWN_PERSON));
	/* An empty table answers too. */
	struct snapshot *empty = snapshot_new(0);
	snapshot_decide(empty, "E1", 2, &o, NOW, &d);
	assert_int_equal(d.reasons, BIT(REASON_UNKNOWN_PERSON));
	snapshot_free(empty);
	snapshot_free(s);
}

static void test_lapse_at_valid_until(void **state)
{
	(void)state;
	struct snapshot *s = snapshot_new(0);
	struct snap_entry v = {.level = 3, .valid_until = NOW + 3600};
	struct bm_err e = BM_ERR_INIT;
	assert_int_equal(snapshot_put(s, "E1", 2, &v, &e), 0);
	struct snap_object o = object(s, 3, "");
	struct decision d = decide(s, "E1", &o, NOW + 3599);
	assert_true(d.allow);
	assert_int_equal(d.valid_until, NOW + 3600);
	d = decide(s, "E1", &o, NOW + 3600);
	assert_false(d.allow);
	assert_int_equal(d.reasons, BIT(REASON_CLEARANCE_LAPSED));
	/* An entry that says which gate lapses then gives that gate's reason,
	 * the one the status shows, and only from that instant. */
	v.lapse = REASON_REVIEW_EXPIRED;
	assert_int_equal(snapshot_put(s, "E2", 2, &v, &e), 0);
	d = decide(s, "E2", &o, NOW + 3599);
	assert_true(d.allow);
	d = decide(s, "E2", &o, NOW + 3600);
	assert_int_equal(d.reasons, BIT(REASON_REVIEW_EXPIRED));
	struct snap_entry got;
	assert_true(snapshot_get(s, "E2", 2, &got));
	assert_int_equal(got.lapse, REASON_REVIEW_EXPIRED);
	struct snap_query q[2] = {{"E1", 2, &o}, {"E2", 2, &o}};
	struct decision many[2];
	snapshot_decide_many(s, q, 2, NOW + 3600, many);
	assert_int_equal(many[0].reasons, BIT(REASON_CLEARANCE_LAPSED));
	assert_int_equal(many[1].reasons, BIT(REASON_REVIEW_EXPIRED));
	snapshot_free(s);
}

static void test_every_reason_listed(void **state)
{
	(void)state;
	struct snapshot *s = snapshot_new(0);
	struct snap_entry v = {.level = 1, .valid_until = NOW - 1,
			       .reasons = BIT(REASON_REVIEW_EXPIRED) | BIT(REASON_SUSPENDED)};
	struct bm_err e = BM_ERR_INIT;
	v.comp = comps(s, "ALPHA");
	assert_int_equal(snapshot_put(s, "E1", 2, &v, &e), 0);
	struct snap_object o = object(s, 3, "ALPHA,BRAVO");
	struct decision d = decide(s, "E1", &o, NOW);
	uint32_t want = BIT(REASON_REVIEW_EXPIRED) | BIT(REASON_SUSPENDED) |
			BIT(REASON_CLEARANCE_LAPSED) | BIT(REASON_LEVEL_TOO_LOW) |
			BIT(REASON_NEED_TO_KNOW);
	assert_false(d.allow);
	assert_int_equal(d.reasons, want);
	struct reason_text t[8];
	assert_int_equal(snapshot_reasons(d.reasons, t, 8), 5);
	assert_string_equal(t[0].code, "suspended");
	assert_string_equal(t[1].code, "review_expired");
	assert_string_equal(t[2].code, "clearance_lapsed");
	assert_string_equal(t[3].code, "level_too_low");
	assert_string_equal(t[4].code, "need_to_know");
	assert_int_equal(t[4].reason, REASON_NEED_TO_KNOW);
	assert_true(strlen(t[4].msg_zh) > 0 && strlen(t[4].msg_en) > 0);
	/* A short output array still reports how many there are. */
	assert_int_equal(snapshot_reasons(d.reasons, t, 2), 5);
	assert_int_equal(snapshot_reasons(0, t, 8), 0);
	assert_int_equal(snapshot_reasons(0xffffffffu, NULL, 0), REASON__COUNT);
	snapshot_free(s);
}

/* A damaged record's level, compartments and dates cannot be believed:
 * its denial names record_damaged alone, on the single and batch paths,
 * whatever the stored fields would have added. */
static void test_damaged_record_says_so_alone(void **state)
{
	(void)state;
	struct snapshot *s = snapshot_new(0);
	struct snap_entry v = {.level = 0, .valid_until = NOW - 1,
			       .reasons = BIT(REASON_RECORD_DAMAGED)};
	struct bm_err e = BM_ERR_INIT;
	assert_int_equal(snapshot_put(s, "E1", 2, &v, &e), 0);
	put_cleared(s, "E2", 1, "");
	struct snap_object o = object(s, 3, "ALPHA");
	struct decision d = decide(s, "E1", &o, NOW);
	assert_false(d.allow);
	assert_int_equal(d.reasons, BIT(REASON_RECORD_DAMAGED));
	/* the neighbour's reasons are still every one that fails */
	d = decide(s, "E2", &o, NOW);
	assert_int_equal(d.reasons, BIT(REASON_LEVEL_TOO_LOW) | BIT(REASON_NEED_TO_KNOW));
	struct snap_query q[2] = {{"E1", 2, &o}, {"E2", 2, &o}};
	struct decision many[2];
	snapshot_decide_many(s, q, 2, NOW, many);
	assert_int_equal(many[0].reasons, BIT(REASON_RECORD_DAMAGED));
	assert_int_equal(many[1].reasons, BIT(REASON_LEVEL_TOO_LOW) | BIT(REASON_NEED_TO_KNOW));
	snapshot_free(s);
}

static void test_entry_from_gate_status(void **state)
{
	(void)state;
	struct gate_status st;
	memset(&st, 0, sizeof st);
	st.level = 2;
	st.reasons = BIT(REASON_REVIEW_MISSING);
	st.valid_until = NOW + 5;
	struct snap_comp c = {{5, 0}};
	struct snap_entry v;
	snapshot_entry_from_status(&st, &c, &v);
	assert_int_equal(v.level, 2);
	assert_int_equal(v.reasons, BIT(REASON_REVIEW_MISSING));
	assert_int_equal(v.valid_until, NOW + 5);
	assert_int_equal(v.comp.w[0], 5);
}

static void test_put_rejects_bad_input(void **state)
{
	(void)state;
	struct snapshot *s = snapshot_new(0);
	struct snap_entry v = {.level = 2, .valid_until = GATE_NEVER};
	struct bm_err e = BM_ERR_INIT;
	char longid[64];
	memset(longid, 'x', sizeof longid);
	assert_int_equal(snapshot_put(s, "", 0, &v, &e), BM_EINVAL);
	assert_string_equal(e.field, "ext_id");
	assert_int_equal(snapshot_put(s, longid, 64, &v, &e), BM_EINVAL);
	assert_int_equal(snapshot_put(s, longid, 63, &v, &e), 0);
	v.level = 4;
	assert_int_equal(snapshot_put(s, "E1", 2, &v, &e), BM_EINVAL);
	assert_string_equal(e.field, "level");
	v.level = -1;
	assert_int_equal(snapshot_put(s, "E1", 2, &v, &e), BM_EINVAL);
	v.level = 2;
	v.lapse = REASON__COUNT;
	assert_int_equal(snapshot_put(s, "E1", 2, &v, &e), BM_EINVAL);
	assert_string_equal(e.field, "lapse");
	v.lapse = -1;
	assert_int_equal(snapshot_put(s, "E1", 2, &v, &e), BM_EINVAL);
	v.lapse = 0;
	assert_int_equal(snapshot_count(s), 1);
	/* Ids are bytes: NULs and invalid UTF-8 are distinct keys. */
	v.level = 1;
	assert_int_equal(snapshot_put(s, "A\0B", 3, &v, &e), 0);
	v.level = 2;
	assert_int_equal(snapshot_put(s, "\xff\xfe", 2, &v, &e), 0);
	struct snap_entry got;
	assert_true(snapshot_get(s, "A\0B", 3, &got));
	assert_int_equal(got.level, 1);
	assert_false(snapshot_get(s, "A\0C", 3, &got));
	assert_true(snapshot_get(s, "\xff\xfe", 2, &got));
	assert_int_equal(got.level, 2);
	assert_false(snapshot_get(s, "", 0, &got));
	snapshot_free(s);
}

static void test_comp_lists(void **state)
{
	(void)state;
	struct snapshot *s = snapshot_new(0);
	struct snap_comp c;
	struct bm_err e = BM_ERR_INIT;
	bool unk;
	const char *bad[] = {"alpha", "A,,B", "A,", ",A", "A B", "A;B", " , ",
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", "\xe4\xb8\xad", "\xff"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(snapshot_comp_bits(s, bad[i], true, &c, &unk, &e), BM_EINVAL);
		assert_string_equal(e.field, "compartments");
	}
	assert_int_equal(snapshot_comp_bits(s, NULL, true, &c, &unk, &e), BM_EINVAL);
	assert_null(snapshot_comp_code(s, 0));   /* nothing half-added */
	assert_int_equal(snapshot_comp_bits(s, " A , B-2 ,C_3", true, &c, &unk, &e), 0);
	assert_int_equal(c.w[0], 7);
	assert_int_equal(snapshot_comp_bits(s, "C_3,A", false, &c, &unk, &e), 0);
	assert_int_equal(c.w[0], 5);
	assert_false(unk);
	assert_int_equal(snapshot_comp_bits(s, "", false, &c, &unk, &e), 0);
	assert_int_equal(c.w[0] | c.w[1], 0);
	assert_int_equal(snapshot_object(s, 4, "", &(struct snap_object){0}, &e), BM_EINVAL);
	/* Up to SNAP_COMP_MAX codes; the last one lands in the high word.  The
	 * last is named twice: a repeated new code takes one place, so the list
	 * fits exactly. */
	char code[16];
	for (int i = 3; i < SNAP_COMP_MAX; i++) {
		snprintf(code, sizeof code, i == SNAP_COMP_MAX - 1 ? "K%d,K%d" : "K%d", i, i);
		assert_int_equal(snapshot_comp_bits(s, code, true, &c, NULL, &e), 0);
	}
	assert_int_equal(c.w[1], 1ull << 63);
	assert_string_equal(snapshot_comp_code(s, 127), "K127");
	assert_int_equal(snapshot_comp_bits(s, "ONE_TOO_MANY", true, &c, NULL, &e), BM_ETOOBIG);
	assert_int_equal(snapshot_comp_bits(s, "K127,A", true, &c, NULL, &e), 0);
	snapshot_free(s);
}

/* An id of varying length (some beyond the 24 bytes kept inline). */
static size_t grow_id(char *buf, size_t cap, int i)
{
	if (i % 7 == 0)
		return (size_t)snprintf(buf, cap, "LONG-EMPLOYEE-NUMBER-%08d-%d", i, i % 13);
	return (size_t)snprintf(buf, cap, "E%d", i);
}

static void test_growth_to_200k(void **state)
{
	(void)state;
	enum { N = 200000 };
	struct snapshot *s = snapshot_new(0);
	struct bm_err e = BM_ERR_INIT;
	char id[64];
	for (int i = 0; i < N; i++) {
		struct snap_entry v = {.level = i % 4, .valid_until = NOW + i,
				       .comp = {{(uint64_t)i, (uint64_t)i * 3}}};
		size_t n = grow_id(id, sizeof id, i);
		assert_int_equal(snapshot_put(s, id, n, &v, &e), 0);
	}
	assert_int_equal(snapshot_count(s), N);
	for (int i = 0; i < N; i++) {
		struct snap_entry got;
		size_t n = grow_id(id, sizeof id, i);
		assert_true(snapshot_get(s, id, n, &got));
		assert_int_equal(got.level, i % 4);
		assert_int_equal(got.valid_until, NOW + i);
		assert_int_equal(got.comp.w[0], (uint64_t)i);
		assert_int_equal(got.comp.w[1], (uint64_t)i * 3);
	}
	assert_false(snapshot_get(s, "E200000", 7, &(struct snap_entry){0}));
	size_t per = snapshot_bytes(s) / snapshot_count(s);
	printf("# 200k entries: %zu bytes per person\n", per);
	assert_true(per < 120);   /* retired tables gave their pages back */
	snapshot_free(s);
}

static void test_update_replaces(void **state)
{
	(void)state;
	struct snapshot *s = snapshot_new(0);
	struct snap_object o = object(s, 2, "");
	put_cleared(s, "E1", 3, "ALPHA");
	assert_true(decide(s, "E1", &o, NOW).allow);
	struct snap_entry v = {.level = 3, .reasons = BIT(REASON_SUSPENDED),
			       .valid_until = GATE_NEVER};
	struct bm_err e = BM_ERR_INIT;
	assert_int_equal(snapshot_put(s, "E1", 2, &v, &e), 0);
	assert_int_equal(snapshot_count(s), 1);
	struct decision d = decide(s, "E1", &o, NOW);
	assert_false(d.allow);
	assert_int_equal(d.reasons, BIT(REASON_SUSPENDED));
	struct snap_entry got;
	assert_true(snapshot_get(s, "E1", 2, &got));
	assert_int_equal(got.comp.w[0], 0);      /* replaced, not merged */
	put_cleared(s, "E1", 1, "");
	assert_int_equal(decide(s, "E1", &o, NOW).reasons, BIT(REASON_LEVEL_TOO_LOW));
	snapshot_free(s);
}

static void test_remove(void **state)
{
	(void)state;
	struct snapshot *s = snapshot_new(0);
	struct bm_err e = BM_ERR_INIT;
	struct snap_object o = object(s, 1, "");
	char id[64];
	for (int i = 0; i < 5000; i++) {
		size_t n = grow_id(id, sizeof id, i);
		struct snap_entry v = {.level = 1 + i % 3, .valid_until = GATE_NEVER};
		assert_int_equal(snapshot_put(s, id, n, &v, &e), 0);
	}
	assert_int_equal(snapshot_remove(s, "nobody", 6, &e), BM_ENOTFOUND);
	assert_int_equal(snapshot_remove(s, "", 0, &e), BM_EINVAL);
	/* Remove the even ones, then check every id: tombstones must not hide
	 * the odd ones further along a probe chain. */
	for (int i = 0; i < 5000; i += 2) {
		size_t n = grow_id(id, sizeof id, i);
		assert_int_equal(snapshot_remove(s, id, n, &e), 0);
	}
	assert_int_equal(snapshot_count(s), 2500);
	for (int i = 0; i < 5000; i++) {
		size_t n = grow_id(id, sizeof id, i);
		struct decision d;
		snapshot_decide(s, id, n, &o, NOW, &d);
		assert_int_equal(d.allow, i % 2 == 1);
		assert_int_equal(snapshot_remove(s, id, n, &e), i % 2 ? 0 : BM_ENOTFOUND);
	}
	assert_int_equal(snapshot_count(s), 0);
	/* Churn: re-adding reuses entries and keeps lookups right. */
	size_t before = snapshot_bytes(s);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 5000; i++) {
			size_t n = (size_t)snprintf(id, sizeof id, "R%d-%d", round, i);
			struct snap_entry v = {.level = 2, .valid_until = GATE_NEVER};
			assert_int_equal(snapshot_put(s, id, n, &v, &e), 0);
		}
		for (int i = 0; i < 5000; i++) {
			size_t n = (size_t)snprintf(id, sizeof id, "R%d-%d", round, i);
			assert_true(decide(s, id, &o, NOW).allow);
			assert_int_equal(snapshot_remove(s, id, n, &e), 0);
		}
	}
	assert_int_equal(snapshot_count(s), 0);
	printf("# churn: %zu bytes before, %zu after\n", before, snapshot_bytes(s));
	assert_int_equal(snapshot_bytes(s), before);  /* entries and index reused */
	snapshot_free(s);
}

/* Level l for id bytes p[0..n): distinct ids get distinct answers. */
static void put_level(struct snapshot *s, const char *p, size_t n, int level)
{
	struct snap_entry v = {.level = level, .valid_until = GATE_NEVER};
	struct bm_err e = BM_ERR_INIT;
	assert_int_equal(snapshot_put(s, p, n, &v, &e), 0);
}

static int level_of(const struct snapshot *s, const char *p, size_t n)
{
	struct snap_entry got;
	return snapshot_get(s, p, n, &got) ? got.level : -1;
}

/* Ids around the 24 bytes kept in a slot and the word edges inside it:
 * ids that share those 24 bytes (or all but the last byte of 63) must
 * still be told apart, by the long-id path, and removing one leaves the
 * other. */
static void test_id_lengths_at_the_inline_boundary(void **state)
{
	(void)state;
	static const size_t lens[] = {1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 62, 63};
	enum { NL = sizeof lens / sizeof lens[0] };
	struct snapshot *s = snapshot_new(0);
	char a[64], b[64];
	memset(a, 'K', sizeof a);
	for (int i = 0; i < NL; i++) {
		memcpy(b, a, sizeof b);
		b[lens[i] - 1] = 'Z';            /* differs in its last byte only */
		put_level(s, a, lens[i], 1 + i % 3);
		put_level(s, b, lens[i], 3 - i % 3);
	}
	assert_int_equal(snapshot_count(s), 2 * NL);
	struct snap_object o = object(s, 2, "");
	for (int i = 0; i < NL; i++) {
		memcpy(b, a, sizeof b);
		b[lens[i] - 1] = 'Z';
		assert_int_equal(level_of(s, a, lens[i]), 1 + i % 3);
		assert_int_equal(level_of(s, b, lens[i]), 3 - i % 3);
		struct decision d;
		snapshot_decide(s, b, lens[i], &o, NOW, &d);
		assert_int_equal(d.allow, 3 - i % 3 >= 2);
		b[lens[i] - 1] = 'Y';            /* same length, same prefix, unknown */
		snapshot_decide(s, b, lens[i], &o, NOW, &d);
		assert_int_equal(d.reasons, BIT(REASON_UNKNOWN_PERSON));
	}
	assert_int_equal(level_of(s, a, 64), -1);        /* past SNAP_ID_MAX */
	struct bm_err e = BM_ERR_INIT;
	for (int i = 0; i < NL; i += 2)
		assert_int_equal(snapshot_remove(s, a, lens[i], &e), 0);
	for (int i = 0; i < NL; i++) {
		memcpy(b, a, sizeof b);
		b[lens[i] - 1] = 'Z';
		assert_int_equal(level_of(s, a, lens[i]), i % 2 ? 1 + i % 3 : -1);
		assert_int_equal(level_of(s, b, lens[i]), 3 - i % 3);
	}
	snapshot_free(s);
}

/* Id i of a family whose ids differ only in the first word of the slot,
 * only in its third word, or only past the 24 bytes kept inline. */
static size_t fam_id(char *buf, size_t cap, int fam, int i)
{
	if (fam == 0)
		return (size_t)snprintf(buf, cap, "T%d", i);
	if (fam == 1)
		return (size_t)snprintf(buf, cap, "SIXTEEN-BYTES-AA%d", i);
	return (size_t)snprintf(buf, cap, "A-PREFIX-OF-EXACTLY-32-BYTES-XX-%d", i);
}

/* Tags are 8 bits, so among 3 x 15,000 ids many sit behind an entry with
 * the same tag; each must still be found by its id, and unknown ids of
 * the same family (a matching tag now and then) must stay unknown, also
 * after removals shift runs back. */
static void test_tag_collisions_resolved_by_id(void **state)
{
	(void)state;
	enum { N = 15000 };
	struct snapshot *s = snapshot_new(0);
	struct bm_err e = BM_ERR_INIT;
	char id[48];
	for (int f = 0; f < 3; f++)
		for (int i = 0; i < N; i++)
			put_level(s, id, fam_id(id, sizeof id, f, i), 1 + (i + f) % 3);
	size_t coll = snapshot__tag_collisions(s);
	printf("# %d ids: %zu behind an equal tag\n", 3 * N, coll);
	assert_true(coll > 30);
	for (int round = 0; round < 2; round++) {
		for (int f = 0; f < 3; f++)
			for (int i = 0; i < N; i++) {
				bool gone = round == 1 && i % 3 == 0;
				size_t n = fam_id(id, sizeof id, f, i);
				assert_int_equal(level_of(s, id, n), gone ? -1 : 1 + (i + f) % 3);
				assert_int_equal(level_of(s, id, fam_id(id, sizeof id, f, N + i)), -1);
			}
		for (int f = 0; round == 0 && f < 3; f++)
			for (int i = 0; i < N; i += 3)
				assert_int_equal(snapshot_remove(s, id, fam_id(id, sizeof id, f, i), &e), 0);
	}
	assert_true(snapshot__tag_collisions(s) > 0);
	snapshot_free(s);
}

/* Sized for its load, a snapshot of short ids stays under 100 bytes a
 * person (the budget at 1M persons; bench_decide checks 1M). */
static void test_sized_snapshot_is_small(void **state)
{
	(void)state;
	enum { N = 100000 };
	struct snapshot *s = snapshot_new(N);
	char id[16];
	for (int i = 0; i < N; i++)
		put_level(s, id, (size_t)snprintf(id, sizeof id, "E%07d", i), 2);
	size_t per = snapshot_bytes(s) / snapshot_count(s);
	printf("# sized 100k: %zu bytes per person\n", per);
	assert_true(per <= 100);
	assert_int_equal(level_of(s, "E0099999", 8), 2);
	snapshot_free(s);
}

/* The batch API answers exactly as one call per query would, for known,
 * unknown and malformed ids and a count that is not a multiple of a group. */
static void test_decide_many_matches_single(void **state)
{
	(void)state;
	enum { N = 3000, Q = 1003 };
	struct snapshot *s = snapshot_new(0);
	struct bm_err e = BM_ERR_INIT;
	static char ids[Q][40];
	static struct snap_query q[Q];
	static struct decision many[Q];
	struct snap_object objs[3] = {object(s, 1, ""), object(s, 2, ""), object(s, 3, "")};
	for (int i = 0; i < N; i++) {
		char id[40];
		size_t n = grow_id(id, sizeof id, i);
		struct snap_entry v = {.level = i % 4, .valid_until = NOW + (i % 5) - 2,
				       .reasons = i % 11 ? 0 : BIT(REASON_SUSPENDED)};
		assert_int_equal(snapshot_put(s, id, n, &v, &e), 0);
	}
	for (int i = 0; i < Q; i++) {
		size_t n = grow_id(ids[i], sizeof ids[i], (i * 7919) % (N + 200));
		q[i] = (struct snap_query){ids[i], i % 97 ? n : 0, &objs[i % 3]};
	}
	snapshot_decide_many(s, q, Q, NOW, many);
	int allowed = 0;
	for (int i = 0; i < Q; i++) {
		struct decision one;
		snapshot_decide(s, q[i].id, q[i].idlen, q[i].obj, NOW, &one);
		assert_int_equal(many[i].allow, one.allow);
		assert_int_equal(many[i].reasons, one.reasons);
		assert_int_equal(many[i].level, one.level);
		assert_int_equal(many[i].valid_until, one.valid_until);
		allowed += one.allow;
	}
	assert_true(allowed > 0 && allowed < Q);
	/* Every short batch, shorter and longer than the pipeline, from
	 * every offset: the ring's fill and drain must not mix queries up. */
	for (size_t len = 1; len <= 70; len++) {
		size_t off = (len * 13) % (Q - len);
		snapshot_decide_many(s, &q[off], len, NOW, many);
		for (size_t i = 0; i < len; i++) {
			struct decision one;
			snapshot_decide(s, q[off + i].id, q[off + i].idlen, q[off + i].obj, NOW, &one);
			assert_int_equal(many[i].reasons, one.reasons);
			assert_int_equal(many[i].level, one.level);
		}
	}
	snapshot_decide_many(s, q, 0, NOW, many);   /* nothing to do is fine */
	snapshot_free(s);
}

/* Tables of 16 to 77 slots (growing as the churn fills them; they never
 * shrink), where a window of sixteen tags often runs past the last slot
 * into the copy of the first ones: a random churn of puts
 * and removes (a removed id comes back under a new name, so the homes keep
 * moving), every id checked against a model after each step, by
 * snapshot_get and by the batch API. */
static void test_small_tables_wrap(void **state)
{
	(void)state;
	enum { U = 48, STEPS = 6000 };
	struct snapshot *s = snapshot_new(0);
	struct bm_err e = BM_ERR_INIT;
	struct snap_object o = object(s, 0, "");
	static char ids[U][24];
	struct snap_query q[U];
	struct decision d[U];
	int model[U];                 /* level stored, or -1 */
	uint64_t x = 88172645463325252ull;
	size_t present = 0, peak = 0;
	for (int i = 0; i < U; i++) {
		q[i] = (struct snap_query){ids[i], (size_t)snprintf(ids[i], sizeof ids[i], "W%d", i), &o};
		model[i] = -1;
	}
	for (int step = 0; step < STEPS; step++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int i = (int)(x % U);
		/* Grow to about 40, shrink to a few, and again. */
		bool grow = (step / 400) % 2 == 0;
		if (model[i] < 0 && (grow || x % 4 == 0)) {
			put_level(s, ids[i], q[i].idlen, 1 + step % 3);
			model[i] = 1 + step % 3;
			present++;
		} else if (model[i] >= 0 && (!grow || x % 4 == 0)) {
			assert_int_equal(snapshot_remove(s, ids[i], q[i].idlen, &e), 0);
			assert_int_equal(level_of(s, ids[i], q[i].idlen), -1);
			q[i].idlen = (size_t)snprintf(ids[i], sizeof ids[i], "W%d.%d", i, step);
			model[i] = -1;
			present--;
		}
		peak = present > peak ? present : peak;
		snapshot_decide_many(s, q, U, NOW, d);
		for (int j = 0; j < U; j++) {
			assert_int_equal(level_of(s, ids[j], q[j].idlen), model[j]);
			assert_int_equal(d[j].level, model[j] < 0 ? 0 : model[j]);
			assert_int_equal(d[j].reasons & BIT(REASON_UNKNOWN_PERSON) ? 1 : 0, model[j] < 0);
		}
	}
	assert_int_equal(snapshot_count(s), present);
	assert_true(peak >= 30);      /* the churn did fill the tables */
	snapshot_free(s);
}

/* ---- readers racing a writer ---- */

enum { RACE_N = 64, RACE_FLIPS = 20000 };

struct race {
	struct snapshot *s;
	atomic_bool stop;
	atomic_long seen_a, seen_b, torn;
};

/* State A: level 3, ALPHA, no reasons, valid NOW+1000.
 * State B: level 1, BRAVO, suspended, valid NOW+2000. */
static struct snap_entry race_state(int which)
{
	struct snap_entry v = {.level = which ? 1 : 3,
			       .reasons = which ? BIT(REASON_SUSPENDED) : 0,
			       .valid_until = which ? NOW + 2000 : NOW + 1000,
			       .comp = {{which ? 2u : 1u, which ? 0x8000000000000000ull : 1u}}};
	return v;
}

static bool same(const struct snap_entry *a, const struct snap_entry *b)
{
	return a->level == b->level && a->reasons == b->reasons &&
	       a->valid_until == b->valid_until && a->comp.w[0] == b->comp.w[0] &&
	       a->comp.w[1] == b->comp.w[1];
}

/* A decision on state A or B of the race: A allows, B gives exactly these
 * reasons; anything else is torn. */
static bool race_decision_ok(const struct decision *d)
{
	uint32_t rb = BIT(REASON_SUSPENDED) | BIT(REASON_LEVEL_TOO_LOW) | BIT(REASON_NEED_TO_KNOW);
	return (d->allow && d->reasons == 0 && d->level == 3) ||
	       (!d->allow && d->reasons == rb && d->level == 1);
}

/* The batch API on every racing id at once: its pipeline's slot hints go
 * stale while the writer flips, grows and shifts; the answers may not. */
static void race_batch(struct race *r, const struct snap_object *oa)
{
	static _Thread_local char ids[RACE_N][32];
	struct snap_query q[RACE_N];
	struct decision d[RACE_N];
	for (int i = 0; i < RACE_N; i++)
		q[i] = (struct snap_query){ids[i],
					   (size_t)snprintf(ids[i], sizeof ids[i], "RACE-%d", i), oa};
	snapshot_decide_many(r->s, q, RACE_N, NOW, d);
	for (int i = 0; i < RACE_N; i++)
		if (!race_decision_ok(&d[i]))
			atomic_fetch_add(&r->torn, 1);
}

static void *race_reader(void *arg)
{
	struct race *r = arg;
	struct snap_entry a = race_state(0), b = race_state(1), got;
	struct snap_object oa = {.level = 3, .comp = {{1, 1}}};
	char id[32];
	for (long it = 0; !atomic_load(&r->stop); it++) {
		size_t n = (size_t)snprintf(id, sizeof id, "RACE-%ld", it % RACE_N);
		if (!snapshot_get(r->s, id, n, &got)) {
			atomic_fetch_add(&r->torn, 1);   /* flipping ids never vanish */
			continue;
		}
		if (same(&got, &a))
			atomic_fetch_add(&r->seen_a, 1);
		else if (same(&got, &b))
			atomic_fetch_add(&r->seen_b, 1);
		else
			atomic_fetch_add(&r->torn, 1);
		struct decision d;
		snapshot_decide(r->s, id, n, &oa, NOW, &d);
		if (!race_decision_ok(&d))
			atomic_fetch_add(&r->torn, 1);
		if (it % RACE_N == 0)
			race_batch(r, &oa);
	}
	return NULL;
}

static void test_concurrent_readers_never_torn(void **state)
{
	(void)state;
	struct race r = {.s = snapshot_new(0)};
	struct bm_err e = BM_ERR_INIT;
	char id[32];
	for (int i = 0; i < RACE_N; i++) {
		struct snap_entry v = race_state(0);
		size_t n = (size_t)snprintf(id, sizeof id, "RACE-%d", i);
		assert_int_equal(snapshot_put(r.s, id, n, &v, &e), 0);
	}
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_reader, &r), 0);
	/* The writer flips entries while the table grows underneath and
	 * removals shift probe runs back; it goes on until both readers had
	 * the chance to see both states. */
	for (long f = 0; f < RACE_FLIPS || atomic_load(&r.seen_a) < 1000 ||
			 atomic_load(&r.seen_b) < 1000; f++) {
		struct snap_entry v = race_state((int)((f / RACE_N) & 1));
		size_t n = (size_t)snprintf(id, sizeof id, "RACE-%ld", f % RACE_N);
		assert_int_equal(snapshot_put(r.s, id, n, &v, &e), 0);
		n = (size_t)snprintf(id, sizeof id, "GROW-%ld", f);
		assert_int_equal(snapshot_put(r.s, id, n, &v, &e), 0);
		if (f % 4 && f >= 100) {
			n = (size_t)snprintf(id, sizeof id, "GROW-%ld", f - 100);
			assert_int_equal(snapshot_remove(r.s, id, n, &e), 0);
		}
		assert_true(f < 100000000);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("# race: seen A %ld, B %ld, torn %ld\n", atomic_load(&r.seen_a),
	       atomic_load(&r.seen_b), atomic_load(&r.torn));
	assert_int_equal(atomic_load(&r.torn), 0);
	assert_true(atomic_load(&r.seen_a) > 0);
	assert_true(atomic_load(&r.seen_b) > 0);
	snapshot_free(r.s);
}

/* Readers look up a fixed set of ids while the writer grows the table
 * from 16 slots past the 2 MiB mappings: an id never vanishes, even for a
 * reader still probing a retired table whose pages were given back. */
struct growth_race {
	struct snapshot *s;
	atomic_bool stop;
	atomic_long found, vanished;
};

static void *growth_reader(void *arg)
{
	struct growth_race *r = arg;
	char id[32];
	static _Thread_local char ids[32][32];
	struct snap_object o = {.level = 2};
	struct snap_query q[32];
	struct decision d[32];
	for (int i = 0; i < 32; i++)
		q[i] = (struct snap_query){ids[i],
					   (size_t)snprintf(ids[i], sizeof ids[i], "FIXED-%d", i), &o};
	for (long it = 0; !atomic_load(&r->stop); it++) {
		size_t n = (size_t)snprintf(id, sizeof id, "FIXED-%ld", it % 32);
		atomic_fetch_add(level_of(r->s, id, n) == 2 ? &r->found : &r->vanished, 1);
		if (it % 32 == 0) {   /* and the batch API, across the table swaps */
			snapshot_decide_many(r->s, q, 32, NOW, d);
			for (int i = 0; i < 32; i++)
				atomic_fetch_add(d[i].level == 2 && d[i].reasons == 0 ? &r->found
										     : &r->vanished, 1);
		}
	}
	return NULL;
}

static void test_readers_during_growth(void **state)
{
	(void)state;
	struct growth_race r = {.s = snapshot_new(0)};
	char id[32];
	for (int i = 0; i < 32; i++)
		put_level(r.s, id, (size_t)snprintf(id, sizeof id, "FIXED-%d", i), 2);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, growth_reader, &r), 0);
	for (int i = 0; i < 60000; i++)
		put_level(r.s, id, (size_t)snprintf(id, sizeof id, "NEW-%d", i), 1);
	atomic_store(&r.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("# growth race: found %ld, vanished %ld\n", atomic_load(&r.found),
	       atomic_load(&r.vanished));
	assert_int_equal(atomic_load(&r.vanished), 0);
	assert_true(atomic_load(&r.found) > 0);
	snapshot_free(r.s);
}

/* ---- a lookup racing the removal that shifts its entry back ---- */

/* A train: ids that share one home slot and one tag byte in a table of 16
 * slots, stored in a row.  A lookup of one passes every id before it (the
 * tags match, so it reads their slots and compares ids), and removing the
 * head shifts all the others back by one slot.  A reader can then read
 * the slot an id is about to move into just before it arrives, and the
 * slot it left just after it left: a miss of a present person, unless the
 * table's `moving` counter makes the lookup retry.  The train is rotated
 * (the head removed and stored again at the tail) so that shifts never
 * stop: an insert moves no entry and a removal moves entries only back
 * toward their home, so ids that are never removed soon stop moving. */
enum { TRAIN = 4, SHIFT_OVERLAPS = 200000 };
#define SHIFT_SECONDS 2.5

struct shift_race {
	struct snapshot *s;
	char ids[TRAIN][16];
	size_t len[TRAIN];
	/* Odd from the moment ids[k] is stored until just before it is
	 * removed: a lookup between two equal odd readings ran while the id
	 * was present throughout. */
	_Atomic unsigned gen[TRAIN];
	atomic_bool stop;
	atomic_long cycles, errors;
	int cpu[2];                  /* writer's and reader's, or -1 */
};

/* Keeps the calling thread on cpu (none when cpu < 0).  The race needs
 * the writer and the reader on two cores at the same time; on a busy
 * machine the scheduler otherwise tends to time-slice them on one. */
static void pin_self(int cpu)
{
	cpu_set_t set;
	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* The first two CPUs in allowed, or -1 for both when there is only one. */
static void pick_cpus(const cpu_set_t *allowed, int cpu[2])
{
	cpu[0] = cpu[1] = -1;
	for (int c = 0, n = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, allowed))
			cpu[n++] = c;
	if (cpu[1] < 0)
		cpu[0] = -1;
}

/* True when b, stored after a in a fresh table, has a behind it on its
 * probe run with an equal tag: a and b share their home slot and tag.
 * Found through the collision count, so the test need not know the hash. */
static bool same_home_and_tag(const char *a, size_t na, const char *b, size_t nb)
{
	struct snapshot *s = snapshot_new(0);
	put_level(s, a, na, 1);
	put_level(s, b, nb, 1);
	bool twin = snapshot__tag_collisions(s) == 1;
	snapshot_free(s);
	return twin;
}

/* Fills r's ids with a train: T0 and the next ids T<i> that share its home
 * slot and tag (about one in 16 x 255). */
static void train_ids(struct shift_race *r)
{
	r->len[0] = (size_t)snprintf(r->ids[0], sizeof r->ids[0], "T0");
	for (int k = 1, i = 1; k < TRAIN; i++) {
		assert_true(i < 1000000);
		r->len[k] = (size_t)snprintf(r->ids[k], sizeof r->ids[k], "T%d", i);
		if (same_home_and_tag(r->ids[0], r->len[0], r->ids[k], r->len[k]))
			k++;
	}
}

/* The writer: removes the head of the train (the others shift back) and
 * stores it again at the tail, until told to stop.  gen[k] turns even
 * before ids[k] is removed and odd after it is back; the full fences order
 * each flip against the table's own stores. */
static void *shift_writer(void *arg)
{
	struct shift_race *r = arg;
	struct snap_entry v = {.level = 2, .valid_until = GATE_NEVER};
	struct bm_err e = BM_ERR_INIT;
	pin_self(r->cpu[0]);
	for (long c = 0; !atomic_load_explicit(&r->stop, memory_order_relaxed); c++) {
		int k = (int)(c % TRAIN);
		atomic_fetch_add(&r->gen[k], 1);
		atomic_thread_fence(memory_order_seq_cst);
		if (snapshot_remove(r->s, r->ids[k], r->len[k], &e) != 0 ||
		    snapshot_put(r->s, r->ids[k], r->len[k], &v, &e) != 0)
			atomic_fetch_add(&r->errors, 1);
		atomic_thread_fence(memory_order_seq_cst);
		atomic_fetch_add(&r->gen[k], 1);
		atomic_store_explicit(&r->cycles, c + 1, memory_order_relaxed);
	}
	return NULL;
}

/* One lookup of ids[k]: 1 when the id was present throughout and not
 * found (or found wrong), 0 when found, -1 when the writer may have
 * removed it meanwhile, which proves nothing.  If the lookup read any
 * store of a removal of ids[k], the acquire fence makes the second
 * reading see the even value stored before that removal. */
static int shift_read(struct shift_race *r, int k)
{
	struct snap_entry got;
	unsigned g1 = atomic_load_explicit(&r->gen[k], memory_order_acquire);
	if (!(g1 & 1))
		return -1;
	bool found = snapshot_get(r->s, r->ids[k], r->len[k], &got);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&r->gen[k], memory_order_relaxed) != g1)
		return -1;
	return !(found && got.level == 2);
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The reader (this thread) looks up the tail of the train, the id the
 * next removals shift, while the writer rotates it.  It stops at the
 * first miss, after SHIFT_OVERLAPS lookups during which the writer made
 * progress (so a busy machine gets more time, not a weaker test), or
 * after SHIFT_SECONDS.  Only a miss of an id present throughout fails. */
static void test_lookup_during_removal_shift(void **state)
{
	(void)state;
	struct shift_race r = {.s = NULL};
	cpu_set_t saved;
	train_ids(&r);
	r.s = snapshot_new(0);
	for (int k = 0; k < TRAIN; k++) {
		put_level(r.s, r.ids[k], r.len[k], 2);
		atomic_init(&r.gen[k], 1);
	}
	assert_int_equal(snapshot__tag_collisions(r.s), TRAIN - 1);   /* one run, in order */
	bool pinned = pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) == 0;
	if (pinned)
		pick_cpus(&saved, r.cpu);
	else
		r.cpu[0] = r.cpu[1] = -1;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, shift_writer, &r), 0);
	pin_self(r.cpu[1]);
	long looked = 0, during = 0, lost = 0;
	double t0 = now_seconds(), t = 0;
	for (long it = 0; lost == 0 && during < SHIFT_OVERLAPS; it++) {
		if (it % 1024 == 0 && (t = now_seconds() - t0) > SHIFT_SECONDS)
			break;
		long c = atomic_load_explicit(&r.cycles, memory_order_relaxed);
		int miss = shift_read(&r, (int)((c + TRAIN - 1) % TRAIN));
		if (miss < 0)
			continue;
		looked++;
		lost += miss;
		during += atomic_load_explicit(&r.cycles, memory_order_relaxed) != c;
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	if (pinned)
		(void)pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
	printf("# shift race: %ld rotations, %ld lookups of present ids (%ld while the "
	       "writer moved), %ld lost, %.2f s\n",
	       atomic_load(&r.cycles), looked, during, lost, now_seconds() - t0);
	assert_int_equal(atomic_load(&r.errors), 0);
	assert_int_equal(lost, 0);
	snapshot_free(r.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_dominance),
		cmocka_unit_test(test_compartment_inclusion),
		cmocka_unit_test(test_unknown_person),
		cmocka_unit_test(test_lapse_at_valid_until),
		cmocka_unit_test(test_every_reason_listed),
		cmocka_unit_test(test_damaged_record_says_so_alone),
		cmocka_unit_test(test_entry_from_gate_status),
		cmocka_unit_test(test_put_rejects_bad_input),
		cmocka_unit_test(test_comp_lists),
		cmocka_unit_test(test_growth_to_200k),
		cmocka_unit_test(test_update_replaces),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_decide_many_matches_single),
		cmocka_unit_test(test_small_tables_wrap),
		cmocka_unit_test(test_concurrent_readers_never_torn),
		cmocka_unit_test(test_id_lengths_at_the_inline_boundary),
		cmocka_unit_test(test_tag_collisions_resolved_by_id),
		cmocka_unit_test(test_sized_snapshot_is_small),
		cmocka_unit_test(test_readers_during_growth),
		cmocka_unit_test(test_lookup_during_removal_shift),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
