/*
 * test_bgthread.c - the background thread helper: a sleep ends at its
 * deadline, a stop request wakes a long sleep at once, the thread runs
 * with signals blocked, and finish joins it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "lib/bgthread.h"

struct probe {
	struct bgthread bg;
	atomic_int steps;
	atomic_bool sigterm_blocked;
	int64_t stopped_after_ms;
};

/* Steps every 10 ms; then one long sleep that only a stop can end. */
static void *run(void *arg)
{
	struct probe *p = arg;
	sigset_t cur;
	int64_t t0;

	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	atomic_store(&p->sigterm_blocked, sigismember(&cur, SIGTERM) == 1);
	while (atomic_load(&p->steps) < 3) {
		assert_false(bg_sleep(&p->bg, 10));
		atomic_fetch_add(&p->steps, 1);
	}
	t0 = bg_mono_ms();
	if (bg_sleep(&p->bg, 60 * 1000))
		p->stopped_after_ms = bg_mono_ms() - t0;
	return NULL;
}

static void test_sleep_and_stop(void **state)
{
	struct probe p = {.stopped_after_ms = -1};
	int64_t t0 = bg_mono_ms();

	(void)state;
	assert_true(bg_start(&p.bg, run, &p));
	while (atomic_load(&p.steps) < 3)
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	assert_true(bg_mono_ms() - t0 >= 30);        /* three 10 ms sleeps */
	bg_finish(&p.bg);                            /* wakes the 60 s sleep */
	assert_true(p.stopped_after_ms >= 0 && p.stopped_after_ms < 5000);
	assert_true(bg_mono_ms() - t0 < 5000);
	assert_true(atomic_load(&p.sigterm_blocked));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleep_and_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
