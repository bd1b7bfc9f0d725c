/* store_pg_summary: the PostgreSQL backend's summary tally (storage.h: store_summary_tally). The
 * backend keeps no summary tables: the answers matching the filter (all of it, in SQL) are read with a
 * cursor, their facts computed and added up in C, so the time grows with the answers matched. */
#include "answer_facts.h"
#include "store_pg_internal.h"
#include "summary_tally.h"

int pg_summary_tally(store *st, const char *form, const response_filter *flt, const summary_question *qs, size_t n,
                     count_map *out, char **err)
{
	store_cursor *cur = NULL;
	if (pg_cursor_open_filtered(st, form, flt, &cur, err) != 0)
		return -1;
	summary_tally *t = summary_tally_new(out, qs, n);
	response_raw r;
	int rc;
	while ((rc = pg_cursor_next_raw(cur, &r, err)) == 1) {
		answer_facts f;
		answer_facts_compute_text(r.answers, r.meta, r.score, r.tags, &f);
		summary_tally_add(t, f.variant, f.vals);
		answer_facts_clear(&f);
	}
	summary_tally_finish(t);
	pg_cursor_close(cur);
	return rc == 0 ? 0 : -1;
}
