/*
 * decisions.c - "may this person access this, right now?" for other
 * systems, answered from the in-memory snapshot (core/snapshot.h).
 *
 * A request is parsed and checked here, decided by snapshot_decide with
 * the caller's `now`, and rendered with every failing reason.  The only
 * database work is the optional audit of a denial (policy audit_denials);
 * a decision itself never touches the store.  An unknown person is a
 * denial, not an error; a malformed request is an error.  Requests are
 * read strictly (no unknown member, no NUL inside a string): what this
 * file ignored would be a check the caller believes was made.  A batch is
 * parsed whole before anything is decided, so a bad element leaves
 * nothing counted or audited; its denials are audited in one transaction.
 */
#include "svc_internal.h"
#include "../core/level.h"
#include "../core/role.h"
#include "../core/snapshot.h"
#include "../lib/clock.h"
#include "../lib/jdump.h"
#include "../lib/mem.h"
#include "../lib/utf8.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 10000

struct dreq {
	const char *person;
	const char *action;
	struct snap_object obj;
	json_t *comps;             /* borrowed, for the denial audit */
	int level;
};

/* The value of string v, or NULL when v is not a string or holds a NUL
 * byte: read as C, "E1\u0000x" would be decided as E1. */
static const char *str_of(const json_t *v)
{
	const char *c = json_string_value(v);

	return c && strlen(c) == json_string_length(v) ? c : NULL;
}

/* Refuses any member of o not in names: a misspelt "compartments" that
 * was ignored would drop the need-to-know check and allow. */
static int members_only(const json_t *o, const char *prefix, const char *const *names,
			size_t n, struct bm_err *e)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)(uintptr_t)o, k, v) {
		char field[48];
		size_t i = 0;

		while (i < n && strcmp(k, names[i]) != 0)
			i++;
		if (i < n)
			continue;
		snprintf(field, sizeof field, "%s%.40s", prefix, k);
		return bm_errf(e, BM_EINVAL, field, "%s: unknown member (a request is {person, "
			       "action, object: {level, compartments}})", field);
	}
	return 0;
}

/* True when code (l bytes) is already one of the comma-separated list. */
static bool comps_has(const char *list, size_t n, const char *code, size_t l)
{
	for (size_t i = 0; i + l <= n;) {
		size_t end = i;

		while (end < n && list[end] != ',')
			end++;
		if (end - i == l && memcmp(list + i, code, l) == 0)
			return true;
		i = end + 1;
	}
	return false;
}

/* Joins a JSON array of compartment codes into "A,B" for the snapshot.
 * Each element is one code: a comma or blank in it is refused, not read
 * as a list.  A code named twice counts once (the object needs a set), so
 * a long list of repeats is the short set it means, never an error
 * blaming a good element; only more distinct codes than fit in cap bytes
 * are refused, with that reason. */
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
		const char *c = str_of(v);
		size_t l = c ? strlen(c) : 0;

		if (json_is_string(v) && c == NULL)
			return bm_errf(e, BM_EINVAL, "object.compartments",
				       "object.compartments[%zu]: holds a NUL byte", i);
		/* checked here, per element, so a bad code is blamed on the
		 * member the caller sent; the snapshot's own refusal names a
		 * "compartments" no request holds */
		if (c == NULL || !compartment_code_ok(c, l))
			return bm_errf(e, BM_EINVAL, "object.compartments",
				       "object.compartments[%zu]: a code of 1 to 31 characters, "
				       "A-Z, 0-9, _ or -", i);
		if (comps_has(out, n, c, l))
			continue;
		if (n + l + 2 > cap)
			return bm_errf(e, BM_EINVAL, "object.compartments",
				       "object.compartments: more distinct codes than fit in "
				       "%zu bytes joined by commas", cap - 1);
		if (n > 0)
			out[n++] = ',';
		memcpy(out + n, c, l + 1);
		n += l;
	}
	return 0;
}

/* The person and action of a decision request, for both readers (this
 * general path and decide_fast.c, which passes e NULL and declines on
 * nonzero).  A person id that could exist but does not is an unknown
 * person, a denial; one no id can be (too long, or a character outside
 * the id alphabet) is bad input, and never reaches the audit trail; nor
 * does an action holding a control or bidirectional character. */
int svc__decide_check(const char *person, size_t plen, const char *action, size_t alen,
		      struct bm_err *e)
{
	if (person == NULL || plen == 0)
		return bm_errf(e, BM_EINVAL, "person", "person: required (a string)");
	if (plen >= BM_CODE_MAX)
		return bm_errf(e, BM_EINVAL, "person", "person: longer than %d bytes, which no "
			       "person id is", BM_CODE_MAX - 1);
	if (!svc__code_chars_ok(person, plen))
		return bm_errf(e, BM_EINVAL, "person", "person: not a person id (letters, digits, "
			       "'-', '_' and '.')");
	if (action == NULL || alen == 0 || alen > 32)
		return bm_errf(e, BM_EINVAL, "action", "action: required (a short string)");
	if (!utf8_valid(action, alen, NULL) || !utf8_printable(action, alen))
		return bm_errf(e, BM_EINVAL, "action", "action: printable text, no control "
			       "characters");
	return 0;
}

/* Refuses member k of o when it is there but not a usable string: another
 * JSON type ("object.level: a string, not a number"), or a string holding
 * a NUL byte.  str_of reads both as missing, and "required" would send the
 * caller looking for a member that is there. */
static int str_member(const json_t *o, const char *k, const char *field, struct bm_err *e)
{
	static const char *const type[] = {"an object", "an array", "a string", "a number",
					   "a number", "true", "false", "null"};
	const json_t *v = json_object_get(o, k);

	if (v != NULL && !json_is_string(v))
		return bm_errf(e, BM_EINVAL, field, "%s: a string, not %s", field,
			       type[json_typeof(v)]);
	if (json_is_string(v) && str_of(v) == NULL)
		return bm_errf(e, BM_EINVAL, field, "%s: holds a NUL byte", field);
	return 0;
}

static int parse_req(const struct snapshot *snap, const json_t *req, struct dreq *d,
		     struct bm_err *e)
{
	static const char *const top[] = {"person", "action", "object"};
	static const char *const inner[] = {"level", "compartments"};
	const json_t *obj = json_object_get(req, "object");
	const char *lv;
	char comps[BM_COMP_MAX];
	int rc;

	if (!json_is_object(req))
		return bm_errf(e, BM_EUSAGE, NULL, "a decision request is a JSON object");
	if ((rc = members_only(req, "", top, 3, e)) || (rc = str_member(req, "person", "person", e)) ||
	    (rc = str_member(req, "action", "action", e)))
		return rc;
	d->person = str_of(json_object_get(req, "person"));
	d->action = str_of(json_object_get(req, "action"));
	if ((rc = svc__decide_check(d->person, d->person ? strlen(d->person) : 0, d->action,
				    d->action ? strlen(d->action) : 0, e)))
		return rc;
	if (obj != NULL && !json_is_object(obj))
		return bm_errf(e, BM_EINVAL, "object", "object: an object {level, compartments}, "
			       "not %s", json_is_array(obj) ? "an array" : "a single value");
	if (obj == NULL)
		return bm_errf(e, BM_EINVAL, "object", "object: required ({level, compartments})");
	if ((rc = members_only(obj, "object.", inner, 2, e)) ||
	    (rc = str_member(obj, "level", "object.level", e)))
		return rc;
	lv = str_of(json_object_get(obj, "level"));
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

/* The audit fields of denial d of request q (reason codes, not texts). */
static json_t *deny_fields(const struct dreq *q, uint32_t reasons)
{
	json_t *codes = json_array();

	for (int k = 0; k < REASON__COUNT; k++)
		if (reasons & (1u << k))
			json_array_append_new(codes, json_string(gate_reason_code(k)));
	return json_pack("{s:s, s:s, s:O, s:o}", "action", q->action, "level",
			 level_name(q->level), "compartments", q->comps ? q->comps : json_array(),
			 "reasons", codes);
}

/* Audits every denial of d[0..n) in one transaction when policy asks: all
 * of them or, when auditing fails, none (and the caller answers nothing). */
static int audit_denials(struct svc *s, const struct actor *a, const struct dreq *q,
			 const struct decision *d, size_t n, struct bm_err *e)
{
	size_t i = 0;
	int rc;

	while (i < n && d[i].allow)
		i++;
	if (!s->policy.audit_denials || i == n)
		return 0;
	if ((rc = svc__begin(s, e)))
		return rc;
	for (; i < n; i++) {
		if (!d[i].allow && (rc = svc__audit1(s, a, "decision.deny", q[i].person,
						      deny_fields(&q[i], d[i].reasons), e))) {
			svc__rollback(s);
			return rc;
		}
	}
	return svc__commit(s, e);
}

/* Decides the parsed requests q[0..n) into d, audits the denials when
 * policy asks, and only then counts them: an answer that is not given
 * (auditing failed) is neither counted nor half audited. */
static int decide_all(struct svc *s, const struct snapshot *snap, const struct actor *a,
		      const struct dreq *q, size_t n, int64_t now, struct decision *d,
		      struct bm_err *e)
{
	size_t allow = 0;

	for (size_t i = 0; i < n; i++) {
		snapshot_decide(snap, q[i].person, strnlen(q[i].person, SNAP_ID_MAX + 1),
				&q[i].obj, now, &d[i]);
		allow += d[i].allow;
	}
	if (audit_denials(s, a, q, d, n, e))
		return e->code;
	atomic_fetch_add_explicit(&s->decisions_allow, allow, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->decisions_deny, n - allow, memory_order_relaxed);
	return 0;
}

static json_t *result_json(const struct dreq *q, const struct decision *d)
{
	return json_pack("{s:s, s:b, s:o}", "person", q->person, "allow", d->allow, "reasons",
			 reasons_json(d->reasons));
}

int svc__decide_allow(const struct actor *a, struct bm_err *e)
{
	if (svc__allow(a, PERM_DECIDE, e))
		return e->code;
	if (svc__actor_scoped(a))
		return bm_errf(e, BM_EPERM, "scope",
			       "decisions answer for the whole organisation; an account scoped "
			       "to a unit subtree cannot ask them (its persons' status shows "
			       "their clearance)");
	return 0;
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
	struct decision out;
	struct dreq d;
	uint64_t gen;

	/* a partial snapshot learns the person's compartments before the
	 * object's are read against them */
	if (svc__decide_allow(a, e) ||
	    svc__snap_want(s, json_string_value(json_object_get(req, "person")), e) ||
	    svc__snap(s, &snap, e) || parse_req(snap, req, &d, e))
		return NULL;
	gen = svc__snap_gen(s);
	if (decide_all(s, snap, a, &d, 1, now, &out, e))
		return NULL;
	return stamp(result_json(&d, &out), gen, now);
}

/* A batch parsed whole, then decided. */
struct batch {
	struct dreq *q;
	struct decision *d;
	size_t n;
	uint64_t gen;
};

static void batch_free(struct batch *b)
{
	free(b->q);
	free(b->d);
}

/* Names the failing element in e's message and in its field
 * ("requests[2].object.level", or "requests[2]" when the element itself is
 * wrong): a client reading errors[] learns which element to mend without
 * parsing the text. */
static int batch_fail(size_t i, struct bm_err *e)
{
	char msg[sizeof e->msg], field[sizeof e->field + 32];   /* bm_errf cuts it */

	snprintf(msg, sizeof msg, "%s", e->msg);
	if (e->field[0] != '\0')
		snprintf(field, sizeof field, "requests[%zu].%s", i, e->field);
	else
		snprintf(field, sizeof field, "requests[%zu]", i);
	return bm_errf(e, e->code, field, "requests[%zu]: %s", i, msg);
}

/* Checks and parses every request before deciding any: a batch with a bad
 * element is refused whole, with nothing decided, counted or audited.
 * On success b holds the answers (batch_free it either way). */
static int batch_run(struct svc *s, const struct actor *a, const json_t *reqs, int64_t now,
		     struct batch *b, struct bm_err *e)
{
	struct snapshot *snap;

	memset(b, 0, sizeof *b);
	if (svc__decide_allow(a, e) || svc__snap(s, &snap, e))
		return e->code;
	if (!json_is_array(reqs) || json_array_size(reqs) > BATCH_MAX)
		return bm_errf(e, json_is_array(reqs) ? BM_ETOOBIG : BM_EUSAGE, "requests",
			       "requests: an array of at most %d decision requests", BATCH_MAX);
	b->n = json_array_size(reqs);
	b->q = xcalloc(b->n + 1, sizeof *b->q);
	b->d = xcalloc(b->n + 1, sizeof *b->d);
	for (size_t i = 0; i < b->n; i++)
		if (parse_req(snap, json_array_get(reqs, i), &b->q[i], e))
			return batch_fail(i, e);
	b->gen = svc__snap_gen(s);
	return decide_all(s, snap, a, b->q, b->n, now, b->d, e);
}

json_t *svc_decide_batch(struct svc *s, const struct actor *a, const json_t *reqs,
			 int64_t now, struct bm_err *e)
{
	struct batch b;
	json_t *out = NULL;

	if (batch_run(s, a, reqs, now, &b, e) == 0) {
		json_t *arr = json_array();

		for (size_t i = 0; i < b.n; i++)
			json_array_append_new(arr, result_json(&b.q[i], &b.d[i]));
		out = stamp(json_pack("{s:o}", "results", arr), b.gen, now);
	}
	batch_free(&b);
	return out;
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
	struct batch b;
	char when[21];
	int rc;

	counts[0] = counts[1] = 0;
	if ((rc = batch_run(s, a, reqs, now, &b, e))) {
		batch_free(&b);
		return rc;
	}
	buf_reserve(out, b.n * 160 + 64);
	buf_puts(out, "{\"results\":[");
	for (size_t i = 0; i < b.n; i++) {
		counts[b.d[i].allow]++;
		buf_puts(out, i ? ",{\"person\":" : "{\"person\":");
		jdump_str(out, b.q[i].person, strlen(b.q[i].person));
		buf_puts(out, b.d[i].allow ? ",\"allow\":true,\"reasons\":"
					   : ",\"allow\":false,\"reasons\":");
		svc__put_reasons(out, b.d[i].reasons);
		buf_putc(out, '}');
	}
	clock_fmt_iso(now, when);
	buf_printf(out, "],\"evaluated_at\":\"%s\",\"snapshot\":%llu}", when,
		   (unsigned long long)b.gen);
	batch_free(&b);
	return 0;
}

void svc_decision_counts(const struct svc *s, uint64_t *allow, uint64_t *deny)
{
	*allow = atomic_load_explicit(&s->decisions_allow, memory_order_relaxed);
	*deny = atomic_load_explicit(&s->decisions_deny, memory_order_relaxed);
}
