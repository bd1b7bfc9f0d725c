/* routes_deliveries: the outbox for site owners (bearer token) — GET /api/v1/deliveries lists it,
 * POST /api/v1/deliveries/{id}/retry replays a delivery that was not delivered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "http.h"
#include "outbox.h"
#include "reply.h"
#include "routes.h"
#include "util.h"

/* Reads state, limit and after. Returns 0, or -1 after answering 400. */
static int list_parameters(request *r, bool *all, delivery_state *state, int *limit, int64_t *after)
{
	const char *name = request_query(r, "state");
	*all = !name || !*name;
	if (!*all && delivery_state_parse(name, state) != 0) {
		reply_error(r->req, 400, "invalid_parameter",
		            "\"state\" must be one of: pending, failed, dead, delivered.",
		            json_pack("{s:s}", "parameter", "state"));
		return -1;
	}
	return routes_page_parameters(r, limit, after);
}

/* GET /api/v1/deliveries?state=&limit=&after=&order= → {"deliveries":[…],"next":cursor|null}. */
static void handle_list(request *r)
{
	bool all;
	delivery_state state = DELIVERY_PENDING;
	int limit;
	int64_t after;
	bool newest_first;
	if (list_parameters(r, &all, &state, &limit, &after) != 0 || routes_order_parameter(r, &newest_first) != 0)
		return;
	delivery_record *rows = NULL;
	size_t n = 0;
	bool more = false;
	char *err = NULL;
	int rc = newest_first ? store_outbox_list_newest(r->srv->reader, all, state, after, limit, &rows, &n, &more, &err)
	                      : store_outbox_list(r->srv->reader, all, state, after, limit, &rows, &n, &more, &err);
	if (rc != 0) {
		reply_error(r->req, 503, "unavailable", err, NULL);
		free(err);
		return;
	}
	int64_t last = n > 0 ? rows[n - 1].seq : 0;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(list, delivery_record_to_json(&rows[i]));
		delivery_record_clear(&rows[i]);
	}
	free(rows);
	reply_json(r->req, 200, routes_page_body("deliveries", list, more && n > 0, last));
}

/* POST /api/v1/deliveries/{id}/retry → 200 with the replayed row; 404 unknown_delivery; 409
 * already_delivered. The write takes a short-lived connection of its own (the listing's is
 * read-only), then wakes the delivery worker. */
static void handle_retry(request *r)
{
	const char *id = request_param(r, "id");
	store *st = NULL;
	char *err = NULL;
	delivery_record d;
	memset(&d, 0, sizeof d);
	if (store_open(r->srv->cfg->database, r->srv->cfg->durability, false, &st, &err) != 0) {
		reply_error(r->req, 503, "unavailable", err, NULL);
		free(err);
		return;
	}
	int rc = store_outbox_retry(st, id, now_ms(), &d, &err);
	store_close(st);
	switch (rc) {
	case 1:
		outbox_notify();
		reply_json(r->req, 200, delivery_record_to_json(&d));
		break;
	case 0:
		reply_error(r->req, 404, "unknown_delivery", "There is no delivery with this id.", NULL);
		break;
	case 2:
		reply_error(r->req, 409, "already_delivered", "This delivery was already delivered.",
		            json_pack("{s:o}", "delivery", delivery_record_to_json(&d)));
		break;
	default:
		reply_error(r->req, 503, "unavailable", err ? err : "The delivery could not be replayed.", NULL);
		break;
	}
	free(err);
	delivery_record_clear(&d);
}

const route deliveries_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/deliveries", .handle = handle_list, .flags = ROUTE_ADMIN },
	{ .methods = EVHTTP_REQ_POST, .pattern = "/api/v1/deliveries/{id}/retry", .handle = handle_retry,
	  .flags = ROUTE_ADMIN },
	{ 0 },
};
