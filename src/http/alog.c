/*
 * alog.c - batched log lines: workers append to one buffer under a short
 * mutex; a full buffer is written by the worker that filled it, anything
 * else by a thread that wakes every ALOG_FLUSH_MS.
 *
 * Order is kept: a flush takes the write mutex before it lets go of the
 * buffer's mutex, so batches reach the descriptor in the order their lines
 * were appended.  The log is best effort: a failed write drops its batch
 * and never fails a request.  A descriptor that blocks (a full pipe) stalls
 * the appenders once the next batch is full, as a direct write would have.
 * This module must never split a caller's lines across two writes, nor
 * write while holding the buffer's mutex alone.
 */
#include "alog.h"
#include "../lib/buf.h"
#include "../lib/bgthread.h"
#include "../lib/mem.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

struct alog {
	int fd;
	pthread_mutex_t mu;            /* guards cur */
	pthread_mutex_t wmu;           /* held across a write; taken under mu */
	struct buf cur;
	struct bgthread bg;            /* the timed flush */
};

/* The whole of p, through short writes, signals and a non-blocking
 * descriptor's EAGAIN.  On an error it gives up; if part of the batch went
 * out, a newline ends the cut line so the next batch starts a line of its
 * own. */
static void write_all(int fd, const char *p, size_t n)
{
	bool part = false;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = {fd, POLLOUT, 0};

			if (poll(&pf, 1, -1) >= 0 || errno == EINTR)
				continue;
		}
		if (w <= 0) {
			if (part && write(fd, "\n", 1) < 0) {
				/* nothing more to try: the log is best effort */
			}
			return;
		}
		part = true;
		p += w;
		n -= (size_t)w;
	}
}

/* Called with mu held, returns with it released: takes the buffer, then
 * writes it under wmu so that a later batch cannot overtake it. */
static void flush_locked(struct alog *l)
{
	struct buf out = l->cur;

	l->cur = (struct buf)BUF_INIT;
	pthread_mutex_lock(&l->wmu);
	pthread_mutex_unlock(&l->mu);
	write_all(l->fd, out.p, out.len);
	pthread_mutex_unlock(&l->wmu);
	buf_free(&out);
}

/* Writes what has waited, every ALOG_FLUSH_MS, until alog_close. */
static void *run(void *arg)
{
	struct alog *l = arg;

	while (!bg_sleep(&l->bg, ALOG_FLUSH_MS))
		alog_flush(l);
	return NULL;
}

struct alog *alog_open(int fd)
{
	struct alog *l = xcalloc(1, sizeof *l);

	l->fd = fd;
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->wmu, NULL);
	(void)bg_start(&l->bg, run, l);   /* without it, every put writes */
	return l;
}

void alog_put(struct alog *l, const char *lines, size_t n)
{
	pthread_mutex_lock(&l->mu);
	buf_append(&l->cur, lines, n);
	if (l->cur.len >= ALOG_FLUSH_BYTES || !l->bg.started)
		flush_locked(l);
	else
		pthread_mutex_unlock(&l->mu);
}

void alog_flush(struct alog *l)
{
	pthread_mutex_lock(&l->mu);
	if (l->cur.len > 0)
		flush_locked(l);
	else
		pthread_mutex_unlock(&l->mu);
}

void alog_close(struct alog *l)
{
	if (l == NULL)
		return;
	bg_finish(&l->bg);
	alog_flush(l);
	buf_free(&l->cur);
	pthread_mutex_destroy(&l->wmu);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
