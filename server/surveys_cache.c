/* surveys_cache: serialized surveys bodies per form set and set of matching forms (surveys_cache.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "surveys_cache.h"
#include "util.h"

/* Distinct sets of matching forms kept per form set; past it the oldest entry is replaced. */
#define SURVEYS_CACHE_SLOTS 64

typedef struct cache_entry {
	size_t *match;           /* owned: indexes into the registry of the matching forms */
	size_t n_match;
	surveys_body body;
} cache_entry;

typedef struct surveys_cache {
	cache_entry slots[SURVEYS_CACHE_SLOTS];
	size_t used;
	size_t next_victim;
} surveys_cache;

/* Frees a cache and everything in it (form_registry's cache_free). */
static void cache_free(void *arg)
{
	surveys_cache *c = arg;
	for (size_t i = 0; i < c->used; i++) {
		free(c->slots[i].match);
		free(c->slots[i].body.text);
	}
	free(c);
}

/* The indexes of reg's forms served for path (active surveys, page rules), in registry order, into
 * a malloc'd array (caller frees); *n gets the count. */
static size_t *matching_forms(const form_registry *reg, const char *path, const surveys_policy *pol,
                              size_t *n)
{
	size_t *out = xmalloc((reg->n ? reg->n : 1) * sizeof *out);
	*n = 0;
	for (size_t i = 0; i < reg->n; i++) {
		const form *f = reg->forms[i];
		if (f->kind == FORM_SURVEY && f->active && (!path || form_matches_page(f, path)) &&
		    (!pol->served || pol->served(pol->ctx, f)))
			out[(*n)++] = i;
	}
	return out;
}

/* Builds the body {"surveys":[...]} of the given forms and its ETag into *b. */
static void build_body(const form_registry *reg, const size_t *match, size_t n,
                       const surveys_policy *pol, surveys_body *b)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		const form *f = reg->forms[match[i]];
		if (pol->needs_token && pol->needs_token(pol->ctx, f)) {
			json_t *copy = json_copy(form_public_json(f));
			json_object_set_new(copy, "needs_token", json_true());
			json_array_append_new(list, copy);
		} else {
			json_array_append(list, form_public_json(f));
		}
	}
	json_t *body = json_pack("{s:o}", "surveys", list);
	/* The ETag hashes a canonical (sorted-key) form; the body keeps the forms' own key order. */
	char *canonical = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	char hex[65];
	sha256_hex(canonical, strlen(canonical), hex);
	free(canonical);
	snprintf(b->etag, sizeof b->etag, "\"%.16s\"", hex);
	b->text = json_dumps(body, JSON_COMPACT);
	b->len = strlen(b->text);
	json_decref(body);
}

/* Returns the cached body for path, building and keeping it on first use. */
const surveys_body *surveys_cache_body(form_registry *reg, const char *path, const surveys_policy *policy)
{
	if (!reg->cache) {
		reg->cache = xcalloc(1, sizeof(surveys_cache));
		reg->cache_free = cache_free;
	}
	surveys_cache *c = reg->cache;
	size_t n = 0;
	size_t *match = matching_forms(reg, path, policy, &n);
	for (size_t i = 0; i < c->used; i++) {
		cache_entry *e = &c->slots[i];
		if (e->n_match == n && memcmp(e->match, match, n * sizeof *match) == 0) {
			free(match);
			return &e->body;
		}
	}
	cache_entry *e;
	if (c->used < SURVEYS_CACHE_SLOTS) {
		e = &c->slots[c->used++];
	} else {
		e = &c->slots[c->next_victim];
		c->next_victim = (c->next_victim + 1) % SURVEYS_CACHE_SLOTS;
		free(e->match);
		free(e->body.text);
	}
	e->match = match;
	e->n_match = n;
	build_body(reg, match, n, policy, &e->body);
	return &e->body;
}
