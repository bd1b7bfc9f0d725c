/* Fixture: a descriptor claiming the next ABI major version. */
#include <earshot/plugin.h>

static int bad_major_response(void *state, earshot_response *r)
{
	(void)state;
	(void)r;
	return EARSHOT_OK;
}

EARSHOT_PLUGIN_EXPORT extern const struct earshot_plugin earshot_plugin;
EARSHOT_PLUGIN_EXPORT const struct earshot_plugin earshot_plugin = {
	.struct_size = sizeof(struct earshot_plugin),
	.abi_major = EARSHOT_PLUGIN_ABI_MAJOR + 1,
	.abi_minor = 0,
	.name = "bad_major",
	.on_response = bad_major_response,
};
