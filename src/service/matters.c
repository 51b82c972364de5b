/*
 * matters.c - reportable personal matters and violations (DESIGN.md §1.7),
 * suspension and reinstatement, and taking up the post (onboarding ->
 * active).
 *
 * What a matter does is policy (policy_matter): suspend at once, or call
 * for a re-review within N days, which shortens the review in force to
 * that date and opens the re-review.  A person may file about themselves;
 * officers about anyone.  This file must never decide a gate itself: the
 * activation check asks core/gate.
 */
#include "svc_internal.h"
#include "../core/gate.h"
#include "../core/lifecycle.h"
#include "../core/role.h"
#include "../lib/clock.h"

#include <string.h>

/* The person a may act on: an officer's subtree only, the rest "not found". */
static int get_person(struct svc *s, const struct actor *a, const char *ext_id,
		      struct person_rec *p, struct bm_err *e)
{
	return svc__person_scoped(s, a, ext_id, "person", p, e);
}

/* ------------------------------------------------------------ suspension */

/* Records a suspension and moves an active person to suspended. */
static int suspend_tx(struct svc *s, const struct actor *a, struct person_rec *p,
		      const char *reason, int64_t matter_id, struct bm_err *e)
{
	struct suspension_rec su = {.person_id = p->id, .matter_id = matter_id};
	int rc;

	su.since = clock_now();
	svc__copy(su.by, sizeof su.by, a->name);
	svc__copy(su.reason, sizeof su.reason, reason);
	svc__touch(s, p->id);
	if ((rc = ST(s)->suspension_insert(s->st, &su, e)))
		return rc;
	if (p->state == ST_ACTIVE &&
	    (rc = svc__person_state_tx(s, a, p, ST_SUSPENDED, reason, e)))
		return rc;
	return svc__audit1(s, a, "person.suspend", p->ext_id,
			   json_pack("{s:I, s:s, s:I}", "suspension", (json_int_t)su.id, "reason",
				     reason, "matter", (json_int_t)matter_id), e);
}

int svc_person_suspend(struct svc *s, const struct actor *a, const char *person,
		       const char *reason, struct bm_err *e)
{
	struct person_rec p;
	int rc;

	if ((rc = svc__allow(a, PERM_SUSPEND, e)) ||
	    (rc = svc__check_text("reason", reason, true, e)) || (rc = svc__begin(s, e)))
		return rc;
	if ((rc = get_person(s, a, person, &p, e)))
		goto fail;
	if (p.state == ST_SUSPENDED) {
		rc = bm_errf(e, BM_ESTATE, "person", "person %s is already suspended", p.ext_id);
		goto fail;
	}
	if ((rc = suspend_tx(s, a, &p, reason, 0, e)))
		goto fail;
	return svc__commit(s, e);
fail:
	svc__rollback(s);
	return rc;
}

struct lift_ctx {
	struct svc *s;
	const struct actor *a;
	const char *reason;
	int lifted, rc;
	struct bm_err *e;
};

static int lift_one(void *ctx, const struct suspension_rec *r)
{
	struct lift_ctx *l = ctx;
	struct suspension_rec u = *r;

	if (r->lifted_at != 0)
		return 0;
	u.lifted_at = clock_now();
	svc__copy(u.lifted_by, sizeof u.lifted_by, l->a->name);
	svc__copy(u.lift_reason, sizeof u.lift_reason, l->reason);
	if ((l->rc = ST(l->s)->suspension_update(l->s->st, &u, l->e)))
		return 1;
	l->lifted++;
	return 0;
}

static int reinstate_tx(struct svc *s, const struct actor *a, struct person_rec *p,
			const char *reason, struct bm_err *e)
{
	struct lift_ctx l = {s, a, reason, 0, 0, e};
	int rc = ST(s)->suspension_list(s->st, p->id, lift_one, &l, e);

	if (l.rc || rc)
		return l.rc ? l.rc : rc;
	if (l.lifted == 0 && p->state != ST_SUSPENDED)
		return bm_errf(e, BM_ESTATE, "person", "person %s is not suspended", p->ext_id);
	svc__touch(s, p->id);
	if (p->state == ST_SUSPENDED &&
	    (rc = svc__person_state_tx(s, a, p, ST_ACTIVE, reason, e)))
		return rc;
	return svc__audit1(s, a, "person.reinstate", p->ext_id,
			   json_pack("{s:s, s:i}", "reason", reason, "lifted", l.lifted), e);
}

/* Lifts every suspension of person; never by the person themselves, under
 * any account linked to them. */
int svc_person_reinstate(struct svc *s, const struct actor *a, const char *person,
			 const char *reason, struct bm_err *e)
{
	struct person_rec p;
	int rc;

	if ((rc = svc__allow(a, PERM_SUSPEND, e)) ||
	    (rc = svc__check_text("reason", reason, true, e)) || (rc = svc__begin(s, e)))
		return rc;
	if ((rc = get_person(s, a, person, &p, e)))
		goto fail;
	if ((rc = svc__acts_for(s, a, p.ext_id, e)) != 0) {
		if (rc > 0)
			rc = bm_errf(e, BM_EPERM, "person", "%s may not lift their own suspension",
				     a->name);
		goto fail;
	}
	if ((rc = reinstate_tx(s, a, &p, reason, e)))
		goto fail;
	return svc__commit(s, e);
fail:
	svc__rollback(s);
	return rc;
}

/* ------------------------------------------------------------ activation */

/* Stops at the first open appointment. */
static int open_appt(void *ctx, const struct appt_rec *r)
{
	if (r->end != 0)
		return 0;
	*(bool *)ctx = true;
	return 1;
}

/* Every gate must hold as if the person were already on post, and there
 * must be a post to take up: "active" means on post (state_on_post). */
static int check_gates(struct svc *s, const struct person_rec *p, struct bm_err *e)
{
	struct facts_rec f = {0};
	struct gate_facts g;
	struct gate_status st;
	bool held = false;
	int rc = svc__facts_of(s, p->id, &f, e);
	int first;

	if (rc < 0)
		return rc;
	if ((rc = ST(s)->appt_list(s->st, p->id, open_appt, &held, e)) < 0)
		return rc;
	if (!held)
		return bm_errf(e, BM_ESTATE, "person", "person %s cannot take up the post: "
			       "they hold no post; appoint them first", p->ext_id);
	svc__gate_facts(&f, &g);
	g.state = ST_ACTIVE;
	gate_eval(&g, &s->policy, clock_now(), &st);
	/* A person on a post of level 0 needs no clearance to take it up. */
	st.reasons &= ~(1u << REASON_NO_SECRET_POST);
	if (st.reasons == 0)
		return 0;
	first = __builtin_ctz(st.reasons);
	return bm_errf(e, BM_ESTATE, "person", "person %s cannot take up the post: %s (%s)%s",
		       p->ext_id, gate_reason_msg_en(first), gate_reason_code(first),
		       (st.reasons & (st.reasons - 1)) ? " and more" : "");
}

int svc_person_activate(struct svc *s, const struct actor *a, const char *person,
			struct bm_err *e)
{
	struct person_rec p;
	int rc;

	if ((rc = svc__allow(a, PERM_PERSON_WRITE, e)) || (rc = svc__begin(s, e)))
		return rc;
	if ((rc = get_person(s, a, person, &p, e)) || (rc = lifecycle_check(p.state, ST_ACTIVE, e)) ||
	    (rc = check_gates(s, &p, e)) ||
	    (rc = svc__person_state_tx(s, a, &p, ST_ACTIVE, "every gate holds", e))) {
		svc__rollback(s);
		return rc;
	}
	return svc__commit(s, e);
}

/* --------------------------------------------------------------- matters */

struct shorten_ctx {
	struct review_rec in_force;
	bool found;
	struct review_rec open;      /* the open review, if any (open.id 0: none) */
};

/* Collects the review in force (the latest decided) and the open one. */
static int latest_decided(void *ctx, const struct review_rec *r)
{
	struct shorten_ctx *c = ctx;

	if (r->state == REVIEW_OPEN)
		c->open = *r;
	if (r->state != REVIEW_OPEN &&
	    (!c->found || r->decided_at > c->in_force.decided_at ||
	     (r->decided_at == c->in_force.decided_at && r->id > c->in_force.id))) {
		c->in_force = *r;
		c->found = true;
	}
	return 0;
}

/* Brings *due forward to when the review in force falls due under the
 * policy now (a shortened interval may have made that earlier): the
 * re-review's deadline is never later than the clearance's end. */
static int lapse_before(struct svc *s, const struct person_rec *p, int64_t *due,
			struct bm_err *e)
{
	struct facts_rec f = {0};
	struct gate_facts g;
	int64_t lapse;
	int rc = svc__facts_of(s, p->id, &f, e);

	if (rc < 0)
		return rc;
	svc__gate_facts(&f, &g);
	lapse = gate_review_due(&g, &s->policy);
	if (lapse > 0 && lapse < *due)
		*due = lapse;
	return 0;
}

/* A re-review within `days`: the review in force now lapses by then, and
 * a re-review is opened with that deadline; a review already open serves
 * instead, its deadline brought forward to this one if later, so that the
 * due list shows the date the clearance lapses.  The matter names the
 * review either way.  Only someone under vetting or holding a clearance
 * has a review to bring forward or repeat.  A person who is leaving, in
 * decontamination or released has given it up, and a candidate or a
 * rejected person never had one: their matter is recorded (a leaver must
 * still report, above all in the decontamination period) and opens
 * nothing.  Opening a review would move a candidate or a rejected person
 * into vetting (lifecycle.h), which is an officer's act (review open),
 * never the side effect of a report the person may file about themselves. */
static int rereview_tx(struct svc *s, const struct actor *a, struct person_rec *p,
		       const char *type, int days, struct matter_rec *m, struct bm_err *e)
{
	struct shorten_ctx c = {0};
	struct review_rec r;
	char trig[32];
	int64_t due = clock_add_days(clock_now(), days), deadline = due;
	int rc;

	if (state_has_left(p->state) || p->state == ST_CANDIDATE || p->state == ST_REJECTED)
		return 0;
	if ((rc = lapse_before(s, p, &deadline, e)))
		return rc;
	if ((rc = ST(s)->review_find(s->st, &(struct review_filter){p->id, -1, 0}, latest_decided,
				     &c, e)))
		return rc;
	if (c.found && c.in_force.state == REVIEW_APPROVED &&
	    (c.in_force.valid_until == 0 || c.in_force.valid_until > due)) {
		c.in_force.valid_until = due;
		svc__touch(s, p->id);
		if ((rc = ST(s)->review_update(s->st, &c.in_force, e)))
			return rc;
	}
	if (c.open.id != 0) {
		m->review_id = c.open.id;
		if (c.open.due_at != 0 && c.open.due_at <= deadline)
			return 0;
		c.open.due_at = deadline;
		return ST(s)->review_update(s->st, &c.open, e);
	}
	snprintf(trig, sizeof trig, "matter:%.20s", type);
	rc = svc__review_open_tx(s, a, p, p->level > 0 ? p->level : c.found ? c.in_force.level : 1,
				 trig, deadline, &r, e);
	m->review_id = r.id;
	return rc;
}

static int file_tx(struct svc *s, const struct actor *a, struct person_rec *p,
		   const struct policy_matter *pm, const char *detail, struct matter_rec *m,
		   struct bm_err *e)
{
	int rc = 0;

	m->person_id = p->id;
	m->filed_at = clock_now();
	svc__copy(m->type, sizeof m->type, pm->type);
	svc__copy(m->filed_by, sizeof m->filed_by, a->name);
	svc__copy(m->detail, sizeof m->detail, detail);
	svc__copy(m->action, sizeof m->action, matter_action_name(pm->action));
	if (pm->action == MATTER_REREVIEW)
		rc = rereview_tx(s, a, p, pm->type, pm->within_days, m, e);
	if (rc || (rc = ST(s)->matter_insert(s->st, m, e)))
		return rc;
	if (pm->action == MATTER_SUSPEND &&
	    (rc = suspend_tx(s, a, p, pm->type, m->id, e)))
		return rc;
	return svc__audit1(s, a, "matter.file", p->ext_id,
			   json_pack("{s:I, s:s, s:s, s:I}", "matter", (json_int_t)m->id, "type",
				     m->type, "action", m->action, "review",
				     (json_int_t)m->review_id), e);
}

static json_t *matter_json(const struct matter_rec *m, const char *ext_id)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:s, s:o}", "id", (json_int_t)m->id,
			 "person", ext_id, "type", m->type, "filed_by", m->filed_by, "filed_at",
			 svc__time_json(m->filed_at), "detail", m->detail, "action", m->action,
			 "review", m->review_id ? json_integer(m->review_id) : json_null());
}

static int may_file(const struct actor *a, const char *person, struct bm_err *e)
{
	if (svc__actor_is(a, person) && svc__allow(a, PERM_MATTER_FILE_OWN, NULL) == 0)
		return 0;
	return svc__allow(a, PERM_MATTER_FILE_ANY, e);
}

json_t *svc_matter_file(struct svc *s, const struct actor *a, const char *person,
			const char *type, const char *detail, struct bm_err *e)
{
	const struct policy_matter *pm;
	struct matter_rec m = {0};
	struct person_rec p;

	if (may_file(a, person ? person : "", e) || svc__check_text("detail", detail, false, e))
		return NULL;
	/* What the matter does is the stored policy's, read under the write
	 * lock (svc__begin), not the one this context had before. */
	if (svc__begin(s, e))
		return NULL;
	if ((pm = policy_matter(&s->policy, type)) == NULL)
		bm_errf(e, BM_EINVAL, "type", "type: \"%.32s\" is not a matter type of policy %s",
			type ? type : "", s->policy.profile);
	if (pm == NULL || get_person(s, a, person, &p, e) ||
	    file_tx(s, a, &p, pm, detail, &m, e)) {
		svc__rollback(s);
		return NULL;
	}
	if (svc__commit(s, e))
		return NULL;
	return matter_json(&m, p.ext_id);
}

struct mlist {
	const char *ext_id;
	json_t *arr;
	struct svc_page *pg;
};

static int matter_one(void *ctx, const struct matter_rec *m)
{
	struct mlist *l = ctx;

	if (svc__page_take(l->pg, m->id))
		json_array_append_new(l->arr, matter_json(m, l->ext_id));
	return 0;
}

static json_t *matters_of(struct svc *s, const struct person_rec *p, struct svc_page *pg,
			  struct bm_err *e)
{
	struct mlist l = {p->ext_id, NULL, pg};
	struct store_page sp;

	/* a cursor is the person's: another's would only say where to start */
	if (svc__page_bind(pg, svc__scope_of("person %lld", (long long)p->id), e))
		return NULL;
	l.arr = json_array();
	if (ST(s)->matter_page(s->st, p->id, svc__page(pg, &sp), matter_one, &l, e)) {
		json_decref(l.arr);
		return NULL;
	}
	return l.arr;
}

json_t *svc_matter_list(struct svc *s, const struct actor *a, const char *person,
			struct svc_page *pg, struct bm_err *e)
{
	struct person_rec p;

	if (svc__allow(a, PERM_MATTER_READ, e) || get_person(s, a, person, &p, e))
		return NULL;
	return matters_of(s, &p, pg, e);
}

/* ---------------------------------------------------------- self-service */

json_t *svc_me_matter_file(struct svc *s, const struct actor *a, const char *type,
			   const char *detail, struct bm_err *e)
{
	struct person_rec p;

	if (svc__allow(a, PERM_MATTER_FILE_OWN, e) || svc__self(s, a, &p, e))
		return NULL;
	return svc_matter_file(s, a, p.ext_id, type, detail, e);
}

json_t *svc_me_matters(struct svc *s, const struct actor *a, struct svc_page *pg,
		       struct bm_err *e)
{
	struct person_rec p;

	if (svc__allow(a, PERM_PERSON_SELF_READ, e) || svc__self(s, a, &p, e))
		return NULL;
	return matters_of(s, &p, pg, e);
}
