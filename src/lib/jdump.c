/*
 * jdump.c - compact JSON text of a jansson value (see jdump.h).  It must
 * never write anything json_dumps(JSON_COMPACT) would not: the tests
 * compare both on many values, control characters and NULs included.
 */
#include "jdump.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* jansson's object iterators take json_t * although they only read. */
static json_t *unconst(const json_t *v)
{
	union {
		const json_t *c;
		json_t *m;
	} u = {.c = v};

	return u.m;
}

void jdump_str(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;

	buf_putc(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', 'u', '0', '0', 0, 0};
		size_t len = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(out, s + run, i - run);
		run = i + 1;
		esc[1] = c == '"' ? '"' : c == '\\' ? '\\' : c == '\b' ? 'b' : c == '\f' ? 'f'
		       : c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 'u';
		if (esc[1] == 'u') {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			len = 6;
		}
		buf_append(out, esc, len);
	}
	buf_append(out, s + run, n - run);
	buf_putc(out, '"');
}

/* Decimal text of a 64-bit integer, INT64_MIN included. */
void jdump_int(struct buf *out, int64_t v)
{
	char tmp[24], *p = tmp + sizeof tmp;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	buf_append(out, p, (size_t)(tmp + sizeof tmp - p));
}

/* A real: jansson's own digits. */
static void put_real(struct buf *out, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s != NULL)
		buf_puts(out, s);
	free(s);
}

static void put_object(struct buf *out, const json_t *v)
{
	const char *k;
	size_t klen;
	json_t *m;
	bool first = true;

	buf_putc(out, '{');
	json_object_keylen_foreach(unconst(v), k, klen, m) {
		if (!first)
			buf_putc(out, ',');
		first = false;
		jdump_str(out, k, klen);
		buf_putc(out, ':');
		jdump(m, out);
	}
	buf_putc(out, '}');
}

void jdump(const json_t *v, struct buf *out)
{
	size_t i;
	json_t *m;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		put_object(out, v);
		break;
	case JSON_ARRAY:
		buf_putc(out, '[');
		json_array_foreach(unconst(v), i, m) {
			if (i)
				buf_putc(out, ',');
			jdump(m, out);
		}
		buf_putc(out, ']');
		break;
	case JSON_STRING:
		jdump_str(out, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		jdump_int(out, json_integer_value(v));
		break;
	case JSON_REAL:
		put_real(out, v);
		break;
	case JSON_TRUE:
		buf_puts(out, "true");
		break;
	case JSON_FALSE:
		buf_puts(out, "false");
		break;
	default:
		buf_puts(out, "null");
		break;
	}
}
