/* routes_response_detail: what the dashboard reads beside the summary — one answer with its contact
 * keys, offers, deliveries and follow-up item (GET /api/v1/forms/{form}/responses/{id}), and the answers
 * counted per day, week or month under the filter parameters (GET /api/v1/forms/{form}/timeline). */
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "response_detail.h"
#include "routes.h"
#include "util.h"

static void handle_detail(request *r)
{
	const form *f = routes_find_form(r);
	if (!f) {
		reply_error(r->req, 404, "unknown_form", "There is no form with this id.", NULL);
		return;
	}
	json_t *body = NULL;
	char *err = NULL;
	int found = response_detail_build(r->srv->reader, f->id, request_param(r, "id"), now_ms(), &body, &err);
	if (found < 0) {
		reply_error(r->req, 503, "unavailable", err, NULL);
		free(err);
	} else if (found == 0) {
		reply_error(r->req, 404, "unknown_response", "This form has no answer with this id.", NULL);
	} else {
		reply_json(r->req, 200, body);
	}
}

/* Reads interval (day when absent) into *out. 0, or -1 after answering 400. */
static int interval_parameter(request *r, period *out)
{
	static const char *const names[] = { "day", "week", "month" };
	const char *v = request_query(r, "interval");
	*out = PERIOD_DAY;
	if (!v)
		return 0;
	for (int i = 0; i < 3; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = (period)i;
			return 0;
		}
	reply_error(r->req, 400, "invalid_parameter", "\"interval\" must be one of: day, week, month.",
	            json_pack("{s:s}", "parameter", "interval"));
	return -1;
}

static void handle_timeline(request *r)
{
	static const char *const names[] = { "day", "week", "month" };
	const form *f = routes_find_form(r);
	if (!f) {
		reply_error(r->req, 404, "unknown_form", "There is no form with this id.", NULL);
		return;
	}
	period p;
	response_filter flt;
	if (interval_parameter(r, &p) != 0 || routes_filter(r, &flt) != 0)
		return;
	json_t *series = NULL;
	char *err = NULL;
	int rc = answers_per_period(r->srv->reader, f->id, &flt, p, &series, &err);
	response_filter_clear(&flt);
	if (rc != 0) {
		reply_error(r->req, 503, "unavailable", err, NULL);
		free(err);
		return;
	}
	reply_json(r->req, 200, json_pack("{s:s, s:s, s:o}", "form", f->id, "interval", names[p], "series", series));
}

const route response_detail_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/forms/{form}/responses/{id}", .handle = handle_detail,
	  .flags = ROUTE_ADMIN },
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/forms/{form}/timeline", .handle = handle_timeline,
	  .flags = ROUTE_ADMIN },
	{ 0 },
};
