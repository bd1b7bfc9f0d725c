/* response: one stored answer as read back from the store, and its JSON shape in listings,
 * NDJSON exports and deliveries. */
#ifndef EARSHOT_RESPONSE_H
#define EARSHOT_RESPONSE_H

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
} response_record;

/* Releases the JSON held by r and zeroes it. */
void response_record_clear(response_record *r);
/* {"id","form","created_at","answers","meta","tags","score"} — a new object (caller owns); "score" is
 * omitted when NULL. */
json_t *response_record_to_json(const response_record *r);

#endif
