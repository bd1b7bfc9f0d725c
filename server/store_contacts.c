/* store_contacts: the SQL behind contacts, offers and used timing tokens (tables created by schema
 * migration 3). Statements come from the handle's cache (store_cached); each call runs inside
 * whatever transaction the caller holds (the writer's per-answer savepoint, or autocommit reads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "contacts.h"
#include "store_internal.h"
#include "util.h"

/* Looks an identity key up: 1 with *id, 0 when unknown, -1 with *err. */
int sqlite_contact_find(store *st, contact_kind kind, const char *key, int64_t *id, char **err)
{
	const char *op = "find contact";
	sqlite3_stmt *s = store_cached(st,
		"SELECT contact_id FROM contact_keys WHERE kind = ?1 AND key = ?2", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, contact_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = store_fail(st, op, err);
	}
	store_done(s);
	return ret;
}

/* Inserts a new contact; 0 with its *id, or -1 with *err. */
int sqlite_contact_create(store *st, int64_t created_ms, int64_t *id, char **err)
{
	const char *op = "create contact";
	sqlite3_stmt *s = store_cached(st, "INSERT INTO contacts (created_ms) VALUES (?1)", op, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, created_ms);
	if (store_run_cached(st, s, op, err) != 0)
		return -1;
	*id = sqlite3_last_insert_rowid(store_sqlite(st));
	return 0;
}

/* Adds an identity key to contact id. 0 or -1 with *err (also when the key is taken). */
int sqlite_contact_add_key(store *st, int64_t id, contact_kind kind, const char *key, char **err)
{
	const char *op = "add contact key";
	sqlite3_stmt *s = store_cached(st,
		"INSERT INTO contact_keys (kind, key, contact_id) VALUES (?1, ?2, ?3)", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, contact_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	return store_run_cached(st, s, op, err);
}

/* Links an answer to a contact, ignoring a link that exists. 0 or -1 with *err. */
int sqlite_contact_link(store *st, const char *response_id, int64_t contact_id, char **err)
{
	const char *op = "link answer to contact";
	sqlite3_stmt *s = store_cached(st,
		"INSERT OR IGNORE INTO response_contacts (response_id, contact_id) VALUES (?1, ?2)", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, response_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, contact_id);
	return store_run_cached(st, s, op, err);
}

/* Counts the answers linked to a contact into *n. 0 or -1 with *err. */
int sqlite_contact_response_count(store *st, int64_t contact_id, int64_t *n, char **err)
{
	const char *op = "count contact's answers";
	sqlite3_stmt *s = store_cached(st,
		"SELECT count(*) FROM response_contacts WHERE contact_id = ?1", op, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	int ret = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*n = sqlite3_column_int64(s, 0);
	} else {
		ret = store_fail(st, op, err);
	}
	store_done(s);
	return ret;
}

/* Inserts one offer of an answer. 0 or -1 with *err. */
int sqlite_offer_insert(store *st, const char *response_id, const char *form_id, int seq, const char *text,
                       const char *code, char **err)
{
	const char *op = "store offer";
	sqlite3_stmt *s = store_cached(st,
		"INSERT INTO offers (response_id, seq, form, text, code) VALUES (?1, ?2, ?3, ?4, ?5)", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, response_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, seq);
	sqlite3_bind_text(s, 3, form_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, text, -1, SQLITE_STATIC);
	if (code)
		sqlite3_bind_text(s, 5, code, -1, SQLITE_STATIC);
	return store_run_cached(st, s, op, err);
}

/* Reads an answer's offers, in order, as a new array (caller owns). 0 or -1 with *err. */
int sqlite_offers_for_response(store *st, const char *response_id, const char *form_id, json_t **offers,
                              char **err)
{
	const char *op = "read offers";
	*offers = NULL;
	sqlite3_stmt *s = store_cached(st,
		"SELECT text, code FROM offers WHERE response_id = ?1 AND form = ?2 ORDER BY seq", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, response_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, form_id, -1, SQLITE_STATIC);
	json_t *list = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(s, 0);
		const char *code = (const char *)sqlite3_column_text(s, 1);
		json_t *offer = json_pack("{s:s}", "text", text ? text : "");
		if (!offer)
			continue; /* not UTF-8: cannot be shown */
		if (code && json_object_set_new(offer, "code", json_string(code)) != 0)
			json_object_del(offer, "code");
		json_array_append_new(list, offer);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, op, err);
		store_done(s);
		json_decref(list);
		return -1;
	}
	store_done(s);
	*offers = list;
	return 0;
}

/* Deletes up to 32 used-token entries that expired before now_ms. 0 or -1 with *err. Most calls find
 * none: a seek in the expiry index tells, where the DELETE itself would build its IN list first. */
static int tokens_forget_expired(store *st, int64_t now_ms, char **err)
{
	const char *op = "forget expired form tokens";
	sqlite3_stmt *probe = store_cached(st, "SELECT 1 FROM used_tokens WHERE expires_ms < ?1 LIMIT 1", op, err);
	if (!probe)
		return -1;
	sqlite3_bind_int64(probe, 1, now_ms);
	int rc = sqlite3_step(probe);
	int failed = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, op, err);
	store_done(probe);
	if (failed || rc == SQLITE_DONE)
		return failed;
	sqlite3_stmt *s = store_cached(st,
		"DELETE FROM used_tokens WHERE nonce IN "
		"(SELECT nonce FROM used_tokens WHERE expires_ms < ?1 ORDER BY expires_ms LIMIT 32)", op, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now_ms);
	return store_run_cached(st, s, op, err);
}

/* Forgets a few expired nonces, then inserts nonce unless present: 0 new, 1 seen, -1 error. */
int sqlite_token_use(store *st, const char *nonce, int64_t expires_ms, int64_t now_ms, char **err)
{
	const char *op = "remember form token";
	if (tokens_forget_expired(st, now_ms, err) != 0)
		return -1;
	sqlite3_stmt *s = store_cached(st,
		"INSERT OR IGNORE INTO used_tokens (nonce, expires_ms) VALUES (?1, ?2)", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, expires_ms);
	if (store_run_cached(st, s, op, err) != 0)
		return -1;
	return sqlite3_changes(store_sqlite(st)) == 1 ? 0 : 1;
}
