/* store_summary: the tables behind summaries (migration 8, store_internal.h) — the writer folds new
 * answers into answer_facts and answer_counts once per batch; a summary adds up the counts of whole
 * days and the facts of everything else, filtered in C. */
#ifndef EARSHOT_STORE_SUMMARY_H
#define EARSHOT_STORE_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

#include "count_map.h"
#include "response_filter.h"
#include "store.h"

/* Rows the writer folds per transaction at most (a backlog is folded over several). */
#define SUMMARY_FOLD_MAX 2000

/* Folds up to max_rows answers not yet folded (new ones in seq order, then changed ones) into the
 * summary tables, inside the caller's transaction (in a savepoint of its own: on failure nothing of
 * the fold is kept). *more is set when some were left for the next call. 0, or -1 with *err. */
int store_summary_fold(store *st, int max_rows, bool *more, char **err);

/* What a summary counts of one question. */
typedef struct summary_question {
	const char *id;
	bool by_value;  /* its values one by one (else only how many answered it) */
	bool elements;  /* the elements of its array answers one by one */
} summary_question;

/* Adds up the answers of form matching flt into out, keyed (form "", day 0) by: question "" part 2
 * for the answers themselves; a question of qs part 0 with COUNT_ANY (answered) and, when by_value,
 * each value; part 1 with each element when elements. Every key carries the answer's variant (NULL
 * for none). Run inside a read snapshot (store_snapshot_begin) for a consistent result. 0, or -1 with
 * *err. */
int store_summary_tally(store *st, const char *form, const response_filter *flt, const summary_question *qs,
                        size_t n, count_map *out, char **err);

#endif
