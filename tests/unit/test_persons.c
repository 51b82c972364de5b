/*
 * test_persons.c - the person view through the service layer.  The text
 * the HTTP API sends (svc_person_show_text, written without a JSON tree)
 * must be canonical compact JSON (it parses, and jdump of the parse gives
 * the same bytes, so every escape is right), must carry what the user
 * entered (odd names, sealed fields masked or revealed, every appointment)
 * and must equal the tree the CLI prints (svc_person_show), failing the
 * same way (unknown id, no permission).  A real database in a temporary
 * directory.  The list view shares the record part of the text (test_list_view).
 */
#include "service/service.h"
#include "core/role.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/jdump.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "svc_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1767225600  /* 2026-01-01 */
#define DAY 86400

static int setup(void **state)
{
	const struct post_input posts[] = {
		{"P1", "HQ", "confidential", "", "c"},
		{"P2", "HQ", "secret", "ALPHA", "机要 \"秘书\""},
		{"P3", "HQ", "top_secret", "ALPHA,BRAVO", "ts"},
	};

	*state = fx_open(T0, posts, sizeof posts / sizeof posts[0]);
	return 0;
}

static int teardown(void **state)
{
	return fx_close(state);
}

static void add_person(struct fx *f, const char *id, const char *name, const char *nid,
		       const char *pp)
{
	const struct person_input in = {id, name, "HQ", nid, pp};
	struct person_rec r;

	assert_int_equal(svc_person_add(f->s, &local, &in, &r, &f->e), 0);
}

static void appoint(struct fx *f, const char *id, const char *post, const char *start,
		    const char *end)
{
	const struct appt_input in = {id, post, start, end};
	struct appt_rec r;

	if (svc_appt_add(f->s, &local, &in, &r, &f->e) != 0)
		fail_msg("appointment %s %s: %s", id, post, f->e.msg);
}

/* Opens a review of id at level, finds all six items clear and approves
 * it (twice when the level needs two approvers). */
static void vet(struct fx *f, const char *id, const char *level)
{
	static const struct actor rev1 = {.name = "rev1", .roles = ROLE_REVIEWER};
	static const struct actor rev2 = {.name = "rev2", .roles = ROLE_REVIEWER};
	int64_t rid = fx_review_clear(f, id, level);
	json_t *v;

	v = svc_review_decide(f->s, &rev1, rid, true, "fine", 0, &f->e);
	assert_non_null(v);
	if (strcmp(json_string_value(json_object_get(v, "state")), "approved") != 0) {
		json_decref(v);
		v = svc_review_decide(f->s, &rev2, rid, true, "fine", 0, &f->e);
		assert_non_null(v);
	}
	json_decref(v);
}

/* The text view of id as actor a, parsed into *out (NULL unless 0 is
 * returned): checked canonical and equal to the tree view. */
static int view(struct fx *f, const struct actor *a, const char *id, bool reveal, json_t **out)
{
	struct bm_err e1 = BM_ERR_INIT, e2 = BM_ERR_INIT;
	json_t *tree = svc_person_show(f->s, a, id, reveal, &e1), *v = NULL;
	struct buf got = BUF_INIT, again = BUF_INIT;
	int64_t version = -1;
	int rc = svc_person_show_text(f->s, a, id, reveal, &got, &version, &e2);
	json_error_t je;

	if (tree == NULL) {
		assert_int_not_equal(rc, 0);
		assert_int_equal(rc, e1.code);
		assert_string_equal(e1.msg, e2.msg);
		assert_string_equal(e1.field, e2.field);
	} else {
		assert_int_equal(rc, 0);
		v = json_loadb(got.p, got.len, JSON_REJECT_DUPLICATES, &je);
		if (v == NULL)
			fail_msg("not JSON (%s): %s", je.text, buf_cstr(&got));
		jdump(v, &again);
		assert_string_equal(buf_cstr(&again), buf_cstr(&got));
		assert_true(json_equal(v, tree));
		assert_int_equal(version, json_integer_value(json_object_get(v, "version")));
		json_decref(tree);
	}
	*out = v;
	buf_free(&again);
	buf_free(&got);
	bm_err_clear(&e1);
	bm_err_clear(&e2);
	return rc;
}

/* The string member key of v, "" when absent or not a string. */
static const char *str(json_t *v, const char *key)
{
	const char *s = json_string_value(json_object_get(v, key));

	return s ? s : "";
}

/* Both renderings of one person as actor a; returns the text's code. */
static int compare(struct fx *f, const struct actor *a, const char *id, bool reveal)
{
	json_t *v;
	int rc = view(f, a, id, reveal, &v);

	if (rc == 0) {
		assert_string_equal(str(v, "id"), id);
		assert_string_equal(str(v, "unit"), "HQ");
	}
	json_decref(v);
	return rc;
}

/* Unicode, quotes and backslashes in the name; no appointment at all;
 * neither national id nor passport. */
static void test_odd_name_no_appointments(void **state)
{
	struct fx *f = *state;

	const char *name = "José \"Pepe\" Müller \\ 王小明 😀";
	json_t *v;

	add_person(f, "U1", name, NULL, NULL);
	assert_int_equal(compare(f, &local, "U1", false), 0);
	assert_int_equal(view(f, &local, "U1", true, &v), 0);
	assert_string_equal(str(v, "name"), name);
	assert_true(json_is_null(json_object_get(v, "national_id")));
	assert_true(json_is_null(json_object_get(v, "passport")));
	assert_int_equal(json_array_size(json_object_get(v, "appointments")), 0);
	json_decref(v);
}

/* Sealed fields masked and revealed; many appointments, ended and open,
 * on posts with and without compartments. */
static void test_many_appointments(void **state)
{
	struct fx *f = *state;
	const char *posts[] = {"P1", "P2", "P3"};
	char start[16], end[16];
	struct buf text = BUF_INIT;
	int64_t version;

	add_person(f, "M1", "Anna", "110101199003071234", "E12345678");
	vet(f, "M1", "top_secret");
	for (int i = 0; i < 60; i++) {
		clock_fmt_date(T0 - (int64_t)(120 - i * 2) * DAY, start);
		clock_fmt_date(T0 - (int64_t)(119 - i * 2) * DAY, end);
		appoint(f, "M1", posts[i % 3], start, i < 57 ? end : NULL);
	}
	assert_int_equal(compare(f, &local, "M1", false), 0);
	assert_int_equal(compare(f, &local, "M1", true), 0);
	/* what a user sees: the masked id, the last appointment still open */
	assert_int_equal(svc_person_show_text(f->s, &local, "M1", false, &text, &version, &f->e),
			 0);
	assert_non_null(strstr(buf_cstr(&text), "\"national_id\":\"**************1234\""));
	assert_null(strstr(buf_cstr(&text), "110101199003071234"));
	assert_non_null(strstr(buf_cstr(&text), "\"end\":null,\"open\":true}]}"));
	buf_free(&text);
	/* revealed: the clear documents; every appointment with its post */
	json_t *v, *ap;
	assert_int_equal(view(f, &local, "M1", true, &v), 0);
	assert_string_equal(str(v, "national_id"), "110101199003071234");
	assert_string_equal(str(v, "passport"), "E12345678");
	ap = json_object_get(v, "appointments");
	assert_int_equal(json_array_size(ap), 60);
	for (size_t i = 0; i < 60; i++) {
		json_t *x = json_array_get(ap, i);

		assert_string_equal(str(x, "post"), posts[i % 3]);
		assert_int_equal(json_is_true(json_object_get(x, "open")), i >= 57);
	}
	assert_string_equal(str(json_array_get(ap, 1), "level"), "secret");
	json_decref(v);
}

/* A very short national id keeps nothing hidden beyond its length rule;
 * a long passport is cut exactly as the tree does. */
static void test_short_and_long_documents(void **state)
{
	struct fx *f = *state;

	json_t *v;

	add_person(f, "S1", "Short", "1234", "AB1234567890123456789012345678901234");
	assert_int_equal(compare(f, &local, "S1", true), 0);
	assert_int_equal(view(f, &local, "S1", false, &v), 0);
	assert_string_equal(str(v, "national_id"), "1234");   /* four shown: all of it */
	assert_string_equal(str(v, "passport"), "********************************1234");
	json_decref(v);
}

/* The same refusals: an unknown or malformed id, an actor without the
 * permission, an empty id. */
static void test_same_errors(void **state)
{
	struct fx *f = *state;
	const struct actor nobody = {.name = "nobody", .roles = 0};

	add_person(f, "E1", "Ed", NULL, NULL);
	assert_int_equal(compare(f, &local, "NOPE", false), BM_ENOTFOUND);
	assert_int_equal(compare(f, &local, "bad id!", false), BM_ENOTFOUND);
	assert_int_equal(compare(f, &local, "", false), BM_ENOTFOUND);
	assert_int_not_equal(compare(f, &nobody, "E1", false), 0);
}

static int collect(void *ctx, json_t *view)
{
	json_array_append(ctx, view);
	return 0;
}

/* The list view is the full view's record with has_national_id and
 * has_passport in place of the documents and no appointments: the same
 * values, never a document. */
static void test_list_view(void **state)
{
	struct fx *f = *state;
	struct svc_page pg = {.limit = 10};
	const struct person_query q = {.page = &pg};
	json_t *all = json_array(), *full, *x;
	const char *k;

	add_person(f, "L1", "Lü \"Li\"", "110101199003071234", NULL);
	add_person(f, "L2", "Lee", NULL, NULL);
	assert_int_equal(svc_person_list(f->s, &local, &q, collect, all, &f->e), 0);
	assert_int_equal(json_array_size(all), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_array_get(all, i);

		assert_int_equal(view(f, &local, str(v, "id"), false, &full), 0);
		json_object_foreach(full, k, x) {
			if (strcmp(k, "national_id") && strcmp(k, "passport") && strcmp(k, "appointments"))
				assert_true(json_equal(x, json_object_get(v, k)));
		}
		assert_int_equal(json_object_size(v), json_object_size(full) - 3 + 2);
		assert_true(json_is_true(json_object_get(v, "has_national_id")) == (i == 0));
		assert_true(json_is_false(json_object_get(v, "has_passport")));
		json_decref(full);
	}
	json_decref(all);
}

/* Found by fuzz_cursor: libsodium's URL-safe decoder reads every byte
 * from 0x80 up as '_', so a cursor with any such byte in place of a '_'
 * was taken as the cursor it was sealed as: one cursor had many spellings,
 * and bytes that are no base64 reached the decoder.  Every spelling but
 * the one given out is refused, naming "cursor"; the one given out reads
 * back for its list only. */
static void test_cursor_has_one_spelling(void **state)
{
	struct fx *f = *state;
	char c[SVC_CURSOR_MAX], m[SVC_CURSOR_MAX];
	int64_t id = -1;
	uint64_t scope = 0;
	int found = 0;

	for (int64_t want = 1; found < 3 && want < 4000; want++) {
		char *u;

		svc_cursor_make(f->s, 'p', want, 0x0123456789abcdefull + (uint64_t)want, c);
		assert_int_equal(svc_cursor_read(f->s, 'p', c, &id, &scope, &f->e), 0);
		assert_int_equal(id, want);
		assert_true(scope == 0x0123456789abcdefull + (uint64_t)want);
		assert_int_equal(svc_cursor_read(f->s, 'r', c, &id, &scope, &f->e), BM_EUSAGE);
		if ((u = strchr(c, '_')) == NULL)
			continue;
		found++;
		for (int x = 0x80; x <= 0xFF; x += 0x2B) {
			strcpy(m, c);
			m[u - c] = (char)x;
			id = 7;
			assert_int_equal(svc_cursor_read(f->s, 'p', m, &id, &scope, &f->e),
					 BM_EUSAGE);
			assert_string_equal(f->e.field, "cursor");
			assert_int_equal(id, 0);
		}
	}
	assert_int_equal(found, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_odd_name_no_appointments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_appointments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_and_long_documents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_has_one_spelling, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
