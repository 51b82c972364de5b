/*
 * decide_fast.c - the batch decision endpoint's fast reader: decides a
 * `{"requests": [...]}` body straight from its bytes, without building a
 * JSON tree, when the body is in the plain form every client sends.
 *
 * It is an accelerator, never a second set of rules.  It accepts only a
 * strict subset of what the general path (svc_decide_batch_text over the
 * HTTP layer's strict parser) accepts, with the same meaning: known keys
 * once each, strings of printable ASCII without escapes, the same checks on
 * person, action, level and compartments (level_parse, snapshot_object).
 * On anything else - an escape, a number, an unknown or repeated key, a bad
 * value, a policy that audits denials, too many requests - it answers
 * SVC_FAST_DECLINE and has written nothing and counted nothing: the caller
 * then runs the general path, which gives the one true answer or error.
 * It must never accept a body the general path refuses, nor answer one
 * differently; tests/unit/test_decisions.c compares both on many bodies.
 *
 * Decisions are taken in groups with snapshot_decide_many so the snapshot's
 * memory latencies overlap.
 */
#include "svc_internal.h"
#include "../core/level.h"
#include "../core/role.h"
#include "../core/snapshot.h"
#include "../lib/clock.h"

#include <stdatomic.h>
#include <string.h>

#define FAST_GROUP 64
#define FAST_MAX 10000             /* the general path's BATCH_MAX */

/* A cursor over the body. */
struct scan {
	const char *p, *end;
};

static void ws(struct scan *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
		c->p++;
}

/* Consumes ch (after blanks); false when the next byte is something else. */
static bool eat(struct scan *c, char ch)
{
	ws(c);
	if (c->p >= c->end || *c->p != ch)
		return false;
	c->p++;
	return true;
}

/* A string of printable ASCII without escapes; *s points into the body.
 * False for anything else (the general path handles it). */
static bool str(struct scan *c, const char **s, size_t *n)
{
	const char *q;

	if (!eat(c, '"'))
		return false;
	for (q = c->p; q < c->end && *q != '"'; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e || *q == '\\')
			return false;
	if (q >= c->end)
		return false;
	*s = c->p;
	*n = (size_t)(q - c->p);
	c->p = q + 1;
	return true;
}

/* One key of an object, against names[]; returns its index or -1.  A
 * repeated key (bit set in *seen) is -1 too. */
static int key(struct scan *c, const char *const *names, int nnames, unsigned *seen)
{
	const char *k;
	size_t n;

	if (!str(c, &k, &n) || !eat(c, ':'))
		return -1;
	for (int i = 0; i < nnames; i++)
		if (strlen(names[i]) == n && memcmp(names[i], k, n) == 0) {
			if (*seen & (1u << i))
				return -1;
			*seen |= 1u << i;
			return i;
		}
	return -1;
}

/* One parsed request of a group; comps is the "A,B" list. */
struct fastreq {
	const char *person;
	size_t plen;
	struct snap_object obj;
};

/* "compartments": [codes] into "A,B" (at most cap bytes with its NUL). */
static bool comps(struct scan *c, char *out, size_t cap)
{
	size_t n = 0;

	if (!eat(c, '['))
		return false;
	out[0] = '\0';
	if (eat(c, ']'))
		return true;
	do {
		const char *s;
		size_t l;

		if (!str(c, &s, &l) || l == 0 || n + l + 2 > cap || memchr(s, ',', l) ||
		    memchr(s, ' ', l))
			return false;   /* one code per element, as decisions.c reads it */
		if (n > 0)
			out[n++] = ',';
		memcpy(out + n, s, l);
		n += l;
		out[n] = '\0';
	} while (eat(c, ','));
	return eat(c, ']');
}

/* "object": {"level": "...", "compartments": [...]} */
static bool object(struct scan *c, const struct snapshot *snap, struct snap_object *obj)
{
	static const char *const names[] = {"level", "compartments"};
	char lv[24] = "", list[BM_COMP_MAX] = "";
	unsigned seen = 0;
	struct bm_err e = BM_ERR_INIT;
	int level, rc;

	if (!eat(c, '{'))
		return false;
	do {
		const char *s;
		size_t n;

		switch (key(c, names, 2, &seen)) {
		case 0:
			if (!str(c, &s, &n) || n >= sizeof lv)
				return false;
			memcpy(lv, s, n);
			lv[n] = '\0';
			break;
		case 1:
			if (!comps(c, list, sizeof list))
				return false;
			break;
		default:
			return false;
		}
	} while (eat(c, ','));
	if (!eat(c, '}') || !(seen & 1u))
		return false;
	rc = level_parse(lv, "object.level", &level, &e) ||
	     snapshot_object(snap, level, list, obj, &e);
	bm_err_clear(&e);
	return rc == 0;
}

/* One request object: person, action and object, each exactly once. */
static bool request(struct scan *c, const struct snapshot *snap, struct fastreq *r)
{
	static const char *const names[] = {"person", "action", "object"};
	unsigned seen = 0;
	const char *s;
	size_t n;

	if (!eat(c, '{'))
		return false;
	do {
		switch (key(c, names, 3, &seen)) {
		case 0:
			if (!str(c, &r->person, &r->plen) ||
			    svc__decide_check(r->person, r->plen, "-", 1, NULL) != 0)
				return false;
			break;
		case 1:
			if (!str(c, &s, &n) || svc__decide_check("-", 1, s, n, NULL) != 0)
				return false;
			break;
		case 2:
			if (!object(c, snap, &r->obj))
				return false;
			break;
		default:
			return false;
		}
	} while (eat(c, ','));
	return eat(c, '}') && seen == 7u;
}

/* Decides and renders one group of n parsed requests. */
static void group(const struct snapshot *snap, const struct fastreq *r, size_t n,
		  int64_t now, bool first, struct buf *out, size_t counts[2])
{
	struct snap_query q[FAST_GROUP] = {0};
	struct decision d[FAST_GROUP];

	for (size_t i = 0; i < n; i++)
		q[i] = (struct snap_query){r[i].person,
					   r[i].plen > SNAP_ID_MAX ? SNAP_ID_MAX + 1 : r[i].plen,
					   &r[i].obj};
	snapshot_decide_many(snap, q, n, now, d);
	for (size_t i = 0; i < n; i++) {
		counts[d[i].allow]++;
		buf_puts(out, first && i == 0 ? "{\"person\":\"" : ",{\"person\":\"");
		buf_append(out, r[i].person, r[i].plen);
		buf_puts(out, d[i].allow ? "\",\"allow\":true,\"reasons\":"
					 : "\",\"allow\":false,\"reasons\":");
		svc__put_reasons(out, d[i].reasons);
		buf_putc(out, '}');
	}
}

/* Parses and decides the array of requests; false to decline. */
static bool requests(struct scan *c, const struct snapshot *snap, int64_t now,
		     struct buf *out, size_t counts[2])
{
	struct fastreq r[FAST_GROUP];
	size_t n = 0, total = 0;

	if (!eat(c, '['))
		return false;
	if (eat(c, ']'))
		return true;
	do {
		if (++total > FAST_MAX || !request(c, snap, &r[n]))
			return false;
		if (++n == FAST_GROUP) {
			group(snap, r, n, now, total == n, out, counts);
			n = 0;
		}
	} while (eat(c, ','));
	if (n > 0)
		group(snap, r, n, now, total == n, out, counts);
	return eat(c, ']');
}

int svc_decide_batch_fast(struct svc *s, const struct actor *a, const char *body, size_t len,
			  int64_t now, struct buf *out, size_t counts[2], struct bm_err *e)
{
	static const char *const names[] = {"requests"};
	struct scan c = {body, body + len};
	struct snapshot *snap;
	unsigned seen = 0;
	char when[21];
	size_t mark = out->len;
	uint64_t gen;

	counts[0] = counts[1] = 0;
	if (svc__decide_allow(a, e) || svc__snap(s, &snap, e))
		return e->code;
	if (s->policy.audit_denials)
		return SVC_FAST_DECLINE;
	gen = svc__snap_gen(s);   /* before deciding: every change up to it is in */
	buf_reserve(out, len + 64);
	buf_puts(out, "{\"results\":[");
	if (!eat(&c, '{') || key(&c, names, 1, &seen) != 0 ||
	    !requests(&c, snap, now, out, counts) || !eat(&c, '}') || (ws(&c), c.p != c.end)) {
		out->len = mark;
		counts[0] = counts[1] = 0;
		return SVC_FAST_DECLINE;
	}
	atomic_fetch_add_explicit(&s->decisions_allow, counts[1], memory_order_relaxed);
	atomic_fetch_add_explicit(&s->decisions_deny, counts[0], memory_order_relaxed);
	clock_fmt_iso(now, when);
	buf_printf(out, "],\"evaluated_at\":\"%s\",\"snapshot\":%llu}", when,
		   (unsigned long long)gen);
	return 0;
}
