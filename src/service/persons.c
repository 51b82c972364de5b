/*
 * persons.c - secret-related persons and their appointments.
 *
 * A person's national id and passport number are sealed with the field key
 * (the row's external id in the associated data) and found again through a
 * keyed blind index; they never reach the audit trail, a list, or an export
 * in clear.  Showing them in clear is itself an audited act.  A person's
 * level and compartments are derived from their open appointments and
 * recomputed whenever an appointment opens or ends.
 */
#include "svc_internal.h"
#include "../core/level.h"
#include "../core/lifecycle.h"
#include "../core/role.h"
#include "../lib/clock.h"

#include <string.h>

static int seal_doc(struct svc *s, const char *column, const char *ext_id, const char *v,
		    struct sealed *out, struct bm_err *e)
{
	struct buf ct = BUF_INIT;
	char norm[64];
	int rc;

	out->len = 0;
	if (v == NULL || v[0] == '\0')
		return 0;
	if ((rc = svc__norm_docnum(column, v, norm, e)))
		return rc;
	crypto_seal(s->keys, "persons", column, ext_id, norm, strlen(norm), &ct);
	if (ct.len > sizeof out->ct) {
		buf_free(&ct);
		return bm_errf(e, BM_EINTERNAL, column, "%s: sealed value too large", column);
	}
	memcpy(out->ct, ct.p, ct.len);
	out->len = ct.len;
	crypto_blind_index(s->keys, column, norm, strlen(norm), out->idx);
	buf_free(&ct);
	return 0;
}

int svc__person_build(struct svc *s, const struct person_input *in, int64_t unit_id,
		      struct person_rec *r, struct bm_err *e)
{
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = svc__check_code("id", in->ext_id, e)) ||
	    (rc = svc__check_name("name", in->name, true, e)) ||
	    (rc = seal_doc(s, "national_id", in->ext_id, in->national_id, &r->national_id, e)) ||
	    (rc = seal_doc(s, "passport", in->ext_id, in->passport, &r->passport, e)))
		return rc;
	svc__copy(r->ext_id, sizeof r->ext_id, in->ext_id);
	svc__copy(r->name, sizeof r->name, in->name);
	r->unit_id = unit_id;
	r->state = ST_CANDIDATE;
	r->created = r->updated = clock_now();
	return 0;
}

/* Resolves a unit code to its id, as a validation error on field. */
static int unit_id_of(struct svc *s, const char *field, const char *code, int64_t *id,
		      struct bm_err *e)
{
	struct unit_rec u;
	int rc;

	if ((rc = svc__check_code(field, code, e)))
		return rc;
	rc = ST(s)->unit_get(s->st, 0, code, &u, e);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, BM_EINVAL, field, "%s: unit %.64s not found", field, code);
	*id = u.id;
	return rc;
}

/* unit_id_of for a write by a: a unit outside an officer's subtree is
 * refused with the very words used for a unit that does not exist. */
static int unit_id_scoped(struct svc *s, const struct actor *a, const char *field,
			  const char *code, int64_t *id, struct bm_err *e)
{
	int rc = unit_id_of(s, field, code, id, e);

	if (rc == 0 && svc__scope_check(s, a, *id, field, "unit", e) == BM_ENOTFOUND)
		rc = bm_errf(e, BM_EINVAL, field, "%s: unit %.64s not found", field, code);
	return rc;
}

/* Outside an officer's subtree a person is "not found", exactly as for an
 * id that does not exist (a malformed id included). */
int svc__person_scoped(struct svc *s, const struct actor *a, const char *ext_id,
		       const char *field, struct person_rec *p, struct bm_err *e)
{
	int rc = svc__check_code(field, ext_id, e);

	if (rc == 0)
		rc = ST(s)->person_get(s->st, 0, ext_id, p, e);
	if (rc == 0 && svc__scope_check(s, a, p->unit_id, field, "person", e) == BM_ENOTFOUND)
		rc = BM_ENOTFOUND;
	if (rc == BM_ENOTFOUND || rc == BM_EINVAL)
		return bm_errf(e, BM_ENOTFOUND, field, "person %.64s not found",
			       ext_id ? ext_id : "");
	return rc;
}

static int person_load(struct svc *s, const struct actor *a, const char *ext_id,
		       struct person_rec *p, struct bm_err *e)
{
	return svc__person_scoped(s, a, ext_id, "id", p, e);
}

/* The link is the account's `person` field, copied into the actor when the
 * session was resolved; the name of the account plays no part. */
int svc__self(struct svc *s, const struct actor *a, struct person_rec *p, struct bm_err *e)
{
	int rc;

	if (a->person[0] == '\0')
		return bm_errf(e, BM_ENOTFOUND, "person",
			       "no person record is linked to account %s", a->name);
	rc = ST(s)->person_get(s->st, 0, a->person, p, e);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "person", "the person record %.64s linked to account %s "
			       "does not exist (yet)", a->person, a->name);
	return rc;
}

static json_t *person_audit_fields(const struct person_rec *r, const char *unit)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:b}", "id", r->ext_id, "name", r->name, "unit",
			 unit, "national_id_set", r->national_id.len > 0, "passport_set",
			 r->passport.len > 0);
}

/* True when a person has this id (any error reads as no). */
static bool person_known(struct svc *s, const char *ext_id)
{
	struct bm_err e = BM_ERR_INIT;
	struct person_rec p;
	bool known = ST(s)->person_get(s->st, 0, ext_id, &p, &e) == 0;

	bm_err_clear(&e);
	return known;
}

int svc_person_add(struct svc *s, const struct actor *a, const struct person_input *in,
		   struct person_rec *out, struct bm_err *e)
{
	int64_t unit_id = 0;
	int rc;

	if ((rc = svc__allow(a, PERM_PERSON_WRITE, e)) || (rc = svc__begin(s, e)))
		return rc;
	if ((rc = unit_id_scoped(s, a, "unit", in->unit, &unit_id, e)) ||
	    (rc = svc__person_build(s, in, unit_id, out, e)))
		goto fail;
	rc = ST(s)->person_insert(s->st, out, e);
	if (rc == 0)
		svc__touch(s, out->id);
	if (rc == BM_EEXIST && (strcmp(e->field, "ext_id") == 0 || person_known(s, in->ext_id)))
		rc = bm_errf(e, BM_EEXIST, "id", "id: person %s already exists", in->ext_id);
	if (rc || (rc = svc__audit1(s, a, "person.add", out->ext_id,
				    person_audit_fields(out, in->unit), e)))
		goto fail;
	return svc__commit(s, e);
fail:
	svc__rollback(s);
	return rc;
}

/* Showing sensitive fields in clear is recorded, so the auditor can see
 * who looked at whose national id and when. */
static int audit_reveal(struct svc *s, const struct actor *a, const char *ext_id,
			struct bm_err *e)
{
	int rc;

	if ((rc = svc__allow(a, PERM_PERSON_SENSITIVE_READ, e)) || (rc = svc__begin(s, e)))
		return rc;
	if ((rc = svc__audit1(s, a, "person.reveal", ext_id,
			      json_pack("{s:[ss]}", "fields", "national_id", "passport"), e))) {
		svc__rollback(s);
		return rc;
	}
	return svc__commit(s, e);
}

/* The full view of p as a tree, for the callers that embed or print it
 * (the CLI, /v1/me): the text view parsed, so the view's shape is written
 * once, in view.c. */
static json_t *person_view(struct svc *s, const struct actor *a, const struct person_rec *p,
			   int sensitive, struct bm_err *e)
{
	struct buf b = BUF_INIT;
	json_error_t je;
	json_t *v = NULL;

	if (svc__person_view_text(s, a, p, sensitive, &b, e) == 0 &&
	    (v = json_loadb(b.p, b.len, 0, &je)) == NULL)
		bm_errf(e, BM_EINTERNAL, NULL, "person view of %s is not JSON: %s", p->ext_id,
			je.text);
	buf_free(&b);
	return v;
}

json_t *svc_person_show(struct svc *s, const struct actor *a, const char *ext_id, bool reveal,
			struct bm_err *e)
{
	struct person_rec p;

	if (svc__allow(a, PERM_PERSON_READ, e) || person_load(s, a, ext_id, &p, e) ||
	    (reveal && audit_reveal(s, a, ext_id, e)))
		return NULL;
	return person_view(s, a, &p, reveal ? SENSITIVE_CLEAR : SENSITIVE_MASKED, e);
}

/* svc_person_show's answer as the text jdump would give it, without the
 * tree (see view.c), and the version for an ETag. */
int svc_person_show_text(struct svc *s, const struct actor *a, const char *ext_id,
			 bool reveal, struct buf *out, int64_t *version, struct bm_err *e)
{
	struct person_rec p;
	int rc;

	if ((rc = svc__allow(a, PERM_PERSON_READ, e)) || (rc = person_load(s, a, ext_id, &p, e)) ||
	    (reveal && (rc = audit_reveal(s, a, ext_id, e))))
		return rc;
	*version = p.version;
	return svc__person_view_text(s, a, &p, reveal ? SENSITIVE_CLEAR : SENSITIVE_MASKED, out, e);
}

/* No linked person, or one not yet created, is person: null, not an error:
 * the account itself is still there to show. */
json_t *svc_me(struct svc *s, const struct actor *a, struct bm_err *e)
{
	struct person_rec p;
	json_t *who, *me;
	int rc;

	if (svc__allow(a, PERM_PERSON_SELF_READ, e) || (who = svc_whoami(s, a, e)) == NULL)
		return NULL;
	rc = svc__self(s, a, &p, e);
	if (rc == BM_ENOTFOUND) {
		bm_err_clear(e);
		return json_pack("{s:o, s:n}", "account", who, "person");
	}
	if (rc == 0 && (me = person_view(s, NULL, &p, SENSITIVE_MASKED, e)) != NULL)
		return json_pack("{s:o, s:o}", "account", who, "person", me);
	json_decref(who);
	return NULL;
}

json_t *svc_me_clearance(struct svc *s, const struct actor *a, int64_t now, struct bm_err *e)
{
	struct person_rec p;

	if (svc__allow(a, PERM_CLEARANCE_SELF_READ, e) || svc__self(s, a, &p, e))
		return NULL;
	return svc_clearance(s, a, p.ext_id, now, e);
}

struct list_ctx {
	struct svc *s;
	int (*cb)(void *ctx, json_t *view);
	void *ctx;
	struct svc_page *pg;
};

static int list_one(void *ctx, const struct person_rec *p)
{
	struct list_ctx *l = ctx;
	json_t *v;
	int rc;

	if (!svc__page_take(l->pg, p->id))
		return 0;      /* the row past the page: more exist */
	v = svc__person_json(l->s, p);
	rc = v ? l->cb(l->ctx, v) : BM_EINTERNAL;
	json_decref(v);
	return rc;
}

int svc_person_list(struct svc *s, const struct actor *a, const struct person_query *q,
		    int (*cb)(void *ctx, json_t *view), void *ctx, struct bm_err *e)
{
	struct person_filter f = {.level = -1, .state = -1};
	struct list_ctx l = {s, cb, ctx, q->page};
	struct store_page sp;
	int rc;

	if ((rc = svc__allow(a, PERM_PERSON_READ, e)))
		return rc;
	if (q->unit && (rc = unit_id_of(s, "unit", q->unit, &f.unit_root, e)))
		return rc == BM_EINVAL ? bm_errf(e, BM_ENOTFOUND, "unit", "unit %.64s not found",
						 q->unit) : rc;
	if (q->category && (rc = category_parse(q->category, "category", &f.level, e)))
		return rc;
	if (q->state && (rc = state_parse(q->state, "state", &f.state, e)))
		return rc;
	if (a->scope_unit && !(a->roles & ACTOR_LOCAL)) {
		if (f.unit_root == 0)
			f.unit_root = a->scope_unit;
		else if (ST(s)->unit_within(s->st, f.unit_root, a->scope_unit, e) != 1)
			return bm_errf(e, BM_ENOTFOUND, "unit", "unit %.64s not found", q->unit);
	}
	/* bound to the subtree listed, the officer's own when no unit is asked */
	if ((rc = svc__page_bind(q->page, svc__scope_of("unit %lld level %d state %d",
							(long long)f.unit_root, f.level, f.state),
				 e)))
		return rc;
	if (svc__page(q->page, &sp) != NULL) {
		f.after_id = sp.after_id;
		f.limit = sp.limit;
	}
	return ST(s)->person_list(s->st, &f, list_one, &l, e);
}

/* Applies a patch to p, collecting the changed fields for the audit. */
static int person_patch_apply(struct svc *s, const struct actor *a,
			      const struct person_patch *in, struct person_rec *p,
			      json_t *changed, struct bm_err *e)
{
	int64_t unit_id;
	int rc;

	if (in->name != NULL) {
		if ((rc = svc__check_name("name", in->name, true, e)))
			return rc;
		if (strcmp(in->name, p->name) != 0)
			json_object_set_new(changed, "name", json_string(in->name));
		svc__copy(p->name, sizeof p->name, in->name);
	}
	if (in->unit != NULL) {
		if ((rc = unit_id_scoped(s, a, "unit", in->unit, &unit_id, e)))
			return rc;
		if (unit_id != p->unit_id)
			json_object_set_new(changed, "unit", json_string(in->unit));
		p->unit_id = unit_id;
	}
	return 0;
}

int svc_person_update(struct svc *s, const struct actor *a, const char *ext_id,
		      const struct person_patch *in, struct person_rec *out, struct bm_err *e)
{
	json_t *changed = json_object();
	int rc;

	if ((rc = svc__allow(a, PERM_PERSON_WRITE, e)) || (rc = svc__begin(s, e)))
		goto out;
	if ((rc = person_load(s, a, ext_id, out, e)))
		goto fail;
	if (in->expected_version != 0 && out->version != in->expected_version) {
		rc = bm_errf(e, BM_ECONFLICT, "version", "person %.64s was changed by someone else "
			     "(version %lld, expected %lld)", ext_id, (long long)out->version,
			     (long long)in->expected_version);
		goto fail;
	}
	if ((rc = person_patch_apply(s, a, in, out, changed, e)))
		goto fail;
	out->updated = clock_now();
	if ((rc = ST(s)->person_update(s->st, out, e)) ||
	    (rc = svc__audit1(s, a, "person.update", out->ext_id, json_incref(changed), e)))
		goto fail;
	rc = svc__commit(s, e);
	goto out;
fail:
	svc__rollback(s);
out:
	json_decref(changed);
	return rc;
}

struct find_ctx {
	struct svc *s;
	json_t *arr;
	struct svc_scope sc;       /* a scoped actor finds inside its subtree only */
};

static int find_collect(void *ctx, const struct person_rec *p)
{
	struct find_ctx *c = ctx;

	if (svc__scope_has(&c->sc, p->unit_id))
		json_array_append_new(c->arr, svc__person_json(c->s, p));
	return 0;
}

/* A search by national id or passport is recorded like a reveal: whose
 * number was looked up, by whom, and what it found (never the number). */
static int audit_find(struct svc *s, const struct actor *a, const char *column,
		      json_t *found, struct bm_err *e)
{
	json_t *subjects = json_array(), *p;
	size_t i;
	int rc;

	json_array_foreach(found, i, p)
		json_array_append(subjects, json_object_get(p, "id"));
	if ((rc = svc__begin(s, e))) {
		json_decref(subjects);
		return rc;
	}
	if ((rc = svc__audit(s, a, "person.find", subjects,
			     json_pack("{s:s, s:I}", "by", column, "matches",
				       (json_int_t)json_array_size(found)), e))) {
		svc__rollback(s);
		return rc;
	}
	return svc__commit(s, e);
}

json_t *svc_person_find(struct svc *s, const struct actor *a, const char *national_id,
			const char *passport, struct bm_err *e)
{
	const char *column = national_id ? "national_id" : "passport";
	const char *v = national_id ? national_id : passport;
	struct find_ctx c = {s, NULL, {0}};
	uint8_t idx[32];
	char norm[64];

	if (svc__allow(a, PERM_PERSON_SENSITIVE_READ, e))
		return NULL;
	if ((national_id == NULL) == (passport == NULL)) {
		bm_errf(e, BM_EUSAGE, NULL, "give exactly one of --national-id and --passport");
		return NULL;
	}
	if (svc__norm_docnum(column, v, norm, e) || svc__scope_load(s, a, &c.sc, e))
		return NULL;
	crypto_blind_index(s->keys, column, norm, strlen(norm), idx);
	c.arr = json_array();
	if (ST(s)->person_find_sealed(s->st, column, idx, find_collect, &c, e) ||
	    audit_find(s, a, column, c.arr, e)) {
		json_decref(c.arr);
		c.arr = NULL;
	}
	svc__scope_free(&c.sc);
	return c.arr;
}

/* Moves p to `to` inside the open transaction after core/lifecycle
 * approves the move, with its audit event; p is updated in place. */
int svc__person_state_tx(struct svc *s, const struct actor *a, struct person_rec *p, int to,
			 const char *reason, struct bm_err *e)
{
	int from = p->state, rc;

	if ((rc = lifecycle_check(p->state, to, e)))
		return rc;
	p->state = to;
	p->updated = clock_now();
	svc__touch(s, p->id);
	if ((rc = ST(s)->person_update(s->st, p, e)))
		return rc;
	return svc__audit1(s, a, "person.state", p->ext_id,
			   json_pack("{s:s, s:s, s:s}", "from", state_name(from), "to",
				     state_name(to), "reason", reason ? reason : ""), e);
}

/* Moves a person along the lifecycle after core/lifecycle approves the move.
 * Internal: the public workflows (reviews, suspension, departure) call it
 * once their own rule holds. */
int svc__person_set_state(struct svc *s, const struct actor *a, const char *ext_id, int to,
			  const char *reason, struct bm_err *e)
{
	struct person_rec p;
	int rc;

	if ((rc = svc__begin(s, e)))
		return rc;
	rc = ST(s)->person_get(s->st, 0, ext_id, &p, e);
	if (rc == BM_ENOTFOUND)
		rc = bm_errf(e, rc, "id", "person %.64s not found", ext_id);
	if (rc || (rc = svc__person_state_tx(s, a, &p, to, reason, e)))
		goto fail;
	return svc__commit(s, e);
fail:
	svc__rollback(s);
	return rc;
}
