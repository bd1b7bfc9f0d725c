/* cli_migrate: `earshot migrate [-c FILE] --to URL` — copies the configuration's SQLite database into
 * PostgreSQL, table by table in primary-key order, 500 rows per transaction, with a progress bar on
 * standard error, then checks that the target holds every row. Rows already in the target (a run that
 * was interrupted, or a second run) are left as they are, so the command can be stopped and run again. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "storage.h"

#define BATCH 500
#define BAR 30

static const char migrate_help[] =
	"usage: earshot migrate [-c FILE] --to postgresql://USER@HOST:PORT/DATABASE\n"
	"Copies the SQLite database of the configuration (answers, idempotency keys, plugin values,\n"
	"deliveries, contacts, offers, used form tokens, inbox items, pending confirmations, view counts)\n"
	"into the PostgreSQL database at the URL, creating its schema. Shows a progress bar per table,\n"
	"then checks that every row is there. Safe to interrupt and run again: rows already copied are\n"
	"kept.\n"
	"Stop `earshot serve` first (or copy a backup), then point database: at the URL.\n";

/* Draws the bar of one table on stderr (a line of its own when stderr is not a terminal, at the end). */
static void progress(const storage_table *t, int64_t done, int64_t total, bool tty, bool last)
{
	if (!tty && !last)
		return;
	int filled = total > 0 ? (int)(done * BAR / total) : BAR;
	char bar[BAR + 1];
	for (int i = 0; i < BAR; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[BAR] = '\0';
	fprintf(stderr, "%s%-22s [%s] %" PRId64 "/%" PRId64 "%s", tty ? "\r" : "", t->label, bar, done, total,
	        last ? "\n" : "");
	fflush(stderr);
}

/* Copies one table. Returns 0 with *copied (rows read) and *added (rows new in the target), or -1 with
 * *err. */
static int copy_table(store *from, store *to, const storage_table *t, int64_t total, bool tty, int64_t *added,
                      char **err)
{
	*added = 0;
	for (int64_t offset = 0;;) {
		storage_rows rows;
		if (store_table_read(from, t, offset, BATCH, &rows, err) != 0)
			return -1;
		int64_t n = 0;
		int rc = rows.n_rows == 0 ? 0 : store_begin(to, err);
		if (rc == 0 && rows.n_rows > 0) {
			rc = store_table_write(to, t, &rows, &n, err);
			if (rc == 0)
				rc = store_commit(to, err);
			if (rc != 0)
				store_rollback(to);
		}
		int got = rows.n_rows;
		storage_rows_clear(&rows);
		if (rc != 0)
			return -1;
		*added += n;
		offset += got;
		progress(t, offset > total ? total : offset, total, tty, false);
		if (got < BATCH)
			return store_table_finish(to, t, err);
	}
}

/* Copies every table and checks the counts. Returns the exit code. */
static int migrate(const earshot_config *cfg, const char *url)
{
	if (!storage_is_file(cfg->database)) {
		fprintf(stderr, "earshot migrate: the configuration's database is not a SQLite file: %s\n", cfg->database);
		return 1;
	}
	if (storage_is_file(url)) {
		fprintf(stderr, "earshot migrate: --to must be a postgresql:// URL\n");
		return 1;
	}
	if (access(cfg->database, R_OK) != 0) {
		fprintf(stderr, "earshot migrate: cannot read the database %s\n", cfg->database);
		return 1;
	}
	store *from = NULL, *to = NULL;
	char *err = NULL;
	int status = 1;
	if (store_open(cfg->database, cfg->durability, true, &from, &err) != 0 ||
	    store_open(url, cfg->durability, false, &to, &err) != 0) {
		fprintf(stderr, "earshot migrate: %s\n", err ? err : "cannot open a database");
		goto out;
	}
	bool tty = isatty(STDERR_FILENO);
	bool all_there = true;
	for (size_t i = 0; i < storage_n_tables; i++) {
		const storage_table *t = &storage_tables[i];
		int64_t total = 0, added = 0, there = 0;
		if (store_table_count(from, t, &total, &err) != 0 || copy_table(from, to, t, total, tty, &added, &err) != 0 ||
		    store_table_count(to, t, &there, &err) != 0) {
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr, "earshot migrate: %s: %s\n", t->label, err ? err : "failed");
			goto out;
		}
		progress(t, total, total, tty, true);
		printf("%s: %" PRId64 " in the SQLite database, %" PRId64 " copied now, %" PRId64 " in PostgreSQL%s\n", t->name,
		       total, added, there, there >= total ? "" : " (MISSING ROWS)");
		if (there < total)
			all_there = false;
	}
	if (all_there) {
		char *shown = storage_display_name(url);
		printf("every row is in %s\n", shown);
		free(shown);
		status = 0;
	} else {
		fprintf(stderr, "earshot migrate: some rows are missing from the target; run the command again\n");
	}
out:
	free(err);
	store_close(from);
	store_close(to);
	return status;
}

/* `earshot migrate`: parses -c and --to, loads the config, copies. */
int cli_migrate(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' }, { "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *config_path = NULL, *url = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:t:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 't': url = optarg; break;
		case 'h': fputs(migrate_help, stdout); return 0;
		default: return cli_usage_error("migrate", "unknown option");
		}
	}
	if (!url)
		return cli_usage_error("migrate", "--to URL is required (postgresql://USER@HOST:PORT/DATABASE)");
	if (optind < argc)
		return cli_usage_error("migrate", "unexpected argument");
	earshot_config *cfg = cli_load_config(config_path);
	if (!cfg)
		return 1;
	int rc = migrate(cfg, url);
	config_free(cfg);
	return rc;
}
