/* routes_home: GET /, a small page for the site owner: where the dashboard, the widget demo and the
 * hosted forms are, and the line that embeds the widget. It shows only what is public anyway (the
 * active forms' pages and the embed line): no answers, counts or settings. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "build-config.h"
#include "render.h"
#include "reply.h"
#include "routes.h"
#include "util.h"

/* The page has no script and only the hosted pages' stylesheet. */
static const char home_csp[] = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                               "form-action 'none'";

/* Appends s to buf, HTML-escaped. */
static void add_escaped(struct evbuffer *buf, const char *s)
{
	char *e = render_escape(s, true);
	evbuffer_add(buf, e, strlen(e));
	free(e);
}

/* Appends one list item linking to the hosted page of every active form. */
static void add_form_links(struct evbuffer *buf, const form_registry *forms)
{
	size_t shown = 0;
	for (size_t i = 0; forms && i < forms->n; i++) {
		const form *f = forms->forms[i];
		if (!f->active)
			continue;
		evbuffer_add_printf(buf, "<li><a href=\"/f/%s\">", f->id); /* ids are [a-z0-9-] */
		add_escaped(buf, f->title);
		evbuffer_add_printf(buf, "</a> <code>/f/%s</code> (%s)</li>\n", f->id, form_kind_name(f->kind));
		shown++;
	}
	if (!shown)
		evbuffer_add_printf(buf, "<li>No active forms: add one to forms_dir and reload.</li>\n");
}

/* Sends the landing page; never cached, never framed. */
static void handle_home(request *r)
{
	struct evbuffer *buf = evbuffer_new();
	evbuffer_add_printf(buf, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	                         "<title>earshot</title>\n<link rel=\"stylesheet\" href=\"/static/form.css\">\n"
	                         "</head>\n<body>\n<main class=\"es-page\">\n<h1>earshot %s</h1>\n"
	                         "<p>This server collects the answers of your site's visitors.</p>\n"
	                         "<ul>\n<li><a href=\"/admin\">Dashboard</a> (needs an admin token)</li>\n"
	                         "<li><a href=\"/static/demo.html\">Widget demo</a> on a sample shop page</li>\n"
	                         "</ul>\n<h2>Forms</h2>\n<ul>\n", PACKAGE_VERSION);
	add_form_links(buf, r->srv->forms);
	evbuffer_add_printf(buf, "</ul>\n<h2>Embed the widget</h2>\n<p>Add this line to your site's pages:</p>\n<pre class=\"es-embed\">");
	char *line = xasprintf("<script src=\"%s/static/earshot.js?v=%s\" async></script>", r->srv->cfg->public_url,
	                       PACKAGE_VERSION);
	add_escaped(buf, line);
	free(line);
	evbuffer_add_printf(buf, "</pre>\n</main>\n</body>\n</html>\n");
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(h, "Content-Security-Policy", home_csp);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	size_t len = evbuffer_get_length(buf);
	reply_text(r->req, 200, "text/html; charset=utf-8", (const char *)evbuffer_pullup(buf, -1), len);
	evbuffer_free(buf);
}

const route home_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/", .handle = handle_home },
	{ 0 },
};
