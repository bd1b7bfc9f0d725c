/* cli_serve: `earshot serve [-c FILE]` — load everything, refuse to start on any problem, serve. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "confirm.h"
#include "http.h"
#include "plugin_glue.h"
#include "plugin_marker.h"

static const char serve_help[] =
	"usage: earshot serve [-c FILE]\n"
	"Runs the server in the foreground; logs one line per event to stderr.\n"
	"  -c, --config FILE   configuration (default ./earshot.yaml when it exists, else the embedded default)\n"
	"Signals: TERM/INT drain and exit 0; HUP re-reads forms and plugin settings.\n";

int cli_serve(int argc, char **argv)
{
	const char *config_path;
	int rc_opt = cli_parse_config_option(argc, argv, "serve", serve_help, &config_path);
	if (rc_opt >= 0)
		return rc_opt;
	earshot_config *cfg = cli_load_config(config_path);
	if (!cfg)
		return 1;
	/* Under load the heap's top grew and shrank with every batch (each release a system call and the
	 * next growth another): keep a little slack instead. */
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	for (size_t i = 0; i < cfg->notices.n; i++)
		log_line("%s", cfg->notices.items[i]);
	diag_list diags;
	diag_init(&diags);
	form_registry *forms = form_registry_load_dir(cfg->forms_dir, &diags);
	confirm_check_forms(forms, cfg, &diags);
	/* A crash inside a plugin hook last time: start without the plugin, or not at all. */
	char *notes = NULL;
	plugin_crash_policy(cfg, CRASH_AT_START, &diags, &notes);
	if (notes)
		log_line("%s", notes);
	free(notes);
	char *marker = plugin_marker_path(cfg->database), *err = NULL;
	if (marker && plugin_marker_open(marker, &err) != 0) {
		log_line("%s (a crash inside a plugin would go unnoticed)", err);
		free(err);
		err = NULL;
	}
	free(marker);
	struct plugin_slot *plugins = NULL;
	if (forms && !diags.n)
		plugin_glue_load(cfg, forms, &plugins, &diags);
	if (diags.n) {
		for (size_t i = 0; i < diags.n; i++)
			fprintf(stderr, "%s\n", diags.items[i]);
		fprintf(stderr, "earshot: not starting: %zu problem(s)\n", diags.n);
		diag_free(&diags);
		if (forms)
			form_registry_unref(forms);
		plugin_glue_unload(plugins);
		plugin_marker_close();
		config_free(cfg);
		return 1;
	}
	diag_free(&diags);
	server *srv = server_new(cfg, config_path, forms, plugins, &err);
	if (!srv) {
		fprintf(stderr, "earshot: not starting: %s\n", err);
		free(err);
		plugin_marker_close();
		return 1;
	}
	int rc = server_run(srv);
	server_free(srv);
	plugin_marker_close();
	return rc;
}
