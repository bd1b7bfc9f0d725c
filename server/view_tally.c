/* view_tally: a short list of view counters, found by linear search (a second's worth of views
 * touches few forms, days, variants and devices). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "view_tally.h"

void view_tally_add(view_tally *t, const char *form, int64_t day, const char *variant, const char *device,
                    int64_t count)
{
	view_count key = { .day = day, .count = count };
	snprintf(key.form, sizeof key.form, "%s", form);
	snprintf(key.variant, sizeof key.variant, "%s", variant ? variant : "");
	snprintf(key.device, sizeof key.device, "%s", device ? device : "");
	for (size_t i = 0; i < t->n; i++) {
		view_count *c = &t->items[i];
		if (c->day == key.day && strcmp(c->form, key.form) == 0 && strcmp(c->variant, key.variant) == 0 &&
		    strcmp(c->device, key.device) == 0) {
			c->count += count;
			return;
		}
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->items = xrealloc(t->items, t->cap * sizeof *t->items);
	}
	t->items[t->n++] = key;
}

void view_tally_merge(view_tally *t, const view_tally *from)
{
	for (size_t i = 0; i < from->n; i++) {
		const view_count *c = &from->items[i];
		view_tally_add(t, c->form, c->day, c->variant, c->device, c->count);
	}
}

void view_tally_take(view_tally *t, view_tally *out)
{
	*out = *t;
	memset(t, 0, sizeof *t);
}

void view_tally_clear(view_tally *t)
{
	free(t->items);
	memset(t, 0, sizeof *t);
}
