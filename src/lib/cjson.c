/*
 * cjson.c - canonical JSON writing and strict JSON reading.
 *
 * The writer turns a jansson value into the one byte string the audit
 * chain hashes: keys sorted by their UTF-8 bytes (jansson objects are
 * unordered, so keys are collected and sorted), no whitespace, integers
 * only, strings escaped minimally in the style of RFC 8785: \" \\ \b \f \n
 * \r \t, other characters below U+0020 as \u00xx (lower-case hex), all
 * else raw UTF-8.  It must never emit two byte strings for one value, nor
 * one byte string for two values.
 *
 * The reader is jansson with duplicate keys refused and trailing text
 * refused; its errors name line, column and JSON path.
 */
#include "cjson.h"
#include "mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CJSON_MAX_DEPTH 256 /* deeper values are refused, not recursed into */
#define SCAN_DEPTH 64       /* error paths name at most this many levels */

/* State of one cjson_dump: where output goes and the path being written. */
struct walk {
	struct buf *out;
	struct buf path;
	struct bm_err *e;
	int depth;
};

struct member {
	const char *key;
	size_t len;
	const json_t *val;
};

/* One open object or array while locating an error in the source text. */
struct frame {
	bool obj;
	long index;
	const char *key;
	size_t keylen;
};

static size_t utf8_seq(const uint8_t *p, size_t n);
static void put_escape(struct buf *out, uint8_t c);
static size_t put_string(struct buf *out, const char *s, size_t n, bool strict);
static json_t *unconst(const json_t *v);
static bool is_ident(const char *k, size_t n);
static void path_key(struct buf *path, const char *k, size_t n);
static int member_cmp(const void *a, const void *b);
static int dump_value(struct walk *w, const json_t *v);
static int dump_string(struct walk *w, const char *s, size_t n);
static int dump_object(struct walk *w, const json_t *v);
static int dump_members(struct walk *w, const struct member *m, size_t n);
static int dump_array(struct walk *w, const json_t *v);
static size_t string_end(const char *t, size_t i, size_t end);
static void scan_path(const char *t, size_t end, struct buf *path, const char **key,
		      size_t *keylen);

/* Length (1-4) of the well-formed UTF-8 sequence at p, or 0: no overlongs,
 * no surrogates (U+D800..DFFF), nothing above U+10FFFF (RFC 3629). */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* The escape for a byte that may not appear raw: short forms where JSON
 * has them, \u00xx otherwise.  Bytes >= 0x80 come here only when they are
 * not valid UTF-8 (cjson_str), and \u00xx keeps that encoding injective:
 * a real U+0080..U+00FF is always written raw. */
static void put_escape(struct buf *out, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

	switch (c) {
	case '"': buf_append(out, "\\\"", 2); break;
	case '\\': buf_append(out, "\\\\", 2); break;
	case '\b': buf_append(out, "\\b", 2); break;
	case '\f': buf_append(out, "\\f", 2); break;
	case '\n': buf_append(out, "\\n", 2); break;
	case '\r': buf_append(out, "\\r", 2); break;
	case '\t': buf_append(out, "\\t", 2); break;
	default: buf_append(out, u, sizeof u); break;
	}
}

/* Appends s as a quoted JSON string, copying runs of plain bytes at once.
 * Returns n when s is valid UTF-8, else the offset of the first bad byte;
 * strict stops there (output then incomplete), lenient escapes and goes on. */
static size_t put_string(struct buf *out, const char *s, size_t n, bool strict)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, run = 0, bad = n;

	buf_putc(out, '"');
	while (i < n) {
		uint8_t c = p[i];
		size_t len;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		len = c >= 0x80 ? utf8_seq(p + i, n - i) : 0;
		if (len > 0) {
			i += len;
			continue;
		}
		buf_append(out, s + run, i - run);
		if (c >= 0x80 && bad == n)
			bad = i;
		if (c >= 0x80 && strict)
			return bad;
		put_escape(out, c);
		run = ++i;
	}
	buf_append(out, s + run, i - run);
	buf_putc(out, '"');
	return bad;
}

void cjson_str(struct buf *out, const char *s, size_t n)
{
	put_string(out, s, n, false);
}

/* jansson's object iterators take json_t * although they only read; this
 * is the one place the const is dropped, without a cast-qual warning. */
static json_t *unconst(const json_t *v)
{
	union {
		const json_t *c;
		json_t *m;
	} u = {.c = v};

	return u.m;
}

static bool is_ident(const char *k, size_t n)
{
	if (n == 0 || (k[0] >= '0' && k[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];

		if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* A path step: .name for identifiers, ["any key"] otherwise. */
static void path_key(struct buf *path, const char *k, size_t n)
{
	if (is_ident(k, n)) {
		buf_putc(path, '.');
		buf_append(path, k, n);
		return;
	}
	buf_putc(path, '[');
	put_string(path, k, n, false);
	buf_putc(path, ']');
}

/* Byte order, a shorter key before any key it is a prefix of. */
static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

int cjson_dump(const json_t *v, struct buf *out, struct bm_err *e)
{
	struct walk w = {.out = out, .path = BUF_INIT, .e = e, .depth = 0};
	size_t mark = out->len;
	int rc;

	buf_putc(&w.path, '$');
	rc = dump_value(&w, v);
	if (rc != 0) {
		out->len = mark;
		if (out->p != NULL)
			out->p[mark] = '\0';
	}
	buf_free(&w.path);
	return rc;
}

static int dump_value(struct walk *w, const json_t *v)
{
	const char *at = buf_cstr(&w->path);

	if (v == NULL)
		return bm_errf(w->e, BM_EINVAL, at, "%s: missing value", at);
	switch (json_typeof(v)) {
	case JSON_OBJECT: return dump_object(w, v);
	case JSON_ARRAY: return dump_array(w, v);
	case JSON_STRING: return dump_string(w, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		buf_printf(w->out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_REAL:
		return bm_errf(w->e, BM_EINVAL, at, "%s: real number %.17g is not allowed in "
			       "canonical JSON; use an integer or a string", at, json_real_value(v));
	case JSON_TRUE: buf_puts(w->out, "true"); return 0;
	case JSON_FALSE: buf_puts(w->out, "false"); return 0;
	case JSON_NULL: buf_puts(w->out, "null"); return 0;
	}
	return bm_errf(w->e, BM_EINTERNAL, at, "%s: unknown JSON type", at);
}

static int dump_string(struct walk *w, const char *s, size_t n)
{
	size_t bad = put_string(w->out, s, n, true);

	if (bad == n)
		return 0;
	return bm_errf(w->e, BM_EINVAL, buf_cstr(&w->path),
		       "%s: invalid UTF-8 at byte %zu of the string", buf_cstr(&w->path), bad);
}

/* Collects the members (on the stack for small objects), sorts, writes. */
static int dump_object(struct walk *w, const json_t *v)
{
	struct member small[16], *m = small;
	size_t n = json_object_size(v), i = 0;
	void *it;
	int rc;

	if (n > sizeof small / sizeof small[0])
		m = xreallocarray(NULL, n, sizeof *m);
	for (it = json_object_iter(unconst(v)); it != NULL && i < n;
	     it = json_object_iter_next(unconst(v), it), i++) {
		m[i].key = json_object_iter_key(it);
		m[i].len = json_object_iter_key_len(it);
		m[i].val = json_object_iter_value(it);
	}
	qsort(m, i, sizeof *m, member_cmp);
	rc = dump_members(w, m, i);
	if (m != small)
		free(m);
	return rc;
}

static int dump_members(struct walk *w, const struct member *m, size_t n)
{
	size_t plen = w->path.len;
	int rc = 0;

	if (w->depth >= CJSON_MAX_DEPTH)
		return bm_errf(w->e, BM_EINVAL, buf_cstr(&w->path), "nested deeper than %d "
			       "levels at %s", CJSON_MAX_DEPTH, buf_cstr(&w->path));
	w->depth++;
	buf_putc(w->out, '{');
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i > 0)
			buf_putc(w->out, ',');
		path_key(&w->path, m[i].key, m[i].len);
		rc = dump_string(w, m[i].key, m[i].len);
		buf_putc(w->out, ':');
		if (rc == 0)
			rc = dump_value(w, m[i].val);
		w->path.len = plen;
		w->path.p[plen] = '\0';
	}
	buf_putc(w->out, '}');
	w->depth--;
	return rc;
}

static int dump_array(struct walk *w, const json_t *v)
{
	size_t plen = w->path.len, n = json_array_size(v);
	int rc = 0;

	if (w->depth >= CJSON_MAX_DEPTH)
		return bm_errf(w->e, BM_EINVAL, buf_cstr(&w->path), "nested deeper than %d "
			       "levels at %s", CJSON_MAX_DEPTH, buf_cstr(&w->path));
	w->depth++;
	buf_putc(w->out, '[');
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i > 0)
			buf_putc(w->out, ',');
		buf_printf(&w->path, "[%zu]", i);
		rc = dump_value(w, json_array_get(v, i));
		w->path.len = plen;
		w->path.p[plen] = '\0';
	}
	buf_putc(w->out, ']');
	w->depth--;
	return rc;
}

/* Index of the quote closing the string opened at t[i], or end. */
static size_t string_end(const char *t, size_t i, size_t end)
{
	for (size_t j = i + 1; j < end; j++) {
		if (t[j] == '\\')
			j++;
		else if (t[j] == '"')
			return j;
	}
	return end;
}

/* Rebuilds the JSON path at byte offset end of text that jansson accepted
 * up to there, by following brackets, commas, colons and key strings.
 * *key receives the last object key seen (raw source text), if any. */
static void scan_path(const char *t, size_t end, struct buf *path, const char **key,
		      size_t *keylen)
{
	struct frame st[SCAN_DEPTH];
	int depth = 0;
	bool want_key = false;

	*key = NULL;
	*keylen = 0;
	for (size_t i = 0; i < end; i++) {
		struct frame *top = depth > 0 && depth <= SCAN_DEPTH ? &st[depth - 1] : NULL;
		char c = t[i];

		if (c == '"') {
			size_t j = string_end(t, i, end);

			if (top != NULL && top->obj && want_key) {
				top->key = *key = t + i + 1;
				top->keylen = *keylen = j - i - 1;
			}
			i = j;
		} else if (c == '{' || c == '[') {
			if (depth < SCAN_DEPTH)
				st[depth] = (struct frame){.obj = c == '{', .index = 0, .key = NULL};
			depth++;
			want_key = c == '{';
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
			want_key = false;
		} else if (c == ',' && top != NULL) {
			top->index++;
			top->key = NULL;
			want_key = top->obj;
		} else if (c == ':') {
			want_key = false;
		}
	}
	buf_putc(path, '$');
	for (int d = 0; d < depth && d < SCAN_DEPTH; d++) {
		if (!st[d].obj)
			buf_printf(path, "[%ld]", st[d].index);
		else if (st[d].key != NULL)
			path_key(path, st[d].key, st[d].keylen);
	}
	if (depth > SCAN_DEPTH)
		buf_puts(path, "...");
}

json_t *cjson_parse_strict(const char *text, size_t len, struct bm_err *e)
{
	json_error_t je;
	struct buf path = BUF_INIT;
	const char *key;
	size_t keylen, at;
	json_t *v;

	v = json_loadb(text ? text : "", text ? len : 0, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
		       &je);
	if (v != NULL)
		return v;
	/* jansson's position is just past the offending token; stopping one
	 * byte short leaves a closing bracket (or a key's closing quote) out,
	 * so the path is where the problem is, not where it ended. */
	at = je.position > 0 ? (size_t)je.position - 1 : 0;
	scan_path(text ? text : "", at < len ? at : len, &path, &key, &keylen);
	if (json_error_code(&je) == json_error_duplicate_key && key != NULL)
		bm_errlf(e, BM_EINVAL, je.line, buf_cstr(&path), "duplicate key \"%.*s\" at %s "
			 "(line %d, column %d): %s", (int)(keylen > 64 ? 64 : keylen), key,
			 buf_cstr(&path), je.line, je.column, je.text);
	else
		bm_errlf(e, BM_EINVAL, je.line, buf_cstr(&path), "invalid JSON at line %d, "
			 "column %d (%s): %s", je.line, je.column, buf_cstr(&path), je.text);
	buf_free(&path);
	return NULL;
}
