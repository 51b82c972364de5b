/*
 * test_utf8.c - strict UTF-8 validation: what names and imported fields may
 * contain, and where a bad byte is reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/utf8.h"

static bool valid(const char *s, size_t *bad)
{
	return utf8_valid(s, strlen(s), bad);
}

static void test_accepts_well_formed(void **state)
{
	(void)state;
	assert_true(utf8_valid("", 0, NULL));
	assert_true(valid("plain ascii, long enough for the fast path", NULL));
	assert_true(valid("张伟", NULL));                 /* 3-byte */
	assert_true(valid("Zoë Ångström", NULL));        /* 2-byte */
	assert_true(valid("\xF0\x9F\x94\x92 locked", NULL)); /* emoji, 4-byte */
	assert_true(valid("\xEF\xBF\xBF", NULL));         /* U+FFFF */
	assert_true(valid("\xF4\x8F\xBF\xBF", NULL));     /* U+10FFFF, the last */
	assert_true(valid("\xED\x9F\xBF", NULL));         /* U+D7FF, below surrogates */
	assert_true(valid("\xEE\x80\x80", NULL));         /* U+E000, above surrogates */
	assert_true(valid("\xC2\x80", NULL));             /* U+0080, shortest 2-byte */
	/* Embedded NUL is valid UTF-8; the length, not strlen, decides. */
	assert_true(utf8_valid("a\0b", 3, NULL));
}

static void expect_bad(const char *s, size_t n, size_t at)
{
	size_t bad = 999;

	assert_false(utf8_valid(s, n, &bad));
	assert_int_equal(bad, at);
}

static void test_rejects_overlongs(void **state)
{
	(void)state;
	expect_bad("\xC0\xAF", 2, 0);           /* '/' in two bytes */
	expect_bad("\xC1\xBF", 2, 0);
	expect_bad("\xE0\x80\xAF", 3, 0);       /* '/' in three bytes */
	expect_bad("\xE0\x9F\xBF", 3, 0);       /* U+07FF overlong */
	expect_bad("\xF0\x80\x80\xAF", 4, 0);
	expect_bad("\xF0\x8F\xBF\xBF", 4, 0);   /* U+FFFF overlong */
}

static void test_rejects_surrogates_and_beyond(void **state)
{
	(void)state;
	expect_bad("\xED\xA0\x80", 3, 0);       /* U+D800 */
	expect_bad("\xED\xBF\xBF", 3, 0);       /* U+DFFF */
	expect_bad("\xF4\x90\x80\x80", 4, 0);   /* U+110000 */
	expect_bad("\xF5\x80\x80\x80", 4, 0);
	expect_bad("\xFF", 1, 0);
	expect_bad("\xFE", 1, 0);
}

static void test_rejects_truncated_and_stray(void **state)
{
	(void)state;
	expect_bad("abc\xE5\xBC", 5, 3);        /* truncated 3-byte at the end */
	expect_bad("abc\x80", 4, 3);            /* lone continuation */
	expect_bad("\xE5\xBC" "a", 3, 0);       /* continuation replaced by ASCII */
	expect_bad("\xF0\x9F\x94", 3, 0);
	/* NULL bad pointer is allowed. */
	assert_false(utf8_valid("\x80", 1, NULL));
}

static void test_reports_offset_after_fast_path(void **state)
{
	char s[300];
	size_t bad = 0;

	(void)state;
	memset(s, 'x', sizeof s);
	memcpy(s + 100, "张", 3);
	s[257] = '\xC0';
	assert_false(utf8_valid(s, sizeof s, &bad));
	assert_int_equal(bad, 257);
	s[257] = 'x';
	assert_true(utf8_valid(s, sizeof s, &bad));
	/* A bad byte at every alignment of the eight-byte window is found. */
	for (size_t i = 0; i < 16; i++) {
		memset(s, 'y', 32);
		s[i] = '\x80';
		assert_false(utf8_valid(s, 32, &bad));
		assert_int_equal(bad, i);
	}
}

static void test_count(void **state)
{
	(void)state;
	assert_int_equal(utf8_count("", 0), 0);
	assert_int_equal(utf8_count("abc", 3), 3);
	assert_int_equal(utf8_count("张伟", 6), 2);
	assert_int_equal(utf8_count("a\xF0\x9F\x94\x92" "b", 6), 3);
}

static void test_printable(void **state)
{
	(void)state;
	assert_true(utf8_printable("", 0));
	assert_true(utf8_printable("Li Na 李娜 ©", strlen("Li Na 李娜 ©")));
	assert_false(utf8_printable("a\tb", 3));
	assert_false(utf8_printable("a\nb", 3));
	assert_false(utf8_printable("a\0b", 3));
	assert_false(utf8_printable("a\x7f", 2));
	assert_false(utf8_printable("\xC2\x85", 2));  /* NEL, a C1 control */
	assert_false(utf8_printable("\xC2\x9F", 2));
	assert_true(utf8_printable("\xC2\xA0", 2));   /* NBSP is not a control */
	/* bidi embeddings, overrides, isolates: "E1 \u202Egnp.exe" reads backwards */
	assert_false(utf8_printable("a\xE2\x80\xAE" "b", 4));     /* U+202E RLO */
	assert_false(utf8_printable("\xE2\x80\xAA", 3));          /* U+202A LRE */
	assert_false(utf8_printable("x\xE2\x81\xA6", 4));         /* U+2066 LRI */
	assert_false(utf8_printable("\xE2\x81\xA9" "y", 4));      /* U+2069 PDI */
	assert_false(utf8_printable("\xE2\x80\xA9", 3));          /* U+2029 PS */
	assert_false(utf8_printable("a\xE2\x80\xA8", 4));         /* U+2028 LS */
	assert_false(utf8_printable("\xE2\x80\x8E", 3));          /* U+200E LRM */
	assert_false(utf8_printable("\xE2\x80\x8F", 3));          /* U+200F RLM */
	assert_false(utf8_printable("\xD8\x9C", 2));              /* U+061C ALM */
	assert_true(utf8_printable("\xD8\x9B", 2));               /* U+061B, Arabic semicolon */
	assert_true(utf8_printable("\xE2\x80\x8D", 3));           /* U+200D ZWJ (emoji) */
	assert_true(utf8_printable("\xE2\x80\xA7", 3));           /* U+2027 */
	assert_true(utf8_printable("\xE2\x80\xAF", 3));           /* U+202F NNBSP */
	assert_true(utf8_printable("\xE2\x81\xA5", 3));           /* U+2065 */
	assert_true(utf8_printable("\xE2\x81\xAA", 3));           /* U+206A */
	assert_true(utf8_printable("\xE2\x80\x94", 3));           /* an em dash */
	/* blank: spaces of every width and zero-width characters only */
	assert_true(utf8_blank("", 0));
	assert_true(utf8_blank(" \t\xE3\x80\x80\xC2\xA0\xE2\x80\x8B", 10)); /* U+3000 NBSP ZWSP */
	assert_false(utf8_blank(" a ", 3));
	assert_false(utf8_blank("\xE3\x80\x80\xE6\x9D\x8E", 6));     /* U+3000 then 李 */
	assert_false(utf8_blank("\xE3\x80", 2));                   /* cut short */
}

static size_t width(const char *s)
{
	return utf8_width(s, strlen(s));
}

/* The columns a table pads to: a name typed decomposed (e + U+0301), one
 * with a zero-width space or a variation selector takes the columns it
 * shows in, so the next column starts where it does on the other rows. */
static void test_width(void **state)
{
	(void)state;
	assert_int_equal(width(""), 0);
	assert_int_equal(width("Jos\xC3\xA9"), 4);                  /* precomposed */
	assert_int_equal(width("Jose\xCC\x81"), 4);                 /* e + U+0301 */
	assert_int_equal(width("a\xE2\x80\x8B" "b"), 2);             /* ZWSP */
	assert_int_equal(width("\xE5\xBC\xA0\xE4\xBC\x9F"), 4);      /* 张伟 */
	assert_int_equal(width("\xE3\x80\x80"), 2);                  /* U+3000 */
	assert_int_equal(width("\xEF\xBC\xA5\xEF\xBC\x91"), 4);      /* fullwidth E1 */
	assert_int_equal(width("\xF0\x9F\x94\x92"), 2);              /* an emoji */
	assert_int_equal(width("\xE2\x9D\xA4\xEF\xB8\x8F"), 1);      /* U+2764 + VS16 */
	assert_int_equal(width("\xEA\xB0\x80"), 2);                  /* Hangul syllable */
	assert_int_equal(width("\xE1\x84\x80\xE1\x85\xA1"), 2);      /* jamo L + V */
	assert_int_equal(width("\xD7\xA9\xD7\x81"), 1);              /* shin + shin dot */
	assert_int_equal(width("\xF3\xA0\x81\x81"), 0);              /* a tag character */
	assert_int_equal(width("\xF0\xA0\x80\x80"), 2);              /* CJK ext. B */
	assert_int_equal(width("a\xE4\xB8"), 3);                      /* cut: one per byte */
}

/* Names that show as nothing: the Hangul filler (the usual "invisible
 * name"), the blank Braille pattern, a tag character, a variation
 * selector, the combining grapheme joiner, the word joiner. */
static void test_blank_fillers(void **state)
{
	(void)state;
	assert_true(utf8_blank("\xE3\x85\xA4", 3));                /* U+3164 */
	assert_true(utf8_blank("\xE1\x85\x9F \xEF\xBE\xA0", 7));    /* U+115F, U+FFA0 */
	assert_true(utf8_blank("\xE2\xA0\x80", 3));                /* U+2800 */
	assert_true(utf8_blank("\xF3\xA0\x81\x81\xEF\xB8\x8F", 7));  /* tag A, VS16 */
	assert_true(utf8_blank("\xCD\x8F\xE2\x81\xA0", 5));          /* U+034F, U+2060 */
	assert_false(utf8_blank("\xE3\x85\xA4\xE6\x9D\x8E", 6));     /* filler then 李 */
	assert_false(utf8_blank("\xCC\x81", 2));                    /* an accent shows */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_well_formed),
		cmocka_unit_test(test_rejects_overlongs),
		cmocka_unit_test(test_rejects_surrogates_and_beyond),
		cmocka_unit_test(test_rejects_truncated_and_stray),
		cmocka_unit_test(test_reports_offset_after_fast_path),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_blank_fillers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
