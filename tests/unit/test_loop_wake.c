/* Unit tests for loop_wake: a worker thread signalling as fast as it can, while the loop takes the
 * signals, never leaves work behind (a signal lost between the loop taking the eventfd and clearing its
 * flag would stop every later wake-up). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "loop_wake.h"

/* The worker signals for this long; each wake-up is a chance for the race. */
#define SIGNAL_SECONDS 1.5
/* How long the loop may take to catch up with the last signal before the test calls it lost. */
#define CATCH_UP_SECONDS 2.0

typedef struct wake_run {
	struct event_base *base;
	loop_wake *wake;
	atomic_long produced;        /* the worker's counter, set before each signal */
	atomic_bool worker_done;
	long consumed;               /* the counter as the callback last saw it; loop thread only */
	long wake_ups;               /* callback runs */
	double done_at;              /* when the loop first saw the worker done, 0 before */
	bool caught_up;
} wake_run;

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_wake(void *arg);

/* Makes r's event base and wake-up (run_free undoes it). */
static void run_init(wake_run *r)
{
	memset(r, 0, sizeof *r);
	atomic_init(&r->produced, 0);
	atomic_init(&r->worker_done, false);
	r->base = event_base_new();
	assert_non_null(r->base);
	char *err = NULL;
	r->wake = loop_wake_new(r->base, on_wake, r, &err);
	assert_non_null(r->wake);
}

static void run_free(wake_run *r)
{
	loop_wake_free(r->wake);
	event_base_free(r->base);
}

static void on_wake(void *arg)
{
	wake_run *r = arg;
	r->consumed = atomic_load(&r->produced);
	r->wake_ups++;
}

/* Signals with uneven pauses, so that signals land at every point of the loop's wake-up. */
static void *signal_worker(void *arg)
{
	wake_run *r = arg;
	double end = now_seconds() + SIGNAL_SECONDS;
	unsigned spin = 1;
	while (now_seconds() < end) {
		atomic_fetch_add(&r->produced, 1);
		loop_wake_signal(r->wake);
		spin = spin * 1103515245u + 12345u;
		for (volatile unsigned i = 0; i < (spin >> 20) % 512; i++) {
		}
	}
	atomic_store(&r->worker_done, true);
	return NULL;
}

/* Every 10 ms: stop once the worker is done and the callback has seen its last count, or once the
 * callback has not for CATCH_UP_SECONDS (a lost signal). */
static void on_check(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wake_run *r = arg;
	if (!atomic_load(&r->worker_done))
		return;
	if (r->done_at == 0)
		r->done_at = now_seconds();
	if (r->consumed == atomic_load(&r->produced)) {
		r->caught_up = true;
		event_base_loopbreak(r->base);
	} else if (now_seconds() - r->done_at > CATCH_UP_SECONDS) {
		event_base_loopbreak(r->base);
	}
}

static void test_no_signal_is_lost(void **state)
{
	(void)state;
	wake_run r;
	run_init(&r);
	struct event *check = event_new(r.base, -1, EV_PERSIST, on_check, &r);
	struct timeval every = { 0, 10000 };
	event_add(check, &every);
	pthread_t worker;
	assert_int_equal(pthread_create(&worker, NULL, signal_worker, &r), 0);
	event_base_dispatch(r.base);
	pthread_join(worker, NULL);
	print_message("%ld signals, %ld wake-ups, last seen %ld\n", (long)atomic_load(&r.produced), r.wake_ups,
	              r.consumed);
	assert_true(r.caught_up);
	assert_true(r.wake_ups > 100); /* the loop did take signals while the worker sent them */
	event_free(check);
	run_free(&r);
}

/* A signal sent before the loop runs is kept until it does; signals merge into one run. */
static void test_signals_before_the_loop_merge(void **state)
{
	(void)state;
	wake_run r;
	run_init(&r);
	for (int i = 0; i < 3; i++) {
		atomic_fetch_add(&r.produced, 1);
		loop_wake_signal(r.wake);
	}
	event_base_loop(r.base, EVLOOP_NONBLOCK);
	assert_int_equal(r.wake_ups, 1);
	assert_int_equal(r.consumed, 3);
	/* Nothing new: no further run. */
	event_base_loop(r.base, EVLOOP_NONBLOCK);
	assert_int_equal(r.wake_ups, 1);
	/* A later signal wakes the loop again. */
	atomic_fetch_add(&r.produced, 1);
	loop_wake_signal(r.wake);
	event_base_loop(r.base, EVLOOP_NONBLOCK);
	assert_int_equal(r.wake_ups, 2);
	assert_int_equal(r.consumed, 4);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signals_before_the_loop_merge),
		cmocka_unit_test(test_no_signal_is_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
