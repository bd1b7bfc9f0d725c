/* zip_writer: a ZIP archive (PKWARE APPNOTE 6.3) written front to back to a sink while it is built.
 * Entries are deflated with zlib; their CRC-32 and sizes follow the data in a data descriptor, so
 * nothing is held back or read again. The central directory goes out at the end, with ZIP64 fields
 * and records wherever a size, an offset or the number of entries passes its 32- or 16-bit field. */
#ifndef EARSHOT_ZIP_WRITER_H
#define EARSHOT_ZIP_WRITER_H

#include <stddef.h>
#include <stdint.h>

/* Receives output bytes; returns 0, or -1 to stop. */
typedef int (*zip_sink)(void *ctx, const char *data, size_t len);

typedef struct zip_writer zip_writer;

/* What the central directory says about one entry. */
typedef struct zip_entry_info {
	const char *name;
	uint32_t crc;
	uint64_t compressed, uncompressed;
	uint64_t offset;             /* of its local header from the start of the archive */
	uint16_t dos_time, dos_date;
} zip_entry_info;

/* Largest header any zip_encode_* function writes, name excluded. */
#define ZIP_HEADER_MAX 128

/* A writer deflating at level (1 fast .. 9 small) that hands the sink pieces of at most piece_size
 * bytes (and exactly piece_size except the last). Entries are dated `when` (seconds since the epoch,
 * UTC). Returns the writer (caller frees with zip_writer_free), or NULL when zlib cannot start. */
zip_writer *zip_writer_new(int level, size_t piece_size, int64_t when, zip_sink sink, void *sink_ctx);
/* Starts the entry `name` (copied), ending the one before if needed. Returns 0 or -1. */
int zip_entry_begin(zip_writer *z, const char *name);
/* Adds len bytes to the current entry. Returns 0 or -1. */
int zip_entry_write(zip_writer *z, const void *data, size_t len);
/* Ends the current entry (its data descriptor). Returns 0 or -1. */
int zip_entry_end(zip_writer *z);
/* Ends the last entry and writes the central directory; everything goes to the sink. Returns 0 or -1. */
int zip_writer_finish(zip_writer *z);
/* Why the last call failed (a static string), or NULL. */
const char *zip_writer_error(const zip_writer *z);
void zip_writer_free(zip_writer *z);

/* Header encoders, exposed for tests. Each writes at out (room for ZIP_HEADER_MAX bytes plus the
 * name) and returns the bytes written. */
size_t zip_encode_local_header(unsigned char *out, const zip_entry_info *e);
/* 16 bytes, or 24 with 8-byte sizes when either size needs more than 32 bits. */
size_t zip_encode_data_descriptor(unsigned char *out, const zip_entry_info *e);
/* With a ZIP64 extra field holding each of the sizes and the offset that does not fit 32 bits. */
size_t zip_encode_central_header(unsigned char *out, const zip_entry_info *e);
/* The end of central directory record, preceded by the ZIP64 end record and its locator when the
 * entry count, the directory's size or its offset does not fit. cd_offset is where the directory
 * starts; the records are written right after it. */
size_t zip_encode_end(unsigned char *out, uint64_t entries, uint64_t cd_size, uint64_t cd_offset);

#endif
