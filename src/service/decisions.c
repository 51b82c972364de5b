/*
 * decisions.c - "may this person access this, right now?" for other
 * systems, answered from the in-memory snapshot (core/snapshot.h).
 *
 * A request is parsed and checked here, decided by snapshot_decide with
 * the caller's `now`, and rendered with every failing reason.  The only
 * database work is the optional audit of a denial (policy audit_denials);
 * a decision itself never touches the store.  An unknown person is a
 * denial, not an error; a malformed request is an error.
 */
#include "svc_internal.h"
#include "../core/level.h"
#include "../core/role.h"
#include "../core/snapshot.h"
#include "../lib/clock.h"
#include "../lib/jdump.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define BATCH_MAX 10000

struct dreq {
	const char *person;
	const char *action;
	struct snap_object obj;
	json_t *comps;             /* borrowed, for the denial audit */
	int level;
};

/* Joins a JSON array of compartment codes into "A,B" for the snapshot. */
static int comps_list(const json_t *arr, char *out, size_t cap, struct bm_err *e)
{
	size_t n = 0, i;
	json_t *v;

	out[0] = '\0';
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return bm_errf(e, BM_EINVAL, "object.compartments",
			       "object.compartments: an array of codes");
	json_array_foreach(arr, i, v) {
		const char *c = json_string_value(v);
		size_t l = c ? strlen(c) : 0;

		if (c == NULL || l == 0 || n + l + 2 > cap)
			return bm_errf(e, BM_EINVAL, "object.compartments",
				       "object.compartments[%zu]: a non-empty code (and not too "
				       "many)", i);
		if (n > 0)
			out[n++] = ',';
		memcpy(out + n, c, l + 1);
		n += l;
	}
	return 0;
}

static int parse_req(const struct snapshot *snap, const json_t *req, struct dreq *d,
		     struct bm_err *e)
{
	const json_t *obj = json_object_get(req, "object");
	const char *lv;
	char comps[BM_COMP_MAX];
	int rc;

	if (!json_is_object(req))
		return bm_errf(e, BM_EUSAGE, NULL, "a decision request is a JSON object");
	d->person = json_string_value(json_object_get(req, "person"));
	d->action = json_string_value(json_object_get(req, "action"));
	if (d->person == NULL || d->person[0] == '\0')
		return bm_errf(e, BM_EINVAL, "person", "person: required (a string)");
	if (d->action == NULL || d->action[0] == '\0' || strlen(d->action) > 32)
		return bm_errf(e, BM_EINVAL, "action", "action: required (a short string)");
	if (!json_is_object(obj))
		return bm_errf(e, BM_EINVAL, "object", "object: required ({level, compartments})");
	lv = json_string_value(json_object_get(obj, "level"));
	if (lv == NULL)
		return bm_errf(e, BM_EINVAL, "object.level", "object.level: required (a string)");
	if ((rc = level_parse(lv, "object.level", &d->level, e)))
		return rc;
	d->comps = json_object_get(obj, "compartments");
	if ((rc = comps_list(d->comps, comps, sizeof comps, e)))
		return rc;
	return snapshot_object(snap, d->level, comps, &d->obj, e);
}

static json_t *reasons_json(uint32_t mask)
{
	struct reason_text t[REASON__COUNT];
	size_t n = snapshot_reasons(mask, t, REASON__COUNT);
	json_t *arr = json_array();

	for (size_t i = 0; i < n && i < REASON__COUNT; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "code", t[i].code,
						     "message", t[i].msg_en, "message_zh",
						     t[i].msg_zh));
	return arr;
}

/* Audits a denial when policy asks; a failure to audit is reported. */
static int audit_denial(struct svc *s, const struct actor *a, const struct dreq *d,
			uint32_t reasons, struct bm_err *e)
{
	json_t *codes = json_array();
	int rc;

	for (int k = 0; k < REASON__COUNT; k++)
		if (reasons & (1u << k))
			json_array_append_new(codes, json_string(gate_reason_code(k)));
	if ((rc = svc__begin(s, e))) {
		json_decref(codes);
		return rc;
	}
	if ((rc = svc__audit1(s, a, "decision.deny", d->person,
			      json_pack("{s:s, s:s, s:O, s:o}", "action", d->action, "level",
					level_name(d->level), "compartments",
					d->comps ? d->comps : json_array(), "reasons", codes), e))) {
		svc__rollback(s);
		return rc;
	}
	return svc__commit(s, e);
}

/* Decides one parsed request into *out; counts it; audits a denial when
 * policy asks. */
static int decide_core(struct svc *s, const struct snapshot *snap, const struct actor *a,
		       const struct dreq *d, int64_t now, struct decision *out, struct bm_err *e)
{
	snapshot_decide(snap, d->person, strnlen(d->person, SNAP_ID_MAX + 1), &d->obj, now,
			out);
	atomic_fetch_add_explicit(out->allow ? &s->decisions_allow : &s->decisions_deny, 1,
				  memory_order_relaxed);
	if (!out->allow && s->policy.audit_denials && audit_denial(s, a, d, out->reasons, e))
		return e->code;
	return 0;
}

static json_t *decide_one(struct svc *s, const struct snapshot *snap, const struct actor *a,
			  const struct dreq *d,
			  int64_t now, struct bm_err *e)
{
	struct decision out;

	if (decide_core(s, snap, a, d, now, &out, e))
		return NULL;
	return json_pack("{s:s, s:b, s:o}", "person", d->person, "allow", out.allow, "reasons",
			 reasons_json(out.reasons));
}

/* gen was read before deciding: every change up to it is in the answer. */
static json_t *stamp(json_t *v, uint64_t gen, int64_t now)
{
	json_object_set_new(v, "evaluated_at", svc__time_json(now));
	json_object_set_new(v, "snapshot", json_integer((json_int_t)gen));
	return v;
}

json_t *svc_decide(struct svc *s, const struct actor *a, const json_t *req, int64_t now,
		   struct bm_err *e)
{
	struct snapshot *snap;
	struct dreq d;
	uint64_t gen;
	json_t *v;

	if (svc__allow(a, PERM_DECIDE, e) || svc__snap(s, &snap, e) ||
	    parse_req(snap, req, &d, e))
		return NULL;
	gen = svc__snap_gen(s);
	v = decide_one(s, snap, a, &d, now, e);
	return v ? stamp(v, gen, now) : NULL;
}

/* The batch's checks, shared by both renderings. */
static int batch_check(struct svc *s, const struct actor *a, const json_t *reqs,
		       struct snapshot **snap, struct bm_err *e)
{
	if (svc__allow(a, PERM_DECIDE, e) || svc__snap(s, snap, e))
		return e->code;
	if (!json_is_array(reqs) || json_array_size(reqs) > BATCH_MAX)
		return bm_errf(e, json_is_array(reqs) ? BM_ETOOBIG : BM_EUSAGE, "requests",
			       "requests: an array of at most %d decision requests", BATCH_MAX);
	return 0;
}

/* Names the failing element in e's message. */
static int batch_fail(size_t i, struct bm_err *e)
{
	char msg[sizeof e->msg];

	snprintf(msg, sizeof msg, "%s", e->msg);
	return bm_errf(e, e->code, e->field, "requests[%zu]: %s", i, msg);
}

json_t *svc_decide_batch(struct svc *s, const struct actor *a, const json_t *reqs,
			 int64_t now, struct bm_err *e)
{
	struct snapshot *snap;
	json_t *out, *v;
	uint64_t gen;
	size_t i;

	if (batch_check(s, a, reqs, &snap, e))
		return NULL;
	gen = svc__snap_gen(s);
	out = json_array();
	json_array_foreach(reqs, i, v) {
		struct dreq d;
		json_t *r = NULL;

		if (parse_req(snap, v, &d, e) == 0)
			r = decide_one(s, snap, a, &d, now, e);
		if (r == NULL) {
			batch_fail(i, e);
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, r);
	}
	return stamp(json_pack("{s:o}", "results", out), gen, now);
}

/* Each reason's object, rendered once: the texts are static. */
static struct buf reason_frag[REASON__COUNT];
static pthread_once_t reason_once = PTHREAD_ONCE_INIT;

static void reason_frags(void)
{
	for (int k = 0; k < REASON__COUNT; k++) {
		struct reason_text t;

		if (snapshot_reasons(1u << k, &t, 1) != 1)
			continue;
		buf_puts(&reason_frag[k], "{\"code\":");
		jdump_str(&reason_frag[k], t.code, strlen(t.code));
		buf_puts(&reason_frag[k], ",\"message\":");
		jdump_str(&reason_frag[k], t.msg_en, strlen(t.msg_en));
		buf_puts(&reason_frag[k], ",\"message_zh\":");
		jdump_str(&reason_frag[k], t.msg_zh, strlen(t.msg_zh));
		buf_putc(&reason_frag[k], '}');
	}
}

void svc__put_reasons(struct buf *b, uint32_t mask)
{
	struct reason_text t[REASON__COUNT];
	size_t n = snapshot_reasons(mask, t, REASON__COUNT);

	pthread_once(&reason_once, reason_frags);
	buf_putc(b, '[');
	for (size_t i = 0; i < n && i < REASON__COUNT; i++) {
		if (i)
			buf_putc(b, ',');
		buf_append(b, reason_frag[t[i].reason].p, reason_frag[t[i].reason].len);
	}
	buf_putc(b, ']');
}

int svc_decide_batch_text(struct svc *s, const struct actor *a, const json_t *reqs,
			  int64_t now, struct buf *out, size_t counts[2], struct bm_err *e)
{
	struct snapshot *snap;
	char when[21];
	uint64_t gen;
	json_t *v;
	size_t i;

	counts[0] = counts[1] = 0;
	if (batch_check(s, a, reqs, &snap, e))
		return e->code;
	gen = svc__snap_gen(s);
	buf_reserve(out, json_array_size(reqs) * 160 + 64);
	buf_puts(out, "{\"results\":[");
	json_array_foreach(reqs, i, v) {
		struct decision d;
		struct dreq q;

		if (parse_req(snap, v, &q, e) || decide_core(s, snap, a, &q, now, &d, e))
			return batch_fail(i, e);
		counts[d.allow]++;
		buf_puts(out, i ? ",{\"person\":" : "{\"person\":");
		jdump_str(out, q.person, strlen(q.person));
		buf_puts(out, d.allow ? ",\"allow\":true,\"reasons\":" : ",\"allow\":false,\"reasons\":");
		svc__put_reasons(out, d.reasons);
		buf_putc(out, '}');
	}
	clock_fmt_iso(now, when);
	buf_printf(out, "],\"evaluated_at\":\"%s\",\"snapshot\":%llu}", when,
		   (unsigned long long)gen);
	return 0;
}

void svc_decision_counts(const struct svc *s, uint64_t *allow, uint64_t *deny)
{
	*allow = atomic_load_explicit(&s->decisions_allow, memory_order_relaxed);
	*deny = atomic_load_explicit(&s->decisions_deny, memory_order_relaxed);
}
