/*
 * test_clearance.c - the vetting rules through the service layer: review
 * cases (who may open and decide, checklist, two approvers for core),
 * appointment gating, activation, matters and suspension, the due list and
 * the clearance status view.  A real database in a temporary directory.
 */
#include "service/service.h"
#include "service/svc_internal.h"
#include "core/lifecycle.h"
#include "core/policy.h"
#include "core/role.h"
#include "lib/buf.h"
#include "lib/clock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "svc_fixture.h"

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#define T0 1767225600  /* 2026-01-01 */

static const struct actor rev1 = {.name = "rev1", .roles = ROLE_REVIEWER};
static const struct actor rev2 = {.name = "rev2", .roles = ROLE_REVIEWER};
static const struct actor sec = {.name = "sec", .roles = ROLE_SECADMIN};

static int setup(void **state)
{
	const struct post_input posts[] = {{"P1", "HQ", "confidential", "", "c"},
					   {"P2", "HQ", "secret", "ALPHA", "s"},
					   {"P3", "HQ", "top_secret", "ALPHA,BRAVO", "ts"},
					   {"P0", "HQ", "none", "", "n"}};

	*state = fx_open(T0, posts, sizeof posts / sizeof posts[0]);
	return 0;
}

static int teardown(void **state)
{
	return fx_close(state);
}

static void add_person(struct fx *f, const char *id)
{
	struct person_input in = {id, "Name", "HQ", NULL, NULL};
	struct person_rec r;

	assert_int_equal(svc_person_add(f->s, &local, &in, &r, &f->e), 0);
}

static const char *str(json_t *v, const char *k)
{
	return json_string_value(json_object_get(v, k));
}

static const char *person_state(struct fx *f, const char *id)
{
	static char buf[32];
	json_t *v = svc_person_show(f->s, &local, id, false, &f->e);

	assert_non_null(v);
	snprintf(buf, sizeof buf, "%s", str(v, "state"));
	json_decref(v);
	return buf;
}

static void approve(struct fx *f, const struct actor *a, int64_t rid, const char *want)
{
	json_t *v = svc_review_decide(f->s, a, rid, true, "fine", 0, &f->e);

	assert_non_null(v);
	assert_string_equal(str(v, "state"), want);
	json_decref(v);
}

/* The opener and the person may not decide; the first approval of a
 * secret review closes it and moves the candidate on. */
static void test_review_who_decides(void **state)
{
	struct fx *f = *state;
	const struct actor self = {.name = "person:E1", .roles = ROLE_REVIEWER, .person = "E1"};
	int64_t rid;

	add_person(f, "E1");
	assert_null(svc_review_open(f->s, &rev1, "E1", "secret", &f->e));
	assert_int_equal(f->e.code, BM_EPERM);
	rid = fx_review_clear(f, "E1", "secret");
	assert_string_equal(person_state(f, "E1"), "reviewing");
	assert_null(svc_review_open(f->s, &local, "E1", "secret", &f->e));
	assert_int_equal(f->e.code, BM_EEXIST);
	assert_null(svc_review_decide(f->s, &local, rid, true, "mine", 0, &f->e));
	assert_int_equal(f->e.code, BM_EPERM);
	assert_null(svc_review_decide(f->s, &self, rid, true, "me", 0, &f->e));
	assert_int_equal(f->e.code, BM_EPERM);
	assert_null(svc_review_decide(f->s, &sec, rid, true, "", 0, &f->e));
	assert_int_equal(f->e.code, BM_EINVAL);
	approve(f, &rev1, rid, "approved");
	assert_string_equal(person_state(f, "E1"), "onboarding");
	assert_null(svc_review_decide(f->s, &rev2, rid, true, "late", 0, &f->e));
	assert_int_equal(f->e.code, BM_ESTATE);
}

/* Core needs two distinct approvers; valid until one year later. */
static void test_core_two_approvers(void **state)
{
	struct fx *f = *state;
	int64_t rid;
	json_t *v;

	add_person(f, "E2");
	rid = fx_review_clear(f, "E2", "top_secret");
	approve(f, &rev1, rid, "open");
	assert_null(svc_review_decide(f->s, &rev1, rid, true, "again", 0, &f->e));
	assert_int_equal(f->e.code, BM_EEXIST);
	clock_set(T0 + 100);
	v = svc_review_decide(f->s, &rev2, rid, true, "concur", 0, &f->e);
	assert_non_null(v);
	assert_string_equal(str(v, "state"), "approved");
	assert_string_equal(str(v, "valid_until"), "2027-01-01T00:01:40Z");
	assert_int_equal(json_array_size(json_object_get(v, "approvals")), 2);
	json_decref(v);
}

static void test_checklist_rules(void **state)
{
	struct fx *f = *state;
	json_t *v = NULL;
	int64_t rid;

	add_person(f, "E3");
	v = svc_review_open(f->s, &local, "E3", "secret", &f->e);
	rid = json_integer_value(json_object_get(v, "id"));
	json_decref(v);
	assert_null(svc_review_decide(f->s, &rev1, rid, true, "too soon", 0, &f->e));
	assert_int_equal(f->e.code, BM_ESTATE);
	assert_non_null(strstr(f->e.msg, "item 1"));
	assert_null(svc_review_finding(f->s, &local, rid, 0, "clear", NULL, 0, &f->e));
	assert_int_equal(f->e.code, BM_EINVAL);
	assert_null(svc_review_finding(f->s, &local, rid, 7, "clear", NULL, 0, &f->e));
	assert_null(svc_review_finding(f->s, &local, rid, 1, "maybe", NULL, 0, &f->e));
	assert_string_equal(f->e.field, "finding");
	assert_null(svc_review_finding(f->s, &local, rid, 1, "concern", NULL, 0, &f->e));
	assert_string_equal(f->e.field, "note");   /* a concern needs a note */
	assert_null(svc_review_finding(f->s, &local, rid, 1, "concern", "\xff\xfe", 0, &f->e));
	assert_null(svc_review_finding(f->s, &local, 999, 1, "clear", NULL, 0, &f->e));
	assert_int_equal(f->e.code, BM_ENOTFOUND);
	for (int i = 1; i <= 6; i++) {
		v = svc_review_finding(f->s, &local, rid, i, i == 2 ? "disqualifying" : "clear",
				       i == 2 ? "record" : NULL, 0, &f->e);
		assert_non_null(v);
		json_decref(v);
	}
	assert_null(svc_review_decide(f->s, &rev1, rid, true, "no", 0, &f->e));
	assert_non_null(strstr(f->e.msg, "disqualifying"));
	v = svc_review_decide(f->s, &rev1, rid, false, "item 2", 0, &f->e);
	assert_non_null(v);
	json_decref(v);
	assert_string_equal(person_state(f, "E3"), "rejected");
	assert_null(svc_review_open(f->s, &local, "NOPE", "secret", &f->e));
	assert_int_equal(f->e.code, BM_ENOTFOUND);
	assert_null(svc_review_open(f->s, &local, "E3", "none", &f->e));
	assert_int_equal(f->e.code, BM_EINVAL);
}

static void test_appointment_gating(void **state)
{
	struct fx *f = *state;
	struct appt_input in = {"E4", "P2", NULL, NULL};
	struct appt_input lo = {"E4", "P0", NULL, NULL};
	struct appt_input ts = {"E4", "P3", NULL, NULL};
	struct appt_rec ar;

	add_person(f, "E4");
	assert_int_equal(svc_appt_add(f->s, &local, &in, &ar, &f->e), BM_ESTATE);
	assert_non_null(strstr(f->e.msg, "review_missing"));
	assert_int_equal(svc_appt_add(f->s, &local, &lo, &ar, &f->e), 0);  /* level 0 */
	approve(f, &rev1, fx_review_clear(f, "E4", "secret"), "approved");
	assert_int_equal(svc_appt_add(f->s, &local, &ts, &ar, &f->e), BM_ESTATE);
	assert_non_null(strstr(f->e.msg, "review_level_too_low"));
	clock_set(T0 + 3 * 365 * 86400 + 86400);   /* key: re-review after 3 years */
	assert_int_equal(svc_appt_add(f->s, &local, &in, &ar, &f->e), BM_ESTATE);
	assert_non_null(strstr(f->e.msg, "review_expired"));
	clock_set(T0 + 86400);
	assert_int_equal(svc_appt_add(f->s, &local, &in, &ar, &f->e), 0);
}

/* Active person with a secret post, cleared. */
static void make_active(struct fx *f, const char *id)
{
	struct appt_input in = {id, "P2", NULL, NULL};
	struct appt_rec ar;

	add_person(f, id);
	assert_int_equal(svc_person_activate(f->s, &local, id, &f->e), BM_ESTATE);
	approve(f, &rev1, fx_review_clear(f, id, "secret"), "approved");
	assert_int_equal(svc_appt_add(f->s, &local, &in, &ar, &f->e), 0);
	assert_int_equal(svc_person_activate(f->s, &local, id, &f->e), 0);
}

static bool cleared(struct fx *f, const char *id)
{
	json_t *v = svc_clearance(f->s, &local, id, clock_now(), &f->e);
	bool c;

	assert_non_null(v);
	c = json_is_true(json_object_get(v, "cleared"));
	json_decref(v);
	return c;
}

/* The since of gate `name` in id's clearance now: Unix seconds, 0 when
 * null, -1 when the gate is not listed. */
static int64_t gate_since(struct fx *f, const char *id, const char *name)
{
	json_t *v = svc_clearance(f->s, &local, id, clock_now(), &f->e), *g;
	int64_t t = -1;
	size_t i;

	assert_non_null(v);
	json_array_foreach(json_object_get(v, "gates"), i, g) {
		if (strcmp(str(g, "gate"), name) != 0)
			continue;
		t = 0;
		if (str(g, "since") != NULL)
			assert_int_equal(clock_parse(str(g, "since"), "since", &t, &f->e), 0);
	}
	json_decref(v);
	return t;
}

/* A status says since when each outcome holds: a state without a post
 * since it was entered (a failed or refused write moves nothing), a held
 * post since its appointment, a suspension since it began. */
static void test_gates_say_since_when(void **state)
{
	struct fx *f = *state;
	struct appt_input in = {"E8", "P2", NULL, NULL};
	struct person_patch rename = {"New Name", NULL, 0};
	struct person_rec pr;
	struct appt_rec ar;
	json_t *v;

	clock_set(T0 + 10);
	add_person(f, "E8");
	clock_set(T0 + 20);
	v = svc_review_open(f->s, &local, "E8", "secret", &f->e);
	assert_non_null(v);
	int64_t rid = json_integer_value(json_object_get(v, "id"));
	json_decref(v);
	assert_int_equal(gate_since(f, "E8", "on_post"), -1);   /* level 0: no post to hold */
	for (int i = 1; i <= 6; i++) {
		v = svc_review_finding(f->s, &local, rid, i, "clear", "", 0, &f->e);
		assert_non_null(v);
		json_decref(v);
	}
	clock_set(T0 + 40);
	approve(f, &rev1, rid, "approved");
	clock_set(T0 + 50);
	assert_int_equal(svc_appt_add(f->s, &local, &in, &ar, &f->e), 0);
	assert_string_equal(person_state(f, "E8"), "onboarding");
	assert_int_equal(gate_since(f, "E8", "on_post"), T0 + 40);       /* onboarding since */
	clock_set(T0 + 55);   /* an edit, and a refused write, move nothing */
	assert_int_equal(svc_person_update(f->s, &local, "E8", &rename, &pr, &f->e), 0);
	assert_int_equal(svc_person_suspend(f->s, &local, "E8", " ", &f->e), BM_EINVAL);
	assert_int_equal(gate_since(f, "E8", "on_post"), T0 + 40);
	clock_set(T0 + 60);
	assert_int_equal(gate_since(f, "E8", "not_suspended"), T0 + 10); /* record's start */
	assert_int_equal(svc_person_activate(f->s, &local, "E8", &f->e), 0);
	/* held since taken up, not since the appointment's midnight before it */
	assert_true(ar.start < T0 + 60);
	assert_int_equal(gate_since(f, "E8", "on_post"), T0 + 60);
	assert_int_equal(gate_since(f, "E8", "review"), T0 + 40);        /* the approval */
	clock_set(T0 + 70);
	assert_int_equal(svc_person_suspend(f->s, &local, "E8", "inquiry", &f->e), 0);
	assert_int_equal(gate_since(f, "E8", "not_suspended"), T0 + 70);
	assert_int_equal(gate_since(f, "E8", "on_post"), T0 + 60);
	clock_set(T0 + 90);   /* a reinstatement restarts not_suspended, not on_post */
	assert_int_equal(svc_person_reinstate(f->s, &local, "E8", "cleared", &f->e), 0);
	assert_int_equal(gate_since(f, "E8", "not_suspended"), T0 + 90);
	assert_int_equal(gate_since(f, "E8", "on_post"), T0 + 60);
}

/* A review below the level of the posts a person holds covers none of
 * them: it is refused, naming the level; at or above it opens. */
static void test_no_review_below_the_post(void **state)
{
	struct fx *f = *state;
	json_t *v;

	make_active(f, "E9");                     /* on P2, a secret post */
	assert_null(svc_review_open(f->s, &local, "E9", "confidential", &f->e));
	assert_int_equal(f->e.code, BM_EINVAL);
	assert_string_equal(f->e.field, "level");
	assert_non_null(strstr(f->e.msg, "secret post"));
	v = svc_review_open(f->s, &local, "E9", "top_secret", &f->e);
	assert_non_null(v);
	assert_string_equal(str(v, "trigger"), "rereview");
	json_decref(v);
}

/* A person who has left (leaving and later) is refused a review for that
 * reason, whatever level is asked: the posts they still have on record
 * are no reason to name, and raising the level would only meet the real
 * refusal. */
static void test_leaver_review_refused_for_leaving(void **state)
{
	struct fx *f = *state;

	make_active(f, "E9");                     /* on P2, a secret post */
	assert_int_equal(svc__person_set_state(f->s, &local, "E9", ST_LEAVING, "leaves", &f->e), 0);
	assert_null(svc_review_open(f->s, &local, "E9", "confidential", &f->e));
	assert_int_equal(f->e.code, BM_ESTATE);
	assert_string_equal(f->e.field, "person");
	assert_non_null(strstr(f->e.msg, "is leaving"));
	assert_null(svc_review_open(f->s, &local, "E9", "secret", &f->e));
	assert_int_equal(f->e.code, BM_ESTATE);
}

static void test_matters_and_suspension(void **state)
{
	struct fx *f = *state;
	const struct actor me = {.name = "person:E5", .roles = ROLE_PERSON, .person = "E5"};
	json_t *v;

	make_active(f, "E5");
	make_active(f, "E6");
	assert_true(cleared(f, "E5"));
	assert_null(svc_matter_file(f->s, &me, "E6", "leak", NULL, &f->e));
	assert_int_equal(f->e.code, BM_EPERM);
	assert_null(svc_matter_file(f->s, &me, "E5", "gossip", NULL, &f->e));
	assert_int_equal(f->e.code, BM_EINVAL);
	v = svc_matter_file(f->s, &me, "E5", "foreign_marriage", "spouse", &f->e);
	assert_non_null(v);
	assert_string_equal(str(v, "action"), "rereview");
	json_decref(v);
	assert_true(cleared(f, "E5"));
	clock_set(T0 + 31 * 86400);                 /* re-review within 30 days */
	assert_false(cleared(f, "E5"));
	v = svc_matter_file(f->s, &local, "E6", "leak", "usb stick", &f->e);
	assert_non_null(v);
	json_decref(v);
	assert_string_equal(person_state(f, "E6"), "suspended");
	assert_false(cleared(f, "E6"));
	assert_int_equal(svc_person_reinstate(f->s, &rev1, "E6", "ok", &f->e), BM_EPERM);
	assert_int_equal(svc_person_reinstate(f->s, &sec, "E6", "", &f->e), BM_EINVAL);
	assert_int_equal(svc_person_reinstate(f->s, &sec, "E6", "cleared up", &f->e), 0);
	assert_string_equal(person_state(f, "E6"), "active");
	assert_true(cleared(f, "E6"));
	assert_int_equal(svc_person_reinstate(f->s, &sec, "E6", "again", &f->e), BM_ESTATE);
	assert_int_equal(svc_person_suspend(f->s, &sec, "E6", "audit finding", &f->e), 0);
	assert_int_equal(svc_person_suspend(f->s, &sec, "E6", "twice", &f->e), BM_ESTATE);
	assert_false(cleared(f, "E6"));
}

/* A matter asking for a re-review while one is open: the open review
 * serves, its deadline brought forward to the day the clearance now
 * lapses (so the due list shows that day), and the matter names it. */
static void test_matter_brings_open_review_forward(void **state)
{
	struct fx *f = *state;
	json_t *v, *r, *c;
	json_int_t rid;

	make_active(f, "E7");
	r = svc_review_open(f->s, &local, "E7", "secret", &f->e);
	assert_non_null(r);
	rid = json_integer_value(json_object_get(r, "id"));
	assert_true(json_is_null(json_object_get(r, "due_at")));
	json_decref(r);
	v = svc_matter_file(f->s, &local, "E7", "foreign_marriage", "spouse", &f->e);
	assert_non_null(v);
	assert_int_equal(json_integer_value(json_object_get(v, "review")), rid);
	json_decref(v);
	r = svc_review_show(f->s, &local, rid, &f->e);
	c = svc_clearance(f->s, &local, "E7", clock_now(), &f->e);
	assert_non_null(r);
	assert_non_null(c);
	assert_false(json_is_null(json_object_get(r, "due_at")));
	assert_true(json_equal(json_object_get(r, "due_at"), json_object_get(c, "valid_until")));
	json_decref(r);
	json_decref(c);
	clock_set(T0 + 10 * 86400);                  /* a later deadline never postpones */
	v = svc_matter_file(f->s, &local, "E7", "foreign_marriage", "again", &f->e);
	assert_non_null(v);
	json_decref(v);
	r = svc_review_show(f->s, &local, rid, &f->e);
	c = svc_clearance(f->s, &local, "E7", clock_now(), &f->e);
	assert_true(json_equal(json_object_get(r, "due_at"), json_object_get(c, "valid_until")));
	json_decref(r);
	json_decref(c);
}

/* An appointment takes effect when it is recorded: a start or end date in
 * the future would clear the person before their first day (start) or drop
 * the post at once while it is shown as running to a later day (end). */
static void test_appointment_dates_not_future(void **state)
{
	struct fx *f = *state;
	struct appt_input later = {"E8", "P2", "2026-02-01", NULL};
	struct appt_input until = {"E8", "P2", NULL, "2026-06-30"};
	struct appt_input now = {"E8", "P2", "2026-01-01", NULL};
	struct appt_rec ar;

	add_person(f, "E8");
	approve(f, &rev1, fx_review_clear(f, "E8", "secret"), "approved");
	assert_int_equal(svc_appt_add(f->s, &local, &later, &ar, &f->e), BM_EINVAL);
	assert_string_equal(f->e.field, "start");
	assert_int_equal(svc_appt_add(f->s, &local, &until, &ar, &f->e), BM_EINVAL);
	assert_string_equal(f->e.field, "end");
	assert_int_equal(svc_appt_add(f->s, &local, &now, &ar, &f->e), 0);
	assert_int_equal(svc_person_activate(f->s, &local, "E8", &f->e), 0);
	assert_true(cleared(f, "E8"));
	assert_int_equal(svc_appt_end(f->s, &local, "E8", ar.id, "2026-03-01", &f->e), BM_EINVAL);
	assert_string_equal(f->e.field, "date");
	assert_true(cleared(f, "E8"));
}

static void test_due_and_status(void **state)
{
	struct fx *f = *state;
	json_t *v, *g;

	make_active(f, "E7");
	v = svc_clearance(f->s, &local, "E7", clock_now(), &f->e);
	assert_non_null(v);
	assert_string_equal(str(v, "category"), "key");
	assert_string_equal(str(v, "valid_until"), "2028-12-31T00:00:00Z");
	g = json_array_get(json_object_get(v, "gates"), 0);
	assert_string_equal(str(g, "gate"), "review");
	assert_true(json_is_true(json_object_get(g, "ok")));
	assert_non_null(json_object_get(json_object_get(g, "message"), "zh"));
	json_decref(v);
	v = fx_open_due(f->s, NULL, clock_now(), &f->e);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
	clock_set(T0 + (3 * 365 - 80) * 86400);
	v = fx_open_due(f->s, NULL, clock_now(), &f->e);
	assert_int_equal(json_array_size(v), 1);
	assert_string_equal(str(json_array_get(v, 0), "trigger"), "rereview");
	json_decref(v);
	v = fx_open_due(f->s, NULL, clock_now(), &f->e);
	assert_int_equal(json_array_size(v), 0);    /* already open */
	json_decref(v);
	v = svc_due(f->s, &local, clock_now(), &(struct due_query){.within = 90 * 86400}, &f->e);
	assert_int_equal(json_array_size(json_object_get(v, "items")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
		json_object_get(v, "items"), 0), "reminder_days")), 90);
	json_decref(v);
	assert_null(svc_clearance(f->s, &local, "", clock_now(), &f->e));
	v = svc_report_compliance(f->s, &sec, "HQ", clock_now(), &f->e);
	assert_non_null(v);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
		json_object_get(v, "units"), 0), "cleared")), 1);
	json_decref(v);
	assert_null(svc_report_compliance(f->s, &rev1, NULL, clock_now(), &f->e));
	assert_int_equal(f->e.code, BM_EPERM);
}

/* A due run in a process that has not yet seen a policy another process
 * loaded uses the new policy's reminder horizon: the run's transaction
 * brings the policy, and the scan made before it under the old one is
 * redone. */
static void test_due_run_uses_newest_policy(void **state)
{
	struct fx *f = *state;
	struct svc_paths p = {f->db, NULL};
	struct svc *other;
	struct policy pol;
	struct buf doc = BUF_INIT;
	int64_t ver;
	json_t *v;

	make_active(f, "E8");
	clock_set(T0 + (3 * 365 - 150) * 86400);     /* due in 150 days: past 90 */
	assert_int_equal(svc_open(&p, &other, &f->e), 0);
	assert_int_equal(policy_builtin("cn", &pol, &f->e), 0);
	pol.reminders[0] = 180;
	policy_to_json(&pol, &doc);
	assert_int_equal(svc_policy_load(other, &local, doc.p, doc.len, 0, &ver, &f->e), 0);
	buf_free(&doc);
	svc_close(other);
	v = fx_open_due(f->s, NULL, clock_now(), &f->e);
	assert_non_null(v);
	assert_int_equal(json_array_size(v), 1);
	json_decref(v);
}

/* Review lists: by id, paged with limit and after_id, narrowed or widened
 * by state; a bad state or a negative limit names its field. */
static void test_review_list_pages(void **state)
{
	struct fx *f = *state;
	struct svc_page pg = {0};
	struct review_query q = {0};
	int64_t last, first_id;
	json_t *v;

	make_active(f, "L1");                  /* an approved review each */
	make_active(f, "L2");
	add_person(f, "L3");
	json_decref(svc_review_open(f->s, &local, "L3", "secret", &f->e));
	v = svc_review_list(f->s, &local, &q, &f->e);          /* open ones by default */
	assert_int_equal(json_array_size(v), 1);
	assert_string_equal(str(json_array_get(v, 0), "person"), "L3");
	json_decref(v);
	q.state = "all";
	pg.limit = 2;
	q.page = &pg;
	v = svc_review_list(f->s, &local, &q, &f->e);
	last = pg.last_id;
	assert_int_equal(json_array_size(v), 2);
	first_id = json_integer_value(json_object_get(json_array_get(v, 0), "id"));
	assert_int_equal(last, json_integer_value(json_object_get(json_array_get(v, 1), "id")));
	assert_true(first_id < last);
	json_decref(v);
	pg.after_id = last;
	v = svc_review_list(f->s, &local, &q, &f->e);
	assert_int_equal(json_array_size(v), 1);
	assert_string_equal(str(json_array_get(v, 0), "person"), "L3");
	json_decref(v);
	q = (struct review_query){.person = "L1", .state = "open"};
	v = svc_review_list(f->s, &local, &q, &f->e);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
	q.state = "approved";
	v = svc_review_list(f->s, &local, &q, &f->e);
	assert_int_equal(json_array_size(v), 1);
	json_decref(v);
	q.state = "Open";
	assert_null(svc_review_list(f->s, &local, &q, &f->e));
	assert_int_equal(f->e.code, BM_EINVAL);
	assert_string_equal(f->e.field, "state");
	pg = (struct svc_page){.limit = -1};
	q = (struct review_query){.page = &pg};
	assert_null(svc_review_list(f->s, &local, &q, &f->e));
	assert_string_equal(f->e.field, "limit");
}

/* Every change to a review gives it a new version, and a finding or a
 * decision made on a version someone has since changed is refused whole:
 * a reviewer approves the checklist they read, not one edited meanwhile. */
static void test_review_versions(void **state)
{
	struct fx *f = *state;
	int64_t rid, v1, v2;
	json_t *v;

	add_person(f, "V1");
	rid = fx_review_clear(f, "V1", "secret");
	v = svc_review_show(f->s, &local, rid, &f->e);
	v1 = json_integer_value(json_object_get(v, "version"));
	json_decref(v);
	v = svc_review_finding(f->s, &local, rid, 3, "concern", "a debt", v1, &f->e);
	assert_non_null(v);
	v2 = json_integer_value(json_object_get(v, "version"));
	assert_int_equal(v2, v1 + 1);
	json_decref(v);
	/* the reviewer read v1 (item 3 clear): the approval is refused */
	assert_null(svc_review_decide(f->s, &rev1, rid, true, "all clear", v1, &f->e));
	assert_int_equal(f->e.code, BM_ECONFLICT);
	assert_null(svc_review_finding(f->s, &local, rid, 3, "clear", NULL, v1, &f->e));
	assert_int_equal(f->e.code, BM_ECONFLICT);
	v = svc_review_show(f->s, &local, rid, &f->e);
	assert_string_equal(str(v, "state"), "open");
	assert_int_equal(json_integer_value(json_object_get(v, "version")), v2);
	json_decref(v);
	v = svc_review_decide(f->s, &rev1, rid, true, "concern weighed", v2, &f->e);
	assert_non_null(v);
	assert_string_equal(str(v, "state"), "approved");
	json_decref(v);
}

/* The report over many units: each unit's tally is its own, however many
 * units there are (the unit index grows past its first 64 slots). */
static void test_report_over_many_units(void **state)
{
	struct fx *f = *state;
	struct unit_rec u;
	char code[16], id[16];
	json_t *v, *units;
	size_t i;
	int seen = 0;

	for (int k = 0; k < 150; k++) {
		snprintf(code, sizeof code, "U%03d", k);
		assert_int_equal(svc_unit_add(f->s, &local, &(struct unit_input){code, code, "HQ"},
					      &u, &f->e), 0);
		for (int j = 0; j <= k % 3; j++) {
			struct person_input in = {id, "Name", code, NULL, NULL};
			struct person_rec r;

			snprintf(id, sizeof id, "P%03d-%d", k, j);
			assert_int_equal(svc_person_add(f->s, &local, &in, &r, &f->e), 0);
		}
	}
	v = svc_report_compliance(f->s, &sec, NULL, clock_now(), &f->e);
	assert_non_null(v);
	units = json_object_get(v, "units");
	assert_int_equal(json_array_size(units), 150);
	for (i = 0; i < json_array_size(units); i++) {
		json_t *t = json_array_get(units, i);
		int k = atoi(str(t, "unit") + 1);

		assert_int_equal(json_integer_value(json_object_get(t, "not_cleared")), k % 3 + 1);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
			t, "persons"), "none"), "candidate")), k % 3 + 1);
		assert_int_equal(json_integer_value(json_object_get(t, "cleared")), 0);
		seen++;
	}
	assert_int_equal(seen, 150);
	json_decref(v);
}

/* The due list: a horizon near the end of time still lists what is due
 * (now + within must not wrap), an overdue item says reminder_days 0, one
 * before every offset null, and days left count a part day as a day. */
static void test_due_edges(void **state)
{
	struct fx *f = *state;
	json_t *v, *it;

	make_active(f, "E9");
	v = svc_due(f->s, &local, clock_now(), &(struct due_query){.within = INT64_C(106751991167299) * 86400}, &f->e);
	assert_non_null(v);
	assert_int_equal(json_array_size(json_object_get(v, "items")), 1);
	json_decref(v);
	v = svc_due(f->s, &local, clock_now(), &(struct due_query){.within = INT64_MAX}, &f->e);
	assert_non_null(v);
	assert_int_equal(json_array_size(json_object_get(v, "items")), 1);
	json_decref(v);
	assert_null(svc_due(f->s, &local, clock_now(), &(struct due_query){.within = -86400}, &f->e));
	assert_int_equal(f->e.code, BM_EINVAL);
	clock_set(T0 + 3 * 365 * 86400 + 3600);     /* an hour past the re-review date */
	v = svc_due(f->s, &local, clock_now(), &(struct due_query){.within = 0}, &f->e);
	assert_non_null(v);
	it = json_array_get(json_object_get(v, "items"), 0);
	assert_true(json_is_true(json_object_get(it, "overdue")));
	assert_int_equal(json_integer_value(json_object_get(it, "reminder_days")), 0);
	json_decref(v);
	clock_set(T0 + (3 * 365 - 7) * 86400 - 3600);  /* 7 days and an hour before */
	v = svc_due(f->s, &local, clock_now(), &(struct due_query){.within = 30 * 86400}, &f->e);
	assert_non_null(v);
	it = json_array_get(json_object_get(v, "items"), 0);
	assert_int_equal(json_integer_value(json_object_get(it, "reminder_days")), 30);
	/* a part day counts: 7 days and an hour are 8 days left, as the
	 * reminder says, not 7 */
	assert_int_equal(json_integer_value(json_object_get(it, "days_left")), 8);
	json_decref(v);
	clock_set(T0 + (3 * 365 - 91) * 86400);      /* before the first offset */
	v = svc_due(f->s, &local, clock_now(), &(struct due_query){.within = 100 * 86400}, &f->e);
	assert_non_null(v);
	it = json_array_get(json_object_get(v, "items"), 0);
	assert_int_equal(json_integer_value(json_object_get(it, "days_left")), 91);
	assert_true(json_is_null(json_object_get(it, "reminder_days")));
	json_decref(v);
}

/* The due list pages through persons whose ids are as long as an id may
 * be (63 bytes): each page's cursor names the last item's position, id
 * included, and the next page starts right after it.  Such a position did
 * not fit the cursor (9 + 63 bytes into 64: a stack overflow, and a cursor
 * its own list then refused). */
static void test_due_pages_long_ids(void **state)
{
	struct fx *f = *state;
	char ids[3][64], cur[SVC_CURSOR_LONG_MAX];
	struct due_query q = {.within = 10 * 365 * 86400, .limit = 1};
	json_t *v;

	for (int i = 0; i < 3; i++) {
		memset(ids[i], 'X', 63);
		ids[i][62] = (char)('a' + i);
		ids[i][63] = '\0';
		make_active(f, ids[i]);
	}
	for (int i = 0; i < 3; i++) {
		v = svc_due(f->s, &local, clock_now(), &q, &f->e);
		assert_non_null(v);
		assert_int_equal(json_array_size(json_object_get(v, "items")), 1);
		assert_string_equal(str(json_array_get(json_object_get(v, "items"), 0), "person"),
				    ids[i]);
		if (i < 2) {
			assert_non_null(str(v, "next_cursor"));
			snprintf(cur, sizeof cur, "%s", str(v, "next_cursor"));
			q.cursor = cur;
		} else {
			assert_true(json_is_null(json_object_get(v, "next_cursor")));
		}
		json_decref(v);
	}
}

struct facts_all {
	struct facts_rec *v;
	size_t n, cap;
};

static int facts_all_one(void *ctx, const struct facts_rec *r)
{
	struct facts_all *a = ctx;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 256;
		a->v = realloc(a->v, a->cap * sizeof *a->v);
		assert_non_null(a->v);
	}
	a->v[a->n++] = *r;
	return 0;
}

/* Edits that give the facts variety: ended and extra appointments,
 * suspensions lifted or not, re-review matters.  Refusals are expected
 * (the rules decide) and ignored. */
static void vary_persons(struct svc *s, int n, struct bm_err *e)
{
	for (int i = 0; i < n; i++) {
		char id[16];
		struct appt_input lv0 = {id, "P-204", NULL, NULL}, lv1 = {id, "P-103", NULL, NULL};
		struct appt_rec ar;
		json_t *v;

		snprintf(id, sizeof id, "E%04d", 1001 + i);
		if (i % 5 == 0)
			(void)svc_appt_add(s, &local, &lv0, &ar, e);
		if (i % 3 == 0)
			(void)svc_appt_add(s, &local, &lv1, &ar, e);
		if (i % 7 == 0 && svc_appt_add(s, &local, &lv0, &ar, e) == 0)
			(void)svc_appt_end(s, &local, id, ar.id, NULL, e);
		if (i % 11 == 0)
			(void)svc_person_suspend(s, &local, id, "test", e);
		if (i % 22 == 0)
			(void)svc_person_reinstate(s, &local, id, "test", e);
		if (i % 13 == 0 && (v = svc_matter_file(s, &local, id, "foreign_marriage", "x", e)))
			json_decref(v);
		bm_err_clear(e);
	}
}

/* A demo organisation of n persons in a fresh database under dir (a
 * mkdtemp template, filled in), its path in db; demo_db_drop removes it. */
static struct svc *demo_db(struct fx *f, char *dir, char db[128], int n)
{
	struct svc_paths p;
	struct svc *s;
	struct demo_summary sum;

	assert_non_null(mkdtemp(dir));
	snprintf(db, 128, "%s/d.db", dir);
	p = (struct svc_paths){db, NULL};
	assert_int_equal(svc_init(&p, "cn", &local, &f->e), 0);
	assert_int_equal(svc_open(&p, &s, &f->e), 0);
	assert_int_equal(svc_demo(s, &local, 7, n, &sum, &f->e), 0);
	return s;
}

static void demo_db_drop(struct svc *s, const char *dir)
{
	char cmd[160];

	svc_close(s);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The demo moves the clock back for the persons whose review it lets
 * expire; it puts it back as it was.  A clock fixed by the caller (a test,
 * or BAOMI_NOW read through clock_set) was left real afterwards. */
static void test_demo_puts_the_clock_back(void **state)
{
	char dir[] = "/tmp/bm_dc_XXXXXX", db[128];
	struct svc *s;

	clock_set(1780000000);
	s = demo_db(*state, dir, db, 200);
	assert_int_equal(clock_fixed(), 1780000000);
	demo_db_drop(s, dir);
}

/* The clearance scan has two SQL forms: one person's (correlated
 * subqueries) and everyone's (one grouped pass over the appointments).
 * Status and activation read the first, the snapshot, due list and report
 * the second: over a demo organisation with edits and hand-damaged rows,
 * both must give every person the very same facts. */
static void test_facts_scan_forms_agree(void **state)
{
	struct fx *f = *state;
	char dir[] = "/tmp/bm_fa_XXXXXX", db[128];
	struct svc *s;
	struct facts_all all = {0};
	sqlite3 *h;
	int damaged = 0, levels[4] = {0}, suspended = 0, lifted = 0;

	clock_set(0);
	s = demo_db(f, dir, db, 400);
	vary_persons(s, 400, &f->e);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA foreign_keys = OFF;"
		"UPDATE persons SET level = (level + 1) % 4 WHERE ext_id = 'E1010';"
		"UPDATE persons SET compartments = 'B,A' WHERE ext_id = 'E1020';"
		"UPDATE reviews SET valid_until = 1 WHERE id = (SELECT max(id) FROM reviews "
		"WHERE state = 1);"
		"DELETE FROM posts WHERE code = 'P-401';", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(ST(s)->facts_scan(s->st, 0, facts_all_one, &all, &f->e), 0);
	assert_int_equal((int64_t)all.n, 400);
	for (size_t i = 0; i < all.n; i++) {
		struct facts_rec one;

		memset(&one, 0, sizeof one);
		assert_int_equal(ST(s)->facts_scan(s->st, all.v[i].person_id, svc__facts_keep, &one,
						   &f->e), 1);
		if (memcmp(&one, &all.v[i], sizeof one) != 0)
			fail_msg("the two scans disagree on %s: level %d/%d since %lld/%lld "
				 "damage \"%s\"/\"%s\"", all.v[i].ext_id, one.level, all.v[i].level,
				 (long long)one.post_since, (long long)all.v[i].post_since,
				 one.damage, all.v[i].damage);
		damaged += one.damage[0] != '\0';
		suspended += one.suspended_since != 0;
		lifted += one.last_lifted != 0;
		levels[one.level]++;
	}
	/* the world was varied: damage, suspensions in force and lifted (each
	 * form reads them its own way), and persons at every level */
	assert_true(damaged >= 3);
	assert_true(suspended >= 3 && lifted >= 3);
	for (int l = 0; l < 4; l++)
		assert_true(levels[l] > 0);
	free(all.v);
	demo_db_drop(s, dir);
}

/* Taking up the post needs a post: an approved person with no appointment
 * stays onboarding instead of becoming "active" (在岗) with nothing held. */
static void test_activate_needs_a_post(void **state)
{
	struct fx *f = *state;
	struct appt_input lo = {"E10", "P0", NULL, NULL};
	struct appt_rec ar;

	add_person(f, "E10");
	approve(f, &rev1, fx_review_clear(f, "E10", "secret"), "approved");
	assert_int_equal(svc_person_activate(f->s, &local, "E10", &f->e), BM_ESTATE);
	assert_non_null(strstr(f->e.msg, "no post"));
	assert_string_equal(person_state(f, "E10"), "onboarding");
	assert_int_equal(svc_appt_add(f->s, &local, &lo, &ar, &f->e), 0);
	assert_int_equal(svc_person_activate(f->s, &local, "E10", &f->e), 0);
	assert_string_equal(person_state(f, "E10"), "active");
}

/* A matter calls for a re-review of a clearance.  A candidate or a
 * rejected person holds none: the matter is recorded and opens nothing, so
 * a person cannot put themselves back into vetting (rejected -> reviewing)
 * by reporting about themselves; reopening vetting is an officer's act. */
static void test_matter_opens_no_review_without_clearance(void **state)
{
	struct fx *f = *state;
	const struct actor me = {.name = "person:E11", .roles = ROLE_PERSON, .person = "E11"};
	const struct review_query open = {.person = "E11", .state = "open"};
	json_t *v;
	int64_t rid;

	add_person(f, "E11");
	add_person(f, "E12");
	rid = fx_review_clear(f, "E11", "secret");
	v = svc_review_decide(f->s, &rev1, rid, false, "no", 0, &f->e);
	assert_non_null(v);
	json_decref(v);
	assert_string_equal(person_state(f, "E11"), "rejected");
	v = svc_matter_file(f->s, &me, "E11", "foreign_marriage", "spouse", &f->e);
	assert_non_null(v);
	assert_true(json_is_null(json_object_get(v, "review")));
	json_decref(v);
	assert_string_equal(person_state(f, "E11"), "rejected");
	v = svc_review_list(f->s, &local, &open, &f->e);
	assert_non_null(v);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
	v = svc_matter_file(f->s, &local, "E12", "foreign_marriage", "spouse", &f->e);
	assert_non_null(v);
	assert_true(json_is_null(json_object_get(v, "review")));
	json_decref(v);
	assert_string_equal(person_state(f, "E12"), "candidate");
}

/* The store reads an end of 0 as "still open", so 1970-01-01 can be no
 * appointment date: an appointment recorded as ended that day, or ended
 * on it, would hold its post on (the person's level and clearance with it)
 * while the console had said it ended. */
static void test_appointment_dates_after_epoch(void **state)
{
	struct fx *f = *state;
	struct appt_input old = {"E13", "P2", "1969-06-01", "1970-01-01"};
	struct appt_input early = {"E13", "P1", "1969-12-31", NULL};
	struct appt_input ok = {"E13", "P1", "1970-01-02", NULL};
	struct appt_rec ar;
	json_t *v;

	add_person(f, "E13");
	approve(f, &rev1, fx_review_clear(f, "E13", "secret"), "approved");
	assert_int_equal(svc_appt_add(f->s, &local, &old, &ar, &f->e), BM_EINVAL);
	assert_string_equal(f->e.field, "start");
	old.start = "1970-01-01";
	assert_int_equal(svc_appt_add(f->s, &local, &old, &ar, &f->e), BM_EINVAL);
	assert_int_equal(svc_appt_add(f->s, &local, &early, &ar, &f->e), BM_EINVAL);
	assert_int_equal(svc_appt_add(f->s, &local, &ok, &ar, &f->e), 0);
	assert_int_equal(svc_appt_end(f->s, &local, "E13", ar.id, "1970-01-01T00:00:00Z", &f->e),
			 BM_EINVAL);
	assert_string_equal(f->e.field, "date");
	assert_int_equal(svc_appt_end(f->s, &local, "E13", ar.id, "1970-01-03", &f->e), 0);
	v = svc_person_show(f->s, &local, "E13", false, &f->e);
	assert_non_null(v);
	assert_string_equal(str(v, "level"), "none");
	assert_true(json_is_false(json_object_get(json_array_get(json_object_get(v,
		"appointments"), 0), "open")));
	json_decref(v);
}

/* A person holds a post at most once at a time, in the record's past too:
 * an appointment whose dates overlap another of the same person on the
 * same post is refused, ended or not; one that starts the day another
 * ended, or on another post, is not. */
static void test_appointments_to_one_post_never_overlap(void **state)
{
	struct fx *f = *state;
	struct appt_input y25 = {"E14", "P0", "2025-01-01", "2025-12-31"};
	struct appt_input mid = {"E14", "P0", "2025-06-01", NULL};
	struct appt_input inside = {"E14", "P0", "2025-03-01", "2025-04-01"};
	struct appt_input other = {"E14", "P1", "2025-03-01", "2025-04-01"};
	struct appt_input next = {"E14", "P0", "2025-12-31", NULL};
	struct appt_input before = {"E14", "P0", "2024-01-01", "2025-01-01"};
	struct appt_rec ar;

	add_person(f, "E14");
	approve(f, &rev1, fx_review_clear(f, "E14", "secret"), "approved");
	assert_int_equal(svc_appt_add(f->s, &local, &y25, &ar, &f->e), 0);
	assert_int_equal(svc_appt_add(f->s, &local, &mid, &ar, &f->e), BM_EEXIST);
	assert_string_equal(f->e.field, "post");
	assert_non_null(strstr(f->e.msg, "overlaps"));
	assert_int_equal(svc_appt_add(f->s, &local, &inside, &ar, &f->e), BM_EEXIST);
	assert_int_equal(svc_appt_add(f->s, &local, &other, &ar, &f->e), 0);
	assert_int_equal(svc_appt_add(f->s, &local, &before, &ar, &f->e), 0);
	assert_int_equal(svc_appt_add(f->s, &local, &next, &ar, &f->e), 0);
	inside.start = "2026-01-01";
	inside.end = NULL;
	assert_int_equal(svc_appt_add(f->s, &local, &inside, &ar, &f->e), BM_EEXIST);
	assert_non_null(strstr(f->e.msg, "already holds"));
}

/* Stores the cn policy with the key category's re-review interval set to
 * days, as another secadmin would. */
static void load_key_rereview(struct fx *f, int days)
{
	struct policy pol;
	struct buf doc = BUF_INIT;
	int64_t ver;

	assert_int_equal(policy_builtin("cn", &pol, &f->e), 0);
	pol.cat[2].rereview_days = days;
	policy_to_json(&pol, &doc);
	assert_int_equal(svc_policy_load(f->s, &local, doc.p, doc.len, 0, &ver, &f->e), 0);
	buf_free(&doc);
}

/* A suspended person takes up no secret-related post: neither an active
 * person suspended after a leak nor one suspended while onboarding is
 * appointed to another, whatever their review (a level-0 post is fine). */
static void test_suspended_person_takes_no_secret_post(void **state)
{
	struct fx *f = *state;
	struct appt_input conf = {"E20", "P1", NULL, NULL};
	struct appt_input none = {"E20", "P0", NULL, NULL};
	struct appt_input key = {"E21", "P2", NULL, NULL};
	struct appt_rec ar;

	make_active(f, "E20");
	assert_int_equal(svc_person_suspend(f->s, &sec, "E20", "inquiry", &f->e), 0);
	assert_int_equal(svc_appt_add(f->s, &local, &conf, &ar, &f->e), BM_ESTATE);
	assert_non_null(strstr(f->e.msg, "(suspended)"));
	assert_int_equal(svc_appt_add(f->s, &local, &none, &ar, &f->e), 0);
	assert_int_equal(svc_person_reinstate(f->s, &sec, "E20", "closed", &f->e), 0);
	assert_int_equal(svc_appt_add(f->s, &local, &conf, &ar, &f->e), 0);

	add_person(f, "E21");
	approve(f, &rev1, fx_review_clear(f, "E21", "secret"), "approved");
	assert_int_equal(svc_person_suspend(f->s, &sec, "E21", "inquiry", &f->e), 0);
	assert_string_equal(person_state(f, "E21"), "onboarding");
	assert_int_equal(svc_appt_add(f->s, &local, &key, &ar, &f->e), BM_ESTATE);
	assert_non_null(strstr(f->e.msg, "(suspended)"));
}

/* A policy that shortens the re-review interval applies to reviews
 * approved before it, everywhere the date is read: the gate (status and
 * decisions), appointment and the due run.  A longer interval does not
 * extend what was approved. */
static void test_shorter_rereview_applies_at_once(void **state)
{
	struct fx *f = *state;
	struct appt_input conf = {"E22", "P1", NULL, NULL};
	struct appt_rec ar;
	json_t *v;

	make_active(f, "E22");                       /* key: 3 years from T0 */
	clock_set(T0 + 200 * 86400);
	assert_true(cleared(f, "E22"));
	load_key_rereview(f, 100);
	assert_false(cleared(f, "E22"));
	v = svc_clearance(f->s, &local, "E22", clock_now(), &f->e);
	assert_non_null(v);
	assert_string_equal(str(json_array_get(json_object_get(v, "gates"), 0), "code"),
			    "review_expired");
	json_decref(v);
	assert_int_equal(svc_appt_add(f->s, &local, &conf, &ar, &f->e), BM_ESTATE);
	assert_non_null(strstr(f->e.msg, "review_expired"));
	/* the server's due job asks for the count only; the review is opened all the same */
	int64_t n = -1;
	assert_int_equal(svc_reviews_open_due(f->s, NULL, clock_now(), NULL, &n, &f->e), 0);
	assert_int_equal(n, 1);
	v = svc_review_list(f->s, &local, &(struct review_query){.person = "E22", .state = "open"},
			    &f->e);
	assert_int_equal(json_array_size(v), 1);
	assert_string_equal(str(json_array_get(v, 0), "trigger"), "rereview");
	json_decref(v);
	/* a longer interval: the date approved stands */
	load_key_rereview(f, 5000);
	clock_set(T0 + 3 * 365 * 86400 + 86400);
	assert_false(cleared(f, "E22"));
	clock_set(T0 + 3 * 365 * 86400 - 86400);
	assert_true(cleared(f, "E22"));
}

/* A matter's re-review is due no later than the review in force lapses
 * under the policy now: a shortened interval that already brought the
 * lapse before "now + within_days" sets the deadline the due list shows. */
static void test_matter_deadline_not_past_the_lapse(void **state)
{
	struct fx *f = *state;
	int64_t due;
	json_t *v;

	clock_set(T0);
	make_active(f, "E24");                       /* key, approved at T0 */
	clock_set(T0 + 50 * 86400);
	load_key_rereview(f, 100);                   /* lapses at T0 + 100 d */
	clock_set(T0 + 80 * 86400);
	v = svc_matter_file(f->s, &local, "E24", "foreign_marriage", "spouse", &f->e);
	assert_non_null(v);
	int64_t rid = json_integer_value(json_object_get(v, "review"));
	json_decref(v);
	v = svc_review_show(f->s, &local, rid, &f->e);
	assert_non_null(v);
	assert_int_equal(clock_parse(str(v, "due_at"), "due_at", &due, &f->e), 0);
	assert_int_equal(due, T0 + 100 * 86400);      /* not T0 + 110 d */
	json_decref(v);
}

/* A review's view says when it stops holding as status sees it: a
 * shortened interval brings the recorded date forward there too. */
static void test_review_view_shows_the_date_in_force(void **state)
{
	struct fx *f = *state;
	struct appt_input in = {"E26", "P2", NULL, NULL};
	struct appt_rec ar;
	int64_t until, rid;
	json_t *v;

	clock_set(T0);
	add_person(f, "E26");
	rid = fx_review_clear(f, "E26", "secret");
	approve(f, &rev1, rid, "approved");
	assert_int_equal(svc_appt_add(f->s, &local, &in, &ar, &f->e), 0);
	v = svc_review_show(f->s, &local, rid, &f->e);
	assert_non_null(v);
	assert_int_equal(clock_parse(str(v, "valid_until"), "v", &until, &f->e), 0);
	assert_int_equal(until, T0 + 3 * 365 * 86400);          /* key: three years */
	json_decref(v);
	load_key_rereview(f, 100);
	v = svc_review_show(f->s, &local, rid, &f->e);
	assert_non_null(v);
	assert_int_equal(clock_parse(str(v, "valid_until"), "v", &until, &f->e), 0);
	assert_int_equal(until, T0 + 100 * 86400);
	json_decref(v);
}

/* Nobody opens a review of themselves, under any account linked to them
 * (over HTTP, or the console acting --as that account). */
static void test_nobody_opens_their_own_review(void **state)
{
	struct fx *f = *state;
	const struct actor off = {.name = "off23", .roles = ROLE_OFFICER, .person = "E23"};
	const struct actor as = {.name = "offc", .roles = ACTOR_LOCAL};
	const struct account_input ai = {"offc", NULL, "officer", NULL, "E23"};
	json_t *v;

	add_person(f, "E23");
	add_person(f, "E24");
	assert_int_equal(svc_account_add(f->s, &local, &ai, &f->e), 0);
	assert_null(svc_review_open(f->s, &off, "E23", "secret", &f->e));
	assert_int_equal(f->e.code, BM_EPERM);
	assert_null(svc_review_open(f->s, &as, "E23", "secret", &f->e));
	assert_int_equal(f->e.code, BM_EPERM);
	assert_string_equal(person_state(f, "E23"), "candidate");
	v = svc_review_open(f->s, &off, "E24", "secret", &f->e);
	assert_non_null(v);
	json_decref(v);
}

struct due_run {
	struct fx *f;
	int rc;
	int64_t n;
};

/* No cmocka assertion here: it may not jump out of another thread. */
static void *due_run_thread(void *arg)
{
	struct due_run *d = arg;

	d->rc = svc_reviews_open_due(d->f->s, NULL, clock_now(), NULL, &d->n, &d->f->e);
	return NULL;
}

/* The due run scans before it takes the write lock.  An officer's
 * re-review of the same person, opened and approved by another process
 * while the run waited for that lock, renews the clearance: the run must
 * open nothing for them (it opened a second re-review, due on the date the
 * approval had just moved, for a person whose review was current). */
static void test_due_run_after_a_renewal_opens_nothing(void **state)
{
	struct fx *f = *state;
	struct svc_paths p = {f->db, NULL};
	struct due_run d = {f, -1, -1};
	struct review_query q = {.person = "E9", .state = "open"};
	struct bm_err oe = BM_ERR_INIT;
	struct svc *other;
	pthread_t th;
	json_t *v;
	int64_t rid;

	make_active(f, "E9");
	clock_set(T0 + (3 * 365 - 80) * 86400);     /* due within the 90-day reminder */
	assert_int_equal(svc_open(&p, &other, &oe), 0);
	assert_int_equal(svc__outer_begin(other, &oe), 0);   /* holds the write lock */
	assert_int_equal(pthread_create(&th, NULL, due_run_thread, &d), 0);
	usleep(300 * 1000);                                 /* the run has scanned, waits */
	v = svc_review_open(other, &local, "E9", "secret", &oe);
	assert_non_null(v);
	rid = json_integer_value(json_object_get(v, "id"));
	json_decref(v);
	for (int i = 1; i <= 6; i++) {
		assert_non_null(v = svc_review_finding(other, &local, rid, i, "clear", NULL, 0, &oe));
		json_decref(v);
	}
	assert_non_null(v = svc_review_decide(other, &rev1, rid, true, "renewed", 0, &oe));
	json_decref(v);
	assert_int_equal(svc__outer_end(other, true, &oe), 0);
	pthread_join(th, NULL);
	svc_close(other);
	assert_int_equal(d.rc, 0);
	assert_int_equal(d.n, 0);
	v = svc_review_list(f->s, &local, &q, &f->e);
	assert_non_null(v);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_review_who_decides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_two_approvers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checklist_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appointment_gating, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gates_say_since_when, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_review_below_the_post, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaver_review_refused_for_leaving, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_matters_and_suspension, setup, teardown),
		cmocka_unit_test_setup_teardown(test_matter_brings_open_review_forward, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_due_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appointment_dates_not_future, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_pages_long_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_facts_scan_forms_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demo_puts_the_clock_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_run_uses_newest_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_review_list_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_review_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_over_many_units, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activate_needs_a_post, setup, teardown),
		cmocka_unit_test_setup_teardown(test_matter_opens_no_review_without_clearance, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_appointment_dates_after_epoch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appointments_to_one_post_never_overlap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_suspended_person_takes_no_secret_post, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shorter_rereview_applies_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nobody_opens_their_own_review, setup, teardown),
		cmocka_unit_test_setup_teardown(test_review_view_shows_the_date_in_force, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_matter_deadline_not_past_the_lapse, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_due_run_after_a_renewal_opens_nothing, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
