/*
 * test_policy.c - the built-in profiles carry exactly DESIGN.md's numbers,
 * every policy round-trips through JSON, and every kind of bad document is
 * refused with an item naming the exact JSON path, all problems at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"

#define ALL_GATES_NOW ((1u << GATE_REVIEW) | (1u << GATE_NOT_SUSPENDED) | (1u << GATE_ON_POST))

struct cat_want {
	int rereview, decon, decon_min, decon_max, hours, pass, valid, renewal, approvers;
};

static void assert_cat(const struct policy_category *c, struct cat_want w)
{
	assert_int_equal(c->rereview_days, w.rereview);
	assert_int_equal(c->decon_days, w.decon);
	assert_int_equal(c->decon_min_days, w.decon_min);
	assert_int_equal(c->decon_max_days, w.decon_max);
	assert_int_equal(c->training_hours, w.hours);
	assert_int_equal(c->exam_pass_percent, w.pass);
	assert_int_equal(c->exam_valid_days, w.valid);
	assert_int_equal(c->renewal_days, w.renewal);
	assert_int_equal(c->approvers, w.approvers);
	assert_int_equal(c->gates, ALL_GATES_NOW);
}

static void assert_reminders_and_matters(const struct policy *p)
{
	static const char *const suspend[] = {"leak", "foreign_approach"};
	static const char *const rereview[] = {"foreign_funding", "foreign_marriage",
					       "family_abroad", "other", "violation"};

	assert_int_equal(p->nreminders, 4);
	assert_int_equal(p->reminders[0], 90);
	assert_int_equal(p->reminders[1], 60);
	assert_int_equal(p->reminders[2], 30);
	assert_int_equal(p->reminders[3], 7);
	assert_int_equal(p->nmatters, 7);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(policy_matter(p, suspend[i])->action, MATTER_SUSPEND);
	for (size_t i = 0; i < 5; i++) {
		const struct policy_matter *m = policy_matter(p, rereview[i]);

		assert_non_null(m);
		assert_int_equal(m->action, MATTER_REREVIEW);
		assert_int_equal(m->within_days, 30);
	}
	assert_null(policy_matter(p, "weather"));
	assert_null(policy_matter(p, NULL));
}

static void test_builtin_cn(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	struct policy p;

	(void)state;
	assert_int_equal(policy_builtin("cn", &p, &e), 0);
	assert_string_equal(p.profile, "cn");
	assert_string_equal(p.commitment, "保密承诺书");
	assert_true(p.lifelong);
	assert_false(p.audit_denials);
	/* core: 1 y, 3 y (3-5 y), 15 h, 80 % / 12 months, yearly, two approvers */
	assert_cat(&p.cat[3], (struct cat_want){365, 1095, 1095, 1825, 15, 80, 365, 365, 2});
	/* key: 3 y, 2 y (2-3 y), 10 h, yearly renewal, one approver */
	assert_cat(&p.cat[2], (struct cat_want){1095, 730, 730, 1095, 10, 80, 365, 365, 1});
	/* general: 5 y, 1 y (0.5-2 y), 8 h, no renewal */
	assert_cat(&p.cat[1], (struct cat_want){1825, 365, 183, 730, 8, 80, 365, 0, 1});
	assert_reminders_and_matters(&p);
}

static void test_builtin_us(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	struct policy p;

	(void)state;
	assert_int_equal(policy_builtin("us", &p, &e), 0);
	assert_string_equal(p.profile, "us");
	assert_string_equal(p.commitment, "SF-312");
	assert_true(p.lifelong);
	/* TS/S/C: reinvestigation 5/10/15 y, no decontamination, annual refresher */
	assert_cat(&p.cat[3], (struct cat_want){1825, 0, 0, 0, 1, 80, 365, 0, 1});
	assert_cat(&p.cat[2], (struct cat_want){3650, 0, 0, 0, 1, 80, 365, 0, 1});
	assert_cat(&p.cat[1], (struct cat_want){5475, 0, 0, 0, 1, 80, 365, 0, 1});
	assert_reminders_and_matters(&p);
}

static void test_builtin_unknown(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	struct policy p;

	(void)state;
	assert_int_equal(policy_builtin("uk", &p, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "\"uk\""));
	assert_non_null(strstr(e.msg, "cn or us"));
	assert_int_equal(policy_builtin("CN", &p, &e), BM_EINVAL);
	assert_int_equal(policy_builtin("", &p, &e), BM_EINVAL);
	assert_int_equal(policy_builtin(NULL, &p, NULL), BM_EINVAL);
}

/* to_json, from_json, equal, and the second to_json is byte-identical. */
static void round_trip(const struct policy *p)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct bm_err e = BM_ERR_INIT;
	struct policy q;

	policy_to_json(p, &a);
	memset(&q, 0x5A, sizeof q);
	if (policy_from_json(a.p, a.len, &q, &e) != 0)
		fail_msg("round trip refused: %s (%s: %s)", e.msg, e.field,
			 e.nitems ? e.items[0].reason : "");
	assert_true(policy_equal(p, &q));
	policy_to_json(&q, &b);
	assert_string_equal(a.p, b.p);
	buf_free(&a);
	buf_free(&b);
	bm_err_clear(&e);
}

static void test_round_trip(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	struct policy p;

	(void)state;
	assert_int_equal(policy_builtin("cn", &p, &e), 0);
	round_trip(&p);
	assert_int_equal(policy_builtin("us", &p, &e), 0);
	round_trip(&p);
	/* A custom policy with edge values survives too. */
	snprintf(p.profile, sizeof p.profile, "%s", "a-very_long-1x5");
	snprintf(p.commitment, sizeof p.commitment, "%s", "NDA \"v2\" \\ 承诺");
	p.audit_denials = true;
	p.lifelong = false;
	p.nreminders = 8;
	for (int i = 0; i < 8; i++)
		p.reminders[i] = 36500 - i * 1000;
	p.nmatters = 0;
	p.cat[3].approvers = 5;
	p.cat[3].training_hours = 1000;
	p.cat[1].exam_pass_percent = 100;
	p.cat[2].gates = (1u << GATE_ON_POST) | (1u << GATE_REVIEW);
	round_trip(&p);
	p.nreminders = 0;
	round_trip(&p);
}

static void test_equal_sees_every_field(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	struct policy a, b;

	(void)state;
	policy_builtin("cn", &a, &e);
	b = a;
	assert_true(policy_equal(&a, &b));
	b.cat[2].gates = 0;
	assert_false(policy_equal(&a, &b));
	b = a;
	b.matters[6].within_days = 31;
	assert_false(policy_equal(&a, &b));
	b = a;
	b.reminders[3] = 6;
	assert_false(policy_equal(&a, &b));
	b = a;
	b.audit_denials = true;
	assert_false(policy_equal(&a, &b));
	policy_builtin("us", &b, &e);
	assert_false(policy_equal(&a, &b));
}

/* ---- bad documents ------------------------------------------------------ */

/* The cn policy as a mutable jansson document. */
static json_t *cn_doc(void)
{
	struct bm_err e = BM_ERR_INIT;
	struct buf b = BUF_INIT;
	struct policy p;
	json_t *root;

	policy_builtin("cn", &p, &e);
	policy_to_json(&p, &b);
	root = json_loads(b.p, 0, NULL);
	buf_free(&b);
	assert_non_null(root);
	return root;
}

/* Follows a dotted path of object keys ("categories.core") from root. */
static json_t *at(json_t *root, const char *dotted)
{
	char tmp[128], *save = NULL;

	snprintf(tmp, sizeof tmp, "%s", dotted);
	for (char *k = strtok_r(tmp, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		root = json_object_get(root, k);
		assert_non_null(root);
	}
	return root;
}

/* Parses doc (stealing it) as a policy and returns the code; e keeps the
 * errors.  p must come out untouched on failure. */
static int load_doc(json_t *doc, struct bm_err *e)
{
	struct policy p, before;
	char *s = json_dumps(doc, 0);
	int rc;

	policy_builtin("us", &p, NULL);
	before = p;
	rc = policy_from_json(s, strlen(s), &p, e);
	if (rc != 0)
		assert_true(policy_equal(&p, &before));
	free(s);
	json_decref(doc);
	return rc;
}

static const struct bm_err_item *item(const struct bm_err *e, const char *path)
{
	for (size_t i = 0; i < e->nitems; i++)
		if (strcmp(e->items[i].field, path) == 0)
			return &e->items[i];
	return NULL;
}

/* Asserts doc is refused with exactly one problem, at path, whose reason
 * holds needle. */
static void refused_once(json_t *doc, const char *path, const char *needle)
{
	struct bm_err e = BM_ERR_INIT;
	const struct bm_err_item *it;

	assert_int_equal(load_doc(doc, &e), BM_EINVAL);
	assert_int_equal(e.code, BM_EINVAL);
	it = item(&e, path);
	if (it == NULL || e.total != 1)
		fail_msg("want one item at %s, got %zu, first %s: %s", path, e.total,
			 e.nitems ? e.items[0].field : "-", e.nitems ? e.items[0].reason : "-");
	if (strstr(it->reason, needle) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", path, it->reason, needle);
	assert_string_equal(e.msg, "policy has 1 error");
	assert_string_equal(e.field, path);
	assert_int_equal(it->line, 0);
	bm_err_clear(&e);
}

/* Sets key in the object at dotted (root when "") to v and checks the one
 * refusal. */
static void set_refused(const char *dotted, const char *key, json_t *v, const char *path,
			const char *needle)
{
	json_t *doc = cn_doc();

	json_object_set_new(*dotted ? at(doc, dotted) : doc, key, v);
	refused_once(doc, path, needle);
}

static void set_accepted(const char *dotted, const char *key, json_t *v)
{
	struct bm_err e = BM_ERR_INIT;
	json_t *doc = cn_doc();

	json_object_set_new(*dotted ? at(doc, dotted) : doc, key, v);
	if (load_doc(doc, &e) != 0)
		fail_msg("refused %s.%s: %s", dotted, key, e.nitems ? e.items[0].reason : e.msg);
}

static void del_refused(const char *dotted, const char *key, const char *path)
{
	json_t *doc = cn_doc();

	assert_int_equal(json_object_del(*dotted ? at(doc, dotted) : doc, key), 0);
	refused_once(doc, path, "required field is missing");
}

static void test_missing_fields(void **state)
{
	static const char *const top[] = {"profile", "commitment", "lifelong", "audit_denials",
					  "reminder_days", "categories", "matters"};
	static const char *const cat[] = {
		"rereview_days", "decontamination_days", "decontamination_min_days",
		"decontamination_max_days", "training_hours", "exam_pass_percent",
		"exam_valid_days", "renewal_days", "approvers", "gates"};
	char path[128];

	(void)state;
	for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
		snprintf(path, sizeof path, "$.%s", top[i]);
		del_refused("", top[i], path);
	}
	for (size_t i = 0; i < sizeof cat / sizeof cat[0]; i++) {
		snprintf(path, sizeof path, "$.categories.key.%s", cat[i]);
		del_refused("categories.key", cat[i], path);
	}
	del_refused("categories", "general", "$.categories.general");
	del_refused("matters.leak", "action", "$.matters.leak.action");
	del_refused("matters.other", "within_days", "$.matters.other.within_days");
}

static void test_unknown_fields(void **state)
{
	(void)state;
	set_refused("", "colour", json_string("red"), "$.colour", "unknown field");
	set_refused("categories.core", "rereview_years", json_integer(1),
		    "$.categories.core.rereview_years", "unknown field");
	set_refused("categories", "secret", json_object(), "$.categories.secret",
		    "unknown field");
	set_refused("matters.leak", "days", json_integer(3), "$.matters.leak.days",
		    "unknown field");
	/* Odd keys are quoted in the path, never raw. */
	set_refused("", "a b\n", json_true(), "$[\"a b?\"]", "unknown field");
	set_refused("", "", json_true(), "$[\"\"]", "unknown field");
	set_refused("", "Profile", json_string("cn"), "$.Profile", "unknown field");
}

static void test_wrong_types(void **state)
{
	(void)state;
	set_refused("", "lifelong", json_string("yes"), "$.lifelong",
		    "expected true or false, found a string");
	set_refused("", "audit_denials", json_integer(0), "$.audit_denials",
		    "expected true or false, found an integer");
	set_refused("", "profile", json_integer(5), "$.profile",
		    "expected a string, found an integer");
	set_refused("", "commitment", json_null(), "$.commitment",
		    "expected a string, found null");
	set_refused("", "reminder_days", json_object(), "$.reminder_days",
		    "expected an array, found an object");
	set_refused("", "categories", json_array(), "$.categories",
		    "expected an object, found an array");
	set_refused("", "matters", json_string("none"), "$.matters",
		    "expected an object, found a string");
	set_refused("categories.core", "rereview_days", json_real(365.0),
		    "$.categories.core.rereview_days", "expected an integer, found a real number");
	set_refused("categories.core", "approvers", json_string("2"),
		    "$.categories.core.approvers", "expected an integer, found a string");
	set_refused("categories.core", "approvers", json_true(), "$.categories.core.approvers",
		    "expected an integer, found a boolean");
	set_refused("categories", "key", json_integer(2), "$.categories.key",
		    "expected an object, found an integer");
	set_refused("categories.core", "gates", json_string("review"),
		    "$.categories.core.gates", "expected an array, found a string");
	set_refused("matters", "leak", json_string("suspend"), "$.matters.leak",
		    "expected an object, found a string");
	set_refused("matters.leak", "action", json_integer(1), "$.matters.leak.action",
		    "expected a string, found an integer");
	set_refused("matters.other", "within_days", json_string("30"),
		    "$.matters.other.within_days", "expected an integer, found a string");
}

static void test_ranges(void **state)
{
	static const struct {
		const char *key;
		long long bad_lo, bad_hi, ok_lo, ok_hi;
	} r[] = {
		{"rereview_days", 0, 36501, 1, 36500},
		{"training_hours", -1, 1001, 0, 1000},
		{"exam_pass_percent", 0, 101, 1, 100},
		{"exam_valid_days", 0, 36501, 1, 36500},
		{"renewal_days", -1, 36501, 0, 36500},
		{"approvers", 0, 6, 1, 5},
	};
	char path[96];

	(void)state;
	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
		snprintf(path, sizeof path, "$.categories.general.%s", r[i].key);
		set_refused("categories.general", r[i].key, json_integer(r[i].bad_lo), path,
			    "must be between");
		set_refused("categories.general", r[i].key, json_integer(r[i].bad_hi), path,
			    "must be between");
		set_accepted("categories.general", r[i].key, json_integer(r[i].ok_lo));
		set_accepted("categories.general", r[i].key, json_integer(r[i].ok_hi));
	}
	/* Values beyond int are refused, not wrapped. */
	set_refused("categories.core", "rereview_days", json_integer(4294967297LL + 365),
		    "$.categories.core.rereview_days", "not 4294967662");
	set_refused("categories.core", "rereview_days", json_integer(-4294967296LL),
		    "$.categories.core.rereview_days", "between 1 and 36500");
	set_refused("matters.other", "within_days", json_integer(0),
		    "$.matters.other.within_days", "between 1 and 36500");
}

static void test_decontamination_range(void **state)
{
	(void)state;
	set_refused("categories.key", "decontamination_days", json_integer(729),
		    "$.categories.key.decontamination_days",
		    "at least decontamination_min_days (730)");
	set_refused("categories.key", "decontamination_days", json_integer(1096),
		    "$.categories.key.decontamination_days",
		    "at most decontamination_max_days (1095)");
	set_refused("categories.core", "decontamination_min_days", json_integer(1100),
		    "$.categories.core.decontamination_days", "at least");
	set_refused("categories.general", "decontamination_max_days", json_integer(300),
		    "$.categories.general.decontamination_days", "at most");
	set_accepted("categories.key", "decontamination_days", json_integer(1095));
	set_accepted("categories.key", "decontamination_days", json_integer(730));
}

static void test_reminders(void **state)
{
	(void)state;
	set_refused("", "reminder_days", json_pack("[i,i,i]", 90, 90, 7), "$.reminder_days[1]",
		    "less than the reminder before it (90)");
	set_refused("", "reminder_days", json_pack("[i,i]", 7, 30), "$.reminder_days[1]",
		    "less than");
	set_refused("", "reminder_days", json_pack("[i,i]", 30, 0), "$.reminder_days[1]",
		    "between 1 and 36500");
	set_refused("", "reminder_days", json_pack("[i]", -7), "$.reminder_days[0]",
		    "between 1 and 36500");
	set_refused("", "reminder_days", json_pack("[i,s]", 30, "7"), "$.reminder_days[1]",
		    "expected an integer");
	set_refused("", "reminder_days", json_pack("[i,i,i,i,i,i,i,i,i]", 9, 8, 7, 6, 5, 4, 3, 2, 1),
		    "$.reminder_days", "at most 8 reminders, not 9");
	set_accepted("", "reminder_days", json_array());
	set_accepted("", "reminder_days", json_pack("[i,i,i,i,i,i,i,i]", 8, 7, 6, 5, 4, 3, 2, 1));
	set_accepted("", "reminder_days", json_pack("[i]", 36500));
}

static void test_names(void **state)
{
	(void)state;
	set_refused("", "profile", json_string("CN"), "$.profile", "1 to 15 characters");
	set_refused("", "profile", json_string(""), "$.profile", "1 to 15 characters");
	set_refused("", "profile", json_string("abcdefghijklmnop"), "$.profile", "1 to 15");
	set_refused("", "profile", json_string("cn!"), "$.profile", "a-z, 0-9, _ and -");
	set_refused("", "profile", json_string("中国"), "$.profile", "1 to 15");
	set_accepted("", "profile", json_string("abcdefghijklmno"));
	set_accepted("", "profile", json_string("site_2-b"));
	set_refused("", "commitment", json_string(""), "$.commitment", "1 to 63 bytes");
	set_refused("", "commitment", json_string("NDA\nv2"), "$.commitment",
		    "without control characters");
	set_refused("", "commitment",
		    json_string("0123456789012345678901234567890123456789012345678901234567890123"),
		    "$.commitment", "1 to 63 bytes");
	/* 21 three-byte characters are exactly 63 bytes. */
	set_accepted("", "commitment", json_string("保密承诺书保密承诺书保密承诺书保密承诺书保"));
	set_refused("", "commitment", json_string("保密承诺书保密承诺书保密承诺书保密承诺书保密"),
		    "$.commitment", "1 to 63 bytes");
}

static void test_matters(void **state)
{
	json_t *doc;
	char key[16];

	(void)state;
	set_refused("matters.leak", "action", json_string("ignore"), "$.matters.leak.action",
		    "unknown matter action \"ignore\"; use rereview or suspend");
	set_refused("matters.leak", "within_days", json_integer(5),
		    "$.matters.leak.within_days", "applies only to action rereview");
	set_refused("matters", "Leak", json_pack("{s:s}", "action", "suspend"),
		    "$.matters.Leak", "a matter type is 1 to 31 characters");
	set_refused("matters", "外国", json_pack("{s:s}", "action", "suspend"),
		    "$.matters[\"外国\"]", "a matter type");
	set_refused("matters", "abcdefghijabcdefghijabcdefghijab",
		    json_pack("{s:s}", "action", "suspend"),
		    "$.matters[\"abcdefghijabcdefghij...\"]", "1 to 31");
	set_accepted("matters", "abcdefghijabcdefghijabcdefghija",
		     json_pack("{s:s,s:i}", "action", "rereview", "within_days", 1));
	set_accepted("", "matters", json_object());

	doc = cn_doc();
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof key, "extra_%d", i);
		json_object_set_new(at(doc, "matters"), key, json_pack("{s:s}", "action", "suspend"));
	}
	refused_once(doc, "$.matters", "at most 16 matter types, not 17");
}

static void test_gates(void **state)
{
	(void)state;
	set_refused("categories.core", "gates",
		    json_pack("[s,s,s,s]", "on_post", "not_suspended", "review", "exam"),
		    "$.categories.core.gates[3]", "gate kind \"exam\" is not implemented yet");
	set_refused("categories.core", "gates", json_pack("[s,s]", "on_post", "fly"),
		    "$.categories.core.gates[1]", "unknown gate kind \"fly\"");
	set_refused("categories.core", "gates", json_pack("[s,s]", "on_post", "ON_POST"),
		    "$.categories.core.gates[1]", "unknown gate kind");
	set_refused("categories.core", "gates", json_pack("[s,s]", "on_post", "on_post"),
		    "$.categories.core.gates[1]", "listed twice");
	set_refused("categories.core", "gates", json_pack("[s,i]", "on_post", 2),
		    "$.categories.core.gates[1]", "expected a string, found an integer");
	set_refused("categories.key", "gates", json_pack("[s]", "review"),
		    "$.categories.key.gates", "must include \"on_post\"");
	set_refused("categories.key", "gates", json_array(), "$.categories.key.gates",
		    "must include \"on_post\"");
	/* the regulations review every appointment: no category goes without */
	set_refused("categories.key", "gates", json_pack("[s,s]", "on_post", "not_suspended"),
		    "$.categories.key.gates", "must include \"review\"");
	set_refused("categories.general", "gates", json_pack("[s]", "on_post"),
		    "$.categories.general.gates", "must include \"review\"");
	set_accepted("categories.key", "gates", json_pack("[s,s]", "on_post", "review"));
	set_accepted("categories.key", "gates", json_pack("[s,s,s]", "review", "on_post",
							  "not_suspended"));
}

/* A document stored before review was required reads back with review
 * (gate_eval checks it anyway; refusing it would leave the database
 * unusable); a new document without it is refused.  Stored documents are
 * checked for everything else as ever. */
static void test_stored_without_review(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	json_t *doc = cn_doc();
	struct policy p;
	char *s;

	(void)state;
	json_object_set_new(at(doc, "categories.key"), "gates",
			    json_pack("[s,s]", "not_suspended", "on_post"));
	s = json_dumps(doc, 0);
	assert_int_equal(policy_from_json(s, strlen(s), &p, &e), BM_EINVAL);
	assert_string_equal(e.field, "$.categories.key.gates");
	bm_err_clear(&e);
	assert_int_equal(policy_stored_from_json(s, strlen(s), &p, &e), 0);
	assert_int_equal(p.cat[2].gates, (1u << GATE_REVIEW) | (1u << GATE_NOT_SUSPENDED) |
					     (1u << GATE_ON_POST));
	free(s);
	json_object_set_new(at(doc, "categories.key"), "gates", json_pack("[s]", "review"));
	s = json_dumps(doc, 0);
	assert_int_equal(policy_stored_from_json(s, strlen(s), &p, &e), BM_EINVAL);
	assert_string_equal(e.field, "$.categories.key.gates");    /* on_post, as ever */
	free(s);
	json_decref(doc);
	bm_err_clear(&e);
}

static void test_many_errors_at_once(void **state)
{
	static const char *const paths[] = {
		"$.colour", "$.profile", "$.lifelong", "$.reminder_days[2]",
		"$.categories.core.rereview_days", "$.categories.core.gates[0]",
		"$.categories.key.approvers", "$.categories.general",
		"$.matters.leak.action", "$.matters.other.within_days",
	};
	struct bm_err e = BM_ERR_INIT;
	json_t *doc = cn_doc();

	(void)state;
	json_object_set_new(doc, "colour", json_string("red"));
	json_object_set_new(doc, "profile", json_string("Bad Name"));
	json_object_del(doc, "lifelong");
	json_object_set_new(doc, "reminder_days", json_pack("[i,i,i]", 90, 60, 60));
	json_object_set_new(at(doc, "categories.core"), "rereview_days", json_integer(0));
	json_object_set_new(at(doc, "categories.core"), "gates", json_pack("[s,s]", "exam", "on_post"));
	json_object_set_new(at(doc, "categories.key"), "approvers", json_integer(9));
	json_object_del(at(doc, "categories"), "general");
	json_object_set_new(at(doc, "matters.leak"), "action", json_string("shrug"));
	json_object_del(at(doc, "matters.other"), "within_days");
	assert_int_equal(load_doc(doc, &e), BM_EINVAL);
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (item(&e, paths[i]) == NULL)
			fail_msg("no item at %s", paths[i]);
	assert_int_equal(e.total, 10);
	assert_int_equal(e.nitems, 10);
	assert_string_equal(e.msg, "policy has 10 errors");
	assert_string_equal(e.field, "$.colour"); /* the first, in document order */
	bm_err_clear(&e);
}

static void test_error_cap_still_counts(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	json_t *doc = cn_doc();
	char key[16];

	(void)state;
	for (int i = 0; i < 150; i++) {
		snprintf(key, sizeof key, "x%d", i);
		json_object_set_new(doc, key, json_integer(i));
	}
	assert_int_equal(load_doc(doc, &e), BM_EINVAL);
	assert_int_equal(e.total, 150);
	assert_int_equal(e.nitems, BM_ERR_MAXITEMS);
	assert_string_equal(e.msg, "policy has 150 errors");
	bm_err_clear(&e);
}

/* An edited document may carry the version it was read at (what `policy
 * show` prints); a stored or built-in one may not, and a bad version is
 * named by its path. */
static void test_edit_version(void **state)
{
	struct policy p, q;
	struct buf doc = BUF_INIT;
	struct bm_err e = BM_ERR_INIT;
	json_t *v;
	char *text;
	int64_t at = -1;

	(void)state;
	assert_int_equal(policy_builtin("cn", &p, &e), 0);
	policy_to_json(&p, &doc);
	assert_int_equal(policy_edit_from_json(doc.p, doc.len, &q, &at, &e), 0);
	assert_int_equal(at, 0);
	v = json_loads(doc.p, 0, NULL);
	json_object_set_new(v, "version", json_integer(7));
	text = json_dumps(v, 0);
	assert_int_equal(policy_edit_from_json(text, strlen(text), &q, &at, &e), 0);
	assert_int_equal(at, 7);
	assert_int_equal(policy_from_json(text, strlen(text), &q, &e), BM_EINVAL);
	assert_string_equal(e.field, "$.version");
	free(text);
	bm_err_clear(&e);
	for (int k = 0; k < 3; k++) {
		json_object_set_new(v, "version", k == 0 ? json_string("7") : k == 1 ? json_integer(0)
								      : json_real(7.0));
		text = json_dumps(v, 0);
		assert_int_equal(policy_edit_from_json(text, strlen(text), &q, &at, &e), BM_EINVAL);
		assert_string_equal(e.field, "$.version");
		free(text);
		bm_err_clear(&e);
	}
	json_decref(v);
	buf_free(&doc);
}

/* ---- syntax and shape --------------------------------------------------- */

static int parse_text(const char *s, size_t n, struct bm_err *e)
{
	struct policy p;

	bm_err_clear(e);
	return policy_from_json(s, n, &p, e);
}

static void test_syntax_errors(void **state)
{
	static const char dup[] = "{\n  \"profile\": \"cn\",\n  \"profile\": \"us\"\n}";
	static const char broken[] = "{\n  \"profile\": \"cn\",\n  oops\n}";
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	assert_int_equal(parse_text(dup, strlen(dup), &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "duplicate"));
	assert_non_null(strstr(e.msg, "line 3"));
	assert_int_equal(e.line, 3);
	assert_int_equal(e.total, 1);
	/* the item is the JSON root's, its reason says where: printed as one
	 * "$: line 3, column N: ..." line, not as a CSV line and column */
	assert_int_equal(e.items[0].line, 0);
	assert_non_null(strstr(e.items[0].reason, "line 3, column"));

	assert_int_equal(parse_text(broken, strlen(broken), &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "line 3, column"));
	assert_int_equal(parse_text("{} {}", 5, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "not valid JSON"));
	assert_int_equal(parse_text("{\"profile\": \"c\xFFn\"}", 17, &e), BM_EINVAL);
	assert_null(strchr(e.msg, '\xFF'));
	assert_int_equal(parse_text("{\"profile\": \"c\\u0000n\"}", 23, &e), BM_EINVAL);
	assert_int_equal(parse_text("42", 2, &e), BM_EINVAL);
	bm_err_clear(&e);
}

static void test_non_object_root(void **state)
{
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	assert_int_equal(parse_text("[]", 2, &e), BM_EINVAL);
	assert_int_equal(e.total, 1);
	assert_string_equal(e.items[0].field, "$");
	assert_string_equal(e.items[0].reason, "a policy is a JSON object, not an array");
	assert_int_equal(parse_text("{}", 2, &e), BM_EINVAL);
	assert_int_equal(e.total, 7); /* every top-level field is missing */
	bm_err_clear(&e);
}

static void test_empty_and_huge(void **state)
{
	size_t big = 1024 * 1024 + 1;
	struct bm_err e = BM_ERR_INIT;
	struct buf b = BUF_INIT;
	struct policy p, q;
	char *s;

	(void)state;
	assert_int_equal(parse_text("", 0, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "empty"));
	assert_int_equal(parse_text(NULL, 0, &e), BM_EINVAL);
	assert_int_equal(parse_text("   \n", 4, &e), BM_EINVAL);
	/* Just over the limit is refused before parsing. */
	s = malloc(big);
	memset(s, ' ', big);
	s[0] = '{';
	s[big - 1] = '}';
	assert_int_equal(parse_text(s, big, &e), BM_ETOOBIG);
	assert_non_null(strstr(e.msg, "1048577 bytes"));
	/* A valid policy padded to exactly the limit is accepted. */
	policy_builtin("cn", &p, NULL);
	policy_to_json(&p, &b);
	memset(s, ' ', big);
	memcpy(s, b.p, b.len);
	bm_err_clear(&e);
	assert_int_equal(policy_from_json(s, big - 1, &q, &e), 0);
	assert_true(policy_equal(&p, &q));
	/* Deep nesting is refused, not a crash. */
	for (size_t i = 0; i < 100000; i++) {
		s[i] = '[';
		s[200000 - 1 - i] = ']';
	}
	assert_int_equal(parse_text(s, 200000, &e), BM_EINVAL);
	/* The length is honoured: a prefix of a valid policy is a syntax error. */
	assert_int_equal(parse_text(b.p, b.len / 2, &e), BM_EINVAL);
	assert_int_equal(policy_from_json(b.p, b.len, &q, NULL), 0);
	free(s);
	buf_free(&b);
	bm_err_clear(&e);
}

static void test_gate_names(void **state)
{
	(void)state;
	for (int g = 0; g < GATE__COUNT; g++)
		assert_int_equal(gate_kind_parse(gate_kind_name(g)), g);
	assert_string_equal(gate_kind_name(GATE_NOT_SUSPENDED), "not_suspended");
	assert_string_equal(gate_kind_name(GATE_TRAINING_HOURS), "training_hours");
	assert_string_equal(gate_kind_name(GATE__COUNT), "unknown");
	assert_string_equal(gate_kind_name(-1), "unknown");
	assert_int_equal(gate_kind_parse("Review"), -1);
	assert_int_equal(gate_kind_parse(""), -1);
	assert_int_equal(gate_kind_parse(NULL), -1);
	for (int g = 0; g < GATE__COUNT; g++)
		assert_int_equal(policy_gate_implemented(g),
				 g == GATE_REVIEW || g == GATE_NOT_SUSPENDED || g == GATE_ON_POST);
	assert_false(policy_gate_implemented(-1));
	assert_false(policy_gate_implemented(GATE__COUNT));
	assert_string_equal(matter_action_name(MATTER_REREVIEW), "rereview");
	assert_string_equal(matter_action_name(MATTER_SUSPEND), "suspend");
	assert_string_equal(matter_action_name(2), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_cn),
		cmocka_unit_test(test_builtin_us),
		cmocka_unit_test(test_builtin_unknown),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_equal_sees_every_field),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_decontamination_range),
		cmocka_unit_test(test_reminders),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_matters),
		cmocka_unit_test(test_gates),
		cmocka_unit_test(test_stored_without_review),
		cmocka_unit_test(test_many_errors_at_once),
		cmocka_unit_test(test_error_cap_still_counts),
		cmocka_unit_test(test_edit_version),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_non_object_root),
		cmocka_unit_test(test_empty_and_huge),
		cmocka_unit_test(test_gate_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
