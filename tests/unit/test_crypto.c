/*
 * test_crypto.c - key file handling, sealing, blind index and signatures as
 * a caller sees them: what opens, what is refused and with which message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/crypto.h"

#include <sodium.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static int seq;

/* A fresh path in the test directory (not created). */
static const char *fresh_path(char *out, size_t cap)
{
	snprintf(out, cap, "%s/k%d.key", dir, seq++);
	return out;
}

static void new_keyfile(char *path, size_t cap)
{
	struct bm_err e = BM_ERR_INIT;

	fresh_path(path, cap);
	assert_int_equal(crypto_keyfile_create(path, &e), 0);
}

static struct bm_keys *load_ok(const char *path)
{
	struct bm_err e = BM_ERR_INIT;
	struct bm_keys *k = NULL;
	int rc = crypto_keyfile_load(path, &k, &e);

	if (rc != 0)
		fail_msg("load %s: %s", path, e.msg);
	assert_non_null(k);
	return k;
}

static size_t slurp(const char *path, uint8_t *out, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, out, cap);
	close(fd);
	assert_true(n >= 0);
	return (size_t)n;
}

static void spill(const char *path, const uint8_t *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* Loads path expecting code, and that the message contains want. */
static void load_fails(const char *path, int code, const char *want)
{
	struct bm_err e = BM_ERR_INIT;
	struct bm_keys *k = (struct bm_keys *)&e;

	assert_int_equal(crypto_keyfile_load(path, &k, &e), code);
	assert_null(k);
	if (strstr(e.msg, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
	if (strstr(e.msg, path) == NULL)
		fail_msg("message \"%s\" does not name %s", e.msg, path);
}

static int group_setup(void **state)
{
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/bm_test_crypto.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	return crypto_init(&e);
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_init_idempotent(void **state)
{
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	assert_int_equal(crypto_init(&e), 0);
	assert_int_equal(crypto_init(&e), 0);
}

static void test_seal_roundtrip_unicode(void **state)
{
	const char *pt = "110105199001011234 张三 Zoë ∑ 😀";
	struct buf ct = BUF_INIT, ct2 = BUF_INIT, out = BUF_INIT;
	struct bm_err e = BM_ERR_INIT;
	char path[128];
	struct bm_keys *k;

	(void)state;
	new_keyfile(path, sizeof path);
	k = load_ok(path);
	crypto_seal(k, "persons", "national_id", "42", pt, strlen(pt), &ct);
	assert_int_equal(ct.len, strlen(pt) + 40);
	for (size_t i = 0; i + 6 <= ct.len; i++)
		assert_memory_not_equal(ct.p + i, "张三", 6);
	assert_int_equal(crypto_open(k, "persons", "national_id", "42", ct.p, ct.len, &out, &e), 0);
	assert_int_equal(out.len, strlen(pt));
	assert_string_equal(out.p, pt);
	/* A random nonce: sealing twice gives two different ciphertexts. */
	crypto_seal(k, "persons", "national_id", "42", pt, strlen(pt), &ct2);
	assert_int_equal(ct2.len, ct.len);
	assert_memory_not_equal(ct.p, ct2.p, ct.len);
	buf_free(&ct);
	buf_free(&ct2);
	buf_free(&out);
	crypto_keys_free(k);
}

static void test_seal_empty_and_binary(void **state)
{
	const uint8_t bin[5] = {0, 0xff, 0, 0x80, 0};
	struct buf ct = BUF_INIT, out = BUF_INIT;
	struct bm_err e = BM_ERR_INIT;
	char path[128];
	struct bm_keys *k;

	(void)state;
	new_keyfile(path, sizeof path);
	k = load_ok(path);
	crypto_seal(k, "t", "c", "r", NULL, 0, &ct);
	assert_int_equal(ct.len, 40);
	assert_int_equal(crypto_open(k, "t", "c", "r", ct.p, ct.len, &out, &e), 0);
	assert_int_equal(out.len, 0);
	assert_string_equal(buf_cstr(&out), "");
	buf_reset(&ct);
	crypto_seal(k, "t", "c", "r", bin, sizeof bin, &ct);
	assert_int_equal(crypto_open(k, "t", "c", "r", ct.p, ct.len, &out, &e), 0);
	assert_int_equal(out.len, sizeof bin);
	assert_memory_equal(out.p, bin, sizeof bin);
	/* A 1 MiB value round-trips too. */
	{
		size_t n = 1 << 20;
		char *big = malloc(n);

		assert_non_null(big);
		crypto_random(big, n);
		buf_reset(&ct);
		buf_reset(&out);
		crypto_seal(k, "t", "c", "r", big, n, &ct);
		assert_int_equal(ct.len, n + 40);
		assert_int_equal(crypto_open(k, "t", "c", "r", ct.p, ct.len, &out, &e), 0);
		assert_int_equal(out.len, n);
		assert_memory_equal(out.p, big, n);
		free(big);
	}
	buf_free(&ct);
	buf_free(&out);
	crypto_keys_free(k);
}

/* Opens ct under the given binding, expecting a refusal that names the
 * column and row and leaves out untouched. */
static void open_refused(const struct bm_keys *k, const char *t, const char *c,
			 const char *r, const struct buf *ct)
{
	struct buf out = BUF_INIT;
	struct bm_err e = BM_ERR_INIT;
	char want[128];

	buf_puts(&out, "keep");
	assert_int_equal(crypto_open(k, t, c, r, ct->p, ct->len, &out, &e), BM_ECRYPTO);
	assert_string_equal(out.p, "keep");
	snprintf(want, sizeof want, "%s of row %s", c, r);
	if (strstr(e.msg, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
	buf_free(&out);
}

static void test_open_refuses_other_binding(void **state)
{
	struct buf ct = BUF_INIT;
	char path[128];
	struct bm_keys *k;

	(void)state;
	new_keyfile(path, sizeof path);
	k = load_ok(path);
	crypto_seal(k, "persons", "national_id", "7", "secret", 6, &ct);
	open_refused(k, "persons", "national_id", "8", &ct);
	open_refused(k, "persons", "national_id", "70", &ct);
	open_refused(k, "persons", "passport", "7", &ct);
	open_refused(k, "people", "national_id", "7", &ct);
	/* Moving bytes between the parts must not give the same binding. */
	open_refused(k, "persons", "national_i", "d7", &ct);
	buf_free(&ct);
	crypto_keys_free(k);
}

static void test_open_refuses_flipped_byte(void **state)
{
	struct buf ct = BUF_INIT;
	char path[128];
	struct bm_keys *k;

	(void)state;
	new_keyfile(path, sizeof path);
	k = load_ok(path);
	crypto_seal(k, "persons", "national_id", "X", "110105199001011234", 18, &ct);
	for (size_t i = 0; i < ct.len; i++) {
		ct.p[i] ^= 0x01;
		open_refused(k, "persons", "national_id", "X", &ct);
		ct.p[i] ^= 0x01;
	}
	/* Truncated to less than nonce + tag, and by one byte. */
	ct.len = 39;
	open_refused(k, "persons", "national_id", "X", &ct);
	ct.len = 0;
	open_refused(k, "persons", "national_id", "X", &ct);
	buf_free(&ct);
	crypto_keys_free(k);
}

static void test_open_refuses_other_keyfile(void **state)
{
	struct buf ct = BUF_INIT;
	char p1[128], p2[128], f1[65], f2[65];
	struct bm_keys *k1, *k2;

	(void)state;
	new_keyfile(p1, sizeof p1);
	new_keyfile(p2, sizeof p2);
	k1 = load_ok(p1);
	k2 = load_ok(p2);
	crypto_seal(k1, "persons", "national_id", "1", "abc", 3, &ct);
	open_refused(k2, "persons", "national_id", "1", &ct);
	crypto_keys_fingerprint(k1, f1);
	crypto_keys_fingerprint(k2, f2);
	assert_int_equal(strlen(f1), 64);
	assert_int_equal(strspn(f1, "0123456789abcdef"), 64);
	assert_string_not_equal(f1, f2);
	buf_free(&ct);
	crypto_keys_free(k1);
	crypto_keys_free(k2);
}

static void test_fingerprint_stable_and_not_a_key(void **state)
{
	char path[128], f1[65], f2[65];
	uint8_t file[256];
	struct bm_keys *k;
	size_t n;

	(void)state;
	new_keyfile(path, sizeof path);
	k = load_ok(path);
	crypto_keys_fingerprint(k, f1);
	crypto_keys_free(k);
	k = load_ok(path);
	crypto_keys_fingerprint(k, f2);
	crypto_keys_free(k);
	assert_string_equal(f1, f2);
	/* The fingerprint is not any 32-byte window of the file in hex. */
	n = slurp(path, file, sizeof file);
	assert_int_equal(n, 172);
	for (size_t i = 0; i + 32 <= n; i++) {
		char hex[65];

		hex_encode(file + i, 32, hex);
		assert_string_not_equal(hex, f1);
	}
}

static void test_keyfile_created_0600(void **state)
{
	char path[128];
	struct stat st;
	uint8_t file[256];

	(void)state;
	new_keyfile(path, sizeof path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(slurp(path, file, sizeof file), 172);
	assert_memory_equal(file, "BAOMIKEY", 8);
}

static void test_keyfile_create_refuses_existing(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	char path[128], before[65], after[65];
	struct bm_keys *k;

	(void)state;
	new_keyfile(path, sizeof path);
	k = load_ok(path);
	crypto_keys_fingerprint(k, before);
	crypto_keys_free(k);
	assert_int_equal(crypto_keyfile_create(path, &e), BM_EEXIST);
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, "exists"));
	k = load_ok(path);
	crypto_keys_fingerprint(k, after);
	crypto_keys_free(k);
	assert_string_equal(before, after);
	/* A directory that does not exist is an I/O error, not a crash. */
	bm_err_clear(&e);
	snprintf(path, sizeof path, "%s/no/such/dir/k.key", dir);
	assert_int_equal(crypto_keyfile_create(path, &e), BM_EIO);
	assert_non_null(strstr(e.msg, path));
}

static void test_load_missing(void **state)
{
	char path[128], want[160];

	(void)state;
	fresh_path(path, sizeof path);
	snprintf(want, sizeof want, "key file %s not found", path);
	load_fails(path, BM_ENOINPUT, want);
}

static void test_load_truncated_and_long(void **state)
{
	char path[128], bad[128];
	uint8_t file[256];
	size_t n;

	(void)state;
	new_keyfile(path, sizeof path);
	n = slurp(path, file, sizeof file);
	fresh_path(bad, sizeof bad);
	spill(bad, file, n - 1, 0600);
	load_fails(bad, BM_ECRYPTO, "truncated (171 bytes, expected 172)");
	spill(bad, file, 20, 0600);
	load_fails(bad, BM_ECRYPTO, "truncated");
	spill(bad, file, 0, 0600);
	load_fails(bad, BM_ECRYPTO, "bad magic");
	file[n] = 0;
	spill(bad, file, n + 1, 0600);
	load_fails(bad, BM_ECRYPTO, "too long");
}

static void test_load_flipped_byte_anywhere(void **state)
{
	char path[128], bad[128];
	uint8_t file[256];
	size_t n;

	(void)state;
	new_keyfile(path, sizeof path);
	n = slurp(path, file, sizeof file);
	fresh_path(bad, sizeof bad);
	for (size_t i = 0; i < n; i++) {
		file[i] ^= 0x20;
		spill(bad, file, n, 0600);
		load_fails(bad, BM_ECRYPTO, "key file");
		file[i] ^= 0x20;
	}
	file[100] ^= 0x80;
	spill(bad, file, n, 0600);
	load_fails(bad, BM_ECRYPTO, "damaged (checksum mismatch)");
}

static void test_load_wrong_magic_and_version(void **state)
{
	char path[128], bad[128];
	uint8_t file[256];
	size_t n;

	(void)state;
	new_keyfile(path, sizeof path);
	n = slurp(path, file, sizeof file);
	fresh_path(bad, sizeof bad);
	memcpy(file, "BAOMIKEZ", 8);
	spill(bad, file, n, 0600);
	load_fails(bad, BM_ECRYPTO, "not a baomi key file (bad magic)");
	memcpy(file, "BAOMIKEY", 8);
	file[11] = 2;
	spill(bad, file, n, 0600);
	load_fails(bad, BM_ECRYPTO, "format version 2");
	spill(bad, (const uint8_t *)"-----BEGIN PRIVATE KEY-----\n", 28, 0600);
	load_fails(bad, BM_ECRYPTO, "bad magic");
}

static void test_load_refuses_open_modes(void **state)
{
	char path[128], want[200];

	(void)state;
	new_keyfile(path, sizeof path);
	assert_int_equal(chmod(path, 0644), 0);
	snprintf(want, sizeof want, "key file %s is readable by others (mode 0644); chmod 600 it",
		 path);
	load_fails(path, BM_ECRYPTO, want);
	assert_int_equal(chmod(path, 0640), 0);
	load_fails(path, BM_ECRYPTO, "(mode 0640)");
	assert_int_equal(chmod(path, 0602), 0);
	load_fails(path, BM_ECRYPTO, "(mode 0602)");
	assert_int_equal(chmod(path, 0400), 0);
	crypto_keys_free(load_ok(path));
	load_fails(dir, BM_ECRYPTO, "not a regular file");
}

static void test_blind_index(void **state)
{
	uint8_t a[32], b[32], c[32], d[32], x[32], y[32];
	char p1[128], p2[128];
	struct bm_keys *k1, *k2;

	(void)state;
	new_keyfile(p1, sizeof p1);
	new_keyfile(p2, sizeof p2);
	k1 = load_ok(p1);
	k2 = load_ok(p2);
	crypto_blind_index(k1, "national_id", "110105199001011234", 18, a);
	crypto_blind_index(k1, "national_id", "110105199001011234", 18, b);
	assert_memory_equal(a, b, 32);
	crypto_blind_index(k1, "passport", "110105199001011234", 18, c);
	assert_memory_not_equal(a, c, 32);
	crypto_blind_index(k1, "national_id", "110105199001011235", 18, d);
	assert_memory_not_equal(a, d, 32);
	crypto_blind_index(k2, "national_id", "110105199001011234", 18, d);
	assert_memory_not_equal(a, d, 32);
	crypto_blind_index(k1, "ab", "c", 1, x);
	crypto_blind_index(k1, "a", "bc", 2, y);
	assert_memory_not_equal(x, y, 32);
	crypto_keys_free(k1);
	/* Stable across reloads of the same key file. */
	k1 = load_ok(p1);
	crypto_blind_index(k1, "national_id", "110105199001011234", 18, b);
	assert_memory_equal(a, b, 32);
	crypto_keys_free(k1);
	crypto_keys_free(k2);
}

static void test_signature_verifies(void **state)
{
	const char *msg = "{\"record\":\"commitment\",\"person\":\"E1001\"}";
	uint8_t sig[64], pk[32], pk2[32];
	char path[128];
	struct bm_keys *k;

	(void)state;
	new_keyfile(path, sizeof path);
	k = load_ok(path);
	crypto_keys_sign(k, msg, strlen(msg), sig);
	crypto_sign_pk(k, pk);
	assert_int_equal(crypto_sign_verify_detached(sig, (const uint8_t *)msg, strlen(msg), pk), 0);
	assert_int_not_equal(
		crypto_sign_verify_detached(sig, (const uint8_t *)msg, strlen(msg) - 1, pk), 0);
	sig[10] ^= 1;
	assert_int_not_equal(crypto_sign_verify_detached(sig, (const uint8_t *)msg, strlen(msg), pk),
			     0);
	crypto_keys_free(k);
	/* The public key is the file's: it survives a reload. */
	k = load_ok(path);
	crypto_sign_pk(k, pk2);
	assert_memory_equal(pk, pk2, 32);
	crypto_keys_free(k);
}

static void test_hex(void **state)
{
	const uint8_t in[4] = {0x00, 0xab, 0x7f, 0xff};
	uint8_t out[4];
	char hex[9];

	(void)state;
	hex_encode(in, sizeof in, hex);
	assert_string_equal(hex, "00ab7fff");
	assert_int_equal(hex_decode(hex, out, 4), 0);
	assert_memory_equal(in, out, 4);
	assert_int_equal(hex_decode("00AB7FFF", out, 4), 0);
	assert_memory_equal(in, out, 4);
	assert_int_equal(hex_decode("00ab7ff", out, 4), -1);
	assert_int_equal(hex_decode("00ab7fgf", out, 4), -1);
	assert_int_equal(hex_decode("00 b7fff", out, 4), -1);
	assert_int_equal(hex_decode("", out, 1), -1);
	assert_int_equal(hex_decode("", out, 0), 0);
	hex_encode(in, 0, hex);
	assert_string_equal(hex, "");
}

static void test_random(void **state)
{
	uint8_t a[32] = {0}, b[32] = {0}, zero[32] = {0};

	(void)state;
	crypto_random(a, sizeof a);
	crypto_random(b, sizeof b);
	assert_memory_not_equal(a, b, 32);
	assert_memory_not_equal(a, zero, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_idempotent),
		cmocka_unit_test(test_seal_roundtrip_unicode),
		cmocka_unit_test(test_seal_empty_and_binary),
		cmocka_unit_test(test_open_refuses_other_binding),
		cmocka_unit_test(test_open_refuses_flipped_byte),
		cmocka_unit_test(test_open_refuses_other_keyfile),
		cmocka_unit_test(test_fingerprint_stable_and_not_a_key),
		cmocka_unit_test(test_keyfile_created_0600),
		cmocka_unit_test(test_keyfile_create_refuses_existing),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_truncated_and_long),
		cmocka_unit_test(test_load_flipped_byte_anywhere),
		cmocka_unit_test(test_load_wrong_magic_and_version),
		cmocka_unit_test(test_load_refuses_open_modes),
		cmocka_unit_test(test_blind_index),
		cmocka_unit_test(test_signature_verifies),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
