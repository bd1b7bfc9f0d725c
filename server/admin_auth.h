/* admin_auth: the bearer-token check of admin routes (docs/http-api.md, "Admin routes"). */
#ifndef EARSHOT_ADMIN_AUTH_H
#define EARSHOT_ADMIN_AUTH_H

#include <stdbool.h>

#include <event2/http.h>

#include "config.h"

/* True when req carries `Authorization: Bearer <token>` whose SHA-256 is one of cfg's admin tokens.
 * Every configured digest is compared, in constant time, whatever matched, so timing reveals neither
 * which tokens exist nor how many. */
bool admin_token_authorised(const earshot_config *cfg, struct evhttp_request *req);

#endif
