/*
 * num.h - decimal integers as people and clients type them: digits only.
 *
 * strtoll skips leading blanks and takes a sign, so "\t+5" read as 5 and
 * each caller guarded against a different part of that.  This is the one
 * reader of counts, ids, limits and ports from text; it never accepts a
 * sign, a blank, an empty string or a value outside the caller's range.
 */
#ifndef BM_NUM_H
#define BM_NUM_H

#include <stdbool.h>
#include <stdint.h>

/* True and *out set when s is one or more ASCII digits whose value lies in
 * lo..hi (lo >= 0); false, *out untouched, for anything else (NULL too). */
bool num_parse(const char *s, int64_t lo, int64_t hi, int64_t *out);

#endif
