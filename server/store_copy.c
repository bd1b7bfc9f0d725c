/* store_copy: the SQLite backend's side of `earshot migrate` — counting and reading any table of
 * storage_tables in primary-key order. Copying into SQLite is not offered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_internal.h"
#include "util.h"

/* "a, b, c" of the first n columns of t (caller frees). */
static char *column_list(const storage_table *t, int n)
{
	char *out = xstrdup("");
	for (int i = 0; i < n; i++) {
		char *next = xasprintf("%s%s%s", out, i ? ", " : "", t->columns[i]);
		free(out);
		out = next;
	}
	return out;
}

int sqlite_table_count(store *st, const storage_table *t, int64_t *n, char **err)
{
	char *sql = xasprintf("SELECT count(*) FROM %s", t->name);
	sqlite3_stmt *s = store_prepare(st, sql, "count rows", err);
	free(sql);
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_fail(st, "count rows", err);
}

int sqlite_table_read(store *st, const storage_table *t, int64_t offset, int limit, storage_rows *out, char **err)
{
	memset(out, 0, sizeof *out);
	char *cols = column_list(t, t->n_columns), *key = column_list(t, t->n_key);
	char *sql = xasprintf("SELECT %s FROM %s ORDER BY %s LIMIT ?1 OFFSET ?2", cols, t->name, key);
	free(cols);
	free(key);
	sqlite3_stmt *s = store_prepare(st, sql, "read rows", err);
	free(sql);
	if (!s)
		return -1;
	sqlite3_bind_int(s, 1, limit);
	sqlite3_bind_int64(s, 2, offset);
	out->n_columns = t->n_columns;
	out->values = xcalloc((size_t)limit * (size_t)t->n_columns + 1, sizeof *out->values);
	out->lengths = xcalloc((size_t)limit * (size_t)t->n_columns + 1, sizeof *out->lengths);
	int rc;
	while (out->n_rows < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (int c = 0; c < t->n_columns; c++) {
			size_t i = (size_t)out->n_rows * (size_t)t->n_columns + (size_t)c;
			int type = sqlite3_column_type(s, c);
			if (type == SQLITE_NULL)
				continue;
			/* Integers and reals as their decimal text (a kv counter reads back as its digits). */
			const void *data = type == SQLITE_BLOB ? sqlite3_column_blob(s, c) : (const void *)sqlite3_column_text(s, c);
			size_t len = (size_t)sqlite3_column_bytes(s, c);
			out->values[i] = xmalloc(len + 1);
			if (len)
				memcpy(out->values[i], data, len);
			out->values[i][len] = '\0';
			out->lengths[i] = len;
		}
		out->n_rows++;
	}
	if (out->n_rows < limit && rc != SQLITE_DONE) {
		sqlite3_finalize(s);
		storage_rows_clear(out);
		return store_fail(st, "read rows", err);
	}
	sqlite3_finalize(s);
	return 0;
}
