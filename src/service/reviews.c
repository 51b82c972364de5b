/*
 * reviews.c - appointment reviews (先审后用): open, checklist, decide, and
 * the automatic re-reviews that fall due.
 *
 * A review is opened by an officer for a person at a target level, holds
 * the six checklist items of DESIGN.md §1.2, and is decided by reviewers
 * who are neither its opener nor the person under review; a core review
 * needs the policy's number of distinct approvers.  Approval sets the
 * re-review date from policy.  The review in force for a person is their
 * latest decided review, which is what the gates read.  This file must
 * never change a person's state except through svc__person_state_tx.
 */
#include "svc_internal.h"
#include "../core/gate.h"
#include "../core/level.h"
#include "../core/lifecycle.h"
#include "../core/role.h"
#include "../lib/clock.h"
#include "../lib/mem.h"

#include <stdlib.h>
#include <string.h>

#define REVIEW_ITEMS 6

static const char *const review_state_names[] = {"open", "approved", "rejected"};

static const char *review_state_name(int st)
{
	return st >= 0 && st <= 2 ? review_state_names[st] : "unknown";
}
static const char *const finding_names[] = {NULL, "clear", "concern", "disqualifying"};
/* DESIGN.md §1.2, in order: items 1..6. */
static const char *const item_names[REVIEW_ITEMS + 1] = {
	NULL, "nationality_and_political_stance", "conduct", "education_and_work_history",
	"personal_and_family_situation", "current_performance", "social_relations_abroad"};

/* ----------------------------------------------------------------- views */

static int item_json_one(void *ctx, const struct review_item_rec *r)
{
	json_array_append_new(ctx, json_pack("{s:i, s:s, s:s, s:s, s:s, s:o}", "item", r->item,
		"name", item_names[r->item], "finding", finding_names[r->finding], "note",
		r->note, "by", r->by, "at", svc__time_json(r->at)));
	return 0;
}

static int approval_json_one(void *ctx, const struct approval_rec *r)
{
	json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:o}", "by", r->approver,
		"decision", r->decision == 1 ? "approve" : "reject", "reason", r->reason, "at",
		svc__time_json(r->at)));
	return 0;
}

/* When an approved review stops holding under the policy in force for the
 * person's category (gate_review_due): a shortened interval brings the
 * recorded date forward, as status and decisions see it.  Others: as stored. */
static int64_t review_valid_until(const struct svc *s, const struct review_rec *r, int level)
{
	struct gate_facts g = {.level = level, .review = true, .review_level = r->level,
			       .review_approved_at = r->decided_at,
			       .review_due = r->valid_until ? r->valid_until : GATE_NEVER};

	return r->state == REVIEW_APPROVED ? gate_review_due(&g, &s->policy) : r->valid_until;
}

/* Adds the checklist and the approvals to v; a damaged row among them is
 * the error (a view that left it out would show a different review). */
static int review_lists_json(struct svc *s, const struct review_rec *r, json_t *v,
			     struct bm_err *e)
{
	json_t *items = json_array(), *apps = json_array();
	int rc;

	json_object_set_new(v, "items", items);
	json_object_set_new(v, "approvals", apps);
	if ((rc = ST(s)->review_item_list(s->st, r->id, item_json_one, items, e)) < 0)
		return rc;
	rc = ST(s)->approval_list(s->st, r->id, approval_json_one, apps, e);
	return rc < 0 ? rc : 0;
}

json_t *svc__review_json(struct svc *s, const struct review_rec *r, bool detail,
			 struct bm_err *e)
{
	struct person_rec p;
	json_t *v;
	int rc = ST(s)->person_get(s->st, r->person_id, NULL, &p, e);

	/* a review whose person is gone still shows, under the row id */
	if (rc == BM_ENOTFOUND) {
		bm_err_clear(e);
		snprintf(p.ext_id, sizeof p.ext_id, "#%lld", (long long)r->person_id);
		p.level = 0;
	} else if (rc) {
		return NULL;
	}
	v = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:I}", "id",
		      (json_int_t)r->id, "person", p.ext_id, "level", level_name(r->level),
		      "trigger", r->trigger, "state", review_state_name(r->state),
		      "opened_by", r->opened_by, "opened_at", svc__time_json(r->opened_at),
		      "due_at", svc__time_json(r->due_at), "decided_at",
		      svc__time_json(r->decided_at), "valid_until",
		      svc__time_json(review_valid_until(s, r, p.level)),
		      "reason", r->reason, "version", (json_int_t)r->version);
	if (detail && review_lists_json(s, r, v, e)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* ------------------------------------------------------------------ open */

static int find_open(void *ctx, const struct review_rec *r)
{
	if (r->state != REVIEW_OPEN)
		return 0;
	*(int64_t *)ctx = r->id;
	return 1;
}

/* The id of p's open review, or 0. */
static int64_t open_review_of(struct svc *s, int64_t person_id, struct bm_err *e)
{
	struct review_filter f = {person_id, REVIEW_OPEN, 0};
	int64_t id = 0;

	ST(s)->review_find(s->st, &f, find_open, &id, e);
	return id;
}

int svc__review_open_tx(struct svc *s, const struct actor *a, struct person_rec *p, int level,
			const char *trigger, int64_t due, struct review_rec *out,
			struct bm_err *e)
{
	int64_t open = open_review_of(s, p->id, e);
	int rc;

	if (open != 0)
		return bm_errf(e, BM_EEXIST, "person", "person: %s already has open review %lld",
			       p->ext_id, (long long)open);
	if (state_has_left(p->state))
		return bm_errf(e, BM_ESTATE, "person", "person: %s is %s; only candidates and "
			       "persons on post are reviewed", p->ext_id, state_name(p->state));
	memset(out, 0, sizeof *out);
	out->person_id = p->id;
	out->level = level;
	svc__copy(out->trigger, sizeof out->trigger, trigger);
	svc__copy(out->opened_by, sizeof out->opened_by, a->name);
	out->opened_at = clock_now();
	out->due_at = due;
	out->state = REVIEW_OPEN;
	if ((rc = ST(s)->review_insert(s->st, out, e)))
		return rc;
	if (p->state == ST_CANDIDATE || p->state == ST_REJECTED)
		rc = svc__person_state_tx(s, a, p, ST_REVIEWING, "review opened", e);
	if (rc == 0)
		rc = svc__audit1(s, a, "review.open", p->ext_id,
				 json_pack("{s:I, s:s, s:s, s:I}", "review", (json_int_t)out->id,
					   "level", level_name(level), "trigger", trigger, "due",
					   (json_int_t)due), e);
	return rc;
}

/* The person a may act on: an officer's subtree only, the rest "not found". */
static int get_person(struct svc *s, const struct actor *a, const char *ext_id,
		      struct person_rec *p, struct bm_err *e)
{
	return svc__person_scoped(s, a, ext_id, "person", p, e);
}

/* Reads review id for a: the review of a person outside an officer's
 * subtree is "not found", in the words used for an id that does not exist. */
static int get_review(struct svc *s, const struct actor *a, int64_t id, struct review_rec *r,
		      struct bm_err *e)
{
	struct person_rec p;
	int rc = ST(s)->review_get(s->st, id, r, e);

	if (rc == 0 && svc__actor_scoped(a) &&
	    ((rc = ST(s)->person_get(s->st, r->person_id, NULL, &p, e)) == 0 &&
	     svc__scope_check(s, a, p.unit_id, "review", "review", e) == BM_ENOTFOUND))
		rc = BM_ENOTFOUND;
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "review", "review %lld not found", (long long)id);
	return rc;
}

/* Nobody opens their own review, under any account linked to them: putting
 * oneself into vetting (candidate or rejected -> reviewing), at a level and
 * a moment of one's choosing, is the officer's act on someone else.  Nor is
 * one opened below the level of the posts the person holds: approving it
 * would leave them review_level_too_low (a rejection in effect), and while
 * open it would hold back the re-review the due run opens at their level.
 * A person who has left is not reviewed at any level: that refusal
 * (svc__review_open_tx) is theirs, not a level they could raise only to
 * meet it. */
static int check_open(struct svc *s, const struct actor *a, const struct person_rec *p,
		      int lv, struct bm_err *e)
{
	int rc = svc__acts_for(s, a, p->ext_id, e);

	if (rc > 0)
		return bm_errf(e, BM_EPERM, "person", "%s may not open a review of themselves",
			       a->name);
	if (rc == 0 && !state_has_left(p->state) && lv < p->level)
		return bm_errf(e, BM_EINVAL, "level", "level: %s holds a %s post; a %s review "
			       "would not cover it", p->ext_id, level_name(p->level),
			       level_name(lv));
	return rc;
}

json_t *svc_review_open(struct svc *s, const struct actor *a, const char *person,
			const char *level, struct bm_err *e)
{
	struct person_rec p;
	struct review_rec r;
	int lv, rc;

	if (svc__allow(a, PERM_REVIEW_OPEN, e) || level_parse(level, "level", &lv, e))
		return NULL;
	if (lv < LEVEL_CONFIDENTIAL) {
		bm_errf(e, BM_EINVAL, "level", "level: a review is for a secret-related level");
		return NULL;
	}
	if (svc__begin(s, e))
		return NULL;
	if ((rc = get_person(s, a, person, &p, e)) || (rc = check_open(s, a, &p, lv, e)) ||
	    (rc = svc__review_open_tx(s, a, &p, lv, state_on_post(p.state) ||
				      p.state == ST_ONBOARDING ? "rereview" : "initial", 0, &r, e))) {
		svc__rollback(s);
		return NULL;
	}
	if (svc__commit(s, e))
		return NULL;
	return svc__review_json(s, &r, true, e);
}

/* --------------------------------------------------------------- finding */

static int finding_parse(const char *v, struct bm_err *e)
{
	for (int i = 1; i <= 3; i++)
		if (v != NULL && strcmp(v, finding_names[i]) == 0)
			return i;
	return bm_errf(e, BM_EINVAL, "finding",
		       "finding: \"%.32s\" is not one of clear, concern, disqualifying",
		       v ? v : "");
}

/* The open review id, as of version expected when that is not 0. */
static int get_open_review(struct svc *s, const struct actor *a, int64_t id, int64_t expected,
			   struct review_rec *r, struct bm_err *e)
{
	int rc = get_review(s, a, id, r, e);

	if (rc == 0 && r->state != REVIEW_OPEN)
		return bm_errf(e, BM_ESTATE, "review", "review %lld is already %s", (long long)id,
			       review_state_name(r->state));
	if (rc == 0 && expected != 0 && expected != r->version)
		return bm_errf(e, BM_ECONFLICT, "review", "review %lld has changed since version "
			       "%lld (now %lld): read it again", (long long)id, (long long)expected,
			       (long long)r->version);
	return rc;
}

static int first_decider(void *ctx, const struct approval_rec *r)
{
	snprintf(ctx, BM_CODE_MAX, "%s", r->approver);
	return 1;
}

/* The person under review records nothing on their own case, and nobody
 * edits a checklist someone has already decided on: every approver of a
 * core review approves the same findings.  who gets the person's id, the
 * subject of the audit event. */
static int check_recorder(struct svc *s, const struct actor *a, const struct review_rec *r,
			  char who[BM_CODE_MAX], struct bm_err *e)
{
	struct person_rec p;
	char by[BM_CODE_MAX] = "";
	int rc = ST(s)->person_get(s->st, r->person_id, NULL, &p, e);

	if (rc == 0)
		svc__copy(who, BM_CODE_MAX, p.ext_id);
	if (rc == 0 && (rc = svc__acts_for(s, a, p.ext_id, e)) > 0)
		return bm_errf(e, BM_EPERM, "review", "%s may not record findings on their own "
			       "review", a->name);
	if (rc == 0 && (rc = ST(s)->approval_list(s->st, r->id, first_decider, by, e)) >= 0)
		rc = 0;
	if (rc == 0 && by[0] != '\0')
		return bm_errf(e, BM_ESTATE, "review", "review %lld was already decided on by %s; "
			       "its checklist can no longer change", (long long)r->id, by);
	return rc;
}

json_t *svc_review_finding(struct svc *s, const struct actor *a, int64_t review, int item,
			   const char *finding, const char *note, int64_t expected,
			   struct bm_err *e)
{
	struct review_item_rec it = {.review_id = review, .item = item};
	struct review_rec r;
	char who[BM_CODE_MAX] = "";
	int f;

	if (svc__allow(a, PERM_REVIEW_OPEN, NULL) && svc__allow(a, PERM_REVIEW_DECIDE, e))
		return NULL;
	if (item < 1 || item > REVIEW_ITEMS) {
		bm_errf(e, BM_EINVAL, "item", "item: the checklist has items 1 to %d", REVIEW_ITEMS);
		return NULL;
	}
	if ((f = finding_parse(finding, e)) < 0 || svc__check_text("note", note, f > 1, e))
		return NULL;
	it.finding = f;
	it.at = clock_now();
	svc__copy(it.note, sizeof it.note, note);
	svc__copy(it.by, sizeof it.by, a->name);
	if (svc__begin(s, e))
		return NULL;
	if (get_open_review(s, a, review, expected, &r, e) || check_recorder(s, a, &r, who, e) ||
	    ST(s)->review_item_set(s->st, &it, e) || ST(s)->review_update(s->st, &r, e) ||
	    svc__audit1(s, a, "review.finding", who,
			json_pack("{s:I, s:i, s:s, s:b}", "review", (json_int_t)review, "item", item,
				  "finding", finding_names[f], "note_set", note && *note), e)) {
		svc__rollback(s);
		return NULL;
	}
	if (svc__commit(s, e))
		return NULL;
	return svc__review_json(s, &r, true, e);
}

/* ---------------------------------------------------------------- decide */

struct items_ctx {
	int finding[REVIEW_ITEMS + 1];
};

static int items_one(void *ctx, const struct review_item_rec *r)
{
	((struct items_ctx *)ctx)->finding[r->item] = r->finding;
	return 0;
}

/* Approval needs all six items recorded and none disqualifying. */
static int check_checklist(struct svc *s, const struct review_rec *r, struct bm_err *e)
{
	struct items_ctx c = {{0}};
	int rc = ST(s)->review_item_list(s->st, r->id, items_one, &c, e);

	for (int i = 1; rc == 0 && i <= REVIEW_ITEMS; i++) {
		if (c.finding[i] == 0)
			return bm_errf(e, BM_ESTATE, "items", "review %lld: item %d (%s) has no "
				       "finding yet", (long long)r->id, i, item_names[i]);
		if (c.finding[i] == 3)
			return bm_errf(e, BM_ESTATE, "items", "review %lld: item %d (%s) is "
				       "disqualifying; it can only be rejected", (long long)r->id, i,
				       item_names[i]);
	}
	return rc;
}

static int count_approve(void *ctx, const struct approval_rec *r)
{
	if (r->decision == 1)
		++*(int *)ctx;
	return 0;
}

/* Neither the opener nor the person under review decides, under any of
 * their accounts: a person is known by the link of their accounts. */
static int check_decider(struct svc *s, const struct actor *a, const struct review_rec *r,
			 const struct person_rec *p, struct bm_err *e)
{
	bool opener = strcmp(a->name, r->opened_by) == 0;
	int rc = opener ? 1 : svc__same_person(s, a, r->opened_by, e);

	if (rc > 0)
		return bm_errf(e, BM_EPERM, "review", "%s opened review %lld and may not decide it",
			       opener ? a->name : r->opened_by, (long long)r->id);
	if (rc == 0 && (rc = svc__acts_for(s, a, p->ext_id, e)) > 0)
		return bm_errf(e, BM_EPERM, "review", "%s may not decide their own review",
			       a->name);
	return rc;
}

struct twin_ctx {
	struct svc *s;
	const struct actor *a;
	char twin[BM_CODE_MAX];    /* the earlier decider who is the same person */
	int rc;                    /* an account that could not be read */
	struct bm_err *e;
};

static int twin_one(void *ctx, const struct approval_rec *r)
{
	struct twin_ctx *t = ctx;
	int same;

	if (strcmp(r->approver, t->a->name) == 0)
		return 0;
	same = svc__same_person(t->s, t->a, r->approver, t->e);
	if (same < 0)
		t->rc = same;
	else if (same > 0)
		svc__copy(t->twin, sizeof t->twin, r->approver);
	return same != 0;
}

/* Distinct approvers are distinct people: refuses a decision by an account
 * linked to the same person as an account that already decided r. */
static int check_distinct(struct svc *s, const struct actor *a, const struct review_rec *r,
			  struct bm_err *e)
{
	struct twin_ctx t = {s, a, "", 0, e};
	int rc = ST(s)->approval_list(s->st, r->id, twin_one, &t, e);

	if (t.rc < 0)
		return t.rc;
	if (rc < 0)
		return rc;
	if (t.twin[0] != '\0')
		return bm_errf(e, BM_EPERM, "review", "%s is the same person as %s, who already "
			       "decided review %lld; a second approver must be someone else",
			       a->name, t.twin, (long long)r->id);
	return 0;
}

/* Closes the review (approved or rejected) and moves a person under
 * initial review along the lifecycle. */
static int close_review(struct svc *s, const struct actor *a, struct review_rec *r,
			struct person_rec *p, bool approve, const char *reason,
			struct bm_err *e)
{
	const struct policy_category *c = &s->policy.cat[r->level];
	int rc;

	r->state = approve ? REVIEW_APPROVED : REVIEW_REJECTED;
	r->decided_at = clock_now();
	r->valid_until = approve && c->rereview_days > 0
		? clock_add_days(r->decided_at, c->rereview_days) : 0;
	svc__copy(r->reason, sizeof r->reason, reason);
	svc__touch(s, p->id);
	if ((rc = ST(s)->review_update(s->st, r, e)))
		return rc;
	if (p->state != ST_REVIEWING)
		return 0;
	return svc__person_state_tx(s, a, p, approve ? ST_ONBOARDING : ST_REJECTED,
				    approve ? "review approved" : "review rejected", e);
}

static int decide_tx(struct svc *s, const struct actor *a, struct review_rec *r, bool approve,
		     const char *reason, bool *closed, struct bm_err *e)
{
	struct approval_rec ap = {.review_id = r->id, .decision = approve ? 1 : 2};
	struct person_rec p;
	int approvals = 0, need, rc;

	if ((rc = ST(s)->person_get(s->st, r->person_id, NULL, &p, e)) ||
	    (rc = check_decider(s, a, r, &p, e)) || (rc = check_distinct(s, a, r, e)) ||
	    (approve && (rc = check_checklist(s, r, e))))
		return rc;
	svc__copy(ap.approver, sizeof ap.approver, a->name);
	svc__copy(ap.reason, sizeof ap.reason, reason);
	ap.at = clock_now();
	rc = ST(s)->approval_insert(s->st, &ap, e);
	if (rc == BM_EEXIST)
		return bm_errf(e, rc, "review", "%s already decided review %lld; a second "
			       "approver must be someone else", a->name, (long long)r->id);
	if (rc || (rc = ST(s)->approval_list(s->st, r->id, count_approve, &approvals, e)))
		return rc;
	need = s->policy.cat[r->level].approvers > 1 ? s->policy.cat[r->level].approvers : 1;
	*closed = !approve || approvals >= need;
	rc = *closed ? close_review(s, a, r, &p, approve, reason, e)
		     : ST(s)->review_update(s->st, r, e);   /* a new version: one more approval */
	if (rc)
		return rc;
	return svc__audit1(s, a, approve ? "review.approve" : "review.reject", p.ext_id,
			   json_pack("{s:I, s:s, s:b, s:i, s:i}", "review", (json_int_t)r->id,
				     "reason", reason, "final", *closed, "approvals", approvals,
				     "needed", need), e);
}

json_t *svc_review_decide(struct svc *s, const struct actor *a, int64_t review, bool approve,
			  const char *reason, int64_t expected, struct bm_err *e)
{
	struct review_rec r;
	bool closed = false;

	if (svc__allow(a, PERM_REVIEW_DECIDE, e) || svc__check_text("reason", reason, true, e) ||
	    svc__begin(s, e))
		return NULL;
	if (get_open_review(s, a, review, expected, &r, e) ||
	    decide_tx(s, a, &r, approve, reason, &closed, e)) {
		svc__rollback(s);
		return NULL;
	}
	if (svc__commit(s, e))
		return NULL;
	return svc__review_json(s, &r, true, e);
}

/* ------------------------------------------------------------ show, list */

json_t *svc_review_show(struct svc *s, const struct actor *a, int64_t review,
			struct bm_err *e)
{
	struct review_rec r;
	int rc;

	if (svc__allow(a, PERM_REVIEW_READ, e))
		return NULL;
	rc = get_review(s, a, review, &r, e);
	return rc ? NULL : svc__review_json(s, &r, true, e);
}

struct list_ctx {
	struct svc *s;
	struct bm_err *e;
	json_t *arr;
	struct svc_scope sc;       /* everyone's reviews: an officer's subtree only */
	struct svc_page *pg;       /* filtered here, not by the store: taken one by one */
};

static int list_one(void *ctx, const struct review_rec *r)
{
	struct list_ctx *l = ctx;
	struct bm_err e = BM_ERR_INIT;
	struct person_rec p;
	json_t *v;

	if (!l->sc.all && (ST(l->s)->person_get(l->s->st, r->person_id, NULL, &p, &e) != 0 ||
			   !svc__scope_has(&l->sc, p.unit_id))) {
		bm_err_clear(&e);
		return 0;
	}
	if (!svc__page_take(l->pg, r->id))
		return 1;      /* the first visible row past the page: more exist, stop */
	if ((v = svc__review_json(l->s, r, false, l->e)) == NULL)
		return l->e->code;
	json_array_append_new(l->arr, v);
	return 0;
}

/* The review state a list asks for: -1 for "all". */
static int list_state(const struct review_query *q, int *state, struct bm_err *e)
{
	static const char *const names[] = {"open", "approved", "rejected"};

	if (q->state == NULL) {
		*state = q->person ? -1 : REVIEW_OPEN;
		return 0;
	}
	*state = -1;
	for (int i = 0; i < 3; i++)
		if (strcmp(q->state, names[i]) == 0)
			*state = i;
	if (*state < 0 && strcmp(q->state, "all") != 0)
		return bm_errf(e, BM_EINVAL, "state", "state: one of open, approved, rejected, "
			       "all");
	return 0;
}

json_t *svc_review_list(struct svc *s, const struct actor *a, const struct review_query *q,
			struct bm_err *e)
{
	struct list_ctx l = {s, e, NULL, {0}, q->page};
	struct review_filter f = {.after_id = q->page ? q->page->after_id : 0};
	struct store_page sp;
	struct person_rec p = {0};

	if (q->page && (q->page->limit < 0 || q->page->after_id < 0)) {
		bm_errf(e, BM_EINVAL, q->page->limit < 0 ? "limit" : "cursor", "a negative %s",
			q->page->limit < 0 ? "limit" : "cursor");
		return NULL;
	}
	if (svc__allow(a, PERM_REVIEW_READ, e) || list_state(q, &f.state, e) ||
	    (q->person && get_person(s, a, q->person, &p, e)))
		return NULL;
	if (svc__page_bind(q->page, svc__scope_of("person %lld state %d", (long long)p.id,
						  f.state), e) ||
	    (q->person == NULL && svc__scope_load(s, a, &l.sc, e)))
		return NULL;
	if (q->person != NULL)
		l.sc.all = true;   /* get_person checked the one person */
	f.person_id = p.id;
	svc__page(q->page, &sp);   /* the store reads every match; list_one stops the walk */
	l.arr = json_array();
	if (ST(s)->review_find(s->st, &f, list_one, &l, e) < 0) {
		json_decref(l.arr);
		l.arr = NULL;
	}
	svc__scope_free(&l.sc);
	return l.arr;
}

/* ------------------------------------------------------- gating, due */

int svc__review_covers(struct svc *s, int64_t person_id, const char *ext_id, int level,
		       int64_t now, struct bm_err *e)
{
	struct facts_rec f = {0};
	struct gate_facts g;
	int rs = -1, rc = svc__facts_of(s, person_id, &f, e);

	if (rc < 0)
		return rc;
	svc__gate_facts(&f, &g);
	/* the category the post would give them: its interval applies */
	g.level = g.level > level ? g.level : level;
	if (g.suspended || g.state == ST_SUSPENDED)
		rs = REASON_SUSPENDED;
	else if (!g.review)
		rs = REASON_REVIEW_MISSING;
	else if (g.review_level < level)
		rs = REASON_REVIEW_LEVEL_TOO_LOW;
	else if (now >= gate_review_due(&g, &s->policy))
		rs = REASON_REVIEW_EXPIRED;
	if (rs < 0)
		return 0;
	return bm_errf(e, BM_ESTATE, "person", "person: %s may not be appointed to a %s post: "
		       "%s (%s)", ext_id, level_name(level), gate_reason_msg_en(rs),
		       gate_reason_code(rs));
}

struct due_pick {
	int64_t person_id;
	int level;
	int64_t due;
};

struct due_scan {
	const struct policy *policy;   /* whose intervals say when a review is due */
	int64_t now, horizon;
	int64_t *open;             /* sorted person ids with an open review */
	size_t nopen, capopen;
	struct due_pick *v;
	size_t n, cap;
};

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int open_one(void *ctx, const struct review_rec *r)
{
	struct due_scan *d = ctx;

	if (d->nopen == d->capopen) {
		d->capopen = d->capopen ? d->capopen * 2 : 256;
		d->open = xreallocarray(d->open, d->capopen, sizeof *d->open);
	}
	d->open[d->nopen++] = r->person_id;
	return 0;
}

/* Whether f is due a re-review within d's horizon, and at which level and
 * date (*out); an open review is not looked at here. */
static bool due_pick_of(const struct due_scan *d, const struct facts_rec *f,
			struct due_pick *out)
{
	struct gate_facts g;

	/* damaged facts open nothing: the status names the damage */
	if ((!state_on_post(f->state) && f->state != ST_ONBOARDING) || f->damage[0] != '\0')
		return false;
	svc__gate_facts(f, &g);
	g.review_due = gate_review_due(&g, d->policy);
	if (!g.review || g.review_due == GATE_NEVER || g.review_due > d->horizon)
		return false;
	*out = (struct due_pick){f->person_id,
		f->level > g.review_level ? f->level : g.review_level, g.review_due};
	return true;
}

static int due_pick_one(void *ctx, const struct facts_rec *f)
{
	struct due_scan *d = ctx;
	struct due_pick pk;

	if (!due_pick_of(d, f, &pk) ||
	    (d->nopen > 0 &&
	     bsearch(&f->person_id, d->open, d->nopen, sizeof *d->open, cmp_id)))
		return 0;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->v = realloc(d->v, d->cap * sizeof *d->v);
		if (d->v == NULL)
			abort();
	}
	d->v[d->n++] = pk;
	return 0;
}

/* The scan ran before the write lock: another process or thread may since
 * have renewed the person's review (an officer's re-review, approved), moved
 * them off post or appointed them higher.  So each pick is made again from
 * the facts read under the lock; *pk gets the level and date they give,
 * and false means there is nothing to open. */
static int due_pick_again(struct svc *s, const struct due_scan *d, struct due_pick *pk,
			  bool *due, struct bm_err *e)
{
	struct facts_rec f = {0};
	int rc = ST(s)->facts_scan(s->st, pk->person_id, svc__facts_keep, &f, e);

	if (rc < 0)
		return rc;
	*due = rc > 0 && due_pick_of(d, &f, pk);
	return 0;
}

static int open_picks(struct svc *s, const struct actor *a, struct due_scan *d, json_t *out,
		      int64_t *count, struct bm_err *e)
{
	struct person_rec p;
	struct review_rec r;
	bool due;
	int rc;

	for (size_t i = 0; i < d->n; i++) {
		if ((rc = due_pick_again(s, d, &d->v[i], &due, e)))
			return rc;
		if (!due)
			continue;
		if ((rc = ST(s)->person_get(s->st, d->v[i].person_id, NULL, &p, e)))
			return rc;
		/* one opened meanwhile serves (refused before any write) */
		rc = svc__review_open_tx(s, a, &p, d->v[i].level, "rereview", d->v[i].due, &r, e);
		if (rc == BM_EEXIST) {
			bm_err_clear(e);
			continue;
		}
		if (rc)
			return rc;
		(*count)++;
		if (out != NULL)
			json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:s, s:o}", "id",
				(json_int_t)r.id, "person", p.ext_id, "level", level_name(r.level),
				"trigger", "rereview", "due_at", svc__time_json(r.due_at)));
	}
	return 0;
}

/* Reads what is due into d, under the policy the process holds now. */
static int due_scan_run(struct svc *s, struct due_scan *d, struct bm_err *e)
{
	int first = 0;

	for (int i = 0; i < s->policy.nreminders; i++)
		if (s->policy.reminders[i] > first)
			first = s->policy.reminders[i];
	d->horizon = d->now + (int64_t)first * BM_DAY;
	d->policy = &s->policy;
	d->nopen = d->n = 0;
	if (ST(s)->review_find(s->st, &(struct review_filter){0, REVIEW_OPEN, 0}, open_one, d, e))
		return -1;
	if (d->nopen > 1)
		qsort(d->open, d->nopen, sizeof *d->open, cmp_id);
	return ST(s)->facts_scan(s->st, 0, due_pick_one, d, e) ? -1 : 0;
}

int svc_reviews_open_due(struct svc *s, const struct actor *a, int64_t now, json_t *opened,
			 int64_t *count, struct bm_err *e)
{
	static const struct actor sys = {.name = SVC_SYSTEM_ACTOR, .roles = ACTOR_LOCAL};
	struct due_scan d = {.now = now};
	int64_t version;
	int rc;

	*count = 0;
	if (a == NULL)
		a = &sys;
	if ((rc = svc__allow(a, PERM_REVIEW_OPEN, e)))
		return rc;
	/* The scan runs outside the write lock so that writers do not wait on
	 * it.  When the transaction brings a newer policy, whose horizon and
	 * re-review dates the scan must use, it is redone under the lock
	 * (rare: a policy load raced the run). */
	version = s->policy_version;
	if ((rc = due_scan_run(s, &d, e)) || (rc = svc__begin(s, e)))
		goto out;
	if ((s->policy_version != version && (rc = due_scan_run(s, &d, e))) ||
	    (rc = open_picks(s, a, &d, opened, count, e))) {
		svc__rollback(s);
		goto out;
	}
	rc = svc__commit(s, e);
out:
	if (rc) {
		*count = 0;
		if (opened != NULL)
			json_array_clear(opened);
	}
	free(d.open);
	free(d.v);
	return rc == 0 ? 0 : e->code ? e->code : BM_EINTERNAL;
}
