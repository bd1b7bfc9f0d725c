/* routes_admin: bearer-token routes for site owners — forms, paged responses, streamed exports (both
 * filtered with the parameters of response_filter.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "export.h"
#include "reply.h"
#include "routes.h"
#include "storage.h"
#include "util.h"

#define EXPORT_ROWS_PER_CHUNK 256
#define EXPORT_CHUNK_BYTES (64 * 1024)

/* The form named in the path, answering 404 unknown_form when there is none. */
static const form *admin_form(request *r)
{
	const form *f = routes_find_form(r);
	if (!f)
		reply_error(r->req, 404, "unknown_form", "There is no form with this id.", NULL);
	return f;
}

/* ---- GET /api/v1/forms ----------------------------------------------------------------------- */

static void handle_forms(request *r)
{
	json_t *list = json_array();
	const form_registry *reg = r->srv->forms;
	for (size_t i = 0; i < reg->n; i++) {
		const form *f = reg->forms[i];
		int64_t n = 0;
		char *err = NULL;
		if (store_response_count(r->srv->reader, f->id, &n, &err) != 0) {
			reply_error(r->req, 503, "unavailable", err, NULL);
			free(err);
			json_decref(list);
			return;
		}
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:b, s:I}", "id", f->id, "kind",
		                                       form_kind_name(f->kind), "title", f->title, "active",
		                                       f->active, "responses", (json_int_t)n));
	}
	reply_json(r->req, 200, json_pack("{s:o}", "forms", list));
}

/* ---- GET /api/v1/forms/{form}/responses ------------------------------------------------------ */

static void handle_responses(request *r)
{
	const form *f = admin_form(r);
	if (!f)
		return;
	response_filter flt;
	if (routes_filter(r, &flt) != 0)
		return;
	int limit;
	int64_t after;
	bool newest_first;
	if (routes_page_parameters(r, &limit, &after) != 0 || routes_order_parameter(r, &newest_first) != 0) {
		response_filter_clear(&flt);
		return;
	}
	response_record *rows = NULL;
	size_t n = 0;
	bool more = false;
	char *err = NULL;
	int rc = store_response_page(r->srv->reader, f->id, &flt, after, newest_first, limit, &rows, &n, &more, &err);
	response_filter_clear(&flt);
	if (rc != 0) {
		reply_error(r->req, 503, "unavailable", err, NULL);
		free(err);
		return;
	}
	int64_t last = n > 0 ? rows[n - 1].seq : 0;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(list, response_record_to_json(&rows[i]));
		response_record_clear(&rows[i]);
	}
	free(rows);
	reply_json(r->req, 200, routes_page_body("responses", list, more && n > 0, last));
}

/* ---- GET /api/v1/forms/{form}/export --------------------------------------------------------- */

/* One streamed export: its own read snapshot, fed to the client a chunk at a time as the previous
 * chunk is written, so memory stays flat whatever the number of answers. */
typedef struct export_stream {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	form_registry *reg;          /* a reference keeping the form alive */
	store *db;                   /* owned read-only connection */
	store_cursor *cursor;        /* owned */
	export_writer *writer;       /* owned */
	struct evbuffer *pending;    /* owned: bytes produced and not yet handed to libevent */
	bool finished;
} export_stream;

static int export_sink_to_buffer(void *ctx, const char *data, size_t len)
{
	export_stream *s = ctx;
	return evbuffer_add(s->pending, data, len);
}

static void export_stream_free(export_stream *s)
{
	if (s->writer)
		export_writer_free(s->writer);
	if (s->cursor)
		store_cursor_close(s->cursor);
	if (s->db)
		store_close(s->db);
	if (s->pending)
		evbuffer_free(s->pending);
	form_registry_unref(s->reg);
	free(s);
}

/* Drops the connection (and the request with it) outside libevent's own callbacks. */
static void export_abort(evutil_socket_t fd, short what, void *arg)
{
	evhttp_connection_free(arg);
}

static void export_end(export_stream *s)
{
	evhttp_connection_set_closecb(s->evcon, NULL, NULL);
	evhttp_send_reply_end(s->req);
	export_stream_free(s);
}

/* Produces the next piece and hands it to libevent; called again once it has been written. */
static void export_step(struct evhttp_connection *evcon, void *arg)
{
	export_stream *s = arg;
	char *err = NULL;
	if (s->finished) {
		export_end(s);
		return;
	}
	/* At least EXPORT_ROWS_PER_CHUNK rows, and more until there is something to send: XLSX compresses,
	 * so thousands of rows may pass before its first bytes, and an empty chunk is never written, so it
	 * would never call back (the connection would idle out). */
	for (int i = 0; (i < EXPORT_ROWS_PER_CHUNK || evbuffer_get_length(s->pending) == 0) &&
	                evbuffer_get_length(s->pending) < EXPORT_CHUNK_BYTES;
	     i++) {
		response_raw rec;
		int rc = store_cursor_next_raw(s->cursor, &rec, &err);
		if (rc == 1) {
			rc = export_writer_row_raw(s->writer, &rec, &err);
			if (rc == 0)
				continue;
		}
		if (rc == 0 && export_writer_finish(s->writer, &err) == 0) {
			s->finished = true;
			break;
		}
		/* Headers are gone already: the only honest signal left is to cut the stream short,
		 * without the final chunk, so the client sees an incomplete download. */
		log_line("export stopped: %s", err ? err : "unknown error");
		free(err);
		evhttp_connection_set_closecb(s->evcon, NULL, NULL);
		event_base_once(evhttp_connection_get_base(s->evcon), -1, EV_TIMEOUT, export_abort, s->evcon, NULL);
		export_stream_free(s);
		return;
	}
	if (evbuffer_get_length(s->pending) == 0 && s->finished) {
		export_end(s);
		return;
	}
	struct evbuffer *chunk = evbuffer_new();
	evbuffer_add_buffer(chunk, s->pending);
	evhttp_send_reply_chunk_with_cb(s->req, chunk, export_step, s);
	evbuffer_free(chunk);
}

/* The client went away mid-export: libevent keeps the request for us to end. */
static void export_close_cb(struct evhttp_connection *evcon, void *arg)
{
	export_stream *s = arg;
	evhttp_send_reply_end(s->req);
	export_stream_free(s);
}

static void handle_export(request *r)
{
	const form *f = admin_form(r);
	if (!f)
		return;
	const char *fmt_name = request_query(r, "format");
	export_format fmt = EXPORT_CSV;
	if (fmt_name && export_format_parse(fmt_name, &fmt) != 0) {
		reply_error(r->req, 400, "invalid_parameter", "\"format\" must be one of: csv, ndjson, xlsx.",
		            json_pack("{s:s}", "parameter", "format"));
		return;
	}
	response_filter flt;
	if (routes_filter(r, &flt) != 0)
		return;
	const char *bom = request_query(r, "bom");
	export_stream *s = xcalloc(1, sizeof *s);
	s->req = r->req;
	s->evcon = evhttp_request_get_connection(r->req);
	s->reg = form_registry_ref(r->srv->forms);
	s->pending = evbuffer_new();
	char *err = NULL;
	if (store_open(r->srv->cfg->database, r->srv->cfg->durability, true, &s->db, &err) != 0 ||
	    store_cursor_open_filtered(s->db, f->id, &flt, &s->cursor, &err) != 0 ||
	    !(s->writer = export_writer_new(fmt, f, bom && strcmp(bom, "1") == 0, export_sink_to_buffer, s, &err))) {
		reply_error(r->req, 503, "unavailable", err ? err : "The export could not start.", NULL);
		free(err);
		response_filter_clear(&flt);
		export_stream_free(s);
		return;
	}
	response_filter_clear(&flt);
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	char stamp[32], disposition[160];
	iso8601_format_ms(now_ms(), stamp);
	stamp[10] = '\0';
	snprintf(disposition, sizeof disposition, "attachment; filename=\"%s-%s.%s\"", f->id, stamp,
	         export_format_ext(fmt));
	reply_common_headers(r->req);
	evhttp_add_header(out, "Content-Type", export_format_mime(fmt));
	evhttp_add_header(out, "Content-Disposition", disposition);
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_send_reply_start(r->req, 200, "OK");
	evhttp_connection_set_closecb(s->evcon, export_close_cb, s);
	export_step(s->evcon, s);
}

const route admin_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/forms", .handle = handle_forms, .flags = ROUTE_ADMIN },
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/forms/{form}/responses", .handle = handle_responses,
	  .flags = ROUTE_ADMIN },
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/forms/{form}/export", .handle = handle_export,
	  .flags = ROUTE_ADMIN },
	{ 0 },
};
