/*
 * service.c - opening and creating a baomi database, transactions, the
 * audit append, and the input checks every use case shares.
 *
 * The audit append runs inside the caller's transaction: it reads the chain
 * head, canonicalises the event, hashes it and inserts it, so the event
 * commits or rolls back with the change it describes.  It never receives a
 * sensitive value in clear; callers pass only codes, names and counts.
 */
#include "svc_internal.h"
#include "../core/audit.h"
#include "../core/role.h"
#include "../core/snapshot.h"
#include "../lib/cjson.h"
#include "../lib/clock.h"
#include "../lib/crypto.h"
#include "../lib/mem.h"
#include "../lib/utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_FINGERPRINT "key_fingerprint"

static char *key_path_for(const struct svc_paths *p);
static int open_common(const struct svc_paths *p, bool fresh, struct svc **out,
		       struct bm_err *e);
static int check_key(struct svc *s, bool fresh, struct bm_err *e);
static int first_setup(struct svc *s, const struct actor *a, const struct policy *pol,
		       struct svc_officers *pw, struct bm_err *e);

static char *key_path_for(const struct svc_paths *p)
{
	struct buf b = BUF_INIT;

	if (p->keyfile != NULL && p->keyfile[0] != '\0')
		return xstrdup(p->keyfile);
	buf_printf(&b, "%s.key", p->db);
	return buf_steal(&b);
}

/* init leaves a working pair or nothing, even when it is killed. */
int svc_init(const struct svc_paths *p, const char *profile, const struct actor *a,
	     struct bm_err *e)
{
	struct svc_officers pw;
	int rc;

	memset(&pw, 0, sizeof pw);
	rc = svc_init_officers(p, profile, a, &pw, e);
	sodium_memzero(&pw, sizeof pw);
	return rc;
}

/* The name a file is built under before init publishes it: path + ".init". */
static char *init_tmp(const char *path)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s.init", path);
	return buf_steal(&b);
}

/* Removes a database file with the journal files SQLite keeps beside it. */
static void unlink_db(const char *db)
{
	static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		buf_reset(&b);
		buf_printf(&b, "%s%s", db, ext[i]);
		unlink(buf_cstr(&b));
	}
	buf_free(&b);
}

static bool same_file(const char *x, const char *y)
{
	struct stat a, b;

	return stat(x, &a) == 0 && stat(y, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Refuses a database or key file that exists.  One exception: a key file
 * with no database that is the very file init built under its temporary
 * name (a hard link of it) was published by an init killed before it
 * published the database; its officers' passwords were never shown, so
 * that half is removed and init starts over. */
static int init_free(const char *db, const char *kp, const char *ktmp, struct bm_err *e)
{
	struct stat sb;

	if (stat(db, &sb) == 0)
		return bm_errf(e, BM_EEXIST, "db", "database %s already exists; refusing to "
			       "overwrite it", db);
	if (stat(kp, &sb) == 0 && same_file(kp, ktmp))
		unlink(kp);
	if (stat(kp, &sb) == 0)
		return bm_errf(e, BM_EEXIST, "key", "key file %s already exists; refusing to "
			       "overwrite it", kp);
	return 0;
}

/* Builds the database and its key file under temporary names. */
static int init_build(const char *dtmp, const char *ktmp, const char *profile,
		      const struct actor *a, struct svc_officers *pw, struct bm_err *e)
{
	const struct svc_paths tp = {dtmp, ktmp};
	struct svc *s = NULL;
	struct policy pol;
	int rc;

	unlink_db(dtmp);	/* what a killed init left under these names */
	unlink(ktmp);
	if ((rc = policy_builtin(profile ? profile : "cn", &pol, e)) ||
	    (rc = crypto_keyfile_create(ktmp, e)))
		return rc;
	rc = open_common(&tp, true, &s, e);
	if (rc == 0)
		rc = first_setup(s, a, &pol, pw, e);
	svc_close(s);	/* the last close folds the -wal into the file */
	return rc;
}

/* Publishes the built pair under its names with link(2), which never
 * replaces a file: the key first, then the database, whose arrival makes
 * the pair usable.  A kill between the two leaves the key linked to its
 * temporary name, which init_free recognises. */
static int init_publish(const char *db, const char *kp, const char *dtmp, const char *ktmp,
			struct bm_err *e)
{
	if (link(ktmp, kp) != 0)
		return bm_errf(e, errno == EEXIST ? BM_EEXIST : BM_EIO, "key",
			       "cannot create key file %s: %s", kp, strerror(errno));
	if (link(dtmp, db) != 0) {
		int err = errno;

		unlink(kp);
		return bm_errf(e, err == EEXIST ? BM_EEXIST : BM_EIO, "db",
			       "cannot create database %s: %s", db, strerror(err));
	}
	return 0;
}

/* The database and key file are built under temporary names and published
 * only when whole, so a killed init leaves no half-made database that a new
 * init would refuse and nothing else could open. */
int svc_init_officers(const struct svc_paths *p, const char *profile, const struct actor *a,
		      struct svc_officers *pw, struct bm_err *e)
{
	char *kp = key_path_for(p), *dtmp = init_tmp(p->db), *ktmp = init_tmp(kp);
	int rc;

	if ((rc = crypto_init(e)) || (rc = init_free(p->db, kp, ktmp, e)))
		goto out;
	rc = init_build(dtmp, ktmp, profile, a, pw, e);
	if (rc == 0)
		rc = init_publish(p->db, kp, dtmp, ktmp, e);
	unlink_db(dtmp);
	unlink(ktmp);
	if (rc == 0) {
		crypto_sync_dir(p->db);
		crypto_sync_dir(kp);
	}
out:
	free(kp);
	free(dtmp);
	free(ktmp);
	return rc;
}

/* An init killed after it published both files leaves their temporary
 * names linked to them.  They go at the next open: a key file that stays
 * linked to init's temporary name would, once the database were deleted,
 * read to a new init as one it may replace (init_free). */
static void init_leftovers(const char *db, const char *kp)
{
	char *dtmp = init_tmp(db), *ktmp = init_tmp(kp);

	if (same_file(db, dtmp))
		unlink(dtmp);
	if (same_file(kp, ktmp))
		unlink(ktmp);
	free(dtmp);
	free(ktmp);
}

int svc_open(const struct svc_paths *p, struct svc **out, struct bm_err *e)
{
	int rc = open_common(p, false, out, e);

	if (rc == 0)
		init_leftovers(p->db, (*out)->key_path);
	return rc;
}

static int open_common(const struct svc_paths *p, bool fresh, struct svc **out,
		       struct bm_err *e)
{
	struct svc *s = xcalloc(1, sizeof *s);
	int rc;

	*out = NULL;
	s->db_path = xstrdup(p->db);
	s->key_path = key_path_for(p);
	if ((rc = crypto_init(e)))
		goto fail;
	if ((rc = store_sqlite_ops.open(p->db, fresh ? STORE_CREATE : 0, &s->st, e)))
		goto fail;
	if ((rc = crypto_keyfile_load(s->key_path, &s->keys, e)))
		goto fail;
	if ((rc = check_key(s, fresh, e)))
		goto fail;
	if (!fresh && (rc = svc__policy_load_current(s, e)))
		goto fail;
	*out = s;
	return 0;
fail:
	svc_close(s);
	return rc;
}

/* A database remembers the fingerprint of its key set; another key file
 * would open nothing but garbage, so it is refused by name. */
static int check_key(struct svc *s, bool fresh, struct bm_err *e)
{
	struct buf stored = BUF_INIT;
	char fp[65];
	int rc;

	crypto_keys_fingerprint(s->keys, fp);
	if (fresh)
		return 0;
	rc = ST(s)->meta_get(s->st, META_FINGERPRINT, &stored, e);
	if (rc == BM_ENOTFOUND)
		rc = bm_errf(e, BM_ESCHEMA, "db", "database %s was never initialised; run baomi init",
			     s->db_path);
	else if (rc == 0 && strcmp(buf_cstr(&stored), fp) != 0)
		rc = bm_errf(e, BM_ECRYPTO, "key",
			     "key file %s does not belong to database %s (fingerprint %.16s..., "
			     "expected %.16s...)", s->key_path, s->db_path, fp, buf_cstr(&stored));
	buf_free(&stored);
	return rc;
}

static int first_setup(struct svc *s, const struct actor *a, const struct policy *pol,
		       struct svc_officers *pw, struct bm_err *e)
{
	struct buf doc = BUF_INIT;
	struct policy_rec pr = {0};
	char fp[65];
	int rc;

	crypto_keys_fingerprint(s->keys, fp);
	policy_to_json(pol, &doc);
	pr.version = 1;
	svc__copy(pr.profile, sizeof pr.profile, pol->profile);
	svc__copy(pr.actor, sizeof pr.actor, a->name);
	pr.created = clock_now();
	pr.json = doc.p;
	if ((rc = svc__begin(s, e)))
		goto out;
	if ((rc = ST(s)->meta_set(s->st, META_FINGERPRINT, fp, e)) ||
	    (rc = ST(s)->policy_insert(s->st, &pr, e)) ||
	    (rc = svc__audit1(s, a, "system.init", "system",
			      json_pack("{s:s, s:s, s:I}", "profile", pol->profile,
					"key_fingerprint", fp, "policy_version", (json_int_t)1),
			      e)) ||
	    (rc = svc__officers_add_tx(s, a, pw, e))) {
		svc__rollback(s);
		goto out;
	}
	rc = svc__commit(s, e);
	s->policy = *pol;
	s->policy_version = 1;
out:
	buf_free(&doc);
	return rc;
}

void svc_close(struct svc *s)
{
	if (s == NULL)
		return;
	if (s->st != NULL)
		s->st->ops->close(s->st);
	svc__share_drop(s);
	crypto_keys_free(s->keys);
	buf_free(&s->scratch);
	free(s->db_path);
	free(s->key_path);
	free(s);
}

int svc_reload(struct svc *s, struct bm_err *e)
{
	return svc__policy_load_current(s, e);
}

const struct policy *svc_policy(const struct svc *s)
{
	return &s->policy;
}

int svc_request_begin(struct svc *s, struct bm_err *e)
{
	s->in_request = true;
	s->req_auth = false;
	return ST(s)->read_begin(s->st, e);
}

int svc_read_pin(struct svc *s, bool checkpoint, struct bm_err *e)
{
	return ST(s)->read_pin(s->st, checkpoint, e);
}

/* Ends the snapshot, then writes what the request deferred (a session's
 * last_seen), so that write never waits inside a read transaction. */
void svc_request_end(struct svc *s)
{
	ST(s)->read_end(s->st);
	s->in_request = false;
	s->req_auth = false;
	svc__touch_flush(s);
}

/* The error of a step inside an enclosing transaction that an earlier
 * step rolled back (svc__outer_begin). */
static int outer_lost_err(struct bm_err *e)
{
	return bm_errf(e, BM_EINTERNAL, NULL,
		       "an earlier step of this job failed and nothing of it was written");
}

/* Begins a write transaction under the policy stored now.  The context's
 * policy may be older: another process (`baomi policy load` while the
 * server runs) or thread stored one since it was read, and the server
 * notices only on its next sync.  A write decided under the old rules
 * would stand for good (one approver where two are now needed, the old
 * re-review interval), so the write lock, which no policy store can pass,
 * is taken first and the stored version compared under it. */
int svc__begin(struct svc *s, struct bm_err *e)
{
	int64_t head = 0;
	int rc;

	if (s->outer)
		return s->outer_lost ? outer_lost_err(e) : 0;
	s->tx_seq_lo = s->tx_seq_hi = 0;
	if ((rc = ST(s)->begin(s->st, e)))
		return rc;
	if ((rc = ST(s)->policy_head(s->st, &head, e)) == 0 && head != s->policy_version)
		rc = svc__policy_load_current(s, e);
	if (rc == 0)
		rc = svc__auth_recheck(s, e);
	if (rc)
		svc__rollback(s);
	return rc;
}

/* Commits, then brings the decision snapshot up to date with what was
 * committed.  The write stands even when that refresh fails (a database
 * read error); the touched set is then kept whole so the next commit
 * retries everyone. */
int svc__commit(struct svc *s, struct bm_err *e)
{
	struct bm_err fe = BM_ERR_INIT;
	int rc;

	if (s->outer)
		return s->outer_lost ? outer_lost_err(e) : 0;
	if ((rc = ST(s)->commit(s->st, e)) != 0) {
		svc__rollback(s);
		return rc;
	}
	if (svc__snap_flush(s, &fe) != 0)
		s->dirty_all = true;
	bm_err_clear(&fe);
	return 0;
}

void svc__rollback(struct svc *s)
{
	if (s->outer) {
		if (s->outer_lost)
			return;
		s->outer_lost = true;
	}
	ST(s)->rollback(s->st);
	s->ndirty = 0;
	s->dirty_all = false;
	s->tx_seq_lo = s->tx_seq_hi = 0;
}

int svc__outer_begin(struct svc *s, struct bm_err *e)
{
	int rc = svc__begin(s, e);

	if (rc == 0) {
		s->outer = true;
		s->outer_lost = false;
	}
	return rc;
}

int svc__outer_end(struct svc *s, bool ok, struct bm_err *e)
{
	bool lost = s->outer_lost;

	s->outer = false;
	s->outer_lost = false;
	if (lost)
		return ok ? outer_lost_err(e) : 0;
	if (!ok) {
		svc__rollback(s);
		return 0;
	}
	return svc__commit(s, e);
}

/* Canonicalises subjects and fields, links the event to the chain head and
 * inserts it.  Both JSON values are consumed. */
int svc__audit(struct svc *s, const struct actor *a, const char *action, json_t *subjects,
	       json_t *fields, struct bm_err *e)
{
	struct buf subj = BUF_INIT, flds = BUF_INIT;
	struct audit_event ev = {0};
	struct audit_rec r = {0};
	char who[sizeof r.actor];
	int64_t seq;
	int rc;

	if (subjects == NULL || fields == NULL) {
		rc = bm_errf(e, BM_EINTERNAL, NULL, "audit event %s built without subjects/fields",
			     action);
		goto out;
	}
	if ((rc = cjson_dump(subjects, &subj, e)) || (rc = cjson_dump(fields, &flds, e)))
		goto out;
	if ((rc = ST(s)->audit_head(s->st, &seq, ev.prev, e)))
		goto out;
	ev.seq = seq + 1;
	ev.time_ms = clock_now_ms();
	if (a->via[0] != '\0')
		snprintf(who, sizeof who, "%s as %s", a->via, a->name);
	else
		snprintf(who, sizeof who, "%s", a->name);
	ev.actor = who;
	ev.action = action;
	ev.subjects = buf_cstr(&subj);
	ev.fields = buf_cstr(&flds);
	audit_seal(&ev, &s->scratch);
	r.seq = ev.seq;
	r.time_ms = ev.time_ms;
	svc__copy(r.actor, sizeof r.actor, who);
	svc__copy(r.action, sizeof r.action, action);
	r.subjects = subj.p;
	r.fields = flds.p;
	memcpy(r.prev, ev.prev, 32);
	memcpy(r.hash, ev.hash, 32);
	if ((rc = ST(s)->audit_insert(s->st, &r, e)) == 0) {
		/* The transaction's seq range, noted by svc__snap_flush so that
		 * svc_snapshot_sync knows these events as this process's own. */
		if (s->tx_seq_lo == 0)
			s->tx_seq_lo = ev.seq;
		s->tx_seq_hi = ev.seq;
	}
out:
	json_decref(subjects);
	json_decref(fields);
	buf_free(&subj);
	buf_free(&flds);
	return rc;
}

int svc__audit1(struct svc *s, const struct actor *a, const char *action, const char *subject,
		json_t *fields, struct bm_err *e)
{
	return svc__audit(s, a, action, json_pack("[s]", subject), fields, e);
}

int svc_actor_allow(const struct actor *a, int perm, struct bm_err *e)
{
	if (a->roles & ACTOR_LOCAL)
		return 0;
	if (a->must_change && perm != PERM_SESSION_OWN)
		return bm_errf(e, BM_EPERM, "password", "the password of %s was set by another "
			       "account: change it first (POST /v1/password)", a->name);
	if (role_allows(a->roles, perm))
		return 0;
	return bm_errf(e, BM_EPERM, NULL, "%s may not %s", a->name, perm_name(perm));
}

int svc__allow(const struct actor *a, int perm, struct bm_err *e)
{
	return svc_actor_allow(a, perm, e);
}

bool svc_name_is_server(const char *name)
{
	return name != NULL && strcasecmp(name, SVC_SYSTEM_ACTOR) == 0;
}

int svc_actor_name_check(const char *field, const char *name, struct bm_err *e)
{
	struct actor a;

	if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof a.name)
		return bm_errf(e, BM_EUSAGE, field, "%s: a name under %zu bytes", field,
			       sizeof a.name);
	if (svc__check_name(field, name, true, e) != 0)
		return e->code = BM_EUSAGE;   /* the console's usage, the message kept */
	if (svc_name_is_server(name))
		return bm_errf(e, BM_EUSAGE, field, "%s: \"%s\" is the name the server acts under",
			       field, name);
	return 0;
}

/* True when a is scoped to a subtree (the local console never is). */
bool svc__actor_scoped(const struct actor *a)
{
	return !(a->roles & ACTOR_LOCAL) && a->scope_unit != 0;
}

bool svc__code_chars_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* Codes (units, posts, external ids) are short ASCII identifiers so they
 * survive every export format and URL unescaped. */
int svc__check_code(const char *field, const char *v, struct bm_err *e)
{
	size_t n;

	if (v == NULL || v[0] == '\0')
		return bm_errf(e, BM_EINVAL, field, "%s: required", field);
	n = strlen(v);
	if (n >= BM_CODE_MAX)
		return bm_errf(e, BM_EINVAL, field, "%s: longer than %d characters", field,
			       BM_CODE_MAX - 1);
	if (!svc__code_chars_ok(v, n))
		return bm_errf(e, BM_EINVAL, field,
			       "%s: \"%.64s\" may hold only letters, digits, '-', '_' and '.'",
			       field, v);
	return 0;
}

/* Names are any Unicode text a person would type: valid UTF-8, no control
 * characters, not only spaces (of any width) or zero-width characters,
 * not starting with = + - @, under BM_NAME_MAX bytes. */
int svc__check_name(const char *field, const char *v, bool required, struct bm_err *e)
{
	size_t n = v ? strlen(v) : 0, bad;

	if (n == 0)
		return required ? bm_errf(e, BM_EINVAL, field, "%s: required", field) : 0;
	if (n >= BM_NAME_MAX)
		return bm_errf(e, BM_EINVAL, field, "%s: longer than %d bytes", field,
			       BM_NAME_MAX - 1);
	if (!utf8_valid(v, n, &bad))
		return bm_errf(e, BM_EINVAL, field, "%s: invalid UTF-8 at byte %zu", field, bad + 1);
	if (!utf8_printable(v, n))
		return bm_errf(e, BM_EINVAL, field, "%s: contains control characters", field);
	/* Names leave in CSV exports, and a spreadsheet runs a cell starting
	 * with one of these as a formula (=HYPERLINK sends data away).  Refused
	 * here, not mangled on export, so an export still imports back as is. */
	if (strchr("=+-@", v[0]) != NULL)
		return bm_errf(e, BM_EINVAL, field, "%s: may not start with '%c' (a spreadsheet "
			       "would run it as a formula)", field, v[0]);
	/* Not only ASCII spaces: an ideographic space or a zero-width
	 * character alone is a name that shows as nothing. */
	if (utf8_blank(v, n))
		return bm_errf(e, BM_EINVAL, field, "%s: only spaces", field);
	return 0;
}

/* The ASCII character a fullwidth form at *p stands for (U+FF01..U+FF5E,
 * what a Chinese input method types in its fullwidth mode), a space for the
 * ideographic space U+3000, advancing *p over the rest of it; else the byte
 * at *p itself. */
static unsigned char docnum_char(const char **p)
{
	const unsigned char *u = (const unsigned char *)*p;

	if (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80) {
		*p += 2;
		return ' ';
	}
	if (u[0] == 0xEF && (u[1] == 0xBC || u[1] == 0xBD) && u[2] >= 0x80 && u[2] <= 0xBF) {
		unsigned cp = 0xF000u | (unsigned)(u[1] & 0x3F) << 6 | (unsigned)(u[2] & 0x3F);

		if (cp >= 0xFF01 && cp <= 0xFF5E) {
			*p += 2;
			return (unsigned char)(cp - 0xFEE0);
		}
	}
	return u[0];
}

/* Spaces and hyphens only group the characters of a national id or
 * passport number ("110101-19900307-123x"); neither is part of it (an MRZ
 * has neither), so both go, letters are upper-cased and fullwidth digits
 * and letters read as their ASCII selves: every spelling of one number
 * seals to the same value and the same blind index, and `person find`
 * finds it however it was typed. */
int svc__norm_docnum(const char *field, const char *v, char out[64], struct bm_err *e)
{
	size_t o = 0;

	for (const char *p = v; *p; p++) {
		unsigned char c = docnum_char(&p);

		if (c == ' ' || c == '-')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return bm_errf(e, BM_EINVAL, field, "%s: may hold only letters and digits "
				       "(grouped by spaces or '-')", field);
		if (o >= 63)
			return bm_errf(e, BM_EINVAL, field, "%s: longer than 63 characters", field);
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (o == 0)
		return bm_errf(e, BM_EINVAL, field, "%s: empty", field);
	return 0;
}

void svc__copy(char *dst, size_t cap, const char *v)
{
	snprintf(dst, cap, "%s", v ? v : "");
}

/* ---- list cursors ---- */

#define CURSOR_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/* The longest position, sealed (nonce 24 + tag 16) and in base64, fits the
 * text a caller holds for it. */
_Static_assert(sodium_base64_ENCODED_LEN(SVC_CURSOR_POS_MAX + 40,
					 sodium_base64_VARIANT_URLSAFE_NO_PADDING) <=
		       SVC_CURSOR_LONG_MAX,
	       "SVC_CURSOR_LONG_MAX holds a sealed SVC_CURSOR_POS_MAX");

/* Seals n bytes of list position under tag (the associated data, so one
 * list's cursor is no other's) into out, base64url of cap bytes at most. */
static void cursor_seal(struct svc *s, char tag, const uint8_t *pt, size_t n, char *out,
			size_t cap)
{
	const char list[2] = {tag, '\0'};
	struct buf ct = BUF_INIT;

	crypto_seal(s->keys, "cursor", list, "", pt, n, &ct);
	sodium_bin2base64(out, cap, (const unsigned char *)ct.p, ct.len,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	buf_free(&ct);
}

/* Opens a cursor cursor_seal made for tag into pt: min to cap bytes, *n
 * set.  Anything else, forged, damaged, cut short or another list's, is
 * BM_EUSAGE naming "cursor". */
static int cursor_open(struct svc *s, char tag, const char *text, uint8_t *pt, size_t min,
		       size_t cap, size_t *n, struct bm_err *e)
{
	const char list[2] = {tag, '\0'};
	unsigned char raw[SVC_CURSOR_LONG_MAX];
	struct buf out = BUF_INIT;
	struct bm_err quiet = BM_ERR_INIT;
	size_t len = strlen(text), rn = 0;
	int rc = -1;

	/* Only the alphabet cursor_seal writes: libsodium's decoder reads
	 * every byte from 0x80 up as '_', which gave one cursor many spellings. */
	if (len < SVC_CURSOR_LONG_MAX && strspn(text, CURSOR_ALPHABET) == len &&
	    sodium_base642bin(raw, sizeof raw, text, len, NULL, &rn, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0)
		rc = crypto_open(s->keys, "cursor", list, "", raw, rn, &out, &quiet);
	bm_err_clear(&quiet);
	if (rc == 0 && out.len >= min && out.len <= cap) {
		memcpy(pt, out.p, out.len);
		*n = out.len;
	} else {
		rc = -1;
	}
	buf_free(&out);
	if (rc != 0)
		return bm_errf(e, BM_EUSAGE, "cursor", "cursor: not a cursor this list gave out");
	return 0;
}

/* A limit of INT64_MAX (the console's largest --limit) has no row past
 * it to read: such a page is the whole list. */
const struct store_page *svc__page(struct svc_page *pg, struct store_page *sp)
{
	if (pg == NULL)
		return NULL;
	pg->last_id = 0;
	pg->shown = 0;
	pg->more = false;
	*sp = (struct store_page){pg->after_id,
				  pg->limit > 0 && pg->limit < INT64_MAX ? pg->limit + 1 : pg->limit};
	return sp;
}

bool svc__page_take(struct svc_page *pg, int64_t id)
{
	if (pg == NULL)
		return true;
	if (pg->limit > 0 && pg->shown >= pg->limit) {
		pg->more = true;
		return false;
	}
	pg->shown++;
	pg->last_id = id;
	return true;
}

/* Whole, however long the filters: two that differ only past a fixed
 * buffer would share a scope. */
uint64_t svc__scope_of(const char *fmt, ...)
{
	uint8_t h[8];
	uint64_t v = 0;
	va_list ap, again;
	int n;
	char *text;

	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();    /* a format of ours that cannot be written */
	text = xmalloc((size_t)n + 1);
	vsnprintf(text, (size_t)n + 1, fmt, again);
	va_end(again);
	crypto_generichash(h, sizeof h, (const unsigned char *)text, (size_t)n, NULL, 0);
	free(text);
	for (int i = 7; i >= 0; i--)
		v = v << 8 | h[i];
	return v;
}

int svc__page_bind(struct svc_page *pg, uint64_t want, struct bm_err *e)
{
	if (pg == NULL)
		return 0;
	if (pg->after_id != 0 && !pg->unbound && pg->scope != want)
		return bm_errf(e, BM_EUSAGE, "cursor",
			       "cursor: from this list for another person or other filters");
	pg->scope = want;
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Its id and scope, sealed (nonce 24 + tag 16) and in base64, fit. */
_Static_assert(sodium_base64_ENCODED_LEN(16 + 40, sodium_base64_VARIANT_URLSAFE_NO_PADDING) <=
		       SVC_CURSOR_MAX,
	       "SVC_CURSOR_MAX holds a sealed id and scope");

void svc_cursor_make(struct svc *s, char tag, int64_t id, uint64_t scope,
			    char out[SVC_CURSOR_MAX])
{
	uint8_t pt[16];

	put64(pt, (uint64_t)id);
	put64(pt + 8, scope);
	cursor_seal(s, tag, pt, sizeof pt, out, SVC_CURSOR_MAX);
}

int svc_cursor_read(struct svc *s, char tag, const char *text, int64_t *id,
			   uint64_t *scope, struct bm_err *e)
{
	uint8_t pt[16];
	size_t n = 0;

	*id = 0;
	*scope = 0;
	if (cursor_open(s, tag, text, pt, sizeof pt, sizeof pt, &n, e))
		return e->code;
	if (get64(pt) > INT64_MAX)   /* sealed by us, so never; but an id is signed */
		return bm_errf(e, BM_EUSAGE, "cursor", "cursor: not a cursor this list gave out");
	*id = (int64_t)get64(pt);
	*scope = get64(pt + 8);
	return 0;
}


void svc_cursor_make_pos(struct svc *s, char tag, const void *pos, size_t n,
			 char out[SVC_CURSOR_LONG_MAX])
{
	if (n > SVC_CURSOR_POS_MAX)
		abort();        /* a caller's position outgrew its contract */
	cursor_seal(s, tag, pos, n, out, SVC_CURSOR_LONG_MAX);
}

int svc_cursor_read_pos(struct svc *s, char tag, const char *text, void *pos, size_t min,
			size_t cap, size_t *n, struct bm_err *e)
{
	return cursor_open(s, tag, text, pos, min, cap, n, e);
}
