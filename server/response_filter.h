/* response_filter: the filter parameters shared by the admin summary, the paged responses listing and
 * the exports — one parser, no SQL (store_query.c turns a filter into SQL). */
#ifndef EARSHOT_RESPONSE_FILTER_H
#define EARSHOT_RESPONSE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FILTER_ATTRS_MAX 8
#define FILTER_TEXT_MAX 200

typedef struct response_filter {
	int64_t since, until;      /* [since, until) in ms; STORE_TIME_MIN / STORE_TIME_MAX when open */
	char *page;                /* owned or NULL: a glob on meta.page (* any run, ? one character) */
	char *tag;                 /* owned or NULL: one of the answer's tags */
	char *category;            /* owned or NULL: score.category, such as promoter */
	char *variant;             /* owned or NULL: meta.variant */
	char *device;              /* owned or NULL: meta.device */
	char *attrs[FILTER_ATTRS_MAX]; /* owned: meta member names that must be present (not null) */
	size_t n_attrs;
	char *q;                   /* owned or NULL: text that some text answer contains (any case) */
} response_filter;

/* Looks a query parameter up: its value (borrowed), or NULL when absent. */
typedef const char *(*filter_query_fn)(void *ctx, const char *name);

/* Reads since, until, page, tag, category, variant, device, attr (comma-separated names) and q through
 * get into *out (whatever it held is ignored). Returns 0 (caller clears *out with response_filter_clear), or -1 with
 * *parameter naming the bad parameter (a static string) and *err a sentence for the client (caller
 * frees); *out is then left cleared. */
int response_filter_parse(filter_query_fn get, void *ctx, response_filter *out, const char **parameter,
                          char **err);
/* Frees what f owns and resets it to "no filter". */
void response_filter_clear(response_filter *f);
/* True when f restricts nothing beyond the time range. */
bool response_filter_time_only(const response_filter *f);
/* The filter as a JSON-ready description is built by the summary (summary.c). */

#endif
