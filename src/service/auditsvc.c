/*
 * auditsvc.c - verifying and reading the audit trail.
 *
 * Verification walks every stored event in order and checks each against
 * its predecessor (core/audit.c); it stops at the first fault and names
 * that seq.  Reading filters by time, actor, action and subject.  Both are
 * the auditor's; nothing here writes.
 */
#include "svc_internal.h"
#include "../core/audit.h"
#include "../core/role.h"
#include "../lib/clock.h"
#include "../lib/crypto.h"

#include <pthread.h>
#include <string.h>

struct verify_ctx {
	struct audit_verdict *v;
	int64_t prev_seq;
	uint8_t prev_hash[32];
	struct buf scratch;
};

static int verify_one(void *ctx, const struct audit_rec *r)
{
	struct verify_ctx *c = ctx;
	struct audit_event ev = {r->seq, r->time_ms, r->actor, r->action, r->subjects,
				 r->fields, {0}, {0}};
	int f;

	memcpy(ev.prev, r->prev, 32);
	memcpy(ev.hash, r->hash, 32);
	f = audit_verify_step(&ev, c->prev_seq, c->prev_hash, &c->scratch);
	if (f != AUDIT_OK) {
		c->v->fault = f;
		c->v->fault_seq = f == AUDIT_BAD_SEQ && r->seq > c->prev_seq + 1 ? c->prev_seq + 1
										  : r->seq;
		return 1;
	}
	c->v->count++;
	c->prev_seq = r->seq;
	memcpy(c->prev_hash, r->hash, 32);
	return 0;
}

/* The second half of the chain, verified on its own connection and thread.
 * It starts from the stored hash of the event before its range; the first
 * half checks that event's content, so together they check every link. */
struct half {
	const char *db;
	int64_t from, to;
	struct verify_ctx c;
	struct audit_verdict v;
	int rc;
	struct bm_err e;
};

static int take_prev(void *ctx, const struct audit_rec *r)
{
	struct verify_ctx *c = ctx;

	c->prev_seq = r->seq;
	memcpy(c->prev_hash, r->hash, 32);
	return 0;
}

static void *verify_half(void *arg)
{
	struct half *h = arg;
	struct store *st = NULL;

	h->c.v = &h->v;
	if ((h->rc = store_sqlite_ops.open(h->db, STORE_READONLY, &st, &h->e)) == 0 &&
	    (h->rc = st->ops->audit_scan(st, h->from - 1, h->from - 1, take_prev, &h->c, &h->e)) == 0) {
		h->rc = st->ops->audit_scan(st, h->from, h->to, verify_one, &h->c, &h->e);
		if (h->rc > 0)
			h->rc = 0;
	}
	if (st)
		st->ops->close(st);
	buf_free(&h->c.scratch);
	return NULL;
}

/* Below this many events one thread is faster than starting a second. */
#define VERIFY_SPLIT_MIN 200000

int svc_audit_verify(struct svc *s, const struct actor *a, struct audit_verdict *v,
		     struct bm_err *e)
{
	struct verify_ctx c = {.v = v};
	struct half h = {.db = s->db_path};
	pthread_t th;
	int64_t head;
	uint8_t hh[32];
	bool split;
	int rc;

	memset(v, 0, sizeof *v);
	if ((rc = svc__allow(a, PERM_AUDIT_VERIFY, e)) ||
	    (rc = ST(s)->audit_head(s->st, &head, hh, e)))
		return rc;
	split = head >= VERIFY_SPLIT_MIN && strcmp(s->db_path, ":memory:") != 0;
	h.from = head / 2 + 1;
	h.to = head;
	if (split && pthread_create(&th, NULL, verify_half, &h) != 0)
		split = false;
	/* From the lowest seq stored, not 1: a row slipped in below the first
	 * event is an insertion too, and no reader may skip it unseen. */
	rc = ST(s)->audit_scan(s->st, INT64_MIN, split ? h.from - 1 : 0, verify_one, &c, e);
	if (split)
		pthread_join(th, NULL);
	buf_free(&c.scratch);
	if (rc < 0)
		return rc;
	/* The first half must reach the event the second half starts from:
	 * when that one (and maybe more before it) was removed, the first half
	 * ends short without a fault and the second finds no predecessor. */
	if (split && v->fault == AUDIT_OK && c.prev_seq != h.from - 1) {
		v->fault = AUDIT_BAD_SEQ;
		v->fault_seq = c.prev_seq + 1;
	}
	if (split && v->fault == AUDIT_OK) {
		if (h.rc < 0) {
			rc = bm_errf(e, h.rc, NULL, "%s", h.e.msg);
			bm_err_clear(&h.e);
			return rc;
		}
		v->count += h.v.count;
		v->fault = h.v.fault;
		v->fault_seq = h.v.fault_seq;
		memcpy(c.prev_hash, h.c.prev_hash, 32);
	}
	bm_err_clear(&h.e);
	memcpy(v->head, c.prev_hash, 32);
	return 0;
}

struct log_ctx {
	int (*cb)(void *ctx, json_t *event);
	void *ctx;
	struct svc_page *pg;       /* by seq; NULL: every event */
};

/* A stored text as a JSON string, or a marker when it is not UTF-8 (a
 * tampered row): the event is listed all the same. */
static json_t *stored_text(const char *text)
{
	json_t *v = json_string(text);

	return v != NULL ? v : json_string("(not UTF-8)");
}

/* A stored JSON text as a value; one that no longer parses (the row was
 * tampered with, as `audit verify` will say) is shown as the text it holds,
 * so the event still appears, and the log stays JSON. */
static json_t *stored_json(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	return v != NULL ? v : stored_text(text);
}

static int log_one(void *ctx, const struct audit_rec *r)
{
	struct log_ctx *l = ctx;
	char when[21], hash[65];
	json_t *ev;
	int rc;

	if (!svc__page_take(l->pg, r->seq))
		return 0;      /* the row past the page: more exist */
	clock_fmt_iso(r->time_ms / 1000, when);
	hex_encode(r->hash, 32, hash);
	ev = json_pack("{s:I, s:s, s:I, s:o, s:o, s:o, s:o, s:s}", "seq", (json_int_t)r->seq,
		       "time", when, "time_ms", (json_int_t)r->time_ms, "actor",
		       stored_text(r->actor), "action", stored_text(r->action), "subjects", stored_json(r->subjects),
		       "fields", stored_json(r->fields), "hash", hash);
	rc = l->cb(l->ctx, ev);
	json_decref(ev);
	return rc;
}

/* A filter text as its length and itself, for svc__scope_of. */
#define TXT(t) ((t) ? strlen(t) : 0), ((t) ? (t) : "")

int svc_audit_log(struct svc *s, const struct actor *a, const struct audit_query *q,
		  int (*cb)(void *ctx, json_t *event), void *ctx, struct bm_err *e)
{
	struct audit_filter f = {0};
	struct log_ctx l = {cb, ctx, q->page};
	struct store_page sp;
	int rc;

	if ((rc = svc__allow(a, PERM_AUDIT_READ, e)))
		return rc;
	if (q->since && (rc = clock_parse(q->since, "since", &f.since_ms, e)))
		return rc;
	f.since_ms *= 1000;
	/* each text with its length, and absent apart from empty */
	if ((rc = svc__page_bind(q->page, svc__scope_of(
		"since %lld actor %d%zu:%s subject %d%zu:%s action %d%zu:%s",
		(long long)f.since_ms, !q->actor, TXT(q->actor), !q->subject, TXT(q->subject),
		!q->action, TXT(q->action)), e)))
		return rc;
	f.actor = q->actor;
	f.action = q->action;
	f.subject = q->subject;
	if (svc__page(q->page, &sp) != NULL) {
		f.after_seq = sp.after_id;
		f.limit = sp.limit;
	}
	rc = ST(s)->audit_query(s->st, &f, log_one, &l, e);
	return rc < 0 ? rc : 0;
}
