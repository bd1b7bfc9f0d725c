/* store_pg_outbox: the PostgreSQL backend's outbox. Several nodes share the table: reading the due
 * rows claims them with a lease (lease_until_ms) taken with FOR UPDATE SKIP LOCKED, so one node sends
 * a delivery at a time; recording the outcome ends the lease. A node that dies mid-delivery loses its
 * database session, which ends its leases; a node that hangs holds them until they expire. Either way
 * another node takes the delivery over with the same id (at least once). */
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util.h"

#define OUTBOX_COLUMNS                                                                          \
	"seq, id, destination, type, plugin, response_id, body, state, attempts, created_ms, "  \
	"retry_from_ms, next_attempt_ms, last_attempt_ms, last_error, delivered_ms"

#define CLAIMED_COLUMNS                                                                                   \
	"o.seq, o.id, o.destination, o.type, o.plugin, o.response_id, o.body, o.state, o.attempts, o.created_ms, " \
	"o.retry_from_ms, o.next_attempt_ms, o.last_attempt_ms, o.last_error, o.delivered_ms"

/* This connection's session, as lease_owner records it: its server process and start time. */
#define SESSION(a) "(" a ".pid::text || ':' || extract(epoch FROM " a ".backend_start)::text)"
#define MY_SESSION "(SELECT " SESSION("a") " FROM pg_stat_activity a WHERE a.pid = pg_backend_pid())"

/* How long a claim lasts: longer than a batch of deliveries takes to send. EARSHOT_TEST_LEASE_MS
 * (test-only) shortens it. */
static int64_t lease_ms(void)
{
	const char *v = getenv("EARSHOT_TEST_LEASE_MS");
	long long ms = v ? atoll(v) : 0;
	return ms > 0 ? ms : 120000;
}

static int row_to_delivery(PGresult *res, int row, delivery_record *d, char **err)
{
	memset(d, 0, sizeof *d);
	d->seq = pg_get_int(res, row, 0);
	const char *id = PQgetvalue(res, row, 1);
	if (strlen(id) >= sizeof d->id || delivery_state_parse(PQgetvalue(res, row, 7), &d->state) != 0)
		return pg_fail(err, xasprintf("read delivery: row %lld is malformed", (long long)d->seq));
	strcpy(d->id, id);
	d->destination = pg_dup_text(res, row, 2);
	d->type = pg_dup_text(res, row, 3);
	d->plugin = pg_dup_text(res, row, 4);
	d->response_id = pg_dup_text(res, row, 5);
	d->body = pg_dup_text(res, row, 6);
	d->attempts = (int)pg_get_int(res, row, 8);
	d->created_ms = pg_get_int(res, row, 9);
	d->retry_from_ms = pg_get_int(res, row, 10);
	d->next_attempt_ms = pg_get_int(res, row, 11);
	d->last_attempt_ms = pg_get_int(res, row, 12);
	d->last_error = pg_dup_text(res, row, 13);
	d->delivered_ms = pg_get_int(res, row, 14);
	return 0;
}

/* Reads up to limit rows of res into a new array; *more when there are more. 0 or -1. */
static int collect(PGresult *res, int limit, delivery_record **out, size_t *n, bool *more, char **err)
{
	int rows = PQntuples(res);
	if (more)
		*more = rows > limit;
	if (rows > limit)
		rows = limit;
	*out = xcalloc((size_t)rows + 1, sizeof **out);
	*n = 0;
	for (int i = 0; i < rows; i++) {
		if (row_to_delivery(res, i, &(*out)[i], err) != 0) {
			for (size_t j = 0; j < *n; j++)
				delivery_record_clear(&(*out)[j]);
			free(*out);
			*out = NULL;
			*n = 0;
			return -1;
		}
		(*n)++;
	}
	return 0;
}

int pg_outbox_insert(store *st, const delivery_record *d, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, d->id);
	pg_text(&p, d->destination);
	pg_text(&p, d->type);
	pg_text(&p, d->plugin);
	pg_text(&p, d->response_id);
	pg_text(&p, d->body);
	pg_text(&p, delivery_state_name(d->state));
	pg_int(&p, d->attempts);
	pg_int(&p, d->created_ms);
	pg_int(&p, d->retry_from_ms);
	pg_int(&p, d->next_attempt_ms);
	pg_int(&p, d->last_attempt_ms);
	pg_text(&p, d->last_error);
	pg_int(&p, d->delivered_ms);
	return pg_run(st, "INSERT INTO outbox (id, destination, type, plugin, response_id, body, state, attempts, "
	                  "created_ms, retry_from_ms, next_attempt_ms, last_attempt_ms, last_error, delivered_ms) "
	                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
	              &p, "queue delivery", err);
}

/* Claims the due rows no other living node holds, oldest due first. */
int pg_outbox_due(store *st, int64_t now, int limit, delivery_record **out, size_t *n, char **err)
{
	*out = NULL;
	*n = 0;
	pg_params p = { 0 };
	pg_int(&p, now);
	pg_int(&p, limit);
	pg_int(&p, now + lease_ms());
	PGresult *res = pg_exec(st,
		"WITH due AS (SELECT seq FROM outbox WHERE state IN ('pending', 'failed') AND next_attempt_ms <= $1 "
		"AND (lease_until_ms <= $1 OR lease_owner IS NULL OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a "
		"WHERE " SESSION("a") " = outbox.lease_owner)) "
		"ORDER BY next_attempt_ms, seq LIMIT $2 FOR UPDATE SKIP LOCKED) "
		"UPDATE outbox o SET lease_until_ms = $3, lease_owner = " MY_SESSION " FROM due WHERE o.seq = due.seq "
		"RETURNING " CLAIMED_COLUMNS,
		&p, "claim due deliveries", err);
	if (!res)
		return -1;
	int rc = collect(res, limit, out, n, NULL, err);
	PQclear(res);
	if (rc == 0 && *n > 1) {
		/* RETURNING keeps no order: oldest due first, as the worker expects. */
		for (size_t i = 1; i < *n; i++) {
			delivery_record d = (*out)[i];
			size_t j = i;
			for (; j > 0 && ((*out)[j - 1].next_attempt_ms > d.next_attempt_ms ||
			                 ((*out)[j - 1].next_attempt_ms == d.next_attempt_ms && (*out)[j - 1].seq > d.seq));
			     j--)
				(*out)[j] = (*out)[j - 1];
			(*out)[j] = d;
		}
	}
	return rc;
}

/* The earliest time a row may be sent: its due time, or the end of another node's claim (the worker
 * looks again every idle poll anyway, so a claim whose node died is taken over within a second). */
int pg_outbox_next_due(store *st, int64_t *when_ms, char **err)
{
	return pg_query_int(st, "SELECT min(greatest(next_attempt_ms, lease_until_ms)) FROM outbox "
	                    "WHERE state IN ('pending', 'failed')", NULL, when_ms, "read next due delivery", err);
}

int pg_outbox_mark_delivered(store *st, const char *id, int attempts, int64_t now, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, id);
	pg_int(&p, attempts);
	pg_int(&p, now);
	return pg_run(st, "UPDATE outbox SET state = 'delivered', attempts = $2, last_attempt_ms = $3, "
	                  "delivered_ms = $3, lease_until_ms = 0 WHERE id = $1 AND state IN ('pending', 'failed')",
	              &p, "mark delivery delivered", err);
}

int pg_outbox_mark_failed(store *st, const char *id, int attempts, delivery_state state, int64_t next_ms,
                          const char *error, int64_t now, char **err)
{
	if (state != DELIVERY_FAILED && state != DELIVERY_DEAD)
		return pg_fail(err, xstrdup("record failed delivery: the state must be failed or dead"));
	pg_params p = { 0 };
	pg_text(&p, id);
	pg_text(&p, delivery_state_name(state));
	pg_int(&p, attempts);
	pg_int(&p, next_ms);
	pg_int(&p, now);
	pg_text(&p, error);
	return pg_run(st, "UPDATE outbox SET state = $2, attempts = $3, next_attempt_ms = $4, last_attempt_ms = $5, "
	                  "last_error = $6, lease_until_ms = 0 WHERE id = $1 AND state IN ('pending', 'failed')",
	              &p, "record failed delivery", err);
}

int pg_outbox_get(store *st, const char *id, delivery_record *out, char **err)
{
	memset(out, 0, sizeof *out);
	pg_params p = { 0 };
	pg_text(&p, id);
	PGresult *res = pg_exec(st, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = $1", &p, "read delivery", err);
	if (!res)
		return -1;
	int ret = PQntuples(res) > 0 ? (row_to_delivery(res, 0, out, err) == 0 ? 1 : -1) : 0;
	if (ret < 0)
		delivery_record_clear(out);
	PQclear(res);
	return ret;
}

int pg_outbox_list(store *st, bool all_states, delivery_state state, int64_t after_seq, int limit,
                   delivery_record **out, size_t *n, bool *more, char **err)
{
	*out = NULL;
	*n = 0;
	*more = false;
	if (limit < 0)
		return pg_fail(err, xstrdup("list deliveries: the limit must not be negative"));
	pg_params p = { 0 };
	pg_text(&p, all_states ? NULL : delivery_state_name(state));
	pg_int(&p, after_seq);
	pg_int(&p, (int64_t)limit + 1);
	PGresult *res = pg_exec(st, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE ($1::text IS NULL OR state = $1) "
	                            "AND seq > $2 ORDER BY seq LIMIT $3", &p, "list deliveries", err);
	if (!res)
		return -1;
	int rc = collect(res, limit, out, n, more, err);
	PQclear(res);
	return rc;
}

int pg_outbox_retry(store *st, const char *id, int64_t now, delivery_record *out, char **err)
{
	memset(out, 0, sizeof *out);
	pg_params p = { 0 };
	pg_text(&p, id);
	pg_int(&p, now);
	PGresult *res = pg_exec(st, "UPDATE outbox SET state = 'pending', attempts = 0, retry_from_ms = $2, "
	                            "next_attempt_ms = $2, lease_until_ms = 0 WHERE id = $1 AND state <> 'delivered'",
	                        &p, "replay delivery", err);
	if (!res)
		return -1;
	int64_t changed = pg_changed(res);
	PQclear(res);
	int found = pg_outbox_get(st, id, out, err);
	if (found != 1)
		return found;
	return changed ? 1 : 2;
}

/* Runs a DELETE and counts its rows. */
static int delete_rows(store *st, const char *sql, const pg_params *p, int64_t *deleted, const char *op, char **err)
{
	*deleted = 0;
	PGresult *res = pg_exec(st, sql, p, op, err);
	if (!res)
		return -1;
	*deleted = pg_changed(res);
	PQclear(res);
	return 0;
}

int pg_outbox_delete_for_response(store *st, const char *response_id, int64_t *deleted, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, response_id);
	return delete_rows(st, "DELETE FROM outbox WHERE response_id = $1", &p, deleted, "erase deliveries", err);
}

int pg_outbox_purge_delivered(store *st, int64_t cutoff_ms, int64_t *deleted, char **err)
{
	pg_params p = { 0 };
	pg_int(&p, cutoff_ms);
	return delete_rows(st, "DELETE FROM outbox WHERE state = 'delivered' AND delivered_ms < $1", &p, deleted,
	                   "purge delivered deliveries", err);
}

int pg_outbox_count(store *st, delivery_state s, int64_t *n, char **err)
{
	pg_params p = { 0 };
	pg_text(&p, delivery_state_name(s));
	return pg_query_int(st, "SELECT count(*) FROM outbox WHERE state = $1", &p, n, "count deliveries", err) < 0 ? -1 : 0;
}

/* Newest first, before before_seq (0: from the newest); see storage.h. */
int pg_outbox_list_newest(store *st, bool all_states, delivery_state state, int64_t before_seq, int limit,
                          delivery_record **out, size_t *n, bool *more, char **err)
{
	*out = NULL;
	*n = 0;
	*more = false;
	if (limit < 0)
		return pg_fail(err, xstrdup("list deliveries: the limit must not be negative"));
	pg_params p = { 0 };
	pg_text(&p, all_states ? NULL : delivery_state_name(state));
	pg_int(&p, before_seq);
	pg_int(&p, (int64_t)limit + 1);
	PGresult *res = pg_exec(st, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE ($1::text IS NULL OR state = $1) "
	                            "AND ($2 = 0 OR seq < $2) ORDER BY seq DESC LIMIT $3", &p, "list deliveries", err);
	if (!res)
		return -1;
	int rc = collect(res, limit, out, n, more, err);
	PQclear(res);
	return rc;
}

/* Every row about response_id, newest first (at most limit). */
int pg_outbox_for_response(store *st, const char *response_id, int limit, delivery_record **out, size_t *n,
                           char **err)
{
	*out = NULL;
	*n = 0;
	pg_params p = { 0 };
	pg_text(&p, response_id);
	pg_int(&p, (int64_t)limit + 1);
	PGresult *res = pg_exec(st, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE response_id = $1 ORDER BY seq DESC "
	                            "LIMIT $2", &p, "list the deliveries of an answer", err);
	if (!res)
		return -1;
	int rc = collect(res, limit, out, n, NULL, err);
	PQclear(res);
	return rc;
}
