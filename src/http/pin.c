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
#include "../lib/bgthread.h"
#include "../lib/mem.h"

#include <stdbool.h>
#include <stdlib.h>

struct pin {
	struct svc *svc;
	struct bgthread bg;
};

static void *run(void *arg)
{
	struct pin *p = arg;
	int64_t since_ckpt = 0;

	do {
		struct bm_err e = BM_ERR_INIT;
		bool ckpt = since_ckpt >= PIN_CHECKPOINT_MS;

		svc_read_pin(p->svc, ckpt, &e);
		since_ckpt = ckpt ? 0 : since_ckpt + PIN_RENEW_MS;
		bm_err_clear(&e);
	} while (!bg_sleep(&p->bg, PIN_RENEW_MS));
	svc_request_end(p->svc);
	return NULL;
}

int pin_start(const struct svc_paths *paths, struct pin **out, struct bm_err *e)
{
	struct pin *p = xcalloc(1, sizeof *p);
	int rc;

	if ((rc = svc_open(paths, &p->svc, e))) {
		free(p);
		return rc;
	}
	if (!bg_start(&p->bg, run, p)) {
		pin_stop(p);   /* not started: only frees */
		return bm_errf(e, BM_EINTERNAL, NULL, "cannot start the read pin thread");
	}
	*out = p;
	return 0;
}

void pin_stop(struct pin *p)
{
	if (p == NULL)
		return;
	bg_finish(&p->bg);
	svc_close(p->svc);
	free(p);
}
