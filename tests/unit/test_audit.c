/*
 * test_audit.c - the audit preimage against literal golden text and hashes
 * (computed by hand from audit.h and with coreutils sha256sum), and chain
 * verification under every kind of tampering: the fault and where.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/audit.h"
#include "lib/crypto.h"

#include <stdio.h>
#include <string.h>

#define N 10

/* A chain of N events whose strings live in the fixture, so tests can
 * change them in place. */
struct chain {
	struct audit_event ev[N];
	char actor[N][32];
	char action[N][32];
	char subjects[N][64];
	char fields[N][256];
	struct buf scratch;
};

static void seal_from(struct chain *c, int from)
{
	for (int i = from; i < N; i++) {
		if (i > 0)
			memcpy(c->ev[i].prev, c->ev[i - 1].hash, 32);
		audit_seal(&c->ev[i], &c->scratch);
	}
}

static void build(struct chain *c)
{
	struct buf keep = c->scratch;

	memset(c, 0, sizeof *c);
	c->scratch = keep;
	for (int i = 0; i < N; i++) {
		struct audit_event *ev = &c->ev[i];

		snprintf(c->actor[i], sizeof c->actor[i], "secadmin%d", i % 3);
		snprintf(c->action[i], sizeof c->action[i], "person.update");
		snprintf(c->subjects[i], sizeof c->subjects[i], "[\"E%04d\"]", 1000 + i);
		snprintf(c->fields[i], sizeof c->fields[i],
			 "{\"name\":\"张三%d\",\"note\":\"a \\\"quoted\\\" [note] {x}\",\"level\":%d}",
			 i, i % 4);
		ev->seq = i + 1;
		ev->time_ms = 1700000000000 + i * 1000;
		ev->actor = c->actor[i];
		ev->action = c->action[i];
		ev->subjects = c->subjects[i];
		ev->fields = c->fields[i];
	}
	seal_from(c, 0);
}

/* Walks n events as `audit verify` does; returns the first fault and sets
 * *at to its index (or -1). */
static int walk(struct chain *c, const struct audit_event *evs, int n, int *at)
{
	uint8_t prev_hash[32] = {0};
	int64_t prev_seq = 0;

	*at = -1;
	for (int i = 0; i < n; i++) {
		int f = audit_verify_step(&evs[i], prev_seq, prev_hash, &c->scratch);

		if (f != AUDIT_OK) {
			*at = i;
			return f;
		}
		prev_seq = evs[i].seq;
		memcpy(prev_hash, evs[i].hash, 32);
	}
	return AUDIT_OK;
}

static void expect_fault(struct chain *c, const struct audit_event *evs, int n, int fault,
			 int at_index, int64_t at_seq)
{
	int at, f = walk(c, evs, n, &at);

	if (f != fault || at != at_index)
		fail_msg("got %s at index %d, want %s at index %d", audit_fault_name(f), at,
			 audit_fault_name(fault), at_index);
	if (at >= 0)
		assert_int_equal(evs[at].seq, at_seq);
}

static int setup(void **state)
{
	static struct chain c;

	build(&c);
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct chain *c = *state;

	buf_free(&c->scratch);
	return 0;
}

static void test_golden_preimage(void **state)
{
	struct audit_event ev = {
		.seq = 1, .time_ms = 1700000000000, .actor = "secadmin", .action = "person.add",
		.subjects = "[\"E1001\"]", .fields = "{\"name\":\"张三\",\"unit\":\"U7\"}",
	};
	struct buf b = BUF_INIT;
	char hex[65];

	(void)state;
	audit_preimage(&ev, &b);
	assert_string_equal(b.p, "{\"action\":\"person.add\",\"actor\":\"secadmin\",\"fields\":"
			    "{\"name\":\"张三\",\"unit\":\"U7\"},\"prev\":\"000000000000000000000"
			    "0000000000000000000000000000000000000000000\",\"seq\":1,\"subjects\":"
			    "[\"E1001\"],\"time\":1700000000000}");
	audit_seal(&ev, &b);
	hex_encode(ev.hash, 32, hex);
	assert_string_equal(hex, "9c99e89eb415661351d8558d3299849f4778ac04aa92a2dc7405b476447448c3");
	buf_free(&b);
}

static void test_golden_escapes_and_extremes(void **state)
{
	struct audit_event ev = {
		.seq = INT64_MAX, .time_ms = -1, .actor = "o'brien \"x\"\n", .action = "a\\b",
		.subjects = "[]", .fields = "{}",
	};
	struct buf b = BUF_INIT;
	char hex[65];

	(void)state;
	for (int i = 0; i < 32; i++)
		ev.prev[i] = (uint8_t)(i + 1);
	buf_puts(&b, "prefix:");
	audit_preimage(&ev, &b);
	assert_string_equal(b.p, "prefix:{\"action\":\"a\\\\b\",\"actor\":\"o'brien \\\"x\\\"\\n\","
			    "\"fields\":{},\"prev\":\"0102030405060708090a0b0c0d0e0f10111213141516"
			    "1718191a1b1c1d1e1f20\",\"seq\":9223372036854775807,\"subjects\":[],"
			    "\"time\":-1}");
	audit_seal(&ev, &b);
	hex_encode(ev.hash, 32, hex);
	assert_string_equal(hex, "f42fd2a20e3752d98ee1dce4a1a71adb926984caf722ef301c8a678cc9fb7abc");
	ev.time_ms = INT64_MIN;
	buf_reset(&b);
	audit_preimage(&ev, &b);
	assert_non_null(strstr(b.p, ",\"time\":-9223372036854775808}"));
	buf_free(&b);
}

static void test_chain_verifies(void **state)
{
	struct chain *c = *state;

	build(c);
	expect_fault(c, c->ev, N, AUDIT_OK, -1, 0);
	/* The first event must link to zeros and carry seq 1. */
	c->ev[0].prev[0] = 1;
	audit_seal(&c->ev[0], &c->scratch);
	expect_fault(c, c->ev, 1, AUDIT_BROKEN_LINK, 0, 1);
	c->ev[0].prev[0] = 0;
	c->ev[0].seq = 2;
	audit_seal(&c->ev[0], &c->scratch);
	expect_fault(c, c->ev, 1, AUDIT_BAD_SEQ, 0, 2);
}

/* Changing any one member of event 5 (seq 5) is reported there as modified. */
static void test_modify_each_member(void **state)
{
	struct chain *c = *state;

	for (int m = 0; m < 9; m++) {
		struct audit_event *ev = &c->ev[4];

		build(c);
		switch (m) {
		case 0: c->actor[4][0] = 'S'; break;
		case 1: c->action[4][0] = 'P'; break;
		case 2: c->subjects[4][3] = '9'; break;
		case 3: memcpy(strstr(c->fields[4], "三"), "四", 3); break;
		case 4: ev->time_ms++; break;
		case 5: ev->seq = 6; break;
		case 6: ev->prev[31] ^= 1; break;
		case 7: ev->hash[0] ^= 0x80; break;
		case 8: ev->actor = NULL; break;
		}
		expect_fault(c, c->ev, N, AUDIT_MODIFIED, 4, ev->seq);
	}
}

static void test_delete(void **state)
{
	struct chain *c = *state;
	struct audit_event evs[N];

	build(c);
	/* Row seq 5 removed: the gap shows at seq 6. */
	memcpy(evs, c->ev, 4 * sizeof evs[0]);
	memcpy(evs + 4, c->ev + 5, (N - 5) * sizeof evs[0]);
	expect_fault(c, evs, N - 1, AUDIT_BAD_SEQ, 4, 6);
	/* Removed and the rest renumbered: the renumbered row is modified. */
	for (int i = 4; i < N - 1; i++)
		evs[i].seq--;
	expect_fault(c, evs, N - 1, AUDIT_MODIFIED, 4, 5);
	/* Removed, renumbered and re-hashed from there on: the link breaks. */
	for (int i = 4; i < N - 1; i++)
		audit_seal(&evs[i], &c->scratch);
	expect_fault(c, evs, N - 1, AUDIT_BROKEN_LINK, 4, 5);
	/* Removing the first event is caught too. */
	expect_fault(c, c->ev + 1, N - 1, AUDIT_BAD_SEQ, 0, 2);
}

static void test_insert(void **state)
{
	struct chain *c = *state;
	struct audit_event evs[N + 1], forged;

	build(c);
	forged = c->ev[4];
	forged.actor = "intruder";
	forged.seq = 6;
	memcpy(forged.prev, c->ev[4].hash, 32);
	audit_seal(&forged, &c->scratch);
	memcpy(evs, c->ev, 5 * sizeof evs[0]);
	evs[5] = forged;
	memcpy(evs + 6, c->ev + 5, (N - 5) * sizeof evs[0]);
	/* A well-forged insert without renumbering: the next seq repeats. */
	expect_fault(c, evs, N + 1, AUDIT_BAD_SEQ, 6, 6);
	/* Followers renumbered (not re-hashed): the first one is modified. */
	for (int i = 6; i < N + 1; i++)
		evs[i].seq++;
	expect_fault(c, evs, N + 1, AUDIT_MODIFIED, 6, 7);
	/* Followers renumbered and re-hashed alone: the link breaks there. */
	for (int i = 6; i < N + 1; i++)
		audit_seal(&evs[i], &c->scratch);
	expect_fault(c, evs, N + 1, AUDIT_BROKEN_LINK, 6, 7);
	/* A forged row that does not know the real previous hash. */
	memset(evs[5].prev, 0xab, 32);
	audit_seal(&evs[5], &c->scratch);
	expect_fault(c, evs, N + 1, AUDIT_BROKEN_LINK, 5, 6);
}

static void test_swap(void **state)
{
	struct chain *c = *state;
	struct audit_event evs[N], t;

	build(c);
	memcpy(evs, c->ev, sizeof evs);
	t = evs[3], evs[3] = evs[4], evs[4] = t;
	/* Rows swapped in order: seq 5 appears where 4 belongs. */
	expect_fault(c, evs, N, AUDIT_BAD_SEQ, 3, 5);
	/* Contents swapped but seqs kept in place: the row is modified. */
	t = evs[3], evs[3] = evs[4], evs[4] = t;
	t = evs[3];
	evs[3] = evs[4], evs[3].seq = 4;
	evs[4] = t, evs[4].seq = 5;
	expect_fault(c, evs, N, AUDIT_MODIFIED, 3, 4);
	/* ... and re-hashed with their old prev: the link breaks. */
	audit_seal(&evs[3], &c->scratch);
	audit_seal(&evs[4], &c->scratch);
	expect_fault(c, evs, N, AUDIT_BROKEN_LINK, 3, 4);
}

/* Text moved between fields and subjects keeps the preimage identical;
 * the delimiting check must still call the row modified. */
static void test_boundary_shift_refused(void **state)
{
	struct chain *c = *state;
	char fields[512], subjects[512], prevhex[65];
	struct audit_event ev = {
		.seq = 1, .time_ms = 5, .actor = "a", .action = "b",
		.subjects = "[\"x\"]",
		.fields = "{\"a\":1,\"prev\":\"1111111111111111111111111111111111111111111111111111"
			  "111111111111\",\"seq\":77,\"subjects\":[\"y\"]}",
	};
	struct audit_event forged = ev;
	struct buf p1 = BUF_INIT, p2 = BUF_INIT;
	int at;

	(void)state;
	build(c);
	audit_seal(&ev, &c->scratch);
	expect_fault(c, &ev, 1, AUDIT_OK, -1, 0);
	hex_encode(ev.prev, 32, prevhex);
	snprintf(fields, sizeof fields, "{\"a\":1");
	snprintf(subjects, sizeof subjects, "[\"y\"]},\"prev\":\"%s\",\"seq\":1,\"subjects\":"
		 "[\"x\"]", prevhex);
	forged.fields = fields;
	forged.subjects = subjects;
	forged.seq = 77;
	memset(forged.prev, 0x11, 32);
	audit_preimage(&ev, &p1);
	audit_preimage(&forged, &p2);
	assert_string_equal(p1.p, p2.p);
	/* Placed where it claims to be, the forged row would otherwise pass. */
	assert_int_equal(audit_verify_step(&forged, 76, forged.prev, &c->scratch), AUDIT_MODIFIED);
	assert_int_equal(walk(c, &forged, 1, &at), AUDIT_MODIFIED);
	/* Fields must be an object and subjects an array, each exactly one. */
	ev.fields = "[1]";
	audit_seal(&ev, &c->scratch);
	assert_int_equal(walk(c, &ev, 1, &at), AUDIT_MODIFIED);
	ev.fields = "{}{}";
	audit_seal(&ev, &c->scratch);
	assert_int_equal(walk(c, &ev, 1, &at), AUDIT_MODIFIED);
	ev.fields = "{\"k\":\"}\"}";
	audit_seal(&ev, &c->scratch);
	assert_int_equal(walk(c, &ev, 1, &at), AUDIT_OK);
	buf_free(&p1);
	buf_free(&p2);
}

static void test_fault_names(void **state)
{
	(void)state;
	assert_string_equal(audit_fault_name(AUDIT_OK), "ok");
	assert_string_equal(audit_fault_name(AUDIT_MODIFIED), "modified");
	assert_string_equal(audit_fault_name(AUDIT_BROKEN_LINK), "broken_link");
	assert_string_equal(audit_fault_name(AUDIT_BAD_SEQ), "bad_seq");
	assert_string_equal(audit_fault_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_preimage),
		cmocka_unit_test(test_golden_escapes_and_extremes),
		cmocka_unit_test(test_chain_verifies),
		cmocka_unit_test(test_modify_each_member),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_swap),
		cmocka_unit_test(test_boundary_shift_refused),
		cmocka_unit_test(test_fault_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
