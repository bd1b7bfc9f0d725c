/* store_summary: the SQLite backend's summary tables (migration 8, store_internal.h): folding answers
 * into them (the writer, once per batch) and adding them up (summaries), filtered in SQL and in C. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "answer_facts.h"
#include "fresh_facts.h"
#include "summary_tally.h"
#include "store_internal.h"
#include "util.h"

#define DAY_MS 86400000LL

static const char upto_sql[] = "SELECT seq FROM answer_counts_upto";
static const char new_rows_sql[] =
	"SELECT seq, form, created_ms, answers, meta, score, tags FROM responses WHERE seq > ?1 ORDER BY seq LIMIT ?2";
static const char stale_rows_sql[] =
	"SELECT r.seq, r.form, r.created_ms, r.answers, r.meta, r.score, r.tags "
	"FROM answer_facts_stale s CROSS JOIN responses r ON r.seq = s.seq ORDER BY s.seq LIMIT ?1";
static const char stale_done_sql[] = "DELETE FROM answer_facts_stale WHERE seq = ?1";
static const char facts_insert_sql[] =
	"INSERT INTO answer_facts (seq, form, created_ms, variant, page, path, device, category, attrs, tags, vals) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char counts_add_sql[] =
	"INSERT INTO answer_counts (form, question, part, value, variant, device, category, day, n) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
	"ON CONFLICT (form, question, part, value, variant, device, category, day) DO UPDATE SET n = n + excluded.n";
static const char upto_set_sql[] = "UPDATE answer_counts_upto SET seq = ?1";

/* Binds a count key's value as answer_counts stores it: any as X'', null as X'00'. */
static void bind_value(sqlite3_stmt *s, int i, const count_key *k)
{
	static const unsigned char null_mark = 0;
	switch (k->type) {
	case COUNT_ANY:
		sqlite3_bind_zeroblob(s, i, 0);
		break;
	case COUNT_NULL:
		sqlite3_bind_blob(s, i, &null_mark, 1, SQLITE_STATIC);
		break;
	case COUNT_NUMBER:
		if (k->number == (double)(int64_t)k->number && k->number > -9007199254740992.0 &&
		    k->number < 9007199254740992.0)
			sqlite3_bind_int64(s, i, (int64_t)k->number);
		else
			sqlite3_bind_double(s, i, k->number);
		break;
	case COUNT_TEXT:
		sqlite3_bind_text(s, i, k->text, (int)k->text_len, SQLITE_STATIC);
		break;
	}
}


/* ---- folding ------------------------------------------------------------------------------------- */

typedef struct fold_ctx {
	count_map *deltas;
	const char *form;
	const char *variant, *device, *category; /* "" for none */
	int64_t day;
} fold_ctx;

/* Each entry counts under its value and under "any value", as the forget trigger takes them out. */
static int fold_entry(void *arg, const char *question, size_t qlen, int part, const fact_value *v)
{
	fold_ctx *c = arg;
	count_key k = { .form = c->form, .question = question, .question_len = qlen, .part = part,
		        .variant = c->variant, .device = c->device, .category = c->category, .day = c->day };
	summary_key_value(&k, v);
	count_map_add(c->deltas, &k, 1);
	k.type = COUNT_ANY;
	count_map_add(c->deltas, &k, 1);
	return 0;
}

/* Folds the rows of s (columns seq, form, created_ms, answers, meta, score, tags, in seq order): inserts
 * their facts (taken from fresh where it kept them, when fresh is not NULL) and adds their keys to
 * deltas. *n counts them, *max_seq is the highest seq. 0, or -1 with *err. */
static int fold_rows(store *st, sqlite3_stmt *s, fresh_facts *fresh, count_map *deltas, int *n, int64_t *max_seq,
                     int64_t *seqs, char **err)
{
	sqlite3_stmt *ins = store_cached(st, facts_insert_sql, "fold answers", err);
	if (!ins)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(s, 0), created = sqlite3_column_int64(s, 2);
		const char *form = (const char *)sqlite3_column_text(s, 1);
		const char *answers = (const char *)sqlite3_column_text(s, 3), *meta = (const char *)sqlite3_column_text(s, 4);
		const char *score = (const char *)sqlite3_column_text(s, 5), *tags = (const char *)sqlite3_column_text(s, 6);
		answer_facts f;
		if (!fresh || !fresh_facts_take(fresh, seq, answers, meta, score, tags, &f))
			answer_facts_compute_text(answers, meta, score, tags, &f);
		sqlite3_bind_int64(ins, 1, seq);
		sqlite3_bind_text(ins, 2, form, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, created);
		const char *cols[] = { f.variant, f.page, f.path, f.device, f.category, f.attrs, f.tags, f.vals };
		for (int i = 0; i < 8; i++)
			sqlite3_bind_text(ins, 4 + i, cols[i], -1, SQLITE_STATIC);
		int irc = sqlite3_step(ins);
		store_done(ins);
		fold_ctx c = { deltas, form, f.variant ? f.variant : "", f.device ? f.device : "",
			       f.category ? f.category : "", created / DAY_MS };
		count_key answer = { .form = form, .question = "", .part = 2, .type = COUNT_ANY, .variant = c.variant,
			             .device = c.device, .category = c.category, .day = c.day };
		if (irc == SQLITE_DONE) {
			count_map_add(deltas, &answer, 1);
			answer_facts_each(f.vals, strlen(f.vals), fold_entry, &c);
		}
		answer_facts_clear(&f);
		if (irc != SQLITE_DONE) {
			store_fail(st, "fold answers", err);
			return -1;
		}
		if (seqs)
			seqs[*n] = seq;
		(*n)++;
		if (seq > *max_seq)
			*max_seq = seq;
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, "fold answers", err);
		return -1;
	}
	return 0;
}

/* Adds the deltas to answer_counts. 0, or -1 with *err. */
static int add_counts(store *st, const count_map *deltas, char **err)
{
	for (size_t i = 0; i < count_map_size(deltas); i++) {
		sqlite3_stmt *s = store_cached(st, counts_add_sql, "fold counts", err);
		if (!s)
			return -1;
		count_key k;
		int64_t n = count_map_get(deltas, i, &k);
		sqlite3_bind_text(s, 1, k.form, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, k.question, (int)k.question_len, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, k.part);
		bind_value(s, 4, &k);
		sqlite3_bind_text(s, 5, k.variant ? k.variant : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, k.device ? k.device : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 7, k.category ? k.category : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 8, k.day);
		sqlite3_bind_int64(s, 9, n);
		if (store_run_cached(st, s, "fold counts", err) != 0)
			return -1;
	}
	return 0;
}

/* The fold inside its savepoint. */
static int fold(store *st, int max_rows, bool *more, char **err)
{
	sqlite3_stmt *s = store_cached(st, upto_sql, "fold answers", err);
	if (!s)
		return -1;
	int64_t upto = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	store_done(s);
	count_map *deltas = count_map_new();
	int n_new = 0, n_stale = 0, ret = -1;
	int64_t max_seq = upto, ignored = 0;
	int64_t *stale = xcalloc((size_t)max_rows + 1, sizeof *stale);
	if (!(s = store_cached(st, new_rows_sql, "fold answers", err)))
		goto out;
	sqlite3_bind_int64(s, 1, upto);
	sqlite3_bind_int(s, 2, max_rows);
	int rc = fold_rows(st, s, store_fresh_facts(st), deltas, &n_new, &max_seq, NULL, err);
	store_done(s);
	if (rc != 0 || !(s = store_cached(st, stale_rows_sql, "fold answers", err)))
		goto out;
	sqlite3_bind_int(s, 1, max_rows);
	rc = fold_rows(st, s, NULL, deltas, &n_stale, &ignored, stale, err);
	store_done(s);
	if (rc != 0 || add_counts(st, deltas, err) != 0)
		goto out;
	for (int i = 0; i < n_stale; i++) {
		if (!(s = store_cached(st, stale_done_sql, "fold answers", err)))
			goto out;
		sqlite3_bind_int64(s, 1, stale[i]);
		if (store_run_cached(st, s, "fold answers", err) != 0)
			goto out;
	}
	if (max_seq > upto) {
		if (!(s = store_cached(st, upto_set_sql, "fold answers", err)))
			goto out;
		sqlite3_bind_int64(s, 1, max_seq);
		if (store_run_cached(st, s, "fold answers", err) != 0)
			goto out;
	}
	*more = n_new == max_rows || n_stale == max_rows;
	ret = 0;
out:
	free(stale);
	count_map_free(deltas);
	return ret;
}

int sqlite_summary_fold(store *st, int max_rows, bool *more, char **err)
{
	sqlite3 *db = store_sqlite(st);
	*more = false;
	if (sqlite3_exec(db, "SAVEPOINT fold", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, "fold answers", err);
	if (fold(st, max_rows, more, err) != 0) {
		*more = false;
		sqlite3_exec(db, "ROLLBACK TO fold", NULL, NULL, NULL);
		sqlite3_exec(db, "RELEASE fold", NULL, NULL, NULL);
		return -1;
	}
	if (sqlite3_exec(db, "RELEASE fold", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, "fold answers", err);
	return 0;
}

/* ---- adding up ----------------------------------------------------------------------------------- */

/* The facts an answer is filtered on (borrowed strings). */
typedef struct facts_view {
	const char *variant, *page, *path, *device, *category, *attrs, *tags;
	const char *answers; /* the answers text, needed only by the q filter */
} facts_view;

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* True when s holds sep + word + sep. */
static bool has_word(const char *s, char sep, const char *word)
{
	if (!s)
		return false;
	size_t n = strlen(word);
	for (const char *p = strchr(s, sep); p && p[1]; p = strchr(p + 1, sep))
		if (strncmp(p + 1, word, n) == 0 && p[1 + n] == sep)
			return true;
	return false;
}

/* The filter other than the time range, as store_query.c's SQL applies it to responses (and
 * facts_sql to answer_facts). */
static bool matches(const facts_view *f, const response_filter *flt)
{
	if (flt->page && !((f->page && sqlite3_strglob(flt->page, f->page) == 0) ||
	                   (f->path && sqlite3_strglob(flt->page, f->path) == 0)))
		return false;
	if (flt->tag && !has_word(f->tags, '\x1f', flt->tag))
		return false;
	if ((flt->category && !same(f->category, flt->category)) || (flt->variant && !same(f->variant, flt->variant)) ||
	    (flt->device && !same(f->device, flt->device)))
		return false;
	for (size_t i = 0; i < flt->n_attrs; i++)
		if (!has_word(f->attrs, ' ', flt->attrs[i]))
			return false;
	if (flt->q && !(f->answers && answer_facts_text_contains(f->answers, strlen(f->answers), flt->q)))
		return false;
	return true;
}

/* The inclusive created_ms bounds of [since, until) (lo > hi when empty). */
static void time_bounds(const response_filter *f, int64_t *lo, int64_t *hi)
{
	*lo = f->since;
	*hi = f->until == STORE_TIME_MAX ? INT64_MAX : f->until - 1;
	if (f->until == STORE_TIME_MIN) {
		*lo = 1;
		*hi = 0;
	}
}

/* The folded answers of a time range that match flt (but for q): the filter in SQL, so that rows
 * that do not match are never handed out. Bound by facts_bind. Returns a new string. */
static char *facts_sql(const response_filter *flt)
{
	char attrs[FILTER_ATTRS_MAX * 40] = "";
	for (size_t i = 0; i < flt->n_attrs; i++)
		snprintf(attrs + strlen(attrs), sizeof attrs - strlen(attrs), " AND instr(f.attrs, ?%zu) > 0", 9 + i);
	return xasprintf("SELECT f.variant, f.vals%s FROM answer_facts f%s WHERE f.form = ?1 AND f.created_ms >= ?2 "
	                 "AND f.created_ms <= ?3%s%s%s%s%s%s",
	                 flt->q ? ", r.answers" : "", flt->q ? " CROSS JOIN responses r ON r.seq = f.seq" : "",
	                 flt->page ? " AND (f.page GLOB ?4 OR f.path GLOB ?4)" : "",
	                 flt->tag ? " AND instr(f.tags, ?5) > 0" : "", flt->category ? " AND f.category = ?6" : "",
	                 flt->variant ? " AND f.variant = ?7" : "", flt->device ? " AND f.device = ?8" : "", attrs);
}

/* Binds facts_sql's values (texts copied). */
static void facts_bind(sqlite3_stmt *s, const response_filter *flt)
{
	if (flt->page)
		sqlite3_bind_text(s, 4, flt->page, -1, SQLITE_STATIC);
	if (flt->tag)
		sqlite3_bind_text(s, 5, xasprintf("\x1f%s\x1f", flt->tag), -1, free);
	if (flt->category)
		sqlite3_bind_text(s, 6, flt->category, -1, SQLITE_STATIC);
	if (flt->variant)
		sqlite3_bind_text(s, 7, flt->variant, -1, SQLITE_STATIC);
	if (flt->device)
		sqlite3_bind_text(s, 8, flt->device, -1, SQLITE_STATIC);
	for (size_t i = 0; i < flt->n_attrs; i++)
		sqlite3_bind_text(s, 9 + (int)i, xasprintf(" %s ", flt->attrs[i]), -1, free);
}
/* Answers not folded yet: above the fold mark, and folded ones changed since. */
static const char unfolded_sql[] =
	"SELECT answers, meta, score, tags FROM responses WHERE seq > (SELECT seq FROM answer_counts_upto) "
	"AND +form = ?1 AND +created_ms >= ?2 AND +created_ms <= ?3";
static const char stale_sql[] =
	"SELECT r.answers, r.meta, r.score, r.tags FROM answer_facts_stale s CROSS JOIN responses r ON r.seq = s.seq "
	"WHERE r.form = ?1 AND r.created_ms >= ?2 AND r.created_ms <= ?3";

/* Tallies the folded answers of [lo, hi] that match flt. */
static int tally_folded(store *st, const char *form, const response_filter *flt, int64_t lo, int64_t hi,
                        summary_tally *c, char **err)
{
	if (lo > hi)
		return 0;
	const char *op = "count answers";
	char *sql = facts_sql(flt);
	sqlite3_stmt *s = store_prepare(st, sql, op, err);
	free(sql);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, form, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, lo);
	sqlite3_bind_int64(s, 3, hi);
	facts_bind(s, flt);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *answers = flt->q ? (const char *)sqlite3_column_text(s, 2) : NULL;
		if (!flt->q || (answers && answer_facts_text_contains(answers, strlen(answers), flt->q)))
			summary_tally_add(c, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1));
	}
	int ret = rc == SQLITE_DONE ? 0 : store_fail(st, op, err);
	sqlite3_finalize(s);
	return ret;
}

/* Tallies the answers of [lo, hi] not folded yet that match flt, computing their facts. */
static int tally_unfolded(store *st, const char *sql, const char *form, const response_filter *flt, int64_t lo,
                          int64_t hi, summary_tally *c, char **err)
{
	if (lo > hi)
		return 0;
	const char *op = "count answers";
	sqlite3_stmt *s = store_cached(st, sql, op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, form, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, lo);
	sqlite3_bind_int64(s, 3, hi);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		answer_facts f;
		const char *answers = (const char *)sqlite3_column_text(s, 0);
		answer_facts_compute_text(answers, (const char *)sqlite3_column_text(s, 1),
		                          (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3), &f);
		facts_view v = { f.variant, f.page, f.path, f.device, f.category, f.attrs, f.tags, answers };
		if (matches(&v, flt))
			summary_tally_add(c, f.variant, f.vals);
		answer_facts_clear(&f);
	}
	int ret = rc == SQLITE_DONE ? 0 : store_fail(st, op, err);
	store_done(s);
	return ret;
}

/* Per value (a handful for the questions counted by value), and "any value" (one key per variant and
 * day: the (form, question, part, value) prefix finds them among the values of text questions). */
static const char counts_by_value_sql[] =
	"SELECT value, NULLIF(variant, ''), n FROM answer_counts WHERE form = ?1 AND question = ?2 AND part = ?3 "
	"AND day >= ?4 AND day <= ?5 AND value <> X'' AND (?6 IS NULL OR variant = ?6) "
	"AND (?7 IS NULL OR device = ?7) AND (?8 IS NULL OR category = ?8)";
static const char counts_any_sql[] =
	"SELECT value, NULLIF(variant, ''), n FROM answer_counts WHERE form = ?1 AND question = ?2 AND part = ?3 "
	"AND value = X'' AND day >= ?4 AND day <= ?5 AND (?6 IS NULL OR variant = ?6) "
	"AND (?7 IS NULL OR device = ?7) AND (?8 IS NULL OR category = ?8)";

/* Adds the counts of whole days d1..d2 of (question, part) to the tally, by value or only "any". */
static int tally_counts(store *st, const char *form, const response_filter *flt, const char *question, int part,
                        bool by_value, int64_t d1, int64_t d2, count_map *out, char **err)
{
	const char *op = "count answers";
	sqlite3_stmt *s = store_cached(st, by_value ? counts_by_value_sql : counts_any_sql, op, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, form, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, question, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, part);
	sqlite3_bind_int64(s, 4, d1);
	sqlite3_bind_int64(s, 5, d2);
	if (flt->variant)
		sqlite3_bind_text(s, 6, flt->variant, -1, SQLITE_STATIC);
	if (flt->device)
		sqlite3_bind_text(s, 7, flt->device, -1, SQLITE_STATIC);
	if (flt->category)
		sqlite3_bind_text(s, 8, flt->category, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		count_key k = { .form = "", .question = question, .question_len = strlen(question), .part = part,
			        .variant = (const char *)sqlite3_column_text(s, 1) };
		switch (sqlite3_column_type(s, 0)) {
		case SQLITE_INTEGER:
		case SQLITE_FLOAT:
			k.type = COUNT_NUMBER;
			k.number = sqlite3_column_double(s, 0);
			break;
		case SQLITE_TEXT:
			k.type = COUNT_TEXT;
			k.text = (const char *)sqlite3_column_text(s, 0);
			k.text_len = (size_t)sqlite3_column_bytes(s, 0);
			break;
		default: /* X'' any, X'00' null */
			k.type = sqlite3_column_bytes(s, 0) == 0 ? COUNT_ANY : COUNT_NULL;
			break;
		}
		count_map_add(out, &k, sqlite3_column_int64(s, 2));
	}
	int ret = rc == SQLITE_DONE ? 0 : store_fail(st, op, err);
	store_done(s);
	return ret;
}

/* The tally of store_summary_tally: counts of whole days straight into out, the rest through c. */
static int tally(store *st, const char *form, const response_filter *flt, const summary_question *qs, size_t n,
                 count_map *out, summary_tally *c, char **err)
{
	int64_t lo, hi;
	time_bounds(flt, &lo, &hi);
	response_filter rest = *flt;
	rest.variant = rest.device = rest.category = NULL;
	int64_t edges[2][2] = { { lo, hi }, { 1, 0 } }; /* the folded answers read from answer_facts */
	if (response_filter_time_only(&rest) && lo <= hi) {
		/* Only the time, variant, device and category: whole UTC days d1..d2 come from answer_counts,
		 * the partial days at either end from facts. */
		int64_t lo_c = lo < 0 ? 0 : lo, hi_c = hi > (INT64_C(1) << 53) ? (INT64_C(1) << 53) : hi;
		int64_t d1 = (lo_c + DAY_MS - 1) / DAY_MS, d2 = (hi_c + 1) / DAY_MS - 1;
		if (d1 <= d2) {
			edges[0][1] = d1 * DAY_MS - 1;
			edges[1][0] = (d2 + 1) * DAY_MS;
			edges[1][1] = hi;
			if (tally_counts(st, form, flt, "", 2, false, d1, d2, out, err) != 0)
				return -1;
			for (size_t i = 0; i < n; i++)
				if (tally_counts(st, form, flt, qs[i].id, 0, false, d1, d2, out, err) != 0 ||
				    (qs[i].by_value && tally_counts(st, form, flt, qs[i].id, 0, true, d1, d2, out, err) != 0) ||
				    (qs[i].elements && tally_counts(st, form, flt, qs[i].id, 1, true, d1, d2, out, err) != 0))
					return -1;
		}
	}
	for (int e = 0; e < 2; e++)
		if (tally_folded(st, form, flt, edges[e][0], edges[e][1], c, err) != 0)
			return -1;
	if (tally_unfolded(st, unfolded_sql, form, flt, lo, hi, c, err) != 0 ||
	    tally_unfolded(st, stale_sql, form, flt, lo, hi, c, err) != 0)
		return -1;
	return 0;
}

int sqlite_summary_tally(store *st, const char *form, const response_filter *flt, const summary_question *qs,
                         size_t n, count_map *out, char **err)
{
	summary_tally *c = summary_tally_new(out, qs, n);
	int rc = tally(st, form, flt, qs, n, out, c, err);
	summary_tally_finish(c);
	return rc;
}
