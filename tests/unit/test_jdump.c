/*
 * test_jdump.c - jdump writes exactly what json_dumps(JSON_COMPACT) writes:
 * on hand-picked edge values and on thousands of random trees.
 */
#include "lib/jdump.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void same(const json_t *v)
{
	char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	struct buf got = BUF_INIT;

	assert_non_null(want);
	jdump(v, &got);
	assert_int_equal(got.len, strlen(want));
	assert_memory_equal(got.p, want, got.len);
	free(want);
	buf_free(&got);
}

static void test_edges(void **state)
{
	static const char ctl[] = "\x01\x1f\"\\/\b\f\n\r\t\x7f";
	json_t *v;

	(void)state;
	v = json_pack("{s:s#, s:s, s:I, s:I, s:I, s:f, s:f, s:b, s:b, s:n, s:[], s:{}}", "ctl",
		      ctl, (int)(sizeof ctl - 1), "zh", "张伟 José Müller 𝄞", "min",
		      (json_int_t)INT64_MIN, "max", (json_int_t)INT64_MAX, "zero", (json_int_t)0,
		      "r", 0.1, "big", 1e300, "t", 1, "f", 0, "n", "ea", "eo");
	assert_non_null(v);
	same(v);
	/* a string and a key holding NUL bytes */
	json_object_set_new(v, "nul", json_stringn("a\0b", 3));
	json_object_setn_new(v, "k\0y", 3, json_integer(-42));
	same(v);
	json_decref(v);
	v = json_array();
	same(v);
	json_array_append_new(v, json_string(""));
	json_array_append_new(v, json_null());
	same(v);
	json_decref(v);
	v = json_string("\xe2\x80\xa8 line separator stays raw");
	same(v);
	json_decref(v);
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A random string of bytes from a mix of ASCII, controls and UTF-8. */
static json_t *rnd_str(uint32_t *s)
{
	static const char *const parts[] = {"a", "Z", "\"", "\\", "\n", "\x01", "\x1f", " ",
					    "é", "张", "𝄞", "/", "\t", "\x7f", "0"};
	char tmp[128];
	size_t n = 0, k = rnd(s) % 12;

	for (size_t i = 0; i < k; i++) {
		const char *p = parts[rnd(s) % (sizeof parts / sizeof parts[0])];

		memcpy(tmp + n, p, strlen(p));
		n += strlen(p);
	}
	return json_stringn(tmp, n);
}

static json_t *rnd_value(uint32_t *s, int depth)
{
	switch (rnd(s) % (depth > 3 ? 6 : 8)) {
	case 0:
		return rnd_str(s);
	case 1:
		return json_integer((json_int_t)(int64_t)((uint64_t)rnd(s) << 32 | rnd(s)));
	case 2:
		return json_integer((json_int_t)(rnd(s) % 2000) - 1000);
	case 3:
		return json_boolean(rnd(s) & 1);
	case 4:
		return json_null();
	case 5:
		return json_real((double)rnd(s) / 7.0);
	case 6: {
		json_t *a = json_array();

		for (uint32_t i = rnd(s) % 5; i > 0; i--)
			json_array_append_new(a, rnd_value(s, depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object(), *k;

		for (uint32_t i = rnd(s) % 6; i > 0; i--) {
			k = rnd_str(s);
			json_object_setn_new(o, json_string_value(k), json_string_length(k),
					     rnd_value(s, depth + 1));
			json_decref(k);
		}
		return o;
	}
	}
}

static void test_random_trees(void **state)
{
	uint32_t seed = 0x9e3779b9u;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		json_t *v = rnd_value(&seed, 0);

		same(v);
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_random_trees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
