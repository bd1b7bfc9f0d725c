/* count_map: an open-addressing hash table over serialized keys, entries kept in insertion order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count_map.h"
#include "util.h"

typedef struct entry {
	char *key;      /* owned, serialized */
	size_t key_len;
	uint64_t hash;
	int64_t n;
} entry;

struct count_map {
	entry *entries;  /* insertion order */
	size_t n, cap;
	size_t *slots;   /* index + 1 into entries, 0 for empty */
	size_t n_slots;  /* a power of two */
	char *scratch;   /* the key being looked up */
	size_t scratch_cap;
	char *decoded;   /* strings of the last count_map_get */
	size_t decoded_cap;
};

count_map *count_map_new(void)
{
	count_map *m = xcalloc(1, sizeof *m);
	m->n_slots = 64;
	m->slots = xcalloc(m->n_slots, sizeof *m->slots);
	return m;
}

void count_map_free(count_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->entries[i].key);
	free(m->entries);
	free(m->slots);
	free(m->scratch);
	free(m->decoded);
	free(m);
}

size_t count_map_size(const count_map *m)
{
	return m->n;
}

/* Appends n bytes to the scratch key at *len. */
static void put(count_map *m, size_t *len, const void *p, size_t n)
{
	if (*len + n > m->scratch_cap) {
		m->scratch_cap = (*len + n) * 2 + 64;
		m->scratch = xrealloc(m->scratch, m->scratch_cap);
	}
	if (n)
		memcpy(m->scratch + *len, p, n);
	*len += n;
}

/* A string as a 4-byte length and its bytes; NULL as the length 0xFFFFFFFF. */
static void put_string(count_map *m, size_t *len, const char *s, size_t n)
{
	uint32_t l = s ? (uint32_t)n : UINT32_MAX;
	put(m, len, &l, sizeof l);
	if (s)
		put(m, len, s, n);
}

static size_t serialize(count_map *m, const count_key *k)
{
	size_t len = 0;
	put_string(m, &len, k->form ? k->form : "", k->form ? strlen(k->form) : 0);
	put_string(m, &len, k->question, k->question_len);
	unsigned char part = (unsigned char)k->part, type = (unsigned char)k->type;
	put(m, &len, &part, 1);
	put(m, &len, &type, 1);
	if (k->type == COUNT_NUMBER) {
		double x = k->number == 0 ? 0.0 : k->number; /* -0.0 and 0.0 are one value */
		put(m, &len, &x, sizeof x);
	} else if (k->type == COUNT_TEXT) {
		put_string(m, &len, k->text, k->text_len);
	}
	put_string(m, &len, k->variant, k->variant ? strlen(k->variant) : 0);
	put_string(m, &len, k->device, k->device ? strlen(k->device) : 0);
	put_string(m, &len, k->category, k->category ? strlen(k->category) : 0);
	put(m, &len, &k->day, sizeof k->day);
	return len;
}

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void grow(count_map *m)
{
	free(m->slots);
	m->n_slots *= 2;
	m->slots = xcalloc(m->n_slots, sizeof *m->slots);
	for (size_t i = 0; i < m->n; i++) {
		size_t s = m->entries[i].hash & (m->n_slots - 1);
		while (m->slots[s])
			s = (s + 1) & (m->n_slots - 1);
		m->slots[s] = i + 1;
	}
}

void count_map_add(count_map *m, const count_key *key, int64_t n)
{
	size_t len = serialize(m, key);
	uint64_t h = fnv1a(m->scratch, len);
	size_t s = h & (m->n_slots - 1);
	while (m->slots[s]) {
		entry *e = &m->entries[m->slots[s] - 1];
		if (e->hash == h && e->key_len == len && memcmp(e->key, m->scratch, len) == 0) {
			e->n += n;
			return;
		}
		s = (s + 1) & (m->n_slots - 1);
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->entries = xrealloc(m->entries, m->cap * sizeof *m->entries);
	}
	char *copy = xmalloc(len ? len : 1);
	memcpy(copy, m->scratch, len);
	m->entries[m->n] = (entry){ copy, len, h, n };
	m->slots[s] = ++m->n;
	if (m->n * 2 > m->n_slots)
		grow(m);
}

/* Reads a serialized string at *at into the decoded buffer; *out NULL for a NULL string. */
static void get_string(const char *k, size_t *at, char *dst, size_t *used, const char **out, size_t *n)
{
	uint32_t l;
	memcpy(&l, k + *at, sizeof l);
	*at += sizeof l;
	if (l == UINT32_MAX) {
		*out = NULL;
		*n = 0;
		return;
	}
	memcpy(dst + *used, k + *at, l);
	dst[*used + l] = '\0';
	*out = dst + *used;
	*n = l;
	*used += l + 1;
	*at += l;
}

int64_t count_map_get(const count_map *cm, size_t i, count_key *key)
{
	count_map *m = (count_map *)cm;
	const entry *e = &m->entries[i];
	if (e->key_len + 8 > m->decoded_cap) {
		m->decoded_cap = e->key_len * 2 + 64;
		m->decoded = xrealloc(m->decoded, m->decoded_cap);
	}
	size_t at = 0, used = 0, ignored;
	memset(key, 0, sizeof *key);
	get_string(e->key, &at, m->decoded, &used, &key->form, &ignored);
	get_string(e->key, &at, m->decoded, &used, &key->question, &key->question_len);
	key->part = (unsigned char)e->key[at++];
	key->type = (count_value_type)(unsigned char)e->key[at++];
	if (key->type == COUNT_NUMBER) {
		memcpy(&key->number, e->key + at, sizeof key->number);
		at += sizeof key->number;
	} else if (key->type == COUNT_TEXT) {
		get_string(e->key, &at, m->decoded, &used, &key->text, &key->text_len);
	}
	get_string(e->key, &at, m->decoded, &used, &key->variant, &ignored);
	get_string(e->key, &at, m->decoded, &used, &key->device, &ignored);
	get_string(e->key, &at, m->decoded, &used, &key->category, &ignored);
	memcpy(&key->day, e->key + at, sizeof key->day);
	return e->n;
}

const char *count_number_text(double x, char buf[32])
{
	if (x == floor(x) && fabs(x) < 9007199254740992.0)
		snprintf(buf, 32, "%lld", (long long)x);
	else
		snprintf(buf, 32, "%.15g", x);
	return buf;
}
