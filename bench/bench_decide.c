/*
 * bench_decide.c - how fast and how small the decision snapshot is.
 *
 * Loads N synthetic persons (fixed seed; a realistic mix of levels,
 * compartments, failing gates and lapsed clearances) into a snapshot for
 * each data set (1,000,000 and 1,000 persons), then decides on one thread
 * over random persons (1 % unknown) and objects, calling snapshot_decide
 * once per decision.  The calls are independent (none reads another's
 * result), as a server thread's requests are, so the CPU may overlap one
 * call's memory wait with the next call; nothing is batched.  The data
 * sets take turns, ROUNDS rounds of ~1 s each, so that both see the same
 * machine load, and each reports its best round.  Prints one JSON line per
 * data set:
 *   decisions_per_s  best round of the untimed-inside throughput loop
 *                    (decisions_per_s_rounds: every round);
 *   p50_ns, p99_ns   per decision, each call timed alone with
 *                    clock_gettime, minus the timer's own median cost;
 *   batch64_p99_ns   99th percentile of the mean of 64-call batches;
 *   bytes_per_person snapshot_bytes / count;  load_s  time to put N entries.
 * and one line for the batch API (snapshot_decide_many, BATCH queries per
 * call, measured in the same alternating rounds):
 *   {"bench":"decide_many",..,"decisions_per_s":..,"call_p50_ns":..,"call_p99_ns":..}
 *   where a call's time is the latest any of its decisions is answered;
 * then, per API, one line comparing the two data sets with the issue's
 * targets (>= 5 M/s and p99 <= 2 us at 1M persons, within 10 % of the 1k
 * rate):
 *   {"bench":"decide_targets","api":"single"|"batch","per_s_large":..,"ratio":..,...}
 * Last, the machine's own cliff, for reference in the same run: independent
 * random 8-byte reads in a buffer the size of each set's snapshot, in a
 * loop with almost no work besides the read:
 *   {"bench":"memory_reference","bytes":..,"reads_per_s":..}
 *   {"bench":"memory_reference_ratio","ratio":..}   large / small
 * and what address translation alone costs (translation_reference):
 *   {"bench":"translation_reference","packed_ns":..,"spread_ns":..,"ratio":..}
 *   (ratio: spread reads per second / packed reads per second)
 * and the batch pipeline's memory pattern with filler work in place of the
 * decisions, in tables the size of each set's (pipeline_reference):
 *   {"bench":"pipeline_reference","filler":"none"|"serial"|"wide",
 *    "large_ns":..,"small_ns":..,"gap_ns":..,"ratio":..}
 * and the core's clock from a chain of dependent adds:
 *   {"bench":"clock_reference","ghz":..}
 * With --count WHAT it runs one workload once and prints only how many
 * queries, {"bench":"count_run","what":..,"queries":..}, for
 * bench/walk_model.sh to count its instructions under valgrind.
 * With --out DIR it also writes the persons and queries as text for the
 * reference engines (bench/ref/decide_ref.mjs).  Must never be linked into
 * baomi itself.
 */
#include "core/snapshot.h"
#include "lib/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#define NOW 1767225600LL                 /* 2026-01-01 */
#define NCODES 48
#define NOBJ 1024
#define NQUERY (1u << 20)
#define RUN_NS 1000000000LL             /* one throughput round */
#define ROUNDS 3
#define MAX_SETS 2
#define BATCH 32                         /* queries per snapshot_decide_many call */
#define PAGE_BYTES 4096u
#define SAMPLE 20000                     /* queries whose allow ratio all engines print */

struct person {
	char id[16];
	struct snap_entry e;
	char comps[96];
};

/* Ids are copied into the query, as a server has them in its request
 * buffer: the benchmark must not add a cache miss of its own. */
struct query {
	char id[16];
	uint32_t len;
	uint32_t obj;
};

struct object {
	struct snap_object o;
	char comps[64];
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int64_t ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* A comma list of k distinct random codes from the pool, written to out. */
static void pick_codes(int k, char *out, size_t cap)
{
	uint64_t used = 0;
	out[0] = '\0';
	for (int i = 0; i < k; i++) {
		int c;
		do
			c = (int)(rnd() % NCODES);
		while (used & (1ull << c));
		used |= 1ull << c;
		size_t n = strlen(out);
		snprintf(out + n, cap - n, "%sP%02d", n ? "," : "", c);
	}
}

/* Person i: 10 % level 0, 45 % general, 30 % key, 15 % core; 0-4
 * compartments; ~8 % failing a gate; ~1 % lapsed by time. */
static void make_person(struct person *p, size_t i)
{
	uint64_t r = rnd() % 100;
	snprintf(p->id, sizeof p->id, "E%07u", (unsigned)(i % 100000000u));
	p->e.level = r < 10 ? 0 : r < 55 ? 1 : r < 85 ? 2 : 3;
	r = rnd() % 100;
	p->e.reasons = r < 4 ? 1u << REASON_REVIEW_EXPIRED
		       : r < 5 ? 1u << REASON_SUSPENDED
		       : r < 8 ? 1u << REASON_NOT_ON_POST : 0;
	p->e.valid_until = rnd() % 100 == 0 ? NOW - 86400 : NOW + (int64_t)(rnd() % (5 * 365)) * 86400;
	pick_codes((int)(rnd() % 5), p->comps, sizeof p->comps);
}

static void make_object(struct object *o)
{
	uint64_t r = rnd() % 100;
	o->o.level = r < 40 ? 1 : r < 80 ? 2 : 3;
	pick_codes((int)(rnd() % 3), o->comps, sizeof o->comps);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The allow ratio over the first SAMPLE queries, to compare with the
 * reference engines' answers on the same queries. */
static double sample_ratio(const struct snapshot *s, const struct query *q,
			  const struct object *obj)
{
	struct decision d;
	long allow = 0;
	for (uint32_t i = 0; i < SAMPLE; i++) {
		snapshot_decide(s, q[i].id, q[i].len, &obj[q[i].obj].o, NOW, &d);
		allow += d.allow;
	}
	return (double)allow / SAMPLE;
}

/* Decides over the queries for RUN_NS; returns decisions per second. */
static double throughput(const struct snapshot *s, const struct query *q,
			 const struct object *obj, long *allows, long *total)
{
	struct decision d;
	long n = 0, allow = 0;
	int64_t t0 = ns(), t1;
	do {
		for (uint32_t i = 0; i < NQUERY; i++) {
			snapshot_decide(s, q[i].id, q[i].len, &obj[q[i].obj].o, NOW, &d);
			allow += d.allow;
		}
		n += NQUERY;
		t1 = ns();
	} while (t1 - t0 < RUN_NS);
	*allows = allow;
	*total = n;
	return (double)n * 1e9 / (double)(t1 - t0);
}

/* Times each call alone; lat gets the corrected ns of NQUERY calls. */
static void latency(const struct snapshot *s, const struct query *q, const struct object *obj,
		    int64_t *lat, int64_t *batch, int64_t *timer)
{
	struct decision d;
	for (uint32_t i = 0; i < NQUERY; i++) {
		int64_t a = ns(), b = ns();
		lat[i] = b - a;
	}
	qsort(lat, NQUERY, sizeof *lat, cmp64);
	*timer = lat[NQUERY / 2];
	for (uint32_t i = 0; i < NQUERY; i++) {
		int64_t a = ns();
		snapshot_decide(s, q[i].id, q[i].len, &obj[q[i].obj].o, NOW, &d);
		lat[i] = ns() - a - *timer;
	}
	qsort(lat, NQUERY, sizeof *lat, cmp64);
	for (uint32_t i = 0; i < NQUERY / 64; i++) {
		int64_t a = ns();
		for (uint32_t j = i * 64; j < i * 64 + 64; j++)
			snapshot_decide(s, q[j].id, q[j].len, &obj[q[j].obj].o, NOW, &d);
		batch[i] = (ns() - a) / 64;
	}
	qsort(batch, NQUERY / 64, sizeof *batch, cmp64);
}

/* The batch API: calls of BATCH queries for RUN_NS; returns decisions per
 * second and fills per[] with the time of each call (sorted): every
 * decision of a call is answered within it. */
static double throughput_many(const struct snapshot *s, const struct snap_query *sq,
			      int64_t *per, size_t *nper)
{
	struct decision d[BATCH];
	long n = 0;
	size_t np = 0;
	int64_t t0 = ns(), t1;
	do {
		for (uint32_t i = 0; i < NQUERY; i += BATCH) {
			int64_t a = ns();
			snapshot_decide_many(s, &sq[i], BATCH, NOW, d);
			if (np < NQUERY / BATCH)
				per[np++] = ns() - a;
		}
		n += NQUERY;
		t1 = ns();
	} while (t1 - t0 < RUN_NS);
	qsort(per, np, sizeof *per, cmp64);
	*nper = np;
	return (double)n * 1e9 / (double)(t1 - t0);
}

/* Writes persons and queries for the reference engines. */
static void write_data(const char *dir, size_t n, const struct person *p,
		       const struct query *q, const struct object *obj)
{
	char path[512];
	snprintf(path, sizeof path, "%s/decide_%zu.txt", dir, n);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "now %lld persons %zu objects %d queries %u\n", NOW, n, NOBJ, NQUERY);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %d %u %lld %s\n", p[i].id, p[i].e.level, p[i].e.reasons,
			(long long)p[i].e.valid_until, p[i].comps[0] ? p[i].comps : "-");
	for (int i = 0; i < NOBJ; i++)
		fprintf(f, "%d %s\n", obj[i].o.level, obj[i].comps[0] ? obj[i].comps : "-");
	for (uint32_t i = 0; i < NQUERY; i++)
		fprintf(f, "%.*s %u\n", (int)q[i].len, q[i].id, q[i].obj);
	fclose(f);
}

/* One data set: persons, objects, queries and the snapshot holding them. */
struct dataset {
	size_t n;
	struct person *p;
	struct object *obj;
	struct query *q;
	struct snapshot *s;
	struct snap_query *sq;           /* the queries for the batch API */
	double load_s, best, rounds[ROUNDS];
	double best_many, rounds_many[ROUNDS];
	int64_t p99_ns;                  /* single call, timed alone */
	int64_t call_p50_ns, call_p99_ns; /* batch call of BATCH, best round's */
	long allows, total;
};

/* Builds the data set of n persons (fixed seed) and loads the snapshot. */
static void build(struct dataset *ds, size_t n)
{
	struct bm_err e = BM_ERR_INIT;
	*ds = (struct dataset){.n = n, .p = xcalloc(n, sizeof *ds->p),
			       .obj = xcalloc(NOBJ, sizeof *ds->obj),
			       .q = xcalloc(NQUERY, sizeof *ds->q), .s = snapshot_new(n)};
	rng_state = 20260101u + n;
	for (size_t i = 0; i < n; i++) {
		make_person(&ds->p[i], i);
		if (snapshot_comp_bits(ds->s, ds->p[i].comps, true, &ds->p[i].e.comp, NULL, &e) < 0)
			exit(1);
	}
	int64_t t0 = ns();
	for (size_t i = 0; i < n; i++)
		if (snapshot_put(ds->s, ds->p[i].id, strlen(ds->p[i].id), &ds->p[i].e, &e) < 0)
			exit(1);
	ds->load_s = (double)(ns() - t0) / 1e9;
	for (int i = 0; i < NOBJ; i++) {
		make_object(&ds->obj[i]);
		snapshot_object(ds->s, ds->obj[i].o.level, ds->obj[i].comps, &ds->obj[i].o, &e);
	}
	for (uint32_t i = 0; i < NQUERY; i++) {
		struct query *q = &ds->q[i];
		q->obj = (uint32_t)(rnd() % NOBJ);
		if (rnd() % 100 == 0)
			snprintf(q->id, sizeof q->id, "X%07u", (unsigned)(rnd() % 10000000));
		else
			memcpy(q->id, ds->p[rnd() % n].id, sizeof q->id);
		q->len = (uint32_t)strlen(q->id);
	}
	ds->sq = xcalloc(NQUERY, sizeof *ds->sq);
	for (uint32_t i = 0; i < NQUERY; i++)
		ds->sq[i] = (struct snap_query){ds->q[i].id, ds->q[i].len, &ds->obj[ds->q[i].obj].o};
}

/* Measures latency and the batch API and prints the data set's lines. */
static void report(struct dataset *ds)
{
	int64_t *lat = xcalloc(NQUERY, sizeof *lat), *batch = xcalloc(NQUERY / 64, sizeof *batch);
	int64_t timer;
	latency(ds->s, ds->q, ds->obj, lat, batch, &timer);
	ds->p99_ns = lat[NQUERY / 100 * 99];
	printf("{\"bench\":\"decide\",\"persons\":%zu,\"decisions_per_s\":%.0f,"
	       "\"decisions_per_s_rounds\":[%.0f,%.0f,%.0f],"
	       "\"p50_ns\":%lld,\"p99_ns\":%lld,\"p999_ns\":%lld,\"batch64_p50_ns\":%lld,"
	       "\"batch64_p99_ns\":%lld,\"timer_ns\":%lld,\"bytes_per_person\":%.1f,"
	       "\"load_s\":%.3f,\"allow_ratio\":%.3f,\"allow_ratio_sample\":%.4f}\n",
	       ds->n, ds->best, ds->rounds[0], ds->rounds[1], ds->rounds[2],
	       (long long)lat[NQUERY / 2], (long long)lat[NQUERY / 100 * 99],
	       (long long)lat[NQUERY / 1000 * 999], (long long)batch[NQUERY / 128],
	       (long long)batch[NQUERY / 64 / 100 * 99], (long long)timer,
	       (double)snapshot_bytes(ds->s) / (double)snapshot_count(ds->s), ds->load_s,
	       (double)ds->allows / (double)ds->total, sample_ratio(ds->s, ds->q, ds->obj));
	printf("{\"bench\":\"decide_many\",\"persons\":%zu,\"batch\":%d,"
	       "\"decisions_per_s\":%.0f,\"decisions_per_s_rounds\":[%.0f,%.0f,%.0f],"
	       "\"call_p50_ns\":%lld,\"call_p99_ns\":%lld}\n",
	       ds->n, BATCH, ds->best_many, ds->rounds_many[0], ds->rounds_many[1],
	       ds->rounds_many[2], (long long)ds->call_p50_ns, (long long)ds->call_p99_ns);
	fflush(stdout);
	free(lat), free(batch);
}

static void dataset_free(struct dataset *ds)
{
	snapshot_free(ds->s);
	free(ds->q), free(ds->obj), free(ds->p), free(ds->sq);
}

/* Prints the targets line of one API: >= 5 M/s and p99 <= 2 us at the
 * large set, and the large set's rate within 10 % of the small set's. */
static void target_line(const char *api, size_t nbig, size_t nsmall, double big, double small,
			int64_t p99)
{
	double ratio = big / small;
	printf("{\"bench\":\"decide_targets\",\"api\":\"%s\",\"persons\":[%zu,%zu],"
	       "\"per_s_large\":%.0f,\"per_s_small\":%.0f,\"ratio\":%.3f,\"p99_ns_large\":%lld,"
	       "\"met_5m_per_s\":%s,\"met_p99_2us\":%s,\"met_within_10pct\":%s}\n",
	       api, nbig, nsmall, big, small, ratio, (long long)p99, big >= 5e6 ? "true" : "false",
	       p99 <= 2000 ? "true" : "false", ratio >= 0.9 ? "true" : "false");
}

/* The targets, from the first (large) and second (small) set: for
 * single calls (p99 of one call) and for the batch API (p99 of a whole
 * call of BATCH decisions, the latest any of them is answered). */
static void targets(const struct dataset *big, const struct dataset *small)
{
	target_line("single", big->n, small->n, big->best, small->best, big->p99_ns);
	target_line("batch", big->n, small->n, big->best_many, small->best_many,
		    big->call_p99_ns);
}

/* One round of both APIs on set ds; the batch API's call times are kept
 * from its best round. */
static void round_of(struct dataset *ds, int r, int64_t *calls)
{
	size_t np;
	double rate = throughput(ds->s, ds->q, ds->obj, &ds->allows, &ds->total);
	ds->rounds[r] = rate;
	ds->best = rate > ds->best ? rate : ds->best;
	rate = throughput_many(ds->s, ds->sq, calls, &np);
	ds->rounds_many[r] = rate;
	if (rate > ds->best_many) {
		ds->best_many = rate;
		ds->call_p50_ns = calls[np / 2];
		ds->call_p99_ns = calls[np / 100 * 99];
	}
}

/* Random reads per second: n reads spaced `stride` bytes apart in one
 * mapping (huge pages asked for, as the snapshot's table gets), the hash
 * of a counter picking each, the sum keeping them alive.  Best of ROUNDS
 * rounds of ~1 s. */
static volatile uint64_t sink;

static double random_reads(size_t n, size_t stride)
{
	size_t bytes = n * stride;
	char *b = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double best = 0;
	uint64_t sum = 0;

	if (b == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	(void)madvise(b, bytes, MADV_HUGEPAGE);
	for (size_t i = 0; i < n; i++)
		*(uint64_t *)(b + i * stride) = i;
	for (int r = 0; r < ROUNDS; r++) {
		long done = 0;
		int64_t t0 = ns(), t1;
		do {
			for (uint64_t i = 0; i < NQUERY; i++) {
				uint64_t h = (i + (uint64_t)done) * 0x9e3779b97f4a7c15ull;
				sum += *(const uint64_t *)(b + ((h >> 32) * n >> 32) * stride);
			}
			done += NQUERY;
			t1 = ns();
		} while (t1 - t0 < RUN_NS);
		double rate = (double)done * 1e9 / (double)(t1 - t0);
		best = rate > best ? rate : best;
	}
	munmap(b, bytes);
	sink = sum;
	return best;
}

/* The machine's own cliff: independent random 8-byte reads in a buffer
 * the size of a snapshot. */
static double memory_reference(size_t bytes)
{
	size_t words = bytes / 8 < 16 ? 16 : bytes / 8;
	double rate = random_reads(words, 8);
	printf("{\"bench\":\"memory_reference\",\"bytes\":%zu,\"reads_per_s\":%.0f}\n",
	       bytes, rate);
	return rate;
}

/* What address translation alone costs: the same TRANS_LINES cache lines
 * (small enough to stay in the L2 cache) read at random, once packed side
 * by side and once one per 4 KiB page (4 KiB + 64 bytes apart, so that the
 * cache sets still spread).  Packed, they share a few pages; spread, each
 * needs its own translation.  Where the spread reads are slower while the
 * data is the same, the TLB holds fewer pages than the snapshot touches:
 * on a virtual machine whose host maps guest memory in 4 KiB pages, the
 * guest's huge pages do not widen the TLB's reach, and every decision at
 * 1M persons pays a page walk. */
#define TRANS_LINES 8192u
static void translation_reference(void)
{
	double packed = random_reads(TRANS_LINES, 64);
	double spread = random_reads(TRANS_LINES, PAGE_BYTES + 64);
	printf("{\"bench\":\"translation_reference\",\"lines\":%u,"
	       "\"packed_bytes\":%u,\"spread_bytes\":%u,\"packed_ns\":%.2f,\"spread_ns\":%.2f,"
	       "\"ratio\":%.3f}\n",
	       TRANS_LINES, TRANS_LINES * 64, TRANS_LINES * (PAGE_BYTES + 64), 1e9 / packed,
	       1e9 / spread, spread / packed);
}

/* The batch pipeline's memory pattern alone: a tag byte per slot after
 * 64-byte slots, as in the snapshot, at the capacity each set gets (n plus
 * two fifths); per query, prefetch its tag, PREF_LEAD queries later read
 * it and prefetch the slot it names, PREF_RING - 1 queries after the start
 * read the slot and run filler work.  "serial" filler is a chain of
 * dependent multiplies, "wide" four independent one-cycle chains, chosen
 * so that both take about as long at 1k as a decision does (15-17 ns
 * here).
 * Same memory, same time per query at 1k: what differs is how far the
 * reorder buffer reaches past a slot prefetch waiting on its page walk. */
#define PREF_LEAD 8
#define PREF_RING 32

struct pref_table {
	uint64_t cap;
	size_t bytes;
	uint64_t (*slot)[8];
	uint8_t *tag;
};

static struct pref_table pref_table_new(size_t n)
{
	struct pref_table t = {.cap = n + n * 2 / 5 + 1};
	t.bytes = t.cap * 65;
	t.slot = mmap(NULL, t.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t.slot == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	(void)madvise(t.slot, t.bytes, MADV_HUGEPAGE);
	t.tag = (uint8_t *)(t.slot + t.cap);
	for (uint64_t i = 0; i < t.cap; i++) {
		t.tag[i] = (uint8_t)(i * 7 + 1);
		for (int k = 0; k < 8; k++)
			t.slot[i][k] = i + (uint64_t)k;
	}
	return t;
}

enum filler { FILL_NONE, FILL_SERIAL, FILL_WIDE };

/* One pass of NQUERY queries; the sum keeps every read alive.  Not
 * inlined, so that bench/walk_model.sh can count its instructions. */
static __attribute__((noinline)) uint64_t pref_pass(const struct pref_table *t, enum filler f, uint64_t salt)
{
	uint64_t home[PREF_RING], cand[PREF_RING], sum = 0, a = 1, b = 2, c = 3, d = 4;
	for (uint64_t i = 0; i < NQUERY + PREF_RING - 1; i++) {
		if (i < NQUERY) {
			uint64_t h = (i + salt) * 0x9e3779b97f4a7c15ull;
			home[i % PREF_RING] = (h >> 32) * t->cap >> 32;
			__builtin_prefetch(&t->tag[home[i % PREF_RING]]);
		}
		if (i >= PREF_LEAD && i - PREF_LEAD < NQUERY) {
			uint64_t r = (i - PREF_LEAD) % PREF_RING, j = home[r] + (t->tag[home[r]] & 1);
			cand[r] = j >= t->cap ? 0 : j;
			__builtin_prefetch(t->slot[cand[r]]);
		}
		if (i < PREF_RING - 1)
			continue;
		const uint64_t *e = t->slot[cand[(i + 1) % PREF_RING]];
		uint64_t x = e[0] ^ e[1] ^ e[2] ^ e[3] ^ e[4] ^ e[5] ^ e[6] ^ e[7];
		sum += x;
		if (f == FILL_SERIAL)
			for (int k = 0; k < 16; k++) {
				a = a * 0x9e3779b97f4a7c15ull + x;
				__asm__ volatile("" : : "r"(a));
			}
		else if (f == FILL_WIDE)
			for (uint64_t k = 0; k < 24; k++) {
				a += x, b ^= x + k, c += k, d ^= a;
				__asm__ volatile("" : : "r"(a), "r"(b), "r"(c), "r"(d));
			}
	}
	return sum + a + b + c + d;
}

/* Nanoseconds per query, best of ROUNDS passes. */
static double pref_ns(const struct pref_table *t, enum filler f)
{
	double best = 1e30;
	uint64_t sum = 0;
	for (int r = 0; r < ROUNDS; r++) {
		int64_t t0 = ns();
		sum += pref_pass(t, f, (uint64_t)r << 32);
		double per = (double)(ns() - t0) / NQUERY;
		best = per < best ? per : best;
	}
	sink = sum;
	return best;
}

static void pipeline_reference(size_t nbig, size_t nsmall)
{
	static const char *name[] = {"none", "serial", "wide"};
	struct pref_table big = pref_table_new(nbig), small = pref_table_new(nsmall);
	for (int f = FILL_NONE; f <= FILL_WIDE; f++) {
		double l = pref_ns(&big, (enum filler)f), m = pref_ns(&small, (enum filler)f);
		printf("{\"bench\":\"pipeline_reference\",\"filler\":\"%s\",\"persons\":[%zu,%zu],"
		       "\"large_ns\":%.2f,\"small_ns\":%.2f,\"gap_ns\":%.2f,\"ratio\":%.3f}\n",
		       name[f], nbig, nsmall, l, m, l - m, m / l);
	}
	munmap(big.slot, big.bytes);
	munmap(small.slot, small.bytes);
}

/* The core's clock, from a chain of dependent one-cycle adds (the empty
 * asm keeps each add and its order): cycles per nanosecond, best of
 * ROUNDS.  bench/walk_model.sh turns nanoseconds into cycles with it. */
#define CLOCK_ADDS 200000000L
static double clock_ghz(void)
{
	double best = 0;
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t x = (uint64_t)r;
		int64_t t0 = ns();
		for (long i = 0; i < CLOCK_ADDS; i++) {
			x += 1;
			__asm__ volatile("" : "+r"(x));
			x += 1;
			__asm__ volatile("" : "+r"(x));
		}
		double ghz = 2.0 * CLOCK_ADDS / (double)(ns() - t0);
		best = ghz > best ? ghz : best;
		sink = x;
	}
	return best;
}

/* --count WHAT: runs one workload once, untimed, for an instruction
 * count under valgrind (bench/walk_model.sh): "decide" is NQUERY
 * decisions on the 1k set through snapshot_decide_many, BATCH per call;
 * "none", "serial", "wide" one pref_pass with that filler. */
static int count_run(const char *what)
{
	static const char *name[] = {"none", "serial", "wide"};
	printf("{\"bench\":\"count_run\",\"what\":\"%s\",\"queries\":%u}\n", what, NQUERY);
	if (strcmp(what, "decide") == 0) {
		static struct dataset ds;
		static struct decision out[BATCH];
		build(&ds, 1000);
		for (uint32_t i = 0; i < NQUERY; i += BATCH)
			snapshot_decide_many(ds.s, &ds.sq[i], BATCH, NOW, out);
		dataset_free(&ds);
		return 0;
	}
	for (int f = FILL_NONE; f <= FILL_WIDE; f++)
		if (strcmp(what, name[f]) == 0) {
			struct pref_table t = pref_table_new(1000);
			sink = pref_pass(&t, (enum filler)f, 0);
			munmap(t.slot, t.bytes);
			return 0;
		}
	fprintf(stderr, "bench_decide: --count takes decide, none, serial or wide, not '%s'\n",
		what);
	return 2;
}

int main(int argc, char **argv)
{
	const char *outdir = NULL;
	size_t sizes[MAX_SETS] = {1000000, 1000};
	int nsets = MAX_SETS;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			outdir = argv[++i];
		else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			return count_run(argv[i + 1]);
		else if (strcmp(argv[i], "--persons") == 0 && i + 1 < argc)
			sizes[0] = strtoul(argv[++i], NULL, 10), nsets = 1;
		else {
			fprintf(stderr, "usage: bench_decide [--persons N] [--out DIR] | --count WHAT\n");
			return 2;
		}
	}
	static struct dataset ds[MAX_SETS];
	for (int i = 0; i < nsets; i++) {
		build(&ds[i], sizes[i]);
		if (outdir)
			write_data(outdir, ds[i].n, ds[i].p, ds[i].q, ds[i].obj);
	}
	int64_t *calls = xcalloc(NQUERY / BATCH, sizeof *calls);
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < nsets; i++)
			round_of(&ds[i], r, calls);
	free(calls);
	for (int i = 0; i < nsets; i++)
		report(&ds[i]);
	if (nsets == 2) {
		targets(&ds[0], &ds[1]);
		double big = memory_reference(snapshot_bytes(ds[0].s));
		double small = memory_reference(snapshot_bytes(ds[1].s));
		printf("{\"bench\":\"memory_reference_ratio\",\"ratio\":%.3f}\n", big / small);
		translation_reference();
		pipeline_reference(ds[0].n, ds[1].n);
		printf("{\"bench\":\"clock_reference\",\"ghz\":%.3f}\n", clock_ghz());
	}
	for (int i = 0; i < nsets; i++)
		dataset_free(&ds[i]);
	return 0;
}
