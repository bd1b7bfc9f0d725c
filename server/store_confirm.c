/* store_confirm: the SQL of confirmed signups for the SQLite backend — the pending confirmation of an
 * answer, its confirmation, and the numbering of offers added when it is confirmed. */
#include <stdlib.h>

#include <sqlite3.h>

#include "store_internal.h"
#include "util.h"

/* A copy of column col's text, or NULL when it is NULL. */
static char *column_copy(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	return t ? xstrdup(t) : NULL;
}

int sqlite_confirmation_put(store *st, const char *response_id, int64_t expires_ms, const char *plugins,
                            char **err)
{
	const char *op = "store pending confirmation";
	sqlite3_stmt *s = store_cached(st, "INSERT INTO pending_confirmations (response_id, expires_ms, plugins) "
	                                   "VALUES (?1, ?2, ?3)", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, response_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, expires_ms);
	sqlite3_bind_text(s, 3, plugins, -1, SQLITE_STATIC);
	return store_run_cached(st, s, op, err);
}

int sqlite_confirmation_take(store *st, const char *response_id, const char *form_id, int64_t now,
                             char **answers, char **meta, char **plugins, char **err)
{
	const char *op = "confirm answer";
	*answers = *meta = *plugins = NULL;
	sqlite3_stmt *s = store_cached(st,
		"SELECT r.answers, r.meta, r.confirmed, p.expires_ms, p.plugins FROM responses r "
		"LEFT JOIN pending_confirmations p ON p.response_id = r.id WHERE r.id = ?1 AND r.form = ?2", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, response_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, form_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		store_done(s);
		return STORE_CONFIRM_UNKNOWN;
	}
	if (rc != SQLITE_ROW) {
		store_done(s);
		return store_fail(st, op, err);
	}
	int outcome = STORE_CONFIRMED;
	if (sqlite3_column_type(s, 2) == SQLITE_NULL)
		outcome = STORE_CONFIRM_UNKNOWN;
	else if (sqlite3_column_int(s, 2) != 0 || sqlite3_column_type(s, 3) == SQLITE_NULL)
		outcome = STORE_CONFIRM_USED;
	else if (sqlite3_column_int64(s, 3) < now)
		outcome = STORE_CONFIRM_EXPIRED;
	if (outcome == STORE_CONFIRMED) {
		*answers = column_copy(s, 0);
		*meta = column_copy(s, 1);
		*plugins = column_copy(s, 4);
	}
	store_done(s);
	if (outcome != STORE_CONFIRMED)
		return outcome;
	sqlite3_stmt *u = store_cached(st, "UPDATE responses SET confirmed = 1 WHERE id = ?1", op, err);
	if (!u)
		goto fail;
	sqlite3_bind_text(u, 1, response_id, -1, SQLITE_STATIC);
	if (store_run_cached(st, u, op, err) != 0)
		goto fail;
	sqlite3_stmt *del = store_cached(st, "DELETE FROM pending_confirmations WHERE response_id = ?1", op, err);
	if (!del)
		goto fail;
	sqlite3_bind_text(del, 1, response_id, -1, SQLITE_STATIC);
	if (store_run_cached(st, del, op, err) != 0)
		goto fail;
	return STORE_CONFIRMED;
fail:
	free(*answers);
	free(*meta);
	free(*plugins);
	*answers = *meta = *plugins = NULL;
	return -1;
}

int sqlite_offer_next_seq(store *st, const char *response_id, int *next, char **err)
{
	const char *op = "number offers";
	sqlite3_stmt *s = store_cached(st, "SELECT coalesce(max(seq) + 1, 0) FROM offers WHERE response_id = ?1", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, response_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	*next = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	store_done(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, op, err);
}
