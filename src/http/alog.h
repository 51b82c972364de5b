/*
 * alog.h - the server's log writer: whole lines gathered in memory and
 * written to one file descriptor in batches, by size and by age.
 *
 * One write(2) per request cost the server about a seventh of its
 * throughput on small reads; batching keeps the log's content and order
 * and trades only its latency: a line reaches the descriptor within
 * ALOG_FLUSH_MS, when the buffer fills, or when the log is closed.
 */
#ifndef BM_HTTP_ALOG_H
#define BM_HTTP_ALOG_H

#include <stddef.h>

#define ALOG_FLUSH_MS 200          /* the longest a line waits in memory */
#define ALOG_FLUSH_BYTES 16384     /* a buffer this full is written at once */

struct alog;

/* Starts a log on fd (not owned) with its flushing thread.  Should the
 * thread fail to start, every alog_put writes at once, unbuffered. */
struct alog *alog_open(int fd);
/* Appends one or more whole lines (each ending in '\n'); thread-safe.  The
 * lines of one call are never split between two writes. */
void alog_put(struct alog *l, const char *lines, size_t n);
/* Writes out everything appended so far. */
void alog_flush(struct alog *l);
/* Flushes, stops the thread and frees l; NULL is ignored. */
void alog_close(struct alog *l);

#endif
