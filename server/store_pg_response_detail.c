/* store_pg_response_detail: the PostgreSQL backend's reads behind one answer in full (storage.h:
 * store_response_get, store_response_contacts, store_outbox_list_newest, store_outbox_for_response),
 * the twins of the SQLite backend's store_response_detail.c and newest-first outbox reads. */
#include <string.h>

#include "store_pg_internal.h"
#include "util.h"

int pg_response_get(store *st, const char *form_id, const char *id, json_t **out, char **err)
{
	*out = NULL;
	pg_params p = { 0 };
	pg_text(&p, id);
	pg_text(&p, form_id);
	PGresult *res = pg_exec(st, "SELECT " PG_RESPONSE_COLUMNS " FROM responses r WHERE r.id = $1 AND r.form = $2",
	                        &p, "read an answer", err);
	if (!res)
		return -1;
	int ret = 0;
	if (PQntuples(res) > 0) {
		response_record r;
		if (pg_row_to_record(res, 0, &r, err) != 0) {
			ret = -1;
		} else {
			*out = response_record_to_json(&r);
			response_record_clear(&r);
			ret = 1;
		}
	}
	PQclear(res);
	return ret;
}

int pg_response_contacts(store *st, const char *response_id, json_t **out, char **err)
{
	*out = NULL;
	pg_params p = { 0 };
	pg_text(&p, response_id);
	PGresult *res = pg_exec(st,
		"SELECT k.kind, k.key FROM contact_keys k JOIN response_contacts c ON c.contact_id = k.contact_id "
		"WHERE c.response_id = $1 ORDER BY k.kind, k.key", &p, "read the contacts of an answer", err);
	if (!res)
		return -1;
	json_t *list = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *c = json_pack("{s:s, s:s}", "kind", PQgetvalue(res, i, 0), "key", PQgetvalue(res, i, 1));
		if (c)
			json_array_append_new(list, c);
	}
	PQclear(res);
	*out = list;
	return 0;
}
