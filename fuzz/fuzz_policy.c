/*
 * fuzz_policy.c - libFuzzer target for policy documents: any bytes are
 * either refused with at least one named problem or accepted, and an
 * accepted policy renders to a document that parses back to the same policy.
 */
#include "core/policy.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct bm_err e = BM_ERR_INIT;
	struct policy p, q;
	struct buf b = BUF_INIT;

	if (policy_from_json((const char *)data, size, &p, &e) != 0) {
		if (e.msg[0] == '\0')
			abort();
	} else {
		policy_to_json(&p, &b);
		bm_err_clear(&e);
		if (policy_from_json(b.p, b.len, &q, &e) != 0 || !policy_equal(&p, &q))
			abort();
	}
	buf_free(&b);
	bm_err_clear(&e);
	return 0;
}
