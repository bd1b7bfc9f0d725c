/* storage: store_open's choice of backend, and the store_* functions forwarding to the handle's
 * table of operations (storage.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage.h"
#include "util.h"

/* The head of every backend's connection and cursor. */
struct storage_head {
	const storage_ops *ops;
};

static const storage_ops *const backends[] = { &storage_postgresql, &storage_sqlite };

static const storage_ops *ops_of(const void *handle)
{
	return ((const struct storage_head *)handle)->ops;
}

int store_open(const char *database, durability_mode durability, bool read_only, store **out, char **err)
{
	*out = NULL;
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (backends[i]->accepts(database))
			return backends[i]->open(database, durability, read_only, out, err);
	if (err) {
		char *shown = storage_display_name(database);
		*err = xasprintf("open database %s: no storage backend takes this address", shown);
		free(shown);
	}
	return -1;
}

bool storage_is_file(const char *database)
{
	return storage_sqlite.accepts(database);
}

char *storage_display_name(const char *database)
{
	const char *scheme = strstr(database, "://");
	const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
	if (!colon)
		return xstrdup(database);
	return xasprintf("%.*s%s", (int)(colon - database), database, at);
}

void store_close(store *st)
{
	if (!st)
		return;
	ops_of(st)->close(st);
}

int store_begin(store *st, char **err)
{
	return ops_of(st)->begin(st, err);
}

int store_commit(store *st, char **err)
{
	return ops_of(st)->commit(st, err);
}

void store_rollback(store *st)
{
	ops_of(st)->rollback(st);
}

int store_savepoint(store *st, char **err)
{
	return ops_of(st)->savepoint(st, err);
}

int store_release(store *st, char **err)
{
	return ops_of(st)->release(st, err);
}

void store_rollback_savepoint(store *st)
{
	ops_of(st)->rollback_savepoint(st);
}

int store_idempotency_find(store *st, const char *key, int *status, char **body, char **err)
{
	return ops_of(st)->idempotency_find(st, key, status, body, err);
}

int store_idempotency_put(store *st, const char *key, const char *form, const char *response_id, int status,
                          const char *body, int64_t created_ms, char **err)
{
	return ops_of(st)->idempotency_put(st, key, form, response_id, status, body, created_ms, err);
}

int store_response_insert(store *st, response_record *r, const char *client, char **err)
{
	return ops_of(st)->response_insert(st, r, client, err);
}

int store_response_count(store *st, const char *form, int64_t *n, char **err)
{
	return ops_of(st)->response_count(st, form, n, err);
}

int store_response_list(store *st, const char *form, int64_t since, int64_t until, int64_t after_seq,
                        int limit, response_record **out, size_t *n, bool *more, char **err)
{
	return ops_of(st)->response_list(st, form, since, until, after_seq, limit, out, n, more, err);
}

int store_cursor_open(store *st, const char *form, int64_t since, int64_t until, store_cursor **out,
                      char **err)
{
	return ops_of(st)->cursor_open(st, form, since, until, out, err);
}

int store_cursor_next(store_cursor *cur, response_record *r, char **err)
{
	return ops_of(cur)->cursor_next(cur, r, err);
}

int store_cursor_next_raw(store_cursor *cur, response_raw *r, char **err)
{
	return ops_of(cur)->cursor_next_raw(cur, r, err);
}

void store_cursor_close(store_cursor *cur)
{
	if (!cur)
		return;
	ops_of(cur)->cursor_close(cur);
}

int store_kv_get(store *st, const char *plugin, const char *key, char **value, size_t *len, char **err)
{
	return ops_of(st)->kv_get(st, plugin, key, value, len, err);
}

int store_kv_put(store *st, const char *plugin, const char *key, const void *value, size_t len, char **err)
{
	return ops_of(st)->kv_put(st, plugin, key, value, len, err);
}

int store_kv_incr(store *st, const char *plugin, const char *key, int64_t delta, int64_t *result, char **err)
{
	return ops_of(st)->kv_incr(st, plugin, key, delta, result, err);
}

int store_kv_take(store *st, const char *plugin, const char *prefix, char **key, char **value, size_t *len,
                  char **err)
{
	return ops_of(st)->kv_take(st, plugin, prefix, key, value, len, err);
}

bool store_conflicted(store *st)
{
	return ops_of(st)->conflicted(st);
}

bool store_shared(store *st)
{
	return ops_of(st)->shared;
}

int64_t store_round_trips(store *st)
{
	return ops_of(st)->round_trips(st);
}

int store_purge_before(store *st, int64_t cutoff_ms, int64_t *deleted, char **err)
{
	return ops_of(st)->purge_before(st, cutoff_ms, deleted, err);
}

int store_checkpoint(store *st, char **err)
{
	if (!ops_of(st)->checkpoint)
		return 0;
	return ops_of(st)->checkpoint(st, err);
}

int store_set_cache(store *st, int kib, char **err)
{
	if (!ops_of(st)->set_cache)
		return 0;
	return ops_of(st)->set_cache(st, kib, err);
}

int store_checkpoint_passive(store *st, char **err)
{
	if (!ops_of(st)->checkpoint_passive)
		return 0;
	return ops_of(st)->checkpoint_passive(st, err);
}

void store_on_wal_commit(store *st, void (*fn)(void *arg, int wal_pages), void *arg)
{
	if (!ops_of(st)->on_wal_commit)
		return;
	ops_of(st)->on_wal_commit(st, fn, arg);
}

int store_ping(store *st, char **err)
{
	return ops_of(st)->ping(st, err);
}

int store_response_page(store *st, const char *form, const response_filter *flt, int64_t after_seq,
                        bool newest_first, int limit, response_record **out, size_t *n, bool *more,
                        char **err)
{
	return ops_of(st)->response_page(st, form, flt, after_seq, newest_first, limit, out, n, more, err);
}

int store_cursor_open_filtered(store *st, const char *form, const response_filter *flt, store_cursor **out,
                               char **err)
{
	return ops_of(st)->cursor_open_filtered(st, form, flt, out, err);
}

int store_summary_fold(store *st, int max_rows, bool *more, char **err)
{
	if (!ops_of(st)->summary_fold) {
		*more = false;
		return 0;
	}
	return ops_of(st)->summary_fold(st, max_rows, more, err);
}

int store_summary_tally(store *st, const char *form, const response_filter *flt, const summary_question *qs,
                        size_t n, count_map *out, char **err)
{
	return ops_of(st)->summary_tally(st, form, flt, qs, n, out, err);
}

int store_views_add(store *st, const view_count *counts, size_t n, char **err)
{
	return ops_of(st)->views_add(st, counts, n, err);
}

int store_views_count(store *st, const char *form, int64_t since, int64_t until, const char *variant,
                      const char *device, views_fn fn, void *ctx, char **err)
{
	return ops_of(st)->views_count(st, form, since, until, variant, device, fn, ctx, err);
}

int store_snapshot_begin(store *st, char **err)
{
	return ops_of(st)->snapshot_begin(st, err);
}

void store_snapshot_end(store *st, int begun)
{
	ops_of(st)->snapshot_end(st, begun);
}

int store_contact_find(store *st, contact_kind kind, const char *key, int64_t *id, char **err)
{
	return ops_of(st)->contact_find(st, kind, key, id, err);
}

int store_contact_create(store *st, int64_t created_ms, int64_t *id, char **err)
{
	return ops_of(st)->contact_create(st, created_ms, id, err);
}

int store_contact_add_key(store *st, int64_t id, contact_kind kind, const char *key, char **err)
{
	return ops_of(st)->contact_add_key(st, id, kind, key, err);
}

int store_contact_link(store *st, const char *response_id, int64_t contact_id, char **err)
{
	return ops_of(st)->contact_link(st, response_id, contact_id, err);
}

int store_contact_response_count(store *st, int64_t contact_id, int64_t *n, char **err)
{
	return ops_of(st)->contact_response_count(st, contact_id, n, err);
}

int store_offer_insert(store *st, const char *response_id, const char *form_id, int seq, const char *text,
                       const char *code, char **err)
{
	return ops_of(st)->offer_insert(st, response_id, form_id, seq, text, code, err);
}

int store_offers_for_response(store *st, const char *response_id, const char *form_id, json_t **offers,
                              char **err)
{
	return ops_of(st)->offers_for_response(st, response_id, form_id, offers, err);
}

int store_token_use(store *st, const char *nonce, int64_t expires_ms, int64_t now_ms, char **err)
{
	return ops_of(st)->token_use(st, nonce, expires_ms, now_ms, err);
}

int store_offer_next_seq(store *st, const char *response_id, int *next, char **err)
{
	return ops_of(st)->offer_next_seq(st, response_id, next, err);
}

int store_confirmation_put(store *st, const char *response_id, int64_t expires_ms, const char *plugins,
                           char **err)
{
	return ops_of(st)->confirmation_put(st, response_id, expires_ms, plugins, err);
}

int store_confirmation_take(store *st, const char *response_id, const char *form_id, int64_t now,
                            char **answers, char **meta, char **plugins, char **err)
{
	return ops_of(st)->confirmation_take(st, response_id, form_id, now, answers, meta, plugins, err);
}

int store_outbox_insert(store *st, const delivery_record *d, char **err)
{
	return ops_of(st)->outbox_insert(st, d, err);
}

int store_outbox_due(store *st, int64_t now, int limit, delivery_record **out, size_t *n, char **err)
{
	return ops_of(st)->outbox_due(st, now, limit, out, n, err);
}

int store_outbox_next_due(store *st, int64_t *when_ms, char **err)
{
	return ops_of(st)->outbox_next_due(st, when_ms, err);
}

int store_outbox_mark_delivered(store *st, const char *id, int attempts, int64_t now, char **err)
{
	return ops_of(st)->outbox_mark_delivered(st, id, attempts, now, err);
}

int store_outbox_mark_failed(store *st, const char *id, int attempts, delivery_state state, int64_t next_ms,
                             const char *error, int64_t now, char **err)
{
	return ops_of(st)->outbox_mark_failed(st, id, attempts, state, next_ms, error, now, err);
}

int store_outbox_get(store *st, const char *id, delivery_record *out, char **err)
{
	return ops_of(st)->outbox_get(st, id, out, err);
}

int store_outbox_list(store *st, bool all_states, delivery_state state, int64_t after_seq, int limit,
                      delivery_record **out, size_t *n, bool *more, char **err)
{
	return ops_of(st)->outbox_list(st, all_states, state, after_seq, limit, out, n, more, err);
}

int store_outbox_retry(store *st, const char *id, int64_t now, delivery_record *out, char **err)
{
	return ops_of(st)->outbox_retry(st, id, now, out, err);
}

int store_outbox_delete_for_response(store *st, const char *response_id, int64_t *deleted, char **err)
{
	return ops_of(st)->outbox_delete_for_response(st, response_id, deleted, err);
}

int store_outbox_purge_delivered(store *st, int64_t cutoff_ms, int64_t *deleted, char **err)
{
	return ops_of(st)->outbox_purge_delivered(st, cutoff_ms, deleted, err);
}

int store_outbox_count(store *st, delivery_state s, int64_t *n, char **err)
{
	return ops_of(st)->outbox_count(st, s, n, err);
}

int store_inbox_list(store *st, const char *state, const char *form_id, int64_t now, int limit,
                     json_t **items, char **err)
{
	return ops_of(st)->inbox_list(st, state, form_id, now, limit, items, err);
}

int store_inbox_get(store *st, const char *id, int64_t now, json_t **item, char **err)
{
	return ops_of(st)->inbox_get(st, id, now, item, err);
}

int store_inbox_update(store *st, const char *id, const char *state, const char *assignee, const char *note,
                       int64_t now, char **err)
{
	return ops_of(st)->inbox_update(st, id, state, assignee, note, now, err);
}

int store_inbox_for_contact(store *st, int64_t contact_id, int64_t now, json_t **items, char **err)
{
	return ops_of(st)->inbox_for_contact(st, contact_id, now, items, err);
}

int store_contact_card(store *st, int64_t contact_id, int64_t now, json_t **card, char **err)
{
	return ops_of(st)->contact_card(st, contact_id, now, card, err);
}

int store_answers_total(store *st, int64_t *n, char **err)
{
	return ops_of(st)->answers_total(st, n, err);
}

int store_inbox_counts(store *st, int64_t now, int64_t *open, int64_t *overdue, char **err)
{
	return ops_of(st)->inbox_counts(st, now, open, overdue, err);
}

int store_inbox_find_for_response(store *st, const char *response_id, char id[48], int64_t *due_ms,
                                  char **err)
{
	return ops_of(st)->inbox_find_for_response(st, response_id, id, due_ms, err);
}

int store_inbox_insert(store *st, const char *id, const char *form_id, const char *response_id,
                       const char *contact, const char *rule, const char *priority, int64_t created_ms,
                       int64_t due_ms, const char *dest, const char *notice, char **err)
{
	return ops_of(st)->inbox_insert(st, id, form_id, response_id, contact, rule, priority, created_ms,
	                                due_ms, dest, notice, err);
}

int store_inbox_add_destination(store *st, const char *id, const char *dest, char **err)
{
	return ops_of(st)->inbox_add_destination(st, id, dest, err);
}

int store_inbox_reminders_due(store *st, int64_t now, int limit, json_t **rows, char **err)
{
	return ops_of(st)->inbox_reminders_due(st, now, limit, rows, err);
}

int store_inbox_mark_reminded(store *st, const char *id, int64_t now, char **err)
{
	return ops_of(st)->inbox_mark_reminded(st, id, now, err);
}

int store_erase_contact(store *st, contact_kind kind, const char *key, erase_counts *out, char **err)
{
	return ops_of(st)->erase_contact(st, kind, key, out, err);
}

int store_outbox_list_newest(store *st, bool all_states, delivery_state state, int64_t before_seq, int limit,
                             delivery_record **out, size_t *n, bool *more, char **err)
{
	return ops_of(st)->outbox_list_newest(st, all_states, state, before_seq, limit, out, n, more, err);
}

int store_outbox_for_response(store *st, const char *response_id, int limit, delivery_record **out, size_t *n,
                              char **err)
{
	return ops_of(st)->outbox_for_response(st, response_id, limit, out, n, err);
}

int store_response_get(store *st, const char *form_id, const char *id, json_t **out, char **err)
{
	return ops_of(st)->response_get(st, form_id, id, out, err);
}

int store_response_contacts(store *st, const char *response_id, json_t **out, char **err)
{
	return ops_of(st)->response_contacts(st, response_id, out, err);
}

int store_table_count(store *st, const storage_table *t, int64_t *n, char **err)
{
	return ops_of(st)->table_count(st, t, n, err);
}

int store_table_read(store *st, const storage_table *t, int64_t offset, int limit, storage_rows *out, char **err)
{
	if (!ops_of(st)->table_read) {
		if (err)
			*err = xasprintf("the %s backend cannot be copied from", ops_of(st)->name);
		return -1;
	}
	return ops_of(st)->table_read(st, t, offset, limit, out, err);
}

int store_table_write(store *st, const storage_table *t, const storage_rows *rows, int64_t *added, char **err)
{
	if (!ops_of(st)->table_write) {
		if (err)
			*err = xasprintf("the %s backend cannot be copied to", ops_of(st)->name);
		return -1;
	}
	return ops_of(st)->table_write(st, t, rows, added, err);
}

int store_table_finish(store *st, const storage_table *t, char **err)
{
	if (!ops_of(st)->table_finish)
		return 0;
	return ops_of(st)->table_finish(st, t, err);
}
