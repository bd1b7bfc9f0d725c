/* storage: the one interface to the database. Every read and write of stored state goes through a
 * storage_ops table (as SQLite's sqlite3_vfs is one table for a whole OS layer); each backend fills
 * one in its own files and speaks its own SQL there, and nothing outside the backends speaks SQL.
 * A store handle is one connection of a backend, used by one thread at a time; store_open picks the
 * backend from the database setting. The store_* functions below forward to the handle's table.
 *
 * Unless stated otherwise each operation returns 0, or -1 with *err (malloc'd, caller frees), and
 * runs inside the caller's transaction when one is open, else each statement commits on its own.
 * Inside a transaction a write may be sent later than the call (PostgreSQL queues the statements whose
 * only result is success): its failure is then reported by the next operation that reads, by
 * store_release or by store_commit, which is why the writer releases each answer's savepoint before
 * counting it stored. */
#ifndef EARSHOT_STORAGE_H
#define EARSHOT_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "response.h"
#include "count_map.h"
#include "response_filter.h"

typedef struct store store;
typedef struct store_cursor store_cursor;
typedef struct storage_ops storage_ops;

#define STORE_TIME_MIN INT64_MIN
#define STORE_TIME_MAX INT64_MAX

/* ---- Records the operations exchange (storage_records.c) --------------------------------------- */

typedef enum { CONTACT_EMAIL = 0, CONTACT_PHONE = 1 } contact_kind;

/* "email" or "phone". */
const char *contact_kind_name(contact_kind kind);

/* Where a delivery stands. The names are the admin API's `state` values. */
typedef enum {
	DELIVERY_PENDING = 0,    /* waiting for its first attempt (or replayed by an admin) */
	DELIVERY_FAILED = 1,     /* an attempt failed; the next one is scheduled */
	DELIVERY_DEAD = 2,       /* retry_for_hours ran out; kept until replayed */
	DELIVERY_DELIVERED = 3,  /* a 2xx answer (webhook) or a synced line (file) */
} delivery_state;

/* "pending", "failed", "dead", "delivered". */
const char *delivery_state_name(delivery_state s);
/* Parses a state name. Returns 0, or -1 when unknown. */
int delivery_state_parse(const char *name, delivery_state *out);

/* One outbox row. Strings are owned by the record (delivery_record_clear frees them). */
typedef struct delivery_record {
	int64_t seq;              /* store order; the listing cursor */
	char id[48];              /* "d_…": the webhook-id and the document's "id" */
	char *destination;        /* a name from destinations: */
	char *type;               /* the document's "type", e.g. "complaint" */
	char *plugin;             /* the plugin that enqueued it, may be NULL */
	char *response_id;        /* the answer it is about, may be NULL (erasure by contact uses it) */
	char *body;               /* the JSON document, sent byte for byte on every attempt */
	delivery_state state;
	int attempts;             /* attempts made since it was created or last replayed */
	int64_t created_ms;
	int64_t retry_from_ms;    /* start of the retry window: creation, or the last replay */
	int64_t next_attempt_ms;  /* when it is due (pending, failed) */
	int64_t last_attempt_ms;  /* 0 before the first attempt */
	char *last_error;         /* "HTTP 503", a curl or file error; NULL before any failure */
	int64_t delivered_ms;     /* 0 unless delivered */
} delivery_record;

/* Frees the strings of d and zeroes it. */
void delivery_record_clear(delivery_record *d);
/* The admin API's shape: {"id","destination","type","state","attempts","created_at",
 * "next_attempt_at","last_attempt_at","last_error","delivered_at","response_id","plugin",
 * "document"} with null for what does not apply. A new object (caller owns). */
json_t *delivery_record_to_json(const delivery_record *d);


/* What one erasure deleted. */
typedef struct erase_counts {
	int64_t responses;  /* answers */
	int64_t offers;     /* offers attached to those answers */
	int64_t deliveries; /* outbox rows about those answers, whatever their state */
	int64_t inbox;      /* follow-up inbox items of those answers */
} erase_counts;

/* One view counter: views of form on a UTC day (ms since 1970 / 86400000) with a wording variant and
 * a device class ("" when none). */
typedef struct view_count {
	char form[72];
	int64_t day;
	char variant[40];
	char device[16];
	int64_t count;
} view_count;

/* Called once per variant ("" for views without one) with its number of views. 0 to go on, -1 to stop. */
typedef int (*views_fn)(void *ctx, const char *variant, int64_t views);

/* What a summary counts of one question (store_summary_tally). */
typedef struct summary_question {
	const char *id;
	bool by_value;  /* its values one by one (else only how many answered it) */
	bool elements;  /* the elements of its array answers one by one */
} summary_question;

/* A table as `earshot migrate` copies it: its columns, the primary key's first, and which column (if
 * any) holds bytes rather than text. The list (storage_records.c) is every table of stored state, in an
 * order that copies rows before the rows that refer to them. */
typedef struct storage_table {
	const char *name;
	const char *const *columns;
	int n_columns;
	int n_key;            /* the first n_key columns are the primary key */
	int bytes_column;     /* index of a column of raw bytes, or -1 */
	const char *serial;   /* a column the database numbers (seq, id), or NULL */
	const char *label;    /* what the rows are, for people: "answers" */
} storage_table;
extern const storage_table storage_tables[];
extern const size_t storage_n_tables;

/* Rows of a table: value (r * n_columns + c) with its length; NULL for SQL NULL. Owned by the
 * record (storage_rows_clear frees them). */
typedef struct storage_rows {
	int n_rows, n_columns;
	char **values;
	size_t *lengths;
} storage_rows;
void storage_rows_clear(storage_rows *rows);

/* ---- Connections and transactions ---------------------------------------------------------------- */

/* Opens a connection to database (the `database:` setting) with the first backend whose accepts()
 * takes it: the SQLite backend opens (creating when needed, unless read_only) the file at the path
 * (":memory:" allowed), in WAL mode with busy_timeout, secure_delete, foreign keys, and synchronous
 * FULL or NORMAL. A writable opener migrates the schema forward; a database whose schema is newer
 * than this build knows is refused. Returns 0 and *out (caller closes), or -1 and *err. */
int store_open(const char *database, durability_mode durability, bool read_only, store **out, char **err);
void store_close(store *st);
/* Whether database names a file on this machine (SQLite) rather than a server (a URL). */
bool storage_is_file(const char *database);
/* database as it may be shown and logged: a URL without its password (malloc'd, caller frees). */
char *storage_display_name(const char *database);

/* Transactions for the writer: a write transaction (SQLite: BEGIN IMMEDIATE) / COMMIT / ROLLBACK,
 * and one level of SAVEPOINT per answer. Each returns 0, or -1 with *err (caller frees). Rollbacks
 * cannot fail visibly. */
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

/* Inserts one response (r->seq is ignored and set on success; PostgreSQL inside a transaction sends
 * the insert with the answer's other writes without waiting for its number, and leaves it 0). client
 * may be NULL (the privacy-processed client address). Returns 0 or -1 with *err. */
int store_response_insert(store *st, response_record *r, const char *client, char **err);

/* Number of stored responses of a form. */
int store_response_count(store *st, const char *form, int64_t *n, char **err);
/* One answer of form_id in the admin listing's shape: 1 with *out (a new object), 0 when form_id has no
 * answer id, -1 with *err. */
int store_response_get(store *st, const char *form_id, const char *id, json_t **out, char **err);
/* The contact keys linked to an answer, as a new array of {"kind","key"} in *out. 0 or -1. */
int store_response_contacts(store *st, const char *response_id, json_t **out, char **err);
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
/* Removes and returns one entry of the plugin whose key starts with prefix (the first in byte order
 * of the keys that no other transaction holds): 1 with *key and *value, *len (malloc'd, caller frees;
 * the value NUL-terminated for convenience), 0 when there is none, -1 with *err. Two transactions
 * never take the same entry and never wait for each other (PostgreSQL: FOR UPDATE SKIP LOCKED); a
 * rolled-back take puts the entry back. */
int store_kv_take(store *st, const char *plugin, const char *prefix, char **key, char **value, size_t *len,
                  char **err);
/* Whether the operation that failed last in the current answer (since store_begin or store_savepoint)
 * failed only because another connection's transaction conflicted with this one (PostgreSQL: a
 * deadlock between two nodes' transactions, or a serialization failure): the same work may succeed
 * in a later transaction. Always false for SQLite (one writer). */
bool store_conflicted(store *st);
/* Whether other connections' transactions can undo part of this one's work (PostgreSQL, where several
 * nodes write; see store_conflicted). False for SQLite, where one writer does all the writing. */
bool store_shared(store *st);
/* How many times this handle has waited for its database's answer since it was opened (PostgreSQL:
 * network round trips; 0 for SQLite, which runs in the process). */
int64_t store_round_trips(store *st);

/* Deletes responses (and their idempotency rows) created before cutoff_ms, and the view counters of the
 * UTC days that ended before it; *deleted gets the number of responses. */
int store_purge_before(store *st, int64_t cutoff_ms, int64_t *deleted, char **err);
/* SQLite only (no-ops elsewhere): checkpoints the WAL (TRUNCATE) so it stays bounded. */
int store_checkpoint(store *st, char **err);
/* A PASSIVE checkpoint: copies what it can from the WAL without blocking writers or readers.
 * 0 (also when it could not copy everything), or -1 with *err. */
int store_checkpoint_passive(store *st, char **err);
/* After each commit on st, calls fn with the WAL's size in pages instead of checkpointing on the
 * committing thread (SQLite's default, every 1000 pages); fn runs on that thread and must be quick.
 * NULL restores the default. */
void store_on_wal_commit(store *st, void (*fn)(void *arg, int wal_pages), void *arg);
/* Lets the handle keep up to kib KiB of the database in memory (the writer's batches: a transaction
 * that dirties more than the cache holds writes pages out before its commit, and again at it). */
int store_set_cache(store *st, int kib, char **err);
/* Quick health probe: 0 when the database answers queries, -1 with *err. */
int store_ping(store *st, char **err);

/* ---- Filtered reads of the admin routes ------------------------------------------------------------ */

/* Up to limit responses of form matching flt, after the cursor after_seq (0: from the start) in
 * store order, or newest first when newest_first (after_seq then means "older than", 0 from the
 * newest). *out is a malloc'd array of *n records (caller clears each and frees it); *more is set when
 * further rows exist. 0, or -1 with *err. */
int store_response_page(store *st, const char *form, const response_filter *flt, int64_t after_seq,
                        bool newest_first, int limit, response_record **out, size_t *n, bool *more,
                        char **err);
/* An export cursor over the responses of form matching flt, in store order (see store_cursor_open). */
int store_cursor_open_filtered(store *st, const char *form, const response_filter *flt, store_cursor **out,
                               char **err);

/* Rows the writer folds per transaction at most (a backlog is folded over several). */
#define SUMMARY_FOLD_MAX 2000

/* Folds up to max_rows answers not yet counted (new ones in store order, then changed ones) into the
 * tables behind summaries, inside the caller's transaction (on failure nothing of the fold is kept and
 * the answers are still counted, from their rows, until a later fold). *more is set when some were
 * left for the next call. 0, or -1 with *err. */
int store_summary_fold(store *st, int max_rows, bool *more, char **err);
/* Adds up the answers of form matching flt into out (a count_map), keyed (form "", day 0) by:
 * question "" part 2 for the answers themselves; a question of qs part 0 with COUNT_ANY (answered)
 * and, when by_value, each value; part 1 with each element when elements. Every key carries the
 * answer's variant (NULL for none). Run inside a read snapshot (store_snapshot_begin) for a
 * consistent result. 0, or -1 with *err. */
int store_summary_tally(store *st, const char *form, const response_filter *flt, const summary_question *qs,
                        size_t n, count_map *out, char **err);

/* Starts a read transaction on st so that several counts see one snapshot. Returns 1 when it began one
 * (end it with store_snapshot_end), 0 when st was already in a transaction, -1 with *err. */
int store_snapshot_begin(store *st, char **err);
/* Ends the read transaction store_snapshot_begin returned begun (1) for; does nothing for 0 or -1. */
void store_snapshot_end(store *st, int begun);

/* ---- Views (counters per form, day, variant and device) --------------------------------------------- */

/* Adds the n counters to the stored ones (an upsert each). */
int store_views_add(store *st, const view_count *counts, size_t n, char **err);
/* The views of form on every UTC day that overlaps [since, until) (ms), only of variant and device
 * when they are not NULL, per variant: fn is called once per variant that has views. */
int store_views_count(store *st, const char *form, int64_t since, int64_t until, const char *variant,
                      const char *device, views_fn fn, void *ctx, char **err);

/* ---- Contacts, offers and used timing tokens ------------------------------------------------------- */

/* The contact holding key: 1 with *id, 0 when unknown, -1 with *err. */
int store_contact_find(store *st, contact_kind kind, const char *key, int64_t *id, char **err);
/* Creates an empty contact: 0 with *id, or -1 with *err. */
int store_contact_create(store *st, int64_t created_ms, int64_t *id, char **err);
/* Gives contact id the identity key (which must not belong to anyone yet). 0 or -1 with *err. */
int store_contact_add_key(store *st, int64_t id, contact_kind kind, const char *key, char **err);
/* Links response_id to contact id (a repeated link is ignored). 0 or -1 with *err. */
int store_contact_link(store *st, const char *response_id, int64_t contact_id, char **err);
/* Number of responses linked to contact id into *n. 0 or -1 with *err. */
int store_contact_response_count(store *st, int64_t contact_id, int64_t *n, char **err);

/* Stores offer number seq of a response. code may be NULL. 0 or -1 with *err. */
int store_offer_insert(store *st, const char *response_id, const char *form_id, int seq, const char *text,
                       const char *code, char **err);
/* The offers of response_id when it belongs to form_id: *offers is a new array of {"text","code"?}
 * (caller owns; empty for an unknown response). 0 or -1 with *err. */
int store_offers_for_response(store *st, const char *response_id, const char *form_id, json_t **offers,
                              char **err);

/* Records a timing token's nonce as used until expires_ms, and deletes a few entries that expired
 * before now_ms. Returns 0 when new, 1 when already recorded (nothing written), -1 with *err. */
int store_token_use(store *st, const char *nonce, int64_t expires_ms, int64_t now_ms, char **err);
/* The seq following the last offer of response_id (0 when it has none) into *next. */
int store_offer_next_seq(store *st, const char *response_id, int *next, char **err);

/* ---- Confirmed signups ------------------------------------------------------------------------------ */

/* Records that response_id waits for its confirmation until expires_ms; plugins is the JSON text of
 * the plugins waiting with it. */
int store_confirmation_put(store *st, const char *response_id, int64_t expires_ms, const char *plugins,
                           char **err);
/* Confirms response_id of form_id, in the caller's transaction: marks the answer confirmed and drops
 * its pending row. Returns STORE_CONFIRMED with *answers, *meta and *plugins (the stored JSON texts,
 * malloc'd, caller frees; *plugins NULL when none), STORE_CONFIRM_UNKNOWN, STORE_CONFIRM_USED,
 * STORE_CONFIRM_EXPIRED (nothing changed), or -1 with *err. */
enum { STORE_CONFIRMED = 0, STORE_CONFIRM_UNKNOWN = 1, STORE_CONFIRM_USED = 2, STORE_CONFIRM_EXPIRED = 3 };
int store_confirmation_take(store *st, const char *response_id, const char *form_id, int64_t now,
                            char **answers, char **meta, char **plugins, char **err);

/* ---- The outbox table ------------------------------------------------------------------------------ */

/* Inserts d (d->seq ignored). */
int store_outbox_insert(store *st, const delivery_record *d, char **err);
/* Up to limit pending or failed rows due at now (next_attempt_ms <= now), oldest due first. *out
 * is a malloc'd array of *n records (caller clears each and frees the array). */
int store_outbox_due(store *st, int64_t now, int limit, delivery_record **out, size_t *n, char **err);
/* Earliest next_attempt_ms of the pending and failed rows: 1 with *when_ms, 0 when none. */
int store_outbox_next_due(store *st, int64_t *when_ms, char **err);
/* Records a successful attempt (attempts: the count including it). A row that is no longer pending
 * or failed (erased, replayed meanwhile) is left alone. */
int store_outbox_mark_delivered(store *st, const char *id, int attempts, int64_t now, char **err);
/* Records a failed attempt: state DELIVERY_FAILED with next_ms, or DELIVERY_DEAD. */
int store_outbox_mark_failed(store *st, const char *id, int attempts, delivery_state state,
                             int64_t next_ms, const char *error, int64_t now, char **err);
/* Reads one row: 1 with *out filled (caller clears), 0 when unknown. */
int store_outbox_get(store *st, const char *id, delivery_record *out, char **err);
/* One page of rows in store order with seq > after_seq, of one state or of all (all_states).
 * Like store_response_list: *out malloc'd (always), *more set when further rows exist. */
int store_outbox_list(store *st, bool all_states, delivery_state state, int64_t after_seq, int limit,
                      delivery_record **out, size_t *n, bool *more, char **err);
/* Like store_outbox_list, newest first: rows with seq < before_seq (0: from the newest). */
int store_outbox_list_newest(store *st, bool all_states, delivery_state state, int64_t before_seq, int limit,
                             delivery_record **out, size_t *n, bool *more, char **err);
/* Up to limit rows about response_id, newest first; *out malloc'd (always), caller clears each. */
int store_outbox_for_response(store *st, const char *response_id, int limit, delivery_record **out, size_t *n,
                              char **err);
/* Replays a delivery that is not delivered: state pending, due now, attempts 0, a new retry window
 * from now. Returns 1 with *out (the updated row, caller clears), 0 when unknown, 2 when it was
 * already delivered (*out holds it), -1 with *err. Runs in its own transaction when none is open. */
int store_outbox_retry(store *st, const char *id, int64_t now, delivery_record *out, char **err);
/* Deletes the deliveries about response_id (erasure with its contact); *deleted gets the count. */
int store_outbox_delete_for_response(store *st, const char *response_id, int64_t *deleted, char **err);
/* Deletes delivered rows delivered before cutoff_ms; *deleted gets the count. */
int store_outbox_purge_delivered(store *st, int64_t cutoff_ms, int64_t *deleted, char **err);
/* Number of rows in state s. */
int store_outbox_count(store *st, delivery_state s, int64_t *n, char **err);

/* ---- The follow-up inbox --------------------------------------------------------------------------- */

/* Items newest first. state NULL (every item), "open", "overdue" (open and past due) or "done";
 * form NULL for every form; at most limit. *items a new array (caller owns). 0, or -1 with *err. */
int store_inbox_list(store *st, const char *state, const char *form_id, int64_t now, int limit,
                     json_t **items,
                     char **err);
/* One item: 1 with *item (caller owns), 0 when unknown, -1 with *err. */
int store_inbox_get(store *st, const char *id, int64_t now, json_t **item, char **err);
/* Changes what is given (NULL: unchanged; an empty assignee or note clears it): state "open" or
 * "done" (done_at set when it becomes done). 1 when the item exists, 0 when unknown, -1 with *err. */
int store_inbox_update(store *st, const char *id, const char *state, const char *assignee, const char *note,
                       int64_t now, char **err);
/* The items of the answers linked to a contact, newest first: *items a new array. 0 or -1. */
int store_inbox_for_contact(store *st, int64_t contact_id, int64_t now, json_t **items, char **err);
/* The contact card of contact_id: {"responses":[admin listing shape, newest first],
 * "offers":[{"response_id","form","text","code"}],"inbox":[items]} — a new object in *card. 0 or -1. */
int store_contact_card(store *st, int64_t contact_id, int64_t now, json_t **card, char **err);
/* The number of stored answers of every form (for /metrics). 0 or -1. */
int store_answers_total(store *st, int64_t *n, char **err);
/* Counts open items past due (*overdue) and open items (*open). 0 or -1. */
int store_inbox_counts(store *st, int64_t now, int64_t *open, int64_t *overdue, char **err);

/* The item of response_id: 1 with id (48 bytes) and *due_ms, 0 when none, -1 with *err. */
int store_inbox_find_for_response(store *st, const char *response_id, char id[48], int64_t *due_ms,
                                  char **err);
/* Inserts a new open item routed to dest; notice is its JSON text. 0 or -1. */
int store_inbox_insert(store *st, const char *id, const char *form_id, const char *response_id,
                       const char *contact,
                       const char *rule, const char *priority, int64_t created_ms, int64_t due_ms,
                       const char *dest, const char *notice, char **err);
/* Adds dest to the item's destinations unless listed. 0 or -1. */
int store_inbox_add_destination(store *st, const char *id, const char *dest, char **err);
/* Open items past due without a reminder, oldest due first, at most limit: *rows a new array of
 * {"id","form","response_id","destinations":[…],"notice":{…}}. 0 or -1. */
int store_inbox_reminders_due(store *st, int64_t now, int limit, json_t **rows, char **err);
/* Records that the item's reminder was queued. 0 or -1. */
int store_inbox_mark_reminded(store *st, const char *id, int64_t now, char **err);

/* ---- Erasure by contact ---------------------------------------------------------------------------- */

/* Erases the contact holding the identity key (kind, key) — key as contact_identity_parse gives it —
 * in one write transaction of its own on st (no transaction may be open), then (SQLite) checkpoints.
 * Returns 0 with *out (all zero for an unknown contact), or -1 with *err (caller frees; nothing
 * erased). */
int store_erase_contact(store *st, contact_kind kind, const char *key, erase_counts *out, char **err);

/* ---- Copying a database (earshot migrate) ---------------------------------------------------------- */

/* The number of rows of t. */
int store_table_count(store *st, const storage_table *t, int64_t *n, char **err);
/* Up to limit rows of t in primary-key order, skipping the first offset: *out (caller clears). */
int store_table_read(store *st, const storage_table *t, int64_t offset, int limit, storage_rows *out, char **err);
/* Inserts rows into t, in the caller's transaction; a row whose primary key is present is left as it
 * is (so a copy can be run again). *added gets the number of rows inserted. */
int store_table_write(store *st, const storage_table *t, const storage_rows *rows, int64_t *added, char **err);
/* After rows were written with their own numbers: the database's numbering of t continues after them. */
int store_table_finish(store *st, const storage_table *t, char **err);

/* ---- The table of operations a backend fills in -------------------------------------------------- */

/* Each member does what the store_* function of the same name (without "store_") above promises.
 * A backend's struct store and struct store_cursor begin with a `const storage_ops *ops` member
 * pointing at its table. checkpoint, checkpoint_passive, on_wal_commit, set_cache, summary_fold and
 * table_finish may be NULL (nothing to do for that backend); table_read and table_write may be NULL for
 * a backend that is not copied from or to (the store_* call then fails saying so). */
struct storage_ops {
	const char *name;	/* "sqlite", "postgresql" */
	/* Whether database (the `database:` setting) names a database of this backend. */
	bool (*accepts)(const char *database);
	int (*open)(const char *database, durability_mode durability, bool read_only, store **out,
	            char **err);
	void (*close)(store *st);
	int (*begin)(store *st, char **err);
	int (*commit)(store *st, char **err);
	void (*rollback)(store *st);
	int (*savepoint)(store *st, char **err);
	int (*release)(store *st, char **err);
	void (*rollback_savepoint)(store *st);
	int (*idempotency_find)(store *st, const char *key, int *status, char **body, char **err);
	int (*idempotency_put)(store *st, const char *key, const char *form, const char *response_id,
	                       int status, const char *body, int64_t created_ms, char **err);
	int (*response_insert)(store *st, response_record *r, const char *client, char **err);
	int (*response_count)(store *st, const char *form, int64_t *n, char **err);
	int (*response_list)(store *st, const char *form, int64_t since, int64_t until, int64_t after_seq,
	                     int limit, response_record **out, size_t *n, bool *more, char **err);
	int (*cursor_open)(store *st, const char *form, int64_t since, int64_t until, store_cursor **out,
	                   char **err);
	int (*cursor_next)(store_cursor *cur, response_record *r, char **err);
	int (*cursor_next_raw)(store_cursor *cur, response_raw *r, char **err);
	void (*cursor_close)(store_cursor *cur);
	int (*kv_get)(store *st, const char *plugin, const char *key, char **value, size_t *len, char **err);
	int (*kv_put)(store *st, const char *plugin, const char *key, const void *value, size_t len,
	              char **err);
	int (*kv_incr)(store *st, const char *plugin, const char *key, int64_t delta, int64_t *result,
	               char **err);
	int (*purge_before)(store *st, int64_t cutoff_ms, int64_t *deleted, char **err);
	int (*checkpoint)(store *st, char **err);
	int (*checkpoint_passive)(store *st, char **err);
	void (*on_wal_commit)(store *st, void (*fn)(void *arg, int wal_pages), void *arg);
	int (*set_cache)(store *st, int kib, char **err);
	int (*ping)(store *st, char **err);
	int (*response_page)(store *st, const char *form, const response_filter *flt, int64_t after_seq,
	                     bool newest_first, int limit, response_record **out, size_t *n, bool *more,
	                     char **err);
	int (*cursor_open_filtered)(store *st, const char *form, const response_filter *flt,
	                            store_cursor **out, char **err);
	int (*summary_fold)(store *st, int max_rows, bool *more, char **err);
	int (*summary_tally)(store *st, const char *form, const response_filter *flt, const summary_question *qs,
	                     size_t n, count_map *out, char **err);
	int (*views_add)(store *st, const view_count *counts, size_t n, char **err);
	int (*views_count)(store *st, const char *form, int64_t since, int64_t until, const char *variant,
	                   const char *device, views_fn fn, void *ctx, char **err);
	int (*snapshot_begin)(store *st, char **err);
	void (*snapshot_end)(store *st, int begun);
	int (*contact_find)(store *st, contact_kind kind, const char *key, int64_t *id, char **err);
	int (*contact_create)(store *st, int64_t created_ms, int64_t *id, char **err);
	int (*contact_add_key)(store *st, int64_t id, contact_kind kind, const char *key, char **err);
	int (*contact_link)(store *st, const char *response_id, int64_t contact_id, char **err);
	int (*contact_response_count)(store *st, int64_t contact_id, int64_t *n, char **err);
	int (*offer_insert)(store *st, const char *response_id, const char *form_id, int seq,
	                    const char *text, const char *code, char **err);
	int (*offers_for_response)(store *st, const char *response_id, const char *form_id, json_t **offers,
	                           char **err);
	int (*token_use)(store *st, const char *nonce, int64_t expires_ms, int64_t now_ms, char **err);
	int (*offer_next_seq)(store *st, const char *response_id, int *next, char **err);
	int (*confirmation_put)(store *st, const char *response_id, int64_t expires_ms, const char *plugins,
	                        char **err);
	int (*confirmation_take)(store *st, const char *response_id, const char *form_id, int64_t now,
	                         char **answers, char **meta, char **plugins, char **err);
	int (*outbox_insert)(store *st, const delivery_record *d, char **err);
	int (*outbox_due)(store *st, int64_t now, int limit, delivery_record **out, size_t *n, char **err);
	int (*outbox_next_due)(store *st, int64_t *when_ms, char **err);
	int (*outbox_mark_delivered)(store *st, const char *id, int attempts, int64_t now, char **err);
	int (*outbox_mark_failed)(store *st, const char *id, int attempts, delivery_state state,
	                          int64_t next_ms, const char *error, int64_t now, char **err);
	int (*outbox_get)(store *st, const char *id, delivery_record *out, char **err);
	int (*outbox_list)(store *st, bool all_states, delivery_state state, int64_t after_seq, int limit,
	                   delivery_record **out, size_t *n, bool *more, char **err);
	int (*outbox_retry)(store *st, const char *id, int64_t now, delivery_record *out, char **err);
	int (*outbox_delete_for_response)(store *st, const char *response_id, int64_t *deleted, char **err);
	int (*outbox_purge_delivered)(store *st, int64_t cutoff_ms, int64_t *deleted, char **err);
	int (*outbox_count)(store *st, delivery_state s, int64_t *n, char **err);
	int (*inbox_list)(store *st, const char *state, const char *form_id, int64_t now, int limit,
	                  json_t **items, char **err);
	int (*inbox_get)(store *st, const char *id, int64_t now, json_t **item, char **err);
	int (*inbox_update)(store *st, const char *id, const char *state, const char *assignee,
	                    const char *note, int64_t now, char **err);
	int (*inbox_for_contact)(store *st, int64_t contact_id, int64_t now, json_t **items, char **err);
	int (*contact_card)(store *st, int64_t contact_id, int64_t now, json_t **card, char **err);
	int (*answers_total)(store *st, int64_t *n, char **err);
	int (*inbox_counts)(store *st, int64_t now, int64_t *open, int64_t *overdue, char **err);
	int (*inbox_find_for_response)(store *st, const char *response_id, char id[48], int64_t *due_ms,
	                               char **err);
	int (*inbox_insert)(store *st, const char *id, const char *form_id, const char *response_id,
	                    const char *contact, const char *rule, const char *priority, int64_t created_ms,
	                    int64_t due_ms, const char *dest, const char *notice, char **err);
	int (*inbox_add_destination)(store *st, const char *id, const char *dest, char **err);
	int (*inbox_reminders_due)(store *st, int64_t now, int limit, json_t **rows, char **err);
	int (*inbox_mark_reminded)(store *st, const char *id, int64_t now, char **err);
	int (*erase_contact)(store *st, contact_kind kind, const char *key, erase_counts *out, char **err);
	int (*outbox_list_newest)(store *st, bool all_states, delivery_state state, int64_t before_seq, int limit,
	                          delivery_record **out, size_t *n, bool *more, char **err);
	int (*outbox_for_response)(store *st, const char *response_id, int limit, delivery_record **out, size_t *n,
	                           char **err);
	int (*response_get)(store *st, const char *form_id, const char *id, json_t **out, char **err);
	int (*response_contacts)(store *st, const char *response_id, json_t **out, char **err);
	int (*table_count)(store *st, const storage_table *t, int64_t *n, char **err);
	int (*table_read)(store *st, const storage_table *t, int64_t offset, int limit, storage_rows *out, char **err);
	int (*table_write)(store *st, const storage_table *t, const storage_rows *rows, int64_t *added, char **err);
	int (*table_finish)(store *st, const storage_table *t, char **err);
	int (*kv_take)(store *st, const char *plugin, const char *prefix, char **key, char **value, size_t *len,
	               char **err);
	bool (*conflicted)(store *st);
	int64_t (*round_trips)(store *st);
	bool shared;                 /* other servers' transactions may conflict with this one's */
};

/* The backends, in the order store_open asks them (storage.c). */
extern const storage_ops storage_postgresql;
extern const storage_ops storage_sqlite;

#endif
