/* erase: erasure by contact from the command line (a connection of its own) and the reply's counts;
 * the deleting itself is the storage operation store_erase_contact. */
#include <stdlib.h>
#include <string.h>

#include "erase.h"

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
