/* cli_common: what every sub-command shares — usage errors and loading the config. */
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
