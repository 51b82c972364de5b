/*
 * main.c - `baomi <noun> <verb>`: global options, dispatch and help.
 *
 * Global options (--db, --key, --json, --as, --help) may appear anywhere on the
 * line; --db, --key and --as at most once.  The database is BAOMI_DB or ./baomi.db when --db is not given; the
 * key file is BAOMI_KEY, --key, or the database path plus ".key".  Errors are
 * printed once here and mapped to the documented exit codes by bm_exit_code.
 */
#include "cli.h"
#include "../lib/clock.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BAOMI_VERSION "0.1.0"


static const struct verb init_verbs[] = {
	{"", "[--profile cn|us] [--passwords FILE]",
	 "create the database, its key file and the three officers' accounts", cmd_init}, {0}};
static const struct verb demo_verbs[] = {
	{"", "[--persons N] [--seed S]", "fill the database with a demo organisation", cmd_demo},
	{0}};

const struct noun cli_nouns[] = {
	{"init", "create a new database and key file", init_verbs},
	{"unit", "organisation units (a tree)", cmd_unit_verbs},
	{"post", "secret-related posts", cmd_post_verbs},
	{"person", "secret-related persons", cmd_person_verbs},
	{"appointment", "persons holding posts", cmd_appt_verbs},
	{"import", "all-or-nothing CSV import", cmd_import_verbs},
	{"export", "CSV export", cmd_export_verbs},
	{"policy", "the rules' numbers, versioned", cmd_policy_verbs},
	{"audit", "the hash-chained audit trail", cmd_audit_verbs},
	{"review", "appointment reviews (vetting)", cmd_review_verbs},
	{"matter", "reportable matters and violations", cmd_matter_verbs},
	{"suspend", "suspend a clearance", cmd_suspend_verbs},
	{"reinstate", "lift suspensions", cmd_reinstate_verbs},
	{"activate", "take up the post (onboarding -> active)", cmd_activate_verbs},
	{"status", "clearance status of a person", cmd_status_verbs},
	{"decide", "access decision from the snapshot", cmd_decide_verbs},
	{"due", "re-reviews and gates coming due", cmd_due_verbs},
	{"report", "aggregate reports", cmd_report_verbs},
	{"demo", "build a demo organisation", demo_verbs},
	{"account", "login accounts", cmd_account_verbs},
	{"role", "roles of accounts (three-officer separation)", cmd_role_verbs},
	{"serve", "run the HTTP API server", cmd_serve_verbs},
	{0},
};

static void usage_all(FILE *fp)
{
	fprintf(fp, "usage: baomi [--db PATH] [--key PATH] [--json] [--as NAME] <noun> <verb> "
		    "[args]\n\n");
	for (const struct noun *n = cli_nouns; n->name; n++)
		fprintf(fp, "  %-12s %s\n", n->name, n->summary);
	fprintf(fp, "\n'baomi <noun> --help' lists a noun's verbs; 'man baomi' has the rest.\n"
		    "exit codes: 0 ok (decide: allow), 1 failure, 2 usage, 3 decide: deny, 65 bad data,\n"
		    "66 missing input, 74 I/O\n");
}

static void usage_noun(const struct noun *n, FILE *fp)
{
	fprintf(fp, "baomi %s: %s\n\n", n->name, n->summary);
	for (const struct verb *v = n->verbs; v->name; v++)
		fprintf(fp, "  baomi %s%s%s%s%s\n      %s\n", n->name, v->name[0] ? " " : "",
			v->name, v->usage[0] ? " " : "", v->usage, v->summary);
}

static const struct noun *find_noun(const char *name)
{
	for (const struct noun *n = cli_nouns; n->name; n++)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static const struct verb *find_verb(const struct noun *n, const char *name)
{
	for (const struct verb *v = n->verbs; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* Records that global option name (bit of seen) was given; a second one
 * is refused: `--db a ... --db b` settled by the last would act on a
 * database the caller may not have meant. */
static int global_once(unsigned *seen, unsigned bit, const char *name, struct bm_err *e)
{
	if (*seen & bit)
		return bm_errf(e, BM_EUSAGE, name, "--%s given twice", name);
	*seen |= bit;
	return 0;
}

/* Takes --db/--key (with "=" or a separate value) at argv[*i]. */
static int take_path(struct cli *c, int argc, char **argv, int *i, unsigned *seen,
		     struct bm_err *e)
{
	const char *a = argv[*i], *eq = strchr(a, '=');
	bool db = a[2] == 'd';

	if (global_once(seen, db ? 1u : 2u, db ? "db" : "key", e))
		return e->code;
	if (eq == NULL && *i + 1 >= argc)
		return bm_errf(e, BM_EUSAGE, a + 2, "%s needs a value", a);
	*(db ? &c->paths.db : &c->paths.keyfile) = eq ? eq + 1 : argv[++*i];
	return 0;
}

/* Removes global options from argv; returns the remaining count. */
static int take_globals(struct cli *c, int argc, char **argv, bool *help, struct bm_err *e)
{
	int out = 0;
	unsigned seen = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help = true;
		} else if (strcmp(a, "--as") == 0) {
			if (global_once(&seen, 4u, "as", e))
				return e->code;
			if (i + 1 >= argc)
				return bm_errf(e, BM_EUSAGE, "as", "--as needs a name");
			if (svc_actor_name_check("--as", argv[i + 1], e))
				return e->code;
			snprintf(c->actor.via, sizeof c->actor.via, "%s", c->actor.name);
			snprintf(c->actor.name, sizeof c->actor.name, "%s", argv[++i]);
		} else if (strcmp(a, "--db") == 0 || strcmp(a, "--key") == 0 ||
			   strncmp(a, "--db=", 5) == 0 || strncmp(a, "--key=", 6) == 0) {
			if (take_path(c, argc, argv, &i, &seen, e))
				return e->code;
		} else {
			argv[out++] = argv[i];
		}
	}
	return out;
}

static void local_actor(struct actor *a)
{
	struct passwd *pw = getpwuid(getuid());
	struct bm_err e = BM_ERR_INIT;

	memset(a, 0, sizeof *a);
	snprintf(a->name, sizeof a->name, "cli:%.58s", pw ? pw->pw_name : "unknown");
	/* a login name that is no text, or was cut inside a character */
	if (svc_actor_name_check("user", a->name, &e) != 0)
		snprintf(a->name, sizeof a->name, "cli:uid%lu", (unsigned long)getuid());
	bm_err_clear(&e);
	a->roles = ACTOR_LOCAL;
}

int cli_open(struct cli *c, struct bm_err *e)
{
	if (c->svc != NULL)
		return 0;
	return svc_open(&c->paths, &c->svc, e);
}

static int dispatch(struct cli *c, int argc, char **argv, bool help, struct bm_err *e)
{
	const struct noun *n;
	const struct verb *v;
	static char cmd[64];

	if (argc == 0 || strcmp(argv[0], "help") == 0) {
		if (argc > 1 && (n = find_noun(argv[1])) == NULL)
			return bm_errf(e, BM_EUSAGE, NULL, "unknown command \"%.32s\" (see baomi help)",
				       argv[1]);
		if (argc > 1)
			usage_noun(n, stdout);
		else
			usage_all(stdout);
		return argc == 0 && !help ? BM_EUSAGE : 0;
	}
	if (strcmp(argv[0], "version") == 0 || strcmp(argv[0], "--version") == 0) {
		printf("baomi %s\n", BAOMI_VERSION);
		return 0;
	}
	if ((n = find_noun(argv[0])) == NULL)
		return bm_errf(e, BM_EUSAGE, NULL, "unknown command \"%.32s\" (see baomi help)", argv[0]);
	v = n->verbs[0].name[0] == '\0' ? &n->verbs[0] : argc > 1 ? find_verb(n, argv[1]) : NULL;
	if (help || v == NULL) {
		usage_noun(n, help ? stdout : stderr);
		if (help)
			return 0;
		return bm_errf(e, BM_EUSAGE, NULL, argc > 1 ? "unknown verb \"%.32s\" for %s"
						       : "%s needs a verb", argc > 1 ? argv[1] : n->name,
			       n->name);
	}
	snprintf(cmd, sizeof cmd, "%s%s%s", n->name, v->name[0] ? " " : "", v->name);
	c->cmd = cmd;
	c->usage = v->usage;
	c->argc = argc - (v->name[0] ? 2 : 1);
	c->argv = argv + (v->name[0] ? 2 : 1);
	return v->fn(c, e);
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	struct bm_err e = BM_ERR_INIT;
	bool help = false;
	int rc, n;

	c.paths.db = getenv("BAOMI_DB") ? getenv("BAOMI_DB") : "baomi.db";
	c.paths.keyfile = getenv("BAOMI_KEY");
	local_actor(&c.actor);
	n = take_globals(&c, argc - 1, argv + 1, &help, &e);
	rc = n < 0 ? n : clock_from_env(&e);
	if (rc == 0)
		rc = dispatch(&c, n, argv + 1, help, &e);
	if (rc != 0 && !(rc == BM_EUSAGE && e.msg[0] == '\0'))
		out_error(&e);
	svc_close(c.svc);
	bm_err_clear(&e);
	if (fflush(stdout) != 0 && rc == 0)
		return 74;
	return rc == 0 ? c.status : bm_exit_code(rc);
}
