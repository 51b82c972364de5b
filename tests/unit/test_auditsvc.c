/*
 * test_auditsvc.c - `audit verify` over a real database, tampered with as
 * someone with the file would (the append-only triggers dropped): the
 * verdict must name the first seq removed or inserted, also where the
 * chain is long enough to be verified in two halves on two threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "svc_fixture.h"
#include "service/svc_internal.h"
#include "core/audit.h"

#include <sqlite3.h>

/* More than auditsvc.c's VERIFY_SPLIT_MIN, so verify splits the chain. */
#define LONG_CHAIN 200010

static int setup(void **state)
{
	*state = fx_open(1700000000, NULL, 0);
	return 0;
}

/* Appends events up to seq `upto`, each sealed onto the head, straight
 * through the store in one transaction (svc__audit would take minutes
 * under the sanitizers). */
static void append_until(struct fx *f, int64_t upto)
{
	struct store *st = f->s->st;
	struct buf scratch = BUF_INIT;
	struct audit_event ev;
	struct audit_rec r = {0};
	uint8_t prev[32];
	int64_t seq;

	assert_int_equal(st->ops->begin(st, &f->e), 0);
	assert_int_equal(st->ops->audit_head(st, &seq, prev, &f->e), 0);
	strcpy(r.actor, "test");
	strcpy(r.action, "test.event");
	r.subjects = "[\"X\"]";
	r.fields = "{}";
	for (seq++; seq <= upto; seq++) {
		ev = (struct audit_event){seq, 1700000000000 + seq, r.actor, r.action, r.subjects,
					  r.fields, {0}, {0}};
		memcpy(ev.prev, prev, 32);
		audit_seal(&ev, &scratch);
		r.seq = seq;
		r.time_ms = ev.time_ms;
		memcpy(r.prev, ev.prev, 32);
		memcpy(r.hash, ev.hash, 32);
		memcpy(prev, ev.hash, 32);
		assert_int_equal(st->ops->audit_insert(st, &r, &f->e), 0);
	}
	assert_int_equal(st->ops->commit(st, &f->e), 0);
	buf_free(&scratch);
}

/* Runs SQL on the database file behind the service's back. */
static void tamper(struct fx *f, const char *sql)
{
	sqlite3 *db;
	char *err = NULL;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, "DROP TRIGGER IF EXISTS audit_no_delete;"
			 "DROP TRIGGER IF EXISTS audit_no_update;", NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("tamper: %s", err);
	sqlite3_close(db);
}

static void verify(struct fx *f, struct audit_verdict *v)
{
	assert_int_equal(svc_audit_verify(f->s, &local, v, &f->e), 0);
}

static void test_long_chain_intact(void **state)
{
	struct fx *f = *state;
	struct audit_verdict v;

	append_until(f, LONG_CHAIN);
	verify(f, &v);
	assert_int_equal(v.fault, AUDIT_OK);
	assert_int_equal(v.count, LONG_CHAIN);
}

/* The event just before the second half's range: the first half ends one
 * short of it, the second half finds no predecessor.  The seq named must
 * be the removed one, not 1. */
static void test_long_chain_removed_at_the_split(void **state)
{
	struct fx *f = *state;
	struct audit_verdict v;
	char sql[128];

	append_until(f, LONG_CHAIN);
	snprintf(sql, sizeof sql, "DELETE FROM audit WHERE seq = %d", LONG_CHAIN / 2);
	tamper(f, sql);
	verify(f, &v);
	assert_int_equal(v.fault, AUDIT_BAD_SEQ);
	assert_int_equal(v.fault_seq, LONG_CHAIN / 2);
}

/* A range removed that ends at the split: the first seq missing is named. */
static void test_long_chain_range_removed_at_the_split(void **state)
{
	struct fx *f = *state;
	struct audit_verdict v;
	char sql[128];

	append_until(f, LONG_CHAIN);
	snprintf(sql, sizeof sql, "DELETE FROM audit WHERE seq BETWEEN %d AND %d",
		 LONG_CHAIN / 2 - 5, LONG_CHAIN / 2);
	tamper(f, sql);
	verify(f, &v);
	assert_int_equal(v.fault, AUDIT_BAD_SEQ);
	assert_int_equal(v.fault_seq, LONG_CHAIN / 2 - 5);
}

/* A row stored below seq 1 is an inserted event: verify must see it, not
 * start its walk above it. */
static void test_event_inserted_below_seq_1(void **state)
{
	struct fx *f = *state;
	struct audit_verdict v;

	tamper(f, "INSERT INTO audit(seq, time_ms, actor, action, subjects, fields, prev, hash) "
		  "SELECT 0, time_ms, actor, action, subjects, fields, prev, hash "
		  "FROM audit WHERE seq = 1");
	verify(f, &v);
	assert_int_not_equal(v.fault, AUDIT_OK);
	assert_int_equal(v.fault_seq, 0);
	tamper(f, "UPDATE audit SET seq = -7 WHERE seq = 0");
	verify(f, &v);
	assert_int_not_equal(v.fault, AUDIT_OK);
	assert_int_equal(v.fault_seq, -7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_long_chain_intact, setup, fx_close),
		cmocka_unit_test_setup_teardown(test_long_chain_removed_at_the_split, setup,
						fx_close),
		cmocka_unit_test_setup_teardown(test_long_chain_range_removed_at_the_split, setup,
						fx_close),
		cmocka_unit_test_setup_teardown(test_event_inserted_below_seq_1, setup, fx_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
