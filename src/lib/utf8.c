/*
 * utf8.c - strict UTF-8 validation, counting and a printability check.
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

/* True for the code points that show as nothing: spaces of every width
 * (U+3000 is the one a Chinese keyboard types), and the zero-width ones. */
static bool is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == 0xA0 || c == 0x1680 || c == 0x180E ||
	       (c >= 0x2000 && c <= 0x200D) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
	       c == 0x205F || c == 0x2060 || c == 0x3000 || c == 0xFEFF;
}

bool utf8_blank(const char *v, size_t n)
{
	const unsigned char *u = (const unsigned char *)v;

	for (size_t i = 0, k; i < n; i += k) {
		uint32_t c = u[i];

		k = utf8_seq_len(v + i, n - i);
		if (k == 0)
			return false;
		if (k > 1)
			c &= 0x7Fu >> k;
		for (size_t j = 1; j < k; j++)
			c = (c << 6) | (u[i + j] & 0x3Fu);
		if (!is_space(c))
			return false;
	}
	return true;
}
