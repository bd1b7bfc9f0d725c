/* summary_tally: adds answers up for a summary from their facts (answer_facts.h), shared by the
 * storage backends behind store_summary_tally (storage.h). */
#ifndef EARSHOT_SUMMARY_TALLY_H
#define EARSHOT_SUMMARY_TALLY_H

#include <stddef.h>

#include "answer_facts.h"
#include "count_map.h"
#include "storage.h"

typedef struct summary_tally summary_tally;

/* A tally adding into out (borrowed, as qs[0..n)) what store_summary_tally promises. Caller ends it
 * with summary_tally_finish. */
summary_tally *summary_tally_new(count_map *out, const summary_question *qs, size_t n);
/* Adds one answer: its variant (NULL for none) and its facts' vals list (NULL: counted as an answer only). */
void summary_tally_add(summary_tally *t, const char *variant, const char *vals);
/* Moves what is still held into out and frees t. */
void summary_tally_finish(summary_tally *t);

/* The count key of a vals entry's value (type, number, text). */
void summary_key_value(count_key *k, const fact_value *v);

#endif
