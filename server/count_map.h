/* count_map: counts keyed by (form, question, part, value, variant, device, category, day) in memory — the totals a
 * summary adds up and the deltas the writer folds into answer_counts once per batch. Numbers are one
 * key whatever their spelling (5 and 5.0 count together, as SQL compares them). */
#ifndef EARSHOT_COUNT_MAP_H
#define EARSHOT_COUNT_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { COUNT_ANY = 0, COUNT_NULL = 1, COUNT_NUMBER = 2, COUNT_TEXT = 3 } count_value_type;

/* A key; strings are borrowed (variant NULL when absent; form "" where it does not matter). */
typedef struct count_key {
	const char *form;
	const char *question;
	size_t question_len;
	int part;
	count_value_type type;
	double number;           /* COUNT_NUMBER */
	const char *text;        /* COUNT_TEXT */
	size_t text_len;
	const char *variant;
	const char *device;      /* NULL when it does not matter */
	const char *category;
	int64_t day;
} count_key;

typedef struct count_map count_map;

count_map *count_map_new(void);
void count_map_free(count_map *m);
/* Adds n to the count of key. */
void count_map_add(count_map *m, const count_key *key, int64_t n);
/* Number of keys. */
size_t count_map_size(const count_map *m);
/* The i-th key (0 <= i < size; in insertion order) into *key (strings borrowed from the map, valid
 * until it changes) and its count. */
int64_t count_map_get(const count_map *m, size_t i, count_key *key);

/* The decimal text of a number as SQLite shows it (integers without a fraction); buf holds 32 bytes. */
const char *count_number_text(double x, char buf[32]);

#endif
