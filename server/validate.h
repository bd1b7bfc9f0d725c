/* validate: the server-side rules for every question type (shared spec config.md, "Type rules").
 * The JSON route, the hosted form page and the widget's client-side checks all follow these. */
#ifndef EARSHOT_VALIDATE_H
#define EARSHOT_VALIDATE_H

#include <stdbool.h>
#include <jansson.h>

#include "form.h"

/* Checks the "answers" object of one submission against form f.
 * answers is borrowed. On return *normalised is a new object (caller owns) with only the answered
 * questions, each normalised (email domain lower-cased, phone E.164, multi_choice an array of options,
 * text as given). Every problem is set in problems (borrowed object): question id -> sentence, for each
 * bad value, each missing required answer and each unknown question id.
 * Returns 0 when valid, -1 when problems holds at least one entry. */
int validate_answers(const form *f, json_t *answers, json_t **normalised, json_t *problems);

/* Checks one value for question q. Returns NULL when valid and sets *normalised (new reference,
 * caller owns); otherwise returns a static sentence such as "must look like name@example.com". */
const char *validate_value(const question *q, json_t *value, json_t **normalised);

/* Email per RFC 5321 practical syntax, at most 254 bytes. On success returns 0 and *out is a malloc'd
 * copy with the domain lower-cased (caller frees); else -1 and *why a static sentence. */
int validate_email(const char *in, char **out, const char **why);
/* Phone to E.164: "+" and 8-15 digits; spaces, dots, dashes and parentheses are dropped; "00" prefix
 * becomes "+"; a national number (leading 0 or none) takes default_country (digits, may be NULL).
 * On success returns 0 and *out is malloc'd "+38640123456"; else -1 and *why. */
int validate_phone(const char *in, const char *default_country, char **out, const char **why);
/* ISO date YYYY-MM-DD that exists in the calendar (leap years honoured). 0 or -1 with *why. */
int validate_date(const char *in, const char **why);

/* Converts the fields of an urlencoded hosted-form submit (name -> string value, borrowed object) into
 * typed answers for validate_answers (new object, caller owns): nps/rating/number strings become
 * numbers when they parse, consent becomes true when present, multi_choice collects repeated values
 * (passed as a JSON array), empty strings are omitted. */
json_t *validate_answers_from_strings(const form *f, json_t *fields);

#endif
