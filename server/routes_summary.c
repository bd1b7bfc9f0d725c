/* routes_summary: GET /api/v1/forms/{form}/summary — the per-question summary (summary.h) of a form's
 * answers matching the filter parameters, for the admin token. Built on the summary worker's thread
 * (summary_worker.h): the loop goes on serving other requests meanwhile. */
#include <stdlib.h>

#include "reply.h"
#include "routes.h"
#include "summary_worker.h"
#include "util.h"

typedef struct summary_reply {
	server *srv;
	struct evhttp_request *req;
} summary_reply;

static void summary_done(summary_job *job, void *arg)
{
	summary_reply *ctx = arg;
	if (job->body)
		reply_json(ctx->req, 200, json_incref(job->body));
	else
		reply_error(ctx->req, 503, "unavailable", job->err ? job->err : "The summary could not be read.", NULL);
	ctx->srv->pending--;
	summary_job_free(job);
	free(ctx);
}

static void handle_summary(request *r)
{
	const form *f = routes_find_form(r);
	if (!f) {
		reply_error(r->req, 404, "unknown_form", "There is no form with this id.", NULL);
		return;
	}
	summary_job *job = summary_job_new();
	if (routes_filter(r, &job->filter) != 0) {
		summary_job_free(job);
		return;
	}
	summary_reply *ctx = xmalloc(sizeof *ctx);
	*ctx = (summary_reply){ r->srv, r->req };
	job->reg = form_registry_ref(r->srv->forms);
	job->form = f;
	job->done = summary_done;
	job->done_arg = ctx;
	r->srv->pending++;
	summary_worker_submit(r->srv->summaries, job);
}

const route summary_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/forms/{form}/summary", .handle = handle_summary,
	  .flags = ROUTE_ADMIN },
	{ 0 },
};
