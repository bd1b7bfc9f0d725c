/* storage_records: the records every storage backend exchanges with the rest of the server — the
 * names of contact kinds and delivery states, and a delivery's admin JSON shape. */
#include <stdlib.h>
#include <string.h>

#include "storage.h"
#include "util.h"

/* The name of a contact kind, as stored with its keys (static). */
const char *contact_kind_name(contact_kind kind)
{
	return kind == CONTACT_PHONE ? "phone" : "email";
}

static const char *const state_names[] = { "pending", "failed", "dead", "delivered" };

/* The name of s ("pending" for anything out of range). */
const char *delivery_state_name(delivery_state s)
{
	return (unsigned)s < 4 ? state_names[s] : "pending";
}

/* Parses a state name into *out. 0, or -1 when unknown. */
int delivery_state_parse(const char *name, delivery_state *out)
{
	for (int i = 0; name && i < 4; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (delivery_state)i;
			return 0;
		}
	}
	return -1;
}

/* Frees the strings of d and zeroes it. */
void delivery_record_clear(delivery_record *d)
{
	free(d->destination);
	free(d->type);
	free(d->plugin);
	free(d->response_id);
	free(d->body);
	free(d->last_error);
	memset(d, 0, sizeof *d);
}

/* A new JSON string with the ISO-8601 form of ms, or null when ms is 0. */
static json_t *time_or_null(int64_t ms)
{
	if (ms == 0)
		return json_null();
	char when[32];
	iso8601_format_ms(ms, when);
	return json_string(when);
}

/* A new JSON string of s, or null. */
static json_t *string_or_null(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;
	return v ? v : json_null();
}

/* The admin shape of d (a new object); the document is parsed back, or given as text when it is
 * somehow not JSON. */
json_t *delivery_record_to_json(const delivery_record *d)
{
	json_t *o = json_object();
	bool due = d->state == DELIVERY_PENDING || d->state == DELIVERY_FAILED;
	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "destination", string_or_null(d->destination));
	json_object_set_new(o, "type", string_or_null(d->type));
	json_object_set_new(o, "state", json_string(delivery_state_name(d->state)));
	json_object_set_new(o, "attempts", json_integer(d->attempts));
	json_object_set_new(o, "created_at", time_or_null(d->created_ms));
	json_object_set_new(o, "next_attempt_at", due ? time_or_null(d->next_attempt_ms) : json_null());
	json_object_set_new(o, "last_attempt_at", time_or_null(d->last_attempt_ms));
	json_object_set_new(o, "last_error", string_or_null(d->last_error));
	json_object_set_new(o, "delivered_at", time_or_null(d->delivered_ms));
	json_object_set_new(o, "response_id", string_or_null(d->response_id));
	json_object_set_new(o, "plugin", string_or_null(d->plugin));
	json_t *doc = d->body ? json_loads(d->body, 0, NULL) : NULL;
	json_object_set_new(o, "document", doc ? doc : string_or_null(d->body));
	return o;
}
