/* Unit tests for exact origin comparison: canonical forms (case, default ports, IPv6 literals),
 * everything that is not an origin, and the CORS decision — public_url by origin only, never as a
 * prefix ("http:" or "http://127.0.0.1:80" against public_url http://127.0.0.1:8080), "*" and exact
 * list entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "origin.h"

static void expect_canonical(const char *in, bool allow_path, const char *want)
{
	char out[ORIGIN_MAX];
	if (!origin_canonical(in, allow_path, out))
		fail_msg("\"%s\" was refused", in);
	assert_string_equal(out, want);
}

static void expect_refused(const char *in, bool allow_path)
{
	char out[ORIGIN_MAX];
	if (origin_canonical(in, allow_path, out))
		fail_msg("\"%s\" was taken as %s", in, out);
}

static void test_canonical_forms(void **state)
{
	(void)state;
	expect_canonical("https://shop.example.com", false, "https://shop.example.com:443");
	expect_canonical("HTTPS://Shop.Example.COM:443", false, "https://shop.example.com:443");
	expect_canonical("http://shop.example.com:80", false, "http://shop.example.com:80");
	expect_canonical("http://127.0.0.1:8080", false, "http://127.0.0.1:8080");
	expect_canonical("http://[::1]:8080", false, "http://[::1]:8080");
	expect_canonical("http://[2001:DB8::1]", false, "http://[2001:db8::1]:80");
	expect_canonical("https://feedback.example.com/base/path?x#y", true, "https://feedback.example.com:443");
}

static void test_not_origins(void **state)
{
	(void)state;
	const char *bad[] = {
		"null", "", "http:", "http:/", "http://", "https://", "ftp://shop.example.com", "shop.example.com",
		"http://shop.example.com/", "http://shop.example.com/cart", "http://user@shop.example.com",
		"http://shop.example.com:", "http://shop.example.com:0", "http://shop.example.com:65536",
		"http://shop.example.com:8o", "http://shop.example.com:123456", "http://shop .example.com",
		"http://shop.example.com\t", "http://[::1", "http://[]:80", "http://[::1]x", "http://a]b",
		"http://:80", "http://shop.example.com?x", "http://shop.example.com#x", "http://a\\b",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_refused(bad[i], false);
	expect_refused("http:", true);
	expect_refused("https:///path", true);
	char out[ORIGIN_MAX];
	assert_false(origin_canonical(NULL, false, out));
}

static void test_same(void **state)
{
	(void)state;
	assert_true(origin_same("https://a.example", "https://A.EXAMPLE:443"));
	assert_true(origin_same("http://a.example:80", "http://a.example"));
	assert_false(origin_same("http://a.example", "https://a.example"));
	assert_false(origin_same("http://a.example:8080", "http://a.example"));
	assert_false(origin_same("http://a.example", "http://a.example.evil"));
	assert_false(origin_same("null", "null"));
}

/* A config with public_url and the given allowed origins (borrowed strings). */
static earshot_config config_with(const char *public_url, char **allowed, size_t n)
{
	earshot_config c;
	memset(&c, 0, sizeof c);
	c.public_url = (char *)public_url;
	c.allowed_origins = allowed;
	c.n_allowed_origins = n;
	return c;
}

static void test_public_url_is_compared_as_an_origin(void **state)
{
	(void)state;
	char *list[] = { "https://shop.example.com" };
	earshot_config c = config_with("http://127.0.0.1:8080", list, 1);
	assert_true(origin_allowed(&c, NULL));
	assert_true(origin_allowed(&c, "http://127.0.0.1:8080"));
	/* Prefixes of public_url are not its origin. */
	assert_false(origin_allowed(&c, "http:"));
	assert_false(origin_allowed(&c, "http://"));
	assert_false(origin_allowed(&c, "http://127.0.0.1"));
	assert_false(origin_allowed(&c, "http://127.0.0.1:80"));
	assert_false(origin_allowed(&c, "http://127.0.0.1:808"));
	assert_false(origin_allowed(&c, "https://127.0.0.1:8080"));
	assert_false(origin_allowed(&c, "null"));

	earshot_config d = config_with("https://feedback.example.com/survey", list, 1);
	assert_true(origin_allowed(&d, "https://feedback.example.com"));
	assert_true(origin_allowed(&d, "https://Feedback.example.com:443"));
	assert_false(origin_allowed(&d, "https://feedback.example.co"));
	assert_false(origin_allowed(&d, "https:"));
}

static void test_listed_origins_exactly(void **state)
{
	(void)state;
	char *list[] = { "https://shop.example.com", "http://localhost:3000" };
	earshot_config c = config_with("https://feedback.example.com", list, 2);
	assert_true(origin_allowed(&c, "https://shop.example.com"));
	assert_true(origin_allowed(&c, "https://shop.example.com:443"));
	assert_true(origin_allowed(&c, "HTTPS://SHOP.example.com"));
	assert_true(origin_allowed(&c, "http://localhost:3000"));
	assert_false(origin_allowed(&c, "https://shop.example.com.evil.test"));
	assert_false(origin_allowed(&c, "https://shop.example.co"));
	assert_false(origin_allowed(&c, "http://shop.example.com"));
	assert_false(origin_allowed(&c, "http://localhost"));
	assert_false(origin_allowed(&c, "http://localhost:30000"));
	assert_false(origin_allowed(&c, "https:"));
}

static void test_star(void **state)
{
	(void)state;
	char *list[] = { "*" };
	earshot_config c = config_with("https://feedback.example.com", list, 1);
	assert_true(origin_allowed(&c, "https://anything.example"));
	assert_false(origin_allowed(&c, "null"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_forms),
		cmocka_unit_test(test_not_origins),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_public_url_is_compared_as_an_origin),
		cmocka_unit_test(test_listed_origins_exactly),
		cmocka_unit_test(test_star),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
