/* json-submit-fuzzer: a JSON submit body as POST /api/v1/forms/{form}/responses reads it
 * (json_loadb with duplicate keys refused), its "answers" validated against a fixed form that has
 * every question type and every kind of branch. The result must keep validate_answers' promises
 * (see fuzz_check_validation). The raw input is also offered as a string answer to every question,
 * so that the per-type checks (email, phone, date, ...) see fuzzed text without a JSON wrapper. */
#include "fuzz.h"
#include "validate.h"

/* Offers data, when it is UTF-8, as a string answer to each question of f. */
static void fuzz_each_question(const form *f, const uint8_t *data, size_t size)
{
	json_t *text = json_stringn((const char *)data, size);
	if (!text)
		return;
	for (size_t i = 0; i < f->n_questions; i++) {
		json_t *norm = NULL;
		const char *why = validate_value(&f->questions[i], text, &norm);
		if (why == NULL && norm != NULL)
			fuzz_check_answer(f, f->questions[i].id, norm);
		FUZZ_CHECK(why == NULL || norm == NULL);
		json_decref(norm);
	}
	json_decref(text);
}

/* Parses one body as the route does and validates its answers; see the file comment. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const form *f = fuzz_fixture_form();
	fuzz_each_question(f, data, size);
	json_error_t jerr;
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!body) {
		FUZZ_CHECK(jerr.position >= 0 && (size_t)jerr.position <= size);
		return 0;
	}
	/* The route takes answers from an object body; other bodies are still handed over here so that
	 * validate_answers' own type check is exercised. */
	json_t *answers = json_is_object(body) ? json_object_get(body, "answers") : body;
	json_t *problems = json_object();
	json_t *normalised = NULL;
	int rc = validate_answers(f, answers, &normalised, problems);
	fuzz_check_validation(f, rc, normalised, problems);
	json_decref(normalised);
	json_decref(problems);
	json_decref(body);
	return 0;
}
