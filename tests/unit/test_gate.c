/*
 * test_gate.c - every outcome of every implemented gate, the clearance
 * status they add up to, and the reason table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/gate.h"
#include "core/lifecycle.h"
#include "lib/clock.h"

#define T0 1700000000LL             /* review approved */
#define NOW (T0 + 100 * BM_DAY)

static const uint32_t STD_GATES =
	(1u << GATE_REVIEW) | (1u << GATE_NOT_SUSPENDED) | (1u << GATE_ON_POST);

/* A cn-like policy: re-review 5/3/1 years for levels 1/2/3. */
static struct policy test_policy(uint32_t gates)
{
	struct policy p;
	memset(&p, 0, sizeof p);
	strcpy(p.profile, "test");
	int days[4] = {0, 5 * 365, 3 * 365, 365};
	for (int l = 1; l <= 3; l++) {
		p.cat[l].rereview_days = days[l];
		p.cat[l].gates = gates;
	}
	return p;
}

/* An active level-3 person with a fresh level-3 review. */
static struct gate_facts good_facts(void)
{
	struct gate_facts f;
	memset(&f, 0, sizeof f);
	f.state = ST_ACTIVE;
	f.state_since = T0 + 2 * BM_DAY;
	f.on_post_since = T0 + 2 * BM_DAY;  /* activated a day after the post began */
	f.post_since = T0 + BM_DAY;
	f.created = T0 - 30 * BM_DAY;
	f.level = 3;
	f.review = true;
	f.review_level = 3;
	f.review_approved_at = T0;
	return f;
}

static const struct gate_result *find(const struct gate_status *st, int kind)
{
	for (int i = 0; i < st->n; i++)
		if (st->r[i].kind == kind)
			return &st->r[i];
	return NULL;
}

static void test_all_gates_hold(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	struct gate_status st;
	gate_eval(&f, &p, NOW, &st);
	assert_true(st.cleared);
	assert_int_equal(st.level, 3);
	assert_int_equal(st.reasons, 0);
	assert_int_equal(st.n, 3);
	for (int i = 0; i < st.n; i++) {
		assert_true(st.r[i].ok);
		assert_string_equal(st.r[i].code, "ok");
		assert_int_equal(st.r[i].reason, -1);   /* gate.h: -1 when ok */
	}
	/* Level 3 re-review is yearly: the clearance lapses then, by time alone,
	 * and the review is what lapses. */
	assert_int_equal(st.valid_until, T0 + 365 * BM_DAY);
	assert_int_equal(st.lapse, REASON_REVIEW_EXPIRED);
	assert_int_equal(st.next_due, T0 + 365 * BM_DAY);
	const struct gate_result *rv = find(&st, GATE_REVIEW);
	assert_non_null(rv);
	assert_int_equal(rv->since, T0);
	/* on post since taken up (after the appointment's date); never
	 * suspended: since the record began */
	assert_int_equal(find(&st, GATE_ON_POST)->since, T0 + 2 * BM_DAY);
	assert_int_equal(find(&st, GATE_NOT_SUSPENDED)->since, T0 - 30 * BM_DAY);
	assert_int_equal(find(&st, GATE_NOT_SUSPENDED)->valid_until, GATE_NEVER);
}

static void test_review_missing(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	f.review = false;
	struct gate_status st;
	gate_eval(&f, &p, NOW, &st);
	assert_false(st.cleared);
	const struct gate_result *rv = find(&st, GATE_REVIEW);
	assert_false(rv->ok);
	assert_string_equal(rv->code, "review_missing");
	assert_int_equal(st.reasons, 1u << REASON_REVIEW_MISSING);
	assert_true(strlen(rv->msg_en) > 0 && strlen(rv->msg_zh) > 0);
	assert_string_not_equal(rv->msg_en, rv->msg_zh);
	assert_int_equal(st.next_due, GATE_NEVER);
}

static void test_review_expires_exactly_at_due(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	struct gate_status st;
	int64_t due = T0 + 365 * BM_DAY;
	gate_eval(&f, &p, due - 1, &st);
	assert_true(st.cleared);
	assert_int_equal(st.valid_until, due);
	gate_eval(&f, &p, due, &st);
	assert_false(st.cleared);
	const struct gate_result *rv = find(&st, GATE_REVIEW);
	assert_string_equal(rv->code, "review_expired");
	assert_int_equal(rv->since, due);
	assert_int_equal(rv->valid_until, 0);
	assert_int_equal(st.next_due, due);      /* overdue, still reported */
	assert_int_equal(st.reasons, 1u << REASON_REVIEW_EXPIRED);
}

static void test_review_interval_follows_level(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	struct gate_status st;
	f.level = 1;                             /* general: 5 years */
	gate_eval(&f, &p, T0 + 4 * 365 * BM_DAY, &st);
	assert_true(st.cleared);
	assert_int_equal(st.valid_until, T0 + 5 * 365 * BM_DAY);
	f.level = 2;                             /* key: 3 years */
	gate_eval(&f, &p, T0 + 4 * 365 * BM_DAY, &st);
	assert_false(st.cleared);
	assert_string_equal(find(&st, GATE_REVIEW)->code, "review_expired");
}

static void test_review_due_recorded_wins(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	struct gate_status st;
	f.review_due = T0 + 30 * BM_DAY;         /* brought forward by a matter */
	gate_eval(&f, &p, T0 + 29 * BM_DAY, &st);
	assert_true(st.cleared);
	assert_int_equal(st.valid_until, T0 + 30 * BM_DAY);
	gate_eval(&f, &p, T0 + 30 * BM_DAY, &st);
	assert_false(st.cleared);
	/* 0 means "no date"; any other recorded instant is a date, the
	 * earliest one too */
	f.review_due = 1;
	gate_eval(&f, &p, NOW, &st);
	assert_string_equal(find(&st, GATE_REVIEW)->code, "review_expired");
	assert_int_equal(st.next_due, 1);
	assert_int_equal(gate_review_due(&f, &p), 1);
	f.level = 0;
	assert_int_equal(gate_review_due(&f, &p), 1);
}

/* A policy that shortens the interval applies to a review approved before
 * it: the recorded date gives way to approval plus the new interval.  A
 * longer interval leaves the recorded date. gate_review_due says the same
 * as the gate. */
static void test_shorter_interval_beats_recorded_date(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	struct gate_status st;
	f.review_due = T0 + 365 * BM_DAY;        /* recorded at approval */
	p.cat[3].rereview_days = 90;
	gate_eval(&f, &p, T0 + 89 * BM_DAY, &st);
	assert_true(st.cleared);
	assert_int_equal(st.valid_until, T0 + 90 * BM_DAY);
	assert_int_equal(gate_review_due(&f, &p), T0 + 90 * BM_DAY);
	gate_eval(&f, &p, T0 + 90 * BM_DAY, &st);
	assert_false(st.cleared);
	assert_string_equal(find(&st, GATE_REVIEW)->code, "review_expired");
	p.cat[3].rereview_days = 5000;
	gate_eval(&f, &p, T0 + 364 * BM_DAY, &st);
	assert_int_equal(st.valid_until, T0 + 365 * BM_DAY);
	assert_int_equal(gate_review_due(&f, &p), T0 + 365 * BM_DAY);
	/* no post: the review's own level says the interval; no review: 0 */
	f.level = 0;
	f.review_level = 2;
	p.cat[2].rereview_days = 10;
	assert_int_equal(gate_review_due(&f, &p), T0 + 10 * BM_DAY);
	f.review = false;
	assert_int_equal(gate_review_due(&f, &p), 0);
}

static void test_no_interval_never_lapses(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	p.cat[3].rereview_days = 0;
	struct gate_facts f = good_facts();
	struct gate_status st;
	gate_eval(&f, &p, T0 + 50 * 365LL * BM_DAY, &st);
	assert_true(st.cleared);
	assert_int_equal(st.valid_until, GATE_NEVER);
}

/* An approval instant so late that adding the interval would overflow
 * (a hand-edited decided_at): the sum was signed overflow, undefined, and
 * wrapped to a date long past.  It now never falls due by policy, and the
 * recorded date still applies. */
static void test_review_due_approved_at_end_of_time(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	f.review_approved_at = INT64_MAX - BM_DAY;
	assert_int_equal(gate_review_due(&f, &p), GATE_NEVER);
	f.review_due = T0 + 400 * BM_DAY;
	assert_int_equal(gate_review_due(&f, &p), T0 + 400 * BM_DAY);
}

/* Facts from damaged rows evaluate no gate: never cleared, and the one
 * reason is record_damaged, whatever the other fields claim. */
static void test_damaged_facts_never_cleared(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	struct gate_status st;
	f.damaged = true;
	gate_eval(&f, &p, NOW, &st);
	assert_false(st.cleared);
	assert_int_equal(st.n, 0);
	assert_int_equal(st.level, 0);
	assert_int_equal(st.reasons, 1u << REASON_RECORD_DAMAGED);
	assert_string_equal(gate_reason_code(REASON_RECORD_DAMAGED), "record_damaged");
}

static void test_review_level_too_low(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	f.review_level = 2;
	struct gate_status st;
	gate_eval(&f, &p, NOW, &st);
	assert_false(st.cleared);
	assert_string_equal(find(&st, GATE_REVIEW)->code, "review_level_too_low");
	assert_int_equal(st.reasons, 1u << REASON_REVIEW_LEVEL_TOO_LOW);
	f.review_level = 3;
	f.level = 2;                             /* a higher review covers a lower post */
	gate_eval(&f, &p, NOW, &st);
	assert_true(st.cleared);
}

/* A suspended person (state suspended, or a suspension in force) is never
 * cleared and keeps the post, under policy p. */
static void check_suspended(const struct policy *p)
{
	struct gate_facts f = good_facts();
	struct gate_status st;
	f.state = ST_SUSPENDED;
	f.state_since = NOW - 5;
	gate_eval(&f, p, NOW, &st);
	assert_false(st.cleared);
	assert_true(find(&st, GATE_ON_POST)->ok); /* still holds the post */
	const struct gate_result *ns = find(&st, GATE_NOT_SUSPENDED);
	assert_string_equal(ns->code, "suspended");
	assert_int_equal(ns->since, NOW - 5);
	assert_int_equal(st.reasons, 1u << REASON_SUSPENDED);

	f = good_facts();
	f.suspended = true;
	f.suspended_since = NOW - 9;
	gate_eval(&f, p, NOW, &st);
	assert_false(st.cleared);
	assert_int_equal(st.reasons, 1u << REASON_SUSPENDED);
	assert_int_equal(find(&st, GATE_NOT_SUSPENDED)->since, NOW - 9);
}

static void test_suspended(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	check_suspended(&p);
}

/* A suspended person is never cleared, whatever gates a custom policy
 * lists: a policy of on_post alone must not let a person suspended after a
 * leak (state suspended, or a suspension in force) through. */
static void test_suspended_whatever_the_policy(void **state)
{
	(void)state;
	struct policy p = test_policy(1u << GATE_ON_POST);
	check_suspended(&p);
}

static void test_not_on_post_states(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_status st;
	for (int s = 0; s < ST__COUNT; s++) {
		struct gate_facts f = good_facts();
		f.state = s;
		gate_eval(&f, &p, NOW, &st);
		const struct gate_result *op = find(&st, GATE_ON_POST);
		bool on = s == ST_ACTIVE || s == ST_SUSPENDED;
		assert_int_equal(op->ok, on);
		if (!on) {
			assert_string_equal(op->code, "not_on_post");
			assert_false(st.cleared);
			assert_true(st.reasons & (1u << REASON_NOT_ON_POST));
		}
		assert_int_equal(st.cleared, s == ST_ACTIVE);
	}
}

static void test_appointment_end_lapses(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	struct gate_status st;
	f.post_until = NOW + 10;
	gate_eval(&f, &p, NOW, &st);
	assert_true(st.cleared);
	assert_int_equal(st.valid_until, NOW + 10);   /* earlier than the review */
	assert_int_equal(st.next_due, NOW + 10);
	gate_eval(&f, &p, NOW + 10, &st);
	assert_false(st.cleared);
	assert_int_equal(find(&st, GATE_ON_POST)->since, NOW + 10);
}

/* A held post counts from its appointment, a state without one from when it
 * was entered: a status says since when someone has been off post, and a
 * suspended state is dated by the suspension, not by the post. */
static void test_since_dates_each_outcome(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	struct gate_status st;

	gate_eval(&f, &p, NOW, &st);
	assert_int_equal(find(&st, GATE_ON_POST)->since, T0 + 2 * BM_DAY);
	f.state = ST_LEAVING;
	f.state_since = NOW - 3;
	f.post_since = 0;
	gate_eval(&f, &p, NOW, &st);
	assert_false(find(&st, GATE_ON_POST)->ok);
	assert_int_equal(find(&st, GATE_ON_POST)->since, NOW - 3);
	f = good_facts();
	f.state = ST_SUSPENDED;
	f.state_since = NOW - 7;
	gate_eval(&f, &p, NOW, &st);
	assert_int_equal(find(&st, GATE_NOT_SUSPENDED)->since, NOW - 7);
	assert_int_equal(find(&st, GATE_ON_POST)->since, T0 + 2 * BM_DAY);
	f.state = ST_ONBOARDING;
	f.state_since = 0;                 /* entered before the date was kept */
	gate_eval(&f, &p, NOW, &st);
	assert_int_equal(find(&st, GATE_ON_POST)->since, 0);
}

/* Each since is when the outcome began to hold, as the records show it:
 * the later start of the facts it rests on.  The acceptance review read
 * not_suspended "since null" after a reinstatement and on_post "since
 * midnight" of a post taken up hours later. */
static void test_since_is_when_the_outcome_began(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	struct gate_status st;

	f.lifted_at = NOW - 5;             /* reinstated */
	f.on_post_since = T0 - 4 * BM_DAY; /* taken up long before this post */
	gate_eval(&f, &p, NOW, &st);
	assert_int_equal(find(&st, GATE_NOT_SUSPENDED)->since, NOW - 5);
	assert_int_equal(find(&st, GATE_ON_POST)->since, T0 + BM_DAY);   /* the post's start */
	f.on_post_since = 0;               /* taken up before the date was kept */
	gate_eval(&f, &p, NOW, &st);
	assert_true(find(&st, GATE_ON_POST)->ok);
	assert_int_equal(find(&st, GATE_ON_POST)->since, 0);
	/* no review ever decided: missing since the record began; the review
	 * in force rejected: since the rejection */
	f = good_facts();
	f.review = false;
	f.review_approved_at = 0;
	gate_eval(&f, &p, NOW, &st);
	assert_int_equal(find(&st, GATE_REVIEW)->since, T0 - 30 * BM_DAY);
	f.review_rejected_at = NOW - 9;
	gate_eval(&f, &p, NOW, &st);
	assert_int_equal(find(&st, GATE_REVIEW)->since, NOW - 9);
	assert_int_equal(find(&st, GATE_REVIEW)->valid_until, 0);
	/* no secret post: since the last one ended, else the record's start */
	f = good_facts();
	f.level = 0;
	assert_int_equal(gate_no_post_since(&f), T0 - 30 * BM_DAY);
	f.secret_post_ended = NOW - 2;
	assert_int_equal(gate_no_post_since(&f), NOW - 2);
}

static void test_level_zero_never_cleared(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_status st;
	int levels[] = {0, -1, 4, 99};
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		struct gate_facts f = good_facts();
		f.level = levels[i];
		gate_eval(&f, &p, NOW, &st);
		assert_false(st.cleared);
		assert_int_equal(st.level, 0);
		/* at level 0 only the suspension is evaluated (a denial names it) */
		assert_int_equal(st.n, levels[i] == 0 ? 1 : 0);
		assert_int_equal(st.reasons, 1u << REASON_NO_SECRET_POST);
	}
}

/* A suspended person with no secret-related post: the denial names both
 * reasons, not only the missing post. */
static void test_level_zero_suspended_named(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	struct gate_status st;

	f.level = 0;
	f.suspended = true;
	gate_eval(&f, &p, NOW, &st);
	assert_false(st.cleared);
	assert_int_equal(st.reasons, 1u << REASON_NO_SECRET_POST | 1u << REASON_SUSPENDED);
	assert_int_equal(st.n, 1);
	assert_int_equal(st.r[0].kind, GATE_NOT_SUSPENDED);
	assert_false(st.r[0].ok);
	f.suspended = false;
	f.state = ST_SUSPENDED;
	gate_eval(&f, &p, NOW, &st);
	assert_int_equal(st.reasons, 1u << REASON_NO_SECRET_POST | 1u << REASON_SUSPENDED);
}

static void test_every_failure_listed(void **state)
{
	(void)state;
	struct policy p = test_policy(STD_GATES);
	struct gate_facts f = good_facts();
	struct gate_status st;
	f.state = ST_LEAVING;
	f.suspended = true;
	f.review = false;
	gate_eval(&f, &p, NOW, &st);
	assert_false(st.cleared);
	assert_int_equal(st.reasons, (1u << REASON_NOT_ON_POST) | (1u << REASON_SUSPENDED) |
					     (1u << REASON_REVIEW_MISSING));
	for (int i = 0; i < st.n; i++)
		assert_false(st.r[i].ok);
	assert_int_equal(st.valid_until, GATE_NEVER);  /* no holding gate */
}

static void test_policy_gate_set(void **state)
{
	(void)state;
	struct gate_status st;
	/* A policy listing no gates (policy_from_json refuses one, a stored or
	 * hand-built one may not have been) still requires being on post,
	 * reviewed and not suspended. */
	struct policy p = test_policy(0);
	struct gate_facts f = good_facts();
	gate_eval(&f, &p, NOW, &st);
	assert_int_equal(st.n, 3);
	assert_non_null(find(&st, GATE_ON_POST));
	assert_non_null(find(&st, GATE_NOT_SUSPENDED));
	assert_non_null(find(&st, GATE_REVIEW));
	assert_true(st.cleared);
	f.review = false;
	gate_eval(&f, &p, NOW, &st);
	assert_false(st.cleared);
	assert_int_equal(st.reasons, 1u << REASON_REVIEW_MISSING);
	assert_int_equal(st.valid_until, GATE_NEVER);      /* nothing else lapses by time */
	assert_int_equal(st.lapse, REASON_CLEARANCE_LAPSED); /* and no gate says one would */
	f.state = ST_RELEASED;
	gate_eval(&f, &p, NOW, &st);
	assert_false(st.cleared);
	/* A listed gate without an evaluator fails closed. */
	p = test_policy(STD_GATES | (1u << GATE_EXAM));
	f = good_facts();
	gate_eval(&f, &p, NOW, &st);
	assert_false(st.cleared);
	assert_string_equal(find(&st, GATE_EXAM)->code, "gate_unavailable");
	assert_int_equal(find(&st, GATE_EXAM)->since, 0);   /* unknown: null in the status */
	assert_int_equal(st.reasons, 1u << REASON_GATE_UNAVAILABLE);
	assert_true(gate_has_eval(GATE_REVIEW));
	assert_false(gate_has_eval(GATE_EXAM));
	assert_false(gate_has_eval(-1));
	assert_false(gate_has_eval(GATE__COUNT));
}

static void test_reason_table(void **state)
{
	(void)state;
	for (int r = 0; r < REASON__COUNT; r++) {
		const char *c = gate_reason_code(r);
		assert_int_equal(gate_reason_parse(c), r);
		assert_true(strlen(gate_reason_msg_en(r)) > 5);
		assert_true(strlen(gate_reason_msg_zh(r)) > 5);
		assert_string_not_equal(gate_reason_msg_en(r), gate_reason_msg_zh(r));
	}
	assert_string_equal(gate_reason_code(REASON_NEED_TO_KNOW), "need_to_know");
	/* reason 0 is a reason like the others: an unknown person's denial
	 * says what happened, not "Unknown reason." */
	assert_string_equal(gate_reason_code(REASON_UNKNOWN_PERSON), "unknown_person");
	assert_string_equal(gate_reason_msg_en(REASON_UNKNOWN_PERSON), "No such person is on record.");
	assert_string_equal(gate_reason_msg_zh(REASON_UNKNOWN_PERSON), "无此人员记录。");
	assert_string_equal(gate_reason_msg_en(REASON__COUNT), "Unknown reason.");
	assert_string_equal(gate_reason_msg_zh(-1), "未知原因。");
	assert_string_equal(gate_reason_code(-1), "unknown");
	assert_string_equal(gate_reason_code(REASON__COUNT), "unknown");
	assert_int_equal(gate_reason_parse("nope"), -1);
	assert_int_equal(gate_reason_parse(""), -1);
	assert_int_equal(gate_reason_parse(NULL), -1);
	assert_int_equal(gate_reason_parse("\xff\xfe"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_gates_hold),
		cmocka_unit_test(test_review_missing),
		cmocka_unit_test(test_review_expires_exactly_at_due),
		cmocka_unit_test(test_review_interval_follows_level),
		cmocka_unit_test(test_review_due_recorded_wins),
		cmocka_unit_test(test_shorter_interval_beats_recorded_date),
		cmocka_unit_test(test_no_interval_never_lapses),
		cmocka_unit_test(test_review_due_approved_at_end_of_time),
		cmocka_unit_test(test_damaged_facts_never_cleared),
		cmocka_unit_test(test_review_level_too_low),
		cmocka_unit_test(test_suspended),
		cmocka_unit_test(test_suspended_whatever_the_policy),
		cmocka_unit_test(test_not_on_post_states),
		cmocka_unit_test(test_appointment_end_lapses),
		cmocka_unit_test(test_since_dates_each_outcome),
		cmocka_unit_test(test_since_is_when_the_outcome_began),
		cmocka_unit_test(test_level_zero_never_cleared),
		cmocka_unit_test(test_level_zero_suspended_named),
		cmocka_unit_test(test_every_failure_listed),
		cmocka_unit_test(test_policy_gate_set),
		cmocka_unit_test(test_reason_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
