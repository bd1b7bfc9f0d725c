/* Unit tests for the outbox: the retry schedule (bounds, doubling, cap, window end, dead), the
 * delivery document, enqueueing inside a transaction (unknown destinations, malformed extras,
 * rollback), every outbox query, appending to files (including a write cut short by the file size
 * limit), and the worker against a file destination and a loopback HTTP receiver written here:
 * failing first attempts then 2xx with a stable webhook-id and valid signatures, a dead letter,
 * a destination added by a reload, and a stop that abandons a hanging request in time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "outbox.h"
#include "test_support.h"
#include "util.h"
#include "webhook_sign.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* ---- Fixture: a temporary directory with a database ------------------------------------------- */

typedef struct fixture {
	char dir[64];
	char db[128];
	char file[128];
	store *st;
} fixture;

static int setup(void **state)
{
	fixture *fx = xcalloc(1, sizeof *fx);
	if (test_temp_dir(fx->dir, sizeof fx->dir, "outbox") != 0) {
		free(fx);
		return -1;
	}
	snprintf(fx->db, sizeof fx->db, "%s/data.db", fx->dir);
	snprintf(fx->file, sizeof fx->file, "%s/complaints.ndjson", fx->dir);
	char *err = NULL;
	if (store_open(fx->db, DURABILITY_NORMAL, false, &fx->st, &err) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;
	store_close(fx->st);
	test_remove_dir(fx->dir);
	free(fx);
	return 0;
}

/* A config read from YAML naming the fixture's database and the given destinations block. */
static earshot_config *make_config(const fixture *fx, const char *destinations)
{
	char *yaml = xasprintf("database: %s\ndestinations:\n%s", fx->db, destinations);
	diag_list diags;
	diag_init(&diags);
	earshot_config *cfg = config_parse_string(yaml, strlen(yaml), "test.yaml", fx->dir, &diags);
	for (size_t i = 0; i < diags.n; i++)
		fprintf(stderr, "%s\n", diags.items[i]);
	diag_free(&diags);
	free(yaml);
	assert_non_null(cfg);
	return cfg;
}

/* A row due at due_ms about response_id, with a small document. */
static void make_row(delivery_record *d, const char *id, const char *dest, int64_t due_ms,
                     const char *response_id)
{
	memset(d, 0, sizeof *d);
	snprintf(d->id, sizeof d->id, "%s", id);
	d->destination = xstrdup(dest);
	d->type = xstrdup("complaint");
	d->response_id = response_id ? xstrdup(response_id) : NULL;
	d->body = xasprintf("{\"type\":\"complaint\",\"id\":\"%s\"}", id);
	d->state = DELIVERY_PENDING;
	d->created_ms = d->retry_from_ms = 1000;
	d->next_attempt_ms = due_ms;
}

/* Inserts a row (see make_row) created at 1000 ms after the epoch. */
static void insert_row(store *st, const char *id, const char *dest, int64_t due_ms, const char *response_id)
{
	delivery_record d;
	make_row(&d, id, dest, due_ms, response_id);
	char *err = NULL;
	if (store_outbox_insert(st, &d, &err) != 0)
		fail_msg("insert: %s", err);
	delivery_record_clear(&d);
}

/* Inserts a row created now and due now, as enqueue makes them (for the worker's retry window). */
static void insert_fresh_row(store *st, const char *id, const char *dest)
{
	delivery_record d;
	make_row(&d, id, dest, now_ms(), NULL);
	d.created_ms = d.retry_from_ms = d.next_attempt_ms;
	char *err = NULL;
	if (store_outbox_insert(st, &d, &err) != 0)
		fail_msg("insert: %s", err);
	delivery_record_clear(&d);
}

/* Reads row id (which must exist) into *d. */
static void get_row(store *st, const char *id, delivery_record *d)
{
	char *err = NULL;
	int rc = store_outbox_get(st, id, d, &err);
	if (rc != 1)
		fail_msg("get %s: %d %s", id, rc, err ? err : "");
}

/* ---- Retry schedule ---------------------------------------------------------------------------- */

/* The first retry is within 10 s (5..10 s with jitter), each ceiling doubles, and none exceeds an
 * hour. */
static void test_backoff_bounds(void **state)
{
	(void)state;
	assert_int_equal(outbox_backoff_ms(10000, 1, 0.0), 5000);
	assert_int_equal(outbox_backoff_ms(10000, 1, 1.0), 10000);
	assert_int_equal(outbox_backoff_ms(10000, 1, 0.5), 7500);
	assert_int_equal(outbox_backoff_ms(10000, 2, 0.0), 10000);
	assert_int_equal(outbox_backoff_ms(10000, 2, 1.0), 20000);
	assert_int_equal(outbox_backoff_ms(10000, 3, 1.0), 40000);
	/* 10 s * 2^9 = 5120 s is over the cap: one hour at most, half an hour at least. */
	assert_int_equal(outbox_backoff_ms(10000, 10, 1.0), 3600000);
	assert_int_equal(outbox_backoff_ms(10000, 10, 0.0), 1800000);
	assert_int_equal(outbox_backoff_ms(10000, 1000000, 1.0), 3600000);
	/* Out-of-range inputs are clamped rather than trusted. */
	assert_int_equal(outbox_backoff_ms(10000, 0, 1.0), 10000);
	assert_int_equal(outbox_backoff_ms(10000, -5, 0.0), 5000);
	assert_int_equal(outbox_backoff_ms(10000, 1, NAN), 5000);
	assert_int_equal(outbox_backoff_ms(10000, 1, 7.0), 10000);
	assert_int_equal(outbox_backoff_ms(0, 1, 1.0), 10000);
	for (int f = 1; f < 40; f++) {
		int64_t lo = outbox_backoff_ms(10000, f, 0.0), hi = outbox_backoff_ms(10000, f, 1.0);
		assert_true(lo >= 5000 && lo <= hi && hi <= 3600000);
		if (f > 1)
			assert_true(hi >= outbox_backoff_ms(10000, f - 1, 1.0));
	}
}

/* The test-only environment override of the base. */
static void test_backoff_env(void **state)
{
	(void)state;
	unsetenv("EARSHOT_TEST_BACKOFF_MS");
	assert_int_equal(outbox_default_backoff_ms(), 10000);
	setenv("EARSHOT_TEST_BACKOFF_MS", "50", 1);
	assert_int_equal(outbox_default_backoff_ms(), 50);
	setenv("EARSHOT_TEST_BACKOFF_MS", "-3", 1);
	assert_int_equal(outbox_default_backoff_ms(), 10000);
	setenv("EARSHOT_TEST_BACKOFF_MS", "12abc", 1);
	assert_int_equal(outbox_default_backoff_ms(), 10000);
	unsetenv("EARSHOT_TEST_BACKOFF_MS");
}

/* Failed inside the window with the backoff; clipped to the window's end; dead after it; dead at
 * once with retry_for_hours 0. */
static void test_schedule_retry(void **state)
{
	(void)state;
	const int64_t start = 1700000000000, hour = 3600000;
	int64_t next = 0;
	assert_int_equal(outbox_schedule_retry(1, start, 24, start + 1000, 10000, 1.0, &next), DELIVERY_FAILED);
	assert_int_equal(next, start + 1000 + 10000);
	assert_int_equal(outbox_schedule_retry(30, start, 24, start + 2 * hour, 10000, 1.0, &next), DELIVERY_FAILED);
	assert_int_equal(next, start + 3 * hour);
	/* Ten minutes before the end, with an hour's backoff: the last attempt is at the end. */
	assert_int_equal(outbox_schedule_retry(30, start, 24, start + 24 * hour - 600000, 10000, 1.0, &next),
	                 DELIVERY_FAILED);
	assert_int_equal(next, start + 24 * hour);
	assert_int_equal(outbox_schedule_retry(31, start, 24, start + 24 * hour, 10000, 1.0, &next), DELIVERY_DEAD);
	assert_int_equal(outbox_schedule_retry(31, start, 24, start + 25 * hour, 10000, 1.0, &next), DELIVERY_DEAD);
	assert_int_equal(outbox_schedule_retry(1, start, 0, start, 10000, 1.0, &next), DELIVERY_DEAD);
	/* Fractions of an hour count. */
	assert_int_equal(outbox_schedule_retry(1, start, 0.5, start + hour / 2 - 1, 10000, 0.0, &next),
	                 DELIVERY_FAILED);
	assert_int_equal(next, start + hour / 2);
}

/* ---- The document and enqueue ------------------------------------------------------------------- */

static form shop_form = { .id = "shop", .thank_you = "Thanks" };

/* A job as the writer holds it while plugins run. */
static writer_job *make_job(void)
{
	writer_job *job = writer_job_new();
	writer_job_prepare(job);
	job->form = &shop_form;
	job->answers = json_pack("{s:i, s:s}", "nps", 3, "email", "ann@example.com");
	job->meta = json_pack("{s:s}", "page", "/cart");
	job->score = json_pack("{s:i, s:s}", "nps", 3, "category", "detractor");
	json_array_append_new(job->tags, json_string("detractor"));
	job->created_ms = 1764000000000;
	snprintf(job->id, sizeof job->id, "r_test1");
	return job;
}

/* The document has the four reserved keys first (the response in the admin listing's shape) and
 * then the extra members; an extra setting a reserved key is refused. */
static void test_document(void **state)
{
	(void)state;
	writer_job *job = make_job();
	json_t *extra = json_pack("{s:s, s:[i]}", "priority", "high", "rules", 0);
	char *err = NULL;
	json_t *doc = outbox_document(job, "d_abc", "complaint", extra, &err);
	assert_non_null(doc);
	char *text = json_dumps(doc, JSON_COMPACT);
	assert_string_equal(text,
		"{\"type\":\"complaint\",\"id\":\"d_abc\",\"form\":\"shop\",\"response\":{\"id\":\"r_test1\","
		"\"form\":\"shop\",\"created_at\":\"2025-11-24T16:00:00.000Z\",\"answers\":{\"nps\":3,"
		"\"email\":\"ann@example.com\"},\"meta\":{\"page\":\"/cart\"},\"tags\":[\"detractor\"],"
		"\"score\":{\"nps\":3,\"category\":\"detractor\"}},\"priority\":\"high\",\"rules\":[0]}");
	free(text);
	json_decref(doc);
	json_decref(extra);
	static const char *const reserved[] = { "type", "id", "form", "response" };
	for (size_t i = 0; i < 4; i++) {
		extra = json_pack("{s:s}", reserved[i], "x");
		err = NULL;
		assert_null(outbox_document(job, "d_abc", "complaint", extra, &err));
		assert_non_null(strstr(err, reserved[i]));
		free(err);
		json_decref(extra);
	}
	/* No extra at all. */
	doc = outbox_document(job, "d_abc", "complaint", NULL, &err);
	assert_int_equal(json_object_size(doc), 4);
	json_decref(doc);
	writer_job_free(job);
}

/* Enqueue writes a pending row due now whose body is the document; unknown destinations and extras
 * that are not objects are refused; a rolled-back transaction leaves nothing. */
static void test_enqueue(void **state)
{
	fixture *fx = *state;
	earshot_config *cfg = make_config(fx, "  support:\n    type: webhook\n    url: http://127.0.0.1:9/x\n");
	writer_job *job = make_job();
	char *err = NULL;
	assert_int_equal(store_begin(fx->st, &err), 0);
	int64_t before = now_ms();
	assert_int_equal(outbox_plugin_enqueue(cfg, fx->st, job, "complaint-router", "support", "complaint",
	                                       "{\"priority\":\"high\"}", &err), 0);
	assert_int_equal(outbox_plugin_enqueue(cfg, fx->st, job, "complaint-router", "nowhere", "complaint",
	                                       NULL, &err), -1);
	assert_non_null(strstr(err, "unknown destination \"nowhere\""));
	assert_non_null(strstr(err, "test.yaml"));
	free(err);
	err = NULL;
	assert_int_equal(outbox_plugin_enqueue(cfg, fx->st, job, "p", "support", "complaint", "[1]", &err), -1);
	assert_non_null(strstr(err, "JSON object"));
	free(err);
	err = NULL;
	assert_int_equal(outbox_plugin_enqueue(cfg, fx->st, job, "p", "support", "complaint", "{\"id\":1}", &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(outbox_plugin_enqueue(cfg, fx->st, job, "p", "support", "", NULL, &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(outbox_plugin_enqueue(NULL, fx->st, job, "p", "support", "complaint", NULL, &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(store_commit(fx->st, &err), 0);

	delivery_record *rows = NULL;
	size_t n = 0;
	bool more = false;
	assert_int_equal(store_outbox_list(fx->st, true, DELIVERY_PENDING, 0, 10, &rows, &n, &more, &err), 0);
	assert_int_equal(n, 1);
	delivery_record *d = &rows[0];
	assert_int_equal(strncmp(d->id, "d_", 2), 0);
	assert_int_equal(strlen(d->id), 28);
	assert_string_equal(d->destination, "support");
	assert_string_equal(d->type, "complaint");
	assert_string_equal(d->plugin, "complaint-router");
	assert_string_equal(d->response_id, "r_test1");
	assert_int_equal(d->state, DELIVERY_PENDING);
	assert_int_equal(d->attempts, 0);
	assert_true(d->created_ms >= before && d->created_ms <= now_ms());
	assert_int_equal(d->next_attempt_ms, d->created_ms);
	assert_int_equal(d->retry_from_ms, d->created_ms);
	json_t *doc = json_loads(d->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, "id")), d->id);
	assert_string_equal(json_string_value(json_object_get(doc, "priority")), "high");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "response"), "id")), "r_test1");
	json_decref(doc);
	delivery_record_clear(d);
	free(rows);

	/* Rolled back with its answer: nothing stays. */
	assert_int_equal(store_begin(fx->st, &err), 0);
	assert_int_equal(outbox_plugin_enqueue(cfg, fx->st, job, "p", "support", "complaint", NULL, &err), 0);
	store_rollback(fx->st);
	int64_t count = 0;
	assert_int_equal(store_outbox_count(fx->st, DELIVERY_PENDING, &count, &err), 0);
	assert_int_equal(count, 1);
	writer_job_free(job);
	config_free(cfg);
}

/* ---- Queries ------------------------------------------------------------------------------------ */

/* Due rows come oldest-due first, future rows wait, and next_due reports the earliest. */
static void test_due_and_next(void **state)
{
	fixture *fx = *state;
	char *err = NULL;
	int64_t when = 0;
	assert_int_equal(store_outbox_next_due(fx->st, &when, &err), 0);
	insert_row(fx->st, "d_late", "support", 3000, NULL);
	insert_row(fx->st, "d_early", "support", 2000, NULL);
	insert_row(fx->st, "d_future", "support", 9000, NULL);
	delivery_record *rows = NULL;
	size_t n = 0;
	assert_int_equal(store_outbox_due(fx->st, 5000, 10, &rows, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].id, "d_early");
	assert_string_equal(rows[1].id, "d_late");
	for (size_t i = 0; i < n; i++)
		delivery_record_clear(&rows[i]);
	free(rows);
	assert_int_equal(store_outbox_due(fx->st, 5000, 1, &rows, &n, &err), 0);
	assert_int_equal(n, 1);
	delivery_record_clear(&rows[0]);
	free(rows);
	assert_int_equal(store_outbox_next_due(fx->st, &when, &err), 1);
	assert_int_equal(when, 2000);

	/* Delivered and dead rows are never due. */
	assert_int_equal(store_outbox_mark_delivered(fx->st, "d_early", 1, 5000, &err), 0);
	assert_int_equal(store_outbox_mark_failed(fx->st, "d_late", 4, DELIVERY_DEAD, 5000, "HTTP 500", 5000, &err), 0);
	assert_int_equal(store_outbox_next_due(fx->st, &when, &err), 1);
	assert_int_equal(when, 9000);
	assert_int_equal(store_outbox_due(fx->st, 100000, 10, &rows, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].id, "d_future");
	delivery_record_clear(&rows[0]);
	free(rows);
}

/* Marks record attempts, errors and times; a delivered or dead row is not changed by a late mark. */
static void test_marks(void **state)
{
	fixture *fx = *state;
	char *err = NULL;
	insert_row(fx->st, "d_1", "support", 1000, "r_1");
	assert_int_equal(store_outbox_mark_failed(fx->st, "d_1", 1, DELIVERY_FAILED, 7000, "HTTP 503", 2000, &err), 0);
	delivery_record d;
	get_row(fx->st, "d_1", &d);
	assert_int_equal(d.state, DELIVERY_FAILED);
	assert_int_equal(d.attempts, 1);
	assert_int_equal(d.next_attempt_ms, 7000);
	assert_int_equal(d.last_attempt_ms, 2000);
	assert_string_equal(d.last_error, "HTTP 503");
	assert_int_equal(d.delivered_ms, 0);
	delivery_record_clear(&d);
	assert_int_equal(store_outbox_mark_delivered(fx->st, "d_1", 2, 8000, &err), 0);
	get_row(fx->st, "d_1", &d);
	assert_int_equal(d.state, DELIVERY_DELIVERED);
	assert_int_equal(d.attempts, 2);
	assert_int_equal(d.delivered_ms, 8000);
	delivery_record_clear(&d);
	/* A late failure report cannot undo a delivery. */
	assert_int_equal(store_outbox_mark_failed(fx->st, "d_1", 3, DELIVERY_DEAD, 9000, "late", 9000, &err), 0);
	get_row(fx->st, "d_1", &d);
	assert_int_equal(d.state, DELIVERY_DELIVERED);
	assert_int_equal(d.attempts, 2);
	delivery_record_clear(&d);
	/* Only failed or dead can be recorded as a failure. */
	assert_int_equal(store_outbox_mark_failed(fx->st, "d_1", 3, DELIVERY_PENDING, 0, "x", 0, &err), -1);
	free(err);
	/* An unknown id is not an error (the row may have been erased meanwhile). */
	err = NULL;
	assert_int_equal(store_outbox_mark_delivered(fx->st, "d_gone", 1, 1, &err), 0);
	assert_int_equal(store_outbox_get(fx->st, "d_gone", &d, &err), 0);
}

/* Listing pages through one state or all of them with a seq cursor. */
static void test_list(void **state)
{
	fixture *fx = *state;
	char *err = NULL;
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "d_%d", i);
		insert_row(fx->st, id, "support", 1000, NULL);
	}
	assert_int_equal(store_outbox_mark_failed(fx->st, "d_1", 9, DELIVERY_DEAD, 0, "HTTP 410", 5, &err), 0);
	assert_int_equal(store_outbox_mark_failed(fx->st, "d_3", 9, DELIVERY_DEAD, 0, "HTTP 410", 5, &err), 0);
	delivery_record *rows = NULL;
	size_t n = 0;
	bool more = false;
	assert_int_equal(store_outbox_list(fx->st, false, DELIVERY_DEAD, 0, 10, &rows, &n, &more, &err), 0);
	assert_int_equal(n, 2);
	assert_false(more);
	assert_string_equal(rows[0].id, "d_1");
	assert_string_equal(rows[1].id, "d_3");
	for (size_t i = 0; i < n; i++)
		delivery_record_clear(&rows[i]);
	free(rows);
	assert_int_equal(store_outbox_list(fx->st, true, DELIVERY_PENDING, 0, 2, &rows, &n, &more, &err), 0);
	assert_int_equal(n, 2);
	assert_true(more);
	int64_t cursor = rows[1].seq;
	for (size_t i = 0; i < n; i++)
		delivery_record_clear(&rows[i]);
	free(rows);
	assert_int_equal(store_outbox_list(fx->st, true, DELIVERY_PENDING, cursor, 10, &rows, &n, &more, &err), 0);
	assert_int_equal(n, 3);
	assert_false(more);
	assert_string_equal(rows[0].id, "d_2");
	for (size_t i = 0; i < n; i++)
		delivery_record_clear(&rows[i]);
	free(rows);
	assert_int_equal(store_outbox_list(fx->st, true, DELIVERY_PENDING, 0, -1, &rows, &n, &more, &err), -1);
	free(err);
	int64_t count = 0;
	err = NULL;
	assert_int_equal(store_outbox_count(fx->st, DELIVERY_DEAD, &count, &err), 0);
	assert_int_equal(count, 2);
}

/* Replay: unknown → 0, delivered → 2 (unchanged), dead → pending now with attempts reset and a new
 * window. */
static void test_retry(void **state)
{
	fixture *fx = *state;
	char *err = NULL;
	delivery_record d;
	assert_int_equal(store_outbox_retry(fx->st, "d_none", 5000, &d, &err), 0);
	insert_row(fx->st, "d_dead", "support", 1000, NULL);
	insert_row(fx->st, "d_done", "support", 1000, NULL);
	assert_int_equal(store_outbox_mark_failed(fx->st, "d_dead", 12, DELIVERY_DEAD, 0, "HTTP 500", 4000, &err), 0);
	assert_int_equal(store_outbox_mark_delivered(fx->st, "d_done", 1, 4000, &err), 0);
	assert_int_equal(store_outbox_retry(fx->st, "d_done", 5000, &d, &err), 2);
	assert_int_equal(d.state, DELIVERY_DELIVERED);
	delivery_record_clear(&d);
	assert_int_equal(store_outbox_retry(fx->st, "d_dead", 5000, &d, &err), 1);
	assert_int_equal(d.state, DELIVERY_PENDING);
	assert_int_equal(d.attempts, 0);
	assert_int_equal(d.next_attempt_ms, 5000);
	assert_int_equal(d.retry_from_ms, 5000);
	assert_int_equal(d.created_ms, 1000);
	assert_string_equal(d.last_error, "HTTP 500");
	delivery_record_clear(&d);
	/* The replay was committed: another connection sees it. */
	store *other = NULL;
	assert_int_equal(store_open(fx->db, DURABILITY_NORMAL, true, &other, &err), 0);
	get_row(other, "d_dead", &d);
	assert_int_equal(d.state, DELIVERY_PENDING);
	delivery_record_clear(&d);
	store_close(other);
	/* Inside a caller's transaction, the caller decides. */
	assert_int_equal(store_outbox_mark_failed(fx->st, "d_dead", 1, DELIVERY_DEAD, 0, "x", 6000, &err), 0);
	assert_int_equal(store_begin(fx->st, &err), 0);
	assert_int_equal(store_outbox_retry(fx->st, "d_dead", 7000, &d, &err), 1);
	delivery_record_clear(&d);
	store_rollback(fx->st);
	get_row(fx->st, "d_dead", &d);
	assert_int_equal(d.state, DELIVERY_DEAD);
	delivery_record_clear(&d);
}

/* Erasure by response and the purge of old delivered rows. */
static void test_delete_and_purge(void **state)
{
	fixture *fx = *state;
	char *err = NULL;
	insert_row(fx->st, "d_a", "support", 1000, "r_1");
	insert_row(fx->st, "d_b", "log", 1000, "r_1");
	insert_row(fx->st, "d_c", "support", 1000, "r_2");
	insert_row(fx->st, "d_d", "support", 1000, NULL);
	int64_t deleted = -1;
	assert_int_equal(store_outbox_delete_for_response(fx->st, "r_1", &deleted, &err), 0);
	assert_int_equal(deleted, 2);
	assert_int_equal(store_outbox_delete_for_response(fx->st, "r_9", &deleted, &err), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(store_outbox_mark_delivered(fx->st, "d_c", 1, 5000, &err), 0);
	assert_int_equal(store_outbox_mark_delivered(fx->st, "d_d", 1, 9000, &err), 0);
	assert_int_equal(store_outbox_purge_delivered(fx->st, 6000, &deleted, &err), 0);
	assert_int_equal(deleted, 1);
	delivery_record d;
	assert_int_equal(store_outbox_get(fx->st, "d_c", &d, &err), 0);
	assert_int_equal(store_outbox_get(fx->st, "d_d", &d, &err), 1);
	delivery_record_clear(&d);
}

/* The admin JSON shape, with nulls where nothing applies. */
static void test_record_json(void **state)
{
	(void)state;
	delivery_record d;
	make_row(&d, "d_j", "support", 2000, NULL);
	json_t *o = delivery_record_to_json(&d);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "pending");
	assert_string_equal(json_string_value(json_object_get(o, "next_attempt_at")), "1970-01-01T00:00:02.000Z");
	assert_true(json_is_null(json_object_get(o, "last_error")));
	assert_true(json_is_null(json_object_get(o, "delivered_at")));
	assert_true(json_is_null(json_object_get(o, "response_id")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "document"), "id")), "d_j");
	json_decref(o);
	d.state = DELIVERY_DEAD;
	o = delivery_record_to_json(&d);
	assert_true(json_is_null(json_object_get(o, "next_attempt_at")));
	json_decref(o);
	delivery_record_clear(&d);
	delivery_state s;
	assert_int_equal(delivery_state_parse("delivered", &s), 0);
	assert_int_equal(s, DELIVERY_DELIVERED);
	assert_int_equal(delivery_state_parse("Dead", &s), -1);
	assert_string_equal(delivery_state_name((delivery_state)42), "pending");
}

/* ---- Files -------------------------------------------------------------------------------------- */

/* Reads a whole file into a malloc'd string. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = xcalloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Lines are appended (file created on first use); a directory or a missing parent fails. */
static void test_append_file(void **state)
{
	fixture *fx = *state;
	char *err = NULL;
	assert_int_equal(outbox_append_file(fx->file, "{\"a\":1}", 7, &err), 0);
	assert_int_equal(outbox_append_file(fx->file, "{\"b\":2}", 7, &err), 0);
	char *text = slurp(fx->file);
	assert_string_equal(text, "{\"a\":1}\n{\"b\":2}\n");
	free(text);
	struct stat sb;
	assert_int_equal(stat(fx->file, &sb), 0);
	assert_int_equal(sb.st_mode & 0777 & ~0640, 0);
	assert_int_equal(outbox_append_file(fx->dir, "{}", 2, &err), -1);
	assert_non_null(strstr(err, fx->dir));
	free(err);
	err = NULL;
	char missing[256];
	snprintf(missing, sizeof missing, "%s/no/such/dir.ndjson", fx->dir);
	assert_int_equal(outbox_append_file(missing, "{}", 2, &err), -1);
	assert_non_null(strstr(err, "No such file"));
	free(err);
}

/* A write cut short (here by the file size limit) leaves no half line behind. */
static void test_append_file_partial(void **state)
{
	fixture *fx = *state;
	char *err = NULL;
	assert_int_equal(outbox_append_file(fx->file, "0123456789", 10, &err), 0);
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 20;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	char big[64];
	memset(big, 'x', sizeof big);
	int rc = outbox_append_file(fx->file, big, sizeof big, &err);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, prev);
	assert_int_equal(rc, -1);
	assert_non_null(err);
	free(err);
	char *text = slurp(fx->file);
	assert_string_equal(text, "0123456789\n");
	free(text);
}

/* ---- A loopback HTTP receiver ------------------------------------------------------------------- */

#define MAX_SEEN 16

typedef struct receiver {
	int fd;
	int port;
	pthread_t thread;
	atomic_bool stop;
	bool hang;               /* accept and never answer */
	int fail_first;          /* answer 503 to this many requests, then 200 */
	pthread_mutex_t mu;
	int n;                   /* requests seen */
	char ids[MAX_SEEN][64], stamps[MAX_SEEN][32], sigs[MAX_SEEN][128];
	char bodies[MAX_SEEN][2048];
} receiver;

/* The value of header name in the raw head (case-insensitive), copied into out. */
static void header_value(const char *head, const char *name, char *out, size_t size)
{
	out[0] = '\0';
	size_t nlen = strlen(name);
	for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
		const char *l = line + 2;
		if (strncasecmp(l, name, nlen) == 0 && l[nlen] == ':') {
			const char *v = l + nlen + 1;
			while (*v == ' ')
				v++;
			const char *end = strstr(v, "\r\n");
			size_t len = end ? (size_t)(end - v) : strlen(v);
			snprintf(out, size, "%.*s", (int)(len < size ? len : size - 1), v);
			return;
		}
	}
}

/* Reads one request from c and records it. Returns false when the connection ended early. */
static bool receive_one(receiver *rv, int c)
{
	char buf[8192];
	size_t len = 0;
	char *end = NULL;
	buf[0] = '\0';
	while (!(end = strstr(buf, "\r\n\r\n"))) {
		ssize_t n = recv(c, buf + len, sizeof buf - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
	}
	char cl[32];
	*end = '\0';
	header_value(buf, "Content-Length", cl, sizeof cl);
	size_t want = (size_t)atoi(cl), have = len - (size_t)(end + 4 - buf);
	while (have < want && len < sizeof buf - 1) {
		ssize_t n = recv(c, buf + len, sizeof buf - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
		have += (size_t)n;
	}
	buf[len] = '\0';
	pthread_mutex_lock(&rv->mu);
	if (rv->n < MAX_SEEN) {
		header_value(buf, "webhook-id", rv->ids[rv->n], sizeof rv->ids[0]);
		header_value(buf, "webhook-timestamp", rv->stamps[rv->n], sizeof rv->stamps[0]);
		header_value(buf, "webhook-signature", rv->sigs[rv->n], sizeof rv->sigs[0]);
		snprintf(rv->bodies[rv->n], sizeof rv->bodies[0], "%.*s", (int)want, end + 4);
	}
	rv->n++;
	pthread_mutex_unlock(&rv->mu);
	return true;
}

/* Accepts connections until stopped; answers each request per the receiver's script. */
static void *receiver_main(void *arg)
{
	receiver *rv = arg;
	while (!atomic_load(&rv->stop)) {
		struct pollfd p = { .fd = rv->fd, .events = POLLIN };
		if (poll(&p, 1, 20) <= 0)
			continue;
		int c = accept(rv->fd, NULL, NULL);
		if (c < 0)
			continue;
		if (rv->hang) {
			while (!atomic_load(&rv->stop))
				usleep(10000);
			close(c);
			continue;
		}
		if (receive_one(rv, c)) {
			pthread_mutex_lock(&rv->mu);
			bool fail = rv->n <= rv->fail_first;
			pthread_mutex_unlock(&rv->mu);
			const char *answer = fail ? "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
			                          : "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
			ssize_t w = send(c, answer, strlen(answer), MSG_NOSIGNAL);
			(void)w;
		}
		close(c);
	}
	return NULL;
}

/* Starts a receiver on a free loopback port. */
static receiver *receiver_start(int fail_first, bool hang)
{
	receiver *rv = xcalloc(1, sizeof *rv);
	rv->fail_first = fail_first;
	rv->hang = hang;
	pthread_mutex_init(&rv->mu, NULL);
	rv->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	assert_int_equal(bind(rv->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(rv->fd, 16), 0);
	assert_int_equal(getsockname(rv->fd, (struct sockaddr *)&a, &alen), 0);
	rv->port = ntohs(a.sin_port);
	atomic_init(&rv->stop, false);
	pthread_create(&rv->thread, NULL, receiver_main, rv);
	return rv;
}

static void receiver_stop(receiver *rv)
{
	atomic_store(&rv->stop, true);
	pthread_join(rv->thread, NULL);
	close(rv->fd);
	pthread_mutex_destroy(&rv->mu);
	free(rv);
}

/* ---- The worker --------------------------------------------------------------------------------- */

/* Log lines the worker wrote (test logger). */
typedef struct log_capture {
	pthread_mutex_t mu;
	char text[16384];
} log_capture;

static void capture_log(void *arg, const char *line)
{
	log_capture *lc = arg;
	pthread_mutex_lock(&lc->mu);
	strncat(lc->text, line, sizeof lc->text - strlen(lc->text) - 2);
	strcat(lc->text, "\n");
	pthread_mutex_unlock(&lc->mu);
}

/* True when the log holds needle. */
static bool log_has(log_capture *lc, const char *needle)
{
	pthread_mutex_lock(&lc->mu);
	bool found = strstr(lc->text, needle) != NULL;
	pthread_mutex_unlock(&lc->mu);
	return found;
}

/* Waits up to ms for row id to reach state; returns whether it did. */
static bool wait_state(const fixture *fx, const char *id, delivery_state want, int ms)
{
	store *st = NULL;
	char *err = NULL;
	assert_int_equal(store_open(fx->db, DURABILITY_NORMAL, true, &st, &err), 0);
	bool reached = false;
	for (int waited = 0; waited <= ms && !reached; waited += 10) {
		delivery_record d;
		if (store_outbox_get(st, id, &d, &err) == 1) {
			reached = d.state == want;
			delivery_record_clear(&d);
		}
		if (!reached)
			usleep(10000);
	}
	store_close(st);
	return reached;
}

/* A worker with captured logs and a 20 ms backoff base. */
static outbox *start_worker(const earshot_config *cfg, log_capture *lc)
{
	outbox_options opt = { .log = capture_log, .log_arg = lc, .backoff_base_ms = 20, .idle_poll_ms = 200,
	                       .stop_grace_ms = 200 };
	char *err = NULL;
	outbox *ob = outbox_start(cfg, &opt, &err);
	if (!ob)
		fail_msg("outbox_start: %s", err);
	return ob;
}

/* A row queued before the worker starts (as after a restart) and one queued while it runs are both
 * appended to the file destination, promptly. */
static void test_worker_file(void **state)
{
	fixture *fx = *state;
	char *block = xasprintf("  log:\n    type: file\n    path: %s\n", fx->file);
	earshot_config *cfg = make_config(fx, block);
	free(block);
	log_capture lc = { .mu = PTHREAD_MUTEX_INITIALIZER };
	insert_fresh_row(fx->st, "d_before", "log");
	outbox *ob = start_worker(cfg, &lc);
	assert_true(wait_state(fx, "d_before", DELIVERY_DELIVERED, 3000));
	int64_t t0 = monotonic_ms();
	insert_fresh_row(fx->st, "d_after", "log");
	outbox_notify();
	assert_true(wait_state(fx, "d_after", DELIVERY_DELIVERED, 3000));
	assert_true(monotonic_ms() - t0 < 1000);
	uint64_t delivered = 0, failed = 9;
	outbox_stats(ob, &delivered, &failed);
	assert_int_equal(delivered, 2);
	assert_int_equal(failed, 0);
	outbox_stop(ob);
	char *text = slurp(fx->file);
	assert_string_equal(text, "{\"type\":\"complaint\",\"id\":\"d_before\"}\n{\"type\":\"complaint\",\"id\":\"d_after\"}\n");
	free(text);
	assert_true(log_has(&lc, "delivery d_after (complaint) to log delivered on attempt 1"));
	config_free(cfg);
}

/* A receiver failing the first two attempts: delivered on the third, the same webhook-id every
 * time, each signature valid for its own timestamp, failures logged with status and next attempt. */
static void test_worker_webhook_retries(void **state)
{
	fixture *fx = *state;
	receiver *rv = receiver_start(2, false);
	char *block = xasprintf("  support:\n    type: webhook\n    url: http://127.0.0.1:%d/hook\n"
	                        "    secret: " SECRET "\n    timeout_seconds: 2\n", rv->port);
	earshot_config *cfg = make_config(fx, block);
	free(block);
	log_capture lc = { .mu = PTHREAD_MUTEX_INITIALIZER };
	insert_fresh_row(fx->st, "d_hook", "support");
	outbox *ob = start_worker(cfg, &lc);
	assert_true(wait_state(fx, "d_hook", DELIVERY_DELIVERED, 5000));
	outbox_stop(ob);
	delivery_record d;
	get_row(fx->st, "d_hook", &d);
	assert_int_equal(d.attempts, 3);
	assert_string_equal(d.last_error, "HTTP 503");
	delivery_record_clear(&d);
	pthread_mutex_lock(&rv->mu);
	assert_int_equal(rv->n, 3);
	unsigned char *key = NULL;
	size_t key_len = 0;
	char *err = NULL;
	assert_int_equal(webhook_secret_key(SECRET, &key, &key_len, &err), 0);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(rv->ids[i], "d_hook");
		assert_string_equal(rv->bodies[i], "{\"type\":\"complaint\",\"id\":\"d_hook\"}");
		long long stamp = atoll(rv->stamps[i]);
		assert_true(llabs(stamp - now_ms() / 1000) < 30);
		char *want = webhook_signature(key, key_len, rv->ids[i], stamp, rv->bodies[i], strlen(rv->bodies[i]));
		assert_string_equal(rv->sigs[i], want);
		free(want);
	}
	free(key);
	pthread_mutex_unlock(&rv->mu);
	assert_true(log_has(&lc, "delivery d_hook to support failed (attempt 1): HTTP 503; next attempt at "));
	assert_true(log_has(&lc, "failed (attempt 2): HTTP 503"));
	assert_true(log_has(&lc, "delivered on attempt 3"));
	receiver_stop(rv);
	config_free(cfg);
}

/* Nothing listening and no retry window: dead after the first attempt, with the connection error. */
static void test_worker_dead_letter(void **state)
{
	fixture *fx = *state;
	receiver *rv = receiver_start(0, false);
	int port = rv->port;
	receiver_stop(rv); /* the port is now closed */
	char *block = xasprintf("  support:\n    type: webhook\n    url: http://127.0.0.1:%d/hook\n"
	                        "    retry_for_hours: 0\n", port);
	earshot_config *cfg = make_config(fx, block);
	free(block);
	log_capture lc = { .mu = PTHREAD_MUTEX_INITIALIZER };
	insert_fresh_row(fx->st, "d_lost", "support");
	outbox *ob = start_worker(cfg, &lc);
	assert_true(wait_state(fx, "d_lost", DELIVERY_DEAD, 3000));
	outbox_stop(ob);
	delivery_record d;
	get_row(fx->st, "d_lost", &d);
	assert_int_equal(d.attempts, 1);
	assert_non_null(d.last_error);
	assert_null(strstr(d.last_error, "HTTP"));
	delivery_record_clear(&d);
	assert_true(log_has(&lc, "retry_for_hours is over: dead"));
	config_free(cfg);
}

/* A row for a destination the worker does not know fails (and is retried) until a reload adds it. */
static void test_worker_set_destinations(void **state)
{
	fixture *fx = *state;
	earshot_config *cfg = make_config(fx, "  other:\n    type: webhook\n    url: http://127.0.0.1:9/x\n");
	char *block = xasprintf("  log:\n    type: file\n    path: %s\n", fx->file);
	earshot_config *reloaded = make_config(fx, block);
	free(block);
	log_capture lc = { .mu = PTHREAD_MUTEX_INITIALIZER };
	insert_fresh_row(fx->st, "d_new", "log");
	outbox *ob = start_worker(cfg, &lc);
	assert_true(wait_state(fx, "d_new", DELIVERY_FAILED, 3000));
	assert_true(log_has(&lc, "destination \"log\" is not configured"));
	outbox_set_destinations(ob, reloaded);
	config_free(reloaded);
	outbox_notify();
	assert_true(wait_state(fx, "d_new", DELIVERY_DELIVERED, 3000));
	outbox_stop(ob);
	config_free(cfg);
}

/* A receiver that never answers: stop returns within the grace period plus a little, and the row
 * stays pending with no attempt counted. */
static void test_worker_stop_abandons(void **state)
{
	fixture *fx = *state;
	receiver *rv = receiver_start(0, true);
	char *block = xasprintf("  support:\n    type: webhook\n    url: http://127.0.0.1:%d/hook\n"
	                        "    timeout_seconds: 60\n", rv->port);
	earshot_config *cfg = make_config(fx, block);
	free(block);
	log_capture lc = { .mu = PTHREAD_MUTEX_INITIALIZER };
	insert_fresh_row(fx->st, "d_hang", "support");
	outbox *ob = start_worker(cfg, &lc);
	usleep(300000); /* the request is in flight */
	int64_t t0 = monotonic_ms();
	outbox_stop(ob);
	int64_t took = monotonic_ms() - t0;
	assert_true(took < 2000);
	delivery_record d;
	get_row(fx->st, "d_hang", &d);
	assert_int_equal(d.state, DELIVERY_PENDING);
	assert_int_equal(d.attempts, 0);
	delivery_record_clear(&d);
	assert_true(log_has(&lc, "abandoned at shutdown"));
	receiver_stop(rv);
	config_free(cfg);
}

/* An idle worker stops at once. */
static void test_worker_idle_stop(void **state)
{
	fixture *fx = *state;
	earshot_config *cfg = make_config(fx, "  other:\n    type: webhook\n    url: http://127.0.0.1:9/x\n");
	log_capture lc = { .mu = PTHREAD_MUTEX_INITIALIZER };
	outbox *ob = start_worker(cfg, &lc);
	usleep(50000);
	int64_t t0 = monotonic_ms();
	outbox_stop(ob);
	assert_true(monotonic_ms() - t0 < 500);
	outbox_stop(NULL);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_backoff_env),
		cmocka_unit_test(test_schedule_retry),
		cmocka_unit_test(test_document),
		cmocka_unit_test_setup_teardown(test_enqueue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_and_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_purge, setup, teardown),
		cmocka_unit_test(test_record_json),
		cmocka_unit_test_setup_teardown(test_append_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_file_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_webhook_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_dead_letter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_set_destinations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_stop_abandons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_idle_stop, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
