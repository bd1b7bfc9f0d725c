/* Unit tests for the filter parameters of the admin routes (response_filter.c) and the chi-square
 * test behind the variant verdict (summary.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "response_filter.h"
#include "storage.h"
#include "summary.h"

/* A query string as name/value pairs, NULL-ended. */
typedef struct pairs {
	const char *kv[24];
} pairs;

static const char *lookup(void *ctx, const char *name)
{
	const pairs *p = ctx;
	for (int i = 0; p->kv[i]; i += 2)
		if (strcmp(p->kv[i], name) == 0)
			return p->kv[i + 1];
	return NULL;
}

/* Parses p expecting failure on parameter want; checks the filter was left cleared. */
static void expect_bad(pairs p, const char *want)
{
	response_filter f;
	const char *parameter = NULL;
	char *err = NULL;
	assert_int_equal(response_filter_parse(lookup, &p, &f, &parameter, &err), -1);
	assert_non_null(parameter);
	assert_string_equal(parameter, want);
	assert_non_null(err);
	assert_non_null(strstr(err, want));
	free(err);
	assert_null(f.page);
	assert_int_equal(f.n_attrs, 0);
	assert_true(f.since == STORE_TIME_MIN && f.until == STORE_TIME_MAX);
}

static void nothing_given_is_no_filter(void **state)
{
	pairs p = { { NULL } };
	response_filter f;
	const char *parameter;
	char *err;
	assert_int_equal(response_filter_parse(lookup, &p, &f, &parameter, &err), 0);
	assert_true(response_filter_time_only(&f));
	assert_true(f.since == STORE_TIME_MIN && f.until == STORE_TIME_MAX);
	response_filter_clear(&f);
}

static void every_parameter_is_read(void **state)
{
	pairs p = { { "since", "2026-11-24", "until", "2026-11-25T12:00:00Z", "page", "/cart/*", "tag", "complaint",
		      "category", "promoter", "variant", "b", "device", "mobile", "attr", "plan,company_size",
		      "q", "too slow", NULL } };
	response_filter f;
	const char *parameter;
	char *err;
	assert_int_equal(response_filter_parse(lookup, &p, &f, &parameter, &err), 0);
	assert_true(f.since == INT64_C(1795478400000));
	assert_true(f.until == INT64_C(1795608000000));
	assert_string_equal(f.page, "/cart/*");
	assert_string_equal(f.tag, "complaint");
	assert_string_equal(f.category, "promoter");
	assert_string_equal(f.variant, "b");
	assert_string_equal(f.device, "mobile");
	assert_int_equal(f.n_attrs, 2);
	assert_string_equal(f.attrs[0], "plan");
	assert_string_equal(f.attrs[1], "company_size");
	assert_string_equal(f.q, "too slow");
	assert_false(response_filter_time_only(&f));
	response_filter_clear(&f);
	assert_true(response_filter_time_only(&f));
}

static void a_variant_is_a_restriction(void **state)
{
	pairs p = { { "since", "2026-01-01", "variant", "a", NULL } };
	response_filter f;
	const char *parameter;
	char *err;
	assert_int_equal(response_filter_parse(lookup, &p, &f, &parameter, &err), 0);
	assert_false(response_filter_time_only(&f)); /* the variant is a restriction */
	response_filter_clear(&f);
}

static void bad_values_name_their_parameter(void **state)
{
	char long_text[260];
	memset(long_text, 'a', sizeof long_text - 1);
	long_text[sizeof long_text - 1] = '\0';
	expect_bad((pairs){ { "since", "last week", NULL } }, "since");
	expect_bad((pairs){ { "until", "2026-02-30T25:00:00Z", NULL } }, "until");
	expect_bad((pairs){ { "page", "", NULL } }, "page");
	expect_bad((pairs){ { "page", long_text, NULL } }, "page");
	expect_bad((pairs){ { "page", "/a\tb", NULL } }, "page");
	expect_bad((pairs){ { "tag", "a\nb", NULL } }, "tag");
	expect_bad((pairs){ { "category", "pro moter", NULL } }, "category");
	expect_bad((pairs){ { "category", "", NULL } }, "category");
	expect_bad((pairs){ { "variant", "a/b", NULL } }, "variant");
	expect_bad((pairs){ { "device", "phone", NULL } }, "device");
	expect_bad((pairs){ { "attr", "", NULL } }, "attr");
	expect_bad((pairs){ { "attr", "plan,", NULL } }, "attr");
	expect_bad((pairs){ { "attr", "a,b,c,d,e,f,g,h,i", NULL } }, "attr");
	expect_bad((pairs){ { "attr", "pl\"an", NULL } }, "attr");
	expect_bad((pairs){ { "q", "", NULL } }, "q");
	expect_bad((pairs){ { "q", long_text, NULL } }, "q");
	/* the first bad parameter in a fixed order is the one named, and nothing leaks */
	expect_bad((pairs){ { "page", "/x", "tag", "t", "device", "fridge", "q", "", NULL } }, "device");
}

static void eight_attributes_are_allowed(void **state)
{
	pairs p = { { "attr", "a,b,c,d,e,f,g,h", NULL } };
	response_filter f;
	const char *parameter;
	char *err;
	assert_int_equal(response_filter_parse(lookup, &p, &f, &parameter, &err), 0);
	assert_int_equal(f.n_attrs, 8);
	assert_string_equal(f.attrs[7], "h");
	response_filter_clear(&f);
}

static void chi_square_of_known_tables(void **state)
{
	int df;
	/* a perfect split: 100 a/price, 100 b/shipping -> chi-square 200 with 1 df */
	int64_t split[] = { 100, 0, 0, 100 };
	assert_true(fabs(summary_chi_square(split, 2, 2, &df) - 200.0) < 1e-9);
	assert_int_equal(df, 1);
	/* identical rows: no difference at all */
	int64_t same[] = { 30, 20, 10, 30, 20, 10 };
	assert_true(fabs(summary_chi_square(same, 2, 3, &df)) < 1e-12);
	assert_int_equal(df, 2);
	/* an empty column is left out of the degrees of freedom */
	int64_t gap[] = { 30, 0, 20, 20, 0, 30 };
	assert_true(summary_chi_square(gap, 2, 3, &df) > 0);
	assert_int_equal(df, 1);
	/* expected counts below 5: the test does not apply */
	int64_t few[] = { 3, 1, 1, 3 };
	assert_true(summary_chi_square(few, 2, 2, &df) < 0);
	/* one variant only */
	int64_t one[] = { 50, 50, 0, 0 };
	assert_true(summary_chi_square(one, 2, 2, &df) < 0);
}

static void chi_square_p_values(void **state)
{
	/* the 95 % critical values of the chi-square distribution */
	assert_true(fabs(summary_chi_square_p(3.841, 1) - 0.05) < 1e-3);
	assert_true(fabs(summary_chi_square_p(5.991, 2) - 0.05) < 1e-3);
	assert_true(fabs(summary_chi_square_p(18.307, 10) - 0.05) < 1e-3);
	assert_true(fabs(summary_chi_square_p(6.635, 1) - 0.01) < 1e-3);
	assert_true(fabs(summary_chi_square_p(2.0, 2) - exp(-1.0)) < 1e-9); /* df 2: p = e^(-x/2) */
	assert_true(summary_chi_square_p(0, 3) == 1.0);
	assert_true(summary_chi_square_p(200, 1) < 1e-40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nothing_given_is_no_filter),
		cmocka_unit_test(every_parameter_is_read),
		cmocka_unit_test(a_variant_is_a_restriction),
		cmocka_unit_test(bad_values_name_their_parameter),
		cmocka_unit_test(eight_attributes_are_allowed),
		cmocka_unit_test(chi_square_of_known_tables),
		cmocka_unit_test(chi_square_p_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
