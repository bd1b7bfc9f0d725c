/* store_query: the filtered reads of the admin routes — a page of the responses listing, an export
 * cursor — built from a response_filter — and the read snapshot a summary is counted in. */
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

/* Starts a read transaction on st so that several counts see one snapshot. Returns 1 when it began one
 * (end it with store_snapshot_end), 0 when st was already in a transaction, -1 with *err. */
int store_snapshot_begin(store *st, char **err);
/* Ends the read transaction store_snapshot_begin returned begun (1) for; does nothing for 0 or -1. */
void store_snapshot_end(store *st, int begun);

#endif
