/* deliver_http: what a JSON POST over libcurl shares, for webhooks (outbox.c) and chat messages
 * (deliver_chat.c): the handle's set-up and the reading of its outcome. */
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "deliver.h"
#include "util.h"

/* The most of a receiver's answer read; the rest is not waited for (its status is already known). */
#define MAX_ANSWER_BYTES (64 * 1024)

/* libcurl: reads the receiver's answer and drops it (at most MAX_ANSWER_BYTES). */
static size_t discard_answer(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	size_t *seen = arg;
	*seen += size * nmemb;
	return *seen > MAX_ANSWER_BYTES ? 0 : size * nmemb;
}

void deliver_http_post_setup(CURL *c, deliver_post *p, const char *url, const char *body,
                             struct curl_slist *headers, int timeout_seconds, curl_xferinfo_callback progress,
                             void *progress_arg)
{
	p->errbuf[0] = '\0';
	p->seen = 0;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(timeout_seconds > 0 ? timeout_seconds : 5));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &p->seen);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, progress_arg);
}

int deliver_http_post_outcome(CURL *c, const deliver_post *p, CURLcode rc, char **error)
{
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return DELIVER_ABORTED;
	/* An answer larger than we read still carries its status. */
	if (rc == CURLE_WRITE_ERROR && code >= 200 && code < 300)
		rc = CURLE_OK;
	if (rc != CURLE_OK) {
		*error = xstrdup(p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc));
		return DELIVER_FAILED;
	}
	if (code < 200 || code > 299) {
		*error = xasprintf("HTTP %ld", code);
		return DELIVER_FAILED;
	}
	return DELIVER_OK;
}
