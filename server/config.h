/* config: earshot.yaml read into a validated, immutable struct (see shared spec config.md). */
#ifndef EARSHOT_CONFIG_H
#define EARSHOT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "diag.h"

typedef enum { DURABILITY_FULL, DURABILITY_NORMAL } durability_mode;
typedef enum { CLIENT_IP_NONE, CLIENT_IP_TRUNCATED, CLIENT_IP_HASHED } client_ip_mode;
typedef enum { DEST_WEBHOOK, DEST_FILE, DEST_EMAIL, DEST_CHAT } destination_type;
/* The payload shape of a chat destination: slack (also Mattermost, Rocket.Chat), teams, discord. */
typedef enum { CHAT_SLACK, CHAT_TEAMS, CHAT_DISCORD } chat_format;

typedef struct destination {
	char *name;              /* owned; the mapping key */
	destination_type type;
	char *url;               /* owned; webhook */
	char *secret;            /* owned, may be NULL; webhook: "whsec_<base64>" */
	int timeout_seconds;     /* webhook; default 5 */
	double retry_for_hours;  /* default 24 */
	char *path;              /* owned; file: resolved against the config directory */
	char *smtp_url;          /* owned; email: smtp://host[:port] or smtps://host[:port] */
	char *username;          /* owned, may be NULL; email: SMTP AUTH user */
	char *password_file;     /* owned, may be NULL; email: resolved path whose first line is the password */
	char *from;              /* owned; email: "Name <addr>" or "addr", checked (no CR/LF) */
	char **to;               /* owned; email: one or more checked addresses */
	size_t n_to;
	chat_format format;      /* chat: the payload shape sent to url */
} destination;

typedef struct plugin_spec {
	char *name;              /* owned */
	char *path;              /* owned; resolved against the config directory */
	char **forms;            /* owned globs of form ids; default ["*"] */
	size_t n_forms;
	json_t *config;          /* owned JSON object converted from the `config:` mapping ({} default);
	                          * plain YAML scalars become integers, reals, true/false/null, else strings */
	char *where;             /* owned "file:line:col" of the entry, for messages */
	bool on_crash_disable;   /* `on_crash: disable` (default `refuse`): after a crash inside one of its
	                          * hooks, start without it instead of refusing to start */
	bool disabled;           /* set by the crash policy (plugin_marker.h): not loaded */
	char *disabled_why;      /* owned, may be NULL: the sentence /healthz and the log show for it */
} plugin_spec;

typedef struct cidr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
} cidr;

typedef struct earshot_config {
	char *source;            /* owned; the config file path, or "<embedded default>" */
	char *dir;               /* owned; directory relative paths are resolved against */
	char *listen_host;       /* owned; "127.0.0.1", "::1" (brackets removed) */
	int listen_port;
	char *public_url;        /* owned; without trailing slash */
	char *database;          /* owned; resolved path */
	char *state_dir;         /* owned, may be NULL: where this node keeps its own files (the plugin
	                          * crash record, plugin_marker.h); `state_dir:` resolved, else with a
	                          * database server (a URL) the config's directory, else NULL: beside the
	                          * SQLite file */
	durability_mode durability;
	char *forms_dir;         /* owned; resolved path */
	char *static_dir;        /* owned; resolved path */
	bool forms_dir_relative, static_dir_relative; /* written as relative paths (installed fallback) */
	diag_list notices;       /* owned; lines to log at start, such as an installed directory used instead */
	struct {
		size_t max_body_bytes;      /* 65536 */
		int submissions_per_minute; /* 30 */
		int min_fill_seconds;       /* 2 (0..3) */
		int header_timeout_seconds; /* 10: the whole request head must arrive within this */
		int max_connections;        /* 4096: open client connections (see http_guard.h) */
	} limits;
	cidr *trusted_proxies;   /* owned array */
	size_t n_trusted_proxies;
	char **allowed_origins;  /* owned; default ["*"] */
	size_t n_allowed_origins;
	struct {
		client_ip_mode client_ip;   /* hashed */
		int retention_days;         /* 0 = forever */
	} privacy;
	unsigned char (*admin_tokens)[32]; /* owned; SHA-256 digests of the accepted bearer tokens */
	size_t n_admin_tokens;
	destination *destinations; /* owned array */
	size_t n_destinations;
	plugin_spec *plugins;    /* owned array, in file order */
	size_t n_plugins;
	struct {
		bool public_access;     /* metrics.public: GET /metrics without an admin token (default false) */
	} metrics;
} earshot_config;

/* Loads the configuration. path NULL means ./earshot.yaml when it exists, else the embedded default.
 * Relative forms_dir/static_dir that do not exist are replaced by the installed ones (see notices).
 * Returns a new config (caller frees with config_free), or NULL with every problem in diags. */
earshot_config *config_load(const char *path, diag_list *diags);
/* Parses YAML text; display_name is used in messages, base_dir for relative paths. */
earshot_config *config_parse_string(const char *yaml, size_t len, const char *display_name,
                                    const char *base_dir, diag_list *diags);
void config_free(earshot_config *c);

/* The embedded default configuration text (YAML). */
extern const char config_embedded_default[];

/* Deep-copies src into dst (caller clears dst with config_destination_clear). */
void config_destination_copy(destination *dst, const destination *src);
/* Frees what a destination owns and zeroes it. */
void config_destination_clear(destination *d);

/* Finds a destination by name; NULL when unknown. */
const destination *config_find_destination(const earshot_config *c, const char *name);
/* True when the address (AF_INET/AF_INET6 bytes) lies in one of the trusted proxy ranges. */
bool config_is_trusted_proxy(const earshot_config *c, int family, const unsigned char *addr);
/* Parses "10.0.0.0/8", "::1", "192.168.1.7" into out. Returns 0, or -1 when malformed. */
int cidr_parse(const char *s, cidr *out);
bool cidr_contains(const cidr *range, int family, const unsigned char *addr);

#endif
