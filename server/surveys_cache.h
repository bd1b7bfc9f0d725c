/* surveys_cache: the serialized bodies of GET /api/v1/surveys and their ETags, kept per form set.
 * Which surveys a page gets depends only on the form set (immutable until a reload swaps it) and on
 * which of its forms match the page, so a body is built, serialized and hashed once per distinct set
 * of matching forms and then served as bytes. The cache hangs off the form_registry (form.h) and is
 * freed with it, so a reload starts a fresh one. Event loop thread only. */
#ifndef EARSHOT_SURVEYS_CACHE_H
#define EARSHOT_SURVEYS_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "form.h"

/* One cached answer: the JSON body (no trailing newline) and its quoted ETag. */
typedef struct surveys_body {
	char *text;      /* owned by the cache */
	size_t len;
	char etag[24];   /* "\"<16 hex digits>\"" */
} surveys_body;

/* What the caller decides per form. served: whether a matching survey is served now (its schedule
 * and quota; asked on every call, so the set of served forms is part of the cache key). needs_token:
 * whether the widget must fetch a timing token before showing it (marked "needs_token": true); it
 * must depend only on f and what was loaded with reg (the plugins of the same reload). */
typedef struct surveys_policy {
	bool (*served)(const void *ctx, const form *f);
	bool (*needs_token)(const void *ctx, const form *f);
	const void *ctx;
} surveys_policy;

/* The body for the surveys of reg that match path (every active survey when path is NULL), built on
 * first use and kept with reg. Returns a pointer owned by the cache, valid while reg lives. */
const surveys_body *surveys_cache_body(form_registry *reg, const char *path, const surveys_policy *policy);

#endif
