/*
 * audit.c - the canonical preimage of an audit event, its hash, and one
 * step of chain verification.  Pure: no I/O, no clock, no allocation
 * beyond growing the caller's scratch buffer.  It must never reorder,
 * normalise or reinterpret what is stored: the preimage is built from the
 * stored members byte for byte, so any change to them changes the hash.
 *
 * `audit verify` calls audit_verify_step once per event, so the step is
 * written for speed: integers and hex are formatted by hand, the scratch
 * buffer is reused, and SHA-256 uses the CPU's extensions when present.
 */
#include "audit.h"
#include "../lib/cjson.h"
#include "../lib/crypto.h"

#include <stdint.h>
#include <string.h>

static void put_i64(struct buf *b, int64_t v);
static void put_hex32(struct buf *b, const uint8_t h[32]);
static void put_text(struct buf *b, const char *s);
static void preimage(const struct audit_event *ev, struct buf *out, size_t flen, size_t slen);
static const uint8_t *skip_string(const uint8_t *p);
static size_t one_value(const char *s, char open);

/* Decimal, as jansson and every JSON reader would print it. */
static void put_i64(struct buf *b, int64_t v)
{
	char tmp[24];
	size_t i = sizeof tmp;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		tmp[--i] = '-';
	buf_append(b, tmp + i, sizeof tmp - i);
}

static void put_hex32(struct buf *b, const uint8_t h[32])
{
	static const char hex[] = "0123456789abcdef";
	char tmp[64];

	for (int i = 0; i < 32; i++) {
		tmp[2 * i] = hex[h[i] >> 4];
		tmp[2 * i + 1] = hex[h[i] & 15];
	}
	buf_append(b, tmp, sizeof tmp);
}

/* A string member: escaped canonically, or null when absent. */
static void put_text(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_append(b, "null", 4);
	else
		cjson_str(b, s, strlen(s));
}

#define put_lit(b, s) buf_append((b), (s), sizeof(s) - 1)

/* The keys are written in their sorted order, so this is canonical JSON
 * as long as fields and subjects are (embedded verbatim, flen and slen
 * bytes; NULL is written as null). */
static void preimage(const struct audit_event *ev, struct buf *out, size_t flen, size_t slen)
{
	buf_reserve(out, 200 + flen + slen);
	put_lit(out, "{\"action\":");
	put_text(out, ev->action);
	put_lit(out, ",\"actor\":");
	put_text(out, ev->actor);
	put_lit(out, ",\"fields\":");
	buf_append(out, ev->fields ? ev->fields : "null", flen);
	put_lit(out, ",\"prev\":\"");
	put_hex32(out, ev->prev);
	put_lit(out, "\",\"seq\":");
	put_i64(out, ev->seq);
	put_lit(out, ",\"subjects\":");
	buf_append(out, ev->subjects ? ev->subjects : "null", slen);
	put_lit(out, ",\"time\":");
	put_i64(out, ev->time_ms);
	buf_putc(out, '}');
}

void audit_preimage(const struct audit_event *ev, struct buf *out)
{
	preimage(ev, out, ev->fields ? strlen(ev->fields) : 4,
		 ev->subjects ? strlen(ev->subjects) : 4);
}

void audit_seal(struct audit_event *ev, struct buf *scratch)
{
	buf_reset(scratch);
	audit_preimage(ev, scratch);
	sha256(scratch->p, scratch->len, ev->hash);
}

/* Bytes that matter when delimiting embedded JSON: bit 1 outside
 * strings, bit 2 inside; NUL ends both.  A table walk is several times
 * faster than strcspn on these short, quote-dense texts. */
static const uint8_t special[256] = {
	[0] = 3, ['"'] = 3, ['\\'] = 2, ['{'] = 1, ['['] = 1, ['}'] = 1, [']'] = 1,
};

/* p is at an opening quote; returns its closing quote, or NULL when the
 * string does not end. */
static const uint8_t *skip_string(const uint8_t *p)
{
	for (p++;; p++) {
		while (!(special[*p] & 2))
			p++;
		if (*p == '"')
			return p;
		if (*p == '\0' || p[1] == '\0')
			return NULL;
		p++; /* a backslash: the loop steps over the escaped byte */
	}
}

/* Length of s when it is one bracketed value starting with open whose
 * brackets close only at its last byte (strings and escapes honoured),
 * else SIZE_MAX; NULL (written as null) counts as 4.  Verbatim embedding
 * is only unambiguous under this condition: otherwise a row could move
 * text between fields and subjects (say fields `{"a":1` and subjects
 * `[1]},"prev":...`) and keep the preimage, hence the hash. */
static size_t one_value(const char *s, char open)
{
	const uint8_t *p = (const uint8_t *)s;
	int depth = 0;

	if (s == NULL)
		return 4;
	if (s[0] != open)
		return SIZE_MAX;
	for (;; p++) {
		while (!(special[*p] & 1))
			p++;
		if (*p == '\0')
			return SIZE_MAX;
		if (*p == '"')
			p = skip_string(p);
		else if (*p == '{' || *p == '[')
			depth++;
		else if (--depth == 0)
			return p[1] == '\0' ? (size_t)(p + 1 - (const uint8_t *)s) : SIZE_MAX;
		if (p == NULL)
			return SIZE_MAX;
	}
}

/* Checks, in this order:
 *   1. the row itself: fields/subjects well delimited and the recomputed
 *      hash equal to the stored one, else AUDIT_MODIFIED.  Only an intact
 *      row's seq and prev can be trusted, so a change to any member,
 *      seq and prev included, is reported as a modification of that row;
 *   2. its position: seq == prev_seq + 1, else AUDIT_BAD_SEQ (a deleted
 *      row shows here, at the seq that follows the gap);
 *   3. its link: prev == prev_hash, else AUDIT_BROKEN_LINK (a row
 *      inserted, replaced or reordered and re-hashed by someone who could
 *      not rewrite the rest of the chain). */
int audit_verify_step(const struct audit_event *ev, int64_t prev_seq,
		      const uint8_t prev_hash[32], struct buf *scratch)
{
	size_t flen = one_value(ev->fields, '{'), slen = one_value(ev->subjects, '[');
	uint8_t h[32];

	if (flen == SIZE_MAX || slen == SIZE_MAX)
		return AUDIT_MODIFIED;
	buf_reset(scratch);
	preimage(ev, scratch, flen, slen);
	sha256(scratch->p, scratch->len, h);
	if (memcmp(h, ev->hash, sizeof h) != 0)
		return AUDIT_MODIFIED;
	if (prev_seq == INT64_MAX || ev->seq != prev_seq + 1)
		return AUDIT_BAD_SEQ;
	if (memcmp(ev->prev, prev_hash, sizeof h) != 0)
		return AUDIT_BROKEN_LINK;
	return AUDIT_OK;
}

const char *audit_fault_name(int f)
{
	switch (f) {
	case AUDIT_OK: return "ok";
	case AUDIT_MODIFIED: return "modified";
	case AUDIT_BROKEN_LINK: return "broken_link";
	case AUDIT_BAD_SEQ: return "bad_seq";
	}
	return "unknown";
}
