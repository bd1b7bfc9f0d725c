/* fresh_facts: a ring of the last answers stored, in increasing sequence order. */
#include <stdlib.h>
#include <string.h>

#include "fresh_facts.h"
#include "util.h"

typedef struct fresh_entry {
	int64_t seq;
	stored_texts texts; /* owned */
	answer_facts facts; /* owned */
} fresh_entry;

struct fresh_facts {
	fresh_entry ring[FRESH_FACTS_MAX];
	size_t head, n; /* the oldest entry, and how many there are */
};

fresh_facts *fresh_facts_new(void)
{
	return xcalloc(1, sizeof(fresh_facts));
}

static void texts_clear(stored_texts *t)
{
	free(t->answers);
	free(t->meta);
	free(t->score);
	free(t->tags);
	memset(t, 0, sizeof *t);
}

static fresh_entry *at(fresh_facts *ff, size_t i)
{
	return &ff->ring[(ff->head + i) % FRESH_FACTS_MAX];
}

static void drop_oldest(fresh_facts *ff)
{
	fresh_entry *e = at(ff, 0);
	texts_clear(&e->texts);
	answer_facts_clear(&e->facts);
	ff->head = (ff->head + 1) % FRESH_FACTS_MAX;
	ff->n--;
}

static void drop_newest(fresh_facts *ff)
{
	fresh_entry *e = at(ff, ff->n - 1);
	texts_clear(&e->texts);
	answer_facts_clear(&e->facts);
	ff->n--;
}

void fresh_facts_free(fresh_facts *ff)
{
	if (!ff)
		return;
	while (ff->n)
		drop_oldest(ff);
	free(ff);
}

void fresh_facts_add(fresh_facts *ff, int64_t seq, stored_texts *texts, answer_facts *facts)
{
	while (ff->n && at(ff, ff->n - 1)->seq >= seq)
		drop_newest(ff);
	if (ff->n == FRESH_FACTS_MAX)
		drop_oldest(ff);
	fresh_entry *e = at(ff, ff->n++);
	e->seq = seq;
	e->texts = *texts;
	e->facts = *facts;
	memset(texts, 0, sizeof *texts);
	memset(facts, 0, sizeof *facts);
}

/* Both NULL, or both the same text. */
static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool fresh_facts_take(fresh_facts *ff, int64_t seq, const char *answers, const char *meta, const char *score,
                      const char *tags, answer_facts *out)
{
	while (ff->n && at(ff, 0)->seq < seq)
		drop_oldest(ff);
	if (!ff->n || at(ff, 0)->seq != seq)
		return false;
	fresh_entry *e = at(ff, 0);
	bool same = same_text(e->texts.answers, answers) && same_text(e->texts.meta, meta) &&
	            same_text(e->texts.score, score) && same_text(e->texts.tags, tags);
	if (same) {
		*out = e->facts;
		memset(&e->facts, 0, sizeof e->facts);
	}
	drop_oldest(ff);
	return same;
}
