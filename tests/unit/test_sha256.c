/*
 * test_sha256.c - SHA-256 against the FIPS 180-4 examples and against
 * libsodium, for both block functions (the one picked for this CPU and the
 * forced portable one), one-shot and in arbitrary pieces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/crypto.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *hex32(const uint8_t d[32], char out[65])
{
	hex_encode(d, 32, out);
	return out;
}

static void expect_digest(const char *msg, size_t len, const char *want)
{
	uint8_t d[32];
	char hex[65];

	sha256(msg, len, d);
	assert_string_equal(hex32(d, hex), want);
}

/* Runs fn once with the picked block function and once forced portable. */
static void both(void (*fn)(void))
{
	sha256_force_portable(false);
	fn();
	sha256_force_portable(true);
	assert_string_equal(sha256_impl(), "portable");
	fn();
	sha256_force_portable(false);
}

static void fips_short(void)
{
	expect_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	expect_digest("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklm"
		      "nopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112,
		      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_fips_vectors(void **state)
{
	(void)state;
	both(fips_short);
}

/* One million 'a', fed in pieces of 1, 63, 64, 65 and 1000 bytes. */
static void fips_million(void)
{
	static const size_t pieces[] = {1000, 1, 63, 64, 65, 999};
	char *a = malloc(1000000);
	size_t done = 0, i = 0;
	struct bm_sha256 c;
	uint8_t d[32];
	char hex[65];

	assert_non_null(a);
	memset(a, 'a', 1000000);
	expect_digest(a, 1000000,
		      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	sha256_init(&c);
	while (done < 1000000) {
		size_t n = pieces[i++ % 6];

		n = n < 1000000 - done ? n : 1000000 - done;
		sha256_update(&c, a + done, n);
		done += n;
	}
	sha256_final(&c, d);
	assert_string_equal(hex32(d, hex),
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

static void test_fips_million_a(void **state)
{
	(void)state;
	both(fips_million);
}

/* Every length 0..1000 at an odd address, against libsodium. */
static void against_sodium_oneshot(void)
{
	static uint8_t data[1001 + 1];
	uint8_t mine[32], ref[32];

	randombytes_buf(data, sizeof data);
	for (size_t len = 0; len <= 1000; len++) {
		sha256(data + 1, len, mine);
		crypto_hash_sha256(ref, data + 1, len);
		if (memcmp(mine, ref, 32) != 0)
			fail_msg("%s differs from libsodium at length %zu", sha256_impl(), len);
	}
}

static void test_against_sodium(void **state)
{
	(void)state;
	both(against_sodium_oneshot);
}

/* Random lengths cut into random pieces (including empty ones). */
static void against_sodium_split(void)
{
	static uint8_t data[1000];
	uint8_t mine[32], ref[32];
	struct bm_sha256 c;

	for (int round = 0; round < 2000; round++) {
		size_t len = randombytes_uniform(1001), at = 0;

		randombytes_buf(data, len);
		sha256_init(&c);
		while (at < len) {
			size_t n = randombytes_uniform((uint32_t)(len - at + 1));

			sha256_update(&c, data + at, n);
			at += n;
		}
		sha256_update(&c, NULL, 0);
		sha256_final(&c, mine);
		crypto_hash_sha256(ref, data, len);
		if (memcmp(mine, ref, 32) != 0)
			fail_msg("%s split hashing differs at length %zu", sha256_impl(), len);
	}
}

static void test_split_updates(void **state)
{
	(void)state;
	both(against_sodium_split);
}

/* Padding edge cases: lengths around the 55/56/64-byte boundaries and a
 * context reused after final. */
static void boundaries(void)
{
	uint8_t data[200], mine[32], ref[32];
	struct bm_sha256 c;

	memset(data, 0x5a, sizeof data);
	for (size_t len = 50; len < 200; len++) {
		sha256_init(&c);
		sha256_update(&c, data, len / 2);
		sha256_update(&c, data + len / 2, len - len / 2);
		sha256_final(&c, mine);
		crypto_hash_sha256(ref, data, len);
		assert_memory_equal(mine, ref, 32);
	}
}

static void test_boundaries(void **state)
{
	(void)state;
	both(boundaries);
}

/* The two block functions agree with each other on many blocks at once. */
static void test_impls_agree_bulk(void **state)
{
	size_t n = 1 << 20;
	uint8_t *data = malloc(n + 3), a[32], b[32];

	(void)state;
	assert_non_null(data);
	randombytes_buf(data, n + 3);
	sha256_force_portable(true);
	sha256(data + 3, n, a);
	sha256_force_portable(false);
	sha256(data + 3, n, b);
	assert_memory_equal(a, b, 32);
	free(data);
}

/* On a CPU that advertises SHA-NI the fast path must actually be taken. */
static void test_picks_sha_ni_when_present(void **state)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool has = false;

	(void)state;
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "flags", 5) == 0 && strstr(line, " sha_ni") != NULL)
			has = true;
	if (f != NULL)
		fclose(f);
	sha256_force_portable(false);
	fprintf(stderr, "# cpu has sha_ni: %s; picked: %s\n", has ? "yes" : "no", sha256_impl());
	if (has)
		assert_string_equal(sha256_impl(), "sha-ni");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_vectors),
		cmocka_unit_test(test_fips_million_a),
		cmocka_unit_test(test_against_sodium),
		cmocka_unit_test(test_split_updates),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_impls_agree_bulk),
		cmocka_unit_test(test_picks_sha_ni_when_present),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
