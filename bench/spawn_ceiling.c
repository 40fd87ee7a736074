/* spawn_ceiling.c - the reference for the run benchmarks: a plain
 * posix_spawn loop of a command, nothing else (bench/README.md).
 *
 *   spawn_ceiling latency N -- CMD...   N spawns one after the other; prints
 *                                       the p50/p99 time posix_spawn takes to
 *                                       return (glibc returns once the child
 *                                       has exec'd: "process started")
 *   spawn_ceiling rate N P -- CMD...    N runs, P at a time, each spawned and
 *                                       waited for; prints runs per second
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static pid_t spawn(char **cmd)
{
	pid_t pid;
	if (posix_spawn(&pid, cmd[0], NULL, NULL, cmd, environ) != 0) {
		perror("posix_spawn");
		exit(1);
	}
	return pid;
}

static int latency(int n, char **cmd)
{
	double *lat = calloc((size_t)n, sizeof(*lat));
	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		pid_t pid = spawn(cmd);
		lat[i] = now_us() - t0;
		waitpid(pid, NULL, 0);
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("p50_us=%.1f p99_us=%.1f\n", lat[n / 2], lat[(n * 99) / 100]);
	free(lat);
	return 0;
}

static int rate(int n, int p, char **cmd)
{
	double t0 = now_us();
	int started = 0, running = 0;
	while (started < n || running > 0) {
		while (running < p && started < n) {
			spawn(cmd);
			started++;
			running++;
		}
		if (wait(NULL) > 0)
			running--;
	}
	printf("runs_per_s=%.1f\n", n / ((now_us() - t0) / 1e6));
	return 0;
}

int main(int argc, char **argv)
{
	int dash = 1;
	while (dash < argc && strcmp(argv[dash], "--") != 0)
		dash++;
	if (dash >= argc - 1 || argc < 4) {
		fprintf(stderr, "usage: spawn_ceiling latency N -- CMD... | rate N P -- CMD...\n");
		return 2;
	}
	char **cmd = argv + dash + 1;
	if (strcmp(argv[1], "latency") == 0)
		return latency(atoi(argv[2]), cmd);
	if (strcmp(argv[1], "rate") == 0 && dash == 4)
		return rate(atoi(argv[2]), atoi(argv[3]), cmd);
	fprintf(stderr, "unknown mode %s\n", argv[1]);
	return 2;
}
