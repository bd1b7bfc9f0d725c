/* routes_views: counting views — POST /api/v1/forms/{form}/views, the widget's ping when it shows a
 * survey, and the view the hosted page counts (routes_count_view). Counts go to the writer's
 * in-memory tally (writer_count_view), which it stores a second later: no request waits for SQLite. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "availability.h"
#include "reply.h"
#include "routes.h"
#include "util.h"

const char *routes_device_class(const char *user_agent)
{
	if (!user_agent)
		return NULL;
	/* The widget's rule (docs/targeting.md): iPad, "Tablet", or Android without "Mobi" after it is a
	 * tablet; "Mobi", iPhone or Android a phone; anything else a desktop. */
	const char *android = strcasestr(user_agent, "Android");
	if (strcasestr(user_agent, "iPad") || strcasestr(user_agent, "Tablet") ||
	    (android && !strcasestr(android, "Mobi")))
		return "tablet";
	if (strcasestr(user_agent, "Mobi") || strcasestr(user_agent, "iPhone") || android)
		return "mobile";
	return "desktop";
}

/* device when it is one of the classes the widget reports, else NULL. */
static const char *known_device(const char *device)
{
	static const char *const classes[] = { "mobile", "tablet", "desktop" };
	for (size_t i = 0; device && i < sizeof classes / sizeof classes[0]; i++)
		if (strcmp(device, classes[i]) == 0)
			return classes[i];
	return NULL;
}

int routes_count_view(request *r, const form *f, const char *variant, const char *device)
{
	int retry_after = ratelimit_take(r->srv->view_limit, r->client, monotonic_ms());
	if (retry_after > 0)
		return retry_after;
	/* A variant the form lacks is counted as none, as answers drop it. */
	const json_t *v = variant ? form_variant(f, variant) : NULL;
	writer_count_view(r->srv->writer, f->id, v ? json_string_value(json_object_get(v, "id")) : NULL,
	                  known_device(device), now_ms());
	return 0;
}

/* Adds to problems each member of meta the route reads that is present but neither a string nor null. */
static void check_strings(json_t *meta, json_t *problems)
{
	static const char *const names[] = { "page", "variant", "locale", "device" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		json_t *v = json_object_get(meta, names[i]);
		if (v && !json_is_string(v) && !json_is_null(v))
			json_object_set_new(problems, names[i], json_string("must be a string"));
	}
}

static void handle_view(request *r)
{
	struct evhttp_request *req = r->req;
	int avail;
	const form *f = routes_widget_form(r, "This origin may not count views here.", &avail);
	if (!f)
		return;
	if (avail > AVAIL_OPEN) {
		reply_error(req, 410, "form_closed", "This form is not being shown now.",
		            json_pack("{s:s}", "reason", availability_reason((availability)avail)));
		return;
	}
	if (!routes_media_type_accepted(evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type"))) {
		reply_error(req, 415, "unsupported_media_type",
		            "Send the view as application/json or text/plain containing JSON.", NULL);
		return;
	}
	json_t *body = routes_json_object_body(r);
	if (!body)
		return;
	json_t *meta = json_object_get(body, "meta");
	json_t *problems = json_object();
	if (meta && !json_is_object(meta))
		json_object_set_new(problems, "meta", json_string("must be an object"));
	else
		check_strings(meta, problems);
	if (json_object_size(problems) > 0) {
		reply_error(req, 422, "invalid", "The view's meta needs another look.", json_pack("{s:o}", "fields", problems));
		json_decref(body);
		return;
	}
	json_decref(problems);
	int retry_after = routes_count_view(r, f, json_string_value(json_object_get(meta, "variant")),
	                                    json_string_value(json_object_get(meta, "device")));
	json_decref(body);
	if (retry_after > 0) {
		char secs[16];
		snprintf(secs, sizeof secs, "%d", retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", secs);
		reply_error(req, 429, "rate_limited", "Too many views from this address; please wait a moment.",
		            json_pack("{s:i}", "retry_after", retry_after));
		return;
	}
	reply_text(req, 204, "text/plain; charset=utf-8", "", 0);
}

const route views_routes[] = {
	{ .methods = EVHTTP_REQ_POST, .pattern = "/api/v1/forms/{form}/views", .handle = handle_view,
	  .flags = ROUTE_CORS },
	{ 0 },
};
