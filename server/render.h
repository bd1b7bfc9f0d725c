/* render: the hosted form pages (/f/{form}) as HTML, and the fields those pages post back.
 *
 * Every text that reaches a page goes through one of two escapers chosen by where it lands — element
 * text or a double-quoted attribute value — so a form's labels, a visitor's input kept after a 422,
 * and an offer's code can never become markup. The pages need no inline script or style: they work
 * under the strict Content-Security-Policy below, and with JavaScript off. */
#ifndef EARSHOT_RENDER_H
#define EARSHOT_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "form.h"

/* The Content-Security-Policy of every hosted page: nothing inline, nothing foreign. */
#define RENDER_PAGE_CSP                                                                            \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* The label of the submit button. */
#define RENDER_SUBMIT_LABEL "Send"

/* What a form page shows. Everything is borrowed. */
typedef struct render_form_args {
	const form *form;
	const json_t *values;     /* field name -> string or array of strings the visitor sent, or NULL */
	const json_t *problems;   /* question id -> sentence (validate.h), or NULL; other keys are listed
	                           * in the summary only */
	const char *notice;       /* a sentence shown above the form, or NULL */
	const char *token;        /* the timing token for the hidden field (spam.h) */
	int min_fill_seconds;     /* told to the script, which holds back too early a submit */
	const char *css_href;     /* URL of form.css */
	const char *js_src;       /* URL of form.js */
	const char *lang;         /* language of the server's own sentences (i18n.h); NULL: English */
	const char *variant;      /* the wording variant shown, posted back as "_v"; NULL for none */
} render_form_args;

/* The form page: a malloc'd HTML document (caller frees). */
char *render_form_page(const render_form_args *a);

/* The thank-you page of form f with the offers of one answer (array of {"text","code"?}, may be
 * NULL or empty): a malloc'd HTML document (caller frees). */
char *render_thanks_page(const form *f, const json_t *offers, const char *css_href);
/* The same with the server's sentences in lang (i18n.h; NULL: English). */
char *render_thanks_page_in(const form *f, const json_t *offers, const char *css_href, const char *lang);

/* A page with a heading and one sentence (not found, too many requests, ...): a malloc'd HTML
 * document (caller frees). */
char *render_message_page(const char *title, const char *message, const char *css_href);
/* The same with title and message (English sentences) translated into lang (NULL: English). */
char *render_message_page_in(const char *title, const char *message, const char *css_href, const char *lang);

/* Escapes s for element text (attr false) or for a double-quoted attribute value (attr true).
 * Returns a malloc'd string (caller frees). NUL bytes cannot occur in s; use the len variant for
 * strings that may hold them (they become U+FFFD). */
char *render_escape(const char *s, bool attr);
char *render_escape_len(const char *s, size_t len, bool attr);

/* The sentence shown beside a field for a validation message: "This field " + message. Returns a
 * malloc'd string (caller frees). The page's script composes its messages the same way. */
char *render_field_message(const char *message);

/* True for a one-click form: a signup form whose only question is an email or a phone field. */
bool render_one_click(const form *f);

/* The autocomplete token for q's control ("email", "tel", "bday", "name", ...), or NULL. A date
 * question is a birthday when its id or label speaks of birth. */
const char *render_autocomplete(const question *q);

/* Parses an application/x-www-form-urlencoded body into a new object (caller owns): field name ->
 * string, or an array of strings when the name repeats. '+' is a space, %XX a byte; a malformed
 * escape is kept as written, bytes that are not UTF-8 become U+FFFD, and fields whose name holds
 * a NUL byte are skipped. */
json_t *render_fields_parse(const char *body, size_t len);

#endif
