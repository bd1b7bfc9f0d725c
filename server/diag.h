/* diag: a list of "path:line:col: message" problems found while reading files.
 * Readers collect every problem instead of stopping at the first; the caller (CLI, reload) prints them. */
#ifndef EARSHOT_DIAG_H
#define EARSHOT_DIAG_H

#include <stddef.h>

typedef struct diag_list {
	char **items; /* owned: each a malloc'd "path:line:col: message" line without newline */
	size_t n;
	size_t cap;
} diag_list;

void diag_init(diag_list *d);
/* Frees every item; the list can be reused after diag_init. */
void diag_free(diag_list *d);
/* Adds "path:line:col: message". line and col are 1-based; line 0 gives "path: message". */
void diag_add(diag_list *d, const char *path, size_t line, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Moves every item of src to the end of dst; src is left empty. */
void diag_move(diag_list *dst, diag_list *src);
/* Joins all items with newlines into one malloc'd string (caller frees); "" when empty. */
char *diag_join(const diag_list *d);

#endif
