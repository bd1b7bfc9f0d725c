/* routes: helpers shared by the route families. */
#ifndef EARSHOT_ROUTES_H
#define EARSHOT_ROUTES_H

#include "http.h"
#include "response_filter.h"

/* The form named by the {form} parameter when it exists (active or not), else NULL. */
const form *routes_find_form(request *r);
/* The opening checks of a route the widget posts to: the request's origin is allowed (else 403
 * origin_not_allowed with origin_refusal as the message) and {form} names an active form (else 404
 * unknown_form). Returns the form with its availability now in *avail, or NULL after answering. */
const form *routes_widget_form(request *r, const char *origin_refusal, int *avail);
/* True when a Content-Type names JSON or plain text (which a browser sends without a preflight): what
 * the widget's routes take. */
bool routes_media_type_accepted(const char *content_type);
/* The request body parsed as a JSON object (a new reference), or NULL after answering 400
 * invalid_json with the offset of the fault. */
json_t *routes_json_object_body(request *r);
/* Parses the optional since/until query parameters (ISO-8601). On a bad value sends 400
 * invalid_parameter and returns -1. */
int routes_time_range(request *r, int64_t *since, int64_t *until);
/* Reads the filter parameters of the admin summary, listing and export (response_filter.h) into *out
 * (caller clears it). Returns 0, or -1 after answering 400 invalid_parameter naming the parameter. */
int routes_filter(request *r, response_filter *out);
/* Reads the paging parameters of a listing: limit (1 to 1000, 100 when absent) and after (a cursor
 * from a previous page, 0 when absent). Returns 0, or -1 after answering 400 invalid_parameter. */
int routes_page_parameters(request *r, int *limit, int64_t *after);
/* Reads the order of a listing: order=oldest (the default: store order) or order=newest. Returns 0,
 * or -1 after answering 400 invalid_parameter. */
int routes_order_parameter(request *r, bool *newest_first);
/* The body of one page of a listing, {KEY: list, "next": cursor}: the cursor is last_seq as a string
 * when more rows follow, else null. Takes ownership of list; returns a new object. */
json_t *routes_page_body(const char *key, json_t *list, bool more, int64_t last_seq);
/* The client address as stored under the configured privacy mode: a malloc'd string (caller frees)
 * or NULL for client_ip: none. */
char *routes_private_client(const server *srv, const char *address);

/* True when JSON submits to f must carry a valid timing token (GET /f/{form}/token): signup forms,
 * and forms that a plugin which declared offers is enabled for. Without one such a submit is
 * answered 201 while nothing is stored. */
bool routes_form_needs_token(server *srv, const form *f);

/* The device class of a User-Agent as the widget decides it: "mobile", "tablet" or "desktop" (static),
 * or NULL without one. */
const char *routes_device_class(const char *user_agent);
/* Counts one view of f (routes_views.c) for the request's client, with the variant when f has it and
 * the device when it is a known class (either may be NULL). Returns 0, or the seconds to wait when the
 * client's view bucket is empty (nothing counted). */
int routes_count_view(request *r, const form *f, const char *variant, const char *device);

#endif
