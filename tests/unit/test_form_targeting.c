/* Unit tests of a form's targeting and wordings: trigger.schedule, trigger.max_responses and
 * trigger.audience, locales: and variants: with their mistakes at exact positions, views of a form
 * in a language or variant, the pick of a variant by weight, and the server's own sentences in
 * en, sl, ro, uk and nb with the choice of a language from Accept-Language. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "i18n.h"
#include "util.h"

#define PATH "forms/t.yaml"

#define BASE                                                                                       \
	"title: Before you go\n"                                                                   \
	"questions:\n"                                                                             \
	"  - {id: reason, type: single_choice, label: Why?, options: [Price, Shipping, Other]}\n" \
	"  - {id: note, type: text, label: More?, hint: e.g. size}\n"

/* Loads yaml expecting it valid (caller frees the form). */
static form *load_ok(const char *yaml)
{
	diag_list d;
	diag_init(&d);
	form *f = form_load_string(yaml, strlen(yaml), PATH, &d);
	if (!f || d.n) {
		char *all = diag_join(&d);
		fprintf(stderr, "unexpected problems:\n%s\n", all);
		free(all);
	}
	assert_non_null(f);
	diag_free(&d);
	return f;
}

/* Loads yaml expecting exactly the expected problem lines. */
static void expect_problems(const char *yaml, const char *expected)
{
	diag_list d;
	diag_init(&d);
	form *f = form_load_string(yaml, strlen(yaml), PATH, &d);
	assert_null(f);
	char *all = diag_join(&d);
	assert_string_equal(all, expected);
	free(all);
	diag_free(&d);
}

static int64_t at(const char *iso)
{
	int64_t ms = 0;
	assert_int_equal(iso8601_parse_ms(iso, &ms), 0);
	return ms;
}

static void test_schedule_boundaries(void **state)
{
	(void)state;
	form *f = load_ok(BASE "trigger:\n  event: manual\n  schedule: {from: 2026-12-01, until: 2027-01-01T12:00:00Z}\n"
	                       "  max_responses: 500\n");
	assert_int_equal(form_schedule_at(f, at("2026-11-30T23:59:59.999Z")), FORM_NOT_STARTED);
	assert_int_equal(form_schedule_at(f, at("2026-12-01T00:00:00Z")), FORM_OPEN);
	assert_int_equal(form_schedule_at(f, at("2027-01-01T11:59:59.999Z")), FORM_OPEN);
	assert_int_equal(form_schedule_at(f, at("2027-01-01T12:00:00Z")), FORM_ENDED);
	assert_int_equal(f->trigger.max_responses, 500);
	form_free(f);
	f = load_ok(BASE "trigger:\n  event: manual\n  schedule: {until: 2027-01-01}\n");
	assert_int_equal(form_schedule_at(f, 0), FORM_OPEN);
	assert_int_equal(form_schedule_at(f, at("2027-01-01")), FORM_ENDED);
	assert_int_equal(f->trigger.max_responses, 0);
	form_free(f);
	f = load_ok(BASE);
	assert_int_equal(form_schedule_at(f, INT64_MAX), FORM_OPEN);
	form_free(f);
}

static void test_schedule_mistakes(void **state)
{
	(void)state;
	expect_problems(BASE "trigger:\n  event: manual\n  schedule: {from: 2027-01-01, until: 2026-12-01}\n",
	                PATH ":7:39: \"until\" must be later than \"from\"");
	expect_problems(BASE "trigger:\n  event: manual\n  schedule: {from: next week}\n",
	                PATH ":7:20: invalid value \"next week\" for \"from\", it must be a UTC date such as 2026-12-01 "
	                     "or a time such as 2026-12-01T09:00:00Z");
	expect_problems(BASE "trigger:\n  event: manual\n  schedule: {}\n",
	                PATH ":7:13: \"schedule\" needs \"from\", \"until\" or both");
	expect_problems(BASE "trigger:\n  event: manual\n  schedule: {start: 2026-01-01}\n",
	                PATH ":7:13: \"schedule\" needs \"from\", \"until\" or both\n"
	                PATH ":7:14: unknown key \"start\", expected one of: from, until");
	expect_problems(BASE "trigger:\n  event: manual\n  max_responses: 0\n",
	                PATH ":7:18: invalid value \"0\" for \"max_responses\", it must be an integer >= 1");
}

static void test_audience(void **state)
{
	(void)state;
	form *f = load_ok(BASE "trigger:\n  event: delay\n  audience:\n    device: [mobile, tablet]\n    visitor: returning\n"
	                       "    attributes: {plan: pro, country: [SI, NO]}\n    query: {utm_source: newsletter}\n");
	char *json = json_dumps(json_object_get(form_public_json(f), "trigger"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(strstr(json, "\"audience\":{\"attributes\":{\"country\":[\"SI\",\"NO\"],\"plan\":[\"pro\"]},"
	                             "\"device\":[\"mobile\",\"tablet\"],\"query\":{\"utm_source\":[\"newsletter\"]},"
	                             "\"visitor\":\"returning\"}"));
	free(json);
	form_free(f);
	f = load_ok(BASE "trigger:\n  event: delay\n  audience: {device: desktop}\n");
	json = json_dumps(f->trigger.audience, JSON_COMPACT);
	assert_string_equal(json, "{\"device\":[\"desktop\"]}");
	free(json);
	form_free(f);
	expect_problems(BASE "trigger:\n  event: delay\n  audience: {device: [phone], visitor: old}\n",
	                PATH ":7:23: invalid value \"phone\" for \"device\", it must be one of: mobile, desktop, tablet\n"
	                PATH ":7:40: invalid value \"old\" for \"visitor\", it must be one of: new, returning");
	expect_problems(BASE "trigger:\n  event: delay\n  audience: {query: {utm_source: []}, lang: sl}\n",
	                PATH ":7:34: \"utm_source\" must not be empty\n"
	                PATH ":7:39: unknown key \"lang\", expected one of: device, visitor, attributes, query");
}

static void test_locales_and_views(void **state)
{
	(void)state;
	form *f = load_ok(BASE "thank_you: Thanks!\nlocales:\n"
	                       "  sl: {title: Preden odidete, questions: {reason: {label: Zakaj?, options: [Cena, Poštnina, Drugo]}}}\n"
	                       "  uk: {thank_you: Дякуємо, questions: {reason: {options: {Other: Інше}}, note: {hint: напр.}}}\n");
	form *v = form_view_new(f, "sl", NULL);
	assert_string_equal(v->title, "Preden odidete");
	assert_string_equal(v->locale, "sl");
	assert_string_equal(v->questions[0].label, "Zakaj?");
	assert_string_equal(v->questions[0].options[1], "Shipping");
	assert_string_equal(v->questions[0].option_labels[1], "Poštnina");
	assert_string_equal(v->thank_you, "Thanks!");
	form_view_free(v);
	v = form_view_new(f, "uk", NULL);
	assert_string_equal(v->title, "Before you go");
	assert_string_equal(v->thank_you, "Дякуємо");
	assert_string_equal(v->questions[0].option_labels[0], "Price");
	assert_string_equal(v->questions[0].option_labels[2], "Інше");
	assert_string_equal(v->questions[1].hint, "напр.");
	form_view_free(v);
	v = form_view_new(f, "de", NULL);
	assert_string_equal(v->locale, "en");
	assert_null(v->questions[0].option_labels);
	form_view_free(v);
	assert_null(f->questions[0].option_labels);
	json_t *pub = form_public_json(f);
	assert_non_null(json_object_get(json_object_get(pub, "locales"), "uk"));
	form_free(f);
}

static void test_locale_mistakes(void **state)
{
	(void)state;
	expect_problems(BASE "locales:\n  sl:\n    questions:\n      reasn: {label: Zakaj?}\n",
	                PATH ":8:7: the form has no question \"reasn\"");
	expect_problems(BASE "locales:\n  sl: {questions: {reason: {options: {Prize: Cena}}}}\n",
	                PATH ":6:39: question \"reason\" has no option \"Prize\"");
	expect_problems(BASE "locales:\n  sl: {questions: {reason: {options: [Cena]}}}\n",
	                PATH ":6:38: \"options\" has 1 texts but question \"reason\" has 3 options");
	expect_problems(BASE "locales:\n  sl: {questions: {note: {options: [a]}}}\n",
	                PATH ":6:27: question \"note\" has no options");
	expect_problems(BASE "locales:\n  en: {title: x}\n  SL: {title: y}\n  sl: {titel: z}\n",
	                PATH ":6:3: \"en\" is the form's own language (\"locale\"); translate into other languages\n"
	                PATH ":7:3: invalid value \"SL\" for \"locales\", each key must be a language tag such as sl, "
	                     "nb or pt-BR\n"
	                PATH ":8:8: unknown key \"titel\", expected one of: title, thank_you, questions");
	expect_problems(BASE "locales:\n  sl: {title: \"\"}\n", PATH ":6:15: \"title\" must not be empty");
}

static void test_variants(void **state)
{
	(void)state;
	form *f = load_ok(BASE "variants:\n  - {id: a, weight: 30}\n  - {id: b, weight: 70, title: Anything else?}\n"
	                       "  - {id: off, weight: 0}\n");
	assert_string_equal(form_variant_pick(f, 0.0), "a");
	assert_string_equal(form_variant_pick(f, 0.2999), "a");
	assert_string_equal(form_variant_pick(f, 0.3), "b");
	assert_string_equal(form_variant_pick(f, 0.99999), "b");
	int counts[2] = { 0, 0 };
	for (int i = 0; i < 10000; i++)
		counts[strcmp(form_variant_pick(f, (double)i / 10000.0), "a") == 0 ? 0 : 1]++;
	assert_int_equal(counts[0], 3000);
	form *v = form_view_new(f, NULL, "b");
	assert_string_equal(v->title, "Anything else?");
	form_view_free(v);
	v = form_view_new(f, NULL, "a");
	assert_string_equal(v->title, "Before you go");
	form_view_free(v);
	assert_null(form_variant(f, "c"));
	assert_non_null(form_variant(f, "off"));
	form_free(f);
	f = load_ok(BASE);
	assert_null(form_variant_pick(f, 0.5));
	form_free(f);
	expect_problems(BASE "variants:\n  - {id: A}\n  - {id: b, weight: -1}\n  - x\n",
	                PATH ":6:10: invalid value \"A\" for \"id\", a variant id must match [a-z0-9][a-z0-9_-]{0,31}\n"
	                PATH ":7:21: invalid value \"-1\" for \"weight\", it must be an integer from 0 to 1000000\n"
	                PATH ":8:5: each variant must be a mapping such as {id: a, weight: 50}");
	expect_problems(BASE "variants: []\n", PATH ":5:11: \"variants\" must not be empty");
}

static void test_accept_language(void **state)
{
	(void)state;
	const char *avail[] = { "en", "sl", "uk" };
	assert_string_equal(i18n_pick("sl-SI,sl;q=0.9,en;q=0.8", avail, 3), "sl");
	assert_string_equal(i18n_pick("de-DE, uk;q=0.5, en;q=0.4", avail, 3), "uk");
	assert_string_equal(i18n_pick("en-GB;q=0.3, sl;q=0.2", avail, 3), "en");
	assert_string_equal(i18n_pick("UK", avail, 3), "uk");
	assert_null(i18n_pick("de, fr;q=0.5", avail, 3));
	assert_null(i18n_pick("sl;q=0", avail, 3));
	assert_null(i18n_pick(NULL, avail, 3));
	assert_string_equal(i18n_pick_server("no-NO"), "nb");
	assert_string_equal(i18n_pick_server("nn"), "nb");
	assert_string_equal(i18n_pick_server("ro-RO"), "ro");
	assert_string_equal(i18n_pick_server("fr"), "en");
	assert_string_equal(i18n_chrome("uk", "fr"), "uk");
	assert_string_equal(i18n_chrome("de", "fr"), "en");
	assert_string_equal(i18n_chrome("en", "sl"), "sl");
}

static void expect_sentence(const char *lang, const char *english, const char *want)
{
	char *got = i18n_sentence(lang, english);
	assert_string_equal(got, want);
	free(got);
}

static void test_sentences(void **state)
{
	(void)state;
	expect_sentence("sl", "This field is required", "To polje je obvezno");
	expect_sentence("uk", "This field must be at most 10 characters", "Це поле може містити щонайбільше 10 символів");
	expect_sentence("ro", "must be a number from 1.5 to 20", "trebuie să fie un număr de la 1.5 la 20");
	expect_sentence("nb", "Choose from 1 to 7.", "Velg fra 1 til 7.");
	expect_sentence("nb", "must be at most 5", "må være høyst 5");
	expect_sentence("sl", "Something new", "Something new");
	expect_sentence("en", "is required", "is required");
	expect_sentence(NULL, "is required", "is required");
	expect_sentence("fr", "is required", "is required");
	json_t *p = json_pack("{s:s, s:s, s:i}", "a", "is required", "b", "must be text", "c", 3);
	i18n_problems("uk", p);
	assert_string_equal(json_string_value(json_object_get(p, "a")), "обов'язкове");
	assert_string_equal(json_string_value(json_object_get(p, "b")), "має бути текстом");
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule_boundaries), cmocka_unit_test(test_schedule_mistakes),
		cmocka_unit_test(test_audience),            cmocka_unit_test(test_locales_and_views),
		cmocka_unit_test(test_locale_mistakes),     cmocka_unit_test(test_variants),
		cmocka_unit_test(test_accept_language),     cmocka_unit_test(test_sentences),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
