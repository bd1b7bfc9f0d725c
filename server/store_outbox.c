/* store_outbox: the SQL behind the outbox (table `outbox`, created by schema migration 2). Statements
 * come from the handle's cache (store_cached): queueing runs inside every answer's transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "outbox.h"
#include "store_internal.h"
#include "util.h"

#define OUTBOX_COLUMNS                                                                          \
	"seq, id, destination, type, plugin, response_id, body, state, attempts, created_ms, "  \
	"retry_from_ms, next_attempt_ms, last_attempt_ms, last_error, delivered_ms"

/* Binds text, or NULL for a NULL string. */
static void bind_text_or_null(sqlite3_stmt *s, int i, const char *text)
{
	if (text)
		sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Inserts d. 0 or -1 with *err. */
int sqlite_outbox_insert(store *st, const delivery_record *d, char **err)
{
	const char *op = "queue delivery";
	if (!d->id[0] || !d->destination || !d->type || !d->body) {
		store_set_err(err, xstrdup("queue delivery: the id, destination, type and document must be set"));
		return -1;
	}
	sqlite3_stmt *s = store_cached(st,
		"INSERT INTO outbox (id, destination, type, plugin, response_id, body, state, attempts, "
		"created_ms, retry_from_ms, next_attempt_ms, last_attempt_ms, last_error, delivered_ms) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, d->destination, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, d->type, -1, SQLITE_STATIC);
	bind_text_or_null(s, 4, d->plugin);
	bind_text_or_null(s, 5, d->response_id);
	sqlite3_bind_text(s, 6, d->body, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, delivery_state_name(d->state), -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 8, d->attempts);
	sqlite3_bind_int64(s, 9, d->created_ms);
	sqlite3_bind_int64(s, 10, d->retry_from_ms);
	sqlite3_bind_int64(s, 11, d->next_attempt_ms);
	if (d->last_attempt_ms)
		sqlite3_bind_int64(s, 12, d->last_attempt_ms);
	bind_text_or_null(s, 13, d->last_error);
	if (d->delivered_ms)
		sqlite3_bind_int64(s, 14, d->delivered_ms);
	return store_run_cached(st, s, op, err);
}

/* A malloc'd copy of text column col, or NULL for SQL NULL. */
static char *column_strdup(sqlite3_stmt *s, int col)
{
	const unsigned char *text = sqlite3_column_text(s, col);
	return text ? xstrndup((const char *)text, (size_t)sqlite3_column_bytes(s, col)) : NULL;
}

/* Fills *d from the current row of an OUTBOX_COLUMNS query. 0, or -1 with *err for a row that
 * cannot be read back (d is left cleared). */
static int row_to_record(sqlite3_stmt *s, delivery_record *d, char **err)
{
	memset(d, 0, sizeof *d);
	d->seq = sqlite3_column_int64(s, 0);
	const unsigned char *id = sqlite3_column_text(s, 1);
	const char *state = (const char *)sqlite3_column_text(s, 7);
	if (!id || (size_t)sqlite3_column_bytes(s, 1) >= sizeof d->id ||
	    delivery_state_parse(state, &d->state) != 0) {
		store_set_err(err, xasprintf("read delivery: row %lld of the outbox is damaged", (long long)d->seq));
		return -1;
	}
	snprintf(d->id, sizeof d->id, "%s", (const char *)id);
	d->destination = column_strdup(s, 2);
	d->type = column_strdup(s, 3);
	d->plugin = column_strdup(s, 4);
	d->response_id = column_strdup(s, 5);
	d->body = column_strdup(s, 6);
	d->attempts = sqlite3_column_int(s, 8);
	d->created_ms = sqlite3_column_int64(s, 9);
	d->retry_from_ms = sqlite3_column_int64(s, 10);
	d->next_attempt_ms = sqlite3_column_int64(s, 11);
	d->last_attempt_ms = sqlite3_column_int64(s, 12);
	d->last_error = column_strdup(s, 13);
	d->delivered_ms = sqlite3_column_int64(s, 14);
	if (!d->destination || !d->type || !d->body) {
		delivery_record_clear(d);
		store_set_err(err, xasprintf("read delivery: row %lld of the outbox is damaged",
		                             (long long)sqlite3_column_int64(s, 0)));
		return -1;
	}
	return 0;
}

/* row_to_record and delivery_record_clear for store_collect_rows. */
static int delivery_row(sqlite3_stmt *s, void *rec, char **err)
{
	return row_to_record(s, rec, err);
}

static void delivery_clear(void *rec)
{
	delivery_record_clear(rec);
}

/* Collects up to limit rows of the cached query s (reset here) into *out (see
 * store_collect_rows). 0, or -1 with *err (nothing returned). */
static int collect(store *st, sqlite3_stmt *s, int limit, const char *op, delivery_record **out,
                   size_t *n, bool *more, char **err)
{
	*out = store_collect_rows(st, s, limit, sizeof **out, delivery_row, delivery_clear, op, n, more, err);
	store_done(s);
	return *out ? 0 : -1;
}

/* Due rows, oldest due first. */
int sqlite_outbox_due(store *st, int64_t now, int limit, delivery_record **out, size_t *n, char **err)
{
	const char *op = "read due deliveries";
	bool more;
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = store_cached(st,
		"SELECT " OUTBOX_COLUMNS " FROM outbox WHERE state IN ('pending', 'failed') "
		"AND next_attempt_ms <= ?1 ORDER BY next_attempt_ms, seq LIMIT ?2", op, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int(s, 2, limit);
	return collect(st, s, limit, op, out, n, &more, err);
}

/* Earliest due time of the rows still to send: 1 with *when_ms, 0 when none, -1. */
int sqlite_outbox_next_due(store *st, int64_t *when_ms, char **err)
{
	const char *op = "read next due delivery";
	sqlite3_stmt *s = store_cached(st,
		"SELECT min(next_attempt_ms) FROM outbox WHERE state IN ('pending', 'failed')", op, err);
	if (!s)
		return -1;
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*when_ms = sqlite3_column_int64(s, 0);
		ret = 1;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ret = store_fail(st, op, err);
	}
	store_done(s);
	return ret;
}

/* Marks a due row delivered. 0 or -1. */
int sqlite_outbox_mark_delivered(store *st, const char *id, int attempts, int64_t now, char **err)
{
	const char *op = "mark delivery delivered";
	sqlite3_stmt *s = store_cached(st,
		"UPDATE outbox SET state = 'delivered', attempts = ?2, last_attempt_ms = ?3, "
		"delivered_ms = ?3 WHERE id = ?1 AND state IN ('pending', 'failed')", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, attempts);
	sqlite3_bind_int64(s, 3, now);
	return store_run_cached(st, s, op, err);
}

/* Records a failed attempt (failed with its next time, or dead). 0 or -1. */
int sqlite_outbox_mark_failed(store *st, const char *id, int attempts, delivery_state state,
                             int64_t next_ms, const char *error, int64_t now, char **err)
{
	const char *op = "record failed delivery";
	if (state != DELIVERY_FAILED && state != DELIVERY_DEAD) {
		store_set_err(err, xstrdup("record failed delivery: the state must be failed or dead"));
		return -1;
	}
	sqlite3_stmt *s = store_cached(st,
		"UPDATE outbox SET state = ?2, attempts = ?3, next_attempt_ms = ?4, last_attempt_ms = ?5, "
		"last_error = ?6 WHERE id = ?1 AND state IN ('pending', 'failed')", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, delivery_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, attempts);
	sqlite3_bind_int64(s, 4, next_ms);
	sqlite3_bind_int64(s, 5, now);
	bind_text_or_null(s, 6, error);
	return store_run_cached(st, s, op, err);
}

/* One row by id: 1 with *out, 0 when unknown, -1. */
int sqlite_outbox_get(store *st, const char *id, delivery_record *out, char **err)
{
	const char *op = "read delivery";
	memset(out, 0, sizeof *out);
	sqlite3_stmt *s = store_cached(st, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = ?1", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW)
		ret = row_to_record(s, out, err) == 0 ? 1 : -1;
	else if (rc != SQLITE_DONE)
		ret = store_fail(st, op, err);
	store_done(s);
	return ret;
}

/* One page of the listing: in store order after from_seq, or newest first before from_seq (0: from the
 * newest). 0 with *out (always malloc'd), or -1. */
static int list_page(store *st, bool all_states, delivery_state state, bool newest_first, int64_t from_seq,
                     int limit, delivery_record **out, size_t *n, bool *more, char **err)
{
	const char *op = "list deliveries";
	*out = NULL;
	*n = 0;
	*more = false;
	if (limit < 0) {
		store_set_err(err, xstrdup("list deliveries: the limit must not be negative"));
		return -1;
	}
	sqlite3_stmt *s = store_cached(st, newest_first
		? "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE (?1 IS NULL OR state = ?1) AND (?2 = 0 OR seq < ?2) "
		  "ORDER BY seq DESC LIMIT ?3"
		: "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE (?1 IS NULL OR state = ?1) AND seq > ?2 "
		  "ORDER BY seq LIMIT ?3", op, err);
	if (!s)
		return -1;
	if (!all_states)
		sqlite3_bind_text(s, 1, delivery_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, from_seq);
	sqlite3_bind_int64(s, 3, (int64_t)limit + 1);
	return collect(st, s, limit, op, out, n, more, err);
}

int sqlite_outbox_list(store *st, bool all_states, delivery_state state, int64_t after_seq, int limit,
                       delivery_record **out, size_t *n, bool *more, char **err)
{
	return list_page(st, all_states, state, false, after_seq, limit, out, n, more, err);
}

int sqlite_outbox_list_newest(store *st, bool all_states, delivery_state state, int64_t before_seq, int limit,
                              delivery_record **out, size_t *n, bool *more, char **err)
{
	return list_page(st, all_states, state, true, before_seq, limit, out, n, more, err);
}

/* Every row about response_id, newest first (at most limit). 0 with *out (always malloc'd), or -1. */
int sqlite_outbox_for_response(store *st, const char *response_id, int limit, delivery_record **out, size_t *n,
                               char **err)
{
	const char *op = "list the deliveries of an answer";
	bool more;
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = store_cached(st,
		"SELECT " OUTBOX_COLUMNS " FROM outbox WHERE response_id = ?1 ORDER BY seq DESC LIMIT ?2", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, response_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)limit + 1);
	return collect(st, s, limit, op, out, n, &more, err);
}

/* Makes a row due now with a fresh window, inside the caller's transaction. 1, 0, 2 or -1 as
 * store_outbox_retry. */
static int retry_in_txn(store *st, const char *id, int64_t now, delivery_record *out, char **err)
{
	const char *op = "replay delivery";
	int found = sqlite_outbox_get(st, id, out, err);
	if (found != 1 || out->state == DELIVERY_DELIVERED)
		return found == 1 ? 2 : found;
	delivery_record_clear(out);
	sqlite3_stmt *s = store_cached(st,
		"UPDATE outbox SET state = 'pending', attempts = 0, retry_from_ms = ?2, next_attempt_ms = ?2 "
		"WHERE id = ?1", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	if (store_run_cached(st, s, op, err) != 0)
		return -1;
	return sqlite_outbox_get(st, id, out, err);
}

/* Replays a delivery that is not delivered (see outbox.h), in its own transaction unless the
 * caller holds one. */
int sqlite_outbox_retry(store *st, const char *id, int64_t now, delivery_record *out, char **err)
{
	bool own = sqlite3_get_autocommit(store_sqlite(st)) != 0;
	memset(out, 0, sizeof *out);
	if (own && sqlite_begin(st, err) != 0)
		return -1;
	int rc = retry_in_txn(st, id, now, out, err);
	if (own) {
		/* Only a replay wrote anything; every other outcome just ends the transaction. */
		if (rc != 1)
			sqlite_rollback(st);
		else if (sqlite_commit(st, err) != 0) {
			sqlite_rollback(st);
			rc = -1;
		}
	}
	if (rc < 0)
		delivery_record_clear(out);
	return rc;
}

/* Runs a one-parameter DELETE binding text or an integer, and counts the rows it removed. */
static int delete_rows(store *st, const char *sql, const char *text, int64_t number, int64_t *deleted,
                       const char *op, char **err)
{
	*deleted = 0;
	sqlite3_stmt *s = store_cached(st, sql, op, err);
	if (!s)
		return -1;
	if (text)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, number);
	if (store_run_cached(st, s, op, err) != 0)
		return -1;
	*deleted = sqlite3_changes(store_sqlite(st));
	return 0;
}

/* Deletes every delivery about response_id. 0 with *deleted, or -1. */
int sqlite_outbox_delete_for_response(store *st, const char *response_id, int64_t *deleted, char **err)
{
	return delete_rows(st, "DELETE FROM outbox WHERE response_id = ?1", response_id, 0, deleted,
	                   "erase deliveries", err);
}

/* Deletes rows delivered before cutoff_ms. 0 with *deleted, or -1. */
int sqlite_outbox_purge_delivered(store *st, int64_t cutoff_ms, int64_t *deleted, char **err)
{
	return delete_rows(st, "DELETE FROM outbox WHERE state = 'delivered' AND delivered_ms < ?1", NULL,
	                   cutoff_ms, deleted, "purge delivered deliveries", err);
}

/* Counts the rows in state s. 0 with *n, or -1. */
int sqlite_outbox_count(store *st, delivery_state state, int64_t *n, char **err)
{
	const char *op = "count deliveries";
	sqlite3_stmt *s = store_cached(st, "SELECT count(*) FROM outbox WHERE state = ?1", op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, delivery_state_name(state), -1, SQLITE_STATIC);
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	else
		ret = store_fail(st, op, err);
	store_done(s);
	return ret;
}
