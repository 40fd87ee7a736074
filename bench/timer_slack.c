/* timer_slack.c - how late epoll_wait(timeout_ms) returns (bench/README.md, "Scheduler").
 *
 * The engine sleeps in epoll_wait() with a millisecond timeout until the next
 * due trigger (at most 60 s). Linux stretches poll/select/epoll timeouts of
 * non-realtime threads by a slack of 0.1% of the timeout (at most 100 ms,
 * at least the thread's timer_slack_ns: select_estimate_accuracy() in
 * fs/select.c), so a 2 s sleep ends ~2 ms late and a 60 s sleep ~60 ms late.
 * A timerfd armed for the same instant and watched by the same epoll has no
 * such slack. This prints both, for each timeout given:
 *
 *   cc -O2 -o build/timer_slack bench/timer_slack.c && build/timer_slack 100 1000 2000 20000
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: timer_slack MS...\n");
		return 2;
	}
	int ep = epoll_create1(0), tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct epoll_event e = {.events = EPOLLIN, .data.fd = tfd}, ev[4];
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &e);
	for (int a = 1; a < argc; a++) {
		int ms = atoi(argv[a]);
		int64_t t0 = now_us();
		epoll_wait(ep, ev, 4, ms);
		double late_epoll = (double)(now_us() - t0 - (int64_t)ms * 1000) / 1000;

		struct itimerspec its = {.it_value = {ms / 1000, (long)(ms % 1000) * 1000000}};
		t0 = now_us();
		timerfd_settime(tfd, 0, &its, NULL);
		epoll_wait(ep, ev, 4, -1);
		double late_tfd = (double)(now_us() - t0 - (int64_t)ms * 1000) / 1000;
		uint64_t n;
		if (read(tfd, &n, sizeof(n)) < 0)
			return 1;
		printf("%6d ms: epoll_wait timeout %.3f ms late, timerfd %.3f ms late\n", ms,
		       late_epoll, late_tfd);
	}
	return 0;
}
