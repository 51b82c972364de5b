/*
 * bgthread.c - see bgthread.h.  This module must never run the thread's
 * work itself nor hold its mutex while the work runs.
 */
#include "bgthread.h"

#include <signal.h>
#include <time.h>

int64_t bg_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool bg_start(struct bgthread *b, void *(*fn)(void *), void *arg)
{
	pthread_condattr_t ca;
	sigset_t all, old;

	b->stop = false;
	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cv, &ca);
	pthread_condattr_destroy(&ca);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	b->started = pthread_create(&b->th, NULL, fn, arg) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return b->started;
}

bool bg_sleep_until(struct bgthread *b, int64_t deadline_ms)
{
	struct timespec ts = {(time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000};
	bool stop;

	pthread_mutex_lock(&b->mu);
	while (!b->stop && bg_mono_ms() < deadline_ms)
		pthread_cond_timedwait(&b->cv, &b->mu, &ts);
	stop = b->stop;
	pthread_mutex_unlock(&b->mu);
	return stop;
}

bool bg_sleep(struct bgthread *b, int64_t ms)
{
	return bg_sleep_until(b, bg_mono_ms() + ms);
}

void bg_request_stop(struct bgthread *b)
{
	pthread_mutex_lock(&b->mu);
	b->stop = true;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

void bg_finish(struct bgthread *b)
{
	bg_request_stop(b);
	if (b->started)
		pthread_join(b->th, NULL);
	b->started = false;
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
}
