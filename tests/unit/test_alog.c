/*
 * test_alog.c - the batched log writer: nothing lost, split or reordered
 * under concurrent writers; a full buffer written at once; a lone line
 * written by the timer; a broken descriptor survived.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http/alog.h"

#define WRITERS 4
#define LINES 20000

struct tmpfile {
	char path[64];
	int fd;
};

static void tmp_open(struct tmpfile *t)
{
	snprintf(t->path, sizeof t->path, "/tmp/test_alog_XXXXXX");
	t->fd = mkstemp(t->path);
	assert_true(t->fd >= 0);
}

static void tmp_close(struct tmpfile *t)
{
	close(t->fd);
	unlink(t->path);
}

static off_t fsize(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_size;
}

struct writer {
	struct alog *log;
	int id;
};

/* Each line names its writer and its number, padded so lines differ in
 * length and batches end at varying places. */
static void *write_lines(void *arg)
{
	struct writer *w = arg;
	char line[96];

	for (int i = 0; i < LINES; i++) {
		int n = snprintf(line, sizeof line, "{\"w\":%d,\"n\":%d,\"pad\":\"%.*s\"}\n", w->id,
				 i, i % 37, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");

		alog_put(w->log, line, (size_t)n);
	}
	return NULL;
}

static void test_concurrent_lines_complete_and_ordered(void **state)
{
	struct tmpfile t;
	struct alog *log;
	pthread_t th[WRITERS];
	struct writer w[WRITERS];
	int next[WRITERS] = {0}, id, n, lines = 0;
	char line[128];
	FILE *f;

	(void)state;
	tmp_open(&t);
	log = alog_open(t.fd);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){log, i};
		assert_int_equal(pthread_create(&th[i], NULL, write_lines, &w[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);
	alog_close(log);
	f = fopen(t.path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		assert_int_equal(sscanf(line, "{\"w\":%d,\"n\":%d,", &id, &n), 2);
		assert_true(id >= 0 && id < WRITERS);
		assert_int_equal(n, next[id]);   /* each writer's lines in its order */
		assert_non_null(strstr(line, "\"}\n"));
		next[id]++;
		lines++;
	}
	fclose(f);
	assert_int_equal(lines, WRITERS * LINES);
	tmp_close(&t);
}

static void test_full_buffer_written_at_once(void **state)
{
	struct tmpfile t;
	struct alog *log;
	char *big = malloc(ALOG_FLUSH_BYTES + 1);

	(void)state;
	tmp_open(&t);
	log = alog_open(t.fd);
	alog_put(log, "first\n", 6);
	memset(big, 'b', ALOG_FLUSH_BYTES);
	big[ALOG_FLUSH_BYTES] = '\n';
	alog_put(log, big, ALOG_FLUSH_BYTES + 1);
	assert_int_equal(fsize(t.fd), 6 + ALOG_FLUSH_BYTES + 1);  /* no timer needed */
	alog_close(log);
	assert_int_equal(fsize(t.fd), 6 + ALOG_FLUSH_BYTES + 1);
	free(big);
	tmp_close(&t);
}

static void test_lone_line_written_by_timer(void **state)
{
	struct tmpfile t;
	struct alog *log;
	struct timespec nap = {0, 10 * 1000000};
	int waited_ms = 0;
	char got[16] = "";

	(void)state;
	tmp_open(&t);
	log = alog_open(t.fd);
	alog_put(log, "lonely\n", 7);
	while (fsize(t.fd) == 0 && waited_ms < 5 * ALOG_FLUSH_MS) {
		nanosleep(&nap, NULL);
		waited_ms += 10;
	}
	assert_int_equal(pread(t.fd, got, sizeof got - 1, 0), 7);
	assert_string_equal(got, "lonely\n");
	alog_close(log);
	assert_int_equal(fsize(t.fd), 7);            /* not written twice */
	tmp_close(&t);
}

static void test_flush_and_broken_descriptor(void **state)
{
	struct tmpfile t;
	struct alog *log;
	int fds[2];

	(void)state;
	tmp_open(&t);
	log = alog_open(t.fd);
	alog_put(log, "a\nb\n", 4);
	alog_flush(log);
	assert_int_equal(fsize(t.fd), 4);
	alog_flush(log);                             /* nothing new: no write */
	assert_int_equal(fsize(t.fd), 4);
	alog_close(log);
	alog_close(NULL);
	tmp_close(&t);

	/* A descriptor that refuses writes: lines are dropped, nothing hangs. */
	assert_int_equal(pipe(fds), 0);
	close(fds[1]);
	log = alog_open(fds[0]);
	for (int i = 0; i < 3 * ALOG_FLUSH_BYTES / 8; i++)
		alog_put(log, "dropped\n", 8);
	alog_close(log);
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_lines_complete_and_ordered),
		cmocka_unit_test(test_full_buffer_written_at_once),
		cmocka_unit_test(test_lone_line_written_by_timer),
		cmocka_unit_test(test_flush_and_broken_descriptor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
