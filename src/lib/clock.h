/*
 * clock.h - the time baomi believes it is, and date formats.
 *
 * All instants are int64 Unix seconds (UTC); audit events use milliseconds.
 * Tests fix the clock with clock_set (the CLI and server honour BAOMI_NOW,
 * an ISO date or Unix seconds, for reproducible runs).  Dates are
 * YYYY-MM-DD in UTC.
 */
#ifndef BM_CLOCK_H
#define BM_CLOCK_H

#include "err.h"

#include <stdint.h>

int64_t clock_now(void);        /* seconds */
int64_t clock_now_ms(void);     /* milliseconds */
/* The last instant a record holds, 9999-12-31T23:59:59Z (the store
 * refuses a later one as damage). */
#define CLOCK_MAX INT64_C(253402300799)
/* t + days, no later than CLOCK_MAX: a re-review date computed near the end
 * of the calendar stays a date the store can hold. */
int64_t clock_add_days(int64_t t, int64_t days);
/* Fixes the clock at t seconds (0 restores the real clock).  Thread-safe. */
void clock_set(int64_t t);
/* The instant clock_set fixed, 0 when the clock is real: what to put back
 * after moving it for a while. */
int64_t clock_fixed(void);
/* Reads BAOMI_NOW if set and not empty: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or
 * decimal Unix seconds, and fixes the clock there.  Unset or empty leaves the
 * clock alone.  BM_EINVAL (field "BAOMI_NOW") when malformed or not after
 * 1970-01-01T00:00:00Z (0 would mean "real clock"). */
int clock_from_env(struct bm_err *e);
/* Parses YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM:SSZ exactly (no
 * spaces, signs, offsets or leap seconds; 'T' and 'Z' upper case).  Years
 * 1900-9999, months 1-12, days within the month (leap years counted), hours
 * 0-23, minutes and seconds 0-59.  BM_EINVAL with e->field = field and a
 * message naming the part that is wrong ("month 13 ..."); the input itself
 * is not echoed, since it may not be valid UTF-8. */
int clock_parse(const char *s, const char *field, int64_t *out, struct bm_err *e);
/* Formats t as YYYY-MM-DD into out (at least 11 bytes), in UTC whatever TZ
 * says.  Instants outside years 0000-9999 are clamped to that range, so
 * INT64_MAX ("never") prints as 9999-12-31. */
void clock_fmt_date(int64_t t, char out[11]);
/* Formats t as YYYY-MM-DDTHH:MM:SSZ into out (at least 21 bytes); UTC and
 * clamped like clock_fmt_date. */
void clock_fmt_iso(int64_t t, char out[21]);
/* Parses a duration "90d", "12m" (months as 30 d), "1y" (365 d), "36h" into seconds.
 * Exactly: decimal digits then one unit letter h, d, m or y (lower case).
 * "0d" is allowed.  BM_EINVAL naming field for empty input, a sign, a
 * missing number or unit, an unknown unit, trailing text or overflow. */
int clock_parse_duration(const char *s, const char *field, int64_t *out, struct bm_err *e);
/* Midnight UTC of the proleptic Gregorian date y-m-d, by arithmetic (no
 * mktime, no TZ).  m and d are not validated; m must be 1-12. */
int64_t clock_from_civil(int y, int m, int d);
/* The UTC calendar date of instant t (any int64). */
void clock_to_civil(int64_t t, int64_t *y, int *m, int *d);

#define BM_DAY 86400

#endif
