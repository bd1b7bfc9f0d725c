/* answer_facts: the narrow facts of one answer that summaries count and filter on — the filterable
 * fields of its meta, tags and score as plain strings, and its values as a compact JSON list — computed
 * in C from the stored answer (no SQL JSON functions), and read back without building a tree.
 *
 * vals is a JSON array of entries: [question, value] for every answered question (value null when it is
 * an array, an object or a text longer than 100 characters; true and false as 1 and 0) and
 * [question, element, 1] for every element of an array answer that is not itself an array or object. */
#ifndef EARSHOT_ANSWER_FACTS_H
#define EARSHOT_ANSWER_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* Texts longer than this (in characters) are counted as answered but not by value. */
#define ANSWER_FACTS_TEXT_MAX 100

/* The facts of one answer. Every member is owned; NULL where the field is absent or not a string. */
typedef struct answer_facts {
	char *variant, *page, *path, *device, *category;
	char *attrs; /* " a b ": meta members present (not null) whose names are 1-64 of [A-Za-z0-9_-] */
	char *tags;  /* "\x1f" "t1" "\x1f" "t2" "\x1f" for the text tags without \x1f, "" when none */
	char *vals;  /* the JSON list described above */
} answer_facts;

/* Computes the facts of an answer from its stored parts (any may be NULL; non-objects count as {},
 * a non-array tags as []). Always succeeds; caller clears *out. */
void answer_facts_compute(const json_t *answers, const json_t *meta, const json_t *score, const json_t *tags,
                          answer_facts *out);
/* The same from the stored JSON texts (any may be NULL; malformed text counts as absent). */
void answer_facts_compute_text(const char *answers, const char *meta, const char *score, const char *tags,
                               answer_facts *out);
void answer_facts_clear(answer_facts *f);

/* The path of a page as the page filter sees it: without scheme, host, query and fragment when page
 * is a URL ("/" when a URL has no path), else page itself. Returns a new string. */
char *answer_facts_page_path(const char *page);

/* One value of a vals entry, borrowed from the vals text. */
typedef enum { FACT_NULL, FACT_NUMBER, FACT_TEXT } fact_type;
typedef struct fact_value {
	fact_type type;
	const char *text; /* the number as written, or the decoded text (NUL-terminated) */
	size_t len;
	double number;
} fact_value;

/* Calls fn for each entry of vals[0..n) (part 0 for values, 1 for elements); the strings are valid for
 * the call. fn returns 0 to go on. Returns 0, or -1 when vals is malformed. */
typedef int (*fact_fn)(void *ctx, const char *question, size_t qlen, int part, const fact_value *value);
int answer_facts_each(const char *vals, size_t n, fact_fn fn, void *ctx);

/* True when some string value of the answers object text contains needle, ASCII letters compared
 * without case (the `q` filter, as SQL's LIKE '%needle%'). */
bool answer_facts_text_contains(const char *answers, size_t n, const char *needle);

#endif
