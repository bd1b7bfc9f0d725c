/* store_response_detail: the reads behind the dashboard's expanded answer and its answers-per-period
 * chart (response_detail.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "contacts.h"
#include "inbox.h"
#include "outbox.h"
#include "response_detail.h"
#include "store_internal.h"
#include "store_query.h"
#include "util.h"

#define DETAIL_DELIVERIES 100

/* Column i parsed as JSON, or a new fallback (array or object) when NULL or malformed. */
static json_t *json_column(sqlite3_stmt *s, int i, bool array)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	json_t *v = t ? json_loads(t, 0, NULL) : NULL;
	return v ? v : array ? json_array() : json_object();
}

/* The answer in listing shape: 1 with *out, 0 when form has no answer id, -1 with *err. */
static int read_response(store *st, const char *form_id, const char *id, json_t **out, char **err)
{
	const char *op = "read an answer";
	sqlite3_stmt *s = store_cached(st,
		"SELECT id, form, created_ms, answers, meta, score, tags, confirmed FROM responses "
		"WHERE id = ?1 AND form = ?2", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, form_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW) {
		response_record r;
		memset(&r, 0, sizeof r);
		snprintf(r.id, sizeof r.id, "%s", (const char *)sqlite3_column_text(s, 0));
		snprintf(r.form, sizeof r.form, "%s", (const char *)sqlite3_column_text(s, 1));
		r.created_ms = sqlite3_column_int64(s, 2);
		r.answers = json_column(s, 3, false);
		r.meta = json_column(s, 4, false);
		r.score = sqlite3_column_type(s, 5) == SQLITE_NULL ? NULL : json_column(s, 5, false);
		r.tags = json_column(s, 6, true);
		if (sqlite3_column_type(s, 7) != SQLITE_NULL)
			r.confirmed = sqlite3_column_int(s, 7) ? RESPONSE_CONFIRM_DONE : RESPONSE_CONFIRM_PENDING;
		*out = response_record_to_json(&r);
		response_record_clear(&r);
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = store_fail(st, op, err);
	}
	store_done(s);
	return ret;
}

/* The email addresses and phone numbers of the contacts the answer is linked to, as a new array. */
static int read_contacts(store *st, const char *id, json_t **out, char **err)
{
	const char *op = "read the contacts of an answer";
	sqlite3_stmt *s = store_cached(st,
		"SELECT k.kind, k.key FROM contact_keys k JOIN response_contacts c ON c.contact_id = k.contact_id "
		"WHERE c.response_id = ?1 ORDER BY k.kind, k.key", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	json_t *list = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *c = json_pack("{s:s, s:s}", "kind", (const char *)sqlite3_column_text(s, 0), "key",
		                      (const char *)sqlite3_column_text(s, 1));
		if (c)
			json_array_append_new(list, c);
	}
	store_done(s);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		return store_fail(st, op, err);
	}
	*out = list;
	return 0;
}

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
	int found = store_inbox_find_for_response(st, id, item_id, &due, err);
	if (found < 0)
		return -1;
	*out = NULL;
	if (found == 1 && store_inbox_get(st, item_id, now, out, err) < 0)
		return -1;
	if (!*out)
		*out = json_null();
	return 0;
}

int store_response_detail(store *st, const char *form_id, const char *id, int64_t now, json_t **out, char **err)
{
	*out = NULL;
	int begun = store_snapshot_begin(st, err);
	if (begun < 0)
		return -1;
	json_t *response = NULL, *contacts = NULL, *offers = NULL, *deliveries = NULL, *item = NULL;
	int found = read_response(st, form_id, id, &response, err);
	if (found == 1 && (read_contacts(st, id, &contacts, err) != 0 ||
	                   store_offers_for_response(st, id, form_id, &offers, err) != 0 ||
	                   read_deliveries(st, id, &deliveries, err) != 0 ||
	                   read_inbox_item(st, id, now, &item, err) != 0))
		found = -1;
	store_snapshot_end(st, begun);
	if (found == 1)
		*out = json_pack("{s:o, s:o, s:o, s:o, s:o}", "response", response, "contacts", contacts, "offers", offers,
		                 "deliveries", deliveries, "inbox", item);
	else {
		json_decref(response);
		json_decref(contacts);
		json_decref(offers);
		json_decref(deliveries);
		json_decref(item);
	}
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
	size_t lo = 0, hi = *n;
	if (*n > 0 && (*list)[*n - 1].day == day) { /* answers arrive in time order: the usual case */
		(*list)[*n - 1].answers++;
		return;
	}
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

int store_answers_per_period(store *st, const char *form_id, const response_filter *flt, period p, json_t **out,
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
