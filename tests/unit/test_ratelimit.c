/* Unit tests: the per-address token bucket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "ratelimit.h"

static void burst_then_refused(void **state)
{
	ratelimit *rl = ratelimit_new(30);
	for (int i = 0; i < 30; i++)
		assert_int_equal(ratelimit_take(rl, "203.0.113.7", 1000), 0);
	int wait = ratelimit_take(rl, "203.0.113.7", 1000);
	/* 30 per minute refills one token every 2 s. */
	assert_int_equal(wait, 2);
	ratelimit_free(rl);
}

static void refills_over_time(void **state)
{
	ratelimit *rl = ratelimit_new(60);
	for (int i = 0; i < 60; i++)
		assert_int_equal(ratelimit_take(rl, "a", 0), 0);
	assert_true(ratelimit_take(rl, "a", 0) > 0);
	assert_true(ratelimit_take(rl, "a", 500) > 0);
	assert_int_equal(ratelimit_take(rl, "a", 1000), 0);
	assert_true(ratelimit_take(rl, "a", 1000) > 0);
	ratelimit_free(rl);
}

static void keys_are_independent(void **state)
{
	ratelimit *rl = ratelimit_new(1);
	assert_int_equal(ratelimit_take(rl, "a", 0), 0);
	assert_true(ratelimit_take(rl, "a", 0) > 0);
	assert_int_equal(ratelimit_take(rl, "b", 0), 0);
	ratelimit_free(rl);
}

static void zero_disables(void **state)
{
	ratelimit *rl = ratelimit_new(0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ratelimit_take(rl, "a", 0), 0);
	ratelimit_free(rl);
}

static void idle_clients_are_forgotten(void **state)
{
	ratelimit *rl = ratelimit_new(10);
	char key[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
		/* Each client comes once, a minute after the previous: its bucket refills fully. */
		assert_int_equal(ratelimit_take(rl, key, (int64_t)i * 60000), 0);
	}
	assert_true(ratelimit_size(rl) < 300);
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_refused), cmocka_unit_test(refills_over_time),
		cmocka_unit_test(keys_are_independent), cmocka_unit_test(zero_disables),
		cmocka_unit_test(idle_clients_are_forgotten),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
