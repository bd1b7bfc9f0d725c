/* ratelimit: token buckets in an open-addressing hash table keyed by client address. Buckets that
 * have refilled completely carry no information and are dropped when the table is rebuilt, so memory
 * stays bounded by the number of recently active clients. */
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "util.h"

typedef struct bucket {
	char *key;           /* owned; NULL = empty slot */
	double tokens;
	int64_t updated_ms;
} bucket;

struct ratelimit {
	double capacity;     /* tokens, = per_minute */
	double per_ms;       /* refill rate */
	bucket *slots;       /* owned */
	size_t cap;          /* power of two */
	size_t used;
};

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

ratelimit *ratelimit_new(int per_minute)
{
	ratelimit *rl = xcalloc(1, sizeof *rl);
	rl->capacity = per_minute;
	rl->per_ms = per_minute / 60000.0;
	rl->cap = 256;
	rl->slots = xcalloc(rl->cap, sizeof *rl->slots);
	return rl;
}

void ratelimit_free(ratelimit *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < rl->cap; i++)
		free(rl->slots[i].key);
	free(rl->slots);
	free(rl);
}

static void refill(const ratelimit *rl, bucket *b, int64_t now)
{
	if (now > b->updated_ms) {
		b->tokens += (double)(now - b->updated_ms) * rl->per_ms;
		if (b->tokens > rl->capacity)
			b->tokens = rl->capacity;
		b->updated_ms = now;
	}
}

static bucket *slot_for(bucket *slots, size_t cap, const char *key)
{
	size_t i = hash_key(key) & (cap - 1);
	while (slots[i].key && strcmp(slots[i].key, key) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* Rebuilds the table, dropping full buckets, and doubles it when still more than half full. */
static void rebuild(ratelimit *rl, int64_t now)
{
	size_t kept = 0;
	for (size_t i = 0; i < rl->cap; i++) {
		bucket *b = &rl->slots[i];
		if (!b->key)
			continue;
		refill(rl, b, now);
		if (b->tokens >= rl->capacity) {
			free(b->key);
			b->key = NULL;
		} else {
			kept++;
		}
	}
	size_t new_cap = rl->cap;
	while (kept * 2 >= new_cap)
		new_cap *= 2;
	bucket *slots = xcalloc(new_cap, sizeof *slots);
	for (size_t i = 0; i < rl->cap; i++)
		if (rl->slots[i].key)
			*slot_for(slots, new_cap, rl->slots[i].key) = rl->slots[i];
	free(rl->slots);
	rl->slots = slots;
	rl->cap = new_cap;
	rl->used = kept;
}

int ratelimit_take(ratelimit *rl, const char *key, int64_t now)
{
	if (rl->capacity <= 0)
		return 0;
	bucket *b = slot_for(rl->slots, rl->cap, key);
	if (!b->key) {
		if ((rl->used + 1) * 2 > rl->cap) {
			rebuild(rl, now);
			b = slot_for(rl->slots, rl->cap, key);
		}
		b->key = xstrdup(key);
		b->tokens = rl->capacity;
		b->updated_ms = now;
		rl->used++;
	}
	refill(rl, b, now);
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	double wait_ms = (1.0 - b->tokens) / rl->per_ms;
	int secs = (int)((wait_ms + 999.0) / 1000.0);
	return secs < 1 ? 1 : secs;
}

size_t ratelimit_size(const ratelimit *rl)
{
	return rl->used;
}
