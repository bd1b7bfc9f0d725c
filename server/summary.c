/* summary: builds the per-question summary from one tally of the form's answers (store_summary_tally),
 * read in one snapshot. Text, contact and consent questions are counted without ever reading their
 * values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage.h"
#include "summary.h"
#include "util.h"

#define CHI_MIN_EXPECTED 5.0
#define SIGNIFICANCE 0.05

/* ---- statistics ---------------------------------------------------------------------------------- */

/* The regularized lower incomplete gamma P(a, x) by its power series (for x < a + 1). */
static double gamma_p_series(double a, double x)
{
	double term = 1.0 / a, sum = term;
	for (int n = 1; n < 1000; n++) {
		term *= x / (a + n);
		sum += term;
		if (fabs(term) < fabs(sum) * 1e-15)
			break;
	}
	return sum * exp(-x + a * log(x) - lgamma(a));
}

/* The regularized upper incomplete gamma Q(a, x) by its continued fraction (for x >= a + 1), evaluated
 * with the modified Lentz method. */
static double gamma_q_fraction(double a, double x)
{
	const double tiny = 1e-300;
	double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
	for (int i = 1; i < 1000; i++) {
		double an = -i * (i - a);
		b += 2.0;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		double delta = d * c;
		h *= delta;
		if (fabs(delta - 1.0) < 1e-15)
			break;
	}
	return exp(-x + a * log(x) - lgamma(a)) * h;
}

double summary_chi_square_p(double x, int df)
{
	if (df < 1 || x <= 0)
		return 1.0;
	double a = df / 2.0, hx = x / 2.0;
	return hx < a + 1.0 ? 1.0 - gamma_p_series(a, hx) : gamma_q_fraction(a, hx);
}

double summary_chi_square(const int64_t *table, size_t rows, size_t cols, int *df)
{
	*df = 0;
	double *rsum = xcalloc(rows ? rows : 1, sizeof *rsum), *csum = xcalloc(cols ? cols : 1, sizeof *csum);
	double total = 0;
	for (size_t i = 0; i < rows; i++)
		for (size_t j = 0; j < cols; j++) {
			rsum[i] += (double)table[i * cols + j];
			csum[j] += (double)table[i * cols + j];
			total += (double)table[i * cols + j];
		}
	size_t nr = 0, nc = 0;
	for (size_t i = 0; i < rows; i++)
		nr += rsum[i] > 0;
	for (size_t j = 0; j < cols; j++)
		nc += csum[j] > 0;
	double chi = -1;
	if (nr >= 2 && nc >= 2) {
		chi = 0;
		for (size_t i = 0; i < rows && chi >= 0; i++)
			for (size_t j = 0; j < cols; j++) {
				if (rsum[i] == 0 || csum[j] == 0)
					continue;
				double expected = rsum[i] * csum[j] / total;
				if (expected < CHI_MIN_EXPECTED) {
					chi = -1;
					break;
				}
				double diff = (double)table[i * cols + j] - expected;
				chi += diff * diff / expected;
			}
		if (chi >= 0)
			*df = (int)((nr - 1) * (nc - 1));
	}
	free(rsum);
	free(csum);
	return chi;
}

double summary_completion_chi_square(const int64_t *answers, const int64_t *views, size_t n, int *df)
{
	*df = 0;
	int64_t *table = xcalloc(2 * n + 1, sizeof *table);
	bool valid = true;
	for (size_t i = 0; i < n; i++) {
		if (views[i] <= 0)
			continue; /* a variant without views is left out */
		if (answers[i] > views[i])
			valid = false;
		table[2 * i] = answers[i];
		table[2 * i + 1] = views[i] - answers[i];
	}
	double chi = valid ? summary_chi_square(table, n, 2, df) : -1;
	free(table);
	return chi;
}

/* ---- counts -------------------------------------------------------------------------------------- */

/* A percentage of part in whole rounded to one decimal (0 when whole is 0). */
static double percent(int64_t part, int64_t whole)
{
	return whole > 0 ? round(1000.0 * (double)part / (double)whole) / 10.0 : 0.0;
}

/* One value's count, collected from the tally. */
typedef struct tally {
	char *value;      /* owned text of the value, NULL for a null value */
	bool is_number;
	double number;
	char *variant;    /* owned or NULL */
	int64_t count;
} tally;

typedef struct tallies {
	tally *items;
	size_t n, cap;
} tallies;

static void tallies_add(tallies *t, const count_key *k, int64_t n)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->items = xrealloc(t->items, t->cap * sizeof *t->items);
	}
	char buf[32];
	const char *value = k->type == COUNT_TEXT ? k->text : k->type == COUNT_NUMBER ? count_number_text(k->number, buf)
	                                                                                : NULL;
	t->items[t->n++] = (tally){ value ? xstrdup(value) : NULL, k->type == COUNT_NUMBER, k->number,
		                    k->variant ? xstrdup(k->variant) : NULL, n };
}

static void tallies_free(tallies *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->items[i].value);
		free(t->items[i].variant);
	}
	free(t->items);
	memset(t, 0, sizeof *t);
}

/* How the counts of one question are grouped. */
typedef enum { GROUP_VALUE, GROUP_VARIANT, GROUP_VALUE_VARIANT } count_group;

/* The counts of (question, part) from the tally: by value (variants added up), by variant (answers
 * with one only) or by both; "any value" entries are left out except for GROUP_VARIANT, which reads
 * them. */
static void groups(const count_map *m, const char *qid, int part, count_group group, tallies *out)
{
	count_map *merged = count_map_new();
	for (size_t i = 0; i < count_map_size(m); i++) {
		count_key k;
		int64_t n = count_map_get(m, i, &k);
		if (k.part != part || strcmp(k.question, qid) != 0 || (k.type == COUNT_ANY) != (group == GROUP_VARIANT))
			continue;
		if (group != GROUP_VALUE && !k.variant)
			continue;
		if (group == GROUP_VALUE)
			k.variant = NULL;
		count_map_add(merged, &k, n);
	}
	for (size_t i = 0; i < count_map_size(merged); i++) {
		count_key k;
		int64_t n = count_map_get(merged, i, &k);
		tallies_add(out, &k, n);
	}
	count_map_free(merged);
}

/* How many times (question, part) was answered ("any value" entries, all variants). */
static int64_t answered_count(const count_map *m, const char *qid, int part)
{
	int64_t total = 0;
	for (size_t i = 0; i < count_map_size(m); i++) {
		count_key k;
		int64_t n = count_map_get(m, i, &k);
		if (k.type == COUNT_ANY && k.part == part && strcmp(k.question, qid) == 0)
			total += n;
	}
	return total;
}

/* ---- questions ----------------------------------------------------------------------------------- */

/* Index of value among q's options, or -1. */
static int option_index(const question *q, const char *value)
{
	for (size_t i = 0; value && i < q->n_options; i++)
		if (strcmp(q->options[i], value) == 0)
			return (int)i;
	return -1;
}

/* Sorts option entries by count, most first; equal counts keep form order (by "order"). */
static int by_count(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t cx = json_integer_value(json_object_get(x, "count")),
		   cy = json_integer_value(json_object_get(y, "count"));
	if (cx != cy)
		return cx < cy ? 1 : -1;
	json_int_t ox = json_integer_value(json_object_get(x, "order")),
		   oy = json_integer_value(json_object_get(y, "order"));
	return ox < oy ? -1 : ox > oy;
}

/* The ranked options of a choice question from its value counts; values no longer among the options
 * come after them. percent is of `answered`. Returns a new array. */
static json_t *ranked_options(const question *q, const tallies *t, int64_t answered)
{
	size_t n = q->n_options + t->n;
	json_t **entries = xcalloc(n ? n : 1, sizeof *entries);
	size_t k = 0;
	for (size_t i = 0; i < q->n_options; i++)
		entries[k++] = json_pack("{s:s, s:I, s:I}", "value", q->options[i], "count", (json_int_t)0, "order",
		                         (json_int_t)i);
	for (size_t i = 0; i < t->n; i++) {
		if (!t->items[i].value)
			continue;
		int at = option_index(q, t->items[i].value);
		if (at >= 0) {
			json_object_set_new(entries[at], "count", json_integer(t->items[i].count));
		} else {
			entries[k] = json_pack("{s:s, s:I, s:I}", "value", t->items[i].value, "count",
			                       (json_int_t)t->items[i].count, "order", (json_int_t)k);
			json_object_set_new(entries[k], "listed", json_false());
			k++;
		}
	}
	qsort(entries, k, sizeof *entries, by_count);
	json_t *list = json_array();
	for (size_t i = 0; i < k; i++) {
		json_object_del(entries[i], "order");
		json_object_set_new(entries[i], "percent",
		                    json_real(percent(json_integer_value(json_object_get(entries[i], "count")), answered)));
		json_array_append_new(list, entries[i]);
	}
	free(entries);
	return list;
}

/* Adds the distribution of a 0-10 or rating question (values lo..hi), its mean and for nps the split
 * and the score. */
static void add_scores(json_t *o, const question *q, const tallies *t, int lo, int hi)
{
	int64_t counts[11] = { 0 }, answered = 0;
	double sum = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (!t->items[i].is_number)
			continue;
		double v = t->items[i].number;
		answered += t->items[i].count;
		sum += v * (double)t->items[i].count;
		if (v >= lo && v <= hi && v == floor(v) && hi - lo <= 10)
			counts[(int)v - lo] += t->items[i].count;
	}
	json_t *dist = json_array();
	for (int v = lo; v <= hi && v - lo <= 10; v++)
		json_array_append_new(dist, json_pack("{s:i, s:I, s:f}", "value", v, "count", (json_int_t)counts[v - lo],
		                                      "percent", percent(counts[v - lo], answered)));
	json_object_set_new(o, "answered", json_integer(answered));
	json_object_set_new(o, "distribution", dist);
	json_object_set_new(o, "mean", answered ? json_real(round(100.0 * sum / (double)answered) / 100.0) : json_null());
	if (q->type != Q_NPS)
		return;
	int64_t det = 0, pas = counts[7] + counts[8], pro = counts[9] + counts[10];
	for (int v = 0; v <= 6; v++)
		det += counts[v];
	json_object_set_new(o, "promoters", json_pack("{s:I, s:f}", "count", (json_int_t)pro, "percent", percent(pro, answered)));
	json_object_set_new(o, "passives", json_pack("{s:I, s:f}", "count", (json_int_t)pas, "percent", percent(pas, answered)));
	json_object_set_new(o, "detractors", json_pack("{s:I, s:f}", "count", (json_int_t)det, "percent", percent(det, answered)));
	json_object_set_new(o, "nps", answered ? json_real(round(1000.0 * (double)(pro - det) / (double)answered) / 10.0)
	                                       : json_null());
}

/* The summary entry of question q from the tally m. Returns a new object. */
static json_t *question_summary(const count_map *m, const question *q)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "id", q->id, "type", question_type_name(q->type), "label", q->label);
	tallies t = { 0 };
	int64_t answered = 0;
	switch (q->type) {
	case Q_SINGLE_CHOICE:
		groups(m, q->id, 0, GROUP_VALUE, &t);
		for (size_t i = 0; i < t.n; i++)
			answered += t.items[i].count;
		json_object_set_new(o, "answered", json_integer(answered));
		json_object_set_new(o, "options", ranked_options(q, &t, answered));
		break;
	case Q_MULTI_CHOICE:
		answered = answered_count(m, q->id, 0);
		groups(m, q->id, 1, GROUP_VALUE, &t);
		json_object_set_new(o, "answered", json_integer(answered));
		json_object_set_new(o, "options", ranked_options(q, &t, answered));
		break;
	case Q_NPS:
	case Q_RATING:
		groups(m, q->id, 0, GROUP_VALUE, &t);
		add_scores(o, q, &t, q->type == Q_NPS ? 0 : 1, q->type == Q_NPS ? 10 : q->scale);
		break;
	case Q_CONSENT: {
		groups(m, q->id, 0, GROUP_VALUE, &t);
		int64_t given = 0;
		for (size_t i = 0; i < t.n; i++) {
			answered += t.items[i].count;
			if (t.items[i].is_number && t.items[i].number == 1)
				given += t.items[i].count;
		}
		json_object_set_new(o, "answered", json_integer(answered));
		json_object_set_new(o, "given", json_integer(given));
		break;
	}
	default: /* text, long_text, email, phone, number, date: how many, never what */
		json_object_set_new(o, "answered", json_integer(answered_count(m, q->id, 0)));
		break;
	}
	tallies_free(&t);
	return o;
}

/* ---- variants ------------------------------------------------------------------------------------ */

/* The column of a value in the comparison table of q: for nps its category (0 detractor, 1 passive,
 * 2 promoter), for rating value - 1, for single choice the option index; -1 when it has none. */
static int comparison_column(const question *q, const tally *t)
{
	if (q->type == Q_NPS)
		return !t->is_number ? -1 : t->number >= 9 ? 2 : t->number >= 7 ? 1 : 0;
	if (q->type == Q_RATING)
		return t->is_number && t->number >= 1 && t->number <= q->scale ? (int)t->number - 1 : -1;
	return option_index(q, t->value);
}

/* The first single choice, nps or rating question of f, or NULL. */
static const question *comparison_question(const form *f)
{
	for (size_t i = 0; i < f->n_questions; i++) {
		question_type t = f->questions[i].type;
		if (t == Q_SINGLE_CHOICE || t == Q_NPS || t == Q_RATING)
			return &f->questions[i];
	}
	return NULL;
}

/* A comparison {test, question, statistic, df, p_value, significant, verdict} from a chi-square
 * statistic (chi < 0: the test does not apply, every figure null). question_id may be NULL. The verdict
 * is null; the caller writes it when significant. Returns a new object. */
static json_t *comparison(const char *test, const char *question_id, double chi, int df)
{
	json_t *o = json_pack("{s:s, s:o}", "test", test, "question", question_id ? json_string(question_id) : json_null());
	double p = chi < 0 ? 1.0 : summary_chi_square_p(chi, df);
	json_object_set_new(o, "statistic", chi < 0 ? json_null() : json_real(round(chi * 1000.0) / 1000.0));
	json_object_set_new(o, "df", chi < 0 ? json_null() : json_integer(df));
	json_object_set_new(o, "p_value", chi < 0 ? json_null() : json_real(p));
	json_object_set_new(o, "significant", json_boolean(chi >= 0 && p < SIGNIFICANCE));
	json_object_set_new(o, "verdict", json_null());
	return o;
}

/* The answers to the first single choice, nps or rating question compared between the variants (a
 * table of variants x options), from the tally m. Returns a new object. */
static json_t *answers_comparison(const count_map *m, const form *f)
{
	static const char test[] = "chi-square test of independence";
	const question *q = comparison_question(f);
	if (!q)
		return comparison(test, NULL, -1, 0);
	size_t nv = json_array_size(f->variants);
	tallies t = { 0 };
	groups(m, q->id, 0, GROUP_VALUE_VARIANT, &t);
	size_t cols = q->type == Q_NPS ? 3 : q->type == Q_RATING ? (size_t)q->scale : q->n_options;
	int64_t *table = xcalloc(nv * cols + 1, sizeof *table);
	for (size_t k = 0; k < t.n; k++) {
		int col = comparison_column(q, &t.items[k]);
		for (size_t i = 0; col >= 0 && i < nv; i++) {
			const char *id = json_string_value(json_object_get(json_array_get(f->variants, i), "id"));
			if (t.items[k].variant && strcmp(t.items[k].variant, id) == 0)
				table[i * cols + (size_t)col] += t.items[k].count;
		}
	}
	tallies_free(&t);
	int df = 0;
	double chi = summary_chi_square(table, nv, cols, &df);
	free(table);
	json_t *out = comparison(test, q->id, chi, df);
	if (json_is_true(json_object_get(out, "significant"))) {
		char *text = xasprintf("The answers to \"%s\" differ between the variants: a chi-square test of "
		                       "independence finds a difference this large by chance less than 5 %% of the "
		                       "time (p = %.3g).", q->label, json_real_value(json_object_get(out, "p_value")));
		json_object_set_new(out, "verdict", json_string(text));
		free(text);
	}
	return out;
}

/* Completion (answered or not, per view) compared between the variants. answers and views hold one
 * count per variant of f. Returns a new object. */
static json_t *completion_comparison(const form *f, const int64_t *answers, const int64_t *views)
{
	size_t nv = json_array_size(f->variants);
	int df = 0;
	double chi = summary_completion_chi_square(answers, views, nv, &df);
	json_t *out = comparison("chi-square test of completion (answered or not, per view)", NULL, chi, df);
	if (!json_is_true(json_object_get(out, "significant")))
		return out;
	size_t hi = nv, lo = nv;
	for (size_t i = 0; i < nv; i++) {
		if (views[i] <= 0)
			continue;
		double rate = (double)answers[i] / (double)views[i];
		if (hi == nv || rate > (double)answers[hi] / (double)views[hi])
			hi = i;
		if (lo == nv || rate < (double)answers[lo] / (double)views[lo])
			lo = i;
	}
	const char *id_hi = json_string_value(json_object_get(json_array_get(f->variants, hi), "id"));
	const char *id_lo = json_string_value(json_object_get(json_array_get(f->variants, lo), "id"));
	char *text = xasprintf("Variant %s is answered more often than variant %s (%.1f %% of its views against "
	                       "%.1f %%): a chi-square test finds a difference this large by chance less than 5 %% "
	                       "of the time (p = %.3g).", id_hi, id_lo, 100.0 * (double)answers[hi] / (double)views[hi],
	                       100.0 * (double)answers[lo] / (double)views[lo],
	                       json_real_value(json_object_get(out, "p_value")));
	json_object_set_new(out, "verdict", json_string(text));
	free(text);
	return out;
}

/* completion = answers / views, four decimals; null without views. */
static json_t *completion_value(int64_t answers, int64_t views)
{
	return views > 0 ? json_real(round(10000.0 * (double)answers / (double)views) / 10000.0) : json_null();
}

/* Whether the views can follow flt: they are counted per form, day, variant and device only. */
static bool views_follow(const response_filter *flt)
{
	return !flt->page && !flt->tag && !flt->category && flt->n_attrs == 0 && !flt->q;
}

/* The views per variant, collected by store_views_count. */
typedef struct views_of_variants {
	const form *f;
	int64_t *views;    /* one per variant of f */
	int64_t total;     /* every view, with a variant or without */
} views_of_variants;

static int collect_views(void *ctx, const char *variant, int64_t n)
{
	views_of_variants *v = ctx;
	v->total += n;
	for (size_t i = 0; i < json_array_size(v->f->variants); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(v->f->variants, i), "id")), variant) == 0)
			v->views[i] += n;
	return 0;
}

/* The views of f that follow flt: *total, and per variant into views (one slot per variant, may be
 * NULL for a form without variants). *total is -1 when the filter is one views cannot follow. 0, or -1
 * with *err. */
static int count_views(store *st, const form *f, const response_filter *flt, int64_t *views, int64_t *total,
                       char **err)
{
	*total = -1;
	if (!views_follow(flt))
		return 0;
	int64_t none = 0;
	views_of_variants v = { f, views ? views : &none, 0 };
	if (store_views_count(st, f->id, flt->since, flt->until, flt->variant, flt->device, collect_views, &v, err) != 0)
		return -1;
	*total = v.total;
	return 0;
}

/* The variants block from the tally m: answers, views and completion per variant, and the comparisons
 * — on completion when views are recorded, on the answers to the first choice or score question in any
 * case. views holds one count per variant, total is -1 when the filter leaves views out. Returns a new
 * object. */
static json_t *variants_summary(const count_map *m, const form *f, const int64_t *views, int64_t views_total)
{
	size_t nv = json_array_size(f->variants);
	tallies t = { 0 };
	groups(m, "", 2, GROUP_VARIANT, &t);
	int64_t *answers = xcalloc(nv + 1, sizeof *answers), seen = 0;
	json_t *list = json_array();
	for (size_t i = 0; i < nv; i++) {
		const char *id = json_string_value(json_object_get(json_array_get(f->variants, i), "id"));
		for (size_t k = 0; k < t.n; k++)
			if (t.items[k].variant && strcmp(t.items[k].variant, id) == 0)
				answers[i] = t.items[k].count;
		seen += views[i];
		json_array_append_new(list, json_pack("{s:s, s:I, s:o, s:o}", "id", id, "answers", (json_int_t)answers[i],
		                                      "views", views_total < 0 ? json_null() : json_integer(views[i]),
		                                      "completion", views_total < 0 ? json_null()
		                                                                    : completion_value(answers[i], views[i])));
	}
	tallies_free(&t);
	json_t *by_answers = answers_comparison(m, f);
	json_t *by_completion = views_total >= 0 && seen > 0 ? completion_comparison(f, answers, views) : NULL;
	free(answers);
	json_t *out = json_pack("{s:o, s:s}", "variants", list, "basis", by_completion ? "completion" : "answers");
	/* The headline comparison's members at the top, where the dashboard reads them. */
	const char *key;
	json_t *value;
	json_object_foreach(by_completion ? by_completion : by_answers, key, value)
		json_object_set(out, key, value);
	json_object_set_new(out, "completion_test", by_completion ? by_completion : json_null());
	json_object_set_new(out, "answers_test", by_answers);
	return out;
}

/* ---- the whole summary --------------------------------------------------------------------------- */

/* The summary inside the caller's snapshot. */
static json_t *summary_in_snapshot(store *st, const form *f, const response_filter *flt, char **err)
{
	summary_question *qs = xcalloc(f->n_questions + 1, sizeof *qs);
	for (size_t i = 0; i < f->n_questions; i++) {
		question_type t = f->questions[i].type;
		qs[i].id = f->questions[i].id;
		qs[i].by_value = t == Q_SINGLE_CHOICE || t == Q_NPS || t == Q_RATING || t == Q_CONSENT;
		qs[i].elements = t == Q_MULTI_CHOICE;
	}
	count_map *m = count_map_new();
	int rc = store_summary_tally(st, f->id, flt, qs, f->n_questions, m, err);
	free(qs);
	int64_t *views = xcalloc(json_array_size(f->variants) + 1, sizeof *views), views_total = -1;
	if (rc != 0 || count_views(st, f, flt, views, &views_total, err) != 0) {
		free(views);
		count_map_free(m);
		return NULL;
	}
	int64_t total = answered_count(m, "", 2);
	json_t *questions = json_array();
	for (size_t i = 0; i < f->n_questions; i++)
		json_array_append_new(questions, question_summary(m, &f->questions[i]));
	json_t *variants = f->variants ? variants_summary(m, f, views, views_total) : json_null();
	free(views);
	count_map_free(m);
	return json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "form", f->id, "answers", (json_int_t)total, "views",
	                 views_total < 0 ? json_null() : json_integer(views_total), "completion",
	                 views_total < 0 ? json_null() : completion_value(total, views_total), "questions", questions,
	                 "variants", variants);
}

json_t *summary_build(store *st, const form *f, const response_filter *flt, char **err)
{
	int begun = store_snapshot_begin(st, err);
	if (begun < 0)
		return NULL;
	json_t *out = summary_in_snapshot(st, f, flt, err);
	store_snapshot_end(st, begun);
	return out;
}
