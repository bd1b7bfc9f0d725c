/* notice: what an email or chat message says about one routed answer — the form's title, each
 * answer with its question's label, the contact, the due time and a link to the item in /admin.
 *
 * The notice is built once, on the writer thread inside the answer's transaction (where the form is
 * known), and stored in the delivery's document under "notice":
 *   {"kind":"complaint"|"reminder","form","title","answers":[{"id","label","value"}],
 *    "contact":{"email"?,"phone"?},"priority","item","due_at","within_minutes","link"}
 * so every retry sends the same words. The renderers below read only that object. */
#ifndef EARSHOT_NOTICE_H
#define EARSHOT_NOTICE_H

#include <stdint.h>
#include <jansson.h>

#include "writer.h"

/* The notice of a routed answer: job's form and answers; item_id/due_ms of its inbox item (item_id
 * may be NULL); priority from the plugin's extra (may be NULL). A new object (caller owns). */
json_t *notice_build(const writer_job *job, const char *public_url, const char *item_id, int64_t due_ms,
                     int within_minutes, const char *priority);
/* A notice made from a delivery document that carries none (any plugin's delivery to an email or
 * chat destination): the form id as title, the raw answers. A new object (caller owns). */
json_t *notice_from_document(const json_t *doc);

/* The contact's display text and link ("tel:+386…", "mailto:…"), the phone first. Returns 1 with
 * *text and *href borrowed from notice, 0 when it has no contact. */
int notice_contact(const json_t *notice, const char **text, const char **href, const char **kind);
/* "2026-12-02 14:05 UTC" for an ISO-8601 due_at; buf of 32 bytes. Empty when absent. */
void notice_due_text(const json_t *notice, char buf[32]);

/* One-line subject, e.g. "Request a call back: +38612345678 — answer by 14:05 UTC". Malloc'd. */
char *notice_subject(const json_t *notice);
/* The plain-text body (LF line ends). Malloc'd. */
char *notice_text(const json_t *notice);
/* A small HTML body with every value escaped. Malloc'd. */
char *notice_html(const json_t *notice);

#endif
