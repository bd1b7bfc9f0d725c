/* routes_summary: GET /api/v1/forms/{form}/summary — the per-question summary (summary.h) of a form's
 * answers matching the filter parameters, for the admin token. */
#include <stdlib.h>

#include "reply.h"
#include "routes.h"
#include "summary.h"

static void handle_summary(request *r)
{
	const form *f = routes_find_form(r);
	if (!f) {
		reply_error(r->req, 404, "unknown_form", "There is no form with this id.", NULL);
		return;
	}
	response_filter flt;
	if (routes_filter(r, &flt) != 0)
		return;
	char *err = NULL;
	json_t *body = summary_build(r->srv->reader, f, &flt, &err);
	response_filter_clear(&flt);
	if (!body) {
		reply_error(r->req, 503, "unavailable", err, NULL);
		free(err);
		return;
	}
	reply_json(r->req, 200, body);
}

const route summary_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/forms/{form}/summary", .handle = handle_summary,
	  .flags = ROUTE_ADMIN },
	{ 0 },
};
