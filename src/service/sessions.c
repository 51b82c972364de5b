/*
 * sessions.c - logging in, resolving a session token, logging out.
 *
 * A token is 256 random bits shown to the client once; the store keeps only
 * its SHA-256, so a copy of the database opens no session.  Five failed
 * logins put the account, and separately the client address, into an
 * exponential backoff (30 s doubling, at most an hour); a success clears
 * the account's count, while the address's is forgotten only after a
 * quiet quarter of an hour.  The address table
 * is process memory shared by every worker thread under one mutex; the
 * account's counter is in the database.  Every login, failure, lockout and
 * logout is an audit event, none of which ever holds a password or token.
 *
 * Resolving a token is on every request's path, so validated sessions are
 * cached in process memory (a fixed table: a flood of tokens can evict
 * entries, never grow it; only sessions that resolved are ever stored).
 * An entry is used only while the stored auth generation equals the one it
 * was read at; svc__auth_changed bumps it inside every write that can end
 * or change a session or its account, in any process.  The cache must never
 * answer for a session the store would refuse: expiry is checked against
 * the clock on every hit.
 */
#include "svc_internal.h"
#include "../core/role.h"
#include "../lib/clock.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define FAIL_LIMIT 5
#define BACKOFF_BASE_S 30
#define BACKOFF_MAX_S 3600
#define TOUCH_EVERY_S 60
#define ADDR_SETS 256
#define ADDR_WAYS 4
#define ADDR_FORGET_S (15 * 60)
#define AUTH_GEN "auth_gen"
#define CACHE_SLOTS 4096           /* power of two */
#define CACHE_LOCKS 16

/* Client addresses that failed recently, in sets of ADDR_WAYS picked by a
 * keyed hash: a flood of addresses can only evict, never grow memory, and
 * since nobody outside knows the key, nobody can pick addresses that share
 * a set.  A newcomer evicts the longest-quiet entry that is not backing off,
 * so one failure from another address never lifts a backoff.  A success
 * does not clear an address (one client may spray guesses over many
 * accounts between logins of its own); ADDR_FORGET_S of quiet after the
 * last failure or backoff does. */
struct addr_entry {
	char addr[48];
	int failures;
	int64_t last_fail, locked_until;
};
static struct addr_entry addrs[ADDR_SETS][ADDR_WAYS];
static uint8_t addr_key[crypto_shorthash_KEYBYTES];
static bool addr_keyed;
static pthread_mutex_t addr_mu = PTHREAD_MUTEX_INITIALIZER;

static int64_t backoff_s(int failures)
{
	int shift = failures - FAIL_LIMIT;

	if (failures < FAIL_LIMIT)
		return 0;
	if (shift > 7)
		return BACKOFF_MAX_S;
	return BACKOFF_BASE_S << shift < BACKOFF_MAX_S ? BACKOFF_BASE_S << shift : BACKOFF_MAX_S;
}

/* The set of addr (called under addr_mu). */
static struct addr_entry *addr_set(const char *addr)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t x;

	if (!addr_keyed) {
		crypto_random(addr_key, sizeof addr_key);
		addr_keyed = true;
	}
	crypto_shorthash(h, (const unsigned char *)addr, strlen(addr), addr_key);
	memcpy(&x, h, sizeof x);
	return addrs[x % ADDR_SETS];
}

/* addr's entry, or NULL (under addr_mu); one quiet for ADDR_FORGET_S is
 * forgotten. */
static struct addr_entry *addr_find(const char *addr, int64_t now)
{
	struct addr_entry *set = addr_set(addr);

	for (int i = 0; i < ADDR_WAYS; i++) {
		struct addr_entry *a = &set[i];
		int64_t quiet = a->last_fail > a->locked_until ? a->last_fail : a->locked_until;

		if (a->addr[0] == '\0' || strcmp(a->addr, addr) != 0)
			continue;
		if (now - quiet >= ADDR_FORGET_S)
			*a = (struct addr_entry){0};
		return a->addr[0] ? a : NULL;
	}
	return NULL;
}

/* Whether entry a should give way before b: free first, then not backing
 * off and longest quiet, then the backoff ending soonest. */
static bool addr_before(const struct addr_entry *a, const struct addr_entry *b, int64_t now)
{
	bool la = a->locked_until > now, lb = b->locked_until > now;

	if (a->addr[0] == '\0' || b->addr[0] == '\0')
		return a->addr[0] == '\0';
	if (la != lb)
		return !la;
	return la ? a->locked_until < b->locked_until : a->last_fail < b->last_fail;
}

/* A new entry for addr in its set (under addr_mu). */
static struct addr_entry *addr_take(const char *addr, int64_t now)
{
	struct addr_entry *set = addr_set(addr), *v = &set[0];

	for (int i = 1; i < ADDR_WAYS; i++)
		if (addr_before(&set[i], v, now))
			v = &set[i];
	*v = (struct addr_entry){0};
	snprintf(v->addr, sizeof v->addr, "%s", addr);
	return v;
}

/* Seconds the address must still wait (0 = none). */
static int64_t addr_wait(const char *addr, int64_t now)
{
	struct addr_entry *a;
	int64_t w = 0;

	pthread_mutex_lock(&addr_mu);
	if ((a = addr_find(addr, now)) != NULL && a->locked_until > now)
		w = a->locked_until - now;
	pthread_mutex_unlock(&addr_mu);
	return w;
}

/* Counts a failure of addr; true when it started a backoff. */
static bool addr_fail(const char *addr, int64_t now)
{
	struct addr_entry *a;
	bool locked = false;

	pthread_mutex_lock(&addr_mu);
	if ((a = addr_find(addr, now)) == NULL)
		a = addr_take(addr, now);
	a->last_fail = now;
	if (++a->failures >= FAIL_LIMIT) {
		a->locked_until = now + backoff_s(a->failures);
		locked = true;
	}
	pthread_mutex_unlock(&addr_mu);
	return locked;
}

/* One validated session.  seen is the latest use this process answered
 * (exact idle time); seen_db what the store holds (written at most once a
 * minute). */
struct cached {
	bool used;
	uint8_t hash[32];
	uint64_t db_tag;
	int64_t gen;               /* the auth generation it was read at */
	int64_t expires_abs, seen, seen_db;
	struct actor actor;        /* session_id included */
};
static struct cached cache[CACHE_SLOTS];
static pthread_mutex_t cache_mu[CACHE_LOCKS];
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_init(void)
{
	for (int i = 0; i < CACHE_LOCKS; i++)
		pthread_mutex_init(&cache_mu[i], NULL);
}

/* The slot of a token hash (already uniformly random) and its lock. */
static struct cached *cache_slot(const uint8_t h[32], pthread_mutex_t **mu)
{
	uint32_t x;

	pthread_once(&cache_once, cache_init);
	memcpy(&x, h, sizeof x);
	*mu = &cache_mu[x % CACHE_LOCKS];
	return &cache[x % CACHE_SLOTS];
}

static bool cache_is(const struct cached *c, uint64_t tag, const uint8_t h[32])
{
	return c->used && c->db_tag == tag && memcmp(c->hash, h, 32) == 0;
}

/* Databases are told apart by device and inode (an in-memory one by a
 * number of its own), so one process serving two never mixes sessions. */
static uint64_t db_tag(struct svc *s)
{
	static atomic_uint_fast64_t mem_dbs;
	struct stat sb;

	if (s->db_tag != 0)
		return s->db_tag;
	if (strcmp(s->db_path, ":memory:") != 0 && stat(s->db_path, &sb) == 0)
		s->db_tag = ((uint64_t)sb.st_dev << 40) ^ (uint64_t)sb.st_ino;
	if (s->db_tag == 0)
		s->db_tag = (1ull << 63) | (atomic_fetch_add(&mem_dbs, 1) + 1);
	return s->db_tag;
}

/* A touch the store did not take (the write lock was held: a touch never
 * waits for it) is due again at the session's next use, not a minute
 * later: otherwise a session used only while another process held the lock
 * would keep its login time as its last use in the store, and a restart
 * (or another process) would end it as idle while it was in use. */
static void cache_touch_missed(struct svc *s, const uint8_t h[32], int64_t at)
{
	pthread_mutex_t *mu;
	struct cached *c = cache_slot(h, &mu);

	pthread_mutex_lock(mu);
	if (cache_is(c, db_tag(s), h) && c->seen_db > at - TOUCH_EVERY_S)
		c->seen_db = at - TOUCH_EVERY_S;
	pthread_mutex_unlock(mu);
}

/* A session touch: deferred to the end of the request when inside one. */
static void touch(struct svc *s, const uint8_t h[32], int64_t id, int64_t now)
{
	struct bm_err e = BM_ERR_INIT;

	if (s->in_request) {
		s->touch_id = id;
		s->touch_at = now;
		memcpy(s->touch_hash, h, sizeof s->touch_hash);
		return;
	}
	if (ST(s)->session_touch(s->st, id, now, &e) != 0)
		cache_touch_missed(s, h, now);
	bm_err_clear(&e);
}

void svc__touch_flush(struct svc *s)
{
	int64_t id = s->touch_id;

	s->touch_id = 0;
	if (id != 0)
		touch(s, s->touch_hash, id, s->touch_at);
}

/* Records this use of c; true when the store's last_seen is due a write. */
static bool cache_use(struct cached *c, int64_t now)
{
	if (now > c->seen)
		c->seen = now;
	if (now - c->seen_db < TOUCH_EVERY_S)
		return false;
	c->seen_db = now;
	return true;
}

/* Answers from the cache: true with *out filled when the entry was read at
 * generation gen and is neither expired nor idle too long at now. */
static bool cache_hit(struct svc *s, const uint8_t h[32], int64_t gen, int64_t now,
		      struct actor *out)
{
	pthread_mutex_t *mu;
	struct cached *c = cache_slot(h, &mu);
	bool hit, due = false;

	pthread_mutex_lock(mu);
	hit = cache_is(c, db_tag(s), h) && c->gen == gen && now < c->expires_abs &&
	      now - c->seen <= SVC_IDLE_S;
	if (hit) {
		due = cache_use(c, now);
		*out = c->actor;
	}
	pthread_mutex_unlock(mu);
	if (due)
		touch(s, h, out->session_id, now);
	return hit;
}

/* The latest use of h this process saw (0 when not cached). */
static int64_t cache_seen(struct svc *s, const uint8_t h[32])
{
	pthread_mutex_t *mu;
	struct cached *c = cache_slot(h, &mu);
	int64_t seen;

	pthread_mutex_lock(mu);
	seen = cache_is(c, db_tag(s), h) ? c->seen : 0;
	pthread_mutex_unlock(mu);
	return seen;
}

/* Stores a session just validated from the store at generation gen (or,
 * with a NULL a, forgets h); true when last_seen is due a write. */
static bool cache_put(struct svc *s, const uint8_t h[32], int64_t gen,
		      const struct session_rec *ss, int64_t seen, const struct actor *a,
		      int64_t now)
{
	pthread_mutex_t *mu;
	struct cached *c = cache_slot(h, &mu);
	uint64_t tag = db_tag(s);
	bool due = false;

	pthread_mutex_lock(mu);
	if (a == NULL) {
		if (cache_is(c, tag, h))
			c->used = false;
	} else {
		*c = (struct cached){.used = true, .db_tag = tag, .gen = gen,
				     .expires_abs = ss->expires_abs, .seen = seen,
				     .seen_db = ss->last_seen, .actor = *a};
		memcpy(c->hash, h, 32);
		due = cache_use(c, now);
	}
	pthread_mutex_unlock(mu);
	return due;
}

int svc__auth_changed(struct svc *s, struct bm_err *e)
{
	return ST(s)->counter_bump(s->st, AUTH_GEN, e);
}

static void actor_of(const struct account_rec *r, struct actor *a)
{
	memset(a, 0, sizeof *a);
	svc__copy(a->name, sizeof a->name, r->name);
	a->roles = r->roles;
	a->account_id = r->id;
	a->scope_unit = (r->roles & ROLE_OFFICER) ? r->scope_unit : 0;
	svc__copy(a->person, sizeof a->person, r->person);
	a->must_change = r->must_change;
}

/* Records a failed login: the account's counter (and lockout) when the
 * name is known, the audit events always.  *locked reports a new lockout. */
int svc__login_failed(struct svc *s, const char *name, int64_t id, const char *client,
		      const char *why, bool *locked, struct bm_err *e)
{
	const struct actor anon = {.name = "anonymous"};
	struct account_rec r;
	int64_t now = clock_now();
	int rc;

	if ((rc = svc__begin(s, e)))
		return rc;
	if (id != 0 && (rc = ST(s)->account_get(s->st, id, NULL, &r, e)) == 0) {
		r.failures++;
		if (r.failures >= FAIL_LIMIT && r.locked_until <= now) {
			r.locked_until = now + backoff_s(r.failures);
			*locked = true;
		}
		rc = ST(s)->account_update(s->st, &r, e);
	}
	if (rc || (rc = svc__audit1(s, &anon, "login.failure", name,
				    json_pack("{s:s, s:s}", "client", client, "reason", why), e)) ||
	    (*locked && (rc = svc__audit1(s, &anon, "login.lockout", name,
					  json_pack("{s:s, s:I}", "client", client, "seconds",
						    (json_int_t)backoff_s(r.failures)), e)))) {
		svc__rollback(s);
		return rc;
	}
	return svc__commit(s, e);
}

static int open_session(struct svc *s, struct account_rec *r, const char *client,
			struct login_result *out, struct bm_err *e)
{
	struct session_rec ss = {0};
	struct actor a;
	uint8_t raw[32];
	int rc;

	crypto_random(raw, sizeof raw);
	hex_encode(raw, sizeof raw, out->token);
	sha256(raw, sizeof raw, ss.token_hash);
	sodium_memzero(raw, sizeof raw);
	svc_session_csrf(out->token, out->csrf);
	ss.account_id = r->id;
	ss.created = ss.last_seen = clock_now();
	ss.expires_abs = ss.created + SVC_ABSOLUTE_S;
	svc__copy(ss.client, sizeof ss.client, client);
	actor_of(r, &a);
	if ((rc = svc__begin(s, e)))
		return rc;
	if ((r->failures != 0 || r->locked_until != 0) &&
	    (r->failures = 0, r->locked_until = 0, rc = ST(s)->account_update(s->st, r, e)))
		goto fail;
	if ((rc = ST(s)->session_insert(s->st, &ss, e)) ||
	    (rc = svc__audit1(s, &a, "login", r->name,
			      json_pack("{s:s, s:I}", "client", client, "session",
					(json_int_t)ss.id), e)))
		goto fail;
	out->session_id = ss.id;
	out->expires_abs = ss.expires_abs;
	out->must_change = r->must_change;
	return svc__commit(s, e);
fail:
	svc__rollback(s);
	return rc;
}

static int busy(struct login_result *out, int64_t wait, struct bm_err *e)
{
	out->retry_after = wait;
	return bm_errf(e, BM_EBUSY, NULL, "too many failed logins; try again in %lld s",
		       (long long)wait);
}

#define USUAL_DAYS 90        /* a client the account logged in from this recently */
#define USUAL_LOOK 1000      /* sessions looked at, newest first */

struct usual_ctx {
	const char *client;
	int64_t since;
	int looked;
	bool seen;
};

static int usual_one(void *ctx, const struct session_rec *ss)
{
	struct usual_ctx *u = ctx;

	if (ss->created < u->since || ++u->looked > USUAL_LOOK)
		return 1;
	u->seen = strcmp(ss->client, u->client) == 0;
	return u->seen;
}

/* True when account id logged in from client within USUAL_DAYS.  Such a
 * client is not held back by the account's lockout (its own address
 * backoff still applies): anyone can lock an account by failing five
 * times under its name, and the three officers' names are known, so the
 * lockout must not keep its holder out of their usual workstation. */
static bool usual_client(struct svc *s, int64_t id, const char *client, int64_t now)
{
	struct usual_ctx u = {client, now - USUAL_DAYS * BM_DAY, 0, false};
	struct bm_err quiet = BM_ERR_INIT;

	if (client[0] != '\0')
		(void)ST(s)->session_list(s->st, id, usual_one, &u, &quiet);
	bm_err_clear(&quiet);
	return u.seen;
}

/* Why account r may not act, or NULL when it may.  Besides a disabled one,
 * an account named like the server's own acts ("system", in any case),
 * which no account may take since 36c62ea but a database from an earlier
 * release can hold: it would still open reviews and write audit events that
 * read as the server's, so it logs in no more and its sessions end; the
 * administrator disables it and makes its holder another account. */
static const char *account_barred(const struct account_rec *r)
{
	if (r->disabled)
		return "disabled";
	if (svc_name_is_server(r->name))
		return "named like the server";
	return NULL;
}

int svc_login(struct svc *s, const char *name, const char *password, const char *client,
	      struct login_result *out, struct bm_err *e)
{
	struct bm_err quiet = BM_ERR_INIT;
	struct account_rec r = {0};
	int64_t now = clock_now(), wait;
	bool known, ok, locked = false;
	const char *barred;
	int rc;

	memset(out, 0, sizeof *out);
	client = client ? client : "";
	if ((wait = addr_wait(client, now)) > 0)
		return busy(out, wait, e);
	known = svc__check_code("name", name, &quiet) == 0 &&
		ST(s)->account_get(s->st, 0, name, &r, &quiet) == 0;
	bm_err_clear(&quiet);
	if (known && r.locked_until > now && !usual_client(s, r.id, client, now))
		return busy(out, r.locked_until - now, e);
	ok = svc__pw_verify(known ? r.pwhash : NULL, password ? password : "") == 0;
	barred = known ? account_barred(&r) : NULL;
	if (ok && known && barred == NULL)
		return open_session(s, &r, client, out, e);
	locked = addr_fail(client, now);
	rc = svc__login_failed(s, known ? r.name : "?", known ? r.id : 0, client,
			  !known ? "unknown account" : barred ? barred : "wrong password",
			  &locked, e);
	if (rc)
		return rc;
	out->locked = locked;
	return bm_errf(e, BM_EAUTH, NULL, "wrong name or password");
}

void svc_session_csrf(const char *token, char out[65])
{
	struct bm_sha256 c;
	uint8_t h[32];

	sha256_init(&c);
	sha256_update(&c, "baomi-csrf-v1:", 14);
	sha256_update(&c, token, strlen(token));
	sha256_final(&c, h);
	hex_encode(h, sizeof h, out);
}

/* The store's verdict on session hash h, read after the generation gen
 * (so a cached entry is never newer than its tag says). */
static int resolve_stored(struct svc *s, const uint8_t h[32], int64_t gen, int64_t now,
			  struct actor *out, struct bm_err *e)
{
	struct session_rec ss;
	struct account_rec r;
	int64_t seen;
	int rc = ST(s)->session_get_by_hash(s->st, h, &ss, e);

	if (rc == BM_ENOTFOUND)
		return bm_errf(e, BM_EAUTH, NULL, "unknown session");
	if (rc)
		return rc;
	seen = cache_seen(s, h);
	seen = seen > ss.last_seen ? seen : ss.last_seen;
	if (ss.revoked)
		rc = bm_errf(e, BM_EAUTH, NULL, "the session has ended");
	else if (now >= ss.expires_abs || now - seen > SVC_IDLE_S)
		rc = bm_errf(e, BM_EAUTH, NULL, "the session has expired; log in again");
	else if ((rc = ST(s)->account_get(s->st, ss.account_id, NULL, &r, e)) == BM_ENOTFOUND)
		rc = bm_errf(e, BM_EAUTH, NULL, "unknown session");
	else if (rc == 0 && account_barred(&r) != NULL)
		rc = bm_errf(e, BM_EAUTH, NULL, "the account is %s", account_barred(&r));
	if (rc) {
		cache_put(s, h, gen, &ss, 0, NULL, now);
		return rc;
	}
	actor_of(&r, out);
	out->session_id = ss.id;
	if (cache_put(s, h, gen, &ss, seen, out, now))
		touch(s, h, ss.id, now);
	return 0;
}

int svc_session_resolve(struct svc *s, const char *token, struct actor *out, struct bm_err *e)
{
	uint8_t raw[32], h[32];
	int64_t now = clock_now(), gen;
	int rc;

	if (token == NULL || strlen(token) != 64 || hex_decode(token, raw, 32) != 0)
		return bm_errf(e, BM_EAUTH, NULL, "malformed session token");
	sha256(raw, sizeof raw, h);
	sodium_memzero(raw, sizeof raw);
	if ((rc = ST(s)->counter_get(s->st, AUTH_GEN, &gen, e)))
		return rc;
	if (!cache_hit(s, h, gen, now, out) && (rc = resolve_stored(s, h, gen, now, out, e)))
		return rc;
	if (s->in_request) {
		s->req_auth = true;
		s->req_gen = gen;
		memcpy(s->req_hash, h, sizeof s->req_hash);
		s->req_actor = *out;
	}
	return 0;
}

/* What the request may no longer do as `was`, now that its account reads
 * r: NULL when nothing was taken away (a role granted meanwhile takes
 * nothing). */
static const char *actor_narrowed(const struct actor *was, const struct account_rec *r)
{
	struct actor now;

	actor_of(r, &now);
	if ((was->roles & ~now.roles) != 0)
		return "lost a role";
	if (was->scope_unit != now.scope_unit)
		return "had its scope changed";
	if (strcmp(was->person, now.person) != 0)
		return "had its person link changed";
	if (now.must_change && !was->must_change)
		return "had its password reset";
	return NULL;
}

/* The request's authorization was read before the write lock, from the
 * session cache or a read snapshot: a revocation, a disabled account or an
 * ended session committed in between would otherwise be followed, in the
 * audit trail, by a write its rights no longer allowed (a reviewer
 * deciding after losing the role).  The auth generation tells cheaply
 * whether anything of the kind was committed since; only then are the
 * session and account read again, here, under the lock. */
int svc__auth_recheck(struct svc *s, struct bm_err *e)
{
	struct session_rec ss;
	struct account_rec r;
	const char *why;
	int64_t gen;
	int rc;

	if (!s->req_auth)
		return 0;
	if ((rc = ST(s)->counter_get(s->st, AUTH_GEN, &gen, e)) || gen == s->req_gen)
		return rc;
	rc = ST(s)->session_get_by_hash(s->st, s->req_hash, &ss, e);
	if (rc == 0 && ss.revoked)
		rc = BM_ENOTFOUND;
	if (rc == 0)
		rc = ST(s)->account_get(s->st, ss.account_id, NULL, &r, e);
	if (rc == BM_ENOTFOUND || (rc == 0 && account_barred(&r) != NULL))
		return bm_errf(e, BM_EAUTH, NULL, "the session ended while the request ran; "
			       "nothing was done");
	if (rc)
		return rc;
	if ((why = actor_narrowed(&s->req_actor, &r)) != NULL)
		return bm_errf(e, BM_EPERM, NULL, "account %s %s while the request ran; nothing "
			       "was done", s->req_actor.name, why);
	s->req_gen = gen;
	return 0;
}

int svc_logout(struct svc *s, const struct actor *a, struct bm_err *e)
{
	int rc;

	if ((rc = svc__allow(a, PERM_SESSION_OWN, e)))
		return rc;
	if (a->session_id == 0)
		return bm_errf(e, BM_EUSAGE, NULL, "no session to end");
	if ((rc = svc__begin(s, e)))
		return rc;
	if ((rc = ST(s)->session_revoke(s->st, a->session_id, 0, e)) ||
	    (rc = svc__auth_changed(s, e)) ||
	    (rc = svc__audit1(s, a, "logout", a->name,
			      json_pack("{s:I}", "session", (json_int_t)a->session_id), e))) {
		svc__rollback(s);
		return rc;
	}
	return svc__commit(s, e);
}

struct slist {
	struct svc *s;
	const struct actor *a;
	json_t *arr;
	int64_t want;              /* revoke: the id looked for */
	bool found;
	struct svc_page *pg;       /* list: the page walked */
};

static int session_one(void *ctx, const struct session_rec *r)
{
	struct slist *l = ctx;
	struct bm_err e = BM_ERR_INIT;
	struct account_rec acc;
	int64_t now = clock_now();
	bool active = !r->revoked && now < r->expires_abs && now - r->last_seen <= SVC_IDLE_S;

	if (l->want) {
		l->found |= r->id == l->want;
		return 0;
	}
	if (!svc__page_take(l->pg, r->id))
		return 0;      /* the row past the page: more exist */
	if (ST(l->s)->account_get(l->s->st, r->account_id, NULL, &acc, &e) != 0)
		svc__copy(acc.name, sizeof acc.name, "?");
	bm_err_clear(&e);
	json_array_append_new(l->arr, json_pack("{s:I, s:s, s:o, s:o, s:o, s:s, s:b, s:b}", "id",
		(json_int_t)r->id, "account", acc.name, "created", svc__time_json(r->created),
		"last_seen", svc__time_json(r->last_seen), "expires", svc__time_json(r->expires_abs),
		"client", r->client, "active", active, "current", r->id == l->a->session_id));
	return 0;
}

json_t *svc_session_list(struct svc *s, const struct actor *a, bool all, struct svc_page *pg,
			 struct bm_err *e)
{
	struct slist l = {s, a, NULL, 0, false, pg};
	struct store_page sp;

	/* one's own list is the account's: another's cursor would skip rows */
	if (svc__allow(a, all ? PERM_SESSION_ALL : PERM_SESSION_OWN, e) ||
	    svc__page_bind(pg, svc__scope_of("account %lld", all ? 0LL : (long long)a->account_id),
			   e))
		return NULL;
	l.arr = json_array();
	if (ST(s)->session_page(s->st, all ? 0 : a->account_id, svc__page(pg, &sp), session_one,
				&l, e)) {
		json_decref(l.arr);
		return NULL;
	}
	return l.arr;
}

int svc_session_revoke(struct svc *s, const struct actor *a, int64_t id, struct bm_err *e)
{
	struct slist l = {s, a, NULL, id, false, NULL};
	bool all = svc__allow(a, PERM_SESSION_ALL, e) == 0;
	int rc;

	bm_err_clear(e);
	if ((rc = svc__allow(a, PERM_SESSION_OWN, e)))
		return rc;
	if (!all && ((rc = ST(s)->session_list(s->st, a->account_id, session_one, &l, e)) ||
		     !l.found))
		return rc ? rc : bm_errf(e, BM_ENOTFOUND, "id", "session %lld not found",
					 (long long)id);
	if ((rc = svc__begin(s, e)))
		return rc;
	if ((rc = ST(s)->session_revoke(s->st, id, 0, e)) ||
	    (rc = svc__auth_changed(s, e)) ||
	    (rc = svc__audit1(s, a, "session.revoke", a->name,
			      json_pack("{s:I}", "session", (json_int_t)id), e))) {
		svc__rollback(s);
		return rc;
	}
	return svc__commit(s, e);
}

json_t *svc_whoami(struct svc *s, const struct actor *a, struct bm_err *e)
{
	json_t *v;

	if (svc__allow(a, PERM_SESSION_OWN, e))
		return NULL;
	v = json_pack("{s:s, s:[], s:I}", "name", a->name, "roles", "session_id",
		      (json_int_t)a->session_id);
	for (int i = 0; i < ROLE_COUNT; i++)
		if (a->roles & (1u << i))
			json_array_append_new(json_object_get(v, "roles"),
					      json_string(role_name(1u << i)));
	if (a->scope_unit) {
		char code[BM_CODE_MAX];

		json_object_set_new(v, "scope_unit",
				    json_string(svc__unit_code(s, a->scope_unit, code)));
	} else {
		json_object_set_new(v, "scope_unit", json_null());
	}
	return v;
}
