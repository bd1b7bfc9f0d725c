/* config-fuzzer: an earshot.yaml text through config_parse_string. A text is either refused with at
 * least one "fuzz/earshot.yaml:..." problem, or accepted as a configuration whose values lie in their
 * documented ranges (shared spec config.md). Nothing touches the file system: paths are only
 * resolved against a directory name. */
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "fuzz.h"

#define DISPLAY_NAME "fuzz/earshot.yaml"

/* Checks the values of an accepted configuration (borrowed). */
static void check_config(const earshot_config *c)
{
	FUZZ_CHECK(c->listen_host && c->listen_port >= 0 && c->listen_port <= 65535);
	FUZZ_CHECK(c->public_url && c->database && c->forms_dir && c->static_dir);
	FUZZ_CHECK(c->limits.max_body_bytes >= 1);
	FUZZ_CHECK(c->limits.submissions_per_minute >= 1);
	FUZZ_CHECK(c->limits.min_fill_seconds >= 0 && c->limits.min_fill_seconds <= 3);
	FUZZ_CHECK(c->limits.header_timeout_seconds >= 1);
	FUZZ_CHECK(c->privacy.retention_days >= 0);
	for (size_t i = 0; i < c->n_trusted_proxies; i++) {
		const cidr *r = &c->trusted_proxies[i];
		FUZZ_CHECK(r->family == AF_INET || r->family == AF_INET6);
		FUZZ_CHECK(r->prefix >= 0 && r->prefix <= (r->family == AF_INET ? 32 : 128));
		/* A range contains its own base address. */
		FUZZ_CHECK(config_is_trusted_proxy(c, r->family, r->addr));
	}
	for (size_t i = 0; i < c->n_allowed_origins; i++)
		FUZZ_CHECK(c->allowed_origins[i] && c->allowed_origins[i][0] != '\0');
	for (size_t i = 0; i < c->n_destinations; i++) {
		const destination *d = &c->destinations[i];
		FUZZ_CHECK(d->name && config_find_destination(c, d->name) != NULL);
		FUZZ_CHECK(d->type == DEST_WEBHOOK ? d->url != NULL : d->path != NULL);
	}
	for (size_t i = 0; i < c->n_plugins; i++) {
		const plugin_spec *p = &c->plugins[i];
		FUZZ_CHECK(p->name && p->path && p->where && json_is_object(p->config));
		for (size_t j = 0; j < p->n_forms; j++)
			FUZZ_CHECK(p->forms[j] != NULL);
	}
}

/* Parses one configuration text and checks the outcome; see the file comment. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	diag_list diags;
	diag_init(&diags);
	earshot_config *c = config_parse_string((const char *)data, size, DISPLAY_NAME, "/earshot-fuzz", &diags);
	FUZZ_CHECK((c == NULL) == (diags.n > 0));
	for (size_t i = 0; i < diags.n; i++)
		FUZZ_CHECK(strncmp(diags.items[i], DISPLAY_NAME, strlen(DISPLAY_NAME)) == 0);
	if (c)
		check_config(c);
	config_free(c);
	diag_free(&diags);
	return 0;
}
