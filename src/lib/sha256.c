/*
 * sha256.c - SHA-256 (FIPS 180-4) for the audit chain and the Merkle tree.
 *
 * The streaming layer (buffering, padding, length) is written once here;
 * only the block function varies.  The portable one below is plain C; the
 * SHA-NI one lives in sha256_ni.c, built for that instruction set alone.
 * The choice is made once, at the first sha256_init, from what the CPU
 * reports.  This module hashes public data and must never see a key.
 */
#include "crypto.h"
#include "sha256_ni.h"

#include <pthread.h>
#include <string.h>

typedef void block_fn(uint32_t h[8], const uint8_t *p, size_t nblocks);

static uint32_t get_be32(const uint8_t *p);
static void block_portable(uint32_t h[8], const uint8_t *p, size_t nblocks);
static void pick(void);

const uint32_t sha256__k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

/* The initial hash value, FIPS 180-4 §5.3.3. */
static const uint32_t sha256_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static pthread_once_t pick_once = PTHREAD_ONCE_INIT;
static block_fn *blocks_best; /* set once by pick() */
static block_fn *blocks;      /* blocks_best unless a test forces portable */

#define ROTR(x, n) ((x) >> (n) | (x) << (32 - (n)))
#define BSIG0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* FIPS 180-4 §6.2.2: schedule, 64 rounds on a..h, add back.  The eight
 * working variables are named so the compiler keeps them in registers. */
static void block_portable(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;

	for (; nblocks > 0; nblocks--, p += 64) {
		for (int t = 0; t < 16; t++)
			w[t] = get_be32(p + 4 * t);
		for (int t = 16; t < 64; t++)
			w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];
		a = h[0], b = h[1], c = h[2], d = h[3];
		e = h[4], f = h[5], g = h[6], hh = h[7];
		for (int t = 0; t < 64; t++) {
			t1 = hh + BSIG1(e) + CH(e, f, g) + sha256__k[t] + w[t];
			t2 = BSIG0(a) + MAJ(a, b, c);
			hh = g, g = f, f = e, e = d + t1;
			d = c, c = b, b = a, a = t1 + t2;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d;
		h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
	}
}

static void pick(void)
{
	blocks_best = sha256__ni_usable() ? sha256__ni_blocks : block_portable;
	blocks = blocks_best;
}

void sha256_force_portable(bool on)
{
	pthread_once(&pick_once, pick);
	blocks = on ? block_portable : blocks_best;
}

const char *sha256_impl(void)
{
	pthread_once(&pick_once, pick);
	return blocks == block_portable ? "portable" : "sha-ni";
}

/* Every hash starts here, so this is where the one-time choice is made;
 * update and final may then read `blocks` without synchronising again. */
void sha256_init(struct bm_sha256 *c)
{
	pthread_once(&pick_once, pick);
	memcpy(c->h, sha256_iv, sizeof c->h);
	c->nbytes = 0;
	c->fill = 0;
}

/* Tops up a partial block first, then hashes whole blocks straight from
 * data without copying, and keeps the tail for later. */
void sha256_update(struct bm_sha256 *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (len == 0)
		return;
	c->nbytes += len;
	if (c->fill > 0) {
		size_t take = 64 - c->fill < len ? 64 - c->fill : len;

		memcpy(c->block + c->fill, p, take);
		c->fill += take;
		p += take;
		len -= take;
		if (c->fill < 64)
			return;
		blocks(c->h, c->block, 1);
		c->fill = 0;
	}
	if (len >= 64) {
		blocks(c->h, p, len / 64);
		p += len & ~(size_t)63;
		len &= 63;
	}
	memcpy(c->block, p, len);
	c->fill = len;
}

/* Padding per §5.1.1: 0x80, zeros, then the bit length in 64 bits.  The
 * context is cleared afterwards; sha256_init makes it usable again. */
void sha256_final(struct bm_sha256 *c, uint8_t out[32])
{
	uint64_t bits = c->nbytes * 8;

	c->block[c->fill++] = 0x80;
	if (c->fill > 56) {
		memset(c->block + c->fill, 0, 64 - c->fill);
		blocks(c->h, c->block, 1);
		c->fill = 0;
	}
	memset(c->block + c->fill, 0, 56 - c->fill);
	for (int i = 0; i < 8; i++)
		c->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	blocks(c->h, c->block, 1);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
	memset(c, 0, sizeof *c);
}

void sha256(const void *data, size_t len, uint8_t out[32])
{
	struct bm_sha256 c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}
