/* config: earshot.yaml read into a validated earshot_config, every problem reported with its position. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_firstrun.h"
#include "config_alerts.h"
#include "util.h"
#include "yaml_doc.h"

#define EMBEDDED_NAME "<embedded default>"

static const char *const top_keys[] = { "listen", "public_url", "database", "durability", "forms_dir",
	"static_dir", "state_dir", "limits", "trusted_proxies", "cors", "privacy", "admin", "destinations", "plugins", "metrics",
	NULL };
static const char *const metrics_keys[] = { "public", NULL };
static const char *const limits_keys[] = { "max_body_bytes", "submissions_per_minute", "min_fill_seconds",
	"header_timeout_seconds", "max_connections", NULL };
static const char *const cors_keys[] = { "allowed_origins", NULL };
static const char *const privacy_keys[] = { "client_ip", "retention_days", NULL };
static const char *const admin_keys[] = { "tokens", NULL };
static const char *const destination_keys[] = { "type", "url", "secret", "timeout_seconds", "retry_for_hours",
	"path", "smtp_url", "username", "password_file", "from", "to", "format", NULL };
static const char *const plugin_keys[] = { "name", "path", "forms", "config", "on_crash", NULL };
static const char *const on_crash_names[] = { "refuse", "disable", NULL };

static const char *const durability_names[] = { "full", "normal", NULL };
static const char *const client_ip_names[] = { "none", "truncated", "hashed", NULL };
static const char *const destination_type_names[] = { "webhook", "file", "email", "chat", NULL };

/* Reading state: the document, the config being filled and the raw (unresolved) paths. */
typedef struct config_reader {
	ydoc *doc;
	earshot_config *c;
	char *database, *forms_dir, *static_dir, *state_dir; /* as written (state_dir may be NULL), resolved at the end */
	bool public_url_given, plugins_given;    /* else they follow listen / the embedded default */
} config_reader;

/* ---- addresses ------------------------------------------------------------------------------ */

/* Zeroes the host bits of addr beyond prefix. */
static void mask_address(unsigned char *addr, int len, int prefix)
{
	for (int i = 0; i < len; i++) {
		int bits = prefix - i * 8;
		if (bits >= 8)
			continue;
		addr[i] &= bits <= 0 ? 0 : (unsigned char)(0xFF << (8 - bits));
	}
}

/* Parses an address or CIDR range into out (host bits cleared); 0, or -1 when malformed. */
int cidr_parse(const char *s, cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t len = strlen(s);
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len + 1);
	char *slash = strchr(buf, '/');
	long prefix = -1;
	if (slash) {
		*slash = '\0';
		const char *digits = slash + 1;
		if (!*digits || strlen(digits) > 3 || strspn(digits, "0123456789") != strlen(digits))
			return -1;
		prefix = strtol(digits, NULL, 10);
	}
	cidr r;
	memset(&r, 0, sizeof r);
	if (inet_pton(AF_INET, buf, r.addr) == 1) {
		r.family = AF_INET;
		if (prefix > 32)
			return -1;
		r.prefix = prefix < 0 ? 32 : (int)prefix;
	} else if (inet_pton(AF_INET6, buf, r.addr) == 1) {
		r.family = AF_INET6;
		if (prefix > 128)
			return -1;
		r.prefix = prefix < 0 ? 128 : (int)prefix;
	} else {
		return -1;
	}
	mask_address(r.addr, r.family == AF_INET ? 4 : 16, r.prefix);
	*out = r;
	return 0;
}

/* True when the first `prefix` bits of a and b agree. */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, int prefix)
{
	int whole = prefix / 8, rest = prefix % 8;
	if (memcmp(a, b, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xFF << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/* True when addr (of family) lies in range; IPv4-mapped IPv6 addresses match IPv4 ranges. */
bool cidr_contains(const cidr *range, int family, const unsigned char *addr)
{
	static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
	if (range->family == AF_INET && family == AF_INET6 && memcmp(addr, v4_mapped, 12) == 0) {
		family = AF_INET; /* ::ffff:a.b.c.d, as a dual-stack socket reports IPv4 peers */
		addr += 12;
	}
	if (range->family != family)
		return false;
	return prefix_equal(range->addr, addr, range->prefix);
}

/* True when addr lies in one of the configured trusted proxy ranges. */
bool config_is_trusted_proxy(const earshot_config *c, int family, const unsigned char *addr)
{
	for (size_t i = 0; i < c->n_trusted_proxies; i++)
		if (cidr_contains(&c->trusted_proxies[i], family, addr))
			return true;
	return false;
}

/* Splits "host:port" or "[v6]:port" into a malloc'd host (brackets removed) and a port 0..65535.
 * Returns 0, or -1 when malformed. */
static int parse_listen(const char *s, char **host, int *port)
{
	const char *colon;
	char *h;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		h = xstrndup(s + 1, (size_t)(close - s - 1));
		unsigned char tmp[16];
		if (inet_pton(AF_INET6, h, tmp) != 1) {
			free(h);
			return -1;
		}
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s)
			return -1;
		h = xstrndup(s, (size_t)(colon - s));
		if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != strlen(h)) {
			free(h);
			return -1;
		}
	}
	const char *digits = colon + 1;
	size_t nd = strlen(digits);
	if (nd == 0 || nd > 5 || strspn(digits, "0123456789") != nd || atoi(digits) > 65535) {
		free(h);
		return -1;
	}
	*host = h;
	*port = atoi(digits);
	return 0;
}

/* ---- small validators ----------------------------------------------------------------------- */

/* True for "http://X" or "https://X" with a non-empty X free of spaces and control characters. */
static bool is_http_url(const char *s)
{
	const char *rest;
	if (strncmp(s, "http://", 7) == 0)
		rest = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		rest = s + 8;
	else
		return false;
	if (*rest == '\0' || *rest == '/')
		return false;
	for (const char *p = rest; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* True for a CORS origin: "scheme://host[:port]" with no path, query or fragment. */
static bool is_origin(const char *s)
{
	if (!is_http_url(s))
		return false;
	const char *host = strstr(s, "://") + 3;
	return strpbrk(host, "/?#") == NULL;
}

/* True when s is standard base64 (A-Z a-z 0-9 + /, '=' padding, length a multiple of 4). */
static bool is_base64(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len % 4 != 0)
		return false;
	size_t body = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
	size_t pad = len - body;
	if (pad > 2)
		return false;
	for (size_t i = body; i < len; i++)
		if (s[i] != '=')
			return false;
	return body > 0;
}

/* Parses "sha256:" + 64 hex digits into 32 bytes. Returns 0, or -1 when malformed. */
static int parse_token_digest(const char *s, unsigned char out[32])
{
	if (strncmp(s, "sha256:", 7) != 0)
		return -1;
	const char *hex = s + 7;
	if (strlen(hex) != 64 || strspn(hex, "0123456789abcdefABCDEF") != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], '\0' };
		out[i] = (unsigned char)strtoul(byte, NULL, 16);
	}
	return 0;
}

/* Returns a malloc'd path: p itself when absolute or when dir is "" or ".", else dir/p. */
static char *resolve_path(const char *dir, const char *p)
{
	if (p[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0 || strstr(p, "://"))
		return xstrdup(p);
	size_t dl = strlen(dir);
	return xasprintf("%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", p);
}

/* Returns the malloc'd directory part of a file path ("." when it has none). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* ---- sections ------------------------------------------------------------------------------- */

/* listen: host:port or [v6]:port. */
static void read_listen(config_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_get(r->doc, root, "listen");
	char *text = NULL;
	if (!n || ydoc_read_string(r->doc, n, "listen", &text) < 0)
		return;
	char *host;
	int port;
	if (parse_listen(text, &host, &port) < 0) {
		ydoc_invalid(r->doc, n, "listen", "it must be host:port or [IPv6]:port, such as 127.0.0.1:8080 or [::1]:8080");
	} else {
		free(r->c->listen_host);
		r->c->listen_host = host;
		r->c->listen_port = port;
	}
	free(text);
}

/* public_url: an http(s) URL, stored without trailing slashes. */
static void read_public_url(config_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_get(r->doc, root, "public_url");
	char *text = NULL;
	r->public_url_given = n != NULL;
	if (!n || ydoc_read_string(r->doc, n, "public_url", &text) < 0)
		return;
	if (!is_http_url(text)) {
		ydoc_invalid(r->doc, n, "public_url", "it must be an http:// or https:// URL such as https://feedback.example.com");
		free(text);
		return;
	}
	size_t len = strlen(text);
	while (len > 0 && text[len - 1] == '/')
		text[--len] = '\0';
	free(r->c->public_url);
	r->c->public_url = text;
}

/* limits: { max_body_bytes, submissions_per_minute, min_fill_seconds, header_timeout_seconds,
 * max_connections }. */
static void read_limits(config_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_get(r->doc, root, "limits");
	if (!n || !ydoc_expect_mapping(r->doc, n, "limits"))
		return;
	ydoc_check_keys(r->doc, n, limits_keys);
	int body = (int)r->c->limits.max_body_bytes;
	if (ydoc_get_int(r->doc, n, "max_body_bytes", 1, INT_MAX, &body) > 0)
		r->c->limits.max_body_bytes = (size_t)body;
	ydoc_get_int(r->doc, n, "submissions_per_minute", 1, INT_MAX, &r->c->limits.submissions_per_minute);
	ydoc_get_int(r->doc, n, "min_fill_seconds", 0, 3, &r->c->limits.min_fill_seconds);
	ydoc_get_int(r->doc, n, "header_timeout_seconds", 1, INT_MAX, &r->c->limits.header_timeout_seconds);
	ydoc_get_int(r->doc, n, "max_connections", 1, 10000000, &r->c->limits.max_connections);
}

/* trusted_proxies: a sequence of addresses or CIDR ranges. */
static void read_trusted_proxies(config_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_get(r->doc, root, "trusted_proxies");
	char **items = NULL;
	size_t count = 0;
	if (!n || ydoc_read_strings(r->doc, n, "trusted_proxies", &items, &count) < 0)
		return;
	cidr *ranges = xcalloc(count ? count : 1, sizeof *ranges);
	for (size_t i = 0; i < count; i++)
		if (cidr_parse(items[i], &ranges[i]) < 0)
			ydoc_invalid(r->doc, ydoc_seq_item(r->doc, n, i), "trusted_proxies",
			             "it must be an address or CIDR range such as 10.0.0.0/8, 192.168.1.7 or ::1");
	ydoc_strings_free(items, count);
	free(r->c->trusted_proxies);
	r->c->trusted_proxies = ranges;
	r->c->n_trusted_proxies = count;
}

/* cors: { allowed_origins: ["*" | scheme://host[:port], ...] }. */
static void read_cors(config_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_get(r->doc, root, "cors");
	if (!n || !ydoc_expect_mapping(r->doc, n, "cors"))
		return;
	ydoc_check_keys(r->doc, n, cors_keys);
	yaml_node_t *list = ydoc_get(r->doc, n, "allowed_origins");
	char **items = NULL;
	size_t count = 0;
	if (!list || ydoc_read_strings(r->doc, list, "allowed_origins", &items, &count) < 0)
		return;
	for (size_t i = 0; i < count; i++)
		if (strcmp(items[i], "*") != 0 && !is_origin(items[i]))
			ydoc_invalid(r->doc, ydoc_seq_item(r->doc, list, i), "allowed_origins",
			             "it must be \"*\" or an origin such as https://shop.example.com (no path)");
	ydoc_strings_free(r->c->allowed_origins, r->c->n_allowed_origins);
	r->c->allowed_origins = items;
	r->c->n_allowed_origins = count;
}

/* privacy: { client_ip, retention_days }. */
static void read_privacy(config_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_get(r->doc, root, "privacy");
	if (!n || !ydoc_expect_mapping(r->doc, n, "privacy"))
		return;
	ydoc_check_keys(r->doc, n, privacy_keys);
	int mode;
	if (ydoc_get_enum(r->doc, n, "client_ip", client_ip_names, &mode) > 0)
		r->c->privacy.client_ip = (client_ip_mode)mode;
	ydoc_get_int(r->doc, n, "retention_days", 0, INT_MAX, &r->c->privacy.retention_days);
}

/* admin: { tokens: ["sha256:<64 hex>", ...] }. Token values are never echoed in messages. */
static void read_admin(config_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_get(r->doc, root, "admin");
	if (!n || !ydoc_expect_mapping(r->doc, n, "admin"))
		return;
	ydoc_check_keys(r->doc, n, admin_keys);
	yaml_node_t *list = ydoc_get(r->doc, n, "tokens");
	char **items = NULL;
	size_t count = 0;
	if (!list || ydoc_read_strings(r->doc, list, "tokens", &items, &count) < 0)
		return;
	unsigned char (*digests)[32] = xcalloc(count ? count : 1, sizeof *digests);
	for (size_t i = 0; i < count; i++)
		if (parse_token_digest(items[i], digests[i]) < 0)
			ydoc_error(r->doc, ydoc_seq_item(r->doc, list, i),
			           "invalid value for \"tokens\", it must be \"sha256:\" followed by 64 hex digits "
			           "(the line printed by earshot token, not the token itself)");
	ydoc_strings_free(items, count);
	free(r->c->admin_tokens);
	r->c->admin_tokens = digests;
	r->c->n_admin_tokens = count;
}

/* Reports a key present in a destination of a type it does not belong to. */
static void refuse_key(config_reader *r, const yaml_node_t *map, const char *key, const char *type)
{
	yaml_node_t *k = ydoc_get_key(r->doc, map, key);
	if (k)
		ydoc_error(r->doc, k, "\"%s\" is only allowed for %s destinations", key, type);
}

/* Reads the webhook-only keys of a destination. */
static void read_webhook(config_reader *r, const yaml_node_t *map, destination *dst)
{
	refuse_key(r, map, "path", "file");
	yaml_node_t *url = ydoc_require(r->doc, map, "url");
	if (url && ydoc_read_string(r->doc, url, "url", &dst->url) == 0 && !is_http_url(dst->url))
		ydoc_invalid(r->doc, url, "url", "it must be an http:// or https:// URL");
	yaml_node_t *secret = ydoc_get(r->doc, map, "secret");
	if (secret && ydoc_read_string(r->doc, secret, "secret", &dst->secret) == 0 &&
	    (strncmp(dst->secret, "whsec_", 6) != 0 || !is_base64(dst->secret + 6)))
		ydoc_error(r->doc, secret, "invalid value for \"secret\", it must be \"whsec_\" followed by base64, "
		                           "such as whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	ydoc_get_int(r->doc, map, "timeout_seconds", 1, 3600, &dst->timeout_seconds);
}

/* Reads one destination `name: {type, ...}` into dst. */
static void read_destination(config_reader *r, const yaml_node_t *key, const yaml_node_t *map, destination *dst)
{
	dst->name = xstrdup(ydoc_scalar(key));
	dst->timeout_seconds = 5;
	dst->retry_for_hours = 24;
	if (dst->name[0] == '\0')
		ydoc_error(r->doc, key, "destination names must not be empty");
	if (!ydoc_expect_mapping(r->doc, map, dst->name))
		return;
	ydoc_check_keys(r->doc, map, destination_keys);
	yaml_node_t *type = ydoc_require(r->doc, map, "type");
	int t = -1;
	if (type)
		ydoc_read_enum(r->doc, type, "type", destination_type_names, &t);
	double hours = dst->retry_for_hours;
	if (ydoc_get_number(r->doc, map, "retry_for_hours", &hours) > 0) {
		if (hours < 0)
			ydoc_invalid(r->doc, ydoc_get(r->doc, map, "retry_for_hours"), "retry_for_hours",
			             "it must be a number >= 0");
		else
			dst->retry_for_hours = hours;
	}
	if (t == DEST_WEBHOOK) {
		dst->type = DEST_WEBHOOK;
		config_refuse_alert_keys(r->doc, map, dst->type);
		read_webhook(r, map, dst);
	} else if (t == DEST_EMAIL || t == DEST_CHAT) {
		dst->type = (destination_type)t;
		refuse_key(r, map, "path", "file");
		refuse_key(r, map, "secret", "webhook");
		if (t == DEST_EMAIL)
			config_read_email(r->doc, map, r->c->dir, dst);
		else
			config_read_chat(r->doc, map, dst);
	} else if (t == DEST_FILE) {
		dst->type = DEST_FILE;
		config_refuse_alert_keys(r->doc, map, dst->type);
		refuse_key(r, map, "url", "webhook");
		refuse_key(r, map, "secret", "webhook");
		refuse_key(r, map, "timeout_seconds", "webhook");
		yaml_node_t *path = ydoc_require(r->doc, map, "path");
		char *raw = NULL;
		if (path && ydoc_read_string(r->doc, path, "path", &raw) == 0) {
			dst->path = resolve_path(r->c->dir, raw);
			free(raw);
		}
	}
}

/* metrics: {public: bool}. */
static void read_metrics(config_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_get(r->doc, root, "metrics");
	if (!n || ydoc_is_null(n) || !ydoc_expect_mapping(r->doc, n, "metrics"))
		return;
	ydoc_check_keys(r->doc, n, metrics_keys);
	ydoc_get_bool(r->doc, n, "public", &r->c->metrics.public_access);
}

/* destinations: a mapping of name to destination. */
static void read_destinations(config_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_get(r->doc, root, "destinations");
	if (!n || ydoc_is_null(n) || !ydoc_expect_mapping(r->doc, n, "destinations"))
		return;
	if (ydoc_check_keys(r->doc, n, NULL) > 0)
		return;
	size_t count = ydoc_map_size(n);
	r->c->destinations = xcalloc(count ? count : 1, sizeof *r->c->destinations);
	r->c->n_destinations = count;
	for (size_t i = 0; i < count; i++)
		read_destination(r, ydoc_map_key(r->doc, n, i), ydoc_map_value(r->doc, n, i), &r->c->destinations[i]);
}

/* Reads one plugin entry into p; names holds the entries read before, for duplicates. */
static void read_plugin(config_reader *r, const yaml_node_t *item, plugin_spec *p, size_t index,
                        const yaml_node_t *const *names)
{
	p->where = ydoc_where(r->doc, item);
	p->forms = xcalloc(1, sizeof *p->forms);
	p->forms[0] = xstrdup("*");
	p->n_forms = 1;
	p->config = json_object();
	if (!ydoc_is_mapping(item)) {
		ydoc_error(r->doc, item, "each item of \"plugins\" must be a mapping such as {name: nps}");
		return;
	}
	ydoc_check_keys(r->doc, item, plugin_keys);
	yaml_node_t *name = ydoc_require(r->doc, item, "name");
	if (name && ydoc_read_string(r->doc, name, "name", &p->name) == 0) {
		/* The server keeps its own secrets in the key-value space of that name. */
		if (strcmp(p->name, "earshot") == 0)
			ydoc_error(r->doc, name, "the plugin name \"earshot\" is reserved for the server");
		for (size_t j = 0; j < index; j++) {
			if (names[j] && strcmp(ydoc_scalar(names[j]), p->name) == 0) {
				ydoc_error(r->doc, name, "duplicate plugin name \"%s\", first given at line %zu",
				           ydoc_scalar(name), ydoc_line(names[j]));
				break;
			}
		}
	}
	yaml_node_t *path = ydoc_get(r->doc, item, "path");
	char *raw = NULL;
	if (path && ydoc_read_string(r->doc, path, "path", &raw) == 0) {
		p->path = config_plugin_path(r->c->dir, raw);
		free(raw);
	} else if (!path && p->name) {
		p->path = config_plugin_path(r->c->dir, p->name);
	}
	ydoc_get_strings(r->doc, item, "forms", &p->forms, &p->n_forms);
	int on_crash = 0;
	if (ydoc_get_enum(r->doc, item, "on_crash", on_crash_names, &on_crash) > 0)
		p->on_crash_disable = on_crash == 1;
	yaml_node_t *cfg = ydoc_get(r->doc, item, "config");
	if (cfg && !ydoc_is_null(cfg) && ydoc_expect_mapping(r->doc, cfg, "config")) {
		json_t *j = ydoc_to_json(r->doc, cfg);
		if (j) {
			json_decref(p->config);
			p->config = j;
		}
	}
}

/* plugins: a sequence of {name, path, forms, config}. */
static void read_plugins(config_reader *r, const yaml_node_t *root)
{
	yaml_node_t *n = ydoc_get(r->doc, root, "plugins");
	r->plugins_given = n != NULL;
	if (!n || ydoc_is_null(n) || !ydoc_expect_sequence(r->doc, n, "plugins"))
		return;
	size_t count = ydoc_seq_size(n);
	r->c->plugins = xcalloc(count ? count : 1, sizeof *r->c->plugins);
	r->c->n_plugins = count;
	const yaml_node_t **names = xcalloc(count ? count : 1, sizeof *names);
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = ydoc_seq_item(r->doc, n, i);
		read_plugin(r, item, &r->c->plugins[i], i, names);
		if (r->c->plugins[i].name)
			names[i] = ydoc_get(r->doc, item, "name");
	}
	free(names);
}

/* Reads a path-valued key into *raw (kept as written). */
static void read_raw_path(config_reader *r, const yaml_node_t *root, const char *key, char **raw)
{
	ydoc_get_string(r->doc, root, key, raw);
}

/* Reads every top-level key of the root mapping. */
static void read_root(config_reader *r, const yaml_node_t *root)
{
	ydoc_check_keys(r->doc, root, top_keys);
	read_listen(r, root);
	read_public_url(r, root);
	read_raw_path(r, root, "database", &r->database);
	int mode;
	if (ydoc_get_enum(r->doc, root, "durability", durability_names, &mode) > 0)
		r->c->durability = (durability_mode)mode;
	read_raw_path(r, root, "forms_dir", &r->forms_dir);
	read_raw_path(r, root, "static_dir", &r->static_dir);
	read_raw_path(r, root, "state_dir", &r->state_dir);
	read_limits(r, root);
	read_trusted_proxies(r, root);
	read_cors(r, root);
	read_privacy(r, root);
	read_admin(r, root);
	read_destinations(r, root);
	read_metrics(r, root);
	read_plugins(r, root);
}

/* Returns a new config holding the built-in defaults of every key (paths not yet resolved). */
static earshot_config *config_new(const char *source, const char *base_dir)
{
	earshot_config *c = xcalloc(1, sizeof *c);
	c->source = xstrdup(source);
	c->dir = xstrdup(base_dir && *base_dir ? base_dir : ".");
	diag_init(&c->notices);
	c->listen_host = xstrdup("127.0.0.1");
	c->listen_port = 8080;
	c->public_url = xstrdup("http://localhost:8080");
	c->durability = DURABILITY_FULL;
	c->limits.max_body_bytes = 65536;
	c->limits.submissions_per_minute = 30;
	c->limits.min_fill_seconds = 2;
	c->limits.header_timeout_seconds = 10;
	c->limits.max_connections = 4096;
	c->allowed_origins = xcalloc(1, sizeof *c->allowed_origins);
	c->allowed_origins[0] = xstrdup("*");
	c->n_allowed_origins = 1;
	c->privacy.client_ip = CLIENT_IP_HASHED;
	c->privacy.retention_days = 0;
	return c;
}

/* Gives c, written without a plugins: key, the embedded default's plugins and their destinations. */
static void adopt_embedded_plugins(earshot_config *c)
{
	diag_list diags;
	diag_init(&diags);
	/* Named as the embedded default, so a plugin's refusal points at the text it came from. */
	earshot_config *d = config_parse_string(config_embedded_default, strlen(config_embedded_default),
	                                        "<embedded default>", c->dir, &diags);
	diag_free(&diags);
	if (!d)
		return; /* cannot happen: test_config parses the embedded default */
	config_adopt_default_plugins(c, d);
	config_free(d);
}

/* Reads a configuration from YAML text; returns a new config, or NULL with every problem in diags. */
earshot_config *config_parse_string(const char *yaml, size_t len, const char *display_name,
                                    const char *base_dir, diag_list *diags)
{
	ydoc doc;
	earshot_config *c = config_new(display_name, base_dir);
	config_reader r = { .doc = &doc, .c = c };
	r.database = xstrdup("earshot.db");
	r.forms_dir = xstrdup("forms");
	r.static_dir = xstrdup("static");
	if (ydoc_load(&doc, yaml, len, display_name) == 0) {
		yaml_node_t *root = ydoc_root(&doc);
		if (root && !ydoc_is_null(root)) {
			if (ydoc_is_mapping(root))
				read_root(&r, root);
			else
				ydoc_error(&doc, root, "the configuration must be a mapping of settings such as \"listen: 127.0.0.1:8080\"");
		}
	}
	c->database = resolve_path(c->dir, r.database);
	if (r.state_dir)
		c->state_dir = resolve_path(c->dir, r.state_dir);
	else if (strstr(c->database, "://"))
		c->state_dir = xstrdup(c->dir); /* a node's files stay on the node */
	c->forms_dir = resolve_path(c->dir, r.forms_dir);
	c->static_dir = resolve_path(c->dir, r.static_dir);
	c->forms_dir_relative = r.forms_dir[0] != '/';
	c->static_dir_relative = r.static_dir[0] != '/';
	free(r.database);
	free(r.forms_dir);
	free(r.static_dir);
	free(r.state_dir);
	size_t problems = ydoc_problem_count(&doc);
	ydoc_flush(&doc, diags);
	ydoc_free(&doc);
	if (problems > 0) {
		config_free(c);
		return NULL;
	}
	if (!r.public_url_given) {
		free(c->public_url);
		c->public_url = config_public_url_for_listen(c->listen_host, c->listen_port);
	}
	if (!r.plugins_given)
		adopt_embedded_plugins(c);
	return c;
}

/* Parses the embedded default (relative paths against the current directory). */
static earshot_config *config_load_embedded(diag_list *diags)
{
	return config_parse_string(config_embedded_default, strlen(config_embedded_default), EMBEDDED_NAME, ".",
	                           diags);
}

/* Reads the configuration file (or ./earshot.yaml, or the embedded default); NULL with problems in diags. */
earshot_config *config_load(const char *path, diag_list *diags)
{
	if (!path) {
		struct stat st;
		if (stat("earshot.yaml", &st) != 0) {
			earshot_config *c = config_load_embedded(diags);
			if (c)
				config_use_installed_dirs(c);
			return c;
		}
		path = "earshot.yaml";
	}
	size_t len = 0;
	char *text = read_whole_file(path, &len);
	if (!text) {
		diag_add(diags, path, 0, 0, "cannot read the configuration: %s", strerror(errno));
		return NULL;
	}
	char *dir = dir_of(path);
	earshot_config *c = config_parse_string(text, len, path, dir, diags);
	free(dir);
	free(text);
	if (c)
		config_use_installed_dirs(c);
	return c;
}

/* The destination with that name (borrowed), or NULL. */
const destination *config_find_destination(const earshot_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_destinations; i++)
		if (c->destinations[i].name && strcmp(c->destinations[i].name, name) == 0)
			return &c->destinations[i];
	return NULL;
}

/* Frees a configuration and everything it owns; NULL is fine. */
void config_free(earshot_config *c)
{
	if (!c)
		return;
	free(c->source);
	free(c->dir);
	free(c->listen_host);
	free(c->public_url);
	free(c->database);
	free(c->state_dir);
	free(c->forms_dir);
	free(c->static_dir);
	free(c->trusted_proxies);
	ydoc_strings_free(c->allowed_origins, c->n_allowed_origins);
	free(c->admin_tokens);
	for (size_t i = 0; i < c->n_destinations; i++)
		config_destination_clear(&c->destinations[i]);
	free(c->destinations);
	for (size_t i = 0; i < c->n_plugins; i++) {
		plugin_spec *p = &c->plugins[i];
		free(p->name);
		free(p->path);
		free(p->disabled_why);
		ydoc_strings_free(p->forms, p->n_forms);
		json_decref(p->config);
		free(p->where);
	}
	free(c->plugins);
	diag_free(&c->notices);
	free(c);
}
