/*
 * test_level.c - levels, categories and compartment lists as a user types
 * them: every accepted spelling, every refusal and its message, and the
 * set operations the decision path relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/level.h"
#include "core/names.h"
#include "lib/utf8.h"

struct spelling {
	const char *s;
	int level;
};

static const struct spelling level_ok[] = {
	{"0", 0}, {"none", 0}, {"NONE", 0}, {"unclassified", 0}, {"Unclassified", 0},
	{"U", 0}, {"u", 0}, {"非涉密", 0},
	{"1", 1}, {"confidential", 1}, {"CONFIDENTIAL", 1}, {"C", 1}, {"c", 1}, {"秘密", 1},
	{"2", 2}, {"secret", 2}, {"Secret", 2}, {"S", 2}, {"s", 2}, {"机密", 2},
	{"3", 3}, {"top_secret", 3}, {"top secret", 3}, {"Top Secret", 3},
	{"top-secret", 3}, {"TOP-SECRET", 3}, {"TS", 3}, {"ts", 3}, {"Ts", 3}, {"绝密", 3},
	{" secret ", 2}, {"\tTS", 3}, {"绝密  ", 3},
};

static void test_level_parse_accepts_every_form(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof level_ok / sizeof level_ok[0]; i++) {
		struct bm_err e = BM_ERR_INIT;
		int lv = -1;

		assert_int_equal(level_parse(level_ok[i].s, "level", &lv, &e), 0);
		assert_int_equal(lv, level_ok[i].level);
		assert_int_equal(e.code, 0);
	}
}

static const char *const level_bad[] = {
	"4", "-1", "03", "1.0", "secrets", "topsecret", "top  secret", "top_secret!",
	"core", "key", "general", "核心", "一般", "T S", "x", "机密级", "秘", "SS",
	"\xE6\x9C\xBA", /* a truncated 机 */ "\xFF\xFE", "level\n",
};

static void test_level_parse_refuses_with_field_and_forms(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof level_bad / sizeof level_bad[0]; i++) {
		struct bm_err e = BM_ERR_INIT;
		int lv = 42;

		assert_int_equal(level_parse(level_bad[i], "post.level", &lv, &e), BM_EINVAL);
		assert_int_equal(e.code, BM_EINVAL);
		assert_string_equal(e.field, "post.level");
		assert_non_null(strstr(e.msg, "post.level"));
		assert_non_null(strstr(e.msg, "top_secret"));
		assert_non_null(strstr(e.msg, "机密"));
		assert_int_equal(lv, 42); /* untouched on failure */
	}
}

static void test_level_parse_empty_and_null(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	int lv = 7;

	(void)state;
	assert_int_equal(level_parse("", "level", &lv, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "required"));
	assert_int_equal(level_parse("   ", "level", &lv, &e), BM_EINVAL);
	assert_int_equal(level_parse(NULL, "level", &lv, &e), BM_EINVAL);
	assert_int_equal(level_parse(NULL, NULL, &lv, NULL), BM_EINVAL);
	assert_int_equal(lv, 7);
}

static void test_level_error_quotes_safely(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	char huge[5000];
	int lv;

	(void)state;
	/* Valid Chinese is quoted as typed. */
	assert_int_equal(level_parse("机密级", "level", &lv, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "\"机密级\""));
	/* Invalid UTF-8 and control characters never reach the message. */
	assert_int_equal(level_parse("a\xFF\x01z", "level", &lv, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "\"a??z\""));
	assert_null(strchr(e.msg, '\xFF'));
	/* A huge value is shortened, not truncated mid-message. */
	memset(huge, 'x', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	assert_int_equal(level_parse(huge, "level", &lv, &e), BM_EINVAL);
	assert_non_null(strstr(e.msg, "...\""));
	assert_non_null(strstr(e.msg, "top_secret"));
}

/* Found by fuzz_parse: names_echo replaced only C0 controls and DEL and
 * passed C1 controls (U+0085), bidirectional overrides (U+202E) and line
 * separators (U+2028) through, against its contract.  bm_errf's own mending
 * then turned each of their bytes into '?', so the message was safe but
 * quoted one character as two or three '?'; names_echo's output is also
 * used before any mending (policy paths).  Now one '?' per character. */
static void test_level_error_quotes_no_invisible_controls(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	char q[16];
	int lv;

	(void)state;
	assert_int_equal(level_parse("s\xC2\x85x\xE2\x80\xAEterces\xE2\x80\xA8", "level", &lv, &e),
			 BM_EINVAL);
	assert_non_null(strstr(e.msg, "\"s?x?terces?\""));
	assert_true(utf8_printable(e.msg, strlen(e.msg)));
	/* Printable text beyond ASCII stays as typed; a shortened quote never
	 * cuts a character. */
	assert_string_equal(names_echo(q, sizeof q, "机密\xE2\x81\xA6"), "机密?");
	assert_string_equal(names_echo(q, 8, "机密机密"), "机...");
	bm_err_clear(&e);
}

static void test_category_parse(void **state)
{
	static const struct spelling ok[] = {
		{"general", 1}, {"GENERAL", 1}, {"一般", 1}, {"key", 2}, {"Key", 2},
		{"重要", 2}, {"core", 3}, {"CORE", 3}, {"核心", 3}, {"none", 0}, {"0", 0},
		{"secret", 2}, {"TS", 3}, {"秘密", 1}, {" core ", 3},
	};
	struct bm_err e = BM_ERR_INIT;
	int lv = -1;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(category_parse(ok[i].s, "category", &lv, &e), 0);
		assert_int_equal(lv, ok[i].level);
	}
	assert_int_equal(category_parse("cores", "person.category", &lv, &e), BM_EINVAL);
	assert_string_equal(e.field, "person.category");
	assert_non_null(strstr(e.msg, "person.category"));
	assert_non_null(strstr(e.msg, "核心"));
	assert_non_null(strstr(e.msg, "general"));
	assert_int_equal(category_parse("", "category", &lv, &e), BM_EINVAL);
	assert_int_equal(category_parse("4", "category", &lv, &e), BM_EINVAL);
}

static void test_names_round_trip(void **state)
{
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	for (int lv = 0; lv <= LEVEL_MAX; lv++) {
		const char *names[] = {level_name(lv), level_name_zh(lv), level_name_us(lv)};
		int got = -1;

		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(level_parse(names[i], "l", &got, &e), 0);
			assert_int_equal(got, lv);
		}
		assert_int_equal(category_parse(category_name(lv), "c", &got, &e), 0);
		assert_int_equal(got, lv);
		assert_int_equal(category_parse(category_name_zh(lv), "c", &got, &e), 0);
		assert_int_equal(got, lv);
	}
	assert_string_equal(level_name(3), "top_secret");
	assert_string_equal(level_name_zh(2), "机密");
	assert_string_equal(level_name_us(1), "C");
	assert_string_equal(level_name_us(0), "U");
	assert_string_equal(category_name(1), "general");
	assert_string_equal(category_name_zh(3), "核心");
	assert_string_equal(level_name(4), "unknown");
	assert_string_equal(level_name(-1), "unknown");
	assert_string_equal(category_name_zh(99), "unknown");
}

/* Normalises s with a roomy buffer and returns the result or the error. */
static int norm(const char *s, char *out, size_t cap, struct bm_err *e)
{
	bm_err_clear(e);
	return compartments_normalize(s, "post.compartments", out, cap, e);
}

static void test_normalize_sorts_dedupes_uppercases(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"ALPHA, bravo,ALPHA", "ALPHA,BRAVO"},
		{"", ""},
		{"   ", ""},
		{"x", "X"},
		{"  zulu  ,\talpha\t", "ALPHA,ZULU"},
		{"B,A,C,A,B", "A,B,C"},
		{"AB,A,ABC", "A,AB,ABC"},
		{"a-1,A_1,a1,A-1", "A-1,A1,A_1"},
		{"0,9,Z,_,-", "-,0,9,Z,_"},
		{"p1,P1,p1", "P1"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234"},
	};
	struct bm_err e = BM_ERR_INIT;
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(norm(cases[i].in, out, sizeof out, &e), 0);
		assert_string_equal(out, cases[i].out);
	}
	assert_int_equal(compartments_normalize(NULL, "c", out, sizeof out, &e), 0);
	assert_string_equal(out, "");
	bm_err_clear(&e);
}

static void test_normalize_in_place(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	char s[64] = "delta, charlie ,delta,Bravo";

	(void)state;
	assert_int_equal(compartments_normalize(s, "c", s, sizeof s, &e), 0);
	assert_string_equal(s, "BRAVO,CHARLIE,DELTA");
}

static void test_normalize_refuses_bad_codes(void **state)
{
	static const struct {
		const char *in, *needle;
	} cases[] = {
		{"ALPHA,,BRAVO", "compartment 2 is empty"},
		{"ALPHA,", "compartment 2 is empty"},
		{",ALPHA", "compartment 1 is empty"},
		{"ALPHA, ,BRAVO", "compartment 2 is empty"},
		{"AL PHA", "\"AL PHA\""},
		{"ALPHA,bra.vo", "\"bra.vo\""},
		{"ALPHA;BRAVO", "\"ALPHA;BRAVO\""},
		{"项目", "\"项目\""},
		{"A\xFF", "\"A?\""},
		{"A\nB", "\"A?B\""},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", "longer than 31"},
	};
	struct bm_err e = BM_ERR_INIT;
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		strcpy(out, "untouched");
		assert_int_equal(norm(cases[i].in, out, sizeof out, &e), BM_EINVAL);
		assert_string_equal(e.field, "post.compartments");
		assert_non_null(strstr(e.msg, "post.compartments"));
		if (strstr(e.msg, cases[i].needle) == NULL)
			fail_msg("input %zu: \"%s\" lacks \"%s\"", i, e.msg, cases[i].needle);
		assert_string_equal(out, "untouched");
	}
}

static void test_normalize_too_big(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	char out[16];

	(void)state;
	/* "ALPHA,BRAVO" needs 12 bytes with its NUL. */
	assert_int_equal(compartments_normalize("bravo,alpha", "c", out, 12, &e), 0);
	assert_string_equal(out, "ALPHA,BRAVO");
	assert_int_equal(norm("bravo,alpha", out, 11, &e), BM_ETOOBIG);
	assert_int_equal(e.code, BM_ETOOBIG);
	assert_string_equal(e.field, "post.compartments");
	assert_int_equal(norm("", out, 0, &e), BM_ETOOBIG);
	assert_int_equal(norm("", out, 1, &e), 0);
	assert_string_equal(out, "");
	/* Duplicates do not count against the room. */
	assert_int_equal(norm("a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a", out, 2, &e), 0);
	assert_string_equal(out, "A");
	bm_err_clear(&e);
}

static void test_normalize_huge_input(void **state)
{
	size_t n = 200000, cap = 16 * n;
	char *in = malloc(cap), *out = malloc(cap);
	struct bm_err e = BM_ERR_INIT;
	size_t o = 0;

	(void)state;
	/* 200000 codes written in descending order, each twice. */
	for (size_t i = n; i-- > 0;)
		o += (size_t)sprintf(in + o, "c%05zu,C%05zu,", i % 100000, i % 100000);
	in[o - 1] = '\0';
	assert_int_equal(compartments_normalize(in, "c", out, cap, &e), 0);
	assert_int_equal(strlen(out), 100000 * 7 - 1);
	assert_memory_equal(out, "C00000,C00001,", 14);
	assert_string_equal(out + strlen(out) - 6, "C99999");
	free(in);
	free(out);
}

static void test_union(void **state)
{
	static const struct {
		const char *a, *b, *u;
	} cases[] = {
		{"", "", ""},
		{"A", "", "A"},
		{"", "B", "B"},
		{"A,C", "B,D", "A,B,C,D"},
		{"A,B", "A,B", "A,B"},
		{"A,AB", "AB,ABC", "A,AB,ABC"},
		{"X", "A,B,C", "A,B,C,X"},
		{"-,0,_", "9,Z", "-,0,9,Z,_"},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(compartments_union(cases[i].a, cases[i].b, out, sizeof out), 0);
		assert_string_equal(out, cases[i].u);
		assert_int_equal(compartments_union(cases[i].b, cases[i].a, out, sizeof out), 0);
		assert_string_equal(out, cases[i].u);
	}
	assert_int_equal(compartments_union("A,C", "B", out, 6), 0);
	assert_string_equal(out, "A,B,C");
	assert_int_equal(compartments_union("A,C", "B", out, 5), BM_ETOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(compartments_union("", "", out, 0), BM_ETOOBIG);
}

static void test_union_refuses_unnormalised(void **state)
{
	static const char *const bad[] = {"B,A", "A,A", "a", "A,", ",A", "A,,B", "A B",
					  "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(compartments_union(bad[i], "C", out, sizeof out), BM_EINVAL);
		assert_string_equal(out, "");
		assert_int_equal(compartments_union("C", bad[i], out, sizeof out), BM_EINVAL);
	}
}

static void test_include(void **state)
{
	(void)state;
	assert_true(compartments_include("", ""));
	assert_true(compartments_include("A", ""));
	assert_false(compartments_include("", "A"));
	assert_true(compartments_include("A,B,C", "A,C"));
	assert_true(compartments_include("A,B,C", "A,B,C"));
	assert_true(compartments_include("A,B,C", "C"));
	assert_false(compartments_include("A,B,C", "A,D"));
	assert_false(compartments_include("A,C", "B"));
	assert_false(compartments_include("AB", "A"));
	assert_false(compartments_include("A", "AB"));
	assert_true(compartments_include("A,AB,ABC", "AB"));
	/* Unnormalised input fails closed. */
	assert_false(compartments_include("B,A", "A"));
	assert_false(compartments_include("A,B", "B,A"));
	assert_false(compartments_include("a", "a"));
	assert_false(compartments_include("A,,B", "A"));
	assert_false(compartments_include("A,B,", "A"));
	assert_false(compartments_include(NULL, ""));
	assert_false(compartments_include("A", NULL));
}

/* include(have, need) must agree with a naive check for every subset pair
 * of a small universe, and union must be the smallest list including both. */
static void build(unsigned mask, char *out)
{
	static const char *const u[] = {"A", "AB", "B", "C1", "Z"};
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < 5; i++)
		if (mask & (1u << i))
			o += (size_t)sprintf(out + o, "%s%s", o ? "," : "", u[i]);
}

static void test_include_and_union_exhaustive(void **state)
{
	char a[32], b[32], u[32], want[32];

	(void)state;
	for (unsigned x = 0; x < 32; x++) {
		for (unsigned y = 0; y < 32; y++) {
			build(x, a);
			build(y, b);
			assert_int_equal(compartments_include(a, b), (x & y) == y);
			assert_int_equal(compartments_union(a, b, u, sizeof u), 0);
			build(x | y, want);
			assert_string_equal(u, want);
		}
	}
}

/* compartments_valid accepts exactly what compartments_normalize writes:
 * the store refuses any other stored list. */
static void test_valid_is_normal_form(void **state)
{
	(void)state;
	const char *good[] = {"", "A", "ALPHA,BRAVO", "A-1,B_2,C"};
	const char *bad[] = {"BRAVO,ALPHA", "ALPHA,ALPHA", "alpha", ",", "A,", ",A", "A,,B",
			     " A", "{\"a\":1}", "\xff\xfe", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(compartments_valid(good[i]));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(compartments_valid(bad[i]));
	assert_false(compartments_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_parse_accepts_every_form),
		cmocka_unit_test(test_level_parse_refuses_with_field_and_forms),
		cmocka_unit_test(test_level_parse_empty_and_null),
		cmocka_unit_test(test_level_error_quotes_safely),
		cmocka_unit_test(test_level_error_quotes_no_invisible_controls),
		cmocka_unit_test(test_category_parse),
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_normalize_sorts_dedupes_uppercases),
		cmocka_unit_test(test_normalize_in_place),
		cmocka_unit_test(test_normalize_refuses_bad_codes),
		cmocka_unit_test(test_normalize_too_big),
		cmocka_unit_test(test_normalize_huge_input),
		cmocka_unit_test(test_union),
		cmocka_unit_test(test_union_refuses_unnormalised),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_include_and_union_exhaustive),
		cmocka_unit_test(test_valid_is_normal_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
