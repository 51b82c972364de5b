/*
 * clock.c - the time baomi believes it is, and UTC dates by arithmetic.
 *
 * Everything here is UTC and pure integer arithmetic on the proleptic
 * Gregorian calendar (days counted from 1970-01-01 through 400-year eras of
 * 146097 days).  This module must never call mktime, localtime or anything
 * else that reads TZ, and never echo unparsed input into error messages.
 * The fixed clock is an atomic so server threads can read it freely.
 */
#include "clock.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the formatting range. */
#define T_MIN (-62167219200LL)
#define T_MAX (253402300799LL)
#define DAYS_0000_TO_1970 719468  /* from 0000-03-01, the era's origin */

static _Atomic int64_t fixed_now;

static int64_t floor_div(int64_t a, int64_t b);
static bool is_leap(int64_t y);
static int month_days(int64_t y, int m);
static bool shape_ok(const char *s, size_t n);
static int num(const char *s, size_t off, size_t len);
static const char *label(const char *field, const char *fallback);
static int check_range(struct bm_err *e, const char *field, const char *part, int v,
		       int lo, int hi);
static void split(int64_t t, int64_t *y, int *mo, int *d, int *secs);
static char *put_digits(char *p, int64_t v, int width);
static char *put_date(char *out, int64_t t, int *secs);
static int duration_unit(char c, int64_t *unit);

int64_t clock_add_days(int64_t t, int64_t days)
{
	if (t >= CLOCK_MAX || days > (CLOCK_MAX - t) / BM_DAY)
		return CLOCK_MAX;
	return t + days * BM_DAY;
}

/* The fixed time if one is set, else the real clock. */
int64_t clock_now(void)
{
	int64_t t = atomic_load(&fixed_now);
	struct timespec ts;

	if (t != 0)
		return t;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t clock_now_ms(void)
{
	int64_t t = atomic_load(&fixed_now);
	struct timespec ts;

	if (t != 0)
		return t * 1000;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_set(int64_t t)
{
	atomic_store(&fixed_now, t);
}

int64_t clock_fixed(void)
{
	return atomic_load(&fixed_now);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Counts years from March so the leap day is the last day of its year:
 * then a year's day-of-year only depends on the month (153 days per five
 * months from March) and an era of 400 years is always 146097 days. */
int64_t clock_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = floor_div(yy, 400);
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (era * 146097 + doe - DAYS_0000_TO_1970) * BM_DAY;
}

/* The inverse of clock_from_civil, on days rather than seconds. */
void clock_to_civil(int64_t t, int64_t *y, int *m, int *d)
{
	int64_t z = floor_div(t, BM_DAY) + DAYS_0000_TO_1970;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Date and second-of-day of t, clamped to the years 0000-9999. */
static void split(int64_t t, int64_t *y, int *mo, int *d, int *secs)
{
	if (t < T_MIN)
		t = T_MIN;
	if (t > T_MAX)
		t = T_MAX;
	clock_to_civil(t, y, mo, d);
	*secs = (int)(t - floor_div(t, BM_DAY) * BM_DAY);
}

/* Writes v as exactly width decimal digits (v fits, as split guarantees). */
static char *put_digits(char *p, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/* YYYY-MM-DD into out[0..10), not terminated; returns the end. */
static char *put_date(char *out, int64_t t, int *secs)
{
	int64_t y;
	int mo, d;

	split(t, &y, &mo, &d, secs);
	out = put_digits(out, y, 4);
	*out++ = '-';
	out = put_digits(out, mo, 2);
	*out++ = '-';
	return put_digits(out, d, 2);
}

void clock_fmt_date(int64_t t, char out[11])
{
	int secs;

	*put_date(out, t, &secs) = '\0';
}

void clock_fmt_iso(int64_t t, char out[21])
{
	int secs;
	char *p = put_date(out, t, &secs);

	*p++ = 'T';
	p = put_digits(p, secs / 3600, 2);
	*p++ = ':';
	p = put_digits(p, secs / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, secs % 60, 2);
	*p++ = 'Z';
	*p = '\0';
}

/* True when s[0..n) has exactly the shape of a date or a date-time:
 * '9' stands for an ASCII digit, anything else must match itself. */
static bool shape_ok(const char *s, size_t n)
{
	static const char shape[] = "9999-99-99T99:99:99Z";
	size_t i;

	if (n != 10 && n != 20)
		return false;
	for (i = 0; i < n; i++) {
		if (shape[i] == '9' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	}
	return true;
}

/* The decimal number in s[off..off+len), digits already checked. */
static int num(const char *s, size_t off, size_t len)
{
	int v = 0;

	for (size_t i = 0; i < len; i++)
		v = v * 10 + (s[off + i] - '0');
	return v;
}

/* The name a message starts with: the field the value came from (an option,
 * a column, a JSON member), so that an adapter printing only the message
 * still says which value was wrong. */
static const char *label(const char *field, const char *fallback)
{
	return field != NULL && field[0] != '\0' ? field : fallback;
}

static int check_range(struct bm_err *e, const char *field, const char *part, int v,
		       int lo, int hi)
{
	if (v >= lo && v <= hi)
		return 0;
	return bm_errf(e, BM_EINVAL, field, "%s: %s %d out of range %d-%d", label(field, "date"),
		       part, v, lo, hi);
}

/* Shape first, then each part's range, so the message names the one part
 * that is wrong. */
int clock_parse(const char *s, const char *field, int64_t *out, struct bm_err *e)
{
	size_t n = s != NULL ? strlen(s) : 0;
	int y, mo, d, h = 0, mi = 0, sec = 0, rc;

	if (!shape_ok(s, n))
		return bm_errf(e, BM_EINVAL, field,
			       "%s: expected a date YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
			       label(field, "date"));
	y = num(s, 0, 4);
	mo = num(s, 5, 2);
	d = num(s, 8, 2);
	if (n == 20) {
		h = num(s, 11, 2);
		mi = num(s, 14, 2);
		sec = num(s, 17, 2);
	}
	if ((rc = check_range(e, field, "year", y, 1900, 9999)) != 0 ||
	    (rc = check_range(e, field, "month", mo, 1, 12)) != 0 ||
	    (rc = check_range(e, field, "day", d, 1, month_days(y, mo))) != 0 ||
	    (rc = check_range(e, field, "hour", h, 0, 23)) != 0 ||
	    (rc = check_range(e, field, "minute", mi, 0, 59)) != 0 ||
	    (rc = check_range(e, field, "second", sec, 0, 59)) != 0)
		return rc;
	*out = clock_from_civil(y, mo, d) + h * 3600 + mi * 60 + sec;
	return 0;
}

/* BAOMI_NOW is either all digits (Unix seconds) or a clock_parse date. */
int clock_from_env(struct bm_err *e)
{
	const char *s = getenv("BAOMI_NOW");
	int64_t t = 0;
	size_t i;
	int rc;

	if (s == NULL || s[0] == '\0')
		return 0;
	if (strspn(s, "0123456789") == strlen(s)) {
		for (i = 0; s[i] != '\0' && t <= T_MAX; i++)
			t = t * 10 + (s[i] - '0');
		if (t > T_MAX)
			return bm_errf(e, BM_EINVAL, "BAOMI_NOW",
				       "BAOMI_NOW: Unix seconds beyond 9999-12-31T23:59:59Z");
	} else if ((rc = clock_parse(s, "BAOMI_NOW", &t, e)) != 0) {
		return rc;
	}
	if (t <= 0)
		return bm_errf(e, BM_EINVAL, "BAOMI_NOW",
			       "BAOMI_NOW: must be after 1970-01-01T00:00:00Z");
	clock_set(t);
	return 0;
}

/* Seconds per unit letter; 0 when the letter is not a unit. */
static int duration_unit(char c, int64_t *unit)
{
	switch (c) {
	case 'h': *unit = 3600; return 1;
	case 'd': *unit = BM_DAY; return 1;
	case 'm': *unit = 30 * (int64_t)BM_DAY; return 1;
	case 'y': *unit = 365 * (int64_t)BM_DAY; return 1;
	default: return 0;
	}
}

int clock_parse_duration(const char *s, const char *field, int64_t *out, struct bm_err *e)
{
	int64_t v = 0, unit;
	size_t i = 0;

	if (s == NULL || s[0] == '\0')
		return bm_errf(e, BM_EINVAL, field, "%s: empty duration", label(field, "duration"));
	if (s[0] == '-')
		return bm_errf(e, BM_EINVAL, field, "%s: a duration cannot be negative",
			       label(field, "duration"));
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return bm_errf(e, BM_EINVAL, field, "%s: duration too large",
				       label(field, "duration"));
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0)
		return bm_errf(e, BM_EINVAL, field, "%s: expected a number then h, d, m or y",
			       label(field, "duration"));
	if (s[i] == '\0')
		return bm_errf(e, BM_EINVAL, field,
			       "%s: missing unit (h, d, m = 30 d or y = 365 d)",
			       label(field, "duration"));
	if (!duration_unit(s[i], &unit) || s[i + 1] != '\0')
		return bm_errf(e, BM_EINVAL, field,
			       "%s: unknown unit (use h, d, m = 30 d or y = 365 d)",
			       label(field, "duration"));
	if (v > INT64_MAX / unit)
		return bm_errf(e, BM_EINVAL, field, "%s: duration too large", label(field, "duration"));
	*out = v * unit;
	return 0;
}
