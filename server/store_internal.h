/* store_internal: what the SQLite backend's files (store*.c) share and nobody else sees — the schema
 * as an ordered list of forward migrations (used by store.c), the statement helpers store.c lends to
 * the other store*.c files, and the operations they implement, which store.c gathers into the
 * storage_sqlite table (storage.h).
 *
 * Migration i (0-based) takes a database from PRAGMA user_version i to i + 1; store_open applies the
 * missing ones in order, each in its own transaction together with the user_version bump. A migration
 * that has shipped is never edited: a later feature appends a new entry at the end. Scripts may hold
 * several statements separated by semicolons. */
#ifndef EARSHOT_STORE_INTERNAL_H
#define EARSHOT_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "storage.h"

typedef struct store_migration {
	const char *name; /* a short description, used in error messages */
	const char *sql;  /* the script */
} store_migration;

/* A JSON column as an object for the summary triggers: '{}' when it is not well-formed JSON or not an
 * object, so that no stored text can make an insert fail (CASE evaluates its tests in order). */
#define SUMMARY_OBJECT(col) "CASE WHEN NOT json_valid(" col ") THEN '{}' WHEN json_type(" col ") <> 'object' " \
	"THEN '{}' ELSE " col " END"

/* The answer_counts keys (q, p, v) of an answer_facts vals text, as a SELECT. */
#define FACT_KEYS(vals) \
	"SELECT json_extract(e.value, '$[0]') AS q, coalesce(json_extract(e.value, '$[2]'), 0) AS p, " \
	"coalesce(json_extract(e.value, '$[1]'), X'00') AS v FROM json_each(" vals ") e " \
	"UNION ALL SELECT json_extract(e.value, '$[0]'), coalesce(json_extract(e.value, '$[2]'), 0), X'' " \
	"FROM json_each(" vals ") e UNION ALL SELECT '', 2, X''"

/* The list, included by store.c (and the store's unit test). */
static const store_migration store_migrations[] = {
	{
		.name = "responses, idempotency keys, plugin and server key-value tables",
		.sql =
		/* seq never goes backwards, even after the newest rows are erased, so listing cursors
		 * (after=seq) and export order stay stable. JSON columns hold compact jansson text. */
		"CREATE TABLE responses ("
		"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		"  id TEXT UNIQUE NOT NULL,"
		"  form TEXT NOT NULL,"
		"  created_ms INTEGER NOT NULL,"
		"  answers TEXT NOT NULL,"
		"  meta TEXT NOT NULL,"
		"  score TEXT,"
		"  tags TEXT NOT NULL DEFAULT '[]',"
		"  client TEXT"
		");"
		"CREATE INDEX responses_form_created ON responses(form, created_ms, seq);"
		"CREATE INDEX responses_form_seq ON responses(form, seq);"
		"CREATE INDEX responses_created ON responses(created_ms);"
		"CREATE TABLE idempotency ("
		"  key TEXT PRIMARY KEY NOT NULL,"
		"  form TEXT NOT NULL,"
		"  response_id TEXT,"
		"  status INTEGER NOT NULL,"
		"  body TEXT NOT NULL,"
		"  created_ms INTEGER NOT NULL"
		");"
		"CREATE INDEX idempotency_created ON idempotency(created_ms);"
		"CREATE TABLE plugin_kv ("
		"  plugin TEXT NOT NULL,"
		"  key TEXT NOT NULL,"
		"  value BLOB,"
		"  PRIMARY KEY (plugin, key)"
		") WITHOUT ROWID;"
		"CREATE TABLE meta_kv ("
		"  key TEXT PRIMARY KEY NOT NULL,"
		"  value BLOB"
		") WITHOUT ROWID;",
	},
	{
		.name = "outbox of deliveries",
		.sql =
		/* One row per delivery a plugin queued, written in the answer's transaction. state is
		 * pending | failed | dead | delivered; the worker sends pending and failed rows once
		 * next_attempt_ms has come. response_id ties a delivery to its answer for erasure. */
		"CREATE TABLE outbox ("
		"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		"  id TEXT UNIQUE NOT NULL,"
		"  destination TEXT NOT NULL,"
		"  type TEXT NOT NULL,"
		"  plugin TEXT,"
		"  response_id TEXT,"
		"  body TEXT NOT NULL,"
		"  state TEXT NOT NULL CHECK (state IN ('pending', 'failed', 'dead', 'delivered')),"
		"  attempts INTEGER NOT NULL DEFAULT 0,"
		"  created_ms INTEGER NOT NULL,"
		"  retry_from_ms INTEGER NOT NULL,"
		"  next_attempt_ms INTEGER NOT NULL,"
		"  last_attempt_ms INTEGER,"
		"  last_error TEXT,"
		"  delivered_ms INTEGER"
		");"
		"CREATE INDEX outbox_due ON outbox(next_attempt_ms) WHERE state IN ('pending', 'failed');"
		"CREATE INDEX outbox_state ON outbox(state, seq);"
		"CREATE INDEX outbox_response ON outbox(response_id);",
	},
	{
		.name = "contacts, offers and used form tokens",
		.sql =
		/* A contact is one person, known by identity keys (an email address lower-cased as a
		 * whole, a phone number in E.164); answers are linked to the contacts of their keys.
		 * offers keeps what plugins attached to an answer, for the hosted thank-you page.
		 * used_tokens remembers the nonces of timing tokens until they expire (single use).
		 * Rows tied to an answer go with it (retention purge, erasure). */
		"CREATE TABLE contacts ("
		"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
		"  created_ms INTEGER NOT NULL"
		");"
		"CREATE TABLE contact_keys ("
		"  kind TEXT NOT NULL CHECK (kind IN ('email', 'phone')),"
		"  key TEXT NOT NULL,"
		"  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
		"  PRIMARY KEY (kind, key)"
		") WITHOUT ROWID;"
		"CREATE INDEX contact_keys_contact ON contact_keys(contact_id);"
		"CREATE TABLE response_contacts ("
		"  response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,"
		"  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
		"  PRIMARY KEY (response_id, contact_id)"
		") WITHOUT ROWID;"
		"CREATE INDEX response_contacts_contact ON response_contacts(contact_id);"
		"CREATE TABLE offers ("
		"  response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,"
		"  seq INTEGER NOT NULL,"
		"  form TEXT NOT NULL,"
		"  text TEXT NOT NULL,"
		"  code TEXT,"
		"  PRIMARY KEY (response_id, seq)"
		") WITHOUT ROWID;"
		"CREATE TABLE used_tokens ("
		"  nonce TEXT PRIMARY KEY NOT NULL,"
		"  expires_ms INTEGER NOT NULL"
		") WITHOUT ROWID;"
		"CREATE INDEX used_tokens_expires ON used_tokens(expires_ms);",
	},
	{
		.name = "the follow-up inbox",
		.sql =
		/* One item per routed answer: its clock (due_ms), who answers it, and what a reminder sends
		 * (the destinations the answer was routed to and the notice they were sent). */
		"CREATE TABLE inbox ("
		"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		"  id TEXT NOT NULL UNIQUE,"
		"  form TEXT NOT NULL,"
		"  response_id TEXT NOT NULL UNIQUE,"
		"  contact TEXT,"
		"  rule TEXT,"
		"  priority TEXT NOT NULL DEFAULT 'normal',"
		"  created_ms INTEGER NOT NULL,"
		"  due_ms INTEGER NOT NULL,"
		"  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),"
		"  assignee TEXT,"
		"  note TEXT,"
		"  done_ms INTEGER NOT NULL DEFAULT 0,"
		"  reminded_ms INTEGER NOT NULL DEFAULT 0,"
		"  destinations TEXT NOT NULL DEFAULT '[]',"
		"  notice TEXT"
		");"
		"CREATE INDEX inbox_open_due ON inbox(state, reminded_ms, due_ms);"
		/* The item goes with its answer (erasure, retention purge). Not a foreign key: plugins open
		 * the item before the answer's row is inserted in the same transaction. */
		"CREATE TRIGGER inbox_follows_response AFTER DELETE ON responses BEGIN "
		"  DELETE FROM inbox WHERE response_id = old.id; "
		"END;",
	},
	{
		.name = "confirmed signups",
		.sql =
		/* confirmed: NULL for forms without `confirm:`, 0 until the visitor opens the emailed link, 1
		 * after. A pending confirmation remembers until when its link works and which plugins asked to
		 * hear of the confirmation (a JSON array of names); it goes with its answer. */
		"ALTER TABLE responses ADD COLUMN confirmed INTEGER;"
		"CREATE TABLE pending_confirmations ("
		"  response_id TEXT PRIMARY KEY NOT NULL REFERENCES responses(id) ON DELETE CASCADE,"
		"  expires_ms INTEGER NOT NULL,"
		"  plugins TEXT NOT NULL DEFAULT '[]'"
		") WITHOUT ROWID;",
	},
	{
		.name = "the answer index behind summaries",
		.sql =
		/* One row per answered question of each stored answer (part 0: the value itself, NULL when it
		 * is an array, an object or a text longer than 100 bytes), one per element of an array answer
		 * (part 1) and one per answer (part 2, question ''), each with the answer's meta.variant and
		 * time. Kept by triggers: rows come and go with their answer (insert, erasure, retention purge).
		 * answer_counts adds them up per UTC day (day = created_ms / 86400000), each row twice: under
		 * its value (NULL written as X'00') and under X'' ("any value"); variant '' is none. A summary
		 * reads whole days from answer_counts and the rest of its time range from answer_values, so it
		 * costs the same whatever the number of answers. */
		"CREATE TABLE answer_values ("
		"  seq INTEGER NOT NULL,"
		"  form TEXT NOT NULL,"
		"  question TEXT NOT NULL,"
		"  part INTEGER NOT NULL,"
		"  value,"
		"  variant TEXT,"
		"  created_ms INTEGER NOT NULL"
		");"
		"CREATE INDEX answer_values_time ON answer_values(form, question, part, created_ms, value, variant);"
		"CREATE INDEX answer_values_seq ON answer_values(seq, question, part, value, variant);"
		"CREATE TABLE answer_counts ("
		"  form TEXT NOT NULL,"
		"  question TEXT NOT NULL,"
		"  part INTEGER NOT NULL,"
		"  value NOT NULL,"
		"  variant TEXT NOT NULL,"
		"  day INTEGER NOT NULL,"
		"  n INTEGER NOT NULL,"
		"  PRIMARY KEY (form, question, part, value, variant, day)"
		") WITHOUT ROWID;"
		"CREATE TRIGGER answer_counts_add AFTER INSERT ON answer_values BEGIN "
		"  INSERT INTO answer_counts (form, question, part, value, variant, day, n) "
		"  VALUES (new.form, new.question, new.part, coalesce(new.value, X'00'), coalesce(new.variant, ''), "
		"          new.created_ms / 86400000, 1), "
		"         (new.form, new.question, new.part, X'', coalesce(new.variant, ''), new.created_ms / 86400000, 1) "
		"  ON CONFLICT DO UPDATE SET n = n + 1; "
		"END;"
		"CREATE TRIGGER answer_counts_remove AFTER DELETE ON answer_values BEGIN "
		"  UPDATE answer_counts SET n = n - 1 WHERE form = old.form AND question = old.question "
		"    AND part = old.part AND value IN (coalesce(old.value, X'00'), X'') "
		"    AND variant = coalesce(old.variant, '') AND day = old.created_ms / 86400000; "
		"  DELETE FROM answer_counts WHERE form = old.form AND question = old.question "
		"    AND part = old.part AND value IN (coalesce(old.value, X'00'), X'') "
		"    AND variant = coalesce(old.variant, '') AND day = old.created_ms / 86400000 AND n <= 0; "
		"END;"
		"CREATE TRIGGER answer_values_insert AFTER INSERT ON responses BEGIN "
		"  INSERT INTO answer_values (seq, form, question, part, value, variant, created_ms) "
		"  SELECT new.seq, new.form, j.key, 0, "
		"    CASE WHEN j.type IN ('array', 'object') OR (j.type = 'text' AND length(j.atom) > 100) "
		"    THEN NULL ELSE j.atom END, json_extract(" SUMMARY_OBJECT("new.meta") ", '$.variant'), new.created_ms "
		"  FROM json_each(" SUMMARY_OBJECT("new.answers") ") j; "
		"  INSERT INTO answer_values (seq, form, question, part, value, variant, created_ms) "
		"  SELECT new.seq, new.form, j.key, 1, e.atom, json_extract(" SUMMARY_OBJECT("new.meta") ", '$.variant'), new.created_ms "
		"  FROM json_each(" SUMMARY_OBJECT("new.answers") ") j, json_each(j.value) e "
		"  WHERE j.type = 'array' AND e.type NOT IN ('array', 'object'); "
		"  INSERT INTO answer_values (seq, form, question, part, value, variant, created_ms) "
		"  VALUES (new.seq, new.form, '', 2, NULL, json_extract(" SUMMARY_OBJECT("new.meta") ", '$.variant'), new.created_ms); "
		"END;"
		"CREATE TRIGGER answer_values_delete AFTER DELETE ON responses BEGIN "
		"  DELETE FROM answer_values WHERE seq = old.seq; "
		"END;"
		/* The answers stored before this migration. */
		"INSERT INTO answer_values (seq, form, question, part, value, variant, created_ms) "
		"SELECT r.seq, r.form, j.key, 0, "
		"  CASE WHEN j.type IN ('array', 'object') OR (j.type = 'text' AND length(j.atom) > 100) "
		"  THEN NULL ELSE j.atom END, json_extract(" SUMMARY_OBJECT("r.meta") ", '$.variant'), r.created_ms "
		"FROM responses r, json_each(" SUMMARY_OBJECT("r.answers") ") j;"
		"INSERT INTO answer_values (seq, form, question, part, value, variant, created_ms) "
		"SELECT r.seq, r.form, j.key, 1, e.atom, json_extract(" SUMMARY_OBJECT("r.meta") ", '$.variant'), r.created_ms "
		"FROM responses r, json_each(" SUMMARY_OBJECT("r.answers") ") j, json_each(j.value) e "
		"WHERE j.type = 'array' AND e.type NOT IN ('array', 'object');"
		"INSERT INTO answer_values (seq, form, question, part, value, variant, created_ms) "
		"SELECT seq, form, '', 2, NULL, json_extract(" SUMMARY_OBJECT("meta") ", '$.variant'), created_ms FROM responses;",
	},
	{
		.name = "views of surveys and hosted forms",
		.sql =
		/* Counters, not rows per view: how often each form was shown per UTC day (day = ms / 86400000),
		 * wording variant ('' none) and device class ('' unknown). The writer adds a second's worth
		 * at a time (store_views.c); the retention purge removes whole days. No personal data. */
		"CREATE TABLE views ("
		"  form TEXT NOT NULL,"
		"  day INTEGER NOT NULL,"
		"  variant TEXT NOT NULL,"
		"  device TEXT NOT NULL,"
		"  count INTEGER NOT NULL,"
		"  PRIMARY KEY (form, day, variant, device)"
		") WITHOUT ROWID;",
	},
	{
		.name = "narrow answer facts behind summaries, counts kept per batch",
		.sql =
		/* The per-question index of migration 6 cost more to keep than the answers themselves (rows and
		 * upserts per question, by triggers that parse JSON). Instead each answer gets one narrow row in
		 * answer_facts, written in C by the writer (store_summary.c): the filterable fields as plain
		 * columns and vals, a JSON array of [question, value] and [question, element, 1] entries (the
		 * values migration 6 counted). answer_counts gains the device and category and is folded in by
		 * the writer once per batch; answer_counts_upto holds the highest seq folded: answers above it (and
		 * those in answer_facts_stale, changed after they were folded) are read from responses until the
		 * writer folds them. Deleting an answer takes its facts and counts with it. The tables are
		 * rebuilt from the answers by the writer, in the background, after this migration. */
		"DROP TRIGGER IF EXISTS answer_values_insert;"
		"DROP TRIGGER IF EXISTS answer_values_delete;"
		"DROP TRIGGER IF EXISTS answer_counts_add;"
		"DROP TRIGGER IF EXISTS answer_counts_remove;"
		"DROP TABLE IF EXISTS answer_values;"
		"DROP TABLE IF EXISTS answer_counts;"
		/* Per UTC day (day = created_ms / 86400000), and per variant, device and score category ('' for
		 * none) so that those filters are answered from the counts too. value X'00' is null, X'' any. */
		"CREATE TABLE answer_counts ("
		"  form TEXT NOT NULL,"
		"  question TEXT NOT NULL,"
		"  part INTEGER NOT NULL,"
		"  value NOT NULL,"
		"  variant TEXT NOT NULL,"
		"  device TEXT NOT NULL,"
		"  category TEXT NOT NULL,"
		"  day INTEGER NOT NULL,"
		"  n INTEGER NOT NULL,"
		"  PRIMARY KEY (form, question, part, value, variant, device, category, day)"
		") WITHOUT ROWID;"
		/* Clustered by form and time: a summary reads a form's time range as one run of rows. */
		"CREATE TABLE IF NOT EXISTS answer_facts ("
		"  form TEXT NOT NULL,"
		"  created_ms INTEGER NOT NULL,"
		"  seq INTEGER NOT NULL,"
		"  variant TEXT,"        /* meta.variant, page, device and score.category when they are strings */
		"  page TEXT,"
		"  path TEXT,"           /* the path of page when page is a URL, else page */
		"  device TEXT,"
		"  category TEXT,"
		"  attrs TEXT NOT NULL," /* ' a b ': meta members present (not null) whose names a filter can use */
		"  tags TEXT NOT NULL,"  /* X'1F'-separated text tags, X'1F' at both ends; '' for none */
		"  vals TEXT NOT NULL,"
		"  PRIMARY KEY (form, created_ms, seq)"
		") WITHOUT ROWID;"
		"CREATE TABLE IF NOT EXISTS answer_counts_upto (seq INTEGER NOT NULL);"
		"DELETE FROM answer_counts_upto;"
		"INSERT INTO answer_counts_upto (seq) VALUES (0);"
		"CREATE TABLE IF NOT EXISTS answer_facts_stale (seq INTEGER PRIMARY KEY);"
		"DELETE FROM answer_facts;"
		"CREATE TRIGGER IF NOT EXISTS answer_facts_forget AFTER DELETE ON responses BEGIN "
		"  DELETE FROM answer_facts WHERE form = old.form AND created_ms = old.created_ms AND seq = old.seq; "
		"  DELETE FROM answer_facts_stale WHERE seq = old.seq; "
		"END;"
		/* A folded answer whose stored fields change is taken out of the counts and folded again. */
		"CREATE TRIGGER IF NOT EXISTS answer_facts_refold AFTER UPDATE OF form, created_ms, answers, meta, score, tags "
		"ON responses WHEN old.seq <= (SELECT seq FROM answer_counts_upto) BEGIN "
		"  DELETE FROM answer_facts WHERE form = old.form AND created_ms = old.created_ms AND seq = old.seq; "
		"  INSERT OR IGNORE INTO answer_facts_stale (seq) VALUES (old.seq); "
		"END;"
		/* The keys an answer's facts add to answer_counts (store_summary.c adds them the same way): each
		 * entry under its value (NULL as X'00') and under X'' (any value), and the answer under ('', 2, X''). */
		"CREATE TRIGGER IF NOT EXISTS answer_counts_forget AFTER DELETE ON answer_facts BEGIN "
		"  UPDATE answer_counts SET n = n - (SELECT count(*) FROM ("
		FACT_KEYS("old.vals")
		"    ) k WHERE k.q = answer_counts.question AND k.p = answer_counts.part AND k.v = answer_counts.value) "
		"  WHERE form = old.form AND variant = coalesce(old.variant, '') AND device = coalesce(old.device, '') "
		"    AND category = coalesce(old.category, '') AND day = old.created_ms / 86400000 "
		"    AND (question, part, value) IN (" FACT_KEYS("old.vals") "); "
		"  DELETE FROM answer_counts WHERE form = old.form AND variant = coalesce(old.variant, '') "
		"    AND device = coalesce(old.device, '') AND category = coalesce(old.category, '') "
		"    AND day = old.created_ms / 86400000 AND n <= 0 AND (question, part, value) IN (" FACT_KEYS("old.vals") "); "
		"END;",
	},
	{
		.name = "contact tables without per-row checks",
		.sql =
		/* The tables of migration 3, rebuilt without foreign keys and without AUTOINCREMENT: a new email
		 * or phone number cost three parent lookups and a sqlite_sequence update on every answer, for
		 * rows only the writer and erasure write. What the cascades did, triggers do: a contact's keys
		 * and links go with it, an answer's links go with the answer. A contact id may be used again
		 * after the highest one is erased; nothing of the erased contact is left to mix it with. The
		 * old tables go children first, so dropping contacts cascades into nothing. */
		"CREATE TABLE contacts_next ("
		"  id INTEGER PRIMARY KEY,"
		"  created_ms INTEGER NOT NULL"
		");"
		"INSERT INTO contacts_next (id, created_ms) SELECT id, created_ms FROM contacts;"
		"CREATE TABLE contact_keys_next ("
		"  kind TEXT NOT NULL CHECK (kind IN ('email', 'phone')),"
		"  key TEXT NOT NULL,"
		"  contact_id INTEGER NOT NULL,"
		"  PRIMARY KEY (kind, key)"
		") WITHOUT ROWID;"
		"INSERT INTO contact_keys_next (kind, key, contact_id) SELECT kind, key, contact_id FROM contact_keys;"
		"CREATE TABLE response_contacts_next ("
		"  response_id TEXT NOT NULL,"
		"  contact_id INTEGER NOT NULL,"
		"  PRIMARY KEY (response_id, contact_id)"
		") WITHOUT ROWID;"
		"INSERT INTO response_contacts_next (response_id, contact_id) "
		"SELECT response_id, contact_id FROM response_contacts;"
		"DROP TABLE response_contacts;"
		"DROP TABLE contact_keys;"
		"DROP TABLE contacts;"
		"ALTER TABLE contacts_next RENAME TO contacts;"
		"ALTER TABLE contact_keys_next RENAME TO contact_keys;"
		"ALTER TABLE response_contacts_next RENAME TO response_contacts;"
		"CREATE INDEX contact_keys_contact ON contact_keys(contact_id);"
		"CREATE INDEX response_contacts_contact ON response_contacts(contact_id);"
		"CREATE TRIGGER contact_takes_keys_and_links AFTER DELETE ON contacts BEGIN "
		"  DELETE FROM contact_keys WHERE contact_id = old.id; "
		"  DELETE FROM response_contacts WHERE contact_id = old.id; "
		"END;"
		"CREATE TRIGGER response_takes_contact_links AFTER DELETE ON responses BEGIN "
		"  DELETE FROM response_contacts WHERE response_id = old.id; "
		"END;",
	},
};

static const size_t store_n_migrations = sizeof store_migrations / sizeof store_migrations[0];

/* Schema version this build migrates to. */
int store_schema_version(void);

/* The SQLite implementations of the storage operations (storage.h: sqlite_X implements store_X). */
int sqlite_table_count(store *st, const storage_table *t, int64_t *n, char **err);
int sqlite_table_read(store *st, const storage_table *t, int64_t offset, int limit, storage_rows *out, char **err);
/* Opens the connection behind store_open, its handle pointing at ops (storage_sqlite). */
int sqlite_connect(const storage_ops *ops, const char *path, durability_mode durability, bool read_only,
                   store **out, char **err);
void sqlite_close(store *st);
int sqlite_begin(store *st, char **err);
int sqlite_commit(store *st, char **err);
void sqlite_rollback(store *st);
int sqlite_savepoint(store *st, char **err);
int sqlite_release(store *st, char **err);
void sqlite_rollback_savepoint(store *st);
int sqlite_idempotency_find(store *st, const char *key, int *status, char **body, char **err);
int sqlite_idempotency_put(store *st, const char *key, const char *form, const char *response_id, int status,
                           const char *body, int64_t created_ms, char **err);
int sqlite_response_insert(store *st, response_record *r, const char *client, char **err);
int sqlite_response_count(store *st, const char *form, int64_t *n, char **err);
int sqlite_response_list(store *st, const char *form, int64_t since, int64_t until, int64_t after_seq,
                         int limit, response_record **out, size_t *n, bool *more, char **err);
int sqlite_cursor_open(store *st, const char *form, int64_t since, int64_t until, store_cursor **out,
                       char **err);
int sqlite_cursor_next(store_cursor *cur, response_record *r, char **err);
int sqlite_cursor_next_raw(store_cursor *cur, response_raw *r, char **err);
void sqlite_cursor_close(store_cursor *cur);
int sqlite_kv_get(store *st, const char *plugin, const char *key, char **value, size_t *len, char **err);
int sqlite_kv_put(store *st, const char *plugin, const char *key, const void *value, size_t len, char **err);
int sqlite_kv_incr(store *st, const char *plugin, const char *key, int64_t delta, int64_t *result,
                   char **err);
int sqlite_kv_take(store *st, const char *plugin, const char *prefix, char **key, char **value, size_t *len,
                   char **err);
bool sqlite_conflicted(store *st);
int64_t sqlite_round_trips(store *st);
int sqlite_purge_before(store *st, int64_t cutoff_ms, int64_t *deleted, char **err);
int sqlite_checkpoint(store *st, char **err);
int sqlite_checkpoint_passive(store *st, char **err);
void sqlite_on_wal_commit(store *st, void (*fn)(void *arg, int wal_pages), void *arg);
int sqlite_set_cache(store *st, int kib, char **err);
int sqlite_ping(store *st, char **err);
int sqlite_response_page(store *st, const char *form, const response_filter *flt, int64_t after_seq,
                         bool newest_first, int limit, response_record **out, size_t *n, bool *more,
                         char **err);
int sqlite_cursor_open_filtered(store *st, const char *form, const response_filter *flt, store_cursor **out,
                                char **err);
int sqlite_summary_fold(store *st, int max_rows, bool *more, char **err);
int sqlite_summary_tally(store *st, const char *form, const response_filter *flt, const summary_question *qs,
                         size_t n, count_map *out, char **err);
int sqlite_views_add(store *st, const view_count *counts, size_t n, char **err);
int sqlite_views_count(store *st, const char *form, int64_t since, int64_t until, const char *variant,
                       const char *device, views_fn fn, void *ctx, char **err);
int sqlite_snapshot_begin(store *st, char **err);
void sqlite_snapshot_end(store *st, int begun);
int sqlite_contact_find(store *st, contact_kind kind, const char *key, int64_t *id, char **err);
int sqlite_contact_create(store *st, int64_t created_ms, int64_t *id, char **err);
int sqlite_contact_add_key(store *st, int64_t id, contact_kind kind, const char *key, char **err);
int sqlite_contact_link(store *st, const char *response_id, int64_t contact_id, char **err);
int sqlite_contact_response_count(store *st, int64_t contact_id, int64_t *n, char **err);
int sqlite_offer_insert(store *st, const char *response_id, const char *form_id, int seq, const char *text,
                        const char *code, char **err);
int sqlite_offers_for_response(store *st, const char *response_id, const char *form_id, json_t **offers,
                               char **err);
int sqlite_token_use(store *st, const char *nonce, int64_t expires_ms, int64_t now_ms, char **err);
int sqlite_offer_next_seq(store *st, const char *response_id, int *next, char **err);
int sqlite_confirmation_put(store *st, const char *response_id, int64_t expires_ms, const char *plugins,
                            char **err);
int sqlite_confirmation_take(store *st, const char *response_id, const char *form_id, int64_t now,
                             char **answers, char **meta, char **plugins, char **err);
int sqlite_outbox_insert(store *st, const delivery_record *d, char **err);
int sqlite_outbox_due(store *st, int64_t now, int limit, delivery_record **out, size_t *n, char **err);
int sqlite_outbox_next_due(store *st, int64_t *when_ms, char **err);
int sqlite_outbox_mark_delivered(store *st, const char *id, int attempts, int64_t now, char **err);
int sqlite_outbox_mark_failed(store *st, const char *id, int attempts, delivery_state state, int64_t next_ms,
                              const char *error, int64_t now, char **err);
int sqlite_outbox_get(store *st, const char *id, delivery_record *out, char **err);
int sqlite_outbox_list(store *st, bool all_states, delivery_state state, int64_t after_seq, int limit,
                       delivery_record **out, size_t *n, bool *more, char **err);
int sqlite_outbox_list_newest(store *st, bool all_states, delivery_state state, int64_t before_seq, int limit,
                              delivery_record **out, size_t *n, bool *more, char **err);
int sqlite_outbox_for_response(store *st, const char *response_id, int limit, delivery_record **out, size_t *n,
                               char **err);
int sqlite_response_get(store *st, const char *form_id, const char *id, json_t **out, char **err);
int sqlite_response_contacts(store *st, const char *response_id, json_t **out, char **err);
int sqlite_outbox_retry(store *st, const char *id, int64_t now, delivery_record *out, char **err);
int sqlite_outbox_delete_for_response(store *st, const char *response_id, int64_t *deleted, char **err);
int sqlite_outbox_purge_delivered(store *st, int64_t cutoff_ms, int64_t *deleted, char **err);
int sqlite_outbox_count(store *st, delivery_state s, int64_t *n, char **err);
int sqlite_inbox_list(store *st, const char *state, const char *form_id, int64_t now, int limit,
                      json_t **items, char **err);
int sqlite_inbox_get(store *st, const char *id, int64_t now, json_t **item, char **err);
int sqlite_inbox_update(store *st, const char *id, const char *state, const char *assignee, const char *note,
                        int64_t now, char **err);
int sqlite_inbox_for_contact(store *st, int64_t contact_id, int64_t now, json_t **items, char **err);
int sqlite_contact_card(store *st, int64_t contact_id, int64_t now, json_t **card, char **err);
int sqlite_answers_total(store *st, int64_t *n, char **err);
int sqlite_inbox_counts(store *st, int64_t now, int64_t *open, int64_t *overdue, char **err);
int sqlite_inbox_find_for_response(store *st, const char *response_id, char id[48], int64_t *due_ms,
                                   char **err);
int sqlite_inbox_insert(store *st, const char *id, const char *form_id, const char *response_id,
                        const char *contact, const char *rule, const char *priority, int64_t created_ms,
                        int64_t due_ms, const char *dest, const char *notice, char **err);
int sqlite_inbox_add_destination(store *st, const char *id, const char *dest, char **err);
int sqlite_inbox_reminders_due(store *st, int64_t now, int limit, json_t **rows, char **err);
int sqlite_inbox_mark_reminded(store *st, const char *id, int64_t now, char **err);
int sqlite_erase_contact(store *st, contact_kind kind, const char *key, erase_counts *out, char **err);

struct sqlite3;
struct sqlite3_stmt;
struct store_cursor;
/* The SQLite connection of a store handle, for the other store*.c files (the outbox's SQL lives in
 * store_outbox.c); it stays owned by the handle. */
struct sqlite3 *store_sqlite(struct store *st);
/* The facts of the answers the handle stored and the fold has not read back yet (fresh_facts.h); NULL
 * before the handle's first insert of an answer. Owned by the handle. */
struct fresh_facts *store_fresh_facts(struct store *st);

/* Hands msg (malloc'd) to *err, or frees it when the caller passed no err. */
void store_set_err(char **err, char *msg);
/* Sets *err to "op: <SQLite's message for the handle's last error>". Returns -1. */
int store_fail(struct store *st, const char *op, char **err);
/* Prepares sql on st for one use. Returns the statement (caller finalizes), or NULL with *err naming
 * op. */
struct sqlite3_stmt *store_prepare(struct store *st, const char *sql, const char *op, char **err);
/* Steps a statement prepared by store_prepare to completion (it returns no row we need) and
 * finalizes it. Returns 0, or -1 with *err naming op. */
int store_run_once(struct store *st, struct sqlite3_stmt *s, const char *op, char **err);

/* Statements store_cached keeps per handle (more call sites than this is a programming error). */
#define STORE_CACHED_MAX 64
/* The statement for sql, prepared on the handle's first use and kept until store_close: reset, its
 * bindings cleared. sql must be a string literal (its address is the cache key). The statement stays
 * owned by the handle: never finalize it; end each use with store_done (or store_run_cached), which
 * resets it so that it holds no read open. Returns NULL with *err naming op. */
struct sqlite3_stmt *store_cached(struct store *st, const char *sql, const char *op, char **err);
/* Ends a use of a store_cached statement (reset, bindings cleared). NULL is allowed. */
void store_done(struct sqlite3_stmt *s);
/* store_run_once for a store_cached statement: steps it once, then store_done. 0, or -1 with *err. */
int store_run_cached(struct store *st, struct sqlite3_stmt *s, const char *op, char **err);

/* Opens a streaming cursor over s (prepared by store_prepare and bound by the caller, columns as
 * RESPONSE_COLUMNS: seq, id, form, created_ms, answers, meta, score, tags), taking its read snapshot
 * now. The cursor owns s from the call on, also when it fails. 0 with *out (caller closes), or -1. */
int store_cursor_open_stmt(struct store *st, struct sqlite3_stmt *s, struct store_cursor **out, char **err);

/* Fills the record at rec from the current row of s: 0, or -1 with *err (rec left cleared). */
typedef int (*store_row_fn)(struct sqlite3_stmt *s, void *rec, char **err);
/* Frees what the record at rec owns. */
typedef void (*store_clear_fn)(void *rec);
/* Steps s (left for the caller to reset or finalize) and reads up to limit rows into a new array of
 * records of size bytes each; *more is set when a row beyond limit exists. Returns the array (always
 * malloc'd, caller owns it and its records) with *n, or NULL with *err naming op and *more false. */
void *store_collect_rows(struct store *st, struct sqlite3_stmt *s, int limit, size_t size, store_row_fn row,
                         store_clear_fn clear, const char *op, size_t *n, bool *more, char **err);

#endif
