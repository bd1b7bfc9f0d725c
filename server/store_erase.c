/* store_erase: erasure by contact for the SQLite backend (the storage operation store_erase_contact):
 * the SQL that deletes a contact's answers and everything tied to them in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "storage.h"
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
	int found = sqlite_contact_find(st, kind, key, &id, err);
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
int sqlite_erase_contact(store *st, contact_kind kind, const char *key, erase_counts *out, char **err)
{
	memset(out, 0, sizeof *out);
	if (sqlite_begin(st, err) != 0)
		return -1;
	if (erase_in_transaction(st, kind, key, out, err) != 0 || sqlite_commit(st, err) != 0) {
		sqlite_rollback(st);
		memset(out, 0, sizeof *out);
		return -1;
	}
	if (out->responses > 0 || out->deliveries > 0)
		sqlite_checkpoint(st, NULL);
	return 0;
}
