/* Unit tests for checkpointer: the WAL of a writer committing back to back stays bounded (the writer
 * finishes the checkpoint itself past CATCH_UP_PAGES), and what it committed is in the database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "checkpointer.h"
#include "storage.h"
#include "store_internal.h"
#include "test_support.h"

typedef test_db_fixture fixture;

static int setup(void **state)
{
	return test_db_setup(state, "checkpointer", "test.db");
}

#define teardown test_db_teardown

/* Pages of the blob each commit rewrites, and commits: the WAL takes in about ten times
 * CATCH_UP_PAGES, far more than a WAL that never starts over could hide. */
#define BLOB_PAGES 256
#define COMMITS (10 * CATCH_UP_PAGES / BLOB_PAGES)

static void run_sql(store *st, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(store_sqlite(st), sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static int64_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static void test_wal_bounded_under_back_to_back_commits(void **state)
{
	fixture *fx = *state;
	char *err = NULL;
	store *st = NULL;
	/* NORMAL: no fsync per commit, so the test is quick; the WAL grows the same way. */
	assert_int_equal(store_open(fx->path, DURABILITY_NORMAL, false, &st, &err), 0);
	checkpointer *cp = checkpointer_start(fx->path, DURABILITY_NORMAL, &err);
	assert_non_null(cp);
	checkpointer_watch(cp, st);
	run_sql(st, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)");
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", fx->path);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(store_sqlite(st), "INSERT OR REPLACE INTO t VALUES (1, zeroblob(?1))",
	                                    -1, &s, NULL), SQLITE_OK);
	int64_t largest = 0;
	for (int i = 0; i < COMMITS; i++) {
		/* A new size each time, so every page of the blob is written again. */
		sqlite3_bind_int(s, 1, BLOB_PAGES * 4000 + i);
		assert_int_equal(sqlite3_step(s), SQLITE_DONE);
		sqlite3_reset(s);
		int64_t size = file_size(wal);
		if (size > largest)
			largest = size;
	}
	sqlite3_finalize(s);
	/* A frame is a page and a 24-byte header. The WAL passes CATCH_UP_PAGES by the commits made while
	 * the checkpointer finishes a pass (the writer's own attempt is skipped meanwhile): 76-87 MB
	 * here, 291 MB once when the suite's other tests kept the disk busy and a pass took longer,
	 * against 967 MB when it never starts over. The bound (about 494 MB) lies between the two. */
	int64_t bound = (int64_t)10 * CATCH_UP_PAGES * (4096 + 24);
	if (largest > bound)
		fail_msg("the WAL grew to %lld bytes, more than %lld", (long long)largest, (long long)bound);
	store_on_wal_commit(st, NULL, NULL);
	checkpointer_stop(cp);
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_prepare_v2(store_sqlite(st), "SELECT length(b) FROM t", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), BLOB_PAGES * 4000 + COMMITS - 1);
	sqlite3_finalize(q);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wal_bounded_under_back_to_back_commits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
