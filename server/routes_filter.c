/* routes_filter: the filter parameters of an admin request, read with response_filter_parse. */
#include <stdlib.h>

#include "reply.h"
#include "routes.h"

/* request_query for response_filter_parse. */
static const char *query(void *ctx, const char *name)
{
	return request_query(ctx, name);
}

int routes_filter(request *r, response_filter *out)
{
	const char *parameter = NULL;
	char *err = NULL;
	if (response_filter_parse(query, r, out, &parameter, &err) == 0)
		return 0;
	reply_error(r->req, 400, "invalid_parameter", err, json_pack("{s:s}", "parameter", parameter));
	free(err);
	return -1;
}
