/* store_pg_copy: the PostgreSQL backend's side of `earshot migrate` — counting any table of
 * storage_tables, inserting copied rows (a primary key already present is left alone, so a copy can be
 * run again), and moving a numbering sequence past the copied numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util.h"

int pg_table_count(store *st, const storage_table *t, int64_t *n, char **err)
{
	char *sql = xasprintf("SELECT count(*) FROM %s", t->name);
	int rc = pg_query_int(st, sql, NULL, n, "count rows", err);
	free(sql);
	return rc < 0 ? -1 : 0;
}

int pg_table_write(store *st, const storage_table *t, const storage_rows *rows, int64_t *added, char **err)
{
	*added = 0;
	char *cols = xstrdup(""), *marks = xstrdup("");
	for (int c = 0; c < t->n_columns; c++) {
		char *a = xasprintf("%s%s%s", cols, c ? ", " : "", t->columns[c]);
		char *b = xasprintf("%s%s$%d", marks, c ? ", " : "", c + 1);
		free(cols);
		free(marks);
		cols = a;
		marks = b;
	}
	char *sql = xasprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT DO NOTHING", t->name, cols, marks);
	free(cols);
	free(marks);
	int *lengths = xcalloc((size_t)t->n_columns, sizeof *lengths), *formats = xcalloc((size_t)t->n_columns, sizeof *formats);
	/* Rows one by one (each one's count of rows added is read): what was queued goes first. */
	int rc = pg_flush(st, err);
	if (rc == 0)
		rc = pg_ready(st, err);
	for (int r = 0; rc == 0 && r < rows->n_rows; r++) {
		const char *const *values = (const char *const *)rows->values + (size_t)r * (size_t)t->n_columns;
		for (int c = 0; c < t->n_columns; c++) {
			lengths[c] = (int)rows->lengths[(size_t)r * (size_t)t->n_columns + (size_t)c];
			formats[c] = c == t->bytes_column;
		}
		PGresult *res = PQexecParams(st->conn, sql, t->n_columns, NULL, values, lengths, formats, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
			rc = pg_fail(err, xasprintf("copy into %s: %s", t->name, m ? m : PQerrorMessage(st->conn)));
		} else {
			*added += pg_changed(res);
		}
		PQclear(res);
	}
	free(lengths);
	free(formats);
	free(sql);
	return rc;
}

int pg_table_finish(store *st, const storage_table *t, char **err)
{
	if (!t->serial)
		return 0;
	char *sql = xasprintf("SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, false) FROM %s",
	                      t->name, t->serial, t->serial, t->name);
	int rc = pg_run(st, sql, NULL, "continue the numbering", err);
	free(sql);
	return rc;
}
