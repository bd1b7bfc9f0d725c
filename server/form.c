/* form: forms/<id>.yaml read into validated forms, and the reference-counted registry of them. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "form.h"
#include "util.h"
#include "form_internal.h"
#include "yaml_doc.h"

static const char *const form_keys[] = { "id", "kind", "title", "locale", "active", "questions", "trigger",
	"thank_you", "follow_up", "offer_up_front", "locales", "variants", "confirm", NULL };
static const char *const follow_up_keys[] = { "within_minutes", NULL };
static const char *const question_keys[] = { "id", "type", "label", "required", "options", "scale", "max_length",
	"min", "max", "why", "hint", "default_country", "next", NULL };
static const char *const next_keys[] = { "if", "goto", NULL };
static const char *const cond_keys[] = { "equals", "in", "lte", "gte", "answered", NULL };
static const char *const trigger_keys[] = { "event", "delay_seconds", "scroll_percent", "pages", "sample_percent",
	"recontact_days", "schedule", "max_responses", "audience", NULL };
static const char *const pages_keys[] = { "include", "exclude", NULL };
static const char *const confirm_keys[] = { "destination", "expires_hours", NULL };

/* In trigger_event order, starting at TRIGGER_EXIT_INTENT. */
static const char *const event_names[] = { "exit_intent", "delay", "scroll", "page_view", "manual", NULL };

#define FORM_ID_RULE "[a-z0-9][a-z0-9-]{0,63}"
#define QUESTION_ID_RULE "[a-z][a-z0-9_]{0,63}"
#define BACKWARDS_HINT "it must name a later question or \"end\""

/* Reading state of one form file. */
typedef struct form_reader {
	ydoc *doc;
	form *f;
	const yaml_node_t *questions; /* the questions sequence, NULL when unusable */
	size_t id_line, id_col;       /* where the form id comes from, for duplicate-id messages */
} form_reader;

/* ---- identifiers ---------------------------------------------------------------------------- */

/* True when s is first + (rest){0,63}: one character of `first` then at most 63 of `rest`. */
static bool id_matches(const char *s, const char *first, const char *rest)
{
	size_t len = strlen(s);
	if (len == 0 || len > 64 || !strchr(first, s[0]))
		return false;
	return strspn(s + 1, rest) == len - 1;
}

/* True when s matches [a-z0-9][a-z0-9-]{0,63}. */
static bool is_form_id(const char *s)
{
	return id_matches(s, "abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789-");
}

/* True when s matches [a-z][a-z0-9_]{0,63}. */
static bool is_question_id(const char *s)
{
	return id_matches(s, "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789_");
}

/* Returns the malloc'd file name stem of path: "forms/nps.yaml" gives "nps". */
static char *path_stem(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strlen(base);
	if (str_ends_with(base, ".yaml"))
		len -= 5;
	else if (str_ends_with(base, ".yml"))
		len -= 4;
	return xstrndup(base, len);
}

/* ---- questions ------------------------------------------------------------------------------ */

/* Reports `"<key>" is only allowed for <which> questions` when the key is present. */
static void refuse_key(form_reader *r, const yaml_node_t *map, const char *key, const char *which)
{
	yaml_node_t *k = ydoc_get_key(r->doc, map, key);
	if (k)
		ydoc_error(r->doc, k, "\"%s\" is only allowed for %s questions", key, which);
}

/* Reads a required, non-empty string; returns 0 or -1 (problem recorded). */
static int read_required_text(form_reader *r, const yaml_node_t *map, const char *key, char **out)
{
	yaml_node_t *n = ydoc_require(r->doc, map, key);
	if (!n || ydoc_read_string(r->doc, n, key, out) < 0)
		return -1;
	if ((*out)[0] == '\0') {
		ydoc_error(r->doc, n, "\"%s\" must not be empty", key);
		return -1;
	}
	return 0;
}

/* Reads an optional string that must not be empty when given. */
static void read_optional_text(form_reader *r, const yaml_node_t *map, const char *key, char **out)
{
	if (ydoc_get_string(r->doc, map, key, out) > 0 && (*out)[0] == '\0') {
		ydoc_error(r->doc, ydoc_get(r->doc, map, key), "\"%s\" must not be empty", key);
		free(*out);
		*out = NULL;
	}
}

/* The question's id: required, well-formed, unique within the form. */
static void read_question_id(form_reader *r, const yaml_node_t *item, size_t index)
{
	question *q = &r->f->questions[index];
	yaml_node_t *n = ydoc_require(r->doc, item, "id");
	if (!n || ydoc_read_string(r->doc, n, "id", &q->id) < 0)
		return;
	if (!is_question_id(q->id)) {
		ydoc_invalid(r->doc, n, "id", "a question id must match " QUESTION_ID_RULE);
		return;
	}
	for (size_t j = 0; j < index; j++) {
		if (r->f->questions[j].id && strcmp(r->f->questions[j].id, q->id) == 0) {
			yaml_node_t *first = ydoc_get(r->doc, ydoc_seq_item(r->doc, r->questions, j), "id");
			ydoc_error(r->doc, n, "duplicate question id \"%s\", first used at line %zu", q->id, ydoc_line(first));
			return;
		}
	}
}

/* options: a non-empty sequence of distinct strings. */
static void read_options(form_reader *r, const yaml_node_t *item, question *q)
{
	yaml_node_t *n = ydoc_require(r->doc, item, "options");
	if (!n || ydoc_read_strings(r->doc, n, "options", &q->options, &q->n_options) < 0)
		return;
	if (q->n_options == 0) {
		ydoc_error(r->doc, n, "\"options\" must not be empty");
		return;
	}
	for (size_t i = 0; i < q->n_options; i++) {
		if (q->options[i][0] == '\0')
			ydoc_error(r->doc, ydoc_seq_item(r->doc, n, i), "an option must not be empty");
		for (size_t j = 0; j < i; j++) {
			if (strcmp(q->options[i], q->options[j]) == 0) {
				char *shown = ydoc_show(q->options[i], strlen(q->options[i]));
				ydoc_error(r->doc, ydoc_seq_item(r->doc, n, i), "duplicate option \"%s\"", shown);
				free(shown);
				break;
			}
		}
	}
}

/* min and max of a number question; min must not exceed max. */
static void read_bounds(form_reader *r, const yaml_node_t *item, question *q)
{
	q->has_min = ydoc_get_number(r->doc, item, "min", &q->min) > 0;
	q->has_max = ydoc_get_number(r->doc, item, "max", &q->max) > 0;
	if (q->has_min && q->has_max && q->min > q->max)
		ydoc_error(r->doc, ydoc_get(r->doc, item, "min"), "\"min\" must not be greater than \"max\"");
}

/* default_country of a phone question: 1 to 3 digits, optionally after a "+"; stored as digits. */
static void read_default_country(form_reader *r, const yaml_node_t *item, question *q)
{
	yaml_node_t *n = ydoc_get(r->doc, item, "default_country");
	char *text = NULL;
	if (!n || ydoc_read_string(r->doc, n, "default_country", &text) < 0)
		return;
	const char *digits = text[0] == '+' ? text + 1 : text;
	size_t len = strlen(digits);
	if (len < 1 || len > 3 || strspn(digits, "0123456789") != len || digits[0] == '0')
		ydoc_invalid(r->doc, n, "default_country", "it must be a calling code of 1 to 3 digits such as 386 or +1");
	else
		q->default_country = xstrdup(digits);
	free(text);
}

/* Reads the keys that belong to one type only, refusing them on other types. */
static void read_type_keys(form_reader *r, const yaml_node_t *item, question *q)
{
	bool choice = q->type == Q_SINGLE_CHOICE || q->type == Q_MULTI_CHOICE;
	if (choice)
		read_options(r, item, q);
	else
		refuse_key(r, item, "options", "single_choice and multi_choice");
	if (q->type == Q_RATING)
		ydoc_get_int(r->doc, item, "scale", 2, 10, &q->scale);
	else
		refuse_key(r, item, "scale", "rating");
	if (q->type == Q_TEXT || q->type == Q_LONG_TEXT) {
		int max_length = (int)q->max_length;
		if (ydoc_get_int(r->doc, item, "max_length", 1, 100000, &max_length) > 0)
			q->max_length = (size_t)max_length;
	} else {
		refuse_key(r, item, "max_length", "text and long_text");
	}
	if (q->type == Q_NUMBER) {
		read_bounds(r, item, q);
	} else {
		refuse_key(r, item, "min", "number");
		refuse_key(r, item, "max", "number");
	}
	if (q->type == Q_PHONE)
		read_default_country(r, item, q);
	else
		refuse_key(r, item, "default_country", "phone");
}

/* ---- branching ------------------------------------------------------------------------------ */

/* True for the question types whose answers are numbers. */
static bool is_numeric_type(question_type t)
{
	return t == Q_NPS || t == Q_RATING || t == Q_NUMBER;
}

/* Returns a JSON number for d: an integer when it is whole, else a real. */
static json_t *number_json(double d)
{
	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		return json_integer((json_int_t)d);
	return json_real(d);
}

/* Reads one comparison value for a question of type t (typed: true when t is known).
 * Returns a new JSON value, or NULL after recording a problem. */
static json_t *read_cond_value(form_reader *r, const question *q, bool typed, const yaml_node_t *n, const char *op)
{
	if (typed && is_numeric_type(q->type)) {
		double d;
		return ydoc_read_number(r->doc, n, op, &d) == 0 ? number_json(d) : NULL;
	}
	if (typed && q->type == Q_CONSENT) {
		bool b;
		return ydoc_read_bool(r->doc, n, op, &b) == 0 ? json_boolean(b) : NULL;
	}
	if (!typed) {
		if (!ydoc_is_scalar(n)) {
			ydoc_invalid(r->doc, n, op, "it must be a string, number or boolean");
			return NULL;
		}
		return ydoc_scalar_json(n);
	}
	char *s = NULL;
	if (ydoc_read_string(r->doc, n, op, &s) < 0)
		return NULL;
	bool choice = q->type == Q_SINGLE_CHOICE || q->type == Q_MULTI_CHOICE;
	bool known = !choice || q->n_options == 0;
	for (size_t i = 0; !known && i < q->n_options; i++)
		known = strcmp(q->options[i], s) == 0;
	if (!known) {
		size_t total = 1;
		for (size_t i = 0; i < q->n_options; i++)
			total += strlen(q->options[i]) + 2;
		char *list = xcalloc(1, total);
		for (size_t i = 0; i < q->n_options; i++) {
			if (i)
				strcat(list, ", ");
			strcat(list, q->options[i]);
		}
		ydoc_invalid(r->doc, n, op, "it must be one of the options: %s", list);
		free(list);
		free(s);
		return NULL;
	}
	json_t *v = json_string(s);
	free(s);
	if (!v)
		ydoc_error(r->doc, n, "\"%s\" is not valid UTF-8", op);
	return v;
}

/* Reads the `if:` mapping of a rule: exactly one operator with a value that fits the question. */
static void read_condition(form_reader *r, const question *q, bool typed, const yaml_node_t *n, branch_rule *rule)
{
	if (!ydoc_expect_mapping(r->doc, n, "if") || ydoc_check_keys(r->doc, n, cond_keys) > 0)
		return;
	if (ydoc_map_size(n) != 1) {
		ydoc_error(r->doc, n, "\"if\" must hold exactly one of: equals, in, lte, gte, answered");
		return;
	}
	const char *op = ydoc_scalar(ydoc_map_key(r->doc, n, 0));
	yaml_node_t *v = ydoc_map_value(r->doc, n, 0);
	if (strcmp(op, "answered") == 0) {
		bool b = false;
		if (ydoc_read_bool(r->doc, v, op, &b) == 0 && !b)
			ydoc_invalid(r->doc, v, op, "it must be true");
		rule->op = COND_ANSWERED;
		return;
	}
	if (strcmp(op, "lte") == 0 || strcmp(op, "gte") == 0) {
		rule->op = op[0] == 'l' ? COND_LTE : COND_GTE;
		if (typed && !is_numeric_type(q->type)) {
			ydoc_error(r->doc, ydoc_map_key(r->doc, n, 0), "\"%s\" is only allowed for nps, rating and number questions", op);
			return;
		}
		double d;
		if (ydoc_read_number(r->doc, v, op, &d) == 0)
			rule->value = number_json(d);
		return;
	}
	if (strcmp(op, "equals") == 0) {
		rule->op = COND_EQUALS;
		rule->value = read_cond_value(r, q, typed, v, op);
		return;
	}
	rule->op = COND_IN;
	if (!ydoc_is_sequence(v)) {
		char *shown = ydoc_is_mapping(v) ? xstrdup("a mapping") : xstrdup("a single value");
		ydoc_error(r->doc, v, "\"in\" must be a sequence of values, not %s", shown);
		free(shown);
		return;
	}
	if (ydoc_seq_size(v) == 0) {
		ydoc_error(r->doc, v, "\"in\" must not be empty");
		return;
	}
	json_t *arr = json_array();
	bool ok = true;
	for (size_t i = 0; i < ydoc_seq_size(v); i++) {
		json_t *item = read_cond_value(r, q, typed, ydoc_seq_item(r->doc, v, i), op);
		if (item)
			json_array_append_new(arr, item);
		else
			ok = false;
	}
	if (ok)
		rule->value = arr;
	else
		json_decref(arr);
}

/* Reads `next:`, a sequence of {if: {...}, goto: ID} or {goto: ID}; gotos are checked later. */
static void read_next(form_reader *r, const yaml_node_t *item, question *q, bool typed)
{
	yaml_node_t *n = ydoc_get(r->doc, item, "next");
	if (!n || !ydoc_expect_sequence(r->doc, n, "next"))
		return;
	q->n_next = ydoc_seq_size(n);
	q->next = xcalloc(q->n_next ? q->n_next : 1, sizeof *q->next);
	for (size_t i = 0; i < q->n_next; i++) {
		yaml_node_t *entry = ydoc_seq_item(r->doc, n, i);
		branch_rule *rule = &q->next[i];
		rule->op = COND_ALWAYS;
		if (!ydoc_is_mapping(entry)) {
			ydoc_error(r->doc, entry, "each entry of \"next\" must be a mapping such as {if: {equals: Other}, goto: more}");
			continue;
		}
		ydoc_check_keys(r->doc, entry, next_keys);
		yaml_node_t *cond = ydoc_get(r->doc, entry, "if");
		if (cond)
			read_condition(r, q, typed, cond, rule);
		yaml_node_t *target = ydoc_require(r->doc, entry, "goto");
		if (target)
			ydoc_read_string(r->doc, target, "goto", &rule->goto_id);
	}
}

/* Checks every goto of question `index`: "end" or a later question of the same form. */
static void check_gotos(form_reader *r, size_t index)
{
	const question *q = &r->f->questions[index];
	yaml_node_t *next = ydoc_get(r->doc, ydoc_seq_item(r->doc, r->questions, index), "next");
	for (size_t i = 0; i < q->n_next; i++) {
		const char *id = q->next[i].goto_id;
		if (!id || strcmp(id, "end") == 0)
			continue;
		yaml_node_t *at = ydoc_get(r->doc, ydoc_seq_item(r->doc, next, i), "goto");
		int target = form_question_index(r->f, id);
		if (target < 0)
			ydoc_invalid(r->doc, at, "goto", "no question has this id; " BACKWARDS_HINT);
		else if ((size_t)target == index)
			ydoc_invalid(r->doc, at, "goto", "it points to its own question; " BACKWARDS_HINT);
		else if ((size_t)target < index)
			ydoc_invalid(r->doc, at, "goto", "it points backwards; " BACKWARDS_HINT);
	}
}

/* Reads question `index` from its mapping. */
static void read_question(form_reader *r, const yaml_node_t *item, size_t index)
{
	question *q = &r->f->questions[index];
	q->scale = 5;
	q->max_length = 2000;
	if (!ydoc_is_mapping(item)) {
		ydoc_error(r->doc, item, "each item of \"questions\" must be a mapping with id, type and label");
		return;
	}
	ydoc_check_keys(r->doc, item, question_keys);
	read_question_id(r, item, index);
	int type = -1;
	yaml_node_t *tn = ydoc_require(r->doc, item, "type");
	if (tn && ydoc_read_enum(r->doc, tn, "type", question_type_names, &type) == 0)
		q->type = (question_type)type;
	read_required_text(r, item, "label", &q->label);
	ydoc_get_bool(r->doc, item, "required", &q->required);
	read_optional_text(r, item, "why", &q->why);
	read_optional_text(r, item, "hint", &q->hint);
	if (type >= 0)
		read_type_keys(r, item, q);
	read_next(r, item, q, type >= 0);
}

/* questions: a non-empty sequence of question mappings. */
static void read_questions(form_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_require(r->doc, root, "questions");
	if (!n || !ydoc_expect_sequence(r->doc, n, "questions"))
		return;
	if (ydoc_seq_size(n) == 0) {
		ydoc_error(r->doc, n, "\"questions\" must not be empty");
		return;
	}
	r->questions = n;
	r->f->n_questions = ydoc_seq_size(n);
	r->f->questions = xcalloc(r->f->n_questions, sizeof *r->f->questions);
	for (size_t i = 0; i < r->f->n_questions; i++)
		read_question(r, ydoc_seq_item(r->doc, n, i), i);
	for (size_t i = 0; i < r->f->n_questions; i++)
		check_gotos(r, i);
}

/* ---- trigger -------------------------------------------------------------------------------- */

/* Reads a list of page globs, each starting with "/" or "*". */
static void read_globs(form_reader *r, const yaml_node_t *pages, const char *key, char ***out, size_t *n_out)
{
	yaml_node_t *n = ydoc_get(r->doc, pages, key);
	if (!n || ydoc_read_strings(r->doc, n, key, out, n_out) < 0)
		return;
	for (size_t i = 0; i < *n_out; i++)
		if ((*out)[i][0] != '/' && (*out)[i][0] != '*')
			ydoc_invalid(r->doc, ydoc_seq_item(r->doc, n, i), key,
			             "a page pattern must start with \"/\" or \"*\", such as /cart*");
}

/* trigger: surveys only; when the widget shows the survey. */
static void read_trigger(form_reader *r, const yaml_node_t *root)
{
	trigger *t = &r->f->trigger;
	yaml_node_t *n = ydoc_get(r->doc, root, "trigger");
	if (!n)
		return;
	if (r->f->kind != FORM_SURVEY) {
		ydoc_error(r->doc, ydoc_get_key(r->doc, root, "trigger"), "\"trigger\" is only allowed for survey forms");
		return;
	}
	if (!ydoc_expect_mapping(r->doc, n, "trigger"))
		return;
	ydoc_check_keys(r->doc, n, trigger_keys);
	yaml_node_t *ev = ydoc_require(r->doc, n, "event");
	int event;
	if (ev && ydoc_read_enum(r->doc, ev, "event", event_names, &event) == 0)
		t->event = (trigger_event)(TRIGGER_EXIT_INTENT + event);
	ydoc_get_int(r->doc, n, "delay_seconds", 0, INT_MAX, &t->delay_seconds);
	ydoc_get_int(r->doc, n, "scroll_percent", 1, 100, &t->scroll_percent);
	ydoc_get_int(r->doc, n, "sample_percent", 0, 100, &t->sample_percent);
	ydoc_get_int(r->doc, n, "recontact_days", 0, INT_MAX, &t->recontact_days);
	yaml_node_t *pages = ydoc_get(r->doc, n, "pages");
	if (pages && ydoc_expect_mapping(r->doc, pages, "pages")) {
		ydoc_check_keys(r->doc, pages, pages_keys);
		read_globs(r, pages, "include", &t->include, &t->n_include);
		read_globs(r, pages, "exclude", &t->exclude, &t->n_exclude);
	}
	form_read_targeting(r->doc, n, r->f);
}

/* ---- form ----------------------------------------------------------------------------------- */

/* The form id: `id:` when given, else the file stem; remembers where it came from. */
static void read_form_id(form_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_get(r->doc, root, "id");
	if (n) {
		r->id_line = ydoc_line(n);
		r->id_col = ydoc_col(n);
		if (ydoc_read_string(r->doc, n, "id", &r->f->id) == 0 && !is_form_id(r->f->id))
			ydoc_invalid(r->doc, n, "id", "a form id must match " FORM_ID_RULE);
		return;
	}
	r->f->id = path_stem(r->f->path);
	if (!is_form_id(r->f->id)) {
		char *shown = ydoc_show(r->f->id, strlen(r->f->id));
		ydoc_error(r->doc, root, "invalid form id \"%s\" taken from the file name, it must match " FORM_ID_RULE
		                         "; rename the file or set \"id:\"", shown);
		free(shown);
	}
}

/* Replaces every "{within_minutes}" in *text by minutes (text may be NULL). */
static void put_minutes(char **text, int minutes)
{
	static const char mark[] = "{within_minutes}";
	char *at;
	while (*text && (at = strstr(*text, mark))) {
		char *next = xasprintf("%.*s%d%s", (int)(at - *text), *text, minutes, at + sizeof mark - 1);
		free(*text);
		*text = next;
	}
}

/* True when text mentions "{within_minutes}". */
static bool mentions_minutes(const char *text)
{
	return text && strstr(text, "{within_minutes}");
}

/* follow_up: {within_minutes: n}, then "{within_minutes}" in the title, thank-you and question texts
 * is replaced by n (a text that uses it without follow_up is an error). */
static void read_follow_up(form_reader *r, const yaml_node_t *root)
{
	form *f = r->f;
	yaml_node_t *n = ydoc_get(r->doc, root, "follow_up");
	if (n && ydoc_expect_mapping(r->doc, n, "follow_up")) {
		ydoc_check_keys(r->doc, n, follow_up_keys);
		yaml_node_t *m = ydoc_require(r->doc, n, "within_minutes");
		if (m)
			ydoc_read_int(r->doc, m, "within_minutes", 1, 525600, &f->follow_up_minutes);
	}
	bool used = mentions_minutes(f->title) || mentions_minutes(f->thank_you) || mentions_minutes(f->offer_up_front);
	for (size_t i = 0; i < f->n_questions; i++)
		used = used || mentions_minutes(f->questions[i].label) || mentions_minutes(f->questions[i].why) ||
		       mentions_minutes(f->questions[i].hint);
	if (!used)
		return;
	if (f->follow_up_minutes <= 0) {
		if (!n)
			ydoc_error(r->doc, root, "a text uses {within_minutes} but the form has no follow_up: "
			                         "{within_minutes: n}");
		return;
	}
	put_minutes(&f->title, f->follow_up_minutes);
	put_minutes(&f->thank_you, f->follow_up_minutes);
	put_minutes(&f->offer_up_front, f->follow_up_minutes);
	for (size_t i = 0; i < f->n_questions; i++) {
		put_minutes(&f->questions[i].label, f->follow_up_minutes);
		put_minutes(&f->questions[i].why, f->follow_up_minutes);
		put_minutes(&f->questions[i].hint, f->follow_up_minutes);
	}
}

/* follow_up.within_minutes, or one day. */
int form_follow_up_minutes(const form *f)
{
	return f && f->follow_up_minutes > 0 ? f->follow_up_minutes : 1440;
}

/* Reads `confirm: {destination, expires_hours}`: the form must ask an email question. Whether the
 * destination exists and sends email is checked against the config (confirm.c). */
static void read_confirm(form_reader *r, const yaml_node_t *root)
{
	form *f = r->f;
	yaml_node_t *n = ydoc_get(r->doc, root, "confirm");
	if (!n || !ydoc_expect_mapping(r->doc, n, "confirm"))
		return;
	ydoc_check_keys(r->doc, n, confirm_keys);
	yaml_node_t *d = ydoc_require(r->doc, n, "destination");
	if (d && ydoc_read_string(r->doc, d, "destination", &f->confirm_destination) == 0) {
		f->confirm_line = ydoc_line(d);
		f->confirm_col = ydoc_col(d);
	}
	f->confirm_expires_hours = 72;
	ydoc_get_int(r->doc, n, "expires_hours", 1, 8760, &f->confirm_expires_hours);
	bool has_email = false;
	for (size_t i = 0; i < f->n_questions; i++)
		has_email = has_email || f->questions[i].type == Q_EMAIL;
	if (!has_email)
		ydoc_error(r->doc, n, "confirm: needs a question of type email (the address the link is sent to)");
}

/* Reads every key of the form's root mapping. */
static void read_form(form_reader *r, const yaml_node_t *root)
{
	ydoc_check_keys(r->doc, root, form_keys);
	read_form_id(r, root);
	int kind;
	if (ydoc_get_enum(r->doc, root, "kind", form_kind_names, &kind) > 0)
		r->f->kind = (form_kind)kind;
	read_required_text(r, root, "title", &r->f->title);
	yaml_node_t *loc = ydoc_get(r->doc, root, "locale");
	if (loc && ydoc_read_string(r->doc, loc, "locale", &r->f->locale) == 0 && !form_is_locale(r->f->locale))
		ydoc_invalid(r->doc, loc, "locale", "it must be a language tag such as en, sl, nb or pt-BR");
	ydoc_get_bool(r->doc, root, "active", &r->f->active);
	read_optional_text(r, root, "thank_you", &r->f->thank_you);
	read_optional_text(r, root, "offer_up_front", &r->f->offer_up_front);
	if (!r->f->thank_you)
		r->f->thank_you = xstrdup("Thank you!");
	read_questions(r, root);
	read_trigger(r, root);
	read_follow_up(r, root);
	read_confirm(r, root);
	form_read_texts(r->doc, root, r->f);
}

/* Returns a new form holding the defaults, its path set to display_path. */
static form *form_new(const char *display_path)
{
	form *f = xcalloc(1, sizeof *f);
	f->path = xstrdup(display_path);
	f->kind = FORM_SURVEY;
	f->locale = xstrdup("en");
	f->active = true;
	f->thank_you = xstrdup("Thank you!");
	f->trigger.event = TRIGGER_NONE;
	f->trigger.delay_seconds = 15;
	f->trigger.scroll_percent = 50;
	f->trigger.sample_percent = 100;
	f->trigger.recontact_days = 30;
	return f;
}

/* Parses one form; on success returns it and where its id was given (line 1, column 1 for a
 * file-name id). Returns NULL with every problem added to diags. */
static form *form_parse(const char *yaml, size_t len, const char *display_path, diag_list *diags,
                        size_t *id_line, size_t *id_col)
{
	ydoc doc;
	form *f = form_new(display_path);
	form_reader r = { .doc = &doc, .f = f, .id_line = 1, .id_col = 1 };
	if (ydoc_load(&doc, yaml, len, display_path) == 0) {
		yaml_node_t *root = ydoc_root(&doc);
		if (!root || ydoc_is_null(root))
			ydoc_error(&doc, root, "the form is empty; it needs at least \"title\" and \"questions\"");
		else if (!ydoc_is_mapping(root))
			ydoc_error(&doc, root, "a form must be a mapping with \"title\" and \"questions\"");
		else
			read_form(&r, root);
	}
	size_t problems = ydoc_problem_count(&doc);
	ydoc_flush(&doc, diags);
	ydoc_free(&doc);
	if (problems > 0) {
		form_free(f);
		return NULL;
	}
	f->public_json = form_public_json(f);
	*id_line = r.id_line;
	*id_col = r.id_col;
	return f;
}

/* Reads a form from YAML text; a new form, or NULL with every problem in diags. */
form *form_load_string(const char *yaml, size_t len, const char *display_path, diag_list *diags)
{
	size_t line, col;
	return form_parse(yaml, len, display_path, diags, &line, &col);
}

/* Loads one file, also returning where its id was given. */
static form *form_parse_file(const char *path, diag_list *diags, size_t *id_line, size_t *id_col)
{
	size_t len = 0;
	char *text = read_whole_file(path, &len);
	if (!text) {
		diag_add(diags, path, 0, 0, "cannot read the form: %s", strerror(errno));
		return NULL;
	}
	form *f = form_parse(text, len, path, diags, id_line, id_col);
	free(text);
	return f;
}

/* Reads a form file; a new form, or NULL with every problem in diags. */
form *form_load_file(const char *path, diag_list *diags)
{
	size_t line, col;
	return form_parse_file(path, diags, &line, &col);
}

/* Frees a form and everything it owns; NULL is fine. */
void form_free(form *f)
{
	if (!f)
		return;
	free(f->id);
	free(f->path);
	free(f->title);
	free(f->locale);
	for (size_t i = 0; i < f->n_questions; i++) {
		question *q = &f->questions[i];
		free(q->id);
		free(q->label);
		ydoc_strings_free(q->options, q->n_options);
		free(q->why);
		free(q->hint);
		free(q->default_country);
		for (size_t j = 0; j < q->n_next; j++) {
			json_decref(q->next[j].value);
			free(q->next[j].goto_id);
		}
		free(q->next);
	}
	free(f->questions);
	ydoc_strings_free(f->trigger.include, f->trigger.n_include);
	ydoc_strings_free(f->trigger.exclude, f->trigger.n_exclude);
	free(f->thank_you);
	free(f->offer_up_front);
	free(f->confirm_destination);
	json_decref(f->public_json);
	json_decref(f->trigger.audience);
	json_decref(f->locales);
	json_decref(f->variants);
	free(f);
}

/* ---- registry ------------------------------------------------------------------------------- */

/* qsort comparator of C strings. */
static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* qsort / bsearch comparator of forms by id. */
static int form_ptr_cmp(const void *a, const void *b)
{
	return strcmp((*(form *const *)a)->id, (*(form *const *)b)->id);
}

/* True for a regular file name ending in .yaml or .yml that is not hidden. */
static bool is_form_file(const char *dir, const char *name)
{
	if (name[0] == '.' || !(str_ends_with(name, ".yaml") || str_ends_with(name, ".yml")))
		return false;
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	bool ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return ok;
}

/* Lists the form files of dir sorted by name; returns a malloc'd array of malloc'd names, or NULL
 * (with errno) when dir cannot be read. */
static char **list_form_files(const char *dir, size_t *count)
{
	DIR *dh = opendir(dir);
	if (!dh)
		return NULL;
	size_t n = 0, cap = 16;
	char **names = xmalloc(cap * sizeof *names);
	struct dirent *e;
	while ((e = readdir(dh)) != NULL) {
		if (!is_form_file(dir, e->d_name))
			continue;
		if (n == cap) {
			cap *= 2;
			names = xrealloc(names, cap * sizeof *names);
		}
		names[n++] = xstrdup(e->d_name);
	}
	closedir(dh);
	qsort(names, n, sizeof *names, str_ptr_cmp);
	*count = n;
	return names;
}

/* Frees a registry and every form in it. */
static void registry_destroy(form_registry *reg)
{
	if (reg->cache && reg->cache_free)
		reg->cache_free(reg->cache);
	for (size_t i = 0; i < reg->n; i++)
		form_free(reg->forms[i]);
	free(reg->forms);
	free(reg);
}

/* Adds f to reg unless its id is taken, in which case the problem is reported and f freed. */
static void registry_add(form_registry *reg, form *f, size_t line, size_t col, diag_list *diags)
{
	for (size_t i = 0; i < reg->n; i++) {
		if (strcmp(reg->forms[i]->id, f->id) == 0) {
			diag_add(diags, f->path, line, col, "duplicate form id \"%s\", already used by %s", f->id,
			         reg->forms[i]->path);
			form_free(f);
			return;
		}
	}
	reg->forms[reg->n++] = f;
}

/* Loads every form file of dir into a new registry (one reference), or NULL with problems in diags. */
form_registry *form_registry_load_dir(const char *dir, diag_list *diags)
{
	size_t count = 0, before = diags->n;
	char **names = list_form_files(dir, &count);
	if (!names) {
		diag_add(diags, dir, 0, 0, "cannot read the forms directory: %s", strerror(errno));
		return NULL;
	}
	form_registry *reg = xcalloc(1, sizeof *reg);
	reg->forms = xcalloc(count ? count : 1, sizeof *reg->forms);
	reg->refs = 1;
	size_t dl = strlen(dir);
	for (size_t i = 0; i < count; i++) {
		char *path = xasprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", names[i]);
		size_t line = 1, col = 1;
		form *f = form_parse_file(path, diags, &line, &col);
		if (f)
			registry_add(reg, f, line, col, diags);
		free(path);
	}
	ydoc_strings_free(names, count);
	if (diags->n > before) {
		registry_destroy(reg);
		return NULL;
	}
	qsort(reg->forms, reg->n, sizeof *reg->forms, form_ptr_cmp);
	return reg;
}

/* Finds a form by id with a binary search (borrowed), or NULL. */
const form *form_registry_find(const form_registry *reg, const char *id)
{
	if (!reg || !id || reg->n == 0)
		return NULL;
	form key = { .id = (char *)id };
	const form *kp = &key;
	form **hit = bsearch(&kp, reg->forms, reg->n, sizeof *reg->forms, form_ptr_cmp);
	return hit ? *hit : NULL;
}

/* Takes one more reference; returns reg. */
form_registry *form_registry_ref(form_registry *reg)
{
	if (reg)
		__atomic_add_fetch(&reg->refs, 1, __ATOMIC_RELAXED);
	return reg;
}

/* Drops one reference, freeing the registry and its forms with the last. */
void form_registry_unref(form_registry *reg)
{
	if (reg && __atomic_sub_fetch(&reg->refs, 1, __ATOMIC_ACQ_REL) == 0)
		registry_destroy(reg);
}

/* ---- page matching -------------------------------------------------------------------------- */

/* Copies the path part of a URL or path into a malloc'd string: scheme and host dropped, query and
 * fragment cut, "/" when nothing is left. */
static char *url_path(const char *url)
{
	const char *p = url;
	const char *scheme = strstr(url, "://");
	if (scheme && scheme < url + strcspn(url, "/?#")) {
		p = scheme + 3;
		p += strcspn(p, "/?#");
	}
	size_t len = strcspn(p, "?#");
	if (len == 0)
		return xstrdup("/");
	return xstrndup(p, len);
}

/* True when text matches one of the globs. */
static bool any_glob(char *const *globs, size_t n, const char *text)
{
	for (size_t i = 0; i < n; i++)
		if (glob_match(globs[i], text))
			return true;
	return false;
}

/* True when f is an active survey whose page rules accept the path of the URL or path given. */
bool form_matches_page(const form *f, const char *path)
{
	if (!f->active || f->kind != FORM_SURVEY || !path)
		return false;
	char *p = url_path(path);
	const trigger *t = &f->trigger;
	bool match = (t->n_include == 0 || any_glob(t->include, t->n_include, p)) &&
	             !any_glob(t->exclude, t->n_exclude, p);
	free(p);
	return match;
}
