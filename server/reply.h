/* reply: sending responses — JSON bodies, the error shape {"error","message",...}, security headers. */
#ifndef EARSHOT_REPLY_H
#define EARSHOT_REPLY_H

#include <stddef.h>

#include <event2/http.h>
#include <jansson.h>

/* The header every response carries: X-Content-Type-Options. */
void reply_common_headers(struct evhttp_request *req);
/* What an HTML page carries besides: a Referrer-Policy, unless the page set its own. (It means
 * nothing on JSON, scripts or files, which therefore go without.) */
void reply_page_headers(struct evhttp_request *req);
/* Sends body (reference stolen) as JSON with status. API responses are not cached. */
void reply_json(struct evhttp_request *req, int status, json_t *body);
/* Sends len bytes of text, a JSON document serialized already, as reply_json does (same headers,
 * trailing newline). text is borrowed. */
void reply_json_text(struct evhttp_request *req, int status, const char *text, size_t len);
/* Sends {"error": code, "message": message} plus the keys of extra (stolen, may be NULL). */
void reply_error(struct evhttp_request *req, int status, const char *code, const char *message,
                 json_t *extra);
/* Sends a text body with a content type. */
void reply_text(struct evhttp_request *req, int status, const char *content_type, const char *text,
                size_t len);
/* Reason phrase for a status code. */
const char *reply_reason(int status);

#endif
