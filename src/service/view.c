/*
 * view.c - the one JSON shape of each record, used by the CLI's --json and
 * by the HTTP API alike.  Field names are snake_case and stable; instants are
 * ISO 8601 UTC; enumerations appear as code names with Chinese labels beside
 * them for display.  Sensitive fields are omitted, masked (last four
 * characters) or shown in clear, as the caller chose and was allowed.
 */
#include "svc_internal.h"
#include "../core/level.h"
#include "../core/lifecycle.h"
#include "../lib/clock.h"
#include "../lib/jdump.h"

#include <string.h>

const char *svc__unit_code(struct svc *s, int64_t id, char out[BM_CODE_MAX])
{
	struct unit_rec u;
	size_t slot = (size_t)id % 256;
	struct bm_err e = BM_ERR_INIT;

	if (s->ucache[slot].id == id && id != 0)
		return s->ucache[slot].code;
	out[0] = '\0';
	if (id == 0 || ST(s)->unit_get(s->st, id, NULL, &u, &e) != 0) {
		bm_err_clear(&e);
		return out;
	}
	s->ucache[slot].id = id;
	memcpy(s->ucache[slot].code, u.code, sizeof u.code);
	return s->ucache[slot].code;
}

json_t *svc__compartments_json(const char *list)
{
	json_t *arr = json_array();
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		json_array_append_new(arr, json_stringn(p, n));
		p = comma ? comma + 1 : p + n;
	}
	return arr;
}

json_t *svc__unit_json(struct svc *s, const struct unit_rec *u)
{
	char parent[BM_CODE_MAX];
	const char *pc = svc__unit_code(s, u->parent_id, parent);

	return json_pack("{s:s, s:s, s:o, s:I, s:o, s:o}", "code", u->code, "name", u->name,
			 "parent", pc[0] ? json_string(pc) : json_null(), "version",
			 (json_int_t)u->version, "created", svc__time_json(u->created), "updated",
			 svc__time_json(u->updated));
}

json_t *svc__post_json(struct svc *s, const struct post_rec *p)
{
	char unit[BM_CODE_MAX];

	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:o, s:s, s:I, s:o}", "code", p->code,
			 "unit", svc__unit_code(s, p->unit_id, unit), "level",
			 level_name(p->level), "level_zh", level_name_zh(p->level), "level_number",
			 p->level, "compartments", svc__compartments_json(p->compartments),
			 "title", p->title, "version", (json_int_t)p->version, "created",
			 svc__time_json(p->created));
}

/* "110101199003071234" -> "**************1234" (at most 63 characters). */
static void mask_into(const char *clear, char out[64])
{
	size_t n = strlen(clear);

	if (n >= 64)
		n = 63;
	for (size_t i = 0; i < n; i++)
		out[i] = i + 4 < n ? '*' : clear[i];
	out[n] = '\0';
}

/* Opens one sealed field (f->len > 0) into pt (the caller frees it). */
static int open_sealed(struct svc *s, const struct person_rec *p, const char *column,
		       const struct sealed *f, struct buf *pt)
{
	struct bm_err e = BM_ERR_INIT;
	int rc = crypto_open(s->keys, "persons", column, p->ext_id, f->ct, f->len, pt, &e);

	bm_err_clear(&e);
	return rc;
}

/* ---- the full person view, as text ----
 * The one definition of a person's full view (record, sealed fields masked
 * or clear, appointments with their posts), written straight into a
 * buffer in jdump's compact form: a person GET is the API's most frequent
 * request, and building, packing and freeing a tree was a fifth of its
 * cost.  Callers that need a tree parse this text (persons.c). */

/* key is the literal text before the value, e.g. ",\"name\":". */
static void t_str(struct buf *b, const char *key, const char *v)
{
	buf_puts(b, key);
	jdump_str(b, v, strlen(v));
}

static void t_int(struct buf *b, const char *key, int64_t v)
{
	buf_puts(b, key);
	jdump_int(b, v);
}

/* An instant as an ISO timestamp, or only its date; null when 0. */
static void t_time(struct buf *b, const char *key, int64_t t, bool date_only)
{
	char d[21];

	buf_puts(b, key);
	if (t == 0) {
		buf_puts(b, "null");
		return;
	}
	if (date_only)
		clock_fmt_date(t, d);
	else
		clock_fmt_iso(t, d);
	jdump_str(b, d, strlen(d));
}

/* The comma-separated list as svc__compartments_json splits it. */
static void t_comps(struct buf *b, const char *key, const char *list)
{
	const char *p = list;

	buf_puts(b, key);
	buf_putc(b, '[');
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (p != list)
			buf_putc(b, ',');
		jdump_str(b, p, n);
		p = comma ? comma + 1 : p + n;
	}
	buf_putc(b, ']');
}

/* One sealed field, masked or clear; null when absent.  Nonzero when it
 * fails to open. */
static int t_sealed(struct svc *s, struct buf *b, const char *key, const struct person_rec *p,
		    const char *column, const struct sealed *f, int mode)
{
	struct buf pt = BUF_INIT;
	char m[64];
	int rc;

	buf_puts(b, key);
	if (f->len == 0) {
		buf_puts(b, "null");
		return 0;
	}
	rc = open_sealed(s, p, column, f, &pt);
	if (rc == 0 && mode == SENSITIVE_CLEAR) {
		jdump_str(b, pt.p, pt.len);
	} else if (rc == 0) {
		mask_into(buf_cstr(&pt), m);
		jdump_str(b, m, strlen(m));
	}
	buf_free(&pt);
	return rc;
}

struct appt_view {
	struct svc *s;
	const struct actor *a;     /* NULL: every appointment */
	struct buf *b;
	int rc;
	struct bm_err *e;
};

/* May a see an appointment on post_code?  An officer does not see one on a
 * post outside the subtree: that post is "not found" to them everywhere. */
static int appt_visible(struct appt_view *v, const char *post_code)
{
	struct post_rec post;
	int rc;

	if (v->a == NULL || !svc__actor_scoped(v->a))
		return 1;
	if ((rc = ST(v->s)->post_get(v->s->st, 0, post_code, &post, v->e)))
		return rc;
	rc = svc__scope_check(v->s, v->a, post.unit_id, "post", "post", v->e);
	if (rc == BM_ENOTFOUND) {
		bm_err_clear(v->e);
		return 0;
	}
	return rc == 0 ? 1 : rc;
}

/* One appointment object, after a comma when it is not the first. */
static int t_appt(void *ctx, const struct appt_rec *r, const char *post_code, int post_level)
{
	struct appt_view *v = ctx;
	struct buf *b = v->b;
	int vis = appt_visible(v, post_code);

	if (vis < 0) {
		v->rc = vis;
		return 1;
	}
	if (vis == 0)
		return 0;
	if (b->p[b->len - 1] != '[')
		buf_putc(b, ',');
	t_int(b, "{\"id\":", r->id);
	t_str(b, ",\"post\":", post_code);
	t_str(b, ",\"level\":", level_name(post_level));
	t_time(b, ",\"start\":", r->start, true);
	t_time(b, ",\"end\":", r->end, true);
	buf_puts(b, r->end == 0 ? ",\"open\":true}" : ",\"open\":false}");
	return 0;
}

/* The record's own fields, from the opening brace: shared by both views. */
static void t_person_record(struct svc *s, const struct person_rec *p, struct buf *b)
{
	char unit[BM_CODE_MAX];

	t_str(b, "{\"id\":", p->ext_id);
	t_str(b, ",\"name\":", p->name);
	t_str(b, ",\"unit\":", svc__unit_code(s, p->unit_id, unit));
	t_str(b, ",\"state\":", state_name(p->state));
	t_str(b, ",\"state_zh\":", state_name_zh(p->state));
	t_str(b, ",\"category\":", category_name(p->level));
	t_str(b, ",\"category_zh\":", category_name_zh(p->level));
	t_str(b, ",\"level\":", level_name(p->level));
	t_comps(b, ",\"compartments\":", p->compartments);
	t_int(b, ",\"version\":", p->version);
	t_time(b, ",\"created\":", p->created, false);
	t_time(b, ",\"updated\":", p->updated, false);
}

/* The short view of a person in lists: the record without its sealed
 * fields, only whether they are present.  NULL only if the text does not
 * parse, which would be a bug in this file. */
json_t *svc__person_json(struct svc *s, const struct person_rec *p)
{
	struct buf b = BUF_INIT;
	json_t *v;

	t_person_record(s, p, &b);
	buf_puts(&b, p->national_id.len > 0 ? ",\"has_national_id\":true"
					    : ",\"has_national_id\":false");
	buf_puts(&b, p->passport.len > 0 ? ",\"has_passport\":true}" : ",\"has_passport\":false}");
	v = json_loadb(b.p, b.len, 0, NULL);
	buf_free(&b);
	return v;
}

int svc__person_view_text(struct svc *s, const struct actor *a, const struct person_rec *p,
			  int sensitive, struct buf *b, struct bm_err *e)
{
	struct appt_view v = {s, a, b, 0, e};

	t_person_record(s, p, b);
	if (t_sealed(s, b, ",\"national_id\":", p, "national_id", &p->national_id, sensitive) ||
	    t_sealed(s, b, ",\"passport\":", p, "passport", &p->passport, sensitive))
		return bm_errf(e, BM_ECRYPTO, "id", "sensitive fields of person %s failed to "
			       "open: tampered with or sealed under another key", p->ext_id);
	buf_puts(b, ",\"appointments\":[");
	if (ST(s)->appt_posts(s->st, p->id, t_appt, &v, e) || v.rc)
		return v.rc ? v.rc : e->code ? e->code : BM_EINTERNAL;
	buf_puts(b, "]}");
	return 0;
}
