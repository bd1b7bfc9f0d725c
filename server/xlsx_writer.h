/* xlsx_writer: an XLSX workbook (ECMA-376 SpreadsheetML) of one table written row by row into a
 * streaming zip (zip_writer.c): a bold header row on every worksheet, cells as inline strings, numbers
 * and booleans, and a new worksheet ("Responses 2", ...) whenever one is full. Nothing is kept but the
 * row being built, so memory stays flat whatever the number of rows. */
#ifndef EARSHOT_XLSX_WRITER_H
#define EARSHOT_XLSX_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zip_writer.h"

#define XLSX_ROWS_MAX 1048576u       /* rows of a worksheet, the header included (Excel's limit) */
#define XLSX_COLS_MAX 16384u         /* columns of a worksheet */
#define XLSX_STRING_MAX 32767u       /* bytes of one cell's text kept, at most (Excel's limit) */

typedef struct xlsx_writer xlsx_writer;

/* A workbook whose worksheets are named sheet_name, "<sheet_name> 2", ... and start with a bold row of
 * the ncols headers (borrowed: they must outlive the writer). Output goes to the sink in pieces of at
 * most piece_size bytes as the rows are written. Returns the writer (caller frees), or NULL with *err
 * (a static string). */
xlsx_writer *xlsx_writer_new(const char *sheet_name, const char *const *headers, size_t ncols, size_t piece_size,
                             zip_sink sink, void *sink_ctx, const char **err);
/* Worksheets hold at most rows rows, the header included (XLSX_ROWS_MAX unless set; at least 2). */
void xlsx_writer_set_sheet_rows(xlsx_writer *x, uint32_t rows);
/* Starts the next row, on a new worksheet when this one is full. Returns 0, or -1 (see _error). */
int xlsx_row_start(xlsx_writer *x);
/* Cells of the current row, at most once per column, in column order. A string cell holds s[0..n)
 * cleaned by xlsx_text (at most XLSX_STRING_MAX bytes) and is left out when empty; a number cell holds
 * the text of a number in XML Schema's xsd:double form (JSON number syntax is a subset of it). */
void xlsx_cell_string(xlsx_writer *x, size_t col, const char *s, size_t n);
void xlsx_cell_number(xlsx_writer *x, size_t col, const char *text, size_t n);
void xlsx_cell_bool(xlsx_writer *x, size_t col, bool v);
/* Ends the current row; its bytes may go to the sink. Returns 0 or -1. */
int xlsx_row_end(xlsx_writer *x);
/* Ends the last worksheet and writes the workbook's other parts and the zip's directory. 0 or -1. */
int xlsx_writer_finish(xlsx_writer *x);
/* Why the last call failed, or NULL. */
const char *xlsx_writer_error(const xlsx_writer *x);
void xlsx_writer_free(xlsx_writer *x);

#endif
