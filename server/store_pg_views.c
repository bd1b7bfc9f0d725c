/* store_pg_views: the PostgreSQL backend's view counters (storage.h): each node adds its second's
 * worth with an upsert, so counts from every node add up; sums per variant for the summary. */
#include <stdint.h>

#include "store_pg_internal.h"

#define DAY_MS 86400000

int pg_views_add(store *st, const view_count *counts, size_t n, char **err)
{
	for (size_t i = 0; i < n; i++) {
		const view_count *c = &counts[i];
		pg_params p = { 0 };
		pg_text(&p, c->form);
		pg_int(&p, c->day);
		pg_text(&p, c->variant);
		pg_text(&p, c->device);
		pg_int(&p, c->count);
		if (pg_run(st, "INSERT INTO views (form, day, variant, device, count) VALUES ($1, $2, $3, $4, $5) "
		               "ON CONFLICT (form, day, variant, device) DO UPDATE SET count = views.count + excluded.count",
		           &p, "count views", err) != 0)
			return -1;
	}
	return 0;
}

int pg_views_count(store *st, const char *form, int64_t since, int64_t until, const char *variant, const char *device,
                   views_fn fn, void *ctx, char **err)
{
	/* A day overlaps [since, until) when it starts before until and ends after since (compared as days,
	 * so that the open ends cannot overflow). */
	int64_t first_day = since / DAY_MS - (since % DAY_MS < 0);
	int64_t last_day = until == INT64_MIN ? INT64_MIN : (until - 1) / DAY_MS - ((until - 1) % DAY_MS < 0);
	pg_params p = { 0 };
	pg_text(&p, form);
	pg_int(&p, first_day);
	pg_int(&p, last_day);
	pg_text(&p, variant);
	pg_text(&p, device);
	PGresult *res = pg_exec(st, "SELECT variant, sum(count) FROM views WHERE form = $1 AND day >= $2 AND day <= $3 "
	                            "AND ($4::text IS NULL OR variant = $4) AND ($5::text IS NULL OR device = $5) "
	                            "GROUP BY variant", &p, "read views", err);
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *v = pg_get_text(res, i, 0);
		if (fn(ctx, v ? v : "", pg_get_int(res, i, 1)) != 0)
			break;
	}
	PQclear(res);
	return 0;
}
