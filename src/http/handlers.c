/*
 * handlers.c - API v1: the route table and one small handler per route.
 *
 * Each handler reads its parameters and body (strictly: unknown fields,
 * wrong types and duplicate keys are refused by problem.c), calls one
 * service function on this thread's service context and renders the
 * result.  All contexts share one decision snapshot, which a maintenance
 * thread (maint.c) loads and keeps in step with other processes' writes.
 * Handlers never decide who may do what: the router checks the
 * route's permission and the service checks it again, with the officer's
 * scope.  Nothing here logs a password, a token or a CSRF value.
 */
#define _GNU_SOURCE /* fmemopen, open_memstream */
#include "handlers.h"
#include "maint.h"
#include "pin.h"
#include "../core/audit.h"
#include "../core/role.h"
#include "../lib/buf.h"
#include "../lib/clock.h"
#include "../lib/crypto.h"
#include "../lib/mem.h"
#include "../lib/num.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COOKIE "baomi_session"
#define LIST_DEFAULT 50
#define LIST_MAX 1000

/* One thread's service context; gen is the policy generation it has. */
struct tsvc {
	struct svc *svc;
	long gen;
	struct tsvc *next;
};

struct api {
	struct api_opts o;
	struct router *rt;
	pthread_key_t key;
	pthread_mutex_t mu;        /* guards all */
	struct tsvc *all;
	atomic_long gen;           /* bumped after each policy change */
	struct svc_snapshare *share; /* the one decision snapshot of all threads */
	struct maint *maint;       /* loads and syncs share, opens due reviews */
	struct pin *pin;           /* a held read lock: requests' reads skip theirs */
	char *openapi;             /* the document, loaded once */
	size_t openapi_len;
};

static struct api *APP(const struct http_req *r)
{
	return r->app;
}

/* This thread's service context, opened on first use and attached to the
 * shared snapshot, so a committed write on any thread is in the next
 * decision on every thread without a refresh; the policy is re-read when
 * another thread (or process) stored a new one. */
static struct svc *svc_of(struct http_req *r, struct bm_err *e)
{
	struct api *a = APP(r);
	struct tsvc *t = pthread_getspecific(a->key);
	long gen = atomic_load(&a->gen);

	if (t == NULL) {
		t = xcalloc(1, sizeof *t);
		if (svc_open(&a->o.paths, &t->svc, e) != 0) {
			free(t);
			return NULL;
		}
		svc_snapshot_attach(t->svc, a->share);
		t->gen = gen;
		pthread_mutex_lock(&a->mu);
		t->next = a->all;
		a->all = t;
		pthread_mutex_unlock(&a->mu);
		pthread_setspecific(a->key, t);
	}
	if (t->gen != gen && svc_reload(t->svc, e) != 0)
		return NULL;
	t->gen = gen;
	return t->svc;
}

/* ---- small helpers ---- */

/* Renders v (stolen) with status, or returns the service's error. */
static int reply(struct http_resp *w, int status, json_t *v, struct bm_err *e)
{
	if (v == NULL)
		return e->code ? e->code : bm_errf(e, BM_EINTERNAL, NULL, "no result");
	http_resp_json(w, status, v);
	return 0;
}

static int reply_ok(struct http_resp *w, int rc, json_t *v)
{
	if (rc != 0) {
		json_decref(v);
		return rc;
	}
	http_resp_json(w, 200, v);
	return 0;
}

/* A problem the error table does not produce (412, 428), with r's id. */
static int reply_problem(const struct http_req *r, struct http_resp *w, int status,
			 const char *name, const char *title, const char *detail)
{
	http_resp_problem(r, w, status, name, title, detail);
	return 0;
}

/* The string value of member k (borrowed), NULL when absent or null. */
static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A positive integer path parameter; a malformed one is not found. */
static int id_param(const struct http_req *r, const char *name, int64_t *out,
		    struct bm_err *e)
{
	if (!num_parse(http_req_param(r, name), 1, INT64_MAX, out))
		return bm_errf(e, BM_ENOTFOUND, name, "%s not found", name);
	return 0;
}

/* limit=N: 1..LIST_MAX, default LIST_DEFAULT. */
static int parse_limit(const struct http_req *r, int64_t *out, struct bm_err *e)
{
	const char *v = http_req_query(r, "limit");

	*out = LIST_DEFAULT;
	if (v != NULL && !num_parse(v, 1, LIST_MAX, out))
		return bm_errf(e, BM_EUSAGE, "limit", "limit: an integer from 1 to %d", LIST_MAX);
	return 0;
}

/* A list's opaque next_cursor (svc_cursor_make: sealed, not readable):
 * the id to start after and the list's scope. */
static json_t *cursor_make(struct svc *s, char tag, int64_t id, uint64_t scope)
{
	char out[SVC_CURSOR_MAX];

	svc_cursor_make(s, tag, id, scope, out);
	return json_string(out);
}

/* ?cursor= of list tag: the id to start after (0 without one) and the
 * scope it was given for, which the service holds to its own. */
static int cursor_parse(struct svc *s, const struct http_req *r, char tag, int64_t *id,
			uint64_t *scope, struct bm_err *e)
{
	const char *v = http_req_query(r, "cursor");

	*id = 0;
	*scope = 0;
	return v ? svc_cursor_read(s, tag, v, id, scope, e) : 0;
}

/* limit= and cursor= of list tag: the page to ask the service for.  Each
 * list has its own tag, so one list's cursor is refused by another. */
static int page_parse(struct http_req *r, char tag, struct svc_page *pg, struct svc **s,
		      struct bm_err *e)
{
	int rc;

	memset(pg, 0, sizeof *pg);
	if ((rc = parse_limit(r, &pg->limit, e)))
		return rc;
	if ((*s = svc_of(r, e)) == NULL)
		return e->code;
	return cursor_parse(*s, r, tag, &pg->after_id, &pg->scope, e);
}

/* {"items": items, "next_cursor"} (items stolen; NULL is the service's
 * error): a cursor after the last item shown, sealed so the id stays
 * unread, exactly when the service says more follow (pg->more). */
static int reply_page(struct http_resp *w, struct svc *s, char tag, json_t *items,
		      const struct svc_page *pg, struct bm_err *e)
{
	return reply(w, 200, items ? json_pack("{s:o, s:o}", "items", items, "next_cursor",
					       pg->more ? cursor_make(s, tag, pg->last_id, pg->scope)
							: json_null()) : NULL, e);
}

/* ---- sessions ---- */

static const struct problem_field login_spec[] = {
	{"name", PF_STRING, true, 63, 0},
	{"password", PF_STRING, true, SVC_PASSWORD_MAX - 1, 0},
};

static void set_cookie(struct api *a, struct http_resp *w, const char *token, int64_t max_age)
{
	char c[256];

	snprintf(c, sizeof c, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
		 token, (long long)max_age, a->o.secure_cookie ? "; Secure" : "");
	http_resp_header(w, "Set-Cookie", c);
}

static int login_reply(struct http_req *r, struct http_resp *w, struct login_result *lr)
{
	char exp[21];

	clock_fmt_iso(lr->expires_abs, exp);
	set_cookie(APP(r), w, lr->token, SVC_ABSOLUTE_S);
	http_resp_json(w, 200, json_pack("{s:s, s:s, s:I, s:s, s:b}", "token", lr->token,
					  "csrf_token", lr->csrf, "session_id",
					  (json_int_t)lr->session_id, "expires", exp,
					  "password_change_required", lr->must_change));
	return 0;
}

static int h_login(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct metrics *m = http_server_metrics(r->srv);
	json_t *b = http_req_json(r, login_spec, 2, e);
	struct svc *s = b ? svc_of(r, e) : NULL;
	struct login_result lr;
	char ra[24];
	int rc;

	if (s == NULL) {
		json_decref(b);
		return e->code;
	}
	rc = svc_login(s, str(b, "name"), str(b, "password"), r->client, &lr, e);
	json_decref(b);
	if (m != NULL && rc != BM_EBUSY)
		metrics_login(m, rc == 0);
	if (m != NULL && lr.locked)
		metrics_lockout(m);
	if (rc == BM_EBUSY) {
		snprintf(ra, sizeof ra, "%lld", (long long)lr.retry_after);
		http_resp_header(w, "Retry-After", ra);
	}
	if (rc == 0)
		rc = login_reply(r, w, &lr);
	sodium_memzero(&lr, sizeof lr);
	return rc;
}

static int h_logout(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);
	int rc;

	if (s == NULL || (rc = svc_logout(s, &r->actor, e)))
		return e->code;
	set_cookie(APP(r), w, "", 0);
	http_resp_bytes(w, 204, NULL, "", 0);
	return 0;
}

static int h_session(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);

	return reply(w, 200, s ? svc_whoami(s, &r->actor, e) : NULL, e);
}

static int h_sessions(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	const char *all = http_req_query(r, "all");
	struct svc_page pg;
	struct svc *s;
	int rc;

	if (all != NULL && strcmp(all, "true") != 0 && strcmp(all, "false") != 0)
		return bm_errf(e, BM_EUSAGE, "all", "all: true or false");
	if ((rc = page_parse(r, 's', &pg, &s, e)))
		return rc;
	return reply_page(w, s, 's', svc_session_list(s, &r->actor, all && strcmp(all, "true") == 0,
						      &pg, e), &pg, e);
}

static int h_session_revoke(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);
	int64_t id;

	if (!num_parse(http_req_param(r, "id"), 1, INT64_MAX, &id))
		return bm_errf(e, BM_ENOTFOUND, "id", "session not found");
	if (s == NULL || svc_session_revoke(s, &r->actor, id, e))
		return e->code;
	http_resp_bytes(w, 204, NULL, "", 0);
	return 0;
}

static const struct problem_field passwd_spec[] = {
	{"old_password", PF_STRING, true, SVC_PASSWORD_MAX - 1, 0},
	{"new_password", PF_STRING, true, SVC_PASSWORD_MAX - 1, 0},
};

static int h_password(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = http_req_json(r, passwd_spec, 2, e);
	struct svc *s = b ? svc_of(r, e) : NULL;
	int rc = s ? svc_password_change(s, &r->actor, str(b, "old_password"),
					 str(b, "new_password"), e) : e->code;

	json_decref(b);
	if (rc)
		return rc;
	set_cookie(APP(r), w, "", 0);
	http_resp_bytes(w, 204, NULL, "", 0);
	return 0;
}

/* ---- units and posts ---- */

static const struct problem_field unit_spec[] = {
	{"code", PF_STRING, true, 63, 0},
	{"name", PF_STRING, true, BM_NAME_MAX - 1, 0},
	{"parent", PF_STRING, false, 63, 0},
};

static int h_units(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc_page pg;
	struct svc *s;
	int rc = page_parse(r, 'u', &pg, &s, e);

	return rc ? rc : reply_page(w, s, 'u', svc_unit_list(s, &r->actor, &pg, e), &pg, e);
}

static int h_unit(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);

	return reply(w, 200, s ? svc_unit_show(s, &r->actor, http_req_param(r, "code"), e) : NULL,
		     e);
}

static int h_unit_add(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = http_req_json(r, unit_spec, 3, e);
	struct svc *s = b ? svc_of(r, e) : NULL;
	struct unit_input in;
	struct unit_rec u;
	int rc;

	if (s == NULL) {
		json_decref(b);
		return e->code;
	}
	in = (struct unit_input){str(b, "code"), str(b, "name"), str(b, "parent")};
	rc = svc_unit_add(s, &r->actor, &in, &u, e);
	json_decref(b);
	return rc ? rc : reply(w, 201, svc_unit_show(s, &r->actor, u.code, e), e);
}

static const struct problem_field post_spec[] = {
	{"code", PF_STRING, true, 63, 0},
	{"unit", PF_STRING, true, 63, 0},
	{"level", PF_STRING, true, 32, 0},
	{"compartments", PF_STRARRAY, false, 63, 32},
	{"title", PF_STRING, false, BM_NAME_MAX - 1, 0},
};

/* ["A", "B"] -> "A,B" (the service normalises and checks). */
static char *join(json_t *arr)
{
	struct buf b = BUF_INIT;
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v));
	return buf_steal(&b);
}

static int h_posts(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc_page pg;
	struct svc *s;
	int rc = page_parse(r, 'o', &pg, &s, e);

	return rc ? rc : reply_page(w, s, 'o', svc_post_list(s, &r->actor,
							     http_req_query(r, "unit"), &pg, e),
				    &pg, e);
}

static int h_post(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);

	return reply(w, 200, s ? svc_post_show(s, &r->actor, http_req_param(r, "code"), e) : NULL,
		     e);
}

static int h_post_add(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = http_req_json(r, post_spec, 5, e);
	struct svc *s = b ? svc_of(r, e) : NULL;
	struct post_input in;
	struct post_rec p;
	char *comps;
	int rc;

	if (s == NULL) {
		json_decref(b);
		return e->code;
	}
	comps = join(json_object_get(b, "compartments"));
	in = (struct post_input){str(b, "code"), str(b, "unit"), str(b, "level"), comps,
				 str(b, "title")};
	rc = svc_post_add(s, &r->actor, &in, &p, e);
	json_decref(b);
	free(comps);
	return rc ? rc : reply(w, 201, svc_post_show(s, &r->actor, p.code, e), e);
}

/* ---- persons ---- */

static const struct problem_field person_spec[] = {
	{"id", PF_STRING, true, 63, 0},
	{"name", PF_STRING, true, BM_NAME_MAX - 1, 0},
	{"unit", PF_STRING, true, 63, 0},
	{"national_id", PF_STRING, false, 63, 0},
	{"passport", PF_STRING, false, 63, 0},
};

static int etag(struct http_resp *w, int64_t version)
{
	char t[32];

	snprintf(t, sizeof t, "W/\"%lld\"", (long long)version);
	return http_resp_header(w, "ETag", t);
}

/* Sends a person's view with its ETag, rendered as text (no JSON tree). */
static int person_reply(struct svc *s, struct http_req *r, struct http_resp *w, int status,
			const char *id, bool reveal, struct bm_err *e)
{
	struct buf out = BUF_INIT;
	int64_t version = 0;
	int rc;

	buf_reserve(&out, 768);
	if ((rc = svc_person_show_text(s, &r->actor, id, reveal, &out, &version, e)) != 0) {
		buf_free(&out);
		return rc;
	}
	etag(w, version);
	w->status = status;
	w->ctype = "application/json";
	w->raw_len = out.len;
	w->raw = buf_steal(&out);
	return 0;
}

static int h_person(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	const char *rv = http_req_query(r, "reveal");
	struct svc *s = svc_of(r, e);

	if (rv != NULL && strcmp(rv, "true") != 0 && strcmp(rv, "false") != 0)
		return bm_errf(e, BM_EUSAGE, "reveal", "reveal: true or false");
	if (s == NULL)
		return e->code;
	return person_reply(s, r, w, 200, http_req_param(r, "id"), rv && strcmp(rv, "true") == 0,
			    e);
}

static int h_person_add(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = http_req_json(r, person_spec, 5, e);
	struct svc *s = b ? svc_of(r, e) : NULL;
	struct person_input in;
	struct person_rec p;
	int rc;

	if (s == NULL) {
		json_decref(b);
		return e->code;
	}
	in = (struct person_input){str(b, "id"), str(b, "name"), str(b, "unit"),
				   str(b, "national_id"), str(b, "passport")};
	rc = svc_person_add(s, &r->actor, &in, &p, e);
	json_decref(b);
	if (rc)
		return rc;
	return person_reply(s, r, w, 201, p.ext_id, false, e);
}

struct page {
	json_t *items;
};

static int page_add(void *ctx, json_t *v)
{
	json_array_append(((struct page *)ctx)->items, v);
	return 0;
}

static int h_persons(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct page out = {json_array()};
	struct person_query q = {0};
	struct svc_page pg;
	struct svc *s;
	int rc;

	q.unit = http_req_query(r, "unit");
	q.category = http_req_query(r, "category");
	q.state = http_req_query(r, "state");
	q.page = &pg;
	if ((rc = page_parse(r, 'p', &pg, &s, e)) == 0)
		rc = svc_person_list(s, &r->actor, &q, page_add, &out, e);
	if (rc != 0)
		return reply_ok(w, rc, out.items);
	return reply_page(w, s, 'p', out.items, &pg, e);
}

static const struct problem_field patch_spec[] = {
	{"name", PF_STRING, false, BM_NAME_MAX - 1, 0},
	{"unit", PF_STRING, false, 63, 0},
};

/* If-Match: W/"7", "7" (a weak comparison is what an edit needs), or "*"
 * (any current version, RFC 9110 13.1.1: *v = 0). */
static int if_match(const struct http_req *r, int64_t *v)
{
	const char *h = http_req_header(r, "If-Match");
	char digits[24];
	size_t n;

	if (h == NULL)
		return -1;
	if (strcmp(h, "*") == 0) {
		*v = 0;
		return 0;
	}
	if (strncmp(h, "W/", 2) == 0)
		h += 2;
	n = strlen(h);
	if (n < 3 || n > sizeof digits + 1 || h[0] != '"' || h[n - 1] != '"')
		return -2;
	memcpy(digits, h + 1, n - 2);
	digits[n - 2] = '\0';
	return num_parse(digits, 1, INT64_MAX, v) ? 0 : -2;
}

/* The answer to an update's If-Match, as if_match read it (m): 1 to go
 * on, else the 428 or 412 already in w (0). */
static int precondition(const struct http_req *r, struct http_resp *w, int m)
{
	if (m == -1)
		return reply_problem(r, w, 428, "precondition_required", "Precondition required",
				     "send If-Match with the ETag of the version you edited");
	if (m == -2)
		return reply_problem(r, w, 412, "precondition_failed", "Precondition failed",
				     "If-Match is not an ETag of this resource");
	return 1;
}

/* An edit's result rc: the service's BM_ECONFLICT (the version If-Match
 * named is no longer the stored one) is 412 with its reason. */
static int edited(const struct http_req *r, struct http_resp *w, int rc,
		  const struct bm_err *e)
{
	return rc == BM_ECONFLICT
		? reply_problem(r, w, 412, "precondition_failed", "Precondition failed", e->msg) : rc;
}

static int h_person_patch(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct person_patch in = {0};
	struct person_rec p;
	json_t *b;
	struct svc *s;
	int rc, m = if_match(r, &in.expected_version);

	if ((rc = precondition(r, w, m)) != 1)
		return rc;
	if ((b = http_req_json(r, patch_spec, 2, e)) == NULL || (s = svc_of(r, e)) == NULL) {
		json_decref(b);
		return e->code;
	}
	in.name = str(b, "name");
	in.unit = str(b, "unit");
	rc = svc_person_update(s, &r->actor, http_req_param(r, "id"), &in, &p, e);
	json_decref(b);
	if (rc)
		return edited(r, w, rc, e);
	return person_reply(s, r, w, 200, p.ext_id, false, e);
}

/* ---- appointments, imports, exports ---- */

static const struct problem_field appt_spec[] = {
	{"person", PF_STRING, true, 63, 0},
	{"post", PF_STRING, true, 63, 0},
	{"start", PF_STRING, false, 32, 0},
	{"end", PF_STRING, false, 32, 0},
};

static int h_appt_add(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = http_req_json(r, appt_spec, 4, e);
	struct svc *s = b ? svc_of(r, e) : NULL;
	struct appt_input in;
	struct appt_rec ap;
	int rc;

	if (s == NULL) {
		json_decref(b);
		return e->code;
	}
	in = (struct appt_input){str(b, "person"), str(b, "post"), str(b, "start"), str(b, "end")};
	rc = svc_appt_add(s, &r->actor, &in, &ap, e);
	if (rc == 0) /* in's strings belong to b */
		rc = reply(w, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)ap.id, "person",
					     in.person, "post", in.post), e);
	json_decref(b);
	return rc;
}

static const struct problem_field appt_end_spec[] = {
	{"date", PF_STRING, false, 32, 0},
};

/* The body is optional: none (or {}) ends the appointment today. */
static int h_appt_end(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = NULL;
	struct svc *s;
	int64_t id;
	int rc;

	if (id_param(r, "appointment", &id, e))
		return e->code;
	b = r->body_len ? http_req_json(r, appt_end_spec, 1, e) : json_object();
	s = b ? svc_of(r, e) : NULL;
	rc = s ? svc_appt_end(s, &r->actor, http_req_param(r, "id"), id, str(b, "date"), e)
	       : e->code;
	json_decref(b);
	if (rc)
		return rc;
	http_resp_bytes(w, 204, NULL, "", 0);
	return 0;
}

static int kind_of(const struct http_req *r, int *kind, struct bm_err *e)
{
	if (import_kind_parse(http_req_param(r, "kind"), kind) != 0)
		return bm_errf(e, BM_ENOTFOUND, "kind",
			       "no such kind: use units, posts, persons or appointments");
	return 0;
}

static int h_import(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct import_result res;
	struct svc *s;
	char hex[65];
	FILE *fp;
	int kind, rc;

	if ((rc = kind_of(r, &kind, e)))
		return rc;
	if (r->body_len == 0)
		return bm_errf(e, BM_EUSAGE, "body", "the request body is empty; CSV is expected");
	if ((s = svc_of(r, e)) == NULL)
		return e->code;
	if ((fp = fmemopen((void *)(uintptr_t)r->body, r->body_len, "r")) == NULL)
		return bm_errf(e, BM_EIO, NULL, "cannot read the request body");
	rc = svc_import(s, &r->actor, kind, fp, NULL, NULL, &res, e);
	fclose(fp);
	if (rc)
		return rc;
	hex_encode(res.sha256, 32, hex);
	return reply(w, 200, json_pack("{s:s, s:I, s:I, s:I, s:s}", "kind",
				       http_req_param(r, "kind"), "rows", (json_int_t)res.rows,
				       "added", (json_int_t)res.added, "unchanged",
				       (json_int_t)res.unchanged, "sha256", hex), e);
}

static int h_export(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s;
	char *data = NULL;
	size_t len = 0;
	FILE *fp;
	int kind, rc;

	if ((rc = kind_of(r, &kind, e)) || (s = svc_of(r, e)) == NULL)
		return rc ? rc : e->code;
	if ((fp = open_memstream(&data, &len)) == NULL)
		return bm_errf(e, BM_EIO, NULL, "out of memory");
	rc = svc_export(s, &r->actor, kind, fp, e);
	fclose(fp);
	if (rc == 0)
		http_resp_bytes(w, 200, "text/csv; charset=utf-8", data, len);
	free(data);
	return rc;
}

/* ---- policy and audit ---- */

/* The policy with its version as ETag, for an edit's If-Match. */
static int policy_reply(struct svc *s, struct http_req *r, struct http_resp *w,
			struct bm_err *e)
{
	json_t *v = svc_policy_show(s, &r->actor, e);

	if (v == NULL)
		return e->code;
	etag(w, json_integer_value(json_object_get(v, "version")));
	http_resp_json(w, 200, v);
	return 0;
}

static int h_policy(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);

	return s ? policy_reply(s, r, w, e) : e->code;
}

/* Stores a new version of the policy edited from the version If-Match
 * names: two officers editing at once cannot silently undo each other. */
static int h_policy_put(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s;
	int64_t expected = 0, v;
	int rc, m = if_match(r, &expected);

	if ((rc = precondition(r, w, m)) != 1)
		return rc;
	if ((s = svc_of(r, e)) == NULL)
		return e->code;
	rc = svc_policy_load(s, &r->actor, r->body, r->body_len, expected, &v, e);
	if (rc)
		return edited(r, w, rc, e);
	atomic_fetch_add(&APP(r)->gen, 1);
	return policy_reply(s, r, w, e);
}

static int h_policy_versions(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc_page pg;
	struct svc *s;
	int rc = page_parse(r, 'v', &pg, &s, e);

	return rc ? rc : reply_page(w, s, 'v', svc_policy_versions(s, &r->actor, &pg, e), &pg, e);
}

static int h_audit(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct page out = {json_array()};
	struct audit_query q = {0};
	struct svc_page pg;
	struct svc *s;
	int rc;

	q.since = http_req_query(r, "since");
	q.actor = http_req_query(r, "actor");
	q.subject = http_req_query(r, "subject");
	q.action = http_req_query(r, "action");
	q.page = &pg;
	if ((rc = page_parse(r, 'a', &pg, &s, e)) == 0)
		rc = svc_audit_log(s, &r->actor, &q, page_add, &out, e);
	if (rc != 0)
		return reply_ok(w, rc, out.items);
	return reply_page(w, s, 'a', out.items, &pg, e);
}

static int h_audit_verify(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct audit_verdict v;
	struct svc *s = svc_of(r, e);
	char head[65];

	if (s == NULL || svc_audit_verify(s, &r->actor, &v, e))
		return e->code;
	hex_encode(v.head, 32, head);
	return reply(w, 200, json_pack("{s:b, s:I, s:s, s:s?, s:I}", "ok", v.fault == AUDIT_OK,
				       "count", (json_int_t)v.count, "head", head, "fault",
				       v.fault ? audit_fault_name(v.fault) : NULL, "fault_seq",
				       (json_int_t)v.fault_seq), e);
}

/* ---- accounts and roles ---- */

static const struct problem_field account_spec[] = {
	{"name", PF_STRING, true, 63, 0},
	{"password", PF_STRING, false, SVC_PASSWORD_MAX - 1, 0},
	{"roles", PF_STRARRAY, false, 16, 7},
	{"scope", PF_STRING, false, 63, 0},
	{"person", PF_STRING, false, 63, 0},
};

static int h_accounts(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc_page pg;
	struct svc *s;
	int rc = page_parse(r, 'c', &pg, &s, e);

	return rc ? rc : reply_page(w, s, 'c', svc_account_list(s, &r->actor, &pg, e), &pg, e);
}

static int h_account_add(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = http_req_json(r, account_spec, 5, e);
	struct svc *s = b ? svc_of(r, e) : NULL;
	struct account_input in;
	char *roles;
	int rc;

	if (s == NULL) {
		json_decref(b);
		return e->code;
	}
	roles = join(json_object_get(b, "roles"));
	in = (struct account_input){str(b, "name"), str(b, "password"), roles, str(b, "scope"),
				    str(b, "person")};
	rc = svc_account_add(s, &r->actor, &in, e);
	free(roles);
	if (rc == 0)
		rc = reply(w, 201, svc_account_show(s, &r->actor, in.name, e), e);
	json_decref(b);
	return rc;
}

static int h_account_disable(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);
	const char *name = http_req_param(r, "name");

	if (s == NULL || svc_account_disable(s, &r->actor, name, e))
		return e->code;
	http_resp_bytes(w, 204, NULL, "", 0);
	return 0;
}

static const struct problem_field reset_spec[] = {
	{"password", PF_STRING, false, SVC_PASSWORD_MAX - 1, 0},
};

/* Sets a given password (204) or makes one up and returns it once (200);
 * either way the account's sessions end and a lockout is lifted. */
static int h_account_password(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = r->body_len ? http_req_json(r, reset_spec, 1, e) : json_object();
	struct svc *s = b ? svc_of(r, e) : NULL;
	const char *name = http_req_param(r, "name"), *given = str(b, "password");
	char pw[SVC_PASSWORD_MAX];
	int rc;

	if (s == NULL) {
		json_decref(b);
		return e->code;
	}
	if (given == NULL)
		svc_password_random(pw);
	rc = svc_account_passwd(s, &r->actor, name, given ? given : pw, e);
	json_decref(b);
	if (rc == 0 && given != NULL)
		http_resp_bytes(w, 204, NULL, "", 0);
	else if (rc == 0)
		http_resp_json(w, 200, json_pack("{s:s, s:s}", "name", name, "password", pw));
	sodium_memzero(pw, sizeof pw);
	return rc;
}

static const struct problem_field grant_spec[] = {
	{"scope", PF_STRING, false, 63, 0},
};

static int h_role_grant(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = r->body_len ? http_req_json(r, grant_spec, 1, e) : json_object();
	struct svc *s = b ? svc_of(r, e) : NULL;
	int rc = s ? svc_role_grant(s, &r->actor, http_req_param(r, "name"),
				    http_req_param(r, "role"), str(b, "scope"), e) : e->code;

	json_decref(b);
	if (rc)
		return rc;
	http_resp_bytes(w, 204, NULL, "", 0);
	return 0;
}

static int h_role_revoke(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);

	if (s == NULL || svc_role_revoke(s, &r->actor, http_req_param(r, "name"),
					 http_req_param(r, "role"), e))
		return e->code;
	http_resp_bytes(w, 204, NULL, "", 0);
	return 0;
}

/* ---- vetting: reviews, matters, suspension, activation ---- */

static const struct problem_field review_spec[] = {
	{"person", PF_STRING, true, 63, 0},
	{"level", PF_STRING, true, 32, 0},
};

static int h_review_open(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = http_req_json(r, review_spec, 2, e);
	struct svc *s = b ? svc_of(r, e) : NULL;
	json_t *v = s ? svc_review_open(s, &r->actor, str(b, "person"), str(b, "level"), e)
		      : NULL;

	json_decref(b);
	return reply(w, 201, v, e);
}

/* ?person=ID: that person's reviews in every state; without it, every
 * open review (due re-reviews opened by the maintenance thread among
 * them), within an officer's subtree; ?state= narrows or widens either.
 * Paged like the person list. */
static int h_reviews(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc_page pg;
	struct review_query q = {http_req_query(r, "person"), http_req_query(r, "state"), &pg};
	struct svc *s;
	int rc;

	if ((rc = page_parse(r, 'r', &pg, &s, e)))
		return rc;
	return reply_page(w, s, 'r', svc_review_list(s, &r->actor, &q, e), &pg, e);
}

/* A review (v stolen) with its version as ETag; a stale If-Match (the
 * service's BM_ECONFLICT) is 412. */
static int review_reply(const struct http_req *r, struct http_resp *w, json_t *v,
			struct bm_err *e)
{
	if (v == NULL && e->code == BM_ECONFLICT)
		return edited(r, w, e->code, e);
	if (v != NULL)
		etag(w, json_integer_value(json_object_get(v, "version")));
	return reply(w, 200, v, e);
}

/* A finding's If-Match, optional: without it the finding applies to the
 * review as it is (*expected 0).  1 to go on, else the 412 is in w (0).
 * A verdict requires it (h_review_decide). */
static int review_if_match(const struct http_req *r, struct http_resp *w, int64_t *expected)
{
	int m = if_match(r, expected);

	if (m == -1)
		*expected = 0;
	return m == -2 ? precondition(r, w, m) : 1;
}

static int h_review(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s;
	int64_t id;

	if (id_param(r, "id", &id, e) || (s = svc_of(r, e)) == NULL)
		return e->code;
	return review_reply(r, w, svc_review_show(s, &r->actor, id, e), e);
}

static const struct problem_field finding_spec[] = {
	{"finding", PF_STRING, true, 32, 0},
	{"note", PF_STRING, false, BM_REASON_MAX - 1, 0},
};

static int h_review_item(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = NULL, *v = NULL;
	struct svc *s;
	int64_t id, item, expected;
	int rc;

	if (id_param(r, "id", &id, e) || id_param(r, "item", &item, e))
		return e->code;
	if (item > 6)
		return bm_errf(e, BM_ENOTFOUND, "item", "item: 1 to 6");
	if ((rc = review_if_match(r, w, &expected)) != 1)
		return rc;
	if ((b = http_req_json(r, finding_spec, 2, e)) != NULL && (s = svc_of(r, e)) != NULL)
		v = svc_review_finding(s, &r->actor, id, (int)item, str(b, "finding"),
				       str(b, "note"), expected, e);
	json_decref(b);
	return review_reply(r, w, v, e);
}

static const struct problem_field verdict_spec[] = {
	{"approve", PF_BOOLEAN, true, 0, 0},
	{"reason", PF_STRING, true, BM_REASON_MAX - 1, 0},
};

static int h_review_decide(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = NULL, *v = NULL;
	struct svc *s;
	int64_t id, expected;
	int rc;

	if (id_param(r, "id", &id, e))
		return e->code;
	/* A verdict must be on the checklist its reviewer read: a finding
	 * changed in between (a concern added) would be approved unseen. */
	if ((rc = precondition(r, w, if_match(r, &expected))) != 1)
		return rc;
	if ((b = http_req_json(r, verdict_spec, 2, e)) != NULL && (s = svc_of(r, e)) != NULL)
		v = svc_review_decide(s, &r->actor, id, json_is_true(json_object_get(b, "approve")),
				      str(b, "reason"), expected, e);
	json_decref(b);
	return review_reply(r, w, v, e);
}

static const struct problem_field matter_spec[] = {
	{"person", PF_STRING, true, 63, 0},
	{"type", PF_STRING, true, 63, 0},
	{"detail", PF_STRING, false, BM_REASON_MAX - 1, 0},
};

static int h_matter(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = http_req_json(r, matter_spec, 3, e);
	struct svc *s = b ? svc_of(r, e) : NULL;
	json_t *v = s ? svc_matter_file(s, &r->actor, str(b, "person"), str(b, "type"),
					str(b, "detail"), e) : NULL;

	json_decref(b);
	return reply(w, 201, v, e);
}

static int h_person_matters(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc_page pg;
	struct svc *s;
	int rc = page_parse(r, 'm', &pg, &s, e);

	return rc ? rc : reply_page(w, s, 'm', svc_matter_list(s, &r->actor,
							       http_req_param(r, "id"), &pg, e),
				    &pg, e);
}

static const struct problem_field reason_spec[] = {
	{"reason", PF_STRING, true, BM_REASON_MAX - 1, 0},
};

/* suspend and reinstate share their shape: a reason, 204. */
static int person_reasoned(struct http_req *r, struct http_resp *w, struct bm_err *e,
			   int (*fn)(struct svc *, const struct actor *, const char *,
				     const char *, struct bm_err *))
{
	json_t *b = http_req_json(r, reason_spec, 1, e);
	struct svc *s = b ? svc_of(r, e) : NULL;
	int rc = s ? fn(s, &r->actor, http_req_param(r, "id"), str(b, "reason"), e) : e->code;

	json_decref(b);
	if (rc)
		return rc;
	http_resp_bytes(w, 204, NULL, "", 0);
	return 0;
}

static int h_suspend(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	return person_reasoned(r, w, e, svc_person_suspend);
}

static int h_reinstate(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	return person_reasoned(r, w, e, svc_person_reinstate);
}

static int h_activate(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);
	int rc = s ? svc_person_activate(s, &r->actor, http_req_param(r, "id"), e) : e->code;

	if (rc)
		return rc;
	http_resp_bytes(w, 204, NULL, "", 0);
	return 0;
}

/* ---- self-service: the person linked to the caller's account ---- */

static int h_me(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);

	return reply(w, 200, s ? svc_me(s, &r->actor, e) : NULL, e);
}

static int h_me_clearance(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);

	return reply(w, 200, s ? svc_me_clearance(s, &r->actor, clock_now(), e) : NULL, e);
}

static int h_me_matters(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc_page pg;
	struct svc *s;
	int rc = page_parse(r, 'M', &pg, &s, e);

	return rc ? rc : reply_page(w, s, 'M', svc_me_matters(s, &r->actor, &pg, e), &pg, e);
}

static const struct problem_field own_matter_spec[] = {
	{"type", PF_STRING, true, 63, 0},
	{"detail", PF_STRING, false, BM_REASON_MAX - 1, 0},
};

static int h_me_matter(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = http_req_json(r, own_matter_spec, 2, e);
	struct svc *s = b ? svc_of(r, e) : NULL;
	json_t *v = s ? svc_me_matter_file(s, &r->actor, str(b, "type"), str(b, "detail"), e)
		      : NULL;

	json_decref(b);
	return reply(w, 201, v, e);
}

/* ---- clearance, decisions, due list, compliance ---- */

static int h_clearance(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);

	return reply(w, 200, s ? svc_clearance(s, &r->actor, http_req_param(r, "id"),
					       clock_now(), e) : NULL, e);
}

/* Counts the decisions of v (one, or a batch's results) in /metrics. */
static void count_decisions(struct http_req *r, const json_t *v)
{
	struct metrics *m = http_server_metrics(r->srv);
	const json_t *res = json_object_get(v, "results"), *d;
	size_t i;

	if (m == NULL || v == NULL)
		return;
	if (res == NULL) {
		metrics_decision(m, json_is_true(json_object_get(v, "allow")));
		return;
	}
	json_array_foreach(res, i, d)
		metrics_decision(m, json_is_true(json_object_get(d, "allow")));
}

static int h_decide(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = problem_parse_object(r->body, r->body_len, e), *v = NULL;
	struct svc *s = b ? svc_of(r, e) : NULL;

	if (s != NULL)
		v = svc_decide(s, &r->actor, b, clock_now(), e);
	json_decref(b);
	count_decisions(r, v);
	return reply(w, 200, v, e);
}

/* The batch body is {"requests": [...]} and nothing else: a member it
 * does not know is named (field and text), as a single decision names
 * one, and a missing "requests" is said to be missing. */
static int batch_body_check(json_t *b, struct bm_err *e)
{
	const char *k;
	json_t *v;

	json_object_foreach(b, k, v) {
		char field[48];

		if (strcmp(k, "requests") == 0)
			continue;
		snprintf(field, sizeof field, "%.40s", k);
		return bm_errf(e, BM_EINVAL, field, "%s: unknown member (the body is "
			       "{\"requests\": [...]})", field);
	}
	if (json_object_get(b, "requests") == NULL)
		return bm_errf(e, BM_EINVAL, "requests", "requests: required (the body is "
			       "{\"requests\": [...]})");
	return 0;
}

/* The batch's answer is rendered as text by the service (a JSON tree of
 * 10,000 results would dominate the request). */
static int h_decide_batch(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct metrics *m = http_server_metrics(r->srv);
	struct buf out = BUF_INIT;
	struct svc *s = svc_of(r, e);
	size_t counts[2];
	json_t *b = NULL;
	int rc;

	if (s == NULL)
		return e->code;
	/* the plain form is decided from the bytes; anything else (and every
	 * error) goes through the strict parser and the general path */
	rc = svc_decide_batch_fast(s, &r->actor, r->body, r->body_len, clock_now(), &out, counts, e);
	if (rc == SVC_FAST_DECLINE) {
		if ((b = problem_parse_object(r->body, r->body_len, e)) == NULL)
			rc = e->code;
		else if ((rc = batch_body_check(b, e)) == 0)
			rc = svc_decide_batch_text(s, &r->actor, json_object_get(b, "requests"),
						   clock_now(), &out, counts, e);
		json_decref(b);
	}
	if (rc) {
		buf_free(&out);
		return rc;
	}
	if (m != NULL)
		metrics_decisions(m, counts[1], counts[0]);
	w->status = 200;
	w->ctype = "application/json";
	w->raw_len = out.len;
	w->raw = buf_steal(&out);
	return 0;
}

/* Paged like the other lists, but a page holds LIST_MAX items unless
 * limit says fewer: an officer works through the whole list. */
static int h_due(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	const char *within = http_req_query(r, "within"), *limit = http_req_query(r, "limit");
	struct due_query q = {.limit = LIST_MAX, .cursor = http_req_query(r, "cursor")};
	struct svc *s;

	if (limit != NULL && !num_parse(limit, 1, LIST_MAX, &q.limit))
		return bm_errf(e, BM_EUSAGE, "limit", "limit: an integer from 1 to %d", LIST_MAX);
	if (clock_parse_duration(within ? within : "90d", "within", &q.within, e) ||
	    (s = svc_of(r, e)) == NULL)
		return e->code;
	return reply(w, 200, svc_due(s, &r->actor, clock_now(), &q, e), e);
}

static int h_compliance(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct svc *s = svc_of(r, e);

	return reply(w, 200, s ? svc_report_compliance(s, &r->actor, http_req_query(r, "unit"),
						       clock_now(), e) : NULL, e);
}

/* The permission matrix as data: {"perm": ["role", ...]}.  Clients (the
 * web UI, the black-box tests) read it instead of keeping a copy. */
static int h_permissions(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *m = json_object();

	(void)r;
	for (int p = 0; p < PERM_COUNT; p++) {
		json_t *roles = json_array();

		for (int i = 0; i < ROLE_COUNT; i++)
			if (role_granting(p) & (1u << i))
				json_array_append_new(roles, json_string(role_name(1u << i)));
		json_object_set_new(m, perm_name(p), roles);
	}
	return reply(w, 200, m, e);
}

static int h_openapi(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	struct api *a = APP(r);

	if (a->openapi == NULL)
		return bm_errf(e, BM_ENOTFOUND, NULL, "the OpenAPI document is not installed");
	http_resp_bytes(w, 200, "application/json", a->openapi, a->openapi_len);
	return 0;
}

static const struct problem_field clock_spec[] = {
	{"now", PF_STRING, true, 32, 0},
};

/* Test hook (BAOMI_TEST_CLOCK=1 only): moves the server's clock. */
static int h_test_clock(struct http_req *r, struct http_resp *w, struct bm_err *e)
{
	json_t *b = http_req_json(r, clock_spec, 1, e);
	int64_t t;
	int rc;

	if (b == NULL)
		return e->code;
	rc = clock_parse(str(b, "now"), "now", &t, e);
	json_decref(b);
	if (rc)
		return rc;
	clock_set(t);
	http_resp_bytes(w, 204, NULL, "", 0);
	return 0;
}

#define W ROUTE_CSRF
/* Each route with the query parameters it takes (the last member): the
 * server refuses any other, so a list here and the route's parameters in
 * docs/openapi.yaml must agree (tests/http/docs.test.mjs).  Writes run on
 * the server's work lane, off the workers that answer decisions, unless
 * ROUTE_INLINE; so do the reads that scan the organisation (ROUTE_SLOW). */
static const struct http_route routes[] = {
	{"POST", "/v1/login", h_login, PERM_SESSION_OWN, ROUTE_PUBLIC | ROUTE_OFFLOAD, NULL},
	{"GET", "/v1/openapi.json", h_openapi, PERM_SESSION_OWN, ROUTE_PUBLIC, NULL},
	{"POST", "/v1/logout", h_logout, PERM_SESSION_OWN, W, NULL},
	{"GET", "/v1/session", h_session, PERM_SESSION_OWN, 0, NULL},
	{"GET", "/v1/sessions", h_sessions, PERM_SESSION_OWN, 0, "all limit cursor"},
	{"DELETE", "/v1/sessions/{id}", h_session_revoke, PERM_SESSION_OWN, W, NULL},
	{"POST", "/v1/password", h_password, PERM_SESSION_OWN, W | ROUTE_OFFLOAD, NULL},
	{"GET", "/v1/permissions", h_permissions, PERM_SESSION_OWN, 0, NULL},
	{"GET", "/v1/units", h_units, PERM_UNIT_READ, 0, "limit cursor"},
	{"POST", "/v1/units", h_unit_add, PERM_UNIT_WRITE, W, NULL},
	{"GET", "/v1/units/{code}", h_unit, PERM_UNIT_READ, 0, NULL},
	{"GET", "/v1/posts", h_posts, PERM_POST_READ, 0, "unit limit cursor"},
	{"POST", "/v1/posts", h_post_add, PERM_POST_WRITE, W, NULL},
	{"GET", "/v1/posts/{code}", h_post, PERM_POST_READ, 0, NULL},
	{"GET", "/v1/persons", h_persons, PERM_PERSON_READ, 0,
	 "unit category state limit cursor"},
	{"POST", "/v1/persons", h_person_add, PERM_PERSON_WRITE, W, NULL},
	{"GET", "/v1/persons/{id}", h_person, PERM_PERSON_READ, 0, "reveal"},
	{"PATCH", "/v1/persons/{id}", h_person_patch, PERM_PERSON_WRITE, W, NULL},
	{"POST", "/v1/appointments", h_appt_add, PERM_APPOINTMENT_WRITE, W, NULL},
	{"POST", "/v1/persons/{id}/appointments/{appointment}/end", h_appt_end,
	 PERM_APPOINTMENT_WRITE, W, NULL},
	{"POST", "/v1/imports/{kind}", h_import, PERM_IMPORT, W, NULL},
	{"GET", "/v1/exports/{kind}", h_export, PERM_EXPORT, ROUTE_SLOW, NULL},
	{"GET", "/v1/policy", h_policy, PERM_POLICY_READ, 0, NULL},
	{"PUT", "/v1/policy", h_policy_put, PERM_POLICY_WRITE, W, NULL},
	{"GET", "/v1/policy/versions", h_policy_versions, PERM_POLICY_READ, 0, "limit cursor"},
	{"GET", "/v1/audit", h_audit, PERM_AUDIT_READ, 0,
	 "since actor subject action limit cursor"},
	{"POST", "/v1/audit/verify", h_audit_verify, PERM_AUDIT_VERIFY, W, NULL},
	{"GET", "/v1/accounts", h_accounts, PERM_ACCOUNT_ADMIN, 0, "limit cursor"},
	{"POST", "/v1/accounts", h_account_add, PERM_ACCOUNT_ADMIN, W | ROUTE_OFFLOAD, NULL},
	{"POST", "/v1/accounts/{name}/disable", h_account_disable, PERM_ACCOUNT_ADMIN, W, NULL},
	{"POST", "/v1/accounts/{name}/password", h_account_password, PERM_ACCOUNT_ADMIN,
	 W | ROUTE_OFFLOAD, NULL},
	{"PUT", "/v1/accounts/{name}/roles/{role}", h_role_grant, PERM_ROLE_GRANT, W, NULL},
	{"DELETE", "/v1/accounts/{name}/roles/{role}", h_role_revoke, PERM_ROLE_GRANT, W, NULL},
	{"GET", "/v1/reviews", h_reviews, PERM_REVIEW_READ, 0, "person state limit cursor"},
	{"POST", "/v1/reviews", h_review_open, PERM_REVIEW_OPEN, W, NULL},
	{"GET", "/v1/reviews/{id}", h_review, PERM_REVIEW_READ, 0, NULL},
	{"PUT", "/v1/reviews/{id}/items/{item}", h_review_item, PERM_REVIEW_READ, W, NULL},
	{"POST", "/v1/reviews/{id}/decision", h_review_decide, PERM_REVIEW_DECIDE, W, NULL},
	{"POST", "/v1/matters", h_matter, PERM_MATTER_FILE_ANY, W, NULL},
	{"GET", "/v1/persons/{id}/matters", h_person_matters, PERM_MATTER_READ, 0,
	 "limit cursor"},
	{"POST", "/v1/persons/{id}/suspend", h_suspend, PERM_SUSPEND, W, NULL},
	{"POST", "/v1/persons/{id}/reinstate", h_reinstate, PERM_SUSPEND, W, NULL},
	{"POST", "/v1/persons/{id}/activate", h_activate, PERM_PERSON_WRITE, W, NULL},
	{"GET", "/v1/persons/{id}/clearance", h_clearance, PERM_CLEARANCE_READ, 0, NULL},
	{"POST", "/v1/decisions", h_decide, PERM_DECIDE, W | ROUTE_INLINE, NULL},
	{"POST", "/v1/decisions/batch", h_decide_batch, PERM_DECIDE,
	 W | ROUTE_BIG_BODY | ROUTE_INLINE, NULL},
	{"GET", "/v1/due", h_due, PERM_DUE_READ, ROUTE_SLOW, "within limit cursor"},
	{"GET", "/v1/me", h_me, PERM_PERSON_SELF_READ, 0, NULL},
	{"GET", "/v1/me/clearance", h_me_clearance, PERM_CLEARANCE_SELF_READ, 0, NULL},
	{"GET", "/v1/me/matters", h_me_matters, PERM_PERSON_SELF_READ, 0, "limit cursor"},
	{"POST", "/v1/me/matters", h_me_matter, PERM_MATTER_FILE_OWN, W, NULL},
	{"GET", "/v1/reports/compliance", h_compliance, PERM_REPORT_READ, ROUTE_SLOW,
	 "unit"},
};
static const struct http_route test_clock_route = {
	"POST", "/v1/test/clock", h_test_clock, PERM_SESSION_OWN, ROUTE_PUBLIC, NULL};
#undef W

/* ---- the auth hook ---- */

/* Copies the value of cookie name from a Cookie header into out (cap). */
static const char *cookie_value(const char *h, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	while (h != NULL && *h) {
		h += strspn(h, " \t;");
		if (strncmp(h, name, n) == 0 && h[n] == '=') {
			size_t len = strcspn(h + n + 1, ";");

			if (len >= cap)
				return NULL;
			memcpy(out, h + n + 1, len);
			out[len] = '\0';
			return out;
		}
		h = strchr(h, ';');
	}
	return NULL;
}

static int api_auth(void *app, struct http_req *r, struct bm_err *e)
{
	const char *h = http_req_header(r, "Authorization"), *tok = NULL, *got;
	char cookie[80], want[65];
	struct svc *s;
	int rc;

	(void)app;
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0)
		tok = h + 7;
	else if (h != NULL)
		return bm_errf(e, BM_EAUTH, NULL, "only Bearer authorization is accepted");
	else
		tok = cookie_value(http_req_header(r, "Cookie"), COOKIE, cookie, sizeof cookie);
	if (tok == NULL)
		return bm_errf(e, BM_EAUTH, NULL, "log in first (POST /v1/login)");
	if ((s = svc_of(r, e)) == NULL)
		return e->code;
	r->app_req = s;
	if ((rc = svc_request_begin(s, e)) || (rc = svc_session_resolve(s, tok, &r->actor, e)))
		return rc;
	/* a temporary password allows nothing but changing it: say so here,
	 * before the role check would answer with a bare permission name */
	if (r->actor.must_change && (rc = svc_actor_allow(&r->actor, r->match.route->perm, e)))
		return rc;
	if (h == NULL && (r->match.route->flags & ROUTE_CSRF)) {
		svc_session_csrf(tok, want);
		got = http_req_header(r, "X-CSRF-Token");
		if (got == NULL || strlen(got) != 64 || sodium_memcmp(got, want, 64) != 0)
			return bm_errf(e, BM_EPERM, "X-CSRF-Token", "a write authenticated by cookie "
				       "needs the X-CSRF-Token header given at login");
	}
	return 0;
}

/* Ends the request the auth hook began (its read snapshot, deferred
 * session touch) before the thread serves anything else. */
static void api_done(void *app, struct http_req *r)
{
	(void)app;
	if (r->app_req != NULL)
		svc_request_end(r->app_req);
	r->app_req = NULL;
}

/* Ready once the maintenance thread has loaded the shared snapshot. */
static bool api_ready(void *app)
{
	const struct api *a = app;

	return svc_snapshare_ready(a->share);
}

/* ---- life cycle ---- */

static void load_openapi(struct api *a)
{
	FILE *fp = a->o.openapi_path ? fopen(a->o.openapi_path, "rb") : NULL;
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;

	if (fp == NULL)
		return;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	a->openapi_len = b.len;
	a->openapi = buf_steal(&b);
}

/* Another process stored a policy: every thread re-reads it. */
static void policy_changed(void *app)
{
	struct api *a = app;

	atomic_fetch_add(&a->gen, 1);
}

/* The maintenance thread loads the shared snapshot in the background
 * (readyz answers 503 until it has), then keeps it in step with other
 * processes' writes and opens due re-reviews. */
static int start_maint(struct api *a, struct bm_err *e)
{
	struct maint_opts mo = {a->o.paths, a->share, a->o.maintenance_interval_s, 0,
				policy_changed, a};

	return maint_start(&mo, &a->maint, e);
}

int api_new(const struct api_opts *o, struct api **out, struct bm_err *e)
{
	struct api *a = xcalloc(1, sizeof *a);
	struct svc *probe = NULL;
	int rc;

	a->o = *o;
	pthread_key_create(&a->key, NULL);
	pthread_mutex_init(&a->mu, NULL);
	a->rt = router_new();
	a->share = svc_snapshare_new();
	if ((rc = svc_open(&o->paths, &probe, e)) ||
	    (rc = router_add_all(a->rt, routes, sizeof routes / sizeof routes[0], e)) ||
	    (o->test_clock && (rc = router_add(a->rt, &test_clock_route, e))) ||
	    (rc = start_maint(a, e)) || (rc = pin_start(&o->paths, &a->pin, e))) {
		svc_close(probe);
		api_free(a);
		return rc;
	}
	svc_close(probe);
	load_openapi(a);
	*out = a;
	return 0;
}

void api_free(struct api *a)
{
	if (a == NULL)
		return;
	maint_stop(a->maint);
	pin_stop(a->pin);
	while (a->all != NULL) {
		struct tsvc *t = a->all;

		a->all = t->next;
		svc_close(t->svc);
		free(t);
	}
	svc_snapshare_free(a->share);
	router_free(a->rt);
	pthread_key_delete(a->key);
	pthread_mutex_destroy(&a->mu);
	free(a->openapi);
	free(a);
}

void api_server_opts(struct api *a, struct http_opts *o)
{
	o->router = a->rt;
	o->auth = api_auth;
	o->ready = api_ready;
	o->done = api_done;
	o->app = a;
}
