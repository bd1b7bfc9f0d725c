/* zip_writer: a streaming ZIP archive over zlib's raw deflate (see zip_writer.h). Field layouts follow
 * PKWARE's APPNOTE.TXT 6.3: local file header (4.3.7), data descriptor (4.3.9), central directory
 * header (4.3.12), ZIP64 extra field (4.5.3), ZIP64 end of central directory record and locator
 * (4.3.14, 4.3.15), end of central directory record (4.3.16). All integers are little-endian. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "util.h"
#include "zip_writer.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_DESCRIPTOR 0x08074b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_ZIP64_END 0x06064b50u
#define SIG_ZIP64_LOCATOR 0x07064b50u
#define SIG_END 0x06054b50u
#define FLAG_DESCRIPTOR 0x0008u     /* general purpose bit 3: CRC and sizes follow the data */
#define METHOD_DEFLATE 8
#define VERSION_DEFAULT 20          /* 2.0: deflate */
#define VERSION_ZIP64 45            /* 4.5: ZIP64 */
#define MAX32 0xFFFFFFFFu
#define MAX16 0xFFFFu

struct zip_writer {
	zip_sink sink;
	void *sink_ctx;
	z_stream zs;
	unsigned char *out;          /* pending output, sent once it holds piece_size bytes */
	size_t out_len, piece_size;
	uint64_t written;            /* bytes of the archive so far, pending output included */
	zip_entry_info *entries;     /* owned, names owned */
	size_t n_entries, cap_entries;
	bool in_entry;
	uint16_t dos_time, dos_date;
	const char *error;
};

/* ---- encoders ----------------------------------------------------------------------------------- */

static unsigned char *put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	return p + 2;
}

static unsigned char *put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 4;
}

static unsigned char *put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 8;
}

static unsigned char *put_name(unsigned char *p, const char *name)
{
	size_t n = strlen(name);
	memcpy(p, name, n);
	return p + n;
}

size_t zip_encode_local_header(unsigned char *out, const zip_entry_info *e)
{
	unsigned char *p = put32(out, SIG_LOCAL);
	p = put16(p, VERSION_DEFAULT);
	p = put16(p, FLAG_DESCRIPTOR);
	p = put16(p, METHOD_DEFLATE);
	p = put16(p, e->dos_time);
	p = put16(p, e->dos_date);
	p = put32(p, 0); /* CRC-32 and both sizes: in the data descriptor */
	p = put32(p, 0);
	p = put32(p, 0);
	p = put16(p, (unsigned)strlen(e->name));
	p = put16(p, 0);
	p = put_name(p, e->name);
	return (size_t)(p - out);
}

size_t zip_encode_data_descriptor(unsigned char *out, const zip_entry_info *e)
{
	unsigned char *p = put32(out, SIG_DESCRIPTOR);
	p = put32(p, e->crc);
	if (e->compressed >= MAX32 || e->uncompressed >= MAX32) {
		p = put64(p, e->compressed);
		p = put64(p, e->uncompressed);
	} else {
		p = put32(p, (uint32_t)e->compressed);
		p = put32(p, (uint32_t)e->uncompressed);
	}
	return (size_t)(p - out);
}

size_t zip_encode_central_header(unsigned char *out, const zip_entry_info *e)
{
	bool big_u = e->uncompressed >= MAX32, big_c = e->compressed >= MAX32, big_o = e->offset >= MAX32;
	unsigned extra = (big_u || big_c || big_o) ? 4u + 8u * (big_u + big_c + big_o) : 0;
	unsigned version = extra ? VERSION_ZIP64 : VERSION_DEFAULT;
	unsigned char *p = put32(out, SIG_CENTRAL);
	p = put16(p, version); /* made by: MS-DOS attributes (none) */
	p = put16(p, version);
	p = put16(p, FLAG_DESCRIPTOR);
	p = put16(p, METHOD_DEFLATE);
	p = put16(p, e->dos_time);
	p = put16(p, e->dos_date);
	p = put32(p, e->crc);
	p = put32(p, big_c ? MAX32 : (uint32_t)e->compressed);
	p = put32(p, big_u ? MAX32 : (uint32_t)e->uncompressed);
	p = put16(p, (unsigned)strlen(e->name));
	p = put16(p, extra);
	p = put16(p, 0); /* comment */
	p = put16(p, 0); /* disk */
	p = put16(p, 0); /* internal attributes */
	p = put32(p, 0); /* external attributes */
	p = put32(p, big_o ? MAX32 : (uint32_t)e->offset);
	p = put_name(p, e->name);
	if (extra) { /* the fields present in this order: original size, compressed size, offset */
		p = put16(p, 0x0001);
		p = put16(p, extra - 4);
		if (big_u)
			p = put64(p, e->uncompressed);
		if (big_c)
			p = put64(p, e->compressed);
		if (big_o)
			p = put64(p, e->offset);
	}
	return (size_t)(p - out);
}

size_t zip_encode_end(unsigned char *out, uint64_t entries, uint64_t cd_size, uint64_t cd_offset)
{
	unsigned char *p = out;
	if (entries >= MAX16 || cd_size >= MAX32 || cd_offset >= MAX32) {
		uint64_t zip64_end_at = cd_offset + cd_size;
		p = put32(p, SIG_ZIP64_END);
		p = put64(p, 44); /* the record's size after this field */
		p = put16(p, VERSION_ZIP64);
		p = put16(p, VERSION_ZIP64);
		p = put32(p, 0); /* this disk */
		p = put32(p, 0); /* the directory's disk */
		p = put64(p, entries);
		p = put64(p, entries);
		p = put64(p, cd_size);
		p = put64(p, cd_offset);
		p = put32(p, SIG_ZIP64_LOCATOR);
		p = put32(p, 0);
		p = put64(p, zip64_end_at);
		p = put32(p, 1); /* disks */
	}
	p = put32(p, SIG_END);
	p = put16(p, 0);
	p = put16(p, 0);
	p = put16(p, entries >= MAX16 ? MAX16 : (unsigned)entries);
	p = put16(p, entries >= MAX16 ? MAX16 : (unsigned)entries);
	p = put32(p, cd_size >= MAX32 ? MAX32 : (uint32_t)cd_size);
	p = put32(p, cd_offset >= MAX32 ? MAX32 : (uint32_t)cd_offset);
	p = put16(p, 0); /* comment */
	return (size_t)(p - out);
}

/* ---- output ------------------------------------------------------------------------------------- */

/* Sets the error once and fails. Returns -1. */
static int fail(zip_writer *z, const char *why)
{
	if (z->error == NULL)
		z->error = why;
	return -1;
}

/* Sends the pending output. Returns 0 or -1. */
static int flush_out(zip_writer *z)
{
	if (z->out_len == 0)
		return 0;
	if (z->sink(z->sink_ctx, (const char *)z->out, z->out_len) != 0)
		return fail(z, "the output refused more data");
	z->out_len = 0;
	return 0;
}

/* Adds n bytes of archive structure to the pending output. Returns 0 or -1. */
static int put_bytes(zip_writer *z, const unsigned char *p, size_t n)
{
	z->written += n;
	while (n > 0) {
		size_t room = z->piece_size - z->out_len;
		size_t take = n < room ? n : room;
		memcpy(z->out + z->out_len, p, take);
		z->out_len += take;
		p += take;
		n -= take;
		if (z->out_len == z->piece_size && flush_out(z) != 0)
			return -1;
	}
	return 0;
}

/* Runs deflate over the input set in z->zs with the given flush mode, straight into the pending
 * output, until zlib needs more input (or, for Z_FINISH, has ended the stream). Returns 0 or -1. */
static int deflate_into_out(zip_writer *z, int flush)
{
	for (;;) {
		z->zs.next_out = z->out + z->out_len;
		z->zs.avail_out = (uInt)(z->piece_size - z->out_len);
		int rc = deflate(&z->zs, flush);
		size_t produced = (size_t)(z->zs.next_out - (z->out + z->out_len));
		z->out_len += produced;
		z->written += produced;
		z->entries[z->n_entries - 1].compressed += produced;
		if (rc == Z_STREAM_ERROR)
			return fail(z, "the compressor failed");
		if (z->out_len == z->piece_size && flush_out(z) != 0)
			return -1;
		if (flush == Z_FINISH ? rc == Z_STREAM_END : (z->zs.avail_in == 0 && z->zs.avail_out > 0))
			return 0;
	}
}

/* ---- entries ------------------------------------------------------------------------------------ */

zip_writer *zip_writer_new(int level, size_t piece_size, int64_t when, zip_sink sink, void *sink_ctx)
{
	zip_writer *z = xcalloc(1, sizeof *z);
	/* raw deflate (no zlib header), 32 KiB window, the most memory for speed */
	if (deflateInit2(&z->zs, level, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(z);
		return NULL;
	}
	z->sink = sink;
	z->sink_ctx = sink_ctx;
	z->piece_size = piece_size;
	z->out = xmalloc(piece_size);
	time_t t = (time_t)when;
	struct tm tm;
	gmtime_r(&t, &tm);
	if (tm.tm_year < 80) /* DOS dates start in 1980 */
		tm = (struct tm){ .tm_year = 80, .tm_mday = 1 };
	z->dos_time = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
	z->dos_date = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
	return z;
}

int zip_entry_begin(zip_writer *z, const char *name)
{
	if (z->error)
		return -1;
	if (z->in_entry && zip_entry_end(z) != 0)
		return -1;
	if (z->n_entries == z->cap_entries) {
		z->cap_entries = z->cap_entries ? 2 * z->cap_entries : 16;
		z->entries = xrealloc(z->entries, z->cap_entries * sizeof *z->entries);
	}
	zip_entry_info *e = &z->entries[z->n_entries++];
	*e = (zip_entry_info){ .name = xstrdup(name), .crc = (uint32_t)crc32(0L, Z_NULL, 0), .offset = z->written,
	                       .dos_time = z->dos_time, .dos_date = z->dos_date };
	unsigned char *head = xmalloc(ZIP_HEADER_MAX + strlen(name));
	int rc = put_bytes(z, head, zip_encode_local_header(head, e));
	free(head);
	if (rc != 0)
		return -1;
	if (deflateReset(&z->zs) != Z_OK)
		return fail(z, "the compressor failed");
	z->in_entry = true;
	return 0;
}

int zip_entry_write(zip_writer *z, const void *data, size_t len)
{
	if (z->error)
		return -1;
	if (!z->in_entry)
		return fail(z, "no entry is open");
	zip_entry_info *e = &z->entries[z->n_entries - 1];
	const unsigned char *p = data;
	while (len > 0) { /* zlib counts in uInt */
		uInt take = len > (1u << 30) ? (1u << 30) : (uInt)len;
		e->crc = (uint32_t)crc32(e->crc, p, take);
		e->uncompressed += take;
		z->zs.next_in = (Bytef *)(uintptr_t)p;
		z->zs.avail_in = take;
		if (deflate_into_out(z, Z_NO_FLUSH) != 0)
			return -1;
		p += take;
		len -= take;
	}
	return 0;
}

int zip_entry_end(zip_writer *z)
{
	if (z->error)
		return -1;
	if (!z->in_entry)
		return 0;
	z->zs.next_in = Z_NULL;
	z->zs.avail_in = 0;
	if (deflate_into_out(z, Z_FINISH) != 0)
		return -1;
	z->in_entry = false;
	unsigned char desc[ZIP_HEADER_MAX];
	return put_bytes(z, desc, zip_encode_data_descriptor(desc, &z->entries[z->n_entries - 1]));
}

int zip_writer_finish(zip_writer *z)
{
	if (z->error || zip_entry_end(z) != 0)
		return -1;
	uint64_t cd_offset = z->written;
	for (size_t i = 0; i < z->n_entries; i++) {
		const zip_entry_info *e = &z->entries[i];
		unsigned char *head = xmalloc(ZIP_HEADER_MAX + strlen(e->name));
		int rc = put_bytes(z, head, zip_encode_central_header(head, e));
		free(head);
		if (rc != 0)
			return -1;
	}
	unsigned char end[ZIP_HEADER_MAX];
	if (put_bytes(z, end, zip_encode_end(end, z->n_entries, z->written - cd_offset, cd_offset)) != 0)
		return -1;
	return flush_out(z);
}

const char *zip_writer_error(const zip_writer *z)
{
	return z->error;
}

void zip_writer_free(zip_writer *z)
{
	if (z == NULL)
		return;
	deflateEnd(&z->zs);
	for (size_t i = 0; i < z->n_entries; i++)
		free((char *)z->entries[i].name);
	free(z->entries);
	free(z->out);
	free(z);
}
