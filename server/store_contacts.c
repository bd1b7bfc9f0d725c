/* store_contacts: the SQL behind contacts, offers and used timing tokens (tables created by schema
 * migration 3). Statements are prepared per call on the handle's connection; each call runs inside
 * whatever transaction the caller holds (the writer's per-answer savepoint, or autocommit reads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "contacts.h"
#include "store_internal.h"
#include "util.h"

/* Hands msg (malloc'd) to *err, or frees it when the caller passed no err. */
static void set_err(char **err, char *msg)
{
	if (err)
		*err = msg;
	else
		free(msg);
}

/* Prepares sql on st's connection into *out. Returns 0, or -1 with *err naming op. */
static int prepare(store *st, const char *sql, const char *op, sqlite3_stmt **out, char **err)
{
	sqlite3 *db = store_sqlite(st);
	if (sqlite3_prepare_v2(db, sql, -1, out, NULL) != SQLITE_OK) {
		set_err(err, xasprintf("%s: %s", op, sqlite3_errmsg(db)));
		sqlite3_finalize(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Steps s to completion (it returns no row we need) and finalizes it. 0, or -1 with *err. */
static int run_done(store *st, sqlite3_stmt *s, const char *op, char **err)
{
	int rc = sqlite3_step(s);
	int ret = 0;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		set_err(err, xasprintf("%s: %s", op, sqlite3_errmsg(store_sqlite(st))));
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

/* Looks an identity key up: 1 with *id, 0 when unknown, -1 with *err. */
int store_contact_find(store *st, contact_kind kind, const char *key, int64_t *id, char **err)
{
	const char *op = "find contact";
	sqlite3_stmt *s;
	if (prepare(st, "SELECT contact_id FROM contact_keys WHERE kind = ?1 AND key = ?2", op, &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, contact_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		set_err(err, xasprintf("%s: %s", op, sqlite3_errmsg(store_sqlite(st))));
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

/* Inserts a new contact; 0 with its *id, or -1 with *err. */
int store_contact_create(store *st, int64_t created_ms, int64_t *id, char **err)
{
	const char *op = "create contact";
	sqlite3_stmt *s;
	if (prepare(st, "INSERT INTO contacts (created_ms) VALUES (?1)", op, &s, err) != 0)
		return -1;
	sqlite3_bind_int64(s, 1, created_ms);
	if (run_done(st, s, op, err) != 0)
		return -1;
	*id = sqlite3_last_insert_rowid(store_sqlite(st));
	return 0;
}

/* Adds an identity key to contact id. 0 or -1 with *err (also when the key is taken). */
int store_contact_add_key(store *st, int64_t id, contact_kind kind, const char *key, char **err)
{
	const char *op = "add contact key";
	sqlite3_stmt *s;
	if (prepare(st, "INSERT INTO contact_keys (kind, key, contact_id) VALUES (?1, ?2, ?3)", op, &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, contact_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	return run_done(st, s, op, err);
}

/* Links an answer to a contact, ignoring a link that exists. 0 or -1 with *err. */
int store_contact_link(store *st, const char *response_id, int64_t contact_id, char **err)
{
	const char *op = "link answer to contact";
	sqlite3_stmt *s;
	if (prepare(st, "INSERT OR IGNORE INTO response_contacts (response_id, contact_id) VALUES (?1, ?2)", op,
	            &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, response_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, contact_id);
	return run_done(st, s, op, err);
}

/* Counts the answers linked to a contact into *n. 0 or -1 with *err. */
int store_contact_response_count(store *st, int64_t contact_id, int64_t *n, char **err)
{
	const char *op = "count contact's answers";
	sqlite3_stmt *s;
	if (prepare(st, "SELECT count(*) FROM response_contacts WHERE contact_id = ?1", op, &s, err) != 0)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	int ret = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*n = sqlite3_column_int64(s, 0);
	} else {
		set_err(err, xasprintf("%s: %s", op, sqlite3_errmsg(store_sqlite(st))));
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

/* Inserts one offer of an answer. 0 or -1 with *err. */
int store_offer_insert(store *st, const char *response_id, const char *form_id, int seq, const char *text,
                       const char *code, char **err)
{
	const char *op = "store offer";
	sqlite3_stmt *s;
	if (prepare(st, "INSERT INTO offers (response_id, seq, form, text, code) VALUES (?1, ?2, ?3, ?4, ?5)", op,
	            &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, response_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, seq);
	sqlite3_bind_text(s, 3, form_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, text, -1, SQLITE_STATIC);
	if (code)
		sqlite3_bind_text(s, 5, code, -1, SQLITE_STATIC);
	return run_done(st, s, op, err);
}

/* Reads an answer's offers, in order, as a new array (caller owns). 0 or -1 with *err. */
int store_offers_for_response(store *st, const char *response_id, const char *form_id, json_t **offers,
                              char **err)
{
	const char *op = "read offers";
	sqlite3_stmt *s;
	*offers = NULL;
	if (prepare(st, "SELECT text, code FROM offers WHERE response_id = ?1 AND form = ?2 ORDER BY seq", op, &s,
	            err) != 0)
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
		set_err(err, xasprintf("%s: %s", op, sqlite3_errmsg(store_sqlite(st))));
		sqlite3_finalize(s);
		json_decref(list);
		return -1;
	}
	sqlite3_finalize(s);
	*offers = list;
	return 0;
}

/* Deletes up to 32 used-token entries that expired before now_ms. 0 or -1 with *err. */
static int tokens_forget_expired(store *st, int64_t now_ms, char **err)
{
	const char *op = "forget expired form tokens";
	sqlite3_stmt *s;
	if (prepare(st, "DELETE FROM used_tokens WHERE nonce IN "
	                "(SELECT nonce FROM used_tokens WHERE expires_ms < ?1 ORDER BY expires_ms LIMIT 32)",
	            op, &s, err) != 0)
		return -1;
	sqlite3_bind_int64(s, 1, now_ms);
	return run_done(st, s, op, err);
}

/* Forgets a few expired nonces, then inserts nonce unless present: 0 new, 1 seen, -1 error. */
int store_token_use(store *st, const char *nonce, int64_t expires_ms, int64_t now_ms, char **err)
{
	const char *op = "remember form token";
	if (tokens_forget_expired(st, now_ms, err) != 0)
		return -1;
	sqlite3_stmt *s;
	if (prepare(st, "INSERT OR IGNORE INTO used_tokens (nonce, expires_ms) VALUES (?1, ?2)", op, &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, expires_ms);
	if (run_done(st, s, op, err) != 0)
		return -1;
	return sqlite3_changes(store_sqlite(st)) == 1 ? 0 : 1;
}
