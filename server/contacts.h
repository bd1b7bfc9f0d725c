/* contacts: one person recognised across forms. Every email and phone answer is reduced to an
 * identity key — an email address lower-cased as a whole (config.md: compared case-insensitively),
 * a phone number in E.164 — and each key belongs to one contact record. An answer is linked to the
 * contacts of its keys inside the transaction that stores it, together with the offers plugins
 * attached to it (read back by the hosted thank-you page). Erasure by contact starts here.
 *
 * The rows behind them are the store_contact_* and store_offer* operations of storage.h. */
#ifndef EARSHOT_CONTACTS_H
#define EARSHOT_CONTACTS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "storage.h"
#include "writer.h"

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

#endif
