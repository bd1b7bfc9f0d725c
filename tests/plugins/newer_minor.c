/* Fixture: a descriptor claiming a newer minor version than the server speaks. */
#include <earshot/plugin.h>

static int newer_minor_response(void *state, earshot_response *r)
{
	(void)state;
	(void)r;
	return EARSHOT_OK;
}

EARSHOT_PLUGIN_EXPORT extern const struct earshot_plugin earshot_plugin;
EARSHOT_PLUGIN_EXPORT const struct earshot_plugin earshot_plugin = {
	.struct_size = sizeof(struct earshot_plugin),
	.abi_major = EARSHOT_PLUGIN_ABI_MAJOR,
	.abi_minor = EARSHOT_PLUGIN_ABI_MINOR + 1,
	.name = "newer_minor",
	.on_response = newer_minor_response,
};
