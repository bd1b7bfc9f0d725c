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

/* Whether the widget must fetch a timing token before showing f (marked "needs_token": true). The
 * answer must depend only on f and what was loaded with reg (the plugins of the same reload). */
typedef bool (*surveys_needs_token_fn)(const void *ctx, const form *f);

/* The body for the surveys of reg that match path (every active survey when path is NULL), built on
 * first use and kept with reg. Returns a pointer owned by the cache, valid while reg lives. */
const surveys_body *surveys_cache_body(form_registry *reg, const char *path,
                                       surveys_needs_token_fn needs_token, const void *ctx);

#endif
