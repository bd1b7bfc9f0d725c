/* fixture: the fixed form of the submit fuzz targets, and the properties every validation result
 * must have whatever the input was. */
#include <string.h>

#include "fuzz.h"
#include "validate.h"

static const char fixture_yaml[] =
	"id: fuzz-all\n"
	"kind: survey\n"
	"title: Every question type\n"
	"questions:\n"
	"  - id: reason\n"
	"    type: single_choice\n"
	"    label: Why?\n"
	"    required: true\n"
	"    options: [Price, Shipping cost, Just looking, Other]\n"
	"    next:\n"
	"      - if: {equals: Other}\n"
	"        goto: reason_other\n"
	"      - if: {in: [Price, Shipping cost]}\n"
	"        goto: score\n"
	"      - goto: score\n"
	"  - id: reason_other\n"
	"    type: text\n"
	"    label: Tell us more\n"
	"    max_length: 20\n"
	"  - id: score\n"
	"    type: nps\n"
	"    label: Recommend us?\n"
	"    required: true\n"
	"    next:\n"
	"      - if: {lte: 6}\n"
	"        goto: why_low\n"
	"      - if: {gte: 9}\n"
	"        goto: topics\n"
	"      - goto: stars\n"
	"  - id: why_low\n"
	"    type: long_text\n"
	"    label: What went wrong?\n"
	"    max_length: 200\n"
	"    next:\n"
	"      - if: {answered: true}\n"
	"        goto: stars\n"
	"      - goto: end\n"
	"  - id: topics\n"
	"    type: multi_choice\n"
	"    label: Topics\n"
	"    options: [a, b, c, \"d, e\"]\n"
	"  - id: stars\n"
	"    type: rating\n"
	"    label: Stars\n"
	"    scale: 7\n"
	"  - id: qty\n"
	"    type: number\n"
	"    label: How many?\n"
	"    min: -5\n"
	"    max: 1000.5\n"
	"  - id: email\n"
	"    type: email\n"
	"    label: Email\n"
	"  - id: phone\n"
	"    type: phone\n"
	"    label: Phone\n"
	"    default_country: \"386\"\n"
	"  - id: born\n"
	"    type: date\n"
	"    label: Birthday\n"
	"  - id: agree\n"
	"    type: consent\n"
	"    label: I agree\n"
	"    required: true\n"
	"thank_you: Thanks!\n";

/* Loads the fixture once; aborts when the fixture itself does not load (a broken build). */
const form *fuzz_fixture_form(void)
{
	static form *f;
	if (f)
		return f;
	diag_list diags;
	diag_init(&diags);
	f = form_load_string(fixture_yaml, strlen(fixture_yaml), "fuzz/fuzz-all.yaml", &diags);
	for (size_t i = 0; i < diags.n; i++)
		fprintf(stderr, "%s\n", diags.items[i]);
	diag_free(&diags);
	FUZZ_CHECK(f != NULL);
	return f;
}

void fuzz_check_answer(const form *f, const char *key, json_t *value)
{
	int idx = form_question_index(f, key);
	FUZZ_CHECK(idx >= 0);
	const question *q = &f->questions[idx];
	json_t *again = NULL;
	const char *why = validate_value(q, value, &again);
	FUZZ_CHECK(why == NULL);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(json_equal(again, value));
	json_decref(again);
}

void fuzz_check_validation(const form *f, int rc, json_t *normalised, json_t *problems)
{
	FUZZ_CHECK(json_is_object(problems));
	FUZZ_CHECK(json_is_object(normalised));
	FUZZ_CHECK((rc == 0) == (json_object_size(problems) == 0));
	const char *key;
	json_t *value;
	json_object_foreach(problems, key, value)
		FUZZ_CHECK(json_is_string(value) && json_string_length(value) > 0);
	json_object_foreach(normalised, key, value)
		fuzz_check_answer(f, key, value);
	char *text = json_dumps(normalised, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	free(text);
	text = json_dumps(problems, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	free(text);
}
