/*
 * snapshot.c - the decision table: a hash index over seqlocked entries.
 *
 * Layout, chosen for a lookup of two cache misses and <= 100 bytes per person:
 *   index    open addressing, linear probing, 8-byte slots holding a 32-bit
 *            fingerprint of the id hash and the entry number; load <= 3/4.
 *            Growing builds a new index and swaps one atomic pointer; the old
 *            one is retired (kept until snapshot_free) because a reader may
 *            still be probing it.
 *   entries  64 bytes, one cache line: a sequence counter, level, reasons,
 *            valid_until, 128 compartment bits and the first 24 bytes of the
 *            id (the whole id for most employee numbers).  They live in
 *            chunks of doubling size that never move, found from the entry
 *            number with one count-leading-zeros.
 *   arena    ids longer than 24 bytes, append-only, in chunks that never move.
 *
 * Readers copy an entry between two reads of its sequence counter and retry
 * if it changed or was odd (the writer is inside its few stores): they never
 * wait on a lock and never act on a torn copy.  All shared fields are C11
 * atomics accessed relaxed inside the seqlock (Boehm, "Can seqlocks get along
 * with programming language memory models?", 2012), so the program has no
 * data race.  This module must never take a lock on the read path, allocate
 * there, or do I/O.
 */
#include "snapshot.h"

#include "../lib/mem.h"
#include "level.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define INLINE_ID 24                 /* id bytes kept in the entry */
#define MAX_CHUNKS 40
#define MAX_ENTRIES (1u << 31)
#define ARENA_BASE 12                /* first arena chunk: 4 KiB */
#define SLOT_EMPTY 0ull
#define BIG_ALLOC (1u << 21)         /* from here on, mmap + huge pages */
#define HASH_SEED 0x2d358dccaa6c78a5ull

/* meta word: level (8 bits) | idlen << 8 | live << 16 */
#define META_LIVE (1u << 16)

struct ent {
	_Atomic uint32_t seq;
	_Atomic uint32_t meta;
	_Atomic uint32_t reasons;
	_Atomic uint32_t idref;      /* arena offset of an id longer than INLINE_ID */
	_Atomic int64_t valid_until;
	_Atomic uint64_t comp[SNAP_COMP_WORDS];
	_Atomic uint64_t id[INLINE_ID / 8];
};
_Static_assert(sizeof(struct ent) == 64, "an entry is one cache line");

struct sidx {
	uint64_t mask;
	_Atomic uint32_t moving;     /* odd while remove shifts slots back */
	size_t used;                 /* filled slots; writer only */
	size_t bytes;
	_Atomic uint64_t slot[];
};

struct retired {
	struct retired *next;
	void *p;
	size_t bytes;
};

/* A lookup key: the id packed into zero-padded words and its hash. */
struct key {
	uint64_t w[(SNAP_ID_MAX + 1) / 8];
	const char *p;
	size_t len;
	uint64_t h;
};

/* A consistent copy of an entry. */
struct copy {
	uint32_t meta, reasons, idref;
	int64_t valid_until;
	uint64_t comp[SNAP_COMP_WORDS];
	uint64_t id[INLINE_ID / 8];
};

struct snapshot {
	_Atomic(struct sidx *) idx;
	struct ent *echunk[MAX_CHUNKS];  /* written once, before any slot names them */
	char *achunk[MAX_CHUNKS];
	unsigned ebase;                  /* log2 of the first entry chunk's size */
	size_t nent;                     /* entries ever handed out */
	_Atomic size_t count;            /* live entries */
	uint32_t *freel;                 /* removed entry numbers, for reuse */
	size_t nfree, capfree;
	size_t arena_used;
	size_t bytes;                    /* chunks, arena */
	struct retired *retired;
	size_t retired_bytes;
	_Atomic int ncomp;
	char comp[SNAP_COMP_MAX][32];
};

static void *big_alloc(size_t n);
static void big_free(void *p, size_t n);

/* ---- memory ---- */

/* Zeroed, 64-byte aligned memory; big blocks are mmap'd and asked for huge
 * pages, which halves the cost of a random lookup in a million entries. */
static void *big_alloc(size_t n)
{
	if (n >= BIG_ALLOC) {
		void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "baomi: out of memory (%zu bytes)\n", n);
			abort();
		}
		(void)madvise(p, n, MADV_HUGEPAGE);
		return p;
	}
	size_t r = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, r);
	if (!p) {
		fprintf(stderr, "baomi: out of memory (%zu bytes)\n", n);
		abort();
	}
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

static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* Packs id into k and hashes it.  The seed is fixed: ids are entered by
 * officers, and a probe for an unknown id cannot change the table. */
static inline void key_make(struct key *k, const char *id, size_t len)
{
	size_t nw = (len + 7) / 8;
	uint64_t h = HASH_SEED ^ (len * 0x9e3779b97f4a7c15ull);
	k->w[nw ? nw - 1 : 0] = 0;
	k->w[1] = k->w[2] = k->w[0] = 0;
	len = len < sizeof k->w ? len : sizeof k->w - 1;   /* callers check; keeps the copy in bounds */
	memcpy(k->w, id, len);
	for (size_t i = 0; i < nw; i++)
		h = (h ^ k->w[i]) * 0x9fb21c651e98df25ull, h ^= h >> 29;
	k->p = id;
	k->len = len;
	k->h = mix64(h);
}

static inline bool id_ok(const char *id, size_t len)
{
	return id && len >= 1 && len <= SNAP_ID_MAX;
}

/* ---- chunked storage ---- */

/* Item i of a geometric chunk array whose first chunk holds 2^base items:
 * chunk k holds 2^(base+k), so the chunk is a leading-zero count away. */
static inline void geo_pos(size_t i, unsigned base, unsigned *k, size_t *off)
{
	size_t j = i + ((size_t)1 << base);
	unsigned hb = 63u - (unsigned)__builtin_clzll(j);
	*k = hb - base;
	*off = j - ((size_t)1 << hb);
}

static inline const struct ent *ent_at(const struct snapshot *s, uint32_t n)
{
	unsigned k;
	size_t off;
	geo_pos(n, s->ebase, &k, &off);
	return &s->echunk[k][off];
}

/* Long ids: a pointer to the len bytes at arena offset ref. */
static inline const char *arena_at(const struct snapshot *s, uint32_t ref)
{
	unsigned k;
	size_t off;
	geo_pos(ref, ARENA_BASE, &k, &off);
	return &s->achunk[k][off];
}

/* ---- reading entries ---- */

/* Copies e consistently: retries while the writer is inside it. */
static inline void ent_read(const struct ent *e, struct copy *c)
{
	struct ent *m = (struct ent *)(uintptr_t)e;   /* atomics are only loaded */
	for (;;) {
		uint32_t s1 = atomic_load_explicit(&m->seq, memory_order_acquire);
		c->meta = atomic_load_explicit(&m->meta, memory_order_relaxed);
		c->reasons = atomic_load_explicit(&m->reasons, memory_order_relaxed);
		c->idref = atomic_load_explicit(&m->idref, memory_order_relaxed);
		c->valid_until = atomic_load_explicit(&m->valid_until, memory_order_relaxed);
		for (int i = 0; i < SNAP_COMP_WORDS; i++)
			c->comp[i] = atomic_load_explicit(&m->comp[i], memory_order_relaxed);
		for (int i = 0; i < INLINE_ID / 8; i++)
			c->id[i] = atomic_load_explicit(&m->id[i], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		uint32_t s2 = atomic_load_explicit(&m->seq, memory_order_relaxed);
		if (s1 == s2 && !(s1 & 1))
			return;
	}
}

/* True when the copy is a live entry for key k. */
static inline bool copy_matches(const struct snapshot *s, const struct copy *c,
				const struct key *k)
{
	if (!(c->meta & META_LIVE) || ((c->meta >> 8) & 0xff) != k->len)
		return false;
	if (c->id[0] != k->w[0] || c->id[1] != k->w[1] || c->id[2] != k->w[2])
		return false;
	return k->len <= INLINE_ID || memcmp(arena_at(s, c->idref), k->p, k->len) == 0;
}

/* One probe of ix for k: the slot position, or -1. */
static inline long probe(const struct snapshot *s, struct sidx *ix, const struct key *k,
			 struct copy *c)
{
	uint64_t pos = k->h & ix->mask, fp = k->h >> 32;
	for (;;) {
		uint64_t v = atomic_load_explicit(&ix->slot[pos], memory_order_acquire);
		if (v == SLOT_EMPTY)
			return -1;
		if ((v >> 32) == fp) {
			ent_read(ent_at(s, (uint32_t)v - 1), c);
			if (copy_matches(s, c, k))
				return (long)pos;
		}
		pos = (pos + 1) & ix->mask;
	}
}

/* Finds k: copies its entry into c and returns its slot position, or -1.
 * A hit is proved by the id itself; a miss is believed only if no removal
 * shifted slots meanwhile (a shifted slot could have been skipped). */
static long lookup(const struct snapshot *s, const struct key *k, struct copy *c)
{
	struct sidx *ix = atomic_load_explicit(
		&((struct snapshot *)(uintptr_t)s)->idx, memory_order_acquire);
	for (;;) {
		uint32_t m1 = atomic_load_explicit(&ix->moving, memory_order_acquire);
		long pos = probe(s, ix, k, c);
		if (pos >= 0)
			return pos;
		atomic_thread_fence(memory_order_acquire);
		if (!(m1 & 1) && atomic_load_explicit(&ix->moving, memory_order_relaxed) == m1)
			return -1;
	}
}

/* ---- writing entries (writer only) ---- */

/* Publishes new contents of e under its sequence counter. */
static void ent_write(struct ent *e, uint32_t meta, uint32_t idref, const struct snap_entry *v,
		      const uint64_t id[INLINE_ID / 8])
{
	uint32_t s0 = atomic_load_explicit(&e->seq, memory_order_relaxed);
	atomic_store_explicit(&e->seq, s0 + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&e->meta, meta, memory_order_relaxed);
	atomic_store_explicit(&e->reasons, v->reasons, memory_order_relaxed);
	atomic_store_explicit(&e->idref, idref, memory_order_relaxed);
	atomic_store_explicit(&e->valid_until, v->valid_until, memory_order_relaxed);
	for (int i = 0; i < SNAP_COMP_WORDS; i++)
		atomic_store_explicit(&e->comp[i], v->comp.w[i], memory_order_relaxed);
	for (int i = 0; i < INLINE_ID / 8; i++)
		atomic_store_explicit(&e->id[i], id[i], memory_order_relaxed);
	atomic_store_explicit(&e->seq, s0 + 2, memory_order_release);
}

/* Appends a long id to the arena (never across a chunk); returns its offset. */
static int arena_add(struct snapshot *s, const char *id, size_t len, uint32_t *ref)
{
	unsigned k1, k2;
	size_t o1, o2, at = s->arena_used;
	geo_pos(at, ARENA_BASE, &k1, &o1);
	geo_pos(at + len - 1, ARENA_BASE, &k2, &o2);
	if (k2 != k1)
		at = ((size_t)1 << (ARENA_BASE + k2)) - ((size_t)1 << ARENA_BASE), k1 = k2, o1 = 0;
	if (at + len > UINT32_MAX || k1 >= MAX_CHUNKS)
		return BM_ETOOBIG;
	if (!s->achunk[k1]) {
		s->achunk[k1] = big_alloc((size_t)1 << (ARENA_BASE + k1));
		s->bytes += (size_t)1 << (ARENA_BASE + k1);
	}
	memcpy(&s->achunk[k1][o1], id, len);
	*ref = (uint32_t)at;
	s->arena_used = at + len;
	return 0;
}

/* A free entry number: a removed one, or the next fresh one. */
static int ent_alloc(struct snapshot *s, uint32_t *n)
{
	if (s->nfree > 0) {
		*n = s->freel[--s->nfree];
		return 0;
	}
	if (s->nent >= MAX_ENTRIES)
		return BM_ETOOBIG;
	unsigned k;
	size_t off;
	geo_pos(s->nent, s->ebase, &k, &off);
	if (!s->echunk[k]) {
		size_t sz = ((size_t)1 << (s->ebase + k)) * sizeof(struct ent);
		s->echunk[k] = big_alloc(sz);
		s->bytes += sz;
	}
	*n = (uint32_t)s->nent++;
	return 0;
}

/* ---- the index (writer only) ---- */

static struct sidx *idx_new(size_t cap)
{
	size_t bytes = sizeof(struct sidx) + cap * sizeof(uint64_t);
	struct sidx *ix = big_alloc(bytes);
	ix->mask = cap - 1;
	ix->bytes = bytes;
	return ix;
}

/* Stores slot value v for hash h at the first free position of ix. */
static void idx_place(struct sidx *ix, uint64_t h, uint64_t v)
{
	uint64_t pos = h & ix->mask;
	for (;;) {
		uint64_t cur = atomic_load_explicit(&ix->slot[pos], memory_order_relaxed);
		if (cur == SLOT_EMPTY)
			break;
		pos = (pos + 1) & ix->mask;
	}
	ix->used++;
	atomic_store_explicit(&ix->slot[pos], v, memory_order_release);
}

/* The hash of entry n's id (the writer rehashes when the index grows). */
static uint64_t ent_hash(const struct snapshot *s, uint32_t n)
{
	struct copy c;
	struct key k;
	char id[SNAP_ID_MAX + 1];
	ent_read(ent_at(s, n), &c);
	size_t len = (c.meta >> 8) & 0xff;
	memcpy(id, c.id, len < INLINE_ID ? len : INLINE_ID);
	if (len > INLINE_ID)
		memcpy(id, arena_at(s, c.idref), len);
	key_make(&k, id, len);
	return k.h;
}

/* True when home lies cyclically in (i, j]: the slot at j may not move to i. */
static bool home_between(uint64_t i, uint64_t home, uint64_t j)
{
	return i <= j ? (i < home && home <= j) : (i < home || home <= j);
}

/* Empties slot pos by shifting later members of its probe run back (no
 * tombstones), inside the index's `moving` seqlock so that readers retry a
 * miss that raced with the shift. */
static void idx_delete(struct snapshot *s, struct sidx *ix, uint64_t i)
{
	uint32_t m = atomic_load_explicit(&ix->moving, memory_order_relaxed);
	atomic_store_explicit(&ix->moving, m + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (uint64_t j = (i + 1) & ix->mask;; j = (j + 1) & ix->mask) {
		uint64_t v = atomic_load_explicit(&ix->slot[j], memory_order_relaxed);
		if (v == SLOT_EMPTY)
			break;
		if (home_between(i, ent_hash(s, (uint32_t)v - 1) & ix->mask, j))
			continue;
		atomic_store_explicit(&ix->slot[i], v, memory_order_relaxed);
		i = j;
	}
	atomic_store_explicit(&ix->slot[i], SLOT_EMPTY, memory_order_relaxed);
	ix->used--;
	atomic_store_explicit(&ix->moving, m + 2, memory_order_release);
}

static size_t pow2_at_least(size_t n)
{
	size_t c = 16;
	while (c < n)
		c <<= 1;
	return c;
}

/* Makes room for one more slot: when the index would pass 3/4 full, builds
 * one twice the size, swaps it in and retires the old one.  Removal leaves
 * no tombstones, so only growth retires an index and the retired ones add
 * up to less than the current one. */
static void idx_reserve(struct snapshot *s)
{
	struct sidx *old = atomic_load_explicit(&s->idx, memory_order_relaxed);
	if ((old->used + 1) * 4 <= (old->mask + 1) * 3)
		return;
	size_t live = atomic_load_explicit(&s->count, memory_order_relaxed);
	struct sidx *ix = idx_new(pow2_at_least((live + 1) * 2));
	for (uint64_t i = 0; i <= old->mask; i++) {
		uint64_t v = atomic_load_explicit(&old->slot[i], memory_order_relaxed);
		if (v != SLOT_EMPTY)
			idx_place(ix, ent_hash(s, (uint32_t)v - 1), v);
	}
	atomic_store_explicit(&s->idx, ix, memory_order_release);
	struct retired *r = xmalloc(sizeof *r);
	*r = (struct retired){s->retired, old, old->bytes};
	s->retired = r;
	s->retired_bytes += old->bytes;
}

/* ---- public API ---- */

struct snapshot *snapshot_new(size_t expect)
{
	struct snapshot *s = xcalloc(1, sizeof *s);
	unsigned b = 6;
	while (b < 24 && ((size_t)1 << b) < expect)
		b++;
	s->ebase = b;
	size_t cap = pow2_at_least(expect + expect / 3 + 1);
	atomic_init(&s->idx, idx_new(cap));
	atomic_init(&s->count, 0);
	atomic_init(&s->ncomp, 0);
	return s;
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	struct sidx *ix = atomic_load_explicit(&s->idx, memory_order_relaxed);
	big_free(ix, ix->bytes);
	for (struct retired *r = s->retired, *next; r; r = next) {
		next = r->next;
		big_free(r->p, r->bytes);
		free(r);
	}
	for (unsigned k = 0; k < MAX_CHUNKS; k++) {
		big_free(s->echunk[k], ((size_t)1 << (s->ebase + k)) * sizeof(struct ent));
		big_free(s->achunk[k], (size_t)1 << (ARENA_BASE + k));
	}
	free(s->freel);
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
	return 0;
}

/* Stores a new entry for key k (known absent).  A long id goes to the arena
 * first, so a full entry table wastes at most those bytes. */
static int put_new(struct snapshot *s, const struct key *k, const struct snap_entry *v,
		   uint32_t meta, struct bm_err *e)
{
	uint32_t n, ref = 0;
	int rc = k->len > INLINE_ID ? arena_add(s, k->p, k->len, &ref) : 0;
	if (rc == 0)
		rc = ent_alloc(s, &n);
	if (rc < 0)
		return bm_errf(e, rc, "ext_id", "the snapshot is full");
	ent_write((struct ent *)(uintptr_t)ent_at(s, n), meta, ref, v, k->w);
	idx_reserve(s);
	struct sidx *ix = atomic_load_explicit(&s->idx, memory_order_relaxed);
	idx_place(ix, k->h, (k->h >> 32) << 32 | ((uint64_t)n + 1));
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
	if (v.level == 0)
		v.reasons |= 1u << REASON_NO_SECRET_POST;
	uint32_t meta = (uint32_t)v.level | (uint32_t)idlen << 8 | META_LIVE;
	struct key k;
	struct copy c;
	key_make(&k, ext_id, idlen);
	long pos = lookup(s, &k, &c);
	if (pos < 0)
		return put_new(s, &k, &v, meta, e);
	struct sidx *ix = atomic_load_explicit(&s->idx, memory_order_relaxed);
	uint32_t n = (uint32_t)atomic_load_explicit(&ix->slot[pos], memory_order_relaxed) - 1;
	ent_write((struct ent *)(uintptr_t)ent_at(s, n), meta, c.idref, &v, k.w);
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
	struct sidx *ix = atomic_load_explicit(&s->idx, memory_order_relaxed);
	uint32_t n = (uint32_t)atomic_load_explicit(&ix->slot[pos], memory_order_relaxed) - 1;
	idx_delete(s, ix, (uint64_t)pos);
	struct snap_entry dead = {0};
	ent_write((struct ent *)(uintptr_t)ent_at(s, n), 0, 0, &dead, c.id);
	if (s->nfree == s->capfree) {
		s->capfree = s->capfree ? s->capfree * 2 : 64;
		s->freel = xreallocarray(s->freel, s->capfree, sizeof *s->freel);
	}
	s->freel[s->nfree++] = n;
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

static bool code_ok(const char *c, size_t len)
{
	if (len < 1 || len > 31)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((c[i] >= 'A' && c[i] <= 'Z') || (c[i] >= '0' && c[i] <= '9') ||
		      c[i] == '_' || c[i] == '-'))
			return false;
	return true;
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
	if (!code_ok(c, l) || (end && !end[1]))
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

/* The decision for a found entry copy c (or an unknown person). */
static void decide_copy(const struct copy *c, bool found, const struct snap_object *obj,
			int64_t now, struct decision *out)
{
	*out = (struct decision){.allow = false};
	if (!found) {
		out->reasons = 1u << REASON_UNKNOWN_PERSON;
		return;
	}
	uint32_t r = c->reasons;
	int level = (int)(c->meta & 0xff);
	uint64_t missing = 0;
	for (int i = 0; i < SNAP_COMP_WORDS; i++)
		missing |= obj->comp.w[i] & ~c->comp[i];
	if (now >= c->valid_until)
		r |= 1u << REASON_CLEARANCE_LAPSED;
	if (level < obj->level)
		r |= 1u << REASON_LEVEL_TOO_LOW;
	if (missing || obj->comp_unknown)
		r |= 1u << REASON_NEED_TO_KNOW;
	out->allow = r == 0;
	out->reasons = r;
	out->level = level;
	out->valid_until = c->valid_until;
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

#define GROUP 16

/* Prefetches the home slots of keys k[0..n) and then the entries they
 * name, so the lookups that follow find both lines in cache. */
static void prefetch_group(const struct snapshot *s, const struct key *k, const bool *ok,
			   size_t n)
{
	struct sidx *ix = atomic_load_explicit(
		&((struct snapshot *)(uintptr_t)s)->idx, memory_order_acquire);
	for (size_t i = 0; i < n; i++)
		if (ok[i])
			__builtin_prefetch((const void *)(uintptr_t)&ix->slot[k[i].h & ix->mask]);
	for (size_t i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		uint64_t v = atomic_load_explicit(&ix->slot[k[i].h & ix->mask],
						  memory_order_relaxed);
		if (v != SLOT_EMPTY && (v >> 32) == (k[i].h >> 32))
			__builtin_prefetch((const void *)ent_at(s, (uint32_t)v - 1));
	}
}

void snapshot_decide_many(const struct snapshot *s, const struct snap_query *q, size_t n,
			  int64_t now, struct decision *out)
{
	struct key k[GROUP];
	bool ok[GROUP];
	for (size_t base = 0; base < n; base += GROUP) {
		size_t g = n - base < GROUP ? n - base : GROUP;
		for (size_t i = 0; i < g; i++) {
			const struct snap_query *qi = &q[base + i];
			ok[i] = id_ok(qi->id, qi->idlen);
			if (ok[i])
				key_make(&k[i], qi->id, qi->idlen);
		}
		prefetch_group(s, k, ok, g);
		for (size_t i = 0; i < g; i++) {
			struct copy c;
			bool found = ok[i] && lookup(s, &k[i], &c) >= 0;
			decide_copy(&c, found, q[base + i].obj, now, &out[base + i]);
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
	out->comp = *comp;
}

size_t snapshot_count(const struct snapshot *s)
{
	return atomic_load_explicit(&((struct snapshot *)(uintptr_t)s)->count,
				    memory_order_relaxed);
}

size_t snapshot_bytes(const struct snapshot *s)
{
	struct sidx *ix = atomic_load_explicit(&((struct snapshot *)(uintptr_t)s)->idx,
					       memory_order_relaxed);
	return sizeof *s + ix->bytes + s->retired_bytes + s->bytes +
	       s->capfree * sizeof *s->freel;
}
