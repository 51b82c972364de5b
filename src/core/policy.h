/*
 * policy.h - every number the rules use, as data.
 *
 * The law fixes the workflow, not the numbers: re-review intervals,
 * decontamination periods, training hours, exam marks, renewal periods,
 * approvers, reminder offsets, the gates of each category and what each
 * reportable matter does all come from a policy.  Two profiles are built in
 * (cn, the default, and us); a policy can be loaded from JSON, validated with
 * errors that name the JSON path, and stored as a new version by the
 * service layer.  Pure; no I/O.
 */
#ifndef BM_POLICY_H
#define BM_POLICY_H

#include "../lib/buf.h"
#include "../lib/err.h"

#include <stdbool.h>
#include <stdint.h>

/* Gate kinds (DESIGN.md §2).  Only kinds with an implementation may appear
 * in a policy; policy_gate_implemented says which. */
enum gate_kind {
	GATE_REVIEW = 0,        /* approved review, not past its re-review date */
	GATE_NOT_SUSPENDED,     /* not suspended */
	GATE_ON_POST,           /* lifecycle state holds a post, not leaving */
	GATE_TRAINING,          /* onboarding training done */
	GATE_TRAINING_HOURS,    /* annual hours met */
	GATE_EXAM,              /* exam passed and valid */
	GATE_COMMITMENT,        /* on-post commitment signed, current template */
	GATE_RENEWAL,           /* in-post renewal current */
	GATE__COUNT
};

enum matter_action {
	MATTER_REREVIEW = 0,   /* a re-review is due within N days */
	MATTER_SUSPEND,        /* clearance suspended at once */
};

#define POLICY_MAX_MATTERS 16
#define POLICY_MAX_REMINDERS 8

struct policy_category {
	int rereview_days;
	int decon_days, decon_min_days, decon_max_days;
	int training_hours;          /* per year */
	int exam_pass_percent;
	int exam_valid_days;
	int renewal_days;            /* in-post commitment renewal; 0 = none */
	int approvers;               /* distinct approvers of a review */
	uint32_t gates;              /* bit (1u << enum gate_kind) */
};

struct policy_matter {
	char type[32];
	int action;                  /* enum matter_action */
	int within_days;             /* for MATTER_REREVIEW */
};

struct policy {
	char profile[16];            /* "cn", "us" or a custom name */
	char commitment[64];         /* name of the commitment document */
	bool lifelong;               /* duty of secrecy never ends */
	bool audit_denials;          /* audit every denied decision */
	struct policy_category cat[4];   /* indexed by level 1..3; [0] unused */
	int reminders[POLICY_MAX_REMINDERS]; /* days before due, descending */
	int nreminders;
	struct policy_matter matters[POLICY_MAX_MATTERS];
	int nmatters;
};

/* Fills p with a built-in profile ("cn" or "us"); BM_EINVAL (field "profile") otherwise. */
int policy_builtin(const char *name, struct policy *p, struct bm_err *e);
/* Parses and validates a policy document.  Every problem is collected in e
 * (items with the JSON path, e.g. "$.categories.core.rereview_days"); the
 * return is BM_EINVAL when there was any, with e->msg "policy has N
 * errors" and e->field the first item's path.  A syntax error (duplicate
 * keys included) is BM_EINVAL with line and column in the message; an
 * empty document BM_EINVAL; one over 1 MiB BM_ETOOBIG.  p is written only
 * on success.  Every field is required; unknown fields are refused. */
int policy_from_json(const char *text, size_t len, struct policy *p, struct bm_err *e);
/* policy_from_json for a document an officer edited from what `policy
 * show` printed: it may also carry "version", the version it was read at
 * (an integer from 1), given in *version (0 when absent). */
int policy_edit_from_json(const char *text, size_t len, struct policy *p, int64_t *version,
			  struct bm_err *e);
/* policy_from_json for a document read back from the database, stored
 * when the rules were laxer: a category stored without the review gate
 * (allowed before every category had to list it) reads with it, as
 * gate_eval evaluates it anyway; everything else is checked as ever. */
int policy_stored_from_json(const char *text, size_t len, struct policy *p, struct bm_err *e);
/* Appends the policy (as filled by policy_builtin or policy_from_json) as
 * an indented JSON document, ending in a newline, that policy_from_json
 * accepts and reads back equal. */
void policy_to_json(const struct policy *p, struct buf *out);
/* True when a and b hold the same rules (every field compared). */
bool policy_equal(const struct policy *a, const struct policy *b);

const char *gate_kind_name(int g);           /* "review", "not_suspended", ... */
int gate_kind_parse(const char *s);          /* -1 when unknown */
bool policy_gate_implemented(int g);
const char *matter_action_name(int a);
/* The matter entry for type, or NULL. */
const struct policy_matter *policy_matter(const struct policy *p, const char *type);

#endif
