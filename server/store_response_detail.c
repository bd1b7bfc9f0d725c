/* store_response_detail: the SQLite backend's reads of one answer and of the contact keys it is linked
 * to (storage.h: store_response_get, store_response_contacts). */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store_internal.h"

/* Column i parsed as JSON, or a new empty array or object when NULL or malformed. */
static json_t *json_column(sqlite3_stmt *s, int i, bool array)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	json_t *v = t ? json_loads(t, 0, NULL) : NULL;
	return v ? v : array ? json_array() : json_object();
}

int sqlite_response_get(store *st, const char *form_id, const char *id, json_t **out, char **err)
{
	const char *op = "read an answer";
	*out = NULL;
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

int sqlite_response_contacts(store *st, const char *response_id, json_t **out, char **err)
{
	const char *op = "read the contacts of an answer";
	*out = NULL;
	sqlite3_stmt *s = store_cached(st,
		"SELECT k.kind, k.key FROM contact_keys k JOIN response_contacts c ON c.contact_id = k.contact_id "
		"WHERE c.response_id = ?1 ORDER BY k.kind, k.key", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, response_id, -1, SQLITE_STATIC);
	json_t *list = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *c = json_pack("{s:s, s:s}", "kind", (const char *)sqlite3_column_text(s, 0), "key",
		                      (const char *)sqlite3_column_text(s, 1));
		if (c)
			json_array_append_new(list, c);
	}
	if (rc != SQLITE_DONE) {
		json_decref(list);
		rc = store_fail(st, op, err);
		store_done(s);
		return rc;
	}
	store_done(s);
	*out = list;
	return 0;
}
