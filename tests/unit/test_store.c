/*
 * test_store.c - the SQLite store, driven through store_sqlite_ops only
 * (raw sqlite3 is used just to forge or tamper with files, as an attacker
 * or a newer baomi would).
 */
#include "store/store.h"
#include "store/migrations.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct store_ops *ops = &store_sqlite_ops;

struct fx {
	char dir[64];
	char path[128];
	struct store *s;
	struct bm_err e;
};

/* ------------------------------------------------------------- fixtures */

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	strcpy(f->dir, "/tmp/bm_store_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/baomi.db", f->dir);
	*state = f;
	return 0;
}

static int fx_open_setup(void **state)
{
	struct fx *f;

	fx_setup(state);
	f = *state;
	assert_int_equal(ops->open(f->path, STORE_CREATE, &f->s, &f->e), 0);
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	if (f->s != NULL)
		ops->close(f->s);
	bm_err_clear(&f->e);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Runs SQL on the file with the sqlite3 library directly; returns the rc. */
static int raw_exec(const char *path, const char *sql, char *msg, size_t cap)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	int rc;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (msg != NULL)
		snprintf(msg, cap, "%s", err ? err : "");
	sqlite3_free(err);
	sqlite3_close(db);
	return rc;
}

/* Runs a one-value query on the file directly. */
static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* ------------------------------------------------------------- builders */

static int64_t add_unit(struct fx *f, const char *code, const char *name, int64_t parent)
{
	struct unit_rec u = {0};

	snprintf(u.code, sizeof u.code, "%s", code);
	snprintf(u.name, sizeof u.name, "%s", name);
	u.parent_id = parent;
	assert_int_equal(ops->unit_insert(f->s, &u, &f->e), 0);
	assert_true(u.id > 0);
	assert_int_equal(u.version, 1);
	return u.id;
}

static int64_t add_post(struct fx *f, const char *code, int64_t unit, int level)
{
	struct post_rec p = {0};

	snprintf(p.code, sizeof p.code, "%s", code);
	snprintf(p.title, sizeof p.title, "Post %s", code);
	snprintf(p.compartments, sizeof p.compartments, "ALPHA,BETA");
	p.unit_id = unit;
	p.level = level;
	assert_int_equal(ops->post_insert(f->s, &p, &f->e), 0);
	return p.id;
}

static void fill_sealed(struct sealed *sd, uint8_t seed, size_t len)
{
	memset(sd, 0, sizeof *sd);
	sd->len = len;
	for (size_t i = 0; i < len; i++)
		sd->ct[i] = (uint8_t)(seed + i);
	memset(sd->idx, seed, sizeof sd->idx);
}

static void make_person(struct person_rec *p, const char *ext, int64_t unit, int level,
			int state)
{
	memset(p, 0, sizeof *p);
	snprintf(p->ext_id, sizeof p->ext_id, "%s", ext);
	snprintf(p->name, sizeof p->name, "Name of %s", ext);
	p->unit_id = unit;
	p->level = level;
	p->state = state;
}

static int64_t add_person(struct fx *f, const char *ext, int64_t unit, int level, int state)
{
	struct person_rec p;

	make_person(&p, ext, unit, level, state);
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), 0);
	return p.id;
}

/* Collects the ids (or seqs) a walk reports. */
struct ids {
	int64_t v[64];
	int n;
	int stop_at;       /* stop (return 7) after this many; 0 = never */
};

static int take(struct ids *c, int64_t id)
{
	assert_true(c->n < 64);
	c->v[c->n++] = id;
	return c->stop_at && c->n == c->stop_at ? 7 : 0;
}

static int unit_cb(void *ctx, const struct unit_rec *r) { return take(ctx, r->id); }
static int post_cb(void *ctx, const struct post_rec *r) { return take(ctx, r->id); }
static int person_cb(void *ctx, const struct person_rec *r) { return take(ctx, r->id); }
static int appt_cb(void *ctx, const struct appt_rec *r) { return take(ctx, r->id); }
static int audit_cb(void *ctx, const struct audit_rec *r) { return take(ctx, r->seq); }

static void assert_ids(const struct ids *c, int n, ...)
{
	va_list ap;

	assert_int_equal(c->n, n);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(c->v[i], va_arg(ap, int));
	va_end(ap);
}

/* ------------------------------------------------------ open and schema */

static void test_create_then_open(void **state)
{
	struct fx *f = *state;
	int v = -1;

	assert_int_equal(ops->open(f->path, STORE_CREATE, &f->s, &f->e), 0);
	assert_int_equal(ops->schema_version(f->s, &v, &f->e), 0);
	assert_int_equal(v, store__latest_schema());
	add_unit(f, "HQ", "Headquarters", 0);
	ops->close(f->s);
	f->s = NULL;
	assert_int_equal(ops->open(f->path, 0, &f->s, &f->e), 0);
	struct unit_rec u;
	assert_int_equal(ops->unit_get(f->s, 0, "HQ", &u, &f->e), 0);
	assert_string_equal(u.name, "Headquarters");
	assert_int_equal(access(f->path, R_OK), 0);
	assert_int_equal(access(f->path, X_OK), -1); /* plain 0600 file */
}

static void test_create_refuses_existing(void **state)
{
	struct fx *f = *state;
	struct store *s2 = NULL;

	assert_int_equal(ops->open(f->path, STORE_CREATE, &f->s, &f->e), 0);
	assert_int_equal(ops->open(f->path, STORE_CREATE, &s2, &f->e), BM_EEXIST);
	assert_null(s2);
	assert_non_null(strstr(f->e.msg, f->path));
	/* The existing database is untouched. */
	add_unit(f, "HQ", "Headquarters", 0);
}

static void test_open_missing(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ops->open(f->path, 0, &f->s, &f->e), BM_ENOINPUT);
	assert_null(f->s);
	assert_non_null(strstr(f->e.msg, f->path));
	assert_non_null(strstr(f->e.msg, "baomi init"));
	assert_int_equal(access(f->path, F_OK), -1); /* not created by accident */
	assert_int_equal(ops->open(f->dir, 0, &f->s, &f->e), BM_ENOINPUT);
	assert_int_equal(ops->open("", 0, &f->s, &f->e), BM_EUSAGE);
	assert_int_equal(ops->open(f->path, STORE_CREATE | STORE_READONLY, &f->s, &f->e),
			 BM_EUSAGE);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	char sql[64];
	char want[160];
	int latest = store__latest_schema();

	assert_int_equal(ops->open(f->path, STORE_CREATE, &f->s, &f->e), 0);
	ops->close(f->s);
	f->s = NULL;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", latest + 5);
	assert_int_equal(raw_exec(f->path, sql, NULL, 0), SQLITE_OK);
	assert_int_equal(ops->open(f->path, 0, &f->s, &f->e), BM_ESCHEMA);
	assert_null(f->s);
	snprintf(want, sizeof want, "database schema version %d is newer than this baomi "
		 "supports (%d); upgrade baomi", latest + 5, latest);
	assert_string_equal(f->e.msg, want);
	assert_int_equal(ops->open(f->path, STORE_READONLY, &f->s, &f->e), BM_ESCHEMA);
}

static void test_not_sqlite_refused(void **state)
{
	struct fx *f = *state;

	write_file(f->path, "name,ext_id\nAlice,E1\nthis is a CSV file, not a database\n"
		   "padding padding padding padding padding padding padding padding\n");
	assert_int_equal(ops->open(f->path, 0, &f->s, &f->e), BM_ESCHEMA);
	assert_null(f->s);
	assert_non_null(strstr(f->e.msg, f->path));
	assert_non_null(strstr(f->e.msg, "not"));
	assert_int_equal(ops->open(f->path, STORE_READONLY, &f->s, &f->e), BM_ESCHEMA);
	/* The file is left as it was. */
	FILE *fp = fopen(f->path, "r");
	char line[32];
	assert_non_null(fgets(line, sizeof line, fp));
	fclose(fp);
	assert_string_equal(line, "name,ext_id\n");
}

static void test_foreign_sqlite_refused(void **state)
{
	struct fx *f = *state;

	/* Another application's database, and an empty SQLite file. */
	assert_int_equal(raw_exec(f->path, "CREATE TABLE t(x); PRAGMA user_version = 1; "
				  "PRAGMA application_id = 7", NULL, 0), SQLITE_OK);
	assert_int_equal(ops->open(f->path, 0, &f->s, &f->e), BM_ESCHEMA);
	assert_non_null(strstr(f->e.msg, "not a baomi database"));
	unlink(f->path);
	write_file(f->path, "");
	assert_int_equal(ops->open(f->path, 0, &f->s, &f->e), BM_ESCHEMA);
	assert_non_null(strstr(f->e.msg, "baomi init"));
}

static void test_readonly(void **state)
{
	struct fx *f = *state;
	struct store *ro = NULL;
	struct unit_rec u = {0};
	struct ids c = {0};

	assert_int_equal(ops->open(f->path, STORE_CREATE, &f->s, &f->e), 0);
	add_unit(f, "HQ", "Headquarters", 0);
	assert_int_equal(ops->open(f->path, STORE_READONLY, &ro, &f->e), 0);
	assert_int_equal(ops->unit_list(ro, unit_cb, &c, &f->e), 0);
	assert_ids(&c, 1, 1);
	strcpy(u.code, "X");
	assert_int_not_equal(ops->unit_insert(ro, &u, &f->e), 0);
	ops->close(ro);
}

static void test_schema_is_strict_and_indexed(void **state)
{
	struct fx *f = *state;
	char msg[256];

	ops->close(f->s);
	f->s = NULL;
	/* STRICT: text in an INTEGER column is an error, not a silent store. */
	assert_int_not_equal(raw_exec(f->path, "INSERT INTO units(code, name, version, created, "
				      "updated) VALUES ('A', 'a', 'one', 0, 0)", msg,
				      sizeof msg), SQLITE_OK);
	assert_non_null(strstr(msg, "cannot store TEXT value in INTEGER column"));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE name IN ("
				 "'persons_nid16', 'persons_pp16', 'persons_unit', "
				 "'persons_level_state', 'audit_actor', 'audit_action', "
				 "'audit_time', 'audit_no_update', 'audit_no_delete')"), 9);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
				 "AND sql NOT LIKE '%STRICT%'"), 0);
}

/* ---------------------------------------------------------------- meta */

static void test_meta(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT;

	assert_int_equal(ops->meta_get(f->s, "key_id", &b, &f->e), BM_ENOTFOUND);
	assert_int_equal(ops->meta_set(f->s, "key_id", "k1", &f->e), 0);
	assert_int_equal(ops->meta_set(f->s, "key_id", "k2 \xe4\xbf\x9d\xe5\xaf\x86", &f->e), 0);
	assert_int_equal(ops->meta_get(f->s, "key_id", &b, &f->e), 0);
	assert_string_equal(buf_cstr(&b), "k2 \xe4\xbf\x9d\xe5\xaf\x86");
	buf_free(&b);
}

/* --------------------------------------------------------------- units */

static void test_units(void **state)
{
	struct fx *f = *state;
	struct unit_rec u = {0}, g;
	struct ids c = {0};
	int64_t hq = add_unit(f, "HQ", "总部 Headquarters", 0);
	int64_t rd = add_unit(f, "RD", "研发部", hq);

	assert_int_equal(ops->unit_get(f->s, rd, NULL, &g, &f->e), 0);
	assert_string_equal(g.code, "RD");
	assert_string_equal(g.name, "研发部");
	assert_int_equal(g.parent_id, hq);
	assert_int_equal(g.version, 1);
	assert_true(g.created > 1600000000 && g.updated == g.created);
	assert_int_equal(ops->unit_get(f->s, hq, NULL, &g, &f->e), 0);
	assert_int_equal(g.parent_id, 0);
	/* Duplicate code, missing parent, missing unit. */
	strcpy(u.code, "RD");
	strcpy(u.name, "again");
	assert_int_equal(ops->unit_insert(f->s, &u, &f->e), BM_EEXIST);
	assert_string_equal(f->e.field, "code");
	assert_non_null(strstr(f->e.msg, "RD"));
	strcpy(u.code, "ORPHAN");
	u.parent_id = 999;
	assert_int_equal(ops->unit_insert(f->s, &u, &f->e), BM_ENOTFOUND);
	assert_string_equal(f->e.field, "parent_id");
	assert_int_equal(ops->unit_get(f->s, 999, NULL, &g, &f->e), BM_ENOTFOUND);
	assert_int_equal(ops->unit_get(f->s, 0, "NOPE", &g, &f->e), BM_ENOTFOUND);
	assert_non_null(strstr(f->e.msg, "NOPE"));
	assert_int_equal(ops->unit_list(f->s, unit_cb, &c, &f->e), 0);
	assert_ids(&c, 2, (int)hq, (int)rd);
}

static void test_unit_within_tree(void **state)
{
	struct fx *f = *state;
	int64_t a = add_unit(f, "A", "root", 0);
	int64_t b = add_unit(f, "B", "child", a);
	int64_t c = add_unit(f, "C", "grandchild", b);
	int64_t d = add_unit(f, "D", "other root", 0);
	int64_t b2 = add_unit(f, "B2", "sibling", a);

	assert_int_equal(ops->unit_within(f->s, c, a, &f->e), 1);
	assert_int_equal(ops->unit_within(f->s, c, b, &f->e), 1);
	assert_int_equal(ops->unit_within(f->s, c, c, &f->e), 1);
	assert_int_equal(ops->unit_within(f->s, a, c, &f->e), 0);
	assert_int_equal(ops->unit_within(f->s, c, d, &f->e), 0);
	assert_int_equal(ops->unit_within(f->s, c, b2, &f->e), 0);
	assert_int_equal(ops->unit_within(f->s, 777, a, &f->e), 0);
}

/* --------------------------------------------------------------- posts */

static void test_posts(void **state)
{
	struct fx *f = *state;
	int64_t a = add_unit(f, "A", "a", 0), b = add_unit(f, "B", "b", a);
	int64_t p1 = add_post(f, "P1", a, 3), p2 = add_post(f, "P2", b, 0);
	int64_t p3 = add_post(f, "P3", a, 1);
	struct post_rec p = {0}, g;
	struct ids c = {0};

	assert_int_equal(ops->post_get(f->s, 0, "P1", &g, &f->e), 0);
	assert_int_equal(g.id, p1);
	assert_int_equal(g.level, 3);
	assert_string_equal(g.compartments, "ALPHA,BETA");
	assert_string_equal(g.title, "Post P1");
	assert_int_equal(ops->post_get(f->s, p2, NULL, &g, &f->e), 0);
	assert_int_equal(g.unit_id, b);
	assert_int_equal(ops->post_list(f->s, a, post_cb, &c, &f->e), 0);
	assert_ids(&c, 2, (int)p1, (int)p3);
	c.n = 0;
	assert_int_equal(ops->post_list(f->s, 0, post_cb, &c, &f->e), 0);
	assert_ids(&c, 3, (int)p1, (int)p2, (int)p3);
	strcpy(p.code, "P1");
	p.unit_id = a;
	assert_int_equal(ops->post_insert(f->s, &p, &f->e), BM_EEXIST);
	assert_string_equal(f->e.field, "code");
	strcpy(p.code, "P9");
	p.unit_id = 42;
	assert_int_equal(ops->post_insert(f->s, &p, &f->e), BM_ENOTFOUND);
	assert_string_equal(f->e.field, "unit_id");
	p.unit_id = a;
	p.level = 4;
	assert_int_equal(ops->post_insert(f->s, &p, &f->e), BM_EINVAL);
	assert_string_equal(f->e.field, "level");
	p.level = -1;
	assert_int_equal(ops->post_insert(f->s, &p, &f->e), BM_EINVAL);
	assert_int_equal(ops->post_get(f->s, 0, "P9", &g, &f->e), BM_ENOTFOUND);
}

/* ------------------------------------------------------------- persons */

static void test_person_roundtrip(void **state)
{
	struct fx *f = *state;
	int64_t u = add_unit(f, "U", "u", 0);
	struct person_rec p, g;

	make_person(&p, "E1001", u, 2, 3);
	/* Names in any script, including 4-byte UTF-8 and combining marks. */
	snprintf(p.name, sizeof p.name, "%s", "王小明 Zoë Ñandú 𠀋 é");
	snprintf(p.compartments, sizeof p.compartments, "A1,B2");
	fill_sealed(&p.national_id, 10, 48);
	fill_sealed(&p.passport, 99, BM_SEALED_MAX);
	p.created = 1700000000;
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), 0);
	assert_int_equal(p.updated, 1700000000);
	assert_int_equal(ops->person_get(f->s, 0, "E1001", &g, &f->e), 0);
	assert_int_equal(g.id, p.id);
	assert_string_equal(g.name, p.name);
	assert_string_equal(g.compartments, "A1,B2");
	assert_int_equal(g.level, 2);
	assert_int_equal(g.state, 3);
	assert_int_equal(g.unit_id, u);
	assert_int_equal(g.version, 1);
	assert_int_equal(g.created, 1700000000);
	assert_int_equal(g.national_id.len, 48);
	assert_memory_equal(g.national_id.ct, p.national_id.ct, 48);
	assert_memory_equal(g.national_id.idx, p.national_id.idx, 32);
	assert_int_equal(g.passport.len, BM_SEALED_MAX);
	assert_memory_equal(g.passport.ct, p.passport.ct, BM_SEALED_MAX);
	/* An absent sealed field stays absent. */
	make_person(&p, "E1002", u, 0, 0);
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), 0);
	assert_int_equal(ops->person_get(f->s, p.id, NULL, &g, &f->e), 0);
	assert_int_equal(g.national_id.len, 0);
	assert_int_equal(g.passport.len, 0);
	assert_string_equal(g.ext_id, "E1002");
}

static void test_person_errors(void **state)
{
	struct fx *f = *state;
	int64_t u = add_unit(f, "U", "u", 0);
	struct person_rec p, g;

	add_person(f, "E1", u, 1, 0);
	make_person(&p, "E1", u, 1, 0);
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), BM_EEXIST);
	assert_string_equal(f->e.field, "ext_id");
	assert_non_null(strstr(f->e.msg, "E1"));
	make_person(&p, "E2", 555, 1, 0);
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), BM_ENOTFOUND);
	assert_string_equal(f->e.field, "unit_id");
	make_person(&p, "E3", u, 9, 0);
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), BM_EINVAL);
	make_person(&p, "E4", u, 1, 0);
	p.passport.len = BM_SEALED_MAX + 1;
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), BM_EINVAL);
	assert_string_equal(f->e.field, "passport");
	assert_int_equal(ops->person_get(f->s, 0, "E4", &g, &f->e), BM_ENOTFOUND);
	assert_string_equal(f->e.field, "ext_id");
	assert_int_equal(ops->person_get(f->s, 12345, NULL, &g, &f->e), BM_ENOTFOUND);
}

static void test_person_update_versions(void **state)
{
	struct fx *f = *state;
	int64_t u = add_unit(f, "U", "u", 0), u2 = add_unit(f, "U2", "u2", 0);
	struct person_rec a, b, g;

	add_person(f, "E1001", u, 1, 0);
	add_person(f, "E1002", u, 1, 0);
	assert_int_equal(ops->person_get(f->s, 0, "E1001", &a, &f->e), 0);
	b = a;
	/* Two officers edit the same record; the second loses. */
	snprintf(a.name, sizeof a.name, "李四");
	a.unit_id = u2;
	fill_sealed(&a.national_id, 5, 40);
	assert_int_equal(ops->person_update(f->s, &a, &f->e), 0);
	assert_int_equal(a.version, 2);
	snprintf(b.name, sizeof b.name, "stale");
	assert_int_equal(ops->person_update(f->s, &b, &f->e), BM_ECONFLICT);
	assert_string_equal(f->e.msg, "person E1001 was changed by someone else (version 2)");
	assert_int_equal(b.version, 1);
	assert_int_equal(ops->person_get(f->s, a.id, NULL, &g, &f->e), 0);
	assert_string_equal(g.name, "李四");
	assert_int_equal(g.unit_id, u2);
	assert_int_equal(g.version, 2);
	assert_int_equal(g.national_id.len, 40);
	/* Renaming onto another's ext_id, moving to a missing unit, a ghost. */
	g.version = 2;
	strcpy(g.ext_id, "E1002");
	assert_int_equal(ops->person_update(f->s, &g, &f->e), BM_EEXIST);
	strcpy(g.ext_id, "E1001");
	g.unit_id = 999;
	assert_int_equal(ops->person_update(f->s, &g, &f->e), BM_ENOTFOUND);
	assert_string_equal(f->e.field, "unit_id");
	g.unit_id = u;
	g.id = 4242;
	assert_int_equal(ops->person_update(f->s, &g, &f->e), BM_ENOTFOUND);
}

static void test_person_list_filters(void **state)
{
	struct fx *f = *state;
	int64_t a = add_unit(f, "A", "root", 0), b = add_unit(f, "B", "child", a);
	int64_t c = add_unit(f, "C", "grandchild", b), d = add_unit(f, "D", "other", 0);
	struct person_filter pf = { 0, -1, -1, 0, 0 };
	struct ids r = {0};
	int64_t p1 = add_person(f, "P1", a, 3, 3), p2 = add_person(f, "P2", b, 2, 3);
	int64_t p3 = add_person(f, "P3", c, 2, 4), p4 = add_person(f, "P4", d, 2, 3);
	int64_t p5 = add_person(f, "P5", c, 1, 3);

	assert_int_equal(ops->person_list(f->s, NULL, person_cb, &r, &f->e), 0);
	assert_ids(&r, 5, (int)p1, (int)p2, (int)p3, (int)p4, (int)p5);
	pf.unit_root = b;
	r.n = 0;
	assert_int_equal(ops->person_list(f->s, &pf, person_cb, &r, &f->e), 0);
	assert_ids(&r, 3, (int)p2, (int)p3, (int)p5);
	pf.unit_root = a;
	pf.level = 2;
	r.n = 0;
	assert_int_equal(ops->person_list(f->s, &pf, person_cb, &r, &f->e), 0);
	assert_ids(&r, 2, (int)p2, (int)p3);
	pf.state = 3;
	r.n = 0;
	assert_int_equal(ops->person_list(f->s, &pf, person_cb, &r, &f->e), 0);
	assert_ids(&r, 1, (int)p2);
	/* level + state without a unit, then paging with a cursor. */
	pf.unit_root = 0;
	r.n = 0;
	assert_int_equal(ops->person_list(f->s, &pf, person_cb, &r, &f->e), 0);
	assert_ids(&r, 2, (int)p2, (int)p4);
	pf = (struct person_filter){ 0, -1, -1, 0, 2 };
	r.n = 0;
	assert_int_equal(ops->person_list(f->s, &pf, person_cb, &r, &f->e), 0);
	assert_ids(&r, 2, (int)p1, (int)p2);
	pf.after_id = p2;
	r.n = 0;
	assert_int_equal(ops->person_list(f->s, &pf, person_cb, &r, &f->e), 0);
	assert_ids(&r, 2, (int)p3, (int)p4);
	pf = (struct person_filter){ 0, -1, 4, 0, 0 };
	r.n = 0;
	assert_int_equal(ops->person_list(f->s, &pf, person_cb, &r, &f->e), 0);
	assert_ids(&r, 1, (int)p3);
	pf = (struct person_filter){ 9999, -1, -1, 0, 0 };
	r.n = 0;
	assert_int_equal(ops->person_list(f->s, &pf, person_cb, &r, &f->e), 0);
	assert_int_equal(r.n, 0);
}

/* A callback that re-enters the store with the same list, then stops. */
struct reenter { struct fx *f; int outer; int inner_total; };

static int reenter_cb(void *ctx, const struct person_rec *r)
{
	struct reenter *re = ctx;
	struct ids inner = {0};

	(void)r;
	assert_int_equal(ops->person_list(re->f->s, NULL, person_cb, &inner, &re->f->e), 0);
	re->inner_total += inner.n;
	return ++re->outer == 2 ? -42 : 0;
}

static void test_walk_stop_and_reentry(void **state)
{
	struct fx *f = *state;
	int64_t u = add_unit(f, "U", "u", 0);
	struct reenter re = { f, 0, 0 };
	struct ids r = { .stop_at = 2 };

	for (int i = 0; i < 4; i++) {
		char ext[8];
		snprintf(ext, sizeof ext, "E%d", i);
		add_person(f, ext, u, 0, 0);
	}
	assert_int_equal(ops->person_list(f->s, NULL, person_cb, &r, &f->e), 7);
	assert_int_equal(r.n, 2);
	assert_int_equal(ops->person_list(f->s, NULL, reenter_cb, &re, &f->e), -42);
	assert_int_equal(re.outer, 2);
	assert_int_equal(re.inner_total, 8);
	/* The cached statement was left reusable. */
	r = (struct ids){0};
	assert_int_equal(ops->person_list(f->s, NULL, person_cb, &r, &f->e), 0);
	assert_int_equal(r.n, 4);
}

static void test_person_find_sealed(void **state)
{
	struct fx *f = *state;
	int64_t u = add_unit(f, "U", "u", 0);
	struct person_rec p;
	struct ids r = {0};
	uint8_t idx[32];

	make_person(&p, "A", u, 1, 0);
	fill_sealed(&p.national_id, 1, 48);
	fill_sealed(&p.passport, 2, 48);
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), 0);
	/* A number belongs to one person: a second holder is refused, naming
	 * the field and not the first holder. */
	make_person(&p, "B", u, 1, 0);
	fill_sealed(&p.national_id, 1, 48);
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), BM_EEXIST);
	assert_string_equal(f->e.field, "national_id");
	assert_null(strstr(f->e.msg, "A"));
	make_person(&p, "B", u, 1, 0);
	fill_sealed(&p.passport, 2, 48);
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), BM_EEXIST);
	assert_string_equal(f->e.field, "passport");
	make_person(&p, "A", u, 1, 0);        /* the id itself still names the id */
	fill_sealed(&p.national_id, 4, 48);
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), BM_EEXIST);
	assert_string_equal(f->e.field, "ext_id");
	make_person(&p, "B", u, 1, 0);
	fill_sealed(&p.national_id, 3, 48);
	assert_int_equal(ops->person_insert(f->s, &p, &f->e), 0);
	/* An update that would give B A's number is refused the same way. */
	fill_sealed(&p.passport, 2, 48);
	assert_int_equal(ops->person_update(f->s, &p, &f->e), BM_EEXIST);
	assert_string_equal(f->e.field, "passport");
	memset(&p.passport, 0, sizeof p.passport);
	fill_sealed(&p.national_id, 1, 48);
	assert_int_equal(ops->person_update(f->s, &p, &f->e), BM_EEXIST);
	assert_string_equal(f->e.field, "national_id");
	assert_null(strstr(f->e.msg, "A"));
	memset(idx, 1, sizeof idx);
	assert_int_equal(ops->person_find_sealed(f->s, "national_id", idx, person_cb, &r,
						 &f->e), 0);
	assert_ids(&r, 1, 1);
	r.n = 0;
	memset(idx, 2, sizeof idx);
	assert_int_equal(ops->person_find_sealed(f->s, "passport", idx, person_cb, &r, &f->e),
			 0);
	assert_ids(&r, 1, 1);
	r.n = 0;
	assert_int_equal(ops->person_find_sealed(f->s, "national_id", idx, person_cb, &r,
						 &f->e), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(ops->person_find_sealed(f->s, "name", idx, person_cb, &r, &f->e),
			 BM_EINVAL);
	assert_string_equal(f->e.field, "column");
}

struct count_row { int64_t unit; int level, state; int64_t n; };
struct counts { struct count_row v[16]; int n; };

static int count_cb(void *ctx, int64_t unit, int level, int state, int64_t n)
{
	struct counts *c = ctx;

	assert_true(c->n < 16);
	c->v[c->n++] = (struct count_row){ unit, level, state, n };
	return 0;
}

static void test_person_counts(void **state)
{
	struct fx *f = *state;
	int64_t a = add_unit(f, "A", "a", 0), b = add_unit(f, "B", "b", 0);
	struct counts c = {0};

	add_person(f, "1", a, 2, 3);
	add_person(f, "2", a, 2, 3);
	add_person(f, "3", a, 2, 4);
	add_person(f, "4", b, 1, 3);
	add_person(f, "5", a, 0, 0);
	assert_int_equal(ops->person_counts(f->s, count_cb, &c, &f->e), 0);
	assert_int_equal(c.n, 4);
	assert_true(c.v[0].unit == a && c.v[0].level == 0 && c.v[0].state == 0 && c.v[0].n == 1);
	assert_true(c.v[1].unit == a && c.v[1].level == 2 && c.v[1].state == 3 && c.v[1].n == 2);
	assert_true(c.v[2].unit == a && c.v[2].level == 2 && c.v[2].state == 4 && c.v[2].n == 1);
	assert_true(c.v[3].unit == b && c.v[3].level == 1 && c.v[3].state == 3 && c.v[3].n == 1);
}

/* -------------------------------------------------------- appointments */

static void test_appointments(void **state)
{
	struct fx *f = *state;
	int64_t u = add_unit(f, "U", "u", 0), post = add_post(f, "P", u, 2);
	int64_t p1 = add_person(f, "E1", u, 0, 0), p2 = add_person(f, "E2", u, 0, 0);
	struct appt_rec a = { .person_id = p1, .post_id = post, .start = 1700000000 };
	struct appt_rec b = { .person_id = p2, .post_id = post, .start = 1700000001 };
	struct appt_rec stale;
	struct ids r = {0};

	assert_int_equal(ops->appt_insert(f->s, &a, &f->e), 0);
	assert_int_equal(ops->appt_insert(f->s, &b, &f->e), 0);
	assert_true(a.id > 0 && a.version == 1 && a.created > 0);
	stale = a;
	a.end = 1710000000;
	assert_int_equal(ops->appt_update(f->s, &a, &f->e), 0);
	assert_int_equal(a.version, 2);
	stale.end = 1;
	assert_int_equal(ops->appt_update(f->s, &stale, &f->e), BM_ECONFLICT);
	assert_non_null(strstr(f->e.msg, "changed by someone else (version 2)"));
	assert_int_equal(ops->appt_list(f->s, p1, appt_cb, &r, &f->e), 0);
	assert_ids(&r, 1, (int)a.id);
	r.n = 0;
	assert_int_equal(ops->appt_list(f->s, 0, appt_cb, &r, &f->e), 0);
	assert_ids(&r, 2, (int)a.id, (int)b.id);
	/* Missing person, missing post, each named. */
	struct appt_rec bad = { .person_id = 99, .post_id = post, .start = 1 };
	assert_int_equal(ops->appt_insert(f->s, &bad, &f->e), BM_ENOTFOUND);
	assert_string_equal(f->e.field, "person_id");
	bad.person_id = p1;
	bad.post_id = 98;
	assert_int_equal(ops->appt_insert(f->s, &bad, &f->e), BM_ENOTFOUND);
	assert_string_equal(f->e.field, "post_id");
}

static int end_cb(void *ctx, const struct appt_rec *r)
{
	*(int64_t *)ctx = r->end;
	return 0;
}

static void test_appointment_open_end(void **state)
{
	struct fx *f = *state;
	int64_t u = add_unit(f, "U", "u", 0), post = add_post(f, "P", u, 1);
	int64_t p = add_person(f, "E", u, 0, 0), end = -1;
	struct appt_rec a = { .person_id = p, .post_id = post, .start = 5 };

	assert_int_equal(ops->appt_insert(f->s, &a, &f->e), 0);
	assert_int_equal(ops->appt_list(f->s, p, end_cb, &end, &f->e), 0);
	assert_int_equal(end, 0);
}

/* ------------------------------------------------------------ policies */

struct pol { int64_t v; char json[64]; char profile[16]; int n; };

static int pol_cb(void *ctx, const struct policy_rec *r)
{
	struct pol *p = ctx;

	p->v = r->version;
	snprintf(p->json, sizeof p->json, "%s", r->json);
	snprintf(p->profile, sizeof p->profile, "%s", r->profile);
	p->n++;
	return 0;
}

static void test_policies(void **state)
{
	struct fx *f = *state;
	struct policy_rec r = { .profile = "cn", .actor = "secadmin" };
	struct pol got = {0};

	assert_int_equal(ops->policy_get(f->s, 0, pol_cb, &got, &f->e), BM_ENOTFOUND);
	r.json = "{\"v\":1}";
	assert_int_equal(ops->policy_insert(f->s, &r, &f->e), 0);
	assert_int_equal(r.version, 1);
	r.version = 0;
	r.json = "{\"v\":2}";
	strcpy(r.profile, "us");
	assert_int_equal(ops->policy_insert(f->s, &r, &f->e), 0);
	assert_int_equal(r.version, 2);
	assert_int_equal(ops->policy_insert(f->s, &r, &f->e), BM_EEXIST);
	assert_string_equal(f->e.field, "version");
	assert_int_equal(ops->policy_get(f->s, 0, pol_cb, &got, &f->e), 0);
	assert_int_equal(got.v, 2);
	assert_string_equal(got.json, "{\"v\":2}");
	assert_string_equal(got.profile, "us");
	assert_int_equal(ops->policy_get(f->s, 1, pol_cb, &got, &f->e), 0);
	assert_string_equal(got.json, "{\"v\":1}");
	assert_int_equal(ops->policy_get(f->s, 3, pol_cb, &got, &f->e), BM_ENOTFOUND);
	got.n = 0;
	assert_int_equal(ops->policy_page(f->s, NULL, pol_cb, &got, &f->e), 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.v, 2);
	/* a page: after version 1, one at most */
	got.n = 0;
	assert_int_equal(ops->policy_page(f->s, &(struct store_page){1, 1}, pol_cb, &got, &f->e), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.v, 2);
	got.n = 0;
	assert_int_equal(ops->policy_page(f->s, &(struct store_page){2, 1}, pol_cb, &got, &f->e), 0);
	assert_int_equal(got.n, 0);
	r.json = NULL;
	r.version = 0;
	assert_int_equal(ops->policy_insert(f->s, &r, &f->e), BM_EINVAL);
}

/* --------------------------------------------------------------- audit */

static void make_event(struct audit_rec *r, int64_t seq, int64_t t, const char *actor,
		       const char *action, const char *subjects)
{
	memset(r, 0, sizeof *r);
	r->seq = seq;
	r->time_ms = t;
	snprintf(r->actor, sizeof r->actor, "%s", actor);
	snprintf(r->action, sizeof r->action, "%s", action);
	r->subjects = (char *)(uintptr_t)subjects;
	r->fields = (char *)(uintptr_t)"{\"name\":\"x\"}";
	memset(r->prev, (int)seq - 1, 32);
	memset(r->hash, (int)seq, 32);
}

/* Appends the six events the query tests filter. */
static void add_events(struct fx *f)
{
	static const struct { const char *actor, *action, *subj; } ev[] = {
		{ "alice", "person.add", "[\"E1\"]" },
		{ "bob", "person.update", "[\"E1\",\"E2\"]" },
		{ "alice", "unit.add", "[\"U1\"]" },
		{ "carol", "person", "[]" },
		{ "bob", "personnel.export", "[\"E2\", 7]" },
		{ "alice", "policy.set", "[\"E1\",\"E1\"]" },
	};
	struct audit_rec r;

	for (int i = 0; i < 6; i++) {
		make_event(&r, i + 1, 1000 * (i + 1), ev[i].actor, ev[i].action, ev[i].subj);
		assert_int_equal(ops->audit_insert(f->s, &r, &f->e), 0);
	}
}

static void test_audit_head_and_scan(void **state)
{
	struct fx *f = *state;
	struct audit_rec r;
	struct ids c = {0};
	uint8_t h[32], z[32] = {0};
	int64_t seq = -1;

	assert_int_equal(ops->audit_head(f->s, &seq, h, &f->e), 0);
	assert_int_equal(seq, 0);
	assert_memory_equal(h, z, 32);
	add_events(f);
	assert_int_equal(ops->audit_head(f->s, &seq, h, &f->e), 0);
	assert_int_equal(seq, 6);
	memset(z, 6, 32);
	assert_memory_equal(h, z, 32);
	assert_int_equal(ops->audit_scan(f->s, 1, 0, audit_cb, &c, &f->e), 0);
	assert_ids(&c, 6, 1, 2, 3, 4, 5, 6);
	c.n = 0;
	assert_int_equal(ops->audit_scan(f->s, 2, 4, audit_cb, &c, &f->e), 0);
	assert_ids(&c, 3, 2, 3, 4);
	/* A seq already taken is a concurrent append, not a silent overwrite. */
	make_event(&r, 3, 1, "mallory", "x", "[]");
	assert_int_equal(ops->audit_insert(f->s, &r, &f->e), BM_ECONFLICT);
	make_event(&r, 7, 1, "x", "x", "{\"not\":\"array\"}");
	assert_int_equal(ops->audit_insert(f->s, &r, &f->e), BM_EINVAL);
	assert_string_equal(f->e.field, "subjects");
	make_event(&r, 7, 1, "x", "x", "[\"unterminated");
	assert_int_equal(ops->audit_insert(f->s, &r, &f->e), BM_EINVAL);
	make_event(&r, 0, 1, "x", "x", "[]");
	assert_int_equal(ops->audit_insert(f->s, &r, &f->e), BM_EINVAL);
	/* None of the refused events left a trace. */
	assert_int_equal(ops->audit_head(f->s, &seq, h, &f->e), 0);
	assert_int_equal(seq, 6);
}

struct rec_copy { char actor[BM_ACTOR_MAX], action[64], subjects[64], fields[64]; uint8_t prev[32]; };

static int copy_cb(void *ctx, const struct audit_rec *r)
{
	struct rec_copy *c = ctx;

	snprintf(c->actor, sizeof c->actor, "%s", r->actor);
	snprintf(c->action, sizeof c->action, "%s", r->action);
	snprintf(c->subjects, sizeof c->subjects, "%s", r->subjects);
	snprintf(c->fields, sizeof c->fields, "%s", r->fields);
	memcpy(c->prev, r->prev, 32);
	return 0;
}

static void test_audit_fields_roundtrip(void **state)
{
	struct fx *f = *state;
	struct rec_copy c;
	uint8_t want[32];

	add_events(f);
	assert_int_equal(ops->audit_scan(f->s, 2, 2, copy_cb, &c, &f->e), 0);
	assert_string_equal(c.actor, "bob");
	assert_string_equal(c.action, "person.update");
	assert_string_equal(c.subjects, "[\"E1\",\"E2\"]");
	assert_string_equal(c.fields, "{\"name\":\"x\"}");
	memset(want, 1, 32);
	assert_memory_equal(c.prev, want, 32);
}

static void query(struct fx *f, struct audit_filter q, struct ids *c)
{
	*c = (struct ids){0};
	assert_int_equal(ops->audit_query(f->s, &q, audit_cb, c, &f->e), 0);
}

static void test_audit_query_filters(void **state)
{
	struct fx *f = *state;
	struct ids c;

	add_events(f);
	query(f, (struct audit_filter){ 0 }, &c);
	assert_ids(&c, 6, 1, 2, 3, 4, 5, 6);
	query(f, (struct audit_filter){ .since_ms = 4000 }, &c);
	assert_ids(&c, 3, 4, 5, 6);
	query(f, (struct audit_filter){ .actor = "alice" }, &c);
	assert_ids(&c, 3, 1, 3, 6);
	query(f, (struct audit_filter){ .action = "person.add" }, &c);
	assert_ids(&c, 1, 1);
	/* "person.*" matches person.add and person.update, not "person" or
	 * "personnel.export"; "person*" matches all three. */
	query(f, (struct audit_filter){ .action = "person.*" }, &c);
	assert_ids(&c, 2, 1, 2);
	query(f, (struct audit_filter){ .action = "person*" }, &c);
	assert_ids(&c, 4, 1, 2, 4, 5);
	query(f, (struct audit_filter){ .action = "*" }, &c);
	assert_int_equal(c.n, 6);
	query(f, (struct audit_filter){ .action = "person" }, &c);
	assert_ids(&c, 1, 4);
	query(f, (struct audit_filter){ .subject = "E1" }, &c);
	assert_ids(&c, 3, 1, 2, 6);
	query(f, (struct audit_filter){ .subject = "7" }, &c);
	assert_ids(&c, 1, 5);
	query(f, (struct audit_filter){ .subject = "E1", .actor = "alice" }, &c);
	assert_ids(&c, 2, 1, 6);
	query(f, (struct audit_filter){ .after_seq = 2, .limit = 2 }, &c);
	assert_ids(&c, 2, 3, 4);
	query(f, (struct audit_filter){ .actor = "bob", .action = "person*", .since_ms = 3000 },
	      &c);
	assert_ids(&c, 1, 5);
	query(f, (struct audit_filter){ .actor = "nobody" }, &c);
	assert_int_equal(c.n, 0);
	char big[200];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	c = (struct ids){0};
	assert_int_equal(ops->audit_query(f->s, &(struct audit_filter){ .action = big },
					  audit_cb, &c, &f->e), BM_EINVAL);
}

static void test_audit_append_only(void **state)
{
	struct fx *f = *state;
	char msg[256];

	add_events(f);
	ops->close(f->s);
	f->s = NULL;
	assert_int_not_equal(raw_exec(f->path, "UPDATE audit SET actor = 'eve' WHERE seq = 2",
				      msg, sizeof msg), SQLITE_OK);
	assert_string_equal(msg, "audit trail is append-only");
	assert_int_not_equal(raw_exec(f->path, "DELETE FROM audit WHERE seq = 6", msg,
				      sizeof msg), SQLITE_OK);
	assert_string_equal(msg, "audit trail is append-only");
	assert_int_not_equal(raw_exec(f->path, "DELETE FROM audit_subjects", msg, sizeof msg),
			     SQLITE_OK);
	/* Only by dropping the trigger can a tamperer change a row; the store
	 * then faithfully reports what is stored, for audit verify to judge. */
	assert_int_equal(raw_exec(f->path, "DROP TRIGGER audit_no_update; "
				  "UPDATE audit SET actor = 'eve' WHERE seq = 2", NULL, 0),
			 SQLITE_OK);
	assert_int_equal(ops->open(f->path, 0, &f->s, &f->e), 0);
	struct rec_copy c;
	assert_int_equal(ops->audit_scan(f->s, 2, 2, copy_cb, &c, &f->e), 0);
	assert_string_equal(c.actor, "eve");
}

/* -------------------------------------------------------- transactions */

static void test_rollback_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct ids c = {0};
	struct audit_rec r;
	struct unit_rec g;
	int64_t seq;
	uint8_t h[32];

	assert_int_equal(ops->begin(f->s, &f->e), 0);
	assert_int_equal(ops->begin(f->s, &f->e), BM_EINTERNAL);
	int64_t u = add_unit(f, "U", "u", 0);
	add_person(f, "E1", u, 1, 0);
	make_event(&r, 1, 1, "a", "unit.add", "[\"U\"]");
	assert_int_equal(ops->audit_insert(f->s, &r, &f->e), 0);
	assert_int_equal(ops->meta_set(f->s, "k", "v", &f->e), 0);
	ops->rollback(f->s);
	ops->rollback(f->s);  /* harmless when nothing is open */
	assert_int_equal(ops->unit_get(f->s, 0, "U", &g, &f->e), BM_ENOTFOUND);
	assert_int_equal(ops->person_list(f->s, NULL, person_cb, &c, &f->e), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(ops->audit_head(f->s, &seq, h, &f->e), 0);
	assert_int_equal(seq, 0);
	query(f, (struct audit_filter){ .subject = "U" }, &c);
	assert_int_equal(c.n, 0);
	/* And a committed transaction survives reopening. */
	assert_int_equal(ops->begin(f->s, &f->e), 0);
	add_unit(f, "V", "v", 0);
	assert_int_equal(ops->commit(f->s, &f->e), 0);
	ops->close(f->s);
	assert_int_equal(ops->open(f->path, 0, &f->s, &f->e), 0);
	assert_int_equal(ops->unit_get(f->s, 0, "V", &g, &f->e), 0);
}

static void test_busy_writer(void **state)
{
	struct fx *f = *state;
	struct store *s2 = NULL;
	sqlite3 *db;

	/* Another process holds the write lock for longer than the store's
	 * 5 s busy timeout: begin must give up with BM_EBUSY, not hang. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(ops->open(f->path, 0, &s2, &f->e), 0);
	assert_int_equal(ops->begin(s2, &f->e), BM_EBUSY);
	/* the message reaches API clients (429): it must not say where the
	 * database file is */
	assert_null(strstr(f->e.msg, f->path));
	assert_non_null(strstr(f->e.msg, "busy"));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_int_equal(ops->begin(s2, &f->e), 0);
	ops->rollback(s2);
	ops->close(s2);
}

static void test_bulk_hint(void **state)
{
	struct fx *f = *state;
	int64_t u = add_unit(f, "U", "u", 0);
	struct ids c = {0};

	ops->bulk_hint(f->s, true);
	assert_int_equal(ops->begin(f->s, &f->e), 0);
	for (int i = 0; i < 40; i++) {
		char ext[16];
		snprintf(ext, sizeof ext, "B%03d", i);
		add_person(f, ext, u, i % 4, i % 9);
	}
	assert_int_equal(ops->commit(f->s, &f->e), 0);
	ops->bulk_hint(f->s, false);
	assert_int_equal(ops->person_list(f->s, NULL, person_cb, &c, &f->e), 0);
	assert_int_equal(c.n, 40);
}

static void test_memory_db(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ops->open(":memory:", STORE_CREATE, &f->s, &f->e), 0);
	add_unit(f, "M", "in memory", 0);
}

/* ---------------------------------------------------------------- vetting */

static int facts_keep(void *ctx, const struct facts_rec *r)
{
	*(struct facts_rec *)ctx = *r;
	return 0;
}

static int count_any(void *ctx, const void *r)
{
	(void)r;
	++*(int *)ctx;
	return 0;
}

static int count_review(void *ctx, const struct review_rec *r) { return count_any(ctx, r); }
static int count_item(void *ctx, const struct review_item_rec *r) { return count_any(ctx, r); }
static int count_appr(void *ctx, const struct approval_rec *r) { return count_any(ctx, r); }
static int count_matter(void *ctx, const struct matter_rec *r) { return count_any(ctx, r); }

/* The review in force is the latest decided one; an open review does not
 * count; a suspension in force and the open post start show in the facts. */
static void test_vetting_records_and_facts(void **state)
{
	struct fx *f = *state;
	int64_t u = add_unit(f, "HQ", "HQ", 0), pid = add_person(f, "E1", u, 2, 3);
	struct review_rec r1 = {.person_id = pid, .level = 2, .state = REVIEW_APPROVED,
				.decided_at = 1000, .valid_until = 5000};
	struct review_rec r2 = {.person_id = pid, .level = 3, .state = REVIEW_OPEN};
	struct suspension_rec su = {.person_id = pid, .since = 1500};
	struct facts_rec fr;
	int n = 0;

	strcpy(r1.trigger, "initial");
	strcpy(r2.trigger, "rereview");
	assert_int_equal(ops->review_insert(f->s, &r1, &f->e), 0);
	assert_int_equal(ops->review_insert(f->s, &r2, &f->e), 0);
	assert_int_equal(ops->facts_scan(f->s, pid, facts_keep, &fr, &f->e), 0);
	assert_string_equal(fr.ext_id, "E1");
	assert_int_equal(fr.review_id, r1.id);
	assert_int_equal(fr.review_level, 2);
	assert_int_equal(fr.review_valid_until, 5000);
	assert_int_equal(fr.suspended_since, 0);
	/* Rejecting the re-review later makes it the review in force. */
	r2.state = REVIEW_REJECTED;
	r2.decided_at = 2000;
	assert_int_equal(ops->review_update(f->s, &r2, &f->e), 0);
	assert_int_equal(r2.version, 2);
	r2.version = 1;
	assert_int_equal(ops->review_update(f->s, &r2, &f->e), BM_ECONFLICT);
	assert_int_equal(ops->suspension_insert(f->s, &su, &f->e), 0);
	assert_int_equal(ops->facts_scan(f->s, 0, facts_keep, &fr, &f->e), 0);
	assert_int_equal(fr.review_id, r2.id);
	assert_int_equal(fr.review_state, REVIEW_REJECTED);
	assert_int_equal(fr.suspended_since, 1500);
	su.lifted_at = 1600;
	assert_int_equal(ops->suspension_update(f->s, &su, &f->e), 0);
	assert_int_equal(ops->facts_scan(f->s, pid, facts_keep, &fr, &f->e), 0);
	assert_int_equal(fr.suspended_since, 0);
	assert_int_equal(ops->review_find(f->s, &(struct review_filter){pid, -1, 0}, count_review,
					  &n, &f->e), 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(ops->review_find(f->s, &(struct review_filter){0, REVIEW_OPEN, 0},
					  count_review, &n, &f->e), 0);
	assert_int_equal(n, 0);   /* no open review left */
	assert_int_equal(ops->review_find(f->s, &(struct review_filter){0, REVIEW_REJECTED, 0},
					  count_review, &n, &f->e), 0);
	assert_int_equal(n, 1);
}

static void test_vetting_items_approvals_matters(void **state)
{
	struct fx *f = *state;
	int64_t u = add_unit(f, "HQ", "HQ", 0), pid = add_person(f, "E1", u, 2, 1);
	struct review_rec r = {.person_id = pid, .level = 2};
	struct review_item_rec it = {.item = 1, .finding = 1};
	struct approval_rec ap = {.decision = 1};
	struct matter_rec m = {.person_id = pid};
	int n = 0;

	strcpy(r.trigger, "initial");
	assert_int_equal(ops->review_insert(f->s, &r, &f->e), 0);
	it.review_id = ap.review_id = r.id;
	assert_int_equal(ops->review_item_set(f->s, &it, &f->e), 0);
	it.finding = 2;     /* replaces, does not add */
	assert_int_equal(ops->review_item_set(f->s, &it, &f->e), 0);
	it.item = 7;        /* the checklist has six items */
	assert_int_equal(ops->review_item_set(f->s, &it, &f->e), BM_EINVAL);
	assert_int_equal(ops->review_item_list(f->s, r.id, count_item, &n, &f->e), 0);
	assert_int_equal(n, 1);
	strcpy(ap.approver, "alice");
	assert_int_equal(ops->approval_insert(f->s, &ap, &f->e), 0);
	assert_int_equal(ops->approval_insert(f->s, &ap, &f->e), BM_EEXIST);
	n = 0;
	assert_int_equal(ops->approval_list(f->s, r.id, count_appr, &n, &f->e), 0);
	assert_int_equal(n, 1);
	strcpy(m.type, "leak");
	assert_int_equal(ops->matter_insert(f->s, &m, &f->e), 0);
	m.person_id = 999;
	assert_int_equal(ops->matter_insert(f->s, &m, &f->e), BM_ENOTFOUND);
	n = 0;
	assert_int_equal(ops->matter_page(f->s, pid, NULL, count_matter, &n, &f->e), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(ops->matter_page(f->s, pid, &(struct store_page){m.id, 0}, count_matter,
					  &n, &f->e), 0);
	assert_int_equal(n, 0);     /* nothing after the only one */
	assert_int_equal(ops->review_get(f->s, 12345, &r, &f->e), BM_ENOTFOUND);
}

/* PRAGMA wal_checkpoint(PASSIVE) through its own connection: 1 when every
 * frame of the WAL reached the database file. */
static int checkpoint_complete(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int done = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(PASSIVE)", -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	done = sqlite3_column_int(q, 1) == sqlite3_column_int(q, 2);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return done;
}

/* The pin holds the snapshot of the moment it was taken (not of its first
 * read), other connections still see every commit, and a renewal lets a
 * checkpoint finish. */
static void test_read_pin(void **state)
{
	struct fx *f = *state;
	struct store *pin = NULL, *rd = NULL;
	int64_t v = -1;

	assert_int_equal(ops->open(f->path, 0, &pin, &f->e), 0);
	assert_int_equal(ops->open(f->path, 0, &rd, &f->e), 0);
	assert_int_equal(ops->read_pin(pin, false, &f->e), 0);
	assert_int_equal(ops->begin(f->s, &f->e), 0);
	assert_int_equal(ops->counter_bump(f->s, "pin_test", &f->e), 0);
	assert_int_equal(ops->commit(f->s, &f->e), 0);

	assert_int_equal(ops->read_begin(rd, &f->e), 0);
	assert_int_equal(ops->counter_get(rd, "pin_test", &v, &f->e), 0);
	assert_int_equal(v, 1);                          /* not held back */
	ops->read_end(rd);
	assert_int_equal(ops->counter_get(pin, "pin_test", &v, &f->e), 0);
	assert_int_equal(v, 0);                          /* the pin's own moment */
	assert_int_equal(checkpoint_complete(f->path), 0);

	assert_int_equal(ops->read_pin(pin, false, &f->e), 0);  /* renewal */
	assert_int_equal(ops->counter_get(pin, "pin_test", &v, &f->e), 0);
	assert_int_equal(v, 1);
	assert_int_equal(checkpoint_complete(f->path), 1);
	ops->read_end(pin);
	ops->close(rd);
	ops->close(pin);
}

static long long wal_bytes(const char *db)
{
	char p[160];
	struct stat st;

	snprintf(p, sizeof p, "%s-wal", db);
	return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

/* A trickle of commits, each followed by a checkpoint from another
 * connection (as SQLite's own autocheckpoint would run) and a renewal of
 * the pin.  Renewals that checkpoint let the WAL start over: the file
 * stops growing.  Renewals that do not keep every checkpoint one commit
 * short of complete, so the WAL never starts over and keeps every frame. */
static void test_read_pin_lets_wal_restart(void **state)
{
	struct fx *f = *state;
	struct store *pin = NULL;
	long long before, with = 0, without;

	assert_int_equal(ops->open(f->path, 0, &pin, &f->e), 0);
	assert_int_equal(ops->read_pin(pin, true, &f->e), 0);
	before = wal_bytes(f->path);
	assert_true(before > 0);
	for (int i = 0; i < 2; i++) {
		for (int n = 0; n < 100; n++) {
			assert_int_equal(ops->begin(f->s, &f->e), 0);
			assert_int_equal(ops->counter_bump(f->s, "trickle", &f->e), 0);
			assert_int_equal(ops->commit(f->s, &f->e), 0);
			assert_int_equal(checkpoint_complete(f->path), 0);  /* the pin lags */
			assert_int_equal(ops->read_pin(pin, i == 0, &f->e), 0);
		}
		if (i == 0)
			with = wal_bytes(f->path);
	}
	without = wal_bytes(f->path);
	assert_true(with == before);                  /* reused from its start */
	assert_true(without >= 100 * 4096);           /* a frame per commit, kept */
	ops->read_end(pin);
	ops->close(pin);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
#define TO(fn) cmocka_unit_test_setup_teardown(fn, fx_open_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_create_then_open),
		T(test_create_refuses_existing),
		T(test_open_missing),
		T(test_newer_schema_refused),
		T(test_not_sqlite_refused),
		T(test_foreign_sqlite_refused),
		T(test_readonly),
		TO(test_schema_is_strict_and_indexed),
		TO(test_meta),
		TO(test_units),
		TO(test_unit_within_tree),
		TO(test_posts),
		TO(test_person_roundtrip),
		TO(test_person_errors),
		TO(test_person_update_versions),
		TO(test_person_list_filters),
		TO(test_walk_stop_and_reentry),
		TO(test_person_find_sealed),
		TO(test_person_counts),
		TO(test_appointments),
		TO(test_appointment_open_end),
		TO(test_policies),
		TO(test_audit_head_and_scan),
		TO(test_audit_fields_roundtrip),
		TO(test_audit_query_filters),
		TO(test_audit_append_only),
		TO(test_rollback_leaves_nothing),
		TO(test_busy_writer),
		TO(test_bulk_hint),
		T(test_memory_db),
		TO(test_vetting_records_and_facts),
		TO(test_vetting_items_approvals_matters),
		TO(test_read_pin),
		TO(test_read_pin_lets_wal_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
