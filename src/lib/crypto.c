/*
 * crypto.c - the key file, field sealing, blind indexes and signatures, all
 * over libsodium.  This is the only code that sees key bytes: it must never
 * log, print or return a key, never keep one outside sodium_malloc'd memory
 * (locked where the system allows, wiped on free), and it wipes every
 * intermediate stack copy with sodium_memzero.  SHA-256 lives in sha256.c.
 */
#include "crypto.h"
#include "mem.h"

#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KF_MAGIC "BAOMIKEY"
#define KF_VERSION 1u

/* Offsets of the key file layout documented in crypto.h. */
enum {
	KF_OFF_VERSION = 8,
	KF_OFF_ENC = 12,
	KF_OFF_IDX = 44,
	KF_OFF_SK = 76,
	KF_OFF_SUM = 140,
	KF_SIZE = 172,
};

enum {
	SEAL_NONCE = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	SEAL_TAG = crypto_aead_xchacha20poly1305_ietf_ABYTES,
};

/* Loaded keys; always in sodium_malloc'd memory, read-only once filled. */
struct bm_keys {
	uint8_t enc[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t idx[32];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
};

/* BLAKE2b personalisations (16 bytes each, no NUL) separate the domains. */
static const uint8_t kf_personal[16] = {'b', 'a', 'o', 'm', 'i', '-', 'k', 'e',
					'y', 'f', 'i', 'l', 'e', '-', 'v', '1'};
static const uint8_t fp_personal[16] = {'b', 'a', 'o', 'm', 'i', '-', 'k', 'e',
					'y', '-', 'f', 'p', 'r', '-', 'v', '1'};
static const uint8_t bi_personal[16] = {'b', 'a', 'o', 'm', 'i', '-', 'b', 'l',
					'i', 'n', 'd', '-', 'i', 'x', '-', '1'};

static void *secure_alloc(size_t n);
static void put_be32(uint8_t *p, uint32_t v);
static uint32_t get_be32(const uint8_t *p);
static void kf_checksum(const uint8_t *file, uint8_t out[32]);
static void kf_fill(uint8_t *file);
static int write_all(int fd, const uint8_t *p, size_t n);
static int kf_write(const char *path, const uint8_t *file, struct bm_err *e);
static int kf_check_mode(int fd, const char *path, struct bm_err *e);
static int kf_read(int fd, uint8_t *file, size_t cap, size_t *n, const char *path,
		   struct bm_err *e);
static int kf_parse(const uint8_t *file, size_t n, const char *path, struct bm_err *e);
static int kf_check_signing_key(const uint8_t *sk, const char *path, struct bm_err *e);
static struct bm_keys *keys_from_file(const uint8_t *file);
static void ad_part(struct buf *ad, const char *s);
static void ad_build(struct buf *ad, const char *table, const char *column, const char *row);

/* sodium_malloc places the block between guard pages and mlocks it (best
 * effort: a failed mlock is not an error).  Exhaustion aborts, as in mem.c. */
static void *secure_alloc(size_t n)
{
	void *p = sodium_malloc(n);

	if (p == NULL) {
		fprintf(stderr, "baomi: out of secure memory allocating %zu bytes\n", n);
		abort();
	}
	return p;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* sodium_init is itself idempotent and thread-safe; 1 means "already". */
int crypto_init(struct bm_err *e)
{
	if (sodium_init() < 0)
		return bm_errf(e, BM_ECRYPTO, NULL, "libsodium failed to initialise");
	return 0;
}

/* The checksum covers everything before it; it finds damage, and is no MAC. */
static void kf_checksum(const uint8_t *file, uint8_t out[32])
{
	crypto_generichash_blake2b_salt_personal(out, 32, file, KF_OFF_SUM, NULL, 0, NULL,
						 kf_personal);
}

/* Fills a fresh key file image (KF_SIZE bytes, secure memory) with new keys. */
static void kf_fill(uint8_t *file)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];

	memcpy(file, KF_MAGIC, 8);
	put_be32(file + KF_OFF_VERSION, KF_VERSION);
	randombytes_buf(file + KF_OFF_ENC, 32);
	randombytes_buf(file + KF_OFF_IDX, 32);
	crypto_sign_keypair(pk, file + KF_OFF_SK);
	kf_checksum(file, file + KF_OFF_SUM);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Makes the new directory entry durable too; best effort, as some file
 * systems refuse fsync on a directory. */
void crypto_sync_dir(const char *path)
{
	char *dir = strdup(path);
	char *slash;
	int fd;

	if (dir == NULL)
		return;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else
		slash[slash == dir] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Creates path exclusively with mode 0600 and writes the image durably; a
 * partly written file is removed so a retry is not refused. */
static int kf_write(const char *path, const uint8_t *file, struct bm_err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0 && errno == EEXIST)
		return bm_errf(e, BM_EEXIST, NULL,
			       "key file %s already exists; refusing to overwrite it", path);
	if (fd < 0)
		return bm_errf(e, BM_EIO, NULL, "cannot create key file %s: %s", path,
			       strerror(errno));
	if (write_all(fd, file, KF_SIZE) != 0 || fsync(fd) != 0) {
		int err = errno;

		close(fd);
		unlink(path);
		return bm_errf(e, BM_EIO, NULL, "cannot write key file %s: %s", path,
			       strerror(err));
	}
	if (close(fd) != 0) {
		unlink(path);
		return bm_errf(e, BM_EIO, NULL, "cannot write key file %s", path);
	}
	crypto_sync_dir(path);
	return 0;
}

/* New keys are generated straight into secure memory, never on the stack. */
int crypto_keyfile_create(const char *path, struct bm_err *e)
{
	uint8_t *file = secure_alloc(KF_SIZE);
	int rc;

	kf_fill(file);
	rc = kf_write(path, file, e);
	sodium_free(file);
	return rc;
}

/* Keys readable by anyone but the owner are as good as leaked: refuse them. */
static int kf_check_mode(int fd, const char *path, struct bm_err *e)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return bm_errf(e, BM_EIO, NULL, "cannot stat key file %s: %s", path,
			       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return bm_errf(e, BM_ECRYPTO, NULL, "key file %s is not a regular file", path);
	if (st.st_mode & 077)
		return bm_errf(e, BM_ECRYPTO, NULL,
			       "key file %s is readable by others (mode %04o); chmod 600 it", path,
			       (unsigned)(st.st_mode & 07777));
	return 0;
}

/* Reads at most cap bytes; a file of exactly cap bytes is therefore known to
 * be too long when cap is one more than the format's size. */
static int kf_read(int fd, uint8_t *file, size_t cap, size_t *n, const char *path,
		   struct bm_err *e)
{
	*n = 0;
	while (*n < cap) {
		ssize_t r = read(fd, file + *n, cap - *n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bm_errf(e, BM_EIO, NULL, "cannot read key file %s: %s", path,
				       strerror(errno));
		if (r == 0)
			break;
		*n += (size_t)r;
	}
	return 0;
}

/* Checks in the order that gives the most useful message: a foreign file is
 * named as foreign before its size is discussed. */
static int kf_parse(const uint8_t *file, size_t n, const char *path, struct bm_err *e)
{
	uint8_t sum[32];
	uint32_t version;

	if (n < 8 || memcmp(file, KF_MAGIC, 8) != 0)
		return bm_errf(e, BM_ECRYPTO, NULL,
			       "key file %s is not a baomi key file (bad magic)", path);
	if (n < KF_OFF_ENC)
		return bm_errf(e, BM_ECRYPTO, NULL, "key file %s is truncated (%zu bytes, "
			       "expected %d)", path, n, KF_SIZE);
	version = get_be32(file + KF_OFF_VERSION);
	if (version != KF_VERSION)
		return bm_errf(e, BM_ECRYPTO, NULL, "key file %s has format version %u; "
			       "this baomi reads version %u", path, version, KF_VERSION);
	if (n < KF_SIZE)
		return bm_errf(e, BM_ECRYPTO, NULL, "key file %s is truncated (%zu bytes, "
			       "expected %d)", path, n, KF_SIZE);
	if (n > KF_SIZE)
		return bm_errf(e, BM_ECRYPTO, NULL, "key file %s is too long (more than %d "
			       "bytes): damaged or not a baomi key file", path, KF_SIZE);
	kf_checksum(file, sum);
	if (sodium_memcmp(sum, file + KF_OFF_SUM, 32) != 0)
		return bm_errf(e, BM_ECRYPTO, NULL,
			       "key file %s is damaged (checksum mismatch)", path);
	return kf_check_signing_key(file + KF_OFF_SK, path, e);
}

/* The Ed25519 secret key is seed || public key; a pair that does not match
 * would sign records nobody can verify. */
static int kf_check_signing_key(const uint8_t *sk, const char *path, struct bm_err *e)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t tmp[crypto_sign_SECRETKEYBYTES];
	int bad;

	crypto_sign_seed_keypair(pk, tmp, sk);
	bad = memcmp(pk, sk + crypto_sign_SEEDBYTES, sizeof pk) != 0;
	sodium_memzero(tmp, sizeof tmp);
	if (bad)
		return bm_errf(e, BM_ECRYPTO, NULL,
			       "key file %s holds an inconsistent signing key pair", path);
	return 0;
}

/* Copies the checked image into a new read-only key set. */
static struct bm_keys *keys_from_file(const uint8_t *file)
{
	struct bm_keys *k = secure_alloc(sizeof *k);

	memcpy(k->enc, file + KF_OFF_ENC, sizeof k->enc);
	memcpy(k->idx, file + KF_OFF_IDX, sizeof k->idx);
	memcpy(k->sk, file + KF_OFF_SK, sizeof k->sk);
	crypto_sign_ed25519_sk_to_pk(k->pk, k->sk);
	sodium_mprotect_readonly(k);
	return k;
}

/* The file image is read into secure memory (one byte more than the format,
 * to notice a long file); sodium_free wipes it whatever the outcome. */
int crypto_keyfile_load(const char *path, struct bm_keys **out, struct bm_err *e)
{
	uint8_t *file = secure_alloc(KF_SIZE + 1);
	size_t n = 0;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			rc = bm_errf(e, BM_ENOINPUT, NULL, "key file %s not found", path);
		else
			rc = bm_errf(e, BM_ENOINPUT, NULL, "cannot open key file %s: %s", path,
				     strerror(errno));
		goto out;
	}
	rc = kf_check_mode(fd, path, e);
	if (rc == 0)
		rc = kf_read(fd, file, KF_SIZE + 1, &n, path, e);
	if (rc == 0)
		rc = kf_parse(file, n, path, e);
	if (rc == 0)
		*out = keys_from_file(file);
out:
	if (fd >= 0)
		close(fd);
	sodium_free(file);
	return rc;
}

/* sodium_free lifts the read-only protection, wipes and unlocks. */
void crypto_keys_free(struct bm_keys *k)
{
	sodium_free(k);
}

/* A one-way, personalised hash of both symmetric keys: equal fingerprints
 * mean the same key set, and nothing about the keys can be learnt from it. */
void crypto_keys_fingerprint(const struct bm_keys *k, char out[65])
{
	crypto_generichash_blake2b_state st;
	uint8_t h[32];

	crypto_generichash_blake2b_init_salt_personal(&st, NULL, 0, sizeof h, NULL,
						      fp_personal);
	crypto_generichash_blake2b_update(&st, k->enc, sizeof k->enc);
	crypto_generichash_blake2b_update(&st, k->idx, sizeof k->idx);
	crypto_generichash_blake2b_final(&st, h, sizeof h);
	sodium_memzero(&st, sizeof st);
	hex_encode(h, sizeof h, out);
}

/* A NULL here is a caller bug that would weaken the binding: stop. */
static void ad_part(struct buf *ad, const char *s)
{
	uint8_t len[4];
	size_t n;

	if (s == NULL) {
		fprintf(stderr, "baomi: crypto: NULL associated data\n");
		abort();
	}
	n = strlen(s);
	if (n > UINT32_MAX)
		abort();
	put_be32(len, (uint32_t)n);
	buf_append(ad, len, sizeof len);
	buf_append(ad, s, n);
}

/* Associated data: each of table, column, row as a 4-byte length and bytes. */
static void ad_build(struct buf *ad, const char *table, const char *column, const char *row)
{
	ad_part(ad, table);
	ad_part(ad, column);
	ad_part(ad, row);
}

/* Nonces come from a per-thread pool refilled from the kernel 4 KiB at a
 * time: one getrandom call per 170 nonces instead of one each, which is a
 * sixth of a bulk import's time otherwise.  The pool remembers its process,
 * so a forked child never reuses the parent's remaining bytes. */
static void nonce_take(uint8_t *dst, size_t n)
{
	static _Thread_local uint8_t pool[4096];
	static _Thread_local size_t left;
	static _Thread_local pid_t owner;

	if (owner != getpid() || left < n) {
		randombytes_buf(pool, sizeof pool);
		left = sizeof pool;
		owner = getpid();
	}
	memcpy(dst, pool + sizeof pool - left, n);
	sodium_memzero(pool + sizeof pool - left, n);
	left -= n;
}

void crypto_seal(const struct bm_keys *k, const char *table, const char *column,
		 const char *row, const void *pt, size_t ptlen, struct buf *out)
{
	static const uint8_t empty[1];
	struct buf ad = BUF_INIT;
	unsigned long long clen;
	uint8_t *dst;
	size_t total;

	if (!bm_add_ok(ptlen, SEAL_NONCE + SEAL_TAG, &total))
		abort();
	ad_build(&ad, table, column, row);
	buf_reserve(out, total);
	dst = (uint8_t *)out->p + out->len;
	nonce_take(dst, SEAL_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(dst + SEAL_NONCE, &clen, pt ? pt : empty,
						   ptlen, (const uint8_t *)ad.p, ad.len, NULL,
						   dst, k->enc);
	out->len += total;
	out->p[out->len] = '\0';
	buf_free(&ad);
}

int crypto_open(const struct bm_keys *k, const char *table, const char *column,
		const char *row, const void *ct, size_t ctlen, struct buf *out,
		struct bm_err *e)
{
	const uint8_t *c = ct;
	struct buf ad = BUF_INIT;
	unsigned long long mlen = 0;
	int rc = 0;

	if (ctlen < SEAL_NONCE + SEAL_TAG)
		return bm_errf(e, BM_ECRYPTO, column, "%s of row %s is too short to be a "
			       "sealed value (%zu bytes)", column, row, ctlen);
	ad_build(&ad, table, column, row);
	buf_reserve(out, ctlen - SEAL_NONCE - SEAL_TAG);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)out->p + out->len, &mlen,
						       NULL, c + SEAL_NONCE, ctlen - SEAL_NONCE,
						       (const uint8_t *)ad.p, ad.len, c,
						       k->enc) != 0)
		rc = bm_errf(e, BM_ECRYPTO, column, "%s of row %s failed authentication: "
			     "tampered, moved or sealed under another key", column, row);
	else
		out->len += (size_t)mlen;
	out->p[out->len] = '\0';
	buf_free(&ad);
	return rc;
}

/* Keyed BLAKE2b-256 over len(column) || column || value: the length prefix
 * keeps ("ab","c") and ("a","bc") apart, the key keeps guesses offline. */
void crypto_blind_index(const struct bm_keys *k, const char *column, const void *val,
			size_t len, uint8_t out[32])
{
	crypto_generichash_blake2b_state st;
	size_t clen = strlen(column);
	uint8_t n[4];

	if (clen > UINT32_MAX)
		abort();
	put_be32(n, (uint32_t)clen);
	crypto_generichash_blake2b_init_salt_personal(&st, k->idx, sizeof k->idx, 32, NULL,
						      bi_personal);
	crypto_generichash_blake2b_update(&st, n, sizeof n);
	crypto_generichash_blake2b_update(&st, (const uint8_t *)column, clen);
	crypto_generichash_blake2b_update(&st, val, len);
	crypto_generichash_blake2b_final(&st, out, 32);
	sodium_memzero(&st, sizeof st);
}

void crypto_keys_sign(const struct bm_keys *k, const void *msg, size_t len, uint8_t sig[64])
{
	crypto_sign_detached(sig, NULL, msg, len, k->sk);
}

void crypto_sign_pk(const struct bm_keys *k, uint8_t pk[32])
{
	memcpy(pk, k->pk, sizeof k->pk);
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

/* sodium_hex2bin without an end pointer fails unless all 2n chars are hex. */
int hex_decode(const char *in, uint8_t *out, size_t n)
{
	size_t got = 0;

	if (n > SIZE_MAX / 2)
		return -1;
	if (sodium_hex2bin(out, n, in, 2 * n, NULL, &got, NULL) != 0 || got != n)
		return -1;
	return 0;
}

void crypto_random(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}
