/*
 * crypto.h - the only module that touches key material.
 *
 * A key file (mode 0600, created by crypto_keyfile_create, never
 * overwritten) holds the field-encryption key, the blind-index key and the
 * Ed25519 signing key, with a magic, a version and a checksum so a damaged
 * or foreign file is refused with a clear error rather than yielding garbage.
 * Loaded keys live in sodium_malloc'd, mlocked memory and are wiped on free.
 *
 * Sensitive fields are sealed with XChaCha20-Poly1305 (IETF); the associated
 * data binds a ciphertext to its table, column and row, so a value copied to
 * another row fails to open.  Lookups use a keyed BLAKE2b "blind index".
 *
 * Key file layout, version 1 (172 bytes, integers big-endian):
 *     0   8  magic "BAOMIKEY"
 *     8   4  format version (1)
 *    12  32  field-encryption key (XChaCha20-Poly1305 IETF)
 *    44  32  blind-index key (keyed BLAKE2b)
 *    76  64  Ed25519 secret key (seed || public key)
 *   140  32  checksum: BLAKE2b-256 of bytes 0..139, personalisation
 *            "baomi-keyfile-v1" (detects damage, not an attacker)
 *
 * libsodium owns the crypto_ namespace it shares with this module; names
 * here never collide with its (hence crypto_keys_sign, not crypto_sign).
 */
#ifndef BM_CRYPTO_H
#define BM_CRYPTO_H

#include "buf.h"
#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bm_keys;

/* Must be called once before anything else here (idempotent). */
int crypto_init(struct bm_err *e);

/* Creates a new key file at path (O_EXCL, 0600); refuses if it exists. */
int crypto_keyfile_create(const char *path, struct bm_err *e);
/* fsyncs the directory holding path, so a file created or linked there
 * survives a crash (best effort: some file systems refuse it). */
void crypto_sync_dir(const char *path);
/* Loads and checks a key file: BM_ENOINPUT when missing, BM_ECRYPTO when
 * damaged, of another format, or group/world readable. */
int crypto_keyfile_load(const char *path, struct bm_keys **out, struct bm_err *e);
void crypto_keys_free(struct bm_keys *k);
/* A public fingerprint of the key set (hex, 64 chars + NUL) stored in the
 * database, so a key file of another database is recognised as wrong. */
void crypto_keys_fingerprint(const struct bm_keys *k, char out[65]);

/* Seals plaintext: appends nonce (24) || ciphertext || tag (16) to out
 * (binary, ptlen + 40 bytes).  table, column and row form the associated
 * data, each length-prefixed so no two triples share an encoding. */
void crypto_seal(const struct bm_keys *k, const char *table, const char *column,
		 const char *row, const void *pt, size_t ptlen, struct buf *out);
/* Opens a sealed value, appending the plaintext to out (NUL-terminated);
 * BM_ECRYPTO when it was tampered with, moved to another row, or sealed
 * under another key (out is then unchanged). */
int crypto_open(const struct bm_keys *k, const char *table, const char *column,
		const char *row, const void *ct, size_t ctlen, struct buf *out,
		struct bm_err *e);
/* Keyed hash of a normalised value for equality lookups (32 bytes); the
 * column name separates domains, so equal values in two columns differ. */
void crypto_blind_index(const struct bm_keys *k, const char *column,
			const void *val, size_t len, uint8_t out[32]);

/* Ed25519 detached signature (64 bytes) of msg, verifiable with the public
 * key from crypto_sign_pk by libsodium's crypto_sign_verify_detached or any
 * Ed25519 tool.  (Not crypto_sign: libsodium already defines that name.) */
void crypto_keys_sign(const struct bm_keys *k, const void *msg, size_t len, uint8_t sig[64]);
void crypto_sign_pk(const struct bm_keys *k, uint8_t pk[32]);

/* SHA-256, using the CPU's SHA extensions when present. */
struct bm_sha256 {
	uint32_t h[8];
	uint64_t nbytes;
	uint8_t block[64];
	size_t fill;
};
void sha256_init(struct bm_sha256 *c);
void sha256_update(struct bm_sha256 *c, const void *data, size_t len);
void sha256_final(struct bm_sha256 *c, uint8_t out[32]);
void sha256(const void *data, size_t len, uint8_t out[32]);
/* Test and benchmark hook: true forces the portable block function, false
 * returns to the one picked for this CPU.  Not for concurrent use. */
void sha256_force_portable(bool on);
/* The block function in use: "sha-ni" or "portable". */
const char *sha256_impl(void);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly 2n hex chars; -1 when malformed. */
int hex_decode(const char *in, uint8_t *out, size_t n);
/* Fills buf with n random bytes. */
void crypto_random(void *buf, size_t n);

#endif
