/* clock.h - the one interface to time (ARCHITECTURE.md invariant 6).
 *
 * Everything that asks "what time is it" goes through a struct clock, so the
 * scheduler, timeouts and tests can run on a virtual clock with no sleeps.
 * clock_system is the real clock. A virtual clock only moves when told to.
 * Reading a clock is thread-safe; advancing a virtual clock is meant for the
 * single test thread that owns it.
 */
#ifndef JOBSD_UTIL_CLOCK_H
#define JOBSD_UTIL_CLOCK_H

#include <stdint.h>

struct clock {
	int64_t (*now_ms)(const struct clock *c);  /* wall time, ms since the epoch */
	int64_t (*mono_us)(const struct clock *c); /* monotonic, µs, arbitrary origin */
	_Atomic int64_t virtual_us;		   /* only used by virtual clocks */
};

extern struct clock clock_system;

static inline int64_t clock_now_ms(const struct clock *c) { return c->now_ms(c); }
static inline int64_t clock_mono_us(const struct clock *c) { return c->mono_us(c); }

/* A virtual clock reading start_ms (wall); it moves only by clock_virtual_advance_ms. */
void clock_virtual_init(struct clock *c, int64_t start_ms);
void clock_virtual_advance_ms(struct clock *c, int64_t ms);

#endif
