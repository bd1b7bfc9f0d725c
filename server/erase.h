/* erase: erasure by contact (DELETE /api/v1/contacts/{email-or-phone}, `earshot forget`).
 *
 * A contact is found by one of its identity keys (contacts.h); erasing it deletes, in one
 * transaction, every answer linked to it together with the offers, idempotency replies and outbox
 * deliveries (delivered ones too: their stored documents hold the answers) of those answers, then the
 * contact and all its keys. The connection has secure_delete on, and the WAL is checkpointed after the
 * commit so the erased pages do not linger there. Plugin key-value data is left alone (plugins keep no
 * addresses there, only keyed hashes). An unknown contact erases nothing and is not an error, so
 * callers cannot tell it from a contact with nothing left.
 *
 * Answers are found through the links written with every answer since schema version 3 (every email
 * and phone answer is linked); free text that merely mentions an address is not searched. */
#ifndef EARSHOT_ERASE_H
#define EARSHOT_ERASE_H

#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "contacts.h"
#include "storage.h"

/* Reads contact as a person types it (an email address, or a phone number with its country code),
 * opens a write connection of its own to db_path (SQLite's busy_timeout queues it behind a running
 * server's writer) and erases it. Returns 0 with *out; 1 when contact is neither an email address nor
 * a phone number (*why: a static sentence); -1 with *err (caller frees). */
int erase_contact(const char *db_path, durability_mode durability, const char *contact, erase_counts *out,
                  const char **why, char **err);

/* {"deleted":{"responses":n,"offers":n,"deliveries":n,"inbox":n}}: a new object (caller owns). */
json_t *erase_counts_to_json(const erase_counts *counts);

#endif
