/*
 * fuzz_cursor.c - libFuzzer target for the sealed list cursors a client
 * sends back as `cursor=` (svc_cursor_make / svc_cursor_read).  The input
 * is read as: a list tag, an 8-byte id, a position and a byte to xor there,
 * then any text.  Properties:
 *   - a cursor sealed for (tag, id) reads back as id for that tag (id >= 0;
 *     a negative id is no page position and is refused), and is refused
 *     for every other tag;
 *   - the cursor with one byte changed, one byte cut off the end or one
 *     byte added is refused;
 *   - the free text is refused (the fuzzer cannot forge a seal), cleanly:
 *     BM_EUSAGE naming "cursor", and the id left 0.
 * The service runs over a fresh database made once in LLVMFuzzerInitialize
 * (its key is random, so no corpus entry is a valid cursor; the target
 * seals its own).
 */
#include "fuzz_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_svc_open("fuzz_cursor", 1767225600);
	return 0;
}

/* text must be refused for tag, cleanly. */
static void refused(char tag, const char *text)
{
	struct bm_err e = BM_ERR_INIT;
	int64_t id = 5;

	if (svc_cursor_read(svc, tag, text, &id, &e) != BM_EUSAGE || e.code != BM_EUSAGE ||
	    strcmp(e.field, "cursor") != 0 || id != 0)
		abort();
	bm_err_clear(&e);
}

/* Seals (tag, id) and checks the round trip and its near misses. */
static void sealed(char tag, int64_t id, size_t pos, unsigned char x)
{
	struct bm_err e = BM_ERR_INIT;
	char c[SVC_CURSOR_MAX], m[SVC_CURSOR_MAX + 1];
	size_t n;
	int64_t back = -1;

	svc_cursor_make(svc, tag, id, c);
	n = strlen(c);
	if (n == 0 || n >= SVC_CURSOR_MAX || strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
				       "nopqrstuvwxyz0123456789-_") != n)
		abort(); /* a cursor goes in a query string as it is */
	if (id < 0) {
		refused(tag, c);
	} else if (svc_cursor_read(svc, tag, c, &back, &e) != 0 || back != id) {
		abort();
	}
	refused((char)(tag ^ 1), c);
	memcpy(m, c, n + 1);
	if (x != 0) {
		m[pos % n] = (char)(m[pos % n] ^ x);
		if (m[pos % n] != '\0')
			refused(tag, m);
		m[pos % n] = c[pos % n];
	}
	m[n - 1] = '\0';
	refused(tag, m);
	m[n - 1] = c[n - 1];
	m[n] = x ? (char)x : 'A';
	m[n + 1] = '\0';
	refused(tag, m);
	bm_err_clear(&e);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	uint64_t u = 0;
	char *text;

	if (size < 11)
		return 0;
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)data[1 + i] << (8 * i);
	sealed((char)data[0], (int64_t)u, data[9], data[10]);
	text = malloc(size - 11 + 1);
	memcpy(text, data + 11, size - 11);
	text[size - 11] = '\0';
	refused((char)data[0], text);
	free(text);
	return 0;
}
