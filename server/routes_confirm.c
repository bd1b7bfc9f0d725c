/* routes_confirm: GET /f/{form}/confirm?t={token}, the link of a confirmation email (confirm.h). The
 * signature is checked here; the writer marks the answer confirmed, runs the plugins that waited for
 * it, and the page shows the confirmation (translated) with the answer's offers. */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "confirm.h"
#include "contacts.h"
#include "i18n.h"
#include "reply.h"
#include "render.h"
#include "routes.h"
#include "util.h"

#define CONFIRM_CSS "/static/form.css"

/* What the writer's reply needs. */
typedef struct confirm_ctx {
	request r;                   /* a copy: srv and req stay valid until the reply */
	form_registry *reg;          /* keeps form alive */
	const form *form;
	const char *lang;            /* static: the language of the page's sentences */
} confirm_ctx;

/* Sends an HTML page (html is freed) with the headers of the hosted pages. */
static void send_page(struct evhttp_request *req, int status, char *html)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Security-Policy", RENDER_PAGE_CSP);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	reply_text(req, status, "text/html; charset=utf-8", html, strlen(html));
	free(html);
}

/* A refused link: status with a heading and a sentence in lang. */
static void send_refused(struct evhttp_request *req, int status, const char *message, const char *lang)
{
	send_page(req, status, render_message_page_in("This link does not work", message, CONFIRM_CSS, lang));
}

/* The writer's outcome, on the event loop thread: the confirmation page or why the link failed. */
static void confirm_done(writer_job *job, void *arg)
{
	confirm_ctx *ctx = arg;
	request *r = &ctx->r;
	if (job->status == 200) {
		json_t *offers = NULL;
		char *err = NULL;
		if (store_offers_for_response(r->srv->reader, job->confirming, ctx->form->id, &offers, &err) != 0) {
			log_line("confirmation page of %s: %s", ctx->form->id, err);
			free(err);
		}
		form *view = form_view_new(ctx->form, NULL, NULL);
		view->thank_you = (char *)"Your address is confirmed. Thank you!";
		send_page(r->req, 200, render_thanks_page_in(view, offers, CONFIRM_CSS, ctx->lang));
		form_view_free(view);
		json_decref(offers);
	} else if (job->status == 410) {
		json_t *body = writer_job_body(job);
		const char *reason = json_string_value(json_object_get(body, "reason"));
		send_refused(r->req, 410, reason && strcmp(reason, "expired") == 0
		                              ? "This confirmation link has expired."
		                              : "This confirmation link was already used.", ctx->lang);
	} else if (job->status == 404) {
		send_refused(r->req, 404, "This confirmation link is not valid.", ctx->lang);
	} else {
		send_refused(r->req, 503, "Your confirmation could not be stored. Please open the link again in a moment.",
		             ctx->lang);
	}
	r->srv->pending--;
	writer_job_free(job);
	form_registry_unref(ctx->reg);
	free(ctx);
}

/* GET /f/{form}/confirm?t={token}. */
static void handle_confirm(request *r)
{
	const form *f = routes_find_form(r);
	const char *accept = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Accept-Language");
	const char *lang = i18n_chrome(f ? f->locale : "en", accept);
	char id[48];
	int64_t expires = 0;
	if (!f || !f->confirm_destination || confirm_token_check(request_query(r, "t"), f->id, id, &expires) != 0) {
		send_refused(r->req, 404, "This confirmation link is not valid.", lang);
		return;
	}
	if (expires < now_ms()) {
		send_refused(r->req, 410, "This confirmation link has expired.", lang);
		return;
	}
	server *srv = r->srv;
	writer_job *job = writer_job_new();
	job->reg = form_registry_ref(srv->forms);
	job->form = f;
	job->answers = json_object();
	job->meta = json_object();
	job->created_ms = now_ms();
	snprintf(job->confirming, sizeof job->confirming, "%s", id);
	confirm_ctx *ctx = xcalloc(1, sizeof *ctx);
	ctx->r = (request){ .srv = srv, .req = r->req };
	ctx->reg = form_registry_ref(srv->forms);
	ctx->form = f;
	ctx->lang = lang;
	job->done = confirm_done;
	job->done_arg = ctx;
	srv->pending++;
	writer_submit(srv->writer, job);
}

const route confirm_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/f/{form}/confirm", .handle = handle_confirm },
	{ 0 },
};
