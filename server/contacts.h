/* contacts: one person recognised across forms. Every email and phone answer is reduced to an
 * identity key — an email address lower-cased as a whole (config.md: compared case-insensitively),
 * a phone number in E.164 — and each key belongs to one contact record. An answer is linked to the
 * contacts of its keys inside the transaction that stores it, together with the offers plugins
 * attached to it (read back by the hosted thank-you page). Erasure by contact starts here.
 *
 * The SQL lives in store_contacts.c (declared at the end of this header), next to store.c. */
#ifndef EARSHOT_CONTACTS_H
#define EARSHOT_CONTACTS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "store.h"
#include "writer.h"

typedef enum { CONTACT_EMAIL = 0, CONTACT_PHONE = 1 } contact_kind;

/* "email" or "phone". */
const char *contact_kind_name(contact_kind kind);

/* The identity key of an email address: the whole address, ASCII lower-cased, surrounding white
 * space dropped. Returns a malloc'd string (caller frees), or NULL when it is not a valid address. */
char *contact_email_key(const char *email);

/* Reads a contact as a person would type it (an email address, or a phone number with its
 * country code) into its kind and identity key (*key malloc'd, caller frees). Returns 0, or -1 with
 * *why (a static sentence). */
int contact_identity_parse(const char *text, contact_kind *kind, char **key, const char **why);

/* Links the answer of job (already inserted, id job->id) to the contacts of its email and phone
 * answers — creating contacts and keys that are new — and stores job->offers. Runs on the writer
 * thread inside the answer's savepoint. When an answer carries keys already known to different
 * contacts it is linked to each (they are never merged silently). Returns 0, or -1 with *err. */
int contacts_link_answer(store *st, const writer_job *job, char **err);

/* ---- store_contacts.c: the SQL behind contacts, offers and used timing tokens ------------------ */

/* The contact holding key: 1 with *id, 0 when unknown, -1 with *err. */
int store_contact_find(store *st, contact_kind kind, const char *key, int64_t *id, char **err);
/* Creates an empty contact: 0 with *id, or -1 with *err. */
int store_contact_create(store *st, int64_t created_ms, int64_t *id, char **err);
/* Gives contact id the identity key (which must not belong to anyone yet). 0 or -1 with *err. */
int store_contact_add_key(store *st, int64_t id, contact_kind kind, const char *key, char **err);
/* Links response_id to contact id (a repeated link is ignored). 0 or -1 with *err. */
int store_contact_link(store *st, const char *response_id, int64_t contact_id, char **err);
/* Number of responses linked to contact id into *n. 0 or -1 with *err. */
int store_contact_response_count(store *st, int64_t contact_id, int64_t *n, char **err);

/* Stores offer number seq of a response. code may be NULL. 0 or -1 with *err. */
int store_offer_insert(store *st, const char *response_id, const char *form_id, int seq, const char *text,
                       const char *code, char **err);
/* The offers of response_id when it belongs to form_id: *offers is a new array of {"text","code"?}
 * (caller owns; empty for an unknown response). 0 or -1 with *err. */
int store_offers_for_response(store *st, const char *response_id, const char *form_id, json_t **offers,
                              char **err);

/* Records a timing token's nonce as used until expires_ms, and deletes a few entries that expired
 * before now_ms. Returns 0 when new, 1 when already recorded (nothing written), -1 with *err. */
int store_token_use(store *st, const char *nonce, int64_t expires_ms, int64_t now_ms, char **err);

#endif
