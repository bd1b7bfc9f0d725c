/* diag: collected "path:line:col: message" problems. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"

void diag_init(diag_list *d)
{
	memset(d, 0, sizeof *d);
}

void diag_free(diag_list *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i]);
	free(d->items);
	memset(d, 0, sizeof *d);
}

static void diag_push(diag_list *d, char *line)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->items = xrealloc(d->items, d->cap * sizeof *d->items);
	}
	d->items[d->n++] = line;
}

void diag_add(diag_list *d, const char *path, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	char *full;
	if (line > 0)
		full = xasprintf("%s:%zu:%zu: %s", path, line, col, msg);
	else
		full = xasprintf("%s: %s", path, msg);
	free(msg);
	diag_push(d, full);
}

void diag_move(diag_list *dst, diag_list *src)
{
	for (size_t i = 0; i < src->n; i++)
		diag_push(dst, src->items[i]);
	free(src->items);
	memset(src, 0, sizeof *src);
}

char *diag_join(const diag_list *d)
{
	size_t total = 1;
	for (size_t i = 0; i < d->n; i++)
		total += strlen(d->items[i]) + 1;
	char *out = xmalloc(total), *p = out;
	for (size_t i = 0; i < d->n; i++) {
		size_t len = strlen(d->items[i]);
		memcpy(p, d->items[i], len);
		p += len;
		if (i + 1 < d->n)
			*p++ = '\n';
	}
	*p = '\0';
	return out;
}
