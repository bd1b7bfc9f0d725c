/* Unit tests: util (time, hashing, UTF-8, globs) and diag. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "diag.h"
#include "util.h"

/* iso8601_format_ms agrees with gmtime_r and printf across the years 1900-2200 and around 1970. */
static void iso8601_format_matches_gmtime(void **state)
{
	(void)state;
	int64_t step = INT64_C(86400000) * 37 + 3723456; /* 37 days, 1 h 2 min 3.456 s */
	for (int64_t ms = INT64_C(-2208988800000); ms < INT64_C(7258118400000); ms += step) {
		for (int64_t d = -1; d <= 1; d++) {
			int64_t t = ms + d;
			char got[32], want[64];
			iso8601_format_ms(t, got);
			int64_t secs = t >= 0 ? t / 1000 : (t - 999) / 1000;
			time_t tt = (time_t)secs;
			struct tm tm;
			gmtime_r(&tt, &tm);
			snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t - secs * 1000));
			assert_string_equal(got, want);
		}
	}
}

static void iso8601_round_trip(void **state)
{
	int64_t ms;
	char buf[32];
	assert_int_equal(iso8601_parse_ms("1970-01-01T00:00:00Z", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(iso8601_parse_ms("2026-11-24T10:00:00.123Z", &ms), 0);
	iso8601_format_ms(ms, buf);
	assert_string_equal(buf, "2026-11-24T10:00:00.123Z");
	assert_int_equal(iso8601_parse_ms("2026-11-24", &ms), 0);
	iso8601_format_ms(ms, buf);
	assert_string_equal(buf, "2026-11-24T00:00:00.000Z");
	/* An offset moves the instant: 12:00+02:00 is 10:00 UTC. */
	assert_int_equal(iso8601_parse_ms("2026-11-24T12:00:00+02:00", &ms), 0);
	iso8601_format_ms(ms, buf);
	assert_string_equal(buf, "2026-11-24T10:00:00.000Z");
	assert_int_equal(iso8601_parse_ms("1969-12-31T23:59:59.500Z", &ms), 0);
	assert_int_equal(ms, -500);
	iso8601_format_ms(ms, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.500Z");
}

static void iso8601_rejects(void **state)
{
	int64_t ms;
	assert_int_equal(iso8601_parse_ms("2024-02-29", &ms), 0);
	assert_int_equal(iso8601_parse_ms("2023-02-29", &ms), -1);
	assert_int_equal(iso8601_parse_ms("2100-02-29", &ms), -1);
	assert_int_equal(iso8601_parse_ms("2000-02-29", &ms), 0);
	assert_int_equal(iso8601_parse_ms("2026-13-01", &ms), -1);
	assert_int_equal(iso8601_parse_ms("2026-11-24T24:00:00Z", &ms), -1);
	assert_int_equal(iso8601_parse_ms("2026-11-24Tnoon", &ms), -1);
	assert_int_equal(iso8601_parse_ms("yesterday", &ms), -1);
	assert_int_equal(iso8601_parse_ms("2026-11-24T10:00:00Zjunk", &ms), -1);
	assert_int_equal(iso8601_parse_ms("", &ms), -1);
}

static void sha256_known_vector(void **state)
{
	char hex[65];
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void random_ids_are_distinct(void **state)
{
	char a[48], b[48];
	random_id("r_", a, sizeof a);
	random_id("r_", b, sizeof b);
	assert_int_equal(strlen(a), 28);
	assert_memory_equal(a, "r_", 2);
	assert_string_not_equal(a, b);
	for (size_t i = 2; i < strlen(a); i++)
		assert_true((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '2' && a[i] <= '7'));
}

/* Ids made later sort after earlier ones, and the first ten characters are the time in ms. */
static void random_ids_sort_by_time(void **state)
{
	(void)state;
	char a[48], b[48];
	random_id("r_", a, sizeof a);
	struct timespec pause = { 0, 3 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	random_id("r_", b, sizeof b);
	assert_true(strcmp(a, b) < 0);
	const char *alphabet = "234567abcdefghijklmnopqrstuvwxyz";
	uint64_t ms = 0;
	for (int i = 2; i < 12; i++)
		ms = ms * 32 + (uint64_t)(strchr(alphabet, b[i]) - alphabet);
	int64_t now = now_ms();
	assert_true((int64_t)ms <= now && (int64_t)ms > now - 5000);
}

static void utf8_counts_code_points(void **state)
{
	assert_int_equal(utf8_count("abc", 3), 3);
	assert_int_equal(utf8_count("ščž", strlen("ščž")), 3);
	assert_int_equal(utf8_count("повернення", strlen("повернення")), 10);
	assert_int_equal(utf8_count("😀", 4), 1);
	assert_int_equal(utf8_count("\xc3", 1), (size_t)-1);         /* truncated */
	assert_int_equal(utf8_count("\xc0\xaf", 2), (size_t)-1);     /* overlong '/' */
	assert_int_equal(utf8_count("\xed\xa0\x80", 3), (size_t)-1); /* surrogate */
	assert_int_equal(utf8_count("\xff", 1), (size_t)-1);
}

static void globs_match_paths(void **state)
{
	assert_true(glob_match("/cart*", "/cart"));
	assert_true(glob_match("/cart*", "/cart/items/3"));
	assert_false(glob_match("/cart*", "/checkout"));
	assert_true(glob_match("*", "/anything/at/all"));
	assert_true(glob_match("/docs/*/intro", "/docs/a/b/intro"));
	assert_false(glob_match("/checkout/done", "/checkout/done/x"));
	assert_true(glob_match("/p?ge", "/page"));
}

static void constant_time_compare(void **state)
{
	assert_true(ct_equal("abcd", "abcd", 4));
	assert_false(ct_equal("abcd", "abce", 4));
}

static void diag_formats_positions(void **state)
{
	diag_list d;
	diag_init(&d);
	diag_add(&d, "forms/a.yaml", 3, 7, "unknown key \"%s\"", "titel");
	diag_add(&d, "forms/b.yaml", 0, 0, "cannot read: %s", "No such file");
	assert_int_equal(d.n, 2);
	assert_string_equal(d.items[0], "forms/a.yaml:3:7: unknown key \"titel\"");
	assert_string_equal(d.items[1], "forms/b.yaml: cannot read: No such file");
	char *joined = diag_join(&d);
	assert_string_equal(joined, "forms/a.yaml:3:7: unknown key \"titel\"\nforms/b.yaml: cannot read: No such file");
	free(joined);
	diag_list other;
	diag_init(&other);
	diag_move(&other, &d);
	assert_int_equal(other.n, 2);
	assert_int_equal(d.n, 0);
	diag_free(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(iso8601_format_matches_gmtime),
		cmocka_unit_test(iso8601_round_trip),   cmocka_unit_test(iso8601_rejects),
		cmocka_unit_test(sha256_known_vector),  cmocka_unit_test(random_ids_are_distinct), cmocka_unit_test(random_ids_sort_by_time),
		cmocka_unit_test(utf8_counts_code_points), cmocka_unit_test(globs_match_paths),
		cmocka_unit_test(constant_time_compare), cmocka_unit_test(diag_formats_positions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
