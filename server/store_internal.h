/* store_internal: the schema as an ordered list of forward migrations, private to store.c.
 *
 * Migration i (0-based) takes a database from PRAGMA user_version i to i + 1; store_open applies the
 * missing ones in order, each in its own transaction together with the user_version bump. A migration
 * that has shipped is never edited: a later feature appends a new entry at the end. Scripts may hold
 * several statements separated by semicolons. */
#ifndef EARSHOT_STORE_INTERNAL_H
#define EARSHOT_STORE_INTERNAL_H

#include <stddef.h>

typedef struct store_migration {
	const char *name; /* a short description, used in error messages */
	const char *sql;  /* the script */
} store_migration;

/* The list, included by store.c only (one translation unit). */
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
};

static const size_t store_n_migrations = sizeof store_migrations / sizeof store_migrations[0];

#endif
