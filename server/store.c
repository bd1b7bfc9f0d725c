/* store: the only module that speaks SQL. One handle is one SQLite connection (opened NOMUTEX: one
 * thread at a time), with its prepared statements cached for its lifetime. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "answer_facts.h"
#include "fresh_facts.h"
#include "storage.h"
#include "store_internal.h"
#include "util.h"

#define BUSY_TIMEOUT_MS 5000
/* Rows deleted per statement (and per transaction when the purge owns it), so a retention purge
 * never holds the write lock long enough to stall the writer. */
#define PURGE_CHUNK 500
/* Bytes the WAL file is cut back to when the log starts over (64 MiB). */
#define WAL_SIZE_LIMIT "67108864"

/* Every statement a handle may prepare, in the same order as stmt_sql. */
enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_IDEM_FIND,
	ST_IDEM_PUT,
	ST_RESP_INSERT,
	ST_RESP_COUNT,
	ST_RESP_LIST,
	ST_KV_GET,
	ST_KV_PUT,
	ST_KV_TAKE,
	ST_PURGE_RESPONSES,
	ST_PURGE_IDEMPOTENCY,
	ST_PURGE_VIEWS,
	ST_PING,
	ST_N
};

#define RESPONSE_COLUMNS "seq, id, form, created_ms, answers, meta, score, tags, confirmed"
#define RESPONSE_RANGE "form = ?1 AND created_ms >= ?2 AND created_ms <= ?3"

static const char *const stmt_sql[ST_N] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT answer",
	[ST_RELEASE] = "RELEASE answer",
	[ST_ROLLBACK_TO] = "ROLLBACK TO answer",
	[ST_IDEM_FIND] = "SELECT status, body FROM idempotency WHERE key = ?1",
	[ST_IDEM_PUT] = "INSERT INTO idempotency (key, form, response_id, status, body, created_ms) "
	                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_RESP_INSERT] = "INSERT INTO responses (id, form, created_ms, answers, meta, score, tags, client, confirmed) "
	                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_RESP_COUNT] = "SELECT count(*) FROM responses WHERE form = ?1",
	[ST_RESP_LIST] = "SELECT " RESPONSE_COLUMNS " FROM responses WHERE " RESPONSE_RANGE
	                 " AND seq > ?4 ORDER BY seq LIMIT ?5",
	[ST_KV_GET] = "SELECT value FROM plugin_kv WHERE plugin = ?1 AND key = ?2",
	[ST_KV_PUT] = "INSERT INTO plugin_kv (plugin, key, value) VALUES (?1, ?2, ?3) "
	              "ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value",
	/* The first key at or after the prefix in byte order, when it has the prefix: every key with the
	 * prefix sorts there (one step down the primary key). */
	[ST_KV_TAKE] = "DELETE FROM plugin_kv WHERE plugin = ?1 AND key = (SELECT key FROM plugin_kv WHERE plugin = ?1 "
	               "AND key >= ?2 ORDER BY key LIMIT 1) AND substr(key, 1, length(?2)) = ?2 RETURNING key, value",
	[ST_PURGE_RESPONSES] = "DELETE FROM responses WHERE seq IN "
	                       "(SELECT seq FROM responses WHERE created_ms < ?1 LIMIT ?2)",
	[ST_PURGE_IDEMPOTENCY] = "DELETE FROM idempotency WHERE key IN "
	                         "(SELECT key FROM idempotency WHERE created_ms < ?1 LIMIT ?2)",
	/* Whole UTC days that ended before the cutoff. */
	[ST_PURGE_VIEWS] = "DELETE FROM views WHERE (form, day, variant, device) IN "
	                   "(SELECT form, day, variant, device FROM views WHERE day < ?1 / 86400000 LIMIT ?2)",
	[ST_PING] = "SELECT 1 FROM responses LIMIT 1",
};

/* The export cursor's queries: prepared per cursor, since it lives as long as the cursor does. With a
 * time range the (form, created_ms) index finds the rows and they are sorted; without one, walking
 * the (form, seq) index needs no sort at all (the unary + keeps the planner off the other index),
 * which halves the time of a whole-form export. */
static const char cursor_sql[] =
	"SELECT " RESPONSE_COLUMNS " FROM responses WHERE " RESPONSE_RANGE " ORDER BY seq";
static const char cursor_all_sql[] =
	"SELECT " RESPONSE_COLUMNS " FROM responses WHERE form = ?1 AND +created_ms >= ?2 AND +created_ms <= ?3 "
	"ORDER BY seq";

struct store {
	const storage_ops *ops; /* &storage_sqlite (storage.h: every backend's handle begins so) */
	sqlite3 *db;
	bool read_only;
	sqlite3_stmt *stmts[ST_N]; /* prepared on first use, finalized by store_close */
	/* store_cached's statements, keyed by the address of their SQL text (a string literal). */
	struct {
		const char *sql;
		sqlite3_stmt *stmt;  /* owned */
	} cached[STORE_CACHED_MAX];
	size_t n_cached;
	void (*wal_fn)(void *arg, int wal_pages); /* store_on_wal_commit's callback, or NULL */
	void *wal_arg;
	fresh_facts *fresh; /* owned; made by the handle's first insert of an answer */
};

struct store_cursor {
	const storage_ops *ops; /* its connection's */
	store *st;
	sqlite3_stmt *stmt;   /* owned */
	bool own_txn;         /* the cursor began the read transaction and ends it */
	bool primed;          /* a row was stepped to by open and not yet returned */
	bool done;
};

void store_set_err(char **err, char *msg)
{
	if (err)
		*err = msg;
	else
		free(msg);
}

int store_fail(store *st, const char *op, char **err)
{
	store_set_err(err, xasprintf("%s: %s", op, sqlite3_errmsg(st->db)));
	return -1;
}

sqlite3_stmt *store_prepare(store *st, const char *sql, const char *op, char **err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_fail(st, op, err);
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

sqlite3_stmt *store_cached(store *st, const char *sql, const char *op, char **err)
{
	for (size_t i = 0; i < st->n_cached; i++) {
		if (st->cached[i].sql == sql) {
			sqlite3_stmt *s = st->cached[i].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	if (st->n_cached == STORE_CACHED_MAX) {
		store_set_err(err, xasprintf("%s: the statement cache is full", op));
		return NULL;
	}
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		store_fail(st, op, err);
		sqlite3_finalize(s);
		return NULL;
	}
	st->cached[st->n_cached].sql = sql;
	st->cached[st->n_cached].stmt = s;
	st->n_cached++;
	return s;
}

void store_done(sqlite3_stmt *s)
{
	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

int store_run_cached(store *st, sqlite3_stmt *s, const char *op, char **err)
{
	int rc = sqlite3_step(s);
	int ret = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : store_fail(st, op, err);
	store_done(s);
	return ret;
}

int store_run_once(store *st, sqlite3_stmt *s, const char *op, char **err)
{
	int rc = sqlite3_step(s);
	int ret = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : store_fail(st, op, err);
	sqlite3_finalize(s);
	return ret;
}

void *store_collect_rows(store *st, sqlite3_stmt *s, int limit, size_t size, store_row_fn row,
                         store_clear_fn clear, const char *op, size_t *n, bool *more, char **err)
{
	size_t count = 0, cap = 4;
	char *arr = xmalloc(cap * size);
	int rc;
	*more = false;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (count == (size_t)limit) {
			*more = true;
			break;
		}
		if (count == cap) {
			cap *= 2;
			arr = xrealloc(arr, cap * size);
		}
		if (row(s, arr + count * size, err) != 0)
			goto fail;
		count++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_fail(st, op, err);
		goto fail;
	}
	*n = count;
	return arr;
fail:
	for (size_t i = 0; i < count; i++)
		clear(arr + i * size);
	free(arr);
	*more = false;
	return NULL;
}

/* Returns the cached statement id, preparing it on first use; NULL with *err (naming op) on
 * failure. The statement is borrowed: give it back with stmt_done. */
static sqlite3_stmt *stmt_get(store *st, enum stmt_id id, const char *op, char **err)
{
	if (!st->stmts[id] &&
	    sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmts[id], NULL) !=
	            SQLITE_OK) {
		store_fail(st, op, err);
		sqlite3_finalize(st->stmts[id]);
		st->stmts[id] = NULL;
		return NULL;
	}
	return st->stmts[id];
}

/* Resets a cached statement and clears its bindings, ready for the next use. */
static void stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Steps a cached statement that returns no row we need. Returns 0, or -1 with *err naming op. */
static int stmt_run(store *st, sqlite3_stmt *s, const char *op, char **err)
{
	int rc = sqlite3_step(s);
	int ret = 0;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = store_fail(st, op, err);
	stmt_done(s);
	return ret;
}

/* Runs the cached statement id, which takes no parameters. Returns 0, or -1 with *err. */
static int stmt_exec(store *st, enum stmt_id id, const char *op, char **err)
{
	sqlite3_stmt *s = stmt_get(st, id, op, err);
	return s ? stmt_run(st, s, op, err) : -1;
}

/* Runs one SQL text (possibly several statements) once. Returns 0, or -1 with *err naming op. */
static int exec_sql(store *st, const char *sql, const char *op, char **err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, op, err);
	return 0;
}

/* Runs a one-row, one-column query (a PRAGMA) and copies its first column as text into buf.
 * Returns 0, or -1 with *err naming op. */
static int query_text(store *st, const char *sql, char *buf, size_t size, const char *op, char **err)
{
	sqlite3_stmt *s = store_prepare(st, sql, op, err);
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_fail(st, op, err);
		sqlite3_finalize(s);
		return -1;
	}
	const unsigned char *text = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
	snprintf(buf, size, "%s", text ? (const char *)text : "");
	sqlite3_finalize(s);
	return 0;
}

/* Reads PRAGMA user_version into *version. Returns 0, or -1 with *err. */
static int read_user_version(store *st, int *version, char **err)
{
	char buf[32];
	if (query_text(st, "PRAGMA user_version", buf, sizeof buf, "read schema version", err) != 0)
		return -1;
	*version = atoi(buf);
	return 0;
}

/* The message for a database written by a newer earshot (malloc'd, caller frees). */
static char *newer_schema_message(const char *path, int version)
{
	return xasprintf("open database %s: its schema version is %d but this build of earshot knows "
	                 "only up to version %d; run a newer earshot (or restore a backup made by this "
	                 "version)",
	                 path, version, store_schema_version());
}

/* Applies migration `from` (user_version from -> from + 1) inside one BEGIN IMMEDIATE transaction,
 * unless another connection already did. Sets *version to the version found once the write lock
 * was held. Returns 0, or -1 with *err. */
static int migrate_step(store *st, int from, int *version, char **err)
{
	char op[96];
	snprintf(op, sizeof op, "migrate database to schema version %d", from + 1);
	if (exec_sql(st, "BEGIN IMMEDIATE", op, err) != 0)
		return -1;
	if (read_user_version(st, version, err) != 0)
		goto rollback;
	if (*version != from) {
		/* Another connection migrated meanwhile; nothing was written. */
		sqlite_rollback(st);
		return 0;
	}
	char bump[48];
	snprintf(bump, sizeof bump, "PRAGMA user_version = %d", from + 1);
	if (sqlite3_exec(st->db, store_migrations[from].sql, NULL, NULL, NULL) != SQLITE_OK) {
		store_set_err(err, xasprintf("%s (%s): %s", op, store_migrations[from].name, sqlite3_errmsg(st->db)));
		goto rollback;
	}
	if (exec_sql(st, bump, op, err) != 0 || exec_sql(st, "COMMIT", op, err) != 0)
		goto rollback;
	*version = from + 1;
	return 0;
rollback:
	sqlite_rollback(st);
	return -1;
}

/* Brings the schema up to date, one migration per transaction. Returns 0, or -1 with *err. */
static int migrate(store *st, const char *path, char **err)
{
	int version;
	if (read_user_version(st, &version, err) != 0)
		return -1;
	while (version >= 0 && (size_t)version < store_n_migrations) {
		if (migrate_step(st, version, &version, err) != 0)
			return -1;
	}
	if (version < 0 || (size_t)version > store_n_migrations) {
		store_set_err(err, newer_schema_message(path, version));
		return -1;
	}
	return 0;
}

/* For read-only handles: refuses a schema this build cannot read (newer, or not yet migrated).
 * Returns 0, or -1 with *err. */
static int check_version_read_only(store *st, const char *path, char **err)
{
	int version;
	if (read_user_version(st, &version, err) != 0)
		return -1;
	if (version < 0 || (size_t)version > store_n_migrations) {
		store_set_err(err, newer_schema_message(path, version));
		return -1;
	}
	if ((size_t)version < store_n_migrations) {
		store_set_err(err, xasprintf("open database %s: its schema version is %d but this build needs "
		                       "version %d; start earshot serve once to upgrade it",
		                       path, version, store_schema_version()));
		return -1;
	}
	return 0;
}

/* Sets the per-connection pragmas: WAL (writable handles), synchronous level, foreign keys and
 * secure_delete. Returns 0, or -1 with *err. */
static int configure(store *st, const char *path, durability_mode durability, char **err)
{
	if (!st->read_only) {
		char mode[32];
		if (query_text(st, "PRAGMA journal_mode = WAL", mode, sizeof mode, "enable WAL mode", err) != 0)
			return -1;
		bool in_memory = strcmp(path, ":memory:") == 0 || path[0] == '\0';
		if (strcmp(mode, "wal") != 0 && !(in_memory && strcmp(mode, "memory") == 0)) {
			store_set_err(err, xasprintf("open database %s: cannot use WAL mode (journal mode stays \"%s\")",
			                       path, mode));
			return -1;
		}
	}
	/* When the WAL starts over, a file grown past this under a burst (a checkpoint cannot finish while
	 * the writer commits back to back) is cut back to it instead of keeping its peak size on disk. */
	if (!st->read_only && exec_sql(st, "PRAGMA journal_size_limit = " WAL_SIZE_LIMIT, "limit the WAL", err) != 0)
		return -1;
	const char *sync = durability == DURABILITY_NORMAL ? "PRAGMA synchronous = NORMAL"
	                                                   : "PRAGMA synchronous = FULL";
	if (exec_sql(st, sync, "set synchronous", err) != 0 ||
	    exec_sql(st, "PRAGMA foreign_keys = ON", "enable foreign keys", err) != 0 ||
	    exec_sql(st, "PRAGMA secure_delete = ON", "enable secure_delete", err) != 0)
		return -1;
	return 0;
}

/* The handle's connection (borrowed), for store_outbox.c. */
sqlite3 *store_sqlite(store *st)
{
	return st->db;
}

fresh_facts *store_fresh_facts(store *st)
{
	return st->fresh;
}

/* Number of migrations this build knows (the user_version it migrates to). */
int store_schema_version(void)
{
	return (int)store_n_migrations;
}

/* Busy handler: retries every millisecond for up to BUSY_TIMEOUT_MS. SQLite's own busy timeout
 * backs off to 100 ms sleeps, so a connection waiting for the write lock (the delivery worker
 * recording outcomes) kept missing the short gaps between the writer's back-to-back batches. */
static int busy_wait(void *arg, int tries)
{
	(void)arg;
	if (tries >= BUSY_TIMEOUT_MS)
		return 0;
	struct timespec ms = { 0, 1000000L };
	nanosleep(&ms, NULL);
	return 1;
}

/* Process-wide SQLite settings, before the library is first used: no memory statistics (they take a
 * global mutex on every allocation), and statement journals kept in memory: the writer stores each
 * answer in a savepoint, whose journal otherwise spills to a temporary file past 64 KiB (a write of
 * the pages each answer touches, under load). */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1);
}

/* Opens and configures one connection; migrates (writable) or checks the version (read-only).
 * Returns 0 and *out (caller closes), or -1 and *err naming the database (caller frees). */
int sqlite_connect(const storage_ops *ops, const char *path, durability_mode durability, bool read_only,
                   store **out, char **err)
{
	static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
	pthread_once(&setup_once, sqlite_setup);
	*out = NULL;
	int flags = SQLITE_OPEN_NOMUTEX |
	            (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		store_set_err(err, xasprintf("open database %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
		sqlite3_close(db);
		return -1;
	}
	store *st = xcalloc(1, sizeof *st);
	st->ops = ops;
	st->db = db;
	st->read_only = read_only;
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_handler(db, busy_wait, NULL);
	char *sub = NULL;
	if (configure(st, path, durability, &sub) != 0 ||
	    (read_only ? check_version_read_only(st, path, &sub) : migrate(st, path, &sub)) != 0) {
		/* Messages from configure/migrate already name the database when it matters. */
		if (!sub)
			sub = xstrdup("unknown error");
		if (strncmp(sub, "open database ", 14) == 0)
			store_set_err(err, sub);
		else {
			store_set_err(err, xasprintf("open database %s: %s", path, sub));
			free(sub);
		}
		sqlite_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

/* Finalizes the cached statements and closes the connection (an open transaction is rolled back). */
void sqlite_close(store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < ST_N; i++)
		sqlite3_finalize(st->stmts[i]);
	for (size_t i = 0; i < st->n_cached; i++)
		sqlite3_finalize(st->cached[i].stmt);
	sqlite3_close_v2(st->db);
	fresh_facts_free(st->fresh);
	free(st);
}

/* BEGIN IMMEDIATE: takes the write lock now (waiting up to the busy timeout). 0 or -1 with *err. */
int sqlite_begin(store *st, char **err)
{
	return stmt_exec(st, ST_BEGIN, "begin transaction", err);
}

/* COMMIT. 0, or -1 with *err; after a failure the caller rolls back. */
int sqlite_commit(store *st, char **err)
{
	return stmt_exec(st, ST_COMMIT, "commit", err);
}

/* ROLLBACK of the open transaction, if any; errors are ignored. */
void sqlite_rollback(store *st)
{
	/* After some errors (disk full, I/O) SQLite has already rolled back; nothing is left to do. */
	if (!sqlite3_get_autocommit(st->db))
		stmt_exec(st, ST_ROLLBACK, "rollback", NULL);
}

/* Opens the per-answer savepoint. It refuses to run outside a transaction: SQLite may have rolled
 * the batch back after an I/O error, and a savepoint there would silently start (and its release
 * commit) a transaction of its own. */
int sqlite_savepoint(store *st, char **err)
{
	if (sqlite3_get_autocommit(st->db)) {
		store_set_err(err, xstrdup("savepoint: no transaction is active (it was rolled back)"));
		return -1;
	}
	return stmt_exec(st, ST_SAVEPOINT, "savepoint", err);
}

/* RELEASE of the per-answer savepoint, keeping its writes in the transaction. 0 or -1. */
int sqlite_release(store *st, char **err)
{
	return stmt_exec(st, ST_RELEASE, "release savepoint", err);
}

/* Undoes everything since the per-answer savepoint and closes it. */
void sqlite_rollback_savepoint(store *st)
{
	/* ROLLBACK TO keeps the savepoint open; RELEASE then removes it. Both fail harmlessly when the
	 * transaction is already gone. */
	stmt_exec(st, ST_ROLLBACK_TO, "rollback to savepoint", NULL);
	stmt_exec(st, ST_RELEASE, "release savepoint", NULL);
}

/* Looks a key up: 1 with *status and *body (malloc'd, caller frees), 0 when absent, -1 with *err. */
int sqlite_idempotency_find(store *st, const char *key, int *status, char **body, char **err)
{
	const char *op = "find idempotency key";
	sqlite3_stmt *s = stmt_get(st, ST_IDEM_FIND, op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW) {
		const unsigned char *text = sqlite3_column_text(s, 1);
		*status = sqlite3_column_int(s, 0);
		*body = xstrdup(text ? (const char *)text : "");
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = store_fail(st, op, err);
	}
	stmt_done(s);
	return ret;
}

/* Stores a key's outcome; a key already stored is an error. 0 or -1 with *err. */
int sqlite_idempotency_put(store *st, const char *key, const char *form, const char *response_id,
                          int status, const char *body, int64_t created_ms, char **err)
{
	const char *op = "store idempotency key";
	sqlite3_stmt *s = stmt_get(st, ST_IDEM_PUT, op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, form, -1, SQLITE_STATIC);
	if (response_id)
		sqlite3_bind_text(s, 3, response_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, status);
	sqlite3_bind_text(s, 5, body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, created_ms);
	return stmt_run(st, s, op, err);
}

/* Returns a compact JSON text of j (malloc'd, caller frees), fallback's copy when j is NULL, or NULL
 * when j cannot be encoded. */
static char *json_text(const json_t *j, const char *fallback)
{
	if (!j)
		return fallback ? xstrdup(fallback) : NULL;
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* True when a fixed-size field holds a non-empty, NUL-terminated string. */
static bool field_ok(const char *s, size_t size)
{
	return s[0] != '\0' && memchr(s, '\0', size) != NULL;
}

/* Inserts r (compact JSON columns; NULL answers/meta/tags become {} / {} / []); sets r->seq.
 * Returns 0, or -1 with *err. */
int sqlite_response_insert(store *st, response_record *r, const char *client, char **err)
{
	const char *op = "insert response";
	if (!field_ok(r->id, sizeof r->id) || !field_ok(r->form, sizeof r->form)) {
		store_set_err(err, xstrdup("insert response: the id and form must be set"));
		return -1;
	}
	char *answers = json_text(r->answers, "{}"), *meta = json_text(r->meta, "{}");
	char *score = json_text(r->score, NULL), *tags = json_text(r->tags, "[]");
	int ret = -1;
	if (!answers || !meta || !tags || (r->score && !score)) {
		store_set_err(err, xstrdup("insert response: the answer cannot be encoded as JSON"));
		goto out;
	}
	sqlite3_stmt *s = stmt_get(st, ST_RESP_INSERT, op, err);
	if (!s)
		goto out;
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->form, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, r->created_ms);
	sqlite3_bind_text(s, 4, answers, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, meta, -1, SQLITE_STATIC);
	if (score)
		sqlite3_bind_text(s, 6, score, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, tags, -1, SQLITE_STATIC);
	if (client)
		sqlite3_bind_text(s, 8, client, -1, SQLITE_STATIC);
	if (r->confirmed != RESPONSE_CONFIRM_NONE)
		sqlite3_bind_int(s, 9, r->confirmed == RESPONSE_CONFIRM_DONE);
	ret = stmt_run(st, s, op, err);
	if (ret == 0) {
		r->seq = sqlite3_last_insert_rowid(st->db);
		/* The fold will want these facts soon: made from the trees now, they spare it parsing the
		 * texts back. */
		if (!st->fresh)
			st->fresh = fresh_facts_new();
		answer_facts facts;
		answer_facts_compute(r->answers, r->meta, r->score, r->tags, &facts);
		stored_texts texts = { answers, meta, score, tags };
		fresh_facts_add(st->fresh, r->seq, &texts, &facts);
		answers = meta = score = tags = NULL;
	}
out:
	free(answers);
	free(meta);
	free(score);
	free(tags);
	return ret;
}

/* Counts the responses of form into *n. 0 or -1 with *err. */
int sqlite_response_count(store *st, const char *form, int64_t *n, char **err)
{
	const char *op = "count responses";
	sqlite3_stmt *s = stmt_get(st, ST_RESP_COUNT, op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, form, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	else
		ret = store_fail(st, op, err);
	stmt_done(s);
	return ret;
}

/* Binds form and the [since, until) window as ?1..?3 (an inclusive upper bound; STORE_TIME_MAX
 * means no bound at all). */
static void bind_range(sqlite3_stmt *s, const char *form, int64_t since, int64_t until)
{
	int64_t lo = since, hi;
	if (until == STORE_TIME_MAX) {
		hi = INT64_MAX;
	} else if (until == STORE_TIME_MIN) {
		lo = 1; /* nothing is before the earliest time */
		hi = 0;
	} else {
		hi = until - 1;
	}
	sqlite3_bind_text(s, 1, form, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, lo);
	sqlite3_bind_int64(s, 3, hi);
}

/* Parses JSON column col of s into *out (NULL for SQL NULL when nullable). Returns 0, or -1 with
 * *err naming the column and row. */
static int column_json(sqlite3_stmt *s, int col, bool nullable, json_t **out, char **err)
{
	*out = NULL;
	if (sqlite3_column_type(s, col) == SQLITE_NULL && nullable)
		return 0;
	const char *text = (const char *)sqlite3_column_text(s, col);
	size_t len = (size_t)sqlite3_column_bytes(s, col);
	json_error_t jerr;
	*out = text ? json_loadb(text, len, JSON_ALLOW_NUL, &jerr) : NULL;
	if (!*out) {
		store_set_err(err, xasprintf("read response: stored %s of row %lld is not valid JSON",
		                       sqlite3_column_name(s, col), (long long)sqlite3_column_int64(s, 0)));
		return -1;
	}
	return 0;
}

/* Copies text column col of s into a fixed-size field. Returns 0, or -1 with *err when it does not
 * fit. */
static int column_field(sqlite3_stmt *s, int col, char *dst, size_t size, char **err)
{
	const unsigned char *text = sqlite3_column_text(s, col);
	size_t len = (size_t)sqlite3_column_bytes(s, col);
	if (!text || len >= size) {
		store_set_err(err, xasprintf("read response: stored %s of row %lld is missing or too long",
		                       sqlite3_column_name(s, col), (long long)sqlite3_column_int64(s, 0)));
		return -1;
	}
	memcpy(dst, text, len);
	dst[len] = '\0';
	return 0;
}

/* The RESPONSE_CONFIRM_* of column col (NULL: the form asks no confirmation). */
static int confirm_state(sqlite3_stmt *s, int col)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return RESPONSE_CONFIRM_NONE;
	return sqlite3_column_int(s, col) ? RESPONSE_CONFIRM_DONE : RESPONSE_CONFIRM_PENDING;
}

/* Fills *r from the current row of a RESPONSE_COLUMNS query. Returns 0, or -1 with *err (r is then
 * left cleared). */
static int row_to_record(sqlite3_stmt *s, response_record *r, char **err)
{
	memset(r, 0, sizeof *r);
	r->seq = sqlite3_column_int64(s, 0);
	r->created_ms = sqlite3_column_int64(s, 3);
	if (column_field(s, 1, r->id, sizeof r->id, err) != 0 ||
	    column_field(s, 2, r->form, sizeof r->form, err) != 0 ||
	    column_json(s, 4, false, &r->answers, err) != 0 || column_json(s, 5, false, &r->meta, err) != 0 ||
	    column_json(s, 6, true, &r->score, err) != 0 || column_json(s, 7, false, &r->tags, err) != 0) {
		response_record_clear(r);
		return -1;
	}
	r->confirmed = confirm_state(s, 8);
	return 0;
}

/* row_to_record and response_record_clear for store_collect_rows. */
static int response_row(sqlite3_stmt *s, void *rec, char **err)
{
	return row_to_record(s, rec, err);
}

static void response_clear(void *rec)
{
	response_record_clear(rec);
}

/* One page of responses in seq order; *out is malloc'd (always, even when empty) and owned by the
 * caller along with each record. 0, or -1 with *err and nothing returned. */
int sqlite_response_list(store *st, const char *form, int64_t since, int64_t until, int64_t after_seq,
                        int limit, response_record **out, size_t *n, bool *more, char **err)
{
	const char *op = "list responses";
	*out = NULL;
	*n = 0;
	*more = false;
	if (limit < 0) {
		store_set_err(err, xstrdup("list responses: the limit must not be negative"));
		return -1;
	}
	sqlite3_stmt *s = stmt_get(st, ST_RESP_LIST, op, err);
	if (!s)
		return -1;
	bind_range(s, form, since, until);
	sqlite3_bind_int64(s, 4, after_seq);
	sqlite3_bind_int64(s, 5, (int64_t)limit + 1); /* one more than asked tells whether more exist */
	*out = store_collect_rows(st, s, limit, sizeof **out, response_row, response_clear, op, n, more, err);
	stmt_done(s);
	return *out ? 0 : -1;
}

/* Ends a read transaction the cursor began (a read-only COMMIT cannot lose anything). */
static void cursor_end_txn(store_cursor *cur)
{
	if (cur->own_txn && !sqlite3_get_autocommit(cur->st->db) &&
	    sqlite3_exec(cur->st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite_rollback(cur->st);
	cur->own_txn = false;
}

/* Opens a streaming cursor on one read snapshot (taken now). 0 with *out (caller closes), or -1. */
int sqlite_cursor_open(store *st, const char *form, int64_t since, int64_t until, store_cursor **out,
                      char **err)
{
	*out = NULL;
	bool all = since <= STORE_TIME_MIN && until >= STORE_TIME_MAX;
	sqlite3_stmt *s = store_prepare(st, all ? cursor_all_sql : cursor_sql, "read responses", err);
	if (!s)
		return -1;
	bind_range(s, form, since, until);
	return store_cursor_open_stmt(st, s, out, err);
}

/* The cursor over a prepared and bound statement (owned from here on). 0 with *out, or -1. */
int store_cursor_open_stmt(store *st, sqlite3_stmt *s, store_cursor **out, char **err)
{
	const char *op = "read responses";
	*out = NULL;
	store_cursor *cur = xcalloc(1, sizeof *cur);
	cur->ops = st->ops;
	cur->st = st;
	cur->stmt = s;
	if (sqlite3_get_autocommit(st->db)) {
		if (exec_sql(st, "BEGIN", op, err) != 0)
			goto fail;
		cur->own_txn = true;
	}
	/* The first step fixes the snapshot now, not at the caller's first read. */
	int rc = sqlite3_step(cur->stmt);
	if (rc == SQLITE_ROW) {
		cur->primed = true;
	} else if (rc == SQLITE_DONE) {
		cur->done = true;
	} else {
		store_fail(st, op, err);
		goto fail;
	}
	*out = cur;
	return 0;
fail:
	sqlite_cursor_close(cur);
	return -1;
}

/* Overwrites *r with the next record (caller clears it): 1, 0 at the end, -1 with *err. */
int sqlite_cursor_next(store_cursor *cur, response_record *r, char **err)
{
	memset(r, 0, sizeof *r);
	if (cur->done)
		return 0;
	int rc = SQLITE_ROW;
	if (cur->primed)
		cur->primed = false;
	else
		rc = sqlite3_step(cur->stmt);
	if (rc == SQLITE_DONE) {
		cur->done = true;
		return 0;
	}
	if (rc != SQLITE_ROW) {
		cur->done = true;
		return store_fail(cur->st, "read responses", err);
	}
	return row_to_record(cur->stmt, r, err) == 0 ? 1 : -1;
}

/* Steps the cursor: SQLITE_ROW, SQLITE_DONE, or an error code (cursor done either way at the end). */
static int cursor_step(store_cursor *cur)
{
	if (cur->done)
		return SQLITE_DONE;
	int rc = SQLITE_ROW;
	if (cur->primed)
		cur->primed = false;
	else
		rc = sqlite3_step(cur->stmt);
	if (rc != SQLITE_ROW)
		cur->done = true;
	return rc;
}

/* Points *r at the texts of the next row (borrowed): 1, 0 at the end, -1 with *err. */
int sqlite_cursor_next_raw(store_cursor *cur, response_raw *r, char **err)
{
	memset(r, 0, sizeof *r);
	int rc = cursor_step(cur);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_fail(cur->st, "read responses", err);
	sqlite3_stmt *s = cur->stmt;
	r->id = (const char *)sqlite3_column_text(s, 1);
	r->form = (const char *)sqlite3_column_text(s, 2);
	r->created_ms = sqlite3_column_int64(s, 3);
	r->answers = (const char *)sqlite3_column_text(s, 4);
	r->answers_len = (size_t)sqlite3_column_bytes(s, 4);
	r->meta = (const char *)sqlite3_column_text(s, 5);
	r->meta_len = (size_t)sqlite3_column_bytes(s, 5);
	r->score = (const char *)sqlite3_column_text(s, 6);
	r->score_len = (size_t)sqlite3_column_bytes(s, 6);
	r->tags = (const char *)sqlite3_column_text(s, 7);
	r->tags_len = (size_t)sqlite3_column_bytes(s, 7);
	r->confirmed = confirm_state(s, 8);
	if (!r->id || !r->form || !r->answers || !r->meta || !r->tags) {
		store_set_err(err, xasprintf("read response: row %lld has a missing column",
		                             (long long)sqlite3_column_int64(s, 0)));
		return -1;
	}
	return 1;
}

/* Frees the cursor and ends the read transaction it began. */
void sqlite_cursor_close(store_cursor *cur)
{
	if (!cur)
		return;
	sqlite3_finalize(cur->stmt);
	cursor_end_txn(cur);
	free(cur);
}

/* The cached statement id (ST_KV_GET or ST_KV_PUT) with plugin and key bound as ?1 and ?2, or NULL
 * with *err naming op. Borrowed: give it back with stmt_done or stmt_run. */
static sqlite3_stmt *kv_stmt(store *st, enum stmt_id id, const char *plugin, const char *key, const char *op,
                             char **err)
{
	sqlite3_stmt *s = stmt_get(st, id, op, err);
	if (s) {
		sqlite3_bind_text(s, 1, plugin, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	}
	return s;
}

/* Reads plugin/key: 1 with *value (malloc'd, NUL-terminated, caller frees) and *len, 0, or -1. */
int sqlite_kv_get(store *st, const char *plugin, const char *key, char **value, size_t *len, char **err)
{
	const char *op = "read plugin value";
	sqlite3_stmt *s = kv_stmt(st, ST_KV_GET, plugin, key, op, err);
	if (!s)
		return -1;
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW) {
		/* An integer written by kv_incr reads back as its decimal text. */
		const void *blob = sqlite3_column_blob(s, 0);
		size_t n = (size_t)sqlite3_column_bytes(s, 0);
		char *copy = xmalloc(n + 1);
		if (n)
			memcpy(copy, blob, n);
		copy[n] = '\0';
		*value = copy;
		*len = n;
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = store_fail(st, op, err);
	}
	stmt_done(s);
	return ret;
}

/* Creates or replaces plugin/key with len bytes of value. 0 or -1 with *err. */
int sqlite_kv_put(store *st, const char *plugin, const char *key, const void *value, size_t len,
                 char **err)
{
	const char *op = "store plugin value";
	sqlite3_stmt *s = kv_stmt(st, ST_KV_PUT, plugin, key, op, err);
	if (!s)
		return -1;
	/* A zero-length value is stored as an empty blob, never as NULL. */
	if (sqlite3_bind_blob64(s, 3, len ? value : "", len, SQLITE_STATIC) != SQLITE_OK) {
		store_fail(st, op, err);
		stmt_done(s);
		return -1;
	}
	return stmt_run(st, s, op, err);
}

/* Parses a stored kv value as a whole decimal integer. Returns 0, or -1 when it is not one. */
static int parse_int_value(const void *data, size_t len, int64_t *out)
{
	char buf[32];
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, data, len);
	buf[len] = '\0';
	if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0' || end == buf)
		return -1;
	*out = v;
	return 0;
}

/* Reads the integer held by plugin/key into *cur (0 when absent). Returns 0, or -1 with *err. */
static int kv_read_int(store *st, const char *plugin, const char *key, int64_t *cur, char **err)
{
	const char *op = "increment plugin value";
	sqlite3_stmt *s = kv_stmt(st, ST_KV_GET, plugin, key, op, err);
	if (!s)
		return -1;
	int rc = sqlite3_step(s), ret = 0;
	*cur = 0;
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) == SQLITE_INTEGER) {
			*cur = sqlite3_column_int64(s, 0);
		} else {
			const void *blob = sqlite3_column_blob(s, 0);
			size_t n = (size_t)sqlite3_column_bytes(s, 0);
			if (parse_int_value(blob, n, cur) != 0) {
				store_set_err(err, xasprintf("%s: %s/%s does not hold an integer", op, plugin, key));
				ret = -1;
			}
		}
	} else if (rc != SQLITE_DONE) {
		ret = store_fail(st, op, err);
	}
	stmt_done(s);
	return ret;
}

/* Adds delta to the integer held by plugin/key (absent = 0; decimal text accepted) and stores
 * the result as an integer. 0 with *result, or -1 with *err (not an integer, overflow, SQL). */
int sqlite_kv_incr(store *st, const char *plugin, const char *key, int64_t delta, int64_t *result,
                  char **err)
{
	const char *op = "increment plugin value";
	int64_t cur;
	if (kv_read_int(st, plugin, key, &cur, err) != 0)
		return -1;
	if ((delta > 0 && cur > INT64_MAX - delta) || (delta < 0 && cur < INT64_MIN - delta)) {
		store_set_err(err, xasprintf("%s: %s/%s would overflow", op, plugin, key));
		return -1;
	}
	int64_t next = cur + delta;
	sqlite3_stmt *s = kv_stmt(st, ST_KV_PUT, plugin, key, op, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 3, next);
	if (stmt_run(st, s, op, err) != 0)
		return -1;
	*result = next;
	return 0;
}

/* Removes the first entry of plugin whose key starts with prefix (one writer: no other transaction
 * can hold it). 1 with *key, *value (malloc'd, caller frees) and *len, 0 when none, -1 with *err. */
int sqlite_kv_take(store *st, const char *plugin, const char *prefix, char **key, char **value, size_t *len,
                   char **err)
{
	const char *op = "take plugin value";
	sqlite3_stmt *s = kv_stmt(st, ST_KV_TAKE, plugin, prefix, op, err);
	if (!s)
		return -1;
	int rc = sqlite3_step(s), ret = 0;
	if (rc == SQLITE_ROW) {
		*key = xstrdup((const char *)sqlite3_column_text(s, 0));
		const void *blob = sqlite3_column_blob(s, 1);
		size_t n = (size_t)sqlite3_column_bytes(s, 1);
		char *copy = xmalloc(n + 1);
		if (n)
			memcpy(copy, blob, n);
		copy[n] = '\0';
		*value = copy;
		*len = n;
		ret = 1;
		rc = sqlite3_step(s); /* runs the DELETE to its end */
	}
	if (rc != SQLITE_DONE) {
		if (ret == 1) {
			free(*key);
			free(*value);
			*key = *value = NULL;
		}
		ret = store_fail(st, op, err);
	}
	stmt_done(s);
	return ret;
}

/* One writer, no other transaction to conflict with. */
bool sqlite_conflicted(store *st)
{
	(void)st;
	return false;
}

/* SQLite runs in the process: no round trips. */
int64_t sqlite_round_trips(store *st)
{
	(void)st;
	return 0;
}

/* Deletes one chunk with purge statement id, in its own transaction when the caller holds none.
 * Sets *changed to the rows deleted. Returns 0, or -1 with *err. */
static int purge_chunk(store *st, enum stmt_id id, int64_t cutoff_ms, int *changed, char **err)
{
	const char *op = "purge old responses";
	bool own = sqlite3_get_autocommit(st->db) != 0;
	if (own && sqlite_begin(st, err) != 0)
		return -1;
	sqlite3_stmt *s = stmt_get(st, id, op, err);
	if (!s)
		goto fail;
	sqlite3_bind_int64(s, 1, cutoff_ms);
	sqlite3_bind_int(s, 2, PURGE_CHUNK);
	if (stmt_run(st, s, op, err) != 0)
		goto fail;
	*changed = sqlite3_changes(st->db);
	if (own && sqlite_commit(st, err) != 0)
		goto fail;
	return 0;
fail:
	if (own)
		sqlite_rollback(st);
	return -1;
}

/* Runs purge statement id chunk by chunk until nothing older than cutoff_ms is left, adding the
 * rows deleted to *deleted. Returns 0, or -1 with *err. */
static int purge_all(store *st, enum stmt_id id, int64_t cutoff_ms, int64_t *deleted, char **err)
{
	int changed;
	do {
		if (purge_chunk(st, id, cutoff_ms, &changed, err) != 0)
			return -1;
		*deleted += changed;
	} while (changed == PURGE_CHUNK);
	return 0;
}

/* Deletes responses and idempotency keys created before cutoff_ms, and the view counts of the days
 * that ended before it, in chunks (each its own transaction unless the caller holds one). *deleted
 * counts the responses. 0 or -1 with *err. */
int sqlite_purge_before(store *st, int64_t cutoff_ms, int64_t *deleted, char **err)
{
	int64_t others = 0;
	*deleted = 0;
	if (purge_all(st, ST_PURGE_RESPONSES, cutoff_ms, deleted, err) != 0 ||
	    purge_all(st, ST_PURGE_IDEMPOTENCY, cutoff_ms, &others, err) != 0)
		return -1;
	return purge_all(st, ST_PURGE_VIEWS, cutoff_ms, &others, err);
}

/* Checkpoints and truncates the WAL. A checkpoint that could not finish because a reader still uses
 * old pages is not an error: the next one catches up. */
int sqlite_checkpoint(store *st, char **err)
{
	return exec_sql(st, "PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint", err);
}

int sqlite_set_cache(store *st, int kib, char **err)
{
	char sql[48];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", kib);
	return exec_sql(st, sql, "set the page cache", err);
}

/* Copies pages from the WAL into the database without waiting for anyone (PASSIVE). */
int sqlite_checkpoint_passive(store *st, char **err)
{
	int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : store_fail(st, "checkpoint", err);
}

/* sqlite3_wal_hook adapter: hands the WAL's size in pages to the handle's callback. */
static int wal_grew(void *arg, sqlite3 *db, const char *name, int pages)
{
	(void)db;
	(void)name;
	store *st = arg;
	st->wal_fn(st->wal_arg, pages);
	return SQLITE_OK;
}

/* Replaces the automatic checkpoint after each commit by fn (NULL restores it). */
void sqlite_on_wal_commit(store *st, void (*fn)(void *arg, int wal_pages), void *arg)
{
	st->wal_fn = fn;
	st->wal_arg = arg;
	if (fn)
		sqlite3_wal_hook(st->db, wal_grew, st);
	else
		sqlite3_wal_autocheckpoint(st->db, 1000);
}

/* Reads from a real table: 0 when the database answers, -1 with *err. */
int sqlite_ping(store *st, char **err)
{
	return stmt_exec(st, ST_PING, "ping database", err);
}
