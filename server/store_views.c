/* store_views: the SQLite backend's views table (migration 7): upserts of the view counters and their
 * sums per variant (storage.h). The retention purge of whole days is with the other purges (store.c). */
#include <stdint.h>

#include <sqlite3.h>

#include "store_internal.h"

#define DAY_MS 86400000

int sqlite_views_add(store *st, const view_count *counts, size_t n, char **err)
{
	static const char sql[] = "INSERT INTO views (form, day, variant, device, count) VALUES (?1, ?2, ?3, ?4, ?5) "
	                          "ON CONFLICT (form, day, variant, device) DO UPDATE SET count = count + excluded.count";
	for (size_t i = 0; i < n; i++) {
		const view_count *c = &counts[i];
		sqlite3_stmt *s = store_cached(st, sql, "count views", err);
		if (!s)
			return -1;
		sqlite3_bind_text(s, 1, c->form, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, c->day);
		sqlite3_bind_text(s, 3, c->variant, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, c->device, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, c->count);
		if (store_run_cached(st, s, "count views", err) != 0)
			return -1;
	}
	return 0;
}

int sqlite_views_count(store *st, const char *form, int64_t since, int64_t until, const char *variant,
                       const char *device, views_fn fn, void *ctx, char **err)
{
	/* A day overlaps [since, until) when it starts before until and ends after since; the bounds are
	 * compared as days so that the open ends (INT64_MIN, INT64_MAX) cannot overflow. */
	static const char sql[] = "SELECT variant, sum(count) FROM views WHERE form = ?1 AND day >= ?2 AND day <= ?3 "
	                          "AND (?4 IS NULL OR variant = ?4) AND (?5 IS NULL OR device = ?5) GROUP BY variant";
	sqlite3_stmt *s = store_cached(st, sql, "read views", err);
	if (!s)
		return -1;
	int64_t first_day = since / DAY_MS - (since % DAY_MS < 0);
	int64_t last_day = until == INT64_MIN ? INT64_MIN : (until - 1) / DAY_MS - ((until - 1) % DAY_MS < 0);
	sqlite3_bind_text(s, 1, form, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, first_day);
	sqlite3_bind_int64(s, 3, last_day);
	if (variant)
		sqlite3_bind_text(s, 4, variant, -1, SQLITE_STATIC);
	if (device)
		sqlite3_bind_text(s, 5, device, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);
		if (fn(ctx, v ? v : "", sqlite3_column_int64(s, 1)) != 0) {
			store_done(s);
			return 0;
		}
	}
	int ret = rc == SQLITE_DONE ? 0 : store_fail(st, "read views", err);
	store_done(s);
	return ret;
}
