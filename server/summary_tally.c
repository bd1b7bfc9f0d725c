/* summary_tally: adds answers up for a summary (storage.h: store_summary_tally) from their facts
 * (answer_facts.h), whatever backend read them: per question how many answered it, per value and per
 * array element where asked, and the answers themselves, each keyed by the answer's variant. */
#include <stdlib.h>
#include <string.h>

#include "summary_tally.h"
#include "util.h"

/* The count key of a vals entry's value. */
void summary_key_value(count_key *k, const fact_value *v)
{
	k->type = v->type == FACT_NULL ? COUNT_NULL : v->type == FACT_NUMBER ? COUNT_NUMBER : COUNT_TEXT;
	k->number = v->number;
	k->text = v->text;
	k->text_len = v->len;
}

/* Counts of one question (or of the answers, after the questions) while a tally runs: a short list
 * searched in order, since a summary counts few distinct keys per question (options, scores); keys
 * beyond the list, and answers of an unusual number of variants, go to the map directly. */
#define TALLY_SLOTS 64
#define TALLY_VARIANTS 16

typedef struct slot {
	int part;
	int variant;             /* index into tally_ctx.variants, -1 for none */
	count_value_type type;
	double number;
	char *text;              /* owned */
	size_t len;
	int64_t n;
} slot;

typedef struct slots {
	slot items[TALLY_SLOTS];
	size_t n;
} slots;

struct summary_tally {
	count_map *out;
	const summary_question *qs;
	size_t n;
	slots *per_question;     /* n + 1: the last one counts the answers */
	char *variants[TALLY_VARIANTS]; /* owned */
	size_t n_variants;
	size_t guess;            /* the next question expected (vals lists them in form order, mostly) */
	const char *variant;     /* of the answer being counted */
	int variant_index;       /* -1 none, -2 not in the list (counted through the map) */
};

static const summary_question *find_question(summary_tally *c, const char *id, size_t len, size_t *index)
{
	for (size_t k = 0; k < c->n; k++) {
		size_t i = (c->guess + k) % c->n;
		if (strncmp(c->qs[i].id, id, len) == 0 && c->qs[i].id[len] == '\0') {
			c->guess = i + 1 < c->n ? i + 1 : 0;
			*index = i;
			return &c->qs[i];
		}
	}
	return NULL;
}

/* Adds 1 to key (question, part and value set; variant and day filled in here) of question qi. */
static void tally_add(summary_tally *c, size_t qi, count_key *k)
{
	k->variant = c->variant;
	if (c->variant_index != -2) {
		slots *list = &c->per_question[qi];
		for (size_t i = 0; i < list->n; i++) {
			slot *x = &list->items[i];
			if (x->part == k->part && x->variant == c->variant_index && x->type == k->type &&
			    (k->type != COUNT_NUMBER || x->number == k->number) &&
			    (k->type != COUNT_TEXT || (x->len == k->text_len && memcmp(x->text, k->text, x->len) == 0))) {
				x->n++;
				return;
			}
		}
		if (list->n < TALLY_SLOTS) {
			list->items[list->n++] = (slot){ k->part, c->variant_index, k->type, k->number,
				                         k->type == COUNT_TEXT ? xstrndup(k->text, k->text_len) : NULL,
				                         k->text_len, 1 };
			return;
		}
	}
	count_map_add(c->out, k, 1);
}

/* Moves the slots' counts into the map and frees them. */
static void tally_flush(summary_tally *c)
{
	for (size_t q = 0; q <= c->n; q++) {
		slots *list = &c->per_question[q];
		const char *id = q < c->n ? c->qs[q].id : "";
		for (size_t i = 0; i < list->n; i++) {
			slot *x = &list->items[i];
			count_key k = { .form = "", .question = id, .question_len = strlen(id), .part = x->part,
				        .type = x->type, .number = x->number, .text = x->text, .text_len = x->len,
				        .variant = x->variant >= 0 ? c->variants[x->variant] : NULL };
			count_map_add(c->out, &k, x->n);
			free(x->text);
		}
		list->n = 0;
	}
	for (size_t i = 0; i < c->n_variants; i++)
		free(c->variants[i]);
	c->n_variants = 0;
}

static int tally_entry(void *arg, const char *question, size_t qlen, int part, const fact_value *v)
{
	summary_tally *c = arg;
	size_t qi = 0;
	const summary_question *q = c->n ? find_question(c, question, qlen, &qi) : NULL;
	if (!q || (part == 1 && !q->elements))
		return 0;
	count_key k = { .form = "", .question = q->id, .question_len = strlen(q->id), .part = part };
	if (part == 0) {
		k.type = COUNT_ANY;
		tally_add(c, qi, &k);
		if (!q->by_value)
			return 0;
	}
	summary_key_value(&k, v);
	tally_add(c, qi, &k);
	return 0;
}

void summary_tally_add(summary_tally *c, const char *variant, const char *vals)
{
	c->variant = variant;
	c->variant_index = -1;
	if (variant) {
		c->variant_index = -2;
		for (size_t i = 0; i < c->n_variants && c->variant_index == -2; i++)
			if (strcmp(c->variants[i], variant) == 0)
				c->variant_index = (int)i;
		if (c->variant_index == -2 && c->n_variants < TALLY_VARIANTS) {
			c->variants[c->n_variants] = xstrdup(variant);
			c->variant_index = (int)c->n_variants++;
		}
	}
	c->guess = 0;
	count_key answer = { .form = "", .question = "", .part = 2, .type = COUNT_ANY };
	tally_add(c, c->n, &answer);
	if (vals)
		answer_facts_each(vals, strlen(vals), tally_entry, c);
}


summary_tally *summary_tally_new(count_map *out, const summary_question *qs, size_t n)
{
	summary_tally *c = xcalloc(1, sizeof *c);
	c->out = out;
	c->qs = qs;
	c->n = n;
	c->per_question = xcalloc(n + 1, sizeof(slots));
	return c;
}

void summary_tally_finish(summary_tally *c)
{
	if (!c)
		return;
	tally_flush(c);
	free(c->per_question);
	free(c);
}
