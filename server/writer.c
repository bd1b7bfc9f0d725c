/* writer: durable group commit on its own thread. Jobs queue under a mutex; the thread takes the
 * whole queue as one batch, stores it in one transaction, and hands the finished jobs back to the
 * event loop through an event it activates. A job's 201 exists only after its COMMIT succeeded. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "availability.h"
#include "checkpointer.h"
#include "contacts.h"
#include "log.h"
#include "confirm.h"
#include "spam.h"
#include "loop_wake.h"
#include "util.h"
#include "view_tally.h"
#include "writer.h"

struct writer {
	store *st;                  /* owned; used by the writer thread only (until writer_stop joins) */
	checkpointer *cp;           /* owned; checkpoints the WAL the writer's commits grow */
	loop_wake *wake;            /* owned; signalled to run done() callbacks on the loop thread */
	writer_hooks hooks;
	bool has_hooks;

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu: */
	writer_job *queue_head, *queue_tail; /* submitted, not yet taken */
	writer_job *done_head, *done_tail;   /* finished, done() not yet run */
	view_tally views;                    /* views counted, not yet stored */
	int64_t views_due_ms;                /* monotonic: when they are to be stored (0: none) */
	bool stopping;

	bool fold_pending;          /* writer thread only: answers are left to fold into the summary tables */
	int guard_batches;          /* writer thread only: batches left that give plugin-seen answers savepoints */
	int64_t fold_due_ms;        /* writer thread only, monotonic: when they are to be folded */
	int64_t fold_batch_due_ms;  /* writer thread only, monotonic: when a batch is to fold them */
	atomic_bool healthy;
	atomic_int_fast64_t busy_since_ms;  /* when the batch being stored began; 0 while idle */
	atomic_uint_fast64_t answers;
	atomic_uint_fast64_t batches;
	atomic_uint_fast64_t round_trips;   /* the connection's waits for its database (store_round_trips) */
};

/* The writer's page cache: a batch's answers, their indexes, outbox rows and summary facts stay in
 * memory until the commit writes them once (with the default 2 MB, batches of plugin-heavy answers
 * spilled pages to the WAL in the middle of the transaction). */
#define WRITER_CACHE_KIB 16384

/* How long stored answers may wait to be folded into the summary tables when no batch follows them:
 * the fold then takes a transaction of its own. Summaries count the answers not yet folded directly. */
#define FOLD_INTERVAL_MS 1000
/* How long they wait when batches keep coming: the next batch folds them inside its own transaction.
 * Folding every batch upserted the same counts again and again (a tenth of the writer's time under
 * load); folding a second's answers at once made one batch in 25 carry a 500-answer fold, and the
 * answers waiting on those commits set the 99th percentile (18 ms against 9.5 ms at 25 ms, for the
 * same throughput). */
#define FOLD_IN_BATCH_AFTER_MS 25
/* The most answers one batch's transaction folds: a backlog is folded a slice per batch, so that no
 * batch (and no answer waiting on its commit) takes much longer than the others. 64 rather than 500:
 * the p99 was lower in each of six alternating pairs (7.9-10.0 ms against 9.5-10.5 ms), at the same
 * throughput. */
#define FOLD_IN_BATCH_MAX 64
/* After a batch had to be stored again (an answer without a savepoint was refused or failed), the
 * answers plugins see get savepoints for this many batches: a run of refusals (a blocklist under
 * attack) then costs one redo per this many batches, not one per batch. */
#define GUARD_BATCHES_AFTER_REDO 64

const char writer_unavailable_message[] =
	"The answer could not be stored; nothing was kept. Please try again.";

/* Hands msg (malloc'd) to *err, or frees it when the caller passed no err. */
static void set_err(char **err, char *msg)
{
	if (err)
		*err = msg;
	else
		free(msg);
}

/* Returns a zeroed job (caller owns it); the writer makes what storing fills in. */
writer_job *writer_job_new(void)
{
	return xcalloc(1, sizeof(writer_job));
}

/* Frees the job, everything it owns, and its registry reference. NULL is allowed. */
void writer_job_free(writer_job *job)
{
	if (!job)
		return;
	json_decref(job->answers);
	json_decref(job->meta);
	json_decref(job->score);
	json_decref(job->tags);
	json_decref(job->tag_set);
	json_decref(job->offers);
	json_decref(job->confirm_plugins);
	json_decref(job->reject);
	json_decref(job->body);
	free(job->reply);
	free(job->idempotency_key);
	free(job->client);
	free(job->token_nonce);
	if (job->reg)
		form_registry_unref(job->reg);
	free(job);
}

json_t *writer_job_body(writer_job *job)
{
	if (!job->body && job->reply)
		job->body = json_loadb(job->reply, job->reply_len, 0, NULL);
	return job->body;
}

void writer_job_prepare(writer_job *job)
{
	if (!job->tags)
		job->tags = json_array();
	if (!job->offers)
		job->offers = json_array();
	if (!job->confirm_plugins)
		job->confirm_plugins = json_array();
}

/* Frees what plugins made of the job while it was stored. */
static void job_parts_free(writer_job *job)
{
	json_t **parts[] = { &job->score, &job->tags, &job->tag_set, &job->offers, &job->reject,
		             &job->confirm_plugins };
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		json_decref(*parts[i]);
		*parts[i] = NULL;
	}
}

/* Forgets what plugins made of the job, before it is stored again in another transaction. */
static void job_reset(writer_job *job)
{
	job_parts_free(job);
	writer_job_prepare(job);
	job->plugins_run[0] = '\0';
	job->n_deliveries = 0;
	job->delivery_bytes = 0;
}

/* Sets the job's outcome: status and body (the reference to body passes to the job). */
static void job_finish(writer_job *job, int status, json_t *body)
{
	json_decref(job->body);
	job->status = status;
	job->body = body;
}

/* The job was not stored: 503 unavailable. */
static void job_unavailable(writer_job *job)
{
	job->replayed = false;
	job_finish(job, 503, json_pack("{s:s, s:s}", "error", "unavailable", "message", writer_unavailable_message));
}

/* A plugin refused the answer: 422 with the plugin's field messages. */
static void job_refused(writer_job *job)
{
	json_t *fields = job->reject ? json_incref(job->reject) : json_object();
	job_finish(job, 422, json_pack("{s:s, s:s, s:o}", "error", "invalid", "message",
	                               "Some answers need another look.", "fields", fields));
}

/* Builds the 201 body {"id","thank_you","offers","score"?} (a new reference). */
static json_t *accepted_body(const writer_job *job)
{
	json_t *body = json_object();
	json_object_set_new(body, "id", json_string(job->id));
	const char *thanks = form_thank_you(job->form, json_string_value(json_object_get(job->meta, "locale")),
	                                    json_string_value(json_object_get(job->meta, "variant")));
	json_object_set_new(body, "thank_you", json_string(thanks ? thanks : ""));
	/* Shared, not copied: the body becomes text on this thread before the job leaves it. */
	json_object_set_new(body, "offers", job->offers ? json_incref(job->offers) : json_array());
	if (job->score)
		json_object_set_new(body, "score", json_incref(job->score));
	return body;
}

/* Looks the job's idempotency key up inside the batch's transaction. Returns 1 when the job was
 * answered by replaying the stored outcome, 0 when the key is new, -1 on an error. */
static int job_replay(writer *w, writer_job *job)
{
	int status = 0;
	char *text = NULL, *err = NULL;
	int found = store_idempotency_find(w->st, job->idempotency_key, &status, &text, &err);
	free(err);
	if (found != 1)
		return found;
	json_error_t jerr;
	json_t *body = json_loads(text, 0, &jerr);
	free(text);
	if (!body)
		return -1;
	/* The id of the original answer, for callers that redirect to it. */
	const char *id = json_string_value(json_object_get(body, "id"));
	snprintf(job->id, sizeof job->id, "%s", id ? id : "");
	job->replayed = true;
	job_finish(job, status, body);
	return 1;
}

/* The form is closed (schedule over or quota reached): 410 with the reason. */
static void job_closed(writer_job *job, int avail)
{
	const char *reason = availability_reason((availability)avail);
	job->replayed = false;
	job_finish(job, 410, json_pack("{s:s, s:s, s:s}", "error", "form_closed", "reason", reason, "message",
	                               avail == AVAIL_QUOTA_REACHED ? "This form has received all the answers it needs."
	                               : avail == AVAIL_NOT_STARTED ? "This form is not open yet."
	                                                            : "This form is no longer taking answers."));
}

/* Stores one new answer inside the open savepoint: its timing token's nonce, plugins' hook, the
 * row, its contacts and offers, the idempotency key. Returns 0 (job->body set to the 201 body), 1
 * when a plugin refused it, 2 when its timing token was used before, 3 when the form is closed
 * (job->body set to the 410 body; counted inside this transaction, so a quota is never exceeded),
 * -1 on an error. Errors are logged when guarded: without a savepoint the batch is stored again
 * (batch_round), and the error logged then if it happens again. */
static int job_store(writer *w, writer_job *job, bool guarded)
{
	char *err = NULL;
	int avail = availability_of(job->form, w->st, job->created_ms, &err);
	free(err);
	err = NULL;
	if (avail < 0)
		return -1;
	if (avail != AVAIL_OPEN) {
		job_closed(job, avail);
		return 3;
	}
	if (job->token_nonce) {
		int used = spam_token_remember(w->st, job->token_nonce, job->token_expires_ms, job->created_ms, &err);
		free(err);
		err = NULL;
		if (used != 0)
			return used == 1 ? 2 : -1;
	}
	if (w->has_hooks && w->hooks.on_response) {
		int rc = w->hooks.on_response(w->hooks.ctx, w->st, job, &err);
		if (rc < 0 && guarded && !store_conflicted(w->st))
			log_line("answer to form %s not stored (503): %s", job->form->id,
			         err ? err : "a plugin failed (no message given)");
		free(err);
		err = NULL;
		if (rc != 0)
			return rc == 1 ? 1 : -1;
	}
	bool confirm = confirm_wanted(job);
	response_record r = { .created_ms = job->created_ms, .answers = job->answers, .meta = job->meta,
	                      .score = job->score, .tags = job->tags,
	                      .confirmed = confirm ? RESPONSE_CONFIRM_PENDING : RESPONSE_CONFIRM_NONE };
	snprintf(r.id, sizeof r.id, "%s", job->id);
	snprintf(r.form, sizeof r.form, "%s", job->form->id);
	if (store_response_insert(w->st, &r, job->client, &err) != 0 ||
	    contacts_link_answer(w->st, job, &err) != 0 || (confirm && confirm_on_store(w->st, job, &err) != 0)) {
		if (guarded && !store_conflicted(w->st))
			log_line("answer to form %s not stored (503): %s", job->form->id, err ? err : "unknown error");
		free(err);
		return -1;
	}
	json_t *body = accepted_body(job);
	if (job->idempotency_key) {
		char *text = json_dumps(body, JSON_COMPACT);
		int rc = text ? store_idempotency_put(w->st, job->idempotency_key, job->form->id, job->id, 201,
		                                      text, job->created_ms, &err)
		              : -1;
		free(text);
		free(err);
		if (rc != 0) {
			json_decref(body);
			return -1;
		}
	}
	job_finish(job, 201, body);
	return 0;
}

/* Confirms a stored answer inside its own savepoint (confirm.h): marks it confirmed, runs again the
 * on_response of the plugins that waited for it and stores the offers they make. The outcome goes to
 * job->status (200 with body {"offers"}, 404, 410 with {"reason"}, or 503). */
static void job_confirm(writer *w, writer_job *job)
{
	char *err = NULL;
	json_t *plugins = NULL;
	if (store_savepoint(w->st, &err) != 0) {
		free(err);
		job_unavailable(job);
		return;
	}
	int rc = confirm_apply(w->st, job, &plugins, &err);
	snprintf(job->id, sizeof job->id, "%s", job->confirming);
	if (rc == CONFIRM_OK && json_array_size(plugins) > 0 && w->has_hooks && w->hooks.on_response) {
		json_decref(job->confirm_plugins);
		job->confirm_plugins = json_incref(plugins);
		rc = w->hooks.on_response(w->hooks.ctx, w->st, job, &err) >= 0 ? CONFIRM_OK : -1; /* reject: ignored */
		if (rc == CONFIRM_OK && confirm_store_offers(w->st, job, &err) != 0)
			rc = -1;
	}
	json_decref(plugins);
	if (rc < 0)
		log_line("confirmation of %s not stored (503): %s", job->confirming, err ? err : "unknown error");
	free(err);
	err = NULL;
	if (rc == CONFIRM_OK && store_release(w->st, &err) != 0)
		rc = -1;
	if (rc != CONFIRM_OK) {
		free(err);
		store_rollback_savepoint(w->st);
	}
	if (rc == CONFIRM_OK)
		job_finish(job, 200, json_pack("{s:O}", "offers", job->offers));
	else if (rc == CONFIRM_UNKNOWN)
		job_finish(job, 404, json_pack("{s:s}", "reason", "unknown"));
	else if (rc == CONFIRM_USED || rc == CONFIRM_EXPIRED)
		job_finish(job, 410, json_pack("{s:s}", "reason", rc == CONFIRM_USED ? "used" : "expired"));
	else
		job_unavailable(job);
}

/* Transactions an answer is tried in when conflicts with other nodes' transactions undo it. */
#define WRITER_ATTEMPTS 4

/* True when job must be stored in a savepoint of its own: another node's transaction may undo it
 * (PostgreSQL: the deadlock then costs this answer alone, not the batch), the whole batch is being
 * stored again that way, or a plugin sees it and a batch was stored again lately. Otherwise, even when
 * a plugin may refuse it, it goes without: a savepoint copies every page the answer touches a second
 * time (a sixth of the writer's time with the three shipped plugins), and refusals are rare; the one
 * that comes costs its batch a redo (batch_round). */
static bool job_needs_savepoint(const writer *w, const writer_job *job, bool all_guarded)
{
	if (all_guarded || store_shared(w->st))
		return true;
	if (!w->has_hooks || !w->hooks.on_response || w->guard_batches == 0)
		return false;
	return !w->hooks.runs_for || w->hooks.runs_for(w->hooks.ctx, job);
}

/* Handles one job inside the batch's transaction: replay, or a new answer (in its own savepoint when
 * job_needs_savepoint). Sets the job's tentative outcome; a 201 still depends on the batch's COMMIT.
 * Returns false when an answer stored without a savepoint failed: what it wrote cannot be undone
 * alone, so the transaction must be rolled back and the batch stored again with all_guarded. */
static bool job_process(writer *w, writer_job *job, bool all_guarded)
{
	char *err = NULL;
	job->replayed = false;
	job->dropped = false;
	writer_job_prepare(job);
	if (!job->form || !job->form->id) {
		job_unavailable(job);
		return true;
	}
	if (job->confirming[0]) {
		job_confirm(w, job);
		return true;
	}
	if (job->idempotency_key) {
		int rc = job_replay(w, job);
		if (rc == 1)
			return true;
		if (rc < 0) {
			job_unavailable(job);
			return true;
		}
	}
	random_id("r_", job->id, sizeof job->id);
	bool guarded = job_needs_savepoint(w, job, all_guarded);
	if (guarded && store_savepoint(w->st, &err) != 0) {
		free(err);
		job_unavailable(job);
		return true;
	}
	int rc = job_store(w, job, guarded);
	/* A used token (2) or a closed form (3) returns before the answer writes anything. */
	if (!guarded && rc != 0 && rc != 2 && rc != 3)
		return false;
	bool again = false;
	if (guarded) {
		if (rc == 0 && store_release(w->st, &err) == 0)
			return true;
		free(err);
		/* Another node's transaction conflicted (a deadlock over keys both lock): this answer is
		 * undone and stored again in the next transaction, which holds nothing of this batch's
		 * while it waits. */
		again = (rc == 0 || rc == -1) && store_conflicted(w->st) && job->attempts < WRITER_ATTEMPTS;
		store_rollback_savepoint(w->st);
	}
	if (again) {
		job_reset(job);
		job->postponed = true;
	} else if (rc == 1) {
		job_refused(job);
	} else if (rc == 3) {
		/* job->body already says why the form is closed */
	} else if (rc == 2) {
		/* A replayed timing token: the sender sees an ordinary 201 for an id never stored. */
		job->dropped = true;
		job_finish(job, 201, accepted_body(job));
	} else if (rc != 0) {
		job_unavailable(job);
	}
	return true;
}

/* Logs a failed COMMIT once: how many answers it loses, the database's message, and the plugins whose
 * on_response wrote into the transaction (a plugin's writes are one thing that can make it fail). */
static void log_commit_failure(const writer_job *batch, const char *err)
{
	size_t n = 0;
	char plugins[512] = "";
	for (const writer_job *job = batch; job; job = job->next) {
		n += job->status == 201;
		const char *p = job->plugins_run;
		while (*p) {
			size_t len = strcspn(p, ",");
			char name[128];
			snprintf(name, sizeof name, "plugin %.*s (on_response)", (int)len, p);
			if (!strstr(plugins, name) && strlen(plugins) + strlen(name) + 3 < sizeof plugins) {
				if (plugins[0])
					strcat(plugins, ", ");
				strcat(plugins, name);
			}
			p += len + (p[len] == ',');
		}
	}
	log_line("COMMIT failed: %zu answer(s) of the batch not stored (503): %s; ran in this transaction: %s",
	         n, err ? err : "unknown error", plugins[0] ? plugins : "no plugin");
}

/* Folds the answers stored so far into the summary tables, inside the open transaction. A failure
 * keeps nothing of the fold and costs the answers nothing: summaries read unfolded answers from
 * responses until a later fold succeeds. Sets fold_pending when a backlog is left, due at once. */
static void fold_summaries(writer *w, int max_rows)
{
	char *err = NULL;
	bool more = false;
	if (store_summary_fold(w->st, max_rows, &more, &err) != 0) {
		log_line("summary counts not updated (they will be on a later commit): %s", err ? err : "unknown error");
		free(err);
		more = true;
		w->fold_due_ms = w->fold_batch_due_ms = monotonic_ms() + FOLD_INTERVAL_MS;
	} else {
		w->fold_due_ms = w->fold_batch_due_ms = monotonic_ms();
	}
	w->fold_pending = more;
}

/* True when answers wait to be folded and their time has come. */
static bool fold_due(const writer *w)
{
	return w->fold_pending && monotonic_ms() >= w->fold_due_ms;
}

/* After a batch stored answers: folds them when a fold is due, else leaves them for a later one. */
static void fold_after_batch(writer *w)
{
	int64_t now = monotonic_ms();
	if (w->fold_pending && now >= w->fold_batch_due_ms) {
		fold_summaries(w, FOLD_IN_BATCH_MAX);
	} else if (!w->fold_pending) {
		w->fold_pending = true;
		w->fold_due_ms = now + FOLD_INTERVAL_MS;
		w->fold_batch_due_ms = now + FOLD_IN_BATCH_AFTER_MS;
	}
}

/* Folds answers left unfolded (by recent batches, an older version, or SQL) in a transaction of its
 * own; when that fails, tries again a fold interval later. */
static void fold_backlog(writer *w)
{
	char *err = NULL;
	if (store_begin(w->st, &err) == 0) {
		fold_summaries(w, SUMMARY_FOLD_MAX);
		if (store_commit(w->st, &err) == 0)
			return;
		store_rollback(w->st);
	}
	free(err);
	w->fold_pending = true;
	w->fold_due_ms = w->fold_batch_due_ms = monotonic_ms() + FOLD_INTERVAL_MS;
}

/* On a clean stop: folds every answer left unfolded, so that the next start has none to fold. */
static void fold_all(writer *w)
{
	while (w->fold_pending && atomic_load(&w->healthy)) {
		w->fold_due_ms = 0;
		fold_backlog(w);
		if (w->fold_pending && w->fold_due_ms > monotonic_ms())
			break; /* that fold failed: the next start folds them */
	}
}

/* Stores the jobs of batch (a linked list) in one transaction and sets their outcome, except for the
 * jobs a conflict with another node's transaction postponed. all_guarded: every answer in a savepoint
 * of its own (see job_process). Returns how many were postponed. */
static int batch_round(writer *w, writer_job *batch, bool all_guarded)
{
	char *err = NULL;
	for (writer_job *job = batch; job; job = job->next) {
		job->postponed = false;
		job->attempts++;
	}
	if (store_begin(w->st, &err) != 0) {
		free(err);
		atomic_store(&w->healthy, false);
		for (writer_job *job = batch; job; job = job->next)
			job_unavailable(job);
		return 0;
	}
	int postponed = 0;
	for (writer_job *job = batch; job; job = job->next) {
		if (!job_process(w, job, all_guarded)) {
			/* Undo the whole transaction and store the batch again, each answer in its savepoint,
			 * so that the failing one fails alone. */
			store_rollback(w->st);
			for (writer_job *j = batch; j; j = j->next)
				job_reset(j);
			w->guard_batches = GUARD_BATCHES_AFTER_REDO + 1;
			return batch_round(w, batch, true);
		}
		postponed += job->postponed;
	}
	fold_after_batch(w);
	if (store_commit(w->st, &err) != 0) {
		log_commit_failure(batch, err);
		free(err);
		store_rollback(w->st);
		atomic_store(&w->healthy, false);
		/* Nothing of the batch was kept: no 201 may leave, replays included (one may repeat an
		 * answer of this very batch), and nothing is tried again. */
		for (writer_job *job = batch; job; job = job->next) {
			if (job->status == 201 || job->postponed)
				job_unavailable(job);
			job->postponed = false;
		}
		return 0;
	}
	uint_fast64_t stored = 0;
	for (writer_job *job = batch; job; job = job->next)
		if (job->status == 201 && !job->replayed && !job->dropped && !job->postponed)
			stored++;
	atomic_store(&w->healthy, true);
	atomic_fetch_add(&w->answers, stored);
	atomic_fetch_add(&w->batches, 1);
	return postponed;
}

static void batch_complete(writer *w, writer_job *batch);

/* Stores a batch in one transaction and hands its finished jobs back; the answers a conflict with
 * another node postponed are stored in the next transaction, and handed back after it. */
static void batch_process(writer *w, writer_job *batch)
{
	while (batch) {
		int postponed = batch_round(w, batch, false);
		atomic_store(&w->round_trips, (uint_fast64_t)store_round_trips(w->st));
		writer_job *done = NULL, **done_tail = &done, *again = NULL, **again_tail = &again;
		for (writer_job *job = batch, *next; job; job = next) {
			next = job->next;
			job->next = NULL;
			if (postponed && job->postponed) {
				*again_tail = job;
				again_tail = &job->next;
			} else {
				*done_tail = job;
				done_tail = &job->next;
			}
		}
		if (done)
			batch_complete(w, done);
		batch = again;
	}
	/* Each batch stored uses up one of the window (batch_round opens it one wider, for the batch that
	 * was stored again itself). */
	if (w->guard_batches > 0)
		w->guard_batches--;
}

/* Frees what only storing needed and turns the reply into text, before the job goes back to the
 * event loop: with glibc, freeing memory on another thread than the one that allocated it takes the
 * allocating thread's arena lock, and under load the two threads then wait for each other. One
 * string is one free; the reply's JSON tree was a dozen. */
static void job_hand_back(writer_job *job)
{
	job_parts_free(job);
	free(job->reply);
	job->reply = NULL;
	job->reply_len = 0;
	if (job->body) {
		job->reply = json_dumps(job->body, JSON_COMPACT);
		job->reply_len = job->reply ? strlen(job->reply) : 0;
		json_decref(job->body);
		job->body = NULL;
	}
}

/* Moves a finished batch to the done list and wakes the event loop to deliver it. */
static void batch_complete(writer *w, writer_job *batch)
{
	writer_job *tail = batch;
	job_hand_back(tail);
	while (tail->next) {
		tail = tail->next;
		job_hand_back(tail);
	}
	pthread_mutex_lock(&w->mu);
	if (w->done_tail)
		w->done_tail->next = batch;
	else
		w->done_head = batch;
	w->done_tail = tail;
	pthread_mutex_unlock(&w->mu);
	loop_wake_signal(w->wake);
}

/* While unhealthy, a probe write is tried this often when no answers arrive, so that the writer
 * (and /healthz) recovers when the disk does, even if traffic stopped meanwhile. */
#define PROBE_INTERVAL_MS 1000

/* Commits one small write (a timestamp in the host's own key-value space). Sets healthy when it
 * was kept. */
static void writer_probe(writer *w)
{
	char *err = NULL, stamp[32];
	int len = snprintf(stamp, sizeof stamp, "%lld", (long long)now_ms());
	if (store_begin(w->st, &err) == 0) {
		if (store_kv_put(w->st, "earshot", "writer_probe", stamp, (size_t)len, &err) == 0 &&
		    store_commit(w->st, &err) == 0) {
			atomic_store(&w->healthy, true);
			return;
		}
		store_rollback(w->st);
	}
	free(err);
}

/* True (mu held) when counted views are due to be stored. */
static bool views_due(const writer *w)
{
	return w->views_due_ms && monotonic_ms() >= w->views_due_ms;
}

/* Waits (mu held) until jobs are queued, stopping is flagged, counted views are due, answers are due
 * to be folded, or, while unhealthy, a probe is due. Returns true when a probe is due. */
static bool wait_for_work(writer *w)
{
	while (!w->queue_head && !w->stopping && !views_due(w)) {
		bool healthy = atomic_load(&w->healthy);
		if (healthy && fold_due(w))
			return false;
		int64_t now = monotonic_ms();
		int64_t wait_ms = healthy ? INT64_MAX : PROBE_INTERVAL_MS;
		if (w->views_due_ms && w->views_due_ms - now < wait_ms)
			wait_ms = w->views_due_ms - now;
		if (healthy && w->fold_pending && w->fold_due_ms - now < wait_ms)
			wait_ms = w->fold_due_ms - now;
		if (wait_ms == INT64_MAX) {
			pthread_cond_wait(&w->cv, &w->mu);
			continue;
		}
		if (wait_ms < 0)
			wait_ms = 0;
		struct timespec deadline;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += (time_t)(wait_ms / 1000);
		deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&w->cv, &w->mu, &deadline) == ETIMEDOUT && !w->queue_head &&
		    !w->stopping && !healthy && !views_due(w))
			return true;
	}
	return false;
}

/* Stores counted views in a transaction of their own (writer thread). When that fails they are
 * counted again for the next try, unless the writer is stopping. */
static void views_store(writer *w, view_tally *views, bool last)
{
	char *err = NULL;
	if (store_begin(w->st, &err) == 0) {
		if (store_views_add(w->st, views->items, views->n, &err) == 0 && store_commit(w->st, &err) == 0) {
			atomic_store(&w->healthy, true); /* a commit went through, as a probe's would */
			view_tally_clear(views);
			return;
		}
		store_rollback(w->st);
	}
	log_line("views not stored%s: %s", last ? " (lost)" : " (tried again in a second)", err ? err : "unknown error");
	free(err);
	if (!last) {
		pthread_mutex_lock(&w->mu);
		view_tally_merge(&w->views, views);
		if (!w->views_due_ms)
			w->views_due_ms = monotonic_ms() + WRITER_VIEWS_FLUSH_MS;
		pthread_mutex_unlock(&w->mu);
	}
	view_tally_clear(views);
}

void writer_count_view(writer *w, const char *form_id, const char *variant, const char *device, int64_t at_ms)
{
	pthread_mutex_lock(&w->mu);
	view_tally_add(&w->views, form_id, at_ms / 86400000, variant, device, 1);
	if (!w->views_due_ms) {
		w->views_due_ms = monotonic_ms() + WRITER_VIEWS_FLUSH_MS;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
}

/* The writer thread: waits for jobs, stores each whole queue as one batch, stores counted views once
 * they are due, and exits once stopping with nothing left queued (storing the views counted so far). */
static void *writer_main(void *arg)
{
	writer *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		bool probe = wait_for_work(w);
		writer_job *batch = w->queue_head;
		w->queue_head = w->queue_tail = NULL;
		bool last = !batch && w->stopping;
		view_tally views = { 0 };
		if (last || views_due(w)) {
			view_tally_take(&w->views, &views);
			w->views_due_ms = 0;
		}
		pthread_mutex_unlock(&w->mu);
		if (batch) {
			atomic_store(&w->busy_since_ms, now_ms());
			batch_process(w, batch);
			atomic_store(&w->busy_since_ms, 0);
		} else if (fold_due(w) && !last) {
			fold_backlog(w);
		}
		if (last)
			fold_all(w);
		if (views.n > 0)
			views_store(w, &views, last);
		else if (probe)
			writer_probe(w);
		atomic_store(&w->round_trips, (uint_fast64_t)store_round_trips(w->st));
		view_tally_clear(&views);
		if (last)
			break;
	}
	return NULL;
}

/* Takes the done list and runs each job's done() (which may free the job). Runs on the thread that
 * owns delivery: the event loop, or writer_stop's caller after the thread has exited. */
static void deliver_done(writer *w)
{
	pthread_mutex_lock(&w->mu);
	writer_job *job = w->done_head;
	w->done_head = w->done_tail = NULL;
	pthread_mutex_unlock(&w->mu);
	while (job) {
		writer_job *next = job->next;
		job->next = NULL;
		if (job->done)
			job->done(job, job->done_arg);
		job = next;
	}
}

/* The wake-up's callback, on the loop thread. */
static void wake_cb(void *arg)
{
	deliver_done(arg);
}

/* Opens the writer's own connection, then starts the thread. Returns the writer, or NULL with *err. */
writer *writer_start(const char *db_path, durability_mode durability, struct event_base *base,
                     const writer_hooks *hooks, char **err)
{
	writer *w = xcalloc(1, sizeof *w);
	if (store_open(db_path, durability, false, &w->st, err) != 0) {
		free(w);
		return NULL;
	}
	if (store_set_cache(w->st, WRITER_CACHE_KIB, err) != 0) {
		store_close(w->st);
		free(w);
		return NULL;
	}
	w->cp = checkpointer_start(db_path, durability, err);
	if (!w->cp) {
		store_close(w->st);
		free(w);
		return NULL;
	}
	checkpointer_watch(w->cp, w->st);
	if (hooks) {
		w->hooks = *hooks;
		w->has_hooks = true;
	}
	w->fold_pending = true; /* whatever was stored while no writer ran */
	atomic_init(&w->healthy, true);
	atomic_init(&w->answers, 0);
	atomic_init(&w->batches, 0);
	atomic_init(&w->round_trips, 0);
	char *wake_err = NULL;
	w->wake = loop_wake_new(base, wake_cb, w, &wake_err);
	if (!w->wake) {
		set_err(err, xasprintf("start writer: %s", wake_err));
		free(wake_err);
		goto fail;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &attr);
	pthread_condattr_destroy(&attr);
	int rc = pthread_create(&w->thread, NULL, writer_main, w);
	if (rc != 0) {
		set_err(err, xasprintf("start writer: cannot start its thread: %s", strerror(rc)));
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		goto fail;
	}
	return w;
fail:
	loop_wake_free(w->wake);
	store_on_wal_commit(w->st, NULL, NULL);
	checkpointer_stop(w->cp);
	store_close(w->st);
	free(w);
	return NULL;
}

/* Appends job to the queue and wakes the thread (loop thread; ownership passes until done()). */
void writer_submit(writer *w, writer_job *job)
{
	job->next = NULL;
	job->status = 0;
	job->replayed = false;
	job->dropped = false;
	job->postponed = false;
	job->attempts = 0;
	pthread_mutex_lock(&w->mu);
	if (w->queue_tail)
		w->queue_tail->next = job;
	else
		w->queue_head = job;
	w->queue_tail = job;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Drains and stops the thread, delivers what is left on this thread, checkpoints, frees. */
void writer_stop(writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	/* The thread has exited: no signal can follow, and a pending one is dropped with the wake-up. */
	loop_wake_free(w->wake);
	deliver_done(w);
	view_tally_clear(&w->views);
	store_on_wal_commit(w->st, NULL, NULL);
	checkpointer_stop(w->cp);
	char *err = NULL;
	store_checkpoint(w->st, &err);
	free(err);
	store_close(w->st);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* False after a failed BEGIN or COMMIT until a commit (or the idle probe) succeeds. */
bool writer_healthy(const writer *w)
{
	return atomic_load(&((writer *)w)->healthy);
}

/* Answers stored and batches committed since start (either pointer may be NULL). */
void writer_stats(const writer *w, uint64_t *answers, uint64_t *batches)
{
	writer *mw = (writer *)w;
	if (answers)
		*answers = atomic_load(&mw->answers);
	if (batches)
		*batches = atomic_load(&mw->batches);
}

/* The writer connection's waits for its database since start (0 for SQLite). */
uint64_t writer_round_trips(const writer *w)
{
	return atomic_load(&((writer *)w)->round_trips);
}

/* How long the batch being stored has been running, in ms; 0 while the writer is idle. */
int64_t writer_busy_ms(const writer *w)
{
	int64_t since = atomic_load(&((writer *)w)->busy_since_ms);
	return since ? now_ms() - since : 0;
}
