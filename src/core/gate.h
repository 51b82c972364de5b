/*
 * gate.h - the gates of a clearance and the reasons a decision can fail.
 *
 * A gate is one requirement of a person's category (DESIGN.md §2): review
 * valid, not suspended, on post, and later training, exam, commitment.
 * Which gates a category has comes from policy (policy_category.gates).
 * gate_eval turns the facts about one person (gathered by the service from
 * the store) into one result per gate and an overall clearance status,
 * including the instant at which time alone would lapse it.
 *
 * Every way a decision can fail has one reason number (enum gate_reason),
 * one stable code, and one message in English and Chinese, so a denial can
 * be explained from a bit mask without the database (core/snapshot.h).
 *
 * Pure: no I/O, no clock (the caller passes `now`), no allocation.
 */
#ifndef BM_GATE_H
#define BM_GATE_H

#include "policy.h"

#include <stdbool.h>
#include <stdint.h>

/* Why a gate or a decision fails.  Numbers are bit positions in a reason
 * mask (uint32_t); codes are stable API strings.  Append only. */
enum gate_reason {
	REASON_UNKNOWN_PERSON = 0,   /* "unknown_person": no such person */
	REASON_NO_SECRET_POST,       /* "no_secret_post": level 0, never cleared */
	REASON_NOT_ON_POST,          /* "not_on_post": state holds no post */
	REASON_SUSPENDED,            /* "suspended" */
	REASON_REVIEW_MISSING,       /* "review_missing": no approved review */
	REASON_REVIEW_EXPIRED,       /* "review_expired": past the re-review date */
	REASON_REVIEW_LEVEL_TOO_LOW, /* "review_level_too_low": review below the post */
	REASON_GATE_UNAVAILABLE,     /* "gate_unavailable": policy names a gate with no
				      * implementation; fails closed */
	REASON_CLEARANCE_LAPSED,     /* "clearance_lapsed": now >= valid_until */
	REASON_LEVEL_TOO_LOW,        /* "level_too_low": object above the person's level */
	REASON_NEED_TO_KNOW,         /* "need_to_know": object compartment not held */
	REASON_RECORD_DAMAGED,       /* "record_damaged": the person's stored rows hold a
				      * value outside the model (edited by hand) */
	REASON__COUNT
};

/* The gates evaluated for every category, whatever its policy lists. */
#define GATE_ALWAYS ((1u << GATE_ON_POST) | (1u << GATE_REVIEW) | (1u << GATE_NOT_SUSPENDED))

#define GATE_NEVER INT64_MAX         /* valid_until of a result that never lapses */

/* What the service knows about one person, as of the last committed write.
 * Instants are Unix seconds; 0 means "none/unknown". */
struct gate_facts {
	int state;                   /* enum person_state (core/lifecycle.h) */
	int64_t state_since;         /* when the person entered `state`; 0 unknown */
	int64_t post_since;          /* start of the earliest open appointment; 0 none */
	int level;                   /* category: highest level of active posts, 0..3 */
	int64_t post_until;          /* end of the appointment giving `level`; 0 open */
	bool review;                 /* an approved review exists */
	int review_level;            /* level of the best approved review */
	int64_t review_approved_at;
	int64_t review_due;          /* re-review date recorded on the review; 0 none.
				      * It falls due at the earlier of this and
				      * approved_at plus the category's rereview_days
				      * (gate_review_due) */
	bool suspended;              /* a suspension is in force (besides the state) */
	int64_t suspended_since;
	/* Status only (the snapshot and decisions never read these): */
	int64_t created;             /* when the person's record began */
	int64_t on_post_since;       /* when the person took up a state holding a
				      * post (active, suspended); 0 unknown */
	int64_t lifted_at;           /* the latest lifting of a suspension; 0 none */
	int64_t review_rejected_at;  /* the review in force was rejected then; 0 none */
	int64_t secret_post_ended;   /* level 0: the latest end of an appointment to
				      * a secret post; 0 none */
	bool damaged;                /* the rows these facts came from are damaged:
				      * nothing above is to be believed */
};

/* The outcome of one gate.  Strings are static (never freed). */
struct gate_result {
	int kind;                    /* enum gate_kind */
	bool ok;
	int reason;                  /* enum gate_reason when !ok, else -1 */
	const char *code;            /* reason code, or "ok" */
	const char *msg_en, *msg_zh;
	int64_t since;               /* when this outcome (ok, or this code) began,
				      * as the records in force show it: the latest
				      * start of the facts it rests on (ARCHITECTURE.md
				      * "Since and valid_until"); 0 unknown */
	int64_t valid_until;         /* ok: the instant it stops holding (GATE_NEVER
				      * when time alone never lapses it); !ok: 0 */
	int64_t due;                 /* the deadline this gate tracks (re-review due),
				      * whether or not it has passed; 0 none */
};

/* The clearance status of one person at `now`. */
struct gate_status {
	struct gate_result r[GATE__COUNT]; /* one per gate evaluated, in kind order */
	int n;
	bool cleared;                /* level > 0, on post and every gate holds */
	int level;                   /* the category level (cleared at it iff cleared) */
	uint32_t reasons;            /* bit (1u << enum gate_reason) per failure */
	int64_t valid_until;         /* min valid_until of holding gates; GATE_NEVER */
	int lapse;                   /* the reason the gate lapsing at valid_until
				      * gives then (review_expired, not_on_post);
				      * REASON_CLEARANCE_LAPSED when none says */
	int64_t next_due;            /* earliest gate deadline (may be past); GATE_NEVER */
};

/* Evaluates the gates that policy lists for the person's category at `now`.
 * GATE_ALWAYS (on post, review, not suspended) is always evaluated: DESIGN.md
 * makes being on post after a review part of being cleared, and a suspended
 * person is never cleared, whatever a custom policy lists.  A listed gate without an
 * implementation fails with REASON_GATE_UNAVAILABLE.  Level 0 yields
 * REASON_NO_SECRET_POST and evaluates GATE_NOT_SUSPENDED alone (a denial
 * names a suspension too); a level out of range evaluates no gate.  Damaged
 * facts evaluate no gate either: REASON_RECORD_DAMAGED alone, never cleared. */
void gate_eval(const struct gate_facts *f, const struct policy *p, int64_t now,
	       struct gate_status *out);

/* The instant the approved review in f falls due under policy p, as the
 * review gate sees it: the recorded date or, when earlier, approval plus
 * the re-review interval of the person's category (of the review's level
 * when f->level is 0).  0 when f has no approved review; GATE_NEVER when
 * nothing makes it fall due.  The appointment check and the due list use
 * it, so they agree with the gate. */
int64_t gate_review_due(const struct gate_facts *f, const struct policy *p);

/* Since when a person of level 0 has held no secret post: the latest end
 * of an appointment to one, else the start of the record (status names it
 * for the pseudo-gate secret_post). */
int64_t gate_no_post_since(const struct gate_facts *f);

/* True when gate kind g has an evaluator here (policy validation may use it). */
bool gate_has_eval(int g);

/* Stable code of a reason ("review_expired"); "unknown" when out of range. */
const char *gate_reason_code(int r);
/* Human messages for a reason, English and Chinese (static). */
const char *gate_reason_msg_en(int r);
const char *gate_reason_msg_zh(int r);
/* The reason number of a code, or -1. */
int gate_reason_parse(const char *code);

#endif
