/*
 * maint.c - the server's maintenance thread: the shared snapshot's load,
 * catching up with other processes' writes, and due re-reviews.
 *
 * The thread sleeps on a condition variable (monotonic clock) between
 * steps, so maint_stop wakes it at once; a snapshot load or full re-read in
 * progress is cancelled through the share.  Failures are logged as JSON
 * lines on stderr and retried on the next step: a busy database or a full
 * disk must not stop the server from answering decisions.  It must never
 * serve a request or hold a lock that a request needs, apart from the
 * share's writer mutex while it re-reads the snapshot.
 */
#include "maint.h"
#include "../lib/bgthread.h"
#include "../lib/clock.h"
#include "../lib/mem.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTERVAL_DEFAULT_S 3600
#define POLL_DEFAULT_MS 250
#define RECHECK_MS 100             /* a commit the last sync could not explain */

struct maint {
	struct maint_opts o;
	struct svc *svc;               /* this thread's own context */
	struct bgthread bg;
};

static void log_event(const char *event, const char *key, json_t *value);
static bool sync_step(struct maint *m);
static void due_step(struct maint *m);
static void *run(void *arg);

/* One JSON line on stderr: {"event": event, key: value}; takes value. */
static void log_event(const char *event, const char *key, json_t *value)
{
	json_t *v = json_pack("{s:s, s:o?}", "event", event, key, value);
	char *txt = v ? json_dumps(v, JSON_COMPACT) : NULL;

	if (txt != NULL)
		fprintf(stderr, "%s\n", txt);
	free(txt);
	json_decref(v);
}

/* Loads the snapshot (first call) or catches up with other processes;
 * true when it should look again soon. */
static bool sync_step(struct maint *m)
{
	struct bm_err e = BM_ERR_INIT;
	struct svc_sync out = {0};

	if (svc_snapshot_sync(m->svc, &out, &e) != 0 && e.code != BM_EBUSY)
		log_event("maintenance_error", "detail", json_string(e.msg));
	if (out.policy_changed && m->o.policy_changed != NULL)
		m->o.policy_changed(m->o.ctx);
	bm_err_clear(&e);
	return out.recheck;
}

/* Opens the re-reviews that have fallen due, as the system actor. */
static void due_step(struct maint *m)
{
	struct bm_err e = BM_ERR_INIT;
	int64_t n;

	if (svc_reviews_open_due(m->svc, NULL, clock_now(), NULL, &n, &e) != 0)
		log_event("maintenance_error", "detail", json_string(e.msg));
	else if (n > 0)
		log_event("reviews_opened", "count", json_integer((json_int_t)n));
	bm_err_clear(&e);
}

/* Sync every poll; due reviews once the snapshot is loaded, then every
 * interval. */
static void *run(void *arg)
{
	struct maint *m = arg;
	int64_t next_due = 0, wake;
	bool soon;

	do {
		soon = sync_step(m);
		if (next_due == 0 && svc_snapshare_ready(m->o.share))
			next_due = bg_mono_ms();
		if (next_due != 0 && bg_mono_ms() >= next_due) {
			due_step(m);
			next_due = bg_mono_ms() + m->o.interval_s * 1000;
		}
		wake = bg_mono_ms() + (soon ? RECHECK_MS : m->o.poll_ms);
		if (next_due != 0 && next_due < wake)
			wake = next_due;
	} while (!bg_sleep_until(&m->bg, wake));
	return NULL;
}

int maint_start(const struct maint_opts *o, struct maint **out, struct bm_err *e)
{
	struct maint *m = xcalloc(1, sizeof *m);
	int rc;

	m->o = *o;
	if (m->o.interval_s <= 0)
		m->o.interval_s = INTERVAL_DEFAULT_S;
	if (m->o.poll_ms <= 0)
		m->o.poll_ms = POLL_DEFAULT_MS;
	if ((rc = svc_open(&o->paths, &m->svc, e))) {
		free(m);
		return rc;
	}
	svc_snapshot_attach(m->svc, o->share);
	if (!bg_start(&m->bg, run, m)) {
		maint_stop(m);   /* not started: only frees */
		return bm_errf(e, BM_EINTERNAL, NULL, "cannot start the maintenance thread");
	}
	*out = m;
	return 0;
}

void maint_stop(struct maint *m)
{
	if (m == NULL)
		return;
	bg_request_stop(&m->bg);
	svc_snapshare_cancel(m->o.share);
	bg_finish(&m->bg);
	svc_close(m->svc);
	free(m);
}
