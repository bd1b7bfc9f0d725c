/* i18n: the languages earshot speaks itself (en, sl, ro, uk, nb) — every sentence the server makes
 * (hosted page chrome, validation messages, closed and error pages, JSON error messages) — and the
 * choice of a language from an Accept-Language header.
 *
 * Sentences are kept in English in the code; i18n_sentence() translates a finished English sentence
 * by matching it against a table of patterns in which "{}" stands for any non-empty text (a number,
 * an option), so the code that makes a message need not know the visitor's language. A sentence the
 * table does not know stays English. */
#ifndef EARSHOT_I18N_H
#define EARSHOT_I18N_H

#include <stddef.h>
#include <jansson.h>

/* The languages of the server's own sentences, "en" first; NULL-terminated. */
extern const char *const i18n_languages[];

/* The best of available[0..n) for an Accept-Language header (may be NULL): ranges in order of their
 * q-value (q=0 excluded), each matched exactly (ignoring case) or by its primary subtag ("sl-SI"
 * finds "sl", "no" and "nn" find "nb"). Returns a borrowed entry of available, or NULL. */
const char *i18n_pick(const char *accept_language, const char *const *available, size_t n);

/* The server's language for a header: one of i18n_languages ("en" when nothing matches). */
const char *i18n_pick_server(const char *accept_language);

/* The language of the server's sentences on a page whose content is in content_lang: the header's
 * pick among the server's languages; when it names none, content_lang if the server speaks it, else
 * "en". Static string. */
const char *i18n_chrome(const char *content_lang, const char *accept_language);

/* english translated into lang (a malloc'd string, caller frees); a copy of english when lang is
 * "en", NULL, or the sentence is not in the table. */
char *i18n_sentence(const char *lang, const char *english);

/* Translates every string value of the object problems (field -> sentence) in place. */
void i18n_problems(const char *lang, json_t *problems);

#endif
