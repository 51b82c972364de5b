/*
 * cmd_review.c - vetting from the command line: reviews, matters,
 * suspension, activation, clearance status, decisions, the due list and
 * the compliance report.
 *
 * Each verb parses its arguments, calls one service function and prints
 * its JSON view (--json) or a short human form.  No rule lives here; the
 * global --as NAME (main.c) names the acting officer, so the "opener may
 * not decide" rule can be exercised locally.
 */
#include "cli.h"
#include "../lib/clock.h"
#include "../lib/num.h"

#include <stdio.h>
#include <string.h>

/* Prints v (consumed) as JSON or as a record; NULL means e is filled. */
static int show(struct cli *c, json_t *v, struct bm_err *e)
{
	if (v == NULL)
		return e->code ? e->code : BM_EINTERNAL;
	if (c->json)
		out_json(v);
	else {
		out_record(v);
		json_decref(v);
	}
	return 0;
}

static int review_id(const char *v, int64_t *id, struct bm_err *e)
{
	return args_pos_int("REVIEW", v, id, e);
}

static int review_open(struct cli *c, struct bm_err *e)
{
	const char *person = NULL, *level = NULL;
	const struct opt o[] = {{"level", &level, NULL}, {0}};
	int rc;

	if ((rc = args_parse(c, o, &person, 1, 1, e)) || (rc = cli_open(c, e)))
		return rc;
	return show(c, svc_review_open(c->svc, &c->actor, person, level, e), e);
}

static int review_finding(struct cli *c, struct bm_err *e)
{
	const char *pos[3] = {0}, *note = NULL;
	const struct opt o[] = {{"note", &note, NULL}, {0}};
	int64_t id, item;
	int rc;

	if ((rc = args_parse(c, o, pos, 3, 3, e)) || (rc = review_id(pos[0], &id, e)) ||
	    (rc = args_pos_int("ITEM", pos[1], &item, e)) || (rc = cli_open(c, e)))
		return rc;
	return show(c, svc_review_finding(c->svc, &c->actor, id, (int)(item > 99 ? 99 : item),
					  pos[2], note, 0, e), e);
}

/* --version N: the verdict is on the version of the review its reviewer
 * read (review show), refused if a finding changed since; without it, on
 * the review as it is now. */
static int decide(struct cli *c, bool approve, struct bm_err *e)
{
	const char *pos = NULL, *reason = NULL, *version = NULL;
	const struct opt o[] = {{"reason", &reason, NULL}, {"version", &version, NULL}, {0}};
	int64_t id, expected = 0;
	int rc;

	if ((rc = args_parse(c, o, &pos, 1, 1, e)) || (rc = review_id(pos, &id, e)))
		return rc;
	if (version != NULL && !num_parse(version, 1, INT64_MAX, &expected))
		return bm_errf(e, BM_EUSAGE, "version", "--version: the review's version as "
			       "review show prints it (a positive integer)");
	if ((rc = cli_open(c, e)))
		return rc;
	return show(c, svc_review_decide(c->svc, &c->actor, id, approve, reason, expected, e),
		    e);
}

static int review_approve(struct cli *c, struct bm_err *e)
{
	return decide(c, true, e);
}

static int review_reject(struct cli *c, struct bm_err *e)
{
	return decide(c, false, e);
}

static int review_show(struct cli *c, struct bm_err *e)
{
	const char *pos = NULL;
	int64_t id;
	int rc;

	if ((rc = args_parse(c, NULL, &pos, 1, 1, e)) || (rc = review_id(pos, &id, e)) ||
	    (rc = cli_open(c, e)))
		return rc;
	return show(c, svc_review_show(c->svc, &c->actor, id, e), e);
}

static const char *const review_keys[] = {"id", "person", "level", "trigger", "state",
					  "due_at", "valid_until"};
static const char *const review_heads[] = {"ID", "PERSON", "LEVEL", "TRIGGER", "STATE", "DUE",
					   "VALID UNTIL"};

static int review_list(struct cli *c, struct bm_err *e)
{
	struct svc_page pg = {.unbound = true};
	struct review_query q = {.page = &pg};
	const char *limit = NULL, *after = NULL;
	const struct opt o[] = {{"state", &q.state, NULL}, {"limit", &limit, NULL},
				{"after", &after, NULL}, {0}};
	json_t *v;
	int rc;

	if ((rc = args_parse(c, o, &q.person, 0, 1, e)) || (rc = cli_open(c, e)) ||
	    (limit && (rc = args_limit(limit, &pg.limit, e))) ||
	    (after && (rc = args_int("after", after, &pg.after_id, e))))
		return rc;
	if ((v = svc_review_list(c->svc, &c->actor, &q, e)) == NULL)
		return e->code;
	if (c->json) {
		out_json(v);
		return 0;
	}
	out_table(v, review_keys, review_heads, 7);
	json_decref(v);
	out_cut(c, pg.more, limit, "reviews");
	return 0;
}

const struct verb cmd_review_verbs[] = {
	{"open", "PERSON --level LEVEL", "open a review (a re-review for a person on post)",
	 review_open},
	{"finding", "REVIEW ITEM clear|concern|disqualifying [--note TEXT]",
	 "record checklist item 1-6", review_finding},
	{"approve", "REVIEW --reason TEXT [--version N]", "approve (not the opener, not the person)",
	 review_approve},
	{"reject", "REVIEW --reason TEXT [--version N]", "reject with a reason", review_reject},
	{"show", "REVIEW", "show a review with its checklist and decisions", review_show},
	{"list", "[PERSON] [--state open|approved|rejected|all] [--limit N] [--after REVIEW]",
	 "a person's reviews, or every open review", review_list},
	{0},
};

/* --------------------------------------------------------------- matters */

static int matter_file(struct cli *c, struct bm_err *e)
{
	const char *pos[2] = {0}, *detail = NULL;
	const struct opt o[] = {{"detail", &detail, NULL}, {0}};
	int rc;

	if ((rc = args_parse(c, o, pos, 2, 2, e)) || (rc = cli_open(c, e)))
		return rc;
	return show(c, svc_matter_file(c->svc, &c->actor, pos[0], pos[1], detail, e), e);
}

/* The list comes wrapped as {"matters": [...]}; a refusal (an unknown person,
 * one outside the actor's scope) must reach show() as NULL, not as {}. */
static int matter_list(struct cli *c, struct bm_err *e)
{
	const char *person = NULL, *limit = NULL;
	const struct opt o[] = {{"limit", &limit, NULL}, {0}};
	struct svc_page pg = {0};
	json_t *list;
	int rc;

	if ((rc = args_parse(c, o, &person, 1, 1, e)) ||
	    (limit && (rc = args_limit(limit, &pg.limit, e))) || (rc = cli_open(c, e)))
		return rc;
	list = svc_matter_list(c->svc, &c->actor, person, &pg, e);
	if ((rc = show(c, list ? json_pack("{s:o}", "matters", list) : NULL, e)) == 0)
		out_cut(c, pg.more, limit, "matters");
	return rc;
}

const struct verb cmd_matter_verbs[] = {
	{"file", "PERSON TYPE [--detail TEXT]", "file a reportable matter or violation",
	 matter_file},
	{"list", "PERSON [--limit N]", "a person's matters, oldest first", matter_list},
	{0},
};

/* ------------------------------------------------- suspend, reinstate, activate */

static int with_reason(struct cli *c, int (*fn)(struct svc *, const struct actor *,
						const char *, const char *, struct bm_err *),
		       const char *done, struct bm_err *e)
{
	const char *person = NULL, *reason = NULL;
	const struct opt o[] = {{"reason", &reason, NULL}, {0}};
	int rc;

	if ((rc = args_parse(c, o, &person, 1, 1, e)) || (rc = cli_open(c, e)) ||
	    (rc = fn(c->svc, &c->actor, person, reason, e)))
		return rc;
	if (!c->json)
		printf("%s %s\n", person, done);
	return 0;
}

static int suspend(struct cli *c, struct bm_err *e)
{
	return with_reason(c, svc_person_suspend, "suspended", e);
}

static int reinstate(struct cli *c, struct bm_err *e)
{
	return with_reason(c, svc_person_reinstate, "reinstated", e);
}

static int activate(struct cli *c, struct bm_err *e)
{
	const char *person = NULL;
	int rc;

	if ((rc = args_parse(c, NULL, &person, 1, 1, e)) || (rc = cli_open(c, e)) ||
	    (rc = svc_person_activate(c->svc, &c->actor, person, e)))
		return rc;
	if (!c->json)
		printf("%s is active\n", person);
	return 0;
}

const struct verb cmd_suspend_verbs[] = {
	{"", "PERSON --reason TEXT", "suspend a person's clearance at once", suspend}, {0}};
const struct verb cmd_reinstate_verbs[] = {
	{"", "PERSON --reason TEXT", "lift every suspension and reinstate", reinstate}, {0}};
const struct verb cmd_activate_verbs[] = {
	{"", "PERSON", "onboarding -> active, when every gate holds", activate}, {0}};
