/* Unit tests: the strict HTTP/1.1 request framing checker. Every input is fed whole, byte by byte and
 * in two halves at every split point: the checker must give the same verdict however the bytes
 * arrive. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_frame.h"

#define S(lit) (lit), (sizeof(lit) - 1)

typedef struct verdict {
	uint64_t requests;   /* requests that ended */
	int status;          /* 0 while valid, else the refusal status */
	size_t consumed;     /* bytes consumed before a refusal, or all */
	char passed[512];    /* the bytes a caller passes on (chunk extensions dropped), when they fit */
	size_t n_passed;
} verdict;

/* Feeds data in pieces of at most step bytes (0: whole), going on after each request's end. */
static verdict feed(const char *data, size_t len, size_t step)
{
	http_frame f;
	http_frame_init(&f);
	verdict v;
	memset(&v, 0, sizeof v);
	size_t off = 0;
	while (off < len) {
		size_t n = step && len - off > step ? step : len - off;
		size_t used = 0;
		bool dropping = http_frame_dropping(&f);
		http_frame_result r = http_frame_feed(&f, (const unsigned char *)data + off, n, &used);
		if (!dropping && v.n_passed + used <= sizeof v.passed) {
			memcpy(v.passed + v.n_passed, data + off, used);
			v.n_passed += used;
		}
		off += used;
		if (r == HTTP_FRAME_INVALID) {
			v.status = f.status;
			assert_non_null(f.reason);
			break;
		}
		if (r == HTTP_FRAME_MORE)
			assert_int_equal(used, n);
	}
	v.requests = f.requests;
	v.consumed = off;
	return v;
}

/* Checks that every way of feeding data gives want_requests ended requests and status. */
static void expect_verdict(const char *data, size_t len, uint64_t want_requests, int want_status)
{
	size_t steps[] = { 0, 1, 2, 3, 7 };
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		verdict v = feed(data, len, steps[i]);
		if (v.requests != want_requests || v.status != want_status)
			fail_msg("step %zu on %.60s: %llu request(s), status %d; want %llu, %d", steps[i], data,
			         (unsigned long long)v.requests, v.status, (unsigned long long)want_requests,
			         want_status);
	}
}

static void valid(const char *data, size_t len, uint64_t requests)
{
	expect_verdict(data, len, requests, 0);
}

static void refused(const char *data, size_t len, int status)
{
	expect_verdict(data, len, 0, status);
}

static void plain_requests(void **state)
{
	valid(S("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 1);
	valid(S("GET /a?b=c HTTP/1.0\r\n\r\n"), 1);
	valid(S("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), 1);
	valid(S("GET / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\nX-Tab:\ta\tb\t\r\nX-Utf8: caf\xc3\xa9\r\n\r\n"), 1);
	valid(S("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"), 2);
	valid(S("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), 1);
}

static void content_length_bodies(void **state)
{
	valid(S("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n"), 2);
	valid(S("POST / HTTP/1.1\r\ncontent-length:   3  \r\n\r\nabc"), 1);
	valid(S("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), 1);
	valid(S("POST / HTTP/1.1\r\nContent-Length: 007\r\n\r\n1234567"), 1);
	refused(S("POST / HTTP/1.1\r\nContent-Length: +23\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nContent-Length: 24, 24\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nContent-Length : 23\r\n\r\n"), 400);
	refused(S("HEAD / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"), 400);
	valid(S("HEAD / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), 1);
}

static void transfer_codings(void **state)
{
	valid(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), 1);
	valid(S("POST / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 2);
	valid(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n"
	        "0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n"), 1);
	/* libevent cannot read chunk extensions: refused rather than misread */
	valid(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA;name=value;flag;q=\"a b\\\"c\"\r\n"
	        "0123456789\r\n0;last\r\n\r\n"), 1);
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: ,chunked\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
	refused(S("HEAD / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
}

static void chunk_sizes(void **state)
{
	const char *bad[] = { " 17", "17 ", "+17", "0x11", "-1", "zz", "", "1 ;a", "1; a", "1;", "1;a=",
		"1;a=\x01", "ffffffffffffffffffff", "1\n" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char req[160];
		int n = snprintf(req, sizeof req,
		                 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\n%s\r\n0\r\n\r\n", bad[i],
		                 "01234567890123456789012");
		refused(req, (size_t)n, 400);
	}
	/* data longer or shorter than its size */
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabc\r\n0\r\n\r\n"), 400);
	/* bad trailers */
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\nY: b\r\n\r\n"), 400);
	refused(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n"), 400);
}

static void head_bytes(void **state)
{
	refused(S("GET / HTTP/1.1\nHost: x\n\n"), 400);
	refused(S("GET / HTTP/1.1\r\nHost: x\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nX\0A: b\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nX-A: a\x01z\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nX-A: a\x7fz\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nX-A: a\r\n folded\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\n\tX-A: a\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nX A: a\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nX-\xc3\xa9: a\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\n: a\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nX-A a\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nX(A): a\r\n\r\n"), 400);
}

static void request_lines(void **state)
{
	refused(S("GET  / HTTP/1.1\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1 \r\n\r\n"), 400);
	refused(S("GET /a b HTTP/1.1\r\n\r\n"), 400);
	refused(S("GET /\x80 HTTP/1.1\r\n\r\n"), 400);
	refused(S("GET / HTTP/2.0\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.10\r\n\r\n"), 400);
	refused(S("GET / http/1.1\r\n\r\n"), 400);
	refused(S("GET /\r\n\r\n"), 400);
	refused(S(" GET / HTTP/1.1\r\n\r\n"), 400);
	refused(S("get / HTTP/1.1\r\n\r\n"), 501);
	refused(S("BREW / HTTP/1.1\r\n\r\n"), 501);
	refused(S("PROPFIND / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"), 501);
	refused(S("CONNECT example.com:443 HTTP/1.1\r\n\r\n"), 501);
	refused(S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), 400);
}

static void size_limits(void **state)
{
	size_t n = HTTP_FRAME_MAX_HEAD + 100;
	char *big = malloc(n + 64);
	int len = snprintf(big, 64, "GET / HTTP/1.1\r\nX-Big: ");
	memset(big + len, 'a', n - (size_t)len);
	memcpy(big + n, "\r\n\r\n", 4);
	refused(big, n + 4, 431);
	len = snprintf(big, 64, "GET /");
	memset(big + len, 'a', n - (size_t)len);
	memcpy(big + n, " HTTP/1.1\r\n\r\n", 13);
	refused(big, n + 13, 414);
	free(big);
	/* a head just inside the limit passes */
	char ok[HTTP_FRAME_MAX_HEAD];
	len = snprintf(ok, sizeof ok, "GET / HTTP/1.1\r\nX-Big: ");
	memset(ok + len, 'a', sizeof ok - (size_t)len - 4);
	memcpy(ok + sizeof ok - 4, "\r\n\r\n", 4);
	valid(ok, sizeof ok, 1);
}

/* A Content-Length over max_length is refused before any body byte; the limit outlives each request. */
static void announced_length_limit(void **state)
{
	http_frame f;
	http_frame_init(&f);
	f.max_length = 10;
	size_t used = 0;
	const char *ok = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789";
	assert_int_equal(http_frame_feed(&f, (const unsigned char *)ok, strlen(ok), &used), HTTP_FRAME_END);
	const char *big = "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
	assert_int_equal(http_frame_feed(&f, (const unsigned char *)big, strlen(big), &used), HTTP_FRAME_INVALID);
	assert_int_equal(f.status, 413);
	assert_int_equal(used, strlen(big) - 1);
	http_frame_init(&f);
	f.max_length = 10;
	const char *chunks = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n";
	assert_int_equal(http_frame_feed(&f, (const unsigned char *)chunks, strlen(chunks), &used), HTTP_FRAME_INVALID);
	assert_int_equal(f.status, 413);
	assert_int_equal(used, strlen(chunks) - 1);
}

/* Chunk extensions are checked but not passed on, however the bytes arrive. */
static void chunk_extensions_dropped(void **state)
{
	static const char in[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                         "5;a=b;c\r\nhello\r\n2;q=\"x;y\"\r\nok\r\n0;z\r\nT: 1\r\n\r\n";
	static const char out[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                          "5\r\nhello\r\n2\r\nok\r\n0\r\nT: 1\r\n\r\n";
	size_t steps[] = { 0, 1, 2, 5 };
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		verdict v = feed(in, sizeof in - 1, steps[i]);
		assert_int_equal(v.status, 0);
		assert_int_equal(v.requests, 1);
		assert_int_equal(v.n_passed, sizeof out - 1);
		assert_memory_equal(v.passed, out, sizeof out - 1);
	}
}

/* After a refusal nothing more is read, and the refusal stays. */
static void refusal_is_final(void **state)
{
	http_frame f;
	http_frame_init(&f);
	size_t used = 0;
	const char *bad = "GET / HTTP/1.1\nHost: x\r\n\r\n";
	assert_int_equal(http_frame_feed(&f, (const unsigned char *)bad, strlen(bad), &used), HTTP_FRAME_INVALID);
	assert_int_equal(used, 14);
	const char *good = "GET / HTTP/1.1\r\n\r\n";
	assert_int_equal(http_frame_feed(&f, (const unsigned char *)good, strlen(good), &used), HTTP_FRAME_INVALID);
	assert_int_equal(used, 0);
	assert_int_equal(f.requests, 0);
}

/* A request ends exactly after its last byte: the caller can hold the next one back. */
static void stops_at_request_end(void **state)
{
	http_frame f;
	http_frame_init(&f);
	size_t used = 0;
	const char *two = "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET / HTTP/1.1\r\n\r\n";
	assert_true(http_frame_between_requests(&f));
	assert_int_equal(http_frame_feed(&f, (const unsigned char *)two, strlen(two), &used), HTTP_FRAME_END);
	assert_int_equal(used, strlen(two) - strlen("GET / HTTP/1.1\r\n\r\n"));
	assert_true(http_frame_between_requests(&f));
	assert_true(http_frame_in_head(&f));
	const char *partial = "GET / HT";
	assert_int_equal(http_frame_feed(&f, (const unsigned char *)partial, strlen(partial), &used), HTTP_FRAME_MORE);
	assert_false(http_frame_between_requests(&f));
	assert_true(http_frame_in_head(&f));
	http_frame_init(&f);
	const char *body = "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc";
	assert_int_equal(http_frame_feed(&f, (const unsigned char *)body, strlen(body), &used), HTTP_FRAME_MORE);
	assert_false(http_frame_in_head(&f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_requests), cmocka_unit_test(content_length_bodies),
		cmocka_unit_test(transfer_codings), cmocka_unit_test(chunk_sizes), cmocka_unit_test(head_bytes),
		cmocka_unit_test(request_lines), cmocka_unit_test(size_limits),
		cmocka_unit_test(refusal_is_final), cmocka_unit_test(stops_at_request_end),
		cmocka_unit_test(announced_length_limit), cmocka_unit_test(chunk_extensions_dropped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
