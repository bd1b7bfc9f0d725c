/* form: a form or survey read from forms/<id>.yaml, and the registry of all forms in service.
 * Forms are immutable once loaded; a registry is reference-counted so that a reload (SIGHUP) can swap
 * in a new one while requests and the writer thread still hold the old. */
#ifndef EARSHOT_FORM_H
#define EARSHOT_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "diag.h"

typedef enum {
	Q_TEXT, Q_LONG_TEXT, Q_SINGLE_CHOICE, Q_MULTI_CHOICE, Q_NPS, Q_RATING, Q_NUMBER,
	Q_EMAIL, Q_PHONE, Q_DATE, Q_CONSENT
} question_type;

typedef enum { FORM_SURVEY, FORM_SIGNUP } form_kind;

typedef enum { COND_ALWAYS, COND_EQUALS, COND_IN, COND_LTE, COND_GTE, COND_ANSWERED } branch_op;

/* One entry of a question's `next:` list: when `op` holds, go to `goto_id` ("end" ends the form). */
typedef struct branch_rule {
	branch_op op;
	json_t *value;   /* owned; equals: string/number/bool; in: array; lte/gte: number; else NULL */
	char *goto_id;   /* owned; a question id of the same form, or "end" */
} branch_rule;

typedef struct question {
	char *id;                /* owned; [a-z][a-z0-9_]{0,63} */
	question_type type;
	char *label;             /* owned */
	bool required;
	char **options;          /* owned; single_choice / multi_choice only */
	size_t n_options;
	int scale;               /* rating: 1..scale (default 5) */
	size_t max_length;       /* text, long_text: characters (default 2000) */
	bool has_min, has_max;   /* number: optional bounds */
	double min, max;
	char *why;               /* owned, may be NULL: why we ask, shown beside the field */
	char *hint;              /* owned, may be NULL: example / placeholder */
	char *default_country;   /* owned, may be NULL: phone: calling code digits such as "386" */
	char **option_labels;    /* NULL in a loaded form; in a view (form_view_new) the shown text of each
	                          * option, borrowed, while options stay the stored values */
	branch_rule *next;       /* owned array */
	size_t n_next;
} question;

typedef enum { TRIGGER_NONE, TRIGGER_EXIT_INTENT, TRIGGER_DELAY, TRIGGER_SCROLL, TRIGGER_PAGE_VIEW,
	TRIGGER_MANUAL } trigger_event;

typedef struct trigger {
	trigger_event event;     /* TRIGGER_NONE when the form has no trigger: (manual only) */
	int delay_seconds;       /* default 15 */
	int scroll_percent;      /* default 50 */
	char **include;          /* owned globs on the URL path; empty = every page */
	size_t n_include;
	char **exclude;          /* owned globs; exclude wins over include */
	size_t n_exclude;
	int sample_percent;      /* 0..100, default 100 */
	int recontact_days;      /* default 30 */
	bool has_from, has_until;
	int64_t from_ms, until_ms; /* schedule: served while from_ms <= now < until_ms (UTC) */
	int max_responses;       /* 0 = no limit; else not served once this many answers are stored */
	json_t *audience;        /* owned, may be NULL: the normalised trigger.audience (form_target.c) */
} trigger;

typedef struct form {
	char *id;                /* owned; [a-z0-9][a-z0-9-]{0,63} */
	char *path;              /* owned; the file it came from */
	form_kind kind;
	char *title;             /* owned */
	char *locale;            /* owned; default "en" */
	bool active;             /* default true */
	question *questions;     /* owned array, in file order */
	size_t n_questions;
	trigger trigger;
	char *thank_you;         /* owned; default "Thank you!" */
	int follow_up_minutes;   /* follow_up.within_minutes: the inbox clock; 0 when absent */
	char *offer_up_front;    /* owned, may be NULL: the offer shown before the visitor types */
	json_t *public_json;     /* owned; the widget's view of this form (see form_public_json) */
	json_t *locales;         /* owned, may be NULL: language tag -> text overrides (form_text.c) */
	json_t *variants;        /* owned, may be NULL: array of {"id","weight",text overrides...} */
	bool is_view;            /* a view made by form_view_new: its strings are borrowed */
	char *confirm_destination; /* owned, may be NULL: confirm.destination, the email destination that
	                            * sends the visitor the link confirming a signup */
	int confirm_expires_hours; /* confirm.expires_hours: how long the link works (default 72) */
	size_t confirm_line, confirm_col; /* where confirm.destination is written, for earshot check */
} form;

typedef struct form_registry {
	form **forms;            /* owned array of owned forms, sorted by id */
	size_t n;
	int refs;                /* atomic reference count; starts at 1 */
	/* What the event loop derives from this form set and keeps as long as it lives (the serialized
	 * surveys bodies, surveys_cache.h); freed with the registry by cache_free. Loop thread only. */
	void *cache;
	void (*cache_free)(void *cache);
} form_registry;

/* Reads and validates one form file. On success returns a new form (caller frees with form_free).
 * Every problem is added to diags as "path:line:col: message"; returns NULL when there was any. */
form *form_load_file(const char *path, diag_list *diags);
/* Same, from a YAML text; display_path is used in messages and as form->path, and its stem is the
 * default id. */
form *form_load_string(const char *yaml, size_t len, const char *display_path, diag_list *diags);
void form_free(form *f);

/* Loads every *.yaml / *.yml file of dir (sorted by name). Duplicate ids are an error.
 * Returns a registry holding one reference (caller releases it), or NULL with problems in diags. */
form_registry *form_registry_load_dir(const char *dir, diag_list *diags);
/* Finds a form by id; NULL when unknown. The pointer lives as long as the registry. */
const form *form_registry_find(const form_registry *reg, const char *id);
/* Reference counting (thread-safe). */
form_registry *form_registry_ref(form_registry *reg);
void form_registry_unref(form_registry *reg);

/* The inbox clock of the form's follow-up items: follow_up.within_minutes, else 1440 (one day). */
int form_follow_up_minutes(const form *f);

/* Index of question id in f, or -1. */
int form_question_index(const form *f, const char *id);
/* Name of a question type as written in YAML ("single_choice"), and of a kind ("survey"). */
const char *question_type_name(question_type t);
const char *form_kind_name(form_kind k);
/* The names of question types and form kinds as written in form files, in enum order, NULL-ended
 * (defined in form_json.c with the names' other uses, so that form.c depends on form_json.c and
 * never the other way round). */
extern const char *const question_type_names[];
extern const char *const form_kind_names[];

/* The widget's view of a form (borrowed, lives with the form):
 * {"id","title","locale","thank_you","offer"? (offer_up_front),"questions":[{"id","type","label","required",
 *   "options"?, "scale"?, "max_length"?, "min"?, "max"?, "why"?, "hint"?,
 *   "next"?:[{"if":{"equals":..}|{"in":[..]}|{"lte":n}|{"gte":n}|{"answered":true},"goto":"id"|"end"} or {"goto":..}]}],
 *  "trigger": {"event","delay_seconds","scroll_percent","pages":{"include":[],"exclude":[]},
 *              "sample_percent","recontact_days"}}   ("trigger" is {"event":"manual",...} when absent) */
json_t *form_public_json(const form *f);

/* True when the form is an active survey whose trigger page rules match the URL path. */
bool form_matches_page(const form *f, const char *path);

/* Why a survey is not served now: FORM_OPEN, or before its schedule, after it. */
typedef enum { FORM_OPEN, FORM_NOT_STARTED, FORM_ENDED } form_schedule_state;
/* Where now_ms falls in f's trigger.schedule. */
form_schedule_state form_schedule_at(const form *f, int64_t now_ms);

/* A view of f in language lang (may be NULL: the form's own text) and wording variant variant_id (may
 * be NULL): a new form whose texts are borrowed from f, with f's translation or variant applied; ids,
 * options as stored values and rules are f's own. Free with form_view_free; it must not outlive f. */
form *form_view_new(const form *f, const char *lang, const char *variant_id);
void form_view_free(form *view);
/* The thank-you text for an answer given in lang with variant variant_id (either may be NULL):
 * the translation's, else the variant's, else the form's own (borrowed). */
const char *form_thank_you(const form *f, const char *lang, const char *variant_id);
/* The variant named id (borrowed object) or NULL. */
const json_t *form_variant(const form *f, const char *id);
/* Picks a variant id by weight with r uniform in [0,1) (borrowed), or NULL when f has none. */
const char *form_variant_pick(const form *f, double r);

#endif
