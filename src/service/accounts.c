/*
 * accounts.c - login accounts, their roles and passwords.
 *
 * Three-officer separation is core/role.c's rule; this file only asks it
 * (role_check_set) before any role set is stored, and refuses with its
 * reason.  Passwords exist here only on their way into Argon2id: they are
 * never stored, logged or audited, and the hashing runs behind a process-
 * wide counting semaphore so a burst of logins cannot occupy every worker.
 * An officer's scope check lives here too, because "outside your subtree"
 * must read exactly like "does not exist" wherever a service asks.
 */
#include "svc_internal.h"
#include "../core/role.h"
#include "../lib/clock.h"
#include "../lib/utf8.h"

#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PW_MIN 10

static const char *const officer_names[3] = {"sysadmin", "secadmin", "auditor"};
static const uint32_t officer_roles[3] = {ROLE_SYSADMIN, ROLE_SECADMIN, ROLE_AUDITOR};

static sem_t pw_sem;
static pthread_once_t pw_once = PTHREAD_ONCE_INIT;

static void pw_sem_init(void)
{
	sem_init(&pw_sem, 0, SVC__PW_SLOTS);
}

/* Waits for a hashing slot (EINTR is retried: a signal is no reason to
 * skip the bound). */
static void pw_enter(void)
{
	pthread_once(&pw_once, pw_sem_init);
	while (sem_wait(&pw_sem) != 0)
		;
}

static void pw_leave(void)
{
	sem_post(&pw_sem);
}

int svc__pw_check(const char *field, const char *pw, struct bm_err *e)
{
	size_t n = pw ? strlen(pw) : 0, bad;

	if (n < PW_MIN)
		return bm_errf(e, BM_EINVAL, field, "%s: at least %d characters", field, PW_MIN);
	if (n >= SVC_PASSWORD_MAX)
		return bm_errf(e, BM_EINVAL, field, "%s: longer than %d bytes", field,
			       SVC_PASSWORD_MAX - 1);
	if (!utf8_valid(pw, n, &bad) || !utf8_printable(pw, n))
		return bm_errf(e, BM_EINVAL, field, "%s: must be printable UTF-8", field);
	return 0;
}

int svc__pw_hash(const char *password, char out[BM_PWHASH_MAX], struct bm_err *e)
{
	int rc;

	pw_enter();
	rc = crypto_pwhash_str(out, password, strlen(password),
			       crypto_pwhash_OPSLIMIT_INTERACTIVE,
			       crypto_pwhash_MEMLIMIT_INTERACTIVE);
	pw_leave();
	if (rc != 0)
		return bm_errf(e, BM_EINTERNAL, NULL, "password hashing failed (out of memory)");
	return 0;
}

/* An empty hash (an account without a password) still costs one
 * verification against a dummy, so timing does not tell it apart. */
int svc__pw_verify(const char *hash, const char *password)
{
	static const char dummy[] = "$argon2id$v=19$m=65536,t=2,p=1$MSLGMsRIPP8y4uLAtfm3lQ$"
				    "d+mv/Yzz5eLXv/tEnoskNN4erBxBPadz+PRo/2YZxIM";
	const char *h = hash != NULL && hash[0] != '\0' ? hash : dummy;
	int rc;

	pw_enter();
	rc = crypto_pwhash_str_verify(h, password, strlen(password));
	pw_leave();
	return rc == 0 && h != dummy ? 0 : BM_EAUTH;
}

int svc__scope_check(struct svc *s, const struct actor *a, int64_t unit_id, const char *field,
		     const char *what, struct bm_err *e)
{
	int rc;

	if (!svc__actor_scoped(a))
		return 0;
	rc = ST(s)->unit_within(s->st, unit_id, a->scope_unit, e);
	if (rc < 0)
		return rc;
	return rc == 1 ? 0 : bm_errf(e, BM_ENOTFOUND, field, "%s not found", what);
}

/* A random password of 20 characters from an unambiguous alphabet. */
void svc_password_random(char out[SVC_PASSWORD_MAX])
{
	static const char abc[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	uint8_t r[20];

	crypto_random(r, sizeof r);
	for (size_t i = 0; i < sizeof r; i++)
		out[i] = abc[r[i] % (sizeof abc - 1)];
	out[sizeof r] = '\0';
	sodium_memzero(r, sizeof r);
}

int svc__officers_add_tx(struct svc *s, const struct actor *a, struct svc_officers *pw,
			 struct bm_err *e)
{
	int rc;

	for (int i = 0; i < 3; i++) {
		struct account_rec r = {0};

		if (pw->password[i][0] == '\0')
			svc_password_random(pw->password[i]);
		if ((rc = svc__pw_check(officer_names[i], pw->password[i], e)) ||
		    (rc = svc__pw_hash(pw->password[i], r.pwhash, e)))
			return rc;
		svc__copy(r.name, sizeof r.name, officer_names[i]);
		r.roles = officer_roles[i];
		r.created = clock_now();
		if ((rc = ST(s)->account_insert(s->st, &r, e)) ||
		    (rc = svc__audit1(s, a, "account.add", r.name,
				      json_pack("{s:[s]}", "roles", officer_names[i]), e)))
			return rc;
	}
	return 0;
}

/* ---- views ---- */

static json_t *roles_json(uint32_t roles)
{
	json_t *arr = json_array();

	for (int i = 0; i < ROLE_COUNT; i++)
		if (roles & (1u << i))
			json_array_append_new(arr, json_string(role_name(1u << i)));
	return arr;
}

static json_t *account_json(struct svc *s, const struct account_rec *r)
{
	char code[BM_CODE_MAX];
	const char *scope = r->scope_unit ? svc__unit_code(s, r->scope_unit, code) : NULL;
	int64_t now = clock_now();

	return json_pack("{s:s, s:o, s:s?, s:s?, s:b, s:o, s:I, s:o}", "name", r->name, "roles",
			 roles_json(r->roles), "scope_unit", scope, "person",
			 r->person[0] ? r->person : NULL, "disabled", r->disabled, "locked_until",
			 svc__time_json(r->locked_until > now ? r->locked_until : 0), "version",
			 (json_int_t)r->version, "created", svc__time_json(r->created));
}

struct alist {
	struct svc *s;
	struct svc_page *pg;
	json_t *arr;
};

static int list_one(void *ctx, const struct account_rec *r)
{
	struct alist *l = ctx;

	if (svc__page_take(l->pg, r->id))
		json_array_append_new(l->arr, account_json(l->s, r));
	return 0;
}

json_t *svc_account_list(struct svc *s, const struct actor *a, struct svc_page *pg,
			 struct bm_err *e)
{
	struct alist l = {s, pg, NULL};
	struct store_page sp;

	if (svc__allow(a, PERM_ACCOUNT_ADMIN, e))
		return NULL;
	l.arr = json_array();
	if (ST(s)->account_page(s->st, svc__page(pg, &sp), list_one, &l, e)) {
		json_decref(l.arr);
		return NULL;
	}
	return l.arr;
}

/* Reads an account by name, naming the field in a not-found error. */
static int account_load(struct svc *s, const char *name, struct account_rec *r,
			struct bm_err *e)
{
	int rc;

	if ((rc = svc__check_code("name", name, e)))
		return rc == BM_EINVAL ? bm_errf(e, BM_ENOTFOUND, "name", "account not found") : rc;
	rc = ST(s)->account_get(s->st, 0, name, r, e);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "name", "account %.64s not found", name);
	return rc;
}

json_t *svc_account_show(struct svc *s, const struct actor *a, const char *name,
			 struct bm_err *e)
{
	struct account_rec r;

	if (svc__allow(a, PERM_ACCOUNT_ADMIN, e) || account_load(s, name, &r, e))
		return NULL;
	return account_json(s, &r);
}

/* Resolves an optional unit code for a scope, as a validation error. */
static int scope_of(struct svc *s, const char *code, int64_t *out, struct bm_err *e)
{
	struct unit_rec u;
	int rc;

	*out = 0;
	if (code == NULL || code[0] == '\0')
		return 0;
	if ((rc = svc__check_code("scope", code, e)))
		return rc;
	rc = ST(s)->unit_get(s->st, 0, code, &u, e);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, BM_EINVAL, "scope", "scope: unit %.64s not found", code);
	*out = u.id;
	return rc;
}

struct person_roles {
	const char *person;
	int64_t skip;              /* the account being changed */
	uint32_t roles;
};

static int person_roles_one(void *ctx, const struct account_rec *r)
{
	struct person_roles *p = ctx;

	if (r->id != p->skip && !r->disabled && strcmp(r->person, p->person) == 0)
		p->roles |= r->roles;
	return 0;
}

/* Asks core whether an account linked to person may hold roles, given what
 * the person's other enabled accounts (all but skip) hold: three-officer
 * separation is between people, and the link says who is whom. */
static int person_check(struct svc *s, const char *person, int64_t skip, uint32_t roles,
			struct bm_err *e)
{
	struct person_roles p = {person, skip, 0};
	int rc;

	if (person[0] == '\0' || roles == 0)
		return 0;
	if ((rc = ST(s)->account_list(s->st, person_roles_one, &p, e)))
		return rc;
	return role_check_person(roles, p.roles, e);
}

/* Validates an account input into r (hashing the password, which is slow:
 * done before the transaction opens). */
static int account_build(const struct actor *a, const struct account_input *in,
			 struct account_rec *r, struct bm_err *e)
{
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = svc__check_code("name", in->name, e)) ||
	    (rc = role_parse_list(in->roles ? in->roles : "", "roles", &r->roles, e)))
		return rc;
	/* The server's own acts (the re-reviews that fall due) are recorded as
	 * "system": an account so named would read like them in the audit
	 * trail and in a review's opener, and would count as the opener of
	 * every automatic re-review. */
	if (svc_name_is_server(in->name))
		return bm_errf(e, BM_EINVAL, "name", "name: \"%s\" is the name the server acts "
			       "under; an account may not take it", in->name);
	if ((r->roles != 0 || (in->scope && in->scope[0])) &&
	    (rc = svc__allow(a, PERM_ROLE_GRANT, e)))
		return rc;
	if (in->person && in->person[0] && (rc = svc__check_code("person", in->person, e)))
		return rc;
	if (in->password != NULL && ((rc = svc__pw_check("password", in->password, e)) ||
				     (rc = svc__pw_hash(in->password, r->pwhash, e))))
		return rc;
	svc__copy(r->name, sizeof r->name, in->name);
	svc__copy(r->person, sizeof r->person, in->person);
	r->created = clock_now();
	return 0;
}

int svc_account_add(struct svc *s, const struct actor *a, const struct account_input *in,
		    struct bm_err *e)
{
	struct account_rec r;
	char roles[128];
	int rc;

	if ((rc = svc__allow(a, PERM_ACCOUNT_ADMIN, e)) || (rc = account_build(a, in, &r, e)))
		return rc;
	/* whoever set the password knows it: over the API it is temporary */
	r.must_change = r.pwhash[0] != '\0' && !(a->roles & ACTOR_LOCAL);
	if ((rc = svc__begin(s, e)))
		return rc;
	role_format(r.roles, roles, sizeof roles);
	if ((rc = scope_of(s, in->scope, &r.scope_unit, e)) ||
	    (rc = person_check(s, r.person, 0, r.roles, e)))
		goto fail;
	if ((rc = ST(s)->account_insert(s->st, &r, e)) == BM_EEXIST)
		bm_errf(e, rc, "name", "account %s already exists, or one whose name differs only "
			"in case", r.name);
	if (rc ||
	    (rc = svc__audit1(s, a, "account.add", r.name,
			      json_pack("{s:s, s:s?, s:s?, s:b, s:b}", "roles", roles, "scope",
					in->scope, "person", r.person[0] ? r.person : NULL,
					"password_set", r.pwhash[0] != '\0', "must_change",
					r.must_change), e)))
		goto fail;
	return svc__commit(s, e);
fail:
	svc__rollback(s);
	return rc;
}

/* Loads name, lets change() edit it, stores it with its audit event: the
 * common shape of every account write. */
static int account_edit(struct svc *s, const struct actor *a, const char *name,
			const char *action, int (*change)(struct svc *, struct account_rec *,
							  const void *, json_t *, struct bm_err *),
			const void *arg, bool revoke_sessions, struct bm_err *e)
{
	json_t *fields = json_object();
	struct account_rec r;
	int rc;

	if ((rc = svc__begin(s, e)))
		goto out;
	if ((rc = account_load(s, name, &r, e)) || (rc = change(s, &r, arg, fields, e)) ||
	    (rc = ST(s)->account_update(s->st, &r, e)) ||
	    (revoke_sessions && (rc = ST(s)->session_revoke(s->st, 0, r.id, e))) ||
	    (rc = svc__auth_changed(s, e)) ||
	    (rc = svc__audit1(s, a, action, r.name, json_incref(fields), e))) {
		svc__rollback(s);
		goto out;
	}
	rc = svc__commit(s, e);
out:
	json_decref(fields);
	return rc;
}

static int set_disabled(struct svc *s, struct account_rec *r, const void *arg, json_t *f,
			struct bm_err *e)
{
	(void)s;
	(void)arg;
	(void)f;
	if (r->disabled)
		return bm_errf(e, BM_ESTATE, "name", "account %s is already disabled", r->name);
	r->disabled = true;
	return 0;
}

/* set_disabled for another account: the secadmin's and the auditor's are
 * refused like a password reset (core/role.c decides), or the system
 * administrator could silence the officers who grant and who watch. */
static int takeover_disabled(struct svc *s, struct account_rec *r, const void *arg, json_t *f,
			     struct bm_err *e)
{
	int rc = role_check_takeover(r->roles, "name", e);

	return rc ? rc : set_disabled(s, r, arg, f, e);
}

int svc_account_disable(struct svc *s, const struct actor *a, const char *name,
			struct bm_err *e)
{
	int rc;

	if ((rc = svc__allow(a, PERM_ACCOUNT_ADMIN, e)))
		return rc;
	if (a->account_id != 0 && strcmp(a->name, name) == 0)
		return bm_errf(e, BM_ESTATE, "name", "an account cannot disable itself");
	return account_edit(s, a, name, "account.disable",
			    (a->roles & ACTOR_LOCAL) ? set_disabled : takeover_disabled, NULL, true,
			    e);
}

static int set_hash(struct svc *s, struct account_rec *r, const void *arg, json_t *f,
		    struct bm_err *e)
{
	(void)s;
	(void)f;
	(void)e;
	memcpy(r->pwhash, arg, sizeof r->pwhash);
	r->failures = 0;
	r->locked_until = 0;
	r->must_change = false;
	return 0;
}

/* set_hash for a reset by another account: refused for the accounts whose
 * takeover would break three-officer separation (core/role.c decides). */
static int reset_hash(struct svc *s, struct account_rec *r, const void *arg, json_t *f,
		      struct bm_err *e)
{
	int rc = role_check_takeover(r->roles, "name", e);

	if (rc == 0 && (rc = set_hash(s, r, arg, f, e)) == 0) {
		r->must_change = true;   /* the resetter knows it: temporary */
		json_object_set_new(f, "must_change", json_true());
	}
	return rc;
}

int svc_account_passwd(struct svc *s, const struct actor *a, const char *name,
		       const char *password, struct bm_err *e)
{
	char hash[BM_PWHASH_MAX];
	int rc;

	if ((rc = svc__allow(a, PERM_ACCOUNT_ADMIN, e)))
		return rc;
	/* One's own password changes only with the old one (svc_password_change):
	 * a stolen session must not be enough to take the account for good. */
	if (a->account_id != 0 && name != NULL && strcmp(a->name, name) == 0)
		return bm_errf(e, BM_EPERM, "name", "an account cannot reset its own password; "
			       "change it with the old one (POST /v1/password)");
	if ((rc = svc__pw_check("password", password, e)) ||
	    (rc = svc__pw_hash(password, hash, e)))
		return rc;
	return account_edit(s, a, name, "account.passwd",
			    (a->roles & ACTOR_LOCAL) ? set_hash : reset_hash, hash, true, e);
}

int svc_password_change(struct svc *s, const struct actor *a, const char *old_pw,
			const char *new_pw, struct bm_err *e)
{
	struct account_rec r;
	char hash[BM_PWHASH_MAX];
	int rc;

	if ((rc = svc__allow(a, PERM_SESSION_OWN, e)))
		return rc;
	if (a->account_id == 0)
		return bm_errf(e, BM_EUSAGE, NULL, "the local CLI has no password; use account passwd");
	if ((rc = ST(s)->account_get(s->st, a->account_id, NULL, &r, e)))
		return rc;
	/* a wrong old password is a failed login: else a stolen session could
	 * guess it without limit and then take the account */
	if (r.locked_until > clock_now())
		return bm_errf(e, BM_EBUSY, "old_password", "too many failed passwords; try "
			       "again in %lld s", (long long)(r.locked_until - clock_now()));
	if (old_pw == NULL || svc__pw_verify(r.pwhash, old_pw) != 0) {
		bool locked = false;

		if ((rc = svc__login_failed(s, r.name, r.id, "", "wrong old password", &locked,
					    e)))
			return rc;
		return bm_errf(e, BM_EPERM, "old_password", "old_password: does not match");
	}
	if ((rc = svc__pw_check("new_password", new_pw, e)))
		return rc;
	/* the old one verified: the same text is the same password, and a
	 * temporary one stays known to whoever set it */
	if (strcmp(old_pw, new_pw) == 0)
		return bm_errf(e, BM_EINVAL, "new_password", "new_password: the same as the old "
			       "one; choose another");
	if ((rc = svc__pw_hash(new_pw, hash, e)))
		return rc;
	return account_edit(s, a, r.name, "account.passwd", set_hash, hash, true, e);
}

struct role_change {
	uint32_t bit;
	bool grant;
	const char *scope;
	const struct actor *a;     /* the granter: a scoped one grants inside its subtree */
};

/* A scoped granter edits only accounts that hold no role yet or are scoped
 * inside its subtree: it may not demote the organisation's secadmin, nor an
 * officer of another unit. */
static int may_edit(struct svc *s, const struct actor *a, const struct account_rec *r,
		    struct bm_err *e)
{
	if (!svc__actor_scoped(a) || r->roles == 0 ||
	    (r->scope_unit != 0 && svc__scope_check(s, a, r->scope_unit, "name", "unit", e) == 0))
		return 0;
	return bm_errf(e, BM_EPERM, "name", "%s works in a unit subtree and may not change the "
		       "roles of account %s, which reaches beyond it", a->name, r->name);
}

/* A granter scoped to a subtree hands out no more than it holds: the scope
 * it names must lie inside its own (a unit outside is "not found", the words
 * for one that does not exist), and an account it edits must end up scoped
 * inside it while it holds any role -- no scope is the whole organisation. */
static int grant_within(struct svc *s, const struct role_change *c, const char *scope_code,
			const struct account_rec *r, struct bm_err *e)
{
	const struct actor *a = c->a;

	if (!svc__actor_scoped(a))
		return 0;
	if (scope_code != NULL && scope_code[0] != '\0' && r->scope_unit != 0 &&
	    svc__scope_check(s, a, r->scope_unit, "scope", "unit", e) != 0)
		return bm_errf(e, BM_EINVAL, "scope", "scope: unit %.64s not found", scope_code);
	if (r->roles != 0 &&
	    (r->scope_unit == 0 || svc__scope_check(s, a, r->scope_unit, "scope", "unit", e) != 0))
		return bm_errf(e, BM_EPERM, "scope", "%s works in a unit subtree and may leave "
			       "account %s only scoped inside it (give a scope)", a->name, r->name);
	return 0;
}

/* Applies one grant or revoke, then asks core whether the set may stand. */
static int change_role(struct svc *s, struct account_rec *r, const void *arg, json_t *f,
		       struct bm_err *e)
{
	const struct role_change *c = arg;
	uint32_t next = c->grant ? r->roles | c->bit : r->roles & ~c->bit;
	int rc;

	if ((rc = may_edit(s, c->a, r, e)))
		return rc;
	if (c->grant && ((rc = role_check_set(next, e)) ||
			 (rc = person_check(s, r->person, r->id, next, e)))) {
		char why[sizeof e->msg];

		if (rc != BM_EINVAL)
			return rc;
		snprintf(why, sizeof why, "%s", e->msg);
		return bm_errf(e, BM_EINVAL, "role", "cannot grant %s to %s: %.400s",
			       role_name(c->bit), r->name, why);
	}
	if (c->grant && c->scope && (rc = scope_of(s, c->scope, &r->scope_unit, e)))
		return rc;
	if (!c->grant && c->bit == ROLE_OFFICER)
		r->scope_unit = 0;
	r->roles = next;
	if ((rc = grant_within(s, c, c->grant ? c->scope : NULL, r, e)))
		return rc;
	json_object_set_new(f, "role", json_string(role_name(c->bit)));
	if (c->scope)
		json_object_set_new(f, "scope", json_string(c->scope));
	return 0;
}

static int role_edit(struct svc *s, const struct actor *a, const char *name, const char *role,
		     const struct role_change *c0, struct bm_err *e)
{
	struct role_change c = *c0;
	int rc;

	if ((rc = svc__allow(a, PERM_ROLE_GRANT, e)) || (rc = role_parse(role, "role", &c.bit, e)))
		return rc;
	if (a->account_id != 0 && strcmp(a->name, name) == 0)
		return bm_errf(e, BM_EPERM, "name", "nobody may change their own roles");
	/* nor those of another account linked to the same person */
	if ((rc = svc__same_person(s, a, name, e)) != 0)
		return rc < 0 ? rc : bm_errf(e, BM_EPERM, "name", "nobody may change the roles "
					     "of an account linked to their own person");
	return account_edit(s, a, name, c.grant ? "role.grant" : "role.revoke", change_role, &c,
			    false, e);
}

int svc_role_grant(struct svc *s, const struct actor *a, const char *name, const char *role,
		   const char *scope, struct bm_err *e)
{
	struct role_change c = {0, true, scope, a};

	return role_edit(s, a, name, role, &c, e);
}

int svc_role_revoke(struct svc *s, const struct actor *a, const char *name, const char *role,
		    struct bm_err *e)
{
	struct role_change c = {0, false, NULL, a};

	return role_edit(s, a, name, role, &c, e);
}
