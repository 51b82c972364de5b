/*
 * fuzz_parse.c - differential libFuzzer target for the small text parsers a
 * client reaches through query strings and JSON members: dates
 * (clock_parse: appointment dates, audit `since`, the test clock), durations
 * (clock_parse_duration: `within=90d` of the due list), level and category
 * names (level_parse, category_parse) and compartment lists
 * (compartments_normalize, _union, _include), plus names_echo, which quotes
 * the refused text back.  The first input byte picks the parser, the rest
 * (up to a NUL) is the text.  Each parser is compared with a plain model
 * written here from its header's contract, and what it accepts must format
 * back (a date) or parse back (a level's names) to the same value.  Any
 * difference calls abort().
 */
#include "core/level.h"
#include "core/names.h"
#include "lib/clock.h"
#include "lib/utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define CAP 200        /* out buffer of the compartment checks */
#define MAXCODES 4096

/* A refusal must name the field it was given and say something. */
static void refused_well(const struct bm_err *e, const char *field)
{
	if (e->code == 0 || e->msg[0] == '\0' || strcmp(e->field, field) != 0)
		abort();
}

/* ---- dates: model over timegm(3), round trip through the formatters --- */

static bool digits(const char *s, size_t off, size_t n, int *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[off + i] < '0' || s[off + i] > '9')
			return false;
		*v = *v * 10 + (s[off + i] - '0');
	}
	return true;
}

/* The date s means per clock.h, by struct tm and timegm; false if none. */
static bool date_model(const char *s, int64_t *t)
{
	size_t n = strlen(s);
	int y, mo, d, h = 0, mi = 0, sec = 0;
	struct tm tm = {0}, back;
	time_t tt;

	if (n != 10 && n != 20)
		return false;
	if (!digits(s, 0, 4, &y) || s[4] != '-' || !digits(s, 5, 2, &mo) || s[7] != '-' ||
	    !digits(s, 8, 2, &d))
		return false;
	if (n == 20 && (s[10] != 'T' || !digits(s, 11, 2, &h) || s[13] != ':' ||
			!digits(s, 14, 2, &mi) || s[16] != ':' || !digits(s, 17, 2, &sec) ||
			s[19] != 'Z'))
		return false;
	if (y < 1900 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
		return false;
	tm = (struct tm){.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			 .tm_min = mi, .tm_sec = sec};
	tt = timegm(&tm);
	if (gmtime_r(&tt, &back) == NULL || back.tm_mday != d || back.tm_mon != mo - 1)
		return false; /* day beyond its month: timegm rolled it over */
	*t = (int64_t)tt;
	return true;
}

static void check_date(const char *s)
{
	struct bm_err e = BM_ERR_INIT;
	int64_t got = 7, want = 0;
	bool ok = date_model(s, &want);
	char f[21];

	if (clock_parse(s, "when", &got, &e) != 0) {
		refused_well(&e, "when");
		if (ok || got != 7)
			abort();
		bm_err_clear(&e);
		return;
	}
	if (!ok || got != want)
		abort();
	if (strlen(s) == 10)
		clock_fmt_date(got, f);
	else
		clock_fmt_iso(got, f);
	if (strcmp(f, s) != 0)
		abort();
}

/* ---- durations: model in 128-bit arithmetic --------------------------- */

static bool duration_model(const char *s, int64_t *out)
{
	__int128 v = 0;
	int64_t unit;
	size_t i = 0;

	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > INT64_MAX)
			v = (__int128)INT64_MAX + 1; /* stays too large */
	}
	if (i == 0 || s[i] == '\0' || s[i + 1] != '\0')
		return false;
	switch (s[i]) {
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'm': unit = 30 * 86400; break;
	case 'y': unit = 365 * 86400; break;
	default: return false;
	}
	if (v * unit > INT64_MAX)
		return false;
	*out = (int64_t)(v * unit);
	return true;
}

static void check_duration(const char *s)
{
	struct bm_err e = BM_ERR_INIT;
	int64_t got = -7, want = 0;
	bool ok = duration_model(s, &want);

	if (clock_parse_duration(s, "within", &got, &e) != 0) {
		refused_well(&e, "within");
		if (ok || got != -7)
			abort();
		bm_err_clear(&e);
		return;
	}
	if (!ok || got != want || got < 0)
		abort();
}

/* ---- level and category names ----------------------------------------- */

static const char *const level_words[][2] = {
	{"0", "0"}, {"none", "0"}, {"unclassified", "0"}, {"u", "0"}, {"非涉密", "0"},
	{"1", "1"}, {"confidential", "1"}, {"c", "1"}, {"秘密", "1"},
	{"2", "2"}, {"secret", "2"}, {"s", "2"}, {"机密", "2"},
	{"3", "3"}, {"top_secret", "3"}, {"top secret", "3"}, {"top-secret", "3"},
	{"ts", "3"}, {"绝密", "3"},
};
static const char *const cat_words[][2] = {
	{"general", "1"}, {"一般", "1"}, {"key", "2"}, {"重要", "2"}, {"core", "3"},
	{"核心", "3"},
};

/* s trimmed of ASCII blanks and lower-cased (ASCII only) into out. */
static void fold(const char *s, char *out)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	out[n] = '\0';
}

static int lookup(const char *const words[][2], size_t n, const char *folded)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(words[i][0], folded) == 0)
			return words[i][1][0] - '0';
	return -1;
}

static void check_level(const char *s, bool category)
{
	struct bm_err e = BM_ERR_INIT;
	char *folded = malloc(strlen(s) + 1);
	int got = -9, want, rc;

	fold(s, folded);
	want = lookup(level_words, sizeof level_words / sizeof level_words[0], folded);
	if (category && want < 0)
		want = lookup(cat_words, sizeof cat_words / sizeof cat_words[0], folded);
	free(folded);
	rc = category ? category_parse(s, "lv", &got, &e) : level_parse(s, "lv", &got, &e);
	if (rc != 0) {
		refused_well(&e, "lv");
		if (want >= 0 || !utf8_valid(e.msg, strlen(e.msg), NULL))
			abort();
		bm_err_clear(&e);
		return;
	}
	if (got != want)
		abort();
	/* Every name the system prints for a level reads back as that level. */
	const char *names[] = {level_name(got), level_name_zh(got), level_name_us(got),
			       category_name(got), category_name_zh(got)};
	for (size_t i = 0; i < (category ? 5u : 3u); i++) {
		int back = -1;

		if ((category ? category_parse(names[i], "x", &back, &e)
			      : level_parse(names[i], "x", &back, &e)) != 0 || back != got)
			abort();
	}
}

/* ---- compartment lists: model as a sorted array of codes --------------- */

struct codes {
	size_t n;
	char (*c)[32];
};

static int ccmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Splits, trims, upper-cases, checks, sorts and de-duplicates s:
 * 0, or -1 for a list compartments_normalize must refuse. */
static int comp_model(const char *s, struct codes *out)
{
	const char *p = s;
	size_t k = 0;

	out->n = 0;
	if (s[strspn(s, " \t")] == '\0')
		return 0;
	for (;;) {
		size_t n = strcspn(p, ","), a = 0, b = n;

		while (a < b && (p[a] == ' ' || p[a] == '\t'))
			a++;
		while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
			b--;
		if (k == MAXCODES)
			return -2; /* beyond the model's room: no verdict */
		if (b == a || b - a > 31)
			return -1;
		for (size_t i = a; i < b; i++) {
			char c = p[i] >= 'a' && p[i] <= 'z' ? (char)(p[i] - 'a' + 'A') : p[i];

			if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
				return -1;
			out->c[k][i - a] = c;
		}
		out->c[k++][b - a] = '\0';
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	qsort(out->c, k, sizeof out->c[0], ccmp);
	for (size_t i = 0; i < k; i++)
		if (out->n == 0 || strcmp(out->c[out->n - 1], out->c[i]) != 0)
			memmove(out->c[out->n++], out->c[i], 32);
	return 0;
}

/* The model's list joined by commas; its length (which may exceed cap). */
static size_t join(const struct codes *c, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < c->n; i++) {
		size_t n = strlen(c->c[i]);

		if (o + (o > 0) + n + 1 > cap)
			return o + (o > 0) + n + 1 + 1000;
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, c->c[i], n + 1);
		o += n;
	}
	return o;
}

/* Normalises s both ways; returns 1 with out set when both accept. */
static int check_normalize(const char *s, struct codes *m, char out[CAP])
{
	struct bm_err e = BM_ERR_INIT;
	char want[CAP], again[CAP];
	int mrc = comp_model(s, m), rc = compartments_normalize(s, "comp", out, CAP, &e);
	size_t wn = mrc == 0 ? join(m, want, CAP) : 0;

	if (mrc == -2) {
		bm_err_clear(&e);
		return 0;
	}
	if (mrc != 0 || wn >= CAP) {
		if (rc != (mrc != 0 ? BM_EINVAL : BM_ETOOBIG))
			abort();
		refused_well(&e, "comp");
		bm_err_clear(&e);
		return 0;
	}
	if (rc != 0 || strcmp(out, want) != 0)
		abort();
	/* Normal form is a fixed point and includes itself. */
	if (compartments_normalize(out, "comp", again, CAP, &e) != 0 || strcmp(again, out) != 0 ||
	    !compartments_include(out, out) || !compartments_include(out, ""))
		abort();
	return 1;
}

/* Two lines: each normalised against the model, then their union and
 * inclusion against the model's set operations. */
static void check_compartments(char *s)
{
	struct codes a = {0, calloc(MAXCODES, 32)}, b = {0, calloc(MAXCODES, 32)};
	struct codes u = {0, calloc(2 * MAXCODES, 32)};
	char *nl = strchr(s, '\n'), na[CAP], nb[CAP], got[CAP], want[CAP];
	bool sub = true;
	size_t k;

	if (nl != NULL)
		*nl = '\0';
	if (!check_normalize(s, &a, na) || !check_normalize(nl ? nl + 1 : "", &b, nb))
		goto out;
	memcpy(u.c, a.c, a.n * 32);
	memcpy(u.c + a.n, b.c, b.n * 32);
	u.n = a.n + b.n;
	qsort(u.c, u.n, 32, ccmp);
	k = 0;
	for (size_t i = 0; i < u.n; i++)
		if (k == 0 || strcmp(u.c[k - 1], u.c[i]) != 0)
			memmove(u.c[k++], u.c[i], 32);
	u.n = k;
	if (join(&u, want, CAP) >= CAP) {
		if (compartments_union(na, nb, got, CAP) != BM_ETOOBIG || got[0] != '\0')
			abort();
	} else if (compartments_union(na, nb, got, CAP) != 0 || strcmp(got, want) != 0) {
		abort();
	}
	for (size_t i = 0; i < b.n; i++)
		sub = sub && bsearch(b.c[i], a.c, a.n, 32, ccmp) != NULL;
	if (!compartments_include(na, nb) != !sub)
		abort();
out:
	free(a.c);
	free(b.c);
	free(u.c);
}

/* ---- names_echo: safe to print, never longer than its buffer ---------- */

static void check_echo(const char *s, size_t cap)
{
	char *q = malloc(cap);
	size_t n;

	names_echo(q, cap, s);
	n = strlen(q);
	if (n >= cap || !utf8_valid(q, n, NULL) || !utf8_printable(q, n))
		abort();
	if (strlen(s) < cap && utf8_valid(s, strlen(s), NULL) && utf8_printable(s, strlen(s)) &&
	    strcmp(q, s) != 0)
		abort(); /* printable text that fits comes back as it was */
	free(q);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0: check_date(s); break;
	case 1: check_duration(s); break;
	case 2: check_level(s, false); break;
	case 3: check_level(s, true); break;
	case 4: check_compartments(s); break;
	default: check_echo(s, 8 + data[0] / 6 % 64); break;
	}
	free(s);
	return 0;
}
