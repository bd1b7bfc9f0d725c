/* routes_metrics: GET /metrics in the Prometheus text exposition format (version 0.0.4) — answers
 * stored, refusals by status and code, deliveries by state, outbox depth, inbox open and overdue,
 * the writer's answers and commits (their ratio is the batch size), requests waiting for the writer.
 * An admin token is required unless metrics.public is true. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "admin_auth.h"
#include "http.h"
#include "inbox.h"
#include "metrics_internal.h"
#include "outbox.h"
#include "reply.h"
#include "storage.h"
#include "util.h"
#include "writer.h"

/* Writes s as a Prometheus label value: backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f), fputc(*s, f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* Writes "# HELP" and "# TYPE" lines. */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The exposition text: caller frees. Database figures that cannot be read are left out. */
static char *metrics_text(server *srv)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	char *err = NULL;
	int64_t n = 0;
	if (store_answers_total(srv->reader, &n, &err) == 0) {
		family(f, "earshot_answers_stored", "gauge", "Answers stored in the database.");
		fprintf(f, "earshot_answers_stored %" PRId64 "\n", n);
	}
	free(err);
	err = NULL;
	struct refusal_count refusals[80];
	size_t nr = metrics_refusals(refusals, sizeof refusals / sizeof refusals[0]);
	family(f, "earshot_refusals_total", "counter", "Requests answered with an error, by status and code.");
	for (size_t i = 0; i < nr; i++) {
		fprintf(f, "earshot_refusals_total{status=\"%d\",code=\"", refusals[i].status);
		label_value(f, refusals[i].code);
		fprintf(f, "\"} %" PRIu64 "\n", refusals[i].count);
	}
	static const delivery_state states[] = { DELIVERY_PENDING, DELIVERY_FAILED, DELIVERY_DEAD, DELIVERY_DELIVERED };
	int64_t depth = 0;
	family(f, "earshot_deliveries", "gauge", "Outbox rows by state (delivered rows are kept 30 days).");
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		if (store_outbox_count(srv->reader, states[i], &n, &err) != 0) {
			free(err);
			err = NULL;
			continue;
		}
		fprintf(f, "earshot_deliveries{state=\"%s\"} %" PRId64 "\n", delivery_state_name(states[i]), n);
		if (states[i] == DELIVERY_PENDING || states[i] == DELIVERY_FAILED)
			depth += n;
	}
	family(f, "earshot_outbox_depth", "gauge", "Deliveries still to send (pending and failed).");
	fprintf(f, "earshot_outbox_depth %" PRId64 "\n", depth);
	int64_t open = 0, overdue = 0;
	if (store_inbox_counts(srv->reader, now_ms(), &open, &overdue, &err) == 0) {
		family(f, "earshot_inbox_open", "gauge", "Follow-up inbox items not yet done.");
		fprintf(f, "earshot_inbox_open %" PRId64 "\n", open);
		family(f, "earshot_inbox_overdue", "gauge", "Open follow-up inbox items past their due time.");
		fprintf(f, "earshot_inbox_overdue %" PRId64 "\n", overdue);
	}
	free(err);
	uint64_t answers = 0, batches = 0;
	if (srv->writer)
		writer_stats(srv->writer, &answers, &batches);
	family(f, "earshot_writer_answers_total", "counter", "Answers committed by the writer since start.");
	fprintf(f, "earshot_writer_answers_total %" PRIu64 "\n", answers);
	family(f, "earshot_writer_commits_total", "counter", "Group commits made by the writer since start.");
	fprintf(f, "earshot_writer_commits_total %" PRIu64 "\n", batches);
	family(f, "earshot_writer_batch_size", "gauge", "Mean answers per commit since start.");
	fprintf(f, "earshot_writer_batch_size %.3f\n", batches ? (double)answers / (double)batches : 0.0);
	family(f, "earshot_writer_database_round_trips_total", "counter",
	       "Times the writer waited for its database since start (PostgreSQL; 0 with SQLite).");
	fprintf(f, "earshot_writer_database_round_trips_total %" PRIu64 "\n", srv->writer ? writer_round_trips(srv->writer) : 0);
	family(f, "earshot_requests_waiting", "gauge", "Requests waiting for the writer to commit their answer.");
	fprintf(f, "earshot_requests_waiting %u\n", srv->pending);
	fclose(f);
	return out;
}

/* GET /metrics. */
static void handle_metrics(request *r)
{
	if (!r->srv->cfg->metrics.public_access && !admin_token_authorised(r->srv->cfg, r->req)) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "WWW-Authenticate", "Bearer realm=\"earshot\"");
		reply_error(r->req, 401, "unauthorized", "A valid admin bearer token is required (or metrics.public: true).",
		            NULL);
		return;
	}
	char *text = metrics_text(r->srv);
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Cache-Control", "no-store");
	reply_text(r->req, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
	free(text);
}

const route metrics_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/metrics", .handle = handle_metrics },
	{ 0 },
};
