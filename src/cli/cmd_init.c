/*
 * cmd_init.c - `baomi init` and `baomi demo`.
 */
#include "cli.h"
#include "../core/level.h"
#include "../core/lifecycle.h"
#include "../lib/crypto.h"

#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const officers[3] = {"sysadmin", "secadmin", "auditor"};

/* Reads "name:password" lines for the three officers; missing names get
 * random passwords.  Unknown names are refused so a typo is not silent. */
static int read_passwords(const char *path, struct svc_officers *pw, bool given[3],
			  struct bm_err *e)
{
	FILE *fp = fopen(path, "r");
	char line[256];
	long n = 0;
	int rc = 0;

	if (fp == NULL)
		return bm_errf(e, BM_ENOINPUT, "passwords", "cannot open %s", path);
	while (rc == 0 && fgets(line, sizeof line, fp) != NULL) {
		char *colon = strchr(line, ':');
		int i;

		n++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		for (i = 0; colon && i < 3; i++)
			if ((size_t)(colon - line) == strlen(officers[i]) &&
			    strncmp(line, officers[i], strlen(officers[i])) == 0)
				break;
		if (colon == NULL || i == 3 || strlen(colon + 1) >= SVC_PASSWORD_MAX)
			rc = bm_errlf(e, BM_EINVAL, n, "passwords",
				      "%s line %ld: expected sysadmin|secadmin|auditor:PASSWORD", path, n);
		else
			given[i] = snprintf(pw->password[i], SVC_PASSWORD_MAX, "%s", colon + 1) > 0;
	}
	sodium_memzero(line, sizeof line);
	fclose(fp);
	return rc;
}

/* Prints what init made.  A password read from the file is the caller's
 * own: it is never echoed (a terminal or a log would keep it), only the
 * random ones, which exist nowhere else. */
static void print_officers(struct cli *c, const struct svc_officers *pw, const bool given[3],
			   const char *profile)
{
	const char *shown[3];

	for (int i = 0; i < 3; i++)
		shown[i] = given[i] ? NULL : pw->password[i];
	if (c->json) {
		out_json(json_pack("{s:s, s:s?, s:s, s:{s:s?, s:s?, s:s?}}", "db", c->paths.db, "key",
				   c->paths.keyfile, "profile", profile, "accounts", officers[0],
				   shown[0], officers[1], shown[1], officers[2], shown[2]));
		return;
	}
	printf("created database %s and key file %s%s (profile %s)\n"
	       "keep the key file secret and backed up: without it the sensitive fields "
	       "cannot be read\n\naccounts (passwords shown once):\n", c->paths.db,
	       c->paths.keyfile ? c->paths.keyfile : c->paths.db, c->paths.keyfile ? "" : ".key",
	       profile);
	for (int i = 0; i < 3; i++)
		printf("  %-9s %s\n", officers[i], shown[i] ? shown[i] : "(from the passwords file)");
}

int cmd_init(struct cli *c, struct bm_err *e)
{
	const char *profile = "cn", *pwfile = NULL;
	const struct opt o[] = {{"profile", &profile, NULL}, {"passwords", &pwfile, NULL}, {0}};
	struct svc_officers *pw;
	bool given[3] = {false, false, false};
	int rc;

	if ((rc = crypto_init(e)))
		return rc;
	pw = sodium_malloc(sizeof *pw);
	if (pw == NULL)
		return bm_errf(e, BM_EINTERNAL, NULL, "out of secure memory");
	memset(pw, 0, sizeof *pw);
	if ((rc = args_parse(c, o, NULL, 0, 0, e)) ||
	    (pwfile && (rc = read_passwords(pwfile, pw, given, e))) ||
	    (rc = svc_init_officers(&c->paths, profile, &c->actor, pw, e)))
		goto out;
	print_officers(c, pw, given, profile);
out:
	sodium_free(pw);
	return rc;
}

static void print_summary(const struct demo_summary *s)
{
	static const int cats[] = {3, 2, 1, 0};

	printf("demo organisation: %lld units, %lld posts, %lld persons, %lld appointments\n\n",
	       (long long)s->units, (long long)s->posts, (long long)s->persons,
	       (long long)s->appointments);
	printf("%-10s", "category");
	for (int st = 0; st < ST__COUNT; st++)
		printf(" %15s", state_name(st));
	printf(" %7s\n", "total");
	for (int i = 0; i < 4; i++) {
		int64_t total = 0;

		printf("%-10s", category_name(cats[i]));
		for (int st = 0; st < ST__COUNT; st++) {
			printf(" %15lld", (long long)s->by_level_state[cats[i]][st]);
			total += s->by_level_state[cats[i]][st];
		}
		printf(" %7lld\n", (long long)total);
	}
}

/* {"core": {"active": 120, ...}, ...} without the empty cells. */
static json_t *summary_json(const struct demo_summary *s)
{
	json_t *t = json_object();

	for (int l = 0; l < 4; l++) {
		json_t *row = json_object();

		for (int st = 0; st < ST__COUNT; st++)
			if (s->by_level_state[l][st])
				json_object_set_new(row, state_name(st),
						    json_integer(s->by_level_state[l][st]));
		json_object_set_new(t, category_name(l), row);
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:o}", "units", (json_int_t)s->units, "posts",
			 (json_int_t)s->posts, "persons", (json_int_t)s->persons, "appointments",
			 (json_int_t)s->appointments, "by_category", t);
}

int cmd_demo(struct cli *c, struct bm_err *e)
{
	const char *persons = "600", *seed = "0";
	const struct opt o[] = {{"persons", &persons, NULL}, {"seed", &seed, NULL}, {0}};
	struct demo_summary sum;
	int64_t n, sd;
	int rc;

	/* svc_demo takes an int count and a 32-bit seed */
	if ((rc = args_parse(c, o, NULL, 0, 0, e)) ||
	    (rc = args_range("persons", persons, 0, INT_MAX, &n, e)) ||
	    (rc = args_range("seed", seed, 0, UINT32_MAX, &sd, e)) || (rc = cli_open(c, e)) ||
	    (rc = svc_demo(c->svc, &c->actor, (uint32_t)sd, (int)n, &sum, e)))
		return rc;
	if (c->json)
		out_json(summary_json(&sum));
	else
		print_summary(&sum);
	return 0;
}
