/*
 * sha256_ni.c - the SHA-256 block function on the x86 SHA extensions.
 *
 * Compiled alone with -msha -msse4.1 so no other code is built for a CPU it
 * may not run on; sha256.c calls in here only after sha256__ni_usable()
 * said yes.  On other architectures the file reduces to a stub that says
 * no.  It must never hold state: the caller owns the hash words.
 *
 * SHA256RNDS2 performs two rounds on the state split as ABEF and CDGH
 * (A in the top lane), taking W[t]+K[t] for both rounds from the low half
 * of its third operand; SHA256MSG1/MSG2 compute the message schedule four
 * words at a time.
 */
#include "sha256_ni.h"

#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)

#include <cpuid.h>
#include <immintrin.h>

static inline __m128i load_be(const uint8_t *p);
static inline __m128i schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3);
static inline void rounds4(__m128i *abef, __m128i *cdgh, __m128i w, const uint32_t *k);
static void one_block(__m128i *abef, __m128i *cdgh, const uint8_t *p);

/* CPUID leaf 7 EBX bit 29 is SHA; leaf 1 ECX bits 9 and 19 are SSSE3 and
 * SSE4.1 (pshufb, palignr, pblendw).  These use only XMM state, which every
 * x86-64 OS saves, so no XGETBV check is needed. */
bool sha256__ni_usable(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return false;
	if (!(c & (1u << 9)) || !(c & (1u << 19)))
		return false;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return (b & (1u << 29)) != 0;
}

/* Four big-endian message words, W[i] in lane i. */
static inline __m128i load_be(const uint8_t *p)
{
	const __m128i swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);

	return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), swap);
}

/* W[t..t+3] from W[t-16..t-13] (w0), W[t-12..] (w1), W[t-8..] (w2) and
 * W[t-4..t-1] (w3): MSG1 adds sigma0, the alignr supplies W[t-7..t-4],
 * MSG2 adds sigma1 (using the words it has just produced for t+2, t+3). */
static inline __m128i schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3)
{
	__m128i x = _mm_sha256msg1_epu32(w0, w1);

	x = _mm_add_epi32(x, _mm_alignr_epi8(w3, w2, 4));
	return _mm_sha256msg2_epu32(x, w3);
}

/* Four rounds; each RNDS2 leaves the new ABEF where CDGH was, so the two
 * registers swap roles and are back in place after the second. */
static inline void rounds4(__m128i *abef, __m128i *cdgh, __m128i w, const uint32_t *k)
{
	__m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)(const void *)k));

	*cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
	*abef = _mm_sha256rnds2_epu32(*abef, *cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

static void one_block(__m128i *abef, __m128i *cdgh, const uint8_t *p)
{
	__m128i save_abef = *abef, save_cdgh = *cdgh;
	__m128i w[4];

	for (int i = 0; i < 4; i++) {
		w[i] = load_be(p + 16 * i);
		rounds4(abef, cdgh, w[i], sha256__k + 4 * i);
	}
#pragma GCC unroll 12
	for (int i = 4; i < 16; i++) {
		w[i & 3] = schedule(w[i & 3], w[(i + 1) & 3], w[(i + 2) & 3], w[(i + 3) & 3]);
		rounds4(abef, cdgh, w[i & 3], sha256__k + 4 * i);
	}
	*abef = _mm_add_epi32(*abef, save_abef);
	*cdgh = _mm_add_epi32(*cdgh, save_cdgh);
}

/* h[0..7] = A..H is reshuffled into ABEF/CDGH once per call, not per block. */
void sha256__ni_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	__m128i abcd = _mm_loadu_si128((const __m128i *)(void *)h);
	__m128i efgh = _mm_loadu_si128((const __m128i *)(void *)(h + 4));
	__m128i badc = _mm_shuffle_epi32(abcd, 0xB1);
	__m128i hgfe = _mm_shuffle_epi32(efgh, 0x1B);
	__m128i abef = _mm_alignr_epi8(badc, hgfe, 8);
	__m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xF0);

	__m128i abef_up, ghcd;

	for (; nblocks > 0; nblocks--, p += 64)
		one_block(&abef, &cdgh, p);
	abef_up = _mm_shuffle_epi32(abef, 0x1B); /* lanes A B E F */
	ghcd = _mm_shuffle_epi32(cdgh, 0xB1);    /* lanes G H C D */
	_mm_storeu_si128((__m128i *)(void *)h, _mm_blend_epi16(abef_up, ghcd, 0xF0));
	_mm_storeu_si128((__m128i *)(void *)(h + 4), _mm_alignr_epi8(ghcd, abef_up, 8));
}

#else

bool sha256__ni_usable(void)
{
	return false;
}

/* Unreachable: sha256.c never picks this when usable() is false. */
void sha256__ni_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	(void)h;
	(void)p;
	(void)nblocks;
	abort();
}

#endif
