/* response_detail: what the dashboard reads beside the summary, built from storage operations — one
 * answer with what followed from it (contact keys, offers, deliveries, follow-up item), and the answers
 * of a form counted per day, week or month. */
#ifndef EARSHOT_RESPONSE_DETAIL_H
#define EARSHOT_RESPONSE_DETAIL_H

#include <stdint.h>

#include <jansson.h>

#include "response_filter.h"
#include "storage.h"

/* The answer id of form_id from one read snapshot, as {"response":{listing shape},"contacts":[{"kind",
 * "key"}],"offers":[{"text","code"?}],"deliveries":[delivery rows, newest first, at most 100],
 * "inbox":item|null}. 1 with *out (caller owns), 0 when form_id has no answer id, -1 with *err. */
int response_detail_build(store *st, const char *form_id, const char *id, int64_t now, json_t **out, char **err);

typedef enum { PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH } period;

/* The answers of form_id matching flt counted per UTC period (weeks start on Monday), as a new array of
 * {"start":"YYYY-MM-DD","answers":n} in time order, periods without answers left out. 0 with *out
 * (caller owns), or -1 with *err. */
int answers_per_period(store *st, const char *form_id, const response_filter *flt, period p, json_t **out,
                       char **err);

#endif
