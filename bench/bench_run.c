/*
 * bench_run.c - runs one command and prints a JSON line with its wall time,
 * throughput and peak resident memory (from wait4's rusage, so it measures
 * the command alone, not this wrapper).
 *
 *   bench_run NAME ITEMS CMD [ARGS...]
 *   {"bench":"NAME","items":N,"seconds":S,"per_s":R,"peak_rss_mb":M,"exit":0}
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	double t0, t;
	long items;
	pid_t pid;
	int status;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_run NAME ITEMS CMD [ARGS...]\n");
		return 2;
	}
	items = atol(argv[2]);
	t0 = now();
	pid = fork();
	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
		perror("bench_run");
		return 1;
	}
	t = now() - t0;
	printf("{\"bench\":\"%s\",\"items\":%ld,\"seconds\":%.3f,\"per_s\":%.0f,"
	       "\"peak_rss_mb\":%.1f,\"exit\":%d}\n", argv[1], items, t, (double)items / t,
	       (double)ru.ru_maxrss / 1024.0, WIFEXITED(status) ? WEXITSTATUS(status) : 128);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
