/*
 * strmap.h - a string -> int64 hash map for hot loops (import caches and
 * duplicate detection).  Keys are copied into an arena owned by the map;
 * open addressing with linear probing; no removal.
 */
#ifndef BM_STRMAP_H
#define BM_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap;

struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);
/* Looks key up; true and *val filled when present. */
bool strmap_get(const struct strmap *m, const char *key, size_t len, int64_t *val);
/* Inserts or replaces key -> val. */
void strmap_put(struct strmap *m, const char *key, size_t len, int64_t val);
size_t strmap_count(const struct strmap *m);
/* 64-bit FNV-1a; exported for other tables that hash ids. */
uint64_t strmap_hash(const char *key, size_t len);

#endif
