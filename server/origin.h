/* origin: comparing web origins exactly. An origin is scheme, host and port; two spellings of one
 * origin (letter case of scheme and host, a default port written out or left off) compare equal, and
 * nothing else does: no prefixes, no paths, no user info, no missing host. */
#ifndef EARSHOT_ORIGIN_H
#define EARSHOT_ORIGIN_H

#include <stdbool.h>

#include "config.h"

/* Longest canonical origin origin_canonical writes, terminating NUL included. */
#define ORIGIN_MAX 300

/* Writes the canonical form of text into out: "scheme://host:port" with scheme and host in lower
 * case and the port always given (80 for http, 443 for https). text is an origin as a browser sends
 * it ("https://shop.example.com", "http://[::1]:8080") or, with allow_path, a URL whose path, query
 * and fragment are ignored (public_url). Only http and https are origins. Returns true on success,
 * false (out undefined) for anything else: "null", "http:", "https://", user info, a port that is
 * not 1 to 65535, white space or control bytes. */
bool origin_canonical(const char *text, bool allow_path, char out[ORIGIN_MAX]);

/* True when a and b (both origins as browsers send them) are the same origin. */
bool origin_same(const char *a, const char *b);

/* Whether a request carrying the Origin header origin (NULL: none) may use the CORS routes under
 * cfg: no header at all; the origin of cfg->public_url (earshot's own pages); any origin but "null"
 * when cors.allowed_origins holds "*"; or exactly one of the listed origins. */
bool origin_allowed(const earshot_config *cfg, const char *origin);

#endif
