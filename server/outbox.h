/* outbox: durable deliveries of what plugins send out (webhooks, files).
 *
 * A plugin's enqueue_delivery writes one outbox row inside the transaction that stores the answer,
 * so a delivery exists exactly when its answer does. A worker thread with its own database
 * connection and libcurl sends due rows, never touching the HTTP event loop: a webhook is
 * delivered on a 2xx answer, a file delivery once its line is appended and fsynced. Failures are
 * retried with exponential backoff and jitter (first retry within 10 s, doubling, at most one hour
 * apart) until retry_for_hours have passed since the delivery was created (or replayed), then the
 * row is dead until an admin replays it. Rows carry no "in flight" state: after a crash or restart
 * every undelivered row is simply due again (at least once; the id is stable for deduplication).
 *
 * Only store_outbox.c speaks the SQL behind the store_outbox_* functions declared here. */
#ifndef EARSHOT_OUTBOX_H
#define EARSHOT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "store.h"
#include "writer.h"

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

/* ---- The outbox table (store_outbox.c) -----------------------------------------------------------
 * Each returns 0 (or the count stated), or -1 with *err (caller frees). They run inside the
 * caller's transaction when one is open, else each statement commits on its own. */

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

/* ---- Enqueue (writer thread, inside the answer's transaction) ----------------------------------- */

/* The document sent: {"type","id","form","response":{admin listing shape}} plus every member of
 * extra (may be NULL). Returns a new object, or NULL with *err when extra tries to set one of the
 * four reserved keys. */
json_t *outbox_document(const writer_job *job, const char *delivery_id, const char *type,
                        const json_t *extra, char **err);
/* plugin_enqueue_fn (plugin_host.h) with arg = the const earshot_config * whose destinations: the
 * plugins were loaded with: writes a pending row due now, then wakes the workers. Every check of an
 * enqueued delivery is made here: fails with *err for a missing type, an unknown destination, a
 * malformed extra_json, a document over OUTBOX_MAX_DOCUMENT_BYTES, or an answer that already has
 * OUTBOX_MAX_PER_ANSWER deliveries or OUTBOX_MAX_BYTES_PER_ANSWER bytes of them (counted in job). */
#define OUTBOX_MAX_PER_ANSWER 16
#define OUTBOX_MAX_DOCUMENT_BYTES (256 * 1024)
#define OUTBOX_MAX_BYTES_PER_ANSWER (1024 * 1024)
int outbox_plugin_enqueue(void *arg, store *st, writer_job *job, const char *plugin,
                          const char *dest_name, const char *type, const char *extra_json,
                          char **err);
/* Tells every running worker that rows may have been added (they look within milliseconds once
 * the transaction has committed). Any thread. */
void outbox_notify(void);

/* ---- Retry schedule ------------------------------------------------------------------------------ */

/* Backoff base used when none is given: 10 s, or EARSHOT_TEST_BACKOFF_MS (test-only) when set. */
int64_t outbox_default_backoff_ms(void);
/* Delay before the attempt following failure number `failures` (1 = the first failure): a ceiling
 * of base_ms * 2^(failures-1), capped at one hour, and "equal jitter": half the ceiling plus
 * unit_random (0..1) times the other half. */
int64_t outbox_backoff_ms(int64_t base_ms, int failures, double unit_random);
/* After failed attempt number `attempts` at now, of a delivery whose retry window began at
 * retry_from_ms: DELIVERY_DEAD once retry_for_hours have passed, else DELIVERY_FAILED with *next_ms
 * (never later than the end of the window, so the last attempt happens at its end). */
delivery_state outbox_schedule_retry(int attempts, int64_t retry_from_ms, double retry_for_hours,
                                     int64_t now, int64_t base_ms, double unit_random, int64_t *next_ms);

/* Appends body and a newline to the file at path (created 0640 when missing), then fsyncs it.
 * A write that fails part-way is cut back off, so a retry never leaves half a line. Returns 0, or
 * -1 with *err. */
int outbox_append_file(const char *path, const char *body, size_t len, char **err);

/* ---- The delivery worker ------------------------------------------------------------------------ */

typedef struct outbox outbox;

/* Receives one log line (no newline; borrowed). Called on the worker thread. */
typedef void (*outbox_log_fn)(void *arg, const char *line);

typedef struct outbox_options {
	outbox_log_fn log;        /* NULL: log_line() on stderr */
	void *log_arg;
	int64_t backoff_base_ms;  /* 0: outbox_default_backoff_ms() */
	int64_t idle_poll_ms;     /* 0: 1000; how often an idle worker looks for rows others added */
	int64_t stop_grace_ms;    /* 0: 5000; how long outbox_stop lets a request in flight finish */
} outbox_options;

/* Opens the worker's own connection to cfg->database, copies cfg's destinations and starts the
 * thread. opt may be NULL. Returns NULL with *err (caller frees). */
outbox *outbox_start(const earshot_config *cfg, const outbox_options *opt, char **err);
/* Replaces the destinations the worker sends to (after a reload); cfg is only read during the
 * call. A row naming a destination that no longer exists fails and is retried like any failure. */
void outbox_set_destinations(outbox *ob, const earshot_config *cfg);
/* Stops the worker: a request in flight may finish within the grace period, else it is abandoned
 * and its row stays due. Closes the connection and frees ob. NULL is allowed. */
void outbox_stop(outbox *ob);
/* Deliveries made and failed attempts since start (either pointer may be NULL). */
void outbox_stats(const outbox *ob, uint64_t *delivered, uint64_t *failed);

#endif
