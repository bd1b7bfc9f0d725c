/* routes_contacts: erasure by contact for site owners (bearer token) —
 * DELETE /api/v1/contacts/{contact} erases every answer, offer and delivery tied to an email address
 * or phone number (erase.h). */
#include <stdlib.h>

#include <event2/http.h>

#include "erase.h"
#include "http.h"
#include "reply.h"

/* DELETE /api/v1/contacts/{contact} → 200 {"deleted":{"responses","offers","deliveries"}} (zeros for
 * a contact nobody knows, so the answer does not tell who exists); 400 invalid_contact; 503 when the
 * database cannot be written. The erasure takes a short-lived write connection of its own, queued
 * behind the writer by SQLite's busy_timeout. */
static void handle_erase(request *r)
{
	const char *contact = request_param(r, "contact");
	const char *why = NULL;
	char *err = NULL;
	erase_counts counts;
	int rc = erase_contact(r->srv->cfg->database, r->srv->cfg->durability, contact ? contact : "", &counts,
	                       &why, &err);
	if (rc == 0) {
		log_line("erased a contact: answers: %lld, offers: %lld, deliveries: %lld", (long long)counts.responses,
		         (long long)counts.offers, (long long)counts.deliveries);
		reply_json(r->req, 200, erase_counts_to_json(&counts));
	} else if (rc == 1) {
		reply_error(r->req, 400, "invalid_contact",
		            "The contact must be an email address or a phone number with its country code.",
		            json_pack("{s:s}", "reason", why));
	} else {
		reply_error(r->req, 503, "unavailable", err ? err : "The contact could not be erased.", NULL);
	}
	free(err);
}

const route contacts_routes[] = {
	{ .methods = EVHTTP_REQ_DELETE, .pattern = "/api/v1/contacts/{contact}", .handle = handle_erase,
	  .flags = ROUTE_ADMIN },
	{ 0 },
};
