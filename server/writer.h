/* writer: durable group commit on its own thread. The event loop hands over validated answers; the
 * writer takes every answer queued so far, stores them in one BEGIN IMMEDIATE transaction (one
 * SAVEPOINT each, plugins' on_response inside), commits, and only then completes each job back on
 * the event loop thread, where the 201 is sent. Answers arriving during a commit form the next batch. */
#ifndef EARSHOT_WRITER_H
#define EARSHOT_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "form.h"
#include "storage.h"

typedef struct writer writer;
typedef struct writer_job writer_job;

struct writer_job {
	/* Set by the submitter; everything here is owned by the job (writer_job_free). */
	form_registry *reg;          /* a reference keeping form alive */
	const form *form;
	json_t *answers;             /* normalised answers (validate_answers) */
	json_t *meta;                /* object */
	char *idempotency_key;       /* may be NULL */
	char *client;                /* privacy-processed client address, may be NULL */
	int64_t created_ms;
	char *token_nonce;           /* may be NULL: the nonce of the answer's timing token (spam.h); a
	                              * nonce is used once: an answer whose nonce was seen is dropped */
	int64_t token_expires_ms;    /* until when the nonce is remembered */
	char confirming[48];         /* set: not a new answer but the confirmation of this stored one
	                              * (confirm.h); answers and meta are then loaded by the writer */
	void (*done)(writer_job *job, void *arg); /* called once, on the event loop thread */
	void *done_arg;

	/* Set while the job is stored (on the writer thread, inside the transaction). tags, offers and
	 * confirm_plugins are made by writer_job_prepare; all of these are freed again by the writer
	 * before done() runs (the reply is in reply). */
	char id[48];                 /* the new response id */
	json_t *score;               /* object or NULL: plugins' score */
	json_t *tags;                /* array: plugins' tags */
	json_t *offers;              /* array of {"text","code"}: plugins' offers */
	json_t *reject;              /* object field -> message when a plugin refused the answer */
	char plugins_run[128];       /* "nps,incentive": plugins whose on_response ran (for the log) */
	json_t *tag_set;             /* object tag -> true: the tags already in `tags`, found in O(1) */
	json_t *confirm_plugins;     /* array: plugins that wait for the answer's confirmation (or, while
	                              * confirming, the plugins whose on_response runs again) */
	unsigned n_deliveries;       /* deliveries enqueued for this answer, and their document bytes */
	size_t delivery_bytes;       /* (the outbox's per-answer caps) */

	/* The outcome, valid in done(). */
	int status;                  /* 201, 422 (refused by a plugin), 410 (the form closed: schedule
	                              * or max_responses), or 503 (not stored); a confirmation: 200,
	                              * 404 (unknown answer), 410 (link used or expired) or 503 */
	json_t *body;                /* the reply body (201: {"id","thank_you","offers","score"?}): the
	                              * writer turns it into reply before done() runs; after, see
	                              * writer_job_body */
	char *reply;                 /* the reply body as compact JSON text, made (and body freed) on the
	                              * writer thread: see job_hand_back */
	size_t reply_len;
	bool replayed;               /* 201 replayed from an earlier answer with the same key */
	bool dropped;                /* 201 that stored nothing: its timing token was used before */
	bool postponed;              /* writer only: undone after a conflict with another node's
	                              * transaction, to be stored again in the next one */
	int attempts;                /* writer only: transactions it was tried in */

	writer_job *next;            /* queue link, private to the writer */
};

/* Plugins' part of storing one answer, called on the writer thread inside the batch's transaction.
 * on_response may write through st (plugin key-value space, outbox) and fill job->score/tags/offers.
 * It returns 0 to keep the answer, 1 to refuse it (job->reject filled; the job gets 422), -1 on an
 * error (*err, caller frees; the job gets 503); either way nothing the answer wrote is kept.
 * runs_for tells whether on_response would run any plugin for job. An answer it may refuse is
 * stored in a SAVEPOINT of its own; with SQLite the others go without (a savepoint copies every page
 * the answer touches again), and a batch where one of those fails anyway is stored again, every
 * answer in its own savepoint, its on_response called again. NULL: every answer gets its savepoint. */
typedef struct writer_hooks {
	int (*on_response)(void *ctx, store *st, writer_job *job, char **err);
	bool (*runs_for)(void *ctx, const writer_job *job);
	void *ctx;
} writer_hooks;

/* Opens its own connection to db_path and starts the thread; done() callbacks run on base's thread
 * (loop_wake.h). hooks may be NULL. Returns NULL with *err (caller frees). */
writer *writer_start(const char *db_path, durability_mode durability, struct event_base *base,
                     const writer_hooks *hooks, char **err);
/* Queues job (ownership passes to the writer until done() runs; done() must free it with
 * writer_job_free or keep it). Thread: event loop. */
void writer_submit(writer *w, writer_job *job);
/* Stores what is queued, stops the thread, runs the remaining done() callbacks on the calling
 * thread, checkpoints the WAL and closes the connection. */
void writer_stop(writer *w);
/* How long the batch being stored has been running (ms; 0 while idle): a batch running longer than
 * WRITER_STALL_MS means the writer is stalled (a plugin hook that blocks, a lock held elsewhere). */
int64_t writer_busy_ms(const writer *w);
#define WRITER_STALL_MS 3000
/* False after a commit failed (disk full, I/O error) until one succeeds again. */
bool writer_healthy(const writer *w);
/* Counts one view of form form_id (variant and device may be NULL: none) on the UTC day of at_ms. Views are
 * gathered in memory and added to the views table in one transaction of their own at most
 * WRITER_VIEWS_FLUSH_MS after the first of them, and when the writer stops; a crash loses at most
 * that much. Never blocks on the database. Thread: any. */
void writer_count_view(writer *w, const char *form_id, const char *variant, const char *device, int64_t at_ms);
#define WRITER_VIEWS_FLUSH_MS 1000
/* Number of answers committed since start, and of batches (commits): for logs and benchmarks. */
void writer_stats(const writer *w, uint64_t *answers, uint64_t *batches);
/* How many times the writer's connection waited for its database since start: network round trips with
 * PostgreSQL, 0 with SQLite. With writer_stats, the round trips an answer costs. */
uint64_t writer_round_trips(const writer *w);

/* Allocates an empty job (all fields zero, the arrays storing fills in not made yet). */
writer_job *writer_job_new(void);
/* Makes the job's tags, offers and confirm_plugins empty arrays where they are not made yet. The
 * writer does this on its own thread before storing the job, so that it also frees them there;
 * code running plugins' hooks without a writer (tests) calls it first. */
void writer_job_prepare(writer_job *job);
void writer_job_free(writer_job *job);
/* The job's reply body as JSON, parsed from reply on first use (the job keeps the reference), or
 * NULL when it has none. */
json_t *writer_job_body(writer_job *job);

/* The message of a 503 "unavailable" answer: nothing of it was stored (i18n.c translates it). */
extern const char writer_unavailable_message[];

#endif
