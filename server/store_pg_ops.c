/* store_pg_ops: the PostgreSQL backend's table of storage operations (storage.h), gathered from the
 * store_pg*.c files that implement them. WAL checkpoints are PostgreSQL's own business. */
#include <string.h>

#include "store_pg_internal.h"

/* postgresql://… and postgres://… URIs (libpq's connection URIs). */
static bool pg_accepts(const char *database)
{
	return strncmp(database, "postgresql://", 13) == 0 || strncmp(database, "postgres://", 11) == 0;
}

static int pg_open(const char *database, durability_mode durability, bool read_only, store **out, char **err)
{
	return pg_connect(&storage_postgresql, database, durability, read_only, out, err);
}

const storage_ops storage_postgresql = {
	.name = "postgresql",
	.accepts = pg_accepts,
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.savepoint = pg_savepoint,
	.release = pg_release,
	.rollback_savepoint = pg_rollback_savepoint,
	.idempotency_find = pg_idempotency_find,
	.idempotency_put = pg_idempotency_put,
	.response_insert = pg_response_insert,
	.response_count = pg_response_count,
	.response_list = pg_response_list,
	.response_get = pg_response_get,
	.response_contacts = pg_response_contacts,
	.cursor_open = pg_cursor_open,
	.cursor_next = pg_cursor_next,
	.cursor_next_raw = pg_cursor_next_raw,
	.cursor_close = pg_cursor_close,
	.kv_get = pg_kv_get,
	.kv_put = pg_kv_put,
	.kv_incr = pg_kv_incr,
	.kv_take = pg_kv_take,
	.conflicted = pg_conflicted,
	.round_trips = pg_round_trips,
	.shared = true,
	.purge_before = pg_purge_before,
	.ping = pg_ping,
	.response_page = pg_response_page,
	.cursor_open_filtered = pg_cursor_open_filtered,
	.summary_tally = pg_summary_tally,
	.snapshot_begin = pg_snapshot_begin,
	.snapshot_end = pg_snapshot_end,
	.contact_find = pg_contact_find,
	.contact_create = pg_contact_create,
	.contact_add_key = pg_contact_add_key,
	.contact_link = pg_contact_link,
	.contact_response_count = pg_contact_response_count,
	.offer_insert = pg_offer_insert,
	.offers_for_response = pg_offers_for_response,
	.token_use = pg_token_use,
	.offer_next_seq = pg_offer_next_seq,
	.confirmation_put = pg_confirmation_put,
	.confirmation_take = pg_confirmation_take,
	.outbox_insert = pg_outbox_insert,
	.outbox_due = pg_outbox_due,
	.outbox_next_due = pg_outbox_next_due,
	.outbox_mark_delivered = pg_outbox_mark_delivered,
	.outbox_mark_failed = pg_outbox_mark_failed,
	.outbox_get = pg_outbox_get,
	.outbox_list = pg_outbox_list,
	.outbox_list_newest = pg_outbox_list_newest,
	.outbox_for_response = pg_outbox_for_response,
	.outbox_retry = pg_outbox_retry,
	.outbox_delete_for_response = pg_outbox_delete_for_response,
	.outbox_purge_delivered = pg_outbox_purge_delivered,
	.outbox_count = pg_outbox_count,
	.inbox_list = pg_inbox_list,
	.inbox_get = pg_inbox_get,
	.inbox_update = pg_inbox_update,
	.inbox_for_contact = pg_inbox_for_contact,
	.contact_card = pg_contact_card,
	.answers_total = pg_answers_total,
	.inbox_counts = pg_inbox_counts,
	.inbox_find_for_response = pg_inbox_find_for_response,
	.inbox_insert = pg_inbox_insert,
	.inbox_add_destination = pg_inbox_add_destination,
	.inbox_reminders_due = pg_inbox_reminders_due,
	.inbox_mark_reminded = pg_inbox_mark_reminded,
	.erase_contact = pg_erase_contact,
	.views_add = pg_views_add,
	.views_count = pg_views_count,
	.table_count = pg_table_count,
	.table_write = pg_table_write,
	.table_finish = pg_table_finish,
};
