/* store_views: the views table (schema migration 7) — adding the counters the writer gathered and
 * reading them back per variant for the summary. The retention purge of whole days is store.c's
 * (store_purge_before). */
#ifndef EARSHOT_STORE_VIEWS_H
#define EARSHOT_STORE_VIEWS_H

#include <stdint.h>

#include "store.h"
#include "view_tally.h"

/* Adds every counter of t to the views table (an upsert each), inside the caller's transaction when
 * it holds one. 0, or -1 with *err (caller frees). */
int store_views_add(store *st, const view_tally *t, char **err);

/* Called once per variant ("" for views without one) with its number of views. 0 to go on, -1 to stop. */
typedef int (*views_fn)(void *ctx, const char *variant, int64_t views);

/* The views of form on every UTC day that overlaps [since, until) (ms), only of variant and device
 * when they are not NULL, per variant. 0, or -1 with *err. */
int store_views_count(store *st, const char *form, int64_t since, int64_t until, const char *variant,
                      const char *device, views_fn fn, void *ctx, char **err);

#endif
