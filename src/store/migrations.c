/*
 * migrations.c - the SQLite schema, as numbered steps embedded in the binary.
 *
 * store_sqlite.c applies each missing step in its own transaction and
 * records it in PRAGMA user_version.  Tables are STRICT so a wrong type is
 * an error, not a silent conversion.  This file must never edit a step that
 * has shipped: databases in the field were built by it.
 *
 * The audit trail is append-only by trigger, so even a bug (or a hand with
 * the sqlite3 shell who does not drop the triggers first) cannot rewrite it;
 * `audit verify` catches the rest.
 */
#include "migrations.h"

#include <stddef.h>

static const char *const steps[] = {
	/* 1: the registry, policies and the audit trail. */
	"PRAGMA application_id = 1111576397;\n" /* STORE__APP_ID, "BAOM" */
	"CREATE TABLE meta (\n"
	"  key TEXT PRIMARY KEY,\n"
	"  value TEXT NOT NULL\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE TABLE units (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  code TEXT NOT NULL UNIQUE,\n"
	"  name TEXT NOT NULL,\n"
	"  parent_id INTEGER REFERENCES units(id),\n"
	"  version INTEGER NOT NULL,\n"
	"  created INTEGER NOT NULL,\n"
	"  updated INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX units_parent ON units(parent_id);\n"
	"CREATE TABLE posts (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  code TEXT NOT NULL UNIQUE,\n"
	"  unit_id INTEGER NOT NULL REFERENCES units(id),\n"
	"  level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 3),\n"
	"  compartments TEXT NOT NULL,\n"
	"  title TEXT NOT NULL,\n"
	"  version INTEGER NOT NULL,\n"
	"  created INTEGER NOT NULL,\n"
	"  updated INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX posts_unit ON posts(unit_id);\n"
	"CREATE TABLE persons (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ext_id TEXT NOT NULL UNIQUE,\n"
	"  name TEXT NOT NULL,\n"
	"  unit_id INTEGER NOT NULL REFERENCES units(id),\n"
	"  state INTEGER NOT NULL,\n"
	"  level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 3),\n"
	"  compartments TEXT NOT NULL,\n"
	"  nid_ct BLOB,\n"
	"  nid_idx BLOB,\n"
	"  pp_ct BLOB,\n"
	"  pp_idx BLOB,\n"
	"  version INTEGER NOT NULL,\n"
	"  created INTEGER NOT NULL,\n"
	"  updated INTEGER NOT NULL\n"
	") STRICT;\n"
	/* Blind-index lookups go through the first 8 bytes of the 32-byte
	 * index (the query then compares all 32): a third of the index size,
	 * so an import's random inserts stay in the page cache.  Sparse:
	 * absent fields cost no index entry. */
	"CREATE INDEX persons_nid ON persons(substr(nid_idx, 1, 8)) WHERE nid_idx IS NOT NULL;\n"
	"CREATE INDEX persons_pp ON persons(substr(pp_idx, 1, 8)) WHERE pp_idx IS NOT NULL;\n"
	/* (unit_id, level, state) serves unit lookups and covers the counts. */
	"CREATE INDEX persons_unit ON persons(unit_id, level, state);\n"
	"CREATE INDEX persons_level_state ON persons(level, state);\n"
	"CREATE TABLE appointments (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  person_id INTEGER NOT NULL REFERENCES persons(id),\n"
	"  post_id INTEGER NOT NULL REFERENCES posts(id),\n"
	"  start_at INTEGER NOT NULL,\n"
	"  end_at INTEGER,\n"
	"  version INTEGER NOT NULL,\n"
	"  created INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX appointments_person ON appointments(person_id);\n"
	"CREATE INDEX appointments_post ON appointments(post_id);\n"
	"CREATE TABLE policies (\n"
	"  version INTEGER PRIMARY KEY,\n"
	"  profile TEXT NOT NULL,\n"
	"  created INTEGER NOT NULL,\n"
	"  actor TEXT NOT NULL,\n"
	"  json TEXT NOT NULL\n"
	") STRICT;\n"
	"CREATE TABLE audit (\n"
	"  seq INTEGER PRIMARY KEY,\n"
	"  time_ms INTEGER NOT NULL,\n"
	"  actor TEXT NOT NULL,\n"
	"  action TEXT NOT NULL,\n"
	"  subjects TEXT NOT NULL,\n"
	"  fields TEXT NOT NULL,\n"
	"  prev BLOB NOT NULL,\n"
	"  hash BLOB NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX audit_actor ON audit(actor);\n"
	"CREATE INDEX audit_action ON audit(action);\n"
	"CREATE INDEX audit_time ON audit(time_ms);\n"
	/* One row per element of audit.subjects, for the subject filter. */
	"CREATE TABLE audit_subjects (\n"
	"  subject TEXT NOT NULL,\n"
	"  seq INTEGER NOT NULL REFERENCES audit(seq),\n"
	"  PRIMARY KEY (subject, seq)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
	"  BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;\n"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n"
	"  BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;\n"
	"CREATE TRIGGER audit_subjects_no_update BEFORE UPDATE ON audit_subjects\n"
	"  BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;\n"
	"CREATE TRIGGER audit_subjects_no_delete BEFORE DELETE ON audit_subjects\n"
	"  BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;\n",
	/* 2: login accounts and their sessions.  A session row holds only the
	 * SHA-256 of its token, so a copy of the database logs nobody in. */
	"CREATE TABLE accounts (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE,\n"
	"  pwhash TEXT NOT NULL,\n"
	"  roles INTEGER NOT NULL,\n"
	"  scope_unit INTEGER REFERENCES units(id),\n"
	"  person TEXT,\n"
	"  disabled INTEGER NOT NULL DEFAULT 0,\n"
	"  failures INTEGER NOT NULL DEFAULT 0,\n"
	"  locked_until INTEGER NOT NULL DEFAULT 0,\n"
	"  version INTEGER NOT NULL,\n"
	"  created INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE TABLE sessions (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  token_hash BLOB NOT NULL UNIQUE,\n"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),\n"
	"  created INTEGER NOT NULL,\n"
	"  last_seen INTEGER NOT NULL,\n"
	"  expires_abs INTEGER NOT NULL,\n"
	"  client TEXT NOT NULL,\n"
	"  revoked INTEGER NOT NULL DEFAULT 0\n"
	") STRICT;\n"
	"CREATE INDEX sessions_account ON sessions(account_id);\n",

	/* 3: vetting.  A review is decided once (state 0 open, 1 approved, 2
	 * rejected); the review "in force" for a person is their latest decided
	 * one, hence the partial (person_id, decided_at) index that the
	 * clearance scan seeks.  Suspensions are rows, lifted by setting
	 * lifted_at, so the history of every suspension stays. */
	"CREATE TABLE reviews (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  person_id INTEGER NOT NULL REFERENCES persons(id),\n"
	"  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),\n"
	"  trigger TEXT NOT NULL,\n"
	"  opened_by TEXT NOT NULL,\n"
	"  opened_at INTEGER NOT NULL,\n"
	"  due_at INTEGER,\n"
	"  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 2),\n"
	"  decided_at INTEGER,\n"
	"  valid_until INTEGER,\n"
	"  reason TEXT NOT NULL,\n"
	"  version INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX reviews_person ON reviews(person_id);\n"
	"CREATE INDEX reviews_decided ON reviews(person_id, decided_at, id) WHERE state > 0;\n"
	"CREATE INDEX reviews_open ON reviews(state) WHERE state = 0;\n"
	"CREATE TABLE review_items (\n"
	"  review_id INTEGER NOT NULL REFERENCES reviews(id),\n"
	"  item INTEGER NOT NULL CHECK (item BETWEEN 1 AND 6),\n"
	"  finding INTEGER NOT NULL CHECK (finding BETWEEN 1 AND 3),\n"
	"  note TEXT NOT NULL,\n"
	"  by TEXT NOT NULL,\n"
	"  at INTEGER NOT NULL,\n"
	"  PRIMARY KEY (review_id, item)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE TABLE review_approvals (\n"
	"  review_id INTEGER NOT NULL REFERENCES reviews(id),\n"
	"  approver TEXT NOT NULL,\n"
	"  at INTEGER NOT NULL,\n"
	"  decision INTEGER NOT NULL CHECK (decision BETWEEN 1 AND 2),\n"
	"  reason TEXT NOT NULL,\n"
	"  PRIMARY KEY (review_id, approver)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE TABLE matters (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  person_id INTEGER NOT NULL REFERENCES persons(id),\n"
	"  type TEXT NOT NULL,\n"
	"  filed_by TEXT NOT NULL,\n"
	"  filed_at INTEGER NOT NULL,\n"
	"  detail TEXT NOT NULL,\n"
	"  action TEXT NOT NULL,\n"
	"  review_id INTEGER REFERENCES reviews(id)\n"
	") STRICT;\n"
	"CREATE INDEX matters_person ON matters(person_id);\n"
	"CREATE TABLE suspensions (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  person_id INTEGER NOT NULL REFERENCES persons(id),\n"
	"  since INTEGER NOT NULL,\n"
	"  by TEXT NOT NULL,\n"
	"  reason TEXT NOT NULL,\n"
	"  matter_id INTEGER REFERENCES matters(id),\n"
	"  lifted_at INTEGER,\n"
	"  lifted_by TEXT NOT NULL DEFAULT '',\n"
	"  lift_reason TEXT NOT NULL DEFAULT '',\n"
	"  version INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX suspensions_person ON suspensions(person_id, lifted_at);\n"
	/* Open appointments per person, for the clearance scan's post start. */
	"CREATE INDEX appointments_open ON appointments(person_id, start_at) "
	"WHERE end_at IS NULL;\n",

	/* 4: account names are unique whatever their case, so that no account
	 * reads like another in the audit trail ("SecAdmin" beside "secadmin"). */
	"CREATE UNIQUE INDEX accounts_name_nocase ON accounts(name COLLATE NOCASE);\n",

	/* 5: a national id or passport number belongs to one person: a second
	 * record for the same human (a suspended person entered again under a
	 * new employee number) is refused.  The blind index's first 16 bytes
	 * are keyed-hash output; two numbers share them with odds of 2^-128. */
	"DROP INDEX persons_nid;\n"
	"DROP INDEX persons_pp;\n"
	"CREATE UNIQUE INDEX persons_nid16 ON persons(substr(nid_idx, 1, 16)) "
	"WHERE nid_idx IS NOT NULL;\n"
	"CREATE UNIQUE INDEX persons_pp16 ON persons(substr(pp_idx, 1, 16)) "
	"WHERE pp_idx IS NOT NULL;\n",

	/* 6: a password set over the API by another account (a new account, a
	 * reset) is temporary: its holder must change it before doing anything
	 * else, so the administrator who set it cannot act as them unseen. */
	"ALTER TABLE accounts ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;\n",

	/* 7: when a person entered their lifecycle state, so that a clearance
	 * names since when a person has been off post (leaving, onboarding).
	 * Persons whose state was set before this step keep NULL: unknown,
	 * reported as such, never guessed from an unrelated edit time. */
	"ALTER TABLE persons ADD COLUMN state_since INTEGER;\n",

	/* 8: when a person last took up a state that holds a post (active or
	 * suspended: a suspension keeps the post), so that on_post says since
	 * when the gate has held: activation, not a reinstatement, and not
	 * the appointment's date when it was taken up later.  NULL in any
	 * other state.  Filled where the records say it: an active person
	 * never suspended entered active at state_since; the rest unknown. */
	"ALTER TABLE persons ADD COLUMN on_post_since INTEGER;\n"
	"UPDATE persons SET on_post_since = state_since WHERE state = 3;\n"
	"UPDATE persons SET on_post_since = NULL WHERE id IN "
	"(SELECT person_id FROM suspensions);\n",
};

/* The count of steps is the schema version a fully migrated database has. */
int store__latest_schema(void)
{
	return (int)(sizeof steps / sizeof steps[0]);
}

/* Borrowed static text; NULL for a version this build does not know. */
const char *store__migration_sql(int v)
{
	if (v < 1 || v > store__latest_schema())
		return NULL;
	return steps[v - 1];
}
