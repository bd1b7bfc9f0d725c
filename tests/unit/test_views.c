/* Unit tests of views: the in-memory tally, the upserts and per-variant sums of the views table
 * (migration 7), its retention purge by day, the writer storing counted views within a second and on
 * stop, and the chi-square comparison of completion against known p-values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "storage.h"
#include "summary.h"
#include "test_support.h"
#include "util.h"
#include "view_tally.h"
#include "writer.h"

#define DAY_MS 86400000LL

typedef test_db_fixture fixture;

static int setup(void **state)
{
	return test_db_setup(state, "views", "views.db");
}

#define teardown test_db_teardown

static store *open_store(const char *path)
{
	store *st = NULL;
	char *err = NULL;
	if (store_open(path, DURABILITY_FULL, false, &st, &err) != 0)
		fail_msg("store_open: %s", err);
	return st;
}

/* The per-variant sums store_views_count reports: "a" and "b", and "" in none. */
typedef struct sums {
	int64_t a, b, none, calls;
} sums;

static int add_sum(void *ctx, const char *variant, int64_t views)
{
	sums *s = ctx;
	s->calls++;
	if (strcmp(variant, "a") == 0)
		s->a += views;
	else if (strcmp(variant, "b") == 0)
		s->b += views;
	else if (strcmp(variant, "") == 0)
		s->none += views;
	else
		fail_msg("unexpected variant %s", variant);
	return 0;
}

static sums count(store *st, const char *form_id, int64_t since, int64_t until, const char *variant,
                  const char *device)
{
	sums s = { 0 };
	char *err = NULL;
	if (store_views_count(st, form_id, since, until, variant, device, add_sum, &s, &err) != 0)
		fail_msg("store_views_count: %s", err);
	return s;
}

static void test_tally_adds_up_per_key(void **state)
{
	(void)state;
	view_tally t = { 0 };
	view_tally_add(&t, "shop", 20000, "a", "mobile", 1);
	view_tally_add(&t, "shop", 20000, "a", "mobile", 2);
	view_tally_add(&t, "shop", 20000, "b", "mobile", 1);
	view_tally_add(&t, "shop", 20001, "a", "mobile", 1);
	view_tally_add(&t, "shop", 20000, NULL, NULL, 4);
	view_tally_add(&t, "shop", 20000, "", "", 1);
	for (int i = 0; i < 40; i++) /* growth past the first allocation */
		view_tally_add(&t, "other", 20000 + i, "a", "desktop", 1);
	assert_int_equal(t.n, 44);
	assert_string_equal(t.items[0].form, "shop");
	assert_int_equal(t.items[0].count, 3);
	assert_int_equal(t.items[1].count, 1);
	assert_int_equal(t.items[2].day, 20001);
	assert_string_equal(t.items[3].variant, "");
	assert_string_equal(t.items[3].device, "");
	assert_int_equal(t.items[3].count, 5); /* NULL and "" are the same: none */

	view_tally taken;
	view_tally_take(&t, &taken);
	assert_int_equal(t.n, 0);
	assert_null(t.items);
	assert_int_equal(taken.n, 44);
	view_tally_add(&t, "shop", 20000, "a", "mobile", 10);
	view_tally_merge(&t, &taken);
	assert_int_equal(t.n, 44);
	assert_int_equal(t.items[0].count, 13);
	view_tally_clear(&taken);
	view_tally_clear(&t);
	assert_int_equal(t.n, 0);
}

static void test_store_upserts_and_sums(void **state)
{
	fixture *fx = *state;
	store *st = open_store(fx->path);
	int64_t day = 20000;
	view_tally t = { 0 };
	view_tally_add(&t, "shop", day, "a", "mobile", 3);
	view_tally_add(&t, "shop", day, "b", "desktop", 5);
	view_tally_add(&t, "shop", day + 1, "a", "desktop", 7);
	view_tally_add(&t, "shop", day + 2, NULL, "tablet", 11);
	view_tally_add(&t, "blog", day, "a", "mobile", 100);
	char *err = NULL;
	/* Twice: the second time every counter is added to the stored one. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(store_begin(st, &err), 0);
		assert_int_equal(store_views_add(st, t.items, t.n, &err), 0);
		assert_int_equal(store_commit(st, &err), 0);
	}
	view_tally_clear(&t);

	sums s = count(st, "shop", STORE_TIME_MIN, STORE_TIME_MAX, NULL, NULL);
	assert_int_equal(s.a, 20);
	assert_int_equal(s.b, 10);
	assert_int_equal(s.none, 22);
	assert_int_equal(s.calls, 3);
	s = count(st, "shop", STORE_TIME_MIN, STORE_TIME_MAX, "a", NULL);
	assert_true(s.a == 20 && s.b == 0 && s.none == 0);
	s = count(st, "shop", STORE_TIME_MIN, STORE_TIME_MAX, NULL, "desktop");
	assert_true(s.a == 14 && s.b == 10 && s.none == 0);
	/* Days overlapping [since, until): the middle of day+1 to the first millisecond of day+2. */
	s = count(st, "shop", (day + 1) * DAY_MS + DAY_MS / 2, (day + 2) * DAY_MS + 1, NULL, NULL);
	assert_true(s.a == 14 && s.b == 0 && s.none == 22);
	s = count(st, "shop", STORE_TIME_MIN, (day + 1) * DAY_MS, NULL, NULL);
	assert_true(s.a == 6 && s.b == 10 && s.none == 0);
	s = count(st, "shop", (day + 3) * DAY_MS, STORE_TIME_MAX, NULL, NULL);
	assert_int_equal(s.calls, 0);
	s = count(st, "nowhere", STORE_TIME_MIN, STORE_TIME_MAX, NULL, NULL);
	assert_int_equal(s.calls, 0);

	/* The retention purge removes the days that ended before the cutoff, whatever the form. */
	int64_t deleted = -1;
	assert_int_equal(store_purge_before(st, (day + 1) * DAY_MS + 5, &deleted, &err), 0);
	assert_int_equal(deleted, 0); /* no answers */
	s = count(st, "shop", STORE_TIME_MIN, STORE_TIME_MAX, NULL, NULL);
	assert_true(s.a == 14 && s.b == 0 && s.none == 22);
	assert_int_equal(count(st, "blog", STORE_TIME_MIN, STORE_TIME_MAX, NULL, NULL).calls, 0);
	store_close(st);
}

/* Polls the views table until form_id has want views (10 s at most); returns what it found. */
static int64_t wait_for_views(const char *path, const char *form_id, int64_t want)
{
	int64_t got = 0;
	for (int i = 0; i < 100; i++) {
		store *st = open_store(path);
		sums s = count(st, form_id, STORE_TIME_MIN, STORE_TIME_MAX, NULL, NULL);
		store_close(st);
		got = s.a + s.b + s.none;
		if (got == want)
			break;
		usleep(100000);
	}
	return got;
}

static void test_writer_stores_counted_views(void **state)
{
	fixture *fx = *state;
	struct event_base *base = event_base_new();
	char *err = NULL;
	writer *w = writer_start(fx->path, DURABILITY_FULL, base, NULL, &err);
	if (!w)
		fail_msg("writer_start: %s", err);
	int64_t now = now_ms();
	for (int i = 0; i < 300; i++)
		writer_count_view(w, "shop", i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : NULL, "mobile", now);
	/* Stored about a second later without anything else happening. */
	assert_int_equal(wait_for_views(fx->path, "shop", 300), 300);
	/* Counted just before the writer stops: stored by writer_stop. */
	for (int i = 0; i < 7; i++)
		writer_count_view(w, "shop", "a", "tablet", now);
	writer_stop(w);
	store *st = open_store(fx->path);
	sums s = count(st, "shop", STORE_TIME_MIN, STORE_TIME_MAX, NULL, NULL);
	assert_int_equal(s.a, 107);
	assert_int_equal(s.b, 100);
	assert_int_equal(s.none, 100);
	assert_int_equal(count(st, "shop", STORE_TIME_MIN, STORE_TIME_MAX, NULL, "tablet").a, 7);
	store_close(st);
	event_base_free(base);
}

static void test_completion_chi_square_known_p_values(void **state)
{
	(void)state;
	int df = -1;
	/* Two variants: 30 of 100 views answered against 50 of 100: chi-square 25/3 on 1 df. */
	int64_t answers2[] = { 30, 50 }, views2[] = { 100, 100 };
	double chi = summary_completion_chi_square(answers2, views2, 2, &df);
	assert_int_equal(df, 1);
	assert_true(fabs(chi - 25.0 / 3.0) < 1e-12);
	/* erfc(sqrt(chi / 2)), the two-sided p-value of the equivalent two-proportion z-test */
	assert_true(fabs(summary_chi_square_p(chi, df) - 0.003892417122778627) < 1e-12);

	/* Three variants: 10, 20 and 30 of 100 views each: chi-square 12.5 on 2 df, p = exp(-6.25). */
	int64_t answers3[] = { 10, 20, 30 }, views3[] = { 100, 100, 100 };
	chi = summary_completion_chi_square(answers3, views3, 3, &df);
	assert_int_equal(df, 2);
	assert_true(fabs(chi - 12.5) < 1e-12);
	assert_true(fabs(summary_chi_square_p(chi, df) - 0.0019304541362277093) < 1e-12);

	/* A variant without views is left out: the same test as the two variants above. */
	int64_t answers_gap[] = { 30, 4, 50 }, views_gap[] = { 100, 0, 100 };
	chi = summary_completion_chi_square(answers_gap, views_gap, 3, &df);
	assert_int_equal(df, 1);
	assert_true(fabs(chi - 25.0 / 3.0) < 1e-12);

	/* More answers than views (answers sent without a counted view): the test does not apply. */
	int64_t answers_over[] = { 30, 120 }, views_over[] = { 100, 100 };
	assert_true(summary_completion_chi_square(answers_over, views_over, 2, &df) < 0);
	/* An expected count below 5 does not apply either; nor one variant alone. */
	int64_t answers_few[] = { 1, 2 }, views_few[] = { 10, 10 };
	assert_true(summary_completion_chi_square(answers_few, views_few, 2, &df) < 0);
	assert_true(summary_completion_chi_square(answers2, views2, 1, &df) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tally_adds_up_per_key),
		cmocka_unit_test_setup_teardown(test_store_upserts_and_sums, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_stores_counted_views, setup, teardown),
		cmocka_unit_test(test_completion_chi_square_known_p_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
