/*
 * test_lifecycle.c - every one of the 81 (from, to) pairs against a table
 * written here independently of lifecycle.c, the refusal messages a user
 * reads, state names in both languages and which states hold a post.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/lifecycle.h"

/* expected[from][to]: 1 = legal.  Order: candidate, reviewing, onboarding,
 * active, suspended, leaving, decontamination, released, rejected. */
static const int expected[9][9] = {
	/*               ca re on ac su le de rl rj */
	/* candidate */ {0, 1, 0, 0, 0, 0, 0, 0, 0},
	/* reviewing */ {0, 0, 1, 0, 0, 0, 0, 0, 1},
	/* onboarding */ {0, 0, 0, 1, 0, 1, 0, 0, 0},
	/* active */ {0, 0, 0, 0, 1, 1, 0, 0, 0},
	/* suspended */ {0, 0, 0, 1, 0, 1, 0, 0, 0},
	/* leaving */ {0, 0, 0, 0, 0, 0, 1, 1, 0},
	/* decontam. */ {0, 0, 0, 0, 0, 0, 0, 1, 0},
	/* released */ {0, 0, 0, 0, 0, 0, 0, 0, 0},
	/* rejected */ {0, 1, 0, 0, 0, 0, 0, 0, 0},
};

static const char *const names[9] = {"candidate", "reviewing", "onboarding",
				     "active", "suspended", "leaving",
				     "decontamination", "released", "rejected"};

static void test_all_81_pairs(void **state)
{
	int legal = 0;

	(void)state;
	assert_int_equal(ST__COUNT, 9);
	for (int from = 0; from < 9; from++) {
		for (int to = 0; to < 9; to++) {
			struct bm_err e = BM_ERR_INIT;
			char prefix[96];
			int rc = lifecycle_check(from, to, &e);

			if (expected[from][to]) {
				legal++;
				if (rc != 0)
					fail_msg("%s -> %s refused: %s", names[from],
						 names[to], e.msg);
				assert_int_equal(e.code, 0);
				continue;
			}
			if (rc != BM_ESTATE)
				fail_msg("%s -> %s allowed", names[from], names[to]);
			assert_int_equal(e.code, BM_ESTATE);
			snprintf(prefix, sizeof prefix, "cannot move from %s to %s: ",
				 names[from], names[to]);
			assert_memory_equal(e.msg, prefix, strlen(prefix));
			/* There is always a reason after the colon. */
			assert_true(strlen(e.msg) > strlen(prefix) + 5);
		}
	}
	assert_int_equal(legal, 13);
}

static void test_refusal_reasons(void **state)
{
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	assert_int_equal(lifecycle_check(ST_CANDIDATE, ST_ACTIVE, &e), BM_ESTATE);
	assert_string_equal(e.msg, "cannot move from candidate to active: "
				   "a candidate must be reviewed first");
	assert_int_equal(lifecycle_check(ST_REVIEWING, ST_ACTIVE, &e), BM_ESTATE);
	assert_non_null(strstr(e.msg, "onboarding"));
	/* Skipping "leaving" is refused with that reason, from either state
	 * that holds a post and to either later state, not only the general
	 * "on post can only be suspended" */
	static const int posted[] = {ST_ACTIVE, ST_SUSPENDED}, later[] = {ST_DECONTAMINATION,
									 ST_RELEASED};
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++) {
			assert_int_equal(lifecycle_check(posted[i], later[j], &e), BM_ESTATE);
			assert_non_null(strstr(e.msg, "must go through leaving first"));
			assert_non_null(strstr(e.msg, "carriers returned"));
		}
	assert_int_equal(lifecycle_check(ST_RELEASED, ST_CANDIDATE, &e), BM_ESTATE);
	assert_non_null(strstr(e.msg, "closed"));
	assert_int_equal(lifecycle_check(ST_ACTIVE, ST_ACTIVE, &e), BM_ESTATE);
	assert_string_equal(e.msg, "cannot move from active to active: already active");
	assert_int_equal(lifecycle_check(ST_DECONTAMINATION, ST_ACTIVE, &e), BM_ESTATE);
	assert_non_null(strstr(e.msg, "release"));
	/* A refusal works without an error struct too. */
	assert_int_equal(lifecycle_check(ST_CANDIDATE, ST_ACTIVE, NULL), BM_ESTATE);
	assert_int_equal(lifecycle_check(ST_CANDIDATE, ST_REVIEWING, NULL), 0);
}

static void test_out_of_range_states(void **state)
{
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	assert_int_equal(lifecycle_check(-1, ST_ACTIVE, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "-1"));
	assert_int_equal(lifecycle_check(ST_ACTIVE, ST__COUNT, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "9"));
	assert_int_equal(lifecycle_check(1000, 1000, &e), BM_EINVAL);
	assert_string_equal(state_name(-1), "unknown");
	assert_string_equal(state_name(ST__COUNT), "unknown");
	assert_string_equal(state_name_zh(99), "未知");
	assert_false(state_on_post(-1));
	assert_false(state_on_post(ST__COUNT));
}

static void test_names(void **state)
{
	static const char *const zh[9] = {"候选", "审查中", "上岗准备", "在岗", "暂停",
					  "离岗中", "脱密期", "已脱密", "未通过"};

	(void)state;
	for (int st = 0; st < 9; st++) {
		assert_string_equal(state_name(st), names[st]);
		assert_string_equal(state_name_zh(st), zh[st]);
	}
}

static void test_parse(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	int st;

	(void)state;
	for (int i = 0; i < 9; i++) {
		st = -1;
		assert_int_equal(state_parse(state_name(i), "state", &st, &e), 0);
		assert_int_equal(st, i);
		st = -1;
		assert_int_equal(state_parse(state_name_zh(i), "state", &st, &e), 0);
		assert_int_equal(st, i);
	}
	assert_int_equal(state_parse("ACTIVE", "state", &st, &e), 0);
	assert_int_equal(st, ST_ACTIVE);
	assert_int_equal(state_parse(" Decontamination ", "state", &st, &e), 0);
	assert_int_equal(st, ST_DECONTAMINATION);
	assert_int_equal(state_parse("脱密期满", "state", &st, &e), 0);
	assert_int_equal(st, ST_RELEASED);
	assert_int_equal(state_parse("审查未通过", "state", &st, &e), 0);
	assert_int_equal(st, ST_REJECTED);
	assert_int_equal(state_parse("暂停涉密", "state", &st, &e), 0);
	assert_int_equal(st, ST_SUSPENDED);
	/* 解脱 is relief, not the end of secrecy duties: not a name of released */
	assert_int_equal(state_parse("已解脱", "state", &st, &e), BM_EINVAL);

	st = 77;
	assert_int_equal(state_parse("retired", "person.state", &st, &e), BM_EINVAL);
	assert_string_equal(e.field, "person.state");
	assert_non_null(strstr(e.msg, "\"retired\""));
	assert_non_null(strstr(e.msg, "decontamination"));
	assert_non_null(strstr(e.msg, "脱密期"));
	assert_int_equal(st, 77);
	assert_int_equal(state_parse("", "state", &st, &e), BM_EINVAL);
	assert_int_equal(state_parse(NULL, "state", &st, &e), BM_EINVAL);
	assert_int_equal(state_parse("3", "state", &st, &e), BM_EINVAL);
	assert_int_equal(state_parse("act\xFFive", "state", &st, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "\"act?ive\""));
	assert_int_equal(state_parse("在岗 ", NULL, &st, NULL), 0);
	assert_int_equal(st, ST_ACTIVE);
}

/* Which states hold a post (active, suspended) and which have given
 * secret-related work up (leaving, decontamination, released; rejected
 * never had it); out of range is neither. */
static void test_state_predicates(void **state)
{
	static const struct {
		bool on_post, has_left;
	} want[ST__COUNT] = {
		[ST_ACTIVE] = {true, false}, [ST_SUSPENDED] = {true, false},
		[ST_LEAVING] = {false, true}, [ST_DECONTAMINATION] = {false, true},
		[ST_RELEASED] = {false, true},
	};

	(void)state;
	for (int st = 0; st < ST__COUNT; st++) {
		assert_int_equal(state_on_post(st), want[st].on_post);
		assert_int_equal(state_has_left(st), want[st].has_left);
	}
	for (int st = -1; st <= ST__COUNT; st += ST__COUNT + 1) {
		assert_false(state_on_post(st));
		assert_false(state_has_left(st));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_81_pairs),
		cmocka_unit_test(test_refusal_reasons),
		cmocka_unit_test(test_out_of_range_states),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_state_predicates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
