/*
 * snapshot.c - the decision table: an open-addressing table whose slots are
 * the seqlocked entries themselves, with one tag byte per slot beside them.
 *
 * Layout, chosen so that a decision waits on one line from memory and a
 * million persons take under 100 bytes each:
 *   slots  64 bytes, one cache line: a sequence counter, level, reasons,
 *          valid_until, 128 compartment bits and the first 24 bytes of the
 *          id (the whole id of most employee numbers), so the line that
 *          answers a call also proves the id.  Linear probing from a home
 *          slot chosen by multiply-shift, so the capacity need not be a
 *          power of two; load <= 3/4.
 *   tags   one byte per slot, after the slots: 0 for an empty slot, else 8
 *          bits of the id's hash.  At 1M persons they take 1.4 MB and stay
 *          in cache, so a probe reads tags and touches only the slot whose
 *          tag matches (a wrong one in 255 probes), and the home slot is
 *          prefetched while the tags are read.  Tags are compared sixteen
 *          at a time (one SSE2 compare, no branch per slot); the first
 *          sixteen are repeated after the last, so a window that starts
 *          near the end of the table reads on without wrapping.
 *   arena  ids longer than 24 bytes, append-only, in chunks that never move.
 * Tables are mmap'd with huge pages asked for from 2 MiB: on bare metal a
 * random slot then costs no page walk (on a VM whose host maps guest
 * memory in 4 KiB pages it still does; docs/PERFORMANCE.md).  Growing
 * builds a bigger table, swaps one atomic pointer and retires the old one:
 * its memory is given back at once (MADV_DONTNEED), its address range is
 * kept until snapshot_free because a reader may still be probing it.  Such
 * a reader reads zeros, which mean "empty", and a miss is believed only if
 * the table pointer did not change meanwhile.
 *
 * Readers copy a slot between two reads of its sequence counter and retry
 * if it changed or was odd (the writer is inside its few stores): they never
 * wait on a lock and never act on a torn copy.  Removal shifts the rest of
 * a probe run back (no tombstones) inside the table's `moving` counter, so
 * readers retry a miss that raced with it.  All shared fields are C11
 * atomics accessed relaxed inside the seqlocks (Boehm, "Can seqlocks get
 * along with programming language memory models?", 2012).  One read is
 * outside that model: a window of sixteen tags is loaded as one volatile
 * vector while the writer may store single tag bytes (each byte is read
 * whole on x86; the kernel's READ_ONCE relies on the same).  What it finds
 * is only where to look: the slot is then read under its seqlock and
 * proved by the id, and a miss is checked against the `moving` counter.
 * SNAPSHOT_PORTABLE (or a target without SSE2) reads the window one atomic
 * byte at a time instead; the unit tests run both.  This module must never
 * take a lock on the read path, allocate there, or do I/O.
 */
#include "snapshot.h"

#include "../lib/mem.h"
#include "level.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SSE2__) && !defined(SNAPSHOT_PORTABLE)
#define TAG_SSE2 1
#include <emmintrin.h>
#endif

#define INLINE_ID 24                 /* id bytes kept in the slot */
#define MAX_CHUNKS 40
#define MAX_ENTRIES (1u << 31)
#define MIN_SLOTS 16
#define ARENA_BASE 12                /* first arena chunk: 4 KiB */
#define BIG_ALLOC (1u << 21)         /* from here on, mmap + huge pages */
#define PAGE 4096u
#define WINDOW 16                    /* tags compared at once; also the
				      * number repeated after the last */
#define NO_SLOT UINT64_MAX
#define HASH_SEED 0x2d358dccaa6c78a5ull
/* The read path of a decision, inlined into its callers so that one call
 * is straight-line code the CPU can overlap with the next. */
#define HOT inline __attribute__((always_inline))

/* meta word: level (8 bits) | idlen << 8 | live << 16 | lapse reason << 17
 * (5 bits, 0: REASON_CLEARANCE_LAPSED) */
#define META_LIVE (1u << 16)
#define META_LAPSE_SHIFT 17
_Static_assert(REASON__COUNT <= 32, "a lapse reason fits in 5 bits");

struct ent {
	_Atomic uint32_t seq;        /* odd while written; never 0 once written */
	_Atomic uint32_t meta;
	_Atomic uint32_t reasons;
	_Atomic uint32_t idref;      /* arena offset of an id longer than INLINE_ID */
	_Atomic int64_t valid_until;
	_Atomic uint64_t comp[SNAP_COMP_WORDS];
	_Atomic uint64_t id[INLINE_ID / 8];
};
_Static_assert(sizeof(struct ent) == 64, "a slot is one cache line");

/* One table.  The header is malloc'd and outlives retirement (readers read
 * cap and moving); slots and tags share one mapping of `bytes`.  tag[cap +
 * k] repeats tag[k] for k < WINDOW. */
struct table {
	uint64_t cap;
	_Atomic uint32_t moving;     /* odd while remove shifts slots back */
	size_t bytes;
	struct ent *slot;
	_Atomic uint8_t *tag;
	struct table *older;         /* retired tables, newest first */
};

/* A lookup key: the id packed into zero-padded words and its hash. */
struct key {
	uint64_t w[(SNAP_ID_MAX + 1) / 8];
	const char *p;
	size_t len;
	uint64_t h;
};

/* A consistent copy of a slot; also the value the writer stores. */
struct copy {
	uint32_t meta, reasons, idref;
	int64_t valid_until;
	uint64_t comp[SNAP_COMP_WORDS];
	uint64_t id[INLINE_ID / 8];
};

struct snapshot {
	_Atomic(struct table *) tab;
	struct table *retired;
	size_t nretired;
	char *achunk[MAX_CHUNKS];        /* written once, before any slot names them */
	size_t arena_used, arena_bytes;
	_Atomic size_t count;            /* live entries */
	_Atomic int ncomp;
	char comp[SNAP_COMP_MAX][32];
};

static void *big_alloc(size_t n);
static void big_free(void *p, size_t n);

/* ---- memory ---- */

/* Memory exhaustion is not recoverable here: say how much and stop. */
static _Noreturn void out_of_memory(size_t n)
{
	fprintf(stderr, "baomi: out of memory (%zu bytes)\n", n);
	abort();
}

/* Zeroed anonymous pages, asked for huge pages when big: where the
 * machine backs them with huge pages, a random lookup in a million slots
 * then costs no page walk. */
static void *map_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		out_of_memory(n);
	if (n >= BIG_ALLOC)
		(void)madvise(p, n, MADV_HUGEPAGE);
	return p;
}

/* Zeroed, 64-byte aligned memory for the arena. */
static void *big_alloc(size_t n)
{
	if (n >= BIG_ALLOC)
		return map_alloc(n);
	size_t r = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, r);
	if (!p)
		out_of_memory(n);
	memset(p, 0, r);
	return p;
}

/* Releases a block from big_alloc of the same size n. */
static void big_free(void *p, size_t n)
{
	if (!p)
		return;
	if (n >= BIG_ALLOC)
		munmap(p, n);
	else
		free(p);
}

/* ---- hashing and keys ---- */

/* Murmur3's finaliser: every input bit reaches every output bit, so the
 * home (high half) and the tag (low byte) are independent. */
static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* Copies len (< 64) bytes of id into zeroed words w without a call to
 * memcpy: whole words, then the tail in 4-, 2- and 1-byte pieces. */
static inline void id_pack(uint64_t *w, const char *id, size_t len)
{
	size_t i = 0;
	uint64_t t = 0;
	unsigned char *d = (unsigned char *)&t;
	for (; i + 8 <= len; i += 8)
		memcpy(&w[i / 8], id + i, 8);
	const char *q = id + i;
	if (len & 4)
		memcpy(d, q, 4), d += 4, q += 4;
	if (len & 2)
		memcpy(d, q, 2), d += 2, q += 2;
	if (len & 1)
		*d = (unsigned char)*q;
	w[i / 8] = t;
}

/* Packs id into k and hashes it: one multiply per 8 bytes, then a
 * finaliser, so an id of up to 8 bytes maps to a distinct hash.  The seed
 * is fixed: ids are entered by officers, and a probe for an unknown id
 * cannot change the table. */
static HOT void key_make(struct key *k, const char *id, size_t len)
{
	uint64_t h = HASH_SEED ^ (len * 0x9e3779b97f4a7c15ull);
	len = len < sizeof k->w ? len : sizeof k->w - 1;   /* callers check; keeps the copy in bounds */
	k->w[0] = k->w[1] = k->w[2] = 0;
	id_pack(k->w, id, len);
	for (size_t i = 0, nw = (len + 7) / 8; i < nw; i++)
		h = (h ^ k->w[i]) * 0x9fb21c651e98df25ull;
	k->p = id;
	k->len = len;
	k->h = mix64(h);
}

/* The home slot of hash h: its high half scaled to the capacity. */
static inline uint64_t home_of(uint64_t h, uint64_t cap)
{
	return ((h >> 32) * cap) >> 32;
}

/* The tag of hash h: its low byte (independent of the home), never 0. */
static inline uint8_t tag_of(uint64_t h)
{
	uint8_t t = (uint8_t)h;
	return t ? t : 1;
}

static inline bool id_ok(const char *id, size_t len)
{
	return id && len >= 1 && len <= SNAP_ID_MAX;
}

/* Long ids: a pointer to the bytes at arena offset ref.  Chunk k holds
 * 2^(ARENA_BASE+k) bytes, so the chunk is a leading-zero count away. */
static inline const char *arena_at(const struct snapshot *s, uint32_t ref)
{
	size_t j = (size_t)ref + ((size_t)1 << ARENA_BASE);
	unsigned hb = 63u - (unsigned)__builtin_clzll(j);
	return &s->achunk[hb - ARENA_BASE][j - ((size_t)1 << hb)];
}

/* The current table.  Readers may hold it after it is retired. */
static inline struct table *tab_now(const struct snapshot *s)
{
	return atomic_load_explicit(&((struct snapshot *)(uintptr_t)s)->tab,
				    memory_order_acquire);
}

/* ---- reading slots ---- */

/* Copies e consistently: retries while the writer is inside it. */
static HOT void ent_read(struct ent *e, struct copy *c)
{
	for (;;) {
		uint32_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
		c->meta = atomic_load_explicit(&e->meta, memory_order_relaxed);
		c->reasons = atomic_load_explicit(&e->reasons, memory_order_relaxed);
		c->idref = atomic_load_explicit(&e->idref, memory_order_relaxed);
		c->valid_until = atomic_load_explicit(&e->valid_until, memory_order_relaxed);
		for (int i = 0; i < SNAP_COMP_WORDS; i++)
			c->comp[i] = atomic_load_explicit(&e->comp[i], memory_order_relaxed);
		for (int i = 0; i < INLINE_ID / 8; i++)
			c->id[i] = atomic_load_explicit(&e->id[i], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		uint32_t s2 = atomic_load_explicit(&e->seq, memory_order_relaxed);
		if (s1 == s2 && !(s1 & 1))
			return;
	}
}

/* True when the copy is a live entry for key k.  The inline words settle
 * every id of up to 24 bytes; a longer one is compared in the arena. */
static HOT bool copy_matches(const struct snapshot *s, const struct copy *c,
				const struct key *k)
{
	if (!(c->meta & META_LIVE) || ((c->meta >> 8) & 0xff) != k->len)
		return false;
	if (((c->id[0] ^ k->w[0]) | (c->id[1] ^ k->w[1]) | (c->id[2] ^ k->w[2])) != 0)
		return false;
	return k->len <= INLINE_ID || memcmp(arena_at(s, c->idref), k->p, k->len) == 0;
}

/* Which of the WINDOW tags from slot i are `want` (bit k for slot i + k)
 * and which are empty, with bit WINDOW set in *empty as a sentinel. */
static HOT void tag_window(const struct table *t, uint64_t i, uint8_t want, unsigned *match,
			   unsigned *empty)
{
#ifdef TAG_SSE2
	__m128i v = *(const volatile __m128i_u *)(const void *)(uintptr_t)&t->tag[i];
	*match = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)want)));
	*empty = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()));
#else
	*match = *empty = 0;
	for (unsigned k = 0; k < WINDOW; k++) {
		uint8_t g = atomic_load_explicit(&t->tag[i + k], memory_order_relaxed);
		*match |= (unsigned)(g == want) << k;
		*empty |= (unsigned)(g == 0) << k;
	}
#endif
	*empty |= 1u << WINDOW;
}

/* The first slot from i on whose tag is `want`, before the run ends at an
 * empty slot; NO_SLOT when the run ends first.  Usually one window. */
static HOT uint64_t tag_find(const struct table *t, uint64_t i, uint8_t want)
{
	for (uint64_t n = 0; n < t->cap; n += WINDOW) {
		unsigned match, empty;
		tag_window(t, i, want, &match, &empty);
		match &= (empty & -empty) - 1;          /* only those before the end */
		if (match) {
			uint64_t j = i + (unsigned)__builtin_ctz(match);
			return j >= t->cap ? j - t->cap : j;
		}
		if (empty != 1u << WINDOW)
			return NO_SLOT;
		i += WINDOW;
		i = i >= t->cap ? i - t->cap : i;
	}
	return NO_SLOT;
}

/* One probe of t for k: the slot position, or -1.  The home slot is
 * fetched while the tags are read: it is the answer more often than not.
 * A tag that matches a different id (one in 255) moves the search on. */
static HOT long probe(const struct snapshot *s, struct table *t, const struct key *k,
			 struct copy *c)
{
	uint64_t i = home_of(k->h, t->cap);
	uint8_t want = tag_of(k->h);
	__builtin_prefetch(&t->slot[i]);
	for (uint64_t n = 0; n < t->cap; n++) {
		uint64_t j = tag_find(t, i, want);
		if (j == NO_SLOT)
			return -1;
		ent_read(&t->slot[j], c);
		if (copy_matches(s, c, k))
			return (long)j;
		i = j + 1 == t->cap ? 0 : j + 1;
	}
	return -1;
}

/* Finds k: copies its entry into c and returns its slot position (in the
 * current table when the writer asks), or -1.  A hit is proved by the id
 * itself; a miss is believed only if no removal shifted slots and no
 * growth swapped the table meanwhile. */
static HOT long lookup(const struct snapshot *s, const struct key *k, struct copy *c)
{
	for (;;) {
		struct table *t = tab_now(s);
		uint32_t m1 = atomic_load_explicit(&t->moving, memory_order_acquire);
		long pos = probe(s, t, k, c);
		if (pos >= 0)
			return pos;
		atomic_thread_fence(memory_order_acquire);
		if (!(m1 & 1) && atomic_load_explicit(&t->moving, memory_order_relaxed) == m1 &&
		    tab_now(s) == t)
			return -1;
	}
}

/* ---- writing slots (writer only) ---- */

/* Publishes c as the new contents of e under its sequence counter, which
 * skips 0 so that a written slot never looks like a zeroed one. */
static void ent_store(struct ent *e, const struct copy *c)
{
	uint32_t s0 = atomic_load_explicit(&e->seq, memory_order_relaxed);
	uint32_t s2 = s0 + 2 ? s0 + 2 : 2;
	atomic_store_explicit(&e->seq, s0 + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&e->meta, c->meta, memory_order_relaxed);
	atomic_store_explicit(&e->reasons, c->reasons, memory_order_relaxed);
	atomic_store_explicit(&e->idref, c->idref, memory_order_relaxed);
	atomic_store_explicit(&e->valid_until, c->valid_until, memory_order_relaxed);
	for (int i = 0; i < SNAP_COMP_WORDS; i++)
		atomic_store_explicit(&e->comp[i], c->comp[i], memory_order_relaxed);
	for (int i = 0; i < INLINE_ID / 8; i++)
		atomic_store_explicit(&e->id[i], c->id[i], memory_order_relaxed);
	atomic_store_explicit(&e->seq, s2, memory_order_release);
}

/* The value stored for key k with entry v and arena offset idref. */
static void copy_make(struct copy *c, const struct key *k, const struct snap_entry *v,
		      uint32_t idref)
{
	c->meta = (uint32_t)v->level | (uint32_t)k->len << 8 | META_LIVE |
		  (uint32_t)v->lapse << META_LAPSE_SHIFT;
	c->reasons = v->reasons;
	c->idref = idref;
	c->valid_until = v->valid_until;
	memcpy(c->comp, v->comp.w, sizeof c->comp);
	memcpy(c->id, k->w, sizeof c->id);
}

/* The hash of a stored entry's id (the writer rehashes on growth and when
 * removal shifts a run back). */
static uint64_t copy_hash(const struct snapshot *s, const struct copy *c)
{
	struct key k;
	char id[SNAP_ID_MAX + 1];
	size_t len = (c->meta >> 8) & 0xff;
	memcpy(id, c->id, len < INLINE_ID ? len : INLINE_ID);
	if (len > INLINE_ID)
		memcpy(id, arena_at(s, c->idref), len);
	key_make(&k, id, len);
	return k.h;
}

/* Appends a long id to the arena (never across a chunk); returns its offset. */
static int arena_add(struct snapshot *s, const char *id, size_t len, uint32_t *ref)
{
	size_t at = s->arena_used;
	size_t j = at + ((size_t)1 << ARENA_BASE), e = j + len - 1;
	unsigned k1 = 63u - (unsigned)__builtin_clzll(j), k2 = 63u - (unsigned)__builtin_clzll(e);
	if (k2 != k1)
		at = ((size_t)1 << k2) - ((size_t)1 << ARENA_BASE), k1 = k2;
	k1 -= ARENA_BASE;
	if (at + len > UINT32_MAX || k1 >= MAX_CHUNKS)
		return BM_ETOOBIG;
	if (!s->achunk[k1]) {
		s->achunk[k1] = big_alloc((size_t)1 << (ARENA_BASE + k1));
		s->arena_bytes += (size_t)1 << (ARENA_BASE + k1);
	}
	memcpy((char *)(uintptr_t)arena_at(s, (uint32_t)at), id, len);
	*ref = (uint32_t)at;
	s->arena_used = at + len;
	return 0;
}

/* ---- tables (writer only) ---- */

/* A table of cap empty slots (all zero: tags 0, counters 0); the caller
 * owns it until it is published. */
static struct table *table_new(uint64_t cap)
{
	struct table *t = xcalloc(1, sizeof *t);
	t->cap = cap;
	t->bytes = (cap * (sizeof(struct ent) + 1) + WINDOW + PAGE - 1) & ~(size_t)(PAGE - 1);
	t->slot = map_alloc(t->bytes);
	t->tag = (_Atomic uint8_t *)(void *)(t->slot + cap);
	atomic_init(&t->moving, 0);
	return t;
}

/* Unmaps a table and frees its header.  No reader may be on it. */
static void table_free(struct table *t)
{
	munmap(t->slot, t->bytes);
	free(t);
}

/* Sets the tag of slot i, and its repeat after the last slot.  The
 * release orders it after the slot's own stores. */
static void tag_set(struct table *t, uint64_t i, uint8_t g)
{
	if (i < WINDOW)
		atomic_store_explicit(&t->tag[t->cap + i], g, memory_order_release);
	atomic_store_explicit(&t->tag[i], g, memory_order_release);
}

/* Stores c in the first empty slot of its probe run (the caller made
 * room): the slot first, then its tag, so a reader that sees the tag
 * finds the slot written. */
static void table_place(struct table *t, uint64_t h, const struct copy *c)
{
	uint64_t i = home_of(h, t->cap);
	while (atomic_load_explicit(&t->tag[i], memory_order_relaxed) != 0)
		if (++i == t->cap)
			i = 0;
	ent_store(&t->slot[i], c);
	tag_set(t, i, tag_of(h));
}

/* True when home lies cyclically in (i, j]: the slot at j may not move to i. */
static bool home_between(uint64_t i, uint64_t home, uint64_t j)
{
	return i <= j ? (i < home && home <= j) : (i < home || home <= j);
}

/* Empties slot i by shifting later members of its probe run back (no
 * tombstones), inside the table's `moving` seqlock so that readers retry a
 * miss that raced with the shift.  A slot moved is briefly in two places;
 * a reader finds either copy, both right. */
static void table_delete(struct snapshot *s, struct table *t, uint64_t i)
{
	struct copy c;
	uint32_t m = atomic_load_explicit(&t->moving, memory_order_relaxed);
	atomic_store_explicit(&t->moving, m + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (uint64_t j = i + 1 == t->cap ? 0 : i + 1;; j = j + 1 == t->cap ? 0 : j + 1) {
		uint8_t g = atomic_load_explicit(&t->tag[j], memory_order_relaxed);
		if (g == 0)
			break;
		ent_read(&t->slot[j], &c);
		if (home_between(i, home_of(copy_hash(s, &c), t->cap), j))
			continue;
		ent_store(&t->slot[i], &c);
		tag_set(t, i, g);
		i = j;
	}
	memset(&c, 0, sizeof c);
	ent_store(&t->slot[i], &c);
	tag_set(t, i, 0);
	atomic_store_explicit(&t->moving, m + 2, memory_order_release);
}

/* Slots for n entries at the growth load (3/4) with room to spare: at
 * 1M persons that is 1.4M slots of 65 bytes, 91 bytes per person. */
static uint64_t slots_for(size_t n)
{
	uint64_t cap = (uint64_t)n + (uint64_t)n * 2 / 5 + 1;
	return cap < MIN_SLOTS ? MIN_SLOTS : cap;
}

/* Makes room for one more entry: when the table would pass 3/4 full,
 * builds one at load 3/5 (so growth copies each entry a bounded number of
 * times), swaps it in, and retires the old one: its pages go back to the
 * system now, its address range at snapshot_free. */
static void table_reserve(struct snapshot *s)
{
	struct table *old = atomic_load_explicit(&s->tab, memory_order_relaxed);
	size_t live = atomic_load_explicit(&s->count, memory_order_relaxed);
	if ((live + 1) * 4 <= old->cap * 3)
		return;
	struct table *t = table_new(((uint64_t)live + 1) * 5 / 3 + 1);
	struct copy c;
	for (uint64_t i = 0; i < old->cap; i++) {
		if (atomic_load_explicit(&old->tag[i], memory_order_relaxed) == 0)
			continue;
		ent_read(&old->slot[i], &c);
		table_place(t, copy_hash(s, &c), &c);
	}
	atomic_store_explicit(&s->tab, t, memory_order_release);
	old->older = s->retired;
	s->retired = old;
	s->nretired++;
	(void)madvise(old->slot, old->bytes, MADV_DONTNEED);
}

/* ---- public API ---- */

struct snapshot *snapshot_new(size_t expect)
{
	struct snapshot *s = xcalloc(1, sizeof *s);
	atomic_init(&s->tab, table_new(slots_for(expect < MAX_ENTRIES ? expect : MAX_ENTRIES)));
	atomic_init(&s->count, 0);
	atomic_init(&s->ncomp, 0);
	return s;
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	table_free(atomic_load_explicit(&s->tab, memory_order_relaxed));
	for (struct table *t = s->retired, *next; t; t = next) {
		next = t->older;
		table_free(t);
	}
	for (unsigned k = 0; k < MAX_CHUNKS; k++)
		big_free(s->achunk[k], (size_t)1 << (ARENA_BASE + k));
	free(s);
}

/* Checks an entry a caller wants stored. */
static int entry_check(const char *id, size_t len, const struct snap_entry *v,
		       struct bm_err *e)
{
	if (!id_ok(id, len))
		return bm_errf(e, BM_EINVAL, "ext_id", "external id must be 1..%d bytes",
			       SNAP_ID_MAX);
	if (v->level < 0 || v->level > LEVEL_MAX)
		return bm_errf(e, BM_EINVAL, "level", "level %d is not 0..3", v->level);
	if (v->lapse < 0 || v->lapse >= REASON__COUNT)
		return bm_errf(e, BM_EINVAL, "lapse", "lapse reason %d is not a reason", v->lapse);
	return 0;
}

/* Stores a new entry for key k (known absent).  A long id goes to the arena
 * first, so a failure leaves the table as it was. */
static int put_new(struct snapshot *s, const struct key *k, const struct snap_entry *v,
		   struct bm_err *e)
{
	uint32_t ref = 0;
	int rc = atomic_load_explicit(&s->count, memory_order_relaxed) >= MAX_ENTRIES
			 ? BM_ETOOBIG : 0;
	if (rc == 0 && k->len > INLINE_ID)
		rc = arena_add(s, k->p, k->len, &ref);
	if (rc < 0)
		return bm_errf(e, rc, "ext_id", "the snapshot is full");
	struct copy c;
	copy_make(&c, k, v, ref);
	table_reserve(s);
	table_place(atomic_load_explicit(&s->tab, memory_order_relaxed), k->h, &c);
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	return 0;
}

int snapshot_put(struct snapshot *s, const char *ext_id, size_t idlen,
		 const struct snap_entry *ent, struct bm_err *e)
{
	int rc = entry_check(ext_id, idlen, ent, e);
	if (rc < 0)
		return rc;
	struct snap_entry v = *ent;
	/* a damaged record says so alone: it holds no post we could name */
	if (v.level == 0 && !(v.reasons & (1u << REASON_RECORD_DAMAGED)))
		v.reasons |= 1u << REASON_NO_SECRET_POST;
	struct key k;
	struct copy c;
	key_make(&k, ext_id, idlen);
	long pos = lookup(s, &k, &c);
	if (pos < 0)
		return put_new(s, &k, &v, e);
	struct table *t = atomic_load_explicit(&s->tab, memory_order_relaxed);
	copy_make(&c, &k, &v, c.idref);
	ent_store(&t->slot[pos], &c);
	return 0;
}

int snapshot_remove(struct snapshot *s, const char *ext_id, size_t idlen, struct bm_err *e)
{
	struct key k;
	struct copy c;
	if (!id_ok(ext_id, idlen))
		return bm_errf(e, BM_EINVAL, "ext_id", "external id must be 1..%d bytes",
			       SNAP_ID_MAX);
	key_make(&k, ext_id, idlen);
	long pos = lookup(s, &k, &c);
	if (pos < 0)
		return bm_errf(e, BM_ENOTFOUND, "ext_id", "no person %.*s in the snapshot",
			       (int)idlen, ext_id);
	table_delete(s, atomic_load_explicit(&s->tab, memory_order_relaxed), (uint64_t)pos);
	atomic_fetch_sub_explicit(&s->count, 1, memory_order_relaxed);
	return 0;
}

bool snapshot_get(const struct snapshot *s, const char *ext_id, size_t idlen,
		  struct snap_entry *out)
{
	struct key k;
	struct copy c;
	if (!id_ok(ext_id, idlen))
		return false;
	key_make(&k, ext_id, idlen);
	if (lookup(s, &k, &c) < 0)
		return false;
	out->level = (int)(c.meta & 0xff);
	out->reasons = c.reasons;
	out->valid_until = c.valid_until;
	out->lapse = (int)(c.meta >> META_LAPSE_SHIFT);
	memcpy(out->comp.w, c.comp, sizeof out->comp.w);
	return true;
}

/* ---- compartments ---- */

/* The bit of code (len bytes) in the dictionary, or -1.  Codes below the
 * published count are immutable, so readers compare them freely. */
static int comp_find(const struct snapshot *s, const char *code, size_t len)
{
	int n = atomic_load_explicit(&((struct snapshot *)(uintptr_t)s)->ncomp,
				     memory_order_acquire);
	for (int i = 0; i < n; i++)
		if (strncmp(s->comp[i], code, len) == 0 && s->comp[i][len] == '\0')
			return i;
	return -1;
}

/* Adds code to the dictionary (writer only; room checked) and returns its bit. */
static int comp_add(struct snapshot *s, const char *code, size_t len)
{
	int n = atomic_load_explicit(&s->ncomp, memory_order_relaxed);
	memcpy(s->comp[n], code, len);
	s->comp[n][len] = '\0';
	atomic_store_explicit(&s->ncomp, n + 1, memory_order_release);
	return n;
}

/* Reads the next code of a comma list at *p: 1 with the code (spaces
 * trimmed), 0 at the end, BM_EINVAL for a malformed code. */
static int comp_next(const char **p, const char **code, size_t *len, struct bm_err *e)
{
	if (!**p)
		return 0;
	const char *end = strchr(*p, ',');
	size_t n = end ? (size_t)(end - *p) : strlen(*p);
	const char *c = *p;
	size_t l = n;
	while (l && *c == ' ')
		c++, l--;
	while (l && c[l - 1] == ' ')
		l--;
	if (!compartment_code_ok(c, l) || (end && !end[1]))
		return bm_errf(e, BM_EINVAL, "compartments",
			       "bad compartment code \"%.*s\" (A-Z, 0-9, _ or -, 1..31)",
			       (int)(n > 40 ? 40 : n), *p);
	*code = c;
	*len = l;
	*p = end ? end + 1 : *p + n;
	return 1;
}

/* True when code appears in list before position `before`. */
static bool comp_seen(const char *list, const char *before, const char *code, size_t len)
{
	const char *c;
	size_t l;
	struct bm_err e = BM_ERR_INIT;
	while (list < before && comp_next(&list, &c, &l, &e) == 1)
		if (c < before && l == len && memcmp(c, code, len) == 0)
			return true;
	return false;
}

/* Checks the whole list and counts codes not yet in the dictionary, so a
 * list is added whole or not at all. */
static int comp_check(const struct snapshot *s, const char *list, int *fresh,
		      struct bm_err *e)
{
	const char *p = list, *c;
	size_t len;
	int rc;
	*fresh = 0;
	while ((rc = comp_next(&p, &c, &len, e)) == 1)
		if (comp_find(s, c, len) < 0 && !comp_seen(list, c, c, len))
			(*fresh)++;
	return rc;
}

/* Parses list into bits; creator, when not NULL, is the writer's own
 * handle and adds unknown codes. */
static int comp_parse(const struct snapshot *s, struct snapshot *creator, const char *list,
		      struct snap_comp *bits, bool *unknown, struct bm_err *e)
{
	const char *p = list, *c;
	size_t len;
	int fresh, rc;
	memset(bits, 0, sizeof *bits);
	if (unknown)
		*unknown = false;
	if (!list)
		return bm_errf(e, BM_EINVAL, "compartments", "missing compartment list");
	if ((rc = comp_check(s, list, &fresh, e)) < 0)
		return rc;
	if (creator && fresh > SNAP_COMP_MAX - atomic_load(&creator->ncomp))
		return bm_errf(e, BM_ETOOBIG, "compartments",
			       "more than %d distinct compartments", SNAP_COMP_MAX);
	while (comp_next(&p, &c, &len, e) == 1) {
		int b = comp_find(s, c, len);
		if (b < 0 && creator)
			b = comp_add(creator, c, len);
		if (b >= 0)
			bits->w[b / 64] |= 1ull << (b % 64);
		else if (unknown)
			*unknown = true;
	}
	return 0;
}

int snapshot_comp_bits(struct snapshot *s, const char *list, bool create,
		       struct snap_comp *bits, bool *unknown, struct bm_err *e)
{
	return comp_parse(s, create ? s : NULL, list, bits, unknown, e);
}

int snapshot_object(const struct snapshot *s, int level, const char *list,
		    struct snap_object *obj, struct bm_err *e)
{
	memset(obj, 0, sizeof *obj);
	if (level < 0 || level > LEVEL_MAX)
		return bm_errf(e, BM_EINVAL, "level", "object level %d is not 0..3", level);
	obj->level = level;
	return comp_parse(s, NULL, list, &obj->comp, &obj->comp_unknown, e);
}

const char *snapshot_comp_code(const struct snapshot *s, int b)
{
	int n = atomic_load_explicit(&((struct snapshot *)(uintptr_t)s)->ncomp,
				     memory_order_acquire);
	return b >= 0 && b < n ? s->comp[b] : NULL;
}

/* ---- decisions ---- */

/* The decision for a found entry copy c (or an unknown person), without
 * branches on the entry: they would be mispredicted at random and stall
 * the next call's lookup behind this one. */
static HOT void decide_copy(const struct copy *c, bool found, const struct snap_object *obj,
			    int64_t now, struct decision *out)
{
	if (!found) {
		*out = (struct decision){.reasons = 1u << REASON_UNKNOWN_PERSON};
		return;
	}
	int level = (int)(c->meta & 0xff);
	uint32_t lapse = c->meta >> META_LAPSE_SHIFT;
	lapse = lapse ? lapse : REASON_CLEARANCE_LAPSED;
	uint64_t missing = 0;
	for (int i = 0; i < SNAP_COMP_WORDS; i++)
		missing |= obj->comp.w[i] & ~c->comp[i];
	/* A damaged record's level and compartments cannot be believed, so
	 * nothing measured against them is a reason: record_damaged says it
	 * alone.  A mask, not a branch, on the hot path. */
	uint32_t believed = ((c->reasons >> REASON_RECORD_DAMAGED) & 1u) - 1u;
	uint32_t measured = (uint32_t)(now >= c->valid_until) << lapse |
			    (uint32_t)(level < obj->level) << REASON_LEVEL_TOO_LOW |
			    (uint32_t)((missing | (uint64_t)obj->comp_unknown) != 0)
				    << REASON_NEED_TO_KNOW;
	uint32_t r = c->reasons | (measured & believed);
	*out = (struct decision){.allow = r == 0, .reasons = r, .level = level,
				 .valid_until = c->valid_until};
}

void snapshot_decide(const struct snapshot *s, const char *ext_id, size_t idlen,
		     const struct snap_object *obj, int64_t now, struct decision *out)
{
	struct key k;
	struct copy c;
	bool found = false;
	if (id_ok(ext_id, idlen)) {
		key_make(&k, ext_id, idlen);
		found = lookup(s, &k, &c) >= 0;
	}
	decide_copy(&c, found, obj, now, out);
}

/* The batch path is a three-stage software pipeline over the queries, so
 * that the memory accesses of many lookups are in flight at once instead
 * of one or two:
 *   stage 1 (query i):                  hash it, prefetch its tag;
 *   stage 2 (query i - PIPE_TAG):       its tag line is in: find the slot
 *                                       its tag names, prefetch that line;
 *   stage 3 (query i - PIPE_DEPTH + 1): decide it, its line in cache.
 * Only the slot the tag names is fetched, not the home slot as well: a
 * third of lookups at load 0.7 end elsewhere, and a wasted line costs
 * bandwidth the others need (measured: 35 -> 38 M/s at 1M persons).
 * Stage 2's slot is a hint: stage 3 accepts it only when it holds a live
 * entry with the very id, and falls back to the full lookup of
 * snapshot_decide otherwise, so a writer racing the pipeline costs a cache
 * miss, never a wrong answer. */
#define PIPE_DEPTH 32                /* a power of two: the ring's size */
#define PIPE_TAG 8

struct pipe_slot {
	struct key k;
	bool ok;
	uint64_t home;
	uint64_t cand;               /* the slot stage 2 found, or NO_SLOT */
};

/* Stage 1 for query q into ring slot p. */
static HOT void pipe_start(const struct table *t, const struct snap_query *q,
			   struct pipe_slot *p)
{
	p->ok = id_ok(q->id, q->idlen);
	if (!p->ok)
		return;
	key_make(&p->k, q->id, q->idlen);
	p->home = home_of(p->k.h, t->cap);
	__builtin_prefetch((const void *)(uintptr_t)&t->tag[p->home]);
}

/* Stage 2: the first slot from home whose tag matches, if any, and a
 * prefetch of it (of home when there is none: one line wasted on an
 * unknown id buys a prefetch without a branch on the outcome). */
static HOT void pipe_tag(const struct table *t, struct pipe_slot *p)
{
	p->cand = NO_SLOT;
	if (!p->ok)
		return;
	p->cand = tag_find(t, p->home, tag_of(p->k.h));
	__builtin_prefetch(&t->slot[p->cand == NO_SLOT ? p->home : p->cand]);
}

/* Stage 3: the entry of p's key into c, or false.  The slot stage 2 found
 * is tried first: a live entry holding the very id is the person's
 * (proved by the id, whatever moved since); anything else, a miss
 * included, takes the full lookup. */
static HOT bool pipe_find(const struct snapshot *s, const struct table *t,
			  const struct pipe_slot *p, struct copy *c)
{
	if (!p->ok)
		return false;
	if (p->cand != NO_SLOT) {
		ent_read(&t->slot[p->cand], c);
		if (copy_matches(s, c, &p->k))
			return true;
	}
	return lookup(s, &p->k, c) >= 0;
}

/* Stage 3 for query d of q, whose ring slot is p. */
static HOT void pipe_decide(const struct snapshot *s, const struct table *t,
			    const struct pipe_slot *p, const struct snap_query *q, int64_t now,
			    struct decision *out)
{
	struct copy c;
	bool found = pipe_find(s, t, p, &c);
	decide_copy(&c, found, q->obj, now, out);
}

void snapshot_decide_many(const struct snapshot *s, const struct snap_query *q, size_t n,
			  int64_t now, struct decision *out)
{
	struct pipe_slot ring[PIPE_DEPTH];
	const struct table *t = tab_now(s);
	/* Pass i starts query i, finds the slot of query i - PIPE_TAG and
	 * decides query i - (PIPE_DEPTH - 1), whose ring slot query i + 1
	 * takes next.  The passes where all three stages run have a loop
	 * of their own, without a test per stage: at 261 instructions a
	 * decision, the tests were one in six. */
	size_t i = 0, fill = n < PIPE_DEPTH - 1 ? n : PIPE_DEPTH - 1;
	for (; i < fill; i++) {
		pipe_start(t, &q[i], &ring[i % PIPE_DEPTH]);
		if (i >= PIPE_TAG)
			pipe_tag(t, &ring[(i - PIPE_TAG) % PIPE_DEPTH]);
	}
	for (; i < n; i++) {
		size_t d = i - (PIPE_DEPTH - 1);
		pipe_start(t, &q[i], &ring[i % PIPE_DEPTH]);
		pipe_tag(t, &ring[(i - PIPE_TAG) % PIPE_DEPTH]);
		pipe_decide(s, t, &ring[d % PIPE_DEPTH], &q[d], now, &out[d]);
	}
	for (; i < n + PIPE_DEPTH - 1; i++) {
		if (i >= PIPE_TAG && i - PIPE_TAG < n)
			pipe_tag(t, &ring[(i - PIPE_TAG) % PIPE_DEPTH]);
		if (i >= PIPE_DEPTH - 1) {
			size_t d = i - (PIPE_DEPTH - 1);
			pipe_decide(s, t, &ring[d % PIPE_DEPTH], &q[d], now, &out[d]);
		}
	}
}

size_t snapshot_reasons(uint32_t mask, struct reason_text *out, size_t max)
{
	size_t n = 0;
	for (int r = 0; r < REASON__COUNT; r++) {
		if (!(mask & (1u << r)))
			continue;
		if (n < max)
			out[n] = (struct reason_text){r, gate_reason_code(r), gate_reason_msg_en(r),
						      gate_reason_msg_zh(r)};
		n++;
	}
	return n;
}

void snapshot_entry_from_status(const struct gate_status *st, const struct snap_comp *comp,
				struct snap_entry *out)
{
	out->level = st->level;
	out->reasons = st->reasons;
	out->valid_until = st->valid_until;
	out->lapse = st->lapse == REASON_CLEARANCE_LAPSED ? 0 : st->lapse;
	out->comp = *comp;
}

size_t snapshot_count(const struct snapshot *s)
{
	return atomic_load_explicit(&((struct snapshot *)(uintptr_t)s)->count,
				    memory_order_relaxed);
}

size_t snapshot__tag_collisions(const struct snapshot *s)
{
	struct table *t = tab_now(s);
	struct copy c;
	size_t n = 0;
	for (uint64_t i = 0; i < t->cap; i++) {
		uint8_t g = atomic_load_explicit(&t->tag[i], memory_order_relaxed);
		if (g == 0)
			continue;
		ent_read(&t->slot[i], &c);
		for (uint64_t j = home_of(copy_hash(s, &c), t->cap); j != i;
		     j = j + 1 == t->cap ? 0 : j + 1)
			if (atomic_load_explicit(&t->tag[j], memory_order_relaxed) == g) {
				n++;
				break;
			}
	}
	return n;
}

/* Retired tables count their headers only: their pages were given back. */
size_t snapshot_bytes(const struct snapshot *s)
{
	return sizeof *s + tab_now(s)->bytes + (1 + s->nretired) * sizeof(struct table) +
	       s->arena_bytes;
}
