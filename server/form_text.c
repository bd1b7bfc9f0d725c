/* form_text: a form's other wordings — `locales:` (translations picked by the visitor's language)
 * and `variants:` (wording A/B, one per visitor, chosen by weight) — read and checked against the
 * form's questions, and views of a form with one of them applied. */
#include <stdlib.h>
#include <string.h>

#include "form_internal.h"
#include "util.h"

static const char *const text_keys[] = { "title", "thank_you", "questions", NULL };
static const char *const variant_keys[] = { "id", "weight", "title", "thank_you", "questions", NULL };
static const char *const question_text_keys[] = { "label", "options", "why", "hint", NULL };

#define VARIANT_ID_RULE "[a-z0-9][a-z0-9_-]{0,31}"

/* Index of the question with that id, or -1. */
int form_question_index(const form *f, const char *id)
{
	for (size_t i = 0; i < f->n_questions; i++)
		if (f->questions[i].id && strcmp(f->questions[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* True for a language tag [a-z]{2,3}(-[A-Za-z0-9]+)?, such as en, nb, sl or pt-BR. */
bool form_is_locale(const char *s)
{
	size_t lang = strspn(s, "abcdefghijklmnopqrstuvwxyz");
	if (lang < 2 || lang > 3)
		return false;
	if (s[lang] == '\0')
		return true;
	if (s[lang] != '-')
		return false;
	const char *sub = s + lang + 1;
	size_t n = strspn(sub, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	return n > 0 && sub[n] == '\0';
}

/* Reads a non-empty string at n into obj[key]; false after recording a problem. */
static bool read_text(ydoc *doc, const yaml_node_t *n, const char *key, json_t *obj)
{
	char *s = NULL;
	if (ydoc_read_string(doc, n, key, &s) < 0)
		return false;
	json_t *v = s[0] ? json_string(s) : NULL;
	if (!v)
		ydoc_error(doc, n, s[0] ? "\"%s\" is not valid UTF-8" : "\"%s\" must not be empty", key);
	else
		json_object_set_new(obj, key, v);
	free(s);
	return v != NULL;
}

/* The options of a translated question: a list as long as the form's, or a mapping from the form's
 * option to its text. A new array of every option's text (untranslated ones as they are), or NULL. */
static json_t *read_option_texts(ydoc *doc, const yaml_node_t *n, const question *q)
{
	json_t *out = json_array();
	for (size_t i = 0; i < q->n_options; i++)
		json_array_append_new(out, json_string(q->options[i]));
	if (ydoc_is_mapping(n)) {
		for (size_t i = 0; i < ydoc_map_size(n); i++) {
			yaml_node_t *k = ydoc_map_key(doc, n, i);
			const char *name = ydoc_scalar(k);
			size_t j = 0;
			while (name && j < q->n_options && strcmp(q->options[j], name) != 0)
				j++;
			if (!name || j == q->n_options) {
				char *shown = name ? ydoc_show(name, strlen(name)) : xstrdup("?");
				ydoc_error(doc, k, "question \"%s\" has no option \"%s\"", q->id, shown);
				free(shown);
				continue;
			}
			json_t *tmp = json_object();
			if (read_text(doc, ydoc_map_value(doc, n, i), "option", tmp))
				json_array_set(out, j, json_object_get(tmp, "option"));
			json_decref(tmp);
		}
		return out;
	}
	if (!ydoc_is_sequence(n)) {
		ydoc_error(doc, n, "\"options\" must be a list of %zu texts or a mapping from option to text",
		           q->n_options);
		json_decref(out);
		return NULL;
	}
	if (ydoc_seq_size(n) != q->n_options) {
		ydoc_error(doc, n, "\"options\" has %zu texts but question \"%s\" has %zu options", ydoc_seq_size(n),
		           q->id, q->n_options);
		json_decref(out);
		return NULL;
	}
	for (size_t i = 0; i < q->n_options; i++) {
		json_t *tmp = json_object();
		if (read_text(doc, ydoc_seq_item(doc, n, i), "option", tmp))
			json_array_set(out, i, json_object_get(tmp, "option"));
		json_decref(tmp);
	}
	return out;
}

/* questions: {id: {label, options, why, hint}}, each id a question of f. */
static json_t *read_question_texts(ydoc *doc, const yaml_node_t *n, const form *f)
{
	if (!ydoc_expect_mapping(doc, n, "questions"))
		return NULL;
	json_t *out = json_object();
	for (size_t i = 0; i < ydoc_map_size(n); i++) {
		yaml_node_t *k = ydoc_map_key(doc, n, i), *v = ydoc_map_value(doc, n, i);
		const char *id = ydoc_scalar(k);
		int qi = id ? form_question_index(f, id) : -1;
		if (qi < 0) {
			char *shown = id ? ydoc_show(id, strlen(id)) : xstrdup("?");
			ydoc_error(doc, k, "the form has no question \"%s\"", shown);
			free(shown);
			continue;
		}
		const question *q = &f->questions[qi];
		if (!ydoc_expect_mapping(doc, v, id))
			continue;
		ydoc_check_keys(doc, v, question_text_keys);
		json_t *t = json_object();
		static const char *const texts[] = { "label", "why", "hint" };
		for (size_t j = 0; j < 3; j++) {
			yaml_node_t *tn = ydoc_get(doc, v, texts[j]);
			if (tn)
				read_text(doc, tn, texts[j], t);
		}
		yaml_node_t *on = ydoc_get(doc, v, "options");
		if (on && q->n_options == 0) {
			ydoc_error(doc, ydoc_get_key(doc, v, "options"), "question \"%s\" has no options", id);
		} else if (on) {
			json_t *opts = read_option_texts(doc, on, q);
			if (opts)
				json_object_set_new(t, "options", opts);
		}
		json_object_set_new(out, id, t);
	}
	return out;
}

/* The text keys (title, thank_you, questions) of mapping n into obj. */
static void read_texts(ydoc *doc, const yaml_node_t *n, const form *f, json_t *obj)
{
	yaml_node_t *v;
	if ((v = ydoc_get(doc, n, "title")) != NULL)
		read_text(doc, v, "title", obj);
	if ((v = ydoc_get(doc, n, "thank_you")) != NULL)
		read_text(doc, v, "thank_you", obj);
	if ((v = ydoc_get(doc, n, "questions")) != NULL) {
		json_t *qs = read_question_texts(doc, v, f);
		if (qs)
			json_object_set_new(obj, "questions", qs);
	}
}

/* locales: {tag: {title, thank_you, questions}}. */
static void read_locales(ydoc *doc, const yaml_node_t *root, form *f)
{
	yaml_node_t *n = ydoc_get(doc, root, "locales");
	if (!n || !ydoc_expect_mapping(doc, n, "locales"))
		return;
	f->locales = json_object();
	for (size_t i = 0; i < ydoc_map_size(n); i++) {
		yaml_node_t *k = ydoc_map_key(doc, n, i), *v = ydoc_map_value(doc, n, i);
		const char *tag = ydoc_scalar(k);
		if (!tag || !form_is_locale(tag)) {
			ydoc_invalid(doc, k, "locales", "each key must be a language tag such as sl, nb or pt-BR");
			continue;
		}
		if (f->locale && strcmp(tag, f->locale) == 0) {
			ydoc_error(doc, k, "\"%s\" is the form's own language (\"locale\"); translate into other languages", tag);
			continue;
		}
		if (!ydoc_expect_mapping(doc, v, tag))
			continue;
		ydoc_check_keys(doc, v, text_keys);
		json_t *t = json_object();
		read_texts(doc, v, f, t);
		json_object_set_new(f->locales, tag, t);
	}
}

/* True when s matches [a-z0-9][a-z0-9_-]{0,31}. */
static bool is_variant_id(const char *s)
{
	size_t len = strlen(s);
	return len >= 1 && len <= 32 && strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

/* variants: a sequence of {id, weight, title?, thank_you?, questions?}; ids unique, weights > 0 in sum. */
static void read_variants(ydoc *doc, const yaml_node_t *root, form *f)
{
	yaml_node_t *n = ydoc_get(doc, root, "variants");
	if (!n || !ydoc_expect_sequence(doc, n, "variants"))
		return;
	if (ydoc_seq_size(n) == 0) {
		ydoc_error(doc, n, "\"variants\" must not be empty");
		return;
	}
	f->variants = json_array();
	long total = 0;
	for (size_t i = 0; i < ydoc_seq_size(n); i++) {
		yaml_node_t *item = ydoc_seq_item(doc, n, i);
		if (!ydoc_is_mapping(item)) {
			ydoc_error(doc, item, "each variant must be a mapping such as {id: a, weight: 50}");
			continue;
		}
		ydoc_check_keys(doc, item, variant_keys);
		char *id = NULL;
		yaml_node_t *idn = ydoc_require(doc, item, "id");
		if (!idn || ydoc_read_string(doc, idn, "id", &id) < 0)
			continue;
		if (!is_variant_id(id)) {
			ydoc_invalid(doc, idn, "id", "a variant id must match " VARIANT_ID_RULE);
			free(id);
			continue;
		}
		size_t j;
		json_t *prev;
		json_array_foreach(f->variants, j, prev) {
			if (strcmp(json_string_value(json_object_get(prev, "id")), id) == 0) {
				ydoc_error(doc, idn, "duplicate variant id \"%s\"", id);
				break;
			}
		}
		int weight = 1;
		ydoc_get_int(doc, item, "weight", 0, 1000000, &weight);
		total += weight;
		json_t *v = json_pack("{s:s, s:i}", "id", id, "weight", weight);
		read_texts(doc, item, f, v);
		json_array_append_new(f->variants, v);
		free(id);
	}
	if (total <= 0)
		ydoc_error(doc, n, "the weights of \"variants\" must not all be 0");
}

/* Reads locales: and variants: after the questions. */
void form_read_texts(ydoc *doc, const yaml_node_t *root, form *f)
{
	read_locales(doc, root, f);
	read_variants(doc, root, f);
}

/* ---- views -------------------------------------------------------------------------------------- */

/* A borrowed C string of obj[key], or fallback. */
static char *text_or(const json_t *obj, const char *key, char *fallback)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? (char *)s : fallback;
}

/* Applies text overrides t ({title, thank_you, questions}) to view v (all borrowed). */
static void apply_texts(form *v, const json_t *t)
{
	if (!t)
		return;
	v->title = text_or(t, "title", v->title);
	v->thank_you = text_or(t, "thank_you", v->thank_you);
	const json_t *qs = json_object_get(t, "questions");
	for (size_t i = 0; qs && i < v->n_questions; i++) {
		question *q = &v->questions[i];
		const json_t *qt = json_object_get(qs, q->id);
		if (!qt)
			continue;
		q->label = text_or(qt, "label", q->label);
		q->why = text_or(qt, "why", q->why);
		q->hint = text_or(qt, "hint", q->hint);
		const json_t *opts = json_object_get(qt, "options");
		if (json_array_size(opts) == q->n_options && q->n_options > 0) {
			free(q->option_labels);
			q->option_labels = xcalloc(q->n_options, sizeof *q->option_labels);
			for (size_t j = 0; j < q->n_options; j++)
				q->option_labels[j] = (char *)json_string_value(json_array_get(opts, j));
		}
	}
}

/* The variant named id, or NULL. */
const json_t *form_variant(const form *f, const char *id)
{
	size_t i;
	json_t *v;
	if (!id)
		return NULL;
	json_array_foreach(f->variants, i, v)
		if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
			return v;
	return NULL;
}

/* The variant whose share of the total weight covers r in [0,1). */
const char *form_variant_pick(const form *f, double r)
{
	json_int_t total = 0, acc = 0;
	size_t i;
	json_t *v;
	json_array_foreach(f->variants, i, v)
		total += json_integer_value(json_object_get(v, "weight"));
	if (total <= 0)
		return NULL;
	double point = r * (double)total;
	const char *last = NULL;
	json_array_foreach(f->variants, i, v) {
		json_int_t w = json_integer_value(json_object_get(v, "weight"));
		if (w <= 0)
			continue;
		last = json_string_value(json_object_get(v, "id"));
		acc += w;
		if (point < (double)acc)
			return last;
	}
	return last;
}

/* A view of f: the variant's wording (in the form's own language), then the translation of lang. */
form *form_view_new(const form *f, const char *lang, const char *variant_id)
{
	form *v = xmalloc(sizeof *v);
	*v = *f;
	v->is_view = true;
	v->public_json = NULL;
	v->questions = xcalloc(f->n_questions ? f->n_questions : 1, sizeof *v->questions);
	memcpy(v->questions, f->questions, f->n_questions * sizeof *f->questions);
	const json_t *tr = lang && f->locales ? json_object_get(f->locales, lang) : NULL;
	if (!tr)
		apply_texts(v, form_variant(f, variant_id));
	else {
		const char *key = NULL;
		void *it = json_object_iter_at(f->locales, lang);
		key = it ? json_object_iter_key(it) : NULL;
		v->locale = (char *)key;
		apply_texts(v, tr);
	}
	return v;
}

/* Frees a view (its own arrays only). */
void form_view_free(form *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_questions; i++)
		free(v->questions[i].option_labels);
	free(v->questions);
	free(v);
}

/* Adds "locales" and "variants" (as read) to the widget's view o of f. */
void form_json_add_texts(json_t *o, const form *f)
{
	if (f->locales && json_object_size(f->locales) > 0)
		json_object_set(o, "locales", f->locales);
	if (f->variants)
		json_object_set(o, "variants", f->variants);
}

/* The thank-you text of f for an answer shown in language lang with variant variant_id (both may be
 * NULL): the translation's, else (in the form's own language) the variant's, else the form's own.
 * Borrowed from f. */
const char *form_thank_you(const form *f, const char *lang, const char *variant_id)
{
	const json_t *tr = lang && f->locales ? json_object_get(f->locales, lang) : NULL;
	if (!tr)
		tr = form_variant(f, variant_id);
	const char *s = json_string_value(json_object_get(tr, "thank_you"));
	return s ? s : f->thank_you;
}
