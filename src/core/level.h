/*
 * level.h - classification levels and personnel categories.
 *
 * Levels are numbers 0..3 (0 = not secret-related).  A person's category is
 * the level they handle: core = top secret (3), key = secret (2), general =
 * confidential (1).  Names are accepted in both profiles' languages and as
 * numbers, so "secret", "机密", "S" and "2" all mean level 2.  Pure; no I/O.
 */
#ifndef BM_LEVEL_H
#define BM_LEVEL_H

#include "../lib/err.h"

#include <stdbool.h>

enum {
	LEVEL_NONE = 0,
	LEVEL_CONFIDENTIAL = 1,
	LEVEL_SECRET = 2,
	LEVEL_TOP_SECRET = 3,
	LEVEL_MAX = 3,
};

/* Parses a level name or number (ASCII case and surrounding blanks
 * ignored); field names the input in errors.  BM_EINVAL lists the accepted
 * forms. */
int level_parse(const char *s, const char *field, int *out, struct bm_err *e);
/* Code name: "none", "confidential", "secret", "top_secret". */
const char *level_name(int level);
/* Chinese name: "非涉密", "秘密", "机密", "绝密". */
const char *level_name_zh(int level);
/* US profile label: "U", "C", "S", "TS". */
const char *level_name_us(int level);

/* Category = level of a person; accepts "core", "key", "general", "none",
 * "核心", "重要", "一般" and the level names and numbers. */
int category_parse(const char *s, const char *field, int *out, struct bm_err *e);
/* "none", "general", "key", "core". */
const char *category_name(int level);
/* "非涉密", "一般", "重要", "核心". */
const char *category_name_zh(int level);

/* Compartment lists are sets of codes ([A-Z0-9_-], 1..31 chars) kept as a
 * sorted (byte order), de-duplicated, comma-separated string.  Normalises s
 * into out (cap bytes) or fails naming field: each code is trimmed of
 * blanks and upper-cased; an empty or blank s gives "" (no compartments);
 * an empty code (",,", trailing comma), a long code or a bad character is
 * BM_EINVAL; BM_ETOOBIG when the result does not fit.  out may be s. */
int compartments_normalize(const char *s, const char *field, char *out, size_t cap,
			   struct bm_err *e);
/* Union of two normalised lists into out (which must not alias a or b);
 * BM_ETOOBIG when it does not fit, BM_EINVAL when a or b is not normalised.
 * out is "" on failure.  Merges; never allocates. */
int compartments_union(const char *a, const char *b, char *out, size_t cap);
/* True when every compartment of need is in have (both normalised).  A
 * list that is not normalised (unsorted, malformed) gives false: fail
 * closed.  Merges; never allocates. */
int compartments_include(const char *have, const char *need);
/* True when c (len bytes) is one compartment code as stored: 1..31 of
 * A-Z, 0-9, _ and - (what the snapshot and decision requests take). */
bool compartment_code_ok(const char *c, size_t len);
/* True when s is a normalised list (what compartments_normalize writes):
 * the store checks every stored list with it. */
bool compartments_valid(const char *s);

#endif
