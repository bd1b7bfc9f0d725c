/* Unit tests for writer: group commit on a real event loop and a temporary database, idempotent
 * replays, plugin refusals and errors, a failing COMMIT (never a false 201), and draining on stop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "test_support.h"
#include "store_internal.h"
#include "util.h"
#include "writer.h"

#define MAX_JOBS 512

/* Per-test state: a temporary database, an event base, the jobs whose done() ran, and the gate a
 * "gate" job waits at inside its transaction (so the test decides what the next batch holds). */
typedef struct fixture {
	char dir[64];
	char path[128];
	struct event_base *base;
	pthread_t loop_thread;
	writer_job *done_jobs[MAX_JOBS];
	size_t n_done;
	size_t want;
	bool wrong_thread;
	bool timed_out;
	sem_t gate_entered;
	sem_t gate_open;
	bool unguarded;              /* start() says no plugin runs for any answer (no savepoints) */
	int hook_calls;              /* on_response calls (read once the writer has stopped) */
} fixture;

static form test_form = { .id = "signup", .thank_you = "Thanks for your time!" };

static int setup(void **state)
{
	fixture *fx = xcalloc(1, sizeof *fx);
	if (test_temp_dir(fx->dir, sizeof fx->dir, "writer") != 0) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof fx->path, "%s/answers.db", fx->dir);
	fx->base = event_base_new();
	fx->loop_thread = pthread_self();
	sem_init(&fx->gate_entered, 0, 0);
	sem_init(&fx->gate_open, 0, 0);
	*state = fx;
	return fx->base ? 0 : -1;
}

static int teardown(void **state)
{
	fixture *fx = *state;
	for (size_t i = 0; i < fx->n_done; i++)
		writer_job_free(fx->done_jobs[i]);
	event_base_free(fx->base);
	sem_destroy(&fx->gate_entered);
	sem_destroy(&fx->gate_open);
	test_remove_dir(fx->dir);
	free(fx);
	return 0;
}

/* done(): keeps the job for inspection and stops the loop once every expected job is back. */
static void on_done(writer_job *job, void *arg)
{
	fixture *fx = arg;
	if (!pthread_equal(pthread_self(), fx->loop_thread))
		fx->wrong_thread = true;
	if (fx->n_done < MAX_JOBS)
		fx->done_jobs[fx->n_done++] = job;
	else
		writer_job_free(job);
	if (fx->n_done >= fx->want)
		event_base_loopbreak(fx->base);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fixture *fx = arg;
	fx->timed_out = true;
	event_base_loopbreak(fx->base);
}

/* Runs the event loop until `total` done() callbacks have run (failing after 30 s). */
static void run_until(fixture *fx, size_t total)
{
	fx->want = total;
	if (fx->n_done >= total)
		return;
	struct event *timer = evtimer_new(fx->base, on_timeout, fx);
	struct timeval tv = { 30, 0 };
	evtimer_add(timer, &tv);
	event_base_dispatch(fx->base);
	event_free(timer);
	assert_false(fx->timed_out);
	assert_int_equal(fx->n_done, total);
	assert_false(fx->wrong_thread);
}

/* A new job for the test form. action tells the test hook what to do ("ok", "gate", "refuse",
 * "error", "score", "kv", "poison"); key may be NULL. */
static writer_job *make_job(fixture *fx, int n, const char *action, const char *key)
{
	writer_job *job = writer_job_new();
	job->form = &test_form;
	job->answers = json_pack("{s:i, s:s}", "n", n, "action", action);
	job->meta = json_pack("{s:s}", "page", "/cart");
	job->idempotency_key = key ? xstrdup(key) : NULL;
	job->client = xstrdup("hash:0f0f");
	job->created_ms = now_ms();
	job->done = on_done;
	job->done_arg = fx;
	return job;
}

/* The plugins' part, scripted by the answer "action". */
static int test_hook(void *ctx, store *st, writer_job *job, char **err)
{
	fixture *fx = ctx;
	const char *action = json_string_value(json_object_get(job->answers, "action"));
	int64_t res;
	fx->hook_calls++;
	if (strcmp(action, "gate") == 0) {
		sem_post(&fx->gate_entered);
		sem_wait(&fx->gate_open);
	} else if (strcmp(action, "refuse") == 0) {
		if (store_kv_incr(st, "test", "count", 1, &res, err) != 0)
			return -1;
		job->reject = json_pack("{s:s}", "email", "is already signed up");
		return 1;
	} else if (strcmp(action, "error") == 0) {
		if (store_kv_incr(st, "test", "count", 1, &res, err) != 0)
			return -1;
		*err = xstrdup("plugin failer: on_response: asked to fail");
		return -1;
	} else if (strcmp(action, "score") == 0) {
		job->score = json_pack("{s:i, s:s}", "nps", 9, "category", "promoter");
		json_array_append_new(job->tags, json_string("promoter"));
		json_array_append_new(job->offers, json_pack("{s:s, s:s}", "text", "10% off", "code", "EAR-7Q2M"));
	} else if (strcmp(action, "kv") == 0) {
		return store_kv_incr(st, "test", "count", 1, &res, err) == 0 ? 0 : -1;
	} else if (strcmp(action, "poison") == 0) {
		/* The test's trigger turns this write into a deferred constraint that fails COMMIT. */
		snprintf(job->plugins_run, sizeof job->plugins_run, "poisoner");
		return store_kv_put(st, "test", "poison", "x", 1, err) == 0 ? 0 : -1;
	}
	return 0;
}

/* Sends stderr to a temporary file until log_end, which returns what was written (caller frees). */
static int saved_stderr = -1;
static FILE *log_file;

static void log_begin(void)
{
	fflush(stderr);
	log_file = tmpfile();
	assert_non_null(log_file);
	saved_stderr = dup(2);
	dup2(fileno(log_file), 2);
}

static char *log_end(void)
{
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	long n = ftell(log_file);
	rewind(log_file);
	char *text = xcalloc(1, (size_t)(n > 0 ? n : 0) + 1);
	if (n > 0 && fread(text, 1, (size_t)n, log_file) != (size_t)n)
		text[0] = '\0';
	fclose(log_file);
	return text;
}

/* writer_hooks.runs_for saying that no plugin runs for any answer: the writer then stores them
 * without savepoints, although test_hook may still refuse or fail one. */
static bool runs_for_none(void *ctx, const writer_job *job)
{
	(void)ctx;
	(void)job;
	return false;
}

static writer *start(fixture *fx)
{
	writer_hooks hooks = { .on_response = test_hook, .runs_for = fx->unguarded ? runs_for_none : NULL,
		               .ctx = fx };
	char *err = NULL;
	writer *w = writer_start(fx->path, DURABILITY_FULL, fx->base, &hooks, &err);
	if (!w)
		fail_msg("writer_start: %s", err);
	return w;
}

/* Submits a gate job and waits until the writer thread holds it inside its transaction: whatever is
 * submitted next forms the following batch. Open the gate with sem_post(&fx->gate_open). */
static void submit_gate(fixture *fx, writer *w, int n)
{
	writer_submit(w, make_job(fx, n, "gate", NULL));
	sem_wait(&fx->gate_entered);
}

/* Opens the database on a read-only connection and returns how many responses the form has. */
static int64_t stored_count(fixture *fx)
{
	store *st = NULL;
	char *err = NULL;
	if (store_open(fx->path, DURABILITY_FULL, true, &st, &err) != 0)
		fail_msg("store_open: %s", err);
	int64_t n = -1;
	assert_int_equal(store_response_count(st, test_form.id, &n, &err), 0);
	store_close(st);
	return n;
}

/* Checks the test plugin's "count" key, as committed (a read-only connection). */
static void assert_kv_count(fixture *fx, const char *want)
{
	store *st = NULL;
	char *err = NULL, *v = NULL;
	size_t len;
	assert_int_equal(store_open(fx->path, DURABILITY_FULL, true, &st, &err), 0);
	assert_int_equal(store_kv_get(st, "test", "count", &v, &len, &err), 1);
	assert_string_equal(v, want);
	free(v);
	store_close(st);
}

/* The done job with answer n. */
static writer_job *job_n(fixture *fx, int n)
{
	for (size_t i = 0; i < fx->n_done; i++)
		if (json_integer_value(json_object_get(fx->done_jobs[i]->answers, "n")) == n)
			return fx->done_jobs[i];
	fail_msg("job %d did not complete", n);
	return NULL;
}

static void assert_unavailable(writer_job *job)
{
	assert_int_equal(job->status, 503);
	assert_false(job->replayed);
	json_t *body = writer_job_body(job);
	assert_string_equal(json_string_value(json_object_get(body, "error")), "unavailable");
	assert_non_null(strstr(json_string_value(json_object_get(body, "message")), "nothing was kept"));
}

static void test_group_commit_200(void **state)
{
	fixture *fx = *state;
	writer *w = start(fx);
	for (int i = 0; i < 200; i++)
		writer_submit(w, make_job(fx, i, "ok", NULL));
	run_until(fx, 200);
	uint64_t answers = 0, batches = 0;
	writer_stats(w, &answers, &batches);
	assert_int_equal(answers, 200);
	assert_true(batches >= 1);
	assert_true(batches < 200);
	assert_true(writer_healthy(w));
	for (size_t i = 0; i < 200; i++) {
		writer_job *job = fx->done_jobs[i];
		assert_int_equal(job->status, 201);
		assert_false(job->replayed);
		assert_true(strncmp(job->id, "r_", 2) == 0 && strlen(job->id) == 28);
		json_t *body = writer_job_body(job);
		assert_string_equal(json_string_value(json_object_get(body, "id")), job->id);
		assert_string_equal(json_string_value(json_object_get(body, "thank_you")), test_form.thank_you);
		assert_true(json_is_array(json_object_get(body, "offers")));
		assert_int_equal(json_array_size(json_object_get(body, "offers")), 0);
		assert_null(json_object_get(body, "score"));
	}
	writer_stop(w);

	/* Every acknowledged answer is in the database, with its id. */
	store *st = NULL;
	char *err = NULL;
	assert_int_equal(store_open(fx->path, DURABILITY_FULL, false, &st, &err), 0);
	response_record *out = NULL;
	size_t n = 0;
	bool more = true;
	assert_int_equal(store_response_list(st, test_form.id, STORE_TIME_MIN, STORE_TIME_MAX, 0, 1000, &out, &n,
	                                     &more, &err),
	                 0);
	assert_int_equal(n, 200);
	assert_false(more);
	for (size_t i = 0; i < 200; i++) {
		bool found = false;
		for (size_t j = 0; j < n && !found; j++)
			found = strcmp(out[j].id, fx->done_jobs[i]->id) == 0;
		assert_true(found);
	}
	for (size_t j = 0; j < n; j++)
		response_record_clear(&out[j]);
	free(out);
	store_close(st);
	/* writer_stop checkpointed the WAL. */
	char wal[160];
	struct stat sb;
	snprintf(wal, sizeof wal, "%s-wal", fx->path);
	assert_true(stat(wal, &sb) != 0 || sb.st_size == 0);
}

static void test_score_offers_tags(void **state)
{
	fixture *fx = *state;
	writer *w = start(fx);
	writer_submit(w, make_job(fx, 1, "score", NULL));
	run_until(fx, 1);
	writer_job *job = fx->done_jobs[0];
	assert_int_equal(job->status, 201);
	json_t *want = json_pack("{s:s, s:s, s:[{s:s, s:s}], s:{s:i, s:s}}", "id", job->id, "thank_you",
	                         test_form.thank_you, "offers", "text", "10% off", "code", "EAR-7Q2M", "score",
	                         "nps", 9, "category", "promoter");
	assert_true(json_equal(writer_job_body(job), want));
	json_decref(want);
	writer_stop(w);

	store *st = NULL;
	char *err = NULL;
	assert_int_equal(store_open(fx->path, DURABILITY_FULL, true, &st, &err), 0);
	response_record *out = NULL;
	size_t n = 0;
	bool more;
	assert_int_equal(store_response_list(st, test_form.id, STORE_TIME_MIN, STORE_TIME_MAX, 0, 10, &out, &n,
	                                     &more, &err),
	                 0);
	assert_int_equal(n, 1);
	assert_string_equal(json_string_value(json_object_get(out[0].score, "category")), "promoter");
	assert_string_equal(json_string_value(json_array_get(out[0].tags, 0)), "promoter");
	assert_string_equal(json_string_value(json_object_get(out[0].meta, "page")), "/cart");
	assert_int_equal(out[0].created_ms, job->created_ms);
	response_record_clear(&out[0]);
	free(out);
	store_close(st);
}

static void test_idempotent_replay(void **state)
{
	fixture *fx = *state;
	writer *w = start(fx);
	writer_submit(w, make_job(fx, 1, "score", "key-1"));
	run_until(fx, 1);
	writer_job *first = fx->done_jobs[0];
	assert_int_equal(first->status, 201);
	assert_false(first->replayed);

	/* A retry with the same key, even with other answers, replays the stored body. */
	writer_submit(w, make_job(fx, 2, "ok", "key-1"));
	run_until(fx, 2);
	writer_job *again = fx->done_jobs[1];
	assert_int_equal(again->status, 201);
	assert_true(again->replayed);
	assert_true(json_equal(writer_job_body(again), writer_job_body(first)));
	assert_string_equal(again->id, first->id);

	/* Two new answers with one key in the same batch: the second replays the first. */
	submit_gate(fx, w, 3);
	writer_submit(w, make_job(fx, 4, "ok", "key-2"));
	writer_submit(w, make_job(fx, 5, "ok", "key-2"));
	sem_post(&fx->gate_open);
	run_until(fx, 5);
	writer_job *a = job_n(fx, 4), *b = job_n(fx, 5);
	assert_int_equal(a->status, 201);
	assert_false(a->replayed);
	assert_int_equal(b->status, 201);
	assert_true(b->replayed);
	assert_true(json_equal(writer_job_body(a), writer_job_body(b)));
	uint64_t answers, batches;
	writer_stats(w, &answers, &batches);
	assert_int_equal(answers, 3); /* first, the gate, a */
	writer_stop(w);
	assert_int_equal(stored_count(fx), 3);
}

/* Adds a trigger that makes a plugin_kv write under key "poison" leave a deferred foreign-key
 * violation behind, so the batch's COMMIT fails (as it would on a full disk). */
static void install_poison(fixture *fx)
{
	store *st = NULL;
	char *err = NULL;
	assert_int_equal(store_open(fx->path, DURABILITY_FULL, false, &st, &err), 0);
	store_close(st);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "CREATE TABLE t_parent (id INTEGER PRIMARY KEY);"
	                              "CREATE TABLE t_child (pid INTEGER REFERENCES t_parent(id) "
	                              "  DEFERRABLE INITIALLY DEFERRED);"
	                              "CREATE TRIGGER t_poison AFTER INSERT ON plugin_kv WHEN new.key = 'poison' "
	                              "BEGIN INSERT INTO t_child VALUES (42); END;",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
}

/* A gate, then five answers in one batch: two kv, a refusal, a kv, an error. */
static void refusal_and_error_are_per_job(fixture *fx)
{
	writer *w = start(fx);
	submit_gate(fx, w, 0);
	writer_submit(w, make_job(fx, 1, "kv", NULL));
	writer_submit(w, make_job(fx, 2, "refuse", "key-r"));
	writer_submit(w, make_job(fx, 3, "kv", NULL));
	writer_submit(w, make_job(fx, 4, "error", "key-e"));
	writer_submit(w, make_job(fx, 5, "kv", NULL));
	log_begin();
	sem_post(&fx->gate_open);
	run_until(fx, 6);
	char *logged = log_end();
	/* The plugin's message is logged once, naming the plugin and the hook. */
	const char *line = strstr(logged, "answer to form ");
	assert_non_null(line);
	assert_non_null(strstr(line, "not stored (503): plugin failer: on_response: asked to fail\n"));
	assert_null(strstr(strstr(line, "asked to fail") + 1, "asked to fail"));
	free(logged);
	assert_int_equal(job_n(fx, 1)->status, 201);
	assert_int_equal(job_n(fx, 3)->status, 201);
	assert_int_equal(job_n(fx, 5)->status, 201);
	writer_job *refused = job_n(fx, 2);
	assert_int_equal(refused->status, 422);
	json_t *want = json_pack("{s:s, s:s, s:{s:s}}", "error", "invalid", "message",
	                         "Some answers need another look.", "fields", "email", "is already signed up");
	assert_true(json_equal(writer_job_body(refused), want));
	json_decref(want);
	assert_unavailable(job_n(fx, 4));
	assert_true(writer_healthy(w));
	uint64_t answers, batches;
	writer_stats(w, &answers, &batches);
	assert_int_equal(answers, 4);
	writer_stop(w);

	assert_int_equal(stored_count(fx), 4);
	store *st = NULL;
	char *err = NULL, *v = NULL;
	size_t len;
	int status;
	assert_int_equal(store_open(fx->path, DURABILITY_FULL, false, &st, &err), 0);
	/* The refused and failed jobs' plugin writes were rolled back with their savepoints. */
	assert_int_equal(store_kv_get(st, "test", "count", &v, &len, &err), 1);
	assert_string_equal(v, "3");
	free(v);
	/* Their keys were not kept: the visitor may fix the answer and send it again. */
	assert_int_equal(store_idempotency_find(st, "key-r", &status, &v, &err), 0);
	assert_int_equal(store_idempotency_find(st, "key-e", &status, &v, &err), 0);
	store_close(st);
}

static void test_refusal_and_error_are_per_job(void **state)
{
	fixture *fx = *state;
	refusal_and_error_are_per_job(fx);
	/* No savepoints until a refusal: the gate, the two answers up to the refusal, then all five again
	 * (each in its savepoint). */
	assert_int_equal(fx->hook_calls, 8);
}

/* After a batch was stored again, the answers plugins see get savepoints: a second refusal costs no
 * redo. */
static void test_after_a_redo_answers_get_savepoints(void **state)
{
	fixture *fx = *state;
	writer *w = start(fx);
	submit_gate(fx, w, 0);
	writer_submit(w, make_job(fx, 1, "kv", NULL));
	writer_submit(w, make_job(fx, 2, "refuse", NULL));
	sem_post(&fx->gate_open);
	run_until(fx, 3);
	submit_gate(fx, w, 3);
	writer_submit(w, make_job(fx, 4, "kv", NULL));
	writer_submit(w, make_job(fx, 5, "refuse", NULL));
	writer_submit(w, make_job(fx, 6, "kv", NULL));
	sem_post(&fx->gate_open);
	run_until(fx, 7);
	writer_stop(w);
	for (int n = 1; n <= 6; n++)
		assert_int_equal(job_n(fx, n)->status, n == 2 || n == 5 ? 422 : 201);
	/* Gate, 1, 2, then 1 and 2 again; gate, 4, 5, 6 once each. Always without savepoints it would be
	 * 11 (the second batch stored again too), always with them 7. */
	assert_int_equal(fx->hook_calls, 9);
	assert_int_equal(stored_count(fx), 5);
	assert_kv_count(fx, "3"); /* answers 1, 4 and 6: the refusals' increments were undone */
}

/* The same batch stored without savepoints: the refusal undoes the transaction, and the batch is
 * stored again with one savepoint per answer, with the same outcome as above. */
static void test_refusal_without_savepoints_redoes_the_batch(void **state)
{
	fixture *fx = *state;
	fx->unguarded = true;
	refusal_and_error_are_per_job(fx);
	/* The gate, the two answers up to the refusal, then all five again. */
	assert_int_equal(fx->hook_calls, 8);
}

/* Answers no plugin can refuse go without savepoints: stored once each, all kept. */
static void test_batch_without_savepoints(void **state)
{
	fixture *fx = *state;
	fx->unguarded = true;
	writer *w = start(fx);
	submit_gate(fx, w, 0);
	for (int n = 1; n <= 5; n++)
		writer_submit(w, make_job(fx, n, "kv", NULL));
	sem_post(&fx->gate_open);
	run_until(fx, 6);
	for (int n = 1; n <= 5; n++)
		assert_int_equal(job_n(fx, n)->status, 201);
	writer_stop(w);
	assert_int_equal(fx->hook_calls, 6);
	assert_int_equal(stored_count(fx), 6);
	assert_kv_count(fx, "5");
}

static void test_failed_commit_gives_no_201(void **state)
{
	fixture *fx = *state;
	install_poison(fx);
	writer *w = start(fx);
	submit_gate(fx, w, 0);
	writer_submit(w, make_job(fx, 1, "ok", "key-p"));
	writer_submit(w, make_job(fx, 2, "poison", NULL));
	writer_submit(w, make_job(fx, 3, "refuse", NULL));
	writer_submit(w, make_job(fx, 4, "ok", "key-p")); /* replays job 1 inside the doomed batch */
	log_begin();
	sem_post(&fx->gate_open);
	run_until(fx, 5);
	char *logged = log_end();
	/* The failed COMMIT is logged once with SQLite's message and the plugins that ran. */
	assert_non_null(strstr(logged, "COMMIT failed: 3 answer(s) of the batch not stored (503): "));
	assert_non_null(strstr(logged, "FOREIGN KEY constraint failed; ran in this transaction: plugin "
	                               "poisoner (on_response)\n"));
	assert_null(strstr(strstr(logged, "COMMIT failed") + 1, "COMMIT failed"));
	free(logged);
	assert_int_equal(job_n(fx, 0)->status, 201);
	assert_unavailable(job_n(fx, 1));
	assert_unavailable(job_n(fx, 2));
	assert_unavailable(job_n(fx, 4));
	assert_int_equal(job_n(fx, 3)->status, 422); /* a refusal stays a refusal */
	assert_false(writer_healthy(w));
	uint64_t answers, batches;
	writer_stats(w, &answers, &batches);
	assert_int_equal(answers, 1);
	assert_int_equal(batches, 1);

	/* Without any new answer, the writer's probe finds the database writable again. */
	for (int i = 0; i < 100 && !writer_healthy(w); i++)
		usleep(100 * 1000);
	assert_true(writer_healthy(w));

	/* The next batch commits; the key was never kept. */
	writer_submit(w, make_job(fx, 5, "ok", "key-p"));
	run_until(fx, 6);
	writer_job *retry = job_n(fx, 5);
	assert_int_equal(retry->status, 201);
	assert_false(retry->replayed);
	assert_true(writer_healthy(w));
	writer_stats(w, &answers, &batches);
	assert_int_equal(answers, 2);
	assert_int_equal(batches, 2);
	writer_stop(w);
	assert_int_equal(stored_count(fx), 2);
}

static void test_stop_drains_queue(void **state)
{
	fixture *fx = *state;
	writer *w = start(fx);
	/* The loop never runs: writer_stop stores everything and delivers on this thread. */
	fx->want = SIZE_MAX;
	for (int i = 0; i < 50; i++)
		writer_submit(w, make_job(fx, i, "ok", NULL));
	writer_stop(w);
	assert_int_equal(fx->n_done, 50);
	assert_false(fx->wrong_thread);
	/* Each done() ran once, in submission order. */
	for (int i = 0; i < 50; i++) {
		writer_job *job = fx->done_jobs[i];
		assert_int_equal(json_integer_value(json_object_get(job->answers, "n")), i);
		assert_int_equal(job->status, 201);
	}
	/* No stray activation survives the writer. */
	assert_int_equal(event_base_loop(fx->base, EVLOOP_NONBLOCK), 1);
	assert_int_equal(fx->n_done, 50);
	assert_int_equal(stored_count(fx), 50);
}

static void test_start_errors(void **state)
{
	fixture *fx = *state;
	char *err = NULL;
	writer *w = writer_start("/nonexistent-earshot-dir/a.db", DURABILITY_FULL, fx->base, NULL, &err);
	assert_null(w);
	assert_non_null(strstr(err, "/nonexistent-earshot-dir/a.db"));
	free(err);
	err = NULL;

	install_poison(fx);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_schema_version() + 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	w = writer_start(fx->path, DURABILITY_FULL, fx->base, NULL, &err);
	assert_null(w);
	assert_non_null(strstr(err, "newer earshot"));
	free(err);
}

static void test_no_hooks_and_job_free(void **state)
{
	fixture *fx = *state;
	char *err = NULL;
	writer *w = writer_start(fx->path, DURABILITY_NORMAL, fx->base, NULL, &err);
	assert_non_null(w);
	writer_submit(w, make_job(fx, 1, "refuse", NULL)); /* no hook: stored as is */
	run_until(fx, 1);
	assert_int_equal(fx->done_jobs[0]->status, 201);
	/* What only storing needed was freed by the writer before done(): the reply is text. */
	assert_null(fx->done_jobs[0]->tags);
	assert_null(fx->done_jobs[0]->offers);
	assert_null(fx->done_jobs[0]->body);
	assert_non_null(fx->done_jobs[0]->reply);
	writer_stop(w);
	assert_int_equal(stored_count(fx), 1);
	/* A fresh job has nothing storing fills in; prepared, empty tags and offers; freeing it (or NULL)
	 * is safe either way. */
	writer_job *job = writer_job_new();
	assert_null(job->tags);
	assert_null(job->offers);
	assert_null(job->reg);
	writer_job_prepare(job);
	assert_true(json_is_array(job->tags) && json_array_size(job->tags) == 0);
	assert_true(json_is_array(job->offers) && json_array_size(job->offers) == 0);
	assert_true(json_is_array(job->confirm_plugins) && json_array_size(job->confirm_plugins) == 0);
	writer_job_free(job);
	writer_job_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_commit_200, setup, teardown),
		cmocka_unit_test_setup_teardown(test_score_offers_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotent_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_and_error_are_per_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_without_savepoints_redoes_the_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_a_redo_answers_get_savepoints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_without_savepoints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_commit_gives_no_201, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_drains_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_hooks_and_job_free, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	libevent_global_shutdown();
	return rc;
}
