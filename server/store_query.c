/* store_query: SQL for the filtered admin reads. A filter becomes a WHERE clause over responses, with
 * its values bound as parameters (never spliced into the SQL). Summaries count elsewhere
 * (store_summary.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_internal.h"
#include "storage.h"
#include "util.h"

#define MAX_BINDS 24

/* A statement being composed: its SQL text and the values to bind, in order. */
typedef struct sql_builder {
	char *sql;
	size_t len, cap;
	int n;
	struct {
		bool is_text;
		const char *text; /* borrowed, or owned when owned is set */
		bool owned;
		int64_t number;
	} binds[MAX_BINDS];
} sql_builder;

/* Appends SQL text. */
static void put(sql_builder *b, const char *s)
{
	size_t n = strlen(s);
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->sql = xrealloc(b->sql, b->cap);
	}
	memcpy(b->sql + b->len, s, n + 1);
	b->len += n;
}

/* Appends s to the SQL and a text value for its "?" (text is owned by the builder when owned). */
static void put_text(sql_builder *b, const char *s, const char *text, bool owned)
{
	put(b, s);
	b->binds[b->n].is_text = true;
	b->binds[b->n].text = text;
	b->binds[b->n].owned = owned;
	b->n++;
}

/* Appends s to the SQL and an integer value for its "?". */
static void put_int(sql_builder *b, const char *s, int64_t v)
{
	put(b, s);
	b->binds[b->n].is_text = false;
	b->binds[b->n].number = v;
	b->n++;
}

static void builder_free(sql_builder *b)
{
	for (int i = 0; i < b->n; i++)
		if (b->binds[i].owned)
			free((char *)b->binds[i].text);
	free(b->sql);
}

/* Prepares the composed statement and binds its values (texts are copied by SQLite). Returns the
 * statement (caller finalizes) or NULL with *err naming op. */
static sqlite3_stmt *builder_prepare(struct store *st, sql_builder *b, const char *op, char **err)
{
	sqlite3_stmt *s = store_prepare(st, b->sql, op, err);
	if (!s)
		return NULL;
	for (int i = 0; i < b->n; i++) {
		if (b->binds[i].is_text)
			sqlite3_bind_text(s, i + 1, b->binds[i].text, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(s, i + 1, b->binds[i].number);
	}
	return s;
}

/* The inclusive created_ms bounds of [since, until). */
static void time_bounds(const response_filter *f, int64_t *lo, int64_t *hi)
{
	*lo = f->since;
	*hi = f->until == STORE_TIME_MAX ? INT64_MAX : f->until - 1;
	if (f->until == STORE_TIME_MIN) {
		*lo = 1;
		*hi = 0;
	}
}

/* "%text%" for LIKE with \ escaping % _ and \ in text (caller frees). */
static char *like_pattern(const char *text)
{
	size_t n = strlen(text);
	char *out = xmalloc(2 * n + 3), *p = out;
	*p++ = '%';
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '%' || text[i] == '_' || text[i] == '\\')
			*p++ = '\\';
		*p++ = text[i];
	}
	*p++ = '%';
	*p = '\0';
	return out;
}

/* Appends the conditions of f other than the form and the time range, each starting with " AND ",
 * on the responses row r. with_variant leaves the variant out when false (the caller has it). */
static void put_conditions(sql_builder *b, const response_filter *f, bool with_variant)
{
	if (f->page) {
		/* u: meta.page as stored (the widget sends the whole URL); path: its path, without the
		 * scheme, host, query and fragment when u is a URL, else u itself. Either may match. */
		put_text(b, " AND EXISTS (SELECT 1 FROM (SELECT u, CASE WHEN instr(p, '?') > 0 THEN substr(p, 1, "
		         "instr(p, '?') - 1) ELSE p END AS path FROM (SELECT u, CASE WHEN instr(q, '#') > 0 THEN "
		         "substr(q, 1, instr(q, '#') - 1) ELSE q END AS p FROM (SELECT u, CASE WHEN rest IS NULL "
		         "THEN u WHEN instr(rest, '/') > 0 THEN substr(rest, instr(rest, '/')) ELSE '/' END AS q "
		         "FROM (SELECT u, CASE WHEN instr(u, '://') > 0 THEN substr(u, instr(u, '://') + 3) END "
		         "AS rest FROM (SELECT json_extract(r.meta, '$.page') AS u))))) WHERE u GLOB ?",
		         f->page, false);
		put_text(b, " OR path GLOB ?)", f->page, false);
	}
	if (f->tag)
		put_text(b, " AND EXISTS (SELECT 1 FROM json_each(r.tags) t WHERE t.value = ?)", f->tag, false);
	if (f->category)
		put_text(b, " AND json_extract(r.score, '$.category') = ?", f->category, false);
	if (f->variant && with_variant)
		put_text(b, " AND json_extract(r.meta, '$.variant') = ?", f->variant, false);
	if (f->device)
		put_text(b, " AND json_extract(r.meta, '$.device') = ?", f->device, false);
	for (size_t i = 0; i < f->n_attrs; i++)
		put_text(b, " AND json_extract(r.meta, ?) IS NOT NULL", xasprintf("$.\"%s\"", f->attrs[i]), true);
	if (f->q)
		put_text(b, " AND EXISTS (SELECT 1 FROM json_each(r.answers) a WHERE a.type = 'text' AND a.value "
		         "LIKE ? ESCAPE '\\')", like_pattern(f->q), true);
}

/* Appends "r.form = ? AND r.created_ms BETWEEN ? AND ?" and the rest of f. */
static void put_filter(sql_builder *b, const char *form, const response_filter *f)
{
	int64_t lo, hi;
	time_bounds(f, &lo, &hi);
	put_text(b, "r.form = ?", form, false);
	put_int(b, " AND r.created_ms >= ?", lo);
	put_int(b, " AND r.created_ms <= ?", hi);
	put_conditions(b, f, true);
}

#define RESPONSE_COLUMNS "r.seq, r.id, r.form, r.created_ms, r.answers, r.meta, r.score, r.tags, r.confirmed"

int sqlite_cursor_open_filtered(store *st, const char *form, const response_filter *flt, store_cursor **out,
                               char **err)
{
	if (response_filter_time_only(flt))
		return sqlite_cursor_open(st, form, flt->since, flt->until, out, err);
	sql_builder b = { 0 };
	put(&b, "SELECT " RESPONSE_COLUMNS " FROM responses r WHERE ");
	put_filter(&b, form, flt);
	put(&b, " ORDER BY r.seq");
	sqlite3_stmt *s = builder_prepare(st, &b, "read responses", err);
	builder_free(&b);
	*out = NULL;
	return s ? store_cursor_open_stmt(st, s, out, err) : -1;
}

int sqlite_response_page(store *st, const char *form, const response_filter *flt, int64_t after_seq,
                        bool newest_first, int limit, response_record **out, size_t *n, bool *more,
                        char **err)
{
	*out = NULL;
	*n = 0;
	*more = false;
	sql_builder b = { 0 };
	put(&b, "SELECT " RESPONSE_COLUMNS " FROM responses r WHERE ");
	put_filter(&b, form, flt);
	if (newest_first) {
		put_int(&b, " AND r.seq < ?", after_seq > 0 ? after_seq : INT64_MAX);
		put(&b, " ORDER BY r.seq DESC");
	} else {
		put_int(&b, " AND r.seq > ?", after_seq);
		put(&b, " ORDER BY r.seq");
	}
	put_int(&b, " LIMIT ?", (int64_t)limit + 1);
	sqlite3_stmt *s = builder_prepare(st, &b, "list responses", err);
	builder_free(&b);
	store_cursor *cur = NULL;
	if (!s || store_cursor_open_stmt(st, s, &cur, err) != 0)
		return -1;
	*out = xcalloc((size_t)limit + 1, sizeof **out);
	int rc;
	while ((rc = sqlite_cursor_next(cur, &(*out)[*n], err)) == 1) {
		if (*n == (size_t)limit) {
			response_record_clear(&(*out)[*n]);
			*more = true;
			break;
		}
		(*n)++;
	}
	sqlite_cursor_close(cur);
	if (rc < 0) {
		for (size_t i = 0; i < *n; i++)
			response_record_clear(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
		*more = false;
		return -1;
	}
	return 0;
}

int sqlite_snapshot_begin(store *st, char **err)
{
	sqlite3 *db = store_sqlite(st);
	if (!sqlite3_get_autocommit(db))
		return 0;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, "begin a read", err);
	return 1;
}

void sqlite_snapshot_end(store *st, int begun)
{
	sqlite3 *db = store_sqlite(st);
	if (begun == 1 && !sqlite3_get_autocommit(db) && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}
