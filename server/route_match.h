/* route_match: the one URL pattern matcher, used by the built-in route tables and by the routes
 * plugins register. A pattern is "/seg/seg/…" where each segment is a literal or a whole-segment
 * placeholder {name} (name [a-z_][a-z0-9_]*). A request path is split at its raw '/' first and each
 * segment is decoded once after, so an encoded slash (%2F) stays inside its segment and nothing is
 * decoded twice. */
#ifndef EARSHOT_ROUTE_MATCH_H
#define EARSHOT_ROUTE_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_MAX_PARAMS 8 /* placeholders in one pattern */
#define ROUTE_MAX_NAME 32  /* a placeholder's name, NUL included */

/* A path split at '/': the segments after the leading one (so "/" is one empty segment). */
typedef struct route_path {
	char **segs;  /* owned */
	size_t n;
} route_path;

/* What a match bound: names copied from the pattern, values borrowed from the route_path. */
typedef struct route_params {
	size_t n;
	char names[ROUTE_MAX_PARAMS][ROUTE_MAX_NAME];
	const char *values[ROUTE_MAX_PARAMS];
} route_params;

/* Splits path (which must start with '/') at '/' into *out, percent-decoding each segment when
 * decode is set ('+' stays '+'). Returns 0, or -1 (out empty) when path does not start with '/' or a
 * segment decodes to a NUL byte. Free with route_path_free. */
int route_path_split(const char *path, bool decode, route_path *out);
/* Frees the segments of p and empties it. */
void route_path_free(route_path *p);
/* True when pattern is well formed: starts with '/', at most 1024 bytes, no empty segment, and every
 * segment holding '{' or '}' is a whole placeholder with a valid name; at most ROUTE_MAX_PARAMS of
 * them, names shorter than ROUTE_MAX_NAME. */
bool route_pattern_valid(const char *pattern);
/* Matches path against pattern segment by segment: a literal must equal its segment, a placeholder
 * takes one non-empty segment. Returns true and fills *out (when not NULL) on a match; leaves *out
 * untouched otherwise. */
bool route_match(const char *pattern, const route_path *path, route_params *out);
/* The value bound to name in p, or NULL. Borrowed from the route_path matched. */
const char *route_param(const route_params *p, const char *name);

#endif
