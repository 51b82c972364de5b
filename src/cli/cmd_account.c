/*
 * cmd_account.c - `baomi account add|list|disable|passwd` and
 * `baomi role grant|revoke`.
 *
 * Passwords come from a file (first line) or, when none is given, are made
 * up here and printed once; they are never taken from the command line,
 * where every user of the machine could read them in the process list.
 */
#include "cli.h"
#include "../lib/buf.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Reads the first line of path ("-" = stdin) into out. */
static int read_password(const char *path, char out[SVC_PASSWORD_MAX], struct bm_err *e)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t n;

	if (fp == NULL)
		return bm_errf(e, BM_ENOINPUT, "password-file", "cannot open %s", path);
	if (fgets(out, SVC_PASSWORD_MAX, fp) == NULL)
		out[0] = '\0';
	if (fp != stdin)
		fclose(fp);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	if (n == 0)
		return bm_errf(e, BM_EINVAL, "password-file", "%s holds no password", path);
	return 0;
}

/* The password to set: from the file, or a fresh one (*made set). */
static int get_password(const char *file, char out[SVC_PASSWORD_MAX], bool *made,
			struct bm_err *e)
{
	*made = file == NULL;
	if (file != NULL)
		return read_password(file, out, e);
	svc_password_random(out);
	return 0;
}

static void show_password(struct cli *c, const char *name, const char *pw)
{
	if (c->json)
		out_json(json_pack("{s:s, s:s}", "name", name, "password", pw));
	else
		printf("%s password: %s\n(shown once; store it safely)\n", name, pw);
}

static int account_add(struct cli *c, struct bm_err *e)
{
	const char *name = NULL, *roles = NULL, *scope = NULL, *file = NULL, *person = NULL;
	const struct opt o[] = {{"roles", &roles, NULL}, {"scope", &scope, NULL},
				{"password-file", &file, NULL}, {"person", &person, NULL}, {0}};
	char pw[SVC_PASSWORD_MAX];
	bool made;
	int rc;

	if ((rc = args_parse(c, o, &name, 1, 1, e)) || (rc = get_password(file, pw, &made, e)) ||
	    (rc = cli_open(c, e)))
		goto out;
	rc = svc_account_add(c->svc, &c->actor, &(struct account_input){name, pw, roles, scope,
									 person}, e);
	if (rc == 0 && made)
		show_password(c, name, pw);
	else if (rc == 0 && !c->json)
		printf("added account %s\n", name);
out:
	sodium_memzero(pw, sizeof pw);
	return rc;
}

static int account_list(struct cli *c, struct bm_err *e)
{
	static const char *const keys[] = {"name", "roles", "scope_unit", "disabled",
					   "locked_until"};
	static const char *const heads[] = {"NAME", "ROLES", "SCOPE", "DISABLED", "LOCKED UNTIL"};
	const char *limit = NULL;
	const struct opt o[] = {{"limit", &limit, NULL}, {0}};
	struct svc_page pg = {0};
	json_t *v, *row;
	size_t i;
	int rc;

	if ((rc = args_parse(c, o, NULL, 0, 0, e)) ||
	    (limit && (rc = args_limit(limit, &pg.limit, e))) || (rc = cli_open(c, e)))
		return rc;
	if ((v = svc_account_list(c->svc, &c->actor, &pg, e)) == NULL)
		return e->code;
	if (c->json) {
		out_json(v);
		return 0;
	}
	json_array_foreach(v, i, row) {
		struct buf b = BUF_INIT;
		json_t *r;
		size_t j;

		json_array_foreach(json_object_get(row, "roles"), j, r)
			buf_printf(&b, "%s%s", j ? "," : "", json_string_value(r));
		json_object_set_new(row, "roles", json_string(buf_cstr(&b)));
		buf_free(&b);
	}
	out_table(v, keys, heads, 5);
	json_decref(v);
	out_cut(c, pg.more, limit, "accounts");
	return 0;
}

static int account_disable(struct cli *c, struct bm_err *e)
{
	const char *name = NULL;
	int rc;

	if ((rc = args_parse(c, NULL, &name, 1, 1, e)) || (rc = cli_open(c, e)) ||
	    (rc = svc_account_disable(c->svc, &c->actor, name, e)))
		return rc;
	if (!c->json)
		printf("disabled account %s and ended its sessions\n", name);
	return 0;
}

static int account_passwd(struct cli *c, struct bm_err *e)
{
	const char *name = NULL, *file = NULL;
	const struct opt o[] = {{"password-file", &file, NULL}, {0}};
	char pw[SVC_PASSWORD_MAX];
	bool made;
	int rc;

	if ((rc = args_parse(c, o, &name, 1, 1, e)) || (rc = get_password(file, pw, &made, e)) ||
	    (rc = cli_open(c, e)) || (rc = svc_account_passwd(c->svc, &c->actor, name, pw, e)))
		goto out;
	if (made)
		show_password(c, name, pw);
	else if (!c->json)
		printf("password of %s changed; its sessions ended\n", name);
out:
	sodium_memzero(pw, sizeof pw);
	return rc;
}

static int role_grant(struct cli *c, struct bm_err *e)
{
	const char *pos[2] = {0}, *scope = NULL;
	const struct opt o[] = {{"scope", &scope, NULL}, {0}};
	int rc;

	if ((rc = args_parse(c, o, pos, 2, 2, e)) || (rc = cli_open(c, e)) ||
	    (rc = svc_role_grant(c->svc, &c->actor, pos[0], pos[1], scope, e)))
		return rc;
	if (!c->json)
		printf("granted %s to %s%s%s\n", pos[1], pos[0], scope ? " scoped to " : "",
		       scope ? scope : "");
	return 0;
}

static int role_revoke(struct cli *c, struct bm_err *e)
{
	const char *pos[2] = {0};
	int rc;

	if ((rc = args_parse(c, NULL, pos, 2, 2, e)) || (rc = cli_open(c, e)) ||
	    (rc = svc_role_revoke(c->svc, &c->actor, pos[0], pos[1], e)))
		return rc;
	if (!c->json)
		printf("revoked %s from %s\n", pos[1], pos[0]);
	return 0;
}

const struct verb cmd_account_verbs[] = {
	{"add", "NAME [--roles R1,R2] [--scope UNIT] [--person ID] [--password-file F]",
	 "create a login account (password from F, or made up and shown once)", account_add},
	{"list", "[--limit N]", "list accounts", account_list},
	{"disable", "NAME", "disable an account and end its sessions", account_disable},
	{"passwd", "NAME [--password-file F]", "set an account's password", account_passwd},
	{0}};

const struct verb cmd_role_verbs[] = {
	{"grant", "NAME ROLE [--scope UNIT]",
	 "grant a role (three-officer separation is enforced)", role_grant},
	{"revoke", "NAME ROLE", "revoke a role", role_revoke},
	{0}};
