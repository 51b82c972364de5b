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
/* Fixes the clock at t seconds (0 restores the real clock). */
void clock_set(int64_t t);
/* Reads BAOMI_NOW if set; returns a BM_E* code when it is malformed. */
int clock_from_env(struct bm_err *e);
/* Parses YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM:SSZ; field names the input in errors. */
int clock_parse(const char *s, const char *field, int64_t *out, struct bm_err *e);
/* Formats t as YYYY-MM-DD into out (at least 11 bytes). */
void clock_fmt_date(int64_t t, char out[11]);
/* Formats t as YYYY-MM-DDTHH:MM:SSZ into out (at least 21 bytes). */
void clock_fmt_iso(int64_t t, char out[21]);
/* Parses a duration "90d", "12m" (months as 30 d), "1y" (365 d), "36h" into seconds. */
int clock_parse_duration(const char *s, const char *field, int64_t *out, struct bm_err *e);

#define BM_DAY 86400

#endif
