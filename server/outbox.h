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
 * The outbox table's operations are the store_outbox_* ones of storage.h. */
#ifndef EARSHOT_OUTBOX_H
#define EARSHOT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "storage.h"
#include "writer.h"

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
