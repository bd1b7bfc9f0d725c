/* store_sqlite: the SQLite backend's table of storage operations (storage.h), gathered from the
 * store*.c files that implement them. */
#include <string.h>

#include "store_internal.h"

/* Every database that is not a URL (scheme://…) is a SQLite file. */
static bool sqlite_accepts(const char *database)
{
	return !strstr(database, "://");
}

static int sqlite_open(const char *database, durability_mode durability, bool read_only, store **out,
                       char **err)
{
	return sqlite_connect(&storage_sqlite, database, durability, read_only, out, err);
}

const storage_ops storage_sqlite = {
	.name = "sqlite",
	.accepts = sqlite_accepts,
	.open = sqlite_open,
	.close = sqlite_close,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.savepoint = sqlite_savepoint,
	.release = sqlite_release,
	.rollback_savepoint = sqlite_rollback_savepoint,
	.idempotency_find = sqlite_idempotency_find,
	.idempotency_put = sqlite_idempotency_put,
	.response_insert = sqlite_response_insert,
	.response_count = sqlite_response_count,
	.response_list = sqlite_response_list,
	.cursor_open = sqlite_cursor_open,
	.cursor_next = sqlite_cursor_next,
	.cursor_next_raw = sqlite_cursor_next_raw,
	.cursor_close = sqlite_cursor_close,
	.kv_get = sqlite_kv_get,
	.kv_put = sqlite_kv_put,
	.kv_incr = sqlite_kv_incr,
	.purge_before = sqlite_purge_before,
	.checkpoint = sqlite_checkpoint,
	.checkpoint_passive = sqlite_checkpoint_passive,
	.on_wal_commit = sqlite_on_wal_commit,
	.set_cache = sqlite_set_cache,
	.ping = sqlite_ping,
	.response_page = sqlite_response_page,
	.cursor_open_filtered = sqlite_cursor_open_filtered,
	.summary_fold = sqlite_summary_fold,
	.summary_tally = sqlite_summary_tally,
	.views_add = sqlite_views_add,
	.views_count = sqlite_views_count,
	.snapshot_begin = sqlite_snapshot_begin,
	.snapshot_end = sqlite_snapshot_end,
	.contact_find = sqlite_contact_find,
	.contact_create = sqlite_contact_create,
	.contact_add_key = sqlite_contact_add_key,
	.contact_link = sqlite_contact_link,
	.contact_response_count = sqlite_contact_response_count,
	.offer_insert = sqlite_offer_insert,
	.offers_for_response = sqlite_offers_for_response,
	.token_use = sqlite_token_use,
	.offer_next_seq = sqlite_offer_next_seq,
	.confirmation_put = sqlite_confirmation_put,
	.confirmation_take = sqlite_confirmation_take,
	.outbox_insert = sqlite_outbox_insert,
	.outbox_due = sqlite_outbox_due,
	.outbox_next_due = sqlite_outbox_next_due,
	.outbox_mark_delivered = sqlite_outbox_mark_delivered,
	.outbox_mark_failed = sqlite_outbox_mark_failed,
	.outbox_get = sqlite_outbox_get,
	.outbox_list = sqlite_outbox_list,
	.outbox_retry = sqlite_outbox_retry,
	.outbox_delete_for_response = sqlite_outbox_delete_for_response,
	.outbox_purge_delivered = sqlite_outbox_purge_delivered,
	.outbox_count = sqlite_outbox_count,
	.inbox_list = sqlite_inbox_list,
	.inbox_get = sqlite_inbox_get,
	.inbox_update = sqlite_inbox_update,
	.inbox_for_contact = sqlite_inbox_for_contact,
	.contact_card = sqlite_contact_card,
	.answers_total = sqlite_answers_total,
	.inbox_counts = sqlite_inbox_counts,
	.inbox_find_for_response = sqlite_inbox_find_for_response,
	.inbox_insert = sqlite_inbox_insert,
	.inbox_add_destination = sqlite_inbox_add_destination,
	.inbox_reminders_due = sqlite_inbox_reminders_due,
	.inbox_mark_reminded = sqlite_inbox_mark_reminded,
	.erase_contact = sqlite_erase_contact,
	.outbox_list_newest = sqlite_outbox_list_newest,
	.outbox_for_response = sqlite_outbox_for_response,
	.response_get = sqlite_response_get,
	.response_contacts = sqlite_response_contacts,
	.table_count = sqlite_table_count,
	.table_read = sqlite_table_read,
};
