/*
 * args.c - option parsing for one verb.  Options may come before, between
 * or after positionals; "--opt=value" and "--opt value" both work; "--"
 * ends options.  Every refusal names the option, or the positional argument
 * as the man page names it (REVIEW, ITEM), and the command.  A value option
 * given twice is refused, never settled by the last one: `--limit 5 ...
 * --limit 500` in a script is a mistake, not a choice.
 */
#include "cli.h"
#include "../lib/num.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct opt *find_opt(const struct opt *opts, const char *name, size_t n)
{
	for (const struct opt *o = opts; o && o->name; o++)
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
			return o;
	return NULL;
}

/* Takes the option at argv[*i] (and its value); seen has a bit per option
 * of opts already given. */
static int take_option(struct cli *c, const struct opt *opts, int *i, uint64_t *seen,
		       struct bm_err *e)
{
	const char *arg = c->argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct opt *o = find_opt(opts, arg, n);
	uint64_t bit;

	if (o == NULL)
		return bm_errf(e, BM_EUSAGE, arg, "unknown option --%.*s for '%s' (see baomi %s --help)",
			       (int)n, arg, c->cmd, c->cmd);
	bit = (uint64_t)1 << ((o - opts) & 63);
	if (o->val && (*seen & bit))
		return bm_errf(e, BM_EUSAGE, o->name, "--%s given twice for '%s'", o->name, c->cmd);
	*seen |= bit;
	if (o->flag) {
		if (eq)
			return bm_errf(e, BM_EUSAGE, o->name, "--%s takes no value", o->name);
		*o->flag = true;
		return 0;
	}
	if (eq) {
		*o->val = eq + 1;
		return 0;
	}
	if (*i + 1 >= c->argc)
		return bm_errf(e, BM_EUSAGE, o->name, "--%s needs a value", o->name);
	*o->val = c->argv[++*i];
	return 0;
}

int args_parse(struct cli *c, const struct opt *opts, const char **pos, int nreq, int npos,
	       struct bm_err *e)
{
	int got = 0, rc;
	bool only_pos = false;
	uint64_t seen = 0;

	for (int i = 0; i < c->argc; i++) {
		const char *a = c->argv[i];

		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = true;
		} else if (!only_pos && a[0] == '-' && a[1] == '-' && a[2] != '\0') {
			if ((rc = take_option(c, opts, &i, &seen, e)))
				return rc;
		} else if (got < npos) {
			pos[got++] = a;
		} else {
			return bm_errf(e, BM_EUSAGE, NULL, "unexpected argument \"%.64s\" for '%s'", a,
				       c->cmd);
		}
	}
	if (got < nreq)
		return bm_errf(e, BM_EUSAGE, NULL, "'%s' needs %d argument%s: baomi %s %s",
			       c->cmd, nreq, nreq == 1 ? "" : "s", c->cmd,
			       c->usage ? c->usage : "");
	return 0;
}

int args_int(const char *field, const char *v, int64_t *out, struct bm_err *e)
{
	return args_range(field, v, 0, INT64_MAX, out, e);
}

int args_pos_int(const char *name, const char *v, int64_t *out, struct bm_err *e)
{
	if (!num_parse(v, 0, INT64_MAX, out))
		return bm_errf(e, BM_EUSAGE, name, "%s: \"%.32s\" is not an integer from 0 to %lld",
			       name, v, (long long)INT64_MAX);
	return 0;
}

int args_range(const char *field, const char *v, int64_t lo, int64_t hi, int64_t *out,
	       struct bm_err *e)
{
	if (!num_parse(v, lo, hi, out))
		return bm_errf(e, BM_EUSAGE, field, "--%s: \"%.32s\" is not an integer from "
			       "%lld to %lld", field, v, (long long)lo, (long long)hi);
	return 0;
}

/* A list's --limit: 1 or more.  Without the option a list is whole; 0 is
 * refused rather than read as "all" (or as "none"): a script that computed
 * it meant one of the two, and the other would answer it. */
int args_limit(const char *v, int64_t *out, struct bm_err *e)
{
	return args_range("limit", v, 1, INT64_MAX, out, e);
}
