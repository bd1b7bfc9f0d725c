/* blocklist: an example earshot plugin. It refuses answers whose email address belongs to a blocked
 * domain (or to a subdomain of one), with a message shown beside the email field.
 *
 * Build it out of tree (see Makefile):
 *     cc -shared -fPIC $(pkg-config --cflags earshot-plugin) blocklist.c -o blocklist.so
 *
 * Configure it in earshot.yaml:
 *     plugins:
 *       - name: blocklist
 *         path: /usr/local/lib/earshot/plugins/blocklist.so
 *         forms: ["newsletter", "signup-*"]
 *         config:
 *           domains: [mailinator.com, example.net]
 *           message: Please use an address you read.      # optional
 *           question: email                                # optional; default: every email question
 *
 * It needs plugin ABI 1.1 (config_check_keys, form_count, form_id, form_question_type).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <earshot/plugin.h>

struct blocklist {
	const struct earshot_host *host; /* the host's table, valid until fini */
	const char **domains;            /* array owned by us; the strings are the host's (config) */
	size_t n_domains;
	const char *message;             /* the host's (config) or a literal */
	const char *question;            /* the host's (config), or NULL for every email question */
};

/* The settings this plugin knows: anything else is a typo, refused at start. */
static const char *const known_settings[] = { "domains", "message", "question", NULL };

/* True when question is an email question of at least one form the plugin is enabled for. */
static int question_is_email(const struct earshot_host *host, const earshot_conf *config, const char *question)
{
	for (size_t i = 0; i < host->form_count(config); i++) {
		const char *type = host->form_question_type(config, host->form_id(config, i), question);
		if (type && strcmp(type, "email") == 0)
			return 1;
	}
	return 0;
}

/* Reads and checks the config; refuses it with a message the owner can act on. */
static int blocklist_init(const struct earshot_host *host, const earshot_conf *config, void **state)
{
	if (host->config_check_keys(config, NULL, known_settings) != EARSHOT_OK) {
		host->set_error(config, "%s", host->last_error(config));
		return EARSHOT_ERROR;
	}
	if (host->config_type(config, "domains") != EARSHOT_TYPE_LIST) {
		host->set_error(config, "\"domains\" must be a list of domain names");
		return EARSHOT_ERROR;
	}
	struct blocklist *b = calloc(1, sizeof *b);
	size_t n = host->config_length(config, "domains");
	if (!b || !(b->domains = calloc(n ? n : 1, sizeof *b->domains))) {
		free(b);
		host->set_error(config, "out of memory");
		return EARSHOT_ERROR;
	}
	b->host = host;
	b->message = "Please use another email address.";
	for (size_t i = 0; i < n; i++) {
		const char *d = NULL;
		const earshot_conf *item = host->config_item(config, "domains", i);
		if (host->config_string(item, NULL, &d) != 1 || !*d || strchr(d, '@')) {
			host->set_error(config, "\"domains\" item %zu must be a domain name such as example.net",
			                i + 1);
			free(b->domains);
			free(b);
			return EARSHOT_ERROR;
		}
		b->domains[b->n_domains++] = d;
	}
	if (host->config_string(config, "message", &b->message) < 0 ||
	    host->config_string(config, "question", &b->question) < 0) {
		host->set_error(config, "%s", host->last_error(config));
		free(b->domains);
		free(b);
		return EARSHOT_ERROR;
	}
	if (b->question && host->form_count(config) > 0 && !question_is_email(host, config, b->question)) {
		host->set_error(config, "\"question\": none of this plugin's forms has an email question \"%s\"",
		                b->question);
		free(b->domains);
		free(b);
		return EARSHOT_ERROR;
	}
	host->log(config, EARSHOT_LOG_INFO, "blocking %zu domain(s)", b->n_domains);
	*state = b;
	return EARSHOT_OK;
}

/* True when the address's domain is one of the blocked ones or below one of them. */
static int is_blocked(const struct blocklist *b, const char *address)
{
	const char *at = strrchr(address, '@');
	if (!at)
		return 0;
	const char *domain = at + 1;
	size_t len = strlen(domain);
	for (size_t i = 0; i < b->n_domains; i++) {
		size_t dlen = strlen(b->domains[i]);
		if (len == dlen && strcasecmp(domain, b->domains[i]) == 0)
			return 1;
		if (len > dlen && domain[len - dlen - 1] == '.' &&
		    strcasecmp(domain + len - dlen, b->domains[i]) == 0)
			return 1;
	}
	return 0;
}

/* Refuses the answer when an email question holds a blocked address. */
static int blocklist_response(void *state, earshot_response *r)
{
	const struct blocklist *b = state;
	const struct earshot_host *host = b->host;
	for (size_t i = 0; i < host->answered_count(r); i++) {
		const char *id = host->answered_id(r, i);
		const char *type = host->question_type(r, id);
		if (b->question ? strcmp(id, b->question) != 0 : !type || strcmp(type, "email") != 0)
			continue;
		const char *address = host->answer_string(r, id);
		if (address && is_blocked(b, address)) {
			host->log(r, EARSHOT_LOG_INFO, "refused an answer to %s from a blocked domain",
			          host->response_form(r));
			if (host->reject(r, id, b->message) != EARSHOT_OK)
				return EARSHOT_ERROR;
		}
	}
	return EARSHOT_OK;
}

static void blocklist_fini(void *state)
{
	struct blocklist *b = state;
	free(b->domains);
	free(b);
}

EARSHOT_PLUGIN_REGISTER(
	.name = "blocklist",
	.version = "1.0.0",
	.init = blocklist_init,
	.on_response = blocklist_response,
	.fini = blocklist_fini,
);
