/* cli_check: `earshot check [-c FILE]` — validate config, forms and plugins without serving. */
#include <stdio.h>

#include "cli.h"
#include "confirm.h"
#include "config.h"
#include "form.h"
#include "plugin_glue.h"
#include "plugin_marker.h"

static const char check_help[] =
	"usage: earshot check [-c FILE]\n"
	"Validates the configuration, every form and every plugin (loads it, checks its ABI).\n"
	"Prints path:line:col: message for each problem; exits 0 when valid, 1 when problems were found.\n";

int cli_check(int argc, char **argv)
{
	const char *config_path;
	int rc_opt = cli_parse_config_option(argc, argv, "check", check_help, &config_path);
	if (rc_opt >= 0)
		return rc_opt;
	diag_list diags;
	diag_init(&diags);
	earshot_config *cfg = config_load(config_path, &diags);
	size_t n_forms = 0, n_plugins = 0;
	if (cfg) {
		for (size_t i = 0; i < cfg->notices.n; i++)
			fprintf(stderr, "note: %s\n", cfg->notices.items[i]);
		/* Forms and plugins are checked even when the other has problems: report everything. */
		form_registry *forms = form_registry_load_dir(cfg->forms_dir, &diags);
		if (forms)
			n_forms = forms->n;
		confirm_check_forms(forms, cfg, &diags);
		char *notes = NULL;
		plugin_crash_policy(cfg, CRASH_AT_CHECK, &diags, &notes);
		if (notes)
			fprintf(stderr, "%s\n", notes);
		free(notes);
		struct plugin_slot *plugins = NULL;
		if (plugin_glue_load(cfg, forms, &plugins, &diags) == 0)
			n_plugins = cfg->n_plugins;
		plugin_glue_unload(plugins);
		if (forms)
			form_registry_unref(forms);
	}
	for (size_t i = 0; i < diags.n; i++)
		printf("%s\n", diags.items[i]);
	int rc = diags.n ? 1 : 0;
	if (rc)
		fprintf(stderr, "earshot check: %zu problem(s)\n", diags.n);
	else
		fprintf(stderr, "earshot check: %s is valid: %zu form(s), %zu plugin(s)\n", cfg->source, n_forms,
		        n_plugins);
	diag_free(&diags);
	config_free(cfg);
	return rc;
}
