/*
 * jdump.h - compact JSON text of a jansson value, byte for byte what
 * json_dumps(v, JSON_COMPACT) writes, without its per-token callbacks and
 * printf calls: every API response passes through here.
 *
 * Keys in insertion order (as jansson keeps them), strings as UTF-8 with
 * only ", \ and control characters escaped (short escapes or \u00XX in
 * upper-case hex), integers in decimal; real numbers are handed to jansson
 * itself so their digits never differ.  Never fails: the caller's value is
 * trusted (built by the service, valid UTF-8).
 */
#ifndef BM_JDUMP_H
#define BM_JDUMP_H

#include "buf.h"

#include <jansson.h>
#include <stdint.h>

/* Appends the compact text of v to out. */
void jdump(const json_t *v, struct buf *out);
/* Appends n bytes of s as a JSON string exactly as jdump writes one,
 * quotes included (for callers that render text without a tree). */
void jdump_str(struct buf *out, const char *s, size_t n);
/* Appends v in decimal, as jdump writes an integer (INT64_MIN included). */
void jdump_int(struct buf *out, int64_t v);

#endif
