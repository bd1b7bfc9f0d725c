/* validate: server-side rules for every question type (shared spec config.md, "Type rules").
 *
 * The work is split in three layers:
 *   - per-type checkers (check_nps, check_email, ...) that take one non-empty JSON value and either
 *     return NULL with a new normalised value, or a static sentence a visitor can act on;
 *   - emptiness and requiredness (is_empty, required_problem), shared by validate_value and
 *     validate_answers;
 *   - the form walk of validate_answers, which follows the questions' `next:` branches so that a
 *     required question the visitor was never shown is not demanded. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "validate.h"

#define EMAIL_MAX 254
#define EMAIL_LOCAL_MAX 64
#define DOMAIN_LABEL_MAX 63
#define PHONE_MIN_DIGITS 8
#define PHONE_MAX_DIGITS 15
#define TEXT_DEFAULT_MAX 2000
#define RATING_DEFAULT_SCALE 5

static const char MSG_REQUIRED[] = "is required";
static const char MSG_ACCEPT[] = "must be accepted";
static const char MSG_UNKNOWN[] = "is not a question of this form";
static const char MSG_OBJECT[] = "must be an object";

/* ---- small helpers ------------------------------------------------------------------------------ */

/* True for the ASCII white-space characters a visitor can type or paste. */
static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* True when s[0..len) is only white space (or empty). */
static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_space((unsigned char)s[i]))
			return false;
	return true;
}

/* Returns a malloc'd copy of s without leading and trailing white space (caller frees). */
static char *trim_dup(const char *s)
{
	while (is_space((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && is_space((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/* True when a JSON string holds a NUL byte (json_stringn can carry one). */
static bool has_nul(const json_t *s)
{
	return memchr(json_string_value(s), '\0', json_string_length(s)) != NULL;
}

/* True when value counts as "no answer" for question q: null, a blank string, an empty array, or
 * false for a consent. */
static bool is_empty(const question *q, const json_t *value)
{
	if (value == NULL || json_is_null(value))
		return true;
	if (json_is_string(value))
		return blank(json_string_value(value), json_string_length(value));
	if (json_is_array(value))
		return json_array_size(value) == 0;
	if (q->type == Q_CONSENT && json_is_false(value))
		return true;
	return false;
}

/* The sentence for a required question left empty: an unticked consent "must be accepted", anything
 * else "is required". value may be NULL (missing). */
static const char *required_problem(const question *q, const json_t *value)
{
	if (q->type == Q_CONSENT && value != NULL && json_is_false(value))
		return MSG_ACCEPT;
	return MSG_REQUIRED;
}

/* Formats into detail (when not NULL) and returns the static fallback sentence. */
static const char *detailed(char *detail, size_t size, const char *fallback, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static const char *detailed(char *detail, size_t size, const char *fallback, const char *fmt, ...)
{
	if (detail != NULL && size > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, size, fmt, ap);
		va_end(ap);
	}
	return fallback;
}

/* Shortest "%g" text of d that reads back as d, into buf. */
static void format_number(double d, char *buf, size_t size)
{
	snprintf(buf, size, "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, size, "%.17g", d);
}

/* ---- numbers ------------------------------------------------------------------------------------ */

/* nps: a JSON integer 0..10; reals (even 10.0), strings and booleans are refused. */
static const char *check_nps(const json_t *v, json_t **out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 10)
		return "must be a whole number from 0 to 10";
	*out = json_integer(json_integer_value(v));
	return NULL;
}

/* rating: a JSON integer 1..scale. */
static const char *check_rating(const question *q, const json_t *v, json_t **out, char *detail,
                                size_t size)
{
	int scale = q->scale > 0 ? q->scale : RATING_DEFAULT_SCALE;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > scale)
		return detailed(detail, size, "must be a whole number within the rating scale",
		                "must be a whole number from 1 to %d", scale);
	*out = json_integer(json_integer_value(v));
	return NULL;
}

/* number: any finite JSON number within min/max when given. */
static const char *check_number(const question *q, const json_t *v, json_t **out, char *detail,
                                size_t size)
{
	if (!json_is_number(v))
		return "must be a number";
	double d = json_number_value(v);
	if (!isfinite(d))
		return "must be a number";
	char lo[32], hi[32];
	format_number(q->min, lo, sizeof lo);
	format_number(q->max, hi, sizeof hi);
	if (q->has_min && q->has_max && (d < q->min || d > q->max))
		return detailed(detail, size, "must be a number within the allowed range",
		                "must be a number from %s to %s", lo, hi);
	if (q->has_min && d < q->min)
		return detailed(detail, size, "must be a number within the allowed range",
		                "must be at least %s", lo);
	if (q->has_max && d > q->max)
		return detailed(detail, size, "must be a number within the allowed range",
		                "must be at most %s", hi);
	*out = json_is_integer(v) ? json_integer(json_integer_value(v)) : json_real(d);
	return NULL;
}

/* ---- choices ------------------------------------------------------------------------------------ */

/* Index of option s among q's options, or -1. */
static int option_index(const question *q, const char *s)
{
	for (size_t i = 0; i < q->n_options; i++)
		if (strcmp(q->options[i], s) == 0)
			return (int)i;
	return -1;
}

/* single_choice: a string equal to one of the options (exact, case-sensitive). */
static const char *check_single(const question *q, const json_t *v, json_t **out)
{
	if (!json_is_string(v) || has_nul(v) || option_index(q, json_string_value(v)) < 0)
		return "must be one of the listed options";
	*out = json_string(json_string_value(v));
	return NULL;
}

/* multi_choice: an array of distinct option strings (a lone string is a one-element array). The
 * normalised array lists the chosen options in the order the form gives them, so that equal choices
 * are stored equally whatever order the browser sent. */
static const char *check_multi(const question *q, const json_t *v, json_t **out)
{
	const char *msg = NULL;
	size_t n = json_is_array(v) ? json_array_size(v) : 1;
	if (!json_is_array(v) && !json_is_string(v))
		return "must be a list of the listed options";
	bool *chosen = xcalloc(q->n_options ? q->n_options : 1, sizeof *chosen);
	for (size_t i = 0; i < n && msg == NULL; i++) {
		const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
		int k = json_is_string(e) && !has_nul(e) ? option_index(q, json_string_value(e)) : -1;
		if (!json_is_string(e))
			msg = "must be a list of the listed options";
		else if (k < 0)
			msg = "must contain only the listed options";
		else if (chosen[k])
			msg = "must not repeat an option";
		else
			chosen[k] = true;
	}
	if (msg == NULL) {
		*out = json_array();
		for (size_t i = 0; i < q->n_options; i++)
			if (chosen[i])
				json_array_append_new(*out, json_string(q->options[i]));
	}
	free(chosen);
	return msg;
}

/* ---- text --------------------------------------------------------------------------------------- */

/* text / long_text: valid UTF-8 without NUL, at most max_length code points; stored as given. */
static const char *check_text(const question *q, const json_t *v, json_t **out, char *detail,
                              size_t size)
{
	if (!json_is_string(v))
		return "must be text";
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (memchr(s, '\0', len) != NULL)
		return "must not contain NUL characters";
	size_t chars = utf8_count(s, len);
	if (chars == (size_t)-1)
		return "must be valid UTF-8 text";
	size_t max = q->max_length > 0 ? q->max_length : TEXT_DEFAULT_MAX;
	if (chars > max)
		return detailed(detail, size, "is too long", "must be at most %zu characters", max);
	*out = json_stringn(s, len);
	return NULL;
}

/* ---- email -------------------------------------------------------------------------------------- */

/* RFC 5322 atext: letters, digits and !#$%&'*+-/=?^_`{|}~ */
static bool is_atext(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Local part: dot-separated runs of atext, no leading, trailing or doubled dot. Quoted local parts
 * ("john doe"@example.com) are refused: RFC 5321 allows them, but practically no real mailbox needs
 * one and they complicate every later comparison. */
static bool local_part_ok(const char *s, size_t len)
{
	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!is_atext(c)) {
			return false;
		}
	}
	return true;
}

/* Domain: at least two labels of [A-Za-z0-9-] (1..63 bytes, no leading or trailing '-'), the last
 * (top-level) not all digits. IDN domains must be sent in their ASCII (xn--) form; raw UTF-8 domains
 * are refused. Address literals ([192.0.2.1]) are refused as well. */
static bool domain_ok(const char *s, size_t len)
{
	size_t start = 0, labels = 0;
	bool all_digits = true;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			size_t n = i - start;
			if (n == 0 || n > DOMAIN_LABEL_MAX || s[start] == '-' || s[i - 1] == '-')
				return false;
			labels++;
			if (i == len && all_digits)
				return false;
			start = i + 1;
			all_digits = true;
			continue;
		}
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-')
			return false;
		if (!isdigit(c))
			all_digits = false;
	}
	return labels >= 2;
}

/* Checks and normalises an email address; *out is malloc'd (caller frees) on success. */
int validate_email(const char *in, char **out, const char **why)
{
	static const char msg[] = "must look like name@example.com";
	size_t len = strlen(in);
	const char *at = strrchr(in, '@');
	*out = NULL;
	if (len > EMAIL_MAX) {
		*why = "must be at most 254 characters";
		return -1;
	}
	if (at == NULL) {
		*why = msg;
		return -1;
	}
	size_t local_len = (size_t)(at - in);
	if (local_len > EMAIL_LOCAL_MAX) {
		*why = "must have at most 64 characters before the @";
		return -1;
	}
	if (!local_part_ok(in, local_len) || !domain_ok(at + 1, len - local_len - 1)) {
		*why = msg;
		return -1;
	}
	char *copy = xstrdup(in);
	for (char *p = copy + local_len + 1; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	*out = copy;
	return 0;
}

/* email: a string, surrounding white space dropped, checked and normalised by validate_email. */
static const char *check_email(const json_t *v, json_t **out)
{
	if (!json_is_string(v) || has_nul(v))
		return "must look like name@example.com";
	char *trimmed = trim_dup(json_string_value(v)), *norm = NULL;
	const char *why = NULL;
	if (validate_email(trimmed, &norm, &why) == 0)
		*out = json_string(norm);
	free(trimmed);
	free(norm);
	return why;
}

/* ---- phone -------------------------------------------------------------------------------------- */

/* True when cc is 1..3 digits not starting with 0 (an ITU country calling code). */
static bool country_code_ok(const char *cc)
{
	size_t n = cc ? strlen(cc) : 0;
	if (n < 1 || n > 3 || cc[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)cc[i]))
			return false;
	return true;
}

/* Normalises a phone number to E.164; *out is malloc'd (caller frees) on success. Up to 63 digits are
 * read before the count is judged, so a pasted run of digits gets the "8 to 15 digits" sentence. */
int validate_phone(const char *in, const char *default_country, char **out, const char **why)
{
	/* A visitor may type 40 characters of separators; 64 digits is far past any real number. */
	char digits[64];
	size_t n = 0;
	bool plus = false, seen = false;
	*out = NULL;
	for (const char *p = in; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (isdigit(c)) {
			if (n == sizeof digits - 1) {
				*why = "must have 8 to 15 digits including the country code";
				return -1;
			}
			digits[n++] = (char)c;
			seen = true;
		} else if (c == '+' && !seen && !plus) {
			plus = true;
			seen = true;
		} else if (!(c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '\t')) {
			*why = "must contain only digits, spaces, dashes, dots and parentheses";
			return -1;
		}
	}
	digits[n] = '\0';
	if (default_country != NULL && default_country[0] == '+')
		default_country++;                           /* "+386" is taken as "386" */
	const char *national = NULL, *intl = digits;
	if (!plus) {
		if (n >= 2 && digits[0] == '0' && digits[1] == '0') {
			intl = digits + 2;                       /* 00 386 ... : international prefix */
		} else if (country_code_ok(default_country)) {
			national = digits[0] == '0' ? digits + 1 : digits;   /* drop the trunk 0 */
		} else {
			*why = "must start with + and the country code";
			return -1;
		}
	}
	char e164[96];
	snprintf(e164, sizeof e164, "+%s%s", national ? default_country : "", national ? national : intl);
	size_t total = strlen(e164) - 1;
	if (total < PHONE_MIN_DIGITS || total > PHONE_MAX_DIGITS) {
		*why = "must have 8 to 15 digits including the country code";
		return -1;
	}
	if (e164[1] == '0') {
		*why = "must start with + and the country code";
		return -1;
	}
	*out = xstrdup(e164);
	return 0;
}

/* phone: a string normalised to E.164 with the question's default country. */
static const char *check_phone(const question *q, const json_t *v, json_t **out)
{
	if (!json_is_string(v) || has_nul(v))
		return "must be a phone number such as +386 40 123 456";
	char *norm = NULL;
	const char *why = NULL;
	if (validate_phone(json_string_value(v), q->default_country, &norm, &why) == 0)
		*out = json_string(norm);
	free(norm);
	return why;
}

/* ---- date --------------------------------------------------------------------------------------- */

/* Days in month m (1..12) of year y, Gregorian leap rules. */
static int month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* Checks a YYYY-MM-DD date with a year from 1900 to 2100. Returns 0, or -1 with *why (static). */
int validate_date(const char *in, const char **why)
{
	static const char shape[] = "must be a date written as YYYY-MM-DD";
	if (strlen(in) != 10 || in[4] != '-' || in[7] != '-') {
		*why = shape;
		return -1;
	}
	for (int i = 0; i < 10; i++) {
		if (i != 4 && i != 7 && !isdigit((unsigned char)in[i])) {
			*why = shape;
			return -1;
		}
	}
	int y = atoi(in), m = (in[5] - '0') * 10 + (in[6] - '0'), d = (in[8] - '0') * 10 + (in[9] - '0');
	if (y < 1900 || y > 2100) {
		*why = "must be a date with a year from 1900 to 2100";
		return -1;
	}
	if (m < 1 || m > 12 || d < 1 || d > month_days(y, m)) {
		*why = "must be a real calendar date";
		return -1;
	}
	return 0;
}

/* date: a string, surrounding white space dropped, YYYY-MM-DD. */
static const char *check_date(const json_t *v, json_t **out)
{
	if (!json_is_string(v) || has_nul(v))
		return "must be a date written as YYYY-MM-DD";
	char *trimmed = trim_dup(json_string_value(v));
	const char *why = NULL;
	if (validate_date(trimmed, &why) == 0)
		*out = json_string(trimmed);
	free(trimmed);
	return why;
}

/* ---- one value ---------------------------------------------------------------------------------- */

/* Checks a non-empty value against q's type. Returns NULL and sets *out (new reference), or a static
 * sentence; when detail is not NULL it may receive a more precise sentence (with the bounds). */
static const char *check_typed(const question *q, const json_t *v, json_t **out, char *detail,
                               size_t size)
{
	switch (q->type) {
	case Q_TEXT:
	case Q_LONG_TEXT:
		return check_text(q, v, out, detail, size);
	case Q_SINGLE_CHOICE:
		return check_single(q, v, out);
	case Q_MULTI_CHOICE:
		return check_multi(q, v, out);
	case Q_NPS:
		return check_nps(v, out);
	case Q_RATING:
		return check_rating(q, v, out, detail, size);
	case Q_NUMBER:
		return check_number(q, v, out, detail, size);
	case Q_EMAIL:
		return check_email(v, out);
	case Q_PHONE:
		return check_phone(q, v, out);
	case Q_DATE:
		return check_date(v, out);
	case Q_CONSENT:
		if (!json_is_boolean(v))
			return "must be true or false";
		*out = json_true();
		return NULL;
	}
	return "is of an unknown type";
}

/* Checks one value including emptiness: an empty value is "is required" (or "must be accepted") for
 * a required question, and valid with *normalised = NULL (nothing to store) for an optional one. */
static const char *check_value(const question *q, json_t *value, json_t **normalised, char *detail,
                               size_t size)
{
	*normalised = NULL;
	if (is_empty(q, value))
		return q->required ? required_problem(q, value) : NULL;
	return check_typed(q, value, normalised, detail, size);
}

/* Returns NULL when valid and sets *normalised (new reference, or NULL when the answer is empty and
 * the question optional: there is nothing to store); otherwise a static sentence. */
const char *validate_value(const question *q, json_t *value, json_t **normalised)
{
	return check_value(q, value, normalised, NULL, 0);
}

/* ---- branching ---------------------------------------------------------------------------------- */

/* Equality for branch conditions: numbers compare by value (7 == 7.0), everything else by JSON. */
static bool branch_equal(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal((json_t *)a, (json_t *)b) != 0;
}

/* True when answer (normalised, non-NULL) equals x; a multi_choice array matches when any chosen
 * option equals x. */
static bool answer_equals(const json_t *answer, const json_t *x)
{
	if (json_is_array(answer)) {
		size_t i;
		const json_t *e;
		json_array_foreach(answer, i, e)
			if (branch_equal(e, x))
				return true;
		return false;
	}
	return branch_equal(answer, x);
}

/* True when rule holds for answer (normalised, NULL when unanswered). */
static bool rule_matches(const branch_rule *rule, const json_t *answer)
{
	size_t i;
	const json_t *e;
	switch (rule->op) {
	case COND_ALWAYS:
		return true;
	case COND_ANSWERED:
		return answer != NULL;
	case COND_EQUALS:
		return answer != NULL && rule->value != NULL && answer_equals(answer, rule->value);
	case COND_IN:
		if (answer == NULL || !json_is_array(rule->value))
			return false;
		json_array_foreach(rule->value, i, e)
			if (answer_equals(answer, e))
				return true;
		return false;
	case COND_LTE:
		return answer != NULL && json_is_number(answer) && json_is_number(rule->value) &&
		       json_number_value(answer) <= json_number_value(rule->value);
	case COND_GTE:
		return answer != NULL && json_is_number(answer) && json_is_number(rule->value) &&
		       json_number_value(answer) >= json_number_value(rule->value);
	}
	return false;
}

/* Index of question id in f, or -1. */
static int question_index(const form *f, const char *id)
{
	for (size_t i = 0; i < f->n_questions; i++)
		if (strcmp(f->questions[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* Where the visitor goes after question i: the index of the next question, f->n_questions for the
 * end, or -1 when it cannot be known (the answer is invalid and a conditional rule would decide). */
static int next_question(const form *f, size_t i, const json_t *answer, bool invalid)
{
	const question *q = &f->questions[i];
	for (size_t r = 0; r < q->n_next; r++) {
		const branch_rule *rule = &q->next[r];
		if (invalid && rule->op != COND_ALWAYS)
			return -1;
		if (!rule_matches(rule, answer))
			continue;
		if (rule->goto_id == NULL || strcmp(rule->goto_id, "end") == 0)
			return (int)f->n_questions;
		int k = question_index(f, rule->goto_id);
		return k >= 0 ? k : (int)f->n_questions;
	}
	return (int)i + 1;
}

/* Marks in on_path the questions a visitor giving these answers is shown, following `next:` rules
 * from the first question. A loop or an undecidable branch ends the walk. */
static void walk_path(const form *f, json_t *normalised, const bool *invalid, bool *on_path)
{
	int i = 0;
	while (i >= 0 && (size_t)i < f->n_questions && !on_path[i]) {
		on_path[i] = true;
		const question *q = &f->questions[i];
		i = next_question(f, (size_t)i, json_object_get(normalised, q->id), invalid[i]);
	}
}

/* ---- whole submissions -------------------------------------------------------------------------- */

/* Sets problems[key] = msg unless a problem is already recorded for key. */
static void add_problem(json_t *problems, const char *key, const char *msg)
{
	if (json_object_get(problems, key) == NULL)
		json_object_set_new(problems, key, json_string(msg));
}

/* Checks every answered question of f and records unknown ids; fills invalid[i] for bad answers. */
static void check_given_answers(const form *f, json_t *answers, json_t *out, json_t *problems,
                                bool *invalid)
{
	const char *key;
	json_t *value;
	json_object_foreach(answers, key, value) {
		int i = question_index(f, key);
		if (i < 0) {
			add_problem(problems, key, MSG_UNKNOWN);
			continue;
		}
		const question *q = &f->questions[i];
		if (is_empty(q, value))
			continue;            /* requiredness is decided along the path below */
		char detail[160] = "";
		json_t *norm = NULL;
		const char *msg = check_typed(q, value, &norm, detail, sizeof detail);
		if (msg != NULL) {
			add_problem(problems, key, detail[0] ? detail : msg);
			invalid[i] = true;
		} else {
			json_object_set_new(out, q->id, norm);
		}
	}
}

/* Checks a whole submission; *normalised (caller owns) holds the valid non-empty answers even when
 * problems were found. Answers given to questions off the visitor's path (for instance before the
 * visitor changed an earlier answer) are still checked and kept; only requiredness follows the path. */
int validate_answers(const form *f, json_t *answers, json_t **normalised, json_t *problems)
{
	json_t *out = json_object();
	*normalised = out;
	if (!json_is_object(answers)) {
		add_problem(problems, "answers", MSG_OBJECT);
		return -1;
	}
	size_t n = f->n_questions;
	bool *invalid = xcalloc(n ? n : 1, sizeof *invalid);
	bool *on_path = xcalloc(n ? n : 1, sizeof *on_path);
	check_given_answers(f, answers, out, problems, invalid);
	walk_path(f, out, invalid, on_path);
	for (size_t i = 0; i < n; i++) {
		const question *q = &f->questions[i];
		if (on_path[i] && q->required && !invalid[i] && json_object_get(out, q->id) == NULL)
			add_problem(problems, q->id, required_problem(q, json_object_get(answers, q->id)));
	}
	free(invalid);
	free(on_path);
	return json_object_size(problems) > 0 ? -1 : 0;
}

/* ---- urlencoded submits ------------------------------------------------------------------------- */

/* Parses s (surrounding white space allowed) as a whole integer or a finite number. Returns a new
 * JSON number, or NULL when s is not numeric. */
static json_t *parse_number_text(const char *s)
{
	char *end;
	while (is_space((unsigned char)*s))
		s++;
	if (*s == '\0')
		return NULL;
	errno = 0;
	long long ll = strtoll(s, &end, 10);
	const char *rest = end;
	while (is_space((unsigned char)*rest))
		rest++;
	if (errno == 0 && end != s && *rest == '\0')
		return json_integer(ll);
	/* strtod accepts hex, "inf" and "nan": take only plain decimal notation. */
	for (const char *p = s; *p && !is_space((unsigned char)*p); p++)
		if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p))
			return NULL;
	double d = strtod(s, &end);
	rest = end;
	while (is_space((unsigned char)*rest))
		rest++;
	if (end == s || *rest != '\0' || !isfinite(d))
		return NULL;
	return json_real(d);
}

/* The scalar text of a field: the string itself, or the first non-empty string of an array; NULL
 * when there is none. Other JSON values are returned as they are (validation reports them). */
static json_t *field_scalar(json_t *v)
{
	if (!json_is_array(v))
		return v;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e)
		if (json_is_string(e) && json_string_length(e) > 0)
			return e;
	return NULL;
}

/* Typed answer for one question from its field value (borrowed); a new reference or NULL to omit. */
static json_t *field_to_answer(const question *q, json_t *v)
{
	if (q->type == Q_CONSENT)
		return v != NULL ? json_true() : json_false();
	if (v == NULL)
		return NULL;
	if (q->type == Q_MULTI_CHOICE && (json_is_string(v) || json_is_array(v))) {
		json_t *arr = json_array();
		if (json_is_string(v) && json_string_length(v) > 0)
			json_array_append(arr, v);
		size_t i;
		json_t *e;
		if (json_is_array(v))
			json_array_foreach(v, i, e)
				if (!json_is_string(e) || json_string_length(e) > 0)
					json_array_append(arr, e);
		if (json_array_size(arr) == 0) {
			json_decref(arr);
			return NULL;
		}
		return arr;
	}
	json_t *s = field_scalar(v);
	if (s == NULL || (json_is_string(s) && json_string_length(s) == 0))
		return NULL;
	if (json_is_string(s) && (q->type == Q_NPS || q->type == Q_RATING || q->type == Q_NUMBER)) {
		json_t *num = parse_number_text(json_string_value(s));
		if (num != NULL)
			return num;
	}
	return json_incref(s);
}

/* Types the fields of a hosted-form submit; returns a new object (caller owns).
 * Only fields named after a question are taken (the page's own hidden fields are the route's
 * business). An absent consent becomes false, so that an unticked required box "must be accepted";
 * for a repeated single-value field the first non-empty value wins. */
json_t *validate_answers_from_strings(const form *f, json_t *fields)
{
	json_t *out = json_object();
	for (size_t i = 0; i < f->n_questions; i++) {
		const question *q = &f->questions[i];
		json_t *v = json_is_object(fields) ? json_object_get(fields, q->id) : NULL;
		json_t *answer = field_to_answer(q, v);
		if (answer != NULL)
			json_object_set_new(out, q->id, answer);
	}
	return out;
}
