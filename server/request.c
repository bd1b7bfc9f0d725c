/* request: what route handlers read of a request once dispatch has matched it — path parameters and
 * query parameters (declared in http.h beside the request type). Kept apart from http.c so that the
 * route families depend on it, and http.c on them, without a cycle. */
#include <string.h>

#include <event2/http.h>

#include "http.h"

const char *request_param(const request *r, const char *name)
{
	return route_param(&r->params, name);
}

const char *request_query(const request *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}
