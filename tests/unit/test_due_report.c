/*
 * test_due_report.c - a second opinion on the due list (svc_due) and the
 * compliance report (svc_report_compliance).
 *
 * Random organisations (a unit tree, posts at random levels) live through
 * random sequences of service operations at random instants: persons,
 * appointments with start and end dates, reviews opened, recorded and
 * decided by the policy's number of approvers, matters that suspend or call
 * for a re-review, suspension and reinstatement, activation, moves between
 * units, leaving, the
 * automatic opening of due re-reviews, and policy changes of re-review
 * intervals, approvers, gates, matter deadlines and reminder offsets.
 *
 * The test keeps its own record of what it did (units and their parents,
 * posts, appointments, every review with the re-review date the rules of
 * ARCHITECTURE.md "Vetting" give it, suspensions, the policy it loaded) and
 * reads only the persons' lifecycle states from the database with its own
 * SQLite connection.  From that record a plain reference, written here and
 * calling no service or gate helper, computes the due list and the report,
 * which must equal the service's at random instants, for random actors
 * (scoped or not) and unit filters.  Bad input and refusals come first.
 */
#include "service/service.h"
#include "service/svc_internal.h"
#include "core/lifecycle.h"
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

#define T0 1767225600  /* 2026-01-01 */
#define DAY 86400
#define NEVER INT64_MAX

#define MAXU 12
#define MAXPOST 12
#define MAXPER 28
#define MAXAPPT 256
#define MAXREV 512
#define NMATTER 8
#define MSG_CAP sizeof(((struct bm_err *)0)->msg)

static const char *const level_names[] = {"none", "confidential", "secret", "top_secret"};
static const char *const cat_names[] = {"none", "general", "key", "core"};
static const char *const state_names[] = {"candidate", "reviewing", "onboarding", "active",
					  "suspended", "leaving", "decontamination",
					  "released", "rejected"};
/* The reasons a person can fail to be cleared, in the order of the reason
 * table (ARCHITECTURE.md): the report breaks ties in this order. */
enum { R_NO_POST, R_NOT_ON_POST, R_SUSPENDED, R_MISSING, R_EXPIRED, R_TOO_LOW, R_N };
static const char *const reason_codes[R_N] = {"no_secret_post", "not_on_post", "suspended",
					      "review_missing", "review_expired",
					      "review_level_too_low"};

static const struct actor rev[3] = {{.name = "rev1", .roles = ROLE_REVIEWER},
				    {.name = "rev2", .roles = ROLE_REVIEWER},
				    {.name = "rev3", .roles = ROLE_REVIEWER}};

/* ------------------------------------------------------------ the record */

struct mrev {                  /* one review as the rules say it must be */
	int64_t id;
	int person, level, state;  /* state 0 open, 1 approved, 2 rejected */
	int64_t decided_at, valid_until, due_at;
	int approvals;
	bool decided;              /* someone decided on it: its checklist is fixed */
};

struct mpolicy {
	int rereview[4], approvers[4];
	int rem[POLICY_MAX_REMINDERS], nrem;
	char mtype[NMATTER][32];
	bool msuspend[NMATTER];
	int mwithin[NMATTER];
	int nmatter;
};

struct world {
	struct fx *f;
	sqlite3 *db;
	uint32_t seed0, seed;
	int step;
	int64_t now;
	int nunit, parent[MAXU];
	int64_t uid[MAXU];
	char ucode[MAXU][16];
	int npost, plevel[MAXPOST];
	char pcode[MAXPOST][16];
	int nper, punit[MAXPER], pstate[MAXPER];
	bool suspended[MAXPER];
	char ext[MAXPER][16];
	struct { int64_t id; int person, level; bool open; } ap[MAXAPPT];
	int nap;
	struct mrev r[MAXREV];
	int nrev;
	struct mpolicy pol;
	int64_t cases, items, overdue, reminded, cleared, open_seen;
};

#define WFAIL(w, ...)                                                                    \
	do {                                                                             \
		print_error("world seed %u, step %d, now %lld: ", (w)->seed0, (w)->step,  \
			    (long long)(w)->now);                                        \
		fail_msg(__VA_ARGS__);                                                   \
	} while (0)

/* A number below n from the world's own seed (deterministic per world). */
static uint32_t rnd(struct world *w, uint32_t n)
{
	return (uint32_t)rand_r(&w->seed) % n;
}

/* True when unit u is root or below it (the record's parents). */
static bool in_subtree(const struct world *w, int u, int root)
{
	for (; u >= 0; u = w->parent[u])
		if (u == root)
			return true;
	return false;
}

/* The person's category: the highest level among their open appointments. */
static int ref_level(const struct world *w, int p)
{
	int lv = 0;

	for (int i = 0; i < w->nap; i++)
		if (w->ap[i].person == p && w->ap[i].open && w->ap[i].level > lv)
			lv = w->ap[i].level;
	return lv;
}

/* The instant approved review r of p falls due: the date recorded on it
 * (at approval, or brought forward by a matter) or, when earlier, its
 * approval plus the interval the policy now sets for p's category (the
 * review's level when p holds no secret post); NEVER when neither. */
static int64_t ref_due(const struct world *w, int p, const struct mrev *r)
{
	int lv = ref_level(w, p) > 0 ? ref_level(w, p) : r->level;
	int64_t due = r->valid_until ? r->valid_until : NEVER, by_policy;

	if (lv <= 0 || w->pol.rereview[lv] <= 0)
		return due;
	by_policy = r->decided_at + (int64_t)w->pol.rereview[lv] * DAY;
	return by_policy < due ? by_policy : due;
}

/* The review in force: the latest decided one (by decision time, then id). */
static struct mrev *ref_in_force(struct world *w, int p)
{
	struct mrev *best = NULL;

	for (int i = 0; i < w->nrev; i++) {
		struct mrev *r = &w->r[i];

		if (r->person == p && r->state != 0 &&
		    (best == NULL || r->decided_at > best->decided_at ||
		     (r->decided_at == best->decided_at && r->id > best->id)))
			best = r;
	}
	return best;
}

/* p's open review (at most one at a time), or NULL. */
static struct mrev *ref_open(struct world *w, int p)
{
	for (int i = 0; i < w->nrev; i++)
		if (w->r[i].person == p && w->r[i].state == 0)
			return &w->r[i];
	return NULL;
}

/* The recorded review with this id, or NULL. */
static struct mrev *rev_by_id(struct world *w, int64_t id)
{
	for (int i = 0; i < w->nrev; i++)
		if (w->r[i].id == id)
			return &w->r[i];
	return NULL;
}

/* Records a new open review the service reported opening; its id must be new. */
static struct mrev *rev_add(struct world *w, int64_t id, int p, int level, int64_t due)
{
	struct mrev *r;

	if (id <= 0 || rev_by_id(w, id) != NULL)
		WFAIL(w, "review id %lld given for a new review", (long long)id);
	assert_true(w->nrev < MAXREV);
	r = &w->r[w->nrev++];
	*r = (struct mrev){.id = id, .person = p, .level = level, .due_at = due};
	return r;
}

/* ------------------------------------------------ reading the database */

/* The lifecycle states of every person (ids in creation order), and a
 * check that the record and the database agree on each review's dates
 * and on each person's derived level: the reference rests on them. */
static void read_states(struct world *w)
{
	sqlite3_stmt *st;
	int i = 0;

	assert_int_equal(sqlite3_prepare_v2(w->db, "SELECT state, level FROM persons ORDER BY id",
					    -1, &st, NULL), SQLITE_OK);
	for (; sqlite3_step(st) == SQLITE_ROW; i++) {
		assert_true(i < w->nper);
		w->pstate[i] = sqlite3_column_int(st, 0);
		if (sqlite3_column_int(st, 1) != ref_level(w, i))
			WFAIL(w, "%s: level %d stored, %d from the appointments", w->ext[i],
			      sqlite3_column_int(st, 1), ref_level(w, i));
	}
	sqlite3_finalize(st);
	assert_int_equal(i, w->nper);
}

/* Every stored review must have the state and dates the record gives it. */
static void check_reviews(struct world *w)
{
	sqlite3_stmt *st;
	int i = 0;

	assert_int_equal(sqlite3_prepare_v2(w->db, "SELECT id, state, coalesce(decided_at, 0), "
					    "coalesce(valid_until, 0), coalesce(due_at, 0) "
					    "FROM reviews ORDER BY id", -1, &st, NULL), SQLITE_OK);
	for (; sqlite3_step(st) == SQLITE_ROW; i++) {
		struct mrev *r = rev_by_id(w, sqlite3_column_int64(st, 0));

		if (r == NULL)
			WFAIL(w, "review %lld is not in the record",
			      (long long)sqlite3_column_int64(st, 0));
		if (r->state != sqlite3_column_int(st, 1) ||
		    r->decided_at != sqlite3_column_int64(st, 2) ||
		    r->valid_until != sqlite3_column_int64(st, 3) ||
		    r->due_at != sqlite3_column_int64(st, 4))
			WFAIL(w, "review %lld: stored state %d decided %lld valid_until %lld due %lld; "
			      "the rules give %d %lld %lld %lld", (long long)r->id,
			      sqlite3_column_int(st, 1), (long long)sqlite3_column_int64(st, 2),
			      (long long)sqlite3_column_int64(st, 3),
			      (long long)sqlite3_column_int64(st, 4), r->state,
			      (long long)r->decided_at, (long long)r->valid_until,
			      (long long)r->due_at);
	}
	sqlite3_finalize(st);
	assert_int_equal(i, w->nrev);
}

/* ------------------------------------------------------------- the world */

/* Adds unit code under parent (-1: a root) and records it. */
static void add_unit(struct world *w, const char *code, int parent)
{
	struct unit_input in = {code, code, parent >= 0 ? w->ucode[parent] : NULL};
	struct unit_rec u;

	assert_true(w->nunit < MAXU);
	assert_int_equal(svc_unit_add(w->f->s, &local, &in, &u, &w->f->e), 0);
	snprintf(w->ucode[w->nunit], sizeof w->ucode[0], "%s", code);
	w->parent[w->nunit] = parent;
	w->uid[w->nunit++] = u.id;
}

/* Adds a post of level in a random unit and records it. */
static void add_post(struct world *w, int level)
{
	char code[16];
	struct post_input in = {code, NULL, level_names[level], "", "t"};
	struct post_rec po;

	snprintf(code, sizeof code, "P%d", w->npost);
	in.unit = w->ucode[rnd(w, (uint32_t)w->nunit)];
	assert_int_equal(svc_post_add(w->f->s, &local, &in, &po, &w->f->e), 0);
	snprintf(w->pcode[w->npost], sizeof w->pcode[0], "%s", code);
	w->plevel[w->npost++] = level;
}

/* Adds the next person (up to MAXPER) in a random unit. */
static void add_person(struct world *w)
{
	int p = w->nper, u = (int)rnd(w, (uint32_t)w->nunit);
	struct person_input in = {NULL, "Name", w->ucode[u], NULL, NULL};
	struct person_rec r;

	if (p >= MAXPER)
		return;
	snprintf(w->ext[p], sizeof w->ext[0], "E%d", p);
	in.ext_id = w->ext[p];
	assert_int_equal(svc_person_add(w->f->s, &local, &in, &r, &w->f->e), 0);
	w->punit[p] = u;
	w->pstate[p] = ST_CANDIDATE;
	w->nper++;
}

/* The policy the service starts with, as data (the reference never asks
 * the service what the policy means). */
static void policy_record(struct world *w)
{
	const struct policy *p = svc_policy(w->f->s);

	for (int l = 1; l <= 3; l++) {
		w->pol.rereview[l] = p->cat[l].rereview_days;
		w->pol.approvers[l] = p->cat[l].approvers;
	}
	w->pol.nrem = p->nreminders;
	memcpy(w->pol.rem, p->reminders, sizeof w->pol.rem);
	assert_true(p->nmatters <= NMATTER);
	w->pol.nmatter = p->nmatters;
	for (int i = 0; i < p->nmatters; i++) {
		snprintf(w->pol.mtype[i], sizeof w->pol.mtype[0], "%s", p->matters[i].type);
		w->pol.msuspend[i] = p->matters[i].action == MATTER_SUSPEND;
		w->pol.mwithin[i] = p->matters[i].within_days;
	}
}

/* A random tree of units under HQ, posts of every level and random ones,
 * and a first few persons. */
static void world_open(struct world *w, uint32_t seed)
{
	int nu;

	memset(w, 0, sizeof *w);
	w->seed0 = w->seed = seed;
	w->now = T0;
	w->f = fx_open(T0, NULL, 0);
	w->uid[0] = 1;
	snprintf(w->ucode[0], sizeof w->ucode[0], "HQ");
	w->parent[0] = -1;
	w->nunit = 1;
	nu = 3 + (int)rnd(w, MAXU - 5);   /* room for two more (test_bad_input) */
	for (int i = 1; i < nu; i++) {
		char code[16];

		snprintf(code, sizeof code, "U%d", i);
		add_unit(w, code, (int)rnd(w, (uint32_t)i));
	}
	for (int l = 0; l <= 3; l++)
		add_post(w, l);
	while (w->npost < 6 + (int)rnd(w, MAXPOST - 6))
		add_post(w, (int)rnd(w, 4));
	for (int i = 0; i < 8; i++)
		add_person(w);
	policy_record(w);
	assert_int_equal(sqlite3_open_v2(w->f->db, &w->db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	read_states(w);
}

/* Closes the world's connections and removes its database. */
static void world_close(struct world *w)
{
	void *st = w->f;

	sqlite3_close(w->db);
	fx_close(&st);
}

/* ------------------------------------------------------------ operations */

/* YYYY-MM-DD of t, the form appointment dates take. */
static void fmt_date(int64_t t, char out[11])
{
	clock_fmt_date(t, out);
}

/* Appoints p to a random post, starting today or some days back, and now
 * and then with an end already past (a closed appointment). */
static void op_appoint(struct world *w, int p, int post)
{
	char start[11], end[11];
	struct appt_input in = {w->ext[p], w->pcode[post], NULL, NULL};
	struct appt_rec ar;
	int64_t s = w->now - (int64_t)rnd(w, 40) * DAY;

	if (rnd(w, 2)) {
		fmt_date(s, start);
		in.start = start;
	}
	if (rnd(w, 6) == 0) {
		fmt_date(s + (int64_t)rnd(w, 20) * DAY, end);
		in.end = end;
	}
	if (svc_appt_add(w->f->s, &local, &in, &ar, &w->f->e) != 0)
		return;
	assert_true(w->nap < MAXAPPT);
	w->ap[w->nap].id = ar.id;
	w->ap[w->nap].person = p;
	w->ap[w->nap].level = w->plevel[post];
	w->ap[w->nap++].open = ar.end == 0;
	if ((in.end != NULL) != (ar.end != 0))
		WFAIL(w, "appointment %lld: end given %d, recorded %lld", (long long)ar.id,
		      in.end != NULL, (long long)ar.end);
}

/* Ends an open appointment of p today or on a past day (one before its
 * start is refused). */
static void op_end(struct world *w, int p)
{
	char day[11];
	int k = -1;

	for (int i = 0; i < w->nap; i++)
		if (w->ap[i].person == p && w->ap[i].open && (k < 0 || rnd(w, 2)))
			k = i;
	if (k < 0)
		return;
	fmt_date(w->now - (int64_t)rnd(w, 10) * DAY, day);
	if (svc_appt_end(w->f->s, &local, w->ext[p], w->ap[k].id, rnd(w, 2) ? day : NULL,
			 &w->f->e) == 0)
		w->ap[k].open = false;
}

/* Moves p to another unit: the report counts them there from now on. */
static void op_move(struct world *w, int p)
{
	int u = (int)rnd(w, (uint32_t)w->nunit);
	struct person_patch in = {NULL, w->ucode[u], 0};
	struct person_rec r;

	if (svc_person_update(w->f->s, &local, w->ext[p], &in, &r, &w->f->e) != 0)
		WFAIL(w, "moving %s to %s refused: %s", w->ext[p], w->ucode[u], w->f->e.msg);
	w->punit[p] = u;
}

/* Records the six items: mostly clear, now and then a concern or a
 * disqualifying finding (which makes approval impossible). */
static void op_findings(struct world *w, struct mrev *r)
{
	static const char *const fnd[] = {"clear", "concern", "disqualifying"};

	for (int i = 1; i <= 6; i++) {
		uint32_t x = rnd(w, 100);
		int k = x < 93 ? 0 : x < 98 ? 1 : 2;
		json_t *v = svc_review_finding(w->f->s, &local, r->id, i, fnd[k],
					       k ? "noted" : NULL, 0, &w->f->e);

		json_decref(v);
	}
}

/* A reviewer approves or rejects r; the record closes it when the rules
 * say so: a rejection at once, an approval once the policy's number of
 * approvers (at the time of the decision) have approved. */
static void op_decide(struct world *w, struct mrev *r, bool approve)
{
	const struct actor *a = &rev[rnd(w, 3)];
	json_t *v = svc_review_decide(w->f->s, a, r->id, approve, "reason", 0, &w->f->e);
	int need = w->pol.approvers[r->level] > 1 ? w->pol.approvers[r->level] : 1;
	const char *want;

	if (v == NULL)
		return;
	r->decided = true;
	r->approvals += approve;
	if (!approve || r->approvals >= need) {
		r->state = approve ? 1 : 2;
		r->decided_at = w->now;
		r->valid_until = approve ? w->now + (int64_t)w->pol.rereview[r->level] * DAY : 0;
	}
	want = r->state == 0 ? "open" : r->state == 1 ? "approved" : "rejected";
	if (strcmp(json_string_value(json_object_get(v, "state")), want) != 0)
		WFAIL(w, "review %lld after %d approvals (need %d): %s, the rules say %s",
		      (long long)r->id, r->approvals, need,
		      json_string_value(json_object_get(v, "state")), want);
	json_decref(v);
}

/* Opens a review of p at level; with decide, records the checklist and lets
 * reviewers decide until it closes or three have tried. */
static void op_review(struct world *w, int p, int level, bool decide)
{
	json_t *v = svc_review_open(w->f->s, &local, w->ext[p], level_names[level], &w->f->e);
	struct mrev *r;

	if (v == NULL)
		return;
	r = rev_add(w, json_integer_value(json_object_get(v, "id")), p, level, 0);
	json_decref(v);
	if (!decide)
		return;
	op_findings(w, r);
	for (int k = 0; k < 3 && r->state == 0; k++)
		op_decide(w, r, rnd(w, 8) != 0);
}

/* Decides (or completes the checklist of) a random open review. */
static void op_decide_some(struct world *w)
{
	int n = 0, k;

	for (int i = 0; i < w->nrev; i++)
		n += w->r[i].state == 0;
	if (n == 0)
		return;
	k = (int)rnd(w, (uint32_t)n);
	for (int i = 0; i < w->nrev; i++) {
		if (w->r[i].state != 0 || k-- != 0)
			continue;
		if (!w->r[i].decided && rnd(w, 2))
			op_findings(w, &w->r[i]);
		op_decide(w, &w->r[i], rnd(w, 6) != 0);
		return;
	}
}

/* A re-review within `days` (ARCHITECTURE.md): the review in force, if
 * approved, lapses by then; the open review's deadline comes forward, or a
 * new re-review opens with it, to then or to the review's lapse if earlier.  Nothing for a person who has left, nor for
 * a candidate or a rejected person (they hold no clearance to re-review). */
static void matter_rereview(struct world *w, int p, int days, json_t *m)
{
	int64_t due = w->now + (int64_t)days * DAY, rid;
	struct mrev *in = ref_in_force(w, p), *open = ref_open(w, p);
	int lv = ref_level(w, p);

	if (w->pstate[p] == ST_LEAVING || w->pstate[p] == ST_DECONTAMINATION ||
	    w->pstate[p] == ST_RELEASED || w->pstate[p] == ST_CANDIDATE ||
	    w->pstate[p] == ST_REJECTED) {
		if (!json_is_null(json_object_get(m, "review")))
			WFAIL(w, "a matter about %s (%s) named a review", w->ext[p],
			      state_name(w->pstate[p]));
		return;
	}
	if (in && in->state == 1 && (in->valid_until == 0 || in->valid_until > due))
		in->valid_until = due;
	/* the re-review is due no later than the clearance lapses */
	if (in && in->state == 1 && ref_due(w, p, in) < due)
		due = ref_due(w, p, in);
	rid = json_integer_value(json_object_get(m, "review"));
	if (open != NULL) {
		if (rid != open->id)
			WFAIL(w, "matter on %s names review %lld, open is %lld", w->ext[p],
			      (long long)rid, (long long)open->id);
		if (open->due_at == 0 || open->due_at > due)
			open->due_at = due;
		return;
	}
	rev_add(w, rid, p, lv > 0 ? lv : in ? in->level : 1, due);
}

/* Files a random matter of the policy (or an unknown type, refused). */
static void op_matter(struct world *w, int p)
{
	int k = (int)rnd(w, (uint32_t)w->pol.nmatter + 1);
	const char *type = k < w->pol.nmatter ? w->pol.mtype[k] : "no_such_type";
	json_t *m = svc_matter_file(w->f->s, &local, w->ext[p], type, "detail", &w->f->e);

	if (m == NULL) {
		if (k < w->pol.nmatter)
			WFAIL(w, "matter %s on %s refused: %s", type, w->ext[p], w->f->e.msg);
		return;
	}
	assert_true(k < w->pol.nmatter);
	if (w->pol.msuspend[k])
		w->suspended[p] = true;
	else
		matter_rereview(w, p, w->pol.mwithin[k], m);
	json_decref(m);
}

/* The next step out: on post or onboarding to leaving, then on. */
static void op_leave(struct world *w, int p)
{
	int st = w->pstate[p];
	int to = st == ST_LEAVING ? ST_DECONTAMINATION : st == ST_DECONTAMINATION ? ST_RELEASED
										: ST_LEAVING;

	svc__person_set_state(w->f->s, &local, w->ext[p], to, "leaves", &w->f->e);
}

/* svc_reviews_open_due: a re-review for every person on post or onboarding
 * whose approved review in force falls due within the largest reminder
 * offset and who has none open, at the higher of their level and the
 * review's, due when the review is.  Checked against what was opened. */
static void op_open_due(struct world *w)
{
	json_t *got = fx_open_due(w->f->s, &local, w->now, &w->f->e);
	int64_t horizon = w->now + (int64_t)(w->pol.nrem ? w->pol.rem[0] : 0) * DAY;
	size_t n = 0;

	assert_non_null(got);
	for (int p = 0; p < w->nper; p++) {
		struct mrev *in = ref_in_force(w, p);
		int st = w->pstate[p], lv = ref_level(w, p);
		json_t *x;

		if ((st != ST_ACTIVE && st != ST_SUSPENDED && st != ST_ONBOARDING) || !in ||
		    in->state != 1 || ref_due(w, p, in) == NEVER || ref_due(w, p, in) > horizon ||
		    ref_open(w, p))
			continue;
		x = json_array_get(got, n++);
		if (x == NULL || strcmp(json_string_value(json_object_get(x, "person")), w->ext[p]))
			WFAIL(w, "due re-review of %s not opened", w->ext[p]);
		rev_add(w, json_integer_value(json_object_get(x, "id")), p,
			lv > in->level ? lv : in->level, ref_due(w, p, in));
	}
	if (n != json_array_size(got))
		WFAIL(w, "%zu due re-reviews opened, the rules give %zu", json_array_size(got), n);
	json_decref(got);
}

/* Sets integer member k of o (borrowed). */
static void set_int(json_t *o, const char *k, int v)
{
	assert_int_equal(json_object_set_new(o, k, json_integer(v)), 0);
}

/* Loads a policy with new re-review intervals, approvers, gates (review
 * is required; not_suspended sometimes left out, checked all the same),
 * matter deadlines and reminder offsets. */
static void op_policy(struct world *w)
{
	static const char *const keys[] = {NULL, "general", "key", "core"};
	json_t *doc = svc_policy_show(w->f->s, &local, &w->f->e), *rem = json_array();
	struct mpolicy np = w->pol;
	int64_t ver;
	char *text;

	assert_non_null(doc);
	json_object_del(doc, "version");
	/* strictly descending offsets in 1..400, so a reminder may also be 1 day;
	 * none up to as many as a policy may hold */
	np.nrem = (int)rnd(w, POLICY_MAX_REMINDERS + 1);
	for (int i = 0, hi = 400; i < np.nrem; i++) {
		int left = np.nrem - i;

		np.rem[i] = left + (int)rnd(w, (uint32_t)(hi - left + 1));
		hi = np.rem[i] - 1;
		json_array_append_new(rem, json_integer(np.rem[i]));
	}
	json_object_set_new(doc, "reminder_days", rem);
	for (int l = 1; l <= 3; l++) {
		json_t *c = json_object_get(json_object_get(doc, "categories"), keys[l]), *gates;

		np.rereview[l] = rnd(w, 3) == 0 ? 1 + (int)rnd(w, 60) : 60 + (int)rnd(w, 1500);
		np.approvers[l] = 1 + (int)rnd(w, 3);
		set_int(c, "rereview_days", np.rereview[l]);
		set_int(c, "approvers", np.approvers[l]);
		/* not_suspended is checked whether listed or not */
		gates = json_pack("[s,s]", "on_post", "review");
		if (rnd(w, 4))
			json_array_append_new(gates, json_string("not_suspended"));
		json_object_set_new(c, "gates", gates);
	}
	for (int i = 0; i < np.nmatter; i++)
		if (!np.msuspend[i]) {
			np.mwithin[i] = 1 + (int)rnd(w, 90);
			set_int(json_object_get(json_object_get(doc, "matters"), np.mtype[i]),
				"within_days", np.mwithin[i]);
		}
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (svc_policy_load(w->f->s, &local, text, strlen(text), 0, &ver, &w->f->e) != 0)
		WFAIL(w, "policy refused: %s (%s)", w->f->e.msg, text);
	free(text);
	w->pol = np;
}

/* The whole way to a post: a review at its level, the appointment, and
 * taking it up. */
static void op_whole_way(struct world *w, int p, int post)
{
	if (w->plevel[post] > 0)
		op_review(w, p, w->plevel[post], true);
	op_appoint(w, p, post);
	svc_person_activate(w->f->s, &local, w->ext[p], &w->f->e);
}

/* Suspends (on) or reinstates p; the record follows what succeeded. */
static void op_suspend(struct world *w, int p, bool on)
{
	if (on && svc_person_suspend(w->f->s, &local, w->ext[p], "why", &w->f->e) == 0)
		w->suspended[p] = true;
	if (!on && svc_person_reinstate(w->f->s, &local, w->ext[p], "why", &w->f->e) == 0)
		w->suspended[p] = false;
}

/* One random operation on a random person, by weight: enough whole ways
 * and decisions that many persons are cleared, enough of the rest that
 * every reason and state turns up. */
static void random_op(struct world *w)
{
	int p = (int)rnd(w, (uint32_t)w->nper), post = (int)rnd(w, (uint32_t)w->npost);
	uint32_t x = rnd(w, 100);

	if (x < 4)
		add_person(w);
	else if (x < 12)
		op_appoint(w, p, post);
	else if (x < 32)
		op_whole_way(w, p, post);
	else if (x < 35)
		op_end(w, p);
	else if (x < 36)
		op_move(w, p);
	else if (x < 44)
		op_review(w, p, 1 + (int)rnd(w, 3), rnd(w, 3) != 0);
	else if (x < 58)
		op_decide_some(w);
	else if (x < 64)
		op_matter(w, p);
	else if (x < 74)
		op_suspend(w, p, x < 66);
	else if (x < 82)
		svc_person_activate(w->f->s, &local, w->ext[p], &w->f->e);
	else if (x < 84)
		op_leave(w, p);
	else if (x < 87)
		op_policy(w);
	else if (x < 92)
		op_open_due(w);
	/* else: time passes only */
	bm_err_clear(&w->f->e);
}

/* ------------------------------------------------------------ reference */

/* An instant as the views print it: null for none or never. */
static json_t *iso(int64_t t)
{
	char b[21];

	if (t == 0 || t == NEVER)
		return json_null();
	clock_fmt_iso(t, b);
	return json_string(b);
}

/* Days left until a deadline `left` seconds away, counting a part day as
 * a day: 0 or less exactly when it is reached. */
static int64_t ref_days_left(int64_t left)
{
	int64_t d = left / DAY;

	return left > 0 && d * DAY != left ? d + 1 : d;
}

/* The reminder a deadline `left` seconds away has reached: the smallest
 * offset (days) not below its days left; 0 once it is reached, -1 before
 * any offset. */
static int ref_reminder(const struct world *w, int64_t left)
{
	int got = -1;

	if (left <= 0)
		return 0;
	/* offsets count down: the last one that still holds the days is the smallest */
	for (int i = 0; i < w->pol.nrem; i++)
		if (ref_days_left(left) <= w->pol.rem[i])
			got = w->pol.rem[i];
	return got;
}

/* The states whose reviews the due list follows. */
static bool on_post_or_onboarding(int st)
{
	return st == ST_ACTIVE || st == ST_SUSPENDED || st == ST_ONBOARDING;
}

/* The due list's items for an actor scoped to unit `scope` (-1: all), at t
 * with the horizon until: the re-review date of every person on post or
 * onboarding whose category's policy checks the review, once it is within
 * the horizon (past ones too: overdue). */
struct ref_item {
	int64_t due;
	int p;
	const char *ext;
};

/* Soonest first, then by person id (bytes). */
static int ref_item_cmp(const void *a, const void *b)
{
	const struct ref_item *x = a, *y = b;

	return x->due != y->due ? (x->due < y->due ? -1 : 1) : strcmp(x->ext, y->ext);
}

static json_t *ref_due_items(struct world *w, int scope, int64_t t, int64_t until)
{
	json_t *items = json_array();
	struct ref_item v[MAXPER];
	int n = 0;

	for (int p = 0; p < w->nper; p++) {
		struct mrev *r = ref_in_force(w, p);
		int64_t due;

		/* level 0 (no secret post) too: its re-review is opened (op_open_due) */
		if (!on_post_or_onboarding(w->pstate[p]) || (scope >= 0 &&
		    !in_subtree(w, w->punit[p], scope)) || r == NULL || r->state != 1)
			continue;
		due = ref_due(w, p, r);
		if (due == NEVER || due > until)
			continue;
		v[n++] = (struct ref_item){due, p, w->ext[p]};
	}
	qsort(v, (size_t)n, sizeof *v, ref_item_cmp);
	for (int i = 0; i < n; i++) {
		int64_t due = v[i].due;
		int rem = ref_reminder(w, due - t);

		json_array_append_new(items, json_pack("{s:s, s:s, s:o, s:I, s:b, s:o}", "person",
			w->ext[v[i].p], "gate", "review", "due", iso(due), "days_left",
			(json_int_t)ref_days_left(due - t), "overdue", due <= t, "reminder_days",
			rem < 0 ? json_null() : json_integer(rem)));
		w->items++;
		w->overdue += due <= t;
		w->reminded += rem > 0;
	}
	return items;
}

/* The open reviews of persons inside scope (-1: all), by id. */
static json_t *ref_open_reviews(struct world *w, int scope)
{
	json_t *arr = json_array();

	for (int i = 0; i < w->nrev; i++) {
		const struct mrev *r = &w->r[i];

		if (r->state != 0 || (scope >= 0 && !in_subtree(w, w->punit[r->person], scope)))
			continue;
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:o}", "id",
			(json_int_t)r->id, "person", w->ext[r->person], "level",
			level_names[r->level], "state", "open", "due_at", iso(r->due_at)));
	}
	return arr;
}

/* Why p is not cleared at t (a bit per R_*), 0 when cleared: a secret
 * post, on post (active or suspended), no suspension, and when the policy
 * checks the review an approved one in force, at or above the level, not
 * yet at its re-review date. */
static unsigned ref_reasons(struct world *w, int p, int64_t t)
{
	int lv = ref_level(w, p), st = w->pstate[p];
	struct mrev *r = ref_in_force(w, p);
	unsigned why = 0;

	if (lv == 0)
		return 1u << R_NO_POST |
		       (unsigned)(w->suspended[p] || st == ST_SUSPENDED) << R_SUSPENDED;
	if (r == NULL || r->state != 1)
		why |= 1u << R_MISSING;
	else if (r->level < lv)
		why |= 1u << R_TOO_LOW;
	else if (t >= ref_due(w, p, r))
		why |= 1u << R_EXPIRED;
	if (w->suspended[p] || st == ST_SUSPENDED)
		why |= 1u << R_SUSPENDED;
	if (st != ST_ACTIVE && st != ST_SUSPENDED)
		why |= 1u << R_NOT_ON_POST;
	return why;
}

/* Up to five reasons, most common first, ties in reason-table order. */
static json_t *ref_top(const int count[R_N])
{
	json_t *arr = json_array();
	bool used[R_N] = {0};

	for (int k = 0; k < 5; k++) {
		int best = -1;

		for (int i = 0; i < R_N; i++)
			if (!used[i] && count[i] > 0 && (best < 0 || count[i] > count[best]))
				best = i;
		if (best < 0)
			break;
		used[best] = true;
		json_array_append_new(arr, json_pack("{s:s, s:i}", "code", reason_codes[best],
						     "count", count[best]));
	}
	return arr;
}

/* The report as {unit code: {persons, cleared, not_cleared, top_reasons}}
 * for the persons of the subtree of `root` (-1: everyone). */
static json_t *ref_report(struct world *w, int root, int64_t t)
{
	json_t *units = json_object();

	for (int u = 0; u < w->nunit; u++) {
		int count[R_N] = {0}, ok = 0, no = 0, n = 0;
		json_t *cats = json_object();

		if (root >= 0 && !in_subtree(w, u, root)) {
			json_decref(cats);
			continue;
		}
		for (int p = 0; p < w->nper; p++) {
			unsigned why;
			json_t *c;
			const char *sn = state_names[w->pstate[p]];

			if (w->punit[p] != u)
				continue;
			n++;
			if ((c = json_object_get(cats, cat_names[ref_level(w, p)])) == NULL)
				json_object_set_new(cats, cat_names[ref_level(w, p)], c = json_object());
			set_int(c, sn, (int)json_integer_value(json_object_get(c, sn)) + 1);
			why = ref_reasons(w, p, t);
			ok += why == 0;
			no += why != 0;
			for (int k = 0; k < R_N; k++)
				count[k] += (why >> k) & 1;
		}
		w->cleared += ok;
		if (n > 0)
			json_object_set_new(units, w->ucode[u], json_pack("{s:o, s:i, s:i, s:o}",
				"persons", cats, "cleared", ok, "not_cleared", no, "top_reasons",
				ref_top(count)));
		else
			json_decref(cats);
	}
	return units;
}

/* --------------------------------------------------------- comparisons */

/* Counts one case; fails with both documents when they differ.  Takes
 * ownership of want and got. */
static void expect_equal(struct world *w, const char *what, json_t *want, json_t *got)
{
	if (!json_equal(want, got)) {
		char *a = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
		char *b = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

		WFAIL(w, "%s:\n  reference %s\n  service   %s", what, a, b);
	}
	json_decref(want);
	json_decref(got);
	w->cases++;
}

/* The parts of each open review the reference knows. */
static json_t *open_subset(const json_t *arr)
{
	static const char *const keys[] = {"id", "person", "level", "state", "due_at"};
	json_t *out = json_array(), *x;
	size_t i;

	json_array_foreach(arr, i, x) {
		json_t *o = json_object();

		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			json_object_set(o, keys[k], json_object_get(x, keys[k]));
		json_array_append_new(out, o);
	}
	return out;
}

/* The service's units array keyed by unit, messages checked present. */
static json_t *report_keyed(struct world *w, const json_t *units)
{
	json_t *out = json_object(), *u, *r;
	size_t i, j;

	json_array_foreach(units, i, u) {
		json_t *top = json_array();

		json_array_foreach(json_object_get(u, "top_reasons"), j, r) {
			if (!json_is_string(json_object_get(r, "message")))
				WFAIL(w, "a top reason without its message");
			json_array_append_new(top, json_pack("{s:O, s:O}", "code",
				json_object_get(r, "code"), "count", json_object_get(r, "count")));
		}
		if (json_object_get(out, json_string_value(json_object_get(u, "unit"))))
			WFAIL(w, "unit %s listed twice", json_string_value(json_object_get(u, "unit")));
		json_object_set_new(out, json_string_value(json_object_get(u, "unit")),
			json_pack("{s:O, s:O, s:O, s:o}", "persons", json_object_get(u, "persons"),
				  "cleared", json_object_get(u, "cleared"), "not_cleared",
				  json_object_get(u, "not_cleared"), "top_reasons", top));
	}
	return out;
}

/* An instant to ask at: soon, far, or on the edge of a reminder offset or
 * a re-review date of someone's review (a second before, at, after). */
static int64_t pick_instant(struct world *w)
{
	struct mrev *r = &w->r[w->nrev ? rnd(w, (uint32_t)w->nrev) : 0];
	int off;

	if (w->nrev > 0 && r->state == 1 && rnd(w, 3) == 0) {
		off = w->pol.nrem && rnd(w, 2) ? w->pol.rem[rnd(w, (uint32_t)w->pol.nrem)] : 0;
		return ref_due(w, r->person, r) - (int64_t)off * DAY + (int64_t)rnd(w, 3) - 1;
	}
	return w->now + (rnd(w, 3) ? (int64_t)rnd(w, 5 * DAY) : (int64_t)rnd(w, 800) * DAY);
}

/* A horizon: a usual one, the end of time, a random one, or one ending
 * exactly at (or a second before) someone's re-review date. */
static int64_t pick_within(struct world *w, int64_t t)
{
	static const int64_t fixed[] = {0, 7 * DAY, 30 * DAY, 90 * DAY, 365 * DAY, INT64_MAX};
	struct mrev *r = &w->r[w->nrev ? rnd(w, (uint32_t)w->nrev) : 0];

	if (w->nrev > 0 && r->state == 1 && ref_due(w, r->person, r) > t &&
	    ref_due(w, r->person, r) != NEVER && rnd(w, 4) == 0)
		return ref_due(w, r->person, r) - t - (int64_t)rnd(w, 2);   /* the horizon's edge */
	return rnd(w, 2) ? fixed[rnd(w, 6)] : (int64_t)rnd(w, 1000 * DAY);
}

/* A random asker: its roles, and the unit it is scoped to (-1 none). */
static int pick_actor(struct world *w, struct actor *a)
{
	static const uint32_t roles[] = {ACTOR_LOCAL, ROLE_SECADMIN, ROLE_OFFICER,
					 ROLE_TRAINER, ROLE_AUDITOR, ROLE_REVIEWER,
					 ROLE_OFFICER | ROLE_REVIEWER};
	int scope = rnd(w, 2) ? (int)rnd(w, (uint32_t)w->nunit) : -1;

	memset(a, 0, sizeof *a);
	snprintf(a->name, sizeof a->name, "asker");
	a->roles = roles[rnd(w, sizeof roles / sizeof roles[0])];
	if (a->roles == ACTOR_LOCAL)
		scope = -1;
	a->scope_unit = scope >= 0 ? w->uid[scope] : 0;
	return scope;
}

/* Counts one case that must be refused with code. */
static void expect_refused(struct world *w, const char *what, json_t *got, int code)
{
	if (got != NULL || w->f->e.code != code)
		WFAIL(w, "%s: expected error %d, got %s (%d: %s)", what, code,
		      got ? "an answer" : "an error", w->f->e.code, w->f->e.msg);
	bm_err_clear(&w->f->e);
	w->cases++;
}

/* The open reviews after the due list's first page, read on through the
 * review list from open_reviews_next_cursor as a client would. */
static void due_open_rest(struct world *w, const struct actor *a, json_t *all, int64_t limit)
{
	json_t *open = json_object_get(all, "open_reviews");
	const char *cur = json_string_value(json_object_get(all, "open_reviews_next_cursor"));
	struct svc_page pg = {.limit = limit};
	struct review_query q = {.page = &pg};

	if (open != NULL && limit > 0 && json_array_size(open) > (size_t)limit)
		WFAIL(w, "%zu open reviews on a page of %lld", json_array_size(open),
		      (long long)limit);
	if (cur != NULL && svc_cursor_read(w->f->s, 'r', cur, &pg.after_id, &pg.scope,
					       &w->f->e) != 0)
		WFAIL(w, "open_reviews_next_cursor is no review-list cursor: %s", w->f->e.msg);
	while (cur != NULL) {
		json_t *page = svc_review_list(w->f->s, a, &q, &w->f->e);

		if (page == NULL)
			WFAIL(w, "review list after the due list refused: %s", w->f->e.msg);
		/* a cursor promises more: every list reads one past its page */
		if (json_array_size(page) == 0)
			WFAIL(w, "a review-list cursor with no open review after it");
		json_array_extend(open, page);
		cur = pg.more ? "" : NULL;
		pg.after_id = pg.last_id;
		json_decref(page);
	}
	if (open != NULL)
		json_object_set_new(all, "open_reviews_next_cursor", json_null());
}

/* The whole due list as one answer: page after page of limit items (0:
 * one page), each page's next_cursor asking for the next, the open
 * reviews continued through the review list's cursor.  A page after the
 * first carries no open reviews; the last has next_cursor null. */
static json_t *due_walk(struct world *w, const struct actor *a, int64_t t, int64_t within,
			int64_t limit)
{
	struct due_query q = {.within = within, .limit = limit};
	json_t *all = svc_due(w->f->s, a, t, &q, &w->f->e), *page = all;
	char cur[SVC_CURSOR_LONG_MAX];
	int pages = 0;

	while (page != NULL && json_is_string(json_object_get(page, "next_cursor"))) {
		if (++pages > 10000)
			WFAIL(w, "the due list's pages never end (a cursor that repeats its item?)");
		snprintf(cur, sizeof cur, "%s", json_string_value(json_object_get(page, "next_cursor")));
		if (page != all)
			json_decref(page);
		q.cursor = cur;
		if ((page = svc_due(w->f->s, a, t, &q, &w->f->e)) == NULL)
			WFAIL(w, "due page after %s refused: %s", cur, w->f->e.msg);
		if (json_object_get(page, "open_reviews") != NULL)
			WFAIL(w, "a due page after the first lists open reviews");
		if (json_array_size(json_object_get(page, "items")) == 0 ||
		    json_array_size(json_object_get(page, "items")) > (size_t)limit)
			WFAIL(w, "a due page of %zu items, limit %lld",
			      json_array_size(json_object_get(page, "items")), (long long)limit);
		json_array_extend(json_object_get(all, "items"), json_object_get(page, "items"));
	}
	if (page != NULL && page != all)
		json_decref(page);
	if (all != NULL) {
		json_object_set_new(all, "next_cursor", json_null());
		due_open_rest(w, a, all, limit);
	}
	return all;
}

/* One due-list case: random asker, instant and horizon. */
static void compare_due(struct world *w)
{
	struct actor a;
	int scope = pick_actor(w, &a);
	int64_t t = pick_instant(w), within = pick_within(w, t);
	int64_t until = within > NEVER - t ? NEVER : t + within;
	/* open reviews are review.read's to see: a trainer gets the items only */
	bool reads = a.roles & (ACTOR_LOCAL | ROLE_SECADMIN | ROLE_OFFICER | ROLE_REVIEWER);
	/* one case in three walks the list a few items a page */
	int64_t limit = rnd(w, 3) ? 0 : 1 + (int64_t)rnd(w, 4);
	json_t *got = due_walk(w, &a, t, within, limit), *want;

	if (!(a.roles & (ACTOR_LOCAL | ROLE_SECADMIN | ROLE_OFFICER | ROLE_TRAINER))) {
		expect_refused(w, "due list without due.read", got, BM_EPERM);
		return;
	}
	if (got == NULL)
		WFAIL(w, "svc_due refused: %s", w->f->e.msg);
	want = json_pack("{s:o, s:o, s:o, s:I, s:n, s:n}", "evaluated_at", iso(t), "items",
			 ref_due_items(w, scope, t, until), "open_reviews",
			 reads ? ref_open_reviews(w, scope) : json_array(), "within_days",
			 (json_int_t)(within / DAY), "next_cursor", "open_reviews_next_cursor");
	json_object_set_new(got, "open_reviews", open_subset(json_object_get(got, "open_reviews")));
	w->open_seen += json_array_size(json_object_get(want, "open_reviews"));
	expect_equal(w, "due list", want, got);
}

/* One report case: random asker, unit filter (or none) and instant. */
static void compare_report(struct world *w)
{
	struct actor a;
	int scope = pick_actor(w, &a), unit = rnd(w, 2) ? (int)rnd(w, (uint32_t)w->nunit) : -1;
	int64_t t = pick_instant(w);
	json_t *got = svc_report_compliance(w->f->s, &a, unit >= 0 ? w->ucode[unit] : NULL, t,
					    &w->f->e), *want;

	if (!(a.roles & (ACTOR_LOCAL | ROLE_SECADMIN | ROLE_AUDITOR))) {
		expect_refused(w, "report without report.read", got, BM_EPERM);
		return;
	}
	if (unit >= 0 && scope >= 0 && !in_subtree(w, unit, scope)) {
		expect_refused(w, "report on a unit outside the scope", got, BM_ENOTFOUND);
		return;
	}
	if (got == NULL)
		WFAIL(w, "svc_report_compliance refused: %s", w->f->e.msg);
	want = json_pack("{s:o, s:o, s:o}", "unit", unit >= 0 ? json_string(w->ucode[unit])
							    : json_null(),
			 "evaluated_at", iso(t), "units", ref_report(w, unit >= 0 ? unit : scope, t));
	json_object_set_new(got, "units", report_keyed(w, json_object_get(got, "units")));
	expect_equal(w, "compliance report", want, got);
}

/* ----------------------------------------------------------------- tests */

/* A refused report: BM_ENOTFOUND naming "unit", its message (valid
 * UTF-8) into msg. */
static void report_not_found(struct world *w, const struct actor *a, const char *unit,
			     char msg[MSG_CAP])
{
	assert_null(svc_report_compliance(w->f->s, a, unit, T0, &w->f->e));
	assert_int_equal(w->f->e.code, BM_ENOTFOUND);
	assert_string_equal(w->f->e.field, "unit");
	assert_true(utf8_valid(w->f->e.msg, strlen(w->f->e.msg), NULL));
	snprintf(msg, MSG_CAP, "%s", w->f->e.msg);
	bm_err_clear(&w->f->e);
}

/* The due list refuses a negative horizon (the adapters refuse malformed
 * durations before it, naming "within") and askers without due.read. */
static void test_due_bad_input(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	const struct actor aud = {.name = "a", .roles = ROLE_AUDITOR},
			   per = {.name = "p", .roles = ROLE_PERSON, .person = "E0"};
	static const char *const bad[] = {"", "-1d", "1w", "d", "90", "9d9",
					  "99999999999999999999d", "1D", " 1d", "1d "};
	int64_t sec;

	(void)state;
	world_open(w, 1);
	expect_refused(w, "negative within", svc_due(w->f->s, &local, T0, &(struct due_query){.within = -1}, &w->f->e),
		       BM_EINVAL);
	assert_null(svc_due(w->f->s, &local, T0, &(struct due_query){.within = INT64_MIN}, &w->f->e));
	assert_string_equal(w->f->e.field, "within");
	bm_err_clear(&w->f->e);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(clock_parse_duration(bad[i], "within", &sec, &w->f->e), BM_EINVAL);
		assert_string_equal(w->f->e.field, "within");
		bm_err_clear(&w->f->e);
	}
	expect_refused(w, "due for an auditor", svc_due(w->f->s, &aud, T0, &(struct due_query){.within = 0}, &w->f->e),
		       BM_EPERM);
	expect_refused(w, "due for a person", svc_due(w->f->s, &per, T0, &(struct due_query){.within = 0}, &w->f->e), BM_EPERM);
	expect_refused(w, "due for a reviewer", svc_due(w->f->s, &rev[0], T0, &(struct due_query){.within = 0}, &w->f->e),
		       BM_EPERM);
	world_close(w);
	free(w);
}

/* The report refuses askers without report.read (an officer among them);
 * an unknown, empty, malformed or huge unit is "not found", and so, in the
 * very same words, is a unit outside the asker's subtree. */
static void test_report_bad_input(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	const struct actor off = {.name = "o", .roles = ROLE_OFFICER};
	struct actor scoped = {.name = "s", .roles = ROLE_SECADMIN};
	char huge[300], outside[MSG_CAP], unknown[MSG_CAP];
	const char *const units[] = {"NOPE", "", "\xff\xfe", "HQ\n", huge};
	json_t *v;

	(void)state;
	world_open(w, 2);
	expect_refused(w, "report for an officer",
		       svc_report_compliance(w->f->s, &off, NULL, T0, &w->f->e), BM_EPERM);
	expect_refused(w, "report for a reviewer",
		       svc_report_compliance(w->f->s, &rev[0], NULL, T0, &w->f->e), BM_EPERM);
	memset(huge, 'U', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		report_not_found(w, &local, units[i], unknown);
	add_unit(w, "SIDE", 0);
	add_unit(w, "SUB", 0);
	scoped.scope_unit = w->uid[w->nunit - 1];
	report_not_found(w, &scoped, "SIDE", outside);
	report_not_found(w, &scoped, "ZZZZ", unknown);
	memcpy(strstr(outside, "SIDE"), "ZZZZ", 4);
	assert_string_equal(outside, unknown);
	/* the unit is there for the unscoped, and the scope root for the scoped */
	assert_non_null(v = svc_report_compliance(w->f->s, &local, "SIDE", T0, &w->f->e));
	json_decref(v);
	assert_non_null(v = svc_report_compliance(w->f->s, &scoped, "SUB", T0, &w->f->e));
	json_decref(v);
	world_close(w);
	free(w);
}

/* Random worlds and operations; after each step the due list and the
 * report are asked at random instants and compared with the reference. */
static void test_second_opinion(void **state)
{
	static const uint32_t seeds[] = {20260101, 7, 4242, 99991, 31337, 123456, 8, 2718};
	int64_t cases = 0, items = 0, overdue = 0, reminded = 0, cleared = 0, open = 0;

	(void)state;
	for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
		struct world *w = calloc(1, sizeof *w);

		world_open(w, seeds[s]);
		for (w->step = 0; w->step < 230; w->step++) {
			w->now += rnd(w, 10) ? (int64_t)rnd(w, DAY) : (int64_t)rnd(w, 40 * DAY);
			clock_set(w->now);
			random_op(w);
			read_states(w);
			check_reviews(w);
			for (int k = 0; k < 3; k++)
				compare_due(w);
			for (int k = 0; k < 3; k++)
				compare_report(w);
		}
		cases += w->cases;
		items += w->items;
		overdue += w->overdue;
		reminded += w->reminded;
		cleared += w->cleared;
		open += w->open_seen;
		world_close(w);
		free(w);
	}
	print_message("%lld cases compared: %lld due items (%lld overdue, %lld at a reminder), "
		      "%lld persons counted cleared, %lld open reviews listed\n",
		      (long long)cases, (long long)items, (long long)overdue, (long long)reminded,
		      (long long)cleared, (long long)open);
	/* a generator that stopped making interesting cases fails here */
	assert_true(cases >= 10000);
	assert_true(items >= 1000 && overdue >= 200 && reminded >= 200);
	assert_true(cleared >= 1000 && open >= 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_bad_input),
		cmocka_unit_test(test_report_bad_input),
		cmocka_unit_test(test_second_opinion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
