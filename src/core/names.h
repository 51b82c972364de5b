/*
 * names.h - looking up code names in small tables, and quoting user text
 * safely inside error messages.  Shared by level, lifecycle and policy so
 * that "Secret", " secret " and "SECRET" mean the same everywhere.
 * Pure; no I/O, no allocation.
 */
#ifndef BM_NAMES_H
#define BM_NAMES_H

#include <stddef.h>

struct name_map {
	const char *name;
	int value;
};

/* Finds s in m[0..n), ignoring leading/trailing ASCII blanks and ASCII case
 * (non-ASCII bytes must match exactly).  Returns 0 and sets *out, or -1. */
int names_find(const struct name_map *m, size_t n, const char *s, int *out);

/* Copies s into dst (cap bytes, cap >= 8) for quoting in a message: at most
 * cap-1 bytes, never cutting a UTF-8 sequence, control characters and
 * malformed bytes shown as '?', "..." appended when shortened.  Always
 * NUL-terminates.  Returns dst. */
char *names_echo(char *dst, size_t cap, const char *s);

#endif
