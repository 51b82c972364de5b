/*
 * gate.c - gate evaluation and the table of failure reasons.
 *
 * Each gate is one small evaluator in a table of {kind, fn}; adding a gate
 * (training, exam, commitment) means writing one function, adding its facts
 * to struct gate_facts and its reasons to enum gate_reason, and one table
 * row.  Evaluators only read facts and policy: this file must never do I/O,
 * read the clock or allocate.
 */
#include "gate.h"

#include "../lib/clock.h"
#include "level.h"
#include "lifecycle.h"

#include <string.h>

typedef void (*gate_fn)(const struct gate_facts *f, const struct policy_category *c,
			int64_t now, struct gate_result *r);

struct gate_def {
	int kind;
	gate_fn eval;
	int lapse;                   /* the reason it fails with once its
				      * valid_until passes; -1 never lapses */
};

struct reason_def {
	const char *code, *en, *zh;
};

static void eval_review(const struct gate_facts *f, const struct policy_category *c,
			int64_t now, struct gate_result *r);
static void eval_not_suspended(const struct gate_facts *f, const struct policy_category *c,
			       int64_t now, struct gate_result *r);
static void eval_on_post(const struct gate_facts *f, const struct policy_category *c,
			 int64_t now, struct gate_result *r);

static const struct gate_def gate_table[] = {
	{GATE_REVIEW, eval_review, REASON_REVIEW_EXPIRED},
	{GATE_NOT_SUSPENDED, eval_not_suspended, -1},
	{GATE_ON_POST, eval_on_post, REASON_NOT_ON_POST},
};

/* Indexed by enum gate_reason. */
static const struct reason_def reasons[REASON__COUNT] = {
	[REASON_UNKNOWN_PERSON] = {"unknown_person", "No such person is on record.",
				   "无此人员记录。"},
	[REASON_NO_SECRET_POST] = {"no_secret_post", "The person holds no secret-related post.",
				   "该人员未在涉密岗位。"},
	[REASON_NOT_ON_POST] = {"not_on_post", "The person is not on post in their current state.",
				"该人员当前状态不在岗。"},
	[REASON_SUSPENDED] = {"suspended", "The person's clearance is suspended.",
			      "该人员涉密资格已暂停。"},
	[REASON_REVIEW_MISSING] = {"review_missing", "No approved appointment review.",
				   "无已批准的上岗审查。"},
	[REASON_REVIEW_EXPIRED] = {"review_expired", "The appointment review is past its re-review date.",
				   "上岗审查已超过复审期限。"},
	[REASON_REVIEW_LEVEL_TOO_LOW] = {"review_level_too_low",
					 "The approved review is below the level of the post.",
					 "已批准的审查级别低于岗位密级。"},
	[REASON_GATE_UNAVAILABLE] = {"gate_unavailable",
				     "The policy requires a gate this version cannot check.",
				     "保密政策要求的条件本版本无法核验。"},
	[REASON_CLEARANCE_LAPSED] = {"clearance_lapsed", "The clearance has lapsed with time.",
				     "涉密资格已过期失效。"},
	[REASON_LEVEL_TOO_LOW] = {"level_too_low", "The object is classified above the person's level.",
				  "客体密级高于该人员涉密等级。"},
	[REASON_NEED_TO_KNOW] = {"need_to_know",
				 "The person does not hold every compartment of the object.",
				 "该人员不具备客体全部知悉范围。"},
	[REASON_RECORD_DAMAGED] = {"record_damaged",
				   "The person's stored record is damaged; baomi status names the row.",
				   "该人员的存储记录已损坏，baomi status 可指出损坏的记录。"},
};

/* Marks r as failed for reason rs since `since`. */
static void fail(struct gate_result *r, int rs, int64_t since)
{
	r->ok = false;
	r->reason = rs;
	r->code = reasons[rs].code;
	r->msg_en = reasons[rs].en;
	r->msg_zh = reasons[rs].zh;
	r->since = since;
	r->valid_until = 0;
}

/* Marks r as holding from `since` until `until`. */
static void pass(struct gate_result *r, int64_t since, int64_t until)
{
	r->ok = true;
	r->reason = -1;
	r->code = "ok";
	r->msg_en = "Holds.";
	r->msg_zh = "满足。";
	r->since = since;
	r->valid_until = until;
}

/* The review's due instant: the earlier of the recorded one (set at
 * approval, or brought forward by a matter) and approval plus the
 * category's interval under the policy in force, so a policy that shortens
 * the interval applies to reviews approved before it at once; a longer one
 * never extends what the reviewers approved.  No date and no interval: it
 * never falls due. */
static int64_t review_due(const struct gate_facts *f, const struct policy_category *c)
{
	int64_t due = f->review_due > 0 ? f->review_due : GATE_NEVER, by_policy;

	if (c->rereview_days <= 0)
		return due;
	/* The store keeps approved_at within years 0..9999, but this is pure
	 * arithmetic on any input: an instant so late that adding the
	 * interval would overflow never falls due by policy (saturates). */
	if (f->review_approved_at > GATE_NEVER - (int64_t)c->rereview_days * BM_DAY)
		return due;
	by_policy = f->review_approved_at + (int64_t)c->rereview_days * BM_DAY;
	return by_policy < due ? by_policy : due;
}

int64_t gate_review_due(const struct gate_facts *f, const struct policy *p)
{
	int lv = f->level > LEVEL_NONE && f->level <= LEVEL_MAX ? f->level : f->review_level;

	if (!f->review)
		return 0;
	if (lv <= LEVEL_NONE || lv > LEVEL_MAX)
		return f->review_due > 0 ? f->review_due : GATE_NEVER;
	return review_due(f, &p->cat[lv]);
}

/* Review valid: approved, at or above the person's level, not yet due. */
static void eval_review(const struct gate_facts *f, const struct policy_category *c,
			int64_t now, struct gate_result *r)
{
	if (!f->review) {
		/* missing since the review in force was rejected; never approved
		 * nor rejected: since the record began */
		fail(r, REASON_REVIEW_MISSING,
		     f->review_rejected_at ? f->review_rejected_at : f->created);
		return;
	}
	r->due = review_due(f, c);
	if (f->review_level < f->level)
		fail(r, REASON_REVIEW_LEVEL_TOO_LOW, f->review_approved_at);
	else if (now >= r->due)
		fail(r, REASON_REVIEW_EXPIRED, r->due);
	else
		pass(r, f->review_approved_at, r->due);
}

/* The later of two instants, 0 (unknown) when either is. */
static int64_t later_known(int64_t a, int64_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return a > b ? a : b;
}

/* Not suspended: neither in the suspended state nor under a suspension.
 * Holding since the last suspension was lifted (a reinstatement), else
 * since the record began: a person never suspended never was. */
static void eval_not_suspended(const struct gate_facts *f, const struct policy_category *c,
			       int64_t now, struct gate_result *r)
{
	(void)c;
	(void)now;
	if (f->suspended)
		fail(r, REASON_SUSPENDED, f->suspended_since);
	else if (f->state == ST_SUSPENDED)
		fail(r, REASON_SUSPENDED, f->state_since);
	else
		pass(r, f->lifted_at ? f->lifted_at : f->created, GATE_NEVER);
}

/* On post: active or suspended (a suspended person still holds the post;
 * not_suspended is what fails).  Onboarding, leaving and later states hold
 * none, since they were entered.  A held post holds since the later of its
 * appointment's start (a date, often backdated) and taking up the post
 * (activation; a reinstatement does not restart it): unknown when either
 * is.  An appointment with an end date stops holding at that instant. */
static void eval_on_post(const struct gate_facts *f, const struct policy_category *c,
			 int64_t now, struct gate_result *r)
{
	(void)c;
	bool state_ok = f->state == ST_ACTIVE || f->state == ST_SUSPENDED;
	if (!state_ok) {
		fail(r, REASON_NOT_ON_POST, f->state_since);
		return;
	}
	if (f->post_until > 0) {
		r->due = f->post_until;
		if (now >= f->post_until) {
			fail(r, REASON_NOT_ON_POST, f->post_until);
			return;
		}
	}
	pass(r, later_known(f->post_since, f->on_post_since),
	     f->post_until > 0 ? f->post_until : GATE_NEVER);
}

int64_t gate_no_post_since(const struct gate_facts *f)
{
	return f->secret_post_ended ? f->secret_post_ended : f->created;
}

/* The table row for kind, or NULL when the kind has no evaluator. */
static const struct gate_def *gate_find(int kind)
{
	for (size_t i = 0; i < sizeof gate_table / sizeof gate_table[0]; i++)
		if (gate_table[i].kind == kind)
			return &gate_table[i];
	return NULL;
}

bool gate_has_eval(int g)
{
	return gate_find(g) != NULL;
}

/* Runs one gate into the next result of st and folds it into the totals. */
static void eval_one(int kind, const struct gate_facts *f, const struct policy_category *c,
		     int64_t now, struct gate_status *st)
{
	struct gate_result *r = &st->r[st->n++];
	const struct gate_def *d = gate_find(kind);
	memset(r, 0, sizeof *r);
	r->kind = kind;
	if (d)
		d->eval(f, c, now, r);
	else
		fail(r, REASON_GATE_UNAVAILABLE, 0);
	if (r->due > 0 && r->due < st->next_due)
		st->next_due = r->due;
	if (!r->ok) {
		st->reasons |= 1u << r->reason;
	} else if (r->valid_until < st->valid_until) {
		st->valid_until = r->valid_until;
		st->lapse = d && d->lapse >= 0 ? d->lapse : REASON_CLEARANCE_LAPSED;
	}
}

void gate_eval(const struct gate_facts *f, const struct policy *p, int64_t now,
	       struct gate_status *out)
{
	memset(out, 0, sizeof *out);
	out->valid_until = GATE_NEVER;
	out->lapse = REASON_CLEARANCE_LAPSED;
	out->next_due = GATE_NEVER;
	out->level = f->level;
	if (f->damaged) {
		out->level = 0;
		out->reasons = 1u << REASON_RECORD_DAMAGED;
		return;
	}
	if (f->level <= LEVEL_NONE || f->level > LEVEL_MAX) {
		out->level = 0;
		out->reasons = 1u << REASON_NO_SECRET_POST;
		/* a suspension holds whatever the post: a denial names it too */
		if (f->level == LEVEL_NONE)
			eval_one(GATE_NOT_SUSPENDED, f, &p->cat[0], now, out);
		return;
	}
	const struct policy_category *c = &p->cat[f->level];
	/* Being on post, reviewed and not suspended are part of being cleared
	 * (DESIGN.md §2, lifecycle.h: suspended never is), whatever the policy
	 * lists; policy_from_json also refuses a set without on_post or review. */
	uint32_t set = c->gates | GATE_ALWAYS;
	for (int k = 0; k < GATE__COUNT; k++)
		if (set & (1u << k))
			eval_one(k, f, c, now, out);
	out->cleared = out->reasons == 0;
}

const char *gate_reason_code(int r)
{
	return r >= 0 && r < REASON__COUNT ? reasons[r].code : "unknown";
}

const char *gate_reason_msg_en(int r)
{
	return r >= 0 && r < REASON__COUNT ? reasons[r].en : "Unknown reason.";
}

const char *gate_reason_msg_zh(int r)
{
	return r >= 0 && r < REASON__COUNT ? reasons[r].zh : "未知原因。";
}

int gate_reason_parse(const char *code)
{
	for (int r = 0; code && r < REASON__COUNT; r++)
		if (strcmp(reasons[r].code, code) == 0)
			return r;
	return -1;
}
