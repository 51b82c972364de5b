/*
 * importer.c - all-or-nothing CSV import of units, posts, persons and
 * appointments.
 *
 * The whole file is applied inside one write transaction.  Every row is
 * validated by the same per-record function a single add uses; a bad row
 * does not stop the walk, it is reported (line, column, reason) and the
 * walk goes on so the report lists every bad line.  At the end, any error
 * rolls the transaction back, so nothing is written; otherwise one audit
 * event records the file's SHA-256 and the row counts and the transaction
 * commits.  A process killed mid-import leaves the database as it was:
 * SQLite discards the uncommitted transaction on the next open.
 */
#include "svc_internal.h"
#include "../core/role.h"
#include "../lib/csv.h"
#include "../lib/mem.h"
#include "../lib/strmap.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

#define MAXCOLS 6

struct colspec {
	const char *name;
	const char *alias;
	bool required;
};

static const struct colspec specs[][MAXCOLS] = {
	[IMPORT_UNITS] = {{"code", NULL, true}, {"name", NULL, true}, {"parent", NULL, false}},
	[IMPORT_POSTS] = {{"code", NULL, true}, {"unit", NULL, true}, {"level", NULL, true},
			  {"compartments", NULL, false}, {"title", NULL, false}},
	[IMPORT_PERSONS] = {{"id", "external_id", true}, {"name", NULL, true},
			    {"unit", NULL, true}, {"national_id", NULL, false},
			    {"passport", NULL, false}},
	[IMPORT_APPOINTMENTS] = {{"person", NULL, true}, {"post", NULL, true},
				 {"start", NULL, false}, {"end", NULL, false}},
};

static const char *kind_names[] = {"units", "posts", "persons", "appointments"};

struct deferred {                 /* a unit row waiting for its parent */
	long line;
	char *f[3];
};

struct imp {
	struct svc *s;
	struct svc_scope sc;          /* an officer imports into its subtree only */
	int kind;
	struct bm_err *e;
	int col[MAXCOLS];             /* spec column -> file column, -1 when absent */
	size_t nfile;                 /* columns in the header */
	struct strmap *seen;          /* keys added by this import -> line */
	struct strmap *units;         /* unit code -> id */
	struct import_result *res;
	struct bm_sha256 sha;
	struct deferred *defer;
	size_t ndefer, capdefer;
};

int import_kind_parse(const char *s, int *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, kind_names[i]) == 0) {
			*out = i;
			return 0;
		}
	return BM_EUSAGE;
}

static void tap(void *ctx, const void *p, size_t n)
{
	sha256_update(&((struct imp *)ctx)->sha, p, n);
}

static int spec_index(int kind, const char *name)
{
	for (int i = 0; i < MAXCOLS && specs[kind][i].name; i++)
		if (strcasecmp(name, specs[kind][i].name) == 0 ||
		    (specs[kind][i].alias && strcasecmp(name, specs[kind][i].alias) == 0))
			return i;
	return -1;
}

/* Maps header names to spec columns; reports unknown, repeated and missing ones. */
static int read_header(struct imp *im, const struct csv_record *h)
{
	size_t before = im->e->total;

	for (int i = 0; i < MAXCOLS; i++)
		im->col[i] = -1;
	im->nfile = h->nfields;
	for (size_t c = 0; c < h->nfields; c++) {
		int k = spec_index(im->kind, h->fields[c]);

		if (k < 0)
			bm_err_add(im->e, h->line, h->fields[c], "column %zu: unknown column \"%.60s\"",
				   c + 1, h->fields[c]);
		else if (im->col[k] >= 0)
			bm_err_add(im->e, h->line, h->fields[c], "column %zu: column \"%s\" repeated",
				   c + 1, specs[im->kind][k].name);
		else
			im->col[k] = (int)c;
	}
	for (int i = 0; i < MAXCOLS && specs[im->kind][i].name; i++)
		if (specs[im->kind][i].required && im->col[i] < 0)
			bm_err_add(im->e, h->line, specs[im->kind][i].name,
				   "missing required column \"%s\"", specs[im->kind][i].name);
	return im->e->total > before ? BM_EINVAL : 0;
}

/* The field for spec column i, or NULL when the file has no such column. */
static const char *fld(const struct imp *im, const struct csv_record *r, int i)
{
	return im->col[i] < 0 ? NULL : r->fields[im->col[i]];
}

static void row_error(struct imp *im, long line, struct bm_err *re)
{
	bm_err_add(im->e, line, re->field[0] ? re->field : "row", "%s", re->msg);
	bm_err_clear(re);
}

/* An insert refused as existing (ins: why): the second of an id is a
 * duplicate when this import added the first, an unchanged row when the
 * stored record is identical, else a conflict; with no such id, another
 * person holds the row's national id or passport number. */
static void person_exists(struct imp *im, long line, const struct person_rec *r,
			  struct bm_err *ins)
{
	struct bm_err re = BM_ERR_INIT;
	struct person_rec old;
	int64_t first;
	int rc;

	if (strmap_get(im->seen, r->ext_id, strlen(r->ext_id), &first)) {
		bm_err_add(im->e, line, "id", "duplicate id %s (first at line %lld)", r->ext_id,
			   (long long)first);
		return;
	}
	if ((rc = ST(im->s)->person_get(im->s->st, 0, r->ext_id, &old, &re)) != 0) {
		row_error(im, line, rc == BM_ENOTFOUND ? ins : &re);
		bm_err_clear(&re);
		return;
	}
	if (strcmp(old.name, r->name) == 0 && old.unit_id == r->unit_id &&
	    old.national_id.len == r->national_id.len && old.passport.len == r->passport.len &&
	    memcmp(old.national_id.idx, r->national_id.idx, r->national_id.len ? 32 : 0) == 0 &&
	    memcmp(old.passport.idx, r->passport.idx, r->passport.len ? 32 : 0) == 0) {
		im->res->unchanged++;
		return;
	}
	bm_err_add(im->e, line, "id", "id %s already exists with different data", r->ext_id);
}

/* The writing half of a person row: insert, or explain why not. */
static void insert_person(struct imp *im, long line, struct person_rec *p)
{
	struct bm_err re = BM_ERR_INIT;
	int rc = ST(im->s)->person_insert(im->s->st, p, &re);

	if (rc == BM_EEXIST) {
		person_exists(im, line, p, &re);
		bm_err_clear(&re);
	} else if (rc) {
		row_error(im, line, &re);
	} else {
		svc__touch(im->s, p->id);
		strmap_put(im->seen, p->ext_id, strlen(p->ext_id), line);
		im->res->added++;
	}
}

/* The pure half: validation and sealing, no database (units come from
 * the preloaded map), so it can run on the producer thread. */
static int build_person(struct imp *im, const struct csv_record *r, struct person_rec *p)
{
	struct person_input in = {fld(im, r, 0), fld(im, r, 1), fld(im, r, 2), fld(im, r, 3),
				  fld(im, r, 4)};
	struct bm_err re = BM_ERR_INIT;
	int64_t uid = 0;
	int rc = svc__check_code("unit", in.unit, &re);   /* empty: "unit: required" */

	if (rc == 0 && (!strmap_get(im->units, in.unit, strlen(in.unit), &uid) ||
			!svc__scope_has(&im->sc, uid)))
		rc = bm_errf(&re, BM_EINVAL, "unit", "unit %.64s not found", in.unit);
	if (rc == 0 && svc__person_build(im->s, &in, uid, p, &re) == 0)
		return 0;
	row_error(im, r->line, &re);
	return -1;
}


/* For units and posts: a second row with the same code is a duplicate when
 * this import added the first, otherwise the stored record wins only if
 * identical (checked by the caller through same()). */
static void code_exists(struct imp *im, long line, const char *code, bool same)
{
	int64_t first;

	if (strmap_get(im->seen, code, strlen(code), &first))
		bm_err_add(im->e, line, "code", "duplicate code %s (first at line %lld)", code,
			   (long long)first);
	else if (same)
		im->res->unchanged++;
	else
		bm_err_add(im->e, line, "code", "code %s already exists with different data", code);
}

static bool unit_same(struct imp *im, const struct unit_input *in)
{
	struct bm_err re = BM_ERR_INIT;
	struct unit_rec u, parent;
	bool same = false;

	if (ST(im->s)->unit_get(im->s->st, 0, in->code, &u, &re) == 0) {
		const char *pc = "";

		if (u.parent_id && ST(im->s)->unit_get(im->s->st, u.parent_id, NULL, &parent, &re) == 0)
			pc = parent.code;
		same = strcmp(u.name, in->name) == 0 && strcmp(pc, in->parent ? in->parent : "") == 0;
	}
	bm_err_clear(&re);
	return same;
}

/* An officer adds units only below a unit of its subtree; a parent
 * outside it reads as one that does not exist.  Returns 1 when the row
 * should wait for a parent that may come later in the file. */
static int unit_parent_visible(struct imp *im, const struct unit_input *in, bool last_try,
			       struct bm_err *re)
{
	struct unit_rec p;

	if (im->sc.all)
		return 0;
	if (in->parent == NULL || in->parent[0] == '\0')
		return bm_errf(re, BM_EINVAL, "parent", "parent: required (a unit of your scope)");
	if (ST(im->s)->unit_get(im->s->st, 0, in->parent, &p, re) == 0 &&
	    svc__scope_has(&im->sc, p.id))
		return 0;
	bm_err_clear(re);
	if (!last_try)
		return 1;
	return bm_errf(re, BM_EINVAL, "parent", "parent: unit %.64s not found", in->parent);
}

/* Returns 1 when the row waits for a parent that may come later in the file. */
static int try_unit(struct imp *im, long line, const struct unit_input *in, bool last_try)
{
	struct bm_err re = BM_ERR_INIT;
	struct unit_rec u;
	int rc = unit_parent_visible(im, in, last_try, &re);

	if (rc == 1)
		return 1;
	if (rc == 0)
		rc = svc__unit_add_tx(im->s, in, &u, &re);
	if (rc == 0) {
		strmap_put(im->seen, u.code, strlen(u.code), line);
		svc__scope_add(&im->sc, u.id);
		im->res->added++;
	} else if (rc == BM_EEXIST) {
		bm_err_clear(&re);
		code_exists(im, line, in->code, unit_same(im, in));
	} else if (!last_try && strcmp(re.field, "parent") == 0) {
		bm_err_clear(&re);
		return 1;
	} else {
		row_error(im, line, &re);
	}
	return 0;
}

static void defer_unit(struct imp *im, long line, const struct unit_input *in)
{
	struct deferred *d;

	if (im->ndefer == im->capdefer) {
		im->capdefer = im->capdefer ? im->capdefer * 2 : 16;
		im->defer = xreallocarray(im->defer, im->capdefer, sizeof *im->defer);
	}
	d = &im->defer[im->ndefer++];
	d->line = line;
	d->f[0] = xstrdup(in->code ? in->code : "");
	d->f[1] = xstrdup(in->name ? in->name : "");
	d->f[2] = xstrdup(in->parent ? in->parent : "");
}

static void row_unit(struct imp *im, const struct csv_record *r)
{
	struct unit_input in = {fld(im, r, 0), fld(im, r, 1), fld(im, r, 2)};

	if (try_unit(im, r->line, &in, false))
		defer_unit(im, r->line, &in);
}

/* Retries units whose parent came later in the file until no progress. */
static void finish_units(struct imp *im)
{
	size_t before;

	do {
		size_t keep = 0;

		before = im->ndefer;
		for (size_t i = 0; i < im->ndefer; i++) {
			struct deferred *d = &im->defer[i];
			struct unit_input in = {d->f[0], d->f[1], d->f[2]};

			if (try_unit(im, d->line, &in, false))
				im->defer[keep++] = *d;
			else
				for (int k = 0; k < 3; k++)
					free(d->f[k]);
		}
		im->ndefer = keep;
	} while (im->ndefer > 0 && im->ndefer < before);
	for (size_t i = 0; i < im->ndefer; i++) {
		struct deferred *d = &im->defer[i];
		struct unit_input in = {d->f[0], d->f[1], d->f[2]};

		try_unit(im, d->line, &in, true);
		for (int k = 0; k < 3; k++)
			free(d->f[k]);
	}
	im->ndefer = 0;
}

static bool post_same(struct imp *im, const struct post_input *in, const struct post_rec *want)
{
	struct bm_err re = BM_ERR_INIT;
	struct post_rec p;
	bool same = false;

	(void)in;
	if (ST(im->s)->post_get(im->s->st, 0, want->code, &p, &re) == 0)
		same = p.unit_id == want->unit_id && p.level == want->level &&
		       strcmp(p.compartments, want->compartments) == 0 &&
		       strcmp(p.title, want->title) == 0;
	bm_err_clear(&re);
	return same;
}

static void row_post(struct imp *im, const struct csv_record *r)
{
	struct post_input in = {fld(im, r, 0), fld(im, r, 1), fld(im, r, 2), fld(im, r, 3),
				fld(im, r, 4)};
	struct bm_err re = BM_ERR_INIT;
	struct post_rec p;
	struct unit_rec u;
	int rc = 0;

	if (!im->sc.all && in.unit && ST(im->s)->unit_get(im->s->st, 0, in.unit, &u, &re) == 0 &&
	    !svc__scope_has(&im->sc, u.id))
		rc = bm_errf(&re, BM_EINVAL, "unit", "unit: unit %.64s not found", in.unit);
	else
		bm_err_clear(&re);
	if (rc == 0)
		rc = svc__post_add_tx(im->s, &in, &p, &re);

	if (rc == 0) {
		strmap_put(im->seen, p.code, strlen(p.code), r->line);
		im->res->added++;
	} else if (rc == BM_EEXIST) {
		bm_err_clear(&re);
		code_exists(im, r->line, in.code, post_same(im, &in, &p));
	} else {
		row_error(im, r->line, &re);
	}
}

static void row_appt(struct imp *im, const struct csv_record *r)
{
	struct appt_input in = {fld(im, r, 0), fld(im, r, 1), fld(im, r, 2), fld(im, r, 3)};
	struct bm_err re = BM_ERR_INIT;
	struct appt_rec a;

	if (svc__appt_same(im->s, &im->sc, &in))
		im->res->unchanged++;
	else if (svc__appt_add_tx(im->s, &im->sc, &in, &a, &re))
		row_error(im, r->line, &re);
	else
		im->res->added++;
}

static void row(struct imp *im, const struct csv_record *r)
{
	static void (*const fn[])(struct imp *, const struct csv_record *) = {
		[IMPORT_UNITS] = row_unit, [IMPORT_POSTS] = row_post,
		[IMPORT_APPOINTMENTS] = row_appt,
	};

	im->res->rows++;
	if (r->nfields != im->nfile) {
		bm_err_add(im->e, r->line, "row", "expected %zu fields, found %zu", im->nfile,
			   r->nfields);
		return;
	}
	fn[im->kind](im, r);
}

/* Reports a record the CSV reader refused; returns true when the walk must
 * stop: on a read error, or when the record was the header, since without
 * its columns no later line can be judged (and the next line must not be
 * taken for the header). */
static bool record_error(struct imp *im, int rc, bool *header)
{
	bm_err_add(im->e, im->e->line, im->e->field, "%s", im->e->msg);
	if (*header) {
		*header = false;
		return true;
	}
	return rc == BM_EIO;
}

/* Walks the file; returns BM_EIO on a read failure, else 0 (row errors are in e). */
static int walk(struct imp *im, FILE *in, void (*progress)(void *, uint64_t), void *pctx)
{
	struct csv_reader *cr = csv_open(in);
	struct csv_record rec;
	bool header = true;
	int rc;

	csv_set_tap(cr, tap, im);
	while ((rc = csv_next(cr, &rec, im->e)) != 0) {
		if (rc < 0) {
			if (record_error(im, rc, &header))
				break;
			continue;
		}
		if (header) {
			header = false;
			if (read_header(im, &rec))
				break;
			continue;
		}
		row(im, &rec);
		if (progress && (im->res->rows & 4095) == 0)
			progress(pctx, csv_offset(cr));
	}
	if (header && im->e->total == 0)
		bm_err_add(im->e, 1, "header", "empty file: expected a header row naming the columns");
	if (progress)
		progress(pctx, csv_offset(cr));
	csv_close(cr);
	if (im->kind == IMPORT_UNITS)
		finish_units(im);
	return rc == BM_EIO ? BM_EIO : 0;
}

/*
 * Persons, the bulk case, run as a two-stage pipeline: a producer thread
 * parses, validates and seals rows (no database), the calling thread
 * inserts them.  Batches pass through a small bounded ring, so memory stays
 * flat whatever the file size.  The producer keeps its own error list; the
 * two lists are merged in line order at the end.
 */
#define PIPE_BATCH 512
#define PIPE_SLOTS 4

struct prow {
	long line;
	struct person_rec p;
};

struct pbatch {
	size_t n;
	bool last;
	struct prow rows[PIPE_BATCH];
};

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t changed;
	struct pbatch *ring;          /* PIPE_SLOTS batches */
	size_t put, take;             /* batches published and consumed */
	struct imp prod;              /* the producer's view: own error list */
	FILE *in;
	void (*progress)(void *, uint64_t);
	void *pctx;
	int io_rc;
};

/* The ring slot the producer fills next, once the consumer has freed one. */
static struct pbatch *pipe_slot_for_put(struct pipe *pp)
{
	pthread_mutex_lock(&pp->mu);
	while (pp->put - pp->take == PIPE_SLOTS)
		pthread_cond_wait(&pp->changed, &pp->mu);
	pthread_mutex_unlock(&pp->mu);
	return &pp->ring[pp->put % PIPE_SLOTS];
}

/* The ring slot the consumer reads next, once the producer has published it. */
static struct pbatch *pipe_slot_for_take(struct pipe *pp)
{
	pthread_mutex_lock(&pp->mu);
	while (pp->put == pp->take)
		pthread_cond_wait(&pp->changed, &pp->mu);
	pthread_mutex_unlock(&pp->mu);
	return &pp->ring[pp->take % PIPE_SLOTS];
}

/* Moves one side's counter (&pp->put: a slot published; &pp->take: a slot
 * released) and wakes the other side. */
static void pipe_advance(struct pipe *pp, size_t *counter)
{
	pthread_mutex_lock(&pp->mu);
	(*counter)++;
	pthread_cond_broadcast(&pp->changed);
	pthread_mutex_unlock(&pp->mu);
}

/* One CSV record on the producer side; returns false to stop reading. */
static bool produce_record(struct pipe *pp, const struct csv_record *rec, bool *header,
			   struct pbatch **b)
{
	struct imp *im = &pp->prod;

	if (*header) {
		*header = false;
		return read_header(im, rec) == 0;
	}
	im->res->rows++;
	if (rec->nfields != im->nfile) {
		bm_err_add(im->e, rec->line, "row", "expected %zu fields, found %zu", im->nfile,
			   rec->nfields);
		return true;
	}
	if (build_person(im, rec, &(*b)->rows[(*b)->n].p) != 0)
		return true;
	(*b)->rows[(*b)->n++].line = rec->line;
	if ((*b)->n == PIPE_BATCH) {
		pipe_advance(pp, &pp->put);
		*b = pipe_slot_for_put(pp);
		(*b)->n = 0;
		(*b)->last = false;
	}
	return true;
}

static void *produce(void *arg)
{
	struct pipe *pp = arg;
	struct imp *im = &pp->prod;
	struct csv_reader *cr = csv_open(pp->in);
	struct pbatch *b = pipe_slot_for_put(pp);
	struct csv_record rec;
	bool header = true;
	int rc;

	b->n = 0;
	csv_set_tap(cr, tap, im);
	while ((rc = csv_next(cr, &rec, im->e)) != 0) {
		if (rc < 0) {
			if (record_error(im, rc, &header))
				break;
			continue;
		}
		if (!produce_record(pp, &rec, &header, &b))
			break;
		if (pp->progress && (im->res->rows & 4095) == 0)
			pp->progress(pp->pctx, csv_offset(cr));
	}
	if (header && im->e->total == 0)
		bm_err_add(im->e, 1, "header", "empty file: expected a header row naming the columns");
	if (pp->progress)
		pp->progress(pp->pctx, csv_offset(cr));
	pp->io_rc = rc == BM_EIO ? BM_EIO : 0;
	csv_close(cr);
	b->last = true;
	pipe_advance(pp, &pp->put);
	return NULL;
}

static int item_cmp(const void *a, const void *b)
{
	const struct bm_err_item *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

/* Merges src's items into dst in line order, keeping the cap and the total. */
static void merge_errors(struct bm_err *dst, struct bm_err *src)
{
	size_t n = dst->nitems + src->nitems, total = dst->total + src->total;
	struct bm_err_item *all;

	if (src->total == 0)
		return;
	all = xcalloc(n ? n : 1, sizeof *all);
	if (dst->nitems)
		memcpy(all, dst->items, dst->nitems * sizeof *all);
	if (src->nitems)
		memcpy(all + dst->nitems, src->items, src->nitems * sizeof *all);
	qsort(all, n, sizeof *all, item_cmp);
	free(dst->items);
	dst->items = NULL;
	dst->nitems = dst->total = 0;
	for (size_t i = 0; i < n; i++)
		bm_err_add(dst, all[i].line, all[i].field, "%s", all[i].reason);
	dst->total = total;
	free(all);
}

static int load_unit(void *ctx, const struct unit_rec *u)
{
	struct imp *im = ctx;

	strmap_put(im->units, u->code, strlen(u->code), u->id);
	return 0;
}

static int walk_persons(struct imp *im, FILE *in, void (*progress)(void *, uint64_t), void *pctx)
{
	struct bm_err pe = BM_ERR_INIT;
	struct pipe pp = {.in = in, .progress = progress, .pctx = pctx};
	pthread_t th;
	bool last = false;
	int rc;

	if ((rc = ST(im->s)->unit_list(im->s->st, load_unit, im, im->e)))
		return rc;
	pp.ring = xcalloc(PIPE_SLOTS, sizeof *pp.ring);
	pp.prod = *im;
	pp.prod.e = &pe;
	pthread_mutex_init(&pp.mu, NULL);
	pthread_cond_init(&pp.changed, NULL);
	if (pthread_create(&th, NULL, produce, &pp) != 0)
		abort();
	while (!last) {
		struct pbatch *b = pipe_slot_for_take(&pp);

		for (size_t i = 0; i < b->n; i++)
			insert_person(im, b->rows[i].line, &b->rows[i].p);
		last = b->last;
		pipe_advance(&pp, &pp.take);
	}
	pthread_join(th, NULL);
	im->sha = pp.prod.sha;
	merge_errors(im->e, &pe);
	bm_err_clear(&pe);
	pthread_cond_destroy(&pp.changed);
	pthread_mutex_destroy(&pp.mu);
	free(pp.ring);
	return pp.io_rc;
}

static int finish(struct imp *im, const struct actor *a)
{
	char hex[65];
	char action[32];

	sha256_final(&im->sha, im->res->sha256);
	if (im->e->total > 0) {
		bm_errf(im->e, BM_EINVAL, NULL, "%zu problem%s in the file; nothing was imported",
			im->e->total, im->e->total == 1 ? "" : "s");
		return BM_EINVAL;
	}
	hex_encode(im->res->sha256, 32, hex);
	snprintf(action, sizeof action, "import.%s", kind_names[im->kind]);
	return svc__audit1(im->s, a, action, kind_names[im->kind],
			   json_pack("{s:s, s:I, s:I, s:I}", "sha256", hex, "rows",
				     (json_int_t)im->res->rows, "added", (json_int_t)im->res->added,
				     "unchanged", (json_int_t)im->res->unchanged), im->e);
}

int svc_import(struct svc *s, const struct actor *a, int kind, FILE *in,
	       void (*progress)(void *ctx, uint64_t bytes), void *pctx,
	       struct import_result *res, struct bm_err *e)
{
	struct imp im = {.s = s, .kind = kind, .e = e, .res = res};
	int rc;

	memset(res, 0, sizeof *res);
	if (kind < 0 || kind > IMPORT_APPOINTMENTS)
		return bm_errf(e, BM_EUSAGE, "kind", "unknown import kind");
	if ((rc = svc__allow(a, PERM_IMPORT, e)) || (rc = svc__begin(s, e)))
		return rc;
	if ((rc = svc__scope_load(s, a, &im.sc, e))) {
		svc__rollback(s);
		return rc;
	}
	im.seen = strmap_new();
	im.units = strmap_new();
	sha256_init(&im.sha);
	ST(s)->bulk_hint(s->st, true);
	rc = kind == IMPORT_PERSONS ? walk_persons(&im, in, progress, pctx)
				    : walk(&im, in, progress, pctx);
	if (rc == 0)
		rc = finish(&im, a);
	if (rc == 0)
		rc = svc__commit(s, e);
	else
		svc__rollback(s);
	ST(s)->bulk_hint(s->st, false);
	strmap_free(im.seen);
	strmap_free(im.units);
	svc__scope_free(&im.sc);
	free(im.defer);
	return rc;
}
