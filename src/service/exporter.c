/*
 * exporter.c - CSV exports that the importer accepts back.
 *
 * Sensitive columns (national id, passport) are never exported: an export
 * is a file that leaves the system, and sealed values are bound to this
 * database's key anyway.  Exports are reads and are not audited.  An
 * officer's export holds its subtree only: nothing outside it may leave
 * through a file when it may not be read through the API.
 */
#include "svc_internal.h"
#include "../core/level.h"
#include "../core/role.h"
#include "../lib/clock.h"
#include "../lib/csv.h"

#include <string.h>

struct exp {
	struct svc *s;
	struct svc_scope sc;
	FILE *out;
	struct buf line;
	int rc;
};

static int emit(struct exp *x, const char *const *f, size_t n)
{
	buf_reset(&x->line);
	csv_put_record(&x->line, f, n);
	if (fwrite(x->line.p, 1, x->line.len, x->out) != x->line.len) {
		x->rc = BM_EIO;
		return 1;
	}
	return 0;
}

static int unit_row(void *ctx, const struct unit_rec *u)
{
	struct exp *x = ctx;
	char parent[BM_CODE_MAX];
	const char *f[] = {u->code, u->name, svc__unit_code(x->s, u->parent_id, parent)};

	/* The subtree's root is exported as a root: its parent is outside. */
	if (!svc__scope_has(&x->sc, u->id))
		return 0;
	if (!svc__scope_has(&x->sc, u->parent_id))
		f[2] = "";
	return emit(x, f, 3);
}

static int post_row(void *ctx, const struct post_rec *p)
{
	struct exp *x = ctx;
	char unit[BM_CODE_MAX];
	const char *f[] = {p->code, svc__unit_code(x->s, p->unit_id, unit), level_name(p->level),
			   p->compartments, p->title};

	if (!svc__scope_has(&x->sc, p->unit_id))
		return 0;
	return emit(x, f, 5);
}

static int person_row(void *ctx, const struct person_rec *p)
{
	struct exp *x = ctx;
	char unit[BM_CODE_MAX];
	const char *f[] = {p->ext_id, p->name, svc__unit_code(x->s, p->unit_id, unit)};

	return emit(x, f, 3);
}

struct appt_exp {
	struct exp *x;
	const char *person;
};

static int appt_row(void *ctx, const struct appt_rec *r)
{
	struct appt_exp *ax = ctx;
	struct bm_err e = BM_ERR_INIT;
	struct post_rec p;
	char start[11], end[11] = "";
	const char *f[4];

	if (ST(ax->x->s)->post_get(ax->x->s->st, r->post_id, NULL, &p, &e)) {
		bm_err_clear(&e);
		ax->x->rc = BM_EIO;
		return 1;
	}
	if (!svc__scope_has(&ax->x->sc, p.unit_id))
		return 0;
	clock_fmt_date(r->start, start);
	if (r->end)
		clock_fmt_date(r->end, end);
	f[0] = ax->person;
	f[1] = p.code;
	f[2] = start;
	f[3] = end;
	return emit(ax->x, f, 4);
}

static int person_appts(void *ctx, const struct person_rec *p)
{
	struct exp *x = ctx;
	struct appt_exp ax = {x, p->ext_id};
	struct bm_err e = BM_ERR_INIT;
	int rc = ST(x->s)->appt_list(x->s->st, p->id, appt_row, &ax, &e);

	bm_err_clear(&e);
	return rc;
}

static const char *const headers[][5] = {
	{"code", "name", "parent"},
	{"code", "unit", "level", "compartments", "title"},
	{"id", "name", "unit"},
	{"person", "post", "start", "end"},
};
static const size_t nheaders[] = {3, 5, 3, 4};

int svc_export(struct svc *s, const struct actor *a, int kind, FILE *out, struct bm_err *e)
{
	struct exp x = {.s = s, .out = out};
	struct person_filter all = {.level = -1, .state = -1};
	int rc;

	if ((rc = svc__allow(a, PERM_EXPORT, e)))
		return rc;
	if (kind < 0 || kind > IMPORT_APPOINTMENTS)
		return bm_errf(e, BM_EUSAGE, "kind", "unknown export kind");
	if ((rc = svc__scope_load(s, a, &x.sc, e)))
		return rc;
	if (!x.sc.all)
		all.unit_root = a->scope_unit;
	if (emit(&x, headers[kind], nheaders[kind]) == 0) {
		if (kind == IMPORT_UNITS)
			rc = ST(s)->unit_list(s->st, unit_row, &x, e);
		else if (kind == IMPORT_POSTS)
			rc = ST(s)->post_list(s->st, 0, post_row, &x, e);
		else
			rc = ST(s)->person_list(s->st, &all,
						kind == IMPORT_PERSONS ? person_row : person_appts,
						&x, e);
	}
	buf_free(&x.line);
	svc__scope_free(&x.sc);
	if (x.rc || fflush(out) != 0)
		return bm_errf(e, BM_EIO, NULL, "export: write failed");
	return rc > 0 ? 0 : rc;
}
