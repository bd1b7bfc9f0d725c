/* earshot: sub-command dispatch only. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "init", cli_init, "write a commented earshot.yaml, example forms and an admin token" },
	{ "serve", cli_serve, "run the server in the foreground" },
	{ "check", cli_check, "validate the config, every form and every plugin" },
	{ "export", cli_export, "write a form's answers as CSV, NDJSON or XLSX" },
	{ "token", cli_token, "print a new admin token and its config line" },
	{ "deliveries", cli_deliveries, "list the outbox of deliveries; replay one" },
	{ "forget", cli_forget, "erase every answer of an email address or phone number" },
	{ "migrate", cli_migrate, "copy the SQLite database into PostgreSQL" },
};

static void usage(FILE *out)
{
	fputs("usage: earshot COMMAND [OPTIONS]\n\ncommands:\n", out);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\n  earshot --version    versions of earshot, its plugin ABI and libraries\n"
	      "  earshot COMMAND --help\n", out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)
		return cli_version(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "earshot: unknown command \"%s\"\nhint: run \"earshot --help\" for the list\n", argv[1]);
	return 2;
}
