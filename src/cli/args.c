/*
 * args.c - option parsing for one verb.  Options may come before, between
 * or after positionals; "--opt=value" and "--opt value" both work; "--"
 * ends options.  Every refusal names the option and the command.
 */
#include "cli.h"
#include "../lib/num.h"

#include <stdlib.h>
#include <string.h>

static const struct opt *find_opt(const struct opt *opts, const char *name, size_t n)
{
	for (const struct opt *o = opts; o && o->name; o++)
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
			return o;
	return NULL;
}

static int take_option(struct cli *c, const struct opt *opts, int *i, struct bm_err *e)
{
	const char *arg = c->argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct opt *o = find_opt(opts, arg, n);

	if (o == NULL)
		return bm_errf(e, BM_EUSAGE, arg, "unknown option --%.*s for '%s' (see baomi %s --help)",
			       (int)n, arg, c->cmd, c->cmd);
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

	for (int i = 0; i < c->argc; i++) {
		const char *a = c->argv[i];

		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = true;
		} else if (!only_pos && a[0] == '-' && a[1] == '-' && a[2] != '\0') {
			if ((rc = take_option(c, opts, &i, e)))
				return rc;
		} else if (got < npos) {
			pos[got++] = a;
		} else {
			return bm_errf(e, BM_EUSAGE, NULL, "unexpected argument \"%.64s\" for '%s'", a,
				       c->cmd);
		}
	}
	if (got < nreq)
		return bm_errf(e, BM_EUSAGE, NULL, "'%s' needs %d argument%s (see baomi %s --help)",
			       c->cmd, nreq, nreq == 1 ? "" : "s", c->cmd);
	return 0;
}

int args_int(const char *field, const char *v, int64_t *out, struct bm_err *e)
{
	if (!num_parse(v, 0, INT64_MAX, out))
		return bm_errf(e, BM_EUSAGE, field, "--%s: \"%.32s\" is not a non-negative integer",
			       field, v);
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
