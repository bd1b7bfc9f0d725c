/* store_pg_internal: what the PostgreSQL backend's files (store_pg*.c) share and nobody else sees —
 * the connection handle, statement helpers over libpq with text parameters, and the operations they
 * implement, which store_pg_ops.c gathers into the storage_postgresql table (storage.h).
 *
 * Values go as parameters, never spliced into the SQL. Outside a transaction every statement is one
 * round trip (PQexecParams). Inside one, a statement whose only result is success or failure (pg_run:
 * inserts, updates, savepoints, locks) is queued in libpq's pipeline mode and costs no wait: the queue
 * goes to the server with the next statement whose answer is needed (pg_exec: a read, RELEASE, COMMIT),
 * all in one round trip, and the first failure among them is that statement's failure. So the writer
 * waits once per answer (at its RELEASE) plus once per read a plugin or a contact needs.
 * A connection that broke is reset before the next statement outside a transaction, at most once per
 * backoff interval (doubling from 100 ms to 5 s), so a database that went away costs each caller one
 * quick failure and the connection comes back by itself; inside a transaction it stays broken until
 * the rollback (a new connection would run the rest of the transaction's statements on their own). */
#ifndef EARSHOT_STORE_PG_INTERNAL_H
#define EARSHOT_STORE_PG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "storage.h"

/* Statements queued before the queue is sent anyway: results the client does not read pile up in the
 * server's socket buffer, and past it both sides would wait for each other. */
#define PG_PIPELINE_MAX 256

struct store {
	const storage_ops *ops; /* &storage_postgresql (storage.h: every backend's handle begins so) */
	PGconn *conn;
	bool read_only;
	bool in_txn;            /* BEGIN sent (or queued) and neither COMMIT nor ROLLBACK yet */
	bool conflict;          /* a statement failed with a deadlock or serialization failure (store_conflicted) */
	int64_t retry_at_ms;    /* a broken connection is reset no earlier than this */
	int64_t backoff_ms;
	int pending;            /* statements queued in pipeline mode whose results are not read yet */
	const char *pending_ops[PG_PIPELINE_MAX + 1]; /* what each of them does, for its error message */
	int64_t round_trips;    /* waits for the server's answer (store_round_trips) */
	int64_t last_trip_ms;   /* when the last one ended */
};

/* The parameters of one statement, as texts (NULL: SQL NULL). Numbers are formatted into num. */
#define PG_MAX_PARAMS 24
typedef struct pg_params {
	int n;
	const char *values[PG_MAX_PARAMS];
	int lengths[PG_MAX_PARAMS];
	int formats[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][24];
	char *owned[PG_MAX_PARAMS]; /* texts the parameters own (pg_text_owned) */
} pg_params;

/* Appends a text (borrowed until the statement ran; NULL for SQL NULL). */
void pg_text(pg_params *p, const char *text);
/* Appends a malloc'd text the parameters own from now on (pg_params_free frees it). */
void pg_text_owned(pg_params *p, char *text);
/* Frees the texts p owns. */
void pg_params_free(pg_params *p);
/* Appends an integer. */
void pg_int(pg_params *p, int64_t v);
/* Appends len bytes as a binary (bytea) value. */
void pg_bytes(pg_params *p, const void *data, size_t len);

/* Runs sql with p (may be NULL) on st, resetting a broken connection first (outside a transaction),
 * after the statements queued before it (in the same round trip). Returns the result (caller
 * PQclears) when it and every queued statement succeeded, or NULL with *err naming the op that
 * failed. */
PGresult *pg_exec(store *st, const char *sql, const pg_params *p, const char *op, char **err);
/* pg_exec with the result's columns in binary (result_format 1: a bytea comes back as its bytes). */
PGresult *pg_exec_format(store *st, const char *sql, const pg_params *p, int result_format, const char *op,
                         char **err);
/* A statement whose result is not needed: inside a transaction it is queued (0 means queued; its
 * failure is reported by the next pg_exec, pg_release or pg_commit), outside it runs at once. 0, or -1
 * with *err. */
int pg_run(store *st, const char *sql, const pg_params *p, const char *op, char **err);
/* Sends the queued statements and reads their results, when there are any. 0, or -1 with *err (the
 * first failure among them). */
int pg_flush(store *st, char **err);
/* pg_exec that reads one bigint: 1 with *out, 0 when no row or NULL, -1 with *err. */
int pg_query_int(store *st, const char *sql, const pg_params *p, int64_t *out, const char *op, char **err);
/* The rows a command changed (DELETE, UPDATE). */
int64_t pg_changed(PGresult *res);
/* Column col of row as int64 (0 for NULL). */
int64_t pg_get_int(PGresult *res, int row, int col);
/* Column col of row as text, or NULL for SQL NULL (borrowed from res). */
const char *pg_get_text(PGresult *res, int row, int col);
/* A malloc'd copy of pg_get_text, or NULL. */
char *pg_dup_text(PGresult *res, int row, int col);
/* Sets *err to msg (malloc'd) when err is not NULL, else frees it. Returns -1. */
int pg_fail(char **err, char *msg);

/* Ensures the connection is usable: resets a broken one when its backoff has passed. 0, or -1 with
 * *err (the database is unreachable). */
int pg_ready(store *st, char **err);

/* Fills *r from a row of PG_RESPONSE_COLUMNS starting at column 0. 0, or -1 with *err. */
#define PG_RESPONSE_COLUMNS "r.seq, r.id, r.form, r.created_ms, r.answers, r.meta, r.score, r.tags, r.confirmed"
int pg_row_to_record(PGresult *res, int row, response_record *r, char **err);
/* A cursor over a query returning PG_RESPONSE_COLUMNS: sql with p, run in a read transaction of its
 * own (or the caller's) and fetched in batches. 0 with *out, or -1 with *err. */
int pg_cursor_open_sql(store *st, const char *sql, const pg_params *p, store_cursor **out, char **err);
/* Appends the WHERE conditions of a response filter on "responses r" to sql, values to p. */
void pg_put_filter(char **sql, pg_params *p, const char *form, const response_filter *flt);

/* The inclusive created_ms bounds of [since, until). */
void pg_time_bounds(int64_t since, int64_t until, int64_t *lo, int64_t *hi);

/* Cluster-wide advisory lock keys (the second int of pg_advisory_lock(int, int), under PG_LOCK_SPACE). */
#define PG_LOCK_SPACE 0x45415253 /* "EARS" */
enum { PG_LOCK_MIGRATE = 1, PG_LOCK_PURGE = 2 };

/* Inside a transaction, queues the lock of one piece of state answers read and then write, named by
 * the parts joined (a plugin's key, a contact key): exclusive, or shared (readers only wait for a
 * writer). Held until the transaction ends (or the answer's savepoint is rolled back), so two nodes
 * never interleave a read-then-write of the same key, while answers about other keys never wait for
 * each other. Two nodes' batches that lock two keys in opposite orders deadlock: PostgreSQL fails one
 * statement with 40P01 (store_conflicted), and the writer stores that answer again in its next
 * transaction, which holds nothing while it waits. Outside a transaction it does nothing. 0, or -1
 * with *err. */
int pg_lock_key(store *st, bool shared, const char *kind, const char *a, const char *b, char **err);

/* The operations (storage.h: pg_X implements store_X). */
/* Opens the connection behind store_open, its handle pointing at ops (storage_postgresql). */
int pg_connect(const storage_ops *ops, const char *database, durability_mode durability, bool read_only,
               store **out, char **err);
void pg_close(store *st);
int pg_begin(store *st, char **err);
int pg_commit(store *st, char **err);
void pg_rollback(store *st);
int pg_savepoint(store *st, char **err);
int pg_release(store *st, char **err);
void pg_rollback_savepoint(store *st);
int pg_idempotency_find(store *st, const char *key, int *status, char **body, char **err);
int pg_idempotency_put(store *st, const char *key, const char *form, const char *response_id, int status,
                       const char *body, int64_t created_ms, char **err);
int pg_response_insert(store *st, response_record *r, const char *client, char **err);
int pg_response_count(store *st, const char *form, int64_t *n, char **err);
int pg_response_get(store *st, const char *form_id, const char *id, json_t **out, char **err);
int pg_response_contacts(store *st, const char *response_id, json_t **out, char **err);
int pg_response_list(store *st, const char *form, int64_t since, int64_t until, int64_t after_seq, int limit,
                     response_record **out, size_t *n, bool *more, char **err);
int pg_cursor_open(store *st, const char *form, int64_t since, int64_t until, store_cursor **out, char **err);
int pg_cursor_next(store_cursor *cur, response_record *r, char **err);
int pg_cursor_next_raw(store_cursor *cur, response_raw *r, char **err);
void pg_cursor_close(store_cursor *cur);
int pg_kv_get(store *st, const char *plugin, const char *key, char **value, size_t *len, char **err);
int pg_kv_put(store *st, const char *plugin, const char *key, const void *value, size_t len, char **err);
int pg_kv_incr(store *st, const char *plugin, const char *key, int64_t delta, int64_t *result, char **err);
int pg_kv_take(store *st, const char *plugin, const char *prefix, char **key, char **value, size_t *len,
               char **err);
bool pg_conflicted(store *st);
int64_t pg_round_trips(store *st);
int pg_purge_before(store *st, int64_t cutoff_ms, int64_t *deleted, char **err);
int pg_ping(store *st, char **err);
int pg_response_page(store *st, const char *form, const response_filter *flt, int64_t after_seq,
                     bool newest_first, int limit, response_record **out, size_t *n, bool *more, char **err);
int pg_cursor_open_filtered(store *st, const char *form, const response_filter *flt, store_cursor **out,
                            char **err);
int pg_summary_tally(store *st, const char *form, const response_filter *flt, const summary_question *qs, size_t n,
                     count_map *out, char **err);
int pg_snapshot_begin(store *st, char **err);
void pg_snapshot_end(store *st, int begun);
int pg_contact_find(store *st, contact_kind kind, const char *key, int64_t *id, char **err);
int pg_contact_create(store *st, int64_t created_ms, int64_t *id, char **err);
int pg_contact_add_key(store *st, int64_t id, contact_kind kind, const char *key, char **err);
int pg_contact_link(store *st, const char *response_id, int64_t contact_id, char **err);
int pg_contact_response_count(store *st, int64_t contact_id, int64_t *n, char **err);
int pg_offer_insert(store *st, const char *response_id, const char *form_id, int seq, const char *text,
                    const char *code, char **err);
int pg_offers_for_response(store *st, const char *response_id, const char *form_id, json_t **offers,
                           char **err);
int pg_token_use(store *st, const char *nonce, int64_t expires_ms, int64_t now_ms, char **err);
int pg_offer_next_seq(store *st, const char *response_id, int *next, char **err);
int pg_confirmation_put(store *st, const char *response_id, int64_t expires_ms, const char *plugins, char **err);
int pg_confirmation_take(store *st, const char *response_id, const char *form_id, int64_t now, char **answers,
                         char **meta, char **plugins, char **err);
int pg_outbox_insert(store *st, const delivery_record *d, char **err);
int pg_outbox_due(store *st, int64_t now, int limit, delivery_record **out, size_t *n, char **err);
int pg_outbox_next_due(store *st, int64_t *when_ms, char **err);
int pg_outbox_mark_delivered(store *st, const char *id, int attempts, int64_t now, char **err);
int pg_outbox_mark_failed(store *st, const char *id, int attempts, delivery_state state, int64_t next_ms,
                          const char *error, int64_t now, char **err);
int pg_outbox_get(store *st, const char *id, delivery_record *out, char **err);
int pg_outbox_list(store *st, bool all_states, delivery_state state, int64_t after_seq, int limit,
                   delivery_record **out, size_t *n, bool *more, char **err);
int pg_outbox_list_newest(store *st, bool all_states, delivery_state state, int64_t before_seq, int limit,
                          delivery_record **out, size_t *n, bool *more, char **err);
int pg_outbox_for_response(store *st, const char *response_id, int limit, delivery_record **out, size_t *n,
                           char **err);
int pg_outbox_retry(store *st, const char *id, int64_t now, delivery_record *out, char **err);
int pg_outbox_delete_for_response(store *st, const char *response_id, int64_t *deleted, char **err);
int pg_outbox_purge_delivered(store *st, int64_t cutoff_ms, int64_t *deleted, char **err);
int pg_outbox_count(store *st, delivery_state s, int64_t *n, char **err);
int pg_inbox_list(store *st, const char *state, const char *form_id, int64_t now, int limit, json_t **items,
                  char **err);
int pg_inbox_get(store *st, const char *id, int64_t now, json_t **item, char **err);
int pg_inbox_update(store *st, const char *id, const char *state, const char *assignee, const char *note,
                    int64_t now, char **err);
int pg_inbox_for_contact(store *st, int64_t contact_id, int64_t now, json_t **items, char **err);
int pg_contact_card(store *st, int64_t contact_id, int64_t now, json_t **card, char **err);
int pg_answers_total(store *st, int64_t *n, char **err);
int pg_inbox_counts(store *st, int64_t now, int64_t *open, int64_t *overdue, char **err);
int pg_inbox_find_for_response(store *st, const char *response_id, char id[48], int64_t *due_ms, char **err);
int pg_inbox_insert(store *st, const char *id, const char *form_id, const char *response_id, const char *contact,
                    const char *rule, const char *priority, int64_t created_ms, int64_t due_ms, const char *dest,
                    const char *notice, char **err);
int pg_inbox_add_destination(store *st, const char *id, const char *dest, char **err);
int pg_inbox_reminders_due(store *st, int64_t now, int limit, json_t **rows, char **err);
int pg_inbox_mark_reminded(store *st, const char *id, int64_t now, char **err);
int pg_table_count(store *st, const storage_table *t, int64_t *n, char **err);
int pg_table_write(store *st, const storage_table *t, const storage_rows *rows, int64_t *added, char **err);
int pg_table_finish(store *st, const storage_table *t, char **err);
int pg_views_add(store *st, const view_count *counts, size_t n, char **err);
int pg_views_count(store *st, const char *form, int64_t since, int64_t until, const char *variant, const char *device,
                   views_fn fn, void *ctx, char **err);
int pg_erase_contact(store *st, contact_kind kind, const char *key, erase_counts *out, char **err);

#endif
