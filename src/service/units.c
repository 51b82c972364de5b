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

#include <string.h>

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

json_t *svc_unit_show(struct svc *s, const struct actor *a, const char *code, struct bm_err *e)
{
	struct unit_rec u;
	int rc;

	if (svc__allow(a, PERM_UNIT_READ, e))
		return NULL;
	rc = ST(s)->unit_get(s->st, 0, code, &u, e);
	if (rc == BM_ENOTFOUND)
		bm_errf(e, rc, "code", "unit %.64s not found", code);
	return rc ? NULL : svc__unit_json(s, &u);
}

static int unit_collect(void *ctx, const struct unit_rec *u)
{
	void **c = ctx;

	json_array_append_new(c[1], svc__unit_json(c[0], u));
	return 0;
}

json_t *svc_unit_list(struct svc *s, const struct actor *a, struct bm_err *e)
{
	json_t *arr;
	void *ctx[2];

	if (svc__allow(a, PERM_UNIT_READ, e))
		return NULL;
	arr = json_array();
	ctx[0] = s;
	ctx[1] = arr;
	if (ST(s)->unit_list(s->st, unit_collect, ctx, e)) {
		json_decref(arr);
		return NULL;
	}
	return arr;
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

	if (svc__allow(a, PERM_UNIT_READ, e))
		return NULL;
	rc = ST(s)->post_get(s->st, 0, code, &p, e);
	if (rc == BM_ENOTFOUND)
		bm_errf(e, rc, "code", "post %.64s not found", code);
	return rc ? NULL : svc__post_json(s, &p);
}

static int post_collect(void *ctx, const struct post_rec *p)
{
	void **c = ctx;

	json_array_append_new(c[1], svc__post_json(c[0], p));
	return 0;
}

json_t *svc_post_list(struct svc *s, const struct actor *a, const char *unit, struct bm_err *e)
{
	struct unit_rec u = {0};
	json_t *arr;
	void *ctx[2];

	if (svc__allow(a, PERM_UNIT_READ, e))
		return NULL;
	if (unit != NULL && ST(s)->unit_get(s->st, 0, unit, &u, e)) {
		bm_errf(e, BM_ENOTFOUND, "unit", "unit %.64s not found", unit);
		return NULL;
	}
	arr = json_array();
	ctx[0] = s;
	ctx[1] = arr;
	if (ST(s)->post_list(s->st, u.id, post_collect, ctx, e)) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}
