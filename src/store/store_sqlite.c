/*
 * store_sqlite.c - the SQLite backend of store.h.
 *
 * One struct sq per connection and per thread (the connection is opened
 * NOMUTEX: it must never be shared between threads without the caller's own
 * lock).  Every statement is prepared once, cached on the struct and reset
 * after use; SQL text uses "$N" placeholders whose N equals the bind
 * position, so a PostgreSQL backend can share it.  The schema comes from
 * migrations.c and is upgraded on open, one transaction per step.
 *
 * This file knows records, not rules: it maps SQLite's constraint failures
 * to BM_EEXIST / BM_ENOTFOUND / BM_ECONFLICT with the field named, and must
 * never decide whether a write is allowed.  What it reads it checks against
 * the record's domain (the row reader: ranges, UTF-8, normal forms, from
 * core/level.h and core/role.h), so a row edited by hand is an error naming
 * table, row and column, never a value outside the model (docs/OPERATIONS.md,
 * "Tampering").  Records passed to callbacks are
 * borrowed: strings copied into the record's arrays live on the caller's
 * stack frame, and char * members (policy json, audit subjects and fields)
 * point into SQLite's column memory, valid only until the callback returns.
 *
 * Timestamps: a created/updated of 0 in a record being written is filled in
 * with the current time (and written back), so tests and tools need no clock.
 */
#include "store.h"
#include "migrations.h"
#include "../core/level.h"
#include "../lib/clock.h"
#include "../core/role.h"
#include "../lib/mem.h"
#include "../lib/utf8.h"

#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Cache sizes in KiB (negative PRAGMA cache_size): normal and bulk work. */
#define CACHE_KIB 8192
#define BULK_CACHE_KIB 65536
#define BUSY_MS 5000
#define MMAP_BYTES "1073741824"

#define UNIT_COLS "id, code, name, parent_id, version, created, updated"
#define POST_COLS "id, code, unit_id, level, compartments, title, version, created, updated"
#define PERSON_COLS "id, ext_id, name, unit_id, state, level, compartments, " \
	"nid_ct, nid_idx, pp_ct, pp_idx, version, created, updated"
#define APPT_COLS "id, person_id, post_id, start_at, end_at, version, created"
#define POLICY_COLS "version, profile, created, actor, json"
#define AUDIT_COLS "seq, time_ms, actor, action, subjects, fields, prev, hash"
#define ACCOUNT_COLS "id, name, pwhash, roles, scope_unit, person, disabled, failures, " \
	"locked_until, version, created, must_change"
#define SESSION_COLS "id, token_hash, account_id, created, last_seen, expires_abs, client, " \
	"revoked"
#define REVIEW_COLS "id, person_id, level, trigger, opened_by, opened_at, due_at, state, " \
	"decided_at, valid_until, reason, version"
#define ITEM_COLS "review_id, item, finding, note, by, at"
#define APPROVAL_COLS "review_id, approver, at, decision, reason"
#define MATTER_COLS "id, person_id, type, filed_by, filed_at, detail, action, review_id"
#define SUSP_COLS "id, person_id, since, by, reason, matter_id, lifted_at, lifted_by, " \
	"lift_reason, version"
/* The gate facts: the review in force is the latest decided one (the
 * partial index reviews_decided serves the inner lookup).  The open
 * appointments give the earliest start and the highest post level (-1 when
 * one names a post that does not exist): for one person from correlated
 * subqueries, for the whole scan from one grouped pass over appointments
 * (a subquery per person cost a third more time at a million persons). */
#define FACTS_HEAD "SELECT p.id, p.ext_id, p.unit_id, p.state, p.level, p.compartments, " \
	"r.id, r.state, r.level, r.decided_at, r.valid_until, "
#define FACTS_REVIEW "FROM persons p LEFT JOIN reviews r ON r.id = (SELECT x.id FROM reviews x " \
	"WHERE x.person_id = p.id AND x.state > 0 ORDER BY x.decided_at DESC, x.id DESC " \
	"LIMIT 1) "
#define FACTS_POSTS(agg) "CASE WHEN count(o.id) < count(*) THEN -1 ELSE coalesce(max(o.level), 0) " \
	"END " agg " FROM appointments a LEFT JOIN posts o ON o.id = a.post_id WHERE a.end_at IS NULL "
/* The instants status names as since (columns 15..18): the record's start,
 * taking up the post, the latest lifting of a suspension (lifted: per form)
 * and, for a person without a secret post only, the latest end of one
 * (appointments_person). */
#define FACTS_SINCE(lifted) ", p.created, p.on_post_since, " lifted ", CASE WHEN p.level = 0 " \
	"THEN (SELECT max(e.end_at) FROM appointments e JOIN posts eo ON eo.id = e.post_id " \
	"WHERE e.person_id = p.id AND eo.level > 0) END "
#define FACTS_ONE_SQL FACTS_HEAD "(SELECT min(since) FROM suspensions s WHERE " \
	"s.person_id = p.id AND s.lifted_at IS NULL), (SELECT min(start_at) FROM appointments a " \
	"WHERE a.person_id = p.id AND a.end_at IS NULL), p.state_since, " \
	"(SELECT " FACTS_POSTS("") "AND a.person_id = p.id) " \
	FACTS_SINCE("(SELECT max(lifted_at) FROM suspensions s WHERE s.person_id = p.id)") \
	FACTS_REVIEW "WHERE p.id = $1"
/* The whole scan reads the suspensions in one grouped pass too: the
 * suspension in force (the earliest unlifted) and the latest lifting. */
#define FACTS_ALL_SQL FACTS_HEAD "sp.since, ap.since, p.state_since, coalesce(ap.lv, 0) " \
	FACTS_SINCE("sp.lifted") FACTS_REVIEW \
	"LEFT JOIN (SELECT a.person_id AS pid, min(a.start_at) AS since, " \
	FACTS_POSTS("AS lv") "GROUP BY a.person_id) ap ON ap.pid = p.id " \
	"LEFT JOIN (SELECT person_id AS pid, min(since) FILTER (WHERE lifted_at IS NULL) AS since, " \
	"max(lifted_at) AS lifted FROM suspensions GROUP BY person_id) sp ON sp.pid = p.id " \
	"ORDER BY p.id"

/* " IN (...)": unit p and every unit below it.  UNION (not UNION ALL)
 * ends a walk of a hand-made cycle. */
#define IN_SUBTREE(p) " IN (WITH RECURSIVE sub(id) AS (SELECT " p " UNION SELECT u.id " \
	"FROM units u JOIN sub ON u.parent_id = sub.id) SELECT id FROM sub)"

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_META_GET, ST_META_SET,
	ST_UNIT_INS, ST_UNIT_BY_ID, ST_UNIT_BY_CODE, ST_UNIT_LIST, ST_UNIT_LIST_SUB, ST_UNIT_WITHIN,
	ST_UNIT_EXISTS,
	ST_POST_INS, ST_POST_BY_ID, ST_POST_BY_CODE, ST_POST_LIST, ST_POST_LIST_UNIT,
	ST_POST_LIST_SUB,
	ST_POST_EXISTS,
	ST_PERSON_INS, ST_PERSON_BY_ID, ST_PERSON_BY_EXT, ST_PERSON_UPD,
	ST_PERSON_VERSION, ST_PERSON_BY_NID, ST_PERSON_BY_PP, ST_PERSON_COUNTS,
	ST_APPT_INS, ST_APPT_UPD, ST_APPT_VERSION, ST_APPT_LIST, ST_APPT_LIST_PERSON,
	ST_APPT_POSTS_PERSON,
	ST_POLICY_INS, ST_POLICY_NEXT, ST_POLICY_NEWEST, ST_POLICY_GET, ST_POLICY_LIST,
	ST_AUDIT_HEAD, ST_AUDIT_INS, ST_AUDIT_SUBJ_INS, ST_AUDIT_SCAN,
	ST_ACCOUNT_INS, ST_ACCOUNT_BY_ID, ST_ACCOUNT_BY_NAME, ST_ACCOUNT_UPD,
	ST_ACCOUNT_VERSION, ST_ACCOUNT_LIST,
	ST_SESSION_INS, ST_SESSION_BY_HASH, ST_SESSION_TOUCH, ST_SESSION_REVOKE,
	ST_SESSION_REVOKE_ALL, ST_SESSION_LIST, ST_SESSION_LIST_ACCOUNT,
	ST_REVIEW_INS, ST_REVIEW_GET, ST_REVIEW_UPD, ST_REVIEW_VERSION, ST_REVIEW_FIND_PERSON,
	ST_REVIEW_FIND_OPEN, ST_REVIEW_FIND_ANY,
	ST_ITEM_SET, ST_ITEM_LIST, ST_APPROVAL_INS, ST_APPROVAL_LIST,
	ST_MATTER_INS, ST_MATTER_LIST, ST_SUSP_INS, ST_SUSP_UPD, ST_SUSP_VERSION, ST_SUSP_LIST,
	ST_FACTS_ONE, ST_FACTS_ALL, ST_PERSON_TOTAL, ST_PERSON_ROW,
	ST_READ_BEGIN, ST_READ_PIN, ST_COUNTER_GET, ST_COUNTER_BUMP,
	ST__COUNT
};

static const char *const sql_text[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = $1",
	[ST_META_SET] = "INSERT INTO meta(key, value) VALUES ($1, $2) "
		"ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[ST_UNIT_INS] = "INSERT INTO units(code, name, parent_id, version, created, updated) "
		"VALUES ($1, $2, $3, 1, $4, $5)",
	[ST_UNIT_BY_ID] = "SELECT " UNIT_COLS " FROM units WHERE id = $1",
	[ST_UNIT_BY_CODE] = "SELECT " UNIT_COLS " FROM units WHERE code = $1",
	/* The lists are walked a page at a time by id (keyset, never OFFSET):
	 * $1 the id the page starts after, then the list's key if any, then
	 * the limit (-1: none); page_start binds them in that order. */
	[ST_UNIT_LIST] = "SELECT " UNIT_COLS " FROM units WHERE id > $1 ORDER BY id LIMIT $2",
	[ST_UNIT_LIST_SUB] = "SELECT " UNIT_COLS " FROM units WHERE id > $1 AND id"
		IN_SUBTREE("$2") " ORDER BY id LIMIT $3",
	/* Walks up from $1; the depth bound guards against a hand-made cycle. */
	[ST_UNIT_WITHIN] = "WITH RECURSIVE up(id, parent, depth) AS ("
		"SELECT id, parent_id, 0 FROM units WHERE id = $1 "
		"UNION ALL SELECT u.id, u.parent_id, up.depth + 1 FROM units u "
		"JOIN up ON u.id = up.parent WHERE up.depth < 100000) "
		"SELECT 1 FROM up WHERE id = $2 LIMIT 1",
	[ST_UNIT_EXISTS] = "SELECT 1 FROM units WHERE id = $1",
	[ST_POST_INS] = "INSERT INTO posts(code, unit_id, level, compartments, title, version, "
		"created, updated) VALUES ($1, $2, $3, $4, $5, 1, $6, $7)",
	[ST_POST_BY_ID] = "SELECT " POST_COLS " FROM posts WHERE id = $1",
	[ST_POST_BY_CODE] = "SELECT " POST_COLS " FROM posts WHERE code = $1",
	[ST_POST_LIST] = "SELECT " POST_COLS " FROM posts WHERE id > $1 ORDER BY id LIMIT $2",
	[ST_POST_LIST_UNIT] = "SELECT " POST_COLS " FROM posts WHERE id > $1 AND unit_id = $2 "
		"ORDER BY id LIMIT $3",
	[ST_POST_LIST_SUB] = "SELECT " POST_COLS " FROM posts WHERE id > $1 AND unit_id"
		IN_SUBTREE("$2") " ORDER BY id LIMIT $3",
	[ST_POST_EXISTS] = "SELECT 1 FROM posts WHERE id = $1",
	[ST_PERSON_INS] = "INSERT INTO persons(ext_id, name, unit_id, state, level, compartments, "
		"nid_ct, nid_idx, pp_ct, pp_idx, version, created, updated, state_since, on_post_since) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $11, "
		"CASE WHEN $4 IN " BM_ON_POST_STATES_SQL " THEN $11 END)",
	[ST_PERSON_BY_ID] = "SELECT " PERSON_COLS " FROM persons WHERE id = $1",
	[ST_PERSON_BY_EXT] = "SELECT " PERSON_COLS " FROM persons WHERE ext_id = $1",
	[ST_PERSON_UPD] = "UPDATE persons SET ext_id = $1, name = $2, unit_id = $3, state = $4, "
		"level = $5, compartments = $6, nid_ct = $7, nid_idx = $8, pp_ct = $9, "
		"pp_idx = $10, updated = $11, version = version + 1, "
		"state_since = CASE WHEN state = $4 THEN state_since ELSE $11 END, "
		/* active <-> suspended keeps the post: only taking one up moves it */
		"on_post_since = CASE WHEN $4 NOT IN " BM_ON_POST_STATES_SQL " THEN NULL "
		"WHEN state IN " BM_ON_POST_STATES_SQL " THEN on_post_since ELSE $11 END "
		"WHERE id = $12 AND version = $13",
	[ST_PERSON_VERSION] = "SELECT version FROM persons WHERE id = $1",
	[ST_PERSON_BY_NID] = "SELECT " PERSON_COLS " FROM persons WHERE nid_idx IS NOT NULL "
		"AND substr(nid_idx, 1, 16) = substr($1, 1, 16) AND nid_idx = $1 ORDER BY id",
	[ST_PERSON_BY_PP] = "SELECT " PERSON_COLS " FROM persons WHERE pp_idx IS NOT NULL "
		"AND substr(pp_idx, 1, 16) = substr($1, 1, 16) AND pp_idx = $1 ORDER BY id",
	[ST_PERSON_COUNTS] = "SELECT unit_id, level, state, count(*) FROM persons "
		"GROUP BY unit_id, level, state ORDER BY unit_id, level, state",
	[ST_APPT_INS] = "INSERT INTO appointments(person_id, post_id, start_at, end_at, version, "
		"created) VALUES ($1, $2, $3, $4, 1, $5)",
	[ST_APPT_UPD] = "UPDATE appointments SET person_id = $1, post_id = $2, start_at = $3, "
		"end_at = $4, version = version + 1 WHERE id = $5 AND version = $6",
	[ST_APPT_VERSION] = "SELECT version FROM appointments WHERE id = $1",
	[ST_APPT_LIST] = "SELECT " APPT_COLS " FROM appointments ORDER BY id",
	[ST_APPT_LIST_PERSON] = "SELECT " APPT_COLS " FROM appointments WHERE person_id = $1 "
		"ORDER BY id",
	/* APPT_COLS qualified, then the post's code and level (NULL when the
	 * post is gone): one statement for a person's view, not 1 + N. */
	[ST_APPT_POSTS_PERSON] = "SELECT a.id, a.person_id, a.post_id, a.start_at, a.end_at, "
		"a.version, a.created, p.code, p.level FROM appointments a "
		"LEFT JOIN posts p ON p.id = a.post_id WHERE a.person_id = $1 ORDER BY a.id",
	[ST_POLICY_INS] = "INSERT INTO policies(" POLICY_COLS ") VALUES ($1, $2, $3, $4, $5)",
	[ST_POLICY_NEXT] = "SELECT coalesce(max(version), 0) + 1 FROM policies",
	[ST_POLICY_NEWEST] = "SELECT " POLICY_COLS " FROM policies ORDER BY version DESC LIMIT 1",
	[ST_POLICY_GET] = "SELECT " POLICY_COLS " FROM policies WHERE version = $1",
	[ST_POLICY_LIST] = "SELECT " POLICY_COLS " FROM policies WHERE version > $1 "
		"ORDER BY version LIMIT $2",
	[ST_AUDIT_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
	[ST_AUDIT_INS] = "INSERT INTO audit(" AUDIT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	/* Scalars only: a nested array or object is not a subject id. */
	[ST_AUDIT_SUBJ_INS] = "INSERT OR IGNORE INTO audit_subjects(subject, seq) "
		"SELECT CAST(value AS TEXT), $1 FROM json_each($2) "
		"WHERE type IN ('text', 'integer', 'real')",
	[ST_AUDIT_SCAN] = "SELECT " AUDIT_COLS " FROM audit WHERE seq BETWEEN $1 AND $2 "
		"ORDER BY seq",
	[ST_ACCOUNT_INS] = "INSERT INTO accounts(name, pwhash, roles, scope_unit, person, "
		"disabled, failures, locked_until, must_change, version, created) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10)",
	[ST_ACCOUNT_BY_ID] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = $1",
	[ST_ACCOUNT_BY_NAME] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE name = $1",
	[ST_ACCOUNT_UPD] = "UPDATE accounts SET name = $1, pwhash = $2, roles = $3, "
		"scope_unit = $4, person = $5, disabled = $6, failures = $7, locked_until = $8, "
		"must_change = $9, version = version + 1 WHERE id = $10 AND version = $11",
	[ST_ACCOUNT_VERSION] = "SELECT version FROM accounts WHERE id = $1",
	[ST_ACCOUNT_LIST] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id > $1 ORDER BY id "
		"LIMIT $2",
	[ST_SESSION_INS] = "INSERT INTO sessions(token_hash, account_id, created, last_seen, "
		"expires_abs, client, revoked) VALUES ($1, $2, $3, $4, $5, $6, 0)",
	[ST_SESSION_BY_HASH] = "SELECT " SESSION_COLS " FROM sessions WHERE token_hash = $1",
	[ST_SESSION_TOUCH] = "UPDATE sessions SET last_seen = $1 WHERE id = $2",
	[ST_SESSION_REVOKE] = "UPDATE sessions SET revoked = 1 WHERE id = $1",
	[ST_SESSION_REVOKE_ALL] = "UPDATE sessions SET revoked = 1 WHERE account_id = $1",
	/* newest first: a page starts below its cursor */
	[ST_SESSION_LIST] = "SELECT " SESSION_COLS " FROM sessions WHERE id < $1 "
		"ORDER BY id DESC LIMIT $2",
	[ST_SESSION_LIST_ACCOUNT] = "SELECT " SESSION_COLS " FROM sessions "
		"WHERE id < $1 AND account_id = $2 ORDER BY id DESC LIMIT $3",
	[ST_REVIEW_INS] = "INSERT INTO reviews(person_id, level, trigger, opened_by, opened_at, "
		"due_at, state, decided_at, valid_until, reason, version) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)",
	[ST_REVIEW_GET] = "SELECT " REVIEW_COLS " FROM reviews WHERE id = $1",
	[ST_REVIEW_UPD] = "UPDATE reviews SET level = $1, due_at = $2, state = $3, "
		"decided_at = $4, valid_until = $5, reason = $6, version = version + 1 "
		"WHERE id = $7 AND version = $8",
	[ST_REVIEW_VERSION] = "SELECT version FROM reviews WHERE id = $1",
	/* review_find, one statement per filter, so that each can use its index */
	[ST_REVIEW_FIND_PERSON] = "SELECT " REVIEW_COLS " FROM reviews WHERE person_id = $1 "
		"AND ($2 < 0 OR state = $2) AND id > $3 ORDER BY id",
	[ST_REVIEW_FIND_OPEN] = "SELECT " REVIEW_COLS " FROM reviews WHERE state = 0 "
		"AND id > $1 ORDER BY id",
	[ST_REVIEW_FIND_ANY] = "SELECT " REVIEW_COLS " FROM reviews WHERE ($1 < 0 OR state = $1) "
		"AND id > $2 ORDER BY id",
	[ST_ITEM_SET] = "INSERT INTO review_items(" ITEM_COLS ") VALUES ($1, $2, $3, $4, $5, $6) "
		"ON CONFLICT(review_id, item) DO UPDATE SET finding = excluded.finding, "
		"note = excluded.note, by = excluded.by, at = excluded.at",
	[ST_ITEM_LIST] = "SELECT " ITEM_COLS " FROM review_items WHERE review_id = $1 ORDER BY item",
	[ST_APPROVAL_INS] = "INSERT INTO review_approvals(" APPROVAL_COLS ") "
		"VALUES ($1, $2, $3, $4, $5)",
	[ST_APPROVAL_LIST] = "SELECT " APPROVAL_COLS " FROM review_approvals WHERE review_id = $1 "
		"ORDER BY at, approver",
	[ST_MATTER_INS] = "INSERT INTO matters(person_id, type, filed_by, filed_at, detail, action, "
		"review_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
	[ST_MATTER_LIST] = "SELECT " MATTER_COLS " FROM matters WHERE id > $1 AND person_id = $2 "
		"ORDER BY id LIMIT $3",
	[ST_SUSP_INS] = "INSERT INTO suspensions(person_id, since, by, reason, matter_id, version) "
		"VALUES ($1, $2, $3, $4, $5, 1)",
	[ST_SUSP_UPD] = "UPDATE suspensions SET lifted_at = $1, lifted_by = $2, lift_reason = $3, "
		"version = version + 1 WHERE id = $4 AND version = $5",
	[ST_SUSP_VERSION] = "SELECT version FROM suspensions WHERE id = $1",
	[ST_SUSP_LIST] = "SELECT " SUSP_COLS " FROM suspensions WHERE person_id = $1 ORDER BY id",
	[ST_FACTS_ONE] = FACTS_ONE_SQL,
	[ST_FACTS_ALL] = FACTS_ALL_SQL,
	[ST_PERSON_TOTAL] = "SELECT count(*) FROM persons",
	[ST_PERSON_ROW] = "SELECT id FROM persons WHERE ext_id = $1",
	[ST_READ_BEGIN] = "BEGIN",
	[ST_READ_PIN] = "SELECT 1 FROM meta LIMIT 1",
	[ST_COUNTER_GET] = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = $1",
	[ST_COUNTER_BUMP] = "INSERT INTO meta(key, value) VALUES ($1, '1') "
		"ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
};

/* person_list and audit_query build their SQL from the filters present;
 * each combination is its own cached statement, so indexes stay usable. */
enum { PL_UNIT = 1, PL_LEVEL = 2, PL_STATE = 4, PL_VARIANTS = 8 };
enum { AQ_SINCE = 1, AQ_ACTOR = 2, AQ_ACT_EQ = 4, AQ_ACT_LO = 8, AQ_ACT_HI = 16,
       AQ_SUBJ = 32, AQ_VARIANTS = 64 };

struct sq {
	struct store base;         /* first: callers dispatch through base.ops */
	sqlite3 *db;
	char *path;
	bool readonly;
	bool made_file;            /* open created the file: remove it on failure */
	bool read_tx;              /* the open transaction is a read_begin one */
	sqlite3_stmt *st[ST__COUNT];
	sqlite3_stmt *pl[PL_VARIANTS];
	sqlite3_stmt *aq[AQ_VARIANTS];
};

/* What a UNIQUE failure means for the statement that hit it. */
struct wctx {
	const char *field;         /* "code", "ext_id", "version" */
	const char *what;          /* "unit code", "person" */
	const char *key;           /* the offending value */
};

/* Parameter positions of a person_list / audit_query variant (0 = absent). */
struct pl_plan { int unit, level, state, limit; };
struct aq_plan { int since, actor, act_eq, act_lo, act_hi, subj, limit; };

static void sq_close(struct store *st);
static int sq_begin(struct store *st, struct bm_err *e);
static int sq_commit(struct store *st, struct bm_err *e);
static void sq_rollback(struct store *st);

static struct sq *SQ(struct store *st)
{
	return (struct sq *)st;
}

/* ---------------------------------------------------------------- errors */

/* Maps the connection's last error to a BM_E code and message.  w, when
 * given, names the unique field the statement can violate. */
static int db_err(struct sq *s, const struct wctx *w, struct bm_err *e)
{
	int x = sqlite3_extended_errcode(s->db);
	const char *m = sqlite3_errmsg(s->db);

	if ((x == SQLITE_CONSTRAINT_UNIQUE || x == SQLITE_CONSTRAINT_PRIMARYKEY) && w != NULL)
		return bm_errf(e, BM_EEXIST, w->field, "%s %s already exists", w->what, w->key);
	if (x == SQLITE_CONSTRAINT_FOREIGNKEY)
		return bm_errf(e, BM_ENOTFOUND, NULL, "a referenced record does not exist");
	if (x == SQLITE_CONSTRAINT_CHECK)
		return bm_errf(e, BM_EINVAL, strstr(m, "level") ? "level" : NULL,
			       "value out of range (%s)", m);
	if (x == SQLITE_CONSTRAINT_NOTNULL || x == SQLITE_CONSTRAINT_DATATYPE)
		return bm_errf(e, BM_EINVAL, NULL, "invalid value (%s)", m);
	switch (x & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		/* no path: this message reaches API clients (429), who must not
		 * learn where the server keeps its database */
		return bm_errf(e, BM_EBUSY, NULL, "the database is busy (another writer held it "
			       "for %d s); try again", BUSY_MS / 1000);
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return bm_errf(e, BM_ESCHEMA, NULL, "%s is not a usable SQLite database (%s)",
			       s->path, m);
	default:
		return bm_errf(e, BM_EIO, NULL, "database %s: %s", s->path, m);
	}
}

/* ------------------------------------------------------------ statements */

/* Prepares sql and checks that parameter i is named "$i", which is what
 * lets callers bind by number. */
static int prepare(struct sq *s, const char *sql, sqlite3_stmt **out, struct bm_err *e)
{
	sqlite3_stmt *st = NULL;
	char want[16];
	int i, n;

	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return db_err(s, NULL, e);
	if (st == NULL)
		return bm_errf(e, BM_EINTERNAL, NULL, "empty SQL statement");
	n = sqlite3_bind_parameter_count(st);
	for (i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);

		snprintf(want, sizeof want, "$%d", i);
		if (name == NULL || strcmp(name, want) != 0) {
			sqlite3_finalize(st);
			return bm_errf(e, BM_EINTERNAL, NULL, "parameter %d of \"%s\" is not %s",
				       i, sql, want);
		}
	}
	*out = st;
	return 0;
}

/* The statement cached in *slot, preparing it on first use.  If the cached
 * one is mid-walk (a callback re-entered the store), a private copy is
 * prepared instead; stmt_done finalizes it. */
static int stmt_slot(struct sq *s, sqlite3_stmt **slot, const char *sql, sqlite3_stmt **out,
		     struct bm_err *e)
{
	int rc;

	if (*slot != NULL && !sqlite3_stmt_busy(*slot)) {
		*out = *slot;
		return 0;
	}
	if ((rc = prepare(s, sql, out, e)) != 0)
		return rc;
	if (*slot == NULL)
		*slot = *out;
	return 0;
}

static int stmt_get(struct sq *s, enum stmt_id id, sqlite3_stmt **out, struct bm_err *e)
{
	return stmt_slot(s, &s->st[id], sql_text[id], out, e);
}

/* Returns st to its cache slot (reset, bindings cleared) or finalizes it
 * when it was a private copy. */
static void stmt_done(sqlite3_stmt *cached, sqlite3_stmt *st)
{
	if (st != cached) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void stmt_put(struct sq *s, enum stmt_id id, sqlite3_stmt *st)
{
	stmt_done(s->st[id], st);
}

static void finalize_all(sqlite3_stmt **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_finalize(v[i]);
		v[i] = NULL;
	}
}

/* Runs a statement that returns no rows, mapping failures through w. */
static int step_write(struct sq *s, sqlite3_stmt *st, const struct wctx *w, struct bm_err *e)
{
	if (sqlite3_step(st) == SQLITE_DONE)
		return 0;
	return db_err(s, w, e);
}

/* Runs a cached statement without parameters (BEGIN, COMMIT, ...). */
static int run(struct sq *s, enum stmt_id id, struct bm_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = stmt_get(s, id, &st, e)) != 0)
		return rc;
	rc = step_write(s, st, NULL, e);
	stmt_put(s, id, st);
	return rc;
}

/* Steps a one-row query: 1 with a row, 0 when empty, <0 on error. */
static int step_row(struct sq *s, sqlite3_stmt *st, struct bm_err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_err(s, NULL, e);
}

/* --------------------------------------------------------------- binding */

/* Binds a fixed-size string member; never reads past its array. */
static void bind_str(sqlite3_stmt *st, int i, const char *p, size_t cap)
{
	sqlite3_bind_text(st, i, p, (int)strnlen(p, cap), SQLITE_STATIC);
}

/* Binds an optional reference or time: 0 is stored as NULL. */
static void bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
	if (v == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

/* Binds a sealed field as (ciphertext, blind index) at i and i+1. */
static void bind_sealed(sqlite3_stmt *st, int i, const struct sealed *f)
{
	if (f->len == 0) {
		sqlite3_bind_null(st, i);
		sqlite3_bind_null(st, i + 1);
		return;
	}
	sqlite3_bind_blob(st, i, f->ct, (int)f->len, SQLITE_STATIC);
	sqlite3_bind_blob(st, i + 1, f->idx, sizeof f->idx, SQLITE_STATIC);
}

/* Fills zero timestamps with now, writing them back to the record. */
static void stamp(int64_t *created, int64_t *updated)
{
	if (*created == 0)
		*created = (int64_t)time(NULL);
	if (updated != NULL && *updated == 0)
		*updated = *created;
}

/* --------------------------------------------------------------- columns */

/* Copies a text column into a fixed array, truncating at cap - 1: only for
 * the audit trail, whose reader is lenient (see the row reader below). */
static void col_str(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const unsigned char *p = sqlite3_column_text(st, i);
	size_t n = p != NULL ? (size_t)sqlite3_column_bytes(st, i) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, p, n);
	dst[n] = '\0';
}

/* Borrows a text column: valid until the statement steps or resets. */
static char *col_borrow(sqlite3_stmt *st, int i)
{
	static char empty[1];
	const unsigned char *p = sqlite3_column_text(st, i);

	return p != NULL ? (char *)(uintptr_t)p : empty;
}

/* Copies a blob column into a fixed array of cap bytes, zero-padding. */
static size_t col_blob(sqlite3_stmt *st, int i, uint8_t *dst, size_t cap)
{
	const void *p = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);

	if (p == NULL)
		n = 0;
	if (n > cap)
		n = cap;
	if (n > 0)
		memcpy(dst, p, n);
	if (n < cap)
		memset(dst + n, 0, cap - n);
	return n;
}

/* ------------------------------------------------------------ row reader
 *
 * Every record leaves the store through a struct rd, which checks each value
 * against the record's domain as it copies it out: a row edited by hand (the
 * sqlite3 shell, with foreign keys or CHECK constraints switched off, or a
 * STRICT column given a wider integer) becomes an error naming the table,
 * the row and the column, never a value outside the model.  Text must fit
 * its field whole (no silent truncation), hold no NUL and be UTF-8; integers
 * must lie in their column's range (levels, states, findings, instants) and
 * fit the C type they land in; a compartment list must be in the normal
 * form core/level.h defines.  The first problem of a row is kept (sticky) and
 * the rest is still read, so the record is whole; the caller decides: gets
 * and lists fail with BM_ESCHEMA, the clearance scan marks the facts damaged.
 * The audit reader stays lenient on purpose: `audit verify` is its checker
 * and names a damaged event as modified. */

#define TIME_MAX CLOCK_MAX  /* 9999-12-31T23:59:59Z: no stored instant is later */

struct rd {
	sqlite3_stmt *st;
	const char *table;
	int64_t row;               /* the row's id, for the message */
	const char *key;           /* its readable key once read (ext_id, code), or NULL */
	struct bm_err *e;
	int rc;
};

/* Starts reading the current row of st; column idcol holds its id. */
static struct rd rd_start(sqlite3_stmt *st, const char *table, int idcol, struct bm_err *e)
{
	struct rd d = {st, table, sqlite3_column_int64(st, idcol), NULL, e, 0};

	return d;
}

/* Records the row's first problem: "damaged database: persons row 4
 * (E1004): state 99 is out of range 0..8", field "persons.state". */
static void rd_bad(struct rd *d, const char *col, const char *what)
{
	char field[64];

	if (d->rc != 0)
		return;
	snprintf(field, sizeof field, "%s.%s", d->table, col);
	d->rc = bm_errf(d->e, BM_ESCHEMA, field, "damaged database: %s row %lld%s%.64s%s: %s %s",
			d->table, (long long)d->row, d->key ? " (" : "", d->key ? d->key : "",
			d->key ? ")" : "", col, what);
}

/* Copies text column i into dst (cap bytes), refusing what does not fit
 * whole, a NUL inside it and invalid UTF-8.  A NULL column reads as "". */
static void rd_text(struct rd *d, int i, const char *col, char *dst, size_t cap)
{
	const unsigned char *p = sqlite3_column_text(d->st, i);
	size_t n = p != NULL ? (size_t)sqlite3_column_bytes(d->st, i) : 0;
	char what[96];

	dst[0] = '\0';
	if (n >= cap) {
		snprintf(what, sizeof what, "is %zu bytes, longer than %zu", n, cap - 1);
		rd_bad(d, col, what);
	} else if (n > 0 && memchr(p, '\0', n) != NULL) {
		rd_bad(d, col, "holds a NUL byte");
	} else if (!utf8_valid((const char *)p, n, NULL)) {
		rd_bad(d, col, "is not valid UTF-8");
	} else if (n > 0) {
		memcpy(dst, p, n);
		dst[n] = '\0';
	}
}

/* Reads the row's readable key (ext_id, code, name) from text column i,
 * and names the row by it in any later problem ("persons row 4 (E1004)"). */
static void rd_key(struct rd *d, int i, const char *col, char *dst, size_t cap)
{
	rd_text(d, i, col, dst, cap);
	d->key = d->rc == 0 ? dst : NULL;
}

/* Integer column i when it lies in lo..hi; else lo after recording why. */
static int64_t rd_int(struct rd *d, int i, const char *col, int64_t lo, int64_t hi)
{
	int64_t v = sqlite3_column_int64(d->st, i);
	char what[96];

	if (v >= lo && v <= hi)
		return v;
	snprintf(what, sizeof what, "%lld is out of range %lld..%lld", (long long)v,
		 (long long)lo, (long long)hi);
	rd_bad(d, col, what);
	return lo;
}

/* An instant (Unix seconds, NULL = 0) in 0..TIME_MAX. */
static int64_t rd_time(struct rd *d, int i, const char *col)
{
	return rd_int(d, i, col, 0, TIME_MAX);
}

/* A level 0..3 (lo 1 where the schema says so). */
static int rd_level(struct rd *d, int i, const char *col, int lo)
{
	return (int)rd_int(d, i, col, lo, 3);
}

/* A compartment list, which must be in normal form (sorted, distinct
 * codes): anything else read as "" after recording why. */
static void rd_comps(struct rd *d, int i, char *dst, size_t cap)
{
	int rc = d->rc;

	rd_text(d, i, "compartments", dst, cap);
	if (d->rc == rc && !compartments_valid(dst)) {
		rd_bad(d, "compartments", "is not a sorted list of distinct compartment codes");
		dst[0] = '\0';
	}
}

/* A sealed field: ciphertext of at most BM_SEALED_MAX bytes, blind index of 32. */
static void rd_sealed(struct rd *d, int i, const char *col, struct sealed *f)
{
	int n = sqlite3_column_bytes(d->st, i), m = sqlite3_column_bytes(d->st, i + 1);

	if (n > BM_SEALED_MAX || (n > 0 && m != 32))
		rd_bad(d, col, "is not a sealed value of the expected size");
	f->len = col_blob(d->st, i, f->ct, sizeof f->ct);
	col_blob(d->st, i + 1, f->idx, sizeof f->idx);
}

static int fill_unit(sqlite3_stmt *st, struct unit_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "units", 0, e);

	r->id = d.row;
	rd_key(&d, 1, "code", r->code, sizeof r->code);
	rd_text(&d, 2, "name", r->name, sizeof r->name);
	r->parent_id = rd_int(&d, 3, "parent_id", 0, INT64_MAX);
	r->version = sqlite3_column_int64(st, 4);
	r->created = rd_time(&d, 5, "created");
	r->updated = rd_time(&d, 6, "updated");
	return d.rc;
}

static int fill_post(sqlite3_stmt *st, struct post_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "posts", 0, e);

	r->id = d.row;
	rd_key(&d, 1, "code", r->code, sizeof r->code);
	r->unit_id = sqlite3_column_int64(st, 2);
	r->level = rd_level(&d, 3, "level", 0);
	rd_comps(&d, 4, r->compartments, sizeof r->compartments);
	rd_text(&d, 5, "title", r->title, sizeof r->title);
	r->version = sqlite3_column_int64(st, 6);
	r->created = rd_time(&d, 7, "created");
	r->updated = rd_time(&d, 8, "updated");
	return d.rc;
}

static int fill_person(sqlite3_stmt *st, struct person_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "persons", 0, e);

	r->id = d.row;
	rd_key(&d, 1, "ext_id", r->ext_id, sizeof r->ext_id);
	rd_text(&d, 2, "name", r->name, sizeof r->name);
	r->unit_id = sqlite3_column_int64(st, 3);
	r->state = (int)rd_int(&d, 4, "state", 0, BM_PERSON_STATES - 1);
	r->level = rd_level(&d, 5, "level", 0);
	rd_comps(&d, 6, r->compartments, sizeof r->compartments);
	rd_sealed(&d, 7, "nid_ct", &r->national_id);
	rd_sealed(&d, 9, "pp_ct", &r->passport);
	r->version = sqlite3_column_int64(st, 11);
	r->created = rd_time(&d, 12, "created");
	r->updated = rd_time(&d, 13, "updated");
	return d.rc;
}

static int fill_appt(sqlite3_stmt *st, struct appt_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "appointments", 0, e);

	r->id = d.row;
	r->person_id = sqlite3_column_int64(st, 1);
	r->post_id = sqlite3_column_int64(st, 2);
	r->start = rd_time(&d, 3, "start_at");
	r->end = rd_time(&d, 4, "end_at");
	r->version = sqlite3_column_int64(st, 5);
	r->created = rd_time(&d, 6, "created");
	return d.rc;
}

/* The policy document is checked by policy_stored_from_json when used. */
static int fill_policy(sqlite3_stmt *st, struct policy_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "policies", 0, e);

	r->version = d.row;
	rd_text(&d, 1, "profile", r->profile, sizeof r->profile);
	r->created = rd_time(&d, 2, "created");
	rd_text(&d, 3, "actor", r->actor, sizeof r->actor);
	r->json = col_borrow(st, 4);
	return d.rc;
}

/* The hot path of audit_scan: no allocation, JSON texts borrowed, and no
 * check (see above: verify is the audit trail's checker). */
static void fill_audit(sqlite3_stmt *st, struct audit_rec *r)
{
	r->seq = sqlite3_column_int64(st, 0);
	r->time_ms = sqlite3_column_int64(st, 1);
	col_str(st, 2, r->actor, sizeof r->actor);
	col_str(st, 3, r->action, sizeof r->action);
	r->subjects = col_borrow(st, 4);
	r->fields = col_borrow(st, 5);
	col_blob(st, 6, r->prev, sizeof r->prev);
	col_blob(st, 7, r->hash, sizeof r->hash);
}

/* ----------------------------------------------------------------- walks */

/* Each walk steps st to the end, calling cb per row; a nonzero cb return
 * stops it and is returned.  The caller resets st. */
static int walk_units(struct sq *s, sqlite3_stmt *st, store_unit_cb cb, void *ctx,
		      struct bm_err *e)
{
	struct unit_rec r;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = fill_unit(st, &r, e)) != 0 || (rc = cb(ctx, &r)) != 0)
			return rc;
	}
	return rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
}

static int walk_posts(struct sq *s, sqlite3_stmt *st, store_post_cb cb, void *ctx,
		      struct bm_err *e)
{
	struct post_rec r;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = fill_post(st, &r, e)) != 0 || (rc = cb(ctx, &r)) != 0)
			return rc;
	}
	return rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
}

static int walk_persons(struct sq *s, sqlite3_stmt *st, store_person_cb cb, void *ctx,
			struct bm_err *e)
{
	struct person_rec r;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = fill_person(st, &r, e)) != 0 || (rc = cb(ctx, &r)) != 0)
			return rc;
	}
	return rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
}

static int walk_appts(struct sq *s, sqlite3_stmt *st, store_appt_cb cb, void *ctx,
		      struct bm_err *e)
{
	struct appt_rec r;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = fill_appt(st, &r, e)) != 0 || (rc = cb(ctx, &r)) != 0)
			return rc;
	}
	return rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
}

static int walk_policies(struct sq *s, sqlite3_stmt *st, store_policy_cb cb, void *ctx,
			 struct bm_err *e)
{
	struct policy_rec r;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = fill_policy(st, &r, e)) != 0 || (rc = cb(ctx, &r)) != 0)
			return rc;
	}
	return rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
}

static int walk_audit(struct sq *s, sqlite3_stmt *st, store_audit_cb cb, void *ctx,
		      struct bm_err *e)
{
	struct audit_rec r;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fill_audit(st, &r);
		if ((rc = cb(ctx, &r)) != 0)
			return rc;
	}
	return rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
}

/* Gets cached statement id and binds v (when nonzero) as $1, ready to walk. */
static int walk_start(struct sq *s, enum stmt_id id, int64_t v, sqlite3_stmt **q,
		      struct bm_err *e)
{
	int rc = stmt_get(s, id, q, e);

	if (rc == 0 && v != 0)
		sqlite3_bind_int64(*q, 1, v);
	return rc;
}

/* Gets cached statement id bound for one page (see ST_UNIT_LIST): $1 the
 * id to start after (a list walked newest first starts below it, at the
 * newest when it is 0), key as $2 when the statement takes one, then the
 * limit.  pg NULL is the whole list. */
static int page_start(struct sq *s, enum stmt_id id, const struct store_page *pg, bool desc,
		      int64_t key, sqlite3_stmt **q, struct bm_err *e)
{
	int64_t after = pg ? pg->after_id : 0, limit = pg && pg->limit > 0 ? pg->limit : -1;
	int rc = stmt_get(s, id, q, e), n = 1;

	if (rc != 0)
		return rc;
	sqlite3_bind_int64(*q, n++, desc && after == 0 ? INT64_MAX : after);
	if (sqlite3_bind_parameter_count(*q) == 3)
		sqlite3_bind_int64(*q, n++, key);
	sqlite3_bind_int64(*q, n, limit);
	return 0;
}

/* ---------------------------------------------------------- open / close */

static bool is_memory(const char *path)
{
	return strcmp(path, ":memory:") == 0;
}

/* Creates the file exclusively, so two `init`s cannot both succeed. */
static int create_file(struct sq *s, struct bm_err *e)
{
	int fd;

	if (is_memory(s->path))
		return 0;
	fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return bm_errf(e, BM_EEXIST, NULL, "database %s already exists", s->path);
	if (fd < 0)
		return bm_errf(e, BM_EIO, NULL, "cannot create database %s: %s", s->path,
			       strerror(errno));
	close(fd);
	s->made_file = true;
	return 0;
}

static int check_present(struct sq *s, struct bm_err *e)
{
	struct stat sb;

	if (is_memory(s->path))
		return 0;
	if (stat(s->path, &sb) != 0 && errno == ENOENT)
		return bm_errf(e, BM_ENOINPUT, NULL, "database %s not found; run baomi init",
			       s->path);
	if (stat(s->path, &sb) != 0)
		return bm_errf(e, BM_ENOINPUT, NULL, "cannot access database %s: %s", s->path,
			       strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return bm_errf(e, BM_ENOINPUT, NULL, "database %s is not a regular file", s->path);
	return 0;
}

/* Memory statistics make every sqlite3_malloc take one process-wide mutex,
 * which the server's threads then queue on; baomi never reads them.  This
 * must run before SQLite initialises (a later call is refused, harmlessly). */
static void no_memstatus(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int open_db(struct sq *s, int flags, struct bm_err *e)
{
	int of = SQLITE_OPEN_NOMUTEX | (s->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int rc = (flags & STORE_CREATE) ? create_file(s, e) : check_present(s, e);

	if (rc != 0)
		return rc;
	pthread_once(&once, no_memstatus);
	if (is_memory(s->path))
		of |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(s->path, &s->db, of, NULL) == SQLITE_OK)
		return 0;
	if (s->db == NULL)
		return bm_errf(e, BM_EIO, NULL, "cannot open database %s: out of memory", s->path);
	return bm_errf(e, BM_EIO, NULL, "cannot open database %s: %s", s->path,
		       sqlite3_errmsg(s->db));
}

/* Runs text that returns no rows we need (PRAGMAs, migration steps). */
static int exec(struct sq *s, const char *sql, struct bm_err *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	return db_err(s, NULL, e);
}

/* Reads an integer PRAGMA. */
static int pragma_int(struct sq *s, const char *sql, int *out, struct bm_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(s, sql, &st, e)) != 0)
		return rc;
	rc = step_row(s, st, e);
	if (rc == 1)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc < 0 ? rc : 0;
}

/* The PRAGMAs every connection runs.  Reads go through a memory map (up to
 * 1 GiB of the file): audit_scan then borrows column text straight from the
 * mapped pages instead of copying each page into the cache first. */
static int configure(struct sq *s, struct bm_err *e)
{
	char sql[64];
	int rc;

	sqlite3_busy_timeout(s->db, BUSY_MS);
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", CACHE_KIB);
	if ((rc = exec(s, "PRAGMA foreign_keys = ON", e)) != 0 ||
	    (rc = exec(s, sql, e)) != 0)
		return rc;
	if (!s->readonly && (rc = exec(s, "PRAGMA journal_mode = WAL", e)) != 0)
		return rc;
	if ((rc = exec(s, "PRAGMA mmap_size = " MMAP_BYTES, e)) != 0)
		return rc;
	return exec(s, "PRAGMA synchronous = FULL", e);
}

/* Refuses files that are not baomi databases or are too new for us. */
static int check_schema(struct sq *s, int flags, struct bm_err *e)
{
	int v = 0, app = 0, latest = store__latest_schema(), rc;

	if ((rc = pragma_int(s, "PRAGMA user_version", &v, e)) != 0 ||
	    (rc = pragma_int(s, "PRAGMA application_id", &app, e)) != 0)
		return rc;
	if (app != 0 && app != STORE__APP_ID)
		return bm_errf(e, BM_ESCHEMA, NULL, "%s is not a baomi database "
			       "(application id 0x%08x)", s->path, (unsigned)app);
	if (v > latest)
		return bm_errf(e, BM_ESCHEMA, NULL, "database schema version %d is newer than "
			       "this baomi supports (%d); upgrade baomi", v, latest);
	if (v == 0 && !(flags & STORE_CREATE))
		return bm_errf(e, BM_ESCHEMA, NULL, "%s is not a baomi database (no schema); "
			       "run baomi init", s->path);
	if (v < latest && s->readonly)
		return bm_errf(e, BM_ESCHEMA, NULL, "database schema version %d is older than "
			       "this baomi (%d); open it once read-write to upgrade", v, latest);
	return 0;
}

/* Records a unique index added by a later step cannot hold: account
 * names equal but for case (step 4), persons sharing a national id or
 * passport number (step 5).  Named for the operator upgrading, who
 * must resolve them (with the baomi that wrote the database, which still
 * opens it: the failed step changed nothing); "" when there are none. */
static void migrate_clash(struct sq *s, char *out, size_t cap)
{
	static const char *const sql =
		"SELECT 'accounts ' || group_concat(name, ', ') FROM accounts "
		"GROUP BY name COLLATE NOCASE HAVING count(*) > 1 UNION ALL "
		"SELECT 'persons ' || group_concat(ext_id, ', ') || ' share a national id' "
		"FROM persons WHERE nid_idx IS NOT NULL GROUP BY substr(nid_idx, 1, 16) "
		"HAVING count(*) > 1 UNION ALL "
		"SELECT 'persons ' || group_concat(ext_id, ', ') || ' share a passport number' "
		"FROM persons WHERE pp_idx IS NOT NULL GROUP BY substr(pp_idx, 1, 16) "
		"HAVING count(*) > 1 LIMIT 8";
	sqlite3_stmt *q = NULL;
	size_t n = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
		return;
	while (n + 1 < cap && sqlite3_step(q) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		int k = snprintf(out + n, cap - n, "%s%s", n ? "; " : " (", t ? t : "?");

		n = k < 0 || (size_t)k >= cap - n ? cap - 1 : n + (size_t)k;
	}
	sqlite3_finalize(q);
	if (n > 0 && n + 2 < cap)
		memcpy(out + n, ")", 2);
}

/* Applies the step after the current version, in one transaction; *done
 * is set when the schema is already current.  The version is re-read under
 * the write lock so two processes opening at once apply each step once. */
static int migrate_step(struct sq *s, bool *done, struct bm_err *e)
{
	char sql[64];
	int v = 0, rc;

	if ((rc = exec(s, "BEGIN IMMEDIATE", e)) != 0)
		return rc;
	if ((rc = pragma_int(s, "PRAGMA user_version", &v, e)) != 0)
		goto fail;
	*done = v >= store__latest_schema();
	if (*done)
		return exec(s, "COMMIT", e);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
	if (exec(s, store__migration_sql(v + 1), e) != 0 || exec(s, sql, e) != 0) {
		char clash[512] = "";

		if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE)
			migrate_clash(s, clash, sizeof clash);
		rc = bm_errf(e, BM_ESCHEMA, NULL, "applying schema step %d to %s failed: %s%s",
			     v + 1, s->path, sqlite3_errmsg(s->db), clash);
		goto fail;
	}
	if ((rc = exec(s, "COMMIT", e)) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int migrate(struct sq *s, struct bm_err *e)
{
	bool done = false;
	int v = 0, rc;

	if ((rc = pragma_int(s, "PRAGMA user_version", &v, e)) != 0)
		return rc;
	if (v >= store__latest_schema())
		return 0;
	while (!done)
		if ((rc = migrate_step(s, &done, e)) != 0)
			return rc;
	return 0;
}

/* Opens (or with STORE_CREATE creates) the database at target.  On failure
 * nothing is left open, and a file this call created is removed. */
static int sq_open(const char *target, int flags, struct store **out, struct bm_err *e)
{
	struct sq *s;
	int rc;

	if ((flags & STORE_CREATE) && (flags & STORE_READONLY))
		return bm_errf(e, BM_EUSAGE, NULL, "cannot create a database read-only");
	if (target == NULL || target[0] == '\0')
		return bm_errf(e, BM_EUSAGE, "db", "no database path given");
	s = xcalloc(1, sizeof *s);
	s->base.ops = &store_sqlite_ops;
	s->path = xstrdup(target);
	s->readonly = (flags & STORE_READONLY) != 0;
	rc = open_db(s, flags, e);
	if (rc == 0)
		rc = configure(s, e);
	if (rc == 0)
		rc = check_schema(s, flags, e);
	if (rc == 0 && !s->readonly)
		rc = migrate(s, e);
	if (rc != 0) {
		sq_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static void remove_files(const char *path)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[4096];

	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
		if ((size_t)snprintf(p, sizeof p, "%s%s", path, sfx[i]) < sizeof p)
			unlink(p);
}

/* Finalizes every cached statement and closes the connection; an open
 * transaction is rolled back by SQLite.  A database this struct created but
 * never finished setting up is removed. */
static void sq_close(struct store *st)
{
	struct sq *s = SQ(st);
	int v = 0;

	if (s == NULL)
		return;
	finalize_all(s->st, ST__COUNT);
	finalize_all(s->pl, PL_VARIANTS);
	finalize_all(s->aq, AQ_VARIANTS);
	if (s->db != NULL && !s->readonly)
		sqlite3_exec(s->db, "PRAGMA analysis_limit = 400; PRAGMA optimize", NULL, NULL,
			     NULL);
	if (s->made_file && s->db != NULL)
		pragma_int(s, "PRAGMA user_version", &v, NULL);
	sqlite3_close(s->db);
	if (s->made_file && v == 0)
		remove_files(s->path);
	free(s->path);
	free(s);
}

/* ---------------------------------------------------------- transactions */

/* Ends a read_begin transaction if one is open.  A read transaction wrote
 * nothing, so COMMIT only releases its snapshot; should it fail, ROLLBACK
 * releases it just the same. */
static void end_read(struct sq *s)
{
	if (!s->read_tx)
		return;
	s->read_tx = false;
	if (!sqlite3_get_autocommit(s->db) && run(s, ST_COMMIT, NULL) != 0)
		run(s, ST_ROLLBACK, NULL);
}

/* A write transaction.  An open read transaction ends first: SQLite cannot
 * turn a snapshot that others may have written past into a write lock, and
 * BEGIN IMMEDIATE must see the newest data anyway. */
static int sq_begin(struct store *st, struct bm_err *e)
{
	struct sq *s = SQ(st);

	end_read(s);
	if (!sqlite3_get_autocommit(s->db))
		return bm_errf(e, BM_EINTERNAL, NULL, "a transaction is already open");
	return run(s, ST_BEGIN, e);
}

static int sq_commit(struct store *st, struct bm_err *e)
{
	return run(SQ(st), ST_COMMIT, e);
}

/* Safe to call after a failed statement or when no transaction is open. */
static void sq_rollback(struct store *st)
{
	struct sq *s = SQ(st);

	s->read_tx = false;
	if (!sqlite3_get_autocommit(s->db))
		run(s, ST_ROLLBACK, NULL);
}

/* One snapshot for many reads: in autocommit mode every statement takes
 * and drops the database's file locks (system calls, and a process-wide
 * mutex of SQLite's unix VFS); inside BEGIN they are taken once, at the
 * first read.  A read transaction left over (a caller that forgot
 * read_end) is ended first so no snapshot outlives its request; inside a
 * write transaction this is a no-op. */
static int sq_read_begin(struct store *st, struct bm_err *e)
{
	struct sq *s = SQ(st);
	int rc;

	end_read(s);
	if (!sqlite3_get_autocommit(s->db))
		return 0;
	if ((rc = run(s, ST_READ_BEGIN, e)) == 0)
		s->read_tx = true;
	return rc;
}

static void sq_read_end(struct store *st)
{
	end_read(SQ(st));
}

/* The first read of a transaction takes its snapshot and the WAL read
 * lock; one row of meta is the cheapest read there is.  A checkpoint
 * needs this connection out of its transaction; a busy one (another
 * checkpoint running) is simply left for the next time. */
static int sq_read_pin(struct store *st, bool checkpoint, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if (checkpoint && !s->readonly) {
		end_read(s);
		if (sqlite3_get_autocommit(s->db))
			(void)sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
							NULL);
	}
	if ((rc = sq_read_begin(st, e)) != 0 || (rc = stmt_get(s, ST_READ_PIN, &q, e)) != 0)
		return rc;
	rc = step_row(s, q, e);
	stmt_put(s, ST_READ_PIN, q);
	return rc < 0 ? rc : 0;
}

static int sq_schema_version(struct store *st, int *out, struct bm_err *e)
{
	return pragma_int(SQ(st), "PRAGMA user_version", out, e);
}

/* A bigger page cache keeps the random-order index inserts of an import
 * in memory; off restores the everyday size. */
static void sq_bulk_hint(struct store *st, bool on)
{
	char sql[64];

	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", on ? BULK_CACHE_KIB : CACHE_KIB);
	exec(SQ(st), sql, NULL);
}

/* ------------------------------------------------------------------ meta */

/* Copies the value into out (replacing its contents). */
static int sq_meta_get(struct store *st, const char *key, struct buf *out, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_META_GET, &q, e)) != 0)
		return rc;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	rc = step_row(s, q, e);
	if (rc == 1) {
		buf_reset(out);
		buf_append(out, sqlite3_column_text(q, 0), (size_t)sqlite3_column_bytes(q, 0));
		rc = 0;
	} else if (rc == 0) {
		rc = bm_errf(e, BM_ENOTFOUND, "key", "meta key %s not set", key);
	}
	stmt_put(s, ST_META_GET, q);
	return rc;
}

static int sq_meta_set(struct store *st, const char *key, const char *val, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_META_SET, &q, e)) != 0)
		return rc;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, val, -1, SQLITE_STATIC);
	rc = step_write(s, q, NULL, e);
	stmt_put(s, ST_META_SET, q);
	return rc;
}

/* ----------------------------------------------------------------- units */

static int sq_unit_insert(struct store *st, struct unit_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	struct wctx w = { "code", "unit code", r->code };
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_UNIT_INS, &q, e)) != 0)
		return rc;
	stamp(&r->created, &r->updated);
	bind_str(q, 1, r->code, sizeof r->code);
	bind_str(q, 2, r->name, sizeof r->name);
	bind_opt(q, 3, r->parent_id);
	sqlite3_bind_int64(q, 4, r->created);
	sqlite3_bind_int64(q, 5, r->updated);
	rc = step_write(s, q, &w, e);
	stmt_put(s, ST_UNIT_INS, q);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "parent_id", "parent unit %lld not found",
			       (long long)r->parent_id);
	if (rc == 0) {
		r->id = sqlite3_last_insert_rowid(s->db);
		r->version = 1;
	}
	return rc;
}

/* Looks a record up by id or, when key is non-NULL, by its unique key:
 * 1 with the row current in *out, 0 when absent, <0 on error.  *out is
 * NULL only when no statement was obtained; the caller puts it back. */
static int get_one(struct sq *s, enum stmt_id which, int64_t id, const char *key,
		   sqlite3_stmt **out, struct bm_err *e)
{
	int rc;

	*out = NULL;
	if ((rc = stmt_get(s, which, out, e)) != 0)
		return rc;
	if (key != NULL)
		sqlite3_bind_text(*out, 1, key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(*out, 1, id);
	return step_row(s, *out, e);
}

/* The not-found error of a get, naming the key the caller used. */
static int not_found(struct bm_err *e, const char *kind, const char *keyname, int64_t id,
		     const char *key)
{
	if (key != NULL)
		return bm_errf(e, BM_ENOTFOUND, keyname, "%s %s not found", kind, key);
	return bm_errf(e, BM_ENOTFOUND, "id", "%s %lld not found", kind, (long long)id);
}

static int sq_unit_get(struct store *st, int64_t id, const char *code, struct unit_rec *r,
		       struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id which = code != NULL ? ST_UNIT_BY_CODE : ST_UNIT_BY_ID;
	sqlite3_stmt *q;
	int rc = get_one(s, which, id, code, &q, e);

	if (rc == 1 && (rc = fill_unit(q, r, e)) == 0)
		rc = 1;
	if (q != NULL)
		stmt_put(s, which, q);
	if (rc == 0)
		return not_found(e, "unit", "code", id, code);
	return rc < 0 ? rc : 0;
}

static int sq_unit_page(struct store *st, int64_t root, const struct store_page *pg,
			store_unit_cb cb, void *ctx, struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id id = root ? ST_UNIT_LIST_SUB : ST_UNIT_LIST;
	sqlite3_stmt *q;
	int rc;

	if ((rc = page_start(s, id, pg, false, root, &q, e)) != 0)
		return rc;
	rc = walk_units(s, q, cb, ctx, e);
	stmt_put(s, id, q);
	return rc;
}

static int sq_unit_list(struct store *st, store_unit_cb cb, void *ctx, struct bm_err *e)
{
	return sq_unit_page(st, 0, NULL, cb, ctx, e);
}

static int sq_unit_within(struct store *st, int64_t unit, int64_t root, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_UNIT_WITHIN, &q, e)) != 0)
		return rc;
	sqlite3_bind_int64(q, 1, unit);
	sqlite3_bind_int64(q, 2, root);
	rc = step_row(s, q, e);
	stmt_put(s, ST_UNIT_WITHIN, q);
	return rc;
}

/* After a foreign-key failure: BM_ENOTFOUND naming field when the row
 * `exists` looks for is missing, 0 when it is present. */
static int check_ref(struct sq *s, enum stmt_id exists, int64_t id, const char *field,
		     const char *kind, struct bm_err *e)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, exists, &q, e)) != 0)
		return rc;
	sqlite3_bind_int64(q, 1, id);
	rc = step_row(s, q, e);
	stmt_put(s, exists, q);
	if (rc == 0)
		return bm_errf(e, BM_ENOTFOUND, field, "%s %lld not found", kind, (long long)id);
	return rc < 0 ? rc : 0;
}

/* ----------------------------------------------------------------- posts */

static int sq_post_insert(struct store *st, struct post_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	struct wctx w = { "code", "post code", r->code };
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_POST_INS, &q, e)) != 0)
		return rc;
	stamp(&r->created, &r->updated);
	bind_str(q, 1, r->code, sizeof r->code);
	sqlite3_bind_int64(q, 2, r->unit_id);
	sqlite3_bind_int(q, 3, r->level);
	bind_str(q, 4, r->compartments, sizeof r->compartments);
	bind_str(q, 5, r->title, sizeof r->title);
	sqlite3_bind_int64(q, 6, r->created);
	sqlite3_bind_int64(q, 7, r->updated);
	rc = step_write(s, q, &w, e);
	stmt_put(s, ST_POST_INS, q);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "unit_id", "unit %lld not found", (long long)r->unit_id);
	if (rc == 0) {
		r->id = sqlite3_last_insert_rowid(s->db);
		r->version = 1;
	}
	return rc;
}

static int sq_post_get(struct store *st, int64_t id, const char *code, struct post_rec *r,
		       struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id which = code != NULL ? ST_POST_BY_CODE : ST_POST_BY_ID;
	sqlite3_stmt *q;
	int rc = get_one(s, which, id, code, &q, e);

	if (rc == 1 && (rc = fill_post(q, r, e)) == 0)
		rc = 1;
	if (q != NULL)
		stmt_put(s, which, q);
	if (rc == 0)
		return not_found(e, "post", "code", id, code);
	return rc < 0 ? rc : 0;
}

static int sq_post_page(struct store *st, int64_t unit_id, int64_t root,
			const struct store_page *pg, store_post_cb cb, void *ctx,
			struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id id = unit_id ? ST_POST_LIST_UNIT : root ? ST_POST_LIST_SUB : ST_POST_LIST;
	sqlite3_stmt *q;
	int rc;

	if ((rc = page_start(s, id, pg, false, unit_id ? unit_id : root, &q, e)) != 0)
		return rc;
	rc = walk_posts(s, q, cb, ctx, e);
	stmt_put(s, id, q);
	return rc;
}

static int sq_post_list(struct store *st, int64_t unit_id, store_post_cb cb, void *ctx,
			struct bm_err *e)
{
	return sq_post_page(st, unit_id, 0, NULL, cb, ctx, e);
}

/* --------------------------------------------------------------- persons */

/* Binds $1..$10 shared by insert and update. */
static int bind_person(sqlite3_stmt *q, const struct person_rec *r, struct bm_err *e)
{
	if (r->national_id.len > BM_SEALED_MAX)
		return bm_errf(e, BM_EINVAL, "national_id", "sealed national id too long");
	if (r->passport.len > BM_SEALED_MAX)
		return bm_errf(e, BM_EINVAL, "passport", "sealed passport too long");
	bind_str(q, 1, r->ext_id, sizeof r->ext_id);
	bind_str(q, 2, r->name, sizeof r->name);
	sqlite3_bind_int64(q, 3, r->unit_id);
	sqlite3_bind_int(q, 4, r->state);
	sqlite3_bind_int(q, 5, r->level);
	bind_str(q, 6, r->compartments, sizeof r->compartments);
	bind_sealed(q, 7, &r->national_id);
	bind_sealed(q, 9, &r->passport);
	return 0;
}

/* Runs a person insert or update: a national id or passport number
 * already held by another person is named by field, never by whose it is
 * (the unique indexes of schema step 5); else db_err's mapping. */
static int person_write(struct sq *s, sqlite3_stmt *q, const struct wctx *w,
			struct bm_err *e)
{
	const char *m, *field;

	if (sqlite3_step(q) == SQLITE_DONE)
		return 0;
	m = sqlite3_errmsg(s->db);
	field = strstr(m, "persons_nid16") ? "national_id"
		: strstr(m, "persons_pp16") ? "passport" : NULL;
	if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE && field != NULL)
		return bm_errf(e, BM_EEXIST, field, "%s: another person already holds this "
			       "number", field);
	return db_err(s, w, e);
}

static int sq_person_insert(struct store *st, struct person_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	struct wctx w = { "ext_id", "person", r->ext_id };
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_PERSON_INS, &q, e)) != 0)
		return rc;
	stamp(&r->created, &r->updated);
	if ((rc = bind_person(q, r, e)) == 0) {
		sqlite3_bind_int64(q, 11, r->created);
		sqlite3_bind_int64(q, 12, r->updated);
		rc = person_write(s, q, &w, e);
	}
	stmt_put(s, ST_PERSON_INS, q);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "unit_id", "unit %lld not found", (long long)r->unit_id);
	if (rc == 0) {
		r->id = sqlite3_last_insert_rowid(s->db);
		r->version = 1;
	}
	return rc;
}

static int sq_person_get(struct store *st, int64_t id, const char *ext_id,
			 struct person_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id which = ext_id != NULL ? ST_PERSON_BY_EXT : ST_PERSON_BY_ID;
	sqlite3_stmt *q;
	int rc = get_one(s, which, id, ext_id, &q, e);

	if (rc == 1 && (rc = fill_person(q, r, e)) == 0)
		rc = 1;
	if (q != NULL)
		stmt_put(s, which, q);
	if (rc == 0)
		return not_found(e, "person", "ext_id", id, ext_id);
	return rc < 0 ? rc : 0;
}

/* After an optimistic update touched no row: BM_ENOTFOUND when the row is
 * gone, else BM_ECONFLICT naming the version someone else wrote. */
static int explain_stale(struct sq *s, enum stmt_id vq, int64_t id, const char *kind,
			 const char *name, struct bm_err *e)
{
	sqlite3_stmt *q;
	int64_t v = 0;
	int rc;

	if ((rc = stmt_get(s, vq, &q, e)) != 0)
		return rc;
	sqlite3_bind_int64(q, 1, id);
	rc = step_row(s, q, e);
	if (rc == 1)
		v = sqlite3_column_int64(q, 0);
	stmt_put(s, vq, q);
	if (rc == 0)
		return bm_errf(e, BM_ENOTFOUND, "id", "%s %s not found", kind, name);
	if (rc < 0)
		return rc;
	return bm_errf(e, BM_ECONFLICT, "version", "%s %s was changed by someone else "
		       "(version %lld)", kind, name, (long long)v);
}

static int sq_person_update(struct store *st, struct person_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	struct wctx w = { "ext_id", "person", r->ext_id };
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_PERSON_UPD, &q, e)) != 0)
		return rc;
	if (r->updated == 0)
		r->updated = (int64_t)time(NULL);
	if ((rc = bind_person(q, r, e)) == 0) {
		sqlite3_bind_int64(q, 11, r->updated);
		sqlite3_bind_int64(q, 12, r->id);
		sqlite3_bind_int64(q, 13, r->version);
		rc = person_write(s, q, &w, e);
	}
	stmt_put(s, ST_PERSON_UPD, q);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "unit_id", "unit %lld not found", (long long)r->unit_id);
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		return explain_stale(s, ST_PERSON_VERSION, r->id, "person", r->ext_id, e);
	if (rc == 0)
		r->version++;
	return rc;
}

/* Appends " AND <text>$n" (or just counts) and returns n. */
static int add_param(struct buf *b, int *n, const char *text)
{
	++*n;
	if (b != NULL) {
		buf_puts(b, text);
		buf_printf(b, "$%d", *n);
	}
	return *n;
}

/* Plans (and with b, writes) the person_list variant for mask; $1 is
 * always the id cursor. */
static void pl_build(unsigned mask, struct buf *b, struct pl_plan *p)
{
	int n = 1;

	memset(p, 0, sizeof *p);
	if (b != NULL)
		buf_puts(b, "SELECT " PERSON_COLS " FROM persons WHERE id > $1");
	if (mask & PL_UNIT) {
		p->unit = ++n;
		if (b != NULL)
			buf_printf(b, " AND unit_id" IN_SUBTREE("$%d"), n);
	}
	if (mask & PL_LEVEL)
		p->level = add_param(b, &n, " AND level = ");
	if (mask & PL_STATE)
		p->state = add_param(b, &n, " AND state = ");
	p->limit = add_param(b, &n, " ORDER BY id LIMIT ");
}

/* True when a variant's SQL text is needed: not cached yet, or the cached
 * statement is mid-walk and a private copy must be prepared. */
static bool need_sql(sqlite3_stmt *cached)
{
	return cached == NULL || sqlite3_stmt_busy(cached);
}

/* Gets the cached statement of a filter variant (sql built when need_sql). */
static int variant(struct sq *s, sqlite3_stmt **slot, struct buf *sql, sqlite3_stmt **out,
		   struct bm_err *e)
{
	int rc = stmt_slot(s, slot, buf_cstr(sql), out, e);

	buf_free(sql);
	return rc;
}

static int sq_person_list(struct store *st, const struct person_filter *f, store_person_cb cb,
			  void *ctx, struct bm_err *e)
{
	static const struct person_filter all = { 0, -1, -1, 0, 0 };
	struct sq *s = SQ(st);
	struct buf sql = BUF_INIT;
	struct pl_plan p;
	sqlite3_stmt *q;
	unsigned mask;
	int rc;

	if (f == NULL)
		f = &all;
	mask = (f->unit_root ? PL_UNIT : 0) | (f->level >= 0 ? PL_LEVEL : 0) |
	       (f->state >= 0 ? PL_STATE : 0);
	pl_build(mask, need_sql(s->pl[mask]) ? &sql : NULL, &p);
	if ((rc = variant(s, &s->pl[mask], &sql, &q, e)) != 0)
		return rc;
	sqlite3_bind_int64(q, 1, f->after_id);
	if (p.unit)
		sqlite3_bind_int64(q, p.unit, f->unit_root);
	if (p.level)
		sqlite3_bind_int(q, p.level, f->level);
	if (p.state)
		sqlite3_bind_int(q, p.state, f->state);
	sqlite3_bind_int64(q, p.limit, f->limit > 0 ? f->limit : -1);
	rc = walk_persons(s, q, cb, ctx, e);
	stmt_done(s->pl[mask], q);
	return rc;
}

static int sq_person_find_sealed(struct store *st, const char *column, const uint8_t idx[32],
				 store_person_cb cb, void *ctx, struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id id;
	sqlite3_stmt *q;
	int rc;

	if (column != NULL && strcmp(column, "national_id") == 0)
		id = ST_PERSON_BY_NID;
	else if (column != NULL && strcmp(column, "passport") == 0)
		id = ST_PERSON_BY_PP;
	else
		return bm_errf(e, BM_EINVAL, "column", "no sealed column named %s",
			       column ? column : "(null)");
	if ((rc = stmt_get(s, id, &q, e)) != 0)
		return rc;
	sqlite3_bind_blob(q, 1, idx, 32, SQLITE_STATIC);
	rc = walk_persons(s, q, cb, ctx, e);
	stmt_put(s, id, q);
	return rc;
}

static int sq_person_counts(struct store *st, store_count_cb cb, void *ctx, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc, stop = 0;

	if ((rc = stmt_get(s, ST_PERSON_COUNTS, &q, e)) != 0)
		return rc;
	while (stop == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW)
		stop = cb(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1),
			  sqlite3_column_int(q, 2), sqlite3_column_int64(q, 3));
	if (stop != 0)
		rc = stop;
	else
		rc = rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
	stmt_put(s, ST_PERSON_COUNTS, q);
	return rc;
}

/* ---------------------------------------------------------- appointments */

/* Names which side of an appointment's references is missing. */
static int appt_missing(struct sq *s, const struct appt_rec *r, struct bm_err *e)
{
	int rc = check_ref(s, ST_PERSON_VERSION, r->person_id, "person_id", "person",
			   e);

	if (rc == 0)
		rc = check_ref(s, ST_POST_EXISTS, r->post_id, "post_id", "post", e);
	return rc;
}

static int sq_appt_insert(struct store *st, struct appt_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_APPT_INS, &q, e)) != 0)
		return rc;
	stamp(&r->created, NULL);
	sqlite3_bind_int64(q, 1, r->person_id);
	sqlite3_bind_int64(q, 2, r->post_id);
	sqlite3_bind_int64(q, 3, r->start);
	bind_opt(q, 4, r->end);
	sqlite3_bind_int64(q, 5, r->created);
	rc = step_write(s, q, NULL, e);
	stmt_put(s, ST_APPT_INS, q);
	if (rc == BM_ENOTFOUND)
		return appt_missing(s, r, e);
	if (rc == 0) {
		r->id = sqlite3_last_insert_rowid(s->db);
		r->version = 1;
	}
	return rc;
}

static int sq_appt_update(struct store *st, struct appt_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	char name[32];
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_APPT_UPD, &q, e)) != 0)
		return rc;
	sqlite3_bind_int64(q, 1, r->person_id);
	sqlite3_bind_int64(q, 2, r->post_id);
	sqlite3_bind_int64(q, 3, r->start);
	bind_opt(q, 4, r->end);
	sqlite3_bind_int64(q, 5, r->id);
	sqlite3_bind_int64(q, 6, r->version);
	rc = step_write(s, q, NULL, e);
	stmt_put(s, ST_APPT_UPD, q);
	if (rc == BM_ENOTFOUND)
		return appt_missing(s, r, e);
	snprintf(name, sizeof name, "%lld", (long long)r->id);
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		return explain_stale(s, ST_APPT_VERSION, r->id, "appointment", name, e);
	if (rc == 0)
		r->version++;
	return rc;
}

/* person_id 0 lists every appointment (for rebuilding snapshots). */
static int sq_appt_list(struct store *st, int64_t person_id, store_appt_cb cb, void *ctx,
			struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id id = person_id ? ST_APPT_LIST_PERSON : ST_APPT_LIST;
	sqlite3_stmt *q;
	int rc;

	if ((rc = walk_start(s, id, person_id, &q, e)) != 0)
		return rc;
	rc = walk_appts(s, q, cb, ctx, e);
	stmt_put(s, id, q);
	return rc;
}

/* A person's appointments with their posts' code and level, in id order. */
static int sq_appt_posts(struct store *st, int64_t person_id, store_appt_post_cb cb,
			 void *ctx, struct bm_err *e)
{
	struct sq *s = SQ(st);
	struct appt_rec r;
	char code[BM_CODE_MAX];
	sqlite3_stmt *q;
	int rc, cbrc = 0;

	if ((rc = walk_start(s, ST_APPT_POSTS_PERSON, person_id, &q, e)) != 0)
		return rc;
	while (cbrc == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct rd d = rd_start(q, "posts", 2, e);
		int level;

		if ((cbrc = fill_appt(q, &r, e)) != 0)
			break;
		rd_text(&d, 7, "code", code, sizeof code);
		level = rd_level(&d, 8, "level", 0);
		cbrc = d.rc ? d.rc : cb(ctx, &r, code, level);
	}
	rc = cbrc ? cbrc : rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
	stmt_put(s, ST_APPT_POSTS_PERSON, q);
	return rc;
}

/* -------------------------------------------------------------- policies */

/* Next free version number, for a policy_insert with version <= 0. */
static int policy_next(struct sq *s, int64_t *out, struct bm_err *e)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_POLICY_NEXT, &q, e)) != 0)
		return rc;
	rc = step_row(s, q, e);
	if (rc == 1)
		*out = sqlite3_column_int64(q, 0);
	stmt_put(s, ST_POLICY_NEXT, q);
	return rc < 0 ? rc : 0;
}

/* The newest version is the one before the next free one. */
static int sq_policy_head(struct store *st, int64_t *version, struct bm_err *e)
{
	int64_t next = 1;
	int rc = policy_next(SQ(st), &next, e);

	*version = next - 1;
	return rc;
}

/* Stores r as given; a version <= 0 means "the next one" and is written
 * back.  The json text is copied by SQLite; the caller keeps ownership. */
static int sq_policy_insert(struct store *st, struct policy_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	char key[32];
	struct wctx w = { "version", "policy version", key };
	sqlite3_stmt *q;
	int rc;

	if (r->json == NULL)
		return bm_errf(e, BM_EINVAL, "json", "policy text is missing");
	if (r->version <= 0 && (rc = policy_next(s, &r->version, e)) != 0)
		return rc;
	if ((rc = stmt_get(s, ST_POLICY_INS, &q, e)) != 0)
		return rc;
	snprintf(key, sizeof key, "%lld", (long long)r->version);
	stamp(&r->created, NULL);
	sqlite3_bind_int64(q, 1, r->version);
	bind_str(q, 2, r->profile, sizeof r->profile);
	sqlite3_bind_int64(q, 3, r->created);
	bind_str(q, 4, r->actor, sizeof r->actor);
	sqlite3_bind_text(q, 5, r->json, -1, SQLITE_STATIC);
	rc = step_write(s, q, &w, e);
	stmt_put(s, ST_POLICY_INS, q);
	return rc;
}

static int sq_policy_get(struct store *st, int64_t v, store_policy_cb cb, void *ctx,
			 struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id id = v > 0 ? ST_POLICY_GET : ST_POLICY_NEWEST;
	struct policy_rec r;
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, id, &q, e)) != 0)
		return rc;
	if (v > 0)
		sqlite3_bind_int64(q, 1, v);
	rc = step_row(s, q, e);
	if (rc == 1) {
		if ((rc = fill_policy(q, &r, e)) == 0)
			rc = cb(ctx, &r);
	} else if (rc == 0) {
		rc = v > 0 ? bm_errf(e, BM_ENOTFOUND, "version", "policy version %lld not found",
				     (long long)v)
			   : bm_errf(e, BM_ENOTFOUND, NULL, "no policy stored; run baomi init");
	}
	stmt_put(s, id, q);
	return rc;
}

static int sq_policy_page(struct store *st, const struct store_page *pg, store_policy_cb cb,
			  void *ctx, struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id id = ST_POLICY_LIST;
	sqlite3_stmt *q;
	int rc;

	if ((rc = page_start(s, id, pg, false, 0, &q, e)) != 0)
		return rc;
	rc = walk_policies(s, q, cb, ctx, e);
	stmt_put(s, id, q);
	return rc;
}

/* ----------------------------------------------------------------- audit */

static int sq_audit_head(struct store *st, int64_t *seq, uint8_t hash[32], struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_AUDIT_HEAD, &q, e)) != 0)
		return rc;
	rc = step_row(s, q, e);
	*seq = 0;
	memset(hash, 0, 32);
	if (rc == 1) {
		*seq = sqlite3_column_int64(q, 0);
		col_blob(q, 1, hash, 32);
	}
	stmt_put(s, ST_AUDIT_HEAD, q);
	return rc < 0 ? rc : 0;
}

/* Checks what SQLite would otherwise store silently: a positive seq and a
 * JSON array of subjects (json_each would also walk an object). */
static int audit_check(const struct audit_rec *r, struct bm_err *e)
{
	const char *p = r->subjects;

	if (r->seq <= 0)
		return bm_errf(e, BM_EINVAL, "seq", "audit seq must be positive");
	if (r->fields == NULL)
		return bm_errf(e, BM_EINVAL, "fields", "audit fields are missing");
	while (p != NULL && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p == NULL || *p != '[')
		return bm_errf(e, BM_EINVAL, "subjects", "audit subjects must be a JSON array");
	return 0;
}

/* Inserts the event row itself. */
static int audit_row(struct sq *s, const struct audit_rec *r, struct bm_err *e)
{
	char key[32];
	struct wctx w = { "seq", "audit event", key };
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_AUDIT_INS, &q, e)) != 0)
		return rc;
	snprintf(key, sizeof key, "%lld", (long long)r->seq);
	sqlite3_bind_int64(q, 1, r->seq);
	sqlite3_bind_int64(q, 2, r->time_ms);
	bind_str(q, 3, r->actor, sizeof r->actor);
	bind_str(q, 4, r->action, sizeof r->action);
	sqlite3_bind_text(q, 5, r->subjects, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, r->fields, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 7, r->prev, 32, SQLITE_STATIC);
	sqlite3_bind_blob(q, 8, r->hash, 32, SQLITE_STATIC);
	rc = step_write(s, q, &w, e);
	stmt_put(s, ST_AUDIT_INS, q);
	if (rc == BM_EEXIST)
		return bm_errf(e, BM_ECONFLICT, "seq", "audit event %s already exists "
			       "(another writer appended first)", key);
	return rc;
}

/* Indexes the event's subjects for audit_query. */
static int audit_subjects(struct sq *s, const struct audit_rec *r, struct bm_err *e)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_AUDIT_SUBJ_INS, &q, e)) != 0)
		return rc;
	sqlite3_bind_int64(q, 1, r->seq);
	sqlite3_bind_text(q, 2, r->subjects, -1, SQLITE_STATIC);
	rc = step_write(s, q, NULL, e);
	if (rc == BM_EIO && (sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_ERROR)
		rc = bm_errf(e, BM_EINVAL, "subjects", "audit subjects are not valid JSON (%s)",
			     sqlite3_errmsg(s->db));
	stmt_put(s, ST_AUDIT_SUBJ_INS, q);
	return rc;
}

/* Appends one event.  Inside the caller's transaction this is part of it;
 * alone it runs in its own, so the row and its subjects land together. */
static int sq_audit_insert(struct store *st, const struct audit_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	bool own = sqlite3_get_autocommit(s->db) != 0 || s->read_tx;
	int rc;

	if ((rc = audit_check(r, e)) != 0)
		return rc;
	if (own && (rc = sq_begin(st, e)) != 0)
		return rc;
	rc = audit_row(s, r, e);
	if (rc == 0)
		rc = audit_subjects(s, r, e);
	if (own && rc == 0)
		rc = sq_commit(st, e);
	if (own && rc != 0)
		sq_rollback(st);
	return rc;
}

static int sq_audit_scan(struct store *st, int64_t from, int64_t to, store_audit_cb cb,
			 void *ctx, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_AUDIT_SCAN, &q, e)) != 0)
		return rc;
	sqlite3_bind_int64(q, 1, from);
	sqlite3_bind_int64(q, 2, to > 0 ? to : INT64_MAX);
	rc = walk_audit(s, q, cb, ctx, e);
	stmt_put(s, ST_AUDIT_SCAN, q);
	return rc;
}

/* Plans (and with b, writes) the audit_query variant for mask; $1 is
 * always the seq cursor. */
static void aq_build(unsigned mask, struct buf *b, struct aq_plan *p)
{
	int n = 1;

	memset(p, 0, sizeof *p);
	if (b != NULL)
		buf_puts(b, "SELECT " AUDIT_COLS " FROM audit WHERE seq > $1");
	if (mask & AQ_SINCE)
		p->since = add_param(b, &n, " AND time_ms >= ");
	if (mask & AQ_ACTOR)
		p->actor = add_param(b, &n, " AND actor = ");
	if (mask & AQ_ACT_EQ)
		p->act_eq = add_param(b, &n, " AND action = ");
	if (mask & AQ_ACT_LO)
		p->act_lo = add_param(b, &n, " AND action >= ");
	if (mask & AQ_ACT_HI)
		p->act_hi = add_param(b, &n, " AND action < ");
	if (mask & AQ_SUBJ) {
		p->subj = add_param(b, &n, " AND seq IN (SELECT seq FROM audit_subjects "
				    "WHERE subject = ");
		if (b != NULL)
			buf_putc(b, ')');
	}
	p->limit = add_param(b, &n, " ORDER BY seq LIMIT ");
}

/* Splits an action filter: "person.*" becomes the range [lo, hi) with hi
 * the prefix whose last byte below 0xff is incremented (no hi when there is
 * none); an exact name is lo alone.  Returns the AQ_ bits that apply. */
static unsigned action_range(const char *act, char *lo, char *hi)
{
	size_t n = strlen(act);

	if (n == 0 || act[n - 1] != '*') {
		memcpy(lo, act, n + 1);
		return AQ_ACT_EQ;
	}
	memcpy(lo, act, --n);
	lo[n] = '\0';
	memcpy(hi, lo, n + 1);
	while (n > 0 && (unsigned char)hi[n - 1] == 0xff)
		hi[--n] = '\0';
	if (n == 0)
		return lo[0] != '\0' ? AQ_ACT_LO : 0;
	hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
	return AQ_ACT_LO | AQ_ACT_HI;
}

static void aq_bind(sqlite3_stmt *q, const struct aq_plan *p, const struct audit_filter *f,
		    const char *lo, const char *hi)
{
	sqlite3_bind_int64(q, 1, f->after_seq);
	if (p->since)
		sqlite3_bind_int64(q, p->since, f->since_ms);
	if (p->actor)
		sqlite3_bind_text(q, p->actor, f->actor, -1, SQLITE_STATIC);
	if (p->act_eq)
		sqlite3_bind_text(q, p->act_eq, lo, -1, SQLITE_STATIC);
	if (p->act_lo)
		sqlite3_bind_text(q, p->act_lo, lo, -1, SQLITE_STATIC);
	if (p->act_hi)
		sqlite3_bind_text(q, p->act_hi, hi, -1, SQLITE_STATIC);
	if (p->subj)
		sqlite3_bind_text(q, p->subj, f->subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, p->limit, f->limit > 0 ? f->limit : -1);
}

static int sq_audit_query(struct store *st, const struct audit_filter *f, store_audit_cb cb,
			  void *ctx, struct bm_err *e)
{
	static const struct audit_filter all = { 0 };
	struct sq *s = SQ(st);
	char lo[BM_CODE_MAX], hi[BM_CODE_MAX];
	struct buf sql = BUF_INIT;
	struct aq_plan p;
	sqlite3_stmt *q;
	unsigned mask = 0;
	int rc;

	if (f == NULL)
		f = &all;
	if (f->action != NULL && strlen(f->action) >= BM_CODE_MAX)
		return bm_errf(e, BM_EINVAL, "action", "action filter longer than %d bytes",
			       BM_CODE_MAX - 1);
	if (f->action != NULL)
		mask |= action_range(f->action, lo, hi);
	mask |= (f->since_ms > 0 ? AQ_SINCE : 0) | (f->actor ? AQ_ACTOR : 0) |
		(f->subject ? AQ_SUBJ : 0);
	aq_build(mask, need_sql(s->aq[mask]) ? &sql : NULL, &p);
	if ((rc = variant(s, &s->aq[mask], &sql, &q, e)) != 0)
		return rc;
	aq_bind(q, &p, f, lo, hi);
	rc = walk_audit(s, q, cb, ctx, e);
	stmt_done(s->aq[mask], q);
	return rc;
}

/* -------------------------------------------------------------- accounts */

/* Roles must be known bits (core/role.h): a wider value read as a
 * uint32_t could turn into roles nobody granted. */
static int fill_account(sqlite3_stmt *st, struct account_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "accounts", 0, e);

	r->id = d.row;
	rd_key(&d, 1, "name", r->name, sizeof r->name);
	rd_text(&d, 2, "pwhash", r->pwhash, sizeof r->pwhash);
	r->roles = (uint32_t)rd_int(&d, 3, "roles", 0, ROLE_ALL);
	r->scope_unit = rd_int(&d, 4, "scope_unit", 0, INT64_MAX);
	rd_text(&d, 5, "person", r->person, sizeof r->person);
	r->disabled = sqlite3_column_int64(st, 6) != 0;
	r->failures = (int)rd_int(&d, 7, "failures", 0, INT32_MAX);
	r->locked_until = rd_time(&d, 8, "locked_until");
	r->version = sqlite3_column_int64(st, 9);
	r->created = rd_time(&d, 10, "created");
	r->must_change = sqlite3_column_int64(st, 11) != 0;
	return d.rc;
}

/* Binds the mutable columns $1..$9 shared by insert and update. */
static void bind_account(sqlite3_stmt *q, const struct account_rec *r)
{
	bind_str(q, 1, r->name, sizeof r->name);
	bind_str(q, 2, r->pwhash, sizeof r->pwhash);
	sqlite3_bind_int64(q, 3, (int64_t)r->roles);
	bind_opt(q, 4, r->scope_unit);
	if (r->person[0] != '\0')
		bind_str(q, 5, r->person, sizeof r->person);
	sqlite3_bind_int(q, 6, r->disabled ? 1 : 0);
	sqlite3_bind_int(q, 7, r->failures);
	sqlite3_bind_int64(q, 8, r->locked_until);
	sqlite3_bind_int(q, 9, r->must_change ? 1 : 0);
}

static int sq_account_insert(struct store *st, struct account_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	struct wctx w = { "name", "account", r->name };
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_ACCOUNT_INS, &q, e)) != 0)
		return rc;
	stamp(&r->created, NULL);
	bind_account(q, r);
	sqlite3_bind_int64(q, 10, r->created);
	rc = step_write(s, q, &w, e);
	stmt_put(s, ST_ACCOUNT_INS, q);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "scope_unit", "unit %lld not found", (long long)r->scope_unit);
	if (rc == 0) {
		r->id = sqlite3_last_insert_rowid(s->db);
		r->version = 1;
	}
	return rc;
}

static int sq_account_get(struct store *st, int64_t id, const char *name, struct account_rec *r,
			  struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id which = name != NULL ? ST_ACCOUNT_BY_NAME : ST_ACCOUNT_BY_ID;
	sqlite3_stmt *q;
	int rc = get_one(s, which, id, name, &q, e);

	if (rc == 1 && (rc = fill_account(q, r, e)) == 0)
		rc = 1;
	if (q != NULL)
		stmt_put(s, which, q);
	if (rc == 0)
		return not_found(e, "account", "name", id, name);
	return rc < 0 ? rc : 0;
}

static int sq_account_update(struct store *st, struct account_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	struct wctx w = { "name", "account", r->name };
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_ACCOUNT_UPD, &q, e)) != 0)
		return rc;
	bind_account(q, r);
	sqlite3_bind_int64(q, 10, r->id);
	sqlite3_bind_int64(q, 11, r->version);
	rc = step_write(s, q, &w, e);
	stmt_put(s, ST_ACCOUNT_UPD, q);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "scope_unit", "unit %lld not found", (long long)r->scope_unit);
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		return explain_stale(s, ST_ACCOUNT_VERSION, r->id, "account", r->name, e);
	if (rc == 0)
		r->version++;
	return rc;
}

static int walk_accounts(struct sq *s, sqlite3_stmt *st, store_account_cb cb, void *ctx,
			 struct bm_err *e)
{
	struct account_rec r;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = fill_account(st, &r, e)) != 0 || (rc = cb(ctx, &r)) != 0)
			return rc;
	}
	return rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
}

static int sq_account_page(struct store *st, const struct store_page *pg,
			   store_account_cb cb, void *ctx, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = page_start(s, ST_ACCOUNT_LIST, pg, false, 0, &q, e)) != 0)
		return rc;
	rc = walk_accounts(s, q, cb, ctx, e);
	stmt_put(s, ST_ACCOUNT_LIST, q);
	return rc;
}

static int sq_account_list(struct store *st, store_account_cb cb, void *ctx, struct bm_err *e)
{
	return sq_account_page(st, NULL, cb, ctx, e);
}

/* -------------------------------------------------------------- sessions */

/* Reads a session row, every value checked like any other row's: a time
 * out of range would overflow the idle and absolute expiry arithmetic. */
static int fill_session(sqlite3_stmt *st, struct session_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "sessions", 0, e);

	r->id = d.row;
	if (sqlite3_column_bytes(st, 1) != (int)sizeof r->token_hash)
		rd_bad(&d, "token_hash", "is not 32 bytes");
	col_blob(st, 1, r->token_hash, sizeof r->token_hash);
	r->account_id = rd_int(&d, 2, "account_id", 1, INT64_MAX);
	r->created = rd_time(&d, 3, "created");
	r->last_seen = rd_time(&d, 4, "last_seen");
	r->expires_abs = rd_time(&d, 5, "expires_abs");
	rd_text(&d, 6, "client", r->client, sizeof r->client);
	r->revoked = sqlite3_column_int(st, 7) != 0;
	return d.rc;
}

static int sq_session_insert(struct store *st, struct session_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	struct wctx w = { "token", "session", "token" };
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_SESSION_INS, &q, e)) != 0)
		return rc;
	stamp(&r->created, &r->last_seen);
	sqlite3_bind_blob(q, 1, r->token_hash, sizeof r->token_hash, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, r->account_id);
	sqlite3_bind_int64(q, 3, r->created);
	sqlite3_bind_int64(q, 4, r->last_seen);
	sqlite3_bind_int64(q, 5, r->expires_abs);
	bind_str(q, 6, r->client, sizeof r->client);
	rc = step_write(s, q, &w, e);
	stmt_put(s, ST_SESSION_INS, q);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "account_id", "account %lld not found",
			       (long long)r->account_id);
	if (rc == 0)
		r->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

static int sq_session_get_by_hash(struct store *st, const uint8_t hash[32],
				  struct session_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_SESSION_BY_HASH, &q, e)) != 0)
		return rc;
	sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
	rc = step_row(s, q, e);
	if (rc == 1 && (rc = fill_session(q, r, e)) == 0)
		rc = 1;
	stmt_put(s, ST_SESSION_BY_HASH, q);
	if (rc == 0)
		return bm_errf(e, BM_ENOTFOUND, "token", "no such session");
	return rc < 0 ? rc : 0;
}

/* Runs a two-integer update (touch, revoke) and reports a missing row. */
static int update2(struct sq *s, enum stmt_id id, int64_t a, int64_t b, int nb,
		   struct bm_err *e)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, id, &q, e)) != 0)
		return rc;
	sqlite3_bind_int64(q, 1, a);
	if (nb > 1)
		sqlite3_bind_int64(q, 2, b);
	rc = step_write(s, q, NULL, e);
	stmt_put(s, id, q);
	if (rc == 0 && sqlite3_changes(s->db) == 0 && id != ST_SESSION_REVOKE_ALL)
		return bm_errf(e, BM_ENOTFOUND, "id", "session not found");
	return rc;
}

/* A touch never waits for the write lock: an import or the due run may
 * hold it for seconds, and the request being answered (a decision) must
 * not wait with it.  A touch missed as busy is tried again at the
 * session's next use (sessions.c, cache_touch_missed). */
static int sq_session_touch(struct store *st, int64_t id, int64_t last_seen, struct bm_err *e)
{
	struct sq *s = SQ(st);
	int rc;

	sqlite3_busy_timeout(s->db, 0);
	rc = update2(s, ST_SESSION_TOUCH, last_seen, id, 2, e);
	sqlite3_busy_timeout(s->db, BUSY_MS);
	return rc;
}

static int sq_session_revoke(struct store *st, int64_t id, int64_t account_id,
			     struct bm_err *e)
{
	if (id == 0)
		return update2(SQ(st), ST_SESSION_REVOKE_ALL, account_id, 0, 1, e);
	return update2(SQ(st), ST_SESSION_REVOKE, id, 0, 1, e);
}

static int walk_sessions(struct sq *s, sqlite3_stmt *st, store_session_cb cb, void *ctx,
			 struct bm_err *e)
{
	struct session_rec r;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = fill_session(st, &r, e)) != 0 || (rc = cb(ctx, &r)) != 0)
			return rc;
	}
	return rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
}

static int sq_session_page(struct store *st, int64_t account_id, const struct store_page *pg,
			   store_session_cb cb, void *ctx, struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id id = account_id ? ST_SESSION_LIST_ACCOUNT : ST_SESSION_LIST;
	sqlite3_stmt *q;
	int rc;

	if ((rc = page_start(s, id, pg, true, account_id, &q, e)) != 0)
		return rc;
	rc = walk_sessions(s, q, cb, ctx, e);
	stmt_put(s, id, q);
	return rc;
}

static int sq_session_list(struct store *st, int64_t account_id, store_session_cb cb,
			   void *ctx, struct bm_err *e)
{
	return sq_session_page(st, account_id, NULL, cb, ctx, e);
}

/* -------------------------------------------------------------- vetting */

static int fill_review(sqlite3_stmt *st, struct review_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "reviews", 0, e);

	r->id = d.row;
	r->person_id = sqlite3_column_int64(st, 1);
	r->level = rd_level(&d, 2, "level", 1);
	rd_text(&d, 3, "trigger", r->trigger, sizeof r->trigger);
	rd_text(&d, 4, "opened_by", r->opened_by, sizeof r->opened_by);
	r->opened_at = rd_time(&d, 5, "opened_at");
	r->due_at = rd_time(&d, 6, "due_at");
	r->state = (int)rd_int(&d, 7, "state", REVIEW_OPEN, REVIEW_REJECTED);
	r->decided_at = rd_time(&d, 8, "decided_at");
	r->valid_until = rd_time(&d, 9, "valid_until");
	rd_text(&d, 10, "reason", r->reason, sizeof r->reason);
	r->version = sqlite3_column_int64(st, 11);
	return d.rc;
}

/* The views index tables by item and finding: both must be in range. */
static int fill_item(sqlite3_stmt *st, struct review_item_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "review_items", 0, e);

	r->review_id = d.row;
	r->item = (int)rd_int(&d, 1, "item", 1, 6);
	r->finding = (int)rd_int(&d, 2, "finding", 1, 3);
	rd_text(&d, 3, "note", r->note, sizeof r->note);
	rd_text(&d, 4, "by", r->by, sizeof r->by);
	r->at = rd_time(&d, 5, "at");
	return d.rc;
}

static int fill_approval(sqlite3_stmt *st, struct approval_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "review_approvals", 0, e);

	r->review_id = d.row;
	rd_text(&d, 1, "approver", r->approver, sizeof r->approver);
	r->at = rd_time(&d, 2, "at");
	r->decision = (int)rd_int(&d, 3, "decision", 1, 2);
	rd_text(&d, 4, "reason", r->reason, sizeof r->reason);
	return d.rc;
}

static int fill_matter(sqlite3_stmt *st, struct matter_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "matters", 0, e);

	r->id = d.row;
	r->person_id = sqlite3_column_int64(st, 1);
	rd_text(&d, 2, "type", r->type, sizeof r->type);
	rd_text(&d, 3, "filed_by", r->filed_by, sizeof r->filed_by);
	r->filed_at = rd_time(&d, 4, "filed_at");
	rd_text(&d, 5, "detail", r->detail, sizeof r->detail);
	rd_text(&d, 6, "action", r->action, sizeof r->action);
	r->review_id = sqlite3_column_int64(st, 7);
	return d.rc;
}

static int fill_susp(sqlite3_stmt *st, struct suspension_rec *r, struct bm_err *e)
{
	struct rd d = rd_start(st, "suspensions", 0, e);

	r->id = d.row;
	r->person_id = sqlite3_column_int64(st, 1);
	r->since = rd_time(&d, 2, "since");
	rd_text(&d, 3, "by", r->by, sizeof r->by);
	rd_text(&d, 4, "reason", r->reason, sizeof r->reason);
	r->matter_id = sqlite3_column_int64(st, 5);
	r->lifted_at = rd_time(&d, 6, "lifted_at");
	rd_text(&d, 7, "lifted_by", r->lifted_by, sizeof r->lifted_by);
	rd_text(&d, 8, "lift_reason", r->lift_reason, sizeof r->lift_reason);
	r->version = sqlite3_column_int64(st, 9);
	return d.rc;
}

/* persons.level is derived: the highest level of the open appointments'
 * posts.  One edited without the other is damage, not a new category. */
static void rd_level_mismatch(struct rd *d, int level, int64_t posts)
{
	char what[96];

	snprintf(what, sizeof what, "%d is not %lld, the highest level of the open posts", level,
		 (long long)posts);
	rd_bad(d, "level", what);
}

/* The review in force joined to a person's facts (columns 6..10), checked
 * under the review's own row id; p's first problem stays the one kept. */
static void fill_facts_review(sqlite3_stmt *st, struct rd *p, struct facts_rec *r)
{
	struct rd d = rd_start(st, "reviews", 6, p->e);

	d.rc = p->rc;
	r->review_id = d.row;
	if (r->review_id == 0)
		return;
	r->review_state = (int)rd_int(&d, 7, "state", REVIEW_APPROVED, REVIEW_REJECTED);
	r->review_level = rd_level(&d, 8, "level", 1);
	r->review_decided_at = rd_time(&d, 9, "decided_at");
	r->review_valid_until = rd_time(&d, 10, "valid_until");
	if (r->review_valid_until != 0 && r->review_valid_until < r->review_decided_at)
		rd_bad(&d, "valid_until", "is before decided_at");
	p->rc = d.rc;
}

/* The clearance scan's hot path: fixed columns, no allocation.  A damaged
 * row is not an error here: the person's facts carry the problem in
 * r->damage, so one hand-edited row denies that person (the gates see it)
 * while everyone else's clearance is still read.  The joined review and the
 * open appointments' posts are checked as part of the person's facts. */
static int fill_facts(sqlite3_stmt *st, struct facts_rec *r, struct bm_err *e)
{
	struct bm_err de = BM_ERR_INIT;
	struct rd d = rd_start(st, "persons", 0, &de);
	int64_t posts;

	(void)e;
	r->person_id = d.row;
	rd_key(&d, 1, "ext_id", r->ext_id, sizeof r->ext_id);
	r->unit_id = sqlite3_column_int64(st, 2);
	r->state = (int)rd_int(&d, 3, "state", 0, BM_PERSON_STATES - 1);
	r->level = rd_level(&d, 4, "level", 0);
	rd_comps(&d, 5, r->compartments, sizeof r->compartments);
	r->state_since = rd_time(&d, 13, "state_since");
	r->suspended_since = rd_time(&d, 11, "suspension since");
	r->post_since = rd_time(&d, 12, "appointment start_at");
	r->created = rd_time(&d, 15, "created");
	r->on_post_since = rd_time(&d, 16, "on_post_since");
	r->last_lifted = rd_time(&d, 17, "suspension lifted_at");
	r->secret_post_ended = rd_time(&d, 18, "appointment end_at");
	posts = sqlite3_column_int64(st, 14);
	if (posts < 0)
		rd_bad(&d, "appointments", "hold a post that does not exist");
	else if (posts != r->level)
		rd_level_mismatch(&d, r->level, posts);
	fill_facts_review(st, &d, r);
	if (d.rc != 0)
		snprintf(r->damage, sizeof r->damage, "%s", de.msg);
	return 0;
}
/* One list function per record type: cached statement id, bound to key
 * ($1) when the statement takes it, walked to the end. */
#define VET_LIST(fname, rectype, cbtype, filler)                                       \
	static int fname(struct sq *s, enum stmt_id id, int64_t key, cbtype cb, void *ctx, \
			 struct bm_err *e)                                               \
	{                                                                               \
		struct rectype r;                                                       \
		sqlite3_stmt *q;                                                        \
		int rc, stop = 0;                                                       \
		if ((rc = stmt_get(s, id, &q, e)) != 0)                                 \
			return rc;                                                      \
		if (sqlite3_bind_parameter_count(q) > 0)                                \
			sqlite3_bind_int64(q, 1, key);                                  \
		while (stop == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {             \
			memset(&r, 0, sizeof r);                                        \
			if ((stop = filler(q, &r, e)) == 0)                             \
				stop = cb(ctx, &r);                                     \
		}                                                                       \
		if (stop != 0)                                                          \
			rc = stop;                                                      \
		else                                                                    \
			rc = rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);                \
		stmt_done(s->st[id], q);                                                \
		return rc;                                                              \
	}

VET_LIST(list_items, review_item_rec, store_item_cb, fill_item)
VET_LIST(list_approvals, approval_rec, store_approval_cb, fill_approval)
VET_LIST(list_susps, suspension_rec, store_susp_cb, fill_susp)
VET_LIST(list_facts, facts_rec, store_facts_cb, fill_facts)

/* Runs a cached write statement already bound; maps failures via w and
 * a foreign-key failure to "person not found". */
static int vet_write(struct sq *s, enum stmt_id id, sqlite3_stmt *q, const struct wctx *w,
		     struct bm_err *e)
{
	int rc = step_write(s, q, w, e);

	stmt_put(s, id, q);
	if (rc == BM_ENOTFOUND)
		return bm_errf(e, rc, "person_id", "a referenced person or review does not exist");
	return rc;
}

static int sq_review_insert(struct store *st, struct review_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_REVIEW_INS, &q, e)) != 0)
		return rc;
	stamp(&r->opened_at, NULL);
	sqlite3_bind_int64(q, 1, r->person_id);
	sqlite3_bind_int(q, 2, r->level);
	bind_str(q, 3, r->trigger, sizeof r->trigger);
	bind_str(q, 4, r->opened_by, sizeof r->opened_by);
	sqlite3_bind_int64(q, 5, r->opened_at);
	bind_opt(q, 6, r->due_at);
	sqlite3_bind_int(q, 7, r->state);
	bind_opt(q, 8, r->decided_at);
	bind_opt(q, 9, r->valid_until);
	bind_str(q, 10, r->reason, sizeof r->reason);
	if ((rc = vet_write(s, ST_REVIEW_INS, q, NULL, e)) == 0) {
		r->id = sqlite3_last_insert_rowid(s->db);
		r->version = 1;
	}
	return rc;
}

static int sq_review_get(struct store *st, int64_t id, struct review_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc = get_one(s, ST_REVIEW_GET, id, NULL, &q, e);

	if (rc == 1 && (rc = fill_review(q, r, e)) == 0)
		rc = 1;
	if (q != NULL)
		stmt_put(s, ST_REVIEW_GET, q);
	if (rc == 0)
		return not_found(e, "review", "id", id, NULL);
	return rc < 0 ? rc : 0;
}

static int sq_review_update(struct store *st, struct review_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	char name[32];
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_REVIEW_UPD, &q, e)) != 0)
		return rc;
	sqlite3_bind_int(q, 1, r->level);
	bind_opt(q, 2, r->due_at);
	sqlite3_bind_int(q, 3, r->state);
	bind_opt(q, 4, r->decided_at);
	bind_opt(q, 5, r->valid_until);
	bind_str(q, 6, r->reason, sizeof r->reason);
	sqlite3_bind_int64(q, 7, r->id);
	sqlite3_bind_int64(q, 8, r->version);
	if ((rc = vet_write(s, ST_REVIEW_UPD, q, NULL, e)) != 0)
		return rc;
	snprintf(name, sizeof name, "%lld", (long long)r->id);
	if (sqlite3_changes(s->db) == 0)
		return explain_stale(s, ST_REVIEW_VERSION, r->id, "review", name, e);
	r->version++;
	return 0;
}

/* Reviews matching f, by id, until cb returns non-zero (returned). */
static int sq_review_find(struct store *st, const struct review_filter *f, store_review_cb cb,
			  void *ctx, struct bm_err *e)
{
	struct sq *s = SQ(st);
	enum stmt_id id = f->person_id ? ST_REVIEW_FIND_PERSON
			  : f->state == REVIEW_OPEN ? ST_REVIEW_FIND_OPEN : ST_REVIEW_FIND_ANY;
	struct review_rec r;
	sqlite3_stmt *q;
	int rc, stop = 0;

	if ((rc = stmt_get(s, id, &q, e)) != 0)
		return rc;
	if (id == ST_REVIEW_FIND_PERSON) {
		sqlite3_bind_int64(q, 1, f->person_id);
		sqlite3_bind_int(q, 2, f->state);
		sqlite3_bind_int64(q, 3, f->after_id);
	} else if (id == ST_REVIEW_FIND_OPEN) {
		sqlite3_bind_int64(q, 1, f->after_id);
	} else {
		sqlite3_bind_int(q, 1, f->state);
		sqlite3_bind_int64(q, 2, f->after_id);
	}
	while (stop == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		if ((stop = fill_review(q, &r, e)) == 0)
			stop = cb(ctx, &r);
	}
	rc = stop != 0 ? stop : rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
	stmt_done(s->st[id], q);
	return rc;
}

static int sq_review_item_set(struct store *st, const struct review_item_rec *r,
			      struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_ITEM_SET, &q, e)) != 0)
		return rc;
	sqlite3_bind_int64(q, 1, r->review_id);
	sqlite3_bind_int(q, 2, r->item);
	sqlite3_bind_int(q, 3, r->finding);
	bind_str(q, 4, r->note, sizeof r->note);
	bind_str(q, 5, r->by, sizeof r->by);
	sqlite3_bind_int64(q, 6, r->at ? r->at : (int64_t)time(NULL));
	return vet_write(s, ST_ITEM_SET, q, NULL, e);
}

static int sq_review_item_list(struct store *st, int64_t review_id, store_item_cb cb, void *ctx,
			       struct bm_err *e)
{
	return list_items(SQ(st), ST_ITEM_LIST, review_id, cb, ctx, e);
}

static int sq_approval_insert(struct store *st, const struct approval_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	struct wctx w = { "approver", "decision by", r->approver };
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_APPROVAL_INS, &q, e)) != 0)
		return rc;
	sqlite3_bind_int64(q, 1, r->review_id);
	bind_str(q, 2, r->approver, sizeof r->approver);
	sqlite3_bind_int64(q, 3, r->at ? r->at : (int64_t)time(NULL));
	sqlite3_bind_int(q, 4, r->decision);
	bind_str(q, 5, r->reason, sizeof r->reason);
	return vet_write(s, ST_APPROVAL_INS, q, &w, e);
}

static int sq_approval_list(struct store *st, int64_t review_id, store_approval_cb cb,
			    void *ctx, struct bm_err *e)
{
	return list_approvals(SQ(st), ST_APPROVAL_LIST, review_id, cb, ctx, e);
}

static int sq_matter_insert(struct store *st, struct matter_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_MATTER_INS, &q, e)) != 0)
		return rc;
	stamp(&r->filed_at, NULL);
	sqlite3_bind_int64(q, 1, r->person_id);
	bind_str(q, 2, r->type, sizeof r->type);
	bind_str(q, 3, r->filed_by, sizeof r->filed_by);
	sqlite3_bind_int64(q, 4, r->filed_at);
	bind_str(q, 5, r->detail, sizeof r->detail);
	bind_str(q, 6, r->action, sizeof r->action);
	bind_opt(q, 7, r->review_id);
	if ((rc = vet_write(s, ST_MATTER_INS, q, NULL, e)) == 0)
		r->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

static int sq_matter_page(struct store *st, int64_t person_id, const struct store_page *pg,
			  store_matter_cb cb, void *ctx, struct bm_err *e)
{
	struct sq *s = SQ(st);
	struct matter_rec r;
	sqlite3_stmt *q;
	int rc, stop = 0;

	if ((rc = page_start(s, ST_MATTER_LIST, pg, false, person_id, &q, e)) != 0)
		return rc;
	while (stop == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		if ((stop = fill_matter(q, &r, e)) == 0)
			stop = cb(ctx, &r);
	}
	rc = stop != 0 ? stop : rc == SQLITE_DONE ? 0 : db_err(s, NULL, e);
	stmt_put(s, ST_MATTER_LIST, q);
	return rc;
}

static int sq_suspension_insert(struct store *st, struct suspension_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_SUSP_INS, &q, e)) != 0)
		return rc;
	stamp(&r->since, NULL);
	sqlite3_bind_int64(q, 1, r->person_id);
	sqlite3_bind_int64(q, 2, r->since);
	bind_str(q, 3, r->by, sizeof r->by);
	bind_str(q, 4, r->reason, sizeof r->reason);
	bind_opt(q, 5, r->matter_id);
	if ((rc = vet_write(s, ST_SUSP_INS, q, NULL, e)) == 0) {
		r->id = sqlite3_last_insert_rowid(s->db);
		r->version = 1;
	}
	return rc;
}

static int sq_suspension_update(struct store *st, struct suspension_rec *r, struct bm_err *e)
{
	struct sq *s = SQ(st);
	char name[32];
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_SUSP_UPD, &q, e)) != 0)
		return rc;
	bind_opt(q, 1, r->lifted_at);
	bind_str(q, 2, r->lifted_by, sizeof r->lifted_by);
	bind_str(q, 3, r->lift_reason, sizeof r->lift_reason);
	sqlite3_bind_int64(q, 4, r->id);
	sqlite3_bind_int64(q, 5, r->version);
	if ((rc = vet_write(s, ST_SUSP_UPD, q, NULL, e)) != 0)
		return rc;
	snprintf(name, sizeof name, "%lld", (long long)r->id);
	if (sqlite3_changes(s->db) == 0)
		return explain_stale(s, ST_SUSP_VERSION, r->id, "suspension", name, e);
	r->version++;
	return 0;
}

static int sq_suspension_list(struct store *st, int64_t person_id, store_susp_cb cb, void *ctx,
			      struct bm_err *e)
{
	return list_susps(SQ(st), ST_SUSP_LIST, person_id, cb, ctx, e);
}

static int sq_facts_scan(struct store *st, int64_t person_id, store_facts_cb cb, void *ctx,
			 struct bm_err *e)
{
	return list_facts(SQ(st), person_id ? ST_FACTS_ONE : ST_FACTS_ALL, person_id, cb, ctx,
			  e);
}

/* The first column of a one-row query, its $1 bound to text when given:
 * 1 with *out set, 0 when there is no row (*out 0), <0 on error. */
static int query_int(struct sq *s, enum stmt_id id, const char *text, int64_t *out,
		     struct bm_err *e)
{
	sqlite3_stmt *q;
	int rc;

	*out = 0;
	if ((rc = stmt_get(s, id, &q, e)) != 0)
		return rc;
	if (text != NULL)
		sqlite3_bind_text(q, 1, text, -1, SQLITE_STATIC);
	rc = step_row(s, q, e);
	if (rc == 1)
		*out = sqlite3_column_int64(q, 0);
	stmt_put(s, id, q);
	return rc;
}

/* A named counter kept in meta (0 while never bumped). */
static int sq_counter_get(struct store *st, const char *name, int64_t *out, struct bm_err *e)
{
	int rc = query_int(SQ(st), ST_COUNTER_GET, name, out, e);

	return rc < 0 ? rc : 0;
}

static int sq_counter_bump(struct store *st, const char *name, struct bm_err *e)
{
	struct sq *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = stmt_get(s, ST_COUNTER_BUMP, &q, e)) != 0)
		return rc;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = step_write(s, q, NULL, e);
	stmt_put(s, ST_COUNTER_BUMP, q);
	return rc;
}

/* PRAGMA data_version: cheap (no disk read when nothing changed), so a
 * maintenance thread may poll it every second. */
static int sq_data_version(struct store *st, int64_t *out, struct bm_err *e)
{
	int v = 0, rc = pragma_int(SQ(st), "PRAGMA data_version", &v, e);

	*out = v;
	return rc;
}

static int sq_person_total(struct store *st, int64_t *n, struct bm_err *e)
{
	int rc = query_int(SQ(st), ST_PERSON_TOTAL, NULL, n, e);

	return rc < 0 ? rc : 0;
}

/* The row id of ext_id, whatever the rest of its row holds (a damaged
 * row is still that person: the facts scan carries the damage). */
static int sq_person_row(struct store *st, const char *ext_id, int64_t *id, struct bm_err *e)
{
	int rc = query_int(SQ(st), ST_PERSON_ROW, ext_id, id, e);

	if (rc == 0)
		return bm_errf(e, BM_ENOTFOUND, "ext_id", "person %.64s not found", ext_id);
	return rc < 0 ? rc : 0;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.schema_version = sq_schema_version,
	.bulk_hint = sq_bulk_hint,
	.meta_get = sq_meta_get,
	.meta_set = sq_meta_set,
	.unit_insert = sq_unit_insert,
	.unit_get = sq_unit_get,
	.unit_list = sq_unit_list,
	.unit_page = sq_unit_page,
	.unit_within = sq_unit_within,
	.post_insert = sq_post_insert,
	.post_get = sq_post_get,
	.post_list = sq_post_list,
	.post_page = sq_post_page,
	.person_insert = sq_person_insert,
	.person_get = sq_person_get,
	.person_update = sq_person_update,
	.person_list = sq_person_list,
	.person_find_sealed = sq_person_find_sealed,
	.person_counts = sq_person_counts,
	.appt_insert = sq_appt_insert,
	.appt_update = sq_appt_update,
	.appt_list = sq_appt_list,
	.appt_posts = sq_appt_posts,
	.policy_insert = sq_policy_insert,
	.policy_get = sq_policy_get,
	.policy_page = sq_policy_page,
	.policy_head = sq_policy_head,
	.audit_head = sq_audit_head,
	.audit_insert = sq_audit_insert,
	.audit_scan = sq_audit_scan,
	.audit_query = sq_audit_query,
	.account_insert = sq_account_insert,
	.account_get = sq_account_get,
	.account_update = sq_account_update,
	.account_list = sq_account_list,
	.account_page = sq_account_page,
	.session_insert = sq_session_insert,
	.session_get_by_hash = sq_session_get_by_hash,
	.session_touch = sq_session_touch,
	.session_revoke = sq_session_revoke,
	.session_list = sq_session_list,
	.session_page = sq_session_page,
	.review_insert = sq_review_insert,
	.review_get = sq_review_get,
	.review_update = sq_review_update,
	.review_find = sq_review_find,
	.review_item_set = sq_review_item_set,
	.review_item_list = sq_review_item_list,
	.approval_insert = sq_approval_insert,
	.approval_list = sq_approval_list,
	.matter_insert = sq_matter_insert,
	.matter_page = sq_matter_page,
	.suspension_insert = sq_suspension_insert,
	.suspension_update = sq_suspension_update,
	.suspension_list = sq_suspension_list,
	.facts_scan = sq_facts_scan,
	.person_total = sq_person_total,
	.person_row = sq_person_row,
	.read_begin = sq_read_begin,
	.read_end = sq_read_end,
	.read_pin = sq_read_pin,
	.counter_get = sq_counter_get,
	.counter_bump = sq_counter_bump,
	.data_version = sq_data_version,
};
