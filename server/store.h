/* store: the only module that speaks SQL. Schema and forward migrations (PRAGMA user_version), the
 * primitives the writer's group-commit transaction is built from, and read queries for admin routes
 * and exports. One store handle is one SQLite connection and is used by one thread at a time. */
#ifndef EARSHOT_STORE_H
#define EARSHOT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "response.h"

typedef struct store store;
typedef struct store_cursor store_cursor;

#define STORE_TIME_MIN INT64_MIN
#define STORE_TIME_MAX INT64_MAX

/* Opens (creating when needed, unless read_only) the database at path (":memory:" allowed), in WAL
 * mode with busy_timeout, secure_delete, foreign keys, and synchronous FULL or NORMAL; migrates the
 * schema forward when not read_only. Returns 0 and *out (caller closes), or -1 and *err (caller
 * frees). A database whose user_version is newer than this build knows is refused. */
int store_open(const char *path, durability_mode durability, bool read_only, store **out, char **err);
void store_close(store *st);
/* Schema version this build migrates to. */
int store_schema_version(void);

/* Transactions for the writer: BEGIN IMMEDIATE / COMMIT / ROLLBACK, and one level of SAVEPOINT per
 * answer. Each returns 0, or -1 with *err (caller frees). Rollbacks cannot fail visibly. */
int store_begin(store *st, char **err);
int store_commit(store *st, char **err);
void store_rollback(store *st);
int store_savepoint(store *st, char **err);
int store_release(store *st, char **err);
void store_rollback_savepoint(store *st);

/* Idempotency: looks key up. Returns 1 and *status, *body (malloc'd, caller frees) when found, 0 when
 * not, -1 with *err. */
int store_idempotency_find(store *st, const char *key, int *status, char **body, char **err);
int store_idempotency_put(store *st, const char *key, const char *form, const char *response_id,
                          int status, const char *body, int64_t created_ms, char **err);

/* Inserts one response (r->seq is ignored and set on success). client may be NULL (the privacy-
 * processed client address). Returns 0 or -1 with *err. */
int store_response_insert(store *st, response_record *r, const char *client, char **err);

/* Number of stored responses of a form. */
int store_response_count(store *st, const char *form, int64_t *n, char **err);
/* Up to limit responses of form with since <= created_ms < until and seq > after_seq, in store order.
 * *out is a malloc'd array of *n records (caller clears each and frees the array). *more is set when
 * further rows exist. */
int store_response_list(store *st, const char *form, int64_t since, int64_t until, int64_t after_seq,
                        int limit, response_record **out, size_t *n, bool *more, char **err);

/* Streams the responses of form in [since, until) from one read snapshot, in store order, without
 * holding them in memory. store_cursor_next returns 1 with *r filled (caller clears it), 0 at the
 * end, -1 with *err. The cursor holds a read transaction until closed. */
int store_cursor_open(store *st, const char *form, int64_t since, int64_t until, store_cursor **out,
                      char **err);
int store_cursor_next(store_cursor *cur, response_record *r, char **err);
/* Like store_cursor_next, without parsing: *r borrows the row's texts until the next call or close.
 * Returns 1, 0 at the end, or -1 with *err (a row with a missing column). */
int store_cursor_next_raw(store_cursor *cur, response_raw *r, char **err);
void store_cursor_close(store_cursor *cur);

/* A plugin's private key-value space, inside the current transaction. get returns 1 with *value and
 * *len (malloc'd, caller frees; NUL-terminated for convenience), 0 when absent, -1 with *err.
 * incr adds delta to an integer value (absent = 0) and returns the new value in *result. */
int store_kv_get(store *st, const char *plugin, const char *key, char **value, size_t *len, char **err);
int store_kv_put(store *st, const char *plugin, const char *key, const void *value, size_t len,
                 char **err);
int store_kv_incr(store *st, const char *plugin, const char *key, int64_t delta, int64_t *result,
                  char **err);

/* Deletes responses (and their idempotency rows) created before cutoff_ms; *deleted gets the count. */
int store_purge_before(store *st, int64_t cutoff_ms, int64_t *deleted, char **err);
/* Checkpoints the WAL (TRUNCATE) so it stays bounded. */
int store_checkpoint(store *st, char **err);
/* A PASSIVE checkpoint: copies what it can from the WAL without blocking writers or readers.
 * 0 (also when it could not copy everything), or -1 with *err. */
int store_checkpoint_passive(store *st, char **err);
/* Lets the handle keep up to kib KiB of pages in memory (SQLite's default is 2,000 KiB): a writer whose
 * transaction dirties more than its cache holds writes pages to the WAL before the commit, and again at
 * the commit. 0, or -1 with *err. */
int store_set_cache(store *st, int kib, char **err);
/* After each commit on st, calls fn with the WAL's size in pages instead of checkpointing on the
 * committing thread (SQLite's default, every 1000 pages); fn runs on that thread and must be quick.
 * NULL restores the default. */
void store_on_wal_commit(store *st, void (*fn)(void *arg, int wal_pages), void *arg);
/* Quick health probe: 0 when the database answers queries, -1 with *err. */
int store_ping(store *st, char **err);

#endif
