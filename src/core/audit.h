/*
 * audit.h - the audit event and its place in the hash chain.  Pure; no I/O.
 *
 * Each event is hashed in canonical JSON:
 *   {"action":A,"actor":B,"fields":F,"prev":"<hex>","seq":N,"subjects":S,"time":T}
 * where F is the canonical JSON object of changed fields and S the
 * canonical JSON array of subject ids (both stored verbatim), prev is the
 * previous event's hash (64 zeros for the first) and hash = SHA-256 of that
 * text.  Changing, removing, inserting or reordering any stored event breaks
 * the chain at that seq, which audit_verify_step reports.
 */
#ifndef BM_AUDIT_H
#define BM_AUDIT_H

#include "../lib/buf.h"

#include <stdint.h>

struct audit_event {
	int64_t seq;
	int64_t time_ms;
	const char *actor;
	const char *action;
	const char *subjects;   /* canonical JSON array, e.g. ["E1001"] */
	const char *fields;     /* canonical JSON object */
	uint8_t prev[32];
	uint8_t hash[32];
};

/* Appends the canonical hashed text of ev to out.  actor and action are
 * escaped with cjson_str; a NULL member is written as null. */
void audit_preimage(const struct audit_event *ev, struct buf *out);
/* Computes ev->hash from the other members; scratch is reused between calls. */
void audit_seal(struct audit_event *ev, struct buf *scratch);

enum audit_fault {
	AUDIT_OK = 0,
	AUDIT_MODIFIED,     /* stored hash does not match the content */
	AUDIT_BROKEN_LINK,  /* prev does not match the previous hash: removed, inserted or reordered */
	AUDIT_BAD_SEQ,      /* seq is not previous + 1 */
};

/* Checks ev against the previous event (prev_seq, prev_hash); returns an
 * enum audit_fault.  For the first event prev_seq is 0 and prev_hash zeros.
 * Order: the row itself first (fields and subjects each one bracketed
 * value, recomputed hash == ev->hash, else AUDIT_MODIFIED, whichever member
 * changed), then seq (AUDIT_BAD_SEQ: a deleted row shows at the next seq),
 * then prev (AUDIT_BROKEN_LINK: a re-hashed row inserted, replaced or
 * moved).  Allocates nothing once scratch has grown. */
int audit_verify_step(const struct audit_event *ev, int64_t prev_seq,
		      const uint8_t prev_hash[32], struct buf *scratch);
const char *audit_fault_name(int f);

#endif
