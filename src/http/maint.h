/*
 * maint.h - the server's maintenance thread.
 *
 * One thread with its own service context: it loads the shared decision
 * snapshot at start (the server is ready once it has), catches up with
 * writes committed by other processes within about a quarter of a second
 * (svc_snapshot_sync), and opens the re-reviews that have fallen due
 * (svc_reviews_open_due, audited as "system") at start and then every
 * interval.  It never serves a request.
 */
#ifndef BM_HTTP_MAINT_H
#define BM_HTTP_MAINT_H

#include "../lib/err.h"
#include "../service/service.h"

#include <stdint.h>

struct maint;

struct maint_opts {
	struct svc_paths paths;
	struct svc_snapshare *share;   /* borrowed; must outlive the thread */
	int64_t interval_s;            /* due re-reviews every this many s; 0 = 3600 */
	int64_t poll_ms;               /* other processes' writes; 0 = 250 */
	/* Called on the thread when another process stored a new policy. */
	void (*policy_changed)(void *ctx);
	void *ctx;
};

/* Opens the thread's service context and starts the thread (with every
 * signal blocked, so SIGTERM goes to the thread that waits for it). */
int maint_start(const struct maint_opts *o, struct maint **out, struct bm_err *e);
/* Wakes the thread, cancels a snapshot load or re-read in progress, joins
 * it and closes its context.  NULL is a no-op. */
void maint_stop(struct maint *m);

#endif
