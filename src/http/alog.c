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
#include "../lib/clock.h"
#include "../lib/mem.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

struct alog {
	int fd;
	pthread_mutex_t mu;            /* guards cur and stop */
	pthread_mutex_t wmu;           /* held across a write; taken under mu */
	pthread_cond_t cv;             /* on CLOCK_MONOTONIC; wakes the thread to stop */
	struct buf cur;
	bool stop, threaded;
	pthread_t th;
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
	struct timespec ts;

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		clock_mono_after(&ts, ALOG_FLUSH_MS);
		pthread_cond_timedwait(&l->cv, &l->mu, &ts);
		if (l->cur.len > 0) {
			flush_locked(l);
			pthread_mutex_lock(&l->mu);
		}
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* The thread takes no signals: the server waits for its own with sigwait. */
static bool start_thread(struct alog *l)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&l->th, NULL, run, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0;
}

struct alog *alog_open(int fd)
{
	struct alog *l = xcalloc(1, sizeof *l);
	pthread_condattr_t ca;

	l->fd = fd;
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->wmu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	l->threaded = start_thread(l);
	return l;
}

void alog_put(struct alog *l, const char *lines, size_t n)
{
	pthread_mutex_lock(&l->mu);
	buf_append(&l->cur, lines, n);
	if (l->cur.len >= ALOG_FLUSH_BYTES || !l->threaded)
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
	if (l->threaded) {
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->th, NULL);
	}
	alog_flush(l);
	buf_free(&l->cur);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->wmu);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
