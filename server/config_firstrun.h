/* config_firstrun: the rules that let a short earshot.yaml (or none) run an installed server as shipped:
 * plugins found by name, the shipped plugins when `plugins:` is omitted, public_url following listen,
 * and the installed forms and static files when relative directories do not exist. */
#ifndef EARSHOT_CONFIG_FIRSTRUN_H
#define EARSHOT_CONFIG_FIRSTRUN_H

#include "config.h"

/* Where the plugin written as `path:` (or the entry's name when there is no path) lives. A value with a
 * '/' is joined to dir (unless absolute); a bare value is dir/VALUE when that file exists, else looked up
 * by name (a trailing ".so" removed): plugins/NAME.so beside the running binary (a build tree), then the
 * installed plugin directory. Returns a malloc'd path (caller frees). */
char *config_plugin_path(const char *dir, const char *written);

/* The public URL a browser on this machine reaches `listen` at: http://localhost:PORT for loopback and
 * wildcard hosts, http://HOST:PORT (http://[V6]:PORT) otherwise, without :80. Malloc'd (caller frees). */
char *config_public_url_for_listen(const char *host, int port);

/* Moves the plugins of defaults (the embedded default, parsed against c->dir) into c, and the
 * destinations they write to unless c defines a destination of that name. defaults stays owned by the
 * caller, emptied of what moved. */
void config_adopt_default_plugins(earshot_config *c, earshot_config *defaults);

/* Replaces a forms_dir or static_dir written as a relative path that is not a directory by forms/ or
 * static/ beside the running binary (a build tree links them to the sources), else by the installed
 * copy ($(pkgdatadir)/forms or /static), adding one line per replacement to c->notices. */
void config_use_installed_dirs(earshot_config *c);

#endif
