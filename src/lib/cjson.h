/*
 * cjson.h - canonical JSON, the form audit events are hashed in.
 *
 * Canonical means: object keys sorted by their UTF-8 bytes, no whitespace,
 * integers only (a real number is refused), strings escaped minimally
 * (", \\ and control characters as \u00XX or the short escapes; everything
 * else raw UTF-8), true/false/null literal.  The same value always yields
 * the same bytes, so its SHA-256 is stable across builds and machines.
 */
#ifndef BM_CJSON_H
#define BM_CJSON_H

#include "buf.h"
#include "err.h"

#include <jansson.h>

/* Appends the canonical form of v to out; BM_EINVAL (naming the JSON path)
 * when v holds a real number or invalid UTF-8. */
int cjson_dump(const json_t *v, struct buf *out, struct bm_err *e);
/* Appends s (n bytes) as a canonical JSON string, quotes included. */
void cjson_str(struct buf *out, const char *s, size_t n);

/* Strict parse for inputs: refuses duplicate keys, naming the JSON path.
 * Returns a new reference or NULL with e set (line and column in msg). */
json_t *cjson_parse_strict(const char *text, size_t len, struct bm_err *e);

#endif
