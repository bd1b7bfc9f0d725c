/* routes: helpers shared by the route families. */
#ifndef EARSHOT_ROUTES_H
#define EARSHOT_ROUTES_H

#include "http.h"

/* The form named by the {form} parameter when it exists (active or not), else NULL. */
const form *routes_find_form(request *r);
/* Parses the optional since/until query parameters (ISO-8601). On a bad value sends 400
 * invalid_parameter and returns -1. */
int routes_time_range(request *r, int64_t *since, int64_t *until);
/* The client address as stored under the configured privacy mode: a malloc'd string (caller frees)
 * or NULL for client_ip: none. */
char *routes_private_client(const server *srv, const char *address);

#endif
