/* response_detail: one answer with what followed from it (contact keys, offers, deliveries, follow-up
 * item), and the answers of a form counted per day, week or month — the dashboard's expanded answer
 * and its answers-per-period chart. */
#ifndef EARSHOT_RESPONSE_DETAIL_H
#define EARSHOT_RESPONSE_DETAIL_H

#include <stdint.h>

#include <jansson.h>

#include "response_filter.h"
#include "store.h"

/* The answer id of form from one read snapshot, as {"response":{listing shape},"contacts":[{"kind",
 * "key"}],"offers":[{"text","code"?}],"deliveries":[delivery rows, newest first, at most 100],
 * "inbox":item|null}. 1 with *out (caller owns), 0 when form has no answer id, -1 with *err. */
int store_response_detail(store *st, const char *form_id, const char *id, int64_t now, json_t **out, char **err);

typedef enum { PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH } period;

/* The answers of form matching flt counted per UTC period (weeks start on Monday), as a new array of
 * {"start":"YYYY-MM-DD","answers":n} in time order, periods without answers left out. 0 with *out
 * (caller owns), or -1 with *err. */
int store_answers_per_period(store *st, const char *form_id, const response_filter *flt, period p, json_t **out,
                             char **err);

#endif
