/* Fixture: a shared library without the `earshot_plugin` entry symbol (misspelled). */
#include <earshot/plugin.h>

static int misspelled_response(void *state, earshot_response *r)
{
	(void)state;
	(void)r;
	return EARSHOT_OK;
}

EARSHOT_PLUGIN_EXPORT extern const struct earshot_plugin earshot_plugins;
EARSHOT_PLUGIN_EXPORT const struct earshot_plugin earshot_plugins = {
	.struct_size = sizeof(struct earshot_plugin),
	.abi_major = EARSHOT_PLUGIN_ABI_MAJOR,
	.abi_minor = EARSHOT_PLUGIN_ABI_MINOR,
	.name = "no_entry",
	.on_response = misspelled_response,
};
