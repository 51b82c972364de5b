/*
 * test_clock.c - the fixed clock, BAOMI_NOW, strict date parsing with errors
 * naming the bad part, UTC formatting whatever TZ says, and durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lib/clock.h"
#include "lib/err.h"

static int64_t parse_ok(const char *s)
{
	struct bm_err e = BM_ERR_INIT;
	int64_t t = -1;

	assert_int_equal(clock_parse(s, "since", &t, &e), 0);
	return t;
}

/* The parse fails, names the caller's field, and the message contains part. */
static void parse_bad(const char *s, const char *part)
{
	struct bm_err e = BM_ERR_INIT;
	int64_t t = 42;

	assert_int_equal(clock_parse(s, "since", &t, &e), BM_EINVAL);
	assert_int_equal(t, 42);
	assert_string_equal(e.field, "since");
	if (strstr(e.msg, part) == NULL)
		fail_msg("message \"%s\" does not name \"%s\"", e.msg, part);
}

static void test_fixed_clock(void **state)
{
	(void)state;
	clock_set(1700000000);
	assert_int_equal(clock_now(), 1700000000);
	assert_int_equal(clock_now_ms(), 1700000000000LL);
	clock_set(0);
	/* The real clock: after 2024-01-01 and consistent between s and ms. */
	assert_true(clock_now() > 1704067200);
	assert_true(llabs(clock_now_ms() / 1000 - clock_now()) <= 1);
}

static void test_parse_known_instants(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1970-01-01"), 0);
	assert_int_equal(parse_ok("1970-01-02"), BM_DAY);
	assert_int_equal(parse_ok("2000-03-01"), 951868800);
	assert_int_equal(parse_ok("2024-02-29"), 1709164800);
	assert_int_equal(parse_ok("2024-02-29T12:34:56Z"), 1709164800 + 45296);
	assert_int_equal(parse_ok("1900-01-01"), -2208988800LL);
	assert_int_equal(parse_ok("9999-12-31T23:59:59Z"), 253402300799LL);
	assert_int_equal(parse_ok("2038-01-19T03:14:08Z"), 2147483648LL); /* past int32 */
}

static void test_parse_leap_years(void **state)
{
	(void)state;
	parse_ok("2000-02-29");          /* divisible by 400 */
	parse_ok("2096-02-29");
	parse_bad("1900-02-29", "day");  /* divisible by 100 only */
	parse_bad("2023-02-29", "day");
	parse_bad("2100-02-29", "day");
	parse_bad("2024-02-30", "day");
	parse_bad("2024-04-31", "day");
	parse_ok("2024-12-31");
	parse_bad("2024-12-32", "day");
	parse_bad("2024-01-00", "day");
}

static void test_parse_ranges_name_the_part(void **state)
{
	(void)state;
	parse_bad("2024-13-01", "month");
	parse_bad("2024-00-10", "month");
	parse_bad("1899-12-31", "year");
	parse_bad("0000-01-01", "year");
	parse_bad("2024-01-01T24:00:00Z", "hour");
	parse_bad("2024-01-01T23:60:00Z", "minute");
	parse_bad("2024-01-01T23:59:60Z", "second");  /* no leap seconds */
}

static void test_parse_rejects_shapes(void **state)
{
	static const char *const bad[] = {
		"", "2024", "2024-1-01", "2024-01-1", "24-01-01", "2024/01/01", " 2024-01-01",
		"2024-01-01 ", "2024-01-01T00:00:00", "2024-01-01t00:00:00Z",
		"2024-01-01T00:00:00z", "2024-01-01T00:00:00+08:00", "2024-01-01 00:00:00Z",
		"-2024-01-01", "２０２４-01-01", "2024-01-01\n", "+024-01-01", "2024-01-01T0:00:00Z",
	};
	struct bm_err e = BM_ERR_INIT;
	int64_t t;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (clock_parse(bad[i], "f", &t, &e) != BM_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_string_equal(e.field, "f");
	}
	assert_int_equal(clock_parse(NULL, "f", &t, &e), BM_EINVAL);
	/* Bytes that are not UTF-8 are never echoed back in the message. */
	assert_int_equal(clock_parse("2024-\xff-01", "f", &t, &e), BM_EINVAL);
	assert_null(strchr(e.msg, '\xff'));
}

static void expect_fmt(int64_t t, const char *date, const char *iso)
{
	char d[11], s[21];

	clock_fmt_date(t, d);
	clock_fmt_iso(t, s);
	assert_string_equal(d, date);
	assert_string_equal(s, iso);
}

static void test_format(void **state)
{
	(void)state;
	expect_fmt(0, "1970-01-01", "1970-01-01T00:00:00Z");
	expect_fmt(1709164800 + 45296, "2024-02-29", "2024-02-29T12:34:56Z");
	expect_fmt(-1, "1969-12-31", "1969-12-31T23:59:59Z");
	expect_fmt(-2208988800LL, "1900-01-01", "1900-01-01T00:00:00Z");
	expect_fmt(951868799, "2000-02-29", "2000-02-29T23:59:59Z");
	/* Out of range instants clamp, so "never" prints as the last second. */
	expect_fmt(INT64_MAX, "9999-12-31", "9999-12-31T23:59:59Z");
	expect_fmt(INT64_MIN, "0000-01-01", "0000-01-01T00:00:00Z");
}

static void test_format_ignores_tz(void **state)
{
	char d[11], s[21];

	(void)state;
	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	clock_fmt_date(1704067200 - 1, d);  /* 2023-12-31T23:59:59Z, 08:00 in Beijing */
	clock_fmt_iso(1704067200 - 1, s);
	assert_string_equal(d, "2023-12-31");
	assert_string_equal(s, "2023-12-31T23:59:59Z");
	assert_int_equal(parse_ok("2024-01-01"), 1704067200);
	unsetenv("TZ");
	tzset();
}

/* Every day from 1900 to 2100 (and a sample to 9999) parses back to itself. */
static void test_round_trip_every_day(void **state)
{
	char d[11], s[21];
	int64_t t, prev = INT64_MIN;

	(void)state;
	for (t = -2208988800LL; t <= 4133980800LL; t += BM_DAY) {
		clock_fmt_date(t, d);
		assert_int_equal(parse_ok(d), t);
		assert_true(t > prev);
		prev = t;
	}
	for (t = -2208988800LL; t <= 253402300799LL; t += 7777777) {
		clock_fmt_iso(t, s);
		assert_int_equal(parse_ok(s), t);
	}
}

static void test_civil_helpers(void **state)
{
	int64_t y;
	int m, d;

	(void)state;
	assert_int_equal(clock_from_civil(1970, 1, 1), 0);
	assert_int_equal(clock_from_civil(2024, 3, 1) - clock_from_civil(2024, 2, 28),
			 2 * BM_DAY);
	assert_int_equal(clock_from_civil(2023, 3, 1) - clock_from_civil(2023, 2, 28), BM_DAY);
	clock_to_civil(-1, &y, &m, &d);
	assert_true(y == 1969 && m == 12 && d == 31);
	clock_to_civil(clock_from_civil(-4713, 11, 24), &y, &m, &d);
	assert_true(y == -4713 && m == 11 && d == 24);
}

static void test_env(void **state)
{
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	clock_set(0);
	unsetenv("BAOMI_NOW");
	assert_int_equal(clock_from_env(&e), 0);
	assert_true(clock_now() > 1704067200);  /* unset leaves the real clock */
	setenv("BAOMI_NOW", "2024-06-01", 1);
	assert_int_equal(clock_from_env(&e), 0);
	assert_int_equal(clock_now(), 1717200000);
	setenv("BAOMI_NOW", "2024-06-01T08:00:00Z", 1);
	assert_int_equal(clock_from_env(&e), 0);
	assert_int_equal(clock_now(), 1717228800);
	setenv("BAOMI_NOW", "1700000000", 1);
	assert_int_equal(clock_from_env(&e), 0);
	assert_int_equal(clock_now(), 1700000000);
	clock_set(0);
}

static void env_bad(const char *v)
{
	struct bm_err e = BM_ERR_INIT;

	setenv("BAOMI_NOW", v, 1);
	if (clock_from_env(&e) != BM_EINVAL)
		fail_msg("BAOMI_NOW=\"%s\" accepted", v);
	assert_string_equal(e.field, "BAOMI_NOW");
}

static void test_env_bad(void **state)
{
	(void)state;
	clock_set(0);
	env_bad("yesterday");
	env_bad("2024-02-30");
	env_bad("-5");
	env_bad("0");
	env_bad("1970-01-01");            /* 0 would silently mean the real clock */
	env_bad("1969-12-31");
	env_bad("99999999999999999999999");
	env_bad("253402300800");          /* one second past 9999 */
	env_bad("17e8");
	/* A failed read leaves the clock as it was. */
	assert_true(clock_now() > 1704067200);
	unsetenv("BAOMI_NOW");
}

static int64_t dur_ok(const char *s)
{
	struct bm_err e = BM_ERR_INIT;
	int64_t v = -1;

	assert_int_equal(clock_parse_duration(s, "period", &v, &e), 0);
	return v;
}

static void dur_bad(const char *s)
{
	struct bm_err e = BM_ERR_INIT;
	int64_t v = 7;

	if (clock_parse_duration(s, "period", &v, &e) != BM_EINVAL)
		fail_msg("duration \"%s\" accepted", s ? s : "(null)");
	assert_int_equal(v, 7);
	assert_string_equal(e.field, "period");
}

static void test_durations(void **state)
{
	(void)state;
	assert_int_equal(dur_ok("90d"), 90 * BM_DAY);
	assert_int_equal(dur_ok("12m"), 360 * BM_DAY);
	assert_int_equal(dur_ok("1y"), 365 * BM_DAY);
	assert_int_equal(dur_ok("36h"), 36 * 3600);
	assert_int_equal(dur_ok("0d"), 0);
	assert_int_equal(dur_ok("007d"), 7 * BM_DAY);
	assert_int_equal(dur_ok("292471208677y"), 292471208677LL * 365 * BM_DAY);
	dur_bad(NULL);
	dur_bad("");
	dur_bad("-1d");
	dur_bad("+1d");
	dur_bad("d");
	dur_bad("90");
	dur_bad("90D");
	dur_bad("90s");
	dur_bad("90 d");
	dur_bad(" 90d");
	dur_bad("90dd");
	dur_bad("1.5y");
	dur_bad("292471208678y");            /* overflows int64 seconds */
	dur_bad("9223372036854775808h");    /* overflows while reading digits */
	dur_bad("99999999999999999999999999d");
}

/* Days added stop at the last instant a record holds, never past it and
 * never wrapped, however far the sum would go. */
static void test_add_days_caps(void **state)
{
	(void)state;
	assert_int_equal(clock_add_days(0, 1), BM_DAY);
	assert_int_equal(clock_add_days(1000, 0), 1000);
	assert_int_equal(clock_add_days(CLOCK_MAX - BM_DAY - 1, 1), CLOCK_MAX - 1);
	assert_int_equal(clock_add_days(CLOCK_MAX - BM_DAY, 1), CLOCK_MAX);
	assert_int_equal(clock_add_days(CLOCK_MAX - BM_DAY + 1, 1), CLOCK_MAX);
	assert_int_equal(clock_add_days(253370764800 /* 9999-01-01 */, 1825), CLOCK_MAX);
	assert_int_equal(clock_add_days(CLOCK_MAX, 0), CLOCK_MAX);
	assert_int_equal(clock_add_days(0, INT64_MAX), CLOCK_MAX);
	assert_int_equal(clock_add_days(INT64_MAX, INT64_MAX), CLOCK_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_clock),
		cmocka_unit_test(test_parse_known_instants),
		cmocka_unit_test(test_parse_leap_years),
		cmocka_unit_test(test_parse_ranges_name_the_part),
		cmocka_unit_test(test_parse_rejects_shapes),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_ignores_tz),
		cmocka_unit_test(test_round_trip_every_day),
		cmocka_unit_test(test_civil_helpers),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_env_bad),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_add_days_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
