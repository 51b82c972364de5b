/*
 * pin.c - the read pin's thread (see pin.h).
 *
 * A renewal that fails (the database is being recovered, the disk has
 * gone) only costs speed: requests then take their locks themselves, and
 * the next renewal tries again.  So failures are not logged, which would
 * repeat twenty times a second.  This thread must never write, nor hold
 * its snapshot longer than PIN_RENEW_MS plus one renewal.
 */
#include "pin.h"
#include "../lib/clock.h"
#include "../lib/mem.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct pin {
	struct svc *svc;
	pthread_t th;
	pthread_mutex_t mu;            /* guards stop */
	pthread_cond_t cv;             /* on CLOCK_MONOTONIC */
	bool stop;
};

static void *run(void *arg)
{
	struct pin *p = arg;
	struct timespec ts;
	int64_t since_ckpt = 0;
	bool stop;

	do {
		struct bm_err e = BM_ERR_INIT;
		bool ckpt = since_ckpt >= PIN_CHECKPOINT_MS;

		svc_read_pin(p->svc, ckpt, &e);
		since_ckpt = ckpt ? 0 : since_ckpt + PIN_RENEW_MS;
		bm_err_clear(&e);
		clock_mono_after(&ts, PIN_RENEW_MS);
		pthread_mutex_lock(&p->mu);
		while (!p->stop && pthread_cond_timedwait(&p->cv, &p->mu, &ts) == 0)
			;
		stop = p->stop;
		pthread_mutex_unlock(&p->mu);
	} while (!stop);
	svc_request_end(p->svc);
	return NULL;
}

int pin_start(const struct svc_paths *paths, struct pin **out, struct bm_err *e)
{
	struct pin *p = xcalloc(1, sizeof *p);
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	if ((rc = svc_open(paths, &p->svc, e))) {
		free(p);
		return rc;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&p->th, NULL, run, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		svc_close(p->svc);
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return bm_errf(e, BM_EINTERNAL, NULL, "cannot start the read pin thread");
	}
	*out = p;
	return 0;
}

void pin_stop(struct pin *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	svc_close(p->svc);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
