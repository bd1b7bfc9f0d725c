/* cli_deliveries: `earshot deliveries [-c FILE] [--state STATE] [--retry ID]` — the CLI twin of the
 * admin outbox routes. Listing reads a snapshot through a read-only connection; --retry writes one
 * row, which a running server picks up within a second. Both work while `serve` runs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "outbox.h"
#include "storage.h"
#include "util.h"

#define PAGE 1000

static const char deliveries_help[] =
	"usage: earshot deliveries [-c FILE] [--state pending|failed|dead|delivered] [--retry ID]\n"
	"Lists the outbox: one line per delivery with its state, destination, type, attempts, when it was\n"
	"created, when it is next tried and the last error. --state shows one state only.\n"
	"--retry ID replays a delivery that was not delivered (dead, failed or pending): it is due at once,\n"
	"with a fresh retry window; a running server sends it within a second.\n";

/* Writes "YYYY-MM-DDTHH:MM:SSZ" of ms (or "-" for 0) into buf. */
static const char *short_time(int64_t ms, char buf[32])
{
	if (ms == 0)
		return "-";
	iso8601_format_ms(ms, buf);
	/* Seconds are precise enough for a listing: drop ".mmm". */
	char *dot = strchr(buf, '.');
	if (dot)
		memcpy(dot, "Z", 2);
	return buf;
}

/* Prints one delivery as a line of the listing. */
static void print_row(const delivery_record *d)
{
	char created[32], next[32];
	bool due = d->state == DELIVERY_PENDING || d->state == DELIVERY_FAILED;
	printf("%-28s  %-9s  %-16s  %-10s  %8d  %-20s  %-20s  %s\n", d->id, delivery_state_name(d->state),
	       d->destination, d->type, d->attempts, short_time(d->created_ms, created),
	       due ? short_time(d->next_attempt_ms, next) : "-", d->last_error ? d->last_error : "-");
}

/* Lists every delivery (or those in one state), a page at a time. Returns 0, or 1 with a message. */
static int list_deliveries(const earshot_config *cfg, bool all, delivery_state state)
{
	store *st = NULL;
	char *err = NULL;
	if (store_open(cfg->database, cfg->durability, true, &st, &err) != 0) {
		fprintf(stderr, "earshot deliveries: %s\n", err);
		free(err);
		return 1;
	}
	printf("%-28s  %-9s  %-16s  %-10s  %8s  %-20s  %-20s  %s\n", "ID", "STATE", "DESTINATION", "TYPE",
	       "ATTEMPTS", "CREATED", "NEXT ATTEMPT", "LAST ERROR");
	int64_t after = 0, total = 0;
	bool more = true;
	while (more) {
		delivery_record *rows = NULL;
		size_t n = 0;
		if (store_outbox_list(st, all, state, after, PAGE, &rows, &n, &more, &err) != 0) {
			fprintf(stderr, "earshot deliveries: %s\n", err);
			free(err);
			store_close(st);
			return 1;
		}
		for (size_t i = 0; i < n; i++) {
			print_row(&rows[i]);
			after = rows[i].seq;
			delivery_record_clear(&rows[i]);
		}
		total += (int64_t)n;
		free(rows);
	}
	store_close(st);
	fprintf(stderr, "earshot deliveries: %lld deliver%s\n", (long long)total, total == 1 ? "y" : "ies");
	return 0;
}

/* Replays delivery id. Returns 0, or 1 with a message (unknown, already delivered, database). */
static int retry_delivery(const earshot_config *cfg, const char *id)
{
	store *st = NULL;
	char *err = NULL;
	delivery_record d;
	memset(&d, 0, sizeof d);
	if (store_open(cfg->database, cfg->durability, false, &st, &err) != 0) {
		fprintf(stderr, "earshot deliveries: %s\n", err);
		free(err);
		return 1;
	}
	int rc = store_outbox_retry(st, id, now_ms(), &d, &err);
	store_close(st);
	int status = 1;
	if (rc == 1) {
		print_row(&d);
		fprintf(stderr, "earshot deliveries: %s is due again; a running server sends it within a second\n",
		        id);
		status = 0;
	} else if (rc == 0) {
		fprintf(stderr, "earshot deliveries: there is no delivery \"%s\"\n", id);
	} else if (rc == 2) {
		fprintf(stderr, "earshot deliveries: %s was already delivered; nothing to replay\n", id);
	} else {
		fprintf(stderr, "earshot deliveries: %s\n", err ? err : "the delivery could not be replayed");
	}
	free(err);
	delivery_record_clear(&d);
	return status;
}

/* `earshot deliveries`: parses the options, loads the config, lists or replays. Returns the exit
 * code: 0, 1 with a message, 2 for a usage error. */
int cli_deliveries(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' }, { "retry", required_argument, NULL, 'r' },
		{ "state", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *config_path = NULL, *retry_id = NULL;
	bool all = true;
	delivery_state state = DELIVERY_PENDING;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'r': retry_id = optarg; break;
		case 's':
			if (delivery_state_parse(optarg, &state) != 0)
				return cli_usage_error("deliveries",
				                       "--state must be one of: pending, failed, dead, delivered");
			all = false;
			break;
		case 'h': fputs(deliveries_help, stdout); return 0;
		default: return cli_usage_error("deliveries", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("deliveries", "unexpected argument");
	if (retry_id && !all)
		return cli_usage_error("deliveries", "--retry and --state cannot be combined");
	if (retry_id && !retry_id[0])
		return cli_usage_error("deliveries", "--retry needs a delivery id");
	earshot_config *cfg = cli_load_config(config_path);
	if (!cfg)
		return 1;
	int rc;
	if (access(cfg->database, R_OK) != 0) {
		fprintf(stderr, "earshot deliveries: cannot read the database %s\n", cfg->database);
		rc = 1;
	} else {
		rc = retry_id ? retry_delivery(cfg, retry_id) : list_deliveries(cfg, all, state);
	}
	config_free(cfg);
	return rc;
}
