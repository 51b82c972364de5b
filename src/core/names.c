/*
 * names.c - table lookup of code names and safe echoing of user text.
 * Never allocates; never trusts its input to be valid UTF-8.
 */
#include "names.h"

#include <stdbool.h>
#include <string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* True when name equals s[0..n) ignoring ASCII case. */
static bool ieq(const char *name, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (name[i] == '\0' || ascii_lower(name[i]) != ascii_lower(s[i]))
			return false;
	return name[i] == '\0';
}

int names_find(const struct name_map *m, size_t n, const char *s, int *out)
{
	size_t len;

	if (s == NULL)
		return -1;
	while (is_blank(*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	for (size_t i = 0; i < n; i++) {
		if (ieq(m[i].name, s, len)) {
			*out = m[i].value;
			return 0;
		}
	}
	return -1;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0 when malformed. */
static size_t seq_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (c < 0xC2 || c > 0xF4)
		return 0;
	n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

char *names_echo(char *dst, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, room = cap - 1;

	/* Each byte becomes one byte or stays in its sequence, so the output
	 * is as long as the input; shorten only when that does not fit. */
	if (strlen(s) > room)
		room = cap - 4; /* keep space for "..." */

	while (*p) {
		size_t n = *p < 0x80 ? 1 : seq_len(p);
		bool ok = n > 0 && (n > 1 || (*p >= 0x20 && *p != 0x7F));

		if (!ok)
			n = 1;
		if (o + n > room) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (ok)
			memcpy(dst + o, p, n);
		else
			dst[o] = '?';
		o += ok ? n : 1;
		p += n;
	}
	dst[o] = '\0';
	return dst;
}
