/* fresh_facts: the facts of answers this connection has just stored, kept until the fold reads those
 * answers back, so that the fold takes them instead of parsing the stored JSON again. An entry is used
 * only when the row the fold reads holds exactly the texts it was made from: an answer rolled back and
 * its sequence number taken by another one is never counted by the wrong facts. Thread: the owning
 * connection's. */
#ifndef EARSHOT_FRESH_FACTS_H
#define EARSHOT_FRESH_FACTS_H

#include <stdbool.h>
#include <stdint.h>

#include "answer_facts.h"

/* At most this many answers, and about this many bytes of their texts and facts, are kept: with a
 * backlog (or long answers) the fold computes the rest from the texts. */
#define FRESH_FACTS_MAX 1024
#define FRESH_FACTS_MAX_BYTES (2 * 1024 * 1024)

typedef struct fresh_facts fresh_facts;

/* The texts an answer was stored as (the responses row's answers, meta, score and tags; score may be
 * NULL). */
typedef struct stored_texts {
	char *answers, *meta, *score, *tags;
} stored_texts;

fresh_facts *fresh_facts_new(void);
void fresh_facts_free(fresh_facts *ff);

/* Keeps the facts of the answer stored as row seq. Takes *texts and *facts (both are left empty);
 * what is kept for seq or later sequence numbers is dropped first, since those rows were undone. */
void fresh_facts_add(fresh_facts *ff, int64_t seq, stored_texts *texts, answer_facts *facts);

/* The facts of row seq when they are kept for exactly these texts: moves them to *out and returns
 * true. What is kept for earlier rows is dropped: the fold reads rows in order. */
bool fresh_facts_take(fresh_facts *ff, int64_t seq, const char *answers, const char *meta, const char *score,
                      const char *tags, answer_facts *out);

#endif
