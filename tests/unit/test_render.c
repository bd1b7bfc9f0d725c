/* Unit tests for the hosted pages: escaping in text and attribute context, every control type
 * with its label, why, rules, input type and autocomplete, required markers, the visitor's input
 * kept (and escaped) with messages beside bad fields, the summary, one-click detection, honeypot and
 * token fields, no inline script or style, the thank-you page, and parsing of urlencoded bodies
 * (repeats, '+', malformed escapes, NUL, bytes that are not UTF-8). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "render.h"
#include "spam.h"
#include "util.h"

static const char all_yaml[] =
	"id: everything\n"
	"kind: signup\n"
	"title: Tell us <all>\n"
	"questions:\n"
	"  - id: name\n"
	"    type: text\n"
	"    label: Your name\n"
	"    max_length: 80\n"
	"  - id: email\n"
	"    type: email\n"
	"    label: Email\n"
	"    required: true\n"
	"    why: We send your code here, and nothing else.\n"
	"    hint: name@example.com\n"
	"  - id: phone\n"
	"    type: phone\n"
	"    label: Phone\n"
	"    default_country: \"386\"\n"
	"  - id: birthday\n"
	"    type: date\n"
	"    label: Birthday (optional)\n"
	"    why: A present on your birthday.\n"
	"  - id: joined\n"
	"    type: date\n"
	"    label: When did you join?\n"
	"  - id: seats\n"
	"    type: number\n"
	"    label: Seats\n"
	"    min: 1\n"
	"    max: 500\n"
	"  - id: note\n"
	"    type: long_text\n"
	"    label: Anything else?\n"
	"    max_length: 300\n"
	"  - id: plan\n"
	"    type: single_choice\n"
	"    label: Plan\n"
	"    required: true\n"
	"    options: [Free, Pro, \"Team \\\"<b>\\\"\"]\n"
	"  - id: topics\n"
	"    type: multi_choice\n"
	"    label: Topics\n"
	"    options: [a, b, c]\n"
	"  - id: score\n"
	"    type: nps\n"
	"    label: Recommend us?\n"
	"  - id: stars\n"
	"    type: rating\n"
	"    label: Stars\n"
	"    scale: 4\n"
	"  - id: consent\n"
	"    type: consent\n"
	"    label: I agree to the newsletter.\n"
	"    required: true\n"
	"thank_you: Thanks & goodbye <3\n";

static form *load(const char *yaml)
{
	diag_list d;
	diag_init(&d);
	form *f = form_load_string(yaml, strlen(yaml), "forms/test.yaml", &d);
	if (!f) {
		char *all = diag_join(&d);
		fail_msg("form: %s", all);
	}
	diag_free(&d);
	return f;
}

static char *page(const form *f, const json_t *values, const json_t *problems, const char *notice)
{
	render_form_args a = {
		.form = f, .values = values, .problems = problems, .notice = notice, .token = "t1.1.abc.def",
		.min_fill_seconds = 2, .css_href = "/static/form.css?v=1", .js_src = "/static/form.js?v=1",
	};
	return render_form_page(&a);
}

/* Asserts that needle occurs in haystack (with a readable failure). */
#define assert_contains(haystack, needle)                                                         \
	do {                                                                                      \
		if (!strstr((haystack), (needle)))                                                \
			fail_msg("missing: %s", (needle));                                        \
	} while (0)
#define assert_lacks(haystack, needle)                                                            \
	do {                                                                                      \
		if (strstr((haystack), (needle)))                                                 \
			fail_msg("unexpected: %s", (needle));                                     \
	} while (0)

/* Number of occurrences of needle in haystack. */
static size_t count(const char *haystack, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* True when html holds an attribute such as onclick= (an inline event handler). */
static bool has_event_handler(const char *html)
{
	for (const char *p = strstr(html, " on"); p; p = strstr(p + 1, " on")) {
		const char *q = p + 3;
		while (*q >= 'a' && *q <= 'z')
			q++;
		if (q > p + 3 && *q == '=')
			return true;
	}
	return false;
}

static void test_escape(void **state)
{
	(void)state;
	char *t = render_escape("<script>a & \"b\" 'c'</script>", false);
	assert_string_equal(t, "&lt;script&gt;a &amp; \"b\" 'c'&lt;/script&gt;");
	free(t);
	char *a = render_escape("\" onmouseover='x' <&>", true);
	assert_string_equal(a, "&quot; onmouseover=&#39;x&#39; &lt;&amp;&gt;");
	free(a);
	char *n = render_escape_len("a\0b", 3, false);
	assert_string_equal(n, "a\xef\xbf\xbd" "b");
	free(n);
	char *e = render_escape("", true);
	assert_string_equal(e, "");
	free(e);
	char *m = render_field_message("must look like name@example.com");
	assert_string_equal(m, "This field must look like name@example.com");
	free(m);
}

static void test_page_structure(void **state)
{
	(void)state;
	form *f = load(all_yaml);
	char *html = page(f, NULL, NULL, NULL);
	assert_true(strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
	assert_contains(html, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
	assert_contains(html, "<title>Tell us &lt;all&gt;</title>");
	assert_contains(html, "<link rel=\"stylesheet\" href=\"/static/form.css?v=1\">");
	assert_contains(html, "<script src=\"/static/form.js?v=1\" defer></script>");
	/* Nothing inline: the only script element is the external one, no style attributes. */
	assert_int_equal(count(html, "<script"), 1);
	assert_lacks(html, "style=");
	assert_lacks(html, "<style");
	assert_true(has_event_handler("<img src=x onerror=alert(1)>"));
	assert_false(has_event_handler(html));
	assert_lacks(html, "captcha");
	assert_contains(html, "<form class=\"es-form\" method=\"post\" action=\"/f/everything\"");
	assert_contains(html, "data-min-fill=\"2\"");
	assert_contains(html, "<input type=\"hidden\" name=\"" SPAM_TOKEN_FIELD "\" value=\"t1.1.abc.def\">");
	assert_contains(html, "name=\"" SPAM_HONEYPOT_FIELD "\"");
	assert_contains(html, "<div class=\"es-hp\" aria-hidden=\"true\">");
	assert_contains(html, "tabindex=\"-1\" autocomplete=\"off\"");
	assert_contains(html, "<button type=\"submit\" class=\"es-submit\">Send</button>");
	free(html);
	form_free(f);
}

static void test_controls(void **state)
{
	(void)state;
	form *f = load(all_yaml);
	char *html = page(f, NULL, NULL, NULL);
	/* Each control has a label tied to it. */
	const char *ids[] = { "name", "email", "phone", "birthday", "joined", "seats", "note", "consent" };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		char *want = xasprintf("<label for=\"q-%s\">", ids[i]);
		char *ctl = xasprintf("id=\"q-%s\" name=\"%s\"", ids[i], ids[i]);
		assert_contains(html, want);
		assert_contains(html, ctl);
		free(want);
		free(ctl);
	}
	assert_contains(html, "id=\"q-name\" name=\"name\" type=\"text\" maxlength=\"80\" autocomplete=\"name\"");
	assert_contains(html, "id=\"q-email\" name=\"email\" type=\"email\" maxlength=\"254\"");
	assert_contains(html, "autocomplete=\"email\" placeholder=\"name@example.com\" "
	                      "aria-describedby=\"q-email-why q-email-rules\" required>");
	assert_contains(html, "id=\"q-phone\" name=\"phone\" type=\"tel\" inputmode=\"tel\" autocomplete=\"tel\"");
	assert_contains(html, "id=\"q-birthday\" name=\"birthday\" type=\"date\" min=\"1900-01-01\" max=\"2100-12-31\" "
	                      "autocomplete=\"bday\"");
	/* A date that is not a birthday is not autofilled with one. */
	assert_contains(html, "id=\"q-joined\" name=\"joined\" type=\"date\" min=\"1900-01-01\" max=\"2100-12-31\" "
	                      "aria-describedby");
	assert_contains(html, "type=\"number\" step=\"any\" inputmode=\"decimal\" min=\"1\" max=\"500\"");
	assert_contains(html, "<textarea id=\"q-note\" name=\"note\" rows=\"5\" maxlength=\"300\"");
	assert_contains(html, "id=\"q-consent\" name=\"consent\" type=\"checkbox\" value=\"yes\"");
	/* Groups: a fieldset with a legend, every option labelled. */
	assert_contains(html, "<fieldset class=\"es-field es-choice\" data-q=\"plan\"");
	assert_contains(html, "<legend>Plan <span class=\"es-req\">required</span></legend>");
	assert_contains(html, "<label class=\"es-option\" for=\"q-plan-2\"><input id=\"q-plan-2\" name=\"plan\" "
	                      "type=\"radio\" value=\"Team &quot;&lt;b&gt;&quot;\"");
	assert_contains(html, "<span>Team \"&lt;b&gt;\"</span>");
	assert_int_equal(count(html, "name=\"score\" type=\"radio\""), 11);
	assert_int_equal(count(html, "name=\"stars\" type=\"radio\""), 4);
	assert_int_equal(count(html, "name=\"topics\" type=\"checkbox\""), 3);
	free(html);
	form_free(f);
}

static void test_texts_and_constraints(void **state)
{
	(void)state;
	form *f = load(all_yaml);
	char *html = page(f, NULL, NULL, NULL);
	assert_contains(html, "<p class=\"es-why\" id=\"q-email-why\">We send your code here, and nothing else.</p>");
	assert_contains(html, "<label for=\"q-email\">Email <span class=\"es-req\">required</span></label>");
	/* "optional" is said once: the label already says it. */
	assert_contains(html, "<label for=\"q-birthday\">Birthday (optional)</label>");
	assert_contains(html, "<label for=\"q-name\">Your name <span class=\"es-opt\">optional</span></label>");
	assert_contains(html, "id=\"q-name-rules\">At most 80 characters.</p>");
	assert_contains(html, "id=\"q-email-rules\">An email address, at most 254 characters. "
	                      "Example: name@example.com</p>");
	assert_contains(html, "id=\"q-phone-rules\">A phone number; without a country code it is taken as +386. "
	                      "8 to 15 digits with the country code.</p>");
	assert_contains(html, "A date written as YYYY-MM-DD, with a year from 1900 to 2100.");
	assert_contains(html, "id=\"q-seats-rules\">A number from 1 to 500.</p>");
	assert_contains(html, "id=\"q-note-rules\">At most 300 characters.</p>");
	assert_contains(html, "Choose from 0 (not at all likely) to 10 (extremely likely).");
	assert_contains(html, "id=\"q-stars-rules\">Choose from 1 to 4.</p>");
	assert_contains(html, "id=\"q-consent-rules\">Tick the box to agree.</p>");
	/* What the script validates with. */
	assert_contains(html, "data-q=\"email\" data-type=\"email\" data-required=\"true\"");
	assert_contains(html, "data-q=\"seats\" data-type=\"number\" data-required=\"false\" data-min=\"1\" data-max=\"500\"");
	assert_contains(html, "data-q=\"phone\" data-type=\"phone\" data-required=\"false\" data-country=\"386\"");
	assert_contains(html, "data-q=\"note\" data-type=\"long_text\" data-required=\"false\" data-max-length=\"300\"");
	free(html);
	form_free(f);
}

static void test_values_kept_and_problems(void **state)
{
	(void)state;
	form *f = load(all_yaml);
	json_t *values = json_pack("{s:s, s:s, s:s, s:[s,s], s:s, s:s}", "email", "\"><script>alert(1)</script>",
	                           "note", "</textarea><b>hi</b>", "plan", "Pro", "topics", "a", "c", "score", "7",
	                           "consent", "yes");
	json_t *problems = json_pack("{s:s, s:s}", "email", "must look like name@example.com", "answers",
	                             "must answer <at least> one question");
	char *html = page(f, values, problems, "Check <this>");
	assert_contains(html, "value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"");
	assert_lacks(html, "<script>alert");
	assert_contains(html, ">&lt;/textarea&gt;&lt;b&gt;hi&lt;/b&gt;</textarea>");
	assert_contains(html, "name=\"plan\" type=\"radio\" value=\"Pro\" checked");
	assert_contains(html, "name=\"plan\" type=\"radio\" value=\"Free\" aria-describedby=\"q-plan-rules\" required>");
	assert_contains(html, "name=\"topics\" type=\"checkbox\" value=\"a\" checked");
	assert_contains(html, "name=\"topics\" type=\"checkbox\" value=\"b\" aria-describedby=\"q-topics-rules\">");
	assert_contains(html, "name=\"topics\" type=\"checkbox\" value=\"c\" checked");
	assert_contains(html, "name=\"score\" type=\"radio\" value=\"7\" checked");
	assert_contains(html, "type=\"checkbox\" value=\"yes\" checked");
	/* The message beside the field, tied to the control. */
	assert_contains(html, "aria-describedby=\"q-email-why q-email-rules q-email-error\" required "
	                      "aria-invalid=\"true\">");
	assert_contains(html, "<p class=\"es-error\" id=\"q-email-error\">"
	                      "This field must look like name@example.com</p>");
	assert_int_equal(count(html, "aria-invalid"), 1);
	/* The summary links to the field; problems that name no question are listed too. */
	assert_contains(html, "<div class=\"es-summary\" id=\"es-summary\" role=\"alert\" tabindex=\"-1\">");
	assert_contains(html, "<p>Check &lt;this&gt;</p>");
	assert_contains(html, "<li><a href=\"#q-email\">Email</a>: must look like name@example.com</li>");
	assert_contains(html, "<li>Your answer: must answer &lt;at least&gt; one question</li>");
	free(html);
	json_decref(problems);
	json_decref(values);
	form_free(f);
}

static void test_group_problem(void **state)
{
	(void)state;
	form *f = load(all_yaml);
	json_t *problems = json_pack("{s:s}", "plan", "is required");
	char *html = page(f, NULL, problems, NULL);
	assert_int_equal(count(html, "aria-describedby=\"q-plan-rules q-plan-error\" required "
	                             "aria-invalid=\"true\""), 3);
	assert_contains(html, "<li><a href=\"#q-plan-0\">Plan</a>: is required</li>");
	assert_contains(html, "id=\"q-plan-error\">This field is required</p>");
	free(html);
	json_decref(problems);
	form_free(f);
}

static void test_one_click(void **state)
{
	(void)state;
	form *phone = load("id: callback\nkind: signup\ntitle: Call me\nquestions:\n"
	                   "  - {id: phone, type: phone, label: Phone, required: true}\n");
	form *email = load("id: deals\nkind: signup\ntitle: Deals\nquestions:\n"
	                   "  - {id: email, type: email, label: Email, required: true}\n");
	form *survey = load("id: s\nkind: survey\ntitle: S\nquestions:\n  - {id: email, type: email, label: Email}\n");
	form *two = load("id: t\nkind: signup\ntitle: T\nquestions:\n  - {id: email, type: email, label: Email}\n"
	                 "  - {id: consent, type: consent, label: OK}\n");
	form *text = load("id: u\nkind: signup\ntitle: U\nquestions:\n  - {id: name, type: text, label: Name}\n");
	assert_true(render_one_click(phone));
	assert_true(render_one_click(email));
	assert_false(render_one_click(survey));
	assert_false(render_one_click(two));
	assert_false(render_one_click(text));
	char *html = page(phone, NULL, NULL, NULL);
	assert_contains(html, "<form class=\"es-form es-one-click\"");
	assert_contains(html, "type=\"tel\"");
	/* The honeypot follows the only field. */
	assert_true(strstr(html, "es-hp") > strstr(html, "q-phone"));
	free(html);
	html = page(two, NULL, NULL, NULL);
	assert_contains(html, "<form class=\"es-form\"");
	free(html);
	form_free(phone);
	form_free(email);
	form_free(survey);
	form_free(two);
	form_free(text);
}

static void test_autocomplete(void **state)
{
	(void)state;
	form *f = load("id: a\ntitle: A\nquestions:\n"
	               "  - {id: dob, type: date, label: Date}\n"
	               "  - {id: when, type: date, label: Your date of birth}\n"
	               "  - {id: start, type: date, label: Start}\n"
	               "  - {id: first_name, type: text, label: First}\n"
	               "  - {id: comment, type: text, label: Comment}\n"
	               "  - {id: n, type: number, label: N}\n");
	assert_string_equal(render_autocomplete(&f->questions[0]), "bday");
	assert_string_equal(render_autocomplete(&f->questions[1]), "bday");
	assert_null(render_autocomplete(&f->questions[2]));
	assert_string_equal(render_autocomplete(&f->questions[3]), "given-name");
	assert_null(render_autocomplete(&f->questions[4]));
	assert_null(render_autocomplete(&f->questions[5]));
	form_free(f);
}

static void test_branching_data(void **state)
{
	(void)state;
	form *f = load("id: b\ntitle: B\nquestions:\n"
	               "  - id: reason\n    type: single_choice\n    label: Why?\n    required: true\n"
	               "    options: [Price, Other]\n"
	               "    next:\n      - if: {equals: Other}\n        goto: more\n      - goto: end\n"
	               "  - {id: more, type: text, label: More, required: true}\n");
	char *html = page(f, NULL, NULL, NULL);
	assert_contains(html, "data-next=\"[{&quot;op&quot;:&quot;equals&quot;,&quot;goto&quot;:&quot;more&quot;,"
	                      "&quot;value&quot;:&quot;Other&quot;},{&quot;op&quot;:&quot;always&quot;,"
	                      "&quot;goto&quot;:&quot;end&quot;}]\"");
	free(html);
	form_free(f);
}

static void test_thanks_page(void **state)
{
	(void)state;
	form *f = load(all_yaml);
	json_t *offers = json_pack("[{s:s, s:s}, {s:s}]", "text", "10% off <now>", "code", "EAR-7Q2M-K9XH", "text",
	                           "A gift");
	char *html = render_thanks_page(f, offers, "/static/form.css");
	assert_contains(html, "<p class=\"es-thank-you\" role=\"status\">Thanks &amp; goodbye &lt;3</p>");
	assert_contains(html, "<p class=\"es-offer-text\">10% off &lt;now&gt;</p>");
	assert_contains(html, "<strong class=\"es-code-value\">EAR-7Q2M-K9XH</strong>");
	assert_contains(html, "<p class=\"es-offer-text\">A gift</p>");
	assert_int_equal(count(html, "es-code-value"), 1);
	assert_lacks(html, "<script");
	free(html);
	html = render_thanks_page(f, NULL, "/static/form.css");
	assert_lacks(html, "es-offer");
	free(html);
	json_decref(offers);
	form_free(f);
	html = render_message_page("Form <not> found", "Nothing & nobody", NULL);
	assert_contains(html, "<h1>Form &lt;not&gt; found</h1>\n<p>Nothing &amp; nobody</p>");
	assert_lacks(html, "stylesheet");
	free(html);
}

static void test_parse_fields(void **state)
{
	(void)state;
	const char body[] = "a=1&b=x+y&c=%41%42&a=2&d&&e=%G1%4&=skipped&f=%2B386%2040";
	json_t *f = render_fields_parse(body, strlen(body));
	json_t *a = json_object_get(f, "a");
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(json_string_value(json_array_get(a, 1)), "2");
	assert_string_equal(json_string_value(json_object_get(f, "b")), "x y");
	assert_string_equal(json_string_value(json_object_get(f, "c")), "AB");
	assert_string_equal(json_string_value(json_object_get(f, "d")), "");
	assert_string_equal(json_string_value(json_object_get(f, "e")), "%G1%4");
	assert_string_equal(json_string_value(json_object_get(f, "f")), "+386 40");
	assert_null(json_object_get(f, ""));
	assert_int_equal(json_object_size(f), 6);
	json_decref(f);
	/* Encoded names; NUL kept in values, names holding one skipped; bytes that are not UTF-8. */
	const char odd[] = "web%73ite-url=x&n=a%00b&bad%00=1&u=%FF%C3%A9%C0%AF&s=%ED%A0%80";
	f = render_fields_parse(odd, strlen(odd));
	assert_string_equal(json_string_value(json_object_get(f, "website-url")), "x");
	json_t *n = json_object_get(f, "n");
	assert_int_equal(json_string_length(n), 3);
	assert_memory_equal(json_string_value(n), "a\0b", 3);
	assert_null(json_object_get(f, "bad"));
	assert_string_equal(json_string_value(json_object_get(f, "u")),
	                    "\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd");
	/* An encoded UTF-16 surrogate is not UTF-8 either. */
	assert_string_equal(json_string_value(json_object_get(f, "s")), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(f);
	f = render_fields_parse("", 0);
	assert_int_equal(json_object_size(f), 0);
	json_decref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_page_structure),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_texts_and_constraints),
		cmocka_unit_test(test_values_kept_and_problems),
		cmocka_unit_test(test_group_problem),
		cmocka_unit_test(test_one_click),
		cmocka_unit_test(test_autocomplete),
		cmocka_unit_test(test_branching_data),
		cmocka_unit_test(test_thanks_page),
		cmocka_unit_test(test_parse_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
