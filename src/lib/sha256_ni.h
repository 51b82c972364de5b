/*
 * sha256_ni.h - internal to the sha256 module: the block function built
 * with the x86 SHA extensions (sha256_ni.c, compiled with -msha -msse4.1)
 * and the round constants both block functions share.  Not for other callers.
 */
#ifndef BM_SHA256_NI_H
#define BM_SHA256_NI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The 64 round constants of FIPS 180-4 §4.2.2 (defined in sha256.c). */
extern const uint32_t sha256__k[64];

/* True when this CPU has SHA, SSSE3 and SSE4.1; always false off x86. */
bool sha256__ni_usable(void);
/* Compresses nblocks 64-byte blocks at p into h; only when usable. */
void sha256__ni_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks);

#endif
