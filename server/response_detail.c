/* response_detail: one answer in full and the answers per period (response_detail.h), from storage
 * operations only. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "response_detail.h"
#include "util.h"

#define DETAIL_DELIVERIES 100

/* The deliveries about the answer, newest first, as a new array. */
static int read_deliveries(store *st, const char *id, json_t **out, char **err)
{
	delivery_record *rows = NULL;
	size_t n = 0;
	if (store_outbox_for_response(st, id, DETAIL_DELIVERIES, &rows, &n, err) != 0)
		return -1;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(list, delivery_record_to_json(&rows[i]));
		delivery_record_clear(&rows[i]);
	}
	free(rows);
	*out = list;
	return 0;
}

/* The follow-up item of the answer, or a new JSON null. */
static int read_inbox_item(store *st, const char *id, int64_t now, json_t **out, char **err)
{
	char item_id[48];
	int64_t due;
	*out = NULL;
	int found = store_inbox_find_for_response(st, id, item_id, &due, err);
	if (found < 0 || (found == 1 && store_inbox_get(st, item_id, now, out, err) < 0))
		return -1;
	if (!*out)
		*out = json_null();
	return 0;
}

int response_detail_build(store *st, const char *form_id, const char *id, int64_t now, json_t **out, char **err)
{
	*out = NULL;
	int begun = store_snapshot_begin(st, err);
	if (begun < 0)
		return -1;
	json_t *response = NULL, *contacts = NULL, *offers = NULL, *deliveries = NULL, *item = NULL;
	int found = store_response_get(st, form_id, id, &response, err);
	if (found == 1 && (store_response_contacts(st, id, &contacts, err) != 0 ||
	                   store_offers_for_response(st, id, form_id, &offers, err) != 0 ||
	                   read_deliveries(st, id, &deliveries, err) != 0 ||
	                   read_inbox_item(st, id, now, &item, err) != 0))
		found = -1;
	store_snapshot_end(st, begun);
	if (found == 1) {
		*out = json_pack("{s:o, s:o, s:o, s:o, s:o}", "response", response, "contacts", contacts, "offers", offers,
		                 "deliveries", deliveries, "inbox", item);
		return 1;
	}
	json_decref(response);
	json_decref(contacts);
	json_decref(offers);
	json_decref(deliveries);
	json_decref(item);
	return found;
}

/* The first day (days since 1970-01-01, UTC) of the period holding the time ms. */
static int64_t period_start(int64_t ms, period p)
{
	int64_t day = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	if (p == PERIOD_DAY)
		return day;
	if (p == PERIOD_WEEK)
		return day - ((day % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday: Monday is 3 days before */
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	gmtime_r(&t, &tm);
	return day - (tm.tm_mday - 1);
}

typedef struct bucket {
	int64_t day;
	int64_t answers;
} bucket;

/* Adds one answer to the bucket of day in the array sorted by day, growing it as needed. */
static void count_in(bucket **list, size_t *n, size_t *cap, int64_t day)
{
	if (*n > 0 && (*list)[*n - 1].day == day) { /* answers arrive in time order: the usual case */
		(*list)[*n - 1].answers++;
		return;
	}
	size_t lo = 0, hi = *n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if ((*list)[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < *n && (*list)[lo].day == day) {
		(*list)[lo].answers++;
		return;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*list = xrealloc(*list, *cap * sizeof **list);
	}
	memmove(*list + lo + 1, *list + lo, (*n - lo) * sizeof **list);
	(*list)[lo] = (bucket){ day, 1 };
	(*n)++;
}

int answers_per_period(store *st, const char *form_id, const response_filter *flt, period p, json_t **out,
                       char **err)
{
	*out = NULL;
	store_cursor *cur = NULL;
	if (store_cursor_open_filtered(st, form_id, flt, &cur, err) != 0)
		return -1;
	bucket *list = NULL;
	size_t n = 0, cap = 0;
	response_raw raw;
	int rc;
	while ((rc = store_cursor_next_raw(cur, &raw, err)) == 1)
		count_in(&list, &n, &cap, period_start(raw.created_ms, p));
	store_cursor_close(cur);
	if (rc < 0) {
		free(list);
		return -1;
	}
	json_t *series = json_array();
	for (size_t i = 0; i < n; i++) {
		char iso[32];
		iso8601_format_ms(list[i].day * 86400000, iso);
		iso[10] = '\0';
		json_array_append_new(series, json_pack("{s:s, s:I}", "start", iso, "answers", (json_int_t)list[i].answers));
	}
	free(list);
	*out = series;
	return 0;
}
