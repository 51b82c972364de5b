/*
 * units.c - the organisation tree and its posts.
 *
 * A unit has a code, a name and at most one parent; the tree is built top
 * down, so a parent must exist before its children.  A post belongs to a
 * unit and carries a level and the compartments (need-to-know scopes) its
 * holder may see.
 */
#include "svc_internal.h"
#include "../core/level.h"
#include "../core/role.h"
#include "../lib/clock.h"
#include "../lib/mem.h"

#include <stdlib.h>
#include <string.h>

/* ---- what an officer may see ---- */

static int cmp_id(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

bool svc__scope_has(const struct svc_scope *sc, int64_t unit_id)
{
	return sc->all || (sc->n > 0 && bsearch(&unit_id, sc->ids, sc->n, sizeof *sc->ids,
						 cmp_id) != NULL);
}

struct scope_walk {
	struct svc_scope *sc;
	int64_t root;
	size_t cap;
};

/* Units come in id order and a parent always has a smaller id than its
 * children (a parent must exist first; a unit never moves), so one pass
 * finds the subtree and leaves ids sorted. */
static int scope_one(void *ctx, const struct unit_rec *u)
{
	struct scope_walk *w = ctx;
	struct svc_scope *sc = w->sc;

	if (u->id != w->root && (u->parent_id == 0 || !svc__scope_has(sc, u->parent_id)))
		return 0;
	if (sc->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		sc->ids = xreallocarray(sc->ids, w->cap, sizeof *sc->ids);
	}
	sc->ids[sc->n++] = u->id;
	return 0;
}

int svc__scope_subtree(struct svc *s, int64_t root, struct svc_scope *sc, struct bm_err *e)
{
	struct scope_walk w = {sc, root, 0};
	int rc;

	memset(sc, 0, sizeof *sc);
	if ((rc = ST(s)->unit_list(s->st, scope_one, &w, e)))
		svc__scope_free(sc);
	return rc;
}

int svc__scope_load(struct svc *s, const struct actor *a, struct svc_scope *sc,
		    struct bm_err *e)
{
	if (svc__actor_scoped(a))
		return svc__scope_subtree(s, a->scope_unit, sc, e);
	memset(sc, 0, sizeof *sc);
	sc->all = true;
	return 0;
}

void svc__scope_add(struct svc_scope *sc, int64_t unit_id)
{
	if (sc->all)
		return;
	sc->ids = xreallocarray(sc->ids, sc->n + 1, sizeof *sc->ids);
	sc->ids[sc->n++] = unit_id;
	if (sc->n > 1 && sc->ids[sc->n - 2] > unit_id)
		qsort(sc->ids, sc->n, sizeof *sc->ids, cmp_id);
}

void svc__scope_free(struct svc_scope *sc)
{
	free(sc->ids);
	sc->ids = NULL;
	sc->n = 0;
}

int svc__unit_visible(struct svc *s, const struct actor *a, const char *field,
		      const char *code, struct unit_rec *u, struct bm_err *e)
{
	int rc = svc__check_code(field, code, e);

	if (rc == 0)
		rc = ST(s)->unit_get(s->st, 0, code, u, e);
	if (rc == 0 && svc__scope_check(s, a, u->id, field, "unit", e) == BM_ENOTFOUND)
		rc = BM_ENOTFOUND;
	if (rc == BM_ENOTFOUND || rc == BM_EINVAL)
		return bm_errf(e, BM_ENOTFOUND, field, "unit %.64s not found", code ? code : "");
	return rc;
}

int svc__unit_add_tx(struct svc *s, const struct unit_input *in, struct unit_rec *out,
		     struct bm_err *e)
{
	struct unit_rec parent;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = svc__check_code("code", in->code, e)) ||
	    (rc = svc__check_name("name", in->name, true, e)))
		return rc;
	if (in->parent != NULL && in->parent[0] != '\0') {
		rc = ST(s)->unit_get(s->st, 0, in->parent, &parent, e);
		if (rc == BM_ENOTFOUND)
			return bm_errf(e, BM_EINVAL, "parent", "parent: unit %.64s not found",
				       in->parent);
		if (rc)
			return rc;
		out->parent_id = parent.id;
	}
	svc__copy(out->code, sizeof out->code, in->code);
	svc__copy(out->name, sizeof out->name, in->name);
	out->created = out->updated = clock_now();
	rc = ST(s)->unit_insert(s->st, out, e);
	if (rc == BM_EEXIST)
		return bm_errf(e, BM_EEXIST, "code", "code: unit %s already exists", in->code);
	return rc;
}

int svc_unit_add(struct svc *s, const struct actor *a, const struct unit_input *in,
		 struct unit_rec *out, struct bm_err *e)
{
	int rc;

	if ((rc = svc__allow(a, PERM_UNIT_WRITE, e)) || (rc = svc__begin(s, e)))
		return rc;
	if ((rc = svc__unit_add_tx(s, in, out, e)) ||
	    (rc = svc__audit1(s, a, "unit.add", out->code,
			      json_pack("{s:s, s:s, s:s}", "code", out->code, "name", out->name,
					"parent", in->parent ? in->parent : ""), e))) {
		svc__rollback(s);
		return rc;
	}
	return svc__commit(s, e);
}

/* The view of u for an actor who may see u but perhaps not its parent: the
 * root of an officer's subtree shows as a root (as in the export), so no
 * answer names the unit above it, which is "not found" to this actor. */
static json_t *unit_view(struct svc *s, const struct unit_rec *u, bool parent_visible)
{
	json_t *v = svc__unit_json(s, u);

	if (v != NULL && !parent_visible)
		json_object_set_new(v, "parent", json_null());
	return v;
}

json_t *svc_unit_show(struct svc *s, const struct actor *a, const char *code, struct bm_err *e)
{
	struct bm_err pe = BM_ERR_INIT;
	struct unit_rec u;
	bool parent_visible;
	int rc;

	if (svc__allow(a, PERM_UNIT_READ, e))
		return NULL;
	if ((rc = svc__unit_visible(s, a, "code", code, &u, e)))
		return NULL;
	/* fails closed: a parent whose scope could not be read is not shown */
	parent_visible = u.parent_id == 0 ||
			 svc__scope_check(s, a, u.parent_id, "parent", "unit", &pe) == 0;
	bm_err_clear(&pe);
	return unit_view(s, &u, parent_visible);
}

/* A page of a list the store has already limited to what the actor may
 * see (root: the officer's scope unit, 0 unscoped). */
struct scoped_list {
	struct svc *s;
	int64_t root;
	struct svc_page *pg;
	json_t *arr;
};

/* Inside the subtree every unit's parent is visible but the root's. */
static int unit_collect(void *ctx, const struct unit_rec *u)
{
	struct scoped_list *l = ctx;

	if (svc__page_take(l->pg, u->id))
		json_array_append_new(l->arr, unit_view(l->s, u, u->parent_id == 0 ||
							l->root == 0 || u->id != l->root));
	return 0;
}

/* Finishes a list walk: the array, or NULL after the walk's error rc. */
static json_t *scoped_done(struct scoped_list *l, int rc)
{
	if (rc != 0) {
		json_decref(l->arr);
		return NULL;
	}
	return l->arr;
}

json_t *svc_unit_list(struct svc *s, const struct actor *a, struct svc_page *pg,
		      struct bm_err *e)
{
	struct scoped_list l = {s, svc__actor_scoped(a) ? a->scope_unit : 0, pg, NULL};
	struct store_page sp;

	if (svc__allow(a, PERM_UNIT_READ, e) ||
	    svc__page_bind(pg, svc__scope_of("root %lld", (long long)l.root), e))
		return NULL;
	l.arr = json_array();
	return scoped_done(&l, ST(s)->unit_page(s->st, l.root, svc__page(pg, &sp), unit_collect,
						&l, e));
}

int svc__post_add_tx(struct svc *s, const struct post_input *in, struct post_rec *out,
		     struct bm_err *e)
{
	struct unit_rec u;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = svc__check_code("code", in->code, e)) ||
	    (rc = svc__check_code("unit", in->unit, e)) ||
	    (rc = svc__check_name("title", in->title, false, e)))
		return rc;
	if (in->level == NULL || in->level[0] == '\0')
		return bm_errf(e, BM_EINVAL, "level", "level: required");
	if ((rc = level_parse(in->level, "level", &out->level, e)) ||
	    (rc = compartments_normalize(in->compartments ? in->compartments : "", "compartments",
					 out->compartments, sizeof out->compartments, e)))
		return rc;
	rc = ST(s)->unit_get(s->st, 0, in->unit, &u, e);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, BM_EINVAL, "unit", "unit: unit %.64s not found", in->unit);
	if (rc)
		return rc;
	out->unit_id = u.id;
	svc__copy(out->code, sizeof out->code, in->code);
	svc__copy(out->title, sizeof out->title, in->title);
	out->created = out->updated = clock_now();
	rc = ST(s)->post_insert(s->st, out, e);
	if (rc == BM_EEXIST)
		return bm_errf(e, BM_EEXIST, "code", "code: post %s already exists", in->code);
	return rc;
}

int svc_post_add(struct svc *s, const struct actor *a, const struct post_input *in,
		 struct post_rec *out, struct bm_err *e)
{
	int rc;

	if ((rc = svc__allow(a, PERM_POST_WRITE, e)) || (rc = svc__begin(s, e)))
		return rc;
	if ((rc = svc__post_add_tx(s, in, out, e)) ||
	    (rc = svc__audit1(s, a, "post.add", out->code,
			      json_pack("{s:s, s:s, s:i, s:s, s:s}", "code", out->code, "unit",
					in->unit, "level", out->level, "compartments",
					out->compartments, "title", out->title), e))) {
		svc__rollback(s);
		return rc;
	}
	return svc__commit(s, e);
}

json_t *svc_post_show(struct svc *s, const struct actor *a, const char *code, struct bm_err *e)
{
	struct post_rec p;
	int rc;

	if (svc__allow(a, PERM_POST_READ, e))
		return NULL;
	rc = svc__check_code("code", code, e);
	if (rc == 0)
		rc = ST(s)->post_get(s->st, 0, code, &p, e);
	if (rc == 0 && svc__scope_check(s, a, p.unit_id, "code", "post", e) == BM_ENOTFOUND)
		rc = BM_ENOTFOUND;
	if (rc == BM_ENOTFOUND || rc == BM_EINVAL)
		bm_errf(e, BM_ENOTFOUND, "code", "post %.64s not found", code ? code : "");
	return rc ? NULL : svc__post_json(s, &p);
}

static int post_collect(void *ctx, const struct post_rec *p)
{
	struct scoped_list *l = ctx;

	if (svc__page_take(l->pg, p->id))
		json_array_append_new(l->arr, svc__post_json(l->s, p));
	return 0;
}

/* A unit the actor may see holds only posts they may see, so with one
 * the officer's subtree needs no second filter. */
json_t *svc_post_list(struct svc *s, const struct actor *a, const char *unit,
		      struct svc_page *pg, struct bm_err *e)
{
	struct scoped_list l = {s, svc__actor_scoped(a) ? a->scope_unit : 0, pg, NULL};
	struct unit_rec u = {0};
	struct store_page sp;

	if (svc__allow(a, PERM_POST_READ, e) ||
	    (unit != NULL && svc__unit_visible(s, a, "unit", unit, &u, e)) ||
	    svc__page_bind(pg, svc__scope_of("unit %lld root %lld", (long long)u.id,
					     (long long)l.root), e))
		return NULL;
	l.arr = json_array();
	return scoped_done(&l, ST(s)->post_page(s->st, u.id, l.root, svc__page(pg, &sp),
						post_collect, &l, e));
}
