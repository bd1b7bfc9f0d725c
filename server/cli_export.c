/* cli_export: `earshot export --form ID` — the CLI twin of the HTTP export. It reads its own
 * snapshot through a read-only connection, so it runs safely while `serve` is writing. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "export.h"
#include "form.h"
#include "storage.h"
#include "util.h"

static const char export_help[] =
	"usage: earshot export [-c FILE] --form ID [--format csv|ndjson|xlsx] [--since T] [--until T] [--bom] [-o OUT]\n"
	"Writes a form's answers (to stdout without -o). T is an ISO-8601 date or time (UTC when no offset);\n"
	"since is inclusive, until exclusive. --bom starts CSV with a byte-order mark for Excel.\n";

typedef struct file_sink {
	FILE *out;
} file_sink;

static int write_to_file(void *ctx, const char *data, size_t len)
{
	file_sink *s = ctx;
	return fwrite(data, 1, len, s->out) == len ? 0 : -1;
}

static void progress(int64_t done, int64_t total)
{
	if (total <= 0)
		total = done;
	fprintf(stderr, "\rexporting: %lld/%lld answers (%3d%%)", (long long)done, (long long)total,
	        total ? (int)(done * 100 / total) : 100);
}

int cli_export(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' }, { "form", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' }, { "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' }, { "output", required_argument, NULL, 'o' },
		{ "bom", no_argument, NULL, 'b' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *config_path = NULL, *form_id = NULL, *out_path = NULL;
	export_format fmt = EXPORT_CSV;
	int64_t since = STORE_TIME_MIN, until = STORE_TIME_MAX;
	bool bom = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:o:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'f': form_id = optarg; break;
		case 'F':
			if (export_format_parse(optarg, &fmt) != 0)
				return cli_usage_error("export", "--format must be one of: csv, ndjson, xlsx");
			break;
		case 's':
			if (iso8601_parse_ms(optarg, &since) != 0)
				return cli_usage_error("export", "--since must be an ISO-8601 date or time");
			break;
		case 'u':
			if (iso8601_parse_ms(optarg, &until) != 0)
				return cli_usage_error("export", "--until must be an ISO-8601 date or time");
			break;
		case 'o': out_path = optarg; break;
		case 'b': bom = true; break;
		case 'h': fputs(export_help, stdout); return 0;
		default: return cli_usage_error("export", "unknown option");
		}
	}
	if (!form_id)
		return cli_usage_error("export", "--form ID is required");
	if (optind < argc)
		return cli_usage_error("export", "unexpected argument");
	if (fmt == EXPORT_XLSX && !out_path && isatty(STDOUT_FILENO))
		return cli_usage_error("export", "an XLSX file is binary: give -o FILE or redirect stdout");

	int rc = 1;
	earshot_config *cfg = cli_load_config(config_path);
	form_registry *forms = NULL;
	store *db = NULL;
	store_cursor *cursor = NULL;
	export_writer *w = NULL;
	FILE *out = NULL;
	char *err = NULL;
	diag_list diags;
	diag_init(&diags);
	if (!cfg)
		goto done;
	forms = form_registry_load_dir(cfg->forms_dir, &diags);
	for (size_t i = 0; i < diags.n; i++)
		fprintf(stderr, "%s\n", diags.items[i]);
	if (!forms)
		goto done;
	const form *f = form_registry_find(forms, form_id);
	if (!f) {
		fprintf(stderr, "earshot export: there is no form \"%s\" in %s\n", form_id, cfg->forms_dir);
		goto done;
	}
	if (access(cfg->database, R_OK) != 0) {
		fprintf(stderr, "earshot export: cannot read the database %s\n", cfg->database);
		goto done;
	}
	if (store_open(cfg->database, cfg->durability, true, &db, &err) != 0)
		goto fail;
	int64_t total = 0;
	if (store_response_count(db, f->id, &total, &err) != 0)
		goto fail;
	out = out_path ? fopen(out_path, "wb") : stdout;
	if (!out) {
		fprintf(stderr, "earshot export: cannot write %s: %m\n", out_path);
		goto done;
	}
	file_sink sink = { out };
	if (store_cursor_open(db, f->id, since, until, &cursor, &err) != 0 ||
	    !(w = export_writer_new(fmt, f, bom, write_to_file, &sink, &err)))
		goto fail;
	bool show_progress = isatty(STDERR_FILENO);
	int64_t done = 0;
	for (;;) {
		response_raw rec;
		int step = store_cursor_next_raw(cursor, &rec, &err);
		if (step < 0)
			goto fail;
		if (step == 0)
			break;
		if (export_writer_row_raw(w, &rec, &err) != 0)
			goto fail;
		if (show_progress && ++done % 1000 == 0)
			progress(done, total);
	}
	if (export_writer_finish(w, &err) != 0)
		goto fail;
	if (fflush(out) != 0) {
		fprintf(stderr, "earshot export: writing failed: %m\n");
		goto done;
	}
	if (show_progress) {
		progress(done, done);
		fputc('\n', stderr);
	}
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "earshot export: %s\n", err ? err : "failed");
done:
	free(err);
	if (w)
		export_writer_free(w);
	if (cursor)
		store_cursor_close(cursor);
	if (db)
		store_close(db);
	if (out && out != stdout && fclose(out) != 0 && rc == 0) {
		fprintf(stderr, "earshot export: writing %s failed: %m\n", out_path);
		rc = 1;
	}
	if (forms)
		form_registry_unref(forms);
	diag_free(&diags);
	config_free(cfg);
	return rc;
}
