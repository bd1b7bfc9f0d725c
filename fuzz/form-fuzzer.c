/* form-fuzzer: a forms/<id>.yaml text through form_load_string. A text is either refused with at
 * least one positioned problem, or accepted as a form whose ids follow the id rules, whose branches
 * lead to questions of the form (or "end"), whose widget view encodes as JSON, and which answers the
 * validation and page-matching calls without harm. */
#include <string.h>

#include "form.h"
#include "fuzz.h"
#include "validate.h"

#define DISPLAY_PATH "forms/fuzz.yaml"

/* True when s matches [first][rest]{0,63} with the given character sets. */
static bool id_ok(const char *s, const char *first, const char *rest)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 64 && strchr(first, s[0]) != NULL && strspn(s + 1, rest) == n - 1;
}

/* Checks one question (borrowed) at index i of f. */
static void check_question(const form *f, size_t i)
{
	const question *q = &f->questions[i];
	FUZZ_CHECK(id_ok(q->id, "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789_"));
	FUZZ_CHECK(form_question_index(f, q->id) == (int)i);
	FUZZ_CHECK(q->label != NULL);
	FUZZ_CHECK(question_type_name(q->type) != NULL);
	if (q->type == Q_SINGLE_CHOICE || q->type == Q_MULTI_CHOICE)
		FUZZ_CHECK(q->n_options >= 1);
	if (q->type == Q_RATING)
		FUZZ_CHECK(q->scale >= 1);
	if (q->has_min && q->has_max)
		FUZZ_CHECK(q->min <= q->max);
	for (size_t j = 0; j < q->n_next; j++) {
		const char *to = q->next[j].goto_id;
		FUZZ_CHECK(to && (strcmp(to, "end") == 0 || form_question_index(f, to) >= 0));
	}
	/* A null answer is empty: a problem for a required question, nothing to store otherwise. */
	json_t *norm = NULL;
	json_t *null_value = json_null();
	const char *why = validate_value(q, null_value, &norm);
	if (q->required)
		FUZZ_CHECK(why != NULL);
	else
		FUZZ_CHECK(why == NULL && norm == NULL);
	json_decref(norm);
	json_decref(null_value);
}

/* Checks an accepted form (borrowed). */
static void check_form(const form *f)
{
	FUZZ_CHECK(id_ok(f->id, "abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789-"));
	FUZZ_CHECK(f->title && f->locale && f->thank_you);
	FUZZ_CHECK(f->trigger.sample_percent >= 0 && f->trigger.sample_percent <= 100);
	for (size_t i = 0; i < f->n_questions; i++)
		check_question(f, i);
	char *view = json_dumps(form_public_json(f), JSON_COMPACT);
	FUZZ_CHECK(view != NULL);
	free(view);
	form_matches_page(f, "/");
	form_matches_page(f, "/checkout/done");
	/* An empty submission: valid exactly when nothing is required on the path. */
	json_t *answers = json_object(), *problems = json_object(), *normalised = NULL;
	int rc = validate_answers(f, answers, &normalised, problems);
	FUZZ_CHECK((rc == 0) == (json_object_size(problems) == 0));
	FUZZ_CHECK(json_object_size(normalised) == 0);
	json_decref(normalised);
	json_decref(problems);
	json_decref(answers);
}

/* Loads one form text and checks the outcome; see the file comment. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	diag_list diags;
	diag_init(&diags);
	form *f = form_load_string((const char *)data, size, DISPLAY_PATH, &diags);
	FUZZ_CHECK((f == NULL) == (diags.n > 0));
	for (size_t i = 0; i < diags.n; i++)
		FUZZ_CHECK(strncmp(diags.items[i], DISPLAY_PATH, strlen(DISPLAY_PATH)) == 0);
	if (f)
		check_form(f);
	form_free(f);
	diag_free(&diags);
	return 0;
}
