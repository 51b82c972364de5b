/*
 * snapshare.c - the decision snapshot kept in step with the store, either a
 * context's own (the CLI) or one share for every context of a process (the
 * server's threads).
 *
 * A share holds one core/snapshot, the writer mutex that serialises every
 * change to it, the policy version its entries were evaluated under and
 * the generation that decisions report as "snapshot".  Readers
 * (snapshot_decide) never take a lock: core/snapshot allows one writer and
 * any number of lock-free readers.  A context that was never attached to a
 * share makes its own on first use, so both modes run the same code.
 *
 * The snapshot changes only after a committed write: writes call
 * svc__touch for each person whose clearance they may change, svc__commit
 * calls svc__snap_flush once the commit succeeded, and a rollback forgets
 * the touched set.
 *
 * Ordering.  Thread A commits a change to person P, then thread B commits
 * another; their flushes may still run B first, A second.  So a flush never
 * puts what its own transaction wrote: it takes the writer mutex and only
 * then re-reads P's facts from the store, in a read of its own that begins
 * after that.  Reads that begin later see every commit an earlier read saw
 * (SQLite WAL), and the mutex orders the reads as it orders the puts; so
 * each put carries a state at least as new as the entry it replaces, and
 * whichever flush runs last puts the latest committed state.  A stale put
 * is impossible, whatever the order of commits and flushes.  The policy is
 * part of that state: a flush by a context whose policy is older than the
 * share's reloads it first, and one whose policy is newer re-puts everyone.
 *
 * Other processes.  A commit by another process (`baomi import` while the
 * server runs) reaches no flush here.  Every committed write appends its
 * audit events in its transaction, so audit seqs log the commits: each
 * flush notes the seq range its transaction appended, and svc_snapshot_sync
 * looks for a seq in the store that no flush has noted.  It waits one call
 * (the caller makes it soon) before believing in it, because an in-process
 * commit is briefly between its commit and its flush; then it re-reads
 * every entry in place.  PRAGMA data_version tells it cheaply when there is
 * anything to look at.  Misjudging an in-process commit as foreign (its
 * flush was slow, or pend was full) costs one needless re-read, never a
 * wrong entry.
 *
 * This file must never decide anything itself (core/gate evaluates).
 */
#include "svc_internal.h"
#include "../core/snapshot.h"
#include "../lib/clock.h"
#include "../lib/mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PEND_MAX 256               /* noted seq ranges waiting for a gap below */

struct seq_range {
	int64_t lo, hi;
};

struct svc_snapshare {
	pthread_mutex_t mu;               /* the one writer: every put and load */
	struct snapshot *_Atomic snap;    /* NULL until loaded; never replaced */
	_Atomic uint64_t gen;             /* bumped after each change */
	atomic_bool cancelled;            /* svc_snapshare_cancel: shutting down */
	int64_t policy_version;           /* the entries' policy (under mu) */
	/* What the snapshot reflects of the audit trail (under seq_mu). */
	pthread_mutex_t seq_mu;
	int64_t seq;                      /* every audit seq <= seq is reflected */
	struct seq_range pend[PEND_MAX];  /* reflected ranges above seq + 1 */
	int npend;
	int64_t suspect;                  /* the gap the last sync saw; 0 = none */
	bool partial;                     /* holds only the persons asked about */
};

struct put_ctx {
	struct svc *s;
	struct snapshot *snap;
	int64_t now;
	int rc;
	struct bm_err *e;
};

static struct svc_snapshare *share_of(struct svc *s);
static int put_facts(struct svc *s, struct snapshot *snap, const struct facts_rec *r,
		     int64_t now, struct bm_err *e);
static int put_one(void *ctx, const struct facts_rec *r);
static int snap_read(struct svc *s, struct snapshot *snap, int64_t person_id,
		     struct bm_err *e);
static int load_locked(struct svc *s, struct svc_snapshare *sh, struct bm_err *e);
static int refresh_locked(struct svc *s, struct svc_snapshare *sh, struct bm_err *e);
static int policy_align(struct svc *s, struct svc_snapshare *sh, bool *newer,
			struct bm_err *e);
static int flush_locked(struct svc *s, struct svc_snapshare *sh, struct bm_err *e);
static void seq_absorb(struct svc_snapshare *sh);
static void seq_note(struct svc_snapshare *sh, int64_t lo, int64_t hi);
static void seq_reset(struct svc_snapshare *sh, int64_t head);
static bool seq_foreign(struct svc_snapshare *sh, int64_t head);

/* ---------------------------------------------------------------- share */

struct svc_snapshare *svc_snapshare_new(void)
{
	struct svc_snapshare *sh = xcalloc(1, sizeof *sh);

	pthread_mutex_init(&sh->mu, NULL);
	pthread_mutex_init(&sh->seq_mu, NULL);
	atomic_init(&sh->snap, NULL);
	atomic_init(&sh->gen, 0);
	atomic_init(&sh->cancelled, false);
	return sh;
}

void svc_snapshare_free(struct svc_snapshare *sh)
{
	if (sh == NULL)
		return;
	snapshot_free(atomic_load(&sh->snap));
	pthread_mutex_destroy(&sh->mu);
	pthread_mutex_destroy(&sh->seq_mu);
	free(sh);
}

void svc_snapshare_cancel(struct svc_snapshare *sh)
{
	atomic_store(&sh->cancelled, true);
}

bool svc_snapshare_ready(const struct svc_snapshare *sh)
{
	return sh != NULL && atomic_load_explicit(&sh->snap, memory_order_acquire) != NULL;
}

void svc__share_drop(struct svc *s)
{
	if (s->share_own)
		svc_snapshare_free(s->share);
	s->share = NULL;
	s->share_own = false;
}

void svc_snapshot_attach(struct svc *s, struct svc_snapshare *sh)
{
	svc__share_drop(s);
	s->share = sh;
}

/* s's share; a context never attached gets its own on first use. */
static struct svc_snapshare *share_of(struct svc *s)
{
	if (s->share == NULL) {
		s->share = svc_snapshare_new();
		s->share_own = true;
	}
	return s->share;
}

uint64_t svc__snap_gen(const struct svc *s)
{
	return s->share ? atomic_load_explicit(&s->share->gen, memory_order_acquire) : 0;
}

/* ------------------------------------------------------------- touching */

void svc__touch(struct svc *s, int64_t person_id)
{
	for (int i = 0; i < s->ndirty; i++)
		if (s->dirty[i] == person_id)
			return;
	if (s->ndirty < (int)(sizeof s->dirty / sizeof s->dirty[0]))
		s->dirty[s->ndirty++] = person_id;
	else
		s->dirty_all = true;
}

void svc__touch_all(struct svc *s)
{
	s->dirty_all = true;
}

/* ------------------------------------------------------------ reading */

/* Evaluates one person's gates at now under s's policy and puts the entry.
 * Writer only (the share's mutex held). */
static int put_facts(struct svc *s, struct snapshot *snap, const struct facts_rec *r,
		     int64_t now, struct bm_err *e)
{
	struct gate_facts g;
	struct gate_status st;
	struct snap_comp comp;
	struct snap_entry ent;
	int rc;

	/* A damaged ext_id names nobody: that person stays unknown (denied). */
	if (r->ext_id[0] == '\0')
		return 0;
	svc__gate_facts(r, &g);
	gate_eval(&g, &s->policy, now, &st);
	if ((rc = snapshot_comp_bits(snap, r->compartments, true, &comp, NULL, e)))
		return rc;
	snapshot_entry_from_status(&st, &comp, &ent);
	return snapshot_put(snap, r->ext_id, strlen(r->ext_id), &ent, e);
}

static int put_one(void *ctx, const struct facts_rec *r)
{
	struct put_ctx *p = ctx;

	if (atomic_load_explicit(&p->s->share->cancelled, memory_order_relaxed))
		p->rc = bm_errf(p->e, BM_EBUSY, NULL, "the decision snapshot is shutting down");
	else
		p->rc = put_facts(p->s, p->snap, r, p->now, p->e);
	return p->rc ? 1 : 0;
}

/* Re-reads person_id's facts (everyone's when 0) from the store and puts
 * them.  The read is a statement of its own, begun now: see "Ordering". */
static int snap_read(struct svc *s, struct snapshot *snap, int64_t person_id,
		     struct bm_err *e)
{
	struct put_ctx p = {s, snap, clock_now(), 0, e};
	int rc = ST(s)->facts_scan(s->st, person_id, put_one, &p, e);

	return p.rc ? p.rc : rc;
}

/* Builds the snapshot of everyone.  The audit head is read before the
 * scan, so every commit up to it is in what the scan sees.  Mutex held. */
static int load_locked(struct svc *s, struct svc_snapshare *sh, struct bm_err *e)
{
	struct snapshot *snap;
	uint8_t hash[32];
	int64_t n, head;
	int rc;

	if (atomic_load(&sh->snap) != NULL)
		return 0;
	if ((rc = svc__policy_load_current(s, e)) ||
	    (rc = ST(s)->audit_head(s->st, &head, hash, e)) ||
	    (rc = ST(s)->person_total(s->st, &n, e)))
		return rc;
	snap = snapshot_new((size_t)n);
	if ((rc = snap_read(s, snap, 0, e))) {
		snapshot_free(snap);
		return rc;
	}
	sh->policy_version = s->policy_version;
	seq_reset(sh, head);
	atomic_store_explicit(&sh->snap, snap, memory_order_release);
	atomic_fetch_add(&sh->gen, 1);
	return 0;
}

/* Re-puts every person in place; decisions meanwhile see each entry old or
 * new, never torn.  Persons are never deleted, so no entry goes stale by
 * being left out.  Mutex held, snapshot loaded. */
static int refresh_locked(struct svc *s, struct svc_snapshare *sh, struct bm_err *e)
{
	uint8_t hash[32];
	int64_t head;
	int rc;

	if ((rc = ST(s)->audit_head(s->st, &head, hash, e)) ||
	    (rc = snap_read(s, atomic_load(&sh->snap), 0, e)))
		return rc;
	sh->policy_version = s->policy_version;
	seq_reset(sh, head);
	atomic_fetch_add(&sh->gen, 1);
	return 0;
}

/* Brings s's policy up to the share's: an older one in s is reloaded.
 * *newer: s's is newer (a policy was stored), so everyone must be re-put.
 * Mutex held. */
static int policy_align(struct svc *s, struct svc_snapshare *sh, bool *newer,
			struct bm_err *e)
{
	int rc;

	*newer = false;
	if (s->policy_version < sh->policy_version && (rc = svc__policy_load_current(s, e)))
		return rc;
	*newer = s->policy_version > sh->policy_version;
	return 0;
}

/* ------------------------------------------------------------- flushing */

/* Puts the touched persons (everyone when dirty_all).  Before the load
 * there is nothing to do: the load takes this mutex later and reads this
 * commit then.  Mutex held. */
static int flush_locked(struct svc *s, struct svc_snapshare *sh, struct bm_err *e)
{
	struct snapshot *snap = atomic_load(&sh->snap);
	bool newer;
	int rc;

	if (snap == NULL)
		return 0;
	if ((rc = policy_align(s, sh, &newer, e)))
		return rc;
	if (s->dirty_all || newer)
		return refresh_locked(s, sh, e);
	for (int i = 0; i < s->ndirty; i++)
		if ((rc = snap_read(s, snap, s->dirty[i], e)))
			return rc;
	atomic_fetch_add(&sh->gen, 1);
	return 0;
}

/* After a commit.  A failed re-read leaves the seqs un-noted, so the next
 * svc_snapshot_sync re-reads everyone (the caller also keeps dirty_all). */
int svc__snap_flush(struct svc *s, struct bm_err *e)
{
	struct svc_snapshare *sh = s->share;
	int64_t lo = s->tx_seq_lo, hi = s->tx_seq_hi;
	int rc = 0;

	s->tx_seq_lo = s->tx_seq_hi = 0;
	if (sh != NULL && (s->dirty_all || s->ndirty > 0)) {
		pthread_mutex_lock(&sh->mu);
		rc = flush_locked(s, sh, e);
		pthread_mutex_unlock(&sh->mu);
	}
	if (sh != NULL && lo > 0 && rc == 0)
		seq_note(sh, lo, hi);
	s->ndirty = 0;
	s->dirty_all = false;
	return rc;
}

/* -------------------------------------------------------- load, refresh */

int svc_snapshot_load(struct svc *s, struct bm_err *e)
{
	struct svc_snapshare *sh = share_of(s);
	int rc;

	if (svc_snapshare_ready(sh))
		return 0;
	pthread_mutex_lock(&sh->mu);
	rc = load_locked(s, sh, e);
	pthread_mutex_unlock(&sh->mu);
	return rc;
}

int svc_snapshot_refresh(struct svc *s, struct bm_err *e)
{
	struct svc_snapshare *sh = share_of(s);
	bool newer;
	int rc;

	pthread_mutex_lock(&sh->mu);
	if (atomic_load(&sh->snap) == NULL)
		rc = load_locked(s, sh, e);
	else if ((rc = svc__policy_load_current(s, e)) == 0 &&
		 (rc = policy_align(s, sh, &newer, e)) == 0)
		rc = refresh_locked(s, sh, e);
	pthread_mutex_unlock(&sh->mu);
	return rc;
}

int svc_snapshot_partial(struct svc *s, struct bm_err *e)
{
	struct svc_snapshare *sh = share_of(s);
	uint8_t hash[32];
	int64_t head;
	int rc = 0;

	if (!s->share_own || svc_snapshare_ready(sh))
		return 0;
	pthread_mutex_lock(&sh->mu);
	if ((rc = svc__policy_load_current(s, e)) == 0 &&
	    (rc = ST(s)->audit_head(s->st, &head, hash, e)) == 0) {
		sh->policy_version = s->policy_version;
		sh->partial = true;
		seq_reset(sh, head);
		atomic_store_explicit(&sh->snap, snapshot_new(0), memory_order_release);
		atomic_fetch_add(&sh->gen, 1);
	}
	pthread_mutex_unlock(&sh->mu);
	return rc;
}

int svc__snap_want(struct svc *s, const char *ext_id, struct bm_err *e)
{
	struct svc_snapshare *sh = s->share;
	struct bm_err ne = BM_ERR_INIT;
	int64_t id;
	int rc;

	if (sh == NULL || !sh->partial || ext_id == NULL || svc__check_code("person", ext_id, &ne)) {
		bm_err_clear(&ne);
		return 0;
	}
	rc = ST(s)->person_row(s->st, ext_id, &id, e);
	if (rc == BM_ENOTFOUND) {
		bm_err_clear(e);
		return 0;
	}
	if (rc)
		return rc;
	pthread_mutex_lock(&sh->mu);
	rc = snap_read(s, atomic_load(&sh->snap), id, e);
	pthread_mutex_unlock(&sh->mu);
	return rc;
}

int svc__snap(struct svc *s, struct snapshot **out, struct bm_err *e)
{
	struct svc_snapshare *sh = share_of(s);
	int rc = 0;

	if (!svc_snapshare_ready(sh))
		rc = svc_snapshot_load(s, e);
	*out = atomic_load_explicit(&sh->snap, memory_order_acquire);
	return rc;
}

/* ----------------------------------------------- other processes' writes */

/* Folds noted ranges that now touch seq into it.  seq_mu held. */
static void seq_absorb(struct svc_snapshare *sh)
{
	bool moved = true;

	while (moved) {
		moved = false;
		for (int i = 0; i < sh->npend; i++) {
			if (sh->pend[i].lo > sh->seq + 1)
				continue;
			if (sh->pend[i].hi > sh->seq)
				sh->seq = sh->pend[i].hi;
			sh->pend[i--] = sh->pend[--sh->npend];
			moved = true;
		}
	}
}

/* A flushed transaction appended seqs lo..hi.  A range that does not touch
 * seq waits in pend for the ranges below it; when pend is full it is
 * dropped, and the gap it leaves costs one needless full re-read. */
static void seq_note(struct svc_snapshare *sh, int64_t lo, int64_t hi)
{
	pthread_mutex_lock(&sh->seq_mu);
	if (lo <= sh->seq + 1) {
		if (hi > sh->seq)
			sh->seq = hi;
		seq_absorb(sh);
	} else if (sh->npend < PEND_MAX) {
		sh->pend[sh->npend++] = (struct seq_range){lo, hi};
	}
	pthread_mutex_unlock(&sh->seq_mu);
}

/* Everything up to head is reflected (a load or full re-read). */
static void seq_reset(struct svc_snapshare *sh, int64_t head)
{
	pthread_mutex_lock(&sh->seq_mu);
	if (head > sh->seq)
		sh->seq = head;
	seq_absorb(sh);
	sh->suspect = 0;
	pthread_mutex_unlock(&sh->seq_mu);
}

/* True when the store holds an audit seq that no flush of this process
 * noted, and the same gap was there on the previous call. */
static bool seq_foreign(struct svc_snapshare *sh, int64_t head)
{
	bool foreign = false;

	pthread_mutex_lock(&sh->seq_mu);
	if (head <= sh->seq)
		sh->suspect = 0;
	else if (sh->suspect == sh->seq + 1)
		foreign = true;
	else
		sh->suspect = sh->seq + 1;
	pthread_mutex_unlock(&sh->seq_mu);
	return foreign;
}

/* Re-reads the policy and everyone.  Mutex taken here. */
static int resync(struct svc *s, struct svc_snapshare *sh, struct svc_sync *out,
		  struct bm_err *e)
{
	bool newer = false;
	int rc;

	pthread_mutex_lock(&sh->mu);
	if ((rc = svc__policy_load_current(s, e)) == 0 &&
	    (rc = policy_align(s, sh, &newer, e)) == 0 &&
	    (rc = refresh_locked(s, sh, e)) == 0)
		out->refreshed = true;
	pthread_mutex_unlock(&sh->mu);
	out->policy_changed |= newer;
	return rc;
}

/* Notes a policy stored since s last read one, by anyone: a write of
 * another thread or process may already have put the snapshot under it
 * (its flush re-puts everyone), leaving no gap for seq_foreign to find,
 * yet every other context still reads the old one until told. */
static int policy_seen(struct svc *s, struct svc_sync *out, struct bm_err *e)
{
	int64_t head = 0;
	int rc;

	if ((rc = ST(s)->policy_head(s->st, &head, e)) || head == s->policy_version)
		return rc;
	out->policy_changed = true;
	return svc__policy_load_current(s, e);
}

int svc_snapshot_sync(struct svc *s, struct svc_sync *out, struct bm_err *e)
{
	struct svc_snapshare *sh = share_of(s);
	uint8_t hash[32];
	int64_t dv, head;
	bool pending;
	int rc;

	memset(out, 0, sizeof *out);
	if (!svc_snapshare_ready(sh))
		return svc_snapshot_load(s, e);
	if ((rc = ST(s)->data_version(s->st, &dv, e)))
		return rc;
	pthread_mutex_lock(&sh->seq_mu);
	pending = sh->suspect != 0;
	pthread_mutex_unlock(&sh->seq_mu);
	if (dv == s->data_version && !pending)
		return 0;
	s->data_version = dv;
	if ((rc = policy_seen(s, out, e)) ||
	    (rc = ST(s)->audit_head(s->st, &head, hash, e)))
		return rc;
	if (seq_foreign(sh, head))
		return resync(s, sh, out, e);
	pthread_mutex_lock(&sh->seq_mu);
	out->recheck = sh->suspect != 0;
	pthread_mutex_unlock(&sh->seq_mu);
	return 0;
}
