/* route_match: the one URL pattern matcher (see route_match.h). */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "route_match.h"
#include "util.h"

/* True when the n bytes at seg are a placeholder "{name}" with a valid name. */
static bool is_placeholder(const char *seg, size_t n)
{
	return n >= 3 && seg[0] == '{' && seg[n - 1] == '}' &&
	       strspn(seg + 1, "abcdefghijklmnopqrstuvwxyz0123456789_") == n - 2 && !(seg[1] >= '0' && seg[1] <= '9');
}

int route_path_split(const char *path, bool decode, route_path *out)
{
	out->segs = NULL;
	out->n = 0;
	if (!path || path[0] != '/')
		return -1;
	const char *p = path + 1;
	while (true) {
		size_t len = strcspn(p, "/");
		char *raw = xstrndup(p, len);
		char *seg = raw;
		if (decode) {
			size_t decoded_len = 0;
			seg = evhttp_uridecode(raw, 0, &decoded_len);
			free(raw);
			if (!seg || strlen(seg) != decoded_len) {
				free(seg);
				route_path_free(out);
				return -1;
			}
		}
		out->segs = xrealloc(out->segs, (out->n + 1) * sizeof *out->segs);
		out->segs[out->n++] = seg;
		p += len;
		if (*p != '/')
			break;
		p++;
	}
	return 0;
}

void route_path_free(route_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->segs[i]);
	free(p->segs);
	p->segs = NULL;
	p->n = 0;
}

bool route_pattern_valid(const char *pattern)
{
	if (!pattern || pattern[0] != '/' || strlen(pattern) > 1024)
		return false;
	size_t placeholders = 0;
	const char *p = pattern + 1;
	while (true) {
		size_t n = strcspn(p, "/");
		if (n == 0)
			return false;
		if (memchr(p, '{', n) || memchr(p, '}', n)) {
			if (!is_placeholder(p, n) || n - 2 >= ROUTE_MAX_NAME || ++placeholders > ROUTE_MAX_PARAMS)
				return false;
		}
		p += n;
		if (*p != '/')
			return true;
		p++;
	}
}

bool route_match(const char *pattern, const route_path *path, route_params *out)
{
	route_params got;
	got.n = 0;
	if (pattern[0] != '/')
		return false;
	const char *p = pattern + 1;
	for (size_t i = 0; i < path->n; i++) {
		size_t n = strcspn(p, "/");
		const char *seg = path->segs[i];
		if (is_placeholder(p, n)) {
			if (!seg[0] || got.n == ROUTE_MAX_PARAMS || n - 2 >= ROUTE_MAX_NAME)
				return false;
			memcpy(got.names[got.n], p + 1, n - 2);
			got.names[got.n][n - 2] = '\0';
			got.values[got.n++] = seg;
		} else if (strlen(seg) != n || memcmp(seg, p, n) != 0) {
			return false;
		}
		p += n;
		bool last = i + 1 == path->n;
		if (last != (*p != '/'))
			return false;
		if (*p == '/')
			p++;
	}
	if (out)
		*out = got;
	return true;
}

const char *route_param(const route_params *p, const char *name)
{
	for (size_t i = 0; name && i < p->n; i++)
		if (strcmp(p->names[i], name) == 0)
			return p->values[i];
	return NULL;
}
