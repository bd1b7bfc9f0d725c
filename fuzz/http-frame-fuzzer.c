/* http-frame-fuzzer: fuzzed byte streams through the strict HTTP/1.1 framing checker. The verdict may
 * not depend on how the bytes arrive: fed whole, byte by byte, and split at a point chosen by the
 * input, the checker must end the same number of requests, refuse (or not) at the same offset with
 * the same status, consume exactly the bytes it reports, and mark the same bytes to pass on (chunk
 * extensions dropped). A refusal carries a status the guard knows and a sentence. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http_frame.h"

typedef struct verdict {
	uint64_t requests;
	int status;
	size_t consumed;
	bool in_head;
	uint8_t *passed;    /* owned: the bytes a caller passes on */
	size_t n_passed;
} verdict;

/* Feeds data in pieces: first `split` bytes (0: none), then pieces of at most `step` bytes. */
static verdict feed(const uint8_t *data, size_t size, size_t split, size_t step)
{
	http_frame f;
	http_frame_init(&f);
	f.max_length = 1000;
	verdict v = { 0, 0, 0, true, malloc(size + 1), 0 };
	size_t off = 0;
	while (off < size) {
		size_t n = size - off;
		if (split && off < split)
			n = split - off;
		else if (step && n > step)
			n = step;
		size_t used = 0;
		bool dropping = http_frame_dropping(&f);
		http_frame_result r = http_frame_feed(&f, data + off, n, &used);
		FUZZ_CHECK(used <= n);
		if (!dropping) {
			memcpy(v.passed + v.n_passed, data + off, used);
			v.n_passed += used;
		}
		off += used;
		if (r == HTTP_FRAME_INVALID) {
			FUZZ_CHECK(f.status == 400 || f.status == 413 || f.status == 414 || f.status == 431 ||
			           f.status == 501);
			FUZZ_CHECK(f.reason && f.reason[0]);
			v.status = f.status;
			/* the refusal is final */
			size_t again = 1;
			FUZZ_CHECK(http_frame_feed(&f, data, size, &again) == HTTP_FRAME_INVALID && again == 0);
			break;
		}
		if (r == HTTP_FRAME_MORE)
			FUZZ_CHECK(used == n);
		if (r == HTTP_FRAME_END)
			FUZZ_CHECK(http_frame_between_requests(&f));
	}
	v.requests = f.requests;
	v.consumed = off;
	v.in_head = http_frame_in_head(&f);
	return v;
}

/* Checks that b matches a, and frees b's bytes. */
static void same(verdict a, verdict b)
{
	FUZZ_CHECK(a.requests == b.requests);
	FUZZ_CHECK(a.status == b.status);
	FUZZ_CHECK(a.consumed == b.consumed);
	FUZZ_CHECK(a.in_head == b.in_head);
	FUZZ_CHECK(a.n_passed == b.n_passed && memcmp(a.passed, b.passed, a.n_passed) == 0);
	free(b.passed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	verdict whole = feed(data, size, 0, 0);
	same(whole, feed(data, size, 0, 1));
	size_t split = size ? (size_t)data[0] * 7919 % size : 0;
	same(whole, feed(data, size, split, 0));
	same(whole, feed(data, size, split, 3));
	free(whole.passed);
	return 0;
}
