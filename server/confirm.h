/* confirm: confirmed signups (double opt-in). A form with `confirm: {destination: NAME}` stores each
 * answer that gives an email address at once, marked unconfirmed, and queues (in the answer's
 * transaction, through the durable outbox) an email to that address with a signed one-time link,
 * GET /f/{form}/confirm?t=<token>. Opening it marks the answer confirmed, lets the plugins that
 * asked to wait for the confirmation (host function response_confirmed) run once more, and shows the
 * confirmation page with the offers they made.
 *
 * Tokens: "c1.<response id>.<expires ms>.<mac>", the MAC an HMAC-SHA256 over the form, the answer and
 * the expiry, keyed with a key derived from the server's secret (as spam.c's timing tokens). A token
 * works once: the pending confirmation row it points at is deleted when it is used (and with its
 * answer, by erasure or the retention purge). */
#ifndef EARSHOT_CONFIRM_H
#define EARSHOT_CONFIRM_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"
#include "form.h"
#include "storage.h"
#include "writer.h"

/* Sets what the writer thread needs to write confirmation emails: the config (its destinations and
 * public_url, borrowed for the server's life) and the server's secret (copied). Call once at start. */
void confirm_configure(const earshot_config *cfg, const char *secret);

/* Adds a `file:line:col: message` to diags for every form whose confirm.destination is not a
 * destination of cfg or not of type email. Returns the number of problems added. */
size_t confirm_check_forms(const form_registry *forms, const earshot_config *cfg, diag_list *diags);

/* True when job's answer will wait for a confirmation: its form sets confirm: and one of its email
 * questions is answered. */
bool confirm_wanted(const writer_job *job);
/* The address the link goes to: the first answered email question of job (borrowed), or NULL. */
const char *confirm_address(const writer_job *job);

/* A token for response_id of form_id valid until expires_ms; malloc'd. */
char *confirm_token_issue(const char *form_id, const char *response_id, int64_t expires_ms);
/* Checks a token's shape and signature for form_id. Returns 0 with response_id (48 bytes) and
 * *expires_ms, or -1 for a malformed or forged token. */
int confirm_token_check(const char *token, const char *form_id, char response_id[48], int64_t *expires_ms);

/* On the writer thread, inside the new answer's savepoint, after its row is stored: records the
 * pending confirmation (with job->confirm_plugins) and queues the email. 0, or -1 with *err. */
int confirm_on_store(store *st, writer_job *job, char **err);

/* Outcomes of confirm_apply. */
enum { CONFIRM_OK = 0, CONFIRM_UNKNOWN = 1, CONFIRM_USED = 2, CONFIRM_EXPIRED = 3 };
/* On the writer thread, inside the batch's transaction: confirms job->confirming (an answer of
 * job->form). Loads its answers into job, marks it confirmed, deletes the pending row and fills
 * *plugins (a new array, caller owns) with the plugins waiting for it. Returns a CONFIRM_* value, or
 * -1 with *err. */
int confirm_apply(store *st, writer_job *job, json_t **plugins, char **err);

/* Stores job->offers after the offers the answer already has (the confirmation pass). 0, or -1 with
 * *err. */
int confirm_store_offers(store *st, const writer_job *job, char **err);

#endif
