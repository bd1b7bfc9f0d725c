/* routes_dashboard: GET /admin, the admin dashboard. The page is a static shell without any data
 * (static/admin.html with admin.js and admin.css); its script asks for the admin token and reads the
 * bearer-protected JSON API, so the shell itself needs no token. */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "reply.h"
#include "routes.h"
#include "util.h"

/* Content-Security-Policy of the dashboard: its own script, style and API only; no inline script or
 * style, no plugins, no framing, no form submissions, no <base>. Answers shown on the page can
 * therefore never run as script, even if one slipped into the markup. */
static const char dashboard_csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                                    "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                    "base-uri 'none'; form-action 'none'";

/* Sends static/admin.html with the dashboard's CSP, never cached and never framed; 500 when the
 * file is missing from static_dir. */
static void handle_dashboard(request *r)
{
	char *path = xasprintf("%s/admin.html", r->srv->cfg->static_dir);
	size_t len = 0;
	char *html = read_whole_file(path, &len);
	free(path);
	if (!html) {
		reply_error(r->req, 500, "internal", "The dashboard page (admin.html) is missing from static_dir.", NULL);
		return;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(h, "Content-Security-Policy", dashboard_csp);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	reply_text(r->req, 200, "text/html; charset=utf-8", html, len);
	free(html);
}

const route dashboard_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/admin", .handle = handle_dashboard },
	{ 0 },
};
