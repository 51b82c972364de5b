/*
 * fuzz_body.c - libFuzzer target for the JSON bodies clients send: the HTTP
 * layer's strict reading (problem_parse_object, problem_check_fields with
 * the handlers' field specs) and, for what it lets through, the service
 * calls the handlers make with it (a review finding, a matter, a person
 * added or renamed).  The first input byte picks the route; the rest is the
 * body.  Properties:
 *   - the body is accepted as an object exactly when jansson's strict parse
 *     gives one, and the field check counts exactly the problems a plain
 *     model of the spec counts (unknown, missing, wrong type, NUL, too long);
 *   - every refusal, of either layer or of the service, says something in
 *     valid, printable UTF-8 and renders to a complete problem document;
 *   - what the service accepts reads back as sent (finding and note, the
 *     matter's detail, the person's name, unit and normalised national id),
 *     and what a plain model of its text rules accepts, it accepts.
 * The service runs over a temporary database made once; per input it adds
 * at most one row (persons and matters are refused when the id exists).
 */
#include "http/problem.h"
#include "fuzz_svc.h"
#include "lib/clock.h"
#include "lib/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define T0 1767225600

/* The handlers' specs (src/http/handlers.c), as a client meets them. */
static const struct problem_field finding_spec[] = {
	{"finding", PF_STRING, true, 32, 0}, {"note", PF_STRING, false, 2000, 0}};
static const struct problem_field matter_spec[] = {
	{"person", PF_STRING, true, 63, 0}, {"type", PF_STRING, true, 63, 0},
	{"detail", PF_STRING, false, 2000, 0}};
static const struct problem_field person_spec[] = {
	{"id", PF_STRING, true, 63, 0}, {"name", PF_STRING, true, 255, 0},
	{"unit", PF_STRING, true, 63, 0}, {"national_id", PF_STRING, false, 63, 0},
	{"passport", PF_STRING, false, 63, 0}};
static const struct problem_field patch_spec[] = {
	{"name", PF_STRING, false, 255, 0}, {"unit", PF_STRING, false, 63, 0}};
static const struct problem_field verdict_spec[] = {
	{"approve", PF_BOOLEAN, true, 0, 0}, {"reason", PF_STRING, true, 2000, 0}};
static const struct problem_field login_spec[] = {
	{"name", PF_STRING, true, 63, 0}, {"password", PF_STRING, true, 127, 0}};
static const struct problem_field account_spec[] = {
	{"name", PF_STRING, true, 63, 0}, {"password", PF_STRING, false, 127, 0},
	{"roles", PF_STRARRAY, false, 16, 7}, {"scope", PF_STRING, false, 63, 0},
	{"person", PF_STRING, false, 63, 0}};
static const struct problem_field post_spec[] = {
	{"code", PF_STRING, true, 63, 0}, {"unit", PF_STRING, true, 63, 0},
	{"level", PF_STRING, true, 32, 0}, {"compartments", PF_STRARRAY, false, 63, 32},
	{"title", PF_STRING, false, 255, 0}};

static const struct {
	const struct problem_field *spec;
	size_t n;
} routes[] = {
	{finding_spec, 2}, {matter_spec, 3}, {person_spec, 5}, {patch_spec, 2},
	{verdict_spec, 2}, {login_spec, 2}, {account_spec, 5}, {post_spec, 5},
};

static int64_t rid;


/* Unit HQ, persons E1 (renamed by patches) and R1 with an open review. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct unit_input ui = {"HQ", "HQ", NULL};
	struct person_input e1 = {"E1", "Name", "HQ", NULL, NULL};
	struct person_input r1 = {"R1", "Name", "HQ", NULL, NULL};
	struct bm_err e = BM_ERR_INIT;
	struct person_rec pr;
	struct unit_rec u;
	json_t *v;

	(void)argc;
	(void)argv;
	fz_svc_open("fuzz_body", T0);
	must(svc_unit_add(svc, &local, &ui, &u, &e) == 0, "unit", &e);
	must(svc_person_add(svc, &local, &e1, &pr, &e) == 0, "E1", &e);
	must(svc_person_add(svc, &local, &r1, &pr, &e) == 0, "R1", &e);
	v = svc_review_open(svc, &local, "R1", "secret", &e);
	must(v != NULL, "review", &e);
	rid = json_integer_value(json_object_get(v, "id"));
	json_decref(v);
	return 0;
}

/* A refusal says something readable and renders as a whole problem. */
static void refusal(const struct bm_err *e)
{
	json_t *p, *errs;
	int status;
	char *text;

	if (e->code == 0 || e->msg[0] == '\0' || !utf8_valid(e->msg, strlen(e->msg), NULL) ||
	    !utf8_printable(e->msg, strlen(e->msg)))
		abort();
	if ((p = problem_from_err(e, "rq", &status)) == NULL || status < 400 || status >= 500)
		abort();
	errs = json_object_get(p, "errors");
	if (json_array_size(errs) != (e->nitems ? e->nitems : e->field[0] != '\0'))
		abort(); /* an item that could not be rendered went missing */
	if ((text = json_dumps(p, 0)) == NULL)
		abort();
	free(text);
	json_decref(p);
}

/* ---- the field-check model ---- */

static bool string_ok(const json_t *v, size_t max)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	return s != NULL && memchr(s, '\0', n) == NULL &&
	       utf8_count(s, n) <= (max ? max : 1024);
}

/* How many problems spec finds in obj, counted plainly. */
static size_t problems(json_t *obj, const struct problem_field *spec, size_t n)
{
	size_t count = 0, i;
	const char *k;
	json_t *v, *x;

	json_object_foreach(obj, k, v) {
		const struct problem_field *f = NULL;

		for (i = 0; i < n; i++)
			if (strcmp(spec[i].name, k) == 0)
				f = &spec[i];
		if (f == NULL) {
			count++;
		} else if (json_is_null(v)) {
		} else if (f->type == PF_STRING) {
			count += !string_ok(v, f->max_len);
		} else if (f->type == PF_BOOLEAN) {
			count += !json_is_boolean(v);
		} else if (!json_is_array(v) || json_array_size(v) > f->max_items) {
			count++;
		} else {
			json_array_foreach(v, i, x)
				count += !string_ok(x, f->max_len);
		}
	}
	for (i = 0; i < n; i++) {
		v = json_object_get(obj, spec[i].name);
		count += spec[i].required && (v == NULL || json_is_null(v));
	}
	return count;
}

/* ---- service round trips ---- */

/* The handlers' str(): a string member or NULL. */
static const char *str(json_t *b, const char *k)
{
	return json_string_value(json_object_get(b, k));
}

/* svc__check_text's rules for a text, modelled: a required one must hold
 * more than spaces of any width. */
static bool text_ok_req(const char *v, bool required)
{
	size_t n = v ? strlen(v) : 0;

	if (n == 0 || strspn(v, " \t") == n)
		return !required;
	return n < 512 /* BM_REASON_MAX */ && utf8_valid(v, n, NULL) && utf8_printable(v, n) &&
	       !(required && utf8_blank(v, n));
}

static bool text_ok(const char *v)
{
	return text_ok_req(v, false);
}

static bool same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static void finding(json_t *b, int item)
{
	static const char *const names[] = {"clear", "concern", "disqualifying"};
	struct bm_err e = BM_ERR_INIT;
	const char *f = str(b, "finding"), *note = str(b, "note");
	bool known = false;
	json_t *v = svc_review_finding(svc, &local, rid, item, f, note, 0, &e), *it;

	for (size_t i = 0; i < 3; i++)
		known = known || same(f, names[i]);
	if (v == NULL) {
		refusal(&e);
		if (known && text_ok_req(note, !same(f, "clear")))
			abort();
	} else {
		json_t *x;
		size_t i;

		it = NULL; /* the recorded items, in any order */
		json_array_foreach(json_object_get(v, "items"), i, x)
			if (json_integer_value(json_object_get(x, "item")) == item)
				it = x;
		if (!known || !text_ok_req(note, !same(f, "clear")) || !same(str(it, "finding"), f) ||
		    (note && note[strspn(note, " \t")] && !same(str(it, "note"), note)))
			abort();
	}
	json_decref(v);
	bm_err_clear(&e);
}

static void matter(json_t *b)
{
	struct bm_err e = BM_ERR_INIT;
	const char *det = str(b, "detail");
	json_t *v = svc_matter_file(svc, &local, str(b, "person"), str(b, "type"), det, &e);

	if (v == NULL) {
		refusal(&e);
	} else {
		/* filed about a person who exists (added by an earlier input) */
		json_t *p = svc_person_show(svc, &local, str(b, "person"), false, &e);

		if (p == NULL || !text_ok(det) ||
		    (det && det[strspn(det, " \t")] && !same(str(v, "detail"), det)))
			abort();
		json_decref(p);
	}
	json_decref(v);
	bm_err_clear(&e);
}

/* A shown person's name and unit as sent. */
static void shows(const char *id, const char *name, const char *unit)
{
	struct bm_err e = BM_ERR_INIT;
	json_t *v = svc_person_show(svc, &local, id, true, &e);

	if (v == NULL || (name && !same(str(v, "name"), name)) ||
	    (unit && !same(str(v, "unit"), unit)))
		abort();
	json_decref(v);
}

static void person_add(json_t *b)
{
	struct bm_err e = BM_ERR_INIT;
	struct person_input in = {str(b, "id"), str(b, "name"), str(b, "unit"),
				  str(b, "national_id"), str(b, "passport")};
	struct person_rec r;

	if (svc_person_add(svc, &local, &in, &r, &e) != 0)
		refusal(&e);
	else
		shows(in.ext_id, in.name, in.unit);
	bm_err_clear(&e);
}

static void person_patch(json_t *b)
{
	struct bm_err e = BM_ERR_INIT;
	struct person_patch in = {str(b, "name"), str(b, "unit"), 0};
	struct person_rec r;

	if (svc_person_update(svc, &local, "E1", &in, &r, &e) != 0)
		refusal(&e);
	else
		shows("E1", in.name, in.unit);
	bm_err_clear(&e);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct bm_err e = BM_ERR_INIT;
	size_t r, want;
	json_t *b, *model;

	if (size < 1)
		return 0;
	r = data[0] % (sizeof routes / sizeof routes[0]);
	model = json_loadb((const char *)data + 1, size - 1,
			   JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	b = problem_parse_object((const char *)data + 1, size - 1, &e);
	if ((b == NULL) != (model == NULL || !json_is_object(model)))
		abort();
	if (b == NULL) {
		if (e.code != BM_EUSAGE || e.field[0] != '$')
			abort();
		refusal(&e);
		goto out;
	}
	want = problems(b, routes[r].spec, routes[r].n);
	if ((problem_check_fields(b, routes[r].spec, routes[r].n, &e) != 0) != (want != 0) ||
	    e.total != want)
		abort();
	if (want != 0) {
		refusal(&e);
		goto out;
	}
	if (r == 0)
		finding(b, 1 + data[0] / 8 % 6);
	else if (r == 1)
		matter(b);
	else if (r == 2)
		person_add(b);
	else if (r == 3)
		person_patch(b);
out:
	json_decref(model);
	json_decref(b);
	bm_err_clear(&e);
	return 0;
}
