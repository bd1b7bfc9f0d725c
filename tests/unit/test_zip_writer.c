/* Unit tests for server/zip_writer.c: an archive of several entries (empty, small, several megabytes
 * written in odd pieces) read back by Python's zipfile with every CRC checked, the sink's pieces, a
 * sink refusal, and the header encoders byte by byte, ZIP64 fields and records included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "test_support.h"
#include "util.h"
#include "zip_writer.h"

typedef struct sink_buf {
	unsigned char *data;
	size_t len, cap;
	size_t calls, max_piece, short_pieces;
	size_t limit;            /* 0: no limit */
} sink_buf;

static int collect(void *ctx, const char *data, size_t len)
{
	sink_buf *s = ctx;
	if (s->limit && s->len + len > s->limit)
		return -1;
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->data = xrealloc(s->data, s->cap);
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
	s->calls++;
	if (len > s->max_piece)
		s->max_piece = len;
	return 0;
}

static uint32_t get16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const unsigned char *p)
{
	return get16(p) | get16(p + 2) << 16;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- round trip ----------------------------------------------------------------------------------- */

/* The content of the big entry: text that compresses, then bytes that do not. */
static unsigned char *big_content(size_t n)
{
	unsigned char *b = xmalloc(n);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		if (i < n / 2) {
			b[i] = (unsigned char)("<row r=\"1\"><c><v>42</v></c></row>\n"[i % 35]);
		} else {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			b[i] = (unsigned char)x;
		}
	}
	return b;
}

static void test_round_trip_through_python(void **state)
{
	(void)state;
	const size_t piece = 4096, big_n = 3 * 1024 * 1024 + 17;
	unsigned char *big = big_content(big_n);
	const char *small = "hello, zip\n";
	sink_buf s = { 0 };
	zip_writer *z = zip_writer_new(1, piece, 1764000000, collect, &s);
	assert_non_null(z);
	assert_int_equal(zip_entry_begin(z, "small.txt"), 0);
	assert_int_equal(zip_entry_write(z, small, strlen(small)), 0);
	assert_int_equal(zip_entry_begin(z, "empty"), 0); /* ends small.txt */
	assert_int_equal(zip_entry_begin(z, "dir/big.bin"), 0);
	for (size_t off = 0, step = 1; off < big_n; off += step, step = step * 3 + 1) {
		size_t n = off + step > big_n ? big_n - off : step;
		assert_int_equal(zip_entry_write(z, big + off, n), 0);
	}
	assert_int_equal(zip_entry_end(z), 0);
	assert_int_equal(zip_writer_finish(z), 0);
	assert_null(zip_writer_error(z));
	zip_writer_free(z);
	/* pieces of exactly `piece` bytes but the last; the archive starts before finish */
	assert_int_equal(s.max_piece, piece);
	assert_int_equal(s.calls, (s.len + piece - 1) / piece);
	assert_true(s.len < big_n); /* the text half compressed */

	char dir[64];
	assert_int_equal(test_temp_dir(dir, sizeof dir, "zip"), 0);
	char path[128];
	snprintf(path, sizeof path, "%s/t.zip", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(s.data, 1, s.len, f), s.len);
	fclose(f);
	char cmd[512];
	snprintf(cmd, sizeof cmd,
	         "python3 -c 'import sys, zipfile, zlib\n"
	         "z = zipfile.ZipFile(sys.argv[1])\n"
	         "assert z.testzip() is None\n"
	         "for i in z.infolist():\n"
	         "    d = z.read(i)\n"
	         "    print(i.filename, len(d), \"%%08x\" %% zlib.crc32(d), i.compress_type, i.date_time[0])' %s",
	         path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char out[1024] = "";
	size_t got = fread(out, 1, sizeof out - 1, p);
	out[got] = '\0';
	assert_int_equal(pclose(p), 0);
	test_remove_dir(dir);
	char want[512];
	snprintf(want, sizeof want, "small.txt %zu %08lx 8 2025\nempty 0 00000000 8 2025\ndir/big.bin %zu %08lx 8 2025\n",
	         strlen(small), crc32(0, (const Bytef *)small, (uInt)strlen(small)), big_n,
	         crc32(0, big, (uInt)big_n));
	assert_string_equal(out, want);
	free(big);
	free(s.data);
}

static void test_sink_refusal(void **state)
{
	(void)state;
	unsigned char *big = big_content(1 << 20);
	sink_buf s = { .limit = 10000 };
	zip_writer *z = zip_writer_new(1, 4096, 0, collect, &s);
	assert_int_equal(zip_entry_begin(z, "x"), 0);
	assert_int_equal(zip_entry_write(z, big, 1 << 20), -1);
	assert_non_null(strstr(zip_writer_error(z), "refused"));
	assert_int_equal(zip_entry_end(z), -1);
	assert_int_equal(zip_writer_finish(z), -1);
	zip_writer_free(z);
	free(big);
	free(s.data);
}

/* ---- encoders ------------------------------------------------------------------------------------- */

static void test_local_header_and_descriptor(void **state)
{
	(void)state;
	unsigned char b[ZIP_HEADER_MAX + 16];
	zip_entry_info e = { .name = "a.xml", .crc = 0x12345678, .compressed = 100, .uncompressed = 300,
	                     .dos_time = 0x6000, .dos_date = 0x5b82 };
	assert_int_equal(zip_encode_local_header(b, &e), 30 + 5);
	assert_int_equal(get32(b), 0x04034b50);
	assert_int_equal(get16(b + 6), 0x0008);  /* sizes in a data descriptor */
	assert_int_equal(get16(b + 8), 8);       /* deflate */
	assert_int_equal(get16(b + 10), 0x6000);
	assert_int_equal(get16(b + 12), 0x5b82);
	assert_int_equal(get32(b + 14), 0);
	assert_int_equal(get16(b + 26), 5);
	assert_memory_equal(b + 30, "a.xml", 5);

	assert_int_equal(zip_encode_data_descriptor(b, &e), 16);
	assert_int_equal(get32(b), 0x08074b50);
	assert_int_equal(get32(b + 4), 0x12345678);
	assert_int_equal(get32(b + 8), 100);
	assert_int_equal(get32(b + 12), 300);
	/* past 4 GiB: 8-byte sizes */
	e.uncompressed = 5000000000ULL;
	assert_int_equal(zip_encode_data_descriptor(b, &e), 24);
	assert_int_equal(get64(b + 8), 100);
	assert_int_equal(get64(b + 16), 5000000000ULL);
}

static void test_central_header_zip64(void **state)
{
	(void)state;
	unsigned char b[ZIP_HEADER_MAX + 16];
	zip_entry_info e = { .name = "s.xml", .crc = 0xCAFEBABE, .compressed = 1000, .uncompressed = 4000,
	                     .offset = 77 };
	assert_int_equal(zip_encode_central_header(b, &e), 46 + 5);
	assert_int_equal(get32(b), 0x02014b50);
	assert_int_equal(get16(b + 6), 20);
	assert_int_equal(get32(b + 16), 0xCAFEBABE);
	assert_int_equal(get32(b + 20), 1000);
	assert_int_equal(get32(b + 24), 4000);
	assert_int_equal(get16(b + 30), 0); /* no extra field */
	assert_int_equal(get32(b + 42), 77);

	/* every field past 32 bits: all three in the ZIP64 extra field, in APPNOTE's order */
	e.uncompressed = 0x1FFFFFFFFULL, e.compressed = 0x100000000ULL, e.offset = 0x300000000ULL;
	assert_int_equal(zip_encode_central_header(b, &e), 46 + 5 + 4 + 24);
	assert_int_equal(get16(b + 4), 45);
	assert_int_equal(get16(b + 6), 45);
	assert_int_equal(get32(b + 20), 0xFFFFFFFF);
	assert_int_equal(get32(b + 24), 0xFFFFFFFF);
	assert_int_equal(get16(b + 30), 28);
	assert_int_equal(get32(b + 42), 0xFFFFFFFF);
	const unsigned char *x = b + 46 + 5;
	assert_int_equal(get16(x), 0x0001);
	assert_int_equal(get16(x + 2), 24);
	assert_true(get64(x + 4) == 0x1FFFFFFFFULL);
	assert_true(get64(x + 12) == 0x100000000ULL);
	assert_true(get64(x + 20) == 0x300000000ULL);

	/* only the offset: the sizes stay in the header, the extra field holds the offset alone */
	e.uncompressed = 10, e.compressed = 12;
	assert_int_equal(zip_encode_central_header(b, &e), 46 + 5 + 4 + 8);
	assert_int_equal(get32(b + 20), 12);
	assert_int_equal(get32(b + 24), 10);
	assert_int_equal(get16(x + 2), 8);
	assert_true(get64(x + 4) == 0x300000000ULL);
}

static void test_end_records(void **state)
{
	(void)state;
	unsigned char b[ZIP_HEADER_MAX];
	assert_int_equal(zip_encode_end(b, 9, 600, 12345), 22);
	assert_int_equal(get32(b), 0x06054b50);
	assert_int_equal(get16(b + 8), 9);
	assert_int_equal(get16(b + 10), 9);
	assert_int_equal(get32(b + 12), 600);
	assert_int_equal(get32(b + 16), 12345);

	/* a directory past 4 GiB: ZIP64 end record, its locator, then the classic record saturated */
	uint64_t cd_offset = 0x123456789ULL;
	assert_int_equal(zip_encode_end(b, 70000, 5000, cd_offset), 56 + 20 + 22);
	assert_int_equal(get32(b), 0x06064b50);
	assert_true(get64(b + 4) == 44);
	assert_int_equal(get16(b + 12), 45);
	assert_true(get64(b + 24) == 70000);
	assert_true(get64(b + 32) == 70000);
	assert_true(get64(b + 40) == 5000);
	assert_true(get64(b + 48) == cd_offset);
	assert_int_equal(get32(b + 56), 0x07064b50);
	assert_true(get64(b + 64) == cd_offset + 5000); /* where the ZIP64 end record starts */
	assert_int_equal(get32(b + 72), 1);
	const unsigned char *e = b + 76;
	assert_int_equal(get32(e), 0x06054b50);
	assert_int_equal(get16(e + 8), 0xFFFF);
	assert_int_equal(get16(e + 10), 0xFFFF);
	assert_int_equal(get32(e + 12), 5000);
	assert_int_equal(get32(e + 16), 0xFFFFFFFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_through_python),
		cmocka_unit_test(test_sink_refusal),
		cmocka_unit_test(test_local_header_and_descriptor),
		cmocka_unit_test(test_central_header_zip64),
		cmocka_unit_test(test_end_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
