/*
 * level.c - classification levels, personnel categories and compartment
 * lists.  Every spelling a user may type (code names, US labels, Chinese,
 * digits) maps to one number here and nowhere else.  Pure: no I/O, no
 * state; it must never accept a name it cannot map back (a typo is an
 * error, never a default level).
 */
#include "level.h"
#include "names.h"
#include "../lib/mem.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMP_MAXLEN 31

static const struct name_map level_names[] = {
	{"0", 0}, {"none", 0}, {"unclassified", 0}, {"U", 0}, {"非涉密", 0},
	{"1", 1}, {"confidential", 1}, {"C", 1}, {"秘密", 1},
	{"2", 2}, {"secret", 2}, {"S", 2}, {"机密", 2},
	{"3", 3}, {"top_secret", 3}, {"top secret", 3}, {"top-secret", 3},
	{"TS", 3}, {"绝密", 3},
};

static const struct name_map category_words[] = {
	{"general", 1}, {"一般", 1}, {"key", 2}, {"重要", 2}, {"core", 3}, {"核心", 3},
};

static const char *const names_code[] = {"none", "confidential", "secret", "top_secret"};
static const char *const names_zh[] = {"非涉密", "秘密", "机密", "绝密"};
static const char *const names_us[] = {"U", "C", "S", "TS"};
static const char *const cat_code[] = {"none", "general", "key", "core"};
static const char *const cat_zh[] = {"非涉密", "一般", "重要", "核心"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Picks names[level], or "unknown" for a level out of range. */
static const char *pick(const char *const names[4], int level)
{
	return (level >= 0 && level <= LEVEL_MAX) ? names[level] : "unknown";
}

const char *level_name(int level) { return pick(names_code, level); }
const char *level_name_zh(int level) { return pick(names_zh, level); }
const char *level_name_us(int level) { return pick(names_us, level); }
const char *category_name(int level) { return pick(cat_code, level); }
const char *category_name_zh(int level) { return pick(cat_zh, level); }

/* The refusal shared by both parsers: names the field, quotes the value
 * (safely) and lists every accepted form. */
static int refuse(const char *s, const char *field, const char *what, const char *forms,
		  struct bm_err *e)
{
	char q[48];

	if (s == NULL || s[strspn(s, " \t")] == '\0')
		return bm_errf(e, BM_EINVAL, field, "%s: a %s is required; use %s",
			       field ? field : what, what, forms);
	return bm_errf(e, BM_EINVAL, field, "%s: \"%s\" is not a %s; use %s",
		       field ? field : what, names_echo(q, sizeof q, s), what, forms);
}

#define LEVEL_FORMS                                                                \
	"0-3, none/unclassified/U, confidential/C/秘密, secret/S/机密 or "         \
	"top_secret/TS/绝密"

int level_parse(const char *s, const char *field, int *out, struct bm_err *e)
{
	if (names_find(level_names, NELEM(level_names), s, out) == 0)
		return 0;
	return refuse(s, field, "level", LEVEL_FORMS, e);
}

int category_parse(const char *s, const char *field, int *out, struct bm_err *e)
{
	if (names_find(category_words, NELEM(category_words), s, out) == 0)
		return 0;
	if (names_find(level_names, NELEM(level_names), s, out) == 0)
		return 0;
	return refuse(s, field, "category",
		      "general/一般, key/重要, core/核心, none, or a level (" LEVEL_FORMS ")",
		      e);
}

/* ---- compartments ----------------------------------------------------- */

struct span {
	const char *p;
	size_t n;
};

/* Byte order on codes; a prefix sorts first.  The one order used by
 * normalize, union and include. */
static int code_cmp(struct span a, struct span b)
{
	int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);

	if (c != 0)
		return c;
	return (a.n > b.n) - (a.n < b.n);
}

static int span_qcmp(const void *a, const void *b)
{
	return code_cmp(*(const struct span *)a, *(const struct span *)b);
}

static bool code_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool compartment_code_ok(const char *c, size_t len)
{
	if (len < 1 || len > COMP_MAXLEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!code_char(c[i]))
			return false;
	return true;
}

/* Reads the next code of a normalised list at *p into *out.  Returns 1 for
 * a code, 0 at the end, -1 when the list is malformed (empty or long code,
 * bad character). */
static int list_next(const char **p, struct span *out)
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '\0')
		return 0;
	while (code_char(s[n]))
		n++;
	if (n == 0 || n > COMP_MAXLEN || (s[n] != ',' && s[n] != '\0'))
		return -1;
	if (s[n] == ',' && s[n + 1] == '\0')
		return -1;
	out->p = s;
	out->n = n;
	*p = s + n + (s[n] == ',');
	return 1;
}

/* Trims, upper-cases and checks the raw code p[0..n) in place, storing
 * the result in *out; 0 or BM_EINVAL naming field and the code. */
static int clean_code(char *p, size_t n, size_t idx, const char *field, struct span *out,
		      struct bm_err *e)
{
	char q[48], raw[COMP_MAXLEN + 16];

	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return bm_errf(e, BM_EINVAL, field,
			       "%s: compartment %zu is empty (two commas in a row?)", field,
			       idx + 1);
	snprintf(raw, sizeof raw, "%.*s", (int)(n < sizeof raw - 1 ? n : sizeof raw - 1), p);
	if (n > COMP_MAXLEN)
		return bm_errf(e, BM_EINVAL, field,
			       "%s: compartment \"%s\" is longer than %d characters", field,
			       names_echo(q, sizeof q, raw), COMP_MAXLEN);
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 'a' && p[i] <= 'z')
			p[i] = (char)(p[i] - 'a' + 'A');
		if (!code_char(p[i]))
			return bm_errf(e, BM_EINVAL, field,
				       "%s: compartment \"%s\" may only hold A-Z, 0-9, _ and -",
				       field, names_echo(q, sizeof q, raw));
	}
	out->p = p;
	out->n = n;
	return 0;
}

/* Splits the scratch copy at commas into cleaned codes; returns how many
 * or a negative error. */
static int split_codes(char *s, struct span *codes, const char *field, struct bm_err *e)
{
	size_t k = 0;
	int rc;

	for (;;) {
		char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);

		if ((rc = clean_code(s, n, k, field, &codes[k], e)) != 0)
			return rc;
		k++;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	if (k > INT_MAX)
		return bm_errf(e, BM_ETOOBIG, field, "%s: too many compartments", field);
	return (int)k;
}

/* Writes sorted codes to out without duplicates; BM_ETOOBIG if too small. */
static int write_codes(const struct span *codes, size_t k, const char *field, char *out,
		       size_t cap, struct bm_err *e)
{
	size_t o = 0;

	for (size_t i = 0; i < k; i++) {
		if (i > 0 && code_cmp(codes[i - 1], codes[i]) == 0)
			continue;
		if (o + (o > 0) + codes[i].n + 1 > cap)
			return bm_errf(e, BM_ETOOBIG, field,
				       "%s: the compartment list does not fit in %zu bytes",
				       field, cap);
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, codes[i].p, codes[i].n);
		o += codes[i].n;
	}
	out[o] = '\0';
	return 0;
}

int compartments_normalize(const char *s, const char *field, char *out, size_t cap,
			   struct bm_err *e)
{
	const char *f = field ? field : "compartments";
	size_t len = s ? strlen(s) : 0, ncomma = 0, bytes;
	struct span *codes = NULL;
	char *scratch = NULL;
	int rc;

	if (cap == 0)
		return bm_errf(e, BM_ETOOBIG, f, "%s: no room for the compartment list", f);
	if (s == NULL || s[strspn(s, " \t")] == '\0') {
		out[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		ncomma += s[i] == ',';
	if (!bm_mul_ok(ncomma + 1, sizeof *codes, &bytes))
		return bm_errf(e, BM_ETOOBIG, f, "%s: too many compartments", f);
	scratch = xstrndup(s, len); /* out may alias s: read only the copy */
	codes = xmalloc(bytes);
	if ((rc = split_codes(scratch, codes, f, e)) < 0)
		goto out;
	qsort(codes, (size_t)rc, sizeof *codes, span_qcmp);
	rc = write_codes(codes, (size_t)rc, f, out, cap, e);
out:
	free(codes);
	free(scratch);
	return rc;
}

/* Appends code c to out[*o..cap) after a comma when needed. */
static int put_code(char *out, size_t cap, size_t *o, struct span c)
{
	if (*o + (*o > 0) + c.n + 1 > cap)
		return BM_ETOOBIG;
	if (*o > 0)
		out[(*o)++] = ',';
	memcpy(out + *o, c.p, c.n);
	*o += c.n;
	out[*o] = '\0';
	return 0;
}

/* Advances one normalised list, checking it stays strictly ascending:
 * 1 with *cur set, 0 at the end, -1 when malformed or out of order. */
static int step(const char **p, struct span *cur, bool have_prev)
{
	struct span prev = *cur;
	int r = list_next(p, cur);

	if (r == 1 && have_prev && code_cmp(prev, *cur) >= 0)
		return -1;
	return r;
}

int compartments_union(const char *a, const char *b, char *out, size_t cap)
{
	struct span x = {"", 0}, y = {"", 0};
	size_t o = 0;
	int ra, rb, rc = 0;

	if (cap == 0)
		return BM_ETOOBIG;
	out[0] = '\0';
	ra = step(&a, &x, false);
	rb = step(&b, &y, false);
	while (rc == 0 && ra == 1 && rb == 1) {
		int c = code_cmp(x, y);

		rc = put_code(out, cap, &o, c <= 0 ? x : y);
		if (c <= 0)
			ra = step(&a, &x, true);
		if (c >= 0)
			rb = step(&b, &y, true);
	}
	for (; rc == 0 && ra == 1; ra = step(&a, &x, true))
		rc = put_code(out, cap, &o, x);
	for (; rc == 0 && rb == 1; rb = step(&b, &y, true))
		rc = put_code(out, cap, &o, y);
	if (rc == 0 && (ra < 0 || rb < 0))
		rc = BM_EINVAL;
	if (rc != 0)
		out[0] = '\0';
	return rc;
}

int compartments_include(const char *have, const char *need)
{
	struct span h = {"", 0}, n = {"", 0};
	int rh, rn;

	if (have == NULL || need == NULL)
		return 0;
	rh = step(&have, &h, false);
	for (rn = step(&need, &n, false); rn == 1; rn = step(&need, &n, true)) {
		while (rh == 1 && code_cmp(h, n) < 0)
			rh = step(&have, &h, true);
		if (rh != 1 || code_cmp(h, n) != 0)
			return 0;
	}
	if (rn < 0)
		return 0;
	/* A malformed tail of have is refused too: fail closed. */
	while (rh == 1)
		rh = step(&have, &h, true);
	return rh == 0;
}

bool compartments_valid(const char *s)
{
	return s != NULL && compartments_include(s, "") == 1;
}
