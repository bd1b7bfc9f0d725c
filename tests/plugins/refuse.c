/* Fixture: init refuses a config without a string setting `word`, with a message. */
#include <earshot/plugin.h>

static int refuse_init(const struct earshot_host *host, const earshot_conf *config, void **state)
{
	const char *word = NULL;
	int rc = host->config_string(config, "word", &word);
	if (rc < 0) {
		host->set_error(config, "%s", host->last_error(config));
		return EARSHOT_ERROR;
	}
	if (rc == 0) {
		host->set_error(config, "\"word\" is required");
		return EARSHOT_ERROR;
	}
	*state = NULL;
	return EARSHOT_OK;
}

static int refuse_response(void *state, earshot_response *r)
{
	(void)state;
	(void)r;
	return EARSHOT_OK;
}

EARSHOT_PLUGIN_REGISTER(.name = "refuse", .version = "0", .init = refuse_init,
                        .on_response = refuse_response);
