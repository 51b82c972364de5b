/*
 * bench_sha256.c - throughput of baomi's SHA-256 block functions (SHA-NI
 * and portable) against libsodium's crypto_hash_sha256 measured in the same
 * run, on 64 KiB and 250-byte messages.  One JSON object per line.
 */
#include "lib/crypto.h"

#include <sodium.h>

#include <stdio.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Hashes len-byte messages for about a second; returns MB/s (1e6 bytes). */
static double run(const char *impl, const uint8_t *data, size_t len)
{
	uint8_t out[32];
	size_t iters = 0, batch = (1u << 24) / len + 1;
	double t0 = now(), t;

	do {
		for (size_t i = 0; i < batch; i++) {
			if (impl == NULL)
				crypto_hash_sha256(out, data, len);
			else
				sha256(data, len, out);
		}
		iters += batch;
		t = now() - t0;
	} while (t < 1.0);
	return (double)iters * (double)len / t / 1e6;
}

int main(void)
{
	static uint8_t data[65536];
	const size_t sizes[] = {65536, 250};

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(data, sizeof data);
	for (int s = 0; s < 2; s++) {
		size_t len = sizes[s];
		double ni, port, ref;

		sha256_force_portable(false);
		ni = run(sha256_impl(), data, len);
		printf("{\"bench\":\"sha256\",\"impl\":\"%s\",\"size\":%zu,\"mb_s\":%.1f}\n",
		       sha256_impl(), len, ni);
		sha256_force_portable(true);
		port = run(sha256_impl(), data, len);
		printf("{\"bench\":\"sha256\",\"impl\":\"portable\",\"size\":%zu,\"mb_s\":%.1f}\n",
		       len, port);
		ref = run(NULL, data, len);
		printf("{\"bench\":\"sha256\",\"impl\":\"libsodium\",\"size\":%zu,\"mb_s\":%.1f}\n",
		       len, ref);
	}
	return 0;
}
