/*
 * appointments.c - a person holding a post, from a start date until ended.
 *
 * The person's level (their category) is the highest level among open
 * appointments and their compartments the union of those posts'; both are
 * stored on the person and recomputed here, in the same transaction as the
 * appointment change, so readers and the decision snapshot never see a
 * person whose derived fields disagree with their appointments.
 */
#include "svc_internal.h"
#include "../core/level.h"
#include "../core/lifecycle.h"
#include "../core/role.h"
#include "../lib/clock.h"

#include <string.h>

struct derive_ctx {
	struct svc *s;
	int level;
	char comps[BM_COMP_MAX];
	int rc;
	struct bm_err *e;
};

static int derive_one(void *ctx, const struct appt_rec *r)
{
	struct derive_ctx *d = ctx;
	struct post_rec p;
	char merged[BM_COMP_MAX];

	if (r->end != 0)
		return 0;
	if ((d->rc = ST(d->s)->post_get(d->s->st, r->post_id, NULL, &p, d->e)))
		return 1;
	if (p.level > d->level)
		d->level = p.level;
	if (compartments_union(d->comps, p.compartments, merged, sizeof merged)) {
		d->rc = bm_errf(d->e, BM_ETOOBIG, "compartments",
				"compartments: the person's posts together name too many");
		return 1;
	}
	memcpy(d->comps, merged, sizeof merged);
	return 0;
}

int svc__person_derive(struct svc *s, struct person_rec *p, struct bm_err *e)
{
	struct derive_ctx d = {.s = s, .e = e};

	svc__touch(s, p->id);
	if (ST(s)->appt_list(s->st, p->id, derive_one, &d, e) && d.rc == 0)
		return BM_EIO;
	if (d.rc)
		return d.rc;
	if (p->level == d.level && strcmp(p->compartments, d.comps) == 0)
		return 0;
	p->level = d.level;
	memcpy(p->compartments, d.comps, sizeof d.comps);
	p->updated = clock_now();
	return ST(s)->person_update(s->st, p, e);
}

struct holds_ctx {
	int64_t post_id;
	int64_t start, end;        /* the new appointment; end 0: open */
	struct appt_rec clash;     /* clash.id 0: none */
};

/* An open appointment on the post always clashes (a person holds a post
 * once at a time); an ended one clashes when its days overlap the new
 * one's.  Ends are exclusive, so one may start the day another ended. */
static int holds_one(void *ctx, const struct appt_rec *r)
{
	struct holds_ctx *h = ctx;

	if (r->post_id != h->post_id)
		return 0;
	if (r->end != 0 && (h->start >= r->end || (h->end != 0 && h->end <= r->start)))
		return 0;
	h->clash = *r;
	return 1;
}

/* A person holds a post at most once at a time, in the record's past as
 * in the present: an appointment overlapping another of the same person
 * on the same post is refused, ended or not. */
static int check_no_overlap(struct svc *s, const struct person_rec *p,
			    const struct post_rec *post, const struct appt_rec *in,
			    struct bm_err *e)
{
	struct holds_ctx h = {.post_id = post->id, .start = in->start, .end = in->end};
	char from[11], to[11];
	int rc = ST(s)->appt_list(s->st, p->id, holds_one, &h, e);

	if (rc < 0)
		return rc;
	if (h.clash.id == 0)
		return 0;
	if (h.clash.end == 0)
		return bm_errf(e, BM_EEXIST, "post", "post: %s already holds post %s "
			       "(appointment %lld)", p->ext_id, post->code, (long long)h.clash.id);
	clock_fmt_date(h.clash.start, from);
	clock_fmt_date(h.clash.end, to);
	return bm_errf(e, BM_EEXIST, "post", "post: the new appointment overlaps "
		       "appointment %lld of %s to post %s (%s to %s)", (long long)h.clash.id,
		       p->ext_id, post->code, from, to);
}

/* A date of an appointment, `dflt` when absent.  Never later than now: an
 * appointment counts from the moment it is recorded until it is ended
 * (svc__person_derive reads only whether it has ended), so a future start
 * would clear the person before their first day and a future end would
 * drop the post at once while the record shows it running on.  Never at or
 * before 1970-01-01T00:00:00Z either: the store reads an end of 0 as "still
 * open", so an appointment ended then would hold its post on while the
 * console said it ended (earlier instants are refused alike, as no
 * appointment of a person vetted here began before then). */
static int parse_date_opt(const char *field, const char *v, int64_t dflt, int64_t *out,
			  struct bm_err *e)
{
	int rc;

	if (v == NULL || v[0] == '\0') {
		*out = dflt;
		return 0;
	}
	if ((rc = clock_parse(v, field, out, e)))
		return rc;
	if (*out <= 0)
		return bm_errf(e, BM_EINVAL, field, "%s: %.32s is not after 1970-01-01", field, v);
	if (*out > clock_now())
		return bm_errf(e, BM_EINVAL, field, "%s: %.32s is in the future; record the "
			       "appointment's dates once they have come", field, v);
	return 0;
}

int svc__appt_add_tx(struct svc *s, const struct svc_scope *sc, const struct appt_input *in,
		     struct appt_rec *out, struct bm_err *e)
{
	struct person_rec p;
	struct post_rec post;
	int64_t today = clock_now() / BM_DAY * BM_DAY;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = svc__check_code("person", in->person, e)) ||
	    (rc = svc__check_code("post", in->post, e)) ||
	    (rc = parse_date_opt("start", in->start, today, &out->start, e)) ||
	    (rc = parse_date_opt("end", in->end, 0, &out->end, e)))
		return rc;
	if (out->end != 0 && out->end < out->start)
		return bm_errf(e, BM_EINVAL, "end", "end: before the start date");
	/* outside the actor's subtree is "not found", at the very point and in
	 * the very words of a record that does not exist */
	rc = ST(s)->person_get(s->st, 0, in->person, &p, e);
	if (rc == BM_ENOTFOUND || (rc == 0 && !svc__scope_has(sc, p.unit_id)))
		return bm_errf(e, BM_EINVAL, "person", "person: %.64s not found", in->person);
	if (rc)
		return rc;
	rc = ST(s)->post_get(s->st, 0, in->post, &post, e);
	if (rc == BM_ENOTFOUND || (rc == 0 && !svc__scope_has(sc, post.unit_id)))
		return bm_errf(e, BM_EINVAL, "post", "post: %.64s not found", in->post);
	if (rc)
		return rc;
	if ((rc = check_no_overlap(s, &p, &post, out, e)))
		return rc;
	/* Leaving, decontamination and released have given secret-related work
	 * up (DESIGN.md §1.6, §2): an old review must not bring them back. */
	if (post.level > 0 && state_has_left(p.state))
		return bm_errf(e, BM_ESTATE, "person", "person: %s is %s and may not be appointed "
			       "to a secret-related post", p.ext_id, state_name(p.state));
	/* 先审后用: a secret-related post needs a valid review at its level. */
	if (post.level > 0 &&
	    (rc = svc__review_covers(s, p.id, p.ext_id, post.level, clock_now(), e)))
		return rc;
	out->person_id = p.id;
	out->post_id = post.id;
	out->created = clock_now();
	if ((rc = ST(s)->appt_insert(s->st, out, e)))
		return rc;
	return svc__person_derive(s, &p, e);
}

struct same_ctx {
	int64_t post_id, start_day, end_day; /* end_day -1: open */
};

static int same_one(void *ctx, const struct appt_rec *r)
{
	const struct same_ctx *c = ctx;

	return r->post_id == c->post_id && r->start / BM_DAY == c->start_day &&
	       (r->end == 0 ? -1 : r->end / BM_DAY) == c->end_day;
}

/* Days, not instants: the export writes days, and its file must import
 * back as unchanged whatever time of day the appointment was recorded. */
bool svc__appt_same(struct svc *s, const struct svc_scope *sc, const struct appt_input *in)
{
	struct bm_err e = BM_ERR_INIT;
	struct person_rec p;
	struct post_rec post;
	int64_t start, end;
	struct same_ctx c;
	int found = 0;

	if (parse_date_opt("start", in->start, clock_now() / BM_DAY * BM_DAY, &start, &e) ||
	    parse_date_opt("end", in->end, 0, &end, &e) ||
	    ST(s)->person_get(s->st, 0, in->person, &p, &e) || !svc__scope_has(sc, p.unit_id) ||
	    ST(s)->post_get(s->st, 0, in->post, &post, &e) || !svc__scope_has(sc, post.unit_id))
		goto out;
	c = (struct same_ctx){post.id, start / BM_DAY, end == 0 ? -1 : end / BM_DAY};
	found = ST(s)->appt_list(s->st, p.id, same_one, &c, &e) > 0;
out:
	bm_err_clear(&e);
	return found;
}

int svc_appt_add(struct svc *s, const struct actor *a, const struct appt_input *in,
		 struct appt_rec *out, struct bm_err *e)
{
	struct svc_scope sc;
	int rc;

	if ((rc = svc__allow(a, PERM_APPOINTMENT_WRITE, e)) || (rc = svc__begin(s, e)))
		return rc;
	if ((rc = svc__scope_load(s, a, &sc, e)) == 0)
		rc = svc__appt_add_tx(s, &sc, in, out, e);
	svc__scope_free(&sc);
	if (rc ||
	    (rc = svc__audit(s, a, "appointment.add", json_pack("[ss]", in->person, in->post),
			     json_pack("{s:I, s:s, s:s, s:I, s:I}", "appointment", (json_int_t)out->id,
				       "person", in->person, "post", in->post,
				       "start", (json_int_t)out->start, "end", (json_int_t)out->end),
			     e))) {
		svc__rollback(s);
		return rc;
	}
	return svc__commit(s, e);
}

struct find_appt {
	int64_t id;
	struct appt_rec r;
	bool found;
};

static int find_appt_one(void *ctx, const struct appt_rec *r)
{
	struct find_appt *f = ctx;

	if (r->id != f->id)
		return 0;
	f->r = *r;
	f->found = true;
	return 1;
}

/* The open appointment appt_id of p that the actor may touch: one on a
 * post outside the subtree is "not found", like an id that does not exist
 * (the officer could not have made it, and does not see the post). */
static int find_appt(struct svc *s, const struct svc_scope *sc, const struct person_rec *p,
		     int64_t appt_id, struct appt_rec *out, struct bm_err *e)
{
	struct find_appt f = {.id = appt_id};
	struct post_rec post;
	int rc = ST(s)->appt_list(s->st, p->id, find_appt_one, &f, e);

	if (rc < 0)
		return rc;
	if (f.found && !sc->all) {
		if ((rc = ST(s)->post_get(s->st, f.r.post_id, NULL, &post, e)))
			return rc;
		f.found = svc__scope_has(sc, post.unit_id);
	}
	if (!f.found)
		return bm_errf(e, BM_ENOTFOUND, "appointment",
			       "appointment %lld of %.64s not found", (long long)appt_id, p->ext_id);
	*out = f.r;
	return 0;
}

static int end_tx(struct svc *s, const struct actor *a, const char *person, int64_t appt_id,
		  int64_t when, struct bm_err *e)
{
	struct svc_scope sc;
	struct person_rec p;
	struct appt_rec r;
	int rc;

	/* the person names the appointment: outside an officer's subtree it
	 * is "not found", in the words (and code) of one that does not exist */
	if ((rc = svc__person_scoped(s, a, person, "person", &p, e)) ||
	    (rc = svc__scope_load(s, a, &sc, e)))
		return rc;
	rc = find_appt(s, &sc, &p, appt_id, &r, e);
	svc__scope_free(&sc);
	if (rc)
		return rc;
	if (r.end != 0)
		return bm_errf(e, BM_ESTATE, "appointment", "appointment %lld already ended",
			       (long long)appt_id);
	if (when < r.start)
		return bm_errf(e, BM_EINVAL, "date", "date: before the appointment's start");
	r.end = when;
	if ((rc = ST(s)->appt_update(s->st, &r, e)))
		return rc;
	return svc__person_derive(s, &p, e);
}

int svc_appt_end(struct svc *s, const struct actor *a, const char *person, int64_t appt_id,
		 const char *date, struct bm_err *e)
{
	int64_t when;
	int rc;

	if ((rc = svc__allow(a, PERM_APPOINTMENT_WRITE, e)) ||
	    (rc = parse_date_opt("date", date, clock_now() / BM_DAY * BM_DAY, &when, e)) ||
	    (rc = svc__begin(s, e)))
		return rc;
	if ((rc = end_tx(s, a, person, appt_id, when, e)) ||
	    (rc = svc__audit1(s, a, "appointment.end", person,
			      json_pack("{s:I, s:I}", "appointment", (json_int_t)appt_id, "end",
					(json_int_t)when), e))) {
		svc__rollback(s);
		return rc;
	}
	return svc__commit(s, e);
}
