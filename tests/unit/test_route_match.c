/* Unit tests for the one URL pattern matcher shared by built-in and plugin routes: segment-wise
 * matching and binding, one decode per segment (an encoded slash stays inside its segment, "%2573"
 * becomes "%73" and no more), the paths refused, and which patterns plugins may register. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_match.h"

/* Matches raw (decoded once per segment) against pattern; returns whether it matched, *out filled. */
static bool match(const char *pattern, const char *raw, route_params *out)
{
	route_path p;
	if (route_path_split(raw, true, &p) != 0)
		fail_msg("\"%s\" was refused", raw);
	bool ok = route_match(pattern, &p, out);
	/* Copy the values out before the segments go. */
	static char keep[ROUTE_MAX_PARAMS][128];
	for (size_t i = 0; ok && out && i < out->n; i++) {
		snprintf(keep[i], sizeof keep[i], "%s", out->values[i]);
		out->values[i] = keep[i];
	}
	route_path_free(&p);
	return ok;
}

static void test_literals_and_placeholders(void **state)
{
	route_params got;
	assert_true(match("/healthz", "/healthz", &got));
	assert_int_equal(got.n, 0);
	assert_true(match("/", "/", &got));
	assert_false(match("/", "/x", NULL));
	assert_false(match("/healthz", "/healthz/", NULL));
	assert_false(match("/healthz", "/health", NULL));
	assert_true(match("/api/v1/deliveries/{id}/retry", "/api/v1/deliveries/42/retry", &got));
	assert_int_equal(got.n, 1);
	assert_string_equal(got.names[0], "id");
	assert_string_equal(route_param(&got, "id"), "42");
	assert_null(route_param(&got, "form"));
	assert_true(match("/api/v1/forms/{form}/{key}", "/api/v1/forms/nps/report", &got));
	assert_string_equal(route_param(&got, "form"), "nps");
	assert_string_equal(route_param(&got, "key"), "report");
	assert_false(match("/api/v1/forms/{form}/nps", "/api/v1/forms//nps", NULL));
	assert_false(match("/api/v1/forms/{form}/nps", "/api/v1/forms/a/b/nps", NULL));
	assert_false(match("/api/v1/forms/{form}", "/api/v1/forms", NULL));
}

static void test_one_decode_per_segment(void **state)
{
	route_params got;
	assert_true(match("/api/v1/forms/{form}/nps", "/api/v1/forms/a%2Fb/nps", &got));
	assert_string_equal(route_param(&got, "form"), "a/b");
	assert_true(match("/api/v1/forms/{form}/nps", "/api/v1/forms/np%2573/nps", &got));
	assert_string_equal(route_param(&got, "form"), "np%73");
	assert_true(match("/api/v1/forms/{form}/nps", "/api/v1/%66orms/x+y/nps", &got));
	assert_string_equal(route_param(&got, "form"), "x+y");
	/* Undecoded, as the plugin host splits a path handed over without segments. */
	route_path p;
	assert_int_equal(route_path_split("/a/%2F", false, &p), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.segs[1], "%2F");
	route_path_free(&p);
}

static void test_paths_refused(void **state)
{
	route_path p;
	assert_int_equal(route_path_split("x/y", true, &p), -1);
	assert_int_equal(route_path_split("/a%00b", true, &p), -1);
	assert_int_equal(p.n, 0);
	assert_null(p.segs);
}

static void test_valid_patterns(void **state)
{
	assert_true(route_pattern_valid("/api/v1/forms/{form}/report"));
	assert_true(route_pattern_valid("/v1/{a_1}/{b}"));
	assert_false(route_pattern_valid("api/v1"));
	assert_false(route_pattern_valid("/api//v1"));
	assert_false(route_pattern_valid("/api/v1/"));
	assert_false(route_pattern_valid("/api/{Form}"));
	assert_false(route_pattern_valid("/api/{1x}"));
	assert_false(route_pattern_valid("/api/x{form}"));
	assert_false(route_pattern_valid("/api/{}"));
	assert_false(route_pattern_valid("/api/{a}}"));
	assert_false(route_pattern_valid("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}"));
	assert_false(route_pattern_valid("/{abcdefghijklmnopqrstuvwxyz_abcdef}"));
	assert_true(route_pattern_valid("/{abcdefghijklmnopqrstuvwxyz_abcd}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals_and_placeholders),
		cmocka_unit_test(test_one_decode_per_segment),
		cmocka_unit_test(test_paths_refused),
		cmocka_unit_test(test_valid_patterns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
