/* urlencoded-fuzzer: an application/x-www-form-urlencoded body, read two ways — by the hosted form
 * route's parser (render_fields_parse) and by libevent's query-string parser that the router uses
 * (evhttp_parse_query_str) — typed by validate_answers_from_strings and validated against the fixed
 * form. Every field must come out as a string or an array of strings, typed answers may only name
 * questions of the form, and validation must keep its promises (see fuzz_check_validation). */
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "fuzz.h"
#include "render.h"
#include "util.h"
#include "validate.h"

/* Checks a parsed field set (borrowed) of a body with n_pairs '&'-separated pieces. */
static void check_fields(json_t *fields, size_t n_pairs)
{
	FUZZ_CHECK(json_is_object(fields));
	size_t values = 0;
	const char *name;
	json_t *v;
	json_object_foreach(fields, name, v) {
		FUZZ_CHECK(name[0] != '\0');
		if (json_is_string(v)) {
			values++;
			continue;
		}
		FUZZ_CHECK(json_is_array(v) && json_array_size(v) >= 2);
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
			FUZZ_CHECK(json_is_string(e));
		values += json_array_size(v);
	}
	FUZZ_CHECK(values <= n_pairs);
}

/* Types fields (borrowed) for the fixture form and validates them, checking every step. */
static void validate_fields(const form *f, json_t *fields)
{
	json_t *answers = validate_answers_from_strings(f, fields);
	FUZZ_CHECK(json_is_object(answers));
	const char *key;
	json_t *v;
	json_object_foreach(answers, key, v)
		FUZZ_CHECK(form_question_index(f, key) >= 0);
	json_t *problems = json_object();
	json_t *normalised = NULL;
	int rc = validate_answers(f, answers, &normalised, problems);
	fuzz_check_validation(f, rc, normalised, problems);
	json_decref(normalised);
	json_decref(problems);
	json_decref(answers);
}

/* Adds name=value to fields the way the hosted route does: a repeated name becomes an array.
 * Pairs that are not UTF-8 are skipped (the hosted parser replaces such bytes instead). */
static void add_pair(json_t *fields, const char *name, const char *value)
{
	json_t *s = json_string(value);
	if (!s || name[0] == '\0' || utf8_count(name, strlen(name)) == (size_t)-1) {
		json_decref(s);
		return;
	}
	json_t *prev = json_object_get(fields, name);
	if (!prev) {
		json_object_set_new(fields, name, s);
	} else if (json_is_array(prev)) {
		json_array_append_new(prev, s);
	} else {
		json_t *arr = json_array();
		json_array_append(arr, prev);
		json_array_append_new(arr, s);
		json_object_set_new(fields, name, arr);
	}
}

/* The same body through libevent's parser, as a query string (NUL-terminated copy). */
static void fuzz_query_string(const form *f, const uint8_t *data, size_t size, size_t n_pairs)
{
	char *text = xstrndup((const char *)data, size);
	struct evkeyvalq query;
	TAILQ_INIT(&query);
	if (evhttp_parse_query_str(text, &query) == 0) {
		json_t *fields = json_object();
		struct evkeyval *kv;
		TAILQ_FOREACH(kv, &query, next)
			add_pair(fields, kv->key, kv->value);
		check_fields(fields, n_pairs);
		validate_fields(f, fields);
		json_decref(fields);
	}
	evhttp_clear_headers(&query);
	free(text);
}

/* Parses one body with both parsers and validates the typed answers; see the file comment. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const form *f = fuzz_fixture_form();
	size_t n_pairs = 1;
	for (size_t i = 0; i < size; i++)
		n_pairs += data[i] == '&';
	json_t *fields = render_fields_parse((const char *)data, size);
	check_fields(fields, n_pairs);
	validate_fields(f, fields);
	json_decref(fields);
	fuzz_query_string(f, data, size, n_pairs);
	return 0;
}
