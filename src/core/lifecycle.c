/*
 * lifecycle.c - the states of a secret-related person and the one table of
 * legal moves between them.  Everything the service layer does to a
 * person's state is checked here first, so a rule change is one row.
 * Pure: no I/O, no state.  It must never allow a move the table does not
 * list: an unknown pair is refused.
 */
#include "lifecycle.h"
#include "names.h"

#include <stddef.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ST_ANY (-1)

static const char *const code_names[ST__COUNT] = {
	[ST_CANDIDATE] = "candidate",
	[ST_REVIEWING] = "reviewing",
	[ST_ONBOARDING] = "onboarding",
	[ST_ACTIVE] = "active",
	[ST_SUSPENDED] = "suspended",
	[ST_LEAVING] = "leaving",
	[ST_DECONTAMINATION] = "decontamination",
	[ST_RELEASED] = "released",
	[ST_REJECTED] = "rejected",
};

static const char *const zh_names[ST__COUNT] = {
	[ST_CANDIDATE] = "候选",
	[ST_REVIEWING] = "审查中",
	[ST_ONBOARDING] = "上岗准备",
	[ST_ACTIVE] = "在岗",
	[ST_SUSPENDED] = "暂停",
	[ST_LEAVING] = "离岗中",
	[ST_DECONTAMINATION] = "脱密期",
	[ST_RELEASED] = "已脱密",
	[ST_REJECTED] = "未通过",
};

/* Extra spellings state_parse accepts besides the names above. */
static const struct name_map aliases[] = {
	{"脱密期满", ST_RELEASED},
	{"审查未通过", ST_REJECTED},
	{"暂停涉密", ST_SUSPENDED},
};

/*
 * The transition table.  A row with why == NULL is a legal move; a row
 * with a reason refuses.  The first row matching (from, to) decides, so
 * specific refusals come before the catch-all (to == ST_ANY) of a state.
 */
#define LEAVE_FIRST                                                                 \
	"the person must go through leaving first (reminder briefing, carriers "     \
	"returned, leaving commitment)"

static const struct move {
	int from, to;
	const char *why;
} moves[] = {
	{ST_CANDIDATE, ST_REVIEWING, NULL},
	{ST_CANDIDATE, ST_ANY, "a candidate must be reviewed first"},

	{ST_REVIEWING, ST_ONBOARDING, NULL},
	{ST_REVIEWING, ST_REJECTED, NULL},
	{ST_REVIEWING, ST_ACTIVE,
	 "the review must be approved first; approval moves the person to onboarding"},
	{ST_REVIEWING, ST_ANY, "a review must end in approval (onboarding) or rejection first"},

	{ST_REJECTED, ST_REVIEWING, NULL},
	{ST_REJECTED, ST_ANY, "a rejected person can only be reviewed again"},

	{ST_ONBOARDING, ST_ACTIVE, NULL},
	{ST_ONBOARDING, ST_LEAVING, NULL},
	{ST_ONBOARDING, ST_ANY, "onboarding ends by taking up the post or by leaving"},

	{ST_ACTIVE, ST_SUSPENDED, NULL},
	{ST_ACTIVE, ST_LEAVING, NULL},
	{ST_ACTIVE, ST_DECONTAMINATION, LEAVE_FIRST},
	{ST_ACTIVE, ST_RELEASED, LEAVE_FIRST},
	{ST_ACTIVE, ST_ANY, "a person on post can only be suspended or start leaving"},

	{ST_SUSPENDED, ST_ACTIVE, NULL},
	{ST_SUSPENDED, ST_LEAVING, NULL},
	{ST_SUSPENDED, ST_DECONTAMINATION, LEAVE_FIRST},
	{ST_SUSPENDED, ST_RELEASED, LEAVE_FIRST},
	{ST_SUSPENDED, ST_ANY, "a suspended person is either reinstated or leaves"},

	{ST_LEAVING, ST_DECONTAMINATION, NULL},
	{ST_LEAVING, ST_RELEASED, NULL},
	{ST_LEAVING, ST_ANY,
	 "a person who is leaving goes on to the decontamination period or is released"},

	{ST_DECONTAMINATION, ST_RELEASED, NULL},
	{ST_DECONTAMINATION, ST_ANY, "the decontamination period ends only in release"},

	{ST_RELEASED, ST_ANY, "a released person's record is closed; appoint them anew as a "
			      "new candidate"},
};

static bool valid_state(int st)
{
	return st >= 0 && st < ST__COUNT;
}

const char *state_name(int st)
{
	return valid_state(st) ? code_names[st] : "unknown";
}

const char *state_name_zh(int st)
{
	return valid_state(st) ? zh_names[st] : "未知";
}

/* Looks s up in one of the per-state name arrays. */
static int find_in(const char *const names[ST__COUNT], const char *s, int *out)
{
	struct name_map m[ST__COUNT];

	for (int i = 0; i < ST__COUNT; i++)
		m[i] = (struct name_map){names[i], i};
	return names_find(m, ST__COUNT, s, out);
}

int state_parse(const char *s, const char *field, int *out, struct bm_err *e)
{
	const char *f = field ? field : "state";
	char q[48];

	if (find_in(code_names, s, out) == 0 || find_in(zh_names, s, out) == 0 ||
	    names_find(aliases, NELEM(aliases), s, out) == 0)
		return 0;
	return bm_errf(e, BM_EINVAL, field,
		       "%s: \"%s\" is not a state; use candidate, reviewing, onboarding, "
		       "active, suspended, leaving, decontamination, released or rejected "
		       "(or 候选, 审查中, 上岗准备, 在岗, 暂停, 离岗中, 脱密期, 已脱密, 未通过)",
		       f, s ? names_echo(q, sizeof q, s) : "");
}

int lifecycle_check(int from, int to, struct bm_err *e)
{
	if (!valid_state(from) || !valid_state(to))
		return bm_errf(e, BM_EINVAL, "state", "unknown state %d",
			       valid_state(from) ? to : from);
	if (from == to)
		return bm_errf(e, BM_ESTATE, "state", "cannot move from %s to %s: already %s",
			       code_names[from], code_names[to], code_names[to]);
	for (size_t i = 0; i < NELEM(moves); i++) {
		if (moves[i].from != from || (moves[i].to != to && moves[i].to != ST_ANY))
			continue;
		if (moves[i].why == NULL)
			return 0;
		return bm_errf(e, BM_ESTATE, "state", "cannot move from %s to %s: %s",
			       code_names[from], code_names[to], moves[i].why);
	}
	return bm_errf(e, BM_ESTATE, "state", "cannot move from %s to %s", code_names[from],
		       code_names[to]);
}

/*
 * Exactly ST_ACTIVE and ST_SUSPENDED hold a post.  Onboarding has not yet
 * taken it up (training, exam and commitment come first); leaving,
 * decontamination and released have given it up; candidate, reviewing and
 * rejected never had it.  A suspended person keeps the post but is not
 * cleared: the not_suspended gate fails.
 */
bool state_on_post(int st)
{
	return st == ST_ACTIVE || st == ST_SUSPENDED;
}

bool state_has_left(int st)
{
	return st == ST_LEAVING || st == ST_DECONTAMINATION || st == ST_RELEASED;
}
