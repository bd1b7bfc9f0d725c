/* cli_common: what every sub-command shares — usage errors and loading the config. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "config.h"

int cli_usage_error(const char *command, const char *message)
{
	fprintf(stderr, "earshot %s: %s\nhint: run \"earshot %s --help\"\n", command, message, command);
	return 2;
}

earshot_config *cli_load_config(const char *path)
{
	diag_list diags;
	diag_init(&diags);
	earshot_config *cfg = config_load(path, &diags);
	for (size_t i = 0; i < diags.n; i++)
		fprintf(stderr, "%s\n", diags.items[i]);
	diag_free(&diags);
	return cfg;
}

int cli_parse_config_option(int argc, char **argv, const char *command, const char *help,
                            const char **config_path)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int opt;
	*config_path = NULL;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': *config_path = optarg; break;
		case 'h': fputs(help, stdout); return 0;
		default: return cli_usage_error(command, "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error(command, "unexpected argument");
	return -1;
}
