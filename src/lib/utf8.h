/*
 * utf8.h - UTF-8 validation.  Strict: rejects overlongs, surrogates and code
 * points above U+10FFFF.
 */
#ifndef BM_UTF8_H
#define BM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is valid UTF-8.  On failure *bad (if not NULL) is the byte offset. */
bool utf8_valid(const char *s, size_t n, size_t *bad);
/* Number of code points in valid UTF-8 s[0..n). */
size_t utf8_count(const char *s, size_t n);
/* True when s has no C0/C1 control characters, DEL, bidirectional
 * controls (U+202A..U+202E, U+2066..U+2069, the marks U+200E, U+200F and
 * U+061C: they make a name or reason read differently from what it holds,
 * in the audit trail as in a terminal) or line and paragraph separators
 * (U+2028, U+2029: one line of a log would show as two).  Valid UTF-8
 * assumed. */
bool utf8_printable(const char *s, size_t n);
/* True when valid UTF-8 s[0..n) holds nothing but spaces of any width
 * (U+3000 is the one a Chinese keyboard types), zero-width characters
 * (joiners, variation selectors, tag characters) and blank fillers
 * (U+3164 HANGUL FILLER and its kin, U+2800): a required text given as
 * such holds nothing, however it is spelt. */
bool utf8_blank(const char *s, size_t n);

/* Columns a terminal gives s[0..n): two for East Asian wide and fullwidth
 * characters (Chinese, kana, Hangul, fullwidth forms, emoji), none for
 * combining marks and zero-width characters (so "Jose" + U+0301 takes the
 * four columns of its precomposed spelling), one for the rest and for each
 * byte that is not part of a well-formed character. */
size_t utf8_width(const char *s, size_t n);

/* Length of the well-formed character at s[0..n) (1 for ASCII), 0 when the
 * bytes there are not one. */
size_t utf8_seq_len(const char *s, size_t n);

#endif
