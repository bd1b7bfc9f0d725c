/* render: HTML of the hosted form pages, context-correct escaping, and the posted fields. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "i18n.h"
#include "render.h"
#include "spam.h"
#include "util.h"

#define TEXT_DEFAULT_MAX 2000
#define EMAIL_MAX 254
#define RATING_DEFAULT_SCALE 5

/* ---- a growing buffer --------------------------------------------------------------------------- */

typedef struct hbuf {
	char *s;
	size_t len, cap;
	const char *lang;        /* language of the server's sentences (i18n.h); NULL is English */
} hbuf;

/* Appends n bytes of s. */
static void put_n(hbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->s = xrealloc(b->s, cap);
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Appends s as it is: for markup the code writes itself, never for data. */
static void put(hbuf *b, const char *s)
{
	put_n(b, s, strlen(s));
}

/* Appends formatted markup (the arguments must be safe already: numbers, escaped text). */
static void putf(hbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(hbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	put_n(b, s, strlen(s));
	free(s);
}

/* Appends s[0..len) escaped for element text or a double-quoted attribute. NUL becomes U+FFFD. */
static void put_escaped(hbuf *b, const char *s, size_t len, bool attr)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = attr ? "&quot;" : NULL; break;
		case '\'': rep = attr ? "&#39;" : NULL; break;
		case '\0': rep = "\xef\xbf\xbd"; break;
		default: break;
		}
		if (!rep)
			continue;
		put_n(b, s + start, i - start);
		put(b, rep);
		start = i + 1;
	}
	put_n(b, s + start, len - start);
}

/* Appends text content. s may be NULL (nothing). */
static void put_text(hbuf *b, const char *s)
{
	if (s)
		put_escaped(b, s, strlen(s), false);
}

/* Appends an attribute value (without the quotes). s may be NULL (nothing). */
static void put_attr(hbuf *b, const char *s)
{
	if (s)
		put_escaped(b, s, strlen(s), true);
}

/* Appends a JSON string's value (it may hold NUL) as text or attribute. */
static void put_json_string(hbuf *b, const json_t *v, bool attr)
{
	if (json_is_string(v))
		put_escaped(b, json_string_value(v), json_string_length(v), attr);
}

/* Appends the English sentence english in b's language, escaped for element text. */
static void put_tr(hbuf *b, const char *english)
{
	char *t = i18n_sentence(b->lang, english);
	put_text(b, t);
	free(t);
}

/* Escapes s[0..len) for text or attribute context; malloc'd (caller frees). */
char *render_escape_len(const char *s, size_t len, bool attr)
{
	hbuf b = { 0 };
	put_n(&b, "", 0);
	put_escaped(&b, s, len, attr);
	return b.s;
}

/* render_escape_len of a NUL-terminated string. */
char *render_escape(const char *s, bool attr)
{
	return render_escape_len(s, strlen(s), attr);
}

/* "This field " + message, malloc'd (caller frees). */
char *render_field_message(const char *message)
{
	return xasprintf("This field %s", message);
}

/* ---- facts about questions ---------------------------------------------------------------------- */

/* True for a signup form whose only question is an email or phone field. */
bool render_one_click(const form *f)
{
	return f->kind == FORM_SIGNUP && f->n_questions == 1 &&
	       (f->questions[0].type == Q_EMAIL || f->questions[0].type == Q_PHONE);
}

/* True when haystack contains needle, ignoring ASCII case. */
static bool contains_nocase(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = haystack; p && *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

/* True for a date question that asks for a birthday. */
static bool is_birthday(const question *q)
{
	static const char *const ids[] = { "bday", "dob", "born" };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		if (strcmp(q->id, ids[i]) == 0)
			return true;
	return contains_nocase(q->id, "birth") || contains_nocase(q->label, "birth");
}

/* The autocomplete token of q's control (static), or NULL for none. */
const char *render_autocomplete(const question *q)
{
	static const struct { const char *id, *token; } names[] = {
		{ "name", "name" }, { "full_name", "name" }, { "first_name", "given-name" },
		{ "given_name", "given-name" }, { "last_name", "family-name" }, { "family_name", "family-name" },
		{ "company", "organization" }, { "organization", "organization" },
		{ "postal_code", "postal-code" }, { "zip", "postal-code" }, { "country", "country-name" },
	};
	switch (q->type) {
	case Q_EMAIL:
		return "email";
	case Q_PHONE:
		return "tel";
	case Q_DATE:
		return is_birthday(q) ? "bday" : NULL;
	case Q_TEXT:
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strcmp(q->id, names[i].id) == 0)
				return names[i].token;
		return NULL;
	default:
		return NULL;
	}
}

/* Shortest "%g" text of d that reads back as d (as validate.c writes bounds in its messages). */
static void format_number(double d, char buf[32])
{
	snprintf(buf, 32, "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, 32, "%.17g", d);
}

/* The constraints of q as one English sentence (malloc'd, caller frees), or NULL for types whose
 * control says it all. */
static char *rules_sentence(const question *q)
{
	char lo[32], hi[32];
	switch (q->type) {
	case Q_TEXT:
	case Q_LONG_TEXT:
		return xasprintf("At most %zu characters.", q->max_length ? q->max_length : (size_t)TEXT_DEFAULT_MAX);
	case Q_EMAIL:
		return xasprintf("An email address%s, at most %d characters.", q->hint ? "" : " such as name@example.com",
		                 EMAIL_MAX);
	case Q_PHONE:
		if (q->default_country)
			return xasprintf("A phone number; without a country code it is taken as +%s. 8 to 15 digits with "
			                 "the country code.",
			                 q->default_country[0] == '+' ? q->default_country + 1 : q->default_country);
		return xasprintf("A phone number starting with + and the country code%s: 8 to 15 digits.",
		                 q->hint ? "" : ", such as +386 40 123 456");
	case Q_DATE:
		return xstrdup("A date written as YYYY-MM-DD, with a year from 1900 to 2100.");
	case Q_NUMBER:
		format_number(q->min, lo);
		format_number(q->max, hi);
		if (q->has_min && q->has_max)
			return xasprintf("A number from %s to %s.", lo, hi);
		if (q->has_min)
			return xasprintf("A number of at least %s.", lo);
		if (q->has_max)
			return xasprintf("A number of at most %s.", hi);
		return xstrdup("A number.");
	case Q_NPS:
		return xstrdup("Choose from 0 (not at all likely) to 10 (extremely likely).");
	case Q_RATING:
		return xasprintf("Choose from 1 to %d.", q->scale > 0 ? q->scale : RATING_DEFAULT_SCALE);
	case Q_SINGLE_CHOICE:
		return xstrdup("Choose one.");
	case Q_MULTI_CHOICE:
		return xstrdup("Choose any that apply.");
	case Q_CONSENT:
		return q->required ? xstrdup("Tick the box to agree.") : NULL;
	}
	return NULL;
}

/* The constraints of q as one sentence (or several) in b's language, into b as escaped text;
 * nothing for types whose control says it all. */
static void put_rules(hbuf *b, const question *q)
{
	char *sentence = rules_sentence(q);
	if (sentence)
		put_tr(b, sentence);
	free(sentence);
	if (q->hint) {
		put(b, " ");
		put_tr(b, "Example:");
		put(b, " ");
		put_text(b, q->hint);
	}
}

/* ---- the visitor's values ----------------------------------------------------------------------- */

/* The first string the visitor sent for name, or NULL. */
static const json_t *value_first(const json_t *values, const char *name)
{
	const json_t *v = values ? json_object_get(values, name) : NULL;
	if (json_is_array(v))
		v = json_array_get(v, 0);
	return json_is_string(v) ? v : NULL;
}

/* True when the visitor sent option for name (as one of its values). */
static bool value_has(const json_t *values, const char *name, const char *option)
{
	const json_t *v = values ? json_object_get(values, name) : NULL;
	if (json_is_string(v))
		return strcmp(json_string_value(v), option) == 0;
	size_t i;
	const json_t *e;
	json_array_foreach(v, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), option) == 0)
			return true;
	return false;
}

/* ---- one question ------------------------------------------------------------------------------- */

/* What one field's markup needs to know. */
typedef struct field_ctx {
	const question *q;
	const json_t *values;
	const char *problem;     /* the sentence, or NULL */
	char *describedby;       /* owned: ids of the why, rules and error paragraphs */
} field_ctx;

/* Builds the aria-describedby list of fc (why, rules, error: those that exist). */
static void describedby_build(field_ctx *fc, bool has_rules)
{
	hbuf b = { 0 };
	put_n(&b, "", 0);
	const char *id = fc->q->id;
	if (fc->q->why)
		putf(&b, "q-%s-why", id);
	if (has_rules)
		putf(&b, "%sq-%s-rules", b.len ? " " : "", id);
	if (fc->problem)
		putf(&b, "%sq-%s-error", b.len ? " " : "", id);
	fc->describedby = b.s;
}

/* The attributes every control of the field carries: describedby, required, invalid. */
static void put_control_attrs(hbuf *b, const field_ctx *fc)
{
	if (fc->describedby[0])
		putf(b, " aria-describedby=\"%s\"", fc->describedby);
	if (fc->q->required && fc->q->type != Q_MULTI_CHOICE)
		put(b, " required");
	if (fc->problem)
		put(b, " aria-invalid=\"true\"");
}

/* The data-* attributes the page's script validates with (the server's own rules). */
static void put_data_attrs(hbuf *b, const question *q)
{
	putf(b, " data-q=\"%s\" data-type=\"%s\" data-required=\"%s\"", q->id, question_type_name(q->type),
	     q->required ? "true" : "false");
	if (q->type == Q_TEXT || q->type == Q_LONG_TEXT)
		putf(b, " data-max-length=\"%zu\"", q->max_length ? q->max_length : (size_t)TEXT_DEFAULT_MAX);
	if (q->type == Q_RATING)
		putf(b, " data-scale=\"%d\"", q->scale > 0 ? q->scale : RATING_DEFAULT_SCALE);
	char num[32];
	if (q->type == Q_NUMBER && q->has_min) {
		format_number(q->min, num);
		putf(b, " data-min=\"%s\"", num);
	}
	if (q->type == Q_NUMBER && q->has_max) {
		format_number(q->max, num);
		putf(b, " data-max=\"%s\"", num);
	}
	if (q->type == Q_PHONE && q->default_country) {
		put(b, " data-country=\"");
		put_attr(b, q->default_country);
		put(b, "\"");
	}
	json_t *pub = NULL;
	if (q->n_next > 0) {
		/* The branching rules, so that the script asks for required answers on the visitor's path
		 * only, as the server does. */
		pub = json_array();
		for (size_t i = 0; i < q->n_next; i++) {
			const branch_rule *r = &q->next[i];
			static const char *const ops[] = { "always", "equals", "in", "lte", "gte", "answered" };
			json_t *rule = json_pack("{s:s, s:s}", "op", ops[r->op], "goto", r->goto_id ? r->goto_id : "end");
			if (r->value)
				json_object_set(rule, "value", r->value);
			json_array_append_new(pub, rule);
		}
		char *text = json_dumps(pub, JSON_COMPACT);
		put(b, " data-next=\"");
		put_attr(b, text);
		put(b, "\"");
		free(text);
		json_decref(pub);
	}
}

/* The required/optional marker inside a label or legend. */
static void put_marker(hbuf *b, const question *q)
{
	if (q->required) {
		put(b, " <span class=\"es-req\">");
		put_tr(b, "required");
		put(b, "</span>");
	} else if (!contains_nocase(q->label, "optional")) {
		put(b, " <span class=\"es-opt\">");
		put_tr(b, "optional");
		put(b, "</span>");
	}
}

/* The paragraphs after a control: rules (when any), and the error (when any). */
static void put_after(hbuf *b, const field_ctx *fc, const char *rules)
{
	const char *id = fc->q->id;
	if (rules[0])
		putf(b, "<p class=\"es-rules\" id=\"q-%s-rules\">%s</p>\n", id, rules);
	if (fc->problem) {
		char *msg = render_field_message(fc->problem);
		putf(b, "<p class=\"es-error\" id=\"q-%s-error\">", id);
		put_tr(b, msg);
		put(b, "</p>\n");
		free(msg);
	}
}

/* The why paragraph, when the question says why it asks. */
static void put_why(hbuf *b, const question *q)
{
	if (!q->why)
		return;
	putf(b, "<p class=\"es-why\" id=\"q-%s-why\">", q->id);
	put_text(b, q->why);
	put(b, "</p>\n");
}

/* Opens a field's element, <TAG class="CLASSES" with the question's data attributes; the caller
 * closes the start tag. */
static void put_field_open(hbuf *b, const char *tag, const char *classes, const question *q)
{
	putf(b, "<%s class=\"%s\"", tag, classes);
	put_data_attrs(b, q);
}

/* A question's label text followed by its required/optional marker. */
static void put_label(hbuf *b, const question *q)
{
	put_text(b, q->label);
	put_marker(b, q);
}

/* What follows a field's control (put_after) and the field's end tag </TAG>. */
static void put_field_close(hbuf *b, const field_ctx *fc, const char *rules, const char *tag)
{
	put_after(b, fc, rules);
	putf(b, "</%s>\n", tag);
}

/* An <input> or <textarea> for text, long_text, email, phone, date and number questions. */
static void put_text_control(hbuf *b, const field_ctx *fc)
{
	const question *q = fc->q;
	const json_t *value = value_first(fc->values, q->id);
	const char *ac = render_autocomplete(q);
	if (q->type == Q_LONG_TEXT) {
		putf(b, "<textarea id=\"q-%s\" name=\"%s\" rows=\"5\" maxlength=\"%zu\"", q->id, q->id,
		     q->max_length ? q->max_length : (size_t)TEXT_DEFAULT_MAX);
	} else {
		static const char *const types[] = {
			[Q_TEXT] = "text", [Q_EMAIL] = "email", [Q_PHONE] = "tel", [Q_DATE] = "date", [Q_NUMBER] = "number",
		};
		putf(b, "<input id=\"q-%s\" name=\"%s\" type=\"%s\"", q->id, q->id, types[q->type]);
		if (q->type == Q_TEXT)
			putf(b, " maxlength=\"%zu\"", q->max_length ? q->max_length : (size_t)TEXT_DEFAULT_MAX);
		if (q->type == Q_EMAIL)
			putf(b, " maxlength=\"%d\" inputmode=\"email\" autocapitalize=\"off\" spellcheck=\"false\"", EMAIL_MAX);
		if (q->type == Q_PHONE)
			put(b, " inputmode=\"tel\"");
		if (q->type == Q_DATE)
			put(b, " min=\"1900-01-01\" max=\"2100-12-31\"");
		if (q->type == Q_NUMBER) {
			char num[32];
			put(b, " step=\"any\" inputmode=\"decimal\"");
			if (q->has_min) {
				format_number(q->min, num);
				putf(b, " min=\"%s\"", num);
			}
			if (q->has_max) {
				format_number(q->max, num);
				putf(b, " max=\"%s\"", num);
			}
		}
		if (value) {
			put(b, " value=\"");
			put_json_string(b, value, true);
			put(b, "\"");
		}
	}
	if (ac)
		putf(b, " autocomplete=\"%s\"", ac);
	if (q->hint) {
		put(b, " placeholder=\"");
		put_attr(b, q->hint);
		put(b, "\"");
	}
	put_control_attrs(b, fc);
	put(b, ">");
	if (q->type == Q_LONG_TEXT) {
		put_json_string(b, value, false);
		put(b, "</textarea>");
	}
}

/* A labelled field holding one text-like control. */
static void put_text_field(hbuf *b, const field_ctx *fc, const char *rules)
{
	const question *q = fc->q;
	put_field_open(b, "div", "es-field", q);
	putf(b, ">\n<label for=\"q-%s\">", q->id);
	put_label(b, q);
	put(b, "</label>\n");
	put_why(b, q);
	put(b, "<div class=\"es-control\">");
	put_text_control(b, fc);
	put(b, "<span class=\"es-check\" aria-hidden=\"true\"></span></div>\n");
	put_field_close(b, fc, rules, "div");
}

/* A consent question: one checkbox with its label beside it. */
static void put_consent_field(hbuf *b, const field_ctx *fc, const char *rules)
{
	const question *q = fc->q;
	put_field_open(b, "div", "es-field es-consent", q);
	putf(b, ">\n<div class=\"es-control\"><input id=\"q-%s\" name=\"%s\" type=\"checkbox\" value=\"yes\"", q->id,
	     q->id);
	if (fc->values && json_object_get(fc->values, q->id))
		put(b, " checked");
	put_control_attrs(b, fc);
	putf(b, "><label for=\"q-%s\">", q->id);
	put_label(b, q);
	put(b, "</label><span class=\"es-check\" aria-hidden=\"true\"></span></div>\n");
	put_why(b, q);
	put_field_close(b, fc, rules, "div");
}

/* One radio or checkbox of a group, with its own label. */
static void put_option(hbuf *b, const field_ctx *fc, size_t i, const char *value, const char *text,
                       bool multi)
{
	const question *q = fc->q;
	putf(b, "<label class=\"es-option\" for=\"q-%s-%zu\">", q->id, i);
	putf(b, "<input id=\"q-%s-%zu\" name=\"%s\" type=\"%s\" value=\"", q->id, i, q->id,
	     multi ? "checkbox" : "radio");
	put_attr(b, value);
	put(b, "\"");
	if (value_has(fc->values, q->id, value))
		put(b, " checked");
	put_control_attrs(b, fc);
	put(b, "><span>");
	put_text(b, text);
	put(b, "</span></label>\n");
}

/* A group of radios (single_choice, nps, rating) or checkboxes (multi_choice) in a fieldset. */
static void put_choice_field(hbuf *b, const field_ctx *fc, const char *rules)
{
	const question *q = fc->q;
	bool scale = q->type == Q_NPS || q->type == Q_RATING;
	put_field_open(b, "fieldset", "es-field es-choice", q);
	put(b, ">\n<legend>");
	put_label(b, q);
	put(b, "</legend>\n");
	put_why(b, q);
	putf(b, "<div class=\"es-options%s\">\n", scale ? " es-scale" : "");
	if (scale) {
		int lo = q->type == Q_NPS ? 0 : 1;
		int hi = q->type == Q_NPS ? 10 : (q->scale > 0 ? q->scale : RATING_DEFAULT_SCALE);
		for (int v = lo; v <= hi; v++) {
			char num[16];
			snprintf(num, sizeof num, "%d", v);
			put_option(b, fc, (size_t)(v - lo), num, num, false);
		}
	} else {
		for (size_t i = 0; i < q->n_options; i++)
			put_option(b, fc, i, q->options[i], q->option_labels ? q->option_labels[i] : q->options[i],
			           q->type == Q_MULTI_CHOICE);
	}
	put(b, "<span class=\"es-check\" aria-hidden=\"true\"></span></div>\n");
	put_field_close(b, fc, rules, "fieldset");
}

/* One question's field, with the visitor's value and problem when there are. */
static void put_field(hbuf *b, const question *q, const json_t *values, const json_t *problems)
{
	field_ctx fc = { .q = q, .values = values };
	fc.problem = problems ? json_string_value(json_object_get(problems, q->id)) : NULL;
	hbuf rules = { .lang = b->lang };
	put_n(&rules, "", 0);
	put_rules(&rules, q);
	describedby_build(&fc, rules.len > 0);
	switch (q->type) {
	case Q_SINGLE_CHOICE:
	case Q_MULTI_CHOICE:
	case Q_NPS:
	case Q_RATING:
		put_choice_field(b, &fc, rules.s);
		break;
	case Q_CONSENT:
		put_consent_field(b, &fc, rules.s);
		break;
	default:
		put_text_field(b, &fc, rules.s);
		break;
	}
	free(rules.s);
	free(fc.describedby);
}

/* ---- whole pages -------------------------------------------------------------------------------- */

/* The document head and the opening of <main>. js_src may be NULL (no script). */
static void put_head(hbuf *b, const char *lang, const char *title, const char *css_href, const char *js_src)
{
	put(b, "<!DOCTYPE html>\n<html lang=\"");
	put_attr(b, lang && *lang ? lang : "en");
	put(b, "\">\n<head>\n<meta charset=\"utf-8\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	put_text(b, title);
	put(b, "</title>\n");
	if (css_href) {
		put(b, "<link rel=\"stylesheet\" href=\"");
		put_attr(b, css_href);
		put(b, "\">\n");
	}
	if (js_src) {
		put(b, "<script src=\"");
		put_attr(b, js_src);
		put(b, "\" defer></script>\n");
	}
	put(b, "</head>\n<body>\n<main class=\"es-page\">\n");
}

/* Closes <main>, <body> and the document. */
static void put_tail(hbuf *b)
{
	put(b, "</main>\n</body>\n</html>\n");
}

/* The id of the control a summary entry for question q links to. */
static void put_control_id(hbuf *b, const question *q)
{
	bool group = q->type == Q_SINGLE_CHOICE || q->type == Q_MULTI_CHOICE || q->type == Q_NPS ||
	             q->type == Q_RATING;
	putf(b, "q-%s%s", q->id, group ? "-0" : "");
}

/* The box above the form: the notice, and one linked line per problem. */
static void put_summary(hbuf *b, const form *f, const json_t *problems, const char *notice)
{
	size_t n = problems ? json_object_size(problems) : 0;
	if (n == 0 && !notice)
		return;
	put(b, "<div class=\"es-summary\" id=\"es-summary\" role=\"alert\" tabindex=\"-1\">\n");
	if (notice) {
		put(b, "<p>");
		put_text(b, notice);
		put(b, "</p>\n");
	}
	if (n > 0) {
		put(b, "<p>");
		put_tr(b, "Some answers need another look:");
		put(b, "</p>\n<ul>\n");
		for (size_t i = 0; i < f->n_questions; i++) {
			const question *q = &f->questions[i];
			const char *msg = json_string_value(json_object_get(problems, q->id));
			if (!msg)
				continue;
			put(b, "<li><a href=\"#");
			put_control_id(b, q);
			put(b, "\">");
			put_text(b, q->label);
			put(b, "</a>: ");
			put_tr(b, msg);
			put(b, "</li>\n");
		}
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)problems, key, v) {
			if (form_question_index(f, key) >= 0 || !json_is_string(v))
				continue;
			put(b, "<li>");
			if (strcmp(key, "answers") == 0)
				put_tr(b, "Your answer");
			else
				put_text(b, key);
			put(b, ": ");
			put_tr(b, json_string_value(v));
			put(b, "</li>\n");
		}
		put(b, "</ul>\n");
	}
	put(b, "</div>\n");
}

/* The hidden honeypot: off-screen for sighted visitors, hidden from assistive technology, out of
 * the tab order, never autofilled. */
static void put_honeypot(hbuf *b)
{
	put(b, "<div class=\"es-hp\" aria-hidden=\"true\"><label for=\"es-hp-field\">");
	put_tr(b, "Leave this field empty");
	put(b, "</label><input id=\"es-hp-field\" name=\"" SPAM_HONEYPOT_FIELD "\" type=\"text\" value=\"\" "
	       "tabindex=\"-1\" autocomplete=\"off\"></div>\n");
}

/* Adds "This field " + english -> its translation into lang to map. */
static void i18n_entry(json_t *map, const char *lang, const char *english)
{
	char *key = xasprintf("This field %s", english);
	char *t = i18n_sentence(lang, key);
	json_object_set_new(map, key, json_string(t));
	free(key);
	free(t);
}

/* The data-i18n attribute of the form (nothing in English): the translation of every sentence the
 * page's script may compose for f's fields (static/form.js), as a JSON object. */
static void put_script_sentences(hbuf *b, const form *f, const char *lang)
{
	static const char *const fixed[] = { "is required", "must be accepted", "must look like name@example.com",
		"must be at most 254 characters", "must have at most 64 characters before the @",
		"must contain only digits, spaces, dashes, dots and parentheses",
		"must have 8 to 15 digits including the country code", "must start with + and the country code",
		"must be a date written as YYYY-MM-DD", "must be a date with a year from 1900 to 2100",
		"must be a real calendar date", "must be a number", "must not contain NUL characters" };
	if (!lang || strcmp(lang, "en") == 0)
		return;
	json_t *map = json_object();
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		i18n_entry(map, lang, fixed[i]);
	for (size_t i = 0; i < f->n_questions; i++) {
		const question *q = &f->questions[i];
		char lo[32], hi[32], *m;
		if (q->type == Q_TEXT || q->type == Q_LONG_TEXT) {
			m = xasprintf("must be at most %zu characters", q->max_length ? q->max_length : (size_t)TEXT_DEFAULT_MAX);
			i18n_entry(map, lang, m);
			free(m);
		}
		if (q->type != Q_NUMBER)
			continue;
		format_number(q->min, lo);
		format_number(q->max, hi);
		m = q->has_min && q->has_max ? xasprintf("must be a number from %s to %s", lo, hi) : NULL;
		if (m)
			i18n_entry(map, lang, m);
		free(m);
		m = q->has_min ? xasprintf("must be at least %s", lo) : NULL;
		if (m)
			i18n_entry(map, lang, m);
		free(m);
		m = q->has_max ? xasprintf("must be at most %s", hi) : NULL;
		if (m)
			i18n_entry(map, lang, m);
		free(m);
	}
	char *text = json_dumps(map, JSON_COMPACT);
	put(b, " data-i18n=\"");
	put_attr(b, text);
	put(b, "\"");
	free(text);
	json_decref(map);
}

/* The whole form page; malloc'd (caller frees). */
char *render_form_page(const render_form_args *a)
{
	const form *f = a->form;
	hbuf b = { .lang = a->lang };
	put_head(&b, f->locale, f->title, a->css_href, a->js_src);
	put(&b, "<h1>");
	put_text(&b, f->title);
	put(&b, "</h1>\n");
	if (f->offer_up_front) {
		put(&b, "<p class=\"es-offer-up-front\">");
		put_text(&b, f->offer_up_front);
		put(&b, "</p>\n");
	}
	put_summary(&b, f, a->problems, a->notice);
	putf(&b, "<form class=\"es-form%s\" method=\"post\" action=\"/f/%s\" accept-charset=\"utf-8\" "
	         "data-min-fill=\"%d\"",
	     render_one_click(f) ? " es-one-click" : "", f->id, a->min_fill_seconds);
	put_script_sentences(&b, f, a->lang);
	put(&b, ">\n");
	put(&b, "<input type=\"hidden\" name=\"" SPAM_TOKEN_FIELD "\" value=\"");
	put_attr(&b, a->token);
	put(&b, "\">\n");
	if (a->variant) {
		put(&b, "<input type=\"hidden\" name=\"_v\" value=\"");
		put_attr(&b, a->variant);
		put(&b, "\">\n");
	}
	for (size_t i = 0; i < f->n_questions; i++) {
		put_field(&b, &f->questions[i], a->values, a->problems);
		if (i == 0)
			put_honeypot(&b);
	}
	if (f->n_questions == 0)
		put_honeypot(&b);
	put(&b, "<div class=\"es-actions\"><button type=\"submit\" class=\"es-submit\">");
	put_tr(&b, RENDER_SUBMIT_LABEL);
	put(&b, "</button></div>\n</form>\n");
	put_tail(&b);
	return b.s;
}

/* The thank-you page in English. */
char *render_thanks_page(const form *f, const json_t *offers, const char *css_href)
{
	return render_thanks_page_in(f, offers, css_href, NULL);
}

/* The thank-you page with the offers of one answer, the server's sentences in lang; malloc'd. */
char *render_thanks_page_in(const form *f, const json_t *offers, const char *css_href, const char *lang)
{
	hbuf b = { .lang = lang };
	put_head(&b, f->locale, f->title, css_href, NULL);
	put(&b, "<h1>");
	put_text(&b, f->title);
	put(&b, "</h1>\n<p class=\"es-thank-you\" role=\"status\">");
	put_tr(&b, f->thank_you ? f->thank_you : "Thank you!");
	put(&b, "</p>\n");
	size_t i;
	const json_t *offer;
	json_array_foreach(offers, i, offer) {
		const json_t *code = json_object_get(offer, "code");
		put(&b, "<section class=\"es-offer\" aria-label=\"");
		char *label = i18n_sentence(lang, "Your offer");
		put_attr(&b, label);
		free(label);
		put(&b, "\">\n<p class=\"es-offer-text\">");
		put_json_string(&b, json_object_get(offer, "text"), false);
		put(&b, "</p>\n");
		if (json_is_string(code)) {
			put(&b, "<p class=\"es-code\">");
			put_tr(&b, "Your code:");
			put(&b, " <strong class=\"es-code-value\">");
			put_json_string(&b, code, false);
			put(&b, "</strong></p>\n");
		}
		put(&b, "</section>\n");
	}
	put_tail(&b);
	return b.s;
}

/* A page with a heading and one sentence in English; malloc'd (caller frees). */
char *render_message_page(const char *title, const char *message, const char *css_href)
{
	return render_message_page_in(title, message, css_href, NULL);
}

/* A page with a heading and one sentence, both translated into lang; malloc'd (caller frees). */
char *render_message_page_in(const char *title, const char *message, const char *css_href, const char *lang)
{
	hbuf b = { .lang = lang };
	char *tt = i18n_sentence(lang, title);
	put_head(&b, lang ? lang : "en", tt, css_href, NULL);
	free(tt);
	put(&b, "<h1>");
	put_tr(&b, title);
	put(&b, "</h1>\n<p>");
	put_tr(&b, message);
	put(&b, "</p>\n");
	put_tail(&b);
	return b.s;
}

/* ---- posted fields ------------------------------------------------------------------------------ */

/* Decodes s[0..len) ('+' is a space, %XX a byte; a malformed escape stays as written) into b. */
static void url_decode_into(hbuf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+') {
			put_n(b, " ", 1);
		} else if (c == '%' && i + 2 < len && hex_digit_value(s[i + 1]) >= 0 && hex_digit_value(s[i + 2]) >= 0) {
			char byte = (char)(hex_digit_value(s[i + 1]) * 16 + hex_digit_value(s[i + 2]));
			put_n(b, &byte, 1);
			i += 2;
		} else {
			put_n(b, &c, 1);
		}
	}
}

/* Length of the valid UTF-8 sequence at s[0..len) (1-4), or 0 when it is not one. NUL counts as a
 * valid one-byte sequence. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A new JSON string of s[0..len) with every byte that is not UTF-8 replaced by U+FFFD. */
static json_t *utf8_string(const char *s, size_t len)
{
	hbuf b = { 0 };
	put_n(&b, "", 0);
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq((const unsigned char *)s + i, len - i);
		if (n == 0) {
			put(&b, "\xef\xbf\xbd");
			i++;
		} else {
			put_n(&b, s + i, n);
			i += n;
		}
	}
	json_t *out = json_stringn(b.s, b.len);
	free(b.s);
	return out;
}

/* Adds name = value to fields, turning a repeated name into an array. */
static void field_add(json_t *fields, const char *name, json_t *value)
{
	json_t *prev = json_object_get(fields, name);
	if (!prev) {
		json_object_set_new(fields, name, value);
	} else if (json_is_array(prev)) {
		json_array_append_new(prev, value);
	} else {
		json_t *arr = json_array();
		json_array_append(arr, prev);
		json_array_append_new(arr, value);
		json_object_set_new(fields, name, arr);
	}
}

/* Splits an urlencoded body at '&' and '=', decodes names and values; a new object. */
json_t *render_fields_parse(const char *body, size_t len)
{
	json_t *fields = json_object();
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && body[end] != '&')
			end++;
		size_t eq = i;
		while (eq < end && body[eq] != '=')
			eq++;
		hbuf name = { 0 }, value = { 0 };
		put_n(&name, "", 0);
		put_n(&value, "", 0);
		url_decode_into(&name, body + i, eq - i);
		if (eq < end)
			url_decode_into(&value, body + eq + 1, end - eq - 1);
		if (name.len > 0 && strlen(name.s) == name.len) {
			json_t *n = utf8_string(name.s, name.len);
			json_t *v = utf8_string(value.s, value.len);
			if (n && v)
				field_add(fields, json_string_value(n), json_incref(v));
			json_decref(n);
			json_decref(v);
		}
		free(name.s);
		free(value.s);
		i = end + 1;
	}
	return fields;
}
