/* store_pg_people: the PostgreSQL backend's contacts, offers, used timing tokens, pending
 * confirmations and erasure by contact. */
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util.h"

int pg_contact_find(store *st, contact_kind kind, const char *key, int64_t *id, char **err)
{
	/* Exclusive: the caller creates the contact when it is unknown, and the same address arriving on
	 * another node waits until that is committed. */
	if (pg_lock_key(st, false, "contact", contact_kind_name(kind), key, err) != 0)
		return -1;
	pg_params p = { 0 };
	pg_text(&p, contact_kind_name(kind));
	pg_text(&p, key);
	return pg_query_int(st, "SELECT contact_id FROM contact_keys WHERE kind = $1 AND key = $2", &p, id, "find contact",
	                err);
}

int pg_contact_create(store *st, int64_t created_ms, int64_t *id, char **err)
{
	pg_params p = { 0 };
	pg_int(&p, created_ms);
	return pg_query_int(st, "INSERT INTO contacts (created_ms) VALUES ($1) RETURNING id", &p, id, "create contact",
	                err) == 1 ? 0 : -1;
}

int pg_contact_add_key(store *st, int64_t id, contact_kind kind, const char *key, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, contact_kind_name(kind));
	pg_text(&p, key);
	pg_int(&p, id);
	return pg_run(st, "INSERT INTO contact_keys (kind, key, contact_id) VALUES ($1, $2, $3)", &p, "add contact key",
	              err);
}

int pg_contact_link(store *st, const char *response_id, int64_t contact_id, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, response_id);
	pg_int(&p, contact_id);
	return pg_run(st, "INSERT INTO response_contacts (response_id, contact_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
	              &p, "link answer to contact", err);
}

int pg_contact_response_count(store *st, int64_t contact_id, int64_t *n, char **err)
{
	pg_params p = { 0 };
	pg_int(&p, contact_id);
	return pg_query_int(st, "SELECT count(*) FROM response_contacts WHERE contact_id = $1", &p, n,
	                "count contact's answers", err) < 0 ? -1 : 0;
}

int pg_offer_insert(store *st, const char *response_id, const char *form_id, int seq, const char *text,
                    const char *code, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, response_id);
	pg_int(&p, seq);
	pg_text(&p, form_id);
	pg_text(&p, text);
	pg_text(&p, code);
	return pg_run(st, "INSERT INTO offers (response_id, seq, form, text, code) VALUES ($1, $2, $3, $4, $5)", &p,
	              "store offer", err);
}

int pg_offers_for_response(store *st, const char *response_id, const char *form_id, json_t **offers,
                           char **err)
{
	*offers = NULL;
	pg_params p = { 0 };
	pg_text(&p, response_id);
	pg_text(&p, form_id);
	PGresult *res = pg_exec(st, "SELECT text, code FROM offers WHERE response_id = $1 AND form = $2 ORDER BY seq",
	                        &p, "read offers", err);
	if (!res)
		return -1;
	json_t *list = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *offer = json_pack("{s:s}", "text", PQgetvalue(res, i, 0));
		const char *code = pg_get_text(res, i, 1);
		if (offer && code && json_object_set_new(offer, "code", json_string(code)) != 0)
			json_object_del(offer, "code");
		if (offer)
			json_array_append_new(list, offer);
	}
	PQclear(res);
	*offers = list;
	return 0;
}

/* Forgets a few expired nonces, then records nonce unless present: 0 new, 1 seen, -1 error. */
int pg_token_use(store *st, const char *nonce, int64_t expires_ms, int64_t now_ms, char **err)
{
	pg_params old = { 0 };
	pg_int(&old, now_ms);
	if (pg_run(st, "DELETE FROM used_tokens WHERE nonce IN (SELECT nonce FROM used_tokens WHERE expires_ms < $1 "
	               "ORDER BY expires_ms LIMIT 32)", &old, "forget expired form tokens", err) != 0)
		return -1;
	pg_params p = { 0 };
	pg_text(&p, nonce);
	pg_int(&p, expires_ms);
	PGresult *res = pg_exec(st, "INSERT INTO used_tokens (nonce, expires_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING",
	                        &p, "remember form token", err);
	if (!res)
		return -1;
	int seen = pg_changed(res) == 1 ? 0 : 1;
	PQclear(res);
	return seen;
}

int pg_offer_next_seq(store *st, const char *response_id, int *next, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, response_id);
	int64_t v = 0;
	if (pg_query_int(st, "SELECT coalesce(max(seq) + 1, 0) FROM offers WHERE response_id = $1", &p, &v, "number offers",
	             err) < 0)
		return -1;
	*next = (int)v;
	return 0;
}

int pg_confirmation_put(store *st, const char *response_id, int64_t expires_ms, const char *plugins, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, response_id);
	pg_int(&p, expires_ms);
	pg_text(&p, plugins);
	return pg_run(st, "INSERT INTO pending_confirmations (response_id, expires_ms, plugins) VALUES ($1, $2, $3)", &p,
	              "store pending confirmation", err);
}

int pg_confirmation_take(store *st, const char *response_id, const char *form_id, int64_t now, char **answers,
                         char **meta, char **plugins, char **err)
{
	*answers = *meta = *plugins = NULL;
	pg_params p = { 0 };
	pg_text(&p, response_id);
	pg_text(&p, form_id);
	/* FOR UPDATE OF r: two nodes opening the same link confirm it once. */
	PGresult *res = pg_exec(st, "SELECT r.answers, r.meta, r.confirmed, p.expires_ms, p.plugins FROM responses r "
	                            "LEFT JOIN pending_confirmations p ON p.response_id = r.id "
	                            "WHERE r.id = $1 AND r.form = $2 FOR UPDATE OF r", &p, "confirm answer", err);
	if (!res)
		return -1;
	int outcome = STORE_CONFIRMED;
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 2))
		outcome = STORE_CONFIRM_UNKNOWN;
	else if (pg_get_int(res, 0, 2) != 0 || PQgetisnull(res, 0, 3))
		outcome = STORE_CONFIRM_USED;
	else if (pg_get_int(res, 0, 3) < now)
		outcome = STORE_CONFIRM_EXPIRED;
	if (outcome == STORE_CONFIRMED) {
		*answers = pg_dup_text(res, 0, 0);
		*meta = pg_dup_text(res, 0, 1);
		*plugins = pg_dup_text(res, 0, 4);
	}
	PQclear(res);
	if (outcome != STORE_CONFIRMED)
		return outcome;
	pg_params id = { 0 };
	pg_text(&id, response_id);
	if (pg_run(st, "UPDATE responses SET confirmed = 1 WHERE id = $1", &id, "confirm answer", err) != 0 ||
	    pg_run(st, "DELETE FROM pending_confirmations WHERE response_id = $1", &id, "confirm answer", err) != 0) {
		free(*answers);
		free(*meta);
		free(*plugins);
		*answers = *meta = *plugins = NULL;
		return -1;
	}
	return STORE_CONFIRMED;
}

/* The answers linked to contact $1; the links go last (deleting a response cascades to them). */
#define LINKED "(SELECT response_id FROM response_contacts WHERE contact_id = $1)"

static const struct {
	const char *op;
	const char *sql;
} erase_steps[] = {
	{ "erase offers", "DELETE FROM offers WHERE response_id IN " LINKED },
	{ "erase deliveries", "DELETE FROM outbox WHERE response_id IN " LINKED },
	{ "erase inbox items", "DELETE FROM inbox WHERE response_id IN " LINKED },
	{ "erase idempotency replies", "DELETE FROM idempotency WHERE response_id IN " LINKED },
	{ "erase answers", "DELETE FROM responses WHERE id IN " LINKED },
	{ "erase contact", "DELETE FROM contacts WHERE id = $1" },
};

/* In a transaction of its own. */
int pg_erase_contact(store *st, contact_kind kind, const char *key, erase_counts *out, char **err)
{
	memset(out, 0, sizeof *out);
	if (pg_begin(st, err) != 0)
		return -1;
	int64_t id = 0;
	int found = pg_contact_find(st, kind, key, &id, err);
	int64_t *counters[] = { &out->offers, &out->deliveries, &out->inbox, NULL, &out->responses, NULL };
	_Static_assert(sizeof counters / sizeof counters[0] == sizeof erase_steps / sizeof erase_steps[0],
	               "one counter per step");
	for (size_t i = 0; found == 1 && i < sizeof erase_steps / sizeof erase_steps[0]; i++) {
		pg_params p = { 0 };
		pg_int(&p, id);
		PGresult *res = pg_exec(st, erase_steps[i].sql, &p, erase_steps[i].op, err);
		if (!res) {
			found = -1;
			break;
		}
		if (counters[i])
			*counters[i] += pg_changed(res);
		PQclear(res);
	}
	if (found < 0 || pg_commit(st, err) != 0) {
		pg_rollback(st);
		memset(out, 0, sizeof *out);
		return -1;
	}
	return 0;
}
