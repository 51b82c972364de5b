/*
 * clearance.c - the read-side views built on the gates: clearance status,
 * the due list and the compliance report.
 *
 * Facts come from one store query (facts_scan), and the gates from
 * core/gate, so status, due list, report and the decision snapshot
 * (snapshare.c) all rest on the same evaluation.  This file must never
 * decide anything itself.
 */
#include "svc_internal.h"
#include "../core/gate.h"
#include "../core/level.h"
#include "../core/lifecycle.h"
#include "../core/role.h"
#include "../lib/clock.h"
#include "../lib/mem.h"
#include "../lib/utf8.h"

#include <stdlib.h>
#include <string.h>

json_t *svc__time_json(int64_t t)
{
	char b[21];

	if (t == 0 || t == GATE_NEVER)
		return json_null();
	clock_fmt_iso(t, b);
	return json_string(b);
}

/* Only the account's explicit link counts: an account named like a person
 * is not that person. */
bool svc__actor_is(const struct actor *a, const char *ext_id)
{
	return a->person[0] != '\0' && ext_id != NULL && strcmp(a->person, ext_id) == 0;
}

/* The person linked to account `name` into out ("" when the account does
 * not exist or links nobody).  A failed read is an error, never "nobody":
 * the checks that ask must not pass because the database did not answer. */
static int account_link(struct svc *s, const char *name, char out[BM_CODE_MAX],
			struct bm_err *e)
{
	struct account_rec r;
	int rc = ST(s)->account_get(s->st, 0, name, &r, e);

	out[0] = '\0';
	if (rc == BM_ENOTFOUND) {
		bm_err_clear(e);
		return 0;
	}
	if (rc == 0)
		svc__copy(out, BM_CODE_MAX, r.person);
	return rc;
}

/* The person the actor stands for: the session's link, or for the local
 * console acting --as NAME the link of the account NAME, if any.  out gets
 * "" when no person is linked. */
static int actor_link(struct svc *s, const struct actor *a, char out[BM_CODE_MAX],
		      struct bm_err *e)
{
	out[0] = '\0';
	if (a->person[0] != '\0') {
		svc__copy(out, BM_CODE_MAX, a->person);
		return 0;
	}
	return (a->roles & ACTOR_LOCAL) ? account_link(s, a->name, out, e) : 0;
}

int svc__acts_for(struct svc *s, const struct actor *a, const char *ext_id, struct bm_err *e)
{
	char mine[BM_CODE_MAX];
	int rc = actor_link(s, a, mine, e);

	if (rc < 0)
		return rc;
	return mine[0] != '\0' && ext_id != NULL && strcmp(mine, ext_id) == 0;
}

int svc__same_person(struct svc *s, const struct actor *a, const char *name, struct bm_err *e)
{
	char mine[BM_CODE_MAX], theirs[BM_CODE_MAX];
	int rc = actor_link(s, a, mine, e);

	if (rc < 0)
		return rc;
	if (mine[0] == '\0' || name == NULL)
		return 0;
	if ((rc = account_link(s, name, theirs, e)) < 0)
		return rc;
	return strcmp(theirs, mine) == 0;
}

int svc__check_text(const char *field, const char *v, bool required, struct bm_err *e)
{
	size_t n = v ? strlen(v) : 0, bad;

	if (n == 0 || strspn(v, " \t") == n)
		return required ? bm_errf(e, BM_EINVAL, field, "%s: required", field) : 0;
	if (n >= BM_REASON_MAX)
		return bm_errf(e, BM_EINVAL, field, "%s: longer than %d bytes", field,
			       BM_REASON_MAX - 1);
	if (!utf8_valid(v, n, &bad))
		return bm_errf(e, BM_EINVAL, field, "%s: invalid UTF-8 at byte %zu", field, bad + 1);
	if (!utf8_printable(v, n))
		return bm_errf(e, BM_EINVAL, field, "%s: contains control characters", field);
	if (required && utf8_blank(v, n))
		return bm_errf(e, BM_EINVAL, field, "%s: required (only spaces given)", field);
	return 0;
}

/* ---------------------------------------------------------------- facts */

void svc__gate_facts(const struct facts_rec *r, struct gate_facts *g)
{
	memset(g, 0, sizeof *g);
	g->state = r->state;
	g->state_since = r->state_since;
	g->post_since = r->post_since;
	g->level = r->level;
	g->review = r->review_id != 0 && r->review_state == REVIEW_APPROVED;
	g->review_level = g->review ? r->review_level : 0;
	g->review_approved_at = g->review ? r->review_decided_at : 0;
	/* An approved review without a re-review date never falls due. */
	g->review_due = !g->review ? 0 : r->review_valid_until ? r->review_valid_until
								: GATE_NEVER;
	g->suspended = r->suspended_since != 0;
	g->suspended_since = r->suspended_since;
	g->created = r->created;
	g->on_post_since = r->on_post_since;
	g->lifted_at = r->last_lifted;
	g->review_rejected_at = r->review_id != 0 && r->review_state == REVIEW_REJECTED
		? r->review_decided_at : 0;
	g->secret_post_ended = r->secret_post_ended;
	g->damaged = r->damage[0] != '\0';
}

int svc__facts_keep(void *ctx, const struct facts_rec *r)
{
	*(struct facts_rec *)ctx = *r;
	return 1;
}

int svc__facts(struct svc *s, const char *ext_id, struct facts_rec *out, struct bm_err *e)
{
	struct person_rec p;
	int rc;

	if ((rc = svc__check_code("person", ext_id, e)))
		return rc;
	rc = ST(s)->person_get(s->st, 0, ext_id, &p, e);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "person", "person %.64s not found", ext_id);
	if (rc)
		return rc;
	return svc__facts_of(s, p.id, out, e);
}

/* The store's row reader guards the values; this says no to their use. */
_Static_assert(BM_PERSON_STATES == ST__COUNT, "store.h counts the person states");
_Static_assert(ST_ACTIVE == 3 && ST_SUSPENDED == 4, "BM_ON_POST_STATES_SQL says (3, 4)");

int svc__facts_of(struct svc *s, int64_t person_id, struct facts_rec *out, struct bm_err *e)
{
	int rc;

	memset(out, 0, sizeof *out);
	rc = ST(s)->facts_scan(s->st, person_id, svc__facts_keep, out, e);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return bm_errf(e, BM_EINTERNAL, "person", "no facts for person %lld",
			       (long long)person_id);
	if (out->damage[0] != '\0')
		return bm_errf(e, BM_ESCHEMA, "person", "%s", out->damage);
	return 0;
}

/* --------------------------------------------------------------- status */

static json_t *gate_json(const struct gate_result *r)
{
	return json_pack("{s:s, s:b, s:s, s:{s:s, s:s}, s:o, s:o, s:o}", "gate",
			 gate_kind_name(r->kind), "ok", r->ok, "code", r->code, "message", "en",
			 r->msg_en, "zh", r->msg_zh, "since", svc__time_json(r->since),
			 "valid_until", svc__time_json(r->valid_until), "due",
			 svc__time_json(r->due));
}

/* The next due item: the gate whose deadline is earliest. */
static json_t *next_due_json(const struct gate_status *st)
{
	for (int i = 0; i < st->n; i++)
		if (st->r[i].due > 0 && st->r[i].due == st->next_due)
			return json_pack("{s:s, s:o}", "gate", gate_kind_name(st->r[i].kind), "due",
					 svc__time_json(st->next_due));
	return json_null();
}

static json_t *status_json(struct svc *s, const struct facts_rec *f, int64_t now)
{
	struct gate_facts g;
	struct gate_status st;
	json_t *gates = json_array();
	char unit[BM_CODE_MAX];

	svc__gate_facts(f, &g);
	gate_eval(&g, &s->policy, now, &st);
	for (int i = 0; i < st.n; i++)
		json_array_append_new(gates, gate_json(&st.r[i]));
	if (st.reasons & (1u << REASON_NO_SECRET_POST))
		json_array_append_new(gates, json_pack("{s:s, s:b, s:s, s:{s:s, s:s}, s:o, s:n, s:n}",
			"gate", "secret_post", "ok", 0, "code",
			gate_reason_code(REASON_NO_SECRET_POST), "message", "en",
			gate_reason_msg_en(REASON_NO_SECRET_POST), "zh",
			gate_reason_msg_zh(REASON_NO_SECRET_POST), "since",
			svc__time_json(gate_no_post_since(&g)), "valid_until", "due"));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:o}",
			 "person", f->ext_id, "unit", svc__unit_code(s, f->unit_id, unit), "state",
			 state_name(f->state), "state_zh", state_name_zh(f->state), "category",
			 category_name(f->level), "level", level_name(f->level), "compartments",
			 svc__compartments_json(f->compartments), "cleared", st.cleared, "gates",
			 gates, "valid_until", st.cleared ? svc__time_json(st.valid_until)
							  : json_null(),
			 "next_due", next_due_json(&st), "evaluated_at", svc__time_json(now));
}

json_t *svc_clearance(struct svc *s, const struct actor *a, const char *person, int64_t now,
		      struct bm_err *e)
{
	struct facts_rec f;

	bool self = person != NULL && svc__actor_is(a, person) &&
		    role_allows(a->roles, PERM_CLEARANCE_SELF_READ);

	if (!self && svc__allow(a, PERM_CLEARANCE_READ, e))
		return NULL;
	if (svc__facts(s, person, &f, e))
		return NULL;
	/* Outside an officer's subtree a person is "not found", as elsewhere. */
	if (!self && svc__scope_check(s, a, f.unit_id, "person", "person", e) != 0) {
		bm_errf(e, BM_ENOTFOUND, "person", "person %.64s not found", person);
		return NULL;
	}
	return status_json(s, &f, now);
}

/* ------------------------------------------------------------- due list */

/* One deadline of the due list, kept until the list is sorted. */
struct due_item {
	int64_t due;
	int kind;
	char person[BM_CODE_MAX];
};

struct due_ctx {
	struct svc *s;
	int64_t now, until;
	struct due_item *v;
	size_t n, cap;
	const struct due_item *after; /* the cursor's position: only items after it */
	size_t keep;               /* 0: every item; else the keep soonest, a max-heap */
	struct svc_scope sc;       /* an officer sees its subtree only */
};

static int due_cmp(const void *a, const void *b);

/* Days left until a deadline `left` seconds away, a part day counted as a
 * whole one: 0 or less exactly when the deadline is reached (overdue), and
 * a deadline 7 days and an hour away has 8 days left, not 7. */
static int64_t days_left(int64_t left)
{
	return left / BM_DAY + (left > 0 && left % BM_DAY != 0);
}

/* The reminder offset (days) a deadline `left` seconds away has reached:
 * the smallest offset not below its days left (so a deadline 7 days and an
 * hour away has reached 30, not 7); 0 when overdue, -1 when it lies beyond
 * every offset (no reminder yet). */
static int reminder_for(const struct policy *p, int64_t left)
{
	int64_t days = days_left(left);
	int best = -1;

	if (left <= 0)
		return 0;
	for (int i = 0; i < p->nreminders; i++)
		if (days <= p->reminders[i] && (best < 0 || p->reminders[i] < best))
			best = p->reminders[i];
	return best;
}

/* Restores the max-heap d->v[0..n) (latest item on top) after the item
 * at i moved down (up: false) or was appended (up: true). */
static void due_heap_fix(struct due_ctx *d, size_t i, bool up)
{
	struct due_item *v = d->v, t;

	for (;;) {
		size_t j = i, l = 2 * i + 1;

		if (up && i > 0 && due_cmp(&v[(i - 1) / 2], &v[i]) < 0)
			j = (i - 1) / 2;
		if (!up && l < d->n && due_cmp(&v[l], &v[j]) > 0)
			j = l;
		if (!up && l + 1 < d->n && due_cmp(&v[l + 1], &v[j]) > 0)
			j = l + 1;
		if (j == i)
			return;
		t = v[i], v[i] = v[j], v[j] = t;
		i = j;
	}
}

/* Keeps one deadline of person (within the window, after the cursor) for
 * the list.  A page needs only the keep soonest of them: once keep are
 * held, a later one is dropped and a sooner one replaces the latest held,
 * so a page of 50 at a million persons holds 51 items, not a million. */
static void due_add(struct due_ctx *d, int64_t due, int kind, const char *person)
{
	struct due_item it = {.due = due, .kind = kind};

	if (due <= 0 || due == GATE_NEVER || due > d->until)
		return;
	svc__copy(it.person, BM_CODE_MAX, person);
	if (d->after != NULL && due_cmp(&it, d->after) <= 0)
		return;
	if (d->keep > 0 && d->n == d->keep) {
		if (due_cmp(&it, &d->v[0]) < 0) {
			d->v[0] = it;
			due_heap_fix(d, 0, false);
		}
		return;
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		d->v = xreallocarray(d->v, d->cap, sizeof *d->v);
	}
	d->v[d->n++] = it;
	if (d->keep > 0)
		due_heap_fix(d, d->n - 1, true);
}

/* The deadlines of one person: each gate's; and for a person without a
 * secret post (no gate of a category runs) the approved review in force,
 * whose re-review the due run opens all the same (svc_reviews_open_due). */
static int due_one(void *ctx, const struct facts_rec *f)
{
	struct due_ctx *d = ctx;
	struct gate_facts g;
	struct gate_status st;

	if ((!state_on_post(f->state) && f->state != ST_ONBOARDING) ||
	    !svc__scope_has(&d->sc, f->unit_id))
		return 0;
	svc__gate_facts(f, &g);
	gate_eval(&g, &d->s->policy, d->now, &st);
	for (int i = 0; i < st.n; i++)
		due_add(d, st.r[i].due, st.r[i].kind, f->ext_id);
	if (st.level == LEVEL_NONE && g.review && f->damage[0] == '\0')
		due_add(d, gate_review_due(&g, &d->s->policy), GATE_REVIEW, f->ext_id);
	return 0;
}

/* Soonest first; on one instant by person id, then gate: the order an
 * officer works through, the same in every run. */
static int due_cmp(const void *a, const void *b)
{
	const struct due_item *x = a, *y = b;
	int c;

	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	c = strcmp(x->person, y->person);
	return c ? c : x->kind - y->kind;
}

_Static_assert(8 + 1 + BM_CODE_MAX - 1 <= SVC_CURSOR_POS_MAX,
	       "a due position (instant, gate, the longest id) fits a cursor");

/* The due list's position after item it: its instant, gate and person,
 * the sort key of due_cmp, as the bytes of a sealed cursor. */
static size_t due_pos(const struct due_item *it, uint8_t pos[SVC_CURSOR_POS_MAX])
{
	size_t n = strlen(it->person);

	for (int i = 0; i < 8; i++)
		pos[i] = (uint8_t)((uint64_t)it->due >> (8 * i));
	pos[8] = (uint8_t)it->kind;
	memcpy(pos + 9, it->person, n);
	return 9 + n;
}

/* The position a cursor names, as an item to compare with due_cmp. */
static int due_pos_read(struct svc *s, const char *cursor, struct due_item *at,
			struct bm_err *e)
{
	uint8_t pos[SVC_CURSOR_POS_MAX];
	uint64_t due = 0;
	size_t n = 0;

	memset(at, 0, sizeof *at);
	/* instant 8, gate 1, then the person id (shorter than at->person) */
	_Static_assert(SVC_CURSOR_POS_MAX - 9 < sizeof at->person, "a due position's id fits");
	if (svc_cursor_read_pos(s, 'd', cursor, pos, 9, sizeof pos, &n, e))
		return e->code;
	for (int i = 7; i >= 0; i--)
		due = due << 8 | pos[i];
	at->due = (int64_t)due;
	at->kind = pos[8];
	memcpy(at->person, pos + 9, n - 9);
	return 0;
}

/* One page of the sorted items: those after the cursor's position, up to
 * the limit; next_cursor when more follow. */
static json_t *due_page_json(const struct due_ctx *d, const struct due_query *q,
			     const struct due_item *after, json_t **next)
{
	json_t *items = json_array();
	size_t i = 0, end;

	while (after && i < d->n && due_cmp(&d->v[i], after) <= 0)
		i++;
	end = q->limit > 0 && (uint64_t)q->limit < d->n - i ? i + (size_t)q->limit : d->n;
	*next = json_null();
	if (end < d->n && end > i) {
		uint8_t pos[SVC_CURSOR_POS_MAX];
		char c[SVC_CURSOR_LONG_MAX];

		svc_cursor_make_pos(d->s, 'd', pos, due_pos(&d->v[end - 1], pos), c);
		json_decref(*next);
		*next = json_string(c);
	}
	for (; i < end; i++) {
		const struct due_item *it = &d->v[i];
		int rem = reminder_for(&d->s->policy, it->due - d->now);

		json_array_append_new(items, json_pack("{s:s, s:s, s:o, s:I, s:b, s:o}",
			"person", it->person, "gate", gate_kind_name(it->kind), "due",
			svc__time_json(it->due), "days_left", (json_int_t)days_left(it->due - d->now),
			"overdue", it->due <= d->now, "reminder_days",
			rem < 0 ? json_null() : json_integer(rem)));
	}
	return items;
}

/* The first page's open reviews (review.read's to see; a trainer gets
 * none), up to the limit, with the review list's cursor for the rest: a
 * page of the review list, so the cursor is there only when more exist. */
static int due_open_reviews(struct svc *s, const struct actor *a, const struct due_query *q,
			    json_t *out, struct bm_err *e)
{
	struct svc_page pg = {.limit = q->limit};
	struct review_query open = {.page = &pg};
	json_t *v = svc__allow(a, PERM_REVIEW_READ, NULL) ? json_array()
							   : svc_review_list(s, a, &open, e);
	json_t *next = json_null();
	char c[SVC_CURSOR_MAX];

	if (v == NULL)
		return e->code;
	if (pg.more) {
		svc_cursor_make(s, 'r', pg.last_id, pg.scope, c);
		json_decref(next);
		next = json_string(c);
	}
	json_object_set_new(out, "open_reviews", v);
	json_object_set_new(out, "open_reviews_next_cursor", next);
	return 0;
}

json_t *svc_due(struct svc *s, const struct actor *a, int64_t now, const struct due_query *q,
		struct bm_err *e)
{
	/* A horizon past the end of time is the end of time, not a wrap. */
	struct due_ctx d = {.s = s, .now = now,
			    .until = q->within > GATE_NEVER - now ? GATE_NEVER : now + q->within};
	struct due_item after;
	json_t *out = NULL, *items, *next;

	if (q->within < 0 || q->limit < 0) {
		bm_errf(e, BM_EINVAL, q->within < 0 ? "within" : "limit", "%s",
			q->within < 0 ? "within: a duration cannot be negative"
				      : "limit: cannot be negative");
		goto out;
	}
	if (svc__allow(a, PERM_DUE_READ, e) ||
	    (q->cursor && due_pos_read(s, q->cursor, &after, e)))
		goto out;
	/* one past the page tells whether another follows */
	d.after = q->cursor ? &after : NULL;
	d.keep = q->limit > 0 && q->limit < INT64_MAX ? (size_t)q->limit + 1 : 0;
	if (svc__scope_load(s, a, &d.sc, e) || ST(s)->facts_scan(s->st, 0, due_one, &d, e))
		goto out;
	if (d.n > 1)
		qsort(d.v, d.n, sizeof *d.v, due_cmp);
	items = due_page_json(&d, q, q->cursor ? &after : NULL, &next);
	out = json_pack("{s:o, s:I, s:o, s:o}", "evaluated_at", svc__time_json(now),
			"within_days", (json_int_t)(q->within / BM_DAY), "items", items,
			"next_cursor", next);
	if (q->cursor == NULL && due_open_reviews(s, a, q, out, e)) {
		json_decref(out);
		out = NULL;
	}
out:
	svc__scope_free(&d.sc);
	free(d.v);
	return out;
}

/* ------------------------------------------------------ compliance report */

struct unit_tally {
	int64_t unit_id;
	char code[BM_CODE_MAX];
	int64_t by_cat_state[4][ST__COUNT];
	int64_t damaged;           /* persons whose stored state or level cannot be believed */
	int64_t cleared, not_cleared;
	int64_t reasons[REASON__COUNT];
};

struct report_ctx {
	struct svc *s;
	int64_t now;
	struct svc_scope sc;       /* the units that count: the filter or the scope */
	struct unit_tally *t;
	size_t n, cap;
	size_t *slot;              /* open addressing on unit id: index + 1, 0 empty */
	size_t nslot;              /* a power of two, at least twice n */
};

/* The slot of unit in r's index: its tally's, or the empty one it takes. */
static size_t *tally_slot(struct report_ctx *r, int64_t unit)
{
	size_t i = (size_t)(((uint64_t)unit * 0x9e3779b97f4a7c15ull) >> 32) & (r->nslot - 1);

	while (r->slot[i] != 0 && r->t[r->slot[i] - 1].unit_id != unit)
		i = (i + 1) & (r->nslot - 1);
	return &r->slot[i];
}

/* Doubles the index once it is half full (a million persons over
 * thousands of units must not cost persons x units comparisons). */
static void tally_index_grow(struct report_ctx *r)
{
	free(r->slot);
	r->nslot = r->nslot ? r->nslot * 2 : 64;
	r->slot = xcalloc(r->nslot, sizeof *r->slot);
	for (size_t i = 0; i < r->n; i++)
		*tally_slot(r, r->t[i].unit_id) = i + 1;
}

/* The tally of unit, made on first sight. */
static struct unit_tally *tally_for(struct report_ctx *r, int64_t unit)
{
	size_t *sl;

	if (2 * (r->n + 1) > r->nslot)
		tally_index_grow(r);
	sl = tally_slot(r, unit);
	if (*sl != 0)
		return &r->t[*sl - 1];
	*sl = r->n + 1;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->t = xreallocarray(r->t, r->cap, sizeof *r->t);
	}
	memset(&r->t[r->n], 0, sizeof *r->t);
	r->t[r->n].unit_id = unit;
	return &r->t[r->n++];
}

static int report_one(void *ctx, const struct facts_rec *f)
{
	struct report_ctx *r = ctx;
	struct gate_facts g;
	struct gate_status st;
	struct unit_tally *t;

	if (!svc__scope_has(&r->sc, f->unit_id))
		return 0;
	svc__gate_facts(f, &g);
	gate_eval(&g, &r->s->policy, r->now, &st);
	t = tally_for(r, f->unit_id);
	/* a damaged row's state and level are not counted as anyone's: it was
	 * read as a candidate at level 0, which it may not be */
	if (f->damage[0] != '\0')
		t->damaged++;
	else
		t->by_cat_state[f->level & 3][f->state >= 0 && f->state < ST__COUNT ? f->state : 0]++;
	if (st.cleared) {
		t->cleared++;
		return 0;
	}
	t->not_cleared++;
	for (int k = 0; k < REASON__COUNT; k++)
		if (st.reasons & (1u << k))
			t->reasons[k]++;
	return 0;
}

/* The reasons of a tally, most common first, up to five; a tie goes in the
 * order of the reason table (enum gate_reason, ARCHITECTURE.md). */
static json_t *top_reasons(const struct unit_tally *t)
{
	json_t *arr = json_array();
	bool used[REASON__COUNT] = {0};

	for (int k = 0; k < 5; k++) {
		int best = -1;

		for (int i = 0; i < REASON__COUNT; i++)
			if (!used[i] && t->reasons[i] > 0 && (best < 0 || t->reasons[i] > t->reasons[best]))
				best = i;
		if (best < 0)
			break;
		used[best] = true;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I}", "code",
			gate_reason_code(best), "message", gate_reason_msg_en(best), "message_zh",
			gate_reason_msg_zh(best), "count", (json_int_t)t->reasons[best]));
	}
	return arr;
}

static json_t *tally_json(const struct unit_tally *t)
{
	json_t *cats = json_object();

	for (int l = 0; l <= LEVEL_MAX; l++) {
		json_t *states = json_object();

		for (int st = 0; st < ST__COUNT; st++)
			if (t->by_cat_state[l][st])
				json_object_set_new(states, state_name(st),
						    json_integer(t->by_cat_state[l][st]));
		if (json_object_size(states))
			json_object_set_new(cats, category_name(l), states);
		else
			json_decref(states);
	}
	return json_pack("{s:s, s:o, s:I, s:I, s:I, s:o}", "unit", t->code, "persons", cats,
			 "damaged", (json_int_t)t->damaged, "cleared", (json_int_t)t->cleared,
			 "not_cleared",
			 (json_int_t)t->not_cleared, "top_reasons", top_reasons(t));
}

static int tally_cmp(const void *a, const void *b)
{
	return strcmp(((const struct unit_tally *)a)->code, ((const struct unit_tally *)b)->code);
}

/* The units in order of their codes (byte order), so two runs list them
 * alike whatever order the persons were entered in. */
static json_t *report_units(struct report_ctx *r)
{
	json_t *units = json_array();
	char code[BM_CODE_MAX];

	for (size_t i = 0; i < r->n; i++)
		svc__copy(r->t[i].code, BM_CODE_MAX, svc__unit_code(r->s, r->t[i].unit_id, code));
	if (r->n > 1)
		qsort(r->t, r->n, sizeof *r->t, tally_cmp);
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(units, tally_json(&r->t[i]));
	return units;
}

/* The units that count: a named unit's subtree (which the actor must be
 * able to see), else an officer's scope, else all. */
static int report_units_load(struct svc *s, const struct actor *a, const char *unit,
			     struct svc_scope *sc, struct bm_err *e)
{
	struct unit_rec u;
	int rc;

	if (unit == NULL)
		return svc__scope_load(s, a, sc, e);
	memset(sc, 0, sizeof *sc);
	if ((rc = svc__unit_visible(s, a, "unit", unit, &u, e)))
		return rc;
	return svc__scope_subtree(s, u.id, sc, e);
}

json_t *svc_report_compliance(struct svc *s, const struct actor *a, const char *unit,
			      int64_t now, struct bm_err *e)
{
	struct report_ctx r = {.s = s, .now = now};
	json_t *out = NULL;

	if (svc__allow(a, PERM_REPORT_READ, e) || report_units_load(s, a, unit, &r.sc, e) ||
	    ST(s)->facts_scan(s->st, 0, report_one, &r, e))
		goto out;
	out = json_pack("{s:o, s:o, s:o}", "unit", unit ? json_string(unit) : json_null(),
			"evaluated_at", svc__time_json(now), "units", report_units(&r));
out:
	svc__scope_free(&r.sc);
	free(r.t);
	free(r.slot);
	return out;
}
