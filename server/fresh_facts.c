/* fresh_facts: a ring of the last answers stored, in increasing sequence order. */
#include <stdlib.h>
#include <string.h>

#include "fresh_facts.h"
#include "util.h"

typedef struct fresh_entry {
	int64_t seq;
	size_t bytes;       /* its texts' and facts' lengths */
	stored_texts texts; /* owned */
	answer_facts facts; /* owned */
} fresh_entry;

struct fresh_facts {
	fresh_entry ring[FRESH_FACTS_MAX];
	size_t head, n; /* the oldest entry, and how many there are */
	size_t bytes;   /* the entries' bytes */
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
	ff->bytes -= e->bytes;
	texts_clear(&e->texts);
	answer_facts_clear(&e->facts);
	ff->head = (ff->head + 1) % FRESH_FACTS_MAX;
	ff->n--;
}

static void drop_newest(fresh_facts *ff)
{
	fresh_entry *e = at(ff, ff->n - 1);
	ff->bytes -= e->bytes;
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

static size_t len_or_0(const char *s)
{
	return s ? strlen(s) : 0;
}

void fresh_facts_add(fresh_facts *ff, int64_t seq, stored_texts *texts, answer_facts *facts)
{
	size_t bytes = len_or_0(texts->answers) + len_or_0(texts->meta) + len_or_0(texts->score) +
	               len_or_0(texts->tags) + len_or_0(facts->vals) + len_or_0(facts->page) + len_or_0(facts->path) +
	               len_or_0(facts->attrs) + len_or_0(facts->tags);
	while (ff->n && at(ff, ff->n - 1)->seq >= seq)
		drop_newest(ff);
	while (ff->n && (ff->n == FRESH_FACTS_MAX || ff->bytes + bytes > FRESH_FACTS_MAX_BYTES))
		drop_oldest(ff);
	fresh_entry *e = at(ff, ff->n++);
	ff->bytes += bytes;
	e->bytes = bytes;
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
