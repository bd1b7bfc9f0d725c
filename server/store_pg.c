/* store_pg: the PostgreSQL backend's connection (libpq), schema migrations under an advisory lock,
 * transactions, idempotency keys, answers, export cursors, plugin key-value data and the retention
 * purge. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazy_lib.h"
#include "store_pg_internal.h"
#include "util.h"

#define PURGE_CHUNK 500
#define CURSOR_BATCH 256 /* the FETCH count below */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

/* The schema, as forward migrations; earshot_schema holds how many ran. A migration that has shipped
 * is never edited: a later change appends an entry. JSON columns hold the compact jansson text the
 * server wrote (read back byte for byte), cast to jsonb where a query looks inside. */
static const char *const migrations[] = {
	"CREATE TABLE responses ("
	"  seq BIGSERIAL PRIMARY KEY,"
	"  id TEXT UNIQUE NOT NULL,"
	"  form TEXT NOT NULL,"
	"  created_ms BIGINT NOT NULL,"
	"  answers TEXT NOT NULL,"
	"  meta TEXT NOT NULL,"
	"  score TEXT,"
	"  tags TEXT NOT NULL DEFAULT '[]',"
	"  client TEXT,"
	"  confirmed INTEGER"
	");"
	"CREATE INDEX responses_form_created ON responses(form, created_ms, seq);"
	"CREATE INDEX responses_form_seq ON responses(form, seq);"
	"CREATE INDEX responses_created ON responses(created_ms);"
	"CREATE TABLE idempotency ("
	"  key TEXT PRIMARY KEY,"
	"  form TEXT NOT NULL,"
	"  response_id TEXT,"
	"  status INTEGER NOT NULL,"
	"  body TEXT NOT NULL,"
	"  created_ms BIGINT NOT NULL"
	");"
	"CREATE INDEX idempotency_created ON idempotency(created_ms);"
	"CREATE TABLE plugin_kv ("
	"  plugin TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value BYTEA NOT NULL,"
	"  PRIMARY KEY (plugin, key)"
	");"
	/* lease_until_ms, lease_owner: the node sending a delivery holds it until then, through its
	 * database session (lease_owner names it); an expired lease, or one whose session is gone (the
	 * node died), lets another node take the delivery over. */
	"CREATE TABLE outbox ("
	"  seq BIGSERIAL PRIMARY KEY,"
	"  id TEXT UNIQUE NOT NULL,"
	"  destination TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  plugin TEXT,"
	"  response_id TEXT,"
	"  body TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'failed', 'dead', 'delivered')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  created_ms BIGINT NOT NULL,"
	"  retry_from_ms BIGINT NOT NULL,"
	"  next_attempt_ms BIGINT NOT NULL,"
	"  last_attempt_ms BIGINT NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  delivered_ms BIGINT NOT NULL DEFAULT 0,"
	"  lease_until_ms BIGINT NOT NULL DEFAULT 0,"
	"  lease_owner TEXT"
	");"
	"CREATE INDEX outbox_due ON outbox(state, next_attempt_ms);"
	"CREATE INDEX outbox_response ON outbox(response_id);"
	"CREATE TABLE contacts ("
	"  id BIGSERIAL PRIMARY KEY,"
	"  created_ms BIGINT NOT NULL"
	");"
	"CREATE TABLE contact_keys ("
	"  kind TEXT NOT NULL CHECK (kind IN ('email', 'phone')),"
	"  key TEXT NOT NULL,"
	"  contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (kind, key)"
	");"
	"CREATE INDEX contact_keys_contact ON contact_keys(contact_id);"
	"CREATE TABLE response_contacts ("
	"  response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,"
	"  contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (response_id, contact_id)"
	");"
	"CREATE INDEX response_contacts_contact ON response_contacts(contact_id);"
	"CREATE TABLE offers ("
	"  response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  form TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  code TEXT,"
	"  PRIMARY KEY (response_id, seq)"
	");"
	"CREATE TABLE used_tokens ("
	"  nonce TEXT PRIMARY KEY,"
	"  expires_ms BIGINT NOT NULL"
	");"
	"CREATE INDEX used_tokens_expires ON used_tokens(expires_ms);"
	/* Not a foreign key to responses: plugins open the item before the answer's row is inserted in
	 * the same transaction; the trigger below removes it with its answer. */
	"CREATE TABLE inbox ("
	"  seq BIGSERIAL PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  form TEXT NOT NULL,"
	"  response_id TEXT NOT NULL UNIQUE,"
	"  contact TEXT,"
	"  rule TEXT,"
	"  priority TEXT NOT NULL DEFAULT 'normal',"
	"  created_ms BIGINT NOT NULL,"
	"  due_ms BIGINT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),"
	"  assignee TEXT,"
	"  note TEXT,"
	"  done_ms BIGINT NOT NULL DEFAULT 0,"
	"  reminded_ms BIGINT NOT NULL DEFAULT 0,"
	"  destinations TEXT NOT NULL DEFAULT '[]',"
	"  notice TEXT"
	");"
	"CREATE INDEX inbox_open_due ON inbox(state, reminded_ms, due_ms);"
	"CREATE FUNCTION earshot_inbox_follows_response() RETURNS trigger LANGUAGE plpgsql AS $$ "
	"BEGIN DELETE FROM inbox WHERE response_id = OLD.id; RETURN NULL; END $$;"
	"CREATE TRIGGER inbox_follows_response AFTER DELETE ON responses FOR EACH ROW "
	"EXECUTE FUNCTION earshot_inbox_follows_response();"
	"CREATE TABLE meta_kv ("
	"  key TEXT PRIMARY KEY,"
	"  value BYTEA"
	");"
	"CREATE TABLE pending_confirmations ("
	"  response_id TEXT PRIMARY KEY REFERENCES responses(id) ON DELETE CASCADE,"
	"  expires_ms BIGINT NOT NULL,"
	"  plugins TEXT NOT NULL DEFAULT '[]'"
	");",
	/* Counters, not rows per view: how often each form was shown per UTC day (day = ms / 86400000),
	 * wording variant ('' none) and device class ('' unknown); every node adds to them. */
	"CREATE TABLE views ("
	"  form TEXT NOT NULL,"
	"  day BIGINT NOT NULL,"
	"  variant TEXT NOT NULL,"
	"  device TEXT NOT NULL,"
	"  count BIGINT NOT NULL,"
	"  PRIMARY KEY (form, day, variant, device)"
	");",
	/* Plugin keys in byte order, whatever the database's collation: kv_take finds the first key with a
	 * prefix with one step down this index. */
	"CREATE INDEX plugin_kv_bytes ON plugin_kv (plugin, key COLLATE \"C\");",
};

#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

int pg_fail(char **err, char *msg)
{
	if (err)
		*err = msg;
	else
		free(msg);
	return -1;
}

void pg_text(pg_params *p, const char *text)
{
	p->values[p->n] = text;
	p->lengths[p->n] = 0;
	p->formats[p->n] = 0;
	p->n++;
}

void pg_text_owned(pg_params *p, char *text)
{
	p->owned[p->n] = text;
	pg_text(p, text);
}

void pg_params_free(pg_params *p)
{
	for (int i = 0; i < p->n; i++) {
		free(p->owned[i]);
		p->owned[i] = NULL;
	}
}

void pg_int(pg_params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof p->num[p->n], "%" PRId64, v);
	pg_text(p, p->num[p->n]);
}

void pg_bytes(pg_params *p, const void *data, size_t len)
{
	p->values[p->n] = len ? data : "";
	p->lengths[p->n] = (int)len;
	p->formats[p->n] = 1;
	p->n++;
}

/* The first line of libpq's message for the connection. */
static char *conn_message(PGconn *conn)
{
	const char *m = conn ? PQerrorMessage(conn) : "out of memory";
	size_t n = strcspn(m, "\n");
	return xstrndup(m, n);
}

int pg_ready(store *st, char **err)
{
	if (PQstatus(st->conn) == CONNECTION_OK)
		return 0;
	/* A new connection would run the rest of the transaction's statements each on its own. */
	if (st->in_txn)
		return pg_fail(err, xstrdup("database unavailable: the connection was lost during the transaction"));
	int64_t now = now_ms();
	if (now < st->retry_at_ms)
		return pg_fail(err, xstrdup("database unavailable: waiting to reconnect"));
	st->pending = 0;
	PQreset(st->conn);
	if (PQstatus(st->conn) == CONNECTION_OK) {
		if (PQpipelineStatus(st->conn) != PQ_PIPELINE_OFF)
			PQexitPipelineMode(st->conn);
		st->backoff_ms = 0;
		return 0;
	}
	st->backoff_ms = st->backoff_ms ? st->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (st->backoff_ms > BACKOFF_MAX_MS)
		st->backoff_ms = BACKOFF_MAX_MS;
	st->retry_at_ms = now + st->backoff_ms;
	char *m = conn_message(st->conn);
	pg_fail(err, xasprintf("database unavailable: %s", m));
	free(m);
	return -1;
}

/* Counts one wait for the server. */
static void count_trip(store *st)
{
	st->round_trips++;
	st->last_trip_ms = monotonic_ms();
}

/* Whether a failed result is a conflict with another transaction: deadlock_detected (40P01) or
 * serialization_failure (40001). */
static bool is_conflict(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	return state && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0);
}

/* "op: the server's message" for a failed result (or the connection's message without one). */
static char *failure_text(store *st, const PGresult *res, const char *op)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char *conn = m ? NULL : conn_message(st->conn);
	char *text = xasprintf("%s: %s", op ? op : "statement", m ? m : conn);
	free(conn);
	return text;
}

/* Sends sql once. */
static PGresult *send_once(store *st, const char *sql, const pg_params *p, int result_format)
{
	count_trip(st);
	/* Without parameters, sql may hold several statements (a migration). */
	if (!p)
		return PQexec(st->conn, sql);
	return PQexecParams(st->conn, sql, p->n, NULL, p->values, p->lengths, p->formats, result_format);
}

/* Queues sql in the pipeline (entering pipeline mode first when nothing is queued). 0, or -1 with *err. */
static int pipeline_send(store *st, const char *sql, const pg_params *p, int result_format, const char *op,
                         char **err)
{
	if (st->pending == 0) {
		if (pg_ready(st, err) != 0)
			return -1;
		if (PQpipelineStatus(st->conn) == PQ_PIPELINE_OFF && PQenterPipelineMode(st->conn) != 1)
			return pg_fail(err, failure_text(st, NULL, op));
	}
	int sent = p ? PQsendQueryParams(st->conn, sql, p->n, NULL, p->values, p->lengths, p->formats, result_format)
	             : PQsendQueryParams(st->conn, sql, 0, NULL, NULL, NULL, NULL, result_format);
	if (sent != 1) {
		if (PQstatus(st->conn) != CONNECTION_OK)
			st->retry_at_ms = 0;
		return pg_fail(err, failure_text(st, NULL, op));
	}
	st->pending_ops[st->pending++] = op;
	return 0;
}

/* Sends the queue with a sync point and reads every result. When last is not NULL, *last gets the
 * result of the last statement queued (caller PQclears) if every statement succeeded. 0, or -1 with
 * *err: the first failure. Leaves pipeline mode. */
static int pipeline_sync(store *st, PGresult **last, char **err)
{
	int n = st->pending;
	char *first = NULL;
	bool synced = false;
	if (last)
		*last = NULL;
	if (PQpipelineSync(st->conn) != 1) {
		first = failure_text(st, NULL, n ? st->pending_ops[0] : NULL);
	} else {
		count_trip(st);
		/* Each statement's results end with a NULL; the sync point's result comes last. */
		int idx = 0, nulls = 0;
		while (!synced) {
			PGresult *res = PQgetResult(st->conn);
			if (!res) {
				if (PQstatus(st->conn) != CONNECTION_OK || ++nulls > n + 2)
					break;
				idx++;
				continue;
			}
			ExecStatusType s = PQresultStatus(res);
			const char *op = idx < n ? st->pending_ops[idx] : NULL;
			if (s == PGRES_PIPELINE_SYNC) {
				synced = true;
			} else if (s == PGRES_FATAL_ERROR) {
				st->conflict |= is_conflict(res);
				if (!first)
					first = failure_text(st, res, op);
			} else if (last && idx == n - 1 && !first && (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)) {
				*last = res;
				continue;
			}
			PQclear(res);
		}
	}
	st->pending = 0;
	if (PQstatus(st->conn) != CONNECTION_OK || !synced || PQexitPipelineMode(st->conn) != 1) {
		if (!first)
			first = failure_text(st, NULL, "database");
		st->retry_at_ms = 0; /* try to reconnect at the next statement (after the rollback) */
	}
	if (!first)
		return 0;
	if (last && *last) {
		PQclear(*last);
		*last = NULL;
	}
	return pg_fail(err, first);
}

int pg_flush(store *st, char **err)
{
	return st->pending ? pipeline_sync(st, NULL, err) : 0;
}

PGresult *pg_exec_format(store *st, const char *sql, const pg_params *p, int result_format, const char *op,
                         char **err)
{
	if (st->pending > 0) {
		/* The queued statements go first, in the same round trip. */
		PGresult *res = NULL;
		if (pipeline_send(st, sql, p, result_format, op, err) != 0) {
			pipeline_sync(st, NULL, NULL);
			return NULL;
		}
		return pipeline_sync(st, &res, err) == 0 ? res : NULL;
	}
	if (pg_ready(st, err) != 0)
		return NULL;
	PGresult *res = send_once(st, sql, p, result_format);
	ExecStatusType s = PQresultStatus(res);
	if (s == PGRES_FATAL_ERROR && PQstatus(st->conn) != CONNECTION_OK && !st->in_txn &&
	    PQtransactionStatus(st->conn) != PQTRANS_INTRANS) {
		/* The connection broke since its last use (the server restarted): outside a transaction
		 * nothing is lost by connecting again and sending the statement once more. */
		PQclear(res);
		st->retry_at_ms = 0;
		if (pg_ready(st, err) != 0)
			return NULL;
		res = send_once(st, sql, p, result_format);
		s = PQresultStatus(res);
	}
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
		return res;
	st->conflict |= is_conflict(res);
	pg_fail(err, failure_text(st, res, op));
	PQclear(res);
	if (PQstatus(st->conn) != CONNECTION_OK)
		st->retry_at_ms = 0; /* try to reconnect at the next statement */
	return NULL;
}

PGresult *pg_exec(store *st, const char *sql, const pg_params *p, const char *op, char **err)
{
	return pg_exec_format(st, sql, p, 0, op, err);
}

int pg_run(store *st, const char *sql, const pg_params *p, const char *op, char **err)
{
	if (st->in_txn) {
		if (pipeline_send(st, sql, p, 0, op, err) != 0)
			return -1;
		return st->pending >= PG_PIPELINE_MAX ? pipeline_sync(st, NULL, err) : 0;
	}
	PGresult *res = pg_exec(st, sql, p, op, err);
	PQclear(res);
	return res ? 0 : -1;
}

int pg_query_int(store *st, const char *sql, const pg_params *p, int64_t *out, const char *op, char **err)
{
	PGresult *res = pg_exec(st, sql, p, op, err);
	if (!res)
		return -1;
	int found = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0);
	if (found)
		*out = pg_get_int(res, 0, 0);
	PQclear(res);
	return found;
}

int64_t pg_changed(PGresult *res)
{
	const char *n = PQcmdTuples(res);
	return n && *n ? strtoll(n, NULL, 10) : 0;
}

int64_t pg_get_int(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *pg_get_text(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

char *pg_dup_text(PGresult *res, int row, int col)
{
	const char *t = pg_get_text(res, row, col);
	return t ? xstrdup(t) : NULL;
}

void pg_time_bounds(int64_t since, int64_t until, int64_t *lo, int64_t *hi)
{
	*lo = since;
	*hi = until == STORE_TIME_MAX ? INT64_MAX : until - 1;
	if (until == STORE_TIME_MIN) {
		*lo = 1;
		*hi = 0;
	}
}

/* Applies the migrations this database lacks, each in its own transaction, under a cluster-wide
 * advisory lock so that nodes starting together migrate once. 0, or -1 with *err. */
static int migrate(store *st, char **err)
{
	pg_params lock = { 0 };
	pg_int(&lock, PG_LOCK_SPACE);
	pg_int(&lock, PG_LOCK_MIGRATE);
	if (pg_run(st, "SELECT pg_advisory_lock($1::int, $2::int)", &lock, "lock the schema", err) != 0)
		return -1;
	int rc = pg_run(st, "CREATE TABLE IF NOT EXISTS earshot_schema (version INTEGER NOT NULL);"
	                    "INSERT INTO earshot_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM earshot_schema)",
	                NULL, "create the schema table", err);
	int64_t version = 0;
	if (rc == 0 && pg_query_int(st, "SELECT version FROM earshot_schema", NULL, &version, "read the schema version",
	                        err) < 0)
		rc = -1;
	if (rc == 0 && version > (int64_t)N_MIGRATIONS)
		rc = pg_fail(err, xasprintf("the database's schema version is %" PRId64 ", newer than this build "
		                            "knows (%zu): upgrade earshot", version, N_MIGRATIONS));
	for (size_t i = (size_t)version; rc == 0 && i < N_MIGRATIONS; i++) {
		pg_params p = { 0 };
		pg_int(&p, (int64_t)i + 1);
		if (pg_run(st, "BEGIN", NULL, "migrate", err) != 0 ||
		    pg_run(st, migrations[i], NULL, "migrate", err) != 0 ||
		    pg_run(st, "UPDATE earshot_schema SET version = $1", &p, "migrate", err) != 0 ||
		    pg_run(st, "COMMIT", NULL, "migrate", err) != 0) {
			pg_run(st, "ROLLBACK", NULL, "migrate", NULL);
			rc = -1;
		}
	}
	pg_run(st, "SELECT pg_advisory_unlock($1::int, $2::int)", &lock, "unlock the schema", NULL);
	return rc;
}

/* A read-only opener needs the schema this build knows, migrated by a server. */
static int check_version(store *st, char **err)
{
	int64_t version = 0;
	int found = pg_query_int(st, "SELECT version FROM earshot_schema", NULL, &version, "read the schema version", NULL);
	if (found < 0 || version != (int64_t)N_MIGRATIONS)
		return pg_fail(err, xasprintf("the database's schema version is %" PRId64 ", this build needs %zu: "
		                              "run `earshot serve` once", found == 1 ? version : 0, N_MIGRATIONS));
	return 0;
}

int pg_connect(const storage_ops *ops, const char *database, durability_mode durability, bool read_only,
               store **out, char **err)
{
	*out = NULL;
	const char *why = NULL;
	if (libpq_load(&why) != 0) {
		/* The address may hold a password: it is not repeated here. */
		return pg_fail(err, xasprintf("open database: a postgresql:// database needs libpq (Debian package "
		                              "libpq5): %s", why));
	}
	const char *const keys[] = { "dbname", "connect_timeout", "application_name", NULL };
	const char *const values[] = { database, "3", "earshot", NULL };
	store *st = xcalloc(1, sizeof *st);
	st->ops = ops;
	st->read_only = read_only;
	st->conn = PQconnectdbParams(keys, values, 1);
	char *sub = NULL;
	if (PQstatus(st->conn) != CONNECTION_OK) {
		sub = conn_message(st->conn);
	} else {
		/* full: COMMIT returns once the WAL is flushed (a 201 survives a crash); normal: once it is
		 * written, flushed shortly after. */
		const char *setup = durability == DURABILITY_NORMAL
		                    ? "SET synchronous_commit = off; SET client_min_messages = warning"
		                    : "SET synchronous_commit = on; SET client_min_messages = warning";
		if (pg_run(st, setup, NULL, "configure", &sub) == 0)
			(void)(read_only ? check_version(st, &sub) : migrate(st, &sub));
		if (!sub && read_only)
			pg_run(st, "SET default_transaction_read_only = on", NULL, "configure", &sub);
	}
	if (sub) {
		/* The address may hold a password: name the database by its host and name only. */
		pg_fail(err, xasprintf("open database %s/%s: %s", PQhost(st->conn) ? PQhost(st->conn) : "?",
		                       PQdb(st->conn) ? PQdb(st->conn) : "?", sub));
		free(sub);
		pg_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void pg_close(store *st)
{
	if (!st)
		return;
	PQfinish(st->conn);
	free(st);
}

/* After this long without a round trip, or on a connection known to be broken, BEGIN goes at once: a
 * connection that broke meanwhile (the server restarted) is then found and replaced before the
 * transaction has anything to lose. Under load, BEGIN waits in the queue for the batch's first read. */
#define BEGIN_ALONE_AFTER_MS 1000

int pg_begin(store *st, char **err)
{
	st->conflict = false;
	if (st->pending == 0 && (PQstatus(st->conn) != CONNECTION_OK ||
	                         monotonic_ms() - st->last_trip_ms >= BEGIN_ALONE_AFTER_MS)) {
		if (pg_run(st, "BEGIN", NULL, "begin transaction", err) != 0)
			return -1;
		st->in_txn = true;
		return 0;
	}
	st->in_txn = true;
	if (pg_run(st, "BEGIN", NULL, "begin transaction", err) != 0) {
		pg_rollback(st);
		return -1;
	}
	return 0;
}

int pg_commit(store *st, char **err)
{
	PGresult *res = pg_exec(st, "COMMIT", NULL, "commit", err);
	st->in_txn = false;
	if (!res)
		return -1;
	/* COMMIT of a transaction that failed part-way answers ROLLBACK: nothing was stored. */
	bool rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
	PQclear(res);
	return rolled_back ? pg_fail(err, xstrdup("commit: the transaction was rolled back")) : 0;
}

void pg_rollback(store *st)
{
	pg_flush(st, NULL); /* what was queued is undone below; its results are not needed */
	st->in_txn = false;
	if (PQstatus(st->conn) == CONNECTION_OK && PQtransactionStatus(st->conn) != PQTRANS_IDLE)
		pg_run(st, "ROLLBACK", NULL, "rollback", NULL);
}

int pg_savepoint(store *st, char **err)
{
	st->conflict = false;
	return pg_run(st, "SAVEPOINT answer", NULL, "savepoint", err);
}

/* Waits for the answer's queued statements: a failure among them fails the release. */
int pg_release(store *st, char **err)
{
	PGresult *res = pg_exec(st, "RELEASE SAVEPOINT answer", NULL, "release savepoint", err);
	PQclear(res);
	return res ? 0 : -1;
}

/* Undoes the answer, locks taken since the savepoint included. The queued statements are read first:
 * one that failed would make the server skip the rollback sent after it. */
void pg_rollback_savepoint(store *st)
{
	pg_flush(st, NULL);
	pg_run(st, "ROLLBACK TO SAVEPOINT answer", NULL, "rollback to savepoint", NULL);
	pg_run(st, "RELEASE SAVEPOINT answer", NULL, "release savepoint", NULL);
}

bool pg_conflicted(store *st)
{
	return st->conflict;
}

int64_t pg_round_trips(store *st)
{
	return st->round_trips;
}

int pg_idempotency_find(store *st, const char *key, int *status, char **body, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, key);
	PGresult *res = pg_exec(st, "SELECT status, body FROM idempotency WHERE key = $1", &p, "find idempotency key",
	                        err);
	if (!res)
		return -1;
	int found = PQntuples(res) > 0;
	if (found) {
		*status = (int)pg_get_int(res, 0, 0);
		*body = xstrdup(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return found;
}

/* A key another node stored meanwhile waits for that node's transaction (the primary key), then
 * conflicts: this answer is refused and its client, retrying, gets the stored reply. */
int pg_idempotency_put(store *st, const char *key, const char *form, const char *response_id, int status,
                       const char *body, int64_t created_ms, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, key);
	pg_text(&p, form);
	pg_text(&p, response_id);
	pg_int(&p, status);
	pg_text(&p, body);
	pg_int(&p, created_ms);
	/* In the writer's transaction the insert goes with the answer's other writes: a key stored
	 * meanwhile fails it at the answer's release, which refuses the answer just the same. */
	if (st->in_txn)
		return pg_run(st, "INSERT INTO idempotency (key, form, response_id, status, body, created_ms) "
		                  "VALUES ($1, $2, $3, $4, $5, $6)", &p, "store idempotency key", err);
	PGresult *res = pg_exec(st, "INSERT INTO idempotency (key, form, response_id, status, body, created_ms) "
	                            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING",
	                        &p, "store idempotency key", err);
	if (!res)
		return -1;
	int64_t n = pg_changed(res);
	PQclear(res);
	return n == 1 ? 0 : pg_fail(err, xstrdup("store idempotency key: stored meanwhile by another request"));
}

/* A compact JSON text of j (malloc'd), fallback's copy when j is NULL, or NULL when it cannot be
 * encoded. */
static char *json_text(const json_t *j, const char *fallback)
{
	if (!j)
		return fallback ? xstrdup(fallback) : NULL;
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

int pg_response_insert(store *st, response_record *r, const char *client, char **err)
{
	if (!r->id[0] || !memchr(r->id, '\0', sizeof r->id) || !r->form[0] || !memchr(r->form, '\0', sizeof r->form))
		return pg_fail(err, xstrdup("insert response: the id and form must be set"));
	char *answers = json_text(r->answers, "{}"), *meta = json_text(r->meta, "{}");
	char *score = json_text(r->score, NULL), *tags = json_text(r->tags, "[]");
	int ret = -1;
	if (!answers || !meta || !tags || (r->score && !score)) {
		pg_fail(err, xstrdup("insert response: the answer cannot be encoded as JSON"));
		goto out;
	}
	pg_params p = { 0 };
	pg_text(&p, r->id);
	pg_text(&p, r->form);
	pg_int(&p, r->created_ms);
	pg_text(&p, answers);
	pg_text(&p, meta);
	pg_text(&p, score);
	pg_text(&p, tags);
	pg_text(&p, client);
	if (r->confirmed != RESPONSE_CONFIRM_NONE)
		pg_int(&p, r->confirmed == RESPONSE_CONFIRM_DONE);
	else
		pg_text(&p, NULL);
	int64_t seq = 0;
	if (st->in_txn) {
		/* Queued with the answer's other writes; its number is not waited for (r->seq stays 0). */
		r->seq = 0;
		ret = pg_run(st, "INSERT INTO responses (id, form, created_ms, answers, meta, score, tags, client, confirmed) "
		                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", &p, "insert response", err);
		goto out;
	}
	if (pg_query_int(st, "INSERT INTO responses (id, form, created_ms, answers, meta, score, tags, client, confirmed) "
	                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq",
	             &p, &seq, "insert response", err) == 1) {
		r->seq = seq;
		ret = 0;
	}
out:
	free(answers);
	free(meta);
	free(score);
	free(tags);
	return ret;
}

int pg_response_count(store *st, const char *form, int64_t *n, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, form);
	return pg_query_int(st, "SELECT count(*) FROM responses WHERE form = $1", &p, n, "count responses", err) < 0 ? -1 : 0;
}

/* Parses column col as JSON into *out (NULL for SQL NULL when nullable). 0, or -1 with *err. */
static int column_json(PGresult *res, int row, int col, bool nullable, json_t **out, char **err)
{
	*out = NULL;
	if (PQgetisnull(res, row, col) && nullable)
		return 0;
	*out = json_loadb(PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col), JSON_ALLOW_NUL, NULL);
	if (!*out)
		return pg_fail(err, xasprintf("read response: stored %s of row %s is not valid JSON", PQfname(res, col),
		                              PQgetvalue(res, row, 0)));
	return 0;
}

static int confirm_state(PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return RESPONSE_CONFIRM_NONE;
	return pg_get_int(res, row, col) ? RESPONSE_CONFIRM_DONE : RESPONSE_CONFIRM_PENDING;
}

int pg_row_to_record(PGresult *res, int row, response_record *r, char **err)
{
	memset(r, 0, sizeof *r);
	r->seq = pg_get_int(res, row, 0);
	r->created_ms = pg_get_int(res, row, 3);
	const char *id = PQgetvalue(res, row, 1), *form = PQgetvalue(res, row, 2);
	if (strlen(id) >= sizeof r->id || strlen(form) >= sizeof r->form)
		return pg_fail(err, xasprintf("read response: the id or form of row %" PRId64 " is too long", r->seq));
	strcpy(r->id, id);
	strcpy(r->form, form);
	if (column_json(res, row, 4, false, &r->answers, err) != 0 || column_json(res, row, 5, false, &r->meta, err) != 0 ||
	    column_json(res, row, 6, true, &r->score, err) != 0 || column_json(res, row, 7, false, &r->tags, err) != 0) {
		response_record_clear(r);
		return -1;
	}
	r->confirmed = confirm_state(res, row, 8);
	return 0;
}

/* Reads every row of res into a new array (*out, *n); *more when more than limit. 0 or -1. */
static int collect_records(PGresult *res, int limit, response_record **out, size_t *n, bool *more, char **err)
{
	int rows = PQntuples(res);
	*more = rows > limit;
	if (*more)
		rows = limit;
	*out = xcalloc((size_t)rows + 1, sizeof **out);
	*n = 0;
	for (int i = 0; i < rows; i++) {
		if (pg_row_to_record(res, i, &(*out)[i], err) != 0) {
			for (size_t j = 0; j < *n; j++)
				response_record_clear(&(*out)[j]);
			free(*out);
			*out = NULL;
			*n = 0;
			*more = false;
			return -1;
		}
		(*n)++;
	}
	return 0;
}

int pg_response_list(store *st, const char *form, int64_t since, int64_t until, int64_t after_seq, int limit,
                     response_record **out, size_t *n, bool *more, char **err)
{
	*out = NULL;
	*n = 0;
	*more = false;
	int64_t lo, hi;
	pg_time_bounds(since, until, &lo, &hi);
	pg_params p = { 0 };
	pg_text(&p, form);
	pg_int(&p, lo);
	pg_int(&p, hi);
	pg_int(&p, after_seq);
	pg_int(&p, (int64_t)limit + 1);
	PGresult *res = pg_exec(st, "SELECT " PG_RESPONSE_COLUMNS " FROM responses r WHERE r.form = $1 AND "
	                            "r.created_ms >= $2 AND r.created_ms <= $3 AND r.seq > $4 ORDER BY r.seq LIMIT $5",
	                        &p, "list responses", err);
	if (!res)
		return -1;
	int rc = collect_records(res, limit, out, n, more, err);
	PQclear(res);
	return rc;
}

/* A server-side cursor (DECLARE … NO SCROLL) inside a read transaction, fetched CURSOR_BATCH rows at a
 * time so an export holds one batch in memory. */
struct store_cursor {
	const storage_ops *ops;
	store *st;
	PGresult *batch;   /* owned: the rows fetched last */
	int next;          /* the next row of batch to hand out */
	bool own_txn;
	bool done;
};

int pg_cursor_open_sql(store *st, const char *sql, const pg_params *p, store_cursor **out, char **err)
{
	*out = NULL;
	store_cursor *cur = xcalloc(1, sizeof *cur);
	cur->ops = st->ops;
	cur->st = st;
	if (!st->in_txn) {
		if (pg_run(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, "read responses", err) != 0) {
			free(cur);
			return -1;
		}
		cur->own_txn = true;
		st->in_txn = true;
	}
	char *declare = xasprintf("DECLARE earshot_export NO SCROLL CURSOR FOR %s", sql);
	int rc = pg_run(st, declare, p, "read responses", err);
	free(declare);
	if (rc != 0) {
		pg_cursor_close(cur);
		return -1;
	}
	*out = cur;
	return 0;
}

int pg_cursor_open(store *st, const char *form, int64_t since, int64_t until, store_cursor **out, char **err)
{
	int64_t lo, hi;
	pg_time_bounds(since, until, &lo, &hi);
	pg_params p = { 0 };
	pg_text(&p, form);
	pg_int(&p, lo);
	pg_int(&p, hi);
	return pg_cursor_open_sql(st, "SELECT " PG_RESPONSE_COLUMNS " FROM responses r WHERE r.form = $1 AND "
	                              "r.created_ms >= $2 AND r.created_ms <= $3 ORDER BY r.seq", &p, out, err);
}

/* Moves to the next row: 1 with the row at cur->batch / cur->next - 1, 0 at the end, -1 with *err. */
static int cursor_step(store_cursor *cur, char **err)
{
	if (cur->batch && cur->next < PQntuples(cur->batch)) {
		cur->next++;
		return 1;
	}
	if (cur->done)
		return 0;
	PQclear(cur->batch);
	cur->batch = pg_exec(cur->st, "FETCH 256 FROM earshot_export", NULL, "read responses",
	                     err);
	cur->next = 0;
	if (!cur->batch) {
		cur->done = true;
		return -1;
	}
	if (PQntuples(cur->batch) < CURSOR_BATCH)
		cur->done = true;
	if (PQntuples(cur->batch) == 0)
		return 0;
	cur->next = 1;
	return 1;
}

int pg_cursor_next(store_cursor *cur, response_record *r, char **err)
{
	memset(r, 0, sizeof *r);
	int rc = cursor_step(cur, err);
	if (rc != 1)
		return rc;
	return pg_row_to_record(cur->batch, cur->next - 1, r, err) == 0 ? 1 : -1;
}

int pg_cursor_next_raw(store_cursor *cur, response_raw *r, char **err)
{
	memset(r, 0, sizeof *r);
	int rc = cursor_step(cur, err);
	if (rc != 1)
		return rc;
	PGresult *b = cur->batch;
	int i = cur->next - 1;
	r->id = PQgetvalue(b, i, 1);
	r->form = PQgetvalue(b, i, 2);
	r->created_ms = pg_get_int(b, i, 3);
	r->answers = PQgetvalue(b, i, 4);
	r->answers_len = (size_t)PQgetlength(b, i, 4);
	r->meta = PQgetvalue(b, i, 5);
	r->meta_len = (size_t)PQgetlength(b, i, 5);
	r->score = pg_get_text(b, i, 6);
	r->score_len = r->score ? (size_t)PQgetlength(b, i, 6) : 0;
	r->tags = PQgetvalue(b, i, 7);
	r->tags_len = (size_t)PQgetlength(b, i, 7);
	r->confirmed = confirm_state(b, i, 8);
	return 1;
}

void pg_cursor_close(store_cursor *cur)
{
	if (!cur)
		return;
	PQclear(cur->batch);
	if (cur->own_txn)
		pg_rollback(cur->st); /* a read: nothing to keep, and the cursor goes with it */
	else
		pg_run(cur->st, "CLOSE earshot_export", NULL, "close cursor", NULL);
	free(cur);
}

int pg_lock_key(store *st, bool shared, const char *kind, const char *a, const char *b, char **err)
{
	if (!st->in_txn)
		return 0;
	pg_params p = { 0 };
	/* One 64-bit lock per name (the one-argument form: apart from the two-int locks above). Two
	 * names with the same hash only wait for each other. */
	pg_text_owned(&p, xasprintf("%s\n%s\n%s", kind, a, b));
	int rc = pg_run(st, shared ? "SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))"
	                           : "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
	                &p, "lock", err);
	pg_params_free(&p);
	return rc;
}

/* Column col of the first row of res (a binary value) as a malloc'd NUL-terminated copy (caller
 * frees); its length without the NUL goes to *len. */
static char *value_copy(const PGresult *res, int col, size_t *len)
{
	size_t n = (size_t)PQgetlength(res, 0, col);
	char *copy = xmalloc(n + 1);
	memcpy(copy, PQgetvalue(res, 0, col), n);
	copy[n] = '\0';
	*len = n;
	return copy;
}

/* Reads plugin/key without locking it. 1 with *value and *len (malloc'd), 0, or -1 with *err. */
static int kv_read(store *st, const char *plugin, const char *key, char **value, size_t *len, const char *op,
                   char **err)
{
	pg_params p = { 0 };
	pg_text(&p, plugin);
	pg_text(&p, key);
	/* The value comes back in binary (bytea as its bytes). */
	PGresult *res = pg_exec_format(st, "SELECT value FROM plugin_kv WHERE plugin = $1 AND key = $2", &p, 1, op, err);
	if (!res)
		return -1;
	int found = PQntuples(res) > 0;
	if (found)
		*value = value_copy(res, 0, len);
	PQclear(res);
	return found;
}

/* Writes plugin/key without locking it. */
static int kv_write(store *st, const char *plugin, const char *key, const void *value, size_t len, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, plugin);
	pg_text(&p, key);
	pg_bytes(&p, value, len);
	return pg_run(st, "INSERT INTO plugin_kv (plugin, key, value) VALUES ($1, $2, $3) "
	                  "ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value",
	              &p, "store plugin value", err);
}

/* A read shares the key's lock with other readers; a write waits for them (and they for it). */
int pg_kv_get(store *st, const char *plugin, const char *key, char **value, size_t *len, char **err)
{
	if (pg_lock_key(st, true, "kv", plugin, key, err) != 0)
		return -1;
	return kv_read(st, plugin, key, value, len, "read plugin value", err);
}

int pg_kv_put(store *st, const char *plugin, const char *key, const void *value, size_t len, char **err)
{
	if (pg_lock_key(st, false, "kv", plugin, key, err) != 0)
		return -1;
	return kv_write(st, plugin, key, value, len, err);
}

/* Locks the key for writing before reading it: two nodes incrementing one counter take turns instead
 * of both reading under a shared lock and deadlocking on the write. */
int pg_kv_incr(store *st, const char *plugin, const char *key, int64_t delta, int64_t *result, char **err)
{
	const char *op = "increment plugin value";
	char *text = NULL;
	size_t len = 0;
	if (pg_lock_key(st, false, "kv", plugin, key, err) != 0)
		return -1;
	int found = kv_read(st, plugin, key, &text, &len, op, err);
	if (found < 0)
		return -1;
	int64_t cur = 0;
	if (found) {
		char *end;
		errno = 0;
		long long v = strtoll(text, &end, 10);
		bool ok = len > 0 && len < 32 && (text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) && errno == 0 &&
		          *end == '\0';
		free(text);
		if (!ok)
			return pg_fail(err, xasprintf("%s: %s/%s does not hold an integer", op, plugin, key));
		cur = v;
	}
	if ((delta > 0 && cur > INT64_MAX - delta) || (delta < 0 && cur < INT64_MIN - delta))
		return pg_fail(err, xasprintf("%s: %s/%s would overflow", op, plugin, key));
	char next[32];
	int n = snprintf(next, sizeof next, "%" PRId64, cur + delta);
	if (kv_write(st, plugin, key, next, (size_t)n, err) != 0)
		return -1;
	*result = cur + delta;
	return 0;
}

/* The least text above every text starting with prefix in byte order (malloc'd), or NULL when there is
 * no simple one (the prefix is empty or ends in a byte that is not printable ASCII). */
static char *prefix_bound(const char *prefix)
{
	size_t n = strlen(prefix);
	if (n == 0 || (unsigned char)prefix[n - 1] < 0x20 || (unsigned char)prefix[n - 1] >= 0x7e)
		return NULL;
	char *bound = xstrdup(prefix);
	bound[n - 1]++;
	return bound;
}

/* The entry is locked by the subquery, and one locked by another transaction is skipped, never
 * waited for. The keys compare in byte order (COLLATE "C", the index of migration 3). */
int pg_kv_take(store *st, const char *plugin, const char *prefix, char **key, char **value, size_t *len, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, plugin);
	pg_text(&p, prefix);
	char *bound = prefix_bound(prefix);
	if (bound)
		pg_text_owned(&p, bound);
	char *sql = xasprintf("DELETE FROM plugin_kv WHERE plugin = $1 AND key = (SELECT key FROM plugin_kv WHERE "
	                      "plugin = $1 AND key COLLATE \"C\" >= $2 %s AND starts_with(key, $2) ORDER BY key COLLATE "
	                      "\"C\" LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING key, value",
	                      bound ? "AND key COLLATE \"C\" < $3" : "");
	PGresult *res = pg_exec_format(st, sql, &p, 1, "take plugin value", err);
	free(sql);
	pg_params_free(&p);
	if (!res)
		return -1;
	int found = PQntuples(res) > 0;
	if (found) {
		*key = xstrndup(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
		*value = value_copy(res, 1, len);
	}
	PQclear(res);
	return found;
}

/* Deletes from one table in chunks, each in its own transaction. */
static int purge_table(store *st, const char *sql, int64_t cutoff_ms, int64_t *deleted, char **err)
{
	for (;;) {
		pg_params p = { 0 };
		pg_int(&p, cutoff_ms);
		pg_int(&p, PURGE_CHUNK);
		PGresult *res = pg_exec(st, sql, &p, "purge", err);
		if (!res)
			return -1;
		int64_t n = pg_changed(res);
		PQclear(res);
		*deleted += n;
		if (n < PURGE_CHUNK)
			return 0;
	}
}

/* Once per cluster at a time: a node that finds another node purging leaves it to that node. */
int pg_purge_before(store *st, int64_t cutoff_ms, int64_t *deleted, char **err)
{
	*deleted = 0;
	pg_params lock = { 0 };
	pg_int(&lock, PG_LOCK_SPACE);
	pg_int(&lock, PG_LOCK_PURGE);
	int64_t got = 0;
	if (pg_query_int(st, "SELECT pg_try_advisory_lock($1::int, $2::int)::int", &lock, &got, "lock the purge", err) < 0)
		return -1;
	if (!got)
		return 0;
	int64_t ignored = 0;
	int rc = purge_table(st, "DELETE FROM responses WHERE seq IN (SELECT seq FROM responses WHERE created_ms < $1 "
	                         "LIMIT $2)", cutoff_ms, deleted, err);
	if (rc == 0)
		rc = purge_table(st, "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency WHERE "
		                     "created_ms < $1 LIMIT $2)", cutoff_ms, &ignored, err);
	if (rc == 0) /* the view counts of the days that ended before the cutoff */
		rc = purge_table(st, "DELETE FROM views WHERE (form, day, variant, device) IN (SELECT form, day, variant, "
		                     "device FROM views WHERE day < $1 / 86400000 LIMIT $2)", cutoff_ms, &ignored, err);
	pg_run(st, "SELECT pg_advisory_unlock($1::int, $2::int)", &lock, "unlock the purge", NULL);
	return rc;
}

int pg_ping(store *st, char **err)
{
	return pg_run(st, "SELECT 1 FROM responses LIMIT 1", NULL, "ping", err);
}

int pg_snapshot_begin(store *st, char **err)
{
	if (st->in_txn)
		return 0;
	if (pg_run(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, "begin a read", err) != 0)
		return -1;
	st->in_txn = true;
	return 1;
}

void pg_snapshot_end(store *st, int begun)
{
	if (begun == 1)
		pg_rollback(st);
}
