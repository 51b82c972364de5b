/*
 * policysvc.c - the policy in force and its versions.
 *
 * Loading a policy validates the whole document first (every problem named
 * by its JSON path), then stores it as the next version; old versions stay,
 * so what was in force at any time can be shown.  The stored text is the
 * canonical rendering of the parsed policy, so equal policies store equal
 * text whatever the input's spacing.
 */
#include "svc_internal.h"
#include "../core/role.h"
#include "../lib/clock.h"
#include "../lib/crypto.h"

#include <string.h>

struct got_policy {
	struct policy *p;
	int64_t version;
	int rc;
	struct bm_err *e;
};

static int take_policy(void *ctx, const struct policy_rec *r)
{
	struct got_policy *g = ctx;

	g->version = r->version;
	g->rc = policy_stored_from_json(r->json, strlen(r->json), g->p, g->e);
	return 0;
}

int svc__policy_load_current(struct svc *s, struct bm_err *e)
{
	struct got_policy g = {&s->policy, 0, 0, e};
	int rc = ST(s)->policy_get(s->st, 0, take_policy, &g, e);

	if (rc == BM_ENOTFOUND) {
		bm_err_clear(e);
		s->policy_version = 0;
		return policy_builtin("cn", &s->policy, e);
	}
	if (rc == 0 && g.rc != 0)
		return bm_errf(e, BM_ESCHEMA, "policy",
			       "stored policy version %lld is damaged: %s", (long long)g.version,
			       e->msg);
	s->policy_version = g.version;
	return rc;
}

/* The policy as stored now: a version another process stored since this
 * context last looked is read first, so its version (an edit's If-Match)
 * is never older than the database's. */
json_t *svc_policy_show(struct svc *s, const struct actor *a, struct bm_err *e)
{
	struct buf doc = BUF_INIT;
	int64_t head = 0;
	json_t *v;

	if (svc__allow(a, PERM_POLICY_READ, e) || ST(s)->policy_head(s->st, &head, e) ||
	    (head != s->policy_version && svc__policy_load_current(s, e)))
		return NULL;
	policy_to_json(&s->policy, &doc);
	v = json_loads(buf_cstr(&doc), 0, NULL);
	buf_free(&doc);
	if (v == NULL) {
		bm_errf(e, BM_EINTERNAL, "policy", "policy rendering is not JSON");
		return NULL;
	}
	json_object_set_new(v, "version", json_integer(s->policy_version));
	return v;
}

int svc_policy_load(struct svc *s, const struct actor *a, const char *text, size_t len,
		    int64_t expected, int64_t *version, struct bm_err *e)
{
	struct policy p;
	struct buf doc = BUF_INIT;
	struct policy_rec r = {0};
	uint8_t digest[32];
	char hex[65];
	int64_t read_at;
	int rc;

	if ((rc = svc__allow(a, PERM_POLICY_WRITE, e)) ||
	    (rc = policy_edit_from_json(text, len, &p, &read_at, e)))
		return rc;
	/* the document's own version is the edit's too; two must agree */
	if (read_at != 0 && expected != 0 && read_at != expected)
		return bm_errf(e, BM_ECONFLICT, "$.version", "$.version: %lld, but the edit is "
			       "of version %lld", (long long)read_at, (long long)expected);
	if (read_at != 0)
		expected = read_at;
	policy_to_json(&p, &doc);
	sha256(doc.p, doc.len, digest);
	hex_encode(digest, 32, hex);
	if ((rc = svc__begin(s, e)))
		goto out;
	if ((rc = svc__policy_load_current(s, e)))
		goto fail;
	if (expected != 0 && expected != s->policy_version) {
		rc = bm_errf(e, BM_ECONFLICT, "policy", "policy version %lld was edited, but "
			     "version %lld is current now", (long long)expected,
			     (long long)s->policy_version);
		goto fail;
	}
	r.version = s->policy_version + 1;
	svc__copy(r.profile, sizeof r.profile, p.profile);
	svc__copy(r.actor, sizeof r.actor, a->name);
	r.created = clock_now();
	r.json = doc.p;
	if ((rc = ST(s)->policy_insert(s->st, &r, e)) ||
	    (rc = svc__audit1(s, a, "policy.load", "policy",
			      json_pack("{s:I, s:s, s:s}", "version", (json_int_t)r.version,
					"profile", p.profile, "sha256", hex), e)))
		goto fail;
	if ((rc = svc__commit(s, e)))
		goto out;
	s->policy = p;
	s->policy_version = r.version;
	*version = r.version;
	/* New rules change every clearance: re-evaluate the whole snapshot. */
	svc__touch_all(s);
	if (svc__snap_flush(s, NULL) != 0)
		s->dirty_all = true;
	goto out;
fail:
	svc__rollback(s);
out:
	buf_free(&doc);
	return rc;
}

struct vlist {
	json_t *arr;
	struct svc_page *pg;
};

static int version_row(void *ctx, const struct policy_rec *r)
{
	struct vlist *l = ctx;
	char when[21];

	if (!svc__page_take(l->pg, r->version))
		return 0;      /* the row past the page: more exist */
	clock_fmt_iso(r->created, when);
	json_array_append_new(l->arr, json_pack("{s:I, s:s, s:s, s:s}", "version",
						(json_int_t)r->version, "profile", r->profile,
						"created", when, "actor", r->actor));
	return 0;
}

json_t *svc_policy_versions(struct svc *s, const struct actor *a, struct svc_page *pg,
			    struct bm_err *e)
{
	struct vlist l = {NULL, pg};
	struct store_page sp;

	if (svc__allow(a, PERM_POLICY_READ, e))
		return NULL;
	l.arr = json_array();
	if (ST(s)->policy_page(s->st, svc__page(pg, &sp), version_row, &l, e)) {
		json_decref(l.arr);
		return NULL;
	}
	return l.arr;
}
