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

/* "candidate", ...; "unknown" out of range. */
const char *state_name(int st);
/* "候选", "审查中", "上岗准备", "在岗", "暂停", "离岗中", "脱密期", "已脱密",
 * "未通过"; "未知" out of range. */
const char *state_name_zh(int st);
/* Parses a code name or a Chinese name (ASCII case and surrounding blanks
 * ignored); BM_EINVAL naming field and listing the states otherwise. */
int state_parse(const char *s, const char *field, int *out, struct bm_err *e);
/* 0 when from -> to is a legal move, else BM_ESTATE with the reason in e
 * ("cannot move from candidate to active: a candidate must be reviewed
 * first"); staying in the same state is refused too.  BM_EINVAL for a
 * state number out of range. */
int lifecycle_check(int from, int to, struct bm_err *e);
/* True exactly for active and suspended: the person holds a post (and may
 * be cleared, if every gate holds; suspended never is).  Onboarding has
 * not taken the post up yet; leaving has given it up. */
bool state_on_post(int st);
/* True exactly for leaving, decontamination and released: the person has
 * given up secret-related work.  No review is opened for them and no
 * secret-related post given; what they report is still recorded. */
bool state_has_left(int st);

#endif
