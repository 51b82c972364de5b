/*
 * fuzz_snapshot.c - libFuzzer target for the in-memory decision table
 * (core/snapshot.c), checked against a plain model: an array of entries
 * searched one by one.
 *
 * The input is a byte-coded sequence of operations: put (random level,
 * reasons, valid_until, lapse and compartments, invalid ones included),
 * remove, decide, decide_many (0..70 queries), get, bulk puts and removes
 * (to grow the table, fill probe runs and shift entries back), and
 * compartment codes through the dictionary.  Ids are short, exactly 24
 * bytes (the slot's inline part), longer (the arena), up to 63 bytes,
 * alike but for their last byte, or taken raw from the input (0..64 bytes).
 * After every operation the count must match and every entry of the model
 * must be decided and read back alike by both decision APIs; any
 * difference calls abort().
 */
#include "core/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define NOW 1700000000LL
#define MODEL_MAX 400
#define POOL 16
#define MANY_MAX 70

/* The input, read a byte at a time (zeros once it runs out). */
struct rd {
	const unsigned char *p;
	size_t n;
};

struct id {
	char b[SNAP_ID_MAX + 2];
	size_t len;
};

struct model_ent {
	struct id id;
	struct snap_entry v;
};

struct model {
	struct model_ent e[MODEL_MAX];
	size_t n;
	char codes[SNAP_COMP_MAX][32];
	int ncodes;
};

static struct id pool[POOL];

static unsigned u8(struct rd *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static uint64_t u64(struct rd *r)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | u8(r);
	return v;
}

static void id_set(struct id *d, const char *s, size_t len)
{
	memcpy(d->b, s, len);
	d->len = len;
}

/* Fixed ids around the slot's 24 inline bytes and the 63-byte limit. */
static void pool_init(void)
{
	static const char x[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	static const size_t lens[POOL] = {1, 2, 7, 8, 9, 16, 23, 24, 24, 25, 25, 32, 40, 62, 63, 63};

	for (int i = 0; i < POOL; i++) {
		id_set(&pool[i], x, lens[i]);
		if (i > 0 && lens[i] == lens[i - 1])   /* alike but for the last byte */
			pool[i].b[lens[i] - 1] = '!';
	}
	pool[1].b[1] = '\0';   /* a NUL inside an id is a byte like any other */
}

/* An id: from the pool, made for a bulk index, or raw from the input. */
static void id_read(struct rd *r, struct id *d)
{
	unsigned c = u8(r);

	if (c < 160) {
		*d = pool[c % POOL];
	} else if (c < 240) {
		d->len = (size_t)snprintf(d->b, sizeof d->b, c & 1 ? "b%u" :
					  "bulk-identifier-longer-than-a-slot-%u", u8(r) % 200);
	} else {
		d->len = u8(r) % (SNAP_ID_MAX + 2);
		for (size_t i = 0; i < d->len; i++)
			d->b[i] = (char)u8(r);
	}
}

static bool id_ok(const struct id *d)
{
	return d->len >= 1 && d->len <= SNAP_ID_MAX;
}

static int64_t instant(struct rd *r)
{
	static const int64_t fixed[] = {GATE_NEVER, NOW - 1, NOW, NOW + 1, 0, INT64_MIN, 1};
	unsigned c = u8(r);

	return c < 7 * 30 ? fixed[c % 7] : (int64_t)u64(r);
}

static struct snap_comp comp_read(struct rd *r)
{
	struct snap_comp c = {{0}};
	unsigned k = u8(r) % 4;

	for (unsigned i = 0; i < k; i++) {
		unsigned b = u8(r) % SNAP_COMP_MAX;
		c.w[b / 64] |= 1ull << (b % 64);
	}
	return c;
}

/* An entry, sometimes out of range (level 4 or -1, a lapse past the last
 * reason) so that put must refuse it. */
static struct snap_entry entry_read(struct rd *r)
{
	struct snap_entry v;
	unsigned c = u8(r);

	v.level = c % 6 == 5 ? -1 : (int)(c % 6);
	c = u8(r);
	v.reasons = c < 128 ? 0 : c < 250 ? 1u << (c % REASON__COUNT) : (uint32_t)u64(r);
	v.valid_until = instant(r);
	v.lapse = (int)(u8(r) % (REASON__COUNT + 1));
	v.comp = comp_read(r);
	return v;
}

static struct snap_object object_read(struct rd *r)
{
	struct snap_object o;

	o.level = (int)(u8(r) % 4);
	o.comp = comp_read(r);
	o.comp_unknown = u8(r) % 8 == 0;
	return o;
}

static struct model_ent *model_find(struct model *m, const struct id *d)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].id.len == d->len && memcmp(m->e[i].id.b, d->b, d->len) == 0)
			return &m->e[i];
	return NULL;
}

/* The decision the rules give for entry v (NULL: unknown person). */
static struct decision model_decide(const struct snap_entry *v, const struct snap_object *o,
				    int64_t now)
{
	struct decision d = {.reasons = 1u << REASON_UNKNOWN_PERSON};
	bool missing = o->comp_unknown;

	if (v == NULL)
		return d;
	for (int i = 0; i < SNAP_COMP_WORDS; i++)
		missing |= (o->comp.w[i] & ~v->comp.w[i]) != 0;
	d.reasons = v->reasons;
	if (now >= v->valid_until)
		d.reasons |= 1u << (v->lapse ? v->lapse : REASON_CLEARANCE_LAPSED);
	if (v->level < o->level)
		d.reasons |= 1u << REASON_LEVEL_TOO_LOW;
	if (missing)
		d.reasons |= 1u << REASON_NEED_TO_KNOW;
	d.allow = d.reasons == 0;
	d.level = v->level;
	d.valid_until = v->valid_until;
	return d;
}

static void same_decision(const struct decision *a, const struct decision *b)
{
	if (a->allow != b->allow || a->reasons != b->reasons || a->level != b->level ||
	    a->valid_until != b->valid_until)
		abort();
}

static void op_put(struct snapshot *s, struct model *m, const struct id *d,
		   const struct snap_entry *v)
{
	struct bm_err e = BM_ERR_INIT;
	struct model_ent *me = model_find(m, d);
	bool ok = id_ok(d) && v->level >= 0 && v->level <= 3 && v->lapse < REASON__COUNT;
	int rc;

	if (ok && me == NULL && m->n == MODEL_MAX)
		return;   /* the model is full: stay within it */
	rc = snapshot_put(s, d->b, d->len, v, &e);
	bm_err_clear(&e);
	if (rc != (ok ? 0 : BM_EINVAL))
		abort();
	if (!ok)
		return;
	if (me == NULL) {
		me = &m->e[m->n++];
		me->id = *d;
	}
	me->v = *v;
	if (v->level == 0)
		me->v.reasons |= 1u << REASON_NO_SECRET_POST;
}

static void op_remove(struct snapshot *s, struct model *m, const struct id *d)
{
	struct bm_err e = BM_ERR_INIT;
	struct model_ent *me = model_find(m, d);
	int rc = snapshot_remove(s, d->b, d->len, &e);

	bm_err_clear(&e);
	if (rc != (!id_ok(d) ? BM_EINVAL : me ? 0 : BM_ENOTFOUND))
		abort();
	if (me != NULL)
		*me = m->e[--m->n];
}

/* Reads d back; me is its model entry or NULL. */
static void get_as(const struct snapshot *s, const struct id *d, const struct model_ent *me)
{
	struct snap_entry got;

	if (snapshot_get(s, d->b, d->len, &got) != (me != NULL))
		abort();
	if (me != NULL && (got.level != me->v.level || got.reasons != me->v.reasons ||
			   got.valid_until != me->v.valid_until || got.lapse != me->v.lapse ||
			   memcmp(&got.comp, &me->v.comp, sizeof got.comp) != 0))
		abort();
}

static void op_get(const struct snapshot *s, struct model *m, const struct id *d)
{
	get_as(s, d, model_find(m, d));
}

/* Decides d alone; me is its model entry or NULL. */
static void decide_as(const struct snapshot *s, const struct id *d, const struct model_ent *me,
		      const struct snap_object *o, int64_t now)
{
	struct decision got, want = model_decide(me ? &me->v : NULL, o, now);

	snapshot_decide(s, d->b, d->len, o, now, &got);
	same_decision(&got, &want);
}

static void op_decide(const struct snapshot *s, struct model *m, const struct id *d,
		      const struct snap_object *o, int64_t now)
{
	decide_as(s, d, model_find(m, d), o, now);
}

/* n queries (0..70) over ids read from the input, against four objects. */
static void op_many(const struct snapshot *s, struct model *m, struct rd *r)
{
	struct id ids[MANY_MAX];
	struct snap_object objs[4];
	struct snap_query q[MANY_MAX + 1];
	struct decision got[MANY_MAX + 1];
	size_t n = u8(r) % (MANY_MAX + 1);
	int64_t now = instant(r);

	for (int i = 0; i < 4; i++)
		objs[i] = object_read(r);
	for (size_t i = 0; i < n; i++) {
		unsigned c = u8(r);

		if (c < 64 && m->n > 0)
			ids[i] = m->e[(c + u8(r)) % m->n].id;
		else
			id_read(r, &ids[i]);
		q[i] = (struct snap_query){ids[i].b, ids[i].len, &objs[c % 4]};
	}
	got[n].allow = true;   /* canary: nothing past n is written */
	snapshot_decide_many(s, q, n, now, got);
	if (!got[n].allow)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct model_ent *me = model_find(m, &ids[i]);
		struct decision want = model_decide(me ? &me->v : NULL, q[i].obj, now);

		same_decision(&got[i], &want);
	}
}

/* k puts or removes of bulk ids: the table grows, probe runs fill and a
 * removal shifts the entries after it back. */
static void op_bulk(struct snapshot *s, struct model *m, struct rd *r, bool put)
{
	unsigned k = u8(r) % 64, base = u8(r);
	struct snap_entry v = entry_read(r);
	struct id d;

	v.level = v.level < 0 ? 1 : v.level % 4;
	v.lapse %= REASON__COUNT;
	for (unsigned i = 0; i < k; i++) {
		d.len = (size_t)snprintf(d.b, sizeof d.b, (base + i) & 1 ? "b%u" :
					 "bulk-identifier-longer-than-a-slot-%u", (base + i) % 200);
		if (put) {
			v.valid_until = (int64_t)((uint64_t)v.valid_until + 1);   /* wraps */
			op_put(s, m, &d, &v);
		} else {
			op_remove(s, m, &d);
		}
	}
}

/* A compartment code through the dictionary: new codes take the next bit
 * until SNAP_COMP_MAX; a reader's object names it or marks it unknown. */
static void op_code(struct snapshot *s, struct model *m, struct rd *r)
{
	struct bm_err e = BM_ERR_INIT;
	struct snap_comp bits;
	struct snap_object o;
	bool create = u8(r) % 2, unknown = false;
	char code[32];
	int have = -1, rc;

	snprintf(code, sizeof code, "C%u", u8(r) % 150);
	for (int i = 0; i < m->ncodes; i++)
		if (strcmp(m->codes[i], code) == 0)
			have = i;
	rc = snapshot_comp_bits(s, code, create, &bits, &unknown, &e);
	bm_err_clear(&e);
	if (have < 0 && create && m->ncodes == SNAP_COMP_MAX) {
		if (rc != BM_ETOOBIG)
			abort();
		return;
	}
	if (rc != 0)
		abort();
	if (have < 0 && create)
		snprintf(m->codes[have = m->ncodes++], sizeof m->codes[0], "%s", code);
	if (unknown != (have < 0) || (have >= 0 && !(bits.w[have / 64] >> (have % 64) & 1)) ||
	    snapshot_object(s, 1, code, &o, &e) != 0 || o.comp_unknown != (have < 0) ||
	    (have >= 0 && strcmp(snapshot_comp_code(s, have), code) != 0))
		abort();
	bm_err_clear(&e);
}

/* After each operation: the count, and every entry read and decided alike
 * by snapshot_get, snapshot_decide and snapshot_decide_many. */
static void check_all(const struct snapshot *s, struct model *m, const struct snap_object *o,
		      int64_t now)
{
	struct snap_query q[MODEL_MAX];
	struct decision got[MODEL_MAX];

	if (snapshot_count(s) != m->n)
		abort();
	for (size_t i = 0; i < m->n; i++) {
		get_as(s, &m->e[i].id, &m->e[i]);
		decide_as(s, &m->e[i].id, &m->e[i], o, now);
		q[i] = (struct snap_query){m->e[i].id.b, m->e[i].id.len, o};
	}
	snapshot_decide_many(s, q, m->n, now, got);
	for (size_t i = 0; i < m->n; i++) {
		struct decision want = model_decide(&m->e[i].v, o, now);

		same_decision(&got[i], &want);
	}
}

static void step(struct snapshot *s, struct model *m, struct rd *r)
{
	struct snap_entry v;
	struct snap_object o;
	struct id d;
	int64_t now;

	switch (u8(r) % 9) {
	case 0: case 1:
		id_read(r, &d);
		v = entry_read(r);
		op_put(s, m, &d, &v);
		break;
	case 2:
		id_read(r, &d);
		op_remove(s, m, &d);
		break;
	case 3:
		id_read(r, &d);
		o = object_read(r);
		now = instant(r);
		op_decide(s, m, &d, &o, now);
		break;
	case 4:
		op_many(s, m, r);
		break;
	case 5:
		id_read(r, &d);
		op_get(s, m, &d);
		break;
	case 6: case 7:
		op_bulk(s, m, r, u8(r) % 3 != 0);
		break;
	default:
		op_code(s, m, r);
		break;
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct model m;
	struct rd r = {data, size};
	struct snapshot *s;
	struct snap_object o;
	unsigned expect = u8(&r);

	if (pool[0].len == 0)
		pool_init();
	m.n = 0;
	m.ncodes = 0;
	s = snapshot_new(expect < 200 ? 0 : (expect - 200) * 40);
	for (int ops = 0; r.n > 0 && ops < 300; ops++) {
		step(s, &m, &r);
		o = (struct snap_object){.level = ops % 4};
		if (ops % 5 == 0)
			o.comp.w[ops % 2] = 1ull << (ops % 64);
		check_all(s, &m, &o, ops % 3 ? NOW : GATE_NEVER - 1);
	}
	snapshot_free(s);
	return 0;
}
