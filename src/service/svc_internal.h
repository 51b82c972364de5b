/*
 * svc_internal.h - what the service modules share and nobody else sees:
 * the service context, transaction and audit helpers, input checks, and
 * the per-record "in an open transaction" functions that a single add and
 * an import both use, so every rule about a record is written once.
 */
#ifndef BM_SVC_INTERNAL_H
#define BM_SVC_INTERNAL_H

#include "service.h"
#include "../core/policy.h"
#include "../core/gate.h"
#include "../lib/crypto.h"
#include "../store/store.h"

#include <jansson.h>
#include <stdatomic.h>

struct snapshot;

struct svc {
	struct store *st;
	struct bm_keys *keys;
	struct policy policy;
	int64_t policy_version;
	char *db_path;
	char *key_path;
	struct buf scratch;        /* audit preimage scratch */
	struct {                   /* unit id -> code; codes never change */
		int64_t id;
		char code[BM_CODE_MAX];
	} ucache[256];
	/* The decision snapshot lives in a share (snapshare.c): one attached
	 * by svc_snapshot_attach and used by every context of the process, or
	 * this context's own, made on first use (share_own).  Writes record the
	 * persons they touch (svc__touch); svc__commit refreshes exactly those
	 * in the share after the commit succeeds, svc__rollback forgets them. */
	struct svc_snapshare *share;
	bool share_own;
	int64_t dirty[64];
	int ndirty;
	bool dirty_all;            /* too many touched, or the policy changed */
	int64_t tx_seq_lo, tx_seq_hi; /* audit seqs the open transaction appended */
	/* An enclosing transaction (svc__outer_begin): the service functions
	 * called inside it join it instead of committing on their own. */
	bool outer;
	bool outer_lost;           /* one of them rolled it back */
	int64_t data_version;      /* the store's data_version svc_snapshot_sync last saw */
	_Atomic uint64_t decisions_allow, decisions_deny;
	/* Request bracketing (svc_request_begin/end) and the session cache
	 * (sessions.c): inside a request the last_seen write of a session is
	 * deferred to the request's end, after its read transaction. */
	bool in_request;
	int64_t touch_id, touch_at;  /* deferred session touch; id 0 = none */
	uint8_t touch_hash[32];      /* its token hash (its session cache slot) */
	uint64_t db_tag;             /* tells databases apart in the session cache */
	/* The session this request was authorized by (svc_session_resolve
	 * inside a request), checked again under the write lock by
	 * svc__begin: a revocation committed while the request ran must not
	 * be followed by a write the revoked rights allowed. */
	bool req_auth;
	int64_t req_gen;             /* the auth generation it was resolved at */
	uint8_t req_hash[32];        /* its token's hash */
	struct actor req_actor;      /* the actor the request acts as */
};

struct svc_scope;

/* Dispatch to the store backend. */
#define ST(s) ((s)->st->ops)

/* Starts a write transaction. */
int svc__begin(struct svc *s, struct bm_err *e);
/* Commits; on failure the transaction is rolled back. */
int svc__commit(struct svc *s, struct bm_err *e);
void svc__rollback(struct svc *s);

/* Opens a transaction that every service function called until
 * svc__outer_end joins, so a many-step job (the demo) lands whole or not at
 * all and pays one commit.  A rollback inside it rolls back everything;
 * svc__outer_end then reports it.  With ok false, end rolls back. */
int svc__outer_begin(struct svc *s, struct bm_err *e);
int svc__outer_end(struct svc *s, bool ok, struct bm_err *e);

/* Appends an audit event in the open transaction.  Takes ownership of
 * subjects (a JSON array of ids) and fields (an object of changed fields;
 * never a sensitive value in clear). */
int svc__audit(struct svc *s, const struct actor *a, const char *action, json_t *subjects,
	       json_t *fields, struct bm_err *e);
/* One-subject convenience form. */
int svc__audit1(struct svc *s, const struct actor *a, const char *action, const char *subject,
		json_t *fields, struct bm_err *e);

/* Refuses the actor unless it may perform perm (a core/role.h permission);
 * the local CLI actor may do everything. */
int svc__allow(const struct actor *a, int perm, struct bm_err *e);
/* True when a is scoped to a unit subtree (the local console never is). */
bool svc__actor_scoped(const struct actor *a);
/* The decide permission, held by an actor that sees the whole organisation:
 * decisions come from the snapshot, which knows no units, so a scoped actor
 * would learn through the reasons who exists outside its subtree. */
int svc__decide_allow(const struct actor *a, struct bm_err *e);

/* Input checks; each names field in its error. */
int svc__check_code(const char *field, const char *v, struct bm_err *e);
/* True when v[0..n) holds only the characters of a code: letters, digits,
 * '-', '_' and '.'. */
bool svc__code_chars_ok(const char *v, size_t n);
int svc__check_name(const char *field, const char *v, bool required, struct bm_err *e);
/* Normalises a national id or passport number (ASCII letters upper-cased,
 * spaces and hyphens removed) into out (64 bytes). */
int svc__norm_docnum(const char *field, const char *v, char out[64], struct bm_err *e);
/* Copies v into a fixed record field of cap bytes (checked before). */
void svc__copy(char *dst, size_t cap, const char *v);

/* Per-record writes inside an open transaction (no audit). */
int svc__unit_add_tx(struct svc *s, const struct unit_input *in, struct unit_rec *out,
		     struct bm_err *e);
int svc__post_add_tx(struct svc *s, const struct post_input *in, struct post_rec *out,
		     struct bm_err *e);
/* Fills a person record from input (validation, sealing) without writing. */
int svc__person_build(struct svc *s, const struct person_input *in, int64_t unit_id,
		      struct person_rec *r, struct bm_err *e);
/* A person or post outside sc (the actor's subtree) is refused exactly as
 * one that does not exist: same words, same field, same point in the
 * checks, so no other fault of the row tells the two apart. */
int svc__appt_add_tx(struct svc *s, const struct svc_scope *sc, const struct appt_input *in,
		     struct appt_rec *out, struct bm_err *e);
/* True when the person of `in` already has an appointment on its post with
 * the same start day and the same end day (or both open): the row of an
 * import that is unchanged.  Any lookup that fails answers false, so that
 * svc__appt_add_tx reports it. */
bool svc__appt_same(struct svc *s, const struct svc_scope *sc, const struct appt_input *in);
/* Recomputes a person's derived level and compartments from open appointments. */
int svc__person_derive(struct svc *s, struct person_rec *p, struct bm_err *e);

/* Moves a person to lifecycle state `to` (checked by core/lifecycle), audited. */
int svc__person_set_state(struct svc *s, const struct actor *a, const char *ext_id, int to,
			  const char *reason, struct bm_err *e);

/* The same move inside the open transaction; p is updated in place. */
int svc__person_state_tx(struct svc *s, const struct actor *a, struct person_rec *p, int to,
			 const char *reason, struct bm_err *e);

/* Views: the single JSON shape of each record (new references). */
json_t *svc__unit_json(struct svc *s, const struct unit_rec *u);
json_t *svc__post_json(struct svc *s, const struct post_rec *p);
json_t *svc__person_json(struct svc *s, const struct person_rec *p);
json_t *svc__compartments_json(const char *list);
/* The full view of a person (masked or clear, with appointments) as JSON
 * text appended to b, in jdump's compact form: the one definition of that
 * view (persons.c parses it where a tree is needed).  For a scoped actor a
 * the appointments on posts outside its subtree are left out; a NULL a
 * (one's own record) sees every one. */
int svc__person_view_text(struct svc *s, const struct actor *a, const struct person_rec *p,
			  int sensitive, struct buf *b, struct bm_err *e);
/* Unit code for an id ("" when unknown); uses a small cache. */
const char *svc__unit_code(struct svc *s, int64_t id, char out[BM_CODE_MAX]);

enum { SENSITIVE_MASKED = 1, SENSITIVE_CLEAR = 2 };

/* Argon2id hashing and verification, at most SVC__PW_SLOTS at a time in
 * the process so logins never take every worker.  verify returns 0 on a
 * match, BM_EAUTH otherwise. */
#define SVC__PW_SLOTS 2
int svc__pw_hash(const char *password, char out[BM_PWHASH_MAX], struct bm_err *e);
int svc__pw_verify(const char *hash, const char *password);
/* Counts a failed password for account id (0 = unknown name): its
 * failures and backoff, and the audit events login.failure (with why) and
 * login.lockout, in one transaction.  *locked reports a new backoff. */
int svc__login_failed(struct svc *s, const char *name, int64_t id, const char *client,
		      const char *why, bool *locked, struct bm_err *e);
/* Checks a new password's length and text. */
int svc__pw_check(const char *field, const char *pw, struct bm_err *e);
/* The store's view of page pg in sp (NULL: the whole list): one row past
 * the page (limit + 1, keyset, never OFFSET), so the walk learns whether
 * more follow; last_id, shown and more cleared.  Every list's collector
 * passes each row it would show to svc__page_take, the one paging rule. */
const struct store_page *svc__page(struct svc_page *pg, struct store_page *sp);
/* Take this row or stop: true puts it on the page (id becomes the page's
 * last, where the next cursor starts); false when the page is full, so
 * the row is the one read past it: never shown, it says more exist
 * (pg->more), and the walk may stop.  A NULL pg takes every row. */
bool svc__page_take(struct svc_page *pg, int64_t id);
/* The scope of a list narrowed as fmt says (its resolved filter values,
 * free text with its length so no two filters spell alike): a digest
 * sealed in the list's cursors, never shown. */
uint64_t svc__scope_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Binds a page to the scope `want`: with an after_id (a cursor's),
 * pg->scope is the scope it was given for, and another is BM_EUSAGE
 * naming "cursor"; then pg->scope is `want`, for the next cursor.  NULL pg
 * (a whole list) and an unbound page (the console's --after) pass. */
int svc__page_bind(struct svc_page *pg, uint64_t want, struct bm_err *e);
/* 0 when the actor may see unit_id (unscoped, or inside its subtree);
 * BM_ENOTFOUND naming field with msg otherwise, like a missing record. */
int svc__scope_check(struct svc *s, const struct actor *a, int64_t unit_id, const char *field,
		     const char *what, struct bm_err *e);
/* The units an actor may see: everything (all) for an unscoped actor,
 * else the officer's scope unit and its subtree, as ascending unit ids. */
struct svc_scope {
	bool all;
	int64_t *ids;
	size_t n;
};
/* Fills sc from one walk of the unit tree; svc__scope_free releases it. */
int svc__scope_load(struct svc *s, const struct actor *a, struct svc_scope *sc,
		    struct bm_err *e);
/* Fills sc with unit root and its subtree, whoever asks (a filter the
 * caller has already checked the actor may see). */
int svc__scope_subtree(struct svc *s, int64_t root, struct svc_scope *sc, struct bm_err *e);
bool svc__scope_has(const struct svc_scope *sc, int64_t unit_id);
/* Adds a unit created inside the subtree (an import's new child). */
void svc__scope_add(struct svc_scope *sc, int64_t unit_id);
void svc__scope_free(struct svc_scope *sc);
/* Reads unit code for a: outside an officer's subtree, missing or malformed
 * it is BM_ENOTFOUND "unit X not found" naming field, the same words. */
int svc__unit_visible(struct svc *s, const struct actor *a, const char *field,
		      const char *code, struct unit_rec *u, struct bm_err *e);
/* Loads person ext_id for a: outside an officer's subtree, or missing, it is
 * BM_ENOTFOUND "person X not found" naming field, the same words either way. */
int svc__person_scoped(struct svc *s, const struct actor *a, const char *ext_id,
		       const char *field, struct person_rec *p, struct bm_err *e);
/* The person linked to the actor's account (self-service); BM_ENOTFOUND when
 * the account has none. */
int svc__self(struct svc *s, const struct actor *a, struct person_rec *p, struct bm_err *e);
/* Creates the three officers in the open transaction. */
int svc__officers_add_tx(struct svc *s, const struct actor *a, struct svc_officers *pw,
			 struct bm_err *e);

/* Appends the JSON array of the reasons in mask, each {code, message,
 * message_zh} exactly as jansson renders them (decisions.c). */
void svc__put_reasons(struct buf *b, uint32_t mask);

/* ---- the decision snapshot (snapshare.c) ---- */
/* Marks a person whose clearance the open transaction may change. */
void svc__touch(struct svc *s, int64_t person_id);
void svc__touch_all(struct svc *s);
/* After a commit: re-reads the touched persons into the snapshot (under
 * the share's writer mutex) and notes the transaction's audit seqs. */
int svc__snap_flush(struct svc *s, struct bm_err *e);
/* The snapshot (borrowed; any thread may read it), loaded on first use. */
int svc__snap(struct svc *s, struct snapshot **out, struct bm_err *e);
/* In a partial snapshot (svc_snapshot_partial), puts ext_id's facts
 * before it is asked about; nothing for an unknown or malformed id, or
 * when the snapshot is a whole one. */
int svc__snap_want(struct svc *s, const char *ext_id, struct bm_err *e);
/* The share's generation: changes only after a committed write. */
uint64_t svc__snap_gen(const struct svc *s);
/* Frees s's own share, or detaches from a shared one (svc_close). */
void svc__share_drop(struct svc *s);

/* ---- clearance (clearance.c) ---- */
/* Turns stored facts into gate facts (core/gate.h). */
void svc__gate_facts(const struct facts_rec *r, struct gate_facts *g);
/* The facts of person ext_id (BM_ENOTFOUND naming field "person"). */
int svc__facts(struct svc *s, const char *ext_id, struct facts_rec *out, struct bm_err *e);
/* A facts_scan callback keeping the one row in ctx (a facts_rec). */
int svc__facts_keep(void *ctx, const struct facts_rec *r);
/* The facts of person_id into *out; BM_ESCHEMA naming the table, row and
 * column when the person's rows are damaged (facts_rec.damage), so no use
 * case acts on a value outside the model. */
int svc__facts_of(struct svc *s, int64_t person_id, struct facts_rec *out, struct bm_err *e);
/* An instant as ISO text; 0 and GATE_NEVER are null. */
json_t *svc__time_json(int64_t t);
/* True when the actor's account is linked to the person ext_id. */
bool svc__actor_is(const struct actor *a, const char *ext_id);
/* 1 when the actor stands for person ext_id: their account's link, or,
 * on the local console acting --as NAME, the link of account NAME; 0 when
 * not; a negative error (e filled) when an account could not be read.  The
 * rules "nobody decides their own case" ask this, not svc__actor_is. */
int svc__acts_for(struct svc *s, const struct actor *a, const char *ext_id, struct bm_err *e);
/* 1 when the actor and the account called name are linked to one and the
 * same person (two accounts of one human are one decider), 0 when not, a
 * negative error when an account could not be read. */
int svc__same_person(struct svc *s, const struct actor *a, const char *name, struct bm_err *e);
/* Checks a free-text reason or note (required or not) of < BM_REASON_MAX. */
int svc__check_text(const char *field, const char *v, bool required, struct bm_err *e);

/* ---- sessions (sessions.c) ---- */
/* Marks, inside the open write transaction, a change that can end or alter
 * a session: logout, revocation, an account disabled, a password or role
 * changed.  It bumps the stored auth generation, so every process's session
 * cache re-reads such sessions from the store. */
int svc__auth_changed(struct svc *s, struct bm_err *e);
/* Under the write lock of a transaction svc__begin just opened: refuses
 * it when the session the request was authorized by has ended since, or
 * its account lost a role, its scope or its person link (BM_EAUTH or
 * BM_EPERM, nothing written).  0 outside a request, and when nothing
 * that can change a session was committed since (one counter read). */
int svc__auth_recheck(struct svc *s, struct bm_err *e);
/* Writes a session touch deferred during a request (after its reads). */
void svc__touch_flush(struct svc *s);

/* The actor name of the server's own acts (due re-reviews); no account may
 * take it (accounts.c). */
#define SVC_SYSTEM_ACTOR "system"

/* ---- reviews (reviews.c) ---- */
/* Refuses (BM_ESTATE, with the reason code) unless person_id holds an
 * approved review at level or above that is still valid at now (under the
 * policy's interval for the category the post gives), and is not
 * suspended: a suspended person takes up no secret-related post. */
int svc__review_covers(struct svc *s, int64_t person_id, const char *ext_id, int level,
		       int64_t now, struct bm_err *e);
/* Opens a review in the open transaction (no audit); *out gets it. */
int svc__review_open_tx(struct svc *s, const struct actor *a, struct person_rec *p,
			int level, const char *trigger, int64_t due, struct review_rec *out,
			struct bm_err *e);
/* The one JSON view of review r (with checklist and approvals when detail):
 * a new reference, or NULL with e set when a row it reads is damaged. */
json_t *svc__review_json(struct svc *s, const struct review_rec *r, bool detail,
			 struct bm_err *e);

/* Loads the newest stored policy into s->policy (built-in cn when none). */
int svc__policy_load_current(struct svc *s, struct bm_err *e);

/* Checks a decision request's person and action (decisions.c); e may be
 * NULL. */
int svc__decide_check(const char *person, size_t plen, const char *action, size_t alen,
		      struct bm_err *e);

#endif
