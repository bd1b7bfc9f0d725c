/* Unit tests for the client address behind trusted proxies: every X-Forwarded-For line joined,
 * walked from the right, the right-most untrusted address wins; untrusted peers are believed only
 * for themselves; garbage in the chain stops the walk at the last trusted hop; ports, brackets,
 * white space and IPv4-mapped addresses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "client_addr.h"
#include "config.h"

/* A config trusting 10.0.0.0/8 and fd00::/8, and the headers of one request. */
typedef struct fx {
	earshot_config cfg;
	cidr ranges[2];
	struct evkeyvalq headers;
	char out[CLIENT_ADDR_MAX];
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	if (cidr_parse("10.0.0.0/8", &f->ranges[0]) != 0 || cidr_parse("fd00::/8", &f->ranges[1]) != 0)
		return -1;
	f->cfg.trusted_proxies = f->ranges;
	f->cfg.n_trusted_proxies = 2;
	TAILQ_INIT(&f->headers);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	evhttp_clear_headers(&f->headers);
	free(f);
	return 0;
}

static void xff(fx *f, const char *line)
{
	evhttp_add_header(&f->headers, "X-Forwarded-For", line);
}

static const char *resolve(fx *f, const char *peer)
{
	client_addr_resolve(&f->cfg, peer, &f->headers, f->out);
	return f->out;
}

static void test_untrusted_peer_is_the_client(void **state)
{
	fx *f = *state;
	xff(f, "198.51.100.9");
	assert_string_equal(resolve(f, "203.0.113.5"), "203.0.113.5");
}

static void test_no_proxies_configured(void **state)
{
	fx *f = *state;
	f->cfg.n_trusted_proxies = 0;
	xff(f, "198.51.100.9");
	assert_string_equal(resolve(f, "10.0.0.1"), "10.0.0.1");
}

static void test_trusted_peer_without_header(void **state)
{
	fx *f = *state;
	assert_string_equal(resolve(f, "10.0.0.1"), "10.0.0.1");
}

static void test_rightmost_untrusted_wins(void **state)
{
	fx *f = *state;
	/* The client sent "1.1.1.1" itself; the proxy appended the real peer. */
	xff(f, "1.1.1.1, 198.51.100.9, 10.1.2.3");
	assert_string_equal(resolve(f, "10.0.0.1"), "198.51.100.9");
}

static void test_every_line_is_read(void **state)
{
	fx *f = *state;
	/* A client sending its own first line must not choose its key: the proxy's line comes last. */
	xff(f, "6.6.6.6");
	xff(f, "198.51.100.9");
	assert_string_equal(resolve(f, "10.0.0.1"), "198.51.100.9");
}

static void test_lines_joined_in_order(void **state)
{
	fx *f = *state;
	xff(f, "6.6.6.6, 7.7.7.7");
	xff(f, "198.51.100.9, 10.9.9.9");
	assert_string_equal(resolve(f, "10.0.0.1"), "198.51.100.9");
}

static void test_all_trusted_gives_leftmost(void **state)
{
	fx *f = *state;
	xff(f, "10.3.3.3, 10.2.2.2");
	assert_string_equal(resolve(f, "10.0.0.1"), "10.3.3.3");
}

static void test_garbage_stops_at_last_trusted_hop(void **state)
{
	fx *f = *state;
	xff(f, "198.51.100.9, unknown, 10.2.2.2");
	assert_string_equal(resolve(f, "10.0.0.1"), "10.2.2.2");
	evhttp_clear_headers(&f->headers);
	xff(f, "not-an-address");
	assert_string_equal(resolve(f, "10.0.0.1"), "10.0.0.1");
}

static void test_empty_elements_and_white_space(void **state)
{
	fx *f = *state;
	xff(f, " \t198.51.100.9 ,, \t");
	assert_string_equal(resolve(f, "10.0.0.1"), "198.51.100.9");
	evhttp_clear_headers(&f->headers);
	xff(f, "");
	assert_string_equal(resolve(f, "10.0.0.1"), "10.0.0.1");
}

static void test_ports_and_brackets(void **state)
{
	fx *f = *state;
	xff(f, "198.51.100.9:4711");
	assert_string_equal(resolve(f, "10.0.0.1"), "198.51.100.9");
	evhttp_clear_headers(&f->headers);
	xff(f, "[2001:DB8:0::1]:443");
	assert_string_equal(resolve(f, "10.0.0.1"), "2001:db8::1");
	evhttp_clear_headers(&f->headers);
	xff(f, "[2001:db8::2]");
	assert_string_equal(resolve(f, "10.0.0.1"), "2001:db8::2");
	evhttp_clear_headers(&f->headers);
	xff(f, "198.51.100.9:");
	assert_string_equal(resolve(f, "10.0.0.1"), "10.0.0.1");
	evhttp_clear_headers(&f->headers);
	xff(f, "[2001:db8::2]x");
	assert_string_equal(resolve(f, "10.0.0.1"), "10.0.0.1");
}

static void test_ipv6_proxies_and_mapped_addresses(void **state)
{
	fx *f = *state;
	xff(f, "2001:db8::7, fd00::2");
	assert_string_equal(resolve(f, "fd00::1"), "2001:db8::7");
	evhttp_clear_headers(&f->headers);
	/* A dual-stack socket reports an IPv4 proxy as ::ffff:a.b.c.d. */
	xff(f, "::ffff:198.51.100.9");
	assert_string_equal(resolve(f, "::ffff:10.0.0.1"), "198.51.100.9");
}

static void test_canonical_form(void **state)
{
	fx *f = *state;
	/* The same address in two spellings is one rate-limit key. */
	assert_string_equal(resolve(f, "2001:DB8:0:0::5"), "2001:db8::5");
	xff(f, "2001:0db8::0005");
	assert_string_equal(resolve(f, "10.0.0.1"), "2001:db8::5");
}

static void test_no_peer(void **state)
{
	fx *f = *state;
	xff(f, "198.51.100.9");
	assert_string_equal(resolve(f, NULL), "");
	assert_string_equal(resolve(f, ""), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_untrusted_peer_is_the_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_proxies_configured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trusted_peer_without_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rightmost_untrusted_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_line_is_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lines_joined_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_trusted_gives_leftmost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_stops_at_last_trusted_hop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_elements_and_white_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ports_and_brackets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_proxies_and_mapped_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canonical_form, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_peer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
