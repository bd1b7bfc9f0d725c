/* xlsx_text: makes answer text safe for a spreadsheet cell. XML 1.0 forbids most C0 control
 * characters, U+FFFE, U+FFFF and surrogates, and one of them in a cell makes the whole workbook
 * unreadable; OOXML also reads "_xHHHH_" in cell text as an escaped character, so an answer that
 * literally holds "_x003D_" would come back as "=". */
#ifndef EARSHOT_XLSX_TEXT_H
#define EARSHOT_XLSX_TEXT_H

#include <stddef.h>

/* The text of s (NUL-terminated, UTF-8 expected) for an XLSX cell: every character XML 1.0 forbids,
 * and every byte that is not valid UTF-8, becomes U+FFFD; every "_x" that starts an "_xHHHH_"
 * sequence is written "_x005F_x" so that a spreadsheet shows it literally. At most max_bytes of s are
 * used, cut on a character boundary (Excel's cell limit). Returns a malloc'd string (caller frees). */
char *xlsx_cell_text(const char *s, size_t max_bytes);
/* The length of s[0..n) cut to at most max_bytes on a character boundary. */
size_t xlsx_text_cut(const char *s, size_t n, size_t max_bytes);
/* Writes xlsx_cell_text's text of s[0..n) (no cut) at out as XML element content, with & < > as
 * entities. Returns the bytes written; out needs room for 5 * n bytes. */
size_t xlsx_text_xml(const char *s, size_t n, char *out);

#endif
