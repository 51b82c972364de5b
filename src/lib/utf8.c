/*
 * utf8.c - strict UTF-8 validation, counting, a printability check and the
 * display width a terminal gives a text.
 *
 * Validation follows the well-formed byte sequences of the Unicode standard
 * (Table 3-7): overlong forms, UTF-16 surrogates (U+D800..U+DFFF) and code
 * points above U+10FFFF are rejected.  Runs of ASCII, the common case in
 * registry data, are checked eight bytes at a time.  This module never
 * allocates and never repairs input: bad bytes are reported, not replaced.
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

#define HIGH_BITS 0x8080808080808080ULL

static size_t ascii_run(const unsigned char *s, size_t n);

/* Length of the leading all-ASCII run of s[0..n), eight bytes per step. */
static size_t ascii_run(const unsigned char *s, size_t n)
{
	size_t i = 0;
	uint64_t w;

	while (i + 8 <= n) {
		memcpy(&w, s + i, 8);
		if (w & HIGH_BITS)
			break;
		i += 8;
	}
	while (i < n && s[i] < 0x80)
		i++;
	return i;
}

/* Length of the well-formed multi-byte sequence starting at s (whose first
 * byte is >= 0x80), or 0 when it is ill-formed or truncated.  The second
 * byte's range is what excludes overlongs, surrogates and > U+10FFFF. */
static size_t seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* Walks s alternating ASCII runs and checked multi-byte sequences; the
 * offset reported is that of the first byte of the bad sequence. */
bool utf8_valid(const char *s, size_t n, size_t *bad)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		i += ascii_run(u + i, n - i);
		if (i >= n)
			break;
		k = seq_len(u + i, n - i);
		if (k == 0) {
			if (bad != NULL)
				*bad = i;
			return false;
		}
		i += k;
	}
	return true;
}

/* Every code point has exactly one byte that is not a continuation byte. */
size_t utf8_count(const char *s, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		count += ((unsigned char)s[i] & 0xC0) != 0x80;
	return count;
}

/* C0 and DEL are single bytes; C1 (U+0080..U+009F) is encoded as C2 80..9F;
 * U+061C as D8 9C; U+200E, U+200F as E2 80 8E, 8F; U+2028..U+202E as
 * E2 80 A8..AE; U+2066..U+2069 as E2 81 A6..A9. */
bool utf8_printable(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < n; i++) {
		if (u[i] < 0x20 || u[i] == 0x7F)
			return false;
		if (u[i] == 0xC2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F)
			return false;
		if (u[i] == 0xD8 && i + 1 < n && u[i + 1] == 0x9C)
			return false;
		if (u[i] == 0xE2 && i + 2 < n &&
		    ((u[i + 1] == 0x80 && (u[i + 2] == 0x8E || u[i + 2] == 0x8F ||
					   (u[i + 2] >= 0xA8 && u[i + 2] <= 0xAE))) ||
		     (u[i + 1] == 0x81 && u[i + 2] >= 0xA6 && u[i + 2] <= 0xA9)))
			return false;
	}
	return true;
}

size_t utf8_seq_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	if (n == 0)
		return 0;
	return u[0] < 0x80 ? 1 : seq_len(u, n);
}

/* The code point of the well-formed sequence u[0..k) (k from seq_len). */
static uint32_t decode(const unsigned char *u, size_t k)
{
	uint32_t c = u[0];

	if (k > 1)
		c &= 0x7Fu >> k;
	for (size_t j = 1; j < k; j++)
		c = (c << 6) | (u[j] & 0x3Fu);
	return c;
}

struct range {
	uint32_t lo, hi;
};

/* True when c is in one of the n sorted, disjoint ranges of t. */
static bool in_ranges(const struct range *t, size_t n, uint32_t c)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c < t[mid].lo)
			hi = mid;
		else if (c > t[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Characters a terminal draws in no column of their own: combining marks
 * of the common scripts (Latin accents of a name typed decomposed, Hebrew
 * and Arabic points, Thai vowels, kana voicing marks), Hangul medial and
 * final jamo, zero-width spaces and joiners, invisible operators,
 * variation selectors, the BOM and tag characters. */
static const struct range zero_width[] = {
	{0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF},
	{0x05C1, 0x05C2}, {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, {0x0610, 0x061A},
	{0x064B, 0x065F}, {0x0670, 0x0670}, {0x06D6, 0x06DC}, {0x06DF, 0x06E4},
	{0x06E7, 0x06E8}, {0x06EA, 0x06ED}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A},
	{0x0E47, 0x0E4E}, {0x1160, 0x11FF}, {0x180B, 0x180F}, {0x1AB0, 0x1AFF},
	{0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x2060, 0x2064}, {0x20D0, 0x20FF},
	{0x302A, 0x302D}, {0x3099, 0x309A}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
	{0xFEFF, 0xFEFF}, {0xE0000, 0xE007F}, {0xE0100, 0xE01EF},
};

/* Characters a terminal draws two columns wide (East Asian Wide and
 * Fullwidth): Hangul initials, CJK radicals, kana, ideographs, Yi, Hangul
 * syllables, fullwidth forms and the emoji blocks. */
static const struct range two_wide[] = {
	{0x1100, 0x115F}, {0x2E80, 0x303E}, {0x3041, 0xA4CF}, {0xAC00, 0xD7A3},
	{0xF900, 0xFAFF}, {0xFE30, 0xFE4F}, {0xFF00, 0xFF60}, {0xFFE0, 0xFFE6},
	{0x1F200, 0x1F2FF}, {0x1F300, 0x1FAFF}, {0x20000, 0x3FFFD},
};

#define NRANGES(t) (sizeof(t) / sizeof((t)[0]))

/* Columns of one code point: 0, 1 or 2. */
static size_t cp_width(uint32_t c)
{
	if (in_ranges(zero_width, NRANGES(zero_width), c))
		return 0;
	return in_ranges(two_wide, NRANGES(two_wide), c) ? 2 : 1;
}

/* A byte that is not part of a well-formed character shows as one
 * replacement glyph, so it counts one column. */
size_t utf8_width(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t w = 0;

	for (size_t i = 0, k; i < n; i += k) {
		k = utf8_seq_len(s + i, n - i);
		if (k == 0) {
			k = 1;
			w++;
			continue;
		}
		w += cp_width(decode(u + i, k));
	}
	return w;
}

/* Blank-looking characters that are neither spaces nor zero-width: the
 * Hangul fillers (U+115F, U+3164, U+FFA0; a name of one of them is the
 * usual way to look nameless) and the blank Braille pattern U+2800. */
static const struct range fillers[] = {
	{0x115F, 0x1160}, {0x2800, 0x2800}, {0x3164, 0x3164}, {0xFFA0, 0xFFA0},
};

/* True for the code points that show as nothing: spaces of every width
 * (U+3000 is the one a Chinese keyboard types), the zero-width ones
 * (joiners, variation selectors, tag characters, the combining grapheme
 * joiner U+034F) and the fillers. */
static bool is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == 0xA0 || c == 0x1680 || c == 0x180E ||
	       (c >= 0x2000 && c <= 0x200D) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
	       c == 0x205F || c == 0x3000 || c == 0x034F ||
	       (c >= 0x2060 && c <= 0x2064) || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF ||
	       (c >= 0xE0000 && c <= 0xE007F) || (c >= 0xE0100 && c <= 0xE01EF) ||
	       in_ranges(fillers, NRANGES(fillers), c);
}

bool utf8_blank(const char *v, size_t n)
{
	const unsigned char *u = (const unsigned char *)v;

	for (size_t i = 0, k; i < n; i += k) {
		k = utf8_seq_len(v + i, n - i);
		if (k == 0 || !is_space(decode(u + i, k)))
			return false;
	}
	return true;
}
