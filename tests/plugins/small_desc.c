/* Fixture: a descriptor with the right version but truncated after its name (smaller than 1.0's). */
#include <earshot/plugin.h>

struct truncated_descriptor {
	uint32_t struct_size;
	uint16_t abi_major;
	uint16_t abi_minor;
	const char *name;
};

EARSHOT_PLUGIN_EXPORT extern const struct truncated_descriptor earshot_plugin;
EARSHOT_PLUGIN_EXPORT const struct truncated_descriptor earshot_plugin = {
	.struct_size = sizeof(struct truncated_descriptor),
	.abi_major = EARSHOT_PLUGIN_ABI_MAJOR,
	.abi_minor = EARSHOT_PLUGIN_ABI_MINOR,
	.name = "small_desc",
};
