/* admin_auth: the bearer-token check of admin routes (see admin_auth.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/keyvalq_struct.h>

#include "admin_auth.h"
#include "util.h"

/* Hashes the presented token and compares it with every configured digest (see admin_auth.h). */
bool admin_token_authorised(const earshot_config *cfg, struct evhttp_request *req)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	unsigned char digest[32] = { 0 };
	bool have = auth && strncasecmp(auth, "Bearer ", 7) == 0 && auth[7] != '\0';
	char hex[65];
	const char *token = have ? auth + 7 : "";
	sha256_hex(token, strlen(token), hex);
	for (int i = 0; i < 32; i++) {
		unsigned int byte = 0;
		sscanf(hex + 2 * i, "%2x", &byte);
		digest[i] = (unsigned char)byte;
	}
	bool ok = false;
	for (size_t i = 0; i < cfg->n_admin_tokens; i++)
		ok |= ct_equal(cfg->admin_tokens[i], digest, 32);
	return have && ok;
}
