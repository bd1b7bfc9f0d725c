/* form_internal: the readers of form.c's optional keys that live in their own files. Each reports
 * problems on doc (file:line:col) and fills f; only form.c and its helpers include this. */
#ifndef EARSHOT_FORM_INTERNAL_H
#define EARSHOT_FORM_INTERNAL_H

#include "form.h"
#include "yaml_doc.h"

/* trigger.schedule, trigger.max_responses and trigger.audience of the trigger mapping t (form_target.c). */
void form_read_targeting(ydoc *doc, const yaml_node_t *t, form *f);
/* locales: and variants: of the root mapping, checked against f's questions (form_text.c). */
void form_read_texts(ydoc *doc, const yaml_node_t *root, form *f);
/* True for a language tag [a-z]{2,3}(-[A-Za-z0-9]+)? (form.c). */
bool form_is_locale(const char *s);

/* Adds "locales" and "variants" to the widget's view o of f (form_text.c). */
void form_json_add_texts(json_t *o, const form *f);

#endif
