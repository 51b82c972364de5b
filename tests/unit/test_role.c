/*
 * test_role.c - three-officer separation over every role combination and the
 * facts of the permission matrix that the security office relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/role.h"

/* The rule restated independently of role.c: count the three officers. */
static int expect_valid(uint32_t set)
{
	int officers = !!(set & ROLE_SYSADMIN) + !!(set & ROLE_SECADMIN) +
		       !!(set & ROLE_AUDITOR);

	if (officers > 1)
		return 0;
	if ((set & ROLE_AUDITOR) && __builtin_popcount(set) > 1)
		return 0;
	return 1;
}

static void test_all_128_combinations(void **state)
{
	int valid = 0;

	(void)state;
	for (uint32_t set = 0; set < 128; set++) {
		struct bm_err e = BM_ERR_INIT;
		int rc = role_check_set(set, &e);

		assert_int_equal(rc == 0, expect_valid(set));
		if (rc < 0) {
			assert_int_equal(rc, BM_EINVAL);
			assert_non_null(strstr(e.msg, "three-officer separation"));
		}
		valid += rc == 0;
	}
	/* 16 sets without officers (2^4, the empty set included), 16 with sysadmin,
	 * 16 with secadmin, and auditor alone. */
	assert_int_equal(valid, 49);
}

static void test_reasons(void **state)
{
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	assert_int_equal(role_check_set(ROLE_AUDITOR | ROLE_PERSON, &e), BM_EINVAL);
	assert_string_equal(e.msg, "auditor cannot be combined with any other role "
				   "(three-officer separation)");
	assert_int_equal(role_check_set(ROLE_SYSADMIN | ROLE_SECADMIN, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "sysadmin and secadmin"));
	assert_int_equal(role_check_set(1u << 7, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "unknown role bits"));
	assert_int_equal(role_check_set(0x80000000u, &e), BM_EINVAL);
	assert_int_equal(role_check_set(ROLE_SECADMIN | ROLE_OFFICER | ROLE_PERSON, &e), 0);
}

/* Whose credentials an administrator may take over: every account but the
 * secadmin's and the auditor's, whatever else they are combined with. */
static void test_takeover(void **state)
{
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	for (uint32_t set = 0; set <= ROLE_ALL; set++) {
		int want = (set & (ROLE_SECADMIN | ROLE_AUDITOR)) ? BM_EPERM : 0;

		assert_int_equal(role_check_takeover(set, "name", &e), want);
	}
	assert_int_equal(role_check_takeover(ROLE_AUDITOR, "name", &e), BM_EPERM);
	assert_string_equal(e.field, "name");
	assert_non_null(strstr(e.msg, "auditor account"));
	assert_int_equal(role_check_takeover(ROLE_SECADMIN | ROLE_OFFICER, "name", &e), BM_EPERM);
	assert_non_null(strstr(e.msg, "secadmin account"));
}

/* One person's accounts together hold at most one of the three officer
 * roles; anything else they may hold between them. */
static void test_person_separation(void **state)
{
	const uint32_t three = ROLE_SYSADMIN | ROLE_SECADMIN | ROLE_AUDITOR;
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	for (uint32_t mine = 0; mine <= ROLE_ALL; mine++) {
		for (uint32_t others = 0; others <= ROLE_ALL; others++) {
			/* (one account's own set is role_check_set's business) */
			int want = (mine & three) && (others & three & ~mine) ? BM_EINVAL : 0;

			assert_int_equal(role_check_person(mine, others, &e), want);
		}
	}
	assert_int_equal(role_check_person(ROLE_SYSADMIN | ROLE_PERSON, ROLE_SECADMIN, &e),
			 BM_EINVAL);
	assert_string_equal(e.field, "roles");
	assert_non_null(strstr(e.msg, "already holds secadmin"));
	assert_int_equal(role_check_person(ROLE_SECADMIN, ROLE_SECADMIN | ROLE_PERSON, &e), 0);
	assert_int_equal(role_check_person(ROLE_OFFICER, ROLE_AUDITOR, &e), 0);
}

static void test_names_roundtrip(void **state)
{
	uint32_t bit, set;
	char out[128];
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	for (int i = 0; i < ROLE_COUNT; i++) {
		const char *n = role_name(1u << i);

		assert_non_null(n);
		assert_int_equal(role_parse(n, "role", &bit, &e), 0);
		assert_int_equal(bit, 1u << i);
	}
	assert_null(role_name(ROLE_OFFICER | ROLE_PERSON));
	assert_null(role_name(0));
	assert_int_equal(role_parse("root", "role", &bit, &e), BM_EINVAL);
	assert_string_equal(e.field, "role");
	assert_int_equal(role_parse("", "role", &bit, &e), BM_EINVAL);
	assert_int_equal(role_parse("Auditor", "role", &bit, &e), BM_EINVAL);

	assert_int_equal(role_parse_list("officer,reviewer", "roles", &set, &e), 0);
	assert_int_equal(set, ROLE_OFFICER | ROLE_REVIEWER);
	assert_int_equal(role_format(set, out, sizeof out), strlen("officer,reviewer"));
	assert_string_equal(out, "officer,reviewer");
	assert_int_equal(role_parse_list("", "roles", &set, &e), 0);
	assert_int_equal(set, 0);
	assert_int_equal(role_parse_list("auditor,person", "roles", &set, &e), BM_EINVAL);
	assert_string_equal(e.field, "roles");
	assert_int_equal(role_parse_list("officer,", "roles", &set, &e), BM_EINVAL);
	assert_int_equal(role_parse_list(",officer", "roles", &set, &e), BM_EINVAL);
	assert_int_equal(role_parse_list("officer,,person", "roles", &set, &e), BM_EINVAL);
	/* Truncation still reports the full length and terminates. */
	assert_int_equal(role_format(ROLE_ALL, out, 5), strlen("sysadmin,secadmin,auditor,"
							       "officer,reviewer,trainer,person"));
	assert_string_equal(out, "sysa");
	assert_int_equal(role_format(ROLE_PERSON, NULL, 0), 6);
}

static void test_sysadmin_sees_no_personnel_or_audit(void **state)
{
	(void)state;
	for (int p = 0; p < PERM_COUNT; p++) {
		const char *n = perm_name((enum perm)p);
		bool personnel = strncmp(n, "person.", 7) == 0 || strncmp(n, "unit.", 5) == 0 ||
				 strncmp(n, "post.", 5) == 0 || strncmp(n, "review.", 7) == 0 ||
				 strncmp(n, "matter.", 7) == 0 || strncmp(n, "clearance.", 10) == 0 ||
				 strncmp(n, "audit.", 6) == 0 || strcmp(n, "export") == 0 ||
				 strcmp(n, "decide") == 0 || strncmp(n, "policy.", 7) == 0;

		if (personnel)
			assert_false(role_allows(ROLE_SYSADMIN, (enum perm)p));
	}
	assert_true(role_allows(ROLE_SYSADMIN, PERM_ACCOUNT_ADMIN));
	assert_true(role_allows(ROLE_SYSADMIN, PERM_SYSTEM_SETTINGS));
	assert_false(role_allows(ROLE_SYSADMIN, PERM_ROLE_GRANT));
}

static void test_auditor_reads_only_audit_and_reports(void **state)
{
	static const enum perm reads[] = {PERM_AUDIT_READ, PERM_AUDIT_VERIFY,
					  PERM_REPORT_READ, PERM_SESSION_OWN};

	(void)state;
	for (int p = 0; p < PERM_COUNT; p++) {
		bool expect = false;

		for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++)
			expect |= reads[i] == (enum perm)p;
		assert_int_equal(role_allows(ROLE_AUDITOR, (enum perm)p), expect);
	}
}

static void test_only_auditor_reads_audit(void **state)
{
	(void)state;
	assert_int_equal(role_granting(PERM_AUDIT_READ), ROLE_AUDITOR);
	assert_int_equal(role_granting(PERM_AUDIT_VERIFY), ROLE_AUDITOR);
	/* Even the union of every other role cannot. */
	assert_false(role_allows(ROLE_ALL & ~ROLE_AUDITOR, PERM_AUDIT_READ));
}

static void test_secadmin_and_others(void **state)
{
	(void)state;
	assert_true(role_allows(ROLE_SECADMIN, PERM_POLICY_WRITE));
	assert_true(role_allows(ROLE_SECADMIN, PERM_ROLE_GRANT));
	assert_true(role_allows(ROLE_SECADMIN, PERM_PERSON_SENSITIVE_READ));
	assert_false(role_allows(ROLE_SECADMIN, PERM_ACCOUNT_ADMIN));
	assert_false(role_allows(ROLE_SECADMIN, PERM_AUDIT_READ));
	assert_int_equal(role_granting(PERM_POLICY_WRITE), ROLE_SECADMIN);
	assert_int_equal(role_granting(PERM_ROLE_GRANT), ROLE_SECADMIN);
	assert_int_equal(role_granting(PERM_ACCOUNT_ADMIN), ROLE_SYSADMIN);
	assert_true(role_allows(ROLE_OFFICER, PERM_PERSON_WRITE));
	assert_false(role_allows(ROLE_OFFICER, PERM_PERSON_SENSITIVE_READ));
	assert_false(role_allows(ROLE_PERSON, PERM_PERSON_READ));
	assert_true(role_allows(ROLE_PERSON, PERM_PERSON_SELF_READ));
	assert_true(role_allows(ROLE_PERSON | ROLE_TRAINER, PERM_TRAINING_WRITE));
	/* Nothing grants anything to no roles, to non-role bits or out of range. */
	for (int p = 0; p < PERM_COUNT; p++) {
		assert_false(role_allows(0, (enum perm)p));
		assert_false(role_allows(0x80000000u, (enum perm)p));
		assert_true(role_granting((enum perm)p) != 0);
		assert_true(strcmp(perm_name((enum perm)p), "?") != 0);
	}
	assert_false(role_allows(ROLE_ALL, PERM_COUNT));
	assert_string_equal(perm_name(PERM_COUNT), "?");
}

/* Permission names are unique: they are used as stable identifiers. */
static void test_perm_names_unique(void **state)
{
	(void)state;
	for (int a = 0; a < PERM_COUNT; a++)
		for (int b = a + 1; b < PERM_COUNT; b++)
			assert_true(strcmp(perm_name((enum perm)a), perm_name((enum perm)b)) != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_128_combinations),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_takeover),
		cmocka_unit_test(test_person_separation),
		cmocka_unit_test(test_names_roundtrip),
		cmocka_unit_test(test_sysadmin_sees_no_personnel_or_audit),
		cmocka_unit_test(test_auditor_reads_only_audit_and_reports),
		cmocka_unit_test(test_only_auditor_reads_audit),
		cmocka_unit_test(test_secadmin_and_others),
		cmocka_unit_test(test_perm_names_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
