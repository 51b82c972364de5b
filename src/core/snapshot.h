/*
 * snapshot.h - the in-memory decision table (DESIGN.md §3: decisions never
 * touch the database).
 *
 * One entry per person, keyed by external id: the level they would be
 * cleared at, their compartments as a bit set, the instant the clearance
 * lapses with time, and a mask of the gate reasons that fail now.  A
 * decision is a hash lookup and a few comparisons.  The service calls
 * snapshot_put after each committed write that changes a person's
 * clearance; time-based lapses need no write because decisions compare
 * `now` with valid_until.
 *
 * Concurrency: ONE writer at a time (snapshot_put, snapshot_remove,
 * snapshot_comp_bits with create; the caller serialises them) and any
 * number of concurrent readers (snapshot_decide, snapshot_get,
 * snapshot_object, snapshot_count).  Readers never block and never see a
 * torn entry: each entry carries a sequence counter (a seqlock); removal
 * shifts entries inside a table-wide counter that makes a racing miss
 * retry; the table grows by building a new one and swapping an atomic
 * pointer.  A retired table gives its memory back at once but keeps its
 * address range until snapshot_free (no epoch scheme: readers pay
 * nothing); a reader still on it reads zeros and retries on the new one.
 * snapshot_new's capacity hint avoids growth for a bulk load.
 *
 * Speed: an entry and the first 24 bytes of its id share one 64-byte
 * line, and a byte per slot that stays in cache says which line to read,
 * so a decision waits on one memory access.
 *
 * Compartments: a dictionary maps codes ("ALPHA") to bit numbers, up to
 * SNAP_COMP_MAX codes.  Codes are created only by the writer when a
 * person's compartments are stored; an object naming a code nobody holds
 * is a need-to-know denial, not an error.
 *
 * Pure: no I/O and no clock (`now` is passed in).
 */
#ifndef BM_SNAPSHOT_H
#define BM_SNAPSHOT_H

#include "../lib/err.h"
#include "gate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_COMP_MAX 128            /* distinct compartment codes */
#define SNAP_COMP_WORDS (SNAP_COMP_MAX / 64)
#define SNAP_ID_MAX 63               /* bytes of an external id */

struct snapshot;

struct snap_comp {
	uint64_t w[SNAP_COMP_WORDS];
};

/* What the snapshot holds for one person. */
struct snap_entry {
	int level;                   /* category level, 0..3 (cleared at it iff
				      * reasons == 0) */
	uint32_t reasons;            /* failing gate reasons (enum gate_reason bits) */
	int64_t valid_until;         /* the clearance lapses at this instant;
				      * GATE_NEVER when time alone never lapses it */
	int lapse;                   /* the reason a decision gives from then on (the
				      * gate that lapses: review_expired...); 0 means
				      * REASON_CLEARANCE_LAPSED */
	struct snap_comp comp;
};

/* An object of a decision: its level and the compartments it needs.
 * comp_unknown is set when it names a compartment no one holds. */
struct snap_object {
	int level;
	struct snap_comp comp;
	bool comp_unknown;
};

struct decision {
	bool allow;
	uint32_t reasons;            /* every failing reason, bit (1u << gate_reason) */
	int level;                   /* the person's level (0 when unknown) */
	int64_t valid_until;         /* the person's valid_until (0 when unknown) */
};

struct reason_text {
	int reason;                  /* enum gate_reason */
	const char *code, *msg_en, *msg_zh;   /* static */
};

/* A new empty snapshot sized for about `expect` persons (0 = small).  Pass
 * the store's person count when loading at start-up: at 1M persons with
 * ids of up to 24 bytes that is 91 bytes per person (87 to 109 when it
 * grows step by step; longer ids add their length). */
struct snapshot *snapshot_new(size_t expect);
/* Frees everything, retired indexes included.  No reader may be running. */
void snapshot_free(struct snapshot *s);

/* Inserts or replaces the entry of ext_id (1..SNAP_ID_MAX bytes).  Writer
 * only.  BM_EINVAL for a bad id or level, BM_ETOOBIG past 2^31 entries. */
int snapshot_put(struct snapshot *s, const char *ext_id, size_t idlen,
		 const struct snap_entry *ent, struct bm_err *e);
/* Removes ext_id; BM_ENOTFOUND when absent.  Writer only. */
int snapshot_remove(struct snapshot *s, const char *ext_id, size_t idlen, struct bm_err *e);
/* Reads the entry of ext_id into *out; false when absent.  Any thread. */
bool snapshot_get(const struct snapshot *s, const char *ext_id, size_t idlen,
		  struct snap_entry *out);

/* Parses a comma-separated list of codes ([A-Z0-9_-], 1..31 bytes; spaces
 * around codes ignored; "" is the empty set) into bits.  With create (writer
 * only) unknown codes get new bits (BM_ETOOBIG past SNAP_COMP_MAX); without
 * it an unknown code sets *unknown (which may be NULL when create).
 * BM_EINVAL names field "compartments" for a malformed list. */
int snapshot_comp_bits(struct snapshot *s, const char *list, bool create,
		       struct snap_comp *bits, bool *unknown, struct bm_err *e);
/* Builds an object of level 0..3 needing the compartments in list.  Any
 * thread (never creates codes). */
int snapshot_object(const struct snapshot *s, int level, const char *list,
		    struct snap_object *obj, struct bm_err *e);
/* The code of compartment bit b, or NULL.  Any thread. */
const char *snapshot_comp_code(const struct snapshot *s, int b);

/* Decides whether ext_id may access obj at `now`: allow only if the person
 * is known, cleared (no failing gate, now < valid_until), their level is at
 * least the object's and they hold every compartment of it.  Every failing
 * reason is set in out->reasons.  Any thread; never blocks, never allocates. */
void snapshot_decide(const struct snapshot *s, const char *ext_id, size_t idlen,
		     const struct snap_object *obj, int64_t now, struct decision *out);

/* One decision of a batch. */
struct snap_query {
	const char *id;
	size_t idlen;
	const struct snap_object *obj;
};

/* Decides n queries like snapshot_decide, out[i] for q[i].  Faster per
 * decision on a large table: a software pipeline hashes each query and
 * fetches its slot about 30 queries ahead of deciding it, so the memory
 * latencies overlap instead of adding up: at 1M persons about four times
 * the rate of single calls (docs/PERFORMANCE.md).  Any thread; never
 * blocks or allocates. */
void snapshot_decide_many(const struct snapshot *s, const struct snap_query *q, size_t n,
			  int64_t now, struct decision *out);

/* Expands a reason mask into at most max texts, in reason order; returns
 * how many reasons the mask holds (may exceed max). */
size_t snapshot_reasons(uint32_t mask, struct reason_text *out, size_t max);
/* The entry a gate status gives with compartments comp. */
void snapshot_entry_from_status(const struct gate_status *st, const struct snap_comp *comp,
				struct snap_entry *out);

size_t snapshot_count(const struct snapshot *s);
/* Bytes held: the table, long ids, dictionary, and the headers of retired
 * tables (their pages were given back). */
size_t snapshot_bytes(const struct snapshot *s);

/* For tests: how many entries have, earlier in their probe run, another
 * entry with the same 8-bit tag, so that finding them means rejecting a
 * tag match by comparing ids.  Writer only; walks the whole table. */
size_t snapshot__tag_collisions(const struct snapshot *s);

#endif
