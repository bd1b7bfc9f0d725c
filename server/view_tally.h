/* view_tally: views counted in memory until the writer adds them to the stored counters (storage.h):
 * one count per form, UTC day, wording variant and device class. Not thread-safe: the writer keeps
 * its tally under its own lock. Its size is bounded by the forms, their variants and the three
 * device classes, since the routes only count views of known forms with known variants. */
#ifndef EARSHOT_VIEW_TALLY_H
#define EARSHOT_VIEW_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "storage.h" /* view_count */

typedef struct view_tally {
	view_count *items; /* owned */
	size_t n, cap;
} view_tally;

/* Adds count views of form on day with variant and device (either may be NULL: none). Names longer
 * than the fields are cut (the routes pass only form ids, variant ids and device classes). */
void view_tally_add(view_tally *t, const char *form, int64_t day, const char *variant, const char *device,
                    int64_t count);
/* Adds every counter of from into t. */
void view_tally_merge(view_tally *t, const view_tally *from);
/* Moves t's counters into *out (which the caller clears with view_tally_clear) and empties t. */
void view_tally_take(view_tally *t, view_tally *out);
/* Frees the counters and empties t. */
void view_tally_clear(view_tally *t);

#endif
