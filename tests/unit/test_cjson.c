/*
 * test_cjson.c - canonical JSON bytes for every kind of value, refusals
 * that name the JSON path, and the strict parser's error messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/cjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dumps v (stolen) and compares with the expected canonical text. */
static void expect_dump(json_t *v, const char *want)
{
	struct buf out = BUF_INIT;
	struct bm_err e = BM_ERR_INIT;

	assert_non_null(v);
	if (cjson_dump(v, &out, &e) != 0)
		fail_msg("dump failed: %s", e.msg);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
	json_decref(v);
}

/* Dumps v (stolen) expecting BM_EINVAL naming path, with out untouched. */
static void expect_refusal(json_t *v, const char *path, const char *want)
{
	struct buf out = BUF_INIT;
	struct bm_err e = BM_ERR_INIT;

	assert_non_null(v);
	buf_puts(&out, "keep");
	assert_int_equal(cjson_dump(v, &out, &e), BM_EINVAL);
	assert_string_equal(buf_cstr(&out), "keep");
	assert_string_equal(e.field, path);
	if (strstr(e.msg, want) == NULL || strstr(e.msg, path) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", e.msg, want, path);
	buf_free(&out);
	json_decref(v);
}

static void test_keys_sorted_by_bytes(void **state)
{
	(void)state;
	expect_dump(json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "b", 1, "a", 2, "aa", 3, "A", 4,
			      "é", 5, "z", 6),
		    "{\"A\":4,\"a\":2,\"aa\":3,\"b\":1,\"z\":6,\"é\":5}");
	/* Many keys (past the on-stack array), inserted in reverse. */
	{
		json_t *o = json_object();
		char k[8], want[4096] = "{";

		for (int i = 39; i >= 0; i--) {
			snprintf(k, sizeof k, "k%02d", i);
			json_object_set_new(o, k, json_integer(i));
		}
		for (int i = 0; i < 40; i++)
			snprintf(want + strlen(want), sizeof want - strlen(want), "%s\"k%02d\":%d",
				 i ? "," : "", i, i);
		strcat(want, "}");
		expect_dump(o, want);
	}
}

static void test_insertion_order_irrelevant(void **state)
{
	json_t *a = json_pack("{s:s,s:[i,i],s:{s:b,s:n}}", "x", "1", "y", 1, 2, "n", "q", 1, "p");
	json_t *b = json_object();
	struct buf oa = BUF_INIT, ob = BUF_INIT;

	(void)state;
	json_object_set_new(b, "n", json_pack("{s:n,s:b}", "p", "q", 1));
	json_object_set_new(b, "y", json_pack("[i,i]", 1, 2));
	json_object_set_new(b, "x", json_string("1"));
	assert_int_equal(cjson_dump(a, &oa, NULL), 0);
	assert_int_equal(cjson_dump(b, &ob, NULL), 0);
	assert_string_equal(oa.p, ob.p);
	assert_string_equal(oa.p, "{\"n\":{\"p\":null,\"q\":true},\"x\":\"1\",\"y\":[1,2]}");
	buf_free(&oa);
	buf_free(&ob);
	json_decref(a);
	json_decref(b);
}

static void test_scalars(void **state)
{
	(void)state;
	expect_dump(json_pack("[b,b,n,i,i,I,I,s]", 1, 0, 0, -7, (json_int_t)INT64_MAX,
			      (json_int_t)INT64_MIN, "") ,
		    "[true,false,null,0,-7,9223372036854775807,-9223372036854775808,\"\"]");
	expect_dump(json_integer(42), "42");
	expect_dump(json_array(), "[]");
	expect_dump(json_object(), "{}");
}

static void test_string_escapes(void **state)
{
	(void)state;
	expect_dump(json_string("q\" b\\ \b\f\n\r\t \x01\x1f\x7f / é 张三 😀"),
		    "\"q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001f\x7f / é 张三 😀\"");
	expect_dump(json_stringn("a\0b", 3), "\"a\\u0000b\"");
}

static void test_reals_refused_with_path(void **state)
{
	(void)state;
	expect_refusal(json_pack("{s:{s:f,s:i}}", "fields", "amount", 3.5, "n", 1),
		       "$.fields.amount", "real number 3.5");
	expect_refusal(json_pack("{s:[i,i,f]}", "items", 1, 2, 0.0), "$.items[2]", "real");
	expect_refusal(json_pack("{s:f}", "a b", 1.0), "$[\"a b\"]", "real");
	expect_refusal(json_real(1e300), "$", "real");
}

static void test_invalid_utf8_refused(void **state)
{
	static const char *bad[] = {
		"\xc0\x80",         /* overlong NUL */
		"\xe0\x80\xaf",     /* overlong '/' */
		"\xed\xa0\x80",     /* surrogate U+D800 */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xe4\xb8",         /* truncated */
		"\x80",             /* lone continuation */
		"\xff",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "name", json_stringn_nocheck(bad[i], strlen(bad[i])));
		expect_refusal(o, "$.name", "invalid UTF-8 at byte 0");
	}
	{
		json_t *o = json_object();

		json_object_set_new_nocheck(o, "k\xff", json_integer(1));
		expect_refusal(o, "$[\"k\\u00ff\"]", "invalid UTF-8 at byte 1");
	}
	/* The largest valid code points pass. */
	expect_dump(json_string("\xf4\x8f\xbf\xbf\xef\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\xef\xbf\xbf\"");
}

static void test_depth_limit(void **state)
{
	json_t *v = json_integer(1);

	(void)state;
	for (int i = 0; i < 300; i++)
		v = json_pack("[o]", v);
	{
		struct buf out = BUF_INIT;
		struct bm_err e = BM_ERR_INIT;

		assert_int_equal(cjson_dump(v, &out, &e), BM_EINVAL);
		assert_non_null(strstr(e.msg, "nested deeper"));
		assert_int_equal(out.len, 0);
		buf_free(&out);
	}
	json_decref(v);
	assert_int_equal(cjson_dump(NULL, &(struct buf)BUF_INIT, NULL), BM_EINVAL);
}

/* A 1 MiB string of mixed text keeps every byte and escapes only controls. */
static void test_huge_string(void **state)
{
	size_t n = 1 << 20, nl = 0;
	char *s = malloc(n);
	struct buf out = BUF_INIT;

	(void)state;
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		s[i] = i % 97 == 0 ? '\n' : (char)('a' + i % 26);
		nl += s[i] == '\n';
	}
	{
		json_t *v = json_stringn(s, n);

		assert_int_equal(cjson_dump(v, &out, NULL), 0);
		json_decref(v);
	}
	assert_int_equal(out.len, n + nl + 2);
	assert_memory_equal(out.p + 1, "\\nbcdef", 7);
	buf_free(&out);
	free(s);
}

static void test_cjson_str(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	cjson_str(&out, "", 0);
	assert_string_equal(out.p, "\"\"");
	buf_reset(&out);
	cjson_str(&out, "a\"b\n张", strlen("a\"b\n张"));
	assert_string_equal(out.p, "\"a\\\"b\\n张\"");
	/* Invalid bytes are escaped one by one, so distinct inputs stay
	 * distinct and the output is still valid UTF-8. */
	buf_reset(&out);
	cjson_str(&out, "x\xff\xc3", 3);
	assert_string_equal(out.p, "\"x\\u00ff\\u00c3\"");
	buf_reset(&out);
	cjson_str(&out, "\xc3\xbf", 2);
	assert_string_equal(out.p, "\"\xc3\xbf\"");
	buf_free(&out);
}

/* Parses text expecting failure; checks line, path and message parts. */
static void expect_parse_error(const char *text, long line, const char *path, const char *want)
{
	struct bm_err e = BM_ERR_INIT;

	assert_null(cjson_parse_strict(text, strlen(text), &e));
	assert_int_equal(e.code, BM_EINVAL);
	assert_int_equal(e.line, line);
	assert_string_equal(e.field, path);
	if (strstr(e.msg, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static void test_parse_duplicates(void **state)
{
	(void)state;
	expect_parse_error("{\"a\":1,\"a\":2}", 1, "$.a", "duplicate key \"a\"");
	expect_parse_error("{\n  \"fields\": {\n    \"amount\": 1,\n    \"amount\": 2\n  }\n}", 4,
			   "$.fields.amount", "duplicate key \"amount\" at $.fields.amount (line 4, "
			   "column");
	expect_parse_error("{\"items\":[{\"id\":1},{\"x\":[1,{}],\"id\":2,\"id\":3}]}", 1,
			   "$.items[1].id", "duplicate key \"id\"");
}

static void test_parse_syntax_errors(void **state)
{
	(void)state;
	expect_parse_error("", 1, "$", "invalid JSON at line 1");
	expect_parse_error("{} x", 1, "$", "column");
	expect_parse_error("{\"a\":[1,2,}", 1, "$.a[2]", "invalid JSON");
	expect_parse_error("{\"a\":\"\xff\"}", 1, "$.a", "invalid JSON");
	expect_parse_error("{\"a\":\"\\u0000\"}", 1, "$.a", "invalid JSON");
	expect_parse_error("{\"a\":1,\n\"b\":tru}", 2, "$.b", "line 2");
	{
		struct bm_err e = BM_ERR_INIT;

		assert_null(cjson_parse_strict("{\"a\":1}\0", 8, &e));
		assert_null(cjson_parse_strict(NULL, 0, &e));
	}
}

static void test_parse_then_dump(void **state)
{
	const char *text = "{ \"z\": [1, \"two\", null], \"a\": {\"y\": false, \"b\": \"é\\n\"} }";
	struct buf out = BUF_INIT;
	struct bm_err e = BM_ERR_INIT;
	json_t *v = cjson_parse_strict(text, strlen(text), &e);

	(void)state;
	assert_non_null(v);
	assert_int_equal(cjson_dump(v, &out, &e), 0);
	assert_string_equal(out.p, "{\"a\":{\"b\":\"é\\n\",\"y\":false},\"z\":[1,\"two\",null]}");
	json_decref(v);
	v = cjson_parse_strict("17", 2, &e);
	assert_non_null(v);
	assert_true(json_is_integer(v));
	json_decref(v);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_sorted_by_bytes),
		cmocka_unit_test(test_insertion_order_irrelevant),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_reals_refused_with_path),
		cmocka_unit_test(test_invalid_utf8_refused),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_huge_string),
		cmocka_unit_test(test_cjson_str),
		cmocka_unit_test(test_parse_duplicates),
		cmocka_unit_test(test_parse_syntax_errors),
		cmocka_unit_test(test_parse_then_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
