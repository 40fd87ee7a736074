/* clock_test.c - the system and virtual clocks (src/util/clock.c). */
#include "testutil.h"

#include "util/clock.h"

static void test_virtual_clock_moves_only_when_told(void **state)
{
	(void)state;
	struct clock c;
	clock_virtual_init(&c, 1795000000000);
	assert_int_equal(clock_now_ms(&c), 1795000000000);
	int64_t mono = clock_mono_us(&c);
	assert_int_equal(clock_now_ms(&c), 1795000000000);
	clock_virtual_advance_ms(&c, 1500);
	assert_int_equal(clock_now_ms(&c), 1795000001500);
	assert_int_equal(clock_mono_us(&c) - mono, 1500000);
}

static void test_system_clock_is_now(void **state)
{
	(void)state;
	int64_t a = clock_mono_us(&clock_system), now = clock_now_ms(&clock_system);
	assert_true(now > 1700000000000); /* after 2023 */
	assert_true(clock_mono_us(&clock_system) >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virtual_clock_moves_only_when_told),
		cmocka_unit_test(test_system_clock_is_now),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
