/* deliver_smtp: one alert email over SMTP with libcurl (smtp:// upgrading with STARTTLS when the
 * server offers it, smtps://, optional AUTH with a password file). See deliver.h. */
#include <stdlib.h>
#include <string.h>

#include "deliver.h"
#include "mail_message.h"
#include "notice.h"
#include "util.h"

/* The document's notice, or one made from the document. */
json_t *deliver_notice(const delivery_record *d, char **error)
{
	json_t *doc = json_loads(d->body, 0, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		*error = xstrdup("the delivery's document is not a JSON object");
		return NULL;
	}
	json_t *notice = json_object_get(doc, "notice");
	json_t *out = json_is_object(notice) ? json_incref(notice) : notice_from_document(doc);
	json_decref(doc);
	return out;
}

/* The message being uploaded and how much of it libcurl has read. */
typedef struct upload {
	const char *data;
	size_t len, off;
} upload;

/* libcurl read callback: the next piece of the message. */
static size_t read_message(char *buf, size_t size, size_t nitems, void *arg)
{
	upload *u = arg;
	size_t room = size * nitems, left = u->len - u->off;
	size_t n = left < room ? left : room;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

/* The first line of the password file (malloc'd), or NULL with *error. */
static char *read_password(const char *path, char **error)
{
	size_t len = 0;
	char *text = read_whole_file(path, &len);
	if (!text) {
		*error = xasprintf("cannot read password_file %s", path);
		return NULL;
	}
	text[strcspn(text, "\r\n")] = '\0';
	return text;
}

/* The bare address of an "Name <addr>" text as "<addr>" (malloc'd), or NULL. */
static char *angle_address(const char *text)
{
	char *display = NULL, *addr = NULL;
	const char *why = NULL;
	if (mail_address_parse(text, &display, &addr, &why) != 0)
		return NULL;
	char *out = xasprintf("<%s>", addr);
	free(display);
	free(addr);
	return out;
}

/* Builds the message and runs the SMTP dialogue. */
int deliver_smtp(const deliver_ctx *ctx, const destination *dst, const delivery_record *d, char **error)
{
	json_t *notice = deliver_notice(d, error);
	if (!notice)
		return DELIVER_FAILED;
	/* A signup confirmation goes to the visitor's address instead of the destination's `to`. */
	const char *recipient = json_string_value(json_object_get(notice, "recipient"));
	char *visitor[1] = { recipient ? xstrdup(recipient) : NULL };
	char *const *to = recipient ? visitor : dst->to;
	size_t n_to = recipient ? 1 : dst->n_to;
	char *message = mail_message_build(dst->from, to, n_to, d->id, notice, now_ms(), error);
	json_decref(notice);
	if (!message) {
		free(visitor[0]);
		return DELIVER_FAILED;
	}
	char *password = NULL;
	if (dst->password_file && !(password = read_password(dst->password_file, error))) {
		free(visitor[0]);
		free(message);
		return DELIVER_FAILED;
	}
	char *mail_from = angle_address(dst->from);
	struct curl_slist *rcpt = NULL;
	for (size_t i = 0; i < n_to; i++) {
		char *a = angle_address(to[i]);
		if (a)
			rcpt = curl_slist_append(rcpt, a);
		free(a);
	}
	upload u = { .data = message, .len = strlen(message) };
	CURL *c = ctx->curl;
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, dst->smtp_url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	if (dst->username)
		curl_easy_setopt(c, CURLOPT_USERNAME, dst->username);
	if (password)
		curl_easy_setopt(c, CURLOPT_PASSWORD, password);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u.len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(dst->timeout_seconds > 0 ? dst->timeout_seconds : 30));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, ctx->progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, ctx->progress_arg);
	CURLcode rc = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	/* Nothing of ours may outlive this call inside the reused handle. */
	curl_easy_reset(c);
	curl_slist_free_all(rcpt);
	free(mail_from);
	free(visitor[0]);
	if (password) {
		memset(password, 0, strlen(password));
		free(password);
	}
	free(message);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return DELIVER_ABORTED;
	if (rc != CURLE_OK) {
		*error = code ? xasprintf("SMTP %ld: %s", code, errbuf[0] ? errbuf : curl_easy_strerror(rc))
		              : xstrdup(errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return DELIVER_FAILED;
	}
	return DELIVER_OK;
}
