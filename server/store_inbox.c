/* store_inbox: the SQL of the follow-up inbox (inbox.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "inbox.h"
#include "store_internal.h"
#include "util.h"

#define INBOX_COLUMNS "id, form, response_id, contact, rule, priority, created_ms, due_ms, state, assignee, " \
	"note, done_ms, reminded_ms, notice"

/* Column i as a JSON string, or null. */
static json_t *text_or_null(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? json_string((const char *)t) : json_null();
}

/* Column i (milliseconds) as an ISO-8601 JSON string, or null for 0. */
static json_t *time_or_null(sqlite3_stmt *s, int i)
{
	int64_t ms = sqlite3_column_int64(s, i);
	if (ms == 0)
		return json_null();
	char buf[32];
	iso8601_format_ms(ms, buf);
	return json_string(buf);
}

/* The item JSON of the current row of a SELECT INBOX_COLUMNS statement. */
static json_t *row_to_json(sqlite3_stmt *s, int64_t now)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", text_or_null(s, 0));
	json_object_set_new(o, "form", text_or_null(s, 1));
	json_object_set_new(o, "response_id", text_or_null(s, 2));
	json_object_set_new(o, "contact", text_or_null(s, 3));
	json_object_set_new(o, "rule", text_or_null(s, 4));
	json_object_set_new(o, "priority", text_or_null(s, 5));
	json_object_set_new(o, "created_at", time_or_null(s, 6));
	json_object_set_new(o, "due_at", time_or_null(s, 7));
	const char *state = (const char *)sqlite3_column_text(s, 8);
	json_object_set_new(o, "state", json_string(state ? state : "open"));
	json_object_set_new(o, "assignee", text_or_null(s, 9));
	json_object_set_new(o, "note", text_or_null(s, 10));
	json_object_set_new(o, "done_at", time_or_null(s, 11));
	json_object_set_new(o, "reminded_at", time_or_null(s, 12));
	json_object_set_new(o, "overdue",
	                    json_boolean(state && strcmp(state, "open") == 0 && sqlite3_column_int64(s, 7) <= now));
	const char *notice_text = (const char *)sqlite3_column_text(s, 13);
	json_t *notice = notice_text ? json_loads(notice_text, 0, NULL) : NULL;
	json_t *title = json_object_get(notice, "title");
	json_t *answers = json_object_get(notice, "answers");
	json_object_set_new(o, "title", json_is_string(title) ? json_incref(title) : json_null());
	json_object_set_new(o, "answers", json_is_array(answers) ? json_incref(answers) : json_array());
	json_decref(notice);
	return o;
}

/* Steps s to the end, appending each row's item to a new array in *items; finalizes s. */
static int collect(store *st, sqlite3_stmt *s, int64_t now, const char *op, json_t **items, char **err)
{
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(arr, row_to_json(s, now));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_fail(st, op, err);
	}
	*items = arr;
	return 0;
}

/* Newest first, filtered by state and form. */
int sqlite_inbox_list(store *st, const char *state, const char *form_id, int64_t now, int limit, json_t **items,
                     char **err)
{
	const char *op = "list the inbox";
	*items = NULL;
	sqlite3_stmt *s = store_prepare(st,
		"SELECT " INBOX_COLUMNS " FROM inbox WHERE (?1 IS NULL OR form = ?1) AND "
		"(?2 IS NULL OR (?2 = 'overdue' AND state = 'open' AND due_ms <= ?3) OR (?2 <> 'overdue' AND state = ?2)) "
		"ORDER BY seq DESC LIMIT ?4", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, form_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int(s, 4, limit);
	return collect(st, s, now, op, items, err);
}

/* One item by id. */
int sqlite_inbox_get(store *st, const char *id, int64_t now, json_t **item, char **err)
{
	json_t *items = NULL;
	const char *op = "read an inbox item";
	*item = NULL;
	sqlite3_stmt *s = store_prepare(st, "SELECT " INBOX_COLUMNS " FROM inbox WHERE id = ?1", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (collect(st, s, now, op, &items, err) != 0)
		return -1;
	if (json_array_size(items) == 1)
		*item = json_incref(json_array_get(items, 0));
	json_decref(items);
	return *item ? 1 : 0;
}

/* Updates the given fields. */
int sqlite_inbox_update(store *st, const char *id, const char *state, const char *assignee, const char *note,
                       int64_t now, char **err)
{
	const char *op = "update an inbox item";
	sqlite3_stmt *s = store_prepare(st,
		"UPDATE inbox SET "
		"  done_ms = CASE WHEN ?2 = 'done' AND state <> 'done' THEN ?5 WHEN ?2 = 'open' THEN 0 ELSE done_ms END,"
		"  state = coalesce(?2, state),"
		"  assignee = CASE WHEN ?3 IS NULL THEN assignee WHEN ?3 = '' THEN NULL ELSE ?3 END,"
		"  note = CASE WHEN ?4 IS NULL THEN note WHEN ?4 = '' THEN NULL ELSE ?4 END "
		"WHERE id = ?1", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, assignee, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, note, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	if (store_run_once(st, s, op, err) != 0)
		return -1;
	return sqlite3_changes(store_sqlite(st)) > 0 ? 1 : 0;
}

/* Items of the answers linked to contact_id. */
int sqlite_inbox_for_contact(store *st, int64_t contact_id, int64_t now, json_t **items, char **err)
{
	const char *op = "read a contact's inbox items";
	*items = NULL;
	sqlite3_stmt *s = store_prepare(st,
		"SELECT " INBOX_COLUMNS " FROM inbox WHERE response_id IN "
		"(SELECT response_id FROM response_contacts WHERE contact_id = ?1) ORDER BY seq DESC", op, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	return collect(st, s, now, op, items, err);
}

/* Open and overdue counts. */
int sqlite_inbox_counts(store *st, int64_t now, int64_t *open, int64_t *overdue, char **err)
{
	const char *op = "count inbox items";
	sqlite3_stmt *s = store_prepare(st,
		"SELECT count(*), coalesce(sum(due_ms <= ?1), 0) FROM inbox WHERE state = 'open'", op, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*open = sqlite3_column_int64(s, 0);
		*overdue = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_fail(st, op, err);
}

/* The item opened for response_id. */
int sqlite_inbox_find_for_response(store *st, const char *response_id, char id[48], int64_t *due_ms, char **err)
{
	const char *op = "find an answer's inbox item";
	static const char sql[] = "SELECT id, due_ms FROM inbox WHERE response_id = ?1";
	sqlite3_stmt *s = store_cached(st, sql, op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, response_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW) {
		snprintf(id, 48, "%s", (const char *)sqlite3_column_text(s, 0));
		*due_ms = sqlite3_column_int64(s, 1);
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = store_fail(st, op, err);
	}
	store_done(s);
	return ret;
}

/* A new open item. */
int sqlite_inbox_insert(store *st, const char *id, const char *form_id, const char *response_id, const char *contact,
                       const char *rule, const char *priority, int64_t created_ms, int64_t due_ms,
                       const char *dest, const char *notice, char **err)
{
	const char *op = "open an inbox item";
	static const char sql[] =
		"INSERT INTO inbox (id, form, response_id, contact, rule, priority, created_ms, due_ms, destinations, notice) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, json_array(?9), ?10)";
	sqlite3_stmt *s = store_cached(st, sql, op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, form_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, response_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, contact, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, priority ? priority : "normal", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, created_ms);
	sqlite3_bind_int64(s, 8, due_ms);
	sqlite3_bind_text(s, 9, dest, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, notice, -1, SQLITE_STATIC);
	return store_run_cached(st, s, op, err);
}

/* Appends dest to the JSON list unless present. */
int sqlite_inbox_add_destination(store *st, const char *id, const char *dest, char **err)
{
	const char *op = "route an inbox item";
	static const char sql[] =
		"UPDATE inbox SET destinations = json_insert(destinations, '$[#]', ?2) WHERE id = ?1 AND NOT EXISTS "
		"(SELECT 1 FROM json_each(inbox.destinations) WHERE value = ?2)";
	sqlite3_stmt *s = store_cached(st, sql, op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, dest, -1, SQLITE_STATIC);
	return store_run_cached(st, s, op, err);
}

/* Open, past due, not yet reminded. */
int sqlite_inbox_reminders_due(store *st, int64_t now, int limit, json_t **rows, char **err)
{
	const char *op = "read overdue inbox items";
	*rows = NULL;
	sqlite3_stmt *s = store_prepare(st,
		"SELECT id, form, response_id, destinations, notice FROM inbox WHERE state = 'open' AND reminded_ms = 0 "
		"AND due_ms <= ?1 ORDER BY due_ms LIMIT ?2", op, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int(s, 2, limit);
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *dests = (const char *)sqlite3_column_text(s, 3);
		const char *notice = (const char *)sqlite3_column_text(s, 4);
		json_t *d = dests ? json_loads(dests, 0, NULL) : NULL;
		json_t *n = notice ? json_loads(notice, 0, NULL) : NULL;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", sqlite3_column_text(s, 0), "form",
		                                     sqlite3_column_text(s, 1), "response_id", sqlite3_column_text(s, 2),
		                                     "destinations", json_is_array(d) ? d : json_array(), "notice",
		                                     json_is_object(n) ? n : json_object()));
		if (d && !json_is_array(d))
			json_decref(d);
		if (n && !json_is_object(n))
			json_decref(n);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_fail(st, op, err);
	}
	*rows = arr;
	return 0;
}

/* reminded_ms = now. */
int sqlite_inbox_mark_reminded(store *st, const char *id, int64_t now, char **err)
{
	const char *op = "mark an inbox item reminded";
	sqlite3_stmt *s = store_prepare(st, "UPDATE inbox SET reminded_ms = ?2 WHERE id = ?1", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	return store_run_once(st, s, op, err);
}

/* Column i parsed as JSON, or fallback (a new reference) when NULL or malformed. */
static json_t *json_column(sqlite3_stmt *s, int i, json_t *fallback)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	json_t *v = t ? json_loads(t, 0, NULL) : NULL;
	if (!v)
		return fallback;
	json_decref(fallback);
	return v;
}

/* Answers (listing shape) and offers of the contact's linked responses, plus its inbox items. */
int sqlite_contact_card(store *st, int64_t contact_id, int64_t now, json_t **card, char **err)
{
	const char *op = "read a contact card";
	*card = NULL;
	sqlite3_stmt *s = store_prepare(st,
		"SELECT id, form, created_ms, answers, meta, score, tags FROM responses WHERE id IN "
		"(SELECT response_id FROM response_contacts WHERE contact_id = ?1) ORDER BY seq DESC LIMIT 1000", op, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	json_t *responses = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_object();
		json_object_set_new(o, "id", text_or_null(s, 0));
		json_object_set_new(o, "form", text_or_null(s, 1));
		json_object_set_new(o, "created_at", time_or_null(s, 2));
		json_object_set_new(o, "answers", json_column(s, 3, json_object()));
		json_object_set_new(o, "meta", json_column(s, 4, json_object()));
		json_object_set_new(o, "tags", json_column(s, 6, json_array()));
		if (sqlite3_column_type(s, 5) != SQLITE_NULL)
			json_object_set_new(o, "score", json_column(s, 5, json_object()));
		json_array_append_new(responses, o);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		json_decref(responses);
		return store_fail(st, op, err);
	}
	s = store_prepare(st,
		"SELECT response_id, form, text, code FROM offers WHERE response_id IN "
		"(SELECT response_id FROM response_contacts WHERE contact_id = ?1) ORDER BY response_id, seq", op, err);
	if (!s) {
		json_decref(responses);
		return -1;
	}
	sqlite3_bind_int64(s, 1, contact_id);
	json_t *offers = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(offers, json_pack("{s:o, s:o, s:o, s:o}", "response_id", text_or_null(s, 0), "form",
		                                        text_or_null(s, 1), "text", text_or_null(s, 2), "code",
		                                        text_or_null(s, 3)));
	sqlite3_finalize(s);
	json_t *items = NULL;
	if (rc != SQLITE_DONE || sqlite_inbox_for_contact(st, contact_id, now, &items, err) != 0) {
		if (rc != SQLITE_DONE)
			store_fail(st, op, err);
		json_decref(responses);
		json_decref(offers);
		return -1;
	}
	*card = json_pack("{s:o, s:o, s:o}", "responses", responses, "offers", offers, "inbox", items);
	return 0;
}

/* Every stored answer, all forms (for /metrics). */
int sqlite_answers_total(store *st, int64_t *n, char **err)
{
	const char *op = "count answers";
	sqlite3_stmt *s = store_prepare(st, "SELECT count(*) FROM responses", op, err);
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_fail(st, op, err);
}
