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

enum {
	LEVEL_NONE = 0,
	LEVEL_CONFIDENTIAL = 1,
	LEVEL_SECRET = 2,
	LEVEL_TOP_SECRET = 3,
	LEVEL_MAX = 3,
};

/* Parses a level name or number; field names the input in errors. */
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
 * sorted, de-duplicated, comma-separated string.  Normalises s into out
 * (cap bytes) or fails naming field. */
int compartments_normalize(const char *s, const char *field, char *out, size_t cap,
			   struct bm_err *e);
/* Union of two normalised lists into out; BM_ETOOBIG when it does not fit. */
int compartments_union(const char *a, const char *b, char *out, size_t cap);
/* True when every compartment of need is in have (both normalised). */
int compartments_include(const char *have, const char *need);

#endif
