/* client_addr: the client address of a request behind trusted reverse proxies. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_addr.h"
#include "util.h"

/* One parsed address. */
typedef struct address {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char bytes[16];
} address;

/* Parses one X-Forwarded-For element (white space already trimmed): "192.0.2.7", "2001:db8::1",
 * and the forms some proxies write with a port, "192.0.2.7:4711", "[2001:db8::1]" and
 * "[2001:db8::1]:4711". An IPv4-mapped IPv6 address becomes IPv4. Returns true on success. */
static bool address_parse(const char *text, size_t len, address *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	char *host = buf;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (!close || (close[1] != '\0' && (close[1] != ':' || !close[2] ||
		                                    strspn(close + 2, "0123456789") != strlen(close + 2))))
			return false;
		*close = '\0';
		host = buf + 1;
	} else {
		char *colon = strchr(buf, ':');
		if (colon && !strchr(colon + 1, ':')) {
			/* One colon: IPv4 with a port. */
			if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
				return false;
			*colon = '\0';
		}
	}
	if (inet_pton(AF_INET, host, out->bytes) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (!strchr(host, ':') || inet_pton(AF_INET6, host, out->bytes) != 1)
		return false;
	static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
	out->family = AF_INET6;
	if (memcmp(out->bytes, v4_mapped, 12) == 0) {
		memmove(out->bytes, out->bytes + 12, 4);
		out->family = AF_INET;
	}
	return true;
}

/* Writes a in canonical text form into out. */
static void address_format(const address *a, char out[CLIENT_ADDR_MAX])
{
	if (!inet_ntop(a->family, a->bytes, out, CLIENT_ADDR_MAX))
		out[0] = '\0';
}

/* Every X-Forwarded-For line of headers joined with ",", in order; a malloc'd string (caller
 * frees), or NULL when there is none. */
static char *joined_chain(const struct evkeyvalq *headers)
{
	char *chain = NULL;
	for (const struct evkeyval *kv = headers ? headers->tqh_first : NULL; kv; kv = kv->next.tqe_next) {
		if (strcasecmp(kv->key, "X-Forwarded-For") != 0)
			continue;
		char *next = chain ? xasprintf("%s,%s", chain, kv->value) : xstrdup(kv->value);
		free(chain);
		chain = next;
	}
	return chain;
}

void client_addr_resolve(const earshot_config *cfg, const char *peer, const struct evkeyvalq *headers,
                         char out[CLIENT_ADDR_MAX])
{
	out[0] = '\0';
	if (!peer || !*peer)
		return;
	address hop;
	if (!address_parse(peer, strlen(peer), &hop)) {
		snprintf(out, CLIENT_ADDR_MAX, "%s", peer);
		return;
	}
	address_format(&hop, out);
	if (cfg->n_trusted_proxies == 0 || !config_is_trusted_proxy(cfg, hop.family, hop.bytes))
		return;
	char *chain = joined_chain(headers);
	if (!chain)
		return;
	/* Walk from the right: each element was appended by the hop to its right, which we trust. */
	size_t end = strlen(chain);
	for (;;) {
		size_t start = end;
		while (start > 0 && chain[start - 1] != ',')
			start--;
		size_t a = start, b = end;
		while (a < b && (chain[a] == ' ' || chain[a] == '\t'))
			a++;
		while (b > a && (chain[b - 1] == ' ' || chain[b - 1] == '\t'))
			b--;
		if (a < b) {
			/* An empty element (",,", a trailing comma) is skipped; anything else must parse. */
			if (!address_parse(chain + a, b - a, &hop))
				break;
			address_format(&hop, out);
			if (!config_is_trusted_proxy(cfg, hop.family, hop.bytes))
				break;
		}
		if (start == 0)
			break;
		end = start - 1;
	}
	free(chain);
}
