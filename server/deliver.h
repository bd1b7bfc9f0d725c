/* deliver: sending one outbox row to an email (SMTP) or chat (incoming webhook) destination with the
 * worker's libcurl handle. The outbox worker (outbox.c) picks the sender by destination type and
 * records the outcome; these files only shape and send. */
#ifndef EARSHOT_DELIVER_H
#define EARSHOT_DELIVER_H

#include <curl/curl.h>
#include <jansson.h>

#include "config.h"
#include "outbox.h"

/* What the worker lends a sender for one attempt. */
typedef struct deliver_ctx {
	CURL *curl;                          /* reset by the sender before use */
	curl_xferinfo_callback progress;     /* returns non-zero to abandon the transfer (shutdown) */
	void *progress_arg;
} deliver_ctx;

/* Outcome of one attempt. */
enum { DELIVER_OK = 0, DELIVER_FAILED = -1, DELIVER_ABORTED = 1 };

/* A JSON POST's own state while libcurl runs it (deliver_http.c). */
typedef struct deliver_post {
	char errbuf[CURL_ERROR_SIZE]; /* libcurl's reason for a failure */
	size_t seen;                  /* bytes of the receiver's answer read (and dropped) */
} deliver_post;

/* Resets c and sets it up to POST body (borrowed until the transfer ends) with headers to url: http and
 * https only, the timeout (5 s when not positive), libcurl's errors into p, the answer dropped after
 * reading at most 64 KiB, progress (abandoning the transfer at shutdown) through progress(arg). */
void deliver_http_post_setup(CURL *c, deliver_post *p, const char *url, const char *body,
                             struct curl_slist *headers, int timeout_seconds, curl_xferinfo_callback progress,
                             void *progress_arg);
/* The outcome of a POST that ended with rc: DELIVER_OK on a 2xx; DELIVER_ABORTED when progress stopped
 * it; else DELIVER_FAILED with *error ("HTTP 503" or libcurl's reason; caller frees). */
int deliver_http_post_outcome(CURL *c, const deliver_post *p, CURLcode rc, char **error);

/* The notice of a delivery document (its "notice", or one made from it): a new object. NULL with
 * *error when the body is not a JSON object. */
json_t *deliver_notice(const delivery_record *d, char **error);

/* Sends d as an email over SMTP (deliver_smtp.c). DELIVER_OK once the server accepted the message
 * for every recipient; DELIVER_FAILED with *error (caller frees); DELIVER_ABORTED when progress
 * stopped it. */
int deliver_smtp(const deliver_ctx *ctx, const destination *dst, const delivery_record *d, char **error);

/* The chat tool's JSON payload for a notice (deliver_chat.c): slack {"text"} with <url|text>
 * links; teams a message with one Adaptive Card; discord {"content","embeds"} without mentions.
 * Malloc'd JSON text. */
char *chat_payload(chat_format format, const json_t *notice);
/* POSTs the payload of d to a chat destination's URL: DELIVER_OK on a 2xx, else as deliver_smtp. */
int deliver_chat(const deliver_ctx *ctx, const destination *dst, const delivery_record *d, char **error);

#endif
