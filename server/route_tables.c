/* route_tables: every family of routes, in the order dispatch() searches them. Add a family here. */
#include <stddef.h>

#include "http.h"

extern const route hosted_routes[]; /* routes_hosted.c: the hosted form pages */

const route *const route_tables[] = {
	public_routes,
	hosted_routes,
	admin_routes,
	deliveries_routes,
	NULL,
};
