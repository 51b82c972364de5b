/*
 * test_accounts.c - accounts, roles, logins and sessions through service.h:
 * the three officers made by init, three-officer separation on grants,
 * lockout and backoff, session expiry, logout, and the officer's scope
 * answering like "not found".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "core/role.h"
#include "lib/clock.h"
#include "service/service.h"

#define T0 1800000000 /* 2027-01-15 */

struct fx {
	char dir[64], db[96];
	struct svc *s;
	struct actor local;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct svc_officers pw = {{"sys-password-1", "sec-password-1", "aud-password-1"}};
	struct bm_err e = BM_ERR_INIT;
	struct svc_paths p;

	clock_set(T0);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_accounts_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/t.db", f->dir);
	p = (struct svc_paths){f->db, NULL};
	snprintf(f->local.name, sizeof f->local.name, "cli:test");
	f->local.roles = ACTOR_LOCAL;
	assert_int_equal(svc_init_officers(&p, "cn", &f->local, &pw, &e), 0);
	assert_int_equal(svc_open(&p, &f->s, &e), 0);
	assert_int_equal(svc_unit_add(f->s, &f->local, &(struct unit_input){"HQ", "HQ", NULL},
				      &(struct unit_rec){0}, &e), 0);
	assert_int_equal(svc_unit_add(f->s, &f->local, &(struct unit_input){"A", "A", "HQ"},
				      &(struct unit_rec){0}, &e), 0);
	assert_int_equal(svc_unit_add(f->s, &f->local, &(struct unit_input){"B", "B", "HQ"},
				      &(struct unit_rec){0}, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	svc_close(f->s);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	clock_set(0);
	return 0;
}

/* Logs in and resolves the token into an actor.  A temporary password
 * (set by another account) is first changed to pw + "-own", as its holder
 * would, and the holder logs in again: only that session can act. */
static void login_as(struct fx *f, const char *name, const char *pw, struct actor *a)
{
	struct login_result lr;
	struct bm_err e = BM_ERR_INIT;
	char own[128];

	assert_int_equal(svc_login(f->s, name, pw, "10.0.0.1", &lr, &e), 0);
	assert_int_equal(strlen(lr.token), 64);
	assert_int_equal(svc_session_resolve(f->s, lr.token, a, &e), 0);
	assert_int_equal(a->must_change, lr.must_change);
	if (!lr.must_change)
		return;
	assert_int_equal(svc_actor_allow(a, PERM_PERSON_READ, &e), BM_EPERM);
	assert_string_equal(e.field, "password");
	snprintf(own, sizeof own, "%s-own", pw);
	assert_int_equal(svc_password_change(f->s, a, pw, own, &e), 0);
	assert_int_equal(svc_login(f->s, name, own, "10.0.0.1", &lr, &e), 0);
	assert_false(lr.must_change);
	assert_int_equal(svc_session_resolve(f->s, lr.token, a, &e), 0);
	assert_false(a->must_change);
}

static void officers_can_log_in_with_their_roles(void **state)
{
	struct fx *f = *state;
	struct actor a;

	login_as(f, "sysadmin", "sys-password-1", &a);
	assert_int_equal(a.roles, ROLE_SYSADMIN);
	login_as(f, "secadmin", "sec-password-1", &a);
	assert_int_equal(a.roles, ROLE_SECADMIN);
	login_as(f, "auditor", "aud-password-1", &a);
	assert_int_equal(a.roles, ROLE_AUDITOR);
	assert_string_equal(a.name, "auditor");
	assert_true(a.session_id > 0);
}

static void wrong_password_and_unknown_name_answer_alike(void **state)
{
	struct fx *f = *state;
	struct login_result lr;
	struct bm_err e1 = BM_ERR_INIT, e2 = BM_ERR_INIT;

	assert_int_equal(svc_login(f->s, "secadmin", "nope-nope-nope", "10.0.0.2", &lr, &e1),
			 BM_EAUTH);
	assert_int_equal(svc_login(f->s, "nobody", "nope-nope-nope", "10.0.0.3", &lr, &e2),
			 BM_EAUTH);
	assert_string_equal(e1.msg, e2.msg);
	assert_int_equal(svc_login(f->s, "bad name\n", "x", "10.0.0.3", &lr, &e2), BM_EAUTH);
	assert_int_equal(svc_login(f->s, "", "", "10.0.0.3", &lr, &e2), BM_EAUTH);
}

static void five_failures_lock_the_account_then_backoff_expires(void **state)
{
	struct fx *f = *state;
	struct login_result lr;
	struct bm_err e = BM_ERR_INIT;
	char addr[32];

	for (int i = 0; i < 5; i++) {
		snprintf(addr, sizeof addr, "10.1.0.%d", i); /* distinct addresses */
		assert_int_equal(svc_login(f->s, "auditor", "wrong-password", addr, &lr, &e),
				 BM_EAUTH);
		assert_int_equal(lr.locked, i == 4);
	}
	/* Even the right password waits now. */
	assert_int_equal(svc_login(f->s, "auditor", "aud-password-1", "10.1.1.1", &lr, &e),
			 BM_EBUSY);
	assert_true(lr.retry_after > 0 && lr.retry_after <= 30);
	clock_set(T0 + 31);
	assert_int_equal(svc_login(f->s, "auditor", "aud-password-1", "10.1.1.1", &lr, &e), 0);
	clock_set(T0);
}

static void five_failures_from_one_address_block_that_address(void **state)
{
	struct fx *f = *state;
	struct login_result lr;
	struct bm_err e = BM_ERR_INIT;

	for (int i = 0; i < 5; i++)
		svc_login(f->s, "nobody", "wrong-password", "10.9.9.9", &lr, &e);
	assert_int_equal(svc_login(f->s, "secadmin", "sec-password-1", "10.9.9.9", &lr, &e),
			 BM_EBUSY);
	assert_int_equal(svc_login(f->s, "secadmin", "sec-password-1", "10.9.9.8", &lr, &e), 0);
}

static void three_officer_separation_refuses_grants_with_reason(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT;
	struct actor sec;

	login_as(f, "secadmin", "sec-password-1", &sec);
	assert_int_equal(svc_role_grant(f->s, &sec, "auditor", "officer", NULL, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "three-officer"));
	assert_int_equal(svc_role_grant(f->s, &sec, "sysadmin", "secadmin", NULL, &e), BM_EINVAL);
	assert_int_equal(svc_role_grant(f->s, &sec, "secadmin", "officer", NULL, &e), BM_EPERM);
	assert_int_equal(svc_role_grant(f->s, &sec, "ghost", "officer", NULL, &e), BM_ENOTFOUND);
	assert_int_equal(svc_role_grant(f->s, &sec, "sysadmin", "wizard", NULL, &e), BM_EINVAL);
}

static void sysadmin_creates_accounts_but_cannot_grant_roles(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT;
	struct actor sys, sec, off;

	login_as(f, "sysadmin", "sys-password-1", &sys);
	login_as(f, "secadmin", "sec-password-1", &sec);
	assert_int_equal(svc_account_add(f->s, &sys, &(struct account_input){"olga",
				"olga-password", "officer", NULL, NULL}, &e), BM_EPERM);
	assert_int_equal(svc_account_add(f->s, &sys, &(struct account_input){"olga",
				"olga-password", NULL, NULL, NULL}, &e), 0);
	assert_int_equal(svc_account_add(f->s, &sys, &(struct account_input){"olga",
				"olga-password", NULL, NULL, NULL}, &e), BM_EEXIST);
	assert_int_equal(svc_account_add(f->s, &sys, &(struct account_input){"short",
				"short", NULL, NULL, NULL}, &e), BM_EINVAL);
	assert_int_equal(svc_role_grant(f->s, &sys, "olga", "officer", "A", &e), BM_EPERM);
	assert_int_equal(svc_role_grant(f->s, &sec, "olga", "officer", "A", &e), 0);
	login_as(f, "olga", "olga-password", &off);
	assert_int_equal(off.roles, ROLE_OFFICER);
	assert_true(off.scope_unit != 0);
	assert_null(svc_account_list(f->s, &sec, NULL, &e));
	assert_int_equal(e.code, BM_EPERM);
}

static void officer_outside_scope_sees_not_found(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT, e2 = BM_ERR_INIT;
	struct actor sys, sec, off;
	struct person_rec p;
	json_t *v;

	login_as(f, "sysadmin", "sys-password-1", &sys);
	login_as(f, "secadmin", "sec-password-1", &sec);
	assert_int_equal(svc_account_add(f->s, &sys, &(struct account_input){"olga",
				"olga-password", NULL, NULL, NULL}, &e), 0);
	assert_int_equal(svc_role_grant(f->s, &sec, "olga", "officer", "A", &e), 0);
	assert_int_equal(svc_person_add(f->s, &f->local, &(struct person_input){"EA", "In A", "A",
				NULL, NULL}, &p, &e), 0);
	assert_int_equal(svc_person_add(f->s, &f->local, &(struct person_input){"EB", "In B", "B",
				NULL, NULL}, &p, &e), 0);
	login_as(f, "olga", "olga-password", &off);
	v = svc_person_show(f->s, &off, "EA", false, &e);
	assert_non_null(v);
	json_decref(v);
	assert_null(svc_person_show(f->s, &off, "EB", false, &e));
	assert_null(svc_person_show(f->s, &off, "EZ", false, &e2));
	assert_int_equal(e.code, BM_ENOTFOUND);
	assert_int_equal(e2.code, BM_ENOTFOUND);
	assert_string_equal(e.msg + strlen("person EB"), e2.msg + strlen("person EZ"));
	assert_int_equal(svc_person_add(f->s, &off, &(struct person_input){"EC", "C", "B", NULL,
				NULL}, &p, &e), BM_EINVAL);
	assert_int_equal(svc_person_update(f->s, &off, "EB", &(struct person_patch){"X", NULL, 1},
					   &p, &e), BM_ENOTFOUND);
}

/* A search by national id is scoped like every read: an account that may
 * search (reviewer) but works in unit A finds nobody of unit B, exactly as
 * for a number nobody holds. */
static void person_find_keeps_to_the_scope(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT;
	struct actor sys, sec, off;
	struct person_rec p;
	json_t *v;

	login_as(f, "sysadmin", "sys-password-1", &sys);
	login_as(f, "secadmin", "sec-password-1", &sec);
	assert_int_equal(svc_account_add(f->s, &sys, &(struct account_input){"rita",
				"rita-password", NULL, NULL, NULL}, &e), 0);
	assert_int_equal(svc_role_grant(f->s, &sec, "rita", "officer", "A", &e), 0);
	assert_int_equal(svc_role_grant(f->s, &sec, "rita", "reviewer", "A", &e), 0);
	assert_int_equal(svc_person_add(f->s, &f->local, &(struct person_input){"FA", "In A", "A",
				"110101199003071234", NULL}, &p, &e), 0);
	assert_int_equal(svc_person_add(f->s, &f->local, &(struct person_input){"FB", "In B", "B",
				"11010119900307123X", NULL}, &p, &e), 0);
	login_as(f, "rita", "rita-password", &off);
	v = svc_person_find(f->s, &off, "110101199003071234", NULL, &e);
	assert_int_equal(json_array_size(v), 1);
	json_decref(v);
	v = svc_person_find(f->s, &off, "11010119900307123X", NULL, &e);
	assert_non_null(v);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
	v = svc_person_find(f->s, &sec, "11010119900307123X", NULL, &e);
	assert_int_equal(json_array_size(v), 1);
	json_decref(v);
}

static void sessions_expire_when_idle_or_old_and_end_on_logout(void **state)
{
	struct fx *f = *state;
	struct login_result lr;
	struct bm_err e = BM_ERR_INIT;
	struct actor a;

	assert_int_equal(svc_login(f->s, "secadmin", "sec-password-1", "1.2.3.4", &lr, &e), 0);
	clock_set(T0 + 29 * 60);
	assert_int_equal(svc_session_resolve(f->s, lr.token, &a, &e), 0);
	clock_set(T0 + 29 * 60 + 31 * 60);
	assert_int_equal(svc_session_resolve(f->s, lr.token, &a, &e), BM_EAUTH);
	/* Kept busy, it still ends after 12 hours. */
	clock_set(T0);
	assert_int_equal(svc_login(f->s, "secadmin", "sec-password-1", "1.2.3.4", &lr, &e), 0);
	for (int64_t t = T0; t < T0 + 12 * 3600; t += 20 * 60) {
		clock_set(t);
		assert_int_equal(svc_session_resolve(f->s, lr.token, &a, &e), 0);
	}
	clock_set(T0 + 12 * 3600);
	assert_int_equal(svc_session_resolve(f->s, lr.token, &a, &e), BM_EAUTH);
	clock_set(T0);
	login_as(f, "secadmin", "sec-password-1", &a);
	assert_int_equal(svc_logout(f->s, &a, &e), 0);
	assert_int_equal(svc_session_resolve(f->s, "00", &a, &e), BM_EAUTH);
	assert_int_equal(svc_session_resolve(f->s, NULL, &a, &e), BM_EAUTH);
}

/* A session row edited by hand to a time past the calendar (a last use at
 * INT64_MAX never idles; INT64_MIN overflowed the idle arithmetic) is a
 * damaged database naming the column, not a session that never ends. */
static void a_session_row_out_of_range_is_damage(void **state)
{
	static const char *const col[] = {"last_seen", "expires_abs", "created"};
	struct fx *f = *state;
	struct login_result lr;
	struct bm_err e = BM_ERR_INIT;
	struct svc_paths p = {f->db, NULL};
	struct actor a;
	char sql[128], field[32];

	for (size_t i = 0; i < sizeof col / sizeof col[0]; i++) {
		struct svc *fresh = NULL;
		sqlite3 *db = NULL;

		assert_int_equal(svc_login(f->s, "secadmin", "sec-password-1", "1.2.3.4", &lr, &e),
				 0);
		snprintf(sql, sizeof sql, "UPDATE sessions SET %s = %s", col[i],
			 i == 0 ? "9223372036854775807" : "-9223372036854775808");
		assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		/* a second server: nothing of this session cached */
		assert_int_equal(svc_open(&p, &fresh, &e), 0);
		assert_int_equal(svc_session_resolve(fresh, lr.token, &a, &e), BM_ESCHEMA);
		snprintf(field, sizeof field, "sessions.%s", col[i]);
		assert_string_equal(e.field, field);
		assert_non_null(strstr(e.msg, "damaged database: sessions row"));
		svc_close(fresh);
		assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "DELETE FROM sessions", NULL, NULL, NULL),
				 SQLITE_OK);
		sqlite3_close(db);
	}
}

static void logout_ends_only_that_session(void **state)
{
	struct fx *f = *state;
	struct login_result l1, l2;
	struct bm_err e = BM_ERR_INIT;
	struct actor a, b;

	assert_int_equal(svc_login(f->s, "secadmin", "sec-password-1", "1.1.1.1", &l1, &e), 0);
	assert_int_equal(svc_login(f->s, "secadmin", "sec-password-1", "1.1.1.1", &l2, &e), 0);
	assert_string_not_equal(l1.token, l2.token);
	assert_string_not_equal(l1.csrf, l1.token);
	assert_int_equal(svc_session_resolve(f->s, l1.token, &a, &e), 0);
	assert_int_equal(svc_logout(f->s, &a, &e), 0);
	assert_int_equal(svc_session_resolve(f->s, l1.token, &a, &e), BM_EAUTH);
	assert_int_equal(svc_session_resolve(f->s, l2.token, &b, &e), 0);
}

static void disabling_an_account_ends_its_sessions(void **state)
{
	struct fx *f = *state;
	struct login_result lr;
	struct bm_err e = BM_ERR_INIT;
	struct actor sys, a;

	login_as(f, "sysadmin", "sys-password-1", &sys);
	assert_int_equal(svc_login(f->s, "auditor", "aud-password-1", "1.1.1.2", &lr, &e), 0);
	assert_int_equal(svc_account_disable(f->s, &sys, "sysadmin", &e), BM_ESTATE);
	/* the auditor's account is disabled only on the console (role_check_takeover) */
	assert_int_equal(svc_account_disable(f->s, &sys, "auditor", &e), BM_EPERM);
	assert_string_equal(e.field, "name");
	assert_int_equal(svc_session_resolve(f->s, lr.token, &a, &e), 0);
	assert_int_equal(svc_account_disable(f->s, &f->local, "auditor", &e), 0);
	assert_int_equal(svc_session_resolve(f->s, lr.token, &a, &e), BM_EAUTH);
	assert_int_equal(svc_login(f->s, "auditor", "aud-password-1", "1.1.1.3", &lr, &e),
			 BM_EAUTH);
}

static void password_change_needs_the_old_one(void **state)
{
	struct fx *f = *state;
	struct login_result lr;
	struct bm_err e = BM_ERR_INIT;
	struct actor a;

	login_as(f, "secadmin", "sec-password-1", &a);
	assert_int_equal(svc_password_change(f->s, &a, "wrong-old-pw", "new-password-9", &e),
			 BM_EPERM);
	assert_int_equal(svc_password_change(f->s, &a, "sec-password-1", "short", &e), BM_EINVAL);
	assert_int_equal(svc_password_change(f->s, &a, "sec-password-1", "new-password-9", &e), 0);
	assert_int_equal(svc_login(f->s, "secadmin", "sec-password-1", "1.1.1.4", &lr, &e),
			 BM_EAUTH);
	assert_int_equal(svc_login(f->s, "secadmin", "new-password-9", "1.1.1.4", &lr, &e), 0);
	/* guessing the old one through a session backs off like a login */
	login_as(f, "secadmin", "new-password-9", &a);
	for (int i = 0; i < 4; i++)
		assert_int_equal(svc_password_change(f->s, &a, "wrong-old-pw", "new-password-8", &e),
				 BM_EPERM);
	assert_int_equal(svc_password_change(f->s, &a, "wrong-old-pw", "new-password-8", &e),
			 BM_EPERM);
	assert_int_equal(svc_password_change(f->s, &a, "new-password-9", "new-password-8", &e),
			 BM_EBUSY);
	assert_int_equal(svc_login(f->s, "secadmin", "new-password-9", "1.1.1.5", &lr, &e),
			 BM_EBUSY);
}

struct counter {
	int logins, failures, lockouts;
};

static int count_event(void *ctx, json_t *ev)
{
	struct counter *c = ctx;
	const char *act = json_string_value(json_object_get(ev, "action"));
	char *text = json_dumps(ev, 0);

	c->logins += strcmp(act, "login") == 0;
	c->failures += strcmp(act, "login.failure") == 0;
	c->lockouts += strcmp(act, "login.lockout") == 0;
	assert_null(strstr(text, "password-1")); /* never a password */
	free(text);
	return 0;
}

static void logins_failures_and_lockouts_are_audited(void **state)
{
	struct fx *f = *state;
	struct login_result lr;
	struct bm_err e = BM_ERR_INIT;
	struct counter c = {0};
	struct actor aud;

	for (int i = 0; i < 5; i++)
		svc_login(f->s, "sysadmin", "sec-password-1", "2.2.2.2", &lr, &e);
	login_as(f, "auditor", "aud-password-1", &aud);
	assert_int_equal(svc_audit_log(f->s, &aud, &(struct audit_query){0}, count_event, &c, &e),
			 0);
	assert_int_equal(c.logins, 1);
	assert_int_equal(c.failures, 5);
	assert_int_equal(c.lockouts, 1);
}

/* Makes account name with role (scope or person link optional), logged in. */
static void make_account(struct fx *f, const char *name, const char *role, const char *scope,
			 const char *person, struct actor *out)
{
	struct bm_err e = BM_ERR_INIT;
	struct actor sec;

	login_as(f, "secadmin", "sec-password-1", &sec);
	assert_int_equal(svc_account_add(f->s, &f->local, &(struct account_input){name,
				"long-password-1", NULL, NULL, person}, &e), 0);
	assert_int_equal(svc_role_grant(f->s, &sec, name, role, scope, &e), 0);
	login_as(f, name, "long-password-1", out);
}

/* Counts the codes in a list's items and checks one of them. */
static size_t count_codes(json_t *arr, const char *want)
{
	json_t *v;
	size_t i, found = 0;

	json_array_foreach(arr, i, v)
		if (want && strcmp(json_string_value(json_object_get(v, "code")), want) == 0)
			found++;
	assert_int_equal(found, want ? 1 : 0);
	return json_array_size(arr);
}

static void scoped_officer_sees_units_and_posts_of_its_subtree(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT, e2 = BM_ERR_INIT;
	struct post_rec po;
	struct actor off;
	json_t *v;

	assert_int_equal(svc_unit_add(f->s, &f->local, &(struct unit_input){"A1", "A1", "A"},
				      &(struct unit_rec){0}, &e), 0);
	assert_int_equal(svc_post_add(f->s, &f->local, &(struct post_input){"PA", "A1", "none",
				NULL, NULL}, &po, &e), 0);
	assert_int_equal(svc_post_add(f->s, &f->local, &(struct post_input){"PB", "B", "none",
				NULL, NULL}, &po, &e), 0);
	make_account(f, "olga", "officer", "A", NULL, &off);
	v = svc_unit_list(f->s, &off, NULL, &e);
	assert_int_equal(count_codes(v, "A1"), 2);        /* A and A1 */
	json_decref(v);
	v = svc_post_list(f->s, &off, NULL, NULL, &e);
	assert_int_equal(count_codes(v, "PA"), 1);
	json_decref(v);
	v = svc_unit_list(f->s, &f->local, NULL, &e);
	assert_int_equal(count_codes(v, "B"), 4);
	json_decref(v);
	assert_null(svc_unit_show(f->s, &off, "B", &e));
	assert_null(svc_unit_show(f->s, &off, "BZ", &e2));
	assert_int_equal(e.code, BM_ENOTFOUND);
	assert_string_equal(e.msg + strlen("unit B"), e2.msg + strlen("unit BZ"));
	assert_null(svc_post_show(f->s, &off, "PB", &e));
	assert_int_equal(e.code, BM_ENOTFOUND);
	assert_null(svc_post_list(f->s, &off, "B", NULL, &e));
	assert_int_equal(e.code, BM_ENOTFOUND);
	assert_null(svc_post_show(f->s, &off, "", &e));
	assert_int_equal(e.code, BM_ENOTFOUND);
	bm_err_clear(&e);
	bm_err_clear(&e2);
}

/* Walks a list one item a page (list: svc_unit_list or svc_post_list's
 * adapter below) and joins the codes; every page is full, and the last
 * says no more follow (pg.more), so no empty page is ever asked for. */
static void walk_pages(struct fx *f, const struct actor *a, bool posts, char *out, size_t cap)
{
	struct svc_page pg = {.limit = 1};
	struct bm_err e = BM_ERR_INIT;
	json_t *v;

	out[0] = '\0';
	for (int n = 0; n < 20; n++) {
		v = posts ? svc_post_list(f->s, a, NULL, &pg, &e) : svc_unit_list(f->s, a, &pg, &e);
		assert_non_null(v);
		assert_int_equal(json_array_size(v), 1);
		snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? "," : "",
			 json_string_value(json_object_get(json_array_get(v, 0), "code")));
		if (!posts && strcmp(out, "A") == 0)   /* the scope root's parent stays hidden */
			assert_true(json_is_null(json_object_get(json_array_get(v, 0), "parent")));
		json_decref(v);
		assert_true(pg.last_id > pg.after_id);
		assert_int_equal(pg.shown, 1);
		if (!pg.more)
			return;
		pg.after_id = pg.last_id;
	}
	fail_msg("the walk did not end");
}

/* Paged one at a time, with the tree's units and posts interleaved in id
 * order, an officer's pages are each full of their subtree and never show
 * (or count) a row outside it; the local console walks everything. */
static void scoped_officer_pages_units_and_posts_within_the_subtree(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT;
	struct post_rec po;
	struct actor off;
	char got[256];
	static const char *const units[][2] = {{"A1", "A"}, {"B1", "B"}, {"A2", "A1"},
					       {"B2", "B1"}};
	static const char *const posts[][2] = {{"PB", "B"}, {"PA2", "A2"}, {"PB1", "B1"},
					       {"PA", "A"}};

	for (size_t i = 0; i < 4; i++)
		assert_int_equal(svc_unit_add(f->s, &f->local, &(struct unit_input){units[i][0],
					      units[i][0], units[i][1]}, &(struct unit_rec){0}, &e), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(svc_post_add(f->s, &f->local, &(struct post_input){posts[i][0],
					      posts[i][1], "none", NULL, NULL}, &po, &e), 0);
	make_account(f, "olga", "officer", "A", NULL, &off);
	walk_pages(f, &off, false, got, sizeof got);
	assert_string_equal(got, "A,A1,A2");
	walk_pages(f, &off, true, got, sizeof got);
	assert_string_equal(got, "PA2,PA");
	walk_pages(f, &f->local, false, got, sizeof got);
	assert_string_equal(got, "HQ,A,B,A1,B1,A2,B2");
	walk_pages(f, &f->local, true, got, sizeof got);
	assert_string_equal(got, "PB,PA2,PB1,PA");
}

/* A page reads one row past itself: more is set exactly when rows follow
 * (never for a page that ends the list, however full), the row past is
 * neither shown nor the page's last, and the console's largest --limit
 * (INT64_MAX) is the whole list rather than a limit + 1 that wraps. */
static void a_page_says_more_only_when_rows_follow(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT;
	const int64_t limits[] = {2, 3, 4, INT64_MAX};
	const bool more[] = {true, false, false, false};
	json_t *v;

	for (size_t i = 0; i < 4; i++) {   /* HQ, A, B: three units */
		struct svc_page pg = {.limit = limits[i]};

		assert_non_null(v = svc_unit_list(f->s, &f->local, &pg, &e));
		assert_int_equal(json_array_size(v), limits[i] == 2 ? 2 : 3);
		assert_int_equal(pg.shown, (int64_t)json_array_size(v));
		assert_int_equal(pg.more, more[i]);
		assert_string_equal(json_string_value(json_object_get(
			json_array_get(v, json_array_size(v) - 1), "code")), limits[i] == 2 ? "A" : "B");
		if (pg.more) {     /* the next page starts at the row read past */
			json_decref(v);
			pg.after_id = pg.last_id;
			assert_non_null(v = svc_unit_list(f->s, &f->local, &pg, &e));
			assert_int_equal(json_array_size(v), 1);
			assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0),
									      "code")), "B");
			assert_false(pg.more);
		}
		json_decref(v);
	}
}

/* Imports text as kind; returns the code, e keeps the report. */
static int import_text(struct fx *f, const struct actor *a, int kind, const char *text,
		       struct bm_err *e)
{
	struct import_result res;
	FILE *fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	int rc;

	assert_non_null(fp);
	bm_err_clear(e);
	rc = svc_import(f->s, a, kind, fp, NULL, NULL, &res, e);
	fclose(fp);
	return rc;
}

static void scoped_import_refuses_rows_outside_and_export_holds_the_subtree(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT;
	struct actor off;
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	make_account(f, "olga", "officer", "A", NULL, &off);
	assert_int_equal(import_text(f, &off, IMPORT_PERSONS,
				     "id,name,unit\nE1,ok,A\nE2,no,B\nE3,no,HQ\n", &e), BM_EINVAL);
	assert_int_equal(e.total, 2);
	assert_int_equal(e.items[0].line, 3);
	assert_string_equal(e.items[0].field, "unit");
	assert_int_equal(e.items[1].line, 4);
	assert_int_equal(import_text(f, &off, IMPORT_UNITS, "code,name,parent\nA9,x,A\nR,x,\n", &e),
			 BM_EINVAL);
	assert_int_equal(e.total, 1);
	assert_string_equal(e.items[0].field, "parent");
	assert_null(svc_unit_show(f->s, &f->local, "A9", &e));  /* all or nothing */
	assert_int_equal(import_text(f, &off, IMPORT_PERSONS, "id,name,unit\nE1,ok,A\n", &e), 0);
	assert_int_equal(import_text(f, &f->local, IMPORT_PERSONS, "id,name,unit\nE2,b,B\n", &e), 0);
	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(svc_export(f->s, &off, IMPORT_PERSONS, fp, &e), 0);
	fclose(fp);
	assert_non_null(strstr(out, "E1,ok,A"));
	assert_null(strstr(out, "E2"));
	free(out);
	bm_err_clear(&e);
}

static void self_service_follows_the_link_not_the_name(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT;
	struct actor me, namesake;
	struct person_rec p;
	json_t *v;

	assert_int_equal(svc_person_add(f->s, &f->local, &(struct person_input){"E7", "Seven", "A",
				"110105199001017777", NULL}, &p, &e), 0);
	assert_int_equal(svc_person_add(f->s, &f->local, &(struct person_input){"E8", "Eight", "A",
				NULL, NULL}, &p, &e), 0);
	make_account(f, "seven", "person", NULL, "E7", &me);
	make_account(f, "E8", "person", NULL, NULL, &namesake);
	v = svc_me(f->s, &me, &e);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "person"), "id")),
			    "E7");
	assert_null(strstr(json_string_value(json_object_get(json_object_get(v, "person"),
							      "national_id")), "1990"));
	json_decref(v);
	v = svc_me(f->s, &namesake, &e);
	assert_true(json_is_null(json_object_get(v, "person")));
	json_decref(v);
	assert_null(svc_me_clearance(f->s, &namesake, T0, &e));
	assert_int_equal(e.code, BM_ENOTFOUND);
	assert_null(svc_clearance(f->s, &namesake, "E8", T0, &e));
	assert_int_equal(e.code, BM_EPERM);
	assert_null(svc_matter_file(f->s, &namesake, "E8", "leak", NULL, &e));
	assert_int_equal(e.code, BM_EPERM);
	assert_null(svc_matter_file(f->s, &me, "E8", "leak", NULL, &e));
	assert_int_equal(e.code, BM_EPERM);
	v = svc_me_clearance(f->s, &me, T0, &e);
	assert_string_equal(json_string_value(json_object_get(v, "person")), "E7");
	json_decref(v);
	v = svc_me_matters(f->s, &me, NULL, &e);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
	bm_err_clear(&e);
}

static void password_reset_is_for_others_only(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT;
	struct login_result lr;
	struct actor sys, sec;

	login_as(f, "sysadmin", "sys-password-1", &sys);
	login_as(f, "secadmin", "sec-password-1", &sec);
	assert_int_equal(svc_account_passwd(f->s, &sys, "sysadmin", "new-password-1", &e),
			 BM_EPERM);
	assert_int_equal(svc_account_passwd(f->s, &sec, "auditor", "new-password-1", &e),
			 BM_EPERM);
	assert_int_equal(svc_account_passwd(f->s, &sys, "ghost", "new-password-1", &e),
			 BM_ENOTFOUND);
	assert_int_equal(svc_account_passwd(f->s, &sys, "auditor", "short", &e), BM_EINVAL);
	/* three-officer separation: the sysadmin cannot take over the auditor
	 * or the secadmin by setting their passwords; nothing changes */
	assert_int_equal(svc_account_passwd(f->s, &sys, "auditor", "new-password-1", &e),
			 BM_EPERM);
	assert_string_equal(e.field, "name");
	assert_non_null(strstr(e.msg, "three-officer"));
	bm_err_clear(&e);
	assert_int_equal(svc_account_passwd(f->s, &sys, "secadmin", "new-password-1", &e),
			 BM_EPERM);
	assert_int_equal(svc_login(f->s, "auditor", "aud-password-1", "10.0.0.2", &lr, &e), 0);
	/* the local CLI (the server's console) has no account of its own: it may reset any */
	assert_int_equal(svc_account_passwd(f->s, &f->local, "auditor", "new-password-1", &e), 0);
	assert_int_equal(svc_login(f->s, "auditor", "aud-password-1", "10.0.0.2", &lr, &e),
			 BM_EAUTH);
	assert_int_equal(svc_login(f->s, "auditor", "new-password-1", "10.0.0.2", &lr, &e), 0);
	assert_int_equal(svc_account_passwd(f->s, &f->local, "sysadmin", "new-password-2", &e), 0);
	bm_err_clear(&e);
}

/* A temporary password is known to whoever set it: "changing" it to itself
 * would clear the flag while the administrator still holds the password,
 * so the new one must differ; until then the session still may do nothing. */
static void a_temporary_password_is_not_changed_to_itself(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT;
	struct login_result lr;
	struct actor sys, sec, x;

	login_as(f, "sysadmin", "sys-password-1", &sys);
	login_as(f, "secadmin", "sec-password-1", &sec);
	assert_int_equal(svc_account_add(f->s, &sys, &(struct account_input){"xavier",
				"temp-password-1", NULL, NULL, NULL}, &e), 0);
	assert_int_equal(svc_role_grant(f->s, &sec, "xavier", "reviewer", NULL, &e), 0);
	assert_int_equal(svc_login(f->s, "xavier", "temp-password-1", "10.0.0.3", &lr, &e), 0);
	assert_true(lr.must_change);
	assert_int_equal(svc_session_resolve(f->s, lr.token, &x, &e), 0);
	assert_int_equal(svc_password_change(f->s, &x, "temp-password-1", "temp-password-1", &e),
			 BM_EINVAL);
	assert_string_equal(e.field, "new_password");
	bm_err_clear(&e);
	assert_int_equal(svc_login(f->s, "xavier", "temp-password-1", "10.0.0.3", &lr, &e), 0);
	assert_true(lr.must_change);
	assert_int_equal(svc_session_resolve(f->s, lr.token, &x, &e), 0);
	assert_int_equal(svc_actor_allow(&x, PERM_REVIEW_READ, &e), BM_EPERM);
	bm_err_clear(&e);
}

/* No account is named like the server's own acts ("system", in any case):
 * its reviews and audit events would read like the automatic re-reviews,
 * and it would count as their opener. */
static void no_account_takes_the_servers_name(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT;
	struct actor sys;
	const char *names[] = {"system", "System", "SYSTEM"};

	login_as(f, "sysadmin", "sys-password-1", &sys);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_int_equal(svc_account_add(f->s, &sys, &(struct account_input){names[i],
					"system-password", NULL, NULL, NULL}, &e), BM_EINVAL);
		assert_string_equal(e.field, "name");
		assert_int_equal(svc_account_add(f->s, &f->local, &(struct account_input){
					names[i], NULL, "reviewer", NULL, "E1"}, &e), BM_EINVAL);
	}
	assert_null(svc_account_show(f->s, &f->local, "system", &e));
	assert_int_equal(svc_account_add(f->s, &sys, &(struct account_input){"systems",
				"system-password", NULL, NULL, NULL}, &e), 0);
	bm_err_clear(&e);
}

/* A database from a release before that rule can hold an account so
 * named (made here as "systemx" and renamed in the file, as the old release
 * wrote it): it logs in no more, a session it holds ends, and the
 * administrator still sees it and can disable it. */
static void an_old_account_named_like_the_server_acts_no_more(void **state)
{
	struct fx *f = *state;
	struct bm_err e = BM_ERR_INIT;
	struct svc_paths p = {f->db, NULL};
	struct login_result lr;
	struct actor a;
	char cmd[256];
	json_t *j;

	assert_int_equal(svc_account_add(f->s, &f->local, &(struct account_input){"systemx",
				"system-password", "officer", NULL, NULL}, &e), 0);
	assert_int_equal(svc_login(f->s, "systemx", "system-password", "10.0.0.5", &lr, &e), 0);
	svc_close(f->s);
	snprintf(cmd, sizeof cmd, "sqlite3 %s \"UPDATE accounts SET name = 'System' "
		 "WHERE name = 'systemx'\"", f->db);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(svc_open(&p, &f->s, &e), 0);

	assert_int_equal(svc_session_resolve(f->s, lr.token, &a, &e), BM_EAUTH);
	assert_non_null(strstr(e.msg, "named like the server"));
	bm_err_clear(&e);
	assert_int_equal(svc_login(f->s, "System", "system-password", "10.0.0.6", &lr, &e),
			 BM_EAUTH);
	bm_err_clear(&e);
	j = svc_account_show(f->s, &f->local, "System", &e);
	assert_non_null(j);
	json_decref(j);
	assert_int_equal(svc_account_disable(f->s, &f->local, "System", &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(officers_can_log_in_with_their_roles, setup,
						teardown),
		cmocka_unit_test_setup_teardown(wrong_password_and_unknown_name_answer_alike, setup,
						teardown),
		cmocka_unit_test_setup_teardown(five_failures_lock_the_account_then_backoff_expires,
						setup, teardown),
		cmocka_unit_test_setup_teardown(five_failures_from_one_address_block_that_address,
						setup, teardown),
		cmocka_unit_test_setup_teardown(three_officer_separation_refuses_grants_with_reason,
						setup, teardown),
		cmocka_unit_test_setup_teardown(sysadmin_creates_accounts_but_cannot_grant_roles,
						setup, teardown),
		cmocka_unit_test_setup_teardown(scoped_officer_pages_units_and_posts_within_the_subtree,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_page_says_more_only_when_rows_follow, setup,
						teardown),
		cmocka_unit_test_setup_teardown(scoped_officer_sees_units_and_posts_of_its_subtree,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			scoped_import_refuses_rows_outside_and_export_holds_the_subtree, setup,
			teardown),
		cmocka_unit_test_setup_teardown(self_service_follows_the_link_not_the_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(password_reset_is_for_others_only, setup, teardown),
		cmocka_unit_test_setup_teardown(officer_outside_scope_sees_not_found, setup,
						teardown),
		cmocka_unit_test_setup_teardown(person_find_keeps_to_the_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(sessions_expire_when_idle_or_old_and_end_on_logout,
						setup, teardown),
		cmocka_unit_test_setup_teardown(logout_ends_only_that_session, setup, teardown),
		cmocka_unit_test_setup_teardown(a_session_row_out_of_range_is_damage, setup,
						teardown),
		cmocka_unit_test_setup_teardown(disabling_an_account_ends_its_sessions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(password_change_needs_the_old_one, setup, teardown),
		cmocka_unit_test_setup_teardown(a_temporary_password_is_not_changed_to_itself, setup,
						teardown),
		cmocka_unit_test_setup_teardown(no_account_takes_the_servers_name, setup, teardown),
		cmocka_unit_test_setup_teardown(an_old_account_named_like_the_server_acts_no_more,
						setup, teardown),
		cmocka_unit_test_setup_teardown(logins_failures_and_lockouts_are_audited, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
