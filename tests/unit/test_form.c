/* Unit tests of form files: every kind of mistake with its exact position, defaults, branching,
 * the registry, page matching and the widget's JSON view. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "form.h"
#include "util.h"
#include "test_support.h"

#define PATH "forms/t.yaml"

/* ---- helpers -------------------------------------------------------------------------------- */

/* Loads yaml as forms/t.yaml and checks it is valid. Returns the form (caller frees). */
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
	assert_int_equal(d.n, 0);
	diag_free(&d);
	return f;
}

/* Loads yaml as `path` expecting it to be refused with exactly the expected lines. */
static void expect_problems_at(const char *path, const char *yaml, const char *expected)
{
	diag_list d;
	diag_init(&d);
	form *f = form_load_string(yaml, strlen(yaml), path, &d);
	assert_null(f);
	char *all = diag_join(&d);
	assert_string_equal(all, expected);
	free(all);
	diag_free(&d);
}

static void expect_problems(const char *yaml, const char *expected)
{
	expect_problems_at(PATH, yaml, expected);
}

/* A minimal valid form body after the given header lines. */
#define ONE_QUESTION "questions:\n  - id: q\n    type: text\n    label: Q\n"

/* Changes to the source directory (EARSHOT_SRCDIR, or . / .. when they hold forms/nps.yaml). */
static void chdir_srcdir(void)
{
	const char *env = getenv("EARSHOT_SRCDIR");
	const char *candidates[] = { env, ".", "..", NULL };
	for (size_t i = 0; i < 3; i++) {
		if (!candidates[i])
			continue;
		char *probe = xasprintf("%s/forms/nps.yaml", candidates[i]);
		int ok = access(probe, R_OK) == 0;
		free(probe);
		if (ok) {
			assert_int_equal(chdir(candidates[i]), 0);
			return;
		}
	}
	fail_msg("cannot find the source directory (set EARSHOT_SRCDIR)");
}

/* Reads a whole file into a malloc'd string. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = xcalloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* ---- defaults and a full form ---------------------------------------------------------------- */

static void test_defaults(void **state)
{
	(void)state;
	form *f = load_ok("title: Hello\n" ONE_QUESTION);
	assert_string_equal(f->id, "t");
	assert_string_equal(f->path, PATH);
	assert_int_equal(f->kind, FORM_SURVEY);
	assert_string_equal(f->title, "Hello");
	assert_string_equal(f->locale, "en");
	assert_true(f->active);
	assert_string_equal(f->thank_you, "Thank you!");
	assert_int_equal(f->n_questions, 1);
	question *q = &f->questions[0];
	assert_string_equal(q->id, "q");
	assert_int_equal(q->type, Q_TEXT);
	assert_string_equal(q->label, "Q");
	assert_false(q->required);
	assert_int_equal(q->max_length, 2000);
	assert_int_equal(q->scale, 5);
	assert_null(q->why);
	assert_null(q->hint);
	assert_null(q->default_country);
	assert_int_equal(q->n_next, 0);
	assert_int_equal(f->trigger.event, TRIGGER_NONE);
	assert_int_equal(f->trigger.delay_seconds, 15);
	assert_int_equal(f->trigger.scroll_percent, 50);
	assert_int_equal(f->trigger.sample_percent, 100);
	assert_int_equal(f->trigger.recontact_days, 30);
	assert_int_equal(f->trigger.n_include, 0);
	assert_int_equal(f->trigger.n_exclude, 0);
	form_free(f);
}

static void test_stem_id_from_yml(void **state)
{
	(void)state;
	diag_list d;
	diag_init(&d);
	const char *yaml = "title: x\n" ONE_QUESTION;
	form *f = form_load_string(yaml, strlen(yaml), "/srv/forms/exit-2.yml", &d);
	assert_non_null(f);
	assert_string_equal(f->id, "exit-2");
	form_free(f);
	diag_free(&d);
}

static void test_full_form(void **state)
{
	(void)state;
	form *f = load_ok(
		"id: exit-survey\n"
		"kind: survey\n"
		"title: Before you go\n"
		"locale: pt-BR\n"
		"active: false\n"
		"questions:\n"
		"  - id: reason\n"
		"    type: single_choice\n"
		"    label: Why?\n"
		"    required: true\n"
		"    options: [Price, Shipping cost, Other]\n"
		"    next:\n"
		"      - if: {equals: Other}\n"
		"        goto: more\n"
		"      - if: {in: [Price, Shipping cost]}\n"
		"        goto: end\n"
		"      - goto: score\n"
		"  - id: score\n"
		"    type: nps\n"
		"    label: Score\n"
		"    next:\n"
		"      - if: {lte: 6}\n"
		"        goto: more\n"
		"      - if: {gte: 9.5}\n"
		"        goto: end\n"
		"  - id: more\n"
		"    type: long_text\n"
		"    label: Tell us more\n"
		"    max_length: 100000\n"
		"    why: So we can fix it.\n"
		"    hint: \"Anything\"\n"
		"    next: [{if: {answered: true}, goto: stars}]\n"
		"  - id: stars\n"
		"    type: rating\n"
		"    label: Stars\n"
		"    scale: 10\n"
		"  - id: count\n"
		"    type: number\n"
		"    label: How many?\n"
		"    min: -2\n"
		"    max: 7.5\n"
		"  - id: tel\n"
		"    type: phone\n"
		"    label: Phone\n"
		"    default_country: \"+386\"\n"
		"  - id: ok\n"
		"    type: consent\n"
		"    label: I agree\n"
		"trigger:\n"
		"  event: scroll\n"
		"  delay_seconds: 0\n"
		"  scroll_percent: 100\n"
		"  pages: {include: [\"/cart*\", \"*\"], exclude: [\"/cart/done\"]}\n"
		"  sample_percent: 0\n"
		"  recontact_days: 0\n"
		"thank_you: Thanks!\n");
	assert_string_equal(f->id, "exit-survey");
	assert_string_equal(f->locale, "pt-BR");
	assert_false(f->active);
	assert_string_equal(f->thank_you, "Thanks!");
	assert_int_equal(f->n_questions, 7);
	question *q = &f->questions[0];
	assert_true(q->required);
	assert_int_equal(q->n_options, 3);
	assert_string_equal(q->options[1], "Shipping cost");
	assert_int_equal(q->n_next, 3);
	assert_int_equal(q->next[0].op, COND_EQUALS);
	assert_string_equal(json_string_value(q->next[0].value), "Other");
	assert_string_equal(q->next[0].goto_id, "more");
	assert_int_equal(q->next[1].op, COND_IN);
	assert_true(json_is_array(q->next[1].value));
	assert_int_equal(json_array_size(q->next[1].value), 2);
	assert_string_equal(q->next[1].goto_id, "end");
	assert_int_equal(q->next[2].op, COND_ALWAYS);
	assert_null(q->next[2].value);
	q = &f->questions[1];
	assert_int_equal(q->next[0].op, COND_LTE);
	assert_true(json_is_integer(q->next[0].value));
	assert_int_equal(json_integer_value(q->next[0].value), 6);
	assert_int_equal(q->next[1].op, COND_GTE);
	assert_true(json_is_real(q->next[1].value));
	q = &f->questions[2];
	assert_int_equal(q->max_length, 100000);
	assert_string_equal(q->why, "So we can fix it.");
	assert_string_equal(q->hint, "Anything");
	assert_int_equal(q->next[0].op, COND_ANSWERED);
	assert_null(q->next[0].value);
	assert_int_equal(f->questions[3].scale, 10);
	q = &f->questions[4];
	assert_true(q->has_min && q->has_max);
	assert_true(q->min == -2.0 && q->max == 7.5);
	assert_string_equal(f->questions[5].default_country, "386");
	assert_int_equal(f->questions[6].type, Q_CONSENT);
	assert_int_equal(f->trigger.event, TRIGGER_SCROLL);
	assert_int_equal(f->trigger.delay_seconds, 0);
	assert_int_equal(f->trigger.scroll_percent, 100);
	assert_int_equal(f->trigger.sample_percent, 0);
	assert_int_equal(f->trigger.recontact_days, 0);
	assert_int_equal(f->trigger.n_include, 2);
	assert_string_equal(f->trigger.exclude[0], "/cart/done");
	assert_int_equal(form_question_index(f, "more"), 2);
	assert_int_equal(form_question_index(f, "nope"), -1);
	form_free(f);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(question_type_name(Q_TEXT), "text");
	assert_string_equal(question_type_name(Q_SINGLE_CHOICE), "single_choice");
	assert_string_equal(question_type_name(Q_CONSENT), "consent");
	assert_string_equal(form_kind_name(FORM_SURVEY), "survey");
	assert_string_equal(form_kind_name(FORM_SIGNUP), "signup");
}

static void test_locales(void **state)
{
	(void)state;
	const char *good[] = { "en", "sl", "ro", "uk", "no", "nb", "fil", "pt-BR", "zh-Hant", "sr-Latn" };
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		char *yaml = xasprintf("title: x\nlocale: %s\n" ONE_QUESTION, good[i]);
		form *f = load_ok(yaml);
		assert_string_equal(f->locale, good[i]);
		form_free(f);
		free(yaml);
	}
#define LOCALE_RULE "it must be a language tag such as en, sl, nb or pt-BR"
	expect_problems("title: x\nlocale: EN\n" ONE_QUESTION, PATH ":2:9: invalid value \"EN\" for \"locale\", " LOCALE_RULE);
	expect_problems("title: x\nlocale: english\n" ONE_QUESTION,
	                PATH ":2:9: invalid value \"english\" for \"locale\", " LOCALE_RULE);
	expect_problems("title: x\nlocale: en-\n" ONE_QUESTION,
	                PATH ":2:9: invalid value \"en-\" for \"locale\", " LOCALE_RULE);
}

/* ---- mistakes, one kind per test ------------------------------------------------------------ */

static void test_unknown_key(void **state)
{
	(void)state;
	expect_problems("title: x\ntitel: y\n" ONE_QUESTION,
	                PATH ":2:1: unknown key \"titel\", expected one of: id, kind, title, locale, active, questions, "
	                "trigger, thank_you, follow_up, offer_up_front, locales, variants, confirm");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: text\n    label: Q\n    requird: true\n",
	                PATH ":6:5: unknown key \"requird\", expected one of: id, type, label, required, options, scale, "
	                "max_length, min, max, why, hint, default_country, next");
	expect_problems("title: x\n" ONE_QUESTION "trigger:\n  event: delay\n  pages: {incl: [\"/a\"]}\n",
	                PATH ":8:11: unknown key \"incl\", expected one of: include, exclude");
	expect_problems("title: x\n" ONE_QUESTION "trigger: {event: delay, delay: 5}\n",
	                PATH ":6:25: unknown key \"delay\", expected one of: event, delay_seconds, scroll_percent, pages, "
	                "sample_percent, recontact_days, schedule, max_responses, audience");
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_problems("title: [a, b]\n" ONE_QUESTION, PATH ":1:8: \"title\" must be a string, not a sequence");
	expect_problems("title: x\nquestions: none\n", PATH ":2:12: \"questions\" must be a sequence, not \"none\"");
	expect_problems("title: x\nactive: yes\n" ONE_QUESTION,
	                PATH ":2:9: invalid value \"yes\" for \"active\", it must be true or false");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: text\n    label: Q\n    max_length: many\n",
	                PATH ":6:17: invalid value \"many\" for \"max_length\", it must be an integer from 1 to 100000");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: number\n    label: Q\n    min: {a: 1}\n",
	                PATH ":6:10: \"min\" must be a number, not a mapping");
	expect_problems("title: x\nquestions:\n  - just a string\n",
	                PATH ":3:5: each item of \"questions\" must be a mapping with id, type and label");
	expect_problems("title:\n" ONE_QUESTION, PATH ":1:7: missing value for \"title\"");
	expect_problems("- a\n- b\n", PATH ":1:1: a form must be a mapping with \"title\" and \"questions\"");
	expect_problems("", PATH ":1:1: the form is empty; it needs at least \"title\" and \"questions\"");
	expect_problems("# only a comment\n", PATH ":1:1: the form is empty; it needs at least \"title\" and \"questions\"");
}

static void test_missing_required(void **state)
{
	(void)state;
	expect_problems(ONE_QUESTION, PATH ":1:1: missing required key \"title\"");
	expect_problems("title: x\n", PATH ":1:1: missing required key \"questions\"");
	expect_problems("title: x\nquestions: []\n", PATH ":2:12: \"questions\" must not be empty");
	expect_problems("title: \"\"\n" ONE_QUESTION, PATH ":1:8: \"title\" must not be empty");
	expect_problems("title: x\nquestions:\n  - type: text\n",
	                PATH ":3:5: missing required key \"id\"\n" PATH ":3:5: missing required key \"label\"");
}

static void test_bad_form_id(void **state)
{
	(void)state;
	expect_problems("id: Exit Survey\ntitle: x\n" ONE_QUESTION,
	                PATH ":1:5: invalid value \"Exit Survey\" for \"id\", a form id must match [a-z0-9][a-z0-9-]{0,63}");
	expect_problems("id: -start\ntitle: x\n" ONE_QUESTION,
	                PATH ":1:5: invalid value \"-start\" for \"id\", a form id must match [a-z0-9][a-z0-9-]{0,63}");
	char long_id[70];
	memset(long_id, 'a', 65);
	long_id[65] = '\0';
	char *yaml = xasprintf("id: %s\ntitle: x\n" ONE_QUESTION, long_id);
	char *want = xasprintf(PATH ":1:5: invalid value \"%.60s...\" for \"id\", a form id must match "
	                       "[a-z0-9][a-z0-9-]{0,63}", long_id);
	expect_problems(yaml, want);
	free(yaml);
	free(want);
	yaml = xasprintf("id: %.64s\ntitle: x\n" ONE_QUESTION, long_id);
	form *f = load_ok(yaml);
	assert_int_equal(strlen(f->id), 64);
	form_free(f);
	free(yaml);
	expect_problems_at("forms/My Form.yaml", "title: x\n" ONE_QUESTION,
	                   "forms/My Form.yaml:1:1: invalid form id \"My Form\" taken from the file name, it must match "
	                   "[a-z0-9][a-z0-9-]{0,63}; rename the file or set \"id:\"");
	/* an explicit id makes the file name irrelevant */
	diag_list d;
	diag_init(&d);
	const char *ok = "id: fine\ntitle: x\n" ONE_QUESTION;
	f = form_load_string(ok, strlen(ok), "forms/My Form.yaml", &d);
	assert_non_null(f);
	assert_string_equal(f->id, "fine");
	form_free(f);
	diag_free(&d);
}

static void test_bad_question_id(void **state)
{
	(void)state;
	expect_problems("title: x\nquestions:\n  - id: 1st\n    type: text\n    label: Q\n",
	                PATH ":3:9: invalid value \"1st\" for \"id\", a question id must match [a-z][a-z0-9_]{0,63}");
	expect_problems("title: x\nquestions:\n  - id: my-q\n    type: text\n    label: Q\n",
	                PATH ":3:9: invalid value \"my-q\" for \"id\", a question id must match [a-z][a-z0-9_]{0,63}");
}

static void test_duplicate_question_id(void **state)
{
	(void)state;
	expect_problems("title: x\nquestions:\n"
	                "  - id: q\n    type: text\n    label: A\n"
	                "  - id: r\n    type: text\n    label: B\n"
	                "  - id: q\n    type: email\n    label: C\n",
	                PATH ":9:9: duplicate question id \"q\", first used at line 3");
}

static void test_bad_question_type(void **state)
{
	(void)state;
	expect_problems("title: x\nquestions:\n  - id: email\n    type: emial\n    label: Email\n",
	                PATH ":4:11: invalid value \"emial\" for \"type\", it must be one of: text, long_text, "
	                "single_choice, multi_choice, nps, rating, number, email, phone, date, consent");
	expect_problems("title: x\nquestions:\n  - id: q\n    label: Q\n", PATH ":3:5: missing required key \"type\"");
}

static void test_options_rules(void **state)
{
	(void)state;
	expect_problems("title: x\nquestions:\n  - id: q\n    type: text\n    label: Q\n    options: [a, b]\n",
	                PATH ":6:5: \"options\" is only allowed for single_choice and multi_choice questions");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: single_choice\n    label: Q\n",
	                PATH ":3:5: missing required key \"options\"");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: multi_choice\n    label: Q\n    options: []\n",
	                PATH ":6:14: \"options\" must not be empty");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: multi_choice\n    label: Q\n    options: [a, b, a]\n",
	                PATH ":6:21: duplicate option \"a\"");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: multi_choice\n    label: Q\n    options: [a, [b]]\n",
	                PATH ":6:18: each item of \"options\" must be a string, not a sequence");
	/* numbers are fine as option texts */
	form *f = load_ok("title: x\nquestions:\n  - id: q\n    type: single_choice\n    label: Q\n"
	                  "    options: [1, 2.50, \"3\"]\n");
	assert_string_equal(f->questions[0].options[1], "2.50");
	form_free(f);
}

static void test_type_specific_keys(void **state)
{
	(void)state;
	expect_problems("title: x\nquestions:\n  - id: q\n    type: nps\n    label: Q\n    scale: 5\n    max_length: 3\n"
	                "    min: 1\n    max: 2\n    default_country: 386\n",
	                PATH ":6:5: \"scale\" is only allowed for rating questions\n"
	                PATH ":7:5: \"max_length\" is only allowed for text and long_text questions\n"
	                PATH ":8:5: \"min\" is only allowed for number questions\n"
	                PATH ":9:5: \"max\" is only allowed for number questions\n"
	                PATH ":10:5: \"default_country\" is only allowed for phone questions");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: rating\n    label: Q\n    scale: 1\n",
	                PATH ":6:12: invalid value \"1\" for \"scale\", it must be an integer from 2 to 10");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: text\n    label: Q\n    max_length: 0\n",
	                PATH ":6:17: invalid value \"0\" for \"max_length\", it must be an integer from 1 to 100000");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: number\n    label: Q\n    min: 5\n    max: 1\n",
	                PATH ":6:10: \"min\" must not be greater than \"max\"");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: number\n    label: Q\n    min: .inf\n",
	                PATH ":6:10: invalid value \".inf\" for \"min\", it must be a number");
	expect_problems("title: x\nquestions:\n  - id: q\n    type: phone\n    label: Q\n    default_country: \"+3861\"\n",
	                PATH ":6:22: invalid value \"+3861\" for \"default_country\", it must be a calling code of 1 to 3 "
	                "digits such as 386 or +1");
	form *f = load_ok("title: x\nquestions:\n  - id: q\n    type: phone\n    label: Q\n    default_country: 1\n");
	assert_string_equal(f->questions[0].default_country, "1");
	form_free(f);
	f = load_ok("title: x\nquestions:\n  - id: q\n    type: rating\n    label: Q\n    scale: 0x0a\n");
	assert_int_equal(f->questions[0].scale, 10);
	form_free(f);
}

/* A form with questions a, b, c where b has the given next: entries (indented for the list). */
#define BRANCHING(next) \
	"title: x\nquestions:\n" \
	"  - id: a\n    type: text\n    label: A\n" \
	"  - id: b\n    type: single_choice\n    label: B\n    options: [Yes, No, \"7\"]\n    next:\n" next \
	"  - id: c\n    type: nps\n    label: C\n"

static void test_next_pointing_nowhere(void **state)
{
	(void)state;
	expect_problems(BRANCHING("      - if: {equals: \"Yes\"}\n        goto: cc\n"),
	                PATH ":12:15: invalid value \"cc\" for \"goto\", no question has this id; it must name a later "
	                "question or \"end\"");
	expect_problems(BRANCHING("      - if: {equals: \"No\"}\n"),
	                PATH ":11:9: missing required key \"goto\"");
}

static void test_backwards_goto(void **state)
{
	(void)state;
	expect_problems(BRANCHING("      - goto: a\n"),
	                PATH ":11:15: invalid value \"a\" for \"goto\", it points backwards; it must name a later "
	                "question or \"end\"");
	expect_problems(BRANCHING("      - goto: b\n"),
	                PATH ":11:15: invalid value \"b\" for \"goto\", it points to its own question; it must name a "
	                "later question or \"end\"");
	form *f = load_ok(BRANCHING("      - {if: {equals: \"7\"}, goto: end}\n      - goto: c\n"));
	assert_string_equal(f->questions[1].next[0].goto_id, "end");
	assert_string_equal(json_string_value(f->questions[1].next[0].value), "7");
	assert_string_equal(f->questions[1].next[1].goto_id, "c");
	form_free(f);
}

static void test_conditions(void **state)
{
	(void)state;
	expect_problems(BRANCHING("      - if: {equals: Maybe}\n        goto: c\n"),
	                PATH ":11:22: invalid value \"Maybe\" for \"equals\", it must be one of the options: Yes, No, 7");
	expect_problems(BRANCHING("      - if: {in: [Yes, Nope]}\n        goto: c\n"),
	                PATH ":11:24: invalid value \"Nope\" for \"in\", it must be one of the options: Yes, No, 7");
	expect_problems(BRANCHING("      - if: {in: Yes}\n        goto: c\n"),
	                PATH ":11:18: \"in\" must be a sequence of values, not a single value");
	expect_problems(BRANCHING("      - if: {in: []}\n        goto: c\n"), PATH ":11:18: \"in\" must not be empty");
	expect_problems(BRANCHING("      - if: {lte: 3}\n        goto: c\n"),
	                PATH ":11:14: \"lte\" is only allowed for nps, rating and number questions");
	expect_problems(BRANCHING("      - if: {equals: Yes, in: [No]}\n        goto: c\n"),
	                PATH ":11:13: \"if\" must hold exactly one of: equals, in, lte, gte, answered");
	expect_problems(BRANCHING("      - if: {}\n        goto: c\n"),
	                PATH ":11:13: \"if\" must hold exactly one of: equals, in, lte, gte, answered");
	expect_problems(BRANCHING("      - if: {contains: Yes}\n        goto: c\n"),
	                PATH ":11:14: unknown key \"contains\", expected one of: equals, in, lte, gte, answered");
	expect_problems(BRANCHING("      - if: {answered: false}\n        goto: c\n"),
	                PATH ":11:24: invalid value \"false\" for \"answered\", it must be true");
	expect_problems(BRANCHING("      - if: [equals, Yes]\n        goto: c\n"),
	                PATH ":11:13: \"if\" must be a mapping, not a sequence");
	expect_problems(BRANCHING("      - c\n"),
	                PATH ":11:9: each entry of \"next\" must be a mapping such as {if: {equals: Other}, goto: more}");
	expect_problems(BRANCHING("      - {goto: c, then: end}\n"),
	                PATH ":11:19: unknown key \"then\", expected one of: if, goto");
	/* numeric questions take numbers only */
	expect_problems("title: x\nquestions:\n  - id: a\n    type: nps\n    label: A\n    next:\n"
	                "      - {if: {lte: low}, goto: end}\n      - {if: {equals: \"high\"}, goto: end}\n",
	                PATH ":7:20: invalid value \"low\" for \"lte\", it must be a number\n"
	                PATH ":8:23: invalid value \"high\" for \"equals\", it must be a number");
	/* consent questions compare with booleans */
	expect_problems("title: x\nquestions:\n  - id: a\n    type: consent\n    label: A\n    next:\n"
	                "      - {if: {equals: yes}, goto: end}\n",
	                PATH ":7:23: invalid value \"yes\" for \"equals\", it must be true or false");
	form *f = load_ok("title: x\nquestions:\n  - id: a\n    type: rating\n    label: A\n    next:\n"
	                  "      - {if: {in: [1, 2]}, goto: end}\n      - {if: {gte: 4}, goto: end}\n"
	                  "  - id: b\n    type: consent\n    label: B\n    next: [{if: {equals: true}, goto: end}]\n");
	json_t *in = f->questions[0].next[0].value;
	assert_int_equal(json_integer_value(json_array_get(in, 1)), 2);
	assert_true(json_is_true(f->questions[1].next[0].value));
	form_free(f);
}

static void test_trigger_rules(void **state)
{
	(void)state;
	expect_problems("kind: signup\ntitle: x\n" ONE_QUESTION "trigger:\n  event: delay\n",
	                PATH ":7:1: \"trigger\" is only allowed for survey forms");
	expect_problems("kind: poll\ntitle: x\n" ONE_QUESTION,
	                PATH ":1:7: invalid value \"poll\" for \"kind\", it must be one of: survey, signup");
	expect_problems("title: x\n" ONE_QUESTION "trigger:\n  event: hover\n",
	                PATH ":7:10: invalid value \"hover\" for \"event\", it must be one of: exit_intent, delay, scroll, "
	                "page_view, manual");
	expect_problems("title: x\n" ONE_QUESTION "trigger:\n  delay_seconds: 3\n",
	                PATH ":7:3: missing required key \"event\"");
	expect_problems("title: x\n" ONE_QUESTION "trigger:\n  event: delay\n  delay_seconds: -1\n"
	                "  scroll_percent: 0\n  sample_percent: 101\n  recontact_days: -5\n",
	                PATH ":8:18: invalid value \"-1\" for \"delay_seconds\", it must be an integer >= 0\n"
	                PATH ":9:19: invalid value \"0\" for \"scroll_percent\", it must be an integer from 1 to 100\n"
	                PATH ":10:19: invalid value \"101\" for \"sample_percent\", it must be an integer from 0 to 100\n"
	                PATH ":11:19: invalid value \"-5\" for \"recontact_days\", it must be an integer >= 0");
	expect_problems("title: x\n" ONE_QUESTION "trigger:\n  event: delay\n  pages: {include: [cart*], exclude: \"/x\"}\n",
	                PATH ":8:21: invalid value \"cart*\" for \"include\", a page pattern must start with \"/\" or \"*\", "
	                "such as /cart*\n"
	                PATH ":8:38: \"exclude\" must be a sequence of strings, not \"/x\"");
	form *f = load_ok("title: x\n" ONE_QUESTION "trigger: {event: page_view}\n");
	assert_int_equal(f->trigger.event, TRIGGER_PAGE_VIEW);
	form_free(f);
	f = load_ok("title: x\n" ONE_QUESTION "trigger: {event: manual}\n");
	assert_int_equal(f->trigger.event, TRIGGER_MANUAL);
	form_free(f);
}

static void test_yaml_syntax_error(void **state)
{
	(void)state;
	expect_problems("title: x\nquestions:\n  - id: a\n    type: text\n   label: oops\n",
	                PATH ":5:4: syntax error: did not find expected '-' indicator (while parsing a block collection "
	                "at line 3)");
	expect_problems("title: \"unterminated\n" ONE_QUESTION,
	                PATH ":6:1: syntax error: found unexpected end of stream (while scanning a quoted scalar at line 1)");
	expect_problems("title: x\n" ONE_QUESTION "---\ntitle: y\n",
	                PATH ":7:1: only one YAML document is allowed in this file");
	expect_problems("title: *nothing\n" ONE_QUESTION, PATH ":1:8: syntax error: found undefined alias");
	expect_problems("title: a\xff\n" ONE_QUESTION,
	                PATH ":1:9: syntax error: invalid leading UTF-8 octet");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_problems("title: x\n" ONE_QUESTION "title: y\n", PATH ":6:1: duplicate key \"title\", first given at line 1");
}

static void test_several_problems_all_reported(void **state)
{
	(void)state;
	expect_problems("id: Bad\n"
	                "title: x\n"
	                "colour: red\n"
	                "questions:\n"
	                "  - id: q\n"
	                "    type: txt\n"
	                "    label: Q\n"
	                "    next: [{goto: nowhere}]\n"
	                "  - id: q\n"
	                "    type: rating\n"
	                "    label: R\n"
	                "    scale: 20\n"
	                "trigger: {event: exit_intent, sample_percent: 200}\n",
	                PATH ":1:5: invalid value \"Bad\" for \"id\", a form id must match [a-z0-9][a-z0-9-]{0,63}\n"
	                PATH ":3:1: unknown key \"colour\", expected one of: id, kind, title, locale, active, questions, "
	                "trigger, thank_you, follow_up, offer_up_front, locales, variants, confirm\n"
	                PATH ":6:11: invalid value \"txt\" for \"type\", it must be one of: text, long_text, single_choice, "
	                "multi_choice, nps, rating, number, email, phone, date, consent\n"
	                PATH ":8:19: invalid value \"nowhere\" for \"goto\", no question has this id; it must name a later "
	                "question or \"end\"\n"
	                PATH ":9:9: duplicate question id \"q\", first used at line 5\n"
	                PATH ":12:12: invalid value \"20\" for \"scale\", it must be an integer from 2 to 10\n"
	                PATH ":13:47: invalid value \"200\" for \"sample_percent\", it must be an integer from 0 to 100");
}

static void test_messages_escape_values(void **state)
{
	(void)state;
	expect_problems("title: x\nquestions:\n  - id: \"a\\nb\\\"c\"\n    type: text\n    label: Q\n",
	                PATH ":3:9: invalid value \"a\\nb\\\"c\" for \"id\", a question id must match [a-z][a-z0-9_]{0,63}");
}

/* ---- page matching and JSON ----------------------------------------------------------------- */

static void test_page_matching(void **state)
{
	(void)state;
	form *f = load_ok("title: x\n" ONE_QUESTION
	                  "trigger:\n  event: exit_intent\n  pages: {include: [\"/cart*\", \"/checkout*\"], "
	                  "exclude: [\"/checkout/done\"]}\n");
	assert_true(form_matches_page(f, "/cart"));
	assert_true(form_matches_page(f, "/cart/items/3"));
	assert_true(form_matches_page(f, "/checkout"));
	assert_true(form_matches_page(f, "/checkout/pay"));
	assert_false(form_matches_page(f, "/checkout/done"));
	assert_true(form_matches_page(f, "/checkout/done/again"));
	assert_false(form_matches_page(f, "/"));
	assert_false(form_matches_page(f, "/about/cart"));
	assert_true(form_matches_page(f, "https://shop.example.com/cart?x=1#top"));
	assert_false(form_matches_page(f, "https://shop.example.com/checkout/done?utm=1"));
	assert_true(form_matches_page(f, "/cart?from=/"));
	assert_false(form_matches_page(f, NULL));
	form_free(f);

	/* no include: every page; exclude still wins */
	f = load_ok("title: x\n" ONE_QUESTION "trigger:\n  event: delay\n  pages: {exclude: [\"/admin*\", \"*.pdf\"]}\n");
	assert_true(form_matches_page(f, "/"));
	assert_true(form_matches_page(f, "/anything/at/all"));
	assert_true(form_matches_page(f, "https://example.com"));
	assert_false(form_matches_page(f, "/admin/users"));
	assert_false(form_matches_page(f, "/docs/guide.pdf"));
	form_free(f);

	/* a survey without trigger (shown on request) matches every page; inactive and signup never */
	f = load_ok("title: x\n" ONE_QUESTION);
	assert_true(form_matches_page(f, "/x"));
	form_free(f);
	f = load_ok("title: x\nactive: false\n" ONE_QUESTION);
	assert_false(form_matches_page(f, "/x"));
	form_free(f);
	f = load_ok("kind: signup\ntitle: x\n" ONE_QUESTION);
	assert_false(form_matches_page(f, "/x"));
	form_free(f);
}

static void test_glob(void **state)
{
	(void)state;
	assert_true(glob_match("/cart*", "/cart"));
	assert_true(glob_match("/cart*", "/cart/a/b"));
	assert_true(glob_match("*", ""));
	assert_true(glob_match("/a/*/c", "/a/b/x/c"));
	assert_true(glob_match("/p?ge", "/page"));
	assert_false(glob_match("/p?ge", "/pge"));
	assert_false(glob_match("/cart", "/cart/"));
}

static void test_public_json(void **state)
{
	(void)state;
	form *f = load_ok("id: s\ntitle: T\nlocale: sl\nthank_you: Hvala\nquestions:\n"
	                  "  - id: c\n    type: single_choice\n    label: C\n    required: true\n    options: [A, B]\n"
	                  "    why: W\n    hint: H\n    next:\n      - {if: {equals: A}, goto: n}\n      - goto: end\n"
	                  "  - id: n\n    type: number\n    label: N\n    min: 1\n    max: 2.5\n"
	                  "    next: [{if: {answered: true}, goto: r}]\n"
	                  "  - id: r\n    type: rating\n    label: R\n"
	                  "  - id: t\n    type: long_text\n    label: L\n    max_length: 10\n"
	                  "  - id: p\n    type: phone\n    label: P\n    default_country: 386\n"
	                  "trigger:\n  event: delay\n  delay_seconds: 20\n  pages: {include: [\"/pricing*\"]}\n"
	                  "  sample_percent: 50\n  recontact_days: 90\n");
	json_t *j = form_public_json(f);
	assert_ptr_equal(j, f->public_json);
	assert_ptr_equal(form_public_json(f), j); /* built once, borrowed */
	char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text,
		"{\"id\":\"s\",\"locale\":\"sl\",\"questions\":["
		"{\"hint\":\"H\",\"id\":\"c\",\"label\":\"C\","
		"\"next\":[{\"goto\":\"n\",\"if\":{\"equals\":\"A\"}},{\"goto\":\"end\"}],"
		"\"options\":[\"A\",\"B\"],\"required\":true,\"type\":\"single_choice\",\"why\":\"W\"},"
		"{\"id\":\"n\",\"label\":\"N\",\"max\":2.5,\"min\":1,\"next\":[{\"goto\":\"r\",\"if\":{\"answered\":true}}],"
		"\"required\":false,\"type\":\"number\"},"
		"{\"id\":\"r\",\"label\":\"R\",\"required\":false,\"scale\":5,\"type\":\"rating\"},"
		"{\"id\":\"t\",\"label\":\"L\",\"max_length\":10,\"required\":false,\"type\":\"long_text\"},"
		"{\"id\":\"p\",\"label\":\"P\",\"required\":false,\"type\":\"phone\"}],"
		"\"thank_you\":\"Hvala\",\"title\":\"T\","
		"\"trigger\":{\"delay_seconds\":20,\"event\":\"delay\",\"pages\":{\"exclude\":[],\"include\":[\"/pricing*\"]},"
		"\"recontact_days\":90,\"sample_percent\":50,\"scroll_percent\":50}}");
	free(text);
	form_free(f);

	/* no trigger: shown as manual with the defaults */
	f = load_ok("title: x\n" ONE_QUESTION);
	text = json_dumps(json_object_get(form_public_json(f), "trigger"), JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text, "{\"delay_seconds\":15,\"event\":\"manual\",\"pages\":{\"exclude\":[],\"include\":[]},"
	                          "\"recontact_days\":30,\"sample_percent\":100,\"scroll_percent\":50}");
	free(text);
	form_free(f);
}

/* ---- registry ------------------------------------------------------------------------------- */

static void test_bundled_forms(void **state)
{
	(void)state;
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof cwd));
	chdir_srcdir();
	diag_list d;
	diag_init(&d);
	form_registry *reg = form_registry_load_dir("forms", &d);
	if (d.n) {
		char *all = diag_join(&d);
		fprintf(stderr, "%s\n", all);
		free(all);
	}
	assert_non_null(reg);
	assert_int_equal(d.n, 0);
	assert_int_equal(reg->n, 5);
	const char *ids[] = { "callback", "exit-survey", "missed", "newsletter", "nps" };
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(reg->forms[i]->id, ids[i]); /* sorted by id */
		assert_ptr_equal(form_registry_find(reg, ids[i]), reg->forms[i]);
	}
	assert_null(form_registry_find(reg, "nope"));
	assert_null(form_registry_find(reg, ""));

	const form *exit = form_registry_find(reg, "exit-survey");
	assert_string_equal(exit->path, "forms/exit-survey.yaml");
	assert_int_equal(exit->trigger.event, TRIGGER_EXIT_INTENT);
	assert_true(form_matches_page(exit, "/cart"));
	assert_true(form_matches_page(exit, "/checkout/shipping"));
	assert_false(form_matches_page(exit, "/checkout/done"));
	assert_int_equal(exit->questions[0].type, Q_SINGLE_CHOICE);
	assert_string_equal(exit->questions[0].next[0].goto_id, "reason_other");
	assert_int_equal(exit->questions[1].type, Q_TEXT);

	const form *nps = form_registry_find(reg, "nps");
	assert_int_equal(nps->questions[0].type, Q_NPS);
	assert_int_equal(nps->questions[1].type, Q_TEXT);
	assert_int_equal(nps->trigger.event, TRIGGER_DELAY);
	assert_int_equal(nps->trigger.delay_seconds, 20);
	assert_int_equal(nps->trigger.sample_percent, 50);
	assert_int_equal(nps->trigger.recontact_days, 90);
	assert_true(form_matches_page(nps, "/pricing/teams"));
	assert_false(form_matches_page(nps, "/blog"));

	const form *missed = form_registry_find(reg, "missed");
	assert_int_equal(missed->trigger.event, TRIGGER_SCROLL);
	assert_int_equal(missed->trigger.scroll_percent, 50);
	assert_int_equal(missed->questions[0].type, Q_LONG_TEXT);
	assert_true(form_matches_page(missed, "/docs/install"));
	assert_true(form_matches_page(missed, "/blog/2026/hello"));

	const form *cb = form_registry_find(reg, "callback");
	assert_int_equal(cb->kind, FORM_SIGNUP);
	assert_int_equal(cb->n_questions, 1);
	assert_int_equal(cb->questions[0].type, Q_PHONE);
	assert_true(cb->questions[0].required);
	assert_string_equal(cb->questions[0].why, "We call you back once, within 15 minutes.");
	assert_non_null(cb->questions[0].hint);
	assert_false(form_matches_page(cb, "/"));

	const form *nl = form_registry_find(reg, "newsletter");
	assert_int_equal(nl->kind, FORM_SIGNUP);
	assert_int_equal(nl->questions[0].type, Q_EMAIL);
	assert_true(nl->questions[0].required);
	assert_non_null(nl->questions[0].why);
	int b = form_question_index(nl, "birthday");
	assert_true(b > 0);
	assert_int_equal(nl->questions[b].type, Q_DATE);
	assert_false(nl->questions[b].required);
	assert_string_equal(nl->questions[b].why, "We send you a present on your birthday.");
	int c = form_question_index(nl, "consent");
	assert_true(c > b);
	assert_int_equal(nl->questions[c].type, Q_CONSENT);
	assert_true(nl->questions[c].required);

	form_registry_unref(reg);
	diag_free(&d);
	assert_int_equal(chdir(cwd), 0);
}

static void test_broken_dir_matches_expected(void **state)
{
	(void)state;
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof cwd));
	chdir_srcdir();
	diag_list d;
	diag_init(&d);
	assert_null(form_registry_load_dir("tests/data/forms-broken", &d));
	char *got = diag_join(&d);
	char *want = read_text("tests/data/forms-broken/EXPECTED");
	size_t wl = strlen(want);
	while (wl > 0 && want[wl - 1] == '\n')
		want[--wl] = '\0';
	assert_string_equal(got, want);
	free(got);
	free(want);
	diag_free(&d);
	assert_int_equal(chdir(cwd), 0);
}

/* Makes a fresh temporary directory; returns its malloc'd path. */
static char *make_temp_dir(void)
{
	char *dir = xstrdup("/tmp/earshot-test-form-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

/* Removes dir and the given files in it. */
static void remove_temp_dir(char *dir, const char *const names[])
{
	for (size_t i = 0; names[i]; i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		unlink(p);
		rmdir(p);
		free(p);
	}
	rmdir(dir);
	free(dir);
}

static void test_registry_dir(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	test_write_file_in(dir, "b.yaml", "title: B\n" ONE_QUESTION);
	test_write_file_in(dir, "a.yml", "title: A\n" ONE_QUESTION);
	test_write_file_in(dir, ".hidden.yaml", "not: [valid");
	test_write_file_in(dir, "notes.txt", "not: [valid");
	test_write_file_in(dir, "README.md", "# forms");
	char *sub = xasprintf("%s/sub.yaml", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	free(sub);
	diag_list d;
	diag_init(&d);
	form_registry *reg = form_registry_load_dir(dir, &d);
	assert_non_null(reg);
	assert_int_equal(d.n, 0);
	assert_int_equal(reg->n, 2);
	assert_string_equal(reg->forms[0]->id, "a");
	assert_string_equal(reg->forms[1]->id, "b");
	char *want = xasprintf("%s/a.yml", dir);
	assert_string_equal(reg->forms[0]->path, want);
	free(want);

	/* reference counting: the registry survives until the last holder lets go */
	assert_ptr_equal(form_registry_ref(reg), reg);
	assert_int_equal(reg->refs, 2);
	form_registry_unref(reg);
	assert_int_equal(reg->refs, 1);
	assert_non_null(form_registry_find(reg, "b"));
	form_registry_unref(reg);
	form_registry_unref(NULL);

	/* a duplicate id is an error at the second file, by name order */
	test_write_file_in(dir, "c.yaml", "# same id as b\nid: b\ntitle: C\n" ONE_QUESTION);
	reg = form_registry_load_dir(dir, &d);
	assert_null(reg);
	char *all = diag_join(&d);
	char *expect = xasprintf("%s/c.yaml:2:5: duplicate form id \"b\", already used by %s/b.yaml", dir, dir);
	assert_string_equal(all, expect);
	free(all);
	free(expect);
	diag_free(&d);

	/* a file-name id clash is reported at the top of the second file */
	test_write_file_in(dir, "c.yaml", "id: a\ntitle: C\n" ONE_QUESTION);
	test_write_file_in(dir, "d.yaml", "title: D\n" ONE_QUESTION);
	test_write_file_in(dir, "d.yml", "title: D\n" ONE_QUESTION);
	diag_init(&d);
	assert_null(form_registry_load_dir(dir, &d));
	all = diag_join(&d);
	expect = xasprintf("%s/c.yaml:1:5: duplicate form id \"a\", already used by %s/a.yml\n"
	                   "%s/d.yml:1:1: duplicate form id \"d\", already used by %s/d.yaml", dir, dir, dir, dir);
	assert_string_equal(all, expect);
	free(all);
	free(expect);
	diag_free(&d);

	const char *const names[] = { "a.yml", "b.yaml", "c.yaml", "d.yaml", "d.yml", ".hidden.yaml", "notes.txt",
	                              "README.md", "sub.yaml", NULL };
	remove_temp_dir(dir, names);
}

static void test_registry_errors(void **state)
{
	(void)state;
	diag_list d;
	diag_init(&d);
	assert_null(form_registry_load_dir("/nonexistent/earshot-forms", &d));
	assert_int_equal(d.n, 1);
	assert_string_equal(d.items[0],
	                    "/nonexistent/earshot-forms: cannot read the forms directory: No such file or directory");
	diag_free(&d);

	diag_init(&d);
	assert_null(form_load_file("/nonexistent/x.yaml", &d));
	assert_string_equal(d.items[0], "/nonexistent/x.yaml: cannot read the form: No such file or directory");
	diag_free(&d);

	/* an empty directory is a registry without forms */
	char *dir = make_temp_dir();
	diag_init(&d);
	form_registry *reg = form_registry_load_dir(dir, &d);
	assert_non_null(reg);
	assert_int_equal(reg->n, 0);
	assert_null(form_registry_find(reg, "x"));
	form_registry_unref(reg);
	diag_free(&d);
	const char *const none[] = { NULL };
	remove_temp_dir(dir, none);
}

static void test_load_file(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	test_write_file_in(dir, "feedback.yaml", "title: F\n" ONE_QUESTION);
	char *path = xasprintf("%s/feedback.yaml", dir);
	diag_list d;
	diag_init(&d);
	form *f = form_load_file(path, &d);
	assert_non_null(f);
	assert_string_equal(f->id, "feedback");
	assert_string_equal(f->path, path);
	form_free(f);
	diag_free(&d);
	free(path);
	const char *const names[] = { "feedback.yaml", NULL };
	remove_temp_dir(dir, names);
}

/* Takes and drops references from several threads at once. */
static void *ref_worker(void *arg)
{
	form_registry *reg = arg;
	for (int i = 0; i < 10000; i++) {
		form_registry_ref(reg);
		form_registry_unref(reg);
	}
	return NULL;
}

static void test_refcount_threads(void **state)
{
	(void)state;
	const char *yaml = "title: x\n" ONE_QUESTION;
	diag_list d;
	diag_init(&d);
	char *dir = make_temp_dir();
	test_write_file_in(dir, "x.yaml", yaml);
	form_registry *reg = form_registry_load_dir(dir, &d);
	assert_non_null(reg);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, ref_worker, reg), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(reg->refs, 1);
	form_registry_unref(reg);
	diag_free(&d);
	const char *const names[] = { "x.yaml", NULL };
	remove_temp_dir(dir, names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_stem_id_from_yml),
		cmocka_unit_test(test_full_form),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_locales),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_bad_form_id),
		cmocka_unit_test(test_bad_question_id),
		cmocka_unit_test(test_duplicate_question_id),
		cmocka_unit_test(test_bad_question_type),
		cmocka_unit_test(test_options_rules),
		cmocka_unit_test(test_type_specific_keys),
		cmocka_unit_test(test_next_pointing_nowhere),
		cmocka_unit_test(test_backwards_goto),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_trigger_rules),
		cmocka_unit_test(test_yaml_syntax_error),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_several_problems_all_reported),
		cmocka_unit_test(test_messages_escape_values),
		cmocka_unit_test(test_page_matching),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_public_json),
		cmocka_unit_test(test_bundled_forms),
		cmocka_unit_test(test_broken_dir_matches_expected),
		cmocka_unit_test(test_registry_dir),
		cmocka_unit_test(test_registry_errors),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_refcount_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
