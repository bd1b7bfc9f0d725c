/* export: CSV (RFC 4180, formula-injection guard), NDJSON and XLSX writers over a stream of stored
 * responses, in constant memory. Bytes go to a sink so that the same code feeds an HTTP chunked reply
 * and the CLI's file. */
#ifndef EARSHOT_EXPORT_H
#define EARSHOT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "form.h"
#include "response.h"

typedef enum { EXPORT_CSV, EXPORT_NDJSON, EXPORT_XLSX } export_format;

/* Receives output bytes; returns 0, or -1 to stop the export. */
typedef int (*export_sink)(void *ctx, const char *data, size_t len);

typedef struct export_writer export_writer;

/* Parses "csv" / "ndjson" / "xlsx". Returns 0 or -1. */
int export_format_parse(const char *name, export_format *out);
/* MIME type and file extension of a format. */
const char *export_format_mime(export_format f);
const char *export_format_ext(export_format f);

/* Starts an export of form f's responses. bom adds a UTF-8 byte-order mark to CSV. The CSV header row
 * is id,created_at,<question ids in form order>,score,category,tags,page. XLSX goes to the sink in
 * compressed pieces as rows are written, the end of the workbook at export_writer_finish.
 * Returns a writer (caller frees), or NULL with *err. */
export_writer *export_writer_new(export_format fmt, const form *f, bool bom, export_sink sink,
                                 void *sink_ctx, char **err);
/* Writes one response. Returns 0, or -1 with *err (a sink refusal included). */
int export_writer_row(export_writer *w, const response_record *r, char **err);
/* Writes one response given as the store's texts (store_cursor_next_raw): the same bytes as
 * export_writer_row for the same answer, without building JSON trees for CSV and NDJSON. Returns 0,
 * or -1 with *err (a column that is not well-formed JSON included). */
int export_writer_row_raw(export_writer *w, const response_raw *r, char **err);
/* XLSX: worksheets hold at most rows rows, the header row included (1,048,576, Excel's limit, unless
 * set; at least 2); the rows after go to "Responses 2" and so on. Set before the first row. */
void export_writer_set_sheet_rows(export_writer *w, unsigned rows);
/* Ends the export (writes the header for an empty CSV, ends the XLSX workbook). Returns 0 or -1 with *err. */
int export_writer_finish(export_writer *w, char **err);
void export_writer_free(export_writer *w);

/* CSV: appends one cell to buf (malloc'd, grown as needed) quoting per RFC 4180 and prefixing "'"
 * when the value starts with = + - @ tab or CR. Exposed for unit tests. */
void csv_append_cell(char **buf, size_t *len, size_t *cap, const char *value);
/* The text of an answer value in a cell: strings as they are, numbers, true/false, arrays joined with
 * "; ". Returns a malloc'd string (caller frees). */
char *export_value_text(const json_t *value);

#endif
