/* store_query: the filtered reads of the admin routes — a page of the responses listing, an export
 * cursor and the per-question counts behind the summary — built from a response_filter. */
#ifndef EARSHOT_STORE_QUERY_H
#define EARSHOT_STORE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "response_filter.h"
#include "store.h"

/* Up to limit responses of form matching flt, after the cursor after_seq (0: from the start) in
 * store order, or newest first when newest_first (after_seq then means "older than", 0 from the
 * newest). *out is a malloc'd array of *n records (caller clears each and frees it); *more is set when
 * further rows exist. 0, or -1 with *err. */
int store_response_page(store *st, const char *form, const response_filter *flt, int64_t after_seq,
                        bool newest_first, int limit, response_record **out, size_t *n, bool *more,
                        char **err);
/* An export cursor over the responses of form matching flt, in store order (see store_cursor_open). */
int store_cursor_open_filtered(store *st, const char *form, const response_filter *flt, store_cursor **out,
                               char **err);

/* Which rows of the answer index a count reads. */
typedef enum {
	COUNT_ANSWERS = 2,      /* one per stored answer */
	COUNT_VALUES = 0,       /* one per answered question: the value (NULL for long texts, arrays) */
	COUNT_ELEMENTS = 1,     /* one per element of an array answer (multi_choice options) */
} count_part;

/* How a count is grouped. */
typedef enum { GROUP_NONE, GROUP_VALUE, GROUP_VARIANT, GROUP_VALUE_VARIANT } count_group;

/* One group of a count: value is NULL for GROUP_NONE / GROUP_VARIANT or an SQL NULL; numbers come as
 * their decimal text with is_number set; variant is NULL when not grouped by it or absent. */
typedef struct count_row {
	const char *value;
	bool is_number;
	double number;
	const char *variant;
	int64_t count;
} count_row;

/* Called once per group; the strings are borrowed for the call. Returns 0, or -1 to stop. */
typedef int (*count_fn)(void *ctx, const count_row *row);

/* Counts the rows of part for question (ignored for COUNT_ANSWERS) of form's answers matching flt,
 * grouped as asked, calling fn per group (no call for an empty GROUP_NONE count gives 0: it is always
 * called once). 0, or -1 with *err. */
int store_count_values(store *st, const char *form, const response_filter *flt, const char *question,
                       count_part part, count_group group, count_fn fn, void *ctx, char **err);

/* Starts a read transaction on st so that several counts see one snapshot. Returns 1 when it began one
 * (end it with store_snapshot_end), 0 when st was already in a transaction, -1 with *err. */
int store_snapshot_begin(store *st, char **err);
/* Ends the read transaction store_snapshot_begin returned begun (1) for; does nothing for 0 or -1. */
void store_snapshot_end(store *st, int begun);

#endif
