/* availability: whether a form takes answers now — its trigger.schedule and its
 * trigger.max_responses against the answers stored. The routes ask before serving a form; the writer
 * asks again inside the answer's transaction, which makes the quota exact under concurrent submits. */
#ifndef EARSHOT_AVAILABILITY_H
#define EARSHOT_AVAILABILITY_H

#include <stdint.h>

#include "form.h"
#include "storage.h"

typedef enum { AVAIL_OPEN, AVAIL_NOT_STARTED, AVAIL_ENDED, AVAIL_QUOTA_REACHED } availability;

/* Whether f takes answers at time now (ms). The quota is counted through st (a transaction open on
 * st sees its own uncommitted answers). Returns AVAIL_* , or -1 with *err (caller frees) when the
 * count failed. */
int availability_of(const form *f, store *st, int64_t now, char **err);

/* The machine-readable reason of a closed form: "not_started", "ended", "quota_reached" (static). */
const char *availability_reason(availability a);

#endif
