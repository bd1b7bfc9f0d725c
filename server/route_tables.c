/* route_tables: every family of routes, in the order dispatch() searches them. Add a family here. */
#include <stddef.h>

#include "http.h"

const route *const route_tables[] = {
	public_routes,
	admin_routes,
	deliveries_routes,
	NULL,
};
