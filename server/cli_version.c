/* cli_version: `earshot --version` — earshot, the plugin ABI and the libraries it runs with. */
#include <stdio.h>

#include <event2/event.h>
#include <sqlite3.h>
#include <yaml.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "build-config.h"
#include "cli.h"
#include "config.h"
#include "earshot/plugin.h"
#include "lazy_lib.h"

int cli_version(int argc, char **argv)
{
	printf("earshot %s\n", PACKAGE_VERSION);
	printf("plugin ABI %d.%d\n", EARSHOT_PLUGIN_ABI_MAJOR, EARSHOT_PLUGIN_ABI_MINOR);
	printf("libevent %s, SQLite %s, libyaml %s, jansson %s\n", event_get_version(), sqlite3_libversion(),
	       yaml_get_version_string(), jansson_version_str());
	/* libpq is loaded when a PostgreSQL database is used (lazy_lib.h); say whether it can be. */
	const char *why = NULL;
	if (libpq_load(&why) == 0) {
		int pq = PQlibVersion();
		printf("libpq %d.%d (for postgresql:// databases)\n", pq / 10000, pq % 10000);
	} else {
		printf("libpq: not available, postgresql:// databases cannot be used (%s)\n", why);
	}
	return 0;
}
