/* form_json: the names of question types and form kinds, and the widget's JSON view of a form,
 * built once when the form is loaded (form.c calls in; nothing here calls form.c). */
#include <math.h>

#include "form.h"
#include "form_internal.h"
#include "util.h"

/* In question_type order. */
const char *const question_type_names[] = { "text", "long_text", "single_choice", "multi_choice", "nps", "rating",
	"number", "email", "phone", "date", "consent", NULL };
/* In form_kind order. */
const char *const form_kind_names[] = { "survey", "signup", NULL };

/* YAML name of a question type ("unknown" when out of range). */
const char *question_type_name(question_type t)
{
	return (unsigned)t < sizeof question_type_names / sizeof *question_type_names - 1 ? question_type_names[t]
	                                                                                  : "unknown";
}

/* YAML name of a form kind ("unknown" when out of range). */
const char *form_kind_name(form_kind k)
{
	return (unsigned)k < sizeof form_kind_names / sizeof *form_kind_names - 1 ? form_kind_names[k] : "unknown";
}

/* In trigger_event order; TRIGGER_NONE is shown as "manual" (the survey is shown only on request). */
static const char *const event_names[] = { "manual", "exit_intent", "delay", "scroll", "page_view", "manual" };

/* Name of a branch operator as written in YAML. */
static const char *op_name(branch_op op)
{
	switch (op) {
	case COND_EQUALS: return "equals";
	case COND_IN: return "in";
	case COND_LTE: return "lte";
	case COND_GTE: return "gte";
	case COND_ANSWERED: return "answered";
	case COND_ALWAYS: break;
	}
	return NULL;
}

/* Returns a new JSON number: an integer when d is whole, else a real. */
static json_t *number(double d)
{
	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		return json_integer((json_int_t)d);
	return json_real(d);
}

/* Returns a new JSON array of the strings. */
static json_t *string_array(char *const *v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(v[i]));
	return arr;
}

/* Returns a new JSON array of a question's branch rules. */
static json_t *next_json(const question *q)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < q->n_next; i++) {
		const branch_rule *rule = &q->next[i];
		json_t *entry = json_object();
		const char *op = op_name(rule->op);
		if (op) {
			json_t *value = rule->op == COND_ANSWERED ? json_true()
			                : rule->value ? json_incref(rule->value) : json_null();
			json_object_set_new(entry, "if", json_pack("{s:o}", op, value));
		}
		json_object_set_new(entry, "goto", json_string(rule->goto_id));
		json_array_append_new(arr, entry);
	}
	return arr;
}

/* Returns a new JSON object for one question, with only the keys that apply to its type. */
static json_t *question_json(const question *q)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "id", q->id, "type", question_type_name(q->type),
	                      "label", q->label, "required", q->required);
	if (q->type == Q_SINGLE_CHOICE || q->type == Q_MULTI_CHOICE)
		json_object_set_new(o, "options", string_array(q->options, q->n_options));
	if (q->type == Q_RATING)
		json_object_set_new(o, "scale", json_integer(q->scale));
	if (q->type == Q_TEXT || q->type == Q_LONG_TEXT)
		json_object_set_new(o, "max_length", json_integer((json_int_t)q->max_length));
	if (q->type == Q_NUMBER && q->has_min)
		json_object_set_new(o, "min", number(q->min));
	if (q->type == Q_NUMBER && q->has_max)
		json_object_set_new(o, "max", number(q->max));
	if (q->why)
		json_object_set_new(o, "why", json_string(q->why));
	if (q->hint)
		json_object_set_new(o, "hint", json_string(q->hint));
	if (q->n_next > 0)
		json_object_set_new(o, "next", next_json(q));
	return o;
}

/* Returns a new JSON object for the trigger ({"event":"manual",...} when the form has none). */
static json_t *trigger_json(const trigger *t)
{
	unsigned ev = (unsigned)t->event < sizeof event_names / sizeof *event_names ? (unsigned)t->event : 0;
	json_t *pages = json_pack("{s:o, s:o}", "include", string_array(t->include, t->n_include),
	                          "exclude", string_array(t->exclude, t->n_exclude));
	json_t *o = json_pack("{s:s, s:i, s:i, s:o, s:i, s:i}", "event", event_names[ev],
	                      "delay_seconds", t->delay_seconds, "scroll_percent", t->scroll_percent, "pages", pages,
	                      "sample_percent", t->sample_percent, "recontact_days", t->recontact_days);
	if (t->audience)
		json_object_set(o, "audience", t->audience);
	return o;
}

/* Builds the widget's view of f (new reference). */
static json_t *build_public_json(const form *f)
{
	json_t *questions = json_array();
	for (size_t i = 0; i < f->n_questions; i++)
		json_array_append_new(questions, question_json(&f->questions[i]));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", f->id, "title", f->title, "locale", f->locale,
	                      "thank_you", f->thank_you, "questions", questions, "trigger", trigger_json(&f->trigger));
	if (f->offer_up_front)
		json_object_set_new(o, "offer", json_string(f->offer_up_front));
	form_json_add_texts(o, f);
	return o;
}

/* Returns the view stored in f->public_json (borrowed). The form loader stores it by calling this
 * once while f->public_json is still NULL, which builds the view and hands over that new reference. */
json_t *form_public_json(const form *f)
{
	if (f->public_json)
		return f->public_json;
	return build_public_json(f);
}
