/* clock.c - see clock.h. A virtual clock keeps both readings in one atomic
 * counter of wall µs, so they always move together; monotonic readings only
 * need some fixed origin and the epoch is as good as any. */
#include "util/clock.h"

#include <stdatomic.h>
#include <time.h>

static int64_t ts_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t system_now_ms(const struct clock *c)
{
	(void)c;
	return ts_us(CLOCK_REALTIME) / 1000;
}

static int64_t system_mono_us(const struct clock *c)
{
	(void)c;
	return ts_us(CLOCK_MONOTONIC);
}

struct clock clock_system = {system_now_ms, system_mono_us, 0};

static int64_t virtual_now_ms(const struct clock *c)
{
	return atomic_load(&((struct clock *)c)->virtual_us) / 1000;
}

static int64_t virtual_mono_us(const struct clock *c)
{
	return atomic_load(&((struct clock *)c)->virtual_us);
}

void clock_virtual_init(struct clock *c, int64_t start_ms)
{
	c->now_ms = virtual_now_ms;
	c->mono_us = virtual_mono_us;
	atomic_store(&c->virtual_us, start_ms * 1000);
}

void clock_virtual_advance_ms(struct clock *c, int64_t ms)
{
	atomic_fetch_add(&c->virtual_us, ms * 1000);
}
