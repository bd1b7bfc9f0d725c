/* routes_public: what visitors and the widget call — health, surveys for a page, JSON submit, the
 * widget's static files and the embed snippet. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "availability.h"
#include "build-config.h"
#include "config.h"
#include "i18n.h"
#include "plugin_glue.h"
#include "plugin_host.h"
#include "reply.h"
#include "routes.h"
#include "spam.h"
#include "surveys_cache.h"
#include "util.h"
#include "validate.h"

#define IDEMPOTENCY_KEY_MAX 200

const form *routes_find_form(request *r)
{
	const char *id = request_param(r, "form");
	return id ? form_registry_find(r->srv->forms, id) : NULL;
}

int routes_time_range(request *r, int64_t *since, int64_t *until)
{
	static const char *names[2] = { "since", "until" };
	int64_t *out[2] = { since, until };
	*since = STORE_TIME_MIN;
	*until = STORE_TIME_MAX;
	for (int i = 0; i < 2; i++) {
		const char *value = request_query(r, names[i]);
		if (!value)
			continue;
		if (iso8601_parse_ms(value, out[i]) != 0) {
			char *msg = xasprintf("\"%s\" must be an ISO-8601 date or time such as 2026-11-24 or "
			                      "2026-11-24T10:00:00Z.", names[i]);
			reply_error(r->req, 400, "invalid_parameter", msg, json_pack("{s:s}", "parameter", names[i]));
			free(msg);
			return -1;
		}
	}
	return 0;
}

#define LIST_LIMIT_DEFAULT 100
#define LIST_LIMIT_MAX 1000

/* Parses a non-negative decimal query parameter: the value, -1 when absent, -2 when malformed. */
static long long query_count(request *r, const char *name)
{
	const char *v = request_query(r, name);
	if (!v)
		return -1;
	char *end;
	long long n = strtoll(v, &end, 10);
	return (*v && *end == '\0' && n >= 0) ? n : -2;
}

/* Answers 400 invalid_parameter naming parameter. */
static void bad_parameter(request *r, const char *parameter, const char *message)
{
	reply_error(r->req, 400, "invalid_parameter", message, json_pack("{s:s}", "parameter", parameter));
}

int routes_page_parameters(request *r, int *limit, int64_t *after)
{
	long long n = query_count(r, "limit");
	if (n == -1)
		n = LIST_LIMIT_DEFAULT;
	if (n < 1 || n > LIST_LIMIT_MAX) {
		bad_parameter(r, "limit", "\"limit\" must be a whole number from 1 to 1000.");
		return -1;
	}
	long long a = query_count(r, "after");
	if (a == -2) {
		bad_parameter(r, "after", "\"after\" must be a cursor from a previous page.");
		return -1;
	}
	*limit = (int)n;
	*after = a < 0 ? 0 : a;
	return 0;
}

int routes_order_parameter(request *r, bool *newest_first)
{
	const char *v = request_query(r, "order");
	*newest_first = v && strcmp(v, "newest") == 0;
	if (v && !*newest_first && strcmp(v, "oldest") != 0) {
		bad_parameter(r, "order", "\"order\" must be oldest or newest.");
		return -1;
	}
	return 0;
}

json_t *routes_page_body(const char *key, json_t *list, bool more, int64_t last_seq)
{
	json_t *next = json_null();
	if (more) {
		char cursor[24];
		snprintf(cursor, sizeof cursor, "%lld", (long long)last_seq);
		next = json_string(cursor);
	}
	return json_pack("{s:o, s:o}", key, list, "next", next);
}

char *routes_private_client(const server *srv, const char *address)
{
	if (!address[0] || srv->cfg->privacy.client_ip == CLIENT_IP_NONE)
		return NULL;
	if (srv->cfg->privacy.client_ip == CLIENT_IP_HASHED) {
		char *keyed = xasprintf("%s:%s", srv->ip_salt, address);
		char hex[65];
		sha256_hex(keyed, strlen(keyed), hex);
		free(keyed);
		return xasprintf("h:%.16s", hex);
	}
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];
	if (inet_pton(AF_INET, address, addr) == 1) {
		addr[3] = 0;
		inet_ntop(AF_INET, addr, text, sizeof text);
	} else if (inet_pton(AF_INET6, address, addr) == 1) {
		memset(addr + 6, 0, 10); /* keep the /48 */
		inet_ntop(AF_INET6, addr, text, sizeof text);
	} else {
		return NULL;
	}
	return xstrdup(text);
}

bool routes_form_needs_token(server *srv, const form *f)
{
	if (f->kind == FORM_SIGNUP)
		return true;
	plugin_host *h = srv->plugins ? plugin_slot_acquire(srv->plugins) : NULL;
	bool offers = plugin_host_offers_for_form(h, f->id);
	plugin_host_free(h);
	return offers;
}

/* ---- GET /healthz ---------------------------------------------------------------------------- */

/* What plugins report as needing attention (an empty coupon pool, say): each keeps a one-line text
 * under the key "health" of its key-value store, empty when all is well. Returns a new array of
 * "plugin NAME: text" strings (caller owns), or NULL when there is none. */
static json_t *plugin_warnings(server *srv)
{
	plugin_host *h = srv->plugins ? plugin_slot_acquire(srv->plugins) : NULL;
	json_t *out = NULL;
	for (size_t i = 0; h && i < plugin_host_count(h); i++) {
		const char *name = plugin_host_name(h, i);
		char *value = NULL, *err = NULL;
		size_t len = 0;
		if (store_kv_get(srv->reader, name, "health", &value, &len, &err) == 1 && len > 0) {
			char *line = xasprintf("plugin %s: %.*s", name, (int)len, value);
			json_t *s = json_string(line);
			if (s) {
				if (!out)
					out = json_array();
				json_array_append_new(out, s);
			}
			free(line);
		}
		free(value);
		free(err);
	}
	plugin_host_free(h);
	return out;
}

static void handle_healthz(request *r)
{
	char *err = plugin_glue_stall(r->srv);
	bool ok = !err && writer_healthy(r->srv->writer) && store_ping(r->srv->reader, &err) == 0;
	json_t *body = json_pack("{s:s, s:s}", "status", ok ? "ok" : "degraded", "version", PACKAGE_VERSION);
	if (!ok)
		json_object_set_new(body, "reason", json_string(err ? err : "the database cannot take writes"));
	free(err);
	json_t *warnings = ok ? plugin_warnings(r->srv) : NULL;
	if (ok)
		plugin_glue_disabled_warnings(r->srv, &warnings);
	if (warnings)
		json_object_set_new(body, "warnings", warnings);
	reply_json(r->req, ok ? 200 : 503, body);
}

/* ---- GET /api/v1/surveys --------------------------------------------------------------------- */

/* The URL path of a page given as a full URL or a path; "/" when it has none. Caller frees. */
static char *page_path(const char *page)
{
	if (!page || !*page)
		return NULL;
	if (page[0] == '/') {
		size_t n = strcspn(page, "?#");
		return xstrndup(page, n);
	}
	struct evhttp_uri *uri = evhttp_uri_parse_with_flags(page, EVHTTP_URI_NONCONFORMANT);
	if (!uri)
		return NULL;
	const char *path = evhttp_uri_get_path(uri);
	char *out = xstrdup(path && *path ? path : "/");
	evhttp_uri_free(uri);
	return out;
}

/* True when every '%' in the raw (still encoded) values of query parameter name starts a valid
 * escape, '%' and two hex digits. raw_query: the query string without '?' (may be NULL). */
static bool raw_parameter_escapes_valid(const char *raw_query, const char *name)
{
	size_t nlen = strlen(name);
	for (const char *p = raw_query; p && *p;) {
		size_t n = strcspn(p, "&");
		if (strncmp(p, name, nlen) == 0 && (p[nlen] == '=' || nlen == n)) {
			for (const char *c = p; c < p + n; c++)
				if (*c == '%' && (c + 2 >= p + n || !isxdigit((unsigned char)c[1]) ||
				                  !isxdigit((unsigned char)c[2])))
					return false;
		}
		p += n;
		if (*p)
			p++;
	}
	return true;
}

/* True when If-None-Match (may be NULL) names etag: "*", or etag in its list, weak or not. */
static bool etag_matches(const char *inm, const char *etag)
{
	if (!inm)
		return false;
	size_t elen = strlen(etag);
	for (const char *p = inm; *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 1 && p[0] == '*')
			return true;
		const char *tag = p;
		if (n >= 2 && strncmp(tag, "W/", 2) == 0) {
			tag += 2;
			n -= 2;
		}
		if (n == elen && strncmp(tag, etag, n) == 0)
			return true;
		p = tag + n;
		p += strcspn(p, ",");
	}
	return false;
}

/* surveys_cache's first question: is f served now, inside its schedule and under its quota?
 * (ctx: server) */
static bool survey_served(const void *ctx, const form *f)
{
	server *srv = (server *)ctx;
	char *count_err = NULL;
	int avail = availability_of(f, srv->reader, now_ms(), &count_err);
	if (avail < 0)
		log_line("form %s: cannot count its answers: %s", f->id, count_err);
	free(count_err);
	return avail == AVAIL_OPEN;
}

/* surveys_cache's second question: does the widget fetch a timing token before it shows f? */
static bool survey_needs_token(const void *ctx, const form *f)
{
	return routes_form_needs_token((server *)ctx, f);
}

static void handle_surveys(request *r)
{
	/* The answer depends on Origin (CORS headers or none) and is publicly cacheable: say so in
	 * every answer, whether or not this origin was allowed. */
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	if (!evhttp_find_header(out, "Vary"))
		evhttp_add_header(out, "Vary", "Origin");
	const char *page = request_query(r, "page");
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *raw_query = uri ? evhttp_uri_get_query(uri) : NULL;
	if (page && !raw_parameter_escapes_valid(raw_query, "page")) {
		reply_error(r->req, 400, "invalid_parameter",
		            "\"page\" is not validly percent-encoded: every % must start an escape such as %2F.",
		            json_pack("{s:s}", "parameter", "page"));
		return;
	}
	char *path = NULL;
	if (page) {
		path = page_path(page);
		if (!path) {
			reply_error(r->req, 400, "invalid_parameter", "\"page\" must be a URL or a path.",
			            json_pack("{s:s}", "parameter", "page"));
			return;
		}
	}
	const surveys_policy policy = { survey_served, survey_needs_token, r->srv };
	const surveys_body *b = surveys_cache_body(r->srv->forms, path, &policy);
	free(path);
	evhttp_add_header(out, "ETag", b->etag);
	evhttp_add_header(out, "Cache-Control", "public, max-age=60");
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(r->req), "If-None-Match");
	if (etag_matches(inm, b->etag)) {
		reply_common_headers(r->req);
		evhttp_send_reply(r->req, 304, "Not Modified", NULL);
		return;
	}
	reply_json_text(r->req, 200, b->text, b->len);
}

/* ---- POST /api/v1/forms/{form}/responses ----------------------------------------------------- */

/* True when lang is f's own language or one of its translations. */
static bool form_speaks(const form *f, const char *lang)
{
	return lang && (strcmp(lang, f->locale) == 0 || (f->locales && json_object_get(f->locales, lang)));
}

/* Sets meta.locale to the language the visitor was shown (the form's own unless the sender named one
 * of its translations) and drops a meta.variant the form does not have. */
static void normalise_meta(const form *f, json_t *meta)
{
	const char *lang = json_string_value(json_object_get(meta, "locale"));
	if (!form_speaks(f, lang))
		json_object_set_new(meta, "locale", json_string(f->locale));
	json_t *variant = json_object_get(meta, "variant");
	if (variant && !(json_is_string(variant) && form_variant(f, json_string_value(variant))))
		json_object_del(meta, "variant");
}

/* The language of the server's sentences in a reply about f: meta.locale when the server speaks it,
 * else the pick for Accept-Language (static). */
static const char *reply_language(request *r, json_t *meta)
{
	const char *lang = json_string_value(json_object_get(meta, "locale"));
	return i18n_chrome(lang, evhttp_find_header(evhttp_request_get_input_headers(r->req), "Accept-Language"));
}

/* Sends a JSON error whose message is translated into lang (details: a new reference or NULL). */
static void reply_error_in(request *r, const char *lang, int status, const char *code, const char *english,
                           json_t *details)
{
	char *msg = i18n_sentence(lang, english);
	reply_error(r->req, status, code, msg, details);
	free(msg);
}

typedef struct submit_ctx {
	server *srv;
	struct evhttp_request *req;
} submit_ctx;

static void submit_done(writer_job *job, void *arg)
{
	submit_ctx *ctx = arg;
	if (job->status != 201 && job->status != 422 && job->status != 410)
		log_line("answer to %s not stored (status %d)", job->form->id, job->status);
	if (job->dropped)
		log_line("form %s: a submit was dropped as spam (replayed timing token); nothing stored", job->form->id);
	json_t *body;
	if (job->status == 201 && job->reply) {
		reply_json_text(ctx->req, 201, job->reply, job->reply_len);
	} else if ((body = writer_job_body(job))) {
		/* A refusal's message, in the visitor's language. */
		request rq = { .srv = ctx->srv, .req = ctx->req };
		const char *lang = reply_language(&rq, job->meta);
		json_t *msg = json_object_get(body, "message");
		if (json_is_string(msg)) {
			char *t = i18n_sentence(lang, json_string_value(msg));
			json_string_set(msg, t);
			free(t);
		}
		reply_json(ctx->req, job->status, json_incref(body));
	} else {
		/* The reply text is missing only when the writer ran out of memory making it. */
		reply_error(ctx->req, 503, "unavailable", writer_unavailable_message, NULL);
	}
	ctx->srv->pending--;
	writer_job_free(job);
	free(ctx);
}

const form *routes_widget_form(request *r, const char *origin_refusal, int *avail)
{
	if (!r->origin_allowed) {
		reply_error(r->req, 403, "origin_not_allowed", origin_refusal, NULL);
		return NULL;
	}
	const form *f = routes_find_form(r);
	if (!f || !f->active) {
		reply_error(r->req, 404, "unknown_form", "There is no active form with this id.", NULL);
		return NULL;
	}
	char *count_err = NULL;
	*avail = availability_of(f, r->srv->reader, now_ms(), &count_err);
	free(count_err);
	return f;
}

bool routes_media_type_accepted(const char *content_type)
{
	if (!content_type)
		return false;
	size_t n = strcspn(content_type, "; \t");
	return (n == 16 && strncasecmp(content_type, "application/json", n) == 0) ||
	       (n == 10 && strncasecmp(content_type, "text/plain", n) == 0);
}

json_t *routes_json_object_body(request *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;
	const char *data = len ? (const char *)evbuffer_pullup(in, (ev_ssize_t)len) : "";
	json_t *body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (body && json_is_object(body))
		return body;
	char *msg = body ? xstrdup("The body must be a JSON object (at byte 0).")
	                 : xasprintf("The body is not valid JSON: %s (at byte %d).", jerr.text, jerr.position);
	reply_error(r->req, 400, "invalid_json", msg, json_pack("{s:i}", "offset", body ? 0 : jerr.position));
	free(msg);
	json_decref(body);
	return NULL;
}

static bool value_is_empty(const json_t *v)
{
	return !v || json_is_null(v) || json_is_false(v) || (json_is_string(v) && json_string_length(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

/* A partial answer (meta.partial: true, sent when a visitor closes the widget mid-way) may leave
 * required questions unanswered: drops those problems only. */
static void forgive_missing_required(const form *f, json_t *answers, json_t *problems)
{
	for (size_t i = 0; i < f->n_questions; i++) {
		const question *q = &f->questions[i];
		if (q->required && json_object_get(problems, q->id) &&
		    value_is_empty(json_is_object(answers) ? json_object_get(answers, q->id) : NULL))
			json_object_del(problems, q->id);
	}
}

/* The idempotency key from the header or the body; NULL when absent. Sets *bad when malformed. */
static const char *idempotency_key(request *r, json_t *body, bool *bad)
{
	const char *key = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Idempotency-Key");
	if (!key) {
		json_t *k = json_object_get(body, "idempotency_key");
		if (k && !json_is_string(k)) {
			*bad = true;
			return NULL;
		}
		key = k ? json_string_value(k) : NULL;
	}
	if (!key)
		return NULL;
	size_t len = strlen(key);
	*bad = len == 0 || len > IDEMPOTENCY_KEY_MAX;
	for (size_t i = 0; i < len && !*bad; i++)
		*bad = key[i] < 0x21 || key[i] > 0x7e;
	return *bad ? NULL : key;
}

/* Checks the "timing_token" of a JSON submit (issued by GET /f/{form}/token). Forms that do not
 * need one take an answer with a missing or expired token as usual. */
static spam_verdict submit_token(server *srv, const form *f, json_t *body, spam_token *tok)
{
	json_t *t = json_object_get(body, "timing_token");
	if (!t)
		return SPAM_TOKEN_MISSING;
	if (!json_is_string(t))
		return SPAM_TOKEN_FORGED;
	return spam_token_check(&srv->token_key, json_string_value(t), f->id, now_ms(),
	                        srv->cfg->limits.min_fill_seconds, tok);
}

static void handle_submit(request *r)
{
	server *srv = r->srv;
	struct evhttp_request *req = r->req;
	int avail;
	const form *f = routes_widget_form(r, "This origin may not submit answers here.", &avail);
	if (!f)
		return;
	if (avail > AVAIL_OPEN) {
		/* The writer checks again inside the answer's transaction: this only saves the work. */
		const char *lang = reply_language(r, NULL);
		reply_error_in(r, lang, 410, "form_closed",
		               avail == AVAIL_QUOTA_REACHED ? "This form has received all the answers it needs."
		               : avail == AVAIL_NOT_STARTED ? "This form is not open yet."
		                                            : "This form is no longer taking answers.",
		               json_pack("{s:s}", "reason", availability_reason((availability)avail)));
		return;
	}
	const char *ctype = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	if (!routes_media_type_accepted(ctype)) {
		reply_error(req, 415, "unsupported_media_type",
		            "Send the answer as application/json or text/plain containing JSON.", NULL);
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	if (len > srv->cfg->limits.max_body_bytes) {
		reply_error(req, 413, "too_large", "The request is larger than this server accepts.", NULL);
		return;
	}
	int retry_after = ratelimit_take(srv->submit_limit, r->client, monotonic_ms());
	if (retry_after > 0) {
		char secs[16];
		snprintf(secs, sizeof secs, "%d", retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", secs);
		reply_error(req, 429, "rate_limited", "Too many answers from this address; please wait a moment.",
		            json_pack("{s:i}", "retry_after", retry_after));
		return;
	}
	json_t *body = routes_json_object_body(r);
	if (!body)
		return;
	spam_token tok;
	spam_verdict verdict = submit_token(srv, f, body, &tok);
	/* Signup forms and forms with offers take no answer without a genuine, unused, unexpired token:
	 * a bot that leaves it out would otherwise skip every spam check and collect a coupon per
	 * address. */
	bool token_required = routes_form_needs_token(srv, f);
	if (verdict == SPAM_TOKEN_FORGED || verdict == SPAM_TOKEN_TOO_FAST ||
	    (token_required && verdict != SPAM_TOKEN_OK)) {
		/* Caught as spam: an ordinary-looking 201 for an id never stored. */
		char id[48];
		random_id("r_", id, sizeof id);
		log_line("form %s: a submit was dropped as spam (%s); nothing stored", f->id, spam_verdict_name(verdict));
		reply_json(req, 201, json_pack("{s:s, s:s, s:[]}", "id", id, "thank_you", f->thank_you ? f->thank_you : "",
		                               "offers"));
		json_decref(body);
		return;
	}
	json_t *answers = json_object_get(body, "answers");
	json_t *meta_in = json_object_get(body, "meta");
	json_t *problems = json_object();
	json_t *normalised = NULL;
	bool bad_key = false;
	const char *key = idempotency_key(r, body, &bad_key);
	if (bad_key)
		json_object_set_new(problems, "idempotency_key", json_string("must be 1 to 200 visible ASCII characters"));
	if (meta_in && !json_is_object(meta_in))
		json_object_set_new(problems, "meta", json_string("must be an object"));
	validate_answers(f, answers, &normalised, problems);
	if (meta_in && json_is_true(json_object_get(meta_in, "partial")))
		forgive_missing_required(f, answers, problems);
	if (json_object_size(problems) == 0 && json_object_size(normalised) == 0)
		json_object_set_new(problems, "answers", json_string("must answer at least one question"));
	if (json_object_size(problems) > 0) {
		const char *lang = reply_language(r, json_is_object(meta_in) ? meta_in : NULL);
		i18n_problems(lang, problems);
		reply_error_in(r, lang, 422, "invalid", "Some answers need another look.",
		               json_pack("{s:o}", "fields", problems));
		json_decref(normalised);
		json_decref(body);
		return;
	}
	json_decref(problems);

	/* the body is dropped before the job is queued: its meta is taken over, not copied */
	json_t *meta = json_is_object(meta_in) ? json_incref(meta_in) : json_object();
	json_t *started = json_object_get(body, "started_at");
	int64_t started_ms;
	if (json_is_string(started) && iso8601_parse_ms(json_string_value(started), &started_ms) == 0)
		json_object_set(meta, "started_at", started);
	normalise_meta(f, meta);

	writer_job *job = writer_job_new();
	job->reg = form_registry_ref(srv->forms);
	job->form = f;
	job->answers = normalised;
	job->meta = meta;
	job->idempotency_key = key ? xasprintf("%s:%s", f->id, key) : NULL;
	job->client = routes_private_client(srv, r->client);
	job->created_ms = now_ms();
	if (verdict == SPAM_TOKEN_OK) {
		job->token_nonce = xstrdup(tok.nonce);
		job->token_expires_ms = tok.issued_ms + SPAM_TOKEN_LIFETIME_MS;
	}
	submit_ctx *ctx = xcalloc(1, sizeof *ctx);
	ctx->srv = srv;
	ctx->req = req;
	job->done = submit_done;
	job->done_arg = ctx;
	json_decref(body);
	srv->pending++;
	writer_submit(srv->writer, job);
}

/* ---- GET /static/{file} and /embed ----------------------------------------------------------- */

static const char *static_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".js", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".html", "text/html; charset=utf-8" }, { ".svg", "image/svg+xml" },
		{ ".png", "image/png" }, { ".json", "application/json" }, { ".txt", "text/plain; charset=utf-8" },
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (str_ends_with(name, types[i].ext))
			return types[i].type;
	return NULL;
}

static bool static_name_ok(const char *name)
{
	if (!*name || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '-' || *p == '_'))
			return false;
	return true;
}

/* Content-Security-Policy of the HTML pages earshot serves: nothing inline, nothing foreign. */
static const char page_csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

static void handle_static(request *r)
{
	const char *name = request_param(r, "file");
	const char *type = name ? static_type(name) : NULL;
	if (!type || !static_name_ok(name)) {
		reply_error(r->req, 404, "not_found", "There is no such file.", NULL);
		return;
	}
	char *path = xasprintf("%s/%s", r->srv->cfg->static_dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		reply_error(r->req, 404, "not_found", "There is no such file.", NULL);
		return;
	}
	struct evbuffer *buf = evbuffer_new();
	if (evbuffer_add_file(buf, fd, 0, sb.st_size) != 0) {
		evbuffer_free(buf);
		reply_error(r->req, 500, "internal", "The file could not be read.", NULL);
		return;
	}
	size_t len = evbuffer_get_length(buf);
	char hex[65], etag[24];
	sha256_hex(evbuffer_pullup(buf, (ev_ssize_t)len), len, hex);
	snprintf(etag, sizeof etag, "\"%.16s\"", hex);
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	reply_common_headers(r->req);
	evhttp_add_header(out, "Content-Type", type);
	evhttp_add_header(out, "ETag", etag);
	/* A versioned URL (?v=...) never changes: let browsers keep it for a year. */
	evhttp_add_header(out, "Cache-Control", request_query(r, "v") ? "public, max-age=31536000, immutable" :
	                                                               "public, max-age=300");
	evhttp_add_header(out, "Access-Control-Allow-Origin", "*");
	evhttp_add_header(out, "Cross-Origin-Resource-Policy", "cross-origin");
	if (str_ends_with(name, ".html")) {
		evhttp_add_header(out, "Content-Security-Policy", page_csp);
		reply_page_headers(r->req);
	}
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(r->req), "If-None-Match");
	if (etag_matches(inm, etag)) {
		evbuffer_free(buf);
		evhttp_send_reply(r->req, 304, "Not Modified", NULL);
		return;
	}
	evhttp_send_reply(r->req, 200, "OK", buf);
	evbuffer_free(buf);
}

static void handle_embed(request *r)
{
	char *text = xasprintf("<script src=\"%s/static/earshot.js?v=%s\" async></script>\n",
	                       r->srv->cfg->public_url, PACKAGE_VERSION);
	reply_text(r->req, 200, "text/plain; charset=utf-8", text, strlen(text));
	free(text);
}

const route public_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/healthz", .handle = handle_healthz },
	{ .methods = EVHTTP_REQ_GET, .pattern = "/api/v1/surveys", .handle = handle_surveys, .flags = ROUTE_CORS },
	{ .methods = EVHTTP_REQ_POST, .pattern = "/api/v1/forms/{form}/responses", .handle = handle_submit,
	  .flags = ROUTE_CORS },
	{ .methods = EVHTTP_REQ_GET, .pattern = "/static/{file}", .handle = handle_static },
	{ .methods = EVHTTP_REQ_GET, .pattern = "/embed", .handle = handle_embed },
	{ 0 },
};
