/*
 * pin.h - the server's read pin: one thread with its own service context
 * that always holds a fresh read snapshot (svc_read_pin), renewed every
 * PIN_RENEW_MS.
 *
 * SQLite's unix VFS shares a WAL read lock among the connections of one
 * process: while the pin holds it, a request's read transaction begins and
 * ends without the two fcntl(2) calls, and without the contention on the
 * mutex SQLite holds around them.  On a small GET that is about a tenth of
 * the server's work.  After a commit the requests take the lock themselves
 * until the next renewal, so the pin changes how fast a read starts, never
 * what it sees.  A held snapshot stops a checkpoint short of it, so about
 * once a second the pin lets go and checkpoints the WAL itself (passive)
 * before it renews: the WAL starts over and stays small as it would
 * without the pin.
 */
#ifndef BM_HTTP_PIN_H
#define BM_HTTP_PIN_H

#include "../lib/err.h"
#include "../service/service.h"

#define PIN_RENEW_MS 50
#define PIN_CHECKPOINT_MS 1000     /* lets the WAL start over (store.h read_pin) */

struct pin;

/* Opens the thread's context and starts the thread (signals blocked). */
int pin_start(const struct svc_paths *paths, struct pin **out, struct bm_err *e);
/* Stops and joins the thread, ends its snapshot, closes its context; NULL
 * is a no-op. */
void pin_stop(struct pin *p);

#endif
