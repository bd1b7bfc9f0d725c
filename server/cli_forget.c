/* cli_forget: `earshot forget [-c FILE] CONTACT` — the CLI twin of DELETE /api/v1/contacts/{contact}.
 * It opens a write connection of its own, so it works while `serve` runs (SQLite serialises it with
 * the server's writer). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "erase.h"

static const char forget_help[] =
	"usage: earshot forget [-c FILE] CONTACT\n"
	"Erases every answer tied to CONTACT — an email address (any letter case) or a phone number with\n"
	"its country code (+386 40 123 456) — with its offers and outbox deliveries, and the contact itself.\n"
	"Prints {\"deleted\":{\"responses\":n,\"offers\":n,\"deliveries\":n,\"inbox\":n}}; an unknown contact erases\n"
	"nothing (zeros). Works while the server runs.\n";

/* Erases contact from cfg's database and prints the counts. Returns 0, or 1 with a message. */
static int forget_contact(const earshot_config *cfg, const char *contact)
{
	if (storage_is_file(cfg->database) && access(cfg->database, R_OK | W_OK) != 0) {
		fprintf(stderr, "earshot forget: cannot write the database %s\n", cfg->database);
		return 1;
	}
	erase_counts counts;
	const char *why = NULL;
	char *err = NULL;
	int rc = erase_contact(cfg->database, cfg->durability, contact, &counts, &why, &err);
	if (rc == 1) {
		fprintf(stderr, "earshot forget: \"%s\" is neither an email address nor a phone number: %s\n", contact,
		        why);
		return 1;
	}
	if (rc != 0) {
		fprintf(stderr, "earshot forget: %s\n", err ? err : "the contact could not be erased");
		free(err);
		return 1;
	}
	json_t *body = erase_counts_to_json(&counts);
	char *text = json_dumps(body, JSON_COMPACT);
	printf("%s\n", text);
	free(text);
	json_decref(body);
	fprintf(stderr, "earshot forget: erased answers: %lld, offers: %lld, deliveries: %lld\n",
	        (long long)counts.responses, (long long)counts.offers, (long long)counts.deliveries);
	return 0;
}

/* `earshot forget`: parses -c and the one CONTACT argument, loads the config, erases. Returns the
 * exit code: 0, 1 with a message, 2 for a usage error. */
int cli_forget(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *config_path = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'h': fputs(forget_help, stdout); return 0;
		default: return cli_usage_error("forget", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("forget", "missing CONTACT (an email address or a phone number)");
	if (argc - optind > 1)
		return cli_usage_error("forget", "one CONTACT at a time");
	earshot_config *cfg = cli_load_config(config_path);
	if (!cfg)
		return 1;
	int rc = forget_contact(cfg, argv[optind]);
	config_free(cfg);
	return rc;
}
