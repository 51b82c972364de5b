/*
 * mem.h - allocation that never returns NULL.
 *
 * Running out of memory is not a recoverable condition for baomi: these
 * wrappers print the size that failed and abort.  Sizes that come from input
 * must be checked with bm_mul_ok/bm_add_ok before the arithmetic.
 */
#ifndef BM_MEM_H
#define BM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array of nmemb elements of size bytes, aborting on overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

static inline bool bm_mul_ok(size_t a, size_t b, size_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

static inline bool bm_add_ok(size_t a, size_t b, size_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}

#endif
