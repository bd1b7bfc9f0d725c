/* response: one stored answer as read back from the store, and its JSON shape in listings,
 * NDJSON exports and deliveries. */
#ifndef EARSHOT_RESPONSE_H
#define EARSHOT_RESPONSE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

typedef struct response_record {
	int64_t seq;             /* store order; the listing cursor */
	char id[48];             /* public id, "r_..." */
	char form[72];
	int64_t created_ms;
	json_t *answers;         /* owned object */
	json_t *meta;            /* owned object */
	json_t *score;           /* owned object or NULL */
	json_t *tags;            /* owned array */
	int confirmed;           /* RESPONSE_CONFIRM_*: the form's `confirm:` state of this answer */
} response_record;

/* The confirmation state of an answer (docs/forms.md, "Confirmed signups"). */
enum { RESPONSE_CONFIRM_NONE = 0, RESPONSE_CONFIRM_PENDING = 1, RESPONSE_CONFIRM_DONE = 2 };

/* One stored answer as the store holds it, for exports that read columns straight into their output:
 * every text is borrowed from the store (valid until the cursor moves) and NUL-terminated; answers,
 * meta, score and tags are JSON texts. */
typedef struct response_raw {
	const char *id;
	const char *form;
	int64_t created_ms;
	const char *answers;
	size_t answers_len;
	const char *meta;
	size_t meta_len;
	const char *score;       /* NULL when the answer has no score */
	size_t score_len;
	const char *tags;
	size_t tags_len;
	int confirmed;           /* RESPONSE_CONFIRM_* */
} response_raw;

/* Releases the JSON held by r and zeroes it. */
void response_record_clear(response_record *r);
/* {"id","form","created_at","answers","meta","tags","score","confirmed"} — a new object (caller owns);
 * "score" is omitted when NULL, "confirmed" (true|false) for answers of forms without `confirm:`. */
json_t *response_record_to_json(const response_record *r);

#endif
