/* num_parse: digits only, in range, no overflow; what strtoll let through
 * (blanks, signs, trailing text) is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/num.h"

static void test_accepts_digits_in_range(void **state)
{
	int64_t v = -1;

	(void)state;
	assert_true(num_parse("0", 0, 10, &v));
	assert_int_equal(v, 0);
	assert_true(num_parse("10", 0, 10, &v));
	assert_int_equal(v, 10);
	assert_true(num_parse("007", 1, 10, &v));      /* leading zeros are the same number */
	assert_int_equal(v, 7);
	assert_true(num_parse("9223372036854775807", 0, INT64_MAX, &v));
	assert_int_equal(v, INT64_MAX);
}

static void test_refuses_everything_else(void **state)
{
	static const char *const bad[] = {
		"", " 5", "\t5", "\n5", "5 ", "+5", "-5", "5x", "0x10", "1e3", "5.0",
		"9223372036854775808", "99999999999999999999999", "١٢", "5\xef\xbc\x90",
	};
	int64_t v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (num_parse(bad[i], 0, INT64_MAX, &v))
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(v, 42);                 /* untouched */
	}
	assert_false(num_parse(NULL, 0, 10, &v));
	assert_false(num_parse("11", 0, 10, &v));
	assert_false(num_parse("0", 1, 10, &v));
	assert_false(num_parse("5", -1, 10, &v));     /* no negative range */
	assert_int_equal(v, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_digits_in_range),
		cmocka_unit_test(test_refuses_everything_else),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
