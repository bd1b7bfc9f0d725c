/* routes_inbox: the follow-up inbox and the contact card for site owners (bearer token) —
 * GET /api/v1/inbox lists items, GET and PATCH /api/v1/inbox/{id} read and change one (state,
 * assignee, note), GET /api/v1/contacts/{contact} gathers every answer, offer and inbox item of one
 * email address or phone number (inbox.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "contacts.h"
#include "http.h"
#include "inbox.h"
#include "reply.h"
#include "util.h"

#define ASSIGNEE_MAX 200
#define NOTE_MAX 4000
#define LIST_MAX 1000

/* Answers 503 with err (freed). */
static void unavailable(request *r, char *err)
{
	reply_error(r->req, 503, "unavailable", err ? err : "The database cannot be read right now.", NULL);
	free(err);
}

/* GET /api/v1/inbox?state=open|overdue|done&form=&limit= → {"items":[…]} newest first. */
static void handle_list(request *r)
{
	const char *state = request_query(r, "state");
	const char *form_id = request_query(r, "form");
	const char *limit_text = request_query(r, "limit");
	if (state && !*state)
		state = NULL;
	if (form_id && !*form_id)
		form_id = NULL;
	if (state && strcmp(state, "open") != 0 && strcmp(state, "overdue") != 0 && strcmp(state, "done") != 0) {
		reply_error(r->req, 400, "invalid_parameter", "\"state\" must be one of: open, overdue, done.",
		            json_pack("{s:s}", "parameter", "state"));
		return;
	}
	int limit = 200;
	if (limit_text && *limit_text) {
		char *end;
		long v = strtol(limit_text, &end, 10);
		if (*end || v < 1 || v > LIST_MAX) {
			reply_error(r->req, 400, "invalid_parameter", "\"limit\" must be a whole number from 1 to 1000.",
			            json_pack("{s:s}", "parameter", "limit"));
			return;
		}
		limit = (int)v;
	}
	json_t *items = NULL;
	char *err = NULL;
	int64_t now = now_ms(), open = 0, overdue = 0;
	if (store_inbox_list(r->srv->reader, state, form_id, now, limit, &items, &err) != 0 ||
	    store_inbox_counts(r->srv->reader, now, &open, &overdue, &err) != 0) {
		json_decref(items);
		unavailable(r, err);
		return;
	}
	char when[32];
	iso8601_format_ms(now, when);
	reply_json(r->req, 200, json_pack("{s:o, s:I, s:I, s:s}", "items", items, "open", (json_int_t)open, "overdue",
	                                  (json_int_t)overdue, "now", when));
}

/* GET /api/v1/inbox/{id} → the item; 404 unknown_item. */
static void handle_get(request *r)
{
	json_t *item = NULL;
	char *err = NULL;
	int rc = store_inbox_get(r->srv->reader, request_param(r, "id"), now_ms(), &item, &err);
	if (rc < 0)
		unavailable(r, err);
	else if (rc == 0)
		reply_error(r->req, 404, "unknown_item", "There is no inbox item with this id.", NULL);
	else
		reply_json(r->req, 200, item);
}

/* True when s holds a control byte other than (when allow_newlines) LF and CR. */
static bool has_control(const char *s, bool allow_newlines)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && !(allow_newlines && (*p == '\n' || *p == '\r' || *p == '\t'))) || *p == 0x7f)
			return true;
	return false;
}

/* Checks one text field of a PATCH: a string (empty or null clears) within max characters.
 * Sets *out (borrowed; "" to clear) or adds a message to fields. */
static void read_text(json_t *body, const char *key, size_t max, bool newlines, const char **out, json_t *fields)
{
	json_t *v = json_object_get(body, key);
	if (!v)
		return;
	if (json_is_null(v)) {
		*out = "";
		return;
	}
	const char *s = json_string_value(v);
	if (!s)
		json_object_set_new(fields, key, json_string("must be a string, or null to clear it"));
	else if (utf8_count(s, strlen(s)) > max)
		json_object_set_new(fields, key, json_sprintf("must be at most %zu characters", max));
	else if (has_control(s, newlines))
		json_object_set_new(fields, key, json_string(newlines ? "must not contain control characters"
		                                                     : "must be one line without control characters"));
	else
		*out = s;
}

/* PATCH /api/v1/inbox/{id} with {"state"?: "open"|"done", "assignee"?: s|null, "note"?: s|null}
 * → 200 with the item; 400 invalid_json; 422 invalid with fields; 404 unknown_item. */
static void handle_patch(request *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *data = len ? (const char *)evbuffer_pullup(in, (ev_ssize_t)len) : "";
	json_error_t jerr;
	json_t *body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(body)) {
		char *msg = body ? xstrdup("The body must be a JSON object (at byte 0).")
		                 : xasprintf("The body is not valid JSON: %s (at byte %d).", jerr.text, jerr.position);
		reply_error(r->req, 400, "invalid_json", msg, json_pack("{s:i}", "offset", body ? 0 : jerr.position));
		free(msg);
		json_decref(body);
		return;
	}
	json_t *fields = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v) {
		if (strcmp(key, "state") != 0 && strcmp(key, "assignee") != 0 && strcmp(key, "note") != 0)
			json_object_set_new(fields, key, json_string("unknown field (known: state, assignee, note)"));
	}
	const char *state = NULL, *assignee = NULL, *note = NULL;
	json_t *sv = json_object_get(body, "state");
	if (sv) {
		state = json_string_value(sv);
		if (!state || (strcmp(state, "open") != 0 && strcmp(state, "done") != 0)) {
			json_object_set_new(fields, "state", json_string("must be \"open\" or \"done\""));
			state = NULL;
		}
	}
	read_text(body, "assignee", ASSIGNEE_MAX, false, &assignee, fields);
	read_text(body, "note", NOTE_MAX, true, &note, fields);
	if (json_object_size(fields) > 0) {
		reply_error(r->req, 422, "invalid", "Some fields are not valid.", json_pack("{s:o}", "fields", fields));
		json_decref(body);
		return;
	}
	json_decref(fields);
	store *st = NULL;
	char *err = NULL;
	json_t *item = NULL;
	int rc = -1;
	if (store_open(r->srv->cfg->database, r->srv->cfg->durability, false, &st, &err) == 0) {
		rc = store_inbox_update(st, request_param(r, "id"), state, assignee, note, now_ms(), &err);
		if (rc == 1 && store_inbox_get(st, request_param(r, "id"), now_ms(), &item, &err) != 1)
			rc = -1;
		store_close(st);
	}
	json_decref(body);
	if (rc < 0)
		unavailable(r, err);
	else if (rc == 0)
		reply_error(r->req, 404, "unknown_item", "There is no inbox item with this id.", NULL);
	else
		reply_json(r->req, 200, item);
	if (rc >= 0)
		free(err);
}

/* GET /api/v1/contacts/{contact} → {"contact":{"kind","key"},"responses","offers","inbox"}; a contact
 * nobody knows gets empty lists; 400 invalid_contact. */
static void handle_card(request *r)
{
	const char *contact = request_param(r, "contact");
	contact_kind kind;
	char *key = NULL;
	const char *why = NULL;
	if (contact_identity_parse(contact ? contact : "", &kind, &key, &why) != 0) {
		free(key);
		reply_error(r->req, 400, "invalid_contact",
		            "The contact must be an email address or a phone number with its country code.",
		            json_pack("{s:s}", "reason", why));
		return;
	}
	int64_t id = 0;
	char *err = NULL;
	json_t *card = NULL;
	int found = store_contact_find(r->srv->reader, kind, key, &id, &err);
	if (found < 0 || (found == 1 && store_contact_card(r->srv->reader, id, now_ms(), &card, &err) != 0)) {
		free(key);
		unavailable(r, err);
		return;
	}
	if (!card)
		card = json_pack("{s:[], s:[], s:[]}", "responses", "offers", "inbox");
	json_object_set_new(card, "contact", json_pack("{s:s, s:s}", "kind", contact_kind_name(kind), "key", key));
	free(key);
	reply_json(r->req, 200, card);
}

const route inbox_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/inbox", .handle = handle_list, .flags = ROUTE_ADMIN },
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/inbox/{id}", .handle = handle_get, .flags = ROUTE_ADMIN },
	{ .methods = EVHTTP_REQ_PATCH, .pattern = "/api/v1/inbox/{id}", .handle = handle_patch, .flags = ROUTE_ADMIN },
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/contacts/{contact}", .handle = handle_card,
	  .flags = ROUTE_ADMIN },
	{ 0 },
};
