/*
 * policy.c - the numbers of the rules as data: the built-in cn and us
 * profiles, and policy documents in JSON, validated with every problem
 * named by its JSON path.  Pure: no I/O and no global state.  It must never
 * accept a document it cannot round-trip, and never fill a policy from a
 * document that had any error.
 */
#include "policy.h"
#include "names.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define DAYS_MAX 36500
#define HOURS_MAX 1000
#define APPROVERS_MAX 5
#define POLICY_MAX_BYTES (1024 * 1024)
#define PATH_MAX_LEN 64

/* ---- names ------------------------------------------------------------ */

static const char *const gate_names[GATE__COUNT] = {
	[GATE_REVIEW] = "review",
	[GATE_NOT_SUSPENDED] = "not_suspended",
	[GATE_ON_POST] = "on_post",
	[GATE_TRAINING] = "training",
	[GATE_TRAINING_HOURS] = "training_hours",
	[GATE_EXAM] = "exam",
	[GATE_COMMITMENT] = "commitment",
	[GATE_RENEWAL] = "renewal",
};

static const char *const action_names[] = {
	[MATTER_REREVIEW] = "rereview",
	[MATTER_SUSPEND] = "suspend",
};

/* JSON keys of the categories, indexed by level; written core first. */
static const char *const cat_keys[4] = {NULL, "general", "key", "core"};

const char *gate_kind_name(int g)
{
	return (g >= 0 && g < GATE__COUNT) ? gate_names[g] : "unknown";
}

int gate_kind_parse(const char *s)
{
	for (int g = 0; s != NULL && g < GATE__COUNT; g++)
		if (strcmp(s, gate_names[g]) == 0)
			return g;
	return -1;
}

/* Only gates with an evaluator may be named by a policy; the others are
 * planned (DESIGN.md §2) and refused until they exist. */
bool policy_gate_implemented(int g)
{
	return g == GATE_REVIEW || g == GATE_NOT_SUSPENDED || g == GATE_ON_POST;
}

const char *matter_action_name(int a)
{
	return (a >= 0 && a < (int)NELEM(action_names)) ? action_names[a] : "unknown";
}

static int matter_action_parse(const char *s)
{
	for (int a = 0; a < (int)NELEM(action_names); a++)
		if (strcmp(s, action_names[a]) == 0)
			return a;
	return -1;
}

const struct policy_matter *policy_matter(const struct policy *p, const char *type)
{
	for (int i = 0; type != NULL && i < p->nmatters; i++)
		if (strcmp(p->matters[i].type, type) == 0)
			return &p->matters[i];
	return NULL;
}

/* ---- built-in profiles (DESIGN.md §1) ---------------------------------- */

#define BASE_GATES ((1u << GATE_REVIEW) | (1u << GATE_NOT_SUSPENDED) | (1u << GATE_ON_POST))
#define YEARS(n) ((n) * 365)

/* Matter types of DESIGN.md §1.7, the same in both profiles: a leak or an
 * approach by a foreign organisation suspends at once; the rest call for a
 * re-review within 30 days. */
static const struct policy_matter builtin_matters[] = {
	{"leak", MATTER_SUSPEND, 0},
	{"foreign_approach", MATTER_SUSPEND, 0},
	{"foreign_funding", MATTER_REREVIEW, 30},
	{"foreign_marriage", MATTER_REREVIEW, 30},
	{"family_abroad", MATTER_REREVIEW, 30},
	{"other", MATTER_REREVIEW, 30},
	{"violation", MATTER_REREVIEW, 30},
};

static const int builtin_reminders[] = {90, 60, 30, 7};

static const struct builtin {
	const char *name, *commitment;
	struct policy_category cat[4];
} builtins[] = {
	{"cn", "保密承诺书", {
		{0},
		/* general: re-review 5 y, decontamination 1 y (0.5-2 y) */
		{YEARS(5), YEARS(1), 183, YEARS(2), 8, 80, YEARS(1), 0, 1, BASE_GATES},
		/* key: 3 y, 2 y (2-3 y), renewal yearly */
		{YEARS(3), YEARS(2), YEARS(2), YEARS(3), 10, 80, YEARS(1), YEARS(1), 1, BASE_GATES},
		/* core: 1 y, 3 y (3-5 y), renewal yearly, two approvers */
		{YEARS(1), YEARS(3), YEARS(3), YEARS(5), 15, 80, YEARS(1), YEARS(1), 2, BASE_GATES},
	}},
	{"us", "SF-312", {
		{0},
		/* C: reinvestigation 15 y, no decontamination, annual refresher */
		{YEARS(15), 0, 0, 0, 1, 80, YEARS(1), 0, 1, BASE_GATES},
		{YEARS(10), 0, 0, 0, 1, 80, YEARS(1), 0, 1, BASE_GATES},
		{YEARS(5), 0, 0, 0, 1, 80, YEARS(1), 0, 1, BASE_GATES},
	}},
};

int policy_builtin(const char *name, struct policy *p, struct bm_err *e)
{
	for (size_t i = 0; name != NULL && i < NELEM(builtins); i++) {
		const struct builtin *b = &builtins[i];

		if (strcmp(name, b->name) != 0)
			continue;
		memset(p, 0, sizeof *p);
		snprintf(p->profile, sizeof p->profile, "%s", b->name);
		snprintf(p->commitment, sizeof p->commitment, "%s", b->commitment);
		p->lifelong = true;
		p->audit_denials = false;
		memcpy(p->cat, b->cat, sizeof p->cat);
		memcpy(p->reminders, builtin_reminders, sizeof builtin_reminders);
		p->nreminders = (int)NELEM(builtin_reminders);
		memcpy(p->matters, builtin_matters, sizeof builtin_matters);
		p->nmatters = (int)NELEM(builtin_matters);
		return 0;
	}
	char q[48];

	return bm_errf(e, BM_EINVAL, "profile",
		       "no built-in policy profile \"%s\"; use cn or us",
		       names_echo(q, sizeof q, name ? name : ""));
}

/* ---- validation helpers ------------------------------------------------ */

/* Records one problem at path; the format is applied here because
 * bm_err_add has no va_list form. */
static void bad(struct bm_err *e, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad(struct bm_err *e, const char *path, const char *fmt, ...)
{
	char reason[sizeof e->items[0].reason];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	bm_err_add(e, 0, path, "%s", reason);
}

/* How a JSON value is named in "expected X, found Y". */
static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

static bool plain_key(const char *k)
{
	size_t n = strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	return n > 0 && n <= 31 && k[n] == '\0';
}

/* dst = parent.key, or parent["key"] (quoted safely, shortened) when the key
 * is not a plain name; always fits a bm_err field. */
static void path_key(char *dst, const char *parent, const char *key)
{
	char q[24];

	if (plain_key(key))
		snprintf(dst, PATH_MAX_LEN, "%s.%s", parent, key);
	else
		snprintf(dst, PATH_MAX_LEN, "%s[\"%s\"]", parent, names_echo(q, sizeof q, key));
}

static void path_index(char *dst, const char *parent, size_t i)
{
	/* Paths are built from short known keys, so this never shortens. */
	if (snprintf(dst, PATH_MAX_LEN, "%s[%zu]", parent, i) >= PATH_MAX_LEN)
		dst[PATH_MAX_LEN - 1] = '\0';
}

static bool in_list(const char *k, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(k, list[i]) == 0)
			return true;
	return false;
}

/* Refuses every member of obj whose key known() does not accept. */
static void check_keys(json_t *obj, const char *path, bool (*known)(const char *),
		       struct bm_err *e)
{
	char sub[PATH_MAX_LEN];
	const char *k;
	json_t *v;

	json_object_foreach (obj, k, v) {
		if (known(k))
			continue;
		path_key(sub, path, k);
		bad(e, sub, "unknown field");
	}
}

enum kind { K_OBJECT, K_ARRAY, K_STRING, K_INT, K_BOOL };

static bool kind_ok(const json_t *v, enum kind k)
{
	switch (k) {
	case K_OBJECT: return json_is_object(v);
	case K_ARRAY: return json_is_array(v);
	case K_STRING: return json_is_string(v);
	case K_INT: return json_is_integer(v);
	case K_BOOL: return json_is_boolean(v);
	}
	return false;
}

static const char *const kind_names[] = {"an object", "an array", "a string", "an integer",
					 "true or false"};

/* Checks v (at path) is of kind k; reports and returns false otherwise. */
static bool expect(const json_t *v, enum kind k, const char *path, struct bm_err *e)
{
	if (kind_ok(v, k))
		return true;
	bad(e, path, "expected %s, found %s", kind_names[k], type_name(v));
	return false;
}

/* The member key of obj when present and of kind k, else NULL (reported);
 * its path goes to sub. */
static json_t *member(const json_t *obj, const char *path, const char *key, enum kind k,
		       char *sub, struct bm_err *e)
{
	json_t *v = json_object_get(obj, key);

	path_key(sub, path, key);
	if (v == NULL) {
		bad(e, sub, "required field is missing");
		return NULL;
	}
	return expect(v, k, sub, e) ? v : NULL;
}

/* Checks x (at path) lies in lo..hi and stores it. */
static bool in_range(json_int_t x, const char *path, int lo, int hi, int *out,
		     struct bm_err *e)
{
	if (x < lo || x > hi) {
		bad(e, path, "must be between %d and %d, not %lld", lo, hi, (long long)x);
		return false;
	}
	*out = (int)x;
	return true;
}

/* An integer in lo..hi at path (an array item, an optional member). */
static bool int_in(const json_t *v, const char *path, int lo, int hi, int *out,
		   struct bm_err *e)
{
	return expect(v, K_INT, path, e) && in_range(json_integer_value(v), path, lo, hi, out, e);
}

/* The required integer member key of obj, in lo..hi. */
static bool get_int(const json_t *obj, const char *path, const char *key, int lo, int hi,
		    int *out, struct bm_err *e)
{
	char sub[PATH_MAX_LEN];
	const json_t *v = member(obj, path, key, K_INT, sub, e);

	return v != NULL && in_range(json_integer_value(v), sub, lo, hi, out, e);
}

static void get_bool(const json_t *obj, const char *key, bool *out, struct bm_err *e)
{
	char sub[PATH_MAX_LEN];
	const json_t *v = member(obj, "$", key, K_BOOL, sub, e);

	if (v != NULL)
		*out = json_is_true(v);
}

/* True when s is 1..max bytes of chars from the set; NULL set = any
 * printable text (no control characters; UTF-8 is checked by jansson). */
static bool text_ok(const char *s, size_t len, size_t max, const char *set)
{
	if (len == 0 || len > max || strlen(s) != len)
		return false;
	if (set != NULL)
		return strspn(s, set) == len;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return false;
	return true;
}

/* ---- the document ------------------------------------------------------ */

/* The integer fields of a category: JSON key, place in the struct, range. */
static const struct cat_field {
	const char *key;
	size_t off;
	int lo, hi;
	bool decon; /* one of the three checked together by check_decon */
} cat_fields[] = {
	{"rereview_days", offsetof(struct policy_category, rereview_days), 1, DAYS_MAX, false},
	{"decontamination_days", offsetof(struct policy_category, decon_days), 0, DAYS_MAX,
	 true},
	{"decontamination_min_days", offsetof(struct policy_category, decon_min_days), 0,
	 DAYS_MAX, true},
	{"decontamination_max_days", offsetof(struct policy_category, decon_max_days), 0,
	 DAYS_MAX, true},
	{"training_hours", offsetof(struct policy_category, training_hours), 0, HOURS_MAX, false},
	{"exam_pass_percent", offsetof(struct policy_category, exam_pass_percent), 1, 100, false},
	{"exam_valid_days", offsetof(struct policy_category, exam_valid_days), 1, DAYS_MAX, false},
	{"renewal_days", offsetof(struct policy_category, renewal_days), 0, DAYS_MAX, false},
	{"approvers", offsetof(struct policy_category, approvers), 1, APPROVERS_MAX, false},
};

#define NCAT_FIELDS NELEM(cat_fields)

static int *cat_int(struct policy_category *c, size_t i)
{
	return (int *)((char *)c + cat_fields[i].off);
}

static int cat_int_get(const struct policy_category *c, size_t i)
{
	return *(const int *)((const char *)c + cat_fields[i].off);
}

/* One gate name at path: known, implemented and not repeated. */
static void read_gate(json_t *v, const char *path, uint32_t *gates, struct bm_err *e)
{
	char q[48];
	int g;

	if (!expect(v, K_STRING, path, e))
		return;
	g = gate_kind_parse(json_string_value(v));
	if (g < 0)
		bad(e, path, "unknown gate kind \"%s\"",
		    names_echo(q, sizeof q, json_string_value(v)));
	else if (!policy_gate_implemented(g))
		bad(e, path, "gate kind \"%s\" is not implemented yet", gate_names[g]);
	else if (*gates & (1u << g))
		bad(e, path, "gate kind \"%s\" is listed twice", gate_names[g]);
	else
		*gates |= 1u << g;
}

/* The gates array of a category.  Clearance needs a post and a review, so
 * on_post and review must be among them: a policy without on_post would
 * clear people who left, one without review people never vetted (the
 * regulations review every appointment first; policy sets how often). */
static void read_gates(json_t *cat, const char *path, uint32_t *gates, struct bm_err *e)
{
	char sub[PATH_MAX_LEN], item[PATH_MAX_LEN];
	size_t before = e->total, i;
	json_t *arr = member(cat, path, "gates", K_ARRAY, sub, e), *v;

	*gates = 0;
	if (arr == NULL)
		return;
	json_array_foreach (arr, i, v) {
		path_index(item, sub, i);
		read_gate(v, item, gates, e);
	}
	if (e->total == before && !(*gates & (1u << GATE_ON_POST)))
		bad(e, sub, "must include \"on_post\": only a person on post can be cleared");
	if (e->total != before)
		*gates = 0;              /* refused: require_review says no more of it */
}

/* Review is required of every category a new document lists (read_gates
 * has left a set it refused without on_post).  A stored document from
 * before this rule reads with review added: gate_eval checks it whatever
 * the set says, and refusing it would leave the database unusable. */
static void require_review(struct policy *p, bool stored, struct bm_err *e)
{
	char path[PATH_MAX_LEN];

	for (int lv = 1; lv <= 3; lv++) {
		uint32_t *g = &p->cat[lv].gates;

		if (!(*g & (1u << GATE_ON_POST)) || (*g & (1u << GATE_REVIEW)))
			continue;
		if (stored) {
			*g |= 1u << GATE_REVIEW;
			continue;
		}
		snprintf(path, sizeof path, "$.categories.%s.gates", cat_keys[lv]);
		bad(e, path, "must include \"review\": only a person with a valid review can be "
		    "cleared");
	}
}

/* The decontamination default must lie within its allowed range. */
static void check_decon(const struct policy_category *c, const char *path,
			struct bm_err *e)
{
	char sub[PATH_MAX_LEN];

	path_key(sub, path, "decontamination_days");
	if (c->decon_days < c->decon_min_days)
		bad(e, sub, "must be at least decontamination_min_days (%d), not %d",
		    c->decon_min_days, c->decon_days);
	else if (c->decon_days > c->decon_max_days)
		bad(e, sub, "must be at most decontamination_max_days (%d), not %d",
		    c->decon_max_days, c->decon_days);
}

static bool known_cat_key(const char *k)
{
	for (size_t i = 0; i < NCAT_FIELDS; i++)
		if (strcmp(k, cat_fields[i].key) == 0)
			return true;
	return strcmp(k, "gates") == 0;
}

static void read_category(json_t *cat, const char *path, struct policy_category *c,
			  struct bm_err *e)
{
	int decon_ok = 0;

	check_keys(cat, path, known_cat_key, e);
	for (size_t i = 0; i < NCAT_FIELDS; i++) {
		bool ok = get_int(cat, path, cat_fields[i].key, cat_fields[i].lo,
				  cat_fields[i].hi, cat_int(c, i), e);

		decon_ok += ok && cat_fields[i].decon;
	}
	if (decon_ok == 3)
		check_decon(c, path, e);
	read_gates(cat, path, &c->gates, e);
}

static bool known_category(const char *k)
{
	return in_list(k, cat_keys + 1, 3);
}

static void read_categories(json_t *root, struct policy *p, struct bm_err *e)
{
	char sub[PATH_MAX_LEN], cpath[PATH_MAX_LEN];
	json_t *cats = member(root, "$", "categories", K_OBJECT, sub, e), *c;

	if (cats == NULL)
		return;
	check_keys(cats, sub, known_category, e);
	for (int lv = 1; lv <= 3; lv++) {
		c = member(cats, sub, cat_keys[lv], K_OBJECT, cpath, e);
		if (c != NULL)
			read_category(c, cpath, &p->cat[lv], e);
	}
}

/* Reminder offsets: positive days, strictly descending, at most
 * POLICY_MAX_REMINDERS (an empty list means no reminders). */
static void read_reminders(json_t *root, struct policy *p, struct bm_err *e)
{
	char sub[PATH_MAX_LEN], item[PATH_MAX_LEN];
	json_t *arr = member(root, "$", "reminder_days", K_ARRAY, sub, e), *v;
	size_t i;
	int prev = 0, have_prev = 0;

	if (arr == NULL)
		return;
	if (json_array_size(arr) > POLICY_MAX_REMINDERS) {
		bad(e, sub, "at most %d reminders, not %zu", POLICY_MAX_REMINDERS,
		    json_array_size(arr));
		return;
	}
	json_array_foreach (arr, i, v) {
		int d;

		path_index(item, sub, i);
		if (!int_in(v, item, 1, DAYS_MAX, &d, e)) {
			have_prev = 0;
			continue;
		}
		if (have_prev && d >= prev)
			bad(e, item, "must be less than the reminder before it (%d): "
				     "reminders count down", prev);
		p->reminders[p->nreminders++] = d;
		prev = d;
		have_prev = 1;
	}
}

static bool known_matter_key(const char *k)
{
	static const char *const keys[] = {"action", "within_days"};

	return in_list(k, keys, NELEM(keys));
}

/* One matter entry: an action, and the days to re-review within when the
 * action is rereview (and only then). */
static void read_matter(json_t *v, const char *path, struct policy_matter *m,
			struct bm_err *e)
{
	char sub[PATH_MAX_LEN], q[48];
	json_t *act, *within;

	if (!expect(v, K_OBJECT, path, e))
		return;
	check_keys(v, path, known_matter_key, e);
	m->action = -1;
	if ((act = member(v, path, "action", K_STRING, sub, e)) != NULL) {
		m->action = matter_action_parse(json_string_value(act));
		if (m->action < 0)
			bad(e, sub, "unknown matter action \"%s\"; use rereview or suspend",
			    names_echo(q, sizeof q, json_string_value(act)));
	}
	within = json_object_get(v, "within_days");
	path_key(sub, path, "within_days");
	if (m->action == MATTER_REREVIEW && within == NULL)
		bad(e, sub, "required field is missing (action rereview)");
	else if (m->action == MATTER_SUSPEND && within != NULL)
		bad(e, sub, "applies only to action rereview");
	else if (within != NULL)
		int_in(within, sub, 1, DAYS_MAX, &m->within_days, e);
}

static void read_matters(json_t *root, struct policy *p, struct bm_err *e)
{
	char sub[PATH_MAX_LEN], item[PATH_MAX_LEN];
	json_t *obj = member(root, "$", "matters", K_OBJECT, sub, e), *v;
	const char *k;

	if (obj == NULL)
		return;
	if (json_object_size(obj) > POLICY_MAX_MATTERS) {
		bad(e, sub, "at most %d matter types, not %zu", POLICY_MAX_MATTERS,
		    json_object_size(obj));
		return;
	}
	json_object_foreach (obj, k, v) {
		struct policy_matter *m = &p->matters[p->nmatters++];

		path_key(item, sub, k);
		if (!text_ok(k, strlen(k), sizeof m->type - 1, "abcdefghijklmnopqrstuvwxyz0123456789_"))
			bad(e, item, "a matter type is 1 to 31 characters of a-z, 0-9 and _");
		else
			snprintf(m->type, sizeof m->type, "%s", k);
		read_matter(v, item, m, e);
	}
}

/* profile and commitment: short names, the profile in code-name form. */
static void read_names(json_t *root, struct policy *p, struct bm_err *e)
{
	char sub[PATH_MAX_LEN];
	json_t *v;

	if ((v = member(root, "$", "profile", K_STRING, sub, e)) != NULL) {
		if (text_ok(json_string_value(v), json_string_length(v), sizeof p->profile - 1,
			    "abcdefghijklmnopqrstuvwxyz0123456789_-"))
			snprintf(p->profile, sizeof p->profile, "%s", json_string_value(v));
		else
			bad(e, sub, "a profile name is 1 to 15 characters of a-z, 0-9, _ and -");
	}
	if ((v = member(root, "$", "commitment", K_STRING, sub, e)) != NULL) {
		if (text_ok(json_string_value(v), json_string_length(v),
			    sizeof p->commitment - 1, NULL))
			snprintf(p->commitment, sizeof p->commitment, "%s",
				 json_string_value(v));
		else
			bad(e, sub, "must be 1 to 63 bytes of text without control characters");
	}
}

static bool known_top_key(const char *k)
{
	static const char *const keys[] = {"profile", "commitment", "lifelong", "audit_denials",
					   "reminder_days", "categories", "matters"};

	return in_list(k, keys, NELEM(keys));
}

/* An edited document may also carry the version it was read at. */
static bool known_edit_key(const char *k)
{
	return strcmp(k, "version") == 0 || known_top_key(k);
}

/* The optional "version" of an edited document into *version (0 absent). */
static void read_version(json_t *root, int64_t *version, struct bm_err *e)
{
	json_t *v = json_object_get(root, "version");

	*version = 0;
	if (v == NULL)
		return;
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		bad(e, "$.version", "the version the policy was read at, an integer from 1");
	else
		*version = json_integer_value(v);
}

/* Reads root into p; version, when not NULL, admits and reads the
 * "version" member an edited document carries; stored, a document read
 * back from the database (require_review). */
static void read_policy(json_t *root, struct policy *p, int64_t *version, bool stored,
			struct bm_err *e)
{
	if (!json_is_object(root)) {
		bad(e, "$", "a policy is a JSON object, not %s", type_name(root));
		return;
	}
	check_keys(root, "$", version ? known_edit_key : known_top_key, e);
	if (version)
		read_version(root, version, e);
	read_names(root, p, e);
	get_bool(root, "lifelong", &p->lifelong, e);
	get_bool(root, "audit_denials", &p->audit_denials, e);
	read_reminders(root, p, e);
	read_categories(root, p, e);
	require_review(p, stored, e);
	read_matters(root, p, e);
}

/* Parses text, reporting a syntax error (with line and column) as both
 * the summary and an item.  Returns a new reference or NULL. */
static json_t *load(const char *text, size_t len, struct bm_err *e)
{
	json_error_t je;
	json_t *root;
	char q[sizeof je.text];

	if (len == 0 || text == NULL) {
		bm_err_add(e, 0, "$", "the policy document is empty");
		bm_errf(e, BM_EINVAL, "$", "the policy document is empty");
		return NULL;
	}
	if (len > POLICY_MAX_BYTES) {
		bm_err_add(e, 0, "$", "%zu bytes is more than the limit of %d", len,
			   POLICY_MAX_BYTES);
		bm_errf(e, BM_ETOOBIG, "$", "the policy document is %zu bytes; the limit is %d",
			len, POLICY_MAX_BYTES);
		return NULL;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		names_echo(q, sizeof q, je.text);
		bm_err_add(e, 0, "$", "line %d, column %d: %s", je.line, je.column, q);
		bm_errlf(e, BM_EINVAL, je.line, "$",
			 "the policy is not valid JSON: line %d, column %d: %s", je.line,
			 je.column, q);
	}
	return root;
}

static int parse(const char *text, size_t len, struct policy *p, int64_t *version,
		 bool stored, struct bm_err *e)
{
	struct bm_err local = BM_ERR_INIT;
	struct policy tmp;
	size_t before, first;
	json_t *root;
	int rc = 0;

	if (e == NULL)
		e = &local;
	before = e->total;
	first = e->nitems;
	root = load(text, len, e);
	if (root == NULL) {
		rc = e->code;
		goto out;
	}
	memset(&tmp, 0, sizeof tmp);
	read_policy(root, &tmp, version, stored, e);
	json_decref(root);
	if (e->total > before) {
		size_t n = e->total - before;

		rc = bm_errf(e, BM_EINVAL, first < e->nitems ? e->items[first].field : "$",
			     "policy has %zu error%s", n, n == 1 ? "" : "s");
		goto out;
	}
	*p = tmp;
out:
	bm_err_clear(&local);
	return rc;
}

int policy_from_json(const char *text, size_t len, struct policy *p, struct bm_err *e)
{
	return parse(text, len, p, NULL, false, e);
}

int policy_edit_from_json(const char *text, size_t len, struct policy *p, int64_t *version,
			  struct bm_err *e)
{
	return parse(text, len, p, version, false, e);
}

int policy_stored_from_json(const char *text, size_t len, struct policy *p, struct bm_err *e)
{
	return parse(text, len, p, NULL, true, e);
}

/* ---- writing ----------------------------------------------------------- */

/* Stores v under key in obj, stealing v.  jansson returns NULL only when
 * out of memory, which baomi treats as fatal (lib/mem.h). */
static void put(json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(obj, key, v) != 0) {
		fprintf(stderr, "baomi: out of memory building policy JSON\n");
		abort();
	}
}

static json_t *category_json(const struct policy_category *c)
{
	json_t *o = json_object(), *gates = json_array();

	if (o == NULL || gates == NULL)
		abort();
	for (size_t i = 0; i < NCAT_FIELDS; i++)
		put(o, cat_fields[i].key, json_integer(cat_int_get(c, i)));
	for (int g = 0; g < GATE__COUNT; g++)
		if ((c->gates & (1u << g)) && json_array_append_new(gates, json_string(gate_names[g])))
			abort();
	put(o, "gates", gates);
	return o;
}

static json_t *matter_json(const struct policy_matter *m)
{
	json_t *o = json_object();

	if (o == NULL)
		abort();
	put(o, "action", json_string(matter_action_name(m->action)));
	if (m->action == MATTER_REREVIEW)
		put(o, "within_days", json_integer(m->within_days));
	return o;
}

/* Builds the document in the order of the format's description: names,
 * flags, reminders, categories (core first), matters. */
static json_t *policy_json(const struct policy *p)
{
	json_t *root = json_object(), *rem = json_array(), *cats = json_object(),
	       *mats = json_object();

	if (root == NULL || rem == NULL || cats == NULL || mats == NULL)
		abort();
	put(root, "profile", json_string(p->profile));
	put(root, "commitment", json_string(p->commitment));
	put(root, "lifelong", json_boolean(p->lifelong));
	put(root, "audit_denials", json_boolean(p->audit_denials));
	for (int i = 0; i < p->nreminders && i < POLICY_MAX_REMINDERS; i++)
		if (json_array_append_new(rem, json_integer(p->reminders[i])) != 0)
			abort();
	put(root, "reminder_days", rem);
	for (int lv = 3; lv >= 1; lv--)
		put(cats, cat_keys[lv], category_json(&p->cat[lv]));
	put(root, "categories", cats);
	for (int i = 0; i < p->nmatters && i < POLICY_MAX_MATTERS; i++)
		put(mats, p->matters[i].type, matter_json(&p->matters[i]));
	put(root, "matters", mats);
	return root;
}

void policy_to_json(const struct policy *p, struct buf *out)
{
	json_t *root = policy_json(p);
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s == NULL)
		abort();
	buf_puts(out, s);
	buf_putc(out, '\n');
	free(s);
	json_decref(root);
}

bool policy_equal(const struct policy *a, const struct policy *b)
{
	if (strcmp(a->profile, b->profile) != 0 || strcmp(a->commitment, b->commitment) != 0 ||
	    a->lifelong != b->lifelong || a->audit_denials != b->audit_denials ||
	    a->nreminders != b->nreminders || a->nmatters != b->nmatters)
		return false;
	for (int lv = 1; lv <= 3; lv++)
		if (memcmp(&a->cat[lv], &b->cat[lv], sizeof a->cat[lv]) != 0)
			return false;
	for (int i = 0; i < a->nreminders && i < POLICY_MAX_REMINDERS; i++)
		if (a->reminders[i] != b->reminders[i])
			return false;
	for (int i = 0; i < a->nmatters && i < POLICY_MAX_MATTERS; i++) {
		const struct policy_matter *x = &a->matters[i], *y = &b->matters[i];

		if (strcmp(x->type, y->type) != 0 || x->action != y->action ||
		    x->within_days != y->within_days)
			return false;
	}
	return true;
}
