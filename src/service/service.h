/*
 * service.h - one function per use case; the only door to the data.
 *
 * Every write here authorizes the actor, validates its input, applies the
 * core rule, writes through the store and appends its audit event, all in
 * one transaction: either everything happens or nothing does.  The CLI and
 * the HTTP API call only these functions and render what they return, so a
 * rule lives in exactly one place.  Views (svc_*_json) are the single JSON
 * shape of each record, shared by both adapters.
 */
#ifndef BM_SERVICE_H
#define BM_SERVICE_H

#include "../core/policy.h"
#include "../lib/buf.h"
#include "../lib/err.h"
#include "../store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct svc;

/* Who is acting.  The local CLI acts as "cli:<user>" with ACTOR_LOCAL,
 * which holds every right: it already holds the database and key file. */
struct actor {
	char name[64];             /* recorded in the audit trail */
	uint32_t roles;            /* bit set of roles (core/role.h), or ACTOR_LOCAL */
	int64_t account_id;        /* 0 for the local CLI */
	int64_t scope_unit;        /* officer scope root; 0 = everything */
	int64_t session_id;        /* the HTTP session acting; 0 for the CLI */
	char person[64];           /* linked person's external id (self-service); "" none */
	bool must_change;          /* its password was set by another account: it may
				    * only change it (and see or end its sessions) */
	char via[64];              /* the console user acting under another name (baomi
				    * --as NAME): the audit trail records "via as name",
				    * so the console never reads as an account; "" none */
};
#define ACTOR_LOCAL 0x80000000u

/* True when name is the one the server acts under ("system", any case):
 * no account, and no console user acting --as, may take it, or their acts
 * would read as the server's in the audit trail and a review's opener. */
bool svc_name_is_server(const char *name);
/* Refuses (BM_EUSAGE naming field) a name an actor may not act under: empty,
 * 64 bytes or more, not text (svc__check_name's rules: UTF-8, no control
 * characters, no leading = + - @), or the server's.  The name is written
 * as a review's opener, an approver, a suspension's author, and read back
 * by the store's row reader, which refuses anything else. */
int svc_actor_name_check(const char *field, const char *name, struct bm_err *e);

struct svc_paths {
	const char *db;            /* database file */
	const char *keyfile;       /* key file; NULL = "<db>.key" */
};

/* Whether actor a may use permission perm (core/role.c's matrix; the
 * local CLI may do anything; an account whose password another account
 * set may only change it).  BM_EPERM with the reason when not. */
int svc_actor_allow(const struct actor *a, int perm, struct bm_err *e);

/* A list's opaque cursor: the id the next page starts after and the list's
 * scope (below), sealed under the database's key with the list's tag as
 * associated data, so a client can neither read the internal id (whose
 * gaps would count records outside an officer's scope) nor forge one, nor
 * use one list's cursor on another, nor one parent's or filter's cursor on
 * the same list narrowed otherwise. */
#define SVC_CURSOR_MAX 80
void svc_cursor_make(struct svc *s, char tag, int64_t id, uint64_t scope,
			    char out[SVC_CURSOR_MAX]);
/* The id and scope in a cursor svc_cursor_make gave for tag;
 * BM_EUSAGE naming "cursor" for anything else. */
int svc_cursor_read(struct svc *s, char tag, const char *text, int64_t *id,
			   uint64_t *scope, struct bm_err *e);
/* The same for a position of several parts (the due list's instant, gate
 * and person): at most SVC_CURSOR_POS_MAX bytes, sealed and opened whole.
 * The due list's is 8 + 1 + an id of up to BM_CODE_MAX - 1 bytes. */
#define SVC_CURSOR_POS_MAX (8 + 1 + BM_CODE_MAX - 1)
#define SVC_CURSOR_LONG_MAX 160    /* base64 of POS_MAX + nonce + tag, and NUL */
void svc_cursor_make_pos(struct svc *s, char tag, const void *pos, size_t n,
			 char out[SVC_CURSOR_LONG_MAX]);
/* Reads min to cap bytes of position (*n set); BM_EUSAGE naming "cursor"
 * for anything else. */
int svc_cursor_read_pos(struct svc *s, char tag, const char *text, void *pos, size_t min,
			size_t cap, size_t *n, struct bm_err *e);

/* One page of a list, walked by id (keyset) so writes between pages
 * neither repeat nor skip a row: the items after after_id (0: from the
 * start; the session list, newest first, starts below it), at most limit
 * (0: all).  last_id is set to the id of the last item listed (0: none),
 * the next page's after_id; more says rows follow it (the list read one
 * row past the page, never shown), so a client is given a next page only
 * when there is one.  A NULL page is the whole list.
 * scope is what the list is narrowed to (the person whose matters, the
 * unit of posts, the filters of persons, reviews and the audit trail; 0
 * for a list of one scope): with after_id, the scope of the page before,
 * as its cursor holds it, and a page of another scope is refused
 * (BM_EUSAGE naming "cursor"), since its id would only say where this list
 * starts, skipping rows; set to this list's scope, for the next cursor. */
struct svc_page {
	int64_t after_id, limit;
	int64_t last_id;           /* out */
	uint64_t scope;            /* in with after_id, and out */
	int64_t shown;             /* out: items on the page */
	bool more;                 /* out: items follow the page */
	bool unbound;              /* in: after_id is the console's own (review list
				    * --after), bound to no list's scope */
};

/* Creates a new database and key file; refuses to overwrite either. */
int svc_init(const struct svc_paths *p, const char *profile, const struct actor *a,
	     struct bm_err *e);
/* The three officers' initial passwords: an empty entry is filled with a
 * new random password (shown once by the caller, then wiped). */
#define SVC_PASSWORD_MAX 128
struct svc_officers {
	char password[3][SVC_PASSWORD_MAX];   /* sysadmin, secadmin, auditor */
};
/* svc_init that also creates the accounts sysadmin, secadmin and auditor
 * with the passwords in pw (filled in where empty). */
int svc_init_officers(const struct svc_paths *p, const char *profile, const struct actor *a,
		      struct svc_officers *pw, struct bm_err *e);
/* A new random password (20 characters, unambiguous alphabet). */
void svc_password_random(char out[SVC_PASSWORD_MAX]);
/* Re-reads the policy in force (after another connection stored a new one). */
int svc_reload(struct svc *s, struct bm_err *e);
/* Opens an existing database with its key file; checks schema and key. */
int svc_open(const struct svc_paths *p, struct svc **out, struct bm_err *e);
void svc_close(struct svc *s);
/* The policy in force (borrowed). */
const struct policy *svc_policy(const struct svc *s);

/* ---- requests (service.c) ----
 * The server brackets each request with these: every read in between sees
 * one snapshot of the database and takes its file locks once, instead of
 * once per statement.  A write inside still runs its own write transaction
 * (which ends the snapshot first).  end must follow every begin, also after
 * an error, and before the thread waits for its next request: an open
 * snapshot holds back WAL checkpoints. */
int svc_request_begin(struct svc *s, struct bm_err *e);
void svc_request_end(struct svc *s);
/* Holds (or renews) a snapshot on this context, for one that serves no
 * requests: while it is held, the process's other contexts begin and end
 * their reads without file-lock system calls.  Renew it every few tens of
 * milliseconds, with checkpoint about once a second (store.h read_pin),
 * and end it with svc_request_end; it never changes what any read sees. */
int svc_read_pin(struct svc *s, bool checkpoint, struct bm_err *e);

/* ---- units ---- */
struct unit_input {
	const char *code, *name, *parent;   /* parent NULL or "" for a root */
};
int svc_unit_add(struct svc *s, const struct actor *a, const struct unit_input *in,
		 struct unit_rec *out, struct bm_err *e);
/* Returns a new reference: the JSON view of unit code. */
json_t *svc_unit_show(struct svc *s, const struct actor *a, const char *code, struct bm_err *e);
/* The units the actor may see (an officer: the scope subtree), a page. */
json_t *svc_unit_list(struct svc *s, const struct actor *a, struct svc_page *pg,
		      struct bm_err *e);

/* ---- posts ---- */
struct post_input {
	const char *code, *unit, *level, *compartments, *title;
};
int svc_post_add(struct svc *s, const struct actor *a, const struct post_input *in,
		 struct post_rec *out, struct bm_err *e);
json_t *svc_post_show(struct svc *s, const struct actor *a, const char *code, struct bm_err *e);
/* Posts of unit (NULL: of every unit the actor may see), a page. */
json_t *svc_post_list(struct svc *s, const struct actor *a, const char *unit,
		      struct svc_page *pg, struct bm_err *e);

/* ---- persons ---- */
struct person_input {
	const char *ext_id, *name, *unit, *national_id, *passport;
};
int svc_person_add(struct svc *s, const struct actor *a, const struct person_input *in,
		   struct person_rec *out, struct bm_err *e);
/* reveal: include sensitive fields in clear (audited as person.reveal). */
json_t *svc_person_show(struct svc *s, const struct actor *a, const char *ext_id, bool reveal,
			struct bm_err *e);
/* The same view as svc_person_show, appended to out as the JSON text jdump
 * would write for it (no tree is built), and the person's version (for an
 * ETag).  On error out holds a partial document: discard it. */
int svc_person_show_text(struct svc *s, const struct actor *a, const char *ext_id,
			 bool reveal, struct buf *out, int64_t *version, struct bm_err *e);
struct person_query {
	const char *unit;          /* subtree root code, NULL = all */
	const char *category;      /* NULL = any */
	const char *state;         /* NULL = any */
	struct svc_page *page;     /* NULL: every match; else in and out as on any list */
};
/* Streams matching persons' views to cb (borrowed json). */
int svc_person_list(struct svc *s, const struct actor *a, const struct person_query *q,
		    int (*cb)(void *ctx, json_t *view), void *ctx, struct bm_err *e);
/* Finds persons by national id or passport (exactly one of the two). */
/* Changes name and/or unit if the stored version is expected_version (0:
 * whatever version is stored; BM_ECONFLICT otherwise); out gets the new
 * record.  Audited. */
struct person_patch {
	const char *name, *unit;   /* NULL = unchanged */
	int64_t expected_version;
};
int svc_person_update(struct svc *s, const struct actor *a, const char *ext_id,
		      const struct person_patch *in, struct person_rec *out, struct bm_err *e);
json_t *svc_person_find(struct svc *s, const struct actor *a, const char *national_id,
			const char *passport, struct bm_err *e);

/* ---- appointments ---- */
struct appt_input {
	const char *person, *post, *start, *end;   /* dates YYYY-MM-DD; start NULL = today */
};
int svc_appt_add(struct svc *s, const struct actor *a, const struct appt_input *in,
		 struct appt_rec *out, struct bm_err *e);
int svc_appt_end(struct svc *s, const struct actor *a, const char *person, int64_t appt_id,
		 const char *date, struct bm_err *e);

/* ---- import / export ---- */
enum import_kind { IMPORT_UNITS, IMPORT_POSTS, IMPORT_PERSONS, IMPORT_APPOINTMENTS };
int import_kind_parse(const char *s, int *out);
struct import_result {
	int64_t rows, added, unchanged;
	uint8_t sha256[32];
};
/* Imports a CSV all-or-nothing.  On any bad row nothing is written and e
 * holds every bad line (items: line, column, reason; capped, total counted)
 * with code BM_EINVAL.  progress (may be NULL) is called now and then with
 * bytes read. */
int svc_import(struct svc *s, const struct actor *a, int kind, FILE *in,
	       void (*progress)(void *ctx, uint64_t bytes), void *pctx,
	       struct import_result *res, struct bm_err *e);
/* Writes a CSV that svc_import accepts back (sensitive columns omitted). */
int svc_export(struct svc *s, const struct actor *a, int kind, FILE *out, struct bm_err *e);

/* ---- policy ---- */
json_t *svc_policy_show(struct svc *s, const struct actor *a, struct bm_err *e);
/* Validates and stores text as the next policy version; *version gets it.
 * expected: the version the caller edited, BM_ECONFLICT when another has
 * been stored since (0: replace whatever is current, the console's way). */
int svc_policy_load(struct svc *s, const struct actor *a, const char *text, size_t len,
		    int64_t expected, int64_t *version, struct bm_err *e);
/* Stored policies by version (the page's ids are versions). */
json_t *svc_policy_versions(struct svc *s, const struct actor *a, struct svc_page *pg,
			    struct bm_err *e);

/* ---- audit ---- */
struct audit_verdict {
	int64_t count;
	uint8_t head[32];
	int fault;                 /* enum audit_fault; AUDIT_OK when intact */
	int64_t fault_seq;         /* first bad seq */
};
int svc_audit_verify(struct svc *s, const struct actor *a, struct audit_verdict *v,
		     struct bm_err *e);
struct audit_query {
	const char *since;         /* date or ISO instant */
	const char *actor, *subject, *action;
	struct svc_page *page;     /* NULL: every match; else as on any list, its ids seqs */
};
int svc_audit_log(struct svc *s, const struct actor *a, const struct audit_query *q,
		  int (*cb)(void *ctx, json_t *event), void *ctx, struct bm_err *e);

/* ---- accounts, roles and sessions ---- */
struct account_input {
	const char *name;
	const char *password;      /* NULL: an unusable account until passwd */
	const char *roles;         /* comma list, NULL or "" = none */
	const char *scope;         /* officer scope unit code, NULL = none */
	const char *person;        /* linked person's external id, NULL = none */
};
/* Creates an account (account.admin; roles also need role.grant). */
int svc_account_add(struct svc *s, const struct actor *a, const struct account_input *in,
		    struct bm_err *e);
/* The JSON view of the accounts, a page of them by id (NULL: every one;
 * never a password hash); new reference. */
json_t *svc_account_list(struct svc *s, const struct actor *a, struct svc_page *pg,
			 struct bm_err *e);
json_t *svc_account_show(struct svc *s, const struct actor *a, const char *name,
			 struct bm_err *e);
/* Disables an account and revokes its sessions. */
int svc_account_disable(struct svc *s, const struct actor *a, const char *name,
			struct bm_err *e);
/* Sets an account's password (account.admin), revoking its sessions and
 * clearing a lockout.  An account with a session may not reset its own
 * password this way (BM_EPERM): it changes it with svc_password_change. */
int svc_account_passwd(struct svc *s, const struct actor *a, const char *name,
		       const char *password, struct bm_err *e);
/* Changes the actor's own password after checking the old one. */
int svc_password_change(struct svc *s, const struct actor *a, const char *old_pw,
			const char *new_pw, struct bm_err *e);
/* Grants or revokes one role (role.grant).  The resulting set must pass
 * role_check_set (three-officer separation), refused with its reason;
 * scope (a unit code) sets an officer's subtree.  Nobody changes their own
 * roles. */
int svc_role_grant(struct svc *s, const struct actor *a, const char *name, const char *role,
		   const char *scope, struct bm_err *e);
int svc_role_revoke(struct svc *s, const struct actor *a, const char *name, const char *role,
		    struct bm_err *e);

#define SVC_IDLE_S (30 * 60)
#define SVC_ABSOLUTE_S (12 * 3600)
struct login_result {
	char token[65];            /* 64 hex chars: shown once, stored hashed */
	char csrf[65];             /* the CSRF value bound to the token */
	int64_t session_id;
	int64_t expires_abs;
	int64_t retry_after;       /* seconds, set with BM_EBUSY */
	bool locked;               /* this failure started a lockout */
	bool must_change;          /* the password is temporary: change it first */
};
/* Checks name and password (Argon2id, at most two at a time process-wide)
 * and opens a session.  BM_EAUTH for a wrong name or password (one message
 * for both), BM_EBUSY with retry_after while the account or the client
 * address is backing off after five failures.  Every outcome is audited. */
int svc_login(struct svc *s, const char *name, const char *password, const char *client,
	      struct login_result *out, struct bm_err *e);
/* The actor a session token stands for; BM_EAUTH when unknown, revoked,
 * idle more than 30 minutes, older than 12 hours or the account disabled.
 * Answers from a process-wide cache while the stored auth generation is
 * unchanged (any logout, revocation or account change bumps it, in any
 * process).  Idle time is exact in this process; the stored last_seen is
 * written at most once a minute per session, so a restarted server or
 * another process may end a session up to a minute early, never late. */
int svc_session_resolve(struct svc *s, const char *token, struct actor *out, struct bm_err *e);
/* The CSRF value of a token (hex of a keyed hash), for comparing headers. */
void svc_session_csrf(const char *token, char out[65]);
/* Ends the actor's own session (audited as logout). */
int svc_logout(struct svc *s, const struct actor *a, struct bm_err *e);
/* Sessions, newest first: the actor's own (session.own) or, with all,
 * everyone's (session.all); a page of them below pg->after_id (NULL:
 * all).  New reference. */
json_t *svc_session_list(struct svc *s, const struct actor *a, bool all, struct svc_page *pg,
			 struct bm_err *e);
/* Revokes one session: one's own, or any with session.all; another's
 * session answers like one that does not exist. */
int svc_session_revoke(struct svc *s, const struct actor *a, int64_t id, struct bm_err *e);
/* The actor's own view (name, roles, scope, session expiry). */
json_t *svc_whoami(struct svc *s, const struct actor *a, struct bm_err *e);

/* ---- self-service (the person role) ----
 * Every function acts on the person linked to the actor's account and on
 * nobody else; an account without a linked person gets BM_ENOTFOUND. */
/* {account: whoami view, person: own record (sensitive fields masked) or
 * null when none is linked}.  person.self_read. */
json_t *svc_me(struct svc *s, const struct actor *a, struct bm_err *e);
/* Own clearance status (clearance.self_read). */
json_t *svc_me_clearance(struct svc *s, const struct actor *a, int64_t now, struct bm_err *e);
/* Files a matter about oneself (matter.file_own). */
json_t *svc_me_matter_file(struct svc *s, const struct actor *a, const char *type,
			   const char *detail, struct bm_err *e);
/* Own matters, oldest first (person.self_read). */
json_t *svc_me_matters(struct svc *s, const struct actor *a, struct svc_page *pg,
		       struct bm_err *e);

/* ---- demo ---- */
struct demo_summary {
	int64_t units, posts, persons, appointments;
	int64_t by_level_state[4][16];
};
int svc_demo(struct svc *s, const struct actor *a, uint32_t seed, int persons,
	     struct demo_summary *out, struct bm_err *e);

/* ---- vetting: reviews (reviews.c) ----
 * Times are taken from the clock (lib/clock.h); `now` arguments let the
 * server and tests name the instant.  Every function returning json_t
 * returns a new reference (the one JSON view) or NULL with e filled. */
/* Opens a review of person at level (officer/secadmin).  A candidate or
 * rejected person moves to reviewing; an on-post person gets a re-review. */
json_t *svc_review_open(struct svc *s, const struct actor *a, const char *person,
			const char *level, struct bm_err *e);
/* Records checklist item 1..6 (DESIGN.md §1.2): finding clear, concern or
 * disqualifying, with a note.  Every change to a review (a finding, an
 * approval) gives it a new version; expected, when not 0, is the version
 * the caller read, and BM_ECONFLICT says the review changed since. */
json_t *svc_review_finding(struct svc *s, const struct actor *a, int64_t review,
			   int item, const char *finding, const char *note, int64_t expected,
			   struct bm_err *e);
/* A reviewer approves or rejects with a reason.  Neither the opener nor the
 * person under review may decide; core reviews need policy-many distinct
 * approvers; approval needs every item recorded and none disqualifying.
 * expected as for svc_review_finding: a decision made on the version read. */
json_t *svc_review_decide(struct svc *s, const struct actor *a, int64_t review, bool approve,
			  const char *reason, int64_t expected, struct bm_err *e);
json_t *svc_review_show(struct svc *s, const struct actor *a, int64_t review,
			struct bm_err *e);
/* Reviews by id: a person's (every state unless state is given), or
 * everyone's within the actor's scope (open ones unless state is given).
 * state: "open", "approved", "rejected" or "all".  At most limit (0 = no
 * limit) after the review id after_id, as the query's page says (NULL:
 * every one); the page's last_id and more are set as on any list. */
struct review_query {
	const char *person, *state;
	struct svc_page *page;     /* NULL: every match; else in and out as on any list */
};
json_t *svc_review_list(struct svc *s, const struct actor *a, const struct review_query *q,
			struct bm_err *e);
/* Opens a re-review for every on-post person whose review falls due within
 * the policy's first reminder offset of now and who has none open, in one
 * transaction (actor "system" when a is NULL); *count is how many.  opened,
 * when not NULL, gets {id, person, level, trigger, due_at} of each; the
 * server's due job passes NULL, since a mass fall-due at a million persons
 * is hundreds of thousands of them.  On an error nothing was opened. */
int svc_reviews_open_due(struct svc *s, const struct actor *a, int64_t now, json_t *opened,
			 int64_t *count, struct bm_err *e);

/* ---- vetting: matters, suspension, activation (matters.c) ---- */
/* Files a matter of a policy type about person (the person themselves or
 * an officer); policy decides: suspend at once or re-review within N days. */
json_t *svc_matter_file(struct svc *s, const struct actor *a, const char *person,
			const char *type, const char *detail, struct bm_err *e);
json_t *svc_matter_list(struct svc *s, const struct actor *a, const char *person,
			struct svc_page *pg, struct bm_err *e);
int svc_person_suspend(struct svc *s, const struct actor *a, const char *person,
		       const char *reason, struct bm_err *e);
int svc_person_reinstate(struct svc *s, const struct actor *a, const char *person,
			 const char *reason, struct bm_err *e);
/* onboarding -> active, only when every gate of the category holds. */
int svc_person_activate(struct svc *s, const struct actor *a, const char *person,
			struct bm_err *e);

/* ---- the decision snapshot (snapshare.c) ----
 * A service context decides from a snapshot of every person's clearance.
 * Alone (the CLI) it builds its own on first use.  A server shares one
 * snapshot between all its threads' contexts: the share is made once,
 * attached to each context, and loaded once; decisions read it without
 * locks, and each committed write re-reads only the persons it touched
 * into it under the share's writer mutex. */
struct svc_snapshare;
/* A new, empty share (not loaded).  Never fails (aborts on no memory). */
struct svc_snapshare *svc_snapshare_new(void);
/* Frees sh and its snapshot.  Every context attached to it must be closed
 * or no longer used, and no decision running. */
void svc_snapshare_free(struct svc_snapshare *sh);
/* Makes s decide from, and flush its writes into, sh (borrowed: it must
 * outlive s).  Drops s's own snapshot, if any.  Call before s is used by
 * more than its own thread. */
void svc_snapshot_attach(struct svc *s, struct svc_snapshare *sh);
/* For shutdown: a load or full re-read in progress on another thread
 * stops at the next person with BM_EBUSY, and so do later ones.  Any
 * thread. */
void svc_snapshare_cancel(struct svc_snapshare *sh);
/* True once sh's snapshot is loaded (readiness).  Any thread. */
bool svc_snapshare_ready(const struct svc_snapshare *sh);
/* Loads s's snapshot (its share's) from the store unless already loaded.
 * Other threads needing it meanwhile wait for this load. */
int svc_snapshot_load(struct svc *s, struct bm_err *e);
/* For a one-shot console decision: s's own snapshot starts empty and holds
 * only the persons asked about, each read from the store as a full load
 * would read them, so the answer is the one a loaded snapshot gives
 * without reading a million persons to give it.  Nothing when s is
 * attached to a share or its snapshot is loaded already. */
int svc_snapshot_partial(struct svc *s, struct bm_err *e);
/* Re-reads every entry of s's snapshot from the store, in place (readers
 * go on meanwhile): another process committed writes it has not seen. */
int svc_snapshot_refresh(struct svc *s, struct bm_err *e);
/* What svc_snapshot_sync found. */
struct svc_sync {
	bool policy_changed;       /* a newer policy is in force: other contexts
				    * should reload theirs (svc_reload) */
	bool recheck;              /* a commit not yet explained: call again soon
				    * (100 ms) rather than after the usual pause */
	bool refreshed;            /* the whole snapshot was re-read */
};
/* Catches up with writes committed by other processes (a CLI import while
 * the server runs).  Cheap when no one else committed (PRAGMA
 * data_version); otherwise it compares the audit trail with the commits
 * this process flushed, and re-reads the whole snapshot when some commit
 * is not its own (seen on two calls in a row, so that an in-process commit
 * still between its commit and its flush is not mistaken for one).  Loads
 * the snapshot on the first call.  Meant for one maintenance thread, about
 * once a second, always with the same s. */
int svc_snapshot_sync(struct svc *s, struct svc_sync *out, struct bm_err *e);

/* ---- clearance, due list, compliance (clearance.c) ---- */
/* {person, state, category, level, cleared, gates[], valid_until, next_due}. */
json_t *svc_clearance(struct svc *s, const struct actor *a, const char *person, int64_t now,
		      struct bm_err *e);
/* The due list asked for: a window and a page. */
struct due_query {
	int64_t within;            /* seconds ahead of now */
	int64_t limit;             /* items (and open reviews) per page; 0 = all */
	const char *cursor;        /* next_cursor of the page before; NULL = first */
};
/* Reviews and gates coming due within q->within of now, soonest first,
 * one page: {evaluated_at, within_days, items, next_cursor}, and on the
 * first page the open reviews (up to the limit; open_reviews_next_cursor
 * continues them in the review list). */
json_t *svc_due(struct svc *s, const struct actor *a, int64_t now, const struct due_query *q,
		struct bm_err *e);
/* Per unit (subtree of unit, or all): persons by category and state,
 * cleared or not, the most common reasons for not being cleared. */
json_t *svc_report_compliance(struct svc *s, const struct actor *a, const char *unit,
			      int64_t now, struct bm_err *e);

/* ---- decisions (decisions.c) ---- */
/* req: {"person", "action", "object": {"level", "compartments": [..]}}.
 * Returns {"allow", "reasons": [{code, message, message_zh}],
 * "evaluated_at", "snapshot"}.  From the snapshot only; an unknown person
 * is a denial.  BM_EINVAL/BM_EUSAGE for a malformed request. */
json_t *svc_decide(struct svc *s, const struct actor *a, const json_t *req, int64_t now,
		   struct bm_err *e);
/* reqs: an array of up to 10,000 requests; {"results": [...], ...}. */
json_t *svc_decide_batch(struct svc *s, const struct actor *a, const json_t *reqs,
			 int64_t now, struct bm_err *e);
/* The same answer as svc_decide_batch, rendered straight into out as JSON
 * text (no JSON tree of the results is built: at 1,000 decisions a request
 * that tree dominated the cost).  counts[0] gets the denials, counts[1]
 * the allows.  On error out holds a partial document: discard it. */
int svc_decide_batch_text(struct svc *s, const struct actor *a, const json_t *reqs,
			  int64_t now, struct buf *out, size_t counts[2], struct bm_err *e);
/* The same answer again, decided straight from the raw request body
 * {"requests": [...]} without a JSON tree, when the body is in the plain
 * form (see decide_fast.c).  Returns SVC_FAST_DECLINE, having written and
 * counted nothing, for any other body: the caller then parses it and runs
 * svc_decide_batch_text, which gives the answer or the error. */
#define SVC_FAST_DECLINE 1
int svc_decide_batch_fast(struct svc *s, const struct actor *a, const char *body, size_t len,
			  int64_t now, struct buf *out, size_t counts[2], struct bm_err *e);
/* Decisions answered since open (for /metrics). */
void svc_decision_counts(const struct svc *s, uint64_t *allow, uint64_t *deny);

#endif
