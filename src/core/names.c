/*
 * names.c - table lookup of code names and safe echoing of user text.
 * Never allocates; never trusts its input to be valid UTF-8.
 */
#include "names.h"

#include "../lib/utf8.h"

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

char *names_echo(char *dst, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, room = cap - 1, left = strlen(s);

	/* Each byte becomes at most one byte or stays in its sequence, so the
	 * output is never longer than the input; shorten only when that does not fit. */
	if (left > room)
		room = cap - 4; /* keep space for "..." */

	while (*p) {
		size_t n = utf8_seq_len((const char *)p, left);
		/* Not only C0 and DEL: C1 controls, bidirectional controls and
		 * line separators make the quote read otherwise than it holds. */
		bool ok = n > 0 && utf8_printable((const char *)p, n);
		size_t w;

		if (n == 0)
			n = 1;
		w = ok ? n : 1; /* a whole unprintable character shows as one '?' */
		if (o + w > room) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (ok)
			memcpy(dst + o, p, n);
		else
			dst[o] = '?';
		o += w;
		p += n;
		left -= n;
	}
	dst[o] = '\0';
	return dst;
}
