/* Fixture: a plugin with neither on_response nor on_route. */
#include <earshot/plugin.h>

static int no_hook_init(const struct earshot_host *host, const earshot_conf *config, void **state)
{
	(void)host;
	(void)config;
	*state = NULL;
	return EARSHOT_OK;
}

EARSHOT_PLUGIN_REGISTER(.name = "no_hook", .version = "0", .init = no_hook_init);
