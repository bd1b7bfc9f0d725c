/* store_pg_inbox: the PostgreSQL backend's follow-up inbox, contact card and answer total. Overdue
 * items are picked for reminders by one node at a time (FOR UPDATE SKIP LOCKED inside the caller's
 * transaction), so each item gets one reminder however many nodes run the reminder thread. */
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util.h"

#define INBOX_COLUMNS "id, form, response_id, contact, rule, priority, created_ms, due_ms, state, assignee, " \
	"note, done_ms, reminded_ms, notice"

static json_t *text_or_null(PGresult *res, int row, int col)
{
	const char *t = pg_get_text(res, row, col);
	return t ? json_string(t) : json_null();
}

static json_t *time_or_null(PGresult *res, int row, int col)
{
	int64_t ms = pg_get_int(res, row, col);
	if (ms == 0)
		return json_null();
	char buf[32];
	iso8601_format_ms(ms, buf);
	return json_string(buf);
}

/* Column col parsed as JSON, or fallback (a new reference) when NULL or malformed. */
static json_t *json_column(PGresult *res, int row, int col, json_t *fallback)
{
	const char *t = pg_get_text(res, row, col);
	json_t *v = t ? json_loads(t, 0, NULL) : NULL;
	if (!v)
		return fallback;
	json_decref(fallback);
	return v;
}

static json_t *row_to_json(PGresult *res, int i, int64_t now)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", text_or_null(res, i, 0));
	json_object_set_new(o, "form", text_or_null(res, i, 1));
	json_object_set_new(o, "response_id", text_or_null(res, i, 2));
	json_object_set_new(o, "contact", text_or_null(res, i, 3));
	json_object_set_new(o, "rule", text_or_null(res, i, 4));
	json_object_set_new(o, "priority", text_or_null(res, i, 5));
	json_object_set_new(o, "created_at", time_or_null(res, i, 6));
	json_object_set_new(o, "due_at", time_or_null(res, i, 7));
	const char *state = pg_get_text(res, i, 8);
	json_object_set_new(o, "state", json_string(state ? state : "open"));
	json_object_set_new(o, "assignee", text_or_null(res, i, 9));
	json_object_set_new(o, "note", text_or_null(res, i, 10));
	json_object_set_new(o, "done_at", time_or_null(res, i, 11));
	json_object_set_new(o, "reminded_at", time_or_null(res, i, 12));
	json_object_set_new(o, "overdue", json_boolean(state && strcmp(state, "open") == 0 && pg_get_int(res, i, 7) <= now));
	json_t *notice = json_column(res, i, 13, NULL);
	json_t *title = json_object_get(notice, "title");
	json_t *answers = json_object_get(notice, "answers");
	json_object_set_new(o, "title", json_is_string(title) ? json_incref(title) : json_null());
	json_object_set_new(o, "answers", json_is_array(answers) ? json_incref(answers) : json_array());
	json_decref(notice);
	return o;
}

/* Runs sql and collects each row's item into a new array in *items. */
static int collect(store *st, const char *sql, const pg_params *p, int64_t now, const char *op, json_t **items,
                   char **err)
{
	*items = NULL;
	PGresult *res = pg_exec(st, sql, p, op, err);
	if (!res)
		return -1;
	json_t *arr = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(arr, row_to_json(res, i, now));
	PQclear(res);
	*items = arr;
	return 0;
}

int pg_inbox_list(store *st, const char *state, const char *form_id, int64_t now, int limit, json_t **items,
                  char **err)
{
	pg_params p = { 0 };
	pg_text(&p, form_id);
	pg_text(&p, state);
	pg_int(&p, now);
	pg_int(&p, limit);
	return collect(st, "SELECT " INBOX_COLUMNS " FROM inbox WHERE ($1::text IS NULL OR form = $1) AND "
	                   "($2::text IS NULL OR ($2 = 'overdue' AND state = 'open' AND due_ms <= $3) OR "
	                   "($2 <> 'overdue' AND state = $2)) ORDER BY seq DESC LIMIT $4",
	               &p, now, "list the inbox", items, err);
}

int pg_inbox_get(store *st, const char *id, int64_t now, json_t **item, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, id);
	json_t *items = NULL;
	if (collect(st, "SELECT " INBOX_COLUMNS " FROM inbox WHERE id = $1", &p, now, "read an inbox item", &items,
	            err) != 0)
		return -1;
	*item = json_array_size(items) ? json_incref(json_array_get(items, 0)) : NULL;
	json_decref(items);
	return *item ? 1 : 0;
}

int pg_inbox_update(store *st, const char *id, const char *state, const char *assignee, const char *note,
                    int64_t now, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, id);
	pg_text(&p, state);
	pg_text(&p, assignee);
	pg_text(&p, note);
	pg_int(&p, now);
	PGresult *res = pg_exec(st,
		"UPDATE inbox SET "
		"  done_ms = CASE WHEN $2::text = 'done' AND state <> 'done' THEN $5 WHEN $2::text = 'open' THEN 0 "
		"                 ELSE done_ms END,"
		"  state = coalesce($2::text, state),"
		"  assignee = CASE WHEN $3::text IS NULL THEN assignee WHEN $3::text = '' THEN NULL ELSE $3::text END,"
		"  note = CASE WHEN $4::text IS NULL THEN note WHEN $4::text = '' THEN NULL ELSE $4::text END "
		"WHERE id = $1", &p, "update an inbox item", err);
	if (!res)
		return -1;
	int found = pg_changed(res) > 0;
	PQclear(res);
	return found;
}

int pg_inbox_for_contact(store *st, int64_t contact_id, int64_t now, json_t **items, char **err)
{
	pg_params p = { 0 };
	pg_int(&p, contact_id);
	return collect(st, "SELECT " INBOX_COLUMNS " FROM inbox WHERE response_id IN "
	                   "(SELECT response_id FROM response_contacts WHERE contact_id = $1) ORDER BY seq DESC",
	               &p, now, "read a contact's inbox items", items, err);
}

int pg_inbox_counts(store *st, int64_t now, int64_t *open, int64_t *overdue, char **err)
{
	pg_params p = { 0 };
	pg_int(&p, now);
	PGresult *res = pg_exec(st, "SELECT count(*), count(*) FILTER (WHERE due_ms <= $1) FROM inbox WHERE state = 'open'",
	                        &p, "count inbox items", err);
	if (!res)
		return -1;
	*open = pg_get_int(res, 0, 0);
	*overdue = pg_get_int(res, 0, 1);
	PQclear(res);
	return 0;
}

int pg_inbox_find_for_response(store *st, const char *response_id, char id[48], int64_t *due_ms, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, response_id);
	PGresult *res = pg_exec(st, "SELECT id, due_ms FROM inbox WHERE response_id = $1", &p,
	                        "find an answer's inbox item", err);
	if (!res)
		return -1;
	int found = PQntuples(res) > 0 && strlen(PQgetvalue(res, 0, 0)) < 48;
	if (found) {
		strcpy(id, PQgetvalue(res, 0, 0));
		*due_ms = pg_get_int(res, 0, 1);
	}
	PQclear(res);
	return found;
}

int pg_inbox_insert(store *st, const char *id, const char *form_id, const char *response_id, const char *contact,
                    const char *rule, const char *priority, int64_t created_ms, int64_t due_ms, const char *dest,
                    const char *notice, char **err)
{
	json_t *dests = json_pack("[s]", dest ? dest : "");
	char *dests_text = json_dumps(dests, JSON_COMPACT);
	json_decref(dests);
	pg_params p = { 0 };
	pg_text(&p, id);
	pg_text(&p, form_id);
	pg_text(&p, response_id);
	pg_text(&p, contact);
	pg_text(&p, rule);
	pg_text(&p, priority ? priority : "normal");
	pg_int(&p, created_ms);
	pg_int(&p, due_ms);
	pg_text_owned(&p, dests_text);
	pg_text(&p, notice);
	int rc = pg_run(st, "INSERT INTO inbox (id, form, response_id, contact, rule, priority, created_ms, due_ms, "
	                    "destinations, notice) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
	                &p, "open an inbox item", err);
	pg_params_free(&p);
	return rc;
}

int pg_inbox_add_destination(store *st, const char *id, const char *dest, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, id);
	pg_text(&p, dest);
	return pg_run(st, "UPDATE inbox SET destinations = (destinations::jsonb || to_jsonb($2::text))::text "
	                  "WHERE id = $1 AND NOT destinations::jsonb ? $2", &p, "route an inbox item", err);
}

int pg_inbox_reminders_due(store *st, int64_t now, int limit, json_t **rows, char **err)
{
	*rows = NULL;
	pg_params p = { 0 };
	pg_int(&p, now);
	pg_int(&p, limit);
	PGresult *res = pg_exec(st, "SELECT id, form, response_id, destinations, notice FROM inbox WHERE state = 'open' "
	                            "AND reminded_ms = 0 AND due_ms <= $1 ORDER BY due_ms LIMIT $2 FOR UPDATE SKIP LOCKED",
	                        &p, "read overdue inbox items", err);
	if (!res)
		return -1;
	json_t *arr = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *d = json_column(res, i, 3, NULL), *n = json_column(res, i, 4, NULL);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", PQgetvalue(res, i, 0), "form",
		                                     PQgetvalue(res, i, 1), "response_id", PQgetvalue(res, i, 2),
		                                     "destinations", json_is_array(d) ? d : json_array(), "notice",
		                                     json_is_object(n) ? n : json_object()));
		if (d && !json_is_array(d))
			json_decref(d);
		if (n && !json_is_object(n))
			json_decref(n);
	}
	PQclear(res);
	*rows = arr;
	return 0;
}

int pg_inbox_mark_reminded(store *st, const char *id, int64_t now, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, id);
	pg_int(&p, now);
	return pg_run(st, "UPDATE inbox SET reminded_ms = $2 WHERE id = $1", &p, "mark an inbox item reminded", err);
}

int pg_contact_card(store *st, int64_t contact_id, int64_t now, json_t **card, char **err)
{
	*card = NULL;
	pg_params p = { 0 };
	pg_int(&p, contact_id);
	PGresult *res = pg_exec(st, "SELECT id, form, created_ms, answers, meta, score, tags FROM responses WHERE id IN "
	                            "(SELECT response_id FROM response_contacts WHERE contact_id = $1) "
	                            "ORDER BY seq DESC LIMIT 1000", &p, "read a contact card", err);
	if (!res)
		return -1;
	json_t *responses = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *o = json_object();
		json_object_set_new(o, "id", text_or_null(res, i, 0));
		json_object_set_new(o, "form", text_or_null(res, i, 1));
		json_object_set_new(o, "created_at", time_or_null(res, i, 2));
		json_object_set_new(o, "answers", json_column(res, i, 3, json_object()));
		json_object_set_new(o, "meta", json_column(res, i, 4, json_object()));
		json_object_set_new(o, "tags", json_column(res, i, 6, json_array()));
		if (!PQgetisnull(res, i, 5))
			json_object_set_new(o, "score", json_column(res, i, 5, json_object()));
		json_array_append_new(responses, o);
	}
	PQclear(res);
	res = pg_exec(st, "SELECT response_id, form, text, code FROM offers WHERE response_id IN "
	                  "(SELECT response_id FROM response_contacts WHERE contact_id = $1) ORDER BY response_id, seq",
	              &p, "read a contact card", err);
	json_t *items = NULL;
	if (!res || pg_inbox_for_contact(st, contact_id, now, &items, err) != 0) {
		PQclear(res);
		json_decref(responses);
		return -1;
	}
	json_t *offers = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(offers, json_pack("{s:o, s:o, s:o, s:o}", "response_id", text_or_null(res, i, 0), "form",
		                                        text_or_null(res, i, 1), "text", text_or_null(res, i, 2), "code",
		                                        text_or_null(res, i, 3)));
	PQclear(res);
	*card = json_pack("{s:o, s:o, s:o}", "responses", responses, "offers", offers, "inbox", items);
	return 0;
}

int pg_answers_total(store *st, int64_t *n, char **err)
{
	return pg_query_int(st, "SELECT count(*) FROM responses", NULL, n, "count answers", err) < 0 ? -1 : 0;
}
