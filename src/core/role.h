/*
 * role.h - the roles of an account and what each may do.
 *
 * Roles are bits in a uint32_t set (struct actor.roles).  Three-officer
 * separation (三员分立) is enforced here and nowhere else: sysadmin, secadmin
 * and auditor are mutually exclusive on one account, and auditor goes with no
 * other role.  The permission matrix (role x perm) is one static table in
 * role.c; every door into the data asks role_allows.  Pure; no I/O.
 */
#ifndef BM_ROLE_H
#define BM_ROLE_H

#include "../lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum role {
	ROLE_SYSADMIN = 1u << 0, /* accounts and system settings */
	ROLE_SECADMIN = 1u << 1, /* policy, role grants, personnel security data */
	ROLE_AUDITOR = 1u << 2,  /* audit trail and reports, read only */
	ROLE_OFFICER = 1u << 3,  /* personnel work, scoped to a unit subtree */
	ROLE_REVIEWER = 1u << 4, /* conducts appointment reviews */
	ROLE_TRAINER = 1u << 5,  /* records training and exams */
	ROLE_PERSON = 1u << 6,   /* self-service on one's own record */
};
#define ROLE_COUNT 7
#define ROLE_ALL 0x7fu

/* Every permission the API checks.  Names (perm_name) are stable and appear
 * in the OpenAPI description and in 403 problem details. */
enum perm {
	PERM_UNIT_READ,
	PERM_UNIT_WRITE,
	PERM_POST_READ,
	PERM_POST_WRITE,
	PERM_PERSON_READ,
	PERM_PERSON_WRITE,
	PERM_PERSON_SENSITIVE_READ, /* national id, passports in clear */
	PERM_PERSON_SELF_READ,      /* one's own record */
	PERM_IMPORT,
	PERM_EXPORT,
	PERM_APPOINTMENT_WRITE,
	PERM_POLICY_READ,
	PERM_POLICY_WRITE,
	PERM_AUDIT_READ,
	PERM_AUDIT_VERIFY,
	PERM_ACCOUNT_ADMIN,         /* create, disable, reset accounts */
	PERM_ROLE_GRANT,            /* grant and revoke roles and officer scope */
	PERM_SESSION_OWN,           /* whoami, logout, own sessions */
	PERM_SESSION_ALL,           /* list and revoke anyone's sessions */
	PERM_SYSTEM_SETTINGS,
	PERM_REVIEW_READ,
	PERM_REVIEW_OPEN,
	PERM_REVIEW_DECIDE,
	PERM_MATTER_FILE_OWN,
	PERM_MATTER_FILE_ANY,
	PERM_MATTER_READ,
	PERM_SUSPEND,               /* suspend and reinstate */
	PERM_DECIDE,                /* access decisions for other systems */
	PERM_CLEARANCE_READ,
	PERM_CLEARANCE_SELF_READ,
	PERM_TRAINING_WRITE,        /* record sessions, exams, results */
	PERM_TRAINING_SELF,         /* take training and exams, sign commitments */
	PERM_CARRIER_WRITE,
	PERM_DEPARTURE_WRITE,
	PERM_TRAVEL_REQUEST_OWN,
	PERM_TRAVEL_DECIDE,
	PERM_DUE_READ,              /* who is due for review, training, renewal */
	PERM_REPORT_READ,           /* aggregate reports, no per-person detail */
	PERM_METRICS_READ,
	PERM_COUNT
};

/* The code name of one role bit ("sysadmin", ...); NULL when r is not exactly one role. */
const char *role_name(uint32_t r);
/* Parses one role name into its bit; BM_EINVAL naming field otherwise. */
int role_parse(const char *s, const char *field, uint32_t *out, struct bm_err *e);
/* Parses a comma-separated list ("officer,reviewer"; "" = none) into a set,
 * then checks it with role_check_set. */
int role_parse_list(const char *s, const char *field, uint32_t *out, struct bm_err *e);
/* Writes the set as a comma-separated list in bit order into out (cap bytes,
 * truncated if short); returns the length it needed. */
size_t role_format(uint32_t roles, char *out, size_t cap);
/* 0 when one account may hold this set of roles; BM_EINVAL with the reason
 * (three-officer separation, unknown bits) otherwise.  The empty set is allowed:
 * an account exists before the security administrator grants it anything. */
int role_check_set(uint32_t roles, struct bm_err *e);
/* Three-officer separation across the accounts of one person: DESIGN.md
 * §1.8 wants the three officers held by distinct people, and two accounts
 * linked to one person record are one person.  roles is the set one of
 * them would hold, others the union of the sets of that person's other
 * (enabled) accounts.  0 when together they hold at most one of sysadmin,
 * secadmin and auditor; BM_EINVAL naming "roles" with the reason otherwise. */
int role_check_person(uint32_t roles, uint32_t others, struct bm_err *e);
/* 0 when an administrator may take over the credentials of an account
 * holding `target` roles (reset its password,
 * disable it).  The security administrator's and the auditor's accounts are
 * refused with BM_EPERM naming field: a system administrator who could set
 * their passwords could act as them, which is exactly what three-officer
 * separation forbids.  Those two are reset only on the server's console
 * (the local CLI, which is not an actor with roles here). */
int role_check_takeover(uint32_t target, const char *field, struct bm_err *e);

/* The stable name of a permission ("person.read", ...); "?" when out of range. */
const char *perm_name(enum perm p);
/* True when any role in the set grants p.  Bits that are not roles (such as
 * the service layer's ACTOR_LOCAL) grant nothing here. */
bool role_allows(uint32_t roles, enum perm p);
/* The set of roles granting p (for documentation and tests). */
uint32_t role_granting(enum perm p);

#endif
