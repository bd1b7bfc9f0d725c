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

int cli_version(int argc, char **argv)
{
	printf("earshot %s\n", PACKAGE_VERSION);
	printf("plugin ABI %d.%d\n", EARSHOT_PLUGIN_ABI_MAJOR, EARSHOT_PLUGIN_ABI_MINOR);
	int pq = PQlibVersion();
	printf("libevent %s, SQLite %s, libpq %d.%d, libyaml %s, jansson %s\n", event_get_version(),
	       sqlite3_libversion(), pq / 10000, pq % 10000, yaml_get_version_string(), jansson_version_str());
	return 0;
}
