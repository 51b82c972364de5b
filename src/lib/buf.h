/*
 * buf.h - a growable byte buffer, always NUL-terminated.
 *
 * The buffer owns its storage; buf_free releases it.  A zeroed struct buf
 * (BUF_INIT) is a valid empty buffer.
 */
#ifndef BM_BUF_H
#define BM_BUF_H

#include <stddef.h>

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

#define BUF_INIT {0}

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Returns the contents as a C string ("" for an empty buffer); borrowed. */
const char *buf_cstr(const struct buf *b);
/* Hands the storage to the caller (who frees it) and empties the buffer. */
char *buf_steal(struct buf *b);

#endif
