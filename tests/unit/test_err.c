/* lib/err: an error wrapped in its own message keeps the message, and
 * field and message are always valid UTF-8 within their buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/err.h"
#include "lib/utf8.h"

/* "context: %s" with e->msg as the argument: vsnprintf wrote into the
 * buffer it was reading, and the stored-policy error printed its prefix
 * twice and lost the reason. */
static void test_wrap_own_message(void **state)
{
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	bm_errf(&e, BM_EINVAL, "gates", "policy has 1 error");
	bm_errf(&e, BM_ESCHEMA, e.field, "stored policy version %d is damaged: %s", 3, e.msg);
	assert_string_equal(e.msg, "stored policy version 3 is damaged: policy has 1 error");
	assert_string_equal(e.field, "gates");
	assert_int_equal(e.code, BM_ESCHEMA);
	bm_errlf(&e, BM_EINVAL, 7, "x", "line %d: %s", 7, e.msg);
	assert_string_equal(e.msg, "line 7: stored policy version 3 is damaged: policy has 1 error");
	assert_int_equal(e.line, 7);
	bm_err_clear(&e);
}

/* A message longer than the buffer is cut, and a character cut in two is
 * mended to '?': what is left is valid UTF-8, wrapped again or not. */
static void test_long_message_cut_whole(void **state)
{
	struct bm_err e = BM_ERR_INIT;
	char big[2 * sizeof e.msg];

	(void)state;
	for (size_t i = 0; i + 3 < sizeof big; i += 3)
		memcpy(big + i, "\xe4\xb8\xad", 3);         /* 中 */
	big[sizeof big - 1 - (sizeof big - 1) % 3] = '\0';
	bm_errf(&e, BM_EINVAL, NULL, "%s", big);
	assert_true(strlen(e.msg) < sizeof e.msg);
	assert_true(utf8_valid(e.msg, strlen(e.msg), NULL));
	assert_memory_equal(e.msg, "\xe4\xb8\xad", 3);
	assert_string_equal(e.field, "");
	bm_errf(&e, BM_EINVAL, NULL, "again: %s", e.msg);   /* wrapping a full one */
	assert_memory_equal(e.msg, "again: \xe4\xb8\xad", 10);
	assert_true(utf8_valid(e.msg, strlen(e.msg), NULL));
	bm_err_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrap_own_message),
		cmocka_unit_test(test_long_message_cut_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
