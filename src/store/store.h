/*
 * store.h - persistence behind one domain-level interface.
 *
 * struct store_ops is implemented by store_sqlite.c now and by a PostgreSQL
 * backend later; nothing outside store/ speaks SQL.  The store knows records,
 * not rules: it checks uniqueness and references (BM_EEXIST, BM_ENOTFOUND),
 * optimistic versions (BM_ECONFLICT) and nothing else.  Writes happen
 * between store_begin and store_commit/store_rollback; the service layer
 * owns transactions.  Strings in records are fixed-size, NUL-terminated
 * UTF-8; the service validates lengths before they reach the store.
 *
 * List functions call cb for each record in id order; a nonzero return from
 * cb stops the walk and is returned.  Records passed to cb are borrowed.
 */
#ifndef BM_STORE_H
#define BM_STORE_H

#include "../lib/buf.h"
#include "../lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BM_CODE_MAX 64     /* unit/post codes, external ids: < 64 bytes */
#define BM_NAME_MAX 256    /* names and titles: < 256 bytes of UTF-8 */
#define BM_COMP_MAX 256    /* normalised compartment list */
#define BM_SEALED_MAX 128  /* a sealed sensitive field */

struct unit_rec {
	int64_t id;
	char code[BM_CODE_MAX];
	char name[BM_NAME_MAX];
	int64_t parent_id;         /* 0 for a root */
	int64_t version;
	int64_t created, updated;  /* Unix seconds */
};

struct post_rec {
	int64_t id;
	char code[BM_CODE_MAX];
	int64_t unit_id;
	int level;
	char compartments[BM_COMP_MAX];
	char title[BM_NAME_MAX];
	int64_t version;
	int64_t created, updated;
};

struct sealed {
	uint8_t ct[BM_SEALED_MAX];
	size_t len;                /* 0 = absent */
	uint8_t idx[32];           /* blind index, meaningful when len > 0 */
};

/* How many person states there are (enum person_state, core/lifecycle.h:
 * the service asserts the two agree); the store refuses others. */
#define BM_PERSON_STATES 9
/* The states that hold a post (state_on_post, core/lifecycle.h; asserted
 * there too), as SQL: persons.on_post_since is kept by the store. */
#define BM_ON_POST_STATES_SQL "(3, 4)"

struct person_rec {
	int64_t id;
	char ext_id[BM_CODE_MAX];
	char name[BM_NAME_MAX];
	int64_t unit_id;
	int state;                 /* enum person_state */
	int level;                 /* derived from open appointments */
	char compartments[BM_COMP_MAX]; /* derived */
	struct sealed national_id;
	struct sealed passport;
	int64_t version;
	int64_t created, updated;
};

struct appt_rec {
	int64_t id;
	int64_t person_id;
	int64_t post_id;
	int64_t start;             /* Unix seconds */
	int64_t end;               /* 0 while open */
	int64_t version;
	int64_t created;
};

struct policy_rec {
	int64_t version;
	char profile[16];
	int64_t created;
	char actor[BM_CODE_MAX];
	char *json;                /* owned by the store until the callback returns */
};

/* An audit actor: an account name, or a console user acting under one
 * ("cli:root as rev-a"). */
#define BM_ACTOR_MAX (2 * BM_CODE_MAX + 8)

struct audit_rec {
	int64_t seq;
	int64_t time_ms;
	char actor[BM_ACTOR_MAX];
	char action[BM_CODE_MAX];
	char *subjects;            /* canonical JSON array text */
	char *fields;              /* canonical JSON object text */
	uint8_t prev[32];
	uint8_t hash[32];
};

#define BM_PWHASH_MAX 128  /* an Argon2id string (crypto_pwhash_STRBYTES) */

/* A login account.  pwhash is the Argon2id string; never a password. */
struct account_rec {
	int64_t id;
	char name[BM_CODE_MAX];
	char pwhash[BM_PWHASH_MAX];
	uint32_t roles;            /* core/role.h bits */
	int64_t scope_unit;        /* officer subtree root; 0 = none */
	char person[BM_CODE_MAX];  /* linked person's external id; "" = none */
	bool disabled;
	int failures;              /* consecutive failed logins */
	int64_t locked_until;      /* Unix seconds; 0 = not locked */
	bool must_change;          /* the password was set by someone else */
	int64_t version;
	int64_t created;
};

/* A login session.  Only the SHA-256 of the token is stored. */
struct session_rec {
	int64_t id;
	uint8_t token_hash[32];
	int64_t account_id;
	int64_t created, last_seen, expires_abs;
	char client[48];
	bool revoked;
};

/* A review case (vetting).  state: REVIEW_OPEN, _APPROVED, _REJECTED. */
enum { REVIEW_OPEN = 0, REVIEW_APPROVED = 1, REVIEW_REJECTED = 2 };
#define BM_REASON_MAX 512  /* reasons, notes, details: < 512 bytes of UTF-8 */

struct review_rec {
	int64_t id;
	int64_t person_id;
	int level;                 /* target level 1..3 */
	char trigger[32];          /* "initial", "rereview", "matter:<type>" */
	char opened_by[BM_CODE_MAX];
	int64_t opened_at;
	int64_t due_at;            /* a re-review must be decided by then; 0 none */
	int state;
	int64_t decided_at;        /* 0 while open */
	int64_t valid_until;       /* approved: re-review due; else 0 */
	char reason[BM_REASON_MAX];
	int64_t version;
};

/* One checklist item (1..6, DESIGN.md §1.2) of a review. finding 1 clear,
 * 2 concern, 3 disqualifying. */
struct review_item_rec {
	int64_t review_id;
	int item;
	int finding;
	char note[BM_REASON_MAX];
	char by[BM_CODE_MAX];
	int64_t at;
};

/* One reviewer's decision on a review (decision 1 approve, 2 reject). */
struct approval_rec {
	int64_t review_id;
	char approver[BM_CODE_MAX];
	int64_t at;
	int decision;
	char reason[BM_REASON_MAX];
};

struct matter_rec {
	int64_t id;
	int64_t person_id;
	char type[32];
	char filed_by[BM_CODE_MAX];
	int64_t filed_at;
	char detail[BM_REASON_MAX];
	char action[32];           /* what policy made of it: "suspend", "rereview" */
	int64_t review_id;         /* the re-review it opened; 0 none */
};

/* A suspension; in force while lifted_at is 0. */
struct suspension_rec {
	int64_t id;
	int64_t person_id;
	int64_t since;
	char by[BM_CODE_MAX];
	char reason[BM_REASON_MAX];
	int64_t matter_id;         /* 0 when imposed directly */
	int64_t lifted_at;
	char lifted_by[BM_CODE_MAX];
	char lift_reason[BM_REASON_MAX];
	int64_t version;
};

/* Everything the gates of one person need, read in one go (the clearance
 * scan).  The review in force is the person's latest decided review. */
struct facts_rec {
	int64_t person_id;
	char ext_id[BM_CODE_MAX];
	int64_t unit_id;
	int state;
	int level;
	char compartments[BM_COMP_MAX];
	int64_t review_id;         /* 0 when no review was ever decided */
	int review_state;          /* REVIEW_APPROVED or REVIEW_REJECTED */
	int review_level;
	int64_t review_decided_at;
	int64_t review_valid_until;
	int64_t suspended_since;   /* earliest suspension in force; 0 none */
	int64_t post_since;        /* earliest open appointment start; 0 none */
	int64_t state_since;       /* when the person entered `state`; 0 unknown */
	int64_t on_post_since;     /* when they last took up a state holding a post
				    * (active, suspended); 0 other states or unknown */
	int64_t created;           /* when the person's record began */
	int64_t last_lifted;       /* latest lifting of a suspension; 0 none */
	int64_t secret_post_ended; /* level 0 only: the latest end of an appointment
				    * to a post of level > 0; 0 none */
	char damage[BM_REASON_MAX]; /* "" or why the rows are damaged (a value
				     * outside the model: the facts above are
				     * not to be used, the person never cleared) */
};

struct person_filter {
	int64_t unit_root;         /* 0 = all; else this unit and its subtree */
	int level;                 /* -1 = any */
	int state;                 /* -1 = any */
	int64_t after_id;          /* cursor: ids greater than this */
	int64_t limit;             /* 0 = no limit */
};

struct audit_filter {
	int64_t since_ms;          /* 0 = from the start */
	const char *actor;         /* NULL = any */
	const char *action;        /* NULL = any; a trailing '*' matches a prefix */
	const char *subject;       /* NULL = any; matches one element of subjects */
	int64_t after_seq;
	int64_t limit;
};

/* One page of a list walked by id (keyset): the rows after after_id (0:
 * from the start; a list walked newest first starts below it), at most
 * limit of them (0: all).  A NULL page is the whole list. */
struct store_page {
	int64_t after_id;
	int64_t limit;
};

struct store;

typedef int (*store_unit_cb)(void *ctx, const struct unit_rec *r);
typedef int (*store_post_cb)(void *ctx, const struct post_rec *r);
typedef int (*store_person_cb)(void *ctx, const struct person_rec *r);
typedef int (*store_appt_cb)(void *ctx, const struct appt_rec *r);
/* An appointment with its post's code and level ("" and 0 when the post is
 * missing). */
typedef int (*store_appt_post_cb)(void *ctx, const struct appt_rec *r, const char *post_code,
				  int post_level);
typedef int (*store_policy_cb)(void *ctx, const struct policy_rec *r);
typedef int (*store_audit_cb)(void *ctx, const struct audit_rec *r);
typedef int (*store_account_cb)(void *ctx, const struct account_rec *r);
typedef int (*store_session_cb)(void *ctx, const struct session_rec *r);
typedef int (*store_review_cb)(void *ctx, const struct review_rec *r);
/* Which reviews review_find walks: person_id 0 = anyone's, state -1 = any
 * state, only ids above after_id. */
struct review_filter {
	int64_t person_id;
	int state;
	int64_t after_id;
};
typedef int (*store_item_cb)(void *ctx, const struct review_item_rec *r);
typedef int (*store_approval_cb)(void *ctx, const struct approval_rec *r);
typedef int (*store_matter_cb)(void *ctx, const struct matter_rec *r);
typedef int (*store_susp_cb)(void *ctx, const struct suspension_rec *r);
typedef int (*store_facts_cb)(void *ctx, const struct facts_rec *r);
typedef int (*store_count_cb)(void *ctx, int64_t unit_id, int level, int state, int64_t n);

enum store_open_flags {
	STORE_CREATE = 1,          /* create a new database; BM_EEXIST if present */
	STORE_READONLY = 2,
};

struct store_ops {
	const char *name;
	int (*open)(const char *target, int flags, struct store **out, struct bm_err *e);
	void (*close)(struct store *s);
	int (*begin)(struct store *s, struct bm_err *e);          /* write transaction */
	int (*commit)(struct store *s, struct bm_err *e);
	void (*rollback)(struct store *s);
	int (*schema_version)(struct store *s, int *out, struct bm_err *e);
	/* For bulk work (imports): hint that many writes follow. */
	void (*bulk_hint)(struct store *s, bool on);

	int (*meta_get)(struct store *s, const char *key, struct buf *out, struct bm_err *e);
	int (*meta_set)(struct store *s, const char *key, const char *val, struct bm_err *e);

	int (*unit_insert)(struct store *s, struct unit_rec *r, struct bm_err *e);
	int (*unit_get)(struct store *s, int64_t id, const char *code, struct unit_rec *r,
			struct bm_err *e);   /* by id when code is NULL */
	int (*unit_list)(struct store *s, store_unit_cb cb, void *ctx, struct bm_err *e);
	/* A page of units by id: root's subtree (root included), or all when
	 * root is 0.  The subtree is chosen in the query, so a page is never
	 * short of rows an officer may see, nor holds one outside. */
	int (*unit_page)(struct store *s, int64_t root, const struct store_page *pg,
			 store_unit_cb cb, void *ctx, struct bm_err *e);
	/* True (1) when unit is root or inside root's subtree, 0 when not. */
	int (*unit_within)(struct store *s, int64_t unit, int64_t root, struct bm_err *e);

	int (*post_insert)(struct store *s, struct post_rec *r, struct bm_err *e);
	int (*post_get)(struct store *s, int64_t id, const char *code, struct post_rec *r,
			struct bm_err *e);
	int (*post_list)(struct store *s, int64_t unit_id, store_post_cb cb, void *ctx,
			 struct bm_err *e);  /* unit_id 0 = all */
	/* A page of posts by id: unit_id's own, else those of root's subtree,
	 * else (both 0) all. */
	int (*post_page)(struct store *s, int64_t unit_id, int64_t root,
			 const struct store_page *pg, store_post_cb cb, void *ctx,
			 struct bm_err *e);

	int (*person_insert)(struct store *s, struct person_rec *r, struct bm_err *e);
	int (*person_get)(struct store *s, int64_t id, const char *ext_id, struct person_rec *r,
			  struct bm_err *e);
	/* Writes r if the stored version equals r->version, then bumps it. */
	int (*person_update)(struct store *s, struct person_rec *r, struct bm_err *e);
	int (*person_list)(struct store *s, const struct person_filter *f, store_person_cb cb,
			   void *ctx, struct bm_err *e);
	/* Persons whose national id (column "national_id") or passport
	 * ("passport") has blind index idx. */
	int (*person_find_sealed)(struct store *s, const char *column, const uint8_t idx[32],
				  store_person_cb cb, void *ctx, struct bm_err *e);
	/* Counts persons grouped by unit, level and state. */
	int (*person_counts)(struct store *s, store_count_cb cb, void *ctx, struct bm_err *e);

	int (*appt_insert)(struct store *s, struct appt_rec *r, struct bm_err *e);
	int (*appt_update)(struct store *s, struct appt_rec *r, struct bm_err *e);
	int (*appt_list)(struct store *s, int64_t person_id, store_appt_cb cb, void *ctx,
			 struct bm_err *e);
	/* A person's appointments joined with their posts, in one statement. */
	int (*appt_posts)(struct store *s, int64_t person_id, store_appt_post_cb cb, void *ctx,
			  struct bm_err *e);

	int (*policy_insert)(struct store *s, struct policy_rec *r, struct bm_err *e);
	/* The newest policy (BM_ENOTFOUND when none), or version v when v > 0. */
	int (*policy_get)(struct store *s, int64_t v, store_policy_cb cb, void *ctx,
			  struct bm_err *e);
	/* A page of policies by version (after_id: the version after which; pg
	 * NULL: every one). */
	int (*policy_page)(struct store *s, const struct store_page *pg, store_policy_cb cb,
			   void *ctx, struct bm_err *e);
	/* The newest policy's version, 0 when none: one indexed read, so a
	 * write transaction can tell cheaply whether its policy is current. */
	int (*policy_head)(struct store *s, int64_t *version, struct bm_err *e);

	/* seq 0 and zero hash when the trail is empty. */
	int (*audit_head)(struct store *s, int64_t *seq, uint8_t hash[32], struct bm_err *e);
	int (*audit_insert)(struct store *s, const struct audit_rec *r, struct bm_err *e);
	/* Events with from <= seq <= to (to 0 = end), in stored order. */
	int (*audit_scan)(struct store *s, int64_t from, int64_t to, store_audit_cb cb,
			  void *ctx, struct bm_err *e);
	int (*audit_query)(struct store *s, const struct audit_filter *f, store_audit_cb cb,
			   void *ctx, struct bm_err *e);

	/* Accounts: name unique (BM_EEXIST); update checks r->version like
	 * person_update (BM_ECONFLICT) and bumps it. */
	int (*account_insert)(struct store *s, struct account_rec *r, struct bm_err *e);
	int (*account_get)(struct store *s, int64_t id, const char *name, struct account_rec *r,
			   struct bm_err *e);   /* by id when name is NULL */
	int (*account_update)(struct store *s, struct account_rec *r, struct bm_err *e);
	int (*account_list)(struct store *s, store_account_cb cb, void *ctx, struct bm_err *e);
	int (*account_page)(struct store *s, const struct store_page *pg, store_account_cb cb,
			    void *ctx, struct bm_err *e);

	/* Sessions: looked up by token hash (BM_ENOTFOUND); touch sets
	 * last_seen; revoke marks session id revoked, or with id 0 every
	 * session of account_id; list walks account_id's (0 = all) newest
	 * first, revoked ones included. */
	int (*session_insert)(struct store *s, struct session_rec *r, struct bm_err *e);
	int (*session_get_by_hash)(struct store *s, const uint8_t hash[32], struct session_rec *r,
				   struct bm_err *e);
	int (*session_touch)(struct store *s, int64_t id, int64_t last_seen, struct bm_err *e);
	int (*session_revoke)(struct store *s, int64_t id, int64_t account_id, struct bm_err *e);
	int (*session_list)(struct store *s, int64_t account_id, store_session_cb cb, void *ctx,
			    struct bm_err *e);
	/* The same a page at a time, newest first: ids below pg->after_id. */
	int (*session_page)(struct store *s, int64_t account_id, const struct store_page *pg,
			    store_session_cb cb, void *ctx, struct bm_err *e);

	/* ---- vetting (schema step 3) ---- */
	int (*review_insert)(struct store *s, struct review_rec *r, struct bm_err *e);
	int (*review_get)(struct store *s, int64_t id, struct review_rec *r, struct bm_err *e);
	/* Optimistic like person_update. */
	int (*review_update)(struct store *s, struct review_rec *r, struct bm_err *e);
	/* Reviews matching f, by id; stops at (and returns) cb's first
	 * non-zero answer. */
	int (*review_find)(struct store *s, const struct review_filter *f, store_review_cb cb,
			   void *ctx, struct bm_err *e);
	/* Inserts or replaces item r->item of the review. */
	int (*review_item_set)(struct store *s, const struct review_item_rec *r, struct bm_err *e);
	int (*review_item_list)(struct store *s, int64_t review_id, store_item_cb cb, void *ctx,
				struct bm_err *e);
	/* BM_EEXIST when the approver already decided this review. */
	int (*approval_insert)(struct store *s, const struct approval_rec *r, struct bm_err *e);
	int (*approval_list)(struct store *s, int64_t review_id, store_approval_cb cb, void *ctx,
			     struct bm_err *e);
	int (*matter_insert)(struct store *s, struct matter_rec *r, struct bm_err *e);
	/* A page of person_id's matters by id (pg NULL: every one). */
	int (*matter_page)(struct store *s, int64_t person_id, const struct store_page *pg,
			   store_matter_cb cb, void *ctx, struct bm_err *e);
	int (*suspension_insert)(struct store *s, struct suspension_rec *r, struct bm_err *e);
	int (*suspension_update)(struct store *s, struct suspension_rec *r, struct bm_err *e);
	int (*suspension_list)(struct store *s, int64_t person_id, store_susp_cb cb, void *ctx,
			       struct bm_err *e);
	/* The gate facts of one person (person_id > 0) or of everyone, in id
	 * order (person_id 0). */
	int (*facts_scan)(struct store *s, int64_t person_id, store_facts_cb cb, void *ctx,
			  struct bm_err *e);
	int (*person_total)(struct store *s, int64_t *n, struct bm_err *e);
	/* The row id of ext_id, read without checking the row (BM_ENOTFOUND). */
	int (*person_row)(struct store *s, const char *ext_id, int64_t *id, struct bm_err *e);

	/* A read transaction: every read until read_end sees one snapshot and
	 * the locks are taken once.  begin ends it first (a write always
	 * starts from the newest data); read_begin inside a write transaction
	 * does nothing.  Keep it short: an open snapshot holds back WAL
	 * checkpoints. */
	int (*read_begin)(struct store *s, struct bm_err *e);
	void (*read_end)(struct store *s);
	/* read_begin that takes its snapshot now instead of at the first read
	 * (ending one already open first).  A connection that holds one keeps
	 * SQLite's shared read lock held in this process, so the other
	 * connections' read transactions reuse it instead of taking and
	 * dropping it with two system calls each.  Renew it often: like any
	 * snapshot it holds back checkpoints past its own point.  And pass
	 * checkpoint now and then (about once a second): the old snapshot is
	 * ended first and the WAL copied into the database (passive: it waits
	 * for nobody); without that, a pin renewed between the commits of a
	 * steady trickle of writes would keep every checkpoint one commit
	 * short, so the WAL could never start over and would grow without
	 * bound. */
	int (*read_pin)(struct store *s, bool checkpoint, struct bm_err *e);
	/* Named counters (in meta): 0 until first bumped; bump inside a write
	 * transaction. */
	int (*counter_get)(struct store *s, const char *name, int64_t *out, struct bm_err *e);
	int (*counter_bump)(struct store *s, const char *name, struct bm_err *e);
	/* A number that changes when another connection (this process's or
	 * another's) commits to the database; equal values mean no commit by
	 * anyone else in between.  Only ever compare two values of the same
	 * store handle (SQLite: PRAGMA data_version). */
	int (*data_version)(struct store *s, int64_t *out, struct bm_err *e);
};

/* The SQLite backend. */
extern const struct store_ops store_sqlite_ops;

/* Every backend's struct store begins with this, so callers can dispatch. */
struct store {
	const struct store_ops *ops;
};

#endif
