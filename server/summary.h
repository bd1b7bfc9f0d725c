/* summary: the per-question summary of a form's answers (GET /api/v1/forms/{form}/summary) — counts
 * and percentages per option, score distributions with the NPS split, counts of text, contact and
 * consent answers (never their values), views and completion, and answers, views and completion per
 * wording variant with chi-square comparisons. */
#ifndef EARSHOT_SUMMARY_H
#define EARSHOT_SUMMARY_H

#include <stddef.h>
#include <jansson.h>

#include "form.h"
#include "response_filter.h"
#include "storage.h"

/* The summary of f's answers matching flt, read through st. Returns a new object (caller owns it), or
 * NULL with *err (caller frees). The shape is documented in docs/http-api.md. */
json_t *summary_build(store *st, const form *f, const response_filter *flt, char **err);

/* The chi-square statistic of independence of an rows x cols table of counts (row-major), with *df.
 * Rows and columns whose total is zero are left out. Returns the statistic, or -1 when the table has
 * fewer than 2 non-empty rows or columns, or an expected count below 5 (the test does not apply). */
double summary_chi_square(const int64_t *table, size_t rows, size_t cols, int *df);
/* The chi-square statistic comparing completion between n variants: a table of n rows (variants) x 2
 * (views answered, views not answered), from answers[i] and views[i]; variants without views are left
 * out. Returns -1 (the test does not apply) as summary_chi_square does, and also when a variant has
 * more answers than views. Sets *df. */
double summary_completion_chi_square(const int64_t *answers, const int64_t *views, size_t n, int *df);
/* The upper tail probability P(X >= x) of the chi-square distribution with df degrees of freedom. */
double summary_chi_square_p(double x, int df);

#endif
