/* Unit tests for store: schema and migrations, transactions and savepoints, responses (insert, list,
 * cursor), idempotency keys, plugin key-value space, purge, checkpoints and read-only handles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "storage.h"
#include "store_internal.h"
#include "test_support.h"
#include "util.h"

typedef test_db_fixture fixture;

static int setup(void **state)
{
	return test_db_setup(state, "store", "test.db");
}

#define teardown test_db_teardown

/* Opens path read-write with FULL durability; fails the test on error. */
static store *open_rw(const char *path)
{
	store *st = NULL;
	char *err = NULL;
	int rc = store_open(path, DURABILITY_FULL, false, &st, &err);
	if (rc != 0)
		fail_msg("store_open(%s): %s", path, err);
	assert_non_null(st);
	return st;
}

/* Runs SQL on a separate raw SQLite connection (to set up states the store API cannot make). */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("raw sql %s: %s", sql, msg);
	sqlite3_close(db);
}

/* Makes the database at path what this build's first `version` migrations leave, as an older
 * release would have (a newer migration must then upgrade it). */
static void raw_at_version(const char *path, size_t version)
{
	assert_true(store_n_migrations > version);
	for (size_t i = 0; i < version; i++)
		raw_exec(path, store_migrations[i].sql);
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %zu", version);
	raw_exec(path, sql);
}

/* Returns the first column of the first row of sql as a malloc'd string ("" when no row). */
static char *raw_query(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	char *out = xstrdup("");
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
		free(out);
		out = xstrdup((const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

/* Fills r with a response of form created at ms, id "r_<form>_<n>", answers {"n":n,"text":...}. */
static void make_record(response_record *r, const char *form, int64_t ms, int n)
{
	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "r_%s_%d", form, n);
	snprintf(r->form, sizeof r->form, "%s", form);
	r->created_ms = ms;
	r->answers = json_pack("{s:i, s:s}", "n", n, "text", "Žluťoučký kůň \"quoted\"");
	r->meta = json_pack("{s:s}", "page", "https://shop.example.com/cart");
	r->tags = json_pack("[s]", "promoter");
	r->score = n % 2 ? json_pack("{s:i}", "nps", n % 11) : NULL;
}

/* Inserts a made-up response; fails the test on error. Returns its seq. */
static int64_t insert_one(store *st, const char *form, int64_t ms, int n)
{
	response_record r;
	make_record(&r, form, ms, n);
	char *err = NULL;
	if (store_response_insert(st, &r, "hash:abc", &err) != 0)
		fail_msg("insert: %s", err);
	int64_t seq = r.seq;
	response_record_clear(&r);
	return seq;
}

/* The number of rows of table (a name from the test's own text). */
static int64_t count_rows(store *st, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(store_sqlite(st), sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static int64_t count_of(store *st, const char *form)
{
	int64_t n = -1;
	char *err = NULL;
	if (store_response_count(st, form, &n, &err) != 0)
		fail_msg("count: %s", err);
	return n;
}

static void test_memory_open_and_ping(void **state)
{
	(void)state;
	store *st = open_rw(":memory:");
	char *err = NULL;
	/* Migrations only ever grow: 1 responses, 2 outbox, 3 contacts. */
	assert_true(store_schema_version() >= 3);
	assert_int_equal(store_ping(st, &err), 0);
	assert_int_equal(count_of(st, "any"), 0);
	assert_int_equal(store_checkpoint(st, &err), 0);
	store_close(st);
	store_close(NULL);
}

static void test_migrate_empty_file(void **state)
{
	fixture *fx = *state;
	store *st = open_rw(fx->path);
	store_close(st);
	char *v = raw_query(fx->path, "PRAGMA user_version");
	assert_int_equal(atoi(v), store_schema_version());
	free(v);
	char *mode = raw_query(fx->path, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	const char *tables[] = { "responses", "idempotency", "plugin_kv", "meta_kv" };
	for (size_t i = 0; i < 4; i++) {
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='%s'",
		         tables[i]);
		char *n = raw_query(fx->path, sql);
		assert_string_equal(n, "1");
		free(n);
	}
	char *idx = raw_query(fx->path, "SELECT group_concat(name) FROM (SELECT name FROM sqlite_schema "
	                                "WHERE type='index' AND tbl_name='responses' AND sql IS NOT NULL "
	                                "ORDER BY name)");
	assert_string_equal(idx, "responses_created,responses_form_created,responses_form_seq");
	free(idx);
	/* Opening again migrates nothing and keeps the version. */
	st = open_rw(fx->path);
	store_close(st);
	v = raw_query(fx->path, "PRAGMA user_version");
	assert_int_equal(atoi(v), store_schema_version());
	free(v);
}

/* A database at version 4 with answers gets its summary tables filled by the writer's first fold, and
 * deleting an answer takes it out of the counts again (the trigger of migration 8). */
static void test_migration_fills_summary_tables(void **state)
{
	fixture *fx = *state;
	raw_at_version(fx->path, 4);
	raw_exec(fx->path, "INSERT INTO responses (id, form, created_ms, answers, meta, tags) VALUES "
	                   "('r_1', 'f', 86400000, '{\"c\":\"x\",\"m\":[\"a\",\"b\"],\"n\":9}', "
	                   "'{\"variant\":\"a\",\"page\":\"https://x.example/p/q?r#s\",\"plan\":\"pro\",\"gone\":null}', "
	                   "'[\"t1\",\"t2\"]'),"
	                   "('r_2', 'f', 86400001, '{\"c\":\"x\",\"n\":3}', '{}', '[]')");
	store *st = open_rw(fx->path);
	char *err = NULL;
	bool more = true;
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_summary_fold(st, 100, &more, &err), 0);
	assert_false(more);
	assert_int_equal(store_commit(st, &err), 0);
	store_close(st);
	char *v = raw_query(fx->path, "SELECT group_concat(coalesce(variant, '-') || '|' || coalesce(path, '-') || '|' || "
	                              "attrs || '|' || replace(tags, char(31), '/') || '|' || vals, ' ') FROM answer_facts");
	assert_string_equal(v, "a|/p/q| variant page plan |/t1/t2/|[[\"c\",\"x\"],[\"m\",null],[\"m\",\"a\",1],[\"m\",\"b\",1],[\"n\",9]] "
	                       "-|-|||[[\"c\",\"x\"],[\"n\",3]]");
	free(v);
	v = raw_query(fx->path, "SELECT group_concat(question || '=' || n, ' ') FROM (SELECT * FROM answer_counts "
	                        "WHERE value = X'' AND part = 0 ORDER BY question, variant)");
	assert_string_equal(v, "c=1 c=1 m=1 n=1 n=1");
	free(v);
	v = raw_query(fx->path, "SELECT sum(n) FROM answer_counts WHERE question = 'c' AND value = 'x' AND day = 1");
	assert_string_equal(v, "2");
	free(v);
	raw_exec(fx->path, "DELETE FROM responses WHERE id = 'r_1'");
	v = raw_query(fx->path, "SELECT count(*) || ' ' || (SELECT count(*) FROM answer_counts) || ' ' || "
	                        "(SELECT sum(n) FROM answer_counts WHERE question = 'c' AND value = 'x') FROM answer_facts");
	assert_string_equal(v, "1 5 1");
	free(v);
}

/* Migration 9 rebuilds the contact tables without foreign keys: a database at version 8 keeps its
 * contacts, keys and links, and the triggers that replace the cascades take a deleted answer's links and
 * a deleted contact's keys and links with them. */
static void test_migration_keeps_contacts(void **state)
{
	fixture *fx = *state;
	raw_at_version(fx->path, 8);
	raw_exec(fx->path, "INSERT INTO responses (id, form, created_ms, answers, meta, tags) VALUES "
	                   "('r_1', 'f', 1, '{}', '{}', '[]'), ('r_2', 'f', 2, '{}', '{}', '[]'), "
	                   "('r_3', 'f', 3, '{}', '{}', '[]');"
	                   "INSERT INTO contacts (created_ms) VALUES (10), (20);"
	                   "INSERT INTO contact_keys (kind, key, contact_id) VALUES ('email', 'a@x.example', 1), "
	                   "('phone', '+420601123456', 1), ('email', 'b@x.example', 2);"
	                   "INSERT INTO response_contacts (response_id, contact_id) VALUES ('r_1', 1), ('r_2', 1), "
	                   "('r_3', 2);");
	store_close(open_rw(fx->path));
	char *v = raw_query(fx->path, "PRAGMA user_version");
	assert_int_equal(atoi(v), store_schema_version());
	free(v);
	v = raw_query(fx->path, "SELECT (SELECT group_concat(id || ':' || created_ms, ' ') FROM contacts) || ' | ' || "
	                        "(SELECT group_concat(k, ' ') FROM (SELECT kind || ':' || key || ':' || contact_id AS k "
	                        "FROM contact_keys ORDER BY 1)) || ' | ' || "
	                        "(SELECT group_concat(l, ' ') FROM (SELECT response_id || ':' || contact_id AS l "
	                        "FROM response_contacts ORDER BY 1))");
	assert_string_equal(v, "1:10 2:20 | email:a@x.example:1 email:b@x.example:2 phone:+420601123456:1 | "
	                       "r_1:1 r_2:1 r_3:2");
	free(v);
	/* No per-row checks left: no foreign keys, no AUTOINCREMENT counter. */
	v = raw_query(fx->path, "SELECT (SELECT count(*) FROM pragma_foreign_key_list('contact_keys')) + "
	                        "(SELECT count(*) FROM pragma_foreign_key_list('response_contacts')) + "
	                        "(SELECT count(*) FROM sqlite_sequence WHERE name LIKE '%contact%') + "
	                        "(SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_next')");
	assert_string_equal(v, "0");
	free(v);
	v = raw_query(fx->path, "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = 'index' "
	                        "AND tbl_name IN ('contact_keys', 'response_contacts') AND sql IS NOT NULL ORDER BY name)");
	assert_string_equal(v, "contact_keys_contact response_contacts_contact");
	free(v);
	/* An answer's links go with it; a contact takes its keys and remaining links. */
	raw_exec(fx->path, "DELETE FROM responses WHERE id = 'r_2'");
	raw_exec(fx->path, "DELETE FROM contacts WHERE id = 2");
	v = raw_query(fx->path, "SELECT (SELECT group_concat(k, ' ') FROM (SELECT kind || ':' || contact_id AS k "
	                        "FROM contact_keys ORDER BY 1)) || ' | ' || "
	                        "(SELECT group_concat(response_id || ':' || contact_id, ' ') FROM response_contacts)");
	assert_string_equal(v, "email:1 phone:1 | r_1:1");
	free(v);
}

static void test_reopen_keeps_data_compact_json(void **state)
{
	fixture *fx = *state;
	store *st = open_rw(fx->path);
	response_record r;
	make_record(&r, "signup", 1700000000123, 1);
	json_object_set_new(r.answers, "list", json_pack("[i,i,s]", 1, 2, "x y"));
	char *err = NULL;
	assert_int_equal(store_response_insert(st, &r, NULL, &err), 0);
	assert_true(r.seq > 0);
	store_close(st);

	char *answers = raw_query(fx->path, "SELECT answers FROM responses");
	assert_string_equal(answers, "{\"n\":1,\"text\":\"Žluťoučký kůň \\\"quoted\\\"\",\"list\":[1,2,\"x y\"]}");
	free(answers);
	char *client = raw_query(fx->path, "SELECT coalesce(client, 'null') FROM responses");
	assert_string_equal(client, "null");
	free(client);

	st = open_rw(fx->path);
	response_record *out = NULL;
	size_t n = 0;
	bool more = true;
	assert_int_equal(store_response_list(st, "signup", STORE_TIME_MIN, STORE_TIME_MAX, 0, 10, &out, &n,
	                                     &more, &err),
	                 0);
	assert_int_equal(n, 1);
	assert_false(more);
	assert_string_equal(out[0].id, r.id);
	assert_string_equal(out[0].form, "signup");
	assert_int_equal(out[0].seq, r.seq);
	assert_int_equal(out[0].created_ms, 1700000000123);
	assert_true(json_equal(out[0].answers, r.answers));
	assert_true(json_equal(out[0].meta, r.meta));
	assert_true(json_equal(out[0].tags, r.tags));
	assert_true(json_equal(out[0].score, r.score));
	response_record_clear(&out[0]);
	free(out);
	response_record_clear(&r);
	store_close(st);
}

static void test_insert_defaults_and_errors(void **state)
{
	(void)state;
	store *st = open_rw(":memory:");
	char *err = NULL;
	/* NULL JSON members are stored as {} / [] and no score. */
	response_record r = { .created_ms = 5 };
	snprintf(r.id, sizeof r.id, "r_bare");
	snprintf(r.form, sizeof r.form, "f");
	assert_int_equal(store_response_insert(st, &r, NULL, &err), 0);
	/* The same id twice is refused, and the message names the operation. */
	assert_int_equal(store_response_insert(st, &r, NULL, &err), -1);
	assert_non_null(err);
	assert_true(strncmp(err, "insert response: ", 17) == 0);
	assert_non_null(strstr(err, "UNIQUE"));
	free(err);
	err = NULL;
	/* An empty id is refused before SQL. */
	response_record blank = { 0 };
	snprintf(blank.form, sizeof blank.form, "f");
	assert_int_equal(store_response_insert(st, &blank, NULL, &err), -1);
	assert_non_null(strstr(err, "insert response"));
	free(err);
	err = NULL;

	response_record *out = NULL;
	size_t n = 0;
	bool more;
	assert_int_equal(store_response_list(st, "f", STORE_TIME_MIN, STORE_TIME_MAX, 0, 5, &out, &n, &more,
	                                     &err),
	                 0);
	assert_int_equal(n, 1);
	assert_true(json_is_object(out[0].answers) && json_object_size(out[0].answers) == 0);
	assert_true(json_is_object(out[0].meta));
	assert_true(json_is_array(out[0].tags) && json_array_size(out[0].tags) == 0);
	assert_null(out[0].score);
	response_record_clear(&out[0]);
	free(out);

	assert_int_equal(store_response_list(st, "f", STORE_TIME_MIN, STORE_TIME_MAX, 0, -1, &out, &n, &more,
	                                     &err),
	                 -1);
	assert_non_null(strstr(err, "limit"));
	free(err);
	store_close(st);
}

/* Lists form with the given window and page size, following `more` to the end; checks pages are
 * in seq order. Returns the number of records seen and writes their n answers into seen. */
static size_t list_all(store *st, const char *form, int64_t since, int64_t until, int limit, int *seen,
                       size_t max, size_t *pages)
{
	int64_t after = 0;
	size_t total = 0;
	*pages = 0;
	for (;;) {
		response_record *out = NULL;
		size_t n = 0;
		bool more = false;
		char *err = NULL;
		if (store_response_list(st, form, since, until, after, limit, &out, &n, &more, &err) != 0)
			fail_msg("list: %s", err);
		(*pages)++;
		assert_true(n <= (size_t)limit);
		for (size_t i = 0; i < n; i++) {
			assert_true(out[i].seq > after);
			assert_string_equal(out[i].form, form);
			after = out[i].seq;
			if (total < max)
				seen[total] = (int)json_integer_value(json_object_get(out[i].answers, "n"));
			total++;
			response_record_clear(&out[i]);
		}
		free(out);
		if (!more)
			break;
		assert_int_equal(n, (size_t)limit);
	}
	return total;
}

static void test_list_paging(void **state)
{
	(void)state;
	store *st = open_rw(":memory:");
	char *err = NULL;
	assert_int_equal(store_begin(st, &err), 0);
	for (int i = 0; i < 25; i++) {
		insert_one(st, "alpha", 1000 + i, i);
		if (i % 5 == 0)
			insert_one(st, "beta", 1000 + i, 100 + i);
	}
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(count_of(st, "alpha"), 25);
	assert_int_equal(count_of(st, "beta"), 5);

	int seen[64];
	size_t pages;
	assert_int_equal(list_all(st, "alpha", STORE_TIME_MIN, STORE_TIME_MAX, 10, seen, 64, &pages), 25);
	assert_int_equal(pages, 3);
	for (int i = 0; i < 25; i++)
		assert_int_equal(seen[i], i);
	/* An exact multiple: the last full page says more, the following page is empty. */
	assert_int_equal(list_all(st, "alpha", STORE_TIME_MIN, STORE_TIME_MAX, 5, seen, 64, &pages), 25);
	assert_int_equal(pages, 5);
	assert_int_equal(list_all(st, "beta", STORE_TIME_MIN, STORE_TIME_MAX, 1000, seen, 64, &pages), 5);
	assert_int_equal(seen[4], 120);
	assert_int_equal(list_all(st, "gamma", STORE_TIME_MIN, STORE_TIME_MAX, 10, seen, 64, &pages), 0);

	/* limit 0 returns nothing but tells that rows exist. */
	response_record *out = NULL;
	size_t n = 9;
	bool more = false;
	assert_int_equal(store_response_list(st, "alpha", STORE_TIME_MIN, STORE_TIME_MAX, 0, 0, &out, &n, &more,
	                                     &err),
	                 0);
	assert_int_equal(n, 0);
	assert_true(more);
	free(out);
	store_close(st);
}

static void test_list_time_bounds(void **state)
{
	(void)state;
	store *st = open_rw(":memory:");
	const int64_t times[] = { INT64_MIN + 1, -5000, 0, 1000, 2000, 3000, 4000, INT64_MAX };
	for (int i = 0; i < 8; i++)
		insert_one(st, "f", times[i], i);
	int seen[16];
	size_t pages;
	assert_int_equal(list_all(st, "f", 1000, 3000, 10, seen, 16, &pages), 2);
	assert_int_equal(seen[0], 3);
	assert_int_equal(seen[1], 4);
	assert_int_equal(list_all(st, "f", 2000, STORE_TIME_MAX, 10, seen, 16, &pages), 4);
	assert_int_equal(seen[3], 7); /* unbounded includes the very last instant */
	assert_int_equal(list_all(st, "f", STORE_TIME_MIN, 0, 10, seen, 16, &pages), 2);
	assert_int_equal(list_all(st, "f", STORE_TIME_MIN, STORE_TIME_MAX, 3, seen, 16, &pages), 8);
	assert_int_equal(list_all(st, "f", STORE_TIME_MIN, STORE_TIME_MIN, 10, seen, 16, &pages), 0);
	assert_int_equal(list_all(st, "f", 3000, 3000, 10, seen, 16, &pages), 0);
	assert_int_equal(list_all(st, "f", 4000, 1000, 10, seen, 16, &pages), 0);

	/* The cursor honours the same window. */
	store_cursor *cur = NULL;
	char *err = NULL;
	assert_int_equal(store_cursor_open(st, "f", -5000, 2001, &cur, &err), 0);
	response_record r;
	int got = 0, rc;
	while ((rc = store_cursor_next(cur, &r, &err)) == 1) {
		assert_true(r.created_ms >= -5000 && r.created_ms < 2001);
		got++;
		response_record_clear(&r);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(got, 4);
	/* Past the end it keeps answering 0. */
	assert_int_equal(store_cursor_next(cur, &r, &err), 0);
	store_cursor_close(cur);
	store_close(st);
}

static void test_cursor_streams_snapshot(void **state)
{
	fixture *fx = *state;
	store *w = open_rw(fx->path);
	char *err = NULL;
	assert_int_equal(store_begin(w, &err), 0);
	for (int i = 0; i < 10000; i++)
		insert_one(w, "big", 1000 + i, i);
	insert_one(w, "other", 5, 1);
	assert_int_equal(store_commit(w, &err), 0);

	store *ro = NULL;
	assert_int_equal(store_open(fx->path, DURABILITY_FULL, true, &ro, &err), 0);
	store_cursor *cur = NULL;
	assert_int_equal(store_cursor_open(ro, "big", STORE_TIME_MIN, STORE_TIME_MAX, &cur, &err), 0);

	/* Writes committed after the cursor opened are not part of its snapshot, and the writer is not
	 * blocked by the reader. */
	for (int i = 0; i < 5; i++)
		insert_one(w, "big", 50000 + i, 10000 + i);

	response_record r;
	int64_t last_seq = 0;
	int n = 0, rc;
	while ((rc = store_cursor_next(cur, &r, &err)) == 1) {
		assert_true(r.seq > last_seq);
		last_seq = r.seq;
		assert_int_equal(json_integer_value(json_object_get(r.answers, "n")), n);
		n++;
		response_record_clear(&r);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 10000);
	store_cursor_close(cur);
	/* Once closed, the reader sees the new rows. */
	assert_int_equal(count_of(ro, "big"), 10005);
	store_close(ro);
	store_close(w);
}

static void test_read_only_handle(void **state)
{
	fixture *fx = *state;
	store *ro = NULL;
	char *err = NULL;
	/* A missing database is not created by a read-only open. */
	assert_int_equal(store_open(fx->path, DURABILITY_FULL, true, &ro, &err), -1);
	assert_null(ro);
	assert_non_null(strstr(err, fx->path));
	free(err);
	err = NULL;
	struct stat sb;
	assert_int_equal(stat(fx->path, &sb), -1);

	store *w = open_rw(fx->path);
	insert_one(w, "f", 1, 1);
	assert_int_equal(store_open(fx->path, DURABILITY_FULL, true, &ro, &err), 0);
	assert_int_equal(count_of(ro, "f"), 1);

	/* An open write transaction does not block the reader, and is invisible to it until commit. */
	assert_int_equal(store_begin(w, &err), 0);
	insert_one(w, "f", 2, 2);
	assert_int_equal(count_of(ro, "f"), 1);
	assert_int_equal(store_ping(ro, &err), 0);
	assert_int_equal(store_commit(w, &err), 0);
	assert_int_equal(count_of(ro, "f"), 2);

	/* Writing through it fails with a message naming the operation. */
	response_record r;
	make_record(&r, "f", 3, 3);
	assert_int_equal(store_response_insert(ro, &r, NULL, &err), -1);
	assert_non_null(err);
	assert_true(strncmp(err, "insert response: ", 17) == 0);
	assert_non_null(strstr(err, "readonly"));
	free(err);
	response_record_clear(&r);
	store_close(ro);
	store_close(w);
}

static void test_read_only_refuses_unmigrated(void **state)
{
	fixture *fx = *state;
	raw_exec(fx->path, "CREATE TABLE unrelated(x)");
	store *ro = NULL;
	char *err = NULL;
	assert_int_equal(store_open(fx->path, DURABILITY_FULL, true, &ro, &err), -1);
	assert_null(ro);
	assert_non_null(strstr(err, "schema version is 0"));
	free(err);
	char *v = raw_query(fx->path, "PRAGMA user_version");
	assert_string_equal(v, "0"); /* and it did not migrate */
	free(v);
}

static void test_newer_schema_refused(void **state)
{
	fixture *fx = *state;
	store *st = open_rw(fx->path);
	insert_one(st, "f", 1, 1);
	store_close(st);
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_schema_version() + 1);
	raw_exec(fx->path, sql);

	char *err = NULL;
	for (int ro = 0; ro < 2; ro++) {
		st = NULL;
		assert_int_equal(store_open(fx->path, DURABILITY_NORMAL, ro, &st, &err), -1);
		assert_null(st);
		assert_non_null(err);
		assert_non_null(strstr(err, fx->path));
		assert_non_null(strstr(err, "newer earshot"));
		char want[64];
		snprintf(want, sizeof want, "schema version is %d", store_schema_version() + 1);
		assert_non_null(strstr(err, want));
		free(err);
		err = NULL;
	}
	/* Nothing was touched. */
	char *n = raw_query(fx->path, "SELECT count(*) FROM responses");
	assert_string_equal(n, "1");
	free(n);
}

static void test_open_error_names_path(void **state)
{
	(void)state;
	store *st = NULL;
	char *err = NULL;
	assert_int_equal(store_open("/nonexistent-dir-earshot/x.db", DURABILITY_FULL, false, &st, &err), -1);
	assert_null(st);
	assert_non_null(strstr(err, "open database /nonexistent-dir-earshot/x.db: "));
	free(err);
}

static void test_transactions(void **state)
{
	(void)state;
	store *st = open_rw(":memory:");
	char *err = NULL;
	/* No transaction: commit and savepoint refuse. */
	assert_int_equal(store_commit(st, &err), -1);
	assert_true(strncmp(err, "commit: ", 8) == 0);
	free(err);
	err = NULL;
	assert_int_equal(store_savepoint(st, &err), -1);
	assert_non_null(strstr(err, "savepoint"));
	free(err);
	err = NULL;
	store_rollback(st); /* harmless without a transaction */
	store_rollback_savepoint(st);

	/* A rolled-back transaction keeps nothing. */
	assert_int_equal(store_begin(st, &err), 0);
	insert_one(st, "f", 1, 1);
	store_rollback(st);
	assert_int_equal(count_of(st, "f"), 0);

	/* A rolled-back savepoint drops only its own answer. */
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_savepoint(st, &err), 0);
	insert_one(st, "f", 1, 1);
	assert_int_equal(store_release(st, &err), 0);
	assert_int_equal(store_savepoint(st, &err), 0);
	insert_one(st, "f", 2, 2);
	store_rollback_savepoint(st);
	assert_int_equal(store_savepoint(st, &err), 0);
	insert_one(st, "f", 3, 3);
	assert_int_equal(store_release(st, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(count_of(st, "f"), 2);
	/* A second BEGIN inside a transaction is an error that names the operation. */
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_begin(st, &err), -1);
	assert_true(strncmp(err, "begin transaction: ", 19) == 0);
	free(err);
	store_rollback(st);
	store_close(st);
}

static void test_idempotency(void **state)
{
	(void)state;
	store *st = open_rw(":memory:");
	char *err = NULL, *body = NULL;
	int status = 0;
	assert_int_equal(store_idempotency_find(st, "k1", &status, &body, &err), 0);
	assert_null(body);
	assert_int_equal(store_idempotency_put(st, "k1", "signup", "r_1", 201, "{\"id\":\"r_1\"}", 10, &err), 0);
	assert_int_equal(store_idempotency_find(st, "k1", &status, &body, &err), 1);
	assert_int_equal(status, 201);
	assert_string_equal(body, "{\"id\":\"r_1\"}");
	free(body);
	body = NULL;
	/* A key is stored once. */
	assert_int_equal(store_idempotency_put(st, "k1", "signup", "r_2", 201, "{}", 11, &err), -1);
	assert_true(strncmp(err, "store idempotency key: ", 23) == 0);
	free(err);
	err = NULL;
	/* NULL response id allowed; other keys independent. */
	assert_int_equal(store_idempotency_put(st, "k2", "signup", NULL, 201, "{}", 12, &err), 0);
	assert_int_equal(store_idempotency_find(st, "k3", &status, &body, &err), 0);
	/* A rolled-back put leaves no key. */
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_idempotency_put(st, "k4", "signup", "r_4", 201, "{}", 12, &err), 0);
	store_rollback(st);
	assert_int_equal(store_idempotency_find(st, "k4", &status, &body, &err), 0);
	store_close(st);
}

static void test_kv(void **state)
{
	(void)state;
	store *st = open_rw(":memory:");
	char *err = NULL, *v = NULL;
	size_t len = 99;
	int64_t res = 0;
	assert_int_equal(store_kv_get(st, "incentive", "code", &v, &len, &err), 0);
	assert_int_equal(store_kv_put(st, "incentive", "code", "EAR-1", 5, &err), 0);
	assert_int_equal(store_kv_get(st, "incentive", "code", &v, &len, &err), 1);
	assert_int_equal(len, 5);
	assert_string_equal(v, "EAR-1");
	free(v);
	/* Overwrite; binary with an embedded NUL; plugins are separate spaces. */
	assert_int_equal(store_kv_put(st, "incentive", "code", "a\0b", 3, &err), 0);
	assert_int_equal(store_kv_get(st, "incentive", "code", &v, &len, &err), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "a\0b", 4);
	free(v);
	assert_int_equal(store_kv_get(st, "nps", "code", &v, &len, &err), 0);
	/* Empty value is present, not absent. */
	assert_int_equal(store_kv_put(st, "nps", "empty", NULL, 0, &err), 0);
	assert_int_equal(store_kv_get(st, "nps", "empty", &v, &len, &err), 1);
	assert_int_equal(len, 0);
	assert_string_equal(v, "");
	free(v);

	/* incr: absent counts as 0; the value reads back as decimal text; a text integer is accepted. */
	assert_int_equal(store_kv_incr(st, "nps", "n", 5, &res, &err), 0);
	assert_int_equal(res, 5);
	assert_int_equal(store_kv_incr(st, "nps", "n", -7, &res, &err), 0);
	assert_int_equal(res, -2);
	assert_int_equal(store_kv_get(st, "nps", "n", &v, &len, &err), 1);
	assert_string_equal(v, "-2");
	assert_int_equal(len, 2);
	free(v);
	assert_int_equal(store_kv_put(st, "nps", "t", "41", 2, &err), 0);
	assert_int_equal(store_kv_incr(st, "nps", "t", 1, &res, &err), 0);
	assert_int_equal(res, 42);

	/* Not an integer, and overflow, are errors that change nothing. */
	assert_int_equal(store_kv_incr(st, "incentive", "code", 1, &res, &err), -1);
	assert_non_null(strstr(err, "does not hold an integer"));
	free(err);
	err = NULL;
	assert_int_equal(store_kv_put(st, "nps", "sp", " 4", 2, &err), 0);
	assert_int_equal(store_kv_incr(st, "nps", "sp", 1, &res, &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(store_kv_incr(st, "nps", "big", INT64_MAX, &res, &err), 0);
	assert_int_equal(store_kv_incr(st, "nps", "big", 1, &res, &err), -1);
	assert_non_null(strstr(err, "overflow"));
	free(err);
	err = NULL;
	assert_int_equal(store_kv_get(st, "nps", "big", &v, &len, &err), 1);
	assert_string_equal(v, "9223372036854775807");
	free(v);
	store_close(st);
}

static void test_kv_savepoint_rollback(void **state)
{
	(void)state;
	store *st = open_rw(":memory:");
	char *err = NULL, *v = NULL;
	size_t len;
	int64_t res;
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_kv_put(st, "p", "a", "1", 1, &err), 0);
	assert_int_equal(store_savepoint(st, &err), 0);
	assert_int_equal(store_kv_put(st, "p", "a", "2", 1, &err), 0);
	assert_int_equal(store_kv_incr(st, "p", "n", 3, &res, &err), 0);
	store_rollback_savepoint(st);
	assert_int_equal(store_kv_get(st, "p", "a", &v, &len, &err), 1);
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(store_kv_get(st, "p", "n", &v, &len, &err), 0);
	/* The savepoint can be used again after a rollback. */
	assert_int_equal(store_savepoint(st, &err), 0);
	assert_int_equal(store_kv_incr(st, "p", "n", 4, &res, &err), 0);
	assert_int_equal(store_release(st, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(store_kv_incr(st, "p", "n", 0, &res, &err), 0);
	assert_int_equal(res, 4);
	store_close(st);
}

/* kv_take: the first key with the prefix in byte order, only that plugin's, removed; a rolled-back take
 * puts it back; none left: 0. */
static void test_kv_take(void **state)
{
	(void)state;
	store *st = open_rw(":memory:");
	char *err = NULL, *k = NULL, *v = NULL;
	size_t len = 0;
	assert_int_equal(store_kv_put(st, "p", "pool:2", "B", 1, &err), 0);
	assert_int_equal(store_kv_put(st, "p", "pool:1", "A", 1, &err), 0);
	assert_int_equal(store_kv_put(st, "p", "pool", "not in the pool", 15, &err), 0);
	assert_int_equal(store_kv_put(st, "p", "poom", "after the pool", 14, &err), 0);
	assert_int_equal(store_kv_put(st, "q", "pool:0", "other plugin", 12, &err), 0);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_savepoint(st, &err), 0);
	assert_int_equal(store_kv_take(st, "p", "pool:", &k, &v, &len, &err), 1);
	assert_string_equal(k, "pool:1");
	assert_string_equal(v, "A");
	assert_int_equal(len, 1);
	free(k);
	free(v);
	store_rollback_savepoint(st);
	assert_int_equal(store_commit(st, &err), 0);
	const char *want[] = { "A", "B" };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(store_kv_take(st, "p", "pool:", &k, &v, &len, &err), 1);
		assert_string_equal(v, want[i]);
		free(k);
		free(v);
	}
	assert_int_equal(store_kv_take(st, "p", "pool:", &k, &v, &len, &err), 0);
	assert_int_equal(store_kv_get(st, "p", "pool", &v, &len, &err), 1);
	free(v);
	assert_int_equal(store_kv_get(st, "q", "pool:0", &v, &len, &err), 1);
	free(v);
	assert_int_equal(store_kv_take(st, "p", "", &k, &v, &len, &err), 1);
	assert_string_equal(k, "pool");
	free(k);
	free(v);
	store_close(st);
}

/* A nonce is remembered until it expires; once expired it is forgotten by a later use (at most 32 per
 * use), so the same nonce is new again. */
static void test_token_nonces_expire(void **state)
{
	(void)state;
	store *st = open_rw(":memory:");
	char *err = NULL;
	assert_int_equal(store_token_use(st, "n1", 1000, 0, &err), 0);
	assert_int_equal(store_token_use(st, "n1", 1000, 500, &err), 1);
	for (int i = 0; i < 40; i++) {
		char nonce[16];
		snprintf(nonce, sizeof nonce, "old%d", i);
		assert_int_equal(store_token_use(st, nonce, 1500, 600, &err), 0);
	}
	assert_int_equal(count_rows(st, "used_tokens"), 41);
	/* Nothing expired yet at 900: nothing is forgotten. */
	assert_int_equal(store_token_use(st, "n2", 9000, 900, &err), 0);
	assert_int_equal(count_rows(st, "used_tokens"), 42);
	/* At 2000 the 41 first have expired: one use forgets 32 of them (n1 first, the oldest). */
	assert_int_equal(store_token_use(st, "n3", 9000, 2000, &err), 0);
	assert_int_equal(count_rows(st, "used_tokens"), 42 - 32 + 1);
	assert_int_equal(store_token_use(st, "n1", 3000, 2000, &err), 0);
	assert_int_equal(count_rows(st, "used_tokens"), 42 - 41 + 2);
	assert_int_equal(store_token_use(st, "n2", 9000, 2000, &err), 1);
	assert_null(err);
	store_close(st);
}

static void test_purge(void **state)
{
	fixture *fx = *state;
	store *st = open_rw(fx->path);
	char *err = NULL;
	assert_int_equal(store_begin(st, &err), 0);
	/* More than one purge chunk of old rows. */
	for (int i = 0; i < 1234; i++)
		insert_one(st, i % 2 ? "a" : "b", 1000 + i, i);
	for (int i = 0; i < 10; i++)
		insert_one(st, "a", 100000 + i, 5000 + i);
	assert_int_equal(store_idempotency_put(st, "old", "a", "r_a_1", 201, "{}", 1500, &err), 0);
	assert_int_equal(store_idempotency_put(st, "new", "a", "r_a_5000", 201, "{}", 100000, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);

	int64_t deleted = -1;
	assert_int_equal(store_purge_before(st, 100000, &deleted, &err), 0);
	assert_int_equal(deleted, 1234);
	assert_int_equal(count_of(st, "a"), 10);
	assert_int_equal(count_of(st, "b"), 0);
	int status;
	char *body = NULL;
	assert_int_equal(store_idempotency_find(st, "old", &status, &body, &err), 0);
	assert_int_equal(store_idempotency_find(st, "new", &status, &body, &err), 1);
	free(body);
	/* Nothing older left: a second purge deletes nothing; inside a caller's transaction it works
	 * and is undone by its rollback. */
	assert_int_equal(store_purge_before(st, 100000, &deleted, &err), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_purge_before(st, STORE_TIME_MAX, &deleted, &err), 0);
	assert_int_equal(deleted, 10);
	assert_int_equal(count_of(st, "a"), 0);
	store_rollback(st);
	assert_int_equal(count_of(st, "a"), 10);
	store_close(st);
}

static void test_checkpoint_truncates_wal(void **state)
{
	fixture *fx = *state;
	store *st = open_rw(fx->path);
	char *err = NULL;
	for (int i = 0; i < 50; i++)
		insert_one(st, "f", i, i);
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", fx->path);
	struct stat sb;
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size > 0);
	assert_int_equal(store_checkpoint(st, &err), 0);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	assert_int_equal(count_of(st, "f"), 50);
	store_close(st);
}

/* A WAL grown under a burst is cut back to 64 MiB when the log starts over, on every writable handle. */
static void test_wal_size_limited(void **state)
{
	fixture *fx = *state;
	store *st = open_rw(fx->path);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(store_sqlite(st), "PRAGMA journal_size_limit", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(s, 0), 64 * 1024 * 1024);
	sqlite3_finalize(s);
	store_close(st);
}

static void test_corrupt_row_reported(void **state)
{
	fixture *fx = *state;
	store *st = open_rw(fx->path);
	insert_one(st, "f", 1, 1);
	raw_exec(fx->path, "INSERT INTO responses (id, form, created_ms, answers, meta) "
	                   "VALUES ('r_bad', 'f', 2, '{not json', '{}')");
	response_record *out = NULL;
	size_t n = 7;
	bool more = true;
	char *err = NULL;
	assert_int_equal(store_response_list(st, "f", STORE_TIME_MIN, STORE_TIME_MAX, 0, 10, &out, &n, &more,
	                                     &err),
	                 -1);
	assert_null(out);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err, "answers"));
	assert_non_null(strstr(err, "not valid JSON"));
	free(err);
	err = NULL;

	store_cursor *cur = NULL;
	response_record r;
	assert_int_equal(store_cursor_open(st, "f", STORE_TIME_MIN, STORE_TIME_MAX, &cur, &err), 0);
	assert_int_equal(store_cursor_next(cur, &r, &err), 1);
	response_record_clear(&r);
	assert_int_equal(store_cursor_next(cur, &r, &err), -1);
	assert_non_null(strstr(err, "not valid JSON"));
	free(err);
	store_cursor_close(cur);
	/* The cursor's read transaction ended: the handle can write again. */
	insert_one(st, "f", 3, 3);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_open_and_ping),
		cmocka_unit_test_setup_teardown(test_migrate_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_fills_summary_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_keeps_contacts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data_compact_json, setup, teardown),
		cmocka_unit_test(test_insert_defaults_and_errors),
		cmocka_unit_test(test_list_paging),
		cmocka_unit_test(test_list_time_bounds),
		cmocka_unit_test_setup_teardown(test_cursor_streams_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_handle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_refuses_unmigrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test(test_open_error_names_path),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_idempotency),
		cmocka_unit_test(test_kv),
		cmocka_unit_test(test_kv_savepoint_rollback),
		cmocka_unit_test(test_kv_take),
		cmocka_unit_test(test_token_nonces_expire),
		cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_size_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_truncates_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_row_reported, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
