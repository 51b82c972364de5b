/*
 * lifecycle.h - the states of a secret-related person and the legal moves
 * between them (DESIGN.md §2).  One transition table; every state change in
 * the service layer asks lifecycle_check first.  Pure; no I/O.
 *
 *   candidate -> reviewing -> onboarding -> active <-> suspended
 *   active|suspended|onboarding -> leaving -> decontamination -> released
 *   reviewing -> rejected;  rejected -> reviewing (a new review)
 */
#ifndef BM_LIFECYCLE_H
#define BM_LIFECYCLE_H

#include "../lib/err.h"

#include <stdbool.h>

enum person_state {
	ST_CANDIDATE = 0,
	ST_REVIEWING,
	ST_ONBOARDING,
	ST_ACTIVE,
	ST_SUSPENDED,
	ST_LEAVING,
	ST_DECONTAMINATION,
	ST_RELEASED,
	ST_REJECTED,
	ST__COUNT
};

const char *state_name(int st);      /* "candidate", ... */
const char *state_name_zh(int st);   /* "候选", ... */
int state_parse(const char *s, const char *field, int *out, struct bm_err *e);
/* 0 when from -> to is a legal move, else BM_ESTATE with the reason in e. */
int lifecycle_check(int from, int to, struct bm_err *e);
/* True when the person holds a post in this state (may be cleared). */
bool state_on_post(int st);

#endif
