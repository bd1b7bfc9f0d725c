/* Unit tests for server/validate.c: every question type's rules, normalisation, requiredness along
 * branches, whole-submission problems and the urlencoded conversion. Forms are built by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "validate.h"

/* ---- helpers ------------------------------------------------------------------------------------ */

/* A question of the given id and type with the loader's defaults (fields borrowed, never freed). */
static question make_q(const char *id, question_type type)
{
	question q;
	memset(&q, 0, sizeof q);
	q.id = (char *)id;
	q.type = type;
	q.label = (char *)id;
	q.scale = 5;
	q.max_length = 2000;
	return q;
}

static char *colour_options[] = { "Red", "Green", "Blue" };

/* Sets q's options to Red, Green, Blue. */
static void with_colours(question *q)
{
	q->options = colour_options;
	q->n_options = 3;
}

/* A form over the questions array (borrowed). */
static form make_form(question *qs, size_t n)
{
	form f;
	memset(&f, 0, sizeof f);
	f.id = (char *)"test";
	f.title = (char *)"Test";
	f.questions = qs;
	f.n_questions = n;
	return f;
}

/* Runs validate_value on v (stolen) and returns the message; *norm receives the normalised value. */
static const char *check(const question *q, json_t *v, json_t **norm)
{
	json_t *n = NULL;
	const char *msg = validate_value(q, v, &n);
	json_decref(v);
	if (norm)
		*norm = n;
	else
		json_decref(n);
	if (msg != NULL)
		assert_null(n);
	return msg;
}

/* Asserts that v (stolen) is valid for q. */
static void assert_ok(const question *q, json_t *v)
{
	const char *msg = check(q, v, NULL);
	if (msg != NULL)
		fail_msg("expected valid, got \"%s\"", msg);
}

/* Asserts that v (stolen) is refused for q with exactly the sentence want. */
static void assert_bad(const question *q, json_t *v, const char *want)
{
	const char *msg = check(q, v, NULL);
	assert_non_null(msg);
	assert_string_equal(msg, want);
}

/* Asserts that string s is valid for q and normalises to the string want. */
static void assert_norm_str(const question *q, const char *s, const char *want)
{
	json_t *n = NULL;
	const char *msg = check(q, json_string(s), &n);
	if (msg != NULL)
		fail_msg("\"%s\": expected valid, got \"%s\"", s, msg);
	assert_true(json_is_string(n));
	assert_string_equal(json_string_value(n), want);
	json_decref(n);
}

/* A string of n copies of c (caller frees). */
static char *repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- nps / rating / number ---------------------------------------------------------------------- */

static void test_nps(void **state)
{
	(void)state;
	question q = make_q("score", Q_NPS);
	const char *msg = "must be a whole number from 0 to 10";
	json_t *n = NULL;
	assert_null(check(&q, json_integer(0), &n));
	assert_true(json_is_integer(n));
	assert_int_equal(json_integer_value(n), 0);
	json_decref(n);
	assert_ok(&q, json_integer(10));
	assert_ok(&q, json_integer(7));
	assert_bad(&q, json_integer(11), msg);
	assert_bad(&q, json_integer(-1), msg);
	assert_bad(&q, json_real(7.5), msg);
	assert_bad(&q, json_real(10.0), msg);
	assert_bad(&q, json_real(0.0), msg);
	assert_bad(&q, json_string("7"), msg);
	assert_bad(&q, json_true(), msg);
	assert_bad(&q, json_false(), msg);
	assert_bad(&q, json_pack("[i]", 7), msg);
	/* optional and empty: valid, nothing to store */
	assert_null(check(&q, json_null(), &n));
	assert_null(n);
	assert_null(check(&q, json_string(""), &n));
	assert_null(n);
	q.required = true;
	assert_bad(&q, json_null(), "is required");
	assert_bad(&q, json_string("  "), "is required");
}

static void test_rating(void **state)
{
	(void)state;
	question q = make_q("stars", Q_RATING);
	assert_ok(&q, json_integer(1));
	assert_ok(&q, json_integer(5));
	assert_bad(&q, json_integer(0), "must be a whole number within the rating scale");
	assert_bad(&q, json_integer(6), "must be a whole number within the rating scale");
	assert_bad(&q, json_real(3.0), "must be a whole number within the rating scale");
	assert_bad(&q, json_string("3"), "must be a whole number within the rating scale");
	q.scale = 10;
	assert_ok(&q, json_integer(10));
	assert_bad(&q, json_integer(11), "must be a whole number within the rating scale");
	q.scale = 0; /* unset: the default scale of 5 */
	assert_ok(&q, json_integer(5));
	assert_bad(&q, json_integer(6), "must be a whole number within the rating scale");

	/* validate_answers gives the precise range */
	q.scale = 7;
	form f = make_form(&q, 1);
	json_t *answers = json_pack("{s:i}", "stars", 8), *problems = json_object(), *norm = NULL;
	assert_int_equal(validate_answers(&f, answers, &norm, problems), -1);
	assert_string_equal(json_string_value(json_object_get(problems, "stars")),
	                    "must be a whole number from 1 to 7");
	json_decref(answers);
	json_decref(problems);
	json_decref(norm);
}

static void test_number(void **state)
{
	(void)state;
	question q = make_q("qty", Q_NUMBER);
	json_t *n = NULL;
	assert_ok(&q, json_integer(-5));
	assert_ok(&q, json_integer(1000000));
	assert_null(check(&q, json_real(2.5), &n));
	assert_true(json_is_real(n));
	assert_true(json_real_value(n) == 2.5);
	json_decref(n);
	assert_null(check(&q, json_integer(3), &n));
	assert_true(json_is_integer(n));
	json_decref(n);
	assert_bad(&q, json_string("3"), "must be a number");
	assert_bad(&q, json_true(), "must be a number");

	q.has_min = true;
	q.min = 1;
	q.has_max = true;
	q.max = 99.5;
	assert_ok(&q, json_integer(1));
	assert_ok(&q, json_real(99.5));
	assert_bad(&q, json_real(0.999), "must be a number within the allowed range");
	assert_bad(&q, json_real(99.51), "must be a number within the allowed range");

	form f = make_form(&q, 1);
	json_t *answers = json_pack("{s:i}", "qty", 100), *problems = json_object(), *norm = NULL;
	assert_int_equal(validate_answers(&f, answers, &norm, problems), -1);
	assert_string_equal(json_string_value(json_object_get(problems, "qty")), "must be a number from 1 to 99.5");
	json_decref(answers);
	json_decref(problems);
	json_decref(norm);

	q.has_max = false;
	answers = json_pack("{s:i}", "qty", -2);
	problems = json_object();
	assert_int_equal(validate_answers(&f, answers, &norm, problems), -1);
	assert_string_equal(json_string_value(json_object_get(problems, "qty")), "must be at least 1");
	json_decref(answers);
	json_decref(problems);
	json_decref(norm);
}

/* ---- choices ------------------------------------------------------------------------------------ */

static void test_single_choice(void **state)
{
	(void)state;
	question q = make_q("colour", Q_SINGLE_CHOICE);
	with_colours(&q);
	assert_norm_str(&q, "Green", "Green");
	assert_bad(&q, json_string("green"), "must be one of the listed options");
	assert_bad(&q, json_string("Purple"), "must be one of the listed options");
	assert_bad(&q, json_integer(1), "must be one of the listed options");
	assert_bad(&q, json_pack("[s]", "Red"), "must be one of the listed options");
	q.required = true;
	assert_bad(&q, json_string(""), "is required");
}

static void test_multi_choice(void **state)
{
	(void)state;
	question q = make_q("colours", Q_MULTI_CHOICE);
	with_colours(&q);
	json_t *n = NULL;

	/* stored in the form's option order, whatever order was sent */
	assert_null(check(&q, json_pack("[s,s]", "Blue", "Red"), &n));
	json_t *want = json_pack("[s,s]", "Red", "Blue");
	assert_true(json_equal(n, want));
	json_decref(want);
	json_decref(n);

	/* a lone string is a one-element array */
	assert_null(check(&q, json_string("Green"), &n));
	want = json_pack("[s]", "Green");
	assert_true(json_equal(n, want));
	json_decref(want);
	json_decref(n);

	assert_bad(&q, json_pack("[s,s]", "Red", "Red"), "must not repeat an option");
	assert_bad(&q, json_pack("[s,s]", "Red", "Pink"), "must contain only the listed options");
	assert_bad(&q, json_string("Pink"), "must contain only the listed options");
	assert_bad(&q, json_pack("[s,i]", "Red", 2), "must be a list of the listed options");
	assert_bad(&q, json_integer(2), "must be a list of the listed options");
	assert_bad(&q, json_pack("{s:b}", "Red", 1), "must be a list of the listed options");

	/* [] is empty: fine when optional, "is required" when required */
	assert_null(check(&q, json_array(), &n));
	assert_null(n);
	q.required = true;
	assert_bad(&q, json_array(), "is required");
}

/* ---- text --------------------------------------------------------------------------------------- */

static void test_text_length_in_characters(void **state)
{
	(void)state;
	question q = make_q("note", Q_TEXT);
	q.max_length = 5;
	/* "héllo" with é as 2 bytes, then 5 characters of 3 bytes each: bytes exceed 5, characters do not */
	assert_norm_str(&q, "h\xc3\xa9llo", "h\xc3\xa9llo");
	assert_norm_str(&q, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
	                "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac");
	/* 4-byte characters: five of them is 20 bytes and still fine */
	assert_ok(&q, json_string("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	                          "\xf0\x9f\x98\x80"));
	/* one over */
	assert_bad(&q, json_string("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac!"),
	           "is too long");
	assert_bad(&q, json_string("abcdef"), "is too long");

	form f = make_form(&q, 1);
	json_t *answers = json_pack("{s:s}", "note", "abcdef"), *problems = json_object(), *norm = NULL;
	assert_int_equal(validate_answers(&f, answers, &norm, problems), -1);
	assert_string_equal(json_string_value(json_object_get(problems, "note")), "must be at most 5 characters");
	json_decref(answers);
	json_decref(problems);
	json_decref(norm);

	/* default limit of 2000 when unset */
	q.max_length = 0;
	char *s = repeat('x', 2000);
	assert_ok(&q, json_string(s));
	free(s);
	s = repeat('x', 2001);
	assert_bad(&q, json_string(s), "is too long");
	free(s);
}

static void test_text_content(void **state)
{
	(void)state;
	question q = make_q("note", Q_LONG_TEXT);
	/* stored exactly as given, white space and markup included */
	assert_norm_str(&q, "  two  spaces\n<b>bold</b>  ", "  two  spaces\n<b>bold</b>  ");
	/* invalid UTF-8: a lone continuation byte, an overlong '/', a surrogate */
	assert_bad(&q, json_string_nocheck("abc\x80"), "must be valid UTF-8 text");
	assert_bad(&q, json_string_nocheck("\xc0\xaf"), "must be valid UTF-8 text");
	assert_bad(&q, json_string_nocheck("\xed\xa0\x80"), "must be valid UTF-8 text");
	assert_bad(&q, json_stringn("a\0b", 3), "must not contain NUL characters");
	assert_bad(&q, json_integer(5), "must be text");
	/* white space only is empty */
	json_t *n = NULL;
	assert_null(check(&q, json_string(" \t\r\n "), &n));
	assert_null(n);
	q.required = true;
	assert_bad(&q, json_string(" \t\r\n "), "is required");
}

/* ---- email -------------------------------------------------------------------------------------- */

/* "<local>@<domain>" where local has local_len bytes and the domain domain_len bytes. */
static char *email_of(size_t local_len, size_t domain_len)
{
	char *s = xmalloc(local_len + domain_len + 2);
	memset(s, 'a', local_len);
	s[local_len] = '@';
	char *d = s + local_len + 1;
	/* labels of at most 63 letters separated by dots */
	for (size_t i = 0; i < domain_len; i++)
		d[i] = (i + 1) % 64 == 0 ? '.' : 'b';
	d[domain_len] = '\0';
	return s;
}

static void test_email(void **state)
{
	(void)state;
	question q = make_q("email", Q_EMAIL);
	const char *shape = "must look like name@example.com";
	assert_norm_str(&q, "Jane.Doe+news@Example.COM", "Jane.Doe+news@example.com");
	assert_norm_str(&q, "  jane@example.org \n", "jane@example.org");
	assert_norm_str(&q, "o'brien!#$%&*/=?^_`{|}~-@mail.example-shop.co.uk",
	                "o'brien!#$%&*/=?^_`{|}~-@mail.example-shop.co.uk");
	assert_norm_str(&q, "x@xn--bcher-kva.example", "x@xn--bcher-kva.example");

	assert_bad(&q, json_string("jane"), shape);
	assert_bad(&q, json_string("jane@localhost"), shape);
	assert_bad(&q, json_string("@example.com"), shape);
	assert_bad(&q, json_string("jane@"), shape);
	assert_bad(&q, json_string(".jane@example.com"), shape);
	assert_bad(&q, json_string("jane.@example.com"), shape);
	assert_bad(&q, json_string("ja..ne@example.com"), shape);
	assert_bad(&q, json_string("ja ne@example.com"), shape);
	assert_bad(&q, json_string("\"ja ne\"@example.com"), shape);
	assert_bad(&q, json_string("jane@-example.com"), shape);
	assert_bad(&q, json_string("jane@example-.com"), shape);
	assert_bad(&q, json_string("jane@example..com"), shape);
	assert_bad(&q, json_string("jane@example.com."), shape);
	assert_bad(&q, json_string("jane@example.123"), shape);
	assert_bad(&q, json_string("jane@[192.0.2.1]"), shape);
	assert_bad(&q, json_string("jane@ex_ample.com"), shape);
	assert_bad(&q, json_string("jane@b\xc3\xbc" "cher.example"), shape);
	assert_bad(&q, json_string("j\xc3\xa4ne@example.com"), shape);
	assert_bad(&q, json_string("a@b@example.com"), shape);
	assert_bad(&q, json_integer(1), shape);

	/* 254 bytes in all is the limit; 255 is one too many */
	char *s = email_of(64, 189);
	assert_int_equal(strlen(s), 254);
	assert_ok(&q, json_string(s));
	free(s);
	s = email_of(64, 190);
	assert_int_equal(strlen(s), 255);
	assert_bad(&q, json_string(s), "must be at most 254 characters");
	free(s);
	/* the local part may have 64 bytes, not 65 */
	char *local = repeat('a', 64);
	s = xasprintf("%s@example.com", local);
	assert_ok(&q, json_string(s));
	free(s);
	s = xasprintf("%sa@example.com", local);
	assert_bad(&q, json_string(s), "must have at most 64 characters before the @");
	free(s);
	free(local);
	/* a domain label may have 63 bytes, not 64 */
	char label[128];
	memset(label, 'c', 63);
	strcpy(label + 63, ".com");
	char *addr = xasprintf("a@%s", label);
	assert_ok(&q, json_string(addr));
	free(addr);
	memset(label, 'c', 64);
	strcpy(label + 64, ".com");
	addr = xasprintf("a@%s", label);
	assert_bad(&q, json_string(addr), shape);
	free(addr);
}

static void test_validate_email_direct(void **state)
{
	(void)state;
	char *out = (char *)"untouched";
	const char *why = NULL;
	assert_int_equal(validate_email("Bob@EXAMPLE.Net", &out, &why), 0);
	assert_string_equal(out, "Bob@example.net");
	free(out);
	assert_int_equal(validate_email("bob", &out, &why), -1);
	assert_null(out);
	assert_string_equal(why, "must look like name@example.com");
}

/* ---- phone -------------------------------------------------------------------------------------- */

static void test_phone(void **state)
{
	(void)state;
	question q = make_q("phone", Q_PHONE);
	const char *count = "must have 8 to 15 digits including the country code";
	const char *chars = "must contain only digits, spaces, dashes, dots and parentheses";
	assert_norm_str(&q, "+38640123456", "+38640123456");
	assert_norm_str(&q, "+386 (40) 123-456", "+38640123456");
	assert_norm_str(&q, " +1 415.555.0100 ", "+14155550100");
	assert_norm_str(&q, "0038640123456", "+38640123456");
	assert_norm_str(&q, "00 44 20 7946 0958", "+442079460958");
	/* "+" and 8 digits, "+" and 15 digits: the bounds of E.164 */
	assert_norm_str(&q, "+12345678", "+12345678");
	assert_norm_str(&q, "+123456789012345", "+123456789012345");
	assert_bad(&q, json_string("+1234567"), count);
	assert_bad(&q, json_string("+1234567890123456"), count);
	assert_bad(&q, json_string("+"), count);
	/* letters and misplaced plus signs */
	assert_bad(&q, json_string("+386 40 CALL ME"), chars);
	assert_bad(&q, json_string("+386 40 123 456 ext 7"), chars);
	assert_bad(&q, json_string("386+40123456"), chars);
	assert_bad(&q, json_string("++38640123456"), chars);
	/* country codes never start with 0 */
	assert_bad(&q, json_string("+038640123456"), "must start with + and the country code");
	/* no country: national numbers are refused */
	assert_bad(&q, json_string("040 123 456"), "must start with + and the country code");
	assert_bad(&q, json_integer(38640123456), "must be a phone number such as +386 40 123 456");
}

static void test_phone_default_country(void **state)
{
	(void)state;
	question q = make_q("phone", Q_PHONE);
	q.default_country = (char *)"386";
	/* the trunk 0 of a national number is dropped */
	assert_norm_str(&q, "040 123 456", "+38640123456");
	assert_norm_str(&q, "40 123 456", "+38640123456");
	/* an international number keeps its own country */
	assert_norm_str(&q, "+44 20 7946 0958", "+442079460958");
	assert_norm_str(&q, "0044 20 7946 0958", "+442079460958");
	/* too short even with the country code: +386 and 4 digits */
	assert_bad(&q, json_string("0 1234"), "must have 8 to 15 digits including the country code");
	/* "+386" in the form is taken as "386" */
	q.default_country = (char *)"+386";
	assert_norm_str(&q, "040 123 456", "+38640123456");

	char *out = NULL;
	const char *why = NULL;
	assert_int_equal(validate_phone("(0)40-123-456", "386", &out, &why), 0);
	assert_string_equal(out, "+38640123456");
	free(out);
	assert_int_equal(validate_phone("040123456", NULL, &out, &why), -1);
	assert_null(out);
	assert_non_null(why);
	/* a malformed default country is ignored */
	assert_int_equal(validate_phone("040123456", "3a6", &out, &why), -1);
	assert_int_equal(validate_phone("040123456", "0386", &out, &why), -1);
}

/* ---- date and consent --------------------------------------------------------------------------- */

static void test_date(void **state)
{
	(void)state;
	const char *why = NULL;
	assert_int_equal(validate_date("2024-02-29", &why), 0);
	assert_int_equal(validate_date("2000-02-29", &why), 0);
	assert_int_equal(validate_date("2023-02-28", &why), 0);
	assert_int_equal(validate_date("1900-01-01", &why), 0);
	assert_int_equal(validate_date("2100-12-31", &why), 0);
	assert_int_equal(validate_date("2023-02-29", &why), -1);
	assert_string_equal(why, "must be a real calendar date");
	assert_int_equal(validate_date("2100-02-29", &why), -1);
	assert_int_equal(validate_date("1900-02-29", &why), -1);
	assert_int_equal(validate_date("2023-04-31", &why), -1);
	assert_int_equal(validate_date("2023-13-01", &why), -1);
	assert_int_equal(validate_date("2023-00-10", &why), -1);
	assert_int_equal(validate_date("2023-01-00", &why), -1);
	assert_int_equal(validate_date("1899-12-31", &why), -1);
	assert_string_equal(why, "must be a date with a year from 1900 to 2100");
	assert_int_equal(validate_date("2101-01-01", &why), -1);
	assert_int_equal(validate_date("2023-1-01", &why), -1);
	assert_string_equal(why, "must be a date written as YYYY-MM-DD");
	assert_int_equal(validate_date("20230101", &why), -1);
	assert_int_equal(validate_date("2023/01/01", &why), -1);
	assert_int_equal(validate_date("2023-01-01T00:00", &why), -1);
	assert_int_equal(validate_date("+023-01-01", &why), -1);

	question q = make_q("born", Q_DATE);
	assert_norm_str(&q, " 2024-02-29 ", "2024-02-29");
	assert_bad(&q, json_string("2023-02-29"), "must be a real calendar date");
	assert_bad(&q, json_integer(20240229), "must be a date written as YYYY-MM-DD");
}

static void test_consent(void **state)
{
	(void)state;
	question q = make_q("terms", Q_CONSENT);
	json_t *n = NULL;
	assert_null(check(&q, json_true(), &n));
	assert_true(json_is_true(n));
	json_decref(n);
	/* optional and false: nothing to store */
	assert_null(check(&q, json_false(), &n));
	assert_null(n);
	assert_bad(&q, json_string("yes"), "must be true or false");
	assert_bad(&q, json_integer(1), "must be true or false");
	q.required = true;
	assert_ok(&q, json_true());
	assert_bad(&q, json_false(), "must be accepted");
	assert_bad(&q, json_null(), "is required");
}

/* ---- whole submissions -------------------------------------------------------------------------- */

/* Validates the JSON text answers against f; returns the result and sets *norm / *problems. */
static int run(const form *f, const char *answers_json, json_t **norm, json_t **problems)
{
	json_error_t e;
	json_t *answers = json_loads(answers_json, JSON_DECODE_ANY, &e);
	if (answers == NULL)
		fail_msg("bad test JSON: %s", e.text);
	*problems = json_object();
	int rc = validate_answers(f, answers, norm, *problems);
	json_decref(answers);
	return rc;
}

/* The problem sentence recorded for key, or NULL. */
static const char *problem(json_t *problems, const char *key)
{
	return json_string_value(json_object_get(problems, key));
}

static void test_answers_valid_and_normalised(void **state)
{
	(void)state;
	question qs[4] = { make_q("score", Q_NPS), make_q("email", Q_EMAIL), make_q("why", Q_TEXT),
	                   make_q("colours", Q_MULTI_CHOICE) };
	qs[0].required = true;
	qs[1].required = true;
	with_colours(&qs[3]);
	form f = make_form(qs, 4);
	json_t *norm, *problems;
	assert_int_equal(run(&f, "{\"score\":9,\"email\":\"A@B.EXAMPLE\",\"why\":\"  \",\"colours\":[]}",
	                     &norm, &problems), 0);
	assert_int_equal(json_object_size(problems), 0);
	json_t *want = json_pack("{s:i,s:s}", "score", 9, "email", "A@b.example");
	assert_true(json_equal(norm, want)); /* empty optional answers are dropped */
	json_decref(want);
	json_decref(norm);
	json_decref(problems);
}

static void test_answers_required_and_unknown(void **state)
{
	(void)state;
	question qs[3] = { make_q("score", Q_NPS), make_q("email", Q_EMAIL), make_q("terms", Q_CONSENT) };
	qs[0].required = true;
	qs[1].required = true;
	qs[2].required = true;
	form f = make_form(qs, 3);
	json_t *norm, *problems;
	assert_int_equal(run(&f, "{\"email\":null,\"terms\":false,\"colour\":\"red\",\"Score\":3}", &norm,
	                     &problems), -1);
	assert_int_equal(json_object_size(problems), 5);
	assert_string_equal(problem(problems, "score"), "is required");
	assert_string_equal(problem(problems, "email"), "is required");
	assert_string_equal(problem(problems, "terms"), "must be accepted");
	assert_string_equal(problem(problems, "colour"), "is not a question of this form");
	assert_string_equal(problem(problems, "Score"), "is not a question of this form");
	assert_int_equal(json_object_size(norm), 0);
	json_decref(norm);
	json_decref(problems);
}

static void test_answers_several_bad_at_once(void **state)
{
	(void)state;
	question qs[6] = { make_q("score", Q_NPS), make_q("email", Q_EMAIL), make_q("phone", Q_PHONE),
	                   make_q("born", Q_DATE), make_q("colour", Q_SINGLE_CHOICE), make_q("name", Q_TEXT) };
	with_colours(&qs[4]);
	qs[5].required = true;
	form f = make_form(qs, 6);
	json_t *norm, *problems;
	assert_int_equal(run(&f, "{\"score\":\"7\",\"email\":\"nope\",\"phone\":\"call me\","
	                         "\"born\":\"2023-02-29\",\"colour\":\"Red\"}",
	                     &norm, &problems), -1);
	assert_int_equal(json_object_size(problems), 5);
	assert_string_equal(problem(problems, "score"), "must be a whole number from 0 to 10");
	assert_string_equal(problem(problems, "email"), "must look like name@example.com");
	assert_non_null(problem(problems, "phone"));
	assert_string_equal(problem(problems, "born"), "must be a real calendar date");
	assert_string_equal(problem(problems, "name"), "is required");
	assert_null(problem(problems, "colour"));
	/* the valid answer is normalised even though the whole is refused */
	assert_string_equal(json_string_value(json_object_get(norm, "colour")), "Red");
	json_decref(norm);
	json_decref(problems);
}

static void test_answers_not_an_object(void **state)
{
	(void)state;
	question q = make_q("score", Q_NPS);
	form f = make_form(&q, 1);
	const char *bad[] = { "[1,2]", "\"score\"", "7", "null" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *norm, *problems;
		assert_int_equal(run(&f, bad[i], &norm, &problems), -1);
		assert_int_equal(json_object_size(problems), 1);
		assert_string_equal(problem(problems, "answers"), "must be an object");
		assert_true(json_is_object(norm));
		json_decref(norm);
		json_decref(problems);
	}
}

static void test_answers_follow_branches(void **state)
{
	(void)state;
	/* reason -> (Other) reason_other -> end; (anything else) -> end; contact after it is never shown
	 * unless the path reaches it */
	question qs[3] = { make_q("reason", Q_SINGLE_CHOICE), make_q("reason_other", Q_TEXT),
	                   make_q("contact", Q_EMAIL) };
	char *opts[] = { "Price", "Other" };
	qs[0].options = opts;
	qs[0].n_options = 2;
	qs[0].required = true;
	branch_rule rules[2] = { { COND_EQUALS, json_string("Other"), (char *)"reason_other" },
	                         { COND_ALWAYS, NULL, (char *)"end" } };
	qs[0].next = rules;
	qs[0].n_next = 2;
	qs[1].required = true;
	qs[2].required = true;
	form f = make_form(qs, 3);
	json_t *norm, *problems;

	/* Price: the path ends after the first question */
	assert_int_equal(run(&f, "{\"reason\":\"Price\"}", &norm, &problems), 0);
	json_decref(norm);
	json_decref(problems);

	/* Other: reason_other and then contact are on the path and required */
	assert_int_equal(run(&f, "{\"reason\":\"Other\"}", &norm, &problems), -1);
	assert_string_equal(problem(problems, "reason_other"), "is required");
	assert_string_equal(problem(problems, "contact"), "is required");
	json_decref(norm);
	json_decref(problems);

	/* an invalid answer on a conditional branch: only that problem is reported */
	assert_int_equal(run(&f, "{\"reason\":\"Cost\"}", &norm, &problems), -1);
	assert_int_equal(json_object_size(problems), 1);
	assert_string_equal(problem(problems, "reason"), "must be one of the listed options");
	json_decref(norm);
	json_decref(problems);

	/* nothing at all: the first question is required; the rest depends on it */
	assert_int_equal(run(&f, "{}", &norm, &problems), -1);
	assert_int_equal(json_object_size(problems), 1);
	assert_string_equal(problem(problems, "reason"), "is required");
	json_decref(norm);
	json_decref(problems);

	/* lte on a number, and a loop back to the start does not hang */
	question ls[2] = { make_q("score", Q_NPS), make_q("why_low", Q_TEXT) };
	branch_rule lrules[2] = { { COND_LTE, json_integer(6), (char *)"why_low" },
	                          { COND_ALWAYS, NULL, (char *)"end" } };
	branch_rule back = { COND_ALWAYS, NULL, (char *)"score" };
	ls[0].next = lrules;
	ls[0].n_next = 2;
	ls[1].next = &back;
	ls[1].n_next = 1;
	ls[1].required = true;
	form lf = make_form(ls, 2);
	assert_int_equal(run(&lf, "{\"score\":9}", &norm, &problems), 0);
	json_decref(norm);
	json_decref(problems);
	assert_int_equal(run(&lf, "{\"score\":3}", &norm, &problems), -1);
	assert_string_equal(problem(problems, "why_low"), "is required");
	json_decref(norm);
	json_decref(problems);

	json_decref(rules[0].value);
	json_decref(lrules[0].value);
}

/* ---- urlencoded submits ------------------------------------------------------------------------- */

static void test_from_strings(void **state)
{
	(void)state;
	question qs[8] = { make_q("score", Q_NPS), make_q("stars", Q_RATING), make_q("qty", Q_NUMBER),
	                   make_q("colours", Q_MULTI_CHOICE), make_q("terms", Q_CONSENT),
	                   make_q("news", Q_CONSENT), make_q("name", Q_TEXT), make_q("email", Q_EMAIL) };
	with_colours(&qs[3]);
	form f = make_form(qs, 8);
	json_t *fields = json_pack("{s:s,s:s,s:s,s:[s,s,s],s:s,s:s,s:s,s:s}", "score", "7", "stars", " 4 ",
	                           "qty", "-3.25", "colours", "Blue", "", "Red", "terms", "", "name", "",
	                           "email", "a@example.com", "_started", "12345");
	json_t *typed = validate_answers_from_strings(&f, fields);
	json_t *want = json_pack("{s:i,s:i,s:f,s:[s,s],s:b,s:b,s:s}", "score", 7, "stars", 4, "qty", -3.25,
	                         "colours", "Blue", "Red", "terms", 1, "news", 0, "email", "a@example.com");
	if (!json_equal(typed, want)) {
		char *got = json_dumps(typed, JSON_COMPACT);
		fail_msg("got %s", got);
	}
	json_decref(want);

	/* the typed answers validate, with the multi-choice in option order */
	json_t *norm = NULL, *problems = json_object();
	assert_int_equal(validate_answers(&f, typed, &norm, problems), 0);
	want = json_pack("[s,s]", "Red", "Blue");
	assert_true(json_equal(json_object_get(norm, "colours"), want));
	assert_null(json_object_get(norm, "news"));
	json_decref(want);
	json_decref(norm);
	json_decref(problems);
	json_decref(typed);
	json_decref(fields);
}

static void test_from_strings_bad_numbers_stay_reportable(void **state)
{
	(void)state;
	question qs[3] = { make_q("score", Q_NPS), make_q("n2", Q_NPS), make_q("n3", Q_NPS) };
	qs[0].required = true;
	form f = make_form(qs, 3);
	json_t *fields = json_pack("{s:s,s:s,s:s}", "score", "seven", "n2", "7.5", "n3", "0x7");
	json_t *typed = validate_answers_from_strings(&f, fields);
	assert_true(json_is_string(json_object_get(typed, "score")));
	assert_true(json_is_real(json_object_get(typed, "n2")));
	assert_true(json_is_string(json_object_get(typed, "n3")));
	json_t *norm = NULL, *problems = json_object();
	assert_int_equal(validate_answers(&f, typed, &norm, problems), -1);
	assert_int_equal(json_object_size(problems), 3);
	assert_string_equal(problem(problems, "score"), "must be a whole number from 0 to 10");
	json_decref(norm);
	json_decref(problems);
	json_decref(typed);
	json_decref(fields);

	/* an unticked required consent on the hosted page must be accepted */
	question c = make_q("terms", Q_CONSENT);
	c.required = true;
	form cf = make_form(&c, 1);
	fields = json_object();
	typed = validate_answers_from_strings(&cf, fields);
	problems = json_object();
	assert_int_equal(validate_answers(&cf, typed, &norm, problems), -1);
	assert_string_equal(problem(problems, "terms"), "must be accepted");
	json_decref(norm);
	json_decref(problems);
	json_decref(typed);
	json_decref(fields);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nps),
		cmocka_unit_test(test_rating),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_single_choice),
		cmocka_unit_test(test_multi_choice),
		cmocka_unit_test(test_text_length_in_characters),
		cmocka_unit_test(test_text_content),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_validate_email_direct),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_phone_default_country),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_consent),
		cmocka_unit_test(test_answers_valid_and_normalised),
		cmocka_unit_test(test_answers_required_and_unknown),
		cmocka_unit_test(test_answers_several_bad_at_once),
		cmocka_unit_test(test_answers_not_an_object),
		cmocka_unit_test(test_answers_follow_branches),
		cmocka_unit_test(test_from_strings),
		cmocka_unit_test(test_from_strings_bad_numbers_stay_reportable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
