/* reply: every response goes through here so that headers and the error shape stay uniform. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "metrics.h"
#include "reply.h"

const char *reply_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 201: return "Created";
	case 204: return "No Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

void reply_common_headers(struct evhttp_request *req)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "X-Content-Type-Options", "nosniff");
}

void reply_page_headers(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	if (!evhttp_find_header(h, "Referrer-Policy"))
		evhttp_add_header(h, "Referrer-Policy", "strict-origin-when-cross-origin");
}

void reply_text(struct evhttp_request *req, int status, const char *content_type, const char *text,
                size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	reply_common_headers(req);
	if (strncmp(content_type, "text/html", 9) == 0)
		reply_page_headers(req);
	evhttp_remove_header(h, "Content-Type");
	evhttp_add_header(h, "Content-Type", content_type);
	struct evbuffer *buf = evbuffer_new();
	evbuffer_add(buf, text, len);
	evhttp_send_reply(req, status, reply_reason(status), buf);
	evbuffer_free(buf);
}

void reply_json_text(struct evhttp_request *req, int status, const char *text, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	if (!evhttp_find_header(h, "Cache-Control"))
		evhttp_add_header(h, "Cache-Control", "no-store");
	struct evbuffer *buf = evbuffer_new();
	evbuffer_expand(buf, len + 1);
	evbuffer_add(buf, text, len);
	/* A trailing newline keeps curl output readable and costs nothing. */
	evbuffer_add(buf, "\n", 1);
	reply_common_headers(req);
	evhttp_remove_header(h, "Content-Type");
	evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
	evhttp_send_reply(req, status, reply_reason(status), buf);
	evbuffer_free(buf);
}

void reply_json(struct evhttp_request *req, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	reply_json_text(req, status, text, strlen(text));
	free(text);
}

void reply_error(struct evhttp_request *req, int status, const char *code, const char *message,
                 json_t *extra)
{
	json_t *body = json_pack("{s:s, s:s}", "error", code, "message", message);
	metrics_note_refusal(status, code);
	if (extra) {
		json_object_update(body, extra);
		json_decref(extra);
	}
	reply_json(req, status, body);
}
