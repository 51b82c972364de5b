/*
 * role.c - role names, the three-officer separation rule and the one
 * permission matrix.
 *
 * This file must never grow a second source of truth: handlers and services
 * ask role_allows, they do not test role bits themselves.
 *
 * Who may do what, and why (DESIGN.md §1.8, 三员分立):
 *  - sysadmin runs the system: accounts, sessions of everyone, settings and
 *    metrics.  It sees no personnel data (not even the unit tree of people)
 *    and no audit trail, so the person who can create accounts cannot also
 *    read or change what those accounts are for.
 *  - secadmin owns security: the policy, role grants and officer scope,
 *    personnel records including the sensitive fields, reviews, suspensions,
 *    the organisation's secret-related units and posts.  It cannot create
 *    accounts nor read the audit trail, so granting power and watching are
 *    held by different people.
 *  - auditor is the only reader of the audit trail (and its verifier) and
 *    reads aggregate reports; it writes nothing anywhere, so the watcher
 *    cannot change what it watches.
 *  - officer does day-to-day personnel work (scoped to a unit subtree by the
 *    service): persons, appointments, import/export, opening reviews, filing
 *    matters, carriers and departures.  Sensitive fields stay masked: it may
 *    enter them but not read them back.
 *  - reviewer conducts vetting: reads persons (sensitive fields included, the
 *    review checks identity and nationality) and decides reviews.
 *  - trainer records training and exams and sees who is due.
 *  - person is self-service: own record and clearance, training and exams,
 *    commitments, filing own matters and travel requests.
 * Everyone who can log in may manage their own session.
 */
#include "role.h"

#include <stdio.h>
#include <string.h>

#define SYS ROLE_SYSADMIN
#define SEC ROLE_SECADMIN
#define AUD ROLE_AUDITOR
#define OFF ROLE_OFFICER
#define REV ROLE_REVIEWER
#define TRN ROLE_TRAINER
#define PER ROLE_PERSON

static const char *const role_names[ROLE_COUNT] = {
	"sysadmin", "secadmin", "auditor", "officer", "reviewer", "trainer", "person",
};

/* The permission matrix: for each permission, the roles that hold it. */
static const struct {
	const char *name;
	uint32_t roles;
} matrix[PERM_COUNT] = {
	[PERM_UNIT_READ] = {"unit.read", SEC | OFF | REV | TRN},
	[PERM_UNIT_WRITE] = {"unit.write", SEC},
	[PERM_POST_READ] = {"post.read", SEC | OFF | REV},
	[PERM_POST_WRITE] = {"post.write", SEC},
	[PERM_PERSON_READ] = {"person.read", SEC | OFF | REV | TRN},
	[PERM_PERSON_WRITE] = {"person.write", SEC | OFF},
	[PERM_PERSON_SENSITIVE_READ] = {"person.sensitive_read", SEC | REV},
	[PERM_PERSON_SELF_READ] = {"person.self_read", PER},
	[PERM_IMPORT] = {"import", SEC | OFF},
	[PERM_EXPORT] = {"export", SEC | OFF},
	[PERM_APPOINTMENT_WRITE] = {"appointment.write", SEC | OFF},
	[PERM_POLICY_READ] = {"policy.read", SEC | OFF | REV},
	[PERM_POLICY_WRITE] = {"policy.write", SEC},
	[PERM_AUDIT_READ] = {"audit.read", AUD},
	[PERM_AUDIT_VERIFY] = {"audit.verify", AUD},
	[PERM_ACCOUNT_ADMIN] = {"account.admin", SYS},
	[PERM_ROLE_GRANT] = {"role.grant", SEC},
	[PERM_SESSION_OWN] = {"session.own", SYS | SEC | AUD | OFF | REV | TRN | PER},
	[PERM_SESSION_ALL] = {"session.all", SYS},
	[PERM_SYSTEM_SETTINGS] = {"system.settings", SYS},
	[PERM_REVIEW_READ] = {"review.read", SEC | OFF | REV},
	[PERM_REVIEW_OPEN] = {"review.open", SEC | OFF},
	[PERM_REVIEW_DECIDE] = {"review.decide", SEC | REV},
	[PERM_MATTER_FILE_OWN] = {"matter.file_own", PER},
	[PERM_MATTER_FILE_ANY] = {"matter.file_any", SEC | OFF},
	[PERM_MATTER_READ] = {"matter.read", SEC | OFF | REV},
	[PERM_SUSPEND] = {"person.suspend", SEC},
	[PERM_DECIDE] = {"decide", SEC | OFF},
	[PERM_CLEARANCE_READ] = {"clearance.read", SEC | OFF | REV},
	[PERM_CLEARANCE_SELF_READ] = {"clearance.self_read", PER},
	[PERM_TRAINING_WRITE] = {"training.write", SEC | TRN},
	[PERM_TRAINING_SELF] = {"training.self", PER},
	[PERM_CARRIER_WRITE] = {"carrier.write", SEC | OFF},
	[PERM_DEPARTURE_WRITE] = {"departure.write", SEC | OFF},
	[PERM_TRAVEL_REQUEST_OWN] = {"travel.request_own", PER},
	[PERM_TRAVEL_DECIDE] = {"travel.decide", SEC},
	[PERM_DUE_READ] = {"due.read", SEC | OFF | TRN},
	[PERM_REPORT_READ] = {"report.read", SEC | AUD},
	[PERM_METRICS_READ] = {"metrics.read", SYS},
};

/* One bit set to exactly one role? */
static int role_index(uint32_t r)
{
	if (r == 0 || (r & (r - 1)) != 0 || (r & ~ROLE_ALL) != 0)
		return -1;
	return __builtin_ctz(r);
}

const char *role_name(uint32_t r)
{
	int i = role_index(r);

	return i < 0 ? NULL : role_names[i];
}

int role_parse(const char *s, const char *field, uint32_t *out, struct bm_err *e)
{
	for (int i = 0; i < ROLE_COUNT; i++) {
		if (s != NULL && strcmp(s, role_names[i]) == 0) {
			*out = 1u << i;
			return 0;
		}
	}
	return bm_errf(e, BM_EINVAL, field,
		       "unknown role '%.40s' (sysadmin, secadmin, auditor, officer, reviewer, "
		       "trainer, person)", s ? s : "");
}

int role_parse_list(const char *s, const char *field, uint32_t *out, struct bm_err *e)
{
	uint32_t set = 0, bit;
	char name[32];

	while (s != NULL && *s != '\0') {
		size_t n = strcspn(s, ",");

		if (n == 0 || n >= sizeof name)
			return bm_errf(e, BM_EINVAL, field, "empty or overlong role name in list");
		memcpy(name, s, n);
		name[n] = '\0';
		if (role_parse(name, field, &bit, e) < 0)
			return BM_EINVAL;
		set |= bit;
		s += n;
		if (*s == ',' && *++s == '\0')
			return bm_errf(e, BM_EINVAL, field, "trailing comma in role list");
	}
	if (role_check_set(set, e) < 0) {
		e->field[0] = '\0';
		if (field != NULL)
			snprintf(e->field, sizeof e->field, "%s", field);
		return BM_EINVAL;
	}
	*out = set;
	return 0;
}

size_t role_format(uint32_t roles, char *out, size_t cap)
{
	size_t need = 0;

	if (cap > 0)
		out[0] = '\0';
	for (int i = 0; i < ROLE_COUNT; i++) {
		if (!(roles & (1u << i)))
			continue;
		char *dst = need < cap ? out + need : NULL;
		int n = snprintf(dst, dst ? cap - need : 0, "%s%s", need ? "," : "",
				 role_names[i]);

		need += (size_t)n;
	}
	return need;
}

int role_check_set(uint32_t roles, struct bm_err *e)
{
	uint32_t officers = roles & (SYS | SEC | AUD);

	if (roles & ~ROLE_ALL)
		return bm_errf(e, BM_EINVAL, "roles", "unknown role bits 0x%x",
			       (unsigned)(roles & ~ROLE_ALL));
	if ((roles & AUD) && roles != AUD)
		return bm_errf(e, BM_EINVAL, "roles",
			       "auditor cannot be combined with any other role "
			       "(three-officer separation)");
	if (officers & (officers - 1))
		return bm_errf(e, BM_EINVAL, "roles",
			       "sysadmin and secadmin cannot be held by one account "
			       "(three-officer separation)");
	return 0;
}

int role_check_person(uint32_t roles, uint32_t others, struct bm_err *e)
{
	uint32_t mine = roles & (SYS | SEC | AUD), theirs = others & (SYS | SEC | AUD);

	if (mine != 0 && (theirs & ~mine) != 0)
		return bm_errf(e, BM_EINVAL, "roles",
			       "the person linked to this account already holds %s through "
			       "another account: sysadmin, secadmin and auditor are held by "
			       "distinct people (three-officer separation)",
			       role_name(theirs & -theirs));
	return 0;
}

int role_check_takeover(uint32_t target, const char *field, struct bm_err *e)
{
	if (target & (SEC | AUD))
		return bm_errf(e, BM_EPERM, field,
			       "%s: the %s account's password is reset, and the account "
			       "disabled, only on the server console (baomi account passwd, "
			       "baomi account disable), never over the API "
			       "(three-officer separation)",
			       field, (target & SEC) ? "secadmin" : "auditor");
	return 0;
}

const char *perm_name(enum perm p)
{
	if ((unsigned)p >= PERM_COUNT)
		return "?";
	return matrix[p].name;
}

bool role_allows(uint32_t roles, enum perm p)
{
	if ((unsigned)p >= PERM_COUNT)
		return false;
	return (matrix[p].roles & roles & ROLE_ALL) != 0;
}

uint32_t role_granting(enum perm p)
{
	return (unsigned)p >= PERM_COUNT ? 0 : matrix[p].roles;
}
