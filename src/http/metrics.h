/*
 * metrics.h - counters the server exposes at /metrics (Prometheus text).
 *
 * Requests by route and status, a latency histogram per route, logins,
 * lockouts and decisions.  Every update is one relaxed atomic add, so any
 * worker thread may count without a lock; rendering reads a consistent-
 * enough snapshot.  Route labels are the route patterns, never raw paths,
 * so no identifier or token ends up in a label.
 */
#ifndef BM_HTTP_METRICS_H
#define BM_HTTP_METRICS_H

#include "../lib/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct metrics;

/* A new set of counters for nroutes routes labelled labels[i] (copied); the
 * extra index nroutes counts requests that matched no route. */
struct metrics *metrics_new(size_t nroutes, const char *const *labels);
void metrics_free(struct metrics *m);
/* Counts one finished request; route >= nroutes means unmatched. */
void metrics_observe(struct metrics *m, size_t route, int status, uint64_t dur_us);
void metrics_login(struct metrics *m, bool ok);
void metrics_lockout(struct metrics *m);
void metrics_decision(struct metrics *m, bool allow);
/* Counts a batch's decisions at once. */
void metrics_decisions(struct metrics *m, uint64_t allow, uint64_t deny);
/* Appends the Prometheus text exposition (format 0.0.4) to out. */
void metrics_render(struct metrics *m, struct buf *out);

#endif
