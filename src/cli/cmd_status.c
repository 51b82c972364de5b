/*
 * cmd_status.c - `baomi status`, `baomi decide`, `baomi due` and
 * `baomi report compliance`: the read side of vetting.
 *
 * `decide` builds the same JSON request the HTTP API takes, so both
 * adapters go through one parser in service/decisions.c.  `due` first
 * opens the re-reviews that have fallen due (svc_reviews_open_due), as the
 * server does periodically.  No rule lives here.
 */
#include "cli.h"
#include "../lib/clock.h"

#include <stdio.h>
#include <string.h>

/* A member that is an instant (a string) or null, as text: "-" for null. */
static const char *when(json_t *o, const char *k)
{
	const char *t = json_string_value(json_object_get(o, k));

	return t ? t : "-";
}

/* The status for a person at a console: the verdict, the level and until
 * when, each gate with since and until when it holds and its message in
 * English and Chinese, and the next deadline: every field --json gives but
 * the compartments list's format. */
static void print_status(json_t *v)
{
	size_t i;
	json_t *g, *next = json_object_get(v, "next_due");

	printf("%s  %s (%s)  %s (%s)  %s", json_string_value(json_object_get(v, "person")),
	       json_string_value(json_object_get(v, "state")),
	       json_string_value(json_object_get(v, "state_zh")),
	       json_string_value(json_object_get(v, "category")),
	       json_string_value(json_object_get(v, "level")),
	       json_is_true(json_object_get(v, "cleared")) ? "CLEARED" : "NOT CLEARED");
	if (json_is_true(json_object_get(v, "cleared")) && json_is_string(json_object_get(v, "valid_until")))
		printf(" until %s", when(v, "valid_until"));
	printf("\n  %-14s %-4s %-22s %-21s %-21s %s\n", "GATE", "OK", "CODE", "SINCE", "UNTIL",
	       "MESSAGE");
	json_array_foreach(json_object_get(v, "gates"), i, g) {
		json_t *m = json_object_get(g, "message");

		printf("  %-14s %-4s %-22s %-21s %-21s %s %s\n",
		       json_string_value(json_object_get(g, "gate")),
		       json_is_true(json_object_get(g, "ok")) ? "ok" : "FAIL",
		       json_string_value(json_object_get(g, "code")), when(g, "since"),
		       when(g, "valid_until"), json_string_value(json_object_get(m, "en")),
		       json_string_value(json_object_get(m, "zh")));
	}
	if (json_is_object(next))
		printf("  next due: %s on %s\n", json_string_value(json_object_get(next, "gate")),
		       when(next, "due"));
}

static int status(struct cli *c, struct bm_err *e)
{
	const char *person = NULL;
	json_t *v;
	int rc;

	if ((rc = args_parse(c, NULL, &person, 1, 1, e)) || (rc = cli_open(c, e)))
		return rc;
	if ((v = svc_clearance(c->svc, &c->actor, person, clock_now(), e)) == NULL)
		return e->code;
	if (c->json) {
		out_json(v);
		return 0;
	}
	print_status(v);
	json_decref(v);
	return 0;
}

/* "A, B" -> ["A","B"]: blanks around codes and empty parts skipped; the
 * service checks the codes.  Never cut short: a dropped last code would
 * drop a need-to-know requirement and could turn a denial into allow. */
static json_t *comp_array(const char *list)
{
	json_t *arr = json_array();
	const char *p = list ? list : "";

	while (*p) {
		size_t n = strcspn(p, ",");
		size_t b = 0;

		while (b < n && p[b] == ' ')
			b++;
		while (n > b && p[n - 1] == ' ')
			n--;
		if (n > b)
			json_array_append_new(arr, json_stringn(p + b, n - b));
		p += strcspn(p, ",");
		p += *p == ',';
	}
	return arr;
}

static int decide(struct cli *c, struct bm_err *e)
{
	const char *pos[3] = {0}, *comps = NULL;
	const struct opt o[] = {{"compartments", &comps, NULL}, {0}};
	json_t *req, *v;
	int rc;

	if ((rc = args_parse(c, o, pos, 3, 3, e)) || (rc = cli_open(c, e)) ||
	    (rc = svc_snapshot_partial(c->svc, e)))
		return rc;
	req = json_pack("{s:s, s:s, s:{s:s, s:o}}", "person", pos[0], "action", pos[1], "object",
			"level", pos[2], "compartments", comp_array(comps));
	v = svc_decide(c->svc, &c->actor, req, clock_now(), e);
	json_decref(req);
	if (v == NULL)
		return e->code;
	if (!json_is_true(json_object_get(v, "allow")))
		c->status = CLI_EXIT_DENY;
	if (c->json) {
		out_json(v);
		return 0;
	}
	printf("%s\n", c->status == 0 ? "allow" : "deny");
	for (size_t i = 0; i < json_array_size(json_object_get(v, "reasons")); i++) {
		json_t *r = json_array_get(json_object_get(v, "reasons"), i);

		printf("  %s: %s\n", json_string_value(json_object_get(r, "code")),
		       json_string_value(json_object_get(r, "message")));
	}
	json_decref(v);
	return 0;
}

static const char *const due_keys[] = {"person", "gate", "due", "days_left", "reminder_days"};
static const char *const due_heads[] = {"PERSON", "GATE", "DUE", "DAYS", "REMINDER"};

static int due(struct cli *c, struct bm_err *e)
{
	const char *within = "90d", *limit = NULL;
	const struct opt o[] = {{"within", &within, NULL}, {"limit", &limit, NULL}, {0}};
	int64_t now = clock_now();
	struct due_query q = {0};  /* without --limit, everything on one page */
	json_t *opened, *v;
	int64_t n;
	int rc;

	if ((rc = args_parse(c, o, NULL, 0, 0, e)) ||
	    (rc = clock_parse_duration(within, "within", &q.within, e)) ||
	    (limit && (rc = args_limit(limit, &q.limit, e))) || (rc = cli_open(c, e)))
		return rc;
	opened = json_array();
	if ((rc = svc_reviews_open_due(c->svc, &c->actor, now, opened, &n, e)) ||
	    (v = svc_due(c->svc, &c->actor, now, &q, e)) == NULL) {
		json_decref(opened);
		return rc ? rc : e->code;
	}
	json_object_set_new(v, "opened", opened);
	if (c->json) {
		out_json(v);
		return 0;
	}
	/* a cut list says so: the first N of the open reviews are not all of them */
	printf("%lld re-review(s) opened now; %zu open review(s)%s\n", (long long)n,
	       json_array_size(json_object_get(v, "open_reviews")),
	       json_is_null(json_object_get(v, "open_reviews_next_cursor"))
		       ? "" : " shown, more in baomi review list");
	out_table(json_object_get(v, "items"), due_keys, due_heads, 5);
	out_cut(c, !json_is_null(json_object_get(v, "next_cursor")), limit,
		"items fall due within %s", within);
	json_decref(v);
	return 0;
}

/* "  LABEL   k1 n1, k2 n2, ..." for the members of o in their order: the
 * integer of each, or the count member of each object in an array of
 * {code, count}. */
static void count_line(const char *label, json_t *o)
{
	const char *k, *sep = "";
	json_t *x;
	size_t i;

	printf("  %-9s", label);
	if (json_is_array(o))
		json_array_foreach(o, i, x) {
			printf("%s%s %lld", sep, json_string_value(json_object_get(x, "code")),
			       (long long)json_integer_value(json_object_get(x, "count")));
			sep = ", ";
		}
	else
		json_object_foreach(o, k, x) {
			printf("%s%s %lld", sep, k, (long long)json_integer_value(x));
			sep = ", ";
		}
	printf("\n");
}

/* Per unit: a line with how many persons, cleared or not and the top
 * reason, then (indented) its persons by category and state and every
 * common reason, as --json gives them: the report the issue and the man
 * page describe, not only its totals. */
static void compliance_table(json_t *units)
{
	const char *cat;
	size_t i;
	json_t *u, *states;

	printf("%-10s %8s %8s %12s  %s\n", "UNIT", "PERSONS", "CLEARED", "NOT CLEARED",
	       "MOST COMMON REASON");
	json_array_foreach(units, i, u) {
		json_int_t ok = json_integer_value(json_object_get(u, "cleared"));
		json_int_t no = json_integer_value(json_object_get(u, "not_cleared"));
		json_t *reasons = json_object_get(u, "top_reasons");
		json_t *top = json_array_get(reasons, 0);

		printf("%-10s %8lld %8lld %12lld  %s (%lld)\n",
		       json_string_value(json_object_get(u, "unit")), (long long)(ok + no),
		       (long long)ok, (long long)no,
		       top ? json_string_value(json_object_get(top, "code")) : "-",
		       top ? (long long)json_integer_value(json_object_get(top, "count")) : 0LL);
		json_object_foreach(json_object_get(u, "persons"), cat, states)
			count_line(cat, states);
		if (json_integer_value(json_object_get(u, "damaged")) > 0)
			printf("  %-9s %lld\n", "damaged",
			       (long long)json_integer_value(json_object_get(u, "damaged")));
		if (json_array_size(reasons) > 0)
			count_line("reasons", reasons);
	}
}

static int report_compliance(struct cli *c, struct bm_err *e)
{
	const char *unit = NULL;
	const struct opt o[] = {{"unit", &unit, NULL}, {0}};
	json_t *v;
	int rc;

	if ((rc = args_parse(c, o, NULL, 0, 0, e)) || (rc = cli_open(c, e)))
		return rc;
	if ((v = svc_report_compliance(c->svc, &c->actor, unit, clock_now(), e)) == NULL)
		return e->code ? e->code : BM_EINTERNAL;
	if (c->json) {
		out_json(v);
		return 0;
	}
	compliance_table(json_object_get(v, "units"));
	json_decref(v);
	return 0;
}

const struct verb cmd_status_verbs[] = {
	{"", "PERSON", "clearance status: state, category, every gate, valid until", status},
	{0}};
const struct verb cmd_decide_verbs[] = {
	{"", "PERSON ACTION LEVEL [--compartments A,B]",
	 "may PERSON access an object of LEVEL now? every reason when not", decide},
	{0}};
const struct verb cmd_due_verbs[] = {
	{"", "[--within 90d] [--limit N]", "open re-reviews that fell due; list what comes due",
	 due}, {0}};
const struct verb cmd_report_verbs[] = {
	{"compliance", "[--unit UNIT]", "per unit: category x state, cleared, top reasons",
	 report_compliance},
	{0}};
