/* origin: exact origin comparison (scheme, host, port). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "origin.h"

bool origin_canonical(const char *text, bool allow_path, char out[ORIGIN_MAX])
{
	if (!text)
		return false;
	const char *scheme;
	int default_port;
	if (strncasecmp(text, "http://", 7) == 0) {
		scheme = "http";
		default_port = 80;
		text += 7;
	} else if (strncasecmp(text, "https://", 8) == 0) {
		scheme = "https";
		default_port = 443;
		text += 8;
	} else {
		return false;
	}
	size_t len = allow_path ? strcspn(text, "/?#") : strlen(text);
	const char *end = text + len;
	for (const char *p = text; p < end; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '@' || *p == '/' || *p == '?' || *p == '#' ||
		    *p == '\\')
			return false;
	/* Host: a bracketed IPv6 literal or a name / IPv4 address up to the port's colon. */
	const char *host = text, *host_end;
	if (*host == '[') {
		host_end = memchr(host, ']', len);
		if (!host_end || host_end == host + 1)
			return false;
		host_end++;
		for (const char *p = host + 1; p < host_end - 1; p++)
			if (!strchr("0123456789abcdefABCDEF:.", *p))
				return false;
	} else {
		host_end = memchr(host, ':', len);
		if (!host_end)
			host_end = end;
		if (memchr(host, '[', (size_t)(host_end - host)) || memchr(host, ']', (size_t)(host_end - host)))
			return false;
	}
	if (host_end == host)
		return false;
	long port = default_port;
	if (host_end < end) {
		if (*host_end != ':' || host_end + 1 == end || end - (host_end + 1) > 5)
			return false;
		port = 0;
		for (const char *p = host_end + 1; p < end; p++) {
			if (*p < '0' || *p > '9')
				return false;
			port = port * 10 + (*p - '0');
		}
		if (port < 1 || port > 65535)
			return false;
	}
	size_t host_len = (size_t)(host_end - host);
	if (host_len + strlen(scheme) + 10 >= ORIGIN_MAX)
		return false;
	int n = snprintf(out, ORIGIN_MAX, "%s://%.*s:%ld", scheme, (int)host_len, host, port);
	for (char *p = out + strlen(scheme) + 3; p < out + n; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return true;
}

bool origin_same(const char *a, const char *b)
{
	char ca[ORIGIN_MAX], cb[ORIGIN_MAX];
	return origin_canonical(a, false, ca) && origin_canonical(b, false, cb) && strcmp(ca, cb) == 0;
}

bool origin_allowed(const earshot_config *cfg, const char *origin)
{
	if (!origin)
		return true;
	char mine[ORIGIN_MAX], theirs[ORIGIN_MAX];
	bool parsed = origin_canonical(origin, false, theirs);
	/* earshot's own pages (the demo, hosted forms) always reach earshot. */
	if (parsed && origin_canonical(cfg->public_url, true, mine) && strcmp(mine, theirs) == 0)
		return true;
	for (size_t i = 0; i < cfg->n_allowed_origins; i++) {
		const char *allowed = cfg->allowed_origins[i];
		if (strcmp(allowed, "*") == 0) {
			if (strcmp(origin, "null") != 0)
				return true;
		} else if (parsed && origin_canonical(allowed, false, mine) && strcmp(mine, theirs) == 0) {
			return true;
		}
	}
	return false;
}
