/* store_erase: erasure by contact (erase.h) — the SQL that deletes a contact's answers and everything
 * tied to them in one transaction, and the wrapper the route and the CLI share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "erase.h"
#include "store_internal.h"
#include "util.h"

/* The answers linked to contact ?1; every statement below selects through it, so the links must go
 * last (deleting a response cascades to its links). */
#define LINKED "(SELECT response_id FROM response_contacts WHERE contact_id = ?1)"

/* The statements of one erasure, in order. Offers are deleted explicitly (not left to ON DELETE
 * CASCADE) so they can be counted. */
typedef struct erase_step {
	const char *op;
	const char *sql;
} erase_step;

static const erase_step erase_steps[] = {
	{ "erase offers", "DELETE FROM offers WHERE response_id IN " LINKED },
	{ "erase deliveries", "DELETE FROM outbox WHERE response_id IN " LINKED },
	{ "erase inbox items", "DELETE FROM inbox WHERE response_id IN " LINKED },
	{ "erase idempotency replies", "DELETE FROM idempotency WHERE response_id IN " LINKED },
	{ "erase answers", "DELETE FROM responses WHERE id IN " LINKED },
	{ "erase contact", "DELETE FROM contacts WHERE id = ?1" },
};

/* Runs one step for contact id; *changed gets the rows it deleted. 0, or -1 with *err. */
static int run_step(store *st, const erase_step *step, int64_t id, int64_t *changed, char **err)
{
	sqlite3_stmt *s = store_prepare(st, step->sql, step->op, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (store_run_once(st, s, step->op, err) != 0)
		return -1;
	*changed = sqlite3_changes(store_sqlite(st));
	return 0;
}

/* Finds the contact of (kind, key) and runs every step for it, inside the caller's transaction.
 * 0 (counts in *out, zero for an unknown contact), or -1 with *err. */
static int erase_in_transaction(store *st, contact_kind kind, const char *key, erase_counts *out, char **err)
{
	int64_t id = 0;
	int found = store_contact_find(st, kind, key, &id, err);
	if (found <= 0)
		return found;
	/* Where each step's count goes, in the order of erase_steps (NULL: not reported). */
	int64_t *counters[] = { &out->offers, &out->deliveries, &out->inbox, NULL, &out->responses, NULL };
	_Static_assert(sizeof counters / sizeof counters[0] == sizeof erase_steps / sizeof erase_steps[0],
	               "one counter per step");
	for (size_t i = 0; i < sizeof erase_steps / sizeof erase_steps[0]; i++) {
		int64_t changed = 0;
		if (run_step(st, &erase_steps[i], id, &changed, err) != 0)
			return -1;
		if (counters[i])
			*counters[i] += changed;
	}
	return 0;
}

/* Erases the contact of (kind, key) in a transaction of its own, then checkpoints the WAL (a
 * checkpoint that cannot finish now is left to the server's next one). 0 with *out, or -1 with *err
 * and nothing erased. */
int store_erase_contact(store *st, contact_kind kind, const char *key, erase_counts *out, char **err)
{
	memset(out, 0, sizeof *out);
	if (store_begin(st, err) != 0)
		return -1;
	if (erase_in_transaction(st, kind, key, out, err) != 0 || store_commit(st, err) != 0) {
		store_rollback(st);
		memset(out, 0, sizeof *out);
		return -1;
	}
	if (out->responses > 0 || out->deliveries > 0)
		store_checkpoint(st, NULL);
	return 0;
}

/* Parses contact, opens a write connection to db_path and erases. 0 with *out, 1 with *why for a
 * value that is no contact, -1 with *err. */
int erase_contact(const char *db_path, durability_mode durability, const char *contact, erase_counts *out,
                  const char **why, char **err)
{
	contact_kind kind;
	char *key = NULL;
	memset(out, 0, sizeof *out);
	if (contact_identity_parse(contact, &kind, &key, why) != 0) {
		free(key);
		return 1;
	}
	store *st = NULL;
	int rc = -1;
	if (store_open(db_path, durability, false, &st, err) == 0) {
		rc = store_erase_contact(st, kind, key, out, err);
		store_close(st);
	}
	free(key);
	return rc;
}

/* The reply body of an erasure: a new object (caller owns). */
json_t *erase_counts_to_json(const erase_counts *counts)
{
	return json_pack("{s:{s:I, s:I, s:I, s:I}}", "deleted", "responses", (json_int_t)counts->responses, "offers",
	                 (json_int_t)counts->offers, "deliveries", (json_int_t)counts->deliveries, "inbox",
	                 (json_int_t)counts->inbox);
}
