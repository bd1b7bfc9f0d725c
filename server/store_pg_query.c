/* store_pg_query: the PostgreSQL backend's filtered reads — a page of the listing, the filtered export
 * cursor and the grouped counts behind the summary, computed from the stored answers (jsonb) of the
 * matching responses. A filter becomes conditions over "responses r" with its values as parameters. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util.h"

/* Appends formatted text to *sql (malloc'd, grown). */
static void add(char **sql, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(char **sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *more = xvasprintf(fmt, ap);
	va_end(ap);
	char *joined = xasprintf("%s%s", *sql ? *sql : "", more);
	free(more);
	free(*sql);
	*sql = joined;
}

/* A POSIX regular expression matching exactly what the glob matches (* any run, ? one character,
 * [...] a set), anchored at both ends (caller frees). */
static char *glob_regex(const char *glob)
{
	size_t n = strlen(glob);
	char *out = xmalloc(2 * n + 3), *p = out;
	*p++ = '^';
	for (size_t i = 0; i < n; i++) {
		char c = glob[i];
		if (c == '*') {
			*p++ = '.';
			*p++ = '*';
		} else if (c == '?') {
			*p++ = '.';
		} else if (c == '[' && strchr(glob + i + 1, ']')) {
			const char *end = strchr(glob + i + 2, ']') ? strchr(glob + i + 2, ']') : strchr(glob + i + 1, ']');
			*p++ = '[';
			i++;
			if (glob[i] == '^') {
				*p++ = '\\';
				*p++ = '^';
				i++;
			}
			for (; glob + i < end; i++) {
				if (glob[i] == '\\')
					*p++ = '\\';
				*p++ = glob[i];
			}
			*p++ = ']';
		} else {
			if (strchr(".^$+()[]{}|\\", c))
				*p++ = '\\';
			*p++ = c;
		}
	}
	*p++ = '$';
	*p = '\0';
	return out;
}

/* "%text%" for LIKE with \ escaping % _ and \ (caller frees). */
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

#define META "r.meta::jsonb"

void pg_put_filter(char **sql, pg_params *p, const char *form, const response_filter *f)
{
	int64_t lo, hi;
	pg_time_bounds(f->since, f->until, &lo, &hi);
	pg_text(p, form);
	pg_int(p, lo);
	pg_int(p, hi);
	add(sql, "r.form = $%d AND r.created_ms >= $%d AND r.created_ms <= $%d", p->n - 2, p->n - 1, p->n);
	if (f->page) {
		/* u: meta.page as stored; its path: without scheme and host when u is a URL, without query
		 * and fragment. Either may match. */
		pg_text_owned(p, glob_regex(f->page));
		add(sql, " AND EXISTS (SELECT 1 FROM (SELECT u, split_part(split_part(CASE WHEN rest IS NULL THEN u "
		         "WHEN position('/' IN rest) > 0 THEN substr(rest, position('/' IN rest)) ELSE '/' END, '#', 1), "
		         "'?', 1) AS path FROM (SELECT u, CASE WHEN position('://' IN u) > 0 THEN substr(u, "
		         "position('://' IN u) + 3) END AS rest FROM (SELECT " META "->>'page' AS u) a) b) c "
		         "WHERE u ~ $%d OR path ~ $%d)", p->n, p->n);
	}
	if (f->tag) {
		pg_text(p, f->tag);
		add(sql, " AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(r.tags::jsonb) = "
		         "'array' THEN r.tags::jsonb ELSE '[]' END) t WHERE t = $%d)", p->n);
	}
	if (f->category) {
		pg_text(p, f->category);
		add(sql, " AND r.score::jsonb->>'category' = $%d", p->n);
	}
	if (f->variant) {
		pg_text(p, f->variant);
		add(sql, " AND " META "->>'variant' = $%d", p->n);
	}
	if (f->device) {
		pg_text(p, f->device);
		add(sql, " AND " META "->>'device' = $%d", p->n);
	}
	for (size_t i = 0; i < f->n_attrs; i++) {
		pg_text(p, f->attrs[i]);
		add(sql, " AND jsonb_typeof(" META "->$%d) IS DISTINCT FROM 'null' AND " META "->$%d IS NOT NULL", p->n,
		    p->n);
	}
	if (f->q) {
		pg_text_owned(p, like_pattern(f->q));
		add(sql, " AND EXISTS (SELECT 1 FROM jsonb_each(CASE WHEN jsonb_typeof(r.answers::jsonb) = 'object' THEN "
		         "r.answers::jsonb ELSE '{}' END) a WHERE jsonb_typeof(a.value) = 'string' AND "
		         "(a.value #>> '{}') ILIKE $%d ESCAPE '\\')", p->n);
	}
}

int pg_cursor_open_filtered(store *st, const char *form, const response_filter *flt, store_cursor **out,
                            char **err)
{
	char *sql = xstrdup("SELECT " PG_RESPONSE_COLUMNS " FROM responses r WHERE ");
	pg_params p = { 0 };
	pg_put_filter(&sql, &p, form, flt);
	add(&sql, " ORDER BY r.seq");
	int rc = pg_cursor_open_sql(st, sql, &p, out, err);
	free(sql);
	pg_params_free(&p);
	return rc;
}

int pg_response_page(store *st, const char *form, const response_filter *flt, int64_t after_seq,
                     bool newest_first, int limit, response_record **out, size_t *n, bool *more, char **err)
{
	*out = NULL;
	*n = 0;
	*more = false;
	char *sql = xstrdup("SELECT " PG_RESPONSE_COLUMNS " FROM responses r WHERE ");
	pg_params p = { 0 };
	pg_put_filter(&sql, &p, form, flt);
	pg_int(&p, newest_first ? (after_seq > 0 ? after_seq : INT64_MAX) : after_seq);
	pg_int(&p, (int64_t)limit + 1);
	add(&sql, newest_first ? " AND r.seq < $%d ORDER BY r.seq DESC LIMIT $%d" : " AND r.seq > $%d ORDER BY r.seq LIMIT $%d",
	    p.n - 1, p.n);
	PGresult *res = pg_exec(st, sql, &p, "list responses", err);
	free(sql);
	pg_params_free(&p);
	if (!res)
		return -1;
	int rows = PQntuples(res);
	*more = rows > limit;
	if (*more)
		rows = limit;
	*out = xcalloc((size_t)rows + 1, sizeof **out);
	for (int i = 0; i < rows; i++) {
		if (pg_row_to_record(res, i, &(*out)[i], err) != 0) {
			for (size_t j = 0; j < *n; j++)
				response_record_clear(&(*out)[j]);
			free(*out);
			*out = NULL;
			*n = 0;
			*more = false;
			PQclear(res);
			return -1;
		}
		(*n)++;
	}
	PQclear(res);
	return 0;
}
