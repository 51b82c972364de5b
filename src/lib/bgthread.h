/*
 * bgthread.h - a background thread that sleeps between steps and stops on
 * request: the server's maintenance, read-pin and log-flush threads.
 *
 * It runs with every signal blocked (the server takes SIGTERM and SIGINT
 * with sigwait on its main thread) and sleeps on a condition variable set
 * to the monotonic clock, so a stop request wakes it at once and a change
 * of the wall clock never does.
 */
#ifndef BM_BGTHREAD_H
#define BM_BGTHREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct bgthread {
	pthread_t th;
	pthread_mutex_t mu;            /* guards stop */
	pthread_cond_t cv;             /* on CLOCK_MONOTONIC */
	bool stop, started;
};

/* Milliseconds on the monotonic clock (never the fixed test clock). */
int64_t bg_mono_ms(void);
/* Initialises b and starts fn(arg) on it; false if the thread could not
 * start (b must still be finished with bg_finish). */
bool bg_start(struct bgthread *b, void *(*fn)(void *), void *arg);
/* For the thread: sleeps until deadline_ms (bg_mono_ms) or a stop
 * request; true when it should stop. */
bool bg_sleep_until(struct bgthread *b, int64_t deadline_ms);
/* bg_sleep_until ms from now. */
bool bg_sleep(struct bgthread *b, int64_t ms);
/* Asks the thread to stop and wakes it; does not wait. */
void bg_request_stop(struct bgthread *b);
/* Asks it to stop, joins it if it started, and releases b. */
void bg_finish(struct bgthread *b);

#endif
