/* response: stored answers as JSON. */
#include <string.h>

#include "response.h"
#include "util.h"

void response_record_clear(response_record *r)
{
	json_decref(r->answers);
	json_decref(r->meta);
	json_decref(r->score);
	json_decref(r->tags);
	memset(r, 0, sizeof *r);
}

json_t *response_record_to_json(const response_record *r)
{
	char when[32];
	iso8601_format_ms(r->created_ms, when);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "form", json_string(r->form));
	json_object_set_new(o, "created_at", json_string(when));
	json_object_set_new(o, "answers", r->answers ? json_incref(r->answers) : json_object());
	json_object_set_new(o, "meta", r->meta ? json_incref(r->meta) : json_object());
	json_object_set_new(o, "tags", r->tags ? json_incref(r->tags) : json_array());
	if (r->score)
		json_object_set(o, "score", r->score);
	if (r->confirmed != RESPONSE_CONFIRM_NONE)
		json_object_set_new(o, "confirmed", json_boolean(r->confirmed == RESPONSE_CONFIRM_DONE));
	return o;
}
