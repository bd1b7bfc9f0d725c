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
